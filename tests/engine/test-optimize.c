/* Tests of the graph optimizations a session runs before a step (paper
 * 5.1): constant folding, common subexpression elimination and pruning.
 * Each can be switched off; every combination must give the same results,
 * on built graphs and (run as "optimize-fixtures") on the real frozen
 * graphs.  Folding and CSE never touch stateful ops. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "sluice/session.h"
#include "test-build.h"

#ifndef SL_FIXTURES_DIR
#define SL_FIXTURES_DIR "../shared/fixtures"
#endif

static bool have_fixtures(void)
{
    struct stat sb;
    return stat(SL_FIXTURES_DIR "/graphs", &sb) == 0;
}

/* The eight combinations of the three switches. */
static sl_session_options options_for(int combo)
{
    sl_session_options so = SL_SESSION_OPTIONS_INIT;
    so.inter_op_threads = 2;
    so.disable_constant_folding = combo & 1;
    so.disable_cse = combo & 2;
    so.disable_pruning = combo & 4;
    return so;
}

/* a = 2, a2 = 2 (a duplicate), b = 3, c = a + b, c2 = a2 + b, x = placeholder float[3],
 * d = c * x, e = c2 * x (the same as d once a2 is a), f = d + e,
 * unused = c * c (nothing needs it). */
static sl_graph *arith_graph(void)
{
    sl_status *st = sl_status_new();
    sl_graph *g = sl_graph_new(st);
    sl_node *a = tb_const_tensor(g, "a", sl_tensor_new_scalar_float(2, st));
    sl_node *a2 = tb_const_tensor(g, "a2", sl_tensor_new_scalar_float(2, st));
    sl_node *b = tb_const_tensor(g, "b", sl_tensor_new_scalar_float(3, st));
    sl_node *c = tb_binary(g, "Add", "c", (sl_output){a, 0}, (sl_output){b, 0});
    sl_node *c2 = tb_binary(g, "Add", "c2", (sl_output){a2, 0}, (sl_output){b, 0});
    sl_node_builder *pb = sl_node_builder_new(g, "Placeholder", "x");
    sl_node_builder_set_attr_type(pb, "dtype", SL_DTYPE_FLOAT);
    sl_shape s3 = sl_shape_vector(3);
    sl_node_builder_set_attr_shape(pb, "shape", &s3);
    sl_node *x = tb_finish(pb);
    sl_node *d = tb_binary(g, "Mul", "d", (sl_output){c, 0}, (sl_output){x, 0});
    sl_node *e = tb_binary(g, "Mul", "e", (sl_output){c2, 0}, (sl_output){x, 0});
    tb_binary(g, "AddV2", "f", (sl_output){d, 0}, (sl_output){e, 0});
    tb_binary(g, "Mul", "unused", (sl_output){c, 0}, (sl_output){c, 0});
    sl_status_free(st);
    return g;
}

static bool ran(const sl_step_stats *stats, const char *name)
{
    for (int i = 0; i < stats->num_nodes; i++)
        if (!strcmp(stats->nodes[i].node_name, name))
            return true;
    return false;
}

