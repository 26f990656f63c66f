#!/bin/sh
# `sluice gradients` as a user runs it: the gradient tensors of a small
# model are printed (text and JSON), the written graph loads and holds
# them, and bad arguments give a clear error and a non-zero exit.
#   usage: test-cli-gradients.sh SLUICE [FIXTURES_DIR]
set -u
sluice=$1
fixtures=${2:-}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fails=0
passes=0

ok() { passes=$((passes + 1)); echo "ok - $1"; }
bad() { fails=$((fails + 1)); echo "not ok - $1"; }

cat >"$tmp/model.pbtxt" <<'G'
node { name: "x" op: "Placeholder" attr { key: "dtype" value { type: DT_FLOAT } }
       attr { key: "shape" value { shape { dim { size: -1 } dim { size: 3 } } } } }
node { name: "w" op: "Placeholder" attr { key: "dtype" value { type: DT_FLOAT } }
       attr { key: "shape" value { shape { dim { size: 3 } dim { size: 2 } } } } }
node { name: "unused" op: "Placeholder" attr { key: "dtype" value { type: DT_FLOAT } }
       attr { key: "shape" value { shape { dim { size: 2 } } } } }
node { name: "mm" op: "MatMul" input: "x" input: "w" attr { key: "T" value { type: DT_FLOAT } } }
node { name: "act" op: "Tanh" input: "mm" attr { key: "T" value { type: DT_FLOAT } } }
node { name: "axes" op: "Const" attr { key: "dtype" value { type: DT_INT32 } }
       attr { key: "value" value { tensor { dtype: DT_INT32 tensor_shape { dim { size: 2 } } int_val: 0 int_val: 1 } } } }
node { name: "loss" op: "Mean" input: "act" input: "axes" attr { key: "T" value { type: DT_FLOAT } } }
G

"$sluice" gradients "$tmp/model.pbtxt" --loss loss --wrt w,x:0,unused --out "$tmp/grad.pbtxt" >"$tmp/out" 2>"$tmp/err"
rc=$?
if [ $rc -eq 0 ] && [ "$(wc -l <"$tmp/out")" -eq 3 ] && grep -q '^w:0 gradients/mm_grad/MatMul.*:0$' "$tmp/out" \
   && grep -q '^unused:0 none$' "$tmp/out"; then
    ok "prints each gradient tensor"
else
    bad "prints each gradient tensor (exit $rc): $(cat "$tmp/out" "$tmp/err")"
fi

gw=$(sed -n 's/^w:0 \(.*\):0$/\1/p' "$tmp/out")
if [ -n "$gw" ] && "$sluice" inspect --json "$tmp/grad.pbtxt" >"$tmp/inspect" 2>&1 \
   && grep -q "gradients/" "$tmp/grad.pbtxt" && grep -q "name: \"$gw\"" "$tmp/grad.pbtxt"; then
    ok "the written graph loads and holds the gradient node"
else
    bad "the written graph loads and holds the gradient node: $(cat "$tmp/inspect")"
fi

"$sluice" gradients "$tmp/model.pbtxt" --loss loss:0 --wrt w --out "$tmp/grad.pb" --json >"$tmp/json" 2>"$tmp/err"
if [ $? -eq 0 ] && /usr/bin/python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
assert d["loss"] == ["loss:0"], d
assert d["gradients"][0]["wrt"] == "w:0", d
assert d["gradients"][0]["gradient"].startswith("gradients/"), d
assert d["nodes_added"] > 3, d
' "$tmp/json" && [ -s "$tmp/grad.pb" ]; then
    ok "--json and a binary graph"
else
    bad "--json and a binary graph: $(cat "$tmp/json" "$tmp/err")"
fi

# expect_error NAME PATTERN ARGS...: exit status 1 or 2 (not a signal) and PATTERN on stderr
expect_error() {
    name=$1
    pattern=$2
    shift 2
    "$sluice" gradients "$@" >"$tmp/out" 2>"$tmp/err"
    rc=$?
    if { [ "$rc" -eq 1 ] || [ "$rc" -eq 2 ]; } && grep -q -- "$pattern" "$tmp/err"; then
        ok "$name"
    else
        bad "$name (exit $rc): $(cat "$tmp/err")"
    fi
}
expect_error "unknown loss node" "no node named 'nope'" "$tmp/model.pbtxt" --loss nope --wrt w --out "$tmp/o.pb"
expect_error "output index out of range" "node 'loss' has 1 output" "$tmp/model.pbtxt" --loss loss:3 --wrt w --out "$tmp/o.pb"
expect_error "missing --out" "--out is required" "$tmp/model.pbtxt" --loss loss --wrt w
expect_error "missing graph file" "cannot open" "$tmp/none.pbtxt" --loss loss --wrt w --out "$tmp/o.pb"

