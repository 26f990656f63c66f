#!/bin/sh
# `sluice inspect` as a user runs it: node counts of real TF graphs (when the
# fixtures folder exists) and a clear error with a non-zero exit, never a
# crash, for each kind of bad file.
#   usage: test-cli-inspect.sh SLUICE FIXTURES_DIR
set -u
sluice=$1
fixtures=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fails=0
passes=0

ok() { passes=$((passes + 1)); echo "ok - $1"; }
bad() { fails=$((fails + 1)); echo "not ok - $1"; }

# expect_error NAME FILE PATTERN: exit status 1 (not a signal) and PATTERN on stderr
expect_error() {
    "$sluice" inspect "$2" >"$tmp/out" 2>"$tmp/err"
    rc=$?
    if [ "$rc" -eq 1 ] && grep -q -- "$3" "$tmp/err"; then
        ok "$1"
    else
        bad "$1 (exit $rc): $(cat "$tmp/err")"
    fi
}

# --- bad input --------------------------------------------------------------
head -c 4096 /dev/urandom >"$tmp/random.pb"
expect_error "random bytes" "$tmp/random.pb" "random.pb"

printf 'node {\n  name: "a"\n  op: "NoOp"\n  input: \n}\n' >"$tmp/syntax.pbtxt"
expect_error "pbtxt syntax error gives line and column" "$tmp/syntax.pbtxt" "syntax.pbtxt:5:1"

printf 'node { name: "a" op: "Placeholder" attr { key: "dtype" value { type: DT_FLOAT } } }\nnode { name: "b" op: "NoSuchOp" input: "a" }\n' >"$tmp/unknown.pbtxt"
expect_error "unknown op" "$tmp/unknown.pbtxt" "node 'b' (NoSuchOp): unknown op 'NoSuchOp'"

printf 'node { name: "b" op: "Neg" input: "ghost" attr { key: "T" value { type: DT_FLOAT } } }\n' >"$tmp/dangling.pbtxt"
expect_error "dangling input" "$tmp/dangling.pbtxt" "node 'b': input 'ghost' names no node"

cat >"$tmp/cycle.pbtxt" <<'G'
node { name: "a" op: "Neg" input: "b" attr { key: "T" value { type: DT_FLOAT } } }
node { name: "b" op: "Neg" input: "a" attr { key: "T" value { type: DT_FLOAT } } }
G
expect_error "cycle" "$tmp/cycle.pbtxt" "cycle .*a -> b -> a"

expect_error "missing file" "$tmp/none.pb" "cannot open"

"$sluice" inspect >/dev/null 2>&1
[ $? -eq 2 ] && ok "no argument is a usage error" || bad "no argument is a usage error"
"$sluice" frobnicate >/dev/null 2>&1
[ $? -eq 2 ] && ok "unknown command is a usage error" || bad "unknown command is a usage error"

# --- real graphs --------------------------------------------------------------
if [ -d "$fixtures/graphs" ]; then
    for pair in tf2onnx_mnist_fc_layers_frozen.pb:24 tf2onnx_mnist_lstm_frozen.pb:529 \
                tf2onnx_regression_frozen.pb:8 tfrust_addition_model.pb:3 \
                tfrust_regression_model.pb:95 tfrust_sys_multiplication.pb:3 \
                hello_tf_c_api_sru_frozen_graph.pb:549 tensorboard_demo_mlp_graph.pbtxt:118; do
        f=${pair%%:*}
        n=${pair##*:}
        got=$("$sluice" inspect "$fixtures/graphs/$f" | sed -n 's/^nodes: //p')
        [ "$got" = "$n" ] && ok "$f has $n nodes" || bad "$f has $n nodes (got '$got')"
        got=$("$sluice" inspect --json "$fixtures/graphs/$f" | /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["nodes"])')
        [ "$got" = "$n" ] && ok "$f --json has $n nodes" || bad "$f --json has $n nodes (got '$got')"
    done
    # a truncated real graph
    f="$fixtures/graphs/tf2onnx_mnist_fc_layers_frozen.pb"
    size=$(wc -c <"$f")
    head -c $((size / 2)) "$f" >"$tmp/truncated.pb"
    expect_error "truncated .pb" "$tmp/truncated.pb" "truncated.pb: not a valid GraphDef: at byte offset"
else
    echo "# fixtures not found at $fixtures: real-graph checks skipped"
fi

# --- logs ---------------------------------------------------------------------
if [ -d "$fixtures/events" ]; then
    got=$("$sluice" inspect --json "$fixtures/events" | /usr/bin/python3 -c 'import json,sys; d=json.load(sys.stdin); print(len(d["runs"]), sorted(t["tag"] for r in d["runs"] for t in r["tags"] if r["name"].endswith("strict_run_1")))')
    [ "$got" = "3 ['strict/foo']" ] && ok "inspect --json of the events fixtures" || bad "inspect --json of the events fixtures (got '$got')"
    "$sluice" export "$fixtures/events" --run pytorch_scalars/strict_run_1 --tag strict/foo --out "$tmp/foo.csv"
    got=$(wc -l <"$tmp/foo.csv")
    [ "$got" = "101" ] && ok "export writes every point (header + 100 rows)" || bad "export writes every point (got $got lines)"
    last=$(tail -n 1 "$tmp/foo.csv" | cut -d, -f2)
    [ "$last" = "495" ] && ok "export's last step is 495" || bad "export's last step is 495 (got '$last')"
    "$sluice" export "$fixtures/events" --run nosuchrun --tag strict/foo --out "$tmp/none.csv" 2>"$tmp/err"
    rc=$?
    if [ $rc -eq 1 ] && grep -q "nosuchrun" "$tmp/err" && [ ! -e "$tmp/none.csv" ]; then
        ok "export of an unknown run fails cleanly and leaves no file"
    else
        bad "export of an unknown run (exit $rc): $(cat "$tmp/err")"
    fi
    got=$("$sluice" inspect "$fixtures/events/tf_cpp_simple_values/end_2_end.tfevents" | grep -c "scalar")
    [ "$got" = "12" ] && ok "inspect of one event file lists its 12 tags" || bad "inspect of one event file (got $got tags)"
fi
head -c 100 /dev/urandom >"$tmp/events.out.tfevents.1.corrupt"
"$sluice" inspect "$tmp/events.out.tfevents.1.corrupt" >"$tmp/out" 2>"$tmp/err"
rc=$?
if [ $rc -le 1 ] && grep -q "events.out.tfevents.1.corrupt" "$tmp/out" "$tmp/err"; then
    ok "a corrupt event file is reported by name, without a crash"
else
    bad "a corrupt event file (exit $rc): $(cat "$tmp/err")"
fi

echo "# $passes passed, $fails failed"
[ "$fails" -eq 0 ]