static void test_every_combination_gives_the_same_result(void **state)
{
    (void)state;
    sl_status *st = sl_status_new();
    sl_graph *g = arith_graph();
    sl_tensor *x = tb_vec_f(3, (float[]){1, -2, 0.5f});
    const char *feeds[] = {"x"}, *fetch[] = {"f", "c"};
    for (int combo = 0; combo < 8; combo++) {
        sl_session_options so = options_for(combo);
        if (so.disable_pruning) {
            /* every node runs: nothing may be left unfed */
        }
        sl_session *s = sl_session_new(g, &so, st);
        assert_non_null(s);
        sl_tensor *out[2];
        sl_run_options ro = {.collect_step_stats = true};
        sl_step_stats *stats = NULL;
        if (sl_session_run(s, &ro, feeds, &x, 1, fetch, out, 2, NULL, 0, &stats, st) != SL_OK)
            fail_msg("combination %d: %s", combo, sl_status_message(st));
        assert_true(tb_f(out[0], 0) == 10 && tb_f(out[0], 1) == -20 && tb_f(out[0], 2) == 5);
        assert_true(tb_f(out[1], 0) == 5);
        sl_tensor_unref(out[0]);
        sl_tensor_unref(out[1]);

        sl_session_counters c;
        sl_session_get_counters(s, &c);
        if (so.disable_constant_folding)
            assert_int_equal(c.nodes_folded, 0);
        else
            assert_true(c.nodes_folded >= (so.disable_cse ? 2 : 1));  /* c and c2, or the c CSE kept */
        if (so.disable_cse)
            assert_int_equal(c.nodes_merged, 0);
        else
            assert_true(c.nodes_merged >= 3);  /* a2 into a, c2 into c, e into d */
        if (so.disable_pruning) {
            assert_int_equal(c.nodes_pruned, 0);
            assert_true(ran(stats, "unused"));  /* everything runs */
        } else {
            assert_false(ran(stats, "unused"));
        }
        if (!so.disable_cse && !so.disable_pruning)
            assert_false(ran(stats, "e"));  /* merged into d */
        if (!so.disable_constant_folding && !so.disable_pruning) {
            /* folded: the constants feeding c are no longer needed */
            assert_false(ran(stats, "a"));
            assert_false(ran(stats, "b"));
        }
        if (so.disable_constant_folding && so.disable_cse) {
            assert_true(ran(stats, "a") && ran(stats, "b") && ran(stats, "c") && ran(stats, "e"));
        }
        sl_step_stats_free(stats);
        sl_session_free(s);
    }
    sl_tensor_unref(x);
    sl_graph_free(g);
    sl_status_free(st);
}

/* r = RandomUniform(shape [4]) from a constant shape, twice with the same
 * attrs (r2); v: a variable assigned a constant; the passes must leave all
 * of them alone. */
static void test_stateful_ops_are_never_folded_or_merged(void **state)
{
    (void)state;
    sl_status *st = sl_status_new();
    sl_graph *g = sl_graph_new(st);
    sl_shape s1 = sl_shape_vector(1);
    sl_tensor *shape = sl_tensor_new(SL_DTYPE_INT32, &s1, st);
    *(int32_t *)sl_tensor_data(shape) = 4;
    sl_node *sh = tb_const_tensor(g, "shape", shape);
    for (int i = 0; i < 2; i++) {
        sl_node_builder *b = sl_node_builder_new(g, "RandomUniform", i ? "r2" : "r");
        sl_node_builder_add_input(b, (sl_output){sh, 0});
        sl_node_builder_set_attr_type(b, "dtype", SL_DTYPE_FLOAT);
        tb_finish(b);
    }
    sl_session *s = sl_session_new(g, NULL, st);
    const char *fetch[] = {"r", "r2"};
    sl_tensor *a[2], *b[2];
    assert_int_equal(tb_run(s, NULL, NULL, 0, fetch, a, 2, NULL, 0, st), SL_OK);
    assert_int_equal(tb_run(s, NULL, NULL, 0, fetch, b, 2, NULL, 0, st), SL_OK);
    /* new numbers every step, and r and r2 are two streams */
    assert_false(sl_tensor_equal(a[0], b[0]));
    assert_false(sl_tensor_equal(a[0], a[1]));
    sl_session_counters c;
    sl_session_get_counters(s, &c);
    assert_int_equal(c.nodes_folded, 0);
    assert_int_equal(c.nodes_merged, 0);
    for (int i = 0; i < 2; i++) {
        sl_tensor_unref(a[i]);
        sl_tensor_unref(b[i]);
    }
    sl_session_free(s);
    sl_graph_free(g);
    sl_status_free(st);
}

