/* Loop frames of a forward graph for the gradient walk (see cf-frames.h). */
#include "config.h"

#include "cf-frames.h"

#include <stdio.h>
#include <string.h>

#include "sluice/alloc.h"

static bool op_is(const sl_node *n, const char *a, const char *b)
{
    const char *op = sl_node_op_type(n);
    return !strcmp(op, a) || (b && !strcmp(op, b));
}

static bool is_enter(const sl_node *n) { return op_is(n, "Enter", "RefEnter"); }
static bool is_exit(const sl_node *n) { return op_is(n, "Exit", "RefExit"); }
static bool is_next(const sl_node *n) { return op_is(n, "NextIteration", "RefNextIteration"); }
static bool is_merge(const sl_node *n) { return op_is(n, "Merge", "RefMerge"); }
static bool is_switch(const sl_node *n) { return op_is(n, "Switch", "RefSwitch"); }

bool sl__cf_is_const_enter(const sl_node *n)
{
    bool c = false;
    return is_enter(n) && sl_node_attr_bool(n, "is_constant", &c) && c;
}

/* A loop Merge has a NextIteration input; a loop Switch a LoopCond pred. */
static bool is_loop_merge(const sl_node *n)
{
    if (!is_merge(n))
        return false;
    for (int i = 0; i < sl_node_num_inputs(n); i++)
        if (is_next(sl_node_input(n, i).node))
            return true;
    return false;
}

static bool is_loop_switch(const sl_node *n)
{
    return is_switch(n) && sl_node_num_inputs(n) == 2 && op_is(sl_node_input(n, 1).node, "LoopCond", NULL);
}

sl__cf_kind sl__cf_kind_of(const sl__cf_info *info, const sl_node *n)
{
    (void)info;
    if (!(sl_node_op_def(n)->flags & SL_OP_CONTROL_FLOW))
        return SL_CF_NONE;
    if (is_exit(n))
        return SL_CF_LOOP_EXIT;
    if (is_loop_merge(n) || is_loop_switch(n))
        return SL_CF_LOOP_OTHER;
    if (is_merge(n) || is_switch(n))
        return SL_CF_COND;
    return SL_CF_LOOP_OTHER;   /* Enter, NextIteration, LoopCond */
}

int sl__cf_output_frame(const sl__cf_info *info, const sl_node *n)
{
    int f = info->frame_of[sl_node_id(n)];
    if (is_exit(n) && f > 0)
        return info->frames[f].parent;
    if (is_enter(n))
        for (int k = 1; k < info->num_frames; k++)
            for (int i = 0; i < info->frames[k].num_enters; i++)
                if (info->frames[k].enters[i] == n)
                    return k;
    return f;
}

int sl__cf_cond_of(const sl__cf_info *info, sl_output v, int *branch)
{
    int id = sl_node_id(v.node);
    if (is_switch(v.node) && !is_loop_switch(v.node)) {
        *branch = (unsigned char)v.index;
        return id;
    }
    *branch = info->cond_branch[id];
    return info->cond_switch[id];
}

static int cond_depth(const sl__cf_info *info, int sw)
{
    int d = 0;
    for (; sw >= 0 && d < 1000; d++)
        sw = info->cond_switch[sw];
    return d;
}

/* Cond contexts in a topological order that ignores the loops' back
 * edges (NextIteration -> Merge). */
