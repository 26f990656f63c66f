/* The runs list and the current run (see the header). */
#include "config.h"

#include "studio-runs-panel.h"

#include <signal.h>
#include <sys/types.h>

#include "board-chart-settings.h"
#include "board-dataset.h"
#include "board-loader.h"
#include "board-scalar-chart.h"
#include "studio-cluster.h"
#include "studio-run-stats.h"
#include "studio-run.h"
#include "studio-runs-db.h"

typedef struct {
    gint64 id;
    GtkWidget *row;
    GtkLabel *title, *sub, *metrics, *tasks;
} Row;

/* A cluster run's tasks as last read (studio-cluster.h). */
typedef struct {
    char *spec;
    char *cluster_dir;
    gboolean local;         /* local launcher: its pids are this machine's */
    GPtrArray *tasks;       /* StudioClusterTask */
    gboolean polling;       /* a `sluice cluster status` in flight */
    gint64 polled;          /* monotonic time of the last answer */
} Tasks;

static void
tasks_free (gpointer p)
{
    Tasks *t = p;
    g_free (t->spec);
    g_free (t->cluster_dir);
    g_ptr_array_unref (t->tasks);
    g_free (t);
}

struct _StudioRunsPanel {
    GtkWidget parent;
    GtkWidget *box;
    StudioRunsDb *db;
    GtkListBox *list;
    GHashTable *rows;       /* id -> Row */
    GHashTable *runs;       /* id -> StudioRun started here */
    gint64 selected;
    StudioRunRecord *rec;   /* the selected run as last read */
    GtkLabel *head, *status, *log;
    GtkProgressBar *progress;
    GtkWidget *stop, *resume, *board;
    GtkWidget *chart_box, *chart;
    BoardDataset *ds;
    BoardChartSettings *settings;
    BoardLoader *loader;
    guint tick;
    gint64 step, steps;
    StudioRunStats *stats;  /* the selected run's op times */
    /* cluster runs */
    GHashTable *cluster;    /* id -> Tasks */
    GCancellable *cancel;   /* the status polls */
    guint poll;
    GtkWidget *tasks_box;   /* the selected run's tasks (hidden for a local run) */
    GtkGrid *tasks_grid;
    GPtrArray *task_widgets;/* per grid row: GtkLabel *state, *detail; GtkToggleButton *log */
    gint64 tasks_for;       /* the run the grid is of */
    guint tasks_rows;
    int log_task;           /* -1: train.log, else the task whose log shows */
    GtkLabel *log_title;
    GtkWidget *log_scroll;
    gboolean syncing;       /* setting the log toggles */
};

enum { SIG_NODE_TIMES_CHANGED, SIG_RUN_ENDED, N_SIGNALS };
static guint signals[N_SIGNALS];

G_DEFINE_FINAL_TYPE (StudioRunsPanel, studio_runs_panel, GTK_TYPE_WIDGET)

static void refresh (StudioRunsPanel *p);
static void show_selected (StudioRunsPanel *p);

static char *
run_name (const char *dir)
{
    return g_path_get_basename (dir);
}

static gboolean
pid_alive (gint64 pid)
{
    return pid > 0 && kill ((pid_t) pid, 0) == 0;
}

/* ---- rows --------------------------------------------------------------- */

static void
row_update (Row *r, const StudioRunRecord *rec)
{
    char *name = run_name (rec->dir);
    gtk_label_set_text (r->title, name);
    /* status and step on one line, the metrics on the next: together they
     * would not fit the list's width */
    char *sub = g_strdup_printf ("%s \u00b7 step %" G_GINT64_FORMAT "/%" G_GINT64_FORMAT, rec->status, rec->step,
                                 rec->steps);
    gtk_label_set_text (r->sub, sub);
    gtk_label_set_text (r->metrics, rec->metrics ? rec->metrics : "");
    gtk_widget_set_visible (GTK_WIDGET (r->metrics), rec->metrics && *rec->metrics);
    g_free (sub);
    g_free (name);
}

static Row *
row_new (StudioRunsPanel *p, const StudioRunRecord *rec)
{
    Row *r = g_new0 (Row, 1);
    r->id = rec->id;
    GtkWidget *box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 1);
    gtk_widget_set_margin_start (box, 6);
    gtk_widget_set_margin_end (box, 6);
    gtk_widget_set_margin_top (box, 3);
    gtk_widget_set_margin_bottom (box, 3);
    r->title = GTK_LABEL (gtk_label_new (""));
    r->sub = GTK_LABEL (gtk_label_new (""));
    r->metrics = GTK_LABEL (gtk_label_new (""));
    gtk_label_set_xalign (r->title, 0);
    gtk_label_set_xalign (r->sub, 0);
    gtk_label_set_xalign (r->metrics, 0);
    gtk_label_set_ellipsize (r->title, PANGO_ELLIPSIZE_MIDDLE);
    gtk_label_set_ellipsize (r->sub, PANGO_ELLIPSIZE_END);
    gtk_label_set_ellipsize (r->metrics, PANGO_ELLIPSIZE_END);
    gtk_widget_add_css_class (GTK_WIDGET (r->sub), "dim-label");
    gtk_widget_add_css_class (GTK_WIDGET (r->metrics), "dim-label");
    r->tasks = GTK_LABEL (gtk_label_new (""));
    gtk_label_set_xalign (r->tasks, 0);
    gtk_label_set_ellipsize (r->tasks, PANGO_ELLIPSIZE_END);
    gtk_widget_add_css_class (GTK_WIDGET (r->tasks), "dim-label");
    gtk_widget_add_css_class (GTK_WIDGET (r->tasks), "caption");
    gtk_widget_set_visible (GTK_WIDGET (r->tasks), FALSE);
    gtk_box_append (GTK_BOX (box), GTK_WIDGET (r->title));
    gtk_box_append (GTK_BOX (box), GTK_WIDGET (r->sub));
    gtk_box_append (GTK_BOX (box), GTK_WIDGET (r->metrics));
    gtk_box_append (GTK_BOX (box), GTK_WIDGET (r->tasks));
    r->row = gtk_list_box_row_new ();
    gtk_list_box_row_set_child (GTK_LIST_BOX_ROW (r->row), box);
    g_object_set_data (G_OBJECT (r->row), "run-id", GINT_TO_POINTER ((int) rec->id));
    row_update (r, rec);
    return r;
}

