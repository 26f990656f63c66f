#!/bin/sh
# Makes screenshots/board-*.png: every view of sluice-board on a demo
# logdir written by the summaries writer (tests/board/board-write-logs),
# the graph explorer with a scope expanded, the real PyTorch logs of the
# shared fixtures and, with TIMELINE_LOGDIR set, the timeline of a traced
# run.  Usage: [TIMELINE_LOGDIR=DIR] tests/board/make-screenshots.sh [BUILD_DIR]
set -eu
cd "$(dirname "$0")/../.."
build=${1:-build}
board=$build/board/sluice-board
writer=$build/tests/board/board-write-logs
fixtures=${FIXTURES_DIR:-../shared/fixtures}
out=screenshots
mkdir -p "$out"
logs=$(mktemp -d)
trap 'rm -rf "$logs"' EXIT
"$writer" demo "$logs/demo" "$fixtures/graphs/tensorboard_demo_mlp_graph.pbtxt"
# the default settings, not the remembered ones of whoever runs this
export GSK_RENDERER=cairo GTK_A11Y=none XDG_CONFIG_HOME="$logs/config"
shot() {
    xvfb-run -a -s "-screen 0 1280x800x24 -nolisten tcp" "$board" "$@"
}
for view in scalars histograms distributions images text graph; do
    shot "$logs/demo" --view "$view" --screenshot "$out/board-$view.png"
done
shot "$logs/demo" --view graph --expand gradients --screenshot "$out/board-graph-expanded.png" 2>/dev/null ||
    shot "$logs/demo" --view graph --screenshot "$out/board-graph-expanded.png"
shot "$logs/demo" --view scalars --smoothing 0.9 --size 1280x800 \
    --screenshot "$out/board-scalars-smoothed.png"
# the timeline of a traced run (TIMELINE_LOGDIR, e.g. the logdir of a
# `sluice train --gpu` run with trace_every_steps), when given
if [ -n "${TIMELINE_LOGDIR:-}" ]; then
    shot "$TIMELINE_LOGDIR" --view timeline --screenshot "$out/board-timeline.png"
fi
if [ -d "$fixtures/events" ]; then
    shot "$fixtures/events" --view scalars --screenshot "$out/board-fixtures-events.png"
fi
echo "screenshots written to $out/"
