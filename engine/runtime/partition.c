/* Partitioning (paper 3.2.2, Figure 4): one graph per device.  Each node
 * is re-emitted as a NodeDef for its device's partition; every data edge
 * that crosses devices becomes a _Send on the producer's device and a
 * _Recv on the consumer's, created once per (tensor, destination device)
 * however many consumers read it there; a crossing control edge sends a
 * small token.  The partitions are then imported as ordinary GraphDefs
 * (which handles node order and loop back edges), and each _Recv gets
 * control edges from the other inputs of its consumers, so it starts only
 * when its tensor is about to be needed (paper 4.3). */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "graph-private.h"
#include "sluice/alloc.h"
#include "sluice/device.h"
#include "strmap.h"

typedef struct part_builder {
    Tensorflow__NodeDef **nodes;
    size_t n;
    size_t cap;
    int sends;
    int recvs;
} part_builder;

typedef struct partitioner {
    const sl_graph *g;
    const char *const *devices;
    int num_devices;
    const int *assign;
    const sl_partition_options *opts;
    part_builder *parts;
    sl_strmap made;   /* "<src>:<k>@<d>" -> name of the tensor on d (owned) */
    char **keys;      /* owned keys of `made` */
    int num_keys;
    sl_status *st;
} partitioner;

static char *dup_str(const char *s)
{
    size_t n = strlen(s) + 1;
    char *d = malloc(n);
    if (d)
        memcpy(d, s, n);
    return d;
}

static bool part_add(part_builder *p, Tensorflow__NodeDef *nd)
{
    if (p->n == p->cap) {
        size_t cap = p->cap ? p->cap * 2 : 64;
        Tensorflow__NodeDef **nn = realloc(p->nodes, sizeof(*nn) * cap);
        if (!nn)
            return false;
        p->nodes = nn;
        p->cap = cap;
    }
    p->nodes[p->n++] = nd;
    return true;
}

/* A NodeDef with name, op, device and inputs (strings copied). */
static Tensorflow__NodeDef *new_node(const char *name, const char *op, const char *device,
                                     const char *const *inputs, int num_inputs)
{
    Tensorflow__NodeDef *d = malloc(sizeof(*d));
    if (!d)
        return NULL;
    tensorflow__node_def__init(d);
    d->name = dup_str(name);
    d->op = dup_str(op);
    d->device = dup_str(device);
    d->input = calloc((size_t)num_inputs + 1, sizeof(char *));
    if (!d->name || !d->op || !d->device || !d->input)
        goto oom;
    for (int i = 0; i < num_inputs; i++) {
        if (!(d->input[i] = dup_str(inputs[i])))
            goto oom;
        d->n_input++;
    }
    return d;
oom:
    protobuf_c_message_free_unpacked(&d->base, NULL);
    return NULL;
}

static bool add_attr(Tensorflow__NodeDef *d, const char *key, sl_attr_value *v)
{
    if (!v)
        return false;
    Tensorflow__NodeDef__AttrEntry **a = realloc(d->attr, sizeof(*a) * (d->n_attr + 1));
    Tensorflow__NodeDef__AttrEntry *e = a ? malloc(sizeof(*e)) : NULL;
    if (a)
        d->attr = a;
    if (!e) {
        sl__attr_value_free(v);
        return false;
    }
    tensorflow__node_def__attr_entry__init(e);
    e->key = dup_str(key);
    e->value = v;
    d->attr[d->n_attr++] = e;
    return e->key != NULL;
}

static bool add_string_attr(Tensorflow__NodeDef *d, const char *key, const char *s)
{
    return add_attr(d, key, sl__attr_value_new_string(s, strlen(s)));
}

/* Copies a string into a fixed buffer, truncating (names are far shorter). */
static void copy_str(char *dst, size_t size, const char *src)
{
    size_t n = strlen(src);
    if (n >= size)
        n = size - 1;
    memcpy(dst, src, n);
    dst[n] = '\0';
}

static sl_code oom(partitioner *p)
{
    return sl_status_set(p->st, SL_RESOURCE_EXHAUSTED, "out of memory partitioning the graph");
}

/* _Send/_Recv pair for tensor `src_tensor` ("name" or "name:k") of `dtype`
 * from device s to device d; returns (in *out, borrowed) the name of the
 * tensor on d.  `key_name`/`k` identify the tensor for deduplication. */