/* ---- cluster tasks ------------------------------------------------------ */

/* The tasks of a cluster run (NULL for a run on this computer, or before
 * its cluster spec is written). */
static Tasks *
tasks_of (StudioRunsPanel *p, const StudioRunRecord *rec)
{
    Tasks *t = g_hash_table_lookup (p->cluster, &rec->id);
    if (t || !rec->target || !*rec->target || g_str_equal (rec->target, "this-computer"))
        return t;
    char *path = g_build_filename (rec->dir, "cluster.spec", NULL);
    char *text = NULL;
    gboolean ok = g_file_get_contents (path, &text, NULL, NULL);
    g_free (path);
    GPtrArray *tasks = ok ? studio_cluster_tasks (g_strstrip (text), NULL) : NULL;
    if (!tasks) {
        g_free (text);
        return NULL;
    }
    StudioTarget *target = studio_target_parse (rec->target, NULL);
    t = g_new0 (Tasks, 1);
    t->spec = text;
    t->cluster_dir = g_build_filename (rec->dir, "cluster", NULL);
    t->local = target && target->kind == STUDIO_TARGET_LOCAL_CLUSTER;
    t->tasks = tasks;
    studio_target_free (target);
    g_hash_table_insert (p->cluster, g_memdup2 (&rec->id, sizeof rec->id), t);
    return t;
}

/* Whether `sluice cluster status` is to be asked for this run now: it
 * trains (its cluster is up), whether started here or by an earlier studio. */
static gboolean
wants_poll (StudioRunsPanel *p, const StudioRunRecord *rec)
{
    if (!g_str_equal (rec->status, "running"))
        return FALSE;
    StudioRun *run = g_hash_table_lookup (p->runs, &rec->id);
    return !run || g_strcmp0 (studio_run_get_phase (run), "training") == 0;
}

/* The states of a run's tasks without asking them: from the pid files
 * when it is not training. */
static gboolean poll_tick (gpointer data);

static void
tasks_update (StudioRunsPanel *p, const StudioRunRecord *rec, Tasks *t)
{
    if (!g_str_equal (rec->status, "running")) {
        studio_cluster_read_pids (t->tasks, t->cluster_dir, t->local);
        return;
    }
    StudioRun *run = g_hash_table_lookup (p->runs, &rec->id);
    if (!run || g_strcmp0 (studio_run_get_phase (run), "training") != 0)
        return;
    /* the trainer started: `sluice cluster up` saw every task answer */
    gboolean fresh = FALSE;
    for (guint i = 0; i < t->tasks->len; i++)
        fresh |= g_str_equal (((StudioClusterTask *) t->tasks->pdata[i])->state, "starting");
    if (!fresh)
        return;
    studio_cluster_read_pids (t->tasks, t->cluster_dir, t->local);
    for (guint i = 0; i < t->tasks->len; i++) {
        StudioClusterTask *k = t->tasks->pdata[i];
        if (g_str_equal (k->state, "running")) {
            g_free (k->state);
            k->state = g_strdup ("up");
        }
    }
    if (!t->polling && !t->polled)
        poll_tick (p);   /* and asked at once */
}

static char *
tasks_summary (Tasks *t)
{
    GString *s = g_string_new (NULL);
    for (guint i = 0; i < t->tasks->len; i++) {
        StudioClusterTask *k = t->tasks->pdata[i];
        g_string_append_printf (s, "%s%s %d %s", i ? " \u00b7 " : "", k->job, k->task, k->state);
    }
    return g_string_free (s, FALSE);
}

typedef struct {
    StudioRunsPanel *p;
    gint64 id;
} Poll;

static void
status_answered (GObject *src, GAsyncResult *res, gpointer data)
{
    Poll *c = data;
    char *out = NULL;
    GError *e = NULL;
    gboolean ok = g_subprocess_communicate_utf8_finish (G_SUBPROCESS (src), res, &out, NULL, &e);
    if (!g_error_matches (e, G_IO_ERROR, G_IO_ERROR_CANCELLED) && c->p->cluster) {
        Tasks *t = g_hash_table_lookup (c->p->cluster, &c->id);
        if (t) {
            t->polling = FALSE;
            if (ok && studio_cluster_parse_status (t->tasks, out) > 0)
                t->polled = g_get_monotonic_time ();
        }
        refresh (c->p);
    }
    g_clear_error (&e);
    g_free (out);
    g_object_unref (src);
    g_object_unref (c->p);
    g_free (c);
}

/* Every 2 s: `sluice cluster status` for each cluster run that trains, as
 * a child process read asynchronously (the main loop never waits on it). */
