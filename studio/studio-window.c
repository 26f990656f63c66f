/* The studio window (see the header). */
#include "config.h"

#include "studio-window.h"

#include <stdio.h>
#include <string.h>

#include "studio-inspector.h"
#include "studio-layout.h"
#include "studio-palette.h"
#include "studio-problems.h"
#include "studio-run.h"
#include "studio-runs-panel.h"
#include "studio-setup-dialog.h"
#include "studio-templates.h"
#include "studio-validate.h"

struct _StudioWindow {
    GtkApplicationWindow parent_instance;
    StudioDocument *doc;
    StudioGraphCanvas *canvas;
    StudioPalette *palette;
    StudioInspector *inspector;
    GtkWidget *problems;
    GtkLabel *status;
    GtkRevealer *banner;
    GtkLabel *banner_label;
    guint banner_timeout;
    GtkPopover *add_popover;
    StudioPalette *add_palette;
    double add_x, add_y;
    char *add_from;          /* "node:k" of a dropped wire, or NULL */
    StudioRunsPanel *runs;
    GtkNotebook *bottom;
    GtkPaned *center;
    GtkWidget *setup;        /* the training setup dialog while open */
    gboolean closing_ok;
    gboolean run_asked;
    GtkWidget *run_prompt;   /* "stop or leave running?" while it asks */
    guint stop_wait_id;      /* closing once the stopped run has exited */
    gint64 stop_wait_start;
    gboolean ready;
    guint trace_id;
    char *last_trace;
};

G_DEFINE_FINAL_TYPE (StudioWindow, studio_window, GTK_TYPE_APPLICATION_WINDOW)

/* ---- banner, title, status -------------------------------------------- */

static gboolean
hide_banner (gpointer data)
{
    StudioWindow *w = data;
    w->banner_timeout = 0;
    gtk_revealer_set_reveal_child (w->banner, FALSE);
    gtk_label_set_text (w->banner_label, "");
    return G_SOURCE_REMOVE;
}

static void
show_banner (StudioWindow *w, const char *text)
{
    gtk_label_set_text (w->banner_label, text);
    gtk_revealer_set_reveal_child (w->banner, TRUE);
    g_clear_handle_id (&w->banner_timeout, g_source_remove);
    w->banner_timeout = g_timeout_add_seconds (8, hide_banner, w);
    g_printerr ("sluice-studio: %s\n", text);
}

const char *
studio_window_get_banner (StudioWindow *w)
{
    return gtk_label_get_text (w->banner_label);
}

static void
update_title (StudioWindow *w)
{
    const char *path = studio_document_get_path (w->doc);
    char *base = path ? g_path_get_basename (path) : g_strdup ("Untitled graph");
    char *t = g_strdup_printf ("%s%s \u2014 Sluice Studio", studio_document_is_modified (w->doc) ? "\u2022 " : "",
                               base);
    gtk_window_set_title (GTK_WINDOW (w), t);
    g_free (t);
    g_free (base);
}

static void
update_status (StudioWindow *w)
{
    int n = studio_document_get_n_nodes (w->doc), bad = studio_document_count_problems (w->doc);
    char **sel = studio_graph_canvas_get_selection (w->canvas);
    guint ns = g_strv_length (sel);
    g_strfreev (sel);
    char *problems = bad ? g_strdup_printf ("%d problem%s", bad, bad == 1 ? "" : "s")
                         : g_strdup ("no problems");
    char *t = g_strdup_printf ("%d nodes \u00b7 %s \u00b7 %u selected%s", n, problems, ns,
                               studio_runs_panel_is_training (w->runs) ? " \u00b7 training\u2026" : "");
    g_free (problems);
    gtk_label_set_text (w->status, t);
    g_free (t);
}

static void
trace (StudioWindow *w)
{
    /* SLUICE_STUDIO_TRACE: what the canvas shows, for the user-level test */
    if (!g_getenv ("SLUICE_STUDIO_TRACE"))
        return;
    GString *s = g_string_new (NULL);
    GtkNative *native = gtk_widget_get_native (GTK_WIDGET (w->canvas));
    double sx = 0, sy = 0;
    gtk_native_get_surface_transform (native, &sx, &sy);
    graphene_point_t origin;
    if (!gtk_widget_compute_point (GTK_WIDGET (w->canvas), GTK_WIDGET (native), &GRAPHENE_POINT_INIT (0, 0),
                                   &origin))
        origin.x = origin.y = 0;
    double ox = origin.x + sx, oy = origin.y + sy;   /* canvas -> surface */
    g_string_append_printf (s, "canvas %.0f %.0f %d %d\n", ox, oy, gtk_widget_get_width (GTK_WIDGET (w->canvas)),
                            gtk_widget_get_height (GTK_WIDGET (w->canvas)));
    for (int i = 0; i < studio_document_get_n_nodes (w->doc); i++) {
        const StudioNode *n = studio_document_get_node (w->doc, i);
        graphene_rect_t r;
        if (studio_graph_canvas_get_node_rect (w->canvas, n->def->name, &r))
            g_string_append_printf (s, "node %s %.0f %.0f %.0f %.0f\n", n->def->name, r.origin.x + ox,
                                    r.origin.y + oy, r.size.width, r.size.height);
        for (int k = 0; k < n->n_outputs; k++) {
            char *d = studio_port_describe (&n->outputs[k]);
            g_string_append_printf (s, "shape %s:%d %s\n", n->def->name, k, d);
            g_free (d);
        }
        for (int pass = 0; pass < 2; pass++)
            for (int k = 0; k < (pass ? n->n_outputs : n->n_inputs); k++) {
                double x, y;
                if (studio_graph_canvas_get_port_point (w->canvas, n->def->name, pass == 0, k, &x, &y))
                    g_string_append_printf (s, "port %s %s %d %.0f %.0f\n", n->def->name, pass ? "out" : "in",
                                            k, x + ox, y + oy);
            }
        if (n->state != STUDIO_NODE_OK)
            g_string_append_printf (s, "problem %s %s\n", n->def->name, n->message);
    }
    char **sel = studio_graph_canvas_get_selection (w->canvas);
    for (int k = 0; sel[k]; k++)
        g_string_append_printf (s, "selected %s\n", sel[k]);
    g_strfreev (sel);
    const char *banner = gtk_label_get_text (w->banner_label);
    if (banner && *banner)
        g_string_append_printf (s, "banner %s\n", banner);
    g_string_append_printf (s, "popover %d\n", gtk_widget_get_visible (GTK_WIDGET (w->add_popover)));
    if (gtk_widget_get_visible (GTK_WIDGET (w->add_popover)))
        g_string_append_printf (s, "addsearch %s\n",
                                gtk_editable_get_text (studio_palette_get_search (w->add_palette)));
    g_string_append_printf (s, "modified %d\n", studio_document_is_modified (w->doc));
    if (studio_runs_panel_get_dir (w->runs)) {
        gint64 step, steps;
        studio_runs_panel_get_progress (w->runs, &step, &steps);
        g_string_append_printf (s, "run %s %" G_GINT64_FORMAT " %" G_GINT64_FORMAT " %" G_GINT64_FORMAT " %s\n",
                                studio_runs_panel_get_status (w->runs), step, steps,
                                studio_runs_panel_get_chart_points (w->runs), studio_runs_panel_get_dir (w->runs));
    }
    g_string_append_printf (s, "setup %d\n", w->setup != NULL);
    if (w->setup)
        studio_setup_dialog_describe (w->setup, s);
    if (studio_runs_panel_get_dir (w->runs)) {
        g_string_append_printf (s, "runpid %" G_GINT64_FORMAT "\n", studio_runs_panel_get_pid (w->runs));
        const char *log = studio_runs_panel_get_log (w->runs);
        const char *nl = log ? strrchr (log, '\n') : NULL;
        if (log && *log)
            g_string_append_printf (s, "runlog %s\n", nl ? nl + 1 : log);
    }
    g_string_append_printf (s, "prompt %d\n", w->run_prompt != NULL);
    if (studio_graph_canvas_get_show_times (w->canvas)) {
        int badges = 0;
        for (int i = 0; i < studio_document_get_n_nodes (w->doc); i++) {
            char *b = studio_graph_canvas_get_time_badge (w->canvas, studio_document_get_node (w->doc, i)->def->name);
            badges += b != NULL;
            g_free (b);
        }
        g_string_append_printf (s, "times %d\n", badges);
    }
    if (g_strcmp0 (s->str, w->last_trace) != 0) {
        g_print ("begin\n%send\n", s->str);
        fflush (stdout);
        g_free (w->last_trace);
        w->last_trace = g_string_free (s, FALSE);
    } else {
        g_string_free (s, TRUE);
    }
}

