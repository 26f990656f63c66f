/* Tests of sessions over several CPU devices (paper 3.2, 4.3): a graph
 * split by device constraints gives the results it gives on one device;
 * the Send/Recv pairs are one per tensor per destination device (Figure
 * 4); each _Recv starts only once its consumer's other inputs are ready;
 * colocation holds; impossible constraints give clear errors through the
 * session; the rendezvous keys have TF's form. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "rendezvous.h"
#include "sluice/alloc.h"
#include "sluice/session.h"
#include "test-build.h"
#include "test-ops.h"

static char dev_buf[8][16];

/* "/device:CPU:<k mod n>" */
static const char *cpu(int k, int n)
{
    char *b = dev_buf[k & 7];
    snprintf(b, 16, "/device:CPU:%d", k % n);
    return b;
}

static sl_node *on(sl_graph *g, const char *op, const char *name, sl_output x, sl_output y, const char *device)
{
    sl_node_builder *b = sl_node_builder_new(g, op, name);
    sl_node_builder_add_input(b, x);
    if (y.node)
        sl_node_builder_add_input(b, y);
    if (device)
        sl_node_builder_set_device(b, device);
    return tb_finish(b);
}

static sl_node *konst(sl_graph *g, const char *name, const float *v, const char *device)
{
    sl_tensor *t = tb_vec_f(4, v);
    sl_node_builder *b = sl_node_builder_new(g, "Const", name);
    sl_node_builder_set_attr_type(b, "dtype", SL_DTYPE_FLOAT);
    sl_node_builder_set_attr_tensor(b, "value", t);
    if (device)
        sl_node_builder_set_device(b, device);
    sl_tensor_unref(t);
    return tb_finish(b);
}

#define O(n) ((sl_output){(n), 0})
#define NONE ((sl_output){NULL, 0})

/* a (dev 0), x placeholder (unconstrained), b (dev 1), c = a * x (dev 1),
 * d = c + b and e = c + x (dev 2), f = d * e (dev 0); devices mod n. */
static sl_graph *split_graph(int n)
{
    sl_status *st = sl_status_new();
    sl_graph *g = sl_graph_new(st);
    sl_node *a = konst(g, "a", (float[]){1, 2, 3, 4}, cpu(0, n));
    sl_node *b = konst(g, "b", (float[]){0.5f, -1, 2, 8}, cpu(1, n));
    sl_node_builder *pb = sl_node_builder_new(g, "Placeholder", "x");
    sl_node_builder_set_attr_type(pb, "dtype", SL_DTYPE_FLOAT);
    sl_shape s4 = sl_shape_vector(4);
    sl_node_builder_set_attr_shape(pb, "shape", &s4);
    sl_node *x = tb_finish(pb);
    sl_node *c = on(g, "Mul", "c", O(a), O(x), cpu(1, n));
    sl_node *d = on(g, "AddV2", "d", O(c), O(b), cpu(2, n));
    sl_node *e = on(g, "AddV2", "e", O(c), O(x), cpu(2, n));
    on(g, "Mul", "f", O(d), O(e), cpu(0, n));
    sl_status_free(st);
    return g;
}

/* Runs the split graph; returns the session, which the caller frees after
 * the stats (their strings are borrowed from it). */
static sl_session *run_split(int devices, sl_tensor **out, sl_step_stats **stats)
{
    sl_status *st = sl_status_new();
    sl_graph *g = split_graph(devices > 1 ? devices : 3);
    sl_session_options so = SL_SESSION_OPTIONS_INIT;
    so.num_cpu_devices = devices;
    so.simple_placement = true;
    sl_session *s = sl_session_new(g, &so, st);
    assert_non_null(s);
    sl_graph_free(g);
    sl_tensor *x = tb_vec_f(4, (float[]){3, -1, 0.25f, 2});
    const char *feeds[] = {"x"}, *fetch[] = {"f", "d", "e", "c"};
    sl_run_options ro = {.collect_step_stats = true};
    for (int step = 0; step < 3; step++) {  /* cached steps give the same */
        if (sl_session_run(s, &ro, feeds, &x, 1, fetch, out, 4, NULL, 0, stats, st) != SL_OK)
            fail_msg("%d devices: %s", devices, sl_status_message(st));
        if (step < 2) {
            for (int i = 0; i < 4; i++)
                sl_tensor_unref(out[i]);
            sl_step_stats_free(*stats);
        }
    }
    sl_tensor_unref(x);
    sl_status_free(st);
    return s;
}

