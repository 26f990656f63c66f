/* Tests of variables through sessions (paper 4.7): TF1 reference variables
 * (uninitialized reads, Assign with and without validate_shape, AssignAdd,
 * AssignSub, IsVariableInitialized), resource variables (VarHandleOp,
 * Read/Assign/AssignAdd/AssignSubVariableOp, VarIsInitializedOp,
 * DestroyResourceOp), containers that are reset, and variables shared by
 * two sessions over one resource manager. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "sluice/resource.h"
#include "sluice/session.h"
#include "test-build.h"

static sl_node *variable(sl_graph *g, const char *name, int64_t n, const char *container)
{
    sl_node_builder *b = sl_node_builder_new(g, "VariableV2", name);
    sl_node_builder_set_attr_type(b, "dtype", SL_DTYPE_FLOAT);
    sl_shape s = sl_shape_vector(n);
    sl_node_builder_set_attr_shape(b, "shape", &s);
    if (container)
        sl_node_builder_set_attr_string(b, "container", container, strlen(container));
    return tb_finish(b);
}

static sl_node *assign(sl_graph *g, const char *op, const char *name, sl_node *var, sl_node *value, int validate)
{
    sl_node_builder *b = sl_node_builder_new(g, op, name);
    sl_node_builder_add_input(b, (sl_output){var, 0});
    sl_node_builder_add_input(b, (sl_output){value, 0});
    if (validate >= 0)
        sl_node_builder_set_attr_bool(b, "validate_shape", validate);
    return tb_finish(b);
}

/* v: float[2]; init = Assign(v, [1, 2]); grow = Assign(v, [1, 2, 3])
 * validating and grow_free not; add = AssignAdd(v, [10, 20]);
 * sub = AssignSub(v, [1, 1]); read = Identity(v); inited =
 * IsVariableInitialized(v); w in container "c1" with its own init. */
static sl_graph *ref_graph(void)
{
    sl_status *st = sl_status_new();
    sl_graph *g = sl_graph_new(st);
    sl_node *v = variable(g, "v", 2, NULL);
    sl_node *one_two = tb_const_vec_f(g, "one_two", 2, (float[]){1, 2});
    sl_node *three = tb_const_vec_f(g, "three", 3, (float[]){1, 2, 3});
    sl_node *tens = tb_const_vec_f(g, "tens", 2, (float[]){10, 20});
    sl_node *ones = tb_const_vec_f(g, "ones", 2, (float[]){1, 1});
    assign(g, "Assign", "init", v, one_two, -1);
    assign(g, "Assign", "grow", v, three, 1);
    assign(g, "Assign", "grow_free", v, three, 0);
    assign(g, "AssignAdd", "add", v, tens, -1);
    assign(g, "AssignSub", "sub", v, ones, -1);
    tb_unary(g, "Identity", "read", (sl_output){v, 0});
    sl_node_builder *b = sl_node_builder_new(g, "IsVariableInitialized", "inited");
    sl_node_builder_add_input(b, (sl_output){v, 0});
    tb_finish(b);
    sl_node *w = variable(g, "w", 2, "c1");
    assign(g, "Assign", "init_w", w, one_two, -1);
    sl_status_free(st);
    return g;
}

static void expect_vec(sl_session *s, const char *fetch, int64_t n, const float *want)
{
    sl_status *st = sl_status_new();
    sl_tensor *t = tb_fetch(s, fetch, st);
    if (!t)
        fail_msg("fetch %s: %s", fetch, sl_status_message(st));
    assert_int_equal(sl_tensor_num_elements(t), n);
    for (int64_t i = 0; i < n; i++)
        assert_true(tb_f(t, i) == want[i]);
    sl_tensor_unref(t);
    sl_status_free(st);
}

static bool fetch_bool(sl_session *s, const char *fetch)
{
    sl_status *st = sl_status_new();
    sl_tensor *t = tb_fetch(s, fetch, st);
    assert_non_null(t);
    bool v = *(const bool *)sl_tensor_data(t);
    sl_tensor_unref(t);
    sl_status_free(st);
    return v;
}

static void test_uninitialized_read_names_variable(void **state)
{
    (void)state;
    sl_status *st = sl_status_new();
    sl_graph *g = ref_graph();
    sl_session *s = sl_session_new(g, NULL, st);
    sl_graph_free(g);
    assert_false(fetch_bool(s, "inited"));
    /* through a consumer and as a fetch of the variable itself */
    const char *names[] = {"read", "v", "add"};
    for (int i = 0; i < 3; i++) {
        assert_null(tb_fetch(s, names[i], st));
        assert_int_equal(sl_status_code(st), SL_FAILED_PRECONDITION);
        assert_non_null(strstr(sl_status_message(st), "uninitialized value v"));
    }
    /* the session stays usable: initialize, then read */
    assert_int_equal(tb_target(s, "init", st), SL_OK);
    assert_true(fetch_bool(s, "inited"));
    expect_vec(s, "read", 2, (float[]){1, 2});
    expect_vec(s, "v", 2, (float[]){1, 2});
    sl_session_free(s);
    sl_status_free(st);
}

