/* Conv2D and its gradients (Conv2DBackpropInput, Conv2DBackpropFilter) on
 * cuDNN, float and double, NHWC with strides, dilations and SAME / VALID /
 * EXPLICIT padding, like kernels/cpu/conv.c.
 *
 * TF's layouts are turned into cuDNN's NCHW / OIHW on the way in and back
 * on the way out (as TF's own GPU kernels do).  cuDNN pads symmetrically
 * while SAME may pad one more row at the bottom, so all padding is done in
 * the layout change: the input becomes a zero-padded NCHW tensor and cuDNN
 * runs unpadded; the input gradient is cropped back.  The algorithm is
 * autotuned as TF and PyTorch (cudnn.benchmark) do: the first time a
 * geometry is met, cuDNN times every algorithm (cudnnFind*) and the
 * fastest whose workspace can be allocated is kept for that geometry for
 * the life of the process; cuDNN's heuristic choice was up to 40x slower.
 * Float runs in strict FP32 (CUDNN_FMA_MATH) to match the CPU; set
 * SLUICE_GPU_TF32=1 to allow TF32 tensor cores (PyTorch's default). */
#include <cudnn.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "conv.cuh"
#include "cuda-common.cuh"

typedef struct conv_geom {
    int64_t n, h, w, c;      /* input (NHWC) */
    int64_t kh, kw, o;       /* filter (HWIO) */
    int64_t oh, ow;          /* output */
    int64_t sh, sw, dh, dw;
    int64_t pt, pl;          /* padding before */
    int64_t hp, wp;          /* padded input size */
    bool dbl;
} conv_geom;

static bool window_dim(sl_kernel_ctx *ctx, int64_t in, int64_t k, int64_t s, int64_t d, const char *padding,
                       const int64_t *ep, int64_t *out, int64_t *before, int64_t *padded)
{
    if (s < 1 || d < 1) {
        sl_kernel_ctx_fail(ctx, SL_INVALID_ARGUMENT, "strides and dilations must be positive");
        return false;
    }
    int64_t eff = (k - 1) * d + 1;
    if (!strcmp(padding, "SAME")) {
        *out = (in + s - 1) / s;
        int64_t total = (*out - 1) * s + eff - in;
        *before = total > 0 ? total / 2 : 0;
    } else if (!strcmp(padding, "EXPLICIT")) {
        int64_t p = in + ep[0] + ep[1];
        *out = p >= eff ? (p - eff) / s + 1 : 0;
        *before = ep[0];
    } else {
        *out = in >= eff ? (in - eff) / s + 1 : 0;
        *before = 0;
    }
    /* just big enough for the last window */
    int64_t need = *out ? (*out - 1) * s + eff : 0;
    *padded = need > in + *before ? need : in + *before;
    return true;
}

