/* MatMul, BatchMatMul, BatchMatMulV2, and _FusedMatMul (MatMul + BiasAdd,
 * optionally + Relu, made by the runtime's fusion pass).
 *
 * float and double go to OpenBLAS (cblas_sgemm / cblas_dgemm), which the
 * engine keeps single-threaded (sl__k_blas_init): a big product is cut
 * into blocks of rows (or of columns when the result is wide and short)
 * and each block is one single-threaded gemm on a pool thread, so the
 * engine never runs two thread pools against each other.  Batched
 * products run one gemm per batch entry, the entries spread over the
 * pool; batch dimensions broadcast in BatchMatMulV2.  int32 and int64 use
 * a plain i-k-j loop that wraps on overflow like TF.
 */
#include "config.h"

#include <cblas.h>
#include <stdlib.h>
#include <string.h>

#include "bcast.h"
#include "gemm-direct.h"
#include "sluice/alloc.h"

/* One product C[M,N] = op(A) op(B), with op(A) [M,K] and op(B) [K,N], then
 * (_FusedMatMul, float and double) C += bias on every row and max(0, C)
 * when relu. */
typedef struct gemm {
    sl_dtype dt;
    bool ta;
    bool tb;
    int64_t m, n, k;
    const void *a;
    const void *b;
    void *c;
    const void *bias;
    bool relu;
} gemm;

#define INT_GEMM(NAME, T)                                                                       \
    static void NAME(const gemm *g, int64_t i0, int64_t i1)                                     \
    {                                                                                           \
        const T *a = g->a, *b = g->b;                                                           \
        T *c = g->c;                                                                            \
        int64_t M = g->m, N = g->n, K = g->k;                                                   \
        for (int64_t i = i0; i < i1; i++) {                                                     \
            for (int64_t j = 0; j < N; j++)                                                     \
                c[i * N + j] = 0;                                                               \
            for (int64_t p = 0; p < K; p++) {                                                   \
                uint64_t av = (uint64_t)(g->ta ? a[p * M + i] : a[i * K + p]);                  \
                for (int64_t j = 0; j < N; j++) {                                               \
                    uint64_t bv = (uint64_t)(g->tb ? b[j * K + p] : b[p * N + j]);              \
                    c[i * N + j] = (T)((uint64_t)c[i * N + j] + av * bv);                       \
                }                                                                               \
            }                                                                                   \
        }                                                                                       \
    }
INT_GEMM(gemm_i32, int32_t)
INT_GEMM(gemm_i64, int64_t)

/* Whether a float product goes to the direct AVX-512 kernel of
 * gemm-direct.c instead of OpenBLAS: no transposes, and few rows (a batch
 * of activations times a weight matrix), where OpenBLAS's packing of B on
 * every call costs most (the CNN's 3136x1024 weights are 12.8 MB); the
 * kernel reads B as it is, in 512x64 panels.  Measured on one core:
 * 64x784x512 150 -> 200 GFLOP/s, 64x3136x1024 126 -> 168, 256x3136x1024
 * 172 -> 181; the MLP's 256x512x10 logits 48 -> 33 us (at 64 rows even).
 * SLUICE_MATMUL_BLAS=1 keeps OpenBLAS. */
static bool use_direct(const gemm *g)
{
    static int avail = -1;
    if (avail < 0) {
        const char *env = getenv("SLUICE_MATMUL_BLAS");
        avail = sl__sgemm_direct_available() && !(env && *env && strcmp(env, "0"));
    }
    return avail && !g->ta && !g->tb && g->m <= 512 && g->k >= 64 && g->n >= 8;
}

/* _FusedMatMul's bias and Relu over rows [i0, i1) and columns [j0, j1) of
 * C, after a product that did not apply them (plain loops the compiler
 * vectorizes; Relu as TF's: max(v, 0), NaN -> 0 included). */
#define BIAS_RELU_ROWS(T)                                                    \
    for (int64_t i = i0; i < i1; i++) {                                      \
        T *c = (T *)g->c + i * g->n;                                         \
        const T *b = g->bias;                                                \
        if (b)                                                               \
            for (int64_t j = j0; j < j1; j++)                                \
                c[j] += b[j];                                                \
        if (g->relu)                                                         \
            for (int64_t j = j0; j < j1; j++)                                \
                c[j] = c[j] > 0 ? c[j] : 0;                                  \
    }
