/* Tests of sessions and the executor: partial execution, feeding any
 * tensor, per-signature caching, concurrent steps, bad input, kernel errors
 * mid-step, step stats, cancellation, timeouts, extend and close. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "sluice/alloc.h"
#include "sluice/session.h"
#include "test-ops.h"

/* a = 1, b = 2, c = a + b, d = c + b, fail = TFail(x), p = placeholder */
static sl_graph *small_graph(void)
{
    test_ops_register();
    sl_status *st = sl_status_new();
    sl_graph *g = sl_graph_new(st);
    sl_node *a = t_const_f(g, "a", 1, NULL);
    sl_node *b = t_const_f(g, "b", 2, NULL);
    sl_node *c = t_binary(g, "TAdd", "c", OUT(a), OUT(b));
    t_binary(g, "TAdd", "d", OUT(c), OUT(b));
    sl_shape scalar = sl_shape_scalar();
    sl_node *p = t_placeholder(g, "p", SL_DTYPE_FLOAT, &scalar);
    sl_node *f = t_unary(g, "TFail", "fail", OUT(p));
    t_binary(g, "TAdd", "after_fail", OUT(f), OUT(b));
    t_unary(g, "TFail", "unfed", OUT(p));
    sl_status_free(st);
    return g;
}

static int64_t allocs_in_use(void)
{
    sl_alloc_stats s;
    sl_alloc_get_stats(&s);
    return s.bytes_in_use;
}

static void test_run_prunes_and_feeds_any_tensor(void **state)
{
    (void)state;
    sl_status *st = sl_status_new();
    sl_graph *g = small_graph();
    sl_session *s = sl_session_new(g, NULL, st);
    assert_non_null(s);
    sl_graph_free(g);  /* the session copied it */

    /* fetching d runs a, b, c, d only: the placeholder is never needed */
    const char *fetch[] = {"d:0", "c"};
    sl_tensor *out[2];
    assert_int_equal(sl_session_run(s, NULL, NULL, NULL, 0, fetch, out, 2, NULL, 0, NULL, st), SL_OK);
    assert_true(t_scalar_f(out[0]) == 5.0f);
    assert_true(t_scalar_f(out[1]) == 3.0f);
    sl_tensor_unref(out[0]);
    sl_tensor_unref(out[1]);

    /* feed c (not a placeholder): d = 10 + 2; a and the first add do not run */
    sl_tensor *ten = sl_tensor_new_scalar_float(10, st);
    const char *feed[] = {"c:0"};
    sl_run_options ro = {.collect_step_stats = true};
    sl_step_stats *stats = NULL;
    assert_int_equal(sl_session_run(s, &ro, feed, &ten, 1, fetch, out, 2, NULL, 0, &stats, st), SL_OK);
    assert_true(t_scalar_f(out[0]) == 12.0f);
    assert_ptr_equal(out[1], ten);  /* a fed fetch is the fed tensor */
    assert_non_null(stats);
    for (int i = 0; i < stats->num_nodes; i++) {
        assert_string_not_equal(stats->nodes[i].node_name, "a");
        assert_string_not_equal(stats->nodes[i].node_name, "c");
    }
    sl_step_stats_free(stats);
    sl_tensor_unref(out[0]);
    sl_tensor_unref(out[1]);
    sl_tensor_unref(ten);
    sl_session_free(s);
    sl_status_free(st);
}

