/* Neural-network op definitions: activations, bias, softmax and losses,
 * convolution and pooling (NHWC). */
#include "config.h"

#include <string.h>

#include "op-registry-private.h"
#include "shape-fns.h"
#include "sluice/graph.h"
#include "type-sets.h"

static bool is_nchw(const sl_node *n)
{
    const char *f;
    size_t len;
    return sl_node_attr_string(n, "data_format", &f, &len) && len == 4 && !memcmp(f, "NCHW", 4);
}

static sl_code bias_add_shape(sl_shape_ctx *ctx)
{
    const sl_shape *x = sl_shape_ctx_input(ctx, 0), *b = sl_shape_ctx_input(ctx, 1);
    if (sl__shape_require_rank(ctx, 1, 1) != SL_OK)
        return SL_INVALID_ARGUMENT;
    if (x->rank >= 0 && x->rank < 2)
        return sl_shape_ctx_error(ctx, "value must have rank >= 2, has %d", x->rank);
    sl_shape out = *x;
    if (x->rank >= 2 && b->rank == 1) {
        int c = is_nchw(sl_shape_ctx_node(ctx)) ? 1 : x->rank - 1;
        if (x->dims[c] >= 0 && b->dims[0] >= 0 && x->dims[c] != b->dims[0])
            return sl_shape_ctx_error(ctx, "bias has %lld entries but value has %lld channels",
                                      (long long)b->dims[0], (long long)x->dims[c]);
        if (out.dims[c] < 0)
            out.dims[c] = b->dims[0];
    }
    sl_shape_ctx_set_output(ctx, 0, &out);
    return SL_OK;
}

static sl_code bias_add_grad_shape(sl_shape_ctx *ctx)
{
    const sl_shape *x = sl_shape_ctx_input(ctx, 0);
    int64_t c = SL_DIM_UNKNOWN;
    if (x->rank >= 2)
        c = x->dims[is_nchw(sl_shape_ctx_node(ctx)) ? 1 : x->rank - 1];
    sl_shape out = sl_shape_vector(c);
    sl_shape_ctx_set_output(ctx, 0, &out);
    return SL_OK;
}

static sl_code softmax_xent_shape(sl_shape_ctx *ctx)
{
    const sl_shape *f = sl_shape_ctx_input(ctx, 0), *l = sl_shape_ctx_input(ctx, 1);
    sl_shape both;
    sl_status *st = sl_status_new();
    sl_code c = sl_shape_broadcast(f, l, &both, st);
    if (c != SL_OK) {
        sl_shape_ctx_error(ctx, "features and labels: %s", sl_status_message(st));
        sl_status_free(st);
        return c;
    }
    sl_status_free(st);
    if (both.rank >= 0 && both.rank != 2)
        return sl_shape_ctx_error(ctx, "features and labels must be matrices");
    sl_shape loss = sl_shape_vector(both.rank == 2 ? both.dims[0] : SL_DIM_UNKNOWN);
    sl_shape_ctx_set_output(ctx, 0, &loss);
    sl_shape_ctx_set_output(ctx, 1, &both);
    return SL_OK;
}

static sl_code sparse_xent_shape(sl_shape_ctx *ctx)
{
    const sl_shape *f = sl_shape_ctx_input(ctx, 0), *l = sl_shape_ctx_input(ctx, 1);
    if (sl__shape_require_rank(ctx, 0, 2) || sl__shape_require_rank(ctx, 1, 1))
        return SL_INVALID_ARGUMENT;
    int64_t b = f->rank == 2 ? f->dims[0] : SL_DIM_UNKNOWN;
    if (l->rank == 1 && l->dims[0] >= 0) {
        if (b >= 0 && b != l->dims[0])
            return sl_shape_ctx_error(ctx, "features have %lld rows but labels %lld", (long long)b,
                                      (long long)l->dims[0]);
        b = l->dims[0];
    }
    sl_shape loss = sl_shape_vector(b);
    sl_shape back = sl_shape_matrix(b, f->rank == 2 ? f->dims[1] : SL_DIM_UNKNOWN);
    sl_shape_ctx_set_output(ctx, 0, &loss);
    sl_shape_ctx_set_output(ctx, 1, &back);
    return SL_OK;
}

