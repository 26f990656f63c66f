/* Histogram and distribution dashboards (see the header). */
#include "board-histograms-view.h"

struct _BoardHistogramsView {
    GtkBox parent_instance;
    BoardDataset *ds;
    gboolean distributions;
    BoardHistogramMode mode;
    GtkWidget *flow;
    GtkWidget *empty;
    GHashTable *cards;   /* "run\001tag" -> BoardHistogramChart */
};

G_DEFINE_FINAL_TYPE (BoardHistogramsView, board_histograms_view, GTK_TYPE_BOX)

static void
add_cards (BoardHistogramsView *v)
{
    GListModel *runs = board_dataset_get_runs (v->ds);
    for (guint i = 0; i < g_list_model_get_n_items (runs); i++) {
        BoardRun *run = g_list_model_get_item (runs, i);
        GPtrArray *tags = board_run_get_tags (run);
        for (guint k = 0; k < tags->len; k++) {
            const char *tag = g_ptr_array_index (tags, k);
            BoardSeries *s = board_run_get_series (run, tag);
            if (s->kind != BOARD_KIND_HISTOGRAM)
                continue;
            char *key = g_strconcat (board_run_get_name (run), "\001", tag, NULL);
            if (g_hash_table_contains (v->cards, key)) {
                g_free (key);
                continue;
            }
            char *title = g_strdup_printf ("%s \u2014 %s", tag, board_run_get_name (run));
            GtkWidget *chart = board_histogram_chart_new (s, title, board_run_get_color (run),
                                                          v->mode);
            g_free (title);
            gtk_widget_add_css_class (chart, "card");
            gtk_flow_box_append (GTK_FLOW_BOX (v->flow), chart);
            g_hash_table_insert (v->cards, key, chart);
            gtk_widget_set_visible (v->empty, FALSE);
        }
        g_object_unref (run);
    }
}

static void
on_changed (BoardDataset *ds, BoardHistogramsView *v)
{
    add_cards (v);
    if (board_dataset_is_complete (ds) && g_hash_table_size (v->cards) == 0)
        gtk_label_set_text (GTK_LABEL (v->empty), "No histograms in these logs.");
}

static void
on_series_changed (BoardDataset *ds, BoardRun *run, const char *tag, BoardHistogramsView *v)
{
    char *key = g_strconcat (board_run_get_name (run), "\001", tag, NULL);
    GtkWidget *chart = g_hash_table_lookup (v->cards, key);
    if (chart)
        board_histogram_chart_refresh (BOARD_HISTOGRAM_CHART (chart));
    g_free (key);
}

static void
on_mode (GObject *o, GParamSpec *p, BoardHistogramsView *v)
{
    v->mode = gtk_drop_down_get_selected (GTK_DROP_DOWN (o)) == 1 ? BOARD_HISTOGRAM_OVERLAY
                                                                   : BOARD_HISTOGRAM_OFFSET;
    GHashTableIter it;
    gpointer value;
    g_hash_table_iter_init (&it, v->cards);
    while (g_hash_table_iter_next (&it, NULL, &value))
        board_histogram_chart_set_mode (value, v->mode);
}

static void
board_histograms_view_dispose (GObject *o)
{
    BoardHistogramsView *v = BOARD_HISTOGRAMS_VIEW (o);
    if (v->ds)
        g_signal_handlers_disconnect_by_data (v->ds, v);
    g_clear_object (&v->ds);
    g_clear_pointer (&v->cards, g_hash_table_unref);
    G_OBJECT_CLASS (board_histograms_view_parent_class)->dispose (o);
}

static void
board_histograms_view_class_init (BoardHistogramsViewClass *klass)
{
    G_OBJECT_CLASS (klass)->dispose = board_histograms_view_dispose;
}

static void
board_histograms_view_init (BoardHistogramsView *v)
{
    v->cards = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
}

GtkWidget *
board_histograms_view_new (BoardDataset *ds, gboolean distributions)
{
    BoardHistogramsView *v = g_object_new (BOARD_TYPE_HISTOGRAMS_VIEW, "orientation",
                                           GTK_ORIENTATION_VERTICAL, NULL);
    v->ds = g_object_ref (ds);
    v->distributions = distributions;
    v->mode = distributions ? BOARD_HISTOGRAM_DISTRIBUTION : BOARD_HISTOGRAM_OFFSET;
    if (!distributions) {
        GtkWidget *bar = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 8);
        gtk_widget_set_margin_start (bar, 8);
        gtk_widget_set_margin_top (bar, 6);
        gtk_widget_set_margin_bottom (bar, 6);
        gtk_box_append (GTK_BOX (bar), gtk_label_new ("Mode"));
        const char *modes[] = { "Offset", "Overlay", NULL };
        GtkWidget *drop = gtk_drop_down_new_from_strings (modes);
        g_signal_connect (drop, "notify::selected", G_CALLBACK (on_mode), v);
        gtk_box_append (GTK_BOX (bar), drop);
        gtk_box_append (GTK_BOX (v), bar);
    }
    v->empty = gtk_label_new ("Reading the logs\u2026");
    gtk_widget_add_css_class (v->empty, "dim-label");
    gtk_widget_set_margin_top (v->empty, 40);
    gtk_box_append (GTK_BOX (v), v->empty);
    v->flow = gtk_flow_box_new ();
    gtk_flow_box_set_selection_mode (GTK_FLOW_BOX (v->flow), GTK_SELECTION_NONE);
    gtk_flow_box_set_homogeneous (GTK_FLOW_BOX (v->flow), TRUE);
    gtk_flow_box_set_max_children_per_line (GTK_FLOW_BOX (v->flow), 4);
    gtk_flow_box_set_column_spacing (GTK_FLOW_BOX (v->flow), 8);
    gtk_flow_box_set_row_spacing (GTK_FLOW_BOX (v->flow), 8);
    gtk_widget_set_valign (v->flow, GTK_ALIGN_START);
    gtk_widget_set_margin_start (v->flow, 8);
    gtk_widget_set_margin_end (v->flow, 8);
    GtkWidget *scroll = gtk_scrolled_window_new ();
    gtk_scrolled_window_set_child (GTK_SCROLLED_WINDOW (scroll), v->flow);
    gtk_widget_set_vexpand (scroll, TRUE);
    gtk_box_append (GTK_BOX (v), scroll);
    g_signal_connect (ds, "changed", G_CALLBACK (on_changed), v);
    g_signal_connect (ds, "series-changed", G_CALLBACK (on_series_changed), v);
    add_cards (v);
    return GTK_WIDGET (v);
}

guint
board_histograms_view_get_card_count (BoardHistogramsView *v)
{
    return g_hash_table_size (v->cards);
}
