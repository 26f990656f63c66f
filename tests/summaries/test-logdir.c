/* Tests of summaries/logdir.c, walk.c and sample.c on logdirs built here:
 * TB's run discovery (nested runs, the root as ".", non-event files
 * ignored), every file of a run read and merged in name order, growing
 * files, damaged files (earlier events kept, error with file and offset),
 * and every writer convention of FORMATS.md §2 (legacy simple_value,
 * histo and image; TF2 tensors in tensor_content and in *_val; metadata
 * only on a tag's first value; no file_version; empty files). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "event.pb-c.h"
#include "helpers.h"
#include "sluice/alloc.h"
#include "sluice/status.h"
#include "sluice/summaries/logdir.h"
#include "sluice/summaries/reader.h"
#include "sluice/summaries/record.h"
#include "sluice/summaries/writer.h"

typedef struct fixture {
    char *dir;
    sl_status *st;
} fixture;

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof(*f));
    f->dir = th_mkdtemp();
    f->st = sl_status_new();
    *state = f;
    return f->dir ? 0 : -1;
}

static int teardown(void **state)
{
    fixture *f = *state;
    th_rmtree(f->dir);
    free(f->dir);
    sl_status_free(f->st);
    free(f);
    return 0;
}

static char *mkpath(fixture *f, const char *rel)
{
    char *p = th_join(f->dir, rel);
    char *copy = strdup(p);
    for (char *s = copy + strlen(f->dir) + 1; *s; s++)
        if (*s == '/') {
            *s = '\0';
            mkdir(copy, 0777);
            *s = '/';
        }
    free(copy);
    return p;
}

/* Writes scalars "<tag>" at steps [from, to) into a new file in `rel`. */
static void write_scalars(fixture *f, const char *rel, const char *tag, int from, int to)
{
    char *dir = mkpath(f, rel);
    mkdir(dir, 0777);
    sl_summary_writer *w = sl_summary_writer_open(dir, NULL, f->st);
    assert_non_null(w);
    for (int s = from; s < to; s++)
        assert_int_equal(sl_summary_writer_add_scalar(w, tag, (float)s, s, 0, f->st), SL_OK);
    assert_int_equal(sl_summary_writer_close(w, f->st), SL_OK);
    free(dir);
}

/* Appends Event{step, wall_time, summary{value}} as a record to `path`. */
static void append_value(const char *path, Tensorflow__Summary__Value *v, int64_t step)
{
    Tensorflow__Summary__Value *vp = v;
    Tensorflow__Summary s = TENSORFLOW__SUMMARY__INIT;
    s.n_value = 1;
    s.value = &vp;
    Tensorflow__Event ev = TENSORFLOW__EVENT__INIT;
    ev.wall_time = 1600000000.0 + (double)step;
    ev.step = step;
    ev.what_case = TENSORFLOW__EVENT__WHAT_SUMMARY;
    ev.summary = &s;
    size_t n = tensorflow__event__get_packed_size(&ev);
    uint8_t *buf = malloc(n + 16);
    sl_record_encode_header(buf, n);
    tensorflow__event__pack(&ev, buf + 12);
    sl_record_encode_footer(buf + 12 + n, buf + 12, n);
    assert_true(th_write_file(path, buf, n + 16, true));
    free(buf);
}

