/* Tests of summaries/store.c: the schema (WAL, indexes), ingesting every
 * kind, incremental ingest (new events, new files, a partial record that
 * is completed later, nothing twice), an ingest killed mid-way and
 * resumed without duplicates or gaps, damaged files, and downsampled
 * queries that keep every spike. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "helpers.h"
#include "sluice/alloc.h"
#include "sluice/status.h"
#include "sluice/summaries/store.h"
#include "sluice/summaries/writer.h"

typedef struct fixture {
    char *dir;
    char *logdir;
    char *db;
    sl_status *st;
} fixture;

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof(*f));
    f->dir = th_mkdtemp();
    f->logdir = th_join(f->dir, "logs");
    f->db = th_join(f->dir, "store.db");
    f->st = sl_status_new();
    *state = f;
    return f->dir ? 0 : -1;
}

static int teardown(void **state)
{
    fixture *f = *state;
    th_rmtree(f->dir);
    free(f->dir);
    free(f->logdir);
    free(f->db);
    sl_status_free(f->st);
    free(f);
    return 0;
}

static int64_t query_int(sl_store *s, const char *sql)
{
    sqlite3_stmt *q;
    assert_int_equal(sqlite3_prepare_v2(sl_store_db(s), sql, -1, &q, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(q), SQLITE_ROW);
    int64_t v = sqlite3_column_int64(q, 0);
    sqlite3_finalize(q);
    return v;
}

static void write_run(fixture *f, const char *run, int from, int to)
{
    char *dir = th_join(f->logdir, run);
    sl_summary_writer *w = sl_summary_writer_open(dir, NULL, f->st);
    assert_non_null(w);
    for (int s = from; s < to; s++) {
        assert_int_equal(sl_summary_writer_add_scalar(w, "loss", (float)s * 0.5f, s, 0, f->st),
                         SL_OK);
        assert_int_equal(sl_summary_writer_add_simple_value(w, "acc", (float)s, s, 0, f->st),
                         SL_OK);
    }
    assert_int_equal(sl_summary_writer_close(w, f->st), SL_OK);
    free(dir);
}

typedef struct tag_list {
    char names[32][64];
    char plugins[32][32];
    sl_store_tag_info info[32]; /* strings point into names/plugins, not SQLite's */
    int n;
} tag_list;

static int collect_tag(void *ctx, const sl_store_tag_info *info)
{
    tag_list *l = ctx;
    snprintf(l->names[l->n], 64, "%s:%s", info->run, info->tag);
    snprintf(l->plugins[l->n], 32, "%s", info->plugin);
    l->info[l->n] = *info;
    l->info[l->n].run = l->info[l->n].tag = NULL;
    l->info[l->n].plugin = l->plugins[l->n];
    l->n++;
    return 0;
}

static void test_store_schema(void **state)
{
    fixture *f = *state;
    sl_store *s = sl_store_open(f->db, f->st);
    assert_non_null(s);
    sqlite3_stmt *q;
    assert_int_equal(sqlite3_prepare_v2(sl_store_db(s), "PRAGMA journal_mode", -1, &q, NULL),
                     SQLITE_OK);
    assert_int_equal(sqlite3_step(q), SQLITE_ROW);
    assert_string_equal((const char *)sqlite3_column_text(q, 0), "wal");
    sqlite3_finalize(q);
    assert_int_equal(query_int(s, "SELECT count(*) FROM sqlite_master WHERE type = 'index' AND"
                                  " name IN ('scalars_tag_step', 'tensors_tag_step')"),
                     2);
    /* the (run, tag) unique index exists, and the step index is used */
    assert_int_equal(query_int(s, "SELECT count(*) FROM sqlite_master WHERE type = 'index' AND"
                                  " tbl_name = 'tags'"),
                     1);
    assert_int_equal(sqlite3_prepare_v2(sl_store_db(s),
                                        "EXPLAIN QUERY PLAN SELECT step FROM scalars"
                                        " WHERE tag_id = 1 AND step BETWEEN 0 AND 9",
                                        -1, &q, NULL),
                     SQLITE_OK);
    assert_int_equal(sqlite3_step(q), SQLITE_ROW);
    assert_non_null(strstr((const char *)sqlite3_column_text(q, 3), "scalars_tag_step"));
    sqlite3_finalize(q);
    sl_store_close(s);
    /* reopening keeps it */
    s = sl_store_open(f->db, f->st);
    assert_non_null(s);
    sqlite3_exec(sl_store_db(s), "UPDATE meta SET value = '99' WHERE key = 'schema_version'",
                 NULL, NULL, NULL);
    sl_store_close(s);
    assert_null(sl_store_open(f->db, f->st));
    assert_int_equal(sl_status_code(f->st), SL_FAILED_PRECONDITION);
}

