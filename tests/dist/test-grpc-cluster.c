/* Real `sluice worker` processes on 127.0.0.1 over gRPC: a graph split
 * over ps + two workers gives the numbers of one process; a call without
 * the token is refused; garbage bytes, a 2 GB length prefix and a request
 * that is not protobuf leave the worker alive; a worker killed with SIGKILL
 * fails the step within 10 s with a message naming its task.
 * Usage: test-grpc-cluster SLUICE_EXE */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "grpc/transport-grpc.h"
#include "master.h"
#include "sluice/session.h"
#include "test-dp-graph.h"
#include "test-graphs.h"

#define TOKEN "test-token-0123456789"

static const char *sluice_exe;
static pid_t pids[3];
static char spec[256];
static sl_cluster *cluster;
static sl_transport *transport;

static int free_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    bind(fd, (struct sockaddr *)&a, sizeof(a));
    socklen_t len = sizeof(a);
    getsockname(fd, (struct sockaddr *)&a, &len);
    close(fd);
    return ntohs(a.sin_port);
}

static pid_t start_worker(const char *job, int task)
{
    pid_t pid = fork();
    if (pid == 0) {
        char t[16];
        snprintf(t, sizeof(t), "%d", task);
        setenv("SLUICE_TOKEN", TOKEN, 1);
        execl(sluice_exe, sluice_exe, "worker", "--cluster", spec, "--job", job, "--task", t, (char *)NULL);
        _exit(127);
    }
    return pid;
}

static bool task_alive(int i, int64_t timeout_ms)
{
    const char *job;
    int task;
    sl_cluster_task_at(cluster, i, &job, &task);
    sl_status *st = sl_status_new();
    sl_dist_conn *c = transport->ops->connect(transport->impl, sl_cluster_task_address(cluster, job, task), st);
    Sluice__Dist__GetStatusRequest req = SLUICE__DIST__GET_STATUS_REQUEST__INIT;
    sl_code code = sl_dist_call_sync(transport, c, SL_DIST_GET_STATUS, &req.base, timeout_ms, NULL, st);
    transport->ops->disconnect(c);
    sl_status_free(st);
    return code == SL_OK;
}

static void wait_ready(int i)
{
    for (int k = 0; k < 200; k++) {
        if (task_alive(i, 500))
            return;
        usleep(50000);
    }
    fail_msg("task %d did not come up", i);
}

static int setup(void **state)
{
    snprintf(spec, sizeof(spec), "ps=127.0.0.1:%d;worker=127.0.0.1:%d,127.0.0.1:%d", free_port(), free_port(),
             free_port());
    cluster = sl_cluster_parse_short(spec, NULL);
    sl_grpc_options go = SL_GRPC_OPTIONS_INIT;
    go.token = TOKEN;
    transport = sl_grpc_transport_new(&go, NULL);
    pids[0] = start_worker("ps", 0);
    pids[1] = start_worker("worker", 0);
    pids[2] = start_worker("worker", 1);
    for (int i = 0; i < 3; i++)
        wait_ready(i);
    return 0;
}