static void test_logdir_discovers_runs_like_tb(void **state)
{
    fixture *f = *state;
    write_scalars(f, ".", "root", 0, 2);
    write_scalars(f, "run", "a", 0, 3);
    write_scalars(f, "run/scalar/scalars_test/xcosx", "b", 0, 4); /* PyTorch add_scalars layout */
    write_scalars(f, "run/scalar/scalars_test/xsinx", "b", 0, 5);
    write_scalars(f, "deep/er/still", "c", 0, 1);
    char *empty_dir = mkpath(f, "nothing/here");
    mkdir(empty_dir, 0777);
    char *other = mkpath(f, "nothing/notes.txt");
    assert_true(th_write_file(other, "hello", 5, false));

    sl_logdir *ld = sl_logdir_open(f->dir, f->st);
    assert_non_null(ld);
    assert_int_equal(sl_logdir_reload(ld, NULL, f->st), SL_OK);
    const char *want[] = {".", "deep/er/still", "run", "run/scalar/scalars_test/xcosx",
                          "run/scalar/scalars_test/xsinx"};
    const size_t counts[] = {2, 1, 3, 4, 5};
    assert_int_equal(sl_logdir_run_count(ld), 5);
    for (size_t i = 0; i < 5; i++) {
        sl_run *r = sl_logdir_run(ld, i);
        assert_string_equal(sl_run_name(r), want[i]);
        assert_ptr_equal(sl_logdir_find_run(ld, want[i]), r);
        assert_int_equal(sl_run_series_count(r), 1);
        assert_int_equal(sl_series_count(sl_run_series(r, 0)), counts[i]);
        assert_int_equal(sl_run_file_count(r), 1);
        assert_null(sl_run_file_error(r, 0));
        assert_false(isnan(sl_run_start_time(r)));
    }
    assert_null(sl_logdir_find_run(ld, "nothing"));
    assert_null(sl_logdir_find_run(ld, "nothing/here"));
    /* a second reload finds nothing new */
    sl_logdir_reload_stats rs;
    assert_int_equal(sl_logdir_reload(ld, &rs, f->st), SL_OK);
    assert_int_equal(rs.new_runs, 0);
    assert_int_equal(rs.events, 0);
    assert_int_equal(rs.points, 0);
    /* a new run appears */
    write_scalars(f, "late", "d", 0, 2);
    assert_int_equal(sl_logdir_reload(ld, &rs, f->st), SL_OK);
    assert_int_equal(rs.new_runs, 1);
    assert_int_equal(rs.points, 2);
    assert_non_null(sl_logdir_find_run(ld, "late"));
    sl_logdir_free(ld);
    free(empty_dir);
    free(other);

    /* errors */
    char *missing = th_join(f->dir, "missing");
    assert_null(sl_logdir_open(missing, f->st));
    assert_int_equal(sl_status_code(f->st), SL_NOT_FOUND);
    free(missing);
}

static void test_logdir_reads_all_files_of_a_run(void **state)
{
    fixture *f = *state;
    /* three files in one run, in name (= creation) order; one restarts
     * at step 5 (a resumed training), so the series must be re-sorted */
    write_scalars(f, "r", "loss", 0, 10);
    usleep(1100000); /* a new second: a later file name */
    write_scalars(f, "r", "loss", 10, 20);
    write_scalars(f, "r", "loss", 5, 8);
    sl_logdir *ld = sl_logdir_open(f->dir, f->st);
    assert_int_equal(sl_logdir_reload(ld, NULL, f->st), SL_OK);
    sl_run *r = sl_logdir_find_run(ld, "r");
    assert_int_equal(sl_run_file_count(r), 3);
    for (size_t i = 1; i < 3; i++)
        assert_true(strcmp(sl_run_file_path(r, i - 1), sl_run_file_path(r, i)) < 0);
    sl_series *s = sl_run_find_series(r, "loss");
    assert_int_equal(sl_series_count(s), 23);
    const sl_point *p = sl_series_points(s);
    for (size_t i = 1; i < 23; i++)
        assert_true(p[i - 1].step <= p[i].step);
    assert_int_equal(sl_series_min_step(s), 0);
    assert_int_equal(sl_series_max_step(s), 19);
    /* equal steps keep reading order: the first file's 5 before the third's */
    int fives = 0;
    for (size_t i = 0; i < 23; i++)
        if (p[i].step == 5)
            fives++;
    assert_int_equal(fives, 2);
    sl_logdir_free(ld);
}

