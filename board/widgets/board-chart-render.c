/* Line-chart drawing with cairo (see the header). */
#include "board-chart-render.h"

#include <math.h>
#include <string.h>

#include <cairo-svg.h>
#include <gio/gio.h>
#include <pango/pangocairo.h>

#include "board-downsample.h"

#define MARGIN_LEFT 56.0
#define MARGIN_RIGHT 14.0
#define MARGIN_TOP 26.0
#define MARGIN_BOTTOM 26.0

static double
fx (const BoardChartView *v, double x)
{
    return v->log_x ? log10 (x) : x;
}

static double
fy (const BoardChartView *v, double y)
{
    return v->log_y ? log10 (y) : y;
}

static double
ifx (const BoardChartView *v, double t)
{
    return v->log_x ? pow (10, t) : t;
}

static double
ify (const BoardChartView *v, double t)
{
    return v->log_y ? pow (10, t) : t;
}

static inline double
x_to_px (const BoardChartFrame *f, const BoardChartView *v, double x)
{
    double a = fx (v, f->x0), b = fx (v, f->x1);
    return f->left + (fx (v, x) - a) / (b - a) * (f->right - f->left);
}

static inline double
y_to_px (const BoardChartFrame *f, const BoardChartView *v, double y)
{
    double a = fy (v, f->y0), b = fy (v, f->y1);
    return f->bottom - (fy (v, y) - a) / (b - a) * (f->bottom - f->top);
}

double
board_chart_x_to_px (const BoardChartFrame *f, const BoardChartView *v, double x)
{
    return x_to_px (f, v, x);
}

double
board_chart_y_to_px (const BoardChartFrame *f, const BoardChartView *v, double y)
{
    return y_to_px (f, v, y);
}

double
board_chart_px_to_x (const BoardChartFrame *f, const BoardChartView *v, double px)
{
    double a = fx (v, f->x0), b = fx (v, f->x1);
    return ifx (v, a + (px - f->left) / (f->right - f->left) * (b - a));
}

double
board_chart_px_to_y (const BoardChartFrame *f, const BoardChartView *v, double py)
{
    double a = fy (v, f->y0), b = fy (v, f->y1);
    return ify (v, a + (f->bottom - py) / (f->bottom - f->top) * (b - a));
}

static int
double_cmp (const void *a, const void *b)
{
    double x = *(const double *) a, y = *(const double *) b;
    return (x > y) - (x < y);
}

void
board_chart_compute_frame (const BoardChartLine *lines, size_t n_lines, const BoardChartView *v,
                           int width, int height, BoardChartFrame *f)
{
    memset (f, 0, sizeof *f);
    f->left = MARGIN_LEFT;
    f->top = MARGIN_TOP;
    f->right = MAX (f->left + 10, width - MARGIN_RIGHT);
    f->bottom = MAX (f->top + 10, height - MARGIN_BOTTOM);
    if (v->zoomed) {
        f->x0 = v->vx0;
        f->x1 = v->vx1;
        f->y0 = v->vy0;
        f->y1 = v->vy1;
        return;
    }
    /* x: the data's extent (positive part on a log axis) */
    double x0 = INFINITY, x1 = -INFINITY;
    for (size_t l = 0; l < n_lines; l++) {
        const BoardChartLine *ln = &lines[l];
        size_t i = v->log_x ? board_lower_bound (ln->x, ln->n, 1e-300) : 0;
        for (; i < ln->n; i++)
            if (isfinite (ln->x[i])) {
                x0 = MIN (x0, ln->x[i]);
                break;
            }
        for (size_t k = ln->n; k > i; k--)
            if (isfinite (ln->x[k - 1])) {
                x1 = MAX (x1, ln->x[k - 1]);
                break;
            }
    }
    if (!(x1 >= x0)) {
        f->empty = TRUE;
        f->x0 = v->log_x ? 1 : 0;
        f->x1 = v->log_x ? 10 : 1;
        f->y0 = v->log_y ? 1 : 0;
        f->y1 = v->log_y ? 10 : 1;
        return;
    }
    if (x1 == x0) {
        if (v->log_x) {
            x0 /= 2;
            x1 *= 2;
        } else {
            x0 -= 1;
            x1 += 1;
        }
    }
    f->x0 = x0;
    f->x1 = x1;

    /* y: min and max of what is drawn, or the 5th-95th percentiles */
    double y0 = INFINITY, y1 = -INFINITY;
    GArray *sample = v->ignore_outliers ? g_array_new (FALSE, FALSE, sizeof (double)) : NULL;
    size_t total = 0;
    for (size_t l = 0; l < n_lines; l++)
        total += lines[l].n;
    size_t stride = MAX (1, total / 50000);
    for (size_t l = 0; l < n_lines; l++) {
        const BoardChartLine *ln = &lines[l];
        const double *ys[3] = { ln->y, ln->band_lo, ln->band_hi };
        for (int k = 0; k < 3; k++) {
            const double *y = ys[k];
            if (!y)
                continue;
            for (size_t i = 0; i < ln->n; i += (sample ? stride : 1)) {
                double yy = y[i];
                if (!isfinite (yy) || (v->log_y && yy <= 0) || !isfinite (ln->x[i]))
                    continue;
                if (sample)
                    g_array_append_val (sample, yy);
                y0 = MIN (y0, yy);
                y1 = MAX (y1, yy);
            }
        }
    }
    if (sample && sample->len >= 20) {
        g_array_sort (sample, double_cmp);
        double *s = (double *) sample->data;
        /* d3.quantile at 0.05 and 0.95 */
        double h0 = (sample->len - 1) * 0.05, h1 = (sample->len - 1) * 0.95;
        size_t i0 = (size_t) h0, i1 = (size_t) h1;
        y0 = s[i0] + (h0 - i0) * (s[MIN (i0 + 1, sample->len - 1)] - s[i0]);
        y1 = s[i1] + (h1 - i1) * (s[MIN (i1 + 1, sample->len - 1)] - s[i1]);
    }
    if (sample)
        g_array_unref (sample);
    if (!(y1 >= y0)) {
        y0 = v->log_y ? 1 : 0;
        y1 = v->log_y ? 10 : 1;
    }
    if (v->log_y) {
        double a = log10 (y0), b = log10 (y1);
        double pad = b > a ? (b - a) * 0.05 : 0.5;
        y0 = pow (10, a - pad);
        y1 = pow (10, b + pad);
    } else {
        double pad = y1 > y0 ? (y1 - y0) * 0.05 : MAX (fabs (y0) * 0.1, 0.5);
        y0 -= pad;
        y1 += pad;
    }
    f->y0 = y0;
    f->y1 = y1;
}

