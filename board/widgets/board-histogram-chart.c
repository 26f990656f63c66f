/* Histogram and distribution drawing (see the header). */
#include "board-histogram-chart.h"

#include <math.h>

#include <pango/pangocairo.h>

#include "board-distribution.h"

struct _BoardHistogramChart {
    GtkWidget parent_instance;
    BoardSeries *series;
    char *title;
    guint32 color;
    BoardHistogramMode mode;
};

G_DEFINE_FINAL_TYPE (BoardHistogramChart, board_histogram_chart, GTK_TYPE_WIDGET)

static void
set_rgb (cairo_t *cr, guint32 c, double a)
{
    cairo_set_source_rgba (cr, ((c >> 16) & 0xff) / 255.0, ((c >> 8) & 0xff) / 255.0,
                           (c & 0xff) / 255.0, a);
}

static void
text (cairo_t *cr, PangoLayout *l, const char *s, double x, double y, double ax, double ay)
{
    pango_layout_set_text (l, s, -1);
    int w, h;
    pango_layout_get_pixel_size (l, &w, &h);
    cairo_move_to (cr, x - ax * w, y - ay * h);
    pango_cairo_show_layout (cr, l);
}

void
board_histogram_render (cairo_t *cr, int width, int height, BoardSeries *s, const char *title,
                        guint32 color, BoardHistogramMode mode, const double fg[3])
{
    PangoLayout *l = pango_cairo_create_layout (cr);
    PangoFontDescription *font = pango_font_description_from_string ("Sans 8");
    pango_layout_set_font_description (l, font);
    cairo_set_source_rgb (cr, fg[0], fg[1], fg[2]);
    PangoFontDescription *bold = pango_font_description_from_string ("Sans Bold 9");
    pango_layout_set_font_description (l, bold);
    pango_layout_set_width (l, (width - 16) * PANGO_SCALE);
    pango_layout_set_ellipsize (l, PANGO_ELLIPSIZE_MIDDLE);
    text (cr, l, title, 8, 5, 0, 0);
    pango_layout_set_width (l, -1);
    pango_layout_set_font_description (l, font);
    pango_font_description_free (bold);

    guint n = s ? s->blobs->len : 0;
    double left = 50, right = width - 14, top = 28, bottom = height - 24;
    if (n == 0) {
        text (cr, l, "no data yet", width / 2.0, height / 2.0, 0.5, 0.5);
        goto out;
    }
    /* ranges; histograms are shown, as TB does, rebinned into 30
     * equal-width bins, so TF1's exponential buckets draw evenly */
    enum { BINS = 30 };
    double x0 = INFINITY, x1 = -INFINITY, cmax = 0;
    gint64 s0 = G_MAXINT64, s1 = G_MININT64;
    for (guint i = 0; i < n; i++) {
        BoardBlob *b = g_ptr_array_index (s->blobs, i);
        s0 = MIN (s0, b->step);
        s1 = MAX (s1, b->step);
        for (gint64 k = 0; k < b->n_buckets; k++) {
            x0 = MIN (x0, b->buckets[3 * k]);
            x1 = MAX (x1, b->buckets[3 * k + 1]);
        }
    }
    if (!(x1 > x0)) {
        x0 -= 0.5;
        x1 += 0.5;
    }
    double (*bins)[BINS] = g_malloc0_n (n, sizeof *bins);
    double bw = (x1 - x0) / BINS;
    for (guint i = 0; i < n; i++) {
        BoardBlob *b = g_ptr_array_index (s->blobs, i);
        for (gint64 k = 0; k < b->n_buckets; k++) {
            double bl = b->buckets[3 * k], r = b->buckets[3 * k + 1], c = b->buckets[3 * k + 2];
            int first = CLAMP ((int) ((bl - x0) / bw), 0, BINS - 1);
            int last = CLAMP ((int) ((r - x0) / bw), 0, BINS - 1);
            if (r <= bl || first == last) {
                bins[i][first] += c;
                continue;
            }
            for (int q = first; q <= last; q++) {
                double lo = MAX (bl, x0 + q * bw), hi = MIN (r, x0 + (q + 1) * bw);
                if (hi > lo)
                    bins[i][q] += c * (hi - lo) / (r - bl);
            }
        }
        for (int q = 0; q < BINS; q++)
            cmax = MAX (cmax, bins[i][q]);
    }
    if (cmax <= 0)
        cmax = 1;
    double pw = right - left, ph = bottom - top;
#define PX(v) (left + ((v) - x0) / (x1 - x0) * pw)

    cairo_set_line_width (cr, 1);
    if (mode == BOARD_HISTOGRAM_DISTRIBUTION) {
        /* y = value, x = step; bands between basis points (TB's look) */
        double vlo = x0, vhi = x1;
        double (*q)[BOARD_DISTRIBUTION_BPS] = g_malloc_n (n, sizeof *q);
        for (guint i = 0; i < n; i++) {
            BoardBlob *b = g_ptr_array_index (s->blobs, i);
            board_distribution_compress (b->buckets, (size_t) b->n_buckets, q[i]);
        }
        double span = s1 > s0 ? (double) (s1 - s0) : 1;
#define SX(st) (left + ((double) (st) - s0) / span * pw)
#define VY(v) (bottom - ((v) - vlo) / (vhi - vlo) * ph)
        static const double alpha[4] = { 0.18, 0.3, 0.45, 0.6 };
        for (int band = 0; band < 4; band++) {
            int lo = band, hi = BOARD_DISTRIBUTION_BPS - 1 - band;
            for (guint i = 0; i < n; i++) {
                BoardBlob *b = g_ptr_array_index (s->blobs, i);
                double y = VY (q[i][hi]);
                if (i == 0)
                    cairo_move_to (cr, SX (b->step), y);
                else
                    cairo_line_to (cr, SX (b->step), y);
            }
            for (guint i = n; i > 0; i--) {
                BoardBlob *b = g_ptr_array_index (s->blobs, i - 1);
                cairo_line_to (cr, SX (b->step), VY (q[i - 1][lo]));
            }
            cairo_close_path (cr);
            set_rgb (cr, color, alpha[band]);
            cairo_fill (cr);
        }
        for (guint i = 0; i < n; i++) {   /* the median */
            BoardBlob *b = g_ptr_array_index (s->blobs, i);
            double y = VY (q[i][4]);
            if (i == 0)
                cairo_move_to (cr, SX (b->step), y);
            else
                cairo_line_to (cr, SX (b->step), y);
        }
        set_rgb (cr, color, 1);
        cairo_stroke (cr);
        cairo_set_source_rgba (cr, fg[0], fg[1], fg[2], 0.75);
        char buf[64];
        g_snprintf (buf, sizeof buf, "%.3g", vhi);
        text (cr, l, buf, left - 4, top, 1, 0.5);
        g_snprintf (buf, sizeof buf, "%.3g", vlo);
        text (cr, l, buf, left - 4, bottom, 1, 0.5);
        g_snprintf (buf, sizeof buf, "step %" G_GINT64_FORMAT, s0);
        text (cr, l, buf, left, bottom + 4, 0, 0);
        g_snprintf (buf, sizeof buf, "%" G_GINT64_FORMAT, s1);
        text (cr, l, buf, right, bottom + 4, 1, 0);
        g_free (q);
#undef SX
#undef VY
    } else {
        /* at most 40 steps, evenly picked, newest last (in front) */
        guint shown = MIN (n, 40);
        double ridge = mode == BOARD_HISTOGRAM_OFFSET ? ph * 0.45 : ph;
        double off = mode == BOARD_HISTOGRAM_OFFSET && shown > 1 ? (ph - ridge) / (shown - 1) : 0;
        for (guint k = 0; k < shown; k++) {
            guint i = shown > 1 ? (guint) ((double) k * (n - 1) / (shown - 1)) : n - 1;
            double base = mode == BOARD_HISTOGRAM_OFFSET ? top + ridge + k * off : bottom;
            double age = shown > 1 ? (double) k / (shown - 1) : 1;
            cairo_new_path (cr);
            cairo_move_to (cr, PX (x0), base);
            for (int q = 0; q < BINS; q++)
                cairo_line_to (cr, PX (x0 + (q + 0.5) * bw), base - bins[i][q] / cmax * ridge);
            cairo_line_to (cr, PX (x1), base);
            if (mode == BOARD_HISTOGRAM_OFFSET) {
                cairo_close_path (cr);
                set_rgb (cr, color, 0.15 + 0.55 * age);
                cairo_fill_preserve (cr);
                cairo_set_source_rgba (cr, fg[0], fg[1], fg[2], 0.25 + 0.5 * age);
            } else {
                set_rgb (cr, color, 0.15 + 0.85 * age);
            }
            cairo_stroke (cr);
        }
        cairo_set_source_rgba (cr, fg[0], fg[1], fg[2], 0.75);
        char buf[64];
        g_snprintf (buf, sizeof buf, "%.3g", x0);
        text (cr, l, buf, left, bottom + 4, 0, 0);
        g_snprintf (buf, sizeof buf, "%.3g", x1);
        text (cr, l, buf, right, bottom + 4, 1, 0);
        if (mode == BOARD_HISTOGRAM_OFFSET) {
            BoardBlob *first = g_ptr_array_index (s->blobs, 0);
            BoardBlob *last = g_ptr_array_index (s->blobs, n - 1);
            g_snprintf (buf, sizeof buf, "%" G_GINT64_FORMAT, first->step);
            text (cr, l, buf, left - 4, top + ridge, 1, 0.5);
            g_snprintf (buf, sizeof buf, "%" G_GINT64_FORMAT, last->step);
            text (cr, l, buf, left - 4, bottom, 1, 0.5);
        }
    }
#undef PX
    g_free (bins);
out:
    pango_font_description_free (font);
    g_object_unref (l);
}

