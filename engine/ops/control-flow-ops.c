/* Control-flow op definitions (paper 4.4): Switch, Merge, Enter, Exit,
 * NextIteration, LoopCond, and NoOp for grouping control edges. */
#include "config.h"

#include "op-registry-private.h"
#include "shape-fns.h"

static sl_code merge_shape(sl_shape_ctx *ctx)
{
    sl_shape s = *sl_shape_ctx_input(ctx, 0);
    for (int i = 1; i < sl_shape_ctx_num_inputs(ctx); i++)
        if (!sl_shape_equal(&s, sl_shape_ctx_input(ctx, i)))
            s = sl_shape_unknown();  /* loops change shapes between iterations */
    sl_shape scalar = sl_shape_scalar();
    sl_shape_ctx_set_output(ctx, 0, &s);
    sl_shape_ctx_set_output(ctx, 1, &scalar);
    return SL_OK;
}

static sl_code switch_shape(sl_shape_ctx *ctx)
{
    if (sl__shape_require_rank(ctx, 1, 0) != SL_OK)
        return SL_INVALID_ARGUMENT;
    return sl__shape_all_like_input0(ctx);
}

static const sl_op_spec control_flow_ops[] = {
    {.name = "NoOp", .summary = "does nothing; groups control dependencies"},
    {.name = "Switch", .inputs = {"data: T", "pred: bool"}, .outputs = {"output_false: T", "output_true: T"},
     .attrs = {"T: type"}, .shape_fn = switch_shape, .flags = SL_OP_CONTROL_FLOW,
     .summary = "forwards data to the output chosen by pred"},
    {.name = "RefSwitch", .inputs = {"data: Ref(T)", "pred: bool"},
     .outputs = {"output_false: Ref(T)", "output_true: Ref(T)"}, .attrs = {"T: type"},
     .shape_fn = switch_shape, .flags = SL_OP_CONTROL_FLOW, .summary = "Switch for references"},
    {.name = "Merge", .inputs = {"inputs: N * T"}, .outputs = {"output: T", "value_index: int32"},
     .attrs = {"T: type", "N: int >= 1"}, .shape_fn = merge_shape, .flags = SL_OP_CONTROL_FLOW,
     .summary = "forwards the first input that becomes available"},
    {.name = "Enter", .inputs = {"data: T"}, .outputs = {"output: T"},
     .attrs = {"T: type", "frame_name: string", "is_constant: bool = false", "parallel_iterations: int = 10"},
     .shape_fn = sl__shape_unchanged, .flags = SL_OP_CONTROL_FLOW, .summary = "enters a loop frame"},
    {.name = "RefEnter", .inputs = {"data: Ref(T)"}, .outputs = {"output: Ref(T)"},
     .attrs = {"T: type", "frame_name: string", "is_constant: bool = false", "parallel_iterations: int = 10"},
     .shape_fn = sl__shape_unchanged, .flags = SL_OP_CONTROL_FLOW, .summary = "Enter for references"},
    {.name = "Exit", .inputs = {"data: T"}, .outputs = {"output: T"}, .attrs = {"T: type"},
     .shape_fn = sl__shape_unchanged, .flags = SL_OP_CONTROL_FLOW, .summary = "leaves a loop frame"},
    {.name = "NextIteration", .inputs = {"data: T"}, .outputs = {"output: T"}, .attrs = {"T: type"},
     .shape_fn = sl__shape_unchanged, .flags = SL_OP_CONTROL_FLOW,
     .summary = "makes its input available to the next iteration"},
    {.name = "LoopCond", .inputs = {"input: bool"}, .outputs = {"output: bool"},
     .shape_fn = sl__shape_unchanged, .flags = SL_OP_CONTROL_FLOW, .summary = "the loop predicate"},
};

void sl__ops_register_control_flow(void);
void sl__ops_register_control_flow(void)
{
    sl__op_register_table(control_flow_ops, SL_COUNTOF(control_flow_ops));
}
