/* Kernels of the stateful ops (paper 4.7): TF1 reference variables
 * (Variable, VariableV2, Assign, AssignAdd, AssignSub,
 * IsVariableInitialized) and resource variables (VarHandleOp,
 * ReadVariableOp, AssignVariableOp, AssignAdd/SubVariableOp,
 * VarIsInitializedOp, DestroyResourceOp).
 *
 * Both kinds keep an sl_var in the step's resource manager under
 * (container, shared_name or node name), type "var".  Values are shared
 * copy-on-write: Assign stores a reference to its input; AssignAdd updates
 * in place only when the variable holds the sole reference, else it builds
 * a new tensor, so a value some step has read never changes under it. */
#include "config.h"

#include <string.h>

#include "runtime-kernels.h"
#include "sluice/alloc.h"
#include "var-private.h"

#define VAR_TYPE "var"

static void *var_create(void *arg, sl_status *st)
{
    sl_var *v = sl_var_new();
    if (!v || !sl__var_set_name(v, arg)) {
        sl_var_unref(v);
        sl_status_set(st, SL_RESOURCE_EXHAUSTED, "out of memory creating variable '%s'", (const char *)arg);
        return NULL;
    }
    return v;
}

static void var_destroy(void *obj)
{
    sl_var_unref(obj);
}

static sl_resource_mgr *need_resources(sl_kernel_ctx *ctx)
{
    sl_resource_mgr *rm = sl_kernel_ctx_resources(ctx);
    if (!rm)
        sl_kernel_ctx_fail(ctx, SL_FAILED_PRECONDITION, "no resource manager: run this op in a session");
    return rm;
}

/* The variable (container, name), created when absent; a new reference. */
static sl_var *get_var(sl_kernel_ctx *ctx, sl_resource_mgr *rm, const char *container, const char *name,
                       bool create)
{
    sl_status *st = sl_status_new();
    if (!st) {
        sl_kernel_ctx_fail(ctx, SL_RESOURCE_EXHAUSTED, "out of memory");
        return NULL;
    }
    sl_resource *r = create ? sl_resource_mgr_lookup_or_create(rm, container, name, VAR_TYPE, var_create,
                                                               (void *)name, var_destroy, st)
                            : sl_resource_mgr_lookup(rm, container, name, VAR_TYPE, st);
    sl_var *v = NULL;
    if (r) {
        v = sl_var_ref(sl_resource_object(r));
        sl_resource_unref(r);
    } else {
        sl_kernel_ctx_fail(ctx, sl_status_code(st), "%s", sl_status_message(st));
    }
    sl_status_free(st);
    return v;
}

static void variable_compute(sl_kernel_ctx *ctx)
{
    sl_resource_mgr *rm = need_resources(ctx);
    if (!rm)
        return;
    char name[SL_RESOURCE_NAME_MAX], container[SL_RESOURCE_NAME_MAX];
    sl__resource_name(sl_kernel_ctx_node(ctx), name, sizeof(name));
    sl__resource_container(sl_kernel_ctx_node(ctx), container, sizeof(container));
    sl_var *v = get_var(ctx, rm, container, name, true);
    if (!v)
        return;
    sl_kernel_ctx_set_output_var(ctx, 0, v);
    sl_var_unref(v);
}

static void is_initialized_compute(sl_kernel_ctx *ctx)
{
    sl_var *v = sl_kernel_ctx_input_var(ctx, 0);
    sl_shape scalar = sl_shape_scalar();
    sl_tensor *out = sl_kernel_ctx_allocate_output(ctx, 0, &scalar);
    if (out)
        *(bool *)sl_tensor_data(out) = v && sl_var_is_initialized(v);
}

static bool shapes_match(sl_kernel_ctx *ctx, const char *what, const char *var, const sl_tensor *a,
                         const sl_tensor *b)
{
    if (sl_shape_equal(sl_tensor_shape(a), sl_tensor_shape(b)))
        return true;
    char sa[128], sb[128];
    sl_kernel_ctx_fail(ctx, SL_INVALID_ARGUMENT, "%s of '%s' requires shapes to match: variable %s, value %s",
                       what, var, sl_shape_to_string(sl_tensor_shape(a), sa, sizeof(sa)),
                       sl_shape_to_string(sl_tensor_shape(b), sb, sizeof(sb)));
    return false;
}

