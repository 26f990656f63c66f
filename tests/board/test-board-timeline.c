/* The timeline's model without a display: RunMetadata written by the
 * summaries writer, read back by the board's loader, decoded into lanes
 * per (device, thread) (order, labels, rows for overlaps, durations, ops
 * from labels, the graph and partition names), the hover query, and bad
 * bytes (garbage, truncations, empty step stats) giving an error that
 * names the run and the tag instead of a crash; and the real GPU run of
 * tests/board/data (a CPU run written at test time is checked by
 * test-board-timeline-train.sh through --logdir). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <math.h>
#include <string.h>
#include <stdio.h>
#include <glib/gstdio.h>

#include "board-loader.h"
#include "board-timeline.h"
#include "graph.pb-c.h"
#include "node_def.pb-c.h"
#include "run_metadata.pb-c.h"
#include "sluice/summaries.h"
#include "step_stats.pb-c.h"

#define T0 1700000000000000LL   /* µs since the epoch */

typedef struct {
    const char *dev;
    const char *name;
    gint64 start;      /* µs after T0 */
    gint64 dur;
    guint32 thread;
    const char *label;
} Spec;

/* The step: two CPU threads, a worker task's CPU, a GPU with two
 * threads; the devices are written in a scrambled order. */
#define GPU "/job:localhost/replica:0/task:0/device:GPU:0"
#define CPU "/job:localhost/replica:0/task:0/device:CPU:0"
#define WCPU "/job:worker/replica:0/task:1/device:CPU:0"
static const Spec spec[] = {
    { GPU, "conv1/Conv2D", 100, 50, 7, NULL },
    { GPU, "conv1/Relu", 160, 10, 7, NULL },
    { GPU, "images/_recv_0_on_0", 20, 300, 7, NULL },    /* overlaps both: row 1 */
    { GPU, "fc/MatMul", 40, 30, 2, "fc/MatMul = MatMul(x, w)" },
    { CPU, "images/_send_0_to_0", 10, 5, 0, NULL },
    { CPU, "global_step", 0, 2, 3, NULL },
    { CPU, "loss/_recv_0_on_1", 30, 400, 3, NULL },
    { WCPU, "ps_read", 50, 25, 1, NULL },
};
#define N_SPEC G_N_ELEMENTS (spec)

static GBytes *
pack_graph (void)
{
    static const char *names[] = { "conv1/Conv2D", "conv1/Relu", "fc/MatMul", "global_step",
                                   "ps_read" };
    static const char *ops[] = { "Conv2D", "Relu", "Identity", "VariableV2", "Identity" };
    Tensorflow__NodeDef nodes[5], *np[5];
    for (int i = 0; i < 5; i++) {
        tensorflow__node_def__init (&nodes[i]);
        nodes[i].name = (char *) names[i];
        nodes[i].op = (char *) ops[i];   /* fc/MatMul: its label wins */
        np[i] = &nodes[i];
    }
    Tensorflow__GraphDef g = TENSORFLOW__GRAPH_DEF__INIT;
    g.n_node = 5;
    g.node = np;
    gsize n = tensorflow__graph_def__get_packed_size (&g);
    guint8 *buf = g_malloc (n);
    tensorflow__graph_def__pack (&g, buf);
    return g_bytes_new_take (buf, n);
}

/* The spec as a StepStats, packed into a RunMetadata. */
static GBytes *
pack_run_metadata (gint64 shift)
{
    const char *devs[] = { GPU, WCPU, CPU };
    Tensorflow__DeviceStepStats ds[3], *dsp[3];
    Tensorflow__NodeExecStats ns[N_SPEC], *nsp[N_SPEC];
    Tensorflow__DeviceStepStats__ThreadNamesEntry tn = TENSORFLOW__DEVICE_STEP_STATS__THREAD_NAMES_ENTRY__INIT;
    Tensorflow__DeviceStepStats__ThreadNamesEntry *tnp[1] = { &tn };
    tn.key = 3;
    tn.value = "pool-3";
    int at = 0;
    for (int d = 0; d < 3; d++) {
        tensorflow__device_step_stats__init (&ds[d]);
        ds[d].device = (char *) devs[d];
        ds[d].node_stats = nsp + at;
        if (strcmp (devs[d], CPU) == 0) {
            ds[d].n_thread_names = 1;
            ds[d].thread_names = tnp;
        }
        for (guint i = 0; i < N_SPEC; i++) {
            if (strcmp (spec[i].dev, devs[d]) != 0)
                continue;
            Tensorflow__NodeExecStats *n = &ns[at];
            tensorflow__node_exec_stats__init (n);
            n->node_name = (char *) spec[i].name;
            n->all_start_micros = T0 + shift + spec[i].start;
            n->op_start_rel_micros = 1;
            n->op_end_rel_micros = spec[i].dur - 1;
            n->all_end_rel_micros = spec[i].dur;
            n->thread_id = spec[i].thread;
            n->timeline_label = (char *) (spec[i].label ? spec[i].label : "");
            nsp[at++] = n;
            ds[d].n_node_stats++;
        }
        dsp[d] = &ds[d];
    }
    Tensorflow__StepStats ss = TENSORFLOW__STEP_STATS__INIT;
    ss.n_dev_stats = 3;
    ss.dev_stats = dsp;
    Tensorflow__RunMetadata rm = TENSORFLOW__RUN_METADATA__INIT;
    rm.step_stats = &ss;
    gsize size = tensorflow__run_metadata__get_packed_size (&rm);
    guint8 *buf = g_malloc (size);
    tensorflow__run_metadata__pack (&rm, buf);
    return g_bytes_new_take (buf, size);
}

