/* Array op definitions: constants and placeholders, reshaping, slicing,
 * joining and splitting, gathering, and their shape functions. */
#include "config.h"

#include <string.h>

#include "op-registry-private.h"
#include "shape-fns.h"
#include "sluice/graph.h"
#include "type-sets.h"

static sl_code const_shape(sl_shape_ctx *ctx)
{
    const sl_tensor *t;
    if (sl_node_attr_tensor(sl_shape_ctx_node(ctx), "value", &t)) {
        sl_dtype dt;
        if (sl_node_attr_type(sl_shape_ctx_node(ctx), "dtype", &dt) && dt != sl_tensor_dtype(t))
            return sl_shape_ctx_error(ctx, "value is %s but dtype is %s", sl_dtype_name(sl_tensor_dtype(t)),
                                      sl_dtype_name(dt));
        sl_shape_ctx_set_output(ctx, 0, sl_tensor_shape(t));
    }
    return SL_OK;
}

static sl_code shape_shape(sl_shape_ctx *ctx)
{
    const sl_shape *in = sl_shape_ctx_input(ctx, 0);
    sl_shape out = sl_shape_vector(in->rank >= 0 ? in->rank : SL_DIM_UNKNOWN);
    sl_shape_ctx_set_output(ctx, 0, &out);
    return SL_OK;
}

static sl_code reshape_shape(sl_shape_ctx *ctx)
{
    const sl_shape *in = sl_shape_ctx_input(ctx, 0);
    sl_shape target;
    if (sl_shape_ctx_input_as_shape(ctx, 1, &target) != SL_OK)
        return SL_INVALID_ARGUMENT;
    if (target.rank < 0)
        return SL_OK;
    int64_t known = 1;
    int unknown_at = -1, unknowns = 0;
    const sl_tensor *t = sl_shape_ctx_input_tensor(ctx, 1);
    for (int i = 0; i < target.rank; i++) {
        if (target.dims[i] < 0) {
            unknowns++;
            unknown_at = i;
        } else {
            known *= target.dims[i];
        }
    }
    if (t && unknowns > 1)
        return sl_shape_ctx_error(ctx, "shape has more than one -1 dimension");
    int64_t n = sl_shape_num_elements(in);
    if (t && n >= 0) {
        char a[SL_SHAPE_STRING_MAX];
        if (unknowns == 1) {
            if (known == 0 || n % known)
                return sl_shape_ctx_error(ctx, "cannot reshape a tensor of %lld elements (%s) into a shape with %lld known elements",
                                          (long long)n, sl_shape_to_string(in, a, sizeof(a)), (long long)known);
            target.dims[unknown_at] = n / known;
        } else if (known != n) {
            return sl_shape_ctx_error(ctx, "cannot reshape a tensor of %lld elements (%s) into one of %lld",
                                      (long long)n, sl_shape_to_string(in, a, sizeof(a)), (long long)known);
        }
    }
    sl_shape_ctx_set_output(ctx, 0, &target);
    return SL_OK;
}

static sl_code expand_dims_shape(sl_shape_ctx *ctx)
{
    const sl_shape *in = sl_shape_ctx_input(ctx, 0);
    const sl_tensor *dim = sl_shape_ctx_input_tensor(ctx, 1);
    if (in->rank < 0 || !dim)
        return SL_OK;
    if (in->rank >= SL_MAX_DIMS)
        return sl_shape_ctx_error(ctx, "rank %d is already the most Sluice supports", in->rank);
    int a = 0;
    if (sl__shape_axis(ctx, sl__tensor_int_at(dim, 0), in->rank + 1, &a) != SL_OK)
        return SL_INVALID_ARGUMENT;
    sl_shape out = {.rank = in->rank + 1};
    for (int i = 0, j = 0; i < out.rank; i++)
        out.dims[i] = i == a ? 1 : in->dims[j++];
    sl_shape_ctx_set_output(ctx, 0, &out);
    return SL_OK;
}

