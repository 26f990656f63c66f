/* Optimizers as graph builders (see sluice/optimizers.h): variables with
 * initializers, the global step, learning-rate schedules, clipping by
 * global norm, slot variables and the Apply* update ops. */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "build.h"
#include "graph-private.h"
#include "sluice/alloc.h"
#include "sluice/gradients.h"
#include "sluice/optimizers.h"

/* ---- Variables ------------------------------------------------------------- */

static sl_output zeros_fill(sl_b *b, sl_dtype dtype, const sl_shape *shape, double value)
{
    return sl__b_binary(b, "Fill", sl__b_const_i64(b, shape->dims, shape->rank), sl__b_scalar(b, dtype, value));
}

sl_output sl_variable(sl_graph *g, const char *name, sl_dtype dtype, const sl_shape *shape, sl_output initial,
                      sl_status *status)
{
    if (!g || !name || !shape || !sl_shape_is_fully_defined(shape) || !initial.node) {
        sl_status_set(status, SL_INVALID_ARGUMENT, "variable '%s': needs a name, a fully defined shape and an initial value",
                      name ? name : "?");
        return SL_NO_OUTPUT;
    }
    int n0 = sl_graph_num_nodes(g);
    sl_b b = {.graph = g, .status = status};
    sl_node_builder *nb = sl__b_begin_named(&b, "VariableV2", name);
    if (nb) {
        sl_node_builder_set_attr_type(nb, "dtype", dtype);
        sl_node_builder_set_attr_shape(nb, "shape", shape);
    }
    sl_node *v = sl__b_end_node(&b, nb);
    if (v) {
        char buf[1024];
        /* the Assign goes beside the variable, named after it (not re-scoped) */
        snprintf(buf, sizeof(buf), "%s/Assign", sl_node_name(v));
        /* builders prefix the scope: hide it while naming by full name */
        int saved = g->num_scopes;
        g->num_scopes = 0;
        sl_node_builder *ab = sl__b_begin_named(&b, "Assign", buf);
        g->num_scopes = saved;
        sl__b_in(&b, ab, (sl_output){v, 0});
        sl__b_in(&b, ab, initial);
        sl__b_end_node(&b, ab);
    }
    if (b.failed) {
        sl__graph_truncate(g, n0);
        return SL_NO_OUTPUT;
    }
    sl_status_clear(status);
    return (sl_output){v, 0};
}

static bool is_initializer(const sl_node *n)
{
    if (strcmp(sl_node_op_type(n), "Assign") || sl_node_num_inputs(n) < 1)
        return false;
    const sl_node *v = sl_node_input(n, 0).node;
    size_t len = strlen(sl_node_name(v));
    return !strcmp(sl_node_op_type(v), "VariableV2") && !strncmp(sl_node_name(n), sl_node_name(v), len) &&
           !strcmp(sl_node_name(n) + len, "/Assign");
}

sl_node *sl_variables_initializer(sl_graph *g, const char *name, sl_status *status)
{
    sl_b b = {.graph = g, .status = status};
    sl_node_builder *nb = sl__b_begin_named(&b, "NoOp", name ? name : "init");
    for (int i = 0; nb && i < sl_graph_num_nodes(g); i++)
        if (is_initializer(sl_graph_node(g, i)))
            sl_node_builder_add_control_input(nb, sl_graph_node(g, i));
    return sl__b_end_node(&b, nb);
}

