/* The document: NodeDefs, positions and the undo history (see the header).
 *
 * Every edit is built from four primitives that record what they do into
 * the open command: insert a node at an index, remove one, replace one's
 * NodeDef, set one's position.  A record keeps the packed NodeDef before
 * and after, so undo replays the records backwards and gets the exact
 * bytes back.  Edits check everything they can before the first
 * primitive, so a refused edit changes nothing.
 */
#include "config.h"

#include "studio-document.h"

#include <stdlib.h>
#include <string.h>

#include "sluice/alloc.h"
#include "studio-validate.h"
#include "textformat.h"

G_DEFINE_QUARK (studio-document-error-quark, studio_document_error)

typedef struct {
    Tensorflow__NodeDef *def;   /* owned; malloc'd as protobuf-c unpacks */
    gboolean has_pos;
    double x, y;
} Item;

typedef struct {
    int index;
    gboolean pos_only;
    GBytes *before;             /* packed NodeDef; NULL: the node did not exist */
    GBytes *after;              /* NULL: the node was removed */
    gboolean pos_b, pos_a;
    double xb, yb, xa, ya;
} Change;

typedef struct {
    char *label;
    GArray *changes;            /* Change */
    guint id;
} Command;

struct _StudioDocument {
    GObject parent_instance;
    GPtrArray *items;           /* Item* */
    GHashTable *by_name;        /* name -> index + 1 */
    Tensorflow__GraphDef *header; /* versions, library, debug info; no nodes */
    StudioNode *nodes;          /* validation, parallel to items */
    int n_nodes;
    GPtrArray *undo;            /* Command* */
    GPtrArray *redo;
    Command *open;
    int depth;
    guint next_id;
    guint saved_id;             /* id of the top undo command when saved */
    gboolean was_modified;
    char *path;
};

G_DEFINE_FINAL_TYPE (StudioDocument, studio_document, G_TYPE_OBJECT)

enum { PROP_0, PROP_CAN_UNDO, PROP_CAN_REDO, PROP_MODIFIED, N_PROPS };
static GParamSpec *props[N_PROPS];
enum { SIG_CHANGED, N_SIGNALS };
static guint signals[N_SIGNALS];

/* ---- NodeDef helpers ------------------------------------------------- */

static GBytes *
pack_node (const Tensorflow__NodeDef *d)
{
    gsize len = protobuf_c_message_get_packed_size (&d->base);
    guint8 *buf = g_malloc (len + 1);
    protobuf_c_message_pack (&d->base, buf);
    return g_bytes_new_take (buf, len);
}

static Tensorflow__NodeDef *
unpack_node (GBytes *b)
{
    gsize len;
    const guint8 *data = g_bytes_get_data (b, &len);
    Tensorflow__NodeDef *d = tensorflow__node_def__unpack (NULL, len, data);
    g_assert (d);
    return d;
}

static Tensorflow__NodeDef *
clone_node (const Tensorflow__NodeDef *d)
{
    GBytes *b = pack_node (d);
    Tensorflow__NodeDef *c = unpack_node (b);
    g_bytes_unref (b);
    return c;
}

static void
free_node (Tensorflow__NodeDef *d)
{
    if (d)
        protobuf_c_message_free_unpacked (&d->base, NULL);
}

static void
set_str (char **field, const char *v)
{
    if (*field && *field != protobuf_c_empty_string)
        free (*field);
    *field = strdup (v ? v : "");
}

static int
find_attr (const Tensorflow__NodeDef *d, const char *key)
{
    for (size_t i = 0; i < d->n_attr; i++)
        if (d->attr[i]->key && strcmp (d->attr[i]->key, key) == 0)
            return (int) i;
    return -1;
}

/* Sets (takes ownership of value) or, value NULL, removes an attr. */
static void
node_set_attr (Tensorflow__NodeDef *d, const char *key, Tensorflow__AttrValue *value)
{
    int i = find_attr (d, key);
    if (!value) {
        if (i < 0)
            return;
        protobuf_c_message_free_unpacked (&d->attr[i]->base, NULL);
        memmove (d->attr + i, d->attr + i + 1, sizeof (*d->attr) * (d->n_attr - (size_t) i - 1));
        d->n_attr--;
        return;
    }
    if (i >= 0) {
        protobuf_c_message_free_unpacked (&d->attr[i]->value->base, NULL);
        d->attr[i]->value = value;
        return;
    }
    Tensorflow__NodeDef__AttrEntry *e = malloc (sizeof *e);
    tensorflow__node_def__attr_entry__init (e);
    e->key = strdup (key);
    e->value = value;
    d->attr = realloc (d->attr, sizeof (*d->attr) * (d->n_attr + 1));
    d->attr[d->n_attr++] = e;
}

static Tensorflow__AttrValue *
attr_from_text (const char *text, GError **error)
{
    sl_status *st = sl_status_new ();
    Tensorflow__AttrValue *v = (Tensorflow__AttrValue *) sl_textformat_parse (
        &tensorflow__attr_value__descriptor, text, strlen (text), "value", st);
    if (!v)
        g_set_error (error, STUDIO_DOCUMENT_ERROR, STUDIO_DOCUMENT_ERROR_INVALID, "%s",
                     sl_status_message (st));
    sl_status_free (st);
    return v;
}

static Tensorflow__AttrValue *
attr_dup (const Tensorflow__AttrValue *v)
{
    gsize len = protobuf_c_message_get_packed_size (&v->base);
    guint8 *buf = g_malloc (len + 1);
    protobuf_c_message_pack (&v->base, buf);
    Tensorflow__AttrValue *c = tensorflow__attr_value__unpack (NULL, len, buf);
    g_free (buf);
    return c;
}

static void
node_set_input (Tensorflow__NodeDef *d, int k, const char *text)
{
    set_str (&d->input[k], text);
}

static void
node_insert_input (Tensorflow__NodeDef *d, int at, const char *text)
{
    d->input = realloc (d->input, sizeof (char *) * (d->n_input + 1));
    memmove (d->input + at + 1, d->input + at, sizeof (char *) * (d->n_input - (size_t) at));
    d->input[at] = strdup (text);
    d->n_input++;
}

static void
node_remove_input (Tensorflow__NodeDef *d, int at)
{
    if (d->input[at] != protobuf_c_empty_string)
        free (d->input[at]);
    memmove (d->input + at, d->input + at + 1, sizeof (char *) * (d->n_input - (size_t) at - 1));
    d->n_input--;
}

static int
n_data (const Tensorflow__NodeDef *d)
{
    int n = 0;
    while ((size_t) n < d->n_input && d->input[n][0] != '^')
        n++;
    return n;
}

/* Trailing unconnected inputs are dropped so a disconnect then connect
 * elsewhere gives the NodeDef TF would write. */
static void
trim_unconnected (Tensorflow__NodeDef *d)
{
    int nd = n_data (d);
    while (nd > 0 && !d->input[nd - 1][0]) {
        node_remove_input (d, nd - 1);
        nd--;
    }
}

static char *
input_text (const char *src, int out)
{
    return out < 0 ? g_strdup_printf ("^%s", src)
                   : out == 0 ? g_strdup (src) : g_strdup_printf ("%s:%d", src, out);
}

/* ---- Items and primitives ------------------------------------------ */