static sl_code squeeze_shape(sl_shape_ctx *ctx)
{
    const sl_shape *in = sl_shape_ctx_input(ctx, 0);
    if (in->rank < 0)
        return SL_OK;
    const int64_t *dims = NULL;
    int nd = 0;
    sl_node_attr_int_list(sl_shape_ctx_node(ctx), "squeeze_dims", &dims, &nd);
    bool drop[SL_MAX_DIMS] = {false};
    for (int k = 0; k < nd; k++) {
        int a = 0;
        if (sl__shape_axis(ctx, dims[k], in->rank, &a) != SL_OK)
            return SL_INVALID_ARGUMENT;
        if (in->dims[a] > 1)
            return sl_shape_ctx_error(ctx, "cannot squeeze dimension %d of size %lld", a, (long long)in->dims[a]);
        drop[a] = true;
    }
    sl_shape out = {.rank = 0};
    for (int i = 0; i < in->rank; i++) {
        if (nd ? drop[i] : in->dims[i] == 1)
            continue;
        if (!nd && in->dims[i] < 0)
            return SL_OK;  /* unknown dims may or may not be squeezed */
        out.dims[out.rank++] = in->dims[i];
    }
    sl_shape_ctx_set_output(ctx, 0, &out);
    return SL_OK;
}

static sl_code transpose_shape(sl_shape_ctx *ctx)
{
    const sl_shape *in = sl_shape_ctx_input(ctx, 0);
    const sl_tensor *perm = sl_shape_ctx_input_tensor(ctx, 1);
    if (!perm) {
        if (in->rank >= 0) {
            sl_shape out = {.rank = in->rank};
            for (int i = 0; i < in->rank; i++)
                out.dims[i] = SL_DIM_UNKNOWN;
            sl_shape_ctx_set_output(ctx, 0, &out);
        }
        return SL_OK;
    }
    int64_t n = sl_tensor_num_elements(perm);
    if (in->rank >= 0 && n != in->rank)
        return sl_shape_ctx_error(ctx, "perm has %lld entries for a tensor of rank %d", (long long)n, in->rank);
    if (n > SL_MAX_DIMS)
        return sl_shape_ctx_error(ctx, "perm has %lld entries", (long long)n);
    sl_shape out = {.rank = (int)n};
    bool seen[SL_MAX_DIMS] = {false};
    for (int i = 0; i < n; i++) {
        int64_t p = sl__tensor_int_at(perm, i);
        if (p < 0 || p >= n || seen[p])
            return sl_shape_ctx_error(ctx, "perm is not a permutation of 0..%lld", (long long)n - 1);
        seen[p] = true;
        out.dims[i] = in->rank >= 0 ? in->dims[p] : SL_DIM_UNKNOWN;
    }
    sl_shape_ctx_set_output(ctx, 0, &out);
    return SL_OK;
}

/* Shared by ConcatV2 (axis last) and Concat (axis first). */
static sl_code concat_common(sl_shape_ctx *ctx, int first_value, int num_values, int axis_input)
{
    const sl_tensor *axis_t = sl_shape_ctx_input_tensor(ctx, axis_input);
    int rank = -1;
    for (int i = 0; i < num_values; i++) {
        const sl_shape *s = sl_shape_ctx_input(ctx, first_value + i);
        if (s->rank >= 0) {
            if (rank >= 0 && s->rank != rank)
                return sl_shape_ctx_error(ctx, "values have different ranks (%d and %d)", rank, s->rank);
            rank = s->rank;
        }
    }
    if (rank < 0)
        return SL_OK;
    sl_shape out = {.rank = rank};
    if (!axis_t) {
        for (int i = 0; i < rank; i++)
            out.dims[i] = SL_DIM_UNKNOWN;
        sl_shape_ctx_set_output(ctx, 0, &out);
        return SL_OK;
    }
    int axis = 0;
    if (sl__shape_axis(ctx, sl__tensor_int_at(axis_t, 0), rank, &axis) != SL_OK)
        return SL_INVALID_ARGUMENT;
    for (int d = 0; d < rank; d++) {
        int64_t v = d == axis ? 0 : SL_DIM_UNKNOWN;
        for (int i = 0; i < num_values; i++) {
            const sl_shape *s = sl_shape_ctx_input(ctx, first_value + i);
            int64_t x = s->rank >= 0 ? s->dims[d] : SL_DIM_UNKNOWN;
            if (d == axis) {
                v = (v < 0 || x < 0) ? SL_DIM_UNKNOWN : v + x;
            } else if (x >= 0) {
                if (v >= 0 && v != x)
                    return sl_shape_ctx_error(ctx, "dimension %d differs between values (%lld vs %lld)", d,
                                              (long long)v, (long long)x);
                v = x;
            }
        }
        out.dims[d] = v;
    }
    sl_shape_ctx_set_output(ctx, 0, &out);
    return SL_OK;
}

