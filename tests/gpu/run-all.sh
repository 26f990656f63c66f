#!/bin/sh
# Builds Sluice with CUDA, runs the GPU suite (every CUDA kernel against the
# CPU kernel; sessions placed on the GPU against the CPU; the MNIST CNN
# trained by `sluice train --gpu`) and the GPU benchmark (MatMul against
# raw cuBLAS, Conv2D and CNN training against PyTorch on the same GPU when
# its torch has CUDA), and prints a short table last.  For a machine with
# an NVIDIA GPU; a few minutes, hard limit 8.
#
# usage: tests/gpu/run-all.sh [BUILD_DIR]
#   SLUICE_PREBUILT=1      BUILD_DIR was built elsewhere from this tree
#                          (e.g. on a machine with the Debian -dev packages
#                          the build needs); run it without building
#   SLUICE_MNIST_DIR=DIR   real MNIST for the training test (default: the
#                          fetch-mnist.sh cache; else synthetic data)
#   SLUICE_GPU_LOG_DIR=DIR keep every log there
set -u
src=$(cd "$(dirname "$0")/../.." && pwd)
build=${1:-$src/build-gpu}
log=${SLUICE_GPU_LOG_DIR:-$(mktemp -d)}
mkdir -p "$log"
start=$(date +%s)
left() { echo $((480 - ($(date +%s) - start))); }

if [ -z "${SLUICE_PREBUILT:-}" ]; then
    if [ ! -f "$build/build.ninja" ]; then
        meson setup "$build" "$src" -Dcuda=enabled -Dboard=false -Dstudio=false -Dbuildtype=release \
            >"$log/setup" 2>&1 || { tail -20 "$log/setup"; echo "run-all: meson setup failed"; exit 1; }
    fi
    timeout "$(left)" ninja -C "$build" tests/gpu/test-gpu-kernels tests/gpu/test-gpu-session tests/gpu/bench-gpu \
        dist/sluice examples/build-mnist >"$log/build" 2>&1 ||
        { tail -20 "$log/build"; echo "run-all: build failed"; exit 1; }
fi
build_s=$(($(date +%s) - start))

# a Python with torch for the peers (Debian's, or the first on PATH)
py=python3
for p in /usr/bin/python3 python3; do
    if "$p" -c 'import torch' 2>/dev/null; then py=$p; break; fi
done

"$build/dist/sluice" devices | tee "$log/devices"
gpu_name=$(sed -n 's/.*GPU:0 *\(.*\) (sm_.*/\1/p' "$log/devices" | head -1)

# run NAME COMMAND...: runs one test with what is left of the time,
# prints its verdict line, and records it for the table
results=""
fails=0
run() {
    name=$1
    shift
    t0=$(date +%s)
    timeout "$(left)" "$@" >"$log/$name" 2>&1
    rc=$?
    secs=$(($(date +%s) - t0))
    case $rc in
    0) verdict="OK" ;;
    77) verdict="SKIP" ;;
    124) verdict="TIMEOUT"; fails=$((fails + 1)) ;;
    *) verdict="FAIL (rc $rc)"; fails=$((fails + 1)) ;;
    esac
    passed=$(grep -Eo '\[  PASSED  \] [0-9]+ test' "$log/$name" | tail -1 | grep -Eo '[0-9]+')
    detail="${passed:+$passed tests, }${secs} s"
    echo "== $name: $verdict ($detail)"
    if [ "$rc" -ne 0 ] && [ "$rc" -ne 77 ]; then
        grep -E "FAILED|FAIL:|ERROR|error|Assert|mismatch" "$log/$name" | head -25
        tail -15 "$log/$name"
    fi
    results="$results$(printf '%-34s %s' "$name" "$verdict ($detail)")
"
}

run gpu-kernels "$build/tests/gpu/test-gpu-kernels"
run gpu-session "$build/tests/gpu/test-gpu-session"
grep '^# ' "$log/gpu-session" | head -20
mnist=${SLUICE_MNIST_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/sluice/mnist}
run gpu-train "$src/tests/gpu/test-gpu-train.sh" "$build/dist/sluice" "$build/examples/build-mnist" "$py" \
    "$src/tests/dist/make-train-data.py" "$mnist"
grep '^# \|^gpu cnn-train' "$log/gpu-train"

timeout "$(left)" "$build/tests/gpu/bench-gpu" >"$log/bench" 2>&1
bench_rc=$?
torch_conv=$(timeout "$(left)" "$py" "$src/tests/gpu/conv_torch_gpu.py" 2>/dev/null | awk '/torch conv2d/ {print $3}')
torch_train=$(timeout "$(left)" "$py" "$src/tests/gpu/cnn_torch_gpu.py" 300 2>/dev/null |
    awk '/torch cnn-train/ {print $4}')
ours_train=$(awk '/^gpu cnn-train/ {print $5}' "$log/gpu-train")
cpu_train=$(awk '/^gpu cnn-train/ {print $7}' "$log/gpu-train")

echo
echo "== Sluice GPU run (${gpu_name:-no GPU})"
printf '%-34s %s\n' "build (s)" "$build_s"
printf '%s' "$results"
if [ "$bench_rc" -eq 0 ]; then
    awk '/^gpu matmul/ {printf "%-34s sluice %s ms, cuBLAS %s ms, ratio %s\n", $2, $4, $10, $13}' "$log/bench"
    conv=$(awk '/^gpu conv2d/ {print $4}' "$log/bench")
    ratio=$(awk -v c="$conv" -v t="${torch_conv:-0}" 'BEGIN {if (t > 0 && c > 0) printf "ratio %.2f", t / c}')
    printf '%-34s sluice %s ms, PyTorch %s ms %s\n' "conv2d 64x28x28x32 3x3x64" "$conv" "${torch_conv:-(none)}" "$ratio"
else
    printf '%-34s %s\n' "benchmark" "not run (rc $bench_rc: $(tail -1 "$log/bench"))"
fi
ratio=$(awk -v o="${ours_train:-0}" -v t="${torch_train:-0}" 'BEGIN {if (t > 0 && o > 0) printf "ratio %.2f", o / t}')
printf '%-34s sluice %s, PyTorch %s %s (CPU %s)\n' "cnn train examples/s (batch 50)" "${ours_train:-?}" \
    "${torch_train:-(none)}" "$ratio" "${cpu_train:-?}"
printf '%-34s %s\n' "total (s)" "$(($(date +%s) - start))"
[ -z "${SLUICE_GPU_LOG_DIR:-}" ] && rm -rf "$log"
[ "$fails" -eq 0 ]
