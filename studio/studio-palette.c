/* The op and template palette (see the header). */
#include "config.h"

#include "studio-palette.h"

#include <string.h>

#include "sluice/op.h"
#include "studio-templates.h"

struct _StudioPalette {
    GtkBox parent_instance;
    GtkSearchEntry *search;
    GtkListBox *list;
    sl_dtype dtype;
};

G_DEFINE_FINAL_TYPE (StudioPalette, studio_palette, GTK_TYPE_BOX)

enum { SIG_ACTIVATED, N_SIGNALS };
static guint signals[N_SIGNALS];

static gboolean
op_takes (const sl_op_def *op, sl_dtype t)
{
    for (int a = 0; a < op->num_inputs; a++) {
        const sl_op_arg *arg = &op->inputs[a];
        if (arg->type != SL_DTYPE_INVALID) {
            if (sl_dtype_base (arg->type) == sl_dtype_base (t))
                return TRUE;
            continue;
        }
        if (!arg->type_attr)
            return TRUE;   /* a type list: anything */
        const sl_op_attr *at = sl_op_def_find_attr (op, arg->type_attr);
        if (!at || at->num_allowed_types == 0)
            return TRUE;
        for (int k = 0; k < at->num_allowed_types; k++)
            if (at->allowed_types[k] == sl_dtype_base (t))
                return TRUE;
    }
    return FALSE;
}

static gboolean
filter (GtkListBoxRow *row, gpointer data)
{
    StudioPalette *p = data;
    const char *id = g_object_get_data (G_OBJECT (row), "item");
    const char *text = g_object_get_data (G_OBJECT (row), "text");
    if (!id)
        return TRUE;
    if (p->dtype != SL_DTYPE_INVALID) {
        if (!g_str_has_prefix (id, "op:"))
            return g_str_has_prefix (id, "template:") && !strstr (id, "mnist");
        const sl_op_def *op = sl_op_lookup (id + 3);
        if (!op || !op_takes (op, p->dtype))
            return FALSE;
    }
    const char *q = gtk_editable_get_text (GTK_EDITABLE (p->search));
    if (!q || !*q)
        return TRUE;
    char *lq = g_utf8_strdown (q, -1);
    gboolean ok = strstr (text, lq) != NULL;
    g_free (lq);
    return ok;
}

static void
search_changed (GtkSearchEntry *e, StudioPalette *p)
{
    gtk_list_box_invalidate_filter (p->list);
    /* keep the first match selected for Enter */
    for (int i = 0;; i++) {
        GtkListBoxRow *row = gtk_list_box_get_row_at_index (p->list, i);
        if (!row)
            break;
        if (gtk_widget_get_child_visible (GTK_WIDGET (row)) && g_object_get_data (G_OBJECT (row), "item")) {
            gtk_list_box_select_row (p->list, row);
            return;
        }
    }
}

static GtkListBoxRow *
first_visible (StudioPalette *p)
{
    const char *q = gtk_editable_get_text (GTK_EDITABLE (p->search));
    char *lq = g_utf8_strdown (q ? q : "", -1);
    GtkListBoxRow *best = NULL, *exact = NULL;
    for (int i = 0;; i++) {
        GtkListBoxRow *row = gtk_list_box_get_row_at_index (p->list, i);
        if (!row)
            break;
        const char *id = g_object_get_data (G_OBJECT (row), "item");
        if (!id || !filter (row, p))
            continue;
        if (!best)
            best = row;
        /* an exact op name wins ("Add" over "AddN") */
        const char *colon = strchr (id, ':');
        char *lname = g_utf8_strdown (colon + 1, -1);
        if (!exact && strcmp (lname, lq) == 0)
            exact = row;
        g_free (lname);
    }
    g_free (lq);
    return exact ? exact : best;
}

static void
emit_row (StudioPalette *p, GtkListBoxRow *row)
{
    const char *id = row ? g_object_get_data (G_OBJECT (row), "item") : NULL;
    if (id)
        g_signal_emit (p, signals[SIG_ACTIVATED], 0, id);
}

static void
search_activate (GtkSearchEntry *e, StudioPalette *p)
{
    emit_row (p, first_visible (p));
}

static void
row_activated (GtkListBox *box, GtkListBoxRow *row, StudioPalette *p)
{
    emit_row (p, row);
}

static void
add_header (StudioPalette *p, const char *title)
{
    GtkWidget *l = gtk_label_new (title);
    gtk_label_set_xalign (GTK_LABEL (l), 0);
    gtk_widget_add_css_class (l, "heading");
    gtk_widget_set_margin_top (l, 8);
    gtk_widget_set_margin_start (l, 6);
    GtkWidget *row = gtk_list_box_row_new ();
    gtk_list_box_row_set_child (GTK_LIST_BOX_ROW (row), l);
    gtk_list_box_row_set_activatable (GTK_LIST_BOX_ROW (row), FALSE);
    gtk_list_box_row_set_selectable (GTK_LIST_BOX_ROW (row), FALSE);
    gtk_list_box_append (p->list, row);
}

