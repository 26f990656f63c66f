/* RecvTensor throughput over loopback gRPC against a raw gRPC echo of the
 * same size, measured in the same run on the same server (a `sluice
 * worker`'s service in this process, its client on another thread): for 1
 * MiB and 64 MiB float tensors, the payload bytes per round trip.  The
 * echo carries the payload both ways, RecvTensor one way; the goal is
 * RecvTensor >= 75% of the echo.  Prints figures; not a pass/fail test. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "grpc/transport-grpc.h"
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
    return 0;
}
