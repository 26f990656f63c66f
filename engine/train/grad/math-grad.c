/* Gradients of the math ops: elementwise unary and binary ops (with
 * broadcasting undone), MatMul and BatchMatMul, reductions, AddN, Cast and
 * Select; and the list of math ops through which no gradient flows. */
#include "config.h"

#include <string.h>

#include "grad-private.h"

#define B sl__grad_b(ctx)
#define X(i) sl__grad_in(op, i)
#define Y(i) sl__grad_out(op, i)
#define UN(o, a) sl__b_unary(B, o, a)
#define BIN(o, a, c) sl__b_binary(B, o, a, c)
#define SC(v, like) sl__b_scalar_like(B, v, like)

/* ---- binary, with broadcasting ---------------------------------------- */

static void add_grad(sl_grad_ctx *ctx, const sl_node *op, const sl_output *dy, sl_output *dx)
{
    sl__grad_unbroadcast(B, X(0), X(1), dy[0], dy[0], &dx[0], &dx[1]);
}

static void sub_grad(sl_grad_ctx *ctx, const sl_node *op, const sl_output *dy, sl_output *dx)
{
    sl__grad_unbroadcast(B, X(0), X(1), dy[0], UN("Neg", dy[0]), &dx[0], &dx[1]);
}

static void mul_grad(sl_grad_ctx *ctx, const sl_node *op, const sl_output *dy, sl_output *dx)
{
    sl__grad_unbroadcast(B, X(0), X(1), BIN("Mul", dy[0], X(1)), BIN("Mul", X(0), dy[0]), &dx[0], &dx[1]);
}

static void div_grad(sl_grad_ctx *ctx, const sl_node *op, const sl_output *dy, sl_output *dx)
{
    /* d(x/y) = g/y, -g*x/y^2 */
    sl_output gx = BIN("RealDiv", dy[0], X(1));
    sl_output gy = BIN("Mul", dy[0], BIN("RealDiv", BIN("RealDiv", UN("Neg", X(0)), X(1)), X(1)));
    sl__grad_unbroadcast(B, X(0), X(1), gx, gy, &dx[0], &dx[1]);
}

static void maxmin_grad(sl_grad_ctx *ctx, const sl_node *op, const sl_output *dy, sl_output *dx)
{
    bool is_max = !strcmp(sl_node_op_type(op), "Maximum");
    sl_output mask = BIN(is_max ? "GreaterEqual" : "LessEqual", X(0), X(1));
    sl_output zeros = sl__b_zeros_like(B, dy[0]);
    sl_node_builder *nb = sl__b_begin(B, "SelectV2");
    sl__b_in(B, nb, mask);
    sl__b_in(B, nb, dy[0]);
    sl__b_in(B, nb, zeros);
    sl_output gx = sl__b_end(B, nb);
    nb = sl__b_begin(B, "SelectV2");
    sl__b_in(B, nb, mask);
    sl__b_in(B, nb, zeros);
    sl__b_in(B, nb, dy[0]);
    sl_output gy = sl__b_end(B, nb);
    sl__grad_unbroadcast(B, X(0), X(1), gx, gy, &dx[0], &dx[1]);
}

static void pow_grad(sl_grad_ctx *ctx, const sl_node *op, const sl_output *dy, sl_output *dx)
{
    /* z = x^y: dx = g*y*x^(y-1); dy = g*z*log(x) where x > 0, else 0 */
    sl_output x = X(0), y = X(1);
    sl_output gx = BIN("Mul", dy[0], BIN("Mul", y, BIN("Pow", x, BIN("Sub", y, SC(1.0, y)))));
    sl_output pos = BIN("Greater", x, sl__b_zeros_like(B, x));
    sl_output safe_x;
    sl_node_builder *nb = sl__b_begin(B, "SelectV2");
    sl__b_in(B, nb, pos);
    sl__b_in(B, nb, x);
    sl__b_in(B, nb, UN("OnesLike", x));
    safe_x = sl__b_end(B, nb);
    nb = sl__b_begin(B, "SelectV2");
    sl__b_in(B, nb, pos);
    sl__b_in(B, nb, UN("Log", safe_x));
    sl__b_in(B, nb, sl__b_zeros_like(B, x));
    sl_output log_x = sl__b_end(B, nb);
    sl_output gy = BIN("Mul", dy[0], BIN("Mul", Y(0), log_x));
    sl__grad_unbroadcast(B, x, y, gx, gy, &dx[0], &dx[1]);
}

