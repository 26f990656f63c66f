/* Tests of engine/proto/textformat: the protobuf text-format reader and
 * writer, over every message type in engine/proto.
 *
 * Messages are compared by packing both to bytes: protobuf-c serializes
 * fields in number order and repeated elements in array order, so two
 * equal proto3 messages always pack to the same bytes, and any lost or
 * altered field shows up as a byte difference.
 *
 * Run with no argument for the unit tests.  With the argument "fixtures"
 * it runs the tests over the real TF files in SL_FIXTURES_DIR instead, and
 * exits 77 (meson's "skip") when that folder is absent.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <float.h>
#include <locale.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "attr_value.pb-c.h"
#include "function.pb-c.h"
#include "graph.pb-c.h"
#include "node_def.pb-c.h"
#include "resource_handle.pb-c.h"
#include "sluice/alloc.h"
#include "sluice/status.h"
#include "tensor.pb-c.h"
#include "tensor_shape.pb-c.h"
#include "textformat.h"
#include "types.pb-c.h"
#include "versions.pb-c.h"

#ifndef SL_FIXTURES_DIR
#define SL_FIXTURES_DIR "../shared/fixtures"
#endif

/* --- helpers --- */

static int64_t bytes_in_use(void)
{
    sl_alloc_stats s;
    sl_alloc_get_stats(&s);
    return s.bytes_in_use;
}

typedef struct packed {
    uint8_t *data;
    size_t len;
} packed;

static packed pack(const ProtobufCMessage *m)
{
    packed p;
    p.len = protobuf_c_message_get_packed_size(m);
    p.data = malloc(p.len ? p.len : 1);
    assert_non_null(p.data);
    assert_int_equal(protobuf_c_message_pack(m, p.data), p.len);
    return p;
}

static ProtobufCMessage *parse_ok(const ProtobufCMessageDescriptor *d, const char *text)
{
    sl_status *st = sl_status_new();
    ProtobufCMessage *m = sl_textformat_parse(d, text, strlen(text), "t.pbtxt", st);
    if (!m)
        fail_msg("parse failed: %s\n--- text ---\n%s", sl_status_message(st), text);
    assert_true(sl_status_is_ok(st));
    sl_status_free(st);
    return m;
}

static char *print_ok(const ProtobufCMessage *m, size_t *len)
{
    sl_status *st = sl_status_new();
    char *s = sl_textformat_print(m, len, st);
    if (!s)
        fail_msg("print failed: %s", sl_status_message(st));
    assert_true(sl_status_is_ok(st));
    assert_int_equal(strlen(s), *len);
    sl_status_free(st);
    return s;
}

/* The whole chain for one message: pack -> unpack -> print -> parse ->
 * pack gives the same bytes, and printing the parsed copy gives the same
 * text.  Returns the text (sl_free it). */
static char *check_binary_round_trip(const ProtobufCMessage *m)
{
    packed a = pack(m);
    ProtobufCMessage *u = protobuf_c_message_unpack(m->descriptor, NULL, a.len, a.data);
    assert_non_null(u);
    size_t len;
    char *text = print_ok(u, &len);
    ProtobufCMessage *back = parse_ok(m->descriptor, text);
    packed b = pack(back);
    assert_int_equal(a.len, b.len);
    assert_memory_equal(a.data, b.data, a.len);
    size_t len2;
    char *again = print_ok(back, &len2);
    assert_string_equal(again, text);
    sl_free(again);
    protobuf_c_message_free_unpacked(back, NULL);
    protobuf_c_message_free_unpacked(u, NULL);
    free(a.data);
    free(b.data);
    return text;
}

/* text -> message -> text gives the same text, and the message survives
 * binary -> text -> binary. */
static void check_text_round_trip(const ProtobufCMessageDescriptor *d, const char *text)
{
    ProtobufCMessage *m = parse_ok(d, text);
    size_t len;
    char *out = print_ok(m, &len);
    assert_string_equal(out, text);
    sl_free(out);
    sl_free(check_binary_round_trip(m));
    protobuf_c_message_free_unpacked(m, NULL);
}

/* Parse must fail with SL_INVALID_ARGUMENT and exactly this message. */
static void expect_error(const ProtobufCMessageDescriptor *d, const char *text,
                         const char *want)
{
    sl_status *st = sl_status_new();
    int64_t before = bytes_in_use();
    ProtobufCMessage *m = sl_textformat_parse(d, text, strlen(text), "t.pbtxt", st);
    if (m)
        fail_msg("parse of %s succeeded, want error %s", text, want);
    assert_int_equal(sl_status_code(st), SL_INVALID_ARGUMENT);
    assert_string_equal(sl_status_message(st), want);
    assert_int_equal(bytes_in_use(), before);
    sl_status_free(st);
}

/* --- text -> message -> text, every message type --- */

/* Canonical texts, as C++ TextFormat::Print writes them. */
static const char k_graph_text[] =
    "node {\n"
    "  name: \"a\"\n"
    "  op: \"Const\"\n"
    "  input: \"b:1\"\n"
    "  input: \"^c\"\n"
    "  device: \"/job:localhost/replica:0/task:0/device:CPU:0\"\n"
    "  attr {\n"
    "    key: \"dtype\"\n"
    "    value {\n"
    "      type: DT_FLOAT\n"
    "    }\n"
    "  }\n"
    "  attr {\n"
    "    key: \"value\"\n"
    "    value {\n"
    "      tensor {\n"
    "        dtype: DT_FLOAT\n"
    "        tensor_shape {\n"
    "          dim {\n"
    "            size: 2\n"
    "          }\n"
    "        }\n"
    "        float_val: 1.5\n"
    "        float_val: -0.25\n"
    "      }\n"
    "    }\n"
    "  }\n"
    "  experimental_debug_info {\n"
    "    original_node_names: \"orig\"\n"
    "    original_func_names: \"f\"\n"
    "  }\n"
    "  experimental_type: \"\\001\\002\"\n"
    "}\n"
    "node {\n"
    "  name: \"b\"\n"
    "  op: \"NoOp\"\n"
    "}\n"
    "library {\n"
    "  function: \"\\n\\003fn1\"\n"
    "  gradient: \"g\"\n"
    "  registered_gradients: \"r\"\n"
    "}\n"
    "version: 7\n"
    "versions {\n"
    "  producer: 21\n"
    "  min_consumer: 12\n"
    "  bad_consumers: 3\n"
    "  bad_consumers: -5\n"
    "}\n"
    "debug_info: \"dbg\"\n";

