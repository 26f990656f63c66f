/* CPU kernels for the ops that only gradients use and the CPU kernel
 * library does not provide: StridedSliceGrad (dy scattered into zeros of
 * the input's shape, TF's slice-spec rules) and UnsortedSegmentSum (the
 * dense gradient of Gather).  Registered with the built-in kernels. */
#include "config.h"

#include <string.h>

#include "train-private.h"

static int64_t int_at(const sl_tensor *t, int64_t k)
{
    return sl_tensor_dtype(t) == SL_DTYPE_INT64 ? ((const int64_t *)sl_tensor_data(t))[k]
                                                 : ((const int32_t *)sl_tensor_data(t))[k];
}

/* ---- StridedSliceGrad ----------------------------------------------------- */

static void strided_slice_grad_compute(sl_kernel_ctx *ctx)
{
    const sl_node *node = sl_kernel_ctx_node(ctx);
    const sl_tensor *tshape = sl_kernel_ctx_input(ctx, 0), *tb = sl_kernel_ctx_input(ctx, 1),
                    *te = sl_kernel_ctx_input(ctx, 2), *ts = sl_kernel_ctx_input(ctx, 3),
                    *dy = sl_kernel_ctx_input(ctx, 4);
    int64_t rank = sl_tensor_num_elements(tshape), n = sl_tensor_num_elements(tb);
    if (sl_tensor_rank(tshape) != 1 || rank > SL_MAX_DIMS) {
        sl_kernel_ctx_fail(ctx, SL_INVALID_ARGUMENT, "shape must be a vector of at most %d entries", SL_MAX_DIMS);
        return;
    }
    if (sl_tensor_num_elements(te) != n || sl_tensor_num_elements(ts) != n || n > 32) {
        sl_kernel_ctx_fail(ctx, SL_INVALID_ARGUMENT, "begin, end and strides must have the same length (at most 32)");
        return;
    }
    sl_shape in = {.rank = (int)rank};
    for (int i = 0; i < rank; i++) {
        in.dims[i] = int_at(tshape, i);
        if (in.dims[i] < 0) {
            sl_kernel_ctx_fail(ctx, SL_INVALID_ARGUMENT, "shape has a negative dimension");
            return;
        }
    }
    int64_t bm = 0, em = 0, elm = 0, nam = 0, sam = 0;
    sl_node_attr_int(node, "begin_mask", &bm);
    sl_node_attr_int(node, "end_mask", &em);
    sl_node_attr_int(node, "ellipsis_mask", &elm);
    sl_node_attr_int(node, "new_axis_mask", &nam);
    sl_node_attr_int(node, "shrink_axis_mask", &sam);
    if (elm & (elm - 1)) {
        sl_kernel_ctx_fail(ctx, SL_INVALID_ARGUMENT, "multiple ellipses in slice spec not allowed");
        return;
    }
    /* sparse spec -> dense spec over the input's dims (as the forward kernel) */
    int64_t sparse_n = n;
    if (!elm) {
        elm = (int64_t)1 << n;
        sparse_n = n + 1;
    }
    int dense = in.rank, full = 0;
    int64_t db[SL_MAX_DIMS], de[SL_MAX_DIMS], ds[SL_MAX_DIMS];
    bool dbm[SL_MAX_DIMS], dem[SL_MAX_DIMS], dsh[SL_MAX_DIMS];
    for (int64_t i = 0; i < sparse_n; i++) {
        if (elm & ((int64_t)1 << i)) {
            int new_after = 0;
            for (int64_t k = i + 1; k < sparse_n; k++)
                new_after += (nam & ((int64_t)1 << k)) != 0;
            int64_t next = dense - (sparse_n - i) + 1 + new_after;
            if (next > dense)
                next = dense;
            for (; full < next; full++) {
                db[full] = de[full] = 0;
                ds[full] = 1;
                dbm[full] = dem[full] = true;
                dsh[full] = false;
            }
        } else if (!(nam & ((int64_t)1 << i))) {
            if (full >= dense) {
                sl_kernel_ctx_fail(ctx, SL_INVALID_ARGUMENT, "index out of range using input dim %d", full);
                return;
            }
            db[full] = int_at(tb, i);
            de[full] = int_at(te, i);
            ds[full] = int_at(ts, i);
            dbm[full] = bm & ((int64_t)1 << i);
            dem[full] = em & ((int64_t)1 << i);
            dsh[full] = sam & ((int64_t)1 << i);
            full++;
        }
    }
    int64_t size[SL_MAX_DIMS], start[SL_MAX_DIMS], step[SL_MAX_DIMS], total = 1;
    for (int d = 0; d < dense; d++) {
        int64_t dim = in.dims[d], b = db[d], e = de[d], s = ds[d];
        if (s == 0) {
            sl_kernel_ctx_fail(ctx, SL_INVALID_ARGUMENT, "strides[%d] must be non-zero", d);
            return;
        }
        if (dsh[d]) {
            b = b < 0 ? dim + b : b;
            if (b < 0 || b >= dim) {
                sl_kernel_ctx_fail(ctx, SL_INVALID_ARGUMENT, "slice index of dimension %d out of bounds", d);
                return;
            }
            s = 1;
            size[d] = 1;
        } else {
            int64_t lo = s > 0 ? 0 : -1, hi = s > 0 ? dim : dim - 1;
            b = dbm[d] ? (s > 0 ? lo : hi) : (b < 0 ? dim + b : b);
            if (!dbm[d])
                b = b < lo ? lo : b > hi ? hi : b;
            e = dem[d] ? (s > 0 ? hi : lo) : (e < 0 ? dim + e : e);
            if (!dem[d])
                e = e < lo ? lo : e > hi ? hi : e;
            int64_t interval = e - b;
            size[d] = (interval == 0 || (interval < 0) != (s < 0)) ? 0 : interval / s + (interval % s != 0);
        }
        start[d] = b;
        step[d] = s;
        total *= size[d];
    }
    if (total != sl_tensor_num_elements(dy)) {
        sl_kernel_ctx_fail(ctx, SL_INVALID_ARGUMENT, "dy has %lld elements but the slice has %lld",
                           (long long)sl_tensor_num_elements(dy), (long long)total);
        return;
    }
    sl_tensor *out = sl_kernel_ctx_allocate_output(ctx, 0, &in);
    if (!out)
        return;
    size_t esz = sl_dtype_size(sl_tensor_dtype(dy));
    memset(sl_tensor_data(out), 0, sl_tensor_byte_size(out));
    int64_t stride[SL_MAX_DIMS], idx[SL_MAX_DIMS] = {0};
    for (int d = dense - 1, acc = 1; d >= 0; d--) {
        stride[d] = acc;
        acc *= (int)in.dims[d];
    }
    const char *src = sl_tensor_data(dy);
    char *dst = sl_tensor_data(out);
    for (int64_t k = 0; k < total; k++) {
        int64_t off = 0;
        for (int d = 0; d < dense; d++)
            off += (start[d] + idx[d] * step[d]) * stride[d];
        memcpy(dst + (size_t)off * esz, src + (size_t)k * esz, esz);
        for (int d = dense - 1; d >= 0; d--) {
            if (++idx[d] < size[d])
                break;
            idx[d] = 0;
        }
    }
}

