/* Math op definitions: elementwise unary and binary ops with NumPy
 * broadcasting, comparisons, MatMul, reductions, Cast and Range. */
#include "config.h"

#include <string.h>

#include "op-registry-private.h"
#include "shape-fns.h"
#include "sluice/graph.h"
#include "type-sets.h"

#define UNARY(op, types, doc)                                                                   \
    {.name = op, .inputs = {"x: T"}, .outputs = {"y: T"}, .attrs = {"T: " types},               \
     .shape_fn = sl__shape_unchanged, .summary = doc}
#define BINARY(op, types, doc, fl)                                                              \
    {.name = op, .inputs = {"x: T", "y: T"}, .outputs = {"z: T"}, .attrs = {"T: " types},       \
     .shape_fn = sl__shape_broadcast_binary, .flags = fl, .summary = doc}
#define COMPARE(op, types, doc)                                                                 \
    {.name = op, .inputs = {"x: T", "y: T"}, .outputs = {"z: bool"}, .attrs = {"T: " types},    \
     .shape_fn = sl__shape_broadcast_binary, .summary = doc}
#define REDUCE(op, types, doc)                                                                  \
    {.name = op, .inputs = {"input: T", "reduction_indices: Tidx"}, .outputs = {"output: T"},   \
     .attrs = {"keep_dims: bool = false", "T: " types, "Tidx: {int32, int64} = DT_INT32"},      \
     .shape_fn = sl__shape_reduction, .summary = doc}

static sl_code matmul_shape(sl_shape_ctx *ctx)
{
    const sl_node *n = sl_shape_ctx_node(ctx);
    bool ta = false, tb = false;
    sl_node_attr_bool(n, "transpose_a", &ta);
    sl_node_attr_bool(n, "transpose_b", &tb);
    if (sl__shape_require_rank(ctx, 0, 2) || sl__shape_require_rank(ctx, 1, 2))
        return SL_INVALID_ARGUMENT;
    const sl_shape *a = sl_shape_ctx_input(ctx, 0), *b = sl_shape_ctx_input(ctx, 1);
    int64_t m = a->rank == 2 ? a->dims[ta ? 1 : 0] : -1, ka = a->rank == 2 ? a->dims[ta ? 0 : 1] : -1;
    int64_t kb = b->rank == 2 ? b->dims[tb ? 1 : 0] : -1, nn = b->rank == 2 ? b->dims[tb ? 0 : 1] : -1;
    if (ka >= 0 && kb >= 0 && ka != kb)
        return sl_shape_ctx_error(ctx, "inner dimensions differ: %lld vs %lld (a is %lldx%lld%s, b is %lldx%lld%s)",
                                  (long long)ka, (long long)kb, (long long)a->dims[0], (long long)a->dims[1],
                                  ta ? " transposed" : "", (long long)b->dims[0], (long long)b->dims[1],
                                  tb ? " transposed" : "");
    sl_shape out = sl_shape_matrix(m, nn);
    sl_shape_ctx_set_output(ctx, 0, &out);
    return SL_OK;
}

static sl_code batch_matmul_shape(sl_shape_ctx *ctx)
{
    const sl_node *n = sl_shape_ctx_node(ctx);
    bool ta = false, tb = false;
    sl_node_attr_bool(n, "adj_x", &ta);
    sl_node_attr_bool(n, "adj_y", &tb);
    const sl_shape *a = sl_shape_ctx_input(ctx, 0), *b = sl_shape_ctx_input(ctx, 1);
    if (a->rank < 0 || b->rank < 0)
        return SL_OK;
    if (a->rank < 2 || b->rank < 2)
        return sl_shape_ctx_error(ctx, "inputs must have rank >= 2, got %d and %d", a->rank, b->rank);
    sl_shape ba = sl_shape_make(a->rank - 2, a->dims), bb = sl_shape_make(b->rank - 2, b->dims), out;
    sl_status *st = sl_status_new();
    sl_code c = sl_shape_broadcast(&ba, &bb, &out, st);
    if (c != SL_OK) {
        sl_shape_ctx_error(ctx, "batch dimensions: %s", sl_status_message(st));
        sl_status_free(st);
        return c;
    }
    sl_status_free(st);
    int64_t ka = a->dims[a->rank - (ta ? 2 : 1)], kb = b->dims[b->rank - (tb ? 1 : 2)];
    if (ka >= 0 && kb >= 0 && ka != kb)
        return sl_shape_ctx_error(ctx, "inner dimensions differ: %lld vs %lld", (long long)ka, (long long)kb);
    out.dims[out.rank++] = a->dims[a->rank - (ta ? 1 : 2)];
    out.dims[out.rank++] = b->dims[b->rank - (tb ? 2 : 1)];
    sl_shape_ctx_set_output(ctx, 0, &out);
    return SL_OK;
}

