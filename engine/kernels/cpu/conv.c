/* Conv2D and its gradients (Conv2DBackpropInput, Conv2DBackpropFilter),
 * NHWC, float and double, with strides, dilations and SAME / VALID /
 * EXPLICIT padding.  (TF's CPU kernels are NHWC-only too.)
 *
 * All three are im2col + one single-threaded gemm per tile of output rows:
 * the filter [KH, KW, C, O] already is the [K = KH*KW*C, O] matrix the
 * patches [rows, K] multiply, so
 *   forward:  out[rows, O]  = patches[rows, K] x filter[K, O]
 *   input:    dpatch[rows, K] = dout[rows, O] x filter^T, then scattered
 *             back (col2im) into dx; tiles of one image run in order, images
 *             in parallel, so the scatter needs no locks;
 *   filter:   dfilter[K, O] += patches^T x dout, each shard into its own
 *             buffer, summed under a mutex at the end.
 * Tiles are sized so a patch buffer stays within ~512 KiB (L2).  A 1x1
 * convolution with stride 1 and no padding skips im2col: the input already
 * is the patch matrix.
 */
#include "config.h"

#include <cblas.h>
#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#endif
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "conv-direct.h"
#include "cpu-kernels.h"
#include "sluice/alloc.h"

typedef struct conv_geom {
    int64_t n, h, w, c;       /* input */
    int64_t kh, kw, o;        /* filter */
    int64_t oh, ow;           /* output */
    int64_t sh, sw, dh, dw;   /* strides, dilations */
    int64_t pt, pl;           /* padding before (top, left) */
    int64_t k;                /* kh * kw * c */
    int64_t rows;             /* n * oh * ow */
    sl_dtype dt;
    size_t esz;
} conv_geom;

/* Output size and padding before for one dimension. */
static bool window_dim(sl_kernel_ctx *ctx, int64_t in, int64_t k, int64_t s, int64_t d, const char *padding,
                       const int64_t *explicit_pad, int64_t *out, int64_t *before)
{
    int64_t eff = (k - 1) * d + 1;
    if (!strcmp(padding, "SAME")) {
        *out = (in + s - 1) / s;
        int64_t total = (*out - 1) * s + eff - in;
        *before = total > 0 ? total / 2 : 0;
    } else if (!strcmp(padding, "EXPLICIT")) {
        int64_t padded = in + explicit_pad[0] + explicit_pad[1];
        *out = padded >= eff ? (padded - eff) / s + 1 : 0;
        *before = explicit_pad[0];
    } else {
        *out = in >= eff ? (in - eff) / s + 1 : 0;
        *before = 0;
    }
    if (s < 1 || d < 1) {
        sl_kernel_ctx_fail(ctx, SL_INVALID_ARGUMENT, "strides and dilations must be positive");
        return false;
    }
    return true;
}

/* Reads attrs and the input/filter shapes into g; false when ctx failed. */
static bool conv_geometry(sl_kernel_ctx *ctx, const sl_shape *in, const sl_shape *filter, conv_geom *g)
{
    const sl_node *node = sl_kernel_ctx_node(ctx);
    if (sl__k_attr_str_is(node, "data_format", "NCHW")) {
        sl_kernel_ctx_fail(ctx, SL_UNIMPLEMENTED, "the CPU convolution supports NHWC only (as TF's)");
        return false;
    }
    if (in->rank != 4 || filter->rank != 4) {
        sl_kernel_ctx_fail(ctx, SL_INVALID_ARGUMENT, "input and filter must be 4-D, got %s and %s",
                           sl__k_shape_str(in, 0), sl__k_shape_str(filter, 1));
        return false;
    }
    if (in->dims[3] != filter->dims[2]) {
        sl_kernel_ctx_fail(ctx, SL_INVALID_ARGUMENT, "input depth %lld must match filter depth %lld (grouped convolutions are not supported): input %s, filter %s",
                           (long long)in->dims[3], (long long)filter->dims[2], sl__k_shape_str(in, 0),
                           sl__k_shape_str(filter, 1));
        return false;
    }
    const int64_t *st = NULL, *dil = NULL, *ep = NULL;
    int ns = 0, nd = 0, ne = 0;
    sl_node_attr_int_list(node, "strides", &st, &ns);
    if (!sl_node_attr_int_list(node, "dilations", &dil, &nd) || nd == 0) {
        static const int64_t ones[4] = {1, 1, 1, 1};
        dil = ones;
        nd = 4;
    }
    if (ns != 4 || nd != 4 || st[0] != 1 || st[3] != 1 || dil[0] != 1 || dil[3] != 1) {
        sl_kernel_ctx_fail(ctx, SL_INVALID_ARGUMENT, "strides and dilations must have 4 entries with 1 for batch and depth");
        return false;
    }
    const char *pad;
    size_t plen;
    char padding[16] = "VALID";
    if (sl_node_attr_string(node, "padding", &pad, &plen) && plen < sizeof(padding)) {
        memcpy(padding, pad, plen);
        padding[plen] = '\0';
    }
    static const int64_t zeros[8] = {0};
    if (!strcmp(padding, "EXPLICIT")) {
        sl_node_attr_int_list(node, "explicit_paddings", &ep, &ne);
        if (ne != 8) {
            sl_kernel_ctx_fail(ctx, SL_INVALID_ARGUMENT, "explicit_paddings must have 8 entries, has %d", ne);
            return false;
        }
    } else {
        ep = zeros;
    }
    *g = (conv_geom){.n = in->dims[0], .h = in->dims[1], .w = in->dims[2], .c = in->dims[3],
                     .kh = filter->dims[0], .kw = filter->dims[1], .o = filter->dims[3],
                     .sh = st[1], .sw = st[2], .dh = dil[1], .dw = dil[2]};
    if (!window_dim(ctx, g->h, g->kh, g->sh, g->dh, padding, ep + 2, &g->oh, &g->pt) ||
        !window_dim(ctx, g->w, g->kw, g->sw, g->dw, padding, ep + 4, &g->ow, &g->pl))
        return false;
    g->k = g->kh * g->kw * g->c;
    g->rows = g->n * g->oh * g->ow;
    g->dt = sl_dtype_base(sl_node_output_type(node, 0));
    g->esz = sl_dtype_size(g->dt);
    return true;
}