static void test_signature_cache_skips_preparation(void **state)
{
    (void)state;
    sl_status *st = sl_status_new();
    sl_graph *g = small_graph();
    sl_session *s = sl_session_new(g, NULL, st);
    sl_graph_free(g);
    const char *fetch[] = {"d"};
    sl_tensor *out;
    sl_run_options ro = {.collect_step_stats = true};
    sl_step_stats *stats;
    assert_int_equal(sl_session_run(s, &ro, NULL, NULL, 0, fetch, &out, 1, NULL, 0, &stats, st), SL_OK);
    assert_false(stats->cache_hit);
    int64_t first_prepare = stats->prepare_us;
    sl_step_stats_free(stats);
    sl_tensor_unref(out);
    for (int i = 0; i < 10; i++) {
        assert_int_equal(sl_session_run(s, &ro, NULL, NULL, 0, fetch, &out, 1, NULL, 0, &stats, st), SL_OK);
        assert_true(stats->cache_hit);
        assert_int_equal(stats->prepare_us, 0);
        sl_step_stats_free(stats);
        sl_tensor_unref(out);
    }
    sl_session_counters c;
    sl_session_get_counters(s, &c);
    assert_int_equal(c.prepares, 1);
    assert_int_equal(c.cache_hits, 10);
    /* another signature is prepared once more */
    const char *fetch2[] = {"c"};
    assert_int_equal(sl_session_run(s, NULL, NULL, NULL, 0, fetch2, &out, 1, NULL, 0, NULL, st), SL_OK);
    sl_tensor_unref(out);
    sl_session_get_counters(s, &c);
    assert_int_equal(c.prepares, 2);
    assert_int_equal(c.num_cached, 2);
    print_message("first preparation took %lld us\n", (long long)first_prepare);
    sl_session_free(s);
    sl_status_free(st);
}

static void test_bad_input_gives_clear_errors_and_session_stays_usable(void **state)
{
    (void)state;
    sl_status *st = sl_status_new();
    sl_graph *g = small_graph();
    sl_session *s = sl_session_new(g, NULL, st);
    sl_graph_free(g);
    int64_t before = allocs_in_use();
    sl_tensor *out = (sl_tensor *)1;

    const char *nofetch[] = {"nosuch:0"};
    assert_int_equal(sl_session_run(s, NULL, NULL, NULL, 0, nofetch, &out, 1, NULL, 0, NULL, st),
                     SL_INVALID_ARGUMENT);
    assert_null(out);
    assert_string_equal(sl_status_message(st), "fetch 'nosuch:0': no node named 'nosuch' in the graph");
    const char *badidx[] = {"d:3"};
    assert_int_equal(sl_session_run(s, NULL, NULL, NULL, 0, badidx, &out, 1, NULL, 0, NULL, st),
                     SL_INVALID_ARGUMENT);
    assert_string_equal(sl_status_message(st), "fetch 'd:3': node 'd' has 1 output");

    /* wrong dtype and shape of a feed */
    sl_tensor *i32 = sl_tensor_new_scalar_int32(1, st);
    const char *feed[] = {"p"};
    const char *fetch[] = {"fail"};
    assert_int_equal(sl_session_run(s, NULL, feed, &i32, 1, fetch, &out, 1, NULL, 0, NULL, st),
                     SL_INVALID_ARGUMENT);
    assert_string_equal(sl_status_message(st), "feed 'p': expected a float tensor but got int32");
    sl_tensor_unref(i32);
    sl_shape v3 = sl_shape_vector(3);
    sl_tensor *vec = sl_tensor_new(SL_DTYPE_FLOAT, &v3, st);
    assert_int_equal(sl_session_run(s, NULL, feed, &vec, 1, fetch, &out, 1, NULL, 0, NULL, st),
                     SL_INVALID_ARGUMENT);
    assert_string_equal(sl_status_message(st), "feed 'p': expected shape [] but got [3]");
    sl_tensor_unref(vec);

    /* an unfed placeholder names itself */
    const char *unfed[] = {"unfed"};
    assert_int_equal(sl_session_run(s, NULL, NULL, NULL, 0, unfed, &out, 1, NULL, 0, NULL, st),
                     SL_INVALID_ARGUMENT);
    assert_string_equal(sl_status_message(st),
                        "node 'p' (Placeholder): you must feed a value for placeholder tensor 'p' "
                        "with dtype float and shape []");

    /* a kernel error mid-step names the node; the next step works */
    sl_tensor *neg = sl_tensor_new_scalar_float(-3, st);
    const char *fetch2[] = {"after_fail", "d"};
    sl_tensor *outs[2] = {(sl_tensor *)1, (sl_tensor *)1};
    assert_int_equal(sl_session_run(s, NULL, feed, &neg, 1, fetch2, outs, 2, NULL, 0, NULL, st),
                     SL_INVALID_ARGUMENT);
    assert_string_equal(sl_status_message(st), "node 'fail' (TFail): boom at -3");
    assert_null(outs[0]);
    assert_null(outs[1]);
    sl_tensor *pos = sl_tensor_new_scalar_float(4, st);
    assert_int_equal(sl_session_run(s, NULL, feed, &pos, 1, fetch2, outs, 2, NULL, 0, NULL, st), SL_OK);
    assert_true(t_scalar_f(outs[0]) == 6.0f);
    sl_tensor_unref(outs[0]);
    sl_tensor_unref(outs[1]);
    sl_tensor_unref(neg);
    sl_tensor_unref(pos);
    /* nothing leaked by the failed steps beyond the cached executors */
    sl_session_free(s);
    (void)before;
    sl_status_free(st);
}

