/* The timeline chart (see the header).  Drawn with cairo on a light
 * canvas in both themes, like the graph view, so the op colors read the
 * same everywhere. */
#include "board-timeline-chart.h"

#include <math.h>
#include <string.h>

#include <pango/pangocairo.h>

#define AXIS_H 28.0       /* the time axis on top */
#define LANE_PAD 4.0      /* above and below a lane's rows */
#define ROW_MIN 16.0
#define ROW_MAX 34.0
#define RIGHT_PAD 16.0
#define LEGEND_ROW 20.0
#define LEGEND_MAX 16
#define XFER_SHARE 0.6    /* a row of waiting copies, as a share of a kernel row */
#define TABLE_ROW 18.0    /* the list of the longest kernels under the lanes */
#define TABLE_MAX 40

typedef struct {
    char *op;
    double total_us;
    int count;
    gboolean transfer;
} LegendItem;

struct _BoardTimelineChart {
    GtkWidget parent_instance;
    BoardTimelineStep *step;
    char *message;
    double t0, t1;             /* shown range, µs */
    double scroll_y;           /* lanes scrolled up by this many pixels */
    /* layout of the last draw (or of layout_for) */
    double width, height;
    double label_w;
    double row_h;
    double lanes_top, lanes_bottom;
    double content_h;
    double legend_top;
    double *lane_y;            /* per lane: top, in content coordinates */
    double *lane_h;
    GArray *legend;            /* LegendItem, most time first */
    GArray *longest;           /* int: kernels by duration, longest first (TABLE_MAX at most) */
    double table_top;          /* the list's header, when it is shown */
    int table_rows;            /* rows shown (0: no list) */
    /* interaction */
    int hover;
    double pointer_x, pointer_y;
    gboolean dragging, selecting;
    double drag_x0, drag_y0, drag_t0, drag_t1, drag_scroll;
    double sel_x0, sel_x1;
};

G_DEFINE_FINAL_TYPE (BoardTimelineChart, board_timeline_chart, GTK_TYPE_WIDGET)

static double row_top (BoardTimelineChart *c, const BoardTimelineLane *l, int row);

static void
rgb (cairo_t *cr, guint32 c, double a)
{
    cairo_set_source_rgba (cr, ((c >> 16) & 0xff) / 255.0, ((c >> 8) & 0xff) / 255.0,
                           (c & 0xff) / 255.0, a);
}

static guint32
darker (guint32 c, double f)
{
    guint32 r = (guint32) (((c >> 16) & 0xff) * f), g = (guint32) (((c >> 8) & 0xff) * f),
            b = (guint32) ((c & 0xff) * f);
    return (r << 16) | (g << 8) | b;
}

static const BoardTimelineNode *
node_ref (BoardTimelineChart *c, int i)
{
    return &g_array_index (c->step->nodes, BoardTimelineNode, i);
}

/* ---- layout ---- */

static double
plot_x0 (BoardTimelineChart *c)
{
    return c->label_w;
}

static double
plot_x1 (BoardTimelineChart *c)
{
    return MAX (c->label_w + 10, c->width - RIGHT_PAD);
}

static double
t_to_x (BoardTimelineChart *c, double t)
{
    double span = MAX (c->t1 - c->t0, 1e-9);
    return plot_x0 (c) + (t - c->t0) / span * (plot_x1 (c) - plot_x0 (c));
}

static double
x_to_t (BoardTimelineChart *c, double x)
{
    double w = MAX (plot_x1 (c) - plot_x0 (c), 1);
    return c->t0 + (x - plot_x0 (c)) / w * (c->t1 - c->t0);
}

static PangoLayout *
make_layout (BoardTimelineChart *c, const char *font)
{
    PangoLayout *l = gtk_widget_create_pango_layout (GTK_WIDGET (c), NULL);
    PangoFontDescription *fd = pango_font_description_from_string (font);
    pango_layout_set_font_description (l, fd);
    pango_font_description_free (fd);
    return l;
}

/* Lays the legend out in rows within the plot's width; returns the rows. */
static int
legend_rows (BoardTimelineChart *c, PangoLayout *pl, double width, double *item_x, int *item_row)
{
    if (!c->legend || c->legend->len == 0)
        return 0;
    double x = 12, avail = width - 12;
    int row = 0;
    for (guint i = 0; i < c->legend->len; i++) {
        LegendItem *it = &g_array_index (c->legend, LegendItem, i);
        char *d = it->transfer ? g_strdup_printf ("\u00d7%d", it->count)
                               : board_timeline_format_us (it->total_us);
        char *t = g_strdup_printf ("%s %s", it->transfer ? "copies (_Send/_Recv)" : it->op, d);
        pango_layout_set_text (pl, t, -1);
        int tw, th;
        pango_layout_get_pixel_size (pl, &tw, &th);
        g_free (t);
        g_free (d);
        double w = 16 + tw + 18;
        if (x + w > avail && x > 12) {
            row++;
            x = 12;
        }
        if (row >= 2) {   /* two rows at most */
            for (guint k = i; k < c->legend->len; k++)
                item_row[k] = -1;
            return 2;
        }
        item_x[i] = x;
        item_row[i] = row;
        x += w;
    }
    return row + 1;
}

static void
compute_layout (BoardTimelineChart *c, double width, double height)
{
    c->width = width;
    c->height = height;
    g_clear_pointer (&c->lane_y, g_free);
    g_clear_pointer (&c->lane_h, g_free);
    if (!c->step)
        return;
    PangoLayout *pl = make_layout (c, "Sans Bold 9");
    int maxw = 0;
    for (guint i = 0; i < c->step->lanes->len; i++) {
        BoardTimelineLane *l = g_ptr_array_index (c->step->lanes, i);
        int tw, th;
        pango_layout_set_text (pl, l->label, -1);
        pango_layout_get_pixel_size (pl, &tw, &th);
        maxw = MAX (maxw, tw);
    }
    g_object_unref (pl);
    c->label_w = CLAMP (maxw + 24, 80, MAX (80, width * 0.3));

    pl = make_layout (c, "Sans 8");
    double *ix = g_new0 (double, c->legend ? c->legend->len + 1 : 1);
    int *ir = g_new0 (int, c->legend ? c->legend->len + 1 : 1);
    int rows = legend_rows (c, pl, width, ix, ir);
    g_free (ix);
    g_free (ir);
    g_object_unref (pl);
    double legend_h = rows ? rows * LEGEND_ROW + 10 : 0;

    c->lanes_top = AXIS_H + 2;
    c->lanes_bottom = MAX (c->lanes_top + 20, height - legend_h);
    c->legend_top = c->lanes_bottom;
    guint nl = c->step->lanes->len;
    double units = 0;
    for (guint i = 0; i < nl; i++) {
        BoardTimelineLane *l = g_ptr_array_index (c->step->lanes, i);
        units += l->n_compute_rows + (l->n_rows - l->n_compute_rows) * XFER_SHARE;
    }
    double avail = c->lanes_bottom - c->lanes_top - nl * 2 * LANE_PAD;
    c->row_h = CLAMP (floor (avail / MAX (units, 1)), ROW_MIN, ROW_MAX);
    c->lane_y = g_new (double, nl);
    c->lane_h = g_new (double, nl);
    double y = 0;
    for (guint i = 0; i < nl; i++) {
        BoardTimelineLane *l = g_ptr_array_index (c->step->lanes, i);
        c->lane_y[i] = y;
        c->lane_h[i] = MAX (row_top (c, l, l->n_rows), c->row_h) + 2 * LANE_PAD;
        y += c->lane_h[i];
    }
    c->content_h = y;
    double max_scroll = MAX (0, c->content_h - (c->lanes_bottom - c->lanes_top));
    c->scroll_y = CLAMP (c->scroll_y, 0, max_scroll);
    /* the room the lanes leave holds the longest kernels */
    c->table_rows = 0;
    if (max_scroll == 0 && c->longest) {
        c->table_top = c->lanes_top + c->content_h + 10;
        int fit = (int) floor ((c->legend_top - c->table_top - 24 - 6) / TABLE_ROW);
        if (fit >= 3)
            c->table_rows = MIN (fit, (int) c->longest->len);
    }
}

