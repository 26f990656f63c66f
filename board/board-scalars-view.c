/* The scalars dashboard (see the header).  Charts are created once per
 * tag as tags appear, never rebuilt, so live data keeps each chart's
 * zoom. */
#include "board-scalars-view.h"

#include <string.h>

struct _BoardScalarsView {
    GtkBox parent_instance;
    BoardDataset *ds;
    BoardChartSettings *settings;
    GtkWidget *filter_entry;
    GtkWidget *smoothing;
    GtkWidget *smoothing_label;
    GtkWidget *sections;        /* vertical box of expanders */
    GtkWidget *empty_label;
    GHashTable *charts;         /* tag -> card widget (borrowed) */
    GHashTable *groups;         /* group -> GtkFlowBox (borrowed) */
    GRegex *filter;
    char *logdirs;              /* for the empty state: "a, b" */
};

G_DEFINE_FINAL_TYPE (BoardScalarsView, board_scalars_view, GTK_TYPE_BOX)

static gboolean
tag_visible (BoardScalarsView *v, const char *tag)
{
    return !v->filter || g_regex_match (v->filter, tag, 0, NULL);
}

static void
apply_filter (BoardScalarsView *v)
{
    GHashTableIter it;
    gpointer key, value;
    g_hash_table_iter_init (&it, v->charts);
    while (g_hash_table_iter_next (&it, &key, &value)) {
        GtkWidget *card = value;
        GtkWidget *child = gtk_widget_get_parent (card);   /* the flow box child */
        gtk_widget_set_visible (child, tag_visible (v, key));
    }
    /* hide sections with nothing shown */
    g_hash_table_iter_init (&it, v->groups);
    while (g_hash_table_iter_next (&it, &key, &value)) {
        GtkWidget *flow = value;
        gboolean any = FALSE;
        guint shown = 0;
        for (GtkWidget *c = gtk_widget_get_first_child (flow); c; c = gtk_widget_get_next_sibling (c))
            if (gtk_widget_get_visible (c)) {
                any = TRUE;
                shown++;
            }
        /* a group of one or two charts spreads them over the whole line
         * instead of leaving the columns it does not fill empty */
        gtk_flow_box_set_max_children_per_line (GTK_FLOW_BOX (flow), CLAMP (shown, 1, 4));
        GtkWidget *expander = gtk_widget_get_ancestor (flow, GTK_TYPE_EXPANDER);
        if (expander)
            gtk_widget_set_visible (expander, any);
    }
}

static void
on_card_action (GSimpleAction *a, GVariant *param, gpointer data)
{
    GtkWidget *chart = g_object_get_data (G_OBJECT (a), "chart");
    gtk_widget_activate_action (chart, g_object_get_data (G_OBJECT (a), "target"), NULL);
}

static GtkWidget *
make_card (BoardScalarsView *v, const char *tag)
{
    GtkWidget *chart = board_scalar_chart_new (v->ds, v->settings, tag);
    GtkWidget *overlay = gtk_overlay_new ();
    gtk_overlay_set_child (GTK_OVERLAY (overlay), chart);
    gtk_widget_add_css_class (overlay, "card");
    gtk_widget_set_size_request (overlay, 400, 270);
    /* the export menu: its actions are the chart's, reached through an
     * action group on the card */
    GMenu *menu = g_menu_new ();
    g_menu_append (menu, "Export series as CSV", "card.export-csv");
    g_menu_append (menu, "Export series as JSON", "card.export-json");
    g_menu_append (menu, "Export chart as PNG", "card.export-png");
    g_menu_append (menu, "Export chart as SVG", "card.export-svg");
    g_menu_append (menu, "Reset zoom", "card.reset-zoom");
    GtkWidget *button = gtk_menu_button_new ();
    gtk_menu_button_set_icon_name (GTK_MENU_BUTTON (button), "view-more-symbolic");
    gtk_menu_button_set_menu_model (GTK_MENU_BUTTON (button), G_MENU_MODEL (menu));
    gtk_widget_add_css_class (button, "flat");
    gtk_widget_set_halign (button, GTK_ALIGN_END);
    gtk_widget_set_valign (button, GTK_ALIGN_START);
    gtk_widget_set_tooltip_text (button, "Export");
    g_object_unref (menu);
    gtk_overlay_add_overlay (GTK_OVERLAY (overlay), button);
    GSimpleActionGroup *group = g_simple_action_group_new ();
    static const char *const names[] = { "export-csv", "export-json", "export-png", "export-svg",
                                         "reset-zoom" };
    for (size_t i = 0; i < G_N_ELEMENTS (names); i++) {
        GSimpleAction *a = g_simple_action_new (names[i], NULL);
        char *target = g_strconcat ("chart.", names[i], NULL);
        g_object_set_data_full (G_OBJECT (a), "target", target, g_free);
        g_signal_connect (a, "activate", G_CALLBACK (on_card_action), NULL);
        g_object_set_data (G_OBJECT (a), "chart", chart);
        g_action_map_add_action (G_ACTION_MAP (group), G_ACTION (a));
        g_object_unref (a);
    }
    gtk_widget_insert_action_group (overlay, "card", G_ACTION_GROUP (group));
    g_object_unref (group);
    return overlay;
}

