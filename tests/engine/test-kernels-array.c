/* Tests of the array kernels (array-shape.c, array-slice.c,
 * array-join.c), the random kernels and the optimizer updates: random
 * shapes against index-arithmetic references, NumPy-checked StridedSlice
 * cases, and the error paths (bad reshape, Gather index out of range)
 * with the node named and nothing leaked.  All comparisons are exact
 * except the optimizers (rtol 1e-6).
 */
#include "kernel-test-util.h"

#include "kernel-ctx-private.h"

/* Runs a one-input-list-free node: op with inputs of the given tensors (dtypes from them). */
static sl_code run_op(const char *op, const sl_tensor *const *in, int nin, sl_tensor **out,
                      void (*attrs)(sl_node_builder *, void *), void *arg, char *msg)
{
    tk_graph tg;
    tk_begin(&tg, op, "node");
    for (int i = 0; i < nin; i++)
        tk_in(&tg, sl_tensor_dtype(in[i]));
    if (attrs)
        attrs(tg.b, arg);
    sl_node *n = tk_finish(&tg);
    sl_code rc = tk_run(n, in, out, NULL, msg, 256);
    tk_end(&tg);
    return rc;
}

static void test_reshape_and_bad_reshape(void **state)
{
    (void)state;
    sl_tensor *x = tk_random(SL_DTYPE_FLOAT, sl_shape_matrix(2, 6), -1, 1);
    int32_t s1[] = {3, -1, 2};
    sl_tensor *sh = tk_vec_i32(3, s1);
    const sl_tensor *in[] = {x, sh};
    sl_tensor *y = NULL;
    char msg[256];
    assert_int_equal(run_op("Reshape", in, 2, &y, NULL, NULL, msg), SL_OK);
    sl_shape want = sl_shape_make(3, (const int64_t[]){3, 2, 2});
    tk_expect_shape(y, &want, "Reshape");
    assert_ptr_equal(sl_tensor_data(y), sl_tensor_data(x));  /* no copy */
    sl_tensor_unref(y);
    sl_tensor_unref(sh);
    int32_t s2[] = {5, 2};
    sh = tk_vec_i32(2, s2);
    const sl_tensor *in2[] = {x, sh};
    sl_alloc_stats before, after;
    sl_alloc_get_stats(&before);
    assert_int_equal(run_op("Reshape", in2, 2, &y, NULL, NULL, msg), SL_INVALID_ARGUMENT);
    sl_alloc_get_stats(&after);
    assert_string_equal(msg, "node 'node' (Reshape): cannot reshape a tensor of 12 elements (shape [2,6]) into shape [5,2] (10 elements)");
    (void)before;
    (void)after;
    sl_tensor_unref(sh);
    sl_tensor_unref(x);
}

static void test_gather_and_out_of_range_index(void **state)
{
    (void)state;
    for (int rep = 0; rep < 20; rep++) {
        sl_shape ps = tk_random_shape(3, 1, 5);
        if (ps.rank == 0)
            ps = sl_shape_vector(4);
        int axis = (int)tk_int(0, ps.rank - 1);
        sl_shape is = tk_random_shape(2, 0, 4);
        sl_tensor *p = tk_random(SL_DTYPE_FLOAT, ps, -9, 9), *idx = tk_tensor(SL_DTYPE_INT64, is);
        for (int64_t i = 0; i < sl_tensor_num_elements(idx); i++)
            tk_set(idx, i, (double)tk_int(0, ps.dims[axis] - 1));
        sl_tensor *ax = tk_scalar_i32(axis);
        const sl_tensor *in[] = {p, idx, ax};
        sl_tensor *y = NULL;
        char msg[256];
        assert_int_equal(run_op("GatherV2", in, 3, &y, NULL, NULL, msg), SL_OK);
        int64_t outer = 1, inner = 1, ni = sl_tensor_num_elements(idx);
        for (int d = 0; d < ps.rank; d++)
            if (d < axis)
                outer *= ps.dims[d];
            else if (d > axis)
                inner *= ps.dims[d];
        double *want = sl_malloc(sizeof(double) * (size_t)(outer * ni * inner + 1));
        for (int64_t o = 0; o < outer; o++)
            for (int64_t i = 0; i < ni; i++)
                for (int64_t k = 0; k < inner; k++)
                    want[(o * ni + i) * inner + k] = tk_get(p, (o * ps.dims[axis] + (int64_t)tk_get(idx, i)) * inner + k);
        assert_int_equal(sl_tensor_num_elements(y), outer * ni * inner);
        tk_expect_close(y, want, 0, 0, "GatherV2");
        sl_free(want);
        sl_tensor_unref(y);
        sl_tensor_unref(p);
        sl_tensor_unref(idx);
        sl_tensor_unref(ax);
    }
    sl_tensor *p = tk_tensor(SL_DTYPE_FLOAT, sl_shape_matrix(5, 2));
    sl_tensor *idx = tk_tensor(SL_DTYPE_INT32, sl_shape_matrix(2, 2));
    int32_t bad[] = {0, 4, 7, 1};
    memcpy(sl_tensor_data(idx), bad, sizeof(bad));
    const sl_tensor *in[] = {p, idx};
    sl_tensor *y = NULL;
    char msg[256];
    sl_alloc_stats before, after;
    sl_alloc_get_stats(&before);
    assert_int_equal(run_op("Gather", in, 2, &y, NULL, NULL, msg), SL_INVALID_ARGUMENT);
    sl_alloc_get_stats(&after);
    assert_null(y);
    assert_string_equal(msg, "node 'node' (Gather): indices[1,0] = 7 is not in [0, 5)");
    sl_tensor_unref(p);
    sl_tensor_unref(idx);
}

