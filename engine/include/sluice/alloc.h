/* Memory: every engine allocation goes through these functions.
 *
 * They keep statistics (bytes in use, peak, counts) and carry a
 * fault-injection hook so tests can fail the Nth allocation and check that
 * each caller turns it into SL_RESOURCE_EXHAUSTED without leaking.
 *
 * sl_aligned_alloc() returns memory aligned to SL_TENSOR_ALIGNMENT (64
 * bytes: an AVX-512 vector, a cache line), the alignment tensor buffers use.
 *
 * sl_buffer_alloc() serves tensor buffers from a cache of freed blocks.
 *
 * Thread-safety: all functions are safe to call from any thread; statistics
 * are updated atomically.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "sluice/macros.h"

SL_BEGIN_DECLS

#define SL_TENSOR_ALIGNMENT 64

/* malloc/calloc/realloc/free with accounting.  They return NULL when the
 * system is out of memory or when the fault hook says to fail.  The size 0
 * returns a valid unique pointer.  sl_free(NULL) is a no-op.  Memory from
 * these must be released with sl_free(), never free(). */
SL_API void *sl_malloc(size_t size);
SL_API void *sl_calloc(size_t count, size_t size);
SL_API void *sl_realloc(void *ptr, size_t size);
SL_API void sl_free(void *ptr);

/* Duplicates a string (NULL -> NULL); release with sl_free(). */
SL_API char *sl_strdup(const char *s);
SL_API char *sl_strndup(const char *s, size_t n);

/* Aligned to SL_TENSOR_ALIGNMENT; release with sl_aligned_free(). */
SL_API void *sl_aligned_alloc(size_t size);
SL_API void sl_aligned_free(void *ptr);

/* Tensor buffers: aligned like sl_aligned_alloc(), but from a cache.
 * sl_buffer_free() keeps the block in a free list of its size class (up to
 * 25% larger than asked) instead of returning it to libc, and
 * sl_buffer_alloc() hands out a cached block of the right class before it
 * asks libc, so a step that makes the same tensors as the last one neither
 * maps fresh pages nor takes page faults.  The contents of a new block are
 * undefined (stale bytes of an earlier tensor).  Blocks over 1 GiB are not
 * cached; the cache never holds more than its limit.  Release with
 * sl_buffer_free() only.  Both count in the statistics like sl_malloc():
 * bytes_in_use covers live buffers only, cached blocks count in
 * cached_bytes.  Every sl_buffer_alloc() call, hit or miss, is one
 * allocation for the fault hook. */
SL_API void *sl_buffer_alloc(size_t size);
SL_API void sl_buffer_free(void *ptr);

#define SL_BUFFER_CACHE_DEFAULT_LIMIT ((int64_t)256 << 20)

/* Returns every cached block to libc (memory pressure, end of a run,
 * tests).  Cost: one free() per cached block. */
SL_API void sl_buffer_cache_release(void);

/* Sets the most bytes the cache may hold (0 turns caching off); when the
 * cache holds more than the new limit it is released.  Default:
 * SL_BUFFER_CACHE_DEFAULT_LIMIT. */
SL_API void sl_buffer_cache_set_limit(size_t bytes);
SL_API size_t sl_buffer_cache_get_limit(void);

typedef struct sl_alloc_stats {
    int64_t bytes_in_use;      /* requested bytes not yet freed */
    int64_t peak_bytes_in_use; /* high-water mark since the last reset */
    int64_t num_allocs;        /* successful allocations since start */
    int64_t num_frees;
    int64_t num_failed;        /* allocations that returned NULL */
    int64_t cached_bytes;      /* held by the buffer cache, not in use */
    int64_t num_cache_hits;    /* sl_buffer_alloc() served from the cache */
    int64_t num_cache_misses;  /* sl_buffer_alloc() that went to libc */
} sl_alloc_stats;

SL_API void sl_alloc_get_stats(sl_alloc_stats *out);

/* Sets the peak to the current bytes in use. */
SL_API void sl_alloc_reset_peak(void);

/* Fault injection for tests: the allocation numbered `n` from now (1 = the
 * next one) fails, and with `persist` every one after it fails too.  n <= 0
 * turns injection off.  Returns nothing; query sl_alloc_fault_fired(). */
SL_API void sl_alloc_fail_nth(int64_t n, int persist);

/* Whether an injected failure happened since the last sl_alloc_fail_nth(). */
SL_API int sl_alloc_fault_fired(void);

SL_END_DECLS
