/* CPU kernels of the optimizer update ops on reference variables
 * (ApplyGradientDescent, ApplyMomentum, ApplyAdam, ApplyAdagrad,
 * ApplyRMSProp), float and double, with TF's update rules.  Each locks its
 * variables (in input order), makes their buffers its own when a reader
 * other than the update itself still holds them (copy on write), and
 * updates in place. */
#include "config.h"

#include <math.h>
#include <string.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "train-private.h"

#define MAX_VARS 3

typedef struct upd {
    sl_var *vars[MAX_VARS];
    int nvars;
    void *data[MAX_VARS];   /* element buffers of the variables' values */
    int64_t n;              /* elements */
    bool is_double;
} upd;

/* Locks the first nvars (ref) inputs and checks their values and grad_in's
 * shape agree; false after failing ctx (nothing left locked). */
static bool begin(sl_kernel_ctx *ctx, upd *u, int nvars, int grad_in)
{
    const sl_tensor *grad = sl_kernel_ctx_input(ctx, grad_in);
    u->nvars = 0;
    u->n = sl_tensor_num_elements(grad);
    u->is_double = sl_tensor_dtype(grad) == SL_DTYPE_DOUBLE;
    for (int i = 0; i < nvars; i++) {
        sl_var *v = sl_kernel_ctx_input_var(ctx, i);
        if (!v) {
            sl_kernel_ctx_fail(ctx, SL_INVALID_ARGUMENT, "input %d is not a variable", i);
            goto fail;
        }
        sl_var_lock(v);
        u->vars[u->nvars++] = v;
        sl_tensor *t = sl_var_value(v);
        if (!t) {
            /* name the variable, as TF does: the node feeding input i */
            sl_output src = sl_node_input(sl_kernel_ctx_node(ctx), i);
            sl_kernel_ctx_fail(ctx, SL_FAILED_PRECONDITION, "attempting to use uninitialized value %s",
                               src.node ? sl_node_name(src.node) : "(unknown)");
            goto fail;
        }
        if (!sl_shape_equal(sl_tensor_shape(t), sl_tensor_shape(grad))) {
            char a[SL_SHAPE_STRING_MAX], b[SL_SHAPE_STRING_MAX];
            sl_kernel_ctx_fail(ctx, SL_INVALID_ARGUMENT, "variable %d has shape %s but the gradient %s", i,
                               sl_shape_to_string(sl_tensor_shape(t), a, sizeof(a)),
                               sl_shape_to_string(sl_tensor_shape(grad), b, sizeof(b)));
            goto fail;
        }
        /* references this kernel's own inputs hold do not count: only a
         * reader elsewhere that already took the value (a node running now,
         * a fetch) needs the old buffer kept.  A reader that has not taken
         * it yet waits for the lock and reads the updated value, as it
         * would read the copy. */
        int own = 0;
        for (int j = 0; j < sl_kernel_ctx_num_inputs(ctx); j++)
            own += sl_kernel_ctx_input(ctx, j) == t;
        if (sl_tensor_refcount(t) > 1 + own) {
            sl_status *st = sl_status_new();
            sl_tensor *c = st ? sl_tensor_copy(t, st) : NULL;
            sl_status_free(st);
            if (!c) {
                sl_kernel_ctx_fail(ctx, SL_RESOURCE_EXHAUSTED, "out of memory copying a variable");
                goto fail;
            }
            sl_var_set_value(v, c);
            sl_tensor_unref(c);
            t = c;
        }
        u->data[i] = sl_tensor_data(t);
    }
    return true;
fail:
    for (int i = u->nvars - 1; i >= 0; i--)
        sl_var_unlock(u->vars[i]);
    u->nvars = 0;
    return false;
}

static void end(sl_kernel_ctx *ctx, upd *u)
{
    for (int i = u->nvars - 1; i >= 0; i--)
        sl_var_unlock(u->vars[i]);
    if (u->nvars)
        sl_kernel_ctx_set_output_var(ctx, 0, u->vars[0]);
}