/* ---- UnsortedSegmentSum ----------------------------------------------------- */

#define SEGMENT_SUM(T)                                                                       \
    for (int64_t i = 0; i < m; i++) {                                                        \
        int64_t id = int_at(ids, i);                                                         \
        if (id < 0)                                                                          \
            continue; /* dropped, as TF does */                                              \
        T *o = (T *)sl_tensor_data(out) + id * inner;                                        \
        const T *s = (const T *)sl_tensor_data(data) + i * inner;                            \
        for (int64_t k = 0; k < inner; k++)                                                  \
            o[k] += s[k];                                                                    \
    }

static void unsorted_segment_sum_compute(sl_kernel_ctx *ctx)
{
    const sl_tensor *data = sl_kernel_ctx_input(ctx, 0), *ids = sl_kernel_ctx_input(ctx, 1),
                    *num = sl_kernel_ctx_input(ctx, 2);
    const sl_shape *ds = sl_tensor_shape(data), *is = sl_tensor_shape(ids);
    if (sl_tensor_num_elements(num) != 1) {
        sl_kernel_ctx_fail(ctx, SL_INVALID_ARGUMENT, "num_segments must be a scalar");
        return;
    }
    int64_t nseg = int_at(num, 0), m = sl_tensor_num_elements(ids);
    bool prefix = is->rank <= ds->rank;
    for (int i = 0; prefix && i < is->rank; i++)
        prefix = is->dims[i] == ds->dims[i];
    if (!prefix || nseg < 0) {
        sl_kernel_ctx_fail(ctx, SL_INVALID_ARGUMENT,
                           "segment_ids must be a prefix of data's shape and num_segments >= 0");
        return;
    }
    sl_shape os = {.rank = 1 + ds->rank - is->rank};
    os.dims[0] = nseg;
    int64_t inner = 1;
    for (int i = is->rank; i < ds->rank; i++) {
        os.dims[1 + i - is->rank] = ds->dims[i];
        inner *= ds->dims[i];
    }
    for (int64_t i = 0; i < m; i++) {
        if (int_at(ids, i) >= nseg) {
            sl_kernel_ctx_fail(ctx, SL_INVALID_ARGUMENT, "segment id %lld at %lld is not below num_segments %lld",
                               (long long)int_at(ids, i), (long long)i, (long long)nseg);
            return;
        }
    }
    sl_tensor *out = sl_kernel_ctx_allocate_output(ctx, 0, &os);
    if (!out)
        return;
    memset(sl_tensor_data(out), 0, sl_tensor_byte_size(out));
    switch (sl_tensor_dtype(data)) {
    case SL_DTYPE_FLOAT: SEGMENT_SUM(float); break;
    case SL_DTYPE_DOUBLE: SEGMENT_SUM(double); break;
    case SL_DTYPE_INT32: SEGMENT_SUM(int32_t); break;
    case SL_DTYPE_INT64: SEGMENT_SUM(int64_t); break;
    default: break;  /* excluded by the constraint */
    }
}

static const sl_kernel_def grad_kernels[] = {
    {.op = "StridedSliceGrad", .device = SL_DEVICE_CPU, .constraints = {"Index: {int32, int64}"},
     .compute = strided_slice_grad_compute},
    {.op = "UnsortedSegmentSum", .device = SL_DEVICE_CPU,
     .constraints = {"T: {float, double, int32, int64}", "Tindices: {int32, int64}",
                     "Tnumsegments: {int32, int64}"},
     .compute = unsorted_segment_sum_compute},
};

sl_code sl__train_register_grad_kernels(sl_status *status)
{
    for (size_t i = 0; i < sizeof(grad_kernels) / sizeof(grad_kernels[0]); i++) {
        sl_code c = sl_kernel_register(&grad_kernels[i], status);
        if (c != SL_OK && c != SL_ALREADY_EXISTS)
            return c;
    }
    sl_status_clear(status);
    return SL_OK;
}
