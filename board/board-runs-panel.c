/* The runs panel (see the header). */
#include "board-runs-panel.h"

struct _BoardRunsPanel {
    GtkBox parent_instance;
    BoardDataset *ds;
    BoardChartSettings *settings;
    GtkWidget *filter_entry;
    GtkCustomFilter *filter;
    GRegex *regex;
    GtkWidget *group_drop;
    GtkWidget *group_entry;
    GtkWidget *band_drop;
    GtkFilterListModel *filtered;
};

G_DEFINE_FINAL_TYPE (BoardRunsPanel, board_runs_panel, GTK_TYPE_BOX)

static gboolean
filter_func (gpointer item, gpointer data)
{
    BoardRunsPanel *p = data;
    if (!p->regex)
        return TRUE;
    return g_regex_match (p->regex, board_run_get_name (item), 0, NULL);
}

static void
on_filter_changed (GtkEditable *e, BoardRunsPanel *p)
{
    const char *text = gtk_editable_get_text (e);
    if (p->regex)
        g_regex_unref (p->regex);
    p->regex = *text ? g_regex_new (text, G_REGEX_CASELESS, 0, NULL) : NULL;
    if (*text && !p->regex)
        gtk_widget_add_css_class (GTK_WIDGET (e), "error");
    else
        gtk_widget_remove_css_class (GTK_WIDGET (e), "error");
    gtk_filter_changed (GTK_FILTER (p->filter), GTK_FILTER_CHANGE_DIFFERENT);
}

static gboolean
uint_to_rgba (GBinding *b, const GValue *from, GValue *to, gpointer data)
{
    guint32 c = g_value_get_uint (from);
    GdkRGBA rgba = { ((c >> 16) & 0xff) / 255.0f, ((c >> 8) & 0xff) / 255.0f,
                     (c & 0xff) / 255.0f, 1 };
    g_value_set_boxed (to, &rgba);
    return TRUE;
}

static gboolean
rgba_to_uint (GBinding *b, const GValue *from, GValue *to, gpointer data)
{
    const GdkRGBA *rgba = g_value_get_boxed (from);
    if (!rgba)
        return FALSE;
    guint32 c = ((guint32) (rgba->red * 255 + 0.5) << 16) |
                ((guint32) (rgba->green * 255 + 0.5) << 8) | (guint32) (rgba->blue * 255 + 0.5);
    g_value_set_uint (to, c);
    return TRUE;
}

static void
setup_row (GtkSignalListItemFactory *f, GtkListItem *item, BoardRunsPanel *p)
{
    GtkWidget *box = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 6);
    GtkWidget *check = gtk_check_button_new ();
    G_GNUC_BEGIN_IGNORE_DEPRECATIONS
    GtkWidget *color = gtk_color_button_new ();
    G_GNUC_END_IGNORE_DEPRECATIONS
    gtk_widget_add_css_class (color, "flat");
    gtk_widget_set_tooltip_text (color, "Run color");
    GtkWidget *label = gtk_label_new (NULL);
    gtk_label_set_xalign (GTK_LABEL (label), 0);
    gtk_label_set_ellipsize (GTK_LABEL (label), PANGO_ELLIPSIZE_MIDDLE);
    gtk_widget_set_hexpand (label, TRUE);
    gtk_box_append (GTK_BOX (box), check);
    gtk_box_append (GTK_BOX (box), color);
    gtk_box_append (GTK_BOX (box), label);
    gtk_list_item_set_child (item, box);
}

static void
on_color_notify (GObject *button, GParamSpec *pspec, BoardRunsPanel *p)
{
    BoardRun *run = g_object_get_data (button, "run");
    if (run)
        board_dataset_set_run_color (p->ds, board_run_get_name (run), board_run_get_color (run));
}

