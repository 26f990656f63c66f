/* Elementwise kernels on the GPU, mirroring kernels/cpu/unary.c,
 * binary.c, elementwise-misc.c and cast.c: the same expressions per op,
 * one grid-stride kernel per dtype with the op as a (warp-uniform) switch,
 * so a new op is one case and compile time stays small.
 *
 * Broadcasting: the output is walked in row-major order and each input's
 * offset is rebuilt from per-dimension strides that are 0 on broadcast
 * dimensions; equal shapes take a flat fast path.  Integer arithmetic
 * wraps through uint64 as on the CPU.  Integer division by zero is not
 * checked on the device (as in TF's GPU kernels): it yields 0. */
#include <math.h>
#include <string.h>

#include "cuda-common.cuh"
#include "elementwise.cuh"

/* ---- unary ---------------------------------------------------------------- */

enum {
    U_NEG, U_ABS, U_SQUARE, U_SIGN, U_RELU, U_RELU6, U_ROUND, U_EXP, U_LOG, U_LOG1P, U_SQRT, U_RSQRT,
    U_RECIPROCAL, U_TANH, U_SIGMOID, U_ELU, U_SOFTPLUS, U_FLOOR, U_CEIL, U_SIN, U_COS, U_NOT
};

template <typename T> __device__ T softplus_t(T x)
{
    const T eps = sizeof(T) == 4 ? (T)1.1920929e-7f : (T)2.220446049250313e-16;
    const T threshold = log(eps) + 2;
    return x > -threshold ? x : x < threshold ? exp(x) : log1p(exp(x));
}

template <typename T> __device__ T unary_f(int op, T x)
{
    switch (op) {
    case U_NEG: return -x;
    case U_ABS: return fabs(x);
    case U_SQUARE: return x * x;
    case U_SIGN: return x > 0 ? (T)1 : x < 0 ? (T)-1 : x;
    case U_RELU: return x > 0 ? x : (T)0;
    case U_RELU6: return x > 0 ? (x < 6 ? x : (T)6) : (T)0;
    case U_ROUND: return rint(x);
    case U_EXP: return exp(x);
    case U_LOG: return log(x);
    case U_LOG1P: return log1p(x);
    case U_SQRT: return sqrt(x);
    case U_RSQRT: return 1 / sqrt(x);
    case U_RECIPROCAL: return 1 / x;
    case U_TANH: return tanh(x);
    case U_SIGMOID: return 1 / (1 + exp(-x));
    case U_ELU: return x < 0 ? expm1(x) : x;
    case U_SOFTPLUS: return softplus_t(x);
    case U_FLOOR: return floor(x);
    case U_CEIL: return ceil(x);
    case U_SIN: return sin(x);
    case U_COS: return cos(x);
    default: return x;
    }
}

template <typename T> __device__ T unary_i(int op, T x)
{
    switch (op) {
    case U_NEG: return (T)(0 - (uint64_t)x);
    case U_ABS: return x < 0 ? (T)(0 - (uint64_t)x) : x;
    case U_SQUARE: return (T)((uint64_t)x * (uint64_t)x);
    case U_SIGN: return x > 0 ? (T)1 : x < 0 ? (T)-1 : (T)0;
    case U_RELU: return x > 0 ? x : (T)0;
    case U_RELU6: return x > 0 ? (x < 6 ? x : (T)6) : (T)0;
    default: return x;
    }
}

template <typename T> __global__ void unary_kernel(int op, const T *x, T *y, int64_t n)
{
    SL_CUDA_FOR(i, n)
    {
        if constexpr (sizeof(T) == 1)
            y[i] = !x[i];
        else if constexpr (std::is_floating_point<T>::value)
            y[i] = unary_f<T>(op, x[i]);
        else
            y[i] = unary_i<T>(op, x[i]);
    }
}