static int teardown(void **state)
{
    for (int i = 0; i < 3; i++)
        if (pids[i] > 0) {
            kill(pids[i], SIGTERM);
            waitpid(pids[i], NULL, 0);
        }
    sl_transport_free(transport);
    sl_cluster_free(cluster);
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
    sl_status *st = sl_status_new();
    sl_graph *split = test_load_split_graph(true, st), *whole = test_load_split_graph(false, st);
    sl_dist_session *ds = sl_dist_session_new(split, cluster, transport, NULL, st);
    if (!ds)
        fail_msg("%s", sl_status_message(st));
    sl_session *ls = sl_session_new(whole, NULL, st);
    const char *init[] = {"init"};
    assert_int_equal(sl_dist_session_run(ds, NULL, NULL, NULL, 0, NULL, NULL, 0, init, 1, NULL, st), SL_OK);
    assert_int_equal(sl_session_run(ls, NULL, NULL, NULL, 0, NULL, NULL, 0, init, 1, NULL, st), SL_OK);
    sl_tensor *x = matrix(0.5f, -1, 2, 0.25f);
    const char *feeds[] = {"x"};
    const char *fetches[] = {"out", "v:0"};
    const char *train[] = {"train"};
    for (int step = 0; step < 5; step++) {
        sl_tensor *d[2], *l[2];
        if (sl_dist_session_run(ds, NULL, feeds, &x, 1, fetches, d, 2, train, 1, NULL, st) != SL_OK)
            fail_msg("step %d: %s", step, sl_status_message(st));
        assert_int_equal(sl_session_run(ls, NULL, feeds, &x, 1, fetches, l, 2, train, 1, NULL, st), SL_OK);
        for (int i = 0; i < 2; i++) {
            assert_true(sl_tensor_equal(d[i], l[i]));
            sl_tensor_unref(d[i]);
            sl_tensor_unref(l[i]);
        }
    }
    sl_tensor_unref(x);
    sl_session_free(ls);
    sl_dist_session_free(ds);
    sl_graph_free(split);
    sl_graph_free(whole);
    sl_status_free(st);
}

/* Synchronous data-parallel training over gRPC: the weights after each
 * step equal those of one process. */
static void test_sync_training_matches_one_process(void **state)
{
    sl_status *st = sl_status_new();
    sl_graph *split = dp_load(true), *whole = dp_load(false);
    sl_dist_session *ds = sl_dist_session_new(split, cluster, transport, NULL, st);
    if (!ds)
        fail_msg("%s", sl_status_message(st));
    sl_session *ls = sl_session_new(whole, NULL, st);
    const char *init[] = {"init"};
    assert_int_equal(sl_dist_session_run(ds, NULL, NULL, NULL, 0, NULL, NULL, 0, init, 1, NULL, st), SL_OK);
    assert_int_equal(sl_session_run(ls, NULL, NULL, NULL, 0, NULL, NULL, 0, init, 1, NULL, st), SL_OK);
    const char *sync[] = {"sync"};
    const char *w[] = {"W"};
    for (int step = 0; step < 20; step++) {
        sl_tensor *dw, *lw;
        if (sl_dist_session_run(ds, NULL, NULL, NULL, 0, w, &dw, 1, sync, 1, NULL, st) != SL_OK)
            fail_msg("step %d: %s", step, sl_status_message(st));
        assert_int_equal(sl_session_run(ls, NULL, NULL, NULL, 0, w, &lw, 1, sync, 1, NULL, st), SL_OK);
        assert_true(sl_tensor_equal(dw, lw));
        sl_tensor_unref(dw);
        sl_tensor_unref(lw);
    }
    sl_session_free(ls);
    sl_dist_session_free(ds);
    sl_graph_free(split);
    sl_graph_free(whole);
    sl_status_free(st);
}

static void test_call_without_token_is_refused(void **state)
{
    sl_status *st = sl_status_new();
    sl_transport *stranger = sl_grpc_transport_new(NULL, st);
    sl_dist_conn *c = stranger->ops->connect(stranger->impl, sl_cluster_task_address(cluster, "ps", 0), st);
    Sluice__Dist__GetStatusRequest req = SLUICE__DIST__GET_STATUS_REQUEST__INIT;
    assert_int_equal(sl_dist_call_sync(stranger, c, SL_DIST_GET_STATUS, &req.base, 2000, NULL, st), SL_UNAUTHENTICATED);
    stranger->ops->disconnect(c);
    sl_transport_free(stranger);
    sl_grpc_options go = SL_GRPC_OPTIONS_INIT;
    go.token = "wrong-token";
    stranger = sl_grpc_transport_new(&go, st);
    c = stranger->ops->connect(stranger->impl, sl_cluster_task_address(cluster, "ps", 0), st);
    assert_int_equal(sl_dist_call_sync(stranger, c, SL_DIST_GET_STATUS, &req.base, 2000, NULL, st), SL_UNAUTHENTICATED);
    stranger->ops->disconnect(c);
    sl_transport_free(stranger);
    assert_true(task_alive(0, 2000));
    sl_status_free(st);
}

