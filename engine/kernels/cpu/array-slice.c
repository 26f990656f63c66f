/* Array kernels that copy a strided view: Slice, StridedSlice (begin, end,
 * ellipsis, new-axis and shrink masks resolved as TF's
 * ValidateStridedSliceOp does), Transpose, Pad and Tile.
 *
 * They share view_copy(): a copy of `rank` nested loops with arbitrary
 * (possibly negative) element strides on both sides, whose innermost run
 * becomes one memcpy when both strides are 1.  Rows are spread over the
 * pool.
 */
#include "config.h"

#include <string.h>

#include "cpu-kernels.h"
#include "strided-slice-spec.h"

typedef struct view {
    int rank;
    int64_t dims[SL_MAX_DIMS];
    int64_t src_strides[SL_MAX_DIMS];  /* elements */
    int64_t dst_strides[SL_MAX_DIMS];
    const char *src;                   /* first element */
    char *dst;
    size_t esz;
} view;

static void copy_run(char *d, int64_t ds, const char *s, int64_t ss, int64_t n, size_t esz)
{
    if (ds == 1 && ss == 1) {
        memcpy(d, s, (size_t)n * esz);
        return;
    }
    int64_t db = ds * (int64_t)esz, sb = ss * (int64_t)esz;
    switch (esz) {
    case 1: for (int64_t i = 0; i < n; i++) d[i * db] = s[i * sb]; break;
    case 2: for (int64_t i = 0; i < n; i++) memcpy(d + i * db, s + i * sb, 2); break;
    case 4: for (int64_t i = 0; i < n; i++) memcpy(d + i * db, s + i * sb, 4); break;
    case 8: for (int64_t i = 0; i < n; i++) memcpy(d + i * db, s + i * sb, 8); break;
    default: for (int64_t i = 0; i < n; i++) memcpy(d + i * db, s + i * sb, esz); break;
    }
}

/* rows = product of all dims but the last */
static void view_shard(void *arg, int64_t begin, int64_t end)
{
    const view *v = arg;
    int r = v->rank;
    int64_t inner = v->dims[r - 1];
    for (int64_t row = begin; row < end; row++) {
        int64_t rem = row, so = 0, dof = 0;
        for (int d = r - 2; d >= 0; d--) {
            int64_t i = rem % v->dims[d];
            rem /= v->dims[d];
            so += i * v->src_strides[d];
            dof += i * v->dst_strides[d];
        }
        copy_run(v->dst + dof * (int64_t)v->esz, v->dst_strides[r - 1], v->src + so * (int64_t)v->esz,
                 v->src_strides[r - 1], inner, v->esz);
    }
}

static void view_copy(sl_kernel_ctx *ctx, view *v)
{
    if (v->rank == 0) {
        v->rank = 1;
        v->dims[0] = 1;
        v->src_strides[0] = v->dst_strides[0] = 1;
    }
    int64_t rows = 1;
    for (int d = 0; d < v->rank; d++) {
        if (v->dims[d] == 0)
            return;
        if (d < v->rank - 1)
            rows *= v->dims[d];
    }
    sl__k_parallel(ctx, rows, v->dims[v->rank - 1] + 8, view_shard, v);
}

static void row_major_strides(const sl_shape *s, int64_t *strides)
{
    int64_t st = 1;
    for (int d = s->rank - 1; d >= 0; d--) {
        strides[d] = st;
        st *= s->dims[d];
    }
}

/* ---- Slice ------------------------------------------------------------------ */

static void slice_compute(sl_kernel_ctx *ctx)
{
    const sl_tensor *x = sl_kernel_ctx_input(ctx, 0), *b = sl_kernel_ctx_input(ctx, 1),
                    *sz = sl_kernel_ctx_input(ctx, 2);
    const sl_shape *in = sl_tensor_shape(x);
    if (!sl__k_check_int_vector(ctx, b, "begin") || !sl__k_check_int_vector(ctx, sz, "size"))
        return;
    if (sl_tensor_num_elements(b) != in->rank || sl_tensor_num_elements(sz) != in->rank) {
        sl_kernel_ctx_fail(ctx, SL_INVALID_ARGUMENT, "begin and size must each have %d entries for input %s, got %lld and %lld",
                           in->rank, sl__k_shape_str(in, 0), (long long)sl_tensor_num_elements(b),
                           (long long)sl_tensor_num_elements(sz));
        return;
    }
    view v = {.rank = in->rank, .esz = sl_dtype_size(sl_tensor_dtype(x))};
    sl_shape os = {.rank = in->rank};
    int64_t in_strides[SL_MAX_DIMS];
    row_major_strides(in, in_strides);
    int64_t off = 0;
    for (int d = 0; d < in->rank; d++) {
        int64_t bd = sl__k_int_at(b, d), sd = sl__k_int_at(sz, d);
        if (sd == -1)
            sd = in->dims[d] - bd;
        if (bd < 0 || sd < 0 || bd + sd > in->dims[d]) {
            sl_kernel_ctx_fail(ctx, SL_INVALID_ARGUMENT,
                               "expected begin[%d] = %lld and size[%d] = %lld to fit 0 <= begin, begin + size <= %lld",
                               d, (long long)bd, d, (long long)sl__k_int_at(sz, d), (long long)in->dims[d]);
            return;
        }
        os.dims[d] = sd;
        v.dims[d] = sd;
        v.src_strides[d] = in_strides[d];
        off += bd * in_strides[d];
    }
    sl_tensor *o = sl__k_out(ctx, 0, &os);
    if (!o)
        return;
    row_major_strides(&os, v.dst_strides);
    v.src = (const char *)sl_tensor_data(x) + off * (int64_t)v.esz;
    v.dst = sl_tensor_data(o);
    view_copy(ctx, &v);
}

