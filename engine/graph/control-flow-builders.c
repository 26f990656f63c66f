/* cond and while_loop builders (see sluice/control_flow.h).  The loop's
 * Merge nodes are first built with their Enter twice and rewired to the
 * NextIteration once the body exists, since builders cannot name a node
 * that is not there yet.  A failure truncates the graph to where it was. */
#include "config.h"

#include "sluice/control_flow.h"

#include <stdio.h>
#include <string.h>

#include "graph-private.h"
#include "sluice/alloc.h"

#define MAX_CAPTURES 64

struct sl_cf_ctx {
    sl_graph *graph;
    sl_node *pivot;
    bool is_loop;
    const char *frame;        /* loop frame name */
    int parallel;
    sl_output pred;           /* cond: the predicate */
    int branch;               /* cond: 0 false, 1 true */
    int num_captures;
    sl_output outer[MAX_CAPTURES];
    sl_output inner[MAX_CAPTURES];
};

sl_graph *sl_cf_ctx_graph(const sl_cf_ctx *ctx) { return ctx->graph; }
sl_node *sl_cf_ctx_pivot(const sl_cf_ctx *ctx) { return ctx->pivot; }

static sl_node *unary(sl_graph *g, const char *op, const char *name, sl_output in, sl_status *st)
{
    sl_node_builder *b = sl_node_builder_new(g, op, name);
    sl_node_builder_add_input(b, in);
    return sl_node_builder_finish(b, st);
}

static sl_node *enter(sl_graph *g, const char *name, sl_output in, const char *frame, bool is_const,
                      int parallel, sl_status *st)
{
    bool ref = sl_dtype_is_ref(sl_node_output_type(in.node, in.index));
    sl_node_builder *b = sl_node_builder_new(g, ref ? "RefEnter" : "Enter", name);
    sl_node_builder_add_input(b, in);
    sl_node_builder_set_attr_string(b, "frame_name", frame, strlen(frame));
    sl_node_builder_set_attr_bool(b, "is_constant", is_const);
    sl_node_builder_set_attr_int(b, "parallel_iterations", parallel);
    return sl_node_builder_finish(b, st);
}

static sl_node *switch_node(sl_graph *g, const char *name, sl_output data, sl_output pred, sl_status *st)
{
    sl_node_builder *b = sl_node_builder_new(g, "Switch", name);
    sl_node_builder_add_input(b, data);
    sl_node_builder_add_input(b, pred);
    return sl_node_builder_finish(b, st);
}

sl_output sl_cf_ctx_capture(sl_cf_ctx *ctx, sl_output outer, sl_status *st)
{
    for (int i = 0; i < ctx->num_captures; i++)
        if (ctx->outer[i].node == outer.node && ctx->outer[i].index == outer.index)
            return ctx->inner[i];
    if (ctx->num_captures == MAX_CAPTURES) {
        sl_status_set(st, SL_RESOURCE_EXHAUSTED, "more than %d captured tensors", MAX_CAPTURES);
        return (sl_output){NULL, 0};
    }
    sl_output r = {NULL, 0};
    if (ctx->is_loop) {
        sl_node *e = enter(ctx->graph, NULL, outer, ctx->frame, true, ctx->parallel, st);
        if (e)
            r = (sl_output){e, 0};
    } else {
        sl_node *s = switch_node(ctx->graph, NULL, outer, ctx->pred, st);
        if (s)
            r = (sl_output){s, ctx->branch};
    }
    if (r.node) {
        ctx->outer[ctx->num_captures] = outer;
        ctx->inner[ctx->num_captures++] = r;
    }
    return r;
}

static sl_code fail_truncate(sl_graph *g, int n, bool scoped, sl_status *st)
{
    if (scoped)
        sl_graph_pop_scope(g);
    sl__graph_truncate(g, n);
    return sl_status_code(st);
}