static void squared_difference_grad(sl_grad_ctx *ctx, const sl_node *op, const sl_output *dy,
                                    sl_output *dx)
{
    sl_output d = BIN("Mul", BIN("Mul", dy[0], SC(2.0, dy[0])), BIN("Sub", X(0), X(1)));
    sl__grad_unbroadcast(B, X(0), X(1), d, UN("Neg", d), &dx[0], &dx[1]);
}

/* ---- unary ------------------------------------------------------------- */

static void neg_grad(sl_grad_ctx *ctx, const sl_node *op, const sl_output *dy, sl_output *dx)
{
    dx[0] = UN("Neg", dy[0]);
}

static void identity_grad(sl_grad_ctx *ctx, const sl_node *op, const sl_output *dy, sl_output *dx)
{
    (void)ctx;
    (void)op;
    dx[0] = dy[0];
}

static void square_grad(sl_grad_ctx *ctx, const sl_node *op, const sl_output *dy, sl_output *dx)
{
    dx[0] = BIN("Mul", dy[0], BIN("Mul", X(0), SC(2.0, X(0))));
}

static void sqrt_grad(sl_grad_ctx *ctx, const sl_node *op, const sl_output *dy, sl_output *dx)
{
    dx[0] = BIN("RealDiv", BIN("Mul", dy[0], SC(0.5, dy[0])), Y(0));
}

static void rsqrt_grad(sl_grad_ctx *ctx, const sl_node *op, const sl_output *dy, sl_output *dx)
{
    /* d x^-1/2 = -1/2 y^3 */
    sl_output y = Y(0);
    dx[0] = BIN("Mul", dy[0], BIN("Mul", SC(-0.5, y), BIN("Mul", y, BIN("Mul", y, y))));
}

static void exp_grad(sl_grad_ctx *ctx, const sl_node *op, const sl_output *dy, sl_output *dx)
{
    dx[0] = BIN("Mul", dy[0], Y(0));
}

static void log_grad(sl_grad_ctx *ctx, const sl_node *op, const sl_output *dy, sl_output *dx)
{
    dx[0] = BIN("RealDiv", dy[0], X(0));
}

static void log1p_grad(sl_grad_ctx *ctx, const sl_node *op, const sl_output *dy, sl_output *dx)
{
    dx[0] = BIN("RealDiv", dy[0], BIN("AddV2", X(0), SC(1.0, X(0))));
}

static void reciprocal_grad(sl_grad_ctx *ctx, const sl_node *op, const sl_output *dy, sl_output *dx)
{
    dx[0] = BIN("Mul", UN("Neg", dy[0]), BIN("Mul", Y(0), Y(0)));
}

static void tanh_grad(sl_grad_ctx *ctx, const sl_node *op, const sl_output *dy, sl_output *dx)
{
    dx[0] = BIN("TanhGrad", Y(0), dy[0]);
}

static void sigmoid_grad(sl_grad_ctx *ctx, const sl_node *op, const sl_output *dy, sl_output *dx)
{
    dx[0] = BIN("SigmoidGrad", Y(0), dy[0]);
}

static void abs_grad(sl_grad_ctx *ctx, const sl_node *op, const sl_output *dy, sl_output *dx)
{
    dx[0] = BIN("Mul", dy[0], UN("Sign", X(0)));
}

static void sin_grad(sl_grad_ctx *ctx, const sl_node *op, const sl_output *dy, sl_output *dx)
{
    dx[0] = BIN("Mul", dy[0], UN("Cos", X(0)));
}

static void cos_grad(sl_grad_ctx *ctx, const sl_node *op, const sl_output *dy, sl_output *dx)
{
    dx[0] = BIN("Mul", UN("Neg", dy[0]), UN("Sin", X(0)));
}

static void cast_grad(sl_grad_ctx *ctx, const sl_node *op, const sl_output *dy, sl_output *dx)
{
    sl_dtype src = sl__b_dtype(X(0)), dst = sl__b_dtype(Y(0));
    if ((sl_dtype_is_floating(src) || sl_dtype_is_complex(src)) &&
        (sl_dtype_is_floating(dst) || sl_dtype_is_complex(dst)))
        dx[0] = sl__b_cast(B, dy[0], src);
}

