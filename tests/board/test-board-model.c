/* The board's models without a display: smoothing against TensorBoard's
 * formula, min/max downsampling, the dataset (run discovery, colors),
 * run groups and their aggregates, distributions, export, and the graph
 * hierarchy (scopes, series, lifted edges, extraction) and its layout. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <math.h>
#include <string.h>
#include <glib/gstdio.h>

#include "board-dataset.h"
#include "board-distribution.h"
#include "board-downsample.h"
#include "board-graph-layout.h"
#include "board-graph.h"
#include "board-prefs.h"
#include "board-run-groups.h"
#include "board-smoothing.h"

/* ---- smoothing: expected values from an independent implementation of
 * TB's classicSmoothing (Python floats, same operation order) ---- */

static void
test_smoothing_matches_tensorboard (void **state)
{
    const double y[] = { 1, 3, 2, 5, 4, 10, -2, 0.5 };
    const double want06[] = { 1, 2.25, 2.1224489795918369, 3.4448529411764706,
                              3.6856349757113116, 6.33498925886144, 2.9049751112749869,
                              1.9265513039493414 };
    const double want095[] = { 1, 2.0256410256410269, 2.0166520595968449, 2.820816065231309,
                               3.0814448384516662, 4.387285414240635, 3.3286054164266421,
                               2.9084067948555399 };
    double out[8];
    board_smooth_ema (y, 8, 0.6, out);
    for (int i = 0; i < 8; i++)
        assert_true (out[i] == want06[i]);   /* bit for bit */
    board_smooth_ema (y, 8, 0.95, out);
    for (int i = 0; i < 8; i++)
        assert_true (out[i] == want095[i]);
}

/* Long series: the same bits as TensorBoard's loop, which calls pow()
 * for every point (the board stops once 1 - s^k is exactly 1). */
static void
test_smoothing_long_series_bit_exact (void **state)
{
    enum { N = 200000 };
    double *y = g_new (double, N), *out = g_new (double, N);
    for (int i = 0; i < N; i++)
        y[i] = (i % 977 == 0) ? NAN : sin (i * 0.37) + i * 1e-5;
    const double weights[] = { 0.1, 0.6, 0.9, 0.99, 0.999, 0.9999 };
    for (guint w = 0; w < G_N_ELEMENTS (weights); w++) {
        double s = weights[w];
        board_smooth_ema (y, N, s, out);
        double last = 0;
        int k = 0;
        for (int i = 0; i < N; i++) {
            if (!isfinite (y[i])) {
                assert_true (isnan (out[i]));
                continue;
            }
            last = last * s + (1 - s) * y[i];
            k++;
            double ref = last / (1 - pow (s, k));
            assert_true (memcmp (&ref, &out[i], sizeof ref) == 0);
        }
    }
    g_free (y);
    g_free (out);
}

static void
test_smoothing_nan_points_pass_through (void **state)
{
    const double y[] = { 1, NAN, 3, INFINITY, 2 };
    double out[5];
    board_smooth_ema (y, 5, 0.6, out);
    assert_true (out[0] == 1);
    assert_true (isnan (out[1]));
    assert_true (out[2] == 2.25);          /* the NaN did not count */
    assert_true (isinf (out[3]) && out[3] > 0);
    assert_true (out[4] == 2.1224489795918369);
}

static void
test_smoothing_constant_series_unsmoothed (void **state)
{
    const double y[] = { 0.7, 0.7, 0.7, 0.7 };
    double out[4];
    board_smooth_ema (y, 4, 0.99, out);
    for (int i = 0; i < 4; i++)
        assert_true (out[i] == 0.7);
}

static void
test_smoothing_edges_of_weight (void **state)
{
    const double y[] = { 1, 2, 3 };
    double out[3];
    board_smooth_ema (y, 3, 0, out);     /* copy */
    assert_true (out[0] == 1 && out[1] == 2 && out[2] == 3);
    board_smooth_ema (y, 3, -5, out);    /* clamped to 0 */
    assert_true (out[2] == 3);
    board_smooth_ema (y, 3, 1, out);     /* TB: no debias, stays at 0 */
    assert_true (out[0] == 0 && out[1] == 0 && out[2] == 0);
    board_smooth_ema (y, 3, 7, out);     /* clamped to 1 */
    assert_true (out[2] == 0);
    double in_place[] = { 1, 3 };
    board_smooth_ema (in_place, 2, 0.6, in_place);
    assert_true (in_place[1] == 2.25);
    board_smooth_ema (NULL, 0, 0.6, NULL);
}