static gboolean
poll_tick (gpointer data)
{
    StudioRunsPanel *p = data;
    char *sluice = NULL;
    GHashTableIter it;
    gpointer k, v;
    g_hash_table_iter_init (&it, p->cluster);
    while (g_hash_table_iter_next (&it, &k, &v)) {
        Tasks *t = v;
        gint64 id = *(gint64 *) k;
        StudioRunRecord *rec = studio_runs_db_get (p->db, id);
        gboolean want = rec && wants_poll (p, rec) && !t->polling;
        studio_run_record_free (rec);
        if (!want || (!sluice && !(sluice = studio_find_sluice ())))
            continue;
        char **argv = studio_cluster_status_argv (sluice, t->spec, t->cluster_dir);
        GSubprocess *proc = g_subprocess_newv ((const char *const *) argv,
                                               G_SUBPROCESS_FLAGS_STDOUT_PIPE | G_SUBPROCESS_FLAGS_STDERR_MERGE, NULL);
        g_strfreev (argv);
        if (!proc)
            continue;
        t->polling = TRUE;
        Poll *c = g_new0 (Poll, 1);
        c->p = g_object_ref (p);
        c->id = id;
        g_subprocess_communicate_utf8_async (proc, NULL, p->cancel, status_answered, c);
    }
    g_free (sluice);
    return G_SOURCE_CONTINUE;
}

typedef struct {
    GtkLabel *state, *detail;
    GtkWidget *log;
} TaskRow;

static void
log_toggled (GtkToggleButton *b, gpointer data)
{
    StudioRunsPanel *p = data;
    if (p->syncing || !gtk_toggle_button_get_active (b))
        return;
    p->log_task = GPOINTER_TO_INT (g_object_get_data (G_OBJECT (b), "task"));
    show_selected (p);
}

static GtkLabel *
grid_label (GtkGrid *g, const char *text, int col, int row, gboolean dim)
{
    GtkWidget *l = gtk_label_new (text);
    gtk_label_set_xalign (GTK_LABEL (l), 0);
    if (dim)
        gtk_widget_add_css_class (l, "dim-label");
    gtk_grid_attach (g, l, col, row, 1, 1);
    return GTK_LABEL (l);
}

/* A state in its colour: up green, down red, starting amber. */
static void
set_state_label (GtkLabel *l, const char *state)
{
    const char *color = g_str_equal (state, "up") || g_str_equal (state, "finished") ? "#26a269"
                      : g_str_equal (state, "down") || g_str_equal (state, "failed") || g_str_equal (state, "crashed")
                          ? "#c01c28"
                      : g_str_equal (state, "starting") ? "#c64600" : NULL;
    char *m = color ? g_markup_printf_escaped ("<span foreground=\"%s\" weight=\"bold\">%s</span>", color, state)
                    : g_markup_escape_text (state, -1);
    gtk_label_set_markup (l, m);
    g_free (m);
}

/* The selected run's task list: the trainer, then each task with its
 * address, state, what its status said, and a Log toggle. */
static void
tasks_show (StudioRunsPanel *p, const StudioRunRecord *rec, Tasks *t)
{
    gtk_widget_set_visible (p->tasks_box, t != NULL);
    if (!t)
        return;
    if (p->tasks_for != rec->id || p->tasks_rows != t->tasks->len) {
        GtkWidget *c;
        while ((c = gtk_widget_get_first_child (GTK_WIDGET (p->tasks_grid))))
            gtk_grid_remove (p->tasks_grid, c);
        g_ptr_array_set_size (p->task_widgets, 0);
        p->tasks_for = rec->id;
        p->tasks_rows = t->tasks->len;
        GtkToggleButton *group = NULL;
        for (int i = -1; i < (int) t->tasks->len; i++) {
            StudioClusterTask *k = i >= 0 ? t->tasks->pdata[i] : NULL;
            char *label = k ? studio_cluster_task_label (k) : g_strdup ("trainer");
            grid_label (p->tasks_grid, label, 0, i + 1, FALSE);
            grid_label (p->tasks_grid, k ? k->address : "this computer", 1, i + 1, TRUE);
            TaskRow *w = g_new0 (TaskRow, 1);
            w->state = grid_label (p->tasks_grid, "", 2, i + 1, FALSE);
            w->detail = grid_label (p->tasks_grid, "", 3, i + 1, TRUE);
            gtk_label_set_ellipsize (w->detail, PANGO_ELLIPSIZE_END);
            gtk_widget_set_hexpand (GTK_WIDGET (w->detail), TRUE);
            w->log = gtk_toggle_button_new_with_label ("Log");
            gtk_widget_add_css_class (w->log, "flat");
            char *tip = g_strdup_printf ("Show the %s's log", label);
            gtk_widget_set_tooltip_text (w->log, tip);
            g_free (tip);
            g_object_set_data (G_OBJECT (w->log), "task", GINT_TO_POINTER (i));
            if (group)
                gtk_toggle_button_set_group (GTK_TOGGLE_BUTTON (w->log), group);
            else
                group = GTK_TOGGLE_BUTTON (w->log);
            g_signal_connect (w->log, "toggled", G_CALLBACK (log_toggled), p);
            gtk_grid_attach (p->tasks_grid, w->log, 4, i + 1, 1, 1);
            g_ptr_array_add (p->task_widgets, w);
            g_free (label);
        }
    }
    StudioRun *run = g_hash_table_lookup (p->runs, &rec->id);
    const char *phase = run ? studio_run_get_phase (run) : NULL;
    p->syncing = TRUE;
    for (guint i = 0; i < p->task_widgets->len; i++) {
        TaskRow *w = p->task_widgets->pdata[i];
        StudioClusterTask *k = i > 0 ? t->tasks->pdata[i - 1] : NULL;
        const char *state = k ? k->state : rec->status;
        set_state_label (w->state, state);
        char *detail = k && k->pid > 0 ? g_strdup_printf ("pid %" G_GINT64_FORMAT "%s%s", k->pid,
                                                          *k->detail ? " \u00b7 " : "", k->detail)
                     : g_strdup (k ? k->detail : phase ? phase : "");
        gtk_label_set_text (w->detail, detail);
        gtk_widget_set_tooltip_text (GTK_WIDGET (w->detail), *detail ? detail : NULL);
        g_free (detail);
        gtk_toggle_button_set_active (GTK_TOGGLE_BUTTON (w->log), (int) i - 1 == p->log_task);
    }
    p->syncing = FALSE;
}

