/* Gradients through cond and while_loop (engine/train/grad/cond-grad.c,
 * while-grad.c): central finite differences in float64 of a cond (both
 * branches), of while_loops whose trip count is a tensor fed at run time
 * (0, 1 and several iterations; one and two float loop variables, an
 * exit nobody uses, captured weights; a loop nested in a loop whose trip
 * count changes with the outer iteration; a cond in a loop body taking
 * either branch by iteration), the backward loop's trip count and
 * stack traffic read from step stats, no pushes when only the forward
 * loop runs, and the cases that give no gradient or a clear error. */
#include "graph-helpers.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "sluice/alloc.h"
#include "sluice/control_flow.h"
#include "sluice/gradients.h"
#include "sluice/session.h"

#define MAX_IN 4

/* ---- helpers for branch and body callbacks --------------------------- */

static sl_output op2(sl_graph *g, const char *op, sl_output a, sl_output b)
{
    return TH_OP(g, op, a, b);
}

static sl_output op1(sl_graph *g, const char *op, sl_output a)
{
    return TH_OP(g, op, a);
}

/* A double or int32 scalar constant inside a branch or loop body. */
static sl_output const_in(sl_cf_ctx *c, sl_dtype t, double v)
{
    sl_tensor *x = t == SL_DTYPE_INT32 ? sl_tensor_new_scalar_int32((int32_t)v, NULL)
                                       : sl_tensor_new(SL_DTYPE_DOUBLE, &(sl_shape){.rank = 0}, NULL);
    if (t != SL_DTYPE_INT32)
        *(double *)sl_tensor_data(x) = v;
    sl_node_builder *b = sl_node_builder_new(sl_cf_ctx_graph(c), "Const", NULL);
    sl_node_builder_set_attr_tensor(b, "value", x);
    sl_node_builder_set_attr_type(b, "dtype", t);
    sl_node_builder_add_control_input(b, sl_cf_ctx_pivot(c));
    sl_tensor_unref(x);
    return (sl_output){th_finish(b), 0};
}

static sl_output capture(sl_cf_ctx *c, sl_output outer)
{
    sl_status *st = sl_status_new();
    sl_output r = sl_cf_ctx_capture(c, outer, st);
    if (!r.node)
        fail_msg("capture: %s", sl_status_message(st));
    sl_status_free(st);
    return r;
}

static sl_tensor *scalar_tensor(sl_dtype t, double v)
{
    if (t == SL_DTYPE_INT32)
        return sl_tensor_new_scalar_int32((int32_t)v, NULL);
    sl_tensor *x = sl_tensor_new(t, &(sl_shape){.rank = 0}, NULL);
    if (t == SL_DTYPE_BOOL)
        *(bool *)sl_tensor_data(x) = v != 0;
    else
        *(double *)sl_tensor_data(x) = v;
    return x;
}

/* ---- models ------------------------------------------------------------ */

typedef struct model {
    sl_output y;
    sl_output ins[MAX_IN];   /* float64 placeholders of known shape, differentiated */
    int nin;
    sl_output param;         /* a placeholder fed with `param_value` (pred or trip count) */
    sl_dtype param_type;
} model;

/* cond: pred ? x * x * w : tanh(x) + w   (x [3], w [3] captured) */
static sl_code cond_then(sl_cf_ctx *c, const sl_output *in, int n, sl_output *out, void *arg, sl_status *st)
{
    (void)n, (void)st;
    sl_graph *g = sl_cf_ctx_graph(c);
    sl_output w = capture(c, *(sl_output *)arg);
    out[0] = op2(g, "Mul", op2(g, "Mul", in[0], in[0]), w);
    return SL_OK;
}

static sl_code cond_else(sl_cf_ctx *c, const sl_output *in, int n, sl_output *out, void *arg, sl_status *st)
{
    (void)n, (void)st;
    sl_graph *g = sl_cf_ctx_graph(c);
    sl_output w = capture(c, *(sl_output *)arg);
    out[0] = op2(g, "AddV2", op1(g, "Tanh", in[0]), w);
    return SL_OK;
}