static void set_axis_attr(sl_node_builder *b, void *arg)
{
    sl_node_builder_set_attr_int(b, "axis", *(int64_t *)arg);
}

static void test_concat_split_pack_unpack_round_trip(void **state)
{
    (void)state;
    for (int rep = 0; rep < 20; rep++) {
        sl_shape s = tk_random_shape(3, 0, 4);
        if (s.rank == 0)
            s = sl_shape_vector(3);
        int axis = (int)tk_int(0, s.rank - 1);
        int parts = (int)tk_int(2, 4);
        sl_shape whole = s;
        whole.dims[axis] = s.dims[axis] * parts;
        sl_tensor *x = tk_random(SL_DTYPE_INT32, whole, -100, 100);
        /* Split into equal parts, then ConcatV2 back */
        tk_graph tg;
        tk_begin(&tg, "Split", "split");
        tk_in(&tg, SL_DTYPE_INT32);
        tk_in(&tg, SL_DTYPE_INT32);
        sl_node_builder_set_attr_int(tg.b, "num_split", parts);
        sl_node *n = tk_finish(&tg);
        sl_tensor *ax = tk_scalar_i32(axis - (rep & 1 ? s.rank : 0));
        const sl_tensor *in[] = {ax, x};
        sl_tensor *pieces[4] = {NULL};
        tk_run_ok(n, in, pieces, NULL);
        for (int i = 0; i < parts; i++)
            tk_expect_shape(pieces[i], &s, "Split");
        tk_end(&tg);
        tk_begin(&tg, "ConcatV2", "concat");
        tk_in_list(&tg, SL_DTYPE_INT32, parts);
        tk_in(&tg, SL_DTYPE_INT32);
        n = tk_finish(&tg);
        const sl_tensor *cin[5];
        for (int i = 0; i < parts; i++)
            cin[i] = pieces[i];
        cin[parts] = ax;
        sl_tensor *back = NULL;
        tk_run_ok(n, cin, &back, NULL);
        assert_true(sl_tensor_equal(back, x));
        sl_tensor_unref(back);
        tk_end(&tg);
        /* Pack then Unpack */
        int64_t pax = tk_int(0, s.rank);
        tk_begin(&tg, "Pack", "pack");
        tk_in_list(&tg, SL_DTYPE_INT32, parts);
        sl_node_builder_set_attr_int(tg.b, "axis", pax);
        n = tk_finish(&tg);
        sl_tensor *packed = NULL;
        tk_run_ok(n, cin, &packed, NULL);
        assert_int_equal(sl_tensor_dim(packed, (int)pax), parts);
        tk_end(&tg);
        /* reference: packed[.., i, ..] == pieces[i] */
        int64_t outer = 1, inner = 1;
        for (int d = 0; d < s.rank; d++)
            if (d < pax)
                outer *= s.dims[d];
            else
                inner *= s.dims[d];
        for (int i = 0; i < parts; i++)
            for (int64_t o = 0; o < outer; o++)
                for (int64_t k = 0; k < inner; k++)
                    assert_true(tk_get(packed, (o * parts + i) * inner + k) == tk_get(pieces[i], o * inner + k));
        tk_begin(&tg, "Unpack", "unpack");
        tk_in(&tg, SL_DTYPE_INT32);
        sl_node_builder_set_attr_int(tg.b, "num", parts);
        set_axis_attr(tg.b, &pax);
        n = tk_finish(&tg);
        sl_tensor *un[4] = {NULL};
        tk_run_ok(n, (const sl_tensor *const *)&packed, un, NULL);
        for (int i = 0; i < parts; i++) {
            assert_true(sl_tensor_equal(un[i], pieces[i]));
            sl_tensor_unref(un[i]);
            sl_tensor_unref(pieces[i]);
        }
        tk_end(&tg);
        sl_tensor_unref(packed);
        sl_tensor_unref(ax);
        sl_tensor_unref(x);
    }
}

