/* Graph optimizations run on a plan before it becomes an executor (paper
 * 5.1): constant folding and common subexpression elimination.  Pruning of
 * what they leave dead is sl__plan_prune() (plan.c).
 *
 * Neither pass touches stateful ops (variables, queues, random numbers),
 * control-flow ops or reference edges: folding or merging those would
 * change what a step does, not only how fast. */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "graph-private.h"
#include "plan.h"
#include "sluice/alloc.h"
#include "sluice/kernel.h"

#define FOLD_MAX_BYTES ((size_t)16 << 20)

static bool touches_refs_or_resources(const sl_node *n)
{
    for (int i = 0; i < sl_node_num_inputs(n); i++) {
        sl_dtype t = sl_node_input_type(n, i);
        if (sl_dtype_is_ref(t) || t == SL_DTYPE_RESOURCE || t == SL_DTYPE_VARIANT)
            return true;
    }
    for (int i = 0; i < sl_node_num_outputs(n); i++) {
        sl_dtype t = sl_node_output_type(n, i);
        if (sl_dtype_is_ref(t) || t == SL_DTYPE_RESOURCE || t == SL_DTYPE_VARIANT)
            return true;
    }
    return false;
}

static bool is_pure(const sl_node *n)
{
    const sl_op_def *op = sl_node_op_def(n);
    if (op->flags & (SL_OP_STATEFUL | SL_OP_CONTROL_FLOW))
        return false;
    const char *t = sl_node_op_type(n);
    if (!strcmp(t, "Placeholder") || !strcmp(t, "PlaceholderV2") || !strcmp(t, "PlaceholderWithDefault") ||
        t[0] == '_')
        return false;
    return !touches_refs_or_resources(n);
}

static bool is_root_const(const sl__plan_node *pn)
{
    return !pn->removed && pn->num_controls == 0 &&
           (pn->folded || !strcmp(sl_node_op_type(pn->node), "Const"));
}

/* Nodes in an order where inputs come first, back edges (loops) ignored:
 * Kahn's algorithm, then whatever sits on cycles. */
static int *topo_order(const sl__plan *plan)
{
    int n = plan->num_nodes;
    int *indeg = sl_calloc((size_t)n + 1, sizeof(int));
    int *order = sl_malloc(((size_t)n + 1) * sizeof(int));
    int *start = sl_calloc((size_t)n + 2, sizeof(int));
    int *succ = NULL;
    bool *placed = sl_calloc((size_t)n + 1, sizeof(bool));
    if (!indeg || !order || !start || !placed)
        goto err;
    int ne = 0;
    for (int i = 0; i < n; i++) {
        const sl__plan_node *pn = &plan->nodes[i];
        for (int k = 0; k < pn->num_inputs; k++)
            if (pn->inputs[k].src >= 0)
                start[pn->inputs[k].src + 1]++, ne++;
        for (int k = 0; k < pn->num_controls; k++)
            start[pn->controls[k] + 1]++, ne++;
    }
    for (int i = 0; i < n; i++)
        start[i + 1] += start[i];
    succ = sl_malloc(((size_t)ne + 1) * sizeof(int));
    int *fill = sl_calloc((size_t)n + 1, sizeof(int));
    if (!succ || !fill) {
        sl_free(fill);
        goto err;
    }
    for (int i = 0; i < n; i++) {
        const sl__plan_node *pn = &plan->nodes[i];
        for (int k = 0; k < pn->num_inputs; k++)
            if (pn->inputs[k].src >= 0) {
                int s = pn->inputs[k].src;
                succ[start[s] + fill[s]++] = i;
                indeg[i]++;
            }
        for (int k = 0; k < pn->num_controls; k++) {
            int s = pn->controls[k];
            succ[start[s] + fill[s]++] = i;
            indeg[i]++;
        }
    }
    sl_free(fill);
    int head = 0, tail = 0;
    for (int i = 0; i < n; i++)
        if (!indeg[i])
            order[tail++] = i, placed[i] = true;
    while (head < tail) {
        int v = order[head++];
        for (int k = start[v]; k < start[v + 1]; k++)
            if (--indeg[succ[k]] == 0 && !placed[succ[k]])
                order[tail++] = succ[k], placed[succ[k]] = true;
    }
    for (int i = 0; i < n; i++)
        if (!placed[i])
            order[tail++] = i;
    sl_free(indeg);
    sl_free(start);
    sl_free(succ);
    sl_free(placed);
    return order;
err:
    sl_free(indeg);
    sl_free(order);
    sl_free(start);
    sl_free(succ);
    sl_free(placed);
    return NULL;
}

