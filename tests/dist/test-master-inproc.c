/* Master and workers over the in-process transport: a graph split over
 * three tasks (ps, worker 0, worker 1) gives the numbers of one process,
 * step after step with a variable updated across tasks; a task that goes
 * away fails the step with its name; a task that comes back is used again;
 * a while loop whose body would cross tasks is refused, naming the loop. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "inproc/transport-inproc.h"
#include "master.h"
#include "sluice/session.h"
#include "test-graphs.h"
#include "worker.h"

#define SPEC "ps=10.0.0.1:1;worker=10.0.0.2:1,10.0.0.3:1"

typedef struct fixture {
    sl_cluster *cluster;
    sl_transport *t;
    sl_dist_worker *workers[3];
} fixture;

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof(*f));
    f->cluster = sl_cluster_parse_short(SPEC, NULL);
    f->t = sl_inproc_transport_new();
    for (int i = 0; i < 3; i++) {
        const char *job;
        int task;
        sl_cluster_task_at(f->cluster, i, &job, &task);
        f->workers[i] = sl_dist_worker_new(f->cluster, job, task, f->t, NULL);
        assert_non_null(f->workers[i]);
        sl_inproc_transport_add(f->t, sl_cluster_task_address(f->cluster, job, task), f->workers[i], NULL);
    }
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    for (int i = 0; i < 3; i++)
        sl_dist_worker_free(f->workers[i]);
    sl_transport_free(f->t);
    sl_cluster_free(f->cluster);
    free(f);
    return 0;
}

static sl_tensor *matrix(float a, float b, float c, float d)
{
    sl_shape sh = sl_shape_matrix(2, 2);
    sl_tensor *t = sl_tensor_new(SL_DTYPE_FLOAT, &sh, NULL);
    float *p = sl_tensor_data(t);
    p[0] = a, p[1] = b, p[2] = c, p[3] = d;
    return t;
}

static void test_split_graph_matches_one_process(void **state)
{
    fixture *f = *state;
    sl_status *st = sl_status_new();
    sl_graph *split = test_load_split_graph(true, st), *whole = test_load_split_graph(false, st);
    assert_non_null(split);
    assert_non_null(whole);
    sl_dist_session *ds = sl_dist_session_new(split, f->cluster, f->t, NULL, st);
    if (!ds)
        fail_msg("%s", sl_status_message(st));
    assert_string_equal(sl_dist_session_node_device(ds, "y"), "/job:worker/replica:0/task:1/device:CPU:0");
    assert_int_equal(sl_dist_session_num_partitions(ds), 3);
    sl_session *ls = sl_session_new(whole, NULL, st);
    assert_non_null(ls);
    const char *init[] = {"init"};
    assert_int_equal(sl_dist_session_run(ds, NULL, NULL, NULL, 0, NULL, NULL, 0, init, 1, NULL, st), SL_OK);
    assert_int_equal(sl_session_run(ls, NULL, NULL, NULL, 0, NULL, NULL, 0, init, 1, NULL, st), SL_OK);
    sl_tensor *x = matrix(0.5f, -1, 2, 0.25f);
    const char *feeds[] = {"x"};
    const char *fetches[] = {"out:0", "v"};
    const char *train[] = {"train"};
    for (int step = 0; step < 5; step++) {
        sl_tensor *d[2], *l[2];
        sl_run_options ro = SL_RUN_OPTIONS_INIT;
        ro.collect_step_stats = true;
        sl_dist_step_stats *stats = NULL;
        if (sl_dist_session_run(ds, &ro, feeds, &x, 1, fetches, d, 2, train, 1, &stats, st) != SL_OK)
            fail_msg("step %d: %s", step, sl_status_message(st));
        assert_int_equal(sl_session_run(ls, NULL, feeds, &x, 1, fetches, l, 2, train, 1, NULL, st), SL_OK);
        for (int i = 0; i < 2; i++) {
            assert_true(sl_tensor_equal(d[i], l[i]));
            sl_tensor_unref(d[i]);
            sl_tensor_unref(l[i]);
        }
        assert_non_null(stats);
        int nodes = 0;
        for (int p = 0; p < stats->num_partitions; p++)
            nodes += stats->partitions[p].num_nodes;
        assert_true(nodes >= 6);
        sl_dist_step_stats_free(stats);
    }
    /* a fetch alone runs only what it needs */
    const char *vonly[] = {"v"};
    sl_tensor *v;
    assert_int_equal(sl_dist_session_run(ds, NULL, NULL, NULL, 0, vonly, &v, 1, NULL, 0, NULL, st), SL_OK);
    sl_tensor_unref(v);
    const char *bad[] = {"nope:0"};
    assert_int_equal(sl_dist_session_run(ds, NULL, NULL, NULL, 0, bad, &v, 1, NULL, 0, NULL, st),
                     SL_INVALID_ARGUMENT);
    assert_non_null(strstr(sl_status_message(st), "nope"));
    sl_tensor_unref(x);
    sl_session_free(ls);
    sl_dist_session_free(ds);
    sl_graph_free(split);
    sl_graph_free(whole);
    sl_status_free(st);
}

