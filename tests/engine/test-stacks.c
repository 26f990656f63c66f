/* Tests of the stack ops (engine/runtime/stack-kernels.c) through a
 * session: last in, first out within a step; a pop of an empty stack, a
 * push of the wrong dtype, past max_size or after StackCloseV2 fail with a
 * message naming the stack; a new step starts with a new, empty stack. */
#include "graph-helpers.h"

#include "sluice/session.h"

/* push a, push b, pop, pop (ordered by control edges); the pops are
 * fetched.  extra: "pop3" pops a third time, "close" closes before the
 * pops, "wrong" pushes an int32 too, "small" sets max_size 1. */
static sl_graph *stack_graph(const char *extra, sl_output *a, sl_output *b, sl_output *pops)
{
    sl_status *st = sl_status_new();
    sl_graph *g = sl_graph_new(st);
    *a = th_ph(g, "a", SL_DTYPE_FLOAT, TH_DIMS(2));
    *b = th_ph(g, "b", SL_DTYPE_FLOAT, TH_DIMS(3));
    sl_node_builder *nb = sl_node_builder_new(g, "StackV2", "s");
    sl_node_builder_add_input(nb, th_scalar_i32(g, !strcmp(extra, "small") ? 1 : -1));
    sl_node_builder_set_attr_type(nb, "elem_type", SL_DTYPE_FLOAT);
    sl_node_builder_set_attr_string(nb, "stack_name", "acc", 3);
    sl_output h = {th_finish(nb), 0};
    sl_node *last = NULL;
    sl_output in[3] = {*a, *b, th_scalar_i32(g, 7)};
    for (int i = 0; i < (!strcmp(extra, "wrong") ? 3 : 2); i++) {
        nb = sl_node_builder_new(g, "StackPushV2", NULL);
        sl_node_builder_add_input(nb, h);
        sl_node_builder_add_input(nb, in[i]);
        if (last)
            sl_node_builder_add_control_input(nb, last);
        last = th_finish(nb);
    }
    if (!strcmp(extra, "close")) {
        nb = sl_node_builder_new(g, "StackCloseV2", NULL);
        sl_node_builder_add_input(nb, h);
        sl_node_builder_add_control_input(nb, last);
        last = th_finish(nb);
    }
    for (int i = 0; i < (!strcmp(extra, "pop3") ? 3 : 2); i++) {
        nb = sl_node_builder_new(g, "StackPopV2", NULL);
        sl_node_builder_add_input(nb, h);
        sl_node_builder_set_attr_type(nb, "elem_type", SL_DTYPE_FLOAT);
        sl_node_builder_add_control_input(nb, last);
        last = th_finish(nb);
        pops[i] = (sl_output){last, 0};
    }
    sl_status_free(st);
    return g;
}

static sl_code run(const char *extra, sl_tensor **got, int nfetch, sl_status *st)
{
    sl_output a, b, pops[3];
    sl_graph *g = stack_graph(extra, &a, &b, pops);
    sl_session *s = sl_session_new(g, NULL, st);
    assert_non_null(s);
    sl_shape s2 = sl_shape_vector(2), s3 = sl_shape_vector(3);
    sl_tensor *va = sl_tensor_new(SL_DTYPE_FLOAT, &s2, NULL), *vb = sl_tensor_new(SL_DTYPE_FLOAT, &s3, NULL);
    ((float *)sl_tensor_data(va))[0] = 1.5f;
    ((float *)sl_tensor_data(vb))[0] = 2.5f;
    sl_output feeds[2] = {a, b};
    sl_tensor *fv[2] = {va, vb};
    sl_code rc = SL_OK;
    for (int step = 0; step < 2 && rc == SL_OK; step++) {   /* each step starts from an empty stack */
        for (int i = 0; i < nfetch; i++) {
            sl_tensor_unref(got[i]);
            got[i] = NULL;
        }
        rc = sl_session_run_outputs(s, NULL, feeds, fv, 2, pops, got, nfetch, NULL, 0, NULL, st);
    }
    sl_tensor_unref(va);
    sl_tensor_unref(vb);
    sl_session_free(s);
    sl_graph_free(g);
    return rc;
}

static void test_stack_is_last_in_first_out(void **state)
{
    (void)state;
    sl_status *st = sl_status_new();
    sl_tensor *got[2] = {0};
    assert_int_equal(run("", got, 2, st), SL_OK);
    assert_int_equal(sl_tensor_num_elements(got[0]), 3);
    assert_true(((float *)sl_tensor_data(got[0]))[0] == 2.5f);
    assert_int_equal(sl_tensor_num_elements(got[1]), 2);
    assert_true(((float *)sl_tensor_data(got[1]))[0] == 1.5f);
    sl_tensor_unref(got[0]);
    sl_tensor_unref(got[1]);
    sl_status_free(st);
}

static void expect_failure(const char *extra, int nfetch, const char *msg)
{
    sl_status *st = sl_status_new();
    sl_tensor *got[3] = {0};
    assert_int_equal(run(extra, got, nfetch, st), SL_INVALID_ARGUMENT);
    if (!strstr(sl_status_message(st), msg))
        fail_msg("%s: %s", extra, sl_status_message(st));
    for (int i = 0; i < 3; i++)
        assert_null(got[i]);
    sl_status_free(st);
}

static void test_stack_errors(void **state)
{
    (void)state;
    expect_failure("pop3", 3, "stack 'acc' is empty");
    expect_failure("close", 2, "stack 'acc' has already been closed");
    expect_failure("wrong", 2, "stack 'acc' holds float, cannot push int32");
    expect_failure("small", 2, "stack 'acc' overflowed its max_size (1)");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_stack_is_last_in_first_out),
        cmocka_unit_test(test_stack_errors),
    };
    return cmocka_run_group_tests_name("stacks", tests, NULL, NULL);
}
