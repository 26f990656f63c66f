/* bench-model: training or inference throughput of a graph built by
 * examples/build-mnist, through the engine's session, in examples/s.
 *
 *     bench-model GRAPH train|infer BATCH THREADS SECONDS [adam|momentum|sgd]
 *
 * train: adds the optimizer (Adam lr 1e-3 as in examples/mnist-*.runspec,
 * or momentum SGD lr 0.01 / 0.9, or plain SGD lr 0.01) and the variable
 * initializer to the graph, runs the initializer, then runs the train op
 * with "images" [BATCH, 784] (uniform [0, 1)), "labels" [BATCH] (int64
 * 0..9) and "training" = true (dropout on) fed every step.
 * infer: fetches "logits" with "images" fed ("training" keeps its default,
 * false).  The session runs nodes on THREADS threads (inter_op_threads,
 * the calling one included) and splits a kernel over THREADS
 * (intra_op_threads); OpenBLAS stays at one thread inside the engine.  After a warm-up of 3 steps, steps run for at
 * least SECONDS; prints "examples/s N per-cpu-second C" on stdout (C:
 * examples per second of the process's CPU time, all threads together).  The tests/bench scripts
 * run it interleaved with the peer (PyTorch, ONNX Runtime). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench-util.h"
#include "sluice/graph.h"
#include "sluice/layers.h"
#include "sluice/optimizers.h"
#include "sluice/session.h"

static sl_status *st;

/* CPU seconds of the whole process (all threads): immune to preemption. */
static double cpu_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void die(const char *what)
{
    fprintf(stderr, "bench-model: %s: %s\n", what, sl_status_message(st));
    exit(1);
}

int main(int argc, char **argv)
{
    if (argc < 6 || argc > 7 || (strcmp(argv[2], "train") && strcmp(argv[2], "infer"))) {
        fprintf(stderr, "usage: bench-model GRAPH train|infer BATCH THREADS SECONDS [adam|momentum|sgd]\n");
        return 2;
    }
    bool train = !strcmp(argv[2], "train");
    int64_t batch = atoll(argv[3]);
    int threads = atoi(argv[4]);
    double seconds = atof(argv[5]);
    const char *opt = argc == 7 ? argv[6] : "adam";
    st = sl_status_new();
    sl_graph *g = sl_graph_load(argv[1], NULL, st);
    if (!g)
        die(argv[1]);

    const char *train_op = NULL, *init_op = "bench_init";
    if (train) {
        sl_optimizer_options o;
        if (!strcmp(opt, "adam")) {
            sl_optimizer_options_init(&o, SL_OPTIMIZER_ADAM);
            o.learning_rate = 1e-3;
        } else if (!strcmp(opt, "momentum")) {
            sl_optimizer_options_init(&o, SL_OPTIMIZER_MOMENTUM);
            o.learning_rate = 0.01;
            o.momentum = 0.9;
        } else {
            sl_optimizer_options_init(&o, SL_OPTIMIZER_SGD);
            o.learning_rate = 0.01;
        }
        sl_node *loss = sl_graph_find_node(g, "loss");
        if (!loss) {
            fprintf(stderr, "bench-model: graph has no node 'loss'\n");
            return 1;
        }
        sl_output vars[64];
        int nv = sl_trainable_variables(g, vars, 64);
        sl_node *t = sl_optimizer_minimize(g, &o, (sl_output){loss, 0}, vars, nv, st);
        if (!t)
            die("optimizer");
        train_op = sl_node_name(t);
    }
    if (!sl_variables_initializer(g, init_op, st))
        die("initializer");

    sl_session_options so = SL_SESSION_OPTIONS_INIT;
    so.inter_op_threads = threads;
    so.intra_op_threads = threads;
    sl_session *s = sl_session_new(g, &so, st);
    if (!s)
        die("session");
    if (sl_session_run(s, NULL, NULL, NULL, 0, NULL, NULL, 0, &init_op, 1, NULL, st) != SL_OK)
        die("init");

    sl_shape xs = sl_shape_matrix(batch, 784), ys = sl_shape_vector(batch), sc = sl_shape_scalar();
    sl_tensor *x = sl_tensor_new(SL_DTYPE_FLOAT, &xs, st);
    sl_tensor *y = sl_tensor_new(SL_DTYPE_INT64, &ys, st);
    sl_tensor *tr = sl_tensor_new(SL_DTYPE_BOOL, &sc, st);
    if (!x || !y || !tr)
        die("feeds");
    uint64_t r = 12345;
    float *xp = sl_tensor_data(x);
    for (int64_t i = 0; i < batch * 784; i++) {
        r = r * 6364136223846793005ull + 1442695040888963407ull;
        xp[i] = (float)(r >> 40) / (float)(1 << 24);
    }
    int64_t *yp = sl_tensor_data(y);
    for (int64_t i = 0; i < batch; i++)
        yp[i] = i % 10;
    *(bool *)sl_tensor_data(tr) = true;

    const char *feed_names[] = {"images", "labels", "training"};
    sl_tensor *feeds[] = {x, y, tr};
    const char *logits = "logits/BiasAdd";
    int64_t steps = 0;
    double t0 = 0, c0 = 0;
    for (int i = 0;; i++) {
        if (i == 3) {
            t0 = bench_now();
            c0 = cpu_now();
        }
        sl_code c;
        if (train) {
            c = sl_session_run(s, NULL, feed_names, feeds, 3, NULL, NULL, 0, &train_op, 1, NULL, st);
        } else {
            sl_tensor *out = NULL;
            c = sl_session_run(s, NULL, feed_names, feeds, 1, &logits, &out, 1, NULL, 0, NULL, st);
            sl_tensor_unref(out);
        }
        if (c != SL_OK)
            die("step");
        if (i >= 3) {
            steps++;
            if (bench_now() - t0 >= seconds)
                break;
        }
    }
    double dt = bench_now() - t0, dc = cpu_now() - c0;
    printf("examples/s %.1f per-cpu-second %.1f\n", (double)(steps * batch) / dt, (double)(steps * batch) / dc);
    sl_tensor_unref(x);
    sl_tensor_unref(y);
    sl_tensor_unref(tr);
    sl_session_free(s);
    sl_graph_free(g);
    sl_status_free(st);
    return 0;
}
