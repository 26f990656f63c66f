/* GraphDef import.  Nodes in a GraphDef may come in any order and loops
 * make cycles through NextIteration, so import resolves names first, orders
 * the nodes topologically with NextIteration back edges set aside, creates
 * them through the common node checks, and finally wires the back edges.
 * Any failure truncates the graph back to where it was. */
#include "config.h"

#include "graph-private.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "graph.pb-c.h"
#include "sluice/alloc.h"

typedef struct parsed_input {
    int local;          /* index of the source among imported nodes, or -1 */
    sl_node *existing;  /* source already in the graph (local == -1) */
    int index;          /* output index; -1 for control */
} parsed_input;

typedef struct import_node {
    const Tensorflow__NodeDef *def;
    char *name;          /* full name (prefix applied) */
    parsed_input *inputs;
    int num_inputs;      /* data + control */
    int num_data;
    bool is_next_iteration;
} import_node;

typedef struct importer {
    sl_graph *g;
    const sl_import_options *opts;
    sl_status *st;
    import_node *nodes;
    int n;
    sl_strmap local;     /* full name -> import_node* */
    sl_node **created;   /* per import node */
} importer;

static char *prefixed(const char *prefix, const char *name, size_t len)
{
    size_t pl = prefix && *prefix ? strlen(prefix) + 1 : 0;
    char *s = sl_malloc(pl + len + 1);
    if (!s)
        return NULL;
    if (pl) {
        memcpy(s, prefix, pl - 1);
        s[pl - 1] = '/';
    }
    memcpy(s + pl, name, len);
    s[pl + len] = '\0';
    return s;
}

/* Splits "^name", "name:k" or "name" into a resolved input. */
static sl_code parse_input(importer *im, import_node *node, const char *text, parsed_input *out)
{
    bool control = text[0] == '^';
    const char *name = control ? text + 1 : text;
    size_t len = strlen(name);
    int index = 0;
    const char *colon = strrchr(name, ':');
    if (!control && colon && colon[1]) {
        char *end;
        long k = strtol(colon + 1, &end, 10);
        if (*end || k < 0 || k > 1 << 20)
            return sl_status_set(im->st, SL_INVALID_ARGUMENT, "node '%s': malformed input '%s'",
                                 node->name, text);
        index = (int)k;
        len = (size_t)(colon - name);
    }
    char *full = prefixed(im->opts ? im->opts->prefix : NULL, name, len);
    if (!full)
        return sl_status_set(im->st, SL_RESOURCE_EXHAUSTED, "out of memory");
    import_node *src = sl_strmap_get(&im->local, full);
    out->local = src ? (int)(src - im->nodes) : -1;
    out->existing = src ? NULL : sl_graph_find_node(im->g, full);
    out->index = control ? -1 : index;
    sl_free(full);
    if (!src && !out->existing)
        return sl_status_set(im->st, SL_INVALID_ARGUMENT,
                             "node '%s': input '%s' names no node in the graph", node->name, text);
    return SL_OK;
}

static sl_code resolve(importer *im, const Tensorflow__GraphDef *gd)
{
    im->n = (int)gd->n_node;
    im->nodes = sl_calloc((size_t)im->n + 1, sizeof(*im->nodes));
    im->created = sl_calloc((size_t)im->n + 1, sizeof(*im->created));
    if (!im->nodes || !im->created)
        return sl_status_set(im->st, SL_RESOURCE_EXHAUSTED, "out of memory importing a graph");
    for (int i = 0; i < im->n; i++) {
        const Tensorflow__NodeDef *d = gd->node[i];
        import_node *in = &im->nodes[i];
        in->def = d;
        const char *name = d->name ? d->name : "";
        if (!*name)
            return sl_status_set(im->st, SL_INVALID_ARGUMENT, "node %d of the GraphDef has no name", i);
        in->name = prefixed(im->opts ? im->opts->prefix : NULL, name, strlen(name));
        if (!in->name)
            return sl_status_set(im->st, SL_RESOURCE_EXHAUSTED, "out of memory importing a graph");
        if (sl_strmap_get(&im->local, in->name))
            return sl_status_set(im->st, SL_INVALID_ARGUMENT,
                                 "node '%s' appears more than once in the GraphDef", in->name);
        if (!sl_strmap_put(&im->local, in->name, in))
            return sl_status_set(im->st, SL_RESOURCE_EXHAUSTED, "out of memory importing a graph");
        in->is_next_iteration = d->op && !strcmp(d->op, "NextIteration");
    }
    for (int i = 0; i < im->n; i++) {
        import_node *in = &im->nodes[i];
        const Tensorflow__NodeDef *d = in->def;
        in->inputs = sl_calloc(d->n_input + 1, sizeof(parsed_input));
        if (!in->inputs)
            return sl_status_set(im->st, SL_RESOURCE_EXHAUSTED, "out of memory importing a graph");
        bool seen_control = false;
        for (size_t k = 0; k < d->n_input; k++) {
            if (parse_input(im, in, d->input[k], &in->inputs[k]) != SL_OK)
                return sl_status_code(im->st);
            if (in->inputs[k].index < 0)
                seen_control = true;
            else if (seen_control)
                return sl_status_set(im->st, SL_INVALID_ARGUMENT,
                                     "node '%s': data input '%s' comes after a control input",
                                     in->name, d->input[k]);
            else
                in->num_data++;
            in->num_inputs++;
        }
    }
    return SL_OK;
}

