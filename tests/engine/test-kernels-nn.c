/* Oracle tests of nn.c: BiasAdd / BiasAddGrad in both layouts, Softmax and
 * LogSoftmax (including huge logits), and both softmax cross-entropy
 * losses; a sparse label out of range is an error naming row and value.
 *
 * Tolerances: float within rtol 1e-5 + atol 1e-5 of a double reference;
 * double within 1e-10.
 */
#include "kernel-test-util.h"

static void test_bias_add_and_grad_both_layouts(void **state)
{
    (void)state;
    sl_threadpool *pool = tk_pool(2);
    for (int rep = 0; rep < 24; rep++) {
        sl_dtype dt = rep % 3 == 0 ? SL_DTYPE_DOUBLE : rep % 3 == 1 ? SL_DTYPE_FLOAT : SL_DTYPE_INT32;
        bool nchw = rep & 1;
        sl_shape s = tk_random_shape(4, 0, 6);
        if (s.rank < 2)
            s = sl_shape_matrix(tk_int(0, 300), tk_int(1, 9));
        int cd = nchw ? 1 : s.rank - 1;
        int64_t c = s.dims[cd];
        sl_tensor *x = tk_random(dt, s, -5, 5), *b = tk_random(dt, sl_shape_vector(c), -5, 5);
        tk_graph tg;
        tk_begin(&tg, "BiasAdd", "ba");
        tk_in(&tg, dt);
        tk_in(&tg, dt);
        sl_node_builder_set_attr_string(tg.b, "data_format", nchw ? "NCHW" : "NHWC", 4);
        sl_node *n = tk_finish(&tg);
        const sl_tensor *in[] = {x, b};
        sl_tensor *y = NULL;
        tk_run_ok(n, in, &y, rep & 2 ? pool : NULL);
        int64_t ne = sl_shape_num_elements(&s), st[SL_MAX_DIMS];
        tk_strides(&s, st);
        double *want = sl_malloc(sizeof(double) * (size_t)(ne + 1));
        double *gw = sl_calloc((size_t)c + 1, sizeof(double));
        for (int64_t i = 0; i < ne; i++) {
            int64_t ch = (i / st[cd]) % c;
            want[i] = tk_get(x, i) + tk_get(b, ch);
            gw[ch] += tk_get(x, i);
        }
        tk_expect_close(y, want, 1e-6, 1e-6, "BiasAdd");
        tk_graph tg2;
        tk_begin(&tg2, "BiasAddGrad", "bag");
        tk_in(&tg2, dt);
        sl_node_builder_set_attr_string(tg2.b, "data_format", nchw ? "NCHW" : "NHWC", 4);
        sl_node *n2 = tk_finish(&tg2);
        sl_tensor *g = NULL;
        tk_run_ok(n2, (const sl_tensor *const *)&x, &g, rep & 2 ? pool : NULL);
        tk_expect_close(g, gw, 1e-5, 1e-4, "BiasAddGrad");
        sl_free(want);
        sl_free(gw);
        sl_tensor_unref(g);
        sl_tensor_unref(y);
        /* a bias of the wrong length */
        sl_tensor *bad = tk_tensor(dt, sl_shape_vector(c + 1));
        const sl_tensor *in2[] = {x, bad};
        char msg[256];
        assert_int_equal(tk_run(n, in2, &y, NULL, msg, sizeof(msg)), SL_INVALID_ARGUMENT);
        assert_non_null(strstr(msg, "node 'ba' (BiasAdd): bias of shape"));
        sl_tensor_unref(bad);
        sl_tensor_unref(x);
        sl_tensor_unref(b);
        tk_end(&tg);
        tk_end(&tg2);
    }
    sl_threadpool_free(pool);
}

static void test_softmax_and_log_softmax(void **state)
{
    (void)state;
    for (int rep = 0; rep < 20; rep++) {
        sl_dtype dt = rep & 1 ? SL_DTYPE_DOUBLE : SL_DTYPE_FLOAT;
        bool lg = rep & 2;
        sl_shape s = tk_random_shape(3, 0, 8);
        if (s.rank == 0)
            s = sl_shape_vector(5);
        double scale = rep % 5 == 0 ? 1000 : 5;  /* huge logits must not overflow */
        sl_tensor *x = tk_random(dt, s, -scale, scale);
        tk_graph tg;
        tk_begin(&tg, lg ? "LogSoftmax" : "Softmax", "sm");
        tk_in(&tg, dt);
        sl_node *n = tk_finish(&tg);
        sl_tensor *y = NULL;
        tk_run_ok(n, (const sl_tensor *const *)&x, &y, NULL);
        int64_t ne = sl_shape_num_elements(&s), c = s.dims[s.rank - 1];
        double *want = sl_malloc(sizeof(double) * (size_t)(ne + 1));
        for (int64_t r = 0; c && r < ne / c; r++) {
            double mx = -INFINITY, sum = 0;
            for (int64_t i = 0; i < c; i++)
                mx = fmax(mx, tk_get(x, r * c + i));
            for (int64_t i = 0; i < c; i++)
                sum += exp(tk_get(x, r * c + i) - mx);
            for (int64_t i = 0; i < c; i++)
                want[r * c + i] = lg ? tk_get(x, r * c + i) - mx - log(sum) : exp(tk_get(x, r * c + i) - mx) / sum;
        }
        tk_expect_close(y, want, dt == SL_DTYPE_FLOAT ? 1e-5 : 1e-10, dt == SL_DTYPE_FLOAT ? 1e-5 : 1e-10,
                        lg ? "LogSoftmax" : "Softmax");
        sl_free(want);
        sl_tensor_unref(x);
        sl_tensor_unref(y);
        tk_end(&tg);
    }
}

