/* Gradients through while_loop (paper 4.1 and 4.4; TF's control_flow_grad
 * and "Dynamic Control Flow in Large-Scale Machine Learning", 2018).
 *
 * The walk meets a forward loop at its exits.  When the last exit that
 * carries a gradient is done, this file builds the whole backward loop at
 * once (TF builds the same graph op by op from the gradients of Exit,
 * Switch, Merge, NextIteration and Enter; building it as a unit keeps the
 * Switch from being visited twice):
 *
 *   forward counter   a new loop variable of the forward frame counting
 *                     the body's runs: Enter(0) -> Merge -> Switch(LoopCond)
 *                     -> Identity (the forward pivot) -> +1 -> NextIteration;
 *                     its Exit is N, the forward trip count.
 *   backward loop     a new frame whose condition is n > 0 on a counter that
 *                     starts at N and drops by one per iteration, so the
 *                     body runs exactly N times.  Its Identity of the
 *                     counter's Switch:1 is the backward pivot.
 *   gradient vars     per forward loop variable: Enter(dL/dExit, zeros when
 *                     the exit has none) -> Merge -> Switch(backward
 *                     LoopCond); Switch:1 is dL/d(body result) of the
 *                     forward iteration being undone, Switch:0 leaves as
 *                     dL/d(initial value).  The body is differentiated by a
 *                     sub-walk of the forward body from the NextIteration
 *                     inputs back to the body inputs (the forward Switch:1);
 *                     their gradients go to the NextIteration of the
 *                     gradient variables.
 *   invariants        the gradient of a loop invariant (a constant Enter:
 *                     weights captured by the body) is summed over the
 *                     iterations by an accumulator variable starting from
 *                     zeros; its Exit is the gradient of the outer tensor.
 *
 * Forward values.  The body's gradient functions read forward tensors of
 * the iteration they undo.  After each one runs, sl__while_grad_adopt()
 * rewrites the new nodes' inputs: a value computed inside the forward loop
 * is pushed onto a stack (StackV2 outside the loop, StackPushV2 in the
 * forward body) and popped in the backward body (StackPopV2), so iteration
 * k of the backward loop sees forward iteration N-1-k; invariants and
 * outer tensors enter the backward loop as constant Enters; constants are
 * copied into it.  The pushes exist only for the values some gradient
 * reads, only once gradients are asked for, and run only when a step
 * fetches something that needs the backward loop (the forward loop's own
 * outputs do not depend on them, so pruning drops them otherwise).
 *
 * Order.  Iterations may run in parallel, but a stack must see its pushes
 * and pops in iteration order.  Each push waits for the forward pivot of
 * its iteration and the counter's +1 waits for every push, so iteration
 * k+1's pushes start after iteration k's; likewise each pop waits for the
 * backward pivot and the counter's -1 for every pop (TF's "grad_sync").
 *
 * Lifetime.  A stack lives as long as its handle tensor (see
 * engine/runtime/stack-kernels.c): held by the two loops' frames, it goes
 * with the step, and so do the tensors left on it.
 *
 * Nested loops.  An inner loop's gradient is built while the outer body is
 * walked, so it lands in the outer backward body.  Its stacks are made
 * outside every loop and their handles enter through the enclosing
 * loops; since an outer iteration's inner pushes all come before the next
 * outer iteration's (the inner trip count, stacked by the outer loop, is
 * pushed when the inner loop ends, and the outer counter waits for that
 * push) and each outer backward iteration waits for its inner backward
 * loop to end, one stack per value keeps every push and pop in order.
 * Values the inner gradient reads from the outer body go through the
 * outer loop's own stacks.
 *
 * Conds inside a loop.  The cond's own gradients (cond-grad.c) work as
 * they are, their predicates read from stacks; a value computed inside a
 * branch is pushed only when the branch runs, so its pop is gated by a
 * Switch of the stack handle on the popped predicate, and the counters
 * wait for a Merge of "pushed/popped" and "branch not taken".
 *
 * Not implemented (SL_UNIMPLEMENTED, naming the node): a cond nested in a
 * cond inside a loop, a loop in a cond inside a loop, loops whose
 * structure is not tf.while_loop's. */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "graph-private.h"