/* ---- StridedSlice -------------------------------------------------------------- */

static void strided_slice_compute(sl_kernel_ctx *ctx)
{
    const sl_tensor *x = sl_kernel_ctx_input(ctx, 0);
    const sl_shape *in = sl_tensor_shape(x);
    sl_strided_slice spec;
    if (!sl__strided_slice_resolve(ctx, in, sl_kernel_ctx_input(ctx, 1), sl_kernel_ctx_input(ctx, 2),
                                   sl_kernel_ctx_input(ctx, 3), &spec))
        return;
    view v = {.rank = in->rank, .esz = sl_dtype_size(sl_tensor_dtype(x))};
    int64_t in_strides[SL_MAX_DIMS];
    row_major_strides(in, in_strides);
    int64_t off = 0;
    for (int d = 0; d < in->rank; d++) {
        v.dims[d] = spec.size[d];
        v.src_strides[d] = spec.step[d] * in_strides[d];
        if (spec.size[d] > 0)
            off += spec.start[d] * in_strides[d];
    }
    sl_tensor *o = sl__k_out(ctx, 0, &spec.out_shape);
    if (!o)
        return;
    sl_shape vs = sl_shape_make(v.rank, v.dims);
    row_major_strides(&vs, v.dst_strides);
    v.src = (const char *)sl_tensor_data(x) + off * (int64_t)v.esz;
    v.dst = sl_tensor_data(o);
    view_copy(ctx, &v);
}

/* ---- Transpose ------------------------------------------------------------------ */

static void transpose_compute(sl_kernel_ctx *ctx)
{
    const sl_tensor *x = sl_kernel_ctx_input(ctx, 0), *perm = sl_kernel_ctx_input(ctx, 1);
    const sl_shape *in = sl_tensor_shape(x);
    if (!sl__k_check_int_vector(ctx, perm, "perm"))
        return;
    if (sl_tensor_num_elements(perm) != in->rank) {
        sl_kernel_ctx_fail(ctx, SL_INVALID_ARGUMENT, "transpose expects a vector of size %d, got perm of size %lld",
                           in->rank, (long long)sl_tensor_num_elements(perm));
        return;
    }
    bool seen[SL_MAX_DIMS] = {false};
    int64_t in_strides[SL_MAX_DIMS];
    row_major_strides(in, in_strides);
    view v = {.rank = in->rank, .esz = sl_dtype_size(sl_tensor_dtype(x))};
    sl_shape os = {.rank = in->rank};
    for (int i = 0; i < in->rank; i++) {
        int64_t p = sl__k_int_at(perm, i);
        if (p < 0 || p >= in->rank || seen[p]) {
            sl_kernel_ctx_fail(ctx, SL_INVALID_ARGUMENT, "perm is not a permutation of 0..%d (entry %d is %lld)",
                               in->rank - 1, i, (long long)p);
            return;
        }
        seen[p] = true;
        os.dims[i] = in->dims[p];
        v.dims[i] = in->dims[p];
        v.src_strides[i] = in_strides[p];
    }
    bool identity = true;
    for (int i = 0; i < in->rank; i++)
        identity = identity && sl__k_int_at(perm, i) == i;
    if (identity) {
        sl_kernel_ctx_set_output(ctx, 0, (sl_tensor *)x);
        return;
    }
    sl_tensor *o = sl__k_out(ctx, 0, &os);
    if (!o)
        return;
    row_major_strides(&os, v.dst_strides);
    v.src = sl_tensor_data(x);
    v.dst = sl_tensor_data(o);
    view_copy(ctx, &v);
}

/* ---- Pad --------------------------------------------------------------------------- */

