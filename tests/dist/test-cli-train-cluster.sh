#!/bin/sh
# `sluice train --cluster` on real `sluice worker` processes (1 ps + 2
# workers on 127.0.0.1) with real MNIST (examples/fetch-mnist.sh's cache;
# skipped, 77, without it), the MLP of examples/build-mnist.c, Adam, batch
# 64, every accuracy on the whole 10,000-image test set:
# 1. synchronous data-parallel training reaches the test accuracy of the
#    same spec trained in one process (same steps, same effective batch)
#    within TOL points;
# 2. asynchronous data-parallel training (--async) learns: both replicas
#    apply updates, the training loss falls by half, the test accuracy is
#    far above chance (> 0.90);
# 3. a worker killed with SIGKILL mid-training fails the step within 10 s
#    with a message naming the task; once the task is restarted training
#    resumes from the last checkpoint and ends within TOL points of the
#    undisturbed synchronous run of 1.; the checkpoints and event files
#    still read.
#
# test-cli-train-cluster.sh SLUICE BUILD_MNIST [STEPS]
# MNIST is read from $SLUICE_MNIST_DIR or ${XDG_CACHE_HOME:-~/.cache}/sluice/mnist.
set -u
sluice=$1
build_mnist=$2
STEPS=${3:-1000}
TOL=0.005

mnist=${SLUICE_MNIST_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/sluice/mnist}
for f in train-images-idx3-ubyte train-labels-idx1-ubyte t10k-images-idx3-ubyte t10k-labels-idx1-ubyte; do
    [ -s "$mnist/$f" ] || { echo "no MNIST in $mnist (run examples/fetch-mnist.sh): skipped"; exit 77; }
done

tmp=$(mktemp -d /tmp/sl-train-cluster.XXXXXX)
P=$(( 30000 + ($$ * 11) % 20000 ))
SPEC="ps=127.0.0.1:$P;worker=127.0.0.1:$((P+1)),127.0.0.1:$((P+2))"
trap '"$sluice" cluster down "$SPEC" --run-dir "$tmp/cl" >/dev/null 2>&1; [ -n "${wpid:-}" ] && kill "$wpid" 2>/dev/null; rm -rf "$tmp"' EXIT
fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }

"$build_mnist" mlp "$tmp/mlp.pbtxt" >/dev/null || exit 1

# spec NAME RUN_DIR [SUMMARY_EVERY]
spec() {
    cat > "$tmp/$1" <<EOS
graph: "mlp.pbtxt"
train_data { mnist { dir: "$mnist" split: "train" } }
eval_data { mnist { dir: "$mnist" split: "test" } }
input { placeholder: "images" feature: "image" }
input { placeholder: "labels" feature: "label" }
training_flag: "training"
loss: "loss"
metric { name: "accuracy" tensor: "accuracy" }
optimizer { kind: "adam" learning_rate: 0.001 }
steps: $STEPS
batch_size: 64
summary_every_steps: ${3:-50}
checkpoint_every_steps: $((STEPS / 5))
keep_checkpoints: 3
run_dir: "$2"
seed: 3
threads: 2
EOS
}
accuracy() { sed -n 's/.*eval on 10000 examples.*accuracy \([0-9.]*\).*/\1/p' "$1"; }
# within A B: |A - B| <= TOL
within() { awk -v a="$1" -v b="$2" -v t="$TOL" 'BEGIN {d = a - b; if (d < 0) d = -d; exit !(a != "" && b != "" && d <= t + 1e-9)}'; }
points() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%+.2f", 100 * (a - b)}'; }

"$sluice" cluster up "$SPEC" --run-dir "$tmp/cl" >/dev/null || { echo "cluster up failed"; exit 1; }
tok="$tmp/cl/token"

# 1. local against synchronous 2 workers + 1 ps
spec local.spec local
t0=$(date +%s)
"$sluice" train "$tmp/local.spec" > "$tmp/local.out" 2>&1 || fail "local run exited $?: $(tail -5 "$tmp/local.out")"
t1=$(date +%s)
spec sync.spec sync
"$sluice" train "$tmp/sync.spec" --cluster "$SPEC" --token-file "$tok" > "$tmp/sync.out" 2>&1 ||
    fail "synchronous run exited $?: $(tail -5 "$tmp/sync.out")"
