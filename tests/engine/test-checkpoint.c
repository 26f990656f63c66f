/* Checkpoint V2: reads TF's own checkpoint in the fixtures exactly (7
 * entries, a DT_STRING scalar among them), writes checkpoints that read
 * back bit for bit and that an independent Python parser of the format
 * accepts (checksums included), and reports corruption as DATA_LOSS. */
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

#include "sluice/checkpoint.h"

#ifndef SL_FIXTURES_DIR
#define SL_FIXTURES_DIR "../shared/fixtures"
#endif
#ifndef SL_PARSER
#define SL_PARSER "checkpoint-parse.py"
#endif
#define FIXTURE SL_FIXTURES_DIR "/checkpoints/tf2_savedmodel_regression/variables/variables"

static char tmpdir[256];

static int setup(void **state)
{
    (void)state;
    snprintf(tmpdir, sizeof(tmpdir), "/tmp/sl-ckpt-XXXXXX");
    return mkdtemp(tmpdir) ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[300];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
    return system(cmd) == 0 ? 0 : -1;
}

static void test_checkpoint_reads_tf_fixture(void **state)
{
    (void)state;
    struct stat sb;
    if (stat(FIXTURE ".index", &sb) != 0)
        skip();
    sl_status *st = sl_status_new();
    sl_checkpoint_reader *r = sl_checkpoint_open(FIXTURE, st);
    if (!r)
        fail_msg("%s", sl_status_message(st));
    static const struct {
        const char *name;
        sl_dtype dtype;
        int rank;
    } want[] = {
        {"_CHECKPOINTABLE_OBJECT_GRAPH", SL_DTYPE_STRING, 0},
        {"b/.ATTRIBUTES/VARIABLE_VALUE", SL_DTYPE_FLOAT, 1},
        {"optimizer/decay/.ATTRIBUTES/VARIABLE_VALUE", SL_DTYPE_FLOAT, 0},
        {"optimizer/iter/.ATTRIBUTES/VARIABLE_VALUE", SL_DTYPE_INT64, 0},
        {"optimizer/learning_rate/.ATTRIBUTES/VARIABLE_VALUE", SL_DTYPE_FLOAT, 0},
        {"optimizer/momentum/.ATTRIBUTES/VARIABLE_VALUE", SL_DTYPE_FLOAT, 0},
        {"w/.ATTRIBUTES/VARIABLE_VALUE", SL_DTYPE_FLOAT, 1},
    };
    assert_int_equal(sl_checkpoint_num_entries(r), 7);
    for (int i = 0; i < 7; i++) {
        assert_string_equal(sl_checkpoint_entry_name(r, i), want[i].name);
        assert_int_equal(sl_checkpoint_entry_dtype(r, i), want[i].dtype);
        assert_int_equal(sl_checkpoint_entry_shape(r, i)->rank, want[i].rank);
        sl_tensor *t = sl_checkpoint_read(r, want[i].name, st);
        if (!t)
            fail_msg("%s: %s", want[i].name, sl_status_message(st));
        sl_tensor_unref(t);
    }
    sl_tensor *g = sl_checkpoint_read(r, "_CHECKPOINTABLE_OBJECT_GRAPH", st);
    assert_int_equal(((sl_tstring *)sl_tensor_data(g))[0].size, 531);
    sl_tensor_unref(g);
    sl_tensor *lr = sl_checkpoint_read(r, "optimizer/learning_rate/.ATTRIBUTES/VARIABLE_VALUE", st);
    assert_true(*(float *)sl_tensor_data(lr) == 0.5f);
    sl_tensor_unref(lr);
    sl_tensor *w = sl_checkpoint_read(r, "w/.ATTRIBUTES/VARIABLE_VALUE", st);
    assert_int_equal(sl_tensor_dim(w, 0), 1);
    assert_true(*(float *)sl_tensor_data(w) > 0.2042975f && *(float *)sl_tensor_data(w) < 0.2042976f);
    sl_tensor_unref(w);
    assert_null(sl_checkpoint_read(r, "nope", st));
    assert_int_equal(sl_status_code(st), SL_NOT_FOUND);
    sl_checkpoint_close(r);
    sl_status_free(st);
}