static void test_assign_validate_shape(void **state)
{
    (void)state;
    sl_status *st = sl_status_new();
    sl_graph *g = ref_graph();
    sl_session *s = sl_session_new(g, NULL, st);
    sl_graph_free(g);
    assert_int_equal(tb_target(s, "init", st), SL_OK);
    assert_int_equal(tb_target(s, "grow", st), SL_INVALID_ARGUMENT);
    assert_non_null(strstr(sl_status_message(st), "node 'grow' (Assign)"));
    assert_non_null(strstr(sl_status_message(st), "shapes to match"));
    expect_vec(s, "v", 2, (float[]){1, 2});  /* unchanged */
    assert_int_equal(tb_target(s, "grow_free", st), SL_OK);
    expect_vec(s, "read", 3, (float[]){1, 2, 3});
    sl_session_free(s);
    sl_status_free(st);
}

static void test_assign_add_and_sub(void **state)
{
    (void)state;
    sl_status *st = sl_status_new();
    sl_graph *g = ref_graph();
    sl_session *s = sl_session_new(g, NULL, st);
    sl_graph_free(g);
    assert_int_equal(tb_target(s, "init", st), SL_OK);
    /* a value fetched before an update keeps its contents (copy on write) */
    sl_tensor *before = tb_fetch(s, "read", st);
    expect_vec(s, "add", 2, (float[]){11, 22});
    expect_vec(s, "add", 2, (float[]){21, 42});
    expect_vec(s, "sub", 2, (float[]){20, 41});
    assert_true(tb_f(before, 0) == 1 && tb_f(before, 1) == 2);
    sl_tensor_unref(before);
    expect_vec(s, "read", 2, (float[]){20, 41});
    sl_session_free(s);
    sl_status_free(st);
}

static void test_container_reset(void **state)
{
    (void)state;
    sl_status *st = sl_status_new();
    sl_graph *g = ref_graph();
    sl_session *s = sl_session_new(g, NULL, st);
    sl_graph_free(g);
    const char *targets[] = {"init", "init_w"};
    assert_int_equal(tb_run(s, NULL, NULL, 0, NULL, NULL, 0, targets, 2, st), SL_OK);
    sl_resource_mgr *rm = sl_session_resources(s);
    assert_int_equal(sl_resource_mgr_count(rm, "c1"), 1);
    assert_int_equal(sl_resource_mgr_reset(rm, "c1"), 1);
    assert_int_equal(sl_resource_mgr_count(rm, "c1"), 0);
    /* w is gone (a new, uninitialized one is made on its next use); v stays */
    assert_null(tb_fetch(s, "w", st));
    assert_int_equal(sl_status_code(st), SL_FAILED_PRECONDITION);
    assert_non_null(strstr(sl_status_message(st), "uninitialized value w"));
    expect_vec(s, "v", 2, (float[]){1, 2});
    /* resetting everything drops v too */
    assert_true(sl_resource_mgr_reset(rm, NULL) >= 1);
    assert_false(fetch_bool(s, "inited"));
    sl_session_free(s);
    sl_status_free(st);
}

/* h = VarHandleOp(shared_name "r"); set = AssignVariableOp(h, 5);
 * inc = AssignAddVariableOp(h, 1); dec = AssignSubVariableOp(h, 2);
 * get = ReadVariableOp(h); ok = VarIsInitializedOp(h);
 * kill = DestroyResourceOp(h); kill_strict the same without
 * ignore_lookup_error. */
static sl_graph *resource_graph(void)
{
    sl_status *st = sl_status_new();
    sl_graph *g = sl_graph_new(st);
    sl_node_builder *b = sl_node_builder_new(g, "VarHandleOp", "h");
    sl_node_builder_set_attr_type(b, "dtype", SL_DTYPE_FLOAT);
    sl_shape scalar = sl_shape_scalar();
    sl_node_builder_set_attr_shape(b, "shape", &scalar);
    sl_node_builder_set_attr_string(b, "shared_name", "r", 1);
    sl_node *h = tb_finish(b);
    sl_node *five = tb_const_tensor(g, "five", sl_tensor_new_scalar_float(5, st));
    sl_node *one = tb_const_tensor(g, "one", sl_tensor_new_scalar_float(1, st));
    sl_node *two = tb_const_tensor(g, "two", sl_tensor_new_scalar_float(2, st));
    const char *ops[] = {"AssignVariableOp", "AssignAddVariableOp", "AssignSubVariableOp"};
    const char *names[] = {"set", "inc", "dec"};
    sl_node *vals[] = {five, one, two};
    for (int i = 0; i < 3; i++) {
        b = sl_node_builder_new(g, ops[i], names[i]);
        sl_node_builder_add_input(b, (sl_output){h, 0});
        sl_node_builder_add_input(b, (sl_output){vals[i], 0});
        tb_finish(b);
    }
    b = sl_node_builder_new(g, "ReadVariableOp", "get");
    sl_node_builder_add_input(b, (sl_output){h, 0});
    sl_node_builder_set_attr_type(b, "dtype", SL_DTYPE_FLOAT);
    tb_finish(b);
    tb_unary(g, "VarIsInitializedOp", "ok", (sl_output){h, 0});
    tb_unary(g, "DestroyResourceOp", "kill", (sl_output){h, 0});
    b = sl_node_builder_new(g, "DestroyResourceOp", "kill_strict");
    sl_node_builder_add_input(b, (sl_output){h, 0});
    sl_node_builder_set_attr_bool(b, "ignore_lookup_error", false);
    tb_finish(b);
    sl_status_free(st);
    return g;
}

