/* Oracle tests of MatMul / BatchMatMul(V2) (matmul.c) and the reductions
 * (reduce.c) against naive references in double.
 *
 * Tolerances: float products and sums within rtol 1e-5 + atol 1e-5 * K
 * (K terms of magnitude <= 1); double within 1e-12 * K; integers exact.
 */
#include "kernel-test-util.h"

static sl_tensor *run_matmul(const char *op, sl_tensor *a, sl_tensor *b, bool ta, bool tb, sl_threadpool *pool,
                             char *msg, sl_code *rc)
{
    tk_graph tg;
    tk_begin(&tg, op, "mm");
    tk_in(&tg, sl_tensor_dtype(a));
    tk_in(&tg, sl_tensor_dtype(b));
    bool mm = !strcmp(op, "MatMul");
    sl_node_builder_set_attr_bool(tg.b, mm ? "transpose_a" : "adj_x", ta);
    sl_node_builder_set_attr_bool(tg.b, mm ? "transpose_b" : "adj_y", tb);
    sl_node *n = tk_finish(&tg);
    const sl_tensor *in[] = {a, b};
    sl_tensor *c = NULL;
    *rc = tk_run(n, in, &c, pool, msg, 256);
    tk_end(&tg);
    return c;
}

static void test_matmul_matches_naive_product(void **state)
{
    (void)state;
    sl_threadpool *pool = tk_pool(3);
    const sl_dtype types[] = {SL_DTYPE_FLOAT, SL_DTYPE_DOUBLE, SL_DTYPE_INT32, SL_DTYPE_INT64};
    for (int rep = 0; rep < 40; rep++) {
        sl_dtype dt = types[rep % 4];
        bool big = rep % 5 == 0;
        int64_t m = tk_int(0, big ? 300 : 9), k = tk_int(0, big ? 200 : 9), nn = tk_int(0, big ? 150 : 9);
        bool ta = tk_int(0, 1), tb = tk_int(0, 1);
        bool is_int = dt == SL_DTYPE_INT32 || dt == SL_DTYPE_INT64;
        sl_tensor *a = tk_random(dt, ta ? sl_shape_matrix(k, m) : sl_shape_matrix(m, k), is_int ? -5 : -1, is_int ? 5 : 1);
        sl_tensor *b = tk_random(dt, tb ? sl_shape_matrix(nn, k) : sl_shape_matrix(k, nn), is_int ? -5 : -1, is_int ? 5 : 1);
        char msg[256];
        sl_code rc;
        sl_tensor *c = run_matmul("MatMul", a, b, ta, tb, rep & 1 ? pool : NULL, msg, &rc);
        if (rc != SL_OK)
            fail_msg("%s", msg);
        sl_shape want_s = sl_shape_matrix(m, nn);
        tk_expect_shape(c, &want_s, "MatMul");
        double *want = sl_calloc((size_t)(m * nn) + 1, sizeof(double));
        for (int64_t i = 0; i < m; i++)
            for (int64_t j = 0; j < nn; j++)
                for (int64_t p = 0; p < k; p++)
                    want[i * nn + j] += tk_get(a, ta ? p * m + i : i * k + p) * tk_get(b, tb ? j * k + p : p * nn + j);
        tk_expect_close(c, want, is_int ? 0 : 1e-5, is_int ? 0 : dt == SL_DTYPE_FLOAT ? 1e-5 * (double)(k + 1) : 1e-12 * (double)(k + 1), "MatMul");
        sl_free(want);
        sl_tensor_unref(a);
        sl_tensor_unref(b);
        sl_tensor_unref(c);
    }
    sl_threadpool_free(pool);
}

/* float products without transposes, few rows, K >= 64, N >= 8 go to
 * the direct AVX-512 kernel (gemm-direct.c; column blocks on a pool read
 * B and write C with a row stride; K in blocks of 512): check sizes on
 * both sides of those limits, partial tiles, masked column blocks and
 * one to six blocks of K included. */
