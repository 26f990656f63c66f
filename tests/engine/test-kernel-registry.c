/* Tests of the kernel registry, the kernel context and the eager runner. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "sluice/alloc.h"
#include "sluice/graph.h"
#include "sluice/kernel.h"

static sl_node *const_f32(sl_graph *g, const char *name, float v, sl_status *st)
{
    sl_tensor *t = sl_tensor_new_scalar_float(v, st);
    sl_node_builder *b = sl_node_builder_new(g, "Const", name);
    sl_node_builder_set_attr_type(b, "dtype", SL_DTYPE_FLOAT);
    sl_node_builder_set_attr_tensor(b, "value", t);
    sl_tensor_unref(t);
    return sl_node_builder_finish(b, st);
}

static void test_eager_const_and_identity(void **state)
{
    (void)state;
    sl_status *st = sl_status_new();
    sl_graph *g = sl_graph_new(st);
    sl_node *c = const_f32(g, "c", 2.5f, st);
    assert_non_null(c);
    sl_tensor *out = NULL;
    assert_int_equal(sl_kernel_run_node(c, NULL, &out, NULL, st), SL_OK);
    assert_true(*(float *)sl_tensor_data(out) == 2.5f);

    sl_node_builder *b = sl_node_builder_new(g, "Identity", "id");
    sl_node_builder_add_input(b, (sl_output){c, 0});
    sl_node *id = sl_node_builder_finish(b, st);
    sl_tensor *out2 = NULL;
    const sl_tensor *in[] = {out};
    assert_int_equal(sl_kernel_run_node(id, in, &out2, NULL, st), SL_OK);
    assert_ptr_equal(out2, out);  /* forwarded, not copied */
    sl_tensor_unref(out2);

    /* a wrong input dtype is refused with the node named */
    sl_tensor *i32 = sl_tensor_new_scalar_int32(1, st);
    const sl_tensor *bad[] = {i32};
    assert_int_equal(sl_kernel_run_node(id, bad, &out2, NULL, st), SL_INVALID_ARGUMENT);
    assert_non_null(strstr(sl_status_message(st), "node 'id' (Identity): input 0 should be float but is int32"));
    sl_tensor_unref(i32);
    sl_tensor_unref(out);
    sl_graph_free(g);
    sl_status_free(st);
}

static void test_lookup_without_kernel_names_op_and_types(void **state)
{
    (void)state;
    sl_status *st = sl_status_new();
    sl_op_spec spec = {.name = "TestNoKernel", .inputs = {"x: T"}, .outputs = {"y: T"},
                       .attrs = {"T: {int8, float}"}};
    assert_int_equal(sl_op_register(&spec, st), SL_OK);
    sl_graph *g = sl_graph_new(st);
    sl_node *c = const_f32(g, "c", 1, st);
    sl_node_builder *b = sl_node_builder_new(g, "TestNoKernel", "n");
    sl_node_builder_add_input(b, (sl_output){c, 0});
    sl_node *n = sl_node_builder_finish(b, st);
    assert_non_null(n);
    assert_null(sl_kernel_lookup(n, SL_DEVICE_CPU, st));
    assert_int_equal(sl_status_code(st), SL_NOT_FOUND);
    assert_string_equal(sl_status_message(st), "no CPU kernel for TestNoKernel with T=float");
    assert_false(sl_kernel_exists_for_op("TestNoKernel", NULL));
    assert_true(sl_kernel_exists_for_op("Const", SL_DEVICE_CPU));

    /* bad registrations */
    sl_kernel_def k1 = {.op = "NoSuchOp", .device = SL_DEVICE_CPU, .compute = (void (*)(sl_kernel_ctx *))1};
    assert_int_equal(sl_kernel_register(&k1, st), SL_INVALID_ARGUMENT);
    static sl_kernel_def k2 = {.op = "TestNoKernel", .device = SL_DEVICE_CPU, .constraints = {"U: {float}"},
                               .compute = (void (*)(sl_kernel_ctx *))1};
    assert_int_equal(sl_kernel_register(&k2, st), SL_INVALID_ARGUMENT);
    assert_non_null(strstr(sl_status_message(st), "bad constraint 'U: {float}'"));
    sl_graph_free(g);
    sl_status_free(st);
}

static void test_var_refcount_and_value(void **state)
{
    (void)state;
    sl_status *st = sl_status_new();
    sl_var *v = sl_var_new();
    assert_false(sl_var_is_initialized(v));
    sl_tensor *t = sl_tensor_new_scalar_float(3, st);
    sl_var_lock(v);
    sl_var_set_value(v, t);
    sl_var_unlock(v);
    assert_int_equal(sl_tensor_refcount(t), 2);
    assert_true(sl_var_is_initialized(v));
    sl_var_ref(v);
    sl_var_unref(v);
    sl_var_unref(v);
    assert_int_equal(sl_tensor_refcount(t), 1);
    sl_tensor_unref(t);
    sl_status_free(st);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_eager_const_and_identity),
        cmocka_unit_test(test_lookup_without_kernel_names_op_and_types),
        cmocka_unit_test(test_var_refcount_and_value),
    };
    return cmocka_run_group_tests_name("kernel-registry", tests, NULL, NULL);
}
