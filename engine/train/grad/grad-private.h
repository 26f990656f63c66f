/* What gradient functions share: the context behind sl_grad_ctx (a sticky
 * builder, see ../build.h), the broadcasting reduction, and the tables each
 * op family registers. */
#pragma once

#include "../build.h"
#include "sluice/gradients.h"

struct sl_grad_ctx {
    sl_b b;
    const sl_node *op;
};

static inline sl_b *sl__grad_b(sl_grad_ctx *ctx)
{
    return &ctx->b;
}

/* Input i / output i of op as an sl_output. */
static inline sl_output sl__grad_in(const sl_node *op, int i)
{
    return sl_node_input(op, i);
}
static inline sl_output sl__grad_out(const sl_node *op, int i)
{
    return (sl_output){(sl_node *)op, i};
}

/* Reduces gx and gy, gradients of the broadcast result of a binary op on x
 * and y, to x's and y's shapes: Sum over the broadcast axes and Reshape, as
 * constants when the shapes are fully known (nothing at all when they are
 * equal), else through BroadcastGradientArgs at run time.  Either of gx,
 * gy may have no node (left so). */
void sl__grad_unbroadcast(sl_b *b, sl_output x, sl_output y, sl_output gx, sl_output gy,
                          sl_output *dx, sl_output *dy);

/* Axis attr or const input as a non-negative axis of a rank-`rank`
 * tensor; false (and a failure recorded) when not constant or out of
 * range. */
bool sl__grad_const_ints(sl_b *b, const sl_node *op, sl_output in, int64_t *out, int max, int *n);

typedef struct sl_grad_entry {
    const char *op;
    sl_grad_fn fn;
    unsigned flags;
} sl_grad_entry;

void sl__grad_register_table(const sl_grad_entry *t, int n);

void sl__grads_register_math(void);
void sl__grads_register_nn(void);
void sl__grads_register_array(void);
void sl__grads_register_cond(void);
