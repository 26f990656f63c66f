/* Neural-network kernels that work row by row: BiasAdd and BiasAddGrad
 * (NHWC and NCHW), Softmax and LogSoftmax over the last dimension, and
 * the softmax cross-entropy losses (dense and sparse labels).
 *
 * Softmax-like kernels subtract each row's maximum before exponentiating
 * and accumulate in double, so large logits neither overflow nor lose the
 * small terms.  A sparse label outside [0, classes) fails the step with a
 * message naming the row and the value.
 */
#include "config.h"

#include <math.h>
#include <string.h>
#if defined(__SSE__)
#include <xmmintrin.h>
#endif

#include "cpu-kernels.h"

/* ---- BiasAdd / BiasAddGrad ----------------------------------------------- */

/* value as [outer, C, inner]: inner is 1 for NHWC, H*W... for NCHW */
static bool bias_layout(sl_kernel_ctx *ctx, const sl_shape *s, int64_t *outer, int64_t *c, int64_t *inner)
{
    if (s->rank < 2) {
        sl_kernel_ctx_fail(ctx, SL_INVALID_ARGUMENT, "input must have at least 2 dimensions, got %s",
                           sl__k_shape_str(s, 0));
        return false;
    }
    bool nchw = sl__k_attr_str_is(sl_kernel_ctx_node(ctx), "data_format", "NCHW");
    int cd = nchw ? 1 : s->rank - 1;
    *outer = 1;
    *inner = 1;
    for (int d = 0; d < s->rank; d++) {
        if (d < cd)
            *outer *= s->dims[d];
        else if (d > cd)
            *inner *= s->dims[d];
    }
    *c = s->dims[cd];
    return true;
}

typedef struct bias_job {
    sl_dtype dt;
    const void *x;
    const void *b;
    void *o;
    int64_t c, inner;
} bias_job;

#define BIAS_CASE(DT, T, ADD)                                                                   \
    case DT: {                                                                                  \
        const T *x = j->x, *b = j->b;                                                           \
        T *o = j->o;                                                                            \
        for (int64_t r = begin; r < end; r++) {                                                 \
            const T bv = b[r % j->c];                                                           \
            for (int64_t i = 0; i < j->inner; i++) {                                            \
                T v = x[r * j->inner + i];                                                      \
                o[r * j->inner + i] = (T)(ADD);                                                 \
            }                                                                                   \
        }                                                                                       \
        break;                                                                                  \
    }

/* o = x + b over one row of c floats, four at a time (the generic loop
 * stayed scalar at -O2: o may alias x). */
static inline void bias_row_f32(float *o, const float *x, const float *b, int64_t c)
{
    int64_t i = 0;
#if defined(__SSE__)
    for (; i + 4 <= c; i += 4)
        _mm_storeu_ps(o + i, _mm_add_ps(_mm_loadu_ps(x + i), _mm_loadu_ps(b + i)));
#endif
    for (; i < c; i++)
        o[i] = x[i] + b[i];
}

/* rows of `inner` elements; row r uses bias[r % c] */
static void bias_shard(void *arg, int64_t begin, int64_t end)
{
    const bias_job *j = arg;
    if (j->inner == 1) {  /* NHWC: rows of C with the whole bias vector */
        int64_t c = j->c;
        switch (j->dt) {
#define NHWC_CASE(DT, T, ADD)                                                                   \
    case DT: {                                                                                  \
        const T *x = j->x, *b = j->b;                                                           \
        T *o = j->o;                                                                            \
        for (int64_t r = begin / c; r * c < end; r++)                                           \
            for (int64_t i = 0; i < c; i++) {                                                   \
                T v = x[r * c + i], bv = b[i];                                                  \
                o[r * c + i] = (T)(ADD);                                                        \
            }                                                                                   \
        return;                                                                                 \
    }
        case SL_DTYPE_FLOAT:
            for (int64_t r = begin / c; r * c < end; r++)
                bias_row_f32((float *)j->o + r * c, (const float *)j->x + r * c, j->b, c);
            return;
        NHWC_CASE(SL_DTYPE_DOUBLE, double, v + bv)
        NHWC_CASE(SL_DTYPE_INT32, int32_t, (uint64_t)v + (uint64_t)bv)
        NHWC_CASE(SL_DTYPE_INT64, int64_t, (uint64_t)v + (uint64_t)bv)
        default: return;
        }
    }
    switch (j->dt) {
    BIAS_CASE(SL_DTYPE_FLOAT, float, v + bv)
    BIAS_CASE(SL_DTYPE_DOUBLE, double, v + bv)
    BIAS_CASE(SL_DTYPE_INT32, int32_t, (uint64_t)v + (uint64_t)bv)
    BIAS_CASE(SL_DTYPE_INT64, int64_t, (uint64_t)v + (uint64_t)bv)
    default: break;
    }
}