/* An edge from src into a node is a loop back edge when src is a
 * NextIteration: it is wired after every node exists. */
static bool is_back_edge(const importer *im, const parsed_input *p)
{
    return p->local >= 0 && im->nodes[p->local].is_next_iteration;
}

/* Describes a cycle among the nodes Kahn's algorithm could not order. */
static sl_code report_cycle(importer *im, const int *pending)
{
    int start = 0;
    while (pending[start] == 0)
        start++;
    int *seen = sl_calloc((size_t)im->n, sizeof(int));
    int *path = sl_calloc((size_t)im->n + 1, sizeof(int));
    if (!seen || !path) {
        sl_free(seen);
        sl_free(path);
        return sl_status_set(im->st, SL_INVALID_ARGUMENT, "graph has a cycle through node '%s'",
                             im->nodes[start].name);
    }
    /* walk backwards along unresolved inputs until a node repeats */
    int len = 0, cur = start;
    while (!seen[cur]) {
        seen[cur] = len + 1;
        path[len++] = cur;
        const import_node *in = &im->nodes[cur];
        int next = -1;
        for (int k = 0; k < in->num_inputs && next < 0; k++) {
            const parsed_input *p = &in->inputs[k];
            if (p->local >= 0 && !is_back_edge(im, p) && pending[p->local])
                next = p->local;
        }
        if (next < 0)
            break;
        cur = next;
    }
    int from = seen[cur] - 1;
    /* path[from..len-1] is the cycle, consumers first; print it in
     * data-flow order starting from the node that comes first in the file */
    int cycle_len = len - from, first = from;
    for (int i = from; i < len; i++)
        if (path[i] < path[first])
            first = i;
    char msg[1024];
    size_t pos = 0;
    for (int k = 0; k <= cycle_len && pos < sizeof(msg) - 64; k++) {
        int i = first - k;
        while (i < from)
            i += cycle_len;
        pos += (size_t)snprintf(msg + pos, sizeof(msg) - pos, "%s%s", k ? " -> " : "",
                                im->nodes[path[i]].name);
    }
    sl_free(seen);
    sl_free(path);
    return sl_status_set(im->st, SL_INVALID_ARGUMENT,
                         "graph has a cycle that does not pass through a NextIteration node: %s",
                         msg);
}

static sl_code topo_order(importer *im, int *order)
{
    int *pending = sl_calloc((size_t)im->n + 1, sizeof(int));
    int **consumers = sl_calloc((size_t)im->n + 1, sizeof(int *));
    int *num_consumers = sl_calloc((size_t)im->n + 1, sizeof(int));
    sl_code rc = SL_OK;
    if (!pending || !consumers || !num_consumers) {
        rc = sl_status_set(im->st, SL_RESOURCE_EXHAUSTED, "out of memory importing a graph");
        goto out;
    }
    for (int i = 0; i < im->n; i++)
        for (int k = 0; k < im->nodes[i].num_inputs; k++) {
            const parsed_input *p = &im->nodes[i].inputs[k];
            if (p->local >= 0 && !is_back_edge(im, p)) {
                pending[i]++;
                num_consumers[p->local]++;
            }
        }
    for (int i = 0; i < im->n; i++) {
        consumers[i] = sl_malloc(sizeof(int) * (size_t)(num_consumers[i] + 1));
        if (!consumers[i]) {
            rc = sl_status_set(im->st, SL_RESOURCE_EXHAUSTED, "out of memory importing a graph");
            goto out;
        }
        num_consumers[i] = 0;
    }
    for (int i = 0; i < im->n; i++)
        for (int k = 0; k < im->nodes[i].num_inputs; k++) {
            const parsed_input *p = &im->nodes[i].inputs[k];
            if (p->local >= 0 && !is_back_edge(im, p))
                consumers[p->local][num_consumers[p->local]++] = i;
        }
    /* Kahn's algorithm, seeded in file order so output order is stable */
    int head = 0, tail = 0;
    for (int i = 0; i < im->n; i++)
        if (!pending[i])
            order[tail++] = i;
    while (head < tail) {
        int v = order[head++];
        for (int c = 0; c < num_consumers[v]; c++)
            if (--pending[consumers[v][c]] == 0)
                order[tail++] = consumers[v][c];
    }
    if (tail < im->n)
        rc = report_cycle(im, pending);
out:
    for (int i = 0; consumers && i < im->n; i++)
        sl_free(consumers[i]);
    sl_free(consumers);
    sl_free(num_consumers);
    sl_free(pending);
    return rc;
}

