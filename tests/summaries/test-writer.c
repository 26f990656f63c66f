/* Tests of summaries/event-writer.c and image.c: the file name and the
 * first record (on disk before open returns), the bytes of a TF2 scalar
 * (FORMATS.md §2's example), every kind of value read back through the
 * reader and the logdir, the background thread's size and time bounds,
 * concurrent writers, refusals of bad input, PNG round trips, and
 * allocation failures. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <float.h>
#include <math.h>
#include <pthread.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "helpers.h"
#include "sluice/alloc.h"
#include "sluice/status.h"
#include "sluice/summaries/event.h"
#include "sluice/summaries/histogram.h"
#include "sluice/summaries/image.h"
#include "sluice/summaries/logdir.h"
#include "sluice/summaries/reader.h"
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

static off_t file_size(const char *path)
{
    struct stat sb;
    return stat(path, &sb) == 0 ? sb.st_size : -1;
}

static void test_writer_file_name_and_first_record(void **state)
{
    fixture *f = *state;
    char *logdir = th_join(f->dir, "a/b/run");
    sl_summary_writer *w = sl_summary_writer_open(logdir, NULL, f->st);
    assert_non_null(w);
    const char *path = sl_summary_writer_path(w);
    const char *base = strrchr(path, '/') + 1;
    char host[256];
    gethostname(host, sizeof host);
    char pattern[512];
    snprintf(pattern, sizeof pattern, "^events\\.out\\.tfevents\\.[0-9]{10}\\.%s\\.%d\\.[0-9]+\\.sluice$",
             host, (int)getpid());
    regex_t re;
    assert_int_equal(regcomp(&re, pattern, REG_EXTENDED | REG_NOSUB), 0);
    assert_int_equal(regexec(&re, base, 0, NULL, 0), 0);
    regfree(&re);
    assert_int_equal(strncmp(path, logdir, strlen(logdir)), 0);

    /* on disk already, before any flush */
    sl_event_reader *r = sl_event_reader_open(path, 0, f->st);
    assert_non_null(r);
    sl_event ev;
    assert_int_equal(sl_event_reader_next(r, &ev, f->st), SL_OK);
    assert_int_equal(ev.what, SL_EVENT_FILE_VERSION);
    assert_int_equal(ev.body.size, 13);
    assert_memory_equal(ev.body.data, "brain.Event:2", 13);
    assert_true(fabs(ev.wall_time - th_now()) < 60);
    assert_true(ev.writer.size > 0);
    assert_int_equal(sl_event_reader_next(r, &ev, f->st), SL_OUT_OF_RANGE);
    sl_event_reader_free(r);

    /* a second writer in the same logdir gets another file */
    sl_summary_writer *w2 = sl_summary_writer_open(logdir, NULL, f->st);
    assert_non_null(w2);
    assert_string_not_equal(sl_summary_writer_path(w), sl_summary_writer_path(w2));
    assert_int_equal(sl_summary_writer_close(w2, f->st), SL_OK);
    assert_int_equal(sl_summary_writer_event_count(w), 1);
    assert_int_equal(sl_summary_writer_close(w, f->st), SL_OK);
    free(logdir);
}

/* Reads the events of a writer's file after close. */
typedef struct events {
    uint8_t *file;
    size_t size;
    sl_event ev[64];
    int n;
} events;

static void read_events(const char *path, events *out)
{
    out->file = th_read_file(path, &out->size);
    assert_non_null(out->file);
    /* parse in place: offsets from the framing */
    out->n = 0;
    size_t off = 0;
    sl_status *st = sl_status_new();
    while (off + 16 <= out->size && out->n < 64) {
        uint64_t len = 0;
        memcpy(&len, out->file + off, 8);
        assert_int_equal(sl_event_parse(out->file + off + 12, (size_t)len, &out->ev[out->n], st),
                         SL_OK);
        out->n++;
        off += 16 + len;
    }
    assert_int_equal(off, out->size);
    sl_status_free(st);
}