static void test_matmul_direct_path_shapes(void **state)
{
    (void)state;
    sl_threadpool *pool = tk_pool(2);
    static const int64_t ms[] = {1, 7, 64, 97, 300, 513}, ks[] = {63, 64, 100, 784, 1025, 3136},
                         ns[] = {7, 10, 64, 70, 130, 512};
    for (int rep = 0; rep < 18; rep++) {
        int64_t m = ms[rep % 6], k = ks[(rep / 2) % 6], nn = ns[(rep * 5 + rep / 6) % 6];
        sl_tensor *a = tk_random(SL_DTYPE_FLOAT, sl_shape_matrix(m, k), -1, 1);
        sl_tensor *b = tk_random(SL_DTYPE_FLOAT, sl_shape_matrix(k, nn), -1, 1);
        char msg[256];
        sl_code rc;
        sl_tensor *c = run_matmul("MatMul", a, b, false, false, rep & 1 ? pool : NULL, msg, &rc);
        if (rc != SL_OK)
            fail_msg("%s", msg);
        sl_shape want_s = sl_shape_matrix(m, nn);
        tk_expect_shape(c, &want_s, "MatMul");
        double *want = sl_calloc((size_t)(m * nn) + 1, sizeof(double));
        for (int64_t i = 0; i < m; i++)
            for (int64_t p = 0; p < k; p++) {
                double av = tk_get(a, i * k + p);
                for (int64_t j = 0; j < nn; j++)
                    want[i * nn + j] += av * tk_get(b, p * nn + j);
            }
        tk_expect_close(c, want, 1e-5, 1e-5 * (double)(k + 1), "MatMul direct");
        sl_free(want);
        sl_tensor_unref(a);
        sl_tensor_unref(b);
        sl_tensor_unref(c);
    }
    sl_threadpool_free(pool);
}

/* _FusedMatMul = MatMul + BiasAdd (+ Relu): the direct kernel adds the
 * bias and clamps in its tiles, OpenBLAS's products get a pass after each
 * block; both, with and without a pool, transposed or not, float and
 * double, against a reference in double. */
