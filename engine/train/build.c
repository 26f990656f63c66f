/* Sticky graph-building helpers (see build.h): node builders that stop
 * after the first error, constants, and shape helpers that fold shapes
 * known at construction time into Const nodes. */
#include "config.h"

#include "build.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "sluice/alloc.h"

sl_code sl__b_fail(sl_b *b, sl_code code, const char *fmt, ...)
{
    if (b->failed)
        return sl_status_code(b->status);
    va_list ap;
    va_start(ap, fmt);
    sl_status_setv(b->status, code, fmt, ap);
    va_end(ap);
    b->failed = true;
    return code;
}

sl_node_builder *sl__b_begin_named(sl_b *b, const char *op, const char *name)
{
    if (b->failed)
        return NULL;
    sl_node_builder *nb = sl_node_builder_new(b->graph, op, name);
    if (!nb)
        sl__b_fail(b, SL_RESOURCE_EXHAUSTED, "out of memory building a %s node", op);
    return nb;
}

sl_node_builder *sl__b_begin(sl_b *b, const char *op)
{
    return sl__b_begin_named(b, op, NULL);
}

void sl__b_in(sl_b *b, sl_node_builder *nb, sl_output o)
{
    if (!nb)
        return;
    if (!o.node && !b->failed)
        sl__b_fail(b, SL_INTERNAL, "missing input building a node");
    sl_node_builder_add_input(nb, o);
}

sl_node *sl__b_end_node(sl_b *b, sl_node_builder *nb)
{
    if (!nb)
        return NULL;
    if (b->failed) {
        sl_node_builder_abandon(nb);
        return NULL;
    }
    sl_node *n = sl_node_builder_finish(nb, b->status);
    if (!n)
        b->failed = true;
    return n;
}

sl_output sl__b_end(sl_b *b, sl_node_builder *nb)
{
    sl_node *n = sl__b_end_node(b, nb);
    return (sl_output){n, 0};
}

sl_output sl__b_unary(sl_b *b, const char *op, sl_output x)
{
    sl_node_builder *nb = sl__b_begin(b, op);
    sl__b_in(b, nb, x);
    return sl__b_end(b, nb);
}

sl_output sl__b_binary(sl_b *b, const char *op, sl_output x, sl_output y)
{
    sl_node_builder *nb = sl__b_begin(b, op);
    sl__b_in(b, nb, x);
    sl__b_in(b, nb, y);
    return sl__b_end(b, nb);
}

sl_output sl__b_const(sl_b *b, const sl_tensor *t)
{
    if (!t) {
        sl__b_fail(b, SL_RESOURCE_EXHAUSTED, "out of memory making a constant");
        return SL_NO_OUTPUT;
    }
    sl_node_builder *nb = sl__b_begin(b, "Const");
    if (nb) {
        sl_node_builder_set_attr_tensor(nb, "value", t);
        sl_node_builder_set_attr_type(nb, "dtype", sl_tensor_dtype(t));
    }
    return sl__b_end(b, nb);
}

sl_output sl__b_const_i32(sl_b *b, const int32_t *v, int n)
{
    if (b->failed)
        return SL_NO_OUTPUT;
    sl_shape s = sl_shape_vector(n);
    sl_tensor *t = sl_tensor_new(SL_DTYPE_INT32, &s, b->status);
    if (t && n > 0)
        memcpy(sl_tensor_data(t), v, sizeof(int32_t) * (size_t)n);
    sl_output o = t ? sl__b_const(b, t) : SL_NO_OUTPUT;
    if (!t)
        b->failed = true;
    sl_tensor_unref(t);
    return o;
}

sl_output sl__b_const_i64(sl_b *b, const int64_t *v, int n)
{
    int32_t tmp[SL_MAX_DIMS * 2 + 2] = {0};
    int32_t *buf = n <= (int)(sizeof(tmp) / sizeof(tmp[0])) ? tmp : sl_malloc(sizeof(int32_t) * (size_t)n);
    if (!buf) {
        sl__b_fail(b, SL_RESOURCE_EXHAUSTED, "out of memory making a constant");
        return SL_NO_OUTPUT;
    }
    for (int i = 0; i < n; i++)
        buf[i] = (int32_t)v[i];
    sl_output o = sl__b_const_i32(b, buf, n);
    if (buf != tmp)
        sl_free(buf);
    return o;
}