static const struct { const char *op; int code; const char *types; } unary_ops[] = {
    {"Neg", U_NEG, SL_CUDA_NUMBERS},       {"Abs", U_ABS, SL_CUDA_NUMBERS},
    {"Square", U_SQUARE, SL_CUDA_NUMBERS}, {"Sign", U_SIGN, SL_CUDA_NUMBERS},
    {"Relu6", U_RELU6, SL_CUDA_NUMBERS},   {"Round", U_ROUND, SL_CUDA_NUMBERS},
    {"Exp", U_EXP, SL_CUDA_FLOATS},        {"Log", U_LOG, SL_CUDA_FLOATS},
    {"Log1p", U_LOG1P, SL_CUDA_FLOATS},    {"Sqrt", U_SQRT, SL_CUDA_FLOATS},
    {"Rsqrt", U_RSQRT, SL_CUDA_FLOATS},    {"Reciprocal", U_RECIPROCAL, SL_CUDA_FLOATS},
    {"Softplus", U_SOFTPLUS, SL_CUDA_FLOATS}, {"Floor", U_FLOOR, SL_CUDA_FLOATS},
    {"Ceil", U_CEIL, SL_CUDA_FLOATS},      {"Sin", U_SIN, SL_CUDA_FLOATS},
    {"Cos", U_COS, SL_CUDA_FLOATS},        {"LogicalNot", U_NOT, NULL},
    /* Relu, Sigmoid, Tanh and Elu run on cuDNN for floats (activation.cu);
     * the integer Relu is here */
    {"Relu", U_RELU, "T: {int32, int64}"},
};

static int op_code(sl_kernel_ctx *ctx)
{
    const char *op = sl_node_op_type(sl_kernel_ctx_node(ctx));
    for (size_t i = 0; i < sizeof(unary_ops) / sizeof(unary_ops[0]); i++)
        if (!strcmp(unary_ops[i].op, op))
            return unary_ops[i].code;
    return -1;
}

static void unary_compute(sl_kernel_ctx *ctx)
{
    const sl_tensor *x = sl_kernel_ctx_input(ctx, 0);
    sl_tensor *y = sl__gpu_output(ctx, 0, sl_tensor_shape(x));
    if (!y)
        return;
    int64_t n = sl_tensor_num_elements(x);
    if (!n)
        return;
    void *stream = sl__gpu_stream(sl__gpu_current());
    int code = op_code(ctx);
    SL_CUDA_DISPATCH(ctx, sl_tensor_dtype(x),
                     SL_CUDA_LAUNCH(unary_kernel<T>, n, stream, code, (const T *)sl_tensor_data(x),
                                    (T *)sl_tensor_data(y), n));
    SL_CUDA_CHECK_LAUNCH(ctx);
}

/* ---- binary with broadcasting ---------------------------------------------- */

enum {
    B_ADD, B_SUB, B_MUL, B_REALDIV, B_DIV, B_FLOORDIV, B_FLOORMOD, B_MAX, B_MIN, B_POW, B_SQDIFF,
    B_LESS, B_LESS_EQUAL, B_GREATER, B_GREATER_EQUAL, B_EQUAL, B_NOT_EQUAL, B_AND, B_OR
};

typedef struct bcast_geom {
    int rank;
    int64_t out[SL_MAX_DIMS];  /* output dims */
    int64_t sa[SL_MAX_DIMS];   /* a's strides, 0 where broadcast */
    int64_t sb[SL_MAX_DIMS];
    bool flat;                 /* same shapes: index directly */
    bool a_scalar;
    bool b_scalar;
} bcast_geom;

__device__ static inline void bcast_offsets(const bcast_geom &g, int64_t o, int64_t *ia, int64_t *ib)
{
    if (g.flat) {
        *ia = g.a_scalar ? 0 : o;
        *ib = g.b_scalar ? 0 : o;
        return;
    }
    int64_t a = 0, b = 0;
    for (int d = g.rank - 1; d >= 0; d--) {
        int64_t i = o % g.out[d];
        o /= g.out[d];
        a += i * g.sa[d];
        b += i * g.sb[d];
    }
    *ia = a;
    *ib = b;
}

template <typename T> __device__ T ipow(T base, T e)
{
    uint64_t r = 1, b = (uint64_t)base;
    for (uint64_t k = (uint64_t)e; k; k >>= 1, b *= b)
        if (k & 1)
            r *= b;
    return (T)r;
}