static gboolean
trace_tick (gpointer data)
{
    trace (data);
    return G_SOURCE_CONTINUE;
}

static void
doc_changed (StudioDocument *doc, StudioWindow *w)
{
    update_title (w);
    update_status (w);
    const char *sel = studio_graph_canvas_get_selected (w->canvas);
    studio_inspector_show (w->inspector, sel);
}

static void
selection_changed (StudioGraphCanvas *c, StudioWindow *w)
{
    studio_inspector_show (w->inspector, studio_graph_canvas_get_selected (c));
    update_status (w);
}

static void
canvas_message (StudioGraphCanvas *c, const char *text, StudioWindow *w)
{
    show_banner (w, text);
}

static void
problem_activated (StudioProblems *p, const char *name, StudioWindow *w)
{
    studio_window_select (w, name);
}

/* ---- adding nodes -------------------------------------------------------- */

/* Adds an op or template at (x, y), fed by `from` when set. */
static void
add_item (StudioWindow *w, const char *item, double x, double y, const char *from)
{
    GError *e = NULL;
    char *added = NULL;
    gboolean ok;
    if (g_str_has_prefix (item, "template:")) {
        ok = studio_template_apply (w->doc, item + 9, from, 0, x, y, &added, &e);
    } else {
        studio_document_begin (w->doc, "Add node");
        ok = studio_document_add_node (w->doc, item + 3, NULL, x, y, &added, &e);
        if (ok && from) {
            int idx;
            char *src = studio_parse_input (from, &idx);
            const StudioNode *n = studio_document_find (w->doc, added, NULL);
            /* the first input that takes the wire */
            for (int k = 0; n && k < n->n_inputs; k++)
                if (studio_document_connect (w->doc, src, idx, added, k, NULL))
                    break;
            g_free (src);
        }
        studio_document_end (w->doc);
    }
    if (!ok)
        show_banner (w, e->message);
    else if (added)
        studio_graph_canvas_select (w->canvas, added, FALSE);
    g_clear_error (&e);
    g_free (added);
    gtk_widget_grab_focus (GTK_WIDGET (w->canvas));
}

static void
palette_activated (StudioPalette *p, const char *item, StudioWindow *w)
{
    double x, y;
    studio_graph_canvas_get_cursor (w->canvas, &x, &y);
    /* a selected node's output feeds a layer added from the palette */
    const char *sel = studio_graph_canvas_get_selected (w->canvas);
    char *from = NULL;
    if (sel && g_str_has_prefix (item, "template:") && !strstr (item, "mnist")) {
        const StudioNode *n = studio_document_find (w->doc, sel, NULL);
        if (n && n->n_outputs) {
            double nw, nh;
            studio_node_size (n, &nw, &nh);
            from = g_strdup (sel);
            x = n->x;
            y = n->y + nh + 80;
        }
    }
    add_item (w, item, x, y, from);
    g_free (from);
}

static void
add_palette_activated (StudioPalette *p, const char *item, StudioWindow *w)
{
    gtk_popover_popdown (w->add_popover);
    add_item (w, item, w->add_x, w->add_y, w->add_from);
}

