/* Row kernels on the GPU, mirroring kernels/cpu/nn.c: Softmax and
 * LogSoftmax over the last dimension, SoftmaxCrossEntropyWithLogits (with
 * broadcasting of rows or columns of size 1), the sparse variant, BiasAdd
 * and BiasAddGrad (NHWC and NCHW).
 *
 * One block of 256 threads per row: a max pass, a sum of exp(x - max) in
 * double (as the CPU does), then the outputs.  A sparse label outside
 * [0, classes) cannot fail the step from the device; its row gets NaN
 * loss and gradients, as TF's GPU kernel does. */
#include <math.h>
#include <string.h>

#include "cuda-common.cuh"
#include "softmax.cuh"

/* Block-wide max and sum over 256 threads. */
__device__ static double block_max(double v, double *sh)
{
    sh[threadIdx.x] = v;
    __syncthreads();
    for (int s = blockDim.x / 2; s > 0; s /= 2) {
        if (threadIdx.x < s && sh[threadIdx.x + s] > sh[threadIdx.x])
            sh[threadIdx.x] = sh[threadIdx.x + s];
        __syncthreads();
    }
    double r = sh[0];
    __syncthreads();
    return r;
}

__device__ static double block_sum(double v, double *sh)
{
    sh[threadIdx.x] = v;
    __syncthreads();
    for (int s = blockDim.x / 2; s > 0; s /= 2) {
        if (threadIdx.x < s)
            sh[threadIdx.x] += sh[threadIdx.x + s];
        __syncthreads();
    }
    double r = sh[0];
    __syncthreads();
    return r;
}

template <typename T> __global__ void softmax_kernel(const T *x, T *y, int64_t rows, int64_t n, bool log_)
{
    __shared__ double sh[SL_CUDA_BLOCK_SIZE];
    for (int64_t r = blockIdx.x; r < rows; r += gridDim.x) {
        const T *xr = x + r * n;
        T *yr = y + r * n;
        double m = -INFINITY;
        for (int64_t j = threadIdx.x; j < n; j += blockDim.x)
            m = fmax(m, (double)xr[j]);
        m = block_max(m, sh);
        double s = 0;
        for (int64_t j = threadIdx.x; j < n; j += blockDim.x)
            s += exp((double)xr[j] - m);
        s = block_sum(s, sh);
        double ls = log(s);
        for (int64_t j = threadIdx.x; j < n; j += blockDim.x)
            yr[j] = log_ ? (T)((double)xr[j] - m - ls) : (T)(exp((double)xr[j] - m) / s);
    }
}

static unsigned row_grid(int64_t rows)
{
    return (unsigned)(rows < 1 ? 1 : rows > 65536 ? 65536 : rows);
}

static void softmax_compute(sl_kernel_ctx *ctx)
{
    const sl_tensor *x = sl_kernel_ctx_input(ctx, 0);
    const sl_shape *s = sl_tensor_shape(x);
    if (s->rank < 1) {
        sl_kernel_ctx_fail(ctx, SL_INVALID_ARGUMENT, "logits must have at least one dimension, got a scalar");
        return;
    }
    sl_tensor *y = sl__gpu_output(ctx, 0, s);
    if (!y || sl_tensor_num_elements(x) == 0)
        return;
    int64_t n = s->dims[s->rank - 1], rows = sl_tensor_num_elements(x) / n;
    bool log_ = !strcmp(sl_node_op_type(sl_kernel_ctx_node(ctx)), "LogSoftmax");
    cudaStream_t stream = (cudaStream_t)sl__gpu_stream(sl__gpu_current());
    SL_CUDA_DISPATCH_FLOAT(ctx, sl_tensor_dtype(x),
                           (softmax_kernel<T><<<row_grid(rows), SL_CUDA_BLOCK_SIZE, 0, stream>>>(
                               (const T *)sl_tensor_data(x), (T *)sl_tensor_data(y), rows, n, log_)));
    SL_CUDA_CHECK_LAUNCH(ctx);
}