typedef struct bias_rows {
    const bias_job *j;
    int64_t c;
} bias_rows;

static void bias_nhwc_rows(void *arg, int64_t begin, int64_t end)
{
    const bias_rows *r = arg;
    bias_shard((void *)r->j, begin * r->c, end * r->c);
}

static void bias_add_compute(sl_kernel_ctx *ctx)
{
    const sl_tensor *x = sl_kernel_ctx_input(ctx, 0), *b = sl_kernel_ctx_input(ctx, 1);
    int64_t outer, c, inner;
    if (!bias_layout(ctx, sl_tensor_shape(x), &outer, &c, &inner))
        return;
    if (sl_tensor_rank(b) != 1 || sl_tensor_dim(b, 0) != c) {
        sl_kernel_ctx_fail(ctx, SL_INVALID_ARGUMENT, "bias of shape %s must be a vector matching the %lld channels of %s",
                           sl__k_shape_str(sl_tensor_shape(b), 0), (long long)c,
                           sl__k_shape_str(sl_tensor_shape(x), 1));
        return;
    }
    sl_tensor *o = sl__k_out(ctx, 0, sl_tensor_shape(x));
    if (!o || sl_tensor_num_elements(o) == 0)
        return;
    bias_job j = {sl_tensor_dtype(x), sl_tensor_data(x), sl_tensor_data(b), sl_tensor_data(o), c, inner};
    if (inner == 1) {
        bias_rows r = {&j, c};
        sl__k_parallel(ctx, outer, c, bias_nhwc_rows, &r);
    } else {
        sl__k_parallel(ctx, outer * c, inner, bias_shard, &j);
    }
}

typedef struct bias_grad_job {
    sl_dtype dt;
    const void *g;
    void *o;
    int64_t outer, c, inner;
} bias_grad_job;

#define BGRAD_CASE(DT, T, ACC)                                                                  \
    case DT: {                                                                                  \
        const T *g = j->g;                                                                      \
        T *o = j->o;                                                                            \
        for (int64_t ch = begin; ch < end; ch++) {                                              \
            ACC acc = 0;                                                                        \
            for (int64_t r = 0; r < j->outer; r++) {                                            \
                const T *p = g + (r * j->c + ch) * j->inner;                                    \
                for (int64_t i = 0; i < j->inner; i++)                                          \
                    acc += (ACC)p[i];                                                           \
            }                                                                                   \
            o[ch] = (T)acc;                                                                     \
        }                                                                                       \
        break;                                                                                  \
    }

/* one output channel per index: strided for NHWC, contiguous runs for NCHW */
static void bias_grad_shard(void *arg, int64_t begin, int64_t end)
{
    const bias_grad_job *j = arg;
    switch (j->dt) {
    BGRAD_CASE(SL_DTYPE_FLOAT, float, double)
    BGRAD_CASE(SL_DTYPE_DOUBLE, double, double)
    BGRAD_CASE(SL_DTYPE_INT32, int32_t, uint64_t)
    BGRAD_CASE(SL_DTYPE_INT64, int64_t, uint64_t)
    default: break;
    }
}

