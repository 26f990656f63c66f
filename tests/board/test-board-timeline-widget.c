/* The timeline view under a display (else skipped, 77): run metadata fed
 * to a dataset is decoded off the main thread and shown as lanes (three
 * for a known step, in order, stacked without overlap), the newest step
 * first, the hover query finds the node under a bar and describes it
 * (name, op, device, thread, start, duration), zooming and resetting
 * work, and damaged run metadata shows an error naming the run and the
 * tag (and logs a warning) instead of crashing. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <math.h>
#include <string.h>

#include "board-timeline-view.h"
#include "graph.pb-c.h"
#include "node_def.pb-c.h"
#include "run_metadata.pb-c.h"
#include "step_stats.pb-c.h"

#define CPU "/job:localhost/replica:0/task:0/device:CPU:0"
#define GPU "/job:localhost/replica:0/task:0/device:GPU:0"

typedef struct {
    const char *dev;
    const char *name;
    gint64 start, dur;
    guint32 thread;
} Spec;

static const Spec spec[] = {
    { CPU, "global_step", 0, 20, 0 },
    { CPU, "x/_send_0_to_0", 30, 15, 0 },
    { CPU, "summaries/loss", 100, 40, 1 },
    { GPU, "x/_recv_0_on_0", 35, 20, 4 },
    { GPU, "dense/MatMul", 60, 50, 4 },
    { GPU, "dense/Relu", 115, 10, 4 },
};

static GBytes *
pack_step (gint64 base)
{
    const char *devs[] = { GPU, CPU };
    Tensorflow__DeviceStepStats ds[2], *dsp[2];
    Tensorflow__NodeExecStats ns[G_N_ELEMENTS (spec)], *nsp[G_N_ELEMENTS (spec)];
    int at = 0;
    for (int d = 0; d < 2; d++) {
        tensorflow__device_step_stats__init (&ds[d]);
        ds[d].device = (char *) devs[d];
        ds[d].node_stats = nsp + at;
        for (guint i = 0; i < G_N_ELEMENTS (spec); i++) {
            if (strcmp (spec[i].dev, devs[d]) != 0)
                continue;
            tensorflow__node_exec_stats__init (&ns[at]);
            ns[at].node_name = (char *) spec[i].name;
            ns[at].all_start_micros = base + spec[i].start;
            ns[at].op_end_rel_micros = spec[i].dur;
            ns[at].all_end_rel_micros = spec[i].dur;
            ns[at].thread_id = spec[i].thread;
            nsp[at] = &ns[at];
            at++;
            ds[d].n_node_stats++;
        }
        dsp[d] = &ds[d];
    }
    Tensorflow__StepStats ss = TENSORFLOW__STEP_STATS__INIT;
    ss.n_dev_stats = 2;
    ss.dev_stats = dsp;
    Tensorflow__RunMetadata rm = TENSORFLOW__RUN_METADATA__INIT;
    rm.step_stats = &ss;
    gsize n = tensorflow__run_metadata__get_packed_size (&rm);
    guint8 *buf = g_malloc (n);
    tensorflow__run_metadata__pack (&rm, buf);
    return g_bytes_new_take (buf, n);
}

static GBytes *
pack_graph (void)
{
    Tensorflow__NodeDef a = TENSORFLOW__NODE_DEF__INIT, b = TENSORFLOW__NODE_DEF__INIT;
    a.name = "dense/MatMul";
    a.op = "MatMul";
    b.name = "dense/Relu";
    b.op = "Relu";
    Tensorflow__NodeDef *np[] = { &a, &b };
    Tensorflow__GraphDef g = TENSORFLOW__GRAPH_DEF__INIT;
    g.n_node = 2;
    g.node = np;
    gsize n = tensorflow__graph_def__get_packed_size (&g);
    guint8 *buf = g_malloc (n);
    tensorflow__graph_def__pack (&g, buf);
    return g_bytes_new_take (buf, n);
}

static void
add_blob (BoardUpdate *u, const char *run, const char *tag, BoardKind kind, gint64 step, GBytes *b)
{
    BoardSeriesDelta *d = board_update_add_delta (u, run, tag, kind, NULL, FALSE);
    BoardBlob *blob = g_new0 (BoardBlob, 1);
    blob->step = step;
    blob->n_blobs = 1;
    blob->blobs = g_new0 (GBytes *, 1);
    blob->blobs[0] = b;
    g_ptr_array_add (d->blobs, blob);
}

static gboolean
timeout_cb (gpointer data)
{
    *(gboolean *) data = TRUE;
    return G_SOURCE_REMOVE;
}

static void
wait_ready (BoardTimelineView *v)
{
    gboolean late = FALSE;
    guint id = g_timeout_add_seconds (20, timeout_cb, &late);
    while (!board_timeline_view_is_ready (v) && !late)
        g_main_context_iteration (NULL, TRUE);
    assert_false (late);
    g_source_remove (id);
    gtk_test_widget_wait_for_draw (GTK_WIDGET (v));
}

static GString *warnings;

static void
log_handler (const char *domain, GLogLevelFlags level, const char *message, gpointer data)
{
    if (level & G_LOG_LEVEL_WARNING)
        g_string_append_printf (warnings, "%s\n", message);
}

static int
node_named (const BoardTimelineStep *s, const char *name)
{
    for (guint i = 0; i < s->nodes->len; i++)
        if (strcmp (g_array_index (s->nodes, BoardTimelineNode, i).name, name) == 0)
            return (int) i;
    fail_msg ("no node %s", name);
    return -1;
}

static void
test_timeline_view_lanes_and_hover (void **state)
{
    BoardDataset *ds = board_dataset_new ();
    GtkWidget *win = gtk_window_new ();
    GtkWidget *view = board_timeline_view_new (ds);
    BoardTimelineView *v = BOARD_TIMELINE_VIEW (view);
    gtk_window_set_child (GTK_WINDOW (win), view);
    gtk_window_set_default_size (GTK_WINDOW (win), 900, 500);
    gtk_window_present (GTK_WINDOW (win));

    BoardUpdate *u = board_update_new ();
    board_update_add_run (u, "bad", "/logs/bad", 0);
    board_update_add_run (u, "train", "/logs/train", 0);
    add_blob (u, "train", "__run_graph__", BOARD_KIND_GRAPH, 0, pack_graph ());
    add_blob (u, "train", "step10", BOARD_KIND_RUN_METADATA, 10, pack_step (1700000000000000LL));
    add_blob (u, "train", "step20", BOARD_KIND_RUN_METADATA, 20, pack_step (1700000001000000LL));
    const guint8 junk[] = { 0x0a, 0x80, 0x80, 0x80, 0x80, 0x10 };
    add_blob (u, "bad", "step5", BOARD_KIND_RUN_METADATA, 5, g_bytes_new (junk, sizeof junk));
    u->complete = TRUE;
    board_dataset_apply (ds, u);

    /* the first run with traced steps, its newest step */
    board_timeline_view_select (v, "train", NULL);
    wait_ready (v);
    assert_string_equal (board_timeline_view_get_run (v), "train");
    assert_string_equal (board_timeline_view_get_tag (v), "step20");
    BoardTimelineChart *c = board_timeline_view_get_chart (v);
    const BoardTimelineStep *s = board_timeline_chart_get_step (c);
    assert_non_null (s);
    assert_int_equal (s->step, 20);

    /* three lanes: CPU:0's two threads, then GPU:0; on screen, in order */
    assert_int_equal (s->lanes->len, 3);
    const char *labels[] = { "CPU:0 t0", "CPU:0 t1", "GPU:0" };
    double last_bottom = 0;
    for (int i = 0; i < 3; i++) {
        BoardTimelineLane *l = g_ptr_array_index (s->lanes, i);
        assert_string_equal (l->label, labels[i]);
        graphene_rect_t r;
        assert_true (board_timeline_chart_get_lane_rect (c, i, &r));
        assert_true (r.origin.y >= last_bottom - 0.5);
        assert_true (r.size.height >= 16);   /* not a hairline */
        last_bottom = r.origin.y + r.size.height;
    }
    assert_non_null (strstr (board_timeline_view_get_summary (v), "6 nodes on 2 devices"));

    /* hover: the middle of MatMul's bar is MatMul */
    int mm = node_named (s, "dense/MatMul");
    graphene_rect_t r;
    assert_true (board_timeline_chart_get_node_rect (c, mm, &r));
    assert_true (r.size.width > 20);
    double cx = r.origin.x + r.size.width / 2, cy = r.origin.y + r.size.height / 2;
    assert_int_equal (board_timeline_chart_node_at (c, cx, cy), mm);
    char *text = board_timeline_chart_describe_node (c, mm);
    assert_non_null (strstr (text, "dense/MatMul\n"));
    assert_non_null (strstr (text, "op: MatMul"));
    assert_non_null (strstr (text, "device: " GPU));
    assert_non_null (strstr (text, "thread: 4"));
    assert_non_null (strstr (text, "start: +60 \u00b5s"));
    assert_non_null (strstr (text, "duration: 50 \u00b5s"));
    g_free (text);
    /* the _Recv before it on the same lane, and the label column is no bar */
    int rv = node_named (s, "x/_recv_0_on_0");
    assert_true (board_timeline_chart_get_node_rect (c, rv, &r));
    assert_int_equal (board_timeline_chart_node_at (c, r.origin.x + r.size.width / 2,
                                                    r.origin.y + r.size.height / 2), rv);
    text = board_timeline_chart_describe_node (c, rv);
    assert_non_null (strstr (text, "op: _Recv (a copy between devices)"));
    g_free (text);
    assert_int_equal (board_timeline_chart_node_at (c, 5, cy), -1);

    /* zoom onto MatMul: its bar widens; reset shows the whole step */
    double t0, t1;
    board_timeline_chart_get_range (c, &t0, &t1);
    assert_true (t0 <= 0 && t1 >= s->span_us);
    board_timeline_chart_get_node_rect (c, mm, &r);
    double w_full = r.size.width;
    board_timeline_chart_set_range (c, 55, 115);
    board_timeline_chart_get_node_rect (c, mm, &r);
    assert_true (r.size.width > 2 * w_full);
    assert_int_equal (board_timeline_chart_node_at (c, r.origin.x + r.size.width / 2,
                                                    r.origin.y + r.size.height / 2), mm);
    board_timeline_chart_reset (c);
    board_timeline_chart_get_range (c, &t0, &t1);
    assert_true (t0 <= 0 && t1 >= s->span_us);

    /* the other step */
    assert_true (board_timeline_view_select (v, NULL, "step10"));
    wait_ready (v);
    assert_string_equal (board_timeline_view_get_tag (v), "step10");
    assert_int_equal (board_timeline_chart_get_step (c)->step, 10);

    /* damaged metadata: a message naming run and tag, a warning, no crash */
    g_string_truncate (warnings, 0);
    assert_true (board_timeline_view_select (v, "bad", NULL));
    wait_ready (v);
    assert_null (board_timeline_chart_get_step (c));
    const char *sum = board_timeline_view_get_summary (v);
    assert_non_null (strstr (sum, "bad"));
    assert_non_null (strstr (sum, "step5"));
    assert_non_null (strstr (warnings->str, "step5"));
    assert_int_equal (board_timeline_chart_node_at (c, cx, cy), -1);

    gtk_window_destroy (GTK_WINDOW (win));
    g_object_unref (ds);
}