static void test_split_graph_matches_one_device(void **state)
{
    (void)state;
    sl_tensor *ref[4], *got[4];
    sl_step_stats *stats;
    sl_session *s = run_split(1, ref, &stats);
    assert_int_equal(stats->num_devices, 0);  /* one device: no partitions */
    sl_step_stats_free(stats);
    sl_session_free(s);
    for (int n = 2; n <= 4; n++) {
        s = run_split(n, got, &stats);
        for (int i = 0; i < 4; i++) {
            assert_true(sl_tensor_equal(ref[i], got[i]));
            sl_tensor_unref(got[i]);
        }
        /* each node ran where its constraint says */
        for (int i = 0; i < stats->num_nodes; i++) {
            const sl_node_stats *ns = &stats->nodes[i];
            const char *want = NULL;
            if (!strcmp(ns->node_name, "c"))
                want = cpu(1, n);
            else if (!strcmp(ns->node_name, "d") || !strcmp(ns->node_name, "e"))
                want = cpu(2, n);
            else if (!strcmp(ns->node_name, "f"))
                want = cpu(0, n);
            if (want)
                assert_non_null(strstr(ns->device, want));
        }
        sl_step_stats_free(stats);
        sl_session_free(s);
    }
    for (int i = 0; i < 4; i++)
        sl_tensor_unref(ref[i]);
}

/* On 3 devices: Recvs for a, x on 1 (for c); c, b on 2 (for d; e reuses
 * c's); x on 2 (for e); d, e on 0 (for f): 7 pairs, although c has two
 * consumers on device 2. */
static void test_send_recv_pairs_deduplicated(void **state)
{
    (void)state;
    sl_tensor *got[4];
    sl_step_stats *stats;
    sl_session *s = run_split(3, got, &stats);
    for (int i = 0; i < 4; i++)
        sl_tensor_unref(got[i]);
    assert_int_equal(stats->num_devices, 3);
    int sends = 0, recvs = 0, ran_sends = 0, ran_recvs = 0, recv_c_on_2 = 0;
    for (int i = 0; i < stats->num_devices; i++) {
        sends += stats->devices[i].num_sends;
        recvs += stats->devices[i].num_recvs;
        assert_true(stats->devices[i].end_us >= stats->devices[i].start_us);
    }
    for (int i = 0; i < stats->num_nodes; i++) {
        ran_sends += !strcmp(stats->nodes[i].op, "_Send");
        ran_recvs += !strcmp(stats->nodes[i].op, "_Recv");
        recv_c_on_2 += !strcmp(stats->nodes[i].op, "_Recv") && !strncmp(stats->nodes[i].node_name, "c/", 2);
    }
    assert_int_equal(sends, 7);
    assert_int_equal(recvs, 7);
    assert_int_equal(ran_sends, 7);
    assert_int_equal(ran_recvs, 7);
    assert_int_equal(recv_c_on_2, 1);
    print_message("3 devices: %d Send/Recv pairs; per device:", sends);
    for (int i = 0; i < stats->num_devices; i++)
        print_message(" %s %d nodes (%d sends, %d recvs)", strrchr(stats->devices[i].device, '/') + 1,
                      stats->devices[i].num_nodes, stats->devices[i].num_sends, stats->devices[i].num_recvs);
    print_message("\n");
    sl_step_stats_free(stats);
    sl_session_free(s);
}