static void write_sample(const char *prefix, sl_tensor **ts, const char **names, int *n)
{
    sl_status *st = sl_status_new();
    sl_shape s1 = sl_shape_matrix(3, 4), s2 = sl_shape_vector(5), s3 = sl_shape_scalar(), s4 = sl_shape_vector(3);
    ts[0] = sl_tensor_new(SL_DTYPE_FLOAT, &s1, st);
    for (int i = 0; i < 12; i++)
        ((float *)sl_tensor_data(ts[0]))[i] = 0.5f * (float)i - 1.0f;
    ts[1] = sl_tensor_new(SL_DTYPE_DOUBLE, &s2, st);
    for (int i = 0; i < 5; i++)
        ((double *)sl_tensor_data(ts[1]))[i] = 1.0 / (i + 1);
    ts[2] = sl_tensor_new_scalar_int64(1234567890123LL, st);
    ts[3] = sl_tensor_new(SL_DTYPE_STRING, &s4, st);
    sl_tensor_set_string(ts[3], 0, "hello", 5, st);
    sl_tensor_set_string(ts[3], 2, "checkpoint", 10, st);
    ts[4] = sl_tensor_new(SL_DTYPE_INT32, &s3, st);
    *(int32_t *)sl_tensor_data(ts[4]) = -7;
    /* more than one restart interval of keys, sharing prefixes */
    static const char *base[] = {"layer1/W1", "layer1/W1/Adam", "global_step", "names", "layer0/b"};
    for (int i = 0; i < 5; i++)
        names[i] = base[i];
    *n = 5;
    for (int i = 5; i < 40; i++) {
        char buf[64];
        snprintf(buf, sizeof(buf), "deep/scope/var_%02d", i);
        names[i] = strdup(buf);
        ts[i] = sl_tensor_new_scalar_float((float)i, st);
        (*n)++;
    }
    if (sl_checkpoint_write(prefix, names, (const sl_tensor *const *)ts, *n, st) != SL_OK)
        fail_msg("%s", sl_status_message(st));
    sl_status_free(st);
}

static void release_sample(sl_tensor **ts, const char **names, int n)
{
    for (int i = 0; i < n; i++) {
        sl_tensor_unref(ts[i]);
        if (i >= 5)
            free((char *)names[i]);
    }
}

static void test_checkpoint_round_trip_and_python_parser(void **state)
{
    (void)state;
    char prefix[300];
    snprintf(prefix, sizeof(prefix), "%s/model.ckpt-100", tmpdir);
    sl_tensor *ts[40];
    const char *names[40];
    int n;
    write_sample(prefix, ts, names, &n);
    sl_status *st = sl_status_new();
    sl_checkpoint_reader *r = sl_checkpoint_open(prefix, st);
    if (!r)
        fail_msg("%s", sl_status_message(st));
    assert_int_equal(sl_checkpoint_num_entries(r), n);
    for (int i = 0; i < n; i++) {
        sl_tensor *t = sl_checkpoint_read(r, names[i], st);
        if (!t)
            fail_msg("%s: %s", names[i], sl_status_message(st));
        assert_true(sl_tensor_equal(t, ts[i]));
        sl_tensor_unref(t);
    }
    for (int i = 1; i < n; i++)
        assert_true(strcmp(sl_checkpoint_entry_name(r, i - 1), sl_checkpoint_entry_name(r, i)) < 0);
    sl_checkpoint_close(r);

    /* the independent parser: checksums and values */
    if (access("/usr/bin/python3", X_OK) == 0) {
        char cmd[800], out[300];
        snprintf(out, sizeof(out), "%s/parsed.txt", tmpdir);
        snprintf(cmd, sizeof(cmd), "/usr/bin/python3 '%s' '%s' > '%s'", SL_PARSER, prefix, out);
        assert_int_equal(system(cmd), 0);
        FILE *f = fopen(out, "r");
        char line[512];
        int lines = 0;
        bool saw_w = false, saw_s = false, saw_i = false;
        while (fgets(line, sizeof(line), f)) {
            lines++;
            saw_w |= !strcmp(line, "layer1/W1 1 [3, 4] -1.0 -0.5 0.0 0.5 1.0 1.5 2.0 2.5 3.0 3.5 4.0 4.5\n");
            saw_s |= !strcmp(line, "names 7 [3] 5 bytes 0 bytes 10 bytes\n");
            saw_i |= !strcmp(line, "global_step 9 [] 1234567890123\n");
        }
        fclose(f);
        assert_int_equal(lines, n);
        assert_true(saw_w && saw_s && saw_i);
    }
    release_sample(ts, names, n);
    sl_status_free(st);
}