static const char k_tensor_text[] =
    "dtype: DT_FLOAT\n"
    "tensor_shape {\n"
    "  dim {\n"
    "    size: -1\n"
    "    name: \"batch\"\n"
    "  }\n"
    "}\n"
    "version_number: 1\n"
    "tensor_content: \"\\000\\001\\002\\177\\200\\377abc\\n\\r\\t\\\"\\'\\\\ \"\n"
    "float_val: 0.1\n"
    "float_val: -0\n"
    "float_val: 3.40282347e+38\n"
    "float_val: 1.4013e-45\n"
    "float_val: inf\n"
    "float_val: -inf\n"
    "float_val: nan\n"
    "double_val: 0.1\n"
    "double_val: 4.94065645841247e-324\n"
    "double_val: 1.7976931348623157e+308\n"
    "int_val: -2147483648\n"
    "int_val: 2147483647\n"
    "string_val: \"x\"\n"
    "string_val: \"\"\n"
    "scomplex_val: 1\n"
    "scomplex_val: -1\n"
    "int64_val: -9223372036854775808\n"
    "int64_val: 9223372036854775807\n"
    "bool_val: true\n"
    "bool_val: false\n"
    "dcomplex_val: 2.5\n"
    "dcomplex_val: 1e-300\n"
    "half_val: 15360\n"
    "resource_handle_val {\n"
    "  device: \"/cpu:0\"\n"
    "  container: \"c\"\n"
    "  name: \"n\"\n"
    "  hash_code: 18446744073709551615\n"
    "  maybe_type_name: \"t\"\n"
    "  dtypes_and_shapes {\n"
    "    dtype: DT_FLOAT\n"
    "    shape {\n"
    "      dim {\n"
    "        size: 1\n"
    "      }\n"
    "    }\n"
    "  }\n"
    "}\n"
    "variant_val {\n"
    "  type_name: \"v\"\n"
    "  metadata: \"\\001\"\n"
    "  tensors {\n"
    "    dtype: DT_INT32\n"
    "    int_val: 1\n"
    "  }\n"
    "}\n"
    "uint32_val: 4294967295\n"
    "uint64_val: 18446744073709551615\n"
    "float8_val: \"\\001\\002\"\n";

static const char k_list_text[] =
    "list {\n"
    "  s: \"a\"\n"
    "  s: \"\\303\\251\"\n"
    "  i: 1\n"
    "  i: -2\n"
    "  f: 0.5\n"
    "  f: -inf\n"
    "  b: true\n"
    "  b: false\n"
    "  type: DT_FLOAT\n"
    "  type: DT_INT32_REF\n"
    "  shape {\n"
    "    unknown_rank: true\n"
    "  }\n"
    "  shape {\n"
    "  }\n"
    "  tensor {\n"
    "    dtype: DT_STRING\n"
    "    string_val: \"s\"\n"
    "  }\n"
    "  func {\n"
    "    name: \"g\"\n"
    "  }\n"
    "}\n";

static const char k_func_text[] =
    "func {\n"
    "  name: \"f\"\n"
    "  attr {\n"
    "    key: \"T\"\n"
    "    value {\n"
    "      type: DT_FLOAT\n"
    "    }\n"
    "  }\n"
    "  attr {\n"
    "    key: \"N\"\n"
    "    value {\n"
    "      i: 0\n"
    "    }\n"
    "  }\n"
    "}\n";

static void test_textformat_round_trips_every_message_type(void **state)
{
    (void)state;
    check_text_round_trip(&tensorflow__graph_def__descriptor, k_graph_text);
    check_text_round_trip(&tensorflow__tensor_proto__descriptor, k_tensor_text);
    check_text_round_trip(&tensorflow__node_def__descriptor,
                          "name: \"n\"\nop: \"Add\"\ninput: \"x\"\ninput: \"y\"\n"
                          "attr {\n  key: \"T\"\n  value {\n    type: DT_HALF\n  }\n}\n");
    check_text_round_trip(&tensorflow__node_def__experimental_debug_info__descriptor,
                          "original_node_names: \"a\"\noriginal_func_names: \"b\"\n");
    check_text_round_trip(&tensorflow__node_def__attr_entry__descriptor,
                          "key: \"k\"\nvalue {\n  b: false\n}\n");
    check_text_round_trip(&tensorflow__tensor_shape_proto__descriptor,
                          "dim {\n  size: 3\n}\ndim {\n  size: -1\n  name: \"n\"\n}\n");
    check_text_round_trip(&tensorflow__tensor_shape_proto__descriptor,
                          "unknown_rank: true\n");
    check_text_round_trip(&tensorflow__tensor_shape_proto__dim__descriptor,
                          "size: 9223372036854775807\nname: \"d\"\n");
    check_text_round_trip(&tensorflow__version_def__descriptor,
                          "producer: 1882\nmin_consumer: 12\nbad_consumers: 1\n");
    check_text_round_trip(&tensorflow__function_def_library__descriptor,
                          "function: \"\\000\"\nfunction: \"x\"\ngradient: \"\"\n"
                          "registered_gradients: \"\\377\"\n");
    check_text_round_trip(&tensorflow__resource_handle_proto__descriptor,
                          "device: \"d\"\nhash_code: 1\ndtypes_and_shapes {\n"
                          "  dtype: DT_RESOURCE\n}\ndtypes_and_shapes {\n  shape {\n  }\n}\n");
    check_text_round_trip(&tensorflow__resource_handle_proto__dtype_and_shape__descriptor,
                          "dtype: DT_VARIANT\nshape {\n  unknown_rank: true\n}\n");
    check_text_round_trip(&tensorflow__variant_tensor_data_proto__descriptor,
                          "type_name: \"tensorflow::Tensor\"\nmetadata: \"\\000m\"\n"
                          "tensors {\n}\ntensors {\n  dtype: DT_DOUBLE\n  double_val: -1.5\n}\n");
    check_text_round_trip(&tensorflow__name_attr_list__descriptor,
                          "name: \"f\"\nattr {\n  key: \"a\"\n  value {\n"
                          "    s: \"x\"\n  }\n}\nattr {\n  key: \"b\"\n  value {\n"
                          "    list {\n    }\n  }\n}\n");
    check_text_round_trip(&tensorflow__name_attr_list__attr_entry__descriptor,
                          "key: \"\"\nvalue {\n}\n");
    check_text_round_trip(&tensorflow__serialized_dtype__descriptor, "datatype: DT_UINT64\n");
    check_text_round_trip(&tensorflow__attr_value__list_value__descriptor, "i: 5\n");

    /* AttrValue: every member of the oneof, default values included */
    static const char *const attr_values[] = {
        "s: \"a\\\"b\\'c\\\\d\\n\\r\\t\\000\\377\"\n",
        "s: \"\"\n",
        "i: -9223372036854775808\n",
        "i: 0\n",
        "f: 0.1\n",
        "f: -0\n",
        "f: 0\n",
        "b: true\n",
        "b: false\n",
        "type: DT_BFLOAT16\n",
        "type: DT_INVALID\n",
        "type: 77\n", /* open enum: an unnamed number survives */
        "shape {\n  dim {\n    size: -1\n  }\n  dim {\n    size: 3\n    name: \"c\"\n  }\n}\n",
        "shape {\n  unknown_rank: true\n}\n",
        "shape {\n}\n",
        "tensor {\n  dtype: DT_INT64\n  int64_val: 1\n}\n",
        k_list_text,
        "list {\n}\n",
        k_func_text,
        "placeholder: \"T\"\n",
        "placeholder: \"\"\n",
        "",
    };
    for (size_t i = 0; i < sizeof(attr_values) / sizeof(attr_values[0]); i++)
        check_text_round_trip(&tensorflow__attr_value__descriptor, attr_values[i]);
}