static sl_code concat_v2_shape(sl_shape_ctx *ctx)
{
    int n = sl_shape_ctx_num_inputs(ctx) - 1;
    return concat_common(ctx, 0, n, n);
}

static sl_code concat_shape(sl_shape_ctx *ctx)
{
    return concat_common(ctx, 1, sl_shape_ctx_num_inputs(ctx) - 1, 0);
}

static sl_code pack_shape(sl_shape_ctx *ctx)
{
    sl_shape acc = *sl_shape_ctx_input(ctx, 0);
    sl_status *st = sl_status_new();
    for (int i = 1; i < sl_shape_ctx_num_inputs(ctx); i++) {
        if (sl_shape_merge(&acc, sl_shape_ctx_input(ctx, i), &acc, st) != SL_OK) {
            sl_shape_ctx_error(ctx, "value %d: %s", i, sl_status_message(st));
            sl_status_free(st);
            return SL_INVALID_ARGUMENT;
        }
    }
    sl_status_free(st);
    if (acc.rank < 0)
        return SL_OK;
    if (acc.rank >= SL_MAX_DIMS)
        return sl_shape_ctx_error(ctx, "rank %d is already the most Sluice supports", acc.rank);
    int64_t axis = 0;
    sl_node_attr_int(sl_shape_ctx_node(ctx), "axis", &axis);
    int a = 0;
    if (sl__shape_axis(ctx, axis, acc.rank + 1, &a) != SL_OK)
        return SL_INVALID_ARGUMENT;
    sl_shape out = {.rank = acc.rank + 1};
    for (int i = 0, j = 0; i < out.rank; i++)
        out.dims[i] = i == a ? sl_shape_ctx_num_inputs(ctx) : acc.dims[j++];
    sl_shape_ctx_set_output(ctx, 0, &out);
    return SL_OK;
}

static sl_code unpack_shape(sl_shape_ctx *ctx)
{
    const sl_shape *in = sl_shape_ctx_input(ctx, 0);
    if (in->rank < 0)
        return SL_OK;
    int64_t axis = 0, num = 0;
    sl_node_attr_int(sl_shape_ctx_node(ctx), "axis", &axis);
    sl_node_attr_int(sl_shape_ctx_node(ctx), "num", &num);
    int a = 0;
    if (sl__shape_axis(ctx, axis, in->rank, &a) != SL_OK)
        return SL_INVALID_ARGUMENT;
    if (in->dims[a] >= 0 && in->dims[a] != num)
        return sl_shape_ctx_error(ctx, "dimension %d has %lld entries but num is %lld", a,
                                  (long long)in->dims[a], (long long)num);
    sl_shape out = {.rank = 0};
    for (int i = 0; i < in->rank; i++)
        if (i != a)
            out.dims[out.rank++] = in->dims[i];
    for (int i = 0; i < sl_shape_ctx_num_outputs(ctx); i++)
        sl_shape_ctx_set_output(ctx, i, &out);
    return SL_OK;
}

