/* The inspector (see the header). */
#include "config.h"

#include "studio-inspector.h"

#include <stdlib.h>
#include <string.h>

#include "sluice/alloc.h"
#include "textformat.h"

struct _StudioInspector {
    GtkBox parent_instance;
    StudioDocument *doc;
    gulong changed_id;
    char *name;
    GtkWidget *content;   /* rebuilt on every show */
    GtkLabel *error;      /* last refused edit */
    guint rebuild_id;
};

G_DEFINE_FINAL_TYPE (StudioInspector, studio_inspector, GTK_TYPE_BOX)

static const sl_dtype menu_types[] = { SL_DTYPE_FLOAT, SL_DTYPE_DOUBLE, SL_DTYPE_HALF, SL_DTYPE_BFLOAT16,
                                       SL_DTYPE_INT32, SL_DTYPE_INT64, SL_DTYPE_INT16, SL_DTYPE_INT8,
                                       SL_DTYPE_UINT8, SL_DTYPE_BOOL, SL_DTYPE_STRING,
                                       SL_DTYPE_COMPLEX64, SL_DTYPE_RESOURCE };

/* ---- text <-> AttrValue ------------------------------------------------ */

static void
append_shape (GString *s, const Tensorflow__TensorShapeProto *p)
{
    if (!p || p->unknown_rank) {
        g_string_append (s, "?");
        return;
    }
    g_string_append_c (s, '[');
    for (size_t i = 0; i < p->n_dim; i++)
        if (p->dim[i]->size < 0)
            g_string_append_printf (s, "%s?", i ? "," : "");
        else
            g_string_append_printf (s, "%s%" G_GINT64_FORMAT, i ? "," : "", p->dim[i]->size);
    g_string_append_c (s, ']');
}

/* Values of a small float/int tensor as nested brackets; NULL when it is
 * not one the entry can edit. */
static char *
tensor_entry (const Tensorflow__TensorProto *t)
{
    if (!t)
        return NULL;
    gint64 n = 1;
    int rank = t->tensor_shape ? (int) t->tensor_shape->n_dim : 0;
    for (int i = 0; i < rank; i++)
        n *= MAX (t->tensor_shape->dim[i]->size, 0);
    if (n > 256)
        return NULL;
    GString *s = g_string_new (NULL);
    gsize have;
    for (gint64 k = 0; k < n; k++) {
        /* brackets opening at this index */
        gint64 stride = 1;
        for (int d = rank - 1; d >= 0; d--) {
            stride *= t->tensor_shape->dim[d]->size;
            (void) stride;
        }
        gint64 m = 1;
        int open = 0;
        for (int d = rank - 1; d >= 0; d--) {
            m *= t->tensor_shape->dim[d]->size;
            if (k % m == 0)
                open++;
        }
        if (k > 0)
            g_string_append (s, ", ");
        for (int o = 0; o < open; o++)
            g_string_append_c (s, '[');
        double v = 0;
        switch (t->dtype) {
        case TENSORFLOW__DATA_TYPE__DT_FLOAT:
            have = t->n_float_val ? t->n_float_val : t->tensor_content.len / 4;
            if (t->n_float_val)
                v = t->float_val[MIN ((gsize) k, have - 1)];
            else if (have)
                v = ((const float *) (const void *) t->tensor_content.data)[MIN ((gsize) k, have - 1)];
            break;
        case TENSORFLOW__DATA_TYPE__DT_INT32:
            have = t->n_int_val ? t->n_int_val : t->tensor_content.len / 4;
            if (t->n_int_val)
                v = t->int_val[MIN ((gsize) k, have - 1)];
            else if (have)
                v = ((const gint32 *) (const void *) t->tensor_content.data)[MIN ((gsize) k, have - 1)];
            break;
        case TENSORFLOW__DATA_TYPE__DT_INT64:
            have = t->n_int64_val;
            if (have)
                v = (double) t->int64_val[MIN ((gsize) k, have - 1)];
            break;
        default:
            g_string_free (s, TRUE);
            return NULL;
        }
        g_string_append_printf (s, "%g", v);
        m = 1;
        int close = 0;
        for (int d = rank - 1; d >= 0; d--) {
            m *= t->tensor_shape->dim[d]->size;
            if ((k + 1) % m == 0)
                close++;
        }
        for (int o = 0; o < close; o++)
            g_string_append_c (s, ']');
    }
    if (rank > 0 && n == 0) {
        for (int d = 0; d < rank; d++)
            g_string_append_c (s, '[');
        for (int d = 0; d < rank; d++)
            g_string_append_c (s, ']');
    }
    return g_string_free (s, FALSE);
}

