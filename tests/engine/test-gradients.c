/* Structural tests of symbolic gradients: the walk (sums over consumers,
 * unreachable paths, StopGradient, PreventGradient, control flow, missing
 * gradient functions, all-or-nothing failure, name scopes) and that the
 * gradient function of every op builds a gradient of the input's shape. */
#include "graph-helpers.h"

#include <stdio.h>

#include "sluice/alloc.h"
#include "sluice/gradients.h"

static int count_ops(sl_graph *g, const char *op)
{
    int c = 0;
    for (int i = 0; i < sl_graph_num_nodes(g); i++)
        c += !strcmp(sl_node_op_type(sl_graph_node(g, i)), op);
    return c;
}

static void assert_same_shape(sl_output a, sl_output b)
{
    char sa[SL_SHAPE_STRING_MAX], sb[SL_SHAPE_STRING_MAX];
    const sl_shape *x = sl_node_output_shape(a.node, a.index), *y = sl_node_output_shape(b.node, b.index);
    if (!sl_shape_is_compatible(x, y))
        fail_msg("shape %s vs %s (%s)", sl_shape_to_string(x, sa, sizeof(sa)),
                 sl_shape_to_string(y, sb, sizeof(sb)), sl_node_name(a.node));
}

static void test_gradients_mlp_structure(void **state)
{
    (void)state;
    sl_status *st = sl_status_new();
    sl_graph *g = sl_graph_new(st);
    sl_output x = th_ph(g, "x", SL_DTYPE_FLOAT, TH_DIMS(-1, 4));
    sl_output labels = th_ph(g, "labels", SL_DTYPE_INT32, TH_DIMS(-1));
    sl_output w1 = th_ph(g, "w1", SL_DTYPE_FLOAT, TH_DIMS(4, 3));
    sl_output b1 = th_ph(g, "b1", SL_DTYPE_FLOAT, TH_DIMS(3));
    sl_output w2 = th_ph(g, "w2", SL_DTYPE_FLOAT, TH_DIMS(3, 2));
    sl_graph_push_scope(g, "dense", st);
    sl_output h = TH_OP(g, "Relu", TH_OP(g, "BiasAdd", TH_OP(g, "MatMul", x, w1), b1));
    sl_graph_pop_scope(g);
    sl_output logits = TH_OP(g, "MatMul", h, w2);
    sl_node_builder *b = sl_node_builder_new(g, "SparseSoftmaxCrossEntropyWithLogits", "xent");
    sl_node_builder_add_input(b, logits);
    sl_node_builder_add_input(b, labels);
    sl_output xent = {th_finish(b), 0};
    sl_output loss = TH_OP(g, "Mean", xent, th_const_i32(g, 1, (int32_t[]){0}));
    int before = sl_graph_num_nodes(g);

    sl_output xs[3] = {w1, b1, w2}, dxs[3];
    assert_int_equal(sl_add_gradients(g, &loss, 1, xs, 3, NULL, dxs, st), SL_OK);
    for (int i = 0; i < 3; i++) {
        assert_non_null(dxs[i].node);
        assert_same_shape(dxs[i], xs[i]);
        assert_true(!strncmp(sl_node_name(dxs[i].node), "gradients/", 10));
    }
    assert_true(sl_graph_num_nodes(g) > before);
    assert_string_equal(sl_node_op_type(dxs[1].node), "BiasAddGrad");
    assert_non_null(strstr(sl_node_name(dxs[1].node), "gradients/dense/BiasAdd_grad/"));
    assert_int_equal(count_ops(g, "ReluGrad"), 1);
    /* Mean over an unknown batch: the count comes from Size at run time */
    assert_true(count_ops(g, "Size") >= 1);

    /* a second call gets its own root scope */
    sl_output dx2;
    assert_int_equal(sl_add_gradients(g, &loss, 1, &w2, 1, NULL, &dx2, st), SL_OK);
    assert_true(!strncmp(sl_node_name(dx2.node), "gradients_1/", 12));
    sl_graph_free(g);
    sl_status_free(st);
}

