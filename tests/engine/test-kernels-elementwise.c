/* Oracle tests of the elementwise CPU kernels (unary.c, binary.c,
 * elementwise-misc.c, cast.c) against naive references computed in double
 * in this file, on random shapes with broadcasting, size-1 and empty
 * dimensions, with and without a thread pool.
 *
 * Tolerances: float results within rtol 2e-6 + atol 1e-6 of the double
 * reference (libm's float functions are within an ulp or two); double
 * within 1e-12; integer and bool results exact.
 */
#include "kernel-test-util.h"

typedef double (*ref1)(double);
typedef double (*ref2)(double, double);

static double r_neg(double x) { return -x; }
static double r_abs(double x) { return fabs(x); }
static double r_square(double x) { return x * x; }
static double r_sign(double x) { return x > 0 ? 1 : x < 0 ? -1 : 0; }
static double r_relu(double x) { return x > 0 ? x : 0; }
static double r_relu6(double x) { return x > 0 ? (x < 6 ? x : 6) : 0; }
static double r_round(double x) { return nearbyint(x); }
static double r_rsqrt(double x) { return 1 / sqrt(x); }
static double r_recip(double x) { return 1 / x; }
static double r_sigmoid(double x) { return 1 / (1 + exp(-x)); }
static double r_elu(double x) { return x < 0 ? expm1(x) : x; }
static double r_softplus(double x) { return x > 0 ? x + log1p(exp(-x)) : log1p(exp(x)); }

static const struct unary_case {
    const char *op;
    ref1 ref;
    double lo, hi;
    bool ints;
} unary_cases[] = {
    {"Neg", r_neg, -5, 5, true},        {"Abs", r_abs, -5, 5, true},
    {"Square", r_square, -5, 5, true},  {"Sign", r_sign, -3, 3, true},
    {"Relu", r_relu, -8, 8, true},      {"Relu6", r_relu6, -8, 10, true},
    {"Round", r_round, -5, 5, true},    {"Exp", exp, -5, 5, false},
    {"Log", log, 0.01, 10, false},      {"Log1p", log1p, -0.9, 10, false},
    {"Sqrt", sqrt, 0, 10, false},       {"Rsqrt", r_rsqrt, 0.01, 10, false},
    {"Reciprocal", r_recip, 0.1, 10, false}, {"Tanh", tanh, -5, 5, false},
    {"Sigmoid", r_sigmoid, -20, 20, false}, {"Elu", r_elu, -5, 5, false},
    {"Softplus", r_softplus, -30, 30, false}, {"Floor", floor, -5, 5, false},
    {"Ceil", ceil, -5, 5, false},       {"Sin", sin, -5, 5, false},
    {"Cos", cos, -5, 5, false},
};

static void check_unary(const struct unary_case *c, sl_dtype dt, sl_threadpool *pool)
{
    sl_shape s = tk_random_shape(4, 0, 7);
    if (tk_int(0, 3) == 0)
        s = sl_shape_vector(20000 + tk_int(0, 100));  /* big enough to shard */
    sl_tensor *x = tk_random(dt, s, c->lo, c->hi);
    tk_graph tg;
    tk_begin(&tg, c->op, "y");
    tk_in(&tg, dt);
    sl_node *n = tk_finish(&tg);
    sl_tensor *y = NULL;
    const sl_tensor *in[] = {x};
    tk_run_ok(n, in, &y, pool);
    tk_expect_shape(y, &s, c->op);
    int64_t ne = sl_tensor_num_elements(x);
    double *want = sl_malloc(sizeof(double) * (size_t)(ne + 1));
    for (int64_t i = 0; i < ne; i++)
        want[i] = c->ref(tk_get(x, i));
    bool flt = dt == SL_DTYPE_FLOAT;
    tk_expect_close(y, want, flt ? 2e-6 : dt == SL_DTYPE_DOUBLE ? 1e-12 : 0, flt ? 1e-6 : 0, c->op);
    sl_free(want);
    sl_tensor_unref(x);
    sl_tensor_unref(y);
    tk_end(&tg);
}

