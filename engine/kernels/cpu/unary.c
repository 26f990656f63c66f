/* Elementwise unary kernels: Neg, Abs, Exp, Log, Log1p, Sqrt, Rsqrt,
 * Square, Reciprocal, Tanh, Sigmoid, Relu, Relu6, Elu, Softplus, Sign,
 * Floor, Ceil, Round, Sin, Cos (float and double; the integer-valued ones
 * also for int32 and int64), and LogicalNot.
 *
 * Each op is one expression expanded into a loop per dtype by a macro; the
 * kernel picks the loop once in create() and splits the flat range over
 * the pool.  <tgmath.h> makes exp(x) call expf for floats.
 */
#include "config.h"

#include <stdbool.h>
#include <string.h>
#include <tgmath.h>

#if defined(__SSE__)
#include <xmmintrin.h>
#endif

#include "cpu-kernels.h"
#include "sluice/alloc.h"

typedef void (*unary_loop)(const void *x, void *y, int64_t n);

#define UN_LOOP(NAME, T, EXPR)                                                                  \
    static void NAME(const void *x_, void *y_, int64_t n)                                       \
    {                                                                                           \
        const T *xs = x_;                                                                       \
        T *ys = y_;                                                                             \
        for (int64_t i = 0; i < n; i++) {                                                       \
            T x = xs[i];                                                                        \
            ys[i] = (T)(EXPR);                                                                  \
        }                                                                                       \
    }