static void bias_relu_block(const gemm *g, int64_t i0, int64_t i1, int64_t j0, int64_t j1)
{
    if (!g->bias && !g->relu)
        return;
    if (g->dt == SL_DTYPE_FLOAT)
        BIAS_RELU_ROWS(float)
    else
        BIAS_RELU_ROWS(double)
}
#undef BIAS_RELU_ROWS

/* Rows [i0, i1) and columns [j0, j1) of C. */
static void gemm_block(const gemm *g, int64_t i0, int64_t i1, int64_t j0, int64_t j1)
{
    int64_t M = g->m, N = g->n, K = g->k;
    int64_t mb = i1 - i0, nb = j1 - j0;
    if (mb <= 0 || nb <= 0)
        return;
    if (g->dt == SL_DTYPE_INT32 || g->dt == SL_DTYPE_INT64) {
        /* integer products are small in practice: rows only */
        if (g->dt == SL_DTYPE_INT32)
            gemm_i32(g, i0, i1);
        else
            gemm_i64(g, i0, i1);
        return;
    }
    enum CBLAS_TRANSPOSE ta = g->ta ? CblasTrans : CblasNoTrans, tb = g->tb ? CblasTrans : CblasNoTrans;
    int64_t lda = g->ta ? M : K, ldb = g->tb ? K : N;
    int64_t aoff = g->ta ? i0 : i0 * K, boff = g->tb ? j0 * K : j0, coff = i0 * N + j0;
    if (K == 0) {  /* BLAS leaves C alone when K is 0; the product is zero */
        for (int64_t i = 0; i < mb; i++)
            memset((char *)g->c + (size_t)(coff + i * N) * sl_dtype_size(g->dt), 0,
                   (size_t)nb * sl_dtype_size(g->dt));
        bias_relu_block(g, i0, i1, j0, j1);
        return;
    }
    if (g->dt == SL_DTYPE_FLOAT && use_direct(g)) {
        sl_sgemm d = {.a = g->a, .lda = K, .b = g->b, .ldb = N, .c = g->c, .ldc = N, .k = K, .bias = g->bias,
                      .relu = g->relu};
        sl__sgemm_direct(&d, i0, i1, j0, j1);
        return;
    }
    if (g->dt == SL_DTYPE_FLOAT)
        cblas_sgemm(CblasRowMajor, ta, tb, (blasint)mb, (blasint)nb, (blasint)K, 1.0f,
                    (const float *)g->a + aoff, (blasint)lda, (const float *)g->b + boff, (blasint)ldb, 0.0f,
                    (float *)g->c + coff, (blasint)N);
    else
        cblas_dgemm(CblasRowMajor, ta, tb, (blasint)mb, (blasint)nb, (blasint)K, 1.0,
                    (const double *)g->a + aoff, (blasint)lda, (const double *)g->b + boff, (blasint)ldb, 0.0,
                    (double *)g->c + coff, (blasint)N);
    bias_relu_block(g, i0, i1, j0, j1);
}

typedef struct gemm_split {
    const gemm *g;
    bool by_rows;
    int64_t block;
} gemm_split;

static void gemm_shard(void *arg, int64_t begin, int64_t end)
{
    const gemm_split *s = arg;
    const gemm *g = s->g;
    int64_t lo = begin * s->block, hi = end * s->block;
    if (s->by_rows)
        gemm_block(g, lo, hi < g->m ? hi : g->m, 0, g->n);
    else
        gemm_block(g, 0, g->m, lo, hi < g->n ? hi : g->n);
}

/* Runs one product, split over the pool when it is big enough to pay. */
static void gemm_run(sl_kernel_ctx *ctx, const gemm *g)
{
    sl_threadpool *pool = sl_kernel_ctx_threadpool(ctx);
    double flops = 2.0 * (double)g->m * (double)g->n * (double)g->k;
    int threads = pool ? sl_threadpool_num_threads(pool) + 1 : 1;
    if (threads == 1 || flops < 4e6 || (g->dt != SL_DTYPE_FLOAT && g->dt != SL_DTYPE_DOUBLE)) {
        gemm_block(g, 0, g->m, 0, g->n);
        return;
    }
    /* split the longer side into one block per thread, in multiples of 16 */
    bool by_rows = g->m >= g->n;
    int64_t len = by_rows ? g->m : g->n;
    int64_t block = (len + threads - 1) / threads;
    block = (block + 15) / 16 * 16;
    gemm_split s = {g, by_rows, block};
    sl_threadpool_parallel_for(pool, (len + block - 1) / block, 1, gemm_shard, &s);
}

