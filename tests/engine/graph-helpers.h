/* Small graph-building helpers shared by the training tests: placeholders,
 * constants and one-line op nodes that fail the test on error. */
#pragma once

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "sluice/graph.h"

static inline sl_node *th_finish(sl_node_builder *b)
{
    sl_status *st = sl_status_new();
    sl_node *n = sl_node_builder_finish(b, st);
    if (!n)
        fail_msg("%s", sl_status_message(st));
    sl_status_free(st);
    return n;
}

static inline sl_output th_ph(sl_graph *g, const char *name, sl_dtype t, int rank, const int64_t *dims)
{
    sl_node_builder *b = sl_node_builder_new(g, "Placeholder", name);
    sl_node_builder_set_attr_type(b, "dtype", t);
    if (rank >= 0) {
        sl_shape s = sl_shape_make(rank, dims);
        sl_node_builder_set_attr_shape(b, "shape", &s);
    }
    return (sl_output){th_finish(b), 0};
}

static inline sl_output th_const(sl_graph *g, const char *name, sl_tensor *t)
{
    sl_node_builder *b = sl_node_builder_new(g, "Const", name);
    sl_node_builder_set_attr_tensor(b, "value", t);
    sl_node_builder_set_attr_type(b, "dtype", sl_tensor_dtype(t));
    sl_tensor_unref(t);
    return (sl_output){th_finish(b), 0};
}

static inline sl_output th_const_i32(sl_graph *g, int n, const int32_t *v)
{
    sl_shape s = sl_shape_vector(n);
    sl_tensor *t = sl_tensor_new(SL_DTYPE_INT32, &s, NULL);
    if (n)
        memcpy(sl_tensor_data(t), v, sizeof(int32_t) * (size_t)n);
    return th_const(g, NULL, t);
}

static inline sl_output th_scalar_i32(sl_graph *g, int32_t v)
{
    return th_const(g, NULL, sl_tensor_new_scalar_int32(v, NULL));
}

static inline sl_output th_op(sl_graph *g, const char *op, int n, const sl_output *in)
{
    sl_node_builder *b = sl_node_builder_new(g, op, NULL);
    for (int i = 0; i < n; i++)
        sl_node_builder_add_input(b, in[i]);
    return (sl_output){th_finish(b), 0};
}

#define TH_OP(g, op, ...) th_op(g, op, (int)(sizeof((sl_output[]){__VA_ARGS__}) / sizeof(sl_output)), \
                                (sl_output[]){__VA_ARGS__})
#define TH_DIMS(...) (int)(sizeof((int64_t[]){__VA_ARGS__}) / sizeof(int64_t)), (const int64_t[]){__VA_ARGS__}