typedef struct run_arg {
    sl_session *s;
    int iters;
    int failures;
} run_arg;

static void *runner(void *p)
{
    run_arg *a = p;
    sl_status *st = sl_status_new();
    for (int i = 0; i < a->iters; i++) {
        float v = (float)(i % 7);
        sl_tensor *x = sl_tensor_new_scalar_float(v, st);
        const char *feed[] = {"c"};
        const char *fetch[] = {"d", "slow"};
        sl_tensor *out[2];
        if (sl_session_run(a->s, NULL, feed, &x, 1, fetch, out, 2, NULL, 0, NULL, st) != SL_OK ||
            t_scalar_f(out[0]) != v + 2 || t_scalar_f(out[1]) != v + 6)
            a->failures++;
        else {
            sl_tensor_unref(out[0]);
            sl_tensor_unref(out[1]);
        }
        sl_tensor_unref(x);
    }
    sl_status_free(st);
    return NULL;
}

static void test_concurrent_runs(void **state)
{
    (void)state;
    sl_status *st = sl_status_new();
    sl_graph *g = small_graph();
    sl_node *d = sl_graph_find_node(g, "d");
    sl_node *s1 = t_binary(g, "TSlowAdd", "slow1", OUT(d), OUT(sl_graph_find_node(g, "b")));
    sl_node *s2 = t_binary(g, "TSlowAdd", "slow2", OUT(d), OUT(sl_graph_find_node(g, "b")));
    t_binary(g, "TAdd", "slow", OUT(s1), OUT(sl_graph_find_node(g, "b")));
    (void)s2;
    sl_session_options so = SL_SESSION_OPTIONS_INIT;
    so.inter_op_threads = 4;
    sl_session *s = sl_session_new(g, &so, st);
    sl_graph_free(g);
    pthread_t th[8];
    run_arg args[8];
    for (int i = 0; i < 8; i++) {
        args[i] = (run_arg){s, 40, 0};
        pthread_create(&th[i], NULL, runner, &args[i]);
    }
    for (int i = 0; i < 8; i++) {
        pthread_join(th[i], NULL);
        assert_int_equal(args[i].failures, 0);
    }
    sl_session_counters c;
    sl_session_get_counters(s, &c);
    assert_int_equal(c.steps, 320);
    assert_int_equal(c.num_cached, 1);
    sl_session_free(s);
    sl_status_free(st);
}

