/* Cluster specs: the short form, text format (TF's ClusterDef shape), files,
 * and the errors for each kind of bad spec. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "cluster.h"

static void test_cluster_short_form(void **state)
{
    sl_status *st = sl_status_new();
    sl_cluster *c = sl_cluster_parse_short("ps=127.0.0.1:2222;worker=127.0.0.1:2223, 127.0.0.1:2224", st);
    assert_non_null(c);
    assert_int_equal(c->num_jobs, 2);
    assert_int_equal(sl_cluster_num_tasks(c), 3);
    assert_string_equal(sl_cluster_task_address(c, "worker", 1), "127.0.0.1:2224");
    assert_null(sl_cluster_task_address(c, "worker", 2));
    assert_null(sl_cluster_task_address(c, "chief", 0));
    const char *job;
    int task;
    sl_cluster_task_at(c, 2, &job, &task);
    assert_string_equal(job, "worker");
    assert_int_equal(task, 1);
    char *s = sl_cluster_format_short(c);
    assert_string_equal(s, "ps=127.0.0.1:2222;worker=127.0.0.1:2223,127.0.0.1:2224");
    free(s);
    sl_cluster_free(c);
    sl_status_free(st);
}

static void test_cluster_text_form(void **state)
{
    const char *text = "job { name: \"ps\" tasks { key: 0 value: \"127.0.0.1:2222\" } }\n"
                       "job { name: \"worker\" tasks { key: 1 value: \"[::1]:2224\" }\n"
                       "                     tasks { key: 0 value: \"localhost:2223\" } }\n";
    sl_status *st = sl_status_new();
    sl_cluster *c = sl_cluster_load(text, st);
    assert_non_null(c);
    assert_string_equal(sl_cluster_task_address(c, "worker", 0), "localhost:2223");
    assert_string_equal(sl_cluster_task_address(c, "worker", 1), "[::1]:2224");
    char host[64];
    int port;
    assert_true(sl_cluster_split_address("[::1]:2224", host, sizeof(host), &port));
    assert_string_equal(host, "::1");
    assert_int_equal(port, 2224);
    sl_cluster_free(c);

    char path[] = "/tmp/sluice-cluster-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
    c = sl_cluster_load(path, st);
    assert_non_null(c);
    assert_int_equal(sl_cluster_num_tasks(c), 3);
    sl_cluster_free(c);
    char at[64];
    snprintf(at, sizeof(at), "@%s", path);
    c = sl_cluster_load(at, st);
    assert_non_null(c);
    sl_cluster_free(c);
    unlink(path);
    assert_null(sl_cluster_load("@/nonexistent/cluster.pbtxt", st));
    assert_int_equal(sl_status_code(st), SL_NOT_FOUND);
    sl_status_free(st);
}

static void expect_error(const char *spec, const char *words)
{
    sl_status *st = sl_status_new();
    sl_cluster *c = sl_cluster_load(spec, st);
    if (c || !strstr(sl_status_message(st), words))
        fail_msg("spec '%s': expected an error with '%s', got '%s'", spec, words, sl_status_message(st));
    assert_int_equal(sl_status_code(st), SL_INVALID_ARGUMENT);
    sl_status_free(st);
}

static void test_cluster_errors(void **state)
{
    expect_error("", "no jobs");
    expect_error("ps", "is not JOB=HOST:PORT");
    expect_error("ps=", "empty address");
    expect_error("ps=127.0.0.1:2222,", "empty address");
    expect_error("ps=127.0.0.1", "is not host:port");
    expect_error("ps=127.0.0.1:0", "port in 1..65535");
    expect_error("ps=127.0.0.1:65536", "port in 1..65535");
    expect_error("ps=127.0.0.1:22x", "is not host:port");
    expect_error("ps=::1:2222", "is not host:port");
    expect_error("p-s=127.0.0.1:2222", "job name 'p-s'");
    expect_error("ps=127.0.0.1:2222;ps=127.0.0.1:2223", "job 'ps' given twice");
    expect_error("ps=127.0.0.1:2222;worker=127.0.0.1:2222",
                 "address 127.0.0.1:2222 is given to both /job:ps/task:0 and /job:worker/task:0");
    expect_error("job { name: \"w\" tasks { key: 1 value: \"h:1\" } }", "job 'w' has no task 0");
    expect_error("job { name: \"w\" tasks { key: 0 value: \"h:1\" } tasks { key: 0 value: \"h:2\" } }",
                 "task 0 given twice");
    expect_error("job { name: \"w\" }", "job 'w' has no tasks");
    expect_error("job { name: \"w\" taks { key: 0 value: \"h:1\" } }", "cluster spec: <cluster>:1:");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cluster_short_form),
        cmocka_unit_test(test_cluster_text_form),
        cmocka_unit_test(test_cluster_errors),
    };
    return cmocka_run_group_tests_name("cluster", tests, NULL, NULL);
}
