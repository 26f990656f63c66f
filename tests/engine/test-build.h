/* Helpers for runtime tests that build graphs with the node builder:
 * finishing a node with a useful failure message, float/int constants of
 * any shape, running a session with one call and reading scalars. */
#pragma once

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sluice/graph.h"
#include "sluice/session.h"

/* Finishes b; a failure is a bug in the test, reported with the status. */
static inline sl_node *tb_finish(sl_node_builder *b)
{
    sl_status *st = sl_status_new();
    sl_node *n = sl_node_builder_finish(b, st);
    if (!n) {
        fprintf(stderr, "tb_finish: %s\n", sl_status_message(st));
        abort();
    }
    sl_status_free(st);
    return n;
}

/* A float tensor of `shape` holding v[0..n) (caller owns it). */
static inline sl_tensor *tb_tensor_f(const sl_shape *shape, const float *v)
{
    sl_status *st = sl_status_new();
    sl_tensor *t = sl_tensor_new(SL_DTYPE_FLOAT, shape, st);
    sl_status_free(st);
    int64_t n = sl_tensor_num_elements(t);
    if (n)
        memcpy(sl_tensor_data(t), v, (size_t)n * sizeof(float));
    return t;
}

static inline sl_tensor *tb_vec_f(int64_t n, const float *v)
{
    sl_shape s = sl_shape_vector(n);
    return tb_tensor_f(&s, v);
}

static inline sl_node *tb_const_tensor(sl_graph *g, const char *name, sl_tensor *t)
{
    sl_node_builder *b = sl_node_builder_new(g, "Const", name);
    sl_node_builder_set_attr_type(b, "dtype", sl_tensor_dtype(t));
    sl_node_builder_set_attr_tensor(b, "value", t);
    sl_node *n = tb_finish(b);
    sl_tensor_unref(t);
    return n;
}

static inline sl_node *tb_const_vec_f(sl_graph *g, const char *name, int64_t n, const float *v)
{
    return tb_const_tensor(g, name, tb_vec_f(n, v));
}

static inline sl_node *tb_unary(sl_graph *g, const char *op, const char *name, sl_output x)
{
    sl_node_builder *b = sl_node_builder_new(g, op, name);
    sl_node_builder_add_input(b, x);
    return tb_finish(b);
}

static inline sl_node *tb_binary(sl_graph *g, const char *op, const char *name, sl_output x, sl_output y)
{
    sl_node_builder *b = sl_node_builder_new(g, op, name);
    sl_node_builder_add_input(b, x);
    sl_node_builder_add_input(b, y);
    return tb_finish(b);
}

/* Runs one step with names; returns the code and leaves the message in st. */
static inline sl_code tb_run(sl_session *s, const char *const *feeds, sl_tensor *const *vals, int nf,
                             const char *const *fetches, sl_tensor **outs, int nfe, const char *const *targets,
                             int nt, sl_status *st)
{
    return sl_session_run(s, NULL, feeds, vals, nf, fetches, outs, nfe, targets, nt, NULL, st);
}

/* Fetches one tensor (NULL on failure, st holds why). */
static inline sl_tensor *tb_fetch(sl_session *s, const char *name, sl_status *st)
{
    sl_tensor *out = NULL;
    const char *f[] = {name};
    if (tb_run(s, NULL, NULL, 0, f, &out, 1, NULL, 0, st) != SL_OK)
        return NULL;
    return out;
}

/* Runs one target; returns the code. */
static inline sl_code tb_target(sl_session *s, const char *name, sl_status *st)
{
    const char *t[] = {name};
    return tb_run(s, NULL, NULL, 0, NULL, NULL, 0, t, 1, st);
}

static inline float tb_f(const sl_tensor *t, int64_t i) { return ((const float *)sl_tensor_data(t))[i]; }