static gboolean
give_up (gpointer data)
{
    *(gboolean *) data = TRUE;
    return G_SOURCE_REMOVE;
}

/* Reads a logdir with the board's loader; NULL when it takes too long. */
static BoardDataset *
load_dir (const char *dir)
{
    BoardDataset *ds = board_dataset_new ();
    const char *dirs[] = { dir, NULL };
    BoardLoader *l = board_loader_new (ds, dirs);
    gboolean late = FALSE;
    gint64 start = g_get_monotonic_time ();
    guint id = g_timeout_add_seconds (60, give_up, &late);
    while (!board_dataset_is_complete (ds) && !late)
        g_main_context_iteration (NULL, TRUE);
    if (!late)
        g_source_remove (id);
    board_loader_free (l);
    if (late) {
        fprintf (stderr, "%s: not loaded after %.1f s\n", dir,
                 (g_get_monotonic_time () - start) / 1e6);
        g_clear_object (&ds);
    }
    return ds;
}

/* Writes a logdir with run "train" (steps 100, 20, a "profiler" tag, a
 * damaged "step5") and loads it with the board's loader. */
static BoardDataset *
load_logdir (char **dir_out)
{
    char *dir = g_dir_make_tmp ("board-timeline-XXXXXX", NULL);
    char *run = g_build_filename (dir, "train", NULL);
    sl_status *st = sl_status_new ();
    sl_summary_writer *w = sl_summary_writer_open (run, NULL, st);
    assert_non_null (w);
    GBytes *g = pack_graph ();
    assert_int_equal (sl_summary_writer_add_graph (w, g_bytes_get_data (g, NULL), g_bytes_get_size (g),
                                                   0, 0, st), SL_OK);
    g_bytes_unref (g);
    gint64 steps[] = { 100, 20 };
    for (int i = 0; i < 2; i++) {
        GBytes *b = pack_run_metadata (steps[i] * 1000);
        char tag[32];
        g_snprintf (tag, sizeof tag, "step%" G_GINT64_FORMAT, steps[i]);
        assert_int_equal (sl_summary_writer_add_run_metadata (w, tag, g_bytes_get_data (b, NULL),
                                                              g_bytes_get_size (b), steps[i], 0, st),
                          SL_OK);
        g_bytes_unref (b);
    }
    GBytes *b = pack_run_metadata (0);
    assert_int_equal (sl_summary_writer_add_run_metadata (w, "profiler", g_bytes_get_data (b, NULL),
                                                          g_bytes_get_size (b), 50, 0, st), SL_OK);
    g_bytes_unref (b);
    const guint8 junk[] = { 0x0a, 0xff, 0xff, 0xff, 0x0f, 0x12, 0x34 };   /* a length past the end */
    assert_int_equal (sl_summary_writer_add_run_metadata (w, "step5", junk, sizeof junk, 5, 0, st),
                      SL_OK);
    assert_int_equal (sl_summary_writer_close (w, st), SL_OK);
    sl_status_free (st);
    g_free (run);

    *dir_out = dir;
    return load_dir (dir);
}

static void
remove_tree (const char *dir)
{
    char *cmd = g_strdup_printf ("rm -rf '%s'", dir);
    assert_int_equal (system (cmd), 0);
    g_free (cmd);
}