static void bias_add_grad_compute(sl_kernel_ctx *ctx)
{
    const sl_tensor *g = sl_kernel_ctx_input(ctx, 0);
    int64_t outer, c, inner;
    if (!bias_layout(ctx, sl_tensor_shape(g), &outer, &c, &inner))
        return;
    sl_shape os = sl_shape_vector(c);
    sl_tensor *o = sl__k_out(ctx, 0, &os);
    if (!o)
        return;
    bias_grad_job j = {sl_tensor_dtype(g), sl_tensor_data(g), sl_tensor_data(o), outer, c, inner};
    if (inner == 1 && sl_tensor_dtype(g) == SL_DTYPE_FLOAT && c > 0) {
        /* NHWC float: accumulate whole rows (contiguous) instead of strided columns */
        const float *gp = sl_tensor_data(g);
        float *op = sl_tensor_data(o);
        for (int64_t ch = 0; ch < c; ch++)
            op[ch] = 0;
        for (int64_t r = 0; r < outer; r++)
            for (int64_t ch = 0; ch < c; ch++)
                op[ch] += gp[r * c + ch];
        return;
    }
    sl__k_parallel(ctx, c, outer * inner + 1, bias_grad_shard, &j);
}

/* ---- Softmax, LogSoftmax ------------------------------------------------------ */

typedef struct softmax_job {
    sl_dtype dt;
    bool log;
    const void *x;
    void *y;
    int64_t n;  /* classes */
} softmax_job;

#define SOFTMAX_ROWS(NAME, T)                                                                   \
    static void NAME(const softmax_job *j, int64_t begin, int64_t end)                          \
    {                                                                                           \
        int64_t n = j->n;                                                                       \
        for (int64_t r = begin; r < end; r++) {                                                 \
            const T *x = (const T *)j->x + r * n;                                               \
            T *y = (T *)j->y + r * n;                                                           \
            T mx = x[0];                                                                        \
            for (int64_t i = 1; i < n; i++)                                                     \
                mx = x[i] > mx ? x[i] : mx;                                                     \
            double sum = 0;                                                                     \
            for (int64_t i = 0; i < n; i++)                                                     \
                sum += exp((double)(x[i] - mx));                                                \
            if (j->log) {                                                                       \
                T ls = (T)log(sum);                                                             \
                for (int64_t i = 0; i < n; i++)                                                 \
                    y[i] = x[i] - mx - ls;                                                      \
            } else {                                                                            \
                double inv = 1.0 / sum;                                                         \
                for (int64_t i = 0; i < n; i++)                                                 \
                    y[i] = (T)(exp((double)(x[i] - mx)) * inv);                                 \
            }                                                                                   \
        }                                                                                       \
    }
SOFTMAX_ROWS(softmax_f32, float)
SOFTMAX_ROWS(softmax_f64, double)

static void softmax_shard(void *arg, int64_t begin, int64_t end)
{
    const softmax_job *j = arg;
    if (j->dt == SL_DTYPE_FLOAT)
        softmax_f32(j, begin, end);
    else
        softmax_f64(j, begin, end);
}

static void softmax_compute(sl_kernel_ctx *ctx)
{
    const sl_tensor *x = sl_kernel_ctx_input(ctx, 0);
    const sl_shape *s = sl_tensor_shape(x);
    if (s->rank < 1) {
        sl_kernel_ctx_fail(ctx, SL_INVALID_ARGUMENT, "logits must have at least one dimension, got a scalar");
        return;
    }
    sl_tensor *y = sl__k_out(ctx, 0, s);
    int64_t n = s->dims[s->rank - 1];
    if (!y || sl_tensor_num_elements(x) == 0)
        return;
    softmax_job j = {sl_tensor_dtype(x), !strcmp(sl_node_op_type(sl_kernel_ctx_node(ctx)), "LogSoftmax"),
                     sl_tensor_data(x), sl_tensor_data(y), n};
    sl__k_parallel(ctx, sl_tensor_num_elements(x) / n, 20 * n, softmax_shard, &j);
}

/* ---- Cross-entropy losses ------------------------------------------------------ */

