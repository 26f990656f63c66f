/* Layers and initializers: each layer is built into a graph, run in a
 * session, and its output compared with the same computation done here
 * in plain C on the layer's own (fetched) variables; initializers draw
 * within their bounds with the right spread; names read as TF's; a bad
 * layer leaves the graph unchanged; a small network with every layer
 * trains. */
#include "graph-helpers.h"

#include <math.h>
#include <stdio.h>

#include "sluice/layers.h"
#include "sluice/optimizers.h"
#include "sluice/session.h"

#define SL_NO_OUTPUT ((sl_output){NULL, 0})

static sl_status *st;

static int setup(void **state)
{
    (void)state;
    st = sl_status_new();
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    sl_status_free(st);
    return 0;
}

static void ok(const void *p)
{
    if (!p)
        fail_msg("%s", sl_status_message(st));
}

static sl_tensor *ftensor(int rank, const int64_t *dims, const float *v)
{
    sl_shape s = sl_shape_make(rank, dims);
    sl_tensor *t = sl_tensor_new(SL_DTYPE_FLOAT, &s, NULL);
    if (v)
        memcpy(sl_tensor_data(t), v, sizeof(float) * (size_t)sl_tensor_num_elements(t));
    return t;
}

/* A session over g with the variables initialized. */
static sl_session *start(sl_graph *g)
{
    if (!sl_graph_find_node(g, "init"))
        ok(sl_variables_initializer(g, "init", st));
    sl_session_options so = SL_SESSION_OPTIONS_INIT;
    so.inter_op_threads = 1;
    sl_session *s = sl_session_new(g, &so, st);
    ok(s);
    if (sl_session_run(s, NULL, NULL, NULL, 0, NULL, NULL, 0, (const char *[]){"init"}, 1, NULL, st) != SL_OK)
        fail_msg("init: %s", sl_status_message(st));
    return s;
}

/* Fetches n names with one feed (may be NULL). */
static void fetch(sl_session *s, const char *feed, sl_tensor *val, int n, const char *const *names, sl_tensor **out)
{
    if (sl_session_run(s, NULL, feed ? &feed : NULL, feed ? &val : NULL, feed ? 1 : 0, names, out, n, NULL, 0, NULL,
                       st) != SL_OK)
        fail_msg("run: %s", sl_status_message(st));
}

static float frand(unsigned *seed)
{
    *seed = *seed * 1103515245u + 12345u;
    return (float)((*seed >> 8) & 0xffff) / 65536.0f * 2.0f - 1.0f;
}

static void assert_close(const float *got, const float *want, int64_t n, double tol, const char *what)
{
    for (int64_t i = 0; i < n; i++)
        if (fabs((double)got[i] - (double)want[i]) > tol * fmax(1.0, fabs((double)want[i])))
            fail_msg("%s[%lld] = %.7g, expected %.7g", what, (long long)i, (double)got[i], (double)want[i]);
}

/* ---- Initializers ---------------------------------------------------------- */

static void test_initializers_fans_and_scales(void **state)
{
    (void)state;
    double in, out;
    sl_shape m = sl_shape_matrix(784, 512);
    sl_initializer_fans(&m, &in, &out);
    assert_true(in == 784 && out == 512);
    sl_shape k = sl_shape_make(4, (int64_t[]){5, 5, 32, 64});
    sl_initializer_fans(&k, &in, &out);
    assert_true(in == 800 && out == 1600);
    sl_initializer gu = {SL_INIT_GLOROT_UNIFORM, 0, 0}, hn = {SL_INIT_HE_NORMAL, 0, 0};
    assert_true(fabs(sl_initializer_scale(&gu, &m) - sqrt(6.0 / 1296)) < 1e-12);
    assert_true(fabs(sl_initializer_scale(&hn, &k) - sqrt(2.0 / 800) / 0.87962566103423978) < 1e-12);
}