static sl_output global_step_in(sl_b *b)
{
    sl_node *n = sl_graph_find_node(b->graph, "global_step");
    if (n) {
        if (strcmp(sl_node_op_type(n), "VariableV2") || sl_dtype_base(sl_node_output_type(n, 0)) != SL_DTYPE_INT64) {
            sl__b_fail(b, SL_INVALID_ARGUMENT, "node 'global_step' exists but is not an int64 VariableV2");
            return SL_NO_OUTPUT;
        }
        return (sl_output){n, 0};
    }
    if (b->failed)
        return SL_NO_OUTPUT;
    /* made at the top level whatever the current scope */
    int saved = b->graph->num_scopes;
    b->graph->num_scopes = 0;
    sl_shape scalar = sl_shape_scalar();
    sl_output init = sl__b_scalar(b, SL_DTYPE_INT64, 0);
    sl_output v = b->failed ? SL_NO_OUTPUT : sl_variable(b->graph, "global_step", SL_DTYPE_INT64, &scalar, init, b->status);
    b->graph->num_scopes = saved;
    if (!v.node)
        b->failed = true;
    return v;
}

sl_output sl_global_step(sl_graph *g, sl_status *status)
{
    int n0 = sl_graph_num_nodes(g);
    sl_b b = {.graph = g, .status = status};
    sl_output v = global_step_in(&b);
    if (b.failed) {
        sl__graph_truncate(g, n0);
        return SL_NO_OUTPUT;
    }
    sl_status_clear(status);
    return v;
}

/* ---- Options, learning rate, clipping ------------------------------------- */

void sl_optimizer_options_init(sl_optimizer_options *o, sl_optimizer_kind kind)
{
    memset(o, 0, sizeof(*o));
    o->kind = kind;
    o->learning_rate = kind == SL_OPTIMIZER_ADAM ? 0.001 : 0.01;
    o->momentum = kind == SL_OPTIMIZER_MOMENTUM ? 0.9 : 0.0;
    o->beta1 = 0.9;
    o->beta2 = 0.999;
    o->epsilon = kind == SL_OPTIMIZER_RMSPROP ? 1e-10 : 1e-8;
    o->rho = 0.9;
    o->initial_accumulator = 0.1;
    o->schedule = SL_LR_CONSTANT;
    o->decay_rate = 1.0;
    o->decay_steps = 1;
}

const char *sl_optimizer_name(sl_optimizer_kind kind)
{
    static const char *const names[] = {"SGD", "Momentum", "Adam", "Adagrad", "RMSProp"};
    return (unsigned)kind < 5 ? names[kind] : "?";
}

static sl_output learning_rate_in(sl_b *b, const sl_optimizer_options *o, sl_dtype dtype)
{
    sl_output lr = sl__b_scalar(b, dtype, o->learning_rate);
    if (o->schedule == SL_LR_CONSTANT)
        return lr;
    if (o->decay_steps <= 0) {
        sl__b_fail(b, SL_INVALID_ARGUMENT, "learning-rate decay needs decay_steps > 0");
        return SL_NO_OUTPUT;
    }
    sl_output step = sl__b_cast(b, global_step_in(b), dtype);
    sl_output p = sl__b_binary(b, "RealDiv", step, sl__b_scalar(b, dtype, (double)o->decay_steps));
    if (o->staircase)
        p = sl__b_unary(b, "Floor", p);
    return sl__b_binary(b, "Mul", lr, sl__b_binary(b, "Pow", sl__b_scalar(b, dtype, o->decay_rate), p));
}

sl_output sl_learning_rate(sl_graph *g, const sl_optimizer_options *o, sl_dtype dtype, sl_status *status)
{
    int n0 = sl_graph_num_nodes(g);
    sl_b b = {.graph = g, .status = status};
    sl_output lr = learning_rate_in(&b, o, dtype);
    if (b.failed) {
        sl__graph_truncate(g, n0);
        return SL_NO_OUTPUT;
    }
    sl_status_clear(status);
    return lr;
}