static void test_logdir_follows_growing_file(void **state)
{
    fixture *f = *state;
    sl_summary_writer *w = sl_summary_writer_open(f->dir, NULL, f->st);
    sl_logdir *ld = sl_logdir_open(f->dir, f->st);
    assert_int_equal(sl_logdir_reload(ld, NULL, f->st), SL_OK);
    assert_int_equal(sl_logdir_run_count(ld), 1);
    assert_int_equal(sl_run_series_count(sl_logdir_run(ld, 0)), 0);
    for (int round = 0; round < 5; round++) {
        for (int k = 0; k < 3; k++)
            sl_summary_writer_add_scalar(w, "x", 1, round * 3 + k, 0, f->st);
        assert_int_equal(sl_summary_writer_flush(w, f->st), SL_OK);
        sl_logdir_reload_stats rs;
        assert_int_equal(sl_logdir_reload(ld, &rs, f->st), SL_OK);
        assert_int_equal(rs.points, 3);
        sl_series *s = sl_run_find_series(sl_logdir_run(ld, 0), "x");
        assert_int_equal(sl_series_count(s), (size_t)(round + 1) * 3);
    }
    sl_summary_writer_close(w, f->st);
    sl_logdir_free(ld);
}

static void test_logdir_damaged_file_keeps_earlier_events(void **state)
{
    fixture *f = *state;
    write_scalars(f, "bad", "v", 0, 10);
    char *dir = th_join(f->dir, "bad");
    char *path = th_find_event_file(dir);
    size_t size;
    uint8_t *data = th_read_file(path, &size);
    /* flip a bit in the payload of the 7th record (step 5) */
    size_t off = 0;
    uint64_t victim = 0;
    for (int i = 0; i < 7; i++) {
        uint64_t len;
        memcpy(&len, data + off, 8);
        victim = off;
        if (i < 6)
            off += 16 + len;
    }
    data[victim + 14] ^= 0x10;
    assert_true(th_write_file(path, data, size, false));
    sl_logdir *ld = sl_logdir_open(f->dir, f->st);
    sl_logdir_reload_stats rs;
    assert_int_equal(sl_logdir_reload(ld, &rs, f->st), SL_OK);
    assert_int_equal(rs.damaged_files, 1);
    sl_run *r = sl_logdir_find_run(ld, "bad");
    sl_series *s = sl_run_find_series(r, "v");
    assert_int_equal(sl_series_count(s), 5); /* steps 0..4 */
    assert_int_equal(sl_series_max_step(s), 4);
    const char *err = sl_run_file_error(r, 0);
    assert_non_null(err);
    char want[64];
    snprintf(want, sizeof want, "offset %llu", (unsigned long long)victim);
    assert_non_null(strstr(err, want));
    assert_non_null(strstr(err, path));
    assert_int_equal(sl_run_file_offset(r, 0), victim);
    /* dead for good: nothing more is read even after the file grows */
    assert_true(th_write_file(path, data, size, true));
    assert_int_equal(sl_logdir_reload(ld, &rs, f->st), SL_OK);
    assert_int_equal(rs.events, 0);
    assert_int_equal(sl_series_count(s), 5);
    sl_logdir_free(ld);
    free(data);
    free(path);
    free(dir);
}