static void test_checkpoint_corruption_and_errors(void **state)
{
    (void)state;
    char prefix[300], path[340];
    snprintf(prefix, sizeof(prefix), "%s/bad", tmpdir);
    sl_tensor *ts[40];
    const char *names[40];
    int n;
    write_sample(prefix, ts, names, &n);
    sl_status *st = sl_status_new();

    /* a flipped bit in the data shard: the tensor read fails, others work */
    snprintf(path, sizeof(path), "%s.data-00000-of-00001", prefix);
    FILE *f = fopen(path, "r+b");
    fseek(f, 3, SEEK_SET);
    int c = fgetc(f);
    fseek(f, 3, SEEK_SET);
    fputc(c ^ 0x10, f);
    fclose(f);
    sl_checkpoint_reader *r = sl_checkpoint_open(prefix, st);
    assert_non_null(r);
    int corrupted = 0;
    for (int i = 0; i < n; i++) {
        sl_tensor *t = sl_checkpoint_read(r, names[i], st);
        if (!t) {
            assert_int_equal(sl_status_code(st), SL_DATA_LOSS);
            assert_non_null(strstr(sl_status_message(st), "checksum"));
            corrupted++;
        }
        sl_tensor_unref(t);
    }
    assert_int_equal(corrupted, 1);
    sl_checkpoint_close(r);

    /* every flipped byte of the index is caught at open or read, never a crash */
    snprintf(path, sizeof(path), "%s.index", prefix);
    struct stat sb;
    stat(path, &sb);
    for (long off = 0; off < sb.st_size; off++) {
        f = fopen(path, "r+b");
        fseek(f, off, SEEK_SET);
        c = fgetc(f);
        fseek(f, off, SEEK_SET);
        fputc(c ^ 0x01, f);
        fclose(f);
        r = sl_checkpoint_open(prefix, st);
        if (r) {
            /* only footer padding is not covered by a checksum */
            assert_true(off >= sb.st_size - 48);
            sl_checkpoint_close(r);
        } else {
            assert_true(sl_status_code(st) == SL_DATA_LOSS || sl_status_code(st) == SL_UNIMPLEMENTED);
            assert_non_null(strstr(sl_status_message(st), "bad.index"));
        }
        f = fopen(path, "r+b");
        fseek(f, off, SEEK_SET);
        fputc(c, f);
        fclose(f);
    }
    /* truncated index */
    assert_int_equal(truncate(path, 20), 0);
    assert_null(sl_checkpoint_open(prefix, st));
    assert_int_equal(sl_status_code(st), SL_DATA_LOSS);

    /* a failing write leaves the previous checkpoint as it was */
    char good[300];
    snprintf(good, sizeof(good), "%s/good", tmpdir);
    assert_int_equal(sl_checkpoint_write(good, names, (const sl_tensor *const *)ts, n, st), SL_OK);
    const char *dup[2] = {"a", "a"};
    const sl_tensor *two[2] = {ts[0], ts[1]};
    assert_int_equal(sl_checkpoint_write(good, dup, two, 2, st), SL_INVALID_ARGUMENT);
    assert_non_null(strstr(sl_status_message(st), "'a' given twice"));
    r = sl_checkpoint_open(good, st);
    assert_non_null(r);
    assert_int_equal(sl_checkpoint_num_entries(r), n);
    sl_checkpoint_close(r);

    snprintf(path, sizeof(path), "%s/none", tmpdir);
    assert_null(sl_checkpoint_open(path, st));
    assert_int_equal(sl_status_code(st), SL_NOT_FOUND);
    release_sample(ts, names, n);
    sl_status_free(st);
}

static void test_crc32c_vectors(void **state)
{
    (void)state;
    /* RFC 3720 B.4 and the LevelDB test values */
    unsigned char zeros[32] = {0}, ones[32];
    memset(ones, 0xff, 32);
    assert_int_equal(sl_crc32c_extend(0, zeros, 32), 0x8a9136aa);
    assert_int_equal(sl_crc32c_extend(0, ones, 32), 0x62a8ab43);
    assert_int_equal(sl_crc32c_extend(0, "123456789", 9), 0xe3069283);
    assert_int_equal(sl_crc32c_extend(sl_crc32c_extend(0, "1234", 4), "56789", 5), 0xe3069283);
}

int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_crc32c_vectors),
        cmocka_unit_test(test_checkpoint_round_trip_and_python_parser),
        cmocka_unit_test(test_checkpoint_corruption_and_errors),
    };
    const struct CMUnitTest fixture_tests[] = {
        cmocka_unit_test(test_checkpoint_reads_tf_fixture),
    };
    if (argc > 1 && !strcmp(argv[1], "fixtures")) {
        struct stat sb;
        if (stat(FIXTURE ".index", &sb) != 0)
            return 77;
        return cmocka_run_group_tests_name("checkpoint-fixtures", fixture_tests, NULL, NULL);
    }
    return cmocka_run_group_tests_name("checkpoint", tests, setup, teardown);
}