static void test_writer_scalar_bytes_as_tf2(void **state)
{
    fixture *f = *state;
    sl_summary_writer *w = sl_summary_writer_open(f->dir, NULL, f->st);
    assert_non_null(w);
    char path[1024];
    snprintf(path, sizeof path, "%s", sl_summary_writer_path(w));
    float v;
    static const uint8_t le[4] = {0xa1, 0x5b, 0xda, 0x3e};
    memcpy(&v, le, 4); /* 0.42648, little-endian host */
    assert_int_equal(sl_summary_writer_add_scalar(w, "evaluation_loss_vs_iterations", v, 3,
                                                  1690485354.5, f->st),
                     SL_OK);
    assert_int_equal(sl_summary_writer_close(w, f->st), SL_OK);
    events e;
    read_events(path, &e);
    assert_int_equal(e.n, 2);
    assert_true(e.ev[1].wall_time == 1690485354.5);
    assert_int_equal(e.ev[1].step, 3);
    assert_int_equal(e.ev[1].what, SL_EVENT_SUMMARY);
    /* Summary{value: <the value of FORMATS.md §2>} */
    static const uint8_t value[] = {
        0x0a, 0x1d, 'e', 'v', 'a', 'l', 'u', 'a', 't', 'i', 'o', 'n', '_', 'l', 'o', 's', 's',
        '_', 'v', 's', '_', 'i', 't', 'e', 'r', 'a', 't', 'i', 'o', 'n', 's',
        0x42, 0x0a, 0x08, 0x01, 0x12, 0x00, 0x22, 0x04, 0xa1, 0x5b, 0xda, 0x3e,
        0x4a, 0x0b, 0x0a, 0x09, 0x0a, 0x07, 's', 'c', 'a', 'l', 'a', 'r', 's'};
    assert_int_equal(e.ev[1].body.size, 2 + sizeof value);
    assert_int_equal(e.ev[1].body.data[0], 0x0a);
    assert_int_equal(e.ev[1].body.data[1], sizeof value);
    assert_memory_equal(e.ev[1].body.data + 2, value, sizeof value);
    free(e.file);
}

static void make_pixels(uint8_t *px, int w, int h, int ch)
{
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++)
            for (int c = 0; c < ch; c++)
                px[(y * w + x) * ch + c] = (uint8_t)(x * 16 + y * 3 + c * 80);
}

