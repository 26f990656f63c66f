/* Layers and initializers (see sluice/layers.h): each builder opens the
 * layer's name scope, adds its variables and nodes with the sticky
 * helpers of build.h, and on any failure removes every node it added, so
 * the graph is all-or-nothing per layer. */
#include "config.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "build.h"
#include "graph-private.h"
#include "sluice/alloc.h"
#include "sluice/layers.h"
#include "sluice/optimizers.h"

/* The deviation of a unit normal truncated at two deviations is 0.8796;
 * Keras divides by it so the truncated draw has the intended deviation. */
#define TRUNC_STDDEV 0.87962566103423978

/* ---- Layer scopes ---------------------------------------------------------- */

/* One layer being built: the sticky builder, where the graph stood, and
 * whether a scope was pushed. */
typedef struct layer {
    sl_b b;
    int n0;
    bool scoped;
    const char *kind;
} layer;

static bool scope_in_use(const sl_graph *g, const char *full)
{
    size_t len = strlen(full);
    for (int i = 0; i < sl_graph_num_nodes(g); i++) {
        const char *n = sl_node_name(sl_graph_node(g, i));
        if (!strncmp(n, full, len) && (n[len] == '\0' || n[len] == '/'))
            return true;
    }
    return false;
}

/* Opens the layer's scope: `name`, or `kind` made unique ("dense_1"). */
static void layer_begin(layer *L, sl_graph *g, const char *name, const char *kind, sl_status *status)
{
    memset(L, 0, sizeof(*L));
    L->b.graph = g;
    L->b.status = status;
    L->kind = kind;
    if (!g) {
        sl__b_fail(&L->b, SL_INVALID_ARGUMENT, "%s: no graph", kind);
        return;
    }
    L->n0 = sl_graph_num_nodes(g);
    char buf[256];
    if (name) {
        snprintf(buf, sizeof(buf), "%s", name);
    } else {
        for (int k = 0;; k++) {
            if (k == 0)
                snprintf(buf, sizeof(buf), "%s", kind);
            else
                snprintf(buf, sizeof(buf), "%s_%d", kind, k);
            char *full = sl__graph_scoped_name(g, buf);
            if (!full) {
                sl__b_fail(&L->b, SL_RESOURCE_EXHAUSTED, "out of memory naming a %s layer", kind);
                return;
            }
            bool used = scope_in_use(g, full);
            sl_free(full);
            if (!used)
                break;
        }
    }
    if (sl_graph_push_scope(g, buf, status) != SL_OK) {
        L->b.failed = true;
        return;
    }
    L->scoped = true;
}

/* Closes the scope; on failure removes what the layer added and prefixes
 * the message with the layer.  Returns out, or {NULL, 0}. */
static sl_output layer_end(layer *L, sl_output out)
{
    if (L->scoped)
        sl_graph_pop_scope(L->b.graph);
    if (L->b.failed || !out.node) {
        if (!L->b.failed)
            sl__b_fail(&L->b, SL_INTERNAL, "missing output");
        if (L->b.graph)
            sl__graph_truncate(L->b.graph, L->n0);
        sl_status_prefix(L->b.status, "%s layer", L->kind);
        return SL_NO_OUTPUT;
    }
    sl_status_clear(L->b.status);
    return out;
}

static bool check_input(layer *L, sl_output x, int rank, const char *what)
{
    if (L->b.failed)
        return false;
    if (!x.node) {
        sl__b_fail(&L->b, SL_INVALID_ARGUMENT, "no input");
        return false;
    }
    const sl_shape *s = sl__b_static_shape(x);
    if (rank >= 0 && s->rank != rank) {
        char buf[SL_SHAPE_STRING_MAX];
        sl__b_fail(&L->b, SL_INVALID_ARGUMENT, "input '%s:%d' must be %s (rank %d), has shape %s",
                   sl_node_name(x.node), x.index, what, rank, sl_shape_to_string(s, buf, sizeof(buf)));
        return false;
    }
    return true;
}

static bool is_float(sl_dtype t)
{
    return t == SL_DTYPE_FLOAT || t == SL_DTYPE_DOUBLE;
}

/* ---- Initializers ---------------------------------------------------------- */

