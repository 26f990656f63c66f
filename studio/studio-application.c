/* The application object (see the header). */
#include "config.h"

#include "studio-application.h"

#include <stdio.h>

#include "board-screenshot.h"
#include "studio-layout.h"
#include "studio-window.h"

struct _StudioApplication {
    GtkApplication parent_instance;
    char *screenshot;
    char *select;
    char *size;
    char *collapse;
    char *expand;
    double zoom;
    gboolean zoomed;
    int ready_ticks;
    gint64 start;
};

G_DEFINE_FINAL_TYPE (StudioApplication, studio_application, GTK_TYPE_APPLICATION)

static const struct {
    const char *action;
    const char *accels[3];
} shortcuts[] = {
    { "win.open", { "<Control>o", NULL } },
    { "win.save", { "<Control>s", NULL } },
    { "win.save-as", { "<Control><Shift>s", NULL } },
    { "win.undo", { "<Control>z", NULL } },
    { "win.redo", { "<Control><Shift>z", "<Control>y", NULL } },
    { "win.delete", { "Delete", "BackSpace", NULL } },
    { "win.copy", { "<Control>c", NULL } },
    { "win.paste", { "<Control>v", NULL } },
    { "win.duplicate", { "<Control>d", NULL } },
    { "win.select-all", { "<Control>a", NULL } },
    { "win.find", { "<Control>f", NULL } },
    { "win.arrange", { "<Control>l", NULL } },
    { "win.group", { "<Control>g", NULL } },
    { "win.ungroup", { "<Control><Shift>g", NULL } },
    { "win.run", { "F5", NULL } },
    { "win.stop-run", { "<Shift>F5", NULL } },
    { "win.open-board", { "<Control>b", NULL } },
    { "win.show-times", { "<Control>t", NULL } },
    { "app.new", { "<Control>n", NULL } },
    { "app.quit", { "<Control>q", NULL } },
};

static gboolean
capture_tick (gpointer data)
{
    StudioWindow *w = data;
    StudioApplication *app = STUDIO_APPLICATION (gtk_window_get_application (GTK_WINDOW (w)));
    gboolean ready = studio_window_is_ready (w);
    gboolean late = g_get_monotonic_time () - app->start > 20 * G_USEC_PER_SEC;
    app->ready_ticks = ready ? app->ready_ticks + 1 : 0;
    if (ready && app->zoom > 0 && !app->zoomed) {
        /* --zoom: the selected node (else the graph's middle) at that scale */
        StudioGraphCanvas *c = studio_window_get_canvas (w);
        StudioDocument *doc = studio_window_get_document (w);
        double gx, gy;
        const StudioNode *n = app->select ? studio_document_find (doc, app->select, NULL) : NULL;
        if (n) {
            double nw, nh;
            studio_node_size (n, &nw, &nh);
            gx = n->x + nw / 2;
            gy = n->y + nh / 2;
        } else {
            studio_graph_canvas_get_cursor (c, &gx, &gy);   /* the view's middle */
        }
        studio_graph_canvas_set_view (c, app->zoom, gx, gy);
        app->zoomed = TRUE;
        app->ready_ticks = 0;
        return G_SOURCE_CONTINUE;
    }
    if (app->ready_ticks < 4 && !late)
        return G_SOURCE_CONTINUE;
    GError *error = NULL;
    if (!board_screenshot_widget (GTK_WIDGET (w), app->screenshot, &error)) {
        g_printerr ("sluice-studio: %s\n", error->message);
        g_error_free (error);
    } else {
        g_print ("sluice-studio: wrote %s\n", app->screenshot);
    }
    g_application_quit (G_APPLICATION (app));
    return G_SOURCE_REMOVE;
}

static StudioWindow *
open_window (StudioApplication *app, const char *path)
{
    StudioWindow *w = studio_window_new (GTK_APPLICATION (app));
    if (app->size) {
        int width = 0, height = 0;
        if (sscanf (app->size, "%dx%d", &width, &height) == 2 && width > 0 && height > 0)
            gtk_window_set_default_size (GTK_WINDOW (w), width, height);
    }
    gtk_window_present (GTK_WINDOW (w));
    if (path)
        studio_window_open (w, path);
    if (app->expand) {
        /* opened one after the other, as a user would click them */
        char **scopes = g_strsplit (app->expand, ",", -1);
        for (int i = 0; scopes[i]; i++)
            studio_graph_canvas_set_collapsed (studio_window_get_canvas (w), scopes[i], FALSE);
        g_strfreev (scopes);
        studio_graph_canvas_fit_first (studio_window_get_canvas (w));
    }
    if (app->collapse) {
        char **scopes = g_strsplit (app->collapse, ",", -1);
        for (int i = 0; scopes[i]; i++)
            studio_graph_canvas_set_collapsed (studio_window_get_canvas (w), scopes[i], TRUE);
        g_strfreev (scopes);
    }
    if (app->select)
        studio_graph_canvas_select (studio_window_get_canvas (w), app->select, FALSE);
    if (app->screenshot) {
        app->start = g_get_monotonic_time ();
        g_timeout_add (150, capture_tick, w);
    }
    return w;
}

static void
studio_application_activate (GApplication *gapp)
{
    open_window (STUDIO_APPLICATION (gapp), NULL);
}

static void
studio_application_open (GApplication *gapp, GFile **files, int n, const char *hint)
{
    for (int i = 0; i < n; i++) {
        char *path = g_file_get_path (files[i]);
        open_window (STUDIO_APPLICATION (gapp), path);
        g_free (path);
    }
}

