/* The graph explorer page (see the header).  Threads: decoding, building
 * the hierarchy and every layout run in GTasks; the main thread applies
 * results whose generation is still current.  Graphs replaced while a
 * task still reads them are freed when no task runs. */
#include "board-graph-page.h"

#include <string.h>

#include "board-graph-layout.h"

struct _BoardGraphPage {
    GtkBox parent_instance;
    BoardDataset *ds;
    GtkWidget *source_drop;
    GtkStringList *sources;        /* display strings */
    GPtrArray *source_keys;        /* "run:NAME" or "file:PATH" */
    GtkWidget *search;
    GtkWidget *status;
    GtkWidget *details;
    GtkWidget *view;
    BoardGraph *graph;
    GPtrArray *retired;            /* graphs waiting for tasks to end */
    int tasks;
    guint generation;
    gboolean final;
    gboolean loading;
    gint64 load_start;
    char *shown_key;        /* the source loaded or being loaded */
    double first_view_ms;
    char *pending_expand;
    BoardGraphNode *pending_center;
    int search_index;
    char *last_search;
};

G_DEFINE_FINAL_TYPE (BoardGraphPage, board_graph_page, GTK_TYPE_BOX)

static void relayout (BoardGraphPage *p);

static void
free_retired (BoardGraphPage *p)
{
    if (p->tasks == 0)
        g_ptr_array_set_size (p->retired, 0);
}

static void
set_status (BoardGraphPage *p, const char *fmt, ...) G_GNUC_PRINTF (2, 3);

static void
set_status (BoardGraphPage *p, const char *fmt, ...)
{
    va_list ap;
    va_start (ap, fmt);
    char *s = g_strdup_vprintf (fmt, ap);
    va_end (ap);
    gtk_label_set_text (GTK_LABEL (p->status), s);
    g_free (s);
}

/* ---- layout tasks ---- */

typedef struct {
    BoardGraphPage *page;   /* a reference */
    BoardGraph *graph;
    GHashTable *expanded;
    guint generation;
    gint64 start;
} LayoutJob;

typedef struct {
    BoardGraphPage *page;
    BoardGraphLayoutResult *result;
    guint generation;
    BoardGraph *graph;
    gint64 start;
    gboolean final;
} LayoutDone;

static void
layout_done_free (gpointer data)
{
    LayoutDone *d = data;
    board_graph_layout_result_free (d->result);
    g_object_unref (d->page);
    g_free (d);
}

static gboolean
apply_layout (gpointer data)
{
    LayoutDone *d = data;
    BoardGraphPage *p = d->page;
    if (d->generation != p->generation || d->graph != p->graph)
        return G_SOURCE_REMOVE;
    board_graph_layout_apply (d->result);
    d->result = NULL;
    gboolean first = p->first_view_ms < 0;
    if (first)
        p->first_view_ms = (g_get_monotonic_time () - p->load_start) / 1000.0;
    if (g_getenv ("SLUICE_BOARD_TRACE_GRAPH"))
        g_printerr ("graph: %s layout applied %.0f ms after loading started\n",
                    d->final ? "final" : "quick",
                    (g_get_monotonic_time () - p->load_start) / 1000.0);
    p->final = d->final;
    board_graph_view_layout_changed (BOARD_GRAPH_VIEW (p->view));
    if (first)
        board_graph_view_fit (BOARD_GRAPH_VIEW (p->view));
    if (p->pending_center && d->final) {
        board_graph_view_center_on (BOARD_GRAPH_VIEW (p->view), p->pending_center);
        p->pending_center = NULL;
    }
    set_status (p, "%u ops \u00b7 %d scopes \u00b7 %d series \u00b7 %d set aside%s%s",
                p->graph->ops->len, p->graph->n_scopes, p->graph->n_series,
                p->graph->n_extracted, d->final ? "" : " \u00b7 laying out\u2026",
                d->final ? "" : "");
    return G_SOURCE_REMOVE;
}

static void
post_layout (LayoutJob *job, BoardGraphLayoutResult *r, gboolean final)
{
    LayoutDone *d = g_new0 (LayoutDone, 1);
    d->page = g_object_ref (job->page);
    d->result = r;
    d->generation = job->generation;
    d->graph = job->graph;
    d->start = job->start;
    d->final = final;
    g_main_context_invoke_full (NULL, G_PRIORITY_DEFAULT, apply_layout, d, layout_done_free);
}

