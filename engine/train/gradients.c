/* Symbolic differentiation (paper 4.1): the gradient-function registry and
 * sl_add_gradients(), which walks back from the loss adding each op's
 * gradient nodes (see sluice/gradients.h for the contract).
 *
 * The walk, as TF's gradients_impl: mark the nodes forward-reachable from
 * the xs, then the "between" nodes backward-reachable from the ys among
 * them; count for each between node the data edges to between consumers
 * (its pending gradients); start from the ys and process a node once all
 * its consumers have sent their gradients, summing several with AddN.
 * Only edges carrying trainable tensors (floating, complex, resource) are
 * followed, which leaves shape arithmetic and indices out of the walk.
 * Cost: O(nodes + edges) plus the gradient nodes built. */
#include "config.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "graph-private.h"
#include "grad/grad-private.h"
#include "grad/walk-private.h"
#include "sluice/alloc.h"
#include "strmap.h"

/* ---- Registry ------------------------------------------------------------ */

static sl_strmap g_registry = SL_STRMAP_INIT;
static pthread_once_t g_once = PTHREAD_ONCE_INIT;

static sl_code register_entry(const sl_grad_entry *e, sl_status *status)
{
    if (!e->fn && !(e->flags & SL_GRAD_NOT_DIFFERENTIABLE))
        return sl_status_set(status, SL_INVALID_ARGUMENT,
                             "gradient of '%s': no function and not marked not differentiable", e->op);
    if (sl_strmap_get(&g_registry, e->op))
        return sl_status_set(status, SL_ALREADY_EXISTS, "gradient of '%s' registered twice", e->op);
    sl_grad_entry *copy = sl_malloc(sizeof(*copy));
    char *name = sl_strdup(e->op);
    if (!copy || !name || !sl_strmap_put(&g_registry, name, copy)) {
        sl_free(copy);
        sl_free(name);
        return sl_status_set(status, SL_RESOURCE_EXHAUSTED, "out of memory registering a gradient");
    }
    *copy = *e;
    copy->op = name;
    sl_status_clear(status);
    return SL_OK;
}

void sl__grad_register_table(const sl_grad_entry *t, int n)
{
    for (int i = 0; i < n; i++) {
        sl_code c = register_entry(&t[i], NULL);
        if (c != SL_OK && c != SL_ALREADY_EXISTS) {
            fprintf(stderr, "sluice: cannot register the gradient of '%s'\n", t[i].op);
        }
    }
}

static void register_builtin(void)
{
    sl__grads_register_math();
    sl__grads_register_nn();
    sl__grads_register_array();
    sl__grads_register_cond();
}

/* Frees the registry at exit so leak checkers report only real leaks. */
__attribute__((destructor)) static void free_registry(void)
{
    for (size_t i = 0; i < g_registry.cap; i++) {
        if (g_registry.keys && g_registry.keys[i] && g_registry.values[i]) {
            sl_grad_entry *e = g_registry.values[i];
            sl_free((char *)e->op);
            sl_free(e);
        }
    }
    sl_strmap_release(&g_registry);
}

static const sl_grad_entry *lookup(const char *op)
{
    pthread_once(&g_once, register_builtin);
    return sl_strmap_get(&g_registry, op);
}

sl_code sl_gradient_register(const char *op_type, sl_grad_fn fn, unsigned flags, sl_status *status)
{
    pthread_once(&g_once, register_builtin);
    if (!op_type || !*op_type)
        return sl_status_set(status, SL_INVALID_ARGUMENT, "gradient registration without an op name");
    sl_grad_entry e = {op_type, fn, flags};
    return register_entry(&e, status);
}

bool sl_gradient_is_registered(const char *op_type)
{
    return op_type && lookup(op_type) != NULL;
}

/* ---- Context for gradient functions ------------------------------------- */

sl_graph *sl_grad_ctx_graph(sl_grad_ctx *ctx)
{
    return ctx->b.graph;
}

sl_status *sl_grad_ctx_status(sl_grad_ctx *ctx)
{
    return ctx->b.status;
}