/* Draws of each kind: bounds, mean and deviation of 64k samples. */
static void test_initializers_draw_within_bounds(void **state)
{
    (void)state;
    sl_graph *g = sl_graph_new(st);
    sl_shape s = sl_shape_matrix(256, 256);
    struct {
        sl_initializer init;
        const char *name;
        double bound;   /* |x| <= bound */
        double stddev;  /* expected deviation */
    } cases[] = {
        {{SL_INIT_ZEROS, 0, 0}, "zeros", 0, 0},
        {{SL_INIT_CONSTANT, 0.25, 0}, "const", 0.25, 0},
        {{SL_INIT_UNIFORM, 0.5, 7}, "uniform", 0.5, 0.5 / sqrt(3.0)},
        {{SL_INIT_TRUNCATED_NORMAL, 0.1, 7}, "truncated", 0.2, 0.1 * 0.8796},
        {{SL_INIT_GLOROT_UNIFORM, 0, 7}, "glorot_u", sqrt(6.0 / 512), sqrt(6.0 / 512) / sqrt(3.0)},
        {{SL_INIT_GLOROT_NORMAL, 0, 7}, "glorot_n", 2 * sqrt(2.0 / 512) / 0.8796, sqrt(2.0 / 512)},
        {{SL_INIT_HE_UNIFORM, 0, 7}, "he_u", sqrt(6.0 / 256), sqrt(6.0 / 256) / sqrt(3.0)},
        {{SL_INIT_HE_NORMAL, 0, 7}, "he_n", 2 * sqrt(2.0 / 256) / 0.8796, sqrt(2.0 / 256)},
    };
    int n = (int)(sizeof(cases) / sizeof(cases[0]));
    for (int i = 0; i < n; i++)
        ok(sl_variable_init(g, cases[i].name, SL_DTYPE_FLOAT, &s, &cases[i].init, st).node);
    assert_non_null(sl_graph_find_node(g, "he_n/Initializer/TruncatedNormal"));
    sl_session *sess = start(g);
    for (int i = 0; i < n; i++) {
        sl_tensor *t;
        fetch(sess, NULL, NULL, 1, &cases[i].name, &t);
        const float *v = sl_tensor_data(t);
        double sum = 0, sq = 0, mx = 0;
        for (int j = 0; j < 65536; j++) {
            sum += v[j];
            sq += (double)v[j] * v[j];
            mx = fmax(mx, fabs(v[j]));
        }
        double mean = sum / 65536, sd = sqrt(sq / 65536 - mean * mean);
        if (mx > cases[i].bound * (1 + 1e-6) + 1e-12)
            fail_msg("%s: |x| reaches %g, bound %g", cases[i].name, mx, cases[i].bound);
        if (cases[i].init.kind == SL_INIT_CONSTANT)
            assert_true(fabs(mean - 0.25) < 1e-7 && sd < 1e-6);
        else if (fabs(mean) > 0.02 * fmax(cases[i].stddev, 1e-3) * 10 || fabs(sd - cases[i].stddev) > 0.03 * cases[i].stddev + 1e-9)
            fail_msg("%s: mean %g deviation %g, expected 0 and %g", cases[i].name, mean, sd, cases[i].stddev);
        sl_tensor_unref(t);
    }
    /* a seed makes draws reproducible across sessions */
    sl_tensor *a, *b;
    const char *nm = "glorot_u";
    fetch(sess, NULL, NULL, 1, &nm, &a);
    sl_session_free(sess);
    sess = start(g);
    fetch(sess, NULL, NULL, 1, &nm, &b);
    assert_true(sl_tensor_equal(a, b));
    sl_tensor_unref(a);
    sl_tensor_unref(b);
    sl_session_free(sess);
    sl_graph_free(g);
}

/* ---- Dense ----------------------------------------------------------------- */