#define UN_FLOAT(OP, EXPR) UN_LOOP(OP##_f32, float, EXPR) UN_LOOP(OP##_f64, double, EXPR)
#define UN_ALL(OP, FEXPR, IEXPR)                                                                \
    UN_FLOAT(OP, FEXPR) UN_LOOP(OP##_i32, int32_t, IEXPR) UN_LOOP(OP##_i64, int64_t, IEXPR)

/* integer negation wraps, as in TF, without signed-overflow UB */
#define INEG(x) (0 - (uint64_t)(x))

UN_ALL(neg, -x, INEG(x))
UN_ALL(abs, fabs(x), x < 0 ? INEG(x) : (uint64_t)x)
UN_ALL(square, x * x, (uint64_t)x * (uint64_t)x)
UN_ALL(sign, x > 0 ? 1 : x < 0 ? -1 : x, x > 0 ? 1 : x < 0 ? -1 : 0)
UN_LOOP(relu_f64, double, x > 0 ? x : 0)
UN_LOOP(relu_i32, int32_t, x > 0 ? x : 0)
UN_LOOP(relu_i64, int64_t, x > 0 ? x : 0)

/* float Relu without a branch per element (a mispredicted branch on every
 * other element made it ~10x slower than memory): maxps(x, 0) is exactly
 * x > 0 ? x : 0, NaN and -0 included. */
static void relu_f32(const void *x_, void *y_, int64_t n)
{
    const float *xs = x_;
    float *ys = y_;
    int64_t i = 0;
#if defined(__SSE__)
    const __m128 zero = _mm_setzero_ps();
    for (; i + 4 <= n; i += 4)
        _mm_storeu_ps(ys + i, _mm_max_ps(_mm_loadu_ps(xs + i), zero));
#endif
    for (; i < n; i++)
        ys[i] = xs[i] > 0 ? xs[i] : 0;
}
UN_ALL(relu6, x > 0 ? (x < 6 ? x : 6) : 0, x > 0 ? (x < 6 ? x : 6) : 0)
UN_ALL(round, rint(x), x)
UN_FLOAT(exp, exp(x))
UN_FLOAT(log, log(x))
UN_FLOAT(log1p, log1p(x))
UN_FLOAT(sqrt, sqrt(x))
UN_FLOAT(rsqrt, 1 / sqrt(x))
UN_FLOAT(reciprocal, 1 / x)
UN_FLOAT(tanh, tanh(x))
UN_FLOAT(sigmoid, 1 / (1 + exp(-x)))
UN_FLOAT(elu, x < 0 ? expm1(x) : x)
UN_FLOAT(floor, floor(x))
UN_FLOAT(ceil, ceil(x))
UN_FLOAT(sin, sin(x))
UN_FLOAT(cos, cos(x))
UN_LOOP(logical_not_b, bool, !x)

/* TF's softplus: x for large x, exp(x) for very negative x, else log1p(exp(x)) */
#define SOFTPLUS_LOOP(NAME, T, EPS)                                                             \
    static void NAME(const void *x_, void *y_, int64_t n)                                       \
    {                                                                                           \
        const T *xs = x_;                                                                       \
        T *ys = y_;                                                                             \
        const T threshold = log((T)EPS) + 2;                                                    \
        for (int64_t i = 0; i < n; i++) {                                                       \
            T x = xs[i];                                                                        \
            ys[i] = x > -threshold ? x : x < threshold ? exp(x) : log1p(exp(x));                \
        }                                                                                       \
    }
SOFTPLUS_LOOP(softplus_f32, float, 1.1920929e-7f)
SOFTPLUS_LOOP(softplus_f64, double, 2.220446049250313e-16)

typedef struct unary_op {
    const char *op;
    unary_loop f32, f64, i32, i64, b;
    int cost;  /* rough cheap operations per element */
} unary_op;

#define F(OP) .f32 = OP##_f32, .f64 = OP##_f64
#define A(OP) F(OP), .i32 = OP##_i32, .i64 = OP##_i64

static const unary_op unary_ops[] = {
    {"Neg", A(neg), .cost = 1},         {"Abs", A(abs), .cost = 1},
    {"Square", A(square), .cost = 1},   {"Sign", A(sign), .cost = 1},
    {"Relu", A(relu), .cost = 1},       {"Relu6", A(relu6), .cost = 1},
    {"Round", A(round), .cost = 2},     {"Exp", F(exp), .cost = 20},
    {"Log", F(log), .cost = 20},        {"Log1p", F(log1p), .cost = 25},
    {"Sqrt", F(sqrt), .cost = 8},       {"Rsqrt", F(rsqrt), .cost = 10},
    {"Reciprocal", F(reciprocal), .cost = 4}, {"Tanh", F(tanh), .cost = 30},
    {"Sigmoid", F(sigmoid), .cost = 25}, {"Elu", F(elu), .cost = 20},
    {"Softplus", F(softplus), .cost = 40}, {"Floor", F(floor), .cost = 2},
    {"Ceil", F(ceil), .cost = 2},       {"Sin", F(sin), .cost = 25},
    {"Cos", F(cos), .cost = 25},        {"LogicalNot", .b = logical_not_b, .cost = 1},
};

typedef struct unary_state {
    unary_loop fn;
    size_t esz;
    int cost;
} unary_state;

static sl_code unary_create(const sl_node *node, void **state, sl_status *status)
{
    const char *op = sl_node_op_type(node);
    sl_dtype dt = sl_node_input_type(node, 0);
    for (int i = 0; i < SL_COUNTOF_K(unary_ops); i++) {
        const unary_op *u = &unary_ops[i];
        if (strcmp(u->op, op))
            continue;
        unary_loop fn = dt == SL_DTYPE_FLOAT ? u->f32 : dt == SL_DTYPE_DOUBLE ? u->f64
                      : dt == SL_DTYPE_INT32 ? u->i32 : dt == SL_DTYPE_INT64 ? u->i64
                      : dt == SL_DTYPE_BOOL ? u->b : NULL;
        if (!fn)
            break;
        unary_state *s = sl_malloc(sizeof(*s));
        if (!s)
            return sl_status_set(status, SL_RESOURCE_EXHAUSTED, "out of memory creating a %s kernel", op);
        s->fn = fn;
        s->esz = sl_dtype_size(dt);
        s->cost = u->cost;
        *state = s;
        return SL_OK;
    }
    return sl_status_set(status, SL_UNIMPLEMENTED, "no CPU %s loop for %s", op, sl_dtype_name(dt));
}

typedef struct unary_job {
    const unary_state *s;
    const char *x;
    char *y;
} unary_job;

static void unary_shard(void *arg, int64_t begin, int64_t end)
{
    const unary_job *j = arg;
    j->s->fn(j->x + begin * (int64_t)j->s->esz, j->y + begin * (int64_t)j->s->esz, end - begin);
}

static void unary_compute(sl_kernel_ctx *ctx)
{
    const unary_state *s = sl_kernel_ctx_state(ctx);
    const sl_tensor *x = sl_kernel_ctx_input(ctx, 0);
    sl_tensor *y = sl__k_out(ctx, 0, sl_tensor_shape(x));
    if (!y)
        return;
    unary_job j = {s, sl_tensor_data(x), sl_tensor_data(y)};
    sl__k_parallel(ctx, sl_tensor_num_elements(x), s->cost, unary_shard, &j);
}

#define UNARY_K(OP, TYPES)                                                                      \
    {.op = OP, .device = SL_DEVICE_CPU, .constraints = {TYPES}, .create = unary_create,        \
     .destroy = sl_free, .compute = unary_compute}

static const sl_kernel_def unary_kernels[] = {
    UNARY_K("Neg", SL_K_NUMBERS),        UNARY_K("Abs", SL_K_NUMBERS),
    UNARY_K("Square", SL_K_NUMBERS),     UNARY_K("Sign", SL_K_NUMBERS),
    UNARY_K("Relu", SL_K_NUMBERS),       UNARY_K("Relu6", SL_K_NUMBERS),
    UNARY_K("Round", SL_K_NUMBERS),      UNARY_K("Exp", SL_K_FLOATS),
    UNARY_K("Log", SL_K_FLOATS),         UNARY_K("Log1p", SL_K_FLOATS),
    UNARY_K("Sqrt", SL_K_FLOATS),        UNARY_K("Rsqrt", SL_K_FLOATS),
    UNARY_K("Reciprocal", SL_K_FLOATS),  UNARY_K("Tanh", SL_K_FLOATS),
    UNARY_K("Sigmoid", SL_K_FLOATS),     UNARY_K("Elu", SL_K_FLOATS),
    UNARY_K("Softplus", SL_K_FLOATS),    UNARY_K("Floor", SL_K_FLOATS),
    UNARY_K("Ceil", SL_K_FLOATS),        UNARY_K("Sin", SL_K_FLOATS),
    UNARY_K("Cos", SL_K_FLOATS),
    {.op = "LogicalNot", .device = SL_DEVICE_CPU, .create = unary_create, .destroy = sl_free,
     .compute = unary_compute},
};

void sl__kernels_register_unary(void);
void sl__kernels_register_unary(void)
{
    sl__kernel_register_table(unary_kernels, SL_COUNTOF_K(unary_kernels));
}
