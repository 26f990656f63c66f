/* Executor cost per node: a chain of 1000 tiny nodes run as one step, many
 * times, after the signature is cached.  Chains: Identity (pure executor
 * work: the kernel only forwards a reference), a scalar add (TAdd, the test
 * op: allocates its output like a real Add), and the real Add kernel when
 * the math kernels provide one.  Prints microseconds per node (median of
 * repetitions); PyTorch's figures on the same chain come from
 * bench-torch-chain.py, run beside it by meson. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../engine/test-ops.h"
#include "sluice/session.h"

#define CHAIN 1000

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* Builds x -> op -> op -> ... (CHAIN nodes) and times steps. */
static double bench_chain(const char *op, int threads)
{
    sl_status *st = sl_status_new();
    sl_graph *g = sl_graph_new(st);
    sl_node *one = t_const_f(g, "one", 1, NULL);
    sl_shape scalar = sl_shape_scalar();
    sl_node *x = t_placeholder(g, "x", SL_DTYPE_FLOAT, &scalar);
    sl_node *prev = x;
    for (int i = 0; i < CHAIN; i++)
        prev = strcmp(op, "Identity") ? t_binary(g, op, NULL, OUT(prev), OUT(one)) : t_unary(g, op, NULL, OUT(prev));
    sl_session_options so = SL_SESSION_OPTIONS_INIT;
    so.inter_op_threads = threads;
    sl_session *s = sl_session_new(g, &so, st);
    sl_tensor *xv = sl_tensor_new_scalar_float(0, st);
    const char *feed[] = {"x"};
    char fetch_name[256];
    snprintf(fetch_name, sizeof(fetch_name), "%s", sl_node_name(prev));
    const char *fetch[] = {fetch_name};
    sl_tensor *out;
    enum { REPS = 15, STEPS = 200 };
    double t[REPS];
    for (int r = -2; r < REPS; r++) {
        double t0 = now_s();
        for (int k = 0; k < STEPS; k++) {
            if (sl_session_run(s, NULL, feed, &xv, 1, fetch, &out, 1, NULL, 0, NULL, st) != SL_OK) {
                fprintf(stderr, "bench: %s\n", sl_status_message(st));
                exit(1);
            }
            sl_tensor_unref(out);
        }
        if (r >= 0)
            t[r] = (now_s() - t0) / STEPS / CHAIN * 1e6;
    }
    qsort(t, REPS, sizeof(double), cmp_double);
    sl_tensor_unref(xv);
    sl_session_free(s);
    sl_graph_free(g);
    sl_status_free(st);
    return t[REPS / 2];
}

int main(void)
{
    test_ops_register();
    printf("executor cost per node, chain of %d nodes, one step per run (median of 15 x 200 steps)\n", CHAIN);
    double id = bench_chain("Identity", 1);
    double add = bench_chain("TAdd", 1);
    printf("  Identity chain           : %.3f us/node\n", id);
    printf("  scalar add chain (TAdd)  : %.3f us/node\n", add);
    if (sl_kernel_exists_for_op("Add", SL_DEVICE_CPU)) {
        double real = bench_chain("Add", 1);
        printf("  scalar Add chain (kernels): %.3f us/node\n", real);
    }
    double id2 = bench_chain("TAdd", 2);
    printf("  scalar add chain, 2 pool threads: %.3f us/node\n", add > 0 ? id2 : 0);
    printf("  goal: <= 0.2 us/node\n");
    return 0;
}
