/* Live validation through the engine's node creation (see the header). */
#include "config.h"

#include "studio-validate.h"

#include <stdlib.h>
#include <string.h>

#include "sluice/alloc.h"

char *
studio_parse_input (const char *input, int *index)
{
    if (!input || !*input) {
        *index = 0;
        return g_strdup ("");
    }
    if (input[0] == '^') {
        *index = -1;
        return g_strdup (input + 1);
    }
    const char *colon = strrchr (input, ':');
    if (colon && colon[1] && colon != input) {
        char *end;
        long k = strtol (colon + 1, &end, 10);
        if (!*end && k >= 0) {
            *index = (int) k;
            return g_strndup (input, (gsize) (colon - input));
        }
    }
    *index = 0;
    return g_strdup (input);
}

static void
port_release (StudioPort *p)
{
    g_free (p->name);
}

void
studio_node_release (StudioNode *n)
{
    for (int i = 0; i < n->n_inputs; i++)
        port_release (&n->inputs[i]);
    for (int i = 0; i < n->n_outputs; i++)
        port_release (&n->outputs[i]);
    g_clear_pointer (&n->inputs, g_free);
    g_clear_pointer (&n->outputs, g_free);
    g_clear_pointer (&n->message, g_free);
    n->n_inputs = n->n_outputs = 0;
    n->state = STUDIO_NODE_OK;
    n->op = NULL;
}

static const Tensorflow__AttrValue *
def_attr (const Tensorflow__NodeDef *d, const char *key)
{
    for (size_t i = 0; i < d->n_attr; i++)
        if (d->attr[i]->key && strcmp (d->attr[i]->key, key) == 0)
            return d->attr[i]->value;
    return NULL;
}

static int
n_data_inputs (const Tensorflow__NodeDef *d)
{
    int n = 0;
    for (size_t i = 0; i < d->n_input; i++)
        if (d->input[i][0] != '^')
            n++;
    return n;
}

/* How many tensors an argument stands for on a node not (yet) created:
 * its N or list attr when set, else what the NodeDef gives, at least 1. */
static int
arg_count (const sl_op_arg *a, const Tensorflow__NodeDef *d, int remaining)
{
    if (a->number_attr) {
        const Tensorflow__AttrValue *v = def_attr (d, a->number_attr);
        if (v && v->value_case == TENSORFLOW__ATTR_VALUE__VALUE_I)
            return (int) CLAMP (v->i, 0, 64);
        return MAX (1, remaining);
    }
    if (a->type_list_attr) {
        const Tensorflow__AttrValue *v = def_attr (d, a->type_list_attr);
        if (v && v->value_case == TENSORFLOW__ATTR_VALUE__VALUE_LIST && v->list->n_type)
            return (int) MIN (v->list->n_type, 64);
        return MAX (1, remaining);
    }
    return 1;
}

static sl_dtype
arg_dtype (const sl_op_arg *a, const Tensorflow__NodeDef *d, int k)
{
    sl_dtype t = SL_DTYPE_INVALID;
    if (a->type != SL_DTYPE_INVALID) {
        t = a->type;
    } else if (a->type_attr) {
        const Tensorflow__AttrValue *v = def_attr (d, a->type_attr);
        if (v && v->value_case == TENSORFLOW__ATTR_VALUE__VALUE_TYPE)
            t = (sl_dtype) v->type;
    } else if (a->type_list_attr) {
        const Tensorflow__AttrValue *v = def_attr (d, a->type_list_attr);
        if (v && v->value_case == TENSORFLOW__ATTR_VALUE__VALUE_LIST && (size_t) k < v->list->n_type)
            t = (sl_dtype) v->list->type[k];
    }
    if (t != SL_DTYPE_INVALID && a->is_ref)
        t = sl_dtype_make_ref (t);
    return t;
}