/* ---- ticks and labels ---- */

static int
nice_ticks (double lo, double hi, int want, double *out, int max)
{
    if (!(hi > lo))
        return 0;
    double raw = (hi - lo) / want;
    double mag = pow (10, floor (log10 (raw)));
    double r = raw / mag;
    double step = (r < 1.5 ? 1 : r < 3 ? 2 : r < 7 ? 5 : 10) * mag;
    int n = 0;
    for (double t = ceil (lo / step) * step; t <= hi + step * 1e-9 && n < max; t += step)
        out[n++] = fabs (t) < step * 1e-9 ? 0 : t;
    return n;
}

static void
format_value (char *buf, size_t size, double v)
{
    double a = fabs (v);
    if (a != 0 && (a >= 1e6 || a < 1e-3))
        g_snprintf (buf, size, "%.2g", v);
    else if (a >= 1e3)
        g_snprintf (buf, size, "%.4gk", v / 1e3);
    else
        g_snprintf (buf, size, "%.4g", v);
}

static void
format_x (char *buf, size_t size, const BoardChartView *v, double x)
{
    switch (v->x_axis) {
    case BOARD_X_WALL: {
        GDateTime *dt = g_date_time_new_from_unix_local ((gint64) x);
        char *s = dt ? g_date_time_format (dt, "%H:%M:%S") : g_strdup ("?");
        g_strlcpy (buf, s, size);
        g_free (s);
        if (dt)
            g_date_time_unref (dt);
        break;
    }
    case BOARD_X_RELATIVE:
        if (fabs (x) < 120)
            g_snprintf (buf, size, "%.3gs", x);
        else if (fabs (x) < 7200)
            g_snprintf (buf, size, "%.3gm", x / 60);
        else
            g_snprintf (buf, size, "%.3gh", x / 3600);
        break;
    case BOARD_X_STEP:
    default:
        format_value (buf, size, x);
        break;
    }
}

static void
draw_text (cairo_t *cr, PangoLayout *layout, const char *text, double x, double y,
           double align_x, double align_y)
{
    pango_layout_set_text (layout, text, -1);
    int w, h;
    pango_layout_get_pixel_size (layout, &w, &h);
    cairo_move_to (cr, x - align_x * w, y - align_y * h);
    pango_cairo_show_layout (cr, layout);
}

static int
axis_ticks (double lo, double hi, gboolean log_axis, double *out, int max)
{
    if (log_axis) {
        double a = log10 (lo), b = log10 (hi);
        if (b - a >= 1) {
            int n = 0;
            int step = (int) ceil ((b - a) / 6);
            for (int e = (int) ceil (a); e <= (int) floor (b) && n < max; e += MAX (step, 1))
                out[n++] = pow (10, e);
            if (n >= 2)
                return n;
        }
    }
    return nice_ticks (lo, hi, 5, out, max);
}

/* ---- lines ---- */

static void
set_color (cairo_t *cr, guint32 rgb, double alpha)
{
    cairo_set_source_rgba (cr, ((rgb >> 16) & 0xff) / 255.0, ((rgb >> 8) & 0xff) / 255.0,
                           (rgb & 0xff) / 255.0, alpha);
}

/* Reduces (x, y) to the plot's pixel columns; x transformed for log x
 * (the line's log_x, or one made here once per line and frame). */
