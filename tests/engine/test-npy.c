/* Tests of engine/io/npy.c: round trips of every dtype, files written by
 * NumPy (generated at test time with /usr/bin/python3; skipped when NumPy
 * is missing), and malformed input: Fortran order, truncation, bad
 * headers, big-endian data, allocation failures. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sluice/alloc.h"
#include "sluice/npy.h"
#include "sluice/tensor.h"

#define PYTHON "/usr/bin/python3"

static char tmpdir[256];

static int setup_dir(void **state)
{
    (void)state;
    const char *base = getenv("TMPDIR");
    snprintf(tmpdir, sizeof(tmpdir), "%s/sl-npy-XXXXXX", base ? base : "/tmp");
    return mkdtemp(tmpdir) ? 0 : -1;
}

static int teardown_dir(void **state)
{
    (void)state;
    char cmd[512];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
    return system(cmd) == 0 ? 0 : -1;
}

static void path_in_tmp(char *buf, size_t cap, const char *name)
{
    snprintf(buf, cap, "%s/%s", tmpdir, name);
}

static bool have_numpy(void)
{
    return access(PYTHON, X_OK) == 0 && system(PYTHON " -c 'import numpy' >/dev/null 2>&1") == 0;
}

/* Runs a Python snippet with `d` bound to the temporary folder. */
static int run_python(const char *code)
{
    char script[600];
    path_in_tmp(script, sizeof(script), "script.py");
    FILE *f = fopen(script, "w");
    if (!f)
        return -1;
    fprintf(f, "import numpy as np, os, sys\nd = %s%s%s\n%s\n", "'", tmpdir, "'", code);
    fclose(f);
    char cmd[700];
    snprintf(cmd, sizeof(cmd), PYTHON " '%s'", script);
    return system(cmd);
}

/* Writes a hand-made .npy with the given header dict text and payload. */
static void write_raw(const char *name, int major, const char *dict, const void *data, size_t n,
                      char *path, size_t cap)
{
    path_in_tmp(path, cap, name);
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    size_t dl = strlen(dict);
    size_t lenbytes = major == 1 ? 2 : 4;
    size_t total = (6 + 2 + lenbytes + dl + 1 + 63) / 64 * 64;
    size_t hlen = total - 8 - lenbytes;
    fwrite("\x93NUMPY", 1, 6, f);
    fputc(major, f);
    fputc(0, f);
    for (size_t i = 0; i < lenbytes; i++)
        fputc((int)((hlen >> (8 * i)) & 0xff), f);
    fwrite(dict, 1, dl, f);
    for (size_t i = dl; i + 1 < hlen; i++)
        fputc(' ', f);
    fputc('\n', f);
    if (n)
        fwrite(data, 1, n, f);
    fclose(f);
}

static void fill_pattern(sl_tensor *t)
{
    unsigned char *p = sl_tensor_data(t);
    size_t n = sl_tensor_byte_size(t);
    for (size_t i = 0; i < n; i++)
        p[i] = (unsigned char)(i * 37 + 11);
    if (sl_tensor_dtype(t) == SL_DTYPE_BOOL)
        for (size_t i = 0; i < n; i++)
            p[i] &= 1;
}

static void test_npy_round_trip_every_dtype(void **state)
{
    (void)state;
    const sl_dtype types[] = {
        SL_DTYPE_FLOAT, SL_DTYPE_DOUBLE, SL_DTYPE_HALF, SL_DTYPE_INT8, SL_DTYPE_INT16, SL_DTYPE_INT32,
        SL_DTYPE_INT64, SL_DTYPE_UINT8, SL_DTYPE_UINT16, SL_DTYPE_UINT32, SL_DTYPE_UINT64, SL_DTYPE_BOOL,
        SL_DTYPE_COMPLEX64, SL_DTYPE_COMPLEX128,
    };
    const sl_shape shapes[] = {
        sl_shape_scalar(), sl_shape_vector(7), sl_shape_matrix(3, 5), sl_shape_vector(0),
        sl_shape_make(4, (const int64_t[]){2, 1, 3, 2}), sl_shape_make(2, (const int64_t[]){4, 0}),
    };
    sl_status *st = sl_status_new();
    char path[512];
    path_in_tmp(path, sizeof(path), "rt.npy");
    for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
        for (size_t s = 0; s < sizeof(shapes) / sizeof(shapes[0]); s++) {
            sl_tensor *t = sl_tensor_new(types[i], &shapes[s], st);
            assert_non_null(t);
            fill_pattern(t);
            assert_int_equal(sl_npy_write(path, t, st), SL_OK);
            sl_tensor *r = sl_npy_read(path, st);
            assert_non_null(r);
            if (!sl_tensor_equal(t, r))
                fail_msg("round trip of %s differs", sl_dtype_name(types[i]));
            sl_tensor_unref(r);
            sl_tensor_unref(t);
        }
    }
    /* strings: trailing NULs are padding, inner ones kept */
    sl_tensor *t = sl_tensor_new(SL_DTYPE_STRING, &(sl_shape){.rank = 1, .dims = {3}}, st);
    assert_int_equal(sl_tensor_set_string(t, 0, "hello", 5, st), SL_OK);
    assert_int_equal(sl_tensor_set_string(t, 1, "", 0, st), SL_OK);
    assert_int_equal(sl_tensor_set_string(t, 2, "a\0b", 3, st), SL_OK);
    assert_int_equal(sl_npy_write(path, t, st), SL_OK);
    sl_tensor *r = sl_npy_read(path, st);
    assert_non_null(r);
    assert_true(sl_tensor_equal(t, r));
    sl_tensor_unref(r);
    sl_tensor_unref(t);
    sl_status_free(st);
}

