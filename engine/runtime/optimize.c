/* Graph optimizations run on a plan before it becomes an executor (paper
 * 5.1): constant folding and common subexpression elimination.  Pruning of
 * what they leave dead is sl__plan_prune() (plan.c).
 *
 * Neither pass touches stateful ops (variables, queues, random numbers),
 * control-flow ops or reference edges: folding or merging those would
 * change what a step does, not only how fast. */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
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

/* ---- Conv2D / MatMul + BiasAdd (+ Relu) fusion ------------------------------------ */

static bool is_nhwc(const sl_node *n)
{
    const char *f;
    size_t len;
    return !sl_node_attr_string(n, "data_format", &f, &len) || (len == 4 && !memcmp(f, "NHWC", 4));
}

static bool op_is(const sl__plan_node *pn, const char *op)
{
    return !pn->removed && !pn->folded && !strcmp(sl_node_op_type(pn->node), op);
}

static const sl_node *aux_placeholder(sl_graph *g, sl_dtype t, int id, int k, sl_status *st)
{
    char name[64];
    snprintf(name, sizeof(name), "_fuse%d_in%d", id, k);
    sl_node_builder *b = sl_node_builder_new(g, "Placeholder", name);
    sl_node_builder_set_attr_type(b, "dtype", t);
    return sl_node_builder_finish(b, st);
}

/* The _FusedConv2D or _FusedMatMul node standing for conv (a Conv2D or a
 * MatMul) + BiasAdd (+ Relu when relu, + the MaxPool pool when not NULL),
 * named after conv: the product takes nearly all of the chain's time, and
 * step stats, traces and the studio's op times show it under that name. */
static const sl_node *make_fused(sl_graph *g, const sl_node *conv, bool relu, const sl_node *pool, int id,
                                 sl_status *st)
{
    sl_dtype t;
    if (!sl_node_attr_type(conv, "T", &t))
        return NULL;
    const sl_node *in[3];
    for (int k = 0; k < 3; k++)
        if (!(in[k] = aux_placeholder(g, t, id, k, st)))
            return NULL;
    bool matmul = !strcmp(sl_node_op_type(conv), "MatMul");
    sl_node_builder *b = sl_node_builder_new(g, matmul ? "_FusedMatMul" : "_FusedConv2D", sl_node_name(conv));
    for (int k = 0; k < 3; k++)
        sl_node_builder_add_input(b, (sl_output){(sl_node *)in[k], 0});
    sl_node_builder_set_attr_type(b, "T", t);
    sl_node_builder_set_attr_bool(b, "relu", relu);
    if (matmul) {
        bool ta = false, tb = false;
        sl_node_attr_bool(conv, "transpose_a", &ta);
        sl_node_attr_bool(conv, "transpose_b", &tb);
        sl_node_builder_set_attr_bool(b, "transpose_a", ta);
        sl_node_builder_set_attr_bool(b, "transpose_b", tb);
        return sl_node_builder_finish(b, st);
    }
    const int64_t *l;
    int nl;
    if (sl_node_attr_int_list(conv, "strides", &l, &nl))
        sl_node_builder_set_attr_int_list(b, "strides", l, nl);
    if (sl_node_attr_int_list(conv, "dilations", &l, &nl))
        sl_node_builder_set_attr_int_list(b, "dilations", l, nl);
    if (sl_node_attr_int_list(conv, "explicit_paddings", &l, &nl))
        sl_node_builder_set_attr_int_list(b, "explicit_paddings", l, nl);
    const char *p;
    size_t len;
    if (sl_node_attr_string(conv, "padding", &p, &len))
        sl_node_builder_set_attr_string(b, "padding", p, len);
    sl_node_builder_set_attr_string(b, "data_format", "NHWC", 4);
    if (pool) {
        if (sl_node_attr_int_list(pool, "ksize", &l, &nl))
            sl_node_builder_set_attr_int_list(b, "pool_ksize", l, nl);
        if (sl_node_attr_int_list(pool, "strides", &l, &nl))
            sl_node_builder_set_attr_int_list(b, "pool_strides", l, nl);
        if (sl_node_attr_string(pool, "padding", &p, &len))
            sl_node_builder_set_attr_string(b, "pool_padding", p, len);
    }
    return sl_node_builder_finish(b, st);
}

