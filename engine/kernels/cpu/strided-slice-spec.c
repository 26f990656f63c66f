/* Resolution of StridedSlice specs; see strided-slice-spec.h. */
#include "config.h"

#include "strided-slice-spec.h"

#include "cpu-kernels.h"

#define NEW_AXIS (-1)
#define SHRINK_AXIS (-2)

bool sl__strided_slice_resolve(sl_kernel_ctx *ctx, const sl_shape *in, const sl_tensor *tb, const sl_tensor *te,
                               const sl_tensor *ts, sl_strided_slice *out)
{
    const sl_node *node = sl_kernel_ctx_node(ctx);
    if (!sl__k_check_int_vector(ctx, tb, "begin") || !sl__k_check_int_vector(ctx, te, "end") ||
        !sl__k_check_int_vector(ctx, ts, "strides"))
        return false;
    int64_t n = sl_tensor_num_elements(tb);
    if (sl_tensor_num_elements(te) != n || sl_tensor_num_elements(ts) != n || n > 32) {
        sl_kernel_ctx_fail(ctx, SL_INVALID_ARGUMENT,
                           "begin, end and strides must have the same length (at most 32), got %lld, %lld and %lld",
                           (long long)n, (long long)sl_tensor_num_elements(te), (long long)sl_tensor_num_elements(ts));
        return false;
    }
    int64_t bm = 0, em = 0, elm = 0, nam = 0, sam = 0;
    sl_node_attr_int(node, "begin_mask", &bm);
    sl_node_attr_int(node, "end_mask", &em);
    sl_node_attr_int(node, "ellipsis_mask", &elm);
    sl_node_attr_int(node, "new_axis_mask", &nam);
    sl_node_attr_int(node, "shrink_axis_mask", &sam);
    if (elm & (elm - 1)) {
        sl_kernel_ctx_fail(ctx, SL_INVALID_ARGUMENT, "multiple ellipses in slice spec not allowed");
        return false;
    }
    /* sparse spec -> dense spec over the input's dims; no ellipsis means
     * an implied one at the end */
    int64_t sparse_n = n;
    if (!elm) {
        elm = (int64_t)1 << n;
        sparse_n = n + 1;
    }
    int dense = in->rank, full = 0, ngather = 0;
    int64_t db[SL_MAX_DIMS], de[SL_MAX_DIMS], ds[SL_MAX_DIMS];
    bool dbm[SL_MAX_DIMS], dem[SL_MAX_DIMS], dsh[SL_MAX_DIMS];
    int gather[64];  /* output dims: an input dim, NEW_AXIS or SHRINK_AXIS */
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
                gather[ngather++] = full;
            }
        } else if (nam & ((int64_t)1 << i)) {
            gather[ngather++] = NEW_AXIS;
        } else {
            if (full >= dense) {
                sl_kernel_ctx_fail(ctx, SL_INVALID_ARGUMENT,
                                   "index out of range using input dim %d; input has only %d dims", full, dense);
                return false;
            }
            db[full] = sl__k_int_at(tb, i);
            de[full] = sl__k_int_at(te, i);
            ds[full] = sl__k_int_at(ts, i);
            dbm[full] = bm & ((int64_t)1 << i);
            dem[full] = em & ((int64_t)1 << i);
            dsh[full] = sam & ((int64_t)1 << i);
            gather[ngather++] = dsh[full] ? SHRINK_AXIS : full;
            full++;
        }
    }
    for (int d = 0; d < dense; d++) {
        int64_t dim = in->dims[d], b = db[d], e = de[d], s = ds[d], size;
        if (s == 0) {
            sl_kernel_ctx_fail(ctx, SL_INVALID_ARGUMENT, "strides[%d] must be non-zero", d);
            return false;
        }
        if (dsh[d]) {
            int64_t xf = b < 0 ? dim + b : b;
            if (xf < 0 || xf >= dim) {
                sl_kernel_ctx_fail(ctx, SL_INVALID_ARGUMENT, "slice index %lld of dimension %d out of bounds (size %lld)",
                                   (long long)b, d, (long long)dim);
                return false;
            }
            b = xf;
            s = 1;
            size = 1;
        } else {
            /* clamp as TF does: negative indices count from the end */
            int64_t lo = s > 0 ? 0 : -1, hi = s > 0 ? dim : dim - 1;
            if (dbm[d]) {
                b = s > 0 ? lo : hi;
            } else {
                b = b < 0 ? dim + b : b;
                b = b < lo ? lo : b > hi ? hi : b;
            }
            if (dem[d]) {
                e = s > 0 ? hi : lo;
            } else {
                e = e < 0 ? dim + e : e;
                e = e < lo ? lo : e > hi ? hi : e;
            }
            int64_t interval = e - b;
            size = (interval == 0 || (interval < 0) != (s < 0)) ? 0 : interval / s + (interval % s != 0);
        }
        out->start[d] = b;
        out->step[d] = s;
        out->size[d] = size;
    }
    out->out_shape.rank = 0;
    for (int g = 0; g < ngather; g++) {
        if (gather[g] == SHRINK_AXIS)
            continue;
        if (out->out_shape.rank >= SL_MAX_DIMS) {
            sl_kernel_ctx_fail(ctx, SL_INVALID_ARGUMENT, "result has more than %d dimensions", SL_MAX_DIMS);
            return false;
        }
        out->out_shape.dims[out->out_shape.rank++] = gather[g] == NEW_AXIS ? 1 : out->size[gather[g]];
    }
    return true;
}