void sl_initializer_fans(const sl_shape *s, double *fan_in, double *fan_out)
{
    double in = 1, out = 1;
    if (s->rank == 1) {
        in = out = (double)s->dims[0];
    } else if (s->rank >= 2) {
        double field = 1;
        for (int i = 0; i < s->rank - 2; i++)
            field *= (double)s->dims[i];
        in = (double)s->dims[s->rank - 2] * field;
        out = (double)s->dims[s->rank - 1] * field;
    }
    if (fan_in)
        *fan_in = in;
    if (fan_out)
        *fan_out = out;
}

double sl_initializer_scale(const sl_initializer *init, const sl_shape *shape)
{
    double in, out;
    sl_initializer_fans(shape, &in, &out);
    switch (init->kind) {
    case SL_INIT_UNIFORM:
    case SL_INIT_TRUNCATED_NORMAL:
        return init->value;
    case SL_INIT_GLOROT_UNIFORM:
        return sqrt(6.0 / (in + out));
    case SL_INIT_GLOROT_NORMAL:
        return sqrt(2.0 / (in + out)) / TRUNC_STDDEV;
    case SL_INIT_HE_UNIFORM:
        return sqrt(6.0 / in);
    case SL_INIT_HE_NORMAL:
        return sqrt(2.0 / in) / TRUNC_STDDEV;
    default:
        return 0.0;
    }
}

static sl_output random_node(sl_b *b, const char *op, sl_dtype dtype, const sl_shape *shape, int64_t seed)
{
    sl_output sh = sl__b_const_i64(b, shape->dims, shape->rank);
    sl_node_builder *nb = sl__b_begin(b, op);
    sl__b_in(b, nb, sh);
    if (nb) {
        sl_node_builder_set_attr_type(nb, "dtype", dtype);
        sl_node_builder_set_attr_int(nb, "seed", seed);
        /* distinct streams per variable, reproducible for a given build */
        sl_node_builder_set_attr_int(nb, "seed2", seed ? sl_graph_num_nodes(b->graph) : 0);
    }
    return sl__b_end(b, nb);
}

static sl_output init_in(sl_b *b, const sl_initializer *init, sl_dtype dtype, const sl_shape *shape)
{
    if (b->failed)
        return SL_NO_OUTPUT;
    if (!is_float(dtype) || !sl_shape_is_fully_defined(shape)) {
        char buf[SL_SHAPE_STRING_MAX];
        sl__b_fail(b, SL_INVALID_ARGUMENT, "initializer needs a float or double tensor of known shape, got %s %s",
                   sl_dtype_name(dtype), sl_shape_to_string(shape, buf, sizeof(buf)));
        return SL_NO_OUTPUT;
    }
    double scale = sl_initializer_scale(init, shape);
    switch (init->kind) {
    case SL_INIT_ZEROS:
    case SL_INIT_ONES:
    case SL_INIT_CONSTANT: {
        double v = init->kind == SL_INIT_ZEROS ? 0.0 : init->kind == SL_INIT_ONES ? 1.0 : init->value;
        return sl__b_binary(b, "Fill", sl__b_const_i64(b, shape->dims, shape->rank), sl__b_scalar(b, dtype, v));
    }
    case SL_INIT_UNIFORM:
    case SL_INIT_GLOROT_UNIFORM:
    case SL_INIT_HE_UNIFORM: {
        /* u * 2 limit - limit */
        sl_output u = random_node(b, "RandomUniform", dtype, shape, init->seed);
        return sl__b_binary(b, "Sub", sl__b_binary(b, "Mul", u, sl__b_scalar(b, dtype, 2.0 * scale)),
                            sl__b_scalar(b, dtype, scale));
    }
    case SL_INIT_TRUNCATED_NORMAL:
    case SL_INIT_GLOROT_NORMAL:
    case SL_INIT_HE_NORMAL: {
        sl_output n = random_node(b, "TruncatedNormal", dtype, shape, init->seed);
        return sl__b_binary(b, "Mul", n, sl__b_scalar(b, dtype, scale));
    }
    }
    sl__b_fail(b, SL_INVALID_ARGUMENT, "unknown initializer kind %d", (int)init->kind);
    return SL_NO_OUTPUT;
}

sl_output sl_initializer_value(sl_graph *g, const sl_initializer *init, sl_dtype dtype, const sl_shape *shape,
                               sl_status *status)
{
    int n0 = sl_graph_num_nodes(g);
    sl_b b = {.graph = g, .status = status};
    sl_output v = init_in(&b, init, dtype, shape);
    if (b.failed) {
        sl__graph_truncate(g, n0);
        return SL_NO_OUTPUT;
    }
    sl_status_clear(status);
    return v;
}