static void add_n_grad(sl_grad_ctx *ctx, const sl_node *op, const sl_output *dy, sl_output *dx)
{
    (void)ctx;
    for (int i = 0; i < sl_node_num_inputs(op); i++)
        dx[i] = dy[0];
}

/* ---- MatMul -------------------------------------------------------------- */

static sl_output matmul(sl_grad_ctx *ctx, const char *type, sl_output a, sl_output b, bool ta, bool tb)
{
    bool batch = strcmp(type, "MatMul") != 0;
    sl_node_builder *nb = sl__b_begin(B, type);
    sl__b_in(B, nb, a);
    sl__b_in(B, nb, b);
    if (nb) {
        sl_node_builder_set_attr_bool(nb, batch ? "adj_x" : "transpose_a", ta);
        sl_node_builder_set_attr_bool(nb, batch ? "adj_y" : "transpose_b", tb);
    }
    return sl__b_end(B, nb);
}

static void matmul_grad(sl_grad_ctx *ctx, const sl_node *op, const sl_output *dy, sl_output *dx)
{
    const char *type = sl_node_op_type(op);
    bool batch = strcmp(type, "MatMul") != 0;
    bool ta = false, tb = false;
    sl_node_attr_bool(op, batch ? "adj_x" : "transpose_a", &ta);
    sl_node_attr_bool(op, batch ? "adj_y" : "transpose_b", &tb);
    sl_output a = X(0), b = X(1), g = dy[0];
    sl_output ga, gb;
    if (!ta && !tb) {
        ga = matmul(ctx, type, g, b, false, true);
        gb = matmul(ctx, type, a, g, true, false);
    } else if (!ta && tb) {
        ga = matmul(ctx, type, g, b, false, false);
        gb = matmul(ctx, type, g, a, true, false);
    } else if (ta && !tb) {
        ga = matmul(ctx, type, b, g, false, true);
        gb = matmul(ctx, type, a, g, false, false);
    } else {
        ga = matmul(ctx, type, b, g, true, true);
        gb = matmul(ctx, type, g, a, true, true);
    }
    if (strcmp(type, "BatchMatMulV2") != 0) {
        dx[0] = ga;
        dx[1] = gb;
        return;
    }
    /* V2 broadcasts the batch dimensions: reduce each gradient over them */
    const sl_shape *sa = sl__b_static_shape(a), *sb = sl__b_static_shape(b);
    if (sa->rank >= 2 && sb->rank >= 2 && sa->rank == sb->rank && sl_shape_is_fully_defined(sa) &&
        sl_shape_is_fully_defined(sb)) {
        bool same = true;
        for (int i = 0; i < sa->rank - 2; i++)
            same &= sa->dims[i] == sb->dims[i];
        if (same) {
            dx[0] = ga;
            dx[1] = gb;
            return;
        }
    }
    if (sa->rank < 2 || sb->rank < 2) {
        sl_grad_ctx_fail(ctx, SL_UNIMPLEMENTED, "node '%s' (%s): gradient needs inputs of known rank",
                         sl_node_name(op), type);
        return;
    }
    /* batch shapes: Slice(Shape(x), [0], [rank-2]) */
    sl_output bsa = sl__b_shape(B, a), bsb = sl__b_shape(B, b);
    int32_t zero = 0, la = sa->rank - 2, lb = sb->rank - 2;
    sl_node_builder *nb = sl__b_begin(B, "Slice");
    sl__b_in(B, nb, bsa);
    sl__b_in(B, nb, sl__b_const_i32(B, &zero, 1));
    sl__b_in(B, nb, sl__b_const_i32(B, &la, 1));
    sl_output batch_a = sl__b_end(B, nb);
    nb = sl__b_begin(B, "Slice");
    sl__b_in(B, nb, bsb);
    sl__b_in(B, nb, sl__b_const_i32(B, &zero, 1));
    sl__b_in(B, nb, sl__b_const_i32(B, &lb, 1));
    sl_output batch_b = sl__b_end(B, nb);
    nb = sl__b_begin(B, "BroadcastGradientArgs");
    sl__b_in(B, nb, batch_a);
    sl__b_in(B, nb, batch_b);
    sl_node *args = sl__b_end_node(B, nb);
    if (!args)
        return;
    dx[0] = sl__b_reshape(B, sl__b_reduce(B, "Sum", ga, (sl_output){args, 0}, false), bsa);
    dx[1] = sl__b_reshape(B, sl__b_reduce(B, "Sum", gb, (sl_output){args, 1}, false), bsb);
}

