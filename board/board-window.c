/* The main window (see the header). */
#include "board-window.h"

#include <string.h>

#include "board-histograms-view.h"
#include "board-images-view.h"
#include "board-prefs.h"
#include "board-runs-panel.h"
#include "board-screenshot.h"
#include "board-text-view.h"
#ifdef BOARD_HAVE_LOADER
#include "board-loader.h"
#include "board-timeline-view.h"
#endif

struct _BoardWindow {
    GtkApplicationWindow parent_instance;
    BoardDataset *ds;
    BoardChartSettings *settings;
#ifdef BOARD_HAVE_LOADER
    BoardLoader *loader;
#endif
    GtkWidget *stack;
    GtkWidget *runs;
    GtkWidget *scalars;
    GtkWidget *graph;
    GtkWidget *images;
    GtkWidget *timeline;     /* NULL without the loader */
    GtkWidget *banner;
    GtkWidget *banner_label;
    char **logdirs;
    char *prefs_path;
    gboolean remember;
    guint prefs_save_id;
};

G_DEFINE_FINAL_TYPE (BoardWindow, board_window, GTK_TYPE_APPLICATION_WINDOW)

static char *
export_dir (void)
{
    const char *env = g_getenv ("SLUICE_BOARD_EXPORT_DIR");
    if (env && *env)
        return g_strdup (env);
    const char *pics = g_get_user_special_dir (G_USER_DIRECTORY_PICTURES);
    return g_strdup (pics ? pics : g_get_home_dir ());
}

static void
on_errors (BoardDataset *ds, BoardWindow *w)
{
    GString *s = g_string_new (NULL);
    const char *le = board_dataset_get_load_error (ds);
    if (le)
        g_string_append_printf (s, "Cannot read the logdir: %s", le);
    GHashTableIter it;
    gpointer k, v;
    g_hash_table_iter_init (&it, board_dataset_get_errors (ds));
    while (g_hash_table_iter_next (&it, &k, &v)) {
        if (s->len)
            g_string_append_c (s, '\n');
        /* a damaged file keeps what came before the damage; a deleted
         * run directory keeps what was read before */
        gboolean dir = g_str_has_prefix (v, "the run's directory");
        /* the reader's message names the file again: once is enough */
        char *quoted = g_strdup_printf (" in '%s'", (const char *) k);
        char **parts = g_strsplit (v, quoted, -1);
        char *msg = g_strjoinv ("", parts);
        g_strfreev (parts);
        g_free (quoted);
        g_string_append_printf (s, "\u26a0 %s: %s (%s)", (const char *) k, msg,
                                dir ? "its points read before are still shown"
                                    : "the rest of the file's data is shown");
        g_free (msg);
    }
    gtk_label_set_text (GTK_LABEL (w->banner_label), s->str);
    gtk_revealer_set_reveal_child (GTK_REVEALER (w->banner), s->len > 0);
    g_string_free (s, TRUE);
}

static void
start_loading (BoardWindow *w)
{
#ifdef BOARD_HAVE_LOADER
    board_loader_free (w->loader);
    w->loader = board_loader_new (w->ds, (const char *const *) w->logdirs);
#endif
    char *title = w->logdirs && w->logdirs[0]
        ? g_strdup_printf ("Sluice Board \u2014 %s", w->logdirs[0]) : g_strdup ("Sluice Board");
    gtk_window_set_title (GTK_WINDOW (w), title);
    g_free (title);
    board_scalars_view_set_logdirs (BOARD_SCALARS_VIEW (w->scalars),
                                    (const char *const *) w->logdirs);
}

/* ---- remembered settings ---- */

static gboolean
save_prefs (gpointer data)
{
    BoardWindow *w = data;
    w->prefs_save_id = 0;
    if (!w->remember)
        return G_SOURCE_REMOVE;
    GError *error = NULL;
    if (!board_prefs_save (w->prefs_path, w->settings, w->ds, &error)) {
        g_warning ("cannot save the settings: %s", error->message);
        g_error_free (error);
    }
    return G_SOURCE_REMOVE;
}

/* A slider drag changes the settings many times a second: write once it
 * rests (and at the latest when the window goes). */
static void
prefs_changed (gpointer instance, BoardWindow *w)
{
    if (w->prefs_save_id)
        g_source_remove (w->prefs_save_id);
    w->prefs_save_id = g_timeout_add (300, save_prefs, w);
}