static float fetch_scalar(sl_session *s, const char *name)
{
    sl_status *st = sl_status_new();
    sl_tensor *t = tb_fetch(s, name, st);
    if (!t)
        fail_msg("fetch %s: %s", name, sl_status_message(st));
    float v = tb_f(t, 0);
    sl_tensor_unref(t);
    sl_status_free(st);
    return v;
}

static void test_resource_variables(void **state)
{
    (void)state;
    sl_status *st = sl_status_new();
    sl_graph *g = resource_graph();
    sl_session *s = sl_session_new(g, NULL, st);
    sl_graph_free(g);
    assert_false(fetch_bool(s, "ok"));
    /* reading before any assignment: the variable does not exist yet */
    assert_null(tb_fetch(s, "get", st));
    assert_int_equal(sl_status_code(st), SL_NOT_FOUND);
    assert_non_null(strstr(sl_status_message(st), "node 'get' (ReadVariableOp)"));
    assert_int_equal(tb_target(s, "inc", st), SL_NOT_FOUND);

    assert_int_equal(tb_target(s, "set", st), SL_OK);
    assert_true(fetch_bool(s, "ok"));
    assert_true(fetch_scalar(s, "get") == 5);
    assert_int_equal(tb_target(s, "inc", st), SL_OK);
    assert_int_equal(tb_target(s, "inc", st), SL_OK);
    assert_int_equal(tb_target(s, "dec", st), SL_OK);
    assert_true(fetch_scalar(s, "get") == 5);
    assert_int_equal(sl_resource_mgr_count(sl_session_resources(s), ""), 1);

    /* destroying drops it; reads fail again, destroying twice is an error
     * only without ignore_lookup_error */
    assert_int_equal(tb_target(s, "kill", st), SL_OK);
    assert_int_equal(sl_resource_mgr_count(sl_session_resources(s), ""), 0);
    assert_false(fetch_bool(s, "ok"));
    assert_null(tb_fetch(s, "get", st));
    assert_int_equal(sl_status_code(st), SL_NOT_FOUND);
    assert_int_equal(tb_target(s, "kill", st), SL_OK);
    assert_int_equal(tb_target(s, "kill_strict", st), SL_NOT_FOUND);
    assert_non_null(strstr(sl_status_message(st), "node 'kill_strict' (DestroyResourceOp)"));
    /* and it can be made again */
    assert_int_equal(tb_target(s, "set", st), SL_OK);
    assert_true(fetch_scalar(s, "get") == 5);
    sl_session_free(s);
    sl_status_free(st);
}

static void test_resource_container_reset(void **state)
{
    (void)state;
    sl_status *st = sl_status_new();
    sl_graph *g = resource_graph();
    sl_session *s = sl_session_new(g, NULL, st);
    sl_graph_free(g);
    assert_int_equal(tb_target(s, "set", st), SL_OK);
    /* a value read before the reset stays valid after it */
    sl_tensor *kept = tb_fetch(s, "get", st);
    assert_int_equal(sl_resource_mgr_reset(sl_session_resources(s), ""), 1);
    assert_false(fetch_bool(s, "ok"));
    assert_true(tb_f(kept, 0) == 5);
    sl_tensor_unref(kept);
    sl_session_free(s);
    sl_status_free(st);
}

static void test_sessions_share_variables_through_a_manager(void **state)
{
    (void)state;
    sl_status *st = sl_status_new();
    sl_resource_mgr *rm = sl_resource_mgr_new();
    sl_session_options so = SL_SESSION_OPTIONS_INIT;
    so.resources = rm;
    sl_graph *g = ref_graph();
    sl_session *a = sl_session_new(g, &so, st);
    sl_session *b = sl_session_new(g, &so, st);
    sl_graph_free(g);
    assert_int_equal(tb_target(a, "init", st), SL_OK);
    expect_vec(b, "add", 2, (float[]){11, 22});
    expect_vec(a, "read", 2, (float[]){11, 22});
    sl_session_free(a);
    expect_vec(b, "read", 2, (float[]){11, 22});  /* the lent manager outlives a */
    sl_session_free(b);
    sl_resource_mgr_free(rm);
    sl_status_free(st);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_uninitialized_read_names_variable),
        cmocka_unit_test(test_assign_validate_shape),
        cmocka_unit_test(test_assign_add_and_sub),
        cmocka_unit_test(test_container_reset),
        cmocka_unit_test(test_resource_variables),
        cmocka_unit_test(test_resource_container_reset),
        cmocka_unit_test(test_sessions_share_variables_through_a_manager),
    };
    return cmocka_run_group_tests_name("variables", tests, NULL, NULL);
}