sl_code sl_cond(sl_graph *g, sl_output pred, const sl_output *inputs, int n, sl_cf_build_fn then_fn,
                sl_cf_build_fn else_fn, void *arg, int num_outputs, sl_output *outputs, const char *name,
                sl_status *st)
{
    int start = sl_graph_num_nodes(g);
    char *scope = sl_graph_unique_name(g, name ? name : "cond");
    if (!scope)
        return sl_status_set(st, SL_RESOURCE_EXHAUSTED, "out of memory building a cond");
    /* the unique name already holds the enclosing scopes: push only its last part */
    const char *last = strrchr(scope, '/');
    sl_code rc = sl_graph_push_scope(g, last ? last + 1 : scope, st);
    sl_free(scope);
    if (rc != SL_OK)
        return rc;
    sl_output *ins = sl_calloc((size_t)n * 2 + 1, sizeof(*ins));
    sl_output *outs = sl_calloc((size_t)num_outputs * 2 + 1, sizeof(*outs));
    if (!ins || !outs) {
        sl_free(ins);
        sl_free(outs);
        sl_status_set(st, SL_RESOURCE_EXHAUSTED, "out of memory building a cond");
        return fail_truncate(g, start, true, st);
    }
    sl_node *ps = switch_node(g, NULL, pred, pred, st);
    sl_node *pivot_f = ps ? unary(g, "Identity", NULL, (sl_output){ps, 0}, st) : NULL;
    sl_node *pivot_t = pivot_f ? unary(g, "Identity", NULL, (sl_output){ps, 1}, st) : NULL;
    if (!pivot_t)
        goto err;
    for (int i = 0; i < n; i++) {
        sl_node *s = switch_node(g, NULL, inputs[i], pred, st);
        if (!s)
            goto err;
        ins[i] = (sl_output){s, 0};
        ins[n + i] = (sl_output){s, 1};
    }
    for (int br = 1; br >= 0; br--) {
        sl_cf_ctx *c = sl_calloc(1, sizeof(*c));
        if (!c) {
            sl_status_set(st, SL_RESOURCE_EXHAUSTED, "out of memory building a cond");
            goto err;
        }
        *c = (sl_cf_ctx){.graph = g, .pivot = br ? pivot_t : pivot_f, .pred = pred, .branch = br};
        sl_output *bo = outs + (br ? num_outputs : 0);
        rc = (br ? then_fn : else_fn)(c, ins + (br ? n : 0), n, bo, arg, st);
        sl_free(c);
        if (rc != SL_OK)
            goto err;
        for (int j = 0; j < num_outputs; j++)
            if (!bo[j].node) {
                sl_status_set(st, SL_INVALID_ARGUMENT, "cond branch left output %d unset", j);
                goto err;
            }
    }
    for (int j = 0; j < num_outputs; j++) {
        sl_node_builder *b = sl_node_builder_new(g, "Merge", NULL);
        sl_output pair[2] = {outs[j], outs[num_outputs + j]};
        sl_node_builder_add_input_list(b, pair, 2);
        sl_node *m = sl_node_builder_finish(b, st);
        if (!m)
            goto err;
        outputs[j] = (sl_output){m, 0};
    }
    sl_free(ins);
    sl_free(outs);
    sl_graph_pop_scope(g);
    sl_status_clear(st);
    return SL_OK;
err:
    sl_free(ins);
    sl_free(outs);
    return fail_truncate(g, start, true, st);
}

/* Closes a loop: the Merge's input `slot` becomes the NextIteration. */
static bool rewire(sl_node *dst, int slot, sl_output src)
{
    if (!sl__node_set_input(dst, slot, src))
        return false;
    if (!sl_shape_equal(&dst->output_shapes[0], sl_node_output_shape(src.node, src.index)))
        dst->output_shapes[0] = sl_shape_unknown();  /* the loop changes it */
    return true;
}