static size_t
reduce (const BoardChartFrame *f, const BoardChartView *v, const BoardChartLine *ln,
        const double *y, const BoardMinMaxPyramid *pyr, BoardXY *out, int columns,
        double **logx)
{
    if (!v->log_x)
        return board_downsample_minmax_pyramid (ln->x, y, ln->n, pyr, f->x0, f->x1, columns, out);
    const double *lx = ln->log_x;
    if (!lx) {
        if (!*logx) {
            *logx = g_new (double, ln->n ? ln->n : 1);
            for (size_t i = 0; i < ln->n; i++)
                (*logx)[i] = ln->x[i] > 0 ? log10 (ln->x[i]) : -INFINITY;
        }
        lx = *logx;
        pyr = NULL;
    }
    size_t m = board_downsample_minmax_pyramid (lx, y, ln->n, pyr, log10 (f->x0), log10 (f->x1),
                                                columns, out);
    for (size_t i = 0; i < m; i++)
        out[i].x = pow (10, out[i].x);
    return m;
}

static size_t
path_points (cairo_t *cr, const BoardChartFrame *f, const BoardChartView *v, const BoardXY *pts,
             size_t m, gboolean reverse, gboolean connect)
{
    size_t drawn = 0;
    gboolean pen = connect;
    for (size_t k = 0; k < m; k++) {
        const BoardXY *p = &pts[reverse ? m - 1 - k : k];
        if (v->log_y && p->y <= 0) {
            pen = FALSE;
            continue;
        }
        double px = x_to_px (f, v, p->x), py = y_to_px (f, v, p->y);
        py = CLAMP (py, -1e4, 1e4);
        if (pen)
            cairo_line_to (cr, px, py);
        else
            cairo_move_to (cr, px, py);
        pen = TRUE;
        drawn++;
    }
    return drawn;
}

/* Drawing a reduced series as a line `lw` wide.
 *
 * A series denser than the pixels (several points per pixel column, as
 * the min/max reduction leaves it) zig-zags from its column's minimum to
 * its maximum in every column.  Cairo strokes such a path slowly (about
 * 1 µs a point, ten times that with round joins) and even fills its
 * outline at about 1 ms per series, so 100 runs took 200 ms a frame.
 * What the stroke covers is, in every pixel column, one vertical span
 * from the line's lowest to its highest point there, so a dense series is
 * reduced to those spans (with the segments between columns and across
 * empty columns folded in), padded by half the line width, and the spans
 * are blended straight into a plot-sized image with antialiased ends,
 * which is painted once.  Vector targets (SVG export) get the same spans
 * as a filled outline instead.  A sparse series is stroked as before. */
typedef struct {
    double top, bottom;   /* pixel y, top <= bottom */
} Span;

typedef struct {
    cairo_surface_t *surface;   /* ARGB32 premultiplied; NULL: draw vector outlines */
    guint8 *data;
    int stride, width, height;
    /* where the spans are blended: column-major (a column's span is
     * contiguous: the image's rows are a cache line apart), copied into
     * the image at a flush */
    guint32 *cols;
    size_t cstride;             /* pixels from one column to the next */
    int x0, y0;                 /* chart pixel of the image's top-left */
    gboolean dirty;
    int dx0, dx1, dy0, dy1;     /* the part drawn on since the last flush: [dx0, dx1) x [dy0, dy1) */
} Layer;

/* One layer image per thread, kept between frames (and cleared after
 * each use): a frame allocates nothing of the plot's size, so the page
 * faults of a fresh half-megabyte image every frame are gone. */
static GPrivate layer_cache = G_PRIVATE_INIT ((GDestroyNotify) cairo_surface_destroy);

typedef struct {
    guint32 *px;   /* zero between uses */
    int width, height;
} Columns;

static void
columns_free (Columns *c)
{
    g_free (c->px);
    g_free (c);
}

static GPrivate columns_cache = G_PRIVATE_INIT ((GDestroyNotify) columns_free);

static void
layer_init (Layer *L, cairo_t *cr, const BoardChartFrame *f)
{
    memset (L, 0, sizeof *L);
    cairo_surface_type_t t = cairo_surface_get_type (cairo_get_target (cr));
    if (t != CAIRO_SURFACE_TYPE_IMAGE && t != CAIRO_SURFACE_TYPE_RECORDING &&
        t != CAIRO_SURFACE_TYPE_XLIB)
        return;   /* SVG, PDF: keep it vector */
    L->x0 = (int) floor (f->left);
    L->y0 = (int) floor (f->top);
    L->width = MAX (1, (int) ceil (f->right) - L->x0);
    L->height = MAX (1, (int) ceil (f->bottom) - L->y0);
    cairo_surface_t *cached = g_private_get (&layer_cache);
    if (cached && cairo_image_surface_get_width (cached) >= L->width &&
        cairo_image_surface_get_height (cached) >= L->height) {
        L->surface = cached;   /* clear: every use ends with a flush */
    } else {
        int w = L->width, h = L->height;
        if (cached) {   /* grow to hold both, so charts of two sizes share one */
            w = MAX (w, cairo_image_surface_get_width (cached));
            h = MAX (h, cairo_image_surface_get_height (cached));
        }
        L->surface = cairo_image_surface_create (CAIRO_FORMAT_ARGB32, w, h);
        g_private_replace (&layer_cache, L->surface);
    }
    L->data = cairo_image_surface_get_data (L->surface);
    L->stride = cairo_image_surface_get_stride (L->surface);
    Columns *cc = g_private_get (&columns_cache);
    if (!cc || cc->width < L->width || cc->height < L->height) {
        Columns *n = g_new0 (Columns, 1);
        n->width = MAX (L->width, cc ? cc->width : 0);
        n->height = MAX (L->height, cc ? cc->height : 0);
        n->px = g_new0 (guint32, (size_t) n->width * (size_t) n->height);
        g_private_replace (&columns_cache, n);
        cc = n;
    }
    L->cols = cc->px;
    L->cstride = (size_t) cc->height;
    L->dx0 = L->dy0 = G_MAXINT;
    L->dx1 = L->dy1 = G_MININT;
}

