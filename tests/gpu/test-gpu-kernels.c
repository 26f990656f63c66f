/* Every CUDA kernel against the CPU kernel (ggml's test-backend-ops): the
 * same node runs on both devices on random shapes and values, and each
 * output must agree within the op family's tolerance:
 *   exact: data movement, comparisons, integers, uniform random numbers;
 *   1e-5 relative (float) / 1e-12 (double): elementwise math, softmax;
 *   1e-4 relative + K-scaled absolute: sums, MatMul, convolutions, pooling
 *     gradients (different summation orders, atomics).
 * Exits 77 (skipped) when no GPU is present.  Not yet run on a GPU. */
#include "../engine/kernel-test-util.h"

#include <stdlib.h>

#include "sluice/gpu.h"

static sl_gpu_device *dev;

/* Runs node on both devices and compares every output. */
static void check(sl_node *node, const sl_tensor *const *in, sl_var *const *cpu_vars, sl_var *const *gpu_vars,
                  double rtol, double atol)
{
    int no = sl_node_num_outputs(node);
    sl_tensor *want[8] = {NULL}, *got[8] = {NULL};
    sl_status *st = sl_status_new();
    if (sl_cpu_run_node_vars(node, in, cpu_vars, want, st) != SL_OK)
        fail_msg("CPU %s: %s", sl_node_op_type(node), sl_status_message(st));
    if (sl_gpu_run_node(dev, node, in, gpu_vars, got, st) != SL_OK)
        fail_msg("GPU %s: %s", sl_node_op_type(node), sl_status_message(st));
    for (int i = 0; i < no; i++) {
        char what[128];
        snprintf(what, sizeof(what), "%s output %d", sl_node_op_type(node), i);
        tk_expect_shape(got[i], sl_tensor_shape(want[i]), what);
        int64_t n = sl_tensor_num_elements(want[i]);
        double *w = calloc((size_t)n + 1, sizeof(double));
        for (int64_t k = 0; k < n; k++)
            w[k] = tk_get(want[i], k);
        tk_expect_close(got[i], w, rtol, atol, what);
        free(w);
        sl_tensor_unref(want[i]);
        sl_tensor_unref(got[i]);
    }
    sl_status_free(st);
}

static void check_plain(sl_node *node, const sl_tensor *const *in, double rtol, double atol)
{
    check(node, in, NULL, NULL, rtol, atol);
}

static double ftol(sl_dtype dt) { return dt == SL_DTYPE_FLOAT ? 1e-5 : dt == SL_DTYPE_DOUBLE ? 1e-12 : 0; }

static void unref_all(sl_tensor **t, int n)
{
    for (int i = 0; i < n; i++)
        sl_tensor_unref(t[i]);
}

static void test_unary_and_activations(void **state)
{
    (void)state;
    static const char *ops[] = {"Neg", "Abs", "Square", "Sign", "Relu", "Relu6", "Round", "Exp", "Log", "Log1p",
                                "Sqrt", "Rsqrt", "Reciprocal", "Tanh", "Sigmoid", "Elu", "Softplus", "Floor",
                                "Ceil", "Sin", "Cos"};
    for (size_t i = 0; i < sizeof(ops) / sizeof(ops[0]); i++)
        for (int d = 0; d < 2; d++) {
            sl_dtype dt = d ? SL_DTYPE_DOUBLE : SL_DTYPE_FLOAT;
            bool positive = !strncmp(ops[i], "Log", 3) || strstr(ops[i], "sqrt") || !strcmp(ops[i], "Sqrt") ||
                            !strcmp(ops[i], "Rsqrt");
            tk_graph tg;
            tk_begin(&tg, ops[i], "u");
            tk_in(&tg, dt);
            sl_node *n = tk_finish(&tg);
            sl_tensor *x = tk_random(dt, tk_random_shape(4, 0, 9), positive ? 0.1 : -8, 8);
            const sl_tensor *in[] = {x};
            check_plain(n, in, 4 * ftol(dt), ftol(dt));
            sl_tensor_unref(x);
            tk_end(&tg);
        }
    static const char *grads[] = {"ReluGrad", "Relu6Grad", "SoftplusGrad", "EluGrad", "SigmoidGrad", "TanhGrad"};
    for (size_t i = 0; i < sizeof(grads) / sizeof(grads[0]); i++) {
        tk_graph tg;
        tk_begin(&tg, grads[i], "g");
        tk_in(&tg, SL_DTYPE_FLOAT);
        tk_in(&tg, SL_DTYPE_FLOAT);
        sl_node *n = tk_finish(&tg);
        sl_shape s = tk_random_shape(3, 1, 20);
        sl_tensor *a = tk_random(SL_DTYPE_FLOAT, s, -3, 8), *b = tk_random(SL_DTYPE_FLOAT, s, -3, 8);
        const sl_tensor *in[] = {a, b};
        check_plain(n, in, 1e-5, 1e-6);
        sl_tensor_unref(a);
        sl_tensor_unref(b);
        tk_end(&tg);
    }
}