static sl_code arg_reduce_shape(sl_shape_ctx *ctx)
{
    const sl_shape *in = sl_shape_ctx_input(ctx, 0);
    const sl_tensor *axis = sl_shape_ctx_input_tensor(ctx, 1);
    if (in->rank < 0 || !axis)
        return SL_OK;
    int a = 0;
    if (sl__shape_axis(ctx, sl__tensor_int_at(axis, 0), in->rank, &a) != SL_OK)
        return SL_INVALID_ARGUMENT;
    sl_shape out = {.rank = 0};
    for (int i = 0; i < in->rank; i++)
        if (i != a)
            out.dims[out.rank++] = in->dims[i];
    sl_shape_ctx_set_output(ctx, 0, &out);
    return SL_OK;
}

static sl_code range_shape(sl_shape_ctx *ctx)
{
    const sl_tensor *s = sl_shape_ctx_input_tensor(ctx, 0), *l = sl_shape_ctx_input_tensor(ctx, 1),
                    *d = sl_shape_ctx_input_tensor(ctx, 2);
    int64_t n = SL_DIM_UNKNOWN;
    if (s && l && d && sl_tensor_dtype(s) == SL_DTYPE_INT32) {
        int64_t a = sl__tensor_int_at(s, 0), b = sl__tensor_int_at(l, 0), c = sl__tensor_int_at(d, 0);
        if (c == 0)
            return sl_shape_ctx_error(ctx, "delta must not be zero");
        n = c > 0 ? (b > a ? (b - a + c - 1) / c : 0) : (a > b ? (a - b - c - 1) / -c : 0);
    }
    sl_shape out = sl_shape_vector(n);
    sl_shape_ctx_set_output(ctx, 0, &out);
    return SL_OK;
}

static sl_code select_shape(sl_shape_ctx *ctx)
{
    /* SelectV2 broadcasts all three; Select needs t and e equal */
    sl_shape te, out;
    sl_status *st = sl_status_new();
    sl_code c = sl_shape_broadcast(sl_shape_ctx_input(ctx, 1), sl_shape_ctx_input(ctx, 2), &te, st);
    if (c == SL_OK)
        c = sl_shape_broadcast(sl_shape_ctx_input(ctx, 0), &te, &out, st);
    if (c != SL_OK) {
        sl_shape_ctx_error(ctx, "%s", sl_status_message(st));
        sl_status_free(st);
        return c;
    }
    sl_status_free(st);
    if (!strcmp(sl_node_op_type(sl_shape_ctx_node(ctx)), "Select"))
        out = te;
    sl_shape_ctx_set_output(ctx, 0, &out);
    return SL_OK;
}

static sl_code add_n_shape(sl_shape_ctx *ctx)
{
    sl_shape acc = *sl_shape_ctx_input(ctx, 0);
    sl_status *st = sl_status_new();
    for (int i = 1; i < sl_shape_ctx_num_inputs(ctx); i++) {
        if (sl_shape_merge(&acc, sl_shape_ctx_input(ctx, i), &acc, st) != SL_OK) {
            sl_shape_ctx_error(ctx, "input %d: %s", i, sl_status_message(st));
            sl_status_free(st);
            return SL_INVALID_ARGUMENT;
        }
    }
    sl_status_free(st);
    sl_shape_ctx_set_output(ctx, 0, &acc);
    return SL_OK;
}

