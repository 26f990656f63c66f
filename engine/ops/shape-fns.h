/* Shape functions shared by many ops (TF's common_shape_fns). */
#pragma once

#include "sluice/op.h"

/* Output 0 has the shape of input 0 (elementwise unary ops, Identity). */
sl_code sl__shape_unchanged(sl_shape_ctx *ctx);
/* Every output has the shape of input 0. */
sl_code sl__shape_all_like_input0(sl_shape_ctx *ctx);
/* Output 0 is the NumPy broadcast of inputs 0 and 1. */
sl_code sl__shape_broadcast_binary(sl_shape_ctx *ctx);
/* Output 0 is a scalar. */
sl_code sl__shape_scalar(sl_shape_ctx *ctx);
/* No outputs, or outputs left unknown on purpose (stateful sources). */
sl_code sl__shape_none(sl_shape_ctx *ctx);
/* Output 0 has the shape given by the "shape" attr (Placeholder, Variable). */
sl_code sl__shape_from_shape_attr(sl_shape_ctx *ctx);
/* Output 0's shape is the value of input 0 (Fill, RandomUniform, Zeros). */
sl_code sl__shape_from_input0_value(sl_shape_ctx *ctx);
/* Reductions: input 0 reduced over the axes in input 1 (keep_dims attr). */
sl_code sl__shape_reduction(sl_shape_ctx *ctx);

/* Requires input i to have rank `rank` (when known). */
sl_code sl__shape_require_rank(sl_shape_ctx *ctx, int i, int rank);
/* Normalizes an axis against rank (negative counts from the end); fails
 * with a message when out of [-rank, rank). */
sl_code sl__shape_axis(sl_shape_ctx *ctx, int64_t axis, int rank, int *out);
/* Reads scalar or vector integer tensor element k as int64. */
int64_t sl__tensor_int_at(const sl_tensor *t, int64_t k);
