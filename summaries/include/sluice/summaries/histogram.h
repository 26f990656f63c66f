/* Histograms in both of TF's forms (FORMATS.md §2):
 *
 * - TF1 `HistogramProto`: TF's default exponential buckets (limits grow by
 *   10% from 1e-12 to 1e20, mirrored for negatives, with 0 and ±DBL_MAX:
 *   1551 right edges), filled with upper_bound and encoded with runs of
 *   empty buckets collapsed, bit for bit as core/lib/histogram/histogram.cc;
 * - TF2 tensors of shape [k, 3] (left edge, right edge, count) with k
 *   equal-width buckets from min to max, as TB's histogram summary_v2.
 *
 * Plus the conversion TB applies when it loads a TF1 histogram
 * (data_compat.py), so readers see every histogram as [k, 3] rows.
 *
 * Thread-safety: the default limits are built once (thread-safe) and are
 * read-only; an sl_histogram belongs to one thread at a time.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "sluice/macros.h"
#include "sluice/status.h"

SL_BEGIN_DECLS

#define SL_HISTOGRAM_DEFAULT_BUCKETS 1551 /* number of TF1 default limits */
#define SL_HISTOGRAM_TF2_DEFAULT_BUCKETS 30

/* TF1's default bucket limits (right edges, increasing).  Returns a
 * static, read-only array of SL_HISTOGRAM_DEFAULT_BUCKETS doubles. */
SL_API const double *sl_histogram_default_limits(void);

/* A TF1 histogram accumulator over the default limits; caller-allocated,
 * set up with sl_histogram_init() and ended with sl_histogram_release(). */
typedef struct sl_histogram {
    double min;          /* DBL_MAX while empty, as TF */
    double max;          /* -DBL_MAX while empty */
    double num;
    double sum;
    double sum_squares;
    double *counts;      /* SL_HISTOGRAM_DEFAULT_BUCKETS counts, owned */
} sl_histogram;

/* SL_RESOURCE_EXHAUSTED when memory runs out (h then needs no release). */
SL_API sl_code sl_histogram_init(sl_histogram *h, sl_status *st);
SL_API void sl_histogram_release(sl_histogram *h);
SL_API void sl_histogram_clear(sl_histogram *h);

/* Adds a value to the bucket upper_bound() finds: the first whose limit is
 * greater than v.  Values at or above DBL_MAX (and NaN) land in the last
 * bucket (TF would index past its array).  O(log buckets). */
SL_API void sl_histogram_add(sl_histogram *h, double v);

/* EncodeToProto(preserve_zero_buckets = false): writes the collapsed
 * (limit, count) pairs into the caller's arrays, which must hold
 * SL_HISTOGRAM_DEFAULT_BUCKETS entries each, and returns how many were
 * written (at least 1: an empty histogram gives (DBL_MAX, 0)). */
SL_API size_t sl_histogram_encode(const sl_histogram *h, double *limits, double *counts);

/* TB's TF2 buckets of `n` values into `k` rows of [left, right, count]
 * (out holds 3k doubles): k equal-width buckets from min to max, the last
 * right edge exactly max; every row [v, v, 0] but the last [v, v, n] when
 * all values equal v; all zeros when n == 0.  k must be >= 1.
 * SL_INVALID_ARGUMENT for k < 1 or a non-finite value (TF refuses them
 * too); out is untouched then. */
SL_API sl_code sl_histogram_tf2_buckets(const double *values, size_t n, int k, double *out,
                                        sl_status *st);

/* TB's data_compat conversion of a TF1 histogram into [k, 3] rows: drops
 * the empty buckets at both ends, uses min as the first left edge and max
 * as the last right edge.  `out` must hold 3 * n doubles; returns the
 * number of rows written (0 when every bucket is empty). */
SL_API size_t sl_histogram_tf1_to_rows(double min, double max, const double *limits,
                                       const double *counts, size_t n, double *out);

SL_END_DECLS
