/* The images dashboard (see the header). */
#include "board-images-view.h"

struct _BoardImagesView {
    GtkBox parent_instance;
    BoardDataset *ds;
    GtkWidget *flow;
    GtkWidget *empty;
    GHashTable *cards;   /* "run\001tag" -> card box */
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
    gtk_range_set_range (GTK_RANGE (card->scale), 0, upper);
    gtk_widget_set_sensitive (card->scale, n > 1);
    if (follow && n > 0)
        gtk_range_set_value (GTK_RANGE (card->scale), n - 1);
    if (n > 0 && (follow || card->shown == G_MAXUINT))
        show_index (card, n - 1);
}

static void
add_cards (BoardImagesView *v)
{
    GListModel *runs = board_dataset_get_runs (v->ds);
    for (guint i = 0; i < g_list_model_get_n_items (runs); i++) {
        BoardRun *run = g_list_model_get_item (runs, i);
        GPtrArray *tags = board_run_get_tags (run);
        for (guint k = 0; k < tags->len; k++) {
            const char *tag = g_ptr_array_index (tags, k);
            BoardSeries *s = board_run_get_series (run, tag);
            if (s->kind != BOARD_KIND_IMAGE)
                continue;
            char *key = g_strconcat (board_run_get_name (run), "\001", tag, NULL);
            if (g_hash_table_contains (v->cards, key)) {
                g_free (key);
                continue;
            }
            Card *card = g_new0 (Card, 1);
            card->series = s;
            card->shown = G_MAXUINT;
            GtkWidget *box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 4);
            gtk_widget_add_css_class (box, "card");
            g_object_set_data_full (G_OBJECT (box), "card", card, g_free);
            char *title = g_strdup_printf ("%s \u2014 %s", tag, board_run_get_name (run));
            GtkWidget *tl = gtk_label_new (title);
            g_free (title);
            gtk_widget_add_css_class (tl, "heading");
            gtk_label_set_ellipsize (GTK_LABEL (tl), PANGO_ELLIPSIZE_MIDDLE);
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
            gtk_flow_box_append (GTK_FLOW_BOX (v->flow), box);
            g_hash_table_insert (v->cards, key, box);
            gtk_widget_set_visible (v->empty, FALSE);
            update_card (card);
        }
        g_object_unref (run);
    }
}

static void
on_changed (BoardDataset *ds, BoardImagesView *v)
{
    add_cards (v);
    if (board_dataset_is_complete (ds) && g_hash_table_size (v->cards) == 0)
        gtk_label_set_text (GTK_LABEL (v->empty), "No images in these logs.");
}

static void
on_series_changed (BoardDataset *ds, BoardRun *run, const char *tag, BoardImagesView *v)
{
    char *key = g_strconcat (board_run_get_name (run), "\001", tag, NULL);
    GtkWidget *box = g_hash_table_lookup (v->cards, key);
    if (box)
        update_card (g_object_get_data (G_OBJECT (box), "card"));
    g_free (key);
}

static void
board_images_view_dispose (GObject *o)
{
    BoardImagesView *v = BOARD_IMAGES_VIEW (o);
    if (v->ds)
        g_signal_handlers_disconnect_by_data (v->ds, v);
    g_clear_object (&v->ds);
    g_clear_pointer (&v->cards, g_hash_table_unref);
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
    v->cards = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
}

GtkWidget *
board_images_view_new (BoardDataset *ds)
{
    BoardImagesView *v = g_object_new (BOARD_TYPE_IMAGES_VIEW, "orientation",
                                       GTK_ORIENTATION_VERTICAL, NULL);
    v->ds = g_object_ref (ds);
    v->empty = gtk_label_new ("Reading the logs\u2026");
    gtk_widget_add_css_class (v->empty, "dim-label");
    gtk_widget_set_margin_top (v->empty, 40);
    gtk_box_append (GTK_BOX (v), v->empty);
    v->flow = gtk_flow_box_new ();
    gtk_flow_box_set_selection_mode (GTK_FLOW_BOX (v->flow), GTK_SELECTION_NONE);
    gtk_flow_box_set_max_children_per_line (GTK_FLOW_BOX (v->flow), 4);
    gtk_flow_box_set_column_spacing (GTK_FLOW_BOX (v->flow), 8);
    gtk_flow_box_set_row_spacing (GTK_FLOW_BOX (v->flow), 8);
    gtk_widget_set_valign (v->flow, GTK_ALIGN_START);
    gtk_widget_set_margin_start (v->flow, 8);
    gtk_widget_set_margin_end (v->flow, 8);
    gtk_widget_set_margin_top (v->flow, 8);
    GtkWidget *scroll = gtk_scrolled_window_new ();
    gtk_scrolled_window_set_child (GTK_SCROLLED_WINDOW (scroll), v->flow);
    gtk_widget_set_vexpand (scroll, TRUE);
    gtk_box_append (GTK_BOX (v), scroll);
    g_signal_connect (ds, "changed", G_CALLBACK (on_changed), v);
    g_signal_connect (ds, "series-changed", G_CALLBACK (on_series_changed), v);
    add_cards (v);
    return GTK_WIDGET (v);
}