static void build_cond(sl_graph *g, model *m)
{
    sl_status *st = sl_status_new();
    m->ins[0] = th_ph(g, "x", SL_DTYPE_DOUBLE, TH_DIMS(3));
    m->ins[1] = th_ph(g, "w", SL_DTYPE_DOUBLE, TH_DIMS(3));
    m->nin = 2;
    m->param = th_ph(g, "pred", SL_DTYPE_BOOL, 0, NULL);
    m->param_type = SL_DTYPE_BOOL;
    if (sl_cond(g, m->param, &m->ins[0], 1, cond_then, cond_else, &m->ins[1], 1, &m->y, "cond", st) != SL_OK)
        fail_msg("cond: %s", sl_status_message(st));
    sl_status_free(st);
}

/* while i < n: h = tanh(h @ w + b) + 0.5 h   (x [2, 3], w [3, 3], b [3]) */
typedef struct loop_arg {
    sl_output n;
    sl_output w;
    sl_output b;
    sl_output s;
    sl_output *inner;   /* when set, receives a tensor of the body */
} loop_arg;

static sl_code loop_cond(sl_cf_ctx *c, const sl_output *in, int n, sl_output *out, void *arg, sl_status *st)
{
    (void)n, (void)st;
    loop_arg *a = arg;
    out[0] = op2(sl_cf_ctx_graph(c), "Less", in[0], capture(c, a->n));
    return SL_OK;
}

static sl_code loop_body(sl_cf_ctx *c, const sl_output *in, int n, sl_output *out, void *arg, sl_status *st)
{
    (void)n, (void)st;
    loop_arg *a = arg;
    sl_graph *g = sl_cf_ctx_graph(c);
    out[0] = op2(g, "Add", in[0], const_in(c, SL_DTYPE_INT32, 1));
    sl_output z = op2(g, "BiasAdd", op2(g, "MatMul", in[1], capture(c, a->w)), capture(c, a->b));
    out[1] = op2(g, "AddV2", op1(g, "Tanh", z), op2(g, "Mul", in[1], const_in(c, SL_DTYPE_DOUBLE, 0.5)));
    if (a->inner)
        *a->inner = z;
    return SL_OK;
}

static loop_arg g_loop;

static void build_while(sl_graph *g, model *m)
{
    sl_status *st = sl_status_new();
    m->ins[0] = th_ph(g, "x", SL_DTYPE_DOUBLE, TH_DIMS(2, 3));
    m->ins[1] = th_ph(g, "w", SL_DTYPE_DOUBLE, TH_DIMS(3, 3));
    m->ins[2] = th_ph(g, "b", SL_DTYPE_DOUBLE, TH_DIMS(3));
    m->nin = 3;
    m->param = th_ph(g, "n", SL_DTYPE_INT32, 0, NULL);
    m->param_type = SL_DTYPE_INT32;
    g_loop = (loop_arg){.n = m->param, .w = m->ins[1], .b = m->ins[2], .inner = g_loop.inner};
    sl_output vars[2] = {th_scalar_i32(g, 0), m->ins[0]}, outs[2];
    if (sl_while_loop(g, vars, 2, loop_cond, loop_body, &g_loop, "loop", 4, outs, st) != SL_OK)
        fail_msg("while: %s", sl_status_message(st));
    m->y = outs[1];
    sl_status_free(st);
}

/* Two float loop variables, the second's exit unused:
 * while i < n: h = tanh(h @ w) * a; a = a * s   -> y = h */
static sl_code loop2_body(sl_cf_ctx *c, const sl_output *in, int n, sl_output *out, void *arg, sl_status *st)
{
    (void)n, (void)st;
    loop_arg *a = arg;
    sl_graph *g = sl_cf_ctx_graph(c);
    out[0] = op2(g, "Add", in[0], const_in(c, SL_DTYPE_INT32, 1));
    out[1] = op2(g, "Mul", op1(g, "Tanh", op2(g, "MatMul", in[1], capture(c, a->w))), in[2]);
    out[2] = op2(g, "Mul", in[2], capture(c, a->s));
    return SL_OK;
}

