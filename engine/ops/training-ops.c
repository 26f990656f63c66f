/* Optimizer update op definitions (TF's training_ops), in reference-
 * variable and resource forms. */
#include "config.h"

#include "op-registry-private.h"
#include "shape-fns.h"
#include "type-sets.h"

#define T_ATTR "T: " SL_NUMBER_TYPES

static const sl_op_spec training_ops[] = {
    {.name = "ApplyGradientDescent", .inputs = {"var: Ref(T)", "alpha: T", "delta: T"},
     .outputs = {"out: Ref(T)"}, .attrs = {T_ATTR, "use_locking: bool = false"},
     .shape_fn = sl__shape_unchanged, .flags = SL_OP_STATEFUL, .summary = "var -= alpha * delta"},
    {.name = "ApplyMomentum", .inputs = {"var: Ref(T)", "accum: Ref(T)", "lr: T", "grad: T", "momentum: T"},
     .outputs = {"out: Ref(T)"},
     .attrs = {T_ATTR, "use_locking: bool = false", "use_nesterov: bool = false"},
     .shape_fn = sl__shape_unchanged, .flags = SL_OP_STATEFUL, .summary = "momentum update"},
    {.name = "ApplyAdam",
     .inputs = {"var: Ref(T)", "m: Ref(T)", "v: Ref(T)", "beta1_power: T", "beta2_power: T", "lr: T",
                "beta1: T", "beta2: T", "epsilon: T", "grad: T"},
     .outputs = {"out: Ref(T)"},
     .attrs = {T_ATTR, "use_locking: bool = false", "use_nesterov: bool = false"},
     .shape_fn = sl__shape_unchanged, .flags = SL_OP_STATEFUL, .summary = "Adam update"},
    {.name = "ApplyAdagrad", .inputs = {"var: Ref(T)", "accum: Ref(T)", "lr: T", "grad: T"},
     .outputs = {"out: Ref(T)"},
     .attrs = {T_ATTR, "use_locking: bool = false", "update_slots: bool = true"},
     .shape_fn = sl__shape_unchanged, .flags = SL_OP_STATEFUL, .summary = "Adagrad update"},
    {.name = "ApplyRMSProp",
     .inputs = {"var: Ref(T)", "ms: Ref(T)", "mom: Ref(T)", "lr: T", "rho: T", "momentum: T", "epsilon: T",
                "grad: T"},
     .outputs = {"out: Ref(T)"}, .attrs = {T_ATTR, "use_locking: bool = false"},
     .shape_fn = sl__shape_unchanged, .flags = SL_OP_STATEFUL, .summary = "RMSProp update"},
    {.name = "ResourceApplyGradientDescent", .inputs = {"var: resource", "alpha: T", "delta: T"},
     .attrs = {T_ATTR, "use_locking: bool = false"}, .flags = SL_OP_STATEFUL,
     .summary = "var -= alpha * delta"},
    {.name = "ResourceApplyMomentum",
     .inputs = {"var: resource", "accum: resource", "lr: T", "grad: T", "momentum: T"},
     .attrs = {T_ATTR, "use_locking: bool = false", "use_nesterov: bool = false"}, .flags = SL_OP_STATEFUL,
     .summary = "momentum update"},
    {.name = "ResourceApplyAdam",
     .inputs = {"var: resource", "m: resource", "v: resource", "beta1_power: T", "beta2_power: T", "lr: T",
                "beta1: T", "beta2: T", "epsilon: T", "grad: T"},
     .attrs = {T_ATTR, "use_locking: bool = false", "use_nesterov: bool = false"}, .flags = SL_OP_STATEFUL,
     .summary = "Adam update"},
    {.name = "ResourceApplyAdagrad", .inputs = {"var: resource", "accum: resource", "lr: T", "grad: T"},
     .attrs = {T_ATTR, "use_locking: bool = false", "update_slots: bool = true"}, .flags = SL_OP_STATEFUL,
     .summary = "Adagrad update"},
    {.name = "ResourceApplyRMSProp",
     .inputs = {"var: resource", "ms: resource", "mom: resource", "lr: T", "rho: T", "momentum: T",
                "epsilon: T", "grad: T"},
     .attrs = {T_ATTR, "use_locking: bool = false"}, .flags = SL_OP_STATEFUL, .summary = "RMSProp update"},
};

void sl__ops_register_training(void);
void sl__ops_register_training(void)
{
    sl__op_register_table(training_ops, SL_COUNTOF(training_ops));
}