static void test_gradients_sum_over_consumers(void **state)
{
    (void)state;
    sl_status *st = sl_status_new();
    sl_graph *g = sl_graph_new(st);
    sl_output x = th_ph(g, "x", SL_DTYPE_FLOAT, TH_DIMS(2, 2));
    sl_output a = TH_OP(g, "Square", x), c = TH_OP(g, "Exp", x), d = TH_OP(g, "Neg", x);
    sl_output y = TH_OP(g, "AddV2", TH_OP(g, "Mul", a, c), d);
    sl_output dx;
    assert_int_equal(sl_add_gradients(g, &y, 1, &x, 1, NULL, &dx, st), SL_OK);
    assert_string_equal(sl_node_op_type(dx.node), "AddN");
    assert_int_equal(sl_node_num_inputs(dx.node), 3);
    assert_same_shape(dx, x);
    sl_graph_free(g);
    sl_status_free(st);
}

static void test_gradients_unreachable_and_stop(void **state)
{
    (void)state;
    sl_status *st = sl_status_new();
    sl_graph *g = sl_graph_new(st);
    sl_output x = th_ph(g, "x", SL_DTYPE_FLOAT, TH_DIMS(3));
    sl_output z = th_ph(g, "z", SL_DTYPE_FLOAT, TH_DIMS(3));
    sl_output s = TH_OP(g, "StopGradient", z);
    sl_output y = TH_OP(g, "Mul", TH_OP(g, "Tanh", x), s);
    sl_output other = th_ph(g, "other", SL_DTYPE_FLOAT, TH_DIMS(3));
    sl_output xs[3] = {x, z, other}, dxs[3];
    assert_int_equal(sl_add_gradients(g, &y, 1, xs, 3, NULL, dxs, st), SL_OK);
    assert_non_null(dxs[0].node);
    assert_null(dxs[1].node);   /* through StopGradient */
    assert_null(dxs[2].node);   /* not connected */
    assert_int_equal(count_ops(g, "TanhGrad"), 1);
    sl_graph_free(g);
    sl_status_free(st);
}