sl_code sl_while_loop(sl_graph *g, const sl_output *vars, int n, sl_cf_build_fn cond_fn, sl_cf_build_fn body_fn,
                      void *arg, const char *name, int parallel, sl_output *outputs, sl_status *st)
{
    if (n < 1)
        return sl_status_set(st, SL_INVALID_ARGUMENT, "while_loop needs at least one loop variable");
    if (parallel <= 0)
        parallel = 10;
    int start = sl_graph_num_nodes(g);
    char *frame = sl_graph_unique_name(g, name ? name : "while");
    if (!frame)
        return sl_status_set(st, SL_RESOURCE_EXHAUSTED, "out of memory building a while loop");
    const char *last = strrchr(frame, '/');
    sl_code rc = sl_graph_push_scope(g, last ? last + 1 : frame, st);
    if (rc != SL_OK) {
        sl_free(frame);
        return rc;
    }
    sl_node **merges = sl_calloc((size_t)n, sizeof(*merges));
    sl_output *mo = sl_calloc((size_t)n, sizeof(*mo));
    sl_output *body_in = sl_calloc((size_t)n, sizeof(*body_in));
    sl_output *body_out = sl_calloc((size_t)n, sizeof(*body_out));
    sl_node **exits = sl_calloc((size_t)n, sizeof(*exits));
    sl_cf_ctx *c = sl_calloc(1, sizeof(*c));
    if (!merges || !mo || !body_in || !body_out || !exits || !c) {
        sl_status_set(st, SL_RESOURCE_EXHAUSTED, "out of memory building a while loop");
        goto err;
    }
    for (int i = 0; i < n; i++) {
        sl_node *e = enter(g, NULL, vars[i], frame, false, parallel, st);
        if (!e)
            goto err;
        sl_node_builder *b = sl_node_builder_new(g, "Merge", NULL);
        sl_output pair[2] = {{e, 0}, {e, 0}};
        sl_node_builder_add_input_list(b, pair, 2);
        merges[i] = sl_node_builder_finish(b, st);
        if (!merges[i])
            goto err;
        mo[i] = (sl_output){merges[i], 0};
    }
    *c = (sl_cf_ctx){.graph = g, .pivot = merges[0], .is_loop = true, .frame = frame, .parallel = parallel};
    sl_output pred = {NULL, 0};
    if (cond_fn(c, mo, n, &pred, arg, st) != SL_OK)
        goto err;
    if (!pred.node || sl_node_output_type(pred.node, pred.index) != SL_DTYPE_BOOL) {
        sl_status_set(st, SL_INVALID_ARGUMENT, "while_loop condition must produce a bool");
        goto err;
    }
    sl_node *lc = unary(g, "LoopCond", NULL, pred, st);
    if (!lc)
        goto err;
    for (int i = 0; i < n; i++) {
        sl_node *s = switch_node(g, NULL, mo[i], (sl_output){lc, 0}, st);
        if (!s)
            goto err;
        exits[i] = unary(g, "Exit", NULL, (sl_output){s, 0}, st);
        sl_node *id = exits[i] ? unary(g, "Identity", NULL, (sl_output){s, 1}, st) : NULL;
        if (!id)
            goto err;
        body_in[i] = (sl_output){id, 0};
    }
    c->pivot = body_in[0].node;
    if (body_fn(c, body_in, n, body_out, arg, st) != SL_OK)
        goto err;
    for (int i = 0; i < n; i++) {
        if (!body_out[i].node) {
            sl_status_set(st, SL_INVALID_ARGUMENT, "while_loop body left variable %d unset", i);
            goto err;
        }
        if (sl_node_output_type(body_out[i].node, body_out[i].index) != sl_node_output_type(merges[i], 0)) {
            sl_status_set(st, SL_INVALID_ARGUMENT, "while_loop body turns variable %d from %s into %s", i,
                          sl_dtype_name(sl_node_output_type(merges[i], 0)),
                          sl_dtype_name(sl_node_output_type(body_out[i].node, body_out[i].index)));
            goto err;
        }
        sl_node *next = unary(g, "NextIteration", NULL, body_out[i], st);
        if (!next)
            goto err;
        if (!rewire(merges[i], 1, (sl_output){next, 0})) {
            sl_status_set(st, SL_RESOURCE_EXHAUSTED, "out of memory building a while loop");
            goto err;
        }
    }
    for (int i = 0; i < n; i++)
        outputs[i] = (sl_output){exits[i], 0};
    sl_graph_pop_scope(g);
    sl_free(frame);
    sl_free(merges);
    sl_free(mo);
    sl_free(body_in);
    sl_free(body_out);
    sl_free(exits);
    sl_free(c);
    sl_status_clear(st);
    return SL_OK;
err:
    sl_free(frame);
    sl_free(merges);
    sl_free(mo);
    sl_free(body_in);
    sl_free(body_out);
    sl_free(exits);
    sl_free(c);
    return fail_truncate(g, start, true, st);
}