/* ---- actions ---- */

static void
open_response (GtkNativeDialog *d, int response, BoardWindow *w)
{
    if (response == GTK_RESPONSE_ACCEPT) {
        GFile *f = gtk_file_chooser_get_file (GTK_FILE_CHOOSER (d));
        char *path = g_file_get_path (f);
        gboolean folder = GPOINTER_TO_INT (g_object_get_data (G_OBJECT (d), "folder"));
        if (folder && !(w->logdirs && w->logdirs[0])) {
            /* a window showing nothing yet reads it itself */
            g_strfreev (w->logdirs);
            const char *dirs[] = { path, NULL };
            w->logdirs = g_strdupv ((char **) dirs);
            start_loading (w);
        } else if (folder) {
            /* another logdir: a new window, its own dataset and loader */
            GtkApplication *app = gtk_window_get_application (GTK_WINDOW (w));
            const char *dirs[] = { path, NULL };
            gtk_window_present (GTK_WINDOW (board_window_new (app, dirs)));
        } else {
            board_window_set_view (w, "graph");
            board_graph_page_open_file (BOARD_GRAPH_PAGE (w->graph), path);
        }
        g_free (path);
        g_object_unref (f);
    }
    g_object_unref (d);
}

static void
open_dialog (BoardWindow *w, gboolean folder)
{
    GtkFileChooserNative *d = gtk_file_chooser_native_new (
        folder ? "Open Logdir" : "Open Graph", GTK_WINDOW (w),
        folder ? GTK_FILE_CHOOSER_ACTION_SELECT_FOLDER : GTK_FILE_CHOOSER_ACTION_OPEN, "_Open",
        "_Cancel");
    g_object_set_data (G_OBJECT (d), "folder", GINT_TO_POINTER (folder));
    g_signal_connect (d, "response", G_CALLBACK (open_response), w);
    gtk_native_dialog_show (GTK_NATIVE_DIALOG (d));
}

static void
act_open (GSimpleAction *a, GVariant *p, gpointer data)
{
    open_dialog (data, TRUE);
}

static void
act_open_graph (GSimpleAction *a, GVariant *p, gpointer data)
{
    open_dialog (data, FALSE);
}

static void
act_reload (GSimpleAction *a, GVariant *p, gpointer data)
{
#ifdef BOARD_HAVE_LOADER
    BoardWindow *w = data;
    if (w->loader)
        board_loader_reload (w->loader);
#endif
}

static void
act_find (GSimpleAction *a, GVariant *p, gpointer data)
{
    BoardWindow *w = data;
    const char *view = board_window_get_view (w);
    if (g_str_equal (view, "graph"))
        board_graph_page_focus_search (BOARD_GRAPH_PAGE (w->graph));
    else if (g_str_equal (view, "scalars"))
        board_scalars_view_focus_filter (BOARD_SCALARS_VIEW (w->scalars));
    else
        board_runs_panel_focus_filter (BOARD_RUNS_PANEL (w->runs));
}

static void
act_fullscreen (GSimpleAction *a, GVariant *p, gpointer data)
{
    GtkWindow *win = data;
    if (gtk_window_is_fullscreen (win))
        gtk_window_unfullscreen (win);
    else
        gtk_window_fullscreen (win);
}

static void
act_view (GSimpleAction *a, GVariant *p, gpointer data)
{
    board_window_set_view (data, g_variant_get_string (p, NULL));
}

static void
act_screenshot (GSimpleAction *a, GVariant *p, gpointer data)
{
    char *dir = export_dir ();
    g_mkdir_with_parents (dir, 0755);
    char *path = g_build_filename (dir, "sluice-board.png", NULL);
    GError *error = NULL;
    if (!board_screenshot_widget (GTK_WIDGET (data), path, &error)) {
        g_warning ("%s", error->message);
        g_error_free (error);
    }
    g_free (path);
    g_free (dir);
}

static void
act_dump_state (GSimpleAction *a, GVariant *p, gpointer data)
{
    char *dir = export_dir ();
    g_mkdir_with_parents (dir, 0755);
    char *path = g_build_filename (dir, "sluice-board-state.txt", NULL);
    GError *error = NULL;
    if (!board_window_dump_state (data, path, &error)) {
        g_warning ("%s", error->message);
        g_error_free (error);
    }
    g_free (path);
    g_free (dir);
}