cat >"$tmp/nograd.pbtxt" <<'G'
node { name: "x" op: "Placeholder" attr { key: "dtype" value { type: DT_FLOAT } } }
node { name: "y" op: "Relu6Grad" input: "x" input: "x" attr { key: "T" value { type: DT_FLOAT } } }
G
expect_error "op without a gradient" "node 'y' (Relu6Grad): no gradient defined" "$tmp/nograd.pbtxt" --loss y --wrt x --out "$tmp/o.pb"
[ ! -e "$tmp/o.pb" ] && ok "no output written on failure" || bad "no output written on failure"

# --- a tf.while_loop graph (TF 1.x layout): h = tanh(h * w), n times ---------
cat >"$tmp/while.pbtxt" <<'G'
node { name: "x" op: "Placeholder" attr { key: "dtype" value { type: DT_FLOAT } }
       attr { key: "shape" value { shape { dim { size: 3 } } } } }
node { name: "w" op: "Placeholder" attr { key: "dtype" value { type: DT_FLOAT } }
       attr { key: "shape" value { shape { dim { size: 3 } } } } }
node { name: "n" op: "Placeholder" attr { key: "dtype" value { type: DT_INT32 } }
       attr { key: "shape" value { shape { } } } }
node { name: "i0" op: "Const" attr { key: "dtype" value { type: DT_INT32 } }
       attr { key: "value" value { tensor { dtype: DT_INT32 tensor_shape { } int_val: 0 } } } }
node { name: "while/Enter" op: "Enter" input: "i0" attr { key: "T" value { type: DT_INT32 } }
       attr { key: "frame_name" value { s: "while" } } }
node { name: "while/Enter_1" op: "Enter" input: "x" attr { key: "T" value { type: DT_FLOAT } }
       attr { key: "frame_name" value { s: "while" } } }
node { name: "while/Enter_2" op: "Enter" input: "n" attr { key: "T" value { type: DT_INT32 } }
       attr { key: "frame_name" value { s: "while" } } attr { key: "is_constant" value { b: true } } }
node { name: "while/Enter_3" op: "Enter" input: "w" attr { key: "T" value { type: DT_FLOAT } }
       attr { key: "frame_name" value { s: "while" } } attr { key: "is_constant" value { b: true } } }
node { name: "while/Merge" op: "Merge" input: "while/Enter" input: "while/NextIteration"
       attr { key: "T" value { type: DT_INT32 } } attr { key: "N" value { i: 2 } } }
node { name: "while/Merge_1" op: "Merge" input: "while/Enter_1" input: "while/NextIteration_1"
       attr { key: "T" value { type: DT_FLOAT } } attr { key: "N" value { i: 2 } } }
node { name: "while/Less" op: "Less" input: "while/Merge" input: "while/Enter_2" attr { key: "T" value { type: DT_INT32 } } }
node { name: "while/LoopCond" op: "LoopCond" input: "while/Less" }
node { name: "while/Switch" op: "Switch" input: "while/Merge" input: "while/LoopCond" attr { key: "T" value { type: DT_INT32 } } }
node { name: "while/Switch_1" op: "Switch" input: "while/Merge_1" input: "while/LoopCond" attr { key: "T" value { type: DT_FLOAT } } }
node { name: "while/Identity" op: "Identity" input: "while/Switch:1" attr { key: "T" value { type: DT_INT32 } } }
node { name: "while/Identity_1" op: "Identity" input: "while/Switch_1:1" attr { key: "T" value { type: DT_FLOAT } } }
node { name: "while/one" op: "Const" input: "^while/Identity" attr { key: "dtype" value { type: DT_INT32 } }
       attr { key: "value" value { tensor { dtype: DT_INT32 tensor_shape { } int_val: 1 } } } }