static char *
port_name (const sl_op_arg *a, int k, int count)
{
    return count > 1 || a->number_attr || a->type_list_attr ? g_strdup_printf ("%s:%d", a->name, k)
                                                              : g_strdup (a->name);
}

/* Ports from the op definition (or the NodeDef for an unknown op), with
 * dtypes where the NodeDef fixes them; used for nodes the engine did not
 * create.  n_out_hint: outputs consumers use (unknown ops). */
static void
ports_from_def (StudioNode *n, int n_out_hint)
{
    const Tensorflow__NodeDef *d = n->def;
    int given = n_data_inputs (d);
    GArray *in = g_array_new (FALSE, TRUE, sizeof (StudioPort));
    GArray *out = g_array_new (FALSE, TRUE, sizeof (StudioPort));
    if (n->op) {
        int pos = 0;
        for (int a = 0; a < n->op->num_inputs; a++) {
            const sl_op_arg *arg = &n->op->inputs[a];
            int rest_fixed = n->op->num_inputs - a - 1;
            int c = arg_count (arg, d, given - pos - rest_fixed);
            for (int k = 0; k < c; k++, pos++) {
                StudioPort p = { port_name (arg, k, c), arg_dtype (arg, d, k), sl_shape_unknown (),
                                 arg->type_attr };
                g_array_append_val (in, p);
            }
        }
        for (int a = 0; a < n->op->num_outputs; a++) {
            const sl_op_arg *arg = &n->op->outputs[a];
            int c = arg_count (arg, d, 1);
            for (int k = 0; k < c; k++) {
                StudioPort p = { port_name (arg, k, c), arg_dtype (arg, d, k), sl_shape_unknown (),
                                 arg->type_attr };
                g_array_append_val (out, p);
            }
        }
    }
    /* inputs the NodeDef gives beyond the signature (unknown ops) */
    while ((int) in->len < given) {
        StudioPort p = { g_strdup_printf ("in:%u", in->len), SL_DTYPE_INVALID, sl_shape_unknown (),
                         NULL };
        g_array_append_val (in, p);
    }
    if (!n->op) {
        /* an unknown op: outputs as consumers use them, dtypes from the
         * usual attrs (T, dtype) when the NodeDef has them */
        const Tensorflow__AttrValue *t = def_attr (d, "T");
        if (!t)
            t = def_attr (d, "dtype");
        sl_dtype dt = t && t->value_case == TENSORFLOW__ATTR_VALUE__VALUE_TYPE ? (sl_dtype) t->type
                                                                              : SL_DTYPE_INVALID;
        for (int k = 0; k < MAX (1, n_out_hint); k++) {
            StudioPort p = { g_strdup_printf ("out:%d", k), dt, sl_shape_unknown (), NULL };
            g_array_append_val (out, p);
        }
    }
    n->n_inputs = (int) in->len;
    n->inputs = (StudioPort *) (void *) g_array_free (in, FALSE);
    n->n_outputs = (int) out->len;
    n->outputs = (StudioPort *) (void *) g_array_free (out, FALSE);
}