static int
handle_local_options (GApplication *gapp, GVariantDict *opts)
{
    StudioApplication *app = STUDIO_APPLICATION (gapp);
    g_variant_dict_lookup (opts, "screenshot", "^ay", &app->screenshot);
    g_variant_dict_lookup (opts, "select", "s", &app->select);
    g_variant_dict_lookup (opts, "size", "s", &app->size);
    g_variant_dict_lookup (opts, "collapse", "s", &app->collapse);
    g_variant_dict_lookup (opts, "expand", "s", &app->expand);
    g_variant_dict_lookup (opts, "zoom", "d", &app->zoom);
    if (app->screenshot) {
        if (!g_path_is_absolute (app->screenshot)) {
            char *abs = g_canonicalize_filename (app->screenshot, NULL);
            g_free (app->screenshot);
            app->screenshot = abs;
        }
        /* one process per capture, not a remote call to a running studio */
        g_application_set_flags (gapp, g_application_get_flags (gapp) | G_APPLICATION_NON_UNIQUE);
    }
    return -1;
}

static void
act_quit (GSimpleAction *a, GVariant *p, gpointer data)
{
    /* closing a window can destroy it and remove it from the application's
     * list at once, so walk a referenced copy, not the live list */
    GList *wins = g_list_copy (gtk_application_get_windows (GTK_APPLICATION (data)));
    g_list_foreach (wins, (GFunc) (void (*) (void)) g_object_ref, NULL);
    for (GList *l = wins; l; l = l->next)
        gtk_window_close (GTK_WINDOW (l->data));
    g_list_free_full (wins, g_object_unref);
}

static void
act_new (GSimpleAction *a, GVariant *p, gpointer data)
{
    open_window (STUDIO_APPLICATION (data), NULL);
}

static const GActionEntry app_actions[] = {
    { "quit", act_quit, NULL, NULL, NULL, { 0 } },
    { "new", act_new, NULL, NULL, NULL, { 0 } },
};

static void
studio_application_startup (GApplication *gapp)
{
    G_APPLICATION_CLASS (studio_application_parent_class)->startup (gapp);
    g_object_set (gtk_settings_get_default (), "gtk-application-prefer-dark-theme", TRUE, NULL);
    /* the theme's error red is too dark to read on the dark panels: the
     * canvas's colours for messages */
    GtkCssProvider *css = gtk_css_provider_new ();
    gtk_css_provider_load_from_data (css, "label.error { color: #ff8a80; } label.warning { color: #f0c36a; }", -1);
    gtk_style_context_add_provider_for_display (gdk_display_get_default (), GTK_STYLE_PROVIDER (css),
                                                GTK_STYLE_PROVIDER_PRIORITY_APPLICATION);
    g_object_unref (css);
    g_action_map_add_action_entries (G_ACTION_MAP (gapp), app_actions, G_N_ELEMENTS (app_actions), gapp);
    for (guint i = 0; i < G_N_ELEMENTS (shortcuts); i++)
        gtk_application_set_accels_for_action (GTK_APPLICATION (gapp), shortcuts[i].action,
                                               shortcuts[i].accels);
}

static void
studio_application_finalize (GObject *object)
{
    StudioApplication *app = STUDIO_APPLICATION (object);
    g_free (app->screenshot);
    g_free (app->select);
    g_free (app->size);
    g_free (app->collapse);
    g_free (app->expand);
    G_OBJECT_CLASS (studio_application_parent_class)->finalize (object);
}

static void
studio_application_class_init (StudioApplicationClass *klass)
{
    G_OBJECT_CLASS (klass)->finalize = studio_application_finalize;
    G_APPLICATION_CLASS (klass)->activate = studio_application_activate;
    G_APPLICATION_CLASS (klass)->open = studio_application_open;
    G_APPLICATION_CLASS (klass)->startup = studio_application_startup;
    G_APPLICATION_CLASS (klass)->handle_local_options = handle_local_options;
}

static void
studio_application_init (StudioApplication *app)
{
    const GOptionEntry entries[] = {
        { "screenshot", 0, 0, G_OPTION_ARG_FILENAME, NULL, "Lay the graph out, write the window to FILE.png and quit", "FILE" },
        { "select", 0, 0, G_OPTION_ARG_STRING, NULL, "Select NODE (its attrs show in the inspector)", "NODE" },
        { "size", 0, 0, G_OPTION_ARG_STRING, NULL, "Window size", "WxH" },
        { "collapse", 0, 0, G_OPTION_ARG_STRING, NULL, "Collapse these scopes (comma-separated)", "SCOPES" },
        { "expand", 0, 0, G_OPTION_ARG_STRING, NULL, "Open these collapsed scopes (comma-separated, in order)", "SCOPES" },
        { "zoom", 0, 0, G_OPTION_ARG_DOUBLE, NULL, "With --screenshot: show the selected node at this scale (1: natural size)", "SCALE" },
        { NULL, 0, 0, 0, NULL, NULL, NULL },
    };
    g_application_add_main_option_entries (G_APPLICATION (app), entries);
    g_application_set_option_context_parameter_string (G_APPLICATION (app), "[GRAPH]");
}

StudioApplication *
studio_application_new (void)
{
    return g_object_new (STUDIO_TYPE_APPLICATION, "application-id", "org.sluice.Studio",
                         "flags", G_APPLICATION_HANDLES_OPEN | G_APPLICATION_NON_UNIQUE, NULL);
}