/* ---- Reductions ------------------------------------------------------------ */

/* Whether a const input is a constant (through Identity). */
static bool is_const(sl_output o)
{
    const sl_node *n = o.node;
    while (n && !strcmp(sl_node_op_type(n), "Identity"))
        n = sl_node_input(n, 0).node;
    return n && !strcmp(sl_node_op_type(n), "Const");
}

/* For a reduction of x over `axes`, fills reduced[] and returns the rank;
 * returns -2 when the rank or the axes are only known at run time (the
 * dynamic path), -1 after recording an error. */
static int reduced_axes(sl_grad_ctx *ctx, const sl_node *op, bool *reduced)
{
    const sl_shape *sx = sl__b_static_shape(X(0));
    if (sx->rank < 0 || !is_const(X(1)))
        return -2;
    int64_t axes[SL_MAX_DIMS * 2];
    int n = 0;
    if (!sl__grad_const_ints(B, op, X(1), axes, SL_MAX_DIMS * 2, &n))
        return -1;
    for (int i = 0; i < sx->rank; i++)
        reduced[i] = false;
    for (int i = 0; i < n; i++) {
        int64_t a = axes[i] < 0 ? axes[i] + sx->rank : axes[i];
        if (a < 0 || a >= sx->rank) {
            sl_grad_ctx_fail(ctx, SL_INVALID_ARGUMENT, "node '%s' (%s): axis %lld out of range",
                             sl_node_name(op), sl_node_op_type(op), (long long)axes[i]);
            return -1;
        }
        reduced[a] = true;
    }
    return sx->rank;
}

/* The shape of x with reduced axes set to 1, and the Tile multiples that
 * undo the reduction (x's dims on reduced axes, 1 elsewhere).  rank -2:
 * computed at run time as TF's reduced_shape (DynamicStitch of the input
 * shape with ones at the axes). */
static void kept_shape(sl_grad_ctx *ctx, const sl_node *op, const bool *reduced, int rank,
                       sl_output *kept, sl_output *multiples)
{
    const sl_shape *sx = sl__b_static_shape(X(0));
    if (rank == -2) {
        sl_output shape = sl__b_shape(B, X(0));
        sl_output r = sl__b_size(B, shape);
        sl_output axes = sl__b_cast(B, X(1), SL_DTYPE_INT32);
        axes = BIN("FloorMod", BIN("AddV2", axes, r), r);
        sl_node_builder *nb = sl__b_begin(B, "Range");
        sl__b_in(B, nb, sl__b_scalar_i32(B, 0));
        sl__b_in(B, nb, r);
        sl__b_in(B, nb, sl__b_scalar_i32(B, 1));
        sl_output range = sl__b_end(B, nb);
        sl_output ones = BIN("Fill", sl__b_shape(B, axes), sl__b_scalar_i32(B, 1));
        nb = sl__b_begin(B, "DynamicStitch");
        if (nb) {
            sl_node_builder_add_input_list(nb, (sl_output[]){range, axes}, 2);
            sl_node_builder_add_input_list(nb, (sl_output[]){shape, ones}, 2);
        }
        *kept = sl__b_end(B, nb);
        if (multiples)
            *multiples = BIN("FloorDiv", shape, BIN("Maximum", *kept, sl__b_scalar_i32(B, 1)));
        return;
    }
    if (sl_shape_is_fully_defined(sx)) {
        int32_t k[SL_MAX_DIMS], m[SL_MAX_DIMS];
        for (int i = 0; i < rank; i++) {
            k[i] = reduced[i] ? 1 : (int32_t)sx->dims[i];
            m[i] = reduced[i] ? (int32_t)sx->dims[i] : 1;
        }
        *kept = sl__b_const_i32(B, k, rank);
        if (multiples)
            *multiples = sl__b_const_i32(B, m, rank);
        return;
    }
    /* kept = shape * keep + reduced; multiples = shape * reduced + keep */
    int32_t keep[SL_MAX_DIMS], red[SL_MAX_DIMS];
    for (int i = 0; i < rank; i++) {
        keep[i] = !reduced[i];
        red[i] = reduced[i];
    }
    sl_output shape = sl__b_shape(B, X(0));
    sl_output ck = sl__b_const_i32(B, keep, rank), cr = sl__b_const_i32(B, red, rank);
    *kept = BIN("AddV2", BIN("Mul", shape, ck), cr);
    if (multiples)
        *multiples = BIN("AddV2", BIN("Mul", shape, cr), ck);
}