static void
layout_thread (GTask *task, gpointer source, gpointer data, GCancellable *c)
{
    LayoutJob *job = data;
    /* a quick first view, then dot */
    post_layout (job, board_graph_layout_compute (job->graph->root, job->expanded, TRUE), FALSE);
    BoardGraphLayoutResult *r = board_graph_layout_compute (job->graph->root, job->expanded, FALSE);
    post_layout (job, r, TRUE);
    g_task_return_boolean (task, TRUE);
}

static void
layout_job_free (gpointer data)
{
    LayoutJob *job = data;
    g_hash_table_unref (job->expanded);
    g_object_unref (job->page);
    g_free (job);
}

static void
layout_finished (GObject *source, GAsyncResult *res, gpointer data)
{
    BoardGraphPage *p = BOARD_GRAPH_PAGE (source);
    p->tasks--;
    free_retired (p);
}

static void
relayout (BoardGraphPage *p)
{
    if (!p->graph)
        return;
    p->generation++;
    p->final = FALSE;
    LayoutJob *job = g_new0 (LayoutJob, 1);
    job->page = g_object_ref (p);
    job->graph = p->graph;
    job->expanded = board_graph_expanded_set (p->graph->root);
    job->generation = p->generation;
    job->start = g_get_monotonic_time ();
    GTask *task = g_task_new (p, NULL, layout_finished, NULL);
    g_task_set_task_data (task, job, layout_job_free);
    p->tasks++;
    g_task_run_in_thread (task, layout_thread);
    g_object_unref (task);
}

/* ---- loading ---- */

typedef struct {
    GBytes *bytes;
    gboolean text;
    char *name;
} LoadJob;

static void
load_job_free (gpointer data)
{
    LoadJob *j = data;
    g_bytes_unref (j->bytes);
    g_free (j->name);
    g_free (j);
}

static void
load_thread (GTask *task, gpointer source, gpointer data, GCancellable *c)
{
    LoadJob *j = data;
    GError *error = NULL;
    BoardGraph *g;
    if (!j->bytes) {
        g = board_graph_new_from_file (j->name, &error);
    } else {
        gsize size;
        const void *bytes = g_bytes_get_data (j->bytes, &size);
        g = board_graph_new_from_data (bytes, size, j->text, j->name, &error);
    }
    if (g_getenv ("SLUICE_BOARD_TRACE_GRAPH"))
        g_printerr ("graph: read and built in %.0f ms\n",
                    (g_get_monotonic_time () - BOARD_GRAPH_PAGE (source)->load_start) / 1000.0);
    if (g)
        g_task_return_pointer (task, g, NULL);
    else
        g_task_return_error (task, error);
}

static BoardGraphNode *
find_group (BoardGraphNode *n, const char *name)
{
    if (n->children && strcmp (n->name, name) == 0)
        return n;
    if (!n->children)
        return NULL;
    for (guint i = 0; i < n->children->len; i++) {
        BoardGraphNode *c = g_ptr_array_index (n->children, i);
        if (c->children && (g_str_has_prefix (name, c->name) || c->type == BOARD_GRAPH_SERIES)) {
            BoardGraphNode *r = find_group (c, name);
            if (r)
                return r;
        }
    }
    return NULL;
}

static void
loaded (GObject *source, GAsyncResult *res, gpointer data)
{
    BoardGraphPage *p = BOARD_GRAPH_PAGE (source);
    guint gen = GPOINTER_TO_UINT (data);
    GError *error = NULL;
    BoardGraph *g = g_task_propagate_pointer (G_TASK (res), &error);
    p->tasks--;
    p->loading = FALSE;
    if (!g) {
        set_status (p, "cannot read the graph: %s", error->message);
        g_error_free (error);
        p->final = TRUE;
        free_retired (p);
        return;
    }
    if (gen != p->generation) {
        board_graph_free (g);
        free_retired (p);
        return;
    }
    if (p->graph)
        g_ptr_array_add (p->retired, p->graph);
    p->graph = g;
    board_graph_view_set_graph (BOARD_GRAPH_VIEW (p->view), g);
    if (p->pending_expand) {
        BoardGraphNode *n = find_group (g->root, p->pending_expand);
        if (n) {
            board_graph_reveal (g, n);
            n->expanded = TRUE;
        }
        g_clear_pointer (&p->pending_expand, g_free);
    }
    set_status (p, "%u ops \u00b7 laying out\u2026", g->ops->len);
    relayout (p);
    free_retired (p);
}