static void test_layers_dense_matches_reference(void **state)
{
    (void)state;
    sl_graph *g = sl_graph_new(st);
    sl_output x = th_ph(g, "x", SL_DTYPE_FLOAT, TH_DIMS(-1, 3));
    sl_layer_options o;
    sl_layer_options_init(&o);
    o.activation = SL_ACTIVATION_RELU;
    o.bias_init = (sl_initializer){SL_INIT_CONSTANT, 0.1, 0};
    sl_output h = sl_dense(g, NULL, x, 4, &o, st);
    ok(h.node);
    o.activation = SL_ACTIVATION_NONE;
    sl_output y = sl_dense(g, NULL, h, 2, &o, st);
    ok(y.node);
    /* TF's names: dense/kernel, dense_1/bias; shapes inferred */
    assert_non_null(sl_graph_find_node(g, "dense/kernel"));
    assert_non_null(sl_graph_find_node(g, "dense/bias/Assign"));
    assert_non_null(sl_graph_find_node(g, "dense_1/kernel"));
    assert_string_equal(sl_node_name(y.node), "dense_1/BiasAdd");
    assert_int_equal(sl_node_output_shape(y.node, 0)->rank, 2);
    assert_int_equal(sl_node_output_shape(y.node, 0)->dims[1], 2);

    sl_session *s = start(g);
    float xv[5 * 3];
    unsigned seed = 1;
    for (int i = 0; i < 15; i++)
        xv[i] = frand(&seed);
    sl_tensor *xt = ftensor(TH_DIMS(5, 3), xv);
    sl_tensor *out[5];
    fetch(s, "x", xt, 5, (const char *[]){"dense_1/BiasAdd", "dense/kernel", "dense/bias", "dense_1/kernel", "dense_1/bias"},
          out);
    const float *k1 = sl_tensor_data(out[1]), *b1 = sl_tensor_data(out[2]);
    const float *k2 = sl_tensor_data(out[3]), *b2 = sl_tensor_data(out[4]);
    assert_true(b1[0] == 0.1f && b2[1] == 0.1f);
    float ref[5 * 2];
    for (int r = 0; r < 5; r++) {
        float hv[4];
        for (int j = 0; j < 4; j++) {
            float acc = b1[j];
            for (int i = 0; i < 3; i++)
                acc += xv[r * 3 + i] * k1[i * 4 + j];
            hv[j] = acc > 0 ? acc : 0;
        }
        for (int j = 0; j < 2; j++) {
            float acc = b2[j];
            for (int i = 0; i < 4; i++)
                acc += hv[i] * k2[i * 2 + j];
            ref[r * 2 + j] = acc;
        }
    }
    assert_int_equal(sl_tensor_dim(out[0], 0), 5);
    assert_close(sl_tensor_data(out[0]), ref, 10, 1e-5, "dense");
    for (int i = 0; i < 5; i++)
        sl_tensor_unref(out[i]);
    sl_tensor_unref(xt);
    sl_session_free(s);
    sl_graph_free(g);
}

/* ---- Convolution and pooling ----------------------------------------------- */

static void conv_ref(const float *x, int n, int h, int w, int c, const float *k, int kh, int kw, int f, int stride,
                     bool same, const float *bias, float *out, int oh, int ow)
{
    int pt = 0, pl = 0;
    if (same) {
        int ph = (oh - 1) * stride + kh - h, pw = (ow - 1) * stride + kw - w;
        pt = ph > 0 ? ph / 2 : 0;
        pl = pw > 0 ? pw / 2 : 0;
    }
    for (int b = 0; b < n; b++)
        for (int i = 0; i < oh; i++)
            for (int j = 0; j < ow; j++)
                for (int o = 0; o < f; o++) {
                    float acc = bias[o];
                    for (int di = 0; di < kh; di++)
                        for (int dj = 0; dj < kw; dj++) {
                            int yi = i * stride + di - pt, xj = j * stride + dj - pl;
                            if (yi < 0 || yi >= h || xj < 0 || xj >= w)
                                continue;
                            for (int ci = 0; ci < c; ci++)
                                acc += x[((b * h + yi) * w + xj) * c + ci] * k[((di * kw + dj) * c + ci) * f + o];
                        }
                    out[((b * oh + i) * ow + j) * f + o] = acc;
                }
}

