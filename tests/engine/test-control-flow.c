/* Tests of control flow (paper 4.4): cond and while_loop built by the C
 * builders and run by the executor: dead branches, loop frames, nested
 * loops, a loop whose body updates a variable, and a 10,000-iteration loop
 * whose memory stays bounded. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "sluice/alloc.h"
#include "sluice/control_flow.h"
#include "sluice/session.h"
#include "test-ops.h"

static sl_code then_fn(sl_cf_ctx *c, const sl_output *in, int n, sl_output *out, void *arg, sl_status *st)
{
    (void)n, (void)arg, (void)st;
    sl_node *one = t_const_f(sl_cf_ctx_graph(c), "one", 1, sl_cf_ctx_pivot(c));
    out[0] = OUT(t_binary(sl_cf_ctx_graph(c), "TAdd", "add_t", in[0], OUT(one)));
    return SL_OK;
}

static sl_code else_fn(sl_cf_ctx *c, const sl_output *in, int n, sl_output *out, void *arg, sl_status *st)
{
    (void)n, (void)st;
    sl_output *outer = arg;  /* captured from outside */
    sl_output cap = sl_cf_ctx_capture(c, *outer, st);
    out[0] = OUT(t_binary(sl_cf_ctx_graph(c), "TAdd", "add_e", in[0], cap));
    return SL_OK;
}

static void test_cond_takes_one_branch(void **state)
{
    (void)state;
    test_ops_register();
    sl_status *st = sl_status_new();
    sl_graph *g = sl_graph_new(st);
    sl_shape scalar = sl_shape_scalar();
    sl_node *x = t_placeholder(g, "x", SL_DTYPE_FLOAT, &scalar);
    sl_node *p = t_placeholder(g, "p", SL_DTYPE_BOOL, &scalar);
    sl_node *ten = t_const_f(g, "ten", 10, NULL);
    sl_output tenout = OUT(ten);
    sl_output res;
    sl_output xo = OUT(x);
    sl_code crc = sl_cond(g, OUT(p), &xo, 1, then_fn, else_fn, &tenout, 1, &res, "cond", st);
    if (crc != SL_OK)
        print_error("%s\n", sl_status_message(st));
    assert_int_equal(crc, SL_OK);
    sl_session *s = sl_session_new(g, NULL, st);
    assert_non_null(s);
    for (int pv = 0; pv <= 1; pv++) {
        sl_tensor *xv = sl_tensor_new_scalar_float(5, st);
        sl_tensor *pt = sl_tensor_new(SL_DTYPE_BOOL, &scalar, st);
        *(bool *)sl_tensor_data(pt) = pv;
        sl_output feeds[] = {OUT(x), OUT(p)};
        sl_tensor *fv[] = {xv, pt};
        sl_tensor *out;
        assert_int_equal(sl_session_run_outputs(s, NULL, feeds, fv, 2, &res, &out, 1, NULL, 0, NULL, st), SL_OK);
        assert_true(t_scalar_f(out) == (pv ? 6.0f : 15.0f));
        sl_tensor_unref(out);
        /* fetching the untaken branch's add is an error, not a hang */
        const char *untaken[] = {pv ? "cond/add_e" : "cond/add_t"};
        assert_int_equal(sl_session_run(s, NULL, (const char *const[]){"x", "p"}, fv, 2, untaken, &out, 1, NULL, 0,
                                        NULL, st),
                         SL_INVALID_ARGUMENT);
        assert_non_null(strstr(sl_status_message(st), "untaken branch"));
        sl_tensor_unref(xv);
        sl_tensor_unref(pt);
    }
    sl_session_free(s);
    sl_graph_free(g);
    sl_status_free(st);
}

/* i < limit */
static sl_code less_than(sl_cf_ctx *c, const sl_output *in, int n, sl_output *out, void *arg, sl_status *st)
{
    (void)n, (void)st;
    sl_node *lim = t_const_i(sl_cf_ctx_graph(c), "limit", *(int32_t *)arg, sl_cf_ctx_pivot(c));
    out[0] = OUT(t_binary(sl_cf_ctx_graph(c), "TLess", "less", in[0], OUT(lim)));
    return SL_OK;
}

/* (i, acc) -> (i + 1, acc + i) */
static sl_code count_body(sl_cf_ctx *c, const sl_output *in, int n, sl_output *out, void *arg, sl_status *st)
{
    (void)arg, (void)st;
    sl_graph *g = sl_cf_ctx_graph(c);
    sl_node *one = t_const_i(g, "one", 1, sl_cf_ctx_pivot(c));
    out[0] = OUT(t_binary(g, "TAdd", "inc", in[0], OUT(one)));
    if (n > 1)
        out[1] = OUT(t_binary(g, "TAdd", "acc", in[1], in[0]));
    return SL_OK;
}