static void
board_histogram_chart_snapshot (GtkWidget *w, GtkSnapshot *snapshot)
{
    BoardHistogramChart *c = BOARD_HISTOGRAM_CHART (w);
    int width = gtk_widget_get_width (w), height = gtk_widget_get_height (w);
    GdkRGBA fg;
    G_GNUC_BEGIN_IGNORE_DEPRECATIONS
    gtk_style_context_get_color (gtk_widget_get_style_context (w), &fg);
    G_GNUC_END_IGNORE_DEPRECATIONS
    double f[3] = { fg.red, fg.green, fg.blue };
    cairo_t *cr = gtk_snapshot_append_cairo (snapshot, &GRAPHENE_RECT_INIT (0, 0, width, height));
    board_histogram_render (cr, width, height, c->series, c->title, c->color, c->mode, f);
    cairo_destroy (cr);
}

static void
board_histogram_chart_measure (GtkWidget *w, GtkOrientation o, int for_size, int *min, int *nat,
                               int *mb, int *nb)
{
    *min = o == GTK_ORIENTATION_HORIZONTAL ? 260 : 180;
    *nat = o == GTK_ORIENTATION_HORIZONTAL ? 420 : 260;
}

static void
board_histogram_chart_finalize (GObject *o)
{
    g_free (BOARD_HISTOGRAM_CHART (o)->title);
    G_OBJECT_CLASS (board_histogram_chart_parent_class)->finalize (o);
}

static void
board_histogram_chart_class_init (BoardHistogramChartClass *klass)
{
    G_OBJECT_CLASS (klass)->finalize = board_histogram_chart_finalize;
    GTK_WIDGET_CLASS (klass)->snapshot = board_histogram_chart_snapshot;
    GTK_WIDGET_CLASS (klass)->measure = board_histogram_chart_measure;
}

static void
board_histogram_chart_init (BoardHistogramChart *c)
{
}

GtkWidget *
board_histogram_chart_new (BoardSeries *series, const char *title, guint32 color,
                           BoardHistogramMode mode)
{
    BoardHistogramChart *c = g_object_new (BOARD_TYPE_HISTOGRAM_CHART, NULL);
    c->series = series;
    c->title = g_strdup (title);
    c->color = color;
    c->mode = mode;
    return GTK_WIDGET (c);
}

void
board_histogram_chart_set_mode (BoardHistogramChart *c, BoardHistogramMode mode)
{
    c->mode = mode;
    gtk_widget_queue_draw (GTK_WIDGET (c));
}

void
board_histogram_chart_refresh (BoardHistogramChart *c)
{
    gtk_widget_queue_draw (GTK_WIDGET (c));
}
