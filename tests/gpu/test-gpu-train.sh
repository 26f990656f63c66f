#!/bin/sh
# The MNIST CNN (examples/build-mnist cnn: two conv+pool, fc1024, dropout,
# Adam) trained by `sluice train --gpu` for a few hundred steps on GPU:0:
# the loss falls by at least half, the run says it is on the GPU, and its
# examples/s are printed beside a short CPU run of the same spec.  Real
# MNIST when MNIST_DIR holds it (e.g. ~/.cache/sluice/mnist), else the
# synthetic MNIST-like set of make-train-data.py.  Every 100th step is
# traced (per-op times per device, for the board's timeline); with
# SLUICE_GPU_KEEP_RUN=DIR the GPU run's directory is copied there.  Exits
# 77 without a GPU.
#
# test-gpu-train.sh SLUICE BUILD_MNIST PYTHON MAKE_DATA [MNIST_DIR]
set -u
sluice=$1
build_mnist=$2
python=$3
make_data=$4
mnist=${5:-}

gpus=$("$sluice" devices 2>&1)
case $gpus in
*"no GPU"*) echo "$gpus: skipped"; exit 77 ;;
esac

tmp=$(mktemp -d /tmp/sl-gpu-train.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
if [ -n "$mnist" ] && [ -s "$mnist/train-images-idx3-ubyte" ] && [ -s "$mnist/t10k-images-idx3-ubyte" ]; then
    data=$mnist
    echo "# real MNIST from $mnist"
else
    "$python" "$make_data" "$tmp/data" || exit 1
    data=$tmp/data
    echo "# synthetic MNIST-like data (make-train-data.py)"
fi
"$build_mnist" cnn "$tmp/cnn.pbtxt" >/dev/null || exit 1

# spec FILE STEPS RUN_DIR
spec() {
    cat > "$tmp/$1" <<EOS
graph: "cnn.pbtxt"
train_data { mnist { dir: "$data" split: "train" } }
eval_data { mnist { dir: "$data" split: "test" } }
input { placeholder: "images" feature: "image" }
input { placeholder: "labels" feature: "label" }
training_flag: "training"
loss: "loss"
metric { name: "accuracy" tensor: "accuracy" }
optimizer { kind: "adam" learning_rate: 0.001 }
steps: $2
batch_size: 50
summary_every_steps: 25
histogram_every_steps: 1000
checkpoint_every_steps: 1000
keep_checkpoints: 1
trace_every_steps: 100
run_dir: "$3"
seed: 1
EOS
}

spec gpu.spec 400 run-gpu
out=$("$sluice" train "$tmp/gpu.spec" --gpu 2>&1)
rc=$?
echo "$out" | grep -v '^step ' | sed 's/^/# /'
[ $rc -eq 0 ] || { echo "$out" | tail -20; echo "FAIL: sluice train --gpu exited $rc"; exit 1; }
echo "$out" | grep -q "GPU:0" || { echo "FAIL: the run does not say it is on GPU:0"; exit 1; }
first=$(echo "$out" | awk '/^step / {print $4; exit}')
last=$(echo "$out" | awk '/^step / {v = $4} END {print v}')
gpu_eps=$(echo "$out" | sed -n 's/^trained .*, \([0-9]*\) examples\/s.*/\1/p')
echo "# GPU: loss $first -> $last, $gpu_eps examples/s"
fails=0
awk -v a="$first" -v b="$last" 'BEGIN {exit !(b <= a / 2)}' || { echo "FAIL: loss did not halve: $first -> $last"; fails=1; }

[ -n "${SLUICE_GPU_KEEP_RUN:-}" ] && mkdir -p "$SLUICE_GPU_KEEP_RUN" && cp -r "$tmp/run-gpu" "$SLUICE_GPU_KEEP_RUN/"

spec cpu.spec 60 run-cpu
cpu_out=$("$sluice" train "$tmp/cpu.spec" 2>&1)
cpu_eps=$(echo "$cpu_out" | sed -n 's/^trained .*, \([0-9]*\) examples\/s.*/\1/p')
echo "# CPU: $cpu_eps examples/s (60 steps)"
echo "gpu cnn-train examples/s: gpu $gpu_eps cpu ${cpu_eps:-?} loss $first -> $last"
exit $fails
