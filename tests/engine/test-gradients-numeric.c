/* Finite-difference checks of every gradient function: for each op, a
 * float64 graph on random inputs, the symbolic gradient of sum(y * r) for a
 * random r (the initial gradient), against central differences of the same
 * sum computed by running the forward graph in a session.  Ops whose CPU
 * kernels are not built yet are reported and skipped one by one. */
#include "graph-helpers.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "sluice/alloc.h"
#include "sluice/gradients.h"
#include "sluice/kernel.h"
#include "sluice/session.h"

#define MAX_IN 4

typedef struct fd_case {
    const char *name;
    /* builds y from inputs (placeholders it makes, of fully known shape) */
    sl_output (*build)(sl_graph *g, sl_output *ins, int *nin);
    int domain;                /* 0: +-[0.2, 1.2]; 1: [0.5, 1.5]; 2: distinct values */
    const char *needs[3];      /* ops whose kernels must exist */
    double h;                  /* step (relative); 0: 1e-6 */
    double tol;                /* relative tolerance; 0: 1e-6 */
} fd_case;

static double urand(void)
{
    return (double)rand() / RAND_MAX;
}

static sl_tensor *random_tensor(const sl_shape *s, int domain)
{
    sl_tensor *t = sl_tensor_new(SL_DTYPE_DOUBLE, s, NULL);
    double *d = sl_tensor_data(t);
    for (int64_t i = 0; i < sl_tensor_num_elements(t); i++) {
        double v = 0.2 + urand();
        if (domain == 0 && rand() % 2)
            v = -v;
        if (domain == 2)
            v = (double)(i % 7) * 0.37 - 1.0 + 0.01 * urand() + (double)(i / 7) * 0.05;
        d[i] = v;
    }
    return t;
}

static sl_output dph(sl_graph *g, const char *name, int rank, const int64_t *dims)
{
    return th_ph(g, name, SL_DTYPE_DOUBLE, rank, dims);
}

/* A placeholder whose shape the graph does not know (unknown dims, or
 * unknown rank with `hide_rank`), fed with `dims`: exercises the gradient
 * paths that compute shapes at run time. */
static sl_shape feed_shape[16];
static sl_output dph_dyn(sl_graph *g, const char *name, bool hide_rank, int rank, const int64_t *dims)
{
    int64_t unknown[SL_MAX_DIMS];
    for (int i = 0; i < rank; i++)
        unknown[i] = -1;
    sl_output o = th_ph(g, name, SL_DTYPE_DOUBLE, hide_rank ? -1 : rank, unknown);
    feed_shape[sl_node_id(o.node) % 16] = sl_shape_make(rank, dims);
    return o;
}

static sl_output c_dyn_mul(sl_graph *g, sl_output *ins, int *nin)
{
    ins[0] = dph_dyn(g, "a", false, TH_DIMS(2, 3));
    ins[1] = dph_dyn(g, "b", false, TH_DIMS(1, 3));
    *nin = 2;
    return TH_OP(g, "Mul", TH_OP(g, "Sub", ins[0], ins[1]), ins[1]);
}

static sl_output c_dyn_reduce(sl_graph *g, sl_output *ins, int *nin)
{
    ins[0] = dph_dyn(g, "a", false, TH_DIMS(2, 3, 4));
    ins[1] = dph_dyn(g, "b", true, TH_DIMS(2, 3, 4));
    *nin = 2;
    sl_output axes = th_const_i32(g, 2, (int32_t[]){0, -1});
    sl_output m = TH_OP(g, "Mean", ins[0], axes), x = TH_OP(g, "Max", ins[1], axes);
    return TH_OP(g, "AddV2", TH_OP(g, "Mul", m, TH_OP(g, "Sum", ins[1], axes)), x);
}

static sl_output c_dyn_max(sl_graph *g, sl_output *ins, int *nin)
{
    ins[0] = dph_dyn(g, "a", true, TH_DIMS(2, 3, 4));
    *nin = 1;
    return TH_OP(g, "Max", ins[0], th_const_i32(g, 1, (int32_t[]){1}));
}

