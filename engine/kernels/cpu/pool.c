/* MaxPool, AvgPool and their gradients (MaxPoolGrad, AvgPoolGrad), NHWC,
 * float and double, SAME or VALID, windows over height and width only
 * (TF's CPU kernels share these limits).
 *
 * Forward kernels walk output rows (n, oh) over the pool; for each output
 * position the window's channel vectors are combined with contiguous
 * loops over C.  AvgPool divides by the number of window elements inside
 * the input (padding excluded, as TF does).  MaxPoolGrad routes each
 * gradient to the first maximum of its window (row-major order, like TF's
 * CPU kernel); the gradients scatter within one image, so images are the
 * parallel unit.
 */
#include "config.h"

#include <math.h>
#include <string.h>
#if defined(__SSE__)
#include <xmmintrin.h>
#endif

#include "cpu-kernels.h"

typedef struct pool_geom {
    int64_t n, h, w, c;
    int64_t kh, kw, sh, sw;
    int64_t oh, ow, pt, pl;
    sl_dtype dt;
} pool_geom;

static bool pool_geometry(sl_kernel_ctx *ctx, const sl_shape *in, pool_geom *g)
{
    const sl_node *node = sl_kernel_ctx_node(ctx);
    if (sl__k_attr_str_is(node, "data_format", "NCHW")) {
        sl_kernel_ctx_fail(ctx, SL_UNIMPLEMENTED, "the CPU pooling kernels support NHWC only (as TF's)");
        return false;
    }
    if (in->rank != 4) {
        sl_kernel_ctx_fail(ctx, SL_INVALID_ARGUMENT, "input must be 4-D, got %s", sl__k_shape_str(in, 0));
        return false;
    }
    const int64_t *k = NULL, *s = NULL;
    int nk = 0, ns = 0;
    sl_node_attr_int_list(node, "ksize", &k, &nk);
    sl_node_attr_int_list(node, "strides", &s, &ns);
    if (nk != 4 || ns != 4 || k[0] != 1 || k[3] != 1 || s[0] != 1 || s[3] != 1) {
        sl_kernel_ctx_fail(ctx, SL_UNIMPLEMENTED, "pooling over the batch or depth dimension is not supported");
        return false;
    }
    if (k[1] < 1 || k[2] < 1 || s[1] < 1 || s[2] < 1) {
        sl_kernel_ctx_fail(ctx, SL_INVALID_ARGUMENT, "ksize and strides must be positive");
        return false;
    }
    bool same = sl__k_attr_str_is(node, "padding", "SAME");
    *g = (pool_geom){.n = in->dims[0], .h = in->dims[1], .w = in->dims[2], .c = in->dims[3], .kh = k[1], .kw = k[2],
                     .sh = s[1], .sw = s[2], .dt = sl_dtype_base(sl_node_output_type(node, 0))};
    if (same) {
        g->oh = (g->h + g->sh - 1) / g->sh;
        g->ow = (g->w + g->sw - 1) / g->sw;
        int64_t th = (g->oh - 1) * g->sh + g->kh - g->h, tw = (g->ow - 1) * g->sw + g->kw - g->w;
        g->pt = th > 0 ? th / 2 : 0;
        g->pl = tw > 0 ? tw / 2 : 0;
    } else {
        g->oh = g->h >= g->kh ? (g->h - g->kh) / g->sh + 1 : 0;
        g->ow = g->w >= g->kw ? (g->w - g->kw) / g->sw + 1 : 0;
        g->pt = g->pl = 0;
    }
    return true;
}

/* out[ch] = max(out[ch], in[ch]) as in > out ? in : out (NaN in keeps out);
 * maxps(in, out) is exactly that, four channels at a time. */
static inline void max_into_float(float *out, const float *in, int64_t C)
{
    int64_t ch = 0;
#if defined(__SSE__)
    for (; ch + 4 <= C; ch += 4)
        _mm_storeu_ps(out + ch, _mm_max_ps(_mm_loadu_ps(in + ch), _mm_loadu_ps(out + ch)));
#endif
    for (; ch < C; ch++)
        out[ch] = in[ch] > out[ch] ? in[ch] : out[ch];
}

static inline void max_into_double(double *out, const double *in, int64_t C)
{
    for (int64_t ch = 0; ch < C; ch++)
        out[ch] = in[ch] > out[ch] ? in[ch] : out[ch];
}

/* Clipped window rows [*h0, *h1) and columns [*w0, *w1) of output (oh, ow). */
static void window(const pool_geom *g, int64_t oh, int64_t ow, int64_t *h0, int64_t *h1, int64_t *w0, int64_t *w1)
{
    *h0 = oh * g->sh - g->pt;
    *w0 = ow * g->sw - g->pl;
    *h1 = *h0 + g->kh < g->h ? *h0 + g->kh : g->h;
    *w1 = *w0 + g->kw < g->w ? *w0 + g->kw : g->w;
    *h0 = *h0 < 0 ? 0 : *h0;
    *w0 = *w0 < 0 ? 0 : *w0;
}

