/* Distributions as TensorBoard draws them: a histogram compressed to the
 * values at nine basis points of its cumulative count (0, 668, 1587,
 * 3085, 5000, 6915, 8413, 9332, 10000: min, mean±1.5σ, ±σ, ±0.5σ, median
 * and max for a normal distribution), by TB's
 * plugins/distribution/compressor.py, with the same interpolation.
 *
 * Thread-safety: pure functions; safe from any thread.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define BOARD_DISTRIBUTION_BPS 9

/* The nine basis points, 0..10000. */
const int *board_distribution_basis_points (void);

/* Compresses k histogram rows [left, right, count] (as the summaries
 * library gives them) into out[BOARD_DISTRIBUTION_BPS] values, exactly as
 * TB's compress_histogram(buckets, bps).  k == 0 gives zeros. */
void board_distribution_compress (const double *buckets, size_t k,
                                  double out[BOARD_DISTRIBUTION_BPS]);

G_END_DECLS
