/* Tests of summaries/event-parse.c: the zero-copy decoder against events
 * packed by protobuf-c, hand-made wire forms (unpacked repeated fields,
 * unknown fields, wrong wire types, repeated oneof members), TensorProto
 * element decoding for every numeric dtype and encoding, and garbage that
 * must be rejected without reading out of bounds (valgrind checks that). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "event.pb-c.h"
#include "sluice/status.h"
#include "sluice/summaries/event.h"

static sl_status *g_st;

static uint8_t *pack_event(const Tensorflow__Event *ev, size_t *size)
{
    *size = tensorflow__event__get_packed_size(ev);
    uint8_t *buf = malloc(*size ? *size : 1);
    tensorflow__event__pack(ev, buf);
    return buf;
}

static void test_event_parse_header_fields(void **state)
{
    (void)state;
    Tensorflow__SourceMetadata src = TENSORFLOW__SOURCE_METADATA__INIT;
    src.writer = (char *)"me";
    Tensorflow__Event ev = TENSORFLOW__EVENT__INIT;
    ev.wall_time = 1637583273.2159307;
    ev.step = -5;
    ev.what_case = TENSORFLOW__EVENT__WHAT_FILE_VERSION;
    ev.file_version = (char *)"brain.Event:2";
    ev.source_metadata = &src;
    size_t n;
    uint8_t *buf = pack_event(&ev, &n);
    sl_event e;
    assert_int_equal(sl_event_parse(buf, n, &e, g_st), SL_OK);
    assert_true(e.wall_time == 1637583273.2159307);
    assert_int_equal(e.step, -5);
    assert_int_equal(e.what, SL_EVENT_FILE_VERSION);
    assert_int_equal(e.body.size, 13);
    assert_memory_equal(e.body.data, "brain.Event:2", 13);
    assert_int_equal(e.writer.size, 2);
    assert_memory_equal(e.writer.data, "me", 2);
    assert_ptr_equal(e.payload.data, buf);
    assert_int_equal(e.payload.size, n);
    free(buf);

    /* the 24-byte payload of FORMATS.md §1 */
    static const uint8_t tf[24] = {0x09, 0xcf, 0xd1, 0x4d, 0x6a, 0xe2, 0x66, 0xd8, 0x41,
                                   0x1a, 0x0d, 'b',  'r',  'a',  'i',  'n',  '.',  'E',
                                   'v',  'e',  'n',  't',  ':',  '2'};
    assert_int_equal(sl_event_parse(tf, sizeof tf, &e, g_st), SL_OK);
    assert_true(e.wall_time == 1637583273.2159307);
    assert_int_equal(e.step, 0);
    assert_int_equal(e.what, SL_EVENT_FILE_VERSION);

    /* tensorboardX 1.x: only a wall_time */
    assert_int_equal(sl_event_parse(tf, 9, &e, g_st), SL_OK);
    assert_int_equal(e.what, SL_EVENT_NONE);
    assert_int_equal(e.body.size, 0);

    /* an empty payload is an empty event */
    assert_int_equal(sl_event_parse(tf, 0, &e, g_st), SL_OK);
    assert_int_equal(e.what, SL_EVENT_NONE);
}