static sl_code send_recv(partitioner *p, const char *src_node, int k, const char *src_tensor,
                         sl_dtype dtype, int s, int d, const char **out)
{
    char key[600];
    snprintf(key, sizeof(key), "%s:%d@%d", src_node, k, d);
    const char *have = sl_strmap_get(&p->made, key);
    if (have) {
        *out = have;
        return SL_OK;
    }
    char send_in[600], name[600], edge[600];
    copy_str(send_in, sizeof(send_in), src_tensor);
    bool compress = p->opts && p->opts->compress_float32 && dtype == SL_DTYPE_FLOAT;
    if (compress) {  /* float32 -> half before the wire (paper 5.5) */
        snprintf(name, sizeof(name), "%s/_to_half_%d_for_%d", src_node, k, d);
        const char *in[] = {src_tensor};
        Tensorflow__NodeDef *c = new_node(name, "Cast", p->devices[s], in, 1);
        if (!c || !add_attr(c, "SrcT", sl__attr_value_new_type(SL_DTYPE_FLOAT)) ||
            !add_attr(c, "DstT", sl__attr_value_new_type(SL_DTYPE_HALF)) || !part_add(&p->parts[s], c)) {
            if (c)
                protobuf_c_message_free_unpacked(&c->base, NULL);
            return oom(p);
        }
        copy_str(send_in, sizeof(send_in), name);
        dtype = SL_DTYPE_HALF;
    }
    snprintf(edge, sizeof(edge), "edge_%d_%s", k, src_node);
    int64_t inc = p->opts ? p->opts->incarnation : 0;

    snprintf(name, sizeof(name), "%s/_send_%d_to_%d", src_node, k, d);
    const char *in[] = {send_in};
    Tensorflow__NodeDef *snd = new_node(name, "_Send", p->devices[s], in, 1);
    if (!snd || !add_attr(snd, "T", sl__attr_value_new_type(dtype)) || !add_string_attr(snd, "tensor_name", edge) ||
        !add_string_attr(snd, "send_device", p->devices[s]) || !add_string_attr(snd, "recv_device", p->devices[d]) ||
        !add_attr(snd, "send_device_incarnation", sl__attr_value_new_int(inc)) || !part_add(&p->parts[s], snd)) {
        if (snd)
            protobuf_c_message_free_unpacked(&snd->base, NULL);
        return oom(p);
    }
    p->parts[s].sends++;

    snprintf(name, sizeof(name), "%s/_recv_%d_on_%d", src_node, k, d);
    Tensorflow__NodeDef *rcv = new_node(name, "_Recv", p->devices[d], NULL, 0);
    if (!rcv || !add_attr(rcv, "tensor_type", sl__attr_value_new_type(dtype)) ||
        !add_string_attr(rcv, "tensor_name", edge) || !add_string_attr(rcv, "send_device", p->devices[s]) ||
        !add_string_attr(rcv, "recv_device", p->devices[d]) ||
        !add_attr(rcv, "send_device_incarnation", sl__attr_value_new_int(inc)) || !part_add(&p->parts[d], rcv)) {
        if (rcv)
            protobuf_c_message_free_unpacked(&rcv->base, NULL);
        return oom(p);
    }
    p->parts[d].recvs++;
    if (compress) {
        char back[640];
        snprintf(back, sizeof(back), "%s/_to_float", name);
        const char *rin[] = {name};
        Tensorflow__NodeDef *c = new_node(back, "Cast", p->devices[d], rin, 1);
        if (!c || !add_attr(c, "SrcT", sl__attr_value_new_type(SL_DTYPE_HALF)) ||
            !add_attr(c, "DstT", sl__attr_value_new_type(SL_DTYPE_FLOAT)) || !part_add(&p->parts[d], c)) {
            if (c)
                protobuf_c_message_free_unpacked(&c->base, NULL);
            return oom(p);
        }
        copy_str(name, sizeof(name), back);
    }
    char *kcopy = sl_strdup(key);
    char *vcopy = sl_strdup(name);
    char **keys = sl_realloc(p->keys, sizeof(char *) * (size_t)(p->num_keys + 2));
    if (keys)
        p->keys = keys;
    if (!kcopy || !vcopy || !keys || !sl_strmap_put(&p->made, kcopy, vcopy)) {
        sl_free(kcopy);
        sl_free(vcopy);
        return oom(p);
    }
    p->keys[p->num_keys++] = kcopy;
    p->keys[p->num_keys++] = vcopy;
    *out = vcopy;
    return SL_OK;
}

/* A control edge c -> (something on d): a token Const on c's device that
 * runs after c, sent to d; returns the receiving node's name. */