/* var = value, under the variable's lock. */
static void store(sl_kernel_ctx *ctx, sl_var *v, const sl_tensor *value, bool validate)
{
    sl_var_lock(v);
    sl_tensor *old = sl_var_value(v);
    if (validate && old && !shapes_match(ctx, "assign", sl__var_name(v), old, value)) {
        sl_var_unlock(v);
        return;
    }
    sl_var_set_value(v, (sl_tensor *)value);
    sl_var_unlock(v);
}

#define ADD_LOOP(T)                                                 \
    do {                                                            \
        T *d_ = (T *)sl_tensor_data(dst);                           \
        const T *a_ = (const T *)sl_tensor_data(a);                 \
        const T *b_ = (const T *)sl_tensor_data(b);                 \
        if (sub)                                                    \
            for (int64_t i_ = 0; i_ < n; i_++)                      \
                d_[i_] = (T)(a_[i_] - b_[i_]);                      \
        else                                                        \
            for (int64_t i_ = 0; i_ < n; i_++)                      \
                d_[i_] = (T)(a_[i_] + b_[i_]);                      \
    } while (0)

/* dst = a +/- b elementwise (same shape); false for an unsupported dtype. */
static bool add_into(sl_tensor *dst, const sl_tensor *a, const sl_tensor *b, bool sub)
{
    int64_t n = sl_tensor_num_elements(a);
    switch (sl_tensor_dtype(a)) {
    case SL_DTYPE_FLOAT: ADD_LOOP(float); return true;
    case SL_DTYPE_DOUBLE: ADD_LOOP(double); return true;
    case SL_DTYPE_INT32: ADD_LOOP(int32_t); return true;
    case SL_DTYPE_INT64: ADD_LOOP(int64_t); return true;
    case SL_DTYPE_INT16: ADD_LOOP(int16_t); return true;
    case SL_DTYPE_INT8: ADD_LOOP(int8_t); return true;
    case SL_DTYPE_UINT8: ADD_LOOP(uint8_t); return true;
    case SL_DTYPE_UINT16: ADD_LOOP(uint16_t); return true;
    case SL_DTYPE_UINT32: ADD_LOOP(uint32_t); return true;
    case SL_DTYPE_UINT64: ADD_LOOP(uint64_t); return true;
    default: return false;
    }
}

/* var += value (or -=), copy-on-write, under the variable's lock. */
static void update(sl_kernel_ctx *ctx, sl_var *v, const sl_tensor *value, bool sub)
{
    const char *what = sub ? "assign_sub" : "assign_add";
    sl_var_lock(v);
    sl_tensor *old = sl_var_value(v);
    if (!old) {
        sl_var_unlock(v);
        sl_kernel_ctx_fail(ctx, SL_FAILED_PRECONDITION, "attempting to use uninitialized value %s",
                           sl__var_name(v));
        return;
    }
    if (!shapes_match(ctx, what, sl__var_name(v), old, value)) {
        sl_var_unlock(v);
        return;
    }
    sl_tensor *dst = old;
    sl_status *st = NULL;
    if (sl_tensor_refcount(old) > 1 || sl_tensor_is_external(old)) {
        st = sl_status_new();
        dst = st ? sl_tensor_new(sl_tensor_dtype(old), sl_tensor_shape(old), st) : NULL;
        if (!dst) {
            sl_var_unlock(v);
            sl_kernel_ctx_fail(ctx, SL_RESOURCE_EXHAUSTED, "out of memory updating '%s'", sl__var_name(v));
            sl_status_free(st);
            return;
        }
    }
    if (!add_into(dst, old, value, sub)) {
        sl_var_unlock(v);
        sl_kernel_ctx_fail(ctx, SL_UNIMPLEMENTED, "%s of a %s variable", what,
                           sl_dtype_name(sl_tensor_dtype(old)));
        if (dst != old)
            sl_tensor_unref(dst);
        sl_status_free(st);
        return;
    }
    if (dst != old) {
        sl_var_set_value(v, dst);
        sl_tensor_unref(dst);
    }
    sl_var_unlock(v);
    sl_status_free(st);
}