static void test_store_ingests_every_kind(void **state)
{
    fixture *f = *state;
    write_run(f, "a", 0, 10);
    char *dir = th_join(f->logdir, "b/nested");
    sl_summary_writer *w = sl_summary_writer_open(dir, NULL, f->st);
    double vals[50];
    for (int i = 0; i < 50; i++)
        vals[i] = i;
    sl_summary_writer_add_histogram(w, "h", vals, 50, 5, 3, 0, f->st);
    sl_summary_writer_add_histogram_tf1(w, "h1", vals, 50, 3, 0, f->st);
    uint8_t px[4 * 4 * 3];
    memset(px, 90, sizeof px);
    sl_image imgs[2] = {{px, 4, 4, 3, 0}, {px, 4, 4, 3, 0}};
    sl_summary_writer_add_images(w, "img", imgs, 2, 4, 0, f->st);
    const char *txt[1] = {"hello"};
    sl_summary_writer_add_text(w, "txt", txt, NULL, 1, 5, 0, f->st);
    sl_summary_writer_add_graph(w, "\x0a\x00", 2, 0, 0, f->st);
    sl_summary_writer_add_scalar(w, "nan", NAN, 1, 0, f->st);
    assert_int_equal(sl_summary_writer_close(w, f->st), SL_OK);
    free(dir);

    sl_store *s = sl_store_open(f->db, f->st);
    sl_store_ingest_stats is;
    assert_int_equal(sl_store_ingest(s, f->logdir, &is, f->st), SL_OK);
    assert_int_equal(is.files, 2);
    assert_int_equal(is.events, 21 + 7);
    assert_int_equal(is.scalars, 21);
    assert_int_equal(is.tensors, 1 + 1 + 2 + 1 + 1);
    assert_int_equal(is.damaged_files, 0);

    tag_list l = {0};
    assert_int_equal(sl_store_list_tags(s, collect_tag, &l, f->st), SL_OK);
    const char *want[] = {"a:acc", "a:loss", "b/nested:__run_graph__", "b/nested:h",
                          "b/nested:h1", "b/nested:img", "b/nested:nan", "b/nested:txt"};
    const sl_kind kinds[] = {SL_KIND_SCALAR, SL_KIND_SCALAR,    SL_KIND_GRAPH,  SL_KIND_HISTOGRAM,
                             SL_KIND_HISTOGRAM, SL_KIND_IMAGE, SL_KIND_SCALAR, SL_KIND_TEXT};
    assert_int_equal(l.n, 8);
    for (int i = 0; i < 8; i++) {
        assert_string_equal(l.names[i], want[i]);
        assert_int_equal(l.info[i].kind, kinds[i]);
    }
    assert_int_equal(l.info[1].count, 10);
    assert_int_equal(l.info[1].min_step, 0);
    assert_int_equal(l.info[1].max_step, 9);
    assert_string_equal(l.info[1].plugin, "scalars");

    sl_store_point *p;
    size_t n;
    assert_int_equal(sl_store_query_scalars(s, "a", "loss", 0, INT64_MAX, 0, &p, &n, f->st), SL_OK);
    assert_int_equal(n, 10);
    for (size_t i = 0; i < n; i++) {
        assert_int_equal(p[i].step, (int64_t)i);
        assert_true(p[i].value == i * 0.5);
    }
    sl_free(p);
    assert_int_equal(sl_store_query_scalars(s, "a", "loss", 3, 5, 0, &p, &n, f->st), SL_OK);
    assert_int_equal(n, 3);
    assert_int_equal(p[0].step, 3);
    sl_free(p);
    assert_int_equal(sl_store_query_scalars(s, "b/nested", "nan", 0, 10, 0, &p, &n, f->st), SL_OK);
    assert_int_equal(n, 1);
    assert_true(isnan(p[0].value));
    sl_free(p);
    /* histograms: [k, 3] doubles, little-endian */
    assert_int_equal(query_int(s, "SELECT length(data) FROM tensors JOIN tags USING(tag_id)"
                                  " WHERE tags.name = 'h'"),
                     5 * 3 * 8);
    assert_int_equal(query_int(s, "SELECT count(*) FROM tensors JOIN tags USING(tag_id)"
                                  " WHERE tags.name = 'img' AND width = 4 AND height = 4"),
                     2);
    assert_int_equal(query_int(s, "SELECT count(*) FROM scalar_points WHERE run = 'a'"), 20);
    /* errors */
    assert_int_equal(sl_store_query_scalars(s, "a", "nope", 0, 1, 0, &p, &n, f->st), SL_NOT_FOUND);
    assert_int_equal(sl_store_query_scalars(s, "zz", "loss", 0, 1, 0, &p, &n, f->st), SL_NOT_FOUND);
    assert_int_equal(sl_store_query_scalars(s, "b/nested", "h", 0, 9, 0, &p, &n, f->st),
                     SL_FAILED_PRECONDITION);
    assert_int_equal(sl_store_ingest(s, "/nonexistent/logdir", NULL, f->st), SL_NOT_FOUND);
    sl_store_close(s);
}

