/* Shapes: a rank and dimensions, either of which may be unknown.
 *
 * A shape is a small value type (no allocation).  rank == SL_RANK_UNKNOWN
 * means nothing is known; a dimension of SL_DIM_UNKNOWN (-1) is unknown while
 * the rank is known.  A scalar has rank 0.
 *
 * Thread-safety: value type; pure functions.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sluice/macros.h"
#include "sluice/status.h"

SL_BEGIN_DECLS

#define SL_MAX_DIMS 8
#define SL_RANK_UNKNOWN (-1)
#define SL_DIM_UNKNOWN ((int64_t)-1)

typedef struct sl_shape {
    int rank;                   /* SL_RANK_UNKNOWN, or 0..SL_MAX_DIMS */
    int64_t dims[SL_MAX_DIMS];  /* dims[i] >= 0 or SL_DIM_UNKNOWN, for i < rank */
} sl_shape;

/* Constructors.  sl_shape_make() takes `rank` dims from `dims` (which may be
 * NULL when rank is 0); rank must be <= SL_MAX_DIMS. */
SL_API sl_shape sl_shape_unknown(void);
SL_API sl_shape sl_shape_scalar(void);
SL_API sl_shape sl_shape_make(int rank, const int64_t *dims);
SL_API sl_shape sl_shape_vector(int64_t n);
SL_API sl_shape sl_shape_matrix(int64_t rows, int64_t cols);

/* Whether rank and every dimension are known. */
SL_API bool sl_shape_is_fully_defined(const sl_shape *shape);

/* Number of elements: product of dims (1 for a scalar); -1 when not fully
 * defined or on int64 overflow. */
SL_API int64_t sl_shape_num_elements(const sl_shape *shape);

/* Exact equality: same rank and same dims (unknown equals unknown). */
SL_API bool sl_shape_equal(const sl_shape *a, const sl_shape *b);

/* Whether a and b could describe the same tensor (unknowns match anything). */
SL_API bool sl_shape_is_compatible(const sl_shape *a, const sl_shape *b);

/* Merges two compatible shapes, keeping the more specific of each part.
 * Returns SL_INVALID_ARGUMENT (and leaves *out untouched) when they conflict. */
SL_API sl_code sl_shape_merge(const sl_shape *a, const sl_shape *b, sl_shape *out,
                              sl_status *status);

/* NumPy broadcasting: dims align from the right; equal dims, or 1 against
 * anything, combine; unknown dims give unknown unless the other side is a
 * known dim > 1.  An unknown rank gives an unknown shape.  Returns
 * SL_INVALID_ARGUMENT with both shapes in the message when incompatible. */
SL_API sl_code sl_shape_broadcast(const sl_shape *a, const sl_shape *b, sl_shape *out,
                                  sl_status *status);

/* Writes "[2,?,3]", "[]" (scalar) or "<unknown>" into buf (always
 * NUL-terminated when size > 0).  Returns buf. */
SL_API char *sl_shape_to_string(const sl_shape *shape, char *buf, size_t size);

#define SL_SHAPE_STRING_MAX (SL_MAX_DIMS * 21 + 16)

SL_END_DECLS
