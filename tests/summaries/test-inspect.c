/* Tests of summaries/inspect.c: the text and JSON summaries of a logdir
 * and of a single file, and CSV/JSON export of each kind, byte for byte
 * where the format is fixed; errors name what exists. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "helpers.h"
#include "sluice/status.h"
#include "sluice/summaries/inspect.h"
#include "sluice/summaries/writer.h"

typedef struct fixture {
    char *dir;
    sl_status *st;
    char *out;
    size_t out_size;
} fixture;

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof(*f));
    f->dir = th_mkdtemp();
    f->st = sl_status_new();
    /* run "train": scalars, histogram, text, image; run "eval": one scalar */
    char *train = th_join(f->dir, "train");
    sl_summary_writer *w = sl_summary_writer_open(train, NULL, f->st);
    for (int s = 0; s < 3; s++)
        sl_summary_writer_add_scalar(w, "loss", 0.5f * (float)s, s * 10, 1000.0 + s, f->st);
    sl_summary_writer_add_scalar(w, "odd", INFINITY, 0, 1000.0, f->st);
    const double vals[4] = {0, 1, 2, 3};
    sl_summary_writer_add_histogram(w, "weights", vals, 4, 2, 5, 1000.5, f->st);
    const char *txt[2] = {"say \"hi\"", "a,b\nc"};
    sl_summary_writer_add_text(w, "notes", txt, NULL, 2, 7, 1001.0, f->st);
    uint8_t px[2 * 2 * 3] = {0};
    sl_image img = {px, 2, 2, 3, 0};
    sl_summary_writer_add_images(w, "pic", &img, 1, 8, 1002.0, f->st);
    sl_summary_writer_close(w, f->st);
    char *eval = th_join(f->dir, "eval");
    w = sl_summary_writer_open(eval, NULL, f->st);
    sl_summary_writer_add_scalar(w, "acc", 0.25f, 100, 2000.0, f->st);
    sl_summary_writer_close(w, f->st);
    free(train);
    free(eval);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    th_rmtree(f->dir);
    free(f->dir);
    free(f->out);
    sl_status_free(f->st);
    free(f);
    return 0;
}

static FILE *start(fixture *f)
{
    free(f->out);
    f->out = NULL;
    return open_memstream(&f->out, &f->out_size);
}

static void test_inspect_text(void **state)
{
    fixture *f = *state;
    FILE *out = start(f);
    assert_int_equal(sl_logdir_inspect(f->dir, false, out, f->st), SL_OK);
    fclose(out);
    assert_non_null(strstr(f->out, ": 2 runs\n"));
    assert_non_null(strstr(f->out, "\nrun eval (started 1970-01-01T00:33:20Z)\n"));
    assert_non_null(strstr(f->out, "\nrun train "));
    assert_non_null(strstr(f->out, "  acc  scalar              1  100..100\n"));
    assert_non_null(strstr(f->out, "loss     scalar              3  0..20\n"));
    assert_non_null(strstr(f->out, "weights  histogram           1  5..5\n"));
    assert_non_null(strstr(f->out, "notes    text                1  7..7\n"));
    assert_non_null(strstr(f->out, "pic      image               1  8..8\n"));
    /* eval comes before train, and tags are sorted */
    assert_true(strstr(f->out, "run eval") < strstr(f->out, "run train"));
    assert_true(strstr(f->out, "  loss ") < strstr(f->out, "  notes "));
}

