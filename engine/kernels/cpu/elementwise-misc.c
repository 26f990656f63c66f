/* Elementwise kernels that are neither plain unary nor broadcasting
 * binary ops: AddN (N same-shape inputs), Select (TF1 rules: condition of
 * the same shape, a vector over the first dimension, or a scalar) and
 * SelectV2 (three-way broadcasting), and the activation gradients
 * (ReluGrad, Relu6Grad, EluGrad, SoftplusGrad, SigmoidGrad, TanhGrad), which
 * take two inputs of one shape.
 */
#include "config.h"

#include <stdbool.h>
#include <string.h>
#include <tgmath.h>
#if defined(__SSE__)
#include <xmmintrin.h>
#endif

#include "bcast.h"
#include "sluice/alloc.h"

/* ---- Activation gradients ------------------------------------------------ */

typedef void (*grad_loop)(const void *a, const void *b, void *o, int64_t n);

#define GRAD_LOOP(NAME, T, EXPR)                                                                \
    static void NAME(const void *a_, const void *b_, void *o_, int64_t n)                       \
    {                                                                                           \
        const T *as = a_;                                                                       \
        const T *bs = b_;                                                                       \
        T *os = o_;                                                                             \
        for (int64_t i = 0; i < n; i++) {                                                       \
            T a = as[i], b = bs[i];                                                             \
            os[i] = (T)(EXPR);                                                                  \
        }                                                                                       \
    }