typedef struct pool_job {
    const pool_geom *g;
    bool is_max;
    const void *x;
    const void *y;   /* MaxPoolGrad: orig_output (unused: recomputed) */
    const void *dy;
    void *o;
} pool_job;

#define POOL_FWD(NAME, T)                                                                       \
    static void NAME(const pool_job *j, int64_t begin, int64_t end)                             \
    {                                                                                           \
        const pool_geom *g = j->g;                                                              \
        const T *x = j->x;                                                                      \
        T *o = j->o;                                                                            \
        int64_t C = g->c;                                                                       \
        for (int64_t row = begin; row < end; row++) {                                           \
            int64_t n = row / g->oh, oh = row % g->oh;                                          \
            for (int64_t ow = 0; ow < g->ow; ow++) {                                            \
                int64_t h0, h1, w0, w1;                                                         \
                window(g, oh, ow, &h0, &h1, &w0, &w1);                                          \
                T *out = o + ((n * g->oh + oh) * g->ow + ow) * C;                               \
                for (int64_t ch = 0; ch < C; ch++)                                              \
                    out[ch] = j->is_max ? -INFINITY : 0;                                        \
                for (int64_t ih = h0; ih < h1; ih++)                                            \
                    for (int64_t iw = w0; iw < w1; iw++) {                                      \
                        const T *in = x + ((n * g->h + ih) * g->w + iw) * C;                    \
                        if (j->is_max) {                                                        \
                            max_into_##T(out, in, C);                                           \
                        } else {                                                                \
                            for (int64_t ch = 0; ch < C; ch++)                                  \
                                out[ch] += in[ch];                                              \
                        }                                                                       \
                    }                                                                           \
                if (!j->is_max) {                                                               \
                    T inv = (T)1 / (T)((h1 - h0) * (w1 - w0));                                  \
                    for (int64_t ch = 0; ch < C; ch++)                                          \
                        out[ch] *= inv;                                                         \
                }                                                                               \
            }                                                                                   \
        }                                                                                       \
    }
POOL_FWD(pool_fwd_f32, float)
POOL_FWD(pool_fwd_f64, double)

/* one image per index: gradients scatter inside it */
#define POOL_BWD(NAME, T)                                                                       \
    static void NAME(const pool_job *j, int64_t begin, int64_t end)                             \
    {                                                                                           \
        const pool_geom *g = j->g;                                                              \
        const T *x = j->x, *dy = j->dy;                                                         \
        T *dx = j->o;                                                                           \
        int64_t C = g->c;                                                                       \
        for (int64_t n = begin; n < end; n++)                                                   \
            for (int64_t oh = 0; oh < g->oh; oh++)                                              \
                for (int64_t ow = 0; ow < g->ow; ow++) {                                        \
                    int64_t h0, h1, w0, w1;                                                     \
                    window(g, oh, ow, &h0, &h1, &w0, &w1);                                      \
                    const T *gr = dy + ((n * g->oh + oh) * g->ow + ow) * C;                     \
                    if (!j->is_max) {                                                           \
                        T inv = (T)1 / (T)((h1 - h0) * (w1 - w0));                              \
                        for (int64_t ih = h0; ih < h1; ih++)                                    \
                            for (int64_t iw = w0; iw < w1; iw++) {                              \
                                T *d = dx + ((n * g->h + ih) * g->w + iw) * C;                  \
                                for (int64_t ch = 0; ch < C; ch++)                              \
                                    d[ch] += gr[ch] * inv;                                      \
                            }                                                                   \
                        continue;                                                               \
                    }                                                                           \
                    for (int64_t ch = 0; ch < C; ch++) {                                        \
                        int64_t best = -1;                                                      \
                        T bv = 0;                                                               \
                        for (int64_t ih = h0; ih < h1; ih++)                                    \
                            for (int64_t iw = w0; iw < w1; iw++) {                              \
                                int64_t at = ((n * g->h + ih) * g->w + iw) * C + ch;            \
                                if (best < 0 || x[at] > bv) {                                   \
                                    best = at;                                                  \
                                    bv = x[at];                                                 \
                                }                                                               \
                            }                                                                   \
                        if (best >= 0)                                                          \
                            dx[best] += gr[ch];                                                 \
                    }                                                                           \
                }                                                                               \
    }
POOL_BWD(pool_bwd_f32, float)
POOL_BWD(pool_bwd_f64, double)

static void fwd_shard(void *arg, int64_t b, int64_t e)
{
    const pool_job *j = arg;
    if (j->g->dt == SL_DTYPE_FLOAT)
        pool_fwd_f32(j, b, e);
    else
        pool_fwd_f64(j, b, e);
}

static void bwd_shard(void *arg, int64_t b, int64_t e)
{
    const pool_job *j = arg;
    if (j->g->dt == SL_DTYPE_FLOAT)
        pool_bwd_f32(j, b, e);
    else
        pool_bwd_f64(j, b, e);
}

