#!/bin/bash
# sluice cluster with the ssh launcher: an sshd on a loopback port with a
# generated key (../shared/CLUSTERS.md section 2) starts a 3-task cluster.
# Skips (77) where sshd is missing or cannot start.
# Usage: test-cluster-ssh.sh SLUICE
set -eu
SLUICE=$1
[ -x /usr/sbin/sshd ] || { echo "no sshd: skipped"; exit 77; }
S=$(mktemp -d /tmp/sluice-ssh-XXXXXX)
SSHPORT=$(( 22000 + $$ % 1000 ))
P=$(( 40000 + $$ % 20000 ))
SPEC="ps=127.0.0.1:$P;worker=127.0.0.1:$((P+1)),127.0.0.1:$((P+2))"
OPTS=(--ssh-option "-p$SSHPORT" --ssh-option "-i$S/id_ed25519" --ssh-option "-oStrictHostKeyChecking=no"
      --ssh-option "-oUserKnownHostsFile=/dev/null" --ssh-option "-oLogLevel=ERROR" --ssh-option "-oIdentitiesOnly=yes")
cleanup() {
  "$SLUICE" cluster down "$SPEC" --run-dir "$S/run" "${OPTS[@]}" >/dev/null 2>&1 || true
  [ -f "$S/sshd.pid" ] && kill "$(cat "$S/sshd.pid")" 2>/dev/null || true
  rm -rf "$S"
}
trap cleanup EXIT
chmod 700 "$S"
ssh-keygen -q -t ed25519 -N '' -C hostkey -f "$S/ssh_host_ed25519_key"
ssh-keygen -q -t ed25519 -N '' -C client -f "$S/id_ed25519"
cp "$S/id_ed25519.pub" "$S/authorized_keys"
cat > "$S/sshd_config" <<EOC
Port $SSHPORT
ListenAddress 127.0.0.1
HostKey $S/ssh_host_ed25519_key
PidFile $S/sshd.pid
AuthorizedKeysFile $S/authorized_keys
StrictModes no
PermitRootLogin prohibit-password
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
EOC
mkdir -p /run/sshd 2>/dev/null && chmod 0755 /run/sshd 2>/dev/null || true
/usr/sbin/sshd -f "$S/sshd_config" -E "$S/sshd.log" || { echo "sshd did not start: skipped"; exit 77; }
ssh -p "$SSHPORT" -i "$S/id_ed25519" -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null \
    -o LogLevel=ERROR -o BatchMode=yes -o IdentitiesOnly=yes "$(id -un)@127.0.0.1" true \
  || { echo "ssh login to the test sshd failed: skipped"; exit 77; }
"$SLUICE" cluster up "$SPEC" --run-dir "$S/run" --launcher ssh "${OPTS[@]}"
"$SLUICE" cluster status "$SPEC" --run-dir "$S/run" | grep -c ' up ' | grep -qx 3
grep -q 'listening on' "$S/run/logs/worker-1.log"
"$SLUICE" cluster down "$SPEC" --run-dir "$S/run" "${OPTS[@]}"
sleep 0.5
if "$SLUICE" cluster status "$SPEC" --run-dir "$S/run" >/dev/null; then echo "tasks still up after down"; exit 1; fi
echo ok