static void test_layers_conv2d_shapes_and_values(void **state)
{
    (void)state;
    sl_graph *g = sl_graph_new(st);
    sl_output x = th_ph(g, "x", SL_DTYPE_FLOAT, TH_DIMS(-1, 7, 7, 3));
    sl_layer_options o;
    sl_layer_options_init(&o);
    o.kernel_init = (sl_initializer){SL_INIT_HE_NORMAL, 0, 3};
    o.bias_init = (sl_initializer){SL_INIT_CONSTANT, -0.05, 0};
    sl_output same = sl_conv2d(g, "same", x, 5, 3, 3, 1, "SAME", &o, st);
    ok(same.node);
    sl_output valid = sl_conv2d(g, "valid", x, 4, 3, 3, 2, "VALID", &o, st);
    ok(valid.node);
    const sl_shape *s1 = sl_node_output_shape(same.node, 0), *s2 = sl_node_output_shape(valid.node, 0);
    assert_true(s1->rank == 4 && s1->dims[1] == 7 && s1->dims[2] == 7 && s1->dims[3] == 5);
    assert_true(s2->rank == 4 && s2->dims[1] == 3 && s2->dims[2] == 3 && s2->dims[3] == 4);
    sl_output mp = sl_max_pool2d(g, NULL, same, 2, 2, "VALID", st);
    sl_output ap = sl_avg_pool2d(g, NULL, same, 3, 2, "SAME", st);
    ok(mp.node);
    ok(ap.node);
    assert_string_equal(sl_node_name(mp.node), "max_pooling2d/MaxPool");
    assert_true(sl_node_output_shape(mp.node, 0)->dims[1] == 3 && sl_node_output_shape(ap.node, 0)->dims[1] == 4);
    sl_output flat = sl_flatten(g, NULL, mp, st);
    ok(flat.node);
    assert_int_equal(sl_node_output_shape(flat.node, 0)->dims[1], 3 * 3 * 5);

    sl_session *s = start(g);
    enum { N = 2, H = 7, C = 3 };
    float xv[N * H * H * C];
    unsigned seed = 5;
    for (int i = 0; i < N * H * H * C; i++)
        xv[i] = frand(&seed);
    sl_tensor *xt = ftensor(TH_DIMS(N, H, H, C), xv);
    sl_tensor *out[8];
    fetch(s, "x", xt, 8,
          (const char *[]){"same/BiasAdd", "valid/BiasAdd", "same/kernel", "same/bias", "valid/kernel", "valid/bias",
                           "max_pooling2d/MaxPool", "flatten/Reshape"},
          out);
    float ref1[N * 7 * 7 * 5], ref2[N * 3 * 3 * 4];
    conv_ref(xv, N, H, H, C, sl_tensor_data(out[2]), 3, 3, 5, 1, true, sl_tensor_data(out[3]), ref1, 7, 7);
    conv_ref(xv, N, H, H, C, sl_tensor_data(out[4]), 3, 3, 4, 2, false, sl_tensor_data(out[5]), ref2, 3, 3);
    assert_close(sl_tensor_data(out[0]), ref1, N * 7 * 7 * 5, 1e-4, "conv SAME");
    assert_close(sl_tensor_data(out[1]), ref2, N * 3 * 3 * 4, 1e-4, "conv VALID");
    float pref[N * 3 * 3 * 5];
    for (int b = 0; b < N; b++)
        for (int i = 0; i < 3; i++)
            for (int j = 0; j < 3; j++)
                for (int c = 0; c < 5; c++) {
                    float m = -INFINITY;
                    for (int di = 0; di < 2; di++)
                        for (int dj = 0; dj < 2; dj++)
                            m = fmaxf(m, ref1[((b * 7 + 2 * i + di) * 7 + 2 * j + dj) * 5 + c]);
                    pref[((b * 3 + i) * 3 + j) * 5 + c] = m;
                }
    assert_close(sl_tensor_data(out[6]), pref, N * 45, 1e-4, "max pool");
    assert_close(sl_tensor_data(out[7]), pref, N * 45, 1e-4, "flatten");
    assert_int_equal(sl_tensor_dim(out[7], 1), 45);
    for (int i = 0; i < 8; i++)
        sl_tensor_unref(out[i]);
    sl_tensor_unref(xt);
    sl_session_free(s);
    sl_graph_free(g);
}

/* ---- Dropout --------------------------------------------------------------- */

static void test_layers_dropout_scales_and_switches_off(void **state)
{
    (void)state;
    sl_graph *g = sl_graph_new(st);
    sl_output x = th_ph(g, "x", SL_DTYPE_FLOAT, TH_DIMS(-1, 1000));
    sl_output tr = th_ph(g, "training", SL_DTYPE_BOOL, TH_DIMS());
    sl_output d = sl_dropout(g, NULL, x, 0.25, tr, 11, st);
    ok(d.node);
    sl_session *s = start(g);
    float xv[4000];
    for (int i = 0; i < 4000; i++)
        xv[i] = 1.0f + (float)(i % 7);
    sl_tensor *xt = ftensor(TH_DIMS(4, 1000), xv);
    for (int mode = 0; mode < 2; mode++) {
        sl_shape sc = sl_shape_scalar();
        sl_tensor *t = sl_tensor_new(SL_DTYPE_BOOL, &sc, NULL);
        *(bool *)sl_tensor_data(t) = mode == 1;
        sl_tensor *out;
        const char *names[2] = {"x", "training"};
        sl_tensor *vals[2] = {xt, t};
        const char *dn = sl_node_name(d.node);
        if (sl_session_run(s, NULL, names, vals, 2, &dn, &out, 1, NULL, 0, NULL, st) != SL_OK)
            fail_msg("%s", sl_status_message(st));
        const float *v = sl_tensor_data(out);
        int zeros = 0;
        for (int i = 0; i < 4000; i++) {
            if (v[i] == 0.0f) {
                zeros++;
                continue;
            }
            float want = mode ? xv[i] / 0.75f : xv[i];
            if (fabsf(v[i] - want) > 1e-5f * want)
                fail_msg("mode %d: element %d = %g, expected %g or 0", mode, i, (double)v[i], (double)want);
        }
        if (mode == 0)
            assert_int_equal(zeros, 0);
        else if (zeros < 850 || zeros > 1150)
            fail_msg("dropped %d of 4000 at rate 0.25", zeros);
        sl_tensor_unref(out);
        sl_tensor_unref(t);
    }
    sl_tensor_unref(xt);
    sl_session_free(s);
    sl_graph_free(g);
}