static void assign_compute(sl_kernel_ctx *ctx)
{
    sl_var *v = sl_kernel_ctx_input_var(ctx, 0);
    bool validate = true;
    sl_node_attr_bool(sl_kernel_ctx_node(ctx), "validate_shape", &validate);
    store(ctx, v, sl_kernel_ctx_input(ctx, 1), validate);
    if (sl_kernel_ctx_ok(ctx))
        sl_kernel_ctx_set_output_var(ctx, 0, v);
}

static void assign_add_compute(sl_kernel_ctx *ctx)
{
    sl_var *v = sl_kernel_ctx_input_var(ctx, 0);
    update(ctx, v, sl_kernel_ctx_input(ctx, 1), false);
    if (sl_kernel_ctx_ok(ctx))
        sl_kernel_ctx_set_output_var(ctx, 0, v);
}

static void assign_sub_compute(sl_kernel_ctx *ctx)
{
    sl_var *v = sl_kernel_ctx_input_var(ctx, 0);
    update(ctx, v, sl_kernel_ctx_input(ctx, 1), true);
    if (sl_kernel_ctx_ok(ctx))
        sl_kernel_ctx_set_output_var(ctx, 0, v);
}

/* ---- Resource variables ------------------------------------------------- */

static void var_handle_compute(sl_kernel_ctx *ctx)
{
    sl_resource_mgr *rm = need_resources(ctx);
    if (!rm)
        return;
    char name[SL_RESOURCE_NAME_MAX], container[SL_RESOURCE_NAME_MAX];
    sl__resource_name(sl_kernel_ctx_node(ctx), name, sizeof(name));
    sl__resource_container(sl_kernel_ctx_node(ctx), container, sizeof(container));
    const sl_resource_handle *h = sl_resource_mgr_handle(rm, container, name, VAR_TYPE);
    sl_status *st = sl_status_new();
    sl_tensor *t = h && st ? sl_resource_handle_tensor(h, st) : NULL;
    if (!t)
        sl_kernel_ctx_fail(ctx, SL_RESOURCE_EXHAUSTED, "out of memory for a resource handle");
    else
        sl_kernel_ctx_set_output(ctx, 0, t);
    sl_tensor_unref(t);
    sl_status_free(st);
}

static const sl_resource_handle *input_handle(sl_kernel_ctx *ctx)
{
    const sl_resource_handle *h = sl_resource_handle_from_tensor(sl_kernel_ctx_input(ctx, 0));
    if (!h)
        sl_kernel_ctx_fail(ctx, SL_INVALID_ARGUMENT, "input 0 is not a resource handle");
    return h;
}

static sl_var *handle_var(sl_kernel_ctx *ctx, bool create)
{
    sl_resource_mgr *rm = need_resources(ctx);
    const sl_resource_handle *h = rm ? input_handle(ctx) : NULL;
    if (!h)
        return NULL;
    return get_var(ctx, rm, h->container, h->name, create);
}

static bool check_dtype(sl_kernel_ctx *ctx, const sl_tensor *t, const char *name)
{
    sl_dtype want;
    if (t && sl_node_attr_type(sl_kernel_ctx_node(ctx), "dtype", &want) && sl_tensor_dtype(t) != want) {
        sl_kernel_ctx_fail(ctx, SL_INVALID_ARGUMENT, "variable '%s' holds %s, not %s", name,
                           sl_dtype_name(sl_tensor_dtype(t)), sl_dtype_name(want));
        return false;
    }
    return true;
}

static void read_variable_compute(sl_kernel_ctx *ctx)
{
    sl_var *v = handle_var(ctx, false);
    if (!v)
        return;
    sl_var_lock(v);
    sl_tensor *t = sl_tensor_ref(sl_var_value(v));
    sl_var_unlock(v);
    if (!t)
        sl_kernel_ctx_fail(ctx, SL_FAILED_PRECONDITION, "attempting to use uninitialized value %s",
                           sl__var_name(v));
    else if (check_dtype(ctx, t, sl__var_name(v)))
        sl_kernel_ctx_set_output(ctx, 0, t);
    sl_tensor_unref(t);
    sl_var_unref(v);
}

