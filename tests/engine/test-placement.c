/* Tests of device names, placement and partitioning (paper 3.2). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "sluice/alloc.h"
#include "sluice/device.h"
#include "sluice/graph.h"
#include "sluice/kernel.h"

static const char *const cpus[] = {
    "/job:localhost/replica:0/task:0/device:CPU:0",
    "/job:localhost/replica:0/task:0/device:CPU:1",
    "/job:localhost/replica:0/task:0/device:CPU:2",
    "/job:localhost/replica:0/task:0/device:CPU:3",
};

static void nothing(sl_kernel_ctx *ctx) { (void)ctx; }

/* Test ops: a reference "variable", a user of it, and an op with only a
 * GPU kernel. */
static int setup(void **state)
{
    (void)state;
    static int done;
    if (done)
        return 0;
    done = 1;
    sl_status *st = sl_status_new();
    static const sl_op_spec specs[] = {
        {.name = "TestVar", .outputs = {"ref: Ref(float)"}},
        {.name = "TestUseRef", .inputs = {"ref: Ref(float)", "v: float"}, .outputs = {"out: Ref(float)"}},
        {.name = "TestGpuOnly", .inputs = {"x: float"}, .outputs = {"y: float"}},
        /* CPU-only whether or not the CUDA kernels are built */
        {.name = "TestCpuOnly", .inputs = {"x: float"}, .outputs = {"y: float"}},
    };
    static const sl_kernel_def kernels[] = {
        {.op = "TestVar", .device = SL_DEVICE_CPU, .compute = nothing},
        {.op = "TestUseRef", .device = SL_DEVICE_CPU, .compute = nothing},
        {.op = "TestGpuOnly", .device = SL_DEVICE_GPU, .compute = nothing},
        {.op = "TestCpuOnly", .device = SL_DEVICE_CPU, .compute = nothing},
        {.op = "Const", .device = SL_DEVICE_GPU, .compute = nothing},
    };
    for (size_t i = 0; i < sizeof(specs) / sizeof(specs[0]); i++)
        assert_int_equal(sl_op_register(&specs[i], st), SL_OK);
    for (size_t i = 0; i < sizeof(kernels) / sizeof(kernels[0]); i++)
        assert_int_equal(sl_kernel_register(&kernels[i], st), SL_OK);
    sl_status_free(st);
    return 0;
}

static sl_node *konst(sl_graph *g, const char *name, int64_t n, const char *device, sl_status *st)
{
    sl_shape s = sl_shape_vector(n);
    sl_tensor *t = sl_tensor_new(SL_DTYPE_FLOAT, &s, st);
    sl_node_builder *b = sl_node_builder_new(g, "Const", name);
    sl_node_builder_set_attr_type(b, "dtype", SL_DTYPE_FLOAT);
    sl_node_builder_set_attr_tensor(b, "value", t);
    if (device)
        sl_node_builder_set_device(b, device);
    sl_tensor_unref(t);
    sl_node *node = sl_node_builder_finish(b, st);
    assert_non_null(node);
    return node;
}

static sl_node *unary(sl_graph *g, const char *op, const char *name, sl_node *in, const char *device,
                      sl_status *st)
{
    sl_node_builder *b = sl_node_builder_new(g, op, name);
    sl_node_builder_add_input(b, (sl_output){in, 0});
    if (device)
        sl_node_builder_set_device(b, device);
    sl_node *node = sl_node_builder_finish(b, st);
    if (!node)
        fail_msg("%s", sl_status_message(st));
    return node;
}

