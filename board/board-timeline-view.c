/* The timeline dashboard (see the header).  Threads: the graph's op
 * table and the step statistics are decoded in GTasks; results apply on
 * the main thread when their generation is still current. */
#include "board-timeline-view.h"

#include <string.h>

#include "board-timeline.h"

struct _BoardTimelineView {
    GtkBox parent_instance;
    BoardDataset *ds;
    GtkWidget *run_drop;
    GtkStringList *run_list;
    GPtrArray *run_names;     /* char*: the runs with traced steps, in the dataset's order */
    GtkWidget *step_drop;
    GtkStringList *step_list;
    GPtrArray *refs;          /* BoardTimelineRef* of the run picked */
    GtkWidget *summary;
    GtkWidget *chart;
    GHashTable *ops;          /* run name -> GHashTable name -> op (empty when no graph) */
    char *run;                /* picked */
    char *tag;
    char *shown_run;          /* shown, or being read */
    char *shown_tag;
    GBytes *shown_bytes;
    char *drawn_run;          /* the step in the chart */
    char *drawn_tag;
    guint generation;
    int tasks;
    gboolean updating;
};

G_DEFINE_FINAL_TYPE (BoardTimelineView, board_timeline_view, GTK_TYPE_BOX)

static const char *no_data_text =
    "No step statistics in these logs.\n\n"
    "Record some with trace_every_steps: N in the run spec (sluice train), or with\n"
    "RunOptions(trace_level=FULL_TRACE) and a FileWriter's add_run_metadata in TensorFlow.";

static void show_selected (BoardTimelineView *v);

/* ---- decoding ---- */

typedef struct {
    BoardTimelineView *view;   /* a reference */
    char *run;
    char *tag;
    gint64 step;
    GBytes *bytes;
    GBytes *graph;             /* when the run's ops are not known yet */
    GHashTable *ops;           /* known ops (a reference), or NULL */
    guint generation;
    /* results */
    GHashTable *new_ops;
    BoardTimelineStep *result;
    GError *error;
    gint64 started;
} Job;

static void
job_free (gpointer data)
{
    Job *j = data;
    g_free (j->run);
    g_free (j->tag);
    g_bytes_unref (j->bytes);
    if (j->graph)
        g_bytes_unref (j->graph);
    if (j->ops)
        g_hash_table_unref (j->ops);
    if (j->new_ops)
        g_hash_table_unref (j->new_ops);
    board_timeline_step_free (j->result);
    g_clear_error (&j->error);
    g_object_unref (j->view);
    g_free (j);
}

static void
decode_thread (GTask *task, gpointer source, gpointer data, GCancellable *cancel)
{
    Job *j = data;
    GHashTable *ops = j->ops;
    if (!ops) {
        gsize n = 0;
        const void *g = j->graph ? g_bytes_get_data (j->graph, &n) : NULL;
        j->new_ops = board_timeline_ops_from_graph (g, n);
        if (!j->new_ops)
            j->new_ops = g_hash_table_new (g_str_hash, g_str_equal);
        ops = j->new_ops;
    }
    gsize size;
    const void *data_ = g_bytes_get_data (j->bytes, &size);
    j->result = board_timeline_step_decode (data_, size, ops, j->run, j->tag, j->step, &j->error);
    g_task_return_boolean (task, TRUE);
}

static void
set_summary (BoardTimelineView *v, const char *text)
{
    gtk_label_set_text (GTK_LABEL (v->summary), text);
}

