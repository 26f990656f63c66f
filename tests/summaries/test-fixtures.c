/* Tests on the real event files of ../shared/fixtures (ORIGINS.md):
 * exact record counts, tag names, step ranges and values as written by
 * TF's C++ EventsWriter and PyTorch's SummaryWriter; each file cut at
 * every byte offset (a writer killed mid-record) read without an error
 * and without losing a complete record, then completed and resumed; a
 * flipped payload bit in every record reported at its offset with the
 * records before it kept.  Exits 77 when the fixtures are absent. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "helpers.h"
#include "sluice/status.h"
#include "sluice/summaries/logdir.h"
#include "sluice/summaries/reader.h"

#define TF_CPP "tf_cpp_simple_values/end_2_end.tfevents"
#define STRICT "pytorch_scalars/strict_run_1/events.out.tfevents.1622543341.janoshs-mbp.lan.86862.0"
#define LAX "pytorch_scalars/lax_run_1/events.out.tfevents.1622543341.janoshs-mbp.lan.86862.3"

static sl_status *g_st;

static int count_events(const char *path)
{
    sl_event_reader *r = sl_event_reader_open(path, 0, g_st);
    assert_non_null(r);
    sl_event ev;
    int n = 0;
    sl_code c;
    while ((c = sl_event_reader_next(r, &ev, g_st)) == SL_OK)
        n++;
    assert_int_equal(c, SL_OUT_OF_RANGE);
    assert_int_equal(sl_event_reader_pending(r), 0);
    sl_event_reader_free(r);
    return n;
}

static void test_fixture_record_counts(void **state)
{
    (void)state;
    const struct { const char *rel; int records; } files[] = {
        {TF_CPP, 25}, {STRICT, 101}, {LAX, 331}};
    for (size_t i = 0; i < 3; i++) {
        char *p = th_fixture(files[i].rel);
        assert_int_equal(count_events(p), files[i].records);
        free(p);
    }
    /* the TF C++ writer's first event: whole-second wall time, no source */
    char *p = th_fixture(TF_CPP);
    sl_event_reader *r = sl_event_reader_open(p, 0, g_st);
    sl_event ev;
    assert_int_equal(sl_event_reader_next(r, &ev, g_st), SL_OK);
    assert_int_equal(ev.what, SL_EVENT_FILE_VERSION);
    assert_true(ev.wall_time == 1551753597.0);
    assert_int_equal(ev.writer.size, 0);
    assert_int_equal(ev.offset, 0);
    assert_int_equal(sl_event_reader_next(r, &ev, g_st), SL_OK);
    assert_int_equal(ev.offset, 40);
    sl_event_reader_free(r);
    free(p);
}