/* b's shape: a's with some dimensions 1 and some leading ones dropped */
static sl_shape bcast_partner(sl_shape s)
{
    sl_shape b = s;
    for (int d = 0; d < b.rank; d++)
        if (tk_int(0, 2) == 0)
            b.dims[d] = 1;
    int drop = (int)tk_int(0, b.rank);
    sl_shape r = {.rank = b.rank - drop};
    for (int d = 0; d < r.rank; d++)
        r.dims[d] = b.dims[d + drop];
    return r;
}

static void test_binary_broadcasting(void **state)
{
    (void)state;
    static const char *ops[] = {"Add", "Sub", "Mul", "RealDiv", "Div", "FloorDiv", "FloorMod", "Maximum", "Minimum",
                                "Pow", "SquaredDifference", "Less", "LessEqual", "Greater", "GreaterEqual", "Equal",
                                "NotEqual"};
    const sl_dtype types[] = {SL_DTYPE_FLOAT, SL_DTYPE_DOUBLE, SL_DTYPE_INT32, SL_DTYPE_INT64};
    for (size_t i = 0; i < sizeof(ops) / sizeof(ops[0]); i++)
        for (int t = 0; t < 4; t++) {
            sl_dtype dt = types[t];
            bool is_int = t >= 2;
            if (is_int && !strcmp(ops[i], "RealDiv"))
                continue;
            bool div = strstr(ops[i], "Div") || strstr(ops[i], "Mod");
            bool pw = !strcmp(ops[i], "Pow");
            tk_graph tg;
            tk_begin(&tg, ops[i], "b");
            tk_in(&tg, dt);
            tk_in(&tg, dt);
            sl_node *n = tk_finish(&tg);
            sl_shape sa = tk_random_shape(4, 1, 6), sb = bcast_partner(sa);
            if (tk_int(0, 1)) {
                sl_shape tmp = sa;
                sa = sb;
                sb = tmp;
            }
            sl_tensor *a = tk_random(dt, sa, pw ? 0.5 : -20, pw ? 3 : 20);
            sl_tensor *b = tk_random(dt, sb, div ? 1 : pw ? 0 : -20, div ? 9 : pw ? 3 : 20);
            const sl_tensor *in[] = {a, b};
            check_plain(n, in, 4 * ftol(dt), ftol(dt));
            sl_tensor_unref(a);
            sl_tensor_unref(b);
            tk_end(&tg);
        }
}