static void test_fused_matmul_matches_product_bias_relu(void **state)
{
    (void)state;
    sl_threadpool *pool = tk_pool(2);
    static const int64_t ms[] = {1, 5, 64, 97, 256}, ks[] = {3, 64, 100, 784}, ns[] = {10, 64, 70, 130};
    for (int rep = 0; rep < 24; rep++) {
        sl_dtype dt = rep % 6 == 5 ? SL_DTYPE_DOUBLE : SL_DTYPE_FLOAT;
        int64_t m = ms[rep % 5], k = ks[(rep / 2) % 4], nn = ns[(rep / 3) % 4];
        bool relu = rep & 1, tb = rep % 7 == 3, ta = rep % 11 == 4;
        sl_tensor *a = tk_random(dt, ta ? sl_shape_matrix(k, m) : sl_shape_matrix(m, k), -1, 1);
        sl_tensor *b = tk_random(dt, tb ? sl_shape_matrix(nn, k) : sl_shape_matrix(k, nn), -1, 1);
        sl_tensor *bias = tk_random(dt, sl_shape_make(1, (int64_t[]){nn}), -2, 2);
        tk_graph tg;
        tk_begin(&tg, "_FusedMatMul", "fmm");
        for (int i = 0; i < 3; i++)
            tk_in(&tg, dt);
        sl_node_builder_set_attr_bool(tg.b, "transpose_a", ta);
        sl_node_builder_set_attr_bool(tg.b, "transpose_b", tb);
        sl_node_builder_set_attr_bool(tg.b, "relu", relu);
        sl_node *node = tk_finish(&tg);
        const sl_tensor *in[] = {a, b, bias};
        sl_tensor *c = NULL;
        tk_run_ok(node, in, &c, rep % 3 ? pool : NULL);
        tk_end(&tg);
        sl_shape want_s = sl_shape_matrix(m, nn);
        tk_expect_shape(c, &want_s, "_FusedMatMul");
        double *want = sl_calloc((size_t)(m * nn) + 1, sizeof(double));
        for (int64_t i = 0; i < m; i++)
            for (int64_t j = 0; j < nn; j++) {
                double v = tk_get(bias, j);
                for (int64_t p = 0; p < k; p++)
                    v += tk_get(a, ta ? p * m + i : i * k + p) * tk_get(b, tb ? j * k + p : p * nn + j);
                want[i * nn + j] = relu && v < 0 ? 0 : v;
            }
        tk_expect_close(c, want, 1e-5, dt == SL_DTYPE_FLOAT ? 1e-5 * (double)(k + 3) : 1e-12 * (double)(k + 3),
                        relu ? "_FusedMatMul relu" : "_FusedMatMul");
        sl_free(want);
        sl_tensor_unref(a);
        sl_tensor_unref(b);
        sl_tensor_unref(bias);
        sl_tensor_unref(c);
    }
    /* a bias that does not match the columns names both */
    sl_tensor *a = tk_tensor(SL_DTYPE_FLOAT, sl_shape_matrix(2, 3)), *b = tk_tensor(SL_DTYPE_FLOAT, sl_shape_matrix(3, 4));
    sl_tensor *bias = tk_tensor(SL_DTYPE_FLOAT, sl_shape_make(1, (int64_t[]){5}));
    tk_graph tg;
    tk_begin(&tg, "_FusedMatMul", "fmm");
    for (int i = 0; i < 3; i++)
        tk_in(&tg, SL_DTYPE_FLOAT);
    sl_node *node = tk_finish(&tg);
    const sl_tensor *in[] = {a, b, bias};
    sl_tensor *c = NULL;
    char msg[256];
    assert_int_equal(tk_run(node, in, &c, NULL, msg, sizeof(msg)), SL_INVALID_ARGUMENT);
    assert_null(c);
    assert_string_equal(msg, "node 'fmm' (_FusedMatMul): bias of shape [5] must be a vector matching the 4 columns of the product");
    tk_end(&tg);
    sl_tensor_unref(a);
    sl_tensor_unref(b);
    sl_tensor_unref(bias);
    sl_threadpool_free(pool);
}

static void test_matmul_inner_mismatch_is_an_error(void **state)
{
    (void)state;
    sl_tensor *a = tk_tensor(SL_DTYPE_FLOAT, sl_shape_matrix(2, 3)), *b = tk_tensor(SL_DTYPE_FLOAT, sl_shape_matrix(4, 5));
    char msg[256];
    sl_code rc;
    sl_tensor *c = run_matmul("MatMul", a, b, false, false, NULL, msg, &rc);
    assert_null(c);
    assert_int_equal(rc, SL_INVALID_ARGUMENT);
    assert_string_equal(msg, "node 'mm' (MatMul): matrix size-incompatible: a is [2,3], b is [4,5] (inner dimensions 3 and 4)");
    sl_tensor_unref(a);
    sl_tensor_unref(b);
}