#define GRAD_F(OP, EXPR) GRAD_LOOP(OP##_f32, float, EXPR) GRAD_LOOP(OP##_f64, double, EXPR)
#define GRAD_A(OP, EXPR)                                                                        \
    GRAD_F(OP, EXPR) GRAD_LOOP(OP##_i32, int32_t, EXPR) GRAD_LOOP(OP##_i64, int64_t, EXPR)

/* (gradients a, features b) */
GRAD_LOOP(relu_grad_f64, double, b > 0 ? a : 0)
GRAD_LOOP(relu_grad_i32, int32_t, b > 0 ? a : 0)
GRAD_LOOP(relu_grad_i64, int64_t, b > 0 ? a : 0)

/* float ReluGrad without a branch per element: a & (b > 0) */
static void relu_grad_f32(const void *a_, const void *b_, void *o_, int64_t n)
{
    const float *as = a_, *bs = b_;
    float *os = o_;
    int64_t i = 0;
#if defined(__SSE__)
    const __m128 zero = _mm_setzero_ps();
    for (; i + 4 <= n; i += 4)
        _mm_storeu_ps(os + i, _mm_and_ps(_mm_cmpgt_ps(_mm_loadu_ps(bs + i), zero), _mm_loadu_ps(as + i)));
#endif
    for (; i < n; i++)
        os[i] = bs[i] > 0 ? as[i] : 0;
}
GRAD_A(relu6_grad, b > 0 && b < 6 ? a : 0)
GRAD_F(softplus_grad, a / (1 + exp(-b)))
/* (gradients a, outputs b) */
GRAD_F(elu_grad, b < 0 ? a * (b + 1) : a)
/* (y a, dy b) */
GRAD_F(sigmoid_grad, b * a * (1 - a))
GRAD_F(tanh_grad, b * (1 - a * a))

typedef struct grad_op {
    const char *op;
    grad_loop f32, f64, i32, i64;
    const char *what;  /* names the two inputs in shape errors */
    int cost;
} grad_op;

static const grad_op grad_ops[] = {
    {"ReluGrad", relu_grad_f32, relu_grad_f64, relu_grad_i32, relu_grad_i64, "gradients and features", 1},
    {"Relu6Grad", relu6_grad_f32, relu6_grad_f64, relu6_grad_i32, relu6_grad_i64, "gradients and features", 1},
    {"SoftplusGrad", softplus_grad_f32, softplus_grad_f64, NULL, NULL, "gradients and features", 25},
    {"EluGrad", elu_grad_f32, elu_grad_f64, NULL, NULL, "gradients and outputs", 2},
    {"SigmoidGrad", sigmoid_grad_f32, sigmoid_grad_f64, NULL, NULL, "y and dy", 2},
    {"TanhGrad", tanh_grad_f32, tanh_grad_f64, NULL, NULL, "y and dy", 2},
};

typedef struct grad_job {
    const grad_op *g;
    grad_loop fn;
    int64_t esz;
    const char *a;
    const char *b;
    char *o;
} grad_job;

static void grad_shard(void *arg, int64_t begin, int64_t end)
{
    const grad_job *j = arg;
    j->fn(j->a + begin * j->esz, j->b + begin * j->esz, j->o + begin * j->esz, end - begin);
}

static void grad_compute(sl_kernel_ctx *ctx)
{
    const char *op = sl_node_op_type(sl_kernel_ctx_node(ctx));
    const sl_tensor *a = sl_kernel_ctx_input(ctx, 0), *b = sl_kernel_ctx_input(ctx, 1);
    const grad_op *g = NULL;
    for (int i = 0; i < SL_COUNTOF_K(grad_ops); i++)
        if (!strcmp(grad_ops[i].op, op))
            g = &grad_ops[i];
    sl_dtype dt = sl_tensor_dtype(a);
    grad_loop fn = !g ? NULL : dt == SL_DTYPE_FLOAT ? g->f32 : dt == SL_DTYPE_DOUBLE ? g->f64
                 : dt == SL_DTYPE_INT32 ? g->i32 : dt == SL_DTYPE_INT64 ? g->i64 : NULL;
    if (!fn) {
        sl_kernel_ctx_fail(ctx, SL_UNIMPLEMENTED, "no CPU %s loop for %s", op, sl_dtype_name(dt));
        return;
    }
    if (!sl__k_same_shape(ctx, a, b, g->what))
        return;
    sl_tensor *o = sl__k_out(ctx, 0, sl_tensor_shape(a));
    if (!o)
        return;
    grad_job j = {g, fn, (int64_t)sl_dtype_size(dt), sl_tensor_data(a), sl_tensor_data(b), sl_tensor_data(o)};
    sl__k_parallel(ctx, sl_tensor_num_elements(a), g->cost, grad_shard, &j);
}

/* ---- AddN ---------------------------------------------------------------- */

typedef struct add_n_job {
    sl_kernel_ctx *ctx;
    int n;
    sl_dtype dt;
    void *out;
} add_n_job;

#define ADD_N_CASE(DT, T, ADD)                                                                  \
    case DT: {                                                                                  \
        T *o = j->out;                                                                          \
        const T *x0 = sl_tensor_data(sl_kernel_ctx_input(j->ctx, 0));                           \
        for (int64_t i = begin; i < end; i++)                                                   \
            o[i] = x0[i];                                                                       \
        for (int k = 1; k < j->n; k++) {                                                        \
            const T *x = sl_tensor_data(sl_kernel_ctx_input(j->ctx, k));                        \
            for (int64_t i = begin; i < end; i++)                                               \
                o[i] = (T)(ADD);                                                                \
        }                                                                                       \
        break;                                                                                  \
    }

static void add_n_shard(void *arg, int64_t begin, int64_t end)
{
    const add_n_job *j = arg;
    switch (j->dt) {
    ADD_N_CASE(SL_DTYPE_FLOAT, float, o[i] + x[i])
    ADD_N_CASE(SL_DTYPE_DOUBLE, double, o[i] + x[i])
    ADD_N_CASE(SL_DTYPE_INT32, int32_t, (uint64_t)o[i] + (uint64_t)x[i])
    ADD_N_CASE(SL_DTYPE_INT64, int64_t, (uint64_t)o[i] + (uint64_t)x[i])
    default: break;
    }
}

static void add_n_compute(sl_kernel_ctx *ctx)
{
    int n = sl_kernel_ctx_num_inputs(ctx);
    const sl_tensor *x0 = sl_kernel_ctx_input(ctx, 0);
    for (int k = 1; k < n; k++) {
        const sl_tensor *x = sl_kernel_ctx_input(ctx, k);
        if (!sl_shape_equal(sl_tensor_shape(x0), sl_tensor_shape(x))) {
            sl_kernel_ctx_fail(ctx, SL_INVALID_ARGUMENT, "inputs must have the same shape: input 0 is %s, input %d is %s",
                               sl__k_shape_str(sl_tensor_shape(x0), 0), k, sl__k_shape_str(sl_tensor_shape(x), 1));
            return;
        }
    }
    sl_tensor *o = sl__k_out(ctx, 0, sl_tensor_shape(x0));
    if (!o)
        return;
    add_n_job j = {ctx, n, sl_tensor_dtype(x0), sl_tensor_data(o)};
    sl__k_parallel(ctx, sl_tensor_num_elements(x0), n, add_n_shard, &j);
}

/* ---- Select / SelectV2 ---------------------------------------------------- */

typedef struct select_job {
    const bool *c;
    const char *t;
    const char *e;
    char *o;
    size_t esz;
    int64_t row;  /* Select with a vector condition: elements per condition entry */
} select_job;

static void select_run(void *arg, const int64_t *off, const int64_t *step, int64_t out_off, int64_t n)
{
    const select_job *j = arg;
    size_t esz = j->esz;
    const bool *c = j->c + off[0];
    const char *t = j->t + off[1] * (int64_t)esz, *e = j->e + off[2] * (int64_t)esz;
    char *o = j->o + out_off * (int64_t)esz;
    for (int64_t i = 0; i < n; i++)
        memcpy(o + i * (int64_t)esz, (c[i * step[0]] ? t + i * step[1] * (int64_t)esz : e + i * step[2] * (int64_t)esz),
               esz);
}

static void select_compute(sl_kernel_ctx *ctx)
{
    const sl_tensor *c = sl_kernel_ctx_input(ctx, 0), *t = sl_kernel_ctx_input(ctx, 1),
                    *e = sl_kernel_ctx_input(ctx, 2);
    bool v1 = !strcmp(sl_node_op_type(sl_kernel_ctx_node(ctx)), "Select");
    const sl_shape *cs = sl_tensor_shape(c), *ts = sl_tensor_shape(t);
    sl_shape cond_shape = *cs;
    if (v1) {
        if (!sl__k_same_shape(ctx, t, e, "t and e"))
            return;
        if (cs->rank == 1 && ts->rank > 1) {
            if (cs->dims[0] != ts->dims[0]) {
                sl_kernel_ctx_fail(ctx, SL_INVALID_ARGUMENT,
                                   "condition of shape %s must have as many entries as t's first dimension %s",
                                   sl__k_shape_str(cs, 0), sl__k_shape_str(ts, 1));
                return;
            }
            /* a vector condition selects whole rows: broadcast it as [n, 1, ...] */
            cond_shape.rank = ts->rank;
            for (int d = 1; d < ts->rank; d++)
                cond_shape.dims[d] = 1;
        } else if (cs->rank != 0 && !sl_shape_equal(cs, ts)) {
            sl_kernel_ctx_fail(ctx, SL_INVALID_ARGUMENT,
                               "condition of shape %s must be a scalar, match t's shape %s or be a vector over its first dimension",
                               sl__k_shape_str(cs, 0), sl__k_shape_str(ts, 1));
            return;
        }
    }
    const sl_shape *shapes[3] = {&cond_shape, ts, sl_tensor_shape(e)};
    sl_bcast bc;
    if (!sl__bcast_init(ctx, &bc, 3, shapes))
        return;
    sl_tensor *o = sl__k_out(ctx, 0, &bc.out);
    if (!o)
        return;
    select_job j = {sl_tensor_data(c), sl_tensor_data(t), sl_tensor_data(e), sl_tensor_data(o),
                    sl_dtype_size(sl_tensor_dtype(t)), 0};
    sl__bcast_run(ctx, &bc, 2, select_run, &j);
}

#define GRAD_K(OP, TYPES) {.op = OP, .device = SL_DEVICE_CPU, .constraints = {TYPES}, .compute = grad_compute}
#define SELECT_TYPES "T: {float, double, half, bfloat16, int8, int16, int32, int64, uint8, uint16, uint32, uint64, bool, complex64, complex128}"

static const sl_kernel_def misc_kernels[] = {
    GRAD_K("ReluGrad", SL_K_NUMBERS),     GRAD_K("Relu6Grad", SL_K_NUMBERS),
    GRAD_K("SoftplusGrad", SL_K_FLOATS),  GRAD_K("EluGrad", SL_K_FLOATS),
    GRAD_K("SigmoidGrad", SL_K_FLOATS),   GRAD_K("TanhGrad", SL_K_FLOATS),
    {.op = "AddN", .device = SL_DEVICE_CPU, .constraints = {SL_K_NUMBERS}, .compute = add_n_compute},
    {.op = "Select", .device = SL_DEVICE_CPU, .constraints = {SELECT_TYPES}, .compute = select_compute},
    {.op = "SelectV2", .device = SL_DEVICE_CPU, .constraints = {SELECT_TYPES}, .compute = select_compute},
};

void sl__kernels_register_elementwise_misc(void);
void sl__kernels_register_elementwise_misc(void)
{
    sl__kernel_register_table(misc_kernels, SL_COUNTOF_K(misc_kernels));
}