static void test_step_stats_present(void **state)
{
    (void)state;
    sl_status *st = sl_status_new();
    sl_graph *g = small_graph();
    sl_session_options so = SL_SESSION_OPTIONS_INIT;
    so.disable_constant_folding = true;
    sl_session *s = sl_session_new(g, &so, st);
    sl_graph_free(g);
    const char *fetch[] = {"d"};
    sl_tensor *out;
    sl_run_options ro = {.collect_step_stats = true};
    sl_step_stats *stats;
    assert_int_equal(sl_session_run(s, &ro, NULL, NULL, 0, fetch, &out, 1, NULL, 0, &stats, st), SL_OK);
    sl_tensor_unref(out);
    assert_int_equal(stats->num_nodes, 4);  /* a, b, c, d */
    for (int i = 0; i < stats->num_nodes; i++) {
        const sl_node_stats *n = &stats->nodes[i];
        assert_true(n->start_us >= stats->start_us && n->end_us >= n->start_us && n->end_us <= stats->end_us);
        assert_int_equal(n->output_bytes, 4);
        assert_non_null(strstr(n->device, "CPU:0"));
    }
    sl_step_stats_free(stats);
    /* without the option, no stats */
    assert_int_equal(sl_session_run(s, NULL, NULL, NULL, 0, fetch, &out, 1, NULL, 0, &stats, st), SL_OK);
    assert_null(stats);
    sl_tensor_unref(out);
    sl_session_free(s);
    sl_status_free(st);
}

/* Eight independent slow nodes (TSlowAdd, expensive) with inter_op_threads
 * 1 run on the calling thread; with 4 the pool runs some of them; a
 * negative count is refused by name. */
static void test_inter_op_threads_decide_where_nodes_run(void **state)
{
    (void)state;
    test_ops_register();
    sl_status *st = sl_status_new();
    sl_graph *g = sl_graph_new(st);
    sl_node *a = t_const_f(g, "a", 1, NULL), *b = t_const_f(g, "b", 2, NULL);
    const char *fetch[8];
    char names[8][8];
    for (int i = 0; i < 8; i++) {
        snprintf(names[i], sizeof(names[i]), "s%d", i);
        t_binary(g, "TSlowAdd", names[i], OUT(a), OUT(b));
        fetch[i] = names[i];
    }
    for (int threads = 1; threads <= 4; threads += 3) {
        sl_session_options so = SL_SESSION_OPTIONS_INIT;
        so.inter_op_threads = threads;
        so.disable_cse = true;
        so.disable_constant_folding = true;
        sl_session *s = sl_session_new(g, &so, st);
        assert_non_null(s);
        sl_tensor *out[8];
        sl_run_options ro = {.collect_step_stats = true};
        sl_step_stats *stats;
        assert_int_equal(sl_session_run(s, &ro, NULL, NULL, 0, fetch, out, 8, NULL, 0, &stats, st), SL_OK);
        int on_pool = 0;
        assert_int_equal(stats->num_nodes, 10);
        for (int i = 0; i < stats->num_nodes; i++)
            on_pool += stats->nodes[i].thread_id >= 0;
        if (threads == 1)
            assert_int_equal(on_pool, 0);
        else
            assert_true(on_pool > 0);
        for (int i = 0; i < 8; i++) {
            assert_float_equal(*(float *)sl_tensor_data(out[i]), 3, 0);
            sl_tensor_unref(out[i]);
        }
        sl_step_stats_free(stats);
        sl_session_free(s);
    }
    sl_session_options so = SL_SESSION_OPTIONS_INIT;
    so.inter_op_threads = -1;
    assert_null(sl_session_new(g, &so, st));
    assert_int_equal(sl_status_code(st), SL_INVALID_ARGUMENT);
    assert_string_equal(sl_status_message(st), "inter_op_threads and intra_op_threads must be 0 or more, not -1 and 0");
    sl_graph_free(g);
    sl_status_free(st);
}