static void pad_compute(sl_kernel_ctx *ctx)
{
    const sl_tensor *x = sl_kernel_ctx_input(ctx, 0), *p = sl_kernel_ctx_input(ctx, 1);
    const sl_shape *in = sl_tensor_shape(x);
    if (sl_tensor_rank(p) != 2 || sl_tensor_dim(p, 0) != in->rank || sl_tensor_dim(p, 1) != 2) {
        sl_kernel_ctx_fail(ctx, SL_INVALID_ARGUMENT, "paddings must be a matrix of shape [%d, 2], got %s", in->rank,
                           sl__k_shape_str(sl_tensor_shape(p), 0));
        return;
    }
    sl_shape os = {.rank = in->rank};
    int64_t before[SL_MAX_DIMS];
    for (int d = 0; d < in->rank; d++) {
        int64_t a = sl__k_int_at(p, 2 * d), b = sl__k_int_at(p, 2 * d + 1);
        if (a < 0 || b < 0) {
            sl_kernel_ctx_fail(ctx, SL_INVALID_ARGUMENT, "paddings must be non-negative: %lld %lld in row %d",
                               (long long)a, (long long)b, d);
            return;
        }
        before[d] = a;
        os.dims[d] = in->dims[d] + a + b;
    }
    sl_tensor *o = sl__k_out_zeroed(ctx, 0, &os);  /* the padding stays zero */
    if (!o)
        return;
    view v = {.rank = in->rank, .esz = sl_dtype_size(sl_tensor_dtype(x))};
    int64_t ostr[SL_MAX_DIMS];
    row_major_strides(&os, ostr);
    row_major_strides(in, v.src_strides);
    int64_t off = 0;
    for (int d = 0; d < in->rank; d++) {
        v.dims[d] = in->dims[d];
        v.dst_strides[d] = ostr[d];
        off += before[d] * ostr[d];
    }
    v.src = sl_tensor_data(x);
    v.dst = (char *)sl_tensor_data(o) + off * (int64_t)v.esz;
    view_copy(ctx, &v);
}

/* ---- Tile ---------------------------------------------------------------------------- */

typedef struct tile_job {
    const sl_shape *in;
    const sl_shape *out;
    const char *x;
    char *o;
    size_t esz;
} tile_job;

/* one output row (last dimension) per index */
static void tile_shard(void *arg, int64_t begin, int64_t end)
{
    const tile_job *j = arg;
    int r = j->in->rank;
    int64_t in_last = j->in->dims[r - 1], out_last = j->out->dims[r - 1];
    size_t row_bytes = (size_t)in_last * j->esz;
    for (int64_t row = begin; row < end; row++) {
        int64_t rem = row, src_row = 0, mul = 1;
        for (int d = r - 2; d >= 0; d--) {
            int64_t i = rem % j->out->dims[d];
            rem /= j->out->dims[d];
            src_row += (i % j->in->dims[d]) * mul;
            mul *= j->in->dims[d];
        }
        const char *s = j->x + (size_t)src_row * row_bytes;
        char *dst = j->o + (size_t)row * (size_t)out_last * j->esz;
        for (int64_t k = 0; k < out_last; k += in_last, dst += row_bytes)
            memcpy(dst, s, row_bytes);
    }
}

static void tile_compute(sl_kernel_ctx *ctx)
{
    const sl_tensor *x = sl_kernel_ctx_input(ctx, 0), *m = sl_kernel_ctx_input(ctx, 1);
    const sl_shape *in = sl_tensor_shape(x);
    if (!sl__k_check_int_vector(ctx, m, "multiples"))
        return;
    if (sl_tensor_num_elements(m) != in->rank) {
        sl_kernel_ctx_fail(ctx, SL_INVALID_ARGUMENT, "multiples must have %d entries for input %s, got %lld",
                           in->rank, sl__k_shape_str(in, 0), (long long)sl_tensor_num_elements(m));
        return;
    }
    sl_shape os = {.rank = in->rank};
    for (int d = 0; d < in->rank; d++) {
        int64_t k = sl__k_int_at(m, d);
        if (k < 0) {
            sl_kernel_ctx_fail(ctx, SL_INVALID_ARGUMENT, "multiples[%d] is negative (%lld)", d, (long long)k);
            return;
        }
        os.dims[d] = in->dims[d] * k;
    }
    sl_tensor *o = sl__k_out(ctx, 0, &os);
    if (!o || sl_tensor_num_elements(o) == 0)
        return;
    if (in->rank == 0) {
        memcpy(sl_tensor_data(o), sl_tensor_data(x), sl_tensor_byte_size(x));
        return;
    }
    tile_job j = {in, sl_tensor_shape(o), sl_tensor_data(x), sl_tensor_data(o), sl_dtype_size(sl_tensor_dtype(x))};
    sl__k_parallel(ctx, sl_tensor_num_elements(o) / os.dims[os.rank - 1], os.dims[os.rank - 1] + 8, tile_shard, &j);
}

#define K(OP, FN) {.op = OP, .device = SL_DEVICE_CPU, .constraints = {SL_NUMERIC_T}, .compute = FN}
#define SL_NUMERIC_T "T: {float, double, half, bfloat16, int8, int16, int32, int64, uint8, uint16, uint32, uint64, bool, complex64, complex128}"

static const sl_kernel_def array_slice_kernels[] = {
    K("Slice", slice_compute),
    K("StridedSlice", strided_slice_compute),
    K("Transpose", transpose_compute),
    K("Pad", pad_compute),
    K("Tile", tile_compute),
};

void sl__kernels_register_array_slice(void);
void sl__kernels_register_array_slice(void)
{
    sl__kernel_register_table(array_slice_kernels, SL_COUNTOF_K(array_slice_kernels));
}