static int count_blob(void *ctx, const sl_store_blob *b)
{
    int *n = ctx;
    assert_true(b->size > 0);
    (*n)++;
    return 0;
}

static void test_store_incremental(void **state)
{
    fixture *f = *state;
    char *dir = th_join(f->logdir, "r");
    sl_summary_writer *w = sl_summary_writer_open(dir, NULL, f->st);
    for (int i = 0; i < 100; i++)
        sl_summary_writer_add_scalar(w, "x", (float)i, i, 0, f->st);
    assert_int_equal(sl_summary_writer_flush(w, f->st), SL_OK);

    sl_store *s = sl_store_open(f->db, f->st);
    sl_store_ingest_stats is;
    assert_int_equal(sl_store_ingest(s, f->logdir, &is, f->st), SL_OK);
    assert_int_equal(is.scalars, 100);
    /* nothing new: nothing read */
    assert_int_equal(sl_store_ingest(s, f->logdir, &is, f->st), SL_OK);
    assert_int_equal(is.events, 0);
    assert_int_equal(is.files, 0);
    /* the file grows */
    for (int i = 100; i < 150; i++)
        sl_summary_writer_add_scalar(w, "x", (float)i, i, 0, f->st);
    assert_int_equal(sl_summary_writer_close(w, f->st), SL_OK);
    /* a half-written record at the end of a second file */
    sl_summary_writer *w2 = sl_summary_writer_open(dir, NULL, f->st);
    char path2[1024];
    snprintf(path2, sizeof path2, "%s", sl_summary_writer_path(w2));
    sl_summary_writer_add_scalar(w2, "y", 1, 0, 0, f->st);
    sl_summary_writer_add_scalar(w2, "y", 2, 1, 0, f->st);
    assert_int_equal(sl_summary_writer_close(w2, f->st), SL_OK);
    size_t size;
    uint8_t *data = th_read_file(path2, &size);
    uint64_t first_len;
    memcpy(&first_len, data, 8);
    size_t second = 16 + (size_t)first_len;
    uint64_t len2;
    memcpy(&len2, data + second, 8);
    size_t third = second + 16 + (size_t)len2;
    assert_true(th_write_file(path2, data, third + 20, false)); /* y@0 whole, y@1 cut */

    assert_int_equal(sl_store_ingest(s, f->logdir, &is, f->st), SL_OK);
    assert_int_equal(is.scalars, 50 + 1);
    assert_int_equal(query_int(s, "SELECT offset FROM files WHERE path LIKE 'r/%' ORDER BY path"
                                  " DESC LIMIT 1"),
                     (int64_t)third);
    /* the writer's last bytes arrive */
    assert_true(th_write_file(path2, data + third + 20, size - third - 20, true));
    assert_int_equal(sl_store_ingest(s, f->logdir, &is, f->st), SL_OK);
    assert_int_equal(is.scalars, 1);
    assert_int_equal(query_int(s, "SELECT count(*) FROM scalars"), 152);
    assert_int_equal(query_int(s, "SELECT count(*) FROM (SELECT DISTINCT tag_id, step FROM"
                                  " scalars)"),
                     152);
    tag_list l = {0};
    sl_store_list_tags(s, collect_tag, &l, f->st);
    assert_int_equal(l.n, 2);
    assert_int_equal(l.info[0].count, 150);
    assert_int_equal(l.info[0].max_step, 149);
    assert_int_equal(l.info[1].count, 2);
    /* a second store on the same database sees it all (WAL) */
    sl_store *s2 = sl_store_open(f->db, f->st);
    assert_int_equal(query_int(s2, "SELECT count(*) FROM scalars"), 152);
    sl_store_close(s2);
    int nb = 0;
    assert_int_equal(sl_store_query_blobs(s, "r", "x", 0, 10, count_blob, &nb, f->st),
                     SL_OK); /* a scalar tag has no blobs */
    assert_int_equal(nb, 0);
    sl_store_close(s);
    free(data);
    free(dir);
}