static void
ensure_layout (BoardTimelineChart *c)
{
    double w = gtk_widget_get_width (GTK_WIDGET (c)), h = gtk_widget_get_height (GTK_WIDGET (c));
    if (w != c->width || h != c->height || (c->step && !c->lane_y))
        compute_layout (c, w, h);
}

static double
lane_screen_y (BoardTimelineChart *c, int lane)
{
    return c->lanes_top + c->lane_y[lane] - c->scroll_y;
}

/* Rows of copies waiting beside the kernels are lower than kernel rows. */
static double
xfer_h (BoardTimelineChart *c)
{
    return MAX (12, round (c->row_h * XFER_SHARE));
}

static double
row_top (BoardTimelineChart *c, const BoardTimelineLane *l, int row)
{
    int nc = l->n_compute_rows;
    return row < nc ? row * c->row_h : nc * c->row_h + (row - nc) * xfer_h (c);
}

static double
row_height (BoardTimelineChart *c, const BoardTimelineLane *l, int row)
{
    return row < l->n_compute_rows ? c->row_h : xfer_h (c);
}

/* ---- range ---- */

static void
full_range (BoardTimelineChart *c, double *a, double *b)
{
    double span = c->step ? MAX (c->step->span_us, 1) : 1;
    *a = 0;
    *b = span * 1.01;
}

static void
clamp_range (BoardTimelineChart *c)
{
    double a, b;
    full_range (c, &a, &b);
    double full = b - a;
    double min_w = MAX (full * 1e-6, 0.05);
    double w = c->t1 - c->t0;
    if (!(w >= min_w)) {
        double mid = (c->t0 + c->t1) / 2;
        if (!isfinite (mid))
            mid = (a + b) / 2;
        c->t0 = mid - min_w / 2;
        c->t1 = mid + min_w / 2;
        w = min_w;
    }
    if (w > full * 1.2) {
        c->t0 = a;
        c->t1 = b;
        return;
    }
    /* keep some of the step in view */
    double lo = a - full * 0.1, hi = b + full * 0.1;
    if (c->t0 < lo) {
        c->t1 += lo - c->t0;
        c->t0 = lo;
    }
    if (c->t1 > hi) {
        c->t0 -= c->t1 - hi;
        c->t1 = hi;
    }
}

void
board_timeline_chart_reset (BoardTimelineChart *c)
{
    full_range (c, &c->t0, &c->t1);
    c->scroll_y = 0;
    gtk_widget_queue_draw (GTK_WIDGET (c));
}

void
board_timeline_chart_get_range (BoardTimelineChart *c, double *t0, double *t1)
{
    if (t0)
        *t0 = c->t0;
    if (t1)
        *t1 = c->t1;
}

void
board_timeline_chart_set_range (BoardTimelineChart *c, double t0, double t1)
{
    c->t0 = MIN (t0, t1);
    c->t1 = MAX (t0, t1);
    clamp_range (c);
    gtk_widget_queue_draw (GTK_WIDGET (c));
}

static void
zoom_at (BoardTimelineChart *c, double x, double factor)
{
    double t = x_to_t (c, CLAMP (x, plot_x0 (c), plot_x1 (c)));
    c->t0 = t - (t - c->t0) * factor;
    c->t1 = t + (c->t1 - t) * factor;
    clamp_range (c);
    gtk_widget_queue_draw (GTK_WIDGET (c));
}

static void
pan_px (BoardTimelineChart *c, double dx)
{
    double dt = dx / MAX (plot_x1 (c) - plot_x0 (c), 1) * (c->t1 - c->t0);
    c->t0 += dt;
    c->t1 += dt;
    clamp_range (c);
    gtk_widget_queue_draw (GTK_WIDGET (c));
}

static void
scroll_px (BoardTimelineChart *c, double dy)
{
    double max_scroll = MAX (0, c->content_h - (c->lanes_bottom - c->lanes_top));
    c->scroll_y = CLAMP (c->scroll_y + dy, 0, max_scroll);
    gtk_widget_queue_draw (GTK_WIDGET (c));
}

/* ---- legend ---- */

static int
legend_cmp (gconstpointer a, gconstpointer b)
{
    const LegendItem *x = a, *y = b;
    /* copies last: their time is mostly waiting */
    if (x->transfer != y->transfer)
        return x->transfer ? 1 : -1;
    if (x->total_us != y->total_us)
        return x->total_us > y->total_us ? -1 : 1;
    return g_strcmp0 (x->op, y->op);
}

static void
legend_clear (gpointer p)
{
    g_free (((LegendItem *) p)->op);
}

static const BoardTimelineStep *sort_step;

static int
longest_cmp (gconstpointer a, gconstpointer b)
{
    const BoardTimelineNode *x = &g_array_index (sort_step->nodes, BoardTimelineNode, *(const int *) a);
    const BoardTimelineNode *y = &g_array_index (sort_step->nodes, BoardTimelineNode, *(const int *) b);
    if (x->dur_us != y->dur_us)
        return x->dur_us > y->dur_us ? -1 : 1;
    return strcmp (x->name, y->name);
}

static void
build_longest (BoardTimelineChart *c)
{
    g_clear_pointer (&c->longest, g_array_unref);
    if (!c->step)
        return;
    c->longest = g_array_new (FALSE, FALSE, sizeof (int));
    for (guint i = 0; i < c->step->nodes->len; i++)
        if (!g_array_index (c->step->nodes, BoardTimelineNode, i).transfer) {
            int k = (int) i;
            g_array_append_val (c->longest, k);
        }
    sort_step = c->step;   /* main thread only */
    g_array_sort (c->longest, longest_cmp);
    sort_step = NULL;
    if (c->longest->len > TABLE_MAX)
        g_array_set_size (c->longest, TABLE_MAX);
}