/* Dense labels (lab != NULL, element strides lrow/lcol) or sparse (idx). */
template <typename T, typename I>
__global__ void xent_kernel(const T *f, int64_t frow, int64_t fcol, const T *lab, int64_t lrow, int64_t lcol,
                            const I *idx, T *loss, T *back, int64_t rows, int64_t n)
{
    __shared__ double sh[SL_CUDA_BLOCK_SIZE];
    for (int64_t r = blockIdx.x; r < rows; r += gridDim.x) {
        const T *fr = f + r * frow;
        double m = -INFINITY;
        for (int64_t j = threadIdx.x; j < n; j += blockDim.x)
            m = fmax(m, (double)fr[j * fcol]);
        m = block_max(m, sh);
        double s = 0;
        for (int64_t j = threadIdx.x; j < n; j += blockDim.x)
            s += exp((double)fr[j * fcol] - m);
        s = block_sum(s, sh);
        double ls = log(s);
        int64_t label = idx ? (int64_t)idx[r] : -1;
        bool bad = idx && (label < 0 || label >= n);
        double l = 0;
        for (int64_t j = threadIdx.x; j < n; j += blockDim.x) {
            double z = (double)fr[j * fcol] - m;
            double p = idx ? (j == label ? 1.0 : 0.0) : (double)lab[r * lrow + j * lcol];
            l += p * (ls - z);
            back[r * n + j] = bad ? (T)NAN : (T)(exp(z) / s - p);
        }
        l = block_sum(l, sh);
        if (threadIdx.x == 0)
            loss[r] = bad ? (T)NAN : (T)l;
    }
}

static void xent_compute(sl_kernel_ctx *ctx)
{
    const sl_tensor *f = sl_kernel_ctx_input(ctx, 0), *l = sl_kernel_ctx_input(ctx, 1);
    const sl_shape *fs = sl_tensor_shape(f), *ls = sl_tensor_shape(l);
    if (fs->rank != 2 || ls->rank != 2) {
        sl_kernel_ctx_fail(ctx, SL_INVALID_ARGUMENT, "logits and labels must be matrices");
        return;
    }
    sl_shape both = sl_shape_matrix(0, 0);
    for (int d = 0; d < 2; d++) {
        if (fs->dims[d] != ls->dims[d] && fs->dims[d] != 1 && ls->dims[d] != 1) {
            sl_kernel_ctx_fail(ctx, SL_INVALID_ARGUMENT, "logits and labels must be broadcastable");
            return;
        }
        both.dims[d] = fs->dims[d] == 1 ? ls->dims[d] : fs->dims[d];
    }
    sl_shape loss_shape = sl_shape_vector(both.dims[0]);
    sl_tensor *loss = sl__gpu_output(ctx, 0, &loss_shape);
    sl_tensor *back = loss ? sl__gpu_output(ctx, 1, &both) : NULL;
    if (!back || both.dims[0] == 0)
        return;
    cudaStream_t stream = (cudaStream_t)sl__gpu_stream(sl__gpu_current());
    if (both.dims[1] == 0) {
        SL_CUDA_CHECK(ctx, cudaMemsetAsync(sl_tensor_data(loss), 0, sl_tensor_byte_size(loss), stream));
        return;
    }
    int64_t frow = fs->dims[0] == 1 ? 0 : fs->dims[1], fcol = fs->dims[1] == 1 ? 0 : 1;
    int64_t lrow = ls->dims[0] == 1 ? 0 : ls->dims[1], lcol = ls->dims[1] == 1 ? 0 : 1;
    SL_CUDA_DISPATCH_FLOAT(ctx, sl_tensor_dtype(f),
                           (xent_kernel<T, int32_t><<<row_grid(both.dims[0]), SL_CUDA_BLOCK_SIZE, 0, stream>>>(
                               (const T *)sl_tensor_data(f), frow, fcol, (const T *)sl_tensor_data(l), lrow, lcol,
                               (const int32_t *)NULL, (T *)sl_tensor_data(loss), (T *)sl_tensor_data(back),
                               both.dims[0], both.dims[1])));
    SL_CUDA_CHECK_LAUNCH(ctx);
}