static void test_unary_ops_match_reference(void **state)
{
    (void)state;
    sl_threadpool *pool = tk_pool(3);
    for (size_t i = 0; i < sizeof(unary_cases) / sizeof(unary_cases[0]); i++) {
        for (int rep = 0; rep < 4; rep++) {
            sl_threadpool *p = rep & 1 ? pool : NULL;
            check_unary(&unary_cases[i], SL_DTYPE_FLOAT, p);
            check_unary(&unary_cases[i], SL_DTYPE_DOUBLE, p);
            if (unary_cases[i].ints) {
                check_unary(&unary_cases[i], SL_DTYPE_INT32, p);
                check_unary(&unary_cases[i], SL_DTYPE_INT64, p);
            }
        }
    }
    sl_threadpool_free(pool);
}

/* ---- binary ----------------------------------------------------------------- */

static double r_add(double x, double y) { return x + y; }
static double r_sub(double x, double y) { return x - y; }
static double r_mul(double x, double y) { return x * y; }
static double r_div(double x, double y) { return x / y; }
static double r_idiv(double x, double y) { return trunc(x / y); }
static double r_floordiv(double x, double y) { return floor(x / y); }
static double r_floormod(double x, double y) { return x - floor(x / y) * y; }
static double r_max(double x, double y) { return x > y ? x : y; }
static double r_min(double x, double y) { return x < y ? x : y; }
static double r_sqdiff(double x, double y) { return (x - y) * (x - y); }
static double r_less(double x, double y) { return x < y; }
static double r_less_eq(double x, double y) { return x <= y; }
static double r_greater(double x, double y) { return x > y; }
static double r_greater_eq(double x, double y) { return x >= y; }
static double r_equal(double x, double y) { return x == y; }
static double r_not_equal(double x, double y) { return x != y; }
static double r_and(double x, double y) { return x && y; }
static double r_or(double x, double y) { return x || y; }

enum { YR_ANY, YR_NONZERO, YR_POW };

static const struct binary_case {
    const char *op;
    ref2 ref;      /* float reference */
    ref2 iref;     /* integer reference (NULL: same) */
    int yrange;
    bool ints;
    bool floats;
} binary_cases[] = {
    {"Add", r_add, NULL, YR_ANY, true, true},
    {"AddV2", r_add, NULL, YR_ANY, true, true},
    {"Sub", r_sub, NULL, YR_ANY, true, true},
    {"Mul", r_mul, NULL, YR_ANY, true, true},
    {"RealDiv", r_div, NULL, YR_NONZERO, false, true},
    {"Div", r_div, r_idiv, YR_NONZERO, true, true},
    {"FloorDiv", r_floordiv, NULL, YR_NONZERO, true, true},
    {"FloorMod", r_floormod, NULL, YR_NONZERO, true, true},
    {"Maximum", r_max, NULL, YR_ANY, true, true},
    {"Minimum", r_min, NULL, YR_ANY, true, true},
    {"Pow", pow, NULL, YR_POW, true, true},
    {"SquaredDifference", r_sqdiff, NULL, YR_ANY, true, true},
    {"Less", r_less, NULL, YR_ANY, true, true},
    {"LessEqual", r_less_eq, NULL, YR_ANY, true, true},
    {"Greater", r_greater, NULL, YR_ANY, true, true},
    {"GreaterEqual", r_greater_eq, NULL, YR_ANY, true, true},
    {"Equal", r_equal, NULL, YR_ANY, true, true},
    {"NotEqual", r_not_equal, NULL, YR_ANY, true, true},
    {"LogicalAnd", r_and, NULL, YR_ANY, false, false},
    {"LogicalOr", r_or, NULL, YR_ANY, false, false},
};