void sl_grad_ctx_fail(sl_grad_ctx *ctx, sl_code code, const char *fmt, ...)
{
    if (ctx->b.failed)
        return;
    va_list ap;
    va_start(ap, fmt);
    sl_status_setv(ctx->b.status, code, fmt, ap);
    va_end(ap);
    ctx->b.failed = true;
}

/* ---- The walk ------------------------------------------------------------- */

static bool is_trainable(sl_dtype t)
{
    t = sl_dtype_base(t);
    return sl_dtype_is_floating(t) || sl_dtype_is_complex(t) || t == SL_DTYPE_RESOURCE;
}

typedef sl__walk walk;
typedef sl__grad_list grad_list;

bool sl__walk_add_grad(walk *w, sl_output at, sl_output g)
{
    int id = sl_node_id(at.node);
    if (!w->grads[id]) {
        w->grads[id] = sl_calloc((size_t)sl_node_num_outputs(at.node) + 1, sizeof(grad_list));
        if (!w->grads[id])
            return false;
    }
    grad_list *l = &w->grads[id][at.index];
    if (l->n == l->cap) {
        int cap = l->cap ? l->cap * 2 : 2;
        sl_output *v = sl_realloc(l->v, sizeof(*v) * (size_t)cap);
        if (!v)
            return false;
        l->v = v;
        l->cap = cap;
    }
    l->v[l->n++] = g;
    return true;
}

/* Whether input i of node is an edge the walk follows. */
bool sl__walk_follows(const walk *w, const sl_node *n, int i)
{
    sl_output src = sl_node_input(n, i);
    int id = sl_node_id(src.node);
    return id < w->n0 && w->between[id] && is_trainable(sl_node_output_type(src.node, src.index));
}

/* Pushes one scope per component of "a/b/c" + "_grad" on the last;
 * returns how many were pushed. */
static int push_op_scope(sl_graph *g, const char *name)
{
    int pushed = 0;
    char buf[512];
    snprintf(buf, sizeof(buf), "%s_grad", name);
    char *save = NULL;
    for (char *tok = strtok_r(buf, "/", &save); tok; tok = strtok_r(NULL, "/", &save)) {
        if (sl_graph_push_scope(g, tok, NULL) == SL_OK)
            pushed++;
    }
    return pushed;
}

/* The first "gradients", "gradients_1", ... that no node name starts with. */
static void pick_root_scope(const sl_graph *g, char *out, size_t size)
{
    for (int k = 0;; k++) {
        if (k == 0)
            snprintf(out, size, "gradients");
        else
            snprintf(out, size, "gradients_%d", k);
        size_t len = strlen(out);
        bool used = false;
        for (int i = 0; i < sl_graph_num_nodes(g) && !used; i++) {
            const char *nm = sl_node_name(sl_graph_node(g, i));
            used = !strncmp(nm, out, len) && (nm[len] == '/' || nm[len] == 0);
        }
        if (!used)
            return;
    }
}

static sl_output sum_list(walk *w, grad_list *l)
{
    if (!l || l->n == 0)
        return SL_NO_OUTPUT;
    if (l->n == 1)
        return l->v[0];
    sl_node_builder *nb = sl__b_begin(&w->b, "AddN");
    if (nb)
        sl_node_builder_add_input_list(nb, l->v, l->n);
    return sl__b_end(&w->b, nb);
}

sl_output sl__walk_sum(walk *w, sl_output at)
{
    int id = sl_node_id(at.node);
    return sum_list(w, w->grads[id] ? &w->grads[id][at.index] : NULL);
}

void sl__walk_release(walk *w, const sl_node *n, int i)
{
    int src = sl_node_id(sl_node_input(n, i).node);
    if (--w->pending[src] == 0)
        w->queue[w->qtail++] = src;
}

static sl_code fail_oom(walk *w, const sl_node *n)
{
    return sl__b_fail(&w->b, SL_RESOURCE_EXHAUSTED, "out of memory differentiating '%s'", sl_node_name(n));
}