static sl_output c_dyn_concat_gather(sl_graph *g, sl_output *ins, int *nin)
{
    ins[0] = dph_dyn(g, "a", false, TH_DIMS(4, 3));
    ins[1] = dph_dyn(g, "b", false, TH_DIMS(4, 2));
    *nin = 2;
    sl_node_builder *b = sl_node_builder_new(g, "ConcatV2", NULL);
    sl_node_builder_add_input_list(b, ins, 2);
    sl_node_builder_add_input(b, th_scalar_i32(g, 1));
    sl_output c = {th_finish(b), 0};
    return TH_OP(g, "GatherV2", c, th_const_i32(g, 3, (int32_t[]){3, 0, 3}), th_scalar_i32(g, 0));
}

static sl_output c_dyn_mlp(sl_graph *g, sl_output *ins, int *nin)
{
    ins[0] = dph_dyn(g, "x", false, TH_DIMS(5, 4));
    ins[1] = dph(g, "w", TH_DIMS(4, 3));
    ins[2] = dph(g, "b", TH_DIMS(3));
    *nin = 3;
    sl_output h = TH_OP(g, "Tanh", TH_OP(g, "BiasAdd", TH_OP(g, "MatMul", ins[0], ins[1]), ins[2]));
    return TH_OP(g, "Mean", TH_OP(g, "Softmax", h), th_const_i32(g, 1, (int32_t[]){0}));
}

/* ---- cases --------------------------------------------------------------- */

static sl_output bin(sl_graph *g, const char *op, sl_output *ins, int *nin)
{
    ins[0] = dph(g, "a", TH_DIMS(2, 3));
    ins[1] = dph(g, "b", TH_DIMS(1, 3));
    *nin = 2;
    return TH_OP(g, op, ins[0], ins[1]);
}
#define BIN(fn, op) static sl_output fn(sl_graph *g, sl_output *i, int *n) { return bin(g, op, i, n); }
BIN(c_add, "Add")
BIN(c_addv2, "AddV2")
BIN(c_sub, "Sub")
BIN(c_mul, "Mul")
BIN(c_realdiv, "RealDiv")
BIN(c_div, "Div")
BIN(c_maximum, "Maximum")
BIN(c_minimum, "Minimum")
BIN(c_pow, "Pow")
BIN(c_sqdiff, "SquaredDifference")

static sl_output un(sl_graph *g, const char *op, sl_output *ins, int *nin)
{
    ins[0] = dph(g, "a", TH_DIMS(2, 3));
    *nin = 1;
    return TH_OP(g, op, ins[0]);
}
#define UN(fn, op) static sl_output fn(sl_graph *g, sl_output *i, int *n) { return un(g, op, i, n); }
UN(c_neg, "Neg")
UN(c_square, "Square")
UN(c_sqrt, "Sqrt")
UN(c_rsqrt, "Rsqrt")
UN(c_exp, "Exp")
UN(c_log, "Log")
UN(c_log1p, "Log1p")
UN(c_recip, "Reciprocal")
UN(c_tanh, "Tanh")
UN(c_sigmoid, "Sigmoid")
UN(c_relu, "Relu")
UN(c_relu6, "Relu6")
UN(c_elu, "Elu")
UN(c_softplus, "Softplus")
UN(c_abs, "Abs")
UN(c_sin, "Sin")
UN(c_cos, "Cos")
UN(c_identity, "Identity")
UN(c_softmax, "Softmax")
UN(c_logsoftmax, "LogSoftmax")

static sl_output c_relu6_big(sl_graph *g, sl_output *ins, int *nin)
{
    /* scale into (-6, 12) so both kinks of Relu6 are exercised */
    ins[0] = dph(g, "a", TH_DIMS(2, 3));
    *nin = 1;
    sl_output k = th_const(g, NULL, ({
        sl_tensor *t = sl_tensor_new(SL_DTYPE_DOUBLE, &(sl_shape){.rank = 0}, NULL);
        *(double *)sl_tensor_data(t) = 7.3;
        t;
    }));
    return TH_OP(g, "Relu6", TH_OP(g, "Mul", ins[0], k));
}

