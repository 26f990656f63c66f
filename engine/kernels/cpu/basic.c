/* Kernels of ops that compute nothing: Const, Identity and friends, NoOp. */
#include "config.h"

#include "cpu-kernels.h"

static void const_compute(sl_kernel_ctx *ctx)
{
    const sl_tensor *value;
    if (!sl_node_attr_tensor(sl_kernel_ctx_node(ctx), "value", &value)) {
        sl_kernel_ctx_fail(ctx, SL_INTERNAL, "Const without a value");
        return;
    }
    /* the graph owns the tensor and outlives the step: share it */
    sl_kernel_ctx_set_output(ctx, 0, (sl_tensor *)value);
}

static void identity_compute(sl_kernel_ctx *ctx)
{
    for (int i = 0; i < sl_kernel_ctx_num_outputs(ctx); i++)
        sl_kernel_ctx_set_output(ctx, i, (sl_tensor *)sl_kernel_ctx_input(ctx, i));
}

static void no_op_compute(sl_kernel_ctx *ctx)
{
    (void)ctx;
}

static const sl_kernel_def basic_kernels[] = {
    {.op = "Const", .device = SL_DEVICE_CPU, .compute = const_compute},
    {.op = "Identity", .device = SL_DEVICE_CPU, .compute = identity_compute},
    {.op = "IdentityN", .device = SL_DEVICE_CPU, .compute = identity_compute},
    {.op = "StopGradient", .device = SL_DEVICE_CPU, .compute = identity_compute},
    {.op = "PreventGradient", .device = SL_DEVICE_CPU, .compute = identity_compute},
    {.op = "NoOp", .device = SL_DEVICE_CPU, .compute = no_op_compute},
};

void sl__kernels_register_basic(void);
void sl__kernels_register_basic(void)
{
    sl__kernel_register_table(basic_kernels, SL_COUNTOF_K(basic_kernels));
}
