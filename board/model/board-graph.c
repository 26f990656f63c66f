/* The graph explorer's hierarchy: scopes, series, lifted edges and
 * high-degree extraction (see the header for the rules). */
#include "board-graph.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "textformat.h"

static BoardGraphNode *
node_new (BoardGraphNodeType type, const char *name)
{
    BoardGraphNode *n = g_new0 (BoardGraphNode, 1);
    n->type = type;
    n->name = g_strdup (name);
    const char *slash = strrchr (n->name, '/');
    n->label = slash ? slash + 1 : n->name;
    n->op_index = -1;
    if (type != BOARD_GRAPH_OP) {
        n->children = g_ptr_array_new ();
        n->edges = g_array_new (FALSE, FALSE, sizeof (BoardGraphEdge));
    }
    return n;
}

static void
node_free (BoardGraphNode *n)
{
    if (!n)
        return;
    if (n->children) {
        for (guint i = 0; i < n->children->len; i++)
            node_free (g_ptr_array_index (n->children, i));
        g_ptr_array_unref (n->children);
    }
    if (n->edges)
        g_array_unref (n->edges);
    if (n->edge_paths)
        g_ptr_array_unref (n->edge_paths);
    g_free (n->name);
    g_free (n);
}

static void
add_child (BoardGraphNode *parent, BoardGraphNode *child)
{
    child->parent = parent;
    g_ptr_array_add (parent->children, child);
}

/* The scope of that full name, created (with its ancestors) on demand. */
static BoardGraphNode *
get_scope (BoardGraph *g, GHashTable *scopes, const char *name)
{
    if (!*name)
        return g->root;
    BoardGraphNode *s = g_hash_table_lookup (scopes, name);
    if (s)
        return s;
    const char *slash = strrchr (name, '/');
    char *parent_name = slash ? g_strndup (name, (gsize) (slash - name)) : g_strdup ("");
    BoardGraphNode *parent = get_scope (g, scopes, parent_name);
    g_free (parent_name);
    s = node_new (BOARD_GRAPH_SCOPE, name);
    add_child (parent, s);
    g_hash_table_insert (scopes, s->name, s);
    g->n_scopes++;
    return s;
}

/* ---- series ---- */

typedef struct {
    long num;
    BoardGraphNode *node;
} SeriesMember;

static int
member_compare (const void *a, const void *b)
{
    long x = ((const SeriesMember *) a)->num, y = ((const SeriesMember *) b)->num;
    return (x > y) - (x < y);
}

/* Splits a leaf "prefix_12" into prefix and 12; FALSE when it has no
 * numeric suffix. */
static gboolean
split_suffix (const char *leaf, char **prefix, long *num)
{
    const char *us = strrchr (leaf, '_');
    if (!us || us == leaf || !us[1])
        return FALSE;
    for (const char *p = us + 1; *p; p++)
        if (!g_ascii_isdigit (*p))
            return FALSE;
    if (strlen (us + 1) > 9)
        return FALSE;
    *prefix = g_strndup (leaf, (gsize) (us - leaf));
    *num = strtol (us + 1, NULL, 10);
    return TRUE;
}