static void test_event_parse_every_what(void **state)
{
    (void)state;
    uint8_t blob[3] = {1, 2, 3};
    Tensorflow__Summary s = TENSORFLOW__SUMMARY__INIT;
    Tensorflow__SessionLog sl = TENSORFLOW__SESSION_LOG__INIT;
    sl.status = TENSORFLOW__SESSION_LOG__SESSION_STATUS__START;
    Tensorflow__TaggedRunMetadata trm = TENSORFLOW__TAGGED_RUN_METADATA__INIT;
    trm.tag = (char *)"step1";
    trm.run_metadata.data = blob;
    trm.run_metadata.len = 3;
    for (int what = 3; what <= 9; what++) {
        if (what == 6)
            continue; /* deprecated log_message: covered by hand below */
        Tensorflow__Event ev = TENSORFLOW__EVENT__INIT;
        ev.step = 7;
        ev.what_case = (Tensorflow__Event__WhatCase)what;
        switch (what) {
        case 3: ev.file_version = (char *)"v"; break;
        case 4: ev.graph_def.data = blob; ev.graph_def.len = 3; break;
        case 5: ev.summary = &s; break;
        case 7: ev.session_log = &sl; break;
        case 8: ev.tagged_run_metadata = &trm; break;
        case 9: ev.meta_graph_def.data = blob; ev.meta_graph_def.len = 3; break;
        }
        size_t n;
        uint8_t *buf = pack_event(&ev, &n);
        sl_event e;
        assert_int_equal(sl_event_parse(buf, n, &e, g_st), SL_OK);
        assert_int_equal(e.what, what);
        assert_int_equal(e.step, 7);
        if (what == 8) {
            sl_bytes tag, rm;
            assert_int_equal(sl_event_tagged_run_metadata(e.body, &tag, &rm, g_st), SL_OK);
            assert_int_equal(tag.size, 5);
            assert_memory_equal(tag.data, "step1", 5);
            assert_int_equal(rm.size, 3);
            assert_memory_equal(rm.data, blob, 3);
        }
        if (what == 4 || what == 9) {
            assert_int_equal(e.body.size, 3);
            assert_memory_equal(e.body.data, blob, 3);
        }
        free(buf);
    }
    /* log_message by hand: 32 02 08 14 (level INFO) */
    static const uint8_t lm[] = {0x10, 0x01, 0x32, 0x02, 0x08, 0x14};
    sl_event e;
    assert_int_equal(sl_event_parse(lm, sizeof lm, &e, g_st), SL_OK);
    assert_int_equal(e.what, SL_EVENT_LOG_MESSAGE);
    assert_int_equal(e.step, 1);
}

static void test_event_unknown_fields_and_oneof(void **state)
{
    (void)state;
    /* unknown fields of every wire type, a known field with the wrong wire
     * type (step as fixed32), then two oneof members: the last wins */
    static const uint8_t buf[] = {
        0x58, 0x96, 0x01,                   /* field 11 varint */
        0x61, 1, 2, 3, 4, 5, 6, 7, 8,       /* field 12 fixed64 */
        0x6a, 0x02, 'h', 'i',               /* field 13 bytes */
        0x75, 1, 2, 3, 4,                   /* field 14 fixed32 */
        0x15, 9, 9, 9, 9,                   /* field 2 (step) as fixed32: skipped */
        0x10, 0x03,                         /* step = 3 */
        0x1a, 0x01, 'x',                    /* file_version "x" */
        0x22, 0x02, 0xaa, 0xbb,             /* graph_def: wins */
    };
    sl_event e;
    assert_int_equal(sl_event_parse(buf, sizeof buf, &e, g_st), SL_OK);
    assert_int_equal(e.step, 3);
    assert_int_equal(e.what, SL_EVENT_GRAPH_DEF);
    assert_int_equal(e.body.size, 2);
}

