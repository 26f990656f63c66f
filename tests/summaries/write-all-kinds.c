/* The writing half of the Python decoder test: writes one event file
 * holding every kind of summary the writer makes, with inputs that
 * decode_events.py recomputes on its own.
 *
 *   write-all-kinds LOGDIR
 *       writes the file into LOGDIR and prints its path;
 *   write-all-kinds --check PYTHON SCRIPT DESCRIPTOR_SET
 *       writes into a temporary directory, runs PYTHON SCRIPT
 *       DESCRIPTOR_SET FILE and exits with its status (77: skipped).
 * The test runs the second form, so `meson test --wrap=valgrind` checks
 * this C process while the Python oracle runs unwrapped. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "helpers.h"

#include "sluice/status.h"
#include "sluice/summaries/writer.h"
#include "step_stats.pb-c.h"

#define CHECK(call)                                                                 \
    do {                                                                            \
        if ((call) != SL_OK) {                                                      \
            fprintf(stderr, "%s:%d: %s\n", __FILE__, __LINE__, sl_status_message(st)); \
            return 1;                                                               \
        }                                                                           \
    } while (0)

static int write_all(const char *logdir, char *path, size_t path_size)
{
    sl_status *st = sl_status_new();
    sl_summary_writer *w = sl_summary_writer_open(logdir, NULL, st);
    if (!w) {
        fprintf(stderr, "%s\n", sl_status_message(st));
        return 1;
    }
    double t = 1700000000.25;
    /* scalars: TF2 form and legacy form */
    for (int s = 0; s < 5; s++) {
        CHECK(sl_summary_writer_add_scalar(w, "loss", 1.0f / (float)(s + 1), s, t + s, st));
        CHECK(sl_summary_writer_add_simple_value(w, "legacy/acc", 0.5f * (float)s, s, t + s, st));
    }
    /* histograms: values[i] = sin(i) * 3 + i / 100 for i < 1000 */
    static double v[1000];
    for (int i = 0; i < 1000; i++) {
        double x = (double)i;
        /* a polynomial the script computes identically (no libm) */
        v[i] = (x * 0.37 - 150.0) * ((x - 500.0) / 250.0) + x / 100.0;
    }
    CHECK(sl_summary_writer_add_histogram(w, "hist/tf2", v, 1000, 0, 10, t + 10, st));
    CHECK(sl_summary_writer_add_histogram(w, "hist/tf2_k7", v, 100, 7, 11, t + 11, st));
    static const double same[3] = {2.5, 2.5, 2.5};
    CHECK(sl_summary_writer_add_histogram(w, "hist/tf2_same", same, 3, 0, 12, t + 12, st));
    CHECK(sl_summary_writer_add_histogram(w, "hist/tf2_empty", NULL, 0, 0, 13, t + 13, st));
    CHECK(sl_summary_writer_add_histogram_tf1(w, "hist/tf1", v, 1000, 14, t + 14, st));
    CHECK(sl_summary_writer_add_histogram_tf1(w, "hist/tf1_empty", NULL, 0, 15, t + 15, st));
    /* images: RGB and grey, 7 x 5, pixel (x, y, c) = x * 30 + y * 7 + c * 50 mod 256 */
    static unsigned char rgb[5][7][3], grey[5][7], rgba[5][7][4];
    for (int y = 0; y < 5; y++)
        for (int x = 0; x < 7; x++) {
            for (int c = 0; c < 3; c++)
                rgb[y][x][c] = (unsigned char)((x * 30 + y * 7 + c * 50) & 255);
            grey[y][x] = (unsigned char)((x * 30 + y * 7) & 255);
            for (int c = 0; c < 3; c++)
                rgba[y][x][c] = rgb[y][x][c];
            rgba[y][x][3] = 255;
        }
    sl_image imgs[3] = {{&rgb[0][0][0], 7, 5, 3, 0},
                        {&grey[0][0], 7, 5, 1, 0},
                        {&rgba[0][0][0], 7, 5, 4, 0}};
    CHECK(sl_summary_writer_add_images(w, "images/sample", imgs, 3, 20, t + 20, st));
    /* text */
    const char *texts[2] = {"# Title\nsome *markdown*", "zweite Zeile \xc3\xa4"};
    CHECK(sl_summary_writer_add_text(w, "text/one", texts, NULL, 1, 30, t + 30, st));
    CHECK(sl_summary_writer_add_text(w, "text/two", texts, NULL, 2, 31, t + 31, st));
    /* a graph: GraphDef{node {name: "x" op: "Placeholder"}} */
    static const unsigned char graph[] = {0x0a, 0x10, 0x0a, 0x01, 'x', 0x12, 0x0b, 'P', 'l', 'a',
                                          'c', 'e', 'h', 'o', 'l', 'd', 'e', 'r'};
    CHECK(sl_summary_writer_add_graph(w, graph, sizeof graph, 0, t + 40, st));
    /* step stats */
    Tensorflow__NodeExecStats n1 = TENSORFLOW__NODE_EXEC_STATS__INIT;
    n1.node_name = (char *)"MatMul";
    n1.all_start_micros = 1000;
    n1.op_start_rel_micros = 1;
    n1.op_end_rel_micros = 25;
    n1.all_end_rel_micros = 26;
    n1.thread_id = 7;
    n1.timeline_label = (char *)"MatMul = MatMul(x, w)";
    Tensorflow__NodeExecStats n2 = TENSORFLOW__NODE_EXEC_STATS__INIT;
    n2.node_name = (char *)"Relu";
    n2.all_start_micros = 1030;
    n2.all_end_rel_micros = 4;
    Tensorflow__NodeExecStats *nodes[2] = {&n1, &n2};
    Tensorflow__DeviceStepStats__ThreadNamesEntry tn = TENSORFLOW__DEVICE_STEP_STATS__THREAD_NAMES_ENTRY__INIT;
    tn.key = 7;
    tn.value = (char *)"worker-7";
    Tensorflow__DeviceStepStats__ThreadNamesEntry *tns[1] = {&tn};
    Tensorflow__DeviceStepStats dev = TENSORFLOW__DEVICE_STEP_STATS__INIT;
    dev.device = (char *)"/job:localhost/replica:0/task:0/device:CPU:0";
    dev.n_node_stats = 2;
    dev.node_stats = nodes;
    dev.n_thread_names = 1;
    dev.thread_names = tns;
    Tensorflow__DeviceStepStats *devs[1] = {&dev};
    Tensorflow__StepStats stats = TENSORFLOW__STEP_STATS__INIT;
    stats.n_dev_stats = 1;
    stats.dev_stats = devs;
    CHECK(sl_summary_writer_add_step_stats(w, "step50", &stats, 50, t + 50, st));
    CHECK(sl_summary_writer_add_session_log(w, 3, "/ckpt/model-60", "saved", 60, t + 60, st));
    snprintf(path, path_size, "%s", sl_summary_writer_path(w));
    CHECK(sl_summary_writer_close(w, st));
    sl_status_free(st);
    return 0;
}

int main(int argc, char **argv)
{
    char path[4096];
    if (argc == 2) {
        int rc = write_all(argv[1], path, sizeof path);
        if (rc == 0)
            printf("%s\n", path);
        return rc;
    }
    if (argc != 5 || strcmp(argv[1], "--check") != 0) {
        fprintf(stderr, "usage: %s LOGDIR | --check PYTHON SCRIPT DESCRIPTOR_SET\n", argv[0]);
        return 2;
    }
    char *dir = th_mkdtemp();
    if (!dir)
        return 1;
    int rc = write_all(dir, path, sizeof path);
    if (rc == 0) {
        fflush(stdout);
        pid_t pid = fork();
        if (pid == 0) {
            execl(argv[2], argv[2], argv[3], argv[4], path, (char *)NULL);
            perror("cannot run the Python oracle");
            _exit(77);
        }
        int status = 0;
        waitpid(pid, &status, 0);
        rc = WIFEXITED(status) ? WEXITSTATUS(status) : 1;
    }
    th_rmtree(dir);
    free(dir);
    return rc;
}
