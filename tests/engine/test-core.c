/* Tests of engine/core: dtypes, shapes, tensors, allocator, thread pool. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdatomic.h>
#include <string.h>

#include "sluice/alloc.h"
#include "sluice/dtype.h"
#include "sluice/shape.h"
#include "sluice/status.h"
#include "sluice/tensor.h"
#include "sluice/threadpool.h"

static void test_dtype_sizes_and_names(void **state)
{
    (void)state;
    struct { sl_dtype t; size_t size; const char *name; const char *enm; } cases[] = {
        {SL_DTYPE_FLOAT, 4, "float", "DT_FLOAT"},     {SL_DTYPE_DOUBLE, 8, "double", "DT_DOUBLE"},
        {SL_DTYPE_HALF, 2, "half", "DT_HALF"},        {SL_DTYPE_BFLOAT16, 2, "bfloat16", "DT_BFLOAT16"},
        {SL_DTYPE_INT8, 1, "int8", "DT_INT8"},        {SL_DTYPE_INT16, 2, "int16", "DT_INT16"},
        {SL_DTYPE_INT32, 4, "int32", "DT_INT32"},     {SL_DTYPE_INT64, 8, "int64", "DT_INT64"},
        {SL_DTYPE_UINT8, 1, "uint8", "DT_UINT8"},     {SL_DTYPE_UINT16, 2, "uint16", "DT_UINT16"},
        {SL_DTYPE_BOOL, 1, "bool", "DT_BOOL"},        {SL_DTYPE_STRING, 0, "string", "DT_STRING"},
        {SL_DTYPE_COMPLEX64, 8, "complex64", "DT_COMPLEX64"},
        {SL_DTYPE_COMPLEX128, 16, "complex128", "DT_COMPLEX128"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        assert_int_equal(sl_dtype_size(cases[i].t), cases[i].size);
        assert_string_equal(sl_dtype_name(cases[i].t), cases[i].name);
        assert_string_equal(sl_dtype_enum_name(cases[i].t), cases[i].enm);
        assert_int_equal(sl_dtype_from_name(cases[i].name), cases[i].t);
        assert_int_equal(sl_dtype_from_name(cases[i].enm), cases[i].t);
    }
    /* TF numbering is part of the file formats */
    assert_int_equal(SL_DTYPE_FLOAT, 1);
    assert_int_equal(SL_DTYPE_BOOL, 10);
    assert_int_equal(SL_DTYPE_HALF, 19);
    assert_int_equal(SL_DTYPE_UINT64, 23);
}

static void test_dtype_refs(void **state)
{
    (void)state;
    sl_dtype r = sl_dtype_make_ref(SL_DTYPE_FLOAT);
    assert_int_equal(r, 101);
    assert_true(sl_dtype_is_ref(r));
    assert_int_equal(sl_dtype_base(r), SL_DTYPE_FLOAT);
    assert_int_equal(sl_dtype_size(r), 4);
    assert_string_equal(sl_dtype_name(r), "float_ref");
    assert_string_equal(sl_dtype_enum_name((sl_dtype)103), "DT_INT32_REF");
    assert_int_equal(sl_dtype_from_name("DT_INT32_REF"), 103);
    assert_int_equal(sl_dtype_from_name("int32_ref"), 103);
    assert_int_equal(sl_dtype_from_name("floaty"), SL_DTYPE_INVALID);
    assert_int_equal(sl_dtype_from_name(NULL), SL_DTYPE_INVALID);
    assert_false(sl_dtype_is_valid(0));
    assert_false(sl_dtype_is_valid(99));
    assert_false(sl_dtype_is_valid(100));
    assert_false(sl_dtype_is_valid(-3));
    assert_string_equal(sl_dtype_name((sl_dtype)77), "invalid");
    assert_true(sl_dtype_is_floating(SL_DTYPE_BFLOAT16));
    assert_false(sl_dtype_is_floating(SL_DTYPE_INT32));
    assert_true(sl_dtype_is_integer(SL_DTYPE_UINT16));
    assert_true(sl_dtype_is_complex(SL_DTYPE_COMPLEX64));
    assert_true(sl_dtype_is_quantized(SL_DTYPE_QINT8));
}

