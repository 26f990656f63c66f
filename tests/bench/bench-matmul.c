/* MatMul through the kernel (sl_kernel_run_node) against a raw
 * cblas_sgemm on the same matrices, at 256, 1024 and 2048, on one thread
 * and on two (the kernel splits rows over a pool of one worker plus the
 * caller; OpenBLAS gets two threads of its own).  Kernel and sgemm runs
 * alternate (bench_pair) so both see the same load; medians of 7 after a
 * warm-up, better of two passes. */
#include <cblas.h>
#include <stdio.h>
#include <string.h>

#include "bench-util.h"
#include "sluice/graph.h"
#include "sluice/kernel.h"
#include "sluice/threadpool.h"

typedef struct mm_arg {
    sl_node *node;
    const sl_tensor *in[2];
    sl_threadpool *pool;
    int n;
    float *a, *b, *c;
} mm_arg;

static void run_kernel(void *p)
{
    mm_arg *m = p;
    sl_status *st = sl_status_new();
    sl_tensor *out = NULL;
    if (sl_kernel_run_node(m->node, m->in, &out, m->pool, st) != SL_OK) {
        fprintf(stderr, "bench-matmul: %s\n", sl_status_message(st));
        exit(1);
    }
    sl_tensor_unref(out);
    sl_status_free(st);
}

static void run_sgemm(void *p)
{
    mm_arg *m = p;
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, m->n, m->n, m->n, 1.0f, m->a, m->n, m->b, m->n, 0.0f,
                m->c, m->n);
}

static void run_sgemm2(void *p)
{
    openblas_set_num_threads(2);
    run_sgemm(p);
    openblas_set_num_threads(1);
}

static sl_node *placeholder(sl_graph *g, const char *name, sl_status *st)
{
    sl_node_builder *b = sl_node_builder_new(g, "Placeholder", name);
    sl_node_builder_set_attr_type(b, "dtype", SL_DTYPE_FLOAT);
    return sl_node_builder_finish(b, st);
}

int main(void)
{
    sl_status *st = sl_status_new();
    sl_graph *g = sl_graph_new(st);
    sl_node_builder *b = sl_node_builder_new(g, "MatMul", "mm");
    sl_node_builder_add_input(b, (sl_output){placeholder(g, "a", st), 0});
    sl_node_builder_add_input(b, (sl_output){placeholder(g, "b", st), 0});
    sl_node *node = sl_node_builder_finish(b, st);
    sl_threadpool *pool = sl_threadpool_new(1, st);  /* one worker + the caller = 2 threads */
    printf("MatMul float32, better of two medians of 7 (GFLOP/s)\n");
    printf("%6s %8s | %10s %10s %6s | %10s %10s %6s\n", "n", "", "kernel 1t", "sgemm 1t", "ratio", "kernel 2t",
           "sgemm 2t", "ratio");
    const int sizes[] = {256, 1024, 2048};
    for (int si = 0; si < 3; si++) {
        int n = sizes[si];
        sl_shape s = sl_shape_matrix(n, n);
        sl_tensor *ta = sl_tensor_new(SL_DTYPE_FLOAT, &s, st), *tb = sl_tensor_new(SL_DTYPE_FLOAT, &s, st),
                  *tc = sl_tensor_new(SL_DTYPE_FLOAT, &s, st);
        float *a = sl_tensor_data(ta), *bb = sl_tensor_data(tb);
        for (int i = 0; i < n * n; i++) {
            a[i] = (float)((i * 7919) % 1000) / 1000.0f - 0.5f;
            bb[i] = (float)((i * 104729) % 1000) / 1000.0f - 0.5f;
        }
        mm_arg m = {node, {ta, tb}, NULL, n, a, bb, sl_tensor_data(tc)};
        int reps = 7;
        double flop = 2.0 * n * (double)n * n;
        /* 1 thread: the engine keeps OpenBLAS single-threaded; kernel and
         * sgemm alternate so both see the same load */
        openblas_set_num_threads(1);
        double k1 = 0, r1 = 0, k2 = 0, r2 = 0;
        bench_pair(run_kernel, &m, run_sgemm, &m, reps, &k1, &r1);
        /* 2 threads: the kernel on the pool, sgemm on OpenBLAS's own two
         * threads (switching OpenBLAS's count between the two calls) */
        mm_arg m2 = m;
        m2.pool = pool;
        bench_pair(run_kernel, &m2, run_sgemm2, &m2, reps, &k2, &r2);
        printf("%6d %8s | %10.1f %10.1f %6.3f | %10.1f %10.1f %6.3f\n", n, "", flop / k1 * 1e-9, flop / r1 * 1e-9,
               r1 / k1, flop / k2 * 1e-9, flop / r2 * 1e-9, r2 / k2);
        sl_tensor_unref(ta);
        sl_tensor_unref(tb);
        sl_tensor_unref(tc);
    }
    printf("ratio = sgemm time / kernel time (1.0: as fast as raw sgemm)\n");
    sl_threadpool_free(pool);
    sl_graph_free(g);
    sl_status_free(st);
    return 0;
}
