/* Array kernels about shapes and filling: Reshape, ExpandDims and Squeeze
 * (which share the input's buffer), Shape, Size, Rank,
 * PlaceholderWithDefault (forwards its input), Fill, ZerosLike, OnesLike,
 * Range and BroadcastGradientArgs.
 */
#include "config.h"

#include <math.h>
#include <string.h>

#include "cpu-kernels.h"
#include "sluice/alloc.h"

/* Shares x's buffer under a new shape and sets it as output 0. */
static void forward_reshaped(sl_kernel_ctx *ctx, const sl_tensor *x, const sl_shape *s)
{
    sl_status *st = sl_status_new();
    sl_tensor *y = st ? sl_tensor_reshaped((sl_tensor *)x, s, st) : NULL;
    if (!y) {
        sl_kernel_ctx_fail(ctx, st ? sl_status_code(st) : SL_RESOURCE_EXHAUSTED, "%s",
                           st ? sl_status_message(st) : "out of memory");
    } else {
        sl_kernel_ctx_set_output(ctx, 0, y);
        sl_tensor_unref(y);
    }
    sl_status_free(st);
}

static void reshape_compute(sl_kernel_ctx *ctx)
{
    const sl_tensor *x = sl_kernel_ctx_input(ctx, 0), *shape = sl_kernel_ctx_input(ctx, 1);
    if (!sl__k_check_int_vector(ctx, shape, "shape"))
        return;
    int64_t rank = sl_tensor_num_elements(shape);
    if (rank > SL_MAX_DIMS) {
        sl_kernel_ctx_fail(ctx, SL_INVALID_ARGUMENT, "shape has %lld dimensions, more than the %d supported",
                           (long long)rank, SL_MAX_DIMS);
        return;
    }
    sl_shape s = {.rank = (int)rank};
    int unknown = -1;
    int64_t known = 1, n = sl_tensor_num_elements(x);
    for (int i = 0; i < s.rank; i++) {
        s.dims[i] = sl__k_int_at(shape, i);
        if (s.dims[i] == -1) {
            if (unknown >= 0) {
                sl_kernel_ctx_fail(ctx, SL_INVALID_ARGUMENT, "only one input size may be -1, not both %d and %d",
                                   unknown, i);
                return;
            }
            unknown = i;
        } else if (s.dims[i] < 0) {
            sl_kernel_ctx_fail(ctx, SL_INVALID_ARGUMENT, "size %d must be non-negative, not %lld", i,
                               (long long)s.dims[i]);
            return;
        } else {
            known *= s.dims[i];
        }
    }
    if (unknown >= 0) {
        if (known == 0 || n % known) {
            sl_kernel_ctx_fail(ctx, SL_INVALID_ARGUMENT,
                               "cannot reshape a tensor of %lld elements (shape %s) into a shape with %lld known elements",
                               (long long)n, sl__k_shape_str(sl_tensor_shape(x), 0), (long long)known);
            return;
        }
        s.dims[unknown] = n / known;
        known = n;
    }
    if (known != n) {
        sl_kernel_ctx_fail(ctx, SL_INVALID_ARGUMENT,
                           "cannot reshape a tensor of %lld elements (shape %s) into shape %s (%lld elements)",
                           (long long)n, sl__k_shape_str(sl_tensor_shape(x), 0), sl__k_shape_str(&s, 1),
                           (long long)known);
        return;
    }
    forward_reshaped(ctx, x, &s);
}

static void expand_dims_compute(sl_kernel_ctx *ctx)
{
    const sl_tensor *x = sl_kernel_ctx_input(ctx, 0), *dim = sl_kernel_ctx_input(ctx, 1);
    const sl_shape *in = sl_tensor_shape(x);
    if (!sl__k_check_int_vector(ctx, dim, "dim"))
        return;
    if (sl_tensor_num_elements(dim) != 1) {
        sl_kernel_ctx_fail(ctx, SL_INVALID_ARGUMENT, "dim must hold one value, got %s",
                           sl__k_shape_str(sl_tensor_shape(dim), 0));
        return;
    }
    if (in->rank >= SL_MAX_DIMS) {
        sl_kernel_ctx_fail(ctx, SL_INVALID_ARGUMENT, "input of rank %d cannot grow past %d dimensions", in->rank,
                           SL_MAX_DIMS);
        return;
    }
    int a;
    if (!sl__k_axis(ctx, sl__k_int_at(dim, 0), in->rank + 1, "dim", &a))
        return;
    sl_shape s = {.rank = in->rank + 1};
    for (int i = 0, j = 0; i < s.rank; i++)
        s.dims[i] = i == a ? 1 : in->dims[j++];
    forward_reshaped(ctx, x, &s);
}