static double scalar(sl_kernel_ctx *ctx, int i)
{
    const sl_tensor *t = sl_kernel_ctx_input(ctx, i);
    return sl_tensor_dtype(t) == SL_DTYPE_DOUBLE ? *(const double *)sl_tensor_data(t)
                                                 : (double)*(const float *)sl_tensor_data(t);
}

static bool attr(sl_kernel_ctx *ctx, const char *name)
{
    bool v = false;
    sl_node_attr_bool(sl_kernel_ctx_node(ctx), name, &v);
    return v;
}

/* Runs BODY with float or double views: var, s1, s2 (slots), g (grad). */
#define FOR_EACH(u, gi, BODY)                                                                  \
    do {                                                                                       \
        if ((u).is_double) {                                                                   \
            typedef double T;                                                                  \
            T *var = (u).data[0], *s1 = (u).data[1], *s2 = (u).data[2];                        \
            const T *g = sl_tensor_data(sl_kernel_ctx_input(ctx, gi));                         \
            (void)s1;                                                                          \
            (void)s2;                                                                          \
            for (int64_t i = 0; i < (u).n; i++) { BODY }                                       \
        } else {                                                                               \
            typedef float T;                                                                   \
            T *var = (u).data[0], *s1 = (u).data[1], *s2 = (u).data[2];                        \
            const T *g = sl_tensor_data(sl_kernel_ctx_input(ctx, gi));                         \
            (void)s1;                                                                          \
            (void)s2;                                                                          \
            for (int64_t i = 0; i < (u).n; i++) { BODY }                                       \
        }                                                                                      \
    } while (0)

static void apply_gradient_descent(sl_kernel_ctx *ctx)
{
    upd u = {0};
    if (!begin(ctx, &u, 1, 2))
        return;
    double a = scalar(ctx, 1);
    FOR_EACH(u, 2, var[i] -= (T)a * g[i];);
    end(ctx, &u);
}

static void apply_momentum(sl_kernel_ctx *ctx)
{
    upd u = {0};
    if (!begin(ctx, &u, 2, 3))
        return;
    double lr = scalar(ctx, 2), mom = scalar(ctx, 4);
    if (attr(ctx, "use_nesterov"))
        FOR_EACH(u, 3, s1[i] = s1[i] * (T)mom + g[i]; var[i] -= g[i] * (T)lr + s1[i] * (T)(mom * lr););
    else
        FOR_EACH(u, 3, s1[i] = s1[i] * (T)mom + g[i]; var[i] -= s1[i] * (T)lr;);
    end(ctx, &u);
}

/* Adam on floats, four at a time and spread over the pool: the same
 * operations in the same order as the scalar loop (sqrtps rounds like the
 * float of a double sqrt), so the results are bitwise the same. */
typedef struct adam_job {
    float *var, *m, *v;
    const float *g;
    float alpha, c1, c2, eps;
} adam_job;

static void adam_shard(void *arg, int64_t begin, int64_t end)
{
    const adam_job *j = arg;
    float *var = j->var, *m = j->m, *v = j->v;
    const float *g = j->g;
    int64_t i = begin;
#if defined(__SSE2__)
    const __m128 c1 = _mm_set1_ps(j->c1), c2 = _mm_set1_ps(j->c2), al = _mm_set1_ps(j->alpha),
                 ep = _mm_set1_ps(j->eps);
    for (; i + 4 <= end; i += 4) {
        __m128 gi = _mm_loadu_ps(g + i), mi = _mm_loadu_ps(m + i), vi = _mm_loadu_ps(v + i);
        mi = _mm_add_ps(mi, _mm_mul_ps(_mm_sub_ps(gi, mi), c1));
        vi = _mm_add_ps(vi, _mm_mul_ps(_mm_sub_ps(_mm_mul_ps(gi, gi), vi), c2));
        __m128 step = _mm_div_ps(_mm_mul_ps(al, mi), _mm_add_ps(_mm_sqrt_ps(vi), ep));
        _mm_storeu_ps(m + i, mi);
        _mm_storeu_ps(v + i, vi);
        _mm_storeu_ps(var + i, _mm_sub_ps(_mm_loadu_ps(var + i), step));
    }
#endif
    for (; i < end; i++) {
        m[i] += (g[i] - m[i]) * j->c1;
        v[i] += (g[i] * g[i] - v[i]) * j->c2;
        var[i] -= j->alpha * m[i] / ((float)sqrt((double)v[i]) + j->eps);
    }
}