static void
decoded (GObject *source, GAsyncResult *res, gpointer data)
{
    BoardTimelineView *v = BOARD_TIMELINE_VIEW (source);
    Job *j = g_task_get_task_data (G_TASK (res));
    v->tasks--;
    if (j->new_ops && !g_hash_table_contains (v->ops, j->run))
        g_hash_table_insert (v->ops, g_strdup (j->run), g_hash_table_ref (j->new_ops));
    if (j->generation != v->generation || !v->chart)
        return;
    if (g_getenv ("SLUICE_BOARD_TRACE_TIMELINE"))
        g_printerr ("timeline: %s/%s decoded in %.1f ms\n", j->run, j->tag,
                    (g_get_monotonic_time () - j->started) / 1000.0);
    if (!j->result) {
        g_warning ("%s", j->error->message);
        board_timeline_chart_set_message (BOARD_TIMELINE_CHART (v->chart), j->error->message);
        set_summary (v, j->error->message);
        g_clear_pointer (&v->drawn_run, g_free);
        g_clear_pointer (&v->drawn_tag, g_free);
        return;
    }
    BoardTimelineStep *s = j->result;
    j->result = NULL;
    GString *sum = g_string_new (NULL);
    char *span = board_timeline_format_us (s->span_us);
    guint transfers = 0;
    for (guint i = 0; i < s->nodes->len; i++)
        transfers += g_array_index (s->nodes, BoardTimelineNode, i).transfer;
    g_string_append_printf (sum, "%u nodes on %d device%s \u00b7 %u lane%s \u00b7 %u copies "
                            "between devices \u00b7 the step took %s",
                            s->nodes->len, s->n_devices, s->n_devices == 1 ? "" : "s",
                            s->lanes->len, s->lanes->len == 1 ? "" : "s", transfers, span);
    g_free (span);
    GDateTime *dt = g_date_time_new_from_unix_local (s->start_micros / G_USEC_PER_SEC);
    if (dt && s->start_micros > 0) {
        char *when = g_date_time_format (dt, "%Y-%m-%d %H:%M:%S");
        g_string_append_printf (sum, " \u00b7 started %s", when);
        g_free (when);
    }
    if (dt)
        g_date_time_unref (dt);
    set_summary (v, sum->str);
    g_string_free (sum, TRUE);
    /* the same step read again (a live run rewrote it) keeps the zoom */
    gboolean same = g_strcmp0 (j->run, v->drawn_run) == 0 && g_strcmp0 (j->tag, v->drawn_tag) == 0;
    g_free (v->drawn_run);
    g_free (v->drawn_tag);
    v->drawn_run = g_strdup (j->run);
    v->drawn_tag = g_strdup (j->tag);
    board_timeline_chart_set_step (BOARD_TIMELINE_CHART (v->chart), s, same);
}

static void
load (BoardTimelineView *v, const BoardTimelineRef *r)
{
    gboolean same_tag = g_strcmp0 (v->run, v->shown_run) == 0 && g_strcmp0 (r->tag, v->shown_tag) == 0;
    if (same_tag && v->shown_bytes == r->bytes)
        return;
    v->generation++;
    Job *j = g_new0 (Job, 1);
    j->view = g_object_ref (v);
    j->run = g_strdup (v->run);
    j->tag = g_strdup (r->tag);
    j->step = r->step;
    j->bytes = g_bytes_ref (r->bytes);
    j->generation = v->generation;
    j->started = g_get_monotonic_time ();
    GHashTable *ops = g_hash_table_lookup (v->ops, v->run);
    if (ops) {
        j->ops = g_hash_table_ref (ops);
    } else {
        BoardRun *run = board_dataset_find_run (v->ds, v->run);
        j->graph = run ? board_timeline_graph_of_run (run) : NULL;
    }
    g_free (v->shown_tag);
    v->shown_tag = g_strdup (r->tag);
    if (!same_tag) {
        /* the old step stays until the new one is decoded: no flash */
        set_summary (v, "reading\u2026");
    }
    if (v->shown_bytes)
        g_bytes_unref (v->shown_bytes);
    v->shown_bytes = g_bytes_ref (r->bytes);
    /* decoded() compares the run: keep the one drawn until then */
    GTask *task = g_task_new (v, NULL, decoded, NULL);
    g_task_set_task_data (task, j, job_free);
    v->tasks++;
    g_task_run_in_thread (task, decode_thread);
    g_object_unref (task);
    g_free (v->shown_run);
    v->shown_run = g_strdup (v->run);
}

/* ---- pickers ---- */

