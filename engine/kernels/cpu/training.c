/* Optimizer updates on TF1 reference variables: ApplyGradientDescent,
 * ApplyMomentum, ApplyAdam, ApplyAdagrad and ApplyRMSProp (float and
 * double), with TF's update formulas.
 *
 * The variable slots (var, accumulators) arrive as sl_var inputs; the
 * kernel locks each distinct one, checks that it is initialized and has
 * the gradient's shape, updates the value in place and forwards the
 * variable as output 0 (a reference output).  Hyperparameters are
 * scalars.  The update runs over the pool in element ranges.
 */
#include "config.h"

#include <math.h>
#include <string.h>

#include "cpu-kernels.h"

#define MAX_SLOTS 3

typedef enum opt_kind { OPT_GD, OPT_MOMENTUM, OPT_ADAM, OPT_ADAGRAD, OPT_RMSPROP } opt_kind;

typedef struct opt_spec {
    const char *op;
    opt_kind kind;
    int slots;      /* leading reference inputs */
    int scalars;    /* hyperparameters after them */
    int grad;       /* input index of the gradient */
} opt_spec;

static const opt_spec opt_specs[] = {
    {"ApplyGradientDescent", OPT_GD, 1, 1, 2},
    {"ApplyMomentum", OPT_MOMENTUM, 2, 1, 3},  /* lr, grad, momentum: momentum read separately */
    {"ApplyAdam", OPT_ADAM, 3, 6, 9},
    {"ApplyAdagrad", OPT_ADAGRAD, 2, 1, 3},
    {"ApplyRMSProp", OPT_RMSPROP, 3, 4, 7},
};

typedef struct opt_job {
    opt_kind kind;
    sl_dtype dt;
    void *s[MAX_SLOTS];  /* var, then accumulators */
    const void *g;
    double h[8];         /* hyperparameters */
    bool nesterov;
    bool update_slots;
} opt_job;

#define OPT_LOOP(NAME, T)                                                                       \
    static void NAME(const opt_job *j, int64_t b, int64_t e)                                    \
    {                                                                                           \
        T *var = j->s[0], *a1 = j->s[1], *a2 = j->s[2];                                         \
        const T *g = j->g;                                                                      \
        const double *h = j->h;                                                                 \
        switch (j->kind) {                                                                      \
        case OPT_GD: {                                                                          \
            T alpha = (T)h[0];                                                                  \
            for (int64_t i = b; i < e; i++)                                                     \
                var[i] -= alpha * g[i];                                                         \
            break;                                                                              \
        }                                                                                       \
        case OPT_MOMENTUM: {                                                                    \
            T lr = (T)h[0], mom = (T)h[1];                                                      \
            for (int64_t i = b; i < e; i++) {                                                   \
                a1[i] = a1[i] * mom + g[i];                                                     \
                var[i] -= j->nesterov ? g[i] * lr + a1[i] * mom * lr : lr * a1[i];              \
            }                                                                                   \
            break;                                                                              \
        }                                                                                       \
        case OPT_ADAM: {                                                                        \
            T b1p = (T)h[0], b2p = (T)h[1], lr = (T)h[2], b1 = (T)h[3], b2 = (T)h[4], eps = (T)h[5]; \
            T lr_t = lr * (T)sqrt((double)(1 - b2p)) / (1 - b1p);                               \
            for (int64_t i = b; i < e; i++) {                                                   \
                a1[i] += (g[i] - a1[i]) * (1 - b1);                                             \
                a2[i] += (g[i] * g[i] - a2[i]) * (1 - b2);                                      \
                T num = j->nesterov ? g[i] * (1 - b1) + b1 * a1[i] : a1[i];                     \
                var[i] -= num * lr_t / ((T)sqrt((double)a2[i]) + eps);                          \
            }                                                                                   \
            break;                                                                              \
        }                                                                                       \
        case OPT_ADAGRAD: {                                                                     \
            T lr = (T)h[0];                                                                     \
            for (int64_t i = b; i < e; i++) {                                                   \
                if (j->update_slots)                                                            \
                    a1[i] += g[i] * g[i];                                                       \
                var[i] -= lr * g[i] / (T)sqrt((double)a1[i]);                                   \
            }                                                                                   \
            break;                                                                              \
        }                                                                                       \
        case OPT_RMSPROP: {                                                                     \
            T lr = (T)h[0], rho = (T)h[1], mom = (T)h[2], eps = (T)h[3];                        \
            for (int64_t i = b; i < e; i++) {                                                   \
                a1[i] += (g[i] * g[i] - a1[i]) * (1 - rho);                                     \
                a2[i] = a2[i] * mom + lr * g[i] / (T)sqrt((double)(a1[i] + eps));               \
                var[i] -= a2[i];                                                                \
            }                                                                                   \
            break;                                                                              \
        }                                                                                       \
        }                                                                                       \
    }
OPT_LOOP(opt_f32, float)
OPT_LOOP(opt_f64, double)