static bool conv_geometry(sl_kernel_ctx *ctx, const sl_shape *in, const sl_shape *f, conv_geom *g)
{
    const sl_node *node = sl_kernel_ctx_node(ctx);
    const char *s;
    size_t len;
    if (sl_node_attr_string(node, "data_format", &s, &len) && len == 4 && !memcmp(s, "NCHW", 4)) {
        sl_kernel_ctx_fail(ctx, SL_UNIMPLEMENTED, "the GPU convolution takes NHWC (as the CPU's)");
        return false;
    }
    if (in->rank != 4 || f->rank != 4 || in->dims[3] != f->dims[2]) {
        sl_kernel_ctx_fail(ctx, SL_INVALID_ARGUMENT, "input and filter must be 4-D with matching depth");
        return false;
    }
    const int64_t *st = NULL, *dil = NULL, *ep = NULL;
    int ns = 0, nd = 0, ne = 0;
    static const int64_t ones[4] = {1, 1, 1, 1}, zeros[8] = {0};
    sl_node_attr_int_list(node, "strides", &st, &ns);
    if (!sl_node_attr_int_list(node, "dilations", &dil, &nd) || nd == 0) {
        dil = ones;
        nd = 4;
    }
    if (ns != 4 || nd != 4 || st[0] != 1 || st[3] != 1 || dil[0] != 1 || dil[3] != 1) {
        sl_kernel_ctx_fail(ctx, SL_INVALID_ARGUMENT, "strides and dilations must have 4 entries with 1 for batch and depth");
        return false;
    }
    char padding[16] = "VALID";
    if (sl_node_attr_string(node, "padding", &s, &len) && len < sizeof(padding)) {
        memcpy(padding, s, len);
        padding[len] = '\0';
    }
    ep = zeros;
    if (!strcmp(padding, "EXPLICIT") && (!sl_node_attr_int_list(node, "explicit_paddings", &ep, &ne) || ne != 8)) {
        sl_kernel_ctx_fail(ctx, SL_INVALID_ARGUMENT, "explicit_paddings must have 8 entries");
        return false;
    }
    memset(g, 0, sizeof(*g));
    g->n = in->dims[0], g->h = in->dims[1], g->w = in->dims[2], g->c = in->dims[3];
    g->kh = f->dims[0], g->kw = f->dims[1], g->o = f->dims[3];
    g->sh = st[1], g->sw = st[2], g->dh = dil[1], g->dw = dil[2];
    g->dbl = sl_dtype_base(sl_node_output_type(node, 0)) == SL_DTYPE_DOUBLE;
    return window_dim(ctx, g->h, g->kh, g->sh, g->dh, padding, ep + 2, &g->oh, &g->pt, &g->hp) &&
           window_dim(ctx, g->w, g->kw, g->sw, g->dw, padding, ep + 4, &g->ow, &g->pl, &g->wp);
}

/* ---- layout kernels --------------------------------------------------------- */

/* x [N,H,W,C] -> out [N,C,HP,WP], placed at (pt, pl), zeros elsewhere. */
template <typename T>
__global__ void to_nchw_pad(const T *x, T *o, int64_t N, int64_t H, int64_t W, int64_t C, int64_t HP, int64_t WP,
                            int64_t pt, int64_t pl)
{
    SL_CUDA_FOR(i, N * C * HP * WP)
    {
        int64_t wp = i % WP, hp = (i / WP) % HP, c = (i / (WP * HP)) % C, n = i / (WP * HP * C);
        int64_t h = hp - pt, w = wp - pl;
        o[i] = h >= 0 && h < H && w >= 0 && w < W ? x[((n * H + h) * W + w) * C + c] : (T)0;
    }
}

/* in [N,C,HP,WP] -> out [N,H,W,C] from offset (pt, pl). */
template <typename T>
__global__ void from_nchw_crop(const T *in, T *o, int64_t N, int64_t H, int64_t W, int64_t C, int64_t HP, int64_t WP,
                               int64_t pt, int64_t pl)
{
    SL_CUDA_FOR(i, N * H * W * C)
    {
        int64_t c = i % C, w = (i / C) % W, h = (i / (C * W)) % H, n = i / (C * W * H);
        o[i] = in[((n * C + c) * HP + h + pt) * WP + w + pl];
    }
}

/* HWIO <-> OIHW */
template <typename T> __global__ void hwio_to_oihw(const T *f, T *o, int64_t KH, int64_t KW, int64_t I, int64_t O)
{
    SL_CUDA_FOR(i, KH * KW * I * O)
    {
        int64_t kw = i % KW, kh = (i / KW) % KH, c = (i / (KW * KH)) % I, oc = i / (KW * KH * I);
        o[i] = f[((kh * KW + kw) * I + c) * O + oc];
    }
}

template <typename T> __global__ void oihw_to_hwio(const T *f, T *o, int64_t KH, int64_t KW, int64_t I, int64_t O)
{
    SL_CUDA_FOR(i, KH * KW * I * O)
    {
        int64_t oc = i % O, c = (i / O) % I, kw = (i / (O * I)) % KW, kh = i / (O * I * KW);
        o[i] = f[((oc * I + c) * KH + kh) * KW + kw];
    }
}

/* ---- cuDNN plumbing ------------------------------------------------------------ */