static sl_code split_shape(sl_shape_ctx *ctx)
{
    const sl_shape *in = sl_shape_ctx_input(ctx, 1);
    const sl_tensor *dim = sl_shape_ctx_input_tensor(ctx, 0);
    int n = sl_shape_ctx_num_outputs(ctx);
    if (in->rank < 0)
        return SL_OK;
    sl_shape out = *in;
    if (!dim) {
        for (int i = 0; i < out.rank; i++)
            out.dims[i] = SL_DIM_UNKNOWN;
    } else {
        int a = 0;
        if (sl__shape_axis(ctx, sl__tensor_int_at(dim, 0), in->rank, &a) != SL_OK)
            return SL_INVALID_ARGUMENT;
        if (in->dims[a] >= 0 && in->dims[a] % n)
            return sl_shape_ctx_error(ctx, "dimension %d of size %lld does not split into %d equal parts", a,
                                      (long long)in->dims[a], n);
        out.dims[a] = in->dims[a] >= 0 ? in->dims[a] / n : SL_DIM_UNKNOWN;
    }
    for (int i = 0; i < n; i++)
        sl_shape_ctx_set_output(ctx, i, &out);
    return SL_OK;
}

static sl_code tile_shape(sl_shape_ctx *ctx)
{
    const sl_shape *in = sl_shape_ctx_input(ctx, 0);
    const sl_tensor *m = sl_shape_ctx_input_tensor(ctx, 1);
    if (in->rank < 0)
        return SL_OK;
    sl_shape out = *in;
    if (m && sl_tensor_num_elements(m) != in->rank)
        return sl_shape_ctx_error(ctx, "multiples has %lld entries for an input of rank %d",
                                  (long long)sl_tensor_num_elements(m), in->rank);
    for (int i = 0; i < in->rank; i++)
        out.dims[i] = m && in->dims[i] >= 0 ? in->dims[i] * sl__tensor_int_at(m, i) : SL_DIM_UNKNOWN;
    sl_shape_ctx_set_output(ctx, 0, &out);
    return SL_OK;
}

static sl_code slice_shape(sl_shape_ctx *ctx)
{
    const sl_shape *in = sl_shape_ctx_input(ctx, 0);
    const sl_tensor *begin = sl_shape_ctx_input_tensor(ctx, 1), *size = sl_shape_ctx_input_tensor(ctx, 2);
    sl_shape sz;
    if (sl_shape_ctx_input_as_shape(ctx, 2, &sz) != SL_OK)
        return SL_INVALID_ARGUMENT;
    if (sz.rank < 0)
        return SL_OK;
    if (in->rank >= 0 && sz.rank != in->rank)
        return sl_shape_ctx_error(ctx, "size has %d entries for an input of rank %d", sz.rank, in->rank);
    for (int i = 0; i < sz.rank && size; i++) {
        int64_t s = sl__tensor_int_at(size, i);
        if (s == -1)  /* to the end */
            sz.dims[i] = begin && in->rank >= 0 && in->dims[i] >= 0 ? in->dims[i] - sl__tensor_int_at(begin, i)
                                                                     : SL_DIM_UNKNOWN;
    }
    sl_shape_ctx_set_output(ctx, 0, &sz);
    return SL_OK;
}

/* StridedSlice with constant begin/end/strides: TF's masks resolved the
 * same way its kernel resolves them, for known input dims. */
