/* Array kernels that join, split and index: ConcatV2, Concat, Split,
 * SplitV, Pack, Unpack, Gather, GatherV2, DynamicStitch and OneHot.
 *
 * Joining and splitting along an axis see every tensor as [outer, width]
 * rows of bytes, where width covers the axis and everything after it;
 * each output (or input) row is then a sequence of memcpys, and rows are
 * spread over the pool.  Pack and Unpack are the same with an axis of
 * size one per piece.  Gather checks every index first and fails with the
 * index, its position and the bound when one is out of range.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "cpu-kernels.h"
#include "sluice/alloc.h"

/* ---- Row joins and splits ------------------------------------------------------ */

typedef struct rows_job {
    int n;                 /* pieces */
    const char **src;      /* join: piece bases; split: NULL */
    char **dst;            /* split: piece bases; join: NULL */
    const size_t *width;   /* bytes per row of each piece */
    char *whole;           /* the joined tensor (const when splitting) */
    size_t whole_width;    /* bytes per row of the joined tensor */
} rows_job;

static void rows_shard(void *arg, int64_t begin, int64_t end)
{
    const rows_job *j = arg;
    for (int64_t r = begin; r < end; r++) {
        char *w = j->whole + (size_t)r * j->whole_width;
        for (int i = 0; i < j->n; i++) {
            size_t wd = j->width[i];
            if (j->src)
                memcpy(w, j->src[i] + (size_t)r * wd, wd);
            else
                memcpy(j->dst[i] + (size_t)r * wd, w, wd);
            w += wd;
        }
    }
}

/* Scratch for n pieces: pointers and widths in one allocation. */
typedef struct pieces {
    const char **src;
    char **dst;
    size_t *width;
} pieces;

static bool pieces_alloc(sl_kernel_ctx *ctx, int n, pieces *p)
{
    void *mem = sl_calloc((size_t)n + 1, sizeof(char *) * 2 + sizeof(size_t));
    if (!mem) {
        sl_kernel_ctx_fail(ctx, SL_RESOURCE_EXHAUSTED, "out of memory for %d pieces", n);
        return false;
    }
    p->src = mem;
    p->dst = (char **)(p->src + n + 1);
    p->width = (size_t *)(p->dst + n + 1);
    return true;
}

static void pieces_free(pieces *p)
{
    sl_free((void *)p->src);
}

/* Joins values along axis into output 0 (ConcatV2, Concat, Pack). */
static void concat_common(sl_kernel_ctx *ctx, const sl_tensor *const *values, int n, int64_t axis_value,
                          bool pack)
{
    const sl_shape *s0 = sl_tensor_shape(values[0]);
    int rank = pack ? s0->rank + 1 : s0->rank;
    if (pack && rank > SL_MAX_DIMS) {
        sl_kernel_ctx_fail(ctx, SL_INVALID_ARGUMENT, "result would have more than %d dimensions", SL_MAX_DIMS);
        return;
    }
    int axis;
    if (!sl__k_axis(ctx, axis_value, rank, "axis", &axis))
        return;
    sl_shape os = {.rank = rank};
    for (int d = 0, k = 0; d < rank; d++)
        os.dims[d] = pack && d == axis ? n : s0->dims[k++];
    if (!pack)
        os.dims[axis] = 0;
    for (int i = 0; i < n; i++) {
        const sl_shape *s = sl_tensor_shape(values[i]);
        bool ok = s->rank == s0->rank;
        for (int d = 0; ok && d < s->rank; d++)
            ok = (!pack && d == axis) || s->dims[d] == s0->dims[d];
        if (!ok) {
            if (pack)
                sl_kernel_ctx_fail(ctx, SL_INVALID_ARGUMENT, "shapes of all inputs must match: values[0] is %s, values[%d] is %s",
                                   sl__k_shape_str(s0, 0), i, sl__k_shape_str(s, 1));
            else
                sl_kernel_ctx_fail(ctx, SL_INVALID_ARGUMENT,
                                   "dimensions of inputs should match except on axis %d: values[0] is %s, values[%d] is %s",
                                   axis, sl__k_shape_str(s0, 0), i, sl__k_shape_str(s, 1));
            return;
        }
        if (!pack)
            os.dims[axis] += s->dims[axis];
    }
    sl_tensor *o = sl__k_out(ctx, 0, &os);
    if (!o || sl_tensor_num_elements(o) == 0)
        return;
    size_t esz = sl_dtype_size(sl_tensor_dtype(values[0]));
    int64_t outer = 1;
    for (int d = 0; d < axis; d++)
        outer *= os.dims[d];
    pieces p;
    if (!pieces_alloc(ctx, n, &p))
        return;
    size_t total = 0;
    for (int i = 0; i < n; i++) {
        int64_t e = sl_tensor_num_elements(values[i]);
        p.src[i] = sl_tensor_data(values[i]);
        p.width[i] = outer ? (size_t)(e / outer) * esz : 0;
        total += p.width[i];
    }
    rows_job j = {n, p.src, NULL, p.width, sl_tensor_data(o), total};
    sl__k_parallel(ctx, outer, (int64_t)total / 4 + 8, rows_shard, &j);
    pieces_free(&p);
}

