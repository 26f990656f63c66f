/* CPU kernels for the ops that only gradients use and the CPU kernel
 * library does not provide: StridedSliceGrad (dy scattered into zeros of
 * the input's shape, TF's slice-spec rules) and UnsortedSegmentSum (the
 * dense gradient of Gather).  Registered with the built-in kernels. */
#include "config.h"

#include <string.h>

#include "strided-slice-spec.h"
#include "train-private.h"

static int64_t int_at(const sl_tensor *t, int64_t k)
{
    return sl_tensor_dtype(t) == SL_DTYPE_INT64 ? ((const int64_t *)sl_tensor_data(t))[k]
                                                 : ((const int32_t *)sl_tensor_data(t))[k];
}

/* ---- StridedSliceGrad ----------------------------------------------------- */

static void strided_slice_grad_compute(sl_kernel_ctx *ctx)
{
    const sl_tensor *tshape = sl_kernel_ctx_input(ctx, 0), *dy = sl_kernel_ctx_input(ctx, 4);
    int64_t rank = sl_tensor_num_elements(tshape);
    if (sl_tensor_rank(tshape) != 1 || rank > SL_MAX_DIMS) {
        sl_kernel_ctx_fail(ctx, SL_INVALID_ARGUMENT, "shape must be a vector of at most %d entries", SL_MAX_DIMS);
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
    /* the forward kernel's own reading of the spec */
    sl_strided_slice spec;
    if (!sl__strided_slice_resolve(ctx, &in, sl_kernel_ctx_input(ctx, 1), sl_kernel_ctx_input(ctx, 2),
                                   sl_kernel_ctx_input(ctx, 3), &spec))
        return;
    int dense = in.rank;
    int64_t total = 1;
    for (int d = 0; d < dense; d++)
        total *= spec.size[d];
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
    int64_t acc = 1;
    for (int d = dense - 1; d >= 0; d--) {
        stride[d] = acc;
        acc *= in.dims[d];
    }
    const char *src = sl_tensor_data(dy);
    char *dst = sl_tensor_data(out);
    for (int64_t k = 0; k < total; k++) {
        int64_t off = 0;
        for (int d = 0; d < dense; d++)
            off += (spec.start[d] + idx[d] * spec.step[d]) * stride[d];
        memcpy(dst + (size_t)off * esz, src + (size_t)k * esz, esz);
        for (int d = dense - 1; d >= 0; d--) {
            if (++idx[d] < spec.size[d])
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
