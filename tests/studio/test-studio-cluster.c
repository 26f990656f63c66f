/* A local-cluster run started from the studio (Xvfb; a real `sluice
 * cluster up`, `sluice train --cluster` and `sluice cluster down` on
 * synthetic MNIST-format data; SLUICE and MAKE_TRAIN_DATA in the
 * environment; exit 77 without a display or without gRPC):
 *   - the training setup dialog's "Train on" set to Local cluster, 2
 *     workers + 1 parameter server, Start: the run trains on the cluster
 *     and finishes, its target kept in the run history;
 *   - the runs panel lists the tasks with their states (up while it
 *     trains, from `sluice cluster status`; stopped after), and shows a
 *     task's log;
 *   - `sluice cluster down` ran: no task process is left;
 *   - stopped and resumed, the run starts a cluster of the same shape
 *     again (on new free ports) and trains on from its checkpoint;
 *   - a cluster that does not come up (SSH to a host with no ssh server)
 *     fails the run with why, and `cluster down` still runs.
 * STUDIO_CLUSTER_SCREENSHOT=FILE.png writes the dialog, and
 * STUDIO_CLUSTER_RUN_SCREENSHOT=FILE.png the runs panel while the tasks
 * are up. */
#include "config.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "board-screenshot.h"
#include "studio-runs-panel.h"
#include "studio-setup-dialog.h"
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
not_running (StudioRunsPanel *p, gpointer data)
{
    return studio_runs_panel_get_status (p) && g_strcmp0 (studio_runs_panel_get_status (p), "running") != 0;
}

/* Every task up (as `sluice cluster up` and then `status` said) and the
 * trainer past step N, or the run over. */
static gboolean
all_up (StudioRunsPanel *p, gpointer data)
{
    if (not_running (p, NULL))
        return TRUE;
    GPtrArray *tasks = studio_runs_panel_get_tasks (p);
    gint64 step = 0;
    studio_runs_panel_get_progress (p, &step, NULL);
    if (!tasks || step < GPOINTER_TO_INT (data))
        return FALSE;
    for (guint i = 0; i < tasks->len; i++)
        if (g_strcmp0 (((StudioClusterTask *) tasks->pdata[i])->state, "up") != 0)
            return FALSE;
    return TRUE;
}

static GtkWidget *
find_named (GtkWidget *w, const char *name)
{
    if (g_strcmp0 (gtk_widget_get_name (w), name) == 0)
        return w;
    for (GtkWidget *c = gtk_widget_get_first_child (w); c; c = gtk_widget_get_next_sibling (c)) {
        GtkWidget *f = find_named (c, name);
        if (f)
            return f;
    }
    return NULL;
}

static char *
read_file (const char *dir, const char *name)
{
    char *path = g_build_filename (dir, name, NULL);
    char *text = NULL;
    g_file_get_contents (path, &text, NULL, NULL);
    g_free (path);
    return text ? text : g_strdup ("");
}

static gboolean
alive (gint64 pid)
{
    if (pid <= 0 || kill ((pid_t) pid, 0) != 0)
        return FALSE;
    char *stat = g_strdup_printf ("/proc/%" G_GINT64_FORMAT "/stat", pid);
    char *text = NULL;
    gboolean zombie = g_file_get_contents (stat, &text, NULL, NULL) && strstr (text, ") Z ");
    g_free (text);
    g_free (stat);
    return !zombie;
}

/* Processes whose command line names `needle` (the cluster's run directory). */
static int
processes_naming (const char *needle)
{
    int n = 0;
    GDir *d = g_dir_open ("/proc", 0, NULL);
    const char *e;
    while (d && (e = g_dir_read_name (d))) {
        if (!g_ascii_isdigit (e[0]))
            continue;
        char *path = g_strdup_printf ("/proc/%s/cmdline", e);
        char *text = NULL;
        gsize len = 0;
        if (g_file_get_contents (path, &text, &len, NULL)) {
            for (gsize i = 0; i + 1 < len; i++)
                if (!text[i])
                    text[i] = ' ';
            if (strstr (text, needle) && alive (g_ascii_strtoll (e, NULL, 10))) {
                print_message ("left running: %s %s\n", e, text);
                n++;
            }
        }
        g_free (text);
        g_free (path);
    }
    if (d)
        g_dir_close (d);
    return n;
}

typedef struct {
    StudioRunsPanel *p;
    StudioDocument *doc;
    gboolean started;
} Ctx;