static char *
file_tail (const char *path, int lines)
{
    char *text = NULL;
    if (!g_file_get_contents (path, &text, NULL, NULL))
        return g_strdup ("");
    char **all = g_strsplit (g_strchomp (text), "\n", -1);
    guint n = g_strv_length (all);
    char *out = g_strjoinv ("\n", all + (n > (guint) lines ? n - (guint) lines : 0));
    g_strfreev (all);
    g_free (text);
    return out;
}

/* ---- the selected run --------------------------------------------------- */

static void
set_chart (StudioRunsPanel *p, const char *dir)
{
    g_clear_pointer (&p->loader, board_loader_free);
    if (p->chart) {
        gtk_box_remove (GTK_BOX (p->chart_box), p->chart);
        p->chart = NULL;
    }
    g_clear_object (&p->ds);
    if (!dir)
        return;
    p->ds = board_dataset_new ();
    const char *dirs[] = { dir, NULL };
    p->loader = board_loader_new (p->ds, dirs);
    p->chart = board_scalar_chart_new (p->ds, p->settings, "loss");
    gtk_widget_set_hexpand (p->chart, TRUE);
    gtk_widget_set_vexpand (p->chart, TRUE);
    gtk_box_append (GTK_BOX (p->chart_box), p->chart);
}

static void
show_selected (StudioRunsPanel *p)
{
    StudioRunRecord *rec = p->selected > 0 ? studio_runs_db_get (p->db, p->selected) : NULL;
    gboolean changed = !rec || !p->rec || rec->id != p->rec->id;
    studio_run_record_free (p->rec);
    p->rec = rec;
    if (changed)
        p->log_task = -1;
    Tasks *tasks = rec ? tasks_of (p, rec) : NULL;
    tasks_show (p, rec, tasks);
    if (changed) {
        set_chart (p, rec ? rec->dir : NULL);
        g_clear_pointer (&p->stats, studio_run_stats_free);
        if (rec)
            p->stats = studio_run_stats_new (rec->dir);
    }
    /* the op times of its newest traced step */
    gboolean newer = p->stats && studio_run_stats_update (p->stats);
    if (changed || newer)
        g_signal_emit (p, signals[SIG_NODE_TIMES_CHANGED], 0);
    if (!rec) {
        gtk_label_set_text (p->head, "No run yet: press Run (F5) to train this graph");
        gtk_label_set_text (p->status, "");
        gtk_label_set_text (p->log, "");
        gtk_progress_bar_set_fraction (p->progress, 0);
        gtk_widget_set_sensitive (p->stop, FALSE);
        gtk_widget_set_sensitive (p->resume, FALSE);
        gtk_widget_set_sensitive (p->board, FALSE);
        return;
    }
    char *name = run_name (rec->dir);
    gtk_label_set_text (p->head, name);
    g_free (name);
    p->step = rec->step;
    p->steps = rec->steps;
    StudioRun *own = g_hash_table_lookup (p->runs, &rec->id);
    const char *phase = own && g_str_equal (rec->status, "running") ? studio_run_get_phase (own) : NULL;
    StudioTarget *target = tasks ? studio_target_parse (rec->target, NULL) : NULL;
    char *where = target ? studio_target_describe (target) : NULL;
    studio_target_free (target);
    char *st = g_strdup_printf ("%s%s%s \u00b7 step %" G_GINT64_FORMAT " of %" G_GINT64_FORMAT "%s%s%s%s",
                                rec->status, phase && !g_str_equal (phase, "training") ? ": " : "",
                                phase && !g_str_equal (phase, "training") ? phase : "", rec->step, rec->steps,
                                *rec->metrics ? " \u00b7 " : "", rec->metrics, where ? " \u00b7 " : "",
                                where ? where : "");
    g_free (where);
    gtk_label_set_text (p->status, st);
    g_free (st);
    gtk_widget_remove_css_class (GTK_WIDGET (p->status), "error");
    if (g_str_equal (rec->status, "failed") || g_str_equal (rec->status, "crashed"))
        gtk_widget_add_css_class (GTK_WIDGET (p->status), "error");
    gtk_progress_bar_set_fraction (p->progress, rec->steps > 0 ? CLAMP ((double) rec->step / rec->steps, 0, 1) : 0);
    char *tail;
    if (tasks && p->log_task >= 0 && p->log_task < (int) tasks->tasks->len) {
        StudioClusterTask *k = tasks->tasks->pdata[p->log_task];
        char *path = studio_cluster_task_log (tasks->cluster_dir, k);
        char *base = g_path_get_basename (path);
        tail = file_tail (path, 12);
        gtk_label_set_text (p->log_title, base);
        /* a task's lines are long (names, addresses): wrapped */
        gtk_label_set_wrap (p->log, TRUE);
        gtk_label_set_wrap_mode (p->log, PANGO_WRAP_WORD_CHAR);
        gtk_scrolled_window_set_policy (GTK_SCROLLED_WINDOW (p->log_scroll), GTK_POLICY_NEVER, GTK_POLICY_AUTOMATIC);
        g_free (base);
        g_free (path);
    } else {
        tail = studio_run_log_tail (rec->dir, 8);
        gtk_label_set_text (p->log_title, "train.log");
        gtk_label_set_wrap (p->log, FALSE);
        gtk_scrolled_window_set_policy (GTK_SCROLLED_WINDOW (p->log_scroll), GTK_POLICY_AUTOMATIC,
                                        GTK_POLICY_AUTOMATIC);
    }
    gtk_label_set_text (p->log, tail);
    g_free (tail);
    gboolean running = g_str_equal (rec->status, "running");
    gtk_widget_set_sensitive (p->stop, running);
    gtk_widget_set_sensitive (p->resume, !running && rec->step < rec->steps);
    gtk_widget_set_sensitive (p->board, TRUE);
}

