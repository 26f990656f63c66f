/* _Send and _Recv (and their _Host variants) over the step's local
 * rendezvous.  The key follows TF's: send device, incarnation, receive
 * device, tensor name and the frame/iteration (FORMATS.md section 5:
 * "<send_device>;<incarnation hex>;<recv_device>;<tensor_name>;<frame>:<iter>",
 * "0:0" outside loops), so a pair inside a loop matches per iteration.  A client-terminated _Send (a fetch served
 * through the rendezvous) simply leaves its value in the table. */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "rendezvous.h"
#include "runtime-kernels.h"
#include "sluice/alloc.h"

static void attr_copy(const sl_node *n, const char *attr, char *buf, size_t cap)
{
    const char *s = "";
    size_t len = 0;
    sl_node_attr_string(n, attr, &s, &len);
    if (len >= cap)
        len = cap - 1;
    memcpy(buf, s, len);
    buf[len] = '\0';
}

static char *make_key(sl_kernel_ctx *ctx)
{
    const sl_node *n = sl_kernel_ctx_node(ctx);
    char send[256], recv[256], name[512];
    attr_copy(n, "send_device", send, sizeof(send));
    attr_copy(n, "recv_device", recv, sizeof(recv));
    attr_copy(n, "tensor_name", name, sizeof(name));
    int64_t inc = 0;
    sl_node_attr_int(n, "send_device_incarnation", &inc);
    return sl__rendezvous_make_key(send, (uint64_t)inc, recv, name, ctx->frame_id, ctx->iter_id);
}

static void send_compute(sl_kernel_ctx *ctx)
{
    if (!ctx->rendezvous) {
        sl_kernel_ctx_fail(ctx, SL_FAILED_PRECONDITION, "no rendezvous: run this op in a session");
        return;
    }
    char *key = make_key(ctx);
    sl_status *st = sl_status_new();
    if (!key || !st)
        sl_kernel_ctx_fail(ctx, SL_RESOURCE_EXHAUSTED, "out of memory sending");
    else if (sl__rendezvous_send(ctx->rendezvous, key, (sl_tensor *)sl_kernel_ctx_input(ctx, 0), st) != SL_OK)
        sl_kernel_ctx_fail(ctx, sl_status_code(st), "%s", sl_status_message(st));
    sl_status_free(st);
    sl_free(key);
}

static void recv_done(void *arg, sl_tensor *t, const sl_status *status)
{
    sl_kernel_ctx *ctx = arg;
    if (t)
        sl_kernel_ctx_set_output(ctx, 0, t);
    else
        sl_kernel_ctx_fail(ctx, sl_status_code(status), "%s", sl_status_message(status));
    sl_kernel_ctx_done(ctx);
}

static void recv_compute(sl_kernel_ctx *ctx)
{
    if (!ctx->rendezvous) {
        sl_kernel_ctx_fail(ctx, SL_FAILED_PRECONDITION, "no rendezvous: run this op in a session");
        sl_kernel_ctx_done(ctx);
        return;
    }
    char *key = make_key(ctx);
    if (!key) {
        sl_kernel_ctx_fail(ctx, SL_RESOURCE_EXHAUSTED, "out of memory receiving");
        sl_kernel_ctx_done(ctx);
        return;
    }
    sl__rendezvous_recv(ctx->rendezvous, key, recv_done, ctx);
    sl_free(key);
}

static const sl_kernel_def send_recv_kernels[] = {
    {.op = "_Send", .device = SL_DEVICE_CPU, .compute = send_compute},
    {.op = "_HostSend", .device = SL_DEVICE_CPU, .compute = send_compute},
    {.op = "_Recv", .device = SL_DEVICE_CPU, .compute_async = recv_compute},
    {.op = "_HostRecv", .device = SL_DEVICE_CPU, .compute_async = recv_compute},
};

void sl__kernels_register_send_recv(void)
{
    sl__runtime_register_table(send_recv_kernels,
                               (int)(sizeof(send_recv_kernels) / sizeof(send_recv_kernels[0])));
}