/* Two shapes that broadcast: each dim of the output is taken, or set to 1, per side. */
static void broadcast_pair(sl_shape *a, sl_shape *b, sl_shape *out)
{
    *out = tk_random_shape(4, 0, 5);
    if (tk_int(0, 4) == 0) {
        int64_t d[] = {64, 300};
        *out = sl_shape_make(2, d);  /* big enough for several shards */
    }
    *a = *out;
    *b = *out;
    for (int d = 0; d < out->rank; d++) {
        int w = (int)tk_int(0, 3);
        if (w == 1)
            a->dims[d] = 1;
        else if (w == 2)
            b->dims[d] = 1;
    }
    int drop = (int)tk_int(0, out->rank);
    if (tk_int(0, 1)) {  /* drop leading dims of a (they must then be 1 or absent) */
        a->rank -= drop;
        memmove(a->dims, a->dims + drop, sizeof(int64_t) * (size_t)a->rank);
    } else {
        b->rank -= drop;
        memmove(b->dims, b->dims + drop, sizeof(int64_t) * (size_t)b->rank);
    }
    /* the true output: a dim broadcast on both sides is 1 */
    for (int d = 0; d < out->rank; d++) {
        int ka = d - (out->rank - a->rank), kb = d - (out->rank - b->rank);
        int64_t da = ka >= 0 ? a->dims[ka] : 1, db = kb >= 0 ? b->dims[kb] : 1;
        out->dims[d] = da == 1 ? db : da;
    }
}

static void check_binary(const struct binary_case *c, sl_dtype dt, sl_threadpool *pool)
{
    sl_shape as, bs, os;
    broadcast_pair(&as, &bs, &os);
    bool is_int = dt == SL_DTYPE_INT32 || dt == SL_DTYPE_INT64;
    sl_tensor *a = tk_random(dt, as, is_int ? -20 : -3, is_int ? 20 : 3);
    sl_tensor *b = tk_random(dt, bs, is_int ? -20 : -3, is_int ? 20 : 3);
    for (int64_t i = 0; i < sl_tensor_num_elements(b); i++) {
        double v = tk_get(b, i);
        if (c->yrange == YR_NONZERO && fabs(v) < 0.5)
            tk_set(b, i, v < 0 ? -1 : 1);
        if (c->yrange == YR_POW)
            tk_set(b, i, is_int ? (double)tk_int(0, 4) : tk_uniform(-2, 2));
        if (dt == SL_DTYPE_BOOL)
            tk_set(b, i, (double)tk_int(0, 1));
    }
    for (int64_t i = 0; i < sl_tensor_num_elements(a); i++) {
        if (c->yrange == YR_POW && !is_int)
            tk_set(a, i, tk_uniform(0.2, 3));
        if (dt == SL_DTYPE_BOOL)
            tk_set(a, i, (double)tk_int(0, 1));
        if (tk_int(0, 5) == 0 && sl_tensor_num_elements(b) > 0)  /* some equal pairs for comparisons */
            tk_set(a, i, tk_get(b, 0));
    }
    tk_graph tg;
    tk_begin(&tg, c->op, "z");
    tk_in(&tg, dt);
    tk_in(&tg, dt);
    sl_node *n = tk_finish(&tg);
    sl_tensor *z = NULL;
    const sl_tensor *in[] = {a, b};
    tk_run_ok(n, in, &z, pool);
    tk_expect_shape(z, &os, c->op);
    int64_t ne = sl_shape_num_elements(&os);
    double *want = sl_malloc(sizeof(double) * (size_t)(ne + 1));
    ref2 ref = is_int && c->iref ? c->iref : c->ref;
    for (int64_t o = 0; o < ne; o++) {
        double x = tk_get(a, tk_bcast_index(&os, &as, o)), y = tk_get(b, tk_bcast_index(&os, &bs, o));
        if (dt == SL_DTYPE_FLOAT) {  /* compare against float inputs computed in double */
            x = (float)x;
            y = (float)y;
        }
        want[o] = ref(x, y);
    }
    bool flt = dt == SL_DTYPE_FLOAT;
    tk_expect_close(z, want, flt ? 4e-6 : dt == SL_DTYPE_DOUBLE ? 1e-12 : 0, flt ? 4e-6 : 0, c->op);
    sl_free(want);
    sl_tensor_unref(a);
    sl_tensor_unref(b);
    sl_tensor_unref(z);
    tk_end(&tg);
}