static void test_inspect_json(void **state)
{
    fixture *f = *state;
    FILE *out = start(f);
    assert_int_equal(sl_logdir_inspect(f->dir, true, out, f->st), SL_OK);
    fclose(out);
    assert_non_null(strstr(f->out, "\"runs\": ["));
    assert_non_null(strstr(f->out, "{\"name\": \"eval\", \"start_time\": 2000, \"files\": [{"));
    assert_non_null(strstr(f->out, "{\"tag\": \"loss\", \"kind\": \"scalar\", \"plugin\": "
                                   "\"scalars\", \"points\": 3, \"min_step\": 0, \"max_step\": 20}"));
    assert_non_null(strstr(f->out, "\"error\": null"));
    /* brackets balance outside strings */
    int depth = 0;
    bool in_str = false;
    for (const char *p = f->out; *p; p++) {
        if (in_str) {
            if (*p == '\\')
                p++;
            else if (*p == '"')
                in_str = false;
            continue;
        }
        if (*p == '"')
            in_str = true;
        else if (*p == '{' || *p == '[')
            depth++;
        else if (*p == '}' || *p == ']')
            depth--;
        assert_true(depth >= 0);
    }
    assert_int_equal(depth, 0);
}

static void test_inspect_single_file_and_damage(void **state)
{
    fixture *f = *state;
    char *eval = th_join(f->dir, "eval");
    char *path = th_find_event_file(eval);
    FILE *out = start(f);
    assert_int_equal(sl_logdir_inspect(path, false, out, f->st), SL_OK);
    fclose(out);
    assert_non_null(strstr(f->out, ": 1 run\n"));
    assert_non_null(strstr(f->out, "\nrun . "));
    assert_non_null(strstr(f->out, "acc "));
    /* damage the file: inspect still works and reports it */
    size_t size;
    uint8_t *data = th_read_file(path, &size);
    data[size - 5] ^= 1;
    th_write_file(path, data, size, false);
    out = start(f);
    assert_int_equal(sl_logdir_inspect(f->dir, false, out, f->st), SL_OK);
    fclose(out);
    assert_non_null(strstr(f->out, "; error: corrupted record at offset"));
    out = start(f);
    char *missing = th_join(f->dir, "missing");
    assert_int_equal(sl_logdir_inspect(missing, false, out, f->st), SL_NOT_FOUND);
    fclose(out);
    free(missing);
    free(data);
    free(path);
    free(eval);
}

static void test_export_csv(void **state)
{
    fixture *f = *state;
    FILE *out = start(f);
    assert_int_equal(sl_logdir_export(f->dir, "train", "loss", "csv", out, f->st), SL_OK);
    fclose(out);
    assert_string_equal(f->out, "wall_time,step,value\n"
                                "1000,0,0\n"
                                "1001,10,0.5\n"
                                "1002,20,1\n");
    out = start(f);
    assert_int_equal(sl_logdir_export(f->dir, "train", "odd", "csv", out, f->st), SL_OK);
    fclose(out);
    assert_string_equal(f->out, "wall_time,step,value\n1000,0,inf\n");
    out = start(f);
    assert_int_equal(sl_logdir_export(f->dir, "train", "weights", "csv", out, f->st), SL_OK);
    fclose(out);
    assert_string_equal(f->out, "wall_time,step,left,right,count\n"
                                "1000.5,5,0,1.5,2\n"
                                "1000.5,5,1.5,3,2\n");
    out = start(f);
    assert_int_equal(sl_logdir_export(f->dir, "train", "notes", "csv", out, f->st), SL_OK);
    fclose(out);
    assert_string_equal(f->out, "wall_time,step,index,text\n"
                                "1001,7,0,\"say \"\"hi\"\"\"\n"
                                "1001,7,1,\"a,b\nc\"\n");
    out = start(f);
    assert_int_equal(sl_logdir_export(f->dir, "train", "pic", "csv", out, f->st), SL_OK);
    fclose(out);
    assert_non_null(strstr(f->out, "wall_time,step,index,width,height,bytes\n1002,8,0,2,2,"));
}