static void test_addn_select_cast(void **state)
{
    (void)state;
    for (int rep = 0; rep < 4; rep++) {
        int k = (int)tk_int(1, 11);
        tk_graph tg;
        tk_begin(&tg, "AddN", "addn");
        tk_in_list(&tg, SL_DTYPE_FLOAT, k);
        sl_node *n = tk_finish(&tg);
        sl_shape s = tk_random_shape(3, 1, 30);
        sl_tensor *x[16];
        for (int i = 0; i < k; i++)
            x[i] = tk_random(SL_DTYPE_FLOAT, s, -1, 1);
        check_plain(n, (const sl_tensor *const *)x, 1e-5, 1e-5 * k);
        unref_all(x, k);
        tk_end(&tg);
    }
    {
        tk_graph tg;
        tk_begin(&tg, "SelectV2", "sel");
        tk_in(&tg, SL_DTYPE_BOOL);
        tk_in(&tg, SL_DTYPE_DOUBLE);
        tk_in(&tg, SL_DTYPE_DOUBLE);
        sl_node *n = tk_finish(&tg);
        sl_shape s = tk_random_shape(3, 1, 7);
        sl_tensor *c = tk_random(SL_DTYPE_BOOL, bcast_partner(s), 0, 2), *t = tk_random(SL_DTYPE_DOUBLE, s, -1, 1),
                  *e = tk_random(SL_DTYPE_DOUBLE, bcast_partner(s), -1, 1);
        const sl_tensor *in[] = {c, t, e};
        check_plain(n, in, 0, 0);
        sl_tensor_unref(c), sl_tensor_unref(t), sl_tensor_unref(e);
        tk_end(&tg);
    }
    const sl_dtype types[] = {SL_DTYPE_FLOAT, SL_DTYPE_DOUBLE, SL_DTYPE_INT32, SL_DTYPE_INT64, SL_DTYPE_BOOL};
    for (int a = 0; a < 5; a++)
        for (int b = 0; b < 5; b++) {
            tk_graph tg;
            sl_node_builder *nb = tk_begin(&tg, "Cast", "cast");
            tk_in(&tg, types[a]);
            sl_node_builder_set_attr_type(nb, "DstT", types[b]);
            sl_node *n = tk_finish(&tg);
            sl_tensor *x = tk_random(types[a], tk_random_shape(2, 0, 9), types[a] == SL_DTYPE_BOOL ? 0 : -100,
                                     types[a] == SL_DTYPE_BOOL ? 2 : 100);
            const sl_tensor *in[] = {x};
            check_plain(n, in, 0, 0);
            sl_tensor_unref(x);
            tk_end(&tg);
        }
}

static void test_reductions(void **state)
{
    (void)state;
    static const char *ops[] = {"Sum", "Mean", "Prod", "Max", "Min", "ArgMax", "ArgMin"};
    for (size_t i = 0; i < sizeof(ops) / sizeof(ops[0]); i++)
        for (int rep = 0; rep < 6; rep++) {
            sl_dtype dt = rep % 3 == 0 ? SL_DTYPE_FLOAT : rep % 3 == 1 ? SL_DTYPE_DOUBLE : SL_DTYPE_INT32;
            bool arg = !strncmp(ops[i], "Arg", 3);
            sl_shape s = tk_random_shape(4, 1, rep == 5 ? 300 : 7);
            if (s.rank == 0)
                s = sl_shape_vector(5);
            int32_t axes[SL_MAX_DIMS];
            int na = 0;
            if (arg)
                axes[na++] = (int32_t)tk_int(-s.rank, s.rank - 1);
            else
                for (int d = 0; d < s.rank; d++)
                    if (tk_int(0, 1))
                        axes[na++] = d;
            tk_graph tg;
            sl_node_builder *nb = tk_begin(&tg, ops[i], "r");
            tk_in(&tg, dt);
            tk_in(&tg, SL_DTYPE_INT32);
            if (!arg)
                sl_node_builder_set_attr_bool(nb, "keep_dims", rep & 1);
            sl_node *n = tk_finish(&tg);
            bool prod = !strcmp(ops[i], "Prod");
            sl_tensor *x = tk_random(dt, s, prod ? 0.5 : -10, prod ? 1.5 : 10);
            sl_tensor *ax = arg ? tk_scalar_i32(axes[0]) : tk_vec_i32(na, axes);
            const sl_tensor *in[] = {x, ax};
            double k = (double)sl_tensor_num_elements(x) + 1;
            check_plain(n, in, dt == SL_DTYPE_INT32 ? 0 : 1e-4, dt == SL_DTYPE_INT32 ? 0 : 1e-5 * k);
            sl_tensor_unref(x), sl_tensor_unref(ax);
            tk_end(&tg);
        }
}