static void test_npy_refuses_bfloat16_and_names_why(void **state)
{
    (void)state;
    sl_status *st = sl_status_new();
    sl_shape s = sl_shape_vector(2);
    sl_tensor *t = sl_tensor_new(SL_DTYPE_BFLOAT16, &s, st);
    char path[512];
    path_in_tmp(path, sizeof(path), "bf16.npy");
    assert_int_equal(sl_npy_write(path, t, st), SL_INVALID_ARGUMENT);
    assert_non_null(strstr(sl_status_message(st), "NumPy has no bfloat16"));
    assert_int_not_equal(access(path, F_OK), 0);  /* nothing written */
    sl_tensor_unref(t);
    sl_status_free(st);
}

static void test_npy_reads_files_written_by_numpy(void **state)
{
    (void)state;
    if (!have_numpy()) {
        print_message("numpy missing under " PYTHON ": skipping NumPy-written files\n");
        skip();
    }
    assert_int_equal(run_python(
        "a = np.arange(24, dtype=np.float32).reshape(2, 3, 4) / 7\n"
        "np.save(os.path.join(d, 'f4.npy'), a)\n"
        "np.save(os.path.join(d, 'f8be.npy'), np.arange(5, dtype='>f8') * 1.5)\n"
        "np.save(os.path.join(d, 'i4be.npy'), np.array([[1, -2], [300000, -400000]], dtype='>i4'))\n"
        "np.save(os.path.join(d, 'i8.npy'), np.array([-(2**40), 3], dtype=np.int64))\n"
        "np.save(os.path.join(d, 'b1.npy'), np.array([True, False, True]))\n"
        "np.save(os.path.join(d, 'u2.npy'), np.array(65535, dtype=np.uint16))\n"
        "np.save(os.path.join(d, 'c8be.npy'), np.array([1+2j, 2-3.5j], dtype='>c8'))\n"
        "np.save(os.path.join(d, 's.npy'), np.array([b'ab', b'xyz']))\n"
        "np.save(os.path.join(d, 'empty.npy'), np.zeros((0, 3), np.float32))\n"
        "np.save(os.path.join(d, 'fortran.npy'), np.asfortranarray(np.ones((2, 3))))\n"
        "with open(os.path.join(d, 'v2.npy'), 'wb') as f:\n"
        "    np.lib.format.write_array(f, np.arange(6, dtype=np.int16).reshape(3, 2), version=(2, 0))\n"),
        0);
    sl_status *st = sl_status_new();
    char path[512];

    path_in_tmp(path, sizeof(path), "f4.npy");
    sl_tensor *t = sl_npy_read(path, st);
    assert_non_null(t);
    assert_int_equal(sl_tensor_dtype(t), SL_DTYPE_FLOAT);
    assert_int_equal(sl_tensor_rank(t), 3);
    assert_int_equal(sl_tensor_dim(t, 2), 4);
    for (int i = 0; i < 24; i++)
        assert_true(((float *)sl_tensor_data(t))[i] == (float)i / 7.0f);
    sl_tensor_unref(t);

    path_in_tmp(path, sizeof(path), "f8be.npy");
    t = sl_npy_read(path, st);
    assert_non_null(t);
    assert_int_equal(sl_tensor_dtype(t), SL_DTYPE_DOUBLE);
    for (int i = 0; i < 5; i++)
        assert_true(((double *)sl_tensor_data(t))[i] == i * 1.5);
    sl_tensor_unref(t);

    path_in_tmp(path, sizeof(path), "i4be.npy");
    t = sl_npy_read(path, st);
    assert_non_null(t);
    const int32_t want_i4[] = {1, -2, 300000, -400000};
    assert_memory_equal(sl_tensor_data(t), want_i4, sizeof(want_i4));
    sl_tensor_unref(t);

    path_in_tmp(path, sizeof(path), "i8.npy");
    t = sl_npy_read(path, st);
    assert_non_null(t);
    assert_true(((int64_t *)sl_tensor_data(t))[0] == -(INT64_C(1) << 40));
    sl_tensor_unref(t);

    path_in_tmp(path, sizeof(path), "b1.npy");
    t = sl_npy_read(path, st);
    assert_non_null(t);
    assert_int_equal(sl_tensor_dtype(t), SL_DTYPE_BOOL);
    assert_memory_equal(sl_tensor_data(t), "\1\0\1", 3);
    sl_tensor_unref(t);

    path_in_tmp(path, sizeof(path), "u2.npy");
    t = sl_npy_read(path, st);
    assert_non_null(t);
    assert_int_equal(sl_tensor_rank(t), 0);
    assert_int_equal(*(uint16_t *)sl_tensor_data(t), 65535);
    sl_tensor_unref(t);

    path_in_tmp(path, sizeof(path), "c8be.npy");
    t = sl_npy_read(path, st);
    assert_non_null(t);
    const float want_c8[] = {1, 2, 2, -3.5f};
    assert_memory_equal(sl_tensor_data(t), want_c8, sizeof(want_c8));
    sl_tensor_unref(t);

    path_in_tmp(path, sizeof(path), "s.npy");
    t = sl_npy_read(path, st);
    assert_non_null(t);
    assert_int_equal(sl_tensor_dtype(t), SL_DTYPE_STRING);
    const sl_tstring *s = sl_tensor_data(t);
    assert_int_equal(s[0].size, 2);
    assert_memory_equal(s[0].data, "ab", 2);
    assert_int_equal(s[1].size, 3);
    sl_tensor_unref(t);

    path_in_tmp(path, sizeof(path), "empty.npy");
    t = sl_npy_read(path, st);
    assert_non_null(t);
    assert_int_equal(sl_tensor_num_elements(t), 0);
    assert_int_equal(sl_tensor_dim(t, 1), 3);
    sl_tensor_unref(t);

    path_in_tmp(path, sizeof(path), "v2.npy");
    t = sl_npy_read(path, st);
    assert_non_null(t);
    assert_int_equal(sl_tensor_dtype(t), SL_DTYPE_INT16);
    assert_int_equal(((int16_t *)sl_tensor_data(t))[5], 5);
    sl_tensor_unref(t);

    path_in_tmp(path, sizeof(path), "fortran.npy");
    assert_null(sl_npy_read(path, st));
    assert_int_equal(sl_status_code(st), SL_INVALID_ARGUMENT);
    assert_non_null(strstr(sl_status_message(st), "Fortran-order arrays are not supported"));
    assert_non_null(strstr(sl_status_message(st), "fortran.npy"));
    sl_status_free(st);
}