/* Paints what the layer holds and clears it (before a stroked series, to
 * keep the order of the series). */
static void
layer_flush (Layer *L, cairo_t *cr)
{
    if (!L->surface || !L->dirty)
        return;
    /* the part drawn on, into the image (by tiles: both sides stay in
     * the cache), and cleared */
    cairo_surface_flush (L->surface);
    const size_t cs = L->cstride, rs = (size_t) L->stride;
    for (int ty = L->dy0; ty < L->dy1; ty += 32) {
        int ey = MIN (ty + 32, L->dy1);
        for (int tx = L->dx0; tx < L->dx1; tx += 32) {
            int ex = MIN (tx + 32, L->dx1);
            for (int y = ty; y < ey; y++) {
                guint32 *row = (guint32 *) (L->data + (size_t) y * rs);
                const guint32 *col = L->cols + y;
                for (int x = tx; x < ex; x++)
                    row[x] = col[(size_t) x * cs];
            }
        }
    }
    for (int x = L->dx0; x < L->dx1; x++)
        memset (L->cols + (size_t) x * cs + L->dy0, 0, (size_t) (L->dy1 - L->dy0) * 4);
    cairo_surface_mark_dirty (L->surface);
    cairo_set_source_surface (cr, L->surface, L->x0, L->y0);
    cairo_rectangle (cr, L->x0 + L->dx0, L->y0 + L->dy0, L->dx1 - L->dx0, L->dy1 - L->dy0);
    cairo_fill (cr);
    /* the image is kept clear outside the part painted as well: where the
     * chart lies at a fractional offset, the filter reads the pixels
     * around the rectangle */
    cairo_surface_flush (L->surface);
    for (int y = L->dy0; y < L->dy1; y++)
        memset (L->data + (size_t) y * rs + (size_t) L->dx0 * 4, 0,
                (size_t) (L->dx1 - L->dx0) * 4);
    L->dirty = FALSE;
    L->dx0 = L->dy0 = G_MAXINT;
    L->dx1 = L->dy1 = G_MININT;
}

static void
layer_free (Layer *L)
{
    /* the image stays in the cache, clear */
}

/* "Over" for one pixel: the premultiplied source `src` (packed like the
 * image, 0xAARRGGBB) whose alpha leaves k = 255 - alpha of what is
 * there.  Two channels at a time; each product is rounded to the nearest
 * (x * k + 128) * 257 >> 16, and premultiplied sums never exceed 255. */
static inline guint32
over (guint32 d, guint32 src, guint32 k)
{
    guint32 rb = (d & 0x00ff00ffu) * k + 0x00800080u;
    rb = ((rb + ((rb >> 8) & 0x00ff00ffu)) >> 8) & 0x00ff00ffu;
    guint32 ag = ((d >> 8) & 0x00ff00ffu) * k + 0x00800080u;
    ag = (ag + ((ag >> 8) & 0x00ff00ffu)) & 0xff00ff00u;
    return src + rb + ag;
}

/* The premultiplied source pixel for color rgb at alpha a (0..255). */
static inline guint32
premultiply (guint32 rgb, guint32 a)
{
    guint32 cr = (rgb >> 16) & 0xff, cg = (rgb >> 8) & 0xff, cb = rgb & 0xff;
    return (a << 24) | (((cr * a + 127) / 255) << 16) | (((cg * a + 127) / 255) << 8) |
           ((cb * a + 127) / 255);
}

/* Blends the end row y of a span [t, b) with the part of the pixel the
 * span covers. */
static inline void
blend_partial (guint8 *row, int y, double t, double b, guint32 rgb, double alpha)
{
    double cov = MIN (y + 1.0, b) - MAX ((double) y, t);
    guint32 a = cov >= 0.999 ? (guint32) (alpha * 255 + 0.5) : (guint32) (alpha * cov * 255 + 0.5);
    if (a == 0)
        return;
    guint32 *px = (guint32 *) row;
    *px = over (*px, premultiply (rgb, a), 255 - a);
}