static sl_tensor *run1(sl_session *s, sl_output fetch)
{
    sl_status *st = sl_status_new();
    sl_tensor *out = NULL;
    sl_code rc = sl_session_run_outputs(s, NULL, NULL, NULL, 0, &fetch, &out, 1, NULL, 0, NULL, st);
    if (rc != SL_OK)
        print_error("%s\n", sl_status_message(st));
    assert_int_equal(rc, SL_OK);
    sl_status_free(st);
    return out;
}

static void test_while_loop_counts(void **state)
{
    (void)state;
    test_ops_register();
    sl_status *st = sl_status_new();
    sl_graph *g = sl_graph_new(st);
    sl_output vars[2] = {OUT(t_const_i(g, "i0", 0, NULL)), OUT(t_const_i(g, "acc0", 0, NULL))};
    sl_output res[2];
    int32_t limit = 10;
    assert_int_equal(sl_while_loop(g, vars, 2, less_than, count_body, &limit, "loop", 0, res, st), SL_OK);
    sl_session *s = sl_session_new(g, NULL, st);
    assert_non_null(s);
    sl_tensor *i = run1(s, res[0]), *acc = run1(s, res[1]);
    assert_int_equal(t_scalar_i(i), 10);
    assert_int_equal(t_scalar_i(acc), 45);
    sl_tensor_unref(i);
    sl_tensor_unref(acc);
    /* with one iteration at a time, the same */
    sl_graph *g1 = sl_graph_new(st);
    sl_output v1[2] = {OUT(t_const_i(g1, "i0", 0, NULL)), OUT(t_const_i(g1, "acc0", 0, NULL))};
    assert_int_equal(sl_while_loop(g1, v1, 2, less_than, count_body, &limit, "loop", 1, res, st), SL_OK);
    sl_session *s1 = sl_session_new(g1, NULL, st);
    acc = run1(s1, res[1]);
    assert_int_equal(t_scalar_i(acc), 45);
    sl_tensor_unref(acc);
    sl_session_free(s1);
    sl_graph_free(g1);
    sl_session_free(s);
    sl_graph_free(g);
    sl_status_free(st);
}

/* outer body: (i, acc) -> (i + 1, inner(acc)) where inner adds 1 four times */
static sl_code inner_body(sl_cf_ctx *c, const sl_output *in, int n, sl_output *out, void *arg, sl_status *st)
{
    (void)n, (void)arg, (void)st;
    sl_graph *g = sl_cf_ctx_graph(c);
    sl_node *one = t_const_i(g, "one", 1, sl_cf_ctx_pivot(c));
    out[0] = OUT(t_binary(g, "TAdd", "j", in[0], OUT(one)));
    out[1] = OUT(t_binary(g, "TAdd", "acc", in[1], OUT(one)));
    return SL_OK;
}

static sl_code outer_body(sl_cf_ctx *c, const sl_output *in, int n, sl_output *out, void *arg, sl_status *st)
{
    (void)n, (void)arg;
    sl_graph *g = sl_cf_ctx_graph(c);
    sl_node *one = t_const_i(g, "one", 1, sl_cf_ctx_pivot(c));
    sl_node *j0 = t_const_i(g, "j0", 0, sl_cf_ctx_pivot(c));
    sl_output iv[2] = {OUT(j0), in[1]}, ir[2];
    static int32_t four = 4;
    sl_code rc = sl_while_loop(g, iv, 2, less_than, inner_body, &four, "inner", 0, ir, st);
    out[0] = OUT(t_binary(g, "TAdd", "i", in[0], OUT(one)));
    out[1] = ir[1];
    return rc;
}

static void test_nested_loops(void **state)
{
    (void)state;
    test_ops_register();
    sl_status *st = sl_status_new();
    sl_graph *g = sl_graph_new(st);
    sl_output vars[2] = {OUT(t_const_i(g, "i0", 0, NULL)), OUT(t_const_i(g, "acc0", 0, NULL))};
    sl_output res[2];
    int32_t three = 3;
    assert_int_equal(sl_while_loop(g, vars, 2, less_than, outer_body, &three, "outer", 0, res, st), SL_OK);
    sl_session *s = sl_session_new(g, NULL, st);
    sl_tensor *acc = run1(s, res[1]);
    assert_int_equal(t_scalar_i(acc), 12);
    sl_tensor_unref(acc);
    sl_session_free(s);
    sl_graph_free(g);
    sl_status_free(st);
}