static const BoardTimelineNode *
find_node (const BoardTimelineStep *s, const char *name)
{
    for (guint i = 0; i < s->nodes->len; i++) {
        const BoardTimelineNode *n = &g_array_index (s->nodes, BoardTimelineNode, i);
        if (strcmp (n->name, name) == 0)
            return n;
    }
    fail_msg ("no node %s", name);
    return NULL;
}

static void
test_timeline_from_written_logdir (void **state)
{
    char *dir;
    BoardDataset *ds = load_logdir (&dir);
    BoardRun *run = board_dataset_find_run (ds, "train");
    assert_non_null (run);

    /* the traced steps, in step order ("profiler" at its event's step) */
    GPtrArray *refs = board_timeline_refs_of_run (run);
    assert_int_equal (refs->len, 4);
    const char *want_tags[] = { "step5", "step20", "profiler", "step100" };
    for (int i = 0; i < 4; i++)
        assert_string_equal (((BoardTimelineRef *) g_ptr_array_index (refs, i))->tag, want_tags[i]);

    GBytes *gb = board_timeline_graph_of_run (run);
    assert_non_null (gb);
    GHashTable *ops = board_timeline_ops_from_graph (g_bytes_get_data (gb, NULL), g_bytes_get_size (gb));
    g_bytes_unref (gb);
    assert_non_null (ops);
    assert_string_equal (g_hash_table_lookup (ops, "conv1/Conv2D"), "Conv2D");

    BoardTimelineRef *r = g_ptr_array_index (refs, 3);
    GError *error = NULL;
    BoardTimelineStep *s = board_timeline_step_decode (g_bytes_get_data (r->bytes, NULL),
                                                       g_bytes_get_size (r->bytes), ops, "train",
                                                       r->tag, r->step, &error);
    assert_null (error);
    assert_non_null (s);
    assert_int_equal (s->step, 100);
    assert_int_equal (s->n_devices, 3);
    assert_int_equal (s->nodes->len, N_SPEC);
    assert_true (s->start_micros == T0 + 100000);

    /* lanes: CPU before GPU, job localhost before worker, threads in order */
    const char *want_labels[] = { "CPU:0 t0", "CPU:0 t3", "worker:1/CPU:0", "GPU:0 t2", "GPU:0 t7" };
    assert_int_equal (s->lanes->len, 5);
    for (int i = 0; i < 5; i++) {
        BoardTimelineLane *l = g_ptr_array_index (s->lanes, i);
        assert_string_equal (l->label, want_labels[i]);
    }
    BoardTimelineLane *cpu3 = g_ptr_array_index (s->lanes, 1);
    assert_string_equal (cpu3->thread_name, "pool-3");
    assert_string_equal (cpu3->device_short, "CPU:0");
    assert_null (((BoardTimelineLane *) g_ptr_array_index (s->lanes, 0))->thread_name);

    /* times relative to the step's start; ops from label, graph, names */
    const BoardTimelineNode *conv = find_node (s, "conv1/Conv2D");
    assert_true (conv->start_us == 100 && conv->dur_us == 50);
    assert_true (conv->op_start_us == 1 && conv->op_end_us == 49);
    assert_string_equal (conv->op, "Conv2D");
    assert_int_equal (conv->lane, 4);
    assert_int_equal (conv->thread, 7);
    assert_false (conv->transfer);
    assert_string_equal (find_node (s, "fc/MatMul")->op, "MatMul");   /* the label, not the graph */
    assert_string_equal (find_node (s, "global_step")->op, "VariableV2");
    const BoardTimelineNode *recv = find_node (s, "images/_recv_0_on_0");
    assert_string_equal (recv->op, "_Recv");
    assert_true (recv->transfer);
    assert_string_equal (find_node (s, "images/_send_0_to_0")->op, "_Send");
    assert_true (find_node (s, "images/_send_0_to_0")->transfer);

    /* overlaps: the kernels take row 0, the long _Recv waiting beside
     * them a row of its own below; busy counts the kernels */
    BoardTimelineLane *gpu7 = g_ptr_array_index (s->lanes, 4);
    assert_int_equal (gpu7->n_rows, 2);
    assert_int_equal (gpu7->n_compute_rows, 1);
    assert_int_equal (recv->row, 1);
    assert_int_equal (conv->row, 0);
    assert_int_equal (find_node (s, "conv1/Relu")->row, 0);
    assert_true (gpu7->busy_us == 60);
    /* a copy that overlaps no kernel shares the kernels' row */
    BoardTimelineLane *cpu0 = g_ptr_array_index (s->lanes, 0);
    assert_int_equal (cpu0->n_rows, 1);
    assert_int_equal (((BoardTimelineLane *) g_ptr_array_index (s->lanes, 3))->n_rows, 1);
    assert_true (s->span_us == 430);    /* loss/_recv ends last: 30 + 400 */
    /* within a lane, start order */
    for (guint i = 0; i < s->lanes->len; i++) {
        BoardTimelineLane *l = g_ptr_array_index (s->lanes, i);
        for (guint k = 1; k < l->nodes->len; k++) {
            const BoardTimelineNode *a = &g_array_index (s->nodes, BoardTimelineNode,
                                                         g_array_index (l->nodes, int, k - 1));
            const BoardTimelineNode *b = &g_array_index (s->nodes, BoardTimelineNode,
                                                         g_array_index (l->nodes, int, k));
            assert_true (a->start_us <= b->start_us);
            assert_int_equal (a->lane, (int) i);
        }
    }

    /* the hover query */
    int k = board_timeline_step_node_at (s, 4, 0, 120, 0);
    assert_true (k >= 0);
    assert_string_equal (g_array_index (s->nodes, BoardTimelineNode, k).name, "conv1/Conv2D");
    k = board_timeline_step_node_at (s, 4, 0, 155, 0);   /* between Conv2D and Relu */
    assert_int_equal (k, -1);
    k = board_timeline_step_node_at (s, 4, 1, 155, 0);
    assert_string_equal (g_array_index (s->nodes, BoardTimelineNode, k).name, "images/_recv_0_on_0");
    k = board_timeline_step_node_at (s, 0, 0, 11, 0);
    assert_string_equal (g_array_index (s->nodes, BoardTimelineNode, k).name, "images/_send_0_to_0");
    /* a thin bar found with slack; nothing past the end of a lane */
    k = board_timeline_step_node_at (s, 1, 0, 3.5, 6);
    assert_string_equal (g_array_index (s->nodes, BoardTimelineNode, k).name, "global_step");
    assert_int_equal (board_timeline_step_node_at (s, 1, 0, 3.5, 0), -1);
    assert_int_equal (board_timeline_step_node_at (s, 9, 0, 10, 0), -1);
    board_timeline_step_free (s);

    /* the damaged one: an error naming the run and the tag */
    r = g_ptr_array_index (refs, 0);
    assert_string_equal (r->tag, "step5");
    s = board_timeline_step_decode (g_bytes_get_data (r->bytes, NULL), g_bytes_get_size (r->bytes),
                                    ops, "train", r->tag, r->step, &error);
    assert_null (s);
    assert_non_null (error);
    assert_non_null (strstr (error->message, "train"));
    assert_non_null (strstr (error->message, "step5"));
    g_clear_error (&error);

    g_hash_table_unref (ops);
    g_ptr_array_unref (refs);
    g_object_unref (ds);
    remove_tree (dir);
    g_free (dir);
}