static void
fold_series (BoardGraph *g, BoardGraphNode *scope)
{
    /* recurse first: series are found level by level */
    for (guint i = 0; i < scope->children->len; i++) {
        BoardGraphNode *c = g_ptr_array_index (scope->children, i);
        if (c->type == BOARD_GRAPH_SCOPE)
            fold_series (g, c);
    }
    if (scope->children->len < 5)
        return;

    /* clusters: "op\001prefix" -> GArray of SeriesMember */
    GHashTable *clusters = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
                                                  (GDestroyNotify) g_array_unref);
    GPtrArray *order = g_ptr_array_new ();   /* cluster keys in first-seen order */
    for (guint i = 0; i < scope->children->len; i++) {
        BoardGraphNode *c = g_ptr_array_index (scope->children, i);
        if (c->type != BOARD_GRAPH_OP)
            continue;
        char *prefix;
        long num;
        if (!split_suffix (c->label, &prefix, &num)) {
            prefix = g_strdup (c->label);
            num = 0;
        }
        char *key = g_strconcat (c->op, "\001", prefix, NULL);
        g_free (prefix);
        GArray *members = g_hash_table_lookup (clusters, key);
        if (!members) {
            members = g_array_new (FALSE, FALSE, sizeof (SeriesMember));
            g_hash_table_insert (clusters, key, members);
            g_ptr_array_add (order, key);
        } else {
            g_free (key);
        }
        SeriesMember m = { num, c };
        g_array_append_val (members, m);
    }

    GHashTable *series_of = g_hash_table_new (NULL, NULL);  /* member -> series */
    for (guint k = 0; k < order->len; k++) {
        const char *key = g_ptr_array_index (order, k);
        GArray *members = g_hash_table_lookup (clusters, key);
        if (members->len < 5)
            continue;
        g_array_sort (members, member_compare);
        const char *prefix = strchr (key, '\001') + 1;
        guint start = 0;
        while (start < members->len) {
            guint end = start + 1;
            while (end < members->len &&
                   g_array_index (members, SeriesMember, end).num ==
                   g_array_index (members, SeriesMember, end - 1).num + 1)
                end++;
            if (end - start >= 5) {
                long a = g_array_index (members, SeriesMember, start).num;
                long b = g_array_index (members, SeriesMember, end - 1).num;
                char *name = *scope->name
                    ? g_strdup_printf ("%s/%s_[%ld-%ld]", scope->name, prefix, a, b)
                    : g_strdup_printf ("%s_[%ld-%ld]", prefix, a, b);
                BoardGraphNode *series = node_new (BOARD_GRAPH_SERIES, name);
                g_free (name);
                series->op = g_array_index (members, SeriesMember, start).node->op;
                for (guint m = start; m < end; m++)
                    g_hash_table_insert (series_of,
                                         g_array_index (members, SeriesMember, m).node, series);
                g->n_series++;
            }
            start = end;
        }
    }

    if (g_hash_table_size (series_of) > 0) {
        /* rebuild the children: a series takes the place of its first member */
        GPtrArray *kids = g_ptr_array_new ();
        for (guint i = 0; i < scope->children->len; i++) {
            BoardGraphNode *c = g_ptr_array_index (scope->children, i);
            BoardGraphNode *series = g_hash_table_lookup (series_of, c);
            if (!series) {
                g_ptr_array_add (kids, c);
                continue;
            }
            if (series->children->len == 0) {
                series->parent = scope;
                g_ptr_array_add (kids, series);
            }
            add_child (series, c);
        }
        g_ptr_array_unref (scope->children);
        scope->children = kids;
    }
    g_hash_table_unref (series_of);
    g_ptr_array_unref (order);
    g_hash_table_unref (clusters);
}

/* ---- indices, counts, devices ---- */

static void
finish_node (BoardGraphNode *n, int depth)
{
    n->depth = depth;
    if (!n->children) {
        n->n_ops = 1;
        return;
    }
    n->n_ops = 0;
    gboolean same_device = TRUE;
    const char *device = NULL;
    for (guint i = 0; i < n->children->len; i++) {
        BoardGraphNode *c = g_ptr_array_index (n->children, i);
        c->index = (int) i;
        c->parent = n;
        finish_node (c, depth + 1);
        n->n_ops += c->n_ops;
        if (!c->device)
            same_device = FALSE;
        else if (!device)
            device = c->device;
        else if (strcmp (device, c->device) != 0)
            same_device = FALSE;
    }
    n->device = same_device ? device : NULL;
}

/* ---- edges ---- */

/* The op name an input string refers to: "^x" and "x:1" name op "x". */
static char *
input_op_name (const char *input, gboolean *control)
{
    *control = input[0] == '^';
    if (*control)
        input++;
    const char *colon = strrchr (input, ':');
    if (colon && colon[1]) {
        gboolean digits = TRUE;
        for (const char *p = colon + 1; *p; p++)
            if (!g_ascii_isdigit (*p))
                digits = FALSE;
        if (digits)
            return g_strndup (input, (gsize) (colon - input));
    }
    return g_strdup (input);
}

/* g_int64_hash keeps only the low 32 bits, which drops the group id of
 * the packed key: every group's edge (0, 1) fell in one bucket, and a
 * 20,000-node graph spent 0.8 s here.  Mix all 64 bits. */
static guint
edge_key_hash (gconstpointer v)
{
    guint64 x = *(const guint64 *) v;
    x ^= x >> 33;
    x *= G_GUINT64_CONSTANT (0xff51afd7ed558ccd);
    x ^= x >> 33;
    return (guint) x;
}