static void test_variable_reads_are_not_folded(void **state)
{
    (void)state;
    sl_status *st = sl_status_new();
    sl_graph *g = sl_graph_new(st);
    sl_node_builder *b = sl_node_builder_new(g, "VariableV2", "v");
    sl_node_builder_set_attr_type(b, "dtype", SL_DTYPE_FLOAT);
    sl_shape scalar = sl_shape_scalar();
    sl_node_builder_set_attr_shape(b, "shape", &scalar);
    sl_node *v = tb_finish(b);
    sl_node *one = tb_const_tensor(g, "one", sl_tensor_new_scalar_float(1, st));
    tb_binary(g, "Assign", "init", (sl_output){v, 0}, (sl_output){one, 0});
    tb_binary(g, "AssignAdd", "inc", (sl_output){v, 0}, (sl_output){one, 0});
    sl_node *r1 = tb_unary(g, "Identity", "r1", (sl_output){v, 0});
    sl_node *r2 = tb_unary(g, "Identity", "r2", (sl_output){v, 0});
    tb_binary(g, "Add", "sum", (sl_output){r1, 0}, (sl_output){r2, 0});
    sl_session *s = sl_session_new(g, NULL, st);
    assert_int_equal(tb_target(s, "init", st), SL_OK);
    for (int i = 1; i <= 3; i++) {
        sl_tensor *t = tb_fetch(s, "sum", st);
        assert_non_null(t);
        assert_true(tb_f(t, 0) == 2.0f * (float)i);
        sl_tensor_unref(t);
        assert_int_equal(tb_target(s, "inc", st), SL_OK);
    }
    /* the two reads may be merged (one step reads the variable once, as
     * in TF), but never folded into the value they had when prepared */
    sl_session_counters c;
    sl_session_get_counters(s, &c);
    assert_int_equal(c.nodes_folded, 0);
    sl_session_free(s);
    sl_graph_free(g);
    sl_status_free(st);
}

/* ---- The real graphs --------------------------------------------------- */

static sl_tensor *random_input(int64_t rows, int64_t cols, uint32_t seed)
{
    sl_status *st = sl_status_new();
    sl_shape s = sl_shape_matrix(rows, cols);
    sl_tensor *t = sl_tensor_new(SL_DTYPE_FLOAT, &s, st);
    float *p = sl_tensor_data(t);
    for (int64_t i = 0; i < rows * cols; i++) {
        seed = seed * 1664525u + 1013904223u;
        p[i] = (float)(seed >> 8) / 16777216.0f;
    }
    sl_status_free(st);
    return t;
}

static void check_fixture(const char *file, const char *const *feeds, sl_tensor *const *vals, int nf)
{
    char path[512];
    snprintf(path, sizeof(path), "%s/graphs/%s", SL_FIXTURES_DIR, file);
    sl_status *st = sl_status_new();
    sl_graph *g = sl_graph_load(path, NULL, st);
    if (!g)
        fail_msg("%s", sl_status_message(st));
    const char *fetch[] = {"output"};
    sl_tensor *ref = NULL;
    int64_t folded = 0, merged = 0;
    for (int combo = 7; combo >= 0; combo--) {  /* everything off first */
        sl_session_options so = options_for(combo);
        sl_session *s = sl_session_new(g, &so, st);
        assert_non_null(s);
        sl_tensor *out = NULL;
        if (tb_run(s, feeds, vals, nf, fetch, &out, 1, NULL, 0, st) != SL_OK)
            fail_msg("%s, combination %d: %s", file, combo, sl_status_message(st));
        if (!ref) {
            ref = out;
        } else {
            assert_true(sl_tensor_equal(ref, out));  /* bit for bit */
            sl_tensor_unref(out);
        }
        sl_session_counters c;
        sl_session_get_counters(s, &c);
        folded += c.nodes_folded;
        merged += c.nodes_merged;
        sl_session_free(s);
    }
    print_message("%s: %lld nodes folded, %lld merged over the 8 combinations\n", file, (long long)folded,
                  (long long)merged);
    sl_tensor_unref(ref);
    sl_graph_free(g);
    sl_status_free(st);
}

static void test_fixture_mlp_unchanged(void **state)
{
    (void)state;
    sl_tensor *x = random_input(5, 784, 1);
    const char *feeds[] = {"X"};
    check_fixture("tf2onnx_mnist_fc_layers_frozen.pb", feeds, &x, 1);
    sl_tensor_unref(x);
}

static void test_fixture_lstm_unchanged(void **state)
{
    (void)state;
    sl_status *st = sl_status_new();
    sl_tensor *vals[2] = {random_input(3, 784, 2), sl_tensor_new_scalar_float(1.0f, st)};
    const char *feeds[] = {"X", "keep_prob"};
    check_fixture("tf2onnx_mnist_lstm_frozen.pb", feeds, vals, 2);
    sl_tensor_unref(vals[0]);
    sl_tensor_unref(vals[1]);
    sl_status_free(st);
}

static sl_node *float_placeholder(sl_graph *g, const char *name)
{
    sl_node_builder *pb = sl_node_builder_new(g, "Placeholder", name);
    sl_node_builder_set_attr_type(pb, "dtype", SL_DTYPE_FLOAT);
    return tb_finish(pb);
}