static bool scalar_axis(sl_kernel_ctx *ctx, const sl_tensor *t, int64_t *axis)
{
    if (!sl__k_check_int_vector(ctx, t, "axis"))
        return false;
    if (sl_tensor_num_elements(t) != 1) {
        sl_kernel_ctx_fail(ctx, SL_INVALID_ARGUMENT, "axis must be a scalar, got %s",
                           sl__k_shape_str(sl_tensor_shape(t), 0));
        return false;
    }
    *axis = sl__k_int_at(t, 0);
    return true;
}

/* Inputs first..first+n as an array the caller frees; NULL (ctx failed) on OOM. */
static const sl_tensor **input_array(sl_kernel_ctx *ctx, int first, int n)
{
    const sl_tensor **vals = sl_calloc((size_t)n + 1, sizeof(*vals));
    if (!vals) {
        sl_kernel_ctx_fail(ctx, SL_RESOURCE_EXHAUSTED, "out of memory joining %d values", n);
        return NULL;
    }
    for (int i = 0; i < n; i++)
        vals[i] = sl_kernel_ctx_input(ctx, first + i);
    return vals;
}

static void concat_compute(sl_kernel_ctx *ctx)
{
    bool v2 = !strcmp(sl_node_op_type(sl_kernel_ctx_node(ctx)), "ConcatV2");
    int n = sl_kernel_ctx_num_inputs(ctx) - 1;
    int64_t axis;
    if (!scalar_axis(ctx, sl_kernel_ctx_input(ctx, v2 ? n : 0), &axis))
        return;
    const sl_tensor **vals = input_array(ctx, v2 ? 0 : 1, n);
    if (!vals)
        return;
    concat_common(ctx, vals, n, axis, false);
    sl_free(vals);
}

static void pack_compute(sl_kernel_ctx *ctx)
{
    int64_t axis = 0;
    sl_node_attr_int(sl_kernel_ctx_node(ctx), "axis", &axis);
    int n = sl_kernel_ctx_num_inputs(ctx);
    const sl_tensor **vals = input_array(ctx, 0, n);
    if (!vals)
        return;
    concat_common(ctx, vals, n, axis, true);
    sl_free(vals);
}

/* Splits x along axis into outputs of the given sizes (Split, SplitV, Unpack). */
static void split_common(sl_kernel_ctx *ctx, const sl_tensor *x, int axis, const int64_t *sizes, int n, bool unpack)
{
    const sl_shape *in = sl_tensor_shape(x);
    size_t esz = sl_dtype_size(sl_tensor_dtype(x));
    int64_t outer = 1, inner = 1;
    for (int d = 0; d < in->rank; d++) {
        if (d < axis)
            outer *= in->dims[d];
        else if (d > axis)
            inner *= in->dims[d];
    }
    pieces p;
    if (!pieces_alloc(ctx, n, &p))
        return;
    for (int i = 0; i < n; i++) {
        sl_shape os = *in;
        if (unpack) {
            for (int d = axis; d + 1 < in->rank; d++)
                os.dims[d] = in->dims[d + 1];
            os.rank--;
        } else {
            os.dims[axis] = sizes[i];
        }
        sl_tensor *o = sl__k_out(ctx, i, &os);
        if (!o)
            goto out;
        p.dst[i] = sl_tensor_data(o);
        p.width[i] = (size_t)(sizes[i] * inner) * esz;
    }
    if (sl_tensor_num_elements(x) > 0) {
        rows_job j = {n, NULL, p.dst, p.width, sl_tensor_data(x), (size_t)(in->dims[axis] * inner) * esz};
        sl__k_parallel(ctx, outer, (int64_t)j.whole_width / 4 + 8, rows_shard, &j);
    }
out:
    pieces_free(&p);
}