static void
build_legend (BoardTimelineChart *c)
{
    g_clear_pointer (&c->legend, g_array_unref);
    build_longest (c);
    if (!c->step)
        return;
    GHashTable *by_op = g_hash_table_new (g_str_hash, g_str_equal);
    GArray *items = g_array_new (FALSE, TRUE, sizeof (LegendItem));
    g_array_set_clear_func (items, legend_clear);
    for (guint i = 0; i < c->step->nodes->len; i++) {
        const BoardTimelineNode *n = node_ref (c, (int) i);
        const char *key = n->transfer ? "\x01transfer" : *n->op ? n->op : "(unknown op)";
        gpointer v;
        guint k;
        if (g_hash_table_lookup_extended (by_op, key, NULL, &v)) {
            k = GPOINTER_TO_UINT (v);
        } else {
            LegendItem it = { g_strdup (n->transfer ? "_Send/_Recv" : *n->op ? n->op : "(unknown op)"),
                              0, 0, n->transfer };
            k = items->len;
            g_array_append_val (items, it);
            g_hash_table_insert (by_op, (gpointer) key, GUINT_TO_POINTER (k));
        }
        LegendItem *it = &g_array_index (items, LegendItem, k);
        it->total_us += n->dur_us;
        it->count++;
    }
    g_hash_table_unref (by_op);
    g_array_sort (items, legend_cmp);
    if (items->len > LEGEND_MAX)
        g_array_set_size (items, LEGEND_MAX);
    c->legend = items;
}

/* ---- public ---- */

void
board_timeline_chart_zoom_to_node (BoardTimelineChart *c, int node)
{
    if (!c->step || node < 0 || (guint) node >= c->step->nodes->len)
        return;
    const BoardTimelineNode *n = node_ref (c, node);
    double pad = MAX (n->dur_us * 0.6, MAX (c->step->span_us * 0.002, 1));
    c->t0 = n->start_us - pad;
    c->t1 = n->start_us + n->dur_us + pad;
    clamp_range (c);
    /* the node's lane on screen */
    ensure_layout (c);
    double y = c->lane_y[n->lane], view_h = c->lanes_bottom - c->lanes_top;
    if (y < c->scroll_y || y + c->lane_h[n->lane] > c->scroll_y + view_h)
        scroll_px (c, y - c->scroll_y - view_h / 3);
    c->hover = node;
    gtk_widget_queue_draw (GTK_WIDGET (c));
}

void
board_timeline_chart_set_step (BoardTimelineChart *c, BoardTimelineStep *step, gboolean keep_range)
{
    double t0 = c->t0, t1 = c->t1;
    gboolean had = c->step != NULL;
    board_timeline_step_free (c->step);
    c->step = step;
    c->hover = -1;
    g_clear_pointer (&c->message, g_free);
    build_legend (c);
    c->width = c->height = -1;   /* lay out again */
    g_clear_pointer (&c->lane_y, g_free);
    if (keep_range && had && step && t1 > t0 && t0 < step->span_us) {
        c->t0 = t0;
        c->t1 = t1;
        clamp_range (c);
    } else {
        board_timeline_chart_reset (c);
    }
    gtk_widget_queue_draw (GTK_WIDGET (c));
}

void
board_timeline_chart_set_message (BoardTimelineChart *c, const char *message)
{
    board_timeline_step_free (c->step);
    c->step = NULL;
    c->hover = -1;
    build_legend (c);
    g_free (c->message);
    c->message = g_strdup (message);
    gtk_widget_queue_draw (GTK_WIDGET (c));
}

const BoardTimelineStep *
board_timeline_chart_get_step (BoardTimelineChart *c)
{
    return c->step;
}

/* The row of the longest kernels' list under (x, y), or -1. */
static int
table_row_at (BoardTimelineChart *c, double x, double y)
{
    if (c->table_rows <= 0 || x < 8 || x > c->width - 8)
        return -1;
    double top = c->table_top + 24;
    if (y < top || y >= top + c->table_rows * TABLE_ROW)
        return -1;
    return (int) ((y - top) / TABLE_ROW);
}

int
board_timeline_chart_node_at (BoardTimelineChart *c, double x, double y)
{
    if (!c->step)
        return -1;
    ensure_layout (c);
    int tr = table_row_at (c, x, y);
    if (tr >= 0)
        return g_array_index (c->longest, int, tr);
    if (x < plot_x0 (c) || x > plot_x1 (c) || y < c->lanes_top || y > c->lanes_bottom)
        return -1;
    for (guint i = 0; i < c->step->lanes->len; i++) {
        double top = lane_screen_y (c, (int) i) + LANE_PAD;
        BoardTimelineLane *l = g_ptr_array_index (c->step->lanes, i);
        if (y < top || y >= top + row_top (c, l, l->n_rows))
            continue;
        int row = 0;
        while (row + 1 < l->n_rows && y >= top + row_top (c, l, row + 1))
            row++;
        double px = (c->t1 - c->t0) / MAX (plot_x1 (c) - plot_x0 (c), 1);   /* µs per pixel */
        return board_timeline_step_node_at (c->step, (int) i, row, x_to_t (c, x), 3 * px);
    }
    return -1;
}

int
board_timeline_chart_get_hover (BoardTimelineChart *c)
{
    return c->step ? c->hover : -1;
}

gboolean
board_timeline_chart_get_lane_rect (BoardTimelineChart *c, int lane, graphene_rect_t *r)
{
    if (!c->step || lane < 0 || (guint) lane >= c->step->lanes->len)
        return FALSE;
    ensure_layout (c);
    double y = lane_screen_y (c, lane);
    if (y + c->lane_h[lane] <= c->lanes_top || y >= c->lanes_bottom)
        return FALSE;
    graphene_rect_init (r, 0, (float) y, (float) plot_x1 (c), (float) c->lane_h[lane]);
    return TRUE;
}

gboolean
board_timeline_chart_get_node_rect (BoardTimelineChart *c, int node, graphene_rect_t *r)
{
    if (!c->step || node < 0 || (guint) node >= c->step->nodes->len)
        return FALSE;
    ensure_layout (c);
    const BoardTimelineNode *n = node_ref (c, node);
    double x0 = MAX (t_to_x (c, n->start_us), plot_x0 (c));
    double x1 = MIN (t_to_x (c, n->start_us + n->dur_us), plot_x1 (c));
    if (x1 < x0 && x0 <= plot_x1 (c))
        x1 = x0;   /* zero width: still a point */
    if (x1 < x0)
        return FALSE;
    x1 = MAX (x1, x0 + 1);
    const BoardTimelineLane *l = g_ptr_array_index (c->step->lanes, n->lane);
    double y = lane_screen_y (c, n->lane) + LANE_PAD + row_top (c, l, n->row) + 1;
    double h = row_height (c, l, n->row) - 2;
    if (y + h <= c->lanes_top || y >= c->lanes_bottom)
        return FALSE;
    graphene_rect_init (r, (float) x0, (float) y, (float) (x1 - x0), (float) h);
    return TRUE;
}

static char *
format_bytes (gint64 b)
{
    return g_format_size_full ((guint64) b, G_FORMAT_SIZE_IEC_UNITS);
}