static void
item_free (Item *it)
{
    free_node (it->def);
    g_free (it);
}

static Item *
item (StudioDocument *doc, int i)
{
    return g_ptr_array_index (doc->items, (guint) i);
}

static void
change_clear (Change *c)
{
    g_clear_pointer (&c->before, g_bytes_unref);
    g_clear_pointer (&c->after, g_bytes_unref);
}

static void
command_free (Command *c)
{
    g_free (c->label);
    g_array_unref (c->changes);
    g_free (c);
}

static void
record (StudioDocument *doc, Change *c)
{
    g_assert (doc->open);
    g_array_append_val (doc->open->changes, *c);
}

static void
reindex (StudioDocument *doc)
{
    g_hash_table_remove_all (doc->by_name);
    for (guint i = 0; i < doc->items->len; i++)
        g_hash_table_insert (doc->by_name, item (doc, (int) i)->def->name, GINT_TO_POINTER (i + 1));
}

static int
index_of (StudioDocument *doc, const char *name)
{
    return name ? GPOINTER_TO_INT (g_hash_table_lookup (doc->by_name, name)) - 1 : -1;
}

/* Positions are saved as float attrs; keeping them at float precision
 * makes a reopened graph compare equal. */
static double
as_float (double v)
{
    volatile float f = (float) v;
    return f;
}

static void
prim_insert (StudioDocument *doc, int index, Tensorflow__NodeDef *def, gboolean has_pos, double x,
             double y)
{
    x = as_float (x);   /* positions are saved as floats: keep what reopens */
    y = as_float (y);
    Change c = { .index = index, .after = pack_node (def), .pos_a = has_pos, .xa = x, .ya = y };
    record (doc, &c);
    Item *it = g_new0 (Item, 1);
    it->def = def;
    it->has_pos = has_pos;
    it->x = x;
    it->y = y;
    g_ptr_array_insert (doc->items, index, it);
    reindex (doc);
}

static void
prim_remove (StudioDocument *doc, int index)
{
    Item *it = item (doc, index);
    Change c = { .index = index, .before = pack_node (it->def), .pos_b = it->has_pos, .xb = it->x,
                 .yb = it->y };
    record (doc, &c);
    g_ptr_array_remove_index (doc->items, (guint) index);
    reindex (doc);
}

static void
prim_replace (StudioDocument *doc, int index, Tensorflow__NodeDef *def)
{
    Item *it = item (doc, index);
    Change c = { .index = index, .before = pack_node (it->def), .after = pack_node (def),
                 .pos_b = it->has_pos, .xb = it->x, .yb = it->y, .pos_a = it->has_pos, .xa = it->x,
                 .ya = it->y };
    record (doc, &c);
    free_node (it->def);
    it->def = def;
    reindex (doc);
}

static void
prim_set_pos (StudioDocument *doc, int index, double x, double y)
{
    x = as_float (x);
    y = as_float (y);
    Item *it = item (doc, index);
    Change c = { .index = index, .pos_only = TRUE, .pos_b = it->has_pos, .xb = it->x, .yb = it->y,
                 .pos_a = TRUE, .xa = x, .ya = y };
    record (doc, &c);
    it->has_pos = TRUE;
    it->x = x;
    it->y = y;
}

/* Replays one change forwards (redo) or backwards (undo). */
static void
replay (StudioDocument *doc, const Change *c, gboolean forward)
{
    GBytes *from = forward ? c->before : c->after;
    GBytes *to = forward ? c->after : c->before;
    gboolean pos = forward ? c->pos_a : c->pos_b;
    double x = forward ? c->xa : c->xb, y = forward ? c->ya : c->yb;
    if (c->pos_only) {
        Item *it = item (doc, c->index);
        it->has_pos = pos;
        it->x = x;
        it->y = y;
        return;
    }
    if (!from) {
        Item *it = g_new0 (Item, 1);
        it->def = unpack_node (to);
        it->has_pos = pos;
        it->x = x;
        it->y = y;
        g_ptr_array_insert (doc->items, c->index, it);
    } else if (!to) {
        g_ptr_array_remove_index (doc->items, (guint) c->index);
    } else {
        Item *it = item (doc, c->index);
        free_node (it->def);
        it->def = unpack_node (to);
        it->has_pos = pos;
        it->x = x;
        it->y = y;
    }
}

/* ---- Validation and signals ---------------------------------------- */

static void
release_nodes (StudioDocument *doc)
{
    for (int i = 0; i < doc->n_nodes; i++)
        studio_node_release (&doc->nodes[i]);
    g_clear_pointer (&doc->nodes, g_free);
    doc->n_nodes = 0;
}

static gboolean
compute_modified (StudioDocument *doc)
{
    guint top = doc->undo->len ? ((Command *) g_ptr_array_index (doc->undo, doc->undo->len - 1))->id : 0;
    return top != doc->saved_id;
}

static void
revalidate (StudioDocument *doc)
{
    reindex (doc);
    release_nodes (doc);
    doc->n_nodes = (int) doc->items->len;
    doc->nodes = g_new0 (StudioNode, (gsize) doc->n_nodes + 1);
    for (int i = 0; i < doc->n_nodes; i++) {
        Item *it = item (doc, i);
        doc->nodes[i].def = it->def;
        doc->nodes[i].has_position = it->has_pos;
        doc->nodes[i].x = it->x;
        doc->nodes[i].y = it->y;
    }
    studio_validate_run (doc->nodes, doc->n_nodes);
}

static void
refresh (StudioDocument *doc)
{
    revalidate (doc);
    g_object_notify_by_pspec (G_OBJECT (doc), props[PROP_CAN_UNDO]);
    g_object_notify_by_pspec (G_OBJECT (doc), props[PROP_CAN_REDO]);
    gboolean m = compute_modified (doc);
    if (m != doc->was_modified) {
        doc->was_modified = m;
        g_object_notify_by_pspec (G_OBJECT (doc), props[PROP_MODIFIED]);
    }
    g_signal_emit (doc, signals[SIG_CHANGED], 0);
}

void
studio_document_begin (StudioDocument *doc, const char *label)
{
    if (doc->depth++ == 0) {
        doc->open = g_new0 (Command, 1);
        doc->open->label = g_strdup (label);
        doc->open->changes = g_array_new (FALSE, TRUE, sizeof (Change));
        g_array_set_clear_func (doc->open->changes, (GDestroyNotify) change_clear);
    }
}

void
studio_document_end (StudioDocument *doc)
{
    g_return_if_fail (doc->depth > 0);
    if (--doc->depth > 0) {
        /* edits inside a group read the nodes as they are now */
        revalidate (doc);
        return;
    }
    Command *c = doc->open;
    doc->open = NULL;
    if (c->changes->len == 0) {
        command_free (c);
        return;
    }
    c->id = ++doc->next_id;
    g_ptr_array_add (doc->undo, c);
    g_ptr_array_set_size (doc->redo, 0);
    refresh (doc);
}

/* ---- GObject --------------------------------------------------------- */

static void
studio_document_finalize (GObject *object)
{
    StudioDocument *doc = STUDIO_DOCUMENT (object);
    release_nodes (doc);
    g_ptr_array_unref (doc->items);
    g_hash_table_unref (doc->by_name);
    g_ptr_array_unref (doc->undo);
    g_ptr_array_unref (doc->redo);
    if (doc->open)
        command_free (doc->open);
    if (doc->header)
        protobuf_c_message_free_unpacked (&doc->header->base, NULL);
    g_free (doc->path);
    G_OBJECT_CLASS (studio_document_parent_class)->finalize (object);
}