static void squeeze_compute(sl_kernel_ctx *ctx)
{
    const sl_tensor *x = sl_kernel_ctx_input(ctx, 0);
    const sl_shape *in = sl_tensor_shape(x);
    const int64_t *dims = NULL;
    int nd = 0;
    sl_node_attr_int_list(sl_kernel_ctx_node(ctx), "squeeze_dims", &dims, &nd);
    bool drop[SL_MAX_DIMS] = {false};
    for (int k = 0; k < nd; k++) {
        int a;
        if (!sl__k_axis(ctx, dims[k], in->rank, "squeeze dimension", &a))
            return;
        if (in->dims[a] != 1) {
            sl_kernel_ctx_fail(ctx, SL_INVALID_ARGUMENT, "cannot squeeze dimension %d of size %lld in %s", a,
                               (long long)in->dims[a], sl__k_shape_str(in, 0));
            return;
        }
        drop[a] = true;
    }
    sl_shape s = {.rank = 0};
    for (int i = 0; i < in->rank; i++)
        if (!(nd ? drop[i] : in->dims[i] == 1))
            s.dims[s.rank++] = in->dims[i];
    forward_reshaped(ctx, x, &s);
}

static void set_int(sl_tensor *t, int64_t i, int64_t v)
{
    if (sl_tensor_dtype(t) == SL_DTYPE_INT64)
        ((int64_t *)sl_tensor_data(t))[i] = v;
    else
        ((int32_t *)sl_tensor_data(t))[i] = (int32_t)v;
}

static void shape_compute(sl_kernel_ctx *ctx)
{
    const sl_shape *in = sl_tensor_shape(sl_kernel_ctx_input(ctx, 0));
    sl_shape s = sl_shape_vector(in->rank);
    sl_tensor *o = sl__k_out(ctx, 0, &s);
    if (!o)
        return;
    for (int i = 0; i < in->rank; i++) {
        if (sl_tensor_dtype(o) == SL_DTYPE_INT32 && in->dims[i] > INT32_MAX) {
            sl_kernel_ctx_fail(ctx, SL_INVALID_ARGUMENT, "dimension %d of size %lld does not fit int32; use out_type int64",
                               i, (long long)in->dims[i]);
            return;
        }
        set_int(o, i, in->dims[i]);
    }
}

static void size_compute(sl_kernel_ctx *ctx)
{
    int64_t n = sl_tensor_num_elements(sl_kernel_ctx_input(ctx, 0));
    sl_shape s = sl_shape_scalar();
    sl_tensor *o = sl__k_out(ctx, 0, &s);
    if (!o)
        return;
    if (sl_tensor_dtype(o) == SL_DTYPE_INT32 && n > INT32_MAX) {
        sl_kernel_ctx_fail(ctx, SL_INVALID_ARGUMENT, "%lld elements do not fit int32; use out_type int64", (long long)n);
        return;
    }
    set_int(o, 0, n);
}

static void rank_compute(sl_kernel_ctx *ctx)
{
    sl_shape s = sl_shape_scalar();
    sl_tensor *o = sl__k_out(ctx, 0, &s);
    if (o)
        set_int(o, 0, sl_tensor_rank(sl_kernel_ctx_input(ctx, 0)));
}

static void forward_compute(sl_kernel_ctx *ctx)
{
    sl_kernel_ctx_set_output(ctx, 0, (sl_tensor *)sl_kernel_ctx_input(ctx, 0));
}

/* Fills n elements of esz bytes at dst with the element at src. */
static void fill_bytes(char *dst, const void *src, size_t esz, int64_t n)
{
    if (n <= 0)
        return;
    memcpy(dst, src, esz);
    int64_t done = 1;
    while (done < n) {  /* doubling copies */
        int64_t k = done < n - done ? done : n - done;
        memcpy(dst + done * (int64_t)esz, dst, (size_t)k * esz);
        done += k;
    }
}

