/* Stateful op definitions: TF1 reference variables, resource variables,
 * and the assignment ops (paper 4.7). */
#include "config.h"

#include "op-registry-private.h"
#include "shape-fns.h"
#include "sluice/graph.h"
#include "type-sets.h"

#define VAR_ATTRS "shape: shape", "dtype: type", "container: string = ''", "shared_name: string = ''"

static const sl_op_spec state_ops[] = {
    {.name = "Variable", .outputs = {"ref: Ref(dtype)"}, .attrs = {VAR_ATTRS},
     .shape_fn = sl__shape_from_shape_attr, .flags = SL_OP_STATEFUL,
     .summary = "a mutable tensor kept across steps (TF 0.x name)"},
    {.name = "VariableV2", .outputs = {"ref: Ref(dtype)"}, .attrs = {VAR_ATTRS},
     .shape_fn = sl__shape_from_shape_attr, .flags = SL_OP_STATEFUL,
     .summary = "a mutable tensor kept across steps"},
    {.name = "IsVariableInitialized", .inputs = {"ref: Ref(dtype)"}, .outputs = {"is_initialized: bool"},
     .attrs = {"dtype: type"}, .shape_fn = sl__shape_scalar,
     .flags = SL_OP_STATEFUL | SL_OP_ALLOWS_UNINITIALIZED_INPUT, .summary = "whether a variable holds a value"},
    {.name = "Assign", .inputs = {"ref: Ref(T)", "value: T"}, .outputs = {"output_ref: Ref(T)"},
     .attrs = {"T: type", "validate_shape: bool = true", "use_locking: bool = true"},
     .shape_fn = sl__shape_unchanged, .flags = SL_OP_STATEFUL | SL_OP_ALLOWS_UNINITIALIZED_INPUT,
     .summary = "stores value in a variable"},
    {.name = "AssignAdd", .inputs = {"ref: Ref(T)", "value: T"}, .outputs = {"output_ref: Ref(T)"},
     .attrs = {"T: " SL_NUMBER_TYPES, "use_locking: bool = false"},
     .shape_fn = sl__shape_unchanged, .flags = SL_OP_STATEFUL, .summary = "adds value to a variable"},
    {.name = "AssignSub", .inputs = {"ref: Ref(T)", "value: T"}, .outputs = {"output_ref: Ref(T)"},
     .attrs = {"T: " SL_NUMBER_TYPES, "use_locking: bool = false"},
     .shape_fn = sl__shape_unchanged, .flags = SL_OP_STATEFUL, .summary = "subtracts value from a variable"},
    {.name = "VarHandleOp", .outputs = {"resource: resource"},
     .attrs = {"container: string = ''", "shared_name: string = ''", "debug_name: string = ''",
               "dtype: type", "shape: shape", "allowed_devices: list(string) = []"},
     .shape_fn = sl__shape_scalar, .flags = SL_OP_STATEFUL, .summary = "a handle to a resource variable"},
    {.name = "ReadVariableOp", .inputs = {"resource: resource"}, .outputs = {"value: dtype"},
     .attrs = {"dtype: type"}, .flags = SL_OP_STATEFUL, .summary = "the value of a resource variable"},
    {.name = "AssignVariableOp", .inputs = {"resource: resource", "value: dtype"},
     .attrs = {"dtype: type", "validate_shape: bool = false"}, .flags = SL_OP_STATEFUL,
     .summary = "stores value in a resource variable"},
    {.name = "AssignAddVariableOp", .inputs = {"resource: resource", "value: dtype"},
     .attrs = {"dtype: type"}, .flags = SL_OP_STATEFUL, .summary = "adds value to a resource variable"},
    {.name = "AssignSubVariableOp", .inputs = {"resource: resource", "value: dtype"},
     .attrs = {"dtype: type"}, .flags = SL_OP_STATEFUL, .summary = "subtracts value from a resource variable"},
    {.name = "VarIsInitializedOp", .inputs = {"resource: resource"}, .outputs = {"is_initialized: bool"},
     .shape_fn = sl__shape_scalar, .flags = SL_OP_STATEFUL, .summary = "whether a resource variable holds a value"},
    {.name = "DestroyResourceOp", .inputs = {"resource: resource"},
     .attrs = {"ignore_lookup_error: bool = true"}, .flags = SL_OP_STATEFUL,
     .summary = "deletes a resource"},
};

void sl__ops_register_state(void);
void sl__ops_register_state(void)
{
    sl__op_register_table(state_ops, SL_COUNTOF(state_ops));
}
