/* grad-model: builds a small composite model with the layers API, sets its
 * weights from .npy files, adds the gradients of its loss with
 * sl_add_gradients() and writes the loss and every gradient as .npy, for
 * the PyTorch autograd cross-check (torch_grad_check.py).
 *
 *     grad-model MODEL DIR
 *
 * MODEL is one of:
 *   mlp   x [B, IN] -> dense(16, relu) -> dense(12, tanh) -> dense(10, sigmoid)
 *         -> dense(10) -> sparse softmax cross-entropy with labels [B]
 *   cnn   x [B, H, W, C] -> conv2d(6, 3x3, stride 1, SAME, no bias) -> batch norm (training)
 *         -> relu -> max pool 2/2 -> conv2d(4, 3x3, stride 2, VALID, relu)
 *         -> avg pool 2/1 VALID -> flatten -> dense(10) -> cross-entropy
 *   lstm  one LSTM cell step (units 5, forget bias 1) on x [B, IN], h, c
 *         [B, 5] -> dense(10) on h' -> cross-entropy; the gradient of
 *         loss + sum(c' * dc) is taken (dc fed as the initial gradient of c')
 *   while a while_loop of 3 steps h = tanh(h @ w) (w a variable) then
 *         dense(10) -> cross-entropy (needs gradients through while_loop)
 *
 * DIR holds the inputs: x.npy (float32), labels.npy (int32), for lstm also
 * h.npy, c.npy and dc.npy, and one w_NAME.npy per trainable variable, NAME
 * being the variable's name with '/' replaced by '.' ("dense_1.kernel").
 * Outputs, into DIR: loss.npy, grad_NAME.npy for each variable and
 * grad_x.npy (also grad_h.npy, grad_c.npy for lstm), and vars.txt listing
 * the variables' names one a line.  Exit status 0, or 1 with a message.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sluice/control_flow.h"
#include "sluice/gradients.h"
#include "sluice/graph.h"
#include "sluice/layers.h"
#include "sluice/npy.h"
#include "sluice/optimizers.h"
#include "sluice/session.h"

#define MAX_VARS 32

static const char *dir;
static sl_status *st;

static void die(const char *what)
{
    fprintf(stderr, "grad-model: %s%s%s\n", what, sl_status_code(st) != SL_OK ? ": " : "",
            sl_status_code(st) != SL_OK ? sl_status_message(st) : "");
    exit(1);
}

static void check(bool ok, const char *what)
{
    if (!ok || sl_status_code(st) != SL_OK)
        die(what);
}

static char *path_of(const char *prefix, const char *name)
{
    static char buf[4096];
    char clean[512];
    snprintf(clean, sizeof(clean), "%s", name);
    for (char *p = clean; *p; p++)
        if (*p == '/')
            *p = '.';
    snprintf(buf, sizeof(buf), "%s/%s%s.npy", dir, prefix, clean);
    return buf;
}

static sl_tensor *load(const char *prefix, const char *name)
{
    sl_tensor *t = sl_npy_read(path_of(prefix, name), st);
    check(t != NULL, path_of(prefix, name));
    return t;
}

static sl_output node1(sl_graph *g, const char *op, const char *name, const sl_output *in, int nin, sl_dtype dt)
{
    sl_node_builder *b = sl_node_builder_new(g, op, name);
    for (int i = 0; i < nin; i++)
        sl_node_builder_add_input(b, in[i]);
    if (!strcmp(op, "Placeholder"))
        sl_node_builder_set_attr_type(b, "dtype", dt);
    sl_node *n = sl_node_builder_finish(b, st);
    check(n != NULL, op);
    return (sl_output){n, 0};
}

static sl_output placeholder(sl_graph *g, const char *name, sl_dtype dt)
{
    return node1(g, "Placeholder", name, NULL, 0, dt);
}

/* A placeholder shaped like DIR/NAME.npy (layers need known shapes). */
static sl_output placeholder_like(sl_graph *g, const char *name)
{
    sl_tensor *t = load("", name);
    sl_node_builder *b = sl_node_builder_new(g, "Placeholder", name);
    sl_node_builder_set_attr_type(b, "dtype", sl_tensor_dtype(t));
    sl_node_builder_set_attr_shape(b, "shape", sl_tensor_shape(t));
    sl_node *n = sl_node_builder_finish(b, st);
    sl_tensor_unref(t);
    check(n != NULL, name);
    return (sl_output){n, 0};
}

typedef struct model {
    sl_output loss;
    sl_output ins[3];  /* differentiated inputs: x (and h, c) */
    const char *in_names[3];
    int nin;
    sl_output extra_y, extra_dy;  /* a second y with its initial gradient (lstm), or {NULL} */
} model;