/* ---- Batch normalization --------------------------------------------------- */

static void test_layers_batch_norm_normalizes_and_tracks(void **state)
{
    (void)state;
    sl_graph *g = sl_graph_new(st);
    sl_output x = th_ph(g, "x", SL_DTYPE_FLOAT, TH_DIMS(-1, 3));
    sl_node_builder *nb = sl_node_builder_new(g, "PlaceholderWithDefault", "training");
    sl_shape sc = sl_shape_scalar();
    sl_tensor *f = sl_tensor_new(SL_DTYPE_BOOL, &sc, NULL);
    sl_node_builder_add_input(nb, th_const(g, NULL, f));
    sl_node_builder_set_attr_shape(nb, "shape", &sc);
    sl_output tr = {th_finish(nb), 0};
    sl_batch_norm_options bo;
    sl_batch_norm_options_init(&bo);
    bo.momentum = 0.5;
    sl_output y = sl_batch_norm(g, "bn", x, tr, &bo, st);
    ok(y.node);
    sl_session *s = start(g);
    enum { N = 64 };
    float xv[N * 3], mean[3] = {0}, var[3] = {0};
    unsigned seed = 9;
    for (int i = 0; i < N; i++)
        for (int c = 0; c < 3; c++) {
            xv[i * 3 + c] = 3.0f * (float)c + (1.0f + (float)c) * frand(&seed);
            mean[c] += xv[i * 3 + c] / N;
        }
    for (int i = 0; i < N; i++)
        for (int c = 0; c < 3; c++)
            var[c] += (xv[i * 3 + c] - mean[c]) * (xv[i * 3 + c] - mean[c]) / N;
    sl_tensor *xt = ftensor(TH_DIMS(N, 3), xv);
    sl_tensor *t = sl_tensor_new(SL_DTYPE_BOOL, &sc, NULL);
    *(bool *)sl_tensor_data(t) = true;
    const char *names[2] = {"x", "training"};
    sl_tensor *vals[2] = {xt, t};
    const char *fetches[3] = {"bn/output", "bn/moving_mean", "bn/moving_variance"};
    sl_tensor *out[3];
    if (sl_session_run(s, NULL, names, vals, 2, fetches, out, 1, NULL, 0, NULL, st) != SL_OK)
        fail_msg("%s", sl_status_message(st));
    const float *v = sl_tensor_data(out[0]);
    for (int c = 0; c < 3; c++) {
        double m = 0, q = 0;
        for (int i = 0; i < N; i++) {
            m += v[i * 3 + c] / N;
            q += (double)v[i * 3 + c] * v[i * 3 + c] / N;
        }
        if (fabs(m) > 1e-5 || fabs(q - var[c] / (var[c] + 1e-3)) > 1e-4)
            fail_msg("channel %d: mean %g, variance %g after normalization", c, m, q);
    }
    sl_tensor_unref(out[0]);
    /* the training step moved the statistics halfway (momentum 0.5) */
    fetch(s, NULL, NULL, 2, fetches + 1, out + 1);
    const float *mm = sl_tensor_data(out[1]), *mv = sl_tensor_data(out[2]);
    for (int c = 0; c < 3; c++)
        if (fabsf(mm[c] - 0.5f * mean[c]) > 1e-5f || fabsf(mv[c] - (0.5f + 0.5f * var[c])) > 1e-4f)
            fail_msg("channel %d: moving mean %g variance %g, expected %g %g", c, (double)mm[c], (double)mv[c],
                     0.5 * mean[c], 0.5 + 0.5 * var[c]);
    /* evaluation (the default) uses and keeps the moving statistics */
    sl_tensor *ev[3];
    fetch(s, "x", xt, 1, fetches, ev);
    fetch(s, NULL, NULL, 2, fetches + 1, ev + 1);
    const float *e = sl_tensor_data(ev[0]);
    for (int i = 0; i < N; i++)
        for (int c = 0; c < 3; c++) {
            float want = (xv[i * 3 + c] - mm[c]) / sqrtf(mv[c] + 1e-3f);
            if (fabsf(e[i * 3 + c] - want) > 1e-4f * fmaxf(1, fabsf(want)))
                fail_msg("inference [%d,%d] = %g, expected %g", i, c, (double)e[i * 3 + c], (double)want);
        }
    assert_true(sl_tensor_equal(ev[1], out[1]) && sl_tensor_equal(ev[2], out[2]));
    for (int i = 0; i < 3; i++) {
        sl_tensor_unref(ev[i]);
        if (i)
            sl_tensor_unref(out[i]);
    }
    sl_tensor_unref(xt);
    sl_tensor_unref(t);
    sl_session_free(s);
    sl_graph_free(g);
}

