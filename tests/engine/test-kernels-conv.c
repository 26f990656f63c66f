/* Oracle tests of conv.c and pool.c against direct (seven-loop) references
 * in double: Conv2D forward and both gradients with random strides,
 * dilations and SAME / VALID / EXPLICIT padding, pointwise convolutions,
 * and the four pooling kernels.
 *
 * Tolerances: float within rtol 1e-4 + atol 1e-4 * sqrt(terms); double
 * within 1e-10.
 */
#include "kernel-test-util.h"

#include <stdlib.h>

typedef struct geom {
    int64_t n, h, w, c, kh, kw, o, sh, sw, dh, dw, oh, ow, pt, pl;
    int pad;  /* 0 VALID, 1 SAME, 2 EXPLICIT */
    int64_t ep[8];
} geom;

static void out_dim(int64_t in, int64_t k, int64_t s, int64_t d, int pad, const int64_t *ep, int64_t *out, int64_t *before)
{
    int64_t eff = (k - 1) * d + 1;
    if (pad == 1) {
        *out = (in + s - 1) / s;
        int64_t t = (*out - 1) * s + eff - in;
        *before = t > 0 ? t / 2 : 0;
    } else if (pad == 2) {
        int64_t p = in + ep[0] + ep[1];
        *out = p >= eff ? (p - eff) / s + 1 : 0;
        *before = ep[0];
    } else {
        *out = in >= eff ? (in - eff) / s + 1 : 0;
        *before = 0;
    }
}

/* Fills in the output size and padding of g from the rest. */
static void finish_geom(geom *g)
{
    out_dim(g->h, g->kh, g->sh, g->dh, g->pad, g->ep + 2, &g->oh, &g->pt);
    out_dim(g->w, g->kw, g->sw, g->dw, g->pad, g->ep + 4, &g->ow, &g->pl);
}

/* wide: channel counts past one and several AVX-512 vectors (the direct
 * kernels tile 16 to 64 output channels and 4 to 12 pixels or rows). */
static geom random_geom(bool pointwise, bool wide)
{
    geom g = {.n = tk_int(1, 3), .h = tk_int(1, 9), .w = tk_int(1, 9), .c = tk_int(1, 5), .kh = tk_int(1, 4),
              .kw = tk_int(1, 4), .o = tk_int(1, 6), .sh = tk_int(1, 3), .sw = tk_int(1, 3), .dh = 1, .dw = 1,
              .pad = (int)tk_int(0, 2)};
    if (wide) {
        g.c = tk_int(1, 72);
        g.o = tk_int(1, 140);
        g.kh = tk_int(1, 3);
        g.kw = tk_int(1, 3);
    }
    if (tk_int(0, 2) == 0) {
        g.dh = tk_int(1, 2);
        g.dw = tk_int(1, 2);
    }
    if (pointwise) {
        g.kh = g.kw = g.sh = g.sw = g.dh = g.dw = 1;
        g.pad = 0;
    }
    for (int i = 2; i < 6; i++)
        g.ep[i] = g.pad == 2 ? tk_int(0, 2) : 0;
    finish_geom(&g);
    return g;
}

static void set_conv_attrs(sl_node_builder *b, const geom *g)
{
    int64_t st[4] = {1, g->sh, g->sw, 1}, dl[4] = {1, g->dh, g->dw, 1};
    sl_node_builder_set_attr_int_list(b, "strides", st, 4);
    sl_node_builder_set_attr_int_list(b, "dilations", dl, 4);
    const char *p = g->pad == 0 ? "VALID" : g->pad == 1 ? "SAME" : "EXPLICIT";
    sl_node_builder_set_attr_string(b, "padding", p, strlen(p));
    if (g->pad == 2)
        sl_node_builder_set_attr_int_list(b, "explicit_paddings", g->ep, 8);
}