/* Every oneof case, built in C rather than parsed, reaches the same bytes
 * after print -> parse. */
static void test_textformat_prints_each_attr_value_case(void **state)
{
    (void)state;
    Tensorflow__TensorShapeProto shape = TENSORFLOW__TENSOR_SHAPE_PROTO__INIT;
    Tensorflow__TensorProto tensor = TENSORFLOW__TENSOR_PROTO__INIT;
    Tensorflow__AttrValue__ListValue list = TENSORFLOW__ATTR_VALUE__LIST_VALUE__INIT;
    Tensorflow__NameAttrList func = TENSORFLOW__NAME_ATTR_LIST__INIT;
    uint8_t sbytes[] = {0, 'a', 0x80, '"'};
    int64_t ints[] = {INT64_MIN, 0, INT64_MAX};
    shape.unknown_rank = 1;
    tensor.dtype = TENSORFLOW__DATA_TYPE__DT_HALF;
    list.n_i = 3;
    list.i = ints;
    func.name = "fn";

    struct { int c; const char *text; } cases[] = {
        {TENSORFLOW__ATTR_VALUE__VALUE_S, "s: \"\\000a\\200\\\"\"\n"},
        {TENSORFLOW__ATTR_VALUE__VALUE_I, "i: -7\n"},
        {TENSORFLOW__ATTR_VALUE__VALUE_F, "f: 0.333333343\n"},
        {TENSORFLOW__ATTR_VALUE__VALUE_B, "b: true\n"},
        {TENSORFLOW__ATTR_VALUE__VALUE_TYPE, "type: DT_COMPLEX128\n"},
        {TENSORFLOW__ATTR_VALUE__VALUE_SHAPE, "shape {\n  unknown_rank: true\n}\n"},
        {TENSORFLOW__ATTR_VALUE__VALUE_TENSOR, "tensor {\n  dtype: DT_HALF\n}\n"},
        {TENSORFLOW__ATTR_VALUE__VALUE_LIST,
         "list {\n  i: -9223372036854775808\n  i: 0\n  i: 9223372036854775807\n}\n"},
        {TENSORFLOW__ATTR_VALUE__VALUE_FUNC, "func {\n  name: \"fn\"\n}\n"},
        {TENSORFLOW__ATTR_VALUE__VALUE_PLACEHOLDER, "placeholder: \"T\"\n"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        Tensorflow__AttrValue a;
        tensorflow__attr_value__init(&a);  /* the INIT macro trips -Wmissing-braces */
        a.value_case = (Tensorflow__AttrValue__ValueCase)cases[i].c;
        switch (cases[i].c) {
        case TENSORFLOW__ATTR_VALUE__VALUE_S:
            a.s.len = sizeof(sbytes);
            a.s.data = sbytes;
            break;
        case TENSORFLOW__ATTR_VALUE__VALUE_I: a.i = -7; break;
        case TENSORFLOW__ATTR_VALUE__VALUE_F: a.f = 1.0f / 3.0f; break;
        case TENSORFLOW__ATTR_VALUE__VALUE_B: a.b = 1; break;
        case TENSORFLOW__ATTR_VALUE__VALUE_TYPE:
            a.type = TENSORFLOW__DATA_TYPE__DT_COMPLEX128;
            break;
        case TENSORFLOW__ATTR_VALUE__VALUE_SHAPE: a.shape = &shape; break;
        case TENSORFLOW__ATTR_VALUE__VALUE_TENSOR: a.tensor = &tensor; break;
        case TENSORFLOW__ATTR_VALUE__VALUE_LIST: a.list = &list; break;
        case TENSORFLOW__ATTR_VALUE__VALUE_FUNC: a.func = &func; break;
        case TENSORFLOW__ATTR_VALUE__VALUE_PLACEHOLDER: a.placeholder = "T"; break;
        }
        char *text = check_binary_round_trip(&a.base);
        assert_string_equal(text, cases[i].text);
        sl_free(text);
    }
}

/* --- random messages: every field of every type, through the descriptors --- */

static uint64_t g_rng = 0x9e3779b97f4a7c15ULL;

static uint64_t rnd(void)
{
    /* xorshift64*: deterministic, so a failure reproduces */
    g_rng ^= g_rng >> 12;
    g_rng ^= g_rng << 25;
    g_rng ^= g_rng >> 27;
    return g_rng * 0x2545f4914f6cdd1dULL;
}

static void *xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    assert_non_null(p);
    return p;
}

static void fill_message(ProtobufCMessage *m, int depth);

/* A random value of field's type at `dst` (an element or the member). */
static void fill_value(const ProtobufCFieldDescriptor *f, void *dst, int depth)
{
    uint64_t r = rnd();
    switch (f->type) {
    case PROTOBUF_C_TYPE_INT32:
    case PROTOBUF_C_TYPE_SINT32:
    case PROTOBUF_C_TYPE_SFIXED32:
    case PROTOBUF_C_TYPE_UINT32:
    case PROTOBUF_C_TYPE_FIXED32: {
        uint32_t v = (uint32_t)r >> (r >> 59);  /* all magnitudes */
        memcpy(dst, &v, 4);
        break;
    }
    case PROTOBUF_C_TYPE_INT64:
    case PROTOBUF_C_TYPE_SINT64:
    case PROTOBUF_C_TYPE_SFIXED64:
    case PROTOBUF_C_TYPE_UINT64:
    case PROTOBUF_C_TYPE_FIXED64: {
        uint64_t v = rnd() >> (r & 63);
        memcpy(dst, &v, 8);
        break;
    }
    case PROTOBUF_C_TYPE_FLOAT: {
        float v;
        uint32_t bits;
        do {
            bits = (uint32_t)rnd();
            memcpy(&v, &bits, 4);
        } while (isnan(v));  /* nan has no bit-exact text form */
        memcpy(dst, &v, 4);
        break;
    }
    case PROTOBUF_C_TYPE_DOUBLE: {
        double v;
        uint64_t bits;
        do {
            bits = rnd();
            memcpy(&v, &bits, 8);
        } while (isnan(v));
        memcpy(dst, &v, 8);
        break;
    }
    case PROTOBUF_C_TYPE_BOOL:
        *(protobuf_c_boolean *)dst = (protobuf_c_boolean)(r & 1);
        break;
    case PROTOBUF_C_TYPE_ENUM: {
        const ProtobufCEnumDescriptor *ed = f->descriptor;
        int v = (r & 15) == 0 ? 1000 : ed->values[r % ed->n_values].value;
        memcpy(dst, &v, sizeof(v));
        break;
    }
    case PROTOBUF_C_TYPE_STRING: {
        size_t n = r % 9;
        char *s = xmalloc(n + 1);
        for (size_t i = 0; i < n; i++)
            s[i] = (char)(1 + rnd() % 255);
        s[n] = '\0';
        *(char **)dst = s;
        break;
    }
    case PROTOBUF_C_TYPE_BYTES: {
        ProtobufCBinaryData *bd = dst;
        bd->len = r % 9;
        bd->data = NULL;
        if (bd->len) {
            bd->data = xmalloc(bd->len);
            for (size_t i = 0; i < bd->len; i++)
                bd->data[i] = (uint8_t)rnd();
        }
        break;
    }
    case PROTOBUF_C_TYPE_MESSAGE: {
        const ProtobufCMessageDescriptor *sd = f->descriptor;
        ProtobufCMessage *sub = xmalloc(sd->sizeof_message);
        sd->message_init(sub);
        fill_message(sub, depth + 1);
        *(ProtobufCMessage **)dst = sub;
        break;
    }
    }
}

