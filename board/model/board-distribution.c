/* TensorBoard's histogram compressor (compressor.py), line by line:
 *
 *   weights = (counts * bps[-1] / (counts.sum() or 1.0)).cumsum()
 *   for each bp: i = searchsorted(weights, bp, side="right"), then skip
 *   buckets whose cumulative weight does not grow; interpolate bp between
 *   the bucket's cumulative bounds onto [max(prev right edge, min),
 *   min(right edge, max)] (the left end is min for the first bucket or
 *   when nothing came before); basis points past the last bucket get max.
 */
#include "board-distribution.h"

static const int bps[BOARD_DISTRIBUTION_BPS] = { 0, 668, 1587, 3085, 5000, 6915, 8413, 9332,
                                                 10000 };

const int *
board_distribution_basis_points (void)
{
    return bps;
}

static double
lerp (double x, double x0, double x1, double y0, double y1)
{
    return y0 + (x - x0) * (y1 - y0) / (x1 - x0);
}

void
board_distribution_compress (const double *buckets, size_t k, double out[BOARD_DISTRIBUTION_BPS])
{
    if (k == 0) {
        for (int b = 0; b < BOARD_DISTRIBUTION_BPS; b++)
            out[b] = 0;
        return;
    }
    double minmin = buckets[0], maxmax = buckets[3 * (k - 1) + 1];
    double total = 0;
    for (size_t i = 0; i < k; i++)
        total += buckets[3 * i + 2];
    if (total == 0)
        total = 1.0;
    double *weights = g_new (double, k);
    double acc = 0;
    for (size_t i = 0; i < k; i++) {
        /* numpy: counts * 10000 / total, then cumsum */
        acc += buckets[3 * i + 2] * bps[BOARD_DISTRIBUTION_BPS - 1] / total;
        weights[i] = acc;
    }

    int b = 0;
    while (b < BOARD_DISTRIBUTION_BPS) {
        double bp = bps[b];
        /* searchsorted side="right": first i with weights[i] > bp */
        size_t lo = 0, hi = k;
        while (lo < hi) {
            size_t mid = (lo + hi) / 2;
            if (weights[mid] <= bp)
                lo = mid + 1;
            else
                hi = mid;
        }
        size_t i = lo;
        gboolean placed = FALSE;
        while (i < k) {
            double cumsum = weights[i];
            double cumsum_prev = i > 0 ? weights[i - 1] : 0.0;
            if (cumsum == cumsum_prev) {
                i++;
                continue;
            }
            double lhs;
            if (i == 0 || cumsum_prev == 0)
                lhs = minmin;
            else
                lhs = MAX (buckets[3 * (i - 1) + 1], minmin);
            double rhs = MIN (buckets[3 * i + 1], maxmax);
            out[b] = lerp (bp, cumsum_prev, cumsum, lhs, rhs);
            b++;
            placed = TRUE;
            break;
        }
        if (!placed)
            break;
    }
    for (; b < BOARD_DISTRIBUTION_BPS; b++)
        out[b] = maxmax;
    g_free (weights);
}