template <typename T> __device__ T arith(int op, T x, T y)
{
    if constexpr (std::is_floating_point<T>::value) {
        switch (op) {
        case B_ADD: return x + y;
        case B_SUB: return x - y;
        case B_MUL: return x * y;
        case B_REALDIV: case B_DIV: return x / y;
        case B_FLOORDIV: return floor(x / y);
        case B_FLOORMOD: { T m = fmod(x, y); return m != 0 && ((y < 0) != (m < 0)) ? m + y : m; }
        case B_MAX: return x < y ? y : x;
        case B_MIN: return y < x ? y : x;
        case B_POW: return pow(x, y);
        case B_SQDIFF: return (x - y) * (x - y);
        default: return 0;
        }
    } else {
        typedef uint64_t U;
        switch (op) {
        case B_ADD: return (T)((U)x + (U)y);
        case B_SUB: return (T)((U)x - (U)y);
        case B_MUL: return (T)((U)x * (U)y);
        case B_DIV: return y == 0 ? (T)0 : y == -1 ? (T)(0 - (U)x) : (T)(x / y);
        case B_FLOORDIV:
            return y == 0 ? (T)0 : y == -1 ? (T)(0 - (U)x) : ((x < 0) != (y < 0) && x % y) ? (T)(x / y - 1) : (T)(x / y);
        case B_FLOORMOD:
            return y == 0 || y == -1 ? (T)0 : (x % y != 0 && ((y < 0) != (x % y < 0))) ? (T)(x % y + y) : (T)(x % y);
        case B_MAX: return x < y ? y : x;
        case B_MIN: return y < x ? y : x;
        case B_POW: return y < 0 ? (T)0 : ipow<T>(x, y);
        case B_SQDIFF: return (T)(((U)x - (U)y) * ((U)x - (U)y));
        default: return 0;
        }
    }
}

template <typename T> __device__ bool compare(int op, T x, T y)
{
    switch (op) {
    case B_LESS: return x < y;
    case B_LESS_EQUAL: return x <= y;
    case B_GREATER: return x > y;
    case B_GREATER_EQUAL: return x >= y;
    case B_EQUAL: return x == y;
    case B_NOT_EQUAL: return x != y;
    case B_AND: return x && y;
    case B_OR: return x || y;
    default: return false;
    }
}

template <typename T, typename OT>
__global__ void binary_kernel(int op, bcast_geom g, const T *a, const T *b, OT *o, int64_t n)
{
    SL_CUDA_FOR(i, n)
    {
        int64_t ia, ib;
        bcast_offsets(g, i, &ia, &ib);
        if constexpr (std::is_same<OT, bool>::value)
            o[i] = compare<T>(op, a[ia], b[ib]);
        else
            o[i] = arith<T>(op, a[ia], b[ib]);
    }
}

/* Right-aligned NumPy broadcasting of a and b; false after failing ctx. */
static bool bcast_init(sl_kernel_ctx *ctx, const sl_shape *a, const sl_shape *b, sl_shape *out, bcast_geom *g)
{
    sl_status *st = sl_status_new();
    if (sl_shape_broadcast(a, b, out, st) != SL_OK) {
        sl_kernel_ctx_fail(ctx, SL_INVALID_ARGUMENT, "%s", sl_status_message(st));
        sl_status_free(st);
        return false;
    }
    sl_status_free(st);
    memset(g, 0, sizeof(*g));
    g->rank = out->rank;
    g->a_scalar = sl_shape_num_elements(a) == 1;
    g->b_scalar = sl_shape_num_elements(b) == 1;
    g->flat = (sl_shape_equal(a, out) || g->a_scalar) && (sl_shape_equal(b, out) || g->b_scalar);
    int64_t ka = 1, kb = 1;
    for (int d = out->rank - 1; d >= 0; d--) {
        g->out[d] = out->dims[d];
        int da = d - (out->rank - a->rank), db = d - (out->rank - b->rank);
        int64_t na = da >= 0 ? a->dims[da] : 1, nb = db >= 0 ? b->dims[db] : 1;
        g->sa[d] = na == 1 ? 0 : ka;
        g->sb[d] = nb == 1 ? 0 : kb;
        ka *= na;
        kb *= nb;
    }
    return true;
}

