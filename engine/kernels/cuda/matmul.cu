/* MatMul and BatchMatMul / BatchMatMulV2 on cuBLAS, float and double.
 *
 * cuBLAS is column-major; a row-major C = op(A) op(B) is the column-major
 * C^T = op(B)^T op(A)^T, so the operands are passed swapped with their
 * own leading dimensions and no copy is made.  Batches of equal shape use
 * one strided-batched call; broadcast batch dimensions (V2) fall back to
 * one gemm per output matrix.  TF32 is not enabled: results match the
 * CPU's float arithmetic within the usual rounding. */
#include <cublas_v2.h>
#include <string.h>

#include "cuda-common.cuh"
#include "matmul.cuh"

static bool attr_bool(sl_kernel_ctx *ctx, const char *name)
{
    bool v = false;
    sl_node_attr_bool(sl_kernel_ctx_node(ctx), name, &v);
    return v;
}

/* Row-major gemm of `batch` matrices with element strides sa, sb, sc. */
static cublasStatus_t gemm(cublasHandle_t h, bool dbl, bool ta, bool tb, int64_t m, int64_t n, int64_t k,
                           const void *a, int64_t sa, const void *b, int64_t sb, void *c, int64_t sc, int64_t batch)
{
    cublasOperation_t opa = ta ? CUBLAS_OP_T : CUBLAS_OP_N, opb = tb ? CUBLAS_OP_T : CUBLAS_OP_N;
    int lda = (int)(ta ? m : k), ldb = (int)(tb ? k : n), ldc = (int)n;
    if (dbl) {
        const double one = 1, zero = 0;
        if (batch == 1)
            return cublasDgemm(h, opb, opa, (int)n, (int)m, (int)k, &one, (const double *)b, ldb, (const double *)a, lda,
                               &zero, (double *)c, ldc);
        return cublasDgemmStridedBatched(h, opb, opa, (int)n, (int)m, (int)k, &one, (const double *)b, ldb, sb,
                                         (const double *)a, lda, sa, &zero, (double *)c, ldc, sc, (int)batch);
    }
    const float one = 1, zero = 0;
    if (batch == 1)
        return cublasSgemm(h, opb, opa, (int)n, (int)m, (int)k, &one, (const float *)b, ldb, (const float *)a, lda, &zero,
                           (float *)c, ldc);
    return cublasSgemmStridedBatched(h, opb, opa, (int)n, (int)m, (int)k, &one, (const float *)b, ldb, sb,
                                     (const float *)a, lda, sa, &zero, (float *)c, ldc, sc, (int)batch);
}

static void run_gemm(sl_kernel_ctx *ctx, bool dbl, bool ta, bool tb, int64_t m, int64_t n, int64_t k, const void *a,
                     int64_t sa, const void *b, int64_t sb, void *c, int64_t sc, int64_t batch)
{
    if (m > INT32_MAX || n > INT32_MAX || k > INT32_MAX || batch > INT32_MAX) {
        sl_kernel_ctx_fail(ctx, SL_UNIMPLEMENTED, "matrices too large for one cuBLAS call");
        return;
    }
    sl_gpu_device *dev = sl__gpu_current();
    size_t esz = dbl ? 8 : 4;
    if (k == 0) {  /* an empty inner dimension gives zeros */
        SL_CUDA_CHECK(ctx, cudaMemsetAsync(c, 0, (size_t)(m * n * batch) * esz, (cudaStream_t)sl__gpu_stream(dev)));
        return;
    }
    sl__gpu_lock(dev);
    cublasStatus_t s = gemm((cublasHandle_t)sl__gpu_cublas(dev), dbl, ta, tb, m, n, k, a, sa, b, sb, c, sc, batch);
    sl__gpu_unlock(dev);
    if (s != CUBLAS_STATUS_SUCCESS)
        sl_kernel_ctx_fail(ctx, SL_INTERNAL, "cuBLAS gemm failed: %s", cublasGetStatusString(s));
}

static void matmul_compute(sl_kernel_ctx *ctx)
{
    const sl_tensor *a = sl_kernel_ctx_input(ctx, 0), *b = sl_kernel_ctx_input(ctx, 1);
    bool ta = attr_bool(ctx, "transpose_a"), tb = attr_bool(ctx, "transpose_b");
    if (sl_tensor_rank(a) != 2 || sl_tensor_rank(b) != 2) {
        sl_kernel_ctx_fail(ctx, SL_INVALID_ARGUMENT, "MatMul takes matrices");
        return;
    }
    int64_t m = sl_tensor_dim(a, ta ? 1 : 0), k = sl_tensor_dim(a, ta ? 0 : 1);
    int64_t k2 = sl_tensor_dim(b, tb ? 1 : 0), n = sl_tensor_dim(b, tb ? 0 : 1);
    if (k != k2) {
        sl_kernel_ctx_fail(ctx, SL_INVALID_ARGUMENT, "matrix size-incompatible: inner dimensions %lld and %lld",
                           (long long)k, (long long)k2);
        return;
    }
    sl_shape os = sl_shape_matrix(m, n);
    sl_tensor *c = sl__gpu_output(ctx, 0, &os);
    if (!c || !m || !n)
        return;
    run_gemm(ctx, sl_tensor_dtype(a) == SL_DTYPE_DOUBLE, ta, tb, m, n, k, sl_tensor_data(a), 0, sl_tensor_data(b), 0,
             sl_tensor_data(c), 0, 1);
}

