/* The run launcher (see the header). */
#include "config.h"

#include "studio-run.h"

#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef enum { PHASE_NONE, PHASE_UP, PHASE_TRAIN, PHASE_DOWN } Phase;

struct _StudioRun {
    char *dir;
    GSubprocess *proc;      /* the child of the phase */
    GCancellable *cancel;
    StudioRunDone done;
    gpointer data;
    gboolean running;
    gboolean stopping;
    gint64 pid;
    char *sluice;
    /* a cluster target: up, train, down */
    StudioTarget *target;   /* NULL: this computer */
    char *spec, *cluster_dir;
    Phase phase;
    char *result;           /* the trainer's status while the cluster goes down */
    int result_code;
};

static char *
find_program (const char *env_name, const char *name, const char *tree_dir)
{
    const char *env = g_getenv (env_name);
    if (env && *env)
        return g_strdup (env);
    char *self = g_file_read_link ("/proc/self/exe", NULL);
    if (self) {
        char *dir = g_path_get_dirname (self);
        char *cand[] = { g_build_filename (dir, name, NULL),
                         g_build_filename (dir, "..", tree_dir, name, NULL),
                         g_build_filename (dir, "..", "..", tree_dir, name, NULL) };
        char *found = NULL;
        for (guint i = 0; i < G_N_ELEMENTS (cand); i++) {
            if (!found && g_file_test (cand[i], G_FILE_TEST_IS_EXECUTABLE))
                found = g_strdup (cand[i]);
            g_free (cand[i]);
        }
        g_free (dir);
        g_free (self);
        if (found)
            return found;
    }
    return g_find_program_in_path (name);
}

char *
studio_find_sluice (void)
{
    return find_program ("SLUICE", "sluice", "dist");
}

char *
studio_find_board (void)
{
    return find_program ("SLUICE_BOARD", "sluice-board", "board");
}

char *
studio_run_log_tail (const char *dir, int lines)
{
    char *path = g_build_filename (dir, "train.log", NULL);
    char *text = NULL;
    gboolean ok = g_file_get_contents (path, &text, NULL, NULL);
    g_free (path);
    if (!ok)
        return g_strdup ("");
    char **all = g_strsplit (g_strchomp (text), "\n", -1);
    guint n = g_strv_length (all);
    guint from = n > (guint) lines ? n - (guint) lines : 0;
    char *out = g_strjoinv ("\n", all + from);
    g_strfreev (all);
    g_free (text);
    return out;
}

gboolean
studio_run_read_progress (const char *dir, gint64 *step, gint64 *steps, char **metrics)
{
    char *tail = studio_run_log_tail (dir, 40);
    char **lines = g_strsplit (tail, "\n", -1);
    g_free (tail);
    gboolean found = FALSE;
    for (int i = (int) g_strv_length (lines) - 1; i >= 0 && !found; i--) {
        if (!g_str_has_prefix (lines[i], "step "))
            continue;
        char **t = g_strsplit (g_strstrip (lines[i]), " ", -1);
        guint n = g_strv_length (t);
        long long a = 0, b = 0;
        if (n >= 4 && sscanf (t[1], "%lld/%lld", &a, &b) == 2) {
            found = TRUE;
            if (step)
                *step = a;
            if (steps)
                *steps = b;
            if (metrics) {
                /* name value pairs, then "<examples/s> ex/s" */
                GString *m = g_string_new (NULL);
                guint end = n >= 2 && strcmp (t[n - 1], "ex/s") == 0 ? n - 2 : n;
                for (guint k = 2; k + 1 < end; k += 2)
                    g_string_append_printf (m, "%s%s %s", m->len ? " " : "", t[k], t[k + 1]);
                *metrics = g_string_free (m, FALSE);
            }
        }
        g_strfreev (t);
    }
    g_strfreev (lines);
    return found;
}

