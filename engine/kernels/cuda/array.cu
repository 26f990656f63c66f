/* Array kernels on the GPU, mirroring kernels/cpu/array-*.c: Transpose,
 * Slice, Tile, Pad, Concat / ConcatV2, Pack, Split / SplitV, Unpack,
 * Gather / GatherV2, OneHot, Fill, ZerosLike and OnesLike.
 *
 * They only move elements, so they dispatch on the element size (1, 2, 4
 * or 8 bytes) rather than the dtype.  Transpose, Slice and Tile are one
 * "strided gather" kernel: the output is walked in row-major order and the
 * source offset is rebuilt from per-dimension strides (permuted for
 * Transpose, offset for Slice, taken modulo the input size for Tile).
 * Concat, Pack, Split and Unpack are 2-D copies (cudaMemcpy2DAsync): a
 * piece of each row.  Shapes, axes, permutations, paddings and sizes are
 * host-memory inputs, as in TF.  An out-of-range Gather index gives zeros
 * (the device cannot fail the step), as TF's GPU kernel does. */
#include <string.h>

#include "array.cuh"
#include "cuda-common.cuh"

#define ELEM_DISPATCH(ctx, esz, BODY)                                                           \
    switch (esz) {                                                                              \
    case 1: { typedef uint8_t E; BODY; break; }                                                \
    case 2: { typedef uint16_t E; BODY; break; }                                               \
    case 4: { typedef uint32_t E; BODY; break; }                                               \
    case 8: { typedef uint64_t E; BODY; break; }                                               \
    default: sl_kernel_ctx_fail((ctx), SL_UNIMPLEMENTED, "no GPU kernel for %zu-byte elements", (size_t)(esz)); \
    }

#define GPU_ANY_T "T: {float, double, half, bfloat16, int8, int16, int32, int64, uint8, uint16, uint32, uint64, bool}"

static cudaStream_t cur_stream(void)
{
    return (cudaStream_t)sl__gpu_stream(sl__gpu_current());
}

/* ---- strided gather: Transpose, Slice, Tile ---------------------------------- */

typedef struct gather_geom {
    int rank;
    int64_t out[SL_MAX_DIMS];
    int64_t str[SL_MAX_DIMS];  /* source stride per output dim */
    int64_t mod[SL_MAX_DIMS];  /* 0, or the source size to wrap (Tile) */
    int64_t base;
} gather_geom;

template <typename E> __global__ void strided_kernel(gather_geom g, const E *src, E *dst, int64_t n)
{
    SL_CUDA_FOR(i, n)
    {
        int64_t r = i, off = g.base;
        for (int d = g.rank - 1; d >= 0; d--) {
            int64_t k = r % g.out[d];
            r /= g.out[d];
            if (g.mod[d])
                k %= g.mod[d];
            off += k * g.str[d];
        }
        dst[i] = src[off];
    }
}

static void run_strided(sl_kernel_ctx *ctx, const gather_geom *g, const sl_tensor *src, sl_tensor *dst)
{
    int64_t n = sl_tensor_num_elements(dst);
    if (!n)
        return;
    size_t esz = sl_dtype_size(sl_tensor_dtype(src));
    cudaStream_t stream = cur_stream();
    ELEM_DISPATCH(ctx, esz,
                  SL_CUDA_LAUNCH(strided_kernel<E>, n, stream, *g, (const E *)sl_tensor_data(src),
                                 (E *)sl_tensor_data(dst), n));
    SL_CUDA_CHECK_LAUNCH(ctx);
}