typedef struct ss_attrs {
    int64_t bm, em, elm, nam, sam;
} ss_attrs;

static void set_ss_attrs(sl_node_builder *b, void *arg)
{
    ss_attrs *a = arg;
    sl_node_builder_set_attr_int(b, "begin_mask", a->bm);
    sl_node_builder_set_attr_int(b, "end_mask", a->em);
    sl_node_builder_set_attr_int(b, "ellipsis_mask", a->elm);
    sl_node_builder_set_attr_int(b, "new_axis_mask", a->nam);
    sl_node_builder_set_attr_int(b, "shrink_axis_mask", a->sam);
}

static void test_strided_slice_masks(void **state)
{
    (void)state;
    /* x = arange(2*3*4).reshape(2, 3, 4); expected values from NumPy */
    sl_tensor *x = tk_tensor(SL_DTYPE_INT32, sl_shape_make(3, (const int64_t[]){2, 3, 4}));
    for (int i = 0; i < 24; i++)
        tk_set(x, i, i);
    struct {
        int n;
        int32_t b[4], e[4], s[4];
        ss_attrs m;
        int rank;
        int64_t dims[4];
        int32_t want[24];
        int nwant;
    } cases[] = {
        /* x[1, :, ::-2] */
        {3, {1, 0, 0}, {2, 0, 0}, {1, 1, -2}, {.bm = 6, .em = 6, .sam = 1}, 2, {3, 2}, {15, 13, 19, 17, 23, 21}, 6},
        /* x[..., 1] */
        {2, {0, 1}, {0, 2}, {1, 1}, {.elm = 1, .sam = 2}, 2, {2, 3}, {1, 5, 9, 13, 17, 21}, 6},
        /* x[:, np.newaxis, -1, 1:3] */
        {4, {0, 0, -1, 1}, {0, 0, 0, 3}, {1, 1, 1, 1}, {.bm = 1, .em = 1, .nam = 2, .sam = 4}, 3, {2, 1, 2}, {9, 10, 21, 22}, 4},
        /* x[-1:-3:-1, 5:] (clamped, empty) */
        {2, {-1, 5}, {-3, 0}, {-1, 1}, {.em = 2}, 3, {2, 0, 4}, {0}, 0},
        /* x[0] */
        {1, {0}, {1}, {1}, {.sam = 1}, 2, {3, 4}, {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11}, 12},
    };
    for (size_t k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
        sl_tensor *b = tk_vec_i32(cases[k].n, cases[k].b), *e = tk_vec_i32(cases[k].n, cases[k].e),
                  *s = tk_vec_i32(cases[k].n, cases[k].s);
        const sl_tensor *in[] = {x, b, e, s};
        sl_tensor *y = NULL;
        char msg[256];
        if (run_op("StridedSlice", in, 4, &y, set_ss_attrs, &cases[k].m, msg) != SL_OK)
            fail_msg("case %zu: %s", k, msg);
        sl_shape ws = sl_shape_make(cases[k].rank, cases[k].dims);
        tk_expect_shape(y, &ws, "StridedSlice");
        double want[24];
        for (int i = 0; i < cases[k].nwant; i++)
            want[i] = cases[k].want[i];
        tk_expect_close(y, want, 0, 0, "StridedSlice");
        sl_tensor_unref(y);
        sl_tensor_unref(b);
        sl_tensor_unref(e);
        sl_tensor_unref(s);
    }
    sl_tensor_unref(x);
}

