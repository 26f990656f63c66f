/* The no-GPU fallback: on a machine without a GPU (or a build without
 * CUDA) the GPU device is simply absent, says why in one clean line, every
 * call that needs it fails with SL_UNAVAILABLE instead of crashing, the
 * placer puts everything on the CPU, and the CPU computes the results.
 * Exits 77 (skipped) on a machine that has a GPU. */
#include "kernel-test-util.h"

#include <stdlib.h>

#include "sluice/device.h"
#include "sluice/gpu.h"
#include "sluice/session.h"

static void test_gpu_is_absent_with_one_clean_line(void **state)
{
    (void)state;
    assert_int_equal(sl_gpu_count(), 0);
    const char *msg = sl_gpu_message();
    assert_non_null(msg);
    assert_true(!strncmp(msg, "no GPU: ", 8));
    assert_null(strchr(msg, '\n'));
    assert_true(strlen(msg) < 200);
    sl_status *st = sl_status_new();
    assert_null(sl_gpu_device_get(0, st));
    assert_int_equal(sl_status_code(st), SL_UNAVAILABLE);
    assert_string_equal(sl_status_message(st), msg);
    sl_gpu_info info;
    assert_int_equal(sl_gpu_get_info(0, &info, st), SL_NOT_FOUND);
    sl_status_free(st);
}

/* A graph "mm" = MatMul(Const a, Const b) (a and b borrowed). */
static sl_graph *const_matmul_graph(const sl_tensor *a, const sl_tensor *b, sl_node **mm, sl_status *st)
{
    sl_graph *g = sl_graph_new(st);
    sl_node *k[2];
    for (int i = 0; i < 2; i++) {
        sl_node_builder *kb = sl_node_builder_new(g, "Const", i ? "b" : "a");
        sl_node_builder_set_attr_type(kb, "dtype", SL_DTYPE_FLOAT);
        sl_node_builder_set_attr_tensor(kb, "value", i ? b : a);
        k[i] = sl_node_builder_finish(kb, st);
    }
    sl_node_builder *mb = sl_node_builder_new(g, "MatMul", "mm");
    sl_node_builder_add_input(mb, (sl_output){k[0], 0});
    sl_node_builder_add_input(mb, (sl_output){k[1], 0});
    *mm = sl_node_builder_finish(mb, st);
    assert_non_null(*mm);
    return g;
}

static void test_graph_places_and_runs_on_the_cpu(void **state)
{
    (void)state;
    /* a MatMul that prefers nothing: the only device offered is the CPU */
    tk_graph tg;
    tk_begin(&tg, "MatMul", "mm");
    tk_in(&tg, SL_DTYPE_FLOAT);
    tk_in(&tg, SL_DTYPE_FLOAT);
    sl_node *n = tk_finish(&tg);
    sl_tensor *a = tk_random(SL_DTYPE_FLOAT, sl_shape_matrix(3, 4), -1, 1);
    sl_tensor *b = tk_random(SL_DTYPE_FLOAT, sl_shape_matrix(4, 2), -1, 1);
    sl_status *st = sl_status_new();
    {   /* the same product from constants, placed with the devices the
         * machine offers: only the CPU */
        sl_node *mm;
        sl_graph *g = const_matmul_graph(a, b, &mm, st);
        char devices[2][SL_DEVICE_NAME_MAX];
        const char *names[2] = {devices[0], devices[1]};
        int nd = 0;
        snprintf(devices[nd++], SL_DEVICE_NAME_MAX, "/job:localhost/replica:0/task:0/device:CPU:0");
        for (int i = 0; i < sl_gpu_count() && nd < 2; i++)
            snprintf(devices[nd++], SL_DEVICE_NAME_MAX, "/job:localhost/replica:0/task:0/device:GPU:%d", i);
        assert_int_equal(nd, 1);
        int assign[8];
        if (sl_place(g, names, nd, NULL, assign, st) != SL_OK)
            fail_msg("%s", sl_status_message(st));
        assert_int_equal(assign[sl_node_id(mm)], 0);
        sl_graph_free(g);
    }
    const sl_tensor *in[] = {a, b};
    sl_tensor *c = NULL;
    /* the GPU runner refuses cleanly ... */
    assert_int_not_equal(sl_gpu_run_node(sl_gpu_device_get(0, st), n, in, NULL, &c, st), SL_OK);
    assert_null(c);
    /* ... and the CPU computes */
    assert_int_equal(sl_cpu_run_node_vars(n, in, NULL, &c, st), SL_OK);
    double want[6] = {0};
    for (int i = 0; i < 3; i++)
        for (int j = 0; j < 2; j++)
            for (int k = 0; k < 4; k++)
                want[i * 2 + j] += tk_get(a, i * 4 + k) * tk_get(b, k * 2 + j);
    tk_expect_close(c, want, 1e-6, 1e-6, "MatMul on the CPU");
    sl_tensor_unref(a);
    sl_tensor_unref(b);
    sl_tensor_unref(c);
    sl_status_free(st);
    tk_end(&tg);
}

/* A session asked to use the GPU on a machine without one runs on the CPU,
 * on one device, with the same result. */
static void test_session_asked_for_the_gpu_runs_on_the_cpu(void **state)
{
    (void)state;
    sl_status *st = sl_status_new();
    sl_tensor *a = tk_random(SL_DTYPE_FLOAT, sl_shape_matrix(2, 3), -1, 1);
    sl_tensor *b = tk_random(SL_DTYPE_FLOAT, sl_shape_matrix(3, 2), -1, 1);
    sl_node *mm;
    sl_graph *g = const_matmul_graph(a, b, &mm, st);
    sl_session_options so = SL_SESSION_OPTIONS_INIT;
    so.use_gpu = true;
    so.disable_constant_folding = true;
    sl_session *s = sl_session_new(g, &so, st);
    assert_non_null(s);
    const char *fetch[] = {"mm"};
    sl_tensor *out = NULL;
    sl_run_options ro = SL_RUN_OPTIONS_INIT;
    ro.collect_step_stats = true;
    sl_step_stats *stats = NULL;
    if (sl_session_run(s, &ro, NULL, NULL, 0, fetch, &out, 1, NULL, 0, &stats, st) != SL_OK)
        fail_msg("%s", sl_status_message(st));
    assert_non_null(stats);
    for (int i = 0; i < stats->num_nodes; i++)
        assert_non_null(strstr(stats->nodes[i].device, "CPU:0"));
    double want[4] = {0};
    for (int i = 0; i < 2; i++)
        for (int j = 0; j < 2; j++)
            for (int q = 0; q < 3; q++)
                want[i * 2 + j] += tk_get(a, i * 3 + q) * tk_get(b, q * 2 + j);
    tk_expect_close(out, want, 1e-6, 1e-6, "MatMul in a session asked for the GPU");
    sl_step_stats_free(stats);
    sl_tensor_unref(out);
    sl_session_free(s);
    sl_graph_free(g);
    sl_tensor_unref(a);
    sl_tensor_unref(b);
    sl_status_free(st);
}

int main(void)
{
    if (sl_gpu_count() > 0) {
        printf("a GPU is present (%s): the fallback cannot be tested here\n", sl_gpu_message());
        return 77;
    }
    printf("%s\n", sl_gpu_message());
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_gpu_is_absent_with_one_clean_line),
        cmocka_unit_test(test_graph_places_and_runs_on_the_cpu),
        cmocka_unit_test(test_session_asked_for_the_gpu_runs_on_the_cpu),
    };
    return cmocka_run_group_tests_name("gpu-fallback", tests, NULL, NULL);
}
