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
build=${1:-build}
rounds=${ROUNDS:-5}
secs=${SECS:-2}
here=$(cd "$(dirname "$0")" && pwd)
ort=$("$here/ort-install.sh") || { echo "onnxruntime-node unavailable: skipped"; exit 77; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
for m in mlp cnn; do
    "$build/examples/build-mnist" $m "$tmp/$m.pb" >/dev/null
    "$build/dist/sluice" export --onnx "$tmp/$m.pb" --input images --output logits/BiasAdd --out "$tmp/$m.onnx"
done
: > "$tmp/res"
echo "# load: $(cut -d' ' -f1-3 /proc/loadavg); $rounds rounds, ${secs}s per measurement"
r=1
while [ "$r" -le "$rounds" ]; do
    for t in 1 2; do
        for c in mlp:64 mlp:256 cnn:64 cnn:256; do
            m=${c%:*} b=${c#*:}
            s=$("$build/tests/bench/bench-model" "$tmp/$m.pb" infer "$b" "$t" "$secs" | awk '{print $2}')
            p=$(node "$here/ort-model.js" "$ort" bench "$tmp/$m.onnx" "$b" "$t" "$secs" | awk '{print $2}')
            echo "round $r threads $t $m batch $b: sluice $s ort $p"
            echo "$t $m $b $s $p" >> "$tmp/res"
        done
    done
    r=$((r + 1))
done
awk '
{ k = $2 " batch " $3 " threads " $1; n[k]++; s[k, n[k]] = $4; p[k, n[k]] = $5; keys[k] = 1 }
function med(a, k, c,   i, j, t, v) {
    for (i = 1; i <= c; i++) v[i] = a[k, i]
    for (i = 1; i <= c; i++) for (j = i + 1; j <= c; j++) if (v[j] < v[i]) { t = v[i]; v[i] = v[j]; v[j] = t }
    return c % 2 ? v[(c + 1) / 2] : (v[c / 2] + v[c / 2 + 1]) / 2
}
END {
    print "infer ex/s (medians)           sluice        ort   sluice/ort"
    for (k in keys) { a = med(s, k, n[k]); b = med(p, k, n[k]); printf "%-28s %9.0f  %9.0f  %6.2fx\n", k, a, b, a / b }
}' "$tmp/res" | sort