static void test_device_names(void **state)
{
    (void)state;
    sl_status *st = sl_status_new();
    sl_device_name n, c, m;
    char buf[SL_DEVICE_NAME_MAX];
    assert_int_equal(sl_device_name_parse("/job:worker/replica:0/task:1/device:GPU:3", &n, st), SL_OK);
    assert_string_equal(n.job, "worker");
    assert_int_equal(n.task, 1);
    assert_string_equal(n.type, "GPU");
    assert_int_equal(n.id, 3);
    assert_string_equal(sl_device_name_format(&n, buf, sizeof(buf)), "/job:worker/replica:0/task:1/device:GPU:3");
    /* legacy lower-case form, as in TF 1.0 graphs */
    assert_int_equal(sl_device_name_parse("/job:localhost/replica:0/task:0/cpu:0", &n, st), SL_OK);
    assert_string_equal(sl_device_name_format(&n, buf, sizeof(buf)), "/job:localhost/replica:0/task:0/device:CPU:0");
    assert_int_equal(sl_device_name_parse("/device:GPU:*", &c, st), SL_OK);
    assert_true(c.has_type && !c.has_id);
    assert_false(sl_device_name_matches(&n, &c));
    assert_int_equal(sl_device_name_parse("/cpu:0", &c, st), SL_OK);
    assert_true(sl_device_name_matches(&n, &c));
    assert_int_equal(sl_device_name_parse("", &c, st), SL_OK);
    assert_true(sl_device_name_matches(&n, &c));
    /* merge and conflict */
    sl_device_name a, b;
    sl_device_name_parse("/job:ps", &a, st);
    sl_device_name_parse("/device:CPU:1", &b, st);
    assert_int_equal(sl_device_name_merge(&a, &b, &m, st), SL_OK);
    assert_string_equal(sl_device_name_format(&m, buf, sizeof(buf)), "/job:ps/device:CPU:1");
    sl_device_name_parse("/job:worker", &b, st);
    assert_int_equal(sl_device_name_merge(&a, &b, &m, st), SL_INVALID_ARGUMENT);
    assert_non_null(strstr(sl_status_message(st), "'/job:ps' and '/job:worker' conflict"));
    /* malformed */
    const char *bad[] = {"job:x", "/job:", "/replica:x", "/task:-1", "/device:GPU:a", "/foo:1/bar:2", "/nocolon"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_int_equal(sl_device_name_parse(bad[i], &n, st), SL_INVALID_ARGUMENT);
        assert_non_null(strstr(sl_status_message(st), bad[i]));
    }
    sl_status_free(st);
}

static void test_placement_honours_constraints_and_spreads_work(void **state)
{
    (void)state;
    sl_status *st = sl_status_new();
    sl_graph *g = sl_graph_new(st);
    sl_node *a = konst(g, "a", 1 << 20, "/device:CPU:1", st);
    sl_node *b = unary(g, "Identity", "b", a, "/cpu:3", st);
    /* two heavy independent chains: the cost model puts them apart */
    sl_node *x = konst(g, "x", 1 << 22, NULL, st);
    sl_node *y = konst(g, "y", 1 << 22, NULL, st);
    sl_node *x1 = unary(g, "Identity", "x1", x, NULL, st);
    sl_node *y1 = unary(g, "Identity", "y1", y, NULL, st);
    int assign[16];
    assert_int_equal(sl_place(g, cpus, 4, NULL, assign, st), SL_OK);
    assert_int_equal(assign[sl_node_id(a)], 1);
    assert_int_equal(assign[sl_node_id(b)], 3);
    assert_int_not_equal(assign[sl_node_id(x)], assign[sl_node_id(y)]);
    /* consumers stay with their producers: moving 16 MB costs more */
    assert_int_equal(assign[sl_node_id(x1)], assign[sl_node_id(x)]);
    assert_int_equal(assign[sl_node_id(y1)], assign[sl_node_id(y)]);

    /* the simple policy takes the first feasible device */
    sl_placement_options simple = {.simple = true};
    assert_int_equal(sl_place(g, cpus, 4, &simple, assign, st), SL_OK);
    assert_int_equal(assign[sl_node_id(x)], 0);
    assert_int_equal(assign[sl_node_id(y)], 0);
    sl_graph_free(g);
    sl_status_free(st);
}