typedef struct conv_run {
    sl_gpu_device *dev;
    cudnnHandle_t h;
    cudnnTensorDescriptor_t x;
    cudnnTensorDescriptor_t y;
    cudnnFilterDescriptor_t w;
    cudnnConvolutionDescriptor_t conv;
    void *xp;   /* padded NCHW input */
    void *wp;   /* OIHW filter */
    void *yp;   /* NCHW output */
    size_t esz;
} conv_run;

static bool dnn_ok(sl_kernel_ctx *ctx, cudnnStatus_t s, const char *what)
{
    if (s == CUDNN_STATUS_SUCCESS)
        return true;
    sl_kernel_ctx_fail(ctx, SL_INTERNAL, "cuDNN %s: %s", what, cudnnGetErrorString(s));
    return false;
}

static void conv_release(conv_run *r)
{
    if (r->x) cudnnDestroyTensorDescriptor(r->x);
    if (r->y) cudnnDestroyTensorDescriptor(r->y);
    if (r->w) cudnnDestroyFilterDescriptor(r->w);
    if (r->conv) cudnnDestroyConvolutionDescriptor(r->conv);
    if (r->dev) {
        sl__gpu_free(r->dev, r->xp);
        sl__gpu_free(r->dev, r->wp);
        sl__gpu_free(r->dev, r->yp);
    }
}

static bool conv_setup(sl_kernel_ctx *ctx, const conv_geom *g, conv_run *r)
{
    memset(r, 0, sizeof(*r));
    r->dev = sl__gpu_ctx_device(ctx);
    if (!r->dev)
        return false;
    r->h = (cudnnHandle_t)sl__gpu_cudnn(r->dev);
    r->esz = g->dbl ? 8 : 4;
    cudnnDataType_t dt = g->dbl ? CUDNN_DATA_DOUBLE : CUDNN_DATA_FLOAT;
    if (!dnn_ok(ctx, cudnnCreateTensorDescriptor(&r->x), "descriptor") ||
        !dnn_ok(ctx, cudnnCreateTensorDescriptor(&r->y), "descriptor") ||
        !dnn_ok(ctx, cudnnCreateFilterDescriptor(&r->w), "descriptor") ||
        !dnn_ok(ctx, cudnnCreateConvolutionDescriptor(&r->conv), "descriptor"))
        return false;
    if (!dnn_ok(ctx, cudnnSetTensor4dDescriptor(r->x, CUDNN_TENSOR_NCHW, dt, (int)g->n, (int)g->c, (int)g->hp, (int)g->wp),
                "input descriptor") ||
        !dnn_ok(ctx, cudnnSetTensor4dDescriptor(r->y, CUDNN_TENSOR_NCHW, dt, (int)g->n, (int)g->o, (int)g->oh, (int)g->ow),
                "output descriptor") ||
        !dnn_ok(ctx, cudnnSetFilter4dDescriptor(r->w, dt, CUDNN_TENSOR_NCHW, (int)g->o, (int)g->c, (int)g->kh, (int)g->kw),
                "filter descriptor") ||
        !dnn_ok(ctx, cudnnSetConvolution2dDescriptor(r->conv, 0, 0, (int)g->sh, (int)g->sw, (int)g->dh, (int)g->dw,
                                                     CUDNN_CROSS_CORRELATION, dt),
                "convolution descriptor"))
        return false;
    const char *tf32 = getenv("SLUICE_GPU_TF32");
    cudnnSetConvolutionMathType(r->conv, !g->dbl && tf32 && *tf32 == '1' ? CUDNN_DEFAULT_MATH : CUDNN_FMA_MATH);
    int n, c, h, w;
    if (!dnn_ok(ctx, cudnnGetConvolution2dForwardOutputDim(r->conv, r->x, r->w, &n, &c, &h, &w), "output size"))
        return false;
    if (h != g->oh || w != g->ow) {
        sl_kernel_ctx_fail(ctx, SL_INTERNAL, "cuDNN output %dx%d differs from the expected %lldx%lld", h, w,
                           (long long)g->oh, (long long)g->ow);
        return false;
    }
    r->xp = sl__gpu_alloc(r->dev, (size_t)(g->n * g->c * g->hp * g->wp) * r->esz);
    r->wp = sl__gpu_alloc(r->dev, (size_t)(g->kh * g->kw * g->c * g->o) * r->esz);
    r->yp = sl__gpu_alloc(r->dev, (size_t)(g->n * g->o * g->oh * g->ow) * r->esz);
    if (!r->xp || !r->wp || !r->yp) {
        sl_kernel_ctx_fail(ctx, SL_RESOURCE_EXHAUSTED, "GPU out of memory for a convolution");
        return false;
    }
    return true;
}