char *
studio_attr_to_entry (sl_attr_type type, const Tensorflow__AttrValue *v)
{
    if (!v)
        return g_strdup ("");
    GString *s = g_string_new (NULL);
    switch (type) {
    case SL_ATTR_INT:
        g_string_append_printf (s, "%" G_GINT64_FORMAT, v->i);
        break;
    case SL_ATTR_FLOAT:
        g_string_append_printf (s, "%g", v->f);
        break;
    case SL_ATTR_STRING:
        g_string_append_len (s, (const char *) v->s.data, (gssize) v->s.len);
        break;
    case SL_ATTR_SHAPE:
        append_shape (s, v->shape);
        break;
    case SL_ATTR_LIST_INT:
        for (size_t i = 0; v->list && i < v->list->n_i; i++)
            g_string_append_printf (s, "%s%" G_GINT64_FORMAT, i ? ", " : "", v->list->i[i]);
        break;
    case SL_ATTR_LIST_FLOAT:
        for (size_t i = 0; v->list && i < v->list->n_f; i++)
            g_string_append_printf (s, "%s%g", i ? ", " : "", v->list->f[i]);
        break;
    case SL_ATTR_LIST_TYPE:
        for (size_t i = 0; v->list && i < v->list->n_type; i++)
            g_string_append_printf (s, "%s%s", i ? ", " : "", sl_dtype_name ((sl_dtype) v->list->type[i]));
        break;
    case SL_ATTR_TENSOR: {
        char *t = tensor_entry (v->tensor);
        if (t) {
            g_string_append (s, t);
            g_free (t);
            break;
        }
    }
    /* fall through */
    default: {
        char *t = sl_textformat_print (&v->base, NULL, NULL);
        g_string_append (s, t ? t : "");
        sl_free (t);
    }
    }
    return g_string_free (s, FALSE);
}

static gboolean
parse_dims (const char *text, GString *out, GError **error)
{
    char *t = g_strstrip (g_strdup (text));
    gboolean ok = TRUE;
    if (!*t || !strcmp (t, "?") || !g_ascii_strcasecmp (t, "unknown")) {
        g_string_append (out, "shape { unknown_rank: true }");
    } else {
        size_t len = strlen (t);
        if (t[0] != '[' || t[len - 1] != ']') {
            g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                         "a shape reads [?,784], [] for a scalar, or ? when unknown");
            g_free (t);
            return FALSE;
        }
        t[len - 1] = '\0';
        g_string_append (out, "shape {");
        char **parts = g_strsplit (t + 1, ",", -1);
        for (int i = 0; parts[i] && ok; i++) {
            char *p = g_strstrip (parts[i]);
            if (!*p && !parts[1])
                break;   /* [] */
            char *end;
            long long d = !strcmp (p, "?") || !strcmp (p, "-1") ? -1 : strtoll (p, &end, 10);
            if (d == -1 || (*p && !*end && d >= 0)) {
                g_string_append_printf (out, " dim { size: %lld }", d);
            } else {
                g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                             "'%s' is not a dimension (a number, or ? when unknown)", p);
                ok = FALSE;
            }
        }
        g_strfreev (parts);
        g_string_append (out, " }");
    }
    g_free (t);
    return ok;
}

/* "[[1, 2], [3, 4]]" -> dims and flat values. */
static gboolean
parse_nested (const char *text, GArray *dims, GPtrArray *values, GError **error)
{
    int depth = 0, max_depth = 0;
    int counts[SL_MAX_DIMS + 1] = { 0 };
    GString *tok = g_string_new (NULL);
    gboolean ok = TRUE;
    for (const char *p = text; ok; p++) {
        char ch = *p;
        if (ch == '[') {
            if (++depth > SL_MAX_DIMS)
                ok = FALSE;
            max_depth = MAX (max_depth, depth);
            counts[depth] = 0;
        } else if (ch == ',' || ch == ']' || ch == '\0') {
            char *v = g_strstrip (g_strdup (tok->str));
            if (*v) {
                g_ptr_array_add (values, v);
                counts[depth]++;
            } else {
                g_free (v);
            }
            g_string_truncate (tok, 0);
            if (ch == ']') {
                if (depth == 0) {
                    ok = FALSE;
                    break;
                }
                /* the innermost list sets that dim */
                int d = depth - 1;
                if ((int) dims->len <= d) {
                    gint64 n = depth == max_depth ? counts[depth] : counts[depth];
                    g_array_set_size (dims, (guint) d + 1);
                    g_array_index (dims, gint64, d) = n;
                }
                depth--;
                counts[depth]++;
            }
            if (ch == '\0')
                break;
        } else if (ch == ' ') {
            continue;
        } else {
            g_string_append_c (tok, ch);
        }
    }
    if (depth != 0)
        ok = FALSE;
    g_string_free (tok, TRUE);
    if (!ok)
        g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                     "values read 3, [1, 2] or [[1, 2], [3, 4]]");
    return ok;
}