static bool is_pointwise(const conv_geom *g)
{
    return g->kh == 1 && g->kw == 1 && g->sh == 1 && g->sw == 1 && g->pt == 0 && g->pl == 0 && g->oh == g->h &&
           g->ow == g->w;
}

static void xgemm(sl_dtype dt, bool ta, bool tb, int64_t m, int64_t n, int64_t k, const void *a, int64_t lda,
                  const void *b, int64_t ldb, double beta, void *c, int64_t ldc)
{
    if (m == 0 || n == 0)
        return;
    enum CBLAS_TRANSPOSE TA = ta ? CblasTrans : CblasNoTrans, TB = tb ? CblasTrans : CblasNoTrans;
    if (dt == SL_DTYPE_FLOAT)
        cblas_sgemm(CblasRowMajor, TA, TB, (blasint)m, (blasint)n, (blasint)k, 1.0f, a, (blasint)lda, b,
                    (blasint)ldb, (float)beta, c, (blasint)ldc);
    else
        cblas_dgemm(CblasRowMajor, TA, TB, (blasint)m, (blasint)n, (blasint)k, 1.0, a, (blasint)lda, b,
                    (blasint)ldb, beta, c, (blasint)ldc);
}

/* Fills patch rows [r0, r0 + nr) (global output-row numbers) of buf [nr, K]. */
static void im2col(const conv_geom *g, const char *x, int64_t r0, int64_t nr, char *buf)
{
    size_t run = (size_t)g->c * g->esz;
    for (int64_t i = 0; i < nr; i++) {
        int64_t r = r0 + i, ow = r % g->ow, oh = (r / g->ow) % g->oh, n = r / (g->ow * g->oh);
        char *dst = buf + (size_t)(i * g->k) * g->esz;
        for (int64_t a = 0; a < g->kh; a++) {
            int64_t ih = oh * g->sh - g->pt + a * g->dh;
            for (int64_t b = 0; b < g->kw; b++, dst += run) {
                int64_t iw = ow * g->sw - g->pl + b * g->dw;
                if (ih < 0 || ih >= g->h || iw < 0 || iw >= g->w)
                    memset(dst, 0, run);
                else
                    memcpy(dst, x + (size_t)(((n * g->h + ih) * g->w + iw) * g->c) * g->esz, run);
            }
        }
    }
}

/* Adds patch rows back into dx (the adjoint of im2col). */
static void col2im(const conv_geom *g, const char *buf, int64_t r0, int64_t nr, char *dx)
{
    for (int64_t i = 0; i < nr; i++) {
        int64_t r = r0 + i, ow = r % g->ow, oh = (r / g->ow) % g->oh, n = r / (g->ow * g->oh);
        const char *src = buf + (size_t)(i * g->k) * g->esz;
        for (int64_t a = 0; a < g->kh; a++) {
            int64_t ih = oh * g->sh - g->pt + a * g->dh;
            for (int64_t b = 0; b < g->kw; b++, src += (size_t)g->c * g->esz) {
                int64_t iw = ow * g->sw - g->pl + b * g->dw;
                if (ih < 0 || ih >= g->h || iw < 0 || iw >= g->w)
                    continue;
                char *dst = dx + (size_t)(((n * g->h + ih) * g->w + iw) * g->c) * g->esz;
                if (g->dt == SL_DTYPE_FLOAT) {
                    float *d = (float *)dst;
                    const float *s = (const float *)src;
                    for (int64_t ch = 0; ch < g->c; ch++)
                        d[ch] += s[ch];
                } else {
                    double *d = (double *)dst;
                    const double *s = (const double *)src;
                    for (int64_t ch = 0; ch < g->c; ch++)
                        d[ch] += s[ch];
                }
            }
        }
    }
}

static int64_t tile_rows(const conv_geom *g)
{
    int64_t t = (int64_t)(512 * 1024 / (g->k * (int64_t)g->esz + 1));
    return t < 32 ? 32 : t;
}

typedef struct conv_job {
    sl_kernel_ctx *ctx;
    const conv_geom *g;
    const char *x;       /* input (forward, filter grad) */
    const char *f;       /* filter (forward, input grad) */
    const char *dy;      /* output gradient */
    char *y;             /* forward output, or dx, or dfilter */
    int64_t tile;
    pthread_mutex_t *mu; /* filter grad: guards y */
} conv_job;

/* ---- direct float32 path (AVX-512) -------------------------------------------------- */

/* Whether the direct kernels of conv-direct.c take float32 convolutions:
 * the CPU has AVX-512 and SLUICE_CONV_PORTABLE is unset or "0" (tests set
 * it to check the portable path). */