static void test_npy_files_written_here_load_in_numpy(void **state)
{
    (void)state;
    if (!have_numpy()) {
        print_message("numpy missing under " PYTHON ": skipping the NumPy load check\n");
        skip();
    }
    sl_status *st = sl_status_new();
    char path[512];
    sl_shape s = sl_shape_matrix(2, 3);
    sl_tensor *t = sl_tensor_new(SL_DTYPE_INT64, &s, st);
    for (int i = 0; i < 6; i++)
        ((int64_t *)sl_tensor_data(t))[i] = (int64_t)i * -1000000007;
    path_in_tmp(path, sizeof(path), "mine-i8.npy");
    assert_int_equal(sl_npy_write(path, t, st), SL_OK);
    sl_tensor_unref(t);
    t = sl_tensor_new(SL_DTYPE_HALF, &(sl_shape){.rank = 1, .dims = {2}}, st);
    ((uint16_t *)sl_tensor_data(t))[0] = 0x3c00; /* 1.0 */
    ((uint16_t *)sl_tensor_data(t))[1] = 0xc000; /* -2.0 */
    path_in_tmp(path, sizeof(path), "mine-f2.npy");
    assert_int_equal(sl_npy_write(path, t, st), SL_OK);
    sl_tensor_unref(t);
    assert_int_equal(run_python(
        "a = np.load(os.path.join(d, 'mine-i8.npy'))\n"
        "assert a.dtype == np.int64 and a.shape == (2, 3), (a.dtype, a.shape)\n"
        "assert (a.ravel() == np.arange(6) * -1000000007).all()\n"
        "b = np.load(os.path.join(d, 'mine-f2.npy'))\n"
        "assert b.dtype == np.float16 and list(b) == [1.0, -2.0]\n"), 0);
    sl_status_free(st);
}

