/* The run launcher (see the header). */
#include "config.h"

#include "studio-run.h"

#include <string.h>

struct _StudioRun {
    char *dir;
    GSubprocess *proc;
    GCancellable *cancel;
    StudioRunDone done;
    gpointer data;
    gboolean running;
};

/* The sluice command: $SLUICE, else `sluice` beside this program (the
 * build tree's dist/), else on PATH. */
static char *
find_sluice (void)
{
    const char *env = g_getenv ("SLUICE");
    if (env && *env)
        return g_strdup (env);
    char *self = g_file_read_link ("/proc/self/exe", NULL);
    if (self) {
        char *dir = g_path_get_dirname (self);
        char *cand[] = { g_build_filename (dir, "sluice", NULL),
                         g_build_filename (dir, "..", "dist", "sluice", NULL) };
        char *found = NULL;
        for (int i = 0; i < 2; i++) {
            if (!found && g_file_test (cand[i], G_FILE_TEST_IS_EXECUTABLE))
                found = g_strdup (cand[i]);
            g_free (cand[i]);
        }
        g_free (dir);
        g_free (self);
        if (found)
            return found;
    }
    return g_find_program_in_path ("sluice");
}

static char *
tail_of (const char *path, int lines)
{
    char *text = NULL;
    if (!g_file_get_contents (path, &text, NULL, NULL))
        return g_strdup ("");
    char **all = g_strsplit (g_strchomp (text), "\n", -1);
    guint n = g_strv_length (all);
    guint from = n > (guint) lines ? n - (guint) lines : 0;
    char *out = g_strjoinv ("\n", all + from);
    g_strfreev (all);
    g_free (text);
    return out;
}

static void
exited (GObject *src, GAsyncResult *res, gpointer data)
{
    StudioRun *run = data;
    gboolean ok = g_subprocess_wait_finish (G_SUBPROCESS (src), res, NULL);
    if (!ok)
        return;   /* cancelled: the run was freed */
    run->running = FALSE;
    int status = g_subprocess_get_if_exited (run->proc) ? g_subprocess_get_exit_status (run->proc) : -1;
    char *log = g_build_filename (run->dir, "train.log", NULL);
    char *tail = tail_of (log, 6);
    char *st = g_build_filename (run->dir, "status", NULL);
    char *line = g_strdup_printf ("%s %d\n", status == 0 ? "finished" : "failed", status);
    g_file_set_contents (st, line, -1, NULL);
    if (run->done)
        run->done (run, status, tail, run->data);
    g_free (line);
    g_free (st);
    g_free (tail);
    g_free (log);
}

static char *
loss_node (StudioDocument *doc)
{
    if (studio_document_find (doc, "loss/mean", NULL))
        return g_strdup ("loss/mean");
    char *best = NULL;
    for (int i = 0; i < studio_document_get_n_nodes (doc); i++) {
        const char *name = studio_document_get_node (doc, i)->def->name;
        if (g_str_has_prefix (name, "loss")) {
            g_free (best);
            best = g_strdup (name);
        }
    }
    return best;
}

StudioRun *
studio_run_start (StudioDocument *doc, StudioRunDone done, gpointer data, GError **error)
{
    char *sluice = find_sluice ();
    if (!sluice) {
        g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND,
                     "cannot run: the sluice command is not installed (set SLUICE to its path)");
        return NULL;
    }
    const char *path = studio_document_get_path (doc);
    char *base = path ? g_path_get_basename (path) : g_strdup ("untitled");
    char *dot = strchr (base, '.');
    if (dot)
        *dot = '\0';
    GDateTime *now = g_date_time_new_now_local ();
    char *stamp = g_date_time_format (now, "%Y%m%d-%H%M%S");
    g_date_time_unref (now);
    char *name = g_strdup_printf ("%s-%s", base, stamp);
    char *dir = g_build_filename (g_get_user_data_dir (), "sluice", "runs", name, NULL);
    g_free (name);
    g_free (stamp);
    g_free (base);
    StudioRun *run = NULL;
    char *graph = g_build_filename (dir, "graph.pb", NULL);
    char *spec = g_build_filename (dir, "run.pbtxt", NULL);
    char *log = g_build_filename (dir, "train.log", NULL);
    char *loss = loss_node (doc);
    if (g_mkdir_with_parents (dir, 0755) != 0) {
        g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, "cannot create '%s'", dir);
        goto out;
    }
    if (!studio_document_save_copy (doc, graph, error))
        goto out;
    char *spec_text = g_strdup_printf ("# run spec written by sluice-studio\n"
                                       "graph: \"graph.pb\"\nloss: \"%s\"\nlogdir: \"logs\"\n",
                                       loss ? loss : "");
    gboolean ok = g_file_set_contents (spec, spec_text, -1, error);
    g_free (spec_text);
    if (!ok)
        goto out;
    GSubprocessLauncher *l = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDIN_INHERIT);
    g_subprocess_launcher_set_cwd (l, dir);
    g_subprocess_launcher_set_stdout_file_path (l, log);
    g_subprocess_launcher_set_flags (l, G_SUBPROCESS_FLAGS_STDERR_MERGE);
    GSubprocess *proc = g_subprocess_launcher_spawn (l, error, sluice, "train", spec, NULL);
    g_object_unref (l);
    if (!proc)
        goto out;
    run = g_new0 (StudioRun, 1);
    run->dir = g_strdup (dir);
    run->proc = proc;
    run->cancel = g_cancellable_new ();
    run->done = done;
    run->data = data;
    run->running = TRUE;
    g_subprocess_wait_async (proc, run->cancel, exited, run);
out:
    g_free (loss);
    g_free (log);
    g_free (spec);
    g_free (graph);
    g_free (dir);
    g_free (sluice);
    return run;
}

const char *
studio_run_get_dir (StudioRun *run)
{
    return run->dir;
}

gboolean
studio_run_is_running (StudioRun *run)
{
    return run && run->running;
}

void
studio_run_stop (StudioRun *run)
{
    if (run && run->running)
        g_subprocess_send_signal (run->proc, 15);
}

void
studio_run_free (StudioRun *run)
{
    if (!run)
        return;
    g_cancellable_cancel (run->cancel);
    g_object_unref (run->cancel);
    g_object_unref (run->proc);
    g_free (run->dir);
    g_free (run);
}
