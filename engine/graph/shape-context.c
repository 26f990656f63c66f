/* Shape inference at graph construction: the context a shape function
 * sees (input shapes, constant inputs, attrs through the node) and the
 * driver that runs it for a new node. */
#include "config.h"

#include "graph-private.h"

#include <string.h>

struct sl_shape_ctx {
    sl_node *node;
    sl_status *status;
};

const sl_node *sl_shape_ctx_node(const sl_shape_ctx *ctx) { return ctx->node; }
int sl_shape_ctx_num_inputs(const sl_shape_ctx *ctx) { return ctx->node->num_inputs; }
int sl_shape_ctx_num_outputs(const sl_shape_ctx *ctx) { return ctx->node->num_outputs; }

const sl_shape *sl_shape_ctx_input(const sl_shape_ctx *ctx, int i)
{
    static const sl_shape unknown = {.rank = SL_RANK_UNKNOWN};
    if (i < 0 || i >= ctx->node->num_inputs || !ctx->node->inputs[i].node)
        return &unknown;
    sl_output in = ctx->node->inputs[i];
    return sl_node_output_shape(in.node, in.index);
}

sl_dtype sl_shape_ctx_input_dtype(const sl_shape_ctx *ctx, int i)
{
    return sl_node_input_type(ctx->node, i);
}

/* Follows Identity chains back to a Const and returns its value. */
static const sl_tensor *constant_value(sl_output out)
{
    for (int depth = 0; out.node && depth < 64; depth++) {
        const char *op = sl_node_op_type(out.node);
        if (!strcmp(op, "Const")) {
            const sl_tensor *t = NULL;
            return sl_node_attr_tensor(out.node, "value", &t) ? t : NULL;
        }
        if (strcmp(op, "Identity") || out.node->num_inputs < 1)
            return NULL;
        out = out.node->inputs[0];
    }
    return NULL;
}

const sl_tensor *sl_shape_ctx_input_tensor(const sl_shape_ctx *ctx, int i)
{
    if (i < 0 || i >= ctx->node->num_inputs)
        return NULL;
    return constant_value(ctx->node->inputs[i]);
}

sl_code sl_shape_ctx_input_as_shape(sl_shape_ctx *ctx, int i, sl_shape *out)
{
    const sl_tensor *t = sl_shape_ctx_input_tensor(ctx, i);
    if (t) {
        sl_dtype dt = sl_tensor_dtype(t);
        if (sl_tensor_rank(t) != 1 || (dt != SL_DTYPE_INT32 && dt != SL_DTYPE_INT64))
            return sl_shape_ctx_error(ctx, "input %d should be an int32 or int64 vector to be a shape", i);
        int64_t n = sl_tensor_num_elements(t);
        if (n > SL_MAX_DIMS)
            return sl_shape_ctx_error(ctx, "shape of rank %lld is more than %d", (long long)n, SL_MAX_DIMS);
        sl_shape s = {.rank = (int)n};
        for (int64_t k = 0; k < n; k++) {
            int64_t d = dt == SL_DTYPE_INT32 ? ((const int32_t *)sl_tensor_data(t))[k]
                                             : ((const int64_t *)sl_tensor_data(t))[k];
            if (d < -1)
                return sl_shape_ctx_error(ctx, "shape dimension %lld is negative", (long long)d);
            s.dims[k] = d;
        }
        *out = s;
        return SL_OK;
    }
    const sl_shape *in = sl_shape_ctx_input(ctx, i);
    if (in->rank == 1 && in->dims[0] >= 0 && in->dims[0] <= SL_MAX_DIMS) {
        sl_shape s = {.rank = (int)in->dims[0]};
        for (int k = 0; k < s.rank; k++)
            s.dims[k] = SL_DIM_UNKNOWN;
        *out = s;
    } else {
        *out = sl_shape_unknown();
    }
    return SL_OK;
}

void sl_shape_ctx_set_output(sl_shape_ctx *ctx, int i, const sl_shape *shape)
{
    if (i >= 0 && i < ctx->node->num_outputs)
        ctx->node->output_shapes[i] = *shape;
}

sl_code sl_shape_ctx_error(sl_shape_ctx *ctx, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    sl_status_setv(ctx->status, SL_INVALID_ARGUMENT, fmt, ap);
    va_end(ap);
    return SL_INVALID_ARGUMENT;
}

sl_code sl__node_infer_shapes(sl_node *node, sl_status *status)
{
    sl_status_clear(status);
    if (!node->op->shape_fn)
        return SL_OK;
    sl_shape_ctx ctx = {node, status};
    sl_code c = node->op->shape_fn(&ctx);
    if (c != SL_OK && sl_status_is_ok(status))
        sl_status_set(status, c, "shape function failed");
    return c;
}