static void sparse_xent_compute(sl_kernel_ctx *ctx)
{
    const sl_tensor *f = sl_kernel_ctx_input(ctx, 0), *l = sl_kernel_ctx_input(ctx, 1);
    const sl_shape *fs = sl_tensor_shape(f), *ls = sl_tensor_shape(l);
    if (fs->rank != 2 || ls->rank != 1 || ls->dims[0] != fs->dims[0]) {
        sl_kernel_ctx_fail(ctx, SL_INVALID_ARGUMENT, "logits must be [batch, classes] and labels [batch]");
        return;
    }
    sl_shape loss_shape = sl_shape_vector(fs->dims[0]);
    sl_tensor *loss = sl__gpu_output(ctx, 0, &loss_shape);
    sl_tensor *back = loss ? sl__gpu_output(ctx, 1, fs) : NULL;
    int64_t rows = fs->dims[0], n = fs->dims[1];
    if (!back || rows == 0 || n == 0)
        return;
    cudaStream_t stream = (cudaStream_t)sl__gpu_stream(sl__gpu_current());
    bool i64 = sl_tensor_dtype(l) == SL_DTYPE_INT64;
    if (i64) {
        SL_CUDA_DISPATCH_FLOAT(ctx, sl_tensor_dtype(f),
                               (xent_kernel<T, int64_t><<<row_grid(rows), SL_CUDA_BLOCK_SIZE, 0, stream>>>(
                                   (const T *)sl_tensor_data(f), n, 1, (const T *)NULL, 0, 0,
                                   (const int64_t *)sl_tensor_data(l), (T *)sl_tensor_data(loss),
                                   (T *)sl_tensor_data(back), rows, n)));
    } else {
        SL_CUDA_DISPATCH_FLOAT(ctx, sl_tensor_dtype(f),
                               (xent_kernel<T, int32_t><<<row_grid(rows), SL_CUDA_BLOCK_SIZE, 0, stream>>>(
                                   (const T *)sl_tensor_data(f), n, 1, (const T *)NULL, 0, 0,
                                   (const int32_t *)sl_tensor_data(l), (T *)sl_tensor_data(loss),
                                   (T *)sl_tensor_data(back), rows, n)));
    }
    SL_CUDA_CHECK_LAUNCH(ctx);
}

/* ---- BiasAdd / BiasAddGrad ---------------------------------------------------- */

