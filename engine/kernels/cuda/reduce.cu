/* Reductions on the GPU, mirroring kernels/cpu/reduce.c: Sum, Mean, Prod,
 * Max, Min (float, double, int32, int64), All, Any (bool) over any set of
 * axes with keep_dims, and ArgMax / ArgMin along one axis.
 *
 * Each output gets a group of threads (a warp when there are many outputs,
 * a whole block of 256 when there are few) that walks its reduced elements
 * with a stride and combines the partial results in shared memory.  The
 * reduced elements of an output are enumerated by decomposing a running
 * index over the reduced dimensions, so any axis set works without a
 * transpose.  float accumulates in double, integers wrap through uint64,
 * and empty reductions give the same identities as the CPU (NaN for a
 * float Mean).  The axes are a host-memory input. */
#include <math.h>
#include <string.h>

#include "cuda-common.cuh"
#include "reduce.cuh"

enum { R_SUM, R_MEAN, R_PROD, R_MAX, R_MIN, R_ALL, R_ANY };

typedef struct red_geom {
    int nk;                    /* kept dims */
    int64_t kdim[SL_MAX_DIMS];
    int64_t kstr[SL_MAX_DIMS];
    int nr;                    /* reduced dims */
    int64_t rdim[SL_MAX_DIMS];
    int64_t rstr[SL_MAX_DIMS];
    int64_t count;             /* elements per output */
} red_geom;

template <typename T> struct acc_of { typedef double type; };
template <> struct acc_of<int32_t> { typedef int64_t type; };
template <> struct acc_of<int64_t> { typedef int64_t type; };
template <> struct acc_of<bool> { typedef int64_t type; };

template <typename A> __device__ A red_identity(int op)
{
    switch (op) {
    case R_PROD: case R_ALL: return (A)1;
    case R_MAX: return sizeof(A) == 8 && (A)0.5 != 0 ? (A)-INFINITY : (A)INT64_MIN;
    case R_MIN: return sizeof(A) == 8 && (A)0.5 != 0 ? (A)INFINITY : (A)INT64_MAX;
    default: return (A)0;
    }
}

template <typename A> __device__ A red_combine(int op, A a, A b)
{
    switch (op) {
    case R_SUM: case R_MEAN:
        if constexpr (std::is_floating_point<A>::value) return a + b;
        else return (A)((uint64_t)a + (uint64_t)b);
    case R_PROD:
        if constexpr (std::is_floating_point<A>::value) return a * b;
        else return (A)((uint64_t)a * (uint64_t)b);
    case R_MAX: return b > a ? b : a;
    case R_MIN: return b < a ? b : a;
    case R_ALL: return a && b;
    case R_ANY: return a || b;
    default: return a;
    }
}

template <typename T>
__global__ void reduce_kernel(int op, red_geom g, const T *x, T *o, int64_t nout, int lanes)
{
    typedef typename acc_of<T>::type A;
    __shared__ A part[SL_CUDA_BLOCK_SIZE];
    int per_block = SL_CUDA_BLOCK_SIZE / lanes;
    int lane = threadIdx.x % lanes, slot = threadIdx.x / lanes;
    for (int64_t base = (int64_t)blockIdx.x * per_block; base < nout; base += (int64_t)gridDim.x * per_block) {
        int64_t out = base + slot;
        A acc = red_identity<A>(op);
        if (out < nout) {
            int64_t off = 0, r = out;
            for (int d = g.nk - 1; d >= 0; d--) {
                off += (r % g.kdim[d]) * g.kstr[d];
                r /= g.kdim[d];
            }
            for (int64_t k = lane; k < g.count; k += lanes) {
                int64_t roff = 0, q = k;
                for (int d = g.nr - 1; d >= 0; d--) {
                    roff += (q % g.rdim[d]) * g.rstr[d];
                    q /= g.rdim[d];
                }
                acc = red_combine<A>(op, acc, (A)x[off + roff]);
            }
        }
        part[threadIdx.x] = acc;
        __syncthreads();
        for (int s = lanes / 2; s > 0; s /= 2) {
            if (lane < s)
                part[threadIdx.x] = red_combine<A>(op, part[threadIdx.x], part[threadIdx.x + s]);
            __syncthreads();
        }
        if (lane == 0 && out < nout) {
            A v = part[threadIdx.x];
            if (op == R_MEAN) {
                if constexpr (std::is_floating_point<A>::value)
                    v = g.count ? v / (A)g.count : (A)NAN;
                else
                    v = g.count ? (A)((int64_t)v / g.count) : (A)0;
            }
            if constexpr (!std::is_floating_point<T>::value && sizeof(T) == 4) {
                if (g.count == 0 && op == R_MAX)  /* the identities of T, not of A */
                    v = (A)INT32_MIN;
                else if (g.count == 0 && op == R_MIN)
                    v = (A)INT32_MAX;
            }
            o[out] = (T)v;
        }
        __syncthreads();
    }
}

