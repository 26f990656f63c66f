/* TensorProto <-> sl_tensor.  Element bytes are little-endian row-major in
 * both, so numeric conversion is a copy; the *_val fields need per-dtype
 * handling, including TF's rule that a short list repeats its last value. */
#include "config.h"

#include "tensor-proto.h"

#include <stdlib.h>
#include <string.h>

#include "attr-value.h"

/* Writes element i of `dtype` from a value list entry. */
static void store(void *dst, sl_dtype dtype, int64_t i, const void *src_list, size_t j)
{
    switch (dtype) {
    case SL_DTYPE_FLOAT: ((float *)dst)[i] = ((const float *)src_list)[j]; break;
    case SL_DTYPE_DOUBLE: ((double *)dst)[i] = ((const double *)src_list)[j]; break;
    case SL_DTYPE_INT32:
    case SL_DTYPE_QINT32: ((int32_t *)dst)[i] = ((const int32_t *)src_list)[j]; break;
    case SL_DTYPE_INT16:
    case SL_DTYPE_QINT16: ((int16_t *)dst)[i] = (int16_t)((const int32_t *)src_list)[j]; break;
    case SL_DTYPE_UINT16:
    case SL_DTYPE_QUINT16:
    case SL_DTYPE_HALF:
    case SL_DTYPE_BFLOAT16: ((uint16_t *)dst)[i] = (uint16_t)((const int32_t *)src_list)[j]; break;
    case SL_DTYPE_INT8:
    case SL_DTYPE_QINT8: ((int8_t *)dst)[i] = (int8_t)((const int32_t *)src_list)[j]; break;
    case SL_DTYPE_UINT8:
    case SL_DTYPE_QUINT8: ((uint8_t *)dst)[i] = (uint8_t)((const int32_t *)src_list)[j]; break;
    case SL_DTYPE_INT64: ((int64_t *)dst)[i] = ((const int64_t *)src_list)[j]; break;
    case SL_DTYPE_UINT32: ((uint32_t *)dst)[i] = ((const uint32_t *)src_list)[j]; break;
    case SL_DTYPE_UINT64: ((uint64_t *)dst)[i] = ((const uint64_t *)src_list)[j]; break;
    case SL_DTYPE_BOOL: ((uint8_t *)dst)[i] = ((const protobuf_c_boolean *)src_list)[j] ? 1 : 0; break;
    case SL_DTYPE_COMPLEX64:
        ((float *)dst)[2 * i] = ((const float *)src_list)[2 * j];
        ((float *)dst)[2 * i + 1] = ((const float *)src_list)[2 * j + 1];
        break;
    case SL_DTYPE_COMPLEX128:
        ((double *)dst)[2 * i] = ((const double *)src_list)[2 * j];
        ((double *)dst)[2 * i + 1] = ((const double *)src_list)[2 * j + 1];
        break;
    default:
        break;
    }
}

/* The value list for dtype and its length in elements. */
static const void *value_list(const Tensorflow__TensorProto *p, sl_dtype dtype, size_t *n)
{
    switch (dtype) {
    case SL_DTYPE_FLOAT: *n = p->n_float_val; return p->float_val;
    case SL_DTYPE_DOUBLE: *n = p->n_double_val; return p->double_val;
    case SL_DTYPE_INT32: case SL_DTYPE_INT16: case SL_DTYPE_INT8: case SL_DTYPE_UINT8:
    case SL_DTYPE_UINT16: case SL_DTYPE_QINT8: case SL_DTYPE_QUINT8: case SL_DTYPE_QINT16:
    case SL_DTYPE_QUINT16: case SL_DTYPE_QINT32:
        *n = p->n_int_val; return p->int_val;
    case SL_DTYPE_INT64: *n = p->n_int64_val; return p->int64_val;
    case SL_DTYPE_BOOL: *n = p->n_bool_val; return p->bool_val;
    case SL_DTYPE_HALF: case SL_DTYPE_BFLOAT16: *n = p->n_half_val; return p->half_val;
    case SL_DTYPE_UINT32: *n = p->n_uint32_val; return p->uint32_val;
    case SL_DTYPE_UINT64: *n = p->n_uint64_val; return p->uint64_val;
    case SL_DTYPE_COMPLEX64: *n = p->n_scomplex_val / 2; return p->scomplex_val;
    case SL_DTYPE_COMPLEX128: *n = p->n_dcomplex_val / 2; return p->dcomplex_val;
    case SL_DTYPE_STRING: *n = p->n_string_val; return p->string_val;
    default: *n = 0; return NULL;
    }
}

