/* Optimizers: each trains a small float64 linear regression for a few steps
 * in a session and must match the same update rules computed here in
 * plain C (TF's formulas); slots get TF's names; the global step counts
 * steps; learning-rate decay and clipping by global norm do what they say. */
#include "graph-helpers.h"

#include <math.h>
#include <stdio.h>

#include "sluice/optimizers.h"
#include "sluice/session.h"

#define N 8
#define D 3
#define STEPS 4

static double X[N][D], Y[N], W0[D];

static void make_data(void)
{
    for (int i = 0; i < N; i++) {
        Y[i] = 0;
        for (int k = 0; k < D; k++) {
            X[i][k] = sin(1.3 * i + 0.7 * k);
            Y[i] += (k + 1) * X[i][k];
        }
        Y[i] += 0.1 * cos(i);
    }
    for (int k = 0; k < D; k++)
        W0[k] = 0.1 * (k - 1);
}

static sl_tensor *dtensor(int rank, const int64_t *dims, const double *v)
{
    sl_shape s = sl_shape_make(rank, dims);
    sl_tensor *t = sl_tensor_new(SL_DTYPE_DOUBLE, &s, NULL);
    memcpy(sl_tensor_data(t), v, sizeof(double) * (size_t)sl_tensor_num_elements(t));
    return t;
}

/* loss = mean((X w - Y)^2); returns the loss, the variable in *w */
static sl_output build(sl_graph *g, sl_output *w)
{
    sl_status *st = sl_status_new();
    sl_output x = th_const(g, "x", dtensor(TH_DIMS(N, D), &X[0][0]));
    sl_output y = th_const(g, "y", dtensor(TH_DIMS(N, 1), Y));
    sl_shape ws = sl_shape_matrix(D, 1);
    *w = sl_variable(g, "w", SL_DTYPE_DOUBLE, &ws, th_const(g, "w0", dtensor(TH_DIMS(D, 1), W0)), st);
    assert_non_null(w->node);
    sl_output r = TH_OP(g, "Sub", TH_OP(g, "MatMul", x, *w), y);
    sl_output loss = TH_OP(g, "Mean", TH_OP(g, "Square", r), th_const_i32(g, 2, (int32_t[]){0, 1}));
    sl_status_free(st);
    return loss;
}

static void grad_ref(const double *w, double *gr)
{
    for (int k = 0; k < D; k++)
        gr[k] = 0;
    for (int i = 0; i < N; i++) {
        double p = 0;
        for (int k = 0; k < D; k++)
            p += X[i][k] * w[k];
        for (int k = 0; k < D; k++)
            gr[k] += 2.0 / N * (p - Y[i]) * X[i][k];
    }
}

/* The reference: STEPS updates of w by the optimizer's rule. */
static void reference(const sl_optimizer_options *o, double *w)
{
    double s1[D] = {0}, s2[D] = {0}, b1p = o->beta1, b2p = o->beta2;
    memcpy(w, W0, sizeof(W0));
    if (o->kind == SL_OPTIMIZER_ADAGRAD)
        for (int k = 0; k < D; k++)
            s1[k] = o->initial_accumulator;
    if (o->kind == SL_OPTIMIZER_RMSPROP)
        for (int k = 0; k < D; k++)
            s1[k] = 1.0;
    for (int step = 0; step < STEPS; step++) {
        double g[D], lr = o->learning_rate;
        if (o->schedule == SL_LR_EXPONENTIAL_DECAY) {
            double p = (double)step / (double)o->decay_steps;
            lr *= pow(o->decay_rate, o->staircase ? floor(p) : p);
        }
        grad_ref(w, g);
        if (o->clip_global_norm > 0) {
            double n = 0;
            for (int k = 0; k < D; k++)
                n += g[k] * g[k];
            n = sqrt(n);
            for (int k = 0; k < D; k++)
                g[k] *= o->clip_global_norm / fmax(n, o->clip_global_norm);
        }
        for (int k = 0; k < D; k++) {
            switch (o->kind) {
            case SL_OPTIMIZER_SGD: w[k] -= lr * g[k]; break;
            case SL_OPTIMIZER_MOMENTUM:
                s1[k] = s1[k] * o->momentum + g[k];
                w[k] -= o->nesterov ? g[k] * lr + s1[k] * o->momentum * lr : s1[k] * lr;
                break;
            case SL_OPTIMIZER_ADAM: {
                double a = lr * sqrt(1 - b2p) / (1 - b1p);
                s1[k] += (g[k] - s1[k]) * (1 - o->beta1);
                s2[k] += (g[k] * g[k] - s2[k]) * (1 - o->beta2);
                w[k] -= a * s1[k] / (sqrt(s2[k]) + o->epsilon);
                break;
            }
            case SL_OPTIMIZER_ADAGRAD:
                s1[k] += g[k] * g[k];
                w[k] -= lr * g[k] / sqrt(s1[k]);
                break;
            case SL_OPTIMIZER_RMSPROP:
                s1[k] += (g[k] * g[k] - s1[k]) * (1 - o->rho);
                s2[k] = s2[k] * o->momentum + lr * g[k] / sqrt(s1[k] + o->epsilon);
                w[k] -= s2[k];
                break;
            }
        }
        b1p *= o->beta1;
        b2p *= o->beta2;
    }
}