/* ---- downsampling ---- */

static void
test_downsample_keeps_extremes (void **state)
{
    enum { N = 100000 };
    double *x = g_new (double, N), *y = g_new (double, N);
    for (int i = 0; i < N; i++) {
        x[i] = i;
        y[i] = sin (i * 0.001);
    }
    y[31337] = 1e6;    /* a one-point spike */
    y[77777] = -1e6;   /* and a dip */
    BoardXY out[BOARD_DOWNSAMPLE_MAX_OUT (300)];
    size_t n = board_downsample_minmax (x, y, N, 0, N, 300, out);
    assert_true (n <= BOARD_DOWNSAMPLE_MAX_OUT (300));
    assert_true (n >= 300);
    gboolean spike = FALSE, dip = FALSE;
    for (size_t i = 0; i < n; i++) {
        spike |= out[i].x == 31337 && out[i].y == 1e6;
        dip |= out[i].x == 77777 && out[i].y == -1e6;
        if (i)
            assert_true (out[i].x > out[i - 1].x);   /* order kept */
    }
    assert_true (spike && dip);
    assert_true (out[0].x == 0 && out[n - 1].x == N - 1);

    /* a zoomed window: one point on each side to draw lines to the edges */
    n = board_downsample_minmax (x, y, N, 1000.5, 2000.5, 100, out);
    assert_true (out[0].x == 1000 && out[n - 1].x == 2001);

    /* NaN points are dropped, never drawn */
    y[5] = NAN;
    n = board_downsample_minmax (x, y, 10, 0, 10, 10, out);
    assert_int_equal (n, 9);
    g_free (x);
    g_free (y);
}

/* The pyramid gives exactly the points of the plain walk: random
 * series (with ties, steps of uneven spacing, a spike), zoomed anywhere,
 * any number of columns; and it falls back to the walk with a NaN. */
static void
test_downsample_pyramid_matches_walk (void **state)
{
    GRand *rand = g_rand_new_with_seed (7);
    BoardXY *a = g_new (BoardXY, BOARD_DOWNSAMPLE_MAX_OUT (2000));
    BoardXY *b = g_new (BoardXY, BOARD_DOWNSAMPLE_MAX_OUT (2000));
    const size_t sizes[] = { 1, 2, 7, 8, 9, 15, 16, 17, 100, 1000, 4097, 100000 };
    for (guint si = 0; si < G_N_ELEMENTS (sizes); si++) {
        size_t n = sizes[si];
        double *x = g_new (double, n), *y = g_new (double, n);
        double t = 0;
        for (size_t i = 0; i < n; i++) {
            t += g_rand_int_range (rand, 0, 4) == 0 ? 0 : g_rand_double_range (rand, 0.1, 3);
            x[i] = t;   /* repeated x too */
            y[i] = (si & 1) ? floor (g_rand_double_range (rand, 0, 5))   /* many ties */
                            : sin (i * 0.01) + g_rand_double_range (rand, -0.1, 0.1);
        }
        if (n > 50)
            y[n / 3] = 1e6;
        BoardMinMaxPyramid *p = board_minmax_pyramid_new (x, y, n);
        assert_int_equal (board_minmax_pyramid_count (p), n);
        for (int trial = 0; trial < 60; trial++) {
            int columns = trial == 0 ? 300 : g_rand_int_range (rand, 1, 2000);
            double x0 = trial < 2 ? x[0] : g_rand_double_range (rand, -5, t + 5);
            double x1 = trial < 2 ? x[n - 1] + 1e-9 : x0 + g_rand_double_range (rand, 0.01, t + 10);
            size_t na = board_downsample_minmax (x, y, n, x0, x1, columns, a);
            size_t nb = board_downsample_minmax_pyramid (x, y, n, p, x0, x1, columns, b);
            assert_int_equal (na, nb);
            for (size_t k = 0; k < na; k++)
                assert_true (a[k].x == b[k].x && a[k].y == b[k].y);
        }
        board_minmax_pyramid_free (p);
        /* not finite: the walk, NaN dropped */
        if (n >= 10) {
            y[5] = NAN;
            p = board_minmax_pyramid_new (x, y, n);
            size_t na = board_downsample_minmax (x, y, n, x[0], x[n - 1], 50, a);
            size_t nb = board_downsample_minmax_pyramid (x, y, n, p, x[0], x[n - 1], 50, b);
            assert_int_equal (na, nb);
            for (size_t k = 0; k < na; k++)
                assert_true (a[k].x == b[k].x && a[k].y == b[k].y);
            board_minmax_pyramid_free (p);
        }
        g_free (x);
        g_free (y);
    }
    g_free (a);
    g_free (b);
    g_rand_free (rand);
}