/* A child with its output appended to dir/train.log. */
static GSubprocess *
spawn_logged (const char *dir, char **argv, GError **error)
{
    char *log = g_build_filename (dir, "train.log", NULL);
    int fd = open (log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    GSubprocess *proc = NULL;
    if (fd < 0) {
        g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, "cannot write '%s'", log);
    } else {
        GSubprocessLauncher *l = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDERR_MERGE);
        g_subprocess_launcher_set_cwd (l, dir);
        g_subprocess_launcher_take_stdout_fd (l, fd);
        proc = g_subprocess_launcher_spawnv (l, (const char *const *) argv, error);
        g_object_unref (l);
    }
    g_free (log);
    return proc;
}

static void
log_line (const char *dir, const char *fmt, ...) G_GNUC_PRINTF (2, 3);

static void
log_line (const char *dir, const char *fmt, ...)
{
    char *log = g_build_filename (dir, "train.log", NULL);
    FILE *f = fopen (log, "a");
    if (f) {
        va_list ap;
        va_start (ap, fmt);
        fputs ("sluice-studio: ", f);
        vfprintf (f, fmt, ap);
        fputc ('\n', f);
        va_end (ap);
        fclose (f);
    }
    g_free (log);
}

static void phase_done (GObject *src, GAsyncResult *res, gpointer data);

static void
watch (StudioRun *run, GSubprocess *proc, Phase phase)
{
    g_clear_object (&run->proc);
    run->proc = proc;
    run->phase = phase;
    const char *id = g_subprocess_get_identifier (proc);
    run->pid = id ? g_ascii_strtoll (id, NULL, 10) : 0;
    g_subprocess_wait_async (proc, run->cancel, phase_done, run);
}

static void
finish (StudioRun *run, const char *status, int code)
{
    run->running = FALSE;
    run->phase = PHASE_NONE;
    char *tail = studio_run_log_tail (run->dir, 8);
    char *st = g_build_filename (run->dir, "status", NULL);
    char *line = g_strdup_printf ("%s %d\n", status, code);
    g_file_set_contents (st, line, -1, NULL);
    if (run->done)
        run->done (run, status, code, tail, run->data);
    g_free (line);
    g_free (st);
    g_free (tail);
}

/* `sluice cluster down` after the trainer (or a failed up); the run ends
 * with status once it has run. */
static void
cluster_down (StudioRun *run, const char *status, int code)
{
    g_free (run->result);
    run->result = g_strdup (status);
    run->result_code = code;
    char **argv = studio_cluster_down_argv (run->sluice, run->target, run->spec, run->cluster_dir);
    GError *e = NULL;
    GSubprocess *proc = spawn_logged (run->dir, argv, &e);
    g_strfreev (argv);
    if (!proc) {
        log_line (run->dir, "cannot stop the cluster: %s", e->message);
        g_error_free (e);
        finish (run, status, code);
        return;
    }
    watch (run, proc, PHASE_DOWN);
}

static gboolean
start_trainer (StudioRun *run, GError **error)
{
    char *spec = g_build_filename (run->dir, "run.spec", NULL);
    char **argv;
    if (run->target) {
        argv = studio_cluster_train_argv (run->sluice, run->target, spec, run->spec, run->cluster_dir);
    } else {
        const char *local[] = { run->sluice, "train", spec, NULL };
        argv = g_strdupv ((char **) local);
    }
    GSubprocess *proc = spawn_logged (run->dir, argv, error);
    g_strfreev (argv);
    g_free (spec);
    if (!proc)
        return FALSE;
    watch (run, proc, PHASE_TRAIN);
    return TRUE;
}

