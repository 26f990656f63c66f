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
    const char *state;       /* "decoding", "shown" or "error" (for the state dump) */
    char *tag;
    guint generation;        /* of the last decode asked for */
} Card;

static void
card_free (gpointer data)
{
    Card *card = data;
    /* a decode still running holds the picture: it must not find the card */
    g_object_set_data (G_OBJECT (card->picture), "card", NULL);
    g_object_unref (card->picture);
    g_free (card->tag);
    g_free (card);
}

/* Images larger than this on either side are shown through a copy scaled
 * down in the decoding thread: the renderer would otherwise scale the
 * whole texture (a 100 MB image: about 134 MB of pixels) on every frame,
 * on the main thread.  "Actual size" shows the full texture. */
#define BOARD_IMAGE_PREVIEW_MAX 1600

typedef struct {
    GdkTexture *full;
    GdkTexture *preview;   /* NULL when the image is small enough */
} Decoded;

static void
decoded_free (gpointer data)
{
    Decoded *d = data;
    g_clear_object (&d->full);
    g_clear_object (&d->preview);
    g_free (d);
}

static void
decode_thread (GTask *task, gpointer source, gpointer data, GCancellable *c)
{
    GBytes *bytes = data;
    GError *error = NULL;
    GdkTexture *tex = gdk_texture_new_from_bytes (bytes, &error);
    if (!tex) {
        g_task_return_error (task, error);
        return;
    }
    Decoded *d = g_new0 (Decoded, 1);
    d->full = tex;
    int w = gdk_texture_get_width (tex), h = gdk_texture_get_height (tex);
    if (w > BOARD_IMAGE_PREVIEW_MAX || h > BOARD_IMAGE_PREVIEW_MAX) {
        double k = (double) BOARD_IMAGE_PREVIEW_MAX / MAX (w, h);
        int pw = MAX (1, (int) (w * k)), ph = MAX (1, (int) (h * k));
        /* download, scale with Cairo, wrap as a memory texture */
        cairo_surface_t *src = cairo_image_surface_create (CAIRO_FORMAT_ARGB32, w, h);
        cairo_surface_flush (src);
        gdk_texture_download (tex, cairo_image_surface_get_data (src),
                              (gsize) cairo_image_surface_get_stride (src));
        cairo_surface_mark_dirty (src);
        cairo_surface_t *dst = cairo_image_surface_create (CAIRO_FORMAT_ARGB32, pw, ph);
        cairo_t *cr = cairo_create (dst);
        cairo_scale (cr, k, k);
        cairo_set_source_surface (cr, src, 0, 0);
        cairo_pattern_set_filter (cairo_get_source (cr), CAIRO_FILTER_GOOD);
        cairo_paint (cr);
        cairo_destroy (cr);
        cairo_surface_destroy (src);
        cairo_surface_flush (dst);
        int stride = cairo_image_surface_get_stride (dst);
        GBytes *px = g_bytes_new (cairo_image_surface_get_data (dst), (gsize) stride * ph);
        cairo_surface_destroy (dst);
        d->preview = gdk_memory_texture_new (pw, ph, GDK_MEMORY_DEFAULT, px, (gsize) stride);
        g_bytes_unref (px);
    }
    g_task_return_pointer (task, d, decoded_free);
}

/* The full texture at actual size, else the preview when there is one. */
static void
show_texture (Card *card)
{
    gboolean actual = gtk_toggle_button_get_active (GTK_TOGGLE_BUTTON (card->actual));
    GdkTexture *full = g_object_get_data (G_OBJECT (card->picture), "full");
    GdkTexture *preview = g_object_get_data (G_OBJECT (card->picture), "preview");
    GdkTexture *t = actual || !preview ? full : preview;
    if (t)
        gtk_picture_set_paintable (GTK_PICTURE (card->picture), GDK_PAINTABLE (t));
}

static void
decoded (GObject *source, GAsyncResult *res, gpointer data)
{
    GtkWidget *picture = GTK_WIDGET (source);
    GError *error = NULL;
    Decoded *d = g_task_propagate_pointer (G_TASK (res), &error);
    Card *card = g_object_get_data (G_OBJECT (picture), "card");
    if (!card || GPOINTER_TO_UINT (data) != card->generation)
        goto out;   /* gone, or another step was asked for since */
    if (d) {
        g_object_set_data_full (G_OBJECT (picture), "full", g_object_ref (d->full), g_object_unref);
        g_object_set_data_full (G_OBJECT (picture), "preview",
                                d->preview ? g_object_ref (d->preview) : NULL,
                                d->preview ? g_object_unref : NULL);
        show_texture (card);
        card->state = "shown";
    } else {
        gtk_label_set_text (GTK_LABEL (card->caption), error ? error->message : "cannot decode");
        card->state = "error";
    }
out:
    if (d)
        decoded_free (d);
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
    card->state = "decoding";
    GTask *task = g_task_new (card->picture, NULL, decoded, GUINT_TO_POINTER (++card->generation));
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
    show_texture (card);
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
    card->state = "empty";
    card->tag = g_strdup (tag);
    GtkWidget *box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 4);
    gtk_widget_add_css_class (box, "card");
    g_object_set_data_full (G_OBJECT (box), "card", card, card_free);
    GtkWidget *tl = board_cards_title_new (run, tag);
    gtk_widget_set_margin_top (tl, 6);
    gtk_box_append (GTK_BOX (box), tl);
    card->picture = g_object_ref (gtk_picture_new ());
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

static void
describe_card (gpointer box, gpointer data)
{
    GString *s = data;
    Card *card = g_object_get_data (G_OBJECT (box), "card");
    BoardBlob *b = card->series && card->shown < card->series->blobs->len
        ? g_ptr_array_index (card->series->blobs, card->shown) : NULL;
    g_string_append_printf (s, "image=%s %dx%d %s\n", card->tag, b ? b->width : 0,
                            b ? b->height : 0, card->state);
}

void
board_images_view_describe (BoardImagesView *v, GString *s)
{
    board_cards_foreach (v->cards, describe_card, s);
}
