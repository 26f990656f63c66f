/* bench-conv-fwd: Conv2D forward (one thread, through the kernel) on the
 * Deep MNIST CNN's shapes or one given on the command line, in GFLOP/s of
 * thread CPU time (immune to preemption by other tenants).  Median of 15
 * after a warm-up.  For tuning conv.c / conv-direct.c; no peer.
 *
 *     bench-conv-fwd [N H W C O K PADDING]   (PADDING: SAME or VALID)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sluice/graph.h"
#include "sluice/kernel.h"

static double cpu_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static int cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static void one(sl_graph *g, int n, int h, int w, int c, int o, int k, const char *pad, sl_status *st)
{
    static int id;
    char name[64];
    sl_node *in[2];
    for (int i = 0; i < 2; i++) {
        snprintf(name, sizeof(name), "in%d_%d", id, i);
        sl_node_builder *b = sl_node_builder_new(g, "Placeholder", name);
        sl_node_builder_set_attr_type(b, "dtype", SL_DTYPE_FLOAT);
        in[i] = sl_node_builder_finish(b, st);
    }
    snprintf(name, sizeof(name), "conv%d", id++);
    sl_node_builder *nb = sl_node_builder_new(g, "Conv2D", name);
    sl_node_builder_add_input(nb, (sl_output){in[0], 0});
    sl_node_builder_add_input(nb, (sl_output){in[1], 0});
    int64_t strides[4] = {1, 1, 1, 1};
    sl_node_builder_set_attr_int_list(nb, "strides", strides, 4);
    sl_node_builder_set_attr_string(nb, "padding", pad, strlen(pad));
    sl_node *node = sl_node_builder_finish(nb, st);
    if (!node) {
        fprintf(stderr, "bench-conv-fwd: %s\n", sl_status_message(st));
        exit(1);
    }
    int64_t xd[4] = {n, h, w, c}, fd[4] = {k, k, c, o};
    sl_shape xs = sl_shape_make(4, xd), fs = sl_shape_make(4, fd);
    sl_tensor *x = sl_tensor_new(SL_DTYPE_FLOAT, &xs, st), *f = sl_tensor_new(SL_DTYPE_FLOAT, &fs, st);
    float *p = sl_tensor_data(x);
    for (int64_t i = 0; i < sl_tensor_num_elements(x); i++)
        p[i] = (float)((i * 7919) % 2001) / 1000.0f - 1.0f;
    p = sl_tensor_data(f);
    for (int64_t i = 0; i < sl_tensor_num_elements(f); i++)
        p[i] = (float)((i * 104729) % 2001) / 1000.0f - 1.0f;
    const sl_tensor *ins[2] = {x, f};
    double t[15];
    sl_tensor *out = NULL;
    int64_t oh = 0, ow = 0;
    for (int r = -1; r < 15; r++) {
        double t0 = cpu_now();
        if (sl_kernel_run_node(node, ins, &out, NULL, st) != SL_OK) {
            fprintf(stderr, "bench-conv-fwd: %s\n", sl_status_message(st));
            exit(1);
        }
        if (r >= 0)
            t[r] = cpu_now() - t0;
        oh = sl_tensor_shape(out)->dims[1];
        ow = sl_tensor_shape(out)->dims[2];
        sl_tensor_unref(out);
    }
    qsort(t, 15, sizeof(double), cmp);
    double flop = 2.0 * n * oh * ow * c * o * k * k;
    printf("n%d %dx%dx%d -> %d, %dx%d %s: %8.3f ms  %6.1f GFLOP/s\n", n, h, w, c, o, k, k, pad, t[7] * 1e3,
           flop / t[7] * 1e-9);
    sl_tensor_unref(x);
    sl_tensor_unref(f);
}

int main(int argc, char **argv)
{
    sl_status *st = sl_status_new();
    sl_graph *g = sl_graph_new(st);
    if (argc == 8) {
        one(g, atoi(argv[1]), atoi(argv[2]), atoi(argv[3]), atoi(argv[4]), atoi(argv[5]), atoi(argv[6]), argv[7], st);
    } else {
        one(g, 64, 28, 28, 1, 32, 5, "SAME", st);
        one(g, 64, 14, 14, 32, 64, 5, "SAME", st);
        one(g, 256, 28, 28, 1, 32, 5, "SAME", st);
        one(g, 256, 14, 14, 32, 64, 5, "SAME", st);
    }
    sl_graph_free(g);
    sl_status_free(st);
    return 0;
}
