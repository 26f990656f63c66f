/* Tensor buffer cache: a caching allocator for tensor element buffers.
 *
 * Each step of a graph makes and drops the same tensors again and again.
 * Handing every buffer back to libc costs a posix_memalign/free pair per
 * tensor and, for large buffers, which glibc maps and unmaps, fresh pages
 * and a page fault per 4 KiB on every step.  Freed buffers are therefore
 * kept in free lists by size class and handed out again.
 *
 * Size classes: 64 bytes, then four classes per power of two (2^k * 1.25,
 * 1.5, 1.75, 2), so a block wastes under 25% of its size; blocks over
 * MAX_CLASS_BYTES go straight to libc and back.  The bytes held in the
 * cache (class sizes, headers excluded) never exceed a limit
 * (SL_BUFFER_CACHE_DEFAULT_LIMIT unless set): a freed block that would
 * pass it goes back to libc instead.
 *
 * Accounting: bytes in use (alloc.c) counts the requested size of live
 * buffers only; a cached block leaves bytes in use when it is freed and
 * counts in cached_bytes instead.  Every sl_buffer_alloc(), hit or miss,
 * ticks the fault-injection countdown exactly as sl_malloc() does.
 *
 * Concurrency: one mutex per size class, held for a pointer push or pop;
 * threads contend only when they allocate the same class at the same
 * instant.  Counters are C11 atomics.
 *
 * Checkers: under valgrind a cached block is marked inaccessible and a
 * reused one undefined (as if fresh from malloc); under AddressSanitizer
 * it is poisoned while cached.  Uninitialized reads and use after free
 * stay visible through the cache.
 */
#include "config.h"

#include "sluice/alloc.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>

#include "alloc-private.h"

#if HAVE_VALGRIND_MEMCHECK_H
#include <valgrind/memcheck.h>
#define MARK_NOACCESS(p, n) VALGRIND_MAKE_MEM_NOACCESS(p, n)
#define MARK_UNDEFINED(p, n) VALGRIND_MAKE_MEM_UNDEFINED(p, n)
#else
#define MARK_NOACCESS(p, n) ((void)(p), (void)(n))
#define MARK_UNDEFINED(p, n) ((void)(p), (void)(n))
#endif /* HAVE_VALGRIND_MEMCHECK_H */

#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/asan_interface.h>
#define POISON(p, n) ASAN_POISON_MEMORY_REGION(p, n)
#define UNPOISON(p, n) ASAN_UNPOISON_MEMORY_REGION(p, n)
#else
#define POISON(p, n) ((void)(p), (void)(n))
#define UNPOISON(p, n) ((void)(p), (void)(n))
#endif /* __SANITIZE_ADDRESS__ */

#define HEADER SL_TENSOR_ALIGNMENT
#define MIN_CLASS_SHIFT 6                      /* 64 bytes */
#define MAX_CLASS_SHIFT 30                     /* 1 GiB */
#define MAX_CLASS_BYTES ((size_t)1 << MAX_CLASS_SHIFT)
#define NUM_CLASSES (1 + 4 * (MAX_CLASS_SHIFT - MIN_CLASS_SHIFT))
#define NO_CLASS UINT32_MAX

/* In front of every block, SL_TENSOR_ALIGNMENT bytes so the user pointer
 * stays aligned.  It stays accessible while the block is cached. */
typedef struct block_header {
    size_t size;                /* requested bytes (what the stats count) */
    uint32_t cls;               /* size class, NO_CLASS for oversize blocks */
    struct block_header *next;  /* free-list link while cached */
} block_header;
_Static_assert(sizeof(block_header) <= HEADER, "block header must fit the alignment");

/* One cache line each, so threads on different classes share nothing. */
typedef struct free_list {
    _Alignas(64) pthread_mutex_t lock;
    block_header *head;  /* guarded by lock */
} free_list;

static free_list g_lists[NUM_CLASSES];
static pthread_once_t g_once = PTHREAD_ONCE_INIT;
static atomic_llong g_limit = SL_BUFFER_CACHE_DEFAULT_LIMIT;
static atomic_llong g_cached;  /* class bytes held in the lists */
static atomic_llong g_hits;
static atomic_llong g_misses;

static void init_lists(void)
{
    for (int i = 0; i < NUM_CLASSES; i++)
        pthread_mutex_init(&g_lists[i].lock, NULL);
}