static void
bind_row (GtkSignalListItemFactory *f, GtkListItem *item, BoardRunsPanel *p)
{
    BoardRun *run = gtk_list_item_get_item (item);
    GtkWidget *box = gtk_list_item_get_child (item);
    GtkWidget *check = gtk_widget_get_first_child (box);
    GtkWidget *color = gtk_widget_get_next_sibling (check);
    GtkWidget *label = gtk_widget_get_next_sibling (color);
    gtk_label_set_text (GTK_LABEL (label), board_run_get_name (run));
    gtk_widget_set_tooltip_text (label, board_run_get_dir (run));
    GBinding *b1 = g_object_bind_property (run, "visible", check, "active",
                                           G_BINDING_BIDIRECTIONAL | G_BINDING_SYNC_CREATE);
    GBinding *b2 = g_object_bind_property_full (run, "color", color, "rgba",
                                                G_BINDING_BIDIRECTIONAL | G_BINDING_SYNC_CREATE,
                                                uint_to_rgba, rgba_to_uint, NULL, NULL);
    g_object_set_data (G_OBJECT (item), "b1", b1);
    g_object_set_data (G_OBJECT (item), "b2", b2);
    g_object_set_data (G_OBJECT (color), "run", run);
    g_object_set_data (G_OBJECT (check), "run", run);   /* for the state dump */
    g_signal_connect (color, "color-set", G_CALLBACK (on_color_notify), p);
}

static void
unbind_row (GtkSignalListItemFactory *f, GtkListItem *item, BoardRunsPanel *p)
{
    GBinding *b1 = g_object_get_data (G_OBJECT (item), "b1");
    GBinding *b2 = g_object_get_data (G_OBJECT (item), "b2");
    if (b1)
        g_binding_unbind (b1);
    if (b2)
        g_binding_unbind (b2);
    g_object_set_data (G_OBJECT (item), "b1", NULL);
    g_object_set_data (G_OBJECT (item), "b2", NULL);
    GtkWidget *box = gtk_list_item_get_child (item);
    GtkWidget *color = gtk_widget_get_next_sibling (gtk_widget_get_first_child (box));
    g_signal_handlers_disconnect_by_func (color, on_color_notify, p);
    g_object_set_data (G_OBJECT (color), "run", NULL);
}

static void
set_all (BoardRunsPanel *p, gboolean visible)
{
    GListModel *m = G_LIST_MODEL (p->filtered);
    for (guint i = 0; i < g_list_model_get_n_items (m); i++) {
        BoardRun *run = g_list_model_get_item (m, i);
        board_run_set_visible (run, visible);
        g_object_unref (run);
    }
}

static void on_show_all (GtkButton *b, BoardRunsPanel *p) { set_all (p, TRUE); }
static void on_hide_all (GtkButton *b, BoardRunsPanel *p) { set_all (p, FALSE); }

static void
on_grouping_changed (GObject *o, GParamSpec *pspec, BoardRunsPanel *p)
{
    guint mode = gtk_drop_down_get_selected (GTK_DROP_DOWN (p->group_drop));
    const char *pattern = gtk_editable_get_text (GTK_EDITABLE (p->group_entry));
    gtk_widget_set_sensitive (p->group_entry, mode == BOARD_GROUP_REGEX);
    gboolean ok = board_chart_settings_set_grouping (p->settings, (BoardGroupMode) mode, pattern);
    if (ok)
        gtk_widget_remove_css_class (p->group_entry, "error");
    else
        gtk_widget_add_css_class (p->group_entry, "error");
    board_chart_settings_set_band (p->settings,
                                   gtk_drop_down_get_selected (GTK_DROP_DOWN (p->band_drop)) == 1
                                       ? BOARD_BAND_STD : BOARD_BAND_MINMAX);
}

static void
on_group_entry_changed (GtkEditable *e, BoardRunsPanel *p)
{
    on_grouping_changed (G_OBJECT (e), NULL, p);
}

static void
board_runs_panel_dispose (GObject *o)
{
    BoardRunsPanel *p = BOARD_RUNS_PANEL (o);
    g_clear_object (&p->ds);
    g_clear_object (&p->settings);
    g_clear_pointer (&p->regex, g_regex_unref);
    G_OBJECT_CLASS (board_runs_panel_parent_class)->dispose (o);
}

static void
board_runs_panel_class_init (BoardRunsPanelClass *klass)
{
    G_OBJECT_CLASS (klass)->dispose = board_runs_panel_dispose;
}

static void
board_runs_panel_init (BoardRunsPanel *p)
{
}