/* x [2, 9, 7, 3] -> conv (3x3 SAME, 5 filters) -> bias (BiasAdd) -> relu,
 * and relu -> out = relu * 1 (a reader of the chain's end). */
static sl_graph *conv_chain_graph(void)
{
    sl_status *st = sl_status_new();
    sl_graph *g = sl_graph_new(st);
    sl_node *x = float_placeholder(g, "x");
    float fv[3 * 3 * 3 * 5], bv[5] = {0.5f, -0.25f, 0, 1, -2};
    for (int i = 0; i < 3 * 3 * 3 * 5; i++)
        fv[i] = (float)((i * 37) % 19) / 9.0f - 1.0f;
    sl_shape fs = {.rank = 4, .dims = {3, 3, 3, 5}};
    sl_node *f = tb_const_tensor(g, "f", tb_tensor_f(&fs, fv));
    sl_node *b = tb_const_vec_f(g, "b", 5, bv);
    sl_node_builder *cb = sl_node_builder_new(g, "Conv2D", "conv");
    sl_node_builder_add_input(cb, (sl_output){x, 0});
    sl_node_builder_add_input(cb, (sl_output){f, 0});
    int64_t strides[4] = {1, 1, 1, 1};
    sl_node_builder_set_attr_int_list(cb, "strides", strides, 4);
    sl_node_builder_set_attr_string(cb, "padding", "SAME", 4);
    sl_node *conv = tb_finish(cb);
    sl_node *bias = tb_binary(g, "BiasAdd", "bias", (sl_output){conv, 0}, (sl_output){b, 0});
    sl_node *relu = tb_unary(g, "Relu", "relu", (sl_output){bias, 0});
    sl_node *one = tb_const_tensor(g, "one", sl_tensor_new_scalar_float(1, st));
    tb_binary(g, "Mul", "out", (sl_output){relu, 0}, (sl_output){one, 0});
    /* and a second chain conv2 (VALID, so CSE keeps it apart) -> bias2 -> relu2 -> pool (2x2 SAME, as
     * the CNN's) -> pooled = pool * 1 */
    sl_node_builder *cb2 = sl_node_builder_new(g, "Conv2D", "conv2");
    sl_node_builder_add_input(cb2, (sl_output){x, 0});
    sl_node_builder_add_input(cb2, (sl_output){f, 0});
    sl_node_builder_set_attr_int_list(cb2, "strides", strides, 4);
    sl_node_builder_set_attr_string(cb2, "padding", "VALID", 5);
    sl_node *conv2 = tb_finish(cb2);
    sl_node *bias2 = tb_binary(g, "BiasAdd", "bias2", (sl_output){conv2, 0}, (sl_output){b, 0});
    sl_node *relu2 = tb_unary(g, "Relu", "relu2", (sl_output){bias2, 0});
    sl_node_builder *mp = sl_node_builder_new(g, "MaxPool", "pool");
    sl_node_builder_add_input(mp, (sl_output){relu2, 0});
    int64_t k2[4] = {1, 2, 2, 1};
    sl_node_builder_set_attr_int_list(mp, "ksize", k2, 4);
    sl_node_builder_set_attr_int_list(mp, "strides", k2, 4);
    sl_node_builder_set_attr_string(mp, "padding", "SAME", 4);
    sl_node *pool = tb_finish(mp);
    tb_binary(g, "Mul", "pooled", (sl_output){pool, 0}, (sl_output){one, 0});
    sl_status_free(st);
    return g;
}

/* Fetches `fetch` (n of them) with and without the fusion: the same
 * values, and `chains` chains fused when it is on. */