static void xent_reference(const sl_tensor *f, const double *labels, int64_t rows, int64_t c, double *loss,
                           double *back)
{
    for (int64_t r = 0; r < rows; r++) {
        double mx = -INFINITY, sum = 0;
        for (int64_t i = 0; i < c; i++)
            mx = fmax(mx, tk_get(f, r * c + i));
        for (int64_t i = 0; i < c; i++)
            sum += exp(tk_get(f, r * c + i) - mx);
        loss[r] = 0;
        for (int64_t i = 0; i < c; i++) {
            double lp = tk_get(f, r * c + i) - mx - log(sum);
            loss[r] -= labels[r * c + i] * lp;
            back[r * c + i] = exp(lp) - labels[r * c + i];
        }
    }
}

static void test_softmax_cross_entropy_dense_and_sparse(void **state)
{
    (void)state;
    for (int rep = 0; rep < 20; rep++) {
        sl_dtype dt = rep & 1 ? SL_DTYPE_DOUBLE : SL_DTYPE_FLOAT;
        bool sparse = rep & 2;
        int64_t rows = tk_int(0, 9), c = tk_int(1, 9);
        sl_tensor *f = tk_random(dt, sl_shape_matrix(rows, c), rep % 5 == 0 ? -500 : -5, rep % 5 == 0 ? 500 : 5);
        double *labels = sl_calloc((size_t)(rows * c) + 1, sizeof(double));
        sl_tensor *l;
        if (sparse) {
            sl_dtype lt = rep & 4 ? SL_DTYPE_INT32 : SL_DTYPE_INT64;
            l = tk_tensor(lt, sl_shape_vector(rows));
            for (int64_t r = 0; r < rows; r++) {
                int64_t k = tk_int(0, c - 1);
                tk_set(l, r, (double)k);
                labels[r * c + k] = 1;
            }
        } else {
            l = tk_tensor(dt, sl_shape_matrix(rows, c));
            for (int64_t r = 0; r < rows; r++) {
                double tot = 0;
                for (int64_t i = 0; i < c; i++)
                    tot += labels[r * c + i] = tk_uniform(0, 1);
                for (int64_t i = 0; i < c; i++) {
                    labels[r * c + i] /= tot;
                    tk_set(l, r * c + i, labels[r * c + i]);
                    labels[r * c + i] = tk_get(l, r * c + i);
                }
            }
        }
        tk_graph tg;
        tk_begin(&tg, sparse ? "SparseSoftmaxCrossEntropyWithLogits" : "SoftmaxCrossEntropyWithLogits", "xent");
        tk_in(&tg, dt);
        tk_in(&tg, sl_tensor_dtype(l));
        sl_node *n = tk_finish(&tg);
        const sl_tensor *in[] = {f, l};
        sl_tensor *out[2] = {NULL, NULL};
        tk_run_ok(n, in, out, NULL);
        double *loss = sl_malloc(sizeof(double) * (size_t)(rows + 1)), *back = sl_malloc(sizeof(double) * (size_t)(rows * c + 1));
        xent_reference(f, labels, rows, c, loss, back);
        double tol = dt == SL_DTYPE_FLOAT ? 1e-5 : 1e-10;
        tk_expect_close(out[0], loss, tol, tol, "xent loss");
        tk_expect_close(out[1], back, tol, tol, "xent backprop");
        if (sparse && rows > 0) {
            tk_set(l, rows - 1, (double)c);
            sl_tensor *o2[2] = {NULL, NULL};
            char msg[256], want[128];
            assert_int_equal(tk_run(n, in, o2, NULL, msg, sizeof(msg)), SL_INVALID_ARGUMENT);
            snprintf(want, sizeof(want), "label %lld in row %lld is outside the valid range [0, %lld)", (long long)c,
                     (long long)rows - 1, (long long)c);
            assert_non_null(strstr(msg, want));
            assert_non_null(strstr(msg, "node 'xent'"));
        }
        sl_free(loss);
        sl_free(back);
        sl_free(labels);
        sl_tensor_unref(out[0]);
        sl_tensor_unref(out[1]);
        sl_tensor_unref(f);
        sl_tensor_unref(l);
        tk_end(&tg);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bias_add_and_grad_both_layouts),
        cmocka_unit_test(test_softmax_and_log_softmax),
        cmocka_unit_test(test_softmax_cross_entropy_dense_and_sparse),
    };
    return cmocka_run_group_tests_name("kernels-nn", tests, NULL, NULL);
}
