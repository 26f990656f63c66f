/* TF's named type sets, as strings for op-spec attrs ("T: " SL_NUMBER_TYPES). */
#pragma once

#define SL_FLOAT_TYPES "{half, bfloat16, float, double}"
#define SL_REAL_NUMBER_TYPES \
    "{float, double, int32, uint8, int16, int8, int64, bfloat16, uint16, half, uint32, uint64}"
#define SL_NUMBER_TYPES                                                                        \
    "{float, double, int32, uint8, int16, int8, complex64, int64, qint8, quint8, qint32, " \
    "bfloat16, qint16, quint16, uint16, complex128, half, uint32, uint64}"
#define SL_INDEX_TYPES "{int32, int64}"
#define SL_BINARY_TYPES \
    "{bfloat16, half, float, double, uint8, int8, uint16, int16, int32, uint32, uint64, int64, complex64, complex128, string}"
#define SL_UNARY_FLOAT_COMPLEX "{bfloat16, half, float, double, complex64, complex128}"
#define SL_SIGNED_NUMBER_TYPES "{bfloat16, half, float, double, int8, int16, int32, int64, complex64, complex128}"
