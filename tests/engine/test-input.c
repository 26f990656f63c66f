/* Input pipelines: IDX files (loading, a wrong magic number named in the
 * error, lockstep reading of images and labels over epochs), TFRecord
 * files of tf.train.Example read and parsed (a corrupt record reported
 * with the file), CSV through TextLineFileReader and DecodeCSV,
 * ParseSingleExample, and queue runners feeding a RandomShuffleQueue that
 * end cleanly when the readers run out and stop without hanging while
 * blocked on a full queue. */
#include "graph-helpers.h"

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "sluice/alloc.h"
#include "sluice/input.h"
#include "sluice/session.h"
#include "sluice/summaries/record.h"

static sl_status *st;
static char dir[64];

static int setup(void **state)
{
    (void)state;
    st = sl_status_new();
    snprintf(dir, sizeof(dir), "/tmp/sl-input-XXXXXX");
    return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    sl_status_free(st);
    return system(cmd) == 0 ? 0 : -1;
}

static void ok(bool c)
{
    if (!c)
        fail_msg("%s", sl_status_message(st));
}

static const char *path_of(const char *name)
{
    static char buf[4][128];
    static int k;
    k = (k + 1) % 4;
    snprintf(buf[k], sizeof(buf[k]), "%s/%s", dir, name);
    return buf[k];
}

/* images: n x 2 x 3 uint8 with pixel = 10 * i + p % 10; labels: i % 7 */
static void write_idx(int n, const char *images, const char *labels, unsigned magic_images)
{
    FILE *f = fopen(images, "wb");
    unsigned char h[16] = {(unsigned char)(magic_images >> 24), (unsigned char)(magic_images >> 16),
                           (unsigned char)(magic_images >> 8), (unsigned char)magic_images, 0, 0, 0, (unsigned char)n,
                           0, 0, 0, 2, 0, 0, 0, 3};
    fwrite(h, 1, 16, f);
    for (int i = 0; i < n; i++)
        for (int p = 0; p < 6; p++)
            fputc((10 * i + p) & 0xff, f);
    fclose(f);
    f = fopen(labels, "wb");
    unsigned char l[8] = {0, 0, 8, 1, 0, 0, 0, (unsigned char)n};
    fwrite(l, 1, 8, f);
    for (int i = 0; i < n; i++)
        fputc(i % 7, f);
    fclose(f);
}

static sl_node *node(sl_graph *g, sl_node_builder *b)
{
    (void)g;
    return th_finish(b);
}

static sl_node *reader_node(sl_graph *g, const char *op, const char *name, const char *const *files, int n,
                            int64_t epochs)
{
    sl_node_builder *b = sl_node_builder_new(g, op, name);
    sl_node_builder_set_attr_string_list(b, "filenames", files, n);
    sl_node_builder_set_attr_int(b, "num_epochs", epochs);
    return node(g, b);
}

static sl_output scalar_i64(sl_graph *g, int64_t v)
{
    return th_const(g, NULL, sl_tensor_new_scalar_int64(v, NULL));
}

static sl_node *idx_read(sl_graph *g, sl_node *reader, int64_t n, int ncomp)
{
    sl_node_builder *b = sl_node_builder_new(g, "IdxReaderReadUpTo", "read");
    sl_node_builder_add_input(b, (sl_output){reader, 0});
    sl_node_builder_add_input(b, scalar_i64(g, n));
    sl_dtype types[2] = {SL_DTYPE_UINT8, SL_DTYPE_UINT8};
    sl_node_builder_set_attr_type_list(b, "dtypes", types, ncomp);
    return node(g, b);
}