typedef struct xent_job {
    sl_dtype dt;
    const void *f;
    const void *l;     /* dense labels, or sparse label indices */
    sl_dtype ldt;      /* sparse label dtype */
    bool sparse;
    int64_t frow, fcol;  /* element strides of features: 0 where broadcast */
    int64_t lrow, lcol;
    void *loss;
    void *back;
    int64_t n;         /* classes */
} xent_job;

#define XENT_ROWS(NAME, T)                                                                      \
    static void NAME(const xent_job *j, int64_t begin, int64_t end)                             \
    {                                                                                           \
        int64_t n = j->n;                                                                       \
        for (int64_t r = begin; r < end; r++) {                                                 \
            const T *f = (const T *)j->f + r * j->frow;                                         \
            T *bk = (T *)j->back + r * n;                                                       \
            T mx = f[0];                                                                        \
            for (int64_t i = 1; i < n; i++)                                                     \
                mx = f[i * j->fcol] > mx ? f[i * j->fcol] : mx;                                 \
            double sum = 0;                                                                     \
            for (int64_t i = 0; i < n; i++)                                                     \
                sum += exp((double)(f[i * j->fcol] - mx));                                      \
            double lse = log(sum);                                                              \
            double loss = 0;                                                                    \
            if (j->sparse) {                                                                    \
                int64_t lab = j->ldt == SL_DTYPE_INT32 ? ((const int32_t *)j->l)[r]             \
                                                       : ((const int64_t *)j->l)[r];            \
                for (int64_t i = 0; i < n; i++)                                                 \
                    bk[i] = (T)(exp((double)(f[i] - mx) - lse) - (i == lab));                   \
                loss = lse - (double)(f[lab] - mx);                                             \
            } else {                                                                            \
                const T *l = (const T *)j->l + r * j->lrow;                                     \
                for (int64_t i = 0; i < n; i++) {                                               \
                    double lv = (double)l[i * j->lcol];                                         \
                    double logp = (double)(f[i * j->fcol] - mx) - lse;                          \
                    if (lv != 0)                                                                \
                        loss -= lv * logp;                                                      \
                    bk[i] = (T)(exp(logp) - lv);                                                \
                }                                                                               \
            }                                                                                   \
            ((T *)j->loss)[r] = (T)loss;                                                        \
        }                                                                                       \
    }
XENT_ROWS(xent_f32, float)
XENT_ROWS(xent_f64, double)

static void xent_shard(void *arg, int64_t begin, int64_t end)
{
    const xent_job *j = arg;
    if (j->dt == SL_DTYPE_FLOAT)
        xent_f32(j, begin, end);
    else
        xent_f64(j, begin, end);
}

static void xent_compute(sl_kernel_ctx *ctx)
{
    const sl_tensor *f = sl_kernel_ctx_input(ctx, 0), *l = sl_kernel_ctx_input(ctx, 1);
    const sl_shape *fs = sl_tensor_shape(f), *ls = sl_tensor_shape(l);
    if (fs->rank != 2 || ls->rank != 2) {
        sl_kernel_ctx_fail(ctx, SL_INVALID_ARGUMENT, "logits and labels must be matrices, got %s and %s",
                           sl__k_shape_str(fs, 0), sl__k_shape_str(ls, 1));
        return;
    }
    sl_shape both = {.rank = 2};
    for (int d = 0; d < 2; d++) {
        if (fs->dims[d] != ls->dims[d] && fs->dims[d] != 1 && ls->dims[d] != 1) {
            sl_kernel_ctx_fail(ctx, SL_INVALID_ARGUMENT,
                               "logits and labels must be broadcastable: logits %s, labels %s",
                               sl__k_shape_str(fs, 0), sl__k_shape_str(ls, 1));
            return;
        }
        both.dims[d] = fs->dims[d] == 1 ? ls->dims[d] : fs->dims[d];
    }
    sl_shape loss_shape = sl_shape_vector(both.dims[0]);
    sl_tensor *loss = sl__k_out(ctx, 0, &loss_shape);
    sl_tensor *back = loss ? sl__k_out(ctx, 1, &both) : NULL;
    if (!back || both.dims[0] == 0)
        return;
    if (both.dims[1] == 0) {  /* no classes: loss 0 */
        memset(sl_tensor_data(loss), 0, sl_tensor_byte_size(loss));
        return;
    }
    xent_job j = {
        .dt = sl_tensor_dtype(f), .f = sl_tensor_data(f), .l = sl_tensor_data(l), .sparse = false,
        .frow = fs->dims[0] == 1 ? 0 : fs->dims[1], .fcol = fs->dims[1] == 1 ? 0 : 1,
        .lrow = ls->dims[0] == 1 ? 0 : ls->dims[1], .lcol = ls->dims[1] == 1 ? 0 : 1,
        .loss = sl_tensor_data(loss), .back = sl_tensor_data(back), .n = both.dims[1],
    };
    sl__k_parallel(ctx, both.dims[0], 30 * both.dims[1], xent_shard, &j);
}

