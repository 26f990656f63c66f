#!/bin/sh
# `sluice export --onnx`: the MNIST MLP and CNN of examples/build-mnist are
# exported with their frozen GraphDefs; ONNX Runtime (npm onnxruntime-node,
# installed into a cache directory by tests/bench/ort-install.sh) runs each
# model on a batch of 7 random images and its logits must match `sluice run`
# on the frozen graph within 1e-4.  Then the errors: an op without an ONNX
# mapping is named, as are an unknown output, a placeholder left out of the
# inputs, and a missing argument.  The error cases run without ONNX Runtime;
# the comparisons skip (exit 77 when nothing else ran) without node/npm.
#   usage: test-cli-export-onnx.sh SLUICE BUILD_MNIST ORT_INSTALL ORT_MODEL_JS
set -u
sluice=$1
build_mnist=$2
ort_install=$3
ort_js=$4
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fails=0
passes=0
ok() { passes=$((passes + 1)); echo "ok - $1"; }
bad() { fails=$((fails + 1)); echo "not ok - $1"; }

# --- errors ---------------------------------------------------------------------
cat >"$tmp/exp.pbtxt" <<'G'
node { name: "x" op: "Placeholder" attr { key: "dtype" value { type: DT_FLOAT } }
       attr { key: "shape" value { shape { dim { size: -1 } dim { size: 4 } } } } }
node { name: "e" op: "Exp" input: "x" attr { key: "T" value { type: DT_FLOAT } } }
node { name: "r" op: "Relu" input: "x" attr { key: "T" value { type: DT_FLOAT } } }
G
expect_error() { # NAME WANT-IN-STDERR ARGS...
    name=$1 want=$2
    shift 2
    "$sluice" export --onnx "$@" >"$tmp/out" 2>"$tmp/err"
    rc=$?
    if [ "$rc" -ne 0 ] && grep -qF -- "$want" "$tmp/err"; then
        ok "$name"
    else
        bad "$name (exit $rc, stderr: $(cat "$tmp/err"))"
    fi
}
expect_error "unsupported op is named" "node 'e': op 'Exp' has no ONNX export" \
    "$tmp/exp.pbtxt" --input x --output e --out "$tmp/e.onnx"
[ ! -e "$tmp/e.onnx" ] && ok "nothing written on error" || bad "nothing written on error"
expect_error "unknown output" "output 'nope' is not an output of the graph" \
    "$tmp/exp.pbtxt" --input x --output nope --out "$tmp/e.onnx"
expect_error "placeholder not an input" "placeholder 'x' is needed by the outputs but is not an input" \
    "$tmp/exp.pbtxt" --output r --out "$tmp/e.onnx"
expect_error "input that is not a placeholder" "input 'r' is a Relu, not a placeholder" \
    "$tmp/exp.pbtxt" --input r --output r --out "$tmp/e.onnx"
expect_error "missing --out" "--onnx needs GRAPH, --output and --out" "$tmp/exp.pbtxt" --input x --output r
"$sluice" export --onnx "$tmp/exp.pbtxt" --input x --output r --out "$tmp/r.onnx" 2>"$tmp/err" &&
    [ -s "$tmp/r.onnx" ] && ok "supported op exports" || bad "supported op exports: $(cat "$tmp/err")"

# --- MLP and CNN against ONNX Runtime ---------------------------------------------
ort=$("$ort_install" 2>"$tmp/ort-err")
if [ -z "$ort" ]; then
    echo "# onnxruntime-node unavailable ($(cat "$tmp/ort-err")): comparisons skipped"
else
    cat >"$tmp/cmp.js" <<'JS'
// node cmp.js mk X.npy X.f32 N: random [N, 784] images as .npy and raw float32
// node cmp.js cmp A.npy B.f32 TOL: max |a - b| <= TOL (prints it)
'use strict';
const fs = require('fs');
const [mode, a, b, arg] = process.argv.slice(2);
if (mode === 'mk') {
  const n = Number(arg), x = new Float32Array(n * 784);
  let s = 7;
  for (let i = 0; i < x.length; i++) { s = (s * 1103515245 + 12345) % 2147483648; x[i] = s / 2147483648; }
  let h = "{'descr': '<f4', 'fortran_order': False, 'shape': (" + n + ", 784), }";
  while ((10 + h.length + 1) % 64) h += ' ';
  h += '\n';
  const head = Buffer.alloc(10);
  head.write('\x93NUMPY', 0, 'latin1'); head[6] = 1; head[7] = 0; head.writeUInt16LE(h.length, 8);
  const data = Buffer.from(x.buffer);
  fs.writeFileSync(a, Buffer.concat([head, Buffer.from(h, 'latin1'), data]));
  fs.writeFileSync(b, data);
} else {
  const buf = fs.readFileSync(a), hl = buf.readUInt16LE(8);
  const got = new Float32Array(buf.buffer.slice(buf.byteOffset + 10 + hl, buf.byteOffset + buf.length));
  const rb = fs.readFileSync(b), want = new Float32Array(rb.buffer.slice(rb.byteOffset, rb.byteOffset + rb.length));
  if (got.length !== want.length) { console.log('sizes differ: ' + got.length + ' vs ' + want.length); process.exit(1); }
  let m = 0;
  for (let i = 0; i < got.length; i++) m = Math.max(m, Math.abs(got[i] - want[i]));
  console.log('max abs difference ' + m + ' over ' + got.length + ' values');
  process.exit(m <= Number(arg) ? 0 : 1);
}
JS
    node "$tmp/cmp.js" mk "$tmp/x.npy" "$tmp/x.f32" 7
    for m in mlp cnn; do
        "$build_mnist" $m "$tmp/$m.pb" >/dev/null
        if ! "$sluice" export --onnx "$tmp/$m.pb" --input images --output logits/BiasAdd --out "$tmp/$m.onnx" \
            --frozen "$tmp/$m-frozen.pb" 2>"$tmp/err"; then
            bad "$m exports: $(cat "$tmp/err")"
            continue
        fi
        ok "$m exports"
        if ! "$sluice" run "$tmp/$m-frozen.pb" --feed images="$tmp/x.npy" --fetch logits/BiasAdd \
            --out "$tmp/run-$m" >/dev/null 2>"$tmp/err"; then
            bad "$m frozen graph runs: $(cat "$tmp/err")"
            continue
        fi
        if ! node "$ort_js" "$ort" run "$tmp/$m.onnx" "$tmp/x.f32" 7 "$tmp/ort-$m.f32" 2>"$tmp/err"; then
            bad "$m runs in ONNX Runtime: $(cat "$tmp/err")"
            continue
        fi
        d=$(node "$tmp/cmp.js" cmp "$tmp/run-$m/logits_BiasAdd.npy" "$tmp/ort-$m.f32" 1e-4)
        [ $? -eq 0 ] && ok "$m: ONNX Runtime matches sluice run ($d)" || bad "$m: ONNX Runtime vs sluice run: $d"
    done
fi

echo "# $passes passed, $fails failed"
[ "$fails" -eq 0 ]