static void build_while2(sl_graph *g, model *m)
{
    sl_status *st = sl_status_new();
    m->ins[0] = th_ph(g, "x", SL_DTYPE_DOUBLE, TH_DIMS(2, 3));
    m->ins[1] = th_ph(g, "a0", SL_DTYPE_DOUBLE, TH_DIMS(2, 3));
    m->ins[2] = th_ph(g, "w", SL_DTYPE_DOUBLE, TH_DIMS(3, 3));
    m->ins[3] = th_ph(g, "s", SL_DTYPE_DOUBLE, TH_DIMS(3));
    m->nin = 4;
    m->param = th_ph(g, "n", SL_DTYPE_INT32, 0, NULL);
    m->param_type = SL_DTYPE_INT32;
    g_loop = (loop_arg){.n = m->param, .w = m->ins[2], .s = m->ins[3]};
    sl_output vars[3] = {th_scalar_i32(g, 0), m->ins[0], m->ins[1]}, outs[3];
    if (sl_while_loop(g, vars, 3, loop_cond, loop2_body, &g_loop, "loop2", 1, outs, st) != SL_OK)
        fail_msg("while: %s", sl_status_message(st));
    m->y = outs[1];
    sl_status_free(st);
}

/* Nested: while i < n: h = (while j < i: h = tanh(h @ w + b) + 0.5 h)(h),
 * so the inner loop runs 0, 1, 2, ... times in the outer iterations. */
static sl_code body_with_loop(sl_cf_ctx *c, const sl_output *in, int n, sl_output *out, void *arg, sl_status *st)
{
    (void)n;
    loop_arg *a = arg;
    sl_graph *g = sl_cf_ctx_graph(c);
    out[0] = op2(g, "Add", in[0], const_in(c, SL_DTYPE_INT32, 1));
    static loop_arg inner;
    inner = (loop_arg){.n = in[0], .w = capture(c, a->w), .b = capture(c, a->b)};
    sl_output vars[2] = {const_in(c, SL_DTYPE_INT32, 0), in[1]}, outs[2];
    sl_code rc = sl_while_loop(g, vars, 2, loop_cond, loop_body, &inner, "inner", 1, outs, st);
    out[1] = outs[1];
    return rc;
}

static void build_nested(sl_graph *g, model *m)
{
    sl_status *st = sl_status_new();
    m->ins[0] = th_ph(g, "x", SL_DTYPE_DOUBLE, TH_DIMS(2, 3));
    m->ins[1] = th_ph(g, "w", SL_DTYPE_DOUBLE, TH_DIMS(3, 3));
    m->ins[2] = th_ph(g, "b", SL_DTYPE_DOUBLE, TH_DIMS(3));
    m->nin = 3;
    m->param = th_ph(g, "n", SL_DTYPE_INT32, 0, NULL);
    m->param_type = SL_DTYPE_INT32;
    g_loop = (loop_arg){.n = m->param, .w = m->ins[1], .b = m->ins[2]};
    sl_output vars[2] = {th_scalar_i32(g, 0), m->ins[0]}, outs[2];
    if (sl_while_loop(g, vars, 2, loop_cond, body_with_loop, &g_loop, "outer", 4, outs, st) != SL_OK)
        fail_msg("while: %s", sl_status_message(st));
    m->y = outs[1];
    sl_status_free(st);
}

/* A cond inside a loop body. */
static sl_code body_with_cond(sl_cf_ctx *c, const sl_output *in, int n, sl_output *out, void *arg, sl_status *st)
{
    (void)n;
    loop_arg *a = arg;
    sl_graph *g = sl_cf_ctx_graph(c);
    out[0] = op2(g, "Add", in[0], const_in(c, SL_DTYPE_INT32, 1));
    sl_output pred = op2(g, "Less", in[0], const_in(c, SL_DTYPE_INT32, 2));
    sl_output b = capture(c, a->b);
    return sl_cond(g, pred, &in[1], 1, cond_then, cond_else, &b, 1, &out[1], "inner", st);
}

/* A cond in a cond in a loop body (not implemented). */
typedef struct nested_arg {
    sl_output b;       /* first: cond_else reads it as its sl_output argument */
    sl_output pred;
} nested_arg;

static sl_code nested_then(sl_cf_ctx *c, const sl_output *in, int n, sl_output *out, void *arg, sl_status *st)
{
    (void)n;
    nested_arg *a = arg;
    sl_output p = capture(c, a->pred), b = capture(c, a->b);
    return sl_cond(sl_cf_ctx_graph(c), p, in, 1, cond_then, cond_else, &b, 1, out, "deep", st);
}

