# Sourced by the peer benchmarks (bench-train-vs-torch.sh,
# bench-infer-vs-ort.sh) after `set -eu`, with their arguments: sets
# OpenBLAS's kernel choice, build, rounds, secs and here.
#
# OpenBLAS (used by Sluice's MatMul and by PyTorch's Linear) picks its kernel
# for the CPU; an OPENBLAS_CORETYPE in the environment overrides that for
# both (these machines set Haswell, AVX2 only).  BENCH_OPENBLAS_CORETYPE=X
# forces X; by default the benchmark lets OpenBLAS choose.
if [ -n "${BENCH_OPENBLAS_CORETYPE:-}" ]; then
    export OPENBLAS_CORETYPE=$BENCH_OPENBLAS_CORETYPE
else
    unset OPENBLAS_CORETYPE
fi
build=${1:-build}
rounds=${ROUNDS:-5}
secs=${SECS:-2}
here=$(cd "$(dirname "$0")" && pwd)