static void test_logdir_writer_conventions(void **state)
{
    fixture *f = *state;
    char *path = th_join(f->dir, "events.out.tfevents.1600000000.host");
    /* tensorboardX 1.x: a first event with only a wall_time, no file_version */
    Tensorflow__Event first = TENSORFLOW__EVENT__INIT;
    first.wall_time = 1600000000.0;
    uint8_t fb[64];
    size_t fn = tensorflow__event__pack(&first, fb + 12);
    assert_int_equal(fn, 9);
    sl_record_encode_header(fb, fn);
    sl_record_encode_footer(fb + 12 + fn, fb + 12, fn);
    assert_true(th_write_file(path, fb, fn + 16, false));

    /* legacy simple_value */
    Tensorflow__Summary__Value v = TENSORFLOW__SUMMARY__VALUE__INIT;
    v.tag = (char *)"legacy/scalar";
    v.value_case = TENSORFLOW__SUMMARY__VALUE__VALUE_SIMPLE_VALUE;
    v.simple_value = 2.5f;
    append_value(path, &v, 1);

    /* legacy histo, PyTorch style: numpy edges, first limit = min with count 0 */
    double limits[4] = {-1.0, 0.0, 1.0, 2.0}, counts[4] = {0, 3, 0, 4};
    Tensorflow__HistogramProto hp = TENSORFLOW__HISTOGRAM_PROTO__INIT;
    hp.min = -1.0;
    hp.max = 2.0;
    hp.num = 7;
    hp.n_bucket_limit = 4;
    hp.bucket_limit = limits;
    hp.n_bucket = 4;
    hp.bucket = counts;
    Tensorflow__Summary__Value vh = TENSORFLOW__SUMMARY__VALUE__INIT;
    vh.tag = (char *)"legacy/histo";
    vh.value_case = TENSORFLOW__SUMMARY__VALUE__VALUE_HISTO;
    vh.histo = &hp;
    append_value(path, &vh, 2);

    /* legacy image */
    static const uint8_t fake_png[] = {0x89, 'P', 'N', 'G'};
    Tensorflow__Summary__Image im = TENSORFLOW__SUMMARY__IMAGE__INIT;
    im.height = 4;
    im.width = 3;
    im.colorspace = 3;
    im.encoded_image_string.data = (uint8_t *)fake_png;
    im.encoded_image_string.len = sizeof fake_png;
    Tensorflow__Summary__Value vi = TENSORFLOW__SUMMARY__VALUE__INIT;
    vi.tag = (char *)"legacy/image";
    vi.value_case = TENSORFLOW__SUMMARY__VALUE__VALUE_IMAGE;
    vi.image = &im;
    append_value(path, &vi, 3);

    /* TF2 scalar in float_val (PyTorch pr-curve style), metadata on the
     * first value only; the second value has none */
    Tensorflow__SummaryMetadata__PluginData pd = TENSORFLOW__SUMMARY_METADATA__PLUGIN_DATA__INIT;
    pd.plugin_name = (char *)"scalars";
    Tensorflow__SummaryMetadata md = TENSORFLOW__SUMMARY_METADATA__INIT;
    md.plugin_data = &pd;
    Tensorflow__TensorShapeProto shape = TENSORFLOW__TENSOR_SHAPE_PROTO__INIT;
    float fv = 0.75f;
    Tensorflow__TensorProto t = TENSORFLOW__TENSOR_PROTO__INIT;
    t.dtype = TENSORFLOW__DATA_TYPE__DT_FLOAT;
    t.tensor_shape = &shape;
    t.n_float_val = 1;
    t.float_val = &fv;
    Tensorflow__Summary__Value vt = TENSORFLOW__SUMMARY__VALUE__INIT;
    vt.tag = (char *)"tf2/scalar";
    vt.metadata = &md;
    vt.value_case = TENSORFLOW__SUMMARY__VALUE__VALUE_TENSOR;
    vt.tensor = &t;
    append_value(path, &vt, 4);
    vt.metadata = NULL;
    fv = 0.5f;
    append_value(path, &vt, 5);

    /* a scalar as a double in tensor_content */
    double dv = 1.25;
    Tensorflow__TensorProto td = TENSORFLOW__TENSOR_PROTO__INIT;
    td.dtype = TENSORFLOW__DATA_TYPE__DT_DOUBLE;
    td.tensor_shape = &shape;
    td.tensor_content.data = (uint8_t *)&dv;
    td.tensor_content.len = 8;
    vt.tensor = &td;
    vt.metadata = &md;
    vt.tag = (char *)"tf2/double";
    append_value(path, &vt, 6);

    /* a TF2 histogram in double_val, [2, 3] */
    double rows[6] = {0, 1, 5, 1, 2, 6};
    Tensorflow__TensorShapeProto__Dim d0 = TENSORFLOW__TENSOR_SHAPE_PROTO__DIM__INIT;
    Tensorflow__TensorShapeProto__Dim d1 = TENSORFLOW__TENSOR_SHAPE_PROTO__DIM__INIT;
    d0.size = 2;
    d1.size = 3;
    Tensorflow__TensorShapeProto__Dim *dims[2] = {&d0, &d1};
    Tensorflow__TensorShapeProto shape2 = TENSORFLOW__TENSOR_SHAPE_PROTO__INIT;
    shape2.n_dim = 2;
    shape2.dim = dims;
    Tensorflow__TensorProto th = TENSORFLOW__TENSOR_PROTO__INIT;
    th.dtype = TENSORFLOW__DATA_TYPE__DT_DOUBLE;
    th.tensor_shape = &shape2;
    th.n_double_val = 6;
    th.double_val = rows;
    Tensorflow__SummaryMetadata__PluginData pdh = TENSORFLOW__SUMMARY_METADATA__PLUGIN_DATA__INIT;
    pdh.plugin_name = (char *)"histograms";
    Tensorflow__SummaryMetadata mdh = TENSORFLOW__SUMMARY_METADATA__INIT;
    mdh.plugin_data = &pdh;
    Tensorflow__Summary__Value vth = TENSORFLOW__SUMMARY__VALUE__INIT;
    vth.tag = (char *)"tf2/histo";
    vth.metadata = &mdh;
    vth.value_case = TENSORFLOW__SUMMARY__VALUE__VALUE_TENSOR;
    vth.tensor = &th;
    append_value(path, &vth, 7);

    /* an unknown plugin keeps its tensor */
    Tensorflow__SummaryMetadata__PluginData pdx = TENSORFLOW__SUMMARY_METADATA__PLUGIN_DATA__INIT;
    pdx.plugin_name = (char *)"pr_curves";
    Tensorflow__SummaryMetadata mdx = TENSORFLOW__SUMMARY_METADATA__INIT;
    mdx.plugin_data = &pdx;
    vth.tag = (char *)"pr/curve";
    vth.metadata = &mdx;
    append_value(path, &vth, 8);

    /* a value whose data does not fit its tag's kind: skipped */
    Tensorflow__TensorProto ts = TENSORFLOW__TENSOR_PROTO__INIT;
    ts.dtype = TENSORFLOW__DATA_TYPE__DT_STRING;
    ts.tensor_shape = &shape;
    vt.tag = (char *)"tf2/scalar";
    vt.tensor = &ts;
    vt.metadata = NULL;
    append_value(path, &vt, 9);

    /* an empty event file beside it */
    char *empty = th_join(f->dir, "events.out.tfevents.1600000001.host");
    assert_true(th_write_file(empty, "", 0, false));

    sl_logdir *ld = sl_logdir_open(f->dir, f->st);
    sl_logdir_reload_stats rs;
    assert_int_equal(sl_logdir_reload(ld, &rs, f->st), SL_OK);
    assert_int_equal(rs.events, 10);
    assert_int_equal(rs.skipped_values, 1);
    sl_run *r = sl_logdir_find_run(ld, ".");
    assert_non_null(r);
    assert_int_equal(sl_run_file_count(r), 2);
    assert_int_equal(sl_run_file_events(r, 1), 0);
    assert_null(sl_run_file_error(r, 1));
    assert_true(sl_run_start_time(r) == 1600000000.0);

    sl_series *s = sl_run_find_series(r, "legacy/scalar");
    assert_int_equal(sl_series_kind(s), SL_KIND_SCALAR);
    assert_true(sl_series_points(s)[0].value == 2.5);
    assert_null(sl_series_points(s)[0].payload);

    s = sl_run_find_series(r, "legacy/histo");
    assert_int_equal(sl_series_kind(s), SL_KIND_HISTOGRAM);
    const sl_payload *p = sl_series_points(s)[0].payload;
    /* data_compat: empty ends dropped, min/max as outer edges */
    assert_int_equal(p->n_buckets, 3);
    const double want_h[] = {-1, 0, 3, 0, 1, 0, 1, 2, 4};
    for (int i = 0; i < 9; i++)
        assert_true(p->buckets[i] == want_h[i]);

    s = sl_run_find_series(r, "legacy/image");
    assert_int_equal(sl_series_kind(s), SL_KIND_IMAGE);
    p = sl_series_points(s)[0].payload;
    assert_int_equal(p->width, 3);
    assert_int_equal(p->height, 4);
    assert_int_equal(p->n_blobs, 1);
    assert_memory_equal(p->blobs[0].data, fake_png, sizeof fake_png);

    s = sl_run_find_series(r, "tf2/scalar");
    assert_int_equal(sl_series_kind(s), SL_KIND_SCALAR);
    assert_int_equal(sl_series_count(s), 2);
    assert_true(sl_series_points(s)[0].value == 0.75);
    assert_true(sl_series_points(s)[1].value == 0.5);

    s = sl_run_find_series(r, "tf2/double");
    assert_true(sl_series_points(s)[0].value == 1.25);

    s = sl_run_find_series(r, "tf2/histo");
    assert_int_equal(sl_series_kind(s), SL_KIND_HISTOGRAM);
    p = sl_series_points(s)[0].payload;
    assert_int_equal(p->n_buckets, 2);
    assert_memory_equal(p->buckets, rows, sizeof rows);

    s = sl_run_find_series(r, "pr/curve");
    assert_int_equal(sl_series_kind(s), SL_KIND_TENSOR);
    assert_string_equal(sl_series_plugin(s), "pr_curves");
    assert_int_equal(sl_series_points(s)[0].payload->n_blobs, 1);
    sl_logdir_free(ld);

    /* the same file opened as a single-file logdir */
    ld = sl_logdir_open(path, f->st);
    assert_non_null(ld);
    assert_int_equal(sl_logdir_reload(ld, NULL, f->st), SL_OK);
    assert_int_equal(sl_logdir_run_count(ld), 1);
    assert_string_equal(sl_run_name(sl_logdir_run(ld, 0)), ".");
    assert_int_equal(sl_run_file_count(sl_logdir_run(ld, 0)), 1);
    assert_int_equal(sl_run_series_count(sl_logdir_run(ld, 0)), 7);
    sl_logdir_free(ld);
    free(empty);
    free(path);
}

