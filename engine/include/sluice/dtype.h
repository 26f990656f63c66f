/* Data types, numbered exactly as TensorFlow's DataType enum (types.proto),
 * so a dtype in a GraphDef, an event file or a checkpoint is the same number
 * here.  Reference types are the base type + 100, as in TF1 graphs.
 *
 * Thread-safety: pure functions, safe from any thread.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "sluice/macros.h"

SL_BEGIN_DECLS

typedef enum sl_dtype {
    SL_DTYPE_INVALID = 0,
    SL_DTYPE_FLOAT = 1,
    SL_DTYPE_DOUBLE = 2,
    SL_DTYPE_INT32 = 3,
    SL_DTYPE_UINT8 = 4,
    SL_DTYPE_INT16 = 5,
    SL_DTYPE_INT8 = 6,
    SL_DTYPE_STRING = 7,
    SL_DTYPE_COMPLEX64 = 8,
    SL_DTYPE_INT64 = 9,
    SL_DTYPE_BOOL = 10,
    SL_DTYPE_QINT8 = 11,
    SL_DTYPE_QUINT8 = 12,
    SL_DTYPE_QINT32 = 13,
    SL_DTYPE_BFLOAT16 = 14,
    SL_DTYPE_QINT16 = 15,
    SL_DTYPE_QUINT16 = 16,
    SL_DTYPE_UINT16 = 17,
    SL_DTYPE_COMPLEX128 = 18,
    SL_DTYPE_HALF = 19,
    SL_DTYPE_RESOURCE = 20,
    SL_DTYPE_VARIANT = 21,
    SL_DTYPE_UINT32 = 22,
    SL_DTYPE_UINT64 = 23,
    SL_DTYPE_REF_OFFSET = 100, /* DT_X_REF = DT_X + 100 */
} sl_dtype;

#define SL_DTYPE_LAST_BASE SL_DTYPE_UINT64

/* Size in bytes of one element; 0 for types without a fixed size (string,
 * resource, variant) and for invalid values.  A ref type has the size of its
 * base type. */
SL_API size_t sl_dtype_size(sl_dtype dtype);

/* TF's short name ("float", "int32", "string", "float_ref"); "invalid" for
 * unknown values.  Static storage. */
SL_API const char *sl_dtype_name(sl_dtype dtype);

/* The enum name used in text-format files ("DT_FLOAT", "DT_INT32_REF"). */
SL_API const char *sl_dtype_enum_name(sl_dtype dtype);

/* Parses either form of name ("float", "DT_FLOAT", "float_ref").  Returns
 * SL_DTYPE_INVALID when unknown. */
SL_API sl_dtype sl_dtype_from_name(const char *name);

/* Whether the value names a type this build knows (base or ref). */
SL_API bool sl_dtype_is_valid(int value);
SL_API bool sl_dtype_is_ref(sl_dtype dtype);
SL_API sl_dtype sl_dtype_base(sl_dtype dtype);  /* strips _REF */
SL_API sl_dtype sl_dtype_make_ref(sl_dtype dtype);

SL_API bool sl_dtype_is_floating(sl_dtype dtype);  /* half, bfloat16, float, double */
SL_API bool sl_dtype_is_integer(sl_dtype dtype);   /* signed and unsigned ints */
SL_API bool sl_dtype_is_complex(sl_dtype dtype);
SL_API bool sl_dtype_is_quantized(sl_dtype dtype);

SL_END_DECLS
