/* StridedSlice's slice spec resolved against an input shape, as TF's
 * kernel resolves it: the sparse spec (begin/end/strides with begin, end,
 * ellipsis, new-axis and shrink-axis masks) becomes one start, step and
 * size per input dimension, plus the output shape.  Shared by StridedSlice
 * and StridedSliceGrad so both read a spec the same way. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "sluice/kernel.h"

typedef struct sl_strided_slice {
    int64_t start[SL_MAX_DIMS];  /* first index taken, per input dim */
    int64_t step[SL_MAX_DIMS];   /* stride per input dim (1 where shrunk) */
    int64_t size[SL_MAX_DIMS];   /* elements taken per input dim */
    sl_shape out_shape;          /* new axes added, shrunk dims removed */
} sl_strided_slice;

/* Resolves the node's masks and the begin/end/strides tensors against
 * `in`.  On a bad spec (lengths differ, several ellipses, too many
 * indices, zero stride, an index out of bounds on a shrunk axis) fails the
 * context with a message and returns false. */
bool sl__strided_slice_resolve(sl_kernel_ctx *ctx, const sl_shape *in, const sl_tensor *begin,
                               const sl_tensor *end, const sl_tensor *strides, sl_strided_slice *out);