static void clip_in(sl_b *b, sl_output *grads, int n, double clip, sl_output *norm_out)
{
    sl_output *sq = sl_calloc((size_t)n + 1, sizeof(*sq));
    int k = 0;
    sl_dtype dt = SL_DTYPE_INVALID;
    if (!sq) {
        sl__b_fail(b, SL_RESOURCE_EXHAUSTED, "out of memory clipping gradients");
        return;
    }
    for (int i = 0; i < n; i++) {
        if (!grads[i].node)
            continue;
        dt = sl__b_dtype(grads[i]);
        const sl_shape *s = sl__b_static_shape(grads[i]);
        sl_output axes;
        if (s->rank >= 0) {
            int32_t ax[SL_MAX_DIMS];
            for (int a = 0; a < s->rank; a++)
                ax[a] = a;
            axes = sl__b_const_i32(b, ax, s->rank);
        } else {
            sl_node_builder *nb = sl__b_begin(b, "Range");
            sl__b_in(b, nb, sl__b_scalar_i32(b, 0));
            sl__b_in(b, nb, sl__b_unary(b, "Rank", grads[i]));
            sl__b_in(b, nb, sl__b_scalar_i32(b, 1));
            axes = sl__b_end(b, nb);
        }
        sq[k++] = sl__b_reduce(b, "Sum", sl__b_unary(b, "Square", grads[i]), axes, false);
    }
    if (k > 0 && !b->failed) {
        sl_output total = sq[0];
        if (k > 1) {
            sl_node_builder *nb = sl__b_begin(b, "AddN");
            if (nb)
                sl_node_builder_add_input_list(nb, sq, k);
            total = sl__b_end(b, nb);
        }
        sl_output norm = sl__b_unary(b, "Sqrt", total);
        sl_output c = sl__b_scalar(b, dt, clip);
        sl_output scale = sl__b_binary(b, "RealDiv", c, sl__b_binary(b, "Maximum", norm, c));
        for (int i = 0; i < n; i++)
            if (grads[i].node)
                grads[i] = sl__b_binary(b, "Mul", grads[i], scale);
        if (norm_out)
            *norm_out = norm;
    }
    sl_free(sq);
}

sl_code sl_clip_by_global_norm(sl_graph *g, sl_output *grads, int n, double clip, sl_output *norm,
                               sl_status *status)
{
    if (clip <= 0)
        return sl_status_set(status, SL_INVALID_ARGUMENT, "clip norm must be positive, got %g", clip);
    int n0 = sl_graph_num_nodes(g);
    sl_b b = {.graph = g, .status = status};
    sl_output *copy = sl_malloc(sizeof(*copy) * (size_t)(n + 1));
    if (!copy)
        return sl_status_set(status, SL_RESOURCE_EXHAUSTED, "out of memory clipping gradients");
    memcpy(copy, grads, sizeof(*copy) * (size_t)n);
    sl_output nm = SL_NO_OUTPUT;
    clip_in(&b, copy, n, clip, &nm);
    if (b.failed) {
        sl_free(copy);
        sl__graph_truncate(g, n0);
        return sl_status_code(status);
    }
    memcpy(grads, copy, sizeof(*copy) * (size_t)n);
    sl_free(copy);
    if (norm)
        *norm = nm;
    sl_status_clear(status);
    return SL_OK;
}

/* ---- Slots and updates ------------------------------------------------------ */

/* A slot variable "<var>/<suffix>" filled with value; made once: *cache
 * keeps it for the next update of the same variable. */
static sl_output slot(sl_b *b, sl_output var, const char *suffix, double value, sl_output *cache)
{
    if (b->failed)
        return SL_NO_OUTPUT;
    if (cache->node)
        return *cache;
    char name[1024];
    snprintf(name, sizeof(name), "%s/%s", sl_node_name(var.node), suffix);
    const sl_shape *s = sl__b_static_shape(var);
    sl_dtype dt = sl__b_dtype(var);
    int saved = b->graph->num_scopes;
    b->graph->num_scopes = 0;
    sl_output v = sl_variable(b->graph, name, dt, s, zeros_fill(b, dt, s, value), b->status);
    b->graph->num_scopes = saved;
    if (!v.node)
        b->failed = true;
    *cache = v;
    return v;
}

