/* Tests of engine/core/buffer-cache.c: reuse by size class, the limit on
 * cached bytes, exact statistics, release, concurrent use and fault
 * injection; and of sl_tensor_new_uninit() against sl_tensor_new(). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <pthread.h>
#include <string.h>

#include "sluice/alloc.h"
#include "sluice/shape.h"
#include "sluice/status.h"
#include "sluice/tensor.h"

static sl_alloc_stats stats_now(void)
{
    sl_alloc_stats s;
    sl_alloc_get_stats(&s);
    return s;
}

/* Every test starts from an empty cache with the default limit. */
static int setup(void **state)
{
    (void)state;
    sl_buffer_cache_set_limit((size_t)SL_BUFFER_CACHE_DEFAULT_LIMIT);
    sl_buffer_cache_release();
    sl_alloc_fail_nth(0, 0);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    sl_buffer_cache_release();
    sl_buffer_cache_set_limit((size_t)SL_BUFFER_CACHE_DEFAULT_LIMIT);
    sl_alloc_fail_nth(0, 0);
    return 0;
}

static void test_buffer_cache_reuses_freed_block_of_same_class(void **state)
{
    (void)state;
    sl_alloc_stats a = stats_now();
    unsigned char *p = sl_buffer_alloc(256 * 1024);
    assert_non_null(p);
    assert_int_equal((uintptr_t)p % SL_TENSOR_ALIGNMENT, 0);
    memset(p, 1, 256 * 1024);
    sl_buffer_free(p);
    /* a slightly smaller request of the same class gets the same block */
    unsigned char *q = sl_buffer_alloc(256 * 1024 - 100);
    assert_ptr_equal(q, p);
    sl_alloc_stats b = stats_now();
    assert_int_equal(b.num_cache_hits - a.num_cache_hits, 1);
    assert_int_equal(b.num_cache_misses - a.num_cache_misses, 1);
    /* a request of another class does not */
    unsigned char *r = sl_buffer_alloc(64 * 1024);
    assert_ptr_not_equal(r, p);
    assert_int_equal(stats_now().num_cache_misses - a.num_cache_misses, 2);
    sl_buffer_free(q);
    sl_buffer_free(r);
}

static void test_buffer_cache_block_holds_whole_vectors(void **state)
{
    (void)state;
    /* kernels may read a whole vector past the last element: every size
     * gets at least its size rounded up to SL_TENSOR_ALIGNMENT */
    for (size_t n = 0; n < 5000; n += 7) {
        unsigned char *p = sl_buffer_alloc(n);
        assert_non_null(p);
        assert_int_equal((uintptr_t)p % SL_TENSOR_ALIGNMENT, 0);
        size_t rounded = (n + SL_TENSOR_ALIGNMENT - 1) / SL_TENSOR_ALIGNMENT * SL_TENSOR_ALIGNMENT;
        memset(p, 0xab, rounded);
        sl_buffer_free(p);
    }
}

static void test_buffer_cache_stats_count_live_and_cached_separately(void **state)
{
    (void)state;
    sl_alloc_stats a = stats_now();
    assert_int_equal(a.cached_bytes, 0);
    void *p = sl_buffer_alloc(1000);
    void *q = sl_buffer_alloc(100000);
    sl_alloc_stats b = stats_now();
    assert_int_equal(b.bytes_in_use - a.bytes_in_use, 101000);
    assert_int_equal(b.cached_bytes, 0);
    assert_int_equal(b.num_allocs - a.num_allocs, 2);
    sl_buffer_free(p);
    sl_buffer_free(q);
    sl_alloc_stats c = stats_now();
    assert_int_equal(c.bytes_in_use, a.bytes_in_use);  /* cached blocks are not in use */
    assert_int_equal(c.num_frees - a.num_frees, 2);
    /* classes are at most 25% over the request */
    assert_true(c.cached_bytes >= 101000 && c.cached_bytes <= 101000 * 5 / 4 + 128);
    p = sl_buffer_alloc(1000);  /* a hit moves its block back to in use */
    sl_alloc_stats d = stats_now();
    assert_int_equal(d.bytes_in_use - a.bytes_in_use, 1000);
    assert_true(d.cached_bytes < c.cached_bytes);
    sl_buffer_free(p);
    sl_buffer_cache_release();
    sl_alloc_stats e = stats_now();
    assert_int_equal(e.cached_bytes, 0);
    assert_int_equal(e.bytes_in_use, a.bytes_in_use);
}