static void transpose_compute(sl_kernel_ctx *ctx)
{
    const sl_tensor *x = sl_kernel_ctx_input(ctx, 0), *perm = sl_kernel_ctx_input(ctx, 1);
    const sl_shape *in = sl_tensor_shape(x);
    if (sl_tensor_num_elements(perm) != in->rank) {
        sl_kernel_ctx_fail(ctx, SL_INVALID_ARGUMENT, "perm must have %d entries", in->rank);
        return;
    }
    int64_t st[SL_MAX_DIMS];
    sl__cuda_strides(in, st);
    gather_geom g = {};
    g.rank = in->rank;
    sl_shape os = {};
    os.rank = in->rank;
    bool seen[SL_MAX_DIMS] = {false};
    for (int d = 0; d < in->rank; d++) {
        int64_t p = sl__cuda_host_int(perm, d);
        if (p < 0 || p >= in->rank || seen[p]) {
            sl_kernel_ctx_fail(ctx, SL_INVALID_ARGUMENT, "perm is not a permutation of 0..%d", in->rank - 1);
            return;
        }
        seen[p] = true;
        os.dims[d] = g.out[d] = in->dims[p];
        g.str[d] = st[p];
    }
    sl_tensor *y = sl__gpu_output(ctx, 0, &os);
    if (y)
        run_strided(ctx, &g, x, y);
}

static void slice_compute(sl_kernel_ctx *ctx)
{
    const sl_tensor *x = sl_kernel_ctx_input(ctx, 0), *begin = sl_kernel_ctx_input(ctx, 1),
                    *size = sl_kernel_ctx_input(ctx, 2);
    const sl_shape *in = sl_tensor_shape(x);
    if (sl_tensor_num_elements(begin) != in->rank || sl_tensor_num_elements(size) != in->rank) {
        sl_kernel_ctx_fail(ctx, SL_INVALID_ARGUMENT, "begin and size must have %d entries", in->rank);
        return;
    }
    int64_t st[SL_MAX_DIMS];
    sl__cuda_strides(in, st);
    gather_geom g = {};
    g.rank = in->rank;
    sl_shape os = {};
    os.rank = in->rank;
    for (int d = 0; d < in->rank; d++) {
        int64_t b = sl__cuda_host_int(begin, d), s = sl__cuda_host_int(size, d);
        if (s == -1)
            s = in->dims[d] - b;
        if (b < 0 || s < 0 || b + s > in->dims[d]) {
            sl_kernel_ctx_fail(ctx, SL_INVALID_ARGUMENT, "slice [%lld, +%lld) is out of range for dimension %d of size %lld",
                               (long long)b, (long long)s, d, (long long)in->dims[d]);
            return;
        }
        os.dims[d] = g.out[d] = s;
        g.str[d] = st[d];
        g.base += b * st[d];
    }
    sl_tensor *y = sl__gpu_output(ctx, 0, &os);
    if (y)
        run_strided(ctx, &g, x, y);
}

static void tile_compute(sl_kernel_ctx *ctx)
{
    const sl_tensor *x = sl_kernel_ctx_input(ctx, 0), *mult = sl_kernel_ctx_input(ctx, 1);
    const sl_shape *in = sl_tensor_shape(x);
    if (sl_tensor_num_elements(mult) != in->rank) {
        sl_kernel_ctx_fail(ctx, SL_INVALID_ARGUMENT, "multiples must have %d entries", in->rank);
        return;
    }
    int64_t st[SL_MAX_DIMS];
    sl__cuda_strides(in, st);
    gather_geom g = {};
    g.rank = in->rank;
    sl_shape os = {};
    os.rank = in->rank;
    for (int d = 0; d < in->rank; d++) {
        int64_t m = sl__cuda_host_int(mult, d);
        if (m < 0) {
            sl_kernel_ctx_fail(ctx, SL_INVALID_ARGUMENT, "multiples must be non-negative");
            return;
        }
        os.dims[d] = g.out[d] = in->dims[d] * m;
        g.str[d] = st[d];
        g.mod[d] = in->dims[d];
    }
    sl_tensor *y = sl__gpu_output(ctx, 0, &os);
    if (y)
        run_strided(ctx, &g, x, y);
}

/* ---- Pad ------------------------------------------------------------------- */

typedef struct pad_geom {
    int rank;
    int64_t out[SL_MAX_DIMS];
    int64_t in[SL_MAX_DIMS];
    int64_t before[SL_MAX_DIMS];
    int64_t str[SL_MAX_DIMS];
} pad_geom;