/* ---- Embeddings and LSTM --------------------------------------------------- */

static void test_layers_embedding_looks_up_rows(void **state)
{
    (void)state;
    sl_graph *g = sl_graph_new(st);
    sl_output ids = th_ph(g, "ids", SL_DTYPE_INT32, TH_DIMS(2, 3));
    sl_output e = sl_embedding(g, "emb", ids, 10, 4, NULL, st);
    ok(e.node);
    const sl_shape *es = sl_node_output_shape(e.node, 0);
    assert_true(es->rank == 3 && es->dims[2] == 4);
    sl_session *s = start(g);
    sl_shape is = sl_shape_matrix(2, 3);
    sl_tensor *it = sl_tensor_new(SL_DTYPE_INT32, &is, NULL);
    int32_t idv[6] = {0, 9, 3, 3, 7, 1};
    memcpy(sl_tensor_data(it), idv, sizeof(idv));
    sl_tensor *out[2];
    fetch(s, "ids", it, 2, (const char *[]){sl_node_name(e.node), "emb/embeddings"}, out);
    const float *v = sl_tensor_data(out[0]), *tab = sl_tensor_data(out[1]);
    for (int i = 0; i < 6; i++)
        assert_close(v + i * 4, tab + idv[i] * 4, 4, 0, "embedding row");
    for (int i = 0; i < 40; i++)
        assert_true(fabsf(tab[i]) <= 0.05f);
    sl_tensor_unref(out[0]);
    sl_tensor_unref(out[1]);
    sl_tensor_unref(it);
    sl_session_free(s);
    sl_graph_free(g);
}

static float sigm(float v)
{
    return 1.0f / (1.0f + expf(-v));
}

static void test_layers_lstm_cell_matches_reference(void **state)
{
    (void)state;
    enum { B = 2, I = 3, U = 4 };
    sl_graph *g = sl_graph_new(st);
    sl_output x = th_ph(g, "x", SL_DTYPE_FLOAT, TH_DIMS(B, I));
    sl_output h = th_ph(g, "h", SL_DTYPE_FLOAT, TH_DIMS(B, U));
    sl_output c = th_ph(g, "c", SL_DTYPE_FLOAT, TH_DIMS(B, U));
    sl_output h1, c1;
    assert_int_equal(sl_lstm_cell(g, "lstm", x, h, c, U, 1.0, NULL, &h1, &c1, st), SL_OK);
    sl_session *s = start(g);
    float xv[B * I], hv[B * U], cv[B * U];
    unsigned seed = 3;
    for (int i = 0; i < B * I; i++)
        xv[i] = frand(&seed);
    for (int i = 0; i < B * U; i++) {
        hv[i] = frand(&seed);
        cv[i] = frand(&seed);
    }
    sl_tensor *feeds[3] = {ftensor(TH_DIMS(B, I), xv), ftensor(TH_DIMS(B, U), hv), ftensor(TH_DIMS(B, U), cv)};
    const char *fn[3] = {"x", "h", "c"};
    char hn[128], cn[128];
    snprintf(hn, sizeof(hn), "%s:%d", sl_node_name(h1.node), h1.index);
    snprintf(cn, sizeof(cn), "%s:%d", sl_node_name(c1.node), c1.index);
    const char *fetches[3] = {hn, cn, "lstm/kernel"};
    sl_tensor *out[3];
    if (sl_session_run(s, NULL, fn, feeds, 3, fetches, out, 3, NULL, 0, NULL, st) != SL_OK)
        fail_msg("%s", sl_status_message(st));
    const float *k = sl_tensor_data(out[2]);
    float href[B * U], cref[B * U];
    for (int b = 0; b < B; b++) {
        float z[4 * U];
        for (int j = 0; j < 4 * U; j++) {
            float acc = 0;
            for (int i = 0; i < I; i++)
                acc += xv[b * I + i] * k[i * 4 * U + j];
            for (int i = 0; i < U; i++)
                acc += hv[b * U + i] * k[(I + i) * 4 * U + j];
            z[j] = acc;
        }
        for (int u = 0; u < U; u++) {
            float ig = z[u], jg = z[U + u], fg = z[2 * U + u], og = z[3 * U + u];
            cref[b * U + u] = cv[b * U + u] * sigm(fg + 1.0f) + sigm(ig) * tanhf(jg);
            href[b * U + u] = tanhf(cref[b * U + u]) * sigm(og);
        }
    }
    assert_close(sl_tensor_data(out[0]), href, B * U, 1e-5, "h'");
    assert_close(sl_tensor_data(out[1]), cref, B * U, 1e-5, "c'");
    for (int i = 0; i < 3; i++) {
        sl_tensor_unref(out[i]);
        sl_tensor_unref(feeds[i]);
    }
    sl_session_free(s);
    sl_graph_free(g);
}