char *
board_timeline_chart_describe_node (BoardTimelineChart *c, int node)
{
    if (!c->step || node < 0 || (guint) node >= c->step->nodes->len)
        return g_strdup ("");
    const BoardTimelineNode *n = node_ref (c, node);
    const BoardTimelineLane *l = g_ptr_array_index (c->step->lanes, n->lane);
    GString *s = g_string_new (NULL);
    g_string_append_printf (s, "%s\n", n->name);
    g_string_append_printf (s, "op: %s%s\n", *n->op ? n->op : "(unknown)",
                            n->transfer ? " (a copy between devices)" : "");
    g_string_append_printf (s, "device: %s\n", l->device);
    g_string_append_printf (s, "thread: %u%s%s%s\n", n->thread, l->thread_name ? " (" : "",
                            l->thread_name ? l->thread_name : "", l->thread_name ? ")" : "");
    char *st = board_timeline_format_us (n->start_us), *du = board_timeline_format_us (n->dur_us);
    g_string_append_printf (s, "start: +%s\n", st);
    g_string_append_printf (s, "duration: %s", du);
    g_free (st);
    g_free (du);
    if (n->op_end_us > n->op_start_us && (n->op_start_us > 0 || n->op_end_us < n->dur_us)) {
        char *od = board_timeline_format_us (n->op_end_us - n->op_start_us);
        g_string_append_printf (s, " (compute %s)", od);
        g_free (od);
    }
    if (n->output_bytes > 0) {
        char *b = format_bytes (n->output_bytes);
        g_string_append_printf (s, "\noutputs: %s", b);
        g_free (b);
    }
    if (n->peak_bytes > 0) {
        char *b = format_bytes (n->peak_bytes);
        g_string_append_printf (s, "\npeak memory: %s", b);
        g_free (b);
    }
    if (*n->label && strcmp (n->label, n->name) != 0)
        g_string_append_printf (s, "\nlabel: %s", n->label);
    return g_string_free (s, FALSE);
}

/* ---- drawing ---- */

/* A tick step of 1, 2 or 5 times a power of ten for about `n` ticks. */
static double
nice_step (double range, double n)
{
    double raw = range / MAX (n, 1);
    double p = pow (10, floor (log10 (raw)));
    double m = raw / p;
    return (m < 1.5 ? 1 : m < 3.5 ? 2 : m < 7.5 ? 5 : 10) * p;
}

/* A tick's label, with as many decimals as the step needs, in the unit
 * the step suggests. */
static char *
tick_label (double t, double step)
{
    const char *unit = "\u00b5s";
    double div = 1;
    if (step >= 1e5) {
        unit = step >= 1e6 || fabs (t) >= 1e7 ? "s" : "ms";
        div = g_str_equal (unit, "s") ? 1e6 : 1e3;
    } else if (step >= 100) {
        unit = "ms";
        div = 1e3;
    }
    double s = step / div;
    int dec = s >= 1 ? 0 : (int) ceil (-log10 (s) - 1e-9);
    if (fabs (t) < step * 1e-6)
        return g_strdup ("0");
    return g_strdup_printf ("%.*f %s", CLAMP (dec, 0, 6), t / div, unit);
}

static void
hatch (cairo_t *cr, double x, double y, double w, double h, guint32 color)
{
    cairo_save (cr);
    cairo_rectangle (cr, x, y, w, h);
    cairo_clip (cr);
    rgb (cr, color, 0.9);
    cairo_set_line_width (cr, 1.2);
    for (double k = x - h; k < x + w; k += 5) {
        cairo_move_to (cr, k, y + h);
        cairo_line_to (cr, k + h, y);
    }
    cairo_stroke (cr);
    cairo_restore (cr);
}

static const char *
base_name (const char *name)
{
    const char *s = strrchr (name, '/');
    return s && s[1] ? s + 1 : name;
}

/* Draws node i's bar unless it ends before `painted_to` (a pixel its row
 * already painted: a big step at full view has thousands of bars per
 * pixel column); returns how far its row is now painted. */
static double
draw_bar (BoardTimelineChart *c, cairo_t *cr, PangoLayout *pl, int i, double clip_x0,
          double clip_x1, double painted_to)
{
    const BoardTimelineNode *n = node_ref (c, i);
    double x0 = t_to_x (c, n->start_us), x1 = t_to_x (c, n->start_us + n->dur_us);
    if (x1 < clip_x0 || x0 > clip_x1)
        return painted_to;
    if (x1 < painted_to && i != c->hover)
        return painted_to;
    double painted = MAX (painted_to, MAX (x1, x0 + 1));
    const BoardTimelineLane *l = g_ptr_array_index (c->step->lanes, n->lane);
    double y = lane_screen_y (c, n->lane) + LANE_PAD + row_top (c, l, n->row) + 1;
    double h = row_height (c, l, n->row) - 2;
    if (y + h < c->lanes_top || y > c->lanes_bottom)
        return painted;
    x0 = MAX (x0, clip_x0 - 2);
    x1 = MIN (x1, clip_x1 + 2);
    double w = MAX (x1 - x0, 1.0);
    guint32 fill = board_timeline_op_color (n->op);
    if (n->transfer) {
        rgb (cr, 0xe4e7ec, 1);
        cairo_rectangle (cr, x0, y, w, h);
        cairo_fill (cr);
        hatch (cr, x0, y, w, h, 0x8a94a6);
        if (w > 2) {
            rgb (cr, 0x5b6577, 1);
            cairo_set_line_width (cr, 1);
            cairo_rectangle (cr, x0 + 0.5, y + 0.5, w - 1, h - 1);
            cairo_stroke (cr);
        }
    } else {
        rgb (cr, fill, 1);
        cairo_rectangle (cr, x0, y, w, h);
        cairo_fill (cr);
        if (w > 3) {
            rgb (cr, darker (fill, 0.6), 1);
            cairo_set_line_width (cr, 1);
            cairo_rectangle (cr, x0 + 0.5, y + 0.5, w - 1, h - 1);
            cairo_stroke (cr);
        }
    }
    if (i == c->hover) {
        cairo_set_source_rgb (cr, 0.05, 0.05, 0.05);
        cairo_set_line_width (cr, 2);
        cairo_rectangle (cr, x0 - 1, y - 1, w + 2, h + 2);
        cairo_stroke (cr);
    }
    /* a name inside when one fits: the node's, its last part, its op */
    if (w < 24 || h < 11)
        return painted;
    const char *cands[] = { n->name, base_name (n->name), n->op };
    for (int k = 0; k < 3; k++) {
        if (!cands[k] || !*cands[k])
            continue;
        pango_layout_set_text (pl, cands[k], -1);
        int tw, th;
        pango_layout_get_pixel_size (pl, &tw, &th);
        if (tw + 6 <= w) {
            cairo_save (cr);
            cairo_rectangle (cr, x0, y, w, h);
            cairo_clip (cr);
            cairo_set_source_rgb (cr, 0.1, 0.1, 0.12);
            double tx = MAX (x0, clip_x0) + 3;
            if (tx + tw > x0 + w - 3)
                tx = x0 + 3;
            cairo_move_to (cr, tx, y + (h - th) / 2);
            pango_cairo_show_layout (cr, pl);
            cairo_restore (cr);
            break;
        }
    }
    return painted;
}