#include "sluice/alloc.h"
#include "walk-private.h"

typedef struct val_map {
    sl_output fwd;   /* a forward value read by a gradient node */
    sl_output bwd;   /* what stands for it inside the backward loop */
} val_map;

typedef struct grad_var {
    sl_node *merge;  /* Merge(Enter(dL/dExit), NextIteration) */
    sl_node *exit;   /* dL/d(initial value) */
    sl_output body;  /* Identity(Switch:1): dL/d(body result) in the iteration */
} grad_var;

struct sl__loop_grad {
    int frame;                /* the forward frame */
    sl__loop_grad *parent;    /* the enclosing loop's, NULL at the top level */
    int exits_done;           /* exits (on the walk) reached so far */
    bool started;             /* the backward loop exists */
    char *bframe;             /* the backward frame's name (owned) */
    int parallel;
    sl_node *f_pivot;         /* forward counter's Identity(Switch:1) */
    sl_node *f_add;           /* forward counter + 1; waits for the pushes */
    sl_output b_pred;         /* backward LoopCond */
    sl_node *b_pivot;         /* backward counter's Identity(Switch:1) */
    sl_node *b_sub;           /* backward counter - 1; waits for the pops */
    val_map *map;
    int num_map;
    int cap_map;
    int num_stacks;
};

static const sl__cf_frame *frame_of(const sl__walk *w, const sl__loop_grad *lg)
{
    return &w->cf->frames[lg->frame];
}

sl__loop_grad *sl__while_grad_of(sl__walk *w, const sl_node *n)
{
    if (!w->loops)
        return NULL;
    int f = w->cf->frame_of[sl_node_id(n)];
    return f > 0 && w->loops[f] && w->loops[f]->started ? w->loops[f] : NULL;
}

void sl__while_grad_release(sl__walk *w)
{
    if (!w->loops)
        return;
    for (int f = 0; f < w->cf->num_frames; f++) {
        if (w->loops[f]) {
            sl_free(w->loops[f]->bframe);
            sl_free(w->loops[f]->map);
            sl_free(w->loops[f]);
        }
    }
    sl_free(w->loops);
    w->loops = NULL;
}

/* ---- Node helpers (sticky: nothing happens once w->b failed) ---------- */

static sl_node *enter(sl_b *b, sl_output in, const char *frame, bool is_const, int parallel)
{
    sl_node_builder *nb = sl__b_begin(b, "Enter");
    sl__b_in(b, nb, in);
    if (nb) {
        sl_node_builder_set_attr_string(nb, "frame_name", frame, strlen(frame));
        sl_node_builder_set_attr_bool(nb, "is_constant", is_const);
        sl_node_builder_set_attr_int(nb, "parallel_iterations", parallel);
    }
    return sl__b_end_node(b, nb);
}

static sl_node *node2(sl_b *b, const char *op, sl_output x, sl_output y)
{
    sl_node_builder *nb = sl__b_begin(b, op);
    sl__b_in(b, nb, x);
    sl__b_in(b, nb, y);
    return sl__b_end_node(b, nb);
}

static sl_node *merge_self(sl_b *b, sl_output x)
{
    sl_node_builder *nb = sl__b_begin(b, "Merge");
    sl_output pair[2] = {x, x};  /* input 1 becomes the NextIteration */
    if (nb)
        sl_node_builder_add_input_list(nb, pair, 2);
    return sl__b_end_node(b, nb);
}

