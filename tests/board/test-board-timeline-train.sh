#!/bin/sh
# The timeline end to end on CPU: `sluice train` of the MNIST MLP on the
# synthetic data of tests/dist/make-train-data.py with trace_every_steps,
# then every traced step of its logdir decoded by the board's model (CPU
# lanes, every op known) and, with a display, `sluice-board --view
# timeline --screenshot` drawing it once the step is shown.
#
# test-board-timeline-train.sh SLUICE BUILD_MNIST PYTHON MAKE_DATA TEST_TIMELINE BOARD
set -u
sluice=$1
build_mnist=$2
python=$3
make_data=$4
check=$5
board=$6
[ -x "$python" ] || { echo "no $python: skipped"; exit 77; }

tmp=$(mktemp -d /tmp/sl-board-timeline.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
"$python" "$make_data" "$tmp/data" >/dev/null || exit 1
"$build_mnist" mlp "$tmp/mlp.pbtxt" >/dev/null || exit 1
cat > "$tmp/traced.spec" <<EOS
graph: "mlp.pbtxt"
train_data { mnist { dir: "data" split: "train" } }
eval_data { mnist { dir: "data" split: "test" } }
input { placeholder: "images" feature: "image" }
input { placeholder: "labels" feature: "label" }
training_flag: "training"
loss: "loss"
metric { name: "accuracy" tensor: "accuracy" }
optimizer { kind: "adam" learning_rate: 0.001 }
steps: 30
batch_size: 32
summary_every_steps: 10
checkpoint_every_steps: 100
trace_every_steps: 10
run_dir: "run"
seed: 3
threads: 2
EOS
out=$("$sluice" train "$tmp/traced.spec" --quiet 2>&1) || { echo "train failed: $out"; exit 1; }

fails=0
"$check" --logdir "$tmp/run" || { echo "FAIL: the traced steps of the run"; fails=$((fails + 1)); }

if [ -n "${DISPLAY:-}${WAYLAND_DISPLAY:-}" ]; then
    shot=$(XDG_CONFIG_HOME="$tmp/config" "$board" "$tmp/run" --view timeline \
           --screenshot "$tmp/timeline.png" 2>&1)
    echo "# $shot"
    case "$shot" in
    *"(timeline view)"*) ;;
    *) echo "FAIL: no timeline screenshot: $shot"; fails=$((fails + 1)) ;;
    esac
    case "$shot" in
    *"before the data was complete"*) echo "FAIL: the timeline was not ready"; fails=$((fails + 1)) ;;
    esac
    [ -s "$tmp/timeline.png" ] || { echo "FAIL: no PNG"; fails=$((fails + 1)); }
    [ -n "${SLUICE_KEEP_TIMELINE_PNG:-}" ] && cp "$tmp/timeline.png" "$SLUICE_KEEP_TIMELINE_PNG"
else
    echo "# no display: the screenshot is not checked"
fi
[ "$fails" -eq 0 ] || exit 1
echo "ok"