static sl_code process(walk *w, sl_node *n)
{
    int id = sl_node_id(n), no = sl_node_num_outputs(n), ni = sl_node_num_inputs(n);
    const char *type = sl_node_op_type(n);
    sl_code rc = SL_OK;
    sl_output *dy = NULL, *dx = NULL;
    sl__cf_kind kind = sl__cf_kind_of(w->cf, n);
    if (kind == SL_CF_LOOP_OTHER)
        return SL_OK;  /* built with the whole loop, when the walk reaches its exits */
    int mark = sl_graph_num_nodes(w->g);
    sl__loop_grad *lg = kind == SL_CF_LOOP_EXIT ? NULL : sl__while_grad_of(w, n);
    int pushed = push_op_scope(w->g, sl_node_name(n));

    w->agg[id] = sl_calloc((size_t)no + 1, sizeof(sl_output));
    if (!w->agg[id]) {
        rc = fail_oom(w, n);
        goto out;
    }
    bool any = false;
    for (int i = 0; i < no; i++) {
        w->agg[id][i] = sum_list(w, w->grads[id] ? &w->grads[id][i] : NULL);
        any |= sl__has(w->agg[id][i]);
    }
    if (w->b.failed)
        goto out_failed;
    if (kind == SL_CF_LOOP_EXIT) {
        for (int i = 0; i < pushed; i++)
            sl_graph_pop_scope(w->g);
        return sl__while_grad_exit(w, n);   /* releases what it is done with */
    }
    if (w->cf->frame_of[id] != 0 && !lg) {
        rc = sl__b_fail(&w->b, SL_INTERNAL, "node '%s' (%s) inside a loop reached before its loop's exits",
                        sl_node_name(n), type);
        goto out;
    }
    bool has_walked_input = false;
    for (int i = 0; i < ni; i++)
        has_walked_input |= sl__walk_follows(w, n, i);
    if (!any || !has_walked_input || !strcmp(type, "StopGradient"))
        goto out;
    if (!strcmp(type, "PreventGradient")) {
        const char *msg = "";
        size_t len = 0;
        sl_node_attr_string(n, "message", &msg, &len);
        rc = sl__b_fail(&w->b, SL_INVALID_ARGUMENT,
                        "node '%s' (PreventGradient): gradient explicitly disabled%s%.*s", sl_node_name(n),
                        len ? ": " : "", (int)len, msg);
        goto out;
    }
    const sl_grad_entry *e = lookup(type);
    if (!e) {
        rc = sl__b_fail(&w->b, kind == SL_CF_NONE ? SL_NOT_FOUND : SL_UNIMPLEMENTED,
                        "node '%s' (%s): no gradient defined for op '%s'", sl_node_name(n), type, type);
        goto out;
    }
    if (e->flags & SL_GRAD_NOT_DIFFERENTIABLE)
        goto out;
    dy = sl_calloc((size_t)no + 1, sizeof(*dy));
    dx = sl_calloc((size_t)ni + 1, sizeof(*dx));
    if (!dy || !dx) {
        rc = fail_oom(w, n);
        goto out;
    }
    for (int i = 0; i < no; i++) {
        dy[i] = w->agg[id][i];
        if (!sl__has(dy[i]) && !(e->flags & SL_GRAD_ALLOW_MISSING))
            dy[i] = sl__b_zeros_like(&w->b, (sl_output){n, i});
    }
    if (w->b.failed)
        goto out_failed;
    sl_grad_ctx ctx = {.b = w->b, .op = n};
    e->fn(&ctx, n, dy, dx);
    w->b = ctx.b;
    if (w->b.failed)
        goto out_failed;
    /* inside a loop: the new nodes belong to the backward loop */
    if (lg && sl__while_grad_adopt(w, lg, mark, dx, ni) != SL_OK)
        goto out_failed;
    for (int i = 0; i < ni; i++) {
        if (sl__has(dx[i]) && sl__walk_follows(w, n, i) && !sl__walk_add_grad(w, sl_node_input(n, i), dx[i])) {
            rc = fail_oom(w, n);
            goto out;
        }
    }
    goto out;
out_failed:
    rc = sl_status_code(w->b.status);
    /* builder messages name the gradient node; say which forward op it was for */
    char who[600];
    snprintf(who, sizeof(who), "node '%s' (%s)", sl_node_name(n), type);
    if (strncmp(sl_status_message(w->b.status), who, strlen(who)))
        sl_status_prefix(w->b.status, "gradient of %s", who);
out:
    for (int i = 0; i < pushed; i++)
        sl_graph_pop_scope(w->g);
    sl_free(dy);
    sl_free(dx);
    if (rc != SL_OK)
        return rc;
    /* release the consumers' hold on our inputs */
    for (int i = 0; i < ni; i++)
        if (sl__walk_follows(w, n, i))
            sl__walk_release(w, n, i);
    return SL_OK;
}