static const sl_node_stats *find_stats(const sl_step_stats *s, const char *name)
{
    for (int i = 0; i < s->num_nodes; i++)
        if (!strcmp(s->nodes[i].node_name, name))
            return &s->nodes[i];
    fail_msg("no stats for %s", name);
    return NULL;
}

/* dev 0: a = Const; dev 1: y = slow chain of 20 ms from x, z = y + a.
 * a is ready at once, but the Recv of a on device 1 must wait for y. */
static void test_recv_scheduled_as_late_as_allowed(void **state)
{
    (void)state;
    test_ops_register();
    sl_status *st = sl_status_new();
    sl_graph *g = sl_graph_new(st);
    sl_node *a = konst(g, "a", (float[]){1, 1, 1, 1}, "/device:CPU:0");
    sl_node_builder *pb = sl_node_builder_new(g, "Placeholder", "x");
    sl_node_builder_set_attr_type(pb, "dtype", SL_DTYPE_FLOAT);
    sl_node_builder_set_device(pb, "/device:CPU:1");
    sl_node *x = tb_finish(pb);
    sl_node *y = x;
    char name[16];
    for (int i = 0; i < 20; i++) {
        snprintf(name, sizeof(name), "y%d", i);
        y = on(g, "TSlowAdd", name, O(y), O(x), "/device:CPU:1");
    }
    on(g, "TAdd", "z", O(y), O(a), "/device:CPU:1");
    sl_session_options so = SL_SESSION_OPTIONS_INIT;
    so.num_cpu_devices = 2;
    sl_session *s = sl_session_new(g, &so, st);
    sl_graph_free(g);
    sl_tensor *xv = tb_vec_f(4, (float[]){1, 2, 3, 4});
    const char *feeds[] = {"x"}, *fetch[] = {"z"};
    sl_run_options ro = {.collect_step_stats = true};
    sl_step_stats *stats;
    sl_tensor *out;
    assert_int_equal(sl_session_run(s, &ro, feeds, &xv, 1, fetch, &out, 1, NULL, 0, &stats, st), SL_OK);
    assert_true(tb_f(out, 0) == 22 && tb_f(out, 3) == 85);
    const sl_node_stats *recv = find_stats(stats, "a/_recv_0_on_1");
    const sl_node_stats *last = find_stats(stats, "y19");
    const sl_node_stats *send = find_stats(stats, "a/_send_0_to_1");
    assert_true(recv->start_us >= last->end_us);   /* not at the start of the step */
    assert_true(send->end_us < last->end_us);      /* while the value was sent early */
    assert_non_null(strstr(recv->device, "CPU:1"));
    assert_non_null(strstr(send->device, "CPU:0"));
    print_message("recv of a started %lld us after the step, %lld us after its send\n",
                  (long long)(recv->start_us - stats->start_us), (long long)(recv->start_us - send->end_us));
    sl_step_stats_free(stats);
    sl_tensor_unref(out);
    sl_tensor_unref(xv);
    sl_session_free(s);
    sl_status_free(st);
}

static sl_node *variable(sl_graph *g, const char *name, const char *device)
{
    sl_node_builder *b = sl_node_builder_new(g, "VariableV2", name);
    sl_node_builder_set_attr_type(b, "dtype", SL_DTYPE_FLOAT);
    sl_shape s4 = sl_shape_vector(4);
    sl_node_builder_set_attr_shape(b, "shape", &s4);
    if (device)
        sl_node_builder_set_device(b, device);
    return tb_finish(b);
}