static gboolean
same_strings (GPtrArray *a, const char *const *b, guint nb)
{
    if (a->len != nb)
        return FALSE;
    for (guint i = 0; i < nb; i++)
        if (strcmp (g_ptr_array_index (a, i), b[i]) != 0)
            return FALSE;
    return TRUE;
}

static void
refresh_steps (BoardTimelineView *v)
{
    GPtrArray *refs = NULL;
    BoardRun *run = v->run ? board_dataset_find_run (v->ds, v->run) : NULL;
    refs = run ? board_timeline_refs_of_run (run)
               : g_ptr_array_new_with_free_func ((GDestroyNotify) board_timeline_ref_free);
    gboolean same = v->refs && v->refs->len == refs->len;
    for (guint i = 0; same && i < refs->len; i++)
        same = strcmp (((BoardTimelineRef *) g_ptr_array_index (v->refs, i))->tag,
                       ((BoardTimelineRef *) g_ptr_array_index (refs, i))->tag) == 0;
    if (v->refs)
        g_ptr_array_unref (v->refs);
    v->refs = refs;
    if (!same) {
        v->updating = TRUE;
        const char **tags = g_new0 (const char *, refs->len + 1);
        guint keep = GTK_INVALID_LIST_POSITION;
        for (guint i = 0; i < refs->len; i++) {
            tags[i] = ((BoardTimelineRef *) g_ptr_array_index (refs, i))->tag;
            if (g_strcmp0 (tags[i], v->tag) == 0)
                keep = i;
        }
        gtk_string_list_splice (v->step_list, 0,
                                g_list_model_get_n_items (G_LIST_MODEL (v->step_list)), tags);
        g_free (tags);
        /* the newest step unless one was picked (later steps are warmed up) */
        if (keep == GTK_INVALID_LIST_POSITION && refs->len > 0) {
            keep = refs->len - 1;
            g_free (v->tag);
            v->tag = g_strdup (((BoardTimelineRef *) g_ptr_array_index (refs, keep))->tag);
        }
        gtk_drop_down_set_selected (GTK_DROP_DOWN (v->step_drop), keep);
        v->updating = FALSE;
    }
    gtk_widget_set_sensitive (v->step_drop, refs->len > 0);
    show_selected (v);
}

static void
show_selected (BoardTimelineView *v)
{
    if (!v->refs || v->refs->len == 0) {
        if (board_dataset_is_complete (v->ds) && v->run_names->len == 0) {
            board_timeline_chart_set_message (BOARD_TIMELINE_CHART (v->chart), no_data_text);
            set_summary (v, "");
        }
        return;
    }
    for (guint i = 0; i < v->refs->len; i++) {
        BoardTimelineRef *r = g_ptr_array_index (v->refs, i);
        if (g_strcmp0 (r->tag, v->tag) == 0) {
            load (v, r);
            return;
        }
    }
}

static void
on_step (GObject *o, GParamSpec *pspec, BoardTimelineView *v)
{
    if (v->updating)
        return;
    guint i = gtk_drop_down_get_selected (GTK_DROP_DOWN (v->step_drop));
    if (!v->refs || i >= v->refs->len)
        return;
    g_free (v->tag);
    v->tag = g_strdup (((BoardTimelineRef *) g_ptr_array_index (v->refs, i))->tag);
    show_selected (v);
}

static void
on_run (GObject *o, GParamSpec *pspec, BoardTimelineView *v)
{
    if (v->updating)
        return;
    guint i = gtk_drop_down_get_selected (GTK_DROP_DOWN (v->run_drop));
    if (i >= v->run_names->len || g_strcmp0 (v->run, g_ptr_array_index (v->run_names, i)) == 0)
        return;
    g_free (v->run);
    v->run = g_strdup (g_ptr_array_index (v->run_names, i));
    g_clear_pointer (&v->tag, g_free);
    if (v->refs)
        g_ptr_array_set_size (v->refs, 0);
    g_clear_pointer (&v->refs, g_ptr_array_unref);
    refresh_steps (v);
}