static void
studio_document_get_property (GObject *object, guint id, GValue *value, GParamSpec *pspec)
{
    StudioDocument *doc = STUDIO_DOCUMENT (object);
    switch (id) {
    case PROP_CAN_UNDO:
        g_value_set_boolean (value, studio_document_can_undo (doc));
        break;
    case PROP_CAN_REDO:
        g_value_set_boolean (value, studio_document_can_redo (doc));
        break;
    case PROP_MODIFIED:
        g_value_set_boolean (value, studio_document_is_modified (doc));
        break;
    default:
        G_OBJECT_WARN_INVALID_PROPERTY_ID (object, id, pspec);
    }
}

static void
studio_document_class_init (StudioDocumentClass *klass)
{
    GObjectClass *oc = G_OBJECT_CLASS (klass);
    oc->finalize = studio_document_finalize;
    oc->get_property = studio_document_get_property;
    props[PROP_CAN_UNDO] = g_param_spec_boolean ("can-undo", NULL, NULL, FALSE,
                                                 G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
    props[PROP_CAN_REDO] = g_param_spec_boolean ("can-redo", NULL, NULL, FALSE,
                                                 G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
    props[PROP_MODIFIED] = g_param_spec_boolean ("modified", NULL, NULL, FALSE,
                                                 G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
    g_object_class_install_properties (oc, N_PROPS, props);
    signals[SIG_CHANGED] = g_signal_new ("changed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0,
                                         NULL, NULL, NULL, G_TYPE_NONE, 0);
}

static Tensorflow__GraphDef *
new_header (void)
{
    Tensorflow__GraphDef *h = malloc (sizeof *h);
    tensorflow__graph_def__init (h);
    return h;
}

static void
studio_document_init (StudioDocument *doc)
{
    doc->items = g_ptr_array_new_with_free_func ((GDestroyNotify) item_free);
    doc->by_name = g_hash_table_new (g_str_hash, g_str_equal);
    doc->undo = g_ptr_array_new_with_free_func ((GDestroyNotify) command_free);
    doc->redo = g_ptr_array_new_with_free_func ((GDestroyNotify) command_free);
    doc->header = new_header ();
}

StudioDocument *
studio_document_new (void)
{
    return g_object_new (STUDIO_TYPE_DOCUMENT, NULL);
}

/* ---- Files ----------------------------------------------------------- */

static void
reset_history (StudioDocument *doc)
{
    g_ptr_array_set_size (doc->undo, 0);
    g_ptr_array_set_size (doc->redo, 0);
    doc->saved_id = 0;
}

/* Takes ownership of gd: its nodes become the document's. */
static void
adopt (StudioDocument *doc, Tensorflow__GraphDef *gd)
{
    g_ptr_array_set_size (doc->items, 0);
    for (size_t i = 0; i < gd->n_node; i++) {
        Item *it = g_new0 (Item, 1);
        it->def = gd->node[i];
        int a = find_attr (it->def, STUDIO_POSITION_ATTR);
        if (a >= 0) {
            const Tensorflow__AttrValue *v = it->def->attr[a]->value;
            if (v && v->value_case == TENSORFLOW__ATTR_VALUE__VALUE_LIST && v->list->n_f >= 2) {
                it->has_pos = TRUE;
                it->x = v->list->f[0];
                it->y = v->list->f[1];
            }
            node_set_attr (it->def, STUDIO_POSITION_ATTR, NULL);
        }
        g_ptr_array_add (doc->items, it);
    }
    free (gd->node);
    gd->node = NULL;
    gd->n_node = 0;
    if (doc->header)
        protobuf_c_message_free_unpacked (&doc->header->base, NULL);
    doc->header = gd;
    reset_history (doc);
}

void
studio_document_clear (StudioDocument *doc)
{
    adopt (doc, new_header ());
    g_clear_pointer (&doc->path, g_free);
    refresh (doc);
}

gboolean
studio_document_load_bytes (StudioDocument *doc, const void *data, gsize size, gboolean text,
                            const char *source_name, GError **error)
{
    const char *src = source_name ? source_name : "<input>";
    Tensorflow__GraphDef *gd = NULL;
    if (!text) {
        gd = tensorflow__graph_def__unpack (NULL, size, data);
        if (gd && size > 0 && gd->n_node == 0 && gd->base.n_unknown_fields > 0) {
            protobuf_c_message_free_unpacked (&gd->base, NULL);
            gd = NULL;
        }
        if (!gd && !memchr (data, '\0', size))
            text = TRUE;   /* a text GraphDef under another name */
        if (!gd && !text) {
            g_set_error (error, STUDIO_DOCUMENT_ERROR, STUDIO_DOCUMENT_ERROR_INVALID,
                         "cannot open '%s': not a GraphDef (binary or text)", src);
            return FALSE;
        }
    }
    if (!gd) {
        sl_status *st = sl_status_new ();
        gd = (Tensorflow__GraphDef *) sl_textformat_parse (&tensorflow__graph_def__descriptor, data,
                                                           size, src, st);
        if (!gd)
            g_set_error (error, STUDIO_DOCUMENT_ERROR, STUDIO_DOCUMENT_ERROR_INVALID,
                         "cannot open '%s': not a GraphDef: %s", src, sl_status_message (st));
        sl_status_free (st);
        if (!gd)
            return FALSE;
    }
    GHashTable *seen = g_hash_table_new (g_str_hash, g_str_equal);
    for (size_t i = 0; i < gd->n_node; i++) {
        const char *name = gd->node[i]->name;
        if (!name || !*name || g_hash_table_contains (seen, name)) {
            g_set_error (error, STUDIO_DOCUMENT_ERROR, STUDIO_DOCUMENT_ERROR_INVALID,
                         "cannot open '%s': node %zu %s", src, i,
                         !name || !*name ? "has no name" : "repeats a name");
            g_hash_table_unref (seen);
            protobuf_c_message_free_unpacked (&gd->base, NULL);
            return FALSE;
        }
        g_hash_table_add (seen, (gpointer) name);
    }
    g_hash_table_unref (seen);
    adopt (doc, gd);
    refresh (doc);
    return TRUE;
}

static gboolean
is_text_name (const char *path)
{
    return g_str_has_suffix (path, ".pbtxt") || g_str_has_suffix (path, ".txt");
}

gboolean
studio_document_load (StudioDocument *doc, const char *path, GError **error)
{
    char *data = NULL;
    gsize size = 0;
    GError *e = NULL;
    if (!g_file_get_contents (path, &data, &size, &e)) {
        g_set_error (error, STUDIO_DOCUMENT_ERROR, STUDIO_DOCUMENT_ERROR_NOT_FOUND,
                     "cannot open '%s': %s", path, e->message);
        g_error_free (e);
        return FALSE;
    }
    gboolean ok = studio_document_load_bytes (doc, data, size, is_text_name (path), path, error);
    g_free (data);
    if (ok) {
        g_free (doc->path);
        doc->path = g_strdup (path);
    }
    return ok;
}

/* A shallow NodeDef with the position attr added: its attr array is new,
 * everything else borrowed. */
static Tensorflow__NodeDef *
with_position (const Item *it, Tensorflow__NodeDef__AttrEntry *entry,
               Tensorflow__AttrValue *value, Tensorflow__AttrValue__ListValue *list, float *xy)
{
    Tensorflow__NodeDef *d = g_new (Tensorflow__NodeDef, 1);
    *d = *it->def;
    d->attr = g_new (Tensorflow__NodeDef__AttrEntry *, it->def->n_attr + 1);
    memcpy (d->attr, it->def->attr, sizeof (*d->attr) * it->def->n_attr);
    tensorflow__node_def__attr_entry__init (entry);
    tensorflow__attr_value__init (value);
    tensorflow__attr_value__list_value__init (list);
    xy[0] = (float) it->x;
    xy[1] = (float) it->y;
    list->n_f = 2;
    list->f = xy;
    value->value_case = TENSORFLOW__ATTR_VALUE__VALUE_LIST;
    value->list = list;
    entry->key = (char *) STUDIO_POSITION_ATTR;
    entry->value = value;
    d->attr[d->n_attr++] = entry;
    return d;
}

static GBytes *
export_subset (StudioDocument *doc, const gboolean *keep, gboolean text)
{
    int n = (int) doc->items->len;
    Tensorflow__GraphDef gd = *doc->header;
    gd.node = g_new0 (Tensorflow__NodeDef *, (gsize) n + 1);
    gd.n_node = 0;
    Tensorflow__NodeDef__AttrEntry *entries = g_new (Tensorflow__NodeDef__AttrEntry, (gsize) n + 1);
    Tensorflow__AttrValue *values = g_new (Tensorflow__AttrValue, (gsize) n + 1);
    Tensorflow__AttrValue__ListValue *lists = g_new (Tensorflow__AttrValue__ListValue, (gsize) n + 1);
    float *xy = g_new (float, 2 * (gsize) n + 2);
    GPtrArray *shallow = g_ptr_array_new_with_free_func (g_free);
    for (int i = 0; i < n; i++) {
        if (keep && !keep[i])
            continue;
        Item *it = item (doc, i);
        if (it->has_pos) {
            Tensorflow__NodeDef *d = with_position (it, &entries[i], &values[i], &lists[i], &xy[2 * i]);
            g_ptr_array_add (shallow, d->attr);
            g_ptr_array_add (shallow, d);
            gd.node[gd.n_node++] = d;
        } else {
            gd.node[gd.n_node++] = it->def;
        }
    }
    GBytes *out;
    if (text) {
        size_t len = 0;
        sl_status *st = sl_status_new ();
        char *s = sl_textformat_print (&gd.base, &len, st);
        g_assert (s);
        out = g_bytes_new (s, len);
        sl_free (s);
        sl_status_free (st);
    } else {
        gsize len = protobuf_c_message_get_packed_size (&gd.base);
        guint8 *buf = g_malloc (len + 1);
        protobuf_c_message_pack (&gd.base, buf);
        out = g_bytes_new_take (buf, len);
    }
    g_ptr_array_unref (shallow);
    g_free (xy);
    g_free (lists);
    g_free (values);
    g_free (entries);
    g_free (gd.node);
    return out;
}

GBytes *
studio_document_export (StudioDocument *doc, gboolean text)
{
    return export_subset (doc, NULL, text);
}

GBytes *
studio_document_export_nodes (StudioDocument *doc, const char *const *names)
{
    gboolean *keep = g_new0 (gboolean, doc->items->len + 1);
    for (int k = 0; names && names[k]; k++) {
        int i = index_of (doc, names[k]);
        if (i >= 0)
            keep[i] = TRUE;
    }
    GBytes *b = export_subset (doc, keep, FALSE);
    g_free (keep);
    return b;
}

gboolean
studio_document_save (StudioDocument *doc, const char *path, GError **error)
{
    GBytes *b = studio_document_export (doc, is_text_name (path));
    gsize len;
    const char *data = g_bytes_get_data (b, &len);
    GError *e = NULL;
    gboolean ok = g_file_set_contents (path, data, (gssize) len, &e);
    g_bytes_unref (b);
    if (!ok) {
        g_set_error (error, STUDIO_DOCUMENT_ERROR, STUDIO_DOCUMENT_ERROR_INVALID,
                     "cannot save '%s': %s", path, e->message);
        g_error_free (e);
        return FALSE;
    }
    if (doc->path != path) {
        g_free (doc->path);
        doc->path = g_strdup (path);
    }
    doc->saved_id = doc->undo->len ? ((Command *) g_ptr_array_index (doc->undo, doc->undo->len - 1))->id : 0;
    if (doc->was_modified) {
        doc->was_modified = FALSE;
        g_object_notify_by_pspec (G_OBJECT (doc), props[PROP_MODIFIED]);
    }
    return TRUE;
}

gboolean
studio_document_save_copy (StudioDocument *doc, const char *path, GError **error)
{
    GBytes *b = studio_document_export (doc, is_text_name (path));
    gsize len;
    const char *data = g_bytes_get_data (b, &len);
    GError *e = NULL;
    gboolean ok = g_file_set_contents (path, data, (gssize) len, &e);
    g_bytes_unref (b);
    if (!ok) {
        g_set_error (error, STUDIO_DOCUMENT_ERROR, STUDIO_DOCUMENT_ERROR_INVALID,
                     "cannot save '%s': %s", path, e->message);
        g_error_free (e);
    }
    return ok;
}

void
studio_document_set_path (StudioDocument *doc, const char *path)
{
    g_free (doc->path);
    doc->path = g_strdup (path);
}

void
studio_document_forget_history (StudioDocument *doc)
{
    reset_history (doc);
    refresh (doc);
}

const char *
studio_document_get_path (StudioDocument *doc)
{
    return doc->path;
}

gboolean
studio_document_is_modified (StudioDocument *doc)
{
    return compute_modified (doc);
}

/* ---- Reading --------------------------------------------------------- */

int
studio_document_get_n_nodes (StudioDocument *doc)
{
    return doc->n_nodes;
}

const StudioNode *
studio_document_get_node (StudioDocument *doc, int i)
{
    g_return_val_if_fail (i >= 0 && i < doc->n_nodes, NULL);
    return &doc->nodes[i];
}

const StudioNode *
studio_document_find (StudioDocument *doc, const char *name, int *index)
{
    int i = index_of (doc, name);
    if (index)
        *index = i;
    return i >= 0 && i < doc->n_nodes ? &doc->nodes[i] : NULL;
}

int
studio_document_count_problems (StudioDocument *doc)
{
    int n = 0;
    for (int i = 0; i < doc->n_nodes; i++)
        n += doc->nodes[i].state == STUDIO_NODE_ERROR || doc->nodes[i].state == STUDIO_NODE_UNKNOWN_OP;
    return n;
}

char *
studio_document_input_source (StudioDocument *doc, const StudioNode *n, int i, int *out_index)
{
    int k = 0;
    for (size_t j = 0; j < n->def->n_input; j++) {
        if (n->def->input[j][0] == '^')
            break;
        if (k++ == i)
            return studio_parse_input (n->def->input[j], out_index);
    }
    *out_index = 0;
    return NULL;
}

char *
studio_document_unique_name (StudioDocument *doc, const char *base)
{
    if (index_of (doc, base) < 0)
        return g_strdup (base);
    for (int k = 1;; k++) {
        char *s = g_strdup_printf ("%s_%d", base, k);
        if (index_of (doc, s) < 0)
            return s;
        g_free (s);
    }
}

/* ---- Edits ----------------------------------------------------------- */

static int
need (StudioDocument *doc, const char *name, GError **error)
{
    int i = index_of (doc, name);
    if (i < 0)
        g_set_error (error, STUDIO_DOCUMENT_ERROR, STUDIO_DOCUMENT_ERROR_NOT_FOUND,
                     "no node named '%s'", name ? name : "(null)");
    return i;
}

/* Whether attr `name` of op is fixed by its inputs (a type, list or
 * length attr an input argument refers to). */
static gboolean
attr_inferred (const sl_op_def *op, const char *name)
{
    for (int a = 0; a < op->num_inputs; a++) {
        const sl_op_arg *arg = &op->inputs[a];
        if ((arg->type_attr && !strcmp (arg->type_attr, name)) ||
            (arg->type_list_attr && !strcmp (arg->type_list_attr, name)) ||
            (arg->number_attr && !strcmp (arg->number_attr, name)))
            return TRUE;
    }
    return FALSE;
}

static const char *
neutral_value (const sl_op_def *op, const sl_op_attr *a, char *buf, gsize size)
{
    switch (a->type) {
    case SL_ATTR_TYPE:
        g_snprintf (buf, size, "type: %s",
                    sl_dtype_enum_name (a->num_allowed_types ? a->allowed_types[0] : SL_DTYPE_FLOAT));
        for (int k = 0; k < a->num_allowed_types; k++)
            if (a->allowed_types[k] == SL_DTYPE_FLOAT)
                g_snprintf (buf, size, "type: DT_FLOAT");
        return buf;
    case SL_ATTR_INT:
        g_snprintf (buf, size, "i: %" G_GINT64_FORMAT, a->has_minimum ? MAX (a->minimum, 0) : 0);
        return buf;
    case SL_ATTR_FLOAT:
        return "f: 0";
    case SL_ATTR_BOOL:
        return "b: false";
    case SL_ATTR_STRING:
        if (a->num_allowed_strings) {
            g_snprintf (buf, size, "s: \"%s\"", a->allowed_strings[0]);
            return buf;
        }
        return "s: \"\"";
    case SL_ATTR_SHAPE:
        return "shape { unknown_rank: true }";
    case SL_ATTR_TENSOR:
        return "tensor { dtype: DT_FLOAT tensor_shape { } float_val: 0 }";
    default:
        return "list { }";
    }
}

gboolean
studio_document_add_node (StudioDocument *doc, const char *op_name, const char *name, double x,
                          double y, char **out_name, GError **error)
{
    if (!op_name || !*op_name) {
        g_set_error (error, STUDIO_DOCUMENT_ERROR, STUDIO_DOCUMENT_ERROR_INVALID, "no op given");
        return FALSE;
    }
    char *nm = name ? g_strdup (name) : studio_document_unique_name (doc, op_name);
    if (!sl_node_name_is_valid (nm)) {
        g_set_error (error, STUDIO_DOCUMENT_ERROR, STUDIO_DOCUMENT_ERROR_INVALID,
                     "'%s' is not a valid node name", nm);
        g_free (nm);
        return FALSE;
    }
    if (index_of (doc, nm) >= 0) {
        g_set_error (error, STUDIO_DOCUMENT_ERROR, STUDIO_DOCUMENT_ERROR_EXISTS,
                     "a node named '%s' exists already", nm);
        g_free (nm);
        return FALSE;
    }
    Tensorflow__NodeDef *d = malloc (sizeof *d);
    tensorflow__node_def__init (d);
    d->name = strdup (nm);
    d->op = strdup (op_name);
    d->device = strdup ("");
    const sl_op_def *op = sl_op_lookup (op_name);
    for (int a = 0; op && a < op->num_attrs; a++) {
        const sl_op_attr *at = &op->attrs[a];
        char buf[128];
        if (at->has_default && at->type != SL_ATTR_TYPE)
            continue;
        if (at->has_default) {
            /* a type attr with a default that inputs set: leave to them */
            continue;
        }
        if (attr_inferred (op, at->name)) {
            const sl_op_arg *list = NULL;
            for (int k = 0; k < op->num_inputs; k++)
                if (op->inputs[k].number_attr && !strcmp (op->inputs[k].number_attr, at->name))
                    list = &op->inputs[k];
            if (list) {   /* N * T: two ports to start with */
                g_snprintf (buf, sizeof buf, "i: %d", at->has_minimum ? (int) MAX (at->minimum, 2) : 2);
                node_set_attr (d, at->name, attr_from_text (buf, NULL));
            }
            continue;
        }
        Tensorflow__AttrValue *v = attr_from_text (neutral_value (op, at, buf, sizeof buf), NULL);
        if (v)
            node_set_attr (d, at->name, v);
    }
    studio_document_begin (doc, "Add node");
    prim_insert (doc, (int) doc->items->len, d, TRUE, x, y);
    studio_document_end (doc);
    if (out_name)
        *out_name = nm;
    else
        g_free (nm);
    return TRUE;
}

gboolean
studio_document_delete_nodes (StudioDocument *doc, const char *const *names, GError **error)
{
    GHashTable *gone = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
    for (int k = 0; names && names[k]; k++) {
        if (need (doc, names[k], error) < 0) {
            g_hash_table_unref (gone);
            return FALSE;
        }
        g_hash_table_add (gone, g_strdup (names[k]));
    }
    if (g_hash_table_size (gone) == 0) {
        g_hash_table_unref (gone);
        return TRUE;
    }
    studio_document_begin (doc, g_hash_table_size (gone) > 1 ? "Delete nodes" : "Delete node");
    /* consumers first: their inputs from deleted nodes go */
    for (guint i = 0; i < doc->items->len; i++) {
        Item *it = item (doc, (int) i);
        if (g_hash_table_contains (gone, it->def->name))
            continue;
        Tensorflow__NodeDef *d = NULL;
        for (int k = (int) it->def->n_input - 1; k >= 0; k--) {
            int idx;
            char *src = studio_parse_input (it->def->input[k], &idx);
            if (*src && g_hash_table_contains (gone, src)) {
                if (!d)
                    d = clone_node (it->def);
                if (idx < 0)
                    node_remove_input (d, k);
                else
                    node_set_input (d, k, "");
            }
            g_free (src);
        }
        if (d) {
            trim_unconnected (d);
            prim_replace (doc, (int) i, d);
        }
    }
    for (int i = (int) doc->items->len - 1; i >= 0; i--)
        if (g_hash_table_contains (gone, item (doc, i)->def->name))
            prim_remove (doc, i);
    g_hash_table_unref (gone);
    studio_document_end (doc);
    return TRUE;
}

/* Whether `to` is reachable from `from` along inputs backwards, i.e.
 * whether `from` depends on `to`. */
static gboolean
depends_on (StudioDocument *doc, int from, int to)
{
    if (from == to)
        return TRUE;
    gboolean *seen = g_new0 (gboolean, doc->items->len + 1);
    GArray *stack = g_array_new (FALSE, FALSE, sizeof (int));
    g_array_append_val (stack, from);
    gboolean found = FALSE;
    while (stack->len && !found) {
        int v = g_array_index (stack, int, stack->len - 1);
        g_array_set_size (stack, stack->len - 1);
        if (seen[v])
            continue;
        seen[v] = TRUE;
        const Tensorflow__NodeDef *d = item (doc, v)->def;
        for (size_t k = 0; k < d->n_input; k++) {
            int idx;
            char *src = studio_parse_input (d->input[k], &idx);
            int s = index_of (doc, src);
            g_free (src);
            if (s == to) {
                found = TRUE;
                break;
            }
            if (s >= 0 && !seen[s])
                g_array_append_val (stack, s);
        }
    }
    g_array_unref (stack);
    g_free (seen);
    return found;
}

static gboolean
type_allowed (const sl_op_def *op, const char *attr, sl_dtype t, GString *allowed)
{
    const sl_op_attr *a = op ? sl_op_def_find_attr (op, attr) : NULL;
    if (!a || a->num_allowed_types == 0)
        return TRUE;
    gboolean ok = FALSE;
    for (int k = 0; k < a->num_allowed_types; k++) {
        ok |= a->allowed_types[k] == sl_dtype_base (t);
        g_string_append_printf (allowed, "%s%s", k ? ", " : "", sl_dtype_name (a->allowed_types[k]));
    }
    return ok;
}

static gboolean
check_connect (StudioDocument *doc, const char *src, int src_out, const char *dst, int dst_in,
               int *si_out, int *di_out, GError **error)
{
    int si = need (doc, src, error);
    if (si < 0)
        return FALSE;
    int di = need (doc, dst, error);
    if (di < 0)
        return FALSE;
    *si_out = si;
    *di_out = di;
    if (depends_on (doc, si, di)) {
        g_set_error (error, STUDIO_DOCUMENT_ERROR, STUDIO_DOCUMENT_ERROR_INCOMPATIBLE,
                     "cannot connect '%s' to '%s': the graph would have a cycle", src, dst);
        return FALSE;
    }
    if (src_out < 0 || dst_in < 0)
        return TRUE;
    const StudioNode *s = &doc->nodes[si], *d = &doc->nodes[di];
    if (src_out >= s->n_outputs && s->op) {
        g_set_error (error, STUDIO_DOCUMENT_ERROR, STUDIO_DOCUMENT_ERROR_INCOMPATIBLE,
                     "'%s' has no output %d", src, src_out);
        return FALSE;
    }
    if (dst_in >= d->n_inputs && d->op) {
        g_set_error (error, STUDIO_DOCUMENT_ERROR, STUDIO_DOCUMENT_ERROR_INCOMPATIBLE,
                     "'%s' has no input %d", dst, dst_in);
        return FALSE;
    }
    sl_dtype have = src_out < s->n_outputs ? s->outputs[src_out].dtype : SL_DTYPE_INVALID;
    if (have == SL_DTYPE_INVALID || dst_in >= d->n_inputs || !d->op)
        return TRUE;
    const StudioPort *p = &d->inputs[dst_in];
    sl_dtype want = SL_DTYPE_INVALID;
    if (!p->type_attr) {
        want = p->dtype;    /* a fixed type (or a list's) */
    } else {
        /* what the other connected inputs of the same type attr say */
        for (int k = 0; k < d->n_inputs; k++) {
            int idx;
            if (k == dst_in || !d->inputs[k].type_attr || strcmp (d->inputs[k].type_attr, p->type_attr))
                continue;
            char *from = studio_document_input_source (doc, d, k, &idx);
            if (from && *from && d->inputs[k].dtype != SL_DTYPE_INVALID)
                want = d->inputs[k].dtype;
            g_free (from);
        }
        GString *allowed = g_string_new (NULL);
        if (want == SL_DTYPE_INVALID && !type_allowed (d->op, p->type_attr, have, allowed)) {
            g_set_error (error, STUDIO_DOCUMENT_ERROR, STUDIO_DOCUMENT_ERROR_INCOMPATIBLE,
                         "cannot connect '%s' (%s) to '%s' input '%s': %s allows %s only for %s",
                         src, sl_dtype_name (have), dst, p->name, d->def->op, allowed->str,
                         p->type_attr);
            g_string_free (allowed, TRUE);
            return FALSE;
        }
        g_string_free (allowed, TRUE);
    }
    if (want != SL_DTYPE_INVALID && sl_dtype_base (want) != sl_dtype_base (have)) {
        g_set_error (error, STUDIO_DOCUMENT_ERROR, STUDIO_DOCUMENT_ERROR_INCOMPATIBLE,
                     "cannot connect '%s' to '%s': '%s' gives %s but input '%s' of '%s' takes %s",
                     src, dst, src, sl_dtype_name (sl_dtype_base (have)), p->name, dst,
                     sl_dtype_name (sl_dtype_base (want)));
        return FALSE;
    }
    return TRUE;
}

gboolean
studio_document_can_connect (StudioDocument *doc, const char *src, int src_out, const char *dst,
                             int dst_in, GError **error)
{
    int si, di;
    return check_connect (doc, src, src_out, dst, dst_in, &si, &di, error);
}

gboolean
studio_document_connect (StudioDocument *doc, const char *src, int src_out, const char *dst,
                         int dst_in, GError **error)
{
    int si, di;
    if (!check_connect (doc, src, src_out, dst, dst_in, &si, &di, error))
        return FALSE;
    Tensorflow__NodeDef *d = clone_node (item (doc, di)->def);
    if (src_out < 0 || dst_in < 0) {
        char *t = input_text (src, -1);
        for (size_t k = 0; k < d->n_input; k++)
            if (strcmp (d->input[k], t) == 0) {
                g_free (t);
                free_node (d);
                return TRUE;   /* already there */
            }
        node_insert_input (d, (int) d->n_input, t);
        g_free (t);
    } else {
        while (n_data (d) <= dst_in)
            node_insert_input (d, n_data (d), "");
        char *t = input_text (src, src_out);
        node_set_input (d, dst_in, t);
        g_free (t);
        /* a type attr this input decides is written into the NodeDef, as
         * TF writes it, so the saved graph loads in TF too */
        const StudioNode *dn = &doc->nodes[di];
        const StudioNode *sn = &doc->nodes[si];
        if (dn->op && dst_in < dn->n_inputs && dn->inputs[dst_in].type_attr &&
            src_out < sn->n_outputs && sn->outputs[src_out].dtype != SL_DTYPE_INVALID) {
            char buf[64];
            g_snprintf (buf, sizeof buf, "type: %s",
                        sl_dtype_enum_name (sl_dtype_base (sn->outputs[src_out].dtype)));
            node_set_attr (d, dn->inputs[dst_in].type_attr, attr_from_text (buf, NULL));
        }
    }
    studio_document_begin (doc, "Connect");
    prim_replace (doc, di, d);
    studio_document_end (doc);
    return TRUE;
}

gboolean
studio_document_disconnect (StudioDocument *doc, const char *dst, int dst_in, GError **error)
{
    int di = need (doc, dst, error);
    if (di < 0)
        return FALSE;
    const Tensorflow__NodeDef *od = item (doc, di)->def;
    if (dst_in < 0 || dst_in >= n_data (od) || !od->input[dst_in][0])
        return TRUE;
    Tensorflow__NodeDef *d = clone_node (od);
    node_set_input (d, dst_in, "");
    trim_unconnected (d);
    studio_document_begin (doc, "Disconnect");
    prim_replace (doc, di, d);
    studio_document_end (doc);
    return TRUE;
}

gboolean
studio_document_disconnect_control (StudioDocument *doc, const char *src, const char *dst,
                                    GError **error)
{
    int di = need (doc, dst, error);
    if (di < 0)
        return FALSE;
    char *t = input_text (src, -1);
    const Tensorflow__NodeDef *od = item (doc, di)->def;
    int at = -1;
    for (size_t k = 0; k < od->n_input; k++)
        if (strcmp (od->input[k], t) == 0)
            at = (int) k;
    g_free (t);
    if (at < 0)
        return TRUE;
    Tensorflow__NodeDef *d = clone_node (od);
    node_remove_input (d, at);
    studio_document_begin (doc, "Disconnect");
    prim_replace (doc, di, d);
    studio_document_end (doc);
    return TRUE;
}

gboolean
studio_document_set_attr (StudioDocument *doc, const char *node, const char *key,
                          const Tensorflow__AttrValue *value, GError **error)
{
    int i = need (doc, node, error);
    if (i < 0)
        return FALSE;
    if (!key || !*key || strcmp (key, STUDIO_POSITION_ATTR) == 0) {
        g_set_error (error, STUDIO_DOCUMENT_ERROR, STUDIO_DOCUMENT_ERROR_INVALID,
                     "cannot set attr '%s'", key ? key : "");
        return FALSE;
    }
    Tensorflow__NodeDef *d = clone_node (item (doc, i)->def);
    node_set_attr (d, key, value ? attr_dup (value) : NULL);
    studio_document_begin (doc, "Set attr");
    prim_replace (doc, i, d);
    studio_document_end (doc);
    return TRUE;
}

gboolean
studio_document_set_attr_text (StudioDocument *doc, const char *node, const char *key,
                               const char *value_text, GError **error)
{
    Tensorflow__AttrValue *v = attr_from_text (value_text, error);
    if (!v)
        return FALSE;
    gboolean ok = studio_document_set_attr (doc, node, key, v, error);
    protobuf_c_message_free_unpacked (&v->base, NULL);
    return ok;
}

gboolean
studio_document_set_device (StudioDocument *doc, const char *node, const char *device,
                            GError **error)
{
    int i = need (doc, node, error);
    if (i < 0)
        return FALSE;
    Tensorflow__NodeDef *d = clone_node (item (doc, i)->def);
    set_str (&d->device, device);
    studio_document_begin (doc, "Set device");
    prim_replace (doc, i, d);
    studio_document_end (doc);
    return TRUE;
}

gboolean
studio_document_set_positions (StudioDocument *doc, const char *const *names, const double *xy,
                               GError **error)
{
    for (int k = 0; names && names[k]; k++)
        if (need (doc, names[k], error) < 0)
            return FALSE;
    studio_document_begin (doc, "Move");
    for (int k = 0; names && names[k]; k++) {
        int i = index_of (doc, names[k]);
        Item *it = item (doc, i);
        if (!it->has_pos || it->x != xy[2 * k] || it->y != xy[2 * k + 1])
            prim_set_pos (doc, i, xy[2 * k], xy[2 * k + 1]);
    }
    studio_document_end (doc);
    return TRUE;
}

gboolean
studio_document_move_nodes (StudioDocument *doc, const char *const *names, double dx, double dy,
                            GError **error)
{
    int n = names ? (int) g_strv_length ((char **) names) : 0;
    double *xy = g_new (double, 2 * (gsize) n + 2);
    for (int k = 0; k < n; k++) {
        int i = need (doc, names[k], error);
        if (i < 0) {
            g_free (xy);
            return FALSE;
        }
        xy[2 * k] = item (doc, i)->x + dx;
        xy[2 * k + 1] = item (doc, i)->y + dy;
    }
    gboolean ok = studio_document_set_positions (doc, names, xy, error);
    g_free (xy);
    return ok;
}

/* Renames by a map old -> new over the whole document (inputs too). */
static void
apply_renames (StudioDocument *doc, GHashTable *map)
{
    for (guint i = 0; i < doc->items->len; i++) {
        const Tensorflow__NodeDef *od = item (doc, (int) i)->def;
        Tensorflow__NodeDef *d = NULL;
        const char *nn = g_hash_table_lookup (map, od->name);
        if (nn) {
            d = clone_node (od);
            set_str (&d->name, nn);
        }
        for (size_t k = 0; k < od->n_input; k++) {
            int idx;
            char *src = studio_parse_input (od->input[k], &idx);
            const char *to = *src ? g_hash_table_lookup (map, src) : NULL;
            if (to) {
                if (!d)
                    d = clone_node (od);
                char *t = input_text (to, idx);
                node_set_input (d, (int) k, t);
                g_free (t);
            }
            g_free (src);
        }
        if (d)
            prim_replace (doc, (int) i, d);
    }
}

static gboolean
check_renames (StudioDocument *doc, GHashTable *map, GError **error)
{
    GHashTableIter it;
    gpointer k, v;
    GHashTable *targets = g_hash_table_new (g_str_hash, g_str_equal);
    gboolean ok = TRUE;
    g_hash_table_iter_init (&it, map);
    while (ok && g_hash_table_iter_next (&it, &k, &v)) {
        if (!sl_node_name_is_valid (v)) {
            g_set_error (error, STUDIO_DOCUMENT_ERROR, STUDIO_DOCUMENT_ERROR_INVALID,
                         "'%s' is not a valid node name", (char *) v);
            ok = FALSE;
        } else if ((index_of (doc, v) >= 0 && !g_hash_table_contains (map, v)) ||
                   g_hash_table_contains (targets, v)) {
            g_set_error (error, STUDIO_DOCUMENT_ERROR, STUDIO_DOCUMENT_ERROR_EXISTS,
                         "a node named '%s' exists already", (char *) v);
            ok = FALSE;
        }
        g_hash_table_add (targets, v);
    }
    g_hash_table_unref (targets);
    return ok;
}

static gboolean
rename_map (StudioDocument *doc, GHashTable *map, const char *label, GError **error)
{
    if (!check_renames (doc, map, error))
        return FALSE;
    if (g_hash_table_size (map) == 0)
        return TRUE;
    studio_document_begin (doc, label);
    apply_renames (doc, map);
    studio_document_end (doc);
    return TRUE;
}

gboolean
studio_document_rename (StudioDocument *doc, const char *old_name, const char *new_name,
                        GError **error)
{
    if (need (doc, old_name, error) < 0)
        return FALSE;
    if (g_strcmp0 (old_name, new_name) == 0)
        return TRUE;
    GHashTable *map = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
    g_hash_table_insert (map, g_strdup (old_name), g_strdup (new_name));
    gboolean ok = rename_map (doc, map, "Rename", error);
    g_hash_table_unref (map);
    return ok;
}

gboolean
studio_document_group (StudioDocument *doc, const char *const *names, const char *scope,
                       GError **error)
{
    GHashTable *map = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
    gboolean ok = TRUE;
    for (int k = 0; ok && names && names[k]; k++) {
        if (need (doc, names[k], error) < 0)
            ok = FALSE;
        else
            g_hash_table_insert (map, g_strdup (names[k]), g_strdup_printf ("%s/%s", scope, names[k]));
    }
    if (ok)
        ok = rename_map (doc, map, "Group", error);
    g_hash_table_unref (map);
    return ok;
}

gboolean
studio_document_ungroup (StudioDocument *doc, const char *scope, GError **error)
{
    GHashTable *map = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
    gsize sl = strlen (scope);
    for (guint i = 0; i < doc->items->len; i++) {
        const char *name = item (doc, (int) i)->def->name;
        if (strncmp (name, scope, sl) == 0 && name[sl] == '/') {
            const char *last = strrchr (scope, '/');
            char *parent = last ? g_strndup (scope, (gsize) (last - scope + 1)) : g_strdup ("");
            g_hash_table_insert (map, g_strdup (name), g_strconcat (parent, name + sl + 1, NULL));
            g_free (parent);
        }
    }
    gboolean ok = TRUE;
    if (g_hash_table_size (map) == 0) {
        g_set_error (error, STUDIO_DOCUMENT_ERROR, STUDIO_DOCUMENT_ERROR_NOT_FOUND,
                     "no node in scope '%s'", scope);
        ok = FALSE;
    } else {
        ok = rename_map (doc, map, "Ungroup", error);
    }
    g_hash_table_unref (map);
    return ok;
}

char *
studio_document_copy (StudioDocument *doc, const char *const *names)
{
    gboolean *keep = g_new0 (gboolean, doc->items->len + 1);
    for (int k = 0; names && names[k]; k++) {
        int i = index_of (doc, names[k]);
        if (i >= 0)
            keep[i] = TRUE;
    }
    GBytes *b = export_subset (doc, keep, TRUE);
    g_free (keep);
    gsize len;
    const char *data = g_bytes_get_data (b, &len);
    char *s = g_strndup (data, len);
    g_bytes_unref (b);
    return s;
}

gboolean
studio_document_paste (StudioDocument *doc, const char *text, double dx, double dy,
                       char ***out_names, GError **error)
{
    sl_status *st = sl_status_new ();
    Tensorflow__GraphDef *gd = (Tensorflow__GraphDef *) sl_textformat_parse (
        &tensorflow__graph_def__descriptor, text, strlen (text), "clipboard", st);
    if (!gd) {
        g_set_error (error, STUDIO_DOCUMENT_ERROR, STUDIO_DOCUMENT_ERROR_INVALID,
                     "cannot paste: %s", sl_status_message (st));
        sl_status_free (st);
        return FALSE;
    }
    sl_status_free (st);
    /* new names for the pasted nodes, unique in the document and among
     * themselves */
    GHashTable *map = g_hash_table_new_full (g_str_hash, g_str_equal, NULL, g_free);
    GHashTable *taken = g_hash_table_new (g_str_hash, g_str_equal);
    for (size_t i = 0; i < gd->n_node; i++) {
        const char *name = gd->node[i]->name;
        char *nn = g_strdup (name);
        for (int k = 1; index_of (doc, nn) >= 0 || g_hash_table_contains (taken, nn); k++) {
            g_free (nn);
            nn = g_strdup_printf ("%s_%d", name, k);
        }
        g_hash_table_add (taken, nn);
        g_hash_table_insert (map, (gpointer) name, nn);
    }
    GPtrArray *names = g_ptr_array_new ();
    studio_document_begin (doc, "Paste");
    for (size_t i = 0; i < gd->n_node; i++) {
        Tensorflow__NodeDef *d = clone_node (gd->node[i]);
        set_str (&d->name, g_hash_table_lookup (map, gd->node[i]->name));
        for (int k = (int) d->n_input - 1; k >= 0; k--) {
            int idx;
            char *src = studio_parse_input (d->input[k], &idx);
            const char *to = *src ? g_hash_table_lookup (map, src) : NULL;
            if (to) {
                char *t = input_text (to, idx);
                node_set_input (d, k, t);
                g_free (t);
            } else if (*src && index_of (doc, src) < 0) {
                if (idx < 0)
                    node_remove_input (d, k);
                else
                    node_set_input (d, k, "");
            }
            g_free (src);
        }
        trim_unconnected (d);
        int a = find_attr (d, STUDIO_POSITION_ATTR);
        double x = 0, y = 0;
        if (a >= 0) {
            const Tensorflow__AttrValue *v = d->attr[a]->value;
            if (v->value_case == TENSORFLOW__ATTR_VALUE__VALUE_LIST && v->list->n_f >= 2) {
                x = v->list->f[0];
                y = v->list->f[1];
            }
            node_set_attr (d, STUDIO_POSITION_ATTR, NULL);
        }
        g_ptr_array_add (names, g_strdup (d->name));
        prim_insert (doc, (int) doc->items->len, d, TRUE, x + dx, y + dy);
    }
    studio_document_end (doc);
    g_ptr_array_add (names, NULL);
    if (out_names)
        *out_names = (char **) g_ptr_array_free (names, FALSE);
    else
        g_strfreev ((char **) g_ptr_array_free (names, FALSE));
    g_hash_table_unref (taken);
    g_hash_table_unref (map);
    protobuf_c_message_free_unpacked (&gd->base, NULL);
    return TRUE;
}

/* ---- History --------------------------------------------------------- */

gboolean
studio_document_can_undo (StudioDocument *doc)
{
    return doc->undo->len > 0;
}

gboolean
studio_document_can_redo (StudioDocument *doc)
{
    return doc->redo->len > 0;
}

const char *
studio_document_undo_label (StudioDocument *doc)
{
    return doc->undo->len ? ((Command *) g_ptr_array_index (doc->undo, doc->undo->len - 1))->label
                          : NULL;
}

gboolean
studio_document_undo (StudioDocument *doc)
{
    if (!doc->undo->len || doc->depth)
        return FALSE;
    Command *c = g_ptr_array_steal_index (doc->undo, doc->undo->len - 1);
    for (int k = (int) c->changes->len - 1; k >= 0; k--)
        replay (doc, &g_array_index (c->changes, Change, k), FALSE);
    g_ptr_array_add (doc->redo, c);
    refresh (doc);
    return TRUE;
}

gboolean
studio_document_redo (StudioDocument *doc)
{
    if (!doc->redo->len || doc->depth)
        return FALSE;
    Command *c = g_ptr_array_steal_index (doc->redo, doc->redo->len - 1);
    for (guint k = 0; k < c->changes->len; k++)
        replay (doc, &g_array_index (c->changes, Change, k), TRUE);
    g_ptr_array_add (doc->undo, c);
    refresh (doc);
    return TRUE;
}

/* ---- Helpers ----------------------------------------------------------- */

const char *
studio_shape_string (const sl_shape *s, char *buf, gsize size)
{
    if (s->rank == SL_RANK_UNKNOWN) {
        g_strlcpy (buf, "[?]", size);
        return buf;
    }
    return sl_shape_to_string (s, buf, size);
}

char *
studio_port_describe (const StudioPort *p)
{
    char buf[SL_SHAPE_STRING_MAX];
    return g_strdup_printf ("%s %s", p->dtype != SL_DTYPE_INVALID ? sl_dtype_name (p->dtype) : "?",
                            studio_shape_string (&p->shape, buf, sizeof buf));
}