static void
test_timeline_bad_bytes_never_crash (void **state)
{
    GBytes *b = pack_run_metadata (0);
    gsize size;
    const guint8 *data = g_bytes_get_data (b, &size);
    GError *error = NULL;
    /* every truncation: a step or an error, never a crash */
    int errors = 0;
    for (gsize n = 0; n < size; n++) {
        BoardTimelineStep *s = board_timeline_step_decode (data, n, NULL, "run", "stepT", 1, &error);
        if (!s) {
            assert_non_null (error);
            assert_non_null (strstr (error->message, "stepT"));
            g_clear_error (&error);
            errors++;
        } else {
            assert_true (s->nodes->len > 0 && s->lanes->len > 0);
            board_timeline_step_free (s);
        }
    }
    assert_true (errors > 0);
    /* random bytes and flipped bits */
    GRand *rand = g_rand_new_with_seed (7);
    guint8 *copy = g_memdup2 (data, size);
    for (int round = 0; round < 2000; round++) {
        memcpy (copy, data, size);
        for (int f = 0; f < 4; f++)
            copy[g_rand_int_range (rand, 0, (int) size)] ^= (guint8) g_rand_int_range (rand, 1, 256);
        BoardTimelineStep *s = board_timeline_step_decode (copy, size, NULL, "run", "t", 1, &error);
        board_timeline_step_free (s);
        g_clear_error (&error);
    }
    for (int round = 0; round < 500; round++) {
        gsize n = (gsize) g_rand_int_range (rand, 1, 300);
        guint8 *junk = g_malloc (n);
        for (gsize i = 0; i < n; i++)
            junk[i] = (guint8) g_rand_int (rand);
        BoardTimelineStep *s = board_timeline_step_decode (junk, n, NULL, "run", "t", 1, &error);
        board_timeline_step_free (s);
        g_clear_error (&error);
        g_free (junk);
    }
    g_free (copy);
    g_rand_free (rand);
    g_bytes_unref (b);

    /* a RunMetadata without step stats */
    Tensorflow__RunMetadata rm = TENSORFLOW__RUN_METADATA__INIT;
    guint8 buf[16];
    gsize n = tensorflow__run_metadata__pack (&rm, buf);
    assert_null (board_timeline_step_decode (buf, n, NULL, "r", "step9", 9, &error));
    assert_non_null (strstr (error->message, "no step statistics"));
    g_clear_error (&error);
    assert_null (board_timeline_step_decode (NULL, 0, NULL, "r", "step9", 9, &error));
    g_clear_error (&error);
}