static bool use_direct(const conv_geom *g)
{
    static int avail = -1;
    if (g->dt != SL_DTYPE_FLOAT)
        return false;
    if (avail < 0)
        avail = sl__dconv_available();
    const char *env = getenv("SLUICE_CONV_PORTABLE");
    return avail && !(env && *env && strcmp(env, "0"));
}

typedef struct dconv_job {
    sl_kernel_ctx *ctx;
    const sl_dconv *d;
    int64_t block;      /* pixels per index */
    int64_t pixels;
    int caller;         /* filter grad: the calling thread's id, which owns out */
    float *out;         /* filter grad: the result */
    float **acc;        /* filter grad: one accumulator per other thread (id + 1) */
    size_t acc_bytes;
} dconv_job;

static void dconv_fwd_shard(void *arg, int64_t begin, int64_t end)
{
    const dconv_job *j = arg;
    int64_t p1 = end * j->block < j->pixels ? end * j->block : j->pixels;
    sl__dconv_forward(j->d, begin * j->block, p1);
}

static void dconv_dw_shard(void *arg, int64_t begin, int64_t end)
{
    dconv_job *j = arg;
    int id = sl_threadpool_current_thread_id();
    float *acc = j->out;
    if (id != j->caller) {
        float **slot = &j->acc[id + 1];
        if (!*slot)
            *slot = sl_calloc(1, j->acc_bytes);
        if (!*slot) {
            sl_kernel_ctx_fail(j->ctx, SL_RESOURCE_EXHAUSTED, "out of memory for a convolution gradient buffer");
            return;
        }
        acc = *slot;
    }
    int64_t p1 = end * j->block < j->pixels ? end * j->block : j->pixels;
    sl__dconv_filter_grad(j->d, begin * j->block, p1, acc);
}

/* Runs the forward direct kernel over all output pixels of d on the pool. */
static void dconv_forward_all(sl_kernel_ctx *ctx, const sl_dconv *d)
{
    int64_t pixels = d->n * d->oh * d->ow;
    /* ~96 pixels (a multiple of 6 and 8) per index; the pool makes a few shards per thread */
    dconv_job j = {.ctx = ctx, .d = d, .block = 96, .pixels = pixels};
    sl_threadpool_parallel_for(sl_kernel_ctx_threadpool(ctx), (pixels + j.block - 1) / j.block, 1, dconv_fwd_shard, &j);
}

/* The kernels' description of g: input x, zero row for the padding. */
static sl_dconv dconv_of(const conv_geom *g, const float *x, const float *zeros)
{
    return (sl_dconv){.x = x, .h = g->h, .w = g->w, .cin = g->c, .n = g->n, .oh = g->oh, .ow = g->ow, .o = g->o,
                      .kh = g->kh, .kw = g->kw, .sh = g->sh, .sw = g->sw, .dh = g->dh, .dw = g->dw, .pt = g->pt,
                      .pl = g->pl, .zeros = zeros};
}

/* When the forward kernel wants it (few input channels), x copied into its
 * zero border and d set to read the copy; returns the copy to free (NULL:
 * none, d unchanged: the padded path needs no memory). */
static float *unpad(const conv_geom *g, const float *x, sl_dconv *d)
{
    float *xp = NULL;
    if (sl__dconv_wants_unpadded(d)) {
        /* the windows' span with the padding made real: [n, hp, wp, c] */
        int64_t hp = (g->oh - 1) * g->sh + (g->kh - 1) * g->dh + 1, wp = (g->ow - 1) * g->sw + (g->kw - 1) * g->dw + 1;
        xp = sl_malloc(sizeof(float) * (size_t)(g->n * hp * wp * g->c) + 1);
        if (xp) {
            for (int64_t n = 0; n < g->n; n++)
                for (int64_t r = 0; r < hp; r++) {
                    float *dst = xp + (n * hp + r) * wp * g->c;
                    int64_t ih = r - g->pt;
                    if (ih < 0 || ih >= g->h) {
                        memset(dst, 0, sizeof(float) * (size_t)(wp * g->c));
                        continue;
                    }
                    const float *src = x + (n * g->h + ih) * g->w * g->c;
                    for (int64_t s = 0; s < wp; s++) {
                        int64_t iw = s - g->pl;
                        for (int64_t c = 0; c < g->c; c++)
                            dst[s * g->c + c] = iw >= 0 && iw < g->w ? src[iw * g->c + c] : 0.0f;
                    }
                }
            d->x = xp;
            d->h = hp;
            d->w = wp;
            d->pt = d->pl = 0;
            d->unpadded = true;
        }  /* out of memory: the padded path below needs none */
    }
    return xp;
}

static void conv2d_direct(sl_kernel_ctx *ctx, const conv_geom *g, const float *x, const float *f, float *y,
                          const float *bias, bool relu)
{
    float *zeros = sl_calloc((size_t)g->c + 16, sizeof(float));
    if (!zeros) {
        sl_kernel_ctx_fail(ctx, SL_RESOURCE_EXHAUSTED, "out of memory for a convolution");
        return;
    }
    sl_dconv d = dconv_of(g, x, zeros);
    d.f = f;
    d.y = y;
    d.bias = bias;
    d.relu = relu;
    float *xp = unpad(g, x, &d);
    dconv_forward_all(ctx, &d);
    sl_free(xp);
    sl_free(zeros);
}

/* Stride 1: dx is the convolution of dy, padded by (k - 1) * d - p before
 * (negative: cropped), with the filter flipped in space and transposed in
 * channels. */
