/* Conv2D forward and backward (input and filter gradients) through the
 * kernels, in GFLOP/s, against PyTorch's channels_last conv2d on the same
 * shapes, measured in the same run (tests/bench/conv_torch.py with
 * /usr/bin/python3, configured per PEERS.md), on one and two threads.
 * Medians of 7 after a warm-up.  PyTorch's figures are skipped when torch
 * is missing. */
#include <stdio.h>
#include <string.h>

#include "bench-util.h"
#include "sluice/graph.h"
#include "sluice/kernel.h"
#include "sluice/threadpool.h"

#ifndef SL_BENCH_DIR
#define SL_BENCH_DIR "."
#endif

typedef struct shape_case {
    const char *name;
    int n, h, w, c, o, k;
} shape_case;

static const shape_case cases[] = {
    {"b32-28x28x32-64", 32, 28, 28, 32, 64, 3},
    {"b32-14x14x64-64", 32, 14, 14, 64, 64, 3},
    {"b8-56x56x64-64", 8, 56, 56, 64, 64, 3},
};

typedef struct run_arg {
    sl_node *node;
    const sl_tensor *in[3];
    sl_threadpool *pool;
} run_arg;

static void run(void *p)
{
    run_arg *r = p;
    sl_status *st = sl_status_new();
    sl_tensor *out = NULL;
    if (sl_kernel_run_node(r->node, r->in, &out, r->pool, st) != SL_OK) {
        fprintf(stderr, "bench-conv: %s\n", sl_status_message(st));
        exit(1);
    }
    sl_tensor_unref(out);
    sl_status_free(st);
}

static sl_node *input(sl_graph *g, const char *name, sl_dtype dt, sl_status *st)
{
    sl_node_builder *b = sl_node_builder_new(g, "Placeholder", name);
    sl_node_builder_set_attr_type(b, "dtype", dt);
    return sl_node_builder_finish(b, st);
}

static sl_node *conv_node(sl_graph *g, const char *op, sl_dtype t0, sl_dtype t1, sl_status *st)
{
    char name[64];
    snprintf(name, sizeof(name), "%s_in0", op);
    sl_node *a = input(g, name, t0, st);
    snprintf(name, sizeof(name), "%s_in1", op);
    sl_node *b = input(g, name, t1, st);
    snprintf(name, sizeof(name), "%s_in2", op);
    sl_node *c = input(g, name, SL_DTYPE_FLOAT, st);
    sl_node_builder *nb = sl_node_builder_new(g, op, op);
    sl_node_builder_add_input(nb, (sl_output){a, 0});
    sl_node_builder_add_input(nb, (sl_output){b, 0});
    if (strcmp(op, "Conv2D"))
        sl_node_builder_add_input(nb, (sl_output){c, 0});
    int64_t strides[4] = {1, 1, 1, 1};
    sl_node_builder_set_attr_int_list(nb, "strides", strides, 4);
    sl_node_builder_set_attr_string(nb, "padding", "SAME", 4);
    return sl_node_builder_finish(nb, st);
}

static sl_tensor *filled(sl_dtype dt, sl_shape s, sl_status *st)
{
    sl_tensor *t = sl_tensor_new(dt, &s, st);
    float *p = sl_tensor_data(t);
    for (int64_t i = 0; i < sl_tensor_num_elements(t); i++)
        p[i] = (float)((i * 7919) % 2001) / 1000.0f - 1.0f;
    return t;
}

static sl_tensor *sizes(const int64_t *d, sl_status *st)
{
    sl_shape s = sl_shape_vector(4);
    sl_tensor *t = sl_tensor_new(SL_DTYPE_INT32, &s, st);
    for (int i = 0; i < 4; i++)
        ((int32_t *)sl_tensor_data(t))[i] = (int32_t)d[i];
    return t;
}