/* Calls fn(x index, f index, y index) for every term of the convolution. */
#define FOR_TERMS(g, BODY)                                                                      \
    for (int64_t bn = 0; bn < (g)->n; bn++)                                                      \
        for (int64_t oh = 0; oh < (g)->oh; oh++)                                                \
            for (int64_t ow = 0; ow < (g)->ow; ow++)                                            \
                for (int64_t a = 0; a < (g)->kh; a++)                                           \
                    for (int64_t b = 0; b < (g)->kw; b++) {                                     \
                        int64_t ih = oh * (g)->sh - (g)->pt + a * (g)->dh;                      \
                        int64_t iw = ow * (g)->sw - (g)->pl + b * (g)->dw;                      \
                        if (ih < 0 || ih >= (g)->h || iw < 0 || iw >= (g)->w)                   \
                            continue;                                                           \
                        for (int64_t ci = 0; ci < (g)->c; ci++)                                 \
                            for (int64_t co = 0; co < (g)->o; co++) {                           \
                                int64_t xi = ((bn * (g)->h + ih) * (g)->w + iw) * (g)->c + ci;   \
                                int64_t fi = ((a * (g)->kw + b) * (g)->c + ci) * (g)->o + co;   \
                                int64_t yi = ((bn * (g)->oh + oh) * (g)->ow + ow) * (g)->o + co; \
                                BODY;                                                           \
                            }                                                                   \
                    }