static bool control(sl_b *b, sl_node *dst, sl_node *src)
{
    if (b->failed)
        return false;
    if (!sl__node_add_control_input(dst, src)) {
        sl__b_fail(b, SL_RESOURCE_EXHAUSTED, "out of memory adding a control edge");
        return false;
    }
    return true;
}

/* Closes a loop: Merge input 1 <- NextIteration(body). */
static void close_loop(sl_b *b, sl_node *merge, sl_output body)
{
    sl_output next = sl__b_unary(b, "NextIteration", body);
    if (b->failed)
        return;
    if (!sl__node_set_input(merge, 1, next)) {
        sl__b_fail(b, SL_RESOURCE_EXHAUSTED, "out of memory closing a loop");
        return;
    }
    if (!sl_shape_equal(&merge->output_shapes[0], sl_node_output_shape(next.node, 0)))
        merge->output_shapes[0] = sl_shape_unknown();
}

/* A constant scalar inside the loop whose pivot is given. */
static sl_output scalar_in(sl_b *b, int32_t v, sl_node *pivot)
{
    sl_output c = sl__b_scalar_i32(b, v);
    if (sl__has(c))
        control(b, c.node, pivot);
    return c;
}

/* Pushes the scopes of "a/b/c" with "_grad" on the last part; returns
 * how many were pushed. */
static int push_frame_scope(sl_graph *g, const char *name)
{
    char buf[512];
    int pushed = 0;
    snprintf(buf, sizeof(buf), "%s_grad", name);
    char *save = NULL;
    for (char *tok = strtok_r(buf, "/", &save); tok; tok = strtok_r(NULL, "/", &save))
        if (sl_graph_push_scope(g, tok, NULL) == SL_OK)
            pushed++;
    return pushed;
}

static void pop_scopes(sl_graph *g, int n)
{
    while (n-- > 0)
        sl_graph_pop_scope(g);
}

static sl_output backward_value(sl__walk *w, sl__loop_grad *lg, sl_output v);
static sl_output stack_value(sl__walk *w, sl__loop_grad *lg, sl_output v);

/* A constant of the frame around lg's forward loop: a control input from
 * the enclosing loop's forward pivot runs it once per enclosing
 * iteration. */
static sl_output scalar_outside(sl_b *b, const sl__loop_grad *lg, int32_t v)
{
    return lg->parent ? scalar_in(b, v, lg->parent->f_pivot) : sl__b_scalar_i32(b, v);
}

/* Moves the new nodes [mark, now), built for the frame around lg's
 * backward loop, into the enclosing backward loop (nothing at the top). */
static void adopt_outside(sl__walk *w, const sl__loop_grad *lg, int mark)
{
    if (lg->parent)
        sl__while_grad_adopt(w, lg->parent, mark, NULL, 0);
}

/* A handle made outside every loop (a stack), entered into lg's forward
 * frame (forward) or backward frame, through the enclosing loops. */
static sl_output enter_chain(sl__walk *w, sl__loop_grad *lg, sl_output h, bool forward)
{
    if (lg->parent)
        h = enter_chain(w, lg->parent, h, forward);
    const char *frame = forward ? w->cf->frames[lg->frame].name : lg->bframe;
    return (sl_output){enter(&w->b, h, frame, true, lg->parallel), 0};
}

/* ---- The two counters ------------------------------------------------- */

/* Builds the forward counter and the backward loop's counter, condition
 * and pivot. */