static void
add_tag (BoardScalarsView *v, const char *tag)
{
    if (g_hash_table_contains (v->charts, tag))
        return;
    /* tags without a prefix share one section: a section each left a
     * screenful of one-chart sections */
    char *group = strchr (tag, '/') ? board_tag_group (tag) : g_strdup ("(no prefix)");
    GtkWidget *flow = g_hash_table_lookup (v->groups, group);
    if (!flow) {
        flow = gtk_flow_box_new ();
        gtk_flow_box_set_selection_mode (GTK_FLOW_BOX (flow), GTK_SELECTION_NONE);
        gtk_flow_box_set_homogeneous (GTK_FLOW_BOX (flow), TRUE);
        gtk_flow_box_set_max_children_per_line (GTK_FLOW_BOX (flow), 4);
        gtk_flow_box_set_column_spacing (GTK_FLOW_BOX (flow), 8);
        gtk_flow_box_set_row_spacing (GTK_FLOW_BOX (flow), 8);
        GtkWidget *exp = gtk_expander_new (group);
        gtk_expander_set_expanded (GTK_EXPANDER (exp), TRUE);
        gtk_expander_set_child (GTK_EXPANDER (exp), flow);
        gtk_widget_add_css_class (exp, "heading");
        /* sections in name order */
        GtkWidget *before = NULL;
        for (GtkWidget *c = gtk_widget_get_first_child (v->sections); c;
             c = gtk_widget_get_next_sibling (c)) {
            if (GTK_IS_EXPANDER (c) &&
                strcmp (gtk_expander_get_label (GTK_EXPANDER (c)), group) > 0)
                break;
            before = c;
        }
        gtk_box_insert_child_after (GTK_BOX (v->sections), exp, before);
        g_hash_table_insert (v->groups, g_strdup (group), flow);
    }
    g_free (group);
    GtkWidget *card = make_card (v, tag);
    gtk_flow_box_append (GTK_FLOW_BOX (flow), card);
    g_hash_table_insert (v->charts, g_strdup (tag), card);
    gtk_widget_set_visible (v->empty_label, FALSE);
}

static void
refresh_tags (BoardScalarsView *v)
{
    GPtrArray *tags = board_dataset_tags (v->ds, BOARD_KIND_SCALAR);
    for (guint i = 0; i < tags->len; i++)
        add_tag (v, g_ptr_array_index (tags, i));
    g_ptr_array_unref (tags);
    apply_filter (v);
}

static void
on_tags_changed (BoardDataset *ds, int kind, BoardScalarsView *v)
{
    if (kind == BOARD_KIND_SCALAR)
        refresh_tags (v);
}

static void
on_changed (BoardDataset *ds, BoardScalarsView *v)
{
    if (!board_dataset_is_complete (ds) || g_hash_table_size (v->charts) > 0)
        return;
    char *text;
    if (!v->logdirs)
        return;
    if (g_list_model_get_n_items (board_dataset_get_runs (ds)) == 0)
        text = g_strdup_printf ("No runs in %s yet: it holds no event files "
                                "(events.out.tfevents.*).\n"
                                "Runs show up here as soon as a writer creates one.",
                                v->logdirs);
    else
        text = g_strdup ("No scalar data in these logs.");
    gtk_label_set_text (GTK_LABEL (v->empty_label), text);
    g_free (text);
}

void
board_scalars_view_set_logdirs (BoardScalarsView *v, const char *const *logdirs)
{
    g_clear_pointer (&v->logdirs, g_free);
    if (logdirs && logdirs[0])
        v->logdirs = g_strjoinv (", ", (char **) logdirs);
    gtk_label_set_text (GTK_LABEL (v->empty_label),
                        v->logdirs ? "Reading the logs\u2026"
                                   : "No logdir open: open one with Ctrl+O.");
    on_changed (v->ds, v);
}

const char *
board_scalars_view_get_empty_text (BoardScalarsView *v)
{
    return gtk_widget_get_visible (v->empty_label)
        ? gtk_label_get_text (GTK_LABEL (v->empty_label)) : "";
}

static void
on_filter_changed (GtkEditable *e, BoardScalarsView *v)
{
    const char *text = gtk_editable_get_text (e);
    g_clear_pointer (&v->filter, g_regex_unref);
    if (*text)
        v->filter = g_regex_new (text, G_REGEX_CASELESS, 0, NULL);
    if (*text && !v->filter)
        gtk_widget_add_css_class (GTK_WIDGET (e), "error");
    else
        gtk_widget_remove_css_class (GTK_WIDGET (e), "error");
    apply_filter (v);
}

