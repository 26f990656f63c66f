/* Accounting allocator.
 *
 * Each block carries a header in front of the user pointer holding the
 * requested size, so sl_free() can keep bytes-in-use exact without asking
 * libc.  Plain blocks use a 16-byte header (malloc's alignment is kept);
 * aligned blocks use a SL_TENSOR_ALIGNMENT-byte header so the user pointer
 * stays aligned.  Statistics are C11 atomics: allocation is on hot paths of
 * every thread, and a lock would serialize them.
 */
#include "config.h"

#include "sluice/alloc.h"

#include "alloc-private.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#define PLAIN_HEADER 16
#define ALIGNED_HEADER SL_TENSOR_ALIGNMENT

static atomic_llong g_in_use;
static atomic_llong g_peak;
static atomic_llong g_num_allocs;
static atomic_llong g_num_frees;
static atomic_llong g_num_failed;

/* Fault injection: countdown to the failing allocation. */
static atomic_llong g_fail_countdown;  /* 0 = off */
static atomic_int g_fail_persist;
static atomic_int g_fail_fired;

bool sl__alloc_should_fail(void)
{
    long long c = atomic_load(&g_fail_countdown);
    if (c <= 0)
        return false;
    if (c == 1) {
        if (atomic_load(&g_fail_persist)) {
            atomic_store(&g_fail_fired, 1);
            return true;
        }
        if (atomic_compare_exchange_strong(&g_fail_countdown, &c, 0)) {
            atomic_store(&g_fail_fired, 1);
            return true;
        }
        return false;
    }
    atomic_compare_exchange_strong(&g_fail_countdown, &c, c - 1);
    return false;
}

void sl__alloc_account_alloc(size_t size)
{
    long long now = atomic_fetch_add(&g_in_use, (long long)size) + (long long)size;
    long long peak = atomic_load(&g_peak);
    while (now > peak && !atomic_compare_exchange_weak(&g_peak, &peak, now))
        ;
    atomic_fetch_add(&g_num_allocs, 1);
}

void sl__alloc_account_free(size_t size)
{
    atomic_fetch_sub(&g_in_use, (long long)size);
    atomic_fetch_add(&g_num_frees, 1);
}

void sl__alloc_account_failed(void)
{
    atomic_fetch_add(&g_num_failed, 1);
}

static void *failed(void)
{
    sl__alloc_account_failed();
    return NULL;
}

void *sl_malloc(size_t size)
{
    if (sl__alloc_should_fail() || size > SIZE_MAX - PLAIN_HEADER)
        return failed();
    unsigned char *base = malloc(size + PLAIN_HEADER);
    if (!base)
        return failed();
    memcpy(base, &size, sizeof(size));
    sl__alloc_account_alloc(size);
    return base + PLAIN_HEADER;
}

void *sl_calloc(size_t count, size_t size)
{
    if (size && count > SIZE_MAX / size)
        return failed();
    void *p = sl_malloc(count * size);
    if (p)
        memset(p, 0, count * size);
    return p;
}

void *sl_realloc(void *ptr, size_t size)
{
    if (!ptr)
        return sl_malloc(size);
    if (sl__alloc_should_fail() || size > SIZE_MAX - PLAIN_HEADER)
        return failed();
    unsigned char *base = (unsigned char *)ptr - PLAIN_HEADER;
    size_t old;
    memcpy(&old, base, sizeof(old));
    unsigned char *nb = realloc(base, size + PLAIN_HEADER);
    if (!nb)
        return failed();
    memcpy(nb, &size, sizeof(size));
    sl__alloc_account_free(old);
    sl__alloc_account_alloc(size);
    return nb + PLAIN_HEADER;
}

void sl_free(void *ptr)
{
    if (!ptr)
        return;
    unsigned char *base = (unsigned char *)ptr - PLAIN_HEADER;
    size_t size;
    memcpy(&size, base, sizeof(size));
    sl__alloc_account_free(size);
    free(base);
}

char *sl_strndup(const char *s, size_t n)
{
    if (!s)
        return NULL;
    size_t len = strnlen(s, n);
    char *d = sl_malloc(len + 1);
    if (!d)
        return NULL;
    memcpy(d, s, len);
    d[len] = '\0';
    return d;
}

char *sl_strdup(const char *s)
{
    return s ? sl_strndup(s, strlen(s)) : NULL;
}

void *sl_aligned_alloc(size_t size)
{
    if (sl__alloc_should_fail() || size > SIZE_MAX - 2 * ALIGNED_HEADER)
        return failed();
    void *base = NULL;
    /* round up so the block is a whole number of vectors: kernels may read
     * a full vector past the last element. */
    size_t rounded = (size + ALIGNED_HEADER - 1) / ALIGNED_HEADER * ALIGNED_HEADER;
    if (posix_memalign(&base, ALIGNED_HEADER, rounded + ALIGNED_HEADER) != 0)
        return failed();
    memcpy(base, &size, sizeof(size));
    sl__alloc_account_alloc(size);
    return (unsigned char *)base + ALIGNED_HEADER;
}

void sl_aligned_free(void *ptr)
{
    if (!ptr)
        return;
    unsigned char *base = (unsigned char *)ptr - ALIGNED_HEADER;
    size_t size;
    memcpy(&size, base, sizeof(size));
    sl__alloc_account_free(size);
    free(base);
}

void sl_alloc_get_stats(sl_alloc_stats *out)
{
    out->bytes_in_use = atomic_load(&g_in_use);
    out->peak_bytes_in_use = atomic_load(&g_peak);
    out->num_allocs = atomic_load(&g_num_allocs);
    out->num_frees = atomic_load(&g_num_frees);
    out->num_failed = atomic_load(&g_num_failed);
    sl__buffer_cache_get_stats(&out->cached_bytes, &out->num_cache_hits, &out->num_cache_misses);
}

void sl_alloc_reset_peak(void)
{
    atomic_store(&g_peak, atomic_load(&g_in_use));
}

void sl_alloc_fail_nth(int64_t n, int persist)
{
    atomic_store(&g_fail_fired, 0);
    atomic_store(&g_fail_persist, persist ? 1 : 0);
    atomic_store(&g_fail_countdown, n > 0 ? (long long)n : 0);
}

int sl_alloc_fault_fired(void)
{
    return atomic_load(&g_fail_fired);
}