static const struct { const char *op; int code; const char *types; } binary_ops[] = {
    {"Add", B_ADD, SL_CUDA_NUMBERS},           {"AddV2", B_ADD, SL_CUDA_NUMBERS},
    {"Sub", B_SUB, SL_CUDA_NUMBERS},           {"Mul", B_MUL, SL_CUDA_NUMBERS},
    {"RealDiv", B_REALDIV, SL_CUDA_FLOATS},    {"Div", B_DIV, SL_CUDA_NUMBERS},
    {"FloorDiv", B_FLOORDIV, SL_CUDA_NUMBERS}, {"FloorMod", B_FLOORMOD, SL_CUDA_NUMBERS},
    {"Maximum", B_MAX, SL_CUDA_NUMBERS},       {"Minimum", B_MIN, SL_CUDA_NUMBERS},
    {"Pow", B_POW, SL_CUDA_NUMBERS},           {"SquaredDifference", B_SQDIFF, SL_CUDA_NUMBERS},
    {"Less", B_LESS, SL_CUDA_NUMBERS},         {"LessEqual", B_LESS_EQUAL, SL_CUDA_NUMBERS},
    {"Greater", B_GREATER, SL_CUDA_NUMBERS},   {"GreaterEqual", B_GREATER_EQUAL, SL_CUDA_NUMBERS},
    {"Equal", B_EQUAL, "T: {float, double, int32, int64, bool}"},
    {"NotEqual", B_NOT_EQUAL, "T: {float, double, int32, int64, bool}"},
    {"LogicalAnd", B_AND, NULL},               {"LogicalOr", B_OR, NULL},
};

static void binary_compute(sl_kernel_ctx *ctx)
{
    const char *opname = sl_node_op_type(sl_kernel_ctx_node(ctx));
    int code = -1;
    for (size_t i = 0; i < sizeof(binary_ops) / sizeof(binary_ops[0]); i++)
        if (!strcmp(binary_ops[i].op, opname))
            code = binary_ops[i].code;
    const sl_tensor *a = sl_kernel_ctx_input(ctx, 0), *b = sl_kernel_ctx_input(ctx, 1);
    sl_shape out;
    bcast_geom g;
    if (!bcast_init(ctx, sl_tensor_shape(a), sl_tensor_shape(b), &out, &g))
        return;
    sl_tensor *o = sl__gpu_output(ctx, 0, &out);
    if (!o)
        return;
    int64_t n = sl_tensor_num_elements(o);
    if (!n)
        return;
    void *stream = sl__gpu_stream(sl__gpu_current());
    bool cmp = code >= B_LESS;
    if (cmp) {
        SL_CUDA_DISPATCH(ctx, sl_tensor_dtype(a),
                         SL_CUDA_LAUNCH((binary_kernel<T, bool>), n, stream, code, g, (const T *)sl_tensor_data(a),
                                        (const T *)sl_tensor_data(b), (bool *)sl_tensor_data(o), n));
    } else {
        switch (sl_tensor_dtype(a)) {
#define ARITH_CASE(DT, T)                                                                        \
        case DT:                                                                                 \
            SL_CUDA_LAUNCH((binary_kernel<T, T>), n, stream, code, g, (const T *)sl_tensor_data(a), \
                           (const T *)sl_tensor_data(b), (T *)sl_tensor_data(o), n);             \
            break;
        ARITH_CASE(SL_DTYPE_FLOAT, float)
        ARITH_CASE(SL_DTYPE_DOUBLE, double)
        ARITH_CASE(SL_DTYPE_INT32, int32_t)
        ARITH_CASE(SL_DTYPE_INT64, int64_t)
#undef ARITH_CASE
        default:
            sl_kernel_ctx_fail(ctx, SL_UNIMPLEMENTED, "no GPU %s for %s", opname, sl_dtype_name(sl_tensor_dtype(a)));
            return;
        }
    }
    SL_CUDA_CHECK_LAUNCH(ctx);
}

/* ---- activation gradients ---------------------------------------------------- */

enum { G_RELU, G_RELU6, G_SOFTPLUS, G_ELU, G_SIGMOID, G_TANH };

template <typename T> __global__ void grad_kernel(int op, const T *a, const T *b, T *o, int64_t n)
{
    SL_CUDA_FOR(i, n)
    {
        T x = a[i], y = b[i];
        switch (op) {
        case G_RELU: o[i] = y > 0 ? x : (T)0; break;
        case G_RELU6: o[i] = y > 0 && y < 6 ? x : (T)0; break;
        case G_SOFTPLUS: o[i] = x / (1 + exp(-y)); break;
        case G_ELU: o[i] = y < 0 ? x * (y + 1) : x; break;
        case G_SIGMOID: o[i] = y * x * (1 - x); break;
        case G_TANH: o[i] = y * (1 - x * x); break;
        }
    }
}

template <> __global__ void grad_kernel<int32_t>(int op, const int32_t *a, const int32_t *b, int32_t *o, int64_t n)
{
    SL_CUDA_FOR(i, n) o[i] = op == G_RELU ? (b[i] > 0 ? a[i] : 0) : (b[i] > 0 && b[i] < 6 ? a[i] : 0);
}