static void split_compute(sl_kernel_ctx *ctx)
{
    const sl_tensor *x = sl_kernel_ctx_input(ctx, 1);
    int n = sl_kernel_ctx_num_outputs(ctx);
    int64_t av;
    int axis;
    if (!scalar_axis(ctx, sl_kernel_ctx_input(ctx, 0), &av) || !sl__k_axis(ctx, av, sl_tensor_rank(x), "split_dim", &axis))
        return;
    int64_t dim = sl_tensor_dim(x, axis);
    if (dim % n) {
        sl_kernel_ctx_fail(ctx, SL_INVALID_ARGUMENT, "number of ways to split should evenly divide the split dimension, but got split_dim %d (size = %lld) and num_split %d",
                           axis, (long long)dim, n);
        return;
    }
    int64_t *sizes = sl_malloc(sizeof(int64_t) * (size_t)n);
    if (!sizes) {
        sl_kernel_ctx_fail(ctx, SL_RESOURCE_EXHAUSTED, "out of memory splitting into %d", n);
        return;
    }
    for (int i = 0; i < n; i++)
        sizes[i] = dim / n;
    split_common(ctx, x, axis, sizes, n, false);
    sl_free(sizes);
}

static void split_v_compute(sl_kernel_ctx *ctx)
{
    const sl_tensor *x = sl_kernel_ctx_input(ctx, 0), *ss = sl_kernel_ctx_input(ctx, 1);
    int n = sl_kernel_ctx_num_outputs(ctx);
    int64_t av;
    int axis;
    if (!scalar_axis(ctx, sl_kernel_ctx_input(ctx, 2), &av) || !sl__k_axis(ctx, av, sl_tensor_rank(x), "split_dim", &axis))
        return;
    if (!sl__k_check_int_vector(ctx, ss, "size_splits"))
        return;
    if (sl_tensor_num_elements(ss) != n) {
        sl_kernel_ctx_fail(ctx, SL_INVALID_ARGUMENT, "size_splits has %lld entries for num_split %d",
                           (long long)sl_tensor_num_elements(ss), n);
        return;
    }
    int64_t *sizes = sl_malloc(sizeof(int64_t) * (size_t)n);
    if (!sizes) {
        sl_kernel_ctx_fail(ctx, SL_RESOURCE_EXHAUSTED, "out of memory splitting into %d", n);
        return;
    }
    int64_t dim = sl_tensor_dim(x, axis), sum = 0;
    int unknown = -1;
    for (int i = 0; i < n; i++) {
        sizes[i] = sl__k_int_at(ss, i);
        if (sizes[i] == -1 && unknown < 0)
            unknown = i;
        else if (sizes[i] < 0) {
            sl_kernel_ctx_fail(ctx, SL_INVALID_ARGUMENT, "size_splits[%d] is %lld; only one -1 is allowed", i,
                               (long long)sizes[i]);
            goto out;
        } else
            sum += sizes[i];
    }
    if (unknown >= 0 && sum <= dim)
        sizes[unknown] = dim - sum, sum = dim;
    if (sum != dim) {
        sl_kernel_ctx_fail(ctx, SL_INVALID_ARGUMENT, "determined shape must either match input shape along split_dim exactly if fully specified, or be less than the size of the input along split_dim if not fully specified; got sizes summing to %lld for a dimension of %lld",
                           (long long)sum, (long long)dim);
        goto out;
    }
    split_common(ctx, x, axis, sizes, n, false);
out:
    sl_free(sizes);
}

