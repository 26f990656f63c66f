/* Sessions on the GPU: a small CNN with its gradients and an optimizer,
 * built with the layers API, trained for a few steps by a session placed
 * on GPU:0 (use_gpu) and by one on the CPU from the same initial values
 * and the same batches.  The losses and the final weights agree within
 * float32 tolerance, the step statistics show nodes on the GPU and the CPU
 * (the placement really split the graph), and the fetched tensors are host
 * tensors a caller can read.  Exits 77 without a GPU. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "sluice/gpu.h"
#include "sluice/graph.h"
#include "sluice/layers.h"
#include "sluice/optimizers.h"
#include "sluice/session.h"

#define BATCH 16
#define STEPS 5

typedef struct model {
    sl_graph *g;
    sl_node *train;
    sl_node *init;
    int num_vars;
    sl_output vars[16];
} model;

static sl_output placeholder(sl_graph *g, const char *name, sl_dtype dt, sl_shape shape, sl_status *st)
{
    sl_node_builder *b = sl_node_builder_new(g, "Placeholder", name);
    sl_node_builder_set_attr_type(b, "dtype", dt);
    sl_node_builder_set_attr_shape(b, "shape", &shape);
    sl_node *n = sl_node_builder_finish(b, st);
    assert_non_null(n);
    return (sl_output){n, 0};
}

/* images [B,12,12,1] -> conv 3x3x8 relu -> max pool 2 -> dense 10 ->
 * softmax cross-entropy, minimized by `kind`. */
static void build(model *m, sl_optimizer_kind kind, sl_status *st)
{
    m->g = sl_graph_new(st);
    sl_output x = placeholder(m->g, "images", SL_DTYPE_FLOAT, sl_shape_make(4, (int64_t[]){-1, 12, 12, 1}), st);
    sl_output labels = placeholder(m->g, "labels", SL_DTYPE_INT64, sl_shape_vector(-1), st);
    sl_layer_options o;
    sl_layer_options_init(&o);
    o.activation = SL_ACTIVATION_RELU;
    o.kernel_init.seed = 7;
    sl_output h = sl_conv2d(m->g, "conv", x, 8, 3, 3, 1, "SAME", &o, st);
    assert_non_null(h.node);
    h = sl_max_pool2d(m->g, "pool", h, 2, 2, "SAME", st);
    h = sl_flatten(m->g, NULL, h, st);
    o.activation = SL_ACTIVATION_NONE;
    sl_output logits = sl_dense(m->g, "logits", h, 10, &o, st);
    assert_non_null(logits.node);
    sl_output loss = sl_sparse_softmax_cross_entropy(m->g, logits, labels, st);
    assert_non_null(loss.node);
    m->num_vars = sl_trainable_variables(m->g, m->vars, 16);
    assert_true(m->num_vars >= 4);
    sl_optimizer_options oo;
    sl_optimizer_options_init(&oo, kind);
    oo.learning_rate = kind == SL_OPTIMIZER_ADAM ? 0.01 : 0.1;
    m->train = sl_optimizer_minimize(m->g, &oo, loss, m->vars, m->num_vars, st);
    if (!m->train)
        fail_msg("minimize: %s", sl_status_message(st));
    m->init = sl_variables_initializer(m->g, "init", st);
    assert_non_null(m->init);
}

static void batch(int step, sl_tensor **images, sl_tensor **labels, sl_status *st)
{
    sl_shape is = sl_shape_make(4, (int64_t[]){BATCH, 12, 12, 1});
    sl_shape ls = sl_shape_vector(BATCH);
    *images = sl_tensor_new(SL_DTYPE_FLOAT, &is, st);
    *labels = sl_tensor_new(SL_DTYPE_INT64, &ls, st);
    float *px = sl_tensor_data(*images);
    int64_t *lb = sl_tensor_data(*labels);
    uint32_t r = 12345u + (uint32_t)step * 7919u;
    for (int b = 0; b < BATCH; b++) {
        lb[b] = (b + step) % 10;
        for (int i = 0; i < 144; i++) {
            r = r * 1664525u + 1013904223u;
            float noise = (float)(r >> 8) / 16777216.0f;
            px[b * 144 + i] = noise * 0.3f + (i / 12 == lb[b] ? 1.0f : 0.0f);
        }
    }
}