static void build_counters(sl__walk *w, sl__loop_grad *lg)
{
    sl_b *b = &w->b;
    const sl__cf_frame *fr = frame_of(w, lg);
    sl_output lc = {fr->loop_cond, 0};

    sl_node *ce = enter(b, scalar_outside(b, lg, 0), fr->name, false, lg->parallel);
    sl_node *cm = ce ? merge_self(b, (sl_output){ce, 0}) : NULL;
    sl_node *cs = cm ? node2(b, "Switch", (sl_output){cm, 0}, lc) : NULL;
    sl_output n_fwd = cs ? sl__b_unary(b, "Exit", (sl_output){cs, 0}) : SL_NO_OUTPUT;
    lg->f_pivot = cs ? sl__b_unary(b, "Identity", (sl_output){cs, 1}).node : NULL;
    lg->f_add = lg->f_pivot ? node2(b, "Add", (sl_output){lg->f_pivot, 0}, scalar_in(b, 1, lg->f_pivot)) : NULL;
    if (lg->f_add)
        close_loop(b, cm, (sl_output){lg->f_add, 0});

    /* inside another loop, the trip count of each of its iterations is
     * stacked by that loop like any forward value; pushing it after the
     * inner loop ends also keeps the inner loops' pushes in order */
    sl_output n_init = lg->parent && sl__has(n_fwd) ? stack_value(w, lg->parent, n_fwd) : n_fwd;
    sl_node *be = sl__has(n_init) ? enter(b, n_init, lg->bframe, false, lg->parallel) : NULL;
    sl_node *bm = be ? merge_self(b, (sl_output){be, 0}) : NULL;
    sl_node *more = bm ? node2(b, "Greater", (sl_output){bm, 0}, scalar_in(b, 0, bm)) : NULL;
    lg->b_pred = more ? sl__b_unary(b, "LoopCond", (sl_output){more, 0}) : SL_NO_OUTPUT;
    sl_node *bs = sl__has(lg->b_pred) ? node2(b, "Switch", (sl_output){bm, 0}, lg->b_pred) : NULL;
    lg->b_pivot = bs ? sl__b_unary(b, "Identity", (sl_output){bs, 1}).node : NULL;
    lg->b_sub = lg->b_pivot ? node2(b, "Sub", (sl_output){lg->b_pivot, 0}, scalar_in(b, 1, lg->b_pivot)) : NULL;
    if (lg->b_sub)
        close_loop(b, bm, (sl_output){lg->b_sub, 0});
    /* the enclosing backward iteration ends after this loop's pops */
    sl_output done = lg->parent && bs ? sl__b_unary(b, "Exit", (sl_output){bs, 0}) : SL_NO_OUTPUT;
    if (sl__has(done))
        control(b, lg->parent->b_sub, done.node);
}

/* A loop variable of the backward loop starting from `init` (outside):
 * its Merge, Exit and in-body value. */
static grad_var backward_var(sl__walk *w, sl__loop_grad *lg, sl_output init)
{
    sl_b *b = &w->b;
    grad_var v = {0};
    sl_node *e = enter(b, init, lg->bframe, false, lg->parallel);
    v.merge = e ? merge_self(b, (sl_output){e, 0}) : NULL;
    sl_node *s = v.merge ? node2(b, "Switch", (sl_output){v.merge, 0}, lg->b_pred) : NULL;
    v.exit = s ? sl__b_unary(b, "Exit", (sl_output){s, 0}).node : NULL;
    v.body = s ? sl__b_unary(b, "Identity", (sl_output){s, 1}) : SL_NO_OUTPUT;
    return v;
}

/* ---- Forward values inside the backward loop -------------------------- */

/* A node that is live once `done` ran when the branch `branch` of `pred`
 * is taken, and at once when it is not: what a counter waits for, so that
 * a push or pop inside a cond branch, dead when the branch is not taken,
 * does not make the counter dead (TF uses a ControlTrigger).  `pivot`
 * runs once per iteration. */
static sl_node *branch_sync(sl_b *b, sl_node *done, sl_output pred, int branch, sl_node *pivot)
{
    sl_output after = scalar_in(b, 0, done);
    sl_node *sw = node2(b, "Switch", scalar_in(b, 0, pivot), pred);
    if (!sw || !sl__has(after))
        return NULL;
    sl_output pair[2] = {after, {sw, 1 - branch}};
    sl_node_builder *nb = sl__b_begin(b, "Merge");
    if (nb)
        sl_node_builder_add_input_list(nb, pair, 2);
    return sl__b_end_node(b, nb);
}

