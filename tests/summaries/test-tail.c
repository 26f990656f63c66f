/* Tests of summaries/tail.c with the logdir: while a forked process
 * appends events (flushing each), the reader here sees every event within
 * 1 second of its flush, with inotify and with polling, including in a
 * run directory created after watching began. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "helpers.h"
#include "sluice/status.h"
#include "sluice/summaries/logdir.h"
#include "sluice/summaries/tail.h"
#include "sluice/summaries/writer.h"

#define N_EVENTS 12

/* The writing process: one event every 150 ms, each flushed at once. */
static void child_main(const char *logdir)
{
    sl_status *st = sl_status_new();
    usleep(300000); /* let the parent start watching before the run exists */
    sl_summary_writer_options o = SL_SUMMARY_WRITER_OPTIONS_INIT;
    o.max_queue = 1000;
    o.flush_millis = 600000; /* only explicit flushes write */
    sl_summary_writer *w = sl_summary_writer_open(logdir, &o, st);
    if (!w)
        _exit(2);
    for (int i = 0; i < N_EVENTS; i++) {
        usleep(150000);
        /* the wall time is taken just before the flush: the parent's
         * latency is measured from here */
        if (sl_summary_writer_add_scalar(w, "tail", (float)i, i, th_now(), st) != SL_OK ||
            sl_summary_writer_flush(w, st) != SL_OK)
            _exit(3);
    }
    sl_summary_writer_close(w, st);
    sl_status_free(st);
    _exit(0);
}

static void run_tail(sl_tail_mode mode)
{
    char *root = th_mkdtemp();
    char *logdir = th_join(root, "sub/run"); /* created by the child */
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0)
        child_main(logdir);

    sl_status *st = sl_status_new();
    sl_tail *t = sl_tail_new(root, mode, 100, st);
    assert_non_null(t);
    assert_int_equal(sl_tail_uses_inotify(t), mode == SL_TAIL_AUTO);
    sl_logdir *ld = sl_logdir_open(root, st);
    assert_int_equal(sl_logdir_reload(ld, NULL, st), SL_OK);
    size_t seen = 0;
    double worst = 0;
    double deadline = th_now() + 30;
    while (seen < N_EVENTS && th_now() < deadline) {
        bool changed;
        assert_int_equal(sl_tail_wait(t, 500, &changed, st), SL_OK);
        if (!changed)
            continue;
        assert_int_equal(sl_logdir_reload(ld, NULL, st), SL_OK);
        double now = th_now();
        sl_run *r = sl_logdir_find_run(ld, "sub/run");
        sl_series *s = r ? sl_run_find_series(r, "tail") : NULL;
        size_t n = s ? sl_series_count(s) : 0;
        for (; seen < n; seen++) {
            const sl_point *p = &sl_series_points(s)[seen];
            assert_int_equal(p->step, (int64_t)seen);
            double latency = now - p->wall_time;
            if (latency > worst)
                worst = latency;
            assert_true(latency < 1.0);
        }
    }
    int status;
    waitpid(pid, &status, 0);
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    assert_int_equal(seen, N_EVENTS);
    print_message("%s: worst latency %.1f ms\n", mode == SL_TAIL_AUTO ? "inotify" : "polling",
                  worst * 1000);
    sl_logdir_free(ld);
    sl_tail_free(t);
    sl_status_free(st);
    th_rmtree(root);
    free(logdir);
    free(root);
}

static void test_tail_inotify_sees_each_event_within_a_second(void **state)
{
    (void)state;
    run_tail(SL_TAIL_AUTO);
}

static void test_tail_polling_sees_each_event_within_a_second(void **state)
{
    (void)state;
    run_tail(SL_TAIL_POLL);
}

static void test_tail_wait_times_out(void **state)
{
    (void)state;
    char *root = th_mkdtemp();
    sl_status *st = sl_status_new();
    sl_tail *t = sl_tail_new(root, SL_TAIL_AUTO, 0, st);
    assert_non_null(t);
    bool changed = true;
    double t0 = th_now();
    assert_int_equal(sl_tail_wait(t, 50, &changed, st), SL_OK);
    assert_false(changed);
    assert_true(th_now() - t0 >= 0.04);
    if (sl_tail_uses_inotify(t)) {
        assert_true(sl_tail_fd(t) >= 0);
        char *p = th_join(root, "x");
        th_write_file(p, "y", 1, false);
        assert_int_equal(sl_tail_wait(t, 1000, &changed, st), SL_OK);
        assert_true(changed);
        free(p);
    }
    sl_tail_free(t);
    char *missing = th_join(root, "missing");
    assert_null(sl_tail_new(missing, SL_TAIL_AUTO, 0, st));
    assert_int_equal(sl_status_code(st), SL_NOT_FOUND);
    free(missing);
    sl_status_free(st);
    th_rmtree(root);
    free(root);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tail_inotify_sees_each_event_within_a_second),
        cmocka_unit_test(test_tail_polling_sees_each_event_within_a_second),
        cmocka_unit_test(test_tail_wait_times_out),
    };
    return cmocka_run_group_tests_name("tail", tests, NULL, NULL);
}
