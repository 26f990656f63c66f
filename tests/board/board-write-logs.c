/* Writes logdirs for the board's tests, screenshots and benchmark with
 * the summaries writer, as a training program would:
 *
 *   board-write-logs demo LOGDIR [GRAPH.pbtxt]
 *       runs lr0.1/seed1..3 and lr0.01/seed1..3: scalars (loss, accuracy,
 *       learning rate) over 2000 steps with noise and a spike, TF2 and
 *       TF1 histograms, images, text, and a graph
 *   board-write-logs live LOGDIR STEPS PERIOD_MS
 *       appends one point of "live/loss" every PERIOD_MS and flushes,
 *       printing "flushed N <monotonic µs>" after each flush
 *   board-write-logs bench LOGDIR RUNS TAGS STEPS
 *       RUNS x TAGS x STEPS scalar points
 *   board-write-logs image LOGDIR WIDTH HEIGHT
 *       one RGB image of WIDTH x HEIGHT (big images for bad-input tests)
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <glib.h>

#include "sluice/summaries.h"
#include "graph.pb-c.h"
#include "textformat.h"

static void
check (sl_code code, sl_status *st)
{
    if (code != SL_OK) {
        fprintf (stderr, "board-write-logs: %s\n", sl_status_message (st));
        exit (1);
    }
}

static sl_summary_writer *
open_writer (const char *dir, sl_status *st)
{
    sl_summary_writer_options o = SL_SUMMARY_WRITER_OPTIONS_INIT;
    o.max_queue = 1000;
    sl_summary_writer *w = sl_summary_writer_open (dir, &o, st);
    if (!w) {
        fprintf (stderr, "board-write-logs: %s\n", sl_status_message (st));
        exit (1);
    }
    return w;
}

static int
demo (const char *logdir, const char *graph_path)
{
    sl_status *st = sl_status_new ();
    const char *runs[] = { "lr0.1/seed1", "lr0.1/seed2", "lr0.1/seed3",
                           "lr0.01/seed1", "lr0.01/seed2", "lr0.01/seed3" };
    GRand *rand = g_rand_new_with_seed (7);
    double t0 = 1700000000.0;
    for (int r = 0; r < 6; r++) {
        char *dir = g_build_filename (logdir, runs[r], NULL);
        sl_summary_writer *w = open_writer (dir, st);
        double lr = r < 3 ? 0.1 : 0.01;
        double speed = r < 3 ? 400.0 : 1100.0;
        for (int step = 0; step <= 2000; step += 5) {
            double wall = t0 + step * 0.25 + r * 3;
            double noise = g_rand_double_range (rand, -1, 1);
            double loss = 2.3 * exp (-step / speed) + 0.08 + 0.06 * noise;
            if (r == 1 && step == 1200)
                loss = 3.5;   /* one spike: it must stay visible */
            check (sl_summary_writer_add_scalar (w, "train/loss", (float) loss, step, wall, st), st);
            double acc = 1 - 0.9 * exp (-step / (speed * 0.8)) + 0.02 * noise;
            check (sl_summary_writer_add_scalar (w, "train/accuracy", (float) acc, step, wall, st), st);
            if (step % 50 == 0) {
                double vl = loss + 0.1 + 0.03 * g_rand_double_range (rand, -1, 1);
                check (sl_summary_writer_add_simple_value (w, "eval/loss", (float) vl, step, wall, st), st);
                check (sl_summary_writer_add_scalar (w, "optimizer/learning_rate",
                                                     (float) (lr * pow (0.5, step / 500)), step,
                                                     wall, st), st);
            }
            if (step % 100 == 0 && r % 3 == 0) {
                double vals[1000];
                double spread = 1.0 - 0.6 * step / 2000.0;
                for (int i = 0; i < 1000; i++) {
                    double u1 = g_rand_double_range (rand, 1e-9, 1), u2 = g_rand_double (rand);
                    vals[i] = spread * sqrt (-2 * log (u1)) * cos (2 * G_PI * u2) + step / 4000.0;
                }
                check (sl_summary_writer_add_histogram (w, "weights/dense1", vals, 1000, 30,
                                                        step, wall, st), st);
                check (sl_summary_writer_add_histogram_tf1 (w, "activations/relu1", vals, 1000,
                                                            step, wall, st), st);
            }
            if (step % 400 == 0 && r % 3 == 0) {
                enum { W = 64, H = 48 };
                static uint8_t px[W * H * 3];
                for (int y = 0; y < H; y++)
                    for (int x = 0; x < W; x++) {
                        uint8_t *p = &px[(y * W + x) * 3];
                        p[0] = (uint8_t) (x * 4 + step / 10);
                        p[1] = (uint8_t) (y * 5);
                        p[2] = (uint8_t) (128 + 100 * sin ((x + y + step / 40.0) / 6.0));
                    }
                sl_image img = { px, W, H, 3, 0 };
                check (sl_summary_writer_add_images (w, "samples/input", &img, 1, step, wall, st), st);
            }
            if (step % 1000 == 0 && r % 3 == 0) {
                char *text = g_strdup_printf ("step %d: lr=%g, seed=%d\n\n| metric | value |\n"
                                              "|---|---|\n| loss | %.4f |", step, lr, r % 3 + 1, loss);
                const char *strs[] = { text };
                check (sl_summary_writer_add_text (w, "notes/summary", strs, NULL, 1, step, wall, st), st);
                g_free (text);
            }
        }
        if (graph_path && r == 0) {
            char *data;
            gsize size;
            if (g_file_get_contents (graph_path, &data, &size, NULL)) {
                ProtobufCMessage *m = sl_textformat_parse (&tensorflow__graph_def__descriptor,
                                                           data, size, graph_path, st);
                if (m) {
                    size_t n = protobuf_c_message_get_packed_size (m);
                    uint8_t *buf = g_malloc (n);
                    protobuf_c_message_pack (m, buf);
                    check (sl_summary_writer_add_graph (w, buf, n, 0, t0, st), st);
                    g_free (buf);
                    protobuf_c_message_free_unpacked (m, NULL);
                }
                g_free (data);
            }
        }
        check (sl_summary_writer_close (w, st), st);
        g_free (dir);
    }
    g_rand_free (rand);
    sl_status_free (st);
    return 0;
}