/* Pushes each '/'-separated component of path as a scope; returns how
 * many were pushed (all of them, or the status is set and b failed). */
static int push_path(sl_b *b, const char *path)
{
    char buf[256];
    int k = 0;
    snprintf(buf, sizeof(buf), "%s", path);
    for (char *save = NULL, *c = strtok_r(buf, "/", &save); c; c = strtok_r(NULL, "/", &save)) {
        if (sl_graph_push_scope(b->graph, c, b->status) != SL_OK) {
            b->failed = true;
            break;
        }
        k++;
    }
    return k;
}

static sl_output variable_in(sl_b *b, const char *name, sl_dtype dtype, const sl_shape *shape,
                             const sl_initializer *init)
{
    if (b->failed)
        return SL_NO_OUTPUT;
    int k = push_path(b, name);
    sl_output v0 = SL_NO_OUTPUT;
    if (!b->failed && sl_graph_push_scope(b->graph, "Initializer", b->status) == SL_OK) {
        v0 = init_in(b, init, dtype, shape);
        sl_graph_pop_scope(b->graph);
    } else {
        b->failed = true;
    }
    while (k-- > 0)
        sl_graph_pop_scope(b->graph);
    if (b->failed)
        return SL_NO_OUTPUT;
    sl_output v = sl_variable(b->graph, name, dtype, shape, v0, b->status);
    if (!v.node)
        b->failed = true;
    return v;
}

sl_output sl_variable_init(sl_graph *g, const char *name, sl_dtype dtype, const sl_shape *shape,
                           const sl_initializer *init, sl_status *status)
{
    int n0 = sl_graph_num_nodes(g);
    sl_b b = {.graph = g, .status = status};
    sl_output v = variable_in(&b, name, dtype, shape, init);
    if (b.failed) {
        sl__graph_truncate(g, n0);
        return SL_NO_OUTPUT;
    }
    sl_status_clear(status);
    return v;
}

/* ---- Dense, convolution, pooling ------------------------------------------ */

void sl_layer_options_init(sl_layer_options *o)
{
    memset(o, 0, sizeof(*o));
    o->activation = SL_ACTIVATION_NONE;
    o->use_bias = true;
    o->kernel_init = (sl_initializer){SL_INIT_GLOROT_UNIFORM, 0.0, 0};
    o->bias_init = (sl_initializer){SL_INIT_ZEROS, 0.0, 0};
}

static sl_output activate(sl_b *b, sl_output y, sl_activation act)
{
    switch (act) {
    case SL_ACTIVATION_NONE: return y;
    case SL_ACTIVATION_RELU: return sl__b_unary(b, "Relu", y);
    case SL_ACTIVATION_SIGMOID: return sl__b_unary(b, "Sigmoid", y);
    case SL_ACTIVATION_TANH: return sl__b_unary(b, "Tanh", y);
    case SL_ACTIVATION_SOFTMAX: return sl__b_unary(b, "Softmax", y);
    }
    sl__b_fail(b, SL_INVALID_ARGUMENT, "unknown activation %d", (int)act);
    return SL_NO_OUTPUT;
}

static sl_output bias_act(sl_b *b, sl_output y, int64_t units, sl_dtype dt, const sl_layer_options *o)
{
    if (o->use_bias) {
        sl_shape bs = sl_shape_vector(units);
        sl_output bias = variable_in(b, "bias", dt, &bs, &o->bias_init);
        y = sl__b_binary(b, "BiasAdd", y, bias);
    }
    return activate(b, y, o->activation);
}

sl_output sl_dense(sl_graph *g, const char *name, sl_output x, int64_t units, const sl_layer_options *opts,
                   sl_status *status)
{
    sl_layer_options defaults;
    if (!opts) {
        sl_layer_options_init(&defaults);
        opts = &defaults;
    }
    layer L;
    layer_begin(&L, g, name, "dense", status);
    sl_b *b = &L.b;
    sl_output y = SL_NO_OUTPUT;
    if (check_input(&L, x, 2, "[batch, features]")) {
        int64_t in = sl__b_static_shape(x)->dims[1];
        sl_dtype dt = sl__b_dtype(x);
        if (in < 0 || units <= 0 || !is_float(dt)) {
            sl__b_fail(b, SL_INVALID_ARGUMENT, "needs float input with known features and units > 0 (features %lld, units %lld, %s)",
                       (long long)in, (long long)units, sl_dtype_name(dt));
        } else {
            sl_shape ks = sl_shape_matrix(in, units);
            sl_output k = variable_in(b, "kernel", dt, &ks, &opts->kernel_init);
            y = sl__b_binary(b, "MatMul", x, k);
            y = bias_act(b, y, units, dt, opts);
        }
    }
    return layer_end(&L, y);
}