static void
draw_legend (BoardTimelineChart *c, cairo_t *cr, PangoLayout *pl)
{
    if (!c->legend || c->legend->len == 0)
        return;
    double *ix = g_new0 (double, c->legend->len);
    int *ir = g_new0 (int, c->legend->len);
    legend_rows (c, pl, c->width, ix, ir);
    cairo_set_source_rgb (cr, 0.8, 0.8, 0.8);
    cairo_set_line_width (cr, 1);
    cairo_move_to (cr, 0, c->legend_top + 0.5);
    cairo_line_to (cr, c->width, c->legend_top + 0.5);
    cairo_stroke (cr);
    for (guint i = 0; i < c->legend->len; i++) {
        if (ir[i] < 0)
            break;
        LegendItem *it = &g_array_index (c->legend, LegendItem, i);
        double x = ix[i], y = c->legend_top + 6 + ir[i] * LEGEND_ROW;
        if (it->transfer) {
            rgb (cr, 0xe4e7ec, 1);
            cairo_rectangle (cr, x, y + 3, 12, 12);
            cairo_fill (cr);
            hatch (cr, x, y + 3, 12, 12, 0x8a94a6);
            rgb (cr, 0x5b6577, 1);
        } else {
            guint32 f = board_timeline_op_color (it->op);
            rgb (cr, f, 1);
            cairo_rectangle (cr, x, y + 3, 12, 12);
            cairo_fill (cr);
            rgb (cr, darker (f, 0.6), 1);
        }
        cairo_rectangle (cr, x + 0.5, y + 3.5, 11, 11);
        cairo_stroke (cr);
        char *d = it->transfer ? g_strdup_printf ("\u00d7%d", it->count)
                               : board_timeline_format_us (it->total_us);
        char *t = g_markup_printf_escaped ("%s <span foreground=\"#666666\">%s</span>",
                                           it->transfer ? "copies (_Send/_Recv)" : it->op, d);
        pango_layout_set_markup (pl, t, -1);
        g_free (t);
        g_free (d);
        cairo_set_source_rgb (cr, 0.15, 0.15, 0.15);
        cairo_move_to (cr, x + 16, y + 2);
        pango_cairo_show_layout (cr, pl);
    }
    g_free (ix);
    g_free (ir);
}

static void
table_text (cairo_t *cr, PangoLayout *pl, double x, double y, double w, const char *text,
            gboolean right)
{
    pango_layout_set_text (pl, text, -1);
    pango_layout_set_width (pl, (int) (w * PANGO_SCALE));
    pango_layout_set_ellipsize (pl, PANGO_ELLIPSIZE_MIDDLE);
    pango_layout_set_alignment (pl, right ? PANGO_ALIGN_RIGHT : PANGO_ALIGN_LEFT);
    int tw, th;
    pango_layout_get_pixel_size (pl, &tw, &th);
    cairo_move_to (cr, x, y + (TABLE_ROW - th) / 2);
    pango_cairo_show_layout (cr, pl);
}

/* The longest kernels in the room under the lanes: duration, share of
 * the step, op, lane, node.  Hover a row for the node's bar, click it to
 * zoom there. */
static void
draw_table (BoardTimelineChart *c, cairo_t *cr, PangoLayout *pl)
{
    if (c->table_rows <= 0)
        return;
    double x = 12, w = c->width - 24, y = c->table_top;
    PangoLayout *head = make_layout (c, "Sans Bold 9");
    cairo_set_source_rgb (cr, 0.15, 0.15, 0.17);
    pango_layout_set_text (head, "Longest kernels of the step", -1);
    cairo_move_to (cr, x, y);
    pango_cairo_show_layout (cr, head);
    g_object_unref (head);
    PangoLayout *cell = make_layout (c, "Sans 8");
    double cols[] = { x, x + 80, x + 140, x + 330, x + 450 };   /* time, share, op, lane, node */
    cairo_set_source_rgb (cr, 0.45, 0.45, 0.47);
    const char *titles[] = { "duration", "of step", "op", "lane", "node" };
    double widths[] = { 70, 50, 180, 110, MAX (60, w - 450) };
    for (int k = 0; k < 5; k++)
        table_text (cr, cell, cols[k], y + 4 + 2, widths[k], titles[k], k < 2);
    y += 24;
    for (int r = 0; r < c->table_rows; r++) {
        int idx = g_array_index (c->longest, int, r);
        const BoardTimelineNode *n = node_ref (c, idx);
        const BoardTimelineLane *l = g_ptr_array_index (c->step->lanes, n->lane);
        double ry = y + r * TABLE_ROW;
        if (idx == c->hover) {
            cairo_set_source_rgba (cr, 0.2, 0.45, 0.85, 0.15);
            cairo_rectangle (cr, x - 4, ry, w + 8, TABLE_ROW);
            cairo_fill (cr);
        } else if (r % 2 == 1) {
            cairo_set_source_rgba (cr, 0, 0, 0, 0.03);
            cairo_rectangle (cr, x - 4, ry, w + 8, TABLE_ROW);
            cairo_fill (cr);
        }
        char *d = board_timeline_format_us (n->dur_us);
        char *share = g_strdup_printf ("%.1f%%", c->step->span_us > 0 ? 100 * n->dur_us / c->step->span_us : 0);
        cairo_set_source_rgb (cr, 0.12, 0.12, 0.14);
        table_text (cr, cell, cols[0], ry, widths[0], d, TRUE);
        table_text (cr, cell, cols[1], ry, widths[1], share, TRUE);
        guint32 f = board_timeline_op_color (n->op);
        rgb (cr, f, 1);
        cairo_rectangle (cr, cols[2], ry + 4, 10, TABLE_ROW - 8);
        cairo_fill (cr);
        rgb (cr, darker (f, 0.6), 1);
        cairo_rectangle (cr, cols[2] + 0.5, ry + 4.5, 9, TABLE_ROW - 9);
        cairo_stroke (cr);
        cairo_set_source_rgb (cr, 0.12, 0.12, 0.14);
        table_text (cr, cell, cols[2] + 16, ry, widths[2] - 16, *n->op ? n->op : "?", FALSE);
        table_text (cr, cell, cols[3], ry, widths[3], l->label, FALSE);
        table_text (cr, cell, cols[4], ry, widths[4], n->name, FALSE);
        g_free (d);
        g_free (share);
    }
    g_object_unref (cell);
}