typedef struct {
    GHashTable *index;   /* packed (group id, from, to) -> edge index + 1 */
    GHashTable *ids;     /* group -> id */
} EdgeBuilder;

static void
add_lifted_edge (EdgeBuilder *eb, BoardGraphNode *a, BoardGraphNode *b, gboolean control)
{
    while (a->depth > b->depth)
        a = a->parent;
    while (b->depth > a->depth)
        b = b->parent;
    while (a->parent != b->parent) {
        a = a->parent;
        b = b->parent;
    }
    if (a == b)
        return;   /* one is inside the other: no edge at any level */
    BoardGraphNode *group = a->parent;
    gpointer idp = g_hash_table_lookup (eb->ids, group);
    if (!idp) {
        idp = GUINT_TO_POINTER (g_hash_table_size (eb->ids) + 1);
        g_hash_table_insert (eb->ids, group, idp);
    }
    guint64 key = ((guint64) GPOINTER_TO_UINT (idp) << 42) | ((guint64) a->index << 21) |
                  (guint64) b->index;
    gpointer found = g_hash_table_lookup (eb->index, &key);
    if (found) {
        BoardGraphEdge *e = &g_array_index (group->edges, BoardGraphEdge,
                                            GPOINTER_TO_UINT (found) - 1);
        e->count++;
        e->control = e->control && control;
        return;
    }
    BoardGraphEdge e = { a->index, b->index, 1, control };
    g_array_append_val (group->edges, e);
    gint64 *k = g_new (gint64, 1);
    *k = (gint64) key;
    g_hash_table_insert (eb->index, k, GUINT_TO_POINTER (group->edges->len));
    a->out_degree++;
    b->in_degree++;
}

/* ---- high-degree extraction ---- */

static int
int_compare (const void *a, const void *b)
{
    int x = *(const int *) a, y = *(const int *) b;
    return (x > y) - (x < y);
}

/* d3.quantile: linear interpolation at p * (n - 1) of the sorted values. */
static double
quantile (const int *sorted, int n, double p)
{
    double h = (n - 1) * p;
    int i = (int) floor (h);
    if (i + 1 >= n)
        return sorted[n - 1];
    return sorted[i] + (h - i) * (sorted[i + 1] - sorted[i]);
}

static void
extract_high_degree (BoardGraph *g, BoardGraphNode *group)
{
    if (!group->children)
        return;
    for (guint i = 0; i < group->children->len; i++)
        extract_high_degree (g, g_ptr_array_index (group->children, i));
    int n = (int) group->children->len;
    if (n < 15)
        return;
    int *in = g_new (int, n), *out = g_new (int, n);
    for (int i = 0; i < n; i++) {
        BoardGraphNode *c = g_ptr_array_index (group->children, (guint) i);
        in[i] = c->in_degree;
        out[i] = c->out_degree;
    }
    qsort (in, (size_t) n, sizeof (int), int_compare);
    qsort (out, (size_t) n, sizeof (int), int_compare);
    double in_q1 = quantile (in, n, 0.25), in_q3 = quantile (in, n, 0.75);
    double out_q1 = quantile (out, n, 0.25), out_q3 = quantile (out, n, 0.75);
    double in_limit = in_q3 + (in_q3 - in_q1);
    double out_limit = out_q3 + 4 * (out_q3 - out_q1);
    for (int i = 0; i < n; i++) {
        BoardGraphNode *c = g_ptr_array_index (group->children, (guint) i);
        if ((c->in_degree >= 5 && c->in_degree > in_limit) ||
            (c->out_degree >= 5 && c->out_degree > out_limit)) {
            c->extracted = TRUE;
            g->n_extracted++;
        }
    }
    g_free (in);
    g_free (out);
}

/* ---- construction ---- */