static sl_output sum_backprop(sl_grad_ctx *ctx, const sl_node *op, sl_output g)
{
    bool reduced[SL_MAX_DIMS];
    int rank = reduced_axes(ctx, op, reduced);
    if (rank == -1)
        return SL_NO_OUTPUT;
    sl_output kept, mult;
    kept_shape(ctx, op, reduced, rank, &kept, &mult);
    bool any = rank == -2;
    for (int i = 0; i < rank; i++)
        any |= reduced[i];
    sl_output r = sl__b_reshape(B, g, kept);
    return any ? BIN("Tile", r, mult) : r;
}

static void sum_grad(sl_grad_ctx *ctx, const sl_node *op, const sl_output *dy, sl_output *dx)
{
    dx[0] = sum_backprop(ctx, op, dy[0]);
}

static void mean_grad(sl_grad_ctx *ctx, const sl_node *op, const sl_output *dy, sl_output *dx)
{
    sl_output s = sum_backprop(ctx, op, dy[0]);
    const sl_shape *sx = sl__b_static_shape(X(0)), *sy = sl__b_static_shape(Y(0));
    sl_output factor;
    if (sl_shape_is_fully_defined(sx) && sl_shape_is_fully_defined(sy)) {
        int64_t ny = sl_shape_num_elements(sy);
        factor = SC((double)sl_shape_num_elements(sx) / (double)(ny > 0 ? ny : 1), s);
    } else {
        sl_dtype t = sl__b_dtype(X(0));
        sl_output nx = sl__b_cast(B, sl__b_size(B, X(0)), t), nyo = sl__b_cast(B, sl__b_size(B, Y(0)), t);
        factor = BIN("RealDiv", nx, BIN("Maximum", nyo, SC(1.0, nyo)));
    }
    dx[0] = BIN("RealDiv", s, factor);
}

static void maxmin_reduce_grad(sl_grad_ctx *ctx, const sl_node *op, const sl_output *dy, sl_output *dx)
{
    /* the gradient is split evenly among the inputs equal to the extremum */
    bool reduced[SL_MAX_DIMS];
    int rank = reduced_axes(ctx, op, reduced);
    if (rank == -1)
        return;
    sl_output kept;
    kept_shape(ctx, op, reduced, rank, &kept, NULL);
    sl_output y = sl__b_reshape(B, Y(0), kept);
    sl_output g = sl__b_reshape(B, dy[0], kept);
    sl_output ind = sl__b_cast(B, BIN("Equal", y, X(0)), sl__b_dtype(X(0)));
    sl_output num = sl__b_reshape(B, sl__b_reduce(B, "Sum", ind, X(1), false), kept);
    dx[0] = BIN("Mul", BIN("RealDiv", ind, num), g);
}

static void prod_grad(sl_grad_ctx *ctx, const sl_node *op, const sl_output *dy, sl_output *dx)
{
    /* d prod / d x_i = prod / x_i: exact for inputs without zeros (TF's
     * cumprod form, which handles zeros, needs ops Sluice lacks) */
    bool reduced[SL_MAX_DIMS];
    int rank = reduced_axes(ctx, op, reduced);
    if (rank == -1)
        return;
    sl_output kept;
    kept_shape(ctx, op, reduced, rank, &kept, NULL);
    sl_output gy = BIN("Mul", sl__b_reshape(B, dy[0], kept), sl__b_reshape(B, Y(0), kept));
    dx[0] = BIN("RealDiv", gy, X(0));
}

/* ---- Select ------------------------------------------------------------ */

static sl_output select3(sl_grad_ctx *ctx, const char *type, sl_output c, sl_output t, sl_output e)
{
    sl_node_builder *nb = sl__b_begin(B, type);
    sl__b_in(B, nb, c);
    sl__b_in(B, nb, t);
    sl__b_in(B, nb, e);
    return sl__b_end(B, nb);
}