template <> __global__ void grad_kernel<int64_t>(int op, const int64_t *a, const int64_t *b, int64_t *o, int64_t n)
{
    SL_CUDA_FOR(i, n) o[i] = op == G_RELU ? (b[i] > 0 ? a[i] : 0) : (b[i] > 0 && b[i] < 6 ? a[i] : 0);
}

static const struct { const char *op; int code; const char *types; } grad_ops[] = {
    {"ReluGrad", G_RELU, SL_CUDA_NUMBERS},     {"Relu6Grad", G_RELU6, SL_CUDA_NUMBERS},
    {"SoftplusGrad", G_SOFTPLUS, SL_CUDA_FLOATS}, {"EluGrad", G_ELU, SL_CUDA_FLOATS},
    {"SigmoidGrad", G_SIGMOID, SL_CUDA_FLOATS}, {"TanhGrad", G_TANH, SL_CUDA_FLOATS},
};

static void grad_compute(sl_kernel_ctx *ctx)
{
    const char *opname = sl_node_op_type(sl_kernel_ctx_node(ctx));
    int code = 0;
    for (size_t i = 0; i < sizeof(grad_ops) / sizeof(grad_ops[0]); i++)
        if (!strcmp(grad_ops[i].op, opname))
            code = grad_ops[i].code;
    const sl_tensor *a = sl_kernel_ctx_input(ctx, 0), *b = sl_kernel_ctx_input(ctx, 1);
    if (!sl_shape_equal(sl_tensor_shape(a), sl_tensor_shape(b))) {
        sl_kernel_ctx_fail(ctx, SL_INVALID_ARGUMENT, "%s inputs must have the same shape", opname);
        return;
    }
    sl_tensor *o = sl__gpu_output(ctx, 0, sl_tensor_shape(a));
    int64_t n = sl_tensor_num_elements(a);
    if (!o || !n)
        return;
    void *stream = sl__gpu_stream(sl__gpu_current());
    switch (sl_tensor_dtype(a)) {
#define GRAD_CASE(DT, T)                                                                         \
    case DT:                                                                                     \
        SL_CUDA_LAUNCH(grad_kernel<T>, n, stream, code, (const T *)sl_tensor_data(a), (const T *)sl_tensor_data(b), \
                       (T *)sl_tensor_data(o), n);                                               \
        break;
    GRAD_CASE(SL_DTYPE_FLOAT, float)
    GRAD_CASE(SL_DTYPE_DOUBLE, double)
    GRAD_CASE(SL_DTYPE_INT32, int32_t)
    GRAD_CASE(SL_DTYPE_INT64, int64_t)
#undef GRAD_CASE
    default: sl_kernel_ctx_fail(ctx, SL_UNIMPLEMENTED, "no GPU %s kernel for this type", opname); return;
    }
    SL_CUDA_CHECK_LAUNCH(ctx);
}

/* ---- AddN -------------------------------------------------------------------- */

#define ADDN_MAX 8

template <typename T> struct addn_args {
    const T *x[ADDN_MAX];
    int n;
    bool accumulate;  /* add into o (after the first chunk of inputs) */
};

template <typename T> __global__ void addn_kernel(addn_args<T> a, T *o, int64_t n)
{
    SL_CUDA_FOR(i, n)
    {
        typedef typename std::conditional<std::is_floating_point<T>::value, T, uint64_t>::type A;
        A s = a.accumulate ? (A)o[i] : (A)0;
        for (int k = 0; k < a.n; k++)
            s += (A)a.x[k][i];
        o[i] = (T)s;
    }
}