static void expect_broadcast(int ra, const int64_t *a, int rb, const int64_t *b, int rr,
                             const int64_t *r)
{
    sl_shape sa = sl_shape_make(ra, a), sb = sl_shape_make(rb, b), out;
    sl_status *st = sl_status_new();
    assert_int_equal(sl_shape_broadcast(&sa, &sb, &out, st), SL_OK);
    sl_shape want = sl_shape_make(rr, r);
    char s1[SL_SHAPE_STRING_MAX], s2[SL_SHAPE_STRING_MAX];
    if (!sl_shape_equal(&out, &want))
        fail_msg("broadcast gave %s, want %s", sl_shape_to_string(&out, s1, sizeof(s1)),
                 sl_shape_to_string(&want, s2, sizeof(s2)));
    /* broadcasting is symmetric */
    assert_int_equal(sl_shape_broadcast(&sb, &sa, &out, st), SL_OK);
    assert_true(sl_shape_equal(&out, &want));
    sl_status_free(st);
}

static void test_shape_broadcasting(void **state)
{
    (void)state;
    expect_broadcast(2, (int64_t[]){2, 3}, 1, (int64_t[]){3}, 2, (int64_t[]){2, 3});
    expect_broadcast(2, (int64_t[]){2, 1}, 1, (int64_t[]){3}, 2, (int64_t[]){2, 3});
    expect_broadcast(0, NULL, 3, (int64_t[]){4, 5, 6}, 3, (int64_t[]){4, 5, 6});
    expect_broadcast(3, (int64_t[]){8, 1, 6}, 2, (int64_t[]){7, 1}, 3, (int64_t[]){8, 7, 6});
    expect_broadcast(1, (int64_t[]){0}, 1, (int64_t[]){1}, 1, (int64_t[]){0});
    expect_broadcast(2, (int64_t[]){-1, 3}, 1, (int64_t[]){3}, 2, (int64_t[]){-1, 3});
    expect_broadcast(1, (int64_t[]){-1}, 1, (int64_t[]){5}, 1, (int64_t[]){5});
    expect_broadcast(1, (int64_t[]){-1}, 1, (int64_t[]){1}, 1, (int64_t[]){-1});

    sl_status *st = sl_status_new();
    sl_shape a = sl_shape_matrix(2, 3), b = sl_shape_vector(4), out = sl_shape_scalar();
    assert_int_equal(sl_shape_broadcast(&a, &b, &out, st), SL_INVALID_ARGUMENT);
    assert_non_null(strstr(sl_status_message(st), "[2,3]"));
    assert_non_null(strstr(sl_status_message(st), "[4]"));
    assert_int_equal(out.rank, 0);  /* untouched on failure */
    sl_shape u = sl_shape_unknown();
    assert_int_equal(sl_shape_broadcast(&a, &u, &out, st), SL_OK);
    assert_int_equal(out.rank, SL_RANK_UNKNOWN);
    sl_status_free(st);
}

static void test_shape_basics(void **state)
{
    (void)state;
    char buf[SL_SHAPE_STRING_MAX];
    sl_shape s = sl_shape_make(3, (int64_t[]){2, -1, 3});
    assert_string_equal(sl_shape_to_string(&s, buf, sizeof(buf)), "[2,?,3]");
    assert_false(sl_shape_is_fully_defined(&s));
    assert_int_equal(sl_shape_num_elements(&s), -1);
    sl_shape sc = sl_shape_scalar();
    assert_string_equal(sl_shape_to_string(&sc, buf, sizeof(buf)), "[]");
    assert_int_equal(sl_shape_num_elements(&sc), 1);
    sl_shape u = sl_shape_unknown();
    assert_string_equal(sl_shape_to_string(&u, buf, sizeof(buf)), "<unknown>");
    sl_shape big = sl_shape_make(3, (int64_t[]){INT64_MAX / 2, 3, 1});
    assert_int_equal(sl_shape_num_elements(&big), -1);  /* overflow */

    sl_status *st = sl_status_new();
    sl_shape full = sl_shape_make(3, (int64_t[]){2, 7, 3}), m;
    assert_int_equal(sl_shape_merge(&s, &full, &m, st), SL_OK);
    assert_true(sl_shape_equal(&m, &full));
    sl_shape other = sl_shape_make(3, (int64_t[]){4, 7, 3});
    assert_false(sl_shape_is_compatible(&s, &other));
    assert_int_equal(sl_shape_merge(&s, &other, &m, st), SL_INVALID_ARGUMENT);
    assert_true(sl_shape_is_compatible(&u, &other));
    sl_status_free(st);
}

