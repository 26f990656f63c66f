/* The GPU device: probing, device memory, copies, and running one node on
 * the GPU.
 *
 * This header is the same whether or not CUDA was built: without CUDA,
 * sl_gpu_count() is 0, sl_gpu_message() says so, and the calls that need
 * a device fail with SL_UNAVAILABLE.  No CUDA type appears here; only
 * engine/kernels/cuda/ knows CUDA exists.
 *
 * Probing happens once, on the first call that needs it; a machine with
 * no GPU or no driver is not an error: the GPU is simply not listed and
 * sl_gpu_message() gives one clean line saying why.
 *
 * Device tensors are ordinary sl_tensor objects that wrap device memory
 * (sl_tensor_new_wrap with a deallocator that returns the block to the
 * device's caching allocator).  Their data pointer is a device address:
 * never read it on the host.  Work on a device is queued on its compute
 * stream; copies in and out use two copy streams ordered against it with
 * events.  A device tensor's contents are valid in stream order, so a
 * consumer on the same device needs no synchronization; host code must
 * call sl_gpu_to_host (which synchronizes) to read a result.
 *
 * Thread-safety: every function here may be called from any thread.
 * Kernels run on the device bound to the calling thread
 * (sl_gpu_device_bind), GPU:0 when none was bound.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "sluice/graph.h"
#include "sluice/kernel.h"
#include "sluice/macros.h"
#include "sluice/status.h"
#include "sluice/tensor.h"

SL_BEGIN_DECLS

typedef struct sl_gpu_device sl_gpu_device;

typedef struct sl_gpu_info {
    int id;                   /* CUDA ordinal: GPU:<id> */
    char name[128];           /* "NVIDIA H100 80GB HBM3" */
    int cc_major;             /* compute capability */
    int cc_minor;
    int64_t total_memory;     /* bytes */
    int multiprocessors;
} sl_gpu_info;

/* Whether this build has the CUDA GPU device. */
SL_API bool sl_gpu_is_built(void);

/* Number of usable GPUs (0 without CUDA, a driver or a device). */
SL_API int sl_gpu_count(void);

/* One line for people: "2 GPUs: GPU:0 NVIDIA H100 ... " or why there is
 * none ("no GPU: CUDA driver not found (cudaErrorInsufficientDriver)",
 * "no GPU: built without CUDA").  Static storage; never NULL. */
SL_API const char *sl_gpu_message(void);

/* Describes GPU id; SL_NOT_FOUND when there is no such GPU. */
SL_API sl_code sl_gpu_get_info(int id, sl_gpu_info *info, sl_status *status);

/* The device object of GPU id, created on first use (streams, cuBLAS and
 * cuDNN handles, allocator) and kept until exit.  Borrowed; NULL with
 * SL_UNAVAILABLE or SL_NOT_FOUND when there is no such GPU. */
SL_API sl_gpu_device *sl_gpu_device_get(int id, sl_status *status);

/* Makes dev the device that GPU kernels run on for the calling thread. */
SL_API void sl_gpu_device_bind(sl_gpu_device *dev);

/* A new device tensor (uninitialized contents) from dev's caching
 * allocator; caller owns it.  NULL with SL_RESOURCE_EXHAUSTED when the
 * device is out of memory even after emptying the cache. */
SL_API sl_tensor *sl_gpu_tensor_new(sl_gpu_device *dev, sl_dtype dtype, const sl_shape *shape,
                                    sl_status *status);

/* Copies a host tensor to a new device tensor (caller owns it).  The copy
 * is ordered before any later work on dev's compute stream; `host` may be
 * released as soon as this returns. */
SL_API sl_tensor *sl_gpu_to_device(sl_gpu_device *dev, const sl_tensor *host, sl_status *status);

/* Copies a device tensor to a new host tensor (caller owns it) after the
 * work queued on dev's compute stream so far; blocks until done. */
SL_API sl_tensor *sl_gpu_to_host(sl_gpu_device *dev, const sl_tensor *device, sl_status *status);

/* Waits for all work queued on dev; reports an asynchronous kernel error. */
SL_API sl_code sl_gpu_device_sync(sl_gpu_device *dev, sl_status *status);

typedef struct sl_gpu_memory_stats {
    int64_t bytes_in_use;       /* handed out to tensors and workspaces */
    int64_t peak_bytes_in_use;
    int64_t bytes_cached;       /* freed blocks kept for reuse */
    int64_t num_device_mallocs; /* cudaMalloc calls */
} sl_gpu_memory_stats;

SL_API void sl_gpu_memory_stats_get(sl_gpu_device *dev, sl_gpu_memory_stats *out);

/* Returns every cached block to the driver. */
SL_API void sl_gpu_empty_cache(sl_gpu_device *dev);

/* Whether input (output) i of `node`'s GPU kernel lives in host memory
 * (shape arguments, axes, permutations, Shape's result), as TF's
 * HostMemory.  The runtime must feed such inputs with host tensors and
 * must not copy such outputs back.  false for non-GPU kernels. */
SL_API bool sl_gpu_kernel_input_on_host(const sl_kernel_def *kernel, const sl_node *node, int i);
SL_API bool sl_gpu_kernel_output_on_host(const sl_kernel_def *kernel, const sl_node *node, int i);

/* Runs node's GPU kernel on dev once: host `inputs` (one per node input;
 * borrowed) are copied to the device except those the kernel takes in
 * host memory; reference inputs come as variables in vars[i] (vars may be
 * NULL when the node has none), whose values must already be device
 * tensors.  The outputs come back as host tensors in outputs[] (caller
 * owns each).  For tests, tools and the benchmarks. */
SL_API sl_code sl_gpu_run_node(sl_gpu_device *dev, const sl_node *node, const sl_tensor *const *inputs,
                               sl_var *const *vars, sl_tensor **outputs, sl_status *status);

/* The same for the CPU kernel, with reference inputs allowed (the oracle
 * of the GPU tests for the optimizer updates). */
SL_API sl_code sl_cpu_run_node_vars(const sl_node *node, const sl_tensor *const *inputs, sl_var *const *vars,
                                    sl_tensor **outputs, sl_status *status);

SL_END_DECLS
