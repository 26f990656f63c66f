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
        long col = (long) floor ((x[i] - x0) * scale);
        /* x is sorted: the column ends where x reaches its right edge */
        double edge = x0 + (col + 1) / scale;
        size_t first = i, last = i, lo = i, hi = i;
        size_t j = i + 1;
        for (; j < end; j++) {
            if (!finite_point (x, y, j))
                continue;
            if (x[j] >= edge && (long) floor ((x[j] - x0) * scale) != col)
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