static const struct { const char *op; int code; const char *types; } red_ops[] = {
    {"Sum", R_SUM, SL_CUDA_NUMBERS}, {"Mean", R_MEAN, SL_CUDA_NUMBERS}, {"Prod", R_PROD, SL_CUDA_NUMBERS},
    {"Max", R_MAX, SL_CUDA_NUMBERS}, {"Min", R_MIN, SL_CUDA_NUMBERS},
    {"All", R_ALL, NULL},            {"Any", R_ANY, NULL},
};

static void reduce_compute(sl_kernel_ctx *ctx)
{
    const sl_node *node = sl_kernel_ctx_node(ctx);
    const sl_tensor *x = sl_kernel_ctx_input(ctx, 0), *axes = sl_kernel_ctx_input(ctx, 1);
    const sl_shape *in = sl_tensor_shape(x);
    bool reduce[SL_MAX_DIMS] = {false};
    for (int64_t k = 0; k < sl_tensor_num_elements(axes); k++) {
        int64_t a = sl__cuda_host_int(axes, k);
        if (a < -in->rank || a >= in->rank) {
            sl_kernel_ctx_fail(ctx, SL_INVALID_ARGUMENT, "invalid reduction dimension %lld for input with %d dimensions",
                               (long long)a, in->rank);
            return;
        }
        reduce[a < 0 ? a + in->rank : a] = true;
    }
    bool keep = false;
    sl_node_attr_bool(node, "keep_dims", &keep);
    sl_shape os = {};
    red_geom g = {};
    g.count = 1;
    int64_t st[SL_MAX_DIMS];
    sl__cuda_strides(in, st);
    for (int d = 0; d < in->rank; d++) {
        if (!reduce[d]) {
            os.dims[os.rank++] = in->dims[d];
            g.kdim[g.nk] = in->dims[d];
            g.kstr[g.nk++] = st[d];
        } else {
            if (keep)
                os.dims[os.rank++] = 1;
            g.rdim[g.nr] = in->dims[d];
            g.rstr[g.nr++] = st[d];
            g.count *= in->dims[d];
        }
    }
    int code = 0;
    for (size_t i = 0; i < sizeof(red_ops) / sizeof(red_ops[0]); i++)
        if (!strcmp(red_ops[i].op, sl_node_op_type(node)))
            code = red_ops[i].code;
    sl_tensor *o = sl__gpu_output(ctx, 0, &os);
    int64_t nout = o ? sl_tensor_num_elements(o) : 0;
    if (!nout)
        return;
    int lanes = nout >= 1024 || g.count <= 64 ? 32 : SL_CUDA_BLOCK_SIZE;
    int64_t blocks = (nout + (SL_CUDA_BLOCK_SIZE / lanes) - 1) / (SL_CUDA_BLOCK_SIZE / lanes);
    unsigned grid = (unsigned)(blocks > 65536 ? 65536 : blocks);
    cudaStream_t stream = (cudaStream_t)sl__gpu_stream(sl__gpu_current());
    SL_CUDA_DISPATCH(ctx, sl_tensor_dtype(x),
                     (reduce_kernel<T><<<grid, SL_CUDA_BLOCK_SIZE, 0, stream>>>(
                         code, g, (const T *)sl_tensor_data(x), (T *)sl_tensor_data(o), nout, lanes)));
    SL_CUDA_CHECK_LAUNCH(ctx);
}

