/* Internal helpers shared by the CPU kernels: registration of static
 * tables, reading integer inputs and attrs, axis normalization, shape
 * checks that fail the context with a clear message, and the sizing of
 * parallel loops. */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "kernel-ctx-private.h"
#include "sluice/kernel.h"

#define SL_COUNTOF_K(a) ((int)(sizeof(a) / sizeof((a)[0])))

/* Type sets used in kernel constraints. */
#define SL_K_FLOATS "T: {float, double}"
#define SL_K_NUMBERS "T: {float, double, int32, int64}"
#define SL_K_NUMBERS_ALL "T: {float, double, int8, int16, int32, int64, uint8, uint16, uint32, uint64}"

/* Registers a static table; a bad def is a programmer error and aborts. */
void sl__kernel_register_table(const sl_kernel_def *defs, int n);

/* Element k of an integer tensor (int8..int64, uint8..uint64) as int64. */
int64_t sl__k_int_at(const sl_tensor *t, int64_t k);

/* Whether t is a scalar or a vector of int32/int64; otherwise fails ctx
 * with "<what> must be an int32 or int64 vector, got ...". */
bool sl__k_check_int_vector(sl_kernel_ctx *ctx, const sl_tensor *t, const char *what);

/* Normalizes axis against rank (negative counts from the end); fails ctx
 * with "<what> <axis> is out of range for a tensor of rank <rank>". */
bool sl__k_axis(sl_kernel_ctx *ctx, int64_t axis, int rank, const char *what, int *out);

/* Formats a shape for messages into a thread-local buffer of `slot` (0..3),
 * so up to four shapes can appear in one message. */
const char *sl__k_shape_str(const sl_shape *s, int slot);

/* Whether the string attr `name` of node equals `value`. */
bool sl__k_attr_str_is(const sl_node *node, const char *name, const char *value);

/* Fails ctx unless a and b have the same shape; `what` names them. */
bool sl__k_same_shape(sl_kernel_ctx *ctx, const sl_tensor *a, const sl_tensor *b, const char *what);

/* Runs fn over [0, n) on the context's pool.  `cost` is the rough number of
 * cheap operations per index: shards are sized to ~32k operations so that
 * small loops run inline. */
void sl__k_parallel(sl_kernel_ctx *ctx, int64_t n, int64_t cost, sl_range_fn fn, void *arg);

/* Allocates output i with the given shape; NULL when the context failed.
 * The elements are undefined: the kernel writes every one of them. */
static inline sl_tensor *sl__k_out(sl_kernel_ctx *ctx, int i, const sl_shape *s)
{
    return sl_kernel_ctx_allocate_output(ctx, i, s);
}

/* Like sl__k_out(), zero-filled: for kernels that accumulate or scatter
 * into their output, or leave parts of it at zero. */
static inline sl_tensor *sl__k_out_zeroed(sl_kernel_ctx *ctx, int i, const sl_shape *s)
{
    sl_tensor *t = sl_kernel_ctx_allocate_output(ctx, i, s);
    if (t && sl_tensor_byte_size(t))
        memset(sl_tensor_data(t), 0, sl_tensor_byte_size(t));
    return t;
}

/* Keeps OpenBLAS on one thread inside the engine (called once). */
void sl__k_blas_init(void);
