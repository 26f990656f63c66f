/* DataType table: sizes and names of TF's types, indexed by enum value. */
#include "config.h"

#include "sluice/dtype.h"

#include <string.h>
#include <strings.h>

struct dtype_info {
    const char *name;       /* TF's short name, as in op signatures */
    const char *enum_name;  /* DT_* as in text-format files */
    size_t size;
};

static const struct dtype_info g_info[SL_DTYPE_LAST_BASE + 1] = {
    [SL_DTYPE_INVALID] = {"invalid", "DT_INVALID", 0},
    [SL_DTYPE_FLOAT] = {"float", "DT_FLOAT", 4},
    [SL_DTYPE_DOUBLE] = {"double", "DT_DOUBLE", 8},
    [SL_DTYPE_INT32] = {"int32", "DT_INT32", 4},
    [SL_DTYPE_UINT8] = {"uint8", "DT_UINT8", 1},
    [SL_DTYPE_INT16] = {"int16", "DT_INT16", 2},
    [SL_DTYPE_INT8] = {"int8", "DT_INT8", 1},
    [SL_DTYPE_STRING] = {"string", "DT_STRING", 0},
    [SL_DTYPE_COMPLEX64] = {"complex64", "DT_COMPLEX64", 8},
    [SL_DTYPE_INT64] = {"int64", "DT_INT64", 8},
    [SL_DTYPE_BOOL] = {"bool", "DT_BOOL", 1},
    [SL_DTYPE_QINT8] = {"qint8", "DT_QINT8", 1},
    [SL_DTYPE_QUINT8] = {"quint8", "DT_QUINT8", 1},
    [SL_DTYPE_QINT32] = {"qint32", "DT_QINT32", 4},
    [SL_DTYPE_BFLOAT16] = {"bfloat16", "DT_BFLOAT16", 2},
    [SL_DTYPE_QINT16] = {"qint16", "DT_QINT16", 2},
    [SL_DTYPE_QUINT16] = {"quint16", "DT_QUINT16", 2},
    [SL_DTYPE_UINT16] = {"uint16", "DT_UINT16", 2},
    [SL_DTYPE_COMPLEX128] = {"complex128", "DT_COMPLEX128", 16},
    [SL_DTYPE_HALF] = {"half", "DT_HALF", 2},
    [SL_DTYPE_RESOURCE] = {"resource", "DT_RESOURCE", 0},
    [SL_DTYPE_VARIANT] = {"variant", "DT_VARIANT", 0},
    [SL_DTYPE_UINT32] = {"uint32", "DT_UINT32", 4},
    [SL_DTYPE_UINT64] = {"uint64", "DT_UINT64", 8},
};

bool sl_dtype_is_valid(int value)
{
    int base = value > SL_DTYPE_REF_OFFSET ? value - SL_DTYPE_REF_OFFSET : value;
    return base > SL_DTYPE_INVALID && base <= SL_DTYPE_LAST_BASE;
}

bool sl_dtype_is_ref(sl_dtype dtype)
{
    return (int)dtype > SL_DTYPE_REF_OFFSET && sl_dtype_is_valid((int)dtype);
}

sl_dtype sl_dtype_base(sl_dtype dtype)
{
    return sl_dtype_is_ref(dtype) ? (sl_dtype)(dtype - SL_DTYPE_REF_OFFSET) : dtype;
}

sl_dtype sl_dtype_make_ref(sl_dtype dtype)
{
    if (sl_dtype_is_ref(dtype) || !sl_dtype_is_valid((int)dtype))
        return dtype;
    return (sl_dtype)(dtype + SL_DTYPE_REF_OFFSET);
}

size_t sl_dtype_size(sl_dtype dtype)
{
    if (!sl_dtype_is_valid((int)dtype))
        return 0;
    return g_info[sl_dtype_base(dtype)].size;
}

/* Names of ref types are built once into static tables. */
static const char *ref_name(sl_dtype base, int enum_form)
{
    static char short_names[SL_DTYPE_LAST_BASE + 1][24];
    static char enum_names[SL_DTYPE_LAST_BASE + 1][28];
    char *slot = enum_form ? enum_names[base] : short_names[base];
    size_t cap = enum_form ? sizeof(enum_names[0]) : sizeof(short_names[0]);
    if (!slot[0]) {
        const char *b = enum_form ? g_info[base].enum_name : g_info[base].name;
        char tmp[28];
        size_t n = strlen(b);
        memcpy(tmp, b, n);
        memcpy(tmp + n, enum_form ? "_REF" : "_ref", 5);
        /* benign race: every thread writes the same bytes */
        memcpy(slot, tmp, n + 5 < cap ? n + 5 : cap);
    }
    return slot;
}

const char *sl_dtype_name(sl_dtype dtype)
{
    if (!sl_dtype_is_valid((int)dtype))
        return "invalid";
    if (sl_dtype_is_ref(dtype))
        return ref_name(sl_dtype_base(dtype), 0);
    return g_info[dtype].name;
}

const char *sl_dtype_enum_name(sl_dtype dtype)
{
    if (!sl_dtype_is_valid((int)dtype))
        return "DT_INVALID";
    if (sl_dtype_is_ref(dtype))
        return ref_name(sl_dtype_base(dtype), 1);
    return g_info[dtype].enum_name;
}

sl_dtype sl_dtype_from_name(const char *name)
{
    if (!name)
        return SL_DTYPE_INVALID;
    for (int i = 1; i <= SL_DTYPE_LAST_BASE; i++) {
        const char *n = g_info[i].name;
        const char *e = g_info[i].enum_name;
        size_t ln = strlen(n), le = strlen(e);
        if (!strcmp(name, n) || !strcmp(name, e))
            return (sl_dtype)i;
        if ((!strncmp(name, n, ln) && !strcmp(name + ln, "_ref")) ||
            (!strncmp(name, e, le) && !strcmp(name + le, "_REF")))
            return (sl_dtype)(i + SL_DTYPE_REF_OFFSET);
    }
    return SL_DTYPE_INVALID;
}

bool sl_dtype_is_floating(sl_dtype dtype)
{
    switch (sl_dtype_base(dtype)) {
    case SL_DTYPE_HALF:
    case SL_DTYPE_BFLOAT16:
    case SL_DTYPE_FLOAT:
    case SL_DTYPE_DOUBLE:
        return true;
    default:
        return false;
    }
}

bool sl_dtype_is_integer(sl_dtype dtype)
{
    switch (sl_dtype_base(dtype)) {
    case SL_DTYPE_INT8:
    case SL_DTYPE_INT16:
    case SL_DTYPE_INT32:
    case SL_DTYPE_INT64:
    case SL_DTYPE_UINT8:
    case SL_DTYPE_UINT16:
    case SL_DTYPE_UINT32:
    case SL_DTYPE_UINT64:
        return true;
    default:
        return false;
    }
}

bool sl_dtype_is_complex(sl_dtype dtype)
{
    sl_dtype b = sl_dtype_base(dtype);
    return b == SL_DTYPE_COMPLEX64 || b == SL_DTYPE_COMPLEX128;
}

bool sl_dtype_is_quantized(sl_dtype dtype)
{
    switch (sl_dtype_base(dtype)) {
    case SL_DTYPE_QINT8:
    case SL_DTYPE_QUINT8:
    case SL_DTYPE_QINT16:
    case SL_DTYPE_QUINT16:
    case SL_DTYPE_QINT32:
        return true;
    default:
        return false;
    }
}