static void test_fixture_logdir_series(void **state)
{
    (void)state;
    char *root = th_join(SL_FIXTURES_DIR, "events");
    sl_logdir *ld = sl_logdir_open(root, g_st);
    assert_non_null(ld);
    sl_logdir_reload_stats rs;
    assert_int_equal(sl_logdir_reload(ld, &rs, g_st), SL_OK);
    assert_int_equal(rs.events, 25 + 101 + 331);
    assert_int_equal(rs.points, 24 + 100 + 330);
    assert_int_equal(rs.skipped_values, 0);
    assert_int_equal(rs.damaged_files, 0);
    assert_int_equal(sl_logdir_run_count(ld), 3);
    assert_string_equal(sl_run_name(sl_logdir_run(ld, 0)), "pytorch_scalars/lax_run_1");
    assert_string_equal(sl_run_name(sl_logdir_run(ld, 1)), "pytorch_scalars/strict_run_1");
    assert_string_equal(sl_run_name(sl_logdir_run(ld, 2)), "tf_cpp_simple_values");

    /* TF C++: 12 tags, in order of appearance, all at step 0 */
    sl_run *r = sl_logdir_find_run(ld, "tf_cpp_simple_values");
    const char *tags[12] = {"train_begin",       "model_fn_begin",   "setup_infeed_begin",
                            "setup_infeed_end",  "model_fn_end",     "init_system_begin",
                            "init_system_end",   "train_end",        "eval_begin",
                            "eval_end",          "predict_begin",    "predict_end"};
    const size_t counts[12] = {1, 3, 3, 3, 3, 3, 3, 1, 1, 1, 1, 1};
    assert_int_equal(sl_run_series_count(r), 12);
    for (size_t i = 0; i < 12; i++) {
        sl_series *s = sl_run_series(r, i);
        assert_string_equal(sl_series_tag(s), tags[i]);
        assert_int_equal(sl_series_kind(s), SL_KIND_SCALAR);
        assert_int_equal(sl_series_count(s), counts[i]);
        assert_int_equal(sl_series_min_step(s), 0);
        assert_int_equal(sl_series_max_step(s), 0);
        for (size_t k = 0; k < counts[i]; k++)
            assert_true(sl_series_points(s)[k].value == 0.0);
    }
    assert_true(sl_run_start_time(r) == 1551753597.0);
    assert_true(sl_series_points(sl_run_series(r, 0))[0].wall_time == 1551753597.361868);

    /* PyTorch strict: strict/foo at steps 0, 5, ..., 495 */
    r = sl_logdir_find_run(ld, "pytorch_scalars/strict_run_1");
    assert_int_equal(sl_run_series_count(r), 1);
    sl_series *s = sl_run_find_series(r, "strict/foo");
    assert_int_equal(sl_series_count(s), 100);
    for (int k = 0; k < 100; k++)
        assert_int_equal(sl_series_points(s)[k].step, 5 * k);
    assert_true(sl_series_points(s)[0].value == (double)1.4962565898895264f);
    assert_true(sl_series_points(s)[1].value == (double)1.7682218551635742f);
    assert_true(sl_series_points(s)[99].value == (double)1.212090253829956f);
    assert_true(sl_series_points(s)[99].wall_time == 1622543341.7694452);
    assert_true(sl_run_start_time(r) == 1622543341.75773);

    /* PyTorch lax: three tags, 110 steps each */
    r = sl_logdir_find_run(ld, "pytorch_scalars/lax_run_1");
    const char *lax[3] = {"lax/foo", "lax/bar_1", "lax/bar_2"};
    const double first[3] = {1.2587659358978271, 1.58982253074646, 1.2402715682983398};
    const double last[3] = {1.4174270629882812, 1.0442376136779785, 1.4685683250427246};
    assert_int_equal(sl_run_series_count(r), 3);
    for (int i = 0; i < 3; i++) {
        s = sl_run_series(r, (size_t)i);
        assert_string_equal(sl_series_tag(s), lax[i]);
        assert_int_equal(sl_series_count(s), 110);
        assert_int_equal(sl_series_min_step(s), 0);
        assert_int_equal(sl_series_max_step(s), 109);
        for (int k = 0; k < 110; k++)
            assert_int_equal(sl_series_points(s)[k].step, k);
        assert_true(sl_series_points(s)[0].value == (double)(float)first[i]);
        assert_true(sl_series_points(s)[109].value == (double)(float)last[i]);
    }
    sl_logdir_free(ld);
    free(root);
}

/* Record start offsets of a well-formed file. */
static size_t record_starts(const uint8_t *data, size_t size, uint64_t *starts, size_t max)
{
    size_t n = 0, off = 0;
    while (off < size && n < max) {
        uint64_t len;
        memcpy(&len, data + off, 8);
        starts[n++] = off;
        off += 16 + len;
    }
    starts[n] = off;
    return n;
}

static void cut_everywhere(const char *rel)
{
    char *src = th_fixture(rel);
    size_t size;
    uint8_t *data = th_read_file(src, &size);
    assert_non_null(data);
    uint64_t starts[400];
    size_t n = record_starts(data, size, starts, 399);
    assert_int_equal(starts[n], size);
    char *dir = th_mkdtemp();
    char *path = th_join(dir, "events.out.tfevents.cut");
    for (size_t cut = 0; cut <= size; cut++) {
        assert_true(th_write_file(path, data, cut, false));
        sl_event_reader *r = sl_event_reader_open(path, 0, g_st);
        assert_non_null(r);
        sl_event ev;
        size_t got = 0;
        sl_code c;
        while ((c = sl_event_reader_next(r, &ev, g_st)) == SL_OK) {
            assert_int_equal(ev.offset, starts[got]);
            got++;
        }
        assert_int_equal(c, SL_OUT_OF_RANGE); /* never an error */
        size_t complete = 0;
        while (complete < n && starts[complete + 1] <= cut)
            complete++;
        assert_int_equal(got, complete); /* no complete record lost */
        assert_int_equal(sl_event_reader_offset(r), starts[complete]);
        /* the writer comes back and finishes: the same reader resumes */
        assert_true(th_write_file(path, data + cut, size - cut, true));
        while ((c = sl_event_reader_next(r, &ev, g_st)) == SL_OK)
            assert_int_equal(ev.offset, starts[got++]);
        assert_int_equal(c, SL_OUT_OF_RANGE);
        assert_int_equal(got, n);
        sl_event_reader_free(r);
    }
    th_rmtree(dir);
    free(path);
    free(dir);
    free(data);
    free(src);
}