static gboolean
setup_done (StudioRunSetup *setup, char **message, gpointer data)
{
    Ctx *c = data;
    GError *e = NULL;
    c->started = studio_runs_panel_start (c->p, c->doc, setup, &e);
    if (!c->started) {
        *message = g_strdup (e->message);
        print_message ("start failed: %s\n", e->message);
        g_error_free (e);
    }
    return c->started;
}

static void
test_local_cluster_run_from_the_setup_dialog (void **state)
{
    int steps = g_getenv ("STUDIO_CLUSTER_STEPS") ? atoi (g_getenv ("STUDIO_CLUSTER_STEPS")) : 50;
    GtkWidget *win = gtk_window_new ();
    gtk_window_set_default_size (GTK_WINDOW (win), 1400, 470);
    StudioRunsPanel *p = STUDIO_RUNS_PANEL (studio_runs_panel_new ());
    gtk_window_set_child (GTK_WINDOW (win), GTK_WIDGET (p));
    gtk_window_present (GTK_WINDOW (win));
    Ctx c = { p, studio_document_new (), FALSE };
    assert_true (studio_template_apply (c.doc, "mnist-mlp", NULL, 0, 40, 40, NULL, NULL));
    StudioRunSetup *setup = studio_run_setup_guess (c.doc);
    g_free (setup->data_path);
    setup->data_path = g_strdup (data_dir);
    setup->steps = steps;
    setup->summary_every = 10;
    setup->checkpoint_every = 1000;
    setup->trace_every = 0;

    /* the dialog: Train on Local cluster, 2 workers + 1 ps, synchronous */
    GtkWidget *dialog = studio_setup_dialog_show (GTK_WINDOW (win), setup, setup_done, &c);
    g_object_add_weak_pointer (G_OBJECT (dialog), (gpointer *) &dialog);
    GtkWidget *target = find_named (dialog, "train-on"), *workers = find_named (dialog, "workers");
    GtkWidget *ps = find_named (dialog, "parameter-servers"), *hosts = find_named (dialog, "hosts");
    assert_non_null (target);
    assert_non_null (workers);
    assert_non_null (ps);
    assert_false (gtk_widget_get_visible (workers));   /* this computer: no cluster rows */
    gtk_drop_down_set_selected (GTK_DROP_DOWN (target), STUDIO_TARGET_LOCAL_CLUSTER);
    assert_true (gtk_widget_get_visible (workers));
    assert_true (gtk_widget_get_visible (ps));
    assert_false (gtk_widget_get_visible (hosts));   /* the hosts are SSH's and Slurm's */
    gtk_spin_button_set_value (GTK_SPIN_BUTTON (workers), 2);
    gtk_spin_button_set_value (GTK_SPIN_BUTTON (ps), 1);
    spin (400);
    const char *shot = g_getenv ("STUDIO_CLUSTER_SCREENSHOT");
    if (shot) {
        GError *e = NULL;
        assert_true (board_screenshot_widget (dialog, shot, &e));
        print_message ("wrote %s\n", shot);
    }
    g_signal_emit_by_name (gtk_window_get_default_widget (GTK_WINDOW (dialog)), "clicked");
    spin (100);
    assert_true (c.started);
    assert_null (dialog);   /* closed on start */
    assert_string_equal (studio_runs_panel_get_status (p), "running");
    assert_string_equal (studio_runs_panel_get_target (p), "local-cluster workers=2 ps=1 mode=sync");
    char *dir = g_strdup (studio_runs_panel_get_dir (p));
    char *cluster_dir = g_build_filename (dir, "cluster", NULL);
    char *spec = read_file (dir, "cluster.spec");
    print_message ("run %s on %s", dir, spec);
    assert_true (g_str_has_prefix (spec, "ps=127.0.0.1:"));

    /* the tasks listed, each up while it trains */
    const char *run_shot = g_getenv ("STUDIO_CLUSTER_RUN_SCREENSHOT");
    assert_true (wait_for (p, all_up, GINT_TO_POINTER (run_shot ? steps / 3 : 0), 180));
    assert_string_equal (studio_runs_panel_get_status (p), "running");
    GPtrArray *tasks = studio_runs_panel_get_tasks (p);
    assert_non_null (tasks);
    assert_int_equal (tasks->len, 3);
    gint64 pids[3];
    for (guint i = 0; i < 3; i++) {
        StudioClusterTask *k = tasks->pdata[i];
        assert_string_equal (k->state, "up");
        assert_true (alive (k->pid));
        pids[i] = k->pid;
        print_message ("%s %d %s %s pid %" G_GINT64_FORMAT " %s\n", k->job, k->task, k->address, k->state, k->pid,
                       k->detail);
    }
    assert_string_equal (((StudioClusterTask *) tasks->pdata[0])->job, "ps");
    assert_string_equal (((StudioClusterTask *) tasks->pdata[2])->job, "worker");
    if (run_shot) {
        studio_runs_panel_show_log (p, 1);
        spin (300);
        GError *e = NULL;
        assert_true (board_screenshot_widget (win, run_shot, &e));
        print_message ("wrote %s\n", run_shot);
        studio_runs_panel_show_log (p, -1);
    }

    /* it finishes; the cluster goes down */
    assert_true (wait_for (p, not_running, NULL, 300));
    assert_string_equal (studio_runs_panel_get_status (p), "finished");
    gint64 step = 0, total = 0;
    studio_runs_panel_get_progress (p, &step, &total);
    assert_int_equal (step, steps);
    assert_int_equal (total, steps);
    tasks = studio_runs_panel_get_tasks (p);
    assert_non_null (tasks);
    for (guint i = 0; i < 3; i++)
        assert_string_equal (((StudioClusterTask *) tasks->pdata[i])->state, "stopped");
    char *log = read_file (dir, "train.log");
    assert_non_null (strstr (log, "cluster up: 3 tasks (local launcher)"));
    assert_non_null (strstr (log, "cluster down (local launcher)"));
    char *last = g_strdup_printf ("step %d/%d", steps, steps);
    assert_true (strstr (log, "cluster down") > strstr (log, last));
    g_free (last);
    g_free (log);

    /* a task's log in the panel */
    assert_true (studio_runs_panel_show_log (p, 1));
    assert_string_equal (studio_runs_panel_get_log_title (p), "worker-0.log");
    print_message ("worker 0's log as shown:\n%s\n", studio_runs_panel_get_log (p));
    assert_non_null (strstr (studio_runs_panel_get_log (p), "/job:worker/replica:0/task:0 listening on"));
    assert_true (studio_runs_panel_show_log (p, -1));
    assert_string_equal (studio_runs_panel_get_log_title (p), "train.log");
    assert_false (studio_runs_panel_show_log (p, 3));

    /* no task left */
    for (int i = 0; i < 3; i++)
        assert_false (alive (pids[i]));
    assert_int_equal (processes_naming (cluster_dir), 0);
    char *pidf = g_build_filename (cluster_dir, "pids", "worker-0.pid", NULL);
    assert_false (g_file_test (pidf, G_FILE_TEST_EXISTS));
    g_free (pidf);

    g_free (spec);
    g_free (cluster_dir);
    g_free (dir);
    gtk_window_destroy (GTK_WINDOW (win));
    g_object_unref (c.doc);
}