static void
add_requested (StudioGraphCanvas *c, double gx, double gy, const char *from, StudioWindow *w)
{
    w->add_x = gx;
    w->add_y = gy;
    g_free (w->add_from);
    w->add_from = g_strdup (from);
    studio_palette_reset (w->add_palette);
    if (from) {
        int idx;
        char *src = studio_parse_input (from, &idx);
        const StudioNode *n = studio_document_find (w->doc, src, NULL);
        if (n && idx < n->n_outputs)
            studio_palette_set_dtype_filter (w->add_palette, n->outputs[idx].dtype);
        g_free (src);
    }
    /* point the popover at the pointer (widget coordinates) */
    graphene_rect_t r;
    double px = gtk_widget_get_width (GTK_WIDGET (c)) / 2.0, py = gtk_widget_get_height (GTK_WIDGET (c)) / 2.0;
    {
        GdkSurface *s = gtk_native_get_surface (gtk_widget_get_native (GTK_WIDGET (c)));
        GdkSeat *seat = gdk_display_get_default_seat (gtk_widget_get_display (GTK_WIDGET (c)));
        GdkDevice *ptr = seat ? gdk_seat_get_pointer (seat) : NULL;
        double sx, sy;
        if (ptr && gdk_surface_get_device_position (s, ptr, &sx, &sy, NULL)) {
            graphene_point_t out;
            double tx, ty;
            gtk_native_get_surface_transform (gtk_widget_get_native (GTK_WIDGET (c)), &tx, &ty);
            if (gtk_widget_compute_point (GTK_WIDGET (gtk_widget_get_native (GTK_WIDGET (c))), GTK_WIDGET (c),
                                          &GRAPHENE_POINT_INIT ((float) (sx - tx), (float) (sy - ty)), &out)) {
                px = out.x;
                py = out.y;
            }
        }
    }
    graphene_rect_init (&r, (float) px, (float) py, 1, 1);
    GdkRectangle rect = { (int) r.origin.x, (int) r.origin.y, 1, 1 };
    gtk_popover_set_pointing_to (w->add_popover, &rect);
    gtk_popover_popup (w->add_popover);
    gtk_widget_grab_focus (GTK_WIDGET (studio_palette_get_search (w->add_palette)));
}

/* ---- files ------------------------------------------------------------- */

static void
remember_recent (const char *path)
{
    char *uri = g_filename_to_uri (path, NULL, NULL);
    if (uri) {
        GtkRecentData data = { .display_name = NULL, .description = NULL,
                               .mime_type = (char *) "application/octet-stream",
                               .app_name = (char *) "sluice-studio",
                               .app_exec = (char *) "sluice-studio %f" };
        gtk_recent_manager_add_full (gtk_recent_manager_get_default (), uri, &data);
        g_free (uri);
    }
}

static gboolean
finish_ready (gpointer data)
{
    StudioWindow *w = data;
    w->ready = TRUE;
    return G_SOURCE_REMOVE;
}

gboolean
studio_window_open (StudioWindow *w, const char *path)
{
    GError *e = NULL;
    w->ready = FALSE;
    /* scopes open and no relayout until the new graph says otherwise */
    studio_graph_canvas_set_auto_layout (w->canvas, FALSE);
    studio_graph_canvas_collapse_all (w->canvas, FALSE);
    if (!g_file_test (path, G_FILE_TEST_EXISTS)) {
        studio_document_clear (w->doc);
        studio_document_set_path (w->doc, path);
        update_title (w);
        w->ready = TRUE;
        return TRUE;
    }
    if (!studio_document_load (w->doc, path, &e)) {
        show_banner (w, e->message);
        g_error_free (e);
        w->ready = TRUE;
        return FALSE;
    }
    /* a graph without positions (one from TF) gets the layered layout;
     * that is not an edit of the user's.  A big one opens with its name
     * scopes collapsed, as TensorBoard's graph view does: the first view
     * shows a few group boxes, readable, and each opens where it is
     * (auto layout: the graph is laid out again around it). */
    gboolean missing = FALSE;
    int n = studio_document_get_n_nodes (w->doc);
    for (int i = 0; i < n && !missing; i++)
        missing = !studio_document_get_node (w->doc, i)->has_position;
    if (missing) {
        studio_graph_canvas_set_auto_layout (w->canvas, TRUE);
        studio_graph_canvas_collapse_all (w->canvas, n > STUDIO_COLLAPSE_NODES);
        studio_document_forget_history (w->doc);
    }
    remember_recent (path);
    studio_graph_canvas_fit_first (w->canvas);
    g_idle_add (finish_ready, w);
    update_title (w);
    return TRUE;
}

gboolean
studio_window_is_ready (StudioWindow *w)
{
    return w->ready;
}

/* Opens a graph the user picked: here, or in a new window when this one
 * has unsaved changes (they are not thrown away).  A file that cannot be
 * read is reported here and opens no window. */
static void
open_path (StudioWindow *w, const char *path)
{
    if (!studio_document_is_modified (w->doc)) {
        studio_window_open (w, path);
        return;
    }
    StudioDocument *probe = studio_document_new ();
    GError *e = NULL;
    gboolean ok = !g_file_test (path, G_FILE_TEST_EXISTS) || studio_document_load (probe, path, &e);
    g_object_unref (probe);
    if (!ok) {
        show_banner (w, e->message);
        g_error_free (e);
        return;
    }
    StudioWindow *nw = studio_window_new (gtk_window_get_application (GTK_WINDOW (w)));
    int width, height;
    gtk_window_get_default_size (GTK_WINDOW (w), &width, &height);
    gtk_window_set_default_size (GTK_WINDOW (nw), width, height);
    gtk_window_present (GTK_WINDOW (nw));
    studio_window_open (nw, path);
}

static void
open_response (GtkNativeDialog *d, int response, StudioWindow *w)
{
    if (response == GTK_RESPONSE_ACCEPT) {
        GFile *f = gtk_file_chooser_get_file (GTK_FILE_CHOOSER (d));
        char *path = g_file_get_path (f);
        open_path (w, path);
        g_free (path);
        g_object_unref (f);
    }
    g_object_unref (d);
}

static void
act_open (GSimpleAction *a, GVariant *p, gpointer data)
{
    StudioWindow *w = data;
    GtkFileChooserNative *d = gtk_file_chooser_native_new ("Open graph", GTK_WINDOW (w),
                                                           GTK_FILE_CHOOSER_ACTION_OPEN, "_Open", "_Cancel");
    GtkFileFilter *f = gtk_file_filter_new ();
    gtk_file_filter_set_name (f, "GraphDef (.pb, .pbtxt)");
    gtk_file_filter_add_pattern (f, "*.pb");
    gtk_file_filter_add_pattern (f, "*.pbtxt");
    gtk_file_chooser_add_filter (GTK_FILE_CHOOSER (d), f);
    g_signal_connect (d, "response", G_CALLBACK (open_response), w);
    gtk_native_dialog_show (GTK_NATIVE_DIALOG (d));
}

static void
act_open_recent (GSimpleAction *a, GVariant *p, gpointer data)
{
    open_path (data, g_variant_get_string (p, NULL));
}

static gboolean
save_to (StudioWindow *w, const char *path)
{
    GError *e = NULL;
    if (!studio_document_save (w->doc, path, &e)) {
        show_banner (w, e->message);
        g_error_free (e);
        return FALSE;
    }
    remember_recent (path);
    update_title (w);
    if (g_getenv ("SLUICE_STUDIO_TRACE")) {
        g_print ("saved %s\n", path);
        fflush (stdout);
    }
    return TRUE;
}