sl_code sl__walk_drain(walk *w, int from)
{
    for (int head = from; head < w->qtail;) {
        sl_code rc = process(w, sl_graph_node(w->g, w->queue[head++]));
        if (rc != SL_OK)
            return rc;
    }
    w->qtail = from;
    return SL_OK;
}

static void walk_release(walk *w)
{
    for (int i = 0; i < w->n0; i++) {
        if (w->grads && w->grads[i]) {
            int no = sl_node_num_outputs(sl_graph_node(w->g, i));
            for (int k = 0; k < no; k++)
                sl_free(w->grads[i][k].v);
            sl_free(w->grads[i]);
        }
        if (w->agg)
            sl_free(w->agg[i]);
    }
    sl_free(w->grads);
    sl_free(w->agg);
    sl_free(w->reached);
    sl_free(w->between);
    sl_free(w->pending);
    sl_free(w->queue);
    sl__while_grad_release(w);
    sl__cf_info_free(w->cf);
}

static bool check_output(const sl_graph *g, sl_output o)
{
    return o.node && sl_node_id(o.node) < sl_graph_num_nodes(g) &&
           sl_graph_node(g, sl_node_id(o.node)) == o.node && o.index >= 0 &&
           o.index < sl_node_num_outputs(o.node);
}

sl_code sl_add_gradients(sl_graph *g, const sl_output *ys, int ny, const sl_output *xs, int nx,
                         const sl_output *dys, sl_output *dxs, sl_status *status)
{
    if (!g || !ys || !xs || !dxs || ny < 1 || nx < 1)
        return sl_status_set(status, SL_INVALID_ARGUMENT, "sl_add_gradients: missing ys, xs or dxs");
    for (int i = 0; i < ny; i++)
        if (!check_output(g, ys[i]))
            return sl_status_set(status, SL_INVALID_ARGUMENT, "y %d is not an output of a node in the graph", i);
    for (int i = 0; i < nx; i++)
        if (!check_output(g, xs[i]))
            return sl_status_set(status, SL_INVALID_ARGUMENT, "x %d is not an output of a node in the graph", i);
    for (int i = 0; dys && i < ny; i++)
        if (dys[i].node && !check_output(g, dys[i]))
            return sl_status_set(status, SL_INVALID_ARGUMENT, "dy %d is not an output of a node in the graph", i);

    /* the kernels of gradient-only ops; a failure here only shows when running */
    walk w = {.g = g, .n0 = sl_graph_num_nodes(g), .b = {.graph = g, .status = status}};
    size_t n0 = (size_t)w.n0 + 1;
    sl_code rc = SL_OK;
    int pushed = 0;
    w.reached = sl_calloc(n0, sizeof(bool));
    w.between = sl_calloc(n0, sizeof(bool));
    w.pending = sl_calloc(n0, sizeof(int));
    w.grads = sl_calloc(n0, sizeof(*w.grads));
    w.agg = sl_calloc(n0, sizeof(*w.agg));
    w.queue = sl_calloc(n0, sizeof(int));
    if (!w.reached || !w.between || !w.pending || !w.grads || !w.agg || !w.queue) {
        rc = sl_status_set(status, SL_RESOURCE_EXHAUSTED, "out of memory computing gradients");
        goto out;
    }
    if (!(w.cf = sl__cf_info_new(g, w.n0, status))) {
        rc = sl_status_code(status);
        goto out;
    }
    if (w.cf->num_frames > 1 && !(w.loops = sl_calloc((size_t)w.cf->num_frames, sizeof(*w.loops)))) {
        rc = sl_status_set(status, SL_RESOURCE_EXHAUSTED, "out of memory computing gradients");
        goto out;
    }
    for (int i = 0; i < ny + nx; i++) {
        sl_output o = i < ny ? ys[i] : xs[i - ny];
        if (w.cf->frame_of[sl_node_id(o.node)] != 0 && sl__cf_kind_of(w.cf, o.node) != SL_CF_LOOP_EXIT) {
            rc = sl_status_set(status, SL_UNIMPLEMENTED,
                               "%s '%s' is inside a while loop: differentiate the loop's outputs instead",
                               i < ny ? "y" : "x", sl_node_name(o.node));
            goto out;
        }
    }

    /* 1. forward from the xs (queue used as a stack) */
    int top = 0;
    for (int i = 0; i < nx; i++) {
        int id = sl_node_id(xs[i].node);
        if (!w.reached[id]) {
            w.reached[id] = true;
            w.queue[top++] = id;
        }
    }
    while (top > 0) {
        sl_node *n = sl_graph_node(g, w.queue[--top]);
        for (int k = 0; k < sl_node_num_out_edges(n); k++) {
            const sl_edge *e = sl_node_out_edge(n, k);
            if (e->dst_input < 0 || !is_trainable(sl_node_output_type(n, e->src_output)))
                continue;
            int d = sl_node_id(e->dst);
            if (d < w.n0 && !w.reached[d]) {
                w.reached[d] = true;
                w.queue[top++] = d;
            }
        }
    }
    /* 2. backward from the ys among the reached */
    for (int i = 0; i < ny; i++) {
        int id = sl_node_id(ys[i].node);
        if (w.reached[id] && !w.between[id]) {
            w.between[id] = true;
            w.queue[top++] = id;
        }
    }
    while (top > 0) {
        sl_node *n = sl_graph_node(g, w.queue[--top]);
        for (int i = 0; i < sl_node_num_inputs(n); i++) {
            sl_output src = sl_node_input(n, i);
            int s = sl_node_id(src.node);
            if (w.reached[s] && !w.between[s] && is_trainable(sl_node_output_type(src.node, src.index))) {
                w.between[s] = true;
                w.queue[top++] = s;
            }
        }
    }
    /* 3. pending counts */
    for (int id = 0; id < w.n0; id++) {
        if (!w.between[id])
            continue;
        sl_node *n = sl_graph_node(g, id);
        for (int i = 0; i < sl_node_num_inputs(n); i++)
            if (sl__walk_follows(&w, n, i))
                w.pending[sl_node_id(sl_node_input(n, i).node)]++;
    }

    char root[32];
    pick_root_scope(g, root, sizeof(root));
    if ((rc = sl_graph_push_scope(g, root, status)) != SL_OK)
        goto out;
    pushed = 1;

    /* 4. initial gradients */
    for (int i = 0; i < ny; i++) {
        if (!w.between[sl_node_id(ys[i].node)])
            continue;
        sl_output dy = dys && dys[i].node ? dys[i] : sl__b_unary(&w.b, "OnesLike", ys[i]);
        if (w.b.failed) {
            rc = sl_status_code(status);
            goto out;
        }
        if (!sl__walk_add_grad(&w, ys[i], dy)) {
            rc = sl_status_set(status, SL_RESOURCE_EXHAUSTED, "out of memory computing gradients");
            goto out;
        }
    }
    /* 5. the walk, in reverse topological order */
    w.qhead = w.qtail = 0;
    for (int id = 0; id < w.n0; id++)
        if (w.between[id] && w.pending[id] == 0)
            w.queue[w.qtail++] = id;
    while (w.qhead < w.qtail) {
        if ((rc = process(&w, sl_graph_node(g, w.queue[w.qhead++]))) != SL_OK)
            goto out;
    }
    for (int i = 0; i < nx; i++) {
        int id = sl_node_id(xs[i].node);
        sl_output r = w.agg[id] ? w.agg[id][xs[i].index] : SL_NO_OUTPUT;
        if (!w.agg[id] && w.grads[id])  /* never processed: cannot happen for a between node */
            r = SL_NO_OUTPUT;
        dxs[i] = r;
    }
    sl_status_clear(status);
out:
    if (pushed)
        sl_graph_pop_scope(g);
    if (rc != SL_OK && w.n0 < sl_graph_num_nodes(g))
        sl__graph_truncate(g, w.n0);
    walk_release(&w);
    return rc;
}
