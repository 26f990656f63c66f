/* NumPy broadcasting for elementwise kernels with up to three inputs.
 *
 * A plan aligns the input shapes to the output's rank, drops dimensions of
 * size 1 and merges neighbouring dimensions that broadcast the same way,
 * so "same shape" becomes one flat loop and [N, C] + [C] becomes rows of a
 * contiguous vector against a repeated one.  Each input then has one
 * element stride per collapsed dimension: 0 where it is broadcast.
 *
 * sl__bcast_run() splits the output into shards on the context's pool and
 * calls fn once per contiguous run of the innermost dimension, with each
 * input's offset and its innermost stride (0 or 1), so workers can
 * specialize the four stride cases and let the compiler vectorize them.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "cpu-kernels.h"

#define SL_BCAST_MAX_IN 3

typedef struct sl_bcast {
    int nin;
    sl_shape out;                                   /* the broadcast output shape */
    int64_t n;                                      /* output elements */
    int rank;                                       /* collapsed rank, >= 1 */
    int64_t dims[SL_MAX_DIMS];                      /* collapsed output dims */
    int64_t strides[SL_BCAST_MAX_IN][SL_MAX_DIMS];  /* per input, 0 where broadcast */
} sl_bcast;

/* One contiguous run: in_off[i] is input i's element offset, in_step[i]
 * its stride along the run (0 or 1); n elements from out_off. */
typedef void (*sl_bcast_fn)(void *arg, const int64_t *in_off, const int64_t *in_step, int64_t out_off,
                            int64_t n);

/* Plans the broadcast of nin shapes; on incompatible shapes fails ctx with
 * "incompatible shapes for broadcasting: [2,3] and [4]" and returns false. */
bool sl__bcast_init(sl_kernel_ctx *ctx, sl_bcast *b, int nin, const sl_shape *const *in);

/* Runs fn over the whole output; `cost` is per element (see sl__k_parallel). */
void sl__bcast_run(sl_kernel_ctx *ctx, const sl_bcast *b, int64_t cost, sl_bcast_fn fn, void *arg);
