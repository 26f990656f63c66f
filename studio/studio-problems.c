/* The problems list (see the header). */
#include "config.h"

#include "studio-problems.h"

struct _StudioProblems {
    GtkBox parent_instance;
    StudioDocument *doc;
    gulong changed_id;
    GtkLabel *title;
    GtkListBox *list;
};

G_DEFINE_FINAL_TYPE (StudioProblems, studio_problems, GTK_TYPE_BOX)

enum { SIG_ACTIVATED, N_SIGNALS };
static guint signals[N_SIGNALS];

static void
refresh (StudioDocument *doc, StudioProblems *p)
{
    GtkWidget *child;
    while ((child = gtk_widget_get_first_child (GTK_WIDGET (p->list))))
        gtk_list_box_remove (p->list, child);
    int count = 0;
    for (int i = 0; i < studio_document_get_n_nodes (doc); i++) {
        const StudioNode *n = studio_document_get_node (doc, i);
        if (n->state != STUDIO_NODE_ERROR && n->state != STUDIO_NODE_UNKNOWN_OP)
            continue;
        count++;
        GtkWidget *box = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 8);
        GtkWidget *icon = gtk_image_new_from_icon_name (n->state == STUDIO_NODE_ERROR ? "dialog-error-symbolic"
                                                                                      : "dialog-warning-symbolic");
        gtk_box_append (GTK_BOX (box), icon);
        GtkWidget *name = gtk_label_new (n->def->name);
        gtk_widget_add_css_class (name, "heading");
        gtk_box_append (GTK_BOX (box), name);
        GtkWidget *msg = gtk_label_new (n->message);
        gtk_label_set_xalign (GTK_LABEL (msg), 0);
        gtk_label_set_ellipsize (GTK_LABEL (msg), PANGO_ELLIPSIZE_END);
        gtk_widget_set_hexpand (msg, TRUE);
        gtk_widget_set_tooltip_text (msg, n->message);
        gtk_box_append (GTK_BOX (box), msg);
        gtk_widget_set_margin_start (box, 6);
        gtk_widget_set_margin_top (box, 2);
        gtk_widget_set_margin_bottom (box, 2);
        GtkWidget *row = gtk_list_box_row_new ();
        gtk_list_box_row_set_child (GTK_LIST_BOX_ROW (row), box);
        g_object_set_data_full (G_OBJECT (row), "node", g_strdup (n->def->name), g_free);
        gtk_list_box_append (p->list, row);
    }
    char *t = count ? g_strdup_printf ("Problems (%d): click one to show it", count)
                    : g_strdup ("No problems: every node checks out");
    gtk_label_set_text (p->title, t);
    g_free (t);
}

static void
row_activated (GtkListBox *box, GtkListBoxRow *row, StudioProblems *p)
{
    g_signal_emit (p, signals[SIG_ACTIVATED], 0, g_object_get_data (G_OBJECT (row), "node"));
}

static void
studio_problems_dispose (GObject *object)
{
    StudioProblems *p = STUDIO_PROBLEMS (object);
    if (p->doc) {
        g_clear_signal_handler (&p->changed_id, p->doc);
        g_clear_object (&p->doc);
    }
    G_OBJECT_CLASS (studio_problems_parent_class)->dispose (object);
}

static void
studio_problems_class_init (StudioProblemsClass *klass)
{
    G_OBJECT_CLASS (klass)->dispose = studio_problems_dispose;
    signals[SIG_ACTIVATED] = g_signal_new ("activated", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                                           0, NULL, NULL, NULL, G_TYPE_NONE, 1, G_TYPE_STRING);
}

static void
studio_problems_init (StudioProblems *p)
{
    gtk_orientable_set_orientation (GTK_ORIENTABLE (p), GTK_ORIENTATION_VERTICAL);
    p->title = GTK_LABEL (gtk_label_new (""));
    gtk_label_set_xalign (p->title, 0);
    gtk_widget_set_margin_start (GTK_WIDGET (p->title), 8);
    gtk_widget_set_margin_top (GTK_WIDGET (p->title), 4);
    gtk_widget_set_margin_bottom (GTK_WIDGET (p->title), 4);
    gtk_widget_add_css_class (GTK_WIDGET (p->title), "dim-label");
    gtk_box_append (GTK_BOX (p), GTK_WIDGET (p->title));
    GtkWidget *sw = gtk_scrolled_window_new ();
    gtk_widget_set_vexpand (sw, TRUE);
    p->list = GTK_LIST_BOX (gtk_list_box_new ());
    gtk_scrolled_window_set_child (GTK_SCROLLED_WINDOW (sw), GTK_WIDGET (p->list));
    gtk_box_append (GTK_BOX (p), sw);
    g_signal_connect (p->list, "row-activated", G_CALLBACK (row_activated), p);
}

GtkWidget *
studio_problems_new (StudioDocument *doc)
{
    StudioProblems *p = g_object_new (STUDIO_TYPE_PROBLEMS, NULL);
    p->doc = g_object_ref (doc);
    p->changed_id = g_signal_connect (doc, "changed", G_CALLBACK (refresh), p);
    refresh (doc, p);
    return GTK_WIDGET (p);
}