static void test_binary_ops_broadcast_like_numpy(void **state)
{
    (void)state;
    sl_threadpool *pool = tk_pool(3);
    for (size_t i = 0; i < sizeof(binary_cases) / sizeof(binary_cases[0]); i++) {
        for (int rep = 0; rep < 12; rep++) {
            sl_threadpool *p = rep & 1 ? pool : NULL;
            const struct binary_case *c = &binary_cases[i];
            if (!c->floats && !c->ints) {
                check_binary(c, SL_DTYPE_BOOL, p);
                continue;
            }
            check_binary(c, SL_DTYPE_FLOAT, p);
            check_binary(c, SL_DTYPE_DOUBLE, p);
            if (c->ints) {
                check_binary(c, SL_DTYPE_INT32, p);
                check_binary(c, SL_DTYPE_INT64, p);
            }
        }
    }
    sl_threadpool_free(pool);
}

/* Mul by a single 1 that does not broadcast the other operand forwards it
 * (dropout's inference path); a 1 that broadcasts, or a 1.5, computes. */
static void test_mul_by_one_forwards(void **state)
{
    (void)state;
    tk_graph tg;
    tk_begin(&tg, "Mul", "m");
    tk_in(&tg, SL_DTYPE_FLOAT);
    tk_in(&tg, SL_DTYPE_FLOAT);
    sl_node *n = tk_finish(&tg);
    sl_tensor *x = tk_random(SL_DTYPE_FLOAT, sl_shape_matrix(3, 5), -2, 2);
    sl_shape s11 = {.rank = 2, .dims = {1, 1}}, s111 = {.rank = 3, .dims = {2, 1, 1}};
    sl_tensor *one = tk_tensor(SL_DTYPE_FLOAT, s11), *one3 = tk_tensor(SL_DTYPE_FLOAT, s111),
              *half = tk_tensor(SL_DTYPE_FLOAT, s11);
    *(float *)sl_tensor_data(one) = 1.0f;
    ((float *)sl_tensor_data(one3))[0] = ((float *)sl_tensor_data(one3))[1] = 1.0f;
    *(float *)sl_tensor_data(half) = 1.5f;
    for (int order = 0; order < 2; order++) {
        const sl_tensor *in[] = {order ? one : x, order ? x : one};
        sl_tensor *z = NULL;
        tk_run_ok(n, in, &z, NULL);
        assert_ptr_equal(sl_tensor_data(z), sl_tensor_data(x));  /* forwarded */
        sl_tensor_unref(z);
        const sl_tensor *in2[] = {order ? half : x, order ? x : half};
        tk_run_ok(n, in2, &z, NULL);
        assert_ptr_not_equal(sl_tensor_data(z), sl_tensor_data(x));
        for (int i = 0; i < 15; i++)
            assert_true(((float *)sl_tensor_data(z))[i] == ((float *)sl_tensor_data(x))[i] * 1.5f);
        sl_tensor_unref(z);
        const sl_tensor *in3[] = {order ? one3 : x, order ? x : one3};  /* broadcasts x to [2, 3, 5] */
        tk_run_ok(n, in3, &z, NULL);
        assert_int_equal(sl_tensor_num_elements(z), 30);
        for (int i = 0; i < 30; i++)
            assert_true(((float *)sl_tensor_data(z))[i] == ((float *)sl_tensor_data(x))[i % 15]);
        sl_tensor_unref(z);
    }
    sl_tensor_unref(x);
    sl_tensor_unref(one);
    sl_tensor_unref(one3);
    sl_tensor_unref(half);
    tk_end(&tg);
}

