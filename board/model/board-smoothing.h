/* Smoothing of scalar series, exactly as TensorBoard smooths them.
 *
 * TensorBoard's line charts smooth with a debiased exponential moving
 * average (tensorboard/webapp/widgets/line_chart_v2/data_transformer.ts,
 * classicSmoothing).  The board must give the same numbers for the same
 * input, so users comparing the two apps see the same curves; the one
 * difference is upstream: TensorBoard smooths its 1000 sampled points,
 * the board smooths every point of the series.
 *
 * Thread-safety: pure functions; safe from any thread.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define BOARD_SMOOTHING_DEFAULT 0.6

/* Smooths y[0..n) into out[0..n) (out may equal y) with weight s, clamped
 * to [0, 1]:
 *   last = 0; k = 0
 *   for each finite y:  last = last*s + (1-s)*y; k++;
 *                       out = last / (1 - s^k)   (no division when s == 1)
 *   non-finite y pass through unchanged;
 * s == 0 copies the input, and a series whose values are all equal (==)
 * is copied unsmoothed (TensorBoard issue 786).  Cost: O(n). */
void board_smooth_ema (const double *y, size_t n, double s, double *out);

G_END_DECLS
