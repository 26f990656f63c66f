/* GPU kernels that never touch element data on the device, so they reuse
 * the CPU kernel's compute on the same context:
 *   - forwarding ops (Identity, Reshape, ExpandDims, Squeeze, ...): the
 *     output is the input's device buffer with another shape;
 *   - metadata ops (Shape, Size, Rank, BroadcastGradientArgs,
 *     IsVariableInitialized): host-memory results, as TF's HostMemory;
 *   - variable plumbing (VariableV2, Assign): they move tensor references;
 *   - host-computed constants (Const, Range): computed on the host, then
 *     each output is copied to the device.
 * The CPU kernel is looked up once per node in create(). */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "gpu-device.h"
#include "kernel-ctx-private.h"
#include "sluice/alloc.h"

typedef struct delegate_state {
    const sl_kernel_def *cpu;
    void *cpu_state;
} delegate_state;

static sl_code delegate_create(const sl_node *node, void **state, sl_status *status)
{
    const sl_kernel_def *cpu = sl_kernel_lookup(node, SL_DEVICE_CPU, status);
    if (!cpu)
        return sl_status_code(status);
    if (!cpu->compute)
        return sl_status_set(status, SL_INTERNAL, "no synchronous CPU kernel to run %s on the GPU",
                             sl_node_op_type(node));
    delegate_state *s = sl_calloc(1, sizeof(*s));
    if (!s)
        return sl_status_set(status, SL_RESOURCE_EXHAUSTED, "out of memory creating a GPU kernel");
    s->cpu = cpu;
    if (cpu->create && cpu->create(node, &s->cpu_state, status) != SL_OK) {
        sl_free(s);
        return sl_status_code(status);
    }
    *state = s;
    return SL_OK;
}

static void delegate_destroy(void *state)
{
    delegate_state *s = state;
    if (s->cpu_state && s->cpu->destroy)
        s->cpu->destroy(s->cpu_state);
    sl_free(s);
}

static void run_cpu(sl_kernel_ctx *ctx)
{
    delegate_state *s = ctx->state;
    ctx->state = s->cpu_state;
    s->cpu->compute(ctx);
    ctx->state = s;
}

static void forward_compute(sl_kernel_ctx *ctx)
{
    run_cpu(ctx);
}

/* Computes on the host, then moves every output to the device. */
static void upload_compute(sl_kernel_ctx *ctx)
{
    run_cpu(ctx);
    if (!sl_kernel_ctx_ok(ctx))
        return;
    sl_gpu_device *dev = sl__gpu_ctx_device(ctx);
    if (!dev)
        return;
    sl_status *st = sl_status_new();
    for (int i = 0; i < ctx->num_outputs && st; i++) {
        sl_tensor *h = ctx->outputs[i].tensor;
        if (!h)
            continue;
        sl_tensor *d = sl_gpu_to_device(dev, h, st);
        if (!d) {
            sl_kernel_ctx_fail(ctx, sl_status_code(st), "%s", sl_status_message(st));
            break;
        }
        sl_kernel_ctx_set_output(ctx, i, d);
        sl_tensor_unref(d);
    }
    sl_status_free(st);
}

#define ALL 0xffffffffu

typedef struct host_op {
    const char *op;
    uint32_t host_in;
    uint32_t host_out;
    bool upload;
    const char *type_attr;  /* the attr naming the data type, kept to device-copyable types; NULL: any */
} host_op;

/* Types whose tensors can live in device memory (not string, variant or
 * resource, which stay on the host: their ops are placed on the CPU). */
#define DEVICE_TYPES "{float, double, half, bfloat16, int8, int16, int32, int64, uint8, uint16, bool}"

static const host_op host_ops[] = {
    {"Identity", 0, 0, false, "T"},
    {"IdentityN", 0, 0, false, NULL},
    {"StopGradient", 0, 0, false, "T"},
    {"PreventGradient", 0, 0, false, "T"},
    {"Snapshot", 0, 0, false, "T"},
    {"NoOp", 0, 0, false, NULL},
    {"Reshape", 1u << 1, 0, false, "T"},
    {"ExpandDims", 1u << 1, 0, false, "T"},
    {"Squeeze", 0, 0, false, "T"},
    {"Shape", 0, ALL, false, "T"},
    {"ShapeN", 0, ALL, false, "T"},
    {"Size", 0, ALL, false, "T"},
    {"Rank", 0, ALL, false, "T"},
    {"BroadcastGradientArgs", ALL, ALL, false, NULL},
    {"IsVariableInitialized", 0, ALL, false, "dtype"},
    {"VariableV2", 0, 0, false, "dtype"},
    {"Variable", 0, 0, false, "dtype"},
    {"Assign", 0, 0, false, "T"},
    {"Const", 0, 0, true, "dtype"},
    {"Range", ALL, 0, true, NULL},
};

void sl__gpu_register_host_ops(void)
{
    for (size_t i = 0; i < sizeof(host_ops) / sizeof(host_ops[0]); i++) {
        const host_op *h = &host_ops[i];
        if (!sl_op_lookup(h->op))
            continue;  /* not in this build */
        static char constraint[sizeof(host_ops) / sizeof(host_ops[0])][160];  /* the registry keeps the def */
        sl_kernel_def d = {
            .op = h->op, .create = delegate_create, .destroy = delegate_destroy,
            .compute = h->upload ? upload_compute : forward_compute,
        };
        if (h->type_attr) {
            snprintf(constraint[i], sizeof(constraint[i]), "%s: " DEVICE_TYPES, h->type_attr);
            d.constraints[0] = constraint[i];
        }
        sl__gpu_register(&d, h->host_in, h->host_out);
    }
}