static void conv2d_backprop_input_direct(sl_kernel_ctx *ctx, const conv_geom *g, const float *f, const float *dy,
                                         float *dx)
{
    int64_t taps = g->kh * g->kw;
    float *zeros = sl_calloc((size_t)g->o + 16, sizeof(float));
    float *gf = sl_malloc(sizeof(float) * (size_t)(g->k * g->o) + 1);
    if (!zeros || !gf) {
        sl_kernel_ctx_fail(ctx, SL_RESOURCE_EXHAUSTED, "out of memory for a convolution");
        goto out;
    }
    /* gf[t', o, c] = f[taps - 1 - t', c, o] */
    for (int64_t t = 0; t < taps; t++)
        for (int64_t c = 0; c < g->c; c++)
            for (int64_t o = 0; o < g->o; o++)
                gf[(t * g->o + o) * g->c + c] = f[((taps - 1 - t) * g->c + c) * g->o + o];
    sl_dconv d = {.x = dy, .h = g->oh, .w = g->ow, .cin = g->o, .n = g->n, .oh = g->h, .ow = g->w, .o = g->c,
                  .kh = g->kh, .kw = g->kw, .sh = 1, .sw = 1, .dh = g->dh, .dw = g->dw,
                  .pt = (g->kh - 1) * g->dh - g->pt, .pl = (g->kw - 1) * g->dw - g->pl, .zeros = zeros,
                  .f = gf, .y = dx};
    dconv_forward_all(ctx, &d);
out:
    sl_free(gf);
    sl_free(zeros);
}

static void conv2d_backprop_filter_direct(sl_kernel_ctx *ctx, const conv_geom *g, const float *x, const float *dy,
                                          float *dw)
{
    sl_threadpool *pool = sl_kernel_ctx_threadpool(ctx);
    int threads = pool ? sl_threadpool_num_threads(pool) + 1 : 1;
    float **acc = sl_calloc((size_t)threads + 1, sizeof(float *));
    if (!acc) {
        sl_kernel_ctx_fail(ctx, SL_RESOURCE_EXHAUSTED, "out of memory for a convolution");
        return;
    }
    sl_dconv d = dconv_of(g, x, NULL);
    d.dy = dy;
    /* accumulators are per thread, not per shard: the pool's usual few
     * shards per thread even out a slow (preempted) thread */
    int64_t pixels = g->rows, block = 64;
    int64_t blocks = (pixels + block - 1) / block;
    dconv_job j = {.ctx = ctx, .d = &d, .block = block, .pixels = pixels, .caller = sl_threadpool_current_thread_id(),
                   .out = dw, .acc = acc, .acc_bytes = sizeof(float) * (size_t)(g->k * g->o)};
    sl_threadpool_parallel_for(pool, blocks, 1, dconv_dw_shard, &j);
    for (int i = 0; i <= threads; i++) {
        if (!acc[i])
            continue;
        for (int64_t e = 0; e < g->k * g->o; e++)
            dw[e] += acc[i][e];
        sl_free(acc[i]);
    }
    sl_free(acc);
}

/* ---- forward -------------------------------------------------------------------- */

static void conv_fwd_shard(void *arg, int64_t begin, int64_t end)
{
    const conv_job *j = arg;
    const conv_geom *g = j->g;
    char *buf = sl_malloc((size_t)(j->tile * g->k) * g->esz + 1);
    if (!buf) {
        sl_kernel_ctx_fail(j->ctx, SL_RESOURCE_EXHAUSTED, "out of memory for a convolution patch buffer");
        return;
    }
    for (int64_t t = begin; t < end; t++) {
        int64_t r0 = t * j->tile, nr = g->rows - r0 < j->tile ? g->rows - r0 : j->tile;
        im2col(g, j->x, r0, nr, buf);
        xgemm(g->dt, false, false, nr, g->o, g->k, buf, g->k, j->f, g->o, 0.0, j->y + (size_t)(r0 * g->o) * g->esz, g->o);
    }
    sl_free(buf);
}

static void pointwise_shard(void *arg, int64_t begin, int64_t end)
{
    const conv_job *j = arg;
    const conv_geom *g = j->g;
    int64_t r0 = begin * j->tile, r1 = end * j->tile < g->rows ? end * j->tile : g->rows;
    xgemm(g->dt, false, false, r1 - r0, g->o, g->k, j->x + (size_t)(r0 * g->k) * g->esz, g->k, j->f, g->o, 0.0,
          j->y + (size_t)(r0 * g->o) * g->esz, g->o);
}

/* y[rows, o] += bias, then max(0, .) when relu: the fused epilogue where
 * the kernel did not apply it (im2col path, double). */
static void epilogue_pass(const conv_geom *g, void *y, const void *bias, bool relu)
{
    for (int64_t r = 0; r < g->rows; r++) {
        if (g->dt == SL_DTYPE_FLOAT) {
            float *p = (float *)y + r * g->o;
            const float *b = bias;
            for (int64_t c = 0; c < g->o; c++) {
                float v = p[c] + b[c];
                p[c] = relu && !(v > 0) ? 0.0f : v;
            }
        } else {
            double *p = (double *)y + r * g->o;
            const double *b = bias;
            for (int64_t c = 0; c < g->o; c++) {
                double v = p[c] + b[c];
                p[c] = relu && !(v > 0) ? 0.0 : v;
            }
        }
    }
}

/* ---- _FusedConv2D with a max pool after it ------------------------------------------- */