static void unpack_compute(sl_kernel_ctx *ctx)
{
    const sl_tensor *x = sl_kernel_ctx_input(ctx, 0);
    int n = sl_kernel_ctx_num_outputs(ctx);
    int64_t av = 0;
    sl_node_attr_int(sl_kernel_ctx_node(ctx), "axis", &av);
    int axis;
    if (!sl__k_axis(ctx, av, sl_tensor_rank(x), "axis", &axis))
        return;
    if (sl_tensor_dim(x, axis) != n) {
        sl_kernel_ctx_fail(ctx, SL_INVALID_ARGUMENT, "input %s has %lld entries along axis %d, but num is %d",
                           sl__k_shape_str(sl_tensor_shape(x), 0), (long long)sl_tensor_dim(x, axis), axis, n);
        return;
    }
    int64_t *sizes = sl_malloc(sizeof(int64_t) * (size_t)(n + 1));
    if (!sizes) {
        sl_kernel_ctx_fail(ctx, SL_RESOURCE_EXHAUSTED, "out of memory unpacking into %d", n);
        return;
    }
    for (int i = 0; i < n; i++)
        sizes[i] = 1;
    split_common(ctx, x, axis, sizes, n, true);
    sl_free(sizes);
}

/* ---- Gather ------------------------------------------------------------------------ */

/* Writes "[i,j,k]" for flat index k of shape s into buf. */
static const char *index_str(const sl_shape *s, int64_t k, char *buf, size_t cap)
{
    int64_t idx[SL_MAX_DIMS];
    for (int d = s->rank - 1; d >= 0; d--) {
        idx[d] = s->dims[d] ? k % s->dims[d] : 0;
        k = s->dims[d] ? k / s->dims[d] : 0;
    }
    size_t n = 0;
    for (int d = 0; d < s->rank && n < cap; d++)
        n += (size_t)snprintf(buf + n, cap - n, "%s%lld", d ? "," : "", (long long)idx[d]);
    if (s->rank == 0)
        snprintf(buf, cap, "0");
    return buf;
}

typedef struct gather_job {
    const sl_tensor *idx;
    const char *params;
    char *out;
    int64_t outer, p, n;  /* params [outer, p, inner]; out [outer, n, inner] */
    size_t slice;         /* bytes per inner slice */
} gather_job;

static void gather_shard(void *arg, int64_t begin, int64_t end)
{
    const gather_job *j = arg;
    for (int64_t w = begin; w < end; w++) {
        int64_t o = w / j->n, i = w % j->n;
        int64_t k = sl__k_int_at(j->idx, i);
        memcpy(j->out + (size_t)w * j->slice, j->params + (size_t)(o * j->p + k) * j->slice, j->slice);
    }
}

static void gather_compute(sl_kernel_ctx *ctx)
{
    const sl_node *node = sl_kernel_ctx_node(ctx);
    const sl_tensor *params = sl_kernel_ctx_input(ctx, 0), *idx = sl_kernel_ctx_input(ctx, 1);
    const sl_shape *ps = sl_tensor_shape(params), *is = sl_tensor_shape(idx);
    int64_t av = 0;
    if (sl_kernel_ctx_num_inputs(ctx) > 2 && !scalar_axis(ctx, sl_kernel_ctx_input(ctx, 2), &av))
        return;
    int64_t batch_dims = 0;
    sl_node_attr_int(node, "batch_dims", &batch_dims);
    if (batch_dims != 0) {
        sl_kernel_ctx_fail(ctx, SL_UNIMPLEMENTED, "batch_dims %lld is not supported (only 0)", (long long)batch_dims);
        return;
    }
    int axis;
    if (!sl__k_axis(ctx, av, ps->rank, "axis", &axis))
        return;
    if (ps->rank - 1 + is->rank > SL_MAX_DIMS) {
        sl_kernel_ctx_fail(ctx, SL_INVALID_ARGUMENT, "result would have more than %d dimensions", SL_MAX_DIMS);
        return;
    }
    int64_t p = ps->dims[axis], n = sl_tensor_num_elements(idx);
    for (int64_t i = 0; i < n; i++) {
        int64_t k = sl__k_int_at(idx, i);
        if (k < 0 || k >= p) {
            char buf[SL_MAX_DIMS * 21];
            sl_kernel_ctx_fail(ctx, SL_INVALID_ARGUMENT, "indices[%s] = %lld is not in [0, %lld)",
                               index_str(is, i, buf, sizeof(buf)), (long long)k, (long long)p);
            return;
        }
    }
    sl_shape os = {.rank = 0};
    int64_t outer = 1, inner = 1;
    for (int d = 0; d < axis; d++) {
        os.dims[os.rank++] = ps->dims[d];
        outer *= ps->dims[d];
    }
    for (int d = 0; d < is->rank; d++)
        os.dims[os.rank++] = is->dims[d];
    for (int d = axis + 1; d < ps->rank; d++) {
        os.dims[os.rank++] = ps->dims[d];
        inner *= ps->dims[d];
    }
    sl_tensor *o = sl__k_out(ctx, 0, &os);
    if (!o || sl_tensor_num_elements(o) == 0)
        return;
    gather_job j = {idx, sl_tensor_data(params), sl_tensor_data(o), outer, p, n,
                    (size_t)inner * sl_dtype_size(sl_tensor_dtype(params))};
    sl__k_parallel(ctx, outer * n, inner / 4 + 4, gather_shard, &j);
}