/* ---- Errors, roles, training ----------------------------------------------- */

static void test_layers_errors_leave_graph_unchanged(void **state)
{
    (void)state;
    sl_graph *g = sl_graph_new(st);
    sl_output x3 = th_ph(g, "x3", SL_DTYPE_FLOAT, TH_DIMS(-1, 4, 4));
    sl_output xu = th_ph(g, "xu", SL_DTYPE_FLOAT, TH_DIMS(-1, -1));
    sl_output img = th_ph(g, "img", SL_DTYPE_FLOAT, TH_DIMS(-1, 8, 8, 1));
    int n = sl_graph_num_nodes(g);
    assert_null(sl_dense(g, "d", x3, 4, NULL, st).node);
    assert_int_equal(sl_status_code(st), SL_INVALID_ARGUMENT);
    assert_non_null(strstr(sl_status_message(st), "dense layer"));
    assert_non_null(strstr(sl_status_message(st), "'x3:0'"));
    assert_null(sl_dense(g, "d", xu, 4, NULL, st).node);
    assert_null(sl_conv2d(g, NULL, img, 4, 3, 3, 1, "FULL", NULL, st).node);
    assert_non_null(strstr(sl_status_message(st), "padding"));
    assert_null(sl_dropout(g, NULL, img, 1.0, SL_NO_OUTPUT, 0, st).node);
    assert_null(sl_max_pool2d(g, NULL, x3, 2, 2, "VALID", st).node);
    assert_int_equal(sl_graph_num_nodes(g), n);
    /* a name already in use: the builder's error, nothing left behind */
    ok(sl_dense(g, "d", img.node ? sl_flatten(g, "f", img, st) : img, 2, NULL, st).node);
    n = sl_graph_num_nodes(g);
    assert_null(sl_dense(g, "d", xu, 2, NULL, st).node);
    assert_int_equal(sl_graph_num_nodes(g), n);
    sl_graph_free(g);
}

static void test_layers_trainable_variables_by_role(void **state)
{
    (void)state;
    sl_graph *g = sl_graph_new(st);
    sl_output x = th_ph(g, "x", SL_DTYPE_FLOAT, TH_DIMS(-1, 3));
    sl_output h = sl_batch_norm(g, NULL, sl_dense(g, NULL, x, 4, NULL, st), SL_NO_OUTPUT, NULL, st);
    ok(h.node);
    ok(sl_global_step(g, st).node);
    sl_output vars[8];
    int n = sl_trainable_variables(g, vars, 8);
    assert_int_equal(n, 4);
    assert_string_equal(sl_node_name(vars[0].node), "dense/kernel");
    assert_string_equal(sl_node_name(vars[1].node), "dense/bias");
    assert_string_equal(sl_node_name(vars[2].node), "batch_normalization/gamma");
    assert_string_equal(sl_node_name(vars[3].node), "batch_normalization/beta");
    assert_false(sl_variable_is_trainable(sl_graph_find_node(g, "batch_normalization/moving_mean")));
    sl_graph_free(g);
}