template <typename E> __global__ void pad_zero_kernel(pad_geom g, const E *src, E *dst, int64_t n)
{
    SL_CUDA_FOR(i, n)
    {
        int64_t r = i, off = 0;
        bool inside = true;
        for (int d = g.rank - 1; d >= 0; d--) {
            int64_t k = r % g.out[d] - g.before[d];
            r /= g.out[d];
            inside &= k >= 0 && k < g.in[d];
            off += k * g.str[d];
        }
        dst[i] = inside ? src[off] : (E)0;
    }
}

static void pad_compute(sl_kernel_ctx *ctx)
{
    const sl_tensor *x = sl_kernel_ctx_input(ctx, 0), *pads = sl_kernel_ctx_input(ctx, 1);
    const sl_shape *in = sl_tensor_shape(x);
    if (sl_tensor_rank(pads) != 2 || sl_tensor_dim(pads, 0) != in->rank || sl_tensor_dim(pads, 1) != 2) {
        sl_kernel_ctx_fail(ctx, SL_INVALID_ARGUMENT, "paddings must be a matrix of shape [%d, 2]", in->rank);
        return;
    }
    pad_geom g = {};
    g.rank = in->rank;
    sl_shape os = {};
    os.rank = in->rank;
    sl__cuda_strides(in, g.str);
    for (int d = 0; d < in->rank; d++) {
        int64_t a = sl__cuda_host_int(pads, 2 * d), b = sl__cuda_host_int(pads, 2 * d + 1);
        if (a < 0 || b < 0) {
            sl_kernel_ctx_fail(ctx, SL_INVALID_ARGUMENT, "paddings must be non-negative");
            return;
        }
        g.in[d] = in->dims[d];
        g.before[d] = a;
        os.dims[d] = g.out[d] = in->dims[d] + a + b;
    }
    sl_tensor *y = sl__gpu_output(ctx, 0, &os);
    int64_t n = y ? sl_tensor_num_elements(y) : 0;
    if (!n)
        return;
    cudaStream_t stream = cur_stream();
    ELEM_DISPATCH(ctx, sl_dtype_size(sl_tensor_dtype(x)),
                  SL_CUDA_LAUNCH(pad_zero_kernel<E>, n, stream, g, (const E *)sl_tensor_data(x),
                                 (E *)sl_tensor_data(y), n));
    SL_CUDA_CHECK_LAUNCH(ctx);
}

/* ---- Concat, Pack, Split, Unpack: 2-D copies -------------------------------- */

/* Copies `rows` rows of `width` bytes, with pitches in bytes. */
static bool copy_2d(sl_kernel_ctx *ctx, void *dst, size_t dpitch, const void *src, size_t spitch, size_t width,
                    int64_t rows)
{
    if (!width || !rows)
        return true;
    cudaError_t e = cudaMemcpy2DAsync(dst, dpitch, src, spitch, width, (size_t)rows, cudaMemcpyDeviceToDevice,
                                      cur_stream());
    if (e != cudaSuccess) {
        sl_kernel_ctx_fail(ctx, SL_INTERNAL, "copy on the GPU: %s", cudaGetErrorString(e));
        return false;
    }
    return true;
}

/* Concatenates inputs [first, first + n) along axis; `stacked` (Pack)
 * inserts a new axis of size n instead. */
