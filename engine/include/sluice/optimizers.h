/* Optimizers as graph builders (TF1's tf.train.*Optimizer): given a loss
 * and the variables to train, add the gradients, optional clipping by
 * global norm, the learning-rate schedule, the slot variables and the
 * Apply* update ops, and return one train op to run each step.
 *
 *     sl_optimizer_options o;
 *     sl_optimizer_options_init(&o, SL_OPTIMIZER_ADAM);
 *     o.learning_rate = 1e-3;
 *     sl_node *train = sl_optimizer_minimize(g, &o, loss, vars, nvars, status);
 *     sl_node *init = sl_variables_initializer(g, "init", status);
 *     // run init once, then train every step
 *
 * Variables are TF1 reference variables (VariableV2) made with
 * sl_variable(), each with an initializer node "<name>/Assign".  Slots are
 * named as TF names them ("<var>/Momentum", "<var>/Adam", "<var>/Adam_1",
 * "<var>/Adagrad", "<var>/RMSProp", "<var>/RMSProp_1"), so checkpoints
 * match TF's.  Everything the optimizer adds goes under the scope of its
 * name ("SGD", "Momentum", "Adam", "Adagrad", "RMSProp"), gradients under
 * "gradients/".
 *
 * Errors: every builder returns NULL (or {NULL, 0}) with the status set and
 * leaves the graph as it was: SL_INVALID_ARGUMENT for bad options or a
 * variable that is not a VariableV2, or the error of sl_add_gradients().
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

/* ---- Variables ----------------------------------------------------------- */

/* A VariableV2 named `name` (under the current scope) of dtype and fully
 * defined shape, with the initializer node "<name>/Assign" assigning
 * `initial` (an output of the same dtype and shape).  Returns the
 * variable's (reference) output, or {NULL, 0} with status set. */
SL_API sl_output sl_variable(sl_graph *graph, const char *name, sl_dtype dtype, const sl_shape *shape,
                             sl_output initial, sl_status *status);

/* A NoOp named `name` that runs every variable initializer of the graph
 * (the Assign nodes made by sl_variable).  NULL + status on failure. */
SL_API sl_node *sl_variables_initializer(sl_graph *graph, const char *name, sl_status *status);

/* The graph's global step: the int64 scalar variable "global_step" (made,
 * with its initializer to 0, on first use).  {NULL, 0} + status on error. */
SL_API sl_output sl_global_step(sl_graph *graph, sl_status *status);

/* ---- Optimizers ---------------------------------------------------------- */

typedef enum sl_optimizer_kind {
    SL_OPTIMIZER_SGD,
    SL_OPTIMIZER_MOMENTUM,
    SL_OPTIMIZER_ADAM,
    SL_OPTIMIZER_ADAGRAD,
    SL_OPTIMIZER_RMSPROP,
} sl_optimizer_kind;

typedef enum sl_lr_schedule {
    SL_LR_CONSTANT,
    /* lr * decay_rate ^ (global_step / decay_steps); with staircase the
     * exponent is floored: a step decay */
    SL_LR_EXPONENTIAL_DECAY,
} sl_lr_schedule;

typedef struct sl_optimizer_options {
    sl_optimizer_kind kind;
    double learning_rate;
    double momentum;            /* Momentum, RMSProp (TF default 0.0 for RMSProp) */
    bool nesterov;              /* Momentum, Adam */
    double beta1;               /* Adam */
    double beta2;               /* Adam */
    double epsilon;             /* Adam (1e-8), RMSProp (1e-10) */
    double rho;                 /* RMSProp decay (0.9) */
    double initial_accumulator; /* Adagrad (0.1), RMSProp's ms starts at 1.0 as in TF */
    double clip_global_norm;    /* > 0: scale all gradients so their global norm is at most this */
    sl_lr_schedule schedule;
    double decay_rate;
    int64_t decay_steps;
    bool staircase;
} sl_optimizer_options;

/* TF's defaults for kind (learning rate 0.01; 0.001 for Adam). */
SL_API void sl_optimizer_options_init(sl_optimizer_options *opts, sl_optimizer_kind kind);

/* The optimizer's name: "SGD", "Momentum", "Adam", "Adagrad", "RMSProp". */
SL_API const char *sl_optimizer_name(sl_optimizer_kind kind);

/* Adds the training step for loss over vars (VariableV2 outputs; a
 * variable the loss does not depend on is left alone) and returns the
 * train op, a NoOp named "<Name>/train" that runs every update and then
 * increments the global step.  NULL + status on failure (graph unchanged). */
SL_API sl_node *sl_optimizer_minimize(sl_graph *graph, const sl_optimizer_options *opts, sl_output loss,
                                      const sl_output *vars, int num_vars, sl_status *status);

/* One optimizer over several losses (asynchronous data-parallel training,
 * paper 4.4 and Figure 7: each replica's loss updates the shared
 * variables on its own).  The slots, the learning rate and Adam's beta
 * powers are made once and shared; each loss gets its own gradients
 * ("gradients/", "gradients_1/", ...), Apply* updates, beta-power steps
 * and global-step increment, under one train op per loss in trains[]
 * ("<Name>/train", "<Name>/train_1", ...).  Running trains[l] applies
 * loss l's gradients alone.  With one loss it is sl_optimizer_minimize().
 * SL_OK, or the status with the graph unchanged and trains[] NULL. */
SL_API sl_code sl_optimizer_minimize_each(sl_graph *graph, const sl_optimizer_options *opts, const sl_output *losses,
                                          int num_losses, const sl_output *vars, int num_vars, sl_node **trains,
                                          sl_status *status);

/* The learning-rate tensor the options describe (a Const, or a function of
 * the global step), of dtype; {NULL, 0} + status on failure. */
SL_API sl_output sl_learning_rate(sl_graph *graph, const sl_optimizer_options *opts, sl_dtype dtype,
                                  sl_status *status);

/* Scales grads[0..n) in place (entries without node are skipped) so their
 * global norm is at most clip_norm: g * clip / max(norm, clip).  Also
 * returns the norm in *global_norm when not NULL. */
SL_API sl_code sl_clip_by_global_norm(sl_graph *graph, sl_output *grads, int n, double clip_norm,
                                      sl_output *global_norm, sl_status *status);

SL_END_DECLS