static void check_conv_geom(sl_dtype dt, geom g, sl_threadpool *pool)
{
    sl_shape xs = {.rank = 4, .dims = {g.n, g.h, g.w, g.c}}, fs = {.rank = 4, .dims = {g.kh, g.kw, g.c, g.o}},
             ys = {.rank = 4, .dims = {g.n, g.oh, g.ow, g.o}};
    sl_tensor *x = tk_random(dt, xs, -1, 1), *f = tk_random(dt, fs, -1, 1), *dy = tk_random(dt, ys, -1, 1);
    double tol = dt == SL_DTYPE_FLOAT ? 1e-4 : 1e-10;

    /* forward */
    tk_graph tg;
    tk_begin(&tg, "Conv2D", "conv");
    tk_in(&tg, dt);
    tk_in(&tg, dt);
    set_conv_attrs(tg.b, &g);
    sl_node *n = tk_finish(&tg);
    const sl_tensor *in[] = {x, f};
    sl_tensor *y = NULL;
    tk_run_ok(n, in, &y, pool);
    tk_expect_shape(y, &ys, "Conv2D");
    double *want = sl_calloc((size_t)sl_shape_num_elements(&ys) + 1, sizeof(double));
    FOR_TERMS(&g, want[yi] += tk_get(x, xi) * tk_get(f, fi))
    tk_expect_close(y, want, tol, tol, "Conv2D");
    sl_tensor_unref(y);
    tk_end(&tg);

    /* the same with the bias and (on every other run) the Relu fused in */
    static int fused_runs;
    bool relu = fused_runs++ & 1;
    sl_shape bs = {.rank = 1, .dims = {g.o}};
    sl_tensor *bias = tk_random(dt, bs, -1, 1);
    tk_begin(&tg, "_FusedConv2D", "fused");
    tk_in(&tg, dt);
    tk_in(&tg, dt);
    tk_in(&tg, dt);
    set_conv_attrs(tg.b, &g);
    sl_node_builder_set_attr_bool(tg.b, "relu", relu);
    n = tk_finish(&tg);
    const sl_tensor *inb[] = {x, f, bias};
    tk_run_ok(n, inb, &y, pool);
    tk_expect_shape(y, &ys, "_FusedConv2D");
    for (int64_t i = 0; i < sl_shape_num_elements(&ys); i++) {
        want[i] += tk_get(bias, i % g.o);
        if (relu && want[i] < 0)
            want[i] = 0;
    }
    tk_expect_close(y, want, tol, tol, relu ? "_FusedConv2D relu" : "_FusedConv2D");
    sl_tensor_unref(y);
    tk_end(&tg);

    /* and a max pool after them (inference's Conv2D -> BiasAdd -> Relu -> MaxPool) */
    geom pg = {.n = g.n, .h = g.oh, .w = g.ow, .c = g.o, .kh = tk_int(1, 3), .kw = tk_int(1, 3), .o = g.o,
               .sh = tk_int(1, 3), .sw = tk_int(1, 3), .dh = 1, .dw = 1, .pad = (int)tk_int(0, 1)};
    if (fused_runs % 3 == 0)  /* the CNN's */
        pg.kh = pg.kw = pg.sh = pg.sw = 2, pg.pad = 1;
    finish_geom(&pg);
    tk_begin(&tg, "_FusedConv2D", "fused_pool");
    tk_in(&tg, dt);
    tk_in(&tg, dt);
    tk_in(&tg, dt);
    set_conv_attrs(tg.b, &g);
    sl_node_builder_set_attr_bool(tg.b, "relu", relu);
    int64_t pk[4] = {1, pg.kh, pg.kw, 1}, ps[4] = {1, pg.sh, pg.sw, 1};
    sl_node_builder_set_attr_int_list(tg.b, "pool_ksize", pk, 4);
    sl_node_builder_set_attr_int_list(tg.b, "pool_strides", ps, 4);
    sl_node_builder_set_attr_string(tg.b, "pool_padding", pg.pad ? "SAME" : "VALID", pg.pad ? 4 : 5);
    n = tk_finish(&tg);
    tk_run_ok(n, inb, &y, pool);
    sl_shape pys = {.rank = 4, .dims = {g.n, pg.oh, pg.ow, g.o}};
    tk_expect_shape(y, &pys, "_FusedConv2D pool");
    double *pwant = sl_malloc(sizeof(double) * (size_t)(sl_shape_num_elements(&pys) + 1));
    for (int64_t bn = 0; bn < g.n; bn++)
        for (int64_t i = 0; i < pg.oh; i++)
            for (int64_t j = 0; j < pg.ow; j++)
                for (int64_t co = 0; co < g.o; co++) {
                    double m = -INFINITY;
                    for (int64_t a = 0; a < pg.kh; a++)
                        for (int64_t b = 0; b < pg.kw; b++) {
                            int64_t ih = i * pg.sh - pg.pt + a, iw = j * pg.sw - pg.pl + b;
                            if (ih < 0 || ih >= g.oh || iw < 0 || iw >= g.ow)
                                continue;
                            double v = want[((bn * g.oh + ih) * g.ow + iw) * g.o + co];
                            m = v > m ? v : m;
                        }
                    pwant[((bn * pg.oh + i) * pg.ow + j) * g.o + co] = m;
                }
    tk_expect_close(y, pwant, tol, tol, "_FusedConv2D pool");
    sl_free(pwant);
    sl_free(want);
    sl_tensor_unref(y);
    sl_tensor_unref(bias);
    tk_end(&tg);

    /* gradient for the input */
    int32_t xsz[4] = {(int32_t)g.n, (int32_t)g.h, (int32_t)g.w, (int32_t)g.c};
    int32_t fsz[4] = {(int32_t)g.kh, (int32_t)g.kw, (int32_t)g.c, (int32_t)g.o};
    sl_tensor *xst = tk_vec_i32(4, xsz), *fst = tk_vec_i32(4, fsz);
    tk_begin(&tg, "Conv2DBackpropInput", "dx");
    tk_in(&tg, SL_DTYPE_INT32);
    tk_in(&tg, dt);
    tk_in(&tg, dt);
    set_conv_attrs(tg.b, &g);
    n = tk_finish(&tg);
    const sl_tensor *in2[] = {xst, f, dy};
    sl_tensor *dx = NULL;
    tk_run_ok(n, in2, &dx, pool);
    tk_expect_shape(dx, &xs, "Conv2DBackpropInput");
    want = sl_calloc((size_t)sl_shape_num_elements(&xs) + 1, sizeof(double));
    FOR_TERMS(&g, want[xi] += tk_get(dy, yi) * tk_get(f, fi))
    tk_expect_close(dx, want, tol, tol, "Conv2DBackpropInput");
    sl_free(want);
    sl_tensor_unref(dx);
    tk_end(&tg);

    /* gradient for the filter */
    tk_begin(&tg, "Conv2DBackpropFilter", "dw");
    tk_in(&tg, dt);
    tk_in(&tg, SL_DTYPE_INT32);
    tk_in(&tg, dt);
    set_conv_attrs(tg.b, &g);
    n = tk_finish(&tg);
    const sl_tensor *in3[] = {x, fst, dy};
    sl_tensor *dw = NULL;
    tk_run_ok(n, in3, &dw, pool);
    tk_expect_shape(dw, &fs, "Conv2DBackpropFilter");
    want = sl_calloc((size_t)sl_shape_num_elements(&fs) + 1, sizeof(double));
    FOR_TERMS(&g, want[fi] += tk_get(dy, yi) * tk_get(x, xi))
    if (getenv("TK_DEBUG")) fprintf(stderr, "n%lld h%lld w%lld c%lld k%lldx%lld o%lld s%lld,%lld d%lld,%lld pad%d oh%lld ow%lld pool%d\n", (long long)g.n, (long long)g.h, (long long)g.w, (long long)g.c, (long long)g.kh, (long long)g.kw, (long long)g.o, (long long)g.sh, (long long)g.sw, (long long)g.dh, (long long)g.dw, g.pad, (long long)g.oh, (long long)g.ow, pool != NULL);
    tk_expect_close(dw, want, tol, tol, "Conv2DBackpropFilter");
    sl_free(want);
    sl_tensor_unref(dw);
    tk_end(&tg);

    sl_tensor_unref(xst);
    sl_tensor_unref(fst);
    sl_tensor_unref(x);
    sl_tensor_unref(f);
    sl_tensor_unref(dy);
}