static void send_raw(int port, const void *data, size_t n)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port),
                            .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    assert_int_equal(connect(fd, (struct sockaddr *)&a, sizeof(a)), 0);
    if (write(fd, data, n) < 0)
        perror("write");
    struct timeval tv = {1, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    char buf[4096];
    while (read(fd, buf, sizeof(buf)) > 0)
        ;
    close(fd);
}

static size_t hpack_literal(uint8_t *p, const char *name, const char *value)
{
    size_t n = 0, nl = strlen(name), vl = strlen(value);
    p[n++] = 0x00;
    p[n++] = (uint8_t)nl;
    memcpy(p + n, name, nl);
    n += nl;
    p[n++] = (uint8_t)vl;
    memcpy(p + n, value, vl);
    return n + vl;
}

static size_t frame_header(uint8_t *p, size_t len, uint8_t type, uint8_t flags, uint32_t stream)
{
    p[0] = (uint8_t)(len >> 16), p[1] = (uint8_t)(len >> 8), p[2] = (uint8_t)len;
    p[3] = type, p[4] = flags;
    p[5] = (uint8_t)(stream >> 24), p[6] = (uint8_t)(stream >> 16), p[7] = (uint8_t)(stream >> 8), p[8] = (uint8_t)stream;
    return 9;
}

