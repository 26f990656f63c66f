/* Tensors: a refcounted buffer with a dtype and a fully defined shape.
 *
 * Numeric tensors hold their elements in row-major order in one buffer
 * aligned to SL_TENSOR_ALIGNMENT, or in external memory the caller lends
 * together with a deallocator (mmap'd checkpoints, pinned host buffers).
 * String tensors hold an array of sl_tstring, each owning its bytes.
 *
 * Ownership: sl_tensor_new*() return a tensor with one reference, owned by
 * the caller.  sl_tensor_ref() adds one, sl_tensor_unref() drops one and
 * frees the tensor (calling the deallocator for external memory) at zero.
 *
 * Thread-safety: reference counting is atomic, so tensors may be shared
 * across threads.  The contents are not synchronized: a tensor is written
 * by one producer before it is shared and only read afterwards, except
 * variables, which the runtime locks.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sluice/dtype.h"
#include "sluice/macros.h"
#include "sluice/shape.h"
#include "sluice/status.h"

SL_BEGIN_DECLS

typedef struct sl_tensor sl_tensor;

/* One element of a string tensor: bytes (not necessarily NUL-terminated,
 * though the tensor keeps a NUL after them) and their length. */
typedef struct sl_tstring {
    char *data;
    size_t size;
} sl_tstring;

typedef void (*sl_tensor_deallocator)(void *data, size_t size, void *arg);

/* New tensor of `dtype` and fully defined `shape`, zero-filled (strings
 * empty).  Fails with SL_INVALID_ARGUMENT for an invalid dtype, a ref or
 * variant dtype or a shape that is not fully defined, and with
 * SL_RESOURCE_EXHAUSTED when memory runs out.  Returns NULL on failure. */
SL_API sl_tensor *sl_tensor_new(sl_dtype dtype, const sl_shape *shape, sl_status *status);

/* Like sl_tensor_new(), but the elements of a numeric tensor are left
 * undefined (stale bytes of an earlier buffer): for a producer that writes
 * every element before anyone reads one (kernel outputs).  String tensors
 * are still empty and resource handles NULL.  Same errors and ownership as
 * sl_tensor_new().  With SLUICE_POISON_UNINIT=1 in the environment the
 * elements are 0xff bytes instead (debugging: NaN for floats, -1 for
 * integers). */
SL_API sl_tensor *sl_tensor_new_uninit(sl_dtype dtype, const sl_shape *shape, sl_status *status);

/* Wraps external memory of `size` bytes without copying.  size must equal
 * num_elements * dtype size; string tensors cannot wrap.  On success the
 * tensor owns `data` and calls dealloc(data, size, arg) when the last
 * reference goes (dealloc may be NULL for memory that outlives the tensor).
 * A resource tensor may wrap its handle pointers (size: num_elements *
 * sizeof(void *)), which ties a resource's life to the tensor's (the
 * stacks of while-loop gradients do).
 * On failure the caller still owns `data` and dealloc is not called. */
SL_API sl_tensor *sl_tensor_new_wrap(sl_dtype dtype, const sl_shape *shape, void *data,
                                     size_t size, sl_tensor_deallocator dealloc, void *arg,
                                     sl_status *status);

/* Convenience: a scalar of the given value. */
SL_API sl_tensor *sl_tensor_new_scalar_float(float v, sl_status *status);
SL_API sl_tensor *sl_tensor_new_scalar_int32(int32_t v, sl_status *status);
SL_API sl_tensor *sl_tensor_new_scalar_int64(int64_t v, sl_status *status);

/* Deep copy (new buffer); for strings, copies every element. */
SL_API sl_tensor *sl_tensor_copy(const sl_tensor *t, sl_status *status);

/* Returns t after adding a reference.  NULL-safe. */
SL_API sl_tensor *sl_tensor_ref(sl_tensor *t);

/* Drops a reference; frees at zero.  NULL-safe. */
SL_API void sl_tensor_unref(sl_tensor *t);

/* Current reference count (for tests and debugging; racy by nature). */
SL_API int sl_tensor_refcount(const sl_tensor *t);

SL_API sl_dtype sl_tensor_dtype(const sl_tensor *t);
SL_API const sl_shape *sl_tensor_shape(const sl_tensor *t);  /* borrowed */
SL_API int sl_tensor_rank(const sl_tensor *t);
SL_API int64_t sl_tensor_dim(const sl_tensor *t, int i);
SL_API int64_t sl_tensor_num_elements(const sl_tensor *t);

/* Element buffer (borrowed, valid while a reference is held).  For string
 * tensors it is an array of sl_tstring.  May be NULL for zero elements. */
SL_API void *sl_tensor_data(const sl_tensor *t);

/* Bytes of the element buffer: num_elements * dtype size, or for strings
 * num_elements * sizeof(sl_tstring). */
SL_API size_t sl_tensor_byte_size(const sl_tensor *t);

/* Whether the buffer was lent by the caller (sl_tensor_new_wrap). */
SL_API bool sl_tensor_is_external(const sl_tensor *t);

/* Replaces element i of a string tensor with a copy of `size` bytes.
 * Returns SL_INVALID_ARGUMENT for a non-string tensor or an index out of
 * range, SL_RESOURCE_EXHAUSTED on allocation failure (element unchanged). */
SL_API sl_code sl_tensor_set_string(sl_tensor *t, int64_t i, const void *bytes, size_t size,
                                    sl_status *status);

/* A tensor that shares t's buffer with another shape of the same number of
 * elements (Reshape without a copy).  Holds a reference to t's buffer. */
SL_API sl_tensor *sl_tensor_reshaped(sl_tensor *t, const sl_shape *shape, sl_status *status);

/* Element-wise equality of dtype, shape and contents (bitwise for floats,
 * so NaN equals the same NaN). */
SL_API bool sl_tensor_equal(const sl_tensor *a, const sl_tensor *b);

SL_END_DECLS
