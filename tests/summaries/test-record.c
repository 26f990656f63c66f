/* Tests of summaries/record.c: TFRecord framing byte for byte, a
 * writer->reader round trip over the buffer sizes, a file cut at every
 * byte offset (no error, no complete record lost, resumes when the rest
 * arrives), a bit flipped at every byte (reported with the record's
 * offset, every record before it kept), and bad opens. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "helpers.h"
#include "sluice/alloc.h"
#include "sluice/status.h"
#include "sluice/summaries/record.h"

typedef struct fixture {
    char *dir;
    char *path;
    sl_status *st;
} fixture;

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof(*f));
    f->dir = th_mkdtemp();
    f->path = th_join(f->dir, "data.tfrecord");
    f->st = sl_status_new();
    *state = f;
    return f->dir ? 0 : -1;
}

static int teardown(void **state)
{
    fixture *f = *state;
    th_rmtree(f->dir);
    free(f->dir);
    free(f->path);
    sl_status_free(f->st);
    free(f);
    return 0;
}

/* Payload i of the synthetic files: i * 7 % 50 bytes of a pattern. */
static size_t payload_of(int i, uint8_t *buf)
{
    size_t n = (size_t)(i * 7 % 50);
    for (size_t k = 0; k < n; k++)
        buf[k] = (uint8_t)(i * 31 + k);
    return n;
}

/* Writes `n` synthetic records; returns the record start offsets in
 * starts[0..n] (starts[n] = file size). */
static void write_synthetic(fixture *f, int n, uint64_t *starts)
{
    sl_record_writer *w = sl_record_writer_open(f->path, SL_RECORD_TRUNCATE, f->st);
    assert_non_null(w);
    uint8_t buf[64];
    uint64_t off = 0;
    for (int i = 0; i < n; i++) {
        size_t len = payload_of(i, buf);
        starts[i] = off;
        off += len + 16;
        assert_int_equal(sl_record_writer_write(w, buf, len, f->st), SL_OK);
    }
    starts[n] = off;
    assert_int_equal(sl_record_writer_close(w, f->st), SL_OK);
}

static void test_record_framing_bytes(void **state)
{
    (void)state;
    uint8_t h[SL_RECORD_HEADER_SIZE];
    sl_record_encode_header(h, 24);
    static const uint8_t want[12] = {0x18, 0, 0, 0, 0, 0, 0, 0, 0xa3, 0x7f, 0x4b, 0x22};
    assert_memory_equal(h, want, 12);
    static const uint8_t ev[24] = {0x09, 0xcf, 0xd1, 0x4d, 0x6a, 0xe2, 0x66, 0xd8, 0x41,
                                   0x1a, 0x0d, 'b',  'r',  'a',  'i',  'n',  '.',  'E',
                                   'v',  'e',  'n',  't',  ':',  '2'};
    uint8_t foot[4];
    sl_record_encode_footer(foot, ev, sizeof ev);
    static const uint8_t want_foot[4] = {0x51, 0x02, 0x7a, 0x47};
    assert_memory_equal(foot, want_foot, 4);
}