static void test_gradients_errors_leave_graph_unchanged(void **state)
{
    (void)state;
    sl_status *st = sl_status_new();
    sl_graph *g = sl_graph_new(st);
    sl_output x = th_ph(g, "x", SL_DTYPE_FLOAT, TH_DIMS(3));
    sl_node_builder *b = sl_node_builder_new(g, "PreventGradient", "guard");
    sl_node_builder_add_input(b, x);
    sl_node_builder_set_attr_string(b, "message", "no second derivative", 20);
    sl_output p = {th_finish(b), 0};
    sl_output y = TH_OP(g, "Square", TH_OP(g, "Exp", p));
    int n = sl_graph_num_nodes(g);
    sl_output dx = {(sl_node *)1, 7};
    assert_int_equal(sl_add_gradients(g, &y, 1, &x, 1, NULL, &dx, st), SL_INVALID_ARGUMENT);
    assert_non_null(strstr(sl_status_message(st), "'guard'"));
    assert_non_null(strstr(sl_status_message(st), "no second derivative"));
    assert_int_equal(sl_graph_num_nodes(g), n);
    assert_int_equal(dx.index, 7);   /* untouched */

    /* an op with no gradient function */
    sl_output q = th_ph(g, "q", SL_DTYPE_FLOAT, TH_DIMS(3));
    sl_output r = TH_OP(g, "Relu6Grad", q, q);
    n = sl_graph_num_nodes(g);
    assert_int_equal(sl_add_gradients(g, &r, 1, &q, 1, NULL, &dx, st), SL_NOT_FOUND);
    assert_non_null(strstr(sl_status_message(st), "no gradient defined for op 'Relu6Grad'"));
    assert_int_equal(sl_graph_num_nodes(g), n);

    /* control flow */
    sl_output pred = th_ph(g, "pred", SL_DTYPE_BOOL, 0, NULL);
    b = sl_node_builder_new(g, "Switch", "sw");
    sl_node_builder_add_input(b, q);
    sl_node_builder_add_input(b, pred);
    sl_node *sw = th_finish(b);
    sl_output y2 = TH_OP(g, "Square", ((sl_output){sw, 1}));
    n = sl_graph_num_nodes(g);
    /* a Switch of a cond differentiates: Merge of the taken side's gradient
     * and zeros (test-gradients-control-flow checks the numbers) */
    assert_int_equal(sl_add_gradients(g, &y2, 1, &q, 1, NULL, &dx, st), SL_OK);
    assert_string_equal(sl_node_op_type(dx.node), "Merge");
    /* a RefSwitch has no gradient: an error naming it, the graph unchanged */
    sl_node_builder *vb = sl_node_builder_new(g, "VariableV2", "v");
    sl_node_builder_set_attr_type(vb, "dtype", SL_DTYPE_FLOAT);
    sl_shape s3 = sl_shape_vector(3);
    sl_node_builder_set_attr_shape(vb, "shape", &s3);
    sl_output v = {th_finish(vb), 0};
    b = sl_node_builder_new(g, "RefSwitch", "rsw");
    sl_node_builder_add_input(b, v);
    sl_node_builder_add_input(b, pred);
    sl_node *rsw = th_finish(b);
    sl_output y3 = TH_OP(g, "Square", ((sl_output){rsw, 1}));
    n = sl_graph_num_nodes(g);
    assert_int_equal(sl_add_gradients(g, &y3, 1, &v, 1, NULL, &dx, st), SL_UNIMPLEMENTED);
    assert_non_null(strstr(sl_status_message(st), "node 'rsw' (RefSwitch)"));
    assert_int_equal(sl_graph_num_nodes(g), n);

    /* bad arguments */
    assert_int_equal(sl_add_gradients(g, &y2, 0, &q, 1, NULL, &dx, st), SL_INVALID_ARGUMENT);
    sl_graph_free(g);
    sl_status_free(st);
}

static void test_gradients_broadcast_dynamic_and_static(void **state)
{
    (void)state;
    sl_status *st = sl_status_new();
    sl_graph *g = sl_graph_new(st);
    /* unknown batch: BroadcastGradientArgs at run time */
    sl_output a = th_ph(g, "a", SL_DTYPE_FLOAT, TH_DIMS(-1, 3));
    sl_output v = th_ph(g, "v", SL_DTYPE_FLOAT, TH_DIMS(3));
    sl_output y = TH_OP(g, "Mul", a, v);
    sl_output xs[2] = {a, v}, dxs[2];
    assert_int_equal(sl_add_gradients(g, &y, 1, xs, 2, NULL, dxs, st), SL_OK);
    assert_int_equal(count_ops(g, "BroadcastGradientArgs"), 1);
    assert_same_shape(dxs[1], v);
    /* known shapes: constant axes, no BroadcastGradientArgs */
    sl_output c = th_ph(g, "c", SL_DTYPE_FLOAT, TH_DIMS(4, 1, 3));
    sl_output d = th_ph(g, "d", SL_DTYPE_FLOAT, TH_DIMS(5, 1));
    sl_output y2 = TH_OP(g, "Sub", c, d);
    sl_output xs2[2] = {c, d};
    assert_int_equal(sl_add_gradients(g, &y2, 1, xs2, 2, NULL, dxs, st), SL_OK);
    assert_int_equal(count_ops(g, "BroadcastGradientArgs"), 1);
    assert_same_shape(dxs[0], c);
    assert_same_shape(dxs[1], d);
    assert_true(sl_shape_is_fully_defined(sl_node_output_shape(dxs[1].node, 0)));
    sl_graph_free(g);
    sl_status_free(st);
}

/* Each op family: build op on placeholders of fixed shapes, take the
 * gradient for every float input, check it builds with the input's shape. */