static sl_code control_token(partitioner *p, const sl_node *c, int d, const char **out)
{
    int s = p->assign[c->id];
    char token[600], ctl[600];
    snprintf(token, sizeof(token), "%s/_control_token", c->name);
    char key[620];
    snprintf(key, sizeof(key), "%s:0@%d", token, s);  /* the token itself, once per source */
    if (!sl_strmap_get(&p->made, key)) {
        snprintf(ctl, sizeof(ctl), "^%s", c->name);
        const char *in[] = {ctl};
        Tensorflow__NodeDef *k = new_node(token, "Const", p->devices[s], in, 1);
        sl_shape scalar = sl_shape_scalar();
        sl_attr_value *v = NULL;
        if (k) {
            v = malloc(sizeof(*v));
            if (v) {
                tensorflow__attr_value__init(v);
                v->value_case = TENSORFLOW__ATTR_VALUE__VALUE_TENSOR;
                v->tensor = malloc(sizeof(*v->tensor));
                if (v->tensor) {
                    tensorflow__tensor_proto__init(v->tensor);
                    v->tensor->dtype = TENSORFLOW__DATA_TYPE__DT_INT32;
                    v->tensor->tensor_shape = sl__shape_to_proto(&scalar);
                }
                if (!v->tensor || !v->tensor->tensor_shape) {
                    sl__attr_value_free(v);
                    v = NULL;
                }
            }
        }
        if (!k || !add_attr(k, "dtype", sl__attr_value_new_type(SL_DTYPE_INT32)) || !add_attr(k, "value", v) ||
            !part_add(&p->parts[s], k)) {
            if (k)
                protobuf_c_message_free_unpacked(&k->base, NULL);
            return oom(p);
        }
        char *kc = sl_strdup(key);
        char **keys = sl_realloc(p->keys, sizeof(char *) * (size_t)(p->num_keys + 1));
        if (keys)
            p->keys = keys;
        if (!kc || !keys || !sl_strmap_put(&p->made, kc, kc)) {
            sl_free(kc);
            return oom(p);
        }
        p->keys[p->num_keys++] = kc;
    }
    return send_recv(p, token, 0, token, SL_DTYPE_INT32, s, d, out);
}

static sl_code emit_node(partitioner *p, const sl_node *n)
{
    int d = p->assign[n->id];
    Tensorflow__NodeDef *nd = sl__node_export(n);
    if (!nd)
        return oom(p);
    free(nd->device);
    nd->device = dup_str(p->devices[d]);
    if (!nd->device)
        goto err_oom;
    for (int i = 0; i < n->num_inputs; i++) {
        const sl_node *src = n->inputs[i].node;
        int s = p->assign[src->id];
        if (s == d)
            continue;
        const char *name;
        if (send_recv(p, src->name, n->inputs[i].index, nd->input[i], sl_dtype_base(sl_node_output_type(src, n->inputs[i].index)),
                      s, d, &name) != SL_OK)
            goto err;
        char *in = dup_str(name);
        if (!in)
            goto err_oom;
        free(nd->input[i]);
        nd->input[i] = in;
    }
    for (int i = 0; i < n->num_control_inputs; i++) {
        const sl_node *c = n->control_inputs[i];
        if (p->assign[c->id] == d)
            continue;
        const char *name;
        if (control_token(p, c, d, &name) != SL_OK)
            goto err;
        size_t len = strlen(name) + 2;
        char *in = malloc(len);
        if (!in)
            goto err_oom;
        snprintf(in, len, "^%s", name);
        free(nd->input[n->num_inputs + i]);
        nd->input[n->num_inputs + i] = in;
    }
    if (!part_add(&p->parts[d], nd))
        goto err_oom;
    return SL_OK;
err_oom:
    oom(p);
err:
    protobuf_c_message_free_unpacked(&nd->base, NULL);
    return sl_status_code(p->st);
}

static bool reaches(const sl_node *from, const sl_node *to, int *mark, int stamp)
{
    /* iterative DFS over out-edges */
    const sl_node **stack = sl_malloc(sizeof(*stack) * (size_t)(from->graph->num_nodes + 1));
    if (!stack)
        return true;  /* be conservative: no edge added */
    int top = 0;
    stack[top++] = from;
    mark[from->id] = stamp;
    bool found = false;
    while (top && !found) {
        const sl_node *v = stack[--top];
        for (int e = 0; e < v->num_out_edges && !found; e++) {
            const sl_node *w = v->out_edges[e].dst;
            if (w == to)
                found = true;
            else if (mark[w->id] != stamp) {
                mark[w->id] = stamp;
                stack[top++] = w;
            }
        }
    }
    sl_free(stack);
    return found;
}