static void
test_downsample_small_series_is_identity (void **state)
{
    const double x[] = { 0, 1, 2, 3 }, y[] = { 5, -1, 7, 2 };
    BoardXY out[BOARD_DOWNSAMPLE_MAX_OUT (100)];
    size_t n = board_downsample_minmax (x, y, 4, 0, 4, 100, out);
    assert_int_equal (n, 4);
    for (int i = 0; i < 4; i++)
        assert_true (out[i].x == x[i] && out[i].y == y[i]);
    assert_int_equal (board_downsample_minmax (x, y, 4, 1, 1, 100, out), 0);
}

/* ---- dataset: runs found live, colors, tags, errors ---- */

static void
count_signal (gpointer ds, gpointer arg, gpointer user_data)
{
    (*(int *) user_data)++;
}

static BoardUpdate *
scalar_update (const char *run, const char *tag, int first, int n, gboolean replace)
{
    BoardUpdate *u = board_update_new ();
    board_update_add_run (u, run, run, 1000.0);
    BoardSeriesDelta *d = board_update_add_delta (u, run, tag, BOARD_KIND_SCALAR, "scalars",
                                                  replace);
    for (int i = first; i < first + n; i++) {
        gint64 step = i;
        double wall = 1000.0 + i, v = i * 0.5;
        g_array_append_val (d->steps, step);
        g_array_append_val (d->wall, wall);
        g_array_append_val (d->values, v);
    }
    return u;
}

/* Remembered settings: saved and read back; bad values and a damaged
 * file leave the defaults; a missing file is no error. */
static void
test_prefs_round_trip (void **state)
{
    char *dir = g_dir_make_tmp ("board-prefs-XXXXXX", NULL);
    assert_non_null (dir);
    char *path = g_build_filename (dir, "sluice", "board.ini", NULL);
    BoardChartSettings *s = board_chart_settings_new ();
    BoardDataset *ds = board_dataset_new ();
    assert_true (board_prefs_load (path, s, ds, NULL));   /* missing: defaults */
    assert_true (fabs (board_chart_settings_get_smoothing (s) - 0.6) < 1e-9);
    board_chart_settings_set_smoothing (s, 0.85);
    board_chart_settings_set_x_axis (s, BOARD_X_RELATIVE);
    board_chart_settings_set_log_y (s, TRUE);
    board_dataset_set_run_color (ds, "lr0.1/seed1", 0xabcdef);
    assert_true (board_prefs_save (path, s, ds, NULL));

    BoardChartSettings *s2 = board_chart_settings_new ();
    BoardDataset *ds2 = board_dataset_new ();
    assert_true (board_prefs_load (path, s2, ds2, NULL));
    assert_true (fabs (board_chart_settings_get_smoothing (s2) - 0.85) < 1e-9);
    assert_int_equal (board_chart_settings_get_x_axis (s2), BOARD_X_RELATIVE);
    assert_true (board_chart_settings_get_log_y (s2));
    assert_false (board_chart_settings_get_log_x (s2));
    assert_int_equal (GPOINTER_TO_UINT (g_hash_table_lookup (board_dataset_get_run_colors (ds2),
                                                             "lr0.1/seed1")), 0xabcdef);

    /* bad values are skipped, the rest applied */
    g_assert_true (g_file_set_contents (path, "[scalars]\nsmoothing=7\nx-axis=sideways\n"
                                        "log-x=maybe\nlog-y=true\n[colors]\nx=red\n", -1, NULL));
    BoardChartSettings *s3 = board_chart_settings_new ();
    BoardDataset *ds3 = board_dataset_new ();
    assert_true (board_prefs_load (path, s3, ds3, NULL));
    assert_true (fabs (board_chart_settings_get_smoothing (s3) - 0.6) < 1e-9);
    assert_int_equal (board_chart_settings_get_x_axis (s3), BOARD_X_STEP);
    assert_false (board_chart_settings_get_log_x (s3));
    assert_true (board_chart_settings_get_log_y (s3));
    assert_int_equal (g_hash_table_size (board_dataset_get_run_colors (ds3)), 0);
    /* a damaged file: an error, the defaults kept */
    g_assert_true (g_file_set_contents (path, "smoothing = 0.1 without a group\n", -1, NULL));
    GError *error = NULL;
    assert_false (board_prefs_load (path, s3, ds3, &error));
    assert_non_null (error);
    g_error_free (error);

    g_object_unref (s);
    g_object_unref (s2);
    g_object_unref (s3);
    g_object_unref (ds);
    g_object_unref (ds2);
    g_object_unref (ds3);
    g_unlink (path);
    char *sub = g_path_get_dirname (path);
    g_rmdir (sub);
    g_rmdir (dir);
    g_free (sub);
    g_free (path);
    g_free (dir);
}