static void join(sl_kernel_ctx *ctx, int first, int n, int64_t axis_in, bool stacked)
{
    const sl_tensor *x0 = sl_kernel_ctx_input(ctx, first);
    const sl_shape *s0 = sl_tensor_shape(x0);
    int out_rank = s0->rank + (stacked ? 1 : 0);
    int64_t axis = axis_in < 0 ? axis_in + out_rank : axis_in;
    if (axis < 0 || axis >= out_rank) {
        sl_kernel_ctx_fail(ctx, SL_INVALID_ARGUMENT, "axis %lld is out of range for rank %d", (long long)axis_in,
                           out_rank);
        return;
    }
    sl_shape os = {};
    os.rank = out_rank;
    int64_t outer = 1, total = 0;
    for (int d = 0, k = 0; d < out_rank; d++) {
        if (stacked && d == axis) {
            os.dims[d] = n;
            continue;
        }
        os.dims[d] = s0->dims[k++];
    }
    for (int d = 0; d < axis; d++)
        outer *= os.dims[d];
    size_t esz = sl_dtype_size(sl_tensor_dtype(x0));
    size_t chunks[64];
    for (int i = 0; i < n; i++) {
        const sl_shape *s = sl_tensor_shape(sl_kernel_ctx_input(ctx, first + i));
        if (s->rank != s0->rank) {
            sl_kernel_ctx_fail(ctx, SL_INVALID_ARGUMENT, "input %d has rank %d, input 0 rank %d", i, s->rank, s0->rank);
            return;
        }
        for (int d = 0; d < s->rank; d++)
            if ((stacked || d != axis) && s->dims[d] != s0->dims[d]) {
                sl_kernel_ctx_fail(ctx, SL_INVALID_ARGUMENT, "input %d's dimension %d is %lld, input 0's %lld", i, d,
                                   (long long)s->dims[d], (long long)s0->dims[d]);
                return;
            }
        int64_t row = 1;
        for (int d = (int)axis; d < s->rank; d++)
            row *= s->dims[d];
        if (i < 64)
            chunks[i] = (size_t)row * esz;
        total += row;
    }
    if (n > 64) {
        sl_kernel_ctx_fail(ctx, SL_UNIMPLEMENTED, "GPU concat of more than 64 tensors");
        return;
    }
    if (!stacked) {
        os.dims[axis] = 0;
        for (int i = 0; i < n; i++)
            os.dims[axis] += sl_tensor_dim(sl_kernel_ctx_input(ctx, first + i), (int)axis);
    }
    sl_tensor *o = sl__gpu_output(ctx, 0, &os);
    if (!o)
        return;
    size_t pitch = (size_t)total * esz, at = 0;
    for (int i = 0; i < n; i++) {
        if (!copy_2d(ctx, (char *)sl_tensor_data(o) + at, pitch, sl_tensor_data(sl_kernel_ctx_input(ctx, first + i)),
                     chunks[i], chunks[i], outer))
            return;
        at += chunks[i];
    }
}

static void concat_v2_compute(sl_kernel_ctx *ctx)
{
    int n = sl_kernel_ctx_num_inputs(ctx) - 1;
    join(ctx, 0, n, sl__cuda_host_int(sl_kernel_ctx_input(ctx, n), 0), false);
}

static void concat_compute(sl_kernel_ctx *ctx)
{
    join(ctx, 1, sl_kernel_ctx_num_inputs(ctx) - 1, sl__cuda_host_int(sl_kernel_ctx_input(ctx, 0), 0), false);
}

static void pack_compute(sl_kernel_ctx *ctx)
{
    int64_t axis = 0;
    sl_node_attr_int(sl_kernel_ctx_node(ctx), "axis", &axis);
    join(ctx, 0, sl_kernel_ctx_num_inputs(ctx), axis, true);
}

/* Splits x along axis into pieces of sizes[] (n outputs); `unstacked`
 * (Unpack) drops the axis from each output. */
static void split(sl_kernel_ctx *ctx, const sl_tensor *x, int64_t axis_in, const int64_t *sizes, int n, bool unstacked)
{
    const sl_shape *in = sl_tensor_shape(x);
    int64_t axis = axis_in < 0 ? axis_in + in->rank : axis_in;
    if (axis < 0 || axis >= in->rank) {
        sl_kernel_ctx_fail(ctx, SL_INVALID_ARGUMENT, "axis %lld is out of range for rank %d", (long long)axis_in,
                           in->rank);
        return;
    }
    int64_t outer = 1, inner = 1;
    for (int d = 0; d < in->rank; d++) {
        if (d < axis)
            outer *= in->dims[d];
        else if (d > axis)
            inner *= in->dims[d];
    }
    size_t esz = sl_dtype_size(sl_tensor_dtype(x));
    size_t pitch = (size_t)(in->dims[axis] * inner) * esz, at = 0;
    for (int i = 0; i < n; i++) {
        sl_shape os = *in;
        if (unstacked) {
            for (int d = (int)axis; d + 1 < in->rank; d++)
                os.dims[d] = in->dims[d + 1];
            os.rank--;
        } else {
            os.dims[axis] = sizes[i];
        }
        sl_tensor *o = sl__gpu_output(ctx, i, &os);
        if (!o)
            return;
        size_t width = (size_t)(sizes[i] * inner) * esz;
        if (!copy_2d(ctx, sl_tensor_data(o), width, (const char *)sl_tensor_data(x) + at, pitch, width, outer))
            return;
        at += width;
    }
}