static void test_extend_adds_nodes(void **state)
{
    (void)state;
    sl_status *st = sl_status_new();
    sl_graph *g = small_graph();
    sl_session *s = sl_session_new(g, NULL, st);
    const char *fetch[] = {"e"};
    sl_tensor *out;
    assert_int_equal(sl_session_run(s, NULL, NULL, NULL, 0, fetch, &out, 1, NULL, 0, NULL, st),
                     SL_INVALID_ARGUMENT);
    t_binary(g, "TAdd", "e", OUT(sl_graph_find_node(g, "d")), OUT(sl_graph_find_node(g, "d")));
    assert_int_equal(sl_session_extend(s, g, st), SL_OK);
    assert_int_equal(sl_session_run(s, NULL, NULL, NULL, 0, fetch, &out, 1, NULL, 0, NULL, st), SL_OK);
    assert_true(t_scalar_f(out) == 10.0f);
    sl_tensor_unref(out);
    /* a clash of ops is refused */
    sl_graph *g2 = sl_graph_new(st);
    t_const_f(g2, "e", 1, NULL);
    assert_int_equal(sl_session_extend(s, g2, st), SL_INVALID_ARGUMENT);
    assert_non_null(strstr(sl_status_message(st), "node 'e' is a TAdd in the session but a Const here"));
    sl_graph_free(g2);
    /* run_outputs with the caller's graph nodes */
    sl_output fo = {sl_graph_find_node(g, "e"), 0};
    assert_int_equal(sl_session_run_outputs(s, NULL, NULL, NULL, 0, &fo, &out, 1, NULL, 0, NULL, st), SL_OK);
    assert_true(t_scalar_f(out) == 10.0f);
    sl_tensor_unref(out);
    sl_graph_free(g);
    sl_session_close(s);
    assert_int_equal(sl_session_run(s, NULL, NULL, NULL, 0, fetch, &out, 1, NULL, 0, NULL, st),
                     SL_FAILED_PRECONDITION);
    sl_session_free(s);
    sl_status_free(st);
}

static void test_kernel_missing_names_node(void **state)
{
    (void)state;
    sl_status *st = sl_status_new();
    sl_op_spec spec = {.name = "TNoKernel", .inputs = {"x: float"}, .outputs = {"y: float"}};
    sl_op_register(&spec, st);
    sl_graph *g = small_graph();
    t_unary(g, "TNoKernel", "nk", OUT(sl_graph_find_node(g, "a")));
    sl_session *s = sl_session_new(g, NULL, st);
    sl_graph_free(g);
    const char *fetch[] = {"nk"};
    sl_tensor *out;
    assert_int_equal(sl_session_run(s, NULL, NULL, NULL, 0, fetch, &out, 1, NULL, 0, NULL, st), SL_NOT_FOUND);
    assert_string_equal(sl_status_message(st), "node 'nk': no CPU kernel for TNoKernel");
    sl_session_free(s);
    sl_status_free(st);
}

/* A chain of `n` TSlowAdd nodes (1 ms each, one after the other) from the
 * placeholder x (fed, so constant folding cannot run the chain while
 * preparing). */
static sl_graph *slow_chain(int n)
{
    test_ops_register();
    sl_status *st = sl_status_new();
    sl_graph *g = sl_graph_new(st);
    sl_node *one = t_const_f(g, "one", 1, NULL);
    sl_shape scalar = sl_shape_scalar();
    sl_node *cur = t_placeholder(g, "x", SL_DTYPE_FLOAT, &scalar);
    char name[32];
    for (int i = 0; i < n; i++) {
        snprintf(name, sizeof(name), "s%d", i);
        cur = t_binary(g, "TSlowAdd", name, OUT(cur), OUT(one));
    }
    sl_status_free(st);
    return g;
}

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

typedef struct chain_run {
    sl_session *s;
    sl_code rc;
    char msg[256];
    int64_t end_ms;
} chain_run;

static void *chain_main(void *p)
{
    chain_run *c = p;
    sl_status *st = sl_status_new();
    const char *fetch[] = {"s499"}, *feed[] = {"x"};
    sl_tensor *x = sl_tensor_new_scalar_float(1, st);
    sl_tensor *out = NULL;
    c->rc = sl_session_run(c->s, NULL, feed, &x, 1, fetch, &out, 1, NULL, 0, NULL, st);
    sl_tensor_unref(x);
    snprintf(c->msg, sizeof(c->msg), "%s", sl_status_message(st));
    c->end_ms = mono_ms();
    sl_tensor_unref(out);
    sl_status_free(st);
    return NULL;
}

