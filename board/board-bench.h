/* The benchmark mode of the window (`sluice-board LOGDIR --bench`).
 *
 * Prints, on the monotonic clock (µs, as g_get_monotonic_time() and
 * Python's time.monotonic() give it), when the first chart was drawn with
 * data and when all data was loaded and drawn; then pans the first chart
 * (every run of its tag shown) for 120 frames, one step a frame, and
 * prints the frame times (from the frame clock's before-paint to its
 * after-paint: update, layout and paint) and the peak resident memory;
 * then quits the application.  Lines:
 *
 *   bench first-frame <µs>      (the window's first frame, empty or not)
 *   bench first-chart <µs>
 *   bench loaded <µs> points=<n> runs=<n>
 *   bench frames n=<n> mean_ms=<x> p95_ms=<x> max_ms=<x> lines=<n> points=<n>
 *   bench peak-rss-mb <x>
 *
 * tests/board/bench.sh runs it on a generated logdir.
 */
#pragma once

#include "board-window.h"

G_BEGIN_DECLS

void board_bench_start (BoardWindow *w);

G_END_DECLS
