/* Plans: what one session signature runs.  Building a plan walks back from
 * the fetches and targets over data and control inputs, stopping at fed
 * outputs, so only the needed subgraph is kept (partial execution). */
#include "config.h"

#include "plan.h"

#include <string.h>

#include "sluice/alloc.h"

void sl__plan_free(sl__plan *plan)
{
    if (!plan)
        return;
    for (int i = 0; i < plan->num_nodes; i++) {
        sl__plan_node *pn = &plan->nodes[i];
        if (pn->folded) {
            for (int k = 0; k < sl_node_num_outputs(pn->node); k++)
                sl_tensor_unref(pn->folded[k]);
            sl_free(pn->folded);
        }
        sl_free(pn->inputs);
        sl_free(pn->controls);
    }
    sl_free(plan->nodes);
    sl_free(plan->feeds);
    sl_free(plan->fetches);
    sl_free(plan->targets);
    sl_graph_free(plan->aux);
    sl_free(plan);
}

static int feed_index(const sl_output *feeds, int num_feeds, const sl_node *node, int index)
{
    for (int i = 0; i < num_feeds; i++)
        if (feeds[i].node == node && feeds[i].index == index)
            return i;
    return -1;
}

/* Whether every output of `node` is fed: the node is replaced by its feeds
 * and never runs, so control edges from it are already satisfied. */
static bool fully_fed(const sl_output *feeds, int num_feeds, const bool *has_feed, const sl_node *node)
{
    if (!has_feed[sl_node_id(node)])
        return false;
    for (int k = 0; k < sl_node_num_outputs(node); k++)
        if (feed_index(feeds, num_feeds, node, k) < 0)
            return false;
    return true;
}

sl__plan *sl__plan_build(const sl_graph *graph, const sl_output *feeds, int num_feeds,
                         const sl_output *fetches, int num_fetches, const sl_node *const *targets,
                         int num_targets, bool all, sl_status *st)
{
    int n = sl_graph_num_nodes(graph);
    sl__plan *plan = sl_calloc(1, sizeof(*plan));
    int *map = sl_malloc(((size_t)n + 1) * sizeof(int));
    const sl_node **order = sl_malloc(((size_t)n + 1) * sizeof(*order));
    bool *has_feed = sl_calloc((size_t)n + 1, sizeof(bool));
    if (!plan || !map || !order || !has_feed)
        goto err_oom;
    for (int i = 0; i < n; i++)
        map[i] = -1;
    for (int i = 0; i < num_feeds; i++)
        has_feed[sl_node_id(feeds[i].node)] = true;
    plan->num_feeds = num_feeds;
    plan->feeds = sl_calloc((size_t)num_feeds + 1, sizeof(*plan->feeds));
    plan->num_fetches = num_fetches;
    plan->fetches = sl_calloc((size_t)num_fetches + 1, sizeof(*plan->fetches));
    plan->num_targets = num_targets;
    plan->targets = sl_calloc((size_t)num_targets + 1, sizeof(int));
    if (!plan->feeds || !plan->fetches || !plan->targets)
        goto err_oom;
    if (num_feeds)
        memcpy(plan->feeds, feeds, (size_t)num_feeds * sizeof(*feeds));

    /* discover: `order` doubles as the work stack's storage */
    int count = 0, top = 0;
    const sl_node **stack = sl_malloc(((size_t)n + 1) * sizeof(*stack));
    if (!stack)
        goto err_oom;
#define PUSH(nd)                                  \
    do {                                          \
        int id_ = sl_node_id(nd);                 \
        if (map[id_] < 0) {                       \
            map[id_] = count;                     \
            order[count++] = (nd);                \
            stack[top++] = (nd);                  \
        }                                         \
    } while (0)
    if (all) {
        /* every node but those whose outputs are all fed */
        for (int i = 0; i < n; i++)
            if (!fully_fed(feeds, num_feeds, has_feed, sl_graph_node(graph, i)))
                PUSH(sl_graph_node(graph, i));
    }
    for (int i = 0; i < num_fetches; i++)
        if (feed_index(feeds, num_feeds, fetches[i].node, fetches[i].index) < 0)
            PUSH(fetches[i].node);
    for (int i = 0; i < num_targets; i++)
        PUSH(targets[i]);
    while (top > 0) {
        const sl_node *nd = stack[--top];
        int ni = sl_node_num_inputs(nd);
        for (int i = 0; i < ni; i++) {
            sl_output in = sl_node_input(nd, i);
            if (has_feed[sl_node_id(in.node)] && feed_index(feeds, num_feeds, in.node, in.index) >= 0)
                continue;
            PUSH(in.node);
        }
        for (int i = 0; i < sl_node_num_control_inputs(nd); i++)
            if (!fully_fed(feeds, num_feeds, has_feed, sl_node_control_input(nd, i)))
                PUSH(sl_node_control_input(nd, i));
    }
#undef PUSH
    sl_free(stack);

    plan->num_nodes = count;
    plan->nodes = sl_calloc((size_t)count + 1, sizeof(*plan->nodes));
    if (!plan->nodes)
        goto err_oom;
    for (int p = 0; p < count; p++) {
        const sl_node *nd = order[p];
        sl__plan_node *pn = &plan->nodes[p];
        pn->node = nd;
        pn->num_inputs = sl_node_num_inputs(nd);
        pn->num_controls = sl_node_num_control_inputs(nd);
        pn->inputs = sl_calloc((size_t)pn->num_inputs + 1, sizeof(*pn->inputs));
        pn->controls = sl_calloc((size_t)pn->num_controls + 1, sizeof(int));
        if (!pn->inputs || !pn->controls)
            goto err_oom;
        for (int i = 0; i < pn->num_inputs; i++) {
            sl_output in = sl_node_input(nd, i);
            int f = has_feed[sl_node_id(in.node)] ? feed_index(feeds, num_feeds, in.node, in.index) : -1;
            pn->inputs[i] = f >= 0 ? (sl__plan_input){SL_PLAN_FEED, f}
                                   : (sl__plan_input){map[sl_node_id(in.node)], in.index};
        }
        int nc = 0;
        for (int i = 0; i < pn->num_controls; i++) {
            int c = map[sl_node_id(sl_node_control_input(nd, i))];
            if (c >= 0)  /* -1: a fully fed node, which never runs */
                pn->controls[nc++] = c;
        }
        pn->num_controls = nc;
    }
    for (int i = 0; i < num_fetches; i++) {
        int f = feed_index(feeds, num_feeds, fetches[i].node, fetches[i].index);
        plan->fetches[i] = f >= 0 ? (sl__plan_input){SL_PLAN_FEED, f}
                                  : (sl__plan_input){map[sl_node_id(fetches[i].node)], fetches[i].index};
    }
    for (int i = 0; i < num_targets; i++)
        plan->targets[i] = map[sl_node_id(targets[i])];
    sl_free(map);
    sl_free(order);
    sl_free(has_feed);
    sl_status_clear(st);
    return plan;
err_oom:
    sl_status_set(st, SL_RESOURCE_EXHAUSTED, "out of memory preparing a step");
    sl_free(map);
    sl_free(order);
    sl_free(has_feed);
    sl__plan_free(plan);
    return NULL;
}