static void
save_as_response (GtkNativeDialog *d, int response, StudioWindow *w)
{
    if (response == GTK_RESPONSE_ACCEPT) {
        GFile *f = gtk_file_chooser_get_file (GTK_FILE_CHOOSER (d));
        char *path = g_file_get_path (f);
        save_to (w, path);
        g_free (path);
        g_object_unref (f);
    }
    g_object_unref (d);
}

static void
act_save_as (GSimpleAction *a, GVariant *p, gpointer data)
{
    StudioWindow *w = data;
    GtkFileChooserNative *d = gtk_file_chooser_native_new ("Save graph", GTK_WINDOW (w),
                                                           GTK_FILE_CHOOSER_ACTION_SAVE, "_Save", "_Cancel");
    gtk_file_chooser_set_current_name (GTK_FILE_CHOOSER (d), "graph.pbtxt");
    g_signal_connect (d, "response", G_CALLBACK (save_as_response), w);
    gtk_native_dialog_show (GTK_NATIVE_DIALOG (d));
}

static void
act_save (GSimpleAction *a, GVariant *p, gpointer data)
{
    StudioWindow *w = data;
    const char *path = studio_document_get_path (w->doc);
    if (path)
        save_to (w, path);
    else
        act_save_as (a, p, data);
}

/* ---- edits ------------------------------------------------------------ */

static void
act_undo (GSimpleAction *a, GVariant *p, gpointer data)
{
    studio_document_undo (STUDIO_WINDOW (data)->doc);
}

static void
act_redo (GSimpleAction *a, GVariant *p, gpointer data)
{
    studio_document_redo (STUDIO_WINDOW (data)->doc);
}

static gboolean
text_has_focus (StudioWindow *w)
{
    GtkWidget *f = gtk_root_get_focus (GTK_ROOT (w));
    return f && (GTK_IS_TEXT (f) || GTK_IS_EDITABLE (f));
}

static void
act_delete (GSimpleAction *a, GVariant *p, gpointer data)
{
    StudioWindow *w = data;
    if (text_has_focus (w)) {
        GtkWidget *f = gtk_root_get_focus (GTK_ROOT (w));
        int start, end;
        if (gtk_editable_get_selection_bounds (GTK_EDITABLE (f), &start, &end))
            gtk_editable_delete_selection (GTK_EDITABLE (f));
        else
            gtk_editable_delete_text (GTK_EDITABLE (f), gtk_editable_get_position (GTK_EDITABLE (f)),
                                      gtk_editable_get_position (GTK_EDITABLE (f)) + 1);
        return;
    }
    char **sel = studio_graph_canvas_get_selection (w->canvas);
    studio_document_delete_nodes (w->doc, (const char *const *) sel, NULL);
    g_strfreev (sel);
}

static void
act_copy (GSimpleAction *a, GVariant *p, gpointer data)
{
    StudioWindow *w = data;
    char **sel = studio_graph_canvas_get_selection (w->canvas);
    if (sel[0]) {
        char *text = studio_document_copy (w->doc, (const char *const *) sel);
        gdk_clipboard_set_text (gtk_widget_get_clipboard (GTK_WIDGET (w)), text);
        g_free (text);
    }
    g_strfreev (sel);
}

static void
paste_text (StudioWindow *w, const char *text, double dx, double dy)
{
    GError *e = NULL;
    char **names = NULL;
    if (!studio_document_paste (w->doc, text, dx, dy, &names, &e)) {
        show_banner (w, e->message);
        g_error_free (e);
        return;
    }
    studio_graph_canvas_select (w->canvas, NULL, FALSE);
    for (int k = 0; names[k]; k++)
        studio_graph_canvas_select (w->canvas, names[k], TRUE);
    g_strfreev (names);
}

static void
pasted (GObject *src, GAsyncResult *res, gpointer data)
{
    StudioWindow *w = data;
    char *text = gdk_clipboard_read_text_finish (GDK_CLIPBOARD (src), res, NULL);
    if (text)
        paste_text (w, text, 40, 40);
    g_free (text);
    g_object_unref (w);
}

static void
act_paste (GSimpleAction *a, GVariant *p, gpointer data)
{
    StudioWindow *w = data;
    gdk_clipboard_read_text_async (gtk_widget_get_clipboard (GTK_WIDGET (w)), NULL, pasted, g_object_ref (w));
}

static void
act_duplicate (GSimpleAction *a, GVariant *p, gpointer data)
{
    StudioWindow *w = data;
    char **sel = studio_graph_canvas_get_selection (w->canvas);
    if (sel[0]) {
        char *text = studio_document_copy (w->doc, (const char *const *) sel);
        paste_text (w, text, 40, 40);
        g_free (text);
    }
    g_strfreev (sel);
}

static void
act_select_all (GSimpleAction *a, GVariant *p, gpointer data)
{
    StudioWindow *w = data;
    if (!text_has_focus (w))
        studio_graph_canvas_select_all (w->canvas);
}

static void
act_find (GSimpleAction *a, GVariant *p, gpointer data)
{
    StudioWindow *w = data;
    gtk_widget_grab_focus (GTK_WIDGET (studio_palette_get_search (w->palette)));
}

static void
act_add_node (GSimpleAction *a, GVariant *p, gpointer data)
{
    StudioWindow *w = data;
    double x, y;
    studio_graph_canvas_get_cursor (w->canvas, &x, &y);
    add_requested (w->canvas, x, y, NULL, w);
}

static void
act_arrange (GSimpleAction *a, GVariant *p, gpointer data)
{
    StudioWindow *w = data;
    char **sel = studio_graph_canvas_get_selection (w->canvas);
    GError *e = NULL;
    /* the whole graph: collapsed scopes as boxes, as the canvas shows them */
    gboolean all = g_strv_length (sel) <= 1;
    if (!studio_document_arrange_collapsed (w->doc, all ? NULL : (const char *const *) sel,
                                            all ? studio_graph_canvas_get_collapsed_set (w->canvas) : NULL,
                                            FALSE, &e)) {
        show_banner (w, e->message);
        g_error_free (e);
    }
    if (g_strv_length (sel) <= 1)
        studio_graph_canvas_fit (w->canvas);
    g_strfreev (sel);
}