static void run_case(const sl_optimizer_options *o, const char *slot)
{
    sl_status *st = sl_status_new();
    sl_graph *g = sl_graph_new(st);
    sl_output w;
    sl_output loss = build(g, &w);
    sl_node *train = sl_optimizer_minimize(g, o, loss, &w, 1, st);
    if (!train)
        fail_msg("%s: %s", sl_optimizer_name(o->kind), sl_status_message(st));
    if (slot)
        assert_non_null(sl_graph_find_node(g, slot));
    sl_node *init = sl_variables_initializer(g, "init", st);
    assert_non_null(init);
    sl_session *s = sl_session_new(g, NULL, st);
    assert_non_null(s);
    const sl_node *targets[1] = {init};
    if (sl_session_run_outputs(s, NULL, NULL, NULL, 0, NULL, NULL, 0, targets, 1, NULL, st) != SL_OK)
        fail_msg("init: %s", sl_status_message(st));
    double first = 0, last = 0;
    for (int i = 0; i < STEPS; i++) {
        targets[0] = train;
        sl_tensor *l = NULL;
        if (sl_session_run_outputs(s, NULL, NULL, NULL, 0, &loss, &l, 1, targets, 1, NULL, st) != SL_OK)
            fail_msg("%s step %d: %s", sl_optimizer_name(o->kind), i, sl_status_message(st));
        if (i == 0)
            first = *(double *)sl_tensor_data(l);
        last = *(double *)sl_tensor_data(l);
        sl_tensor_unref(l);
    }
    sl_output gs = {sl_graph_find_node(g, "global_step"), 0};
    sl_tensor *out[2] = {NULL, NULL};
    sl_output fetch[2] = {w, gs};
    if (sl_session_run_outputs(s, NULL, NULL, NULL, 0, fetch, out, 2, NULL, 0, NULL, st) != SL_OK)
        fail_msg("fetch: %s", sl_status_message(st));
    double ref[D];
    reference(o, ref);
    const double *got = sl_tensor_data(out[0]);
    for (int k = 0; k < D; k++)
        if (fabs(got[k] - ref[k]) > 1e-9 * fmax(1, fabs(ref[k])))
            fail_msg("%s: w[%d] = %.12g, reference %.12g", sl_optimizer_name(o->kind), k, got[k], ref[k]);
    assert_int_equal(*(int64_t *)sl_tensor_data(out[1]), STEPS);
    printf("# %-8s loss %.4f -> %.4f, matches the reference\n", sl_optimizer_name(o->kind), first, last);
    sl_tensor_unref(out[0]);
    sl_tensor_unref(out[1]);
    sl_session_free(s);
    sl_graph_free(g);
    sl_status_free(st);
}

static void test_optimizers_match_reference_updates(void **state)
{
    (void)state;
    make_data();
    sl_optimizer_options o;
    sl_optimizer_options_init(&o, SL_OPTIMIZER_SGD);
    o.learning_rate = 0.1;
    run_case(&o, NULL);
    sl_optimizer_options_init(&o, SL_OPTIMIZER_MOMENTUM);
    o.learning_rate = 0.05;
    run_case(&o, "w/Momentum");
    o.nesterov = true;
    run_case(&o, "w/Momentum");
    sl_optimizer_options_init(&o, SL_OPTIMIZER_ADAM);
    o.learning_rate = 0.1;
    run_case(&o, "w/Adam_1");
    sl_optimizer_options_init(&o, SL_OPTIMIZER_ADAGRAD);
    o.learning_rate = 0.3;
    run_case(&o, "w/Adagrad");
    sl_optimizer_options_init(&o, SL_OPTIMIZER_RMSPROP);
    o.learning_rate = 0.05;
    o.momentum = 0.5;
    run_case(&o, "w/RMSProp_1");
}

static void test_optimizers_decay_and_clipping(void **state)
{
    (void)state;
    make_data();
    sl_optimizer_options o;
    sl_optimizer_options_init(&o, SL_OPTIMIZER_SGD);
    o.learning_rate = 0.2;
    o.schedule = SL_LR_EXPONENTIAL_DECAY;
    o.decay_rate = 0.5;
    o.decay_steps = 2;
    run_case(&o, NULL);
    o.staircase = true;
    run_case(&o, NULL);
    sl_optimizer_options_init(&o, SL_OPTIMIZER_MOMENTUM);
    o.clip_global_norm = 0.05;
    run_case(&o, NULL);
}

/* One optimizer over two losses (asynchronous data parallelism): the slots
 * and beta powers are shared, so alternating the two train ops is the same
 * sequence of updates as one train op run as often. */