static void
act_export_csv (GSimpleAction *a, GVariant *p, gpointer data)
{
    BoardWindow *w = data;
    BoardScalarChart *c = board_scalars_view_get_chart (BOARD_SCALARS_VIEW (w->scalars), NULL);
    if (!c)
        return;
    char *dir = export_dir ();
    GError *error = NULL;
    board_scalar_chart_export_series (c, dir, FALSE, &error);
    if (error) {
        g_warning ("%s", error->message);
        g_error_free (error);
    }
    g_free (dir);
}

static const GActionEntry win_actions[] = {
    { "open", act_open, NULL, NULL, NULL, { 0 } },
    { "open-graph", act_open_graph, NULL, NULL, NULL, { 0 } },
    { "reload", act_reload, NULL, NULL, NULL, { 0 } },
    { "find", act_find, NULL, NULL, NULL, { 0 } },
    { "fullscreen", act_fullscreen, NULL, NULL, NULL, { 0 } },
    { "view", act_view, "s", NULL, NULL, { 0 } },
    { "screenshot", act_screenshot, NULL, NULL, NULL, { 0 } },
    { "dump-state", act_dump_state, NULL, NULL, NULL, { 0 } },
    { "export-csv", act_export_csv, NULL, NULL, NULL, { 0 } },
};

/* ---- object ---- */

static void
board_window_dispose (GObject *o)
{
    BoardWindow *w = BOARD_WINDOW (o);
#ifdef BOARD_HAVE_LOADER
    g_clear_pointer (&w->loader, board_loader_free);
#endif
    if (w->prefs_save_id) {
        g_source_remove (w->prefs_save_id);
        save_prefs (w);
    }
    if (w->settings)
        g_signal_handlers_disconnect_by_data (w->settings, w);
    if (w->ds)
        g_signal_handlers_disconnect_by_data (w->ds, w);
    G_OBJECT_CLASS (board_window_parent_class)->dispose (o);
}

static void
board_window_finalize (GObject *o)
{
    BoardWindow *w = BOARD_WINDOW (o);
    g_clear_object (&w->ds);
    g_clear_object (&w->settings);
    g_strfreev (w->logdirs);
    g_free (w->prefs_path);
    G_OBJECT_CLASS (board_window_parent_class)->finalize (o);
}

static void
board_window_class_init (BoardWindowClass *klass)
{
    G_OBJECT_CLASS (klass)->dispose = board_window_dispose;
    G_OBJECT_CLASS (klass)->finalize = board_window_finalize;
}

static void
board_window_init (BoardWindow *w)
{
}

static void
add_page (BoardWindow *w, GtkWidget *child, const char *name, const char *title)
{
    gtk_stack_add_titled (GTK_STACK (w->stack), child, name, title);
}