/* Delays each _Recv until the other data inputs of its consumers exist. */
static sl_code schedule_recvs_late(sl_graph *g)
{
    int *mark = sl_calloc((size_t)g->num_nodes + 1, sizeof(int));
    if (!mark)
        return SL_RESOURCE_EXHAUSTED;
    int stamp = 0;
    for (int i = 0; i < g->num_nodes; i++) {
        sl_node *r = g->nodes[i];
        if (strcmp(r->op->name, "_Recv"))
            continue;
        int num_edges = r->num_out_edges;
        for (int e = 0; e < num_edges; e++) {
            const sl_node *c = r->out_edges[e].dst;
            for (int k = 0; k < c->num_inputs; k++) {
                sl_node *q = c->inputs[k].node;
                if (!q || q == r || !strcmp(q->op->name, "_Recv") || !strcmp(q->op->name, "Const"))
                    continue;
                bool dup = false;
                for (int j = 0; j < r->num_control_inputs; j++)
                    dup |= r->control_inputs[j] == q;
                if (dup || reaches(r, q, mark, ++stamp))
                    continue;  /* q depends on r: an edge q -> r would close a cycle */
                sl_node **ci = sl_realloc(r->control_inputs, sizeof(*ci) * (size_t)(r->num_control_inputs + 1));
                if (!ci) {
                    sl_free(mark);
                    return SL_RESOURCE_EXHAUSTED;
                }
                r->control_inputs = ci;
                ci[r->num_control_inputs++] = q;
                if (!sl__node_add_out_edge(q, -1, r, -1)) {
                    sl_free(mark);
                    return SL_RESOURCE_EXHAUSTED;
                }
            }
        }
    }
    sl_free(mark);
    return SL_OK;
}

void sl_partitions_free(sl_partition *parts, int n)
{
    if (!parts)
        return;
    for (int i = 0; i < n; i++) {
        sl_free(parts[i].device);
        sl_graph_free(parts[i].graph);
    }
    sl_free(parts);
}

sl_partition *sl_partition_graph(const sl_graph *g, const char *const *devices, int num_devices,
                                 const int *assignment, const sl_partition_options *opts, int *num_partitions,
                                 sl_status *st)
{
    partitioner p = {.g = g, .devices = devices, .num_devices = num_devices, .assign = assignment,
                     .opts = opts, .st = st};
    sl_partition *out = NULL;
    int count = 0;
    for (int i = 0; i < g->num_nodes; i++) {
        if (assignment[i] < 0 || assignment[i] >= num_devices) {
            sl_status_set(st, SL_INVALID_ARGUMENT, "node '%s' has no device (assignment %d)", g->nodes[i]->name,
                          assignment[i]);
            return NULL;
        }
    }
    p.parts = sl_calloc((size_t)num_devices, sizeof(part_builder));
    if (!p.parts) {
        oom(&p);
        return NULL;
    }
    for (int i = 0; i < g->num_nodes; i++)
        if (emit_node(&p, g->nodes[i]) != SL_OK)
            goto out;
    out = sl_calloc((size_t)num_devices, sizeof(*out));
    if (!out) {
        oom(&p);
        goto out;
    }
    for (int d = 0; d < num_devices; d++) {
        if (!p.parts[d].n)
            continue;
        Tensorflow__GraphDef gd;
        tensorflow__graph_def__init(&gd);
        gd.node = p.parts[d].nodes;
        gd.n_node = p.parts[d].n;
        sl_partition *part = &out[count];
        part->device = sl_strdup(devices[d]);
        part->graph = sl_graph_new(st);
        part->num_sends = p.parts[d].sends;
        part->num_recvs = p.parts[d].recvs;
        count++;
        if (!part->device || !part->graph) {
            oom(&p);
            goto fail;
        }
        part->graph->producer = g->producer;
        sl_import_options io = {.skip_shape_errors = true};
        if (sl__graph_import_graphdef(part->graph, &gd, &io, st) != SL_OK) {
            sl_status_prefix(st, "partition for '%s'", devices[d]);
            goto fail;
        }
        if (schedule_recvs_late(part->graph) != SL_OK) {
            oom(&p);
            goto fail;
        }
    }
    *num_partitions = count;
    sl_status_clear(st);
    goto out;
fail:
    sl_partitions_free(out, count);
    out = NULL;
out:
    for (int d = 0; d < num_devices; d++) {
        for (size_t k = 0; k < p.parts[d].n; k++)
            protobuf_c_message_free_unpacked(&p.parts[d].nodes[k]->base, NULL);
        free(p.parts[d].nodes);
    }
    sl_free(p.parts);
    for (int k = 0; k < p.num_keys; k++)
        sl_free(p.keys[k]);
    sl_free(p.keys);
    sl_strmap_release(&p.made);
    return out;
}