static void test_add_shape_mismatch_names_node(void **state)
{
    (void)state;
    tk_graph tg;
    tk_begin(&tg, "Add", "bad_add");
    tk_in(&tg, SL_DTYPE_FLOAT);
    tk_in(&tg, SL_DTYPE_FLOAT);
    sl_node *n = tk_finish(&tg);
    sl_tensor *a = tk_tensor(SL_DTYPE_FLOAT, sl_shape_matrix(2, 3)), *b = tk_tensor(SL_DTYPE_FLOAT, sl_shape_vector(4));
    const sl_tensor *in[] = {a, b};
    sl_tensor *z = NULL;
    char msg[256];
    sl_alloc_stats before, after;
    sl_alloc_get_stats(&before);
    assert_int_equal(tk_run(n, in, &z, NULL, msg, sizeof(msg)), SL_INVALID_ARGUMENT);
    sl_alloc_get_stats(&after);
    assert_int_equal(before.bytes_in_use, after.bytes_in_use);  /* no leak */
    assert_null(z);
    assert_string_equal(msg, "node 'bad_add' (Add): incompatible shapes for broadcasting: [2,3] and [4]");
    sl_tensor_unref(a);
    sl_tensor_unref(b);
    tk_end(&tg);
}

static void test_integer_division_by_zero_fails(void **state)
{
    (void)state;
    const char *ops[] = {"Div", "FloorDiv", "FloorMod"};
    for (int k = 0; k < 3; k++) {
        tk_graph tg;
        tk_begin(&tg, ops[k], "d");
        tk_in(&tg, SL_DTYPE_INT32);
        tk_in(&tg, SL_DTYPE_INT32);
        sl_node *n = tk_finish(&tg);
        int32_t xv[] = {1, 2}, yv[] = {1, 0};
        sl_tensor *x = tk_vec_i32(2, xv), *y = tk_vec_i32(2, yv);
        const sl_tensor *in[] = {x, y};
        sl_tensor *z = NULL;
        char msg[256];
        assert_int_equal(tk_run(n, in, &z, NULL, msg, sizeof(msg)), SL_INVALID_ARGUMENT);
        assert_non_null(strstr(msg, "integer division by zero (y[1] is 0)"));
        sl_tensor_unref(x);
        sl_tensor_unref(y);
        tk_end(&tg);
    }
}

static void test_integer_extremes_wrap_without_trapping(void **state)
{
    (void)state;
    tk_graph tg;
    tk_begin(&tg, "FloorDiv", "d");
    tk_in(&tg, SL_DTYPE_INT32);
    tk_in(&tg, SL_DTYPE_INT32);
    sl_node *n = tk_finish(&tg);
    int32_t xv[] = {INT32_MIN, -7, 7, -7}, yv[] = {-1, 2, -2, -2};
    sl_tensor *x = tk_vec_i32(4, xv), *y = tk_vec_i32(4, yv);
    const sl_tensor *in[] = {x, y};
    sl_tensor *z = NULL;
    tk_run_ok(n, in, &z, NULL);
    const int32_t *zv = sl_tensor_data(z);
    assert_int_equal(zv[0], INT32_MIN);  /* wraps, as TF does on x86 */
    assert_int_equal(zv[1], -4);
    assert_int_equal(zv[2], -4);
    assert_int_equal(zv[3], 3);
    sl_tensor_unref(z);
    sl_tensor_unref(x);
    sl_tensor_unref(y);
    tk_end(&tg);
}

/* ---- AddN, Select, activation gradients -------------------------------------------- */