static void select_grad(sl_grad_ctx *ctx, const sl_node *op, const sl_output *dy, sl_output *dx)
{
    const char *type = sl_node_op_type(op);
    sl_output zeros = sl__b_zeros_like(B, dy[0]);
    sl_output gt = select3(ctx, type, X(0), dy[0], zeros);
    sl_output ge = select3(ctx, type, X(0), zeros, dy[0]);
    if (!strcmp(type, "Select")) {
        dx[1] = gt;
        dx[2] = ge;
        return;
    }
    /* SelectV2 broadcasts t and e against each other and the condition */
    sl_output d1, d2, unused;
    sl__grad_unbroadcast(B, X(1), Y(0), gt, SL_NO_OUTPUT, &d1, &unused);
    sl__grad_unbroadcast(B, X(2), Y(0), ge, SL_NO_OUTPUT, &d2, &unused);
    dx[1] = d1;
    dx[2] = d2;
}

static const sl_grad_entry math_grads[] = {
    {"Add", add_grad, 0},
    {"AddV2", add_grad, 0},
    {"Sub", sub_grad, 0},
    {"Mul", mul_grad, 0},
    {"RealDiv", div_grad, 0},
    {"Div", div_grad, 0},
    {"Maximum", maxmin_grad, 0},
    {"Minimum", maxmin_grad, 0},
    {"Pow", pow_grad, 0},
    {"SquaredDifference", squared_difference_grad, 0},
    {"Neg", neg_grad, 0},
    {"Square", square_grad, 0},
    {"Sqrt", sqrt_grad, 0},
    {"Rsqrt", rsqrt_grad, 0},
    {"Exp", exp_grad, 0},
    {"Log", log_grad, 0},
    {"Log1p", log1p_grad, 0},
    {"Reciprocal", reciprocal_grad, 0},
    {"Tanh", tanh_grad, 0},
    {"Sigmoid", sigmoid_grad, 0},
    {"Abs", abs_grad, 0},
    {"Sin", sin_grad, 0},
    {"Cos", cos_grad, 0},
    {"Cast", cast_grad, 0},
    {"AddN", add_n_grad, 0},
    {"MatMul", matmul_grad, 0},
    {"BatchMatMul", matmul_grad, 0},
    {"BatchMatMulV2", matmul_grad, 0},
    {"Sum", sum_grad, 0},
    {"Mean", mean_grad, 0},
    {"Max", maxmin_reduce_grad, 0},
    {"Min", maxmin_reduce_grad, 0},
    {"Prod", prod_grad, 0},
    {"Select", select_grad, 0},
    {"SelectV2", select_grad, 0},
    {"Identity", identity_grad, 0},
    {"Snapshot", identity_grad, 0},
    {"ReadVariableOp", identity_grad, 0},
    {"PlaceholderWithDefault", identity_grad, 0},
    /* no gradient flows through these */
    {"Floor", NULL, SL_GRAD_NOT_DIFFERENTIABLE},
    {"Ceil", NULL, SL_GRAD_NOT_DIFFERENTIABLE},
    {"Round", NULL, SL_GRAD_NOT_DIFFERENTIABLE},
    {"Sign", NULL, SL_GRAD_NOT_DIFFERENTIABLE},
    {"FloorDiv", NULL, SL_GRAD_NOT_DIFFERENTIABLE},
    {"FloorMod", NULL, SL_GRAD_NOT_DIFFERENTIABLE},
    {"Less", NULL, SL_GRAD_NOT_DIFFERENTIABLE},
    {"LessEqual", NULL, SL_GRAD_NOT_DIFFERENTIABLE},
    {"Greater", NULL, SL_GRAD_NOT_DIFFERENTIABLE},
    {"GreaterEqual", NULL, SL_GRAD_NOT_DIFFERENTIABLE},
    {"Equal", NULL, SL_GRAD_NOT_DIFFERENTIABLE},
    {"NotEqual", NULL, SL_GRAD_NOT_DIFFERENTIABLE},
    {"ArgMax", NULL, SL_GRAD_NOT_DIFFERENTIABLE},
    {"ArgMin", NULL, SL_GRAD_NOT_DIFFERENTIABLE},
    {"Range", NULL, SL_GRAD_NOT_DIFFERENTIABLE},
};

void sl__grads_register_math(void)
{
    sl__grad_register_table(math_grads, (int)(sizeof(math_grads) / sizeof(math_grads[0])));
}
