/* Shape algebra: construction, compatibility, merge and NumPy broadcasting,
 * with unknown ranks and dims as TF's shape inference treats them. */
#include "config.h"

#include "sluice/shape.h"

#include <stdio.h>
#include <string.h>

sl_shape sl_shape_unknown(void)
{
    sl_shape s = {.rank = SL_RANK_UNKNOWN};
    return s;
}

sl_shape sl_shape_scalar(void)
{
    sl_shape s = {.rank = 0};
    return s;
}

sl_shape sl_shape_make(int rank, const int64_t *dims)
{
    sl_shape s = {.rank = rank};
    for (int i = 0; i < rank && i < SL_MAX_DIMS; i++)
        s.dims[i] = dims[i] < 0 ? SL_DIM_UNKNOWN : dims[i];
    return s;
}

sl_shape sl_shape_vector(int64_t n)
{
    return sl_shape_make(1, &n);
}

sl_shape sl_shape_matrix(int64_t rows, int64_t cols)
{
    int64_t d[2] = {rows, cols};
    return sl_shape_make(2, d);
}

bool sl_shape_is_fully_defined(const sl_shape *shape)
{
    if (shape->rank < 0)
        return false;
    for (int i = 0; i < shape->rank; i++)
        if (shape->dims[i] < 0)
            return false;
    return true;
}

int64_t sl_shape_num_elements(const sl_shape *shape)
{
    if (!sl_shape_is_fully_defined(shape))
        return -1;
    int64_t n = 1;
    for (int i = 0; i < shape->rank; i++) {
        int64_t d = shape->dims[i];
        if (d != 0 && n > INT64_MAX / d)
            return -1;
        n *= d;
    }
    return n;
}

bool sl_shape_equal(const sl_shape *a, const sl_shape *b)
{
    if (a->rank != b->rank)
        return false;
    for (int i = 0; i < a->rank; i++)
        if (a->dims[i] != b->dims[i])
            return false;
    return true;
}

bool sl_shape_is_compatible(const sl_shape *a, const sl_shape *b)
{
    if (a->rank < 0 || b->rank < 0)
        return true;
    if (a->rank != b->rank)
        return false;
    for (int i = 0; i < a->rank; i++)
        if (a->dims[i] >= 0 && b->dims[i] >= 0 && a->dims[i] != b->dims[i])
            return false;
    return true;
}

sl_code sl_shape_merge(const sl_shape *a, const sl_shape *b, sl_shape *out, sl_status *status)
{
    char sa[SL_SHAPE_STRING_MAX], sb[SL_SHAPE_STRING_MAX];
    if (!sl_shape_is_compatible(a, b))
        return sl_status_set(status, SL_INVALID_ARGUMENT, "shapes %s and %s are incompatible",
                             sl_shape_to_string(a, sa, sizeof(sa)),
                             sl_shape_to_string(b, sb, sizeof(sb)));
    if (a->rank < 0) {
        *out = *b;
    } else {
        sl_shape r = *a;
        for (int i = 0; b->rank >= 0 && i < r.rank; i++)
            if (r.dims[i] < 0)
                r.dims[i] = b->dims[i];
        *out = r;
    }
    sl_status_clear(status);
    return SL_OK;
}

sl_code sl_shape_broadcast(const sl_shape *a, const sl_shape *b, sl_shape *out, sl_status *status)
{
    if (a->rank < 0 || b->rank < 0) {
        *out = sl_shape_unknown();
        sl_status_clear(status);
        return SL_OK;
    }
    sl_shape r = {.rank = a->rank > b->rank ? a->rank : b->rank};
    for (int i = 0; i < r.rank; i++) {
        /* align from the right: position i counts from the last dim */
        int ia = a->rank - r.rank + i, ib = b->rank - r.rank + i;
        int64_t da = ia >= 0 ? a->dims[ia] : 1;
        int64_t db = ib >= 0 ? b->dims[ib] : 1;
        int64_t d;
        if (da == 1)
            d = db;
        else if (db == 1)
            d = da;
        else if (da < 0 && db < 0)
            d = SL_DIM_UNKNOWN;
        else if (da < 0)
            d = db;  /* the unknown side must be 1 or equal: either way db */
        else if (db < 0)
            d = da;
        else if (da == db)
            d = da;
        else {
            char sa[SL_SHAPE_STRING_MAX], sb[SL_SHAPE_STRING_MAX];
            return sl_status_set(status, SL_INVALID_ARGUMENT,
                                 "shapes %s and %s cannot be broadcast (dimension %d: %lld vs %lld)",
                                 sl_shape_to_string(a, sa, sizeof(sa)),
                                 sl_shape_to_string(b, sb, sizeof(sb)), i, (long long)da,
                                 (long long)db);
        }
        r.dims[i] = d;
    }
    *out = r;
    sl_status_clear(status);
    return SL_OK;
}

char *sl_shape_to_string(const sl_shape *shape, char *buf, size_t size)
{
    if (size == 0)
        return buf;
    if (shape->rank < 0) {
        snprintf(buf, size, "<unknown>");
        return buf;
    }
    size_t pos = 0;
    pos += (size_t)snprintf(buf + pos, pos < size ? size - pos : 0, "[");
    for (int i = 0; i < shape->rank; i++) {
        const char *sep = i ? "," : "";
        if (shape->dims[i] < 0)
            pos += (size_t)snprintf(buf + pos, pos < size ? size - pos : 0, "%s?", sep);
        else
            pos += (size_t)snprintf(buf + pos, pos < size ? size - pos : 0, "%s%lld", sep,
                                    (long long)shape->dims[i]);
    }
    snprintf(buf + (pos < size ? pos : size - 1), pos < size ? size - pos : 1, "]");
    return buf;
}