/* MatMul, or with a bias _FusedMatMul (MatMul, BiasAdd, optionally Relu). */
static void matmul_compute(sl_kernel_ctx *ctx)
{
    const sl_node *node = sl_kernel_ctx_node(ctx);
    const sl_tensor *a = sl_kernel_ctx_input(ctx, 0), *b = sl_kernel_ctx_input(ctx, 1);
    const sl_tensor *bias = sl_kernel_ctx_num_inputs(ctx) > 2 ? sl_kernel_ctx_input(ctx, 2) : NULL;
    bool ta = false, tb = false, relu = false;
    sl_node_attr_bool(node, "transpose_a", &ta);
    sl_node_attr_bool(node, "transpose_b", &tb);
    if (bias)
        sl_node_attr_bool(node, "relu", &relu);
    if (sl_tensor_rank(a) != 2 || sl_tensor_rank(b) != 2) {
        sl_kernel_ctx_fail(ctx, SL_INVALID_ARGUMENT, "inputs must be matrices, got %s and %s",
                           sl__k_shape_str(sl_tensor_shape(a), 0), sl__k_shape_str(sl_tensor_shape(b), 1));
        return;
    }
    int64_t m = sl_tensor_dim(a, ta ? 1 : 0), ka = sl_tensor_dim(a, ta ? 0 : 1);
    int64_t kb = sl_tensor_dim(b, tb ? 1 : 0), n = sl_tensor_dim(b, tb ? 0 : 1);
    if (ka != kb) {
        sl_kernel_ctx_fail(ctx, SL_INVALID_ARGUMENT,
                           "matrix size-incompatible: a is %s%s, b is %s%s (inner dimensions %lld and %lld)",
                           sl__k_shape_str(sl_tensor_shape(a), 0), ta ? " transposed" : "",
                           sl__k_shape_str(sl_tensor_shape(b), 1), tb ? " transposed" : "", (long long)ka,
                           (long long)kb);
        return;
    }
    if (bias && (sl_tensor_rank(bias) != 1 || sl_tensor_dim(bias, 0) != n)) {
        sl_kernel_ctx_fail(ctx, SL_INVALID_ARGUMENT, "bias of shape %s must be a vector matching the %lld columns of the product",
                           sl__k_shape_str(sl_tensor_shape(bias), 0), (long long)n);
        return;
    }
    sl_shape os = sl_shape_matrix(m, n);
    sl_tensor *c = sl__k_out(ctx, 0, &os);
    if (!c)
        return;
    gemm g = {sl_tensor_dtype(a), ta, tb, m, n, ka, sl_tensor_data(a), sl_tensor_data(b), sl_tensor_data(c),
              bias ? sl_tensor_data(bias) : NULL, relu};
    gemm_run(ctx, &g);
}

/* ---- Batched products ------------------------------------------------------ */

typedef struct batch_job {
    gemm proto;          /* dims, dtype and transposes; pointers are the bases */
    const sl_bcast *bc;  /* broadcast plan of the batch dimensions */
    int64_t a_mat;       /* elements per matrix */
    int64_t b_mat;
    int64_t c_mat;
} batch_job;

static void batch_shard(void *arg, int64_t begin, int64_t end)
{
    const batch_job *j = arg;
    size_t esz = sl_dtype_size(j->proto.dt);
    for (int64_t bi = begin; bi < end; bi++) {
        /* batch index -> input batch offsets through the plan's strides */
        int64_t rem = bi, ao = 0, bo = 0;
        for (int d = j->bc->rank - 1; d >= 0; d--) {
            int64_t idx = rem % j->bc->dims[d];
            rem /= j->bc->dims[d];
            ao += idx * j->bc->strides[0][d];
            bo += idx * j->bc->strides[1][d];
        }
        gemm g = j->proto;
        g.a = (const char *)j->proto.a + (size_t)(ao * j->a_mat) * esz;
        g.b = (const char *)j->proto.b + (size_t)(bo * j->b_mat) * esz;
        g.c = (char *)j->proto.c + (size_t)(bi * j->c_mat) * esz;
        gemm_block(&g, 0, g.m, 0, g.n);
    }
}