static sl_output dense(sl_graph *g, const char *name, sl_output x, int64_t units, sl_activation act)
{
    sl_layer_options o;
    sl_layer_options_init(&o);
    o.activation = act;
    sl_output y = sl_dense(g, name, x, units, &o, st);
    check(y.node != NULL, "dense");
    return y;
}

static void build_mlp(sl_graph *g, sl_output x, sl_output labels, model *m)
{
    sl_output h = dense(g, NULL, x, 16, SL_ACTIVATION_RELU);
    h = dense(g, NULL, h, 12, SL_ACTIVATION_TANH);
    h = dense(g, NULL, h, 10, SL_ACTIVATION_SIGMOID);
    sl_output logits = dense(g, NULL, h, 10, SL_ACTIVATION_NONE);
    m->loss = sl_sparse_softmax_cross_entropy(g, logits, labels, st);
    check(m->loss.node != NULL, "loss");
}

static void build_cnn(sl_graph *g, sl_output x, sl_output labels, model *m)
{
    sl_layer_options o;
    sl_layer_options_init(&o);
    o.use_bias = false; /* batch norm follows */
    sl_output h = sl_conv2d(g, NULL, x, 6, 3, 3, 1, "SAME", &o, st);
    check(h.node != NULL, "conv2d");
    h = sl_batch_norm(g, NULL, h, (sl_output){NULL, 0}, NULL, st);
    check(h.node != NULL, "batch_norm");
    h = node1(g, "Relu", "relu", &h, 1, SL_DTYPE_FLOAT);
    h = sl_max_pool2d(g, NULL, h, 2, 2, "VALID", st);
    check(h.node != NULL, "max_pool2d");
    o.activation = SL_ACTIVATION_RELU;
    o.use_bias = true;
    h = sl_conv2d(g, NULL, h, 4, 3, 3, 2, "VALID", &o, st);
    check(h.node != NULL, "conv2d_1");
    h = sl_avg_pool2d(g, NULL, h, 2, 1, "VALID", st);
    check(h.node != NULL, "avg_pool2d");
    h = sl_flatten(g, NULL, h, st);
    check(h.node != NULL, "flatten");
    sl_output logits = dense(g, NULL, h, 10, SL_ACTIVATION_NONE);
    m->loss = sl_sparse_softmax_cross_entropy(g, logits, labels, st);
    check(m->loss.node != NULL, "loss");
}

static void build_lstm(sl_graph *g, sl_output x, sl_output labels, model *m)
{
    sl_output h = placeholder_like(g, "h"), c = placeholder_like(g, "c");
    sl_output h2, c2;
    check(sl_lstm_cell(g, NULL, x, h, c, 5, 1.0, NULL, &h2, &c2, st) == SL_OK, "lstm_cell");
    sl_output logits = dense(g, NULL, h2, 10, SL_ACTIVATION_NONE);
    m->loss = sl_sparse_softmax_cross_entropy(g, logits, labels, st);
    check(m->loss.node != NULL, "loss");
    m->ins[1] = h;
    m->in_names[1] = "h";
    m->ins[2] = c;
    m->in_names[2] = "c";
    m->nin = 3;
    m->extra_y = c2;
    m->extra_dy = placeholder_like(g, "dc");
}

static sl_output loop_w;

static sl_code while_cond(sl_cf_ctx *ctx, const sl_output *vars, int nv, sl_output *out, void *arg, sl_status *s)
{
    (void)arg;
    (void)nv;
    (void)s;
    sl_graph *g = sl_cf_ctx_graph(ctx);
    sl_tensor *three = sl_tensor_new_scalar_int32(3, st);
    sl_node_builder *b = sl_node_builder_new(g, "Const", "three");
    sl_node_builder_set_attr_type(b, "dtype", SL_DTYPE_INT32);
    sl_node_builder_set_attr_tensor(b, "value", three);
    sl_node_builder_add_control_input(b, sl_cf_ctx_pivot(ctx));
    sl_node *n = sl_node_builder_finish(b, st);
    sl_tensor_unref(three);
    if (!n)
        return sl_status_code(st);
    sl_output in[2] = {vars[0], {n, 0}};
    out[0] = node1(g, "Less", "less", in, 2, SL_DTYPE_FLOAT);
    return SL_OK;
}