static void split_compute(sl_kernel_ctx *ctx)
{
    const sl_tensor *x = sl_kernel_ctx_input(ctx, 1);
    int n = sl_kernel_ctx_num_outputs(ctx);
    int64_t axis = sl__cuda_host_int(sl_kernel_ctx_input(ctx, 0), 0);
    int rank = sl_tensor_rank(x);
    int64_t a = axis < 0 ? axis + rank : axis;
    if (a < 0 || a >= rank || sl_tensor_dim(x, (int)a) % n) {
        sl_kernel_ctx_fail(ctx, SL_INVALID_ARGUMENT, "cannot split dimension %lld into %d equal pieces", (long long)axis, n);
        return;
    }
    int64_t *sizes = (int64_t *)sl_malloc(sizeof(int64_t) * (size_t)n);
    if (!sizes) {
        sl_kernel_ctx_fail(ctx, SL_RESOURCE_EXHAUSTED, "out of memory");
        return;
    }
    for (int i = 0; i < n; i++)
        sizes[i] = sl_tensor_dim(x, (int)a) / n;
    split(ctx, x, axis, sizes, n, false);
    sl_free(sizes);
}

static void split_v_compute(sl_kernel_ctx *ctx)
{
    const sl_tensor *x = sl_kernel_ctx_input(ctx, 0), *ss = sl_kernel_ctx_input(ctx, 1);
    int n = sl_kernel_ctx_num_outputs(ctx);
    int64_t axis = sl__cuda_host_int(sl_kernel_ctx_input(ctx, 2), 0);
    int rank = sl_tensor_rank(x);
    int64_t a = axis < 0 ? axis + rank : axis;
    if (a < 0 || a >= rank || sl_tensor_num_elements(ss) != n) {
        sl_kernel_ctx_fail(ctx, SL_INVALID_ARGUMENT, "size_splits must have %d entries and the axis be valid", n);
        return;
    }
    int64_t *sizes = (int64_t *)sl_malloc(sizeof(int64_t) * (size_t)n);
    if (!sizes) {
        sl_kernel_ctx_fail(ctx, SL_RESOURCE_EXHAUSTED, "out of memory");
        return;
    }
    int64_t known = 0;
    int unknown = -1;
    for (int i = 0; i < n; i++) {
        sizes[i] = sl__cuda_host_int(ss, i);
        if (sizes[i] == -1)
            unknown = i;
        else
            known += sizes[i];
    }
    if (unknown >= 0)
        sizes[unknown] = sl_tensor_dim(x, (int)a) - known;
    int64_t sum = 0;
    for (int i = 0; i < n; i++)
        sum += sizes[i];
    if (sum != sl_tensor_dim(x, (int)a)) {
        sl_kernel_ctx_fail(ctx, SL_INVALID_ARGUMENT, "size_splits add up to %lld, not the dimension %lld", (long long)sum,
                           (long long)sl_tensor_dim(x, (int)a));
    } else {
        split(ctx, x, axis, sizes, n, false);
    }
    sl_free(sizes);
}

static void unpack_compute(sl_kernel_ctx *ctx)
{
    const sl_tensor *x = sl_kernel_ctx_input(ctx, 0);
    int n = sl_kernel_ctx_num_outputs(ctx);
    int64_t axis = 0;
    sl_node_attr_int(sl_kernel_ctx_node(ctx), "axis", &axis);
    int64_t a = axis < 0 ? axis + sl_tensor_rank(x) : axis;
    if (a < 0 || a >= sl_tensor_rank(x) || sl_tensor_dim(x, (int)a) != n) {
        sl_kernel_ctx_fail(ctx, SL_INVALID_ARGUMENT, "cannot unpack %d tensors along axis %lld", n, (long long)axis);
        return;
    }
    int64_t ones[SL_MAX_DIMS * 64];
    if (n > (int)(sizeof(ones) / sizeof(ones[0]))) {
        sl_kernel_ctx_fail(ctx, SL_UNIMPLEMENTED, "GPU Unpack of more than %zu tensors", sizeof(ones) / sizeof(ones[0]));
        return;
    }
    for (int i = 0; i < n; i++)
        ones[i] = 1;
    split(ctx, x, axis, ones, n, true);
}