static void test_idx_load_and_bad_magic(void **state)
{
    (void)state;
    write_idx(5, path_of("img"), path_of("lab"), 0x00000803);
    sl_tensor *t = sl_idx_load(path_of("img"), 0, st);
    ok(t != NULL);
    assert_int_equal(sl_tensor_dtype(t), SL_DTYPE_UINT8);
    assert_true(sl_tensor_rank(t) == 3 && sl_tensor_dim(t, 0) == 5 && sl_tensor_dim(t, 2) == 3);
    assert_int_equal(((uint8_t *)sl_tensor_data(t))[4 * 6 + 5], 45);
    sl_tensor_unref(t);
    t = sl_idx_load(path_of("lab"), 3, st);
    assert_int_equal(sl_tensor_dim(t, 0), 3);
    sl_tensor_unref(t);
    /* a wrong magic number: named with the file */
    write_idx(5, path_of("bad"), path_of("lab2"), 0x12345678);
    assert_null(sl_idx_load(path_of("bad"), 0, st));
    assert_int_equal(sl_status_code(st), SL_INVALID_ARGUMENT);
    assert_non_null(strstr(sl_status_message(st), path_of("bad")));
    assert_non_null(strstr(sl_status_message(st), "0x12345678"));
    /* a file cut short */
    FILE *f = fopen(path_of("short"), "wb");
    fwrite("\0\0\x08\x01\0\0\0\x09", 1, 8, f);
    fclose(f);
    assert_null(sl_idx_load(path_of("short"), 0, st));
    assert_int_equal(sl_status_code(st), SL_DATA_LOSS);
    assert_null(sl_idx_load(path_of("missing"), 0, st));
    assert_int_equal(sl_status_code(st), SL_NOT_FOUND);

    /* the reader op reports the bad magic too */
    sl_graph *g = sl_graph_new(st);
    const char *files[2] = {path_of("bad"), path_of("lab2")};
    idx_read(g, reader_node(g, "IdxFileReader", "r", files, 2, 1), 2, 2);
    sl_session *s = sl_session_new(g, NULL, st);
    const char *fetch = "read";
    sl_tensor *out[2];
    assert_int_equal(sl_session_run(s, NULL, NULL, NULL, 0, &fetch, out, 1, NULL, 0, NULL, st), SL_INVALID_ARGUMENT);
    assert_non_null(strstr(sl_status_message(st), "0x12345678"));
    sl_session_free(s);
    sl_graph_free(g);
}

static void test_idx_reader_lockstep_over_epochs(void **state)
{
    (void)state;
    write_idx(10, path_of("img"), path_of("lab"), 0x00000803);
    sl_graph *g = sl_graph_new(st);
    const char *files[2] = {path_of("img"), path_of("lab")};
    idx_read(g, reader_node(g, "IdxFileReader", "r", files, 2, 2), 4, 2);
    sl_session *s = sl_session_new(g, NULL, st);
    const char *fetch[2] = {"read:0", "read:1"};
    int total = 0, sizes[8], nb = 0;
    for (;;) {
        sl_tensor *out[2];
        sl_code rc = sl_session_run(s, NULL, NULL, NULL, 0, fetch, out, 2, NULL, 0, NULL, st);
        if (rc == SL_OUT_OF_RANGE)
            break;
        ok(rc == SL_OK);
        int64_t n = sl_tensor_dim(out[0], 0);
        assert_int_equal(sl_tensor_dim(out[1], 0), n);
        const uint8_t *im = sl_tensor_data(out[0]), *lb = sl_tensor_data(out[1]);
        for (int64_t i = 0; i < n; i++) {
            int rec = (total + (int)i) % 10;
            assert_int_equal(lb[i], rec % 7);
            assert_int_equal(im[i * 6 + 1], 10 * rec + 1);
        }
        total += (int)n;
        sizes[nb++] = (int)n;
        sl_tensor_unref(out[0]);
        sl_tensor_unref(out[1]);
        assert_true(nb < 8);
    }
    assert_int_equal(total, 20);
    assert_int_equal(nb, 5);
    assert_int_equal(sizes[4], 4);
    sl_session_free(s);
    sl_graph_free(g);
}

/* Writes n Examples {x: float[2] = (i, -i), y: int64 = i (omitted when i
 * is 3: the default applies), name: "e<i>"} as a TFRecord file. */
static void write_examples(const char *path, int n)
{
    sl_record_writer *w = sl_record_writer_open(path, SL_RECORD_TRUNCATE, st);
    ok(w != NULL);
    for (int i = 0; i < n; i++) {
        float x[2] = {(float)i, (float)-i};
        int64_t y = i;
        char name[16];
        snprintf(name, sizeof(name), "e%d", i);
        const char *names[1] = {name};
        sl_feature f[3] = {{.key = "x", .kind = 1, .floats = x, .n = 2},
                           {.key = "name", .kind = 0, .bytes = names, .n = 1},
                           {.key = "y", .kind = 2, .int64s = &y, .n = 1}};
        size_t size;
        void *ex = sl_example_encode(f, i == 3 ? 2 : 3, &size, st);
        ok(ex != NULL);
        ok(sl_record_writer_write(w, ex, size, st) == SL_OK);
        sl_free(ex);
    }
    ok(sl_record_writer_close(w, st) == SL_OK);
}