static sl_code body_with_nested_cond(sl_cf_ctx *c, const sl_output *in, int n, sl_output *out, void *arg,
                                     sl_status *st)
{
    (void)n;
    loop_arg *a = arg;
    sl_graph *g = sl_cf_ctx_graph(c);
    out[0] = op2(g, "Add", in[0], const_in(c, SL_DTYPE_INT32, 1));
    static nested_arg na;
    na = (nested_arg){capture(c, a->b), op2(g, "Less", in[0], const_in(c, SL_DTYPE_INT32, 2))};
    return sl_cond(g, na.pred, &in[1], 1, nested_then, cond_else, &na, 1, &out[1], "inner", st);
}

/* while i < n: h = i < 2 ? h * h * b : tanh(h) + b   (x [3], b [3]) */
static void build_cond_in_loop(sl_graph *g, model *m)
{
    sl_status *st = sl_status_new();
    m->ins[0] = th_ph(g, "x", SL_DTYPE_DOUBLE, TH_DIMS(3));
    m->ins[1] = th_ph(g, "b", SL_DTYPE_DOUBLE, TH_DIMS(3));
    m->nin = 2;
    m->param = th_ph(g, "n", SL_DTYPE_INT32, 0, NULL);
    m->param_type = SL_DTYPE_INT32;
    g_loop = (loop_arg){.n = m->param, .b = m->ins[1]};
    sl_output vars[2] = {th_scalar_i32(g, 0), m->ins[0]}, outs[2];
    if (sl_while_loop(g, vars, 2, loop_cond, body_with_cond, &g_loop, "loop", 3, outs, st) != SL_OK)
        fail_msg("while: %s", sl_status_message(st));
    m->y = outs[1];
    sl_status_free(st);
}

/* pred ? (while i < 3: h = tanh(h @ w + b) + 0.5 h)(x) : tanh(x)   (a loop in a branch) */
static sl_code then_loop(sl_cf_ctx *c, const sl_output *in, int n, sl_output *out, void *arg, sl_status *st)
{
    (void)n;
    loop_arg *a = arg;
    static loop_arg inner;
    inner = (loop_arg){.n = capture(c, a->n), .w = capture(c, a->w), .b = capture(c, a->b)};
    sl_output vars[2] = {const_in(c, SL_DTYPE_INT32, 0), in[0]}, outs[2];
    sl_code rc = sl_while_loop(sl_cf_ctx_graph(c), vars, 2, loop_cond, loop_body, &inner, "loop", 2, outs, st);
    out[0] = outs[1];
    return rc;
}

static sl_code else_tanh(sl_cf_ctx *c, const sl_output *in, int n, sl_output *out, void *arg, sl_status *st)
{
    (void)n, (void)arg, (void)st;
    out[0] = op1(sl_cf_ctx_graph(c), "Tanh", in[0]);
    return SL_OK;
}

static void build_loop_in_cond(sl_graph *g, model *m)
{
    sl_status *st = sl_status_new();
    m->ins[0] = th_ph(g, "x", SL_DTYPE_DOUBLE, TH_DIMS(2, 3));
    m->ins[1] = th_ph(g, "w", SL_DTYPE_DOUBLE, TH_DIMS(3, 3));
    m->ins[2] = th_ph(g, "b", SL_DTYPE_DOUBLE, TH_DIMS(3));
    m->nin = 3;
    m->param = th_ph(g, "pred", SL_DTYPE_BOOL, 0, NULL);
    m->param_type = SL_DTYPE_BOOL;
    g_loop = (loop_arg){.n = th_scalar_i32(g, 3), .w = m->ins[1], .b = m->ins[2]};
    if (sl_cond(g, m->param, &m->ins[0], 1, then_loop, else_tanh, &g_loop, 1, &m->y, "cond", st) != SL_OK)
        fail_msg("cond: %s", sl_status_message(st));
    sl_status_free(st);
}

/* ---- finite differences ------------------------------------------------ */

static double urand(void)
{
    return (double)rand() / RAND_MAX;
}

static sl_tensor *random_tensor(const sl_shape *s, double lo, double hi)
{
    sl_tensor *t = sl_tensor_new(SL_DTYPE_DOUBLE, s, NULL);
    double *d = sl_tensor_data(t);
    for (int64_t i = 0; i < sl_tensor_num_elements(t); i++)
        d[i] = lo + (hi - lo) * urand();
    return t;
}

