/* Helpers for the kernel oracle tests: one-node graphs fed through
 * Placeholders, a deterministic random source, random tensors and shapes,
 * and tolerance checks.  Header-only: each test-kernels-*.c includes it
 * once. */
#pragma once

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "sluice/alloc.h"
#include "sluice/graph.h"
#include "sluice/kernel.h"
#include "sluice/threadpool.h"

/* ---- random numbers (xorshift64*, fixed seed per test) ------------------- */

static uint64_t tk_rng = 88172645463325252ULL;

static inline uint64_t tk_next(void)
{
    tk_rng ^= tk_rng >> 12;
    tk_rng ^= tk_rng << 25;
    tk_rng ^= tk_rng >> 27;
    return tk_rng * 2685821657736338717ULL;
}

/* Uniform in [lo, hi). */
static inline double tk_uniform(double lo, double hi)
{
    return lo + (hi - lo) * (double)(tk_next() >> 11) / 9007199254740992.0;
}

static inline int64_t tk_int(int64_t lo, int64_t hi)  /* [lo, hi] */
{
    return lo + (int64_t)(tk_next() % (uint64_t)(hi - lo + 1));
}

/* ---- tensors --------------------------------------------------------------- */

static inline sl_tensor *tk_tensor(sl_dtype dt, sl_shape s)
{
    sl_status *st = sl_status_new();
    sl_tensor *t = sl_tensor_new(dt, &s, st);
    if (!t)
        fail_msg("tensor: %s", sl_status_message(st));
    sl_status_free(st);
    return t;
}

/* Element i as double (float, double, ints, bool). */
static inline double tk_get(const sl_tensor *t, int64_t i)
{
    const void *d = sl_tensor_data(t);
    switch (sl_tensor_dtype(t)) {
    case SL_DTYPE_FLOAT: return ((const float *)d)[i];
    case SL_DTYPE_DOUBLE: return ((const double *)d)[i];
    case SL_DTYPE_INT32: return ((const int32_t *)d)[i];
    case SL_DTYPE_INT64: return (double)((const int64_t *)d)[i];
    case SL_DTYPE_INT8: return ((const int8_t *)d)[i];
    case SL_DTYPE_INT16: return ((const int16_t *)d)[i];
    case SL_DTYPE_UINT8: return ((const uint8_t *)d)[i];
    case SL_DTYPE_UINT16: return ((const uint16_t *)d)[i];
    case SL_DTYPE_UINT32: return ((const uint32_t *)d)[i];
    case SL_DTYPE_UINT64: return (double)((const uint64_t *)d)[i];
    case SL_DTYPE_BOOL: return ((const uint8_t *)d)[i];
    default: fail_msg("tk_get: dtype %s", sl_dtype_name(sl_tensor_dtype(t)));
    }
    return 0;
}

static inline void tk_set(sl_tensor *t, int64_t i, double v)
{
    void *d = sl_tensor_data(t);
    switch (sl_tensor_dtype(t)) {
    case SL_DTYPE_FLOAT: ((float *)d)[i] = (float)v; break;
    case SL_DTYPE_DOUBLE: ((double *)d)[i] = v; break;
    case SL_DTYPE_INT32: ((int32_t *)d)[i] = (int32_t)v; break;
    case SL_DTYPE_INT64: ((int64_t *)d)[i] = (int64_t)v; break;
    case SL_DTYPE_INT8: ((int8_t *)d)[i] = (int8_t)v; break;
    case SL_DTYPE_INT16: ((int16_t *)d)[i] = (int16_t)v; break;
    case SL_DTYPE_UINT8: ((uint8_t *)d)[i] = (uint8_t)v; break;
    case SL_DTYPE_UINT16: ((uint16_t *)d)[i] = (uint16_t)v; break;
    case SL_DTYPE_UINT32: ((uint32_t *)d)[i] = (uint32_t)v; break;
    case SL_DTYPE_UINT64: ((uint64_t *)d)[i] = (uint64_t)v; break;
    case SL_DTYPE_BOOL: ((uint8_t *)d)[i] = v != 0; break;
    default: fail_msg("tk_set: dtype %s", sl_dtype_name(sl_tensor_dtype(t)));
    }
}

/* A tensor of uniform values in [lo, hi) (rounded for integer types). */
static inline sl_tensor *tk_random(sl_dtype dt, sl_shape s, double lo, double hi)
{
    sl_tensor *t = tk_tensor(dt, s);
    for (int64_t i = 0; i < sl_tensor_num_elements(t); i++) {
        double v = tk_uniform(lo, hi);
        tk_set(t, i, dt == SL_DTYPE_FLOAT || dt == SL_DTYPE_DOUBLE ? v : floor(v));
    }
    return t;
}

static inline sl_tensor *tk_vec_i32(int n, const int32_t *v)
{
    sl_tensor *t = tk_tensor(SL_DTYPE_INT32, sl_shape_vector(n));
    if (n)
        memcpy(sl_tensor_data(t), v, sizeof(int32_t) * (size_t)n);
    return t;
}

static inline sl_tensor *tk_scalar_i32(int32_t v)
{
    sl_tensor *t = tk_tensor(SL_DTYPE_INT32, sl_shape_scalar());
    *(int32_t *)sl_tensor_data(t) = v;
    return t;
}

static inline sl_tensor *tk_scalar(sl_dtype dt, double v)
{
    sl_tensor *t = tk_tensor(dt, sl_shape_scalar());
    tk_set(t, 0, v);
    return t;
}

