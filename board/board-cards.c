/* The card set of the per-series dashboards (see the header). */
#include "board-cards.h"

struct _BoardCards {
    gpointer view;
    BoardDataset *ds;
    BoardKind kind;
    char *none_text;
    GtkWidget *container;
    GtkWidget *empty;
    GHashTable *cards;        /* "run\001tag" -> card (borrowed) */
    BoardCardsMake make;
    BoardCardsUpdate update;
};

static char *
card_key (BoardRun *run, const char *tag)
{
    return g_strconcat (board_run_get_name (run), "\001", tag, NULL);
}

static void
add_cards (BoardCards *c)
{
    GListModel *runs = board_dataset_get_runs (c->ds);
    for (guint i = 0; i < g_list_model_get_n_items (runs); i++) {
        BoardRun *run = g_list_model_get_item (runs, i);
        GPtrArray *tags = board_run_get_tags (run);
        for (guint k = 0; k < tags->len; k++) {
            const char *tag = g_ptr_array_index (tags, k);
            BoardSeries *s = board_run_get_series (run, tag);
            if (s->kind != c->kind)
                continue;
            char *key = card_key (run, tag);
            if (g_hash_table_contains (c->cards, key)) {
                g_free (key);
                continue;
            }
            GtkWidget *card = c->make (c->view, run, tag, s);
            if (GTK_IS_FLOW_BOX (c->container))
                gtk_flow_box_append (GTK_FLOW_BOX (c->container), card);
            else
                gtk_box_append (GTK_BOX (c->container), card);
            g_hash_table_insert (c->cards, key, card);
            gtk_widget_set_visible (c->empty, FALSE);
        }
        g_object_unref (run);
    }
}

static void
on_changed (BoardDataset *ds, BoardCards *c)
{
    add_cards (c);
    if (board_dataset_is_complete (ds) && g_hash_table_size (c->cards) == 0)
        gtk_label_set_text (GTK_LABEL (c->empty), c->none_text);
}

static void
on_series_changed (BoardDataset *ds, BoardRun *run, const char *tag, BoardCards *c)
{
    if (!c->update)
        return;
    char *key = card_key (run, tag);
    GtkWidget *card = g_hash_table_lookup (c->cards, key);
    if (card)
        c->update (c->view, card);
    g_free (key);
}

BoardCards *
board_cards_new (GtkBox *view, BoardDataset *ds, BoardKind kind, const char *none_text,
                 GtkWidget *container, BoardCardsMake make, BoardCardsUpdate update)
{
    BoardCards *c = g_new0 (BoardCards, 1);
    c->view = view;
    c->ds = g_object_ref (ds);
    c->kind = kind;
    c->none_text = g_strdup (none_text);
    c->container = container;
    c->make = make;
    c->update = update;
    c->cards = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);

    c->empty = gtk_label_new ("Reading the logs\u2026");
    gtk_widget_add_css_class (c->empty, "dim-label");
    gtk_widget_set_margin_top (c->empty, 40);
    gtk_box_append (view, c->empty);
    gtk_widget_set_margin_start (container, 8);
    gtk_widget_set_margin_end (container, 8);
    gtk_widget_set_margin_top (container, 8);
    gtk_widget_set_margin_bottom (container, 8);
    GtkWidget *scroll = gtk_scrolled_window_new ();
    gtk_scrolled_window_set_child (GTK_SCROLLED_WINDOW (scroll), container);
    gtk_scrolled_window_set_policy (GTK_SCROLLED_WINDOW (scroll), GTK_POLICY_NEVER,
                                    GTK_POLICY_AUTOMATIC);
    gtk_widget_set_vexpand (scroll, TRUE);
    gtk_box_append (view, scroll);

    g_signal_connect (ds, "changed", G_CALLBACK (on_changed), c);
    g_signal_connect (ds, "series-changed", G_CALLBACK (on_series_changed), c);
    add_cards (c);
    return c;
}

void
board_cards_free (BoardCards *c)
{
    if (!c)
        return;
    g_signal_handlers_disconnect_by_data (c->ds, c);
    g_object_unref (c->ds);
    g_hash_table_unref (c->cards);
    g_free (c->none_text);
    g_free (c);
}

guint
board_cards_get_count (BoardCards *c)
{
    return g_hash_table_size (c->cards);
}

void
board_cards_foreach (BoardCards *c, GFunc fn, gpointer data)
{
    GHashTableIter it;
    gpointer value;
    g_hash_table_iter_init (&it, c->cards);
    while (g_hash_table_iter_next (&it, NULL, &value))
        fn (value, data);
}

GtkWidget *
board_cards_flow_new (gboolean homogeneous)
{
    GtkWidget *flow = gtk_flow_box_new ();
    gtk_flow_box_set_selection_mode (GTK_FLOW_BOX (flow), GTK_SELECTION_NONE);
    gtk_flow_box_set_homogeneous (GTK_FLOW_BOX (flow), homogeneous);
    gtk_flow_box_set_max_children_per_line (GTK_FLOW_BOX (flow), 4);
    gtk_flow_box_set_column_spacing (GTK_FLOW_BOX (flow), 8);
    gtk_flow_box_set_row_spacing (GTK_FLOW_BOX (flow), 8);
    gtk_widget_set_valign (flow, GTK_ALIGN_START);
    return flow;
}

char *
board_cards_title (BoardRun *run, const char *tag)
{
    return g_strdup_printf ("%s \u2014 %s", tag, board_run_get_name (run));
}

GtkWidget *
board_cards_title_new (BoardRun *run, const char *tag)
{
    char *title = board_cards_title (run, tag);
    GtkWidget *label = gtk_label_new (title);
    g_free (title);
    gtk_widget_add_css_class (label, "heading");
    gtk_label_set_ellipsize (GTK_LABEL (label), PANGO_ELLIPSIZE_MIDDLE);
    return label;
}