static void test_npy_rejects_fortran_order_without_numpy(void **state)
{
    (void)state;
    char path[512];
    float data[6] = {0};
    write_raw("f.npy", 1, "{'descr': '<f4', 'fortran_order': True, 'shape': (2, 3), }", data, sizeof(data),
              path, sizeof(path));
    sl_status *st = sl_status_new();
    assert_null(sl_npy_read(path, st));
    assert_int_equal(sl_status_code(st), SL_INVALID_ARGUMENT);
    assert_non_null(strstr(sl_status_message(st), "Fortran-order"));
    sl_status_free(st);
}

static void test_npy_swaps_big_endian_input(void **state)
{
    (void)state;
    char path[512];
    const unsigned char be_f4[] = {0x3f, 0x80, 0, 0, 0xc0, 0x20, 0, 0};  /* 1.0, -2.5 */
    write_raw("be.npy", 1, "{'descr': '>f4', 'fortran_order': False, 'shape': (2,), }", be_f4, sizeof(be_f4),
              path, sizeof(path));
    sl_status *st = sl_status_new();
    sl_tensor *t = sl_npy_read(path, st);
    assert_non_null(t);
    assert_true(((float *)sl_tensor_data(t))[0] == 1.0f);
    assert_true(((float *)sl_tensor_data(t))[1] == -2.5f);
    sl_tensor_unref(t);
    const unsigned char be_u2[] = {0x12, 0x34};
    write_raw("be2.npy", 3, "{\"descr\": \">u2\", \"fortran_order\": False, \"shape\": ()}", be_u2, 2, path,
              sizeof(path));
    t = sl_npy_read(path, st);
    assert_non_null(t);
    assert_int_equal(*(uint16_t *)sl_tensor_data(t), 0x1234);
    sl_tensor_unref(t);
    sl_status_free(st);
}

static void expect_read_error(const char *path, sl_code code, const char *needle)
{
    sl_status *st = sl_status_new();
    sl_tensor *t = sl_npy_read(path, st);
    if (t)
        fail_msg("%s: read succeeded, expected '%s'", path, needle);
    assert_int_equal(sl_status_code(st), code);
    if (!strstr(sl_status_message(st), needle))
        fail_msg("message '%s' lacks '%s'", sl_status_message(st), needle);
    assert_non_null(strstr(sl_status_message(st), path));
    sl_status_free(st);
}

static void test_npy_rejects_truncated_files(void **state)
{
    (void)state;
    char path[512];
    float data[6] = {1, 2, 3, 4, 5, 6};
    write_raw("short.npy", 1, "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }", data, 20, path,
              sizeof(path));
    expect_read_error(path, SL_DATA_LOSS, "expected 24 bytes of data");
    write_raw("long.npy", 1, "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 2), }", data, 24, path,
              sizeof(path));
    expect_read_error(path, SL_DATA_LOSS, "found 24");
    /* a file cut inside its header */
    path_in_tmp(path, sizeof(path), "cut.npy");
    FILE *f = fopen(path, "wb");
    fwrite("\x93NUMPY\x01\x00\x76\x00{'descr'", 1, 17, f);
    fclose(f);
    expect_read_error(path, SL_INVALID_ARGUMENT, "truncated .npy header");
    f = fopen(path, "wb");
    fwrite("\x93NUM", 1, 4, f);
    fclose(f);
    expect_read_error(path, SL_INVALID_ARGUMENT, "not a .npy file");
    path_in_tmp(path, sizeof(path), "empty-file.npy");
    f = fopen(path, "wb");
    fclose(f);
    expect_read_error(path, SL_INVALID_ARGUMENT, "not a .npy file");
}