/* ---- Gather ------------------------------------------------------------------ */

template <typename E, typename I>
__global__ void gather_kernel(const E *p, const I *idx, E *o, int64_t nidx, int64_t P, int64_t inner, int64_t n)
{
    SL_CUDA_FOR(i, n)
    {
        int64_t b = i % inner, k = (i / inner) % nidx, a = i / (inner * nidx);
        int64_t j = (int64_t)idx[k];
        o[i] = j >= 0 && j < P ? p[(a * P + j) * inner + b] : (E)0;
    }
}

static void gather_compute(sl_kernel_ctx *ctx)
{
    const sl_node *node = sl_kernel_ctx_node(ctx);
    const sl_tensor *params = sl_kernel_ctx_input(ctx, 0), *idx = sl_kernel_ctx_input(ctx, 1);
    int64_t axis = 0;
    if (sl_kernel_ctx_num_inputs(ctx) > 2)
        axis = sl__cuda_host_int(sl_kernel_ctx_input(ctx, 2), 0);
    int64_t batch_dims = 0;
    sl_node_attr_int(node, "batch_dims", &batch_dims);
    const sl_shape *ps = sl_tensor_shape(params), *is = sl_tensor_shape(idx);
    if (batch_dims != 0) {
        sl_kernel_ctx_fail(ctx, SL_UNIMPLEMENTED, "batch_dims %lld is not supported (only 0)", (long long)batch_dims);
        return;
    }
    if (axis < 0)
        axis += ps->rank;
    if (axis < 0 || axis >= ps->rank || ps->rank + is->rank - 1 > SL_MAX_DIMS) {
        sl_kernel_ctx_fail(ctx, SL_INVALID_ARGUMENT, "axis is out of range for params of rank %d", ps->rank);
        return;
    }
    sl_shape os = {};
    int64_t outer = 1, inner = 1;
    for (int d = 0; d < axis; d++) {
        os.dims[os.rank++] = ps->dims[d];
        outer *= ps->dims[d];
    }
    for (int d = 0; d < is->rank; d++)
        os.dims[os.rank++] = is->dims[d];
    for (int d = (int)axis + 1; d < ps->rank; d++) {
        os.dims[os.rank++] = ps->dims[d];
        inner *= ps->dims[d];
    }
    sl_tensor *o = sl__gpu_output(ctx, 0, &os);
    int64_t n = o ? sl_tensor_num_elements(o) : 0;
    if (!n)
        return;
    int64_t nidx = sl_tensor_num_elements(idx), P = ps->dims[axis];
    cudaStream_t stream = cur_stream();
    if (sl_tensor_dtype(idx) == SL_DTYPE_INT64) {
        ELEM_DISPATCH(ctx, sl_dtype_size(sl_tensor_dtype(params)),
                      SL_CUDA_LAUNCH((gather_kernel<E, int64_t>), n, stream, (const E *)sl_tensor_data(params),
                                     (const int64_t *)sl_tensor_data(idx), (E *)sl_tensor_data(o), nidx, P, inner, n));
    } else {
        ELEM_DISPATCH(ctx, sl_dtype_size(sl_tensor_dtype(params)),
                      SL_CUDA_LAUNCH((gather_kernel<E, int32_t>), n, stream, (const E *)sl_tensor_data(params),
                                     (const int32_t *)sl_tensor_data(idx), (E *)sl_tensor_data(o), nidx, P, inner, n));
    }
    SL_CUDA_CHECK_LAUNCH(ctx);
}

/* ---- OneHot ------------------------------------------------------------------ */

template <typename E, typename I>
__global__ void one_hot_kernel(const I *idx, const E *on, const E *off, E *o, int64_t depth, int64_t inner, int64_t n)
{
    SL_CUDA_FOR(i, n)
    {
        int64_t b = i % inner, d = (i / inner) % depth, a = i / (inner * depth);
        o[i] = (int64_t)idx[a * inner + b] == d ? *on : *off;
    }
}