BoardGraph *
board_graph_new (Tensorflow__GraphDef *def)
{
    BoardGraph *g = g_new0 (BoardGraph, 1);
    g->def = def;
    g->root = node_new (BOARD_GRAPH_SCOPE, "");
    g->root->expanded = TRUE;
    g->by_name = g_hash_table_new (g_str_hash, g_str_equal);
    g->ops = g_ptr_array_new ();

    /* every proper prefix of a node name is a scope */
    GHashTable *scope_names = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
    for (size_t i = 0; i < def->n_node; i++) {
        const char *name = def->node[i]->name ? def->node[i]->name : "";
        for (const char *p = strchr (name, '/'); p; p = strchr (p + 1, '/'))
            g_hash_table_add (scope_names, g_strndup (name, (gsize) (p - name)));
    }

    GHashTable *scopes = g_hash_table_new (g_str_hash, g_str_equal);
    for (size_t i = 0; i < def->n_node; i++) {
        Tensorflow__NodeDef *nd = def->node[i];
        const char *name = nd->name ? nd->name : "";
        if (g_hash_table_contains (g->by_name, name))
            continue;   /* duplicate names: keep the first, as import would refuse */
        BoardGraphNode *parent;
        if (g_hash_table_contains (scope_names, name)) {
            parent = get_scope (g, scopes, name);
        } else {
            const char *slash = strrchr (name, '/');
            char *pn = slash ? g_strndup (name, (gsize) (slash - name)) : g_strdup ("");
            parent = get_scope (g, scopes, pn);
            g_free (pn);
        }
        BoardGraphNode *op = node_new (BOARD_GRAPH_OP, name);
        op->op_index = (int) i;
        op->op = nd->op ? nd->op : "";
        op->device = nd->device ? nd->device : "";
        add_child (parent, op);
        g_hash_table_insert (g->by_name, op->name, op);
        g_ptr_array_add (g->ops, op);
    }
    g_hash_table_unref (scopes);
    g_hash_table_unref (scope_names);

    fold_series (g, g->root);
    finish_node (g->root, 0);

    EdgeBuilder eb = {
        g_hash_table_new_full (edge_key_hash, g_int64_equal, g_free, NULL),
        g_hash_table_new (NULL, NULL),
    };
    for (guint i = 0; i < g->ops->len; i++) {
        BoardGraphNode *dst = g_ptr_array_index (g->ops, i);
        Tensorflow__NodeDef *nd = def->node[dst->op_index];
        for (size_t k = 0; k < nd->n_input; k++) {
            gboolean control;
            char *src_name = input_op_name (nd->input[k], &control);
            BoardGraphNode *src = g_hash_table_lookup (g->by_name, src_name);
            g_free (src_name);
            if (src && src != dst)
                add_lifted_edge (&eb, src, dst, control);
        }
    }
    g_hash_table_unref (eb.index);
    g_hash_table_unref (eb.ids);

    extract_high_degree (g, g->root);
    return g;
}

BoardGraph *
board_graph_new_from_data (const void *data, size_t size, gboolean text, const char *source_name,
                           GError **error)
{
    Tensorflow__GraphDef *def = NULL;
    if (text) {
        sl_status *st = sl_status_new ();
        def = (Tensorflow__GraphDef *) sl_textformat_parse (&tensorflow__graph_def__descriptor,
                                                            data, size, source_name, st);
        if (!def)
            g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, "%s",
                         sl_status_message (st));
        sl_status_free (st);
    } else {
        def = tensorflow__graph_def__unpack (NULL, size, data);
        if (!def)
            g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                         "%s: not a binary GraphDef", source_name ? source_name : "<input>");
    }
    return def ? board_graph_new (def) : NULL;
}

BoardGraph *
board_graph_new_from_file (const char *path, GError **error)
{
    char *data = NULL;
    gsize size = 0;
    if (!g_file_get_contents (path, &data, &size, error))
        return NULL;
    gboolean text = g_str_has_suffix (path, "txt");
    BoardGraph *g = board_graph_new_from_data (data, size, text, path, error);
    g_free (data);
    return g;
}

void
board_graph_free (BoardGraph *g)
{
    if (!g)
        return;
    node_free (g->root);
    g_hash_table_unref (g->by_name);
    g_ptr_array_unref (g->ops);
    if (g->def)
        protobuf_c_message_free_unpacked (&g->def->base, NULL);
    g_free (g);
}

BoardGraphNode *
board_graph_find_op (BoardGraph *g, const char *name)
{
    return g_hash_table_lookup (g->by_name, name);
}

const Tensorflow__NodeDef *
board_graph_node_def (BoardGraph *g, const BoardGraphNode *n)
{
    if (!n || n->type != BOARD_GRAPH_OP || n->op_index < 0)
        return NULL;
    return g->def->node[n->op_index];
}