static void test_lost_task_fails_step_naming_it(void **state)
{
    fixture *f = *state;
    sl_status *st = sl_status_new();
    sl_graph *split = test_load_split_graph(true, st);
    sl_dist_session *ds = sl_dist_session_new(split, f->cluster, f->t, NULL, st);
    assert_non_null(ds);
    const char *init[] = {"init"};
    assert_int_equal(sl_dist_session_run(ds, NULL, NULL, NULL, 0, NULL, NULL, 0, init, 1, NULL, st), SL_OK);
    sl_inproc_transport_remove(f->t, "10.0.0.3:1");
    sl_tensor *x = matrix(1, 2, 3, 4), *out;
    const char *feeds[] = {"x"};
    const char *fetches[] = {"out"};
    const char *train[] = {"train"};
    assert_int_not_equal(sl_dist_session_run(ds, NULL, feeds, &x, 1, fetches, &out, 1, train, 1, NULL, st), SL_OK);
    assert_null(out);
    if (!strstr(sl_status_message(st), "/job:worker/replica:0/task:1"))
        fail_msg("message does not name the task: %s", sl_status_message(st));
    assert_int_equal(sl_dist_session_check_health(ds, 1000, st), SL_UNAVAILABLE);
    assert_non_null(strstr(sl_status_message(st), "/job:worker/replica:0/task:1"));
    /* the task comes back (a new process: nothing registered) */
    sl_dist_worker_free(f->workers[2]);
    f->workers[2] = sl_dist_worker_new(f->cluster, "worker", 1, f->t, NULL);
    sl_inproc_transport_add(f->t, "10.0.0.3:1", f->workers[2], NULL);
    assert_int_equal(sl_dist_session_check_health(ds, 1000, st), SL_OK);
    if (sl_dist_session_run(ds, NULL, feeds, &x, 1, fetches, &out, 1, train, 1, NULL, st) != SL_OK)
        fail_msg("after the task came back: %s", sl_status_message(st));
    sl_tensor_unref(out);
    sl_tensor_unref(x);
    sl_dist_session_free(ds);
    sl_graph_free(split);
    sl_status_free(st);
}