static void
board_timeline_chart_snapshot (GtkWidget *widget, GtkSnapshot *snapshot)
{
    BoardTimelineChart *c = BOARD_TIMELINE_CHART (widget);
    int w = gtk_widget_get_width (widget), h = gtk_widget_get_height (widget);
    cairo_t *cr = gtk_snapshot_append_cairo (snapshot, &GRAPHENE_RECT_INIT (0, 0, w, h));
    cairo_set_source_rgb (cr, 0.985, 0.985, 0.98);
    cairo_paint (cr);
    PangoLayout *pl = make_layout (c, "Sans 8");
    if (!c->step) {
        pango_layout_set_width (pl, (w - 40) * PANGO_SCALE);
        pango_layout_set_alignment (pl, PANGO_ALIGN_CENTER);
        pango_layout_set_text (pl, c->message ? c->message : "", -1);
        int tw, th;
        pango_layout_get_pixel_size (pl, &tw, &th);
        cairo_set_source_rgb (cr, 0.35, 0.35, 0.35);
        cairo_move_to (cr, 20, MAX (20, (h - th) / 2.0));
        pango_cairo_show_layout (cr, pl);
        g_object_unref (pl);
        cairo_destroy (cr);
        return;
    }
    ensure_layout (c);
    double px0 = plot_x0 (c), px1 = plot_x1 (c);
    guint nl = c->step->lanes->len;

    /* where the lanes end: the widget's lane area, or less when they fit
     * and leave room (for the list of the longest kernels) */
    double lanes_end = MIN (c->lanes_bottom, c->lanes_top + c->content_h - c->scroll_y);
    /* lane bands */
    cairo_save (cr);
    cairo_rectangle (cr, 0, c->lanes_top, w, lanes_end - c->lanes_top);
    cairo_clip (cr);
    for (guint i = 0; i < nl; i++) {
        double y = lane_screen_y (c, (int) i);
        if (y > c->lanes_bottom || y + c->lane_h[i] < c->lanes_top)
            continue;
        if (i % 2 == 1) {
            cairo_set_source_rgba (cr, 0, 0, 0, 0.035);
            cairo_rectangle (cr, 0, y, w, c->lane_h[i]);
            cairo_fill (cr);
        }
    }
    /* grid lines at the ticks */
    double step = nice_step (c->t1 - c->t0, (px1 - px0) / 110);
    cairo_set_source_rgba (cr, 0, 0, 0, 0.08);
    cairo_set_line_width (cr, 1);
    for (double t = ceil (c->t0 / step) * step; t <= c->t1; t += step) {
        double x = floor (t_to_x (c, t)) + 0.5;
        cairo_move_to (cr, x, c->lanes_top);
        cairo_line_to (cr, x, lanes_end);
    }
    cairo_stroke (cr);
    /* bars, clipped to the plot */
    cairo_save (cr);
    cairo_rectangle (cr, px0, c->lanes_top, px1 - px0 + RIGHT_PAD, lanes_end - c->lanes_top);
    cairo_clip (cr);
    GArray *painted = g_array_new (FALSE, TRUE, sizeof (double));
    for (guint li = 0; li < nl; li++) {
        double y = lane_screen_y (c, (int) li);
        if (y > c->lanes_bottom || y + c->lane_h[li] < c->lanes_top)
            continue;   /* scrolled away */
        BoardTimelineLane *l = g_ptr_array_index (c->step->lanes, li);
        g_array_set_size (painted, 0);
        g_array_set_size (painted, (guint) l->n_rows);
        for (guint k = 0; k < (guint) l->n_rows; k++)
            g_array_index (painted, double, k) = -INFINITY;
        for (guint k = 0; k < l->nodes->len; k++) {
            int i = g_array_index (l->nodes, int, k);
            int row = node_ref (c, i)->row;
            g_array_index (painted, double, row) =
                draw_bar (c, cr, pl, i, px0, px1, g_array_index (painted, double, row));
        }
    }
    g_array_unref (painted);
    cairo_restore (cr);
    /* separators: a line between lanes, a darker one between devices */
    for (guint i = 1; i < nl; i++) {
        BoardTimelineLane *a = g_ptr_array_index (c->step->lanes, i - 1);
        BoardTimelineLane *b = g_ptr_array_index (c->step->lanes, i);
        gboolean dev = strcmp (a->device, b->device) != 0;
        double y = floor (lane_screen_y (c, (int) i)) + 0.5;
        cairo_set_source_rgba (cr, 0, 0, 0, dev ? 0.45 : 0.12);
        cairo_set_line_width (cr, dev ? 1.5 : 1);
        cairo_move_to (cr, 0, y);
        cairo_line_to (cr, w, y);
        cairo_stroke (cr);
    }
    /* the label column */
    cairo_set_source_rgb (cr, 0.94, 0.945, 0.95);
    cairo_rectangle (cr, 0, c->lanes_top, px0 - 4, lanes_end - c->lanes_top);
    cairo_fill (cr);
    PangoLayout *bold = make_layout (c, "Sans Bold 9");
    PangoLayout *small = make_layout (c, "Sans 7");
    for (guint i = 0; i < nl; i++) {
        BoardTimelineLane *l = g_ptr_array_index (c->step->lanes, i);
        double y = lane_screen_y (c, (int) i);
        if (y > c->lanes_bottom || y + c->lane_h[i] < c->lanes_top)
            continue;
        pango_layout_set_text (bold, l->label, -1);
        pango_layout_set_width (bold, (int) (px0 - 14) * PANGO_SCALE);
        pango_layout_set_ellipsize (bold, PANGO_ELLIPSIZE_START);
        int tw, th;
        pango_layout_get_pixel_size (bold, &tw, &th);
        /* the busy share under the label when the lane is tall enough */
        char *busy = NULL;
        int bw = 0, bh = 0;
        if (c->lane_h[i] >= th + 14 && c->step->span_us > 0) {
            double pc = 100 * l->busy_us / c->step->span_us;
            busy = pc > 0 && pc < 1 ? g_strdup ("<1% busy")
                                    : g_strdup_printf ("%.0f%% busy", pc);
            pango_layout_set_text (small, busy, -1);
            pango_layout_get_pixel_size (small, &bw, &bh);
        }
        double ty = y + (c->lane_h[i] - th - (busy ? bh : 0)) / 2;
        cairo_set_source_rgb (cr, 0.12, 0.12, 0.14);
        cairo_move_to (cr, 8, ty);
        pango_cairo_show_layout (cr, bold);
        if (busy) {
            cairo_set_source_rgb (cr, 0.4, 0.4, 0.42);
            cairo_move_to (cr, 8, ty + th);
            pango_cairo_show_layout (cr, small);
            g_free (busy);
        }
    }
    g_object_unref (small);
    g_object_unref (bold);
    /* the selection being dragged */
    if (c->selecting) {
        double a = MIN (c->sel_x0, c->sel_x1), b = MAX (c->sel_x0, c->sel_x1);
        a = MAX (a, px0);
        b = MIN (b, px1);
        cairo_set_source_rgba (cr, 0.2, 0.45, 0.85, 0.18);
        cairo_rectangle (cr, a, 0, b - a, lanes_end);
        cairo_fill (cr);
        cairo_set_source_rgba (cr, 0.2, 0.45, 0.85, 0.8);
        cairo_set_line_width (cr, 1);
        cairo_rectangle (cr, floor (a) + 0.5, 0.5, MAX (b - a - 1, 0), lanes_end - 1);
        cairo_stroke (cr);
    }
    cairo_restore (cr);
    if (lanes_end < c->lanes_bottom) {
        cairo_set_source_rgba (cr, 0, 0, 0, 0.45);
        cairo_set_line_width (cr, 1.5);
        cairo_move_to (cr, 0, floor (lanes_end) + 0.5);
        cairo_line_to (cr, w, floor (lanes_end) + 0.5);
        cairo_stroke (cr);
    }

    /* the time axis */
    cairo_set_source_rgb (cr, 0.93, 0.935, 0.94);
    cairo_rectangle (cr, 0, 0, w, AXIS_H);
    cairo_fill (cr);
    cairo_set_source_rgba (cr, 0, 0, 0, 0.35);
    cairo_move_to (cr, 0, AXIS_H + 0.5);
    cairo_line_to (cr, w, AXIS_H + 0.5);
    cairo_stroke (cr);
    cairo_save (cr);
    cairo_rectangle (cr, px0 - 40, 0, px1 - px0 + 40 + RIGHT_PAD, AXIS_H);
    cairo_clip (cr);
    for (double t = ceil (c->t0 / step) * step; t <= c->t1; t += step) {
        double x = floor (t_to_x (c, t)) + 0.5;
        cairo_set_source_rgba (cr, 0, 0, 0, 0.5);
        cairo_move_to (cr, x, AXIS_H - 6);
        cairo_line_to (cr, x, AXIS_H);
        cairo_stroke (cr);
        char *lab = tick_label (t, step);
        pango_layout_set_text (pl, lab, -1);
        g_free (lab);
        int tw, th;
        pango_layout_get_pixel_size (pl, &tw, &th);
        cairo_set_source_rgb (cr, 0.2, 0.2, 0.22);
        cairo_move_to (cr, CLAMP (x - tw / 2.0, px0 - 30, px1 + RIGHT_PAD - tw), (AXIS_H - 6 - th) / 2.0 + 1);
        pango_cairo_show_layout (cr, pl);
    }
    cairo_restore (cr);
    /* the axis' corner: what the numbers count */
    pango_layout_set_text (pl, "from step start", -1);
    int tw, th;
    pango_layout_get_pixel_size (pl, &tw, &th);
    if (tw + 12 < px0 - 40) {
        cairo_set_source_rgb (cr, 0.4, 0.4, 0.42);
        cairo_move_to (cr, 8, (AXIS_H - th) / 2.0);
        pango_cairo_show_layout (cr, pl);
    }

    /* a scroll hint when lanes are cut off */
    double max_scroll = MAX (0, c->content_h - (c->lanes_bottom - c->lanes_top));
    if (max_scroll > 0) {
        double track = c->lanes_bottom - c->lanes_top;
        double bar = MAX (20, track * track / c->content_h);
        double y = c->lanes_top + (track - bar) * (c->scroll_y / max_scroll);
        cairo_set_source_rgba (cr, 0, 0, 0, 0.25);
        cairo_rectangle (cr, w - 6, y, 4, bar);
        cairo_fill (cr);
    }
    draw_table (c, cr, pl);
    draw_legend (c, cr, pl);
    g_object_unref (pl);
    cairo_destroy (cr);
}