static sl_code while_body(sl_cf_ctx *ctx, const sl_output *vars, int nv, sl_output *out, void *arg, sl_status *s)
{
    (void)arg;
    (void)nv;
    (void)s;
    sl_graph *g = sl_cf_ctx_graph(ctx);
    sl_tensor *one = sl_tensor_new_scalar_int32(1, st);
    sl_node_builder *b = sl_node_builder_new(g, "Const", "one");
    sl_node_builder_set_attr_type(b, "dtype", SL_DTYPE_INT32);
    sl_node_builder_set_attr_tensor(b, "value", one);
    sl_node_builder_add_control_input(b, sl_cf_ctx_pivot(ctx));
    sl_node *n = sl_node_builder_finish(b, st);
    sl_tensor_unref(one);
    if (!n)
        return sl_status_code(st);
    sl_output in[2] = {vars[0], {n, 0}};
    out[0] = node1(g, "Add", "add", in, 2, SL_DTYPE_FLOAT);
    sl_output w = sl_cf_ctx_capture(ctx, loop_w, st);
    if (!w.node)
        return sl_status_code(st);
    sl_output mm[2] = {vars[1], w};
    sl_output p = node1(g, "MatMul", "matmul", mm, 2, SL_DTYPE_FLOAT);
    out[1] = node1(g, "Tanh", "tanh", &p, 1, SL_DTYPE_FLOAT);
    return SL_OK;
}