/* slots: the variable's two slot variables, made on first use. */
static sl_node *apply(sl_b *b, const sl_optimizer_options *o, sl_output var, sl_output grad, sl_output lr,
                      sl_output *adam_powers, sl_output *slots)
{
    sl_dtype dt = sl__b_dtype(var);
    sl_node_builder *nb;
    switch (o->kind) {
    case SL_OPTIMIZER_SGD:
        nb = sl__b_begin(b, "ApplyGradientDescent");
        sl__b_in(b, nb, var);
        sl__b_in(b, nb, lr);
        sl__b_in(b, nb, grad);
        break;
    case SL_OPTIMIZER_MOMENTUM: {
        sl_output acc = slot(b, var, "Momentum", 0.0, &slots[0]);
        nb = sl__b_begin(b, "ApplyMomentum");
        sl__b_in(b, nb, var);
        sl__b_in(b, nb, acc);
        sl__b_in(b, nb, lr);
        sl__b_in(b, nb, grad);
        sl__b_in(b, nb, sl__b_scalar(b, dt, o->momentum));
        if (nb)
            sl_node_builder_set_attr_bool(nb, "use_nesterov", o->nesterov);
        break;
    }
    case SL_OPTIMIZER_ADAM: {
        sl_output m = slot(b, var, "Adam", 0.0, &slots[0]), v = slot(b, var, "Adam_1", 0.0, &slots[1]);
        nb = sl__b_begin(b, "ApplyAdam");
        sl__b_in(b, nb, var);
        sl__b_in(b, nb, m);
        sl__b_in(b, nb, v);
        sl__b_in(b, nb, adam_powers[0]);
        sl__b_in(b, nb, adam_powers[1]);
        sl__b_in(b, nb, lr);
        sl__b_in(b, nb, sl__b_scalar(b, dt, o->beta1));
        sl__b_in(b, nb, sl__b_scalar(b, dt, o->beta2));
        sl__b_in(b, nb, sl__b_scalar(b, dt, o->epsilon));
        sl__b_in(b, nb, grad);
        if (nb)
            sl_node_builder_set_attr_bool(nb, "use_nesterov", o->nesterov);
        break;
    }
    case SL_OPTIMIZER_ADAGRAD: {
        sl_output acc = slot(b, var, "Adagrad", o->initial_accumulator, &slots[0]);
        nb = sl__b_begin(b, "ApplyAdagrad");
        sl__b_in(b, nb, var);
        sl__b_in(b, nb, acc);
        sl__b_in(b, nb, lr);
        sl__b_in(b, nb, grad);
        break;
    }
    case SL_OPTIMIZER_RMSPROP: {
        sl_output ms = slot(b, var, "RMSProp", 1.0, &slots[0]), mom = slot(b, var, "RMSProp_1", 0.0, &slots[1]);
        nb = sl__b_begin(b, "ApplyRMSProp");
        sl__b_in(b, nb, var);
        sl__b_in(b, nb, ms);
        sl__b_in(b, nb, mom);
        sl__b_in(b, nb, lr);
        sl__b_in(b, nb, sl__b_scalar(b, dt, o->rho));
        sl__b_in(b, nb, sl__b_scalar(b, dt, o->momentum));
        sl__b_in(b, nb, sl__b_scalar(b, dt, o->epsilon));
        sl__b_in(b, nb, grad);
        break;
    }
    default:
        sl__b_fail(b, SL_INVALID_ARGUMENT, "unknown optimizer kind %d", (int)o->kind);
        return NULL;
    }
    return sl__b_end_node(b, nb);
}

/* A scalar variable at the top level (Adam's beta powers). */
static sl_output scalar_var(sl_b *b, const char *name, sl_dtype dt, double value)
{
    if (b->failed)
        return SL_NO_OUTPUT;
    sl_shape s = sl_shape_scalar();
    char *unique = sl_graph_unique_name(b->graph, name);
    int saved = b->graph->num_scopes;
    b->graph->num_scopes = 0;
    sl_output init = sl__b_scalar(b, dt, value);
    sl_output v = unique && !b->failed ? sl_variable(b->graph, unique, dt, &s, init, b->status) : SL_NO_OUTPUT;
    b->graph->num_scopes = saved;
    sl_free(unique);
    if (!v.node)
        sl__b_fail(b, SL_RESOURCE_EXHAUSTED, "cannot make variable '%s'", name);
    return v;
}

