/* Gradients of the neural-network ops: activations, BiasAdd, softmax and
 * the cross-entropy losses, Conv2D and pooling. */
#include "config.h"

#include <string.h>

#include "grad-private.h"
#include "graph-private.h"

#define B sl__grad_b(ctx)
#define X(i) sl__grad_in(op, i)
#define Y(i) sl__grad_out(op, i)
#define UN(o, a) sl__b_unary(B, o, a)
#define BIN(o, a, c) sl__b_binary(B, o, a, c)

/* Copies the named attrs of op onto nb (those op has). */
static void copy_attrs(const sl_node *op, sl_node_builder *nb, const char *const *names)
{
    if (!nb)
        return;
    for (int i = 0; names[i]; i++) {
        const sl_node_attr *a = sl__node_find_attr(op, names[i]);
        if (!a || a->is_default)
            continue;
        switch (a->value->value_case) {
        case TENSORFLOW__ATTR_VALUE__VALUE_S:
            sl_node_builder_set_attr_string(nb, names[i], (const char *)a->value->s.data, a->value->s.len);
            break;
        case TENSORFLOW__ATTR_VALUE__VALUE_B:
            sl_node_builder_set_attr_bool(nb, names[i], a->value->b);
            break;
        case TENSORFLOW__ATTR_VALUE__VALUE_I:
            sl_node_builder_set_attr_int(nb, names[i], a->value->i);
            break;
        case TENSORFLOW__ATTR_VALUE__VALUE_LIST: {
            const int64_t *v;
            int n;
            if (sl_node_attr_int_list(op, names[i], &v, &n))
                sl_node_builder_set_attr_int_list(nb, names[i], v, n);
            break;
        }
        default:
            break;
        }
    }
}

static void relu_grad(sl_grad_ctx *ctx, const sl_node *op, const sl_output *dy, sl_output *dx)
{
    dx[0] = BIN("ReluGrad", dy[0], Y(0));
}

static void relu6_grad(sl_grad_ctx *ctx, const sl_node *op, const sl_output *dy, sl_output *dx)
{
    dx[0] = BIN("Relu6Grad", dy[0], X(0));
}

static void elu_grad(sl_grad_ctx *ctx, const sl_node *op, const sl_output *dy, sl_output *dx)
{
    dx[0] = BIN("EluGrad", dy[0], Y(0));
}

static void softplus_grad(sl_grad_ctx *ctx, const sl_node *op, const sl_output *dy, sl_output *dx)
{
    dx[0] = BIN("SoftplusGrad", dy[0], X(0));
}

static void bias_add_grad(sl_grad_ctx *ctx, const sl_node *op, const sl_output *dy, sl_output *dx)
{
    dx[0] = dy[0];
    sl_node_builder *nb = sl__b_begin(B, "BiasAddGrad");
    sl__b_in(B, nb, dy[0]);
    copy_attrs(op, nb, (const char *const[]){"data_format", NULL});
    dx[1] = sl__b_end(B, nb);
}

static sl_output last_axis_sum(sl_grad_ctx *ctx, sl_output x)
{
    return sl__b_reduce(B, "Sum", x, sl__b_const_i32(B, (const int32_t[]){-1}, 1), true);
}

static void softmax_grad(sl_grad_ctx *ctx, const sl_node *op, const sl_output *dy, sl_output *dx)
{
    /* (g - sum(g * y)) * y */
    sl_output y = Y(0);
    dx[0] = BIN("Mul", BIN("Sub", dy[0], last_axis_sum(ctx, BIN("Mul", dy[0], y))), y);
}

static void log_softmax_grad(sl_grad_ctx *ctx, const sl_node *op, const sl_output *dy, sl_output *dx)
{
    /* g - sum(g) * exp(y) */
    dx[0] = BIN("Sub", dy[0], BIN("Mul", last_axis_sum(ctx, dy[0]), UN("Exp", Y(0))));
}

static sl_output expand_last(sl_grad_ctx *ctx, sl_output g)
{
    return BIN("ExpandDims", g, sl__b_scalar_i32(B, -1));
}