typedef struct pool_geom1 {
    int64_t kh, kw, sh, sw, oh, ow, pt, pl;
} pool_geom1;

/* The max pool's window over the convolution's output (oh x ow), TF's SAME / VALID. */
static bool fused_pool_geometry(sl_kernel_ctx *ctx, const conv_geom *g, pool_geom1 *p)
{
    const sl_node *node = sl_kernel_ctx_node(ctx);
    const int64_t *k = NULL, *s = NULL;
    int nk = 0, ns = 0;
    sl_node_attr_int_list(node, "pool_ksize", &k, &nk);
    sl_node_attr_int_list(node, "pool_strides", &s, &ns);
    if (nk != 4 || ns != 4 || k[0] != 1 || k[3] != 1 || s[0] != 1 || s[3] != 1 || k[1] < 1 || k[2] < 1 ||
        s[1] < 1 || s[2] < 1) {
        sl_kernel_ctx_fail(ctx, SL_INVALID_ARGUMENT, "pool_ksize and pool_strides must be [1, h, w, 1], positive");
        return false;
    }
    *p = (pool_geom1){.kh = k[1], .kw = k[2], .sh = s[1], .sw = s[2]};
    if (sl__k_attr_str_is(node, "pool_padding", "SAME")) {
        p->oh = (g->oh + p->sh - 1) / p->sh;
        p->ow = (g->ow + p->sw - 1) / p->sw;
        int64_t th = (p->oh - 1) * p->sh + p->kh - g->oh, tw = (p->ow - 1) * p->sw + p->kw - g->ow;
        p->pt = th > 0 ? th / 2 : 0;
        p->pl = tw > 0 ? tw / 2 : 0;
    } else {
        p->oh = g->oh >= p->kh ? (g->oh - p->kh) / p->sh + 1 : 0;
        p->ow = g->ow >= p->kw ? (g->ow - p->kw) / p->sw + 1 : 0;
        p->pt = p->pl = 0;
    }
    return true;
}

/* Pools conv rows [h0, h1) of one image (c: [h1 - h0, ow, o]) into pooled
 * row `row` of out ([pow, o]); max as in pool.c: v > acc ? v : acc. */
#define POOL_ROW(NAME, T)                                                                              \
    static void NAME(const conv_geom *g, const pool_geom1 *p, const T *c, int64_t h0, int64_t h1, T *out) \
    {                                                                                                  \
        for (int64_t pj = 0; pj < p->ow; pj++) {                                                       \
            int64_t w0 = pj * p->sw - p->pl, w1 = w0 + p->kw;                                          \
            w0 = w0 < 0 ? 0 : w0;                                                                      \
            w1 = w1 > g->ow ? g->ow : w1;                                                              \
            T *o = out + pj * g->o;                                                                    \
            for (int64_t ch = 0; ch < g->o; ch++)                                                      \
                o[ch] = -(T)INFINITY;                                                                  \
            for (int64_t i = h0; i < h1; i++)                                                          \
                for (int64_t j = w0; j < w1; j++) {                                                    \
                    const T *v = c + ((i - h0) * g->ow + j) * g->o;                                    \
                    for (int64_t ch = 0; ch < g->o; ch++)                                              \
                        o[ch] = v[ch] > o[ch] ? v[ch] : o[ch];                                         \
                }                                                                                      \
        }                                                                                              \
    }
POOL_ROW(pool_row_f32, float)
POOL_ROW(pool_row_f64, double)

#if defined(__x86_64__) && defined(__GNUC__)
/* pool_row_f32 with AVX-512 (the direct path runs only where it is):
 * maxps(v, acc) is v > acc ? v : acc, NaN rule included. */
__attribute__((target("avx512f"))) static void pool_row_f32_avx512(const conv_geom *g, const pool_geom1 *p,
                                                                   const float *c, int64_t h0, int64_t h1,
                                                                   float *out)
{
    const int64_t O = g->o;
    __mmask16 tail = (__mmask16)((1u << (O % 16)) - 1);
    for (int64_t pj = 0; pj < p->ow; pj++) {
        int64_t w0 = pj * p->sw - p->pl, w1 = w0 + p->kw;
        w0 = w0 < 0 ? 0 : w0;
        w1 = w1 > g->ow ? g->ow : w1;
        for (int64_t ch = 0; ch < O; ch += 16) {
            __mmask16 m = O - ch >= 16 ? (__mmask16)0xFFFF : tail;
            __m512 acc = _mm512_set1_ps(-INFINITY);
            for (int64_t i = h0; i < h1; i++)
                for (int64_t j = w0; j < w1; j++)
                    acc = _mm512_max_ps(_mm512_maskz_loadu_ps(m, c + ((i - h0) * g->ow + j) * O + ch), acc);
            _mm512_mask_storeu_ps(out + pj * O + ch, m, acc);
        }
    }
}
#define POOL_ROW_DIRECT pool_row_f32_avx512
#else
#define POOL_ROW_DIRECT pool_row_f32
#endif

/* The conv rows pooled row r reads. */
static void pool_rows(const conv_geom *g, const pool_geom1 *p, int64_t r, int64_t *h0, int64_t *h1)
{
    *h0 = r * p->sh - p->pt;
    *h1 = *h0 + p->kh;
    *h0 = *h0 < 0 ? 0 : *h0;
    *h1 = *h1 > g->oh ? g->oh : *h1;
}

typedef struct fpool_job {
    sl_kernel_ctx *ctx;
    const conv_geom *g;
    const pool_geom1 *p;
    const sl_dconv *d;
    float *out;
} fpool_job;