static void test_record_roundtrip_sizes(void **state)
{
    fixture *f = *state;
    static const size_t sizes[] = {0, 1, 24, 1000, 65536 - 16, 65536, 70000, 300000, 3};
    const size_t n = sizeof sizes / sizeof sizes[0];
    uint8_t *buf = malloc(300000);
    for (size_t i = 0; i < 300000; i++)
        buf[i] = (uint8_t)(i * 131 + 7);
    sl_record_writer *w = sl_record_writer_open(f->path, SL_RECORD_TRUNCATE, f->st);
    assert_non_null(w);
    for (size_t i = 0; i < n; i++)
        assert_int_equal(sl_record_writer_write(w, buf, sizes[i], f->st), SL_OK);
    assert_int_equal(sl_record_writer_close(w, f->st), SL_OK);

    sl_record_reader *r = sl_record_reader_open(f->path, 0, f->st);
    assert_non_null(r);
    uint64_t off = 0;
    for (size_t i = 0; i < n; i++) {
        const uint8_t *data;
        size_t size;
        assert_int_equal(sl_record_reader_next(r, &data, &size, f->st), SL_OK);
        assert_int_equal(size, sizes[i]);
        assert_memory_equal(data, buf, size);
        assert_int_equal(sl_record_reader_record_offset(r), off);
        off += sizes[i] + 16;
        assert_int_equal(sl_record_reader_offset(r), off);
    }
    const uint8_t *data;
    size_t size;
    assert_int_equal(sl_record_reader_next(r, &data, &size, f->st), SL_OUT_OF_RANGE);
    assert_int_equal(sl_record_reader_pending(r), 0);
    assert_false(sl_record_reader_is_dead(r));
    sl_record_reader_free(r);

    /* append mode adds to the end */
    w = sl_record_writer_open(f->path, SL_RECORD_APPEND, f->st);
    assert_non_null(w);
    assert_int_equal(sl_record_writer_write(w, "xyz", 3, f->st), SL_OK);
    assert_int_equal(sl_record_writer_close(w, f->st), SL_OK);
    r = sl_record_reader_open(f->path, off, f->st);
    assert_non_null(r);
    assert_int_equal(sl_record_reader_next(r, &data, &size, f->st), SL_OK);
    assert_int_equal(size, 3);
    assert_memory_equal(data, "xyz", 3);
    sl_record_reader_free(r);

    /* exclusive create refuses an existing file */
    assert_null(sl_record_writer_open(f->path, SL_RECORD_EXCL, f->st));
    assert_int_equal(sl_status_code(f->st), SL_ALREADY_EXISTS);
    free(buf);
}

static void test_record_empty_file(void **state)
{
    fixture *f = *state;
    assert_true(th_write_file(f->path, "", 0, false));
    sl_record_reader *r = sl_record_reader_open(f->path, 0, f->st);
    assert_non_null(r);
    const uint8_t *data;
    size_t size;
    assert_int_equal(sl_record_reader_next(r, &data, &size, f->st), SL_OUT_OF_RANGE);
    assert_int_equal(sl_record_reader_pending(r), 0);
    assert_non_null(strstr(sl_status_message(f->st), "end of file"));
    sl_record_reader_free(r);
}

/* Reads the records of a file cut at `cut` bytes, then the rest, with one
 * reader: the complete records come out in order, a partial one waits. */
static void check_cut(fixture *f, const uint8_t *file, size_t size, const uint64_t *starts, int n,
                      size_t cut)
{
    assert_true(th_write_file(f->path, file, cut, false));
    sl_record_reader *r = sl_record_reader_open(f->path, 0, f->st);
    assert_non_null(r);
    const uint8_t *data;
    size_t len;
    int got = 0;
    sl_code c;
    while ((c = sl_record_reader_next(r, &data, &len, f->st)) == SL_OK) {
        assert_true(got < n);
        assert_int_equal(starts[got] + 16 + len, starts[got + 1]);
        assert_memory_equal(data, file + starts[got] + 12, len);
        got++;
    }
    assert_int_equal(c, SL_OUT_OF_RANGE);
    /* every record that is complete within the cut came out */
    int complete = 0;
    while (complete < n && starts[complete + 1] <= cut)
        complete++;
    assert_int_equal(got, complete);
    assert_int_equal(sl_record_reader_offset(r), starts[complete]);
    assert_int_equal(sl_record_reader_pending(r), cut - starts[complete]);
    /* the writer finishes: the same reader continues */
    assert_true(th_write_file(f->path, file + cut, size - cut, true));
    while ((c = sl_record_reader_next(r, &data, &len, f->st)) == SL_OK) {
        assert_int_equal(sl_record_reader_record_offset(r), starts[got]);
        assert_memory_equal(data, file + starts[got] + 12, len);
        got++;
    }
    assert_int_equal(c, SL_OUT_OF_RANGE);
    assert_int_equal(got, n);
    assert_int_equal(sl_record_reader_pending(r), 0);
    sl_record_reader_free(r);

    /* and a fresh reader started at the saved offset does the same */
    r = sl_record_reader_open(f->path, starts[complete], f->st);
    assert_non_null(r);
    int more = 0;
    while (sl_record_reader_next(r, &data, &len, f->st) == SL_OK)
        more++;
    assert_int_equal(complete + more, n);
    sl_record_reader_free(r);
}