static void add_n_compute(sl_kernel_ctx *ctx)
{
    int n = sl_kernel_ctx_num_inputs(ctx);
    const sl_tensor *x0 = sl_kernel_ctx_input(ctx, 0);
    for (int k = 1; k < n; k++)
        if (!sl_shape_equal(sl_tensor_shape(x0), sl_tensor_shape(sl_kernel_ctx_input(ctx, k)))) {
            sl_kernel_ctx_fail(ctx, SL_INVALID_ARGUMENT, "inputs must have the same shape (input %d differs)", k);
            return;
        }
    sl_tensor *o = sl__gpu_output(ctx, 0, sl_tensor_shape(x0));
    int64_t ne = sl_tensor_num_elements(x0);
    if (!o || !ne)
        return;
    void *stream = sl__gpu_stream(sl__gpu_current());
    switch (sl_tensor_dtype(x0)) {
#define ADDN_CASE(DT, T)                                                                        \
    case DT:                                                                                    \
        for (int first = 0; first < n; first += ADDN_MAX) {                                     \
            addn_args<T> a = {};                                                                \
            a.accumulate = first > 0;                                                           \
            for (int k = first; k < n && k < first + ADDN_MAX; k++)                             \
                a.x[a.n++] = (const T *)sl_tensor_data(sl_kernel_ctx_input(ctx, k));           \
            SL_CUDA_LAUNCH(addn_kernel<T>, ne, stream, a, (T *)sl_tensor_data(o), ne);          \
        }                                                                                       \
        break;
    ADDN_CASE(SL_DTYPE_FLOAT, float)
    ADDN_CASE(SL_DTYPE_DOUBLE, double)
    ADDN_CASE(SL_DTYPE_INT32, int32_t)
    ADDN_CASE(SL_DTYPE_INT64, int64_t)
#undef ADDN_CASE
    default: sl_kernel_ctx_fail(ctx, SL_UNIMPLEMENTED, "no GPU AddN for this type"); return;
    }
    SL_CUDA_CHECK_LAUNCH(ctx);
}

/* ---- Select / SelectV2 ----------------------------------------------------------- */

typedef struct select_geom {
    int rank;
    int64_t out[SL_MAX_DIMS];
    int64_t sc[SL_MAX_DIMS];
    int64_t st[SL_MAX_DIMS];
    int64_t se[SL_MAX_DIMS];
} select_geom;

template <typename T>
__global__ void select_kernel(select_geom g, const bool *c, const T *t, const T *e, T *o, int64_t n)
{
    SL_CUDA_FOR(i, n)
    {
        int64_t r = i, ic = 0, it = 0, ie = 0;
        for (int d = g.rank - 1; d >= 0; d--) {
            int64_t k = r % g.out[d];
            r /= g.out[d];
            ic += k * g.sc[d];
            it += k * g.st[d];
            ie += k * g.se[d];
        }
        o[i] = c[ic] ? t[it] : e[ie];
    }
}

/* Strides of `in` right-aligned against out (0 where broadcast). */
static void bcast_strides(const sl_shape *in, const sl_shape *out, int64_t *s)
{
    int64_t k = 1;
    for (int d = out->rank - 1; d >= 0; d--) {
        int di = d - (out->rank - in->rank);
        int64_t n = di >= 0 ? in->dims[di] : 1;
        s[d] = n == 1 ? 0 : k;
        k *= n;
    }
}

static void select_compute(sl_kernel_ctx *ctx)
{
    const sl_tensor *c = sl_kernel_ctx_input(ctx, 0), *t = sl_kernel_ctx_input(ctx, 1), *e = sl_kernel_ctx_input(ctx, 2);
    bool v1 = !strcmp(sl_node_op_type(sl_kernel_ctx_node(ctx)), "Select");
    sl_shape cs = *sl_tensor_shape(c), out;
    sl_status *st = sl_status_new();
    if (v1) {
        if (!sl_shape_equal(sl_tensor_shape(t), sl_tensor_shape(e))) {
            sl_kernel_ctx_fail(ctx, SL_INVALID_ARGUMENT, "t and e must have the same shape");
            sl_status_free(st);
            return;
        }
        out = *sl_tensor_shape(t);
        if (cs.rank == 1 && out.rank > 1) {  /* a vector condition picks rows */
            cs = out;
            for (int d = 1; d < cs.rank; d++)
                cs.dims[d] = 1;
        } else if (!sl_shape_equal(&cs, &out) && cs.rank != 0) {
            sl_kernel_ctx_fail(ctx, SL_INVALID_ARGUMENT, "condition and t must have the same shape");
            sl_status_free(st);
            return;
        }
    } else {
        sl_shape te;
        if (sl_shape_broadcast(sl_tensor_shape(t), sl_tensor_shape(e), &te, st) != SL_OK ||
            sl_shape_broadcast(&cs, &te, &out, st) != SL_OK) {
            sl_kernel_ctx_fail(ctx, SL_INVALID_ARGUMENT, "%s", sl_status_message(st));
            sl_status_free(st);
            return;
        }
    }
    sl_status_free(st);
    select_geom g = {};
    g.rank = out.rank;
    for (int d = 0; d < out.rank; d++)
        g.out[d] = out.dims[d];
    bcast_strides(&cs, &out, g.sc);
    bcast_strides(sl_tensor_shape(t), &out, g.st);
    bcast_strides(sl_tensor_shape(e), &out, g.se);
    sl_tensor *o = sl__gpu_output(ctx, 0, &out);
    int64_t n = o ? sl_tensor_num_elements(o) : 0;
    if (!n)
        return;
    void *stream = sl__gpu_stream(sl__gpu_current());
    SL_CUDA_DISPATCH(ctx, sl_tensor_dtype(t),
                     SL_CUDA_LAUNCH(select_kernel<T>, n, stream, g, (const bool *)sl_tensor_data(c),
                                    (const T *)sl_tensor_data(t), (const T *)sl_tensor_data(e), (T *)sl_tensor_data(o), n));
    SL_CUDA_CHECK_LAUNCH(ctx);
}

