/* Tests of summaries/histogram.c: TF1's default limits bit for bit (the
 * expected bits come from an independent Python computation of the
 * algorithm in FORMATS.md §2), bucket assignment with upper_bound,
 * EncodeToProto's collapsing of empty runs, TB's TF2 buckets and the
 * data_compat conversion. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "sluice/status.h"
#include "sluice/summaries/histogram.h"

static sl_status *g_st;

static void test_default_limits_bit_exact(void **state)
{
    (void)state;
    const double *lim = sl_histogram_default_limits();
    assert_int_equal(SL_HISTOGRAM_DEFAULT_BUCKETS, 1551);
    assert_true(lim[0] == -DBL_MAX);
    assert_true(lim[1] == -0x1.58323029f544cp+66);
    assert_true(lim[774] == -0x1.19799812dea11p-40);
    assert_true(lim[775] == 0.0);
    assert_true(lim[776] == 0x1.19799812dea11p-40); /* 1e-12 */
    assert_true(lim[777] == 0x1.359f5a7b2817ap-40);
    assert_true(lim[800] == 0x1.5a8e813baeb79p-37);
    assert_true(lim[1000] == 0x1.ea5837bd8c545p-10);
    assert_true(lim[1549] == 0x1.58323029f544cp+66); /* ~9.9208e19 */
    assert_true(lim[1550] == DBL_MAX);
    for (int i = 1; i < SL_HISTOGRAM_DEFAULT_BUCKETS; i++)
        assert_true(lim[i - 1] < lim[i]);
    /* FNV-1a over the little-endian bytes of all 1551 limits, from Python */
    uint64_t h = 0xcbf29ce484222325ull;
    for (int i = 0; i < SL_HISTOGRAM_DEFAULT_BUCKETS; i++) {
        uint64_t u;
        memcpy(&u, &lim[i], 8);
        for (int b = 0; b < 8; b++) {
            h ^= (u >> (8 * b)) & 0xff;
            h *= 0x100000001b3ull;
        }
    }
    assert_int_equal(h, 0x1537311268ca6d85ull);
    /* pow() would not do: it differs from repeated multiplication */
    int differ = 0;
    for (int i = 0; i < 774; i++)
        differ += lim[776 + i] != 1e-12 * pow(1.1, i);
    assert_true(differ > 0);
}

static void test_add_uses_upper_bound(void **state)
{
    (void)state;
    sl_histogram h;
    assert_int_equal(sl_histogram_init(&h, g_st), SL_OK);
    const double vals[] = {0.0, 1.0, -1.0, 1e-12, 0.5, 2.5, 1e-13, -1e-13, 100.0};
    const int want[] = {776, 1066, 485, 777, 1059, 1076, 776, 775, 1115};
    for (size_t i = 0; i < sizeof vals / sizeof vals[0]; i++) {
        sl_histogram_clear(&h);
        sl_histogram_add(&h, vals[i]);
        assert_true(h.counts[want[i]] == 1.0);
    }
    /* DBL_MAX and beyond land in the last bucket instead of past the end */
    sl_histogram_clear(&h);
    sl_histogram_add(&h, DBL_MAX);
    sl_histogram_add(&h, INFINITY);
    assert_true(h.counts[1550] == 2.0);
    sl_histogram_release(&h);
}

static void test_encode_collapses_empty_runs(void **state)
{
    (void)state;
    sl_histogram h;
    assert_int_equal(sl_histogram_init(&h, g_st), SL_OK);
    double limits[SL_HISTOGRAM_DEFAULT_BUCKETS], counts[SL_HISTOGRAM_DEFAULT_BUCKETS];
    /* empty: one (DBL_MAX, 0) entry; min/max as TF leaves them */
    size_t n = sl_histogram_encode(&h, limits, counts);
    assert_int_equal(n, 1);
    assert_true(limits[0] == DBL_MAX && counts[0] == 0.0);
    assert_true(h.min == DBL_MAX && h.max == -DBL_MAX);

    const double vals[] = {1.0, 2.0, 2.0, -3.0, 0.0};
    for (size_t i = 0; i < 5; i++)
        sl_histogram_add(&h, vals[i]);
    n = sl_histogram_encode(&h, limits, counts);
    /* expected from a Python emulation of EncodeToProto */
    const double wl[] = {-0x1.95529a0c59c0dp+1, -0x1.7079a3510bc68p+1, 0.0,
                         0x1.19799812dea11p-40, 0x1.d5a1519699908p-1, 0x1.024becdfa142bp+0,
                         0x1.f758d2ecd94dcp+0, 0x1.14d740cf111e0p+1, DBL_MAX};
    const double wc[] = {0, 1, 0, 1, 0, 1, 0, 2, 0};
    assert_int_equal(n, 9);
    for (size_t i = 0; i < n; i++) {
        assert_true(limits[i] == wl[i]);
        assert_true(counts[i] == wc[i]);
    }
    assert_true(h.min == -3.0 && h.max == 2.0 && h.num == 5 && h.sum == 2.0 && h.sum_squares == 18);
    sl_histogram_release(&h);
}