/* value as [outer, C, inner]: inner is 1 for NHWC, H*W for NCHW */
static bool bias_layout(sl_kernel_ctx *ctx, const sl_shape *s, int64_t *outer, int64_t *c, int64_t *inner)
{
    if (s->rank < 2) {
        sl_kernel_ctx_fail(ctx, SL_INVALID_ARGUMENT, "input must have at least 2 dimensions");
        return false;
    }
    const char *fmt;
    size_t len;
    bool nchw = sl_node_attr_string(sl_kernel_ctx_node(ctx), "data_format", &fmt, &len) && len == 4 &&
                !memcmp(fmt, "NCHW", 4);
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

template <typename T> __global__ void bias_add_kernel(const T *v, const T *b, T *o, int64_t n, int64_t c, int64_t inner)
{
    SL_CUDA_FOR(i, n)
    {
        if constexpr (std::is_floating_point<T>::value)
            o[i] = v[i] + b[(i / inner) % c];
        else
            o[i] = (T)((uint64_t)v[i] + (uint64_t)b[(i / inner) % c]);
    }
}

static void bias_add_compute(sl_kernel_ctx *ctx)
{
    const sl_tensor *v = sl_kernel_ctx_input(ctx, 0), *b = sl_kernel_ctx_input(ctx, 1);
    int64_t outer, c, inner;
    if (!bias_layout(ctx, sl_tensor_shape(v), &outer, &c, &inner))
        return;
    if (sl_tensor_rank(b) != 1 || sl_tensor_dim(b, 0) != c) {
        sl_kernel_ctx_fail(ctx, SL_INVALID_ARGUMENT, "bias must be a vector of %lld channels", (long long)c);
        return;
    }
    sl_tensor *o = sl__gpu_output(ctx, 0, sl_tensor_shape(v));
    int64_t n = sl_tensor_num_elements(v);
    if (!o || !n)
        return;
    void *stream = sl__gpu_stream(sl__gpu_current());
    SL_CUDA_DISPATCH(ctx, sl_tensor_dtype(v),
                     SL_CUDA_LAUNCH(bias_add_kernel<T>, n, stream, (const T *)sl_tensor_data(v),
                                    (const T *)sl_tensor_data(b), (T *)sl_tensor_data(o), n, c, inner));
    SL_CUDA_CHECK_LAUNCH(ctx);
}

template <typename T> __global__ void bias_grad_kernel(const T *g, T *o, int64_t outer, int64_t c, int64_t inner)
{
    typedef typename std::conditional<std::is_floating_point<T>::value, double, uint64_t>::type A;
    __shared__ A sh[SL_CUDA_BLOCK_SIZE];
    for (int64_t ch = blockIdx.x; ch < c; ch += gridDim.x) {
        A s = 0;
        for (int64_t k = threadIdx.x; k < outer * inner; k += blockDim.x) {
            int64_t a = k / inner, b = k % inner;
            s += (A)g[(a * c + ch) * inner + b];
        }
        sh[threadIdx.x] = s;
        __syncthreads();
        for (int w = blockDim.x / 2; w > 0; w /= 2) {
            if (threadIdx.x < w)
                sh[threadIdx.x] += sh[threadIdx.x + w];
            __syncthreads();
        }
        if (threadIdx.x == 0)
            o[ch] = (T)sh[0];
        __syncthreads();
    }
}

static void bias_grad_compute(sl_kernel_ctx *ctx)
{
    const sl_tensor *g = sl_kernel_ctx_input(ctx, 0);
    int64_t outer, c, inner;
    if (!bias_layout(ctx, sl_tensor_shape(g), &outer, &c, &inner))
        return;
    sl_shape os = sl_shape_vector(c);
    sl_tensor *o = sl__gpu_output(ctx, 0, &os);
    if (!o || !c)
        return;
    cudaStream_t stream = (cudaStream_t)sl__gpu_stream(sl__gpu_current());
    SL_CUDA_DISPATCH(ctx, sl_tensor_dtype(g),
                     (bias_grad_kernel<T><<<row_grid(c), SL_CUDA_BLOCK_SIZE, 0, stream>>>(
                         (const T *)sl_tensor_data(g), (T *)sl_tensor_data(o), outer, c, inner)));
    SL_CUDA_CHECK_LAUNCH(ctx);
}

void sl__cuda_register_softmax(void)
{
    sl__cuda_reg("Softmax", SL_CUDA_FLOATS, NULL, softmax_compute, 0, 0);
    sl__cuda_reg("LogSoftmax", SL_CUDA_FLOATS, NULL, softmax_compute, 0, 0);
    sl__cuda_reg("SoftmaxCrossEntropyWithLogits", SL_CUDA_FLOATS, NULL, xent_compute, 0, 0);
    sl__cuda_reg("SparseSoftmaxCrossEntropyWithLogits", SL_CUDA_FLOATS, "Tlabels: {int32, int64}",
                 sparse_xent_compute, 0, 0);
    sl__cuda_reg("BiasAdd", SL_CUDA_NUMBERS, NULL, bias_add_compute, 0, 0);
    sl__cuda_reg("BiasAddGrad", SL_CUDA_NUMBERS, NULL, bias_grad_compute, 0, 0);
}