static void test_softmax_family(void **state)
{
    (void)state;
    static const char *ops[] = {"Softmax", "LogSoftmax", "SoftmaxCrossEntropyWithLogits",
                                "SparseSoftmaxCrossEntropyWithLogits", "BiasAdd", "BiasAddGrad"};
    for (size_t i = 0; i < sizeof(ops) / sizeof(ops[0]); i++)
        for (int rep = 0; rep < 4; rep++) {
            sl_dtype dt = rep & 1 ? SL_DTYPE_DOUBLE : SL_DTYPE_FLOAT;
            int64_t rows = tk_int(1, rep == 3 ? 500 : 9), cls = tk_int(1, rep == 3 ? 1000 : 12);
            tk_graph tg;
            tk_begin(&tg, ops[i], "s");
            tk_in(&tg, dt);
            sl_tensor *x = tk_random(dt, sl_shape_matrix(rows, cls), -10, 10), *y = NULL;
            if (i == 2) {
                tk_in(&tg, dt);
                y = tk_random(dt, sl_shape_matrix(rows, cls), 0, 1);
            } else if (i == 3) {
                tk_in(&tg, SL_DTYPE_INT64);
                y = tk_random(SL_DTYPE_INT64, sl_shape_vector(rows), 0, (double)cls);
            } else if (i == 4) {
                tk_in(&tg, dt);
                y = tk_random(dt, sl_shape_vector(cls), -1, 1);
            }
            sl_node *n = tk_finish(&tg);
            const sl_tensor *in[] = {x, y};
            check_plain(n, in, 1e-4, (dt == SL_DTYPE_FLOAT ? 1e-5 : 1e-11) * (double)(rows + 1));
            sl_tensor_unref(x), sl_tensor_unref(y);
            tk_end(&tg);
        }
}