sl_tensor *sl__tensor_from_proto(const Tensorflow__TensorProto *p, sl_status *status)
{
    sl_dtype dtype = (sl_dtype)p->dtype;
    if (!sl_dtype_is_valid((int)dtype) || sl_dtype_is_ref(dtype) || dtype == SL_DTYPE_RESOURCE ||
        dtype == SL_DTYPE_VARIANT) {
        sl_status_set(status, SL_INVALID_ARGUMENT, "tensor has unsupported dtype %d", (int)p->dtype);
        return NULL;
    }
    if (p->tensor_shape && p->tensor_shape->unknown_rank) {
        sl_status_set(status, SL_INVALID_ARGUMENT, "tensor has an unknown rank");
        return NULL;
    }
    if (p->tensor_shape && p->tensor_shape->n_dim > SL_MAX_DIMS) {
        sl_status_set(status, SL_INVALID_ARGUMENT, "tensor has rank %zu, more than %d",
                      p->tensor_shape->n_dim, SL_MAX_DIMS);
        return NULL;
    }
    sl_shape shape = sl__shape_from_proto(p->tensor_shape);
    sl_tensor *t = sl_tensor_new(dtype, &shape, status);
    if (!t)
        return NULL;
    int64_t n = sl_tensor_num_elements(t);
    void *dst = sl_tensor_data(t);

    if (p->tensor_content.len > 0 || (dtype != SL_DTYPE_STRING && p->tensor_content.data)) {
        if (dtype == SL_DTYPE_STRING) {
            sl_status_set(status, SL_INVALID_ARGUMENT, "string tensor in tensor_content is not supported");
            goto err;
        }
        if (p->tensor_content.len != sl_tensor_byte_size(t)) {
            sl_status_set(status, SL_INVALID_ARGUMENT,
                          "tensor_content has %zu bytes but a %s tensor of %lld elements needs %zu",
                          p->tensor_content.len, sl_dtype_name(dtype), (long long)n,
                          sl_tensor_byte_size(t));
            goto err;
        }
        if (p->tensor_content.len)
            memcpy(dst, p->tensor_content.data, p->tensor_content.len);
        return t;
    }

    size_t m;
    const void *vals = value_list(p, dtype, &m);
    if ((int64_t)m > n) {
        sl_status_set(status, SL_INVALID_ARGUMENT, "tensor has %zu values for %lld elements", m,
                      (long long)n);
        goto err;
    }
    if (m == 0)
        return t;  /* all zeros, as TF reads it */
    for (int64_t i = 0; i < n; i++) {
        size_t j = (size_t)i < m ? (size_t)i : m - 1;
        if (dtype == SL_DTYPE_STRING) {
            const ProtobufCBinaryData *s = &((const ProtobufCBinaryData *)vals)[j];
            if (sl_tensor_set_string(t, i, s->data, s->len, status) != SL_OK)
                goto err;
        } else {
            store(dst, dtype, i, vals, j);
        }
    }
    sl_status_clear(status);
    return t;
err:
    sl_tensor_unref(t);
    return NULL;
}

Tensorflow__TensorProto *sl__tensor_to_proto(const sl_tensor *t, sl_status *status)
{
    Tensorflow__TensorProto *p = malloc(sizeof(*p));
    if (!p)
        goto oom;
    tensorflow__tensor_proto__init(p);
    p->dtype = (Tensorflow__DataType)sl_tensor_dtype(t);
    p->tensor_shape = sl__shape_to_proto(sl_tensor_shape(t));
    if (!p->tensor_shape)
        goto oom;
    int64_t n = sl_tensor_num_elements(t);
    if (sl_tensor_dtype(t) == SL_DTYPE_STRING) {
        const sl_tstring *s = sl_tensor_data(t);
        if (n) {
            p->string_val = calloc((size_t)n, sizeof(*p->string_val));
            if (!p->string_val)
                goto oom;
        }
        for (int64_t i = 0; i < n; i++) {
            p->string_val[i].data = malloc(s[i].size ? s[i].size : 1);
            if (!p->string_val[i].data)
                goto oom;
            memcpy(p->string_val[i].data, s[i].data ? s[i].data : "", s[i].size);
            p->string_val[i].len = s[i].size;
            p->n_string_val++;
        }
    } else {
        size_t bytes = sl_tensor_byte_size(t);
        p->tensor_content.data = malloc(bytes ? bytes : 1);
        if (!p->tensor_content.data)
            goto oom;
        if (bytes)
            memcpy(p->tensor_content.data, sl_tensor_data(t), bytes);
        p->tensor_content.len = bytes;
    }
    sl_status_clear(status);
    return p;
oom:
    if (p)
        protobuf_c_message_free_unpacked(&p->base, NULL);
    sl_status_set(status, SL_RESOURCE_EXHAUSTED, "out of memory converting a tensor to a TensorProto");
    return NULL;
}