/* Output size of one spatial dimension, as TF computes it. */
static int64_t window_out(int64_t in, int64_t k, int64_t stride, int64_t dilation, bool same)
{
    if (in < 0 || k < 0)
        return SL_DIM_UNKNOWN;
    int64_t eff = (k - 1) * dilation + 1;
    if (same)
        return (in + stride - 1) / stride;
    return in >= eff ? (in - eff) / stride + 1 : 0;
}

static bool padding_same(sl_shape_ctx *ctx)
{
    const char *p;
    size_t len;
    return sl_node_attr_string(sl_shape_ctx_node(ctx), "padding", &p, &len) && len == 4 && !memcmp(p, "SAME", 4);
}

static sl_code conv2d_shape(sl_shape_ctx *ctx)
{
    const sl_node *n = sl_shape_ctx_node(ctx);
    if (sl__shape_require_rank(ctx, 0, 4) || sl__shape_require_rank(ctx, 1, 4))
        return SL_INVALID_ARGUMENT;
    const sl_shape *x = sl_shape_ctx_input(ctx, 0), *f = sl_shape_ctx_input(ctx, 1);
    const int64_t *strides, *dil;
    int ns = 0, nd = 0;
    if (!sl_node_attr_int_list(n, "strides", &strides, &ns) || ns != 4)
        return sl_shape_ctx_error(ctx, "strides must have 4 entries");
    if (!sl_node_attr_int_list(n, "dilations", &dil, &nd) || nd != 4)
        dil = (const int64_t[]){1, 1, 1, 1};
    bool nchw = is_nchw(n);
    int h = nchw ? 2 : 1, w = nchw ? 3 : 2, c = nchw ? 1 : 3;
    if (x->rank < 0)
        return SL_OK;
    if (f->rank == 4 && x->dims[c] >= 0 && f->dims[2] >= 0 && x->dims[c] % f->dims[2])
        return sl_shape_ctx_error(ctx, "input has %lld channels, not a multiple of the filter's %lld",
                                  (long long)x->dims[c], (long long)f->dims[2]);
    bool same = padding_same(ctx);
    sl_shape out = {.rank = 4};
    out.dims[0] = x->dims[0];
    out.dims[h] = window_out(x->dims[h], f->rank == 4 ? f->dims[0] : -1, strides[h], dil[h], same);
    out.dims[w] = window_out(x->dims[w], f->rank == 4 ? f->dims[1] : -1, strides[w], dil[w], same);
    out.dims[c] = f->rank == 4 ? f->dims[3] : SL_DIM_UNKNOWN;
    sl_shape_ctx_set_output(ctx, 0, &out);
    return SL_OK;
}

/* _FusedConv2D: the convolution's shape, pooled when pool_ksize is set. */
static sl_code fused_conv2d_shape(sl_shape_ctx *ctx)
{
    const sl_node *n = sl_shape_ctx_node(ctx);
    const int64_t *k;
    int nk = 0;
    if (!sl_node_attr_int_list(n, "pool_ksize", &k, &nk) || nk == 0)
        return conv2d_shape(ctx);
    if (sl__shape_require_rank(ctx, 0, 4) || sl__shape_require_rank(ctx, 1, 4))
        return SL_INVALID_ARGUMENT;
    sl_shape out = {.rank = 4, .dims = {-1, -1, -1, -1}};
    const sl_shape *x = sl_shape_ctx_input(ctx, 0), *f = sl_shape_ctx_input(ctx, 1);
    if (x->rank == 4)
        out.dims[0] = x->dims[0];
    if (f->rank == 4)
        out.dims[3] = f->dims[3];
    sl_shape_ctx_set_output(ctx, 0, &out);
    return SL_OK;
}

static sl_code pool_shape(sl_shape_ctx *ctx)
{
    const sl_node *n = sl_shape_ctx_node(ctx);
    if (sl__shape_require_rank(ctx, 0, 4))
        return SL_INVALID_ARGUMENT;
    const sl_shape *x = sl_shape_ctx_input(ctx, 0);
    const int64_t *k, *s;
    int nk = 0, ns = 0;
    if (!sl_node_attr_int_list(n, "ksize", &k, &nk) || nk != 4 ||
        !sl_node_attr_int_list(n, "strides", &s, &ns) || ns != 4)
        return sl_shape_ctx_error(ctx, "ksize and strides must have 4 entries");
    if (x->rank < 0)
        return SL_OK;
    bool same = padding_same(ctx);
    sl_shape out = {.rank = 4};
    for (int i = 0; i < 4; i++)
        out.dims[i] = window_out(x->dims[i], k[i], s[i], 1, same);
    sl_shape_ctx_set_output(ctx, 0, &out);
    return SL_OK;
}