static void test_batch_matmul_broadcasts_batches(void **state)
{
    (void)state;
    sl_threadpool *pool = tk_pool(2);
    for (int rep = 0; rep < 20; rep++) {
        sl_dtype dt = rep % 3 == 0 ? SL_DTYPE_DOUBLE : rep % 3 == 1 ? SL_DTYPE_FLOAT : SL_DTYPE_INT32;
        bool v2 = rep % 4 != 0;
        int64_t m = tk_int(0, 6), k = tk_int(0, 6), nn = tk_int(0, 6);
        bool ta = tk_int(0, 1), tb = tk_int(0, 1);
        sl_shape ba = tk_random_shape(2, 1, 3), bb = ba;
        if (v2)
            for (int d = 0; d < ba.rank; d++)
                if (tk_int(0, 2) == 0)
                    (tk_int(0, 1) ? ba : bb).dims[d] = 1;
        sl_shape as = ba, bs = bb;
        as.dims[as.rank++] = ta ? k : m;
        as.dims[as.rank++] = ta ? m : k;
        bs.dims[bs.rank++] = tb ? nn : k;
        bs.dims[bs.rank++] = tb ? k : nn;
        sl_tensor *a = tk_random(dt, as, -2, 2), *b = tk_random(dt, bs, -2, 2);
        char msg[256];
        sl_code rc;
        sl_tensor *c = run_matmul(v2 ? "BatchMatMulV2" : "BatchMatMul", a, b, ta, tb, rep & 1 ? pool : NULL, msg, &rc);
        if (rc != SL_OK)
            fail_msg("%s", msg);
        sl_shape os = {.rank = ba.rank + 2};
        for (int d = 0; d < ba.rank; d++)
            os.dims[d] = ba.dims[d] == 1 ? bb.dims[d] : ba.dims[d];
        os.dims[ba.rank] = m;
        os.dims[ba.rank + 1] = nn;
        tk_expect_shape(c, &os, "BatchMatMul");
        int64_t nb = m > 0 && nn > 0 ? sl_shape_num_elements(&os) / (m * nn) : 0;
        sl_shape obatch = sl_shape_make(ba.rank, os.dims);
        double *want = sl_calloc((size_t)sl_shape_num_elements(&os) + 1, sizeof(double));
        for (int64_t bi = 0; bi < nb; bi++) {
            int64_t ai = tk_bcast_index(&obatch, &ba, bi), bj = tk_bcast_index(&obatch, &bb, bi);
            for (int64_t i = 0; i < m; i++)
                for (int64_t j = 0; j < nn; j++)
                    for (int64_t p = 0; p < k; p++)
                        want[(bi * m + i) * nn + j] += tk_get(a, ai * m * k + (ta ? p * m + i : i * k + p)) *
                                                       tk_get(b, bj * k * nn + (tb ? j * k + p : p * nn + j));
        }
        tk_expect_close(c, want, 1e-5, 1e-5, "BatchMatMul");
        sl_free(want);
        sl_tensor_unref(a);
        sl_tensor_unref(b);
        sl_tensor_unref(c);
    }
    sl_threadpool_free(pool);
}

/* ---- reductions ----------------------------------------------------------------------- */

enum { R_SUM, R_MEAN, R_PROD, R_MAX, R_MIN, R_ALL, R_ANY };