static void
row_selected (GtkListBox *list, GtkListBoxRow *row, gpointer data)
{
    StudioRunsPanel *p = data;
    p->selected = row ? GPOINTER_TO_INT (g_object_get_data (G_OBJECT (row), "run-id")) : 0;
    show_selected (p);
}

static void
select_id (StudioRunsPanel *p, gint64 id)
{
    Row *r = g_hash_table_lookup (p->rows, &id);
    if (r)
        gtk_list_box_select_row (p->list, GTK_LIST_BOX_ROW (r->row));
}

/* ---- runs --------------------------------------------------------------- */

static void
run_done (StudioRun *run, const char *status, int code, const char *tail, gpointer data)
{
    StudioRunsPanel *p = data;
    GHashTableIter it;
    gpointer k, v;
    g_hash_table_iter_init (&it, p->runs);
    while (g_hash_table_iter_next (&it, &k, &v)) {
        if (v != run)
            continue;
        gint64 id = *(gint64 *) k, step = 0;
        char *metrics = NULL;
        studio_run_read_progress (studio_run_get_dir (run), &step, NULL, &metrics);
        studio_runs_db_update (p->db, id, status, g_get_real_time () / 1e6, 0, step, metrics, NULL);
        g_free (metrics);
        if (g_getenv ("SLUICE_STUDIO_TRACE") || code != 0)
            g_printerr ("sluice-studio: run %s %s (%d)%s%s\n", studio_run_get_dir (run), status, code,
                        code ? ": " : "", code ? tail : "");
        break;
    }
    refresh (p);
    g_signal_emit (p, signals[SIG_RUN_ENDED], 0);
}

static void
refresh (StudioRunsPanel *p)
{
    /* progress of the runs started here */
    GHashTableIter it;
    gpointer k, v;
    g_hash_table_iter_init (&it, p->runs);
    while (g_hash_table_iter_next (&it, &k, &v)) {
        StudioRun *run = v;
        gint64 step = 0;
        char *metrics = NULL;
        if (studio_run_is_running (run) && studio_run_read_progress (studio_run_get_dir (run), &step, NULL, &metrics))
            studio_runs_db_update (p->db, *(gint64 *) k, NULL, 0, studio_run_get_pid (run), step, metrics, NULL);
        g_free (metrics);
    }
    GPtrArray *all = studio_runs_db_list (p->db, NULL);
    for (guint i = all ? all->len : 0; i-- > 0;) {   /* oldest first: each new row goes on top */
        StudioRunRecord *rec = all->pdata[i];
        /* a run left running by an earlier studio: follow it by its pid */
        if (g_str_equal (rec->status, "running") && !g_hash_table_contains (p->runs, &rec->id)) {
            gint64 step = 0;
            char *metrics = NULL;
            studio_run_read_progress (rec->dir, &step, NULL, &metrics);
            gboolean alive = pid_alive (rec->pid);
            const char *st = alive ? NULL : step >= rec->steps ? "finished" : "interrupted";
            studio_runs_db_update (p->db, rec->id, st, alive ? 0 : g_get_real_time () / 1e6, alive ? rec->pid : 0,
                                   step, metrics, NULL);
            g_free (metrics);
            if (st) {
                g_free (rec->status);
                rec->status = g_strdup (st);
                /* its trainer ended unwatched: its cluster goes down now */
                if (rec->target && *rec->target && !g_str_equal (rec->target, "this-computer"))
                    studio_run_cluster_down (rec->dir);
            }
            rec->step = MAX (rec->step, step);
        }
        Row *r = g_hash_table_lookup (p->rows, &rec->id);
        if (!r) {
            r = row_new (p, rec);
            g_hash_table_insert (p->rows, g_memdup2 (&rec->id, sizeof rec->id), r);
            gtk_list_box_prepend (p->list, r->row);
        } else {
            row_update (r, rec);
        }
        Tasks *t = tasks_of (p, rec);
        if (t) {
            tasks_update (p, rec, t);
            char *sum = tasks_summary (t);
            gtk_label_set_text (r->tasks, sum);
            g_free (sum);
        }
        gtk_widget_set_visible (GTK_WIDGET (r->tasks), t != NULL);
    }
    if (all)
        g_ptr_array_unref (all);
    show_selected (p);
}

