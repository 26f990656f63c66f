/* RecvTensor throughput over loopback gRPC against a raw gRPC echo of the
 * same size, measured in the same run on the same server (a `sluice
 * worker`'s service in this process, its client on another thread): for 1
 * MiB and 64 MiB float tensors, the payload bytes per round trip.  The
 * echo carries the payload both ways, RecvTensor one way; the goal is
 * RecvTensor >= 75% of the echo.  Then the step time of synchronous
 * data-parallel training (ps + 2 workers, tests/dist/test-dp-graph.h) over
 * gRPC against the same graph in one process.  Prints figures; not a
 * pass/fail test. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "grpc/transport-grpc.h"
#include "master.h"
#include "sluice/session.h"
#include "test-dp-graph.h"
#include "worker.h"

#define TOKEN "bench-token"

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static int cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

typedef struct recv_wait {
    volatile int done;
    sl_tensor *t;
} recv_wait;

static void got(void *arg, sl_tensor *t, const sl_status *st)
{
    recv_wait *w = arg;
    if (t)
        w->t = sl_tensor_ref(t);
    else
        fprintf(stderr, "recv failed: %s\n", sl_status_message(st));
    __atomic_store_n(&w->done, 1, __ATOMIC_RELEASE);
}

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

static double median_step(sl_dist_session *ds, sl_session *ls, int n)
{
    const char *sync[] = {"sync"};
    double *t = calloc((size_t)n, sizeof(double));
    sl_status *st = sl_status_new();
    for (int i = -2; i < n; i++) {
        double t0 = now_s();
        sl_code c = ds ? sl_dist_session_run(ds, NULL, NULL, NULL, 0, NULL, NULL, 0, sync, 1, NULL, st)
                       : sl_session_run(ls, NULL, NULL, NULL, 0, NULL, NULL, 0, sync, 1, NULL, st);
        if (c != SL_OK)
            fprintf(stderr, "step: %s\n", sl_status_message(st));
        if (i >= 0)
            t[i] = now_s() - t0;
    }
    qsort(t, (size_t)n, sizeof(double), cmp);
    double m = t[n / 2];
    free(t);
    sl_status_free(st);
    return m;
}

/* Three tasks served by gRPC servers in this process, over loopback. */
static void bench_sync_step(void)
{
    char spec[160];
    snprintf(spec, sizeof(spec), "ps=127.0.0.1:%d;worker=127.0.0.1:%d,127.0.0.1:%d", free_port(), free_port(),
             free_port());
    sl_status *st = sl_status_new();
    sl_cluster *c = sl_cluster_parse_short(spec, st);
    sl_grpc_options go = SL_GRPC_OPTIONS_INIT;
    go.token = TOKEN;
    sl_transport *t = sl_grpc_transport_new(&go, st);
    sl_dist_worker *w[3];
    sl_grpc_server *srv[3];
    for (int i = 0; i < 3; i++) {
        const char *job;
        int task;
        sl_cluster_task_at(c, i, &job, &task);
        w[i] = sl_dist_worker_new(c, job, task, t, st);
        srv[i] = sl_grpc_server_start(sl_cluster_task_address(c, job, task), w[i], &go, NULL, st);
        if (!srv[i]) {
            fprintf(stderr, "%s\n", sl_status_message(st));
            exit(1);
        }
    }
    sl_graph *split = dp_load(true), *whole = dp_load(false);
    sl_dist_session *ds = sl_dist_session_new(split, c, t, NULL, st);
    sl_session *ls = sl_session_new(whole, NULL, st);
    const char *init[] = {"init"};
    sl_dist_session_run(ds, NULL, NULL, NULL, 0, NULL, NULL, 0, init, 1, NULL, st);
    sl_session_run(ls, NULL, NULL, NULL, 0, NULL, NULL, 0, init, 1, NULL, st);
    double d = median_step(ds, NULL, 100), l = median_step(NULL, ls, 100);
    printf("synchronous data-parallel step (ps + 2 workers, gRPC loopback) %.3f ms; one process %.3f ms (x%.1f)\n",
           d * 1e3, l * 1e3, d / l);
    sl_session_free(ls);
    sl_dist_session_free(ds);
    sl_graph_free(split);
    sl_graph_free(whole);
    for (int i = 0; i < 3; i++) {
        sl_grpc_server_stop(srv[i]);
        sl_dist_worker_free(w[i]);
    }
    sl_transport_free(t);
    sl_cluster_free(c);
    sl_status_free(st);
}