static void
test_timeline_nanos_only (void **state)
{
    Tensorflow__NodeExecStats n = TENSORFLOW__NODE_EXEC_STATS__INIT, *np = &n;
    n.node_name = "a";
    n.all_start_nanos = 5000000;
    n.all_end_rel_nanos = 2500;
    Tensorflow__DeviceStepStats d = TENSORFLOW__DEVICE_STEP_STATS__INIT, *dp = &d;
    d.device = "/device:CPU:0";
    d.n_node_stats = 1;
    d.node_stats = &np;
    Tensorflow__StepStats ss = TENSORFLOW__STEP_STATS__INIT;
    ss.n_dev_stats = 1;
    ss.dev_stats = &dp;
    Tensorflow__RunMetadata rm = TENSORFLOW__RUN_METADATA__INIT;
    rm.step_stats = &ss;
    guint8 buf[256];
    gsize size = tensorflow__run_metadata__pack (&rm, buf);
    BoardTimelineStep *s = board_timeline_step_decode (buf, size, NULL, "r", "t", 0, NULL);
    assert_non_null (s);
    const BoardTimelineNode *a = &g_array_index (s->nodes, BoardTimelineNode, 0);
    assert_true (a->start_us == 0 && fabs (a->dur_us - 2.5) < 1e-9);
    assert_string_equal (((BoardTimelineLane *) g_ptr_array_index (s->lanes, 0))->label, "CPU:0");
    assert_string_equal (a->op, "");
    board_timeline_step_free (s);
}

static void
test_timeline_names_colors_times (void **state)
{
    char *x = board_timeline_device_short ("/job:localhost/replica:0/task:0/device:GPU:0");
    assert_string_equal (x, "GPU:0");
    g_free (x);
    x = board_timeline_device_short ("/job:worker/replica:0/task:2/device:GPU:1");
    assert_string_equal (x, "worker:2/GPU:1");
    g_free (x);
    x = board_timeline_device_short ("/job:localhost/replica:0/task:0/device:GPU:0/stream:all");
    assert_string_equal (x, "GPU:0 stream:all");
    g_free (x);
    x = board_timeline_device_short ("/cpu:0");
    assert_string_equal (x, "CPU:0");
    g_free (x);
    x = board_timeline_device_short ("mystery");
    assert_string_equal (x, "mystery");
    g_free (x);

    assert_string_equal (board_timeline_op_from_name ("x/_send_0_to_1"), "_Send");
    assert_string_equal (board_timeline_op_from_name ("x/_recv_2_on_0"), "_Recv");
    assert_string_equal (board_timeline_op_from_name ("Adam/_control_token"), "Const");
    assert_null (board_timeline_op_from_name ("conv1/Conv2D"));

    /* stable colors; transfers share one neutral color */
    assert_int_equal (board_timeline_op_color ("MatMul"), board_timeline_op_color ("MatMul"));
    assert_int_equal (board_timeline_op_color ("_Send"), board_timeline_op_color ("_Recv"));
    assert_int_not_equal (board_timeline_op_color ("MatMul"), board_timeline_op_color ("_Send"));
    /* the usual heavy ops of a training step all differ */
    const char *heavy[] = { "MatMul", "Conv2D", "Conv2DBackpropInput", "Conv2DBackpropFilter",
                            "BiasAdd", "BiasAddGrad", "Relu", "ReluGrad", "MaxPool",
                            "MaxPoolGrad", "ApplyAdam", "Mul", "Const", "Reshape", "Cast",
                            "Mean", "AddV2" };
    for (guint i = 0; i < G_N_ELEMENTS (heavy); i++)
        for (guint j = i + 1; j < G_N_ELEMENTS (heavy); j++)
            assert_int_not_equal (board_timeline_op_color (heavy[i]),
                                  board_timeline_op_color (heavy[j]));

    char *t = board_timeline_format_us (850);
    assert_string_equal (t, "850 \u00b5s");
    g_free (t);
    t = board_timeline_format_us (1250);
    assert_string_equal (t, "1.25 ms");
    g_free (t);
    t = board_timeline_format_us (2.5e6);
    assert_string_equal (t, "2.50 s");
    g_free (t);
}

