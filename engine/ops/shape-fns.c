/* Shape functions shared across op families. */
#include "config.h"

#include "shape-fns.h"

#include "sluice/graph.h"

int64_t sl__tensor_int_at(const sl_tensor *t, int64_t k)
{
    switch (sl_tensor_dtype(t)) {
    case SL_DTYPE_INT32: return ((const int32_t *)sl_tensor_data(t))[k];
    case SL_DTYPE_INT64: return ((const int64_t *)sl_tensor_data(t))[k];
    case SL_DTYPE_INT16: return ((const int16_t *)sl_tensor_data(t))[k];
    case SL_DTYPE_INT8: return ((const int8_t *)sl_tensor_data(t))[k];
    case SL_DTYPE_UINT8: return ((const uint8_t *)sl_tensor_data(t))[k];
    default: return 0;
    }
}

sl_code sl__shape_unchanged(sl_shape_ctx *ctx)
{
    sl_shape_ctx_set_output(ctx, 0, sl_shape_ctx_input(ctx, 0));
    return SL_OK;
}

sl_code sl__shape_all_like_input0(sl_shape_ctx *ctx)
{
    for (int i = 0; i < sl_shape_ctx_num_outputs(ctx); i++)
        sl_shape_ctx_set_output(ctx, i, sl_shape_ctx_input(ctx, 0));
    return SL_OK;
}

sl_code sl__shape_broadcast_binary(sl_shape_ctx *ctx)
{
    sl_shape out;
    sl_status *st = sl_status_new();
    sl_code c = sl_shape_broadcast(sl_shape_ctx_input(ctx, 0), sl_shape_ctx_input(ctx, 1), &out, st);
    if (c != SL_OK) {
        sl_shape_ctx_error(ctx, "%s", sl_status_message(st));
        sl_status_free(st);
        return c;
    }
    sl_status_free(st);
    sl_shape_ctx_set_output(ctx, 0, &out);
    return SL_OK;
}

sl_code sl__shape_scalar(sl_shape_ctx *ctx)
{
    sl_shape s = sl_shape_scalar();
    sl_shape_ctx_set_output(ctx, 0, &s);
    return SL_OK;
}

sl_code sl__shape_none(sl_shape_ctx *ctx)
{
    (void)ctx;
    return SL_OK;
}

sl_code sl__shape_from_shape_attr(sl_shape_ctx *ctx)
{
    sl_shape s;
    if (sl_node_attr_shape(sl_shape_ctx_node(ctx), "shape", &s))
        sl_shape_ctx_set_output(ctx, 0, &s);
    return SL_OK;
}

sl_code sl__shape_from_input0_value(sl_shape_ctx *ctx)
{
    sl_shape s;
    sl_code c = sl_shape_ctx_input_as_shape(ctx, 0, &s);
    if (c == SL_OK)
        sl_shape_ctx_set_output(ctx, 0, &s);
    return c;
}

sl_code sl__shape_require_rank(sl_shape_ctx *ctx, int i, int rank)
{
    const sl_shape *s = sl_shape_ctx_input(ctx, i);
    if (s->rank >= 0 && s->rank != rank) {
        char buf[SL_SHAPE_STRING_MAX];
        return sl_shape_ctx_error(ctx, "input %d must have rank %d but has shape %s", i, rank,
                                  sl_shape_to_string(s, buf, sizeof(buf)));
    }
    return SL_OK;
}

sl_code sl__shape_axis(sl_shape_ctx *ctx, int64_t axis, int rank, int *out)
{
    if (axis < -rank || axis >= rank)
        return sl_shape_ctx_error(ctx, "axis %lld is out of range for rank %d", (long long)axis, rank);
    *out = (int)(axis < 0 ? axis + rank : axis);
    return SL_OK;
}

sl_code sl__shape_reduction(sl_shape_ctx *ctx)
{
    const sl_shape *in = sl_shape_ctx_input(ctx, 0);
    const sl_tensor *axes = sl_shape_ctx_input_tensor(ctx, 1);
    bool keep = false;
    sl_node_attr_bool(sl_shape_ctx_node(ctx), "keep_dims", &keep);
    if (in->rank < 0 || !axes) {
        if (keep && in->rank >= 0) {
            sl_shape s = {.rank = in->rank};
            for (int i = 0; i < s.rank; i++)
                s.dims[i] = SL_DIM_UNKNOWN;
            sl_shape_ctx_set_output(ctx, 0, &s);
        }
        return SL_OK;
    }
    bool reduce[SL_MAX_DIMS] = {false};
    for (int64_t k = 0; k < sl_tensor_num_elements(axes); k++) {
        int a = 0;
        if (sl__shape_axis(ctx, sl__tensor_int_at(axes, k), in->rank, &a) != SL_OK)
            return SL_INVALID_ARGUMENT;
        reduce[a] = true;
    }
    sl_shape out = {.rank = 0};
    for (int i = 0; i < in->rank; i++) {
        if (!reduce[i])
            out.dims[out.rank++] = in->dims[i];
        else if (keep)
            out.dims[out.rank++] = 1;
    }
    sl_shape_ctx_set_output(ctx, 0, &out);
    return SL_OK;
}