int sl__plan_fold_constants(sl__plan *plan, sl_status *st)
{
    int *order = topo_order(plan);
    if (!order) {
        sl_status_set(st, SL_RESOURCE_EXHAUSTED, "out of memory folding constants");
        return -1;
    }
    sl_status *kst = sl_status_new();
    int folded = 0;
    for (int oi = 0; oi < plan->num_nodes && kst; oi++) {
        sl__plan_node *pn = &plan->nodes[order[oi]];
        if (pn->removed || pn->folded || pn->num_inputs == 0 || pn->num_controls || !is_pure(pn->node))
            continue;
        const sl_tensor *ins[SL_OP_MAX_ARGS * 4];
        if (pn->num_inputs > (int)(sizeof(ins) / sizeof(ins[0])))
            continue;
        bool all_const = true;
        for (int i = 0; i < pn->num_inputs && all_const; i++) {
            if (pn->inputs[i].src < 0 || !is_root_const(&plan->nodes[pn->inputs[i].src])) {
                all_const = false;
                break;
            }
            const sl__plan_node *src = &plan->nodes[pn->inputs[i].src];
            if (src->folded)
                ins[i] = src->folded[pn->inputs[i].out];
            else if (!sl_node_attr_tensor(src->node, "value", &ins[i]))
                all_const = false;
        }
        if (!all_const)
            continue;
        int no = sl_node_num_outputs(pn->node);
        sl_tensor **outs = sl_calloc((size_t)no + 1, sizeof(*outs));
        if (!outs)
            break;
        if (sl_kernel_run_node(pn->node, ins, outs, NULL, kst) != SL_OK) {
            sl_free(outs);  /* left for the step to run (and report) */
            continue;
        }
        size_t bytes = 0;
        for (int k = 0; k < no; k++)
            bytes += sl_tensor_byte_size(outs[k]);
        if (bytes > FOLD_MAX_BYTES) {
            for (int k = 0; k < no; k++)
                sl_tensor_unref(outs[k]);
            sl_free(outs);
            continue;
        }
        pn->folded = outs;
        folded++;
    }
    sl_status_free(kst);
    sl_free(order);
    return folded;
}

/* ---- CSE -------------------------------------------------------------------- */

static uint64_t mix(uint64_t h, uint64_t v)
{
    h ^= v + 0x9e3779b97f4a7c15ULL + (h << 6) + (h >> 2);
    return h;
}

static uint64_t hash_bytes(uint64_t h, const void *p, size_t n)
{
    const unsigned char *b = p;
    for (size_t i = 0; i < n; i++)
        h = (h ^ b[i]) * 1099511628211ULL;
    return h;
}

static void sorted_inputs(const sl__plan_node *pn, sl__plan_input *out)
{
    memcpy(out, pn->inputs, (size_t)pn->num_inputs * sizeof(*out));
    if (pn->num_inputs == 2 && (sl_node_op_def(pn->node)->flags & SL_OP_COMMUTATIVE)) {
        if (out[1].src < out[0].src || (out[1].src == out[0].src && out[1].out < out[0].out)) {
            sl__plan_input t = out[0];
            out[0] = out[1];
            out[1] = t;
        }
    }
}

static int cmp_int(const void *a, const void *b)
{
    return *(const int *)a - *(const int *)b;
}

static bool attrs_equal(const sl_node *a, const sl_node *b)
{
    if (a->num_attrs != b->num_attrs)
        return false;
    for (int i = 0; i < a->num_attrs; i++) {
        if (strcmp(a->attrs[i].name, b->attrs[i].name))
            return false;
        const ProtobufCMessage *ma = &a->attrs[i].value->base, *mb = &b->attrs[i].value->base;
        size_t la = protobuf_c_message_get_packed_size(ma), lb = protobuf_c_message_get_packed_size(mb);
        if (la != lb)
            return false;
        if (la == 0)
            continue;
        uint8_t sa[256], sb[256];
        uint8_t *pa = la <= sizeof(sa) ? sa : sl_malloc(la);
        uint8_t *pb = lb <= sizeof(sb) ? sb : sl_malloc(lb);
        bool eq = pa && pb;
        if (eq) {
            protobuf_c_message_pack(ma, pa);
            protobuf_c_message_pack(mb, pb);
            eq = !memcmp(pa, pb, la);
        }
        if (pa != sa)
            sl_free(pa);
        if (pb != sb)
            sl_free(pb);
        if (!eq)
            return false;
    }
    return true;
}

static bool equivalent(const sl__plan_node *a, const sl__plan_node *b)
{
    if (a->node->op != b->node->op || strcmp(sl_node_device(a->node), sl_node_device(b->node)) ||
        a->num_inputs != b->num_inputs || a->num_controls != b->num_controls)
        return false;
    sl__plan_input ia[64], ib[64];
    if (a->num_inputs > 64)
        return false;
    sorted_inputs(a, ia);
    sorted_inputs(b, ib);
    for (int i = 0; i < a->num_inputs; i++)
        if (ia[i].src != ib[i].src || ia[i].out != ib[i].out)
            return false;
    for (int i = 0; i < a->num_controls; i++)
        if (a->controls[i] != b->controls[i])
            return false;  /* both sorted by the caller */
    return attrs_equal(a->node, b->node);
}

