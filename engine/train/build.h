/* Sticky graph-building helpers for the training library (gradient
 * functions, optimizers, layers): each call adds one node and returns its
 * first output, or {NULL, 0} once anything has failed, so long chains read
 * like formulas and check the status once at the end:
 *
 *     sl_output g2 = sl__b_binary(b, "Mul", dy, sl__b_scalar_like(b, 2.0, x));
 *     sl_output dx = sl__b_binary(b, "Mul", g2, x);
 *     if (b->failed) return;
 *
 * The first error is kept in b->status (its message names the node);
 * later calls do nothing.  Inputs with a NULL node (the result of an
 * earlier failure, or "no gradient") make the call return {NULL, 0}
 * without an error only when b->failed is already set; otherwise a NULL
 * input is a programmer error reported as SL_INTERNAL.
 *
 * Shapes known at graph-construction time are folded into constants
 * (sl__b_shape of a fully defined tensor is a Const), which keeps the
 * gradient graph small and its kernels few.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "sluice/graph.h"

typedef struct sl_b {
    sl_graph *graph;
    sl_status *status;
    bool failed;
} sl_b;

#define SL_NO_OUTPUT ((sl_output){NULL, 0})

static inline bool sl__has(sl_output o)
{
    return o.node != NULL;
}

/* Starts a node (NULL when failed); finish it with sl__b_end/_node. */
sl_node_builder *sl__b_begin(sl_b *b, const char *op);
sl_node_builder *sl__b_begin_named(sl_b *b, const char *op, const char *name);
/* Adds input o to nb, marking the builder failed when o has no node. */
void sl__b_in(sl_b *b, sl_node_builder *nb, sl_output o);
sl_node *sl__b_end_node(sl_b *b, sl_node_builder *nb);
sl_output sl__b_end(sl_b *b, sl_node_builder *nb);

sl_output sl__b_unary(sl_b *b, const char *op, sl_output x);
sl_output sl__b_binary(sl_b *b, const char *op, sl_output x, sl_output y);

/* Constants. */
sl_output sl__b_const(sl_b *b, const sl_tensor *t);
sl_output sl__b_const_i32(sl_b *b, const int32_t *v, int n);   /* vector of n */
sl_output sl__b_const_i64(sl_b *b, const int64_t *v, int n);   /* vector of n (as int32) */
sl_output sl__b_scalar_i32(sl_b *b, int32_t v);
/* A scalar of dtype (float, double or half... any real type) holding v. */
sl_output sl__b_scalar(sl_b *b, sl_dtype dtype, double v);
/* A scalar of x's dtype. */
sl_output sl__b_scalar_like(sl_b *b, double v, sl_output x);

/* Shape(x) as int32: a Const when x's shape is fully known. */
sl_output sl__b_shape(sl_b *b, sl_output x);
/* Size(x) as int32 (a Const when known). */
sl_output sl__b_size(sl_b *b, sl_output x);
sl_output sl__b_reshape(sl_b *b, sl_output x, sl_output shape);
sl_output sl__b_reduce(sl_b *b, const char *op, sl_output x, sl_output axes, bool keep_dims);
sl_output sl__b_cast(sl_b *b, sl_output x, sl_dtype to);
sl_output sl__b_zeros_like(sl_b *b, sl_output x);

/* The dtype and static shape of an output (base type for refs). */
sl_dtype sl__b_dtype(sl_output o);
const sl_shape *sl__b_static_shape(sl_output o);

/* Records an error unless one is already recorded; returns the code. */
sl_code sl__b_fail(sl_b *b, sl_code code, const char *fmt, ...) SL_PRINTF(3, 4);