sl_output sl__b_scalar_i32(sl_b *b, int32_t v)
{
    if (b->failed)
        return SL_NO_OUTPUT;
    sl_tensor *t = sl_tensor_new_scalar_int32(v, b->status);
    if (!t)
        b->failed = true;
    sl_output o = t ? sl__b_const(b, t) : SL_NO_OUTPUT;
    sl_tensor_unref(t);
    return o;
}

sl_output sl__b_scalar(sl_b *b, sl_dtype dtype, double v)
{
    if (b->failed)
        return SL_NO_OUTPUT;
    sl_shape s = sl_shape_scalar();
    sl_tensor *t = sl_tensor_new(dtype, &s, b->status);
    if (!t) {
        b->failed = true;
        return SL_NO_OUTPUT;
    }
    void *p = sl_tensor_data(t);
    switch (dtype) {
    case SL_DTYPE_FLOAT: *(float *)p = (float)v; break;
    case SL_DTYPE_DOUBLE: *(double *)p = v; break;
    case SL_DTYPE_INT32: *(int32_t *)p = (int32_t)v; break;
    case SL_DTYPE_INT64: *(int64_t *)p = (int64_t)v; break;
    case SL_DTYPE_INT16: *(int16_t *)p = (int16_t)v; break;
    case SL_DTYPE_INT8: *(int8_t *)p = (int8_t)v; break;
    case SL_DTYPE_UINT8: *(uint8_t *)p = (uint8_t)v; break;
    default:
        sl_tensor_unref(t);
        sl__b_fail(b, SL_UNIMPLEMENTED, "cannot make a %s constant", sl_dtype_name(dtype));
        return SL_NO_OUTPUT;
    }
    sl_output o = sl__b_const(b, t);
    sl_tensor_unref(t);
    return o;
}

sl_dtype sl__b_dtype(sl_output o)
{
    return o.node ? sl_dtype_base(sl_node_output_type(o.node, o.index)) : SL_DTYPE_INVALID;
}

const sl_shape *sl__b_static_shape(sl_output o)
{
    static const sl_shape unknown = {.rank = SL_RANK_UNKNOWN};
    return o.node ? sl_node_output_shape(o.node, o.index) : &unknown;
}

sl_output sl__b_scalar_like(sl_b *b, double v, sl_output x)
{
    if (!x.node) {
        sl__b_fail(b, SL_INTERNAL, "missing input building a constant");
        return SL_NO_OUTPUT;
    }
    return sl__b_scalar(b, sl__b_dtype(x), v);
}

sl_output sl__b_shape(sl_b *b, sl_output x)
{
    const sl_shape *s = sl__b_static_shape(x);
    if (x.node && sl_shape_is_fully_defined(s))
        return sl__b_const_i64(b, s->dims, s->rank);
    return sl__b_unary(b, "Shape", x);
}

sl_output sl__b_size(sl_b *b, sl_output x)
{
    const sl_shape *s = sl__b_static_shape(x);
    if (x.node && sl_shape_is_fully_defined(s))
        return sl__b_scalar_i32(b, (int32_t)sl_shape_num_elements(s));
    return sl__b_unary(b, "Size", x);
}

sl_output sl__b_reshape(sl_b *b, sl_output x, sl_output shape)
{
    return sl__b_binary(b, "Reshape", x, shape);
}

sl_output sl__b_reduce(sl_b *b, const char *op, sl_output x, sl_output axes, bool keep_dims)
{
    sl_node_builder *nb = sl__b_begin(b, op);
    sl__b_in(b, nb, x);
    sl__b_in(b, nb, axes);
    if (nb)
        sl_node_builder_set_attr_bool(nb, "keep_dims", keep_dims);
    return sl__b_end(b, nb);
}

sl_output sl__b_cast(sl_b *b, sl_output x, sl_dtype to)
{
    if (x.node && sl__b_dtype(x) == to)
        return x;
    sl_node_builder *nb = sl__b_begin(b, "Cast");
    sl__b_in(b, nb, x);
    if (nb)
        sl_node_builder_set_attr_type(nb, "DstT", to);
    return sl__b_end(b, nb);
}

sl_output sl__b_zeros_like(sl_b *b, sl_output x)
{
    return sl__b_unary(b, "ZerosLike", x);
}
