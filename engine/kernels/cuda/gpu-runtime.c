/* The GPU side of the executor's hooks (engine/runtime/gpu-hooks.h):
 * moving a kernel's inputs between host and device memory as its kernel
 * definition asks, fetching results back to the host, and the end of a
 * step's device work. */
#include "config.h"

#include "gpu-device.h"
#include "gpu-hooks.h"

sl_code sl__gpu_move_inputs(const sl_kernel_def *kernel, const sl_node *node, sl_kernel_value *ins,
                            const unsigned char *is_ref, int n, sl_status *st)
{
    sl_gpu_device *dev = NULL;
    for (int i = 0; i < n; i++) {
        sl_tensor *t = ins[i].tensor;
        if (is_ref[i] || !t)
            continue;
        bool want_host = sl_gpu_kernel_input_on_host(kernel, node, i);
        if (want_host != sl__gpu_is_device_tensor(t))
            continue;  /* already where the kernel wants it */
        if (!dev && !(dev = sl__gpu_current()))
            return sl_status_set(st, SL_UNAVAILABLE, "%s", sl_gpu_message());
        sl_tensor *moved = want_host ? sl_gpu_to_host(dev, t, st) : sl_gpu_to_device(dev, t, st);
        if (!moved) {
            sl_status_prefix(st, "moving input %d to %s memory", i, want_host ? "host" : "device");
            return sl_status_code(st);
        }
        sl_tensor_unref(t);
        ins[i].tensor = moved;
    }
    return SL_OK;
}

sl_tensor *sl__gpu_fetch_to_host(sl_tensor *t, sl_status *st)
{
    if (!sl__gpu_is_device_tensor(t))
        return sl_tensor_ref(t);
    sl_gpu_device *dev = sl__gpu_current();
    if (!dev) {
        sl_status_set(st, SL_UNAVAILABLE, "%s", sl_gpu_message());
        return NULL;
    }
    return sl_gpu_to_host(dev, t, st);
}

sl_code sl__gpu_step_end(sl_status *st)
{
    sl_gpu_device *dev = sl__gpu_current();
    if (!dev)
        return sl_status_set(st, SL_UNAVAILABLE, "%s", sl_gpu_message());
    return sl_gpu_device_sync(dev, st);
}
