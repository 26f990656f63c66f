/* Kernels of the control-flow ops (paper 4.4).  They only route values:
 * the executor gives them their meaning (frames, iterations, deadness).
 * Switch leaves its untaken output unset, which the executor treats as
 * dead; Merge forwards the one live input it was given. */
#include "config.h"

#include "runtime-kernels.h"

static void forward(sl_kernel_ctx *ctx, int in, int out)
{
    sl_var *v = sl_kernel_ctx_input_var(ctx, in);
    if (v && sl_dtype_is_ref(sl_node_output_type(sl_kernel_ctx_node(ctx), out)))
        sl_kernel_ctx_set_output_var(ctx, out, v);
    else
        sl_kernel_ctx_set_output(ctx, out, (sl_tensor *)sl_kernel_ctx_input(ctx, in));
}

static void switch_compute(sl_kernel_ctx *ctx)
{
    const sl_tensor *pred = sl_kernel_ctx_input(ctx, 1);
    if (sl_tensor_num_elements(pred) != 1) {
        sl_kernel_ctx_fail(ctx, SL_INVALID_ARGUMENT, "pred must be a scalar, not %lld elements",
                           (long long)sl_tensor_num_elements(pred));
        return;
    }
    forward(ctx, 0, *(const bool *)sl_tensor_data(pred) ? 1 : 0);
}

static void merge_compute(sl_kernel_ctx *ctx)
{
    for (int i = 0; i < sl_kernel_ctx_num_inputs(ctx); i++) {
        if (sl_kernel_ctx_input(ctx, i) || sl_kernel_ctx_input_var(ctx, i)) {
            forward(ctx, i, 0);
            sl_shape scalar = sl_shape_scalar();
            sl_tensor *idx = sl_kernel_ctx_allocate_output(ctx, 1, &scalar);
            if (idx)
                *(int32_t *)sl_tensor_data(idx) = i;
            return;
        }
    }
    sl_kernel_ctx_fail(ctx, SL_INTERNAL, "merge ran without a live input");
}

static void forward_compute(sl_kernel_ctx *ctx)
{
    forward(ctx, 0, 0);
}

static const sl_kernel_def cf_kernels[] = {
    {.op = "Switch", .device = SL_DEVICE_CPU, .compute = switch_compute},
    {.op = "RefSwitch", .device = SL_DEVICE_CPU, .compute = switch_compute},
    {.op = "Merge", .device = SL_DEVICE_CPU, .compute = merge_compute},
    {.op = "Enter", .device = SL_DEVICE_CPU, .compute = forward_compute},
    {.op = "RefEnter", .device = SL_DEVICE_CPU, .compute = forward_compute},
    {.op = "Exit", .device = SL_DEVICE_CPU, .compute = forward_compute},
    {.op = "NextIteration", .device = SL_DEVICE_CPU, .compute = forward_compute},
    {.op = "LoopCond", .device = SL_DEVICE_CPU, .compute = forward_compute},
};

void sl__kernels_register_control_flow(void)
{
    sl__runtime_register_table(cf_kernels, (int)(sizeof(cf_kernels) / sizeof(cf_kernels[0])));
}