typedef sl_output (*build_fn)(sl_graph *g, sl_output *ins, int *nin);

static sl_output f2(sl_graph *g, const char *op, sl_output *ins, int *nin, int64_t r0, int64_t r1)
{
    ins[0] = th_ph(g, "p0", SL_DTYPE_FLOAT, TH_DIMS(r0, 3));
    ins[1] = th_ph(g, "p1", SL_DTYPE_FLOAT, TH_DIMS(r1, 3));
    *nin = 2;
    return TH_OP(g, op, ins[0], ins[1]);
}

#define BIN_CASE(name, op)                                                                    \
    static sl_output name(sl_graph *g, sl_output *ins, int *nin) { return f2(g, op, ins, nin, 2, 1); }
BIN_CASE(b_add, "Add")
BIN_CASE(b_addv2, "AddV2")
BIN_CASE(b_sub, "Sub")
BIN_CASE(b_mul, "Mul")
BIN_CASE(b_realdiv, "RealDiv")
BIN_CASE(b_div, "Div")
BIN_CASE(b_max, "Maximum")
BIN_CASE(b_min, "Minimum")
BIN_CASE(b_pow, "Pow")
BIN_CASE(b_sqdiff, "SquaredDifference")

#define UN_CASE(name, op)                                                                     \
    static sl_output name(sl_graph *g, sl_output *ins, int *nin)                              \
    {                                                                                         \
        ins[0] = th_ph(g, "p0", SL_DTYPE_FLOAT, TH_DIMS(2, 3));                              \
        *nin = 1;                                                                             \
        return TH_OP(g, op, ins[0]);                                                         \
    }
UN_CASE(u_neg, "Neg")
UN_CASE(u_square, "Square")
UN_CASE(u_sqrt, "Sqrt")
UN_CASE(u_rsqrt, "Rsqrt")
UN_CASE(u_exp, "Exp")
UN_CASE(u_log, "Log")
UN_CASE(u_log1p, "Log1p")
UN_CASE(u_recip, "Reciprocal")
UN_CASE(u_tanh, "Tanh")
UN_CASE(u_sigmoid, "Sigmoid")
UN_CASE(u_relu, "Relu")
UN_CASE(u_relu6, "Relu6")
UN_CASE(u_elu, "Elu")
UN_CASE(u_softplus, "Softplus")
UN_CASE(u_abs, "Abs")
UN_CASE(u_sin, "Sin")
UN_CASE(u_cos, "Cos")
UN_CASE(u_identity, "Identity")
UN_CASE(u_softmax, "Softmax")
UN_CASE(u_logsoftmax, "LogSoftmax")

static sl_output c_matmul(sl_graph *g, sl_output *ins, int *nin)
{
    ins[0] = th_ph(g, "a", SL_DTYPE_FLOAT, TH_DIMS(3, 2));
    ins[1] = th_ph(g, "b", SL_DTYPE_FLOAT, TH_DIMS(4, 3));
    *nin = 2;
    sl_node_builder *b = sl_node_builder_new(g, "MatMul", NULL);
    sl_node_builder_add_input(b, ins[0]);
    sl_node_builder_add_input(b, ins[1]);
    sl_node_builder_set_attr_bool(b, "transpose_a", true);
    sl_node_builder_set_attr_bool(b, "transpose_b", true);
    return (sl_output){th_finish(b), 0};
}

static sl_output c_bmm(sl_graph *g, sl_output *ins, int *nin)
{
    ins[0] = th_ph(g, "a", SL_DTYPE_FLOAT, TH_DIMS(5, 2, 3));
    ins[1] = th_ph(g, "b", SL_DTYPE_FLOAT, TH_DIMS(1, 3, 4));
    *nin = 2;
    return TH_OP(g, "BatchMatMulV2", ins[0], ins[1]);
}