BoardWindow *
board_window_new (GtkApplication *app, const char *const *logdirs)
{
    BoardWindow *w = g_object_new (BOARD_TYPE_WINDOW, "application", app, NULL);
    w->logdirs = g_strdupv ((char **) logdirs);
    w->ds = board_dataset_new ();
    w->settings = board_chart_settings_new ();
    w->prefs_path = board_prefs_default_path ();
    w->remember = TRUE;
    GError *error = NULL;
    if (!board_prefs_load (w->prefs_path, w->settings, w->ds, &error)) {
        g_message ("settings not read (defaults used): %s", error->message);
        g_error_free (error);
    }
    g_signal_connect (w->settings, "changed", G_CALLBACK (prefs_changed), w);
    g_signal_connect (w->ds, "colors-changed", G_CALLBACK (prefs_changed), w);
    gtk_window_set_default_size (GTK_WINDOW (w), 1280, 800);
    g_action_map_add_action_entries (G_ACTION_MAP (w), win_actions, G_N_ELEMENTS (win_actions), w);

    GtkWidget *header = gtk_header_bar_new ();
    w->stack = gtk_stack_new ();
    gtk_stack_set_transition_type (GTK_STACK (w->stack), GTK_STACK_TRANSITION_TYPE_NONE);
    GtkWidget *switcher = gtk_stack_switcher_new ();
    gtk_stack_switcher_set_stack (GTK_STACK_SWITCHER (switcher), GTK_STACK (w->stack));
    gtk_header_bar_set_title_widget (GTK_HEADER_BAR (header), switcher);
    GtkWidget *reload = gtk_button_new_from_icon_name ("view-refresh-symbolic");
    gtk_actionable_set_action_name (GTK_ACTIONABLE (reload), "win.reload");
    gtk_widget_set_tooltip_text (reload, "Reload (Ctrl+R)");
    gtk_header_bar_pack_start (GTK_HEADER_BAR (header), reload);
    GMenu *menu = g_menu_new ();
    g_menu_append (menu, "Open Logdir\u2026", "win.open");
    g_menu_append (menu, "Open Graph File\u2026", "win.open-graph");
    g_menu_append (menu, "Export First Chart as CSV", "win.export-csv");
    g_menu_append (menu, "Save Screenshot", "win.screenshot");
    g_menu_append (menu, "Fullscreen", "win.fullscreen");
    g_menu_append (menu, "Quit", "app.quit");
    GtkWidget *mb = gtk_menu_button_new ();
    gtk_menu_button_set_icon_name (GTK_MENU_BUTTON (mb), "open-menu-symbolic");
    gtk_menu_button_set_menu_model (GTK_MENU_BUTTON (mb), G_MENU_MODEL (menu));
    g_object_unref (menu);
    gtk_header_bar_pack_end (GTK_HEADER_BAR (header), mb);
    gtk_window_set_titlebar (GTK_WINDOW (w), header);

    w->scalars = board_scalars_view_new (w->ds, w->settings);
    add_page (w, w->scalars, "scalars", "Scalars");
    add_page (w, board_histograms_view_new (w->ds, FALSE), "histograms", "Histograms");
    add_page (w, board_histograms_view_new (w->ds, TRUE), "distributions", "Distributions");
    w->images = board_images_view_new (w->ds);
    add_page (w, w->images, "images", "Images");
    add_page (w, board_text_view_new (w->ds), "text", "Text");
    w->graph = board_graph_page_new (w->ds);
    add_page (w, w->graph, "graph", "Graph");
#ifdef BOARD_HAVE_LOADER
    w->timeline = board_timeline_view_new (w->ds);
    add_page (w, w->timeline, "timeline", "Timeline");
#endif

    w->runs = board_runs_panel_new (w->ds, w->settings);
    gtk_widget_set_size_request (w->runs, 250, -1);
    GtkWidget *paned = gtk_paned_new (GTK_ORIENTATION_HORIZONTAL);
    gtk_paned_set_start_child (GTK_PANED (paned), w->runs);
    gtk_paned_set_end_child (GTK_PANED (paned), w->stack);
    gtk_paned_set_resize_start_child (GTK_PANED (paned), FALSE);
    gtk_paned_set_shrink_start_child (GTK_PANED (paned), FALSE);
    gtk_paned_set_position (GTK_PANED (paned), 260);
    gtk_widget_set_vexpand (paned, TRUE);

    w->banner_label = gtk_label_new (NULL);
    gtk_label_set_xalign (GTK_LABEL (w->banner_label), 0);
    gtk_label_set_wrap (GTK_LABEL (w->banner_label), TRUE);
    gtk_label_set_selectable (GTK_LABEL (w->banner_label), TRUE);
    gtk_widget_set_margin_start (w->banner_label, 10);
    gtk_widget_set_margin_end (w->banner_label, 10);
    gtk_widget_set_margin_top (w->banner_label, 6);
    gtk_widget_set_margin_bottom (w->banner_label, 6);
    GtkWidget *banner_box = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 0);
    gtk_widget_add_css_class (banner_box, "board-warning");
    gtk_box_append (GTK_BOX (banner_box), w->banner_label);
    w->banner = gtk_revealer_new ();
    gtk_revealer_set_child (GTK_REVEALER (w->banner), banner_box);

    GtkCssProvider *css = gtk_css_provider_new ();
    gtk_css_provider_load_from_data (css,
        ".board-warning { background: alpha(#f5c211, 0.35); }"
        "scalarchart { min-height: 200px; }"
        ".board-graph-status { background: alpha(#ffffff, 0.85); color: #404040;"
        " border-radius: 4px; padding: 2px 8px; margin: 8px; }", -1);
    gtk_style_context_add_provider_for_display (gtk_widget_get_display (GTK_WIDGET (w)),
                                                GTK_STYLE_PROVIDER (css),
                                                GTK_STYLE_PROVIDER_PRIORITY_APPLICATION);
    g_object_unref (css);

    GtkWidget *vbox = gtk_box_new (GTK_ORIENTATION_VERTICAL, 0);
    gtk_box_append (GTK_BOX (vbox), w->banner);
    gtk_box_append (GTK_BOX (vbox), paned);
    gtk_window_set_child (GTK_WINDOW (w), vbox);

    g_signal_connect (w->ds, "errors-changed", G_CALLBACK (on_errors), w);
    start_loading (w);
    return w;
}

