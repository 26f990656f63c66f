#!/bin/sh
# Installs onnxruntime-node with npm into a cache directory (not the
# repository) and prints that directory; exits 77 when node or npm is
# missing or the install fails (offline), so callers can skip.
#     dir=$(tests/bench/ort-install.sh) || exit $?
# ORT_DIR overrides the cache directory (default ~/.cache/sluice/ort).
dir=${ORT_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/sluice/ort}
command -v node >/dev/null 2>&1 && command -v npm >/dev/null 2>&1 || { echo "node/npm missing" >&2; exit 77; }
if [ ! -f "$dir/node_modules/onnxruntime-node/package.json" ]; then
    mkdir -p "$dir" || exit 77
    # its install script would fetch GPU binaries; the CPU build ships in the package
    (cd "$dir" && [ -f package.json ] || echo '{"private": true}' > package.json) &&
    (cd "$dir" && ONNXRUNTIME_NODE_INSTALL=skip npm install --no-audit --no-fund --loglevel=error onnxruntime-node >&2) ||
        { echo "npm install onnxruntime-node failed" >&2; exit 77; }
fi
node -e "require('$dir/node_modules/onnxruntime-node')" >/dev/null 2>&1 || { echo "onnxruntime-node does not load" >&2; exit 77; }
echo "$dir"