static sl_code segment_sum_shape(sl_shape_ctx *ctx)
{
    /* [num_segments] + data.shape[rank(segment_ids):] */
    const sl_shape *data = sl_shape_ctx_input(ctx, 0), *ids = sl_shape_ctx_input(ctx, 1);
    const sl_tensor *num = sl_shape_ctx_input_tensor(ctx, 2);
    if (data->rank < 0 || ids->rank < 0)
        return SL_OK;
    if (ids->rank > data->rank)
        return sl_shape_ctx_error(ctx, "segment_ids has rank %d but data only %d", ids->rank, data->rank);
    sl_shape out = {.rank = 1 + data->rank - ids->rank};
    out.dims[0] = num ? sl__tensor_int_at(num, 0) : SL_DIM_UNKNOWN;
    for (int i = ids->rank; i < data->rank; i++)
        out.dims[1 + i - ids->rank] = data->dims[i];
    sl_shape_ctx_set_output(ctx, 0, &out);
    return SL_OK;
}

static const sl_op_spec math_ops[] = {
    BINARY("Add", SL_BINARY_TYPES, "x + y with broadcasting", SL_OP_COMMUTATIVE),
    BINARY("AddV2", SL_BINARY_TYPES, "x + y with broadcasting", SL_OP_COMMUTATIVE),
    BINARY("Sub", SL_BINARY_TYPES, "x - y with broadcasting", 0),
    BINARY("Mul", SL_BINARY_TYPES, "x * y with broadcasting", SL_OP_COMMUTATIVE),
    BINARY("Div", SL_BINARY_TYPES, "x / y (integer division truncates toward zero, as TF's kernel does)", 0),
    BINARY("RealDiv", SL_BINARY_TYPES, "x / y for real types", 0),
    BINARY("FloorDiv", SL_BINARY_TYPES, "floor(x / y)", 0),
    BINARY("FloorMod", SL_REAL_NUMBER_TYPES, "x mod y, sign of y", 0),
    BINARY("Maximum", SL_REAL_NUMBER_TYPES, "max(x, y) with broadcasting", SL_OP_COMMUTATIVE),
    BINARY("Minimum", SL_REAL_NUMBER_TYPES, "min(x, y) with broadcasting", SL_OP_COMMUTATIVE),
    BINARY("Pow", SL_SIGNED_NUMBER_TYPES, "x ** y", 0),
    BINARY("SquaredDifference", SL_SIGNED_NUMBER_TYPES, "(x - y)^2", SL_OP_COMMUTATIVE),
    {.name = "AddN", .inputs = {"inputs: N * T"}, .outputs = {"sum: T"},
     .attrs = {"N: int >= 1", "T: " SL_NUMBER_TYPES}, .shape_fn = add_n_shape, .flags = SL_OP_COMMUTATIVE,
     .summary = "sum of N tensors of the same shape"},
    UNARY("Neg", SL_SIGNED_NUMBER_TYPES, "-x"),
    UNARY("Abs", "{bfloat16, half, float, double, int8, int16, int32, int64}", "|x|"),
    UNARY("Exp", SL_UNARY_FLOAT_COMPLEX, "e^x"),
    UNARY("Log", SL_UNARY_FLOAT_COMPLEX, "natural logarithm"),
    UNARY("Log1p", SL_UNARY_FLOAT_COMPLEX, "log(1 + x)"),
    UNARY("Sqrt", SL_UNARY_FLOAT_COMPLEX, "square root"),
    UNARY("Rsqrt", SL_UNARY_FLOAT_COMPLEX, "1 / sqrt(x)"),
    UNARY("Square", SL_SIGNED_NUMBER_TYPES, "x * x"),
    UNARY("Reciprocal", SL_SIGNED_NUMBER_TYPES, "1 / x"),
    UNARY("Tanh", SL_UNARY_FLOAT_COMPLEX, "hyperbolic tangent"),
    UNARY("Sigmoid", SL_UNARY_FLOAT_COMPLEX, "1 / (1 + e^-x)"),
    UNARY("Sign", SL_SIGNED_NUMBER_TYPES, "-1, 0 or 1"),
    UNARY("Floor", SL_FLOAT_TYPES, "largest integer not greater than x"),
    UNARY("Ceil", SL_FLOAT_TYPES, "smallest integer not less than x"),
    UNARY("Round", SL_SIGNED_NUMBER_TYPES, "round half to even"),
    UNARY("Sin", SL_UNARY_FLOAT_COMPLEX, "sine"),
    UNARY("Cos", SL_UNARY_FLOAT_COMPLEX, "cosine"),
    COMPARE("Less", SL_REAL_NUMBER_TYPES, "x < y"),
    COMPARE("LessEqual", SL_REAL_NUMBER_TYPES, "x <= y"),
    COMPARE("Greater", SL_REAL_NUMBER_TYPES, "x > y"),
    COMPARE("GreaterEqual", SL_REAL_NUMBER_TYPES, "x >= y"),
    {.name = "Equal", .inputs = {"x: T", "y: T"}, .outputs = {"z: bool"},
     .attrs = {"T: {bfloat16, half, float, double, uint8, int8, int16, int32, int64, uint16, uint32, uint64, complex64, complex128, string, bool}",
               "incompatible_shape_error: bool = true"},
     .shape_fn = sl__shape_broadcast_binary, .flags = SL_OP_COMMUTATIVE, .summary = "x == y"},
    {.name = "NotEqual", .inputs = {"x: T", "y: T"}, .outputs = {"z: bool"},
     .attrs = {"T: {bfloat16, half, float, double, uint8, int8, int16, int32, int64, uint16, uint32, uint64, complex64, complex128, string, bool}",
               "incompatible_shape_error: bool = true"},
     .shape_fn = sl__shape_broadcast_binary, .flags = SL_OP_COMMUTATIVE, .summary = "x != y"},
    {.name = "LogicalAnd", .inputs = {"x: bool", "y: bool"}, .outputs = {"z: bool"},
     .shape_fn = sl__shape_broadcast_binary, .flags = SL_OP_COMMUTATIVE, .summary = "x && y"},
    {.name = "LogicalOr", .inputs = {"x: bool", "y: bool"}, .outputs = {"z: bool"},
     .shape_fn = sl__shape_broadcast_binary, .flags = SL_OP_COMMUTATIVE, .summary = "x || y"},
    {.name = "LogicalNot", .inputs = {"x: bool"}, .outputs = {"y: bool"},
     .shape_fn = sl__shape_unchanged, .summary = "!x"},
    {.name = "Select", .inputs = {"condition: bool", "t: T", "e: T"}, .outputs = {"output: T"},
     .attrs = {"T: type"}, .shape_fn = select_shape, .summary = "condition ? t : e (TF1 rules)"},
    {.name = "SelectV2", .inputs = {"condition: bool", "t: T", "e: T"}, .outputs = {"output: T"},
     .attrs = {"T: type"}, .shape_fn = select_shape, .summary = "condition ? t : e with broadcasting"},
    {.name = "Cast", .inputs = {"x: SrcT"}, .outputs = {"y: DstT"},
     .attrs = {"SrcT: type", "DstT: type", "Truncate: bool = false"},
     .shape_fn = sl__shape_unchanged, .summary = "converts x to DstT"},
    {.name = "MatMul", .inputs = {"a: T", "b: T"}, .outputs = {"product: T"},
     .attrs = {"transpose_a: bool = false", "transpose_b: bool = false",
               "T: {bfloat16, half, float, double, int32, int64, complex64, complex128}",
               "grad_a: bool = false", "grad_b: bool = false"},
     .shape_fn = matmul_shape, .summary = "matrix product of a and b"},
    {.name = "_FusedMatMul", .inputs = {"a: T", "b: T", "bias: T"}, .outputs = {"product: T"},
     .attrs = {"transpose_a: bool = false", "transpose_b: bool = false", "T: {float, double}",
               "relu: bool = false"},
     .shape_fn = matmul_shape,
     .summary = "MatMul, BiasAdd and optionally Relu in one pass (made by the runtime's fusion pass)"},
    {.name = "BatchMatMul", .inputs = {"x: T", "y: T"}, .outputs = {"output: T"},
     .attrs = {"T: {bfloat16, half, float, double, int32, int64, complex64, complex128}",
               "adj_x: bool = false", "adj_y: bool = false"},
     .shape_fn = batch_matmul_shape, .summary = "batched matrix product"},
    {.name = "BatchMatMulV2", .inputs = {"x: T", "y: T"}, .outputs = {"output: T"},
     .attrs = {"T: {bfloat16, half, float, double, int16, int32, int64, complex64, complex128}",
               "adj_x: bool = false", "adj_y: bool = false", "grad_x: bool = false", "grad_y: bool = false"},
     .shape_fn = batch_matmul_shape, .summary = "batched matrix product with broadcasting"},
    REDUCE("Sum", SL_NUMBER_TYPES, "sum over axes"),
    REDUCE("Mean", SL_NUMBER_TYPES, "mean over axes"),
    REDUCE("Prod", SL_NUMBER_TYPES, "product over axes"),
    REDUCE("Max", SL_REAL_NUMBER_TYPES, "maximum over axes"),
    REDUCE("Min", SL_REAL_NUMBER_TYPES, "minimum over axes"),
    {.name = "UnsortedSegmentSum", .inputs = {"data: T", "segment_ids: Tindices", "num_segments: Tnumsegments"},
     .outputs = {"output: T"},
     .attrs = {"T: " SL_NUMBER_TYPES, "Tindices: {int16, int32, int64}",
               "Tnumsegments: {int32, int64} = DT_INT32"},
     .shape_fn = segment_sum_shape, .summary = "sums of data over segment ids (the gradient of Gather)"},
    {.name = "All", .inputs = {"input: bool", "reduction_indices: Tidx"}, .outputs = {"output: bool"},
     .attrs = {"keep_dims: bool = false", "Tidx: {int32, int64} = DT_INT32"},
     .shape_fn = sl__shape_reduction, .summary = "logical and over axes"},
    {.name = "Any", .inputs = {"input: bool", "reduction_indices: Tidx"}, .outputs = {"output: bool"},
     .attrs = {"keep_dims: bool = false", "Tidx: {int32, int64} = DT_INT32"},
     .shape_fn = sl__shape_reduction, .summary = "logical or over axes"},
    {.name = "ArgMax", .inputs = {"input: T", "dimension: Tidx"}, .outputs = {"output: output_type"},
     .attrs = {"T: " SL_NUMBER_TYPES ,"Tidx: {int16, int32, int64} = DT_INT32",
               "output_type: {int16, uint16, int32, int64} = DT_INT64"},
     .shape_fn = arg_reduce_shape, .summary = "index of the largest value along an axis"},
    {.name = "ArgMin", .inputs = {"input: T", "dimension: Tidx"}, .outputs = {"output: output_type"},
     .attrs = {"T: " SL_NUMBER_TYPES, "Tidx: {int16, int32, int64} = DT_INT32",
               "output_type: {int16, uint16, int32, int64} = DT_INT64"},
     .shape_fn = arg_reduce_shape, .summary = "index of the smallest value along an axis"},
    {.name = "Range", .inputs = {"start: Tidx", "limit: Tidx", "delta: Tidx"}, .outputs = {"output: Tidx"},
     .attrs = {"Tidx: {bfloat16, half, float, double, int8, int16, int32, int64, uint16, uint32} = DT_INT32"},
     .shape_fn = range_shape, .summary = "[start, limit) in steps of delta"},
};

void sl__ops_register_math(void);
void sl__ops_register_math(void)
{
    sl__op_register_table(math_ops, SL_COUNTOF(math_ops));
}