GPtrArray *
board_graph_search (BoardGraph *g, GRegex *regex, int max)
{
    GPtrArray *out = g_ptr_array_new ();
    for (guint i = 0; i < g->ops->len; i++) {
        BoardGraphNode *n = g_ptr_array_index (g->ops, i);
        if (g_regex_match (regex, n->name, 0, NULL) ||
            (n->op && g_regex_match (regex, n->op, 0, NULL))) {
            g_ptr_array_add (out, n);
            if (max > 0 && (int) out->len >= max)
                break;
        }
    }
    return out;
}

void
board_graph_reveal (BoardGraph *g, BoardGraphNode *n)
{
    for (BoardGraphNode *p = n->parent; p; p = p->parent)
        p->expanded = TRUE;
}

BoardGraphNode *
board_graph_visible_ancestor (BoardGraphNode *n)
{
    BoardGraphNode *v = n;
    for (BoardGraphNode *p = n->parent; p; p = p->parent)
        if (!p->expanded)
            v = p;
    return v;
}

GPtrArray *
board_graph_consumers (BoardGraph *g, const BoardGraphNode *n)
{
    GPtrArray *out = g_ptr_array_new ();
    if (n->type != BOARD_GRAPH_OP)
        return out;
    for (guint i = 0; i < g->ops->len; i++) {
        BoardGraphNode *c = g_ptr_array_index (g->ops, i);
        Tensorflow__NodeDef *nd = g->def->node[c->op_index];
        for (size_t k = 0; k < nd->n_input; k++) {
            gboolean control;
            char *src = input_op_name (nd->input[k], &control);
            gboolean hit = strcmp (src, n->name) == 0;
            g_free (src);
            if (hit) {
                g_ptr_array_add (out, c);
                break;
            }
        }
    }
    return out;
}

/* ---- formatting for the side pane ---- */

static void
append_dtype (GString *s, int dtype)
{
    const ProtobufCEnumValue *v =
        protobuf_c_enum_descriptor_get_value (&tensorflow__data_type__descriptor, dtype);
    if (v)
        g_string_append (s, v->name);
    else
        g_string_append_printf (s, "%d", dtype);
}

static void
append_shape (GString *s, const Tensorflow__TensorShapeProto *sh)
{
    if (!sh || sh->unknown_rank) {
        g_string_append (s, "<unknown>");
        return;
    }
    g_string_append_c (s, '[');
    for (size_t i = 0; i < sh->n_dim; i++) {
        if (i)
            g_string_append_c (s, ',');
        if (sh->dim[i]->size < 0)
            g_string_append_c (s, '?');
        else
            g_string_append_printf (s, "%" G_GINT64_FORMAT, (gint64) sh->dim[i]->size);
    }
    g_string_append_c (s, ']');
}

static void
append_bytes (GString *s, const ProtobufCBinaryData *b)
{
    g_string_append_c (s, '"');
    size_t n = MIN (b->len, 200);
    for (size_t i = 0; i < n; i++) {
        unsigned char c = b->data[i];
        if (c >= 32 && c < 127 && c != '"')
            g_string_append_c (s, (char) c);
        else
            g_string_append_printf (s, "\\x%02x", c);
    }
    if (b->len > n)
        g_string_append (s, "...");
    g_string_append_c (s, '"');
}

