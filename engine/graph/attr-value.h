/* Helpers over tensorflow.AttrValue messages, the representation of attrs
 * inside graphs (so import/export keeps them exactly).  Every AttrValue
 * made here is allocated as protobuf-c's unpack would allocate it (libc
 * malloc), so one function frees them all: sl__attr_value_free(). */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "attr_value.pb-c.h"
#include "sluice/op.h"
#include "sluice/shape.h"
#include "sluice/status.h"

typedef Tensorflow__AttrValue sl_attr_value;

void sl__attr_value_free(void *value);  /* NULL-safe */

/* Deep copy; NULL on OOM. */
sl_attr_value *sl__attr_value_dup(const sl_attr_value *v);

/* Parses an op-spec default ("false", "DT_FLOAT", "'VALID'", "[1, 2]",
 * "[]", "1e-4") for an attr of `type`.  NULL + INVALID_ARGUMENT if malformed. */
sl_attr_value *sl__attr_value_parse_default(sl_attr_type type, const char *text, sl_status *st);

/* Constructors (NULL on OOM). */
sl_attr_value *sl__attr_value_new_int(int64_t v);
sl_attr_value *sl__attr_value_new_float(float v);
sl_attr_value *sl__attr_value_new_bool(bool v);
sl_attr_value *sl__attr_value_new_type(int dtype);
sl_attr_value *sl__attr_value_new_string(const char *s, size_t len);
sl_attr_value *sl__attr_value_new_shape(const sl_shape *shape);
sl_attr_value *sl__attr_value_new_list(void);  /* empty list */

/* Whether v holds a value of the attr type (an empty list matches every
 * list type). */
bool sl__attr_value_has_type(const sl_attr_value *v, sl_attr_type type);

/* The kind v holds, for error messages ("int", "list(type)", "empty"). */
const char *sl__attr_value_kind(const sl_attr_value *v);

/* Number of entries of a list value (0 for non-lists). */
int sl__attr_value_list_size(const sl_attr_value *v);

/* Shape conversion both ways. */
sl_shape sl__shape_from_proto(const Tensorflow__TensorShapeProto *p);
Tensorflow__TensorShapeProto *sl__shape_to_proto(const sl_shape *shape);  /* NULL on OOM */