static void
load (BoardGraphPage *p, GBytes *bytes, gboolean text, const char *name)
{
    p->generation++;
    p->final = FALSE;
    p->loading = TRUE;
    p->load_start = g_get_monotonic_time ();
    p->first_view_ms = -1;
    LoadJob *j = g_new0 (LoadJob, 1);
    j->bytes = bytes ? g_bytes_ref (bytes) : NULL;
    j->text = text;
    j->name = g_strdup (name);
    GTask *task = g_task_new (p, NULL, loaded, GUINT_TO_POINTER (p->generation));
    g_task_set_task_data (task, j, load_job_free);
    p->tasks++;
    g_task_run_in_thread (task, load_thread);
    g_object_unref (task);
    set_status (p, "reading %s\u2026", name);
}

static void
on_source (GObject *o, GParamSpec *pspec, BoardGraphPage *p)
{
    guint i = gtk_drop_down_get_selected (GTK_DROP_DOWN (p->source_drop));
    if (i >= p->source_keys->len)
        return;
    const char *key = g_ptr_array_index (p->source_keys, i);
    /* the drop-down's notify and an explicit call may both come for one
     * choice: read it once (a 20,000-node graph read twice at once took
     * twice as long to show) */
    if (g_strcmp0 (key, p->shown_key) == 0)
        return;
    g_free (p->shown_key);
    p->shown_key = g_strdup (key);
    if (g_str_has_prefix (key, "file:")) {
        load (p, NULL, g_str_has_suffix (key, "txt"), key + 5);
        return;
    }
    BoardRun *run = board_dataset_find_run (p->ds, key + 4);
    BoardSeries *s = run ? board_run_get_series (run, "__run_graph__") : NULL;
    if (!s || s->blobs->len == 0)
        return;
    BoardBlob *b = g_ptr_array_index (s->blobs, s->blobs->len - 1);
    if (b->n_blobs > 0)
        load (p, b->blobs[0], FALSE, key + 4);
}

static void
add_source (BoardGraphPage *p, const char *key, const char *label)
{
    for (guint i = 0; i < p->source_keys->len; i++)
        if (strcmp (g_ptr_array_index (p->source_keys, i), key) == 0)
            return;
    g_ptr_array_add (p->source_keys, g_strdup (key));
    gtk_string_list_append (p->sources, label);
    if (p->source_keys->len == 1)
        on_source (NULL, NULL, p);
}

static void
on_dataset_changed (BoardDataset *ds, BoardGraphPage *p)
{
    GListModel *runs = board_dataset_get_runs (ds);
    for (guint i = 0; i < g_list_model_get_n_items (runs); i++) {
        BoardRun *run = g_list_model_get_item (runs, i);
        BoardSeries *s = board_run_get_series (run, "__run_graph__");
        if (s && s->kind == BOARD_KIND_GRAPH && s->blobs->len > 0) {
            char *key = g_strconcat ("run:", board_run_get_name (run), NULL);
            char *label = g_strdup_printf ("run %s", board_run_get_name (run));
            add_source (p, key, label);
            g_free (label);
            g_free (key);
        }
        g_object_unref (run);
    }
    if (board_dataset_is_complete (ds) && p->source_keys->len == 0 && !p->graph) {
        set_status (p, "No graph in these logs: open a .pb or .pbtxt file (Ctrl+Shift+O).");
        p->final = TRUE;
    }
}

/* ---- details pane ---- */

static void
append_row (GString *s, const char *key, const char *value)
{
    char *k = g_markup_escape_text (key, -1), *v = g_markup_escape_text (value, -1);
    g_string_append_printf (s, "<b>%s</b>  %s\n", k, v);
    g_free (k);
    g_free (v);
}