static void test_transpose_tile_pad_slice(void **state)
{
    (void)state;
    for (int rep = 0; rep < 20; rep++) {
        sl_shape s = tk_random_shape(4, 0, 4);
        sl_tensor *x = tk_random(SL_DTYPE_FLOAT, s, -9, 9);
        int64_t st[SL_MAX_DIMS];
        tk_strides(&s, st);
        /* Transpose by a random permutation */
        int32_t perm[SL_MAX_DIMS];
        for (int i = 0; i < s.rank; i++)
            perm[i] = i;
        for (int i = s.rank - 1; i > 0; i--) {
            int k = (int)tk_int(0, i);
            int32_t t = perm[i];
            perm[i] = perm[k];
            perm[k] = t;
        }
        sl_tensor *pt = tk_vec_i32(s.rank, perm);
        const sl_tensor *in[] = {x, pt};
        sl_tensor *y = NULL;
        char msg[256];
        assert_int_equal(run_op("Transpose", in, 2, &y, NULL, NULL, msg), SL_OK);
        sl_shape ys = {.rank = s.rank};
        for (int i = 0; i < s.rank; i++)
            ys.dims[i] = s.dims[perm[i]];
        tk_expect_shape(y, &ys, "Transpose");
        for (int64_t o = 0; o < sl_tensor_num_elements(y); o++) {
            int64_t rem = o, src = 0;
            for (int d = s.rank - 1; d >= 0; d--) {
                src += (rem % ys.dims[d]) * st[perm[d]];
                rem /= ys.dims[d];
            }
            assert_true(tk_get(y, o) == tk_get(x, src));
        }
        sl_tensor_unref(y);
        sl_tensor_unref(pt);
        /* Tile, Pad, Slice */
        int32_t mult[SL_MAX_DIMS], pads[2 * SL_MAX_DIMS], beg[SL_MAX_DIMS], size[SL_MAX_DIMS];
        sl_shape ts = s, ps = s, ss = s;
        for (int d = 0; d < s.rank; d++) {
            mult[d] = (int32_t)tk_int(0, 3);
            ts.dims[d] = s.dims[d] * mult[d];
            pads[2 * d] = (int32_t)tk_int(0, 2);
            pads[2 * d + 1] = (int32_t)tk_int(0, 2);
            ps.dims[d] = s.dims[d] + pads[2 * d] + pads[2 * d + 1];
            beg[d] = (int32_t)tk_int(0, s.dims[d]);
            size[d] = tk_int(0, 3) == 0 ? -1 : (int32_t)tk_int(0, s.dims[d] - beg[d]);
            ss.dims[d] = size[d] < 0 ? s.dims[d] - beg[d] : size[d];
        }
        sl_tensor *mt = tk_vec_i32(s.rank, mult), *padt = tk_tensor(SL_DTYPE_INT32, sl_shape_matrix(s.rank, 2));
        if (s.rank)
            memcpy(sl_tensor_data(padt), pads, sizeof(int32_t) * 2 * (size_t)s.rank);
        sl_tensor *bt = tk_vec_i32(s.rank, beg), *szt = tk_vec_i32(s.rank, size);
        const sl_tensor *tin[] = {x, mt}, *pin[] = {x, padt}, *sin[] = {x, bt, szt};
        sl_tensor *ty = NULL, *py = NULL, *sy = NULL;
        assert_int_equal(run_op("Tile", tin, 2, &ty, NULL, NULL, msg), SL_OK);
        assert_int_equal(run_op("Pad", pin, 2, &py, NULL, NULL, msg), SL_OK);
        assert_int_equal(run_op("Slice", sin, 3, &sy, NULL, NULL, msg), SL_OK);
        tk_expect_shape(ty, &ts, "Tile");
        tk_expect_shape(py, &ps, "Pad");
        tk_expect_shape(sy, &ss, "Slice");
        for (int64_t o = 0; o < sl_tensor_num_elements(ty); o++) {
            int64_t rem = o, src = 0;
            for (int d = s.rank - 1; d >= 0; d--) {
                src += (rem % ts.dims[d] % s.dims[d]) * st[d];
                rem /= ts.dims[d];
            }
            assert_true(tk_get(ty, o) == tk_get(x, src));
        }
        for (int64_t o = 0; o < sl_tensor_num_elements(py); o++) {
            int64_t rem = o, src = 0;
            bool inside = true;
            for (int d = s.rank - 1; d >= 0; d--) {
                int64_t i = rem % ps.dims[d] - pads[2 * d];
                rem /= ps.dims[d];
                inside = inside && i >= 0 && i < s.dims[d];
                src += i * st[d];
            }
            assert_true(tk_get(py, o) == (inside ? tk_get(x, src) : 0));
        }
        for (int64_t o = 0; o < sl_tensor_num_elements(sy); o++) {
            int64_t rem = o, src = 0;
            for (int d = s.rank - 1; d >= 0; d--) {
                src += (rem % ss.dims[d] + beg[d]) * st[d];
                rem /= ss.dims[d];
            }
            assert_true(tk_get(sy, o) == tk_get(x, src));
        }
        sl_tensor_unref(ty);
        sl_tensor_unref(py);
        sl_tensor_unref(sy);
        sl_tensor_unref(mt);
        sl_tensor_unref(padt);
        sl_tensor_unref(bt);
        sl_tensor_unref(szt);
        sl_tensor_unref(x);
    }
}

