/* The chart renderer alone, without a display: RUNS series of STEPS
 * points shaped like tests/board/bench.py's logdir, smoothed at 0.6,
 * drawn zoomed to the middle half and panned a little each frame, as
 * `sluice-board --bench` does, into a cairo recording surface replayed
 * onto an image (what GTK's cairo node and renderer do).  Prints the
 * median and mean CPU time of a frame's render and of the replay.
 *
 * Usage: bench-chart-render [RUNS STEPS WIDTH HEIGHT FRAMES]
 * Printed, not asserted. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "board-chart-render.h"
#include "board-series.h"

/* CPU time of this thread, µs: steadier than the clock on a machine
 * others load too. */
static gint64
cpu_us (void)
{
    struct timespec ts;
    clock_gettime (CLOCK_THREAD_CPUTIME_ID, &ts);
    return (gint64) ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static int
cmp (const void *a, const void *b)
{
    double x = *(const double *) a, y = *(const double *) b;
    return (x > y) - (x < y);
}

static double
median (double *v, int n)
{
    qsort (v, (size_t) n, sizeof *v, cmp);
    return v[n / 2];
}

int
main (int argc, char **argv)
{
    int runs = argc > 1 ? atoi (argv[1]) : 100;
    int steps = argc > 2 ? atoi (argv[2]) : 10000;
    int width = argc > 3 ? atoi (argv[3]) : 600;
    int height = argc > 4 ? atoi (argv[4]) : 300;
    int frames = argc > 5 ? atoi (argv[5]) : 120;

    BoardSeries **series = g_new (BoardSeries *, runs);
    BoardChartLine *lines = g_new0 (BoardChartLine, runs);
    gint64 *st = g_new (gint64, steps);
    double *wall = g_new (double, steps), *val = g_new (double, steps);
    gint64 t = cpu_us ();
    for (int r = 0; r < runs; r++) {
        for (int s = 0; s < steps; s++) {
            st[s] = s;
            wall[s] = 1.7e9 + s;
            val[s] = (float) (exp (-s / 3000.0) + 0.05 * sin (s * 0.37 + r));
        }
        series[r] = board_series_new ("metrics/tag00", BOARD_KIND_SCALAR, "scalars");
        board_series_append_scalars (series[r], st, wall, val, (size_t) steps);
    }
    gint64 t_append = cpu_us () - t;
    t = cpu_us ();
    for (int r = 0; r < runs; r++) {
        BoardSeries *s = series[r];
        lines[r].x = board_series_x (s, BOARD_X_STEP, 0);
        lines[r].y = board_series_smoothed (s, 0.6);
        lines[r].raw_y = (const double *) s->values->data;
        lines[r].steps = (const double *) s->step_x->data;
        lines[r].n = board_series_count (s);
        lines[r].color = 0x1f77b4 + (guint32) r * 0x050301;
        lines[r].name = "run";
        if (!g_getenv ("BENCH_NO_PYRAMID")) {
            lines[r].y_pyramid = board_series_pyramid (s, lines[r].x, 0, TRUE, 0.6);
            lines[r].raw_pyramid = board_series_pyramid (s, lines[r].x, 0, FALSE, 0);
        }
    }
    gint64 t_smooth = cpu_us () - t;

    BoardChartView view = { 0 };
    view.title = "metrics/tag00";
    view.ignore_outliers = TRUE;
    BoardChartFrame f;
    t = cpu_us ();
    board_chart_compute_frame (lines, (size_t) runs, &view, width, height, &f);
    gint64 t_frame = cpu_us () - t;
    double w = f.x1 - f.x0;
    view.zoomed = TRUE;
    view.vx0 = f.x0 + w * 0.25;
    view.vx1 = f.x0 + w * 0.75;
    view.vy0 = f.y0;
    view.vy1 = f.y1;

    cairo_surface_t *target = cairo_image_surface_create (CAIRO_FORMAT_ARGB32, width, height);
    double *render_ms = g_new (double, frames), *replay_ms = g_new (double, frames);
    size_t drawn = 0;
    for (int i = 0; i < frames; i++) {
        double dx = (view.vx1 - view.vx0) * 0.004;
        view.vx0 += dx;
        view.vx1 += dx;
        board_chart_compute_frame (lines, (size_t) runs, &view, width, height, &f);
        cairo_rectangle_t extents = { 0, 0, width, height };
        cairo_surface_t *rec = cairo_recording_surface_create (CAIRO_CONTENT_COLOR_ALPHA, &extents);
        cairo_t *cr = cairo_create (rec);
        gint64 a = cpu_us ();
        drawn = board_chart_render (cr, width, height, lines, (size_t) runs, &view, &f);
        cairo_destroy (cr);
        gint64 b = cpu_us ();
        cairo_t *tc = cairo_create (target);
        cairo_set_source_rgb (tc, 1, 1, 1);
        cairo_paint (tc);
        cairo_set_source_surface (tc, rec, 0, 0);
        cairo_paint (tc);
        cairo_destroy (tc);
        cairo_surface_flush (target);
        gint64 c = cpu_us ();
        cairo_surface_destroy (rec);
        render_ms[i] = (b - a) / 1000.0;
        replay_ms[i] = (c - b) / 1000.0;
    }
    double sr = 0, sp = 0;
    for (int i = 0; i < frames; i++) {
        sr += render_ms[i];
        sp += replay_ms[i];
    }
    printf ("%d runs x %d steps, %dx%d, %d frames, %zu points drawn\n", runs, steps, width, height,
            frames, drawn);
    printf ("append %.1f ms, smooth %.1f ms, unzoomed frame %.2f ms\n", t_append / 1e3,
            t_smooth / 1e3, t_frame / 1e3);
    printf ("render median %.2f ms mean %.2f ms; replay median %.2f ms mean %.2f ms\n",
            median (render_ms, frames), sr / frames, median (replay_ms, frames), sp / frames);
    if (g_getenv ("BENCH_CHART_PNG"))
        cairo_surface_write_to_png (target, g_getenv ("BENCH_CHART_PNG"));
    cairo_surface_destroy (target);
    for (int r = 0; r < runs; r++)
        board_series_free (series[r]);
    return 0;
}