/* One pooled row of one image per index: its conv rows are computed into a
 * small buffer (cache-resident) and pooled from there; the convolution's
 * full output is never written. */
static void fpool_shard(void *arg, int64_t begin, int64_t end)
{
    const fpool_job *j = arg;
    const conv_geom *g = j->g;
    const pool_geom1 *p = j->p;
    float *buf = sl_malloc(sizeof(float) * (size_t)(p->kh * g->ow * g->o) + 1);
    if (!buf) {
        sl_kernel_ctx_fail(j->ctx, SL_RESOURCE_EXHAUSTED, "out of memory for a convolution");
        return;
    }
    sl_dconv d = *j->d;
    for (int64_t u = begin; u < end; u++) {
        int64_t n = u / p->oh, r = u % p->oh, h0, h1;
        pool_rows(g, p, r, &h0, &h1);
        float *out = j->out + (n * p->oh + r) * p->ow * g->o;
        if (h1 <= h0) {  /* cannot happen with TF's padding; keep the pool's -inf */
            for (int64_t i = 0; i < p->ow * g->o; i++)
                out[i] = -INFINITY;
            continue;
        }
        int64_t p0 = (n * g->oh + h0) * g->ow, p1 = (n * g->oh + h1) * g->ow;
        d.y = buf;
        d.y_p0 = p0;
        sl__dconv_forward(&d, p0, p1);
        POOL_ROW_DIRECT(g, p, buf, h0, h1, out);
    }
    sl_free(buf);
}

/* _FusedConv2D with pool_ksize: convolution, bias, Relu, max pool. */
static void fused_conv2d_pool(sl_kernel_ctx *ctx, const sl_tensor *bias, bool relu)
{
    const sl_tensor *x = sl_kernel_ctx_input(ctx, 0), *f = sl_kernel_ctx_input(ctx, 1);
    conv_geom g;
    pool_geom1 p;
    if (!conv_geometry(ctx, sl_tensor_shape(x), sl_tensor_shape(f), &g) || !fused_pool_geometry(ctx, &g, &p))
        return;
    if (sl_tensor_shape(bias)->rank != 1 || sl_tensor_shape(bias)->dims[0] != g.o) {
        sl_kernel_ctx_fail(ctx, SL_INVALID_ARGUMENT, "bias must be a vector of the %lld output channels, got %s",
                           (long long)g.o, sl__k_shape_str(sl_tensor_shape(bias), 0));
        return;
    }
    sl_shape os = {.rank = 4, .dims = {g.n, p.oh, p.ow, g.o}};
    sl_tensor *y = sl__k_out(ctx, 0, &os);
    if (!y || sl_tensor_num_elements(y) == 0)
        return;
    if (g.k > 0 && use_direct(&g)) {
        float *zeros = sl_calloc((size_t)g.c + 16, sizeof(float));
        if (!zeros) {
            sl_kernel_ctx_fail(ctx, SL_RESOURCE_EXHAUSTED, "out of memory for a convolution");
            return;
        }
        sl_dconv d = dconv_of(&g, sl_tensor_data(x), zeros);
        d.f = sl_tensor_data(f);
        d.bias = sl_tensor_data(bias);
        d.relu = relu;
        float *xp = unpad(&g, sl_tensor_data(x), &d);
        fpool_job j = {ctx, &g, &p, &d, sl_tensor_data(y)};
        sl_threadpool_parallel_for(sl_kernel_ctx_threadpool(ctx), g.n * p.oh, 1, fpool_shard, &j);
        sl_free(xp);
        sl_free(zeros);
        return;
    }
    /* im2col path, double: the whole convolution, then the pool */
    size_t cbytes = (size_t)(g.rows * g.o) * g.esz;
    char *c = sl_malloc(cbytes + 1);
    if (!c) {
        sl_kernel_ctx_fail(ctx, SL_RESOURCE_EXHAUSTED, "out of memory for a convolution");
        return;
    }
    if (g.k == 0)
        memset(c, 0, cbytes);
    else {
        conv_job j = {ctx, &g, sl_tensor_data(x), sl_tensor_data(f), NULL, c, tile_rows(&g), NULL};
        sl__k_blas_init();
        int64_t tiles = (g.rows + j.tile - 1) / j.tile;
        sl_threadpool_parallel_for(sl_kernel_ctx_threadpool(ctx), tiles, 1,
                                   is_pointwise(&g) ? pointwise_shard : conv_fwd_shard, &j);
    }
    epilogue_pass(&g, c, sl_tensor_data(bias), relu);
    for (int64_t u = 0; u < g.n * p.oh; u++) {
        int64_t n = u / p.oh, r = u % p.oh, h0, h1;
        pool_rows(&g, &p, r, &h0, &h1);
        size_t off = (size_t)((n * g.oh + h0) * g.ow * g.o), ooff = (size_t)((n * p.oh + r) * p.ow * g.o);
        if (g.dt == SL_DTYPE_FLOAT)
            pool_row_f32(&g, &p, (const float *)c + off, h0, h1, (float *)sl_tensor_data(y) + ooff);
        else
            pool_row_f64(&g, &p, (const double *)c + off, h0, h1, (double *)sl_tensor_data(y) + ooff);
    }
    sl_free(c);
}