#define RED_CASE(name, op)                                                                    \
    static sl_output name(sl_graph *g, sl_output *ins, int *nin)                              \
    {                                                                                         \
        ins[0] = th_ph(g, "p0", SL_DTYPE_FLOAT, TH_DIMS(-1, 3, 4));                          \
        *nin = 1;                                                                             \
        return TH_OP(g, op, ins[0], th_const_i32(g, 2, (int32_t[]){0, -1}));                  \
    }
RED_CASE(r_sum, "Sum")
RED_CASE(r_mean, "Mean")
RED_CASE(r_max, "Max")
RED_CASE(r_min, "Min")
RED_CASE(r_prod, "Prod")

static sl_output c_reshape(sl_graph *g, sl_output *ins, int *nin)
{
    ins[0] = th_ph(g, "p0", SL_DTYPE_FLOAT, TH_DIMS(2, 6));
    *nin = 1;
    sl_output r = TH_OP(g, "Reshape", ins[0], th_const_i32(g, 3, (int32_t[]){3, 2, 2}));
    sl_output e = TH_OP(g, "ExpandDims", r, th_scalar_i32(g, 1));
    return TH_OP(g, "Squeeze", e);
}

static sl_output c_transpose(sl_graph *g, sl_output *ins, int *nin)
{
    ins[0] = th_ph(g, "p0", SL_DTYPE_FLOAT, TH_DIMS(2, 3, 4));
    *nin = 1;
    return TH_OP(g, "Transpose", ins[0], th_const_i32(g, 3, (int32_t[]){2, 0, 1}));
}

static sl_output c_concat(sl_graph *g, sl_output *ins, int *nin)
{
    ins[0] = th_ph(g, "p0", SL_DTYPE_FLOAT, TH_DIMS(-1, 3));
    ins[1] = th_ph(g, "p1", SL_DTYPE_FLOAT, TH_DIMS(-1, 2));
    *nin = 2;
    sl_node_builder *b = sl_node_builder_new(g, "ConcatV2", NULL);
    sl_node_builder_add_input_list(b, ins, 2);
    sl_node_builder_add_input(b, th_scalar_i32(g, 1));
    return (sl_output){th_finish(b), 0};
}

static sl_output c_split(sl_graph *g, sl_output *ins, int *nin)
{
    ins[0] = th_ph(g, "p0", SL_DTYPE_FLOAT, TH_DIMS(4, 6));
    *nin = 1;
    sl_node_builder *b = sl_node_builder_new(g, "Split", NULL);
    sl_node_builder_add_input(b, th_scalar_i32(g, 1));
    sl_node_builder_add_input(b, ins[0]);
    sl_node_builder_set_attr_int(b, "num_split", 3);
    sl_node *s = th_finish(b);
    /* only two of three outputs used: the third gets zeros */
    return TH_OP(g, "Mul", ((sl_output){s, 0}), ((sl_output){s, 2}));
}

static sl_output c_slice(sl_graph *g, sl_output *ins, int *nin)
{
    ins[0] = th_ph(g, "p0", SL_DTYPE_FLOAT, TH_DIMS(4, 6));
    *nin = 1;
    return TH_OP(g, "Slice", ins[0], th_const_i32(g, 2, (int32_t[]){1, 2}), th_const_i32(g, 2, (int32_t[]){2, -1}));
}

static sl_output c_strided(sl_graph *g, sl_output *ins, int *nin)
{
    ins[0] = th_ph(g, "p0", SL_DTYPE_FLOAT, TH_DIMS(4, 6));
    *nin = 1;
    return TH_OP(g, "StridedSlice", ins[0], th_const_i32(g, 2, (int32_t[]){1, 0}),
                 th_const_i32(g, 2, (int32_t[]){3, 6}), th_const_i32(g, 2, (int32_t[]){1, 2}));
}

static sl_output c_gather(sl_graph *g, sl_output *ins, int *nin)
{
    ins[0] = th_ph(g, "p0", SL_DTYPE_FLOAT, TH_DIMS(5, 3));
    *nin = 1;
    return TH_OP(g, "GatherV2", ins[0], th_const_i32(g, 4, (int32_t[]){0, 2, 2, 4}), th_scalar_i32(g, 0));
}