/* ---- input ---- */

static gboolean
on_query_tooltip (GtkWidget *w, int x, int y, gboolean keyboard, GtkTooltip *tip,
                  BoardTimelineChart *c)
{
    int k = board_timeline_chart_node_at (c, x, y);
    if (k < 0)
        return FALSE;
    char *text = board_timeline_chart_describe_node (c, k);
    char *nl = strchr (text, '\n');
    char *head = g_markup_escape_text (text, nl ? nl - text : -1);
    char *rest = g_markup_escape_text (nl ? nl + 1 : "", -1);
    char *markup = g_strdup_printf ("<b>%s</b>\n%s", head, rest);
    gtk_tooltip_set_markup (tip, markup);
    GdkRectangle area;
    graphene_rect_t r;
    if (board_timeline_chart_get_node_rect (c, k, &r)) {
        area.x = (int) r.origin.x;
        area.y = (int) r.origin.y;
        area.width = MAX (1, (int) r.size.width);
        area.height = MAX (1, (int) r.size.height);
        gtk_tooltip_set_tip_area (tip, &area);
    }
    g_free (markup);
    g_free (head);
    g_free (rest);
    g_free (text);
    return TRUE;
}

static void
set_hover (BoardTimelineChart *c, int k)
{
    if (k != c->hover) {
        c->hover = k;
        gtk_widget_queue_draw (GTK_WIDGET (c));
    }
}

static void
on_motion (GtkEventControllerMotion *m, double x, double y, BoardTimelineChart *c)
{
    c->pointer_x = x;
    c->pointer_y = y;
    if (!c->dragging)
        set_hover (c, board_timeline_chart_node_at (c, x, y));
}

static void
on_leave (GtkEventControllerMotion *m, BoardTimelineChart *c)
{
    set_hover (c, -1);
}

static gboolean
on_scroll (GtkEventControllerScroll *s, double dx, double dy, BoardTimelineChart *c)
{
    if (!c->step)
        return FALSE;
    ensure_layout (c);
    GdkModifierType mods = gtk_event_controller_get_current_event_state (GTK_EVENT_CONTROLLER (s));
    GdkScrollUnit unit = gtk_event_controller_scroll_get_unit (s);
    double k = unit == GDK_SCROLL_UNIT_WHEEL ? 1 : 0.05;   /* touchpads send pixels */
    if (mods & GDK_CONTROL_MASK) {
        zoom_at (c, c->pointer_x, pow (1.25, dy * k));
        return TRUE;
    }
    double step_px = unit == GDK_SCROLL_UNIT_WHEEL ? 60 : 1;
    if (mods & GDK_SHIFT_MASK) {
        pan_px (c, (dy + dx) * step_px);
        return TRUE;
    }
    if (dx != 0)
        pan_px (c, dx * step_px);
    if (dy != 0) {
        double max_scroll = MAX (0, c->content_h - (c->lanes_bottom - c->lanes_top));
        if (max_scroll > 0)
            scroll_px (c, dy * (unit == GDK_SCROLL_UNIT_WHEEL ? 40 : 1));
        else
            pan_px (c, dy * step_px);
    }
    set_hover (c, board_timeline_chart_node_at (c, c->pointer_x, c->pointer_y));
    return TRUE;
}

static void
on_drag_begin (GtkGestureDrag *g, double x, double y, BoardTimelineChart *c)
{
    if (!c->step) {
        gtk_gesture_set_state (GTK_GESTURE (g), GTK_EVENT_SEQUENCE_DENIED);
        return;
    }
    ensure_layout (c);
    GdkModifierType mods = gtk_event_controller_get_current_event_state (GTK_EVENT_CONTROLLER (g));
    c->dragging = TRUE;
    c->selecting = (mods & GDK_SHIFT_MASK) || y < AXIS_H;
    c->drag_x0 = x;
    c->drag_y0 = y;
    c->drag_t0 = c->t0;
    c->drag_t1 = c->t1;
    c->drag_scroll = c->scroll_y;
    c->sel_x0 = c->sel_x1 = x;
    gtk_widget_grab_focus (GTK_WIDGET (c));
}