static void
on_selected (BoardGraphView *view, BoardGraphNode *n, BoardGraphPage *p)
{
    if (!n || !p->graph) {
        gtk_label_set_text (GTK_LABEL (p->details), "Click a node to see its details.\n"
                                                    "Double-click a group to open it.");
        return;
    }
    GString *s = g_string_new (NULL);
    char *name = g_markup_escape_text (n->name, -1);
    g_string_append_printf (s, "<big><b>%s</b></big>\n\n", name);
    g_free (name);
    if (n->type != BOARD_GRAPH_OP) {
        append_row (s, "kind", n->type == BOARD_GRAPH_SERIES ? "series" : "name scope");
        char *c = g_strdup_printf ("%d", n->n_ops);
        append_row (s, "ops", c);
        g_free (c);
        if (n->op)
            append_row (s, "op", n->op);
        if (n->device)
            append_row (s, "device", n->device);
        gtk_label_set_markup (GTK_LABEL (p->details), s->str);
        g_string_free (s, TRUE);
        return;
    }
    const Tensorflow__NodeDef *nd = board_graph_node_def (p->graph, n);
    append_row (s, "op", nd->op ? nd->op : "");
    append_row (s, "device", nd->device && *nd->device ? nd->device : "(unplaced)");
    char *shapes = board_graph_output_shapes (nd);
    if (shapes)
        append_row (s, "output shapes", shapes);
    g_free (shapes);
    g_string_append (s, "\n<b>Attributes</b>\n");
    for (size_t i = 0; i < nd->n_attr; i++) {
        if (!nd->attr[i]->key || !nd->attr[i]->value)
            continue;
        char *v = board_graph_format_attr (nd->attr[i]->value);
        char *ek = g_markup_escape_text (nd->attr[i]->key, -1), *ev = g_markup_escape_text (v, -1);
        g_string_append_printf (s, "  %s = <tt>%s</tt>\n", ek, ev);
        g_free (ek);
        g_free (ev);
        g_free (v);
    }
    g_string_append_printf (s, "\n<b>Inputs</b> (%zu)\n", nd->n_input);
    for (size_t i = 0; i < nd->n_input; i++) {
        char *e = g_markup_escape_text (nd->input[i], -1);
        g_string_append_printf (s, "  %s\n", e);
        g_free (e);
    }
    GPtrArray *outs = board_graph_consumers (p->graph, n);
    g_string_append_printf (s, "\n<b>Outputs</b> (%u)\n", outs->len);
    for (guint i = 0; i < outs->len && i < 50; i++) {
        char *e = g_markup_escape_text (((BoardGraphNode *) g_ptr_array_index (outs, i))->name, -1);
        g_string_append_printf (s, "  %s\n", e);
        g_free (e);
    }
    g_ptr_array_unref (outs);
    gtk_label_set_markup (GTK_LABEL (p->details), s->str);
    g_string_free (s, TRUE);
}

static void
on_activated (BoardGraphView *view, BoardGraphNode *n, BoardGraphPage *p)
{
    if (!n || !n->children)
        return;
    n->expanded = !n->expanded;
    if (!n->expanded) {   /* collapse: quick and final at once */
        n->laid_out = FALSE;
    }
    p->pending_center = n;
    relayout (p);
}

static void
on_search (GtkSearchEntry *e, BoardGraphPage *p)
{
    const char *text = gtk_editable_get_text (GTK_EDITABLE (e));
    if (!p->graph || !*text)
        return;
    GRegex *re = g_regex_new (text, G_REGEX_CASELESS, 0, NULL);
    if (!re) {
        gtk_widget_add_css_class (GTK_WIDGET (e), "error");
        return;
    }
    gtk_widget_remove_css_class (GTK_WIDGET (e), "error");
    if (g_strcmp0 (p->last_search, text) != 0) {
        p->search_index = 0;
        g_free (p->last_search);
        p->last_search = g_strdup (text);
    }
    GPtrArray *hits = board_graph_search (p->graph, re, 0);
    g_regex_unref (re);
    if (hits->len == 0) {
        set_status (p, "no node matches \u201c%s\u201d", text);
    } else {
        BoardGraphNode *n = g_ptr_array_index (hits, (guint) p->search_index % hits->len);
        set_status (p, "match %u of %u: %s", (guint) p->search_index % hits->len + 1, hits->len,
                    n->name);
        p->search_index++;
        board_graph_reveal (p->graph, n);
        board_graph_view_select (BOARD_GRAPH_VIEW (p->view), n);
        p->pending_center = n;
        relayout (p);
    }
    g_ptr_array_unref (hits);
}

