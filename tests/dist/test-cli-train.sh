#!/bin/sh
# `sluice train` as a user runs it, on a small synthetic MNIST-like dataset
# (make-train-data.py): a short run learns (the loss falls by half) and
# leaves a run directory with the graph, events and checkpoints; SIGKILL at
# random moments, then a restart restores the newest checkpoint and goes on
# from its step; bad inputs (a missing graph file, a tensor the graph lacks,
# an IDX file with a wrong magic number, a corrupt TFRecord, a checkpoint
# of another graph) give clear errors and overwrite no checkpoint.
#
# test-cli-train.sh SLUICE BUILD_MNIST PYTHON MAKE_DATA
set -u
sluice=$1
build_mnist=$2
python=$3
make_data=$4
[ -x "$python" ] || { echo "no $python: skipped"; exit 77; }

tmp=$(mktemp -d /tmp/sl-cli-train.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }

"$python" "$make_data" "$tmp/data" || exit 1
"$build_mnist" mlp "$tmp/mlp.pbtxt" >/dev/null || exit 1
"$build_mnist" cnn "$tmp/cnn.pbtxt" >/dev/null || exit 1

# spec NAME GRAPH RUN_DIR STEPS [TRAIN_SOURCE]
spec() {
    src=${5:-"mnist { dir: \"data\" split: \"train\" }"}
    cat > "$tmp/$1" <<EOS
graph: "$2"
train_data { $src }
eval_data { mnist { dir: "data" split: "test" } }
input { placeholder: "images" feature: "image" }
input { placeholder: "labels" feature: "label" }
training_flag: "training"
loss: "loss"
metric { name: "accuracy" tensor: "accuracy" }
optimizer { kind: "adam" learning_rate: 0.001 }
steps: $4
batch_size: 32
summary_every_steps: 10
histogram_every_steps: 50
checkpoint_every_steps: 10
keep_checkpoints: 3
run_dir: "$3"
seed: 3
threads: 2
EOS
}

# 1. a short run learns and fills the run directory
spec learn.spec mlp.pbtxt run1 150
out=$("$sluice" train "$tmp/learn.spec" 2>&1) || fail "short run exited $?: $out"
first=$(echo "$out" | awk '/^step / {print $4; exit}')
last=$(echo "$out" | awk '/^step / {v = $4} END {print v}')
echo "# loss $first -> $last"
awk -v a="$first" -v b="$last" 'BEGIN {exit !(b <= a / 2)}' || fail "loss did not halve: $first -> $last"
acc=$(echo "$out" | sed -n 's/.*eval on 500 examples.*accuracy \([0-9.]*\).*/\1/p')
echo "# eval accuracy $acc"
awk -v a="$acc" 'BEGIN {exit !(a >= 0.8)}' || fail "eval accuracy '$acc' below 0.8: $out"
for f in run1/checkpoint run1/graph.pbtxt run1/spec.pbtxt run1/model.ckpt-150.index; do
    [ -s "$tmp/$f" ] || fail "missing $f"
done
ls "$tmp"/run1/train/events.out.tfevents.* >/dev/null 2>&1 || fail "no event file in run1/train"
ls "$tmp"/run1/eval/events.out.tfevents.* >/dev/null 2>&1 || fail "no event file in run1/eval"
n=$(ls "$tmp"/run1/model.ckpt-*.index | wc -l)
[ "$n" -eq 3 ] || fail "kept $n checkpoints, expected 3"

# 2. SIGKILL at random moments; each restart resumes from the checkpoint
spec kill.spec mlp.pbtxt run2 100000
for round in 1 2 3; do
    "$sluice" train "$tmp/kill.spec" > "$tmp/kill.out" 2>&1 &
    pid=$!
    sleep "$(awk -v r="$(od -An -N2 -tu2 /dev/urandom)" 'BEGIN {printf "%.2f", 2 + (r % 200) / 100}')"
    kill -9 "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
    want=$(sed -n 's/^model_checkpoint_path: "model.ckpt-\([0-9]*\)"/\1/p' "$tmp/run2/checkpoint" 2>/dev/null)
    [ -n "$want" ] || { echo "# round $round: killed before the first checkpoint"; continue; }
    out=$("$sluice" train "$tmp/kill.spec" --steps "$((want + 20))" 2>&1) || fail "restart after kill exited $?: $out"
    echo "$out" | grep -q "^restored .*model.ckpt-$want (step $want)" || fail "round $round: did not resume from $want: $out"
    echo "$out" | grep -q "^step $((want + 20))/$((want + 20)) " || fail "round $round: did not train on from $want"
    echo "# round $round: killed, resumed from step $want"
done

# 3. bad inputs: clear errors, no checkpoint overwritten
before=$(cat "$tmp"/run1/model.ckpt-* "$tmp/run1/checkpoint" | md5sum)
expect_error() { # NAME PATTERN
    out=$("$sluice" train "$tmp/$1" 2>&1)
    rc=$?
    [ $rc -eq 1 ] || fail "$1: exit $rc, expected 1: $out"
    echo "$out" | grep -q -- "$2" || fail "$1: error does not say '$2': $out"
    echo "# $1: $(echo "$out" | tail -1)"
}
spec missing-graph.spec nowhere.pbtxt run1 200
expect_error missing-graph.spec "nowhere.pbtxt"
spec missing-tensor.spec mlp.pbtxt run1 200
sed -i 's/^loss: "loss"/loss: "no_such_loss"/' "$tmp/missing-tensor.spec"
expect_error missing-tensor.spec "loss 'no_such_loss' is not a tensor of graph"
spec bad-magic.spec mlp.pbtxt run1 200 'mnist { dir: "data" split: "bad" }'
expect_error bad-magic.spec "bad-images-idx3-ubyte': not an IDX file: magic number 0x01000903"
spec corrupt.spec mlp.pbtxt run1 200 'tfrecord { files: "data/corrupt.tfrecord" }'
expect_error corrupt.spec "corrupt.tfrecord"
spec mismatch.spec cnn.pbtxt run1 200
expect_error mismatch.spec "model.ckpt-150.index"
after=$(cat "$tmp"/run1/model.ckpt-* "$tmp/run1/checkpoint" | md5sum)
[ "$before" = "$after" ] || fail "a checkpoint of run1 changed after the failed runs"

# 4. TFRecord of Examples trains too
spec tfrecord.spec mlp.pbtxt run3 40 'tfrecord { files: "data/train.tfrecord" }'
out=$("$sluice" train "$tmp/tfrecord.spec" 2>&1) || fail "tfrecord run exited $?: $out"

[ $fails -eq 0 ] && echo "all passed"
exit $((fails > 0))