static void
test_dataset_discovers_runs_and_appends (void **state)
{
    BoardDataset *ds = board_dataset_new ();
    int added = 0, tags = 0;
    g_signal_connect (ds, "run-added", G_CALLBACK (count_signal), &added);
    g_signal_connect (ds, "tags-changed", G_CALLBACK (count_signal), &tags);

    board_dataset_apply (ds, scalar_update ("b_run", "loss", 0, 10, FALSE));
    board_dataset_apply (ds, scalar_update ("a_run", "loss", 0, 5, FALSE));
    board_dataset_apply (ds, scalar_update ("a_run", "loss", 5, 5, FALSE));
    assert_int_equal (added, 2);
    assert_int_equal (tags, 1);
    GListModel *runs = board_dataset_get_runs (ds);
    assert_int_equal (g_list_model_get_n_items (runs), 2);
    BoardRun *first = g_list_model_get_item (runs, 0);
    assert_string_equal (board_run_get_name (first), "a_run");   /* name order */
    BoardSeries *s = board_run_get_series (first, "loss");
    assert_int_equal (board_series_count (s), 10);
    assert_true (g_array_index (s->values, double, 9) == 4.5);
    assert_int_equal (board_dataset_get_point_count (ds), 20);

    /* a replaced series (a restart rewrote its tail) */
    board_dataset_apply (ds, scalar_update ("a_run", "loss", 0, 3, TRUE));
    assert_int_equal (board_series_count (s), 3);
    assert_int_equal (board_dataset_get_point_count (ds), 13);

    /* colors: stable by name, distinct while the palette lasts */
    BoardRun *second = g_list_model_get_item (runs, 1);
    assert_int_not_equal (board_run_get_color (first), board_run_get_color (second));
    int slot = board_palette_slot_for_name ("a_run", 0);
    assert_int_equal (board_palette_slot_for_name ("a_run", 0), slot);
    assert_int_not_equal (board_palette_slot_for_name ("a_run", 1u << slot), slot);
    board_dataset_set_run_color (ds, "a_run", 0x123456);
    assert_int_equal (board_run_get_color (first), 0x123456);

    GPtrArray *t = board_dataset_tags (ds, BOARD_KIND_SCALAR);
    assert_int_equal (t->len, 1);
    assert_string_equal (g_ptr_array_index (t, 0), "loss");
    g_ptr_array_unref (t);

    /* damage is reported per file, and cleared */
    int errs = 0;
    g_signal_connect (ds, "errors-changed", G_CALLBACK (count_signal), &errs);
    BoardUpdate *u = board_update_new ();
    board_update_add_error (u, "/logs/a_run/events.out.tfevents.1", "bad crc at offset 96");
    board_dataset_apply (ds, u);
    assert_int_equal (errs, 1);
    assert_string_equal (g_hash_table_lookup (board_dataset_get_errors (ds),
                                              "/logs/a_run/events.out.tfevents.1"),
                         "bad crc at offset 96");
    g_object_unref (second);
    g_object_unref (first);
    g_object_unref (ds);
}