t2=$(date +%s)
a_local=$(accuracy "$tmp/local.out")
a_sync=$(accuracy "$tmp/sync.out")
echo "# MNIST test accuracy after $STEPS steps of 64: local $a_local ($((t1 - t0)) s)," \
     "synchronous 2 workers + 1 ps $a_sync ($(points "$a_sync" "$a_local") points, $((t2 - t1)) s)"
within "$a_local" "$a_sync" || fail "synchronous accuracy ($a_sync) is not within $TOL of local ($a_local)"
[ -s "$tmp/sync/model.ckpt-$STEPS.index" ] || fail "no final checkpoint of the synchronous run"

# 2. asynchronous 2 workers + 1 ps
spec async.spec async 10
t0=$(date +%s)
"$sluice" train "$tmp/async.spec" --cluster "$SPEC" --token-file "$tok" --async > "$tmp/async.out" 2>&1 ||
    fail "asynchronous run exited $?: $(tail -5 "$tmp/async.out")"
t1=$(date +%s)
a_async=$(accuracy "$tmp/async.out")
echo "# asynchronous 2 workers + 1 ps: accuracy $a_async ($(points "$a_async" "$a_local") points against local, $((t1 - t0)) s);" \
     "$(grep '^asynchronous: ' "$tmp/async.out")"
awk -v a="$a_async" 'BEGIN {exit !(a != "" && a > 0.90)}' || fail "asynchronous accuracy $a_async is not above 0.90"
grep -q '^step '"$STEPS/$STEPS"' ' "$tmp/async.out" || fail "the asynchronous run did not reach step $STEPS"
grep '^asynchronous: updates applied by each replica:' "$tmp/async.out" |
    awk -v n="$STEPS" '{a = $(NF - 1); b = $NF; exit !(a > 0 && b > 0 && a + b == n)}' ||
    fail "both replicas should apply updates, $STEPS in all: $(grep '^asynchronous' "$tmp/async.out")"
# the loss (the mean of the first and of the last three logged losses) falls by half
grep '^step [0-9]*/' "$tmp/async.out" | awk '{l[n++] = $4} END {
    if (n < 6) exit 1; f = (l[0] + l[1] + l[2]) / 3; e = (l[n-1] + l[n-2] + l[n-3]) / 3;
    printf "# asynchronous loss: %.3f at first, %.3f at the end\n", f, e; exit !(e < f / 2)}' ||
    fail "the asynchronous loss did not fall by half: $(grep '^step' "$tmp/async.out" | head -3)"
[ -s "$tmp/async/model.ckpt-$STEPS.index" ] || fail "no final checkpoint of the asynchronous run"

# 3. SIGKILL a worker mid-training, restart it, compare with the undisturbed run
spec fault.spec fault
"$sluice" train "$tmp/fault.spec" --cluster "$SPEC" --token-file "$tok" > "$tmp/fault.out" 2>&1 &
tpid=$!
i=0
# a checkpoint of step 2/5 or later (the saver counts from the first step: 201, 401, ...)
until sed -n 's/^model_checkpoint_path: .*model.ckpt-\([0-9]*\)"/\1/p' "$tmp/fault/checkpoint" 2>/dev/null |
      awk -v n=$((2 * STEPS / 5)) '$1 >= n {f = 1} END {exit !f}' || [ $i -ge 3000 ]; do
    sleep 0.1; i=$((i + 1))
done
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
grep -q "^step $STEPS/$STEPS " "$tmp/fault.out" || fail "the fault run did not reach step $STEPS"
a_fault=$(accuracy "$tmp/fault.out")
echo "# accuracy: undisturbed $a_sync, with a SIGKILL $a_fault ($(points "$a_fault" "$a_sync") points)"
within "$a_sync" "$a_fault" || fail "accuracy after the fault ($a_fault) is not within $TOL of $a_sync"

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