static void assign_variable_compute(sl_kernel_ctx *ctx)
{
    sl_var *v = handle_var(ctx, true);
    if (!v)
        return;
    bool validate = false;
    sl_node_attr_bool(sl_kernel_ctx_node(ctx), "validate_shape", &validate);
    store(ctx, v, sl_kernel_ctx_input(ctx, 1), validate);
    sl_var_unref(v);
}

static void assign_add_variable_compute(sl_kernel_ctx *ctx)
{
    sl_var *v = handle_var(ctx, false);
    if (!v)
        return;
    update(ctx, v, sl_kernel_ctx_input(ctx, 1), false);
    sl_var_unref(v);
}

static void assign_sub_variable_compute(sl_kernel_ctx *ctx)
{
    sl_var *v = handle_var(ctx, false);
    if (!v)
        return;
    update(ctx, v, sl_kernel_ctx_input(ctx, 1), true);
    sl_var_unref(v);
}

static void var_is_initialized_compute(sl_kernel_ctx *ctx)
{
    sl_resource_mgr *rm = need_resources(ctx);
    const sl_resource_handle *h = rm ? input_handle(ctx) : NULL;
    if (!h)
        return;
    sl_status *st = sl_status_new();
    sl_resource *r = st ? sl_resource_mgr_lookup(rm, h->container, h->name, VAR_TYPE, st) : NULL;
    bool init = r && sl_var_is_initialized(sl_resource_object(r));
    sl_resource_unref(r);
    sl_status_free(st);
    sl_shape scalar = sl_shape_scalar();
    sl_tensor *out = sl_kernel_ctx_allocate_output(ctx, 0, &scalar);
    if (out)
        *(bool *)sl_tensor_data(out) = init;
}

static void destroy_resource_compute(sl_kernel_ctx *ctx)
{
    sl_resource_mgr *rm = need_resources(ctx);
    const sl_resource_handle *h = rm ? input_handle(ctx) : NULL;
    if (!h)
        return;
    bool ignore = true;
    sl_node_attr_bool(sl_kernel_ctx_node(ctx), "ignore_lookup_error", &ignore);
    sl_status *st = sl_status_new();
    if (st && sl_resource_mgr_delete(rm, h->container, h->name, st) != SL_OK && !ignore)
        sl_kernel_ctx_fail(ctx, sl_status_code(st), "%s", sl_status_message(st));
    sl_status_free(st);
}

static const sl_kernel_def state_kernels[] = {
    {.op = "Variable", .device = SL_DEVICE_CPU, .compute = variable_compute},
    {.op = "VariableV2", .device = SL_DEVICE_CPU, .compute = variable_compute},
    {.op = "IsVariableInitialized", .device = SL_DEVICE_CPU, .compute = is_initialized_compute},
    {.op = "Assign", .device = SL_DEVICE_CPU, .compute = assign_compute},
    {.op = "AssignAdd", .device = SL_DEVICE_CPU, .compute = assign_add_compute},
    {.op = "AssignSub", .device = SL_DEVICE_CPU, .compute = assign_sub_compute},
    {.op = "VarHandleOp", .device = SL_DEVICE_CPU, .compute = var_handle_compute},
    {.op = "ReadVariableOp", .device = SL_DEVICE_CPU, .compute = read_variable_compute},
    {.op = "AssignVariableOp", .device = SL_DEVICE_CPU, .compute = assign_variable_compute},
    {.op = "AssignAddVariableOp", .device = SL_DEVICE_CPU, .compute = assign_add_variable_compute},
    {.op = "AssignSubVariableOp", .device = SL_DEVICE_CPU, .compute = assign_sub_variable_compute},
    {.op = "VarIsInitializedOp", .device = SL_DEVICE_CPU, .compute = var_is_initialized_compute},
    {.op = "DestroyResourceOp", .device = SL_DEVICE_CPU, .compute = destroy_resource_compute},
};

void sl__kernels_register_state(void)
{
    sl__runtime_register_table(state_kernels, (int)(sizeof(state_kernels) / sizeof(state_kernels[0])));
}