static void test_placement_colocation(void **state)
{
    (void)state;
    sl_status *st = sl_status_new();
    sl_graph *g = sl_graph_new(st);
    sl_node_builder *nb = sl_node_builder_new(g, "TestVar", "w");
    sl_node_builder_set_device(nb, "/device:CPU:2");
    sl_node *w = sl_node_builder_finish(nb, st);
    sl_node *v = konst(g, "v", 4, NULL, st);
    nb = sl_node_builder_new(g, "TestUseRef", "update");
    sl_node_builder_add_input(nb, (sl_output){w, 0});
    sl_node_builder_add_input(nb, (sl_output){v, 0});
    sl_node *upd = sl_node_builder_finish(nb, st);
    assert_non_null(upd);
    /* _class colocation */
    nb = sl_node_builder_new(g, "Identity", "near_v");
    sl_node_builder_add_input(nb, (sl_output){v, 0});
    const char *cls[] = {"loc:@w"};
    sl_node_builder_set_attr_string_list(nb, "_class", cls, 1);
    sl_node *near = sl_node_builder_finish(nb, st);
    assert_non_null(near);
    int assign[8];
    assert_int_equal(sl_place(g, cpus, 4, NULL, assign, st), SL_OK);
    assert_int_equal(assign[sl_node_id(upd)], 2);  /* with its variable */
    assert_int_equal(assign[sl_node_id(near)], 2);

    /* conflicting constraints inside a colocation group */
    nb = sl_node_builder_new(g, "TestUseRef", "bad_update");
    sl_node_builder_add_input(nb, (sl_output){w, 0});
    sl_node_builder_add_input(nb, (sl_output){v, 0});
    sl_node_builder_set_device(nb, "/device:CPU:0");
    assert_non_null(sl_node_builder_finish(nb, st));
    assert_int_equal(sl_place(g, cpus, 4, NULL, assign, st), SL_INVALID_ARGUMENT);
    assert_non_null(strstr(sl_status_message(st), "nodes 'w' and 'bad_update' must be on the same device"));
    sl_graph_free(g);
    sl_status_free(st);
}

static void test_placement_impossible_constraints(void **state)
{
    (void)state;
    sl_status *st = sl_status_new();
    sl_graph *g = sl_graph_new(st);
    konst(g, "a", 4, "/device:CPU:7", st);
    int assign[8];
    assert_int_equal(sl_place(g, cpus, 2, NULL, assign, st), SL_INVALID_ARGUMENT);
    assert_non_null(strstr(sl_status_message(st), "cannot place node 'a': its device constraint '/device:CPU:7' matches none of the devices"));
    sl_graph_free(g);

    /* kernel availability: GPU-only op on a CPU-only machine, and a CPU-only
     * op pinned to the GPU */
    const char *mixed[] = {cpus[0], "/job:localhost/replica:0/task:0/device:GPU:0"};
    g = sl_graph_new(st);
    sl_node *c = konst(g, "c", 4, NULL, st);
    sl_node *gpu = unary(g, "TestGpuOnly", "gpu_op", c, NULL, st);
    sl_node *cpu = unary(g, "TestCpuOnly", "cpu_op", c, NULL, st);
    assert_int_equal(sl_place(g, mixed, 2, NULL, assign, st), SL_OK);
    assert_int_equal(assign[sl_node_id(gpu)], 1);
    assert_int_equal(assign[sl_node_id(cpu)], 0);
    assert_int_equal(sl_place(g, cpus, 1, NULL, assign, st), SL_INVALID_ARGUMENT);
    assert_non_null(strstr(sl_status_message(st), "cannot place node 'gpu_op': no kernel for TestGpuOnly"));
    unary(g, "TestCpuOnly", "pinned", c, "/device:GPU:0", st);
    assert_int_equal(sl_place(g, mixed, 2, NULL, assign, st), SL_INVALID_ARGUMENT);
    assert_non_null(strstr(sl_status_message(st), "cannot place node 'pinned': no kernel for TestCpuOnly"));
    sl_graph_free(g);
    sl_status_free(st);
}