/* Reads PyTorch's figures for `threads` into fwd[] and bwd[]; false when unavailable. */
static bool torch_figures(int threads, double *fwd, double *bwd)
{
    char cmd[512];
    snprintf(cmd, sizeof(cmd), "/usr/bin/python3 '%s/conv_torch.py' --threads %d 2>/dev/null", SL_BENCH_DIR, threads);
    FILE *p = popen(cmd, "r");
    if (!p)
        return false;
    char line[256], name[64];
    int got = 0;
    double f, b;
    while (fgets(line, sizeof(line), p))
        for (int i = 0; i < 3; i++)
            if (sscanf(line, "torch %63s %lf %lf", name, &f, &b) == 3 && !strcmp(name, cases[i].name)) {
                fwd[i] = f;
                bwd[i] = b;
                got++;
            }
    return pclose(p) == 0 && got == 3;
}

int main(void)
{
    sl_status *st = sl_status_new();
    sl_graph *g = sl_graph_new(st);
    sl_node *fwd = conv_node(g, "Conv2D", SL_DTYPE_FLOAT, SL_DTYPE_FLOAT, st);
    sl_node *dx = conv_node(g, "Conv2DBackpropInput", SL_DTYPE_INT32, SL_DTYPE_FLOAT, st);
    sl_node *dw = conv_node(g, "Conv2DBackpropFilter", SL_DTYPE_FLOAT, SL_DTYPE_INT32, st);
    if (!fwd || !dx || !dw) {
        fprintf(stderr, "bench-conv: %s\n", sl_status_message(st));
        return 1;
    }
    printf("Conv2D 3x3 SAME stride 1, NHWC float32, GFLOP/s (better of two medians of 7); bwd = dx + dw\n");
    for (int threads = 1; threads <= 2; threads++) {
        sl_threadpool *pool = threads > 1 ? sl_threadpool_new(threads - 1, st) : NULL;
        double tf[3], tb[3];
        bool have_torch = torch_figures(threads, tf, tb);
        printf("-- %d thread%s --\n", threads, threads > 1 ? "s" : "");
        printf("%-18s %8s %8s %8s %8s | %8s %8s | %6s %6s\n", "shape", "fwd", "dx", "dw", "bwd", "torch f", "torch b",
               "f x", "b x");
        for (int i = 0; i < 3; i++) {
            const shape_case *c = &cases[i];
            int64_t xd[4] = {c->n, c->h, c->w, c->c}, fd[4] = {c->k, c->k, c->c, c->o}, yd[4] = {c->n, c->h, c->w, c->o};
            sl_tensor *x = filled(SL_DTYPE_FLOAT, sl_shape_make(4, xd), st), *f = filled(SL_DTYPE_FLOAT, sl_shape_make(4, fd), st),
                      *dy = filled(SL_DTYPE_FLOAT, sl_shape_make(4, yd), st), *xs = sizes(xd, st), *fs = sizes(fd, st);
            double flop = 2.0 * c->n * c->h * c->w * c->c * c->o * c->k * c->k;
            run_arg rf = {fwd, {x, f}, pool}, rx = {dx, {xs, f, dy}, pool}, rw = {dw, {x, fs, dy}, pool};
            double t_f = bench_median(run, &rf, 7), t_x = bench_median(run, &rx, 7), t_w = bench_median(run, &rw, 7);
            double gf = flop / t_f * 1e-9, gx = flop / t_x * 1e-9, gw = flop / t_w * 1e-9, gb = 2 * flop / (t_x + t_w) * 1e-9;
            if (have_torch)
                printf("%-18s %8.1f %8.1f %8.1f %8.1f | %8.1f %8.1f | %6.2f %6.2f\n", c->name, gf, gx, gw, gb, tf[i], tb[i],
                       gf / tf[i], gb / tb[i]);
            else
                printf("%-18s %8.1f %8.1f %8.1f %8.1f | (torch missing)\n", c->name, gf, gx, gw, gb);
            sl_tensor_unref(x);
            sl_tensor_unref(f);
            sl_tensor_unref(dy);
            sl_tensor_unref(xs);
            sl_tensor_unref(fs);
        }
        sl_threadpool_free(pool);
    }
    printf("f x, b x: Sluice / PyTorch (>= 1.0: as fast or faster)\n");
    sl_graph_free(g);
    sl_status_free(st);
    return 0;
}