static int
live (const char *logdir, int steps, int period_ms)
{
    sl_status *st = sl_status_new ();
    sl_summary_writer *w = open_writer (logdir, st);
    for (int i = 0; i < steps; i++) {
        check (sl_summary_writer_add_scalar (w, "live/loss", (float) (1.0 / (1 + i)), i, 0, st), st);
        check (sl_summary_writer_flush (w, st), st);
        printf ("flushed %d %" G_GINT64_FORMAT "\n", i + 1, g_get_monotonic_time ());
        fflush (stdout);
        g_usleep ((gulong) period_ms * 1000);
    }
    check (sl_summary_writer_close (w, st), st);
    sl_status_free (st);
    return 0;
}

static int
bench (const char *logdir, int runs, int tags, int steps)
{
    sl_status *st = sl_status_new ();
    for (int r = 0; r < runs; r++) {
        char *dir = g_strdup_printf ("%s/run%03d", logdir, r);
        sl_summary_writer *w = open_writer (dir, st);
        for (int s = 0; s < steps; s++)
            for (int t = 0; t < tags; t++) {
                char tag[32];
                g_snprintf (tag, sizeof tag, "metrics/tag%02d", t);
                double v = exp (-s / 3000.0) * (1 + t) + 0.05 * sin (s * 0.37 + r);
                check (sl_summary_writer_add_scalar (w, tag, (float) v, s, 1.7e9 + s, st), st);
            }
        check (sl_summary_writer_close (w, st), st);
        g_free (dir);
    }
    sl_status_free (st);
    return 0;
}

static int
image (const char *logdir, int width, int height)
{
    sl_status *st = sl_status_new ();
    sl_summary_writer *w = open_writer (logdir, st);
    size_t n = (size_t) width * height * 3;
    uint8_t *px = g_malloc (n);
    GRand *rand = g_rand_new_with_seed (1);
    for (size_t i = 0; i < n; i++)   /* noise: PNG cannot shrink it */
        px[i] = (uint8_t) g_rand_int (rand);
    sl_image img = { px, width, height, 3, 0 };
    check (sl_summary_writer_add_images (w, "big/image", &img, 1, 0, 0, st), st);
    check (sl_summary_writer_add_scalar (w, "big/loss", 1.0f, 0, 0, st), st);
    check (sl_summary_writer_close (w, st), st);
    g_rand_free (rand);
    g_free (px);
    sl_status_free (st);
    return 0;
}

int
main (int argc, char **argv)
{
    if (argc >= 3 && strcmp (argv[1], "demo") == 0)
        return demo (argv[2], argc > 3 ? argv[3] : NULL);
    if (argc == 5 && strcmp (argv[1], "live") == 0)
        return live (argv[2], atoi (argv[3]), atoi (argv[4]));
    if (argc == 6 && strcmp (argv[1], "bench") == 0)
        return bench (argv[2], atoi (argv[3]), atoi (argv[4]), atoi (argv[5]));
    if (argc == 5 && strcmp (argv[1], "image") == 0)
        return image (argv[2], atoi (argv[3]), atoi (argv[4]));
    fprintf (stderr, "usage: board-write-logs demo|live|bench|image LOGDIR ...\n");
    return 2;
}