void
board_window_set_remember (BoardWindow *w, gboolean remember)
{
    w->remember = remember;
}

BoardDataset *board_window_get_dataset (BoardWindow *w) { return w->ds; }
BoardScalarsView *board_window_get_scalars (BoardWindow *w) { return BOARD_SCALARS_VIEW (w->scalars); }
BoardGraphPage *board_window_get_graph_page (BoardWindow *w) { return BOARD_GRAPH_PAGE (w->graph); }

void
board_window_set_view (BoardWindow *w, const char *name)
{
    if (gtk_stack_get_child_by_name (GTK_STACK (w->stack), name))
        gtk_stack_set_visible_child_name (GTK_STACK (w->stack), name);
}

const char *
board_window_get_view (BoardWindow *w)
{
    const char *n = gtk_stack_get_visible_child_name (GTK_STACK (w->stack));
    return n ? n : "";
}

gboolean
board_window_is_ready (BoardWindow *w)
{
    if (!board_dataset_is_complete (w->ds))
        return FALSE;
    const char *view = board_window_get_view (w);
    if (g_str_equal (view, "scalars"))
        return board_scalars_view_is_ready (BOARD_SCALARS_VIEW (w->scalars));
    if (g_str_equal (view, "graph"))
        return board_graph_page_is_ready (BOARD_GRAPH_PAGE (w->graph));
#ifdef BOARD_HAVE_LOADER
    if (g_str_equal (view, "timeline"))
        return board_timeline_view_is_ready (BOARD_TIMELINE_VIEW (w->timeline));
#endif
    return TRUE;
}

const char *
board_window_get_warning (BoardWindow *w)
{
    return gtk_revealer_get_reveal_child (GTK_REVEALER (w->banner))
        ? gtk_label_get_text (GTK_LABEL (w->banner_label)) : "";
}

static void
dump_nodes (GString *s, BoardWindow *w, BoardGraphView *view, BoardGraphNode *g)
{
    for (guint i = 0; g->children && i < g->children->len; i++) {
        BoardGraphNode *c = g_ptr_array_index (g->children, i);
        graphene_rect_t r;
        if (board_graph_view_get_node_rect (view, c, &r)) {
            double x, y;
            G_GNUC_BEGIN_IGNORE_DEPRECATIONS
            gtk_widget_translate_coordinates (GTK_WIDGET (view), GTK_WIDGET (w), r.origin.x,
                                              r.origin.y, &x, &y);
            G_GNUC_END_IGNORE_DEPRECATIONS
            g_string_append_printf (s, "graph_node=%s %s %.0f %.0f %.0f %.0f\n",
                                    c->type == BOARD_GRAPH_OP ? "op" : c->expanded ? "open"
                                                                                    : "closed",
                                    c->name, x, y, r.size.width, r.size.height);
        }
        if (c->children && c->expanded)
            dump_nodes (s, w, view, c);
    }
}

/* "NAME=x y w h" of a widget, in window coordinates, when it is shown. */
static void
dump_rect (GString *s, BoardWindow *w, GtkWidget *widget, const char *name)
{
    graphene_rect_t r;
    if (!gtk_widget_is_drawable (widget) ||
        !gtk_widget_compute_bounds (widget, GTK_WIDGET (w), &r))
        return;
    g_string_append_printf (s, "%s %.0f %.0f %.0f %.0f\n", name, r.origin.x, r.origin.y,
                            r.size.width, r.size.height);
}

/* The runs panel's check buttons, found by the run they carry. */
static void
dump_run_checks (GString *s, BoardWindow *w, GtkWidget *widget)
{
    for (GtkWidget *c = gtk_widget_get_first_child (widget); c; c = gtk_widget_get_next_sibling (c)) {
        BoardRun *run = GTK_IS_CHECK_BUTTON (c) ? g_object_get_data (G_OBJECT (c), "run") : NULL;
        if (run) {
            char *name = g_strdup_printf ("run_check=%s", board_run_get_name (run));
            dump_rect (s, w, c, name);
            g_free (name);
        }
        dump_run_checks (s, w, c);
    }
}

