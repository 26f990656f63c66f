/* Graphs: node storage, name lookup, name scopes, accessors and attr
 * getters.  Nodes are separately allocated and the graph keeps an array of
 * pointers, so node pointers stay valid while the graph grows. */
#include "config.h"

#include "graph-private.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sluice/alloc.h"

sl_graph *sl_graph_new(sl_status *status)
{
    sl_graph *g = sl_calloc(1, sizeof(*g));
    if (!g) {
        sl_status_set(status, SL_RESOURCE_EXHAUSTED, "out of memory creating a graph");
        return NULL;
    }
    sl_status_clear(status);
    return g;
}

void sl__node_free(sl_node *n)
{
    if (!n)
        return;
    for (int i = 0; i < n->num_attrs; i++) {
        sl_free(n->attrs[i].name);
        sl__attr_value_free(n->attrs[i].value);
        sl_tensor_unref(n->attrs[i].tensor);
    }
    if (n->debug_info)
        protobuf_c_message_free_unpacked(n->debug_info, NULL);
    sl_free(n->experimental_type.data);
    sl_free(n->attrs);
    sl_free(n->name);
    sl_free(n->device);
    sl_free(n->inputs);
    sl_free(n->input_types);
    sl_free(n->output_types);
    sl_free(n->output_shapes);
    sl_free(n->input_arg_start);
    sl_free(n->output_arg_start);
    sl_free(n->control_inputs);
    sl_free(n->out_edges);
    sl_free(n);
}

void sl_graph_free(sl_graph *g)
{
    if (!g)
        return;
    for (int i = 0; i < g->num_nodes; i++)
        sl__node_free(g->nodes[i]);
    sl_free(g->nodes);
    sl_strmap_release(&g->by_name);
    for (int i = 0; i < g->num_scopes; i++)
        sl_free(g->scopes[i]);
    sl_free(g->scopes);
    sl_free(g->bad_consumers);
    sl_free(g->library.data);
    sl_free(g->debug_info.data);
    sl_free(g);
}

/* Drops out-edges of `src` that lead to nodes with id >= n. */
static void drop_edges_to(sl_node *src, int n)
{
    int k = 0;
    for (int i = 0; i < src->num_out_edges; i++)
        if (src->out_edges[i].dst->id < n)
            src->out_edges[k++] = src->out_edges[i];
    src->num_out_edges = k;
}

void sl__graph_truncate(sl_graph *g, int n)
{
    for (int i = n; i < g->num_nodes; i++)
        sl_strmap_remove(&g->by_name, g->nodes[i]->name);
    for (int i = 0; i < n; i++)
        drop_edges_to(g->nodes[i], n);
    for (int i = n; i < g->num_nodes; i++)
        sl__node_free(g->nodes[i]);
    g->num_nodes = n;
}

bool sl__node_add_out_edge(sl_node *src, int src_output, sl_node *dst, int dst_input)
{
    if (src->num_out_edges == src->cap_out_edges) {
        int cap = src->cap_out_edges ? src->cap_out_edges * 2 : 4;
        sl_edge *e = sl_realloc(src->out_edges, sizeof(*e) * (size_t)cap);
        if (!e)
            return false;
        src->out_edges = e;
        src->cap_out_edges = cap;
    }
    src->out_edges[src->num_out_edges++] = (sl_edge){src, src_output, dst, dst_input};
    return true;
}

bool sl__node_set_input(sl_node *dst, int slot, sl_output src)
{
    sl_node *old = dst->inputs[slot].node;
    for (int i = 0; old && i < old->num_out_edges; i++) {
        if (old->out_edges[i].dst == dst && old->out_edges[i].dst_input == slot) {
            memmove(&old->out_edges[i], &old->out_edges[i + 1],
                    (size_t)(old->num_out_edges - i - 1) * sizeof(sl_edge));
            old->num_out_edges--;
            break;
        }
    }
    dst->inputs[slot] = src;
    return sl__node_add_out_edge(src.node, src.index, dst, slot);
}

