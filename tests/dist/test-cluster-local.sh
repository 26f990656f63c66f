#!/bin/sh
# sluice cluster up|status|down with local processes: every task answers,
# each has a log in the run directory, down stops them all.
# Usage: test-cluster-local.sh SLUICE
set -eu
SLUICE=$1
D=$(mktemp -d /tmp/sluice-cl-XXXXXX)
P=$(( 30000 + $$ % 20000 ))
SPEC="ps=127.0.0.1:$P;worker=127.0.0.1:$((P+1)),127.0.0.1:$((P+2))"
trap '"$SLUICE" cluster down "$SPEC" --run-dir "$D" >/dev/null 2>&1 || true; rm -rf "$D"' EXIT
"$SLUICE" cluster up "$SPEC" --run-dir "$D"
"$SLUICE" cluster status "$SPEC" --run-dir "$D" | grep -c ' up ' | grep -qx 3
for t in ps-0 worker-0 worker-1; do
  grep -q 'listening on' "$D/logs/$t.log" || { echo "no log for $t"; exit 1; }
done
[ "$(stat -c %a "$D/token")" = 600 ] || { echo "token file is not 0600"; exit 1; }
"$SLUICE" cluster down "$SPEC" --run-dir "$D"
if "$SLUICE" cluster status "$SPEC" --run-dir "$D" >/dev/null; then echo "tasks still up after down"; exit 1; fi
"$SLUICE" cluster up "ps=bad" --run-dir "$D" 2>&1 | grep -q "is not host:port" || { echo "bad spec not reported"; exit 1; }
echo ok
