/* Helpers shared by the gradient functions: undoing broadcasting and
 * reading constant integer inputs (axes, permutations, shapes). */
#include "config.h"

#include <string.h>

#include "grad-private.h"
#include "sluice/alloc.h"

/* Static reduction axes of a broadcast from `in` to `out`: n axes. */
static int static_axes(const sl_shape *in, const sl_shape *out, int32_t *axes)
{
    int n = 0, off = out->rank - in->rank;
    for (int i = 0; i < out->rank; i++) {
        int k = i - off;
        if (k < 0 || (in->dims[k] == 1 && out->dims[i] != 1))
            axes[n++] = i;
    }
    return n;
}

static sl_output reduce_static(sl_b *b, sl_output g, sl_output x)
{
    const sl_shape *sx = sl__b_static_shape(x), *sg = sl__b_static_shape(g);
    if (sl_shape_equal(sx, sg))
        return g;
    int32_t axes[SL_MAX_DIMS];
    int n = static_axes(sx, sg, axes);
    sl_output r = g;
    if (n > 0)
        r = sl__b_reduce(b, "Sum", g, sl__b_const_i32(b, axes, n), false);
    return sl__b_reshape(b, r, sl__b_shape(b, x));
}

void sl__grad_unbroadcast(sl_b *b, sl_output x, sl_output y, sl_output gx, sl_output gy,
                          sl_output *dx, sl_output *dy)
{
    const sl_shape *sx = sl__b_static_shape(x), *sy = sl__b_static_shape(y);
    const sl_shape *sgx = sl__has(gx) ? sl__b_static_shape(gx) : NULL;
    const sl_shape *sgy = sl__has(gy) ? sl__b_static_shape(gy) : NULL;
    bool known = sl_shape_is_fully_defined(sx) && sl_shape_is_fully_defined(sy) &&
                 (!sgx || sl_shape_is_fully_defined(sgx)) && (!sgy || sl_shape_is_fully_defined(sgy));
    if (known) {
        *dx = sl__has(gx) ? reduce_static(b, gx, x) : SL_NO_OUTPUT;
        *dy = sl__has(gy) ? reduce_static(b, gy, y) : SL_NO_OUTPUT;
        return;
    }
    sl_output shx = sl__b_shape(b, x), shy = sl__b_shape(b, y);
    sl_node_builder *nb = sl__b_begin(b, "BroadcastGradientArgs");
    sl__b_in(b, nb, shx);
    sl__b_in(b, nb, shy);
    sl_node *args = sl__b_end_node(b, nb);
    if (!args)
        return;
    *dx = sl__has(gx) ? sl__b_reshape(b, sl__b_reduce(b, "Sum", gx, (sl_output){args, 0}, false), shx)
                      : SL_NO_OUTPUT;
    *dy = sl__has(gy) ? sl__b_reshape(b, sl__b_reduce(b, "Sum", gy, (sl_output){args, 1}, false), shy)
                      : SL_NO_OUTPUT;
}

bool sl__grad_const_ints(sl_b *b, const sl_node *op, sl_output in, int64_t *out, int max, int *n)
{
    const sl_node *src = in.node;
    while (src && !strcmp(sl_node_op_type(src), "Identity"))
        src = sl_node_input(src, 0).node;
    const sl_tensor *t = NULL;
    if (!src || strcmp(sl_node_op_type(src), "Const") || !sl_node_attr_tensor(src, "value", &t)) {
        sl__b_fail(b, SL_UNIMPLEMENTED,
                   "node '%s' (%s): the gradient needs input '%s' to be a constant",
                   sl_node_name(op), sl_node_op_type(op), src ? sl_node_name(src) : "?");
        return false;
    }
    int64_t cnt = sl_tensor_num_elements(t);
    if (cnt > max) {
        sl__b_fail(b, SL_INVALID_ARGUMENT, "node '%s' (%s): constant input has %lld entries",
                   sl_node_name(op), sl_node_op_type(op), (long long)cnt);
        return false;
    }
    for (int64_t i = 0; i < cnt; i++) {
        switch (sl_tensor_dtype(t)) {
        case SL_DTYPE_INT32: out[i] = ((const int32_t *)sl_tensor_data(t))[i]; break;
        case SL_DTYPE_INT64: out[i] = ((const int64_t *)sl_tensor_data(t))[i]; break;
        default:
            sl__b_fail(b, SL_INVALID_ARGUMENT, "node '%s' (%s): expected an integer constant",
                       sl_node_name(op), sl_node_op_type(op));
            return false;
        }
    }
    *n = (int)cnt;
    return true;
}