char *
studio_attr_from_entry (sl_attr_type type, const char *text, sl_dtype dtype, GError **error)
{
    GString *s = g_string_new (NULL);
    gboolean ok = TRUE;
    char *end = NULL;
    switch (type) {
    case SL_ATTR_INT: {
        long long v = strtoll (text, &end, 10);
        ok = *text && !*end;
        g_string_append_printf (s, "i: %lld", v);
        break;
    }
    case SL_ATTR_FLOAT: {
        double v = g_ascii_strtod (text, &end);
        ok = *text && !*end;
        char buf[G_ASCII_DTOSTR_BUF_SIZE];
        g_string_append_printf (s, "f: %s", g_ascii_dtostr (buf, sizeof buf, v));
        break;
    }
    case SL_ATTR_BOOL:
        g_string_append_printf (s, "b: %s", !strcmp (text, "true") ? "true" : "false");
        break;
    case SL_ATTR_TYPE:
        if (sl_dtype_from_name (text) == SL_DTYPE_INVALID)
            ok = FALSE;
        else
            g_string_append_printf (s, "type: %s", sl_dtype_enum_name (sl_dtype_from_name (text)));
        break;
    case SL_ATTR_STRING: {
        char *esc = g_strescape (text, NULL);
        g_string_append_printf (s, "s: \"%s\"", esc);
        g_free (esc);
        break;
    }
    case SL_ATTR_SHAPE:
        if (!parse_dims (text, s, error)) {
            g_string_free (s, TRUE);
            return NULL;
        }
        break;
    case SL_ATTR_LIST_INT:
    case SL_ATTR_LIST_FLOAT:
    case SL_ATTR_LIST_TYPE: {
        g_string_append (s, "list {");
        char **parts = g_strsplit_set (text, ", []", -1);
        for (int i = 0; parts[i] && ok; i++) {
            if (!*parts[i])
                continue;
            if (type == SL_ATTR_LIST_INT) {
                strtoll (parts[i], &end, 10);
                ok = !*end;
                g_string_append_printf (s, " i: %s", parts[i]);
            } else if (type == SL_ATTR_LIST_FLOAT) {
                g_ascii_strtod (parts[i], &end);
                ok = !*end;
                g_string_append_printf (s, " f: %s", parts[i]);
            } else {
                sl_dtype t = sl_dtype_from_name (parts[i]);
                ok = t != SL_DTYPE_INVALID;
                g_string_append_printf (s, " type: %s", sl_dtype_enum_name (t));
            }
        }
        g_strfreev (parts);
        g_string_append (s, " }");
        break;
    }
    case SL_ATTR_TENSOR: {
        const char *t = text;
        while (*t == ' ')
            t++;
        if (g_str_has_prefix (t, "tensor")) {   /* text format as shown for big tensors */
            g_string_append (s, t);
            break;
        }
        GArray *dims = g_array_new (FALSE, TRUE, sizeof (gint64));
        GPtrArray *values = g_ptr_array_new_with_free_func (g_free);
        if (!parse_nested (t, dims, values, error)) {
            g_array_unref (dims);
            g_ptr_array_unref (values);
            g_string_free (s, TRUE);
            return NULL;
        }
        if (dtype == SL_DTYPE_INVALID)
            dtype = SL_DTYPE_FLOAT;
        const char *field = dtype == SL_DTYPE_INT32 ? "int_val" : dtype == SL_DTYPE_INT64 ? "int64_val"
                            : dtype == SL_DTYPE_DOUBLE ? "double_val" : dtype == SL_DTYPE_BOOL ? "bool_val"
                                                                                                : "float_val";
        g_string_append_printf (s, "tensor { dtype: %s tensor_shape {", sl_dtype_enum_name (dtype));
        for (guint d = 0; d < dims->len; d++)
            g_string_append_printf (s, " dim { size: %" G_GINT64_FORMAT " }", g_array_index (dims, gint64, d));
        g_string_append (s, " }");
        for (guint k = 0; k < values->len && ok; k++) {
            const char *v = g_ptr_array_index (values, k);
            g_ascii_strtod (v, &end);
            ok = (*end == '\0') || (dtype == SL_DTYPE_BOOL && (!strcmp (v, "true") || !strcmp (v, "false")));
            g_string_append_printf (s, " %s: %s", field, v);
        }
        g_string_append (s, " }");
        g_array_unref (dims);
        g_ptr_array_unref (values);
        break;
    }
    default:
        g_string_append (s, text);
    }
    if (!ok) {
        g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, "'%s' is not a valid %s", text,
                     sl_attr_type_name (type));
        g_string_free (s, TRUE);
        return NULL;
    }
    return g_string_free (s, FALSE);
}