static void test_buffer_cache_respects_limit(void **state)
{
    (void)state;
    sl_buffer_cache_set_limit(1 << 20);
    assert_int_equal(sl_buffer_cache_get_limit(), 1 << 20);
    void *blocks[8];
    for (int i = 0; i < 8; i++)
        assert_non_null(blocks[i] = sl_buffer_alloc(300 * 1024));
    for (int i = 0; i < 8; i++) {
        sl_buffer_free(blocks[i]);
        assert_true(stats_now().cached_bytes <= 1 << 20);
    }
    assert_true(stats_now().cached_bytes > 0);
    /* lowering the limit below what is cached empties the cache */
    sl_buffer_cache_set_limit(1000);
    assert_int_equal(stats_now().cached_bytes, 0);
    /* limit 0: nothing is cached */
    sl_buffer_cache_set_limit(0);
    void *p = sl_buffer_alloc(64);
    sl_buffer_free(p);
    assert_int_equal(stats_now().cached_bytes, 0);
}

static void test_buffer_cache_passes_huge_blocks_through(void **state)
{
    (void)state;
    sl_buffer_cache_set_limit((size_t)4 << 30);
    sl_alloc_stats a = stats_now();
    /* over 1 GiB: straight from and back to libc (never touched, so the
     * pages are not committed) */
    void *p = sl_buffer_alloc(((size_t)1 << 30) + 4096);
    if (!p) {
        skip();  /* a small machine or a tight ulimit */
        return;
    }
    sl_buffer_free(p);
    sl_alloc_stats b = stats_now();
    assert_int_equal(b.cached_bytes, 0);
    assert_int_equal(b.bytes_in_use, a.bytes_in_use);
}

static void test_buffer_cache_obeys_fault_injection_on_hits(void **state)
{
    (void)state;
    void *p = sl_buffer_alloc(4096);
    sl_buffer_free(p);  /* cached: the next call would be a hit */
    sl_alloc_stats a = stats_now();
    sl_alloc_fail_nth(1, 0);
    assert_null(sl_buffer_alloc(4096));
    assert_true(sl_alloc_fault_fired());
    sl_alloc_stats b = stats_now();
    assert_int_equal(b.num_failed - a.num_failed, 1);
    assert_int_equal(b.bytes_in_use, a.bytes_in_use);
    assert_int_equal(b.cached_bytes, a.cached_bytes);  /* the block stays cached */
    /* the Nth counts buffer allocations like any other */
    sl_alloc_fail_nth(2, 0);
    void *q = sl_buffer_alloc(4096);
    assert_non_null(q);
    assert_null(sl_malloc(8));
    sl_buffer_free(q);
}

static void test_tensor_new_fails_cleanly_under_fault_injection(void **state)
{
    (void)state;
    sl_status *st = sl_status_new();
    sl_shape s = sl_shape_matrix(64, 64);
    /* warm the cache so the buffer would come from it */
    sl_tensor_unref(sl_tensor_new_uninit(SL_DTYPE_FLOAT, &s, st));
    sl_alloc_stats a = stats_now();
    int failures = 0;
    for (int n = 1;; n++) {
        sl_alloc_fail_nth(n, 0);
        sl_tensor *t = sl_tensor_new_uninit(SL_DTYPE_FLOAT, &s, st);
        bool fired = sl_alloc_fault_fired();
        sl_alloc_fail_nth(0, 0);
        if (t) {
            assert_false(fired);
            sl_tensor_unref(t);
            break;
        }
        assert_int_equal(sl_status_code(st), SL_RESOURCE_EXHAUSTED);
        assert_int_equal(stats_now().bytes_in_use, a.bytes_in_use);
        failures++;
    }
    assert_int_equal(failures, 3);  /* buffer header, data, tensor header */
    assert_int_equal(stats_now().bytes_in_use, a.bytes_in_use);
    sl_status_free(st);
}

typedef struct churn_arg {
    int id;
    int bad;  /* blocks seen with another thread's bytes */
} churn_arg;