/* ---- DynamicStitch ------------------------------------------------------------------- */

static void dynamic_stitch_compute(sl_kernel_ctx *ctx)
{
    int n = sl_kernel_ctx_num_inputs(ctx) / 2;
    const sl_tensor *d0 = sl_kernel_ctx_input(ctx, n), *i0 = sl_kernel_ctx_input(ctx, 0);
    int slice_rank = sl_tensor_rank(d0) - sl_tensor_rank(i0);
    if (slice_rank < 0) {
        sl_kernel_ctx_fail(ctx, SL_INVALID_ARGUMENT, "data[0] %s has a smaller rank than indices[0] %s",
                           sl__k_shape_str(sl_tensor_shape(d0), 0), sl__k_shape_str(sl_tensor_shape(i0), 1));
        return;
    }
    const int64_t *slice_dims = sl_tensor_shape(d0)->dims + sl_tensor_rank(i0);
    int64_t max_index = -1, slice = 1;
    for (int d = 0; d < slice_rank; d++)
        slice *= slice_dims[d];
    for (int m = 0; m < n; m++) {
        const sl_tensor *im = sl_kernel_ctx_input(ctx, m), *dm = sl_kernel_ctx_input(ctx, n + m);
        const sl_shape *is = sl_tensor_shape(im), *ds = sl_tensor_shape(dm);
        bool ok = ds->rank == is->rank + slice_rank;
        for (int d = 0; ok && d < is->rank; d++)
            ok = ds->dims[d] == is->dims[d];
        for (int d = 0; ok && d < slice_rank; d++)
            ok = ds->dims[is->rank + d] == slice_dims[d];
        if (!ok) {
            sl_kernel_ctx_fail(ctx, SL_INVALID_ARGUMENT,
                               "data[%d] %s must be indices[%d] %s followed by the slice shape of data[0]", m,
                               sl__k_shape_str(ds, 0), m, sl__k_shape_str(is, 1));
            return;
        }
        for (int64_t i = 0; i < sl_tensor_num_elements(im); i++) {
            int64_t k = sl__k_int_at(im, i);
            if (k < 0) {
                sl_kernel_ctx_fail(ctx, SL_INVALID_ARGUMENT, "indices[%d][%lld] = %lld is negative", m, (long long)i,
                                   (long long)k);
                return;
            }
            if (k > max_index)
                max_index = k;
        }
    }
    sl_shape os = {.rank = slice_rank + 1};
    os.dims[0] = max_index + 1;
    for (int d = 0; d < slice_rank; d++)
        os.dims[d + 1] = slice_dims[d];
    sl_tensor *o = sl__k_out_zeroed(ctx, 0, &os);  /* indices may leave gaps */
    if (!o)
        return;
    size_t bytes = (size_t)slice * sl_dtype_size(sl_tensor_dtype(d0));
    for (int m = 0; m < n; m++) {  /* later entries win, as in TF */
        const sl_tensor *im = sl_kernel_ctx_input(ctx, m), *dm = sl_kernel_ctx_input(ctx, n + m);
        for (int64_t i = 0; i < sl_tensor_num_elements(im); i++)
            memcpy((char *)sl_tensor_data(o) + (size_t)sl__k_int_at(im, i) * bytes,
                   (const char *)sl_tensor_data(dm) + (size_t)i * bytes, bytes);
    }
}

