/* Placement (paper 3.2.1): colocation groups by union-find (reference and
 * resource inputs sit with their producer; "_class" = "loc:@name"), each
 * group's constraints merged, the feasible devices filtered by kernel
 * availability, then a greedy pass in topological order that puts each
 * unplaced group where the cost model says its first node finishes
 * earliest, counting transfer time for inputs on other devices. */
#include "config.h"

#include <float.h>
#include <stdio.h>
#include <string.h>

#include "graph-private.h"
#include "sluice/alloc.h"
#include "sluice/device.h"
#include "sluice/kernel.h"

typedef struct placer {
    const sl_graph *g;
    int n;
    const char *const *dev_names;
    sl_device_name *devs;
    int num_devs;
    int *parent;           /* union-find */
    sl_device_name *want;  /* merged constraint per group root */
    int *why;              /* per root: a node whose constraint is in want (for messages) */
    bool *feasible;        /* [root * num_devs + d] */
    int *assign;           /* per root: device or -1 */
    sl_status *st;
} placer;

static int find(placer *p, int x)
{
    while (p->parent[x] != x) {
        p->parent[x] = p->parent[p->parent[x]];
        x = p->parent[x];
    }
    return x;
}

static void unite(placer *p, int a, int b)
{
    a = find(p, a);
    b = find(p, b);
    if (a != b)
        p->parent[a > b ? a : b] = a < b ? a : b;  /* the earlier node is the root */
}

static sl_code colocate(placer *p)
{
    for (int i = 0; i < p->n; i++) {
        const sl_node *node = p->g->nodes[i];
        for (int k = 0; k < node->num_inputs; k++) {
            sl_dtype t = node->input_types[k];
            if (node->inputs[k].node && (sl_dtype_is_ref(t) || t == SL_DTYPE_RESOURCE))
                unite(p, i, node->inputs[k].node->id);
        }
        const sl_node_attr *cls = sl__node_find_attr(node, "_class");
        if (!cls || cls->value->value_case != TENSORFLOW__ATTR_VALUE__VALUE_LIST)
            continue;
        for (size_t k = 0; k < cls->value->list->n_s; k++) {
            const ProtobufCBinaryData *s = &cls->value->list->s[k];
            if (s->len <= 5 || memcmp(s->data, "loc:@", 5))
                continue;
            char name[512];
            size_t len = s->len - 5 < sizeof(name) - 1 ? s->len - 5 : sizeof(name) - 1;
            memcpy(name, s->data + 5, len);
            name[len] = '\0';
            const sl_node *other = sl_graph_find_node(p->g, name);
            if (!other)
                return sl_status_set(p->st, SL_INVALID_ARGUMENT,
                                     "node '%s' asks to be colocated with '%s', which is not in the graph",
                                     node->name, name);
            unite(p, i, other->id);
        }
    }
    return SL_OK;
}

/* Merges every member's constraint into its root's. */
static sl_code merge_constraints(placer *p)
{
    for (int i = 0; i < p->n; i++)
        p->why[i] = -1;
    for (int i = 0; i < p->n; i++) {
        const sl_node *node = p->g->nodes[i];
        if (!node->device || !*node->device)
            continue;
        sl_device_name c;
        if (sl_device_name_parse(node->device, &c, p->st) != SL_OK) {
            sl_status_prefix(p->st, "node '%s'", node->name);
            return sl_status_code(p->st);
        }
        int r = find(p, i);
        if (sl_device_name_merge(&p->want[r], &c, &p->want[r], p->st) != SL_OK) {
            sl_status_prefix(p->st, "nodes '%s' and '%s' must be on the same device (colocated)",
                             p->g->nodes[p->why[r]]->name, node->name);
            return sl_status_code(p->st);
        }
        if (p->why[r] < 0)
            p->why[r] = i;
    }
    return SL_OK;
}

static void list_devices(const placer *p, char *buf, size_t size)
{
    size_t pos = 0;
    buf[0] = '\0';
    for (int d = 0; d < p->num_devs && pos < size; d++)
        pos += (size_t)snprintf(buf + pos, size - pos, "%s%s", d ? ", " : "", p->dev_names[d]);
}