static void test_optimizers_minimize_each_shares_state(void **state)
{
    (void)state;
    make_data();
    static const sl_optimizer_kind kinds[] = {SL_OPTIMIZER_ADAM, SL_OPTIMIZER_MOMENTUM, SL_OPTIMIZER_RMSPROP};
    for (size_t c = 0; c < sizeof(kinds) / sizeof(kinds[0]); c++) {
        sl_status *st = sl_status_new();
        sl_graph *g = sl_graph_new(st);
        sl_output w;
        sl_output loss = build(g, &w);
        sl_optimizer_options o;
        sl_optimizer_options_init(&o, kinds[c]);
        o.learning_rate = 0.05;
        o.momentum = kinds[c] == SL_OPTIMIZER_RMSPROP ? 0.5 : o.momentum;
        sl_output losses[2] = {loss, loss};
        sl_node *trains[2] = {NULL, NULL};
        if (sl_optimizer_minimize_each(g, &o, losses, 2, &w, 1, trains, st) != SL_OK)
            fail_msg("%s: %s", sl_optimizer_name(o.kind), sl_status_message(st));
        char name[64];
        snprintf(name, sizeof(name), "%s/train_1", sl_optimizer_name(o.kind));
        assert_string_equal(sl_node_name(trains[1]), name);
        int slot_vars = 0;
        for (int i = 0; i < sl_graph_num_nodes(g); i++)
            if (!strcmp(sl_node_op_type(sl_graph_node(g, i)), "VariableV2"))
                slot_vars++;
        /* w, global_step, the slots once (and Adam's two beta powers) */
        int slots = kinds[c] == SL_OPTIMIZER_MOMENTUM ? 1 : 2;
        assert_int_equal(slot_vars, 2 + slots + (kinds[c] == SL_OPTIMIZER_ADAM ? 2 : 0));
        sl_node *init = sl_variables_initializer(g, "init", st);
        sl_session *s = sl_session_new(g, NULL, st);
        assert_non_null(s);
        const sl_node *targets[1] = {init};
        assert_int_equal(sl_session_run_outputs(s, NULL, NULL, NULL, 0, NULL, NULL, 0, targets, 1, NULL, st), SL_OK);
        for (int i = 0; i < STEPS; i++) {
            targets[0] = trains[i % 2];
            if (sl_session_run_outputs(s, NULL, NULL, NULL, 0, NULL, NULL, 0, targets, 1, NULL, st) != SL_OK)
                fail_msg("%s step %d: %s", sl_optimizer_name(o.kind), i, sl_status_message(st));
        }
        sl_output gs = {sl_graph_find_node(g, "global_step"), 0};
        sl_tensor *out[2] = {NULL, NULL};
        sl_output fetch[2] = {w, gs};
        assert_int_equal(sl_session_run_outputs(s, NULL, NULL, NULL, 0, fetch, out, 2, NULL, 0, NULL, st), SL_OK);
        double ref[D];
        reference(&o, ref);
        const double *got = sl_tensor_data(out[0]);
        for (int k = 0; k < D; k++)
            if (fabs(got[k] - ref[k]) > 1e-9 * fmax(1, fabs(ref[k])))
                fail_msg("%s: w[%d] = %.12g, reference %.12g", sl_optimizer_name(o.kind), k, got[k], ref[k]);
        assert_int_equal(*(int64_t *)sl_tensor_data(out[1]), STEPS);
        sl_tensor_unref(out[0]);
        sl_tensor_unref(out[1]);
        sl_session_free(s);
        sl_graph_free(g);
        sl_status_free(st);
    }
}

static void test_optimizers_errors(void **state)
{
    (void)state;
    sl_status *st = sl_status_new();
    sl_graph *g = sl_graph_new(st);
    make_data();
    sl_output w;
    sl_output loss = build(g, &w);
    sl_optimizer_options o;
    sl_optimizer_options_init(&o, SL_OPTIMIZER_SGD);
    int n = sl_graph_num_nodes(g);
    sl_output notvar = {sl_graph_find_node(g, "x"), 0};
    assert_null(sl_optimizer_minimize(g, &o, loss, &notvar, 1, st));
    assert_int_equal(sl_status_code(st), SL_INVALID_ARGUMENT);
    assert_non_null(strstr(sl_status_message(st), "'x'"));
    sl_shape s = sl_shape_scalar();
    sl_output other = sl_variable(g, "other", SL_DTYPE_DOUBLE, &s, th_const(g, NULL, dtensor(0, NULL, W0)), st);
    n = sl_graph_num_nodes(g);
    assert_null(sl_optimizer_minimize(g, &o, loss, &other, 1, st));
    assert_non_null(strstr(sl_status_message(st), "depends on none"));
    assert_int_equal(sl_graph_num_nodes(g), n);
    sl_graph_free(g);
    sl_status_free(st);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_optimizers_match_reference_updates),
        cmocka_unit_test(test_optimizers_decay_and_clipping),
        cmocka_unit_test(test_optimizers_minimize_each_shares_state),
        cmocka_unit_test(test_optimizers_errors),
    };
    return cmocka_run_group_tests_name("optimizers", tests, NULL, NULL);
}