static sl_node *parse_example(sl_graph *g, sl_output serialized)
{
    sl_node_builder *b = sl_node_builder_new(g, "ParseExample", "parse");
    sl_node_builder_add_input(b, serialized);
    sl_shape e = sl_shape_vector(0);
    sl_tensor *names = sl_tensor_new(SL_DTYPE_STRING, &e, NULL);
    sl_node_builder_add_input(b, th_const(g, NULL, names));
    sl_node_builder_add_input_list(b, NULL, 0);
    sl_shape sc = sl_shape_scalar();
    sl_tensor *kx = sl_tensor_new(SL_DTYPE_STRING, &sc, NULL), *ky = sl_tensor_new(SL_DTYPE_STRING, &sc, NULL);
    sl_tensor_set_string(kx, 0, "x", 1, NULL);
    sl_tensor_set_string(ky, 0, "y", 1, NULL);
    sl_output keys[2] = {th_const(g, NULL, kx), th_const(g, NULL, ky)};
    sl_node_builder_add_input_list(b, keys, 2);
    sl_shape v0 = sl_shape_vector(0);
    sl_tensor *dx = sl_tensor_new(SL_DTYPE_FLOAT, &v0, NULL);
    sl_tensor *dy = sl_tensor_new_scalar_int64(-1, NULL);
    sl_output defs[2] = {th_const(g, NULL, dx), th_const(g, NULL, dy)};
    sl_node_builder_add_input_list(b, defs, 2);
    sl_node_builder_set_attr_int(b, "Nsparse", 0);
    sl_node_builder_set_attr_int(b, "Ndense", 2);
    sl_node_builder_set_attr_type_list(b, "sparse_types", NULL, 0);
    sl_dtype td[2] = {SL_DTYPE_FLOAT, SL_DTYPE_INT64};
    sl_node_builder_set_attr_type_list(b, "Tdense", td, 2);
    sl_shape shapes[2] = {sl_shape_vector(2), sl_shape_scalar()};
    sl_node_builder_set_attr_shape_list(b, "dense_shapes", shapes, 2);
    return th_finish(b);
}

static void test_tfrecord_examples_read_and_parsed(void **state)
{
    (void)state;
    write_examples(path_of("data.tfrecord"), 5);
    sl_graph *g = sl_graph_new(st);
    const char *files[1] = {path_of("data.tfrecord")};
    sl_node *r = reader_node(g, "TFRecordFileReader", "r", files, 1, 1);
    sl_node_builder *b = sl_node_builder_new(g, "ReaderReadUpTo", "read");
    sl_node_builder_add_input(b, (sl_output){r, 0});
    sl_node_builder_add_input(b, scalar_i64(g, 3));
    sl_node *rd = th_finish(b);
    parse_example(g, (sl_output){rd, 1});
    sl_session *s = sl_session_new(g, NULL, st);
    const char *fetch[3] = {"parse:0", "parse:1", "read:0"};
    int seen = 0;
    for (int batch = 0; batch < 2; batch++) {
        sl_tensor *out[3];
        if (sl_session_run(s, NULL, NULL, NULL, 0, fetch, out, 3, NULL, 0, NULL, st) != SL_OK)
            fail_msg("batch %d: %s", batch, sl_status_message(st));
        int64_t n = sl_tensor_dim(out[0], 0);
        assert_int_equal(n, batch == 0 ? 3 : 2);
        assert_int_equal(sl_tensor_dim(out[0], 1), 2);
        const float *x = sl_tensor_data(out[0]);
        const int64_t *y = sl_tensor_data(out[1]);
        for (int64_t i = 0; i < n; i++, seen++) {
            assert_true(x[2 * i] == (float)seen && x[2 * i + 1] == (float)-seen);
            assert_int_equal(y[i], seen == 3 ? -1 : seen);
        }
        const sl_tstring *k = sl_tensor_data(out[2]);
        assert_non_null(strstr(k[0].data, "data.tfrecord:"));
        for (int i = 0; i < 3; i++)
            sl_tensor_unref(out[i]);
    }
    sl_tensor *out[3];
    assert_int_equal(sl_session_run(s, NULL, NULL, NULL, 0, fetch, out, 3, NULL, 0, NULL, st), SL_OUT_OF_RANGE);
    sl_session_free(s);

    /* a flipped payload byte: DATA_LOSS naming the file */
    FILE *f = fopen(files[0], "r+b");
    fseek(f, 20, SEEK_SET);
    int c = fgetc(f);
    fseek(f, 20, SEEK_SET);
    fputc(c ^ 0x40, f);
    fclose(f);
    s = sl_session_new(g, NULL, st);
    assert_int_equal(sl_session_run(s, NULL, NULL, NULL, 0, fetch, out, 3, NULL, 0, NULL, st), SL_DATA_LOSS);
    assert_non_null(strstr(sl_status_message(st), "data.tfrecord"));
    sl_session_free(s);
    sl_graph_free(g);
}