static void test_small_array_ops(void **state)
{
    (void)state;
    char msg[256];
    sl_tensor *y = NULL, *y2[2] = {NULL, NULL};
    /* Fill */
    int32_t dims[] = {2, 3};
    sl_tensor *d = tk_vec_i32(2, dims), *v = tk_scalar(SL_DTYPE_FLOAT, 2.5);
    const sl_tensor *fin[] = {d, v};
    assert_int_equal(run_op("Fill", fin, 2, &y, NULL, NULL, msg), SL_OK);
    for (int i = 0; i < 6; i++)
        assert_true(tk_get(y, i) == 2.5);
    /* Shape, Size, Rank, ZerosLike, OnesLike, ExpandDims, Squeeze */
    sl_tensor *sy = NULL;
    assert_int_equal(run_op("Shape", (const sl_tensor *const *)&y, 1, &sy, NULL, NULL, msg), SL_OK);
    assert_true(tk_get(sy, 0) == 2 && tk_get(sy, 1) == 3);
    sl_tensor_unref(sy);
    assert_int_equal(run_op("Size", (const sl_tensor *const *)&y, 1, &sy, NULL, NULL, msg), SL_OK);
    assert_true(tk_get(sy, 0) == 6);
    sl_tensor_unref(sy);
    assert_int_equal(run_op("Rank", (const sl_tensor *const *)&y, 1, &sy, NULL, NULL, msg), SL_OK);
    assert_true(tk_get(sy, 0) == 2);
    sl_tensor_unref(sy);
    assert_int_equal(run_op("OnesLike", (const sl_tensor *const *)&y, 1, &sy, NULL, NULL, msg), SL_OK);
    assert_true(tk_get(sy, 5) == 1);
    sl_tensor_unref(sy);
    assert_int_equal(run_op("ZerosLike", (const sl_tensor *const *)&y, 1, &sy, NULL, NULL, msg), SL_OK);
    assert_true(tk_get(sy, 5) == 0);
    sl_tensor_unref(sy);
    sl_tensor *dim = tk_scalar_i32(-1);
    const sl_tensor *ein[] = {y, dim};
    assert_int_equal(run_op("ExpandDims", ein, 2, &sy, NULL, NULL, msg), SL_OK);
    sl_shape es = sl_shape_make(3, (const int64_t[]){2, 3, 1});
    tk_expect_shape(sy, &es, "ExpandDims");
    sl_tensor *sq = NULL;
    assert_int_equal(run_op("Squeeze", (const sl_tensor *const *)&sy, 1, &sq, NULL, NULL, msg), SL_OK);
    sl_shape qs = sl_shape_matrix(2, 3);
    tk_expect_shape(sq, &qs, "Squeeze");
    sl_tensor_unref(sq);
    sl_tensor_unref(sy);
    sl_tensor_unref(dim);
    sl_tensor_unref(y);
    sl_tensor_unref(d);
    sl_tensor_unref(v);
    /* Range, float and int, and a bad one */
    sl_tensor *a = tk_scalar_i32(10), *b = tk_scalar_i32(1), *c = tk_scalar_i32(-3);
    const sl_tensor *rin[] = {a, b, c};
    assert_int_equal(run_op("Range", rin, 3, &y, NULL, NULL, msg), SL_OK);
    assert_int_equal(sl_tensor_num_elements(y), 3);
    assert_true(tk_get(y, 0) == 10 && tk_get(y, 1) == 7 && tk_get(y, 2) == 4);
    sl_tensor_unref(y);
    const sl_tensor *rbad[] = {b, a, c};
    assert_int_equal(run_op("Range", rbad, 3, &y, NULL, NULL, msg), SL_INVALID_ARGUMENT);
    assert_non_null(strstr(msg, "requires start >= limit when delta < 0"));
    sl_tensor *fa = tk_scalar(SL_DTYPE_FLOAT, 0), *fb = tk_scalar(SL_DTYPE_FLOAT, 1), *fc = tk_scalar(SL_DTYPE_FLOAT, 0.25);
    const sl_tensor *frin[] = {fa, fb, fc};
    assert_int_equal(run_op("Range", frin, 3, &y, NULL, NULL, msg), SL_OK);
    assert_int_equal(sl_tensor_num_elements(y), 4);
    assert_true(tk_get(y, 3) == 0.75);
    sl_tensor_unref(y);
    sl_tensor_unref(fa);
    sl_tensor_unref(fb);
    sl_tensor_unref(fc);
    /* BroadcastGradientArgs */
    int32_t s0[] = {2, 1, 3}, s1[] = {4, 1};
    sl_tensor *t0 = tk_vec_i32(3, s0), *t1 = tk_vec_i32(2, s1);
    const sl_tensor *bin[] = {t0, t1};
    assert_int_equal(run_op("BroadcastGradientArgs", bin, 2, y2, NULL, NULL, msg), SL_OK);
    assert_int_equal(sl_tensor_num_elements(y2[0]), 1);
    assert_true(tk_get(y2[0], 0) == 1);
    assert_int_equal(sl_tensor_num_elements(y2[1]), 2);
    assert_true(tk_get(y2[1], 0) == 0 && tk_get(y2[1], 1) == 2);
    sl_tensor_unref(y2[0]);
    sl_tensor_unref(y2[1]);
    sl_tensor_unref(t0);
    sl_tensor_unref(t1);
    /* OneHot with axis 0 */
    int32_t idx[] = {0, 2, -1};
    sl_tensor *it = tk_vec_i32(3, idx), *on = tk_scalar(SL_DTYPE_FLOAT, 5), *off = tk_scalar(SL_DTYPE_FLOAT, -1);
    const sl_tensor *oin[] = {it, b, on, off};
    sl_tensor *depth = tk_scalar_i32(3);
    oin[1] = depth;
    int64_t axis0 = 0;
    assert_int_equal(run_op("OneHot", oin, 4, &y, set_axis_attr, &axis0, msg), SL_OK);
    double want_oh[] = {5, -1, -1, -1, -1, -1, -1, 5, -1};
    tk_expect_close(y, want_oh, 0, 0, "OneHot");
    sl_tensor_unref(y);
    sl_tensor_unref(it);
    sl_tensor_unref(on);
    sl_tensor_unref(off);
    sl_tensor_unref(depth);
    sl_tensor_unref(a);
    sl_tensor_unref(b);
    sl_tensor_unref(c);
}