bool sl__node_add_control_input(sl_node *dst, sl_node *src)
{
    for (int i = 0; i < dst->num_control_inputs; i++)
        if (dst->control_inputs[i] == src)
            return true;
    sl_node **p = sl_realloc(dst->control_inputs, (size_t)(dst->num_control_inputs + 1) * sizeof(*p));
    if (!p)
        return false;
    dst->control_inputs = p;
    if (!sl__node_add_out_edge(src, -1, dst, -1))
        return false;
    p[dst->num_control_inputs++] = src;
    return true;
}

int sl_graph_num_nodes(const sl_graph *g) { return g->num_nodes; }

sl_node *sl_graph_node(const sl_graph *g, int i)
{
    return i >= 0 && i < g->num_nodes ? g->nodes[i] : NULL;
}

sl_node *sl_graph_find_node(const sl_graph *g, const char *name)
{
    return name ? sl_strmap_get(&g->by_name, name) : NULL;
}

int sl_graph_producer(const sl_graph *g) { return g->producer; }
void sl_graph_set_producer(sl_graph *g, int producer) { g->producer = producer; }

bool sl_node_name_is_valid(const char *name)
{
    if (!name || !*name)
        return false;
    unsigned char c = (unsigned char)name[0];
    /* '_' first is TF's mark of internal nodes (_send_*, _recv_*): TF
     * writes them into saved graphs, so they are accepted */
    if (!isalnum(c) && c != '.' && c != '_')
        return false;
    for (const char *p = name + 1; *p; p++) {
        c = (unsigned char)*p;
        if (!isalnum(c) && c != '_' && c != '.' && c != '/' && c != '>' && c != '-')
            return false;
    }
    return true;
}

sl_code sl_graph_push_scope(sl_graph *g, const char *scope, sl_status *status)
{
    if (!sl_node_name_is_valid(scope) || strchr(scope, '/'))
        return sl_status_set(status, SL_INVALID_ARGUMENT, "invalid name scope '%s'",
                             scope ? scope : "(null)");
    char **s = sl_realloc(g->scopes, sizeof(*s) * (size_t)(g->num_scopes + 1));
    if (!s)
        return sl_status_set(status, SL_RESOURCE_EXHAUSTED, "out of memory pushing a scope");
    g->scopes = s;
    if (!(g->scopes[g->num_scopes] = sl_strdup(scope)))
        return sl_status_set(status, SL_RESOURCE_EXHAUSTED, "out of memory pushing a scope");
    g->num_scopes++;
    sl_status_clear(status);
    return SL_OK;
}

void sl_graph_pop_scope(sl_graph *g)
{
    if (g->num_scopes > 0)
        sl_free(g->scopes[--g->num_scopes]);
}

char *sl__graph_scoped_name(const sl_graph *g, const char *base)
{
    size_t len = strlen(base) + 1;
    for (int i = 0; i < g->num_scopes; i++)
        len += strlen(g->scopes[i]) + 1;
    char *out = sl_malloc(len);
    if (!out)
        return NULL;
    out[0] = '\0';
    for (int i = 0; i < g->num_scopes; i++) {
        strcat(out, g->scopes[i]);
        strcat(out, "/");
    }
    strcat(out, base);
    return out;
}

char *sl_graph_unique_name(sl_graph *g, const char *base)
{
    char *name = sl__graph_scoped_name(g, base);
    if (!name || !sl_graph_find_node(g, name))
        return name;
    size_t len = strlen(name) + 24;
    char *cand = sl_malloc(len);
    if (!cand) {
        sl_free(name);
        return NULL;
    }
    for (long k = 1;; k++) {
        snprintf(cand, len, "%s_%ld", name, k);
        if (!sl_graph_find_node(g, cand))
            break;
    }
    sl_free(name);
    return cand;
}

/* ---- node accessors -------------------------------------------------- */

int sl_node_id(const sl_node *n) { return n->id; }
const char *sl_node_name(const sl_node *n) { return n->name; }
const char *sl_node_op_type(const sl_node *n) { return n->op->name; }
const sl_op_def *sl_node_op_def(const sl_node *n) { return n->op; }
const char *sl_node_device(const sl_node *n) { return n->device ? n->device : ""; }
int sl_node_num_inputs(const sl_node *n) { return n->num_inputs; }
int sl_node_num_outputs(const sl_node *n) { return n->num_outputs; }
int sl_node_num_control_inputs(const sl_node *n) { return n->num_control_inputs; }
int sl_node_num_out_edges(const sl_node *n) { return n->num_out_edges; }

