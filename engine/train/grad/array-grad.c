/* Gradients of the array ops: reshaping, transposing, concatenation and
 * splitting, slicing, gathering, packing, tiling and padding; and the
 * array ops through which no gradient flows (shapes, constants, one-hot). */
#include "config.h"

#include <string.h>

#include "grad-private.h"

#define B sl__grad_b(ctx)
#define X(i) sl__grad_in(op, i)
#define Y(i) sl__grad_out(op, i)
#define UN(o, a) sl__b_unary(B, o, a)
#define BIN(o, a, c) sl__b_binary(B, o, a, c)

static sl_output int32_of(sl_grad_ctx *ctx, sl_output x)
{
    return sl__b_cast(B, x, SL_DTYPE_INT32);
}

static sl_output slice(sl_grad_ctx *ctx, sl_output x, sl_output begin, sl_output size)
{
    sl_node_builder *nb = sl__b_begin(B, "Slice");
    sl__b_in(B, nb, x);
    sl__b_in(B, nb, begin);
    sl__b_in(B, nb, size);
    return sl__b_end(B, nb);
}

static sl_output pack(sl_grad_ctx *ctx, const sl_output *v, int n, int64_t axis)
{
    sl_node_builder *nb = sl__b_begin(B, "Pack");
    if (nb) {
        sl_node_builder_add_input_list(nb, v, n);
        sl_node_builder_set_attr_int(nb, "axis", axis);
    }
    return sl__b_end(B, nb);
}

static sl_output concat(sl_grad_ctx *ctx, const sl_output *v, int n, sl_output axis)
{
    if (n == 1)
        return v[0];
    sl_node_builder *nb = sl__b_begin(B, "ConcatV2");
    if (nb)
        sl_node_builder_add_input_list(nb, v, n);
    sl__b_in(B, nb, axis);
    return sl__b_end(B, nb);
}

static int known_rank(sl_grad_ctx *ctx, const sl_node *op, sl_output x)
{
    int r = sl__b_static_shape(x)->rank;
    if (r < 0)
        sl_grad_ctx_fail(ctx, SL_UNIMPLEMENTED, "node '%s' (%s): gradient needs an input of known rank",
                         sl_node_name(op), sl_node_op_type(op));
    return r;
}

static void reshape_grad(sl_grad_ctx *ctx, const sl_node *op, const sl_output *dy, sl_output *dx)
{
    dx[0] = sl__b_reshape(B, dy[0], sl__b_shape(B, X(0)));
}

static void identity_n_grad(sl_grad_ctx *ctx, const sl_node *op, const sl_output *dy, sl_output *dx)
{
    (void)ctx;
    for (int i = 0; i < sl_node_num_inputs(op); i++)
        dx[i] = dy[i];
}

static void transpose_grad(sl_grad_ctx *ctx, const sl_node *op, const sl_output *dy, sl_output *dx)
{
    int64_t perm[SL_MAX_DIMS];
    int n = 0;
    if (!sl__grad_const_ints(B, op, X(1), perm, SL_MAX_DIMS, &n))
        return;
    int32_t inv[SL_MAX_DIMS];
    for (int i = 0; i < n; i++) {
        if (perm[i] < 0 || perm[i] >= n) {
            sl_grad_ctx_fail(ctx, SL_INVALID_ARGUMENT, "node '%s' (Transpose): bad permutation",
                             sl_node_name(op));
            return;
        }
        inv[perm[i]] = i;
    }
    dx[0] = BIN("Transpose", dy[0], sl__b_const_i32(B, inv, n));
}

static void concat_grad(sl_grad_ctx *ctx, const sl_node *op, const sl_output *dy, sl_output *dx)
{
    bool v1 = !strcmp(sl_node_op_type(op), "Concat");
    int nv = sl_node_num_inputs(op) - 1, first = v1 ? 1 : 0;
    sl_output axis_in = X(v1 ? 0 : nv);
    int rank = known_rank(ctx, op, X(first));
    int64_t axis;
    int na = 0;
    if (rank < 0 || !sl__grad_const_ints(B, op, axis_in, &axis, 1, &na))
        return;
    if (axis < 0)
        axis += rank;
    if (axis < 0 || axis >= rank) {
        sl_grad_ctx_fail(ctx, SL_INVALID_ARGUMENT, "node '%s': axis out of range", sl_node_name(op));
        return;
    }
    /* each input's slice begins at the sum of the sizes before it on the axis */
    int32_t mask[SL_MAX_DIMS] = {0}, off[SL_MAX_DIMS] = {0};
    mask[axis] = 1;
    bool known = true;
    for (int i = 0; i < nv; i++)
        known &= sl_shape_is_fully_defined(sl__b_static_shape(X(first + i)));
    sl_output offset = sl__b_const_i32(B, off, rank), cmask = known ? SL_NO_OUTPUT : sl__b_const_i32(B, mask, rank);
    for (int i = 0; i < nv; i++) {
        sl_output x = X(first + i), size = sl__b_shape(B, x);
        dx[first + i] = slice(ctx, dy[0], offset, size);
        if (i == nv - 1)
            break;
        if (known) {
            off[axis] += (int32_t)sl__b_static_shape(x)->dims[axis];
            offset = sl__b_const_i32(B, off, rank);
        } else {
            offset = BIN("AddV2", offset, BIN("Mul", size, cmask));
        }
    }
}