static void xent_grad(sl_grad_ctx *ctx, const sl_node *op, const sl_output *dy, sl_output *dx)
{
    bool sparse = !strcmp(sl_node_op_type(op), "SparseSoftmaxCrossEntropyWithLogits");
    sl_output g = sl__has(dy[0]) ? expand_last(ctx, dy[0]) : SL_NO_OUTPUT;
    sl_output d = sl__has(g) ? BIN("Mul", g, Y(1)) : SL_NO_OUTPUT;
    if (sl__has(dy[1])) {
        /* the backprop output's own gradient (second order) */
        sl_output sm = UN("Softmax", X(0));
        sl_output t = BIN("Mul", BIN("Sub", dy[1], last_axis_sum(ctx, BIN("Mul", dy[1], sm))), sm);
        d = sl__has(d) ? BIN("AddV2", d, t) : t;
    }
    dx[0] = d;
    if (!sparse && sl__has(g))
        dx[1] = BIN("Mul", g, UN("Neg", UN("LogSoftmax", X(0))));
}

static const char *const conv_attrs[] = {"strides", "padding", "data_format", "dilations",
                                         "explicit_paddings", "use_cudnn_on_gpu", NULL};

static void conv2d_grad(sl_grad_ctx *ctx, const sl_node *op, const sl_output *dy, sl_output *dx)
{
    sl_node_builder *nb = sl__b_begin(B, "Conv2DBackpropInput");
    sl__b_in(B, nb, sl__b_shape(B, X(0)));
    sl__b_in(B, nb, X(1));
    sl__b_in(B, nb, dy[0]);
    copy_attrs(op, nb, conv_attrs);
    dx[0] = sl__b_end(B, nb);
    nb = sl__b_begin(B, "Conv2DBackpropFilter");
    sl__b_in(B, nb, X(0));
    sl__b_in(B, nb, sl__b_shape(B, X(1)));
    sl__b_in(B, nb, dy[0]);
    copy_attrs(op, nb, conv_attrs);
    dx[1] = sl__b_end(B, nb);
}

static const char *const pool_attrs[] = {"ksize", "strides", "padding", "data_format", NULL};

static void max_pool_grad(sl_grad_ctx *ctx, const sl_node *op, const sl_output *dy, sl_output *dx)
{
    sl_node_builder *nb = sl__b_begin(B, "MaxPoolGrad");
    sl__b_in(B, nb, X(0));
    sl__b_in(B, nb, Y(0));
    sl__b_in(B, nb, dy[0]);
    copy_attrs(op, nb, pool_attrs);
    dx[0] = sl__b_end(B, nb);
}

static void avg_pool_grad(sl_grad_ctx *ctx, const sl_node *op, const sl_output *dy, sl_output *dx)
{
    sl_node_builder *nb = sl__b_begin(B, "AvgPoolGrad");
    sl__b_in(B, nb, sl__b_shape(B, X(0)));
    sl__b_in(B, nb, dy[0]);
    copy_attrs(op, nb, pool_attrs);
    dx[0] = sl__b_end(B, nb);
}

static const sl_grad_entry nn_grads[] = {
    {"Relu", relu_grad, 0},
    {"Relu6", relu6_grad, 0},
    {"Elu", elu_grad, 0},
    {"Softplus", softplus_grad, 0},
    {"BiasAdd", bias_add_grad, 0},
    {"Softmax", softmax_grad, 0},
    {"LogSoftmax", log_softmax_grad, 0},
    {"SoftmaxCrossEntropyWithLogits", xent_grad, SL_GRAD_ALLOW_MISSING},
    {"SparseSoftmaxCrossEntropyWithLogits", xent_grad, SL_GRAD_ALLOW_MISSING},
    {"Conv2D", conv2d_grad, 0},
    {"MaxPool", max_pool_grad, 0},
    {"AvgPool", avg_pool_grad, 0},
};

void sl__grads_register_nn(void)
{
    sl__grad_register_table(nn_grads, (int)(sizeof(nn_grads) / sizeof(nn_grads[0])));
}