/* Creates one node from its NodeDef; back-edge inputs stay NULL. */
static sl_code create_node(importer *im, int i)
{
    import_node *in = &im->nodes[i];
    const Tensorflow__NodeDef *d = in->def;
    sl_code rc = SL_OK;
    sl_output *inputs = sl_calloc((size_t)in->num_data + 1, sizeof(sl_output));
    sl_dtype *back_types = sl_calloc((size_t)in->num_data + 1, sizeof(sl_dtype));
    sl_node **controls = sl_calloc((size_t)(in->num_inputs - in->num_data) + 1, sizeof(sl_node *));
    const char **names = sl_calloc(d->n_attr + 1, sizeof(char *));
    sl_attr_value **values = sl_calloc(d->n_attr + 1, sizeof(sl_attr_value *));
    if (!inputs || !back_types || !controls || !names || !values) {
        rc = sl_status_set(im->st, SL_RESOURCE_EXHAUSTED, "out of memory importing node '%s'", in->name);
        goto out;
    }
    int num_controls = 0;
    for (int k = 0; k < in->num_inputs; k++) {
        const parsed_input *p = &in->inputs[k];
        sl_node *src = p->local >= 0 ? im->created[p->local] : p->existing;
        if (p->index < 0) {
            if (src)  /* control back edges are wired later */
                controls[num_controls++] = src;
            continue;
        }
        inputs[k] = (sl_output){src, p->index};
        if (!src) {  /* back edge from a NextIteration: its T gives the type */
            const Tensorflow__NodeDef *sd = im->nodes[p->local].def;
            for (size_t a = 0; a < sd->n_attr; a++)
                if (!strcmp(sd->attr[a]->key, "T") && sd->attr[a]->value &&
                    sd->attr[a]->value->value_case == TENSORFLOW__ATTR_VALUE__VALUE_TYPE)
                    back_types[k] = (sl_dtype)sd->attr[a]->value->type;
            if (back_types[k] == SL_DTYPE_INVALID) {
                rc = sl_status_set(im->st, SL_INVALID_ARGUMENT,
                                   "node '%s': NextIteration input '%s' has no type attr T", in->name,
                                   im->nodes[p->local].name);
                goto out;
            }
        }
    }
    for (size_t a = 0; a < d->n_attr; a++) {
        if (!d->attr[a]->key || !d->attr[a]->value) {
            rc = sl_status_set(im->st, SL_INVALID_ARGUMENT, "node '%s': attr entry %zu has no %s",
                               in->name, a, d->attr[a]->key ? "value" : "name");
            goto out;
        }
        names[a] = d->attr[a]->key;
        values[a] = d->attr[a]->value;
    }
    sl_node_spec spec = {
        .name = in->name,
        .op_type = d->op ? d->op : "",
        .device = d->device,
        .num_inputs = in->num_data,
        .inputs = inputs,
        .back_edge_types = back_types,
        .num_control_inputs = num_controls,
        .control_inputs = controls,
        .num_attrs = (int)d->n_attr,
        .attr_names = names,
        .attr_values = values,
        .skip_shape_errors = im->opts && im->opts->skip_shape_errors,
        .debug_info = d->experimental_debug_info ? &d->experimental_debug_info->base : NULL,
        .experimental_type = d->experimental_type,
    };
    im->created[i] = sl__graph_add_node(im->g, &spec, im->st);
    if (!im->created[i])
        rc = sl_status_code(im->st);
out:
    sl_free(inputs);
    sl_free(back_types);
    sl_free(controls);
    sl_free(names);
    sl_free(values);
    return rc;
}