static gboolean
run_has_metadata (BoardRun *run)
{
    GPtrArray *tags = board_run_get_tags (run);
    for (guint i = 0; tags && i < tags->len; i++) {
        BoardSeries *s = board_run_get_series (run, g_ptr_array_index (tags, i));
        if (s && s->kind == BOARD_KIND_RUN_METADATA && s->blobs->len > 0)
            return TRUE;
    }
    return FALSE;
}

static void
on_dataset_changed (BoardDataset *ds, BoardTimelineView *v)
{
    GListModel *runs = board_dataset_get_runs (ds);
    GPtrArray *names = g_ptr_array_new ();
    for (guint i = 0; i < g_list_model_get_n_items (runs); i++) {
        BoardRun *run = g_list_model_get_item (runs, i);
        if (run_has_metadata (run))
            g_ptr_array_add (names, (gpointer) board_run_get_name (run));
        g_object_unref (run);
    }
    if (!same_strings (v->run_names, (const char *const *) names->pdata, names->len)) {
        v->updating = TRUE;
        g_ptr_array_set_size (v->run_names, 0);
        guint keep = GTK_INVALID_LIST_POSITION;
        for (guint i = 0; i < names->len; i++) {
            g_ptr_array_add (v->run_names, g_strdup (g_ptr_array_index (names, i)));
            if (g_strcmp0 (v->run, g_ptr_array_index (names, i)) == 0)
                keep = i;
        }
        g_ptr_array_add (names, NULL);
        gtk_string_list_splice (v->run_list, 0,
                                g_list_model_get_n_items (G_LIST_MODEL (v->run_list)),
                                (const char *const *) names->pdata);
        if (keep == GTK_INVALID_LIST_POSITION && v->run_names->len > 0) {
            keep = 0;
            g_free (v->run);
            v->run = g_strdup (g_ptr_array_index (v->run_names, 0));
            g_clear_pointer (&v->tag, g_free);
        }
        gtk_drop_down_set_selected (GTK_DROP_DOWN (v->run_drop), keep);
        v->updating = FALSE;
    }
    g_ptr_array_unref (names);
    gtk_widget_set_sensitive (v->run_drop, v->run_names->len > 0);
    refresh_steps (v);
}

static void
on_reset (GtkButton *b, BoardTimelineView *v)
{
    board_timeline_chart_reset (BOARD_TIMELINE_CHART (v->chart));
}

/* ---- object ---- */

static void
board_timeline_view_dispose (GObject *o)
{
    BoardTimelineView *v = BOARD_TIMELINE_VIEW (o);
    v->generation++;   /* a decode still running finds no chart to fill */
    v->chart = NULL;
    if (v->ds)
        g_signal_handlers_disconnect_by_data (v->ds, v);
    g_clear_object (&v->ds);
    G_OBJECT_CLASS (board_timeline_view_parent_class)->dispose (o);
}

static void
board_timeline_view_finalize (GObject *o)
{
    BoardTimelineView *v = BOARD_TIMELINE_VIEW (o);
    g_ptr_array_unref (v->run_names);
    if (v->refs)
        g_ptr_array_unref (v->refs);
    g_hash_table_unref (v->ops);
    g_free (v->run);
    g_free (v->tag);
    g_free (v->shown_run);
    g_free (v->shown_tag);
    g_free (v->drawn_run);
    g_free (v->drawn_tag);
    if (v->shown_bytes)
        g_bytes_unref (v->shown_bytes);
    G_OBJECT_CLASS (board_timeline_view_parent_class)->finalize (o);
}

static void
board_timeline_view_class_init (BoardTimelineViewClass *klass)
{
    G_OBJECT_CLASS (klass)->dispose = board_timeline_view_dispose;
    G_OBJECT_CLASS (klass)->finalize = board_timeline_view_finalize;
}

static void
board_timeline_view_init (BoardTimelineView *v)
{
    v->run_names = g_ptr_array_new_with_free_func (g_free);
    v->ops = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
                                    (GDestroyNotify) g_hash_table_unref);
}