static sl_output mm(sl_graph *g, sl_output *ins, int *nin, bool ta, bool tb)
{
    ins[0] = dph(g, "a", TH_DIMS(ta ? 4 : 3, ta ? 3 : 4));
    ins[1] = dph(g, "b", TH_DIMS(tb ? 2 : 4, tb ? 4 : 2));
    *nin = 2;
    sl_node_builder *b = sl_node_builder_new(g, "MatMul", NULL);
    sl_node_builder_add_input(b, ins[0]);
    sl_node_builder_add_input(b, ins[1]);
    sl_node_builder_set_attr_bool(b, "transpose_a", ta);
    sl_node_builder_set_attr_bool(b, "transpose_b", tb);
    return (sl_output){th_finish(b), 0};
}
static sl_output c_mm00(sl_graph *g, sl_output *i, int *n) { return mm(g, i, n, false, false); }
static sl_output c_mm01(sl_graph *g, sl_output *i, int *n) { return mm(g, i, n, false, true); }
static sl_output c_mm10(sl_graph *g, sl_output *i, int *n) { return mm(g, i, n, true, false); }
static sl_output c_mm11(sl_graph *g, sl_output *i, int *n) { return mm(g, i, n, true, true); }

static sl_output c_bmm(sl_graph *g, sl_output *ins, int *nin)
{
    ins[0] = dph(g, "a", TH_DIMS(3, 2, 4));
    ins[1] = dph(g, "b", TH_DIMS(1, 2, 3));
    *nin = 2;
    sl_node_builder *b = sl_node_builder_new(g, "BatchMatMulV2", NULL);
    sl_node_builder_add_input(b, ins[0]);
    sl_node_builder_add_input(b, ins[1]);
    sl_node_builder_set_attr_bool(b, "adj_x", true);
    return (sl_output){th_finish(b), 0};
}

static sl_output c_bmm1(sl_graph *g, sl_output *ins, int *nin)
{
    ins[0] = dph(g, "a", TH_DIMS(2, 3, 4));
    ins[1] = dph(g, "b", TH_DIMS(2, 2, 4));
    *nin = 2;
    sl_node_builder *b = sl_node_builder_new(g, "BatchMatMul", NULL);
    sl_node_builder_add_input(b, ins[0]);
    sl_node_builder_add_input(b, ins[1]);
    sl_node_builder_set_attr_bool(b, "adj_y", true);
    return (sl_output){th_finish(b), 0};
}

static sl_output red(sl_graph *g, const char *op, sl_output *ins, int *nin)
{
    ins[0] = dph(g, "a", TH_DIMS(2, 3, 4));
    *nin = 1;
    return TH_OP(g, op, ins[0], th_const_i32(g, 2, (int32_t[]){0, -1}));
}
#define RED(fn, op) static sl_output fn(sl_graph *g, sl_output *i, int *n) { return red(g, op, i, n); }
RED(c_sum, "Sum")
RED(c_mean, "Mean")
RED(c_max, "Max")
RED(c_min, "Min")
RED(c_prod, "Prod")

static sl_output c_sum_keep(sl_graph *g, sl_output *ins, int *nin)
{
    ins[0] = dph(g, "a", TH_DIMS(2, 3, 4));
    *nin = 1;
    sl_node_builder *b = sl_node_builder_new(g, "Sum", NULL);
    sl_node_builder_add_input(b, ins[0]);
    sl_node_builder_add_input(b, th_const_i32(g, 1, (int32_t[]){1}));
    sl_node_builder_set_attr_bool(b, "keep_dims", true);
    return (sl_output){th_finish(b), 0};
}

static sl_output c_reshape(sl_graph *g, sl_output *ins, int *nin)
{
    ins[0] = dph(g, "a", TH_DIMS(2, 6));
    *nin = 1;
    sl_output r = TH_OP(g, "Reshape", ins[0], th_const_i32(g, 3, (int32_t[]){3, 2, 2}));
    sl_output e = TH_OP(g, "ExpandDims", r, th_scalar_i32(g, 1));
    return TH_OP(g, "Tanh", TH_OP(g, "Squeeze", e));
}