static void
add_item (StudioPalette *p, const char *id, const char *title, const char *summary)
{
    GtkWidget *box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 1);
    GtkWidget *t = gtk_label_new (title);
    gtk_label_set_xalign (GTK_LABEL (t), 0);
    gtk_box_append (GTK_BOX (box), t);
    if (summary && *summary) {
        GtkWidget *s = gtk_label_new (summary);
        gtk_label_set_xalign (GTK_LABEL (s), 0);
        gtk_label_set_ellipsize (GTK_LABEL (s), PANGO_ELLIPSIZE_END);
        gtk_widget_add_css_class (s, "dim-label");
        gtk_widget_add_css_class (s, "caption");
        gtk_box_append (GTK_BOX (box), s);
    }
    gtk_widget_set_margin_start (box, 8);
    gtk_widget_set_margin_end (box, 6);
    gtk_widget_set_margin_top (box, 3);
    gtk_widget_set_margin_bottom (box, 3);
    GtkWidget *row = gtk_list_box_row_new ();
    gtk_list_box_row_set_child (GTK_LIST_BOX_ROW (row), box);
    g_object_set_data_full (G_OBJECT (row), "item", g_strdup (id), g_free);
    g_object_set_data_full (G_OBJECT (row), "text",
                            g_utf8_strdown (g_strconcat (title, " ", summary ? summary : "", NULL), -1),
                            g_free);
    gtk_widget_set_tooltip_text (row, summary);
    gtk_list_box_append (p->list, row);
}

static void
studio_palette_class_init (StudioPaletteClass *klass)
{
    signals[SIG_ACTIVATED] = g_signal_new ("activated", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                                           0, NULL, NULL, NULL, G_TYPE_NONE, 1, G_TYPE_STRING);
}

static void
studio_palette_init (StudioPalette *p)
{
    gtk_orientable_set_orientation (GTK_ORIENTABLE (p), GTK_ORIENTATION_VERTICAL);
    gtk_box_set_spacing (GTK_BOX (p), 4);
    p->dtype = SL_DTYPE_INVALID;
    p->search = GTK_SEARCH_ENTRY (gtk_search_entry_new ());
    g_object_set (p->search, "placeholder-text", "Search ops and templates", NULL);
    gtk_widget_set_margin_start (GTK_WIDGET (p->search), 6);
    gtk_widget_set_margin_end (GTK_WIDGET (p->search), 6);
    gtk_widget_set_margin_top (GTK_WIDGET (p->search), 6);
    gtk_box_append (GTK_BOX (p), GTK_WIDGET (p->search));
    GtkWidget *sw = gtk_scrolled_window_new ();
    gtk_scrolled_window_set_policy (GTK_SCROLLED_WINDOW (sw), GTK_POLICY_NEVER, GTK_POLICY_AUTOMATIC);
    gtk_widget_set_vexpand (sw, TRUE);
    p->list = GTK_LIST_BOX (gtk_list_box_new ());
    gtk_list_box_set_activate_on_single_click (p->list, FALSE);
    gtk_scrolled_window_set_child (GTK_SCROLLED_WINDOW (sw), GTK_WIDGET (p->list));
    gtk_box_append (GTK_BOX (p), sw);
    gtk_list_box_set_filter_func (p->list, filter, p, NULL);
    g_signal_connect (p->search, "search-changed", G_CALLBACK (search_changed), p);
    g_signal_connect (p->search, "activate", G_CALLBACK (search_activate), p);
    g_signal_connect (p->list, "row-activated", G_CALLBACK (row_activated), p);

    int nt;
    const StudioTemplate *t = studio_templates (&nt);
    add_header (p, "Models");
    for (int i = 0; i < nt; i++)
        if (t[i].is_model) {
            char *id = g_strconcat ("template:", t[i].id, NULL);
            add_item (p, id, t[i].label, t[i].description);
            g_free (id);
        }
    add_header (p, "Layers");
    for (int i = 0; i < nt; i++)
        if (!t[i].is_model) {
            char *id = g_strconcat ("template:", t[i].id, NULL);
            add_item (p, id, t[i].label, t[i].description);
            g_free (id);
        }
    add_header (p, "Ops");
    for (int i = 0; i < sl_op_count (); i++) {
        const sl_op_def *op = sl_op_at (i);
        if (op->name[0] == '_')
            continue;   /* internal (_Send, _Recv) */
        char *id = g_strconcat ("op:", op->name, NULL);
        add_item (p, id, op->name, op->summary);
        g_free (id);
    }
}

GtkWidget *
studio_palette_new (void)
{
    return g_object_new (STUDIO_TYPE_PALETTE, NULL);
}

GtkEditable *
studio_palette_get_search (StudioPalette *p)
{
    return GTK_EDITABLE (p->search);
}

void
studio_palette_set_dtype_filter (StudioPalette *p, sl_dtype dtype)
{
    p->dtype = dtype;
    gtk_list_box_invalidate_filter (p->list);
}

void
studio_palette_reset (StudioPalette *p)
{
    p->dtype = SL_DTYPE_INVALID;
    gtk_editable_set_text (GTK_EDITABLE (p->search), "");
    gtk_list_box_invalidate_filter (p->list);
}