/* Blends one column's span, color rgb at alpha, "over" what is there;
 * the end rows get the part of the pixel the span covers, the rows
 * between share one source pixel (an opaque one is simply stored). */
static void
layer_span (Layer *L, int col, double top, double bottom, guint32 rgb, double alpha)
{
    int x = col - L->x0;
    if (x < 0 || x >= L->width)
        return;
    double t = MAX (top - L->y0, 0), b = MIN (bottom - L->y0, L->height);
    if (!(b > t))
        return;
    int y0 = (int) board_floor_long (t), y1 = MIN ((int) -board_floor_long (-b), L->height);
    guint8 *row = (guint8 *) (L->cols + (size_t) x * L->cstride + (size_t) y0);
    L->dirty = TRUE;
    L->dx0 = MIN (L->dx0, x);
    L->dx1 = MAX (L->dx1, x + 1);
    L->dy0 = MIN (L->dy0, y0);
    L->dy1 = MAX (L->dy1, y1);
    blend_partial (row, y0, t, b, rgb, alpha);
    if (y1 - 1 <= y0)
        return;
    const size_t stride = 4;   /* the next row of the column */
    row += stride;
    guint32 fa = (guint32) (alpha * 255 + 0.5);
    guint32 src = premultiply (rgb, fa), k = 255 - fa;
    int y = y0 + 1;
    if (fa == 255) {
        for (; y < y1 - 1; y++, row += stride)
            *(guint32 *) row = src;
    } else {
        for (; y < y1 - 1; y++, row += stride)
            *(guint32 *) row = over (*(guint32 *) row, src, k);
    }
    blend_partial (row, y1 - 1, t, b, rgb, alpha);
}

/* Draws spans[0..n) of the columns first_col.. */
static void
draw_spans (cairo_t *cr, Layer *L, const Span *sp, size_t n, long first_col, double half,
            guint32 rgb, double alpha)
{
    if (n == 0)
        return;
    if (L->surface) {
        for (size_t i = 0; i < n; i++)
            layer_span (L, (int) (first_col + (long) i), sp[i].top - half, sp[i].bottom + half,
                        rgb, alpha);
        return;
    }
    cairo_new_path (cr);
    cairo_move_to (cr, first_col, sp[0].top - half);
    for (size_t i = 0; i < n; i++)
        cairo_line_to (cr, first_col + (double) i + 0.5, sp[i].top - half);
    cairo_line_to (cr, first_col + (double) n, sp[n - 1].top - half);
    cairo_line_to (cr, first_col + (double) n, sp[n - 1].bottom + half);
    for (size_t i = n; i > 0; i--)
        cairo_line_to (cr, first_col + (double) i - 0.5, sp[i - 1].bottom + half);
    cairo_line_to (cr, first_col, sp[0].bottom + half);
    cairo_close_path (cr);
    cairo_fill (cr);
}

static void
span_add (Span *s, double y)
{
    s->top = MIN (s->top, y);
    s->bottom = MAX (s->bottom, y);
}