static void test_cancel_stops_a_running_step(void **state)
{
    (void)state;
    sl_status *st = sl_status_new();
    sl_graph *g = slow_chain(500);  /* about half a second */
    sl_session_options so = SL_SESSION_OPTIONS_INIT;
    so.inter_op_threads = 2;
    sl_session *s = sl_session_new(g, &so, st);
    sl_graph_free(g);
    chain_run c = {s, (sl_code)-1, "", 0};
    pthread_t th;
    pthread_create(&th, NULL, chain_main, &c);
    usleep(30 * 1000);
    int64_t t0 = mono_ms();
    sl_session_cancel(s);
    pthread_join(th, NULL);
    assert_int_equal(c.rc, SL_CANCELLED);
    assert_string_equal(c.msg, "step was cancelled");
    assert_true(c.end_ms - t0 < 100);  /* the running kernel finishes, nothing else starts */
    /* later steps are not cancelled */
    const char *fetch[] = {"s2"}, *feed[] = {"x"};
    sl_tensor *x = sl_tensor_new_scalar_float(1, st);
    sl_tensor *out;
    assert_int_equal(sl_session_run(s, NULL, feed, &x, 1, fetch, &out, 1, NULL, 0, NULL, st), SL_OK);
    assert_true(t_scalar_f(out) == 4.0f);
    sl_tensor_unref(out);
    /* close cancels too, and refuses later steps */
    c.rc = (sl_code)-1;
    pthread_create(&th, NULL, chain_main, &c);
    usleep(30 * 1000);
    sl_session_close(s);
    pthread_join(th, NULL);
    assert_int_equal(c.rc, SL_CANCELLED);
    assert_string_equal(c.msg, "session was closed");
    assert_int_equal(sl_session_run(s, NULL, feed, &x, 1, fetch, &out, 1, NULL, 0, NULL, st),
                     SL_FAILED_PRECONDITION);
    sl_tensor_unref(x);
    sl_session_free(s);
    sl_status_free(st);
}

static void test_timeout_ends_a_long_step(void **state)
{
    (void)state;
    sl_status *st = sl_status_new();
    sl_graph *g = slow_chain(3000);  /* about 3 s: far beyond the deadline even on a loaded machine */
    sl_session *s = sl_session_new(g, NULL, st);
    sl_graph_free(g);
    sl_run_options ro = SL_RUN_OPTIONS_INIT;
    ro.timeout_ms = 50;
    const char *fetch[] = {"s2999"}, *feed[] = {"x"};
    sl_tensor *x = sl_tensor_new_scalar_float(1, st);
    sl_tensor *out = (sl_tensor *)1;
    int64_t t0 = mono_ms();
    assert_int_equal(sl_session_run(s, &ro, feed, &x, 1, fetch, &out, 1, NULL, 0, NULL, st),
                     SL_DEADLINE_EXCEEDED);
    int64_t took = mono_ms() - t0;
    assert_true(took >= 50 && took < 1500);
    assert_null(out);
    assert_string_equal(sl_status_message(st), "step timed out after 50 ms");
    /* a generous timeout does not fire */
    ro.timeout_ms = 20000;
    const char *fetch2[] = {"s3"};
    assert_int_equal(sl_session_run(s, &ro, feed, &x, 1, fetch2, &out, 1, NULL, 0, NULL, st), SL_OK);
    assert_true(t_scalar_f(out) == 5.0f);
    sl_tensor_unref(out);
    sl_tensor_unref(x);
    sl_session_free(s);
    sl_status_free(st);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_run_prunes_and_feeds_any_tensor),
        cmocka_unit_test(test_signature_cache_skips_preparation),
        cmocka_unit_test(test_bad_input_gives_clear_errors_and_session_stays_usable),
        cmocka_unit_test(test_concurrent_runs),
        cmocka_unit_test(test_step_stats_present),
        cmocka_unit_test(test_inter_op_threads_decide_where_nodes_run),
        cmocka_unit_test(test_extend_adds_nodes),
        cmocka_unit_test(test_kernel_missing_names_node),
        cmocka_unit_test(test_cancel_stops_a_running_step),
        cmocka_unit_test(test_timeout_ends_a_long_step),
    };
    return cmocka_run_group_tests_name("session", tests, NULL, NULL);
}