/* A stack for forward value v: pushed in the forward body, popped in the
 * backward body.  Returns the pop.  A value inside a cond branch of the
 * body is pushed only in the iterations that take the branch, and popped
 * only in theirs (the stack handle is switched on the popped predicate),
 * as TF does. */
static sl_output stack_value(sl__walk *w, sl__loop_grad *lg, sl_output v)
{
    sl_b *b = &w->b;
    const sl__cf_frame *fr = frame_of(w, lg);
    sl_dtype t = sl__b_dtype(v);
    int branch = 0;
    int sw = sl_node_id(v.node) < w->n0 ? sl__cf_cond_of(w->cf, v, &branch) : -1;
    sl_output pred = SL_NO_OUTPUT, pred_b = SL_NO_OUTPUT;
    if (sw >= 0) {
        sl_node *s = sl_graph_node(w->g, sw);
        if (w->cf->cond_switch[sw] >= 0) {
            sl__b_fail(b, SL_UNIMPLEMENTED,
                       "node '%s' (%s): gradients of a cond nested in a cond inside a while_loop are not "
                       "implemented yet", sl_node_name(v.node), sl_node_op_type(v.node));
            return SL_NO_OUTPUT;
        }
        pred = sl_node_input(s, 1);
        pred_b = backward_value(w, lg, pred);
        if (!sl__has(pred_b))
            return SL_NO_OUTPUT;
    }
    sl_node_builder *nb = sl__b_begin(b, "StackV2");
    sl__b_in(b, nb, sl__b_scalar_i32(b, -1));
    if (nb) {
        sl_node_builder_set_attr_type(nb, "elem_type", t);
        char name[600];
        snprintf(name, sizeof(name), "%s:%d", sl_node_name(v.node), v.index);
        sl_node_builder_set_attr_string(nb, "stack_name", name, strlen(name));
    }
    sl_node *stack = sl__b_end_node(b, nb);
    (void)fr;
    sl_node *hf = stack ? enter_chain(w, lg, (sl_output){stack, 0}, true).node : NULL;
    sl_node *push = hf ? node2(b, "StackPushV2", (sl_output){hf, 0}, v) : NULL;
    if (push && control(b, push, lg->f_pivot))
        control(b, lg->f_add, sw < 0 ? push : branch_sync(b, push, pred, branch, lg->f_pivot));
    sl_output hb = push ? enter_chain(w, lg, (sl_output){stack, 0}, false) : SL_NO_OUTPUT;
    if (sw >= 0 && sl__has(hb)) {
        sl_node *gate = node2(b, "Switch", hb, pred_b);
        hb = gate ? (sl_output){gate, branch} : SL_NO_OUTPUT;
    }
    nb = sl__has(hb) ? sl__b_begin(b, "StackPopV2") : NULL;
    sl__b_in(b, nb, hb);
    if (nb) {
        sl_node_builder_set_attr_type(nb, "elem_type", t);
        sl_node_builder_add_control_input(nb, lg->b_pivot);
    }
    sl_node *pop = sl__b_end_node(b, nb);
    if (!pop)
        return SL_NO_OUTPUT;
    pop->output_shapes[0] = *sl_node_output_shape(v.node, v.index);
    control(b, lg->b_sub, sw < 0 ? pop : branch_sync(b, pop, pred_b, branch, lg->b_pivot));
    lg->num_stacks++;
    return (sl_output){pop, 0};
}

/* A copy of Const node c inside the backward loop. */
static sl_output copy_const(sl__walk *w, sl__loop_grad *lg, const sl_node *c)
{
    const sl_tensor *t = NULL;
    if (!sl_node_attr_tensor(c, "value", &t)) {
        sl__b_fail(&w->b, SL_INTERNAL, "constant '%s' has no value", sl_node_name(c));
        return SL_NO_OUTPUT;
    }
    sl_output o = sl__b_const(&w->b, t);
    if (sl__has(o))
        control(&w->b, o.node, lg->b_pivot);
    return o;
}