static void
phase_done (GObject *src, GAsyncResult *res, gpointer data)
{
    StudioRun *run = data;
    gboolean ok = g_subprocess_wait_finish (G_SUBPROCESS (src), res, NULL);
    if (!ok)
        return;   /* cancelled: the run was freed */
    int code = g_subprocess_get_if_exited (run->proc) ? g_subprocess_get_exit_status (run->proc)
             : g_subprocess_get_if_signaled (run->proc) ? -g_subprocess_get_term_sig (run->proc) : -1;
    gboolean signaled = g_subprocess_get_if_signaled (run->proc);
    if (run->phase == PHASE_DOWN) {
        if (code != 0)
            log_line (run->dir, "sluice cluster down exited %d", code);
        finish (run, run->result, run->result_code);
        return;
    }
    if (run->phase == PHASE_UP) {
        GError *e = NULL;
        if (run->stopping)
            cluster_down (run, "stopped", 0);
        else if (code != 0) {
            log_line (run->dir, "the cluster did not come up (sluice cluster up exited %d)", code);
            cluster_down (run, "failed", code);
        } else if (!start_trainer (run, &e)) {
            log_line (run->dir, "cannot start the trainer: %s", e->message);
            g_error_free (e);
            cluster_down (run, "failed", -1);
        }
        return;
    }
    const char *status = run->stopping ? "stopped" : code == 0 ? "finished" : signaled ? "crashed" : "failed";
    if (signaled && !run->stopping) {
        /* a killed process says nothing: the log says what happened */
        int sig = g_subprocess_get_term_sig (run->proc);
        log_line (run->dir, "the trainer (pid %" G_GINT64_FORMAT ") was killed by signal %d (%s)", run->pid, sig,
                  g_strsignal (sig));
    }
    if (run->target)
        cluster_down (run, status, code);
    else
        finish (run, status, code);
}

char *
studio_run_prepare (StudioDocument *doc, const StudioRunSetup *setup, char **spec_text, GError **error)
{
    char *spec = studio_run_setup_to_spec (setup, "graph.pb", error);
    if (!spec)
        return NULL;
    const char *path = studio_document_get_path (doc);
    char *base = path ? g_path_get_basename (path) : g_strdup ("untitled");
    char *dot = strchr (base, '.');
    if (dot)
        *dot = '\0';
    GDateTime *now = g_date_time_new_now_local ();
    char *stamp = g_date_time_format (now, "%Y%m%d-%H%M%S");
    g_date_time_unref (now);
    char *root = g_build_filename (g_get_user_data_dir (), "sluice", "runs", NULL);
    char *dir = NULL;
    for (int k = 0; !dir || g_file_test (dir, G_FILE_TEST_EXISTS); k++) {
        g_free (dir);
        char *name = k ? g_strdup_printf ("%s-%s-%d", base, stamp, k) : g_strdup_printf ("%s-%s", base, stamp);
        dir = g_build_filename (root, name, NULL);
        g_free (name);
    }
    g_free (root);
    g_free (stamp);
    g_free (base);
    char *graph = g_build_filename (dir, "graph.pb", NULL);
    char *spec_path = g_build_filename (dir, "run.spec", NULL);
    gboolean ok = FALSE;
    if (g_mkdir_with_parents (dir, 0755) != 0)
        g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, "cannot create '%s'", dir);
    else
        ok = studio_document_save_copy (doc, graph, error) && g_file_set_contents (spec_path, spec, -1, error);
    g_free (graph);
    g_free (spec_path);
    if (!ok) {
        g_free (dir);
        g_free (spec);
        return NULL;
    }
    if (spec_text)
        *spec_text = spec;
    else
        g_free (spec);
    return dir;
}

StudioRun *
studio_run_launch (const char *dir, StudioRunDone done, gpointer data, GError **error)
{
    return studio_run_launch_on (dir, NULL, done, data, error);
}