static void test_store_damaged_file(void **state)
{
    fixture *f = *state;
    write_run(f, "d", 0, 20);
    char *dir = th_join(f->logdir, "d");
    char *path = th_find_event_file(dir);
    size_t size;
    uint8_t *data = th_read_file(path, &size);
    data[size - 30] ^= 1; /* in the last record */
    assert_true(th_write_file(path, data, size, false));
    sl_store *s = sl_store_open(f->db, f->st);
    sl_store_ingest_stats is;
    assert_int_equal(sl_store_ingest(s, f->logdir, &is, f->st), SL_OK);
    assert_int_equal(is.damaged_files, 1);
    assert_int_equal(is.scalars, 39);
    sqlite3_stmt *q;
    sqlite3_prepare_v2(sl_store_db(s), "SELECT error FROM files", -1, &q, NULL);
    assert_int_equal(sqlite3_step(q), SQLITE_ROW);
    const char *err = (const char *)sqlite3_column_text(q, 0);
    assert_non_null(err);
    assert_non_null(strstr(err, "corrupted record at offset"));
    assert_non_null(strstr(err, path));
    sqlite3_finalize(q);
    assert_true(th_write_file(path, data, size, true));
    assert_int_equal(sl_store_ingest(s, f->logdir, &is, f->st), SL_OK);
    assert_int_equal(is.events, 0); /* dead files are not read again */
    sl_store_close(s);
    free(data);
    free(path);
    free(dir);
}