static void test_parse_single_example_and_errors(void **state)
{
    (void)state;
    float x[2] = {1.5f, 2.5f};
    sl_feature fe = {.key = "x", .kind = 1, .floats = x, .n = 2};
    size_t size;
    void *ex = sl_example_encode(&fe, 1, &size, st);
    sl_graph *g = sl_graph_new(st);
    sl_output ser = th_ph(g, "ser", SL_DTYPE_STRING, TH_DIMS());
    sl_node_builder *b = sl_node_builder_new(g, "ParseSingleExample", "parse");
    sl_node_builder_add_input(b, ser);
    sl_shape v0 = sl_shape_vector(0);
    sl_output d = th_const(g, NULL, sl_tensor_new(SL_DTYPE_FLOAT, &v0, NULL));
    sl_node_builder_add_input_list(b, &d, 1);
    sl_node_builder_set_attr_int(b, "num_sparse", 0);
    const char *keys[1] = {"x"};
    sl_node_builder_set_attr_string_list(b, "sparse_keys", NULL, 0);
    sl_node_builder_set_attr_string_list(b, "dense_keys", keys, 1);
    sl_node_builder_set_attr_type_list(b, "sparse_types", NULL, 0);
    sl_dtype td = SL_DTYPE_FLOAT;
    sl_node_builder_set_attr_type_list(b, "Tdense", &td, 1);
    sl_shape s2 = sl_shape_vector(2);
    sl_node_builder_set_attr_shape_list(b, "dense_shapes", &s2, 1);
    th_finish(b);
    /* a copy wanting three values: the error names the feature */
    b = sl_node_builder_new(g, "ParseSingleExample", "parse3");
    sl_node_builder_add_input(b, ser);
    sl_node_builder_add_input_list(b, &d, 1);
    sl_node_builder_set_attr_int(b, "num_sparse", 0);
    sl_node_builder_set_attr_string_list(b, "sparse_keys", NULL, 0);
    sl_node_builder_set_attr_string_list(b, "dense_keys", keys, 1);
    sl_node_builder_set_attr_type_list(b, "sparse_types", NULL, 0);
    sl_node_builder_set_attr_type_list(b, "Tdense", &td, 1);
    sl_shape s3 = sl_shape_vector(3);
    sl_node_builder_set_attr_shape_list(b, "dense_shapes", &s3, 1);
    th_finish(b);
    sl_session *s = sl_session_new(g, NULL, st);
    sl_shape sc = sl_shape_scalar();
    sl_tensor *t = sl_tensor_new(SL_DTYPE_STRING, &sc, NULL);
    sl_tensor_set_string(t, 0, ex, size, NULL);
    const char *feed = "ser", *fetch = "parse";
    sl_tensor *out;
    ok(sl_session_run(s, NULL, &feed, &t, 1, &fetch, &out, 1, NULL, 0, NULL, st) == SL_OK);
    assert_true(((float *)sl_tensor_data(out))[1] == 2.5f);
    sl_tensor_unref(out);
    fetch = "parse3";
    assert_int_equal(sl_session_run(s, NULL, &feed, &t, 1, &fetch, &out, 1, NULL, 0, NULL, st), SL_INVALID_ARGUMENT);
    assert_non_null(strstr(sl_status_message(st), "'x' holds 2 float values, expected 3"));
    sl_tensor_set_string(t, 0, "\xff\xff", 2, NULL);
    fetch = "parse";
    assert_int_equal(sl_session_run(s, NULL, &feed, &t, 1, &fetch, &out, 1, NULL, 0, NULL, st), SL_INVALID_ARGUMENT);
    assert_non_null(strstr(sl_status_message(st), "not a serialized tf.train.Example"));
    sl_tensor_unref(t);
    sl_free(ex);
    sl_session_free(s);
    sl_graph_free(g);
}