static bool check_padding(sl_b *b, const char *padding)
{
    if (padding && (!strcmp(padding, "SAME") || !strcmp(padding, "VALID")))
        return true;
    sl__b_fail(b, SL_INVALID_ARGUMENT, "padding must be \"SAME\" or \"VALID\", not \"%s\"", padding ? padding : "(null)");
    return false;
}

sl_output sl_conv2d(sl_graph *g, const char *name, sl_output x, int64_t filters, int kh, int kw, int stride,
                    const char *padding, const sl_layer_options *opts, sl_status *status)
{
    sl_layer_options defaults;
    if (!opts) {
        sl_layer_options_init(&defaults);
        opts = &defaults;
    }
    layer L;
    layer_begin(&L, g, name, "conv2d", status);
    sl_b *b = &L.b;
    sl_output y = SL_NO_OUTPUT;
    if (check_input(&L, x, 4, "NHWC images") && check_padding(b, padding)) {
        int64_t in = sl__b_static_shape(x)->dims[3];
        sl_dtype dt = sl__b_dtype(x);
        if (in < 0 || filters <= 0 || kh <= 0 || kw <= 0 || stride <= 0 || !is_float(dt)) {
            sl__b_fail(b, SL_INVALID_ARGUMENT, "needs float input with known channels, filters, kernel size and stride > 0");
        } else {
            sl_shape ks = sl_shape_make(4, (int64_t[]){kh, kw, in, filters});
            sl_output k = variable_in(b, "kernel", dt, &ks, &opts->kernel_init);
            sl_node_builder *nb = sl__b_begin_named(b, "Conv2D", "Conv2D");
            sl__b_in(b, nb, x);
            sl__b_in(b, nb, k);
            if (nb) {
                sl_node_builder_set_attr_int_list(nb, "strides", (int64_t[]){1, stride, stride, 1}, 4);
                sl_node_builder_set_attr_string(nb, "padding", padding, strlen(padding));
            }
            y = sl__b_end(b, nb);
            y = bias_act(b, y, filters, dt, opts);
        }
    }
    return layer_end(&L, y);
}

static sl_output pool(sl_graph *g, const char *name, const char *kind, const char *op, sl_output x, int size,
                      int stride, const char *padding, sl_status *status)
{
    layer L;
    layer_begin(&L, g, name, kind, status);
    sl_b *b = &L.b;
    sl_output y = SL_NO_OUTPUT;
    if (check_input(&L, x, 4, "NHWC images") && check_padding(b, padding)) {
        if (size <= 0 || stride <= 0) {
            sl__b_fail(b, SL_INVALID_ARGUMENT, "pool size and stride must be > 0 (got %d, %d)", size, stride);
        } else {
            sl_node_builder *nb = sl__b_begin_named(b, op, op);
            sl__b_in(b, nb, x);
            if (nb) {
                sl_node_builder_set_attr_int_list(nb, "ksize", (int64_t[]){1, size, size, 1}, 4);
                sl_node_builder_set_attr_int_list(nb, "strides", (int64_t[]){1, stride, stride, 1}, 4);
                sl_node_builder_set_attr_string(nb, "padding", padding, strlen(padding));
            }
            y = sl__b_end(b, nb);
        }
    }
    return layer_end(&L, y);
}

sl_output sl_max_pool2d(sl_graph *g, const char *name, sl_output x, int size, int stride, const char *padding,
                        sl_status *status)
{
    return pool(g, name, "max_pooling2d", "MaxPool", x, size, stride, padding, status);
}

sl_output sl_avg_pool2d(sl_graph *g, const char *name, sl_output x, int size, int stride, const char *padding,
                        sl_status *status)
{
    return pool(g, name, "average_pooling2d", "AvgPool", x, size, stride, padding, status);
}