/* A workspace of `size` bytes (NULL for 0); false when out of memory. */
static bool workspace(conv_run *r, size_t size, void **ws)
{
    *ws = size ? sl__gpu_alloc(r->dev, size) : NULL;
    return !size || *ws;
}

/* ---- Autotuned algorithms, per geometry ------------------------------------ */

enum { TUNE_FWD, TUNE_BWD_DATA, TUNE_BWD_FILTER };
#define TUNE_KEY 18
#define TUNE_MAX 256

typedef struct tuned {
    int64_t key[TUNE_KEY];
    int algo;
    size_t workspace;
} tuned;

static pthread_mutex_t g_tune_mu = PTHREAD_MUTEX_INITIALIZER;
static tuned g_tuned[TUNE_MAX];
static int g_num_tuned;

static void tune_key(int kind, const conv_geom *g, int64_t *k)
{
    const char *tf32 = getenv("SLUICE_GPU_TF32");
    int64_t v[TUNE_KEY] = {kind, g->n, g->h, g->w, g->c, g->kh, g->kw, g->o, g->oh, g->ow, g->sh, g->sw,
                           g->dh, g->dw, g->hp, g->wp, g->dbl, tf32 && *tf32 == '1'};
    memcpy(k, v, sizeof(v));
}

static bool tune_lookup(const int64_t *key, int *algo, size_t *ws)
{
    pthread_mutex_lock(&g_tune_mu);
    for (int i = 0; i < g_num_tuned; i++)
        if (!memcmp(g_tuned[i].key, key, sizeof(g_tuned[i].key))) {
            *algo = g_tuned[i].algo;
            *ws = g_tuned[i].workspace;
            pthread_mutex_unlock(&g_tune_mu);
            return true;
        }
    pthread_mutex_unlock(&g_tune_mu);
    return false;
}

static void tune_store(const int64_t *key, int algo, size_t ws)
{
    pthread_mutex_lock(&g_tune_mu);
    if (g_num_tuned < TUNE_MAX) {  /* beyond that, geometries are timed each time: slower, still right */
        memcpy(g_tuned[g_num_tuned].key, key, sizeof(g_tuned[g_num_tuned].key));
        g_tuned[g_num_tuned].algo = algo;
        g_tuned[g_num_tuned].workspace = ws;
        g_num_tuned++;
    }
    pthread_mutex_unlock(&g_tune_mu);
}

/* The algorithm for `kind` on r's descriptors (called with the device's
 * lock held): the cached one, else cuDNN's timings, fastest first, taking
 * the first that succeeded and whose workspace fits.  Fills *ws with the
 * allocated workspace. */
#define TUNE_PICK(PerfT, FIND)                                                                    \
    do {                                                                                          \
        PerfT perf[8];                                                                            \
        int count = 0;                                                                            \
        cudnnStatus_t s = FIND;                                                                   \
        if (s != CUDNN_STATUS_SUCCESS)                                                            \
            return s;                                                                             \
        for (int i = 0; i < count; i++) {                                                         \
            if (perf[i].status != CUDNN_STATUS_SUCCESS || !workspace(r, perf[i].memory, ws))      \
                continue;                                                                         \
            *algo = (int)perf[i].algo;                                                            \
            *ws_size = perf[i].memory;                                                            \
            tune_store(key, *algo, *ws_size);                                                     \
            return CUDNN_STATUS_SUCCESS;                                                          \
        }                                                                                         \
        return CUDNN_STATUS_NOT_SUPPORTED;                                                        \
    } while (0)