/* Conv2D, or with bias _FusedConv2D (Conv2D, BiasAdd, optionally Relu). */
static void conv2d_run(sl_kernel_ctx *ctx, const sl_tensor *bias, bool relu)
{
    const sl_tensor *x = sl_kernel_ctx_input(ctx, 0), *f = sl_kernel_ctx_input(ctx, 1);
    conv_geom g;
    if (!conv_geometry(ctx, sl_tensor_shape(x), sl_tensor_shape(f), &g))
        return;
    if (bias && (sl_tensor_shape(bias)->rank != 1 || sl_tensor_shape(bias)->dims[0] != g.o)) {
        sl_kernel_ctx_fail(ctx, SL_INVALID_ARGUMENT, "bias must be a vector of the %lld output channels, got %s",
                           (long long)g.o, sl__k_shape_str(sl_tensor_shape(bias), 0));
        return;
    }
    sl_shape os = {.rank = 4, .dims = {g.n, g.oh, g.ow, g.o}};
    sl_tensor *y = sl__k_out(ctx, 0, &os);
    if (!y || g.rows == 0 || g.o == 0)
        return;
    if (g.k == 0) {
        memset(sl_tensor_data(y), 0, sl_tensor_byte_size(y));
    } else if (use_direct(&g)) {
        conv2d_direct(ctx, &g, sl_tensor_data(x), sl_tensor_data(f), sl_tensor_data(y),
                      bias ? sl_tensor_data(bias) : NULL, relu);
        return;
    } else {
        conv_job j = {ctx, &g, sl_tensor_data(x), sl_tensor_data(f), NULL, sl_tensor_data(y), tile_rows(&g), NULL};
        sl__k_blas_init();
        int64_t tiles = (g.rows + j.tile - 1) / j.tile;
        sl_threadpool_parallel_for(sl_kernel_ctx_threadpool(ctx), tiles, 1,
                                   is_pointwise(&g) ? pointwise_shard : conv_fwd_shard, &j);
    }
    if (bias)
        epilogue_pass(&g, sl_tensor_data(y), sl_tensor_data(bias), relu);
}

static void conv2d_compute(sl_kernel_ctx *ctx)
{
    conv2d_run(ctx, NULL, false);
}

static void fused_conv2d_compute(sl_kernel_ctx *ctx)
{
    bool relu = false;
    sl_node_attr_bool(sl_kernel_ctx_node(ctx), "relu", &relu);
    if (sl_node_attr_list_size(sl_kernel_ctx_node(ctx), "pool_ksize") > 0)
        fused_conv2d_pool(ctx, sl_kernel_ctx_input(ctx, 2), relu);
    else
        conv2d_run(ctx, sl_kernel_ctx_input(ctx, 2), relu);
}

/* ---- gradient for the input ------------------------------------------------------- */

/* one image per index */
static void conv_dx_shard(void *arg, int64_t begin, int64_t end)
{
    const conv_job *j = arg;
    const conv_geom *g = j->g;
    char *buf = sl_malloc((size_t)(j->tile * g->k) * g->esz + 1);
    if (!buf) {
        sl_kernel_ctx_fail(j->ctx, SL_RESOURCE_EXHAUSTED, "out of memory for a convolution patch buffer");
        return;
    }
    int64_t per_image = g->oh * g->ow;
    for (int64_t n = begin; n < end; n++) {
        for (int64_t r0 = n * per_image; r0 < (n + 1) * per_image; r0 += j->tile) {
            int64_t nr = (n + 1) * per_image - r0 < j->tile ? (n + 1) * per_image - r0 : j->tile;
            xgemm(g->dt, false, true, nr, g->k, g->o, j->dy + (size_t)(r0 * g->o) * g->esz, g->o, j->f, g->o, 0.0,
                  buf, g->k);
            col2im(g, buf, r0, nr, j->y);
        }
    }
    sl_free(buf);
}

static bool read_sizes(sl_kernel_ctx *ctx, const sl_tensor *t, const char *what, sl_shape *s)
{
    if (!sl__k_check_int_vector(ctx, t, what))
        return false;
    if (sl_tensor_num_elements(t) != 4) {
        sl_kernel_ctx_fail(ctx, SL_INVALID_ARGUMENT, "%s must have 4 entries, got %s", what,
                           sl__k_shape_str(sl_tensor_shape(t), 0));
        return false;
    }
    s->rank = 4;
    for (int i = 0; i < 4; i++) {
        s->dims[i] = sl__k_int_at(t, i);
        if (s->dims[i] < 0) {
            sl_kernel_ctx_fail(ctx, SL_INVALID_ARGUMENT, "%s[%d] is negative", what, i);
            return false;
        }
    }
    return true;
}

static bool check_dy(sl_kernel_ctx *ctx, const conv_geom *g, const sl_tensor *dy)
{
    sl_shape want = {.rank = 4, .dims = {g->n, g->oh, g->ow, g->o}};
    if (!sl_shape_equal(sl_tensor_shape(dy), &want)) {
        sl_kernel_ctx_fail(ctx, SL_INVALID_ARGUMENT, "out_backprop has shape %s but the convolution's output is %s",
                           sl__k_shape_str(sl_tensor_shape(dy), 0), sl__k_shape_str(&want, 1));
        return false;
    }
    return true;
}