static void test_array_ops(void **state)
{
    (void)state;
    for (int rep = 0; rep < 8; rep++) {
        sl_shape s = tk_random_shape(4, 1, 6);
        if (s.rank == 0)
            s = sl_shape_vector(3);
        sl_dtype dt = rep & 1 ? SL_DTYPE_INT64 : SL_DTYPE_FLOAT;
        sl_tensor *x = tk_random(dt, s, -50, 50);
        int32_t perm[SL_MAX_DIMS], begin[SL_MAX_DIMS], size[SL_MAX_DIMS], mult[SL_MAX_DIMS], pads[2 * SL_MAX_DIMS];
        for (int d = 0; d < s.rank; d++) {
            perm[d] = d;
            begin[d] = (int32_t)tk_int(0, s.dims[d] - 1);
            size[d] = tk_int(0, 3) ? (int32_t)tk_int(0, s.dims[d] - begin[d]) : -1;
            mult[d] = (int32_t)tk_int(1, 3);
            pads[2 * d] = (int32_t)tk_int(0, 2);
            pads[2 * d + 1] = (int32_t)tk_int(0, 2);
        }
        for (int d = s.rank - 1; d > 0; d--) {
            int k = (int)tk_int(0, d);
            int32_t t = perm[d];
            perm[d] = perm[k];
            perm[k] = t;
        }
        struct { const char *op; sl_tensor *arg; } cases[] = {
            {"Transpose", tk_vec_i32(s.rank, perm)}, {"Slice", tk_vec_i32(s.rank, begin)},
            {"Tile", tk_vec_i32(s.rank, mult)}, {"Pad", tk_vec_i32(2 * s.rank, pads)},
        };
        sl_tensor *size_t_ = tk_vec_i32(s.rank, size);
        sl_shape ps = sl_shape_matrix(s.rank, 2);
        sl_tensor *pad_m = tk_tensor(SL_DTYPE_INT32, ps);
        memcpy(sl_tensor_data(pad_m), pads, sizeof(int32_t) * 2 * (size_t)s.rank);
        for (int c = 0; c < 4; c++) {
            tk_graph tg;
            tk_begin(&tg, cases[c].op, "a");
            tk_in(&tg, dt);
            tk_in(&tg, SL_DTYPE_INT32);
            if (c == 1)
                tk_in(&tg, SL_DTYPE_INT32);
            sl_node *n = tk_finish(&tg);
            const sl_tensor *in[] = {x, c == 3 ? pad_m : cases[c].arg, size_t_};
            check_plain(n, in, 0, 0);
            tk_end(&tg);
            sl_tensor_unref(cases[c].arg);
        }
        sl_tensor_unref(size_t_), sl_tensor_unref(pad_m);
        /* ConcatV2 / Pack / Split / Unpack along a random axis */
        int axis = (int)tk_int(0, s.rank - 1);
        int k = (int)tk_int(2, 4);  /* ConcatV2 takes N >= 2 */
        sl_tensor *parts[4];
        for (int i = 0; i < k; i++) {
            sl_shape p = s;
            p.dims[axis] = tk_int(0, 4);
            parts[i] = tk_random(dt, p, -9, 9);
        }
        tk_graph tg;
        tk_begin(&tg, "ConcatV2", "cat");
        tk_in_list(&tg, dt, k);
        tk_in(&tg, SL_DTYPE_INT32);
        sl_node *n = tk_finish(&tg);
        sl_tensor *ax = tk_scalar_i32(axis);
        const sl_tensor *cin[6] = {parts[0], parts[1], parts[2], parts[3]};
        cin[k] = ax;
        check_plain(n, cin, 0, 0);
        tk_end(&tg);
        unref_all(parts, k);
        sl_node_builder *nb = tk_begin(&tg, "Pack", "pack");
        tk_in_list(&tg, dt, 3);
        sl_node_builder_set_attr_int(nb, "axis", axis);
        n = tk_finish(&tg);
        const sl_tensor *pin[] = {x, x, x};
        check_plain(n, pin, 0, 0);
        tk_end(&tg);
        nb = tk_begin(&tg, "Unpack", "unpack");
        tk_in(&tg, dt);
        sl_node_builder_set_attr_int(nb, "num", s.dims[axis]);
        sl_node_builder_set_attr_int(nb, "axis", axis);
        n = tk_finish(&tg);
        if (n && s.dims[axis] <= 8) {
            const sl_tensor *uin[] = {x};
            check_plain(n, uin, 0, 0);
        }
        tk_end(&tg);
        /* GatherV2 */
        nb = tk_begin(&tg, "GatherV2", "gather");
        tk_in(&tg, dt);
        tk_in(&tg, SL_DTYPE_INT32);
        tk_in(&tg, SL_DTYPE_INT32);
        n = tk_finish(&tg);
        sl_tensor *idx = tk_random(SL_DTYPE_INT32, tk_random_shape(2, 0, 5), 0, (double)s.dims[axis]);
        const sl_tensor *gin[] = {x, idx, ax};
        check_plain(n, gin, 0, 0);
        tk_end(&tg);
        sl_tensor_unref(idx), sl_tensor_unref(ax), sl_tensor_unref(x);
    }
}

static sl_node *conv_node(tk_graph *tg, const char *op, sl_dtype dt, const int64_t *strides, const char *pad,
                          bool host_first, bool host_second)
{
    sl_node_builder *nb = tk_begin(tg, op, "conv");
    tk_in(tg, host_first ? SL_DTYPE_INT32 : dt);
    tk_in(tg, host_second ? SL_DTYPE_INT32 : dt);
    if (strstr(op, "Conv2DBackprop"))
        tk_in(tg, dt);
    sl_node_builder_set_attr_int_list(nb, "strides", strides, 4);
    sl_node_builder_set_attr_string(nb, "padding", pad, strlen(pad));
    return tk_finish(tg);
}

