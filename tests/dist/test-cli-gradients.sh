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