static size_t elt_size(ProtobufCType t)
{
    switch (t) {
    case PROTOBUF_C_TYPE_INT64: case PROTOBUF_C_TYPE_SINT64: case PROTOBUF_C_TYPE_SFIXED64:
    case PROTOBUF_C_TYPE_UINT64: case PROTOBUF_C_TYPE_FIXED64: case PROTOBUF_C_TYPE_DOUBLE:
        return 8;
    case PROTOBUF_C_TYPE_BOOL: return sizeof(protobuf_c_boolean);
    case PROTOBUF_C_TYPE_STRING: return sizeof(char *);
    case PROTOBUF_C_TYPE_BYTES: return sizeof(ProtobufCBinaryData);
    case PROTOBUF_C_TYPE_MESSAGE: return sizeof(void *);
    default: return 4;
    }
}

/* Fills a random subset of m's fields, one member per oneof; sub-messages
 * stop at depth 4 so the tree stays small. */
static void fill_message(ProtobufCMessage *m, int depth)
{
    const ProtobufCMessageDescriptor *d = m->descriptor;
    for (unsigned i = 0; i < d->n_fields; i++) {
        const ProtobufCFieldDescriptor *f = &d->fields[i];
        char *base = (char *)m;
        if (f->type == PROTOBUF_C_TYPE_MESSAGE && depth >= 4)
            continue;
        if (f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) {
            uint32_t *c = (uint32_t *)(base + f->quantifier_offset);
            unsigned members = 0;
            for (unsigned j = 0; j < d->n_fields; j++)
                members += (d->fields[j].flags & PROTOBUF_C_FIELD_FLAG_ONEOF) &&
                           d->fields[j].quantifier_offset == f->quantifier_offset;
            if (*c == 0 && rnd() % members == 0) {
                fill_value(f, base + f->offset, depth);
                *c = f->id;
            }
        } else if (f->label == PROTOBUF_C_LABEL_REPEATED) {
            size_t n = rnd() % 4;
            size_t es = elt_size(f->type);
            char *arr = n ? xmalloc(n * es) : NULL;
            for (size_t j = 0; j < n; j++)
                fill_value(f, arr + j * es, depth);
            *(size_t *)(base + f->quantifier_offset) = n;
            *(void **)(base + f->offset) = arr;
        } else if (rnd() % 4 != 0) {
            fill_value(f, base + f->offset, depth);
        }
    }
}

static void test_textformat_random_messages_round_trip(void **state)
{
    (void)state;
    const ProtobufCMessageDescriptor *types[] = {
        &tensorflow__graph_def__descriptor,
        &tensorflow__node_def__descriptor,
        &tensorflow__node_def__experimental_debug_info__descriptor,
        &tensorflow__node_def__attr_entry__descriptor,
        &tensorflow__attr_value__descriptor,
        &tensorflow__attr_value__list_value__descriptor,
        &tensorflow__name_attr_list__descriptor,
        &tensorflow__name_attr_list__attr_entry__descriptor,
        &tensorflow__tensor_proto__descriptor,
        &tensorflow__variant_tensor_data_proto__descriptor,
        &tensorflow__tensor_shape_proto__descriptor,
        &tensorflow__tensor_shape_proto__dim__descriptor,
        &tensorflow__resource_handle_proto__descriptor,
        &tensorflow__resource_handle_proto__dtype_and_shape__descriptor,
        &tensorflow__version_def__descriptor,
        &tensorflow__function_def_library__descriptor,
        &tensorflow__serialized_dtype__descriptor,
    };
    for (size_t t = 0; t < sizeof(types) / sizeof(types[0]); t++) {
        for (int rep = 0; rep < 40; rep++) {
            ProtobufCMessage *m = xmalloc(types[t]->sizeof_message);
            types[t]->message_init(m);
            fill_message(m, 0);
            sl_free(check_binary_round_trip(m));
            protobuf_c_message_free_unpacked(m, NULL);
        }
    }
}

/* --- what the reader accepts --- */