static void
act_fit (GSimpleAction *a, GVariant *p, gpointer data)
{
    studio_graph_canvas_fit (STUDIO_WINDOW (data)->canvas);
}

static void
act_group (GSimpleAction *a, GVariant *p, gpointer data)
{
    StudioWindow *w = data;
    char **sel = studio_graph_canvas_get_selection (w->canvas);
    if (sel[0]) {
        char *scope = NULL;
        for (int k = 1;; k++) {
            scope = g_strdup_printf ("group_%d", k);
            gboolean used = FALSE;
            for (int i = 0; i < studio_document_get_n_nodes (w->doc) && !used; i++)
                used = g_str_has_prefix (studio_document_get_node (w->doc, i)->def->name, scope);
            if (!used)
                break;
            g_free (scope);
        }
        GError *e = NULL;
        if (!studio_document_group (w->doc, (const char *const *) sel, scope, &e)) {
            show_banner (w, e->message);
            g_error_free (e);
        }
        g_free (scope);
    }
    g_strfreev (sel);
}

static void
act_ungroup (GSimpleAction *a, GVariant *p, gpointer data)
{
    StudioWindow *w = data;
    const char *sel = studio_graph_canvas_get_selected (w->canvas);
    const char *slash = sel ? strrchr (sel, '/') : NULL;
    if (!slash) {
        show_banner (w, "select a node inside a scope to take the scope apart");
        return;
    }
    char *scope = g_strndup (sel, (gsize) (slash - sel));
    GError *e = NULL;
    if (!studio_document_ungroup (w->doc, scope, &e)) {
        show_banner (w, e->message);
        g_error_free (e);
    }
    g_free (scope);
}

static gboolean
fit_later (gpointer data)
{
    /* readable, as a first view: a run's graph fitted into the smaller
     * canvas was too small to read its labels and op times */
    studio_graph_canvas_fit_first (STUDIO_WINDOW (data)->canvas);
    return G_SOURCE_REMOVE;
}

static void
show_runs (StudioWindow *w)
{
    gtk_notebook_set_current_page (w->bottom, 1);
    int h = gtk_widget_get_height (GTK_WIDGET (w->center));
    if (h > 0 && gtk_paned_get_position (w->center) > h - 280)
        gtk_paned_set_position (w->center, MAX (h - 300, h / 3));
    /* the canvas got smaller: the graph fitted again once it is laid out */
    g_timeout_add_full (G_PRIORITY_DEFAULT, 250, fit_later, g_object_ref (w), g_object_unref);
}

static gboolean
setup_done (StudioRunSetup *setup, char **message, gpointer data)
{
    StudioWindow *w = data;
    GError *e = NULL;
    if (!studio_runs_panel_start (w->runs, w->doc, setup, &e)) {
        *message = g_strdup (e->message);
        g_error_free (e);
        return FALSE;
    }
    char *t = g_strdup_printf ("training started in %s", studio_runs_panel_get_dir (w->runs));
    show_banner (w, t);
    g_free (t);
    show_runs (w);
    update_status (w);
    return TRUE;
}

static void
setup_destroyed (GtkWidget *d, gpointer data)
{
    STUDIO_WINDOW (data)->setup = NULL;
}

static void
act_run (GSimpleAction *a, GVariant *p, gpointer data)
{
    StudioWindow *w = data;
    if (studio_runs_panel_is_training (w->runs)) {
        show_banner (w, "a run is in progress: stop it in the Runs tab first");
        show_runs (w);
        return;
    }
    if (studio_document_count_problems (w->doc) > 0) {
        show_banner (w, "fix the problems listed below before running");
        return;
    }
    if (w->setup) {
        gtk_window_present (GTK_WINDOW (w->setup));
        return;
    }
    w->setup = studio_setup_dialog_show (GTK_WINDOW (w), studio_run_setup_guess (w->doc), setup_done, w);
    g_signal_connect_object (w->setup, "destroy", G_CALLBACK (setup_destroyed), w, 0);
}

static void
act_stop_run (GSimpleAction *a, GVariant *p, gpointer data)
{
    studio_runs_panel_stop (STUDIO_WINDOW (data)->runs);
}

static void
act_show_times (GSimpleAction *a, GVariant *p, gpointer data)
{
    StudioWindow *w = data;
    GVariant *st = g_action_get_state (G_ACTION (a));
    gboolean on = !g_variant_get_boolean (st);
    g_variant_unref (st);
    g_simple_action_set_state (a, g_variant_new_boolean (on));
    studio_graph_canvas_set_show_times (w->canvas, on);
    gint64 step;
    if (on && !studio_runs_panel_get_node_times (w->runs, &step))
        show_banner (w, "no op times yet: they come from a run that records them (Op times every N steps "
                        "in the training setup); select it in the Runs tab");
}

static void
node_times_changed (StudioRunsPanel *p, StudioWindow *w)
{
    gint64 step;
    GHashTable *t = studio_runs_panel_get_node_times (p, &step);
    studio_graph_canvas_set_node_times (w->canvas, t, step);
}

static void
act_open_board (GSimpleAction *a, GVariant *p, gpointer data)
{
    StudioWindow *w = data;
    GError *e = NULL;
    if (!studio_runs_panel_open_board (w->runs, &e)) {
        show_banner (w, e->message);
        g_error_free (e);
    }
}

static const GActionEntry win_actions[] = {
    { "open", act_open, NULL, NULL, NULL, { 0 } },
    { "open-recent", act_open_recent, "s", NULL, NULL, { 0 } },
    { "save", act_save, NULL, NULL, NULL, { 0 } },
    { "save-as", act_save_as, NULL, NULL, NULL, { 0 } },
    { "undo", act_undo, NULL, NULL, NULL, { 0 } },
    { "redo", act_redo, NULL, NULL, NULL, { 0 } },
    { "delete", act_delete, NULL, NULL, NULL, { 0 } },
    { "copy", act_copy, NULL, NULL, NULL, { 0 } },
    { "paste", act_paste, NULL, NULL, NULL, { 0 } },
    { "duplicate", act_duplicate, NULL, NULL, NULL, { 0 } },
    { "select-all", act_select_all, NULL, NULL, NULL, { 0 } },
    { "find", act_find, NULL, NULL, NULL, { 0 } },
    { "add-node", act_add_node, NULL, NULL, NULL, { 0 } },
    { "arrange", act_arrange, NULL, NULL, NULL, { 0 } },
    { "fit", act_fit, NULL, NULL, NULL, { 0 } },
    { "group", act_group, NULL, NULL, NULL, { 0 } },
    { "ungroup", act_ungroup, NULL, NULL, NULL, { 0 } },
    { "run", act_run, NULL, NULL, NULL, { 0 } },
    { "stop-run", act_stop_run, NULL, NULL, NULL, { 0 } },
    { "open-board", act_open_board, NULL, NULL, NULL, { 0 } },
    { "show-times", act_show_times, NULL, "false", NULL, { 0 } },
};