static void test_writer_every_kind_reads_back(void **state)
{
    fixture *f = *state;
    sl_summary_writer *w = sl_summary_writer_open(f->dir, NULL, f->st);
    assert_non_null(w);
    for (int s = 0; s < 3; s++) {
        assert_int_equal(sl_summary_writer_add_scalar(w, "loss", 1.0f / (s + 1), s, 0, f->st),
                         SL_OK);
        assert_int_equal(sl_summary_writer_add_simple_value(w, "legacy", (float)s, s, 0, f->st),
                         SL_OK);
    }
    double vals[100];
    for (int i = 0; i < 100; i++)
        vals[i] = i * 0.1 - 3;
    assert_int_equal(sl_summary_writer_add_histogram(w, "weights", vals, 100, 0, 1, 0, f->st),
                     SL_OK);
    assert_int_equal(sl_summary_writer_add_histogram(w, "weights", vals, 50, 10, 2, 0, f->st),
                     SL_OK);
    assert_int_equal(sl_summary_writer_add_histogram_tf1(w, "w1", vals, 100, 1, 0, f->st), SL_OK);
    uint8_t rgb[8 * 6 * 3], grey[8 * 6];
    make_pixels(rgb, 8, 6, 3);
    make_pixels(grey, 8, 6, 1);
    sl_image imgs[2] = {{rgb, 8, 6, 3, 0}, {grey, 8, 6, 1, 0}};
    assert_int_equal(sl_summary_writer_add_images(w, "pictures", imgs, 2, 4, 0, f->st), SL_OK);
    const char *texts[] = {"# hello", "world"};
    assert_int_equal(sl_summary_writer_add_text(w, "notes", texts, NULL, 1, 5, 0, f->st), SL_OK);
    assert_int_equal(sl_summary_writer_add_text(w, "notes", texts, NULL, 2, 6, 0, f->st), SL_OK);
    static const uint8_t graph[] = {0x0a, 0x03, 0x0a, 0x01, 'x'};
    assert_int_equal(sl_summary_writer_add_graph(w, graph, sizeof graph, 0, 0, f->st), SL_OK);
    static const uint8_t rm[] = {0x0a, 0x00};
    assert_int_equal(sl_summary_writer_add_run_metadata(w, "step7", rm, sizeof rm, 7, 0, f->st),
                     SL_OK);
    assert_int_equal(sl_summary_writer_add_session_log(w, 1, NULL, "start", 0, 0, f->st), SL_OK);
    assert_int_equal(sl_summary_writer_event_count(w), 1 + 6 + 3 + 1 + 2 + 1 + 1 + 1);
    assert_int_equal(sl_summary_writer_close(w, f->st), SL_OK);

    sl_logdir *ld = sl_logdir_open(f->dir, f->st);
    assert_non_null(ld);
    sl_logdir_reload_stats rs;
    assert_int_equal(sl_logdir_reload(ld, &rs, f->st), SL_OK);
    assert_int_equal(rs.events, 16);
    assert_int_equal(rs.skipped_values, 0);
    assert_int_equal(sl_logdir_run_count(ld), 1);
    sl_run *run = sl_logdir_run(ld, 0);
    assert_string_equal(sl_run_name(run), ".");
    assert_int_equal(sl_run_series_count(run), 8);

    sl_series *s = sl_run_find_series(run, "loss");
    assert_int_equal(sl_series_kind(s), SL_KIND_SCALAR);
    assert_string_equal(sl_series_plugin(s), "scalars");
    assert_int_equal(sl_series_count(s), 3);
    assert_true(sl_series_points(s)[2].value == (double)(1.0f / 3));
    s = sl_run_find_series(run, "legacy");
    assert_int_equal(sl_series_kind(s), SL_KIND_SCALAR);
    assert_string_equal(sl_series_plugin(s), "");
    assert_true(sl_series_points(s)[2].value == 2.0);

    s = sl_run_find_series(run, "weights");
    assert_int_equal(sl_series_kind(s), SL_KIND_HISTOGRAM);
    assert_int_equal(sl_series_count(s), 2);
    const sl_payload *p = sl_series_points(s)[0].payload;
    assert_int_equal(p->n_buckets, 30);
    double rows[90];
    assert_int_equal(sl_histogram_tf2_buckets(vals, 100, 30, rows, f->st), SL_OK);
    assert_memory_equal(p->buckets, rows, sizeof rows);
    assert_int_equal(sl_series_points(s)[1].payload->n_buckets, 10);

    s = sl_run_find_series(run, "w1");
    assert_int_equal(sl_series_kind(s), SL_KIND_HISTOGRAM);
    p = sl_series_points(s)[0].payload;
    double total = 0;
    for (int64_t i = 0; i < p->n_buckets; i++)
        total += p->buckets[3 * i + 2];
    assert_true(total == 100);
    assert_true(p->buckets[0] == -3.0);                           /* min */
    assert_true(fabs(p->buckets[3 * p->n_buckets - 2] - 6.9) < 1e-12); /* max */

    s = sl_run_find_series(run, "pictures");
    assert_int_equal(sl_series_kind(s), SL_KIND_IMAGE);
    p = sl_series_points(s)[0].payload;
    assert_int_equal(p->width, 8);
    assert_int_equal(p->height, 6);
    assert_int_equal(p->n_blobs, 2);
    uint8_t *rgba;
    int iw, ih;
    assert_int_equal(sl_image_decode_png(p->blobs[0].data, p->blobs[0].size, &rgba, &iw, &ih,
                                         f->st),
                     SL_OK);
    assert_int_equal(iw, 8);
    assert_int_equal(ih, 6);
    for (int i = 0; i < 48; i++) {
        assert_int_equal(rgba[4 * i], rgb[3 * i]);
        assert_int_equal(rgba[4 * i + 1], rgb[3 * i + 1]);
        assert_int_equal(rgba[4 * i + 2], rgb[3 * i + 2]);
        assert_int_equal(rgba[4 * i + 3], 255);
    }
    sl_free(rgba);
    assert_int_equal(sl_image_decode_png(p->blobs[1].data, p->blobs[1].size, &rgba, &iw, &ih,
                                         f->st),
                     SL_OK);
    for (int i = 0; i < 48; i++)
        assert_int_equal(rgba[4 * i], grey[i]);
    sl_free(rgba);

    s = sl_run_find_series(run, "notes");
    assert_int_equal(sl_series_kind(s), SL_KIND_TEXT);
    assert_int_equal(sl_series_points(s)[0].payload->n_blobs, 1);
    assert_int_equal(sl_series_points(s)[1].payload->n_blobs, 2);
    assert_memory_equal(sl_series_points(s)[1].payload->blobs[1].data, "world", 5);

    s = sl_run_find_series(run, SL_RUN_GRAPH_TAG);
    assert_int_equal(sl_series_kind(s), SL_KIND_GRAPH);
    assert_int_equal(sl_series_points(s)[0].payload->blobs[0].size, sizeof graph);
    assert_memory_equal(sl_series_points(s)[0].payload->blobs[0].data, graph, sizeof graph);

    s = sl_run_find_series(run, "step7");
    assert_int_equal(sl_series_kind(s), SL_KIND_RUN_METADATA);
    assert_int_equal(sl_series_points(s)[0].step, 7);
    assert_int_equal(sl_series_points(s)[0].payload->blobs[0].size, sizeof rm);
    sl_logdir_free(ld);
}

