/* Min/max-per-column reduction of a polyline (see the header). */
#include "board-downsample.h"

#include <math.h>

size_t
board_lower_bound (const double *x, size_t n, double v)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (x[mid] < v)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

static gboolean
finite_point (const double *x, const double *y, size_t i)
{
    return isfinite (x[i]) && isfinite (y[i]);
}

size_t
board_downsample_minmax (const double *x, const double *y, size_t n,
                         double x0, double x1, int columns, BoardXY *out)
{
    if (columns <= 0 || !(x1 > x0) || n == 0)
        return 0;

    size_t w = 0;
    size_t begin = board_lower_bound (x, n, x0);
    size_t end = board_lower_bound (x, n, x1);

    /* The last finite point before the range, to draw the line in. */
    for (size_t i = begin; i > 0; i--) {
        if (finite_point (x, y, i - 1)) {
            out[w++] = (BoardXY) { x[i - 1], y[i - 1] };
            break;
        }
    }

    double scale = columns / (x1 - x0);
    size_t i = begin;
    while (i < end) {
        if (!finite_point (x, y, i)) {
            i++;
            continue;
        }
        long col = board_floor_long ((x[i] - x0) * scale);
        /* x is sorted: the column ends where x reaches its right edge */
        double edge = x0 + (col + 1) / scale;
        size_t first = i, last = i, lo = i, hi = i;
        size_t j = i + 1;
        for (; j < end; j++) {
            if (!finite_point (x, y, j))
                continue;
            if (x[j] >= edge && board_floor_long ((x[j] - x0) * scale) != col)
                break;
            last = j;
            if (y[j] < y[lo])
                lo = j;
            if (y[j] > y[hi])
                hi = j;
        }
        /* Emit first, min, max, last in index order, without repeats. */
        size_t idx[4] = { first, lo < hi ? lo : hi, lo < hi ? hi : lo, last };
        size_t prev = (size_t) -1;
        for (int k = 0; k < 4; k++) {
            if (idx[k] == prev)
                continue;
            out[w++] = (BoardXY) { x[idx[k]], y[idx[k]] };
            prev = idx[k];
        }
        i = j;
    }

    /* The first finite point after the range, to draw the line out. */
    for (size_t k = end; k < n; k++) {
        if (finite_point (x, y, k)) {
            out[w++] = (BoardXY) { x[k], y[k] };
            break;
        }
    }
    return w;
}

/* ---- the pyramid ---- */

#define PYR_BASE_SHIFT 3   /* level 0 blocks hold 8 points */

struct _BoardMinMaxPyramid {
    size_t n;
    gboolean finite;        /* every x and y finite: the fast path applies */
    int levels;
    size_t *count;          /* blocks per level */
    guint32 **lo, **hi;     /* per level, per block: index of the min, of the max */
};

/* The better of two candidate indices for the minimum (or, with `max`,
 * the maximum): the more extreme value, the first index on ties. */
static inline guint32
pick (const double *y, guint32 a, guint32 b, gboolean max)
{
    double ya = y[a], yb = y[b];
    if (max ? yb > ya : yb < ya)
        return b;
    if (ya == yb && b < a)
        return b;
    return a;
}

BoardMinMaxPyramid *
board_minmax_pyramid_new (const double *x, const double *y, size_t n)
{
    BoardMinMaxPyramid *p = g_new0 (BoardMinMaxPyramid, 1);
    p->n = n;
    p->finite = n < G_MAXUINT32;
    for (size_t i = 0; i < n && p->finite; i++)
        p->finite = isfinite (x[i]) && isfinite (y[i]);
    size_t blocks = n >> PYR_BASE_SHIFT;
    if (!p->finite || blocks == 0)
        return p;
    int levels = 0;
    for (size_t b = blocks; b >= 1; b = (b + 1) / 2) {
        levels++;
        if (b == 1)
            break;
    }
    p->levels = levels;
    p->count = g_new (size_t, levels);
    p->lo = g_new (guint32 *, levels);
    p->hi = g_new (guint32 *, levels);
    p->count[0] = blocks;
    p->lo[0] = g_new (guint32, blocks);
    p->hi[0] = g_new (guint32, blocks);
    for (size_t b = 0; b < blocks; b++) {
        size_t i0 = b << PYR_BASE_SHIFT;
        guint32 lo = (guint32) i0, hi = (guint32) i0;
        for (size_t i = i0 + 1; i < i0 + (1u << PYR_BASE_SHIFT); i++) {
            if (y[i] < y[lo])
                lo = (guint32) i;
            if (y[i] > y[hi])
                hi = (guint32) i;
        }
        p->lo[0][b] = lo;
        p->hi[0][b] = hi;
    }
    for (int l = 1; l < levels; l++) {
        size_t below = p->count[l - 1], c = (below + 1) / 2;
        p->count[l] = c;
        p->lo[l] = g_new (guint32, c);
        p->hi[l] = g_new (guint32, c);
        const guint32 *blo = p->lo[l - 1], *bhi = p->hi[l - 1];
        for (size_t b = 0; b < c; b++) {
            if (2 * b + 1 < below) {
                p->lo[l][b] = pick (y, blo[2 * b], blo[2 * b + 1], FALSE);
                p->hi[l][b] = pick (y, bhi[2 * b], bhi[2 * b + 1], TRUE);
            } else {
                p->lo[l][b] = blo[2 * b];
                p->hi[l][b] = bhi[2 * b];
            }
        }
    }
    return p;
}