static size_t
draw_series (cairo_t *cr, Layer *L, const BoardChartFrame *f, const BoardChartView *v,
             const BoardXY *pts, size_t m, double lw, guint32 rgb, double alpha)
{
    /* pixel columns touched, to tell dense from sparse; the points in
     * pixels, once (NaN y: a point left out on a log y axis) */
    size_t columns = 0;
    long last_col = G_MINLONG;
    BoardXY *px_pts = g_new (BoardXY, m ? m : 1);
    /* x_to_px and y_to_px with their constants computed once */
    const double kx0 = fx (v, f->x0), kxd = fx (v, f->x1) - kx0, kxw = f->right - f->left;
    const double ky0 = fy (v, f->y0), kyd = fy (v, f->y1) - ky0, kyh = f->bottom - f->top;
    for (size_t k = 0; k < m; k++) {
        double px = f->left + (fx (v, pts[k].x) - kx0) / kxd * kxw;
        long col = board_floor_long (px);
        if (col != last_col)
            columns++;
        last_col = col;
        px_pts[k].x = px;
        px_pts[k].y = v->log_y && pts[k].y <= 0 ? NAN
                                                 : CLAMP (f->bottom - (fy (v, pts[k].y) - ky0) / kyd * kyh,
                                                          -1e4, 1e4);
    }
    set_color (cr, rgb, alpha);
    if (m < 64 || m < columns * 2) {
        layer_flush (L, cr);
        cairo_set_line_width (cr, lw);
        cairo_set_line_join (cr, CAIRO_LINE_JOIN_ROUND);
        cairo_new_path (cr);
        size_t drawn = path_points (cr, f, v, pts, m, FALSE, FALSE);
        cairo_stroke (cr);
        g_free (px_pts);
        return drawn;
    }
    /* columns outside the plot are cut: the spans cover the plot's width */
    long lo_col = (long) floor (f->left) - 1, hi_col = (long) ceil (f->right) + 1;
    size_t cap = (size_t) (hi_col - lo_col + 1);
    Span *sp = g_new (Span, cap);
    size_t n = 0, drawn = 0;
    long first_col = 0;
    double prev_px = NAN, prev_py = NAN;
    for (size_t k = 0; k < m; k++) {
        if (isnan (px_pts[k].y)) {
            draw_spans (cr, L, sp, n, first_col, lw / 2, rgb, alpha);
            n = 0;
            prev_px = prev_py = NAN;
            continue;
        }
        double px = px_pts[k].x;
        double py = px_pts[k].y;
        drawn++;
        if (!isfinite (prev_px)) {
            prev_px = px;
            prev_py = py;
            continue;
        }
        /* the segment prev -> p, over the columns it crosses */
        double ax = MAX (prev_px, (double) lo_col), bx = MIN (px, (double) hi_col);
        if (bx >= ax) {
            double slope = px > prev_px ? (py - prev_py) / (px - prev_px) : 0;
            long c0 = board_floor_long (ax), c1 = board_floor_long (bx);
            for (long c = c0; c <= c1; c++) {
                double xa = MAX (ax, (double) c), xb = MIN (bx, c + 1.0);
                double ya = prev_py + (xa - prev_px) * slope;
                double yb = prev_py + (xb - prev_px) * slope;
                if (n == 0) {
                    first_col = c;
                    sp[n++] = (Span) { MIN (ya, yb), MAX (ya, yb) };
                    continue;
                }
                long cur = first_col + (long) n - 1;
                if (c == cur) {
                    span_add (&sp[n - 1], ya);
                    span_add (&sp[n - 1], yb);
                } else if (c > cur && (size_t) (c - first_col) < cap) {
                    while (first_col + (long) n < c) {   /* cannot happen: c0..c1 is contiguous */
                        sp[n] = sp[n - 1];
                        n++;
                    }
                    sp[n++] = (Span) { MIN (ya, yb), MAX (ya, yb) };
                }
            }
        }
        prev_px = px;
        prev_py = py;
    }
    draw_spans (cr, L, sp, n, first_col, lw / 2, rgb, alpha);
    g_free (sp);
    g_free (px_pts);
    return drawn;
}

