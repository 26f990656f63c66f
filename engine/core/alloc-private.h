/* Internal hooks of the accounting allocator (alloc.c) shared with the
 * tensor buffer cache (buffer-cache.c), so that both count into the same
 * statistics and obey the same fault injection.  Not installed. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

/* Whether the fault hook says this allocation fails (consumes one tick of
 * the countdown, exactly like every sl_malloc). */
bool sl__alloc_should_fail(void);

/* Counts a successful allocation of `size` requested bytes (bytes in use,
 * peak, num_allocs), a release of one, and a failed allocation. */
void sl__alloc_account_alloc(size_t size);
void sl__alloc_account_free(size_t size);
void sl__alloc_account_failed(void);

/* Statistics of the buffer cache, read by sl_alloc_get_stats(). */
void sl__buffer_cache_get_stats(int64_t *cached_bytes, int64_t *hits, int64_t *misses);