/* ---- widgets -------------------------------------------------------------- */

static const Tensorflow__AttrValue *
node_attr (const StudioNode *n, const char *key)
{
    for (size_t i = 0; i < n->def->n_attr; i++)
        if (!strcmp (n->def->attr[i]->key, key))
            return n->def->attr[i]->value;
    return NULL;
}

static void
refuse (StudioInspector *ins, const char *why)
{
    gtk_label_set_text (ins->error, why ? why : "");
    gtk_widget_set_visible (GTK_WIDGET (ins->error), why != NULL);
}

static void
apply_attr (StudioInspector *ins, const char *key, sl_attr_type type, const char *text)
{
    GError *e = NULL;
    sl_dtype dtype = SL_DTYPE_INVALID;
    const StudioNode *n = studio_document_find (ins->doc, ins->name, NULL);
    if (!n)
        return;
    const Tensorflow__AttrValue *dv = node_attr (n, "dtype");
    if (dv && dv->value_case == TENSORFLOW__ATTR_VALUE__VALUE_TYPE)
        dtype = (sl_dtype) dv->type;
    char *value = studio_attr_from_entry (type, text, dtype, &e);
    char *name = g_strdup (ins->name);
    if (value && studio_document_set_attr_text (ins->doc, name, key, value, &e))
        refuse (ins, NULL);
    else
        refuse (ins, e->message);
    g_clear_error (&e);
    g_free (value);
    g_free (name);
}

static void
entry_activate (GtkEntry *entry, StudioInspector *ins)
{
    const char *key = g_object_get_data (G_OBJECT (entry), "attr");
    sl_attr_type type = GPOINTER_TO_INT (g_object_get_data (G_OBJECT (entry), "type"));
    apply_attr (ins, key, type, gtk_editable_get_text (GTK_EDITABLE (entry)));
}

static void
dropdown_changed (GtkDropDown *dd, GParamSpec *ps, StudioInspector *ins)
{
    if (g_object_get_data (G_OBJECT (dd), "building"))
        return;
    guint i = gtk_drop_down_get_selected (dd);
    GtkStringList *model = GTK_STRING_LIST (gtk_drop_down_get_model (dd));
    const char *t = gtk_string_list_get_string (model, i);
    const char *key = g_object_get_data (G_OBJECT (dd), "attr");
    sl_attr_type type = GPOINTER_TO_INT (g_object_get_data (G_OBJECT (dd), "type"));
    if (t)
        apply_attr (ins, key, type, t);
}

static void
switch_toggled (GtkCheckButton *b, StudioInspector *ins)
{
    apply_attr (ins, g_object_get_data (G_OBJECT (b), "attr"), SL_ATTR_BOOL,
                gtk_check_button_get_active (b) ? "true" : "false");
}

static void
name_activate (GtkEntry *e, StudioInspector *ins)
{
    GError *err = NULL;
    char *old = g_strdup (ins->name);
    const char *nn = gtk_editable_get_text (GTK_EDITABLE (e));
    char *nn_copy = g_strdup (nn);
    g_free (ins->name);
    ins->name = g_strdup (nn_copy);
    if (!studio_document_rename (ins->doc, old, nn_copy, &err)) {
        g_free (ins->name);
        ins->name = g_strdup (old);
        refuse (ins, err->message);
        g_clear_error (&err);
    } else {
        refuse (ins, NULL);
    }
    g_free (nn_copy);
    g_free (old);
}