/* A tiny CNN with every kind of layer learns a separable problem: the
 * gradient flows through all of them. */
static void test_layers_network_trains(void **state)
{
    (void)state;
    enum { N = 32 };
    sl_graph *g = sl_graph_new(st);
    sl_output x = th_ph(g, "x", SL_DTYPE_FLOAT, TH_DIMS(-1, 6, 6, 1));
    sl_output lab = th_ph(g, "labels", SL_DTYPE_INT32, TH_DIMS(-1));
    sl_layer_options o;
    sl_layer_options_init(&o);
    o.activation = SL_ACTIVATION_RELU;
    o.kernel_init.seed = 1;
    sl_output h = sl_conv2d(g, NULL, x, 4, 3, 3, 1, "SAME", &o, st);
    h = sl_avg_pool2d(g, NULL, sl_max_pool2d(g, NULL, h, 2, 2, "VALID", st), 1, 1, "VALID", st);
    h = sl_batch_norm(g, NULL, h, SL_NO_OUTPUT, NULL, st);
    h = sl_dropout(g, NULL, sl_flatten(g, NULL, h, st), 0.1, SL_NO_OUTPUT, 2, st);
    h = sl_dense(g, NULL, h, 8, &o, st);
    o.activation = SL_ACTIVATION_NONE;
    sl_output logits = sl_dense(g, "logits", h, 2, &o, st);
    ok(logits.node);
    sl_output loss = sl_sparse_softmax_cross_entropy(g, logits, lab, st);
    ok(loss.node);
    assert_string_equal(sl_node_name(loss.node), "loss");
    ok(sl_accuracy(g, logits, lab, st).node);
    sl_output vars[16];
    int nv = sl_trainable_variables(g, vars, 16);
    sl_optimizer_options oo;
    sl_optimizer_options_init(&oo, SL_OPTIMIZER_ADAM);
    oo.learning_rate = 0.02;
    ok(sl_optimizer_minimize(g, &oo, loss, vars, nv, st));
    sl_session *s = start(g);
    float xv[N * 36];
    int32_t lv[N];
    unsigned seed = 17;
    for (int i = 0; i < N; i++) {
        lv[i] = i % 2;
        for (int p = 0; p < 36; p++) /* class 1: bright left half */
            xv[i * 36 + p] = 0.3f * frand(&seed) + ((p % 6) < 3 && lv[i] ? 1.0f : 0.0f);
    }
    sl_tensor *xt = ftensor(TH_DIMS(N, 6, 6, 1), xv);
    sl_shape ls = sl_shape_vector(N);
    sl_tensor *lt = sl_tensor_new(SL_DTYPE_INT32, &ls, NULL);
    memcpy(sl_tensor_data(lt), lv, sizeof(lv));
    const char *fn[2] = {"x", "labels"};
    sl_tensor *fv[2] = {xt, lt};
    double first = 0, last = 0;
    for (int step = 0; step < 60; step++) {
        sl_tensor *l;
        if (sl_session_run(s, NULL, fn, fv, 2, (const char *[]){"loss"}, &l, 1, (const char *[]){"Adam/train"}, 1,
                           NULL, st) != SL_OK)
            fail_msg("step %d: %s", step, sl_status_message(st));
        last = *(float *)sl_tensor_data(l);
        if (step == 0)
            first = last;
        sl_tensor_unref(l);
    }
    printf("# cnn loss %.4f -> %.4f\n", first, last);
    assert_true(last < 0.5 * first);
    sl_tensor_unref(xt);
    sl_tensor_unref(lt);
    sl_session_free(s);
    sl_graph_free(g);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_initializers_fans_and_scales),
        cmocka_unit_test(test_initializers_draw_within_bounds),
        cmocka_unit_test(test_layers_dense_matches_reference),
        cmocka_unit_test(test_layers_conv2d_shapes_and_values),
        cmocka_unit_test(test_layers_dropout_scales_and_switches_off),
        cmocka_unit_test(test_layers_batch_norm_normalizes_and_tracks),
        cmocka_unit_test(test_layers_embedding_looks_up_rows),
        cmocka_unit_test(test_layers_lstm_cell_matches_reference),
        cmocka_unit_test(test_layers_errors_leave_graph_unchanged),
        cmocka_unit_test(test_layers_trainable_variables_by_role),
        cmocka_unit_test(test_layers_network_trains),
    };
    return cmocka_run_group_tests_name("layers", tests, setup, teardown);
}