void
board_minmax_pyramid_free (BoardMinMaxPyramid *p)
{
    if (!p)
        return;
    for (int l = 0; l < p->levels; l++) {
        g_free (p->lo[l]);
        g_free (p->hi[l]);
    }
    g_free (p->lo);
    g_free (p->hi);
    g_free (p->count);
    g_free (p);
}

size_t
board_minmax_pyramid_count (const BoardMinMaxPyramid *p)
{
    return p ? p->n : 0;
}

/* The indices of the minimum and maximum of y[a..b), a < b (first on
 * ties), from whole blocks where they fit and single points at the ends. */
static void
range_minmax (const BoardMinMaxPyramid *p, const double *y, size_t a, size_t b, size_t *lo_out,
              size_t *hi_out)
{
    const size_t B = (size_t) 1 << PYR_BASE_SHIFT;
    guint32 lo = (guint32) a, hi = (guint32) a;
    size_t A = (a + B - 1) >> PYR_BASE_SHIFT, Z = b >> PYR_BASE_SHIFT;   /* whole blocks [A, Z) */
    if (p->levels == 0 || A >= Z) {
        for (size_t i = a + 1; i < b; i++) {
            if (y[i] < y[lo])
                lo = (guint32) i;
            if (y[i] > y[hi])
                hi = (guint32) i;
        }
        *lo_out = lo;
        *hi_out = hi;
        return;
    }
    for (size_t i = a + 1; i < A * B; i++) {
        if (y[i] < y[lo])
            lo = (guint32) i;
        if (y[i] > y[hi])
            hi = (guint32) i;
    }
    for (size_t i = Z * B; i < b; i++) {
        if (y[i] < y[lo])
            lo = (guint32) i;
        if (y[i] > y[hi])
            hi = (guint32) i;
    }
    for (int l = 0; A < Z && l < p->levels; l++, A >>= 1, Z >>= 1) {
        if (A & 1) {
            lo = pick (y, lo, p->lo[l][A], FALSE);
            hi = pick (y, hi, p->hi[l][A], TRUE);
            A++;
        }
        if (Z & 1) {
            Z--;
            lo = pick (y, lo, p->lo[l][Z], FALSE);
            hi = pick (y, hi, p->hi[l][Z], TRUE);
        }
    }
    *lo_out = lo;
    *hi_out = hi;
}

size_t
board_downsample_minmax_pyramid (const double *x, const double *y, size_t n,
                                 const BoardMinMaxPyramid *p, double x0, double x1, int columns,
                                 BoardXY *out)
{
    if (!p || !p->finite || p->n != n)
        return board_downsample_minmax (x, y, n, x0, x1, columns, out);
    if (columns <= 0 || !(x1 > x0) || n == 0)
        return 0;

    size_t w = 0;
    size_t begin = board_lower_bound (x, n, x0);
    size_t end = board_lower_bound (x, n, x1);
    if (begin > 0)
        out[w++] = (BoardXY) { x[begin - 1], y[begin - 1] };

    /* The same columns as board_downsample_minmax(): a column starts at
     * its first point i and runs on while x < its right edge or x still
     * falls in it.  Both tests only turn false as x grows, so the
     * column's end is found by a galloping search from i. */
    double scale = columns / (x1 - x0);
    size_t i = begin;
    /* the previous column's width: with evenly spaced steps, the next
     * column's end is tried there first (the end found is the same) */
    size_t guess = (end - begin) / (size_t) columns + 1;
    while (i < end) {
        long col = board_floor_long ((x[i] - x0) * scale);
        double edge = x0 + (col + 1) / scale;
#define BOARD_IN_COLUMN(j) (x[j] < edge || board_floor_long ((x[j] - x0) * scale) == col)
        /* find lo < hi with lo in the column and hi out (or end) */
        size_t lo = i, hi, g = i + guess;
        if (g >= end) {
            hi = end;
        } else if (BOARD_IN_COLUMN (g)) {
            /* gallop on from the guess */
            size_t step = 1;
            lo = g;
            hi = g + 1;
            while (hi < end && BOARD_IN_COLUMN (hi)) {
                lo = hi;
                step *= 2;
                hi = lo + step < end ? lo + step : end;
            }
        } else {
            hi = g;
            if (g - 1 > i && BOARD_IN_COLUMN (g - 1))
                lo = g - 1;
        }
        while (hi - lo > 1) {
            size_t mid = lo + (hi - lo) / 2;
            if (BOARD_IN_COLUMN (mid))
                lo = mid;
            else
                hi = mid;
        }
#undef BOARD_IN_COLUMN
        size_t j = hi;   /* the column is [i, j) */
        size_t first = i, last = j - 1, mn, mx;
        range_minmax (p, y, i, j, &mn, &mx);
        size_t idx[4] = { first, mn < mx ? mn : mx, mn < mx ? mx : mn, last };
        size_t prev = (size_t) -1;
        for (int k = 0; k < 4; k++) {
            if (idx[k] == prev)
                continue;
            out[w++] = (BoardXY) { x[idx[k]], y[idx[k]] };
            prev = idx[k];
        }
        guess = j - i;
        i = j;
    }
    if (end < n)
        out[w++] = (BoardXY) { x[end], y[end] };
    return w;
}