static sl_output c_transpose(sl_graph *g, sl_output *ins, int *nin)
{
    ins[0] = dph(g, "a", TH_DIMS(2, 3, 4));
    *nin = 1;
    return TH_OP(g, "Transpose", ins[0], th_const_i32(g, 3, (int32_t[]){2, 0, 1}));
}

static sl_output c_concat(sl_graph *g, sl_output *ins, int *nin)
{
    ins[0] = dph(g, "a", TH_DIMS(2, 3));
    ins[1] = dph(g, "b", TH_DIMS(2, 2));
    ins[2] = dph(g, "c", TH_DIMS(2, 1));
    *nin = 3;
    sl_node_builder *b = sl_node_builder_new(g, "ConcatV2", NULL);
    sl_node_builder_add_input_list(b, ins, 3);
    sl_node_builder_add_input(b, th_scalar_i32(g, -1));
    return (sl_output){th_finish(b), 0};
}

static sl_output c_split(sl_graph *g, sl_output *ins, int *nin)
{
    ins[0] = dph(g, "a", TH_DIMS(4, 6));
    *nin = 1;
    sl_node_builder *b = sl_node_builder_new(g, "Split", NULL);
    sl_node_builder_add_input(b, th_scalar_i32(g, 1));
    sl_node_builder_add_input(b, ins[0]);
    sl_node_builder_set_attr_int(b, "num_split", 3);
    sl_node *s = th_finish(b);
    return TH_OP(g, "Mul", ((sl_output){s, 0}), ((sl_output){s, 2}));
}

static sl_output c_splitv(sl_graph *g, sl_output *ins, int *nin)
{
    ins[0] = dph(g, "a", TH_DIMS(4, 6));
    *nin = 1;
    sl_node_builder *b = sl_node_builder_new(g, "SplitV", NULL);
    sl_node_builder_add_input(b, ins[0]);
    sl_node_builder_add_input(b, th_const_i32(g, 2, (int32_t[]){1, 3}));
    sl_node_builder_add_input(b, th_scalar_i32(g, 0));
    sl_node_builder_set_attr_int(b, "num_split", 2);
    sl_node *s = th_finish(b);
    return TH_OP(g, "Sum", ((sl_output){s, 1}), th_const_i32(g, 1, (int32_t[]){0}));
}

static sl_output c_slice(sl_graph *g, sl_output *ins, int *nin)
{
    ins[0] = dph(g, "a", TH_DIMS(4, 6));
    *nin = 1;
    return TH_OP(g, "Slice", ins[0], th_const_i32(g, 2, (int32_t[]){1, 2}), th_const_i32(g, 2, (int32_t[]){2, -1}));
}

static sl_output c_strided(sl_graph *g, sl_output *ins, int *nin)
{
    ins[0] = dph(g, "a", TH_DIMS(4, 6, 2));
    *nin = 1;
    sl_node_builder *b = sl_node_builder_new(g, "StridedSlice", NULL);
    sl_node_builder_add_input(b, ins[0]);
    sl_node_builder_add_input(b, th_const_i32(g, 3, (int32_t[]){3, 0, 1}));
    sl_node_builder_add_input(b, th_const_i32(g, 3, (int32_t[]){0, 6, 0}));
    sl_node_builder_add_input(b, th_const_i32(g, 3, (int32_t[]){-1, 2, 1}));
    sl_node_builder_set_attr_int(b, "shrink_axis_mask", 4);
    return (sl_output){th_finish(b), 0};
}

static sl_output c_gather(sl_graph *g, sl_output *ins, int *nin)
{
    ins[0] = dph(g, "a", TH_DIMS(5, 3));
    *nin = 1;
    sl_output idx = th_const(g, NULL, ({
        sl_shape s = sl_shape_matrix(2, 2);
        sl_tensor *t = sl_tensor_new(SL_DTYPE_INT32, &s, NULL);
        memcpy(sl_tensor_data(t), (int32_t[]){0, 2, 2, 4}, 16);
        t;
    }));
    sl_output g1 = TH_OP(g, "GatherV2", ins[0], idx, th_scalar_i32(g, 0));
    return TH_OP(g, "Gather", g1, th_const_i32(g, 3, (int32_t[]){1, 1, 0}));
}

