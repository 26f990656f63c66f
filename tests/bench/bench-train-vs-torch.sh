#!/bin/sh
# Training examples/s of the MNIST models of examples/build-mnist.c through
# the engine's session (bench-model) against PyTorch 1.13 (model_torch.py,
# /usr/bin/python3) on the same machine, in the same run, interleaved
# config by config, at 1 and 2 threads:
#   MLP 784-512-512-10 (dropout 0.2) at batch 64 and 256, the Deep MNIST
#   CNN at batch 64; Adam lr 1e-3 (the runspecs' optimizer; OPT=momentum
#   for momentum SGD), dropout on, random data.
# PyTorch is configured per ../shared/PEERS.md: OMP/OpenBLAS/torch threads
# = N; at 2 threads OMP_WAIT_POLICY=PASSIVE for the MLP and OpenBLAS at one
# thread for the CNN (its best configurations); channels_last for the CNN.
# Prints each measurement, then per config the medians and their ratio.
#
#     tests/bench/bench-train-vs-torch.sh [BUILD_DIR]   (ROUNDS=5 SECS=2 OPT=adam)
# Exits 77 when /usr/bin/python3 has no torch.
set -eu
. "$(dirname "$0")/bench-env.sh"
opt=${OPT:-adam}
py=/usr/bin/python3
"$py" -c 'import torch' 2>/dev/null || { echo "torch missing: skipped"; exit 77; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
"$build/examples/build-mnist" mlp "$tmp/mlp.pb" >/dev/null
"$build/examples/build-mnist" cnn "$tmp/cnn.pb" >/dev/null
: > "$tmp/res"
echo "# OpenBLAS core: ${OPENBLAS_CORETYPE:-auto-selected}; load: $(cut -d' ' -f1-3 /proc/loadavg); $rounds rounds, ${secs}s per measurement, optimizer $opt"
r=1
while [ "$r" -le "$rounds" ]; do
    for t in 1 2; do
        for c in mlp:64 mlp:256 cnn:64; do
            m=${c%:*} b=${c#*:}
            s=$("$build/tests/bench/bench-model" "$tmp/$m.pb" train "$b" "$t" "$secs" "$opt" | awk '{print $2, $4}')
            extra=""
            if [ "$t" = 2 ]; then
                if [ "$m" = mlp ]; then extra="--passive"; else extra="--openblas 1"; fi
            fi
            # shellcheck disable=SC2086
            p=$("$py" "$here/model_torch.py" --threads "$t" $extra --seconds "$secs" --opt "$opt" "$c" | awk '{print $4, $5}')
            echo "round $r threads $t $m batch $b: sluice $s torch $p (examples/s, per CPU-second)"
            echo "$t $m $b $s $p" >> "$tmp/res"
        done
    done
    r=$((r + 1))
done
"$py" - "$tmp/res" <<'PY'
import statistics, sys
rows = {}
for line in open(sys.argv[1]):
    t, m, b, s, sc, p, pc = line.split()
    rows.setdefault((int(t), m, int(b)), []).append(tuple(map(float, (s, p, sc, pc))))
print("train, medians         threads  sluice ex/s  torch ex/s  ratio | per CPU-second: sluice  torch  ratio")
for (t, m, b), v in sorted(rows.items(), key=lambda kv: (kv[0][1], kv[0][2], kv[0][0])):
    s, p, sc, pc = (statistics.median(r[i] for r in v) for i in range(4))
    print("%-4s batch %-4d        %d  %11.0f  %10.0f  %4.2fx |         %7.0f  %6.0f  %4.2fx"
          % (m, b, t, s, p, s / p, sc, pc, sc / pc))
PY