sl_output sl_flatten(sl_graph *g, const char *name, sl_output x, sl_status *status)
{
    layer L;
    layer_begin(&L, g, name, "flatten", status);
    sl_b *b = &L.b;
    sl_output y = SL_NO_OUTPUT;
    if (check_input(&L, x, -1, "")) {
        const sl_shape *s = sl__b_static_shape(x);
        int64_t n = 1;
        for (int i = 1; i < s->rank; i++)
            n = s->dims[i] < 0 || n < 0 ? -1 : n * s->dims[i];
        if (s->rank < 1 || n < 0) {
            char buf[SL_SHAPE_STRING_MAX];
            sl__b_fail(b, SL_INVALID_ARGUMENT, "needs known dimensions after the batch, input has shape %s",
                       sl_shape_to_string(s, buf, sizeof(buf)));
        } else {
            y = sl__b_reshape(b, x, sl__b_const_i32(b, (int32_t[]){-1, (int32_t)n}, 2));
        }
    }
    return layer_end(&L, y);
}

/* ---- Dropout, batch normalization ------------------------------------------ */

/* Cast(training) to dt, or {NULL, 0} for "always training". */
static sl_output mode_factor(sl_b *b, sl_output training, sl_dtype dt)
{
    if (!training.node || b->failed)
        return SL_NO_OUTPUT;
    if (sl__b_dtype(training) != SL_DTYPE_BOOL) {
        sl__b_fail(b, SL_INVALID_ARGUMENT, "training must be a bool scalar, '%s' is %s", sl_node_name(training.node),
                   sl_dtype_name(sl__b_dtype(training)));
        return SL_NO_OUTPUT;
    }
    return sl__b_cast(b, training, dt);
}

sl_output sl_dropout(sl_graph *g, const char *name, sl_output x, double rate, sl_output training, int64_t seed,
                     sl_status *status)
{
    layer L;
    layer_begin(&L, g, name, "dropout", status);
    sl_b *b = &L.b;
    sl_output y = SL_NO_OUTPUT;
    if (check_input(&L, x, -1, "")) {
        sl_dtype dt = sl__b_dtype(x);
        if (!(rate >= 0.0 && rate < 1.0) || !is_float(dt)) {
            sl__b_fail(b, SL_INVALID_ARGUMENT, "needs float input and 0 <= rate < 1 (rate %g)", rate);
        } else if (rate == 0.0) {
            y = sl__b_unary(b, "Identity", x);
        } else {
            /* mask = u < keep for u uniform in [0, 1), y = x * mask / keep.
             * With a training flag that is false, the random tensor has
             * shape [1, ..., 1] and keep is exactly 1 (shape * t + (1 - t)
             * and keep * t + (1 - t)), so the mask is a single 1 and
             * inference pays one multiplication, not a random tensor of
             * x's size and the ops over it. */
            double keep = 1.0 - rate;
            sl_output shape = sl__b_shape(b, x);
            sl_output keep_t = sl__b_scalar(b, dt, keep);
            sl_output t = mode_factor(b, training, dt);
            if (t.node) {
                sl_output ti = sl__b_cast(b, training, SL_DTYPE_INT32);
                shape = sl__b_binary(b, "Add", sl__b_binary(b, "Mul", shape, ti),
                                     sl__b_binary(b, "Sub", sl__b_scalar_i32(b, 1), ti));
                keep_t = sl__b_binary(b, "Add", sl__b_binary(b, "Mul", t, keep_t),
                                      sl__b_binary(b, "Sub", sl__b_scalar(b, dt, 1.0), t));
            }
            sl_node_builder *nb = sl__b_begin(b, "RandomUniform");
            sl__b_in(b, nb, shape);
            if (nb) {
                sl_node_builder_set_attr_type(nb, "dtype", dt);
                sl_node_builder_set_attr_int(nb, "seed", seed);
                sl_node_builder_set_attr_int(nb, "seed2", seed ? sl_graph_num_nodes(g) : 0);
            }
            sl_output u = sl__b_end(b, nb);
            sl_output mask = sl__b_cast(b, sl__b_binary(b, "Less", u, keep_t), dt);
            sl_output scaled = sl__b_binary(b, "RealDiv", mask, keep_t);
            y = sl__b_binary(b, "Mul", x, scaled);
        }
    }
    return layer_end(&L, y);
}