static void
device_activate (GtkEntry *e, StudioInspector *ins)
{
    GError *err = NULL;
    char *name = g_strdup (ins->name);
    if (!studio_document_set_device (ins->doc, name, gtk_editable_get_text (GTK_EDITABLE (e)), &err)) {
        refuse (ins, err->message);
        g_clear_error (&err);
    }
    g_free (name);
}

static GtkWidget *
section (GtkBox *box, const char *title)
{
    GtkWidget *l = gtk_label_new (title);
    gtk_label_set_xalign (GTK_LABEL (l), 0);
    gtk_widget_add_css_class (l, "heading");
    gtk_widget_set_margin_top (l, 10);
    gtk_box_append (box, l);
    return l;
}

static GtkWidget *
wrap_label (const char *text, const char *css)
{
    GtkWidget *l = gtk_label_new (text);
    gtk_label_set_xalign (GTK_LABEL (l), 0);
    gtk_label_set_wrap (GTK_LABEL (l), TRUE);
    gtk_label_set_wrap_mode (GTK_LABEL (l), PANGO_WRAP_WORD_CHAR);
    gtk_label_set_selectable (GTK_LABEL (l), TRUE);
    gtk_label_set_max_width_chars (GTK_LABEL (l), 40);
    if (css)
        gtk_widget_add_css_class (l, css);
    return l;
}

static GtkWidget *
attr_widget (StudioInspector *ins, const StudioNode *n, const char *key, const sl_op_attr *oa)
{
    const Tensorflow__AttrValue *v = node_attr (n, key);
    sl_attr_type type = oa ? oa->type : SL_ATTR_FUNC;
    if (!oa && v) {
        /* an attr the op lacks (or an unknown op): by the value's kind */
        switch (v->value_case) {
        case TENSORFLOW__ATTR_VALUE__VALUE_TYPE: type = SL_ATTR_TYPE; break;
        case TENSORFLOW__ATTR_VALUE__VALUE_I: type = SL_ATTR_INT; break;
        case TENSORFLOW__ATTR_VALUE__VALUE_F: type = SL_ATTR_FLOAT; break;
        case TENSORFLOW__ATTR_VALUE__VALUE_B: type = SL_ATTR_BOOL; break;
        case TENSORFLOW__ATTR_VALUE__VALUE_SHAPE: type = SL_ATTR_SHAPE; break;
        case TENSORFLOW__ATTR_VALUE__VALUE_S: type = SL_ATTR_STRING; break;
        default: type = SL_ATTR_FUNC;
        }
    }
    GtkWidget *w;
    if (type == SL_ATTR_TYPE) {
        GtkStringList *model = gtk_string_list_new (NULL);
        guint selected = GTK_INVALID_LIST_POSITION;
        guint count = 0;
        sl_dtype cur = v && v->value_case == TENSORFLOW__ATTR_VALUE__VALUE_TYPE ? (sl_dtype) v->type
                                                                                : SL_DTYPE_INVALID;
        if (oa && oa->num_allowed_types) {
            for (int k = 0; k < oa->num_allowed_types; k++, count++) {
                gtk_string_list_append (model, sl_dtype_name (oa->allowed_types[k]));
                if (oa->allowed_types[k] == cur)
                    selected = count;
            }
        } else {
            for (guint k = 0; k < G_N_ELEMENTS (menu_types); k++, count++) {
                gtk_string_list_append (model, sl_dtype_name (menu_types[k]));
                if (menu_types[k] == cur)
                    selected = count;
            }
        }
        if (cur != SL_DTYPE_INVALID && selected == GTK_INVALID_LIST_POSITION) {
            gtk_string_list_append (model, sl_dtype_name (cur));
            selected = count;
        }
        w = gtk_drop_down_new (G_LIST_MODEL (model), NULL);
        g_object_set_data (G_OBJECT (w), "building", GINT_TO_POINTER (1));
        gtk_drop_down_set_selected (GTK_DROP_DOWN (w), selected);
        g_object_set_data (G_OBJECT (w), "building", NULL);
        g_signal_connect (w, "notify::selected", G_CALLBACK (dropdown_changed), ins);
    } else if (type == SL_ATTR_BOOL) {
        w = gtk_check_button_new ();
        gtk_check_button_set_active (GTK_CHECK_BUTTON (w), v && v->b);
        g_signal_connect (w, "toggled", G_CALLBACK (switch_toggled), ins);
    } else if (type == SL_ATTR_STRING && oa && oa->num_allowed_strings) {
        GtkStringList *model = gtk_string_list_new (NULL);
        guint selected = GTK_INVALID_LIST_POSITION;
        for (int k = 0; k < oa->num_allowed_strings; k++) {
            gtk_string_list_append (model, oa->allowed_strings[k]);
            if (v && v->s.len == strlen (oa->allowed_strings[k]) &&
                !memcmp (v->s.data, oa->allowed_strings[k], v->s.len))
                selected = (guint) k;
        }
        w = gtk_drop_down_new (G_LIST_MODEL (model), NULL);
        g_object_set_data (G_OBJECT (w), "building", GINT_TO_POINTER (1));
        gtk_drop_down_set_selected (GTK_DROP_DOWN (w), selected);
        g_object_set_data (G_OBJECT (w), "building", NULL);
        g_signal_connect (w, "notify::selected", G_CALLBACK (dropdown_changed), ins);
    } else {
        w = gtk_entry_new ();
        char *t = studio_attr_to_entry (type, v);
        gtk_editable_set_text (GTK_EDITABLE (w), t);
        g_free (t);
        const char *hint = type == SL_ATTR_SHAPE ? "[?,784]" : type == SL_ATTR_TENSOR ? "[[1, 2], [3, 4]]"
                           : type == SL_ATTR_LIST_INT ? "1, 2, 2, 1" : NULL;
        if (hint)
            gtk_entry_set_placeholder_text (GTK_ENTRY (w), hint);
        g_signal_connect (w, "activate", G_CALLBACK (entry_activate), ins);
        gtk_widget_set_tooltip_text (w, "press Enter to apply");
    }
    g_object_set_data_full (G_OBJECT (w), "attr", g_strdup (key), g_free);
    g_object_set_data (G_OBJECT (w), "type", GINT_TO_POINTER (type));
    gtk_widget_set_hexpand (w, TRUE);
    return w;
}