static sl_code filter_devices(placer *p)
{
    for (int i = 0; i < p->n; i++) {
        int r = find(p, i);
        if (r != i)
            continue;
        int count = 0;
        for (int d = 0; d < p->num_devs; d++) {
            bool ok = sl_device_name_matches(&p->devs[d], &p->want[r]);
            p->feasible[r * p->num_devs + d] = ok;
            count += ok;
        }
        if (!count) {
            char want[SL_DEVICE_NAME_MAX], all[1024];
            list_devices(p, all, sizeof(all));
            return sl_status_set(p->st, SL_INVALID_ARGUMENT,
                                 "cannot place node '%s': its device constraint '%s' matches none of the devices (%s)",
                                 p->g->nodes[p->why[r] >= 0 ? p->why[r] : r]->name,
                                 sl_device_name_format(&p->want[r], want, sizeof(want)), all);
        }
    }
    /* kernels: every member needs one on the device's type, for its own
     * attrs (a GPU kernel may exist for float but not for int32) */
    sl_status *scratch = sl_status_new();
    if (!scratch)
        return sl_status_set(p->st, SL_RESOURCE_EXHAUSTED, "out of memory placing the graph");
    for (int i = 0; i < p->n; i++) {
        int r = find(p, i);
        const sl_node *node = p->g->nodes[i];
        int count = 0;
        for (int d = 0; d < p->num_devs; d++) {
            bool *f = &p->feasible[r * p->num_devs + d];
            if (*f && !sl_kernel_lookup(node, p->devs[d].type, scratch))
                *f = false;
            count += *f;
        }
        if (!count) {
            sl_status_free(scratch);
            char want[SL_DEVICE_NAME_MAX];
            if (r != i)
                return sl_status_set(p->st, SL_INVALID_ARGUMENT,
                                     "cannot place node '%s' (%s): no device allowed for it and its colocation group (with '%s', constraint '%s') has a kernel for %s",
                                     node->name, node->op->name, p->g->nodes[r]->name,
                                     sl_device_name_format(&p->want[r], want, sizeof(want)), node->op->name);
            return sl_status_set(p->st, SL_INVALID_ARGUMENT,
                                 "cannot place node '%s': no kernel for %s on any device matching '%s'",
                                 node->name, node->op->name, sl_device_name_format(&p->want[r], want, sizeof(want)));
        }
    }
    sl_status_free(scratch);
    return SL_OK;
}

/* Estimated bytes of a node's outputs (unknown dims count as 1024). */
static double output_bytes(const sl_node *n)
{
    double total = 0;
    for (int i = 0; i < n->num_outputs; i++) {
        const sl_shape *s = &n->output_shapes[i];
        double e = 1;
        if (s->rank < 0)
            e = 1024;
        for (int k = 0; k < s->rank; k++)
            e *= s->dims[k] >= 0 ? (double)s->dims[k] : 1024;
        size_t sz = sl_dtype_size(n->output_types[i]);
        total += e * (double)(sz ? sz : 8);
    }
    return total;
}

static double node_cost(const sl_node *n, const sl_placement_options *o)
{
    if (o && o->measured_cost) {
        double c = o->measured_cost(n, o->measured_cost_arg);
        if (c >= 0)
            return c;
    }
    /* a memory-bound guess: one microsecond plus 1 GB/s over the outputs */
    return 1.0 + output_bytes(n) / 1000.0;
}

/* Topological order over data and control edges, skipping loop back
 * edges (NextIteration -> Merge). */
static int *topo_order(const sl_graph *g)
{
    int n = g->num_nodes;
    int *pending = sl_calloc((size_t)n + 1, sizeof(int));
    int *order = sl_malloc(sizeof(int) * ((size_t)n + 1));
    if (!pending || !order) {
        sl_free(pending);
        sl_free(order);
        return NULL;
    }
    for (int i = 0; i < n; i++)
        for (int e = 0; e < g->nodes[i]->num_out_edges; e++)
            if (strcmp(g->nodes[i]->op->name, "NextIteration"))
                pending[g->nodes[i]->out_edges[e].dst->id]++;
    int head = 0, tail = 0;
    for (int i = 0; i < n; i++)
        if (!pending[i])
            order[tail++] = i;
    while (head < tail) {
        const sl_node *v = g->nodes[order[head++]];
        if (!strcmp(v->op->name, "NextIteration"))
            continue;
        for (int e = 0; e < v->num_out_edges; e++)
            if (--pending[v->out_edges[e].dst->id] == 0)
                order[tail++] = v->out_edges[e].dst->id;
    }
    /* nodes left (should not happen for imported graphs) go last */
    for (int i = 0; i < n && tail < n; i++)
        if (pending[i] > 0)
            order[tail++] = i, pending[i] = 0;
    sl_free(pending);
    return order;
}

