/* The GPU device of a build without CUDA: no GPU, one line saying why, and
 * every call that needs a device failing with SL_UNAVAILABLE.  The CPU
 * oracle runner (sl_cpu_run_node_vars) lives in gpu-eager.c, built in both
 * cases. */
#include "config.h"

#include "cuda/gpu-device.h"
#include "gpu-hooks.h"

#define NO_CUDA "no GPU: built without CUDA; running on the CPU"

bool sl_gpu_is_built(void) { return false; }
int sl_gpu_count(void) { return 0; }
const char *sl_gpu_message(void) { return NO_CUDA; }

sl_code sl_gpu_get_info(int id, sl_gpu_info *info, sl_status *status)
{
    (void)info;
    return sl_status_set(status, SL_NOT_FOUND, "no GPU:%d (%s)", id, NO_CUDA);
}

sl_gpu_device *sl_gpu_device_get(int id, sl_status *status)
{
    (void)id;
    sl_status_set(status, SL_UNAVAILABLE, "%s", NO_CUDA);
    return NULL;
}

void sl_gpu_device_bind(sl_gpu_device *dev) { (void)dev; }

sl_tensor *sl_gpu_tensor_new(sl_gpu_device *dev, sl_dtype dtype, const sl_shape *shape, sl_status *status)
{
    (void)dev, (void)dtype, (void)shape;
    sl_status_set(status, SL_UNAVAILABLE, "%s", NO_CUDA);
    return NULL;
}

sl_tensor *sl_gpu_to_device(sl_gpu_device *dev, const sl_tensor *host, sl_status *status)
{
    (void)dev, (void)host;
    sl_status_set(status, SL_UNAVAILABLE, "%s", NO_CUDA);
    return NULL;
}

sl_tensor *sl_gpu_to_host(sl_gpu_device *dev, const sl_tensor *device, sl_status *status)
{
    (void)dev, (void)device;
    sl_status_set(status, SL_UNAVAILABLE, "%s", NO_CUDA);
    return NULL;
}

sl_code sl_gpu_device_sync(sl_gpu_device *dev, sl_status *status)
{
    (void)dev;
    return sl_status_set(status, SL_UNAVAILABLE, "%s", NO_CUDA);
}

void sl_gpu_memory_stats_get(sl_gpu_device *dev, sl_gpu_memory_stats *out)
{
    (void)dev;
    *out = (sl_gpu_memory_stats){0};
}

void sl_gpu_empty_cache(sl_gpu_device *dev) { (void)dev; }

bool sl_gpu_kernel_input_on_host(const sl_kernel_def *kernel, const sl_node *node, int i)
{
    (void)kernel, (void)node, (void)i;
    return false;
}

bool sl_gpu_kernel_output_on_host(const sl_kernel_def *kernel, const sl_node *node, int i)
{
    (void)kernel, (void)node, (void)i;
    return false;
}

bool sl__gpu_is_device_tensor(const sl_tensor *t)
{
    (void)t;
    return false;
}

void sl__gpu_kernels_register(void) {}

/* The executor's hooks: never reached, since no session lists a GPU here. */
sl_code sl__gpu_move_inputs(const sl_kernel_def *kernel, const sl_node *node, sl_kernel_value *ins,
                            const unsigned char *is_ref, int n, sl_status *st)
{
    (void)kernel, (void)node, (void)ins, (void)is_ref, (void)n;
    return sl_status_set(st, SL_UNAVAILABLE, "%s", NO_CUDA);
}

sl_tensor *sl__gpu_fetch_to_host(sl_tensor *t, sl_status *st)
{
    (void)st;
    return sl_tensor_ref(t);
}

sl_code sl__gpu_step_end(sl_status *st)
{
    return sl_status_set(st, SL_UNAVAILABLE, "%s", NO_CUDA);
}