static void build_while(sl_graph *g, sl_output x, sl_output labels, model *m)
{
    sl_initializer init = {SL_INIT_GLOROT_UNIFORM, 0, 0};
    int64_t dims[2] = {8, 8};
    sl_shape s = sl_shape_make(2, dims);
    loop_w = sl_variable_init(g, "w", SL_DTYPE_FLOAT, &s, &init, st);
    check(loop_w.node != NULL, "w");
    sl_tensor *zero = sl_tensor_new_scalar_int32(0, st);
    sl_node_builder *b = sl_node_builder_new(g, "Const", "i0");
    sl_node_builder_set_attr_type(b, "dtype", SL_DTYPE_INT32);
    sl_node_builder_set_attr_tensor(b, "value", zero);
    sl_node *i0 = sl_node_builder_finish(b, st);
    sl_tensor_unref(zero);
    check(i0 != NULL, "i0");
    sl_output vars[2] = {{i0, 0}, x}, outs[2];
    check(sl_while_loop(g, vars, 2, while_cond, while_body, NULL, "loop", 1, outs, st) == SL_OK, "while_loop");
    sl_output logits = dense(g, NULL, outs[1], 10, SL_ACTIVATION_NONE);
    m->loss = sl_sparse_softmax_cross_entropy(g, logits, labels, st);
    check(m->loss.node != NULL, "loss");
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: grad-model mlp|cnn|lstm|while DIR\n");
        return 2;
    }
    dir = argv[2];
    st = sl_status_new();
    sl_graph *g = sl_graph_new(st);
    sl_output x = placeholder_like(g, "x"), labels = placeholder_like(g, "labels");
    model m = {.ins = {x}, .in_names = {"x"}, .nin = 1};
    if (!strcmp(argv[1], "mlp"))
        build_mlp(g, x, labels, &m);
    else if (!strcmp(argv[1], "cnn"))
        build_cnn(g, x, labels, &m);
    else if (!strcmp(argv[1], "lstm"))
        build_lstm(g, x, labels, &m);
    else if (!strcmp(argv[1], "while"))
        build_while(g, x, labels, &m);
    else
        die("unknown model");

    sl_output vars[MAX_VARS];
    int nvars = sl_trainable_variables(g, vars, MAX_VARS);
    check(nvars > 0 && nvars <= MAX_VARS, "trainable variables");

    /* d(loss [+ sum(c' * dc)]) / d(variables and inputs) */
    sl_output xs[MAX_VARS + 3], dxs[MAX_VARS + 3];
    for (int i = 0; i < nvars; i++)
        xs[i] = vars[i];
    for (int i = 0; i < m.nin; i++)
        xs[nvars + i] = m.ins[i];
    int nx = nvars + m.nin;
    sl_output ys[2] = {m.loss, m.extra_y};
    int ny = m.extra_y.node ? 2 : 1;
    sl_output dys[2] = {{NULL, 0}, m.extra_dy};
    if (ny == 2) {
        sl_tensor *one = sl_tensor_new_scalar_float(1.0f, st);
        sl_node_builder *b = sl_node_builder_new(g, "Const", "dloss");
        sl_node_builder_set_attr_type(b, "dtype", SL_DTYPE_FLOAT);
        sl_node_builder_set_attr_tensor(b, "value", one);
        dys[0] = (sl_output){sl_node_builder_finish(b, st), 0};
        sl_tensor_unref(one);
        check(dys[0].node != NULL, "dloss");
    }
    check(sl_add_gradients(g, ys, ny, xs, nx, ny == 2 ? dys : NULL, dxs, st) == SL_OK, "sl_add_gradients");
    if (getenv("GRAD_MODEL_DUMP")) /* debugging aid: the graph with its gradients, as text */
        check(sl_graph_save(g, getenv("GRAD_MODEL_DUMP"), st) == SL_OK, "dump the graph");
    for (int i = 0; i < nx; i++)
        if (!dxs[i].node) {
            fprintf(stderr, "grad-model: no gradient for input %d\n", i);
            return 1;
        }

    /* Assign nodes that set each variable from a placeholder. */
    sl_output w_in[MAX_VARS];
    sl_node *assign[MAX_VARS];
    for (int i = 0; i < nvars; i++) {
        char name[64];
        snprintf(name, sizeof(name), "set_w%d", i);
        w_in[i] = placeholder(g, name, SL_DTYPE_FLOAT);
        snprintf(name, sizeof(name), "assign_w%d", i);
        sl_output in[2] = {vars[i], w_in[i]};
        assign[i] = node1(g, "Assign", name, in, 2, SL_DTYPE_FLOAT).node;
    }
    sl_node *init = sl_variables_initializer(g, "init", st);
    check(init != NULL, "initializer");

    sl_session_options so = SL_SESSION_OPTIONS_INIT;
    so.inter_op_threads = 1;
    sl_session *s = sl_session_new(g, &so, st);
    check(s != NULL, "session");
    check(sl_session_run_outputs(s, NULL, NULL, NULL, 0, NULL, NULL, 0, (const sl_node *const *)&init, 1, NULL, st) ==
              SL_OK,
          "init");
    sl_tensor *w_val[MAX_VARS];
    char list[4096];
    snprintf(list, sizeof(list), "%s/vars.txt", dir);
    FILE *lf = fopen(list, "w");
    if (!lf)
        die("cannot write vars.txt");
    for (int i = 0; i < nvars; i++) {
        fprintf(lf, "%s\n", sl_node_name(vars[i].node));
        w_val[i] = load("w_", sl_node_name(vars[i].node));
    }
    fclose(lf);
    check(sl_session_run_outputs(s, NULL, w_in, w_val, nvars, NULL, NULL, 0, (const sl_node *const *)assign, nvars,
                                 NULL, st) == SL_OK,
          "assign");

    sl_output feeds[6];
    sl_tensor *fvals[6];
    int nf = 0;
    for (int i = 0; i < m.nin; i++) {
        feeds[nf] = m.ins[i];
        fvals[nf++] = load("", m.in_names[i]);
    }
    feeds[nf] = labels;
    fvals[nf++] = load("", "labels");
    if (m.extra_dy.node) {
        feeds[nf] = m.extra_dy;
        fvals[nf++] = load("", "dc");
    }
    sl_output fetches[MAX_VARS + 4];
    sl_tensor *out[MAX_VARS + 4] = {NULL};
    fetches[0] = m.loss;
    for (int i = 0; i < nx; i++)
        fetches[1 + i] = dxs[i];
    /* GRAD_MODEL_STATS set: say on stderr where the step's nodes ran */
    sl_run_options ro = {.collect_step_stats = getenv("GRAD_MODEL_STATS") != NULL};
    sl_step_stats *ss = NULL;
    check(sl_session_run_outputs(s, &ro, feeds, fvals, nf, fetches, out, 1 + nx, NULL, 0, ro.collect_step_stats ? &ss : NULL,
                                 st) == SL_OK,
          "run");
    for (int i = 0; ss && i < ss->num_devices; i++)
        fprintf(stderr, "grad-model: %s: %d node executions\n", ss->devices[i].device, ss->devices[i].num_nodes);
    for (int i = 0; ss && i < ss->num_nodes; i++)
        if (!strcmp(ss->nodes[i].op, "MatMul") || !strcmp(ss->nodes[i].op, "StackPopV2"))
            fprintf(stderr, "grad-model: %s (%s) iteration %lld on %s\n", ss->nodes[i].node_name, ss->nodes[i].op,
                    (long long)ss->nodes[i].iteration, ss->nodes[i].device);
    sl_step_stats_free(ss);
    check(sl_npy_write(path_of("", "loss"), out[0], st) == SL_OK, "write loss");
    for (int i = 0; i < nx; i++) {
        const char *name = i < nvars ? sl_node_name(vars[i].node) : m.in_names[i - nvars];
        check(sl_npy_write(path_of("grad_", name), out[1 + i], st) == SL_OK, "write a gradient");
    }
    for (int i = 0; i < 1 + nx; i++)
        sl_tensor_unref(out[i]);
    for (int i = 0; i < nf; i++)
        sl_tensor_unref(fvals[i]);
    for (int i = 0; i < nvars; i++)
        sl_tensor_unref(w_val[i]);
    sl_session_free(s);
    sl_graph_free(g);
    sl_status_free(st);
    return 0;
}