static void
history_changed (StudioDocument *doc, GParamSpec *ps, StudioWindow *w)
{
    GAction *u = g_action_map_lookup_action (G_ACTION_MAP (w), "undo");
    GAction *r = g_action_map_lookup_action (G_ACTION_MAP (w), "redo");
    g_simple_action_set_enabled (G_SIMPLE_ACTION (u), studio_document_can_undo (doc));
    g_simple_action_set_enabled (G_SIMPLE_ACTION (r), studio_document_can_redo (doc));
    update_title (w);
}

/* ---- recent files menu ------------------------------------------------- */

static void
recent_menu_refresh (GtkMenuButton *b, gpointer data)
{
    GMenu *menu = g_menu_new ();
    GList *items = gtk_recent_manager_get_items (gtk_recent_manager_get_default ());
    int count = 0;
    for (GList *l = items; l && count < 10; l = l->next) {
        GtkRecentInfo *info = l->data;
        if (!gtk_recent_info_has_application (info, "sluice-studio"))
            continue;
        char *path = g_filename_from_uri (gtk_recent_info_get_uri (info), NULL, NULL);
        if (path && g_file_test (path, G_FILE_TEST_EXISTS)) {
            GMenuItem *it = g_menu_item_new (path, NULL);
            g_menu_item_set_action_and_target (it, "win.open-recent", "s", path);
            g_menu_append_item (menu, it);
            g_object_unref (it);
            count++;
        }
        g_free (path);
    }
    g_list_free_full (items, (GDestroyNotify) gtk_recent_info_unref);
    if (count == 0)
        g_menu_append (menu, "No recent graphs", "win.none");
    gtk_menu_button_set_menu_model (b, G_MENU_MODEL (menu));
    g_object_unref (menu);
}

/* ---- closing --------------------------------------------------------- */

static void
close_response (GtkDialog *d, int response, StudioWindow *w)
{
    gtk_window_destroy (GTK_WINDOW (d));
    if (response == GTK_RESPONSE_CANCEL || response == GTK_RESPONSE_DELETE_EVENT)
        return;
    if (response == GTK_RESPONSE_ACCEPT) {
        const char *path = studio_document_get_path (w->doc);
        if (!path) {
            act_save_as (NULL, NULL, w);
            return;
        }
        if (!save_to (w, path))
            return;
    }
    w->closing_ok = TRUE;
    gtk_window_close (GTK_WINDOW (w));
}

/* Closes once the runs stopped have exited (so their status is recorded
 * as "stopped" and their checkpoint written), or after 30 s. */
static gboolean
close_when_stopped (gpointer data)
{
    StudioWindow *w = data;
    gboolean late = g_get_monotonic_time () - w->stop_wait_start > 30 * G_USEC_PER_SEC;
    if (studio_runs_panel_is_training (w->runs) && !late)
        return G_SOURCE_CONTINUE;
    w->stop_wait_id = 0;
    g_printerr ("sluice-studio: closing; the run is %s\n", late ? "still stopping" : "stopped");
    w->run_asked = TRUE;
    gtk_window_close (GTK_WINDOW (w));
    return G_SOURCE_REMOVE;
}

static void
close_run_response (GtkDialog *d, int response, gpointer data)
{
    StudioWindow *w = data;
    gtk_window_destroy (GTK_WINDOW (d));
    w->run_prompt = NULL;
    if (response != GTK_RESPONSE_YES && response != GTK_RESPONSE_NO)
        return;
    if (response == GTK_RESPONSE_YES) {
        studio_runs_panel_stop_all (w->runs);
        show_banner (w, "stopping the run: it saves a checkpoint, then the studio closes");
        w->stop_wait_start = g_get_monotonic_time ();
        if (!w->stop_wait_id)
            w->stop_wait_id = g_timeout_add (100, close_when_stopped, w);
        return;
    }
    g_printerr ("sluice-studio: closing; the run is left running\n");
    w->run_asked = TRUE;
    gtk_window_close (GTK_WINDOW (w));
}

static gboolean
close_request (GtkWindow *win, gpointer data)
{
    StudioWindow *w = STUDIO_WINDOW (win);
    if (w->stop_wait_id)
        return TRUE;   /* closing as soon as the run has stopped */
    if (w->run_prompt) {
        gtk_window_present (GTK_WINDOW (w->run_prompt));
        return TRUE;
    }
    if (!w->run_asked && studio_runs_panel_is_training (w->runs)) {
        GtkWidget *d = gtk_message_dialog_new (win, GTK_DIALOG_MODAL | GTK_DIALOG_DESTROY_WITH_PARENT,
                                               GTK_MESSAGE_QUESTION, GTK_BUTTONS_NONE,
                                               "A run is training. Stop it before closing?");
        gtk_message_dialog_format_secondary_text (GTK_MESSAGE_DIALOG (d),
                                                  "Stopping saves a checkpoint, so the run can be resumed later. "
                                                  "Left running, it trains on and shows in the runs list the next time.");
        gtk_dialog_add_buttons (GTK_DIALOG (d), "_Cancel", GTK_RESPONSE_CANCEL, "_Leave Running", GTK_RESPONSE_NO,
                                "_Stop Run", GTK_RESPONSE_YES, NULL);
        gtk_dialog_set_default_response (GTK_DIALOG (d), GTK_RESPONSE_CANCEL);
        g_signal_connect (d, "response", G_CALLBACK (close_run_response), w);
        w->run_prompt = d;
        gtk_window_present (GTK_WINDOW (d));
        return TRUE;
    }
    if (w->closing_ok || !studio_document_is_modified (w->doc))
        return FALSE;
    GtkWidget *d = gtk_message_dialog_new (win, GTK_DIALOG_MODAL | GTK_DIALOG_DESTROY_WITH_PARENT,
                                           GTK_MESSAGE_QUESTION, GTK_BUTTONS_NONE,
                                           "Save changes to the graph before closing?");
    gtk_message_dialog_format_secondary_text (GTK_MESSAGE_DIALOG (d),
                                              "Changes that are not saved are lost.");
    gtk_dialog_add_buttons (GTK_DIALOG (d), "_Discard", GTK_RESPONSE_REJECT, "_Cancel", GTK_RESPONSE_CANCEL,
                            "_Save", GTK_RESPONSE_ACCEPT, NULL);
    gtk_dialog_set_default_response (GTK_DIALOG (d), GTK_RESPONSE_ACCEPT);
    g_signal_connect (d, "response", G_CALLBACK (close_response), w);
    gtk_window_present (GTK_WINDOW (d));
    return TRUE;
}