static void
test_timeline_view_empty (void **state)
{
    BoardDataset *ds = board_dataset_new ();
    GtkWidget *win = gtk_window_new ();
    GtkWidget *view = board_timeline_view_new (ds);
    gtk_window_set_child (GTK_WINDOW (win), view);
    gtk_window_present (GTK_WINDOW (win));
    BoardUpdate *u = board_update_new ();
    board_update_add_run (u, "scalars-only", "/logs/s", 0);
    u->complete = TRUE;
    board_dataset_apply (ds, u);
    wait_ready (BOARD_TIMELINE_VIEW (view));
    assert_null (board_timeline_chart_get_step (
        board_timeline_view_get_chart (BOARD_TIMELINE_VIEW (view))));
    assert_null (board_timeline_view_get_tag (BOARD_TIMELINE_VIEW (view)));
    gtk_window_destroy (GTK_WINDOW (win));
    g_object_unref (ds);
}

int
main (int argc, char **argv)
{
    if (!g_getenv ("DISPLAY") && !g_getenv ("WAYLAND_DISPLAY"))
        return 77;
    gtk_init ();
    warnings = g_string_new (NULL);
    g_log_set_default_handler (log_handler, NULL);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_timeline_view_lanes_and_hover),
        cmocka_unit_test (test_timeline_view_empty),
    };
    return cmocka_run_group_tests_name ("board-timeline-widget", tests, NULL, NULL);
}