static void test_textformat_parse_accepts_tf_syntax(void **state)
{
    (void)state;
    static const char in[] =
        "# a GraphDef with every syntax the reader accepts\n"
        "node <                                # angle brackets\n"
        "  name: 'single' \"double\"  # adjacent literals concatenate\n"
        "    'third'\n"
        "  op: \"Const\";\n"
        "  input: [\"a\", 'b:1', \"^c\"],\n"
        "  input: []\n"
        "  attr: {\n"
        "    key: \"value\" value: {\n"
        "      tensor {\n"
        "        dtype: 1   # enum by number\n"
        "        tensor_shape { dim { size: 0x10 } dim { size: -1 } dim { size: 010 },\n"
        "                       dim: [{ size: 0 }, < size: -0x7fffffffffffffff >] }\n"
        "        float_val: [1.0f, -2.5e3, .5, 1e-3, 1E+2F, 2f, inf, -inf, -Infinity,\n"
        "                    NaN, 7, 0x10, -010, 1e39, 1e-50]\n"
        "        double_val: -1.0 double_val: 2.5e-3\n"
        "        bool_val: [true, false, True, False, t, f, 1, 0, 0x1]\n"
        "        int_val: - 5\n"
        "        string_val: \"\\a\\b\\f\\n\\r\\t\\v\\\\\\?\\'\\\"\\101\\x41\\u00e9\\U0001F600\"\n"
        "        string_val: '\\0\\12\\x7\\xfF\\'' \"\\\"\"\n"
        "        uint32_val: 0xffffffff uint64_val: -0\n"
        "      }\n"
        "    }\n"
        "  }\n"
        "  attr { key: \"T\", value { type: DT_FLOAT } }\n"
        "  attr { key: \"N\" value { i: -0x8000000000000000 } }\n"
        "  attr { key: \"l\" value { list { type: [DT_INT32, 9] b: [] } } }\n"
        ">\n"
        "versions{producer:21 bad_consumers:[1,2]}library{}\r\n";
    static const char want[] =
        "node {\n"
        "  name: \"singledoublethird\"\n"
        "  op: \"Const\"\n"
        "  input: \"a\"\n"
        "  input: \"b:1\"\n"
        "  input: \"^c\"\n"
        "  attr {\n"
        "    key: \"value\"\n"
        "    value {\n"
        "      tensor {\n"
        "        dtype: DT_FLOAT\n"
        "        tensor_shape {\n"
        "          dim {\n"
        "            size: 16\n"
        "          }\n"
        "          dim {\n"
        "            size: -1\n"
        "          }\n"
        "          dim {\n"
        "            size: 8\n"
        "          }\n"
        "          dim {\n"
        "          }\n"
        "          dim {\n"
        "            size: -9223372036854775807\n"
        "          }\n"
        "        }\n"
        "        float_val: 1\n"
        "        float_val: -2500\n"
        "        float_val: 0.5\n"
        "        float_val: 0.001\n"
        "        float_val: 100\n"
        "        float_val: 2\n"
        "        float_val: inf\n"
        "        float_val: -inf\n"
        "        float_val: -inf\n"
        "        float_val: nan\n"
        "        float_val: 7\n"
        "        float_val: 16\n"
        "        float_val: -8\n"
        "        float_val: inf\n"
        "        float_val: 0\n"
        "        double_val: -1\n"
        "        double_val: 0.0025\n"
        "        int_val: -5\n"
        "        string_val: \"\\007\\010\\014\\n\\r\\t\\013\\\\?\\'\\\"AA\\303\\251\\360\\237\\230\\200\"\n"
        "        string_val: \"\\000\\n\\007\\377\\'\\\"\"\n"
        "        bool_val: true\n"
        "        bool_val: false\n"
        "        bool_val: true\n"
        "        bool_val: false\n"
        "        bool_val: true\n"
        "        bool_val: false\n"
        "        bool_val: true\n"
        "        bool_val: false\n"
        "        bool_val: true\n"
        "        uint32_val: 4294967295\n"
        "        uint64_val: 0\n"
        "      }\n"
        "    }\n"
        "  }\n"
        "  attr {\n"
        "    key: \"T\"\n"
        "    value {\n"
        "      type: DT_FLOAT\n"
        "    }\n"
        "  }\n"
        "  attr {\n"
        "    key: \"N\"\n"
        "    value {\n"
        "      i: -9223372036854775808\n"
        "    }\n"
        "  }\n"
        "  attr {\n"
        "    key: \"l\"\n"
        "    value {\n"
        "      list {\n"
        "        type: DT_INT32\n"
        "        type: DT_INT64\n"
        "      }\n"
        "    }\n"
        "  }\n"
        "}\n"
        "library {\n"
        "}\n"
        "versions {\n"
        "  producer: 21\n"
        "  bad_consumers: 1\n"
        "  bad_consumers: 2\n"
        "}\n";
    ProtobufCMessage *m = parse_ok(&tensorflow__graph_def__descriptor, in);
    size_t len;
    char *out = print_ok(m, &len);
    assert_string_equal(out, want);
    sl_free(out);

    /* the parsed parts are laid out as protobuf-c's unpack lays them out */
    Tensorflow__GraphDef *g = (Tensorflow__GraphDef *)m;
    assert_int_equal(g->n_node, 1);
    assert_string_equal(g->node[0]->name, "singledoublethird");
    assert_int_equal(g->node[0]->n_attr, 4);
    Tensorflow__TensorProto *t = g->node[0]->attr[0]->value->tensor;
    assert_int_equal(g->node[0]->attr[0]->value->value_case, TENSORFLOW__ATTR_VALUE__VALUE_TENSOR);
    assert_int_equal(t->n_float_val, 15);
    assert_true(isnan(t->float_val[9]));
    assert_int_equal(t->string_val[1].len, 6);
    assert_memory_equal(t->string_val[1].data, "\0\n\a\xff'\"", 6);
    protobuf_c_message_free_unpacked(m, NULL);

    /* empty input and NULL text with length 0 are the empty message */
    m = parse_ok(&tensorflow__graph_def__descriptor, "  # nothing\n");
    out = print_ok(m, &len);
    assert_string_equal(out, "");
    assert_int_equal(len, 0);
    sl_free(out);
    protobuf_c_message_free_unpacked(m, NULL);
    sl_status *st = sl_status_new();
    m = sl_textformat_parse(&tensorflow__version_def__descriptor, NULL, 0, NULL, st);
    assert_non_null(m);
    assert_true(sl_status_is_ok(st));
    protobuf_c_message_free_unpacked(m, NULL);

    /* the text need not be NUL-terminated: only len bytes are read */
    const char *s = "producer: 12345";
    m = sl_textformat_parse(&tensorflow__version_def__descriptor, s, 12, NULL, st);
    assert_non_null(m);
    assert_int_equal(((Tensorflow__VersionDef *)m)->producer, 12);
    protobuf_c_message_free_unpacked(m, NULL);
    sl_status_free(st);
}

/* --- errors --- */

