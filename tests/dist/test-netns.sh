#!/bin/bash
# Two "hosts" as network namespaces joined by a veth pair
# (../shared/CLUSTERS.md section 3): the ps task in one, a worker task and
# the client in the other; a graph split over both gives the same .npy
# bytes as one process.  Skips (77) where namespaces cannot be made.
# Usage: test-netns.sh SLUICE
set -eu
SLUICE=$1
command -v ip >/dev/null || { echo "no ip: skipped"; exit 77; }
A=slA$$ B=slB$$
D=$(mktemp -d /tmp/sluice-ns-XXXXXX)
cleanup() {
  for ns in $A $B; do
    for p in $(ip netns pids $ns 2>/dev/null); do kill -9 "$p" 2>/dev/null || true; done
    ip netns del $ns 2>/dev/null || true
  done
  rm -rf "$D"
}
trap cleanup EXIT
ip netns add $A 2>/dev/null || { echo "cannot make network namespaces: skipped"; exit 77; }
ip netns add $B
ip link add vA$$ netns $A type veth peer name vB$$ netns $B
ip -n $A addr add 10.231.0.1/24 dev vA$$
ip -n $B addr add 10.231.0.2/24 dev vB$$
for ns in $A $B; do ip -n $ns link set lo up; done
ip -n $A link set vA$$ up
ip -n $B link set vB$$ up
SPEC="ps=10.231.0.1:7001;worker=10.231.0.2:7002"
echo "netns-token-$$" > "$D/token"
ip netns exec $A "$SLUICE" worker --cluster "$SPEC" --job ps --task 0 --listen 10.231.0.1:7001 \
  --token-file "$D/token" >"$D/ps.log" 2>&1 &
ip netns exec $B "$SLUICE" worker --cluster "$SPEC" --job worker --task 0 --listen 10.231.0.2:7002 \
  --token-file "$D/token" >"$D/worker.log" 2>&1 &
for i in $(seq 50); do
  ip netns exec $A ss -ltnH 'sport = :7001' | grep -q . && ip netns exec $B ss -ltnH 'sport = :7002' | grep -q . && break
  sleep 0.1
done
cat > "$D/g.pbtxt" <<'EOG'
node { name: 'a' op: 'Const' device: '/job:ps/task:0' attr { key: 'dtype' value { type: DT_FLOAT } }
  attr { key: 'value' value { tensor { dtype: DT_FLOAT tensor_shape { dim { size: 2 } dim { size: 2 } }
    float_val: 1 float_val: -2 float_val: 3.5 float_val: 0.25 } } } }
node { name: 'm' op: 'MatMul' input: 'a' input: 'a' device: '/job:worker/task:0' attr { key: 'T' value { type: DT_FLOAT } } }
node { name: 'out' op: 'Tanh' input: 'm' device: '/job:ps/task:0' attr { key: 'T' value { type: DT_FLOAT } } }
EOG
"$SLUICE" run "$D/g.pbtxt" --fetch out --out "$D/local" >/dev/null
ip netns exec $B "$SLUICE" run "$D/g.pbtxt" --fetch out --out "$D/dist" --cluster "$SPEC" --token-file "$D/token" >/dev/null
cmp "$D/local/out.npy" "$D/dist/out.npy"
grep -q 'listening on 10.231.0.1:7001' "$D/ps.log"
echo ok
