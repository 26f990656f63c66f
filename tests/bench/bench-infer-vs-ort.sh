#!/bin/sh
# Inference examples/s of the MNIST models of examples/build-mnist.c (MLP
# and Deep MNIST CNN, logits, dropout off) through the engine's session
# (bench-model) against ONNX Runtime (npm onnxruntime-node, installed into
# ~/.cache/sluice/ort by ort-install.sh) running the same models exported
# by `sluice export --onnx`, in the same run, interleaved, at 1 and 2
# threads (ORT: intraOpNumThreads = N, interOpNumThreads = 1, graph
# optimizations all), batch 64 and 256.  Prints each measurement, then per
# config the medians and their ratio.
#
#     tests/bench/bench-infer-vs-ort.sh [BUILD_DIR]   (ROUNDS=5 SECS=2)
# Exits 77 when onnxruntime-node cannot be had.
set -eu
. "$(dirname "$0")/bench-env.sh"
ort=$("$here/ort-install.sh") || { echo "onnxruntime-node unavailable: skipped"; exit 77; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
for m in mlp cnn; do
    "$build/examples/build-mnist" $m "$tmp/$m.pb" >/dev/null
    "$build/dist/sluice" export --onnx "$tmp/$m.pb" --input images --output logits/BiasAdd --out "$tmp/$m.onnx"
done
: > "$tmp/res"
echo "# OpenBLAS core: ${OPENBLAS_CORETYPE:-auto-selected}; load: $(cut -d' ' -f1-3 /proc/loadavg); $rounds rounds, ${secs}s per measurement"
r=1
while [ "$r" -le "$rounds" ]; do
    for t in 1 2; do
        for c in mlp:64 mlp:256 cnn:64 cnn:256; do
            m=${c%:*} b=${c#*:}
            s=$("$build/tests/bench/bench-model" "$tmp/$m.pb" infer "$b" "$t" "$secs" | awk '{print $2, $4}')
            p=$(node "$here/ort-model.js" "$ort" bench "$tmp/$m.onnx" "$b" "$t" "$secs" | awk '{print $2, $4}')
            echo "round $r threads $t $m batch $b: sluice $s ort $p (examples/s, per CPU-second)"
            echo "$t $m $b $s $p" >> "$tmp/res"
        done
    done
    r=$((r + 1))
done
python3 - "$tmp/res" <<'PY'
import statistics, sys
rows = {}
for line in open(sys.argv[1]):
    t, m, b, s, sc, p, pc = line.split()
    rows.setdefault((int(t), m, int(b)), []).append(tuple(map(float, (s, p, sc, pc))))
print("inference, medians     threads  sluice ex/s    ort ex/s  ratio | per CPU-second: sluice     ort  ratio")
for (t, m, b), v in sorted(rows.items(), key=lambda kv: (kv[0][1], kv[0][2], kv[0][0])):
    s, p, sc, pc = (statistics.median(r[i] for r in v) for i in range(4))
    print("%-4s batch %-4d        %d  %11.0f  %10.0f  %4.2fx |         %7.0f  %6.0f  %4.2fx"
          % (m, b, t, s, p, s / p, sc, pc, sc / pc))
PY