static void test_matmul_conv_pool(void **state)
{
    (void)state;
    for (int rep = 0; rep < 6; rep++) {
        sl_dtype dt = rep & 1 ? SL_DTYPE_DOUBLE : SL_DTYPE_FLOAT;
        int64_t m = tk_int(1, rep == 4 ? 300 : 20), k = tk_int(1, rep == 4 ? 200 : 20), nn = tk_int(1, 20);
        bool ta = tk_int(0, 1), tb = tk_int(0, 1);
        tk_graph tg;
        sl_node_builder *nb = tk_begin(&tg, "MatMul", "mm");
        tk_in(&tg, dt);
        tk_in(&tg, dt);
        sl_node_builder_set_attr_bool(nb, "transpose_a", ta);
        sl_node_builder_set_attr_bool(nb, "transpose_b", tb);
        sl_node *n = tk_finish(&tg);
        sl_tensor *a = tk_random(dt, ta ? sl_shape_matrix(k, m) : sl_shape_matrix(m, k), -1, 1);
        sl_tensor *b = tk_random(dt, tb ? sl_shape_matrix(nn, k) : sl_shape_matrix(k, nn), -1, 1);
        const sl_tensor *in[] = {a, b};
        check_plain(n, in, 1e-4, (dt == SL_DTYPE_FLOAT ? 1e-5 : 1e-12) * (double)(k + 1));
        tk_end(&tg);
        sl_tensor_unref(a), sl_tensor_unref(b);
        /* BatchMatMulV2 with a broadcast batch */
        nb = tk_begin(&tg, "BatchMatMulV2", "bmm");
        tk_in(&tg, dt);
        tk_in(&tg, dt);
        n = tk_finish(&tg);
        int64_t da[] = {3, 1, m, k}, db[] = {rep & 2 ? 3 : 1, 2, k, nn};
        a = tk_random(dt, sl_shape_make(4, da), -1, 1);
        b = tk_random(dt, sl_shape_make(4, db), -1, 1);
        const sl_tensor *bin[] = {a, b};
        check_plain(n, bin, 1e-4, (dt == SL_DTYPE_FLOAT ? 1e-5 : 1e-12) * (double)(k + 1));
        tk_end(&tg);
        sl_tensor_unref(a), sl_tensor_unref(b);
    }
    for (int rep = 0; rep < 8; rep++) {
        sl_dtype dt = rep & 1 ? SL_DTYPE_DOUBLE : SL_DTYPE_FLOAT;
        int64_t N = tk_int(1, 3), H = tk_int(3, 12), W = tk_int(3, 12), C = tk_int(1, 5), O = tk_int(1, 6);
        int64_t KH = tk_int(1, 3), KW = tk_int(1, 3), s = tk_int(1, 2);
        const char *pad = rep & 2 ? "SAME" : "VALID";
        int64_t strides[4] = {1, s, s, 1};
        int64_t xd[] = {N, H, W, C}, fd[] = {KH, KW, C, O};
        sl_tensor *x = tk_random(dt, sl_shape_make(4, xd), -1, 1), *f = tk_random(dt, sl_shape_make(4, fd), -1, 1);
        tk_graph tg;
        sl_node *n = conv_node(&tg, "Conv2D", dt, strides, pad, false, false);
        sl_tensor *y[1];
        sl_status *st = sl_status_new();
        const sl_tensor *in[] = {x, f};
        assert_int_equal(sl_cpu_run_node_vars(n, in, NULL, y, st), SL_OK);
        double tol = (dt == SL_DTYPE_FLOAT ? 1e-5 : 1e-12) * (double)(KH * KW * C + N * H * W);
        check_plain(n, in, 1e-4, tol);
        tk_end(&tg);
        sl_tensor *dy = tk_random(dt, *sl_tensor_shape(y[0]), -1, 1);
        int32_t xs[4] = {(int32_t)N, (int32_t)H, (int32_t)W, (int32_t)C}, fs[4] = {(int32_t)KH, (int32_t)KW, (int32_t)C, (int32_t)O};
        sl_tensor *xs_t = tk_vec_i32(4, xs), *fs_t = tk_vec_i32(4, fs);
        n = conv_node(&tg, "Conv2DBackpropInput", dt, strides, pad, true, false);
        const sl_tensor *bi[] = {xs_t, f, dy};
        check_plain(n, bi, 1e-4, tol);
        tk_end(&tg);
        n = conv_node(&tg, "Conv2DBackpropFilter", dt, strides, pad, false, true);
        const sl_tensor *bf[] = {x, fs_t, dy};
        check_plain(n, bf, 1e-4, tol);
        tk_end(&tg);
        /* pooling on the same input */
        int64_t ks[4] = {1, KH + 1, KW, 1};
        for (int p = 0; p < 2; p++) {
            sl_node_builder *nb = tk_begin(&tg, p ? "AvgPool" : "MaxPool", "pool");
            tk_in(&tg, dt);
            sl_node_builder_set_attr_int_list(nb, "ksize", ks, 4);
            sl_node_builder_set_attr_int_list(nb, "strides", strides, 4);
            sl_node_builder_set_attr_string(nb, "padding", pad, strlen(pad));
            n = tk_finish(&tg);
            const sl_tensor *pin[] = {x};
            sl_tensor *py[1];
            assert_int_equal(sl_cpu_run_node_vars(n, pin, NULL, py, st), SL_OK);
            check_plain(n, pin, 1e-5, 1e-6);
            tk_end(&tg);
            sl_tensor *pdy = tk_random(dt, *sl_tensor_shape(py[0]), -1, 1);
            nb = tk_begin(&tg, p ? "AvgPoolGrad" : "MaxPoolGrad", "pool_grad");
            tk_in(&tg, p ? SL_DTYPE_INT32 : dt);
            if (!p)
                tk_in(&tg, dt);
            tk_in(&tg, dt);
            sl_node_builder_set_attr_int_list(nb, "ksize", ks, 4);
            sl_node_builder_set_attr_int_list(nb, "strides", strides, 4);
            sl_node_builder_set_attr_string(nb, "padding", pad, strlen(pad));
            n = tk_finish(&tg);
            const sl_tensor *mg[] = {x, py[0], pdy}, *ag[] = {xs_t, pdy};
            check_plain(n, p ? ag : mg, 1e-4, 1e-5 * (double)(KH + 1) * (double)KW);
            tk_end(&tg);
            sl_tensor_unref(py[0]), sl_tensor_unref(pdy);
        }
        sl_status_free(st);
        sl_tensor_unref(x), sl_tensor_unref(f), sl_tensor_unref(y[0]), sl_tensor_unref(dy);
        sl_tensor_unref(xs_t), sl_tensor_unref(fs_t);
    }
}

