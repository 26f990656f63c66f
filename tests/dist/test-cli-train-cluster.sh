#!/bin/sh
# `sluice train --cluster` on real `sluice worker` processes (1 ps + 2
# workers on 127.0.0.1) with synthetic MNIST-like data (make-train-data.py):
# 1. synchronous data-parallel training reaches the accuracy of the same
#    spec trained in one process;
# 2. a worker killed with SIGKILL mid-training fails the step within 10 s
#    with a message naming the task; once the task is restarted training
#    resumes from the last checkpoint and ends within 0.5 points of the
#    undisturbed run; the checkpoints and event files still read.
#
# test-cli-train-cluster.sh SLUICE BUILD_MNIST PYTHON MAKE_DATA
set -u
sluice=$1
build_mnist=$2
python=$3
make_data=$4
[ -x "$python" ] || { echo "no $python: skipped"; exit 77; }

tmp=$(mktemp -d /tmp/sl-train-cluster.XXXXXX)
P=$(( 30000 + ($$ * 11) % 20000 ))
SPEC="ps=127.0.0.1:$P;worker=127.0.0.1:$((P+1)),127.0.0.1:$((P+2))"
trap '"$sluice" cluster down "$SPEC" --run-dir "$tmp/cl" >/dev/null 2>&1; [ -n "${wpid:-}" ] && kill "$wpid" 2>/dev/null; rm -rf "$tmp"' EXIT
fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }

"$python" "$make_data" "$tmp/data" || exit 1
"$build_mnist" mlp "$tmp/mlp.pbtxt" >/dev/null || exit 1

# spec NAME RUN_DIR STEPS
spec() {
    cat > "$tmp/$1" <<EOS
graph: "mlp.pbtxt"
train_data { mnist { dir: "data" split: "train" } }
eval_data { mnist { dir: "data" split: "test" } }
input { placeholder: "images" feature: "image" }
input { placeholder: "labels" feature: "label" }
training_flag: "training"
loss: "loss"
metric { name: "accuracy" tensor: "accuracy" }
optimizer { kind: "adam" learning_rate: 0.001 }
steps: $3
batch_size: 32
summary_every_steps: 10
checkpoint_every_steps: 20
keep_checkpoints: 3
run_dir: "$2"
seed: 3
threads: 2
EOS
}
accuracy() { sed -n 's/.*eval on 500 examples.*accuracy \([0-9.]*\).*/\1/p' "$1"; }

"$sluice" cluster up "$SPEC" --run-dir "$tmp/cl" >/dev/null || { echo "cluster up failed"; exit 1; }
tok="$tmp/cl/token"

# 1. local against synchronous 2-worker + 1-ps
spec local.spec local 120
"$sluice" train "$tmp/local.spec" > "$tmp/local.out" 2>&1 || fail "local run exited $?: $(cat "$tmp/local.out")"
spec sync.spec sync 120
"$sluice" train "$tmp/sync.spec" --cluster "$SPEC" --token-file "$tok" > "$tmp/sync.out" 2>&1 ||
    fail "cluster run exited $?: $(cat "$tmp/sync.out")"
a_local=$(accuracy "$tmp/local.out")
a_sync=$(accuracy "$tmp/sync.out")
echo "# accuracy: local $a_local, 2 workers + 1 ps $a_sync"
awk -v a="$a_local" -v b="$a_sync" 'BEGIN {d = a - b; if (d < 0) d = -d; exit !(a != "" && b != "" && d <= 0.005)}' ||
    fail "accuracy on the cluster ($a_sync) differs from local ($a_local)"
[ -s "$tmp/sync/model.ckpt-120.index" ] || fail "no final checkpoint of the cluster run"

# 2. SIGKILL a worker mid-training, restart it, compare with an undisturbed run
spec calm.spec calm 200
"$sluice" train "$tmp/calm.spec" --cluster "$SPEC" --token-file "$tok" > "$tmp/calm.out" 2>&1 ||
    fail "undisturbed run exited $?: $(cat "$tmp/calm.out")"
spec fault.spec fault 200
"$sluice" train "$tmp/fault.spec" --cluster "$SPEC" --token-file "$tok" > "$tmp/fault.out" 2>&1 &
tpid=$!
i=0
until grep -q 'model.ckpt-[4-9][0-9]"' "$tmp/fault/checkpoint" 2>/dev/null || [ $i -ge 600 ]; do sleep 0.1; i=$((i + 1)); done
kill -9 "$(cat "$tmp/cl/pids/worker-1.pid")"
killed=$(date +%s.%N)
i=0
until grep -q '^step failed' "$tmp/fault.out" || [ $i -ge 150 ]; do sleep 0.1; i=$((i + 1)); done
noticed=$(date +%s.%N)
secs=$(awk -v a="$killed" -v b="$noticed" 'BEGIN {printf "%.1f", b - a}')
echo "# the step failed $secs s after SIGKILL: $(grep '^step failed' "$tmp/fault.out" | cut -c1-160)"
awk -v s="$secs" 'BEGIN {exit !(s < 10)}' || fail "the step did not fail within 10 s"
grep '^step failed' "$tmp/fault.out" | grep -q '/job:worker/replica:0/task:1' ||
    fail "the failure does not name /job:worker/replica:0/task:1: $(cat "$tmp/fault.out")"
sleep 1
"$sluice" worker --cluster "$SPEC" --job worker --task 1 --token-file "$tok" > "$tmp/worker-1.log" 2>&1 &
wpid=$!
wait "$tpid" || fail "the fault run exited $?: $(tail -5 "$tmp/fault.out")"
grep '^the cluster is back' "$tmp/fault.out" | sed 's/^/# /'
grep -q '^the cluster is back .*resumed from .*model.ckpt-[0-9]*$' "$tmp/fault.out" ||
    fail "did not resume from a checkpoint: $(cat "$tmp/fault.out")"
grep -q '^step 200/200 ' "$tmp/fault.out" || fail "the fault run did not reach step 200"
a_calm=$(accuracy "$tmp/calm.out")
a_fault=$(accuracy "$tmp/fault.out")
echo "# accuracy: undisturbed $a_calm, with a SIGKILL $a_fault"
awk -v a="$a_calm" -v b="$a_fault" 'BEGIN {d = a - b; if (d < 0) d = -d; exit !(a != "" && b != "" && d <= 0.005)}' ||
    fail "accuracy after the fault ($a_fault) is not within 0.5 points of $a_calm"

# nothing corrupted: the event files read, every kept checkpoint restores
"$sluice" inspect "$tmp/fault" > "$tmp/inspect.out" 2>&1 || fail "event files do not read: $(cat "$tmp/inspect.out")"
grep -q 'loss' "$tmp/inspect.out" || fail "no loss scalars in the events: $(cat "$tmp/inspect.out")"
for idx in "$tmp"/fault/model.ckpt-*.index; do
    n=$(basename "$idx" .index)
    sed -i "s/^model_checkpoint_path: .*/model_checkpoint_path: \"$n\"/" "$tmp/fault/checkpoint"
    out=$("$sluice" train "$tmp/fault.spec" --cluster "$SPEC" --token-file "$tok" --steps 0 2>&1) ||
        fail "checkpoint $n does not restore: $out"
    echo "$out" | grep -q "^restored .*$n " || fail "checkpoint $n: $out"
done

[ $fails -eq 0 ] && echo "all passed"
exit $((fails > 0))