sl_output sl_node_input(const sl_node *n, int i)
{
    if (i < 0 || i >= n->num_inputs)
        return (sl_output){NULL, -1};
    return n->inputs[i];
}

sl_dtype sl_node_input_type(const sl_node *n, int i)
{
    return i >= 0 && i < n->num_inputs ? n->input_types[i] : SL_DTYPE_INVALID;
}

sl_dtype sl_node_output_type(const sl_node *n, int i)
{
    return i >= 0 && i < n->num_outputs ? n->output_types[i] : SL_DTYPE_INVALID;
}

const sl_shape *sl_node_output_shape(const sl_node *n, int i)
{
    static const sl_shape unknown = {.rank = SL_RANK_UNKNOWN};
    return i >= 0 && i < n->num_outputs ? &n->output_shapes[i] : &unknown;
}

sl_node *sl_node_control_input(const sl_node *n, int i)
{
    return i >= 0 && i < n->num_control_inputs ? n->control_inputs[i] : NULL;
}

const sl_edge *sl_node_out_edge(const sl_node *n, int i)
{
    return i >= 0 && i < n->num_out_edges ? &n->out_edges[i] : NULL;
}

static bool arg_range(const sl_op_arg *args, int num_args, const int *starts, const char *arg,
                      int *start, int *count)
{
    for (int i = 0; i < num_args; i++) {
        if (!strcmp(args[i].name, arg)) {
            *start = starts[i];
            *count = starts[i + 1] - starts[i];
            return true;
        }
    }
    return false;
}

bool sl_node_input_range(const sl_node *n, const char *arg, int *start, int *count)
{
    return arg_range(n->op->inputs, n->op->num_inputs, n->input_arg_start, arg, start, count);
}

bool sl_node_output_range(const sl_node *n, const char *arg, int *start, int *count)
{
    return arg_range(n->op->outputs, n->op->num_outputs, n->output_arg_start, arg, start, count);
}

/* ---- attrs ----------------------------------------------------------- */

const sl_node_attr *sl__node_find_attr(const sl_node *n, const char *name)
{
    int lo = 0, hi = n->num_attrs - 1;
    while (lo <= hi) {
        int mid = (lo + hi) / 2;
        int c = strcmp(n->attrs[mid].name, name);
        if (!c)
            return &n->attrs[mid];
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid - 1;
    }
    return NULL;
}

static const sl_attr_value *attr_of_case(const sl_node *n, const char *name, int value_case)
{
    const sl_node_attr *a = sl__node_find_attr(n, name);
    return a && (int)a->value->value_case == value_case ? a->value : NULL;
}

bool sl_node_has_attr(const sl_node *n, const char *name)
{
    return sl__node_find_attr(n, name) != NULL;
}

bool sl_node_attr_int(const sl_node *n, const char *name, int64_t *out)
{
    const sl_attr_value *v = attr_of_case(n, name, TENSORFLOW__ATTR_VALUE__VALUE_I);
    if (v)
        *out = v->i;
    return v != NULL;
}

bool sl_node_attr_float(const sl_node *n, const char *name, float *out)
{
    const sl_attr_value *v = attr_of_case(n, name, TENSORFLOW__ATTR_VALUE__VALUE_F);
    if (v)
        *out = v->f;
    return v != NULL;
}

bool sl_node_attr_bool(const sl_node *n, const char *name, bool *out)
{
    const sl_attr_value *v = attr_of_case(n, name, TENSORFLOW__ATTR_VALUE__VALUE_B);
    if (v)
        *out = v->b;
    return v != NULL;
}

bool sl_node_attr_type(const sl_node *n, const char *name, sl_dtype *out)
{
    const sl_attr_value *v = attr_of_case(n, name, TENSORFLOW__ATTR_VALUE__VALUE_TYPE);
    if (v)
        *out = (sl_dtype)v->type;
    return v != NULL;
}