static void opt_shard(void *arg, int64_t b, int64_t e)
{
    const opt_job *j = arg;
    if (j->dt == SL_DTYPE_FLOAT)
        opt_f32(j, b, e);
    else
        opt_f64(j, b, e);
}

static double scalar_value(const sl_tensor *t)
{
    return sl_tensor_dtype(t) == SL_DTYPE_FLOAT ? *(const float *)sl_tensor_data(t)
                                                : *(const double *)sl_tensor_data(t);
}

static const char *slot_name(const sl_node *node, int i)
{
    return sl_node_op_def(node)->inputs[i].name;
}

static void apply_compute(sl_kernel_ctx *ctx)
{
    const sl_node *node = sl_kernel_ctx_node(ctx);
    const char *op = sl_node_op_type(node);
    const opt_spec *sp = NULL;
    for (int i = 0; i < SL_COUNTOF_K(opt_specs); i++)
        if (!strcmp(opt_specs[i].op, op))
            sp = &opt_specs[i];
    if (!sp) {
        sl_kernel_ctx_fail(ctx, SL_INTERNAL, "no update rule for %s", op);
        return;
    }
    sl_var *vars[MAX_SLOTS] = {NULL};
    for (int i = 0; i < sp->slots; i++) {
        vars[i] = sl_kernel_ctx_input_var(ctx, i);
        if (!vars[i]) {
            sl_kernel_ctx_fail(ctx, SL_INVALID_ARGUMENT, "input %d (%s) must be a reference variable", i,
                               slot_name(node, i));
            return;
        }
    }
    const sl_tensor *g = sl_kernel_ctx_input(ctx, sp->grad);
    opt_job j = {.kind = sp->kind, .dt = sl_tensor_dtype(g), .g = sl_tensor_data(g)};
    /* hyperparameters: every non-slot, non-grad input, in order */
    int nh = 0;
    for (int i = sp->slots; i < sl_kernel_ctx_num_inputs(ctx); i++) {
        if (i == sp->grad)
            continue;
        const sl_tensor *t = sl_kernel_ctx_input(ctx, i);
        if (sl_tensor_rank(t) != 0) {
            sl_kernel_ctx_fail(ctx, SL_INVALID_ARGUMENT, "%s must be a scalar, got %s", slot_name(node, i),
                               sl__k_shape_str(sl_tensor_shape(t), 0));
            return;
        }
        j.h[nh++] = scalar_value(t);
    }
    sl_node_attr_bool(node, "use_nesterov", &j.nesterov);
    j.update_slots = true;
    sl_node_attr_bool(node, "update_slots", &j.update_slots);
    /* lock each distinct variable in input order */
    int locked = 0;
    for (; locked < sp->slots; locked++) {
        bool dup = false;
        for (int k = 0; k < locked; k++)
            dup = dup || vars[k] == vars[locked];
        if (!dup)
            sl_var_lock(vars[locked]);
        sl_tensor *v = sl_var_value(vars[locked]);
        if (!v) {
            sl_kernel_ctx_fail(ctx, SL_FAILED_PRECONDITION, "attempting to use uninitialized value %s",
                               slot_name(node, locked));
            locked++;
            goto unlock;
        }
        if (!sl_shape_equal(sl_tensor_shape(v), sl_tensor_shape(g)) || sl_tensor_dtype(v) != j.dt) {
            sl_kernel_ctx_fail(ctx, SL_INVALID_ARGUMENT, "%s (%s %s) and grad (%s %s) must have the same shape and type",
                               slot_name(node, locked), sl_dtype_name(sl_tensor_dtype(v)),
                               sl__k_shape_str(sl_tensor_shape(v), 0), sl_dtype_name(j.dt),
                               sl__k_shape_str(sl_tensor_shape(g), 1));
            locked++;
            goto unlock;
        }
        j.s[locked] = sl_tensor_data(v);
    }
    sl__k_parallel(ctx, sl_tensor_num_elements(g), 8, opt_shard, &j);
    sl_kernel_ctx_set_output_var(ctx, 0, vars[0]);
unlock:
    for (int i = locked - 1; i >= 0; i--) {
        bool dup = false;
        for (int k = 0; k < i; k++)
            dup = dup || vars[k] == vars[i];
        if (!dup)
            sl_var_unlock(vars[i]);
    }
}

#define APPLY_K(OP) {.op = OP, .device = SL_DEVICE_CPU, .constraints = {SL_K_FLOATS}, .compute = apply_compute}

static const sl_kernel_def training_kernels[] = {
    APPLY_K("ApplyGradientDescent"), APPLY_K("ApplyMomentum"), APPLY_K("ApplyAdam"),
    APPLY_K("ApplyAdagrad"), APPLY_K("ApplyRMSProp"),
};

void sl__kernels_register_training(void);
void sl__kernels_register_training(void)
{
    sl__kernel_register_table(training_kernels, SL_COUNTOF_K(training_kernels));
}