static cudnnStatus_t tune(int kind, const conv_geom *g, conv_run *r, int *algo, void **ws, size_t *ws_size)
{
    int64_t key[TUNE_KEY];
    tune_key(kind, g, key);
    if (tune_lookup(key, algo, ws_size))
        return workspace(r, *ws_size, ws) ? CUDNN_STATUS_SUCCESS : CUDNN_STATUS_ALLOC_FAILED;
    switch (kind) {
    case TUNE_FWD:
        TUNE_PICK(cudnnConvolutionFwdAlgoPerf_t,
                  cudnnFindConvolutionForwardAlgorithm(r->h, r->x, r->w, r->conv, r->y, 8, &count, perf));
    case TUNE_BWD_DATA:
        TUNE_PICK(cudnnConvolutionBwdDataAlgoPerf_t,
                  cudnnFindConvolutionBackwardDataAlgorithm(r->h, r->w, r->y, r->conv, r->x, 8, &count, perf));
    default:
        TUNE_PICK(cudnnConvolutionBwdFilterAlgoPerf_t,
                  cudnnFindConvolutionBackwardFilterAlgorithm(r->h, r->x, r->y, r->conv, r->w, 8, &count, perf));
    }
}

#define ONE_ZERO(g)                                                                               \
    double one_d = 1, zero_d = 0;                                                                 \
    float one_f = 1, zero_f = 0;                                                                  \
    const void *one = (g)->dbl ? (const void *)&one_d : (const void *)&one_f;                     \
    const void *zero = (g)->dbl ? (const void *)&zero_d : (const void *)&zero_f;

static void conv_forward(sl_kernel_ctx *ctx)
{
    const sl_tensor *x = sl_kernel_ctx_input(ctx, 0), *f = sl_kernel_ctx_input(ctx, 1);
    conv_geom g;
    if (!conv_geometry(ctx, sl_tensor_shape(x), sl_tensor_shape(f), &g))
        return;
    int64_t dims[4] = {g.n, g.oh, g.ow, g.o};
    sl_shape ys = sl_shape_make(4, dims);
    sl_tensor *y = sl__gpu_output(ctx, 0, &ys);
    if (!y || !sl_tensor_num_elements(y))
        return;
    if (g.c == 0 || g.kh == 0 || g.kw == 0) {
        SL_CUDA_CHECK(ctx, cudaMemsetAsync(sl_tensor_data(y), 0, sl_tensor_byte_size(y),
                                           (cudaStream_t)sl__gpu_stream(sl__gpu_current())));
        return;
    }
    conv_run r;
    void *ws = NULL;
    if (!conv_setup(ctx, &g, &r))
        goto out;
    {
        cudaStream_t stream = (cudaStream_t)sl__gpu_stream(r.dev);
        SL_CUDA_DISPATCH_FLOAT(ctx, g.dbl ? SL_DTYPE_DOUBLE : SL_DTYPE_FLOAT, {
            SL_CUDA_LAUNCH(to_nchw_pad<T>, g.n * g.c * g.hp * g.wp, stream, (const T *)sl_tensor_data(x), (T *)r.xp, g.n,
                           g.h, g.w, g.c, g.hp, g.wp, g.pt, g.pl);
            SL_CUDA_LAUNCH(hwio_to_oihw<T>, g.kh * g.kw * g.c * g.o, stream, (const T *)sl_tensor_data(f), (T *)r.wp,
                           g.kh, g.kw, g.c, g.o);
        });
        sl__gpu_lock(r.dev);
        int algo = 0;
        size_t ws_size = 0;
        cudnnStatus_t s = tune(TUNE_FWD, &g, &r, &algo, &ws, &ws_size);
        if (s == CUDNN_STATUS_SUCCESS) {
            ONE_ZERO(&g);
            s = cudnnConvolutionForward(r.h, one, r.x, r.xp, r.w, r.wp, r.conv, (cudnnConvolutionFwdAlgo_t)algo, ws,
                                        ws_size, zero, r.y, r.yp);
        }
        sl__gpu_unlock(r.dev);
        if (!dnn_ok(ctx, s, "convolution forward"))
            goto out;
        SL_CUDA_DISPATCH_FLOAT(ctx, g.dbl ? SL_DTYPE_DOUBLE : SL_DTYPE_FLOAT,
                               SL_CUDA_LAUNCH(from_nchw_crop<T>, g.n * g.oh * g.ow * g.o, stream, (const T *)r.yp,
                                              (T *)sl_tensor_data(y), g.n, g.oh, g.ow, g.o, g.oh, g.ow, 0, 0));
    }
out:
    if (r.dev)
        sl__gpu_free(r.dev, ws);
    conv_release(&r);
}