sl_node *sl_optimizer_minimize(sl_graph *g, const sl_optimizer_options *o, sl_output loss, const sl_output *vars,
                               int nvars, sl_status *status)
{
    sl_node *train = NULL;
    if (sl_optimizer_minimize_each(g, o, &loss, 1, vars, nvars, &train, status) != SL_OK)
        return NULL;
    return train;
}

sl_code sl_optimizer_minimize_each(sl_graph *g, const sl_optimizer_options *o, const sl_output *losses, int nlosses,
                                   const sl_output *vars, int nvars, sl_node **trains, sl_status *status)
{
    if (!g || !o || !losses || nlosses < 1 || !vars || nvars < 1 || !trains)
        return sl_status_set(status, SL_INVALID_ARGUMENT, "minimize needs a graph, options, a loss and variables");
    for (int l = 0; l < nlosses; l++)
        if (!losses[l].node)
            return sl_status_set(status, SL_INVALID_ARGUMENT, "minimize: loss %d is missing", l);
    if (o->learning_rate < 0 || (unsigned)o->kind > SL_OPTIMIZER_RMSPROP)
        return sl_status_set(status, SL_INVALID_ARGUMENT, "bad optimizer options (kind %d, learning rate %g)",
                             (int)o->kind, o->learning_rate);
    for (int i = 0; i < nvars; i++) {
        if (!vars[i].node || strcmp(sl_node_op_type(vars[i].node), "VariableV2"))
            return sl_status_set(status, SL_INVALID_ARGUMENT, "variable %d ('%s') is not a VariableV2", i,
                                 vars[i].node ? sl_node_name(vars[i].node) : "?");
    }
    for (int l = 0; l < nlosses; l++)
        trains[l] = NULL;
    int n0 = sl_graph_num_nodes(g), pushed = 0;
    sl_b b = {.graph = g, .status = status};
    size_t ng = (size_t)nlosses * (size_t)nvars;
    sl_output *grads = sl_calloc(ng + 1, sizeof(*grads));
    sl_output *slots = sl_calloc(2 * (size_t)nvars + 1, sizeof(*slots));
    sl_node **updates = sl_calloc((size_t)nvars + 1, sizeof(*updates));
    if (!grads || !slots || !updates) {
        sl__b_fail(&b, SL_RESOURCE_EXHAUSTED, "out of memory building an optimizer");
        goto out;
    }
    /* each loss its own gradients ("gradients/", "gradients_1/", ...) */
    for (int l = 0; l < nlosses; l++) {
        if (sl_add_gradients(g, &losses[l], 1, vars, nvars, NULL, grads + (size_t)l * nvars, status) != SL_OK) {
            b.failed = true;
            goto out;
        }
    }
    sl_output gstep = global_step_in(&b);
    char *scope = sl_graph_unique_name(g, sl_optimizer_name(o->kind));
    const char *base = scope ? strrchr(scope, '/') : NULL;
    base = base ? base + 1 : scope;
    if (!scope || sl_graph_push_scope(g, base, status) != SL_OK) {
        sl_free(scope);
        sl__b_fail(&b, SL_RESOURCE_EXHAUSTED, "out of memory building an optimizer");
        goto out;
    }
    sl_free(scope);
    pushed = 1;
    if (o->clip_global_norm > 0)
        for (int l = 0; l < nlosses; l++)
            clip_in(&b, grads + (size_t)l * nvars, nvars, o->clip_global_norm, NULL);
    sl_dtype dt = sl__b_dtype(vars[0]);
    sl_output lr = learning_rate_in(&b, o, dt);
    sl_output powers[2] = {SL_NO_OUTPUT, SL_NO_OUTPUT};
    if (o->kind == SL_OPTIMIZER_ADAM) {
        powers[0] = scalar_var(&b, "beta1_power", dt, o->beta1);
        powers[1] = scalar_var(&b, "beta2_power", dt, o->beta2);
    }
    /* the slots, learning rate and beta powers are shared; each loss gets
     * its own updates, beta-power steps, global-step increment, train op */
    for (int l = 0; l < nlosses && !b.failed; l++) {
        const sl_output *gl = grads + (size_t)l * nvars;
        int nu = 0;
        for (int i = 0; i < nvars && !b.failed; i++) {
            if (!gl[i].node)
                continue;
            if (sl__b_dtype(vars[i]) != dt) {
                sl__b_fail(&b, SL_INVALID_ARGUMENT,
                           "variable '%s' is %s but the first is %s: one optimizer per dtype",
                           sl_node_name(vars[i].node), sl_dtype_name(sl__b_dtype(vars[i])), sl_dtype_name(dt));
                break;
            }
            sl_output lr_i = dt == sl__b_dtype(lr) ? lr : sl__b_cast(&b, lr, dt);
            updates[nu] = apply(&b, o, vars[i], gl[i], lr_i, powers, &slots[2 * i]);
            if (updates[nu])
                nu++;
        }
        if (b.failed)
            goto out;
        if (nu == 0) {
            sl__b_fail(&b, SL_INVALID_ARGUMENT, "the loss '%s' depends on none of the variables",
                       sl_node_name(losses[l].node));
            goto out;
        }
        /* after the updates: Adam's beta powers, then the global step */
        sl_node_builder *nb;
        sl_node *after[3];
        int na = 0;
        if (o->kind == SL_OPTIMIZER_ADAM) {
            for (int k = 0; k < 2; k++) {
                nb = sl__b_begin(&b, "Assign");
                sl__b_in(&b, nb, powers[k]);
                sl__b_in(&b, nb,
                         sl__b_binary(&b, "Mul", powers[k], sl__b_scalar(&b, dt, k ? o->beta2 : o->beta1)));
                for (int i = 0; nb && i < nu; i++)
                    sl_node_builder_add_control_input(nb, updates[i]);
                after[na++] = sl__b_end_node(&b, nb);
            }
        }
        nb = sl__b_begin(&b, "AssignAdd");
        sl__b_in(&b, nb, gstep);
        sl__b_in(&b, nb, sl__b_scalar(&b, SL_DTYPE_INT64, 1));
        for (int i = 0; nb && i < nu; i++)
            sl_node_builder_add_control_input(nb, updates[i]);
        after[na++] = sl__b_end_node(&b, nb);
        char tname[32];
        if (l == 0)
            snprintf(tname, sizeof(tname), "train");
        else
            snprintf(tname, sizeof(tname), "train_%d", l);
        nb = sl__b_begin_named(&b, "NoOp", tname);
        for (int i = 0; nb && i < nu; i++)
            sl_node_builder_add_control_input(nb, updates[i]);
        for (int i = 0; nb && i < na; i++)
            if (after[i])
                sl_node_builder_add_control_input(nb, after[i]);
        trains[l] = sl__b_end_node(&b, nb);
    }
out:
    if (pushed)
        sl_graph_pop_scope(g);
    sl_free(grads);
    sl_free(slots);
    sl_free(updates);
    bool all = !b.failed;
    for (int l = 0; all && l < nlosses; l++)
        all = trains[l] != NULL;
    if (!all) {
        sl__graph_truncate(g, n0);
        for (int l = 0; l < nlosses; l++)
            trains[l] = NULL;
        if (sl_status_code(status) == SL_OK)
            sl_status_set(status, SL_INTERNAL, "minimize failed");
        return sl_status_code(status);
    }
    sl_status_clear(status);
    return SL_OK;
}