void sl_batch_norm_options_init(sl_batch_norm_options *o)
{
    o->momentum = 0.99;
    o->epsilon = 1e-3;
    o->center = true;
    o->scale = true;
}

/* v - (v - batch) * (1 - momentum) [* t], assigned back to v. */
static sl_node *moving_update(sl_b *b, const char *name, sl_output v, sl_output batch, sl_output t, double momentum,
                              sl_dtype dt, sl_node *after)
{
    sl_output delta = sl__b_binary(b, "Mul", sl__b_binary(b, "Sub", v, batch), sl__b_scalar(b, dt, 1.0 - momentum));
    if (t.node)
        delta = sl__b_binary(b, "Mul", delta, t);
    sl_node_builder *nb = sl__b_begin_named(b, "AssignSub", name);
    sl__b_in(b, nb, v);
    sl__b_in(b, nb, delta);
    if (nb && after)
        sl_node_builder_add_control_input(nb, after);
    return sl__b_end_node(b, nb);
}

sl_output sl_batch_norm(sl_graph *g, const char *name, sl_output x, sl_output training,
                        const sl_batch_norm_options *opts, sl_status *status)
{
    sl_batch_norm_options defaults;
    if (!opts) {
        sl_batch_norm_options_init(&defaults);
        opts = &defaults;
    }
    layer L;
    layer_begin(&L, g, name, "batch_normalization", status);
    sl_b *b = &L.b;
    sl_output y = SL_NO_OUTPUT;
    if (!check_input(&L, x, -1, ""))
        return layer_end(&L, y);
    const sl_shape *s = sl__b_static_shape(x);
    sl_dtype dt = sl__b_dtype(x);
    if (s->rank < 2 || s->dims[s->rank - 1] < 0 || !is_float(dt) || !(opts->epsilon > 0)) {
        sl__b_fail(b, SL_INVALID_ARGUMENT, "needs float input of rank >= 2 with known features, and epsilon > 0");
        return layer_end(&L, y);
    }
    int64_t c = s->dims[s->rank - 1];
    sl_shape cs = sl_shape_vector(c);
    sl_initializer zeros = {SL_INIT_ZEROS, 0, 0}, ones = {SL_INIT_ONES, 0, 0};
    sl_output gamma = opts->scale ? variable_in(b, "gamma", dt, &cs, &ones) : SL_NO_OUTPUT;
    sl_output beta = opts->center ? variable_in(b, "beta", dt, &cs, &zeros) : SL_NO_OUTPUT;
    sl_output mm = variable_in(b, "moving_mean", dt, &cs, &zeros);
    sl_output mv = variable_in(b, "moving_variance", dt, &cs, &ones);

    int32_t axes[SL_MAX_DIMS];
    for (int i = 0; i < s->rank - 1; i++)
        axes[i] = i;
    sl_output ax = sl__b_const_i32(b, axes, s->rank - 1);
    sl_output mean = sl__b_reduce(b, "Mean", x, ax, false);
    sl_output var = sl__b_reduce(b, "Mean", sl__b_unary(b, "Square", sl__b_binary(b, "Sub", x, mean)), ax, false);
    sl_output t = mode_factor(b, training, dt);
    sl_output use_mean = mean, use_var = var;
    if (t.node) { /* moving + t * (batch - moving) */
        use_mean = sl__b_binary(b, "Add", mm, sl__b_binary(b, "Mul", t, sl__b_binary(b, "Sub", mean, mm)));
        use_var = sl__b_binary(b, "Add", mv, sl__b_binary(b, "Mul", t, sl__b_binary(b, "Sub", var, mv)));
    }
    sl_output inv = sl__b_unary(b, "Rsqrt", sl__b_binary(b, "Add", use_var, sl__b_scalar(b, dt, opts->epsilon)));
    if (gamma.node)
        inv = sl__b_binary(b, "Mul", inv, gamma);
    sl_output out = sl__b_binary(b, "Mul", sl__b_binary(b, "Sub", x, use_mean), inv);
    if (beta.node)
        out = sl__b_binary(b, "Add", out, beta);

    /* the moving statistics move after the output is computed (so it reads
     * them before the update), and the layer's output waits for the moves */
    sl_node *um = moving_update(b, "update_moving_mean", mm, mean, t, opts->momentum, dt, out.node);
    sl_node *uv = moving_update(b, "update_moving_variance", mv, var, t, opts->momentum, dt, out.node);
    sl_node_builder *nb = sl__b_begin_named(b, "Identity", "output");
    sl__b_in(b, nb, out);
    if (nb && um && uv) {
        sl_node_builder_add_control_input(nb, um);
        sl_node_builder_add_control_input(nb, uv);
    }
    y = sl__b_end(b, nb);
    return layer_end(&L, y);
}