/* ---- ArgMax / ArgMin: one thread per output ------------------------------------ */

template <typename T, typename I>
__global__ void arg_kernel(bool is_max, const T *x, I *o, int64_t A, int64_t R, int64_t B)
{
    SL_CUDA_FOR(w, A * B)
    {
        int64_t a = w / B, b = w % B;
        const T *xp = x + a * R * B + b;
        T best = xp[0];
        int64_t at = 0;
        for (int64_t r = 1; r < R; r++) {
            T v = xp[r * B];
            if (is_max ? v > best : v < best) {
                best = v;
                at = r;
            }
        }
        o[w] = (I)at;
    }
}

static void arg_compute(sl_kernel_ctx *ctx)
{
    const sl_node *node = sl_kernel_ctx_node(ctx);
    const sl_tensor *x = sl_kernel_ctx_input(ctx, 0), *dim = sl_kernel_ctx_input(ctx, 1);
    const sl_shape *in = sl_tensor_shape(x);
    if (sl_tensor_num_elements(dim) != 1) {
        sl_kernel_ctx_fail(ctx, SL_INVALID_ARGUMENT, "dimension must hold one axis");
        return;
    }
    int64_t axis = sl__cuda_host_int(dim, 0);
    if (axis < -in->rank || axis >= in->rank || in->rank == 0) {
        sl_kernel_ctx_fail(ctx, SL_INVALID_ARGUMENT, "dimension %lld is out of range for a tensor of rank %d",
                           (long long)axis, in->rank);
        return;
    }
    if (axis < 0)
        axis += in->rank;
    if (in->dims[axis] == 0) {
        sl_kernel_ctx_fail(ctx, SL_INVALID_ARGUMENT, "reduction axis %d is empty", (int)axis);
        return;
    }
    sl_shape os = {};
    int64_t A = 1, B = 1;
    for (int d = 0; d < in->rank; d++) {
        if (d == axis)
            continue;
        os.dims[os.rank++] = in->dims[d];
        if (d < axis)
            A *= in->dims[d];
        else
            B *= in->dims[d];
    }
    sl_tensor *o = sl__gpu_output(ctx, 0, &os);
    if (!o || !sl_tensor_num_elements(o))
        return;
    bool is_max = !strcmp(sl_node_op_type(node), "ArgMax");
    bool out64 = sl_tensor_dtype(o) == SL_DTYPE_INT64;
    void *stream = sl__gpu_stream(sl__gpu_current());
    int64_t R = in->dims[axis];
    if (out64) {
        SL_CUDA_DISPATCH(ctx, sl_tensor_dtype(x),
                         SL_CUDA_LAUNCH((arg_kernel<T, int64_t>), A * B, stream, is_max, (const T *)sl_tensor_data(x),
                                        (int64_t *)sl_tensor_data(o), A, R, B));
    } else {
        SL_CUDA_DISPATCH(ctx, sl_tensor_dtype(x),
                         SL_CUDA_LAUNCH((arg_kernel<T, int32_t>), A * B, stream, is_max, (const T *)sl_tensor_data(x),
                                        (int32_t *)sl_tensor_data(o), A, R, B));
    }
    SL_CUDA_CHECK_LAUNCH(ctx);
}

void sl__cuda_register_reduce(void)
{
    for (size_t i = 0; i < sizeof(red_ops) / sizeof(red_ops[0]); i++)
        sl__cuda_reg(red_ops[i].op, red_ops[i].types, NULL, reduce_compute, 1u << 1, 0);
    sl__cuda_reg("ArgMax", SL_CUDA_NUMBERS, "output_type: {int32, int64}", arg_compute, 1u << 1, 0);
    sl__cuda_reg("ArgMin", SL_CUDA_NUMBERS, "output_type: {int32, int64}", arg_compute, 1u << 1, 0);
}