static sl_output c_pack(sl_graph *g, sl_output *ins, int *nin)
{
    ins[0] = th_ph(g, "p0", SL_DTYPE_FLOAT, TH_DIMS(2, 3));
    ins[1] = th_ph(g, "p1", SL_DTYPE_FLOAT, TH_DIMS(2, 3));
    *nin = 2;
    sl_node_builder *b = sl_node_builder_new(g, "Pack", NULL);
    sl_node_builder_add_input_list(b, ins, 2);
    sl_node_builder_set_attr_int(b, "axis", 1);
    sl_output p = {th_finish(b), 0};
    b = sl_node_builder_new(g, "Unpack", NULL);
    sl_node_builder_add_input(b, p);
    sl_node_builder_set_attr_int(b, "num", 3);
    sl_node_builder_set_attr_int(b, "axis", 2);
    sl_node *u = th_finish(b);
    return TH_OP(g, "Mul", ((sl_output){u, 0}), ((sl_output){u, 2}));
}

static sl_output c_tile(sl_graph *g, sl_output *ins, int *nin)
{
    ins[0] = th_ph(g, "p0", SL_DTYPE_FLOAT, TH_DIMS(2, 3));
    *nin = 1;
    return TH_OP(g, "Tile", ins[0], th_const_i32(g, 2, (int32_t[]){2, 3}));
}

static sl_output c_pad(sl_graph *g, sl_output *ins, int *nin)
{
    ins[0] = th_ph(g, "p0", SL_DTYPE_FLOAT, TH_DIMS(2, 3));
    *nin = 1;
    sl_shape s = sl_shape_matrix(2, 2);
    sl_tensor *t = sl_tensor_new(SL_DTYPE_INT32, &s, NULL);
    memcpy(sl_tensor_data(t), (int32_t[]){1, 0, 2, 1}, 16);
    return TH_OP(g, "Pad", ins[0], th_const(g, NULL, t));
}

static sl_output c_cast(sl_graph *g, sl_output *ins, int *nin)
{
    ins[0] = th_ph(g, "p0", SL_DTYPE_FLOAT, TH_DIMS(2, 3));
    *nin = 1;
    sl_node_builder *b = sl_node_builder_new(g, "Cast", NULL);
    sl_node_builder_add_input(b, ins[0]);
    sl_node_builder_set_attr_type(b, "DstT", SL_DTYPE_DOUBLE);
    return (sl_output){th_finish(b), 0};
}

static sl_output c_xent(sl_graph *g, sl_output *ins, int *nin)
{
    ins[0] = th_ph(g, "logits", SL_DTYPE_FLOAT, TH_DIMS(4, 5));
    ins[1] = th_ph(g, "labels", SL_DTYPE_FLOAT, TH_DIMS(4, 5));
    *nin = 2;
    return TH_OP(g, "SoftmaxCrossEntropyWithLogits", ins[0], ins[1]);
}

static sl_output c_sparse_xent(sl_graph *g, sl_output *ins, int *nin)
{
    ins[0] = th_ph(g, "logits", SL_DTYPE_FLOAT, TH_DIMS(4, 5));
    *nin = 1;
    return TH_OP(g, "SparseSoftmaxCrossEntropyWithLogits", ins[0],
                 th_const_i32(g, 4, (int32_t[]){0, 4, 2, 1}));
}