/* Decodes every traced step of every run; NULL ops count as unknown. */
typedef struct {
    int steps, nodes, unknown_ops, transfers, errors, unnamed_threads, labels;
    gboolean cpu, gpu;
} Census;

static void
census_of (BoardDataset *ds, Census *c, gboolean verbose)
{
    memset (c, 0, sizeof *c);
    GListModel *runs = board_dataset_get_runs (ds);
    for (guint i = 0; i < g_list_model_get_n_items (runs); i++) {
        BoardRun *run = g_list_model_get_item (runs, i);
        GPtrArray *refs = board_timeline_refs_of_run (run);
        GBytes *g = board_timeline_graph_of_run (run);
        GHashTable *ops = g ? board_timeline_ops_from_graph (g_bytes_get_data (g, NULL),
                                                             g_bytes_get_size (g)) : NULL;
        for (guint k = 0; k < refs->len; k++) {
            BoardTimelineRef *r = g_ptr_array_index (refs, k);
            GError *error = NULL;
            BoardTimelineStep *s = board_timeline_step_decode (
                g_bytes_get_data (r->bytes, NULL), g_bytes_get_size (r->bytes), ops,
                board_run_get_name (run), r->tag, r->step, &error);
            if (!s) {
                fprintf (stderr, "%s\n", error->message);
                g_error_free (error);
                c->errors++;
                continue;
            }
            c->steps++;
            c->nodes += (int) s->nodes->len;
            for (guint n = 0; n < s->nodes->len; n++) {
                const BoardTimelineNode *x = &g_array_index (s->nodes, BoardTimelineNode, n);
                c->unknown_ops += !*x->op;
                c->transfers += x->transfer;
                c->labels += *x->label != '\0';
            }
            GString *lanes = g_string_new (NULL);
            for (guint l = 0; l < s->lanes->len; l++) {
                BoardTimelineLane *lane = g_ptr_array_index (s->lanes, l);
                c->cpu |= g_str_has_prefix (lane->device_short, "CPU:");
                c->gpu |= g_str_has_prefix (lane->device_short, "GPU:");
                c->unnamed_threads += lane->thread_name == NULL;
                g_string_append_printf (lanes, "%s%s (%s)", l ? ", " : "", lane->label,
                                        lane->thread_name ? lane->thread_name : "?");
            }
            if (verbose)
                printf ("# %s %s: %u nodes, %.0f us, lanes %s\n", board_run_get_name (run), r->tag,
                        s->nodes->len, s->span_us, lanes->str);
            g_string_free (lanes, TRUE);
            board_timeline_step_free (s);
        }
        if (ops)
            g_hash_table_unref (ops);
        if (g)
            g_bytes_unref (g);
        g_ptr_array_unref (refs);
        g_object_unref (run);
    }
}