static void adam_f32(sl_kernel_ctx *ctx, const upd *u, float alpha, float c1, float c2, float eps)
{
    adam_job j = {u->data[0], u->data[1], u->data[2], sl_tensor_data(sl_kernel_ctx_input(ctx, 9)), alpha, c1, c2,
                  eps};
    sl_threadpool_parallel_for(sl_kernel_ctx_threadpool(ctx), u->n, 16384, adam_shard, &j);
}

static void apply_adam(sl_kernel_ctx *ctx)
{
    upd u = {0};
    if (!begin(ctx, &u, 3, 9))
        return;
    double b1p = scalar(ctx, 3), b2p = scalar(ctx, 4), lr = scalar(ctx, 5), b1 = scalar(ctx, 6),
           b2 = scalar(ctx, 7), eps = scalar(ctx, 8);
    double alpha = lr * sqrt(1 - b2p) / (1 - b1p);
    if (attr(ctx, "use_nesterov"))
        FOR_EACH(u, 9, s1[i] += (g[i] - s1[i]) * (T)(1 - b1); s2[i] += (g[i] * g[i] - s2[i]) * (T)(1 - b2);
                 var[i] -= (T)alpha * (s1[i] * (T)b1 + (T)(1 - b1) * g[i]) / ((T)sqrt((double)s2[i]) + (T)eps););
    else if (!u.is_double)
        adam_f32(ctx, &u, (float)alpha, (float)(1 - b1), (float)(1 - b2), (float)eps);
    else
        FOR_EACH(u, 9, s1[i] += (g[i] - s1[i]) * (T)(1 - b1); s2[i] += (g[i] * g[i] - s2[i]) * (T)(1 - b2);
                 var[i] -= (T)alpha * s1[i] / ((T)sqrt((double)s2[i]) + (T)eps););
    end(ctx, &u);
}

static void apply_adagrad(sl_kernel_ctx *ctx)
{
    upd u = {0};
    if (!begin(ctx, &u, 2, 3))
        return;
    double lr = scalar(ctx, 2);
    bool update_slots = true;
    sl_node_attr_bool(sl_kernel_ctx_node(ctx), "update_slots", &update_slots);
    FOR_EACH(u, 3, if (update_slots) s1[i] += g[i] * g[i]; var[i] -= g[i] * (T)lr / (T)sqrt((double)s1[i]););
    end(ctx, &u);
}

static void apply_rmsprop(sl_kernel_ctx *ctx)
{
    upd u = {0};
    if (!begin(ctx, &u, 3, 7))
        return;
    double lr = scalar(ctx, 3), rho = scalar(ctx, 4), mom = scalar(ctx, 5), eps = scalar(ctx, 6);
    FOR_EACH(u, 7, s1[i] += (g[i] * g[i] - s1[i]) * (T)(1 - rho);
             s2[i] = s2[i] * (T)mom + g[i] * (T)lr / (T)sqrt((double)(s1[i] + (T)eps)); var[i] -= s2[i];);
    end(ctx, &u);
}

#define K(name, fn) {.op = name, .device = SL_DEVICE_CPU, .constraints = {"T: {float, double}"}, .compute = fn}
static const sl_kernel_def training_kernels[] = {
    K("ApplyGradientDescent", apply_gradient_descent),
    K("ApplyMomentum", apply_momentum),
    K("ApplyAdam", apply_adam),
    K("ApplyAdagrad", apply_adagrad),
    K("ApplyRMSProp", apply_rmsprop),
};

sl_code sl__train_register_training_kernels(sl_status *status)
{
    for (size_t i = 0; i < sizeof(training_kernels) / sizeof(training_kernels[0]); i++) {
        sl_code c = sl_kernel_register(&training_kernels[i], status);
        if (c != SL_OK && c != SL_ALREADY_EXISTS)
            return c;
    }
    sl_status_clear(status);
    return SL_OK;
}