int main(int argc, char **argv)
{
    sl_status *st = sl_status_new();
    sl_cluster *c = sl_cluster_parse_short("worker=127.0.0.1:1", st);
    sl_grpc_options go = SL_GRPC_OPTIONS_INIT;
    go.token = TOKEN;
    sl_transport *t = sl_grpc_transport_new(&go, st);
    sl_dist_worker *w = sl_dist_worker_new(c, "worker", 0, t, st);
    int port = 0;
    sl_grpc_server *srv = sl_grpc_server_start("127.0.0.1:0", w, &go, &port, st);
    if (!srv) {
        fprintf(stderr, "%s\n", sl_status_message(st));
        return 1;
    }
    char addr[64];
    snprintf(addr, sizeof(addr), "127.0.0.1:%d", port);
    sl_dist_conn *conn = t->ops->connect(t->impl, addr, st);
    const size_t sizes[] = {1u << 20, 64u << 20};
    const int reps[] = {60, 8};
    int64_t step = 1;
    printf("RecvTensor vs raw gRPC echo over loopback (payload bytes / round trip; median of runs)\n");
    for (int si = 0; si < 2; si++) {
        size_t bytes = sizes[si];
        sl_shape sh = sl_shape_vector((int64_t)(bytes / 4));
        sl_tensor *x = sl_tensor_new(SL_DTYPE_FLOAT, &sh, st);
        memset(sl_tensor_data(x), 0x3f, bytes);
        grpc_slice s = grpc_slice_malloc(bytes);
        memset(GRPC_SLICE_START_PTR(s), 0x3f, bytes);
        grpc_byte_buffer *payload = grpc_raw_byte_buffer_create(&s, 1);
        grpc_slice_unref(s);
        double *te = calloc((size_t)reps[si], sizeof(double)), *tr = calloc((size_t)reps[si], sizeof(double));
        for (int r = -1; r < reps[si]; r++) {  /* r = -1: warm-up */
            double t0 = now_s();
            grpc_byte_buffer *reply = NULL;
            if (sl_grpc_raw_call(conn, SL_GRPC_SERVICE "Echo", payload, 0, &reply, st) != SL_OK) {
                fprintf(stderr, "echo: %s\n", sl_status_message(st));
                return 1;
            }
            /* read the reply as a client would (one copy out of gRPC) */
            size_t len;
            free(sl__grpc_read_all(reply, &len));
            grpc_byte_buffer_destroy(reply);
            double t1 = now_s();
            sl_dist_worker_put_tensor(w, step, "k", x, st);
            Sluice__Dist__RecvTensorRequest req = SLUICE__DIST__RECV_TENSOR_REQUEST__INIT;
            req.step_id = step++;
            req.rendezvous_key = "k";
            recv_wait rw = {0};
            t->ops->recv_tensor(conn, &req, 0, got, &rw);
            while (!__atomic_load_n(&rw.done, __ATOMIC_ACQUIRE)) {
                struct timespec ts = {0, 20000};
                nanosleep(&ts, NULL);
            }
            double t2 = now_s();
            if (!rw.t || !sl_tensor_equal(rw.t, x)) {
                fprintf(stderr, "RecvTensor returned a different tensor\n");
                return 1;
            }
            sl_tensor_unref(rw.t);
            if (r >= 0) {
                te[r] = t1 - t0;
                tr[r] = t2 - t1;
            }
        }
        qsort(te, (size_t)reps[si], sizeof(double), cmp);
        qsort(tr, (size_t)reps[si], sizeof(double), cmp);
        double me = te[reps[si] / 2], mr = tr[reps[si] / 2];
        double mb = (double)bytes / 1e6;
        printf("  %3zu MiB: RecvTensor %7.2f ms %7.0f MB/s | echo %7.2f ms %7.0f MB/s | RecvTensor/echo %.0f%%\n",
               bytes >> 20, mr * 1e3, mb / mr, me * 1e3, mb / me, 100.0 * me / mr);
        free(te);
        free(tr);
        grpc_byte_buffer_destroy(payload);
        sl_tensor_unref(x);
    }
    t->ops->disconnect(conn);
    sl_grpc_server_stop(srv);
    sl_dist_worker_free(w);
    sl_transport_free(t);
    sl_cluster_free(c);
    sl_status_free(st);
    bench_sync_step();
    return 0;
}