static void test_csv_lines_decoded(void **state)
{
    (void)state;
    FILE *f = fopen(path_of("a.csv"), "w");
    fputs("x,label,name\n1.5,3,\"a, b\"\n-2,,plain\n", f);
    fclose(f);
    sl_graph *g = sl_graph_new(st);
    const char *files[1] = {path_of("a.csv")};
    sl_node_builder *b = sl_node_builder_new(g, "TextLineFileReader", "r");
    sl_node_builder_set_attr_string_list(b, "filenames", files, 1);
    sl_node_builder_set_attr_int(b, "num_epochs", 1);
    sl_node_builder_set_attr_int(b, "skip_header_lines", 1);
    sl_node *r = th_finish(b);
    b = sl_node_builder_new(g, "ReaderReadUpTo", "read");
    sl_node_builder_add_input(b, (sl_output){r, 0});
    sl_node_builder_add_input(b, scalar_i64(g, 10));
    sl_node *rd = th_finish(b);
    b = sl_node_builder_new(g, "DecodeCSV", "csv");
    sl_node_builder_add_input(b, (sl_output){rd, 1});
    sl_shape v0 = sl_shape_vector(0);
    sl_shape sc = sl_shape_scalar();
    sl_tensor *sdef = sl_tensor_new(SL_DTYPE_STRING, &sc, NULL);
    sl_output defs[3] = {th_const(g, NULL, sl_tensor_new(SL_DTYPE_FLOAT, &v0, NULL)),
                         th_const(g, NULL, sl_tensor_new_scalar_int32(-1, NULL)), th_const(g, NULL, sdef)};
    sl_node_builder_add_input_list(b, defs, 3);
    th_finish(b);
    sl_session *s = sl_session_new(g, NULL, st);
    const char *fetch[3] = {"csv:0", "csv:1", "csv:2"};
    sl_tensor *out[3];
    ok(sl_session_run(s, NULL, NULL, NULL, 0, fetch, out, 3, NULL, 0, NULL, st) == SL_OK);
    assert_int_equal(sl_tensor_num_elements(out[0]), 2);
    assert_true(((float *)sl_tensor_data(out[0]))[0] == 1.5f && ((float *)sl_tensor_data(out[0]))[1] == -2.0f);
    assert_true(((int32_t *)sl_tensor_data(out[1]))[0] == 3 && ((int32_t *)sl_tensor_data(out[1]))[1] == -1);
    assert_string_equal(((sl_tstring *)sl_tensor_data(out[2]))[0].data, "a, b");
    for (int i = 0; i < 3; i++)
        sl_tensor_unref(out[i]);
    sl_session_free(s);
    /* a bad number names the record and the field */
    f = fopen(path_of("a.csv"), "w");
    fputs("h\n1,2,x\nabc,1,y\n", f);
    fclose(f);
    s = sl_session_new(g, NULL, st);
    assert_int_equal(sl_session_run(s, NULL, NULL, NULL, 0, fetch, out, 3, NULL, 0, NULL, st), SL_INVALID_ARGUMENT);
    assert_non_null(strstr(sl_status_message(st), "record 1: field 0 \"abc\" is not a valid float"));
    sl_session_free(s);
    sl_graph_free(g);
}