static void test_variables_colocate_with_their_updates(void **state)
{
    (void)state;
    sl_status *st = sl_status_new();
    sl_graph *g = sl_graph_new(st);
    sl_node *v = variable(g, "v", "/device:CPU:2");
    sl_node *init = konst(g, "init_value", (float[]){1, 2, 3, 4}, "/device:CPU:0");
    on(g, "Assign", "init", O(v), O(init), NULL);
    sl_node *inc = konst(g, "inc_value", (float[]){10, 10, 10, 10}, "/device:CPU:1");
    on(g, "AssignAdd", "inc", O(v), O(inc), NULL);
    on(g, "Identity", "read", O(v), NONE, "/device:CPU:3");
    sl_session_options so = SL_SESSION_OPTIONS_INIT;
    so.num_cpu_devices = 4;
    sl_session *s = sl_session_new(g, &so, st);
    sl_graph_free(g);
    sl_run_options ro = {.collect_step_stats = true};
    sl_step_stats *stats;
    const char *t1[] = {"init"}, *t2[] = {"inc"}, *fetch[] = {"read"};
    assert_int_equal(sl_session_run(s, &ro, NULL, NULL, 0, NULL, NULL, 0, t1, 1, &stats, st), SL_OK);
    assert_non_null(strstr(find_stats(stats, "init")->device, "CPU:2"));
    sl_step_stats_free(stats);
    assert_int_equal(sl_session_run(s, &ro, NULL, NULL, 0, NULL, NULL, 0, t2, 1, &stats, st), SL_OK);
    assert_non_null(strstr(find_stats(stats, "inc")->device, "CPU:2"));
    sl_step_stats_free(stats);
    sl_tensor *out;
    assert_int_equal(sl_session_run(s, NULL, NULL, NULL, 0, fetch, &out, 1, NULL, 0, NULL, st), SL_OK);
    assert_true(tb_f(out, 0) == 11 && tb_f(out, 3) == 14);
    sl_tensor_unref(out);
    sl_session_free(s);
    sl_status_free(st);
}

static void expect_place_error(sl_graph *g, int devices, const char *fetch, const char *want)
{
    sl_status *st = sl_status_new();
    sl_session_options so = SL_SESSION_OPTIONS_INIT;
    so.num_cpu_devices = devices;
    sl_session *s = sl_session_new(g, &so, st);
    assert_non_null(s);
    const char *f[] = {fetch};
    sl_tensor *out = (sl_tensor *)1;
    for (int i = 0; i < 2; i++) {  /* and again: the session stays usable, the error stays clear */
        assert_int_equal(sl_session_run(s, NULL, NULL, NULL, 0, f, &out, 1, NULL, 0, NULL, st),
                         SL_INVALID_ARGUMENT);
        assert_null(out);
        if (!strstr(sl_status_message(st), want))
            fail_msg("got '%s', want '%s'", sl_status_message(st), want);
    }
    sl_session_free(s);
    sl_status_free(st);
}

static void test_impossible_constraints_through_the_session(void **state)
{
    (void)state;
    sl_status *st = sl_status_new();
    sl_graph *g = sl_graph_new(st);
    konst(g, "far", (float[]){1, 2, 3, 4}, "/device:CPU:7");
    expect_place_error(g, 2, "far",
                       "cannot place the graph: cannot place node 'far': its device constraint '/device:CPU:7' "
                       "matches none of the devices");
    sl_graph_free(g);

    g = sl_graph_new(st);
    sl_node *v = variable(g, "v", "/device:CPU:1");
    sl_node *c = konst(g, "c", (float[]){1, 2, 3, 4}, NULL);
    on(g, "Assign", "bad_init", O(v), O(c), "/device:CPU:0");
    expect_place_error(g, 2, "bad_init", "nodes 'v' and 'bad_init' must be on the same device");
    sl_graph_free(g);

    g = sl_graph_new(st);
    sl_node_builder *b = sl_node_builder_new(g, "Identity", "gpu_only");
    sl_node_builder_add_input(b, O(konst(g, "k", (float[]){1, 2, 3, 4}, NULL)));
    sl_node_builder_set_device(b, "/device:GPU:0");
    tb_finish(b);
    expect_place_error(g, 3, "gpu_only", "cannot place node 'gpu_only'");
    sl_graph_free(g);

    /* a session option out of range */
    sl_session_options so = SL_SESSION_OPTIONS_INIT;
    so.num_cpu_devices = -2;
    g = sl_graph_new(st);
    assert_null(sl_session_new(g, &so, st));
    assert_int_equal(sl_status_code(st), SL_INVALID_ARGUMENT);
    sl_graph_free(g);
    sl_status_free(st);
}