/* Reads a host shape input of 4 entries. */
static bool host_shape4(sl_kernel_ctx *ctx, const sl_tensor *t, sl_shape *s, const char *what)
{
    if (sl_tensor_num_elements(t) != 4) {
        sl_kernel_ctx_fail(ctx, SL_INVALID_ARGUMENT, "%s must have 4 entries", what);
        return false;
    }
    int64_t d[4];
    for (int i = 0; i < 4; i++)
        d[i] = sl__cuda_host_int(t, i);
    *s = sl_shape_make(4, d);
    return true;
}

static void conv_backprop_input(sl_kernel_ctx *ctx)
{
    const sl_tensor *sizes = sl_kernel_ctx_input(ctx, 0), *f = sl_kernel_ctx_input(ctx, 1),
                    *dy = sl_kernel_ctx_input(ctx, 2);
    sl_shape xs;
    conv_geom g;
    if (!host_shape4(ctx, sizes, &xs, "input_sizes") || !conv_geometry(ctx, &xs, sl_tensor_shape(f), &g))
        return;
    sl_tensor *dx = sl__gpu_output(ctx, 0, &xs);
    if (!dx || !sl_tensor_num_elements(dx))
        return;
    conv_run r;
    void *ws = NULL;
    if (g.oh == 0 || g.ow == 0 || g.o == 0 || g.kh == 0 || g.kw == 0) {
        SL_CUDA_CHECK(ctx, cudaMemsetAsync(sl_tensor_data(dx), 0, sl_tensor_byte_size(dx),
                                           (cudaStream_t)sl__gpu_stream(sl__gpu_current())));
        return;
    }
    if (!conv_setup(ctx, &g, &r))
        goto out;
    {
        cudaStream_t stream = (cudaStream_t)sl__gpu_stream(r.dev);
        SL_CUDA_DISPATCH_FLOAT(ctx, g.dbl ? SL_DTYPE_DOUBLE : SL_DTYPE_FLOAT, {
            SL_CUDA_LAUNCH(to_nchw_pad<T>, g.n * g.o * g.oh * g.ow, stream, (const T *)sl_tensor_data(dy), (T *)r.yp,
                           g.n, g.oh, g.ow, g.o, g.oh, g.ow, 0, 0);
            SL_CUDA_LAUNCH(hwio_to_oihw<T>, g.kh * g.kw * g.c * g.o, stream, (const T *)sl_tensor_data(f), (T *)r.wp,
                           g.kh, g.kw, g.c, g.o);
        });
        sl__gpu_lock(r.dev);
        int algo = 0;
        size_t ws_size = 0;
        cudnnStatus_t s = tune(TUNE_BWD_DATA, &g, &r, &algo, &ws, &ws_size);
        if (s == CUDNN_STATUS_SUCCESS) {
            ONE_ZERO(&g);
            s = cudnnConvolutionBackwardData(r.h, one, r.w, r.wp, r.y, r.yp, r.conv,
                                             (cudnnConvolutionBwdDataAlgo_t)algo, ws, ws_size, zero, r.x, r.xp);
        }
        sl__gpu_unlock(r.dev);
        if (!dnn_ok(ctx, s, "convolution backward data"))
            goto out;
        SL_CUDA_DISPATCH_FLOAT(ctx, g.dbl ? SL_DTYPE_DOUBLE : SL_DTYPE_FLOAT,
                               SL_CUDA_LAUNCH(from_nchw_crop<T>, g.n * g.h * g.w * g.c, stream, (const T *)r.xp,
                                              (T *)sl_tensor_data(dx), g.n, g.h, g.w, g.c, g.hp, g.wp, g.pt, g.pl));
    }
out:
    if (r.dev)
        sl__gpu_free(r.dev, ws);
    conv_release(&r);
}