static void
rebuild (StudioInspector *ins)
{
    if (ins->content)
        gtk_box_remove (GTK_BOX (ins), ins->content);
    GtkWidget *box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 4);
    gtk_widget_set_margin_start (box, 10);
    gtk_widget_set_margin_end (box, 10);
    gtk_widget_set_margin_top (box, 8);
    gtk_widget_set_margin_bottom (box, 10);
    GtkWidget *sw = gtk_scrolled_window_new ();
    gtk_scrolled_window_set_policy (GTK_SCROLLED_WINDOW (sw), GTK_POLICY_NEVER, GTK_POLICY_AUTOMATIC);
    gtk_widget_set_vexpand (sw, TRUE);
    gtk_scrolled_window_set_child (GTK_SCROLLED_WINDOW (sw), box);
    ins->content = sw;
    gtk_box_append (GTK_BOX (ins), sw);
    const StudioNode *n = ins->name ? studio_document_find (ins->doc, ins->name, NULL) : NULL;
    if (!n) {
        gtk_box_append (GTK_BOX (box), wrap_label ("Select a node to see and edit its attrs.", "dim-label"));
        return;
    }
    GtkWidget *grid = gtk_grid_new ();
    gtk_grid_set_row_spacing (GTK_GRID (grid), 4);
    gtk_grid_set_column_spacing (GTK_GRID (grid), 8);
    GtkWidget *l = gtk_label_new ("Name");
    gtk_label_set_xalign (GTK_LABEL (l), 0);
    gtk_grid_attach (GTK_GRID (grid), l, 0, 0, 1, 1);
    GtkWidget *e = gtk_entry_new ();
    gtk_editable_set_text (GTK_EDITABLE (e), n->def->name);
    gtk_widget_set_hexpand (e, TRUE);
    g_signal_connect (e, "activate", G_CALLBACK (name_activate), ins);
    gtk_grid_attach (GTK_GRID (grid), e, 1, 0, 1, 1);
    l = gtk_label_new ("Op");
    gtk_label_set_xalign (GTK_LABEL (l), 0);
    gtk_grid_attach (GTK_GRID (grid), l, 0, 1, 1, 1);
    l = gtk_label_new (n->def->op);
    gtk_label_set_xalign (GTK_LABEL (l), 0);
    gtk_widget_add_css_class (l, "heading");
    gtk_grid_attach (GTK_GRID (grid), l, 1, 1, 1, 1);
    l = gtk_label_new ("Device");
    gtk_label_set_xalign (GTK_LABEL (l), 0);
    gtk_grid_attach (GTK_GRID (grid), l, 0, 2, 1, 1);
    e = gtk_entry_new ();
    gtk_editable_set_text (GTK_EDITABLE (e), n->def->device ? n->def->device : "");
    gtk_entry_set_placeholder_text (GTK_ENTRY (e), "any (e.g. /device:GPU:0)");
    g_signal_connect (e, "activate", G_CALLBACK (device_activate), ins);
    gtk_grid_attach (GTK_GRID (grid), e, 1, 2, 1, 1);
    gtk_box_append (GTK_BOX (box), grid);
    if (n->message) {
        GtkWidget *m = wrap_label (n->message, n->state == STUDIO_NODE_ERROR ? "error" : "warning");
        gtk_widget_set_margin_top (m, 6);
        gtk_box_append (GTK_BOX (box), m);
    }
    /* ports */
    section (GTK_BOX (box), "Inputs and outputs");
    GString *ports = g_string_new (NULL);
    for (int k = 0; k < n->n_inputs; k++) {
        int idx;
        char *src = studio_document_input_source (ins->doc, n, k, &idx);
        char *d = studio_port_describe (&n->inputs[k]);
        g_string_append_printf (ports, "in  %s: %s  \u2190 %s\n", n->inputs[k].name, d,
                                src && *src ? src : "(not connected)");
        g_free (d);
        g_free (src);
    }
    for (int k = 0; k < n->n_outputs; k++) {
        char *d = studio_port_describe (&n->outputs[k]);
        g_string_append_printf (ports, "out %s: %s\n", n->outputs[k].name, d);
        g_free (d);
    }
    for (size_t k = 0; k < n->def->n_input; k++)
        if (n->def->input[k][0] == '^')
            g_string_append_printf (ports, "after %s (control)\n", n->def->input[k] + 1);
    if (ports->len)
        g_string_truncate (ports, ports->len - 1);
    l = wrap_label (ports->str, "monospace");
    g_string_free (ports, TRUE);
    gtk_box_append (GTK_BOX (box), l);
    /* attrs */
    section (GTK_BOX (box), "Attributes");
    GtkWidget *ag = gtk_grid_new ();
    gtk_grid_set_row_spacing (GTK_GRID (ag), 4);
    gtk_grid_set_column_spacing (GTK_GRID (ag), 8);
    int row = 0;
    GHashTable *shown = g_hash_table_new (g_str_hash, g_str_equal);
    for (int a = 0; n->op && a < n->op->num_attrs; a++) {
        const sl_op_attr *oa = &n->op->attrs[a];
        g_hash_table_add (shown, oa->name);
        l = gtk_label_new (oa->name);
        gtk_label_set_xalign (GTK_LABEL (l), 0);
        char *tip = g_strdup_printf ("%s%s", sl_attr_type_name (oa->type),
                                     node_attr (n, oa->name) ? "" : " (default or inferred)");
        gtk_widget_set_tooltip_text (l, tip);
        g_free (tip);
        gtk_grid_attach (GTK_GRID (ag), l, 0, row, 1, 1);
        gtk_grid_attach (GTK_GRID (ag), attr_widget (ins, n, oa->name, oa), 1, row++, 1, 1);
    }
    for (size_t i = 0; i < n->def->n_attr; i++) {
        const char *key = n->def->attr[i]->key;
        if (g_hash_table_contains (shown, key))
            continue;
        l = gtk_label_new (key);
        gtk_label_set_xalign (GTK_LABEL (l), 0);
        gtk_grid_attach (GTK_GRID (ag), l, 0, row, 1, 1);
        gtk_grid_attach (GTK_GRID (ag), attr_widget (ins, n, key, NULL), 1, row++, 1, 1);
    }
    g_hash_table_unref (shown);
    if (row == 0)
        gtk_grid_attach (GTK_GRID (ag), wrap_label ("none", "dim-label"), 0, 0, 2, 1);
    gtk_box_append (GTK_BOX (box), ag);
    /* documentation */
    section (GTK_BOX (box), "Documentation");
    if (!n->op) {
        gtk_box_append (GTK_BOX (box), wrap_label ("This op is not registered in Sluice: the node is "
                                                   "kept as it is and saved with the graph.", NULL));
        return;
    }
    GString *doc = g_string_new (NULL);
    g_string_append_printf (doc, "%s: %s\n", n->op->name, n->op->summary ? n->op->summary : "");
    for (int a = 0; a < n->op->num_inputs; a++) {
        const sl_op_arg *arg = &n->op->inputs[a];
        g_string_append_printf (doc, "\ninput  %s: %s%s%s", arg->name, arg->number_attr ? arg->number_attr : "",
                                arg->number_attr ? " \u00d7 " : "",
                                arg->type != SL_DTYPE_INVALID ? sl_dtype_name (arg->type)
                                : arg->type_attr ? arg->type_attr : arg->type_list_attr ? arg->type_list_attr : "?");
    }
    for (int a = 0; a < n->op->num_outputs; a++) {
        const sl_op_arg *arg = &n->op->outputs[a];
        g_string_append_printf (doc, "\noutput %s: %s", arg->name,
                                arg->type != SL_DTYPE_INVALID ? sl_dtype_name (arg->type)
                                : arg->type_attr ? arg->type_attr : arg->type_list_attr ? arg->type_list_attr : "?");
    }
    for (int a = 0; a < n->op->num_attrs; a++) {
        const sl_op_attr *oa = &n->op->attrs[a];
        g_string_append_printf (doc, "\nattr   %s: %s", oa->name, sl_attr_type_name (oa->type));
        if (oa->num_allowed_types) {
            g_string_append (doc, " in {");
            for (int k = 0; k < oa->num_allowed_types; k++)
                g_string_append_printf (doc, "%s%s", k ? ", " : "", sl_dtype_name (oa->allowed_types[k]));
            g_string_append (doc, "}");
        }
        if (oa->has_default && oa->default_value) {
            char *t = sl_textformat_print (oa->default_value, NULL, NULL);
            if (t) {
                g_strstrip (t);
                const char *colon = strchr (t, ':');
                g_string_append_printf (doc, " = %s", colon && !strchr (t, '{') ? colon + 2 : t);
                sl_free (t);
            }
        }
    }
    gtk_box_append (GTK_BOX (box), wrap_label (doc->str, "monospace"));
    g_string_free (doc, TRUE);
}