static void test_store_resumes_after_kill(void **state)
{
    fixture *f = *state;
    enum { RUNS = 20, STEPS = 3000 };
    for (int r = 0; r < RUNS; r++) {
        char name[16];
        snprintf(name, sizeof name, "run%02d", r);
        write_run(f, name, 0, STEPS);
    }
    bool interrupted = false;
    for (int attempt = 0; attempt < 3 && !interrupted; attempt++) {
        unlink(f->db);
        pid_t pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
            sl_status *st = sl_status_new();
            sl_store *s = sl_store_open(f->db, st);
            sl_store_ingest(s, f->logdir, NULL, st);
            _exit(0);
        }
        usleep(150000 >> attempt);
        kill(pid, SIGKILL);
        int status;
        waitpid(pid, &status, 0);
        interrupted = WIFSIGNALED(status);
    }
    sl_store *s = sl_store_open(f->db, f->st);
    assert_non_null(s);
    int64_t before = query_int(s, "SELECT count(*) FROM scalars");
    print_message("ingest killed: %s, %lld of %d rows committed before\n",
                  interrupted ? "yes" : "no (finished first)", (long long)before,
                  RUNS * STEPS * 2);
    assert_int_equal(sl_store_ingest(s, f->logdir, NULL, f->st), SL_OK);
    assert_int_equal(query_int(s, "SELECT count(*) FROM scalars"), RUNS * STEPS * 2);
    assert_int_equal(query_int(s, "SELECT count(*) FROM (SELECT DISTINCT tag_id, step FROM"
                                  " scalars)"),
                     RUNS * STEPS * 2);
    assert_int_equal(query_int(s, "SELECT sum(count) FROM tags"), RUNS * STEPS * 2);
    assert_int_equal(query_int(s, "SELECT count(*) FROM runs"), RUNS);
    sl_store_close(s);
}

static void test_store_downsampling_keeps_spikes(void **state)
{
    fixture *f = *state;
    char *dir = th_join(f->logdir, "ds");
    sl_summary_writer *w = sl_summary_writer_open(dir, NULL, f->st);
    for (int i = 0; i < 1000; i++) {
        float v = (float)(i % 7);
        if (i == 537)
            v = 1000;
        if (i == 123)
            v = -1000;
        sl_summary_writer_add_scalar(w, "noisy", v, 10 + i, 0, f->st);
    }
    assert_int_equal(sl_summary_writer_close(w, f->st), SL_OK);
    sl_store *s = sl_store_open(f->db, f->st);
    assert_int_equal(sl_store_ingest(s, f->logdir, NULL, f->st), SL_OK);
    sl_store_point *p;
    size_t n;
    assert_int_equal(sl_store_query_scalars(s, "ds", "noisy", INT64_MIN, INT64_MAX, 10, &p, &n,
                                            f->st),
                     SL_OK);
    assert_true(n <= 30 && n >= 10);
    bool spike = false, dip = false;
    for (size_t i = 0; i < n; i++) {
        if (i)
            assert_true(p[i - 1].step < p[i].step);
        spike |= p[i].value == 1000 && p[i].step == 547;
        dip |= p[i].value == -1000 && p[i].step == 133;
    }
    assert_true(spike && dip);
    assert_int_equal(p[n - 1].step, 1009); /* the last point */
    /* every bucket holds its max: 6 appears in each bucket of 100 steps */
    int sixes = 0;
    for (size_t i = 0; i < n; i++)
        sixes += p[i].value == 6;
    assert_true(sixes >= 9);
    sl_free(p);
    /* a sub-range, downsampled */
    assert_int_equal(sl_store_query_scalars(s, "ds", "noisy", 500, 600, 4, &p, &n, f->st), SL_OK);
    assert_true(n <= 12);
    for (size_t i = 0; i < n; i++)
        assert_true(p[i].step >= 500 && p[i].step <= 600);
    bool has_spike = false;
    for (size_t i = 0; i < n; i++)
        has_spike |= p[i].value == 1000;
    assert_true(has_spike);
    assert_int_equal(p[n - 1].step, 600);
    sl_free(p);
    /* more buckets than points: every point once */
    assert_int_equal(sl_store_query_scalars(s, "ds", "noisy", 10, 19, 100, &p, &n, f->st), SL_OK);
    assert_int_equal(n, 10);
    sl_free(p);
    /* an empty range */
    assert_int_equal(sl_store_query_scalars(s, "ds", "noisy", 5000, 6000, 10, &p, &n, f->st),
                     SL_OK);
    assert_int_equal(n, 0);
    assert_null(p);
    sl_store_close(s);
    free(dir);
}