/* sum(y * r) */
static double objective(sl_session *s, const model *m, sl_tensor **vals, const sl_tensor *r)
{
    sl_status *st = sl_status_new();
    sl_output feeds[MAX_IN + 1];
    for (int i = 0; i < m->nin; i++)
        feeds[i] = m->ins[i];
    feeds[m->nin] = m->param;
    sl_tensor *out = NULL;
    if (sl_session_run_outputs(s, NULL, feeds, vals, m->nin + 1, &m->y, &out, 1, NULL, 0, NULL, st) != SL_OK)
        fail_msg("forward: %s", sl_status_message(st));
    sl_status_free(st);
    double acc = 0;
    const double *yv = sl_tensor_data(out), *rv = sl_tensor_data(r);
    for (int64_t i = 0; i < sl_tensor_num_elements(out); i++)
        acc += yv[i] * rv[i];
    sl_tensor_unref(out);
    return acc;
}

/* Builds the model, adds gradients and compares them with central
 * differences for each parameter value; returns the worst relative error. */
static double check_model(const char *name, void (*build)(sl_graph *, model *), const double *params, int np)
{
    sl_status *st = sl_status_new();
    sl_graph *g = sl_graph_new(st);
    model m = {0};
    build(g, &m);
    sl_tensor *r = random_tensor(sl_node_output_shape(m.y.node, m.y.index), -1, 1);
    sl_output dy = th_const(g, "r", sl_tensor_ref(r)), dxs[MAX_IN];
    if (sl_add_gradients(g, &m.y, 1, m.ins, m.nin, &dy, dxs, st) != SL_OK)
        fail_msg("%s: %s", name, sl_status_message(st));
    sl_session *s = sl_session_new(g, NULL, st);
    assert_non_null(s);
    double worst = 0;
    for (int p = 0; p < np; p++) {
        sl_tensor *vals[MAX_IN + 1], *grads[MAX_IN] = {0};
        for (int i = 0; i < m.nin; i++)
            vals[i] = random_tensor(sl_node_output_shape(m.ins[i].node, 0), -0.9, 0.9);
        vals[m.nin] = scalar_tensor(m.param_type, params[p]);
        sl_output feeds[MAX_IN + 1];
        for (int i = 0; i < m.nin; i++)
            feeds[i] = m.ins[i];
        feeds[m.nin] = m.param;
        if (sl_session_run_outputs(s, NULL, feeds, vals, m.nin + 1, dxs, grads, m.nin, NULL, 0, NULL, st) != SL_OK)
            fail_msg("%s (param %g): gradient step: %s", name, params[p], sl_status_message(st));
        for (int i = 0; i < m.nin; i++) {
            assert_true(sl_shape_equal(sl_tensor_shape(grads[i]), sl_tensor_shape(vals[i])));
            double *x = sl_tensor_data(vals[i]);
            const double *gv = sl_tensor_data(grads[i]);
            for (int64_t j = 0; j < sl_tensor_num_elements(vals[i]); j++) {
                double h = 1e-6 * fmax(1.0, fabs(x[j])), save = x[j];
                x[j] = save + h;
                double fp = objective(s, &m, vals, r);
                x[j] = save - h;
                double fm = objective(s, &m, vals, r);
                x[j] = save;
                double num = (fp - fm) / (2 * h), err = fabs(num - gv[j]) / fmax(1.0, fabs(num));
                worst = fmax(worst, err);
                if (err > 1e-6)
                    fail_msg("%s (param %g): d/d %s [%lld]: symbolic %.10g, numeric %.10g", name, params[p],
                             sl_node_name(m.ins[i].node), (long long)j, gv[j], num);
            }
            sl_tensor_unref(grads[i]);
        }
        for (int i = 0; i <= m.nin; i++)
            sl_tensor_unref(vals[i]);
    }
    printf("# %-44s max relative error vs finite differences %.1e\n", name, worst);
    sl_tensor_unref(r);
    sl_session_free(s);
    sl_graph_free(g);
    sl_status_free(st);
    return worst;
}

static void test_cond_gradient_matches_finite_differences(void **state)
{
    (void)state;
    srand(7);
    check_model("cond (pred false, true)", build_cond, (const double[]){0, 1}, 2);
}