static void
on_smoothing (GtkRange *r, BoardScalarsView *v)
{
    double w = gtk_range_get_value (r);
    char buf[16];
    g_snprintf (buf, sizeof buf, "%.2f", w);
    gtk_label_set_text (GTK_LABEL (v->smoothing_label), buf);
    board_chart_settings_set_smoothing (v->settings, w);
}

static void
on_axis (GObject *o, GParamSpec *p, BoardScalarsView *v)
{
    board_chart_settings_set_x_axis (v->settings,
                                     (BoardXAxis) gtk_drop_down_get_selected (GTK_DROP_DOWN (o)));
}

static void
on_toggle (GtkToggleButton *b, BoardScalarsView *v)
{
    const char *what = g_object_get_data (G_OBJECT (b), "what");
    gboolean on = gtk_toggle_button_get_active (b);
    if (g_str_equal (what, "logx"))
        board_chart_settings_set_log_x (v->settings, on);
    else if (g_str_equal (what, "logy"))
        board_chart_settings_set_log_y (v->settings, on);
    else
        board_chart_settings_set_ignore_outliers (v->settings, on);
}

static GtkWidget *
toggle (BoardScalarsView *v, const char *label, const char *what, const char *tip, gboolean on)
{
    GtkWidget *b = gtk_toggle_button_new_with_label (label);
    g_object_set_data (G_OBJECT (b), "what", (gpointer) what);
    gtk_widget_set_tooltip_text (b, tip);
    gtk_toggle_button_set_active (GTK_TOGGLE_BUTTON (b), on);
    g_signal_connect (b, "toggled", G_CALLBACK (on_toggle), v);
    return b;
}

static void
board_scalars_view_dispose (GObject *o)
{
    BoardScalarsView *v = BOARD_SCALARS_VIEW (o);
    if (v->ds)
        g_signal_handlers_disconnect_by_data (v->ds, v);
    g_clear_object (&v->ds);
    g_clear_object (&v->settings);
    g_clear_pointer (&v->filter, g_regex_unref);
    g_clear_pointer (&v->logdirs, g_free);
    g_clear_pointer (&v->charts, g_hash_table_unref);
    g_clear_pointer (&v->groups, g_hash_table_unref);
    G_OBJECT_CLASS (board_scalars_view_parent_class)->dispose (o);
}

static void
board_scalars_view_class_init (BoardScalarsViewClass *klass)
{
    G_OBJECT_CLASS (klass)->dispose = board_scalars_view_dispose;
}

static void
board_scalars_view_init (BoardScalarsView *v)
{
    v->charts = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
    v->groups = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
}