static void one_hot_compute(sl_kernel_ctx *ctx)
{
    const sl_tensor *idx = sl_kernel_ctx_input(ctx, 0), *depth_t = sl_kernel_ctx_input(ctx, 1),
                    *on = sl_kernel_ctx_input(ctx, 2), *off = sl_kernel_ctx_input(ctx, 3);
    int64_t axis = -1, depth = sl__cuda_host_int(depth_t, 0);
    sl_node_attr_int(sl_kernel_ctx_node(ctx), "axis", &axis);
    const sl_shape *is = sl_tensor_shape(idx);
    if (axis == -1)
        axis = is->rank;
    if (depth < 0 || axis < 0 || axis > is->rank || is->rank + 1 > SL_MAX_DIMS) {
        sl_kernel_ctx_fail(ctx, SL_INVALID_ARGUMENT, "bad depth %lld or axis %lld", (long long)depth, (long long)axis);
        return;
    }
    sl_shape os = {};
    int64_t inner = 1;
    for (int d = 0, k = 0; d <= is->rank; d++) {
        if (d == axis) {
            os.dims[os.rank++] = depth;
            continue;
        }
        os.dims[os.rank++] = is->dims[k];
        if (d > axis)
            inner *= is->dims[k];
        k++;
    }
    sl_tensor *o = sl__gpu_output(ctx, 0, &os);
    int64_t n = o ? sl_tensor_num_elements(o) : 0;
    if (!n)
        return;
    cudaStream_t stream = cur_stream();
    if (sl_tensor_dtype(idx) == SL_DTYPE_INT64) {
        ELEM_DISPATCH(ctx, sl_dtype_size(sl_tensor_dtype(on)),
                      SL_CUDA_LAUNCH((one_hot_kernel<E, int64_t>), n, stream, (const int64_t *)sl_tensor_data(idx),
                                     (const E *)sl_tensor_data(on), (const E *)sl_tensor_data(off),
                                     (E *)sl_tensor_data(o), depth, inner, n));
    } else if (sl_tensor_dtype(idx) == SL_DTYPE_INT32) {
        ELEM_DISPATCH(ctx, sl_dtype_size(sl_tensor_dtype(on)),
                      SL_CUDA_LAUNCH((one_hot_kernel<E, int32_t>), n, stream, (const int32_t *)sl_tensor_data(idx),
                                     (const E *)sl_tensor_data(on), (const E *)sl_tensor_data(off),
                                     (E *)sl_tensor_data(o), depth, inner, n));
    } else {
        ELEM_DISPATCH(ctx, sl_dtype_size(sl_tensor_dtype(on)),
                      SL_CUDA_LAUNCH((one_hot_kernel<E, uint8_t>), n, stream, (const uint8_t *)sl_tensor_data(idx),
                                     (const E *)sl_tensor_data(on), (const E *)sl_tensor_data(off),
                                     (E *)sl_tensor_data(o), depth, inner, n));
    }
    SL_CUDA_CHECK_LAUNCH(ctx);
}

/* ---- Fill, ZerosLike, OnesLike -------------------------------------------------- */

template <typename E> __global__ void fill_kernel(const E *v, E *o, int64_t n)
{
    SL_CUDA_FOR(i, n) o[i] = *v;
}

template <typename T> __global__ void ones_kernel(T *o, int64_t n)
{
    SL_CUDA_FOR(i, n) o[i] = (T)1;
}