static void test_while_gradient_matches_finite_differences(void **state)
{
    (void)state;
    srand(11);
    check_model("while_loop, N = 0, 1, 4 fed at run time", build_while, (const double[]){0, 1, 4}, 3);
}

static void test_nested_while_gradient_matches_finite_differences(void **state)
{
    (void)state;
    srand(17);
    check_model("nested while_loops, inner trip count = i", build_nested, (const double[]){0, 1, 4}, 3);
}

static void test_cond_inside_while_matches_finite_differences(void **state)
{
    (void)state;
    srand(19);
    check_model("cond inside a while_loop, both branches", build_cond_in_loop, (const double[]){0, 1, 4}, 3);
}

static void test_while_inside_cond_matches_finite_differences(void **state)
{
    (void)state;
    srand(23);
    check_model("while_loop inside a cond, pred false, true", build_loop_in_cond, (const double[]){0, 1}, 2);
}

static void test_while_two_variables_unused_exit(void **state)
{
    (void)state;
    srand(13);
    check_model("while_loop, 2 float vars, one exit unused", build_while2, (const double[]){0, 3}, 2);
}

/* ---- the backward loop's trip count ------------------------------------ */

static int count_ops(sl_graph *g, const char *op)
{
    int c = 0;
    for (int i = 0; i < sl_graph_num_nodes(g); i++)
        c += !strcmp(sl_node_op_type(sl_graph_node(g, i)), op);
    return c;
}

static int executed(const sl_step_stats *ss, const char *op, int64_t *max_iter)
{
    int c = 0;
    for (int i = 0; i < ss->num_nodes; i++)
        if (!strcmp(ss->nodes[i].op, op)) {
            c++;
            if (max_iter && ss->nodes[i].iteration > *max_iter)
                *max_iter = ss->nodes[i].iteration;
        }
    return c;
}

static void test_backward_loop_runs_forward_trip_count(void **state)
{
    (void)state;
    sl_status *st = sl_status_new();
    sl_graph *g = sl_graph_new(st);
    model m = {0};
    build_while(g, &m);
    sl_output dxs[MAX_IN];
    assert_int_equal(sl_add_gradients(g, &m.y, 1, m.ins, m.nin, NULL, dxs, st), SL_OK);
    int stacks = count_ops(g, "StackV2");
    assert_true(stacks >= 2);   /* at least h (MatMul) and tanh(z) (TanhGrad) */
    assert_int_equal(count_ops(g, "StackPushV2"), stacks);
    assert_int_equal(count_ops(g, "StackPopV2"), stacks);
    sl_session *s = sl_session_new(g, NULL, st);
    sl_run_options ro = {.collect_step_stats = true};
    for (int n = 0; n <= 5; n += 5) {
        sl_tensor *vals[4];
        for (int i = 0; i < 3; i++)
            vals[i] = random_tensor(sl_node_output_shape(m.ins[i].node, 0), -0.9, 0.9);
        vals[3] = scalar_tensor(SL_DTYPE_INT32, n);
        sl_output feeds[4] = {m.ins[0], m.ins[1], m.ins[2], m.param};
        sl_tensor *grads[3] = {0};
        sl_step_stats *ss = NULL;
        /* gradients: the backward body runs n times, one push and one pop per stack and iteration */
        assert_int_equal(sl_session_run_outputs(s, &ro, feeds, vals, 4, dxs, grads, 3, NULL, 0, &ss, st), SL_OK);
        int64_t last_pop = -1;
        assert_int_equal(executed(ss, "StackPushV2", NULL), n * stacks);
        assert_int_equal(executed(ss, "StackPopV2", &last_pop), n * stacks);
        assert_int_equal(last_pop, n - 1);
        assert_int_equal(executed(ss, "LoopCond", NULL), 2 * (n + 1));  /* forward and backward */
        printf("# N = %d: %d stacks, %d pushes, %d pops, last pop in backward iteration %lld\n", n, stacks,
               executed(ss, "StackPushV2", NULL), executed(ss, "StackPopV2", NULL), (long long)last_pop);
        sl_step_stats_free(ss);
        for (int i = 0; i < 3; i++)
            sl_tensor_unref(grads[i]);
        /* the forward loop alone pushes nothing */
        sl_tensor *y = NULL;
        ss = NULL;
        assert_int_equal(sl_session_run_outputs(s, &ro, feeds, vals, 4, &m.y, &y, 1, NULL, 0, &ss, st), SL_OK);
        assert_int_equal(executed(ss, "StackPushV2", NULL), 0);
        assert_int_equal(executed(ss, "StackV2", NULL), 0);
        sl_step_stats_free(ss);
        sl_tensor_unref(y);
        for (int i = 0; i < 4; i++)
            sl_tensor_unref(vals[i]);
    }
    sl_session_free(s);
    sl_graph_free(g);
    sl_status_free(st);
}

