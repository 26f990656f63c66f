/* TensorBoard's debiased exponential moving average (see the header for
 * the formula and its source).  The order of operations follows the
 * TypeScript original so that the doubles come out bit for bit the
 * same: `last * s + (1 - s) * y`, then `last / (1 - pow(s, k))`. */
#include "board-smoothing.h"

#include <math.h>
#include <string.h>

void
board_smooth_ema (const double *y, size_t n, double s, double *out)
{
    if (n == 0)
        return;
    if (isnan (s) || s < 0)
        s = 0;
    if (s > 1)
        s = 1;
    if (s == 0) {
        if (out != y)
            memmove (out, y, n * sizeof *out);
        return;
    }

    /* JavaScript's `every(v => v == y[0])`: NaN never equals, so a series
     * holding a NaN is not constant. */
    gboolean constant = TRUE;
    for (size_t i = 0; i < n; i++) {
        if (!(y[i] == y[0])) {
            constant = FALSE;
            break;
        }
    }

    /* Once s^k is below 2^-60, 1 - s^k rounds to exactly 1 (anything at
     * or below 2^-54 does), and so it does for every later k: the pow()
     * calls stop there (after 82 points at s = 0.6) with the same bits. */
    double last = 0;
    int k = 0;
    gboolean debiased = s == 1;
    for (size_t i = 0; i < n; i++) {
        double v = y[i];
        if (constant || !isfinite (v)) {
            out[i] = v;
            continue;
        }
        last = last * s + (1 - s) * v;
        k++;
        double debias = 1;
        if (!debiased) {
            double p = pow (s, k);
            debias = 1 - p;
            debiased = p < 0x1p-60;
        }
        out[i] = last / debias;
    }
}