static sl_code strided_slice_shape(sl_shape_ctx *ctx)
{
    const sl_node *n = sl_shape_ctx_node(ctx);
    const sl_shape *in = sl_shape_ctx_input(ctx, 0);
    const sl_tensor *b = sl_shape_ctx_input_tensor(ctx, 1), *e = sl_shape_ctx_input_tensor(ctx, 2),
                    *s = sl_shape_ctx_input_tensor(ctx, 3);
    int64_t bm = 0, em = 0, elm = 0, nam = 0, sam = 0;
    sl_node_attr_int(n, "begin_mask", &bm);
    sl_node_attr_int(n, "end_mask", &em);
    sl_node_attr_int(n, "ellipsis_mask", &elm);
    sl_node_attr_int(n, "new_axis_mask", &nam);
    sl_node_attr_int(n, "shrink_axis_mask", &sam);
    if (in->rank < 0 || !b || !e || !s || elm)
        return SL_OK;
    int64_t ns = sl_tensor_num_elements(b);
    sl_shape out = {.rank = 0};
    int dim = 0;
    for (int64_t k = 0; k < ns; k++) {
        if (nam & (1LL << k)) {
            if (out.rank >= SL_MAX_DIMS)
                return sl_shape_ctx_error(ctx, "result has more than %d dimensions", SL_MAX_DIMS);
            out.dims[out.rank++] = 1;
            continue;
        }
        if (dim >= in->rank)
            return sl_shape_ctx_error(ctx, "slice spec has more entries than the input's rank %d", in->rank);
        int64_t size = in->dims[dim], stride = sl__tensor_int_at(s, k);
        if (stride == 0)
            return sl_shape_ctx_error(ctx, "stride %lld is zero", (long long)k);
        int64_t lo = sl__tensor_int_at(b, k), hi = sl__tensor_int_at(e, k);
        if (sam & (1LL << k)) {
            if (size >= 0 && (lo < -size || lo >= size))
                return sl_shape_ctx_error(ctx, "index %lld is out of bounds for dimension %d of size %lld",
                                          (long long)lo, dim, (long long)size);
            dim++;
            continue;
        }
        if (size < 0) {
            out.dims[out.rank++] = SL_DIM_UNKNOWN;
            dim++;
            continue;
        }
        /* clamp like TF: negative indices count from the end */
        int64_t first = stride > 0 ? 0 : -1, last = stride > 0 ? size : size - 1;
        if (bm & (1LL << k))
            lo = stride > 0 ? first : last;
        else {
            if (lo < 0)
                lo += size;
            lo = lo < first ? first : lo > last ? last : lo;
        }
        if (em & (1LL << k))
            hi = stride > 0 ? last : first;
        else {
            if (hi < 0)
                hi += size;
            hi = hi < first ? first : hi > last ? last : hi;
        }
        int64_t len = stride > 0 ? (hi - lo + stride - 1) / stride : (lo - hi - stride - 1) / -stride;
        out.dims[out.rank++] = len > 0 ? len : 0;
        dim++;
    }
    for (; dim < in->rank; dim++) {
        if (out.rank >= SL_MAX_DIMS)
            return sl_shape_ctx_error(ctx, "result has more than %d dimensions", SL_MAX_DIMS);
        out.dims[out.rank++] = in->dims[dim];
    }
    sl_shape_ctx_set_output(ctx, 0, &out);
    return SL_OK;
}

static sl_code gather_shape(sl_shape_ctx *ctx)
{
    const sl_shape *params = sl_shape_ctx_input(ctx, 0), *idx = sl_shape_ctx_input(ctx, 1);
    int64_t axis = 0;
    if (sl_shape_ctx_num_inputs(ctx) > 2) {
        const sl_tensor *a = sl_shape_ctx_input_tensor(ctx, 2);
        if (!a)
            return SL_OK;
        axis = sl__tensor_int_at(a, 0);
    }
    if (params->rank < 0 || idx->rank < 0)
        return SL_OK;
    if (params->rank == 0)
        return sl_shape_ctx_error(ctx, "params must be at least a vector");
    int ax = 0;
    if (sl__shape_axis(ctx, axis, params->rank, &ax) != SL_OK)
        return SL_INVALID_ARGUMENT;
    if (params->rank - 1 + idx->rank > SL_MAX_DIMS)
        return sl_shape_ctx_error(ctx, "result has more than %d dimensions", SL_MAX_DIMS);
    sl_shape out = {.rank = 0};
    for (int i = 0; i < ax; i++)
        out.dims[out.rank++] = params->dims[i];
    for (int i = 0; i < idx->rank; i++)
        out.dims[out.rank++] = idx->dims[i];
    for (int i = ax + 1; i < params->rank; i++)
        out.dims[out.rank++] = params->dims[i];
    sl_shape_ctx_set_output(ctx, 0, &out);
    return SL_OK;
}

static sl_code pad_shape(sl_shape_ctx *ctx)
{
    const sl_shape *in = sl_shape_ctx_input(ctx, 0);
    const sl_tensor *p = sl_shape_ctx_input_tensor(ctx, 1);
    if (in->rank < 0)
        return SL_OK;
    sl_shape out = *in;
    if (p && sl_tensor_num_elements(p) != 2 * in->rank)
        return sl_shape_ctx_error(ctx, "paddings must be [%d, 2]", in->rank);
    for (int i = 0; i < in->rank; i++)
        out.dims[i] = p && in->dims[i] >= 0
                          ? in->dims[i] + sl__tensor_int_at(p, 2 * i) + sl__tensor_int_at(p, 2 * i + 1)
                          : SL_DIM_UNKNOWN;
    sl_shape_ctx_set_output(ctx, 0, &out);
    return SL_OK;
}