/* Forward value v of the frame around lg's loop, entered into the
 * backward loop (through the enclosing backward loop's own mapping). */
static sl_output outer_value(sl__walk *w, sl__loop_grad *lg, sl_output v)
{
    if (lg->parent)
        v = backward_value(w, lg->parent, v);
    if (!sl__has(v))
        return SL_NO_OUTPUT;
    return (sl_output){enter(&w->b, v, lg->bframe, true, lg->parallel), 0};
}

/* What stands for forward value v inside the backward loop (made once). */
static sl_output backward_value(sl__walk *w, sl__loop_grad *lg, sl_output v)
{
    for (int i = 0; i < lg->num_map; i++)
        if (lg->map[i].fwd.node == v.node && lg->map[i].fwd.index == v.index)
            return lg->map[i].bwd;
    const sl__cf_frame *fr = frame_of(w, lg);
    int f = sl__cf_output_frame(w->cf, v.node);
    const char *op = sl_node_op_type(v.node);
    sl_output r = SL_NO_OUTPUT;
    if (f == fr->parent) {
        r = outer_value(w, lg, v);                                    /* a tensor from outside */
    } else if (f == lg->frame && sl__cf_is_const_enter(v.node)) {
        r = outer_value(w, lg, sl_node_input(v.node, 0));             /* an invariant */
    } else if (f == lg->frame && !strcmp(op, "Const")) {
        r = copy_const(w, lg, v.node);
    } else if (f == lg->frame) {
        r = stack_value(w, lg, v);
    } else {
        sl__b_fail(&w->b, SL_UNIMPLEMENTED,
                   "node '%s' (%s): its gradient in loop '%s' needs '%s' from another loop frame",
                   sl_node_name(v.node), op, fr->name, sl_node_name(v.node));
    }
    if (!sl__has(r))
        return SL_NO_OUTPUT;
    if (lg->num_map == lg->cap_map) {
        int cap = lg->cap_map ? lg->cap_map * 2 : 8;
        val_map *p = sl_realloc(lg->map, (size_t)cap * sizeof(*p));
        if (!p) {
            sl__b_fail(&w->b, SL_RESOURCE_EXHAUSTED, "out of memory differentiating a loop");
            return SL_NO_OUTPUT;
        }
        lg->map = p;
        lg->cap_map = cap;
    }
    lg->map[lg->num_map++] = (val_map){v, r};
    return r;
}

sl_code sl__while_grad_adopt(sl__walk *w, sl__loop_grad *lg, int mark, sl_output *outs, int n_outs)
{
    sl_b *b = &w->b;
    int end = sl_graph_num_nodes(w->g);
    for (int id = mark; id < end && !b->failed; id++) {
        sl_node *m = sl_graph_node(w->g, id);
        for (int i = 0; i < sl_node_num_inputs(m) && !b->failed; i++) {
            sl_output in = sl_node_input(m, i);
            if (sl_node_id(in.node) >= w->n0)
                continue;
            sl_output r = backward_value(w, lg, in);
            if (sl__has(r) && !sl__node_set_input(m, i, r))
                sl__b_fail(b, SL_RESOURCE_EXHAUSTED, "out of memory differentiating a loop");
        }
        if (sl_node_num_inputs(m) == 0 && sl_node_num_control_inputs(m) == 0)
            control(b, m, lg->b_pivot);
    }
    for (int i = 0; i < n_outs && !b->failed; i++)
        if (sl__has(outs[i]) && sl_node_id(outs[i].node) < w->n0)
            outs[i] = backward_value(w, lg, outs[i]);
    return b->failed ? sl_status_code(b->status) : SL_OK;
}

