/* MaxPool, AvgPool and their gradients on the GPU, NHWC, float and double,
 * SAME or VALID, windows over height and width only, like
 * kernels/cpu/pool.c.
 *
 * These are native kernels rather than cuDNN pooling: cuDNN pads
 * symmetrically, and TF's SAME pads one more row or column after when the
 * total is odd; here each window is clipped to the input exactly as on the
 * CPU (AvgPool divides by the elements inside the input).  Forward: one
 * thread per output element.  Gradients scatter with atomicAdd into a
 * zeroed input gradient: MaxPoolGrad to the first maximum of each window
 * (row-major, as the CPU), AvgPoolGrad evenly over the window. */
#include <string.h>

#include "cuda-common.cuh"
#include "pool.cuh"

typedef struct pool_geom {
    int64_t n, h, w, c;
    int64_t kh, kw, sh, sw;
    int64_t oh, ow, pt, pl;
} pool_geom;

static bool pool_geometry(sl_kernel_ctx *ctx, const sl_shape *in, pool_geom *g)
{
    const sl_node *node = sl_kernel_ctx_node(ctx);
    const char *s;
    size_t len;
    if (sl_node_attr_string(node, "data_format", &s, &len) && len == 4 && !memcmp(s, "NCHW", 4)) {
        sl_kernel_ctx_fail(ctx, SL_UNIMPLEMENTED, "the GPU pooling kernels take NHWC (as the CPU's)");
        return false;
    }
    if (in->rank != 4) {
        sl_kernel_ctx_fail(ctx, SL_INVALID_ARGUMENT, "input must be 4-D");
        return false;
    }
    const int64_t *k = NULL, *st = NULL;
    int nk = 0, ns = 0;
    sl_node_attr_int_list(node, "ksize", &k, &nk);
    sl_node_attr_int_list(node, "strides", &st, &ns);
    if (nk != 4 || ns != 4 || k[0] != 1 || k[3] != 1 || st[0] != 1 || st[3] != 1 || k[1] < 1 || k[2] < 1 ||
        st[1] < 1 || st[2] < 1) {
        sl_kernel_ctx_fail(ctx, SL_INVALID_ARGUMENT, "ksize and strides must be positive, 1 for batch and depth");
        return false;
    }
    bool same = sl_node_attr_string(node, "padding", &s, &len) && len == 4 && !memcmp(s, "SAME", 4);
    memset(g, 0, sizeof(*g));
    g->n = in->dims[0], g->h = in->dims[1], g->w = in->dims[2], g->c = in->dims[3];
    g->kh = k[1], g->kw = k[2], g->sh = st[1], g->sw = st[2];
    if (same) {
        g->oh = (g->h + g->sh - 1) / g->sh;
        g->ow = (g->w + g->sw - 1) / g->sw;
        int64_t th = (g->oh - 1) * g->sh + g->kh - g->h, tw = (g->ow - 1) * g->sw + g->kw - g->w;
        g->pt = th > 0 ? th / 2 : 0;
        g->pl = tw > 0 ? tw / 2 : 0;
    } else {
        g->oh = g->h >= g->kh ? (g->h - g->kh) / g->sh + 1 : 0;
        g->ow = g->w >= g->kw ? (g->w - g->kw) / g->sw + 1 : 0;
    }
    return true;
}

/* Output element i -> (n, oh, ow, c) and its clipped window. */
__device__ static void window(const pool_geom &g, int64_t i, int64_t *n, int64_t *c, int64_t *h0, int64_t *h1,
                              int64_t *w0, int64_t *w1)
{
    *c = i % g.c;
    int64_t ow = (i / g.c) % g.ow, oh = (i / (g.c * g.ow)) % g.oh;
    *n = i / (g.c * g.ow * g.oh);
    *h0 = oh * g.sh - g.pt;
    *w0 = ow * g.sw - g.pl;
    *h1 = *h0 + g.kh < g.h ? *h0 + g.kh : g.h;
    *w1 = *w0 + g.kw < g.w ? *w0 + g.kw : g.w;
    *h0 = *h0 < 0 ? 0 : *h0;
    *w0 = *w0 < 0 ? 0 : *w0;
}