static sl_code one_hot_shape(sl_shape_ctx *ctx)
{
    const sl_shape *idx = sl_shape_ctx_input(ctx, 0);
    const sl_tensor *depth = sl_shape_ctx_input_tensor(ctx, 1);
    int64_t axis = -1;
    sl_node_attr_int(sl_shape_ctx_node(ctx), "axis", &axis);
    if (idx->rank < 0)
        return SL_OK;
    if (idx->rank >= SL_MAX_DIMS)
        return sl_shape_ctx_error(ctx, "indices have rank %d, the most Sluice supports", idx->rank);
    int a = axis < 0 ? idx->rank : (int)axis;
    if (a > idx->rank)
        return sl_shape_ctx_error(ctx, "axis %lld is out of range", (long long)axis);
    sl_shape out = {.rank = idx->rank + 1};
    for (int i = 0, j = 0; i < out.rank; i++)
        out.dims[i] = i == a ? (depth ? sl__tensor_int_at(depth, 0) : SL_DIM_UNKNOWN) : idx->dims[j++];
    sl_shape_ctx_set_output(ctx, 0, &out);
    return SL_OK;
}

static sl_code vector_unknown_shape(sl_shape_ctx *ctx)
{
    sl_shape v = sl_shape_vector(SL_DIM_UNKNOWN);
    for (int i = 0; i < sl_shape_ctx_num_outputs(ctx); i++)
        sl_shape_ctx_set_output(ctx, i, &v);
    return SL_OK;
}

static sl_code placeholder_with_default_shape(sl_shape_ctx *ctx)
{
    sl_shape s;
    if (sl_node_attr_shape(sl_shape_ctx_node(ctx), "shape", &s)) {
        if (!sl_shape_is_compatible(&s, sl_shape_ctx_input(ctx, 0))) {
            char a[SL_SHAPE_STRING_MAX], b[SL_SHAPE_STRING_MAX];
            return sl_shape_ctx_error(ctx, "default value of shape %s does not fit shape %s",
                                      sl_shape_to_string(sl_shape_ctx_input(ctx, 0), a, sizeof(a)),
                                      sl_shape_to_string(&s, b, sizeof(b)));
        }
        sl_shape_ctx_set_output(ctx, 0, &s);
    }
    return SL_OK;
}