static GtkWidget *
caption (const char *text)
{
    GtkWidget *l = gtk_label_new (text);
    gtk_widget_add_css_class (l, "dim-label");
    return l;
}

GtkWidget *
board_timeline_view_new (BoardDataset *ds)
{
    BoardTimelineView *v = g_object_new (BOARD_TYPE_TIMELINE_VIEW, "orientation",
                                         GTK_ORIENTATION_VERTICAL, NULL);
    v->ds = g_object_ref (ds);
    GtkWidget *bar = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 8);
    gtk_widget_set_margin_start (bar, 8);
    gtk_widget_set_margin_end (bar, 8);
    gtk_widget_set_margin_top (bar, 6);
    gtk_widget_set_margin_bottom (bar, 4);
    gtk_box_append (GTK_BOX (bar), caption ("Run"));
    v->run_list = gtk_string_list_new (NULL);
    v->run_drop = gtk_drop_down_new (G_LIST_MODEL (v->run_list), NULL);
    gtk_widget_set_tooltip_text (v->run_drop, "Runs with traced steps");
    g_signal_connect (v->run_drop, "notify::selected", G_CALLBACK (on_run), v);
    gtk_box_append (GTK_BOX (bar), v->run_drop);
    gtk_box_append (GTK_BOX (bar), caption ("Step"));
    v->step_list = gtk_string_list_new (NULL);
    v->step_drop = gtk_drop_down_new (G_LIST_MODEL (v->step_list), NULL);
    gtk_widget_set_tooltip_text (v->step_drop, "Traced steps of the run (tagged run metadata)");
    g_signal_connect (v->step_drop, "notify::selected", G_CALLBACK (on_step), v);
    gtk_box_append (GTK_BOX (bar), v->step_drop);
    GtkWidget *reset = gtk_button_new_with_label ("Whole Step");
    gtk_widget_set_tooltip_text (reset, "Show the whole step (double-click the chart, or Home)");
    g_signal_connect (reset, "clicked", G_CALLBACK (on_reset), v);
    gtk_box_append (GTK_BOX (bar), reset);
    GtkWidget *hint = caption ("Ctrl+scroll zooms \u00b7 drag pans \u00b7 Shift+drag zooms to a "
                               "range \u00b7 double-click: whole step");
    gtk_widget_set_tooltip_text (hint,
        "Ctrl+scroll or +/\u2212: zoom at the pointer\n"
        "Drag, scroll, Shift+scroll or the arrow keys: pan\n"
        "Shift+drag, or a drag on the time axis: zoom to that range\n"
        "Double-click, Home or 0: the whole step\n"
        "Hover a bar: its node, op, device, thread, start and duration");
    gtk_label_set_ellipsize (GTK_LABEL (hint), PANGO_ELLIPSIZE_END);
    gtk_label_set_xalign (GTK_LABEL (hint), 1);
    gtk_widget_set_hexpand (hint, TRUE);
    gtk_box_append (GTK_BOX (bar), hint);
    gtk_box_append (GTK_BOX (v), bar);

    v->summary = gtk_label_new ("");
    gtk_label_set_xalign (GTK_LABEL (v->summary), 0);
    gtk_label_set_ellipsize (GTK_LABEL (v->summary), PANGO_ELLIPSIZE_END);
    gtk_label_set_selectable (GTK_LABEL (v->summary), TRUE);
    gtk_widget_set_margin_start (v->summary, 10);
    gtk_widget_set_margin_end (v->summary, 10);
    gtk_widget_set_margin_bottom (v->summary, 4);
    gtk_box_append (GTK_BOX (v), v->summary);

    v->chart = board_timeline_chart_new ();
    board_timeline_chart_set_message (BOARD_TIMELINE_CHART (v->chart), "reading the logs\u2026");
    gtk_box_append (GTK_BOX (v), v->chart);

    g_signal_connect (ds, "changed", G_CALLBACK (on_dataset_changed), v);
    on_dataset_changed (ds, v);
    return GTK_WIDGET (v);
}

BoardTimelineChart *
board_timeline_view_get_chart (BoardTimelineView *v)
{
    return BOARD_TIMELINE_CHART (v->chart);
}