/* The flat input index of the first maximum of output i's window. */
template <typename T> __device__ int64_t argmax_at(const pool_geom &g, const T *x, int64_t i)
{
    int64_t n, c, h0, h1, w0, w1;
    window(g, i, &n, &c, &h0, &h1, &w0, &w1);
    int64_t best = -1;
    T m = 0;
    for (int64_t h = h0; h < h1; h++)
        for (int64_t w = w0; w < w1; w++) {
            int64_t at = ((n * g.h + h) * g.w + w) * g.c + c;
            if (best < 0 || x[at] > m) {
                m = x[at];
                best = at;
            }
        }
    return best;
}

template <typename T> __global__ void pool_fwd(pool_geom g, bool is_max, const T *x, T *y, int64_t n_out)
{
    SL_CUDA_FOR(i, n_out)
    {
        if (is_max) {
            int64_t at = argmax_at(g, x, i);
            y[i] = at >= 0 ? x[at] : (T)0;
        } else {
            int64_t n, c, h0, h1, w0, w1;
            window(g, i, &n, &c, &h0, &h1, &w0, &w1);
            T s = 0;
            for (int64_t h = h0; h < h1; h++)
                for (int64_t w = w0; w < w1; w++)
                    s += x[((n * g.h + h) * g.w + w) * g.c + c];
            int64_t cnt = (h1 - h0) * (w1 - w0);
            y[i] = cnt > 0 ? s / (T)cnt : (T)0;
        }
    }
}

template <typename T> __global__ void max_pool_grad(pool_geom g, const T *x, const T *dy, T *dx, int64_t n_out)
{
    SL_CUDA_FOR(i, n_out)
    {
        int64_t at = argmax_at(g, x, i);
        if (at >= 0)
            atomicAdd(&dx[at], dy[i]);
    }
}

template <typename T> __global__ void avg_pool_grad(pool_geom g, const T *dy, T *dx, int64_t n_out)
{
    SL_CUDA_FOR(i, n_out)
    {
        int64_t n, c, h0, h1, w0, w1;
        window(g, i, &n, &c, &h0, &h1, &w0, &w1);
        int64_t cnt = (h1 - h0) * (w1 - w0);
        if (cnt <= 0)
            continue;
        T v = dy[i] / (T)cnt;
        for (int64_t h = h0; h < h1; h++)
            for (int64_t w = w0; w < w1; w++)
                atomicAdd(&dx[((n * g.h + h) * g.w + w) * g.c + c], v);
    }
}

static void pool_compute(sl_kernel_ctx *ctx)
{
    const sl_tensor *x = sl_kernel_ctx_input(ctx, 0);
    pool_geom g;
    if (!pool_geometry(ctx, sl_tensor_shape(x), &g))
        return;
    int64_t dims[4] = {g.n, g.oh, g.ow, g.c};
    sl_shape ys = sl_shape_make(4, dims);
    sl_tensor *y = sl__gpu_output(ctx, 0, &ys);
    int64_t n = y ? sl_tensor_num_elements(y) : 0;
    if (!n)
        return;
    bool is_max = !strcmp(sl_node_op_type(sl_kernel_ctx_node(ctx)), "MaxPool");
    void *stream = sl__gpu_stream(sl__gpu_current());
    SL_CUDA_DISPATCH_FLOAT(ctx, sl_tensor_dtype(x),
                           SL_CUDA_LAUNCH(pool_fwd<T>, n, stream, g, is_max, (const T *)sl_tensor_data(x),
                                          (T *)sl_tensor_data(y), n));
    SL_CUDA_CHECK_LAUNCH(ctx);
}

