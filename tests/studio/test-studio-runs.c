/* Runs launched from the studio, driven through its runs panel (the
 * controller the Runs tab's buttons call) with a real `sluice train`
 * child on synthetic MNIST-format data (needs a display for GTK: exit 77
 * without one; SLUICE and MAKE_TRAIN_DATA in the environment):
 *   - stop and resume: a stopped run checkpoints where it stopped and the
 *     resumed one restores that checkpoint and trains on from its step;
 *   - op times: the run records step statistics (trace_every_steps) and
 *     the canvas shows each op's time on its node;
 *   - a crash: the trainer killed with SIGKILL shows as "crashed" with
 *     its last log lines (one saying it was killed); a run whose trainer
 *     fails (no data) shows as "failed" with the trainer's message; the
 *     panel starts and finishes another run after both. */
#include "config.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <glib/gstdio.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "studio-graph-canvas.h"
#include "studio-run-stats.h"
#include "studio-runs-panel.h"
#include "studio-templates.h"

static char *tmp, *data_dir;

static void
spin (int ms)
{
    gint64 end = g_get_monotonic_time () + ms * 1000;
    while (g_get_monotonic_time () < end)
        if (!g_main_context_iteration (NULL, FALSE))
            g_usleep (2000);
}

typedef gboolean (*Cond) (StudioRunsPanel *p, gpointer data);

static gboolean
wait_for (StudioRunsPanel *p, Cond cond, gpointer data, int timeout_s)
{
    gint64 end = g_get_monotonic_time () + (gint64) timeout_s * G_USEC_PER_SEC;
    while (g_get_monotonic_time () < end) {
        if (cond (p, data))
            return TRUE;
        spin (50);
    }
    return cond (p, data);
}

static gboolean
status_is (StudioRunsPanel *p, gpointer want)
{
    return g_strcmp0 (studio_runs_panel_get_status (p), want) == 0;
}

static gboolean
not_running (StudioRunsPanel *p, gpointer data)
{
    return studio_runs_panel_get_status (p) && !status_is (p, (gpointer) "running");
}

static gboolean
step_at_least (StudioRunsPanel *p, gpointer data)
{
    gint64 step = 0;
    studio_runs_panel_get_progress (p, &step, NULL);
    return step >= GPOINTER_TO_INT (data) || !status_is (p, (gpointer) "running");
}

static gboolean
has_times (StudioRunsPanel *p, gpointer data)
{
    gint64 step;
    return studio_runs_panel_get_node_times (p, &step) != NULL;
}

static char *
read_log (StudioRunsPanel *p)
{
    char *path = g_build_filename (studio_runs_panel_get_dir (p), "train.log", NULL);
    char *text = NULL;
    g_file_get_contents (path, &text, NULL, NULL);
    g_free (path);
    return text ? text : g_strdup ("");
}

static StudioDocument *
mlp (void)
{
    StudioDocument *doc = studio_document_new ();
    assert_true (studio_template_apply (doc, "mnist-mlp", NULL, 0, 40, 40, NULL, NULL));
    return doc;
}

static StudioRunSetup *
setup_for (StudioDocument *doc, const char *data, gint64 steps)
{
    StudioRunSetup *s = studio_run_setup_guess (doc);
    g_free (s->data_path);
    s->data_path = g_strdup (data);
    s->steps = steps;
    s->summary_every = 10;
    s->checkpoint_every = 1000;
    s->trace_every = 5;
    return s;
}

/* The largest N of the "step N/M" lines after `from` in the log. */
static gint64
last_step_after (const char *log, const char *from)
{
    gint64 last = -1;
    for (const char *l = from; l && *l; l = strchr (l, '\n') ? strchr (l, '\n') + 1 : NULL) {
        long long a, b;
        if (sscanf (l, "step %lld/%lld", &a, &b) == 2)
            last = a;
    }
    return last;
}

static gint64
first_step_after (const char *log, const char *from)
{
    for (const char *l = from; l && *l; l = strchr (l, '\n') ? strchr (l, '\n') + 1 : NULL) {
        long long a, b;
        if (sscanf (l, "step %lld/%lld", &a, &b) == 2)
            return a;
    }
    return -1;
}