/* ---- construction ------------------------------------------------------ */

static GtkWidget *
icon_button (const char *icon, const char *action, const char *tip)
{
    GtkWidget *b = gtk_button_new_from_icon_name (icon);
    gtk_actionable_set_action_name (GTK_ACTIONABLE (b), action);
    gtk_widget_set_tooltip_text (b, tip);
    return b;
}

static void
studio_window_dispose (GObject *object)
{
    StudioWindow *w = STUDIO_WINDOW (object);
    g_clear_handle_id (&w->banner_timeout, g_source_remove);
    g_clear_handle_id (&w->trace_id, g_source_remove);
    g_clear_handle_id (&w->stop_wait_id, g_source_remove);
    if (w->doc)
        g_signal_handlers_disconnect_by_data (w->doc, w);
    if (w->add_popover) {
        gtk_widget_unparent (GTK_WIDGET (w->add_popover));
        w->add_popover = NULL;
    }
    g_clear_object (&w->doc);
    G_OBJECT_CLASS (studio_window_parent_class)->dispose (object);
}

static void
studio_window_finalize (GObject *object)
{
    StudioWindow *w = STUDIO_WINDOW (object);
    g_free (w->add_from);
    g_free (w->last_trace);
    G_OBJECT_CLASS (studio_window_parent_class)->finalize (object);
}

static void
studio_window_class_init (StudioWindowClass *klass)
{
    G_OBJECT_CLASS (klass)->dispose = studio_window_dispose;
    G_OBJECT_CLASS (klass)->finalize = studio_window_finalize;
}