StudioRun *
studio_run_launch_on (const char *dir, const StudioTarget *target, StudioRunDone done, gpointer data,
                      GError **error)
{
    char *sluice = studio_find_sluice ();
    if (!sluice) {
        g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND,
                     "cannot run: the sluice command is not installed (set SLUICE to its path)");
        return NULL;
    }
    StudioRun *run = g_new0 (StudioRun, 1);
    run->dir = g_strdup (dir);
    run->sluice = sluice;
    run->cancel = g_cancellable_new ();
    run->done = done;
    run->data = data;
    gboolean ok;
    if (!studio_target_is_cluster (target)) {
        ok = start_trainer (run, error);
    } else {
        /* the spec (a local cluster: ports free now), kept in the run
         * directory with the target; then `sluice cluster up` */
        run->target = studio_target_copy (target);
        run->spec = studio_target_cluster_spec (target, error);
        run->cluster_dir = g_build_filename (dir, "cluster", NULL);
        char *text = studio_target_to_string (target);
        char *line = g_strdup_printf ("%s\n", text);
        char *tpath = g_build_filename (dir, "target", NULL);
        char *spath = g_build_filename (dir, "cluster.spec", NULL);
        char *sline = g_strdup_printf ("%s\n", run->spec ? run->spec : "");
        ok = run->spec && g_file_set_contents (tpath, line, -1, error)
             && g_file_set_contents (spath, sline, -1, error);
        g_free (sline);
        g_free (spath);
        g_free (tpath);
        g_free (line);
        g_free (text);
        if (ok) {
            char *what = studio_target_describe (target);
            log_line (dir, "starting the cluster (%s): %s", what, run->spec);
            g_free (what);
            char **argv = studio_cluster_up_argv (sluice, target, run->spec, run->cluster_dir);
            GSubprocess *proc = spawn_logged (dir, argv, error);
            g_strfreev (argv);
            ok = proc != NULL;
            if (ok)
                watch (run, proc, PHASE_UP);
        }
    }
    if (!ok) {
        studio_run_free (run);
        return NULL;
    }
    run->running = TRUE;
    return run;
}

const char *
studio_run_get_cluster_spec (StudioRun *run)
{
    return run->spec;
}

const char *
studio_run_get_phase (StudioRun *run)
{
    switch (run->phase) {
    case PHASE_UP:
        return "starting the cluster";
    case PHASE_TRAIN:
        return "training";
    case PHASE_DOWN:
        return "stopping the cluster";
    default:
        return NULL;
    }
}

gboolean
studio_run_cluster_down (const char *dir)
{
    char *tpath = g_build_filename (dir, "target", NULL);
    char *spath = g_build_filename (dir, "cluster.spec", NULL);
    char *ttext = NULL, *stext = NULL, *sluice = NULL;
    StudioTarget *t = NULL;
    gboolean ok = g_file_get_contents (tpath, &ttext, NULL, NULL) && g_file_get_contents (spath, &stext, NULL, NULL)
                  && (t = studio_target_parse (ttext, NULL)) && studio_target_is_cluster (t)
                  && (sluice = studio_find_sluice ());
    if (ok) {
        char *cdir = g_build_filename (dir, "cluster", NULL);
        char **argv = studio_cluster_down_argv (sluice, t, g_strstrip (stext), cdir);
        GSubprocess *p = spawn_logged (dir, argv, NULL);
        ok = p != NULL;
        if (p)
            g_object_unref (p);   /* it runs on by itself */
        g_strfreev (argv);
        g_free (cdir);
    }
    studio_target_free (t);
    g_free (sluice);
    g_free (ttext);
    g_free (stext);
    g_free (spath);
    g_free (tpath);
    return ok;
}

const char *
studio_run_get_dir (StudioRun *run)
{
    return run->dir;
}

gint64
studio_run_get_pid (StudioRun *run)
{
    const char *id = run->running && run->proc ? g_subprocess_get_identifier (run->proc) : NULL;
    return id ? g_ascii_strtoll (id, NULL, 10) : 0;
}

gboolean
studio_run_is_running (StudioRun *run)
{
    return run && run->running;
}

void
studio_run_stop (StudioRun *run)
{
    if (run && run->running && !run->stopping) {
        run->stopping = TRUE;
        /* starting the cluster: it goes down once up has answered */
        if (run->phase == PHASE_TRAIN)
            g_subprocess_send_signal (run->proc, SIGINT);
    }
}

void
studio_run_free (StudioRun *run)
{
    if (!run)
        return;
    g_cancellable_cancel (run->cancel);
    g_object_unref (run->cancel);
    g_clear_object (&run->proc);
    studio_target_free (run->target);
    g_free (run->spec);
    g_free (run->cluster_dir);
    g_free (run->result);
    g_free (run->sluice);
    g_free (run->dir);
    g_free (run);
}