/* ---- Embeddings, LSTM ------------------------------------------------------ */

sl_output sl_embedding(sl_graph *g, const char *name, sl_output ids, int64_t vocab, int64_t dim,
                       const sl_initializer *init, sl_status *status)
{
    sl_initializer def = {SL_INIT_UNIFORM, 0.05, 0};
    layer L;
    layer_begin(&L, g, name, "embedding", status);
    sl_b *b = &L.b;
    sl_output y = SL_NO_OUTPUT;
    if (check_input(&L, ids, -1, "")) {
        sl_dtype it = sl__b_dtype(ids);
        if ((it != SL_DTYPE_INT32 && it != SL_DTYPE_INT64) || vocab <= 0 || dim <= 0) {
            sl__b_fail(b, SL_INVALID_ARGUMENT, "needs int32 or int64 ids, vocab > 0 and dim > 0 (ids are %s)",
                       sl_dtype_name(it));
        } else {
            sl_shape es = sl_shape_matrix(vocab, dim);
            sl_output e = variable_in(b, "embeddings", SL_DTYPE_FLOAT, &es, init ? init : &def);
            sl_node_builder *nb = sl__b_begin_named(b, "GatherV2", "lookup");
            sl__b_in(b, nb, e);
            sl__b_in(b, nb, ids);
            sl__b_in(b, nb, sl__b_scalar_i32(b, 0));
            y = sl__b_end(b, nb);
        }
    }
    return layer_end(&L, y);
}

sl_code sl_lstm_cell(sl_graph *g, const char *name, sl_output x, sl_output h, sl_output c, int64_t units,
                     double forget_bias, const sl_initializer *init, sl_output *h_out, sl_output *c_out,
                     sl_status *status)
{
    sl_initializer def = {SL_INIT_GLOROT_UNIFORM, 0, 0}, zeros = {SL_INIT_ZEROS, 0, 0};
    layer L;
    layer_begin(&L, g, name, "lstm_cell", status);
    sl_b *b = &L.b;
    sl_output hn = SL_NO_OUTPUT, cn = SL_NO_OUTPUT;
    if (check_input(&L, x, 2, "[batch, features]") && check_input(&L, h, 2, "[batch, units]") &&
        check_input(&L, c, 2, "[batch, units]")) {
        int64_t in = sl__b_static_shape(x)->dims[1];
        sl_dtype dt = sl__b_dtype(x);
        if (in < 0 || units <= 0 || !is_float(dt) || sl__b_static_shape(h)->dims[1] != units ||
            sl__b_static_shape(c)->dims[1] != units) {
            sl__b_fail(b, SL_INVALID_ARGUMENT, "needs float x with known features and h, c of %lld units",
                       (long long)units);
        } else {
            sl_shape ks = sl_shape_matrix(in + units, 4 * units), bs = sl_shape_vector(4 * units);
            sl_output k = variable_in(b, "kernel", dt, &ks, init ? init : &def);
            sl_output bias = variable_in(b, "bias", dt, &bs, &zeros);
            sl_output xh[2] = {x, h};
            sl_node_builder *nb = sl__b_begin(b, "ConcatV2");
            if (nb)
                sl_node_builder_add_input_list(nb, xh, 2);
            sl__b_in(b, nb, sl__b_scalar_i32(b, 1));
            sl_output z = sl__b_binary(b, "BiasAdd", sl__b_binary(b, "MatMul", sl__b_end(b, nb), k), bias);
            nb = sl__b_begin(b, "Split");
            sl__b_in(b, nb, sl__b_scalar_i32(b, 1));
            sl__b_in(b, nb, z);
            if (nb)
                sl_node_builder_set_attr_int(nb, "num_split", 4);
            sl_node *split = sl__b_end_node(b, nb);
            if (split) {
                sl_output i = {split, 0}, j = {split, 1}, f = {split, 2}, o = {split, 3};
                sl_output fg = sl__b_unary(b, "Sigmoid", sl__b_binary(b, "Add", f, sl__b_scalar(b, dt, forget_bias)));
                cn = sl__b_binary(b, "Add", sl__b_binary(b, "Mul", c, fg),
                                  sl__b_binary(b, "Mul", sl__b_unary(b, "Sigmoid", i), sl__b_unary(b, "Tanh", j)));
                hn = sl__b_binary(b, "Mul", sl__b_unary(b, "Tanh", cn), sl__b_unary(b, "Sigmoid", o));
            }
        }
    }
    sl_output r = layer_end(&L, hn);
    if (!r.node)
        return sl_status_code(status);
    *h_out = hn;
    *c_out = cn;
    return SL_OK;
}