static void test_dynamic_stitch(void **state)
{
    (void)state;
    /* TF's doc example: indices [6], [4, 1], [[5, 2], [0, 3]] */
    int32_t i0[] = {6}, i1[] = {4, 1}, i2[] = {5, 2, 0, 3};
    sl_tensor *x0 = tk_vec_i32(1, i0), *x1 = tk_vec_i32(2, i1), *x2 = tk_tensor(SL_DTYPE_INT32, sl_shape_matrix(2, 2));
    memcpy(sl_tensor_data(x2), i2, sizeof(i2));
    sl_tensor *d0 = tk_tensor(SL_DTYPE_FLOAT, sl_shape_matrix(1, 2)), *d1 = tk_tensor(SL_DTYPE_FLOAT, sl_shape_matrix(2, 2)),
              *d2 = tk_tensor(SL_DTYPE_FLOAT, sl_shape_make(3, (const int64_t[]){2, 2, 2}));
    double val[] = {61, 62, 41, 42, 11, 12, 51, 52, 21, 22, 1, 2, 31, 32};
    int k = 0;
    for (int i = 0; i < 2; i++)
        tk_set(d0, i, val[k++]);
    for (int i = 0; i < 4; i++)
        tk_set(d1, i, val[k++]);
    for (int i = 0; i < 8; i++)
        tk_set(d2, i, val[k++]);
    tk_graph tg;
    tk_begin(&tg, "DynamicStitch", "stitch");
    tk_in_list(&tg, SL_DTYPE_INT32, 3);
    tk_in_list(&tg, SL_DTYPE_FLOAT, 3);
    sl_node *n = tk_finish(&tg);
    const sl_tensor *in[] = {x0, x1, x2, d0, d1, d2};
    sl_tensor *y = NULL;
    tk_run_ok(n, in, &y, NULL);
    double want[] = {1, 2, 11, 12, 21, 22, 31, 32, 41, 42, 51, 52, 61, 62};
    sl_shape ws = sl_shape_matrix(7, 2);
    tk_expect_shape(y, &ws, "DynamicStitch");
    tk_expect_close(y, want, 0, 0, "DynamicStitch");
    sl_tensor_unref(y);
    tk_end(&tg);
    sl_tensor_unref(x0);
    sl_tensor_unref(x1);
    sl_tensor_unref(x2);
    sl_tensor_unref(d0);
    sl_tensor_unref(d1);
    sl_tensor_unref(d2);
}

static void set_seeds(sl_node_builder *b, void *arg)
{
    int64_t *s = arg;
    sl_node_builder_set_attr_int(b, "seed", s[0]);
    sl_node_builder_set_attr_int(b, "seed2", s[1]);
    sl_node_builder_set_attr_type(b, "dtype", (sl_dtype)s[2]);
}