int sl__plan_fuse(sl__plan *plan, sl_status *st)
{
    int n = plan->num_nodes, fused = 0;
    /* per node: readers of its outputs (data edges), and whether a fetch,
     * a target or a control edge names it */
    int *readers = sl_calloc((size_t)n + 1, sizeof(int)), *reader = sl_calloc((size_t)n + 1, sizeof(int));
    bool *pinned = sl_calloc((size_t)n + 1, sizeof(bool)), *named = sl_calloc((size_t)n + 1, sizeof(bool));
    if (!readers || !reader || !pinned || !named) {
        sl_status_set(st, SL_RESOURCE_EXHAUSTED, "out of memory fusing chains");
        fused = -1;
        goto out;
    }
    for (int i = 0; i < n; i++) {
        const sl__plan_node *pn = &plan->nodes[i];
        if (pn->removed)
            continue;
        for (int k = 0; k < pn->num_inputs; k++)
            if (pn->inputs[k].src >= 0) {
                readers[pn->inputs[k].src]++;
                reader[pn->inputs[k].src] = i;
            }
        for (int k = 0; k < pn->num_controls; k++)
            pinned[pn->controls[k]] = named[pn->controls[k]] = true;
    }
    /* pinned: its output is needed as it is; named: it must stay a node */
    for (int f = 0; f < plan->num_fetches; f++)
        if (plan->fetches[f].src >= 0)
            pinned[plan->fetches[f].src] = true;
    for (int t = 0; t < plan->num_targets; t++)
        pinned[plan->targets[t]] = named[plan->targets[t]] = true;
    for (int c = 0; c < n; c++) {
        sl__plan_node *pc = &plan->nodes[c];
        /* a rank-2 BiasAdd adds along the last dimension in either format */
        bool matmul = op_is(pc, "MatMul");
        if (!(matmul || (op_is(pc, "Conv2D") && is_nhwc(pc->node))) || pinned[c] || readers[c] != 1)
            continue;
        sl_dtype t = sl_dtype_base(sl_node_output_type(pc->node, 0));
        if (t != SL_DTYPE_FLOAT && t != SL_DTYPE_DOUBLE)
            continue;
        int b = reader[c];
        sl__plan_node *pb = &plan->nodes[b];
        if (!op_is(pb, "BiasAdd") || !(matmul || is_nhwc(pb->node)) || pb->num_controls || named[b] ||
            pb->inputs[0].src != c || pb->inputs[1].src == c)
            continue;
        int last = b, r = reader[b];
        bool relu = !pinned[b] && readers[b] == 1 && op_is(&plan->nodes[r], "Relu") &&
                    plan->nodes[r].num_controls == 0 && !named[r];
        if (relu)
            last = r;
        /* a max pool reading only the chain's end (inference: training's
         * ReluGrad and MaxPoolGrad read the Relu's output too) */
        int m = reader[last];
        const sl_node *pool = NULL;
        if (!matmul && !pinned[last] && readers[last] == 1 && op_is(&plan->nodes[m], "MaxPool") &&
            plan->nodes[m].num_controls == 0 && !named[m] && is_nhwc(plan->nodes[m].node) &&
            sl_node_attr_list_size(plan->nodes[m].node, "ksize") == 4 &&
            sl_node_attr_list_size(plan->nodes[m].node, "strides") == 4) {
            pool = plan->nodes[m].node;
            last = m;
        }
        if (!plan->aux && !(plan->aux = sl_graph_new(st))) {
            fused = -1;
            goto out;
        }
        const sl_node *node = make_fused(plan->aux, pc->node, relu, pool, fused, st);
        if (!node) {
            sl_status_clear(st);
            continue;  /* an attr the builder refused: leave the chain as it is */
        }
        sl__plan_input *in = sl_realloc(pc->inputs, 3 * sizeof(*in));
        if (!in) {
            sl_status_set(st, SL_RESOURCE_EXHAUSTED, "out of memory fusing chains");
            fused = -1;
            goto out;
        }
        in[2] = pb->inputs[1];
        pc->inputs = in;
        pc->num_inputs = 3;
        pc->node = node;
        pb->removed = true;
        if (relu)
            plan->nodes[r].removed = true;
        if (pool)
            plan->nodes[m].removed = true;
        /* readers of the chain's last output read the fused node's */
        for (int i = 0; i < n; i++) {
            sl__plan_node *pn = &plan->nodes[i];
            for (int k = 0; k < pn->num_inputs; k++)
                if (pn->inputs[k].src == last)
                    pn->inputs[k] = (sl__plan_input){c, 0};
        }
        for (int f = 0; f < plan->num_fetches; f++)
            if (plan->fetches[f].src == last)
                plan->fetches[f] = (sl__plan_input){c, 0};
        /* counts of the chain's end move to c */
        readers[c] = readers[last];
        reader[c] = reader[last];
        pinned[c] = pinned[last];
        named[c] = named[last];
        fused++;
    }
out:
    sl_free(readers);
    sl_free(reader);
    sl_free(pinned);
    sl_free(named);
    return fused;
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
