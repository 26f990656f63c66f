/* Layers and initializers for people building models in C (TF1's
 * tf.layers and tf.initializers): each call adds the nodes of one layer
 * under its own name scope, with its variables made by sl_variable() (so
 * sl_variables_initializer() initializes them and optimizers train them),
 * and returns the layer's output.
 *
 *     sl_layer_options o;
 *     sl_layer_options_init(&o);
 *     o.activation = SL_ACTIVATION_RELU;
 *     sl_output h = sl_dense(g, "hidden", x, 512, &o, status);      // hidden/kernel, hidden/bias
 *     o.activation = SL_ACTIVATION_NONE;
 *     sl_output logits = sl_dense(g, NULL, h, 10, &o, status);      // dense/..., then dense_1/...
 *     sl_output loss = sl_sparse_softmax_cross_entropy(g, logits, labels, status);
 *
 * Names: a layer given a name uses it as its scope ("hidden/MatMul",
 * "hidden/kernel"); a NULL name picks the layer kind, made unique as TF
 * does ("dense", "dense_1", ...).  Scopes pushed by the caller
 * (sl_graph_push_scope) come first.  Variables are named as Keras and
 * tf.layers name them: kernel, bias, gamma, beta, moving_mean,
 * moving_variance, embeddings.
 *
 * Layouts: images are NHWC; dense layers take [batch, features] (use
 * sl_flatten first); convolution kernels are [kh, kw, in, out].  Shapes
 * the layer needs (input features, channels) must be known when the
 * graph is built; the batch dimension may be unknown.
 *
 * Modes: dropout and batch normalization take `training`, a bool scalar
 * (usually a PlaceholderWithDefault), or {NULL, 0} for "always training".
 * Both are written without control flow: the mode scales terms by
 * Cast(training), so one graph serves training and evaluation.
 *
 * Errors: every builder returns {NULL, 0} with the status set and leaves
 * the graph as it was (SL_INVALID_ARGUMENT for bad arguments or shapes,
 * naming the layer; or a node builder's error).
 *
 * Thread-safety: builders modify the graph (one thread at a time).
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "sluice/graph.h"
#include "sluice/macros.h"
#include "sluice/status.h"

SL_BEGIN_DECLS

/* ---- Initializers ------------------------------------------------------ */

typedef enum sl_init_kind {
    SL_INIT_ZEROS,
    SL_INIT_ONES,
    SL_INIT_CONSTANT,          /* every element = value */
    SL_INIT_UNIFORM,           /* uniform in [-value, value) */
    SL_INIT_TRUNCATED_NORMAL,  /* mean 0, deviation value, redrawn beyond 2 deviations */
    SL_INIT_GLOROT_UNIFORM,    /* uniform, limit sqrt(6 / (fan_in + fan_out)) */
    SL_INIT_GLOROT_NORMAL,     /* truncated normal, deviation sqrt(2 / (fan_in + fan_out)) / 0.8796 */
    SL_INIT_HE_UNIFORM,        /* uniform, limit sqrt(6 / fan_in) */
    SL_INIT_HE_NORMAL,         /* truncated normal, deviation sqrt(2 / fan_in) / 0.8796 */
} sl_init_kind;

typedef struct sl_initializer {
    sl_init_kind kind;
    double value;   /* CONSTANT: the value; UNIFORM: the limit; TRUNCATED_NORMAL: the deviation */
    int64_t seed;   /* random kinds: 0 draws a new sequence each run; else reproducible */
} sl_initializer;

/* fan_in and fan_out of a weight shape as Keras computes them: a vector
 * [n] gives (n, n); a matrix [in, out] gives (in, out); a convolution
 * kernel [k..., in, out] gives (in * prod(k), out * prod(k)).  The shape
 * must be fully defined and of rank >= 1. */
SL_API void sl_initializer_fans(const sl_shape *shape, double *fan_in, double *fan_out);

/* The deviation (normal kinds) or limit (uniform kinds) an initializer
 * uses for shape; 0 for ZEROS, ONES and CONSTANT. */
SL_API double sl_initializer_scale(const sl_initializer *init, const sl_shape *shape);

/* Adds nodes computing the initial value of a tensor of dtype (float or
 * double) and fully defined shape.  Random kinds get the seed of `init`
 * and a seed2 taken from the graph's size, so two variables with one
 * seed differ.  {NULL, 0} + status on failure (graph unchanged). */
SL_API sl_output sl_initializer_value(sl_graph *graph, const sl_initializer *init, sl_dtype dtype,
                                      const sl_shape *shape, sl_status *status);

/* A variable `name` initialized by init (sl_variable + sl_initializer_value,
 * the initial value built under "<name>/Initializer"). */
SL_API sl_output sl_variable_init(sl_graph *graph, const char *name, sl_dtype dtype,
                                  const sl_shape *shape, const sl_initializer *init,
                                  sl_status *status);

/* ---- Layers ---------------------------------------------------------------- */

typedef enum sl_activation {
    SL_ACTIVATION_NONE,
    SL_ACTIVATION_RELU,
    SL_ACTIVATION_SIGMOID,
    SL_ACTIVATION_TANH,
    SL_ACTIVATION_SOFTMAX,
} sl_activation;

typedef struct sl_layer_options {
    sl_activation activation;
    bool use_bias;
    sl_initializer kernel_init;
    sl_initializer bias_init;
} sl_layer_options;