static gboolean
step_at_least (StudioRunsPanel *p, gpointer data)
{
    gint64 step = 0;
    studio_runs_panel_get_progress (p, &step, NULL);
    return step >= GPOINTER_TO_INT (data) || not_running (p, NULL);
}

static void
test_resume_uses_the_same_target (void **state)
{
    StudioRunsPanel *p = STUDIO_RUNS_PANEL (g_object_ref_sink (studio_runs_panel_new ()));
    StudioDocument *doc = studio_document_new ();
    assert_true (studio_template_apply (doc, "mnist-mlp", NULL, 0, 40, 40, NULL, NULL));
    StudioRunSetup *setup = studio_run_setup_guess (doc);
    g_free (setup->data_path);
    setup->data_path = g_strdup (data_dir);
    setup->steps = 1000000;
    setup->summary_every = 10;
    setup->checkpoint_every = 100000;
    setup->trace_every = 0;
    setup->target = studio_target_new (STUDIO_TARGET_LOCAL_CLUSTER);
    setup->target->workers = 1;
    setup->target->ps = 1;
    setup->target->async = TRUE;
    GError *e = NULL;
    assert_true (studio_runs_panel_start (p, doc, setup, &e));
    char *dir = g_strdup (studio_runs_panel_get_dir (p));
    char *spec1 = read_file (dir, "cluster.spec");
    assert_true (wait_for (p, step_at_least, GINT_TO_POINTER (20), 180));
    assert_string_equal (studio_runs_panel_get_status (p), "running");
    studio_runs_panel_stop (p);
    assert_true (wait_for (p, not_running, NULL, 120));
    assert_string_equal (studio_runs_panel_get_status (p), "stopped");
    gint64 stopped_at = 0;
    studio_runs_panel_get_progress (p, &stopped_at, NULL);

    /* resumed: the same target from the history, a new cluster */
    assert_true (studio_runs_panel_resume (p, &e));
    assert_string_equal (studio_runs_panel_get_target (p), "local-cluster workers=1 ps=1 mode=async");
    char *spec2 = read_file (dir, "cluster.spec");
    print_message ("first cluster %sresumed on %s", spec1, spec2);
    assert_true (g_str_has_prefix (spec2, "ps=127.0.0.1:"));
    assert_non_null (strstr (spec2, ";worker=127.0.0.1:"));
    assert_null (strchr (strstr (spec2, "worker="), ','));   /* one worker */
    assert_true (wait_for (p, step_at_least, GINT_TO_POINTER ((int) stopped_at + 20), 180));
    studio_runs_panel_stop (p);
    assert_true (wait_for (p, not_running, NULL, 120));
    assert_string_equal (studio_runs_panel_get_status (p), "stopped");
    char *log = read_file (dir, "train.log");
    const char *second = strstr (strstr (log, "starting the cluster") + 1, "starting the cluster");
    assert_non_null (second);
    assert_non_null (strstr (second, "local cluster: 1 worker + 1 ps, asynchronous"));
    assert_non_null (strstr (second, "restored "));
    char *cluster_dir = g_build_filename (dir, "cluster", NULL);
    assert_int_equal (processes_naming (cluster_dir), 0);
    g_free (cluster_dir);
    g_free (log);
    g_free (spec1);
    g_free (spec2);
    g_free (dir);
    studio_run_setup_free (setup);
    g_object_unref (doc);
    g_object_unref (p);
}