static void test_add_n_sums_inputs(void **state)
{
    (void)state;
    for (int rep = 0; rep < 6; rep++) {
        int k = (int)tk_int(1, 5);
        sl_shape s = tk_random_shape(3, 0, 6);
        sl_dtype dt = rep % 2 ? SL_DTYPE_INT32 : SL_DTYPE_FLOAT;
        tk_graph tg;
        tk_begin(&tg, "AddN", "s");
        tk_in_list(&tg, dt, k);
        sl_node *n = tk_finish(&tg);
        sl_tensor *x[5];
        for (int i = 0; i < k; i++)
            x[i] = tk_random(dt, s, -10, 10);
        sl_tensor *y = NULL;
        tk_run_ok(n, (const sl_tensor *const *)x, &y, NULL);
        int64_t ne = sl_shape_num_elements(&s);
        double *want = sl_calloc((size_t)ne + 1, sizeof(double));
        for (int i = 0; i < k; i++)
            for (int64_t e = 0; e < ne; e++)
                want[e] += tk_get(x[i], e);
        tk_expect_close(y, want, 1e-6, 1e-5, "AddN");
        sl_free(want);
        for (int i = 0; i < k; i++)
            sl_tensor_unref(x[i]);
        sl_tensor_unref(y);
        tk_end(&tg);
    }
}

static void test_select_v1_and_v2(void **state)
{
    (void)state;
    /* SelectV2: three-way broadcasting */
    for (int rep = 0; rep < 10; rep++) {
        sl_shape cs, ts, os, es, tmp;
        broadcast_pair(&cs, &ts, &os);
        es = os;
        if (tk_int(0, 1) && es.rank)
            es.dims[es.rank - 1] = 1;
        (void)tmp;
        sl_tensor *c = tk_random(SL_DTYPE_BOOL, cs, 0, 2), *t = tk_random(SL_DTYPE_FLOAT, ts, -1, 1),
                  *e = tk_random(SL_DTYPE_FLOAT, es, -1, 1);
        tk_graph tg;
        tk_begin(&tg, "SelectV2", "sel");
        tk_in(&tg, SL_DTYPE_BOOL);
        tk_in(&tg, SL_DTYPE_FLOAT);
        tk_in(&tg, SL_DTYPE_FLOAT);
        sl_node *n = tk_finish(&tg);
        const sl_tensor *in[] = {c, t, e};
        sl_tensor *y = NULL;
        tk_run_ok(n, in, &y, NULL);
        tk_expect_shape(y, &os, "SelectV2");
        int64_t ne = sl_shape_num_elements(&os);
        double *want = sl_malloc(sizeof(double) * (size_t)(ne + 1));
        for (int64_t o = 0; o < ne; o++)
            want[o] = tk_get(c, tk_bcast_index(&os, &cs, o)) ? tk_get(t, tk_bcast_index(&os, &ts, o))
                                                              : tk_get(e, tk_bcast_index(&os, &es, o));
        tk_expect_close(y, want, 0, 0, "SelectV2");
        sl_free(want);
        sl_tensor_unref(c);
        sl_tensor_unref(t);
        sl_tensor_unref(e);
        sl_tensor_unref(y);
        tk_end(&tg);
    }
    /* Select (TF1): a vector condition picks rows */
    tk_graph tg;
    tk_begin(&tg, "Select", "sel1");
    tk_in(&tg, SL_DTYPE_BOOL);
    tk_in(&tg, SL_DTYPE_INT32);
    tk_in(&tg, SL_DTYPE_INT32);
    sl_node *n = tk_finish(&tg);
    sl_tensor *c = tk_tensor(SL_DTYPE_BOOL, sl_shape_vector(2));
    ((uint8_t *)sl_tensor_data(c))[1] = 1;
    sl_tensor *t = tk_random(SL_DTYPE_INT32, sl_shape_matrix(2, 3), 0, 9), *e = tk_random(SL_DTYPE_INT32, sl_shape_matrix(2, 3), 10, 19);
    const sl_tensor *in[] = {c, t, e};
    sl_tensor *y = NULL;
    tk_run_ok(n, in, &y, NULL);
    for (int i = 0; i < 6; i++)
        assert_true(tk_get(y, i) == (i < 3 ? tk_get(e, i) : tk_get(t, i)));
    sl_tensor_unref(y);
    sl_tensor *bad = tk_tensor(SL_DTYPE_BOOL, sl_shape_vector(3));
    const sl_tensor *in2[] = {bad, t, e};
    char msg[256];
    assert_int_equal(tk_run(n, in2, &y, NULL, msg, sizeof(msg)), SL_INVALID_ARGUMENT);
    assert_non_null(strstr(msg, "node 'sel1' (Select): condition of shape [3]"));
    sl_tensor_unref(bad);
    sl_tensor_unref(c);
    sl_tensor_unref(t);
    sl_tensor_unref(e);
    tk_end(&tg);
}