char *
board_graph_format_attr (const Tensorflow__AttrValue *v)
{
    GString *s = g_string_new (NULL);
    switch (v->value_case) {
    case TENSORFLOW__ATTR_VALUE__VALUE_S:
        append_bytes (s, &v->s);
        break;
    case TENSORFLOW__ATTR_VALUE__VALUE_I:
        g_string_append_printf (s, "%" G_GINT64_FORMAT, (gint64) v->i);
        break;
    case TENSORFLOW__ATTR_VALUE__VALUE_F:
        g_string_append_printf (s, "%g", (double) v->f);
        break;
    case TENSORFLOW__ATTR_VALUE__VALUE_B:
        g_string_append (s, v->b ? "true" : "false");
        break;
    case TENSORFLOW__ATTR_VALUE__VALUE_TYPE:
        append_dtype (s, v->type);
        break;
    case TENSORFLOW__ATTR_VALUE__VALUE_SHAPE:
        append_shape (s, v->shape);
        break;
    case TENSORFLOW__ATTR_VALUE__VALUE_TENSOR:
        if (v->tensor) {
            append_dtype (s, v->tensor->dtype);
            g_string_append_c (s, ' ');
            append_shape (s, v->tensor->tensor_shape);
            if (v->tensor->tensor_content.len)
                g_string_append_printf (s, " (%zu bytes)", v->tensor->tensor_content.len);
            else if (v->tensor->n_float_val)
                g_string_append_printf (s, " = %g%s", (double) v->tensor->float_val[0],
                                        v->tensor->n_float_val > 1 ? ", ..." : "");
            else if (v->tensor->n_int_val)
                g_string_append_printf (s, " = %d%s", v->tensor->int_val[0],
                                        v->tensor->n_int_val > 1 ? ", ..." : "");
        }
        break;
    case TENSORFLOW__ATTR_VALUE__VALUE_LIST: {
        const Tensorflow__AttrValue__ListValue *l = v->list;
        g_string_append_c (s, '[');
        if (l) {
            for (size_t i = 0; i < l->n_type; i++) {
                g_string_append (s, i ? ", " : "");
                append_dtype (s, l->type[i]);
            }
            for (size_t i = 0; i < l->n_shape; i++) {
                g_string_append (s, i ? ", " : "");
                append_shape (s, l->shape[i]);
            }
            for (size_t i = 0; i < l->n_i; i++)
                g_string_append_printf (s, "%s%" G_GINT64_FORMAT, i ? ", " : "", (gint64) l->i[i]);
            for (size_t i = 0; i < l->n_f; i++)
                g_string_append_printf (s, "%s%g", i ? ", " : "", (double) l->f[i]);
            for (size_t i = 0; i < l->n_b; i++)
                g_string_append_printf (s, "%s%s", i ? ", " : "", l->b[i] ? "true" : "false");
            for (size_t i = 0; i < l->n_s; i++) {
                g_string_append (s, i ? ", " : "");
                append_bytes (s, &l->s[i]);
            }
        }
        g_string_append_c (s, ']');
        break;
    }
    case TENSORFLOW__ATTR_VALUE__VALUE_FUNC:
        g_string_append (s, v->func && v->func->name ? v->func->name : "");
        break;
    case TENSORFLOW__ATTR_VALUE__VALUE_PLACEHOLDER:
        g_string_append_printf (s, "$%s", v->placeholder ? v->placeholder : "");
        break;
    default:
        break;
    }
    return g_string_free (s, FALSE);
}

char *
board_graph_output_shapes (const Tensorflow__NodeDef *nd)
{
    for (size_t i = 0; i < nd->n_attr; i++) {
        const char *key = nd->attr[i]->key;
        const Tensorflow__AttrValue *v = nd->attr[i]->value;
        if (!key || !v)
            continue;
        if (strcmp (key, "_output_shapes") == 0 &&
            v->value_case == TENSORFLOW__ATTR_VALUE__VALUE_LIST && v->list) {
            GString *s = g_string_new (NULL);
            for (size_t k = 0; k < v->list->n_shape; k++) {
                if (k)
                    g_string_append (s, ", ");
                append_shape (s, v->list->shape[k]);
            }
            return g_string_free (s, FALSE);
        }
    }
    for (size_t i = 0; i < nd->n_attr; i++) {
        const char *key = nd->attr[i]->key;
        const Tensorflow__AttrValue *v = nd->attr[i]->value;
        if (key && v && strcmp (key, "shape") == 0 &&
            v->value_case == TENSORFLOW__ATTR_VALUE__VALUE_SHAPE) {
            GString *s = g_string_new (NULL);
            append_shape (s, v->shape);
            return g_string_free (s, FALSE);
        }
        if (key && v && strcmp (key, "value") == 0 &&
            v->value_case == TENSORFLOW__ATTR_VALUE__VALUE_TENSOR && v->tensor) {
            GString *s = g_string_new (NULL);
            append_shape (s, v->tensor->tensor_shape);
            return g_string_free (s, FALSE);
        }
    }
    return NULL;
}

char *
board_graph_short_device (const char *device)
{
    if (!device || !*device)
        return g_strdup ("");
    const char *d = strstr (device, "device:");
    if (d)
        return g_strdup (d + 7);
    const char *slash = strrchr (device, '/');
    return g_strdup (slash ? slash + 1 : device);
}