static gboolean
rebuild_idle (gpointer data)
{
    StudioInspector *ins = data;
    ins->rebuild_id = 0;
    rebuild (ins);
    return G_SOURCE_REMOVE;
}

static void
doc_changed (StudioDocument *doc, StudioInspector *ins)
{
    /* rebuilt after the edit's signal handlers have run: an entry's own
     * "activate" may be what changed the document */
    if (!ins->rebuild_id)
        ins->rebuild_id = g_idle_add (rebuild_idle, ins);
}

void
studio_inspector_show (StudioInspector *ins, const char *name)
{
    if (g_strcmp0 (name, ins->name) == 0 && ins->content)
        return;
    g_free (ins->name);
    ins->name = g_strdup (name);
    refuse (ins, NULL);
    rebuild (ins);
}

static void
studio_inspector_dispose (GObject *object)
{
    StudioInspector *ins = STUDIO_INSPECTOR (object);
    g_clear_handle_id (&ins->rebuild_id, g_source_remove);
    if (ins->doc) {
        g_clear_signal_handler (&ins->changed_id, ins->doc);
        g_clear_object (&ins->doc);
    }
    G_OBJECT_CLASS (studio_inspector_parent_class)->dispose (object);
}

static void
studio_inspector_finalize (GObject *object)
{
    g_free (STUDIO_INSPECTOR (object)->name);
    G_OBJECT_CLASS (studio_inspector_parent_class)->finalize (object);
}

static void
studio_inspector_class_init (StudioInspectorClass *klass)
{
    G_OBJECT_CLASS (klass)->dispose = studio_inspector_dispose;
    G_OBJECT_CLASS (klass)->finalize = studio_inspector_finalize;
}

static void
studio_inspector_init (StudioInspector *ins)
{
    gtk_orientable_set_orientation (GTK_ORIENTABLE (ins), GTK_ORIENTATION_VERTICAL);
    ins->error = GTK_LABEL (wrap_label ("", "error"));
    gtk_widget_set_margin_start (GTK_WIDGET (ins->error), 10);
    gtk_widget_set_visible (GTK_WIDGET (ins->error), FALSE);
    gtk_box_append (GTK_BOX (ins), GTK_WIDGET (ins->error));
}

GtkWidget *
studio_inspector_new (StudioDocument *doc)
{
    StudioInspector *ins = g_object_new (STUDIO_TYPE_INSPECTOR, NULL);
    ins->doc = g_object_ref (doc);
    ins->changed_id = g_signal_connect (doc, "changed", G_CALLBACK (doc_changed), ins);
    rebuild (ins);
    return GTK_WIDGET (ins);
}
