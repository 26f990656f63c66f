#!/bin/sh
# TLS with gRPC's SSL credentials: a cluster whose run directory has
# tls/{ca,cert,key}.pem serves TLS only; a client that checks it against
# the CA runs a split graph; a plain-TCP client and a client trusting
# another CA are refused.  Skips (77) without openssl.
# Usage: test-tls.sh SLUICE
set -eu
SLUICE=$1
command -v openssl >/dev/null || { echo "no openssl: skipped"; exit 77; }
D=$(mktemp -d /tmp/sluice-tls-XXXXXX)
P=$(( 30000 + ($$ * 13) % 20000 ))
SPEC="ps=127.0.0.1:$P;worker=127.0.0.1:$((P+1))"
trap '"$SLUICE" cluster down "$SPEC" --run-dir "$D/run" >/dev/null 2>&1 || true; rm -rf "$D"' EXIT
mkdir -p "$D/run/tls" "$D/other"
mkcert() {  # DIR: a CA and a server certificate for 127.0.0.1 signed by it
  openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=sluice-test-ca \
    -keyout "$1/ca.key" -out "$1/ca.pem" 2>/dev/null
  openssl req -newkey rsa:2048 -nodes -subj /CN=127.0.0.1 -keyout "$1/key.pem" -out "$1/req.csr" 2>/dev/null
  printf 'subjectAltName=IP:127.0.0.1\n' > "$1/ext"
  openssl x509 -req -in "$1/req.csr" -CA "$1/ca.pem" -CAkey "$1/ca.key" -CAcreateserial -days 2 \
    -extfile "$1/ext" -out "$1/cert.pem" 2>/dev/null
}
mkcert "$D/run/tls"
mkcert "$D/other"
cat > "$D/g.pbtxt" <<'EOG'
node { name: 'a' op: 'Const' device: '/job:ps/task:0' attr { key: 'dtype' value { type: DT_FLOAT } }
  attr { key: 'value' value { tensor { dtype: DT_FLOAT tensor_shape { dim { size: 2 } } float_val: 1.5 float_val: -2 } } } }
node { name: 'out' op: 'Neg' input: 'a' device: '/job:worker/task:0' attr { key: 'T' value { type: DT_FLOAT } } }
EOG
"$SLUICE" cluster up "$SPEC" --run-dir "$D/run" >/dev/null
"$SLUICE" run "$D/g.pbtxt" --fetch out --out "$D/local" >/dev/null
"$SLUICE" run "$D/g.pbtxt" --fetch out --out "$D/dist" --cluster "$SPEC" --token-file "$D/run/token" \
  --tls "$D/run/tls" >/dev/null
cmp "$D/local/out.npy" "$D/dist/out.npy"
if "$SLUICE" run "$D/g.pbtxt" --fetch out --out "$D/x" --cluster "$SPEC" --token-file "$D/run/token" 2>/dev/null; then
  echo "a plain-TCP client reached a TLS worker"; exit 1
fi
mkdir -p "$D/wrongca" && cp "$D/other/ca.pem" "$D/wrongca/"
if "$SLUICE" run "$D/g.pbtxt" --fetch out --out "$D/x" --cluster "$SPEC" --token-file "$D/run/token" \
     --tls "$D/wrongca" 2>/dev/null; then
  echo "a client trusting another CA accepted the worker"; exit 1
fi
"$SLUICE" cluster status "$SPEC" --run-dir "$D/run" | grep -c ' up ' | grep -qx 2
echo ok