/* A random shape of rank in [0, max_rank] with dims in [lo, hi]. */
static inline sl_shape tk_random_shape(int max_rank, int64_t lo, int64_t hi)
{
    sl_shape s = {.rank = (int)tk_int(0, max_rank)};
    for (int i = 0; i < s.rank; i++)
        s.dims[i] = tk_int(lo, hi);
    return s;
}

/* ---- one-node graphs ----------------------------------------------------------- */

typedef struct tk_graph {
    sl_graph *g;
    sl_node_builder *b;
    int n;
} tk_graph;

static inline sl_node_builder *tk_begin(tk_graph *tg, const char *op, const char *name)
{
    sl_status *st = sl_status_new();
    tg->g = sl_graph_new(st);
    sl_status_free(st);
    tg->n = 0;
    tg->b = sl_node_builder_new(tg->g, op, name);
    return tg->b;
}

static inline sl_output tk_placeholder(tk_graph *tg, sl_dtype dt)
{
    char name[32];
    snprintf(name, sizeof(name), "in%d", tg->n++);
    sl_node_builder *p = sl_node_builder_new(tg->g, "Placeholder", name);
    sl_node_builder_set_attr_type(p, "dtype", dt);
    sl_status *st = sl_status_new();
    sl_node *n = sl_node_builder_finish(p, st);
    if (!n)
        fail_msg("placeholder: %s", sl_status_message(st));
    sl_status_free(st);
    return (sl_output){n, 0};
}

/* Adds one input of dtype dt (fed at run time). */
static inline void tk_in(tk_graph *tg, sl_dtype dt)
{
    sl_node_builder_add_input(tg->b, tk_placeholder(tg, dt));
}

/* Adds a list input of n tensors of dtype dt. */
static inline void tk_in_list(tk_graph *tg, sl_dtype dt, int n)
{
    sl_output outs[16];
    for (int i = 0; i < n; i++)
        outs[i] = tk_placeholder(tg, dt);
    sl_node_builder_add_input_list(tg->b, outs, n);
}

static inline sl_node *tk_finish(tk_graph *tg)
{
    sl_status *st = sl_status_new();
    sl_node *n = sl_node_builder_finish(tg->b, st);
    if (!n)
        fail_msg("node: %s", sl_status_message(st));
    sl_status_free(st);
    return n;
}

/* Runs the node; on success fills outputs and returns SL_OK.  The message
 * of a failure is copied into msg (may be NULL). */
static inline sl_code tk_run(sl_node *node, const sl_tensor *const *in, sl_tensor **out, sl_threadpool *pool,
                             char *msg, size_t cap)
{
    sl_status *st = sl_status_new();
    sl_code rc = sl_kernel_run_node(node, in, out, pool, st);
    if (msg)
        snprintf(msg, cap, "%s", sl_status_message(st));
    sl_status_free(st);
    return rc;
}

static inline void tk_run_ok(sl_node *node, const sl_tensor *const *in, sl_tensor **out, sl_threadpool *pool)
{
    char msg[512];
    if (tk_run(node, in, out, pool, msg, sizeof(msg)) != SL_OK)
        fail_msg("%s failed: %s", sl_node_name(node), msg);
}

static inline void tk_end(tk_graph *tg)
{
    sl_graph_free(tg->g);
    tg->g = NULL;
}

/* ---- comparisons --------------------------------------------------------------- */

static inline void tk_expect_shape(const sl_tensor *t, const sl_shape *s, const char *what)
{
    if (!sl_shape_equal(sl_tensor_shape(t), s)) {
        char a[SL_SHAPE_STRING_MAX], b[SL_SHAPE_STRING_MAX];
        fail_msg("%s: shape %s, expected %s", what, sl_shape_to_string(sl_tensor_shape(t), a, sizeof(a)),
                 sl_shape_to_string(s, b, sizeof(b)));
    }
}

/* |got - want| <= atol + rtol |want| (NaN equals NaN, infinities equal). */
static inline void tk_expect_close(const sl_tensor *t, const double *want, double rtol, double atol, const char *what)
{
    for (int64_t i = 0; i < sl_tensor_num_elements(t); i++) {
        double g = tk_get(t, i), w = want[i];
        if (isnan(w) && isnan(g))
            continue;
        if (isinf(w) && g == w)
            continue;
        if (!(fabs(g - w) <= atol + rtol * fabs(w)))
            fail_msg("%s: element %lld is %.9g, expected %.9g (rtol %g, atol %g)", what, (long long)i, g, w, rtol,
                     atol);
    }
}

static inline sl_threadpool *tk_pool(int n)
{
    sl_status *st = sl_status_new();
    sl_threadpool *p = sl_threadpool_new(n, st);
    sl_status_free(st);
    return p;
}

/* Row-major strides of s. */
static inline void tk_strides(const sl_shape *s, int64_t *st)
{
    int64_t k = 1;
    for (int d = s->rank - 1; d >= 0; d--) {
        st[d] = k;
        k *= s->dims[d];
    }
}

/* Flat index into `in` (right-aligned broadcast against out) of output index o. */
static inline int64_t tk_bcast_index(const sl_shape *out, const sl_shape *in, int64_t o)
{
    int64_t idx = 0, mul = 1;
    for (int d = out->rank - 1, k = in->rank - 1; d >= 0; d--, k--) {
        int64_t i = o % out->dims[d];
        o /= out->dims[d];
        if (k >= 0) {
            if (in->dims[k] != 1)
                idx += i * mul;
            mul *= in->dims[k];
        }
    }
    return idx;
}