static void
on_drag_update (GtkGestureDrag *g, double dx, double dy, BoardTimelineChart *c)
{
    if (!c->dragging)
        return;
    if (c->selecting) {
        c->sel_x1 = c->drag_x0 + dx;
        gtk_widget_queue_draw (GTK_WIDGET (c));
        return;
    }
    double dt = dx / MAX (plot_x1 (c) - plot_x0 (c), 1) * (c->drag_t1 - c->drag_t0);
    c->t0 = c->drag_t0 - dt;
    c->t1 = c->drag_t1 - dt;
    clamp_range (c);
    double max_scroll = MAX (0, c->content_h - (c->lanes_bottom - c->lanes_top));
    c->scroll_y = CLAMP (c->drag_scroll - dy, 0, max_scroll);
    gtk_widget_queue_draw (GTK_WIDGET (c));
}

static void
on_drag_end (GtkGestureDrag *g, double dx, double dy, BoardTimelineChart *c)
{
    if (!c->dragging)
        return;
    if (c->selecting && fabs (dx) > 4) {
        double a = x_to_t (c, CLAMP (MIN (c->sel_x0, c->sel_x1), plot_x0 (c), plot_x1 (c)));
        double b = x_to_t (c, CLAMP (MAX (c->sel_x0, c->sel_x1), plot_x0 (c), plot_x1 (c)));
        c->t0 = a;
        c->t1 = b;
        clamp_range (c);
    }
    c->dragging = FALSE;
    c->selecting = FALSE;
    gtk_widget_queue_draw (GTK_WIDGET (c));
}

static void
on_click (GtkGestureClick *g, int n_press, double x, double y, BoardTimelineChart *c)
{
    int tr = c->step ? table_row_at (c, x, y) : -1;
    if (tr >= 0) {
        board_timeline_chart_zoom_to_node (c, g_array_index (c->longest, int, tr));
        return;
    }
    if (n_press == 2)
        board_timeline_chart_reset (c);
}

static gboolean
on_key (GtkEventControllerKey *k, guint keyval, guint code, GdkModifierType mods,
        BoardTimelineChart *c)
{
    if (!c->step)
        return FALSE;
    ensure_layout (c);
    double mid = (plot_x0 (c) + plot_x1 (c)) / 2, quarter = (plot_x1 (c) - plot_x0 (c)) / 4;
    switch (keyval) {
    case GDK_KEY_plus:
    case GDK_KEY_equal:
    case GDK_KEY_KP_Add:
        zoom_at (c, mid, 0.8);
        return TRUE;
    case GDK_KEY_minus:
    case GDK_KEY_KP_Subtract:
        zoom_at (c, mid, 1.25);
        return TRUE;
    case GDK_KEY_0:
    case GDK_KEY_Home:
        board_timeline_chart_reset (c);
        return TRUE;
    case GDK_KEY_Left:
        pan_px (c, -quarter);
        return TRUE;
    case GDK_KEY_Right:
        pan_px (c, quarter);
        return TRUE;
    case GDK_KEY_Up:
        scroll_px (c, -c->row_h * 2);
        return TRUE;
    case GDK_KEY_Down:
        scroll_px (c, c->row_h * 2);
        return TRUE;
    default:
        return FALSE;
    }
}

/* ---- object ---- */

static void
board_timeline_chart_size_allocate (GtkWidget *widget, int width, int height, int baseline)
{
    BoardTimelineChart *c = BOARD_TIMELINE_CHART (widget);
    c->width = -1;   /* lay out again at the next draw */
}

static void
board_timeline_chart_measure (GtkWidget *widget, GtkOrientation o, int for_size, int *min, int *nat,
                              int *min_base, int *nat_base)
{
    *min = o == GTK_ORIENTATION_HORIZONTAL ? 300 : 160;
    *nat = o == GTK_ORIENTATION_HORIZONTAL ? 800 : 500;
}

static void
board_timeline_chart_finalize (GObject *o)
{
    BoardTimelineChart *c = BOARD_TIMELINE_CHART (o);
    board_timeline_step_free (c->step);
    g_free (c->message);
    g_free (c->lane_y);
    g_free (c->lane_h);
    if (c->legend)
        g_array_unref (c->legend);
    if (c->longest)
        g_array_unref (c->longest);
    G_OBJECT_CLASS (board_timeline_chart_parent_class)->finalize (o);
}

static void
board_timeline_chart_class_init (BoardTimelineChartClass *klass)
{
    GtkWidgetClass *wc = GTK_WIDGET_CLASS (klass);
    wc->snapshot = board_timeline_chart_snapshot;
    wc->measure = board_timeline_chart_measure;
    wc->size_allocate = board_timeline_chart_size_allocate;
    G_OBJECT_CLASS (klass)->finalize = board_timeline_chart_finalize;
    gtk_widget_class_set_css_name (wc, "timelinechart");
}

static void
board_timeline_chart_init (BoardTimelineChart *c)
{
    c->hover = -1;
    c->t1 = 1;
    c->width = c->height = -1;
    gtk_widget_set_focusable (GTK_WIDGET (c), TRUE);
    gtk_widget_set_hexpand (GTK_WIDGET (c), TRUE);
    gtk_widget_set_vexpand (GTK_WIDGET (c), TRUE);
    gtk_widget_set_has_tooltip (GTK_WIDGET (c), TRUE);
    g_signal_connect (c, "query-tooltip", G_CALLBACK (on_query_tooltip), c);

    GtkEventController *motion = gtk_event_controller_motion_new ();
    g_signal_connect (motion, "motion", G_CALLBACK (on_motion), c);
    g_signal_connect (motion, "leave", G_CALLBACK (on_leave), c);
    gtk_widget_add_controller (GTK_WIDGET (c), motion);

    GtkEventController *scroll = gtk_event_controller_scroll_new (
        GTK_EVENT_CONTROLLER_SCROLL_BOTH_AXES);
    g_signal_connect (scroll, "scroll", G_CALLBACK (on_scroll), c);
    gtk_widget_add_controller (GTK_WIDGET (c), scroll);

    GtkGesture *drag = gtk_gesture_drag_new ();
    gtk_gesture_single_set_button (GTK_GESTURE_SINGLE (drag), GDK_BUTTON_PRIMARY);
    g_signal_connect (drag, "drag-begin", G_CALLBACK (on_drag_begin), c);
    g_signal_connect (drag, "drag-update", G_CALLBACK (on_drag_update), c);
    g_signal_connect (drag, "drag-end", G_CALLBACK (on_drag_end), c);
    gtk_widget_add_controller (GTK_WIDGET (c), GTK_EVENT_CONTROLLER (drag));

    GtkGesture *click = gtk_gesture_click_new ();
    g_signal_connect (click, "pressed", G_CALLBACK (on_click), c);
    gtk_widget_add_controller (GTK_WIDGET (c), GTK_EVENT_CONTROLLER (click));

    GtkEventController *key = gtk_event_controller_key_new ();
    g_signal_connect (key, "key-pressed", G_CALLBACK (on_key), c);
    gtk_widget_add_controller (GTK_WIDGET (c), key);
}

GtkWidget *
board_timeline_chart_new (void)
{
    return g_object_new (BOARD_TYPE_TIMELINE_CHART, NULL);
}