static void test_fixture_cut_at_every_offset_tf_cpp(void **state)
{
    (void)state;
    cut_everywhere(TF_CPP);
}

static void test_fixture_cut_at_every_offset_strict(void **state)
{
    (void)state;
    cut_everywhere(STRICT);
}

static void test_fixture_cut_at_every_offset_lax(void **state)
{
    (void)state;
    cut_everywhere(LAX);
}

static void test_fixture_logdir_cut_and_resume(void **state)
{
    (void)state;
    /* the same through the logdir: a run's points never shrink, and after
     * the rest arrives the series is complete */
    char *src = th_fixture(TF_CPP);
    size_t size;
    uint8_t *data = th_read_file(src, &size);
    char *dir = th_mkdtemp();
    char *path = th_join(dir, "end_2_end.tfevents");
    for (size_t cut = 0; cut <= size; cut += 1) {
        assert_true(th_write_file(path, data, cut, false));
        sl_logdir *ld = sl_logdir_open(dir, g_st);
        sl_logdir_reload_stats rs;
        assert_int_equal(sl_logdir_reload(ld, &rs, g_st), SL_OK);
        assert_int_equal(rs.damaged_files, 0);
        int64_t before = rs.points;
        assert_true(th_write_file(path, data + cut, size - cut, true));
        assert_int_equal(sl_logdir_reload(ld, &rs, g_st), SL_OK);
        assert_int_equal(before + rs.points, 24);
        sl_run *r = sl_logdir_run(ld, 0);
        assert_null(sl_run_file_error(r, 0));
        assert_int_equal(sl_run_file_offset(r, 0), size);
        assert_int_equal(sl_run_series_count(r), 12);
        sl_logdir_free(ld);
    }
    th_rmtree(dir);
    free(path);
    free(dir);
    free(data);
    free(src);
}

static void test_fixture_bit_flip_in_every_record(void **state)
{
    (void)state;
    char *src = th_fixture(LAX);
    size_t size;
    uint8_t *data = th_read_file(src, &size);
    uint64_t starts[400];
    size_t n = record_starts(data, size, starts, 399);
    char *dir = th_mkdtemp();
    char *path = th_join(dir, "events.out.tfevents.flip");
    for (size_t victim = 0; victim < n; victim++) {
        uint64_t len = starts[victim + 1] - starts[victim] - 16;
        size_t pos = starts[victim] + 12 + len / 2;
        data[pos] ^= 0x04;
        assert_true(th_write_file(path, data, size, false));
        data[pos] ^= 0x04;
        sl_event_reader *r = sl_event_reader_open(path, 0, g_st);
        sl_event ev;
        size_t got = 0;
        sl_code c;
        while ((c = sl_event_reader_next(r, &ev, g_st)) == SL_OK)
            assert_int_equal(ev.offset, starts[got++]);
        assert_int_equal(c, SL_DATA_LOSS);
        assert_int_equal(got, victim); /* every record before it */
        char want[600];
        snprintf(want, sizeof want, "corrupted record at offset %" PRIu64 " in '%s'",
                 starts[victim], path);
        assert_non_null(strstr(sl_status_message(g_st), want));
        sl_event_reader_free(r);
    }
    th_rmtree(dir);
    free(path);
    free(dir);
    free(data);
    free(src);
}

int main(void)
{
    if (!th_have_fixtures()) {
        fprintf(stderr, "fixtures not found under '%s': skipping\n", SL_FIXTURES_DIR);
        return 77;
    }
    g_st = sl_status_new();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fixture_record_counts),
        cmocka_unit_test(test_fixture_logdir_series),
        cmocka_unit_test(test_fixture_cut_at_every_offset_tf_cpp),
        cmocka_unit_test(test_fixture_cut_at_every_offset_strict),
        cmocka_unit_test(test_fixture_cut_at_every_offset_lax),
        cmocka_unit_test(test_fixture_logdir_cut_and_resume),
        cmocka_unit_test(test_fixture_bit_flip_in_every_record),
    };
    int rc = cmocka_run_group_tests_name("fixtures", tests, NULL, NULL);
    sl_status_free(g_st);
    return rc;
}