static void max_pool_grad_compute(sl_kernel_ctx *ctx)
{
    const sl_tensor *x = sl_kernel_ctx_input(ctx, 0), *dy = sl_kernel_ctx_input(ctx, 2);
    pool_geom g;
    if (!pool_geometry(ctx, sl_tensor_shape(x), &g))
        return;
    if (sl_tensor_num_elements(dy) != g.n * g.oh * g.ow * g.c) {
        sl_kernel_ctx_fail(ctx, SL_INVALID_ARGUMENT, "grad does not match the pooled shape");
        return;
    }
    sl_tensor *dx = sl__gpu_output(ctx, 0, sl_tensor_shape(x));
    if (!dx || !sl_tensor_num_elements(dx))
        return;
    cudaStream_t stream = (cudaStream_t)sl__gpu_stream(sl__gpu_current());
    SL_CUDA_CHECK(ctx, cudaMemsetAsync(sl_tensor_data(dx), 0, sl_tensor_byte_size(dx), stream));
    int64_t n = sl_tensor_num_elements(dy);
    if (!n)
        return;
    SL_CUDA_DISPATCH_FLOAT(ctx, sl_tensor_dtype(x),
                           SL_CUDA_LAUNCH(max_pool_grad<T>, n, stream, g, (const T *)sl_tensor_data(x),
                                          (const T *)sl_tensor_data(dy), (T *)sl_tensor_data(dx), n));
    SL_CUDA_CHECK_LAUNCH(ctx);
}

static void avg_pool_grad_compute(sl_kernel_ctx *ctx)
{
    const sl_tensor *shape = sl_kernel_ctx_input(ctx, 0), *dy = sl_kernel_ctx_input(ctx, 1);
    if (sl_tensor_num_elements(shape) != 4) {
        sl_kernel_ctx_fail(ctx, SL_INVALID_ARGUMENT, "orig_input_shape must have 4 entries");
        return;
    }
    int64_t d[4];
    for (int i = 0; i < 4; i++)
        d[i] = sl__cuda_host_int(shape, i);
    sl_shape xs = sl_shape_make(4, d);
    pool_geom g;
    if (!pool_geometry(ctx, &xs, &g))
        return;
    if (sl_tensor_num_elements(dy) != g.n * g.oh * g.ow * g.c) {
        sl_kernel_ctx_fail(ctx, SL_INVALID_ARGUMENT, "grad does not match the pooled shape");
        return;
    }
    sl_tensor *dx = sl__gpu_output(ctx, 0, &xs);
    if (!dx || !sl_tensor_num_elements(dx))
        return;
    cudaStream_t stream = (cudaStream_t)sl__gpu_stream(sl__gpu_current());
    SL_CUDA_CHECK(ctx, cudaMemsetAsync(sl_tensor_data(dx), 0, sl_tensor_byte_size(dx), stream));
    int64_t n = sl_tensor_num_elements(dy);
    if (!n)
        return;
    SL_CUDA_DISPATCH_FLOAT(ctx, sl_tensor_dtype(dy),
                           SL_CUDA_LAUNCH(avg_pool_grad<T>, n, stream, g, (const T *)sl_tensor_data(dy),
                                          (T *)sl_tensor_data(dx), n));
    SL_CUDA_CHECK_LAUNCH(ctx);
}

void sl__cuda_register_pool(void)
{
    sl__cuda_reg("MaxPool", SL_CUDA_FLOATS, NULL, pool_compute, 0, 0);
    sl__cuda_reg("AvgPool", SL_CUDA_FLOATS, NULL, pool_compute, 0, 0);
    sl__cuda_reg("MaxPoolGrad", SL_CUDA_FLOATS, NULL, max_pool_grad_compute, 0, 0);
    sl__cuda_reg("AvgPoolGrad", SL_CUDA_FLOATS, NULL, avg_pool_grad_compute, 1u << 0, 0);
}
