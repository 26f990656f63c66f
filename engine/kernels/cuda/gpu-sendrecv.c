/* _Send and _Recv on the GPU: the host<->device copies of the paper's
 * cross-device edges.  A GPU _Send copies its device input to a new host
 * tensor (after the work queued on the compute stream) and publishes that
 * in the rendezvous; a GPU _Recv takes the host tensor and copies it to
 * the device on the copy stream, ordered before later compute.  So the
 * CPU side of a CPU<->GPU edge is the ordinary CPU _Send/_Recv, and the
 * rendezvous only ever holds host tensors.  Two GPU partitions of one
 * process exchange through the host too (no peer copies yet).  The
 * rendezvous key is the one the CPU kernels build (sendrecv-kernels.c). */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "gpu-device.h"
#include "kernel-ctx-private.h"
#include "rendezvous.h"
#include "sluice/alloc.h"

static void gpu_send_compute(sl_kernel_ctx *ctx)
{
    if (!ctx->rendezvous) {
        sl_kernel_ctx_fail(ctx, SL_FAILED_PRECONDITION, "no rendezvous: run this op in a session");
        return;
    }
    sl_gpu_device *dev = sl__gpu_ctx_device(ctx);
    if (!dev)
        return;
    char *key = sl__sendrecv_key(ctx);
    sl_status *st = sl_status_new();
    sl_tensor *in = (sl_tensor *)sl_kernel_ctx_input(ctx, 0);
    sl_tensor *host = NULL;
    if (!key || !st) {
        sl_kernel_ctx_fail(ctx, SL_RESOURCE_EXHAUSTED, "out of memory sending");
    } else {
        /* a host-memory output (Shape's) is on the host already */
        host = sl__gpu_is_device_tensor(in) ? sl_gpu_to_host(dev, in, st) : sl_tensor_ref(in);
        if (!host)
            sl_kernel_ctx_fail(ctx, sl_status_code(st), "%s", sl_status_message(st));
        else if (sl__rendezvous_send(ctx->rendezvous, key, host, st) != SL_OK)
            sl_kernel_ctx_fail(ctx, sl_status_code(st), "%s", sl_status_message(st));
    }
    sl_tensor_unref(host);
    sl_status_free(st);
    sl_free(key);
}

static void gpu_recv_done(void *arg, sl_tensor *t, const sl_status *status)
{
    sl_kernel_ctx *ctx = arg;
    if (!t) {
        sl_kernel_ctx_fail(ctx, sl_status_code(status), "%s", sl_status_message(status));
        sl_kernel_ctx_done(ctx);
        return;
    }
    sl_gpu_device *dev = sl__gpu_ctx_device(ctx);
    sl_status *st = sl_status_new();
    sl_tensor *d = NULL;
    if (dev && st && !(d = sl_gpu_to_device(dev, t, st)))
        sl_kernel_ctx_fail(ctx, sl_status_code(st), "%s", sl_status_message(st));
    else if (d)
        sl_kernel_ctx_set_output(ctx, 0, d);
    sl_tensor_unref(d);
    sl_status_free(st);
    sl_kernel_ctx_done(ctx);
}

static void gpu_recv_compute(sl_kernel_ctx *ctx)
{
    if (!ctx->rendezvous) {
        sl_kernel_ctx_fail(ctx, SL_FAILED_PRECONDITION, "no rendezvous: run this op in a session");
        sl_kernel_ctx_done(ctx);
        return;
    }
    char *key = sl__sendrecv_key(ctx);
    if (!key) {
        sl_kernel_ctx_fail(ctx, SL_RESOURCE_EXHAUSTED, "out of memory receiving");
        sl_kernel_ctx_done(ctx);
        return;
    }
    sl__rendezvous_recv(ctx->rendezvous, key, gpu_recv_done, ctx);
    sl_free(key);
}

void sl__gpu_register_send_recv(void)
{
    /* _HostSend / _HostRecv (host-memory tensors) are not registered for
     * the GPU yet: placement keeps them on the CPU */
    sl_kernel_def send = {.op = "_Send", .compute = gpu_send_compute};
    sl_kernel_def recv = {.op = "_Recv", .compute_async = gpu_recv_compute};
    sl__gpu_register(&send, 0, 0);
    sl__gpu_register(&recv, 0, 0);
}