static void check_fusion(sl_graph *g, const char *const *fetch, int n, int chains)
{
    sl_status *st = sl_status_new();
    sl_shape xs = {.rank = 4, .dims = {2, 9, 7, 3}};
    float xv[2 * 9 * 7 * 3];
    for (int i = 0; i < 2 * 9 * 7 * 3; i++)
        xv[i] = (float)((i * 53) % 23) / 11.0f - 1.0f;
    sl_tensor *x = tb_tensor_f(&xs, xv);
    const char *feeds[] = {"x"};
    sl_tensor *got[2][4];
    for (int pass = 0; pass < 2; pass++) {
        if (pass)
            setenv("SLUICE_NO_FUSION", "1", 1);
        sl_session_options so = SL_SESSION_OPTIONS_INIT;
        sl_session *s = sl_session_new(g, &so, st);
        assert_non_null(s);
        if (sl_session_run(s, NULL, feeds, &x, 1, fetch, got[pass], n, NULL, 0, NULL, st) != SL_OK)
            fail_msg("%s", sl_status_message(st));
        sl_session_counters c;
        sl_session_get_counters(s, &c);
        assert_int_equal(c.chains_fused, pass ? 0 : chains);
        sl_session_free(s);
        unsetenv("SLUICE_NO_FUSION");
    }
    for (int k = 0; k < n; k++) {
        assert_int_equal(sl_tensor_num_elements(got[0][k]), sl_tensor_num_elements(got[1][k]));
        for (int64_t i = 0; i < sl_tensor_num_elements(got[0][k]); i++)
            if (fabsf(tb_f(got[0][k], i) - tb_f(got[1][k], i)) > 1e-5f)
                fail_msg("fetch %s [%lld]: fused %g, unfused %g", fetch[k], (long long)i, (double)tb_f(got[0][k], i),
                         (double)tb_f(got[1][k], i));
        sl_tensor_unref(got[0][k]);
        sl_tensor_unref(got[1][k]);
    }
    sl_tensor_unref(x);
    sl_status_free(st);
}

static void test_conv_bias_relu_fusion(void **state)
{
    (void)state;
    sl_graph *g = conv_chain_graph();
    check_fusion(g, (const char *[]){"out"}, 1, 1);          /* conv, bias, relu fused */
    check_fusion(g, (const char *[]){"relu"}, 1, 1);         /* the chain's end fetched */
    check_fusion(g, (const char *[]){"bias", "out"}, 2, 1);  /* bias fetched: conv + bias only */
    check_fusion(g, (const char *[]){"conv", "out"}, 2, 0);  /* conv fetched: nothing */
    check_fusion(g, (const char *[]){"out", "relu", "bias"}, 3, 1);
    check_fusion(g, (const char *[]){"pooled"}, 1, 1);                  /* conv2 .. pool fused */
    check_fusion(g, (const char *[]){"pool", "out"}, 2, 2);
    check_fusion(g, (const char *[]){"pooled", "relu2"}, 2, 1);         /* relu2 fetched: pool not fused */
    check_fusion(g, (const char *[]){"pooled", "bias2", "out"}, 3, 2);  /* conv2 + bias2 only */
    sl_graph_free(g);
}

/* x [2, 9, 7, 3] -> flat [2, 189] -> mm (x W, W [189, 70]: the direct
 * kernel, a masked last column block) -> bias -> relu -> dense = relu * 1;
 * and flat -> mm2 (flat W2^T, W2 [70, 189]: OpenBLAS) -> logits (BiasAdd,
 * no Relu) -> out2 = logits * 1. */
static sl_graph *matmul_chain_graph(void)
{
    sl_status *st = sl_status_new();
    sl_graph *g = sl_graph_new(st);
    sl_node *x = float_placeholder(g, "x");
    int32_t flat_dims[2] = {2, 189};
    sl_shape ds = {.rank = 1, .dims = {2}};
    sl_tensor *dt = sl_tensor_new(SL_DTYPE_INT32, &ds, st);
    memcpy(sl_tensor_data(dt), flat_dims, sizeof(flat_dims));
    sl_node *shape = tb_const_tensor(g, "flat_shape", dt);
    sl_node *flat = tb_binary(g, "Reshape", "flat", (sl_output){x, 0}, (sl_output){shape, 0});
    static float wv[189 * 70], bv[70];
    for (int i = 0; i < 189 * 70; i++)
        wv[i] = (float)((i * 37) % 19) / 90.0f - 0.1f;
    for (int i = 0; i < 70; i++)
        bv[i] = (float)(i % 7) / 7.0f - 0.4f;
    sl_shape ws = sl_shape_matrix(189, 70), ws2 = sl_shape_matrix(70, 189);
    sl_node *w = tb_const_tensor(g, "w", tb_tensor_f(&ws, wv));
    sl_node *w2 = tb_const_tensor(g, "w2", tb_tensor_f(&ws2, wv));
    sl_node *b = tb_const_vec_f(g, "b", 70, bv);
    sl_node *one = tb_const_tensor(g, "one", sl_tensor_new_scalar_float(1, st));
    sl_node *mm = tb_binary(g, "MatMul", "mm", (sl_output){flat, 0}, (sl_output){w, 0});
    sl_node *bias = tb_binary(g, "BiasAdd", "bias", (sl_output){mm, 0}, (sl_output){b, 0});
    sl_node *relu = tb_unary(g, "Relu", "relu", (sl_output){bias, 0});
    tb_binary(g, "Mul", "dense", (sl_output){relu, 0}, (sl_output){one, 0});
    sl_node_builder *mb = sl_node_builder_new(g, "MatMul", "mm2");
    sl_node_builder_add_input(mb, (sl_output){flat, 0});
    sl_node_builder_add_input(mb, (sl_output){w2, 0});
    sl_node_builder_set_attr_bool(mb, "transpose_b", true);
    sl_node *mm2 = tb_finish(mb);
    sl_node *logits = tb_binary(g, "BiasAdd", "logits", (sl_output){mm2, 0}, (sl_output){b, 0});
    tb_binary(g, "Mul", "out2", (sl_output){logits, 0}, (sl_output){one, 0});
    sl_status_free(st);
    return g;
}