/* Ports from the node the engine created: dtypes and shapes as inferred. */
static void
ports_from_node (StudioNode *n, const sl_node *node)
{
    const sl_op_def *op = sl_node_op_def (node);
    n->n_inputs = sl_node_num_inputs (node);
    n->inputs = g_new0 (StudioPort, (gsize) n->n_inputs + 1);
    for (int a = 0; a < op->num_inputs; a++) {
        int start, count;
        if (!sl_node_input_range (node, op->inputs[a].name, &start, &count))
            continue;
        for (int k = 0; k < count; k++) {
            StudioPort *p = &n->inputs[start + k];
            p->name = port_name (&op->inputs[a], k, count);
            p->type_attr = op->inputs[a].type_attr;
        }
    }
    for (int i = 0; i < n->n_inputs; i++) {
        StudioPort *p = &n->inputs[i];
        if (!p->name)
            p->name = g_strdup_printf ("in:%d", i);
        p->dtype = sl_node_input_type (node, i);
        sl_output src = sl_node_input (node, i);
        p->shape = src.node ? *sl_node_output_shape (src.node, src.index) : sl_shape_unknown ();
    }
    n->n_outputs = sl_node_num_outputs (node);
    n->outputs = g_new0 (StudioPort, (gsize) n->n_outputs + 1);
    for (int a = 0; a < op->num_outputs; a++) {
        int start, count;
        if (!sl_node_output_range (node, op->outputs[a].name, &start, &count))
            continue;
        for (int k = 0; k < count; k++) {
            StudioPort *p = &n->outputs[start + k];
            p->name = port_name (&op->outputs[a], k, count);
            p->type_attr = op->outputs[a].type_attr;
        }
    }
    for (int i = 0; i < n->n_outputs; i++) {
        StudioPort *p = &n->outputs[i];
        if (!p->name)
            p->name = g_strdup_printf ("out:%d", i);
        p->dtype = sl_node_output_type (node, i);
        p->shape = *sl_node_output_shape (node, i);
    }
}

/* Inputs of node n: for each entry of its NodeDef, the index of the
 * source among nodes (-1 when it names none or is unconnected). */
typedef struct {
    int n_in;
    int *src;       /* per NodeDef input */
    int *src_out;   /* output index, -1 for control */
} Links;

static void
fill_input_dtypes (StudioNode *nodes, StudioNode *n, const Links *l)
{
    /* for a node the engine did not create: a port that follows a type
     * attr not set takes the dtype of a connected input of that attr */
    int data = 0;
    for (int k = 0; k < l->n_in && data < n->n_inputs; k++) {
        if (l->src_out[k] < 0)
            continue;
        StudioPort *p = &n->inputs[data++];
        if (l->src[k] < 0)
            continue;
        StudioNode *s = &nodes[l->src[k]];
        if (l->src_out[k] < s->n_outputs) {
            p->shape = s->outputs[l->src_out[k]].shape;
            if (p->dtype == SL_DTYPE_INVALID)
                p->dtype = s->outputs[l->src_out[k]].dtype;
        }
    }
    for (int i = 0; i < n->n_outputs; i++) {
        StudioPort *o = &n->outputs[i];
        if (o->dtype != SL_DTYPE_INVALID || !o->type_attr)
            continue;
        for (int k = 0; k < n->n_inputs; k++)
            if (n->inputs[k].type_attr && strcmp (n->inputs[k].type_attr, o->type_attr) == 0 &&
                n->inputs[k].dtype != SL_DTYPE_INVALID)
                o->dtype = sl_dtype_base (n->inputs[k].dtype);
    }
}

static GBytes *
pack_one (const Tensorflow__NodeDef *d)
{
    Tensorflow__GraphDef g = TENSORFLOW__GRAPH_DEF__INIT;
    Tensorflow__NodeDef *one = (Tensorflow__NodeDef *) d;
    g.n_node = 1;
    g.node = &one;
    gsize len = protobuf_c_message_get_packed_size (&g.base);
    guint8 *buf = g_malloc (len + 1);
    protobuf_c_message_pack (&g.base, buf);
    return g_bytes_new_take (buf, len);
}

/* Appends to the message the nodes that feed n and their shapes, so a
 * shape error names both ends. */
static char *
shape_message (StudioNode *nodes, StudioNode *n, const Links *l, const char *engine_msg)
{
    GString *s = g_string_new (engine_msg);
    g_string_append (s, " (inputs:");
    int data = 0;
    for (int k = 0; k < l->n_in; k++) {
        if (l->src_out[k] < 0 || l->src[k] < 0)
            continue;
        StudioNode *src = &nodes[l->src[k]];
        char buf[SL_SHAPE_STRING_MAX];
        const sl_shape *sh = l->src_out[k] < src->n_outputs ? &src->outputs[l->src_out[k]].shape : NULL;
        sl_shape unk = sl_shape_unknown ();
        g_string_append_printf (s, "%s '%s' %s", data++ ? "," : "", src->def->name,
                                sl_shape_to_string (sh ? sh : &unk, buf, sizeof buf));
    }
    g_string_append (s, ")");
    return g_string_free (s, FALSE);
}