gboolean
board_window_dump_state (BoardWindow *w, const char *path, GError **error)
{
    GString *s = g_string_new (NULL);
    g_string_append_printf (s, "view=%s\n", board_window_get_view (w));
    char buf[G_ASCII_DTOSTR_BUF_SIZE];
    g_string_append_printf (s, "smoothing=%s\n",
                            g_ascii_formatd (buf, sizeof buf, "%.2f",
                                             board_chart_settings_get_smoothing (w->settings)));
    const char *axes[] = { "step", "relative", "wall" };
    g_string_append_printf (s, "x_axis=%s\n",
                            axes[MIN ((guint) board_chart_settings_get_x_axis (w->settings), 2u)]);
    g_string_append_printf (s, "log_y=%d\n", board_chart_settings_get_log_y (w->settings));
    GListModel *runs = board_dataset_get_runs (w->ds);
    for (guint i = 0; i < g_list_model_get_n_items (runs); i++) {
        BoardRun *run = g_list_model_get_item (runs, i);
        g_string_append_printf (s, "run=%s %s #%06x\n", board_run_get_visible (run) ? "shown" : "hidden",
                                board_run_get_name (run), board_run_get_color (run));
        g_object_unref (run);
    }
    BoardScalarChart *c = board_scalars_view_get_chart (BOARD_SCALARS_VIEW (w->scalars), NULL);
    if (c)
        g_string_append_printf (s, "chart=%s %" G_GINT64_FORMAT "\n",
                                board_scalar_chart_get_tag (c),
                                board_scalar_chart_get_point_count (c));
    /* one line per warning */
    char **lines = g_strsplit (board_window_get_warning (w), "\n", -1);
    for (char **l = lines; *l; l++)
        g_string_append_printf (s, "warning=%s\n", *l);
    if (!lines[0])
        g_string_append (s, "warning=\n");
    g_strfreev (lines);
    g_string_append_printf (s, "loaded=%d\n", board_dataset_is_complete (w->ds));
    const char *empty = board_scalars_view_get_empty_text (BOARD_SCALARS_VIEW (w->scalars));
    if (*empty) {
        char *one = g_strdelimit (g_strdup (empty), "\n", ' ');
        g_string_append_printf (s, "empty=%s\n", one);
        g_free (one);
    }
    board_images_view_describe (BOARD_IMAGES_VIEW (w->images), s);
    g_string_append_printf (s, "logdir=%s\n", w->logdirs && w->logdirs[0] ? w->logdirs[0] : "");
    dump_rect (s, w, GTK_WIDGET (board_scalars_view_get_smoothing_range (
                         BOARD_SCALARS_VIEW (w->scalars))), "smoothing_slider=");
    dump_run_checks (s, w, w->runs);
    BoardGraph *g = board_graph_page_get_graph (BOARD_GRAPH_PAGE (w->graph));
    if (g) {
        g_string_append_printf (s, "graph_ops=%u\n", g->ops->len);
        g_string_append_printf (s, "graph_first_view_ms=%.0f\n",
                                board_graph_page_first_view_ms (BOARD_GRAPH_PAGE (w->graph)));
        g_string_append_printf (s, "graph_final=%d\n",
                                board_graph_page_is_ready (BOARD_GRAPH_PAGE (w->graph)));
        BoardGraphNode *sel = board_graph_view_get_selected (
            board_graph_page_get_view (BOARD_GRAPH_PAGE (w->graph)));
        g_string_append_printf (s, "graph_selected=%s\n", sel ? sel->name : "");
        if (g->root->laid_out)
            dump_nodes (s, w, board_graph_page_get_view (BOARD_GRAPH_PAGE (w->graph)), g->root);
    }
#ifdef BOARD_HAVE_LOADER
    board_timeline_view_describe (BOARD_TIMELINE_VIEW (w->timeline), GTK_WIDGET (w), s);
#endif
    gboolean ok = g_file_set_contents (path, s->str, (gssize) s->len, error);
    g_string_free (s, TRUE);
    return ok;
}
