/* Elementwise binary kernels with NumPy broadcasting: Add, AddV2, Sub,
 * Mul, RealDiv, Div, FloorDiv, FloorMod, Maximum, Minimum, Pow,
 * SquaredDifference, the comparisons (Less ... NotEqual) and LogicalAnd /
 * LogicalOr.
 *
 * Each op is an expression of x and y expanded by a macro into a loop per
 * dtype with the four stride cases (both vectors, one side repeated, both
 * repeated) spelled out so each vectorizes.  bcast.c walks the broadcast
 * output in contiguous runs over the pool.  Integer arithmetic wraps like
 * TF (computed in uint64 to avoid signed-overflow UB); integer division by
 * zero and integer powers with negative exponents are errors, as in TF.
 */
#include "config.h"

#include <stdbool.h>
#include <string.h>
#include <tgmath.h>

#include "bcast.h"
#include "sluice/alloc.h"

typedef void (*binary_loop)(const void *a, int64_t sa, const void *b, int64_t sb, void *o, int64_t n);

#define BIN_LOOP(NAME, T, OT, EXPR)                                                             \
    static void NAME(const void *a_, int64_t sa, const void *b_, int64_t sb, void *o_, int64_t n) \
    {                                                                                           \
        const T *as = a_;                                                                       \
        const T *bs = b_;                                                                       \
        OT *os = o_;                                                                            \
        if (sa && sb) {                                                                         \
            for (int64_t i = 0; i < n; i++) {                                                   \
                T x = as[i], y = bs[i];                                                         \
                os[i] = (OT)(EXPR);                                                             \
            }                                                                                   \
        } else if (sa) {                                                                        \
            const T y = bs[0];                                                                  \
            for (int64_t i = 0; i < n; i++) {                                                   \
                T x = as[i];                                                                    \
                os[i] = (OT)(EXPR);                                                             \
            }                                                                                   \
        } else if (sb) {                                                                        \
            const T x = as[0];                                                                  \
            for (int64_t i = 0; i < n; i++) {                                                   \
                T y = bs[i];                                                                    \
                os[i] = (OT)(EXPR);                                                             \
            }                                                                                   \
        } else {                                                                                \
            const T x = as[0], y = bs[0];                                                       \
            const OT v = (OT)(EXPR);                                                            \
            for (int64_t i = 0; i < n; i++)                                                     \
                os[i] = v;                                                                      \
        }                                                                                       \
    }

