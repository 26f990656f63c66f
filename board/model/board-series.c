/* Series storage, caches and export (see the header). */
#include "board-series.h"

#include "board-smoothing.h"

#include <math.h>
#include <string.h>

/* Equal, NaN equal to NaN (a run without a start time yet). */
static gboolean
same_double (double a, double b)
{
    return a == b || (isnan (a) && isnan (b));
}

void
board_blob_free (BoardBlob *b)
{
    if (!b)
        return;
    g_free (b->buckets);
    for (int i = 0; i < b->n_blobs; i++)
        g_bytes_unref (b->blobs[i]);
    g_free (b->blobs);
    g_free (b);
}

BoardSeries *
board_series_new (const char *tag, BoardKind kind, const char *plugin)
{
    BoardSeries *s = g_new0 (BoardSeries, 1);
    s->tag = g_strdup (tag);
    s->kind = kind;
    s->plugin = g_strdup (plugin ? plugin : "");
    s->steps = g_array_new (FALSE, FALSE, sizeof (gint64));
    s->step_x = g_array_new (FALSE, FALSE, sizeof (double));
    s->wall = g_array_new (FALSE, FALSE, sizeof (double));
    s->values = g_array_new (FALSE, FALSE, sizeof (double));
    s->blobs = g_ptr_array_new_with_free_func ((GDestroyNotify) board_blob_free);
    s->smoothed = g_array_new (FALSE, FALSE, sizeof (double));
    s->rel_x = g_array_new (FALSE, FALSE, sizeof (double));
    s->log_x = g_array_new (FALSE, FALSE, sizeof (double));
    s->smoothed_version = G_MAXUINT;
    s->rel_version = G_MAXUINT;
    s->log_x_version = G_MAXUINT;
    return s;
}

void
board_series_free (BoardSeries *s)
{
    if (!s)
        return;
    g_free (s->tag);
    g_free (s->plugin);
    g_array_unref (s->steps);
    g_array_unref (s->step_x);
    g_array_unref (s->wall);
    g_array_unref (s->values);
    g_ptr_array_unref (s->blobs);
    g_array_unref (s->smoothed);
    g_array_unref (s->rel_x);
    g_array_unref (s->log_x);
    for (int k = 0; k < 2; k++)
        board_minmax_pyramid_free (s->pyr[k].pyramid);
    g_free (s);
}

size_t
board_series_count (const BoardSeries *s)
{
    return s->kind == BOARD_KIND_SCALAR ? s->values->len : s->blobs->len;
}

void
board_series_append_scalars (BoardSeries *s, const gint64 *steps, const double *walls,
                             const double *values, size_t n)
{
    g_array_append_vals (s->steps, steps, n);
    g_array_append_vals (s->wall, walls, n);
    g_array_append_vals (s->values, values, n);
    size_t base = s->step_x->len;
    g_array_set_size (s->step_x, base + n);
    double *sx = &g_array_index (s->step_x, double, 0);
    for (size_t i = 0; i < n; i++)
        sx[base + i] = (double) steps[i];
    s->version++;
}

static void
swap_arrays (GArray **a, GArray **b)
{
    GArray *t = *a;
    *a = *b;
    *b = t;
}

void
board_series_take_scalars (BoardSeries *s, GArray **steps, GArray **step_x, GArray **walls,
                           GArray **values)
{
    guint n = (*values)->len;
    if (s->values->len != 0 || (*steps)->len != n || (*walls)->len != n) {
        board_series_append_scalars (s, (const gint64 *) (*steps)->data,
                                     (const double *) (*walls)->data,
                                     (const double *) (*values)->data, n);
        return;
    }
    swap_arrays (&s->steps, steps);
    swap_arrays (&s->wall, walls);
    swap_arrays (&s->values, values);
    if (step_x && *step_x && (*step_x)->len == n) {
        swap_arrays (&s->step_x, step_x);
    } else {
        g_array_set_size (s->step_x, n);
        double *sx = (double *) s->step_x->data;
        const gint64 *st = (const gint64 *) s->steps->data;
        for (guint i = 0; i < n; i++)
            sx[i] = (double) st[i];
    }
    s->version++;
}

void
board_series_clear (BoardSeries *s)
{
    g_array_set_size (s->steps, 0);
    g_array_set_size (s->step_x, 0);
    g_array_set_size (s->wall, 0);
    g_array_set_size (s->values, 0);
    g_ptr_array_set_size (s->blobs, 0);
    s->version++;
}

void
board_series_append_blob (BoardSeries *s, BoardBlob *b)
{
    g_ptr_array_add (s->blobs, b);
    s->version++;
}