static void test_random_ops_deterministic_for_seeds(void **state)
{
    (void)state;
    const char *ops[] = {"RandomUniform", "RandomStandardNormal", "TruncatedNormal"};
    int32_t dims[] = {1001};
    sl_tensor *shape = tk_vec_i32(1, dims);
    for (int k = 0; k < 3; k++) {
        for (int dk = 0; dk < 2; dk++) {
            int64_t seeds[3] = {87654321, 42, dk ? SL_DTYPE_DOUBLE : SL_DTYPE_FLOAT};
            sl_tensor *a = NULL, *b = NULL, *c = NULL;
            char msg[256];
            assert_int_equal(run_op(ops[k], (const sl_tensor *const *)&shape, 1, &a, set_seeds, seeds, msg), SL_OK);
            assert_int_equal(run_op(ops[k], (const sl_tensor *const *)&shape, 1, &b, set_seeds, seeds, msg), SL_OK);
            seeds[1] = 43;
            assert_int_equal(run_op(ops[k], (const sl_tensor *const *)&shape, 1, &c, set_seeds, seeds, msg), SL_OK);
            assert_true(sl_tensor_equal(a, b));
            assert_false(sl_tensor_equal(a, c));
            double sum = 0, sq = 0, lo = INFINITY, hi = -INFINITY;
            for (int i = 0; i < 1001; i++) {
                double v = tk_get(a, i);
                sum += v;
                sq += v * v;
                lo = fmin(lo, v);
                hi = fmax(hi, v);
            }
            double mean = sum / 1001, var = sq / 1001 - mean * mean;
            if (k == 0) {
                assert_true(lo >= 0 && hi < 1 && fabs(mean - 0.5) < 0.05);
            } else if (k == 1) {
                assert_true(fabs(mean) < 0.1 && fabs(var - 1) < 0.15);
            } else {
                assert_true(lo > -2 && hi < 2 && fabs(mean) < 0.1 && fabs(var - 0.774) < 0.12);
            }
            sl_tensor_unref(a);
            sl_tensor_unref(b);
            sl_tensor_unref(c);
        }
    }
    sl_tensor_unref(shape);
    /* RandomShuffle is a permutation of the rows */
    sl_tensor *x = tk_tensor(SL_DTYPE_INT32, sl_shape_matrix(50, 2));
    for (int i = 0; i < 100; i++)
        tk_set(x, i, i);
    int64_t seeds[3] = {1, 2, SL_DTYPE_INT32};
    tk_graph tg;
    tk_begin(&tg, "RandomShuffle", "shuffle");
    tk_in(&tg, SL_DTYPE_INT32);
    sl_node_builder_set_attr_int(tg.b, "seed", seeds[0]);
    sl_node_builder_set_attr_int(tg.b, "seed2", seeds[1]);
    sl_node *n = tk_finish(&tg);
    sl_tensor *y = NULL;
    tk_run_ok(n, (const sl_tensor *const *)&x, &y, NULL);
    bool seen[50] = {false};
    int moved = 0;
    for (int r = 0; r < 50; r++) {
        int src = (int)tk_get(y, 2 * r) / 2;
        assert_false(seen[src]);
        seen[src] = true;
        assert_true(tk_get(y, 2 * r + 1) == 2 * src + 1);
        moved += src != r;
    }
    assert_true(moved > 10);
    sl_tensor_unref(y);
    sl_tensor_unref(x);
    tk_end(&tg);
}