static void test_logdir_skips_nan_wall_time(void **state)
{
    fixture *f = *state;
    char *path = th_join(f->dir, "events.out.tfevents.1.nan");
    Tensorflow__Summary__Value v = TENSORFLOW__SUMMARY__VALUE__INIT;
    v.tag = (char *)"x";
    v.value_case = TENSORFLOW__SUMMARY__VALUE__VALUE_SIMPLE_VALUE;
    append_value(path, &v, 1);
    /* an event whose wall_time is NaN: TB rejects it, so do we */
    Tensorflow__Summary__Value *vp = &v;
    Tensorflow__Summary s = TENSORFLOW__SUMMARY__INIT;
    s.n_value = 1;
    s.value = &vp;
    Tensorflow__Event ev = TENSORFLOW__EVENT__INIT;
    ev.wall_time = NAN;
    ev.step = 2;
    ev.what_case = TENSORFLOW__EVENT__WHAT_SUMMARY;
    ev.summary = &s;
    uint8_t buf[128];
    size_t n = tensorflow__event__pack(&ev, buf + 12);
    sl_record_encode_header(buf, n);
    sl_record_encode_footer(buf + 12 + n, buf + 12, n);
    assert_true(th_write_file(path, buf, n + 16, true));
    append_value(path, &v, 3);

    sl_event_reader *r = sl_event_reader_open(path, 0, f->st);
    sl_event e;
    int got = 0;
    while (sl_event_reader_next(r, &e, f->st) == SL_OK)
        got++;
    assert_int_equal(got, 2);
    assert_int_equal(sl_event_reader_count(r), 2);
    assert_int_equal(sl_event_reader_skipped(r), 1);
    sl_event_reader_free(r);
    sl_logdir *ld = sl_logdir_open(f->dir, f->st);
    assert_int_equal(sl_logdir_reload(ld, NULL, f->st), SL_OK);
    sl_series *ser = sl_run_find_series(sl_logdir_run(ld, 0), "x");
    assert_int_equal(sl_series_count(ser), 2);
    assert_int_equal(sl_series_points(ser)[1].step, 3);
    sl_logdir_free(ld);
    free(path);
}