/* Trains STEPS steps; losses[] and the final variable values come back. */
static void train(model *m, bool gpu, double *losses, sl_tensor **final, int *devices_seen, sl_status *st)
{
    sl_session_options so = SL_SESSION_OPTIONS_INIT;
    so.use_gpu = gpu;
    sl_session *s = sl_session_new(m->g, &so, st);
    if (!s)
        fail_msg("session: %s", sl_status_message(st));
    const char *init = sl_node_name(m->init);
    if (sl_session_run(s, NULL, NULL, NULL, 0, NULL, NULL, 0, &init, 1, NULL, st) != SL_OK)
        fail_msg("init (%s): %s", gpu ? "GPU" : "CPU", sl_status_message(st));
    const char *feeds[] = {"images", "labels"};
    const char *fetch[] = {"loss"};
    const char *target = sl_node_name(m->train);
    for (int k = 0; k < STEPS; k++) {
        sl_tensor *fv[2];
        batch(k, &fv[0], &fv[1], st);
        sl_tensor *out = NULL;
        sl_run_options ro = SL_RUN_OPTIONS_INIT;
        ro.collect_step_stats = true;
        sl_step_stats *stats = NULL;
        if (sl_session_run(s, &ro, feeds, fv, 2, fetch, &out, 1, &target, 1, &stats, st) != SL_OK)
            fail_msg("step %d (%s): %s", k, gpu ? "GPU" : "CPU", sl_status_message(st));
        losses[k] = *(const float *)sl_tensor_data(out);  /* a host tensor: readable here */
        *devices_seen = stats ? stats->num_devices : 0;
        if (gpu && k == 0 && stats) {
            bool on_gpu = false;
            for (int d = 0; d < stats->num_devices; d++)
                on_gpu |= strstr(stats->devices[d].device, "GPU:0") != NULL;
            assert_true(on_gpu);
        }
        sl_step_stats_free(stats);
        sl_tensor_unref(out);
        sl_tensor_unref(fv[0]);
        sl_tensor_unref(fv[1]);
    }
    const char *names[16];
    for (int v = 0; v < m->num_vars; v++)
        names[v] = sl_node_name(m->vars[v].node);
    if (sl_session_run(s, NULL, NULL, NULL, 0, names, final, m->num_vars, NULL, 0, NULL, st) != SL_OK)
        fail_msg("fetching variables: %s", sl_status_message(st));
    sl_session_free(s);
}

static void check_parity(sl_optimizer_kind kind)
{
    sl_status *st = sl_status_new();
    model m;
    build(&m, kind, st);
    double lc[STEPS], lg[STEPS];
    sl_tensor *wc[16], *wg[16];
    int dc = 0, dg = 0;
    train(&m, false, lc, wc, &dc, st);
    train(&m, true, lg, wg, &dg, st);
    assert_true(dg >= 2);  /* the GPU and the CPU (placeholders, the input side) */
    for (int k = 0; k < STEPS; k++) {
        printf("# %s step %d: loss CPU %.6f GPU %.6f\n", sl_optimizer_name(kind), k, lc[k], lg[k]);
        assert_true(fabs(lc[k] - lg[k]) <= 1e-3 * (1 + fabs(lc[k])));
    }
    assert_true(lc[STEPS - 1] < lc[0]);
    for (int v = 0; v < m.num_vars; v++) {
        int64_t n = sl_tensor_num_elements(wc[v]);
        assert_int_equal(n, sl_tensor_num_elements(wg[v]));
        const float *a = sl_tensor_data(wc[v]), *b = sl_tensor_data(wg[v]);
        double worst = 0;
        for (int64_t i = 0; i < n; i++) {
            double e = fabs((double)a[i] - b[i]) / (1e-3 + fabs((double)a[i]));
            worst = e > worst ? e : worst;
        }
        printf("# %s: variable %s worst relative difference %.2e\n", sl_optimizer_name(kind),
               sl_node_name(m.vars[v].node), worst);
        assert_true(worst < 2e-2);
        sl_tensor_unref(wc[v]);
        sl_tensor_unref(wg[v]);
    }
    sl_graph_free(m.g);
    sl_status_free(st);
}

static void test_sgd_cnn_on_gpu_matches_cpu(void **state)
{
    (void)state;
    check_parity(SL_OPTIMIZER_SGD);
}

static void test_adam_cnn_on_gpu_matches_cpu(void **state)
{
    (void)state;
    check_parity(SL_OPTIMIZER_ADAM);
}

int main(void)
{
    if (sl_gpu_count() == 0) {
        printf("%s: skipped\n", sl_gpu_message());
        return 77;
    }
    printf("%s\n", sl_gpu_message());
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sgd_cnn_on_gpu_matches_cpu),
        cmocka_unit_test(test_adam_cnn_on_gpu_matches_cpu),
    };
    return cmocka_run_group_tests_name("gpu-session", tests, NULL, NULL);
}