static void test_textformat_parse_errors_name_line_and_column(void **state)
{
    (void)state;
    const ProtobufCMessageDescriptor *g = &tensorflow__graph_def__descriptor;
    const ProtobufCMessageDescriptor *n = &tensorflow__node_def__descriptor;
    struct {
        const ProtobufCMessageDescriptor *d;
        const char *text;
        const char *want;
    } cases[] = {
        /* unbalanced braces */
        {g, "node { name: \"x\"", "t.pbtxt:1:17: expected '}' but found end of input"},
        {g, "node {\n  name: \"x\"\n>", "t.pbtxt:3:1: expected '}' but found '>'"},
        {g, "node <\n  name: \"x\"\n}", "t.pbtxt:3:1: expected '>' but found '}'"},
        {g, "node {\n}\n}\n", "t.pbtxt:3:1: expected field name but found '}'"},
        {g, "node {\n  name: \"x\"\n  attr {\n    key: \"a\"\n  }\n",
         "t.pbtxt:6:1: expected '}' but found end of input"},
        {g, "node {\n  name: \"x\"\n\nnode {\n}\n",
         "t.pbtxt:4:1: unknown field 'node' in tensorflow.NodeDef"},
        {g, "node {\n  name: \"x\"\n  5\n}", "t.pbtxt:3:3: expected '}' but found '5'"},
        /* unknown fields */
        {g, "node {\n  foo: 1\n}", "t.pbtxt:2:3: unknown field 'foo' in tensorflow.NodeDef"},
        {g, "  nodes {}", "t.pbtxt:1:3: unknown field 'nodes' in tensorflow.GraphDef"},
        {n, "attr { key: \"a\" valu { } }",
         "t.pbtxt:1:17: unknown field 'valu' in tensorflow.NodeDef.AttrEntry"},
        {g, "[ext.field] { }",
         "t.pbtxt:1:1: extension and Any fields ('[...]') are not supported in "
         "tensorflow.GraphDef"},
        /* wrong value types */
        {g, "versions { producer: \"abc\" }",
         "t.pbtxt:1:22: expected integer for int32 field 'producer' but found \"abc\""},
        {g, "versions { producer: 1.5 }",
         "t.pbtxt:1:22: expected integer for int32 field 'producer' but found '1.5'"},
        {g, "versions { producer: DT_FLOAT }",
         "t.pbtxt:1:22: expected integer for int32 field 'producer' but found 'DT_FLOAT'"},
        {g, "versions { producer: 1f }",
         "t.pbtxt:1:22: expected integer for int32 field 'producer' but found '1f'"},
        {n, "name: 5", "t.pbtxt:1:7: expected string for string field 'name' but found '5'"},
        {n, "name: ", "t.pbtxt:1:7: expected string for string field 'name' but found end "
                      "of input"},
        {n, "attr { key: \"a\" value { f: \"1\" } }",
         "t.pbtxt:1:28: expected number for float field 'f' but found \"1\""},
        {n, "attr { key: \"a\" value { f: infinite } }",
         "t.pbtxt:1:28: expected number for float field 'f' but found 'infinite'"},
        {n, "attr { key: \"a\" value { b: 2 } }",
         "t.pbtxt:1:28: expected true or false for bool field 'b' but found '2'"},
        {n, "attr { key: \"a\" value { b: yes } }",
         "t.pbtxt:1:28: expected true or false for bool field 'b' but found 'yes'"},
        {n, "attr { key: \"a\" value { type: DT_FOO } }",
         "t.pbtxt:1:31: unknown value 'DT_FOO' for enum field 'type' (tensorflow.DataType)"},
        {n, "attr { key: \"a\" value { type: \"DT_FLOAT\" } }",
         "t.pbtxt:1:31: expected enum value name or number for enum field 'type' but found "
         "\"DT_FLOAT\""},
        {g, "versions: 5",
         "t.pbtxt:1:11: expected '{' or '<' for message field 'versions' but found '5'"},
        {n, "name \"x\"", "t.pbtxt:1:6: expected ':' after field name 'name' but found \"x\""},
        {g, "versions { producer: [1] }",
         "t.pbtxt:1:22: field 'producer' is not repeated but a list was given"},
        {n, "input: [\"a\" \"b\", 5]",
         "t.pbtxt:1:18: expected string for string field 'input' but found '5'"},
        {n, "input: [\"a\" 5]", "t.pbtxt:1:13: expected ',' but found '5'"},
        /* out-of-range integers */
        {g, "versions { producer: 2147483648 }",
         "t.pbtxt:1:22: integer out of range for int32 field 'producer': 2147483648"},
        {g, "versions {\n  producer: -2147483649 }",
         "t.pbtxt:2:13: integer out of range for int32 field 'producer': -2147483649"},
        {g, "versions { bad_consumers: [1, 0x80000000] }",
         "t.pbtxt:1:31: integer out of range for int32 field 'bad_consumers': 0x80000000"},
        {n, "attr { key: \"a\" value { i: 9223372036854775808 } }",
         "t.pbtxt:1:28: integer out of range for int64 field 'i': 9223372036854775808"},
        {n, "attr { key: \"a\" value { i: 18446744073709551616 } }",
         "t.pbtxt:1:28: integer out of range for int64 field 'i': 18446744073709551616"},
        {&tensorflow__tensor_proto__descriptor, "uint32_val: 4294967296",
         "t.pbtxt:1:13: integer out of range for uint32 field 'uint32_val': 4294967296"},
        {&tensorflow__tensor_proto__descriptor, "uint64_val: -1",
         "t.pbtxt:1:13: integer out of range for uint64 field 'uint64_val': -1"},
        {&tensorflow__tensor_proto__descriptor, "dtype: 2147483648",
         "t.pbtxt:1:8: integer out of range for enum field 'dtype': 2147483648"},
        /* malformed tokens */
        {n, "name: \"abc\n\"", "t.pbtxt:1:7: unterminated string literal"},
        {n, "name: 'abc", "t.pbtxt:1:7: unterminated string literal"},
        {n, "name: \"ab\" \n  'cd\\'", "t.pbtxt:2:3: unterminated string literal"},
        {n, "name: \"ab\\", "t.pbtxt:1:7: unterminated string literal"},
        {n, "name:\n\"a\\qb\"", "t.pbtxt:2:3: invalid escape sequence '\\q' in string literal"},
        {n, "name: \"\\xg\"", "t.pbtxt:1:8: invalid escape sequence '\\x' in string literal"},
        {n, "name: \"\\777\"", "t.pbtxt:1:8: invalid escape sequence '\\777' in string literal"},
        {n, "name: \"\\ud800\"",
         "t.pbtxt:1:8: invalid escape sequence '\\u' in string literal"},
        {g, "versions { producer: 08 }",
         "t.pbtxt:1:22: numbers starting with a leading zero must be in octal"},
        {g, "versions { producer: 0x }", "t.pbtxt:1:22: '0x' must be followed by hex digits"},
        {g, "versions { producer: 12abc }", "t.pbtxt:1:22: invalid number '12a'"},
        {n, "attr { key: \"a\" value { f: 1e } }",
         "t.pbtxt:1:28: 'e' must be followed by an exponent"},
        {g, "node { name: \"x\" } @", "t.pbtxt:1:20: invalid character '@'"},
        {g, "node {\tname: \"x\" }\x01", "t.pbtxt:1:19: invalid character '\\001'"},
        /* structure */
        {n, "name: \"a\"\nop: \"b\"\nname: \"c\"",
         "t.pbtxt:3:1: non-repeated field 'name' is specified multiple times"},
        {n, "attr { key: \"a\" value { i: 1 f: 2 } }",
         "t.pbtxt:1:30: field 'f' is specified along with field 'i', another member of the "
         "same oneof"},
        {n, "attr { key: \"a\" value { list { } list { } } }",
         "t.pbtxt:1:34: non-repeated field 'list' is specified multiple times"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        expect_error(cases[i].d, cases[i].text, cases[i].want);

    /* no source name */
    sl_status *st = sl_status_new();
    assert_null(sl_textformat_parse(n, "op: op", 6, NULL, st));
    assert_string_equal(sl_status_message(st),
                        "<input>:1:5: expected string for string field 'op' but found 'op'");
    /* no descriptor */
    assert_null(sl_textformat_parse(NULL, "", 0, NULL, st));
    assert_int_equal(sl_status_code(st), SL_INVALID_ARGUMENT);
    assert_null(sl_textformat_print(NULL, NULL, st));
    assert_int_equal(sl_status_code(st), SL_INVALID_ARGUMENT);
    sl_status_free(st);
}

/* Nesting beyond C++'s limit of 100 is refused, not a stack overflow. */
static void test_textformat_parse_limits_nesting(void **state)
{
    (void)state;
    /* AttrValue -> list -> func -> attr -> value -> ... : 4 levels a turn */
    const char *open = "list { func { attr { value { ";
    size_t turns = 30;
    size_t cap = turns * (strlen(open) + 8) + 16;
    char *text = malloc(cap);
    char *d = text;
    for (size_t i = 0; i < turns; i++)
        d += sprintf(d, "%s", open);
    for (size_t i = 0; i < turns; i++)
        d += sprintf(d, "} } } } ");
    *d = '\0';
    /* the '{' that opens level 101: turn 26's "list {" */
    char want[96];
    snprintf(want, sizeof(want), "t.pbtxt:1:%zu: messages nested deeper than 100 levels",
             25 * strlen(open) + 6);
    expect_error(&tensorflow__attr_value__descriptor, text, want);
    /* 25 turns are 100 levels: accepted */
    char *ok = malloc(cap);
    d = ok;
    for (size_t i = 0; i < 25; i++)
        d += sprintf(d, "%s", open);
    for (size_t i = 0; i < 25; i++)
        d += sprintf(d, "} } } } ");
    *d = '\0';
    ProtobufCMessage *m = parse_ok(&tensorflow__attr_value__descriptor, ok);
    sl_free(check_binary_round_trip(m));
    protobuf_c_message_free_unpacked(m, NULL);
    free(ok);
    free(text);
}

/* --- numbers --- */

static void test_textformat_floats_read_back_bit_exactly(void **state)
{
    (void)state;
    static const float fl[] = {
        0.0f, -0.0f, 1.0f, -1.0f, 0.1f, 1.0f / 3.0f, FLT_MAX, -FLT_MAX, FLT_MIN,
        FLT_TRUE_MIN, -FLT_TRUE_MIN, 1e-40f, 16777216.0f, 16777217.0f, 3.14159265f,
        INFINITY, -INFINITY, NAN,
    };
    static const char *const fl_text[] = {
        "0", "-0", "1", "-1", "0.1", "0.333333343", "3.40282347e+38", "-3.40282347e+38",
        "1.17549435e-38", "1.4013e-45", "-1.4013e-45", "9.99995e-41",
        "16777216", "16777216", "3.14159274", "inf", "-inf", "nan",
    };
    static const double db[] = {
        0.0, -0.0, 0.1, 1.0 / 3.0, DBL_MAX, DBL_MIN, DBL_TRUE_MIN, -DBL_TRUE_MIN,
        1e-310, 9007199254740993.0, INFINITY, -INFINITY, NAN,
    };
    static const char *const db_text[] = {
        "0", "-0", "0.1", "0.33333333333333331", "1.7976931348623157e+308",
        "2.2250738585072014e-308", "4.94065645841247e-324", "-4.94065645841247e-324",
        "9.99999999999997e-311", "9007199254740992", "inf", "-inf", "nan",
    };
    size_t nf = sizeof(fl) / sizeof(fl[0]);
    size_t nd = sizeof(db) / sizeof(db[0]);

    Tensorflow__TensorProto t = TENSORFLOW__TENSOR_PROTO__INIT;
    t.n_float_val = nf;
    t.float_val = (float *)fl;
    t.n_double_val = nd;
    t.double_val = (double *)db;
    size_t len;
    char *text = print_ok(&t.base, &len);
    /* the exact text C++ TextFormat writes for each */
    char *line = text;
    for (size_t i = 0; i < nf + nd; i++) {
        char want[96];
        snprintf(want, sizeof(want), "%s: %s\n", i < nf ? "float_val" : "double_val",
                 i < nf ? fl_text[i] : db_text[i - nf]);
        assert_memory_equal(line, want, strlen(want));
        line = strchr(line, '\n') + 1;
    }

    Tensorflow__TensorProto *back = (Tensorflow__TensorProto *)parse_ok(
        &tensorflow__tensor_proto__descriptor, text);
    assert_int_equal(back->n_float_val, nf);
    assert_int_equal(back->n_double_val, nd);
    for (size_t i = 0; i < nf; i++) {
        if (isnan(fl[i]))
            assert_true(isnan(back->float_val[i]));
        else
            assert_memory_equal(&back->float_val[i], &fl[i], sizeof(float));
    }
    for (size_t i = 0; i < nd; i++) {
        if (isnan(db[i]))
            assert_true(isnan(back->double_val[i]));
        else
            assert_memory_equal(&back->double_val[i], &db[i], sizeof(double));
    }
    protobuf_c_message_free_unpacked(&back->base, NULL);
    sl_free(text);

    /* random bit patterns of every exponent, denormals included */
    enum { N = 4000 };
    float *rf = malloc(N * sizeof(float));
    double *rd = malloc(N * sizeof(double));
    for (size_t i = 0; i < N; i++) {
        uint32_t b32;
        uint64_t b64;
        do {
            b32 = (uint32_t)rnd();
            if (i % 4 == 0)
                b32 &= 0x807fffffu;  /* denormal */
            memcpy(&rf[i], &b32, 4);
        } while (isnan(rf[i]));
        do {
            b64 = rnd();
            if (i % 4 == 0)
                b64 &= 0x800fffffffffffffull;
            memcpy(&rd[i], &b64, 8);
        } while (isnan(rd[i]));
    }
    t.n_float_val = N;
    t.float_val = rf;
    t.n_double_val = N;
    t.double_val = rd;
    sl_free(check_binary_round_trip(&t.base));
    free(rf);
    free(rd);
}

/* Numbers are written and read in the "C" locale, whatever LC_NUMERIC
 * says; checked where a comma-decimal locale is installed. */
static void test_textformat_ignores_lc_numeric(void **state)
{
    (void)state;
    static const char *const locales[] = {"de_DE.UTF-8", "de_DE.utf8", "fr_FR.UTF-8",
                                          "ru_RU.UTF-8", "de_DE"};
    const char *found = NULL;
    for (size_t i = 0; i < sizeof(locales) / sizeof(locales[0]) && !found; i++)
        if (setlocale(LC_NUMERIC, locales[i]))
            found = locales[i];
    if (!found)
        skip();
    ProtobufCMessage *m = parse_ok(&tensorflow__attr_value__descriptor, "f: 0.5");
    size_t len;
    char *s = print_ok(m, &len);
    setlocale(LC_NUMERIC, "C");
    assert_string_equal(s, "f: 0.5\n");
    sl_free(s);
    protobuf_c_message_free_unpacked(m, NULL);
}

/* --- allocation failures --- */

/* Fails allocation n = 1, 2, ... of a parse until it succeeds: each
 * failure must be RESOURCE_EXHAUSTED with nothing leaked (valgrind checks
 * the libc blocks, bytes_in_use the sl_malloc ones).  Returns how many
 * allocations the parse makes. */
static int check_parse_allocation_failures(const ProtobufCMessageDescriptor *d,
                                           const char *text, size_t len, int stride)
{
    sl_status *st = sl_status_new();
    int64_t before = bytes_in_use();
    int failures = 0;
    for (int n = 1;; n += stride) {
        sl_alloc_fail_nth(n, 0);
        ProtobufCMessage *m = sl_textformat_parse(d, text, len, "oom.pbtxt", st);
        int fired = sl_alloc_fault_fired();
        sl_alloc_fail_nth(0, 0);
        assert_int_equal(bytes_in_use(), before);
        if (m) {
            assert_false(fired);
            assert_true(sl_status_is_ok(st));
            protobuf_c_message_free_unpacked(m, NULL);
            break;
        }
        assert_true(fired);
        assert_int_equal(sl_status_code(st), SL_RESOURCE_EXHAUSTED);
        assert_string_equal(sl_status_message(st),
                            "cannot parse 'oom.pbtxt' as text format: out of memory");
        failures++;
    }
    sl_status_free(st);
    return failures;
}

static void check_print_allocation_failures(const ProtobufCMessage *m)
{
    sl_status *st = sl_status_new();
    int64_t before = bytes_in_use();
    for (int n = 1;; n++) {
        size_t len = 12345;
        sl_alloc_fail_nth(n, 0);
        char *s = sl_textformat_print(m, &len, st);
        int fired = sl_alloc_fault_fired();
        sl_alloc_fail_nth(0, 0);
        if (s) {
            assert_false(fired);
            sl_free(s);
            break;
        }
        assert_true(fired);
        assert_int_equal(len, 12345);  /* untouched on failure */
        assert_int_equal(sl_status_code(st), SL_RESOURCE_EXHAUSTED);
        assert_int_equal(bytes_in_use(), before);
    }
    assert_int_equal(bytes_in_use(), before);
    sl_status_free(st);
}

static void test_textformat_allocation_failures_leak_nothing(void **state)
{
    (void)state;
    /* graph and tensor texts touch every kind of allocation: messages,
     * map entries, strings, bytes, repeated scalars, arrays growing */
    int n = check_parse_allocation_failures(&tensorflow__graph_def__descriptor, k_graph_text,
                                            strlen(k_graph_text), 1);
    assert_true(n > 20);
    check_parse_allocation_failures(&tensorflow__tensor_proto__descriptor, k_tensor_text,
                                    strlen(k_tensor_text), 1);
    check_parse_allocation_failures(&tensorflow__attr_value__descriptor, k_list_text,
                                    strlen(k_list_text), 1);

    /* a float literal too long for the stack buffer */
    char longf[400] = "f: 0.";
    memset(longf + 5, '1', 300);
    longf[305] = '\0';
    check_parse_allocation_failures(&tensorflow__attr_value__descriptor, longf,
                                    strlen(longf), 1);

    ProtobufCMessage *m = parse_ok(&tensorflow__graph_def__descriptor, k_graph_text);
    check_print_allocation_failures(m);
    protobuf_c_message_free_unpacked(m, NULL);
    /* a text big enough to make the print buffer grow several times */
    Tensorflow__TensorProto t = TENSORFLOW__TENSOR_PROTO__INIT;
    double vals[300];
    for (int i = 0; i < 300; i++)
        vals[i] = 1.0 / (i + 3);
    t.n_double_val = 300;
    t.double_val = vals;
    check_print_allocation_failures(&t.base);
}

/* --- fixtures: real TF files --- */

static char *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        fail_msg("cannot open '%s'", path);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = malloc((size_t)n + 1);
    assert_non_null(buf);
    assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
    buf[n] = '\0';
    fclose(f);
    *len = (size_t)n;
    return buf;
}

/* The TensorBoard demo graph, written by TF's text format: parsing and
 * printing it gives back the file byte for byte. */
static void test_textformat_fixture_mlp_pbtxt_reprints_identically(void **state)
{
    (void)state;
    size_t len;
    char *text = read_file(SL_FIXTURES_DIR "/graphs/tensorboard_demo_mlp_graph.pbtxt", &len);
    sl_status *st = sl_status_new();
    int64_t before = bytes_in_use();
    Tensorflow__GraphDef *g = (Tensorflow__GraphDef *)sl_textformat_parse(
        &tensorflow__graph_def__descriptor, text, len, "tensorboard_demo_mlp_graph.pbtxt", st);
    if (!g)
        fail_msg("%s", sl_status_message(st));
    assert_int_equal(g->n_node, 118);
    assert_int_equal(g->versions->producer, 21);
    assert_string_equal(g->node[0]->name, "GradientDescent/learning_rate");
    size_t out_len;
    char *out = print_ok(&g->base, &out_len);
    assert_int_equal(out_len, len);
    assert_memory_equal(out, text, len);
    sl_free(out);
    sl_free(check_binary_round_trip(&g->base));
    protobuf_c_message_free_unpacked(&g->base, NULL);
    assert_int_equal(bytes_in_use(), before);

    /* allocation failures on a real file, every 37th to keep it quick */
    check_parse_allocation_failures(&tensorflow__graph_def__descriptor, text, len, 37);
    sl_status_free(st);
    free(text);
}

/* Every binary GraphDef in the fixtures: unpack, print, parse back, and
 * both messages pack to the file's own bytes. */
static void test_textformat_fixture_binary_graphs_round_trip(void **state)
{
    (void)state;
    DIR *dir = opendir(SL_FIXTURES_DIR "/graphs");
    assert_non_null(dir);
    struct dirent *e;
    int files = 0;
    while ((e = readdir(dir))) {
        size_t nl = strlen(e->d_name);
        if (nl < 4 || strcmp(e->d_name + nl - 3, ".pb") != 0)
            continue;
        char path[1024];
        snprintf(path, sizeof(path), "%s/graphs/%s", SL_FIXTURES_DIR, e->d_name);
        size_t len;
        char *bin = read_file(path, &len);
        Tensorflow__GraphDef *g = tensorflow__graph_def__unpack(NULL, len, (uint8_t *)bin);
        assert_non_null(g);
        /* protobuf-c re-packs these files to their exact bytes, so
         * comparing with the file compares with the original message */
        packed orig = pack(&g->base);
        assert_int_equal(orig.len, len);
        assert_memory_equal(orig.data, bin, len);
        char *text = check_binary_round_trip(&g->base);
        assert_true(strlen(text) > 0);
        sl_free(text);
        free(orig.data);
        tensorflow__graph_def__free_unpacked(g, NULL);
        free(bin);
        files++;
    }
    closedir(dir);
    assert_true(files >= 2);
}

int main(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "fixtures") == 0) {
        struct stat sb;
        if (stat(SL_FIXTURES_DIR "/graphs", &sb) != 0 || !S_ISDIR(sb.st_mode)) {
            printf("skip: no fixtures folder at %s\n", SL_FIXTURES_DIR);
            return 77;
        }
        const struct CMUnitTest fixture_tests[] = {
            cmocka_unit_test(test_textformat_fixture_mlp_pbtxt_reprints_identically),
            cmocka_unit_test(test_textformat_fixture_binary_graphs_round_trip),
        };
        return cmocka_run_group_tests_name("textformat-fixtures", fixture_tests, NULL, NULL);
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_textformat_round_trips_every_message_type),
        cmocka_unit_test(test_textformat_prints_each_attr_value_case),
        cmocka_unit_test(test_textformat_random_messages_round_trip),
        cmocka_unit_test(test_textformat_parse_accepts_tf_syntax),
        cmocka_unit_test(test_textformat_parse_errors_name_line_and_column),
        cmocka_unit_test(test_textformat_parse_limits_nesting),
        cmocka_unit_test(test_textformat_floats_read_back_bit_exactly),
        cmocka_unit_test(test_textformat_ignores_lc_numeric),
        cmocka_unit_test(test_textformat_allocation_failures_leak_nothing),
    };
    return cmocka_run_group_tests_name("textformat", tests, NULL, NULL);
}