static void test_writer_background_bounds(void **state)
{
    fixture *f = *state;
    /* size bound: 3 events wake the thread without a flush */
    sl_summary_writer_options o = SL_SUMMARY_WRITER_OPTIONS_INIT;
    o.max_queue = 3;
    o.flush_millis = 600000;
    sl_summary_writer *w = sl_summary_writer_open(f->dir, &o, f->st);
    assert_non_null(w);
    const char *path = sl_summary_writer_path(w);
    off_t first = file_size(path);
    assert_true(first > 0);
    assert_int_equal(sl_summary_writer_add_scalar(w, "a", 1, 0, 0, f->st), SL_OK);
    assert_int_equal(sl_summary_writer_add_scalar(w, "a", 1, 1, 0, f->st), SL_OK);
    usleep(200000);
    assert_int_equal(file_size(path), first); /* below the bound: still queued */
    assert_int_equal(sl_summary_writer_add_scalar(w, "a", 1, 2, 0, f->st), SL_OK);
    double t0 = th_now();
    while (file_size(path) == first && th_now() - t0 < 5)
        usleep(1000);
    assert_true(file_size(path) > first);
    assert_int_equal(sl_summary_writer_close(w, f->st), SL_OK);

    /* time bound: one event is written after flush_millis */
    o.max_queue = 1000;
    o.flush_millis = 100;
    w = sl_summary_writer_open(f->dir, &o, f->st);
    path = sl_summary_writer_path(w);
    first = file_size(path);
    t0 = th_now();
    assert_int_equal(sl_summary_writer_add_scalar(w, "a", 1, 0, 0, f->st), SL_OK);
    while (file_size(path) == first && th_now() - t0 < 5)
        usleep(1000);
    double dt = th_now() - t0;
    assert_true(file_size(path) > first);
    assert_true(dt >= 0.09 && dt < 2.0);

    /* explicit flush: everything queued is on disk when it returns */
    for (int i = 0; i < 5; i++)
        assert_int_equal(sl_summary_writer_add_scalar(w, "b", 1, i, 0, f->st), SL_OK);
    assert_int_equal(sl_summary_writer_flush(w, f->st), SL_OK);
    sl_event_reader *r = sl_event_reader_open(path, 0, f->st);
    sl_event ev;
    int n = 0;
    while (sl_event_reader_next(r, &ev, f->st) == SL_OK)
        n++;
    assert_int_equal(n, 7);
    sl_event_reader_free(r);
    /* flushing with nothing queued returns at once */
    assert_int_equal(sl_summary_writer_flush(w, f->st), SL_OK);
    assert_int_equal(sl_summary_writer_close(w, f->st), SL_OK);
}

typedef struct thread_arg {
    sl_summary_writer *w;
    int id;
} thread_arg;

static void *adder(void *p)
{
    thread_arg *a = p;
    sl_status *st = sl_status_new();
    char tag[16];
    snprintf(tag, sizeof tag, "t%d", a->id);
    for (int i = 0; i < 2000; i++)
        if (sl_summary_writer_add_scalar(a->w, tag, (float)i, i, 0, st) != SL_OK)
            abort();
    sl_status_free(st);
    return NULL;
}

static void test_writer_concurrent_adds(void **state)
{
    fixture *f = *state;
    sl_summary_writer *w = sl_summary_writer_open(f->dir, NULL, f->st);
    pthread_t th[4];
    thread_arg args[4];
    for (int i = 0; i < 4; i++) {
        args[i] = (thread_arg){w, i};
        pthread_create(&th[i], NULL, adder, &args[i]);
    }
    for (int i = 0; i < 4; i++)
        pthread_join(th[i], NULL);
    assert_int_equal(sl_summary_writer_event_count(w), 1 + 8000);
    assert_int_equal(sl_summary_writer_close(w, f->st), SL_OK);
    sl_logdir *ld = sl_logdir_open(f->dir, f->st);
    assert_int_equal(sl_logdir_reload(ld, NULL, f->st), SL_OK);
    sl_run *run = sl_logdir_run(ld, 0);
    for (int i = 0; i < 4; i++) {
        char tag[16];
        snprintf(tag, sizeof tag, "t%d", i);
        sl_series *s = sl_run_find_series(run, tag);
        assert_non_null(s);
        assert_int_equal(sl_series_count(s), 2000);
        for (int k = 0; k < 2000; k++) {
            assert_int_equal(sl_series_points(s)[k].step, k);
            assert_true(sl_series_points(s)[k].value == k);
        }
    }
    sl_logdir_free(ld);
}