static sl_output c_pack(sl_graph *g, sl_output *ins, int *nin)
{
    ins[0] = dph(g, "a", TH_DIMS(2, 3));
    ins[1] = dph(g, "b", TH_DIMS(2, 3));
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
    ins[0] = dph(g, "a", TH_DIMS(2, 3));
    *nin = 1;
    return TH_OP(g, "Tile", ins[0], th_const_i32(g, 2, (int32_t[]){2, 3}));
}

static sl_output c_pad(sl_graph *g, sl_output *ins, int *nin)
{
    ins[0] = dph(g, "a", TH_DIMS(2, 3));
    *nin = 1;
    sl_shape s = sl_shape_matrix(2, 2);
    sl_tensor *t = sl_tensor_new(SL_DTYPE_INT32, &s, NULL);
    memcpy(sl_tensor_data(t), (int32_t[]){1, 0, 2, 1}, 16);
    return TH_OP(g, "Pad", ins[0], th_const(g, NULL, t));
}

static sl_output c_cast(sl_graph *g, sl_output *ins, int *nin)
{
    ins[0] = dph(g, "a", TH_DIMS(2, 3));
    *nin = 1;
    sl_node_builder *b = sl_node_builder_new(g, "Cast", NULL);
    sl_node_builder_add_input(b, ins[0]);
    sl_node_builder_set_attr_type(b, "DstT", SL_DTYPE_FLOAT);
    sl_output c = {th_finish(b), 0};
    b = sl_node_builder_new(g, "Cast", NULL);
    sl_node_builder_add_input(b, TH_OP(g, "Square", c));
    sl_node_builder_set_attr_type(b, "DstT", SL_DTYPE_DOUBLE);
    return (sl_output){th_finish(b), 0};
}

static sl_output c_xent(sl_graph *g, sl_output *ins, int *nin)
{
    ins[0] = dph(g, "logits", TH_DIMS(4, 5));
    ins[1] = dph(g, "labels", TH_DIMS(4, 5));
    *nin = 2;
    /* labels must be distributions: the kernel's backprop assumes rows sum to 1, as TF's */
    return TH_OP(g, "SoftmaxCrossEntropyWithLogits", ins[0], TH_OP(g, "Softmax", ins[1]));
}

static sl_output c_sparse_xent(sl_graph *g, sl_output *ins, int *nin)
{
    ins[0] = dph(g, "logits", TH_DIMS(4, 5));
    *nin = 1;
    return TH_OP(g, "SparseSoftmaxCrossEntropyWithLogits", ins[0], th_const_i32(g, 4, (int32_t[]){0, 4, 2, 1}));
}

static sl_output c_bias(sl_graph *g, sl_output *ins, int *nin)
{
    ins[0] = dph(g, "x", TH_DIMS(2, 2, 3));
    ins[1] = dph(g, "b", TH_DIMS(3));
    *nin = 2;
    return TH_OP(g, "BiasAdd", ins[0], ins[1]);
}

static sl_output c_addn(sl_graph *g, sl_output *ins, int *nin)
{
    ins[0] = dph(g, "a", TH_DIMS(2, 3));
    ins[1] = dph(g, "b", TH_DIMS(2, 3));
    *nin = 2;
    sl_node_builder *b = sl_node_builder_new(g, "AddN", NULL);
    sl_output l[3] = {ins[0], ins[1], ins[0]};
    sl_node_builder_add_input_list(b, l, 3);
    return TH_OP(g, "Mul", ((sl_output){th_finish(b), 0}), ins[1]);
}

static sl_output c_select(sl_graph *g, sl_output *ins, int *nin)
{
    ins[0] = dph(g, "a", TH_DIMS(2, 3));
    ins[1] = dph(g, "b", TH_DIMS(2, 3));
    ins[2] = dph(g, "c", TH_DIMS(3));
    *nin = 3;
    sl_output cond = TH_OP(g, "Greater", ins[0], ins[1]);
    sl_output s = TH_OP(g, "Select", cond, ins[0], ins[1]);
    return TH_OP(g, "SelectV2", TH_OP(g, "Less", ins[2], s), s, ins[2]);
}