/* The real GPU run (tests/board/data/README.md). */
static void
test_timeline_real_gpu_trace (void **state)
{
    BoardDataset *ds = load_dir (BOARD_TIMELINE_DATA "/gpu-mnist-cnn");
    assert_non_null (ds);
    BoardRun *run = board_dataset_find_run (ds, "train");
    assert_non_null (run);
    GPtrArray *refs = board_timeline_refs_of_run (run);
    assert_int_equal (refs->len, 4);
    const char *tags[] = { "step100", "step200", "step300", "step400" };
    for (int i = 0; i < 4; i++)
        assert_string_equal (((BoardTimelineRef *) g_ptr_array_index (refs, i))->tag, tags[i]);
    GBytes *g = board_timeline_graph_of_run (run);
    GHashTable *ops = board_timeline_ops_from_graph (g_bytes_get_data (g, NULL), g_bytes_get_size (g));
    g_bytes_unref (g);
    BoardTimelineRef *r = g_ptr_array_index (refs, 3);
    BoardTimelineStep *s = board_timeline_step_decode (g_bytes_get_data (r->bytes, NULL),
                                                       g_bytes_get_size (r->bytes), ops, "train",
                                                       r->tag, r->step, NULL);
    assert_non_null (s);
    assert_int_equal (s->n_devices, 2);
    assert_int_equal (s->nodes->len, 173);
    const char *labels[] = { "CPU:0 t0", "CPU:0 t5", "CPU:0 t13", "CPU:0 t15",
                             "GPU:0 t0", "GPU:0 t5", "GPU:0 t10", "GPU:0 t13" };
    assert_int_equal (s->lanes->len, 8);
    for (int i = 0; i < 8; i++)
        assert_string_equal (((BoardTimelineLane *) g_ptr_array_index (s->lanes, i))->label, labels[i]);
    int transfers = 0, unknown = 0;
    for (guint i = 0; i < s->nodes->len; i++) {
        const BoardTimelineNode *n = &g_array_index (s->nodes, BoardTimelineNode, i);
        transfers += n->transfer;
        unknown += !*n->op;
    }
    assert_int_equal (transfers, 30);   /* 15 pairs between CPU:0 and GPU:0 */
    assert_int_equal (unknown, 0);      /* every op from the graph or the partition names */
    const BoardTimelineNode *conv = find_node (s, "conv1/Conv2D");
    assert_string_equal (conv->op, "Conv2D");
    assert_string_equal (((BoardTimelineLane *) g_ptr_array_index (s->lanes, conv->lane))->label,
                         "GPU:0 t13");
    assert_true (conv->dur_us == 180);
    assert_true (s->span_us > 2700 && s->span_us < 2800);
    /* the GPU's main thread: kernels in one row, waiting copies below */
    BoardTimelineLane *gpu = g_ptr_array_index (s->lanes, 7);
    assert_int_equal (gpu->n_compute_rows, 1);
    assert_true (gpu->busy_us > 0.5 * s->span_us && gpu->busy_us < s->span_us);
    board_timeline_step_free (s);
    g_hash_table_unref (ops);
    g_ptr_array_unref (refs);
    g_object_unref (ds);
}

/* A big trace (100,000 nodes on 4 devices of 16 threads, bursts of
 * overlapping receives) decodes in well under a second's work per 10,000
 * nodes, with every lane's rows free of overlaps. */