/* i = 0; while (i < 3) i = i + 1, with the loop's Add on @ADD@. */
static sl_graph *loop_graph(const char *add_device, sl_status *st)
{
#define T_INT "attr { key: 'T' value { type: DT_INT32 } }"
#define W0 "device: '/job:worker/task:0' "
#define CONST_INT(name, v) "node { name: '" name "' op: 'Const' " W0 "attr { key: 'dtype' value { type: DT_INT32 } } " \
    "attr { key: 'value' value { tensor { dtype: DT_INT32 tensor_shape { } int_val: " #v " } } } }\n"
#define ENTER(name, in, constant) "node { name: '" name "' op: 'Enter' input: '" in "' " W0 T_INT \
    " attr { key: 'frame_name' value { s: 'count' } } attr { key: 'is_constant' value { b: " constant " } }" \
    " attr { key: 'parallel_iterations' value { i: 10 } } }\n"
    static const char text[] =
        CONST_INT("i0", 0) CONST_INT("limit", 3) CONST_INT("one", 1)
        ENTER("enter", "i0", "false") ENTER("limit_in", "limit", "true") ENTER("one_in", "one", "true")
        "node { name: 'merge' op: 'Merge' input: 'enter' input: 'next' " W0 T_INT
        " attr { key: 'N' value { i: 2 } } }\n"
        "node { name: 'less' op: 'Less' input: 'merge' input: 'limit_in' " W0 T_INT " }\n"
        "node { name: 'cond' op: 'LoopCond' input: 'less' " W0 "}\n"
        "node { name: 'switch' op: 'Switch' input: 'merge' input: 'cond' " W0 T_INT " }\n"
        "node { name: 'exit' op: 'Exit' input: 'switch' " W0 T_INT " }\n"
        "node { name: 'body' op: 'Identity' input: 'switch:1' " W0 T_INT " }\n"
        "node { name: 'add' op: 'Add' input: 'body' input: 'one_in' device: '@ADD@' " T_INT " }\n"
        "node { name: 'next' op: 'NextIteration' input: 'add' " W0 T_INT " }\n"
        "node { name: 'out' op: 'Identity' input: 'exit' " W0 T_INT " }\n";
#undef T_INT
#undef W0
#undef CONST_INT
#undef ENTER
    char buf[sizeof(text) + 64];
    const char *at = strstr(text, "@ADD@");
    snprintf(buf, sizeof(buf), "%.*s%s%s", (int)(at - text), text, add_device, at + 5);
    sl_graph *g = sl_graph_new(st);
    if (sl_graph_import_text(g, buf, strlen(buf), "loop", NULL, st) != SL_OK)
        fail_msg("loop graph: %s", sl_status_message(st));
    return g;
}

/* A loop on one task runs; one whose body would cross tasks is refused
 * before anything is registered, naming the loop and the edge. */
static void test_loop_split_across_tasks_is_refused(void **state)
{
    fixture *f = *state;
    sl_status *st = sl_status_new();
    sl_graph *g = loop_graph("/job:worker/task:0", st);
    sl_dist_session *ds = sl_dist_session_new(g, f->cluster, f->t, NULL, st);
    if (!ds)
        fail_msg("a loop on one task: %s", sl_status_message(st));
    const char *fetch[] = {"out"};
    sl_tensor *out = NULL;
    if (sl_dist_session_run(ds, NULL, NULL, NULL, 0, fetch, &out, 1, NULL, 0, NULL, st) != SL_OK)
        fail_msg("running the loop: %s", sl_status_message(st));
    assert_int_equal(*(int32_t *)sl_tensor_data(out), 3);
    sl_tensor_unref(out);
    sl_dist_session_free(ds);
    sl_graph_free(g);

    g = loop_graph("/job:worker/task:1", st);
    ds = sl_dist_session_new(g, f->cluster, f->t, NULL, st);
    assert_null(ds);
    assert_int_equal(sl_status_code(st), SL_UNIMPLEMENTED);
    const char *msg = sl_status_message(st);
    if (!strstr(msg, "while loop 'count'") || !strstr(msg, "'body' on /job:worker/replica:0/task:0") ||
        !strstr(msg, "'add' on /job:worker/replica:0/task:1"))
        fail_msg("the error should name the loop and the edge: %s", msg);
    printf("# %s\n", msg);
    sl_graph_free(g);
    sl_status_free(st);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_split_graph_matches_one_process, setup, teardown),
        cmocka_unit_test_setup_teardown(test_lost_task_fails_step_naming_it, setup, teardown),
        cmocka_unit_test_setup_teardown(test_loop_split_across_tasks_is_refused, setup, teardown),
    };
    return cmocka_run_group_tests_name("master-inproc", tests, NULL, NULL);
}