static int count_op(const sl_graph *g, const char *op)
{
    int n = 0;
    for (int i = 0; i < sl_graph_num_nodes(g); i++)
        n += !strcmp(sl_node_op_type(sl_graph_node(g, i)), op);
    return n;
}

static const sl_partition *part_for(const sl_partition *p, int n, const char *device)
{
    for (int i = 0; i < n; i++)
        if (!strcmp(p[i].device, device))
            return &p[i];
    fail_msg("no partition for %s", device);
    return NULL;
}

/* Figure 4: one Recv per tensor per destination device. */
static void test_partition_send_recv_pairs(void **state)
{
    (void)state;
    sl_status *st = sl_status_new();
    sl_graph *g = sl_graph_new(st);
    sl_node *a = konst(g, "a", 8, cpus[0], st);
    sl_node *b = unary(g, "Identity", "b", a, cpus[1], st);
    unary(g, "Identity", "c", a, cpus[1], st);  /* same tensor, same device: shares b's Recv */
    unary(g, "Identity", "d", a, cpus[2], st);
    sl_node *e = unary(g, "Identity", "e", b, cpus[0], st);
    sl_node_builder *nb = sl_node_builder_new(g, "NoOp", "after_e");
    sl_node_builder_add_control_input(nb, e);
    sl_node_builder_set_device(nb, cpus[3]);
    assert_non_null(sl_node_builder_finish(nb, st));
    int assign[16];
    assert_int_equal(sl_place(g, cpus, 4, NULL, assign, st), SL_OK);
    int n = 0;
    sl_partition *parts = sl_partition_graph(g, cpus, 4, assign, NULL, &n, st);
    if (!parts)
        fail_msg("%s", sl_status_message(st));
    assert_int_equal(n, 4);
    const sl_partition *p0 = part_for(parts, n, cpus[0]), *p1 = part_for(parts, n, cpus[1]),
                       *p2 = part_for(parts, n, cpus[2]), *p3 = part_for(parts, n, cpus[3]);
    /* a goes to CPU:1 and CPU:2 (two pairs, not three); e's token to CPU:3 */
    assert_int_equal(p0->num_sends, 3);
    assert_int_equal(count_op(p0->graph, "_Send"), 3);
    assert_int_equal(p1->num_recvs, 1);
    assert_int_equal(count_op(p1->graph, "_Recv"), 1);
    assert_int_equal(p1->num_sends, 1);  /* b back to CPU:0 for e */
    assert_int_equal(count_op(p2->graph, "_Recv"), 1);
    assert_int_equal(count_op(p3->graph, "_Recv"), 1);
    assert_int_equal(count_op(p0->graph, "_Recv"), 1);
    /* every original node is in exactly one partition */
    int total = 0;
    for (int i = 0; i < n; i++)
        total += sl_graph_num_nodes(parts[i].graph) - count_op(parts[i].graph, "_Send") -
                 count_op(parts[i].graph, "_Recv");
    assert_int_equal(total, sl_graph_num_nodes(g) + 1);  /* + the control token Const */
    /* c reads the Recv that b reads */
    sl_node *c1 = sl_graph_find_node(p1->graph, "c"), *b1 = sl_graph_find_node(p1->graph, "b");
    assert_ptr_equal(sl_node_input(c1, 0).node, sl_node_input(b1, 0).node);
    sl_node *recv = sl_node_input(c1, 0).node;
    assert_string_equal(sl_node_op_type(recv), "_Recv");
    const char *s;
    size_t len;
    assert_true(sl_node_attr_string(recv, "send_device", &s, &len));
    assert_memory_equal(s, cpus[0], len);
    assert_true(sl_node_attr_string(recv, "recv_device", &s, &len));
    assert_memory_equal(s, cpus[1], len);
    assert_true(sl_node_attr_string(recv, "tensor_name", &s, &len));
    assert_memory_equal(s, "edge_0_a", len);
    /* the control edge arrives as a control input from a Recv */
    sl_node *after = sl_graph_find_node(p3->graph, "after_e");
    assert_int_equal(sl_node_num_control_inputs(after), 1);
    assert_string_equal(sl_node_op_type(sl_node_control_input(after, 0)), "_Recv");
    sl_partitions_free(parts, n);
    sl_graph_free(g);
    sl_status_free(st);
}