GtkWidget *
board_scalars_view_new (BoardDataset *ds, BoardChartSettings *settings)
{
    BoardScalarsView *v = g_object_new (BOARD_TYPE_SCALARS_VIEW, "orientation",
                                        GTK_ORIENTATION_VERTICAL, "spacing", 0, NULL);
    v->ds = g_object_ref (ds);
    v->settings = g_object_ref (settings);

    GtkWidget *bar = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 8);
    gtk_widget_set_margin_start (bar, 8);
    gtk_widget_set_margin_end (bar, 8);
    gtk_widget_set_margin_top (bar, 6);
    gtk_widget_set_margin_bottom (bar, 6);
    v->filter_entry = gtk_search_entry_new ();
    g_object_set (v->filter_entry, "placeholder-text", "Filter tags (regex)", NULL);
    gtk_widget_set_size_request (v->filter_entry, 200, -1);
    g_signal_connect (v->filter_entry, "search-changed", G_CALLBACK (on_filter_changed), v);
    gtk_box_append (GTK_BOX (bar), v->filter_entry);

    gtk_box_append (GTK_BOX (bar), gtk_label_new ("Smoothing"));
    v->smoothing = gtk_scale_new_with_range (GTK_ORIENTATION_HORIZONTAL, 0, 0.99, 0.01);
    gtk_scale_set_draw_value (GTK_SCALE (v->smoothing), FALSE);
    gtk_widget_set_size_request (v->smoothing, 160, -1);
    gtk_range_set_value (GTK_RANGE (v->smoothing), board_chart_settings_get_smoothing (settings));
    gtk_widget_set_tooltip_text (v->smoothing,
                                 "TensorBoard's debiased exponential moving average");
    gtk_box_append (GTK_BOX (bar), v->smoothing);
    v->smoothing_label = gtk_label_new ("0.60");
    gtk_label_set_width_chars (GTK_LABEL (v->smoothing_label), 4);
    gtk_box_append (GTK_BOX (bar), v->smoothing_label);
    g_signal_connect (v->smoothing, "value-changed", G_CALLBACK (on_smoothing), v);
    on_smoothing (GTK_RANGE (v->smoothing), v);

    const char *axes[] = { "Step", "Relative time", "Wall time", NULL };
    GtkWidget *axis = gtk_drop_down_new_from_strings (axes);
    gtk_drop_down_set_selected (GTK_DROP_DOWN (axis),
                                (guint) board_chart_settings_get_x_axis (settings));
    gtk_widget_set_tooltip_text (axis, "Horizontal axis");
    g_signal_connect (axis, "notify::selected", G_CALLBACK (on_axis), v);
    gtk_box_append (GTK_BOX (bar), axis);
    gtk_box_append (GTK_BOX (bar), toggle (v, "Log x", "logx", "Logarithmic horizontal axis",
                                           board_chart_settings_get_log_x (settings)));
    gtk_box_append (GTK_BOX (bar), toggle (v, "Log y", "logy", "Logarithmic vertical axis",
                                           board_chart_settings_get_log_y (settings)));
    gtk_box_append (GTK_BOX (bar), toggle (v, "Ignore outliers", "outliers",
                                           "Fit the vertical axis to the 5th-95th percentiles",
                                           board_chart_settings_get_ignore_outliers (settings)));
    gtk_box_append (GTK_BOX (v), bar);

    v->sections = gtk_box_new (GTK_ORIENTATION_VERTICAL, 8);
    gtk_widget_set_margin_start (v->sections, 8);
    gtk_widget_set_margin_end (v->sections, 8);
    gtk_widget_set_margin_bottom (v->sections, 8);
    v->empty_label = gtk_label_new ("Reading the logs\u2026");
    gtk_widget_add_css_class (v->empty_label, "dim-label");
    gtk_widget_set_margin_top (v->empty_label, 40);
    gtk_box_append (GTK_BOX (v->sections), v->empty_label);
    GtkWidget *scroll = gtk_scrolled_window_new ();
    gtk_scrolled_window_set_child (GTK_SCROLLED_WINDOW (scroll), v->sections);
    gtk_scrolled_window_set_policy (GTK_SCROLLED_WINDOW (scroll), GTK_POLICY_NEVER,
                                    GTK_POLICY_AUTOMATIC);
    gtk_widget_set_vexpand (scroll, TRUE);
    gtk_box_append (GTK_BOX (v), scroll);

    g_signal_connect (ds, "tags-changed", G_CALLBACK (on_tags_changed), v);
    g_signal_connect (ds, "changed", G_CALLBACK (on_changed), v);
    refresh_tags (v);
    return GTK_WIDGET (v);
}

void
board_scalars_view_focus_filter (BoardScalarsView *v)
{
    gtk_widget_grab_focus (v->filter_entry);
}

BoardScalarChart *
board_scalars_view_get_chart (BoardScalarsView *v, const char *tag)
{
    GtkWidget *card = NULL;
    if (tag) {
        card = g_hash_table_lookup (v->charts, tag);
    } else {
        GPtrArray *tags = board_dataset_tags (v->ds, BOARD_KIND_SCALAR);
        if (tags->len)
            card = g_hash_table_lookup (v->charts, g_ptr_array_index (tags, 0));
        g_ptr_array_unref (tags);
    }
    return card ? BOARD_SCALAR_CHART (gtk_overlay_get_child (GTK_OVERLAY (card))) : NULL;
}

gboolean
board_scalars_view_is_drawn (BoardScalarsView *v)
{
    GHashTableIter it;
    gpointer value;
    g_hash_table_iter_init (&it, v->charts);
    while (g_hash_table_iter_next (&it, NULL, &value)) {
        BoardScalarChart *c = BOARD_SCALAR_CHART (gtk_overlay_get_child (GTK_OVERLAY (value)));
        if (board_scalar_chart_has_drawn_data (c))
            return TRUE;
    }
    return FALSE;
}

gboolean
board_scalars_view_is_ready (BoardScalarsView *v)
{
    if (!board_dataset_is_complete (v->ds))
        return FALSE;
    if (g_hash_table_size (v->charts) == 0)
        return TRUE;
    GHashTableIter it;
    gpointer value;
    g_hash_table_iter_init (&it, v->charts);
    while (g_hash_table_iter_next (&it, NULL, &value)) {
        BoardScalarChart *c = BOARD_SCALAR_CHART (gtk_overlay_get_child (GTK_OVERLAY (value)));
        if (board_scalar_chart_has_drawn_data (c))
            return TRUE;
    }
    return FALSE;
}

GtkRange *
board_scalars_view_get_smoothing_range (BoardScalarsView *v)
{
    return GTK_RANGE (v->smoothing);
}