bool sl_node_attr_shape(const sl_node *n, const char *name, sl_shape *out)
{
    const sl_attr_value *v = attr_of_case(n, name, TENSORFLOW__ATTR_VALUE__VALUE_SHAPE);
    if (v)
        *out = sl__shape_from_proto(v->shape);
    return v != NULL;
}

bool sl_node_attr_string(const sl_node *n, const char *name, const char **out, size_t *len)
{
    const sl_attr_value *v = attr_of_case(n, name, TENSORFLOW__ATTR_VALUE__VALUE_S);
    if (v) {
        *out = v->s.data ? (const char *)v->s.data : "";
        *len = v->s.len;
    }
    return v != NULL;
}

bool sl_node_attr_tensor(const sl_node *n, const char *name, const sl_tensor **out)
{
    const sl_node_attr *a = sl__node_find_attr(n, name);
    if (!a || !a->tensor)
        return false;
    *out = a->tensor;
    return true;
}

/* A list attr (or an empty AttrValue, TF's form of an empty list). */
static const Tensorflow__AttrValue__ListValue *list_of(const sl_node *n, const char *name,
                                                       bool *empty)
{
    const sl_node_attr *a = sl__node_find_attr(n, name);
    *empty = false;
    if (!a)
        return NULL;
    if (a->value->value_case == TENSORFLOW__ATTR_VALUE__VALUE__NOT_SET) {
        *empty = true;
        return NULL;
    }
    return a->value->value_case == TENSORFLOW__ATTR_VALUE__VALUE_LIST ? a->value->list : NULL;
}

#define LIST_GETTER(fn, ctype, field, kind)                                              \
    bool fn(const sl_node *n, const char *name, const ctype **out, int *count)          \
    {                                                                                    \
        bool empty;                                                                      \
        const Tensorflow__AttrValue__ListValue *l = list_of(n, name, &empty);            \
        if (empty) {                                                                     \
            *out = NULL;                                                                 \
            *count = 0;                                                                  \
            return true;                                                                 \
        }                                                                                \
        if (!l || (sl__attr_value_list_size(sl__node_find_attr(n, name)->value) &&       \
                   !sl__attr_value_has_type(sl__node_find_attr(n, name)->value, kind)))  \
            return false;                                                                \
        *out = (const ctype *)l->field;                                                  \
        *count = (int)l->n_##field;                                                      \
        return true;                                                                     \
    }

LIST_GETTER(sl_node_attr_int_list, int64_t, i, SL_ATTR_LIST_INT)
LIST_GETTER(sl_node_attr_float_list, float, f, SL_ATTR_LIST_FLOAT)
LIST_GETTER(sl_node_attr_type_list, int, type, SL_ATTR_LIST_TYPE)

int sl_node_attr_list_size(const sl_node *n, const char *name)
{
    bool empty;
    const Tensorflow__AttrValue__ListValue *l = list_of(n, name, &empty);
    if (empty)
        return 0;
    if (!l)
        return -1;
    return sl__attr_value_list_size(sl__node_find_attr(n, name)->value);
}

bool sl_node_attr_string_at(const sl_node *n, const char *name, int i, const char **out, size_t *len)
{
    bool empty;
    const Tensorflow__AttrValue__ListValue *l = list_of(n, name, &empty);
    if (!l || i < 0 || (size_t)i >= l->n_s)
        return false;
    *out = (const char *)l->s[i].data;
    *len = l->s[i].len;
    return true;
}

bool sl_node_attr_shape_at(const sl_node *n, const char *name, int i, sl_shape *out)
{
    bool empty;
    const Tensorflow__AttrValue__ListValue *l = list_of(n, name, &empty);
    if (!l || i < 0 || (size_t)i >= l->n_shape)
        return false;
    *out = sl__shape_from_proto(l->shape[i]);
    return true;
}

int sl_node_num_attrs(const sl_node *n) { return n->num_attrs; }

const char *sl_node_attr_name(const sl_node *n, int i)
{
    return i >= 0 && i < n->num_attrs ? n->attrs[i].name : NULL;
}
