#!/bin/sh
# Makes screenshots/studio-*.png: the MNIST MLP template with a node's
# attrs in the inspector, and the same model with a shape error.
# Usage: tests/studio/make-screenshots.sh [BUILD_DIR]
set -eu
cd "$(dirname "$0")/../.."
build=${1:-build}
studio=$build/studio/sluice-studio
helper=$build/tests/studio/test-studio-document
out=screenshots
mkdir -p "$out"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
"$helper" write-mlp "$tmp/mnist_mlp.pbtxt"
"$helper" write-mlp-error "$tmp/mnist_mlp_error.pbtxt"
export GSK_RENDERER=cairo GTK_A11Y=none XDG_DATA_HOME="$tmp/data"
shot() {
    xvfb-run -a -s "-screen 0 1500x940x24 -nolisten tcp" "$studio" "$@"
}
shot "$tmp/mnist_mlp.pbtxt" --select dense/MatMul --zoom 0.85 --size 1500x940 --screenshot "$out/studio-editor.png"
shot "$tmp/mnist_mlp_error.pbtxt" --select dense_1/MatMul --zoom 0.85 --size 1500x940 --screenshot "$out/studio-error.png"
echo "screenshots written to $out/"