static void conv_backprop_filter(sl_kernel_ctx *ctx)
{
    const sl_tensor *x = sl_kernel_ctx_input(ctx, 0), *sizes = sl_kernel_ctx_input(ctx, 1),
                    *dy = sl_kernel_ctx_input(ctx, 2);
    sl_shape fs;
    conv_geom g;
    if (!host_shape4(ctx, sizes, &fs, "filter_sizes") || !conv_geometry(ctx, sl_tensor_shape(x), &fs, &g))
        return;
    sl_tensor *df = sl__gpu_output(ctx, 0, &fs);
    if (!df || !sl_tensor_num_elements(df))
        return;
    conv_run r;
    void *ws = NULL;
    if (g.oh == 0 || g.ow == 0 || g.n == 0) {
        SL_CUDA_CHECK(ctx, cudaMemsetAsync(sl_tensor_data(df), 0, sl_tensor_byte_size(df),
                                           (cudaStream_t)sl__gpu_stream(sl__gpu_current())));
        return;
    }
    if (!conv_setup(ctx, &g, &r))
        goto out;
    {
        cudaStream_t stream = (cudaStream_t)sl__gpu_stream(r.dev);
        SL_CUDA_DISPATCH_FLOAT(ctx, g.dbl ? SL_DTYPE_DOUBLE : SL_DTYPE_FLOAT, {
            SL_CUDA_LAUNCH(to_nchw_pad<T>, g.n * g.c * g.hp * g.wp, stream, (const T *)sl_tensor_data(x), (T *)r.xp, g.n,
                           g.h, g.w, g.c, g.hp, g.wp, g.pt, g.pl);
            SL_CUDA_LAUNCH(to_nchw_pad<T>, g.n * g.o * g.oh * g.ow, stream, (const T *)sl_tensor_data(dy), (T *)r.yp,
                           g.n, g.oh, g.ow, g.o, g.oh, g.ow, 0, 0);
        });
        sl__gpu_lock(r.dev);
        int algo = 0;
        size_t ws_size = 0;
        cudnnStatus_t s = tune(TUNE_BWD_FILTER, &g, &r, &algo, &ws, &ws_size);
        if (s == CUDNN_STATUS_SUCCESS) {
            ONE_ZERO(&g);
            s = cudnnConvolutionBackwardFilter(r.h, one, r.x, r.xp, r.y, r.yp, r.conv,
                                               (cudnnConvolutionBwdFilterAlgo_t)algo, ws, ws_size, zero, r.w, r.wp);
        }
        sl__gpu_unlock(r.dev);
        if (!dnn_ok(ctx, s, "convolution backward filter"))
            goto out;
        SL_CUDA_DISPATCH_FLOAT(ctx, g.dbl ? SL_DTYPE_DOUBLE : SL_DTYPE_FLOAT,
                               SL_CUDA_LAUNCH(oihw_to_hwio<T>, g.kh * g.kw * g.c * g.o, stream, (const T *)r.wp,
                                              (T *)sl_tensor_data(df), g.kh, g.kw, g.c, g.o));
    }
out:
    if (r.dev)
        sl__gpu_free(r.dev, ws);
    conv_release(&r);
}

void sl__cuda_register_conv(void)
{
    sl__cuda_reg("Conv2D", SL_CUDA_FLOATS, NULL, conv_forward, 0, 0);
    sl__cuda_reg("Conv2DBackpropInput", SL_CUDA_FLOATS, NULL, conv_backprop_input, 1u << 0, 0);
    sl__cuda_reg("Conv2DBackpropFilter", SL_CUDA_FLOATS, NULL, conv_backprop_filter, 1u << 1, 0);
}