static gboolean
tick (gpointer data)
{
    refresh (data);
    return G_SOURCE_CONTINUE;
}

static gboolean
launch (StudioRunsPanel *p, gint64 id, const char *dir, const StudioTarget *target, GError **error)
{
    StudioRun *run = studio_run_launch_on (dir, target, run_done, p, error);
    if (!run)
        return FALSE;
    g_hash_table_replace (p->runs, g_memdup2 (&id, sizeof id), run);
    g_hash_table_remove (p->cluster, &id);   /* a local cluster's ports are new on each launch */
    studio_runs_db_update (p->db, id, "running", 0, studio_run_get_pid (run), 0, NULL, NULL);
    refresh (p);
    select_id (p, id);
    return TRUE;
}

gboolean
studio_runs_panel_start (StudioRunsPanel *p, StudioDocument *doc, const StudioRunSetup *setup, GError **error)
{
    if (!p->db) {
        g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_FAILED, "the run history could not be opened");
        return FALSE;
    }
    char *spec = NULL;
    char *dir = studio_run_prepare (doc, setup, &spec, error);
    if (!dir)
        return FALSE;
    gint64 id = studio_runs_db_add (p->db, dir, studio_document_get_path (doc), spec, 0, setup->steps, error);
    char *target = studio_target_to_string (setup->target);
    gboolean ok = id > 0 && studio_runs_db_set_target (p->db, id, target, error)
                  && launch (p, id, dir, setup->target, error);
    g_free (target);
    if (!ok && id > 0)
        studio_runs_db_update (p->db, id, "failed", g_get_real_time () / 1e6, 0, 0, NULL, NULL);
    g_free (spec);
    g_free (dir);
    return ok;
}

gboolean
studio_runs_panel_resume (StudioRunsPanel *p, GError **error)
{
    if (!p->rec) {
        g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_FAILED, "no run selected");
        return FALSE;
    }
    StudioRun *run = g_hash_table_lookup (p->runs, &p->rec->id);
    if (studio_run_is_running (run) || g_str_equal (p->rec->status, "running")) {
        g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_BUSY, "the run is training");
        return FALSE;
    }
    /* on the target it was started on */
    StudioTarget *target = studio_target_parse (p->rec->target, error);
    if (!target)
        return FALSE;
    char *dir = g_strdup (p->rec->dir);
    gboolean ok = launch (p, p->rec->id, dir, target, error);
    g_free (dir);
    studio_target_free (target);
    return ok;
}

void
studio_runs_panel_stop (StudioRunsPanel *p)
{
    if (!p->rec)
        return;
    StudioRun *run = g_hash_table_lookup (p->runs, &p->rec->id);
    if (run)
        studio_run_stop (run);
    else if (g_str_equal (p->rec->status, "running") && pid_alive (p->rec->pid))
        kill ((pid_t) p->rec->pid, SIGINT);   /* left running by an earlier studio */
}

gboolean
studio_runs_panel_is_training (StudioRunsPanel *p)
{
    GHashTableIter it;
    gpointer v;
    g_hash_table_iter_init (&it, p->runs);
    while (g_hash_table_iter_next (&it, NULL, &v))
        if (studio_run_is_running (v))
            return TRUE;
    return FALSE;
}

void
studio_runs_panel_stop_all (StudioRunsPanel *p)
{
    GHashTableIter it;
    gpointer v;
    g_hash_table_iter_init (&it, p->runs);
    while (g_hash_table_iter_next (&it, NULL, &v))
        studio_run_stop (v);
}

gboolean
studio_runs_panel_open_board (StudioRunsPanel *p, GError **error)
{
    if (!p->rec) {
        g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_FAILED, "no run selected");
        return FALSE;
    }
    char *board = studio_find_board ();
    if (!board) {
        g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND,
                             "sluice-board is not installed (set SLUICE_BOARD to its path)");
        return FALSE;
    }
    GSubprocess *s = g_subprocess_new (G_SUBPROCESS_FLAGS_NONE, error, board, p->rec->dir, NULL);
    g_free (board);
    if (!s)
        return FALSE;
    g_object_unref (s);
    return TRUE;
}

const char *
studio_runs_panel_get_dir (StudioRunsPanel *p)
{
    return p->rec ? p->rec->dir : NULL;
}

GHashTable *
studio_runs_panel_get_node_times (StudioRunsPanel *p, gint64 *step)
{
    if (step)
        *step = -1;
    return p->stats ? studio_run_stats_get_times (p->stats, step, NULL) : NULL;
}

GPtrArray *
studio_runs_panel_get_tasks (StudioRunsPanel *p)
{
    Tasks *t = p->rec ? g_hash_table_lookup (p->cluster, &p->rec->id) : NULL;
    return t ? t->tasks : NULL;
}

const char *
studio_runs_panel_get_target (StudioRunsPanel *p)
{
    return p->rec ? p->rec->target : NULL;
}

gboolean
studio_runs_panel_show_log (StudioRunsPanel *p, int task)
{
    GPtrArray *tasks = studio_runs_panel_get_tasks (p);
    if (task < -1 || (task >= 0 && (!tasks || task >= (int) tasks->len)))
        return FALSE;
    p->log_task = task;
    show_selected (p);
    return TRUE;
}

const char *
studio_runs_panel_get_log_title (StudioRunsPanel *p)
{
    return gtk_label_get_text (p->log_title);
}

const char *
studio_runs_panel_get_log (StudioRunsPanel *p)
{
    return gtk_label_get_text (p->log);
}