GtkWidget *
board_runs_panel_new (BoardDataset *ds, BoardChartSettings *settings)
{
    BoardRunsPanel *p = g_object_new (BOARD_TYPE_RUNS_PANEL, "orientation", GTK_ORIENTATION_VERTICAL,
                                      "spacing", 6, NULL);
    p->ds = g_object_ref (ds);
    p->settings = g_object_ref (settings);
    gtk_widget_set_margin_start (GTK_WIDGET (p), 8);
    gtk_widget_set_margin_end (GTK_WIDGET (p), 8);
    gtk_widget_set_margin_top (GTK_WIDGET (p), 8);
    gtk_widget_set_margin_bottom (GTK_WIDGET (p), 8);

    GtkWidget *title = gtk_label_new ("Runs");
    gtk_label_set_xalign (GTK_LABEL (title), 0);
    gtk_widget_add_css_class (title, "heading");
    gtk_box_append (GTK_BOX (p), title);

    p->filter_entry = gtk_search_entry_new ();
    g_object_set (p->filter_entry, "placeholder-text",
                                           "Filter runs (regex)", NULL);
    g_signal_connect (p->filter_entry, "search-changed", G_CALLBACK (on_filter_changed), p);
    gtk_box_append (GTK_BOX (p), p->filter_entry);

    GtkWidget *row = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 6);
    GtkWidget *all = gtk_button_new_with_label ("Show all");
    GtkWidget *none = gtk_button_new_with_label ("Hide all");
    g_signal_connect (all, "clicked", G_CALLBACK (on_show_all), p);
    g_signal_connect (none, "clicked", G_CALLBACK (on_hide_all), p);
    gtk_widget_set_hexpand (all, TRUE);
    gtk_widget_set_hexpand (none, TRUE);
    gtk_box_append (GTK_BOX (row), all);
    gtk_box_append (GTK_BOX (row), none);
    gtk_box_append (GTK_BOX (p), row);

    p->filter = gtk_custom_filter_new (filter_func, p, NULL);
    g_object_ref (board_dataset_get_runs (ds));
    p->filtered = gtk_filter_list_model_new (board_dataset_get_runs (ds), GTK_FILTER (p->filter));
    GtkListItemFactory *factory = gtk_signal_list_item_factory_new ();
    g_signal_connect (factory, "setup", G_CALLBACK (setup_row), p);
    g_signal_connect (factory, "bind", G_CALLBACK (bind_row), p);
    g_signal_connect (factory, "unbind", G_CALLBACK (unbind_row), p);
    GtkWidget *list = gtk_list_view_new (GTK_SELECTION_MODEL (gtk_no_selection_new (
                                             G_LIST_MODEL (p->filtered))), factory);
    GtkWidget *scroll = gtk_scrolled_window_new ();
    gtk_scrolled_window_set_child (GTK_SCROLLED_WINDOW (scroll), list);
    gtk_scrolled_window_set_policy (GTK_SCROLLED_WINDOW (scroll), GTK_POLICY_NEVER,
                                    GTK_POLICY_AUTOMATIC);
    gtk_widget_set_vexpand (scroll, TRUE);
    gtk_widget_add_css_class (scroll, "card");
    gtk_box_append (GTK_BOX (p), scroll);

    GtkWidget *gl = gtk_label_new ("Group runs");
    gtk_label_set_xalign (GTK_LABEL (gl), 0);
    gtk_widget_add_css_class (gl, "heading");
    gtk_box_append (GTK_BOX (p), gl);
    const char *modes[] = { "No groups", "By name prefix", "By regex", NULL };
    p->group_drop = gtk_drop_down_new_from_strings (modes);
    gtk_box_append (GTK_BOX (p), p->group_drop);
    p->group_entry = gtk_entry_new ();
    gtk_entry_set_placeholder_text (GTK_ENTRY (p->group_entry), "regex, e.g. lr=([0-9.]+)");
    gtk_widget_set_sensitive (p->group_entry, FALSE);
    gtk_box_append (GTK_BOX (p), p->group_entry);
    const char *bands[] = { "Band: min \u2013 max", "Band: mean \u00b1 std", NULL };
    p->band_drop = gtk_drop_down_new_from_strings (bands);
    gtk_box_append (GTK_BOX (p), p->band_drop);
    g_signal_connect (p->group_drop, "notify::selected", G_CALLBACK (on_grouping_changed), p);
    g_signal_connect (p->band_drop, "notify::selected", G_CALLBACK (on_grouping_changed), p);
    g_signal_connect (p->group_entry, "changed", G_CALLBACK (on_group_entry_changed), p);
    return GTK_WIDGET (p);
}

void
board_runs_panel_focus_filter (BoardRunsPanel *p)
{
    gtk_widget_grab_focus (p->filter_entry);
}
