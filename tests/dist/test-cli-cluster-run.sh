#!/bin/sh
# sluice run --cluster: a graph whose nodes are pinned to three tasks runs
# on a local cluster (sluice cluster up) and writes the same .npy bytes as
# in one process; a wrong token is refused; a task killed with SIGKILL
# makes the step fail with a message naming it.
# Usage: test-cli-cluster-run.sh SLUICE
set -eu
SLUICE=$1
D=$(mktemp -d /tmp/sluice-clr-XXXXXX)
P=$(( 30000 + ($$ * 7) % 20000 ))
SPEC="ps=127.0.0.1:$P;worker=127.0.0.1:$((P+1)),127.0.0.1:$((P+2))"
trap '"$SLUICE" cluster down "$SPEC" --run-dir "$D/run" >/dev/null 2>&1 || true; rm -rf "$D"' EXIT
cat > "$D/g.pbtxt" <<'EOG'
node { name: 'a' op: 'Const' device: '/job:ps/task:0' attr { key: 'dtype' value { type: DT_FLOAT } }
  attr { key: 'value' value { tensor { dtype: DT_FLOAT tensor_shape { dim { size: 2 } dim { size: 3 } }
    float_val: 1 float_val: -2 float_val: 3.5 float_val: 0.25 float_val: 5 float_val: -6 } } } }
node { name: 'b' op: 'Const' device: '/job:worker/task:0' attr { key: 'dtype' value { type: DT_FLOAT } }
  attr { key: 'value' value { tensor { dtype: DT_FLOAT tensor_shape { dim { size: 3 } dim { size: 2 } }
    float_val: 0.5 float_val: 1 float_val: -1.5 float_val: 2 float_val: 3 float_val: 0.125 } } } }
node { name: 'm' op: 'MatMul' input: 'a' input: 'b' device: '/job:worker/task:1' attr { key: 'T' value { type: DT_FLOAT } } }
node { name: 't' op: 'Tanh' input: 'm' device: '/job:worker/task:0' attr { key: 'T' value { type: DT_FLOAT } } }
node { name: 'out' op: 'Add' input: 't' input: 'm' device: '/job:ps/task:0' attr { key: 'T' value { type: DT_FLOAT } } }
EOG
"$SLUICE" cluster up "$SPEC" --run-dir "$D/run" >/dev/null
"$SLUICE" run "$D/g.pbtxt" --fetch out --fetch m --out "$D/local" >/dev/null
"$SLUICE" run "$D/g.pbtxt" --fetch out --fetch m --out "$D/dist" --cluster "$SPEC" --token-file "$D/run/token" --json \
  | grep -q '"cluster"'
cmp "$D/local/out.npy" "$D/dist/out.npy"
cmp "$D/local/m.npy" "$D/dist/m.npy"
echo wrong > "$D/bad-token"
if "$SLUICE" run "$D/g.pbtxt" --fetch out --out "$D/x" --cluster "$SPEC" --token-file "$D/bad-token" 2>"$D/err"; then
  echo "a wrong token was accepted"; exit 1
fi
grep -q 'sluice-token' "$D/err" || { cat "$D/err"; exit 1; }
kill -9 "$(cat "$D/run/pids/worker-1.pid")"
start=$(date +%s)
if "$SLUICE" run "$D/g.pbtxt" --fetch out --out "$D/x" --cluster "$SPEC" --token-file "$D/run/token" 2>"$D/err"; then
  echo "the step succeeded without a task"; exit 1
fi
[ $(( $(date +%s) - start )) -lt 10 ] || { echo "too slow to fail"; exit 1; }
grep -q '/job:worker/replica:0/task:1' "$D/err" || { echo "the error does not name the task:"; cat "$D/err"; exit 1; }
echo ok