static void split_grad(sl_grad_ctx *ctx, const sl_node *op, const sl_output *dy, sl_output *dx)
{
    bool v = !strcmp(sl_node_op_type(op), "SplitV");
    int n = sl_node_num_outputs(op);
    dx[v ? 0 : 1] = concat(ctx, dy, n, X(v ? 2 : 0));
}

static void slice_grad(sl_grad_ctx *ctx, const sl_node *op, const sl_output *dy, sl_output *dx)
{
    /* pad the gradient back: before = begin, after = shape(x) - begin - shape(y) */
    sl_output begin = int32_of(ctx, X(1));
    sl_output after = BIN("Sub", BIN("Sub", sl__b_shape(B, X(0)), begin), sl__b_shape(B, Y(0)));
    sl_output pads[2] = {begin, after};
    dx[0] = BIN("Pad", dy[0], pack(ctx, pads, 2, 1));
}

static void strided_slice_grad(sl_grad_ctx *ctx, const sl_node *op, const sl_output *dy, sl_output *dx)
{
    sl_dtype index = sl__b_dtype(X(1));
    sl_node_builder *nb = sl__b_begin(B, "StridedSliceGrad");
    sl__b_in(B, nb, sl__b_cast(B, sl__b_shape(B, X(0)), index));
    sl__b_in(B, nb, X(1));
    sl__b_in(B, nb, X(2));
    sl__b_in(B, nb, X(3));
    sl__b_in(B, nb, dy[0]);
    static const char *const masks[] = {"begin_mask", "end_mask", "ellipsis_mask", "new_axis_mask",
                                        "shrink_axis_mask"};
    for (int i = 0; nb && i < 5; i++) {
        int64_t m = 0;
        sl_node_attr_int(op, masks[i], &m);
        sl_node_builder_set_attr_int(nb, masks[i], m);
    }
    dx[0] = sl__b_end(B, nb);
}

static void gather_grad(sl_grad_ctx *ctx, const sl_node *op, const sl_output *dy, sl_output *dx)
{
    bool v2 = !strcmp(sl_node_op_type(op), "GatherV2");
    if (v2) {
        int64_t axis = 0, bd = 0;
        int n = 0;
        if (!sl__grad_const_ints(B, op, X(2), &axis, 1, &n))
            return;
        sl_node_attr_int(op, "batch_dims", &bd);
        if (axis != 0 || bd != 0) {
            sl_grad_ctx_fail(ctx, SL_UNIMPLEMENTED,
                             "node '%s' (GatherV2): gradient only for axis 0 without batch_dims",
                             sl_node_name(op));
            return;
        }
    }
    /* dparams = UnsortedSegmentSum(g as [n, params.shape[1:]], indices as [n], params.shape[0]) */
    sl_output params = X(0);
    const sl_shape *sp = sl__b_static_shape(params);
    int rank = known_rank(ctx, op, params);
    if (rank < 1)
        return;
    sl_output idx = sl__b_reshape(B, X(1), sl__b_const_i32(B, (const int32_t[]){-1}, 1));
    sl_output vshape, nseg;
    bool inner_known = true;
    for (int i = 1; i < rank; i++)
        inner_known &= sp->dims[i] >= 0;
    if (inner_known) {
        int32_t s[SL_MAX_DIMS];
        s[0] = -1;
        for (int i = 1; i < rank; i++)
            s[i] = (int32_t)sp->dims[i];
        vshape = sl__b_const_i32(B, s, rank);
    } else {
        sl_output shp = sl__b_shape(B, params);
        sl_output inner = slice(ctx, shp, sl__b_const_i32(B, (const int32_t[]){1}, 1),
                                sl__b_const_i32(B, (const int32_t[]){-1}, 1));
        sl_output parts[2] = {sl__b_const_i32(B, (const int32_t[]){-1}, 1), inner};
        vshape = concat(ctx, parts, 2, sl__b_scalar_i32(B, 0));
    }
    if (sp->dims[0] >= 0) {
        nseg = sl__b_scalar_i32(B, (int32_t)sp->dims[0]);
    } else {
        sl_output first = slice(ctx, sl__b_shape(B, params), sl__b_const_i32(B, (const int32_t[]){0}, 1),
                                sl__b_const_i32(B, (const int32_t[]){1}, 1));
        nseg = sl__b_reshape(B, first, sl__b_const_i32(B, NULL, 0));
    }
    sl_node_builder *nb = sl__b_begin(B, "UnsortedSegmentSum");
    sl__b_in(B, nb, sl__b_reshape(B, dy[0], vshape));
    sl__b_in(B, nb, idx);
    sl__b_in(B, nb, nseg);
    dx[0] = sl__b_end(B, nb);
}

