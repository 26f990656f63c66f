#!/bin/sh
# Makes screenshots/studio-*.png:
#   studio-editor.png  the MNIST MLP template with a node's attrs in the inspector
#   studio-error.png   the same model with a shape error
#   studio-large.png   the 549-node fixture graph's first view (scopes collapsed)
#   studio-large-open.png  the same with its first SRU scope opened
#   studio-run.png     a run in progress from the studio (the user-level
#                      train scenario, a long run stopped with Shift+F5)
#   studio-times.png   that run's op times on the nodes (Ctrl+T)
#   studio-cluster.png the training setup on a local cluster (2 workers +
#                      1 ps), studio-cluster-run.png that run's tasks in the
#                      runs panel (the studio-cluster test; needs gRPC)
# The fixture shots need ../shared/fixtures (skipped without it), the run
# shots xdotool and ImageMagick's import.
# Usage: tests/studio/make-screenshots.sh [BUILD_DIR]
set -eu
cd "$(dirname "$0")/../.."
build=${1:-build}
studio=$build/studio/sluice-studio
helper=$build/tests/studio/test-studio-document
fixtures=${FIXTURES:-../shared/fixtures}
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
big=$fixtures/graphs/hello_tf_c_api_sru_frozen_graph.pb
if [ -f "$big" ]; then
    shot "$big" --size 1500x940 --screenshot "$out/studio-large.png"
    shot "$big" --size 1500x940 --expand sru_10 --screenshot "$out/studio-large-open.png"
fi
if command -v xdotool >/dev/null && command -v import >/dev/null; then
    SLUICE=$(cd "$build" && pwd)/dist/sluice MAKE_TRAIN_DATA=$PWD/tests/dist/make-train-data.py STUDIO_USER_SIZE=1500x940 \
    STUDIO_RUN_STEPS=30000 STUDIO_RUN_SCREENSHOT=$PWD/$out/studio-run.png \
    STUDIO_TIMES_SCREENSHOT=$PWD/$out/studio-times.png \
        xvfb-run -a -s "-screen 0 1500x940x24 -nolisten tcp" \
        python3 tests/studio/test-studio-user.py "$studio" "$helper" train
fi
cluster_test=$build/tests/studio/test-studio-cluster
if [ -x "$cluster_test" ]; then
    SLUICE=$(cd "$build" && pwd)/dist/sluice MAKE_TRAIN_DATA=$PWD/tests/dist/make-train-data.py \
    STUDIO_CLUSTER_STEPS=1500 STUDIO_CLUSTER_SCREENSHOT=$PWD/$out/studio-cluster.png \
    STUDIO_CLUSTER_RUN_SCREENSHOT=$PWD/$out/studio-cluster-run.png \
        xvfb-run -a -s "-screen 0 1500x940x24 -nolisten tcp" "$cluster_test" || [ $? = 77 ]
fi
echo "screenshots written to $out/"