static void check_reduction(const char *op, int kind, sl_dtype dt, sl_threadpool *pool)
{
    sl_shape s = tk_random_shape(5, 0, 5);
    if (tk_int(0, 5) == 0) {
        int64_t d[] = {40, 70, 30};
        s = sl_shape_make(3, d);
    }
    bool is_int = dt == SL_DTYPE_INT32 || dt == SL_DTYPE_INT64;
    sl_tensor *x = tk_random(dt, s, kind == R_PROD ? 0.5 : -10, kind == R_PROD ? 1.5 : 10);
    if (dt == SL_DTYPE_BOOL)
        for (int64_t i = 0; i < sl_tensor_num_elements(x); i++)
            tk_set(x, i, tk_int(0, 4) != 0);
    if (is_int && kind == R_PROD)
        for (int64_t i = 0; i < sl_tensor_num_elements(x); i++)
            tk_set(x, i, (double)tk_int(-1, 1));
    int32_t axes[12];
    bool red[SL_MAX_DIMS] = {false};
    int na = s.rank ? (int)tk_int(0, s.rank + 1) : 0;
    for (int i = 0; i < na; i++) {
        int a = (int)tk_int(0, s.rank - 1);
        red[a] = true;
        axes[i] = tk_int(0, 1) ? a : a - s.rank;  /* negative axes too; repeats allowed */
    }
    bool keep = tk_int(0, 1);
    tk_graph tg;
    tk_begin(&tg, op, "r");
    tk_in(&tg, dt);
    tk_in(&tg, SL_DTYPE_INT32);
    sl_node_builder_set_attr_bool(tg.b, "keep_dims", keep);
    sl_node *n = tk_finish(&tg);
    sl_tensor *ax = tk_vec_i32(na, axes);
    const sl_tensor *in[] = {x, ax};
    sl_tensor *y = NULL;
    tk_run_ok(n, in, &y, pool);
    sl_shape os = {.rank = 0};
    for (int d = 0; d < s.rank; d++)
        if (!red[d] || keep)
            os.dims[os.rank++] = red[d] ? 1 : s.dims[d];
    tk_expect_shape(y, &os, op);
    int64_t no = sl_shape_num_elements(&os), ne = sl_shape_num_elements(&s), count = 1;
    for (int d = 0; d < s.rank; d++)
        if (red[d])
            count *= s.dims[d];
    double *want = sl_malloc(sizeof(double) * (size_t)(no + 1));
    double init = kind == R_SUM || kind == R_MEAN || kind == R_ANY ? 0 : kind == R_PROD || kind == R_ALL ? 1
                : kind == R_MAX ? (is_int ? (dt == SL_DTYPE_INT32 ? INT32_MIN : (double)INT64_MIN) : -INFINITY)
                                : (is_int ? (dt == SL_DTYPE_INT32 ? INT32_MAX : (double)INT64_MAX) : INFINITY);
    for (int64_t o = 0; o < no; o++)
        want[o] = init;
    int64_t st[SL_MAX_DIMS], ost[SL_MAX_DIMS];
    tk_strides(&s, st);
    sl_shape full_os = s;  /* keep-dims view of the output for indexing */
    for (int d = 0; d < s.rank; d++)
        if (red[d])
            full_os.dims[d] = 1;
    tk_strides(&full_os, ost);
    for (int64_t i = 0; i < ne; i++) {
        int64_t o = 0, rem = i;
        for (int d = s.rank - 1; d >= 0; d--) {
            int64_t id = rem % s.dims[d];
            rem /= s.dims[d];
            if (!red[d])
                o += id * ost[d];
        }
        double v = tk_get(x, i);
        switch (kind) {
        case R_SUM: case R_MEAN: want[o] += v; break;
        case R_PROD: want[o] *= v; break;
        case R_MAX: want[o] = v > want[o] ? v : want[o]; break;
        case R_MIN: want[o] = v < want[o] ? v : want[o]; break;
        case R_ALL: want[o] = want[o] && v; break;
        default: want[o] = want[o] || v; break;
        }
    }
    if (kind == R_MEAN)
        for (int64_t o = 0; o < no; o++)
            want[o] = count ? (is_int ? trunc(want[o] / (double)count) : want[o] / (double)count) : (is_int ? 0 : NAN);
    tk_expect_close(y, want, is_int || dt == SL_DTYPE_BOOL ? 0 : 1e-5, is_int || dt == SL_DTYPE_BOOL ? 0 : 1e-4, op);
    sl_free(want);
    sl_tensor_unref(x);
    sl_tensor_unref(ax);
    sl_tensor_unref(y);
    tk_end(&tg);
}

static void test_reductions_over_any_axes(void **state)
{
    (void)state;
    sl_threadpool *pool = tk_pool(3);
    const char *ops[] = {"Sum", "Mean", "Prod", "Max", "Min"};
    const sl_dtype types[] = {SL_DTYPE_FLOAT, SL_DTYPE_DOUBLE, SL_DTYPE_INT32, SL_DTYPE_INT64};
    for (int k = 0; k < 5; k++)
        for (int rep = 0; rep < 40; rep++)
            check_reduction(ops[k], k, types[rep % 4], rep & 2 ? pool : NULL);
    for (int rep = 0; rep < 30; rep++) {
        check_reduction("All", R_ALL, SL_DTYPE_BOOL, rep & 1 ? pool : NULL);
        check_reduction("Any", R_ANY, SL_DTYPE_BOOL, rep & 1 ? pool : NULL);
    }
    sl_threadpool_free(pool);
}