static void test_garbage_and_huge_prefix_leave_worker_alive(void **state)
{
    char host[64];
    int port;
    sl_cluster_split_address(sl_cluster_task_address(cluster, "ps", 0), host, sizeof(host), &port);
    /* plain garbage */
    uint8_t junk[4096];
    srand(7);
    for (size_t i = 0; i < sizeof(junk); i++)
        junk[i] = (uint8_t)rand();
    send_raw(port, junk, sizeof(junk));
    /* a valid HTTP/2 gRPC request whose message claims 2 GB */
    uint8_t msg[1024];
    size_t n = 0;
    const char *preface = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
    memcpy(msg, preface, strlen(preface));
    n += strlen(preface);
    n += frame_header(msg + n, 0, 0x4, 0, 0);  /* SETTINGS */
    uint8_t hdr[512];
    size_t h = 0;
    h += hpack_literal(hdr + h, ":method", "POST");
    h += hpack_literal(hdr + h, ":scheme", "http");
    h += hpack_literal(hdr + h, ":path", "/sluice.dist.WorkerService/GetStatus");
    h += hpack_literal(hdr + h, ":authority", "127.0.0.1");
    h += hpack_literal(hdr + h, "content-type", "application/grpc");
    h += hpack_literal(hdr + h, "te", "trailers");
    h += hpack_literal(hdr + h, "sluice-token", TOKEN);
    n += frame_header(msg + n, h, 0x1, 0x4, 1);  /* HEADERS, END_HEADERS */
    memcpy(msg + n, hdr, h);
    n += h;
    uint8_t data[] = {0, 0x80, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8};  /* uncompressed, 2^31 bytes */
    n += frame_header(msg + n, sizeof(data), 0x0, 0, 1);
    memcpy(msg + n, data, sizeof(data));
    n += sizeof(data);
    send_raw(port, msg, n);
    data[1] = 0x7f, data[2] = 0xff, data[3] = 0xff, data[4] = 0xff;  /* 2^31 - 1 */
    memcpy(msg + n - sizeof(data), data, sizeof(data));
    send_raw(port, msg, n);
    /* a well-formed call whose request is not protobuf */
    sl_dist_conn *c = transport->ops->connect(transport->impl, sl_cluster_task_address(cluster, "ps", 0), NULL);
    grpc_slice s = grpc_slice_from_copied_buffer((const char *)junk, 256);
    grpc_byte_buffer *bb = grpc_raw_byte_buffer_create(&s, 1);
    grpc_slice_unref(s);
    sl_status *st = sl_status_new();
    assert_int_equal(sl_grpc_raw_call(c, SL_GRPC_SERVICE "RunGraph", bb, 2000, NULL, st), SL_INVALID_ARGUMENT);
    assert_int_equal(sl_grpc_raw_call(c, SL_GRPC_SERVICE "RecvTensor", bb, 2000, NULL, st), SL_INVALID_ARGUMENT);
    assert_int_equal(sl_grpc_raw_call(c, SL_GRPC_SERVICE "Nope", bb, 2000, NULL, st), SL_UNIMPLEMENTED);
    grpc_byte_buffer_destroy(bb);
    transport->ops->disconnect(c);
    sl_status_free(st);
    int wstatus;
    assert_int_equal(waitpid(pids[0], &wstatus, WNOHANG), 0);
    assert_true(task_alive(0, 2000));
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void test_killed_worker_fails_step_naming_it(void **state)
{
    sl_status *st = sl_status_new();
    sl_graph *split = test_load_split_graph(true, st);
    sl_dist_session *ds = sl_dist_session_new(split, cluster, transport, NULL, st);
    assert_non_null(ds);
    const char *init[] = {"init"};
    assert_int_equal(sl_dist_session_run(ds, NULL, NULL, NULL, 0, NULL, NULL, 0, init, 1, NULL, st), SL_OK);
    sl_tensor *x = matrix(1, 0, 0, 1), *out = NULL;
    const char *feeds[] = {"x"};
    const char *fetches[] = {"out"};
    const char *train[] = {"train"};
    assert_int_equal(sl_dist_session_run(ds, NULL, feeds, &x, 1, fetches, &out, 1, train, 1, NULL, st), SL_OK);
    sl_tensor_unref(out);
    kill(pids[2], SIGKILL);
    waitpid(pids[2], NULL, 0);
    double t0 = now_s();
    sl_code code = SL_OK;
    for (int i = 0; i < 100 && code == SL_OK; i++) {
        code = sl_dist_session_run(ds, NULL, feeds, &x, 1, fetches, &out, 1, train, 1, NULL, st);
        if (code == SL_OK)
            sl_tensor_unref(out);
    }
    double took = now_s() - t0;
    printf("# the step failed %.3f s after SIGKILL: %s\n", took, sl_status_message(st));
    assert_int_not_equal(code, SL_OK);
    assert_true(took < 10.0);
    if (!strstr(sl_status_message(st), "/job:worker/replica:0/task:1"))
        fail_msg("the message does not name the task: %s", sl_status_message(st));
    /* the task comes back: the session registers its partition again; the
     * other tasks' channels to it may need up to their 1 s reconnect
     * backoff, as a training loop retrying its step would see */
    pids[2] = start_worker("worker", 1);
    wait_ready(2);
    code = SL_UNAVAILABLE;
    for (int i = 0; i < 10 && code != SL_OK; i++) {
        if (i)
            usleep(300000);
        code = sl_dist_session_run(ds, NULL, feeds, &x, 1, fetches, &out, 1, train, 1, NULL, st);
    }
    if (code != SL_OK)
        fail_msg("after the restart: %s", sl_status_message(st));
    sl_tensor_unref(out);
    sl_tensor_unref(x);
    sl_dist_session_free(ds);
    sl_graph_free(split);
    sl_status_free(st);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: %s SLUICE_EXE\n", argv[0]);
        return 2;
    }
    sluice_exe = argv[1];
    signal(SIGPIPE, SIG_IGN);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_split_graph_matches_one_process),
        cmocka_unit_test(test_sync_training_matches_one_process),
        cmocka_unit_test(test_call_without_token_is_refused),
        cmocka_unit_test(test_garbage_and_huge_prefix_leave_worker_alive),
        cmocka_unit_test(test_killed_worker_fails_step_naming_it),
    };
    return cmocka_run_group_tests_name("grpc-cluster", tests, setup, teardown);
}