static void fill_compute(sl_kernel_ctx *ctx)
{
    const sl_tensor *dims = sl_kernel_ctx_input(ctx, 0), *v = sl_kernel_ctx_input(ctx, 1);
    sl_shape os = {};
    os.rank = (int)sl_tensor_num_elements(dims);
    if (os.rank > SL_MAX_DIMS || sl_tensor_num_elements(v) != 1) {
        sl_kernel_ctx_fail(ctx, SL_INVALID_ARGUMENT, "dims must have at most %d entries and value be a scalar", SL_MAX_DIMS);
        return;
    }
    for (int d = 0; d < os.rank; d++)
        if ((os.dims[d] = sl__cuda_host_int(dims, d)) < 0) {
            sl_kernel_ctx_fail(ctx, SL_INVALID_ARGUMENT, "dims[%d] is negative", d);
            return;
        }
    sl_tensor *o = sl__gpu_output(ctx, 0, &os);
    int64_t n = o ? sl_tensor_num_elements(o) : 0;
    if (!n)
        return;
    cudaStream_t stream = cur_stream();
    ELEM_DISPATCH(ctx, sl_dtype_size(sl_tensor_dtype(v)),
                  SL_CUDA_LAUNCH(fill_kernel<E>, n, stream, (const E *)sl_tensor_data(v), (E *)sl_tensor_data(o), n));
    SL_CUDA_CHECK_LAUNCH(ctx);
}

static void zeros_like_compute(sl_kernel_ctx *ctx)
{
    const sl_tensor *x = sl_kernel_ctx_input(ctx, 0);
    sl_tensor *o = sl__gpu_output(ctx, 0, sl_tensor_shape(x));
    if (o && sl_tensor_byte_size(o))
        SL_CUDA_CHECK(ctx, cudaMemsetAsync(sl_tensor_data(o), 0, sl_tensor_byte_size(o), cur_stream()));
}

static void ones_like_compute(sl_kernel_ctx *ctx)
{
    const sl_tensor *x = sl_kernel_ctx_input(ctx, 0);
    sl_tensor *o = sl__gpu_output(ctx, 0, sl_tensor_shape(x));
    int64_t n = o ? sl_tensor_num_elements(o) : 0;
    if (!n)
        return;
    cudaStream_t stream = cur_stream();
    SL_CUDA_DISPATCH(ctx, sl_tensor_dtype(x), SL_CUDA_LAUNCH(ones_kernel<T>, n, stream, (T *)sl_tensor_data(o), n));
    SL_CUDA_CHECK_LAUNCH(ctx);
}

void sl__cuda_register_array(void)
{
    sl__cuda_reg("Transpose", GPU_ANY_T, NULL, transpose_compute, 1u << 1, 0);
    sl__cuda_reg("Slice", GPU_ANY_T, NULL, slice_compute, 1u << 1 | 1u << 2, 0);
    sl__cuda_reg("Tile", GPU_ANY_T, NULL, tile_compute, 1u << 1, 0);
    sl__cuda_reg("Pad", GPU_ANY_T, NULL, pad_compute, 1u << 1, 0);
    /* ConcatV2's axis is its last input: bit 31 stands for "the last" */
    sl__cuda_reg("ConcatV2", GPU_ANY_T, NULL, concat_v2_compute, SL_GPU_HOST_LAST_INPUT, 0);
    sl__cuda_reg("Concat", GPU_ANY_T, NULL, concat_compute, 1u << 0, 0);
    sl__cuda_reg("Pack", GPU_ANY_T, NULL, pack_compute, 0, 0);
    sl__cuda_reg("Split", GPU_ANY_T, NULL, split_compute, 1u << 0, 0);
    sl__cuda_reg("SplitV", GPU_ANY_T, NULL, split_v_compute, 1u << 1 | 1u << 2, 0);
    sl__cuda_reg("Unpack", GPU_ANY_T, NULL, unpack_compute, 0, 0);
    sl__cuda_reg("Gather", "Tparams: {float, double, int32, int64, bool}", NULL, gather_compute, 0, 0);
    sl__cuda_reg("GatherV2", "Tparams: {float, double, int32, int64, bool}", NULL, gather_compute, 1u << 2, 0);
    sl__cuda_reg("OneHot", GPU_ANY_T, NULL, one_hot_compute, 1u << 1, 0);
    sl__cuda_reg("Fill", GPU_ANY_T, NULL, fill_compute, 1u << 0, 0);
    sl__cuda_reg("ZerosLike", GPU_ANY_T, NULL, zeros_like_compute, 0, 0);
    sl__cuda_reg("OnesLike", SL_CUDA_NUMBERS, NULL, ones_like_compute, 0, 0);
}