static void test_writer_refuses_bad_input(void **state)
{
    fixture *f = *state;
    sl_summary_writer *w = sl_summary_writer_open(f->dir, NULL, f->st);
    assert_int_equal(sl_summary_writer_add_scalar(w, "", 1, 0, 0, f->st), SL_INVALID_ARGUMENT);
    assert_int_equal(sl_summary_writer_add_scalar(w, NULL, 1, 0, 0, f->st), SL_INVALID_ARGUMENT);
    assert_int_equal(sl_summary_writer_add_scalar(w, "bad\xff", 1, 0, 0, f->st),
                     SL_INVALID_ARGUMENT);
    assert_non_null(strstr(sl_status_message(f->st), "UTF-8"));
    const double nan_vals[] = {1, NAN};
    assert_int_equal(sl_summary_writer_add_histogram(w, "h", nan_vals, 2, 0, 0, 0, f->st),
                     SL_INVALID_ARGUMENT);
    assert_non_null(strstr(sl_status_message(f->st), "'h'"));
    assert_int_equal(sl_summary_writer_add_histogram_tf1(w, "h", nan_vals, 2, 0, 0, f->st),
                     SL_INVALID_ARGUMENT);
    uint8_t px[12] = {0};
    sl_image two[2] = {{px, 2, 2, 3, 0}, {px, 2, 1, 3, 0}};
    assert_int_equal(sl_summary_writer_add_images(w, "i", two, 2, 0, 0, f->st),
                     SL_INVALID_ARGUMENT);
    sl_image badch = {px, 2, 2, 2, 0};
    assert_int_equal(sl_summary_writer_add_images(w, "i", &badch, 1, 0, 0, f->st),
                     SL_INVALID_ARGUMENT);
    assert_non_null(strstr(sl_status_message(f->st), "channels"));
    assert_int_equal(sl_summary_writer_add_images(w, "i", two, 0, 0, 0, f->st),
                     SL_INVALID_ARGUMENT);
    assert_int_equal(sl_summary_writer_add_session_log(w, 9, NULL, NULL, 0, 0, f->st),
                     SL_INVALID_ARGUMENT);
    /* nothing of that reached the file */
    assert_int_equal(sl_summary_writer_event_count(w), 1);
    assert_int_equal(sl_summary_writer_close(w, f->st), SL_OK);
    assert_int_equal(sl_summary_writer_close(NULL, f->st), SL_OK);

    /* a logdir that cannot be created */
    char *file = th_join(f->dir, "plainfile");
    assert_true(th_write_file(file, "x", 1, false));
    char *below = th_join(file, "run");
    assert_null(sl_summary_writer_open(below, NULL, f->st));
    assert_int_not_equal(sl_status_code(f->st), SL_OK);
    assert_null(sl_summary_writer_open("", NULL, f->st));
    assert_int_equal(sl_status_code(f->st), SL_INVALID_ARGUMENT);
    free(below);
    free(file);
}