static void batch_matmul_compute(sl_kernel_ctx *ctx)
{
    const sl_node *node = sl_kernel_ctx_node(ctx);
    const sl_tensor *x = sl_kernel_ctx_input(ctx, 0), *y = sl_kernel_ctx_input(ctx, 1);
    bool ta = false, tb = false;
    sl_node_attr_bool(node, "adj_x", &ta);
    sl_node_attr_bool(node, "adj_y", &tb);
    const sl_shape *xs = sl_tensor_shape(x), *ys = sl_tensor_shape(y);
    if (xs->rank < 2 || ys->rank < 2) {
        sl_kernel_ctx_fail(ctx, SL_INVALID_ARGUMENT, "inputs must have rank >= 2, got %s and %s",
                           sl__k_shape_str(xs, 0), sl__k_shape_str(ys, 1));
        return;
    }
    bool v1 = !strcmp(sl_node_op_type(node), "BatchMatMul");
    sl_shape xb = sl_shape_make(xs->rank - 2, xs->dims), yb = sl_shape_make(ys->rank - 2, ys->dims);
    if (v1 && !sl_shape_equal(&xb, &yb)) {
        sl_kernel_ctx_fail(ctx, SL_INVALID_ARGUMENT, "batch dimensions differ: x is %s, y is %s",
                           sl__k_shape_str(xs, 0), sl__k_shape_str(ys, 1));
        return;
    }
    const sl_shape *bs[2] = {&xb, &yb};
    sl_bcast bc;
    if (!sl__bcast_init(ctx, &bc, 2, bs))
        return;
    int64_t m = xs->dims[xs->rank - (ta ? 1 : 2)], ka = xs->dims[xs->rank - (ta ? 2 : 1)];
    int64_t kb = ys->dims[ys->rank - (tb ? 1 : 2)], n = ys->dims[ys->rank - (tb ? 2 : 1)];
    if (ka != kb) {
        sl_kernel_ctx_fail(ctx, SL_INVALID_ARGUMENT,
                           "matrix size-incompatible: x is %s%s, y is %s%s (inner dimensions %lld and %lld)",
                           sl__k_shape_str(xs, 0), ta ? " adjointed" : "", sl__k_shape_str(ys, 1),
                           tb ? " adjointed" : "", (long long)ka, (long long)kb);
        return;
    }
    if (bc.out.rank + 2 > SL_MAX_DIMS) {
        sl_kernel_ctx_fail(ctx, SL_INVALID_ARGUMENT, "result has more than %d dimensions", SL_MAX_DIMS);
        return;
    }
    sl_shape os = bc.out;
    os.dims[os.rank++] = m;
    os.dims[os.rank++] = n;
    sl_tensor *c = sl__k_out(ctx, 0, &os);
    if (!c || sl_tensor_num_elements(c) == 0)
        return;
    batch_job j = {{sl_tensor_dtype(x), ta, tb, m, n, ka, sl_tensor_data(x), sl_tensor_data(y), sl_tensor_data(c), NULL, false},
                   &bc, m * ka, ka * n, m * n};
    if (bc.n == 1) {
        gemm_run(ctx, &j.proto);
        return;
    }
    sl__k_parallel(ctx, bc.n, 2 * m * n * ka + 1, batch_shard, &j);
}

#define MM_TYPES "T: {float, double, int32, int64}"

static const sl_kernel_def matmul_kernels[] = {
    {.op = "MatMul", .device = SL_DEVICE_CPU, .constraints = {MM_TYPES}, .compute = matmul_compute, .cost = 10},
    {.op = "BatchMatMul", .device = SL_DEVICE_CPU, .constraints = {MM_TYPES}, .compute = batch_matmul_compute,
     .cost = 10},
    {.op = "BatchMatMulV2", .device = SL_DEVICE_CPU, .constraints = {MM_TYPES},
     .compute = batch_matmul_compute, .cost = 10},
    {.op = "_FusedMatMul", .device = SL_DEVICE_CPU, .constraints = {"T: {float, double}"},
     .compute = matmul_compute, .cost = 10},
};

void sl__kernels_register_matmul(void);
void sl__kernels_register_matmul(void)
{
    sl__kernel_register_table(matmul_kernels, SL_COUNTOF_K(matmul_kernels));
}