static void pool_compute(sl_kernel_ctx *ctx)
{
    const sl_tensor *x = sl_kernel_ctx_input(ctx, 0);
    pool_geom g;
    if (!pool_geometry(ctx, sl_tensor_shape(x), &g))
        return;
    sl_shape os = {.rank = 4, .dims = {g.n, g.oh, g.ow, g.c}};
    sl_tensor *y = sl__k_out(ctx, 0, &os);
    if (!y || sl_tensor_num_elements(y) == 0)
        return;
    pool_job j = {&g, !strcmp(sl_node_op_type(sl_kernel_ctx_node(ctx)), "MaxPool"), sl_tensor_data(x), NULL, NULL,
                  sl_tensor_data(y)};
    sl__k_parallel(ctx, g.n * g.oh, g.ow * g.kh * g.kw * g.c + 1, fwd_shard, &j);
}

static void max_pool_grad_compute(sl_kernel_ctx *ctx)
{
    const sl_tensor *x = sl_kernel_ctx_input(ctx, 0), *y = sl_kernel_ctx_input(ctx, 1),
                    *dy = sl_kernel_ctx_input(ctx, 2);
    pool_geom g;
    if (!pool_geometry(ctx, sl_tensor_shape(x), &g))
        return;
    sl_shape os = {.rank = 4, .dims = {g.n, g.oh, g.ow, g.c}};
    if (!sl_shape_equal(sl_tensor_shape(y), &os) || !sl_shape_equal(sl_tensor_shape(dy), &os)) {
        sl_kernel_ctx_fail(ctx, SL_INVALID_ARGUMENT, "orig_output %s and grad %s must have the pooled shape %s",
                           sl__k_shape_str(sl_tensor_shape(y), 0), sl__k_shape_str(sl_tensor_shape(dy), 1),
                           sl__k_shape_str(&os, 2));
        return;
    }
    sl_tensor *dx = sl__k_out_zeroed(ctx, 0, sl_tensor_shape(x));  /* scattered into */
    if (!dx || sl_tensor_num_elements(dy) == 0)
        return;
    pool_job j = {&g, true, sl_tensor_data(x), sl_tensor_data(y), sl_tensor_data(dy), sl_tensor_data(dx)};
    sl__k_parallel(ctx, g.n, g.oh * g.ow * g.kh * g.kw * g.c + 1, bwd_shard, &j);
}

static void avg_pool_grad_compute(sl_kernel_ctx *ctx)
{
    const sl_tensor *sizes = sl_kernel_ctx_input(ctx, 0), *dy = sl_kernel_ctx_input(ctx, 1);
    if (!sl__k_check_int_vector(ctx, sizes, "orig_input_shape"))
        return;
    if (sl_tensor_num_elements(sizes) != 4) {
        sl_kernel_ctx_fail(ctx, SL_INVALID_ARGUMENT, "orig_input_shape must have 4 entries");
        return;
    }
    sl_shape xs = {.rank = 4};
    for (int i = 0; i < 4; i++)
        xs.dims[i] = sl__k_int_at(sizes, i);
    pool_geom g;
    if (!pool_geometry(ctx, &xs, &g))
        return;
    sl_shape os = {.rank = 4, .dims = {g.n, g.oh, g.ow, g.c}};
    if (!sl_shape_equal(sl_tensor_shape(dy), &os)) {
        sl_kernel_ctx_fail(ctx, SL_INVALID_ARGUMENT, "grad %s must have the pooled shape %s",
                           sl__k_shape_str(sl_tensor_shape(dy), 0), sl__k_shape_str(&os, 1));
        return;
    }
    sl_tensor *dx = sl__k_out_zeroed(ctx, 0, &xs);  /* scattered into */
    if (!dx || sl_tensor_num_elements(dy) == 0)
        return;
    pool_job j = {&g, false, NULL, NULL, sl_tensor_data(dy), sl_tensor_data(dx)};
    sl__k_parallel(ctx, g.n, g.oh * g.ow * g.kh * g.kw * g.c + 1, bwd_shard, &j);
}

static const sl_kernel_def pool_kernels[] = {
    {.op = "MaxPool", .device = SL_DEVICE_CPU, .constraints = {SL_K_FLOATS}, .compute = pool_compute},
    {.op = "AvgPool", .device = SL_DEVICE_CPU, .constraints = {SL_K_FLOATS}, .compute = pool_compute},
    {.op = "MaxPoolGrad", .device = SL_DEVICE_CPU, .constraints = {SL_K_FLOATS}, .compute = max_pool_grad_compute},
    {.op = "AvgPoolGrad", .device = SL_DEVICE_CPU, .constraints = {SL_K_FLOATS}, .compute = avg_pool_grad_compute},
};

void sl__kernels_register_pool(void);
void sl__kernels_register_pool(void)
{
    sl__kernel_register_table(pool_kernels, SL_COUNTOF_K(pool_kernels));
}