int sl__plan_prune(sl__plan *plan, sl_status *st)
{
    int n = plan->num_nodes;
    int *keep = sl_calloc((size_t)n + 1, sizeof(int));
    int *stack = sl_malloc(((size_t)n + 1) * sizeof(int));
    if (!keep || !stack) {
        sl_free(keep);
        sl_free(stack);
        sl_status_set(st, SL_RESOURCE_EXHAUSTED, "out of memory preparing a step");
        return -1;
    }
    int top = 0;
#define MARK(i)                                              \
    do {                                                     \
        int i_ = (i);                                        \
        if (i_ >= 0 && !keep[i_] && !plan->nodes[i_].removed) { \
            keep[i_] = 1;                                    \
            stack[top++] = i_;                               \
        }                                                    \
    } while (0)
    for (int i = 0; i < plan->num_fetches; i++)
        if (plan->fetches[i].src != SL_PLAN_FEED)
            MARK(plan->fetches[i].src);
    for (int i = 0; i < plan->num_targets; i++)
        MARK(plan->targets[i]);
    while (top > 0) {
        sl__plan_node *pn = &plan->nodes[stack[--top]];
        if (pn->folded)
            continue;  /* a folded node needs nothing */
        for (int i = 0; i < pn->num_inputs; i++)
            if (pn->inputs[i].src != SL_PLAN_FEED)
                MARK(pn->inputs[i].src);
        for (int i = 0; i < pn->num_controls; i++)
            MARK(pn->controls[i]);
    }
#undef MARK
    /* renumber: keep[i] becomes the new index + 1 */
    int m = 0, dropped = 0;
    for (int i = 0; i < n; i++) {
        if (keep[i]) {
            keep[i] = ++m;
        } else {
            sl__plan_node *pn = &plan->nodes[i];
            if (pn->folded) {
                for (int k = 0; k < sl_node_num_outputs(pn->node); k++)
                    sl_tensor_unref(pn->folded[k]);
                sl_free(pn->folded);
            }
            sl_free(pn->inputs);
            sl_free(pn->controls);
            dropped++;
        }
    }
    for (int i = 0, j = 0; i < n; i++) {
        if (!keep[i])
            continue;
        plan->nodes[j] = plan->nodes[i];
        sl__plan_node *pn = &plan->nodes[j++];
        if (pn->folded) {
            pn->num_inputs = 0;
            pn->num_controls = 0;
        }
        for (int k = 0; k < pn->num_inputs; k++)
            if (pn->inputs[k].src != SL_PLAN_FEED)
                pn->inputs[k].src = keep[pn->inputs[k].src] - 1;
        int nc = 0;
        for (int k = 0; k < pn->num_controls; k++)
            if (keep[pn->controls[k]])
                pn->controls[nc++] = keep[pn->controls[k]] - 1;
        pn->num_controls = nc;
    }
    for (int i = 0; i < plan->num_fetches; i++)
        if (plan->fetches[i].src != SL_PLAN_FEED)
            plan->fetches[i].src = keep[plan->fetches[i].src] - 1;
    for (int i = 0; i < plan->num_targets; i++)
        plan->targets[i] = keep[plan->targets[i]] - 1;
    plan->num_nodes = m;
    sl_free(keep);
    sl_free(stack);
    return dropped;
}