static void
studio_window_init (StudioWindow *w)
{
    w->doc = studio_document_new ();
    g_action_map_add_action_entries (G_ACTION_MAP (w), win_actions, G_N_ELEMENTS (win_actions), w);
    gtk_window_set_default_size (GTK_WINDOW (w), 1400, 860);

    /* header bar */
    GtkWidget *hb = gtk_header_bar_new ();
    gtk_header_bar_pack_start (GTK_HEADER_BAR (hb), icon_button ("document-open-symbolic", "win.open", "Open a graph (Ctrl+O)"));
    GtkWidget *recent = gtk_menu_button_new ();
    gtk_menu_button_set_icon_name (GTK_MENU_BUTTON (recent), "document-open-recent-symbolic");
    gtk_widget_set_tooltip_text (recent, "Recent graphs");
    gtk_menu_button_set_create_popup_func (GTK_MENU_BUTTON (recent), recent_menu_refresh, w, NULL);
    gtk_header_bar_pack_start (GTK_HEADER_BAR (hb), recent);
    gtk_header_bar_pack_start (GTK_HEADER_BAR (hb), icon_button ("document-save-symbolic", "win.save", "Save (Ctrl+S)"));
    gtk_header_bar_pack_start (GTK_HEADER_BAR (hb), icon_button ("edit-undo-symbolic", "win.undo", "Undo (Ctrl+Z)"));
    gtk_header_bar_pack_start (GTK_HEADER_BAR (hb), icon_button ("edit-redo-symbolic", "win.redo", "Redo (Ctrl+Shift+Z)"));
    GtkWidget *run = gtk_button_new_with_label ("Run");
    gtk_actionable_set_action_name (GTK_ACTIONABLE (run), "win.run");
    gtk_widget_set_tooltip_text (run, "Train this graph with sluice train (F5)");
    gtk_widget_add_css_class (run, "suggested-action");
    gtk_header_bar_pack_end (GTK_HEADER_BAR (hb), run);
    gtk_header_bar_pack_end (GTK_HEADER_BAR (hb), icon_button ("view-grid-symbolic", "win.arrange",
                                                               "Arrange the graph, or the selection (Ctrl+L)"));
    gtk_header_bar_pack_end (GTK_HEADER_BAR (hb), icon_button ("zoom-fit-best-symbolic", "win.fit", "Fit the graph in view (0)"));
    GtkWidget *times = gtk_toggle_button_new_with_label ("Op times");
    gtk_actionable_set_action_name (GTK_ACTIONABLE (times), "win.show-times");
    gtk_widget_set_tooltip_text (times, "Show each op's time in the selected run's newest traced step on its node (Ctrl+T)");
    gtk_header_bar_pack_end (GTK_HEADER_BAR (hb), times);
    gtk_window_set_titlebar (GTK_WINDOW (w), hb);

    /* body */
    w->palette = STUDIO_PALETTE (studio_palette_new ());
    gtk_widget_set_size_request (GTK_WIDGET (w->palette), 230, -1);
    g_signal_connect (w->palette, "activated", G_CALLBACK (palette_activated), w);
    w->canvas = STUDIO_GRAPH_CANVAS (studio_graph_canvas_new (w->doc));
    g_signal_connect (w->canvas, "selection-changed", G_CALLBACK (selection_changed), w);
    g_signal_connect (w->canvas, "message", G_CALLBACK (canvas_message), w);
    g_signal_connect (w->canvas, "add-requested", G_CALLBACK (add_requested), w);
    w->inspector = STUDIO_INSPECTOR (studio_inspector_new (w->doc));
    gtk_widget_set_size_request (GTK_WIDGET (w->inspector), 330, -1);
    w->problems = studio_problems_new (w->doc);
    g_signal_connect (w->problems, "activated", G_CALLBACK (problem_activated), w);

    GtkWidget *overlay = gtk_overlay_new ();
    gtk_overlay_set_child (GTK_OVERLAY (overlay), GTK_WIDGET (w->canvas));
    w->banner = GTK_REVEALER (gtk_revealer_new ());
    gtk_widget_set_valign (GTK_WIDGET (w->banner), GTK_ALIGN_START);
    gtk_widget_set_halign (GTK_WIDGET (w->banner), GTK_ALIGN_CENTER);
    w->banner_label = GTK_LABEL (gtk_label_new (""));
    gtk_label_set_wrap (w->banner_label, TRUE);
    gtk_label_set_max_width_chars (w->banner_label, 90);
    GtkWidget *frame = gtk_frame_new (NULL);
    gtk_frame_set_child (GTK_FRAME (frame), GTK_WIDGET (w->banner_label));
    gtk_widget_add_css_class (frame, "app-notification");
    gtk_widget_set_margin_top (frame, 8);
    gtk_revealer_set_child (w->banner, frame);
    gtk_overlay_add_overlay (GTK_OVERLAY (overlay), GTK_WIDGET (w->banner));

    w->runs = STUDIO_RUNS_PANEL (studio_runs_panel_new ());
    g_signal_connect (w->runs, "node-times-changed", G_CALLBACK (node_times_changed), w);
    g_signal_connect_swapped (w->runs, "run-ended", G_CALLBACK (update_status), w);
    w->bottom = GTK_NOTEBOOK (gtk_notebook_new ());
    gtk_notebook_append_page (w->bottom, w->problems, gtk_label_new ("Problems"));
    /* scrolled, so the runs panel's height (chart, log) does not set the
     * bottom tabs' minimum: closed, they take a few lines */
    GtkWidget *runs_scroll = gtk_scrolled_window_new ();
    gtk_scrolled_window_set_policy (GTK_SCROLLED_WINDOW (runs_scroll), GTK_POLICY_NEVER, GTK_POLICY_AUTOMATIC);
    gtk_scrolled_window_set_child (GTK_SCROLLED_WINDOW (runs_scroll), GTK_WIDGET (w->runs));
    gtk_notebook_append_page (w->bottom, runs_scroll, gtk_label_new ("Runs"));
    GtkWidget *center = overlay;
    gtk_widget_set_size_request (GTK_WIDGET (w->bottom), -1, 120);

    GtkWidget *right = gtk_paned_new (GTK_ORIENTATION_HORIZONTAL);
    gtk_paned_set_start_child (GTK_PANED (right), center);
    gtk_paned_set_end_child (GTK_PANED (right), GTK_WIDGET (w->inspector));
    gtk_paned_set_resize_end_child (GTK_PANED (right), FALSE);
    gtk_paned_set_shrink_end_child (GTK_PANED (right), FALSE);
    GtkWidget *left = gtk_paned_new (GTK_ORIENTATION_HORIZONTAL);
    gtk_paned_set_start_child (GTK_PANED (left), GTK_WIDGET (w->palette));
    gtk_paned_set_end_child (GTK_PANED (left), right);
    gtk_paned_set_resize_start_child (GTK_PANED (left), FALSE);
    gtk_paned_set_shrink_start_child (GTK_PANED (left), FALSE);

    GtkWidget *vbox = gtk_box_new (GTK_ORIENTATION_VERTICAL, 0);
    /* the problems and runs below, the whole window wide */
    GtkWidget *outer = gtk_paned_new (GTK_ORIENTATION_VERTICAL);
    w->center = GTK_PANED (outer);
    gtk_paned_set_start_child (w->center, left);
    gtk_paned_set_end_child (w->center, GTK_WIDGET (w->bottom));
    gtk_paned_set_resize_end_child (w->center, FALSE);
    gtk_paned_set_shrink_end_child (w->center, FALSE);
    gtk_paned_set_position (w->center, 100000);  /* the bottom tabs at their minimum */
    gtk_widget_set_vexpand (outer, TRUE);
    gtk_box_append (GTK_BOX (vbox), outer);
    w->status = GTK_LABEL (gtk_label_new (""));
    gtk_label_set_xalign (w->status, 0);
    gtk_widget_set_margin_start (GTK_WIDGET (w->status), 8);
    gtk_widget_set_margin_top (GTK_WIDGET (w->status), 3);
    gtk_widget_set_margin_bottom (GTK_WIDGET (w->status), 3);
    gtk_widget_add_css_class (GTK_WIDGET (w->status), "dim-label");
    gtk_box_append (GTK_BOX (vbox), GTK_WIDGET (w->status));
    gtk_window_set_child (GTK_WINDOW (w), vbox);

    /* search-to-add */
    w->add_popover = GTK_POPOVER (gtk_popover_new ());
    w->add_palette = STUDIO_PALETTE (studio_palette_new ());
    gtk_widget_set_size_request (GTK_WIDGET (w->add_palette), 300, 340);
    gtk_popover_set_child (w->add_popover, GTK_WIDGET (w->add_palette));
    gtk_widget_set_parent (GTK_WIDGET (w->add_popover), GTK_WIDGET (w->canvas));
    g_signal_connect (w->add_palette, "activated", G_CALLBACK (add_palette_activated), w);
    /* Escape in the search closes the popover (the entry took the key) */
    g_signal_connect_swapped (studio_palette_get_search (w->add_palette), "stop-search",
                              G_CALLBACK (gtk_popover_popdown), w->add_popover);

    g_signal_connect (w->doc, "changed", G_CALLBACK (doc_changed), w);
    g_signal_connect (w->doc, "notify::can-undo", G_CALLBACK (history_changed), w);
    g_signal_connect (w->doc, "notify::can-redo", G_CALLBACK (history_changed), w);
    g_signal_connect (w->doc, "notify::modified", G_CALLBACK (history_changed), w);
    g_signal_connect (w, "close-request", G_CALLBACK (close_request), NULL);
    history_changed (w->doc, NULL, w);
    update_status (w);
    w->ready = TRUE;
    if (g_getenv ("SLUICE_STUDIO_TRACE"))
        w->trace_id = g_timeout_add (150, trace_tick, w);
    gtk_widget_grab_focus (GTK_WIDGET (w->canvas));
}

StudioWindow *
studio_window_new (GtkApplication *app)
{
    return g_object_new (STUDIO_TYPE_WINDOW, "application", app, NULL);
}

StudioDocument *
studio_window_get_document (StudioWindow *w)
{
    return w->doc;
}

StudioGraphCanvas *
studio_window_get_canvas (StudioWindow *w)
{
    return w->canvas;
}

void
studio_window_select (StudioWindow *w, const char *name)
{
    studio_graph_canvas_select (w->canvas, name, FALSE);
    studio_graph_canvas_center_on (w->canvas, name);
}