static void test_export_json(void **state)
{
    fixture *f = *state;
    FILE *out = start(f);
    assert_int_equal(sl_logdir_export(f->dir, "train", "loss", "json", out, f->st), SL_OK);
    fclose(out);
    assert_string_equal(f->out, "[\n {\"wall_time\": 1000, \"step\": 0, \"value\": 0},\n"
                                " {\"wall_time\": 1001, \"step\": 10, \"value\": 0.5},\n"
                                " {\"wall_time\": 1002, \"step\": 20, \"value\": 1}\n]\n");
    out = start(f);
    assert_int_equal(sl_logdir_export(f->dir, "train", "odd", "json", out, f->st), SL_OK);
    fclose(out);
    assert_non_null(strstr(f->out, "\"value\": \"Infinity\""));
    out = start(f);
    assert_int_equal(sl_logdir_export(f->dir, "train", "weights", "json", out, f->st), SL_OK);
    fclose(out);
    assert_non_null(strstr(f->out, "\"buckets\": [[0, 1.5, 2], [1.5, 3, 2]]"));
    out = start(f);
    assert_int_equal(sl_logdir_export(f->dir, "train", "notes", "json", out, f->st), SL_OK);
    fclose(out);
    assert_non_null(strstr(f->out, "\"text\": [\"say \\\"hi\\\"\", \"a,b\\nc\"]"));
    out = start(f);
    assert_int_equal(sl_logdir_export(f->dir, "train", "pic", "json", out, f->st), SL_OK);
    fclose(out);
    assert_non_null(strstr(f->out, "\"width\": 2, \"height\": 2, \"images\": [\"iVBORw0KGgo"));
}

static void test_export_errors(void **state)
{
    fixture *f = *state;
    FILE *out = start(f);
    assert_int_equal(sl_logdir_export(f->dir, "train", "loss", "xml", out, f->st),
                     SL_INVALID_ARGUMENT);
    assert_int_equal(sl_logdir_export(f->dir, "test", "loss", "csv", out, f->st), SL_NOT_FOUND);
    assert_non_null(strstr(sl_status_message(f->st), "'eval', 'train'"));
    assert_int_equal(sl_logdir_export(f->dir, "train", "los", "csv", out, f->st), SL_NOT_FOUND);
    assert_non_null(strstr(sl_status_message(f->st), "'loss'"));
    fclose(out);
}

static void test_inspect_fixtures(void **state)
{
    fixture *f = *state;
    if (!th_have_fixtures())
        skip();
    char *root = th_join(SL_FIXTURES_DIR, "events");
    FILE *out = start(f);
    assert_int_equal(sl_logdir_inspect(root, false, out, f->st), SL_OK);
    fclose(out);
    assert_non_null(strstr(f->out, ": 3 runs\n"));
    assert_non_null(strstr(f->out, "strict/foo  scalar            100  0..495\n"));
    assert_non_null(strstr(f->out, "lax/bar_1  scalar            110  0..109\n"));
    assert_non_null(strstr(f->out, "model_fn_begin      scalar              3  0..0\n"));
    out = start(f);
    assert_int_equal(sl_logdir_export(root, "pytorch_scalars/strict_run_1", "strict/foo", "csv",
                                      out, f->st),
                     SL_OK);
    fclose(out);
    size_t lines = 0;
    for (const char *p = f->out; *p; p++)
        lines += *p == '\n';
    assert_int_equal(lines, 101);
    assert_non_null(strstr(f->out, "\n1622543341.758558,0,1.4962565898895264\n"));
    free(root);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_inspect_text, setup, teardown),
        cmocka_unit_test_setup_teardown(test_inspect_json, setup, teardown),
        cmocka_unit_test_setup_teardown(test_inspect_single_file_and_damage, setup, teardown),
        cmocka_unit_test_setup_teardown(test_export_csv, setup, teardown),
        cmocka_unit_test_setup_teardown(test_export_json, setup, teardown),
        cmocka_unit_test_setup_teardown(test_export_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_inspect_fixtures, setup, teardown),
    };
    return cmocka_run_group_tests_name("inspect", tests, NULL, NULL);
}
