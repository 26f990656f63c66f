#!/bin/sh
# Builds Sluice with CUDA, runs the GPU suite (every CUDA kernel against
# the CPU kernel) and the GPU benchmark (MatMul against raw cuBLAS, Conv2D
# against PyTorch on the same GPU when torch has CUDA), and prints a short
# table last.  Meant for a machine with an NVIDIA GPU; takes a few minutes
# (hard limit 8).  Usage: tests/gpu/run-all.sh [BUILD_DIR]
set -u
src=$(cd "$(dirname "$0")/../.." && pwd)
build=${1:-$src/build-gpu}
log=$(mktemp -d)
start=$(date +%s)
left() { echo $((480 - ($(date +%s) - start))); }

if [ ! -f "$build/build.ninja" ]; then
    meson setup "$build" "$src" -Dcuda=enabled -Dboard=false -Dbuildtype=release >"$log/setup" 2>&1 ||
        { tail -20 "$log/setup"; echo "run-all: meson setup failed"; exit 1; }
fi
timeout "$(left)" ninja -C "$build" tests/gpu/test-gpu-kernels tests/gpu/bench-gpu dist/sluice >"$log/build" 2>&1 ||
    { tail -20 "$log/build"; echo "run-all: build failed"; exit 1; }
build_s=$(($(date +%s) - start))

"$build/dist/sluice" devices | tee "$log/devices"
timeout "$(left)" meson test -C "$build" --suite gpu --no-rebuild --print-errorlogs >"$log/test" 2>&1
test_rc=$?
grep -E "gpu-kernels" "$log/test" | tail -1
suite=$(grep -Eo "gpu-kernels +(OK|FAIL|SKIP|TIMEOUT)[^0-9]*[0-9.]+s" "$log/test" | tail -1)
[ "$test_rc" -ne 0 ] && grep -E "FAILED|ERROR|error" "$log/test" | head -20

timeout "$(left)" "$build/tests/gpu/bench-gpu" >"$log/bench" 2>&1
bench_rc=$?
torch_line="skipped (no torch with CUDA)"
py=/usr/bin/python3
[ -x "$py" ] || py=python3
if torch_out=$(timeout "$(left)" "$py" "$src/tests/gpu/conv_torch_gpu.py" 2>/dev/null); then
    torch_line=$(echo "$torch_out" | awk '/torch conv2d/ {print $3 " ms"}')
fi

echo
echo "== Sluice GPU run ($(grep -m1 GPU: "$log/devices" | sed 's/.*GPU:0  //' || echo 'no GPU'))"
printf '%-34s %s\n' "build (s)" "$build_s"
printf '%-34s %s\n' "gpu suite" "${suite:-not run (rc $test_rc)}"
if [ "$bench_rc" -eq 0 ]; then
    awk '/^gpu matmul/ {printf "%-34s sluice %s ms, cuBLAS %s ms, ratio %s\n", $2, $4, $9, $11}' "$log/bench"
    conv=$(awk '/^gpu conv2d/ {print $4}' "$log/bench")
    ratio=$(echo "$torch_line" | awk -v c="$conv" '$1 + 0 > 0 {printf "ratio %.2f", c / $1}')
    printf '%-34s sluice %s ms, PyTorch %s %s\n' "conv2d 64x28x28x32 3x3x64" "$conv" "$torch_line" "$ratio"
else
    printf '%-34s %s\n' "benchmark" "not run (rc $bench_rc: $(tail -1 "$log/bench"))"
fi
printf '%-34s %s\n' "total (s)" "$(($(date +%s) - start))"
rm -rf "$log"
[ "$test_rc" -eq 0 ]