/* ---- Cast -------------------------------------------------------------------- */

template <typename S, typename D> __device__ D cast_one(S x)
{
    if constexpr (std::is_same<D, bool>::value) {
        return x != 0;
    } else if constexpr (std::is_floating_point<S>::value && !std::is_floating_point<D>::value) {
        double v = (double)x;  /* saturate like the CPU; NaN becomes 0 */
        if (v != v)
            return 0;
        const D lo = sizeof(D) == 4 ? (D)INT32_MIN : (D)INT64_MIN;
        const D hi = sizeof(D) == 4 ? (D)INT32_MAX : (D)INT64_MAX;
        if (v <= (double)lo)
            return lo;
        if (v >= (double)hi)
            return hi;
        return (D)v;
    } else {
        return (D)x;
    }
}

template <typename S, typename D> __global__ void cast_kernel(const S *x, D *y, int64_t n)
{
    SL_CUDA_FOR(i, n) y[i] = cast_one<S, D>(x[i]);
}

template <typename S> static void cast_from(sl_kernel_ctx *ctx, const S *x, sl_tensor *y, int64_t n, void *stream)
{
    SL_CUDA_DISPATCH(ctx, sl_tensor_dtype(y),
                     SL_CUDA_LAUNCH((cast_kernel<S, T>), n, stream, x, (T *)sl_tensor_data(y), n));
}

static void cast_compute(sl_kernel_ctx *ctx)
{
    const sl_tensor *x = sl_kernel_ctx_input(ctx, 0);
    sl_tensor *y = sl__gpu_output(ctx, 0, sl_tensor_shape(x));
    int64_t n = sl_tensor_num_elements(x);
    if (!y || !n)
        return;
    void *stream = sl__gpu_stream(sl__gpu_current());
    SL_CUDA_DISPATCH(ctx, sl_tensor_dtype(x), cast_from<T>(ctx, (const T *)sl_tensor_data(x), y, n, stream));
    SL_CUDA_CHECK_LAUNCH(ctx);
}

#define GPU_CAST_TYPES "{float, double, int32, int64, bool}"

void sl__cuda_register_elementwise(void)
{
    for (size_t i = 0; i < sizeof(unary_ops) / sizeof(unary_ops[0]); i++)
        sl__cuda_reg(unary_ops[i].op, unary_ops[i].types, NULL, unary_compute, 0, 0);
    for (size_t i = 0; i < sizeof(binary_ops) / sizeof(binary_ops[0]); i++)
        sl__cuda_reg(binary_ops[i].op, binary_ops[i].types, NULL, binary_compute, 0, 0);
    for (size_t i = 0; i < sizeof(grad_ops) / sizeof(grad_ops[0]); i++)
        sl__cuda_reg(grad_ops[i].op, grad_ops[i].types, NULL, grad_compute, 0, 0);
    sl__cuda_reg("AddN", SL_CUDA_NUMBERS, NULL, add_n_compute, 0, 0);
    sl__cuda_reg("Select", "T: {float, double, int32, int64, bool}", NULL, select_compute, 0, 0);
    sl__cuda_reg("SelectV2", "T: {float, double, int32, int64, bool}", NULL, select_compute, 0, 0);
    sl__cuda_reg("Cast", "SrcT: " GPU_CAST_TYPES, "DstT: " GPU_CAST_TYPES, cast_compute, 0, 0);
}