static void
test_timeline_big_step (void **state)
{
    enum { N = 100000, DEV = 4, THR = 16 };
    const char *devs[DEV] = { "/job:localhost/replica:0/task:0/device:GPU:1",
                              "/job:localhost/replica:0/task:0/device:CPU:0",
                              "/job:localhost/replica:0/task:0/device:GPU:0",
                              "/job:worker/replica:0/task:3/device:CPU:0" };
    Tensorflow__DeviceStepStats ds[DEV], *dsp[DEV];
    Tensorflow__NodeExecStats *ns = g_new (Tensorflow__NodeExecStats, N);
    Tensorflow__NodeExecStats **nsp = g_new (Tensorflow__NodeExecStats *, N);
    char **names = g_new (char *, N);
    GRand *rand = g_rand_new_with_seed (11);
    for (int d = 0; d < DEV; d++) {
        tensorflow__device_step_stats__init (&ds[d]);
        ds[d].device = (char *) devs[d];
        ds[d].node_stats = nsp + d * (N / DEV);
        ds[d].n_node_stats = N / DEV;
        dsp[d] = &ds[d];
    }
    gint64 clock[DEV][THR] = { { 0 } };
    for (int i = 0; i < N; i++) {
        int d = i / (N / DEV), t = g_rand_int_range (rand, 0, THR);
        tensorflow__node_exec_stats__init (&ns[i]);
        gboolean recv = i % 10 == 0;
        names[i] = g_strdup_printf ("layer%d/op%d%s", i % 97, i, recv ? "/_recv_0_on_1" : "");
        ns[i].node_name = names[i];
        ns[i].thread_id = (guint32) t;
        ns[i].all_start_micros = 1700000000000000LL + clock[d][t];
        ns[i].all_end_rel_micros = recv ? g_rand_int_range (rand, 50, 500) : g_rand_int_range (rand, 1, 40);
        if (!recv)
            clock[d][t] += ns[i].all_end_rel_micros + g_rand_int_range (rand, 0, 5);
        nsp[i] = &ns[i];
    }
    Tensorflow__StepStats ss = TENSORFLOW__STEP_STATS__INIT;
    ss.n_dev_stats = DEV;
    ss.dev_stats = dsp;
    Tensorflow__RunMetadata rm = TENSORFLOW__RUN_METADATA__INIT;
    rm.step_stats = &ss;
    gsize size = tensorflow__run_metadata__get_packed_size (&rm);
    guint8 *buf = g_malloc (size);
    tensorflow__run_metadata__pack (&rm, buf);
    gint64 t0 = g_get_monotonic_time ();
    BoardTimelineStep *s = board_timeline_step_decode (buf, size, NULL, "big", "step1", 1, NULL);
    double ms = (g_get_monotonic_time () - t0) / 1000.0;
    printf ("# decoded %d nodes (%" G_GSIZE_FORMAT " bytes) in %.0f ms\n", N, size, ms);
    assert_non_null (s);
    assert_int_equal (s->nodes->len, N);
    assert_int_equal (s->lanes->len, DEV * THR);
    assert_true (ms < 10000);   /* a loaded machine shared by many: generous */
    /* lanes: CPU:0, worker:3/CPU:0, GPU:0, GPU:1 */
    assert_string_equal (((BoardTimelineLane *) g_ptr_array_index (s->lanes, 0))->label, "CPU:0 t0");
    assert_string_equal (((BoardTimelineLane *) g_ptr_array_index (s->lanes, THR))->label,
                         "worker:3/CPU:0 t0");
    assert_string_equal (((BoardTimelineLane *) g_ptr_array_index (s->lanes, 2 * THR))->label, "GPU:0 t0");
    assert_string_equal (((BoardTimelineLane *) g_ptr_array_index (s->lanes, 3 * THR + 15))->label,
                         "GPU:1 t15");
    /* no two bars of a row overlap; kernels never below the copies' rows */
    for (guint l = 0; l < s->lanes->len; l++) {
        BoardTimelineLane *lane = g_ptr_array_index (s->lanes, l);
        GArray *end = g_array_new (FALSE, TRUE, sizeof (double));
        g_array_set_size (end, (guint) lane->n_rows);
        for (guint k = 0; k < lane->nodes->len; k++) {
            const BoardTimelineNode *n = &g_array_index (s->nodes, BoardTimelineNode,
                                                         g_array_index (lane->nodes, int, k));
            assert_true (n->row < lane->n_rows);
            assert_true (g_array_index (end, double, n->row) <= n->start_us);
            g_array_index (end, double, n->row) = n->start_us + n->dur_us;
            if (!n->transfer)
                assert_true (n->row < lane->n_compute_rows);
        }
        g_array_unref (end);
    }
    board_timeline_step_free (s);
    g_free (buf);
    for (int i = 0; i < N; i++)
        g_free (names[i]);
    g_free (names);
    g_free (ns);
    g_free (nsp);
    g_rand_free (rand);
}

/* test-board-timeline --logdir DIR [gpu]: every traced step of a logdir
 * written at test time (test-board-timeline-train.sh) decodes, with
 * CPU lanes (and GPU ones when asked), each op known. */
static int
check_logdir (const char *dir, gboolean want_gpu)
{
    BoardDataset *ds = load_dir (dir);
    if (!ds)
        return 1;
    Census c;
    census_of (ds, &c, TRUE);
    g_object_unref (ds);
    int bad = 0;
    if (c.steps < 2 || c.errors)
        fprintf (stderr, "%d steps decoded, %d errors\n", c.steps, c.errors), bad = 1;
    if (c.unknown_ops)
        fprintf (stderr, "%d nodes without an op\n", c.unknown_ops), bad = 1;
    if (!c.cpu || (want_gpu && !c.gpu))
        fprintf (stderr, "lanes: cpu %d gpu %d\n", c.cpu, c.gpu), bad = 1;
    if (c.nodes < 20 * c.steps)
        fprintf (stderr, "only %d nodes in %d steps\n", c.nodes, c.steps), bad = 1;
    /* sluice train names its threads and labels its nodes "name = Op()" */
    if (c.unnamed_threads || c.labels != c.nodes)
        fprintf (stderr, "%d lanes without a thread name, %d of %d nodes labelled\n",
                 c.unnamed_threads, c.labels, c.nodes), bad = 1;
    return bad;
}

int
main (int argc, char **argv)
{
    if (argc >= 3 && strcmp (argv[1], "--logdir") == 0)
        return check_logdir (argv[2], argc >= 4 && strcmp (argv[3], "gpu") == 0);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_timeline_real_gpu_trace),
        cmocka_unit_test (test_timeline_from_written_logdir),
        cmocka_unit_test (test_timeline_bad_bytes_never_crash),
        cmocka_unit_test (test_timeline_nanos_only),
        cmocka_unit_test (test_timeline_big_step),
        cmocka_unit_test (test_timeline_names_colors_times),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