static sl_alloc_stats stats_now(void)
{
    sl_alloc_stats s;
    sl_alloc_get_stats(&s);
    return s;
}

static void test_tensor_create_and_refcount(void **state)
{
    (void)state;
    sl_alloc_stats before = stats_now();
    sl_status *st = sl_status_new();
    sl_shape s = sl_shape_matrix(3, 5);
    sl_tensor *t = sl_tensor_new(SL_DTYPE_FLOAT, &s, st);
    assert_non_null(t);
    assert_int_equal(sl_tensor_num_elements(t), 15);
    assert_int_equal(sl_tensor_byte_size(t), 60);
    assert_int_equal((uintptr_t)sl_tensor_data(t) % SL_TENSOR_ALIGNMENT, 0);
    float *d = sl_tensor_data(t);
    for (int i = 0; i < 15; i++)
        assert_true(d[i] == 0.0f);
    d[4] = 2.5f;
    assert_int_equal(sl_tensor_refcount(t), 1);
    assert_ptr_equal(sl_tensor_ref(t), t);
    assert_int_equal(sl_tensor_refcount(t), 2);

    sl_shape flat = sl_shape_vector(15);
    sl_tensor *v = sl_tensor_reshaped(t, &flat, st);
    assert_non_null(v);
    assert_ptr_equal(sl_tensor_data(v), sl_tensor_data(t));
    sl_shape wrong = sl_shape_vector(14);
    assert_null(sl_tensor_reshaped(t, &wrong, st));
    assert_int_equal(sl_status_code(st), SL_INVALID_ARGUMENT);

    sl_tensor *c = sl_tensor_copy(t, st);
    assert_true(sl_tensor_equal(c, t));
    ((float *)sl_tensor_data(c))[0] = 1;
    assert_false(sl_tensor_equal(c, t));

    sl_tensor_unref(t);
    sl_tensor_unref(t);
    /* the view keeps the buffer alive after its source went */
    assert_true(((float *)sl_tensor_data(v))[4] == 2.5f);
    sl_tensor_unref(v);
    sl_tensor_unref(c);
    sl_tensor_unref(NULL);
    sl_status_free(st);
    assert_int_equal(stats_now().bytes_in_use, before.bytes_in_use);
}

static void test_tensor_bad_arguments(void **state)
{
    (void)state;
    sl_status *st = sl_status_new();
    sl_shape partial = sl_shape_make(2, (int64_t[]){2, -1});
    assert_null(sl_tensor_new(SL_DTYPE_FLOAT, &partial, st));
    assert_int_equal(sl_status_code(st), SL_INVALID_ARGUMENT);
    assert_non_null(strstr(sl_status_message(st), "[2,?]"));
    sl_shape s = sl_shape_vector(2);
    assert_null(sl_tensor_new((sl_dtype)55, &s, st));
    assert_int_equal(sl_status_code(st), SL_INVALID_ARGUMENT);
    assert_null(sl_tensor_new(sl_dtype_make_ref(SL_DTYPE_FLOAT), &s, st));
    sl_shape empty = sl_shape_make(2, (int64_t[]){0, 4});
    sl_tensor *e = sl_tensor_new(SL_DTYPE_INT64, &empty, st);
    assert_non_null(e);
    assert_int_equal(sl_tensor_num_elements(e), 0);
    sl_tensor_unref(e);
    sl_status_free(st);
}

static int g_dealloc_calls;
static void count_dealloc(void *data, size_t size, void *arg)
{
    (void)data;
    assert_int_equal(size, 4 * sizeof(int32_t));
    assert_ptr_equal(arg, &g_dealloc_calls);
    g_dealloc_calls++;
}

static void test_tensor_wraps_external_memory(void **state)
{
    (void)state;
    sl_status *st = sl_status_new();
    int32_t buf[4] = {1, 2, 3, 4};
    sl_shape s = sl_shape_matrix(2, 2);
    g_dealloc_calls = 0;
    sl_tensor *t = sl_tensor_new_wrap(SL_DTYPE_INT32, &s, buf, sizeof(buf), count_dealloc,
                                      &g_dealloc_calls, st);
    assert_non_null(t);
    assert_true(sl_tensor_is_external(t));
    assert_ptr_equal(sl_tensor_data(t), buf);
    sl_tensor_ref(t);
    sl_tensor_unref(t);
    assert_int_equal(g_dealloc_calls, 0);
    sl_tensor_unref(t);
    assert_int_equal(g_dealloc_calls, 1);

    /* size mismatch: refused, and the deallocator is not called */
    assert_null(sl_tensor_new_wrap(SL_DTYPE_INT32, &s, buf, 12, count_dealloc, &g_dealloc_calls, st));
    assert_int_equal(sl_status_code(st), SL_INVALID_ARGUMENT);
    assert_int_equal(g_dealloc_calls, 1);
    sl_status_free(st);
}