/* Size class of a request of `size` bytes (> MAX_CLASS_BYTES: NO_CLASS). */
static uint32_t class_of(size_t size)
{
    if (size <= ((size_t)1 << MIN_CLASS_SHIFT))
        return 0;
    if (size > MAX_CLASS_BYTES)
        return NO_CLASS;
    int k = 63 - __builtin_clzll((unsigned long long)(size - 1));  /* 2^k < size <= 2^(k+1) */
    size_t step = (size_t)1 << (k - 2);
    size_t j = (size - ((size_t)1 << k) + step - 1) / step;       /* 1..4 */
    return (uint32_t)(4 * (k - MIN_CLASS_SHIFT) + j);
}

static size_t class_bytes(uint32_t cls)
{
    if (cls == 0)
        return (size_t)1 << MIN_CLASS_SHIFT;
    int k = (int)(cls - 1) / 4 + MIN_CLASS_SHIFT;
    size_t j = (cls - 1) % 4 + 1;
    return ((size_t)1 << k) + j * ((size_t)1 << (k - 2));
}

static block_header *pop(uint32_t cls)
{
    free_list *l = &g_lists[cls];
    pthread_mutex_lock(&l->lock);
    block_header *h = l->head;
    if (h)
        l->head = h->next;
    pthread_mutex_unlock(&l->lock);
    return h;
}

/* Reserves room for `bytes` under the limit; false when it would pass it. */
static bool reserve(size_t bytes)
{
    long long now = atomic_fetch_add(&g_cached, (long long)bytes) + (long long)bytes;
    if (now <= atomic_load(&g_limit))
        return true;
    atomic_fetch_sub(&g_cached, (long long)bytes);
    return false;
}

void *sl_buffer_alloc(size_t size)
{
    if (sl__alloc_should_fail() || size > SIZE_MAX - 2 * HEADER) {
        sl__alloc_account_failed();
        return NULL;
    }
    pthread_once(&g_once, init_lists);
    /* whole vectors, as sl_aligned_alloc: kernels may read a full vector
     * past the last element */
    size_t rounded = (size + HEADER - 1) / HEADER * HEADER;
    uint32_t cls = class_of(rounded);
    size_t avail = cls == NO_CLASS ? rounded : class_bytes(cls);
    block_header *h = cls == NO_CLASS ? NULL : pop(cls);
    if (h) {
        atomic_fetch_sub(&g_cached, (long long)avail);
        atomic_fetch_add(&g_hits, 1);
        UNPOISON((unsigned char *)h + HEADER, avail);
        MARK_UNDEFINED((unsigned char *)h + HEADER, avail);
    } else {
        void *base = NULL;
        if (posix_memalign(&base, HEADER, HEADER + avail) != 0) {
            sl__alloc_account_failed();
            return NULL;
        }
        atomic_fetch_add(&g_misses, 1);
        h = base;
        h->cls = cls;
    }
    h->size = size;
    h->next = NULL;
    sl__alloc_account_alloc(size);
    return (unsigned char *)h + HEADER;
}

void sl_buffer_free(void *ptr)
{
    if (!ptr)
        return;
    block_header *h = (block_header *)((unsigned char *)ptr - HEADER);
    sl__alloc_account_free(h->size);
    if (h->cls == NO_CLASS || !reserve(class_bytes(h->cls))) {
        free(h);
        return;
    }
    size_t avail = class_bytes(h->cls);
    MARK_NOACCESS(ptr, avail);
    POISON(ptr, avail);
    free_list *l = &g_lists[h->cls];
    pthread_mutex_lock(&l->lock);
    h->next = l->head;
    l->head = h;
    pthread_mutex_unlock(&l->lock);
}

void sl_buffer_cache_release(void)
{
    pthread_once(&g_once, init_lists);
    for (uint32_t c = 0; c < NUM_CLASSES; c++) {
        free_list *l = &g_lists[c];
        pthread_mutex_lock(&l->lock);
        block_header *h = l->head;
        l->head = NULL;
        pthread_mutex_unlock(&l->lock);
        while (h) {
            block_header *next = h->next;
            atomic_fetch_sub(&g_cached, (long long)class_bytes(c));
            UNPOISON((unsigned char *)h + HEADER, class_bytes(c));
            free(h);
            h = next;
        }
    }
}

void sl_buffer_cache_set_limit(size_t bytes)
{
    long long v = bytes > (size_t)INT64_MAX ? INT64_MAX : (long long)bytes;
    atomic_store(&g_limit, v);
    if (atomic_load(&g_cached) > v)
        sl_buffer_cache_release();
}

size_t sl_buffer_cache_get_limit(void)
{
    return (size_t)atomic_load(&g_limit);
}

void sl__buffer_cache_get_stats(int64_t *cached_bytes, int64_t *hits, int64_t *misses)
{
    *cached_bytes = atomic_load(&g_cached);
    *hits = atomic_load(&g_hits);
    *misses = atomic_load(&g_misses);
}