gint64
studio_runs_panel_get_pid (StudioRunsPanel *p)
{
    if (!p->rec)
        return 0;
    StudioRun *run = g_hash_table_lookup (p->runs, &p->rec->id);
    return run ? studio_run_get_pid (run) : p->rec->pid;
}

const char *
studio_runs_panel_get_status (StudioRunsPanel *p)
{
    return p->rec ? p->rec->status : NULL;
}

void
studio_runs_panel_get_progress (StudioRunsPanel *p, gint64 *step, gint64 *steps)
{
    if (step)
        *step = p->rec ? p->rec->step : 0;
    if (steps)
        *steps = p->rec ? p->rec->steps : 0;
}

gint64
studio_runs_panel_get_chart_points (StudioRunsPanel *p)
{
    return p->chart ? board_scalar_chart_get_point_count (BOARD_SCALAR_CHART (p->chart)) : 0;
}

/* ---- widget ------------------------------------------------------------- */

static void
stop_clicked (GtkButton *b, gpointer data)
{
    studio_runs_panel_stop (data);
}

static void
resume_clicked (GtkButton *b, gpointer data)
{
    GError *e = NULL;
    if (!studio_runs_panel_resume (data, &e)) {
        gtk_label_set_text (STUDIO_RUNS_PANEL (data)->status, e->message);
        g_error_free (e);
    }
}

static void
board_clicked (GtkButton *b, gpointer data)
{
    GError *e = NULL;
    if (!studio_runs_panel_open_board (data, &e)) {
        gtk_label_set_text (STUDIO_RUNS_PANEL (data)->status, e->message);
        g_error_free (e);
    }
}

static void
studio_runs_panel_dispose (GObject *object)
{
    StudioRunsPanel *p = STUDIO_RUNS_PANEL (object);
    g_clear_handle_id (&p->tick, g_source_remove);
    g_clear_handle_id (&p->poll, g_source_remove);
    if (p->cancel)
        g_cancellable_cancel (p->cancel);
    g_clear_object (&p->cancel);
    g_clear_pointer (&p->cluster, g_hash_table_unref);
    g_clear_pointer (&p->task_widgets, g_ptr_array_unref);
    g_clear_pointer (&p->loader, board_loader_free);
    g_clear_pointer (&p->box, gtk_widget_unparent);
    g_clear_object (&p->ds);
    g_clear_object (&p->settings);
    g_clear_pointer (&p->runs, g_hash_table_unref);   /* runs still training go on */
    g_clear_pointer (&p->rows, g_hash_table_unref);
    g_clear_pointer (&p->rec, studio_run_record_free);
    g_clear_pointer (&p->db, studio_runs_db_close);
    g_clear_pointer (&p->stats, studio_run_stats_free);
    G_OBJECT_CLASS (studio_runs_panel_parent_class)->dispose (object);
}

static void
studio_runs_panel_class_init (StudioRunsPanelClass *klass)
{
    G_OBJECT_CLASS (klass)->dispose = studio_runs_panel_dispose;
    signals[SIG_NODE_TIMES_CHANGED] = g_signal_new ("node-times-changed", G_TYPE_FROM_CLASS (klass),
                                                    G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL, G_TYPE_NONE, 0);
    signals[SIG_RUN_ENDED] = g_signal_new ("run-ended", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0,
                                           NULL, NULL, NULL, G_TYPE_NONE, 0);
    gtk_widget_class_set_layout_manager_type (GTK_WIDGET_CLASS (klass), GTK_TYPE_BIN_LAYOUT);
}

static GtkWidget *
button (const char *label, const char *tip, GCallback cb, gpointer data)
{
    GtkWidget *b = gtk_button_new_with_mnemonic (label);
    gtk_widget_set_tooltip_text (b, tip);
    g_signal_connect (b, "clicked", cb, data);
    return b;
}