/* Wires loop back edges once every node exists. */
static sl_code wire_back_edges(importer *im)
{
    for (int i = 0; i < im->n; i++) {
        import_node *in = &im->nodes[i];
        sl_node *dst = im->created[i];
        int data = 0;
        for (int k = 0; k < in->num_inputs; k++) {
            const parsed_input *p = &in->inputs[k];
            bool is_data = p->index >= 0;
            int slot = data;
            if (is_data)
                data++;
            if (!is_back_edge(im, p))
                continue;
            sl_node *src = im->created[p->local];
            if (!is_data) {
                sl_node **c = sl_realloc(dst->control_inputs, sizeof(*c) * (size_t)(dst->num_control_inputs + 1));
                if (!c)
                    return sl_status_set(im->st, SL_RESOURCE_EXHAUSTED, "out of memory importing a graph");
                dst->control_inputs = c;
                c[dst->num_control_inputs++] = src;
                if (!sl__node_add_out_edge(src, -1, dst, -1))
                    return sl_status_set(im->st, SL_RESOURCE_EXHAUSTED, "out of memory importing a graph");
                continue;
            }
            if (p->index >= sl_node_num_outputs(src))
                return sl_status_set(im->st, SL_INVALID_ARGUMENT,
                                     "node '%s': input %d refers to output %d of '%s', which has %d",
                                     dst->name, slot, p->index, src->name, sl_node_num_outputs(src));
            if (sl_dtype_base(sl_node_output_type(src, p->index)) != sl_dtype_base(dst->input_types[slot]))
                return sl_status_set(im->st, SL_INVALID_ARGUMENT,
                                     "node '%s': input %d from '%s' is %s but %s is expected", dst->name,
                                     slot, src->name, sl_dtype_name(sl_node_output_type(src, p->index)),
                                     sl_dtype_name(dst->input_types[slot]));
            dst->inputs[slot] = (sl_output){src, p->index};
            if (!sl__node_add_out_edge(src, p->index, dst, slot))
                return sl_status_set(im->st, SL_RESOURCE_EXHAUSTED, "out of memory importing a graph");
        }
    }
    return SL_OK;
}

static void importer_release(importer *im)
{
    for (int i = 0; im->nodes && i < im->n; i++) {
        sl_free(im->nodes[i].name);
        sl_free(im->nodes[i].inputs);
    }
    sl_free(im->nodes);
    sl_free(im->created);
    sl_strmap_release(&im->local);
}

static bool copy_bytes(ProtobufCBinaryData *dst, const ProtobufCMessage *msg)
{
    size_t len = protobuf_c_message_get_packed_size(msg);
    uint8_t *buf = sl_malloc(len ? len : 1);
    if (!buf)
        return false;
    protobuf_c_message_pack(msg, buf);
    sl_free(dst->data);
    dst->data = buf;
    dst->len = len;
    return true;
}

sl_code sl__graph_import_graphdef(sl_graph *g, const Tensorflow__GraphDef *gd,
                                  const sl_import_options *opts, sl_status *st)
{
    importer im = {.g = g, .opts = opts, .st = st};
    int old_n = g->num_nodes;
    bool was_empty = old_n == 0;
    int *order = NULL;
    sl_code rc = resolve(&im, gd);
    if (rc != SL_OK)
        goto err;
    order = sl_malloc(sizeof(int) * (size_t)(im.n + 1));
    if (!order) {
        rc = sl_status_set(st, SL_RESOURCE_EXHAUSTED, "out of memory importing a graph");
        goto err;
    }
    if ((rc = topo_order(&im, order)) != SL_OK)
        goto err;
    for (int i = 0; i < im.n; i++)
        if ((rc = create_node(&im, order[i])) != SL_OK)
            goto err;
    if ((rc = wire_back_edges(&im)) != SL_OK)
        goto err;
    if (was_empty) {
        if (gd->versions) {
            g->producer = gd->versions->producer;
            g->min_consumer = gd->versions->min_consumer;
            if (gd->versions->n_bad_consumers) {
                int *bc = sl_malloc(sizeof(int) * gd->versions->n_bad_consumers);
                if (!bc) {
                    rc = sl_status_set(st, SL_RESOURCE_EXHAUSTED, "out of memory importing a graph");
                    goto err;
                }
                memcpy(bc, gd->versions->bad_consumers, sizeof(int) * gd->versions->n_bad_consumers);
                sl_free(g->bad_consumers);
                g->bad_consumers = bc;
                g->num_bad_consumers = (int)gd->versions->n_bad_consumers;
            }
        }
        if (gd->library && !copy_bytes(&g->library, &gd->library->base)) {
            rc = sl_status_set(st, SL_RESOURCE_EXHAUSTED, "out of memory importing a graph");
            goto err;
        }
        if (gd->debug_info.len) {
            uint8_t *buf = sl_malloc(gd->debug_info.len);
            if (!buf) {
                rc = sl_status_set(st, SL_RESOURCE_EXHAUSTED, "out of memory importing a graph");
                goto err;
            }
            memcpy(buf, gd->debug_info.data, gd->debug_info.len);
            sl_free(g->debug_info.data);
            g->debug_info.data = buf;
            g->debug_info.len = gd->debug_info.len;
        }
    }
    sl_free(order);
    importer_release(&im);
    sl_status_clear(st);
    return SL_OK;
err:
    sl__graph_truncate(g, old_n);
    sl_free(order);
    importer_release(&im);
    return rc;
}