static sl_output c_fill(sl_graph *g, sl_output *ins, int *nin)
{
    ins[0] = dph(g, "v", 0, NULL);
    *nin = 1;
    return TH_OP(g, "Fill", th_const_i32(g, 2, (int32_t[]){2, 3}), ins[0]);
}

static sl_output conv_pool(sl_graph *g, sl_output *ins, int *nin, const char *pool, const char *pad)
{
    ins[0] = dph(g, "x", TH_DIMS(2, 6, 5, 2));
    ins[1] = dph(g, "f", TH_DIMS(3, 2, 2, 3));
    *nin = 2;
    sl_node_builder *b = sl_node_builder_new(g, "Conv2D", NULL);
    sl_node_builder_add_input(b, ins[0]);
    sl_node_builder_add_input(b, ins[1]);
    sl_node_builder_set_attr_int_list(b, "strides", (int64_t[]){1, 2, 1, 1}, 4);
    sl_node_builder_set_attr_string(b, "padding", pad, strlen(pad));
    sl_output c = {th_finish(b), 0};
    if (!pool)
        return c;
    b = sl_node_builder_new(g, pool, NULL);
    sl_node_builder_add_input(b, c);
    sl_node_builder_set_attr_int_list(b, "ksize", (int64_t[]){1, 2, 2, 1}, 4);
    sl_node_builder_set_attr_int_list(b, "strides", (int64_t[]){1, 1, 2, 1}, 4);
    sl_node_builder_set_attr_string(b, "padding", "SAME", 4);
    return (sl_output){th_finish(b), 0};
}
static sl_output c_conv_same(sl_graph *g, sl_output *i, int *n) { return conv_pool(g, i, n, NULL, "SAME"); }
static sl_output c_conv_valid(sl_graph *g, sl_output *i, int *n) { return conv_pool(g, i, n, NULL, "VALID"); }
static sl_output c_maxpool(sl_graph *g, sl_output *i, int *n) { return conv_pool(g, i, n, "MaxPool", "SAME"); }
static sl_output c_avgpool(sl_graph *g, sl_output *i, int *n) { return conv_pool(g, i, n, "AvgPool", "VALID"); }