static void test_npy_rejects_bad_headers(void **state)
{
    (void)state;
    char path[512];
    struct { const char *dict; const char *needle; } cases[] = {
        {"['descr']", "header is not a dict"},
        {"{'descr': '<f4', 'shape': (2,), }", "lacks descr, fortran_order or shape"},
        {"{'descr': '<f4', 'fortran_order': Maybe, 'shape': (2,), }", "fortran_order is not True or False"},
        {"{'descr': '<f4', 'fortran_order': False, 'shape': [2], }", "shape is not a tuple"},
        {"{'descr': '<f4', 'fortran_order': False, 'shape': (-2,), }", "non-negative integers"},
        {"{'descr': '<f4', 'fortran_order': False, 'shape': (1,1,1,1,1,1,1,1,1), }", "rank is above"},
        {"{'descr': '<U4', 'fortran_order': False, 'shape': (2,), }", "unsupported dtype '<U4'"},
        {"{'descr': '<V2', 'fortran_order': False, 'shape': (2,), }", "bfloat16 has no NumPy type"},
        {"{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (2,), }", "structured dtypes"},
        {"{'descr': '<f4', 'fortran_order': False, 'shape': (2,), 'x': 1}", "unknown key"},
        {"{'descr': '<f4' 'fortran_order': False}", "malformed"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        write_raw("bad.npy", 1, cases[i].dict, "\0\0\0\0\0\0\0\0", 8, path, sizeof(path));
        expect_read_error(path, SL_INVALID_ARGUMENT, cases[i].needle);
    }
    write_raw("ver.npy", 1, "{}", NULL, 0, path, sizeof(path));
    FILE *f = fopen(path, "r+b");
    fseek(f, 6, SEEK_SET);
    fputc(9, f);
    fclose(f);
    expect_read_error(path, SL_INVALID_ARGUMENT, "unsupported .npy version 9.0");
    path_in_tmp(path, sizeof(path), "no-such-file.npy");
    expect_read_error(path, SL_NOT_FOUND, "cannot open");
}

static void test_npy_parse_names_memory_source(void **state)
{
    (void)state;
    sl_status *st = sl_status_new();
    assert_null(sl_npy_parse("nope", 4, NULL, st));
    assert_string_equal(sl_status_message(st), "<memory>: not a .npy file (bad magic)");
    assert_null(sl_npy_parse("nope", 4, "feed x", st));
    assert_string_equal(sl_status_message(st), "feed x: not a .npy file (bad magic)");
    sl_status_free(st);
}

static void test_npy_survives_allocation_failures(void **state)
{
    (void)state;
    sl_status *st = sl_status_new();
    char path[512];
    path_in_tmp(path, sizeof(path), "oom.npy");
    sl_shape s = sl_shape_matrix(4, 4);
    sl_tensor *t = sl_tensor_new(SL_DTYPE_FLOAT, &s, st);
    fill_pattern(t);
    sl_alloc_stats before;
    /* writing: the target never appears half-written */
    for (int n = 1;; n++) {
        sl_alloc_get_stats(&before);
        sl_alloc_fail_nth(n, 0);
        sl_code rc = sl_npy_write(path, t, st);
        int fired = sl_alloc_fault_fired();
        sl_alloc_fail_nth(0, 0);
        sl_alloc_stats after;
        sl_alloc_get_stats(&after);
        assert_int_equal(after.bytes_in_use, before.bytes_in_use);
        if (!fired) {
            assert_int_equal(rc, SL_OK);
            break;
        }
        assert_int_equal(rc, SL_RESOURCE_EXHAUSTED);
        assert_int_not_equal(access(path, F_OK), 0);
    }
    for (int n = 1;; n++) {
        sl_alloc_get_stats(&before);
        sl_alloc_fail_nth(n, 0);
        sl_tensor *r = sl_npy_read(path, st);
        int fired = sl_alloc_fault_fired();
        sl_alloc_fail_nth(0, 0);
        if (!fired) {
            assert_non_null(r);
            assert_true(sl_tensor_equal(r, t));
            sl_tensor_unref(r);
            break;
        }
        assert_null(r);
        assert_int_equal(sl_status_code(st), SL_RESOURCE_EXHAUSTED);
        sl_alloc_stats after;
        sl_alloc_get_stats(&after);
        assert_int_equal(after.bytes_in_use, before.bytes_in_use);
    }
    sl_tensor_unref(t);
    sl_status_free(st);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_npy_round_trip_every_dtype),
        cmocka_unit_test(test_npy_refuses_bfloat16_and_names_why),
        cmocka_unit_test(test_npy_reads_files_written_by_numpy),
        cmocka_unit_test(test_npy_files_written_here_load_in_numpy),
        cmocka_unit_test(test_npy_rejects_fortran_order_without_numpy),
        cmocka_unit_test(test_npy_swaps_big_endian_input),
        cmocka_unit_test(test_npy_rejects_truncated_files),
        cmocka_unit_test(test_npy_rejects_bad_headers),
        cmocka_unit_test(test_npy_parse_names_memory_source),
        cmocka_unit_test(test_npy_survives_allocation_failures),
    };
    return cmocka_run_group_tests_name("npy", tests, setup_dir, teardown_dir);
}
