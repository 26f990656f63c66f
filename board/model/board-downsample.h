/* Reducing a series to the pixels it covers, without losing a spike.
 *
 * A chart of 10,000 points on a 600-pixel plot draws each pixel column
 * many times over.  The board reduces every series, before each frame,
 * to at most four points per column: the first, the minimum, the maximum
 * and the last point of the column, in their original order.  The polyline
 * through them covers exactly the pixels the full polyline covers (the
 * vertical extent of each column and the joins between columns), so the
 * highest and lowest points always show, unlike TensorBoard's reservoir
 * of 1000 random points.
 *
 * Thread-safety: pure functions; safe from any thread.
 */
#pragma once

#include <glib.h>
#include <math.h>

G_BEGIN_DECLS

/* (long) floor (v), the same for every double, without a call to floor()
 * (x86-64's baseline has no instruction for it: a call per point that
 * spills every register in the loops that draw a frame). */
static inline long
board_floor_long (double v)
{
    if (G_LIKELY (v > -4e18 && v < 4e18)) {
        long t = (long) v;
        return t - ((double) t > v);
    }
    return (long) floor (v);
}

typedef struct {
    double x;
    double y;
} BoardXY;

/* The most points board_downsample_minmax() writes for `columns`. */
#define BOARD_DOWNSAMPLE_MAX_OUT(columns) (4 * (size_t) (columns) + 2)

/* Reduces the points (x[i], y[i]), i < n, with x ascending, to those that
 * draw the same polyline on `columns` pixel columns spanning [x0, x1):
 * per column the first, lowest, highest and last point in index order,
 * plus the last point before x0 and the first after x1 so that lines run
 * to the plot's edges.  Points whose x or y is not finite are dropped.
 * `out` holds BOARD_DOWNSAMPLE_MAX_OUT(columns) points; returns how many
 * were written.  With columns <= 0 or x1 <= x0 nothing is written.
 * Cost: O(log n + points in [x0, x1]). */
size_t board_downsample_minmax (const double *x, const double *y, size_t n,
                                double x0, double x1, int columns, BoardXY *out);

/* First index i with x[i] >= v in the ascending array x[0..n); n if none. */
size_t board_lower_bound (const double *x, size_t n, double v);

/* A min/max pyramid over a series: for blocks of 8 points, then 16, 32...
 * (each level pairs the blocks of the one below), the index of the lowest
 * and of the highest value (the first one on ties).  With it a pixel
 * column's minimum and maximum come from O(log points) blocks instead of
 * a walk over every point, so reducing a series to a chart's columns
 * costs O(columns log n) whatever the zoom.  It holds about one byte per
 * point.  Built for given x and y arrays (owned by the caller, which must
 * keep them unchanged while the pyramid is used with them). */
typedef struct _BoardMinMaxPyramid BoardMinMaxPyramid;

BoardMinMaxPyramid *board_minmax_pyramid_new (const double *x, const double *y, size_t n);
void board_minmax_pyramid_free (BoardMinMaxPyramid *p);
/* The number of points it was built for. */
size_t board_minmax_pyramid_count (const BoardMinMaxPyramid *p);

/* board_downsample_minmax() with the help of `p` (built for these x, y
 * and n): the same points out, in O(columns log n).  With p NULL, or when
 * some x or y is not finite, it is board_downsample_minmax(). */
size_t board_downsample_minmax_pyramid (const double *x, const double *y, size_t n,
                                        const BoardMinMaxPyramid *p, double x0, double x1,
                                        int columns, BoardXY *out);

G_END_DECLS