static const fd_case cases[] = {
    {"Add", c_add, 0, {0}, 0, 0}, {"AddV2", c_addv2, 0, {0}, 0, 0}, {"Sub", c_sub, 0, {0}, 0, 0}, {"Mul", c_mul, 0, {0}, 0, 0},
    {"RealDiv", c_realdiv, 0, {0}, 0, 0}, {"Div", c_div, 0, {0}, 0, 0}, {"Maximum", c_maximum, 2, {0}, 0, 0},
    {"Minimum", c_minimum, 2, {0}, 0, 0}, {"Pow", c_pow, 1, {0}, 0, 0}, {"SquaredDifference", c_sqdiff, 0, {0}, 0, 0},
    {"Neg", c_neg, 0, {0}, 0, 0}, {"Square", c_square, 0, {0}, 0, 0}, {"Sqrt", c_sqrt, 1, {0}, 0, 0},
    {"Rsqrt", c_rsqrt, 1, {0}, 0, 0}, {"Exp", c_exp, 0, {0}, 0, 0}, {"Log", c_log, 1, {0}, 0, 0},
    {"Log1p", c_log1p, 1, {0}, 0, 0}, {"Reciprocal", c_recip, 0, {0}, 0, 0}, {"Tanh", c_tanh, 0, {0}, 0, 0},
    {"Sigmoid", c_sigmoid, 0, {0}, 0, 0}, {"Relu", c_relu, 0, {0}, 0, 0}, {"Relu6", c_relu6, 0, {0}, 0, 0},
    {"Relu6 (both kinks)", c_relu6_big, 0, {0}, 0, 0}, {"Elu", c_elu, 0, {0}, 0, 0},
    {"Softplus", c_softplus, 0, {0}, 0, 0}, {"Abs", c_abs, 0, {0}, 0, 0}, {"Sin", c_sin, 0, {0}, 0, 0},
    {"Cos", c_cos, 0, {0}, 0, 0}, {"Identity", c_identity, 0, {0}, 0, 0}, {"Softmax", c_softmax, 0, {0}, 0, 0},
    {"LogSoftmax", c_logsoftmax, 0, {0}, 0, 0}, {"MatMul", c_mm00, 0, {0}, 0, 0}, {"MatMul T_b", c_mm01, 0, {0}, 0, 0},
    {"MatMul T_a", c_mm10, 0, {0}, 0, 0}, {"MatMul T_a T_b", c_mm11, 0, {0}, 0, 0},
    {"BatchMatMulV2 (broadcast)", c_bmm, 0, {0}, 0, 0}, {"BatchMatMul", c_bmm1, 0, {0}, 0, 0},
    {"Sum", c_sum, 0, {0}, 0, 0}, {"Sum keep_dims", c_sum_keep, 0, {0}, 0, 0}, {"Mean", c_mean, 0, {0}, 0, 0},
    {"Max", c_max, 2, {0}, 0, 0}, {"Min", c_min, 2, {0}, 0, 0}, {"Prod", c_prod, 1, {0}, 0, 0},
    {"Reshape/ExpandDims/Squeeze", c_reshape, 0, {0}, 0, 0}, {"Transpose", c_transpose, 0, {0}, 0, 0},
    {"ConcatV2", c_concat, 0, {0}, 0, 0}, {"Split", c_split, 0, {0}, 0, 0}, {"SplitV", c_splitv, 0, {0}, 0, 0},
    {"Slice", c_slice, 0, {0}, 0, 0}, {"StridedSlice", c_strided, 0, {0}, 0, 0},
    {"Gather/GatherV2", c_gather, 0, {0}, 0, 0}, {"Pack/Unpack", c_pack, 0, {0}, 0, 0}, {"Tile", c_tile, 0, {0}, 0, 0},
    {"Pad", c_pad, 0, {0}, 0, 0}, {"Cast (through float32)", c_cast, 0, {0}, 1e-2, 1e-3},
    {"SoftmaxCrossEntropyWithLogits", c_xent, 0, {0}, 0, 0},
    {"SparseSoftmaxCrossEntropyWithLogits", c_sparse_xent, 0, {0}, 0, 0}, {"BiasAdd", c_bias, 0, {0}, 0, 0},
    {"AddN", c_addn, 0, {0}, 0, 0}, {"Select/SelectV2", c_select, 2, {0}, 0, 0}, {"Fill", c_fill, 0, {0}, 0, 0},
    {"Mul/Sub, shapes known at run time", c_dyn_mul, 0, {0}, 0, 0},
    {"Mean/Sum, unknown dims and rank", c_dyn_reduce, 0, {0}, 0, 0},
    {"Max, unknown rank", c_dyn_max, 2, {0}, 0, 0},
    {"ConcatV2+GatherV2, unknown dims", c_dyn_concat_gather, 0, {0}, 0, 0},
    {"MLP layer, unknown batch", c_dyn_mlp, 0, {0}, 0, 0},
    {"Conv2D SAME", c_conv_same, 0, {"Conv2D", "Conv2DBackpropInput", "Conv2DBackpropFilter"}, 0, 0},
    {"Conv2D VALID", c_conv_valid, 0, {"Conv2D", "Conv2DBackpropInput", "Conv2DBackpropFilter"}, 0, 0},
    {"MaxPool", c_maxpool, 2, {"Conv2D", "MaxPool", "MaxPoolGrad"}, 0, 0},
    {"AvgPool", c_avgpool, 0, {"Conv2D", "AvgPool", "AvgPoolGrad"}, 0, 0},
};

/* sum(y * r) with the inputs fed */
static double objective(sl_session *s, sl_output y, const sl_output *ins, sl_tensor **vals, int nin,
                        const sl_tensor *r)
{
    sl_status *st = sl_status_new();
    sl_tensor *out = NULL;
    if (sl_session_run_outputs(s, NULL, ins, vals, nin, &y, &out, 1, NULL, 0, NULL, st) != SL_OK)
        fail_msg("forward: %s", sl_status_message(st));
    sl_status_free(st);
    double acc = 0;
    const double *yv = sl_tensor_data(out), *rv = sl_tensor_data(r);
    for (int64_t i = 0; i < sl_tensor_num_elements(out); i++)
        acc += yv[i] * rv[i];
    sl_tensor_unref(out);
    return acc;
}

