/* Gradients of a cond's Switch and Merge (paper 4.1, TF's
 * control_flow_grad.py), for conds outside loops; loops are differentiated
 * as a whole in while-grad.c.
 *
 * Switch(x, pred) forwards x to the taken side.  Its gradient merges the
 * two sides' gradients: Merge(dy_false, dy_true).  Exactly one of them is
 * live at run time: the gradient of the taken branch, since every node of
 * the untaken one is dead and so is its gradient; a side without any
 * gradient gets ZerosLike(Switch:side) from the walk, which is live
 * exactly when that side is taken.
 *
 * Merge(in_0, ..., in_{N-1}) forwards its live input.  Its gradient goes
 * back to that input only: a Switch of the incoming gradient on the
 * predicate "input k was taken", read from the Merge's value_index output
 * (for a cond's two-input Merge, value_index == 1 is the cond's predicate,
 * and the graph needs no search for the Switch that made it). */
#include "config.h"

#include "grad-private.h"

#define B sl__grad_b(ctx)

static void switch_grad(sl_grad_ctx *ctx, const sl_node *op, const sl_output *dy, sl_output *dx)
{
    (void)op;
    sl_node_builder *nb = sl__b_begin(B, "Merge");
    if (nb)
        sl_node_builder_add_input_list(nb, dy, 2);
    dx[0] = sl__b_end(B, nb);
}

/* Switch(g, value_index == k). */
static sl_node *switch_on_index(sl_grad_ctx *ctx, const sl_node *op, sl_output g, int32_t k)
{
    sl_output taken = sl__b_binary(B, "Equal", sl__grad_out(op, 1), sl__b_scalar_i32(B, k));
    sl_node_builder *nb = sl__b_begin(B, "Switch");
    sl__b_in(B, nb, g);
    sl__b_in(B, nb, taken);
    return sl__b_end_node(B, nb);
}

static void merge_grad(sl_grad_ctx *ctx, const sl_node *op, const sl_output *dy, sl_output *dx)
{
    if (!sl__has(dy[0]))
        return;
    int n = sl_node_num_inputs(op);
    if (n == 2) {
        sl_node *sw = switch_on_index(ctx, op, dy[0], 1);
        if (sw) {
            dx[0] = (sl_output){sw, 0};
            dx[1] = (sl_output){sw, 1};
        }
        return;
    }
    for (int k = 0; k < n; k++) {
        sl_node *sw = switch_on_index(ctx, op, dy[0], k);
        if (!sw)
            return;
        dx[k] = (sl_output){sw, 1};
    }
}

static const sl_grad_entry cond_grads[] = {
    {"Switch", switch_grad, 0},
    {"Merge", merge_grad, SL_GRAD_ALLOW_MISSING},
};

void sl__grads_register_cond(void)
{
    sl__grad_register_table(cond_grads, (int)(sizeof(cond_grads) / sizeof(cond_grads[0])));
}