/* Strips the "node 'x' (Op): " prefix the engine puts on its messages:
 * the studio shows the message on the node itself. */
static const char *
strip_prefix (const char *msg, const char *name)
{
    char *pre = g_strdup_printf ("node '%s' ", name);
    const char *m = msg;
    if (g_str_has_prefix (m, pre)) {
        const char *c = strstr (m, "): ");
        if (c)
            m = c + 3;
    }
    g_free (pre);
    return m;
}

static gboolean
try_whole_graph (StudioNode *nodes, int n)
{
    for (int i = 0; i < n; i++)
        for (size_t k = 0; k < nodes[i].def->n_input; k++)
            if (!nodes[i].def->input[k][0])
                return FALSE;
    Tensorflow__GraphDef gd = TENSORFLOW__GRAPH_DEF__INIT;
    gd.n_node = (size_t) n;
    gd.node = g_new (Tensorflow__NodeDef *, (gsize) (guint) n + 1);
    for (int i = 0; i < n; i++)
        gd.node[i] = (Tensorflow__NodeDef *) nodes[i].def;
    gsize len = protobuf_c_message_get_packed_size (&gd.base);
    guint8 *buf = g_malloc (len + 1);
    protobuf_c_message_pack (&gd.base, buf);
    g_free (gd.node);
    sl_status *st = sl_status_new ();
    sl_graph *g = sl_graph_new (st);
    gboolean ok = sl_graph_import_binary (g, buf, len, NULL, st) == SL_OK;
    g_free (buf);
    if (ok) {
        for (int i = 0; i < n; i++) {
            const sl_node *node = sl_graph_find_node (g, nodes[i].def->name);
            nodes[i].op = sl_node_op_def (node);
            nodes[i].state = STUDIO_NODE_OK;
            ports_from_node (&nodes[i], node);
        }
    }
    sl_graph_free (g);
    sl_status_free (st);
    return ok;
}