static void test_tensor_strings(void **state)
{
    (void)state;
    sl_alloc_stats before = stats_now();
    sl_status *st = sl_status_new();
    sl_shape s = sl_shape_vector(3);
    sl_tensor *t = sl_tensor_new(SL_DTYPE_STRING, &s, st);
    assert_non_null(t);
    assert_int_equal(sl_tensor_set_string(t, 0, "hello", 5, st), SL_OK);
    assert_int_equal(sl_tensor_set_string(t, 2, "a\0b", 3, st), SL_OK);
    assert_int_equal(sl_tensor_set_string(t, 2, "xyz!", 4, st), SL_OK);  /* replace */
    assert_int_equal(sl_tensor_set_string(t, 3, "x", 1, st), SL_INVALID_ARGUMENT);
    sl_tstring *e = sl_tensor_data(t);
    assert_int_equal(e[0].size, 5);
    assert_memory_equal(e[0].data, "hello", 5);
    assert_int_equal(e[1].size, 0);
    sl_tensor *c = sl_tensor_copy(t, st);
    assert_true(sl_tensor_equal(c, t));
    sl_tensor_unref(c);
    sl_tensor_unref(t);
    sl_status_free(st);
    assert_int_equal(stats_now().bytes_in_use, before.bytes_in_use);
}

/* Every allocation inside sl_tensor_new/copy may fail: the call must report
 * RESOURCE_EXHAUSTED and leak nothing, and succeed once the fault is past. */
static void test_tensor_allocation_failures(void **state)
{
    (void)state;
    sl_status *st = sl_status_new();
    sl_shape s = sl_shape_vector(2);
    sl_tensor *src = sl_tensor_new(SL_DTYPE_STRING, &s, st);
    sl_tensor_set_string(src, 0, "ab", 2, st);
    sl_tensor_set_string(src, 1, "cd", 2, st);
    int64_t before = stats_now().bytes_in_use;
    int failures = 0;
    for (int n = 1;; n++) {
        sl_alloc_fail_nth(n, 0);
        sl_tensor *c = sl_tensor_copy(src, st);
        int fired = sl_alloc_fault_fired();
        sl_alloc_fail_nth(0, 0);
        if (c) {
            assert_false(fired);
            assert_true(sl_tensor_equal(c, src));
            sl_tensor_unref(c);
            break;
        }
        assert_true(fired);
        assert_int_equal(sl_status_code(st), SL_RESOURCE_EXHAUSTED);
        assert_int_equal(stats_now().bytes_in_use, before);
        failures++;
    }
    assert_int_equal(failures, 5);  /* buffer, data, header, two strings */
    sl_tensor_unref(src);
    sl_status_free(st);
}

static void test_alloc_stats_and_peak(void **state)
{
    (void)state;
    sl_alloc_reset_peak();
    sl_alloc_stats a = stats_now();
    void *p = sl_malloc(1000);
    void *q = sl_aligned_alloc(3000);
    assert_int_equal((uintptr_t)q % SL_TENSOR_ALIGNMENT, 0);
    assert_int_equal(stats_now().bytes_in_use, a.bytes_in_use + 4000);
    p = sl_realloc(p, 10);
    assert_int_equal(stats_now().bytes_in_use, a.bytes_in_use + 3010);
    sl_free(p);
    sl_aligned_free(q);
    sl_alloc_stats b = stats_now();
    assert_int_equal(b.bytes_in_use, a.bytes_in_use);
    assert_true(b.peak_bytes_in_use >= a.bytes_in_use + 4000);
    assert_int_equal(b.num_allocs - a.num_allocs, 3);

    /* persistent failure fails everything until turned off */
    sl_alloc_fail_nth(2, 1);
    void *ok = sl_malloc(8);
    assert_non_null(ok);
    assert_null(sl_malloc(8));
    assert_null(sl_calloc(2, 8));
    assert_null(sl_strdup("x"));
    sl_alloc_fail_nth(0, 0);
    sl_free(ok);
    assert_null(sl_calloc(SIZE_MAX / 2, 4));  /* overflow is refused, not wrapped */
    assert_true(stats_now().num_failed >= b.num_failed + 4);
}