static bool cond_contexts(sl__cf_info *info, const sl_graph *g)
{
    int n = info->num_nodes;
    int *indeg = sl_calloc((size_t)n + 1, sizeof(int)), *order = sl_calloc((size_t)n + 1, sizeof(int));
    info->cond_switch = sl_malloc(((size_t)n + 1) * sizeof(int));
    info->cond_branch = sl_calloc((size_t)n + 1, 1);
    if (!indeg || !order || !info->cond_switch || !info->cond_branch) {
        sl_free(indeg);
        sl_free(order);
        return false;
    }
    for (int id = 0; id < n; id++) {
        sl_node *node = sl_graph_node(g, id);
        info->cond_switch[id] = -1;
        for (int k = 0; !is_next(node) && k < sl_node_num_out_edges(node); k++) {
            int d = sl_node_id(sl_node_out_edge(node, k)->dst);
            if (d < n)
                indeg[d]++;
        }
    }
    int head = 0, tail = 0;
    for (int id = 0; id < n; id++)
        if (indeg[id] == 0)
            order[tail++] = id;
    while (head < tail) {
        int id = order[head++];
        sl_node *node = sl_graph_node(g, id);
        if (!is_next(node)) {
            for (int k = 0; k < sl_node_num_out_edges(node); k++) {
                int d = sl_node_id(sl_node_out_edge(node, k)->dst);
                if (d < n && --indeg[d] == 0)
                    order[tail++] = d;
            }
        }
        if (is_enter(node) || is_exit(node) || is_next(node) || is_loop_merge(node) || is_loop_switch(node) ||
            op_is(node, "LoopCond", NULL))
            continue;   /* loop structure: outside any branch */
        int best = -1, best_br = 0, best_depth = 0;
        int ni = sl_node_num_inputs(node), nc = sl_node_num_control_inputs(node);
        for (int i = 0; i < ni + nc; i++) {
            sl_output src = i < ni ? sl_node_input(node, i) : (sl_output){sl_node_control_input(node, i - ni), -1};
            int sid = sl_node_id(src.node), br = 0, sw;
            if (sid >= n)
                continue;
            if (src.index >= 0)
                sw = sl__cf_cond_of(info, src, &br);
            else {
                sw = info->cond_switch[sid];
                br = info->cond_branch[sid];
            }
            int d = cond_depth(info, sw);
            if (sw >= 0 && (best < 0 || d > best_depth)) {
                best = sw;
                best_br = br;
                best_depth = d;
            }
        }
        if (is_merge(node) && best >= 0) {   /* a cond's Merge closes the branch */
            best_br = info->cond_branch[best];
            best = info->cond_switch[best];
        }
        info->cond_switch[id] = best;
        info->cond_branch[id] = (unsigned char)best_br;
    }
    sl_free(indeg);
    sl_free(order);
    return true;
}

void sl__cf_info_free(sl__cf_info *info)
{
    if (!info)
        return;
    sl_free(info->cond_switch);
    sl_free(info->cond_branch);
    for (int f = 0; f < info->num_frames; f++) {
        sl_free(info->frames[f].name);
        sl_free(info->frames[f].vars);
        sl_free(info->frames[f].enters);
        sl_free(info->frames[f].exits);
    }
    sl_free(info->frames);
    sl_free(info->frame_of);
    sl_free(info);
}

static bool push_node(sl_node ***arr, int *n, sl_node *node)
{
    sl_node **p = sl_realloc(*arr, (size_t)(*n + 1) * sizeof(*p));
    if (!p)
        return false;
    p[(*n)++] = node;
    *arr = p;
    return true;
}

/* The frame named by Enter e inside `parent`, added when new; -1 on OOM. */
static int frame_for_enter(sl__cf_info *info, const sl_node *e, int parent)
{
    const char *name = "";
    size_t len = 0;
    sl_node_attr_string(e, "frame_name", &name, &len);
    for (int f = 1; f < info->num_frames; f++)
        if (info->frames[f].parent == parent && strlen(info->frames[f].name) == len &&
            !memcmp(info->frames[f].name, name, len))
            return f;
    sl__cf_frame *p = sl_realloc(info->frames, (size_t)(info->num_frames + 1) * sizeof(*p));
    if (!p)
        return -1;
    info->frames = p;
    sl__cf_frame *fr = &p[info->num_frames];
    memset(fr, 0, sizeof(*fr));
    fr->name = sl_strndup(name, len);
    if (!fr->name)
        return -1;
    fr->parent = parent;
    int64_t par = 10;
    sl_node_attr_int(e, "parallel_iterations", &par);
    fr->parallel = par > 0 ? (int)par : 1;
    return info->num_frames++;
}