static sl_code input_sizes_shape(sl_shape_ctx *ctx)
{
    return sl__shape_from_input0_value(ctx);
}

static sl_code filter_sizes_shape(sl_shape_ctx *ctx)
{
    sl_shape s;
    if (sl_shape_ctx_input_as_shape(ctx, 1, &s) != SL_OK)
        return SL_INVALID_ARGUMENT;
    sl_shape_ctx_set_output(ctx, 0, &s);
    return SL_OK;
}

#define ACT(op, in, out, doc)                                                                  \
    {.name = op, .inputs = {in ": T"}, .outputs = {out ": T"}, .attrs = {"T: " SL_REAL_NUMBER_TYPES}, \
     .shape_fn = sl__shape_unchanged, .summary = doc}
#define ACT_GRAD(op, doc)                                                                      \
    {.name = op, .inputs = {"gradients: T", "features: T"}, .outputs = {"backprops: T"},       \
     .attrs = {"T: " SL_REAL_NUMBER_TYPES}, .shape_fn = sl__shape_unchanged, .summary = doc}

#define CONV_ATTRS                                                                             \
    "T: {half, bfloat16, float, double, int32}", "strides: list(int)",                          \
        "use_cudnn_on_gpu: bool = true", "padding: {'SAME', 'VALID', 'EXPLICIT'}",             \
        "explicit_paddings: list(int) = []", "data_format: {'NHWC', 'NCHW'} = 'NHWC'",         \
        "dilations: list(int) = [1, 1, 1, 1]"
#define POOL_ATTRS                                                                             \
    "ksize: list(int) >= 4", "strides: list(int) >= 4", "padding: {'SAME', 'VALID'}",          \
        "data_format: {'NHWC', 'NCHW'} = 'NHWC'"