/* ---- Losses and metrics ---------------------------------------------------- */

sl_output sl_sparse_softmax_cross_entropy(sl_graph *g, sl_output logits, sl_output labels, sl_status *status)
{
    int n0 = sl_graph_num_nodes(g);
    sl_b b = {.graph = g, .status = status};
    sl_node_builder *nb = sl__b_begin(&b, "SparseSoftmaxCrossEntropyWithLogits");
    sl__b_in(&b, nb, logits);
    sl__b_in(&b, nb, labels);
    sl_output xent = sl__b_end(&b, nb);
    nb = sl__b_begin_named(&b, "Mean", "loss");
    sl__b_in(&b, nb, xent);
    sl__b_in(&b, nb, sl__b_const_i32(&b, (int32_t[]){0}, 1));
    sl_output loss = sl__b_end(&b, nb);
    if (b.failed) {
        sl__graph_truncate(g, n0);
        return SL_NO_OUTPUT;
    }
    sl_status_clear(status);
    return loss;
}

sl_output sl_accuracy(sl_graph *g, sl_output logits, sl_output labels, sl_status *status)
{
    int n0 = sl_graph_num_nodes(g);
    sl_b b = {.graph = g, .status = status};
    sl_node_builder *nb = sl__b_begin(&b, "ArgMax");
    sl__b_in(&b, nb, logits);
    sl__b_in(&b, nb, sl__b_scalar_i32(&b, 1));
    if (nb && labels.node)
        sl_node_builder_set_attr_type(nb, "output_type", sl__b_dtype(labels));
    sl_output pred = sl__b_end(&b, nb);
    sl_output hit = sl__b_cast(&b, sl__b_binary(&b, "Equal", pred, labels), SL_DTYPE_FLOAT);
    nb = sl__b_begin_named(&b, "Mean", "accuracy");
    sl__b_in(&b, nb, hit);
    sl__b_in(&b, nb, sl__b_const_i32(&b, (int32_t[]){0}, 1));
    sl_output acc = sl__b_end(&b, nb);
    if (b.failed) {
        sl__graph_truncate(g, n0);
        return SL_NO_OUTPUT;
    }
    sl_status_clear(status);
    return acc;
}

/* ---- Variables by role ----------------------------------------------------- */

static bool ends_with_component(const char *name, const char *comp)
{
    size_t n = strlen(name), c = strlen(comp);
    return n >= c && !strcmp(name + n - c, comp) && (n == c || name[n - c - 1] == '/');
}

bool sl_variable_is_trainable(const sl_node *v)
{
    if (strcmp(sl_node_op_type(v), "VariableV2") && strcmp(sl_node_op_type(v), "Variable"))
        return false;
    static const char *const skip[] = {"global_step", "moving_mean", "moving_variance", "Momentum", "Adam",
                                       "Adam_1", "Adagrad", "RMSProp", "RMSProp_1", "beta1_power", "beta2_power"};
    const char *name = sl_node_name(v);
    for (size_t i = 0; i < sizeof(skip) / sizeof(skip[0]); i++)
        if (ends_with_component(name, skip[i]))
            return false;
    sl_dtype dt = sl_dtype_base(sl_node_output_type(v, 0));
    return is_float(dt) || dt == SL_DTYPE_HALF || dt == SL_DTYPE_BFLOAT16;
}

int sl_trainable_variables(const sl_graph *g, sl_output *vars, int max)
{
    int k = 0;
    for (int i = 0; i < sl_graph_num_nodes(g); i++) {
        sl_node *n = sl_graph_node(g, i);
        if (!sl_variable_is_trainable(n))
            continue;
        if (vars && k < max)
            vars[k] = (sl_output){n, 0};
        k++;
    }
    return k;
}