static void
test_stop_and_resume_continue_from_the_checkpoint (void **state)
{
    StudioRunsPanel *p = STUDIO_RUNS_PANEL (g_object_ref_sink (studio_runs_panel_new ()));
    StudioDocument *doc = mlp ();
    StudioRunSetup *setup = setup_for (doc, data_dir, 1000000);
    GError *e = NULL;
    assert_true (studio_runs_panel_start (p, doc, setup, &e));
    assert_string_equal (studio_runs_panel_get_status (p), "running");
    assert_true (studio_runs_panel_get_pid (p) > 0);
    assert_true (wait_for (p, step_at_least, GINT_TO_POINTER (40), 120));
    assert_string_equal (studio_runs_panel_get_status (p), "running");

    /* Stop: the trainer checkpoints where it is and exits */
    studio_runs_panel_stop (p);
    assert_true (wait_for (p, not_running, NULL, 60));
    assert_string_equal (studio_runs_panel_get_status (p), "stopped");
    char *log = read_log (p);
    const char *intr = strstr (log, "interrupted at step ");
    assert_non_null (intr);
    long long stopped_at = 0;
    assert_int_equal (sscanf (intr, "interrupted at step %lld", &stopped_at), 1);
    assert_true (stopped_at >= 40);
    print_message ("stopped at step %lld\n", stopped_at);
    char *ckpt = g_strdup_printf ("%s/checkpoint", studio_runs_panel_get_dir (p));
    assert_true (g_file_test (ckpt, G_FILE_TEST_EXISTS));
    g_free (ckpt);
    gsize before = strlen (log);
    g_free (log);

    /* op times on the canvas from the run's traced steps */
    assert_true (wait_for (p, has_times, NULL, 60));
    gint64 tstep;
    GHashTable *times = studio_runs_panel_get_node_times (p, &tstep);
    assert_true (tstep > 0 && tstep % 5 == 0);
    assert_non_null (g_hash_table_lookup (times, "dense/MatMul"));
    GtkWidget *canvas = g_object_ref_sink (studio_graph_canvas_new (doc));
    StudioGraphCanvas *c = STUDIO_GRAPH_CANVAS (canvas);
    studio_graph_canvas_set_node_times (c, times, tstep);
    assert_null (studio_graph_canvas_get_time_badge (c, "dense/MatMul"));   /* off until asked */
    studio_graph_canvas_set_show_times (c, TRUE);
    char *badge = studio_graph_canvas_get_time_badge (c, "dense/MatMul");
    assert_non_null (badge);
    char *want = studio_format_duration_us (*(double *) g_hash_table_lookup (times, "dense/MatMul"));
    assert_string_equal (badge, want);
    print_message ("op times of step %" G_GINT64_FORMAT ": dense/MatMul %s, %u ops timed\n", tstep, badge,
                   g_hash_table_size (times));
    g_free (badge);
    g_free (want);
    /* a collapsed scope shows its nodes' sum */
    studio_graph_canvas_set_collapsed (c, "dense", TRUE);
    assert_null (studio_graph_canvas_get_time_badge (c, "dense/MatMul"));
    badge = studio_graph_canvas_get_time_badge (c, "dense");
    assert_non_null (badge);
    g_free (badge);
    g_object_unref (canvas);

    /* Resume: restores the checkpoint and trains on from its step */
    assert_true (studio_runs_panel_resume (p, &e));
    assert_string_equal (studio_runs_panel_get_status (p), "running");
    assert_true (wait_for (p, step_at_least, GINT_TO_POINTER ((int) stopped_at + 30), 120));
    studio_runs_panel_stop (p);
    assert_true (wait_for (p, not_running, NULL, 60));
    assert_string_equal (studio_runs_panel_get_status (p), "stopped");
    log = read_log (p);
    const char *resumed = log + before;
    char *restored = g_strdup_printf ("(step %lld)", stopped_at);
    assert_non_null (strstr (resumed, "restored "));
    assert_non_null (strstr (resumed, restored));
    gint64 first = first_step_after (log, resumed), last = last_step_after (log, resumed);
    print_message ("resumed: restored at step %lld, first step line %" G_GINT64_FORMAT ", stopped again at %"
                   G_GINT64_FORMAT "\n", stopped_at, first, last);
    assert_true (first > stopped_at && first <= stopped_at + 10);
    assert_true (last >= stopped_at + 30);
    g_free (restored);
    g_free (log);
    studio_run_setup_free (setup);
    g_object_unref (doc);
    g_object_unref (p);
}