static void
on_color (GtkToggleButton *b, BoardGraphPage *p)
{
    board_graph_view_set_color_by_device (BOARD_GRAPH_VIEW (p->view),
                                          gtk_toggle_button_get_active (b));
}

static void
on_fit (GtkButton *b, BoardGraphPage *p)
{
    board_graph_view_fit (BOARD_GRAPH_VIEW (p->view));
    gtk_widget_queue_draw (p->view);
}

static void
board_graph_page_dispose (GObject *o)
{
    BoardGraphPage *p = BOARD_GRAPH_PAGE (o);
    if (p->ds)
        g_signal_handlers_disconnect_by_data (p->ds, p);
    g_clear_object (&p->ds);
    G_OBJECT_CLASS (board_graph_page_parent_class)->dispose (o);
}

static void
board_graph_page_finalize (GObject *o)
{
    BoardGraphPage *p = BOARD_GRAPH_PAGE (o);
    /* tasks hold a reference, so none runs now */
    board_graph_free (p->graph);
    g_ptr_array_unref (p->retired);
    g_ptr_array_unref (p->source_keys);
    g_free (p->pending_expand);
    g_free (p->last_search);
    g_free (p->shown_key);
    G_OBJECT_CLASS (board_graph_page_parent_class)->finalize (o);
}

static void
board_graph_page_class_init (BoardGraphPageClass *klass)
{
    G_OBJECT_CLASS (klass)->dispose = board_graph_page_dispose;
    G_OBJECT_CLASS (klass)->finalize = board_graph_page_finalize;
}

static void
board_graph_page_init (BoardGraphPage *p)
{
    p->retired = g_ptr_array_new_with_free_func ((GDestroyNotify) board_graph_free);
    p->source_keys = g_ptr_array_new_with_free_func (g_free);
    p->first_view_ms = -1;
}

GtkWidget *
board_graph_page_new (BoardDataset *ds)
{
    BoardGraphPage *p = g_object_new (BOARD_TYPE_GRAPH_PAGE, "orientation",
                                      GTK_ORIENTATION_HORIZONTAL, NULL);
    p->ds = g_object_ref (ds);
    GtkWidget *left = gtk_box_new (GTK_ORIENTATION_VERTICAL, 0);
    gtk_widget_set_hexpand (left, TRUE);
    GtkWidget *bar = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 8);
    gtk_widget_set_margin_start (bar, 8);
    gtk_widget_set_margin_end (bar, 8);
    gtk_widget_set_margin_top (bar, 6);
    gtk_widget_set_margin_bottom (bar, 6);
    p->sources = gtk_string_list_new (NULL);
    p->source_drop = gtk_drop_down_new (G_LIST_MODEL (p->sources), NULL);
    gtk_widget_set_tooltip_text (p->source_drop, "Graph to show");
    g_signal_connect (p->source_drop, "notify::selected", G_CALLBACK (on_source), p);
    gtk_box_append (GTK_BOX (bar), p->source_drop);
    p->search = gtk_search_entry_new ();
    g_object_set (p->search, "placeholder-text",
                                           "Find node (regex, Enter for next)", NULL);
    gtk_widget_set_size_request (p->search, 240, -1);
    g_signal_connect (p->search, "activate", G_CALLBACK (on_search), p);
    gtk_box_append (GTK_BOX (bar), p->search);
    GtkWidget *color = gtk_toggle_button_new_with_label ("Color by device");
    g_signal_connect (color, "toggled", G_CALLBACK (on_color), p);
    gtk_box_append (GTK_BOX (bar), color);
    GtkWidget *fit = gtk_button_new_with_label ("Fit");
    g_signal_connect (fit, "clicked", G_CALLBACK (on_fit), p);
    gtk_box_append (GTK_BOX (bar), fit);
    gtk_box_append (GTK_BOX (left), bar);
    p->view = board_graph_view_new ();
    g_signal_connect (p->view, "node-selected", G_CALLBACK (on_selected), p);
    g_signal_connect (p->view, "node-activated", G_CALLBACK (on_activated), p);
    /* the status ("118 ops · 12 scopes · …") sits on the canvas's lower
     * left corner: at the end of the toolbar it was cut off */
    GtkWidget *overlay = gtk_overlay_new ();
    gtk_overlay_set_child (GTK_OVERLAY (overlay), p->view);
    p->status = gtk_label_new ("");
    gtk_widget_add_css_class (p->status, "board-graph-status");
    gtk_label_set_wrap (GTK_LABEL (p->status), TRUE);
    gtk_label_set_xalign (GTK_LABEL (p->status), 0);
    gtk_widget_set_halign (p->status, GTK_ALIGN_START);
    gtk_widget_set_valign (p->status, GTK_ALIGN_END);
    gtk_widget_set_can_target (p->status, FALSE);
    gtk_overlay_add_overlay (GTK_OVERLAY (overlay), p->status);
    gtk_box_append (GTK_BOX (left), overlay);

    GtkWidget *pane = gtk_paned_new (GTK_ORIENTATION_HORIZONTAL);
    gtk_paned_set_start_child (GTK_PANED (pane), left);
    gtk_paned_set_resize_start_child (GTK_PANED (pane), TRUE);
    p->details = gtk_label_new (NULL);
    gtk_label_set_xalign (GTK_LABEL (p->details), 0);
    gtk_label_set_yalign (GTK_LABEL (p->details), 0);
    gtk_label_set_wrap (GTK_LABEL (p->details), TRUE);
    gtk_label_set_wrap_mode (GTK_LABEL (p->details), PANGO_WRAP_WORD_CHAR);
    gtk_label_set_selectable (GTK_LABEL (p->details), TRUE);
    gtk_widget_set_margin_start (p->details, 10);
    gtk_widget_set_margin_end (p->details, 10);
    gtk_widget_set_margin_top (p->details, 10);
    GtkWidget *sw = gtk_scrolled_window_new ();
    gtk_scrolled_window_set_child (GTK_SCROLLED_WINDOW (sw), p->details);
    gtk_scrolled_window_set_policy (GTK_SCROLLED_WINDOW (sw), GTK_POLICY_NEVER,
                                    GTK_POLICY_AUTOMATIC);
    gtk_widget_set_size_request (sw, 280, -1);
    gtk_paned_set_end_child (GTK_PANED (pane), sw);
    gtk_paned_set_resize_end_child (GTK_PANED (pane), FALSE);
    gtk_paned_set_shrink_end_child (GTK_PANED (pane), FALSE);
    gtk_widget_set_hexpand (pane, TRUE);
    gtk_box_append (GTK_BOX (p), pane);
    on_selected (NULL, NULL, p);

    g_signal_connect (ds, "changed", G_CALLBACK (on_dataset_changed), p);
    on_dataset_changed (ds, p);
    return GTK_WIDGET (p);
}

