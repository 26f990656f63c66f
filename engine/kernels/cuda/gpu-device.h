/* The GPU device's internals shared by the kernel files (C and CUDA):
 * GPU kernel definitions with their host-memory arguments, the bound
 * device, its streams and library handles, and device outputs.
 * Nothing here includes CUDA headers: streams and handles are void *. */
#pragma once

#include <stdint.h>

#include "sluice/gpu.h"
#include "sluice/kernel.h"

SL_BEGIN_DECLS

/* A GPU kernel: the registry sees `def`; host_inputs / host_outputs are
 * bit masks of the arguments that live in host memory (bit 31 of
 * host_inputs: the node's last input, e.g. ConcatV2's axis). */
#define SL_GPU_HOST_LAST_INPUT (1u << 31)
typedef struct sl__gpu_kernel {
    sl_kernel_def def;   /* first: the registry hands out &def */
    uint32_t host_inputs;
    uint32_t host_outputs;
} sl__gpu_kernel;

/* Registers a GPU kernel (device set to GPU).  The def is copied into a
 * static pool, so it may live on the stack.  Aborts on a bad def. */
void sl__gpu_register(const sl_kernel_def *def, uint32_t host_inputs, uint32_t host_outputs);

/* Registers every GPU kernel family; called once from the kernel registry. */
void sl__gpu_kernels_register(void);

/* Family registrations (one per .cu file). */
void sl__cuda_register_elementwise(void);
void sl__cuda_register_activation(void);
void sl__cuda_register_reduce(void);
void sl__cuda_register_softmax(void);
void sl__cuda_register_array(void);
void sl__cuda_register_matmul(void);
void sl__cuda_register_conv(void);
void sl__cuda_register_pool(void);
void sl__cuda_register_random(void);
void sl__cuda_register_optimizer(void);
void sl__gpu_register_host_ops(void);   /* gpu-host-ops.c */
void sl__gpu_register_send_recv(void);  /* gpu-sendrecv.c */

/* The device bound to this thread, else GPU:0; NULL when there is none. */
sl_gpu_device *sl__gpu_current(void);

/* dev's compute stream (cudaStream_t), cuBLAS and cuDNN handles. */
void *sl__gpu_stream(sl_gpu_device *dev);
void *sl__gpu_cublas(sl_gpu_device *dev);
void *sl__gpu_cudnn(sl_gpu_device *dev);
/* Serializes use of the library handles (they are not thread-safe). */
void sl__gpu_lock(sl_gpu_device *dev);
void sl__gpu_unlock(sl_gpu_device *dev);

/* Raw device memory from the caching allocator (at least 1 byte; NULL
 * when out of memory) and its release, which is stream-ordered: the block
 * is reused only by later work on the compute stream. */
void *sl__gpu_alloc(sl_gpu_device *dev, size_t size);
void sl__gpu_free(sl_gpu_device *dev, void *ptr);

/* Allocates device output i with shape and sets it on ctx; returns it
 * (borrowed) or NULL after failing ctx. */
sl_tensor *sl__gpu_output(sl_kernel_ctx *ctx, int i, const sl_shape *shape);

/* Fails ctx when no GPU is bound or present; returns the device. */
sl_gpu_device *sl__gpu_ctx_device(sl_kernel_ctx *ctx);

/* A device copy of a device tensor (same shape), queued on the compute
 * stream; NULL with status set on failure. */
sl_tensor *sl__gpu_copy_on_device(sl_gpu_device *dev, const sl_tensor *t, sl_status *status);

/* Like sl_gpu_run_node, but inputs that already are device tensors stay
 * where they are and the outputs are left on the device, unsynchronized
 * (for benchmarks of the kernels alone). */
sl_code sl__gpu_run_node_device(sl_gpu_device *dev, const sl_node *node, const sl_tensor *const *inputs,
                                sl_tensor **outputs, sl_status *status);

/* Whether t's buffer is device memory. */
bool sl__gpu_is_device_tensor(const sl_tensor *t);

SL_END_DECLS