static void test_status(void **state)
{
    (void)state;
    sl_status *st = sl_status_new();
    assert_true(sl_status_is_ok(st));
    assert_string_equal(sl_status_message(st), "");
    assert_int_equal(sl_status_set(st, SL_NOT_FOUND, "no node '%s'", "x"), SL_NOT_FOUND);
    sl_status_prefix(st, "while importing '%s'", "g.pb");
    assert_string_equal(sl_status_message(st), "while importing 'g.pb': no node 'x'");
    assert_string_equal(sl_code_name(sl_status_code(st)), "NOT_FOUND");
    sl_status *cp = sl_status_new();
    sl_status_copy(cp, st);
    assert_int_equal(sl_status_code(cp), SL_NOT_FOUND);
    sl_status_clear(st);
    assert_true(sl_status_is_ok(st));
    /* a status can record an error even while allocations are failing */
    sl_alloc_fail_nth(1, 1);
    sl_status_set(st, SL_RESOURCE_EXHAUSTED, "out of memory");
    sl_alloc_fail_nth(0, 0);
    assert_string_equal(sl_status_message(st), "out of memory");
    assert_string_equal(sl_code_name((sl_code)99), "UNKNOWN");
    sl_status_free(cp);
    sl_status_free(st);
    sl_status_free(NULL);
}

static atomic_llong g_sum;
static void add_range(void *arg, int64_t b, int64_t e)
{
    const int64_t *v = arg;
    long long s = 0;
    for (int64_t i = b; i < e; i++)
        s += v[i];
    atomic_fetch_add(&g_sum, s);
}

typedef struct nested { sl_threadpool *pool; int64_t *v; atomic_int done; } nested;
static void nested_task(void *arg)
{
    nested *n = arg;
    sl_threadpool_parallel_for(n->pool, 10000, 100, add_range, n->v);
    atomic_fetch_add(&n->done, 1);
}

static void test_threadpool_parallel_for(void **state)
{
    (void)state;
    sl_status *st = sl_status_new();
    sl_threadpool *pool = sl_threadpool_new(3, st);
    assert_non_null(pool);
    assert_int_equal(sl_threadpool_num_threads(pool), 3);
    int64_t *v = sl_malloc(10000 * sizeof(int64_t));
    for (int i = 0; i < 10000; i++)
        v[i] = i;
    for (int rep = 0; rep < 50; rep++) {
        atomic_store(&g_sum, 0);
        sl_threadpool_parallel_for(pool, 10000, 7, add_range, v);
        assert_int_equal(atomic_load(&g_sum), 49995000LL);
    }
    /* parallel_for from inside every worker at once must not deadlock */
    nested n = {.pool = pool, .v = v};
    atomic_init(&n.done, 0);
    atomic_store(&g_sum, 0);
    for (int i = 0; i < 6; i++)
        assert_int_equal(sl_threadpool_schedule(pool, nested_task, &n), SL_OK);
    sl_threadpool_free(pool);  /* drains the queue */
    assert_int_equal(atomic_load(&n.done), 6);
    assert_int_equal(atomic_load(&g_sum), 6 * 49995000LL);
    /* no pool: inline */
    atomic_store(&g_sum, 0);
    sl_threadpool_parallel_for(NULL, 10000, 1, add_range, v);
    assert_int_equal(atomic_load(&g_sum), 49995000LL);
    sl_free(v);
    sl_status_free(st);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_dtype_sizes_and_names),
        cmocka_unit_test(test_dtype_refs),
        cmocka_unit_test(test_shape_broadcasting),
        cmocka_unit_test(test_shape_basics),
        cmocka_unit_test(test_tensor_create_and_refcount),
        cmocka_unit_test(test_tensor_bad_arguments),
        cmocka_unit_test(test_tensor_wraps_external_memory),
        cmocka_unit_test(test_tensor_strings),
        cmocka_unit_test(test_tensor_allocation_failures),
        cmocka_unit_test(test_alloc_stats_and_peak),
        cmocka_unit_test(test_status),
        cmocka_unit_test(test_threadpool_parallel_for),
    };
    return cmocka_run_group_tests_name("core", tests, NULL, NULL);
}