/* ---- OneHot ---------------------------------------------------------------------------- */

static void one_hot_compute(sl_kernel_ctx *ctx)
{
    const sl_tensor *idx = sl_kernel_ctx_input(ctx, 0), *depth_t = sl_kernel_ctx_input(ctx, 1),
                    *on = sl_kernel_ctx_input(ctx, 2), *off = sl_kernel_ctx_input(ctx, 3);
    const sl_shape *is = sl_tensor_shape(idx);
    if (sl_tensor_rank(depth_t) != 0 || sl_tensor_rank(on) != 0 || sl_tensor_rank(off) != 0) {
        sl_kernel_ctx_fail(ctx, SL_INVALID_ARGUMENT, "depth, on_value and off_value must be scalars");
        return;
    }
    int64_t depth = sl__k_int_at(depth_t, 0), av = -1;
    if (depth < 0) {
        sl_kernel_ctx_fail(ctx, SL_INVALID_ARGUMENT, "depth must be non-negative, got %lld", (long long)depth);
        return;
    }
    sl_node_attr_int(sl_kernel_ctx_node(ctx), "axis", &av);
    if (av < -1 || av > is->rank || is->rank >= SL_MAX_DIMS) {
        sl_kernel_ctx_fail(ctx, SL_INVALID_ARGUMENT, "axis %lld is out of range for indices of rank %d", (long long)av,
                           is->rank);
        return;
    }
    int axis = av < 0 ? is->rank : (int)av;
    sl_shape os = {.rank = is->rank + 1};
    int64_t prefix = 1, suffix = 1;
    for (int d = 0, k = 0; d < os.rank; d++) {
        if (d == axis) {
            os.dims[d] = depth;
            continue;
        }
        os.dims[d] = is->dims[k];
        if (d < axis)
            prefix *= is->dims[k];
        else
            suffix *= is->dims[k];
        k++;
    }
    sl_tensor *o = sl__k_out(ctx, 0, &os);
    if (!o)
        return;
    size_t esz = sl_dtype_size(sl_tensor_dtype(on));
    char *op = sl_tensor_data(o);
    for (int64_t p = 0; p < prefix; p++)
        for (int64_t d = 0; d < depth; d++)
            for (int64_t s = 0; s < suffix; s++) {
                int64_t k = sl__k_int_at(idx, p * suffix + s);
                memcpy(op + (size_t)((p * depth + d) * suffix + s) * esz, k == d ? sl_tensor_data(on) : sl_tensor_data(off), esz);
            }
}

#define ANY_T "T: {float, double, half, bfloat16, int8, int16, int32, int64, uint8, uint16, uint32, uint64, bool, complex64, complex128}"
#define K(OP, FN, ...) {.op = OP, .device = SL_DEVICE_CPU, .constraints = {__VA_ARGS__}, .compute = FN}

static const sl_kernel_def array_join_kernels[] = {
    K("ConcatV2", concat_compute, ANY_T),
    K("Concat", concat_compute, ANY_T),
    K("Pack", pack_compute, ANY_T),
    K("Split", split_compute, ANY_T),
    K("SplitV", split_v_compute, ANY_T),
    K("Unpack", unpack_compute, ANY_T),
    K("Gather", gather_compute, "Tparams: {float, double, half, bfloat16, int8, int16, int32, int64, uint8, uint16, uint32, uint64, bool, complex64, complex128}"),
    K("GatherV2", gather_compute, "Tparams: {float, double, half, bfloat16, int8, int16, int32, int64, uint8, uint16, uint32, uint64, bool, complex64, complex128}"),
    K("DynamicStitch", dynamic_stitch_compute, ANY_T),
    K("OneHot", one_hot_compute, ANY_T),
};

void sl__kernels_register_array_join(void);
void sl__kernels_register_array_join(void)
{
    sl__kernel_register_table(array_join_kernels, SL_COUNTOF_K(array_join_kernels));
}