static void check_conv(sl_dtype dt, bool pointwise, sl_threadpool *pool)
{
    check_conv_geom(dt, random_geom(pointwise, false), pool);
}

static void test_conv2d_and_gradients_match_direct_sums(void **state)
{
    (void)state;
    sl_threadpool *pool = tk_pool(3);
    for (int rep = 0; rep < 60; rep++)
        check_conv(rep % 3 == 0 ? SL_DTYPE_DOUBLE : SL_DTYPE_FLOAT, rep % 7 == 0, rep & 1 ? pool : NULL);
    sl_threadpool_free(pool);
}

/* The shapes the direct kernels tile: many channels, 1x1, strided,
 * dilated, odd sizes, on one thread and on a pool. */
static void run_wide_cases(void)
{
    sl_threadpool *pool = tk_pool(2);
    static const geom fixed[] = {
        /* n  h  w   c kh kw  o sh sw dh dw */
        {2, 9, 9, 64, 3, 3, 64, 1, 1, 1, 1, .pad = 1},   /* the benchmark's kind */
        {3, 7, 6, 32, 3, 3, 64, 1, 1, 1, 1, .pad = 1},
        {2, 8, 7, 64, 3, 3, 32, 1, 1, 1, 1, .pad = 0},
        {2, 6, 5, 17, 1, 1, 70, 1, 1, 1, 1, .pad = 0},   /* 1x1 */
        {2, 6, 5, 64, 1, 1, 130, 1, 1, 1, 1, .pad = 0},  /* 1x1, three column blocks */
        {2, 9, 9, 24, 3, 3, 40, 2, 2, 1, 1, .pad = 1},   /* strided SAME */
        {2, 9, 8, 24, 1, 1, 48, 2, 2, 1, 1, .pad = 0},   /* strided 1x1 */
        {2, 9, 9, 20, 3, 3, 33, 1, 1, 2, 2, .pad = 1},   /* dilated */
        {1, 5, 11, 9, 3, 2, 65, 1, 3, 2, 1, .pad = 0},   /* mixed */
        {0, 5, 5, 16, 3, 3, 16, 1, 1, 1, 1, .pad = 1},   /* empty batch */
        {2, 2, 2, 16, 3, 3, 16, 1, 1, 1, 1, .pad = 0},   /* window larger than the input */
        /* few input channels: the forward copies the input into a zero border */
        {2, 28, 28, 1, 5, 5, 32, 1, 1, 1, 1, .pad = 1},  /* the Deep MNIST conv1 */
        {3, 13, 11, 1, 5, 5, 32, 1, 1, 1, 1, .pad = 1},  /* odd sizes */
        {2, 13, 11, 1, 5, 3, 70, 2, 3, 1, 1, .pad = 1},  /* strided SAME, three column blocks */
        {2, 12, 9, 1, 4, 5, 17, 1, 2, 1, 1, .pad = 0},   /* VALID, even window */
        {2, 10, 11, 3, 3, 3, 48, 1, 1, 2, 2, .pad = 1},  /* cin 3, dilated */
        {1, 9, 10, 2, 7, 7, 64, 2, 2, 1, 1, .pad = 1},   /* window past both sides */
        {2, 3, 4, 1, 5, 5, 8, 1, 1, 1, 1, .pad = 1},     /* window larger than the input, SAME */
    };
    for (size_t i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++) {
        geom g = fixed[i];
        finish_geom(&g);
        check_conv_geom(SL_DTYPE_FLOAT, g, NULL);
        check_conv_geom(SL_DTYPE_FLOAT, g, pool);
    }
    geom ex = {2, 6, 7, 20, 3, 3, 24, 1, 1, 1, 1, .pad = 2, .ep = {0, 0, 3, 0, 0, 4, 0, 0}};  /* pad > window */
    finish_geom(&ex);
    check_conv_geom(SL_DTYPE_FLOAT, ex, pool);
    geom ex1 = {2, 6, 7, 1, 3, 4, 24, 1, 2, 1, 1, .pad = 2, .ep = {0, 0, 2, 1, 0, 3, 0, 0}};  /* cin 1, explicit */
    finish_geom(&ex1);
    check_conv_geom(SL_DTYPE_FLOAT, ex1, NULL);
    check_conv_geom(SL_DTYPE_FLOAT, ex1, pool);
    for (int rep = 0; rep < 16; rep++) {  /* few input channels, random windows, strides, dilations, padding */
        geom g = random_geom(false, true);
        g.c = tk_int(1, 3);
        g.kh = tk_int(1, 6);
        g.kw = tk_int(1, 6);
        g.h = tk_int(1, 17);
        g.w = tk_int(1, 17);
        finish_geom(&g);
        check_conv_geom(SL_DTYPE_FLOAT, g, rep & 1 ? pool : NULL);
    }
    for (int rep = 0; rep < 24; rep++)
        check_conv_geom(SL_DTYPE_FLOAT, random_geom(rep % 5 == 0, true), rep & 1 ? pool : NULL);
    sl_threadpool_free(pool);
}