static void
test_series_export_csv_json (void **state)
{
    BoardSeries *s = board_series_new ("loss", BOARD_KIND_SCALAR, "scalars");
    const gint64 steps[] = { 0, 10, 20 };
    const double walls[] = { 1622543341.5, 1622543342.25, 1622543343 };
    const double values[] = { 0.1, NAN, 1e-30 };
    board_series_append_scalars (s, steps, walls, values, 3);
    GString *csv = g_string_new (NULL), *json = g_string_new (NULL);
    board_series_write_csv (s, csv);
    board_series_write_json (s, json);
    assert_string_equal (csv->str, "Wall time,Step,Value\n"
                                   "1622543341.5,0,0.10000000000000001\n"
                                   "1622543342.25,10,nan\n"
                                   "1622543343,20,1.0000000000000001e-30\n");
    assert_string_equal (json->str, "[[1622543341.5,0,0.10000000000000001],"
                                    "[1622543342.25,10,null],"
                                    "[1622543343,20,1.0000000000000001e-30]]\n");
    /* the smoothed cache follows the points */
    const double *sm = board_series_smoothed (s, 0.6);
    assert_true (fabs (sm[0] - 0.1) < 1e-16 && isnan (sm[1]));
    const double more[] = { 0.3 };
    const gint64 st4[] = { 30 };
    board_series_append_scalars (s, st4, walls, more, 1);
    sm = board_series_smoothed (s, 0.6);
    assert_true (isfinite (sm[3]));
    const double *rel = board_series_x (s, BOARD_X_RELATIVE, 1622543341.0);
    assert_true (rel[0] == 0.5);
    g_string_free (csv, TRUE);
    g_string_free (json, TRUE);
    board_series_free (s);

    char *g = board_tag_group ("train/loss/total");
    assert_string_equal (g, "train");
    g_free (g);
    g = board_tag_group ("accuracy");
    assert_string_equal (g, "accuracy");
    g_free (g);
}

/* ---- run groups ---- */

static void
test_run_group_keys (void **state)
{
    struct { const char *name, *want; } prefix[] = {
        { "lr0.1/seed3", "lr0.1" }, { "a/b/c", "a/b" }, { "run_seed-3", "run" },
        { "exp_2", "exp" }, { "baseline", NULL }, { "42", NULL },
    };
    for (size_t i = 0; i < G_N_ELEMENTS (prefix); i++) {
        char *k = board_run_group_key (prefix[i].name, BOARD_GROUP_PREFIX, NULL);
        assert_string_equal (k ? k : "(none)", prefix[i].want ? prefix[i].want : "(none)");
        g_free (k);
    }
    GRegex *re = g_regex_new ("lr=([0-9.]+)", 0, 0, NULL);
    char *k = board_run_group_key ("adam,lr=0.01,seed=1", BOARD_GROUP_REGEX, re);
    assert_string_equal (k, "0.01");
    g_free (k);
    assert_null (board_run_group_key ("sgd", BOARD_GROUP_REGEX, re));
    g_regex_unref (re);
    re = g_regex_new ("^[a-z]+", 0, 0, NULL);
    k = board_run_group_key ("adam7", BOARD_GROUP_REGEX, re);
    assert_string_equal (k, "adam");
    g_free (k);
    g_regex_unref (re);
    assert_null (board_run_group_key ("x_1", BOARD_GROUP_NONE, NULL));
}

static void
test_aggregate_mean_min_max_std (void **state)
{
    const double s1[] = { 0, 1, 2, 3 }, v1[] = { 1, 2, 3, 4 };
    const double s2[] = { 0, 2, 4 }, v2[] = { 3, 5, 7 };   /* step 1, 3 interpolated */
    const double s3[] = { 0, 1 }, v3[] = { 2, NAN };
    BoardAggInput in[] = { { s1, v1, 4 }, { s2, v2, 3 }, { s3, v3, 2 } };
    BoardAggregate *a = board_aggregate (in, 3);
    assert_int_equal (a->n, 5);   /* steps 0..4 */
    /* step 0: 1, 3, 2 */
    assert_true (a->steps[0] == 0 && a->mean[0] == 2 && a->min[0] == 1 && a->max[0] == 3);
    assert_true (fabs (a->std[0] - sqrt (2.0 / 3.0)) < 1e-15);
    assert_int_equal (a->count[0], 3);
    /* step 1: 2 and 4 (interpolated); run 3's NaN is not a value */
    assert_true (a->mean[1] == 3 && a->count[1] == 2);
    /* step 3: 4 and 6 */
    assert_true (a->mean[3] == 5 && a->min[3] == 4 && a->max[3] == 6 && a->std[3] == 1);
    /* step 4: only run 2 has reached it */
    assert_true (a->mean[4] == 7 && a->count[4] == 1 && a->std[4] == 0);
    board_aggregate_free (a);
    a = board_aggregate (NULL, 0);
    assert_int_equal (a->n, 0);
    board_aggregate_free (a);
}