size_t
board_chart_render (cairo_t *cr, int width, int height, const BoardChartLine *lines,
                    size_t n_lines, const BoardChartView *v, const BoardChartFrame *f)
{
    const double *fg = v->fg;
    cairo_save (cr);
    if (v->opaque_background) {
        cairo_set_source_rgb (cr, v->bg[0], v->bg[1], v->bg[2]);
        cairo_paint (cr);
    }
    PangoLayout *layout = pango_cairo_create_layout (cr);
    PangoFontDescription *font = pango_font_description_from_string ("Sans 8");
    pango_layout_set_font_description (layout, font);

    /* title */
    if (v->title) {
        PangoFontDescription *bold = pango_font_description_from_string ("Sans Bold 9");
        pango_layout_set_font_description (layout, bold);
        pango_layout_set_width (layout, (int) ((width - 16) * PANGO_SCALE));
        pango_layout_set_ellipsize (layout, PANGO_ELLIPSIZE_MIDDLE);
        cairo_set_source_rgb (cr, fg[0], fg[1], fg[2]);
        draw_text (cr, layout, v->title, 8, 5, 0, 0);
        pango_layout_set_width (layout, -1);
        pango_layout_set_font_description (layout, font);
        pango_font_description_free (bold);
    }

    /* grid and tick labels */
    double ticks[32];
    char buf[64];
    cairo_set_line_width (cr, 1);
    int nt = axis_ticks (f->y0, f->y1, v->log_y, ticks, 32);
    for (int i = 0; i < nt; i++) {
        double py = round (board_chart_y_to_px (f, v, ticks[i])) + 0.5;
        if (py < f->top - 0.5 || py > f->bottom + 0.5)
            continue;
        cairo_set_source_rgba (cr, fg[0], fg[1], fg[2], 0.12);
        cairo_move_to (cr, f->left, py);
        cairo_line_to (cr, f->right, py);
        cairo_stroke (cr);
        cairo_set_source_rgba (cr, fg[0], fg[1], fg[2], 0.75);
        format_value (buf, sizeof buf, ticks[i]);
        draw_text (cr, layout, buf, f->left - 6, py, 1, 0.5);
    }
    nt = axis_ticks (f->x0, f->x1, v->log_x, ticks, 32);
    if (v->x_axis == BOARD_X_WALL || v->x_axis == BOARD_X_RELATIVE)
        nt = MIN (nt, 5);
    double last_label_right = -1e9;
    for (int i = 0; i < nt; i++) {
        double px = round (board_chart_x_to_px (f, v, ticks[i])) + 0.5;
        if (px < f->left - 0.5 || px > f->right + 0.5)
            continue;
        cairo_set_source_rgba (cr, fg[0], fg[1], fg[2], 0.12);
        cairo_move_to (cr, px, f->top);
        cairo_line_to (cr, px, f->bottom);
        cairo_stroke (cr);
        format_x (buf, sizeof buf, v, ticks[i]);
        pango_layout_set_text (layout, buf, -1);
        int tw, th;
        pango_layout_get_pixel_size (layout, &tw, &th);
        double lx = CLAMP (px - tw / 2.0, 2, width - tw - 2);
        if (lx < last_label_right + 6)
            continue;   /* never overlap labels */
        cairo_set_source_rgba (cr, fg[0], fg[1], fg[2], 0.75);
        cairo_move_to (cr, lx, f->bottom + 5);
        pango_cairo_show_layout (cr, layout);
        last_label_right = lx + tw;
    }
    /* frame */
    cairo_set_source_rgba (cr, fg[0], fg[1], fg[2], 0.35);
    cairo_rectangle (cr, f->left + 0.5, f->top + 0.5, f->right - f->left - 1,
                     f->bottom - f->top - 1);
    cairo_stroke (cr);

    /* lines, clipped to the plot */
    size_t drawn = 0;
    int columns = (int) (f->right - f->left);
    BoardXY *pts = g_new (BoardXY, BOARD_DOWNSAMPLE_MAX_OUT (columns));
    BoardXY *pts2 = g_new (BoardXY, BOARD_DOWNSAMPLE_MAX_OUT (columns));
    cairo_save (cr);
    cairo_rectangle (cr, f->left, f->top, f->right - f->left, f->bottom - f->top);
    cairo_clip (cr);
    Layer layer;
    layer_init (&layer, cr, f);
    for (size_t l = 0; l < n_lines && !f->empty; l++) {
        const BoardChartLine *ln = &lines[l];
        double *logx = NULL;
        if (ln->band_lo && ln->band_hi) {
            layer_flush (&layer, cr);
            size_t a = reduce (f, v, ln, ln->band_hi, NULL, pts, columns, &logx);
            size_t b = reduce (f, v, ln, ln->band_lo, NULL, pts2, columns, &logx);
            cairo_new_path (cr);
            path_points (cr, f, v, pts, a, FALSE, FALSE);
            path_points (cr, f, v, pts2, b, TRUE, TRUE);
            cairo_close_path (cr);
            set_color (cr, ln->color, 0.22);
            cairo_fill (cr);
        }
        /* with many lines the faint raw lines are a gray fog that costs
         * more to draw than the lines themselves: the smoothed ones only */
        if (ln->raw_y && n_lines <= BOARD_CHART_MAX_RAW_LINES) {
            size_t m = reduce (f, v, ln, ln->raw_y, ln->raw_pyramid, pts, columns, &logx);
            draw_series (cr, &layer, f, v, pts, m, 1, ln->color, 0.25);
        }
        size_t m = reduce (f, v, ln, ln->y, ln->y_pyramid, pts, columns, &logx);
        drawn += draw_series (cr, &layer, f, v, pts, m, 1.6, ln->color, 1);
        if (m == 1) {   /* a single point: a dot */
            cairo_arc (cr, board_chart_x_to_px (f, v, pts[0].x),
                       board_chart_y_to_px (f, v, pts[0].y), 2.5, 0, 2 * G_PI);
            cairo_fill (cr);
        }
        g_free (logx);
    }
    layer_flush (&layer, cr);
    layer_free (&layer);
    cairo_restore (cr);
    g_free (pts);
    g_free (pts2);

    if (f->empty) {
        cairo_set_source_rgba (cr, fg[0], fg[1], fg[2], 0.6);
        draw_text (cr, layout, "no data yet", (f->left + f->right) / 2,
                   (f->top + f->bottom) / 2, 0.5, 0.5);
    }

    /* zoom rectangle */
    if (v->selecting) {
        cairo_rectangle (cr, MIN (v->sel_x0, v->sel_x1), MIN (v->sel_y0, v->sel_y1),
                         fabs (v->sel_x1 - v->sel_x0), fabs (v->sel_y1 - v->sel_y0));
        cairo_set_source_rgba (cr, 0.3, 0.55, 0.9, 0.18);
        cairo_fill_preserve (cr);
        cairo_set_source_rgba (cr, 0.3, 0.55, 0.9, 0.8);
        cairo_stroke (cr);
    }

    /* tooltip: each line's point nearest the cursor's x, nearest first */
    if (v->hover && !f->empty && n_lines > 0 && v->hover_px >= f->left &&
        v->hover_px <= f->right) {
        typedef struct { size_t line, i; double dist, px, py; } Hit;
        Hit *hits = g_new (Hit, n_lines);
        size_t nh = 0;
        double xc = board_chart_px_to_x (f, v, v->hover_px);
        for (size_t l = 0; l < n_lines; l++) {
            const BoardChartLine *ln = &lines[l];
            if (ln->n == 0)
                continue;
            size_t i = board_lower_bound (ln->x, ln->n, xc);
            if (i >= ln->n || (i > 0 && fabs (ln->x[i - 1] - xc) < fabs (ln->x[i] - xc)))
                i = i > 0 ? i - 1 : 0;
            if (!isfinite (ln->y[i]))
                continue;
            double px = board_chart_x_to_px (f, v, ln->x[i]);
            double py = board_chart_y_to_px (f, v, ln->y[i]);
            hits[nh++] = (Hit) { l, i, hypot (px - v->hover_px, py - v->hover_py), px, py };
        }
        for (size_t a = 1; a < nh; a++)   /* insertion sort: few lines */
            for (size_t b = a; b > 0 && hits[b].dist < hits[b - 1].dist; b--) {
                Hit t = hits[b];
                hits[b] = hits[b - 1];
                hits[b - 1] = t;
            }
        cairo_set_source_rgba (cr, fg[0], fg[1], fg[2], 0.4);
        cairo_move_to (cr, round (v->hover_px) + 0.5, f->top);
        cairo_line_to (cr, round (v->hover_px) + 0.5, f->bottom);
        cairo_stroke (cr);
        for (size_t k = 0; k < nh; k++) {
            if (hits[k].py < f->top || hits[k].py > f->bottom)
                continue;
            set_color (cr, lines[hits[k].line].color, 1);
            cairo_arc (cr, hits[k].px, hits[k].py, 3.5, 0, 2 * G_PI);
            cairo_fill (cr);
        }
        size_t rows = MIN (nh, 8);
        if (rows > 0) {
            GString *text = g_string_new (NULL);
            for (size_t k = 0; k < rows; k++) {
                const BoardChartLine *ln = &lines[hits[k].line];
                size_t i = hits[k].i;
                char val[32], xs[32];
                format_value (val, sizeof val, ln->y[i]);
                if (ln->steps)
                    g_snprintf (xs, sizeof xs, "%.0f", ln->steps[i]);
                else
                    format_x (xs, sizeof xs, v, ln->x[i]);
                char *name = g_markup_escape_text (ln->name ? ln->name : "", -1);
                g_string_append_printf (text, "%s<span foreground='#%06x'>\u25cf</span> %s  "
                                        "<b>%s</b>", k ? "\n" : "", ln->color, name, val);
                if (ln->raw_y && ln->raw_y[i] != ln->y[i]) {
                    char raw[32];
                    format_value (raw, sizeof raw, ln->raw_y[i]);
                    g_string_append_printf (text, " (%s)", raw);
                }
                g_string_append_printf (text, "  step %s", xs);
                g_free (name);
            }
            if (nh > rows)
                g_string_append_printf (text, "\n+%zu more", nh - rows);
            pango_layout_set_markup (layout, text->str, -1);
            g_string_free (text, TRUE);
            int tw, th;
            pango_layout_get_pixel_size (layout, &tw, &th);
            double bx = v->hover_px + 12, by = v->hover_py + 12;
            if (bx + tw + 12 > width)
                bx = MAX (2, v->hover_px - tw - 20);
            if (by + th + 10 > height)
                by = MAX (2, height - th - 12);
            gboolean dark = fg[0] + fg[1] + fg[2] > 1.5;
            if (dark)
                cairo_set_source_rgba (cr, 0.13, 0.13, 0.14, 0.94);
            else
                cairo_set_source_rgba (cr, 1, 1, 1, 0.94);
            cairo_rectangle (cr, bx, by, tw + 12, th + 8);
            cairo_fill_preserve (cr);
            cairo_set_source_rgba (cr, fg[0], fg[1], fg[2], 0.3);
            cairo_stroke (cr);
            cairo_set_source_rgb (cr, fg[0], fg[1], fg[2]);
            cairo_move_to (cr, bx + 6, by + 4);
            pango_cairo_show_layout (cr, layout);
        }
        g_free (hits);
    }

    pango_font_description_free (font);
    g_object_unref (layout);
    cairo_restore (cr);
    return drawn;
}