static void test_conv2d_wide_channels_strided_dilated_empty(void **state)
{
    (void)state;
    run_wide_cases();
}

/* SLUICE_CONV_PORTABLE=1 keeps float32 on im2col + sgemm even where the
 * CPU has AVX-512: check that path too. */
static void test_conv2d_portable_path(void **state)
{
    (void)state;
    setenv("SLUICE_CONV_PORTABLE", "1", 1);
    run_wide_cases();
    sl_threadpool *pool = tk_pool(2);
    for (int rep = 0; rep < 20; rep++)
        check_conv(SL_DTYPE_FLOAT, rep % 7 == 0, rep & 1 ? pool : NULL);
    sl_threadpool_free(pool);
    unsetenv("SLUICE_CONV_PORTABLE");
}

static void test_conv2d_errors_name_node(void **state)
{
    (void)state;
    tk_graph tg;
    tk_begin(&tg, "Conv2D", "conv1");
    tk_in(&tg, SL_DTYPE_FLOAT);
    tk_in(&tg, SL_DTYPE_FLOAT);
    geom g = {.sh = 1, .sw = 1, .dh = 1, .dw = 1};
    set_conv_attrs(tg.b, &g);
    sl_node *n = tk_finish(&tg);
    sl_tensor *x = tk_tensor(SL_DTYPE_FLOAT, (sl_shape){.rank = 4, .dims = {1, 4, 4, 3}});
    sl_tensor *f = tk_tensor(SL_DTYPE_FLOAT, (sl_shape){.rank = 4, .dims = {2, 2, 2, 5}});
    const sl_tensor *in[] = {x, f};
    sl_tensor *y = NULL;
    char msg[256];
    assert_int_equal(tk_run(n, in, &y, NULL, msg, sizeof(msg)), SL_INVALID_ARGUMENT);
    assert_non_null(strstr(msg, "node 'conv1' (Conv2D): input depth 3 must match filter depth 2"));
    sl_tensor_unref(x);
    sl_tensor_unref(f);
    tk_end(&tg);
}