/* Runs an Apply* op by hand: reference inputs cannot go through sl_kernel_run_node. */
static void test_optimizer_updates(void **state)
{
    (void)state;
    sl_status *st = sl_status_new();
    const char *ops[] = {"ApplyGradientDescent", "ApplyMomentum", "ApplyAdam", "ApplyAdagrad", "ApplyRMSProp"};
    const int slots[] = {1, 2, 3, 2, 3};
    for (int k = 0; k < 5; k++) {
        sl_graph *g = sl_graph_new(st);
        sl_node_builder *b = sl_node_builder_new(g, ops[k], "apply");
        sl_output refs[3];
        for (int i = 0; i < slots[k]; i++) {
            char name[16];
            snprintf(name, sizeof(name), "v%d", i);
            sl_node_builder *vb = sl_node_builder_new(g, "VariableV2", name);
            sl_node_builder_set_attr_type(vb, "dtype", SL_DTYPE_FLOAT);
            sl_shape vs = sl_shape_vector(5);
            sl_node_builder_set_attr_shape(vb, "shape", &vs);
            refs[i] = (sl_output){sl_node_builder_finish(vb, st), 0};
            assert_non_null(refs[i].node);
            sl_node_builder_add_input(b, refs[i]);
        }
        int total = sl_op_lookup(ops[k])->num_inputs;
        sl_node *ph[10];
        for (int i = slots[k]; i < total; i++) {
            char name[16];
            snprintf(name, sizeof(name), "h%d", i);
            sl_node_builder *pb = sl_node_builder_new(g, "Placeholder", name);
            sl_node_builder_set_attr_type(pb, "dtype", SL_DTYPE_FLOAT);
            ph[i] = sl_node_builder_finish(pb, st);
            sl_node_builder_add_input(b, (sl_output){ph[i], 0});
        }
        sl_node *n = sl_node_builder_finish(b, st);
        if (!n)
            fail_msg("%s: %s", ops[k], sl_status_message(st));
        const sl_kernel_def *kd = sl_kernel_lookup(n, SL_DEVICE_CPU, st);
        assert_non_null(kd);
        sl_var *vars[3];
        double ref[3][5];
        sl_kernel_value in[10] = {{0}};
        for (int i = 0; i < slots[k]; i++) {
            vars[i] = sl_var_new();
            sl_tensor *t = tk_random(SL_DTYPE_FLOAT, sl_shape_vector(5), 0.5, 1.5);
            for (int e = 0; e < 5; e++)
                ref[i][e] = tk_get(t, e);
            sl_var_lock(vars[i]);
            sl_var_set_value(vars[i], t);
            sl_var_unlock(vars[i]);
            sl_tensor_unref(t);
            in[i].var = vars[i];
        }
        double h[10];
        sl_tensor *grad = tk_random(SL_DTYPE_FLOAT, sl_shape_vector(5), -1, 1);
        int gi = k == 0 ? 2 : k == 2 ? 9 : k == 4 ? 7 : 3;
        for (int i = slots[k]; i < total; i++) {
            if (i == gi) {
                in[i].tensor = grad;
                continue;
            }
            h[i] = tk_uniform(0.1, 0.9);
            in[i].tensor = tk_scalar(SL_DTYPE_FLOAT, h[i]);
            h[i] = tk_get(in[i].tensor, 0);
        }
        sl_kernel_value out[1] = {{0}};
        sl_kernel_ctx ctx = {.node = n, .num_inputs = total, .inputs = in, .num_outputs = 1, .outputs = out, .status = st};
        atomic_init(&ctx.failed, 0);
        kd->compute(&ctx);
        if (!sl_kernel_ctx_ok(&ctx))
            fail_msg("%s: %s", ops[k], sl_status_message(st));
        assert_ptr_equal(out[0].var, vars[0]);
        for (int e = 0; e < 5; e++) {
            double gv = tk_get(grad, e), *v = &ref[0][e], *a1 = &ref[1][e], *a2 = &ref[2][e];
            switch (k) {
            case 0: *v -= h[1] * gv; break;
            case 1: *a1 = *a1 * h[4] + gv; *v -= h[2] * *a1; break;
            case 2: {
                double lr_t = h[5] * sqrt(1 - h[4]) / (1 - h[3]);
                *a1 += (gv - *a1) * (1 - h[6]);
                *a2 += (gv * gv - *a2) * (1 - h[7]);
                *v -= *a1 * lr_t / (sqrt(*a2) + h[8]);
                break;
            }
            case 3: *a1 += gv * gv; *v -= h[2] * gv / sqrt(*a1); break;
            default:
                *a1 += (gv * gv - *a1) * (1 - h[4]);
                *a2 = *a2 * h[5] + h[3] * gv / sqrt(*a1 + h[6]);
                *v -= *a2;
                break;
            }
        }
        for (int i = 0; i < slots[k]; i++) {
            sl_var_lock(vars[i]);
            tk_expect_close(sl_var_value(vars[i]), ref[i], 1e-5, 1e-6, ops[k]);
            sl_var_unlock(vars[i]);
        }
        /* an uninitialized slot is refused */
        sl_var *empty = sl_var_new();
        in[0].var = empty;
        sl_kernel_value out2[1] = {{0}};
        sl_kernel_ctx ctx2 = {.node = n, .num_inputs = total, .inputs = in, .num_outputs = 1, .outputs = out2, .status = st};
        atomic_init(&ctx2.failed, 0);
        kd->compute(&ctx2);
        assert_false(sl_kernel_ctx_ok(&ctx2));
        assert_int_equal(sl_status_code(st), SL_FAILED_PRECONDITION);
        assert_non_null(strstr(sl_status_message(st), "uninitialized value var"));
        sl_var_unref(empty);
        sl__kernel_values_release(out, 1);
        for (int i = slots[k]; i < total; i++)
            if (i != gi)
                sl_tensor_unref(in[i].tensor);
        for (int i = 0; i < slots[k]; i++)
            sl_var_unref(vars[i]);
        sl_tensor_unref(grad);
        sl_graph_free(g);
    }
    sl_status_free(st);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_reshape_and_bad_reshape),
        cmocka_unit_test(test_gather_and_out_of_range_index),
        cmocka_unit_test(test_concat_split_pack_unpack_round_trip),
        cmocka_unit_test(test_strided_slice_masks),
        cmocka_unit_test(test_transpose_tile_pad_slice),
        cmocka_unit_test(test_small_array_ops),
        cmocka_unit_test(test_dynamic_stitch),
        cmocka_unit_test(test_random_ops_deterministic_for_seeds),
        cmocka_unit_test(test_optimizer_updates),
    };
    return cmocka_run_group_tests_name("kernels-array", tests, NULL, NULL);
}
