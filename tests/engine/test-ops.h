/* Small ops with kernels for runtime tests, so executor tests do not
 * depend on the math kernels: TAdd (x + y, float or int32, cost 0), TLess,
 * TSlowAdd (same as TAdd, cost 1: scheduled on the pool, sleeps 1 ms),
 * TFail (fails with "boom at <value>" when its input is negative), and
 * helpers that build Const, Placeholder and these nodes. */
#pragma once

#include <string.h>
#include <unistd.h>

#include "sluice/graph.h"
#include "sluice/kernel.h"

static inline void tadd_compute(sl_kernel_ctx *ctx)
{
    const sl_tensor *x = sl_kernel_ctx_input(ctx, 0), *y = sl_kernel_ctx_input(ctx, 1);
    sl_tensor *z = sl_kernel_ctx_allocate_output(ctx, 0, sl_tensor_shape(x));
    if (!z)
        return;
    int64_t n = sl_tensor_num_elements(x);
    if (sl_tensor_dtype(x) == SL_DTYPE_FLOAT)
        for (int64_t i = 0; i < n; i++)
            ((float *)sl_tensor_data(z))[i] = ((const float *)sl_tensor_data(x))[i] + ((const float *)sl_tensor_data(y))[i];
    else
        for (int64_t i = 0; i < n; i++)
            ((int32_t *)sl_tensor_data(z))[i] =
                ((const int32_t *)sl_tensor_data(x))[i] + ((const int32_t *)sl_tensor_data(y))[i];
}

static inline void tslow_compute(sl_kernel_ctx *ctx)
{
    usleep(1000);
    tadd_compute(ctx);
}

static inline void tless_compute(sl_kernel_ctx *ctx)
{
    const sl_tensor *x = sl_kernel_ctx_input(ctx, 0), *y = sl_kernel_ctx_input(ctx, 1);
    sl_tensor *z = sl_kernel_ctx_allocate_output(ctx, 0, sl_tensor_shape(x));
    if (!z)
        return;
    int64_t n = sl_tensor_num_elements(x);
    for (int64_t i = 0; i < n; i++)
        ((bool *)sl_tensor_data(z))[i] = sl_tensor_dtype(x) == SL_DTYPE_FLOAT
            ? ((const float *)sl_tensor_data(x))[i] < ((const float *)sl_tensor_data(y))[i]
            : ((const int32_t *)sl_tensor_data(x))[i] < ((const int32_t *)sl_tensor_data(y))[i];
}

static inline void tfail_compute(sl_kernel_ctx *ctx)
{
    const sl_tensor *x = sl_kernel_ctx_input(ctx, 0);
    float v = *(const float *)sl_tensor_data(x);
    if (v < 0) {
        sl_kernel_ctx_fail(ctx, SL_INVALID_ARGUMENT, "boom at %g", v);
        return;
    }
    sl_kernel_ctx_set_output(ctx, 0, (sl_tensor *)x);
}

static inline void test_ops_register(void)
{
    static const sl_op_spec specs[] = {
        {.name = "TAdd", .inputs = {"x: T", "y: T"}, .outputs = {"z: T"}, .attrs = {"T: {float, int32}"}},
        {.name = "TSlowAdd", .inputs = {"x: T", "y: T"}, .outputs = {"z: T"}, .attrs = {"T: {float, int32}"}},
        {.name = "TLess", .inputs = {"x: T", "y: T"}, .outputs = {"z: bool"}, .attrs = {"T: {float, int32}"}},
        {.name = "TFail", .inputs = {"x: float"}, .outputs = {"y: float"}},
    };
    static const sl_kernel_def kernels[] = {
        {.op = "TAdd", .device = SL_DEVICE_CPU, .compute = tadd_compute},
        {.op = "TSlowAdd", .device = SL_DEVICE_CPU, .compute = tslow_compute, .cost = 1},
        {.op = "TLess", .device = SL_DEVICE_CPU, .compute = tless_compute},
        {.op = "TFail", .device = SL_DEVICE_CPU, .compute = tfail_compute},
    };
    static int done;
    if (done)
        return;
    done = 1;
    sl_status *st = sl_status_new();
    for (size_t i = 0; i < sizeof(specs) / sizeof(specs[0]); i++)
        sl_op_register(&specs[i], st);
    for (size_t i = 0; i < sizeof(kernels) / sizeof(kernels[0]); i++)
        sl_kernel_register(&kernels[i], st);
    sl_status_free(st);
}

static inline sl_node *t_const_f(sl_graph *g, const char *name, float v, sl_node *ctrl)
{
    sl_status *st = sl_status_new();
    sl_tensor *t = sl_tensor_new_scalar_float(v, st);
    sl_node_builder *b = sl_node_builder_new(g, "Const", name);
    sl_node_builder_set_attr_type(b, "dtype", SL_DTYPE_FLOAT);
    sl_node_builder_set_attr_tensor(b, "value", t);
    if (ctrl)
        sl_node_builder_add_control_input(b, ctrl);
    sl_node *n = sl_node_builder_finish(b, st);
    sl_tensor_unref(t);
    sl_status_free(st);
    return n;
}

static inline sl_node *t_const_i(sl_graph *g, const char *name, int32_t v, sl_node *ctrl)
{
    sl_status *st = sl_status_new();
    sl_tensor *t = sl_tensor_new_scalar_int32(v, st);
    sl_node_builder *b = sl_node_builder_new(g, "Const", name);
    sl_node_builder_set_attr_type(b, "dtype", SL_DTYPE_INT32);
    sl_node_builder_set_attr_tensor(b, "value", t);
    if (ctrl)
        sl_node_builder_add_control_input(b, ctrl);
    sl_node *n = sl_node_builder_finish(b, st);
    sl_tensor_unref(t);
    sl_status_free(st);
    return n;
}

static inline sl_node *t_placeholder(sl_graph *g, const char *name, sl_dtype dt, const sl_shape *shape)
{
    sl_status *st = sl_status_new();
    sl_node_builder *b = sl_node_builder_new(g, "Placeholder", name);
    sl_node_builder_set_attr_type(b, "dtype", dt);
    if (shape)
        sl_node_builder_set_attr_shape(b, "shape", shape);
    sl_node *n = sl_node_builder_finish(b, st);
    sl_status_free(st);
    return n;
}

static inline sl_node *t_binary(sl_graph *g, const char *op, const char *name, sl_output x, sl_output y)
{
    sl_status *st = sl_status_new();
    sl_node_builder *b = sl_node_builder_new(g, op, name);
    sl_node_builder_add_input(b, x);
    sl_node_builder_add_input(b, y);
    sl_node *n = sl_node_builder_finish(b, st);
    sl_status_free(st);
    return n;
}

static inline sl_node *t_unary(sl_graph *g, const char *op, const char *name, sl_output x)
{
    sl_status *st = sl_status_new();
    sl_node_builder *b = sl_node_builder_new(g, op, name);
    sl_node_builder_add_input(b, x);
    sl_node *n = sl_node_builder_finish(b, st);
    sl_status_free(st);
    return n;
}

#define OUT(n) ((sl_output){(n), 0})

static inline float t_scalar_f(const sl_tensor *t) { return *(const float *)sl_tensor_data(t); }
static inline int32_t t_scalar_i(const sl_tensor *t) { return *(const int32_t *)sl_tensor_data(t); }