/* The stacks go with the step: after a step of 200 iterations the engine
 * holds what it held after a step of none (the tensors pushed are freed
 * when the step's frames let go of the stack handles).  The 400 tensors
 * pushed would hold over 19 KB; a few bytes of bookkeeping may differ. */
static void test_while_stacks_freed_with_the_step(void **state)
{
    (void)state;
    sl_status *st = sl_status_new();
    sl_graph *g = sl_graph_new(st);
    model m = {0};
    build_while(g, &m);
    sl_output dxs[MAX_IN];
    assert_int_equal(sl_add_gradients(g, &m.y, 1, m.ins, m.nin, NULL, dxs, st), SL_OK);
    sl_session_options so = SL_SESSION_OPTIONS_INIT;
    so.inter_op_threads = 1;
    sl_session *s = sl_session_new(g, &so, st);
    sl_tensor *vals[4];
    for (int i = 0; i < 3; i++)
        vals[i] = random_tensor(sl_node_output_shape(m.ins[i].node, 0), -0.9, 0.9);
    sl_output feeds[4] = {m.ins[0], m.ins[1], m.ins[2], m.param};
    int64_t in_use[3];
    const int trips[3] = {0, 0, 200};
    for (int k = 0; k < 3; k++) {
        vals[3] = scalar_tensor(SL_DTYPE_INT32, trips[k]);
        sl_tensor *grads[3] = {0};
        assert_int_equal(sl_session_run_outputs(s, NULL, feeds, vals, 4, dxs, grads, 3, NULL, 0, NULL, st), SL_OK);
        for (int i = 0; i < 3; i++)
            sl_tensor_unref(grads[i]);
        sl_tensor_unref(vals[3]);
        sl_alloc_stats as;
        sl_alloc_get_stats(&as);
        in_use[k] = as.bytes_in_use;
    }
    printf("# bytes in use after steps of 0, 0, 200 iterations: %lld %lld %lld\n", (long long)in_use[0],
           (long long)in_use[1], (long long)in_use[2]);
    assert_true(in_use[2] <= in_use[1] + 256);
    for (int i = 0; i < 3; i++)
        sl_tensor_unref(vals[i]);
    sl_session_free(s);
    sl_graph_free(g);
    sl_status_free(st);
}

/* Each allocation failing in turn: an error or success, never a crash, a
 * leak (under valgrind) or a half-built graph. */
static void test_while_gradients_oom(void **state)
{
    (void)state;
    sl_status *st = sl_status_new();
    int failures = 0;
    for (int nth = 1; nth < 20000; nth++) {
        sl_graph *g = sl_graph_new(st);
        model m = {0};
        build_while(g, &m);
        int n = sl_graph_num_nodes(g);
        sl_output dxs[MAX_IN];
        sl_alloc_fail_nth(nth, 0);
        sl_code c = sl_add_gradients(g, &m.y, 1, m.ins, m.nin, NULL, dxs, st);
        int fired = sl_alloc_fault_fired();
        sl_alloc_fail_nth(0, 0);
        if (c != SL_OK) {
            assert_true(fired);
            assert_int_equal(sl_graph_num_nodes(g), n);
            failures++;
        }
        sl_graph_free(g);
        if (!fired) {
            assert_int_equal(c, SL_OK);
            break;
        }
    }
    printf("# %d injected allocation failures, each left the graph as it was\n", failures);
    assert_true(failures > 100);
    sl_status_free(st);
}

/* ---- no gradient, and clear errors ------------------------------------ */