static void test_record_cut_at_every_offset(void **state)
{
    fixture *f = *state;
    enum { N = 40 };
    uint64_t starts[N + 1];
    write_synthetic(f, N, starts);
    size_t size;
    uint8_t *file = th_read_file(f->path, &size);
    assert_non_null(file);
    assert_int_equal(size, starts[N]);
    for (size_t cut = 0; cut <= size; cut++)
        check_cut(f, file, size, starts, N, cut);
    free(file);
}

static void test_record_grows_in_small_chunks(void **state)
{
    fixture *f = *state;
    enum { N = 40 };
    uint64_t starts[N + 1];
    write_synthetic(f, N, starts);
    size_t size;
    uint8_t *file = th_read_file(f->path, &size);
    assert_true(th_write_file(f->path, "", 0, false));
    sl_record_reader *r = sl_record_reader_open(f->path, 0, f->st);
    int got = 0;
    for (size_t off = 0; off < size; off += 7) {
        size_t k = size - off < 7 ? size - off : 7;
        assert_true(th_write_file(f->path, file + off, k, true));
        const uint8_t *data;
        size_t len;
        sl_code c;
        while ((c = sl_record_reader_next(r, &data, &len, f->st)) == SL_OK) {
            assert_memory_equal(data, file + starts[got] + 12, len);
            got++;
        }
        assert_int_equal(c, SL_OUT_OF_RANGE);
    }
    assert_int_equal(got, N);
    sl_record_reader_free(r);
    free(file);
}

static void test_record_bit_flip_at_every_byte(void **state)
{
    fixture *f = *state;
    enum { N = 12 };
    uint64_t starts[N + 1];
    write_synthetic(f, N, starts);
    size_t size;
    uint8_t *file = th_read_file(f->path, &size);
    uint8_t *bad = malloc(size);
    for (size_t pos = 0; pos < size; pos++) {
        memcpy(bad, file, size);
        bad[pos] ^= (uint8_t)(1u << (pos % 8));
        assert_true(th_write_file(f->path, bad, size, false));
        int victim = 0;
        while (starts[victim + 1] <= pos)
            victim++;
        sl_record_reader *r = sl_record_reader_open(f->path, 0, f->st);
        const uint8_t *data;
        size_t len;
        int got = 0;
        sl_code c;
        while ((c = sl_record_reader_next(r, &data, &len, f->st)) == SL_OK) {
            assert_memory_equal(data, file + starts[got] + 12, len);
            got++;
        }
        /* the length is checked against its own checksum before it is
         * used, so every flip is caught, at the damaged record */
        assert_int_equal(c, SL_DATA_LOSS);
        assert_int_equal(got, victim);
        char want[512];
        snprintf(want, sizeof want, "corrupted record at offset %llu in '%s'",
                 (unsigned long long)starts[victim], f->path);
        assert_non_null(strstr(sl_status_message(f->st), want));
        assert_int_equal(sl_record_reader_record_offset(r), starts[victim]);
        assert_true(sl_record_reader_is_dead(r));
        /* sticky */
        assert_int_equal(sl_record_reader_next(r, &data, &len, f->st), SL_DATA_LOSS);
        sl_record_reader_free(r);
    }
    free(bad);
    free(file);
}