const double *
board_series_smoothed (BoardSeries *s, double w)
{
    if (s->smoothed_version != s->version || s->smoothed_weight != w) {
        g_array_set_size (s->smoothed, s->values->len);
        board_smooth_ema ((const double *) s->values->data, s->values->len, w,
                          (double *) s->smoothed->data);
        s->smoothed_version = s->version;
        s->smoothed_weight = w;
    }
    return (const double *) s->smoothed->data;
}

const double *
board_series_x (BoardSeries *s, BoardXAxis axis, double run_start)
{
    switch (axis) {
    case BOARD_X_WALL:
        return (const double *) s->wall->data;
    case BOARD_X_RELATIVE:
        if (s->rel_version != s->version || !same_double (s->rel_start, run_start)) {
            g_array_set_size (s->rel_x, s->wall->len);
            const double *w = (const double *) s->wall->data;
            double *r = (double *) s->rel_x->data;
            for (guint i = 0; i < s->wall->len; i++)
                r[i] = w[i] - run_start;
            s->rel_version = s->version;
            s->rel_start = run_start;
        }
        return (const double *) s->rel_x->data;
    case BOARD_X_STEP:
    default:
        return (const double *) s->step_x->data;
    }
}

const double *
board_series_log_x (BoardSeries *s, BoardXAxis axis, double run_start)
{
    const double *x = board_series_x (s, axis, run_start);
    if (s->log_x_version != s->version || s->log_x_of != x ||
        (axis == BOARD_X_RELATIVE && !same_double (s->log_x_start, run_start))) {
        size_t n = s->wall->len;
        g_array_set_size (s->log_x, n);
        double *l = (double *) s->log_x->data;
        for (size_t i = 0; i < n; i++)
            l[i] = x[i] > 0 ? log10 (x[i]) : -INFINITY;
        s->log_x_version = s->version;
        s->log_x_of = x;
        s->log_x_start = run_start;
    }
    return (const double *) s->log_x->data;
}

const BoardMinMaxPyramid *
board_series_pyramid (BoardSeries *s, const double *x, double run_start, gboolean smoothed,
                      double w)
{
    int k = smoothed ? 1 : 0;
    const double *y = smoothed ? board_series_smoothed (s, w) : (const double *) s->values->data;
    double weight = smoothed ? w : 0;
    if (!s->pyr[k].pyramid || s->pyr[k].version != s->version || s->pyr[k].x != x ||
        s->pyr[k].weight != weight || !same_double (s->pyr[k].x_start, run_start)) {
        board_minmax_pyramid_free (s->pyr[k].pyramid);
        s->pyr[k].pyramid = board_minmax_pyramid_new (x, y, s->values->len);
        s->pyr[k].version = s->version;
        s->pyr[k].x = x;
        s->pyr[k].weight = weight;
        s->pyr[k].x_start = run_start;
    }
    return s->pyr[k].pyramid;
}

/* %.17g in the C locale whatever LC_NUMERIC says. */
static void
append_double (GString *out, double v)
{
    char buf[G_ASCII_DTOSTR_BUF_SIZE];
    g_ascii_formatd (buf, sizeof buf, "%.17g", v);
    g_string_append (out, buf);
}

void
board_series_write_csv (const BoardSeries *s, GString *out)
{
    g_string_append (out, "Wall time,Step,Value\n");
    for (guint i = 0; i < s->values->len; i++) {
        append_double (out, g_array_index (s->wall, double, i));
        g_string_append_printf (out, ",%" G_GINT64_FORMAT ",", g_array_index (s->steps, gint64, i));
        double v = g_array_index (s->values, double, i);
        if (isnan (v))
            g_string_append (out, "nan");
        else if (isinf (v))
            g_string_append (out, v > 0 ? "inf" : "-inf");
        else
            append_double (out, v);
        g_string_append_c (out, '\n');
    }
}

void
board_series_write_json (const BoardSeries *s, GString *out)
{
    g_string_append_c (out, '[');
    for (guint i = 0; i < s->values->len; i++) {
        if (i)
            g_string_append_c (out, ',');
        g_string_append_c (out, '[');
        append_double (out, g_array_index (s->wall, double, i));
        g_string_append_printf (out, ",%" G_GINT64_FORMAT ",", g_array_index (s->steps, gint64, i));
        double v = g_array_index (s->values, double, i);
        if (isfinite (v))
            append_double (out, v);
        else
            g_string_append (out, "null");
        g_string_append_c (out, ']');
    }
    g_string_append (out, "]\n");
}

char *
board_tag_group (const char *tag)
{
    const char *slash = strchr (tag, '/');
    return slash ? g_strndup (tag, (gsize) (slash - tag)) : g_strdup (tag);
}