static void test_errors_and_cancellation_cross_devices(void **state)
{
    (void)state;
    test_ops_register();
    sl_status *st = sl_status_new();
    sl_graph *g = sl_graph_new(st);
    sl_node_builder *pb = sl_node_builder_new(g, "Placeholder", "p");
    sl_node_builder_set_attr_type(pb, "dtype", SL_DTYPE_FLOAT);
    sl_shape scalar = sl_shape_scalar();
    sl_node_builder_set_attr_shape(pb, "shape", &scalar);
    sl_node_builder_set_device(pb, "/device:CPU:0");
    sl_node *p = tb_finish(pb);
    sl_node *f = on(g, "TFail", "fail", O(p), NONE, "/device:CPU:0");
    on(g, "TAdd", "after", O(f), O(p), "/device:CPU:1");
    sl_session_options so = SL_SESSION_OPTIONS_INIT;
    so.num_cpu_devices = 2;
    sl_session *s = sl_session_new(g, &so, st);
    sl_graph_free(g);
    const char *feeds[] = {"p"}, *fetch[] = {"after"};
    sl_tensor *v = sl_tensor_new_scalar_float(-1, st), *out = NULL;
    /* the failure on CPU:0 ends the step on CPU:1, which waits for its Recv */
    assert_int_equal(sl_session_run(s, NULL, feeds, &v, 1, fetch, &out, 1, NULL, 0, NULL, st), SL_INVALID_ARGUMENT);
    assert_string_equal(sl_status_message(st), "node 'fail' (TFail): boom at -1");
    sl_tensor_unref(v);
    v = sl_tensor_new_scalar_float(2, st);
    assert_int_equal(sl_session_run(s, NULL, feeds, &v, 1, fetch, &out, 1, NULL, 0, NULL, st), SL_OK);
    assert_true(tb_f(out, 0) == 4);
    sl_tensor_unref(out);
    sl_tensor_unref(v);
    sl_session_free(s);
    sl_status_free(st);
}

static void test_rendezvous_key_format(void **state)
{
    (void)state;
    char *k = sl__rendezvous_make_key("/job:worker/replica:0/task:0/device:CPU:0", 0x8f3a9c1d2e4b5a60ULL,
                                      "/job:ps/replica:0/task:0/device:CPU:0", "edge_5_x", 0, 0);
    assert_string_equal(k, "/job:worker/replica:0/task:0/device:CPU:0;8f3a9c1d2e4b5a60;"
                           "/job:ps/replica:0/task:0/device:CPU:0;edge_5_x;0:0");
    sl_free(k);
    k = sl__rendezvous_make_key("/d:0", 1, "/d:1", "t", 77, 3);
    assert_string_equal(k, "/d:0;1;/d:1;t;77:3");
    sl_free(k);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_split_graph_matches_one_device),
        cmocka_unit_test(test_send_recv_pairs_deduplicated),
        cmocka_unit_test(test_recv_scheduled_as_late_as_allowed),
        cmocka_unit_test(test_variables_colocate_with_their_updates),
        cmocka_unit_test(test_impossible_constraints_through_the_session),
        cmocka_unit_test(test_errors_and_cancellation_cross_devices),
        cmocka_unit_test(test_rendezvous_key_format),
    };
    return cmocka_run_group_tests_name("multi-device", tests, NULL, NULL);
}