static uint64_t node_hash(const sl__plan_node *pn)
{
    uint64_t h = hash_bytes(1469598103934665603ULL, sl_node_op_type(pn->node), strlen(sl_node_op_type(pn->node)));
    sl__plan_input in[64];
    int n = pn->num_inputs > 64 ? 64 : pn->num_inputs;
    if (pn->num_inputs <= 64)
        sorted_inputs(pn, in);
    for (int i = 0; i < n && pn->num_inputs <= 64; i++)
        h = mix(mix(h, (uint64_t)(int64_t)in[i].src), (uint64_t)in[i].out);
    for (int i = 0; i < pn->num_controls; i++)
        h = mix(h, (uint64_t)pn->controls[i]);
    if (pn->node->op && !strcmp(sl_node_op_type(pn->node), "Const")) {
        const sl_tensor *t;
        if (sl_node_attr_tensor(pn->node, "value", &t) && sl_tensor_dtype(t) != SL_DTYPE_STRING)
            h = hash_bytes(h, sl_tensor_data(t), sl_tensor_byte_size(t) < 64 ? sl_tensor_byte_size(t) : 64);
    }
    return h;
}

int sl__plan_cse(sl__plan *plan, sl_status *st)
{
    int n = plan->num_nodes;
    int *order = topo_order(plan);
    int *canon = sl_malloc(((size_t)n + 1) * sizeof(int));
    size_t cap = 16;
    while (cap < (size_t)n * 2)
        cap *= 2;
    int *table = sl_malloc(cap * sizeof(int));
    uint64_t *hashes = sl_malloc(cap * sizeof(uint64_t));
    if (!order || !canon || !table || !hashes) {
        sl_free(order);
        sl_free(canon);
        sl_free(table);
        sl_free(hashes);
        sl_status_set(st, SL_RESOURCE_EXHAUSTED, "out of memory eliminating common subexpressions");
        return -1;
    }
    for (int i = 0; i < n; i++)
        canon[i] = i;
    for (size_t i = 0; i < cap; i++)
        table[i] = -1;
    int merged = 0;
    for (int oi = 0; oi < n; oi++) {
        int v = order[oi];
        sl__plan_node *pn = &plan->nodes[v];
        /* rewrite inputs to their canonical nodes first */
        for (int i = 0; i < pn->num_inputs; i++)
            if (pn->inputs[i].src >= 0)
                pn->inputs[i].src = canon[pn->inputs[i].src];
        for (int i = 0; i < pn->num_controls; i++)
            pn->controls[i] = canon[pn->controls[i]];
        qsort(pn->controls, (size_t)pn->num_controls, sizeof(int), cmp_int);
        if (pn->removed || pn->folded || !is_pure(pn->node))
            continue;
        uint64_t h = node_hash(pn);
        size_t slot = h & (cap - 1);
        bool found = false;
        while (table[slot] >= 0) {
            if (hashes[slot] == h && equivalent(&plan->nodes[table[slot]], pn)) {
                canon[v] = table[slot];
                pn->removed = true;
                merged++;
                found = true;
                break;
            }
            slot = (slot + 1) & (cap - 1);
        }
        if (!found) {
            table[slot] = v;
            hashes[slot] = h;
        }
    }
    /* back edges and anything visited before its producer */
    for (int v = 0; v < n; v++) {
        sl__plan_node *pn = &plan->nodes[v];
        for (int i = 0; i < pn->num_inputs; i++)
            if (pn->inputs[i].src >= 0)
                pn->inputs[i].src = canon[pn->inputs[i].src];
        for (int i = 0; i < pn->num_controls; i++)
            pn->controls[i] = canon[pn->controls[i]];
    }
    for (int i = 0; i < plan->num_fetches; i++)
        if (plan->fetches[i].src >= 0)
            plan->fetches[i].src = canon[plan->fetches[i].src];
    for (int i = 0; i < plan->num_targets; i++)
        plan->targets[i] = canon[plan->targets[i]];
    sl_free(order);
    sl_free(canon);
    sl_free(table);
    sl_free(hashes);
    return merged;
}

sl_code sl__plan_optimize(sl__plan *plan, bool cse, bool fold, bool prune, sl__pass_counts *counts,
                          sl_status *st)
{
    int n;
    if (cse) {
        if ((n = sl__plan_cse(plan, st)) < 0)
            return sl_status_code(st);
        counts->merged += n;
    }
    if (fold) {
        if ((n = sl__plan_fold_constants(plan, st)) < 0)
            return sl_status_code(st);
        counts->folded += n;
    }
    if (prune) {
        if ((n = sl__plan_prune(plan, st)) < 0)
            return sl_status_code(st);
        counts->pruned += n;
    }
    return SL_OK;
}