static void *churn(void *p)
{
    churn_arg *c = p;
    static const size_t sizes[] = {64, 1000, 4096, 65536, 300000};
    for (int i = 0; i < 500; i++) {
        size_t n = sizes[(i + c->id) % 5];
        unsigned char *a = sl_buffer_alloc(n), *b = sl_buffer_alloc(n);
        if (!a || !b) {
            c->bad++;
            sl_buffer_free(a);
            sl_buffer_free(b);
            continue;
        }
        memset(a, c->id, n);
        memset(b, c->id + 64, n);
        if (a[0] != c->id || a[n - 1] != c->id || b[0] != c->id + 64 || b[n - 1] != c->id + 64)
            c->bad++;
        sl_buffer_free(a);
        sl_buffer_free(b);
    }
    return NULL;
}

static void test_buffer_cache_is_thread_safe(void **state)
{
    (void)state;
    sl_alloc_stats a = stats_now();
    enum { N = 4 };
    pthread_t th[N];
    churn_arg args[N];
    for (int i = 0; i < N; i++) {
        args[i] = (churn_arg){i + 1, 0};
        assert_int_equal(pthread_create(&th[i], NULL, churn, &args[i]), 0);
    }
    for (int i = 0; i < N; i++) {
        assert_int_equal(pthread_join(th[i], NULL), 0);
        assert_int_equal(args[i].bad, 0);
    }
    sl_alloc_stats b = stats_now();
    assert_int_equal(b.bytes_in_use, a.bytes_in_use);
    assert_int_equal(b.num_allocs - a.num_allocs, N * 1000);
    assert_int_equal(b.num_frees - a.num_frees, N * 1000);
    assert_int_equal(b.num_cache_hits + b.num_cache_misses - a.num_cache_hits - a.num_cache_misses, N * 1000);
    assert_true(b.num_cache_hits - a.num_cache_hits > N * 700);  /* a few misses per class and thread */
    sl_buffer_cache_release();
    assert_int_equal(stats_now().cached_bytes, 0);
}

static void test_tensor_new_zero_fills_reused_buffer(void **state)
{
    (void)state;
    sl_status *st = sl_status_new();
    sl_shape s = sl_shape_vector(1000);
    sl_tensor *t = sl_tensor_new_uninit(SL_DTYPE_FLOAT, &s, st);
    assert_non_null(t);
    float *d = sl_tensor_data(t);
    for (int i = 0; i < 1000; i++)
        d[i] = 1.5f;
    sl_tensor_unref(t);
    /* sl_tensor_new gets the dirty block back and must still zero it */
    sl_tensor *z = sl_tensor_new(SL_DTYPE_FLOAT, &s, st);
    assert_ptr_equal(sl_tensor_data(z), d);
    const float *zd = sl_tensor_data(z);
    for (int i = 0; i < 1000; i++)
        assert_true(zd[i] == 0.0f);
    sl_tensor_unref(z);
    sl_status_free(st);
}

static void test_tensor_new_uninit_keeps_strings_empty(void **state)
{
    (void)state;
    sl_status *st = sl_status_new();
    sl_shape s = sl_shape_vector(8);
    /* dirty a block of the size of 8 sl_tstring */
    void *p = sl_buffer_alloc(8 * sizeof(sl_tstring));
    memset(p, 0x5a, 8 * sizeof(sl_tstring));
    sl_buffer_free(p);
    sl_tensor *t = sl_tensor_new_uninit(SL_DTYPE_STRING, &s, st);
    assert_non_null(t);
    const sl_tstring *e = sl_tensor_data(t);
    for (int i = 0; i < 8; i++) {
        assert_null(e[i].data);
        assert_int_equal(e[i].size, 0);
    }
    assert_int_equal(sl_tensor_set_string(t, 3, "abc", 3, st), SL_OK);
    sl_tensor_unref(t);  /* frees the one string, not garbage pointers */
    sl_status_free(st);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
        T(test_buffer_cache_reuses_freed_block_of_same_class),
        T(test_buffer_cache_block_holds_whole_vectors),
        T(test_buffer_cache_stats_count_live_and_cached_separately),
        T(test_buffer_cache_respects_limit),
        T(test_buffer_cache_passes_huge_blocks_through),
        T(test_buffer_cache_obeys_fault_injection_on_hits),
        T(test_tensor_new_fails_cleanly_under_fault_injection),
        T(test_buffer_cache_is_thread_safe),
        T(test_tensor_new_zero_fills_reused_buffer),
        T(test_tensor_new_uninit_keeps_strings_empty),
#undef T
    };
    return cmocka_run_group_tests_name("buffer-cache", tests, NULL, NULL);
}
