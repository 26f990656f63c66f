/* The text dashboard (see the header).  Markdown is shown as written
 * (monospace keeps tables and code aligned); the last 20 steps are
 * listed. */
#include "board-text-view.h"

struct _BoardTextView {
    GtkBox parent_instance;
    BoardDataset *ds;
    GtkWidget *list;
    GtkWidget *empty;
    GHashTable *cards;   /* "run\001tag" -> GtkLabel of the body */
};

G_DEFINE_FINAL_TYPE (BoardTextView, board_text_view, GTK_TYPE_BOX)

static void
fill (GtkWidget *label, BoardSeries *s)
{
    GString *out = g_string_new (NULL);
    guint n = s->blobs->len;
    for (guint i = n; i > 0 && n - i < 20; i--) {
        BoardBlob *b = g_ptr_array_index (s->blobs, i - 1);
        char *head = g_markup_printf_escaped ("<b>step %" G_GINT64_FORMAT "</b>\n", b->step);
        g_string_append (out, head);
        g_free (head);
        for (int k = 0; k < b->n_blobs; k++) {
            gsize size;
            const char *data = g_bytes_get_data (b->blobs[k], &size);
            char *valid = g_utf8_make_valid (data ? data : "", (gssize) size);
            char *esc = g_markup_escape_text (valid, -1);
            g_string_append_printf (out, "<tt>%s</tt>\n", esc);
            g_free (esc);
            g_free (valid);
        }
        g_string_append_c (out, '\n');
    }
    gtk_label_set_markup (GTK_LABEL (label), out->str);
    g_string_free (out, TRUE);
}

static void
add_cards (BoardTextView *v)
{
    GListModel *runs = board_dataset_get_runs (v->ds);
    for (guint i = 0; i < g_list_model_get_n_items (runs); i++) {
        BoardRun *run = g_list_model_get_item (runs, i);
        GPtrArray *tags = board_run_get_tags (run);
        for (guint k = 0; k < tags->len; k++) {
            const char *tag = g_ptr_array_index (tags, k);
            BoardSeries *s = board_run_get_series (run, tag);
            if (s->kind != BOARD_KIND_TEXT)
                continue;
            char *key = g_strconcat (board_run_get_name (run), "\001", tag, NULL);
            if (g_hash_table_contains (v->cards, key)) {
                g_free (key);
                continue;
            }
            GtkWidget *box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 4);
            gtk_widget_add_css_class (box, "card");
            char *title = g_strdup_printf ("%s \u2014 %s", tag, board_run_get_name (run));
            GtkWidget *tl = gtk_label_new (title);
            g_free (title);
            gtk_widget_add_css_class (tl, "heading");
            gtk_label_set_xalign (GTK_LABEL (tl), 0);
            gtk_widget_set_margin_start (tl, 10);
            gtk_widget_set_margin_top (tl, 8);
            gtk_box_append (GTK_BOX (box), tl);
            GtkWidget *body = gtk_label_new (NULL);
            gtk_label_set_xalign (GTK_LABEL (body), 0);
            gtk_label_set_wrap (GTK_LABEL (body), TRUE);
            gtk_label_set_wrap_mode (GTK_LABEL (body), PANGO_WRAP_WORD_CHAR);
            gtk_label_set_selectable (GTK_LABEL (body), TRUE);
            gtk_widget_set_margin_start (body, 10);
            gtk_widget_set_margin_end (body, 10);
            gtk_widget_set_margin_bottom (body, 8);
            gtk_box_append (GTK_BOX (box), body);
            g_object_set_data (G_OBJECT (body), "series", s);
            fill (body, s);
            gtk_box_append (GTK_BOX (v->list), box);
            g_hash_table_insert (v->cards, key, body);
            gtk_widget_set_visible (v->empty, FALSE);
        }
        g_object_unref (run);
    }
}

static void
on_changed (BoardDataset *ds, BoardTextView *v)
{
    add_cards (v);
    if (board_dataset_is_complete (ds) && g_hash_table_size (v->cards) == 0)
        gtk_label_set_text (GTK_LABEL (v->empty), "No text summaries in these logs.");
}

static void
on_series_changed (BoardDataset *ds, BoardRun *run, const char *tag, BoardTextView *v)
{
    char *key = g_strconcat (board_run_get_name (run), "\001", tag, NULL);
    GtkWidget *body = g_hash_table_lookup (v->cards, key);
    if (body)
        fill (body, g_object_get_data (G_OBJECT (body), "series"));
    g_free (key);
}

static void
board_text_view_dispose (GObject *o)
{
    BoardTextView *v = BOARD_TEXT_VIEW (o);
    if (v->ds)
        g_signal_handlers_disconnect_by_data (v->ds, v);
    g_clear_object (&v->ds);
    g_clear_pointer (&v->cards, g_hash_table_unref);
    G_OBJECT_CLASS (board_text_view_parent_class)->dispose (o);
}

static void
board_text_view_class_init (BoardTextViewClass *klass)
{
    G_OBJECT_CLASS (klass)->dispose = board_text_view_dispose;
}

static void
board_text_view_init (BoardTextView *v)
{
    v->cards = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
}

GtkWidget *
board_text_view_new (BoardDataset *ds)
{
    BoardTextView *v = g_object_new (BOARD_TYPE_TEXT_VIEW, "orientation",
                                     GTK_ORIENTATION_VERTICAL, NULL);
    v->ds = g_object_ref (ds);
    v->empty = gtk_label_new ("Reading the logs\u2026");
    gtk_widget_add_css_class (v->empty, "dim-label");
    gtk_widget_set_margin_top (v->empty, 40);
    gtk_box_append (GTK_BOX (v), v->empty);
    v->list = gtk_box_new (GTK_ORIENTATION_VERTICAL, 8);
    gtk_widget_set_margin_start (v->list, 8);
    gtk_widget_set_margin_end (v->list, 8);
    gtk_widget_set_margin_top (v->list, 8);
    GtkWidget *scroll = gtk_scrolled_window_new ();
    gtk_scrolled_window_set_child (GTK_SCROLLED_WINDOW (scroll), v->list);
    gtk_widget_set_vexpand (scroll, TRUE);
    gtk_box_append (GTK_BOX (v), scroll);
    g_signal_connect (ds, "changed", G_CALLBACK (on_changed), v);
    g_signal_connect (ds, "series-changed", G_CALLBACK (on_series_changed), v);
    add_cards (v);
    return GTK_WIDGET (v);
}