/* Defaults: no activation, a bias, Glorot-uniform kernels (seed 0) and
 * zero biases, as Keras. */
SL_API void sl_layer_options_init(sl_layer_options *opts);

/* activation(x @ kernel + bias): x is [batch, in] with `in` known; kernel
 * [in, units].  opts may be NULL (defaults). */
SL_API sl_output sl_dense(sl_graph *graph, const char *name, sl_output x, int64_t units,
                          const sl_layer_options *opts, sl_status *status);

/* 2-D convolution of NHWC x (channels known) with a [kh, kw, in, filters]
 * kernel, strides (stride, stride), padding "SAME" or "VALID"; then bias
 * and activation. */
SL_API sl_output sl_conv2d(sl_graph *graph, const char *name, sl_output x, int64_t filters,
                           int kernel_h, int kernel_w, int stride, const char *padding,
                           const sl_layer_options *opts, sl_status *status);

/* Max and average pooling of NHWC x over size x size windows. */
SL_API sl_output sl_max_pool2d(sl_graph *graph, const char *name, sl_output x, int size, int stride,
                               const char *padding, sl_status *status);
SL_API sl_output sl_avg_pool2d(sl_graph *graph, const char *name, sl_output x, int size, int stride,
                               const char *padding, sl_status *status);

/* [batch, d1, d2, ...] -> [batch, d1 * d2 * ...] (the product must be
 * known). */
SL_API sl_output sl_flatten(sl_graph *graph, const char *name, sl_output x, sl_status *status);

/* Inverted dropout: while training, each element is zeroed with
 * probability rate (0 <= rate < 1) and the others scaled by 1 / (1 -
 * rate); otherwise x passes unchanged.  seed as for initializers. */
SL_API sl_output sl_dropout(sl_graph *graph, const char *name, sl_output x, double rate,
                            sl_output training, int64_t seed, sl_status *status);

typedef struct sl_batch_norm_options {
    double momentum;  /* moving = moving * momentum + batch * (1 - momentum); 0.99 */
    double epsilon;   /* added to the variance; 1e-3 */
    bool center;      /* add beta (true) */
    bool scale;       /* multiply by gamma (true) */
} sl_batch_norm_options;

SL_API void sl_batch_norm_options_init(sl_batch_norm_options *opts);

/* Batch normalization over every axis but the last (features; known).
 * While training it normalizes with the batch's mean and variance and
 * moves moving_mean and moving_variance towards them (the update runs
 * before the output is produced, so running anything that uses the output
 * updates them, as TF's UPDATE_OPS would); otherwise it normalizes with
 * the moving statistics.  opts may be NULL. */
SL_API sl_output sl_batch_norm(sl_graph *graph, const char *name, sl_output x, sl_output training,
                               const sl_batch_norm_options *opts, sl_status *status);

/* Rows of an embeddings variable [vocab, dim] (GatherV2 along axis 0) for
 * integer ids of any shape: the result is ids' shape + [dim].  init NULL:
 * uniform in [-0.05, 0.05) as Keras. */
SL_API sl_output sl_embedding(sl_graph *graph, const char *name, sl_output ids, int64_t vocab,
                              int64_t dim, const sl_initializer *init, sl_status *status);

/* One step of an LSTM cell (TF's BasicLSTMCell): with z = [x, h] @ kernel
 * + bias split into (i, j, f, o),
 *     c' = c * sigmoid(f + forget_bias) + sigmoid(i) * tanh(j)
 *     h' = tanh(c') * sigmoid(o)
 * x is [batch, in], h and c are [batch, units]; kernel [in + units,
 * 4 units] (init NULL: Glorot uniform), bias zeros.  Sets *h_out and
 * *c_out; SL_OK or the error (graph unchanged, outputs untouched). */
SL_API sl_code sl_lstm_cell(sl_graph *graph, const char *name, sl_output x, sl_output h,
                            sl_output c, int64_t units, double forget_bias,
                            const sl_initializer *init, sl_output *h_out, sl_output *c_out,
                            sl_status *status);

/* ---- Losses and metrics ------------------------------------------------ */

/* mean(SparseSoftmaxCrossEntropyWithLogits(logits [batch, classes],
 * labels [batch] int32/int64)), a scalar named "<scope>/loss". */
SL_API sl_output sl_sparse_softmax_cross_entropy(sl_graph *graph, sl_output logits,
                                                 sl_output labels, sl_status *status);

/* mean(argmax(logits, 1) == labels) as a float scalar named
 * "<scope>/accuracy". */
SL_API sl_output sl_accuracy(sl_graph *graph, sl_output logits, sl_output labels, sl_status *status);

/* ---- Variables by role ------------------------------------------------- */

/* Whether a VariableV2 is trained by optimizers: every variable except
 * global_step, batch normalization's moving statistics (".../moving_mean",
 * ".../moving_variance") and optimizer state (slots such as ".../Adam",
 * ".../Momentum", and the "beta1_power"/"beta2_power" accumulators). */
SL_API bool sl_variable_is_trainable(const sl_node *var);

/* The graph's trainable variables (VariableV2 nodes, in creation order):
 * writes up to max outputs to vars and returns how many there are. */
SL_API int sl_trainable_variables(const sl_graph *graph, sl_output *vars, int max);

SL_END_DECLS