static void test_event_malformed(void **state)
{
    (void)state;
    static const uint8_t truncated_len[] = {0x1a, 0x05, 'a', 'b'};
    static const uint8_t truncated_fixed[] = {0x09, 1, 2, 3};
    static const uint8_t bad_varint[] = {0x10, 0xff, 0xff, 0xff, 0xff, 0xff,
                                         0xff, 0xff, 0xff, 0xff, 0xff, 0x01};
    static const uint8_t group[] = {0x0b, 0x0c};
    static const uint8_t field0[] = {0x00, 0x01};
    const struct { const uint8_t *p; size_t n; } cases[] = {
        {truncated_len, sizeof truncated_len},
        {truncated_fixed, sizeof truncated_fixed},
        {bad_varint, sizeof bad_varint},
        {group, sizeof group},
        {field0, sizeof field0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        sl_event e = {.step = 42};
        assert_int_equal(sl_event_parse(cases[i].p, cases[i].n, &e, g_st), SL_DATA_LOSS);
        assert_int_equal(e.step, 42); /* untouched */
        assert_non_null(strstr(sl_status_message(g_st), "malformed event at byte"));
    }
}

/* Packs a Summary of the given values into an Event body. */
static uint8_t *pack_summary(Tensorflow__Summary__Value **values, size_t n, size_t *size)
{
    Tensorflow__Summary s = TENSORFLOW__SUMMARY__INIT;
    s.n_value = n;
    s.value = values;
    *size = tensorflow__summary__get_packed_size(&s);
    uint8_t *buf = malloc(*size ? *size : 1);
    tensorflow__summary__pack(&s, buf);
    return buf;
}

static void test_summary_values(void **state)
{
    (void)state;
    Tensorflow__Summary__Value v1 = TENSORFLOW__SUMMARY__VALUE__INIT;
    v1.tag = (char *)"loss";
    v1.value_case = TENSORFLOW__SUMMARY__VALUE__VALUE_SIMPLE_VALUE;
    v1.simple_value = 0.5f;
    Tensorflow__SummaryMetadata__PluginData pd = TENSORFLOW__SUMMARY_METADATA__PLUGIN_DATA__INIT;
    pd.plugin_name = (char *)"scalars";
    uint8_t content[2] = {0x08, 0x01};
    pd.content.data = content;
    pd.content.len = 2;
    Tensorflow__SummaryMetadata md = TENSORFLOW__SUMMARY_METADATA__INIT;
    md.plugin_data = &pd;
    md.display_name = (char *)"Loss";
    md.data_class = TENSORFLOW__DATA_CLASS__DATA_CLASS_SCALAR;
    Tensorflow__TensorShapeProto shape = TENSORFLOW__TENSOR_SHAPE_PROTO__INIT;
    Tensorflow__TensorProto t = TENSORFLOW__TENSOR_PROTO__INIT;
    t.dtype = TENSORFLOW__DATA_TYPE__DT_FLOAT;
    t.tensor_shape = &shape;
    float fv = 0.25f;
    t.tensor_content.data = (uint8_t *)&fv;
    t.tensor_content.len = 4;
    Tensorflow__Summary__Value v2 = TENSORFLOW__SUMMARY__VALUE__INIT;
    v2.tag = (char *)"acc";
    v2.metadata = &md;
    v2.value_case = TENSORFLOW__SUMMARY__VALUE__VALUE_TENSOR;
    v2.tensor = &t;
    Tensorflow__Summary__Value *vals[2] = {&v1, &v2};
    size_t n;
    uint8_t *buf = pack_summary(vals, 2, &n);

    sl_summary_iter it;
    sl_summary_iter_init(&it, (sl_bytes){buf, n});
    sl_summary_value v;
    assert_int_equal(sl_summary_iter_next(&it, &v, g_st), SL_OK);
    assert_int_equal(v.tag.size, 4);
    assert_memory_equal(v.tag.data, "loss", 4);
    assert_int_equal(v.value_case, SL_VALUE_SIMPLE);
    assert_true(v.simple_value == 0.5f);
    assert_false(v.has_metadata);
    assert_int_equal(sl_summary_iter_next(&it, &v, g_st), SL_OK);
    assert_int_equal(v.value_case, SL_VALUE_TENSOR);
    assert_true(v.has_metadata);
    assert_int_equal(v.plugin_name.size, 7);
    assert_memory_equal(v.plugin_name.data, "scalars", 7);
    assert_int_equal(v.plugin_content.size, 2);
    assert_int_equal(v.display_name.size, 4);
    assert_int_equal(v.data_class, 1);
    sl_tensor_view tv;
    assert_int_equal(sl_tensor_view_parse(v.body, &tv, g_st), SL_OK);
    assert_int_equal(tv.dtype, 1);
    assert_int_equal(tv.rank, 0);
    assert_int_equal(tv.num_elements, 1);
    double d;
    assert_int_equal(sl_tensor_view_to_doubles(&tv, &d, 1, g_st), SL_OK);
    assert_true(d == 0.25);
    assert_int_equal(sl_summary_iter_next(&it, &v, g_st), SL_OUT_OF_RANGE);
    free(buf);

    /* node_name stands in for an empty tag (old files) */
    static const uint8_t old[] = {0x0a, 0x09, 0x3a, 0x02, 'n', 'n', 0x15, 0, 0, 0x80, 0x3f};
    sl_summary_iter_init(&it, (sl_bytes){old, sizeof old});
    assert_int_equal(sl_summary_iter_next(&it, &v, g_st), SL_OK);
    sl_bytes tag = sl_summary_value_tag(&v);
    assert_int_equal(tag.size, 2);
    assert_memory_equal(tag.data, "nn", 2);
    assert_true(v.simple_value == 1.0f);

    /* a value cut short */
    static const uint8_t cut[] = {0x0a, 0x05, 0x0a, 0x07, 'a', 'b', 'c'};
    sl_summary_iter_init(&it, (sl_bytes){cut, sizeof cut});
    assert_int_equal(sl_summary_iter_next(&it, &v, g_st), SL_DATA_LOSS);
}

/* A TensorProto header: dtype and dims, then `extra` raw bytes. */
static size_t tensor_bytes(uint8_t *out, int dtype, const int64_t *dims, int rank,
                           const uint8_t *extra, size_t extra_n)
{
    size_t n = 0;
    out[n++] = 0x08;
    out[n++] = (uint8_t)dtype;
    out[n++] = 0x12;
    size_t shape_len_at = n++;
    size_t start = n;
    for (int i = 0; i < rank; i++) {
        out[n++] = 0x12;
        out[n++] = 2;
        out[n++] = 0x08;
        out[n++] = (uint8_t)dims[i];
    }
    out[shape_len_at] = (uint8_t)(n - start);
    memcpy(out + n, extra, extra_n);
    return n + extra_n;
}

static void test_tensor_decoding(void **state)
{
    (void)state;
    uint8_t buf[256];
    sl_tensor_view tv;
    double d[8];
    int64_t dims3[1] = {3};

    /* float_val packed: 2a 0c <3 floats> */
    float f3[3] = {1.5f, -2.0f, 3.25f};
    uint8_t extra[64];
    extra[0] = 0x2a;
    extra[1] = 12;
    memcpy(extra + 2, f3, 12);
    size_t n = tensor_bytes(buf, 1, dims3, 1, extra, 14);
    assert_int_equal(sl_tensor_view_parse((sl_bytes){buf, n}, &tv, g_st), SL_OK);
    assert_int_equal(tv.num_elements, 3);
    assert_int_equal(sl_tensor_view_to_doubles(&tv, d, 3, g_st), SL_OK);
    assert_true(d[0] == 1.5 && d[1] == -2.0 && d[2] == 3.25);

    /* float_val unpacked: three 2d <float> */
    size_t k = 0;
    for (int i = 0; i < 3; i++) {
        extra[k++] = 0x2d;
        memcpy(extra + k, &f3[i], 4);
        k += 4;
    }
    n = tensor_bytes(buf, 1, dims3, 1, extra, k);
    assert_int_equal(sl_tensor_view_parse((sl_bytes){buf, n}, &tv, g_st), SL_OK);
    assert_int_equal(sl_tensor_view_to_doubles(&tv, d, 3, g_st), SL_OK);
    assert_true(d[0] == 1.5 && d[1] == -2.0 && d[2] == 3.25);

    /* one float_val broadcast over [3] */
    extra[0] = 0x2a;
    extra[1] = 4;
    memcpy(extra + 2, &f3[2], 4);
    n = tensor_bytes(buf, 1, dims3, 1, extra, 6);
    assert_int_equal(sl_tensor_view_parse((sl_bytes){buf, n}, &tv, g_st), SL_OK);
    assert_int_equal(sl_tensor_view_to_doubles(&tv, d, 3, g_st), SL_OK);
    assert_true(d[0] == 3.25 && d[1] == 3.25 && d[2] == 3.25);

    /* no values at all: zeros */
    n = tensor_bytes(buf, 1, dims3, 1, NULL, 0);
    assert_int_equal(sl_tensor_view_parse((sl_bytes){buf, n}, &tv, g_st), SL_OK);
    assert_int_equal(sl_tensor_view_to_doubles(&tv, d, 3, g_st), SL_OK);
    assert_true(d[0] == 0 && d[2] == 0);

    /* double_val, int_val (negative, varint), int64_val, bool_val, half_val */
    double dv = -0.125;
    extra[0] = 0x32;
    extra[1] = 8;
    memcpy(extra + 2, &dv, 8);
    n = tensor_bytes(buf, 2, NULL, 0, extra, 10);
    assert_int_equal(sl_tensor_view_parse((sl_bytes){buf, n}, &tv, g_st), SL_OK);
    assert_int_equal(sl_tensor_view_to_doubles(&tv, d, 1, g_st), SL_OK);
    assert_true(d[0] == -0.125);

    static const uint8_t int_neg[] = {0x3a, 0x0a, 0xfe, 0xff, 0xff, 0xff, 0xff,
                                      0xff, 0xff, 0xff, 0xff, 0x01}; /* -2 */
    n = tensor_bytes(buf, 3, NULL, 0, int_neg, sizeof int_neg);
    assert_int_equal(sl_tensor_view_parse((sl_bytes){buf, n}, &tv, g_st), SL_OK);
    assert_int_equal(sl_tensor_view_to_doubles(&tv, d, 1, g_st), SL_OK);
    assert_true(d[0] == -2);

    static const uint8_t i64[] = {0x50, 0x80, 0x80, 0x80, 0x80, 0x10}; /* unpacked 2^32 */
    n = tensor_bytes(buf, 9, NULL, 0, i64, sizeof i64);
    assert_int_equal(sl_tensor_view_parse((sl_bytes){buf, n}, &tv, g_st), SL_OK);
    assert_int_equal(sl_tensor_view_to_doubles(&tv, d, 1, g_st), SL_OK);
    assert_true(d[0] == 4294967296.0);

    static const uint8_t bools[] = {0x5a, 0x01, 0x01};
    n = tensor_bytes(buf, 10, NULL, 0, bools, sizeof bools);
    assert_int_equal(sl_tensor_view_parse((sl_bytes){buf, n}, &tv, g_st), SL_OK);
    assert_int_equal(sl_tensor_view_to_doubles(&tv, d, 1, g_st), SL_OK);
    assert_true(d[0] == 1);

    static const uint8_t half_one[] = {0x6a, 0x03, 0x80, 0xf8, 0x00}; /* 0x3c00 = 1.0 */
    n = tensor_bytes(buf, 19, NULL, 0, half_one, sizeof half_one);
    assert_int_equal(sl_tensor_view_parse((sl_bytes){buf, n}, &tv, g_st), SL_OK);
    assert_int_equal(sl_tensor_view_to_doubles(&tv, d, 1, g_st), SL_OK);
    assert_true(d[0] == 1.0);

    /* tensor_content of every fixed-size dtype */
    struct { int dtype; uint8_t bytes[8]; size_t n; double want; } content[] = {
        {1, {0, 0, 0xc0, 0x3f}, 4, 1.5},
        {2, {0, 0, 0, 0, 0, 0, 0xf8, 0x3f}, 8, 1.5},
        {3, {0xfe, 0xff, 0xff, 0xff}, 4, -2},
        {4, {200}, 1, 200},
        {5, {0xfe, 0xff}, 2, -2},
        {6, {0xfe}, 1, -2},
        {9, {0xfe, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}, 8, -2},
        {10, {1}, 1, 1},
        {14, {0xc0, 0x3f}, 2, 1.5},  /* bfloat16 */
        {17, {0xfe, 0xff}, 2, 65534},
        {19, {0x00, 0x3e}, 2, 1.5},  /* half */
        {22, {0xfe, 0xff, 0xff, 0xff}, 4, 4294967294.0},
        {23, {2, 0, 0, 0, 0, 0, 0, 0}, 8, 2},
    };
    for (size_t i = 0; i < sizeof content / sizeof content[0]; i++) {
        extra[0] = 0x22;
        extra[1] = (uint8_t)content[i].n;
        memcpy(extra + 2, content[i].bytes, content[i].n);
        n = tensor_bytes(buf, content[i].dtype, NULL, 0, extra, 2 + content[i].n);
        assert_int_equal(sl_tensor_view_parse((sl_bytes){buf, n}, &tv, g_st), SL_OK);
        assert_int_equal(sl_tensor_view_to_doubles(&tv, d, 1, g_st), SL_OK);
        assert_true(d[0] == content[i].want);
    }
    /* content too short */
    extra[0] = 0x22;
    extra[1] = 4;
    memset(extra + 2, 0, 4);
    n = tensor_bytes(buf, 2, NULL, 0, extra, 6);
    assert_int_equal(sl_tensor_view_parse((sl_bytes){buf, n}, &tv, g_st), SL_OK);
    assert_int_equal(sl_tensor_view_to_doubles(&tv, d, 1, g_st), SL_DATA_LOSS);

    /* strings: not numeric; listed */
    static const uint8_t strs[] = {0x42, 0x01, 'a', 0x42, 0x02, 'b', 'c'};
    int64_t dims2[1] = {2};
    n = tensor_bytes(buf, 7, dims2, 1, strs, sizeof strs);
    assert_int_equal(sl_tensor_view_parse((sl_bytes){buf, n}, &tv, g_st), SL_OK);
    assert_int_equal(sl_tensor_view_to_doubles(&tv, d, 1, g_st), SL_INVALID_ARGUMENT);
    sl_bytes s[4];
    int64_t count;
    assert_int_equal(sl_tensor_view_strings(&tv, s, 4, &count, g_st), SL_OK);
    assert_int_equal(count, 2);
    assert_int_equal(s[1].size, 2);
    assert_memory_equal(s[1].data, "bc", 2);
    assert_int_equal(sl_tensor_view_strings(&tv, s, 1, &count, g_st), SL_OK);
    assert_int_equal(count, 2); /* counts beyond max */

    /* unknown rank: elements unknown */
    static const uint8_t unk[] = {0x08, 0x01, 0x12, 0x02, 0x18, 0x01};
    assert_int_equal(sl_tensor_view_parse((sl_bytes){unk, sizeof unk}, &tv, g_st), SL_OK);
    assert_int_equal(tv.num_elements, -1);
}

static void test_garbage_never_crashes(void **state)
{
    (void)state;
    /* random bytes and random mutations of a real event: any result is
     * fine as long as nothing reads out of bounds (valgrind) */
    uint32_t x = 99;
    uint8_t buf[96];
    for (int iter = 0; iter < 20000; iter++) {
        size_t n = 0;
        x = x * 1103515245u + 12345u;
        n = (x >> 16) % sizeof buf;
        for (size_t i = 0; i < n; i++) {
            x = x * 1103515245u + 12345u;
            buf[i] = (uint8_t)(x >> 20);
            /* bias toward plausible keys */
            if ((x & 0x700) == 0)
                buf[i] = (uint8_t)((((x >> 24) % 12) << 3) | 2);
        }
        uint8_t *copy = malloc(n ? n : 1); /* exact size, so valgrind sees overruns */
        memcpy(copy, buf, n);
        sl_event e;
        if (sl_event_parse(copy, n, &e, g_st) == SL_OK && e.what == SL_EVENT_SUMMARY) {
            sl_summary_iter it;
            sl_summary_iter_init(&it, e.body);
            sl_summary_value v;
            while (sl_summary_iter_next(&it, &v, g_st) == SL_OK) {
                sl_tensor_view tv;
                if (v.value_case == SL_VALUE_TENSOR &&
                    sl_tensor_view_parse(v.body, &tv, g_st) == SL_OK) {
                    double d[4];
                    int64_t m = tv.num_elements < 0 ? 0 : tv.num_elements > 4 ? 4 : tv.num_elements;
                    sl_tensor_view_to_doubles(&tv, d, m, g_st);
                    sl_bytes s[4];
                    int64_t count;
                    sl_tensor_view_strings(&tv, s, 4, &count, g_st);
                }
            }
        }
        sl_bytes tag, rm;
        sl_event_tagged_run_metadata((sl_bytes){copy, n}, &tag, &rm, g_st);
        free(copy);
    }
}

int main(void)
{
    g_st = sl_status_new();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_event_parse_header_fields),
        cmocka_unit_test(test_event_parse_every_what),
        cmocka_unit_test(test_event_unknown_fields_and_oneof),
        cmocka_unit_test(test_event_malformed),
        cmocka_unit_test(test_summary_values),
        cmocka_unit_test(test_tensor_decoding),
        cmocka_unit_test(test_garbage_never_crashes),
    };
    int rc = cmocka_run_group_tests_name("event", tests, NULL, NULL);
    sl_status_free(g_st);
    return rc;
}