static void test_store_fixtures(void **state)
{
    fixture *f = *state;
    if (!th_have_fixtures())
        skip();
    char *root = th_join(SL_FIXTURES_DIR, "events");
    sl_store *s = sl_store_open(f->db, f->st);
    sl_store_ingest_stats is;
    assert_int_equal(sl_store_ingest(s, root, &is, f->st), SL_OK);
    assert_int_equal(is.events, 25 + 101 + 331);
    assert_int_equal(is.scalars, 24 + 100 + 330);
    tag_list l = {0};
    sl_store_list_tags(s, collect_tag, &l, f->st);
    assert_int_equal(l.n, 3 + 1 + 12);
    assert_string_equal(l.names[3], "pytorch_scalars/strict_run_1:strict/foo");
    assert_int_equal(l.info[3].count, 100);
    assert_int_equal(l.info[3].max_step, 495);
    sl_store_close(s);
    free(root);
}

static void test_store_out_of_memory_then_recovers(void **state)
{
    fixture *f = *state;
    write_run(f, "a", 0, 40);
    char *dir = th_join(f->logdir, "b");
    sl_summary_writer *w = sl_summary_writer_open(dir, NULL, f->st);
    double vals[20];
    for (int i = 0; i < 20; i++)
        vals[i] = i;
    for (int s = 0; s < 5; s++)
        sl_summary_writer_add_histogram(w, "h", vals, 20, 0, s, 0, f->st);
    sl_summary_writer_close(w, f->st);
    free(dir);
    /* each injected failure rolls back what it touched; the next ingest
     * completes the database exactly, without duplicates */
    for (int n = 1;; n++) {
        unlink(f->db);
        char *wal = th_join(f->dir, "store.db-wal"), *shm = th_join(f->dir, "store.db-shm");
        unlink(wal);
        unlink(shm);
        free(wal);
        free(shm);
        sl_store *s = sl_store_open(f->db, f->st);
        assert_non_null(s);
        sl_alloc_fail_nth(n, 0);
        sl_code c = sl_store_ingest(s, f->logdir, NULL, f->st);
        bool fired = sl_alloc_fault_fired();
        sl_alloc_fail_nth(0, 0);
        if (fired) {
            assert_int_equal(c, SL_RESOURCE_EXHAUSTED);
            assert_int_equal(sl_store_ingest(s, f->logdir, NULL, f->st), SL_OK);
        } else {
            assert_int_equal(c, SL_OK);
        }
        assert_int_equal(query_int(s, "SELECT count(*) FROM scalars"), 80);
        assert_int_equal(query_int(s, "SELECT count(*) FROM tensors"), 5);
        assert_int_equal(query_int(s, "SELECT sum(count) FROM tags"), 85);
        sl_store_close(s);
        if (!fired)
            break;
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_store_schema, setup, teardown),
        cmocka_unit_test_setup_teardown(test_store_ingests_every_kind, setup, teardown),
        cmocka_unit_test_setup_teardown(test_store_incremental, setup, teardown),
        cmocka_unit_test_setup_teardown(test_store_damaged_file, setup, teardown),
        cmocka_unit_test_setup_teardown(test_store_resumes_after_kill, setup, teardown),
        cmocka_unit_test_setup_teardown(test_store_downsampling_keeps_spikes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_store_fixtures, setup, teardown),
        cmocka_unit_test_setup_teardown(test_store_out_of_memory_then_recovers, setup, teardown),
    };
    return cmocka_run_group_tests_name("store", tests, NULL, NULL);
}