static sl_output c_conv(sl_graph *g, sl_output *ins, int *nin)
{
    ins[0] = th_ph(g, "x", SL_DTYPE_FLOAT, TH_DIMS(2, 8, 8, 3));
    ins[1] = th_ph(g, "f", SL_DTYPE_FLOAT, TH_DIMS(3, 3, 3, 4));
    *nin = 2;
    sl_node_builder *b = sl_node_builder_new(g, "Conv2D", NULL);
    sl_node_builder_add_input(b, ins[0]);
    sl_node_builder_add_input(b, ins[1]);
    sl_node_builder_set_attr_int_list(b, "strides", (int64_t[]){1, 2, 2, 1}, 4);
    sl_node_builder_set_attr_string(b, "padding", "SAME", 4);
    sl_output c = {th_finish(b), 0};
    const char *pools[2] = {"MaxPool", "AvgPool"};
    for (int i = 0; i < 2; i++) {
        b = sl_node_builder_new(g, pools[i], NULL);
        sl_node_builder_add_input(b, c);
        sl_node_builder_set_attr_int_list(b, "ksize", (int64_t[]){1, 2, 2, 1}, 4);
        sl_node_builder_set_attr_int_list(b, "strides", (int64_t[]){1, 2, 2, 1}, 4);
        sl_node_builder_set_attr_string(b, "padding", "VALID", 5);
        c = (sl_output){th_finish(b), 0};
    }
    return c;
}

static sl_output c_bias_select(sl_graph *g, sl_output *ins, int *nin)
{
    ins[0] = th_ph(g, "x", SL_DTYPE_FLOAT, TH_DIMS(-1, 3));
    ins[1] = th_ph(g, "b", SL_DTYPE_FLOAT, TH_DIMS(3));
    *nin = 2;
    sl_output c = th_ph(g, "c", SL_DTYPE_BOOL, TH_DIMS(-1, 3));
    sl_output ba = TH_OP(g, "BiasAdd", ins[0], ins[1]);
    sl_output s1 = TH_OP(g, "Select", c, ba, ins[0]);
    return TH_OP(g, "SelectV2", c, s1, ins[1]);
}

static sl_output c_fill(sl_graph *g, sl_output *ins, int *nin)
{
    ins[0] = th_ph(g, "v", SL_DTYPE_FLOAT, 0, NULL);
    *nin = 1;
    return TH_OP(g, "Fill", th_const_i32(g, 2, (int32_t[]){2, 3}), ins[0]);
}

static const struct {
    const char *name;
    build_fn fn;
} cases[] = {
    {"Add", b_add}, {"AddV2", b_addv2}, {"Sub", b_sub}, {"Mul", b_mul}, {"RealDiv", b_realdiv},
    {"Div", b_div}, {"Maximum", b_max}, {"Minimum", b_min}, {"Pow", b_pow},
    {"SquaredDifference", b_sqdiff}, {"Neg", u_neg}, {"Square", u_square}, {"Sqrt", u_sqrt},
    {"Rsqrt", u_rsqrt}, {"Exp", u_exp}, {"Log", u_log}, {"Log1p", u_log1p}, {"Reciprocal", u_recip},
    {"Tanh", u_tanh}, {"Sigmoid", u_sigmoid}, {"Relu", u_relu}, {"Relu6", u_relu6}, {"Elu", u_elu},
    {"Softplus", u_softplus}, {"Abs", u_abs}, {"Sin", u_sin}, {"Cos", u_cos},
    {"Identity", u_identity}, {"Softmax", u_softmax}, {"LogSoftmax", u_logsoftmax},
    {"MatMul", c_matmul}, {"BatchMatMulV2", c_bmm}, {"Sum", r_sum}, {"Mean", r_mean},
    {"Max", r_max}, {"Min", r_min}, {"Prod", r_prod}, {"Reshape", c_reshape},
    {"Transpose", c_transpose}, {"ConcatV2", c_concat}, {"Split", c_split}, {"Slice", c_slice},
    {"StridedSlice", c_strided}, {"GatherV2", c_gather}, {"Pack", c_pack}, {"Tile", c_tile},
    {"Pad", c_pad}, {"Cast", c_cast}, {"SoftmaxCrossEntropyWithLogits", c_xent},
    {"SparseSoftmaxCrossEntropyWithLogits", c_sparse_xent}, {"Conv2D", c_conv},
    {"BiasAdd", c_bias_select}, {"Fill", c_fill},
};

