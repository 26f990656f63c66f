/* The text dashboard (see the header).  Markdown is shown as written
 * (monospace keeps tables and code aligned); the last 20 steps are
 * listed. */
#include "board-text-view.h"

#include "board-cards.h"

struct _BoardTextView {
    GtkBox parent_instance;
    BoardCards *cards;   /* of card boxes, each holding its body label as "body" */
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

static GtkWidget *
make_card (gpointer view, BoardRun *run, const char *tag, BoardSeries *s)
{
    GtkWidget *box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 4);
    gtk_widget_add_css_class (box, "card");
    GtkWidget *tl = board_cards_title_new (run, tag);
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
    g_object_set_data (G_OBJECT (box), "body", body);
    fill (body, s);
    return box;
}

static void
update_card (gpointer view, GtkWidget *box)
{
    GtkWidget *body = g_object_get_data (G_OBJECT (box), "body");
    fill (body, g_object_get_data (G_OBJECT (body), "series"));
}

static void
board_text_view_dispose (GObject *o)
{
    BoardTextView *v = BOARD_TEXT_VIEW (o);
    g_clear_pointer (&v->cards, board_cards_free);
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
}

GtkWidget *
board_text_view_new (BoardDataset *ds)
{
    BoardTextView *v = g_object_new (BOARD_TYPE_TEXT_VIEW, "orientation",
                                     GTK_ORIENTATION_VERTICAL, NULL);
    v->cards = board_cards_new (GTK_BOX (v), ds, BOARD_KIND_TEXT,
                                "No text summaries in these logs.",
                                gtk_box_new (GTK_ORIENTATION_VERTICAL, 8), make_card, update_card);
    return GTK_WIDGET (v);
}