/* ---- The loop ---------------------------------------------------------- */

/* Releases the walk's hold on the loop's inputs (the Enters' sources). */
static void release_enters(sl__walk *w, const sl__cf_frame *fr)
{
    for (int i = 0; i < fr->num_enters; i++) {
        sl_node *e = fr->enters[i];
        if (w->between[sl_node_id(e)] && sl__walk_follows(w, e, 0))
            sl__walk_release(w, e, 0);
    }
}

static sl_output exit_grad(sl__walk *w, const sl_node *exit)
{
    const sl_output *agg = exit ? w->agg[sl_node_id(exit)] : NULL;
    return agg ? agg[0] : SL_NO_OUTPUT;
}

/* Sums two optional gradients. */
static sl_output add_opt(sl_b *b, sl_output x, sl_output y)
{
    if (!sl__has(x))
        return y;
    if (!sl__has(y))
        return x;
    return sl__b_binary(b, "AddV2", x, y);
}

static sl_code build(sl__walk *w, sl__loop_grad *lg)
{
    sl_b *b = &w->b;
    const sl__cf_frame *fr = frame_of(w, lg);
    sl_graph *g = w->g;
    grad_var *gv = NULL;
    sl_code rc = SL_OK;
    if (fr->parent != 0 && !lg->parent)
        return sl__b_fail(b, SL_INTERNAL, "loop '%s' reached before the loop around it", fr->name);
    if (!fr->structure_ok)
        return sl__b_fail(b, SL_UNIMPLEMENTED, "loop '%s': cannot differentiate: %s", fr->name, fr->why);
    for (int i = 0; i < fr->num_enters && fr->parent != 0; i++) {
        int branch;
        if (sl__cf_cond_of(w->cf, sl_node_input(fr->enters[i], 0), &branch) >= 0)
            return sl__b_fail(b, SL_UNIMPLEMENTED,
                              "loop '%s': gradients of a while_loop in a cond inside another loop are not "
                              "implemented yet", fr->name);
    }
    bool any = false;
    for (int i = 0; i < fr->num_exits; i++)
        any |= sl__has(exit_grad(w, fr->exits[i]));
    if (!any) {   /* no gradient reaches the loop: nothing flows into it either */
        release_enters(w, fr);
        return SL_OK;
    }

    lg->parallel = fr->parallel;
    char *scope = sl__graph_scoped_name(g, fr->name);
    size_t len = scope ? strlen(scope) + 8 : 0;
    lg->bframe = scope ? sl_malloc(len) : NULL;
    gv = sl_calloc((size_t)fr->num_vars + 1, sizeof(*gv));
    if (!lg->bframe || !gv) {
        sl_free(scope);
        sl_free(gv);
        return sl__b_fail(b, SL_RESOURCE_EXHAUSTED, "out of memory differentiating a loop");
    }
    snprintf(lg->bframe, len, "%s_grad", scope);
    sl_free(scope);

    int pushed = push_frame_scope(g, fr->name);
    build_counters(w, lg);
    lg->started = true;
    for (int i = 0; i < fr->num_vars && !b->failed; i++) {
        const sl__loop_var *v = &fr->vars[i];
        if (!w->between[sl_node_id(v->merge)])
            continue;
        sl_output g0 = exit_grad(w, v->exit);
        if (!sl__has(g0)) {
            int mark = sl_graph_num_nodes(g);
            g0 = sl__b_zeros_like(b, v->exit ? (sl_output){v->exit, 0} : sl_node_input(v->enter, 0));
            adopt_outside(w, lg, mark);
        }
        gv[i] = backward_var(w, lg, g0);
    }
    pop_scopes(g, pushed);
    if (b->failed)
        goto out;

    /* the body, by a sub-walk from the NextIteration inputs */
    int from = w->qtail;
    for (int i = 0; i < fr->num_vars; i++) {
        const sl__loop_var *v = &fr->vars[i];
        if (!gv[i].merge || !sl__walk_follows(w, v->next, 0))
            continue;
        if (!sl__walk_add_grad(w, sl_node_input(v->next, 0), gv[i].body)) {
            rc = sl__b_fail(b, SL_RESOURCE_EXHAUSTED, "out of memory differentiating a loop");
            goto out;
        }
        sl__walk_release(w, v->next, 0);
    }
    if ((rc = sl__walk_drain(w, from)) != SL_OK)
        goto out;

    pushed = push_frame_scope(g, fr->name);
    for (int i = 0; i < fr->num_vars && !b->failed; i++) {
        const sl__loop_var *v = &fr->vars[i];
        if (!gv[i].merge)
            continue;
        /* dL/d(body input) of this iteration: dL/d(body result) of the previous */
        sl_output d = add_opt(b, sl__walk_sum(w, (sl_output){v->sw, 1}), sl__walk_sum(w, (sl_output){v->merge, 0}));
        if (!sl__has(d) && !b->failed)
            d = sl__b_zeros_like(b, gv[i].body);
        close_loop(b, gv[i].merge, d);
        if (!b->failed && w->between[sl_node_id(v->enter)] && sl__walk_follows(w, v->enter, 0) &&
            !sl__walk_add_grad(w, sl_node_input(v->enter, 0), (sl_output){gv[i].exit, 0}))
            sl__b_fail(b, SL_RESOURCE_EXHAUSTED, "out of memory differentiating a loop");
    }
    /* loop invariants: the sum over the iterations */
    for (int i = 0; i < fr->num_enters && !b->failed; i++) {
        sl_node *e = fr->enters[i];
        if (!sl__cf_is_const_enter(e) || !w->between[sl_node_id(e)] || !sl__walk_follows(w, e, 0))
            continue;
        sl_output d = sl__walk_sum(w, (sl_output){e, 0});
        if (!sl__has(d))
            continue;
        int mark = sl_graph_num_nodes(g);
        sl_output zeros = sl__b_zeros_like(b, sl_node_input(e, 0));
        adopt_outside(w, lg, mark);
        grad_var acc = backward_var(w, lg, zeros);
        if (b->failed)
            break;
        close_loop(b, acc.merge, sl__b_binary(b, "AddV2", acc.body, d));
        if (!b->failed && !sl__walk_add_grad(w, sl_node_input(e, 0), (sl_output){acc.exit, 0}))
            sl__b_fail(b, SL_RESOURCE_EXHAUSTED, "out of memory differentiating a loop");
    }
    pop_scopes(g, pushed);
    if (!b->failed)
        release_enters(w, fr);
out:
    sl_free(gv);
    if (b->failed)
        rc = sl_status_code(b->status);
    return rc;
}

sl_code sl__while_grad_exit(sl__walk *w, sl_node *exit)
{
    int f = w->cf->frame_of[sl_node_id(exit)];
    if (f <= 0 || !w->loops)
        return sl__b_fail(&w->b, SL_INVALID_ARGUMENT, "node '%s' (Exit) is not inside a loop frame",
                          sl_node_name(exit));
    sl__loop_grad *lg = w->loops[f];
    if (!lg) {
        lg = w->loops[f] = sl_calloc(1, sizeof(*lg));
        if (!lg)
            return sl__b_fail(&w->b, SL_RESOURCE_EXHAUSTED, "out of memory differentiating a loop");
        lg->frame = f;
        int p = w->cf->frames[f].parent;
        lg->parent = p > 0 ? w->loops[p] : NULL;
    }
    const sl__cf_frame *fr = frame_of(w, lg);
    int on_walk = 0;
    for (int i = 0; i < fr->num_exits; i++)
        on_walk += w->between[sl_node_id(fr->exits[i])];
    if (++lg->exits_done < on_walk)
        return SL_OK;
    return build(w, lg);
}