static void test_record_length_flip_caught_by_checksum(void **state)
{
    fixture *f = *state;
    /* one record; flipping a low bit of the length keeps it inside the
     * file, so the length checksum must catch it */
    uint8_t rec[16 + 10];
    sl_record_encode_header(rec, 10);
    memset(rec + 12, 'a', 10);
    sl_record_encode_footer(rec + 22, rec + 12, 10);
    rec[0] ^= 1; /* length 11 */
    assert_true(th_write_file(f->path, rec, sizeof rec, false));
    sl_record_reader *r = sl_record_reader_open(f->path, 0, f->st);
    const uint8_t *data;
    size_t len;
    assert_int_equal(sl_record_reader_next(r, &data, &len, f->st), SL_DATA_LOSS);
    assert_non_null(strstr(sl_status_message(f->st), "length checksum mismatch"));
    sl_record_reader_free(r);
}

static void test_record_huge_length(void **state)
{
    fixture *f = *state;
    uint8_t h[12];
    sl_record_encode_header(h, (uint64_t)1 << 40); /* valid checksum, absurd length */
    assert_true(th_write_file(f->path, h, 12, false));
    sl_record_reader *r = sl_record_reader_open(f->path, 0, f->st);
    const uint8_t *data;
    size_t len;
    assert_int_equal(sl_record_reader_next(r, &data, &len, f->st), SL_DATA_LOSS);
    assert_non_null(strstr(sl_status_message(f->st), "exceeds"));
    assert_non_null(strstr(sl_status_message(f->st), "offset 0"));
    sl_record_reader_free(r);
}

static void test_record_bad_open(void **state)
{
    fixture *f = *state;
    char *missing = th_join(f->dir, "missing");
    assert_null(sl_record_reader_open(missing, 0, f->st));
    assert_int_equal(sl_status_code(f->st), SL_NOT_FOUND);
    assert_non_null(strstr(sl_status_message(f->st), missing));
    assert_null(sl_record_reader_open(f->dir, 0, f->st));
    assert_int_equal(sl_status_code(f->st), SL_FAILED_PRECONDITION);
    char *nodir = th_join(missing, "x");
    assert_null(sl_record_writer_open(nodir, SL_RECORD_TRUNCATE, f->st));
    assert_int_equal(sl_status_code(f->st), SL_NOT_FOUND);
    free(nodir);
    free(missing);
}

static void test_record_reader_out_of_memory(void **state)
{
    fixture *f = *state;
    enum { N = 5 };
    uint64_t starts[N + 1];
    write_synthetic(f, N, starts);
    /* fail each allocation of open in turn: NULL + status, no leak */
    for (int n = 1; n < 10; n++) {
        sl_alloc_stats before, after;
        sl_alloc_get_stats(&before);
        sl_alloc_fail_nth(n, 0);
        sl_record_reader *r = sl_record_reader_open(f->path, 0, f->st);
        bool fired = sl_alloc_fault_fired();
        sl_alloc_fail_nth(0, 0);
        if (!fired) {
            assert_non_null(r);
            sl_record_reader_free(r);
            break;
        }
        assert_null(r);
        assert_int_equal(sl_status_code(f->st), SL_RESOURCE_EXHAUSTED);
        sl_alloc_get_stats(&after);
        assert_int_equal(before.bytes_in_use, after.bytes_in_use);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_record_framing_bytes),
        cmocka_unit_test_setup_teardown(test_record_roundtrip_sizes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_record_empty_file, setup, teardown),
        cmocka_unit_test_setup_teardown(test_record_cut_at_every_offset, setup, teardown),
        cmocka_unit_test_setup_teardown(test_record_grows_in_small_chunks, setup, teardown),
        cmocka_unit_test_setup_teardown(test_record_bit_flip_at_every_byte, setup, teardown),
        cmocka_unit_test_setup_teardown(test_record_length_flip_caught_by_checksum, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_record_huge_length, setup, teardown),
        cmocka_unit_test_setup_teardown(test_record_bad_open, setup, teardown),
        cmocka_unit_test_setup_teardown(test_record_reader_out_of_memory, setup, teardown),
    };
    return cmocka_run_group_tests_name("record", tests, NULL, NULL);
}