static void test_gradients_match_finite_differences(void **state)
{
    (void)state;
    srand(1234);
    sl_status *st = sl_status_new();
    int checked = 0, skipped = 0;
    for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
        const fd_case *k = &cases[c];
        bool have = true;
        for (int i = 0; i < 3 && k->needs[i]; i++)
            have &= sl_kernel_exists_for_op(k->needs[i], SL_DEVICE_CPU);
        if (!have) {
            printf("# skip %s: no CPU kernel yet\n", k->name);
            skipped++;
            continue;
        }
        sl_graph *g = sl_graph_new(st);
        sl_output ins[MAX_IN], dxs[MAX_IN];
        int nin = 0;
        sl_output y = k->build(g, ins, &nin);
        sl_tensor *vals[MAX_IN], *grads[MAX_IN] = {0}, *y0 = NULL;
        for (int i = 0; i < nin; i++) {
            const sl_shape *ps = sl_node_output_shape(ins[i].node, 0);
            vals[i] = random_tensor(sl_shape_is_fully_defined(ps) ? ps : &feed_shape[sl_node_id(ins[i].node) % 16],
                                    k->domain);
        }
        /* y's shape from a forward run (some shape functions cannot tell) */
        sl_session *s = sl_session_new(g, NULL, st);
        if (sl_session_run_outputs(s, NULL, ins, vals, nin, &y, &y0, 1, NULL, 0, NULL, st) != SL_OK)
            fail_msg("%s: forward: %s", k->name, sl_status_message(st));
        sl_session_free(s);
        sl_tensor *r = random_tensor(sl_tensor_shape(y0), 0);
        sl_tensor_unref(y0);
        sl_output dy = th_const(g, "r", sl_tensor_ref(r));
        if (sl_add_gradients(g, &y, 1, ins, nin, &dy, dxs, st) != SL_OK)
            fail_msg("%s: %s", k->name, sl_status_message(st));
        s = sl_session_new(g, NULL, st);
        assert_non_null(s);
        if (sl_session_run_outputs(s, NULL, ins, vals, nin, dxs, grads, nin, NULL, 0, NULL, st) != SL_OK)
            fail_msg("%s: gradient step: %s", k->name, sl_status_message(st));
        double worst = 0;
        for (int i = 0; i < nin; i++) {
            assert_true(sl_shape_equal(sl_tensor_shape(grads[i]), sl_tensor_shape(vals[i])));
            double *x = sl_tensor_data(vals[i]);
            const double *gv = sl_tensor_data(grads[i]);
            for (int64_t j = 0; j < sl_tensor_num_elements(vals[i]); j++) {
                double h = (k->h ? k->h : 1e-6) * fmax(1.0, fabs(x[j])), save = x[j];
                x[j] = save + h;
                double fp = objective(s, y, ins, vals, nin, r);
                x[j] = save - h;
                double fm = objective(s, y, ins, vals, nin, r);
                x[j] = save;
                double num = (fp - fm) / (2 * h), err = fabs(num - gv[j]) / fmax(1.0, fabs(num));
                if (err > worst)
                    worst = err;
                if (err > (k->tol ? k->tol : 1e-6))
                    fail_msg("%s: d/d input %d [%lld]: symbolic %.10g, numeric %.10g", k->name, i,
                             (long long)j, gv[j], num);
            }
        }
        printf("# %-38s max relative error %.1e\n", k->name, worst);
        checked++;
        for (int i = 0; i < nin; i++) {
            sl_tensor_unref(vals[i]);
            sl_tensor_unref(grads[i]);
        }
        sl_tensor_unref(r);
        sl_session_free(s);
        sl_graph_free(g);
    }
    printf("# %d gradient functions checked, %d skipped\n", checked, skipped);
    sl_status_free(st);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_gradients_match_finite_differences),
    };
    return cmocka_run_group_tests_name("gradients-numeric", tests, NULL, NULL);
}
