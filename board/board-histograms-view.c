/* Histogram and distribution dashboards (see the header). */
#include "board-histograms-view.h"

#include "board-cards.h"

struct _BoardHistogramsView {
    GtkBox parent_instance;
    gboolean distributions;
    BoardHistogramMode mode;
    BoardCards *cards;   /* of BoardHistogramChart */
};

G_DEFINE_FINAL_TYPE (BoardHistogramsView, board_histograms_view, GTK_TYPE_BOX)

static GtkWidget *
make_card (gpointer view, BoardRun *run, const char *tag, BoardSeries *s)
{
    BoardHistogramsView *v = view;
    char *title = board_cards_title (run, tag);
    GtkWidget *chart = board_histogram_chart_new (s, title, board_run_get_color (run), v->mode);
    g_free (title);
    gtk_widget_add_css_class (chart, "card");
    return chart;
}

static void
update_card (gpointer view, GtkWidget *chart)
{
    board_histogram_chart_refresh (BOARD_HISTOGRAM_CHART (chart));
}

static void
set_mode (gpointer chart, gpointer v)
{
    board_histogram_chart_set_mode (chart, ((BoardHistogramsView *) v)->mode);
}

static void
on_mode (GObject *o, GParamSpec *p, BoardHistogramsView *v)
{
    v->mode = gtk_drop_down_get_selected (GTK_DROP_DOWN (o)) == 1 ? BOARD_HISTOGRAM_OVERLAY
                                                                   : BOARD_HISTOGRAM_OFFSET;
    board_cards_foreach (v->cards, set_mode, v);
}

static void
board_histograms_view_dispose (GObject *o)
{
    BoardHistogramsView *v = BOARD_HISTOGRAMS_VIEW (o);
    g_clear_pointer (&v->cards, board_cards_free);
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
}

GtkWidget *
board_histograms_view_new (BoardDataset *ds, gboolean distributions)
{
    BoardHistogramsView *v = g_object_new (BOARD_TYPE_HISTOGRAMS_VIEW, "orientation",
                                           GTK_ORIENTATION_VERTICAL, NULL);
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
    v->cards = board_cards_new (GTK_BOX (v), ds, BOARD_KIND_HISTOGRAM,
                                distributions ? "No histograms in these logs (distributions are "
                                                "drawn from histograms)."
                                              : "No histograms in these logs.",
                                board_cards_flow_new (TRUE), make_card, update_card);
    return GTK_WIDGET (v);
}

guint
board_histograms_view_get_card_count (BoardHistogramsView *v)
{
    return board_cards_get_count (v->cards);
}