/* ---- distributions: expected values from TB's compressor, re-run in
 * Python on the same buckets ---- */

static void
test_distribution_matches_tensorboard (void **state)
{
    const double b1[] = { 0, 1, 2, 1, 2, 0, 2, 3, 5, 3, 4, 3, 4, 5, 0 };
    const double want1[] = { 0, 0.33400000000000002, 0.79349999999999998, 2.2170000000000001,
                             2.6000000000000001, 2.9830000000000001, 3.4710000000000001,
                             3.7773333333333334, 5 };
    const double b2[] = { -1, 0.5, 10, 0.5, 2, 30, 2, 3, 1 };
    const double want2[] = { -1, -0.58918000000000004, -0.023994999999999989,
                             0.63242500000000001, 1.0249999999999999, 1.417575,
                             1.7246650000000001, 1.91306, 3 };
    double out[BOARD_DISTRIBUTION_BPS];
    board_distribution_compress (b1, 5, out);
    for (int i = 0; i < BOARD_DISTRIBUTION_BPS; i++)
        assert_true (fabs (out[i] - want1[i]) <= 1e-15 * MAX (1, fabs (want1[i])));
    board_distribution_compress (b2, 3, out);
    for (int i = 0; i < BOARD_DISTRIBUTION_BPS; i++)
        assert_true (fabs (out[i] - want2[i]) <= 1e-15 * MAX (1, fabs (want2[i])));
    board_distribution_compress (NULL, 0, out);
    assert_true (out[4] == 0);
    assert_int_equal (board_distribution_basis_points ()[4], 5000);
}

/* ---- graph hierarchy ---- */

static const char graph_text[] =
    "node { name: 'x' op: 'Placeholder' device: '/job:localhost/replica:0/task:0/device:CPU:0' }\n"
    "node { name: 'layer1/w' op: 'Const' }\n"
    "node { name: 'layer1/MatMul' op: 'MatMul' input: 'x' input: 'layer1/w' }\n"
    "node { name: 'layer1/Relu' op: 'Relu' input: 'layer1/MatMul:0' }\n"
    "node { name: 'layer2/MatMul' op: 'MatMul' input: 'layer1/Relu' input: '^init' }\n"
    "node { name: 'add' op: 'AddV2' input: 'layer2/MatMul' input: 'x' }\n"
    "node { name: 'add_1' op: 'AddV2' input: 'add' }\n"
    "node { name: 'add_2' op: 'AddV2' input: 'add_1' }\n"
    "node { name: 'add_3' op: 'AddV2' input: 'add_2' }\n"
    "node { name: 'add_4' op: 'AddV2' input: 'add_3' }\n"
    "node { name: 'add_6' op: 'AddV2' input: 'add_4' }\n"
    "node { name: 'mul_1' op: 'Mul' input: 'add_6' }\n"
    "node { name: 'mul_2' op: 'Mul' input: 'mul_1' }\n"
    "node { name: 'init' op: 'NoOp' }\n"
    "node { name: 'scope' op: 'Identity' input: 'scope/inner' }\n"
    "node { name: 'scope/inner' op: 'Const' }\n";

static BoardGraphNode *
child_named (BoardGraphNode *g, const char *label)
{
    for (guint i = 0; i < g->children->len; i++) {
        BoardGraphNode *c = g_ptr_array_index (g->children, i);
        if (strcmp (c->label, label) == 0)
            return c;
    }
    return NULL;
}

static gboolean
has_edge (BoardGraphNode *g, BoardGraphNode *a, BoardGraphNode *b, gboolean control)
{
    for (guint i = 0; i < g->edges->len; i++) {
        BoardGraphEdge *e = &g_array_index (g->edges, BoardGraphEdge, i);
        if (e->from == a->index && e->to == b->index && e->control == control)
            return TRUE;
    }
    return FALSE;
}