gboolean
board_timeline_view_select (BoardTimelineView *v, const char *run, const char *tag)
{
    if (run) {
        guint i;
        for (i = 0; i < v->run_names->len; i++)
            if (strcmp (g_ptr_array_index (v->run_names, i), run) == 0)
                break;
        if (i == v->run_names->len)
            return FALSE;
        gtk_drop_down_set_selected (GTK_DROP_DOWN (v->run_drop), i);
        on_run (NULL, NULL, v);
    }
    if (!tag)
        return TRUE;
    for (guint i = 0; v->refs && i < v->refs->len; i++)
        if (strcmp (((BoardTimelineRef *) g_ptr_array_index (v->refs, i))->tag, tag) == 0) {
            gtk_drop_down_set_selected (GTK_DROP_DOWN (v->step_drop), i);
            on_step (NULL, NULL, v);
            return TRUE;
        }
    return FALSE;
}

const char *
board_timeline_view_get_run (BoardTimelineView *v)
{
    return v->shown_run;
}

const char *
board_timeline_view_get_tag (BoardTimelineView *v)
{
    return v->shown_tag;
}

gboolean
board_timeline_view_is_ready (BoardTimelineView *v)
{
    if (v->tasks > 0)
        return FALSE;
    if (v->run_names->len == 0)
        return board_dataset_is_complete (v->ds);
    return v->shown_tag != NULL && g_strcmp0 (v->shown_tag, v->tag) == 0;
}

const char *
board_timeline_view_get_summary (BoardTimelineView *v)
{
    return gtk_label_get_text (GTK_LABEL (v->summary));
}

static void
describe_rect (GString *s, BoardTimelineView *v, GtkWidget *relative_to, const char *key,
               const char *name, const graphene_rect_t *r)
{
    graphene_point_t a;
    if (!gtk_widget_compute_point (v->chart, relative_to, &GRAPHENE_POINT_INIT (r->origin.x, r->origin.y), &a))
        return;
    g_string_append_printf (s, "%s=%s %.0f %.0f %.0f %.0f\n", key, name, a.x, a.y, r->size.width,
                            r->size.height);
}

void
board_timeline_view_describe (BoardTimelineView *v, GtkWidget *relative_to, GString *s)
{
    BoardTimelineChart *c = BOARD_TIMELINE_CHART (v->chart);
    const BoardTimelineStep *ts = board_timeline_chart_get_step (c);
    g_string_append_printf (s, "timeline=%s %s %u\n", v->shown_run ? v->shown_run : "",
                            v->shown_tag ? v->shown_tag : "", ts ? ts->lanes->len : 0);
    if (!ts)
        return;
    double t0, t1;
    board_timeline_chart_get_range (c, &t0, &t1);
    char a[G_ASCII_DTOSTR_BUF_SIZE], b[G_ASCII_DTOSTR_BUF_SIZE];
    g_string_append_printf (s, "timeline_range=%s %s\n", g_ascii_formatd (a, sizeof a, "%.3f", t0),
                            g_ascii_formatd (b, sizeof b, "%.3f", t1));
    int hover = board_timeline_chart_get_hover (c);
    g_string_append_printf (s, "timeline_hover=%s\n",
                            hover >= 0 ? g_array_index (ts->nodes, BoardTimelineNode, hover).name : "");
    if (!gtk_widget_is_drawable (v->chart))
        return;
    graphene_rect_t r;
    for (guint i = 0; i < ts->lanes->len; i++)
        if (board_timeline_chart_get_lane_rect (c, (int) i, &r))
            describe_rect (s, v, relative_to, "timeline_lane",
                           ((BoardTimelineLane *) g_ptr_array_index (ts->lanes, i))->label, &r);
    for (guint i = 0; i < ts->nodes->len; i++)
        if (board_timeline_chart_get_node_rect (c, (int) i, &r))
            describe_rect (s, v, relative_to, "timeline_bar",
                           g_array_index (ts->nodes, BoardTimelineNode, i).name, &r);
}