void
board_graph_page_open_file (BoardGraphPage *p, const char *path)
{
    char *key = g_strconcat ("file:", path, NULL);
    char *base = g_path_get_basename (path);
    gboolean existed = FALSE;
    g_clear_pointer (&p->shown_key, g_free);   /* opening a file again reads it again */
    for (guint i = 0; i < p->source_keys->len; i++)
        if (strcmp (g_ptr_array_index (p->source_keys, i), key) == 0) {
            gtk_drop_down_set_selected (GTK_DROP_DOWN (p->source_drop), i);
            existed = TRUE;
        }
    if (!existed) {
        add_source (p, key, base);
        gtk_drop_down_set_selected (GTK_DROP_DOWN (p->source_drop), p->source_keys->len - 1);
    }
    on_source (NULL, NULL, p);
    g_free (base);
    g_free (key);
}

void
board_graph_page_focus_search (BoardGraphPage *p)
{
    gtk_widget_grab_focus (p->search);
}

void
board_graph_page_expand (BoardGraphPage *p, const char *group_name)
{
    if (p->graph && !p->loading) {
        BoardGraphNode *n = find_group (p->graph->root, group_name);
        if (n) {
            board_graph_reveal (p->graph, n);
            n->expanded = TRUE;
            relayout (p);
        }
        return;
    }
    g_free (p->pending_expand);
    p->pending_expand = g_strdup (group_name);
}

gboolean
board_graph_page_is_ready (BoardGraphPage *p)
{
    return p->final && p->tasks == 0;
}

BoardGraphView *
board_graph_page_get_view (BoardGraphPage *p)
{
    return BOARD_GRAPH_VIEW (p->view);
}

BoardGraph *
board_graph_page_get_graph (BoardGraphPage *p)
{
    return p->graph;
}

double
board_graph_page_first_view_ms (BoardGraphPage *p)
{
    return p->first_view_ms;
}