static void conv2d_backprop_input_compute(sl_kernel_ctx *ctx)
{
    const sl_tensor *sizes = sl_kernel_ctx_input(ctx, 0), *f = sl_kernel_ctx_input(ctx, 1),
                    *dy = sl_kernel_ctx_input(ctx, 2);
    sl_shape xs;
    conv_geom g;
    if (!read_sizes(ctx, sizes, "input_sizes", &xs) || !conv_geometry(ctx, &xs, sl_tensor_shape(f), &g) ||
        !check_dy(ctx, &g, dy))
        return;
    sl_tensor *dx = sl__k_out_zeroed(ctx, 0, &xs);  /* col2im accumulates */
    if (!dx || g.rows == 0 || g.k == 0 || g.o == 0)
        return;
    if (g.sh == 1 && g.sw == 1 && use_direct(&g)) {
        conv2d_backprop_input_direct(ctx, &g, sl_tensor_data(f), sl_tensor_data(dy), sl_tensor_data(dx));
        return;
    }
    conv_job j = {ctx, &g, NULL, sl_tensor_data(f), sl_tensor_data(dy), sl_tensor_data(dx), tile_rows(&g), NULL};
    sl__k_blas_init();
    if (is_pointwise(&g)) {
        /* dx[rows, C] = dy[rows, O] x f^T, split by rows */
        xgemm(g.dt, false, true, g.rows, g.k, g.o, j.dy, g.o, j.f, g.o, 0.0, j.y, g.k);
        return;
    }
    sl_threadpool_parallel_for(sl_kernel_ctx_threadpool(ctx), g.n, 1, conv_dx_shard, &j);
}

/* ---- gradient for the filter ------------------------------------------------------- */

static void conv_dw_shard(void *arg, int64_t begin, int64_t end)
{
    const conv_job *j = arg;
    const conv_geom *g = j->g;
    size_t wbytes = (size_t)(g->k * g->o) * g->esz;
    char *acc = sl_calloc(1, wbytes + 1);
    char *buf = is_pointwise(g) ? NULL : sl_malloc((size_t)(j->tile * g->k) * g->esz + 1);
    if (!acc || (!buf && !is_pointwise(g))) {
        sl_kernel_ctx_fail(j->ctx, SL_RESOURCE_EXHAUSTED, "out of memory for a convolution gradient buffer");
        goto out;
    }
    for (int64_t t = begin; t < end; t++) {
        int64_t r0 = t * j->tile, nr = g->rows - r0 < j->tile ? g->rows - r0 : j->tile;
        const char *patches = j->x + (size_t)(r0 * g->k) * g->esz;
        if (buf) {
            im2col(g, j->x, r0, nr, buf);
            patches = buf;
        }
        xgemm(g->dt, true, false, g->k, g->o, nr, patches, g->k, j->dy + (size_t)(r0 * g->o) * g->esz, g->o, 1.0,
              acc, g->o);
    }
    pthread_mutex_lock(j->mu);
    if (g->dt == SL_DTYPE_FLOAT) {
        float *d = (float *)j->y;
        const float *s = (const float *)acc;
        for (int64_t i = 0; i < g->k * g->o; i++)
            d[i] += s[i];
    } else {
        double *d = (double *)j->y;
        const double *s = (const double *)acc;
        for (int64_t i = 0; i < g->k * g->o; i++)
            d[i] += s[i];
    }
    pthread_mutex_unlock(j->mu);
out:
    sl_free(buf);
    sl_free(acc);
}

static void conv2d_backprop_filter_compute(sl_kernel_ctx *ctx)
{
    const sl_tensor *x = sl_kernel_ctx_input(ctx, 0), *sizes = sl_kernel_ctx_input(ctx, 1),
                    *dy = sl_kernel_ctx_input(ctx, 2);
    sl_shape fs;
    conv_geom g;
    if (!read_sizes(ctx, sizes, "filter_sizes", &fs) || !conv_geometry(ctx, sl_tensor_shape(x), &fs, &g) ||
        !check_dy(ctx, &g, dy))
        return;
    sl_tensor *dw = sl__k_out_zeroed(ctx, 0, &fs);  /* shards accumulate */
    if (!dw || g.rows == 0 || g.k == 0 || g.o == 0)
        return;
    if (use_direct(&g)) {
        conv2d_backprop_filter_direct(ctx, &g, sl_tensor_data(x), sl_tensor_data(dy), sl_tensor_data(dw));
        return;
    }
    pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
    conv_job j = {ctx, &g, sl_tensor_data(x), NULL, sl_tensor_data(dy), sl_tensor_data(dw), tile_rows(&g), &mu};
    sl__k_blas_init();
    int64_t tiles = (g.rows + j.tile - 1) / j.tile;
    sl_threadpool *pool = sl_kernel_ctx_threadpool(ctx);
    int threads = pool ? sl_threadpool_num_threads(pool) + 1 : 1;
    /* few shards: each one owns a K x O accumulator */
    int64_t per = (tiles + threads - 1) / threads;
    sl_threadpool_parallel_for(pool, tiles, per < 1 ? 1 : per, conv_dw_shard, &j);
    pthread_mutex_destroy(&mu);
}

#define CONV_K(OP, FN)                                                                          \
    {.op = OP, .device = SL_DEVICE_CPU, .constraints = {SL_K_FLOATS}, .compute = FN, .cost = 10}

static const sl_kernel_def conv_kernels[] = {
    CONV_K("Conv2D", conv2d_compute),
    CONV_K("_FusedConv2D", fused_conv2d_compute),
    CONV_K("Conv2DBackpropInput", conv2d_backprop_input_compute),
    CONV_K("Conv2DBackpropFilter", conv2d_backprop_filter_compute),
};

void sl__kernels_register_conv(void);
void sl__kernels_register_conv(void)
{
    sl__kernel_register_table(conv_kernels, SL_COUNTOF_K(conv_kernels));
}