static const sl_op_spec array_ops[] = {
    {.name = "Const", .outputs = {"output: dtype"}, .attrs = {"value: tensor", "dtype: type"},
     .shape_fn = const_shape, .summary = "a constant tensor"},
    {.name = "Placeholder", .outputs = {"output: dtype"}, .attrs = {"dtype: type", "shape: shape = <unknown>"},
     .shape_fn = sl__shape_from_shape_attr, .summary = "a value fed at run time"},
    {.name = "PlaceholderWithDefault", .inputs = {"input: dtype"}, .outputs = {"output: dtype"},
     .attrs = {"dtype: type", "shape: shape"}, .shape_fn = placeholder_with_default_shape,
     .summary = "input unless a value is fed"},
    {.name = "Identity", .inputs = {"input: T"}, .outputs = {"output: T"}, .attrs = {"T: type"},
     .shape_fn = sl__shape_unchanged, .summary = "its input, unchanged"},
    {.name = "IdentityN", .inputs = {"input: T"}, .outputs = {"output: T"}, .attrs = {"T: list(type) >= 1"},
     .summary = "its inputs, unchanged"},
    {.name = "StopGradient", .inputs = {"input: T"}, .outputs = {"output: T"}, .attrs = {"T: type"},
     .shape_fn = sl__shape_unchanged, .summary = "identity that blocks gradients"},
    {.name = "PreventGradient", .inputs = {"input: T"}, .outputs = {"output: T"},
     .attrs = {"T: type", "message: string = ''"}, .shape_fn = sl__shape_unchanged,
     .summary = "identity whose gradient is an error"},
    {.name = "Reshape", .inputs = {"tensor: T", "shape: Tshape"}, .outputs = {"output: T"},
     .attrs = {"T: type", "Tshape: {int32, int64} = DT_INT32"}, .shape_fn = reshape_shape,
     .summary = "the same elements in another shape"},
    {.name = "Shape", .inputs = {"input: T"}, .outputs = {"output: out_type"},
     .attrs = {"T: type", "out_type: {int32, int64} = DT_INT32"}, .shape_fn = shape_shape,
     .summary = "the shape of a tensor"},
    {.name = "Size", .inputs = {"input: T"}, .outputs = {"output: out_type"},
     .attrs = {"T: type", "out_type: {int32, int64} = DT_INT32"}, .shape_fn = sl__shape_scalar,
     .summary = "the number of elements"},
    {.name = "Rank", .inputs = {"input: T"}, .outputs = {"output: int32"}, .attrs = {"T: type"},
     .shape_fn = sl__shape_scalar, .summary = "the number of dimensions"},
    {.name = "ExpandDims", .inputs = {"input: T", "dim: Tdim"}, .outputs = {"output: T"},
     .attrs = {"T: type", "Tdim: {int32, int64} = DT_INT32"}, .shape_fn = expand_dims_shape,
     .summary = "inserts a dimension of size 1"},
    {.name = "Squeeze", .inputs = {"input: T"}, .outputs = {"output: T"},
     .attrs = {"T: type", "squeeze_dims: list(int) >= 0 = []"}, .shape_fn = squeeze_shape,
     .summary = "removes dimensions of size 1"},
    {.name = "Transpose", .inputs = {"x: T", "perm: Tperm"}, .outputs = {"y: T"},
     .attrs = {"T: type", "Tperm: {int32, int64} = DT_INT32"}, .shape_fn = transpose_shape,
     .summary = "permutes dimensions"},
    {.name = "ConcatV2", .inputs = {"values: N * T", "axis: Tidx"}, .outputs = {"output: T"},
     .attrs = {"N: int >= 2", "T: type", "Tidx: {int32, int64} = DT_INT32"}, .shape_fn = concat_v2_shape,
     .summary = "joins tensors along an axis"},
    {.name = "Concat", .inputs = {"concat_dim: int32", "values: N * T"}, .outputs = {"output: T"},
     .attrs = {"N: int >= 2", "T: type"}, .shape_fn = concat_shape,
     .summary = "joins tensors along an axis (axis first)"},
    {.name = "Split", .inputs = {"split_dim: int32", "value: T"}, .outputs = {"output: num_split * T"},
     .attrs = {"num_split: int >= 1", "T: type"}, .shape_fn = split_shape,
     .summary = "splits into equal parts along an axis"},
    {.name = "SplitV", .inputs = {"value: T", "size_splits: Tlen", "split_dim: int32"},
     .outputs = {"output: num_split * T"},
     .attrs = {"num_split: int >= 1", "T: type", "Tlen: {int8, int32, int64} = DT_INT64"},
     .summary = "splits into parts of given sizes"},
    {.name = "Slice", .inputs = {"input: T", "begin: Index", "size: Index"}, .outputs = {"output: T"},
     .attrs = {"T: type", "Index: {int32, int64}"}, .shape_fn = slice_shape,
     .summary = "a contiguous slice"},
    {.name = "StridedSlice", .inputs = {"input: T", "begin: Index", "end: Index", "strides: Index"},
     .outputs = {"output: T"},
     .attrs = {"T: type", "Index: {int16, int32, int64}", "begin_mask: int = 0", "end_mask: int = 0",
               "ellipsis_mask: int = 0", "new_axis_mask: int = 0", "shrink_axis_mask: int = 0"},
     .shape_fn = strided_slice_shape, .summary = "Python-style slicing"},
    {.name = "Gather", .inputs = {"params: Tparams", "indices: Tindices"}, .outputs = {"output: Tparams"},
     .attrs = {"validate_indices: bool = true", "Tparams: type", "Tindices: {int32, int64}"},
     .shape_fn = gather_shape, .summary = "rows of params at indices"},
    {.name = "GatherV2", .inputs = {"params: Tparams", "indices: Tindices", "axis: Taxis"},
     .outputs = {"output: Tparams"},
     .attrs = {"batch_dims: int = 0", "Tparams: type", "Tindices: {int16, int32, int64}",
               "Taxis: {int32, int64}"},
     .shape_fn = gather_shape, .summary = "slices of params at indices along an axis"},
    {.name = "Pack", .inputs = {"values: N * T"}, .outputs = {"output: T"},
     .attrs = {"N: int >= 1", "T: type", "axis: int = 0"}, .shape_fn = pack_shape,
     .summary = "stacks N tensors into one of rank + 1"},
    {.name = "Unpack", .inputs = {"value: T"}, .outputs = {"output: num * T"},
     .attrs = {"num: int >= 0", "T: type", "axis: int = 0"}, .shape_fn = unpack_shape,
     .summary = "unstacks a tensor along an axis"},
    {.name = "Tile", .inputs = {"input: T", "multiples: Tmultiples"}, .outputs = {"output: T"},
     .attrs = {"T: type", "Tmultiples: {int32, int64} = DT_INT32"}, .shape_fn = tile_shape,
     .summary = "repeats a tensor"},
    {.name = "Pad", .inputs = {"input: T", "paddings: Tpaddings"}, .outputs = {"output: T"},
     .attrs = {"T: type", "Tpaddings: {int32, int64} = DT_INT32"}, .shape_fn = pad_shape,
     .summary = "pads with zeros"},
    {.name = "Fill", .inputs = {"dims: index_type", "value: T"}, .outputs = {"output: T"},
     .attrs = {"T: type", "index_type: {int32, int64} = DT_INT32"}, .shape_fn = sl__shape_from_input0_value,
     .summary = "a tensor filled with a scalar"},
    {.name = "ZerosLike", .inputs = {"x: T"}, .outputs = {"y: T"}, .attrs = {"T: type"},
     .shape_fn = sl__shape_unchanged, .summary = "zeros of the same shape"},
    {.name = "OnesLike", .inputs = {"x: T"}, .outputs = {"y: T"}, .attrs = {"T: type"},
     .shape_fn = sl__shape_unchanged, .summary = "ones of the same shape"},
    {.name = "OneHot", .inputs = {"indices: TI", "depth: int32", "on_value: T", "off_value: T"},
     .outputs = {"output: T"},
     .attrs = {"axis: int = -1", "T: type", "TI: {uint8, int8, int32, int64} = DT_INT64"},
     .shape_fn = one_hot_shape, .summary = "one-hot encoding of indices"},
    {.name = "BroadcastGradientArgs", .inputs = {"s0: T", "s1: T"}, .outputs = {"r0: T", "r1: T"},
     .attrs = {"T: {int32, int64} = DT_INT32"}, .shape_fn = vector_unknown_shape,
     .summary = "reduction axes for the gradients of a broadcast"},
    {.name = "StridedSliceGrad",
     .inputs = {"shape: Index", "begin: Index", "end: Index", "strides: Index", "dy: T"},
     .outputs = {"output: T"},
     .attrs = {"T: type", "Index: {int32, int64}", "begin_mask: int = 0", "end_mask: int = 0",
               "ellipsis_mask: int = 0", "new_axis_mask: int = 0", "shrink_axis_mask: int = 0"},
     .shape_fn = sl__shape_from_input0_value,
     .summary = "gradient of StridedSlice: dy scattered into zeros of the input's shape"},
    {.name = "DynamicStitch", .inputs = {"indices: N * int32", "data: N * T"}, .outputs = {"merged: T"},
     .attrs = {"N: int >= 1", "T: type"}, .summary = "interleaves data by indices"},
};

void sl__ops_register_array(void);
void sl__ops_register_array(void)
{
    sl__op_register_table(array_ops, SL_COUNTOF(array_ops));
}