/* SSH to a host with no ssh server (127.0.0.1 here: refused at once, or
 * refused a key in BatchMode): `cluster up` fails, the run shows
 * "failed" with why, and `cluster down` still ran. */
static void
test_a_cluster_that_does_not_come_up_fails (void **state)
{
    StudioRunsPanel *p = STUDIO_RUNS_PANEL (g_object_ref_sink (studio_runs_panel_new ()));
    StudioDocument *doc = studio_document_new ();
    assert_true (studio_template_apply (doc, "mnist-mlp", NULL, 0, 40, 40, NULL, NULL));
    StudioRunSetup *setup = studio_run_setup_guess (doc);
    g_free (setup->data_path);
    setup->data_path = g_strdup (data_dir);
    setup->steps = 20;
    setup->target = studio_target_new (STUDIO_TARGET_SSH);
    g_free (setup->target->hosts);
    setup->target->hosts = g_strdup ("127.0.0.1");
    int port;
    assert_true (studio_free_ports (1, &port, NULL));
    setup->target->port = MAX (port, 1024);
    GError *e = NULL;
    assert_true (studio_runs_panel_start (p, doc, setup, &e));
    assert_true (wait_for (p, not_running, NULL, 120));
    assert_string_equal (studio_runs_panel_get_status (p), "failed");
    const char *shown = studio_runs_panel_get_log (p);
    print_message ("failed; the log shows:\n%s\n", shown);
    assert_non_null (strstr (shown, "the cluster did not come up"));
    assert_non_null (strstr (shown, "cluster down (ssh launcher)"));
    GPtrArray *tasks = studio_runs_panel_get_tasks (p);
    assert_non_null (tasks);
    assert_int_equal (tasks->len, 3);
    assert_string_equal (((StudioClusterTask *) tasks->pdata[0])->state, "stopped");
    studio_run_setup_free (setup);
    g_object_unref (doc);
    g_object_unref (p);
}

int
main (int argc, char **argv)
{
#if !HAVE_GRPC
    fprintf (stderr, "built without gRPC: no sluice cluster; skipped\n");
    return 77;
#endif
    if (!g_getenv ("DISPLAY") && !g_getenv ("WAYLAND_DISPLAY"))
        return 77;
    const char *make = g_getenv ("MAKE_TRAIN_DATA");
    if (!g_getenv ("SLUICE") || !make) {
        fprintf (stderr, "SLUICE and MAKE_TRAIN_DATA must be set\n");
        return 1;
    }
    tmp = g_dir_make_tmp ("studio-cluster-XXXXXX", NULL);
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
        cmocka_unit_test (test_local_cluster_run_from_the_setup_dialog),
        cmocka_unit_test (test_resume_uses_the_same_target),
        cmocka_unit_test (test_a_cluster_that_does_not_come_up_fails),
    };
    int rc = cmocka_run_group_tests_name ("studio-cluster", tests, NULL, NULL);
    char *rm[] = { (char *) "rm", (char *) "-rf", tmp, NULL };
    if (rc == 0)
        g_spawn_sync (NULL, rm, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, NULL, NULL, NULL, NULL);
    g_free (xdg);
    return rc;
}