static void
test_graph_hierarchy_and_series (void **state)
{
    GError *error = NULL;
    BoardGraph *g = board_graph_new_from_data (graph_text, sizeof graph_text - 1, TRUE, "t",
                                               &error);
    assert_non_null (g);
    BoardGraphNode *root = g->root;
    BoardGraphNode *layer1 = child_named (root, "layer1");
    assert_non_null (layer1);
    assert_int_equal (layer1->type, BOARD_GRAPH_SCOPE);
    assert_int_equal (layer1->n_ops, 3);
    /* add, add_1..add_4 are five consecutive numbers: a series; add_6
     * breaks the run and stays alone; mul_1, mul_2 are too few */
    BoardGraphNode *series = child_named (root, "add_[0-4]");
    assert_non_null (series);
    assert_int_equal (series->type, BOARD_GRAPH_SERIES);
    assert_int_equal (series->children->len, 5);
    assert_string_equal (series->op, "AddV2");
    assert_non_null (child_named (root, "add_6"));
    assert_non_null (child_named (root, "mul_1"));
    assert_int_equal (g->n_series, 1);
    /* an op named like a scope goes inside the scope */
    BoardGraphNode *scope = child_named (root, "scope");
    assert_int_equal (scope->type, BOARD_GRAPH_SCOPE);
    assert_int_equal (scope->children->len, 2);

    /* lifted edges: x -> layer1/MatMul is x -> layer1 at the root;
     * layer1/MatMul -> layer1/Relu stays inside layer1 */
    BoardGraphNode *x = child_named (root, "x");
    assert_true (has_edge (root, x, layer1, FALSE));
    assert_true (has_edge (layer1, child_named (layer1, "MatMul"),
                           child_named (layer1, "Relu"), FALSE));
    BoardGraphNode *layer2 = child_named (root, "layer2");
    assert_true (has_edge (root, child_named (root, "init"), layer2, TRUE));
    assert_true (has_edge (root, layer2, series, FALSE));
    /* edges inside the series: add -> add_1 ... */
    assert_int_equal (series->edges->len, 4);
    /* the edge inside the "scope" scope, from its const to the op */
    assert_int_equal (scope->edges->len, 1);

    /* devices, search, consumers, reveal */
    char *dev = board_graph_short_device (x->device);
    assert_string_equal (dev, "CPU:0");
    g_free (dev);
    GRegex *re = g_regex_new ("MatMul", 0, 0, NULL);
    GPtrArray *hits = board_graph_search (g, re, 0);
    assert_int_equal (hits->len, 2);
    BoardGraphNode *mm = g_ptr_array_index (hits, 1);
    assert_ptr_equal (board_graph_visible_ancestor (mm), layer2);
    board_graph_reveal (g, mm);
    assert_true (layer2->expanded);
    assert_ptr_equal (board_graph_visible_ancestor (mm), mm);
    g_ptr_array_unref (hits);
    g_regex_unref (re);
    GPtrArray *cons = board_graph_consumers (g, board_graph_find_op (g, "x"));
    assert_int_equal (cons->len, 2);
    g_ptr_array_unref (cons);
    board_graph_free (g);
}

static void
test_graph_high_degree_extraction (void **state)
{
    /* a star: 'hub' feeds 30 chains; it is set aside */
    GString *t = g_string_new ("node { name: 'hub' op: 'Const' }\n");
    for (int i = 0; i < 30; i++) {
        g_string_append_printf (t, "node { name: 'a%d' op: 'Neg' input: 'hub' }\n", i);
        g_string_append_printf (t, "node { name: 'b%d' op: 'Exp' input: 'a%d' }\n", i, i);
    }
    BoardGraph *g = board_graph_new_from_data (t->str, t->len, TRUE, "star", NULL);
    assert_non_null (g);
    BoardGraphNode *hub = child_named (g->root, "hub");
    assert_true (hub->extracted);
    assert_int_equal (hub->out_degree, 30);
    assert_false (child_named (g->root, "a0")->extracted);
    assert_int_equal (g->n_extracted, 1);

    /* the layout puts the hub beside the rest, and every other node
     * somewhere inside the root's box */
    GHashTable *exp = board_graph_expanded_set (g->root);
    board_graph_layout_apply (board_graph_layout_compute (g->root, exp, FALSE));
    g_hash_table_unref (exp);
    double max_right = 0;
    for (guint i = 0; i < g->root->children->len; i++) {
        BoardGraphNode *c = g_ptr_array_index (g->root->children, i);
        assert_true (c->x >= 0 && c->y >= 0);
        assert_true (c->x + c->w <= g->root->w + 0.01);
        assert_true (c->y + c->h <= g->root->h + 0.01);
        if (c != hub)
            max_right = MAX (max_right, c->x + c->w);
    }
    assert_true (hub->x >= max_right);
    g_string_free (t, TRUE);
    board_graph_free (g);
}