node { name: "while/add" op: "Add" input: "while/Identity" input: "while/one" attr { key: "T" value { type: DT_INT32 } } }
node { name: "while/mul" op: "Mul" input: "while/Identity_1" input: "while/Enter_3" attr { key: "T" value { type: DT_FLOAT } } }
node { name: "while/tanh" op: "Tanh" input: "while/mul" attr { key: "T" value { type: DT_FLOAT } } }
node { name: "while/NextIteration" op: "NextIteration" input: "while/add" attr { key: "T" value { type: DT_INT32 } } }
node { name: "while/NextIteration_1" op: "NextIteration" input: "while/tanh" attr { key: "T" value { type: DT_FLOAT } } }
node { name: "while/Exit" op: "Exit" input: "while/Switch" attr { key: "T" value { type: DT_INT32 } } }
node { name: "while/Exit_1" op: "Exit" input: "while/Switch_1" attr { key: "T" value { type: DT_FLOAT } } }
node { name: "axes" op: "Const" attr { key: "dtype" value { type: DT_INT32 } }
       attr { key: "value" value { tensor { dtype: DT_INT32 tensor_shape { dim { size: 1 } } int_val: 0 } } } }
node { name: "loss" op: "Sum" input: "while/Exit_1" input: "axes" attr { key: "T" value { type: DT_FLOAT } } }
G
"$sluice" gradients "$tmp/while.pbtxt" --loss loss --wrt x,w,n --out "$tmp/wgrad.pbtxt" >"$tmp/out" 2>"$tmp/err"
rc=$?
gx=$(sed -n 's/^x:0 \(.*\)$/\1/p' "$tmp/out")
gw=$(sed -n 's/^w:0 \(.*\)$/\1/p' "$tmp/out")
if [ $rc -eq 0 ] && [ -n "$gx" ] && [ -n "$gw" ] && grep -q '^n:0 none$' "$tmp/out" \
   && grep -q 'StackPopV2' "$tmp/wgrad.pbtxt"; then
    ok "gradients of a while_loop graph"
else
    bad "gradients of a while_loop graph (exit $rc): $(cat "$tmp/out" "$tmp/err")"
fi
# the gradients run (3 iterations) and match the unrolled derivative
if /usr/bin/python3 -c '
import numpy as np, sys
np.save(sys.argv[1] + "/x.npy", np.array([0.1, -0.4, 0.7], np.float32))
np.save(sys.argv[1] + "/w.npy", np.array([0.9, 1.3, -0.6], np.float32))
np.save(sys.argv[1] + "/n.npy", np.array(3, np.int32))' "$tmp" 2>/dev/null \
   && "$sluice" run "$tmp/wgrad.pbtxt" --feed x="$tmp/x.npy" --feed w="$tmp/w.npy" --feed n="$tmp/n.npy" \
          --fetch "$gx" --fetch "$gw" --out "$tmp/wrun" >"$tmp/out" 2>"$tmp/err" \
   && /usr/bin/python3 -c '
import glob, numpy as np, sys
d, gx, gw = sys.argv[1:4]
load = lambda t: np.load(d + "/" + t.replace("/", "_").replace(":", "_") + ".npy")
x = np.array([0.1, -0.4, 0.7]); w = np.array([0.9, 1.3, -0.6]); hs = [x]
for _ in range(3):
    hs.append(np.tanh(hs[-1] * w))
dh, dw = np.ones(3), np.zeros(3)
for k in range(3, 0, -1):
    dz = dh * (1 - hs[k] ** 2)
    dw += dz * hs[k - 1]
    dh = dz * w
assert np.allclose(load(gx), dh, rtol=1e-5, atol=1e-6), (load(gx), dh)
assert np.allclose(load(gw), dw, rtol=1e-5, atol=1e-6), (load(gw), dw)
' "$tmp/wrun" "$gx" "$gw"; then
    ok "the while_loop gradients run and match the unrolled derivative"
else
    bad "the while_loop gradients run and match the unrolled derivative: $(cat "$tmp/out" "$tmp/err")"
fi

# --- real graphs: an unrolled SRU and an MLP written by TF -------------------
if [ -n "$fixtures" ] && [ -d "$fixtures/graphs" ]; then
    for spec in hello_tf_c_api_sru_frozen_graph.pb:output_node0:input_4 \
                tf2onnx_mnist_fc_layers_frozen.pb:output:X; do
        f=${spec%%:*}; rest=${spec#*:}; loss=${rest%%:*}; wrt=${rest#*:}
        if "$sluice" gradients "$fixtures/graphs/$f" --loss "$loss" --wrt "$wrt" --out "$tmp/real.pb" \
               >"$tmp/out" 2>"$tmp/err" && grep -q "^$wrt:0 gradients/" "$tmp/out" \
               && "$sluice" inspect "$tmp/real.pb" >/dev/null 2>&1; then
            ok "gradients of $f"
        else
            bad "gradients of $f: $(cat "$tmp/out" "$tmp/err")"
        fi
    done
fi

echo "1..$((passes + fails))"
[ $fails -eq 0 ]
