/* The application object (see the header). */
#include "config.h"

#include "board-application.h"

#include "board-bench.h"
#include "board-screenshot.h"
#include "board-window.h"

struct _BoardApplication {
    GtkApplication parent_instance;
    char *screenshot;
    char *view;
    char *expand;
    char *graph_file;
    char *size;
    double smoothing;
    int timeout_s;
    gboolean bench;
    gint64 start;
    guint ready_ticks;
};

G_DEFINE_FINAL_TYPE (BoardApplication, board_application, GTK_TYPE_APPLICATION)

static gboolean
capture_tick (gpointer data)
{
    BoardWindow *w = data;
    BoardApplication *app = BOARD_APPLICATION (gtk_window_get_application (GTK_WINDOW (w)));
    gboolean ready = board_window_is_ready (w);
    gboolean late = g_get_monotonic_time () - app->start > (gint64) app->timeout_s * G_USEC_PER_SEC;
    ready = ready && gtk_widget_get_mapped (GTK_WIDGET (w));
    app->ready_ticks = ready ? app->ready_ticks + 1 : 0;
    if (app->ready_ticks < 3 && !late)
        return G_SOURCE_CONTINUE;   /* ready for a few frames in a row */
    GError *error = NULL;
    if (!board_screenshot_widget (GTK_WIDGET (w), app->screenshot, &error)) {
        /* a window not drawn yet (a loaded machine, a quick view): again
         * at the next tick, until the timeout */
        if (!late) {
            g_error_free (error);
            return G_SOURCE_CONTINUE;
        }
        g_printerr ("sluice-board: %s\n", error->message);
        g_error_free (error);
    } else {
        g_print ("sluice-board: wrote %s (%s view%s)\n", app->screenshot,
                 board_window_get_view (w), late && !ready ? ", before the data was complete" : "");
    }
    g_application_quit (G_APPLICATION (app));
    return G_SOURCE_REMOVE;
}

static void
open_window (BoardApplication *app, const char *const *dirs)
{
    BoardWindow *w = board_window_new (GTK_APPLICATION (app), dirs);
    if (app->screenshot || app->bench)
        board_window_set_remember (w, FALSE);
    if (app->size) {
        int width = 0, height = 0;
        if (sscanf (app->size, "%dx%d", &width, &height) == 2 && width > 0 && height > 0)
            gtk_window_set_default_size (GTK_WINDOW (w), width, height);
    }
    if (app->view)
        board_window_set_view (w, app->view);
    if (app->graph_file)
        board_graph_page_open_file (board_window_get_graph_page (w), app->graph_file);
    if (app->expand)
        board_graph_page_expand (board_window_get_graph_page (w), app->expand);
    if (app->smoothing >= 0) {
        GtkRange *r = board_scalars_view_get_smoothing_range (board_window_get_scalars (w));
        gtk_range_set_value (r, app->smoothing);
    }
    if (app->bench)
        board_bench_start (w);
    gtk_window_present (GTK_WINDOW (w));
    if (app->screenshot) {
        app->start = g_get_monotonic_time ();
        g_timeout_add (100, capture_tick, w);
    }
}

static void
board_application_activate (GApplication *gapp)
{
    const char *none[] = { NULL };
    open_window (BOARD_APPLICATION (gapp), none);
}

static void
board_application_open (GApplication *gapp, GFile **files, int n, const char *hint)
{
    char **dirs = g_new0 (char *, (gsize) n + 1);
    for (int i = 0; i < n; i++)
        dirs[i] = g_file_get_path (files[i]);
    open_window (BOARD_APPLICATION (gapp), (const char *const *) dirs);
    g_strfreev (dirs);
}

static int
board_application_handle_local_options (GApplication *gapp, GVariantDict *opts)
{
    BoardApplication *app = BOARD_APPLICATION (gapp);
    g_variant_dict_lookup (opts, "screenshot", "^ay", &app->screenshot);
    g_variant_dict_lookup (opts, "view", "s", &app->view);
    g_variant_dict_lookup (opts, "expand", "s", &app->expand);
    g_variant_dict_lookup (opts, "graph", "^ay", &app->graph_file);
    g_variant_dict_lookup (opts, "size", "s", &app->size);
    g_variant_dict_lookup (opts, "smoothing", "d", &app->smoothing);
    g_variant_dict_lookup (opts, "timeout", "i", &app->timeout_s);
    app->bench = g_variant_dict_contains (opts, "bench");
    if (g_variant_dict_contains (opts, "version")) {
        g_print ("sluice-board %s\n", SLUICE_VERSION);
        return 0;
    }
    if (app->screenshot || app->graph_file) {
        /* make the paths absolute: the primary instance may run elsewhere */
        if (app->screenshot && !g_path_is_absolute (app->screenshot)) {
            char *abs = g_canonicalize_filename (app->screenshot, NULL);
            g_free (app->screenshot);
            app->screenshot = abs;
        }
        if (app->graph_file && !g_path_is_absolute (app->graph_file)) {
            char *abs = g_canonicalize_filename (app->graph_file, NULL);
            g_free (app->graph_file);
            app->graph_file = abs;
        }
    }
    if (app->screenshot || app->bench)
        g_application_set_flags (gapp, g_application_get_flags (gapp) | G_APPLICATION_NON_UNIQUE);
    return -1;
}

