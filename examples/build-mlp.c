/* build-mlp: builds the graph of a small MNIST multilayer perceptron with
 * Sluice's C API and saves it as a GraphDef (.pb or .pbtxt by extension).
 *
 *     build-mlp OUT.pbtxt
 *
 * 784 -> 128 (ReLU) -> 10, softmax cross-entropy loss, variables created
 * with VariableV2 and initialized by uniform random Assigns grouped under
 * an "init" NoOp, as TF1 graphs do.  A worked example of node builders,
 * name scopes and control edges. */
#include <stdio.h>
#include <stdlib.h>

#include "sluice/graph.h"

static sl_status *st;

static void check(const void *p)
{
    if (!p) {
        fprintf(stderr, "build-mlp: %s\n", sl_status_message(st));
        exit(1);
    }
}

static sl_node *placeholder(sl_graph *g, const char *name, sl_shape shape)
{
    sl_node_builder *b = sl_node_builder_new(g, "Placeholder", name);
    sl_node_builder_set_attr_type(b, "dtype", SL_DTYPE_FLOAT);
    sl_node_builder_set_attr_shape(b, "shape", &shape);
    sl_node *n = sl_node_builder_finish(b, st);
    check(n);
    return n;
}

static sl_node *const_shape(sl_graph *g, const char *name, int rank, const int64_t *dims)
{
    sl_shape vs = sl_shape_vector(rank);
    sl_tensor *t = sl_tensor_new(SL_DTYPE_INT32, &vs, st);
    check(t);
    for (int i = 0; i < rank; i++)
        ((int32_t *)sl_tensor_data(t))[i] = (int32_t)dims[i];
    sl_node_builder *b = sl_node_builder_new(g, "Const", name);
    sl_node_builder_set_attr_type(b, "dtype", SL_DTYPE_INT32);
    sl_node_builder_set_attr_tensor(b, "value", t);
    sl_tensor_unref(t);
    sl_node *n = sl_node_builder_finish(b, st);
    check(n);
    return n;
}

/* A float variable of `shape`, and its initializer: Assign(var, uniform). */
static sl_node *variable(sl_graph *g, const char *name, int rank, const int64_t *dims, sl_node **init)
{
    sl_shape shape = sl_shape_make(rank, dims);
    sl_node_builder *b = sl_node_builder_new(g, "VariableV2", name);
    sl_node_builder_set_attr_type(b, "dtype", SL_DTYPE_FLOAT);
    sl_node_builder_set_attr_shape(b, "shape", &shape);
    sl_node *var = sl_node_builder_finish(b, st);
    check(var);

    check(sl_graph_push_scope(g, name, st) == SL_OK ? var : NULL);
    sl_node *sh = const_shape(g, "shape", rank, dims);
    b = sl_node_builder_new(g, "RandomUniform", "random");
    sl_node_builder_add_input(b, (sl_output){sh, 0});
    sl_node_builder_set_attr_type(b, "dtype", SL_DTYPE_FLOAT);
    sl_node_builder_set_attr_int(b, "seed", 42);
    sl_node *rnd = sl_node_builder_finish(b, st);
    check(rnd);
    b = sl_node_builder_new(g, "Assign", "init");
    sl_node_builder_add_input(b, (sl_output){var, 0});
    sl_node_builder_add_input(b, (sl_output){rnd, 0});
    *init = sl_node_builder_finish(b, st);
    check(*init);
    sl_graph_pop_scope(g);
    return var;
}

static sl_node *op2(sl_graph *g, const char *op, const char *name, sl_output a, sl_output b)
{
    sl_node_builder *nb = sl_node_builder_new(g, op, name);
    sl_node_builder_add_input(nb, a);
    sl_node_builder_add_input(nb, b);
    sl_node *n = sl_node_builder_finish(nb, st);
    check(n);
    return n;
}

static sl_node *dense(sl_graph *g, const char *scope, sl_node *x, int64_t in, int64_t out, bool relu,
                      sl_node **inits)
{
    check(sl_graph_push_scope(g, scope, st) == SL_OK ? x : NULL);
    sl_node *w = variable(g, "weights", 2, (int64_t[]){in, out}, &inits[0]);
    sl_node *b = variable(g, "biases", 1, (int64_t[]){out}, &inits[1]);
    sl_node *mm = op2(g, "MatMul", "MatMul", (sl_output){x, 0}, (sl_output){w, 0});
    sl_node *y = op2(g, "BiasAdd", "BiasAdd", (sl_output){mm, 0}, (sl_output){b, 0});
    if (relu) {
        sl_node_builder *nb = sl_node_builder_new(g, "Relu", "Relu");
        sl_node_builder_add_input(nb, (sl_output){y, 0});
        y = sl_node_builder_finish(nb, st);
        check(y);
    }
    sl_graph_pop_scope(g);
    return y;
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: build-mlp OUT.pbtxt|OUT.pb\n");
        return 2;
    }
    st = sl_status_new();
    sl_graph *g = sl_graph_new(st);
    check(g);
    sl_node *x = placeholder(g, "images", sl_shape_matrix(-1, 784));
    sl_node *labels = placeholder(g, "labels", sl_shape_matrix(-1, 10));
    sl_node *inits[4];
    sl_node *h = dense(g, "hidden", x, 784, 128, true, inits);
    sl_node *logits = dense(g, "logits", h, 128, 10, false, inits + 2);

    check(sl_graph_push_scope(g, "loss", st) == SL_OK ? g : NULL);
    sl_node *xent = op2(g, "SoftmaxCrossEntropyWithLogits", "xent", (sl_output){logits, 0},
                        (sl_output){labels, 0});
    sl_node *axes = const_shape(g, "axes", 1, (int64_t[]){0});
    sl_node *loss = op2(g, "Mean", "mean", (sl_output){xent, 0}, (sl_output){axes, 0});
    (void)loss;
    sl_graph_pop_scope(g);

    sl_node_builder *b = sl_node_builder_new(g, "Softmax", "probabilities");
    sl_node_builder_add_input(b, (sl_output){logits, 0});
    check(sl_node_builder_finish(b, st));

    b = sl_node_builder_new(g, "NoOp", "init");
    for (int i = 0; i < 4; i++)
        sl_node_builder_add_control_input(b, inits[i]);
    check(sl_node_builder_finish(b, st));

    if (sl_graph_save(g, argv[1], st) != SL_OK) {
        fprintf(stderr, "build-mlp: %s\n", sl_status_message(st));
        return 1;
    }
    printf("wrote %s (%d nodes)\n", argv[1], sl_graph_num_nodes(g));
    sl_graph_free(g);
    sl_status_free(st);
    return 0;
}
