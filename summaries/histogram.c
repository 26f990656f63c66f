/* TF1 exponential histograms and TF2 bucketed tensors (FORMATS.md §2; the
 * contract is in sluice/summaries/histogram.h).
 *
 * The default limits must match TF's bit for bit, so they are built the
 * way histogram.cc builds them: by repeated multiplication `v *= 1.1` in
 * IEEE double (x86-64 uses SSE2, never x87 extended precision), never by
 * pow().  The TF2 buckets follow TB's summary_v2 `_buckets`: floor((x -
 * min) / ((max - min) / k)) clamped to k - 1, with edges from TF's LinSpace
 * kernel (start + i * step, the last edge set to max).
 */
#include "config.h"

#include "sluice/summaries/histogram.h"

#include <float.h>
#include <math.h>
#include <pthread.h>
#include <string.h>

#include "sluice/alloc.h"

static double g_limits[SL_HISTOGRAM_DEFAULT_BUCKETS];
static pthread_once_t g_limits_once = PTHREAD_ONCE_INIT;

static void build_limits(void)
{
    double pos[SL_HISTOGRAM_DEFAULT_BUCKETS / 2 + 1];
    int n = 0;
    double v = 1.0e-12;
    while (v < 1.0e20) {
        pos[n++] = v;
        v = v * 1.1;
    }
    pos[n++] = DBL_MAX;
    /* n == 775: 774 finite limits and DBL_MAX */
    int k = 0;
    for (int i = n - 1; i >= 0; i--)
        g_limits[k++] = -pos[i];
    g_limits[k++] = 0.0;
    for (int i = 0; i < n; i++)
        g_limits[k++] = pos[i];
}

const double *sl_histogram_default_limits(void)
{
    pthread_once(&g_limits_once, build_limits);
    return g_limits;
}

sl_code sl_histogram_init(sl_histogram *h, sl_status *st)
{
    h->counts = sl_calloc(SL_HISTOGRAM_DEFAULT_BUCKETS, sizeof(double));
    if (!h->counts)
        return sl_status_set(st, SL_RESOURCE_EXHAUSTED, "out of memory for a histogram");
    sl_histogram_default_limits();
    sl_histogram_clear(h);
    sl_status_clear(st);
    return SL_OK;
}

void sl_histogram_release(sl_histogram *h)
{
    sl_free(h->counts);
    h->counts = NULL;
}

void sl_histogram_clear(sl_histogram *h)
{
    h->min = DBL_MAX; /* TF: the last bucket limit */
    h->max = -DBL_MAX;
    h->num = h->sum = h->sum_squares = 0;
    memset(h->counts, 0, SL_HISTOGRAM_DEFAULT_BUCKETS * sizeof(double));
}

void sl_histogram_add(sl_histogram *h, double v)
{
    const double *lim = sl_histogram_default_limits();
    /* upper_bound: first index with lim[i] > v */
    size_t lo = 0, hi = SL_HISTOGRAM_DEFAULT_BUCKETS;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (v < lim[mid])
            hi = mid;
        else
            lo = mid + 1;
    }
    if (lo >= SL_HISTOGRAM_DEFAULT_BUCKETS)
        lo = SL_HISTOGRAM_DEFAULT_BUCKETS - 1;
    h->counts[lo] += 1.0;
    if (h->min > v)
        h->min = v;
    if (h->max < v)
        h->max = v;
    h->num++;
    h->sum += v;
    h->sum_squares += v * v;
}

size_t sl_histogram_encode(const sl_histogram *h, double *limits, double *counts)
{
    const double *lim = sl_histogram_default_limits();
    size_t n = 0;
    for (size_t i = 0; i < SL_HISTOGRAM_DEFAULT_BUCKETS;) {
        double end = lim[i];
        double count = h->counts[i];
        i++;
        if (count <= 0.0) {
            while (i < SL_HISTOGRAM_DEFAULT_BUCKETS && h->counts[i] <= 0.0) {
                end = lim[i];
                count = h->counts[i];
                i++;
            }
        }
        limits[n] = end;
        counts[n] = count;
        n++;
    }
    if (n == 0) {
        limits[0] = DBL_MAX;
        counts[0] = 0.0;
        n = 1;
    }
    return n;
}

sl_code sl_histogram_tf2_buckets(const double *values, size_t n, int k, double *out, sl_status *st)
{
    if (k < 1)
        return sl_status_set(st, SL_INVALID_ARGUMENT, "bucket count %d must be positive", k);
    for (size_t i = 0; i < n; i++)
        if (!isfinite(values[i]))
            return sl_status_set(st, SL_INVALID_ARGUMENT,
                                 "non-finite value at index %zu of a histogram", i);
    if (n == 0) {
        memset(out, 0, (size_t)k * 3 * sizeof(double));
        sl_status_clear(st);
        return SL_OK;
    }
    double mn = values[0], mx = values[0];
    for (size_t i = 1; i < n; i++) {
        if (values[i] < mn)
            mn = values[i];
        if (values[i] > mx)
            mx = values[i];
    }
    double range = mx - mn;
    if (range == 0) {
        for (int i = 0; i < k; i++) {
            out[3 * i] = mx;
            out[3 * i + 1] = mx;
            out[3 * i + 2] = i == k - 1 ? (double)n : 0.0;
        }
        sl_status_clear(st);
        return SL_OK;
    }
    for (int i = 0; i < k; i++)
        out[3 * i + 2] = 0.0;
    double width = range / (double)k;
    for (size_t i = 0; i < n; i++) {
        double idx = floor((values[i] - mn) / width);
        int b = idx >= (double)(k - 1) ? k - 1 : (int)idx;
        out[3 * b + 2] += 1.0;
    }
    /* tf.linspace(min, max, k + 1), then the last edge forced to max */
    double step = (mx - mn) / (double)k;
    for (int i = 0; i < k; i++) {
        out[3 * i] = mn + step * (double)i;
        out[3 * i + 1] = i == k - 1 ? mx : mn + step * (double)(i + 1);
    }
    sl_status_clear(st);
    return SL_OK;
}

size_t sl_histogram_tf1_to_rows(double min, double max, const double *limits, const double *counts,
                                size_t n, double *out)
{
    size_t start = 0;
    while (start < n && !(counts[start] > 0))
        start++;
    if (start == n)
        return 0;
    size_t end = n - 1;
    while (!(counts[end] > 0))
        end--;
    size_t rows = 0;
    for (size_t i = start; i <= end; i++, rows++) {
        out[3 * rows] = i == start ? min : limits[i - 1];
        out[3 * rows + 1] = i == end ? max : limits[i];
        out[3 * rows + 2] = counts[i];
    }
    return rows;
}