/* reader -> RandomShuffleQueue -> dequeue many, with a queue runner */
static sl_graph *queue_graph(int64_t epochs, int64_t capacity)
{
    sl_graph *g = sl_graph_new(st);
    const char *files[2] = {path_of("img"), path_of("lab")};
    sl_node *rd = idx_read(g, reader_node(g, "IdxFileReader", "r", files, 2, epochs), 3, 2);
    sl_node_builder *b = sl_node_builder_new(g, "RandomShuffleQueueV2", "q");
    sl_dtype types[2] = {SL_DTYPE_UINT8, SL_DTYPE_UINT8};
    sl_node_builder_set_attr_type_list(b, "component_types", types, 2);
    sl_shape shapes[2] = {sl_shape_matrix(2, 3), sl_shape_scalar()};
    sl_node_builder_set_attr_shape_list(b, "shapes", shapes, 2);
    sl_node_builder_set_attr_int(b, "capacity", capacity);
    sl_node_builder_set_attr_int(b, "min_after_dequeue", 2);
    sl_node_builder_set_attr_int(b, "seed", 5);
    sl_node *q = th_finish(b);
    b = sl_node_builder_new(g, "QueueEnqueueManyV2", "enqueue");
    sl_node_builder_add_input(b, (sl_output){q, 0});
    sl_output comps[2] = {{rd, 0}, {rd, 1}};
    sl_node_builder_add_input_list(b, comps, 2);
    th_finish(b);
    b = sl_node_builder_new(g, "QueueCloseV2", "close");
    sl_node_builder_add_input(b, (sl_output){q, 0});
    th_finish(b);
    b = sl_node_builder_new(g, "QueueCloseV2", "cancel");
    sl_node_builder_add_input(b, (sl_output){q, 0});
    sl_node_builder_set_attr_bool(b, "cancel_pending_enqueues", true);
    th_finish(b);
    b = sl_node_builder_new(g, "QueueDequeueManyV2", "batch");
    sl_node_builder_add_input(b, (sl_output){q, 0});
    sl_node_builder_add_input(b, th_const(g, NULL, sl_tensor_new_scalar_int32(4, NULL)));
    sl_node_builder_set_attr_type_list(b, "component_types", types, 2);
    th_finish(b);
    return g;
}

static void test_queue_runner_feeds_and_ends(void **state)
{
    (void)state;
    write_idx(10, path_of("img"), path_of("lab"), 0x00000803);
    sl_graph *g = queue_graph(3, 8);
    sl_session *s = sl_session_new(g, NULL, st);
    sl_queue_runner *qr = sl_queue_runner_start(s, "enqueue", "close", "cancel", 2, st);
    ok(qr != NULL);
    const char *fetch[2] = {"batch:0", "batch:1"};
    int total = 0, counts[10] = {0};
    for (;;) {
        sl_tensor *out[2];
        sl_code rc = sl_session_run(s, NULL, NULL, NULL, 0, fetch, out, 2, NULL, 0, NULL, st);
        if (rc == SL_OUT_OF_RANGE)
            break;
        ok(rc == SL_OK);
        const uint8_t *im = sl_tensor_data(out[0]), *lb = sl_tensor_data(out[1]);
        for (int i = 0; i < 4; i++) {
            int rec = im[i * 6] / 10;
            assert_int_equal(lb[i], rec % 7); /* still paired after shuffling */
            counts[rec]++;
        }
        total += 4;
        sl_tensor_unref(out[0]);
        sl_tensor_unref(out[1]);
    }
    /* 30 records: 7 full batches, 2 left in the closed queue */
    assert_int_equal(total, 28);
    ok(sl_queue_runner_stop(qr, st) == SL_OK);
    sl_session_free(s);
    sl_graph_free(g);
}

static void test_queue_runner_stops_while_blocked(void **state)
{
    (void)state;
    write_idx(10, path_of("img"), path_of("lab"), 0x00000803);
    sl_graph *g = queue_graph(0, 8); /* endless input, a small queue */
    sl_session *s = sl_session_new(g, NULL, st);
    sl_queue_runner *qr = sl_queue_runner_start(s, "enqueue", "close", "cancel", 2, st);
    ok(qr != NULL);
    const char *fetch = "batch:1";
    sl_tensor *out;
    for (int i = 0; i < 5; i++) {
        ok(sl_session_run(s, NULL, NULL, NULL, 0, &fetch, &out, 1, NULL, 0, NULL, st) == SL_OK);
        sl_tensor_unref(out);
    }
    usleep(20000); /* let both threads block on the full queue */
    assert_false(sl_queue_runner_is_done(qr));
    ok(sl_queue_runner_stop(qr, st) == SL_OK);
    sl_session_free(s);
    sl_graph_free(g);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_idx_load_and_bad_magic, setup, teardown),
        cmocka_unit_test_setup_teardown(test_idx_reader_lockstep_over_epochs, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tfrecord_examples_read_and_parsed, setup, teardown),
        cmocka_unit_test_setup_teardown(test_parse_single_example_and_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_csv_lines_decoded, setup, teardown),
        cmocka_unit_test_setup_teardown(test_queue_runner_feeds_and_ends, setup, teardown),
        cmocka_unit_test_setup_teardown(test_queue_runner_stops_while_blocked, setup, teardown),
    };
    return cmocka_run_group_tests_name("input", tests, NULL, NULL);
}