static void test_random_matches_the_cpu_stream(void **state)
{
    (void)state;
    static const char *ops[] = {"RandomUniform", "RandomStandardNormal", "TruncatedNormal"};
    for (int i = 0; i < 3; i++)
        for (int d = 0; d < 2; d++) {
            sl_dtype dt = d ? SL_DTYPE_DOUBLE : SL_DTYPE_FLOAT;
            tk_graph tg;
            sl_node_builder *nb = tk_begin(&tg, ops[i], "rand");
            tk_in(&tg, SL_DTYPE_INT32);
            sl_node_builder_set_attr_type(nb, "dtype", dt);
            sl_node_builder_set_attr_int(nb, "seed", 87654321);
            sl_node_builder_set_attr_int(nb, "seed2", 1234 + i);
            sl_node *n = tk_finish(&tg);
            int32_t dims[] = {(int32_t)tk_int(1, 40), (int32_t)tk_int(1, 40)};
            sl_tensor *shape = tk_vec_i32(2, dims);
            const sl_tensor *in[] = {shape};
            check_plain(n, in, i == 0 ? 0 : 1e-5, i == 0 ? 0 : 1e-5);
            sl_tensor_unref(shape);
            tk_end(&tg);
        }
}

static void test_optimizers_update_device_variables(void **state)
{
    (void)state;
    static const struct { const char *op; int nvars; int nscalars; } ops[] = {
        {"ApplyGradientDescent", 1, 1}, {"ApplyMomentum", 2, 2}, {"ApplyAdam", 3, 6},
        {"ApplyAdagrad", 2, 1}, {"ApplyRMSProp", 3, 4},
    };
    for (size_t i = 0; i < sizeof(ops) / sizeof(ops[0]); i++) {
        tk_graph tg;
        sl_node_builder *nb = tk_begin(&tg, ops[i].op, "apply");
        sl_node *var_nodes[3];
        for (int v = 0; v < ops[i].nvars; v++) {
            char name[16];
            snprintf(name, sizeof(name), "v%d", v);
            sl_node_builder *vb = sl_node_builder_new(tg.g, "VariableV2", name);
            sl_node_builder_set_attr_type(vb, "dtype", SL_DTYPE_FLOAT);
            sl_shape unk = sl_shape_unknown();
            sl_node_builder_set_attr_shape(vb, "shape", &unk);
            sl_status *st = sl_status_new();
            var_nodes[v] = sl_node_builder_finish(vb, st);
            sl_status_free(st);
            sl_node_builder_add_input(nb, (sl_output){var_nodes[v], 0});
        }
        /* scalars, then the gradient, in the op's input order */
        int nin = ops[i].nvars + ops[i].nscalars + 1;
        int grad_at = !strcmp(ops[i].op, "ApplyGradientDescent") ? 2 : !strcmp(ops[i].op, "ApplyAdam") ? 9
                    : !strcmp(ops[i].op, "ApplyRMSProp") ? 7 : 3;
        for (int k = ops[i].nvars; k < nin; k++)
            tk_in(&tg, SL_DTYPE_FLOAT);
        sl_node *n = tk_finish(&tg);
        sl_shape s = tk_random_shape(3, 1, 30);
        sl_tensor *in[12] = {NULL};
        for (int k = ops[i].nvars; k < nin; k++)
            in[k] = k == grad_at ? tk_random(SL_DTYPE_FLOAT, s, -1, 1) : tk_scalar(SL_DTYPE_FLOAT, tk_uniform(0.05, 0.9));
        sl_var *cv[12] = {NULL}, *gv[12] = {NULL};
        sl_status *st = sl_status_new();
        for (int v = 0; v < ops[i].nvars; v++) {
            sl_tensor *h = tk_random(SL_DTYPE_FLOAT, s, 0.1, 1);
            sl_tensor *d = sl_gpu_to_device(dev, h, st);
            cv[v] = sl_var_new();
            gv[v] = sl_var_new();
            sl_var_set_value(cv[v], h);
            sl_var_set_value(gv[v], d);
            sl_tensor_unref(h), sl_tensor_unref(d);
        }
        check(n, (const sl_tensor *const *)in, cv, gv, 1e-5, 1e-6);
        for (int v = 0; v < ops[i].nvars; v++) {  /* every slot, not just the returned variable */
            sl_tensor *got = sl_gpu_to_host(dev, sl_var_value(gv[v]), st);
            int64_t ne = sl_tensor_num_elements(got);
            double *w = calloc((size_t)ne + 1, sizeof(double));
            for (int64_t e = 0; e < ne; e++)
                w[e] = tk_get(sl_var_value(cv[v]), e);
            tk_expect_close(got, w, 1e-5, 1e-6, ops[i].op);
            free(w);
            sl_tensor_unref(got);
            sl_var_unref(cv[v]), sl_var_unref(gv[v]);
        }
        unref_all(in, nin);
        sl_status_free(st);
        tk_end(&tg);
    }
}

int main(void)
{
    sl_status *st = sl_status_new();
    dev = sl_gpu_device_get(0, st);
    sl_status_free(st);
    if (!dev) {
        printf("skipped: %s\n", sl_gpu_message());
        return 77;
    }
    printf("%s\n", sl_gpu_message());
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_unary_and_activations),
        cmocka_unit_test(test_binary_broadcasting),
        cmocka_unit_test(test_addn_select_cast),
        cmocka_unit_test(test_reductions),
        cmocka_unit_test(test_softmax_family),
        cmocka_unit_test(test_array_ops),
        cmocka_unit_test(test_matmul_conv_pool),
        cmocka_unit_test(test_random_matches_the_cpu_stream),
        cmocka_unit_test(test_optimizers_update_device_variables),
    };
    return cmocka_run_group_tests_name("gpu-kernels", tests, NULL, NULL);
}