static void test_gradients_every_op_builds(void **state)
{
    (void)state;
    sl_status *st = sl_status_new();
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        sl_graph *g = sl_graph_new(st);
        sl_output ins[4], dxs[4];
        int nin = 0;
        sl_output y = cases[i].fn(g, ins, &nin);
        if (sl_add_gradients(g, &y, 1, ins, nin, NULL, dxs, st) != SL_OK)
            fail_msg("%s: %s", cases[i].name, sl_status_message(st));
        for (int k = 0; k < nin; k++) {
            if (!dxs[k].node)
                fail_msg("%s: no gradient for input %d", cases[i].name, k);
            assert_same_shape(dxs[k], ins[k]);
            if (sl_node_output_type(dxs[k].node, dxs[k].index) != sl_node_output_type(ins[k].node, 0))
                fail_msg("%s: dtype of gradient %d", cases[i].name, k);
        }
        /* round trip through GraphDef: the gradient graph is a valid TF graph */
        size_t len;
        void *pb = sl_graph_export_binary(g, &len, st);
        assert_non_null(pb);
        sl_graph *g2 = sl_graph_new(st);
        if (sl_graph_import_binary(g2, pb, len, NULL, st) != SL_OK)
            fail_msg("%s: reimport: %s", cases[i].name, sl_status_message(st));
        sl_free(pb);
        sl_graph_free(g2);
        sl_graph_free(g);
    }
    sl_status_free(st);
}

static void test_gradients_registry(void **state)
{
    (void)state;
    sl_status *st = sl_status_new();
    assert_true(sl_gradient_is_registered("MatMul"));
    assert_true(sl_gradient_is_registered("Shape"));
    assert_false(sl_gradient_is_registered("Relu6Grad"));
    assert_int_equal(sl_gradient_register("MatMul", NULL, SL_GRAD_NOT_DIFFERENTIABLE, st),
                     SL_ALREADY_EXISTS);
    assert_int_equal(sl_gradient_register("Relu6Grad", NULL, 0, st), SL_INVALID_ARGUMENT);
    sl_status_free(st);
}

static void test_gradients_oom(void **state)
{
    (void)state;
    /* fail each allocation in turn: never a crash, leak or half-built graph */
    sl_status *st = sl_status_new();
    for (int nth = 1; nth < 2000; nth++) {
        sl_graph *g = sl_graph_new(st);
        sl_output x = th_ph(g, "x", SL_DTYPE_FLOAT, TH_DIMS(-1, 3));
        sl_output w = th_ph(g, "w", SL_DTYPE_FLOAT, TH_DIMS(3, 2));
        sl_output y = TH_OP(g, "Sum", TH_OP(g, "Tanh", TH_OP(g, "MatMul", x, w)),
                            th_const_i32(g, 2, (int32_t[]){0, 1}));
        int n = sl_graph_num_nodes(g);
        sl_output dx;
        sl_alloc_fail_nth(nth, 0);
        sl_code c = sl_add_gradients(g, &y, 1, &w, 1, NULL, &dx, st);
        int fired = sl_alloc_fault_fired();
        sl_alloc_fail_nth(0, 0);
        if (c != SL_OK) {
            assert_true(fired);
            assert_int_equal(sl_graph_num_nodes(g), n);
        }
        sl_graph_free(g);
        if (!fired) {
            assert_int_equal(c, SL_OK);
            break;
        }
    }
    sl_status_free(st);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_gradients_mlp_structure),
        cmocka_unit_test(test_gradients_sum_over_consumers),
        cmocka_unit_test(test_gradients_unreachable_and_stop),
        cmocka_unit_test(test_gradients_errors_leave_graph_unchanged),
        cmocka_unit_test(test_gradients_broadcast_dynamic_and_static),
        cmocka_unit_test(test_gradients_every_op_builds),
        cmocka_unit_test(test_gradients_registry),
        cmocka_unit_test(test_gradients_oom),
    };
    return cmocka_run_group_tests_name("gradients", tests, NULL, NULL);
}
