/* Stack op definitions, with TF's signatures: StackV2 makes a stack of
 * tensors of one dtype and outputs its handle; StackPushV2 pushes a tensor
 * and forwards it; StackPopV2 pops the most recent one; StackCloseV2 drops
 * the elements.  The gradient of a while_loop uses them to keep the
 * forward values that its backward loop needs (one stack per value, pushed
 * in each forward iteration, popped in reverse in the backward loop; see
 * engine/train/grad/while-grad.c).  The kernels are in
 * engine/runtime/stack-kernels.c. */
#include "config.h"

#include "op-registry-private.h"
#include "shape-fns.h"

/* StackPushV2's output is its elem input. */
static sl_code push_shape(sl_shape_ctx *ctx)
{
    sl_shape_ctx_set_output(ctx, 0, sl_shape_ctx_input(ctx, 1));
    return SL_OK;
}

static const sl_op_spec stack_ops[] = {
    {.name = "StackV2", .inputs = {"max_size: int32"}, .outputs = {"handle: resource"},
     .attrs = {"elem_type: type", "stack_name: string = ''"}, .shape_fn = sl__shape_scalar,
     .flags = SL_OP_STATEFUL, .summary = "a stack of tensors, alive while its handle is"},
    {.name = "StackPushV2", .inputs = {"handle: resource", "elem: T"}, .outputs = {"output: T"},
     .attrs = {"T: type", "swap_memory: bool = false"}, .shape_fn = push_shape, .flags = SL_OP_STATEFUL,
     .summary = "pushes elem onto a stack and forwards it"},
    {.name = "StackPopV2", .inputs = {"handle: resource"}, .outputs = {"elem: elem_type"},
     .attrs = {"elem_type: type"}, .flags = SL_OP_STATEFUL, .summary = "pops the top element of a stack"},
    {.name = "StackCloseV2", .inputs = {"handle: resource"}, .flags = SL_OP_STATEFUL,
     .summary = "drops the elements of a stack"},
};

void sl__ops_register_stack(void);
void sl__ops_register_stack(void)
{
    sl__op_register_table(stack_ops, SL_COUNTOF(stack_ops));
}