static void
act_quit (GSimpleAction *a, GVariant *p, gpointer data)
{
    /* destroying a window removes it from the application's list at once:
     * walk a referenced copy, not the live list */
    GList *windows = g_list_copy (gtk_application_get_windows (GTK_APPLICATION (data)));
    g_list_foreach (windows, (GFunc) (void (*) (void)) g_object_ref, NULL);
    for (GList *l = windows; l; l = l->next)
        gtk_window_destroy (l->data);
    g_list_free_full (windows, g_object_unref);
    g_application_quit (G_APPLICATION (data));
}

static const GActionEntry app_actions[] = {
    { "quit", act_quit, NULL, NULL, NULL, { 0 } },
};

static void
board_application_startup (GApplication *gapp)
{
    G_APPLICATION_CLASS (board_application_parent_class)->startup (gapp);
    GtkApplication *app = GTK_APPLICATION (gapp);
    g_action_map_add_action_entries (G_ACTION_MAP (app), app_actions, G_N_ELEMENTS (app_actions),
                                     app);
    struct { const char *action; const char *accels[3]; } keys[] = {
        { "app.quit", { "<Control>q", NULL } },
        { "win.open", { "<Control>o", NULL } },
        { "win.open-graph", { "<Control><Shift>o", NULL } },
        { "win.reload", { "<Control>r", "F5", NULL } },
        { "win.find", { "<Control>f", NULL } },
        { "win.fullscreen", { "F11", NULL } },
        { "win.screenshot", { "<Control><Shift>s", NULL } },
        { "win.dump-state", { "<Control><Shift>d", NULL } },
        { "win.export-csv", { "<Control>e", NULL } },
        { "win.view::scalars", { "<Alt>1", NULL } },
        { "win.view::histograms", { "<Alt>2", NULL } },
        { "win.view::distributions", { "<Alt>3", NULL } },
        { "win.view::images", { "<Alt>4", NULL } },
        { "win.view::text", { "<Alt>5", NULL } },
        { "win.view::graph", { "<Alt>6", NULL } },
        { "win.view::timeline", { "<Alt>7", NULL } },
    };
    for (size_t i = 0; i < G_N_ELEMENTS (keys); i++)
        gtk_application_set_accels_for_action (app, keys[i].action, keys[i].accels);
    /* respect a dark preference given by the environment (GTK_THEME) or
     * the desktop; nothing to force here */
}

static void
board_application_finalize (GObject *o)
{
    BoardApplication *app = BOARD_APPLICATION (o);
    g_free (app->screenshot);
    g_free (app->view);
    g_free (app->expand);
    g_free (app->graph_file);
    g_free (app->size);
    G_OBJECT_CLASS (board_application_parent_class)->finalize (o);
}

static void
board_application_class_init (BoardApplicationClass *klass)
{
    GApplicationClass *ac = G_APPLICATION_CLASS (klass);
    ac->activate = board_application_activate;
    ac->open = board_application_open;
    ac->startup = board_application_startup;
    ac->handle_local_options = board_application_handle_local_options;
    G_OBJECT_CLASS (klass)->finalize = board_application_finalize;
}

static void
board_application_init (BoardApplication *app)
{
    app->smoothing = -1;
    app->timeout_s = 30;
    static const GOptionEntry entries[] = {
        { "screenshot", 0, 0, G_OPTION_ARG_FILENAME, NULL,
          "Render the window to FILE.png once the view shows its data, then exit", "FILE" },
        { "view", 0, 0, G_OPTION_ARG_STRING, NULL,
          "View to show: scalars, histograms, distributions, images, text, graph, timeline",
          "VIEW" },
        { "graph", 0, 0, G_OPTION_ARG_FILENAME, NULL, "Open a GraphDef (.pb or .pbtxt)", "FILE" },
        { "expand", 0, 0, G_OPTION_ARG_STRING, NULL, "Expand this name scope in the graph view",
          "SCOPE" },
        { "smoothing", 0, 0, G_OPTION_ARG_DOUBLE, NULL, "Smoothing weight (0 to 0.99)", "W" },
        { "size", 0, 0, G_OPTION_ARG_STRING, NULL, "Window size", "WxH" },
        { "timeout", 0, 0, G_OPTION_ARG_INT, NULL,
          "Seconds --screenshot waits for the data at most (30)", "S" },
        { "bench", 0, 0, G_OPTION_ARG_NONE, NULL,
          "Print load and frame times for the first chart, then exit (tests/board/bench.sh)",
          NULL },
        { "version", 0, 0, G_OPTION_ARG_NONE, NULL, "Print the version and exit", NULL },
        { NULL, 0, 0, 0, NULL, NULL, NULL },
    };
    g_application_add_main_option_entries (G_APPLICATION (app), entries);
    g_application_set_option_context_parameter_string (G_APPLICATION (app), "LOGDIR...");
    g_application_set_option_context_summary (
        G_APPLICATION (app),
        "Shows TensorFlow event files (from Sluice, TensorFlow, Keras or PyTorch) live:\n"
        "scalars, histograms, distributions, images, text, graphs and timelines of traced steps.");
}

BoardApplication *
board_application_new (void)
{
    return g_object_new (BOARD_TYPE_APPLICATION, "application-id", "org.sluice.Board", "flags",
                         G_APPLICATION_HANDLES_OPEN | G_APPLICATION_NON_UNIQUE, NULL);
}