static void
test_crash_and_failure_shown_studio_works_on (void **state)
{
    StudioRunsPanel *p = STUDIO_RUNS_PANEL (g_object_ref_sink (studio_runs_panel_new ()));
    StudioDocument *doc = mlp ();
    GError *e = NULL;

    /* the trainer killed (SIGKILL): crashed, and the log says so */
    StudioRunSetup *setup = setup_for (doc, data_dir, 1000000);
    assert_true (studio_runs_panel_start (p, doc, setup, &e));
    assert_true (wait_for (p, step_at_least, GINT_TO_POINTER (20), 120));
    gint64 pid = studio_runs_panel_get_pid (p);
    assert_true (pid > 0);
    assert_int_equal (kill ((pid_t) pid, SIGKILL), 0);
    assert_true (wait_for (p, not_running, NULL, 90));
    assert_string_equal (studio_runs_panel_get_status (p), "crashed");
    const char *shown = studio_runs_panel_get_log (p);
    print_message ("crashed; the log shows:\n%s\n", shown);
    assert_non_null (strstr (shown, "killed by signal 9"));
    assert_non_null (strstr (shown, "step "));   /* its last progress lines too */
    char *st = g_build_filename (studio_runs_panel_get_dir (p), "status", NULL);
    char *text = NULL;
    assert_true (g_file_get_contents (st, &text, NULL, NULL));
    assert_true (g_str_has_prefix (text, "crashed -9"));
    g_free (text);
    g_free (st);
    studio_run_setup_free (setup);

    /* the trainer fails (its data is missing): failed, with its message */
    char *missing = g_build_filename (tmp, "no-such-data", NULL);
    setup = setup_for (doc, missing, 100);
    assert_true (studio_runs_panel_start (p, doc, setup, &e));
    assert_true (wait_for (p, not_running, NULL, 60));
    assert_string_equal (studio_runs_panel_get_status (p), "failed");
    shown = studio_runs_panel_get_log (p);
    print_message ("failed; the log shows:\n%s\n", shown);
    assert_non_null (strstr (shown, "sluice"));
    assert_non_null (strstr (shown, "no-such-data"));
    g_free (missing);
    studio_run_setup_free (setup);

    /* and the studio trains on */
    setup = setup_for (doc, data_dir, 30);
    assert_true (studio_runs_panel_start (p, doc, setup, &e));
    assert_true (wait_for (p, not_running, NULL, 120));
    assert_string_equal (studio_runs_panel_get_status (p), "finished");
    gint64 step, steps;
    studio_runs_panel_get_progress (p, &step, &steps);
    assert_int_equal (step, 30);
    studio_run_setup_free (setup);
    g_object_unref (doc);
    g_object_unref (p);
}

int
main (int argc, char **argv)
{
    if (!g_getenv ("DISPLAY") && !g_getenv ("WAYLAND_DISPLAY"))
        return 77;
    const char *make = g_getenv ("MAKE_TRAIN_DATA");
    if (!g_getenv ("SLUICE") || !make) {
        fprintf (stderr, "SLUICE and MAKE_TRAIN_DATA must be set\n");
        return 1;
    }
    tmp = g_dir_make_tmp ("studio-runs-XXXXXX", NULL);
    char *xdg = g_build_filename (tmp, "data", NULL);
    g_setenv ("XDG_DATA_HOME", xdg, TRUE);   /* run dirs and the history here */
    data_dir = g_build_filename (tmp, "mnist", NULL);
    char *argv_make[] = { (char *) "python3", (char *) make, data_dir, NULL };
    int status = 0;
    if (!g_spawn_sync (NULL, argv_make, NULL, G_SPAWN_SEARCH_PATH | G_SPAWN_STDOUT_TO_DEV_NULL, NULL, NULL, NULL,
                       NULL, &status, NULL) || status != 0) {
        fprintf (stderr, "could not make the training data\n");
        return 1;
    }
    gtk_init ();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_stop_and_resume_continue_from_the_checkpoint),
        cmocka_unit_test (test_crash_and_failure_shown_studio_works_on),
    };
    int rc = cmocka_run_group_tests_name ("studio-runs", tests, NULL, NULL);
    char *rm[] = { (char *) "rm", (char *) "-rf", tmp, NULL };
    if (rc == 0)
        g_spawn_sync (NULL, rm, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, NULL, NULL, NULL, NULL);
    g_free (xdg);
    return rc;
}