static void test_tf2_buckets(void **state)
{
    (void)state;
    double out[3 * 30];
    /* empty: all zeros */
    assert_int_equal(sl_histogram_tf2_buckets(NULL, 0, 30, out, g_st), SL_OK);
    for (int i = 0; i < 90; i++)
        assert_true(out[i] == 0.0);
    /* one distinct value: [v, v, 0] ... [v, v, n] */
    const double same[] = {4.0, 4.0, 4.0};
    assert_int_equal(sl_histogram_tf2_buckets(same, 3, 5, out, g_st), SL_OK);
    for (int i = 0; i < 5; i++) {
        assert_true(out[3 * i] == 4.0 && out[3 * i + 1] == 4.0);
        assert_true(out[3 * i + 2] == (i == 4 ? 3.0 : 0.0));
    }
    /* 0..9 in 3 buckets of width 3: [0,3) [3,6) [6,9] */
    double v[10];
    for (int i = 0; i < 10; i++)
        v[i] = i;
    assert_int_equal(sl_histogram_tf2_buckets(v, 10, 3, out, g_st), SL_OK);
    const double want[] = {0, 3, 3, 3, 6, 3, 6, 9, 4};
    for (int i = 0; i < 9; i++)
        assert_true(out[i] == want[i]);
    /* counts add up, edges chain, last edge is max */
    double r[1000];
    uint32_t x = 5;
    for (int i = 0; i < 1000; i++) {
        x = x * 1664525u + 1013904223u;
        r[i] = (double)(x >> 8) / 65536.0 - 100.0;
    }
    assert_int_equal(sl_histogram_tf2_buckets(r, 1000, 30, out, g_st), SL_OK);
    double total = 0, mx = r[0];
    for (int i = 0; i < 1000; i++)
        mx = r[i] > mx ? r[i] : mx;
    for (int i = 0; i < 30; i++) {
        total += out[3 * i + 2];
        if (i)
            assert_true(out[3 * i] == out[3 * (i - 1) + 1]);
    }
    assert_true(total == 1000);
    assert_true(out[3 * 29 + 1] == mx);
    /* refusals */
    const double bad[] = {1.0, NAN};
    assert_int_equal(sl_histogram_tf2_buckets(bad, 2, 30, out, g_st), SL_INVALID_ARGUMENT);
    assert_int_equal(sl_histogram_tf2_buckets(v, 10, 0, out, g_st), SL_INVALID_ARGUMENT);
}

static void test_tf1_to_rows(void **state)
{
    (void)state;
    /* TB data_compat: drop empty ends, min/max as outer edges */
    const double limits[] = {-1.0, 0.0, 1.0, 2.0, 3.0, DBL_MAX};
    const double counts[] = {0, 2, 0, 5, 0, 0};
    double out[18];
    size_t k = sl_histogram_tf1_to_rows(-0.5, 1.5, limits, counts, 6, out);
    assert_int_equal(k, 3);
    const double want[] = {-0.5, 0.0, 2, 0.0, 1.0, 0, 1.0, 1.5, 5};
    for (int i = 0; i < 9; i++)
        assert_true(out[i] == want[i]);
    const double empty[] = {0, 0};
    assert_int_equal(sl_histogram_tf1_to_rows(0, 0, limits, empty, 2, out), 0);
    /* a single non-empty bucket spans min..max */
    const double one[] = {0, 0, 7, 0};
    k = sl_histogram_tf1_to_rows(0.25, 0.75, limits, one, 4, out);
    assert_int_equal(k, 1);
    assert_true(out[0] == 0.25 && out[1] == 0.75 && out[2] == 7);
}

int main(void)
{
    g_st = sl_status_new();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_default_limits_bit_exact),
        cmocka_unit_test(test_add_uses_upper_bound),
        cmocka_unit_test(test_encode_collapses_empty_runs),
        cmocka_unit_test(test_tf2_buckets),
        cmocka_unit_test(test_tf1_to_rows),
    };
    int rc = cmocka_run_group_tests_name("histogram", tests, NULL, NULL);
    sl_status_free(g_st);
    return rc;
}