/* Finds the chains of each loop Merge of frame f. */
static bool collect_vars(sl__cf_info *info, const sl_graph *g, int f)
{
    sl__cf_frame *fr = &info->frames[f];
    fr->structure_ok = true;
    for (int id = 0; id < info->num_nodes; id++) {
        sl_node *m = sl_graph_node(g, id);
        if (info->frame_of[id] != f || !is_loop_merge(m))
            continue;
        sl__loop_var v = {0};
        v.merge = m;
        for (int i = 0; i < sl_node_num_inputs(m); i++) {
            sl_node *src = sl_node_input(m, i).node;
            if (is_next(src))
                v.next = src;
            else if (is_enter(src) && !sl__cf_is_const_enter(src))
                v.enter = src;
        }
        for (int k = 0; k < sl_node_num_out_edges(m); k++) {
            const sl_edge *e = sl_node_out_edge(m, k);
            if (e->src_output == 0 && e->dst_input == 0 && sl_node_id(e->dst) < info->num_nodes &&
                is_loop_switch(e->dst))
                v.sw = e->dst;
        }
        for (int k = 0; v.sw && k < sl_node_num_out_edges(v.sw); k++) {
            const sl_edge *e = sl_node_out_edge(v.sw, k);
            if (e->src_output == 0 && sl_node_id(e->dst) < info->num_nodes && is_exit(e->dst))
                v.exit = e->dst;
        }
        if (sl_node_num_inputs(m) != 2 || !v.enter || !v.next || !v.sw) {
            if (fr->structure_ok)
                snprintf(fr->why, sizeof(fr->why),
                         "loop merge '%s' is not Merge(Enter, NextIteration) feeding Switch(merge, LoopCond)",
                         sl_node_name(m));
            fr->structure_ok = false;
            continue;
        }
        if (!fr->loop_cond)
            fr->loop_cond = sl_node_input(v.sw, 1).node;
        else if (fr->loop_cond != sl_node_input(v.sw, 1).node && fr->structure_ok) {
            snprintf(fr->why, sizeof(fr->why), "loop frame '%s' has two LoopCond nodes", fr->name);
            fr->structure_ok = false;
        }
        sl__loop_var *p = sl_realloc(fr->vars, (size_t)(fr->num_vars + 1) * sizeof(*p));
        if (!p)
            return false;
        fr->vars = p;
        p[fr->num_vars++] = v;
    }
    if (fr->structure_ok && !fr->loop_cond) {
        snprintf(fr->why, sizeof(fr->why), "loop frame '%s' has no LoopCond", fr->name);
        fr->structure_ok = false;
    }
    return true;
}

sl__cf_info *sl__cf_info_new(const sl_graph *g, int n, sl_status *st)
{
    sl__cf_info *info = sl_calloc(1, sizeof(*info));
    int *queue = sl_calloc((size_t)n + 1, sizeof(int));
    if (!info || !queue)
        goto err_oom;
    info->num_nodes = n;
    info->frame_of = sl_calloc((size_t)n + 1, sizeof(int));
    info->frames = sl_calloc(1, sizeof(*info->frames));
    if (!info->frame_of || !info->frames)
        goto err_oom;
    info->num_frames = 1;
    info->frames[0].parent = -1;
    info->frames[0].parallel = 1;
    info->frames[0].structure_ok = true;
    if (!(info->frames[0].name = sl_strdup("")))
        goto err_oom;
    int head = 0, tail = 0;
    for (int id = 0; id < n; id++) {
        sl_node *node = sl_graph_node(g, id);
        info->frame_of[id] = -1;
        if (sl_node_num_inputs(node) == 0 && sl_node_num_control_inputs(node) == 0) {
            info->frame_of[id] = 0;
            queue[tail++] = id;
        }
    }
    while (head < tail) {
        int id = queue[head++];
        sl_node *node = sl_graph_node(g, id);
        int out = info->frame_of[id];
        if (is_enter(node)) {
            out = frame_for_enter(info, node, out);
            if (out < 0 || !push_node(&info->frames[out].enters, &info->frames[out].num_enters, node))
                goto err_oom;
        } else if (is_exit(node) && out > 0) {
            if (!push_node(&info->frames[out].exits, &info->frames[out].num_exits, node))
                goto err_oom;
            out = info->frames[out].parent;
        }
        for (int k = 0; k < sl_node_num_out_edges(node); k++) {
            int d = sl_node_id(sl_node_out_edge(node, k)->dst);
            if (d < n && info->frame_of[d] < 0) {
                info->frame_of[d] = out;
                queue[tail++] = d;
            }
        }
    }
    for (int id = 0; id < n; id++)
        if (info->frame_of[id] < 0)
            info->frame_of[id] = 0;   /* on a cycle no Enter starts: the executor refuses it */
    for (int f = 1; f < info->num_frames; f++)
        if (!collect_vars(info, g, f))
            goto err_oom;
    if (!cond_contexts(info, g))
        goto err_oom;
    sl_free(queue);
    return info;
err_oom:
    sl_free(queue);
    sl__cf_info_free(info);
    sl_status_set(st, SL_RESOURCE_EXHAUSTED, "out of memory analysing the loops of a graph");
    return NULL;
}