static void test_reduction_bad_axis_names_node(void **state)
{
    (void)state;
    tk_graph tg;
    tk_begin(&tg, "Sum", "total");
    tk_in(&tg, SL_DTYPE_FLOAT);
    tk_in(&tg, SL_DTYPE_INT32);
    sl_node *n = tk_finish(&tg);
    sl_tensor *x = tk_tensor(SL_DTYPE_FLOAT, sl_shape_matrix(2, 2));
    int32_t a[] = {2};
    sl_tensor *ax = tk_vec_i32(1, a);
    const sl_tensor *in[] = {x, ax};
    sl_tensor *y = NULL;
    char msg[256];
    assert_int_equal(tk_run(n, in, &y, NULL, msg, sizeof(msg)), SL_INVALID_ARGUMENT);
    assert_string_equal(msg, "node 'total' (Sum): invalid reduction dimension 2 for input with 2 dimensions");
    sl_tensor_unref(x);
    sl_tensor_unref(ax);
    tk_end(&tg);
}

static void test_argmax_argmin(void **state)
{
    (void)state;
    for (int rep = 0; rep < 30; rep++) {
        sl_dtype dt = rep % 3 == 0 ? SL_DTYPE_INT32 : rep % 3 == 1 ? SL_DTYPE_FLOAT : SL_DTYPE_DOUBLE;
        sl_shape s = tk_random_shape(4, 1, 5);
        if (s.rank == 0)
            s = sl_shape_vector(3);
        sl_tensor *x = tk_random(dt, s, -4, 4);  /* ties happen: the first index wins */
        int axis = (int)tk_int(0, s.rank - 1);
        bool is_max = rep & 1;
        sl_dtype ot = rep & 2 ? SL_DTYPE_INT32 : SL_DTYPE_INT64;
        tk_graph tg;
        tk_begin(&tg, is_max ? "ArgMax" : "ArgMin", "arg");
        tk_in(&tg, dt);
        tk_in(&tg, SL_DTYPE_INT32);
        sl_node_builder_set_attr_type(tg.b, "output_type", ot);
        sl_node *n = tk_finish(&tg);
        sl_tensor *ax = tk_scalar_i32(axis - (rep & 4 ? s.rank : 0));
        const sl_tensor *in[] = {x, ax};
        sl_tensor *y = NULL;
        tk_run_ok(n, in, &y, NULL);
        assert_int_equal(sl_tensor_dtype(y), ot);
        int64_t A = 1, R = s.dims[axis], B = 1;
        for (int d = 0; d < s.rank; d++)
            if (d < axis)
                A *= s.dims[d];
            else if (d > axis)
                B *= s.dims[d];
        double *want = sl_malloc(sizeof(double) * (size_t)(A * B + 1));
        for (int64_t a = 0; a < A; a++)
            for (int64_t b = 0; b < B; b++) {
                int64_t best = 0;
                for (int64_t r = 1; r < R; r++) {
                    double v = tk_get(x, (a * R + r) * B + b), bv = tk_get(x, (a * R + best) * B + b);
                    if (is_max ? v > bv : v < bv)
                        best = r;
                }
                want[a * B + b] = (double)best;
            }
        tk_expect_close(y, want, 0, 0, "ArgMax/ArgMin");
        sl_free(want);
        sl_tensor_unref(x);
        sl_tensor_unref(ax);
        sl_tensor_unref(y);
        tk_end(&tg);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_matmul_matches_naive_product),
        cmocka_unit_test(test_matmul_direct_path_shapes),
        cmocka_unit_test(test_fused_matmul_matches_product_bias_relu),
        cmocka_unit_test(test_matmul_inner_mismatch_is_an_error),
        cmocka_unit_test(test_batch_matmul_broadcasts_batches),
        cmocka_unit_test(test_reductions_over_any_axes),
        cmocka_unit_test(test_reduction_bad_axis_names_node),
        cmocka_unit_test(test_argmax_argmin),
    };
    return cmocka_run_group_tests_name("kernels-math", tests, NULL, NULL);
}