static sl_node *variable_f(sl_graph *g, const char *name)
{
    sl_status *st = sl_status_new();
    sl_node_builder *b = sl_node_builder_new(g, "VariableV2", name);
    sl_shape scalar = sl_shape_scalar();
    sl_node_builder_set_attr_type(b, "dtype", SL_DTYPE_FLOAT);
    sl_node_builder_set_attr_shape(b, "shape", &scalar);
    sl_node *n = sl_node_builder_finish(b, st);
    sl_status_free(st);
    return n;
}

typedef struct var_arg {
    int32_t limit;  /* first: less_than reads it */
    sl_output v;
} var_arg;

/* (i) -> (i + 1) after v += 1 */
static sl_code var_body(sl_cf_ctx *c, const sl_output *in, int n, sl_output *out, void *arg, sl_status *st)
{
    (void)n;
    sl_graph *g = sl_cf_ctx_graph(c);
    sl_output v = sl_cf_ctx_capture(c, ((var_arg *)arg)->v, st);
    sl_node *onef = t_const_f(g, "onef", 1, sl_cf_ctx_pivot(c));
    sl_node *upd = t_binary(g, "AssignAdd", "update", v, OUT(onef));
    assert_non_null(upd);
    sl_node *one = t_const_i(g, "one", 1, upd);  /* after the update */
    out[0] = OUT(t_binary(g, "TAdd", "inc", in[0], OUT(one)));
    return SL_OK;
}

static void test_loop_body_updates_variable(void **state)
{
    (void)state;
    test_ops_register();
    sl_status *st = sl_status_new();
    sl_graph *g = sl_graph_new(st);
    sl_node *v = variable_f(g, "v");
    sl_node *init = t_binary(g, "Assign", "v/init", OUT(v), OUT(t_const_f(g, "zero", 0, NULL)));
    sl_output vout = OUT(v);
    sl_output vars[1] = {OUT(t_const_i(g, "i0", 0, NULL))}, res[1];
    var_arg va = {5, vout};
    assert_int_equal(sl_while_loop(g, vars, 1, less_than, var_body, &va, "loop", 0, res, st), SL_OK);
    sl_session *s = sl_session_new(g, NULL, st);
    const sl_node *targets[] = {init};
    assert_int_equal(sl_session_run_outputs(s, NULL, NULL, NULL, 0, NULL, NULL, 0, targets, 1, NULL, st), SL_OK);
    sl_tensor *i = run1(s, res[0]);
    assert_int_equal(t_scalar_i(i), 5);
    sl_tensor_unref(i);
    sl_tensor *val = run1(s, vout);
    assert_true(t_scalar_f(val) == 5.0f);
    sl_tensor_unref(val);
    i = run1(s, res[0]);  /* again: the variable keeps counting */
    sl_tensor_unref(i);
    val = run1(s, vout);
    assert_true(t_scalar_f(val) == 10.0f);
    sl_tensor_unref(val);
    sl_session_free(s);
    sl_graph_free(g);
    sl_status_free(st);
}

static void test_ten_thousand_iterations_bounded_memory(void **state)
{
    (void)state;
    test_ops_register();
    sl_status *st = sl_status_new();
    sl_graph *g = sl_graph_new(st);
    sl_output vars[2] = {OUT(t_const_i(g, "i0", 0, NULL)), OUT(t_const_i(g, "acc0", 0, NULL))};
    sl_output res[2];
    int32_t limit = 10000;
    assert_int_equal(sl_while_loop(g, vars, 2, less_than, count_body, &limit, "loop", 0, res, st), SL_OK);
    sl_session *s = sl_session_new(g, NULL, st);
    sl_tensor *i = run1(s, res[0]);  /* prepares and warms up */
    sl_tensor_unref(i);
    sl_alloc_stats before, after;
    sl_alloc_get_stats(&before);
    sl_alloc_reset_peak();
    i = run1(s, res[0]);
    sl_alloc_get_stats(&after);
    assert_int_equal(t_scalar_i(i), 10000);
    sl_tensor_unref(i);
    int64_t growth = after.peak_bytes_in_use - before.bytes_in_use;
    print_message("10,000 iterations: peak %lld bytes above the start, %lld allocations\n", (long long)growth,
                  (long long)(after.num_allocs - before.num_allocs));
    assert_true(growth < 64 * 1024);  /* about ten iterations' state, never 10,000 */
    sl_alloc_get_stats(&after);
    assert_int_equal(after.bytes_in_use, before.bytes_in_use);
    sl_session_free(s);
    sl_graph_free(g);
    sl_status_free(st);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cond_takes_one_branch),
        cmocka_unit_test(test_while_loop_counts),
        cmocka_unit_test(test_nested_loops),
        cmocka_unit_test(test_loop_body_updates_variable),
        cmocka_unit_test(test_ten_thousand_iterations_bounded_memory),
    };
    return cmocka_run_group_tests_name("control-flow", tests, NULL, NULL);
}