static bool read_shape(sl_kernel_ctx *ctx, const sl_tensor *t, const char *what, sl_shape *s)
{
    if (!sl__k_check_int_vector(ctx, t, what))
        return false;
    int64_t n = sl_tensor_num_elements(t);
    if (n > SL_MAX_DIMS || sl_tensor_rank(t) != 1) {
        sl_kernel_ctx_fail(ctx, SL_INVALID_ARGUMENT, "%s must be a vector of at most %d sizes, got %s", what,
                           SL_MAX_DIMS, sl__k_shape_str(sl_tensor_shape(t), 0));
        return false;
    }
    s->rank = (int)n;
    for (int i = 0; i < s->rank; i++) {
        s->dims[i] = sl__k_int_at(t, i);
        if (s->dims[i] < 0) {
            sl_kernel_ctx_fail(ctx, SL_INVALID_ARGUMENT, "%s[%d] is negative (%lld)", what, i, (long long)s->dims[i]);
            return false;
        }
    }
    return true;
}

static void fill_compute(sl_kernel_ctx *ctx)
{
    const sl_tensor *dims = sl_kernel_ctx_input(ctx, 0), *v = sl_kernel_ctx_input(ctx, 1);
    sl_shape s;
    if (!read_shape(ctx, dims, "dims", &s))
        return;
    if (sl_tensor_rank(v) != 0) {
        sl_kernel_ctx_fail(ctx, SL_INVALID_ARGUMENT, "value must be a scalar, got %s",
                           sl__k_shape_str(sl_tensor_shape(v), 0));
        return;
    }
    sl_tensor *o = sl__k_out(ctx, 0, &s);
    if (o)
        fill_bytes(sl_tensor_data(o), sl_tensor_data(v), sl_dtype_size(sl_tensor_dtype(v)), sl_tensor_num_elements(o));
}

static void zeros_like_compute(sl_kernel_ctx *ctx)
{
    sl__k_out_zeroed(ctx, 0, sl_tensor_shape(sl_kernel_ctx_input(ctx, 0)));
}

static void ones_like_compute(sl_kernel_ctx *ctx)
{
    const sl_tensor *x = sl_kernel_ctx_input(ctx, 0);
    sl_tensor *o = sl__k_out(ctx, 0, sl_tensor_shape(x));
    if (!o)
        return;
    union { float f; double d; int8_t i8; int16_t i16; int32_t i32; int64_t i64; uint16_t h; } one;
    switch (sl_tensor_dtype(x)) {
    case SL_DTYPE_FLOAT: one.f = 1; break;
    case SL_DTYPE_DOUBLE: one.d = 1; break;
    case SL_DTYPE_HALF: one.h = 0x3c00; break;
    case SL_DTYPE_BFLOAT16: one.h = 0x3f80; break;
    case SL_DTYPE_INT8: case SL_DTYPE_UINT8: case SL_DTYPE_BOOL: one.i8 = 1; break;
    case SL_DTYPE_INT16: case SL_DTYPE_UINT16: one.i16 = 1; break;
    case SL_DTYPE_INT32: case SL_DTYPE_UINT32: one.i32 = 1; break;
    default: one.i64 = 1; break;
    }
    fill_bytes(sl_tensor_data(o), &one, sl_dtype_size(sl_tensor_dtype(x)), sl_tensor_num_elements(o));
}

static double scalar_as_double(const sl_tensor *t)
{
    switch (sl_tensor_dtype(t)) {
    case SL_DTYPE_FLOAT: return *(const float *)sl_tensor_data(t);
    case SL_DTYPE_DOUBLE: return *(const double *)sl_tensor_data(t);
    default: return (double)sl__k_int_at(t, 0);
    }
}