/* wide: channel counts past one and several AVX-512 vectors (MaxPool's
 * float path keeps 16 to 64 channels in registers) */
static void check_pool(sl_dtype dt, bool is_max, sl_threadpool *pool, bool wide)
{
    int64_t n = tk_int(1, 3), h = tk_int(1, 9), w = tk_int(1, 9), c = wide ? tk_int(1, 140) : tk_int(1, 5), kh = tk_int(1, 3),
            kw = tk_int(1, 3), sh = tk_int(1, 3), sw = tk_int(1, 3);
    bool same = tk_int(0, 1);
    int64_t oh, ow, pt, pl;
    out_dim(h, kh, sh, 1, same, NULL, &oh, &pt);
    out_dim(w, kw, sw, 1, same, NULL, &ow, &pl);
    sl_shape xs = {.rank = 4, .dims = {n, h, w, c}}, ys = {.rank = 4, .dims = {n, oh, ow, c}};
    sl_tensor *x = tk_random(dt, xs, -5, 5), *dy = tk_random(dt, ys, -1, 1);
    int64_t ks[4] = {1, kh, kw, 1}, ss[4] = {1, sh, sw, 1};
    tk_graph tg;
    tk_begin(&tg, is_max ? "MaxPool" : "AvgPool", "pool");
    tk_in(&tg, dt);
    sl_node_builder_set_attr_int_list(tg.b, "ksize", ks, 4);
    sl_node_builder_set_attr_int_list(tg.b, "strides", ss, 4);
    sl_node_builder_set_attr_string(tg.b, "padding", same ? "SAME" : "VALID", same ? 4 : 5);
    sl_node *nd = tk_finish(&tg);
    sl_tensor *y = NULL;
    tk_run_ok(nd, (const sl_tensor *const *)&x, &y, pool);
    tk_expect_shape(y, &ys, "pool");
    double *want = sl_malloc(sizeof(double) * (size_t)(sl_shape_num_elements(&ys) + 1));
    double *gwant = sl_calloc((size_t)sl_shape_num_elements(&xs) + 1, sizeof(double));
    for (int64_t b = 0; b < n; b++)
        for (int64_t i = 0; i < oh; i++)
            for (int64_t j = 0; j < ow; j++)
                for (int64_t ch = 0; ch < c; ch++) {
                    double acc = is_max ? -INFINITY : 0;
                    int64_t cnt = 0, best = -1;
                    for (int64_t a = 0; a < kh; a++)
                        for (int64_t e = 0; e < kw; e++) {
                            int64_t ih = i * sh - pt + a, iw = j * sw - pl + e;
                            if (ih < 0 || ih >= h || iw < 0 || iw >= w)
                                continue;
                            int64_t xi = ((b * h + ih) * w + iw) * c + ch;
                            double v = tk_get(x, xi);
                            if (is_max && (best < 0 || v > acc)) {
                                acc = v;
                                best = xi;
                            } else if (!is_max) {
                                acc += v;
                            }
                            cnt++;
                        }
                    int64_t yi = ((b * oh + i) * ow + j) * c + ch;
                    want[yi] = is_max ? acc : acc / (double)cnt;
                    if (is_max)
                        gwant[best] += tk_get(dy, yi);
                    else
                        for (int64_t a = 0; a < kh; a++)
                            for (int64_t e = 0; e < kw; e++) {
                                int64_t ih = i * sh - pt + a, iw = j * sw - pl + e;
                                if (ih >= 0 && ih < h && iw >= 0 && iw < w)
                                    gwant[((b * h + ih) * w + iw) * c + ch] += tk_get(dy, yi) / (double)cnt;
                            }
                }
    double tol = dt == SL_DTYPE_FLOAT ? 1e-5 : 1e-12;
    tk_expect_close(y, want, tol, tol, "pool forward");
    tk_graph tg2;
    tk_begin(&tg2, is_max ? "MaxPoolGrad" : "AvgPoolGrad", "pool_grad");
    sl_tensor *shape = NULL;
    if (is_max) {
        tk_in(&tg2, dt);
        tk_in(&tg2, dt);
    } else {
        int32_t xsz[4] = {(int32_t)n, (int32_t)h, (int32_t)w, (int32_t)c};
        shape = tk_vec_i32(4, xsz);
        tk_in(&tg2, SL_DTYPE_INT32);
    }
    tk_in(&tg2, dt);
    sl_node_builder_set_attr_int_list(tg2.b, "ksize", ks, 4);
    sl_node_builder_set_attr_int_list(tg2.b, "strides", ss, 4);
    sl_node_builder_set_attr_string(tg2.b, "padding", same ? "SAME" : "VALID", same ? 4 : 5);
    sl_node *nd2 = tk_finish(&tg2);
    const sl_tensor *gin_max[] = {x, y, dy}, *gin_avg[] = {shape, dy};
    sl_tensor *dx = NULL;
    tk_run_ok(nd2, is_max ? gin_max : gin_avg, &dx, pool);
    tk_expect_close(dx, gwant, tol, tol, "pool gradient");
    sl_free(want);
    sl_free(gwant);
    sl_tensor_unref(shape);
    sl_tensor_unref(dx);
    sl_tensor_unref(y);
    sl_tensor_unref(x);
    sl_tensor_unref(dy);
    tk_end(&tg);
    tk_end(&tg2);
}

static void test_pooling_and_gradients(void **state)
{
    (void)state;
    sl_threadpool *pool = tk_pool(2);
    for (int rep = 0; rep < 40; rep++)
        check_pool(rep % 3 == 0 ? SL_DTYPE_DOUBLE : SL_DTYPE_FLOAT, rep & 1, rep & 2 ? pool : NULL, false);
    for (int rep = 0; rep < 24; rep++)
        check_pool(SL_DTYPE_FLOAT, rep % 3 != 0, rep & 1 ? pool : NULL, true);
    sl_threadpool_free(pool);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_conv2d_and_gradients_match_direct_sums),
        cmocka_unit_test(test_conv2d_wide_channels_strided_dilated_empty),
        cmocka_unit_test(test_conv2d_portable_path),
        cmocka_unit_test(test_conv2d_errors_name_node),
        cmocka_unit_test(test_pooling_and_gradients),
    };
    return cmocka_run_group_tests_name("kernels-conv", tests, NULL, NULL);
}
