/* NumPy .npy files: tensors on the command line and in tests.
 *
 * Reads and writes format versions 1.0 and 2.0 (3.0 is read), C order only:
 * a Fortran-order file is rejected with a clear error.  Dtypes: '<f4'
 * float, '<f8' double, '<f2' half, '<i1' '<i2' '<i4' '<i8', '<u1' '<u2'
 * '<u4' '<u8', '|b1' bool, '<c8' complex64, '<c16' complex128.  NumPy has
 * no bfloat16: such tensors are refused with a message that says so.
 * Big-endian files ('>f4') are byte-swapped on read.  Strings ('|S<n>')
 * become string tensors.
 *
 * Errors name the file and, for bad headers, what was wrong.  Nothing is
 * written to `path` unless the whole file could be written (temporary file
 * then rename).
 *
 * Thread-safety: no shared state.
 */
#pragma once

#include <stddef.h>

#include "sluice/macros.h"
#include "sluice/status.h"
#include "sluice/tensor.h"

SL_BEGIN_DECLS

/* Reads a .npy file into a new tensor (caller owns the reference), or NULL
 * with SL_NOT_FOUND (no file), SL_INVALID_ARGUMENT (not .npy, Fortran
 * order, unsupported dtype, rank above SL_MAX_DIMS) or SL_DATA_LOSS (size
 * mismatch).  The message starts with the path. */
SL_API sl_tensor *sl_npy_read(const char *path, sl_status *status);

/* Parses .npy bytes from memory; `name` (may be NULL) prefixes errors. */
SL_API sl_tensor *sl_npy_parse(const void *data, size_t len, const char *name, sl_status *status);

/* Writes t to path atomically.  SL_INVALID_ARGUMENT for dtypes .npy cannot
 * hold (resource, variant), SL_PERMISSION_DENIED / SL_DATA_LOSS on I/O
 * errors. */
SL_API sl_code sl_npy_write(const char *path, const sl_tensor *t, sl_status *status);

SL_END_DECLS