static void batch_matmul_compute(sl_kernel_ctx *ctx)
{
    const sl_tensor *a = sl_kernel_ctx_input(ctx, 0), *b = sl_kernel_ctx_input(ctx, 1);
    bool ta = attr_bool(ctx, "adj_x"), tb = attr_bool(ctx, "adj_y");
    const sl_shape *as = sl_tensor_shape(a), *bs = sl_tensor_shape(b);
    if (as->rank < 2 || bs->rank < 2) {
        sl_kernel_ctx_fail(ctx, SL_INVALID_ARGUMENT, "BatchMatMul takes tensors of rank >= 2");
        return;
    }
    int64_t m = as->dims[as->rank - (ta ? 1 : 2)], k = as->dims[as->rank - (ta ? 2 : 1)];
    int64_t k2 = bs->dims[bs->rank - (tb ? 1 : 2)], n = bs->dims[bs->rank - (tb ? 2 : 1)];
    if (k != k2) {
        sl_kernel_ctx_fail(ctx, SL_INVALID_ARGUMENT, "matrix size-incompatible: inner dimensions %lld and %lld",
                           (long long)k, (long long)k2);
        return;
    }
    /* broadcast the batch dimensions */
    sl_shape ab = sl_shape_make(as->rank - 2, as->dims), bb = sl_shape_make(bs->rank - 2, bs->dims), ob;
    sl_status *st = sl_status_new();
    if (sl_shape_broadcast(&ab, &bb, &ob, st) != SL_OK) {
        sl_kernel_ctx_fail(ctx, SL_INVALID_ARGUMENT, "batch dimensions: %s", sl_status_message(st));
        sl_status_free(st);
        return;
    }
    sl_status_free(st);
    sl_shape os = ob;
    os.dims[os.rank++] = m;
    os.dims[os.rank++] = n;
    sl_tensor *c = sl__gpu_output(ctx, 0, &os);
    int64_t batch = sl_shape_num_elements(&ob);
    if (!c || !m || !n || !batch)
        return;
    bool dbl = sl_tensor_dtype(a) == SL_DTYPE_DOUBLE;
    size_t esz = dbl ? 8 : 4;
    int64_t sa = m * k, sb = k * n, sc = m * n;
    if (sl_shape_equal(&ab, &ob) && sl_shape_equal(&bb, &ob)) {
        run_gemm(ctx, dbl, ta, tb, m, n, k, sl_tensor_data(a), sa, sl_tensor_data(b), sb, sl_tensor_data(c), sc, batch);
        return;
    }
    int64_t astr[SL_MAX_DIMS], bstr[SL_MAX_DIMS];
    int64_t ka = 1, kb = 1;
    for (int d = ob.rank - 1; d >= 0; d--) {
        int da = d - (ob.rank - ab.rank), db = d - (ob.rank - bb.rank);
        int64_t na = da >= 0 ? ab.dims[da] : 1, nb = db >= 0 ? bb.dims[db] : 1;
        astr[d] = na == 1 ? 0 : ka;
        bstr[d] = nb == 1 ? 0 : kb;
        ka *= na;
        kb *= nb;
    }
    for (int64_t i = 0; i < batch && sl_kernel_ctx_ok(ctx); i++) {
        int64_t r = i, ia = 0, ib = 0;
        for (int d = ob.rank - 1; d >= 0; d--) {
            int64_t x = r % ob.dims[d];
            r /= ob.dims[d];
            ia += x * astr[d];
            ib += x * bstr[d];
        }
        run_gemm(ctx, dbl, ta, tb, m, n, k, (const char *)sl_tensor_data(a) + (size_t)(ia * sa) * esz, 0,
                 (const char *)sl_tensor_data(b) + (size_t)(ib * sb) * esz, 0,
                 (char *)sl_tensor_data(c) + (size_t)(i * sc) * esz, 0, 1);
    }
}

void sl__cuda_register_matmul(void)
{
    sl__cuda_reg("MatMul", SL_CUDA_FLOATS, NULL, matmul_compute, 0, 0);
    sl__cuda_reg("BatchMatMul", SL_CUDA_FLOATS, NULL, batch_matmul_compute, 0, 0);
    sl__cuda_reg("BatchMatMulV2", SL_CUDA_FLOATS, NULL, batch_matmul_compute, 0, 0);
}
