/* What every CUDA kernel file shares: error checks that turn CUDA,
 * cuBLAS and cuDNN errors into the kernel context's status (a worker fails
 * the step instead of aborting), launch sizes for grid-stride loops, dtype
 * dispatch, and small shape helpers. */
#pragma once

#include <cuda_runtime.h>
#include <stdint.h>

#include "gpu-device.h"
#include "sluice/alloc.h"

#define SL_CUDA_BLOCK_SIZE 256

/* In a compute function: fail ctx with SL_INTERNAL and return on error. */
#define SL_CUDA_CHECK(ctx, expr)                                                                \
    do {                                                                                        \
        cudaError_t e_ = (expr);                                                                \
        if (e_ != cudaSuccess) {                                                                \
            sl_kernel_ctx_fail((ctx), SL_INTERNAL, "%s: %s (%s)", #expr, cudaGetErrorString(e_), \
                               cudaGetErrorName(e_));                                           \
            return;                                                                             \
        }                                                                                       \
    } while (0)

/* After a kernel launch: the launch error, if any. */
#define SL_CUDA_CHECK_LAUNCH(ctx) SL_CUDA_CHECK(ctx, cudaPeekAtLastError())

/* Grid size for a grid-stride loop over n items. */
static inline unsigned sl__cuda_grid(int64_t n)
{
    int64_t g = (n + SL_CUDA_BLOCK_SIZE - 1) / SL_CUDA_BLOCK_SIZE;
    if (g < 1)
        g = 1;
    if (g > 65536)
        g = 65536;
    return (unsigned)g;
}

#define SL_CUDA_FOR(i, n)                                                                       \
    for (int64_t i = (int64_t)blockIdx.x * blockDim.x + threadIdx.x; i < (n);                  \
         i += (int64_t)blockDim.x * gridDim.x)

#define SL_CUDA_LAUNCH(kernel, n, stream, ...)                                                  \
    kernel<<<sl__cuda_grid(n), SL_CUDA_BLOCK_SIZE, 0, (cudaStream_t)(stream)>>>(__VA_ARGS__)

/* Runs BODY with T bound to the C type of dt (float, double, int32, int64;
 * BOOL_TOO adds bool); fails ctx for other types. */
#define SL_CUDA_DISPATCH(ctx, dt, BODY)                                                         \
    switch (dt) {                                                                               \
    case SL_DTYPE_FLOAT: { typedef float T; BODY; break; }                                     \
    case SL_DTYPE_DOUBLE: { typedef double T; BODY; break; }                                   \
    case SL_DTYPE_INT32: { typedef int32_t T; BODY; break; }                                   \
    case SL_DTYPE_INT64: { typedef int64_t T; BODY; break; }                                   \
    case SL_DTYPE_BOOL: { typedef bool T; BODY; break; }                                       \
    default:                                                                                    \
        sl_kernel_ctx_fail((ctx), SL_UNIMPLEMENTED, "no GPU kernel for %s", sl_dtype_name(dt)); \
    }

#define SL_CUDA_DISPATCH_FLOAT(ctx, dt, BODY)                                                   \
    switch (dt) {                                                                               \
    case SL_DTYPE_FLOAT: { typedef float T; BODY; break; }                                     \
    case SL_DTYPE_DOUBLE: { typedef double T; BODY; break; }                                   \
    default:                                                                                    \
        sl_kernel_ctx_fail((ctx), SL_UNIMPLEMENTED, "no GPU kernel for %s", sl_dtype_name(dt)); \
    }

/* Row-major strides (elements) of s into st. */
static inline void sl__cuda_strides(const sl_shape *s, int64_t *st)
{
    int64_t k = 1;
    for (int d = s->rank - 1; d >= 0; d--) {
        st[d] = k;
        k *= s->dims[d];
    }
}

/* Up to 8 dims passed by value to a kernel. */
typedef struct sl_cuda_dims {
    int rank;
    int64_t d[SL_MAX_DIMS];
} sl_cuda_dims;

/* Element k of a host integer tensor (int32 or int64). */
static inline int64_t sl__cuda_host_int(const sl_tensor *t, int64_t k)
{
    return sl_tensor_dtype(t) == SL_DTYPE_INT64 ? ((const int64_t *)sl_tensor_data(t))[k]
                                                : (int64_t)((const int32_t *)sl_tensor_data(t))[k];
}

/* Registers a kernel for op on the GPU with up to two constraints. */
static inline void sl__cuda_reg(const char *op, const char *c0, const char *c1, void (*compute)(sl_kernel_ctx *),
                                uint32_t host_in, uint32_t host_out)
{
    sl_kernel_def d = {};
    d.op = op;
    d.device = SL_DEVICE_GPU;
    d.constraints[0] = c0;
    d.constraints[1] = c1;
    d.compute = compute;
    sl__gpu_register(&d, host_in, host_out);
}

#define SL_CUDA_FLOATS "T: {float, double}"
#define SL_CUDA_NUMBERS "T: {float, double, int32, int64}"