static void test_matmul_bias_relu_fusion(void **state)
{
    (void)state;
    sl_graph *g = matmul_chain_graph();
    check_fusion(g, (const char *[]){"dense"}, 1, 1);          /* mm, bias, relu fused */
    check_fusion(g, (const char *[]){"bias", "dense"}, 2, 1);  /* bias fetched: mm + bias only */
    check_fusion(g, (const char *[]){"mm", "dense"}, 2, 0);    /* mm fetched: nothing */
    check_fusion(g, (const char *[]){"out2"}, 1, 1);           /* transposed, no Relu */
    check_fusion(g, (const char *[]){"dense", "out2", "relu"}, 3, 2);
    /* step stats name the fused node after its MatMul (where the studio
     * shows op times) */
    sl_status *st = sl_status_new();
    sl_session_options so = SL_SESSION_OPTIONS_INIT;
    sl_session *s = sl_session_new(g, &so, st);
    assert_non_null(s);
    sl_shape xs = {.rank = 4, .dims = {2, 9, 7, 3}};
    float xv[2 * 9 * 7 * 3] = {0};
    sl_tensor *x = tb_tensor_f(&xs, xv), *out = NULL;
    const char *feeds[] = {"x"}, *fetch[] = {"dense"};
    sl_run_options ro = {.collect_step_stats = true};
    sl_step_stats *stats = NULL;
    assert_int_equal(sl_session_run(s, &ro, feeds, &x, 1, fetch, &out, 1, NULL, 0, &stats, st), SL_OK);
    int fused = 0;
    for (int i = 0; i < stats->num_nodes; i++)
        if (!strcmp(stats->nodes[i].op, "_FusedMatMul")) {
            assert_string_equal(stats->nodes[i].node_name, "mm");
            fused++;
        }
    assert_int_equal(fused, 1);
    sl_step_stats_free(stats);
    sl_tensor_unref(out);
    sl_tensor_unref(x);
    sl_session_free(s);
    sl_status_free(st);
    sl_graph_free(g);
}

int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_combination_gives_the_same_result),
        cmocka_unit_test(test_stateful_ops_are_never_folded_or_merged),
        cmocka_unit_test(test_variable_reads_are_not_folded),
        cmocka_unit_test(test_conv_bias_relu_fusion),
        cmocka_unit_test(test_matmul_bias_relu_fusion),
    };
    const struct CMUnitTest fixture_tests[] = {
        cmocka_unit_test(test_fixture_mlp_unchanged),
        cmocka_unit_test(test_fixture_lstm_unchanged),
    };
    if (argc > 1 && !strcmp(argv[1], "fixtures")) {
        if (!have_fixtures()) {
            fprintf(stderr, "fixtures not found at %s: skipping\n", SL_FIXTURES_DIR);
            return 77;
        }
        return cmocka_run_group_tests_name("optimize-fixtures", fixture_tests, NULL, NULL);
    }
    return cmocka_run_group_tests_name("optimize", tests, NULL, NULL);
}