static void
studio_runs_panel_init (StudioRunsPanel *p)
{
    p->rows = g_hash_table_new_full (g_int64_hash, g_int64_equal, g_free, g_free);
    p->runs = g_hash_table_new_full (g_int64_hash, g_int64_equal, g_free, (GDestroyNotify) studio_run_free);
    p->cluster = g_hash_table_new_full (g_int64_hash, g_int64_equal, g_free, tasks_free);
    p->cancel = g_cancellable_new ();
    p->task_widgets = g_ptr_array_new_with_free_func (g_free);
    p->log_task = -1;
    p->settings = board_chart_settings_new ();
    board_chart_settings_set_smoothing (p->settings, 0.3);
    char *path = studio_runs_db_default_path ();
    GError *e = NULL;
    p->db = studio_runs_db_open (path, &e);
    if (!p->db) {
        g_printerr ("sluice-studio: %s\n", e->message);
        g_error_free (e);
    }
    g_free (path);

    p->box = gtk_paned_new (GTK_ORIENTATION_HORIZONTAL);
    gtk_widget_set_parent (p->box, GTK_WIDGET (p));
    p->list = GTK_LIST_BOX (gtk_list_box_new ());
    gtk_list_box_set_selection_mode (p->list, GTK_SELECTION_BROWSE);
    g_signal_connect (p->list, "row-selected", G_CALLBACK (row_selected), p);
    GtkWidget *scroll = gtk_scrolled_window_new ();
    gtk_scrolled_window_set_child (GTK_SCROLLED_WINDOW (scroll), GTK_WIDGET (p->list));
    gtk_scrolled_window_set_policy (GTK_SCROLLED_WINDOW (scroll), GTK_POLICY_NEVER, GTK_POLICY_AUTOMATIC);
    gtk_widget_set_size_request (scroll, 250, -1);
    gtk_paned_set_start_child (GTK_PANED (p->box), scroll);
    gtk_paned_set_resize_start_child (GTK_PANED (p->box), FALSE);
    gtk_paned_set_shrink_start_child (GTK_PANED (p->box), FALSE);

    GtkWidget *detail = gtk_box_new (GTK_ORIENTATION_VERTICAL, 4);
    gtk_widget_set_margin_start (detail, 8);
    gtk_widget_set_margin_end (detail, 8);
    gtk_widget_set_margin_top (detail, 6);
    gtk_widget_set_margin_bottom (detail, 6);
    GtkWidget *top = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 6);
    GtkWidget *labels = gtk_box_new (GTK_ORIENTATION_VERTICAL, 2);
    gtk_widget_set_hexpand (labels, TRUE);
    p->head = GTK_LABEL (gtk_label_new (""));
    gtk_label_set_xalign (p->head, 0);
    gtk_widget_add_css_class (GTK_WIDGET (p->head), "heading");
    p->status = GTK_LABEL (gtk_label_new (""));
    gtk_label_set_xalign (p->status, 0);
    gtk_label_set_ellipsize (p->status, PANGO_ELLIPSIZE_END);
    gtk_box_append (GTK_BOX (labels), GTK_WIDGET (p->head));
    gtk_box_append (GTK_BOX (labels), GTK_WIDGET (p->status));
    gtk_box_append (GTK_BOX (top), labels);
    p->stop = button ("_Stop", "Stop the run (it checkpoints first)", G_CALLBACK (stop_clicked), p);
    p->resume = button ("Res_ume", "Train on from the newest checkpoint", G_CALLBACK (resume_clicked), p);
    p->board = button ("Open in _Board", "Open the run in sluice-board", G_CALLBACK (board_clicked), p);
    gtk_widget_set_valign (p->stop, GTK_ALIGN_CENTER);
    gtk_widget_set_valign (p->resume, GTK_ALIGN_CENTER);
    gtk_widget_set_valign (p->board, GTK_ALIGN_CENTER);
    gtk_box_append (GTK_BOX (top), p->stop);
    gtk_box_append (GTK_BOX (top), p->resume);
    gtk_box_append (GTK_BOX (top), p->board);
    gtk_box_append (GTK_BOX (detail), top);
    p->progress = GTK_PROGRESS_BAR (gtk_progress_bar_new ());
    gtk_box_append (GTK_BOX (detail), GTK_WIDGET (p->progress));
    /* a cluster run's tasks */
    p->tasks_box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 2);
    p->tasks_grid = GTK_GRID (gtk_grid_new ());
    gtk_grid_set_column_spacing (p->tasks_grid, 12);
    gtk_grid_set_row_spacing (p->tasks_grid, 0);
    gtk_box_append (GTK_BOX (p->tasks_box), GTK_WIDGET (p->tasks_grid));
    gtk_widget_set_visible (p->tasks_box, FALSE);
    gtk_box_append (GTK_BOX (detail), p->tasks_box);

    GtkWidget *lower = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 8);
    gtk_widget_set_vexpand (lower, TRUE);
    p->chart_box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 0);
    gtk_widget_set_hexpand (p->chart_box, TRUE);
    gtk_widget_set_size_request (p->chart_box, 420, 170);
    gtk_box_append (GTK_BOX (lower), p->chart_box);
    p->log = GTK_LABEL (gtk_label_new (""));
    gtk_label_set_xalign (p->log, 0);
    gtk_label_set_yalign (p->log, 0);
    gtk_label_set_selectable (p->log, TRUE);
    gtk_widget_add_css_class (GTK_WIDGET (p->log), "monospace");
    GtkWidget *log_scroll = p->log_scroll = gtk_scrolled_window_new ();
    gtk_scrolled_window_set_child (GTK_SCROLLED_WINDOW (log_scroll), GTK_WIDGET (p->log));
    gtk_scrolled_window_set_policy (GTK_SCROLLED_WINDOW (log_scroll), GTK_POLICY_AUTOMATIC, GTK_POLICY_AUTOMATIC);
    gtk_widget_set_size_request (log_scroll, 440, -1);
    gtk_widget_set_vexpand (log_scroll, TRUE);
    GtkWidget *log_box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 2);
    p->log_title = GTK_LABEL (gtk_label_new ("train.log"));
    gtk_label_set_xalign (p->log_title, 0);
    gtk_widget_add_css_class (GTK_WIDGET (p->log_title), "dim-label");
    gtk_widget_add_css_class (GTK_WIDGET (p->log_title), "caption");
    gtk_box_append (GTK_BOX (log_box), GTK_WIDGET (p->log_title));
    gtk_box_append (GTK_BOX (log_box), log_scroll);
    gtk_box_append (GTK_BOX (lower), log_box);
    gtk_box_append (GTK_BOX (detail), lower);
    gtk_paned_set_end_child (GTK_PANED (p->box), detail);

    if (p->db) {
        refresh (p);
        GtkListBoxRow *first = gtk_list_box_get_row_at_index (p->list, 0);
        if (first)
            gtk_list_box_select_row (p->list, first);
        p->tick = g_timeout_add (500, tick, p);
        p->poll = g_timeout_add (2000, poll_tick, p);
    }
    show_selected (p);
}

GtkWidget *
studio_runs_panel_new (void)
{
    return g_object_new (STUDIO_TYPE_RUNS_PANEL, NULL);
}