static void
test_graph_layout_expanded_groups (void **state)
{
    BoardGraph *g = board_graph_new_from_data (graph_text, sizeof graph_text - 1, TRUE, "t",
                                               NULL);
    BoardGraphNode *layer1 = child_named (g->root, "layer1");
    for (int quick = 0; quick < 2; quick++) {
        layer1->expanded = FALSE;
        GHashTable *exp = board_graph_expanded_set (g->root);
        board_graph_layout_apply (board_graph_layout_compute (g->root, exp, quick));
        g_hash_table_unref (exp);
        double collapsed_w = layer1->w, collapsed_h = layer1->h;
        layer1->expanded = TRUE;
        exp = board_graph_expanded_set (g->root);
        BoardGraphLayoutResult *r = board_graph_layout_compute (g->root, exp, quick);
        assert_int_equal (board_graph_layout_result_is_final (r), !quick);
        board_graph_layout_apply (r);
        g_hash_table_unref (exp);
        assert_true (layer1->laid_out);
        assert_true (layer1->w * layer1->h > collapsed_w * collapsed_h);
        /* its children fit in it, below its label band */
        for (guint i = 0; i < layer1->children->len; i++) {
            BoardGraphNode *c = g_ptr_array_index (layer1->children, i);
            assert_true (c->y >= BOARD_GRAPH_HEADER - 0.01);
            assert_true (c->x + c->w <= layer1->w + 0.01);
        }
        assert_int_equal (layer1->edge_paths->len, layer1->edges->len);
        assert_non_null (g_ptr_array_index (layer1->edge_paths, 0));
    }
    board_graph_free (g);
}

/* ---- real graphs from the fixtures ---- */

static void
test_graph_fixtures (void **state)
{
    const char *files[] = { "tensorboard_demo_mlp_graph.pbtxt", "tf2onnx_mnist_lstm_frozen.pb",
                            "tfrust_regression_model.pb" };
    const int nodes[] = { 118, 529, 95 };
    for (size_t i = 0; i < G_N_ELEMENTS (files); i++) {
        char *path = g_build_filename (BOARD_FIXTURES_DIR, "graphs", files[i], NULL);
        GError *error = NULL;
        BoardGraph *g = board_graph_new_from_file (path, &error);
        if (!g)
            fail_msg ("%s: %s", path, error->message);
        assert_int_equal (g->ops->len, nodes[i]);
        assert_int_equal (g->root->n_ops, nodes[i]);
        GHashTable *exp = board_graph_expanded_set (g->root);
        board_graph_layout_apply (board_graph_layout_compute (g->root, exp, FALSE));
        g_hash_table_unref (exp);
        assert_true (g->root->w > 0 && g->root->h > 0);
        board_graph_free (g);
        g_free (path);
    }
}

int
main (int argc, char **argv)
{
    if (argc > 1 && strcmp (argv[1], "fixtures") == 0) {
        if (!g_file_test (BOARD_FIXTURES_DIR "/graphs", G_FILE_TEST_IS_DIR))
            return 77;
        const struct CMUnitTest fx[] = { cmocka_unit_test (test_graph_fixtures) };
        return cmocka_run_group_tests_name ("board-model-fixtures", fx, NULL, NULL);
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_smoothing_matches_tensorboard),
        cmocka_unit_test (test_smoothing_nan_points_pass_through),
        cmocka_unit_test (test_smoothing_long_series_bit_exact),
        cmocka_unit_test (test_smoothing_constant_series_unsmoothed),
        cmocka_unit_test (test_smoothing_edges_of_weight),
        cmocka_unit_test (test_downsample_keeps_extremes),
        cmocka_unit_test (test_downsample_small_series_is_identity),
        cmocka_unit_test (test_downsample_pyramid_matches_walk),
        cmocka_unit_test (test_dataset_discovers_runs_and_appends),
        cmocka_unit_test (test_prefs_round_trip),
        cmocka_unit_test (test_series_export_csv_json),
        cmocka_unit_test (test_run_group_keys),
        cmocka_unit_test (test_aggregate_mean_min_max_std),
        cmocka_unit_test (test_distribution_matches_tensorboard),
        cmocka_unit_test (test_graph_hierarchy_and_series),
        cmocka_unit_test (test_graph_high_degree_extraction),
        cmocka_unit_test (test_graph_layout_expanded_groups),
    };
    return cmocka_run_group_tests_name ("board-model", tests, NULL, NULL);
}