static void test_image_png_roundtrip(void **state)
{
    fixture *f = *state;
    uint8_t rgba[5 * 4 * 4];
    make_pixels(rgba, 5, 4, 4);
    for (int i = 0; i < 20; i++)
        rgba[4 * i + 3] = 255; /* opaque: exact */
    uint8_t *png;
    size_t n;
    assert_int_equal(sl_image_encode_png(rgba, 5, 4, 4, 0, &png, &n, f->st), SL_OK);
    int w, h;
    assert_int_equal(sl_image_png_size(png, n, &w, &h, f->st), SL_OK);
    assert_int_equal(w, 5);
    assert_int_equal(h, 4);
    uint8_t *back;
    assert_int_equal(sl_image_decode_png(png, n, &back, &w, &h, f->st), SL_OK);
    assert_memory_equal(back, rgba, sizeof rgba);
    sl_free(back);
    sl_free(png);
    /* strided input */
    uint8_t strided[4 * 16];
    memset(strided, 0xee, sizeof strided);
    for (int y = 0; y < 4; y++)
        memcpy(strided + y * 16, rgba + y * 20, 20);
    assert_int_equal(sl_image_encode_png(strided, 5, 4, 4, 16, &png, &n, f->st),
                     SL_INVALID_ARGUMENT); /* stride below a row */
    uint8_t wide[4 * 24];
    for (int y = 0; y < 4; y++)
        memcpy(wide + y * 24, rgba + y * 20, 20);
    assert_int_equal(sl_image_encode_png(wide, 5, 4, 4, 24, &png, &n, f->st), SL_OK);
    assert_int_equal(sl_image_decode_png(png, n, &back, &w, &h, f->st), SL_OK);
    assert_memory_equal(back, rgba, sizeof rgba);
    sl_free(back);
    sl_free(png);
    /* not a PNG */
    assert_int_equal(sl_image_decode_png("hello", 5, &back, &w, &h, f->st), SL_INVALID_ARGUMENT);
    assert_int_equal(sl_image_encode_png(rgba, 0, 4, 4, 0, &png, &n, f->st), SL_INVALID_ARGUMENT);
}

static void test_writer_out_of_memory(void **state)
{
    fixture *f = *state;
    sl_summary_writer *w = sl_summary_writer_open(f->dir, NULL, f->st);
    assert_non_null(w);
    double vals[10] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10};
    uint8_t px[4 * 4 * 3] = {0};
    sl_image img = {px, 4, 4, 3, 0};
    for (int which = 0; which < 3; which++) {
        for (int n = 1; n < 200; n++) {
            sl_alloc_fail_nth(n, 0);
            sl_code c;
            if (which == 0)
                c = sl_summary_writer_add_histogram_tf1(w, "h1", vals, 10, n, 0, f->st);
            else if (which == 1)
                c = sl_summary_writer_add_histogram(w, "h2", vals, 10, 0, n, 0, f->st);
            else
                c = sl_summary_writer_add_images(w, "img", &img, 1, n, 0, f->st);
            bool fired = sl_alloc_fault_fired();
            sl_alloc_fail_nth(0, 0);
            if (!fired) {
                assert_int_equal(c, SL_OK);
                break;
            }
            /* Cairo allocates with malloc; our allocations fail cleanly */
            assert_true(c == SL_RESOURCE_EXHAUSTED || c == SL_OK);
        }
    }
    assert_int_equal(sl_summary_writer_close(w, f->st), SL_OK);
    /* open under allocation failure: NULL, no leak, no stray thread */
    for (int n = 1; n < 20; n++) {
        sl_alloc_stats before, after;
        sl_alloc_get_stats(&before);
        sl_alloc_fail_nth(n, 0);
        w = sl_summary_writer_open(f->dir, NULL, f->st);
        bool fired = sl_alloc_fault_fired();
        sl_alloc_fail_nth(0, 0);
        if (!fired) {
            assert_non_null(w);
            assert_int_equal(sl_summary_writer_close(w, f->st), SL_OK);
            break;
        }
        if (w) { /* the failing allocation was not needed (e.g. mkdir) */
            assert_int_equal(sl_summary_writer_close(w, f->st), SL_OK);
            continue;
        }
        assert_int_equal(sl_status_code(f->st), SL_RESOURCE_EXHAUSTED);
        sl_alloc_get_stats(&after);
        assert_int_equal(before.bytes_in_use, after.bytes_in_use);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_writer_file_name_and_first_record, setup, teardown),
        cmocka_unit_test_setup_teardown(test_writer_scalar_bytes_as_tf2, setup, teardown),
        cmocka_unit_test_setup_teardown(test_writer_every_kind_reads_back, setup, teardown),
        cmocka_unit_test_setup_teardown(test_writer_background_bounds, setup, teardown),
        cmocka_unit_test_setup_teardown(test_writer_concurrent_adds, setup, teardown),
        cmocka_unit_test_setup_teardown(test_writer_refuses_bad_input, setup, teardown),
        cmocka_unit_test_setup_teardown(test_image_png_roundtrip, setup, teardown),
        cmocka_unit_test_setup_teardown(test_writer_out_of_memory, setup, teardown),
    };
    return cmocka_run_group_tests_name("writer", tests, NULL, NULL);
}