static void sparse_xent_compute(sl_kernel_ctx *ctx)
{
    const sl_tensor *f = sl_kernel_ctx_input(ctx, 0), *l = sl_kernel_ctx_input(ctx, 1);
    const sl_shape *fs = sl_tensor_shape(f), *ls = sl_tensor_shape(l);
    if (fs->rank != 2 || ls->rank != 1 || ls->dims[0] != fs->dims[0]) {
        sl_kernel_ctx_fail(ctx, SL_INVALID_ARGUMENT,
                           "logits must be [batch, classes] and labels [batch], got %s and %s",
                           sl__k_shape_str(fs, 0), sl__k_shape_str(ls, 1));
        return;
    }
    int64_t rows = fs->dims[0], n = fs->dims[1];
    for (int64_t r = 0; r < rows; r++) {
        int64_t lab = sl__k_int_at(l, r);
        if (lab < 0 || lab >= n) {
            sl_kernel_ctx_fail(ctx, SL_INVALID_ARGUMENT,
                               "label %lld in row %lld is outside the valid range [0, %lld)", (long long)lab,
                               (long long)r, (long long)n);
            return;
        }
    }
    sl_shape loss_shape = sl_shape_vector(rows);
    sl_tensor *loss = sl__k_out(ctx, 0, &loss_shape);
    sl_tensor *back = loss ? sl__k_out(ctx, 1, fs) : NULL;
    if (!back || rows == 0)
        return;
    xent_job j = {
        .dt = sl_tensor_dtype(f), .f = sl_tensor_data(f), .l = sl_tensor_data(l), .ldt = sl_tensor_dtype(l),
        .sparse = true, .frow = n, .fcol = 1, .loss = sl_tensor_data(loss), .back = sl_tensor_data(back), .n = n,
    };
    sl__k_parallel(ctx, rows, 30 * n, xent_shard, &j);
}

static const sl_kernel_def nn_kernels[] = {
    {.op = "BiasAdd", .device = SL_DEVICE_CPU, .constraints = {SL_K_NUMBERS}, .compute = bias_add_compute},
    {.op = "BiasAddGrad", .device = SL_DEVICE_CPU, .constraints = {SL_K_NUMBERS},
     .compute = bias_add_grad_compute},
    {.op = "Softmax", .device = SL_DEVICE_CPU, .constraints = {SL_K_FLOATS}, .compute = softmax_compute},
    {.op = "LogSoftmax", .device = SL_DEVICE_CPU, .constraints = {SL_K_FLOATS}, .compute = softmax_compute},
    {.op = "SoftmaxCrossEntropyWithLogits", .device = SL_DEVICE_CPU, .constraints = {SL_K_FLOATS},
     .compute = xent_compute},
    {.op = "SparseSoftmaxCrossEntropyWithLogits", .device = SL_DEVICE_CPU,
     .constraints = {SL_K_FLOATS, "Tlabels: {int32, int64}"}, .compute = sparse_xent_compute},
};

void sl__kernels_register_nn(void);
void sl__kernels_register_nn(void)
{
    sl__kernel_register_table(nn_kernels, SL_COUNTOF_K(nn_kernels));
}