static void test_partition_compression_and_late_recv(void **state)
{
    (void)state;
    sl_status *st = sl_status_new();
    sl_graph *g = sl_graph_new(st);
    sl_node *a = konst(g, "a", 8, cpus[0], st);
    sl_node *local = konst(g, "local", 8, cpus[1], st);
    sl_node *slow = unary(g, "Identity", "slow", local, cpus[1], st);
    sl_node_builder *nb = sl_node_builder_new(g, "IdentityN", "both");
    sl_output ins[2] = {{a, 0}, {slow, 0}};
    sl_node_builder_add_input_list(nb, ins, 2);
    sl_node_builder_set_device(nb, cpus[1]);
    assert_non_null(sl_node_builder_finish(nb, st));
    int assign[8];
    assert_int_equal(sl_place(g, cpus, 2, NULL, assign, st), SL_OK);
    sl_partition_options opts = {.compress_float32 = true, .incarnation = 77};
    int n = 0;
    sl_partition *parts = sl_partition_graph(g, cpus, 2, assign, &opts, &n, st);
    if (!parts)
        fail_msg("%s", sl_status_message(st));
    const sl_partition *p0 = part_for(parts, n, cpus[0]), *p1 = part_for(parts, n, cpus[1]);
    /* float32 travels as half: Cast before the Send and after the Recv */
    assert_int_equal(count_op(p0->graph, "Cast"), 1);
    assert_int_equal(count_op(p1->graph, "Cast"), 1);
    sl_node *both = sl_graph_find_node(p1->graph, "both");
    sl_node *back = sl_node_input(both, 0).node;
    assert_string_equal(sl_node_op_type(back), "Cast");
    sl_node *recv = sl_node_input(back, 0).node;
    assert_string_equal(sl_node_op_type(recv), "_Recv");
    assert_int_equal(sl_node_output_type(recv, 0), SL_DTYPE_HALF);
    int64_t inc;
    assert_true(sl_node_attr_int(recv, "send_device_incarnation", &inc));
    assert_int_equal(inc, 77);
    sl_partitions_free(parts, n);

    /* without compression, the Recv waits for 'slow', the other input of
     * its consumer (scheduled as late as allowed) */
    parts = sl_partition_graph(g, cpus, 2, assign, NULL, &n, st);
    p1 = part_for(parts, n, cpus[1]);
    both = sl_graph_find_node(p1->graph, "both");
    recv = sl_node_input(both, 0).node;
    assert_string_equal(sl_node_op_type(recv), "_Recv");
    assert_int_equal(sl_node_num_control_inputs(recv), 1);
    assert_string_equal(sl_node_name(sl_node_control_input(recv, 0)), "slow");
    sl_partitions_free(parts, n);
    sl_graph_free(g);
    sl_status_free(st);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_device_names),
        cmocka_unit_test_setup(test_placement_honours_constraints_and_spreads_work, setup),
        cmocka_unit_test_setup(test_placement_colocation, setup),
        cmocka_unit_test_setup(test_placement_impossible_constraints, setup),
        cmocka_unit_test_setup(test_partition_send_recv_pairs, setup),
        cmocka_unit_test_setup(test_partition_compression_and_late_recv, setup),
    };
    return cmocka_run_group_tests_name("placement", tests, NULL, NULL);
}