void
studio_validate_run (StudioNode *nodes, int n)
{
    for (int i = 0; i < n; i++)
        studio_node_release (&nodes[i]);
    if (n == 0 || try_whole_graph (nodes, n))
        return;

    GHashTable *index = g_hash_table_new (g_str_hash, g_str_equal);
    for (int i = 0; i < n; i++)
        g_hash_table_insert (index, nodes[i].def->name, GINT_TO_POINTER (i + 1));
    Links *links = g_new0 (Links, (gsize) n);
    int *pending = g_new0 (int, (gsize) n);
    GPtrArray **consumers = g_new0 (GPtrArray *, (gsize) n);
    int *max_out = g_new0 (int, (gsize) n);
    for (int i = 0; i < n; i++) {
        const Tensorflow__NodeDef *d = nodes[i].def;
        Links *l = &links[i];
        l->n_in = (int) d->n_input;
        l->src = g_new0 (int, d->n_input + 1);
        l->src_out = g_new0 (int, d->n_input + 1);
        for (size_t k = 0; k < d->n_input; k++) {
            int idx;
            char *name = studio_parse_input (d->input[k], &idx);
            int s = GPOINTER_TO_INT (g_hash_table_lookup (index, name)) - 1;
            l->src[k] = *name ? s : -1;
            l->src_out[k] = idx;
            if (s >= 0 && *name) {
                pending[i]++;
                if (!consumers[s])
                    consumers[s] = g_ptr_array_new ();
                g_ptr_array_add (consumers[s], GINT_TO_POINTER (i));
                max_out[s] = MAX (max_out[s], idx + 1);
            }
            g_free (name);
        }
    }
    /* Kahn's order, seeded in document order */
    int *order = g_new (int, (gsize) n);
    int head = 0, tail = 0;
    for (int i = 0; i < n; i++)
        if (!pending[i])
            order[tail++] = i;
    while (head < tail) {
        int v = order[head++];
        for (guint c = 0; consumers[v] && c < consumers[v]->len; c++) {
            int u = GPOINTER_TO_INT (g_ptr_array_index (consumers[v], c));
            if (--pending[u] == 0)
                order[tail++] = u;
        }
    }
    gboolean *done = g_new0 (gboolean, (gsize) n);
    for (int i = 0; i < n; i++)
        if (pending[i])
            order[tail++] = i;   /* in a cycle (or behind one): checked last */

    sl_status *st = sl_status_new ();
    sl_graph *g = sl_graph_new (st);
    for (int oi = 0; oi < n; oi++) {
        int i = order[oi];
        StudioNode *node = &nodes[i];
        const Tensorflow__NodeDef *d = node->def;
        Links *l = &links[i];
        node->op = sl_op_lookup (d->op);
        const char *why = NULL;
        char *why_owned = NULL;
        gboolean upstream = FALSE;
        for (int k = 0; k < l->n_in && !why; k++) {
            if (!d->input[k][0]) {
                why = "has an input that is not connected";
            } else if (l->src[k] < 0) {
                why = why_owned = g_strdup_printf ("input '%s' names no node", d->input[k]);
            } else if (pending[i] && !done[l->src[k]]) {
                why = "is part of a cycle";
                if (node->op && (node->op->flags & SL_OP_CONTROL_FLOW))
                    upstream = TRUE, why = "is in a loop the studio checks only as a whole";
            } else if (!done[l->src[k]] || !sl_graph_find_node (g, nodes[l->src[k]].def->name)) {
                upstream = TRUE;
                why = why_owned = g_strdup_printf ("waits on '%s', which has a problem",
                                                   nodes[l->src[k]].def->name);
            }
        }
        if (!node->op) {
            node->state = STUDIO_NODE_UNKNOWN_OP;
            node->message = g_strdup_printf ("op '%s' is not registered in Sluice: the node is "
                                             "kept and saved as it is, but cannot run", d->op);
        } else if (why) {
            node->state = upstream ? STUDIO_NODE_UNCHECKED : STUDIO_NODE_ERROR;
            node->message = g_strdup_printf ("'%s' %s", d->name, why);
        } else {
            GBytes *one = pack_one (d);
            gsize len;
            const void *data = g_bytes_get_data (one, &len);
            if (sl_graph_import_binary (g, data, len, NULL, st) == SL_OK) {
                ports_from_node (node, sl_graph_find_node (g, d->name));
            } else {
                char *msg = g_strdup (strip_prefix (sl_status_message (st), d->name));
                sl_import_options skip = { .skip_shape_errors = true };
                node->state = STUDIO_NODE_ERROR;
                if (sl_graph_import_binary (g, data, len, &skip, st) == SL_OK) {
                    /* only the shape function failed: keep the node so
                     * what follows is checked, and name its inputs */
                    node->message = shape_message (nodes, node, l, msg);
                    ports_from_node (node, sl_graph_find_node (g, d->name));
                } else {
                    node->message = g_strdup (msg);
                }
                g_free (msg);
            }
            g_bytes_unref (one);
        }
        g_free (why_owned);
        if (!node->inputs && !node->outputs) {
            ports_from_def (node, max_out[i]);
            fill_input_dtypes (nodes, node, l);
        }
        done[i] = TRUE;
    }
    sl_graph_free (g);
    sl_status_free (st);

    for (int i = 0; i < n; i++) {
        g_free (links[i].src);
        g_free (links[i].src_out);
        if (consumers[i])
            g_ptr_array_unref (consumers[i]);
    }
    g_free (done);
    g_free (order);
    g_free (max_out);
    g_free (consumers);
    g_free (pending);
    g_free (links);
    g_hash_table_unref (index);
}