static void test_logdir_symlink_loop(void **state)
{
    fixture *f = *state;
    write_scalars(f, "a", "x", 0, 1);
    char *link = th_join(f->dir, "a/loop");
    assert_int_equal(symlink(f->dir, link), 0);
    sl_logdir *ld = sl_logdir_open(f->dir, f->st);
    assert_int_equal(sl_logdir_reload(ld, NULL, f->st), SL_OK);
    assert_int_equal(sl_logdir_run_count(ld), 1);
    sl_logdir_free(ld);
    free(link);
}

static void test_logdir_out_of_memory_then_recovers(void **state)
{
    fixture *f = *state;
    write_scalars(f, "a", "x", 0, 50);
    write_scalars(f, "b/c", "y", 0, 30);
    char *dir = th_join(f->dir, "d");
    sl_summary_writer *w = sl_summary_writer_open(dir, NULL, f->st);
    double vals[20];
    for (int i = 0; i < 20; i++)
        vals[i] = i;
    for (int s = 0; s < 5; s++)
        sl_summary_writer_add_histogram(w, "h", vals, 20, 0, s, 0, f->st);
    const char *txt[2] = {"a", "b"};
    sl_summary_writer_add_text(w, "t", txt, NULL, 2, 0, 0, f->st);
    sl_summary_writer_close(w, f->st);
    free(dir);
    /* fail the n-th allocation of a reload, for every n until one passes;
     * each failure is reported, nothing leaks (valgrind), and a reload
     * without faults then completes the logdir exactly */
    for (int n = 1;; n++) {
        sl_logdir *ld = sl_logdir_open(f->dir, f->st);
        assert_non_null(ld);
        sl_alloc_fail_nth(n, 0);
        sl_code c = sl_logdir_reload(ld, NULL, f->st);
        bool fired = sl_alloc_fault_fired();
        sl_alloc_fail_nth(0, 0);
        if (fired) {
            assert_int_equal(c, SL_RESOURCE_EXHAUSTED);
            assert_int_equal(sl_logdir_reload(ld, NULL, f->st), SL_OK);
        } else {
            assert_int_equal(c, SL_OK);
        }
        assert_int_equal(sl_logdir_run_count(ld), 3);
        assert_int_equal(sl_series_count(sl_run_find_series(sl_logdir_find_run(ld, "a"), "x")), 50);
        assert_int_equal(sl_series_count(sl_run_find_series(sl_logdir_find_run(ld, "b/c"), "y")),
                         30);
        sl_run *d = sl_logdir_find_run(ld, "d");
        assert_int_equal(sl_series_count(sl_run_find_series(d, "h")), 5);
        assert_int_equal(sl_series_count(sl_run_find_series(d, "t")), 1);
        assert_int_equal(sl_series_points(sl_run_find_series(d, "h"))[4].payload->n_buckets, 30);
        sl_logdir_free(ld);
        if (!fired)
            break;
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_logdir_discovers_runs_like_tb, setup, teardown),
        cmocka_unit_test_setup_teardown(test_logdir_reads_all_files_of_a_run, setup, teardown),
        cmocka_unit_test_setup_teardown(test_logdir_follows_growing_file, setup, teardown),
        cmocka_unit_test_setup_teardown(test_logdir_damaged_file_keeps_earlier_events, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_logdir_writer_conventions, setup, teardown),
        cmocka_unit_test_setup_teardown(test_logdir_skips_nan_wall_time, setup, teardown),
        cmocka_unit_test_setup_teardown(test_logdir_symlink_loop, setup, teardown),
        cmocka_unit_test_setup_teardown(test_logdir_out_of_memory_then_recovers, setup, teardown),
    };
    return cmocka_run_group_tests_name("logdir", tests, NULL, NULL);
}