static void pack_grad(sl_grad_ctx *ctx, const sl_node *op, const sl_output *dy, sl_output *dx)
{
    int n = sl_node_num_inputs(op);
    int64_t axis = 0;
    sl_node_attr_int(op, "axis", &axis);
    sl_node_builder *nb = sl__b_begin(B, "Unpack");
    sl__b_in(B, nb, dy[0]);
    if (nb) {
        sl_node_builder_set_attr_int(nb, "num", n);
        sl_node_builder_set_attr_int(nb, "axis", axis);
    }
    sl_node *u = sl__b_end_node(B, nb);
    for (int i = 0; u && i < n; i++)
        dx[i] = (sl_output){u, i};
}

static void unpack_grad(sl_grad_ctx *ctx, const sl_node *op, const sl_output *dy, sl_output *dx)
{
    int64_t axis = 0;
    sl_node_attr_int(op, "axis", &axis);
    dx[0] = pack(ctx, dy, sl_node_num_outputs(op), axis);
}

static void tile_grad(sl_grad_ctx *ctx, const sl_node *op, const sl_output *dy, sl_output *dx)
{
    /* view the gradient as [m0, d0, m1, d1, ...] and sum over the m axes */
    int rank = known_rank(ctx, op, X(0));
    if (rank < 0)
        return;
    if (rank == 0) {
        dx[0] = dy[0];
        return;
    }
    sl_output pair[2] = {int32_of(ctx, X(1)), sl__b_shape(B, X(0))};
    sl_output split = sl__b_reshape(B, pack(ctx, pair, 2, 1), sl__b_const_i32(B, (const int32_t[]){-1}, 1));
    int32_t axes[SL_MAX_DIMS];
    for (int i = 0; i < rank; i++)
        axes[i] = 2 * i;
    dx[0] = sl__b_reduce(B, "Sum", sl__b_reshape(B, dy[0], split), sl__b_const_i32(B, axes, rank), false);
}

static void pad_grad(sl_grad_ctx *ctx, const sl_node *op, const sl_output *dy, sl_output *dx)
{
    int rank = known_rank(ctx, op, X(0));
    if (rank < 0)
        return;
    int32_t size[2] = {rank, 1};
    sl_output before = slice(ctx, int32_of(ctx, X(1)), sl__b_const_i32(B, (const int32_t[]){0, 0}, 2),
                             sl__b_const_i32(B, size, 2));
    before = sl__b_reshape(B, before, sl__b_const_i32(B, (const int32_t[]){-1}, 1));
    dx[0] = slice(ctx, dy[0], before, sl__b_shape(B, X(0)));
}

static void fill_grad(sl_grad_ctx *ctx, const sl_node *op, const sl_output *dy, sl_output *dx)
{
    int rank = known_rank(ctx, op, Y(0));
    if (rank < 0)
        return;
    int32_t axes[SL_MAX_DIMS];
    for (int i = 0; i < rank; i++)
        axes[i] = i;
    dx[1] = sl__b_reduce(B, "Sum", dy[0], sl__b_const_i32(B, axes, rank), false);
}

static const sl_grad_entry array_grads[] = {
    {"Reshape", reshape_grad, 0},
    {"ExpandDims", reshape_grad, 0},
    {"Squeeze", reshape_grad, 0},
    {"IdentityN", identity_n_grad, 0},
    {"Transpose", transpose_grad, 0},
    {"ConcatV2", concat_grad, 0},
    {"Concat", concat_grad, 0},
    {"Split", split_grad, 0},
    {"SplitV", split_grad, 0},
    {"Slice", slice_grad, 0},
    {"StridedSlice", strided_slice_grad, 0},
    {"Gather", gather_grad, 0},
    {"GatherV2", gather_grad, 0},
    {"Pack", pack_grad, 0},
    {"Unpack", unpack_grad, 0},
    {"Tile", tile_grad, 0},
    {"Pad", pad_grad, 0},
    {"Fill", fill_grad, 0},
    {"Shape", NULL, SL_GRAD_NOT_DIFFERENTIABLE},
    {"Size", NULL, SL_GRAD_NOT_DIFFERENTIABLE},
    {"Rank", NULL, SL_GRAD_NOT_DIFFERENTIABLE},
    {"ZerosLike", NULL, SL_GRAD_NOT_DIFFERENTIABLE},
    {"OnesLike", NULL, SL_GRAD_NOT_DIFFERENTIABLE},
    {"OneHot", NULL, SL_GRAD_NOT_DIFFERENTIABLE},
    {"BroadcastGradientArgs", NULL, SL_GRAD_NOT_DIFFERENTIABLE},
    {"Const", NULL, SL_GRAD_NOT_DIFFERENTIABLE},
    {"Placeholder", NULL, SL_GRAD_NOT_DIFFERENTIABLE},
    {"StopGradient", NULL, SL_GRAD_NOT_DIFFERENTIABLE},
};

void sl__grads_register_array(void)
{
    sl__grad_register_table(array_grads, (int)(sizeof(array_grads) / sizeof(array_grads[0])));
}