static void test_activation_gradients(void **state)
{
    (void)state;
    const char *ops[] = {"ReluGrad", "Relu6Grad", "SoftplusGrad", "EluGrad", "SigmoidGrad", "TanhGrad"};
    for (int k = 0; k < 6; k++) {
        for (int dtk = 0; dtk < 2; dtk++) {
            sl_dtype dt = dtk ? SL_DTYPE_DOUBLE : SL_DTYPE_FLOAT;
            sl_shape s = tk_random_shape(3, 0, 6);
            sl_tensor *a = tk_random(dt, s, -8, 8), *b = tk_random(dt, s, -8, 8);
            tk_graph tg;
            tk_begin(&tg, ops[k], "g");
            tk_in(&tg, dt);
            tk_in(&tg, dt);
            sl_node *n = tk_finish(&tg);
            const sl_tensor *in[] = {a, b};
            sl_tensor *y = NULL;
            tk_run_ok(n, in, &y, NULL);
            int64_t ne = sl_shape_num_elements(&s);
            double *want = sl_malloc(sizeof(double) * (size_t)(ne + 1));
            for (int64_t i = 0; i < ne; i++) {
                double x = tk_get(a, i), f = tk_get(b, i);
                switch (k) {
                case 0: want[i] = f > 0 ? x : 0; break;
                case 1: want[i] = f > 0 && f < 6 ? x : 0; break;
                case 2: want[i] = x / (1 + exp(-f)); break;
                case 3: want[i] = f < 0 ? x * (f + 1) : x; break;
                case 4: want[i] = f * x * (1 - x); break;
                default: want[i] = f * (1 - x * x); break;
                }
            }
            tk_expect_close(y, want, dt == SL_DTYPE_FLOAT ? 1e-5 : 1e-12, dt == SL_DTYPE_FLOAT ? 1e-5 : 1e-12, ops[k]);
            sl_free(want);
            sl_tensor_unref(y);
            /* different shapes are an error */
            sl_tensor *c = tk_tensor(dt, sl_shape_vector(ne + 1));
            const sl_tensor *in2[] = {a, c};
            char msg[256];
            assert_int_equal(tk_run(n, in2, &y, NULL, msg, sizeof(msg)), SL_INVALID_ARGUMENT);
            assert_non_null(strstr(msg, "must have the same shape"));
            sl_tensor_unref(c);
            sl_tensor_unref(a);
            sl_tensor_unref(b);
            tk_end(&tg);
        }
    }
}

/* ---- Cast -------------------------------------------------------------------------- */