gboolean
board_chart_export_image (const char *path, int width, int height, const BoardChartLine *lines,
                          size_t n_lines, const BoardChartView *view, GError **error)
{
    gboolean svg = g_str_has_suffix (path, ".svg");
    cairo_surface_t *surface = svg ? cairo_svg_surface_create (path, width, height)
                                   : cairo_image_surface_create (CAIRO_FORMAT_ARGB32, width,
                                                                 height);
    cairo_t *cr = cairo_create (surface);
    BoardChartView v = *view;
    v.hover = FALSE;
    v.selecting = FALSE;
    v.opaque_background = TRUE;
    BoardChartFrame f;
    board_chart_compute_frame (lines, n_lines, &v, width, height, &f);
    board_chart_render (cr, width, height, lines, n_lines, &v, &f);
    cairo_destroy (cr);
    cairo_status_t status = svg ? cairo_surface_status (surface)
                                : cairo_surface_write_to_png (surface, path);
    cairo_surface_finish (surface);
    if (status == CAIRO_STATUS_SUCCESS)
        status = cairo_surface_status (surface);
    cairo_surface_destroy (surface);
    if (status != CAIRO_STATUS_SUCCESS) {
        g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, "cannot write '%s': %s", path,
                     cairo_status_to_string (status));
        return FALSE;
    }
    return TRUE;
}