static sl_code greedy(placer *p, const sl_placement_options *o, int *assignment)
{
    int *order = topo_order(p->g);
    double *finish = sl_calloc((size_t)p->n + 1, sizeof(double));
    double *dev_free = sl_calloc((size_t)p->num_devs + 1, sizeof(double));
    if (!order || !finish || !dev_free) {
        sl_free(order);
        sl_free(finish);
        sl_free(dev_free);
        return sl_status_set(p->st, SL_RESOURCE_EXHAUSTED, "out of memory placing the graph");
    }
    double bw = o && o->transfer_bytes_per_us > 0 ? o->transfer_bytes_per_us : 1000.0;
    for (int k = 0; k < p->n; k++) {
        int i = order[k], r = find(p, i);
        const sl_node *node = p->g->nodes[i];
        double cost = node_cost(node, o);
        int best = -1;
        double best_end = DBL_MAX;
        for (int d = 0; d < p->num_devs; d++) {
            /* a group goes where its first node went */
            if (!p->feasible[r * p->num_devs + d] || (p->assign[r] >= 0 && d != p->assign[r]))
                continue;
            double start = dev_free[d];
            for (int in = 0; in < node->num_inputs; in++) {
                const sl_node *src = node->inputs[in].node;
                if (!src || assignment[src->id] < 0)
                    continue;
                double ready = finish[src->id];
                if (assignment[src->id] != d)
                    ready += output_bytes(src) / bw;
                if (ready > start)
                    start = ready;
            }
            double end = start + cost;
            if (end < best_end) {
                best_end = end;
                best = d;
            }
            if (o && o->simple)
                break;  /* first feasible device */
        }
        if (p->assign[r] < 0)
            p->assign[r] = best;
        assignment[i] = p->assign[r];
        finish[i] = best_end;
        dev_free[assignment[i]] = best_end;
    }
    sl_free(order);
    sl_free(finish);
    sl_free(dev_free);
    return SL_OK;
}

sl_code sl_place(const sl_graph *g, const char *const *devices, int num_devices,
                 const sl_placement_options *opts, int *assignment, sl_status *st)
{
    if (num_devices <= 0)
        return sl_status_set(st, SL_INVALID_ARGUMENT, "no devices to place the graph on");
    placer p = {.g = g, .n = g->num_nodes, .dev_names = devices, .num_devs = num_devices, .st = st};
    sl_code rc = SL_OK;
    p.devs = sl_calloc((size_t)num_devices, sizeof(*p.devs));
    p.parent = sl_calloc((size_t)p.n + 1, sizeof(int));
    p.want = sl_calloc((size_t)p.n + 1, sizeof(*p.want));
    p.why = sl_calloc((size_t)p.n + 1, sizeof(int));
    p.feasible = sl_calloc(((size_t)p.n + 1) * (size_t)num_devices, sizeof(bool));
    p.assign = sl_calloc((size_t)p.n + 1, sizeof(int));
    if (!p.devs || !p.parent || !p.want || !p.why || !p.feasible || !p.assign) {
        rc = sl_status_set(st, SL_RESOURCE_EXHAUSTED, "out of memory placing the graph");
        goto out;
    }
    for (int d = 0; d < num_devices; d++) {
        if ((rc = sl_device_name_parse(devices[d], &p.devs[d], st)) != SL_OK)
            goto out;
        if (!p.devs[d].has_type || !p.devs[d].has_id) {
            rc = sl_status_set(st, SL_INVALID_ARGUMENT, "device '%s' is not a full device name (type and index needed)",
                               devices[d]);
            goto out;
        }
    }
    for (int i = 0; i < p.n; i++) {
        p.parent[i] = i;
        p.assign[i] = -1;
        assignment[i] = -1;
    }
    if ((rc = colocate(&p)) != SL_OK || (rc = merge_constraints(&p)) != SL_OK ||
        (rc = filter_devices(&p)) != SL_OK || (rc = greedy(&p, opts, assignment)) != SL_OK)
        goto out;
    sl_status_clear(st);
out:
    sl_free(p.devs);
    sl_free(p.parent);
    sl_free(p.want);
    sl_free(p.why);
    sl_free(p.feasible);
    sl_free(p.assign);
    return rc;
}