static void test_cast_between_all_types(void **state)
{
    (void)state;
    const sl_dtype types[] = {SL_DTYPE_FLOAT, SL_DTYPE_DOUBLE, SL_DTYPE_INT8, SL_DTYPE_INT16, SL_DTYPE_INT32,
                              SL_DTYPE_INT64, SL_DTYPE_UINT8, SL_DTYPE_UINT16, SL_DTYPE_UINT32, SL_DTYPE_UINT64,
                              SL_DTYPE_BOOL};
    int nt = (int)(sizeof(types) / sizeof(types[0]));
    for (int si = 0; si < nt; si++) {
        for (int di = 0; di < nt; di++) {
            sl_dtype src = types[si], dst = types[di];
            sl_shape s = tk_random_shape(2, 0, 9);
            sl_tensor *x = tk_random(src, s, 0, 100);  /* in range of every type */
            if (src == SL_DTYPE_BOOL)
                for (int64_t i = 0; i < sl_tensor_num_elements(x); i++)
                    tk_set(x, i, (double)tk_int(0, 1));
            tk_graph tg;
            tk_begin(&tg, "Cast", "c");
            tk_in(&tg, src);
            sl_node_builder_set_attr_type(tg.b, "DstT", dst);
            sl_node *n = tk_finish(&tg);
            const sl_tensor *in[] = {x};
            sl_tensor *y = NULL;
            tk_run_ok(n, in, &y, NULL);
            int64_t ne = sl_shape_num_elements(&s);
            double *want = sl_malloc(sizeof(double) * (size_t)(ne + 1));
            for (int64_t i = 0; i < ne; i++) {
                double v = tk_get(x, i);
                want[i] = dst == SL_DTYPE_BOOL ? v != 0 : (dst == SL_DTYPE_FLOAT || dst == SL_DTYPE_DOUBLE) ? v : trunc(v);
                if (dst == SL_DTYPE_FLOAT)
                    want[i] = (float)want[i];
            }
            tk_expect_close(y, want, 0, 0, "Cast");
            sl_free(want);
            sl_tensor_unref(x);
            sl_tensor_unref(y);
            tk_end(&tg);
        }
    }
    /* saturation and NaN, half and bfloat16 round trips */
    sl_tensor *f = tk_tensor(SL_DTYPE_FLOAT, sl_shape_vector(5));
    float fv[] = {1e10f, -1e10f, NAN, 2.5f, -0.75f};
    memcpy(sl_tensor_data(f), fv, sizeof(fv));
    const sl_dtype mid[] = {SL_DTYPE_INT32, SL_DTYPE_HALF, SL_DTYPE_BFLOAT16};
    for (int k = 0; k < 3; k++) {
        tk_graph tg;
        tk_begin(&tg, "Cast", "c");
        tk_in(&tg, SL_DTYPE_FLOAT);
        sl_node_builder_set_attr_type(tg.b, "DstT", mid[k]);
        sl_node *n = tk_finish(&tg);
        const sl_tensor *in[] = {f};
        sl_tensor *y = NULL;
        tk_run_ok(n, in, &y, NULL);
        if (k == 0) {
            const int32_t *yv = sl_tensor_data(y);
            assert_int_equal(yv[0], INT32_MAX);
            assert_int_equal(yv[1], INT32_MIN);
            assert_int_equal(yv[2], 0);
            assert_int_equal(yv[3], 2);
            assert_int_equal(yv[4], 0);
        } else {
            tk_graph tb;
            tk_begin(&tb, "Cast", "back");
            tk_in(&tb, mid[k]);
            sl_node_builder_set_attr_type(tb.b, "DstT", SL_DTYPE_FLOAT);
            sl_node *nb = tk_finish(&tb);
            const sl_tensor *in2[] = {y};
            sl_tensor *z = NULL;
            tk_run_ok(nb, in2, &z, NULL);
            const float *zv = sl_tensor_data(z);
            assert_true(isinf(zv[0]) == (k == 1) || fabsf(zv[0] - 1e10f) < 1e8f);
            assert_true(isnan(zv[2]));
            assert_true(zv[3] == 2.5f && zv[4] == -0.75f);
            sl_tensor_unref(z);
            tk_end(&tb);
        }
        sl_tensor_unref(y);
        tk_end(&tg);
    }
    sl_tensor_unref(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_unary_ops_match_reference),
        cmocka_unit_test(test_binary_ops_broadcast_like_numpy),
        cmocka_unit_test(test_add_shape_mismatch_names_node),
        cmocka_unit_test(test_mul_by_one_forwards),
        cmocka_unit_test(test_integer_division_by_zero_fails),
        cmocka_unit_test(test_integer_extremes_wrap_without_trapping),
        cmocka_unit_test(test_add_n_sums_inputs),
        cmocka_unit_test(test_select_v1_and_v2),
        cmocka_unit_test(test_activation_gradients),
        cmocka_unit_test(test_cast_between_all_types),
    };
    return cmocka_run_group_tests_name("kernels-elementwise", tests, NULL, NULL);
}