static void range_compute(sl_kernel_ctx *ctx)
{
    const sl_tensor *ts = sl_kernel_ctx_input(ctx, 0), *tl = sl_kernel_ctx_input(ctx, 1),
                    *td = sl_kernel_ctx_input(ctx, 2);
    const char *names[3] = {"start", "limit", "delta"};
    const sl_tensor *in[3] = {ts, tl, td};
    for (int i = 0; i < 3; i++) {
        if (sl_tensor_num_elements(in[i]) != 1 || sl_tensor_rank(in[i]) > 1) {
            sl_kernel_ctx_fail(ctx, SL_INVALID_ARGUMENT, "%s must be a scalar, got %s", names[i],
                               sl__k_shape_str(sl_tensor_shape(in[i]), 0));
            return;
        }
    }
    sl_dtype dt = sl_tensor_dtype(ts);
    bool is_int = dt == SL_DTYPE_INT32 || dt == SL_DTYPE_INT64;
    double start = scalar_as_double(ts), limit = scalar_as_double(tl), delta = scalar_as_double(td);
    if (delta == 0) {
        sl_kernel_ctx_fail(ctx, SL_INVALID_ARGUMENT, "requires delta != 0");
        return;
    }
    if (delta > 0 ? start > limit : start < limit) {
        sl_kernel_ctx_fail(ctx, SL_INVALID_ARGUMENT, "requires start %s limit when delta %s 0 (start %g, limit %g, delta %g)",
                           delta > 0 ? "<=" : ">=", delta > 0 ? ">" : "<", start, limit, delta);
        return;
    }
    int64_t n;
    if (is_int) {
        int64_t s = sl__k_int_at(ts, 0), l = sl__k_int_at(tl, 0), d = sl__k_int_at(td, 0);
        n = d > 0 ? (l - s + d - 1) / d : (s - l - d - 1) / -d;
    } else {
        n = (int64_t)ceil(fabs((limit - start) / delta));
    }
    sl_shape os = sl_shape_vector(n);
    sl_tensor *o = sl__k_out(ctx, 0, &os);
    if (!o)
        return;
    for (int64_t i = 0; i < n; i++) {
        switch (dt) {
        case SL_DTYPE_FLOAT:
            ((float *)sl_tensor_data(o))[i] = (float)(*(const float *)sl_tensor_data(ts) +
                                                      (float)i * *(const float *)sl_tensor_data(td));
            break;
        case SL_DTYPE_DOUBLE: ((double *)sl_tensor_data(o))[i] = start + (double)i * delta; break;
        default: set_int(o, i, sl__k_int_at(ts, 0) + i * sl__k_int_at(td, 0)); break;
        }
    }
}

static void bga_compute(sl_kernel_ctx *ctx)
{
    const sl_tensor *s0 = sl_kernel_ctx_input(ctx, 0), *s1 = sl_kernel_ctx_input(ctx, 1);
    sl_shape a, b;
    if (!read_shape(ctx, s0, "s0", &a) || !read_shape(ctx, s1, "s1", &b))
        return;
    int R = a.rank > b.rank ? a.rank : b.rank;
    int64_t r0[SL_MAX_DIMS], r1[SL_MAX_DIMS];
    int n0 = 0, n1 = 0;
    for (int d = 0; d < R; d++) {
        int64_t x = d - (R - a.rank) >= 0 ? a.dims[d - (R - a.rank)] : 1;
        int64_t y = d - (R - b.rank) >= 0 ? b.dims[d - (R - b.rank)] : 1;
        if (x != y && x != 1 && y != 1) {
            sl_kernel_ctx_fail(ctx, SL_INVALID_ARGUMENT, "incompatible shapes: %s vs. %s", sl__k_shape_str(&a, 0),
                               sl__k_shape_str(&b, 1));
            return;
        }
        if (x == 1)
            r0[n0++] = d;
        if (y == 1)
            r1[n1++] = d;
    }
    sl_shape o0s = sl_shape_vector(n0), o1s = sl_shape_vector(n1);
    sl_tensor *o0 = sl__k_out(ctx, 0, &o0s);
    sl_tensor *o1 = o0 ? sl__k_out(ctx, 1, &o1s) : NULL;
    if (!o1)
        return;
    for (int i = 0; i < n0; i++)
        set_int(o0, i, r0[i]);
    for (int i = 0; i < n1; i++)
        set_int(o1, i, r1[i]);
}

#define K(OP, FN, ...) {.op = OP, .device = SL_DEVICE_CPU, .constraints = {__VA_ARGS__}, .compute = FN}
#define NO_STRING_T "T: {float, double, half, bfloat16, int8, int16, int32, int64, uint8, uint16, uint32, uint64, bool, complex64, complex128}"

static const sl_kernel_def array_shape_kernels[] = {
    K("Reshape", reshape_compute, NULL),
    K("ExpandDims", expand_dims_compute, NULL),
    K("Squeeze", squeeze_compute, NULL),
    K("Shape", shape_compute, NULL),
    K("Size", size_compute, NULL),
    K("Rank", rank_compute, NULL),
    K("PlaceholderWithDefault", forward_compute, NULL),
    K("Fill", fill_compute, NO_STRING_T),
    K("ZerosLike", zeros_like_compute, NO_STRING_T),
    K("OnesLike", ones_like_compute, "T: {float, double, half, bfloat16, int8, int16, int32, int64, uint8, uint16, uint32, uint64, bool}"),
    K("Range", range_compute, "Tidx: {float, double, int32, int64}"),
    K("BroadcastGradientArgs", bga_compute, NULL),
};

void sl__kernels_register_array_shape(void);
void sl__kernels_register_array_shape(void)
{
    sl__kernel_register_table(array_shape_kernels, SL_COUNTOF_K(array_shape_kernels));
}
