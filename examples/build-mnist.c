/* build-mnist: builds an MNIST classifier with the layers API and saves
 * its graph (.pb or .pbtxt by extension) for `sluice train`.
 *
 *     build-mnist mlp mnist-mlp.pbtxt     784-512-512-10, ReLU, dropout 0.2
 *     build-mnist cnn mnist-cnn.pbtxt     TF's "Deep MNIST": conv5x5x32, pool,
 *                                         conv5x5x64, pool, fc1024, dropout, fc10
 *
 * Inputs: "images" float [batch, 784], "labels" int64 [batch], "training"
 * (bool, default false: dropout off).  Outputs: "logits", "loss" (mean
 * softmax cross-entropy), "accuracy".  Variables get their initializers
 * ("<var>/Assign"), so `sluice train` adds the optimizer and trains. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sluice/graph.h"
#include "sluice/layers.h"

static sl_status *st;

static void check(const void *p, const char *what)
{
    if (!p) {
        fprintf(stderr, "build-mnist: %s: %s\n", what, sl_status_message(st));
        exit(1);
    }
}

static sl_output placeholder(sl_graph *g, const char *name, sl_dtype dt, sl_shape shape)
{
    sl_node_builder *b = sl_node_builder_new(g, "Placeholder", name);
    sl_node_builder_set_attr_type(b, "dtype", dt);
    sl_node_builder_set_attr_shape(b, "shape", &shape);
    sl_node *n = sl_node_builder_finish(b, st);
    check(n, name);
    return (sl_output){n, 0};
}

static sl_output training_flag(sl_graph *g)
{
    sl_shape sc = sl_shape_scalar();
    sl_tensor *f = sl_tensor_new(SL_DTYPE_BOOL, &sc, st);
    sl_node_builder *b = sl_node_builder_new(g, "Const", "training/default");
    sl_node_builder_set_attr_type(b, "dtype", SL_DTYPE_BOOL);
    sl_node_builder_set_attr_tensor(b, "value", f);
    sl_tensor_unref(f);
    sl_node *d = sl_node_builder_finish(b, st);
    check(d, "training/default");
    b = sl_node_builder_new(g, "PlaceholderWithDefault", "training");
    sl_node_builder_add_input(b, (sl_output){d, 0});
    sl_node_builder_set_attr_shape(b, "shape", &sc);
    sl_node *n = sl_node_builder_finish(b, st);
    check(n, "training");
    return (sl_output){n, 0};
}

int main(int argc, char **argv)
{
    if (argc != 3 || (strcmp(argv[1], "mlp") && strcmp(argv[1], "cnn"))) {
        fprintf(stderr, "usage: build-mnist mlp|cnn OUT.pbtxt|OUT.pb\n");
        return 2;
    }
    st = sl_status_new();
    sl_graph *g = sl_graph_new(st);
    sl_output x = placeholder(g, "images", SL_DTYPE_FLOAT, sl_shape_matrix(-1, 784));
    sl_output labels = placeholder(g, "labels", SL_DTYPE_INT64, sl_shape_vector(-1));
    sl_output training = training_flag(g);
    sl_layer_options o;
    sl_layer_options_init(&o);
    o.activation = SL_ACTIVATION_RELU;
    o.kernel_init.seed = 1;
    sl_output h;
    if (!strcmp(argv[1], "mlp")) {
        h = sl_dense(g, "hidden1", x, 512, &o, st);
        check(h.node, "hidden1");
        h = sl_dropout(g, NULL, h, 0.2, training, 2, st);
        h = sl_dense(g, "hidden2", h, 512, &o, st);
        check(h.node, "hidden2");
        h = sl_dropout(g, NULL, h, 0.2, training, 3, st);
    } else {
        sl_node_builder *b = sl_node_builder_new(g, "Reshape", "images_4d");
        sl_node_builder_add_input(b, x);
        sl_shape vs = sl_shape_vector(4);
        sl_tensor *shape = sl_tensor_new(SL_DTYPE_INT32, &vs, st);
        int32_t dims[4] = {-1, 28, 28, 1};
        memcpy(sl_tensor_data(shape), dims, sizeof(dims));
        sl_node_builder *cb = sl_node_builder_new(g, "Const", "images_4d/shape");
        sl_node_builder_set_attr_type(cb, "dtype", SL_DTYPE_INT32);
        sl_node_builder_set_attr_tensor(cb, "value", shape);
        sl_tensor_unref(shape);
        sl_node *sn = sl_node_builder_finish(cb, st);
        check(sn, "shape");
        sl_node_builder_add_input(b, (sl_output){sn, 0});
        sl_node *img = sl_node_builder_finish(b, st);
        check(img, "images_4d");
        h = sl_conv2d(g, "conv1", (sl_output){img, 0}, 32, 5, 5, 1, "SAME", &o, st);
        h = sl_max_pool2d(g, "pool1", h, 2, 2, "SAME", st);
        h = sl_conv2d(g, "conv2", h, 64, 5, 5, 1, "SAME", &o, st);
        h = sl_max_pool2d(g, "pool2", h, 2, 2, "SAME", st);
        h = sl_flatten(g, NULL, h, st);
        h = sl_dense(g, "fc1", h, 1024, &o, st);
        h = sl_dropout(g, NULL, h, 0.4, training, 2, st);
        check(h.node, "cnn");
    }
    o.activation = SL_ACTIVATION_NONE;
    sl_output logits = sl_dense(g, "logits", h, 10, &o, st);
    check(logits.node, "logits");
    check(sl_sparse_softmax_cross_entropy(g, logits, labels, st).node, "loss");
    check(sl_accuracy(g, logits, labels, st).node, "accuracy");
    if (sl_graph_save(g, argv[2], st) != SL_OK) {
        fprintf(stderr, "build-mnist: %s\n", sl_status_message(st));
        return 1;
    }
    printf("wrote %s (%d nodes)\n", argv[2], sl_graph_num_nodes(g));
    sl_graph_free(g);
    sl_status_free(st);
    return 0;
}