#define BIN_F(OP, EXPR) BIN_LOOP(OP##_f32, float, float, EXPR) BIN_LOOP(OP##_f64, double, double, EXPR)
#define BIN_I(OP, EXPR) BIN_LOOP(OP##_i32, int32_t, int32_t, EXPR) BIN_LOOP(OP##_i64, int64_t, int64_t, EXPR)
#define CMP(OP, EXPR)                                                                           \
    BIN_LOOP(OP##_f32, float, bool, EXPR) BIN_LOOP(OP##_f64, double, bool, EXPR)                \
    BIN_LOOP(OP##_i32, int32_t, bool, EXPR) BIN_LOOP(OP##_i64, int64_t, bool, EXPR)

#define U64(v) ((uint64_t)(v))

BIN_F(add, x + y)
BIN_I(add, U64(x) + U64(y))
BIN_F(sub, x - y)
BIN_I(sub, U64(x) - U64(y))
BIN_F(mul, x * y)
BIN_I(mul, U64(x) * U64(y))
BIN_F(div, x / y)
/* y == 0 is rejected before the loop; -MIN / -1 wraps like TF's x86 result would trap, so guard it */
BIN_I(div, y == -1 ? 0 - U64(x) : U64(x / y))
BIN_F(floordiv, floor(x / y))
BIN_I(floordiv, y == -1 ? 0 - U64(x) : ((x < 0) != (y < 0) && x % y) ? U64(x / y - 1) : U64(x / y))
BIN_F(floormod, fmod(x, y) != 0 && ((y < 0) != (fmod(x, y) < 0)) ? fmod(x, y) + y : fmod(x, y))
BIN_I(floormod, y == -1 ? 0 : (x % y != 0 && ((y < 0) != (x % y < 0))) ? x % y + y : x % y)
BIN_F(maximum, x < y ? y : x)
BIN_I(maximum, x < y ? y : x)
BIN_F(minimum, y < x ? y : x)
BIN_I(minimum, y < x ? y : x)
BIN_F(pow, pow(x, y))
BIN_F(sqdiff, (x - y) * (x - y))
BIN_I(sqdiff, (U64(x) - U64(y)) * (U64(x) - U64(y)))
CMP(less, x < y)
CMP(less_equal, x <= y)
CMP(greater, x > y)
CMP(greater_equal, x >= y)
CMP(equal, x == y)
CMP(not_equal, x != y)
BIN_LOOP(equal_b, bool, bool, x == y)
BIN_LOOP(not_equal_b, bool, bool, x != y)
BIN_LOOP(logical_and_b, bool, bool, x && y)
BIN_LOOP(logical_or_b, bool, bool, x || y)

/* Integer power by squaring; exponents are checked non-negative first. */
#define IPOW(T)                                                                                 \
    static T ipow_##T(T base, T e)                                                              \
    {                                                                                           \
        uint64_t r = 1, b = (uint64_t)base;                                                     \
        for (uint64_t k = (uint64_t)e; k; k >>= 1, b *= b)                                      \
            if (k & 1)                                                                          \
                r *= b;                                                                         \
        return (T)r;                                                                            \
    }
IPOW(int32_t)
IPOW(int64_t)
BIN_LOOP(pow_i32, int32_t, int32_t, ipow_int32_t(x, y))
BIN_LOOP(pow_i64, int64_t, int64_t, ipow_int64_t(x, y))

enum { CHECK_NONE, CHECK_NONZERO, CHECK_NONNEGATIVE };

typedef struct binary_op {
    const char *op;
    binary_loop f32, f64, i32, i64, b;
    int int_check;  /* what the integer loops need of y */
    int cost;
} binary_op;

#define F(OP) .f32 = OP##_f32, .f64 = OP##_f64
#define A(OP) F(OP), .i32 = OP##_i32, .i64 = OP##_i64

static const binary_op binary_ops[] = {
    {"Add", A(add), .cost = 1},
    {"AddV2", A(add), .cost = 1},
    {"Sub", A(sub), .cost = 1},
    {"Mul", A(mul), .cost = 1},
    {"RealDiv", F(div), .cost = 4},
    {"Div", A(div), .int_check = CHECK_NONZERO, .cost = 4},
    {"FloorDiv", A(floordiv), .int_check = CHECK_NONZERO, .cost = 6},
    {"FloorMod", A(floormod), .int_check = CHECK_NONZERO, .cost = 10},
    {"Maximum", A(maximum), .cost = 1},
    {"Minimum", A(minimum), .cost = 1},
    {"Pow", A(pow), .int_check = CHECK_NONNEGATIVE, .cost = 40},
    {"SquaredDifference", A(sqdiff), .cost = 2},
    {"Less", A(less), .cost = 1},
    {"LessEqual", A(less_equal), .cost = 1},
    {"Greater", A(greater), .cost = 1},
    {"GreaterEqual", A(greater_equal), .cost = 1},
    {"Equal", A(equal), .b = equal_b, .cost = 1},
    {"NotEqual", A(not_equal), .b = not_equal_b, .cost = 1},
    {"LogicalAnd", .b = logical_and_b, .cost = 1},
    {"LogicalOr", .b = logical_or_b, .cost = 1},
};

typedef struct binary_state {
    binary_loop fn;
    size_t isz;   /* input element size */
    size_t osz;   /* output element size */
    int check;
    int cost;
} binary_state;

static sl_code binary_create(const sl_node *node, void **state, sl_status *status)
{
    const char *op = sl_node_op_type(node);
    sl_dtype dt = sl_node_input_type(node, 0);
    for (int i = 0; i < SL_COUNTOF_K(binary_ops); i++) {
        const binary_op *u = &binary_ops[i];
        if (strcmp(u->op, op))
            continue;
        binary_loop fn = dt == SL_DTYPE_FLOAT ? u->f32 : dt == SL_DTYPE_DOUBLE ? u->f64
                       : dt == SL_DTYPE_INT32 ? u->i32 : dt == SL_DTYPE_INT64 ? u->i64
                       : dt == SL_DTYPE_BOOL ? u->b : NULL;
        if (!fn)
            break;
        binary_state *s = sl_malloc(sizeof(*s));
        if (!s)
            return sl_status_set(status, SL_RESOURCE_EXHAUSTED, "out of memory creating a %s kernel", op);
        s->fn = fn;
        s->isz = sl_dtype_size(dt);
        s->osz = sl_dtype_size(sl_node_output_type(node, 0));
        s->check = sl_dtype_is_integer(dt) ? u->int_check : CHECK_NONE;
        s->cost = u->cost;
        *state = s;
        return SL_OK;
    }
    return sl_status_set(status, SL_UNIMPLEMENTED, "no CPU %s loop for %s", op, sl_dtype_name(dt));
}

typedef struct binary_job {
    const binary_state *s;
    const char *a;
    const char *b;
    char *o;
} binary_job;

static void binary_run(void *arg, const int64_t *off, const int64_t *step, int64_t out_off, int64_t n)
{
    const binary_job *j = arg;
    int64_t isz = (int64_t)j->s->isz;
    j->s->fn(j->a + off[0] * isz, step[0], j->b + off[1] * isz, step[1], j->o + out_off * (int64_t)j->s->osz, n);
}

static bool check_divisor(sl_kernel_ctx *ctx, const sl_tensor *y, int check)
{
    int64_t n = sl_tensor_num_elements(y);
    for (int64_t i = 0; i < n; i++) {
        int64_t v = sl__k_int_at(y, i);
        if (check == CHECK_NONZERO && v == 0) {
            sl_kernel_ctx_fail(ctx, SL_INVALID_ARGUMENT, "integer division by zero (y[%lld] is 0)", (long long)i);
            return false;
        }
        if (check == CHECK_NONNEGATIVE && v < 0) {
            sl_kernel_ctx_fail(ctx, SL_INVALID_ARGUMENT,
                               "integers to negative integer powers are not allowed (y[%lld] is %lld)",
                               (long long)i, (long long)v);
            return false;
        }
    }
    return true;
}

/* Mul of x by a single float 1 that does not broadcast x (dropout's
 * inference path: its mask is one 1): forwards x, as Identity does; x * 1
 * is x exactly.  True when it did. */
static bool is_one_times(sl_kernel_ctx *ctx, const sl_tensor *one, const sl_tensor *x, const sl_shape *out)
{
    if (sl_tensor_num_elements(one) != 1 || sl_tensor_dtype(one) != sl_tensor_dtype(x) ||
        !sl_shape_equal(sl_tensor_shape(x), out) || strcmp(sl_node_op_type(sl_kernel_ctx_node(ctx)), "Mul"))
        return false;
    if (sl_tensor_dtype(one) == SL_DTYPE_FLOAT ? *(const float *)sl_tensor_data(one) != 1.0f
        : sl_tensor_dtype(one) == SL_DTYPE_DOUBLE ? *(const double *)sl_tensor_data(one) != 1.0
                                                  : true)
        return false;
    sl_kernel_ctx_set_output(ctx, 0, (sl_tensor *)x);
    return true;
}

static void binary_compute(sl_kernel_ctx *ctx)
{
    const binary_state *s = sl_kernel_ctx_state(ctx);
    const sl_tensor *a = sl_kernel_ctx_input(ctx, 0), *b = sl_kernel_ctx_input(ctx, 1);
    const sl_shape *shapes[2] = {sl_tensor_shape(a), sl_tensor_shape(b)};
    sl_bcast bc;
    if (!sl__bcast_init(ctx, &bc, 2, shapes))
        return;
    if (s->check != CHECK_NONE && !check_divisor(ctx, b, s->check))
        return;
    if (is_one_times(ctx, a, b, &bc.out) || is_one_times(ctx, b, a, &bc.out))
        return;
    sl_tensor *o = sl__k_out(ctx, 0, &bc.out);
    if (!o)
        return;
    binary_job j = {s, sl_tensor_data(a), sl_tensor_data(b), sl_tensor_data(o)};
    sl__bcast_run(ctx, &bc, s->cost, binary_run, &j);
}

#define BIN_K(OP, TYPES)                                                                        \
    {.op = OP, .device = SL_DEVICE_CPU, .constraints = {TYPES}, .create = binary_create,       \
     .destroy = sl_free, .compute = binary_compute}
#define EQ_TYPES "T: {float, double, int32, int64, bool}"

static const sl_kernel_def binary_kernels[] = {
    BIN_K("Add", SL_K_NUMBERS),          BIN_K("AddV2", SL_K_NUMBERS),
    BIN_K("Sub", SL_K_NUMBERS),          BIN_K("Mul", SL_K_NUMBERS),
    BIN_K("RealDiv", SL_K_FLOATS),       BIN_K("Div", SL_K_NUMBERS),
    BIN_K("FloorDiv", SL_K_NUMBERS),     BIN_K("FloorMod", SL_K_NUMBERS),
    BIN_K("Maximum", SL_K_NUMBERS),      BIN_K("Minimum", SL_K_NUMBERS),
    BIN_K("Pow", SL_K_NUMBERS),          BIN_K("SquaredDifference", SL_K_NUMBERS),
    BIN_K("Less", SL_K_NUMBERS),         BIN_K("LessEqual", SL_K_NUMBERS),
    BIN_K("Greater", SL_K_NUMBERS),      BIN_K("GreaterEqual", SL_K_NUMBERS),
    BIN_K("Equal", EQ_TYPES),            BIN_K("NotEqual", EQ_TYPES),
    {.op = "LogicalAnd", .device = SL_DEVICE_CPU, .create = binary_create, .destroy = sl_free,
     .compute = binary_compute},
    {.op = "LogicalOr", .device = SL_DEVICE_CPU, .create = binary_create, .destroy = sl_free,
     .compute = binary_compute},
};

void sl__kernels_register_binary(void);
void sl__kernels_register_binary(void)
{
    sl__kernel_register_table(binary_kernels, SL_COUNTOF_K(binary_kernels));
}
