#!/bin/sh
# `sluice run` as a user runs it: feeds from .npy files, fetches written as
# DIR/<name with / and : replaced by _>.npy, the --json summary, targets, and
# a clear error with exit status 1 for each kind of bad feed.  When the
# fixtures folder exists, the frozen MNIST MLP runs on a zero image.
#   usage: test-cli-run.sh SLUICE FIXTURES_DIR
set -u
sluice=$1
fixtures=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fails=0
passes=0

ok() { passes=$((passes + 1)); echo "ok - $1"; }
bad() { fails=$((fails + 1)); echo "not ok - $1"; }

# mknpy FILE DESCR SHAPE FORTRAN: a version 1.0 header (padded with spaces
# to a multiple of 64 bytes, ending in a newline); the data comes on stdin.
mknpy() {
    dict="{'descr': '$2', 'fortran_order': $4, 'shape': $3, }"
    len=$(( ${#dict} + 1 ))
    pad=$(( (64 - (10 + len) % 64) % 64 ))
    hlen=$(( len + pad ))
    {
        printf '\223NUMPY\001\000'
        printf "\\$(printf '%03o' $((hlen % 256)))\\$(printf '%03o' $((hlen / 256)))"
        printf '%s' "$dict"
        printf "%${pad}s\n" ""
        cat
    } >"$1"
}

# data bytes, little-endian: floats 1 2 and 10 20, int32 3 4
printf '\000\000\200\077\000\000\000\100' | mknpy "$tmp/x.npy" '<f4' '(2,)' False
printf '\000\000\040\101\000\000\240\101' | mknpy "$tmp/y.npy" '<f4' '(2,)' False
printf '\003\000\000\000\004\000\000\000' | mknpy "$tmp/i32.npy" '<i4' '(2,)' False
printf '\000\000\200\077\000\000\000\100\000\000\100\100' | mknpy "$tmp/x3.npy" '<f4' '(3,)' False
printf '\000\000\200\077\000\000\000\100\000\000\100\100\000\000\200\100' |
    mknpy "$tmp/fortran.npy" '<f4' '(2, 2)' True

# sum/z = x + y; prod = x * y; noop runs only as a target
cat >"$tmp/g.pbtxt" <<'G'
node { name: "x" op: "Placeholder" attr { key: "dtype" value { type: DT_FLOAT } }
       attr { key: "shape" value { shape { dim { size: 2 } } } } }
node { name: "y" op: "Placeholder" attr { key: "dtype" value { type: DT_FLOAT } }
       attr { key: "shape" value { shape { dim { size: 2 } } } } }
node { name: "sum/z" op: "AddV2" input: "x" input: "y" attr { key: "T" value { type: DT_FLOAT } } }
node { name: "prod" op: "Mul" input: "x" input: "y" attr { key: "T" value { type: DT_FLOAT } } }
node { name: "noop" op: "NoOp" input: "^sum/z" }
G

# data_hex FILE: the last 8 bytes (two 4-byte elements) in hex
data_hex() { tail -c 8 "$1" | od -An -tx1 | tr -d ' \n'; }

# --- a good run -----------------------------------------------------------------
"$sluice" run "$tmp/g.pbtxt" --feed x="$tmp/x.npy" --feed y="$tmp/y.npy" \
    --fetch sum/z:0 --fetch prod --out "$tmp/out" --json >"$tmp/json" 2>"$tmp/err"
rc=$?
[ "$rc" -eq 0 ] && ok "run exits 0" || bad "run exits 0 (exit $rc): $(cat "$tmp/err")"
[ -f "$tmp/out/sum_z_0.npy" ] && ok "fetch 'sum/z:0' is written to sum_z_0.npy" ||
    bad "fetch 'sum/z:0' is written to sum_z_0.npy ($(ls "$tmp/out" 2>&1))"
[ -f "$tmp/out/prod.npy" ] && ok "fetch 'prod' is written to prod.npy" || bad "fetch 'prod' is written to prod.npy"
# 11 = 0x41300000, 22 = 0x41b00000; 10 = 0x41200000, 40 = 0x42200000
[ "$(data_hex "$tmp/out/sum_z_0.npy")" = "000030410000b041" ] && ok "sum is [11, 22]" ||
    bad "sum is [11, 22] (got $(data_hex "$tmp/out/sum_z_0.npy"))"
[ "$(data_hex "$tmp/out/prod.npy")" = "0000204100002042" ] && ok "product is [10, 40]" ||
    bad "product is [10, 40] (got $(data_hex "$tmp/out/prod.npy"))"
head -c 80 "$tmp/out/prod.npy" | grep -q "'descr': '<f4', 'fortran_order': False, 'shape': (2,)" &&
    ok "output header is a C-order float32 of shape (2,)" || bad "output header: $(head -c 80 "$tmp/out/prod.npy")"
if grep -q '"name": "sum/z:0"' "$tmp/json" && grep -q '"dtype": "float"' "$tmp/json" &&
    grep -q '"file": ".*/sum_z_0.npy"' "$tmp/json" && grep -q '"step_time_us"' "$tmp/json"; then
    ok "--json summary names each fetch, its dtype and file"
else
    bad "--json summary: $(cat "$tmp/json")"
fi
if [ -x /usr/bin/python3 ] && /usr/bin/python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["fetches"][1]["shape"] == [2]' "$tmp/json" 2>/dev/null; then
    ok "--json summary parses as JSON"
elif [ -x /usr/bin/python3 ]; then
    bad "--json summary parses as JSON"
fi

"$sluice" run "$tmp/g.pbtxt" --feed x="$tmp/x.npy" --feed y="$tmp/y.npy" --target noop >"$tmp/o" 2>"$tmp/err"
rc=$?
[ "$rc" -eq 0 ] && ok "a target alone needs no --out" || bad "a target alone (exit $rc): $(cat "$tmp/err")"

# --- bad feeds and fetches: exit 1 and a message ----------------------------------
# expect_error NAME PATTERN ARGS...: exit status 1 (not a signal) and PATTERN on stderr
expect_error() {
    name=$1
    pattern=$2
    shift 2
    "$sluice" run "$tmp/g.pbtxt" "$@" --out "$tmp/bad" >"$tmp/o" 2>"$tmp/err"
    rc=$?
    if [ "$rc" -eq 1 ] && grep -q -- "$pattern" "$tmp/err"; then
        ok "$name"
    else
        bad "$name (exit $rc): $(cat "$tmp/err")"
    fi
}
expect_error "wrong dtype" "feed 'x': expected a float tensor but got int32" \
    --feed x="$tmp/i32.npy" --feed y="$tmp/y.npy" --fetch prod
expect_error "wrong shape" "feed 'x': expected shape \[2\] but got \[3\]" \
    --feed x="$tmp/x3.npy" --feed y="$tmp/y.npy" --fetch prod
expect_error "unknown feed name" "feed 'nosuch': no node named 'nosuch' in the graph" \
    --feed nosuch="$tmp/x.npy" --feed x="$tmp/x.npy" --feed y="$tmp/y.npy" --fetch prod
expect_error "missing file" "feed 'x': .*none.npy: cannot open" \
    --feed x="$tmp/none.npy" --feed y="$tmp/y.npy" --fetch prod
expect_error "Fortran-order file" "feed 'x': .*fortran.npy: .*Fortran" \
    --feed x="$tmp/fortran.npy" --feed y="$tmp/y.npy" --fetch prod
expect_error "unfed placeholder" "you must feed a value for placeholder tensor 'y'" \
    --feed x="$tmp/x.npy" --fetch prod
expect_error "unknown fetch" "fetch 'ghost': no node named 'ghost'" \
    --feed x="$tmp/x.npy" --feed y="$tmp/y.npy" --fetch ghost
expect_error "fetch index out of range" "fetch 'prod:1': node 'prod' has 1 output" \
    --feed x="$tmp/x.npy" --feed y="$tmp/y.npy" --fetch prod:1
expect_error "not a .npy file" "feed 'x': .*g.pbtxt: not a .npy file" \
    --feed x="$tmp/g.pbtxt" --feed y="$tmp/y.npy" --fetch prod

"$sluice" run "$tmp/g.pbtxt" --feed x >/dev/null 2>&1
[ $? -eq 2 ] && ok "--feed without NAME=FILE is a usage error" || bad "--feed without NAME=FILE is a usage error"
"$sluice" run "$tmp/g.pbtxt" >/dev/null 2>&1
[ $? -eq 2 ] && ok "nothing to fetch is a usage error" || bad "nothing to fetch is a usage error"
"$sluice" run "$tmp/none.pbtxt" --fetch a --out "$tmp/o2" >/dev/null 2>"$tmp/err"
[ $? -eq 1 ] && grep -q "none.pbtxt" "$tmp/err" && ok "a missing graph names the file" ||
    bad "a missing graph names the file: $(cat "$tmp/err")"

# --- a real graph ---------------------------------------------------------------------
if [ -f "$fixtures/graphs/tf2onnx_mnist_fc_layers_frozen.pb" ]; then
    head -c 3136 /dev/zero | mknpy "$tmp/zeros.npy" '<f4' '(1, 784)' False
    "$sluice" run "$fixtures/graphs/tf2onnx_mnist_fc_layers_frozen.pb" --feed X="$tmp/zeros.npy" \
        --fetch output --out "$tmp/mlp" --json >"$tmp/json" 2>"$tmp/err"
    rc=$?
    if [ "$rc" -eq 0 ] && grep -q '"shape": \[' "$tmp/json" && [ -f "$tmp/mlp/output.npy" ] &&
        head -c 80 "$tmp/mlp/output.npy" | grep -q "'shape': (1, 10)"; then
        ok "frozen MNIST MLP runs on a zero image"
    else
        bad "frozen MNIST MLP (exit $rc): $(cat "$tmp/err")"
    fi
else
    echo "ok - frozen MNIST MLP # SKIP no fixtures at $fixtures"
fi

echo "1..$((passes + fails))"
echo "$passes passed, $fails failed"
[ "$fails" -eq 0 ]