static const sl_op_spec nn_ops[] = {
    ACT("Relu", "features", "activations", "max(features, 0)"),
    ACT("Relu6", "features", "activations", "min(max(features, 0), 6)"),
    ACT("Elu", "features", "activations", "exp(features) - 1 if < 0, else features"),
    ACT("Softplus", "features", "activations", "log(exp(features) + 1)"),
    ACT_GRAD("ReluGrad", "gradient of Relu"),
    ACT_GRAD("Relu6Grad", "gradient of Relu6"),
    ACT_GRAD("SoftplusGrad", "gradient of Softplus"),
    {.name = "EluGrad", .inputs = {"gradients: T", "outputs: T"}, .outputs = {"backprops: T"},
     .attrs = {"T: " SL_FLOAT_TYPES}, .shape_fn = sl__shape_unchanged, .summary = "gradient of Elu"},
    {.name = "SigmoidGrad", .inputs = {"y: T", "dy: T"}, .outputs = {"z: T"},
     .attrs = {"T: " SL_UNARY_FLOAT_COMPLEX}, .shape_fn = sl__shape_unchanged, .summary = "gradient of Sigmoid"},
    {.name = "TanhGrad", .inputs = {"y: T", "dy: T"}, .outputs = {"z: T"},
     .attrs = {"T: " SL_UNARY_FLOAT_COMPLEX}, .shape_fn = sl__shape_unchanged, .summary = "gradient of Tanh"},
    {.name = "BiasAdd", .inputs = {"value: T", "bias: T"}, .outputs = {"output: T"},
     .attrs = {"T: " SL_NUMBER_TYPES, "data_format: {'NHWC', 'NCHW'} = 'NHWC'"},
     .shape_fn = bias_add_shape, .summary = "adds a bias vector to the channel dimension"},
    {.name = "BiasAddGrad", .inputs = {"out_backprop: T"}, .outputs = {"output: T"},
     .attrs = {"T: " SL_NUMBER_TYPES, "data_format: {'NHWC', 'NCHW'} = 'NHWC'"},
     .shape_fn = bias_add_grad_shape, .summary = "gradient of BiasAdd for the bias"},
    {.name = "Softmax", .inputs = {"logits: T"}, .outputs = {"softmax: T"}, .attrs = {"T: " SL_FLOAT_TYPES},
     .shape_fn = sl__shape_unchanged, .summary = "softmax over the last dimension"},
    {.name = "LogSoftmax", .inputs = {"logits: T"}, .outputs = {"logsoftmax: T"},
     .attrs = {"T: " SL_FLOAT_TYPES}, .shape_fn = sl__shape_unchanged,
     .summary = "log of softmax over the last dimension"},
    {.name = "SoftmaxCrossEntropyWithLogits", .inputs = {"features: T", "labels: T"},
     .outputs = {"loss: T", "backprop: T"}, .attrs = {"T: " SL_FLOAT_TYPES},
     .shape_fn = softmax_xent_shape, .summary = "cross-entropy of softmax(features) against labels"},
    {.name = "SparseSoftmaxCrossEntropyWithLogits", .inputs = {"features: T", "labels: Tlabels"},
     .outputs = {"loss: T", "backprop: T"},
     .attrs = {"T: " SL_FLOAT_TYPES, "Tlabels: {int32, int64} = DT_INT64"},
     .shape_fn = sparse_xent_shape, .summary = "cross-entropy of softmax(features) against class indices"},
    {.name = "Conv2D", .inputs = {"input: T", "filter: T"}, .outputs = {"output: T"},
     .attrs = {CONV_ATTRS}, .shape_fn = conv2d_shape, .summary = "2-D convolution"},
    {.name = "_FusedConv2D", .inputs = {"input: T", "filter: T", "bias: T"}, .outputs = {"output: T"},
     .attrs = {CONV_ATTRS, "relu: bool = false", "pool_ksize: list(int) = []", "pool_strides: list(int) = []",
               "pool_padding: {'SAME', 'VALID'} = 'VALID'"},
     .shape_fn = fused_conv2d_shape,
     .summary = "Conv2D, BiasAdd, optionally Relu and then MaxPool (pool_ksize set) in one pass (made by the "
                "runtime's fusion pass, NHWC)"},
    {.name = "Conv2DBackpropInput", .inputs = {"input_sizes: int32", "filter: T", "out_backprop: T"},
     .outputs = {"output: T"}, .attrs = {CONV_ATTRS}, .shape_fn = input_sizes_shape,
     .summary = "gradient of Conv2D for its input"},
    {.name = "Conv2DBackpropFilter", .inputs = {"input: T", "filter_sizes: int32", "out_backprop: T"},
     .outputs = {"output: T"}, .attrs = {CONV_ATTRS}, .shape_fn = filter_sizes_shape,
     .summary = "gradient of Conv2D for its filter"},
    {.name = "MaxPool", .inputs = {"input: T"}, .outputs = {"output: T"},
     .attrs = {"T: {half, bfloat16, float, double, int32, int64, uint8, int16, int8, uint16} = DT_FLOAT",
               POOL_ATTRS, "explicit_paddings: list(int) = []"},
     .shape_fn = pool_shape, .summary = "max over windows"},
    {.name = "AvgPool", .inputs = {"value: T"}, .outputs = {"output: T"},
     .attrs = {POOL_ATTRS, "T: " SL_FLOAT_TYPES}, .shape_fn = pool_shape, .summary = "mean over windows"},
    {.name = "MaxPoolGrad", .inputs = {"orig_input: T", "orig_output: T", "grad: T"},
     .outputs = {"output: T"}, .attrs = {POOL_ATTRS, "explicit_paddings: list(int) = []",
                                         "T: " SL_REAL_NUMBER_TYPES " = DT_FLOAT"},
     .shape_fn = sl__shape_unchanged, .summary = "gradient of MaxPool"},
    {.name = "AvgPoolGrad", .inputs = {"orig_input_shape: int32", "grad: T"}, .outputs = {"output: T"},
     .attrs = {POOL_ATTRS, "T: " SL_FLOAT_TYPES}, .shape_fn = input_sizes_shape,
     .summary = "gradient of AvgPool"},
};

void sl__ops_register_nn(void);
void sl__ops_register_nn(void)
{
    sl__op_register_table(nn_ops, SL_COUNTOF(nn_ops));
}
