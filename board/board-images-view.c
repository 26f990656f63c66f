/* The images dashboard (see the header). */
#include "board-images-view.h"

#include "board-cards.h"

struct _BoardImagesView {
    GtkBox parent_instance;
    BoardCards *cards;   /* of card boxes, each holding its Card as "card" */
};

G_DEFINE_FINAL_TYPE (BoardImagesView, board_images_view, GTK_TYPE_BOX)

typedef struct {
    BoardSeries *series;     /* borrowed: the dataset keeps it */
    GtkWidget *picture;
    GtkWidget *scale;
    GtkWidget *caption;
    GtkWidget *actual;
    guint shown;             /* index being shown */
} Card;

static void
decode_thread (GTask *task, gpointer source, gpointer data, GCancellable *c)
{
    GBytes *bytes = data;
    GError *error = NULL;
    GdkTexture *tex = gdk_texture_new_from_bytes (bytes, &error);
    if (tex)
        g_task_return_pointer (task, tex, g_object_unref);
    else
        g_task_return_error (task, error);
}

static void
decoded (GObject *source, GAsyncResult *res, gpointer data)
{
    GtkWidget *picture = GTK_WIDGET (source);
    GError *error = NULL;
    GdkTexture *tex = g_task_propagate_pointer (G_TASK (res), &error);
    Card *card = g_object_get_data (G_OBJECT (picture), "card");
    if (!card)
        goto out;
    if (tex) {
        gtk_picture_set_paintable (GTK_PICTURE (picture), GDK_PAINTABLE (tex));
        g_object_unref (tex);
    } else {
        gtk_label_set_text (GTK_LABEL (card->caption), error ? error->message : "cannot decode");
    }
out:
    g_clear_error (&error);
}

static void
show_index (Card *card, guint i)
{
    if (!card->series || i >= card->series->blobs->len)
        return;
    BoardBlob *b = g_ptr_array_index (card->series->blobs, i);
    card->shown = i;
    char *cap = g_strdup_printf ("step %" G_GINT64_FORMAT "  \u00b7  %d\u00d7%d", b->step,
                                 b->width, b->height);
    gtk_label_set_text (GTK_LABEL (card->caption), cap);
    g_free (cap);
    if (b->n_blobs < 1)
        return;
    GTask *task = g_task_new (card->picture, NULL, decoded, NULL);
    g_task_set_task_data (task, g_bytes_ref (b->blobs[0]), (GDestroyNotify) g_bytes_unref);
    g_task_run_in_thread (task, decode_thread);
    g_object_unref (task);
}

static void
on_scale (GtkRange *r, Card *card)
{
    guint i = (guint) (gtk_range_get_value (r) + 0.5);
    if (i != card->shown)
        show_index (card, i);
}

static void
on_actual (GtkToggleButton *b, Card *card)
{
    gboolean on = gtk_toggle_button_get_active (b);
    gtk_picture_set_can_shrink (GTK_PICTURE (card->picture), !on);
}

static void
update_card (Card *card)
{
    guint n = card->series->blobs->len;
    double upper = n > 1 ? n - 1 : 1;
    gboolean follow = gtk_range_get_value (GTK_RANGE (card->scale)) >=
                      gtk_adjustment_get_upper (gtk_range_get_adjustment (GTK_RANGE (card->scale))) - 0.5;
    gboolean first = card->shown == G_MAXUINT;
    gtk_range_set_range (GTK_RANGE (card->scale), 0, upper);
    gtk_widget_set_sensitive (card->scale, n > 1);
    /* the slider follows the newest step until the user moves it; this
     * shows it through on_scale */
    if ((follow || first) && n > 0)
        gtk_range_set_value (GTK_RANGE (card->scale), n - 1);
    if (n > 0 && (follow || first) && card->shown != n - 1)
        show_index (card, n - 1);
}

static GtkWidget *
make_card (gpointer view, BoardRun *run, const char *tag, BoardSeries *s)
{
    Card *card = g_new0 (Card, 1);
    card->series = s;
    card->shown = G_MAXUINT;
    GtkWidget *box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 4);
    gtk_widget_add_css_class (box, "card");
    g_object_set_data_full (G_OBJECT (box), "card", card, g_free);
    GtkWidget *tl = board_cards_title_new (run, tag);
    gtk_widget_set_margin_top (tl, 6);
    gtk_box_append (GTK_BOX (box), tl);
    card->picture = gtk_picture_new ();
    g_object_set_data (G_OBJECT (card->picture), "card", card);
    gtk_picture_set_can_shrink (GTK_PICTURE (card->picture), TRUE);
    gtk_widget_set_size_request (card->picture, 300, 220);
    GtkWidget *sw = gtk_scrolled_window_new ();
    gtk_scrolled_window_set_child (GTK_SCROLLED_WINDOW (sw), card->picture);
    gtk_scrolled_window_set_min_content_height (GTK_SCROLLED_WINDOW (sw), 230);
    gtk_box_append (GTK_BOX (box), sw);
    card->caption = gtk_label_new ("");
    gtk_widget_add_css_class (card->caption, "dim-label");
    gtk_box_append (GTK_BOX (box), card->caption);
    GtkWidget *row = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 6);
    gtk_widget_set_margin_start (row, 6);
    gtk_widget_set_margin_end (row, 6);
    gtk_widget_set_margin_bottom (row, 6);
    card->scale = gtk_scale_new_with_range (GTK_ORIENTATION_HORIZONTAL, 0, 1, 1);
    gtk_scale_set_draw_value (GTK_SCALE (card->scale), FALSE);
    gtk_widget_set_hexpand (card->scale, TRUE);
    gtk_widget_set_tooltip_text (card->scale, "Step");
    g_signal_connect (card->scale, "value-changed", G_CALLBACK (on_scale), card);
    card->actual = gtk_toggle_button_new_with_label ("Actual size");
    g_signal_connect (card->actual, "toggled", G_CALLBACK (on_actual), card);
    gtk_box_append (GTK_BOX (row), card->scale);
    gtk_box_append (GTK_BOX (row), card->actual);
    gtk_box_append (GTK_BOX (box), row);
    update_card (card);
    return box;
}

static void
update_box (gpointer view, GtkWidget *box)
{
    update_card (g_object_get_data (G_OBJECT (box), "card"));
}

static void
board_images_view_dispose (GObject *o)
{
    BoardImagesView *v = BOARD_IMAGES_VIEW (o);
    g_clear_pointer (&v->cards, board_cards_free);
    G_OBJECT_CLASS (board_images_view_parent_class)->dispose (o);
}

static void
board_images_view_class_init (BoardImagesViewClass *klass)
{
    G_OBJECT_CLASS (klass)->dispose = board_images_view_dispose;
}

static void
board_images_view_init (BoardImagesView *v)
{
}

GtkWidget *
board_images_view_new (BoardDataset *ds)
{
    BoardImagesView *v = g_object_new (BOARD_TYPE_IMAGES_VIEW, "orientation",
                                       GTK_ORIENTATION_VERTICAL, NULL);
    v->cards = board_cards_new (GTK_BOX (v), ds, BOARD_KIND_IMAGE, "No images in these logs.",
                                board_cards_flow_new (FALSE), make_card, update_box);
    return GTK_WIDGET (v);
}