static void test_while_no_gradient_cases(void **state)
{
    (void)state;
    sl_status *st = sl_status_new();
    sl_graph *g = sl_graph_new(st);
    model m = {0};
    build_while(g, &m);
    sl_output other = th_ph(g, "other", SL_DTYPE_DOUBLE, TH_DIMS(3));
    /* an unrelated tensor and the int32 trip count reach no gradient */
    sl_output xs[3] = {other, m.param, m.ins[1]}, dxs[3];
    assert_int_equal(sl_add_gradients(g, &m.y, 1, xs, 3, NULL, dxs, st), SL_OK);
    assert_null(dxs[0].node);
    assert_null(dxs[1].node);
    assert_non_null(dxs[2].node);
    /* through StopGradient after the loop: no gradient, no backward loop */
    int stacks = count_ops(g, "StackV2");
    sl_output stopped = TH_OP(g, "StopGradient", m.y);
    sl_output loss = TH_OP(g, "Square", stopped);
    assert_int_equal(sl_add_gradients(g, &loss, 1, m.ins, 1, NULL, dxs, st), SL_OK);
    assert_null(dxs[0].node);
    assert_int_equal(count_ops(g, "StackV2"), stacks);
    sl_graph_free(g);
    sl_status_free(st);
}

static void expect_unimplemented(sl_cf_build_fn body, const char *what)
{
    sl_status *st = sl_status_new();
    sl_graph *g = sl_graph_new(st);
    sl_output x = th_ph(g, "x", SL_DTYPE_DOUBLE, TH_DIMS(3));
    sl_output w = th_ph(g, "w", SL_DTYPE_DOUBLE, TH_DIMS(3, 3));
    sl_output b = th_ph(g, "b", SL_DTYPE_DOUBLE, TH_DIMS(3));
    sl_output n = th_ph(g, "n", SL_DTYPE_INT32, 0, NULL);
    loop_arg a = {.n = n, .w = w, .b = b};
    sl_output vars[2] = {th_scalar_i32(g, 0), x};
    sl_output outs[2];
    if (sl_while_loop(g, vars, 2, loop_cond, body, &a, "outer", 1, outs, st) != SL_OK)
        fail_msg("while: %s", sl_status_message(st));
    sl_output loss = TH_OP(g, "Sum", outs[1], th_const_i32(g, 1, (int32_t[]){0}));
    int before = sl_graph_num_nodes(g);
    sl_output dx = {NULL, 0};
    assert_int_equal(sl_add_gradients(g, &loss, 1, &x, 1, NULL, &dx, st), SL_UNIMPLEMENTED);
    printf("# %s: %s\n", what, sl_status_message(st));
    assert_non_null(strstr(sl_status_message(st), what));
    assert_int_equal(sl_graph_num_nodes(g), before);   /* all or nothing */
    assert_null(dx.node);
    sl_graph_free(g);
    sl_status_free(st);
}

static void test_while_unimplemented_cases_are_clear(void **state)
{
    (void)state;
    expect_unimplemented(body_with_nested_cond, "cond nested in a cond inside a while_loop");

    /* a y inside the body */
    sl_status *st = sl_status_new();
    sl_graph *g = sl_graph_new(st);
    model m = {0};
    sl_output inner = {NULL, 0};
    g_loop.inner = &inner;
    build_while(g, &m);
    g_loop.inner = NULL;
    sl_output dx;
    assert_int_equal(sl_add_gradients(g, &inner, 1, m.ins, 1, NULL, &dx, st), SL_UNIMPLEMENTED);
    assert_non_null(strstr(sl_status_message(st), "inside a while loop"));
    sl_graph_free(g);
    sl_status_free(st);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cond_gradient_matches_finite_differences),
        cmocka_unit_test(test_while_gradient_matches_finite_differences),
        cmocka_unit_test(test_while_two_variables_unused_exit),
        cmocka_unit_test(test_nested_while_gradient_matches_finite_differences),
        cmocka_unit_test(test_cond_inside_while_matches_finite_differences),
        cmocka_unit_test(test_while_inside_cond_matches_finite_differences),
        cmocka_unit_test(test_backward_loop_runs_forward_trip_count),
        cmocka_unit_test(test_while_stacks_freed_with_the_step),
        cmocka_unit_test(test_while_gradients_oom),
        cmocka_unit_test(test_while_no_gradient_cases),
        cmocka_unit_test(test_while_unimplemented_cases_are_clear),
    };
    return cmocka_run_group_tests_name("gradients-control-flow", tests, NULL, NULL);
}
