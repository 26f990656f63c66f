/* The benchmark mode (see the header). */
#include "board-bench.h"

#include <stdio.h>
#include <string.h>

#define PAN_FRAMES 120

typedef struct {
    BoardWindow *w;
    GdkFrameClock *clock;
    gboolean first_done;
    gboolean frame_done;
    gboolean loaded_done;
    int settle;               /* frames to wait after loading */
    guint kick;               /* timeout asking for a frame when none came */
    gint64 last_paint;
    int panned;               /* frames panned so far (-1: not started) */
    gint64 before;
    GArray *frames;           /* double, ms */
    double x0, x1, y0, y1;
} Bench;

static double
peak_rss_mb (void)
{
    char *status = NULL;
    double mb = 0;
    if (g_file_get_contents ("/proc/self/status", &status, NULL, NULL)) {
        const char *hwm = strstr (status, "VmHWM:");
        long kb;
        if (hwm && sscanf (hwm + 6, "%ld", &kb) == 1)
            mb = kb / 1024.0;
        g_free (status);
    }
    return mb;
}

static int
compare_double (gconstpointer a, gconstpointer b)
{
    double x = *(const double *) a, y = *(const double *) b;
    return x < y ? -1 : x > y;
}

static BoardScalarChart *
first_chart (Bench *b)
{
    return board_scalars_view_get_chart (board_window_get_scalars (b->w), NULL);
}

static void
finish (Bench *b)
{
    g_signal_handlers_disconnect_by_data (b->clock, b);
    g_signal_handlers_disconnect_by_data (board_window_get_dataset (b->w), b);
    if (b->kick)
        g_source_remove (b->kick);
    GArray *f = b->frames;
    g_array_sort (f, compare_double);
    double sum = 0;
    for (guint i = 0; i < f->len; i++)
        sum += g_array_index (f, double, i);
    BoardScalarChart *c = first_chart (b);
    GListModel *runs = board_dataset_get_runs (board_window_get_dataset (b->w));
    if (f->len)
        g_print ("bench frames n=%u mean_ms=%.2f p95_ms=%.2f max_ms=%.2f lines=%u points=%"
                 G_GINT64_FORMAT "\n", f->len, sum / f->len,
                 g_array_index (f, double, (guint) (f->len * 0.95)),
                 g_array_index (f, double, f->len - 1), g_list_model_get_n_items (runs),
                 c ? board_scalar_chart_get_point_count (c) : 0);
    g_print ("bench peak-rss-mb %.0f\n", peak_rss_mb ());
    g_array_unref (f);
    GApplication *app = G_APPLICATION (gtk_window_get_application (GTK_WINDOW (b->w)));
    g_free (b);
    g_application_quit (app);
}

static void
on_before_paint (GdkFrameClock *clock, Bench *b)
{
    b->before = g_get_monotonic_time ();
}

static void
on_after_paint (GdkFrameClock *clock, Bench *b)
{
    gint64 now = g_get_monotonic_time ();
    b->last_paint = now;
    BoardDataset *ds = board_window_get_dataset (b->w);
    BoardScalarsView *sv = board_window_get_scalars (b->w);
    if (!b->frame_done) {
        b->frame_done = TRUE;
        g_print ("bench first-frame %" G_GINT64_FORMAT "\n", now);
    }
    if (!b->first_done && board_scalars_view_is_drawn (sv)) {
        b->first_done = TRUE;
        g_print ("bench first-chart %" G_GINT64_FORMAT "\n", now);
    }
    if (!b->loaded_done && board_dataset_is_complete (ds) && b->first_done) {
        b->loaded_done = TRUE;
        g_print ("bench loaded %" G_GINT64_FORMAT " points=%" G_GINT64_FORMAT " runs=%u\n", now,
                 board_dataset_get_point_count (ds),
                 g_list_model_get_n_items (board_dataset_get_runs (ds)));
        b->settle = 10;
        return;
    }
    if (!b->loaded_done)
        return;
    BoardScalarChart *c = first_chart (b);
    if (!c) {
        finish (b);
        return;
    }
    if (b->settle > 0) {
        if (--b->settle == 0) {
            /* zoom to the middle half, then pan it right a little each frame */
            double x0, x1, y0, y1;
            board_scalar_chart_get_range (c, &x0, &x1, &y0, &y1);
            double w = x1 - x0;
            b->x0 = x0 + w * 0.25;
            b->x1 = x0 + w * 0.75;
            b->y0 = y0;
            b->y1 = y1;
            board_scalar_chart_zoom (c, b->x0, b->x1, b->y0, b->y1);
        }
        gtk_widget_queue_draw (GTK_WIDGET (c));
        return;
    }
    if (b->panned >= 0)
        g_array_append_val (b->frames, ((double) { (now - b->before) / 1000.0 }));
    if (++b->panned >= PAN_FRAMES) {
        finish (b);
        return;
    }
    double dx = (b->x1 - b->x0) * 0.004;
    b->x0 += dx;
    b->x1 += dx;
    board_scalar_chart_zoom (c, b->x0, b->x1, b->y0, b->y1);
}

/* The update that completes the first read may bring no points (the
 * loader sent the last ones already): nothing is redrawn then, and the
 * "loaded" frame would never come.  A frame is asked for. */
/* Every 100 ms: when no frame came for 200 ms while one is awaited (the
 * 'loaded' frame, or the next of the settling and panning, which now and
 * then never came: seen on the main branch too), one is asked for. */
static gboolean
kick (gpointer data)
{
    Bench *b = data;
    if (g_get_monotonic_time () - b->last_paint < 200000)
        return G_SOURCE_CONTINUE;
    BoardScalarChart *c = b->loaded_done ? first_chart (b) : NULL;
    gtk_widget_queue_draw (c ? GTK_WIDGET (c) : GTK_WIDGET (b->w));
    return G_SOURCE_CONTINUE;
}

static void
on_dataset_changed (BoardDataset *ds, Bench *b)
{
    if (!b->loaded_done && board_dataset_is_complete (ds)) {
        gtk_widget_queue_draw (GTK_WIDGET (b->w));
        /* and again whenever frames stop until the end */
        if (!b->kick)
            b->kick = g_timeout_add (100, kick, b);
    }
}

static void
on_realize (GtkWidget *widget, Bench *b)
{
    b->clock = gtk_widget_get_frame_clock (widget);
    g_signal_connect (b->clock, "before-paint", G_CALLBACK (on_before_paint), b);
    g_signal_connect_after (b->clock, "after-paint", G_CALLBACK (on_after_paint), b);
}

void
board_bench_start (BoardWindow *w)
{
    Bench *b = g_new0 (Bench, 1);
    b->w = w;
    b->panned = -1;
    b->frames = g_array_new (FALSE, FALSE, sizeof (double));
    g_signal_connect (board_window_get_dataset (w), "changed", G_CALLBACK (on_dataset_changed), b);
    if (gtk_widget_get_realized (GTK_WIDGET (w)))
        on_realize (GTK_WIDGET (w), b);
    else
        g_signal_connect (w, "realize", G_CALLBACK (on_realize), b);
}
