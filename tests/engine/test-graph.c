/* Tests of engine/graph: the op registry, node builders, GraphDef import
 * and export (binary and text) on real TensorFlow files, and the errors for
 * bad input. */
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

#include "graph-private.h"
#include "sluice/alloc.h"
#include "sluice/graph.h"
#include "textformat.h"

#ifndef SL_FIXTURES_DIR
#define SL_FIXTURES_DIR "../shared/fixtures"
#endif

static bool have_fixtures(void)
{
    struct stat sb;
    return stat(SL_FIXTURES_DIR "/graphs", &sb) == 0;
}

#define NEED_FIXTURES() assert_true(have_fixtures())

static const struct {
    const char *file;
    int nodes;
} fixture_graphs[] = {
    {"tf2onnx_mnist_fc_layers_frozen.pb", 24},
    {"tf2onnx_mnist_lstm_frozen.pb", 529},
    {"tf2onnx_regression_frozen.pb", 8},
    {"tfrust_addition_model.pb", 3},
    {"tfrust_regression_model.pb", 95},
    {"tfrust_sys_multiplication.pb", 3},
    {"hello_tf_c_api_sru_frozen_graph.pb", 549},
    {"tensorboard_demo_mlp_graph.pbtxt", 118},
};

static char *fixture_path(const char *file)
{
    static char buf[1024];
    snprintf(buf, sizeof(buf), "%s/graphs/%s", SL_FIXTURES_DIR, file);
    return buf;
}

static void *read_all(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = malloc((size_t)n + 1);
    assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
    buf[n] = '\0';
    fclose(f);
    *len = (size_t)n;
    return buf;
}

/* Compares two GraphDefs as messages: the same nodes (by name), with the
 * same op, inputs in order, device and attrs (by key, whatever the order in
 * the file).  Attr values are compared by their packed bytes: equal
 * messages pack identically with protobuf-c. */
static void assert_graphdefs_equal(const Tensorflow__GraphDef *a, const Tensorflow__GraphDef *b,
                                   bool b_may_drop_defaults)
{
    assert_int_equal(a->n_node, b->n_node);
    for (size_t i = 0; i < a->n_node; i++) {
        const Tensorflow__NodeDef *x = a->node[i];
        const Tensorflow__NodeDef *y = NULL;
        for (size_t k = 0; k < b->n_node && !y; k++)
            if (!strcmp(b->node[k]->name, x->name))
                y = b->node[k];
        assert_non_null(y);
        assert_string_equal(x->op, y->op);
        assert_string_equal(x->device, y->device);
        assert_int_equal(x->n_input, y->n_input);
        for (size_t k = 0; k < x->n_input; k++) {
            /* "x:0" and "x" name the same tensor */
            const char *p = x->input[k], *q = y->input[k];
            size_t lp = strlen(p), lq = strlen(q);
            if (lp > 2 && !strcmp(p + lp - 2, ":0"))
                lp -= 2;
            if (lq > 2 && !strcmp(q + lq - 2, ":0"))
                lq -= 2;
            assert_int_equal(lp, lq);
            assert_memory_equal(p, q, lp);
        }
        if (!b_may_drop_defaults && x->n_attr != y->n_attr)
            fail_msg("node '%s' (%s): %zu attrs before, %zu after", x->name, x->op, x->n_attr, y->n_attr);
        for (size_t k = 0; k < y->n_attr; k++) {
            const Tensorflow__AttrValue *va = NULL;
            for (size_t m = 0; m < x->n_attr; m++)
                if (!strcmp(x->attr[m]->key, y->attr[k]->key))
                    va = x->attr[m]->value;
            assert_non_null(va);
            size_t la = protobuf_c_message_get_packed_size(&va->base);
            size_t lb = protobuf_c_message_get_packed_size(&y->attr[k]->value->base);
            assert_int_equal(la, lb);
            uint8_t *ba = malloc(la + 1), *bb = malloc(lb + 1);
            protobuf_c_message_pack(&va->base, ba);
            protobuf_c_message_pack(&y->attr[k]->value->base, bb);
            assert_memory_equal(ba, bb, la);
            free(ba);
            free(bb);
        }
    }
}

static void test_fixture_graphs_import_with_expected_counts(void **state)
{
    (void)state;
    NEED_FIXTURES();
    sl_status *st = sl_status_new();
    for (size_t i = 0; i < sizeof(fixture_graphs) / sizeof(fixture_graphs[0]); i++) {
        sl_graph *g = sl_graph_load(fixture_path(fixture_graphs[i].file), NULL, st);
        if (!g)
            fail_msg("%s: %s", fixture_graphs[i].file, sl_status_message(st));
        assert_int_equal(sl_graph_num_nodes(g), fixture_graphs[i].nodes);
        sl_graph_free(g);
    }
    sl_status_free(st);
}

/* binary -> text -> binary gives the same GraphDef, for every fixture */
static void test_fixture_text_round_trip(void **state)
{
    (void)state;
    NEED_FIXTURES();
    sl_status *st = sl_status_new();
    for (size_t i = 0; i < sizeof(fixture_graphs) / sizeof(fixture_graphs[0]); i++) {
        const char *f = fixture_graphs[i].file;
        size_t len;
        char *bytes = read_all(fixture_path(f), &len);
        Tensorflow__GraphDef *orig;
        if (strstr(f, ".pbtxt"))
            orig = (Tensorflow__GraphDef *)sl_textformat_parse(&tensorflow__graph_def__descriptor, bytes, len, f, st);
        else
            orig = tensorflow__graph_def__unpack(NULL, len, (uint8_t *)bytes);
        assert_non_null(orig);
        char *text = sl_textformat_print(&orig->base, NULL, st);
        assert_non_null(text);
        Tensorflow__GraphDef *back = (Tensorflow__GraphDef *)sl_textformat_parse(
            &tensorflow__graph_def__descriptor, text, strlen(text), f, st);
        if (!back)
            fail_msg("%s: %s", f, sl_status_message(st));
        /* same bytes when packed: every field survived the text form */
        size_t la = tensorflow__graph_def__get_packed_size(orig), lb = tensorflow__graph_def__get_packed_size(back);
        assert_int_equal(la, lb);
        uint8_t *pa = malloc(la + 1), *pb = malloc(lb + 1);
        tensorflow__graph_def__pack(orig, pa);
        tensorflow__graph_def__pack(back, pb);
        assert_memory_equal(pa, pb, la);
        free(pa);
        free(pb);
        sl_free(text);
        protobuf_c_message_free_unpacked(&orig->base, NULL);
        protobuf_c_message_free_unpacked(&back->base, NULL);
        free(bytes);
    }
    sl_status_free(st);
}

/* import -> export keeps every node, input and attr the file had */
static void test_fixture_import_export_round_trip(void **state)
{
    (void)state;
    NEED_FIXTURES();
    sl_status *st = sl_status_new();
    for (size_t i = 0; i < sizeof(fixture_graphs) / sizeof(fixture_graphs[0]); i++) {
        const char *f = fixture_graphs[i].file;
        sl_graph *g = sl_graph_load(fixture_path(f), NULL, st);
        assert_non_null(g);
        size_t len;
        char *bytes = read_all(fixture_path(f), &len);
        Tensorflow__GraphDef *orig =
            strstr(f, ".pbtxt")
                ? (Tensorflow__GraphDef *)sl_textformat_parse(&tensorflow__graph_def__descriptor, bytes, len, f, st)
                : tensorflow__graph_def__unpack(NULL, len, (uint8_t *)bytes);
        size_t blen;
        void *bin = sl_graph_export_binary(g, &blen, st);
        assert_non_null(bin);
        Tensorflow__GraphDef *exported = tensorflow__graph_def__unpack(NULL, blen, bin);
        assert_non_null(exported);
        assert_graphdefs_equal(orig, exported, false);
        assert_int_equal(orig->versions ? orig->versions->producer : 0, sl_graph_producer(g));

        /* and the exported bytes import again to the same graph */
        sl_graph *g2 = sl_graph_new(st);
        assert_int_equal(sl_graph_import_binary(g2, bin, blen, NULL, st), SL_OK);
        assert_int_equal(sl_graph_num_nodes(g2), fixture_graphs[i].nodes);
        sl_graph_free(g2);

        protobuf_c_message_free_unpacked(&exported->base, NULL);
        protobuf_c_message_free_unpacked(&orig->base, NULL);
        sl_free(bin);
        free(bytes);
        sl_graph_free(g);
    }
    sl_status_free(st);
}

static void test_fixture_details(void **state)
{
    (void)state;
    NEED_FIXTURES();
    sl_status *st = sl_status_new();
    sl_graph *g = sl_graph_load(fixture_path("tf2onnx_mnist_fc_layers_frozen.pb"), NULL, st);
    assert_non_null(g);
    sl_node *x = sl_graph_find_node(g, "X");
    assert_non_null(x);
    assert_string_equal(sl_node_op_type(x), "Placeholder");
    assert_int_equal(sl_node_output_type(x, 0), SL_DTYPE_FLOAT);
    sl_node *out = sl_graph_find_node(g, "output");
    assert_non_null(out);
    /* shape inference ran through MatMul/BiasAdd: [?, 10] */
    const sl_shape *s = sl_node_output_shape(out, 0);
    assert_int_equal(s->rank, 2);
    assert_int_equal(s->dims[1], 10);
    sl_graph_free(g);

    /* TF1 reference variables: Variable outputs float_ref, Assign takes it */
    g = sl_graph_load(fixture_path("tfrust_regression_model.pb"), NULL, st);
    assert_non_null(g);
    int refs = 0;
    for (int i = 0; i < sl_graph_num_nodes(g); i++) {
        sl_node *n = sl_graph_node(g, i);
        if (!strcmp(sl_node_op_type(n), "Variable")) {
            assert_true(sl_dtype_is_ref(sl_node_output_type(n, 0)));
            refs++;
        }
    }
    assert_true(refs >= 2);
    sl_graph_free(g);

    /* devices survive import */
    g = sl_graph_load(fixture_path("tensorboard_demo_mlp_graph.pbtxt"), NULL, st);
    assert_non_null(g);
    bool xla = false;
    for (int i = 0; i < sl_graph_num_nodes(g); i++)
        xla |= strstr(sl_node_device(sl_graph_node(g, i)), "XLA_CPU") != NULL;
    assert_true(xla);
    sl_graph_free(g);
    sl_status_free(st);
}

/* ---- bad input ------------------------------------------------------- */

static void expect_import_text_error(const char *text, sl_code code, const char *needle)
{
    sl_status *st = sl_status_new();
    sl_graph *g = sl_graph_new(st);
    sl_code rc = sl_graph_import_text(g, text, strlen(text), "bad.pbtxt", NULL, st);
    if (rc != code || !strstr(sl_status_message(st), needle))
        fail_msg("want %d containing '%s', got %d: %s", code, needle, rc, sl_status_message(st));
    assert_int_equal(sl_graph_num_nodes(g), 0);  /* all or nothing */
    sl_graph_free(g);
    sl_status_free(st);
}

static void test_import_rejects_unknown_op(void **state)
{
    (void)state;
    expect_import_text_error("node { name: 'a' op: 'Placeholder' attr { key: 'dtype' value { type: DT_FLOAT } } }\n"
                             "node { name: 'b' op: 'FrobnicateV9' input: 'a' }\n",
                             SL_NOT_FOUND, "node 'b' (FrobnicateV9): unknown op 'FrobnicateV9'");
}

static void test_import_rejects_dangling_input(void **state)
{
    (void)state;
    expect_import_text_error("node { name: 'a' op: 'Placeholder' attr { key: 'dtype' value { type: DT_FLOAT } } }\n"
                             "node { name: 'b' op: 'Neg' input: 'nothere:0' }\n",
                             SL_INVALID_ARGUMENT, "node 'b': input 'nothere:0' names no node in the graph");
}

static void test_import_rejects_cycle(void **state)
{
    (void)state;
    expect_import_text_error("node { name: 'a' op: 'Neg' input: 'c' attr { key: 'T' value { type: DT_FLOAT } } }\n"
                             "node { name: 'b' op: 'Neg' input: 'a' attr { key: 'T' value { type: DT_FLOAT } } }\n"
                             "node { name: 'c' op: 'Neg' input: 'b' attr { key: 'T' value { type: DT_FLOAT } } }\n",
                             SL_INVALID_ARGUMENT, "cycle");
    expect_import_text_error("node { name: 'a' op: 'Neg' input: 'c' attr { key: 'T' value { type: DT_FLOAT } } }\n"
                             "node { name: 'b' op: 'Neg' input: 'a' attr { key: 'T' value { type: DT_FLOAT } } }\n"
                             "node { name: 'c' op: 'Neg' input: 'b' attr { key: 'T' value { type: DT_FLOAT } } }\n",
                             SL_INVALID_ARGUMENT, "a -> b -> c -> a");
}

/* a loop closes its cycle through NextIteration: that imports */
static void test_import_accepts_loop_through_next_iteration(void **state)
{
    (void)state;
    const char *text =
        "node { name: 'init' op: 'Const' attr { key: 'dtype' value { type: DT_INT32 } }"
        "  attr { key: 'value' value { tensor { dtype: DT_INT32 tensor_shape {} int_val: 0 } } } }\n"
        "node { name: 'enter' op: 'Enter' input: 'init' attr { key: 'T' value { type: DT_INT32 } }"
        "  attr { key: 'frame_name' value { s: 'loop' } } }\n"
        "node { name: 'merge' op: 'Merge' input: 'enter' input: 'next' attr { key: 'T' value { type: DT_INT32 } }"
        "  attr { key: 'N' value { i: 2 } } }\n"
        "node { name: 'one' op: 'Const' attr { key: 'dtype' value { type: DT_INT32 } }"
        "  attr { key: 'value' value { tensor { dtype: DT_INT32 tensor_shape {} int_val: 1 } } } }\n"
        "node { name: 'add' op: 'Add' input: 'merge' input: 'one' attr { key: 'T' value { type: DT_INT32 } } }\n"
        "node { name: 'next' op: 'NextIteration' input: 'add' attr { key: 'T' value { type: DT_INT32 } } }\n";
    sl_status *st = sl_status_new();
    sl_graph *g = sl_graph_new(st);
    if (sl_graph_import_text(g, text, strlen(text), "loop.pbtxt", NULL, st) != SL_OK)
        fail_msg("%s", sl_status_message(st));
    sl_node *merge = sl_graph_find_node(g, "merge");
    assert_ptr_equal(sl_node_input(merge, 1).node, sl_graph_find_node(g, "next"));
    sl_node *next = sl_graph_find_node(g, "next");
    assert_int_equal(sl_node_num_out_edges(next), 1);
    assert_ptr_equal(sl_node_out_edge(next, 0)->dst, merge);
    sl_graph_free(g);
    sl_status_free(st);
}

static void test_import_rejects_bad_attrs_and_types(void **state)
{
    (void)state;
    expect_import_text_error("node { name: 'a' op: 'Placeholder' }\n", SL_INVALID_ARGUMENT,
                             "node 'a' (Placeholder): missing attr 'dtype' of type type");
    expect_import_text_error("node { name: 'a' op: 'Placeholder' attr { key: 'dtype' value { i: 3 } } }\n",
                             SL_INVALID_ARGUMENT, "attr 'dtype' should be type but is int");
    expect_import_text_error(
        "node { name: 'a' op: 'Placeholder' attr { key: 'dtype' value { type: DT_FLOAT } } }\n"
        "node { name: 'b' op: 'Placeholder' attr { key: 'dtype' value { type: DT_INT32 } } }\n"
        "node { name: 'c' op: 'Add' input: 'a' input: 'b' }\n",
        SL_INVALID_ARGUMENT, "node 'c' (Add): input 1 ('y' from 'b') is int32 but the op expects float (T)");
    expect_import_text_error(
        "node { name: 'a' op: 'Placeholder' attr { key: 'dtype' value { type: DT_FLOAT } } }\n"
        "node { name: 'c' op: 'Add' input: 'a' }\n",
        SL_INVALID_ARGUMENT, "op expects 2 inputs but 1 were given");
    expect_import_text_error(
        "node { name: 'a' op: 'Placeholder' attr { key: 'dtype' value { type: DT_FLOAT } } }\n"
        "node { name: 'c' op: 'Neg' input: 'a:3' }\n",
        SL_INVALID_ARGUMENT, "refers to output 3 of 'a', which has 1 output");
    expect_import_text_error(
        "node { name: 'a' op: 'Placeholder' attr { key: 'dtype' value { type: DT_FLOAT } } }\n"
        "node { name: 'a' op: 'Placeholder' attr { key: 'dtype' value { type: DT_FLOAT } } }\n",
        SL_INVALID_ARGUMENT, "node 'a' appears more than once");
    expect_import_text_error(
        "node { name: 'a' op: 'Placeholder' attr { key: 'dtype' value { type: DT_FLOAT } }"
        " attr { key: 'bogus' value { i: 1 } } }\n",
        SL_INVALID_ARGUMENT, "attr 'bogus' is not defined by the op");
    expect_import_text_error(
        "node { name: 'k' op: 'Const' attr { key: 'dtype' value { type: DT_FLOAT } }"
        "  attr { key: 'value' value { tensor { dtype: DT_FLOAT tensor_shape { dim { size: 3 } }"
        "  tensor_content: '\\000\\000\\000\\000' } } } }\n",
        SL_INVALID_ARGUMENT, "tensor_content has 4 bytes but a float tensor of 3 elements needs 12");
    /* a shape error found by inference names the node and both shapes */
    expect_import_text_error(
        "node { name: 'a' op: 'Placeholder' attr { key: 'dtype' value { type: DT_FLOAT } }"
        "  attr { key: 'shape' value { shape { dim { size: 2 } dim { size: 3 } } } } }\n"
        "node { name: 'b' op: 'Placeholder' attr { key: 'dtype' value { type: DT_FLOAT } }"
        "  attr { key: 'shape' value { shape { dim { size: 4 } dim { size: 5 } } } } }\n"
        "node { name: 'm' op: 'MatMul' input: 'a' input: 'b' }\n",
        SL_INVALID_ARGUMENT, "node 'm' (MatMul): inner dimensions differ: 3 vs 4");
}

static void test_import_text_syntax_error_has_line_and_column(void **state)
{
    (void)state;
    expect_import_text_error("node {\n  name: 'a'\n  op: 'NoOp'\n  input: \n}\n", SL_INVALID_ARGUMENT, "bad.pbtxt:5:");
    expect_import_text_error("node {\n  name: 'a'\n  op 'NoOp'\n}\n", SL_INVALID_ARGUMENT, "bad.pbtxt:3:");
}

static void test_import_binary_truncated_and_random(void **state)
{
    (void)state;
    NEED_FIXTURES();
    sl_status *st = sl_status_new();
    size_t len;
    char *bytes = read_all(fixture_path("tf2onnx_mnist_fc_layers_frozen.pb"), &len);
    /* truncation anywhere in the file: a clear DATA_LOSS with an offset, or
     * (cut exactly between nodes) a smaller graph whose inputs dangle */
    size_t cuts[] = {1, 7, 100, 1000, len / 2, len - 3, len - 1};
    for (size_t c = 0; c < sizeof(cuts) / sizeof(cuts[0]); c++) {
        sl_graph *g = sl_graph_new(st);
        sl_code rc = sl_graph_import_binary(g, bytes, cuts[c], NULL, st);
        assert_int_not_equal(rc, SL_OK);
        if (rc == SL_DATA_LOSS)
            assert_non_null(strstr(sl_status_message(st), "byte offset"));
        assert_int_equal(sl_graph_num_nodes(g), 0);
        sl_graph_free(g);
    }
    /* random bytes */
    srand(7);
    for (int rep = 0; rep < 200; rep++) {
        uint8_t junk[256];
        size_t n = 1 + (size_t)rand() % sizeof(junk);
        for (size_t k = 0; k < n; k++)
            junk[k] = (uint8_t)rand();
        sl_graph *g = sl_graph_new(st);
        sl_code rc = sl_graph_import_binary(g, junk, n, NULL, st);
        assert_int_not_equal(rc, SL_OK);
        assert_true(strlen(sl_status_message(st)) > 0);
        assert_int_equal(sl_graph_num_nodes(g), 0);
        sl_graph_free(g);
    }
    free(bytes);
    sl_status_free(st);
}

static void test_load_reports_path(void **state)
{
    (void)state;
    sl_status *st = sl_status_new();
    assert_null(sl_graph_load("/nonexistent/graph.pb", NULL, st));
    assert_int_equal(sl_status_code(st), SL_NOT_FOUND);
    assert_non_null(strstr(sl_status_message(st), "/nonexistent/graph.pb"));
    char path[] = "/tmp/sl-test-graph-XXXXXX";
    int fd = mkstemp(path);
    assert_true(write(fd, "\x0a\xff\xff\x01", 4) == 4);
    close(fd);
    char pb[64];
    snprintf(pb, sizeof(pb), "%s.pb", path);
    rename(path, pb);
    assert_null(sl_graph_load(pb, NULL, st));
    assert_int_equal(sl_status_code(st), SL_DATA_LOSS);
    assert_non_null(strstr(sl_status_message(st), pb));
    assert_non_null(strstr(sl_status_message(st), "byte offset 0"));
    unlink(pb);
    sl_status_free(st);
}

/* ---- building -------------------------------------------------------- */

static sl_node *placeholder(sl_graph *g, const char *name, sl_dtype t, sl_status *st)
{
    sl_node_builder *b = sl_node_builder_new(g, "Placeholder", name);
    sl_node_builder_set_attr_type(b, "dtype", t);
    return sl_node_builder_finish(b, st);
}

static void test_builder_infers_types_and_fills_defaults(void **state)
{
    (void)state;
    sl_status *st = sl_status_new();
    sl_graph *g = sl_graph_new(st);
    sl_node *a = placeholder(g, "a", SL_DTYPE_FLOAT, st);
    sl_node *b = placeholder(g, "b", SL_DTYPE_FLOAT, st);
    sl_node_builder *nb = sl_node_builder_new(g, "MatMul", NULL);
    sl_node_builder_add_input(nb, (sl_output){a, 0});
    sl_node_builder_add_input(nb, (sl_output){b, 0});
    sl_node *mm = sl_node_builder_finish(nb, st);
    assert_non_null(mm);
    assert_string_equal(sl_node_name(mm), "MatMul");
    sl_dtype t;
    assert_true(sl_node_attr_type(mm, "T", &t));
    assert_int_equal(t, SL_DTYPE_FLOAT);
    bool ta = true;
    assert_true(sl_node_attr_bool(mm, "transpose_a", &ta));
    assert_false(ta);
    assert_int_equal(sl_node_output_type(mm, 0), SL_DTYPE_FLOAT);
    assert_int_equal(sl_node_num_out_edges(a), 1);

    /* N inferred from a list */
    sl_output vals[3] = {{a, 0}, {b, 0}, {mm, 0}};
    nb = sl_node_builder_new(g, "AddN", "sum");
    sl_node_builder_add_input_list(nb, vals, 3);
    sl_node *sum = sl_node_builder_finish(nb, st);
    assert_non_null(sum);
    int64_t n;
    assert_true(sl_node_attr_int(sum, "N", &n));
    assert_int_equal(n, 3);
    int start, count;
    assert_true(sl_node_input_range(sum, "inputs", &start, &count));
    assert_int_equal(count, 3);

    /* unique names: MatMul_1, then scoped */
    nb = sl_node_builder_new(g, "MatMul", NULL);
    sl_node_builder_add_input(nb, (sl_output){a, 0});
    sl_node_builder_add_input(nb, (sl_output){b, 0});
    sl_node *mm1 = sl_node_builder_finish(nb, st);
    assert_string_equal(sl_node_name(mm1), "MatMul_1");
    assert_int_equal(sl_graph_push_scope(g, "dense", st), SL_OK);
    sl_node *c = placeholder(g, "x", SL_DTYPE_INT32, st);
    assert_string_equal(sl_node_name(c), "dense/x");
    sl_graph_pop_scope(g);
    assert_int_equal(sl_graph_push_scope(g, "bad/scope", st), SL_INVALID_ARGUMENT);

    sl_graph_free(g);
    sl_status_free(st);
}

static void test_builder_failure_leaves_graph_unchanged(void **state)
{
    (void)state;
    sl_status *st = sl_status_new();
    sl_graph *g = sl_graph_new(st);
    sl_node *a = placeholder(g, "a", SL_DTYPE_FLOAT, st);
    sl_node *i = placeholder(g, "i", SL_DTYPE_INT32, st);
    sl_node_builder *nb = sl_node_builder_new(g, "Add", "bad");
    sl_node_builder_add_input(nb, (sl_output){a, 0});
    sl_node_builder_add_input(nb, (sl_output){i, 0});
    assert_null(sl_node_builder_finish(nb, st));
    assert_int_equal(sl_status_code(st), SL_INVALID_ARGUMENT);
    assert_non_null(strstr(sl_status_message(st), "node 'bad' (Add)"));
    assert_int_equal(sl_graph_num_nodes(g), 2);
    assert_int_equal(sl_node_num_out_edges(a), 0);
    assert_null(sl_graph_find_node(g, "bad"));

    /* name clash and unknown op */
    assert_null(placeholder(g, "a", SL_DTYPE_FLOAT, st));
    assert_non_null(strstr(sl_status_message(st), "already in the graph"));
    nb = sl_node_builder_new(g, "NoSuchOp", "x");
    assert_null(sl_node_builder_finish(nb, st));
    assert_int_equal(sl_status_code(st), SL_NOT_FOUND);
    /* a type outside the allowed set */
    sl_node *s = placeholder(g, "s", SL_DTYPE_STRING, st);
    nb = sl_node_builder_new(g, "MatMul", "mm");
    sl_node_builder_add_input(nb, (sl_output){s, 0});
    sl_node_builder_add_input(nb, (sl_output){s, 0});
    assert_null(sl_node_builder_finish(nb, st));
    assert_non_null(strstr(sl_status_message(st), "attr 'T' does not allow type string"));
    /* a non-reference where Ref(T) is needed */
    nb = sl_node_builder_new(g, "Assign", "as");
    sl_node_builder_add_input(nb, (sl_output){a, 0});
    sl_node_builder_add_input(nb, (sl_output){a, 0});
    assert_null(sl_node_builder_finish(nb, st));
    assert_non_null(strstr(sl_status_message(st), "must be a reference"));
    assert_int_equal(sl_graph_num_nodes(g), 3);
    sl_graph_free(g);
    sl_status_free(st);
}

/* Every allocation of an import may fail: the import reports it and the
 * graph is unchanged and leak-free; eventually it succeeds. */
static void test_import_allocation_failures(void **state)
{
    (void)state;
    const char *text =
        "node { name: 'a' op: 'Placeholder' attr { key: 'dtype' value { type: DT_FLOAT } } }\n"
        "node { name: 'k' op: 'Const' attr { key: 'dtype' value { type: DT_FLOAT } }"
        "  attr { key: 'value' value { tensor { dtype: DT_FLOAT tensor_shape { dim { size: 2 } } float_val: 1 float_val: 2 } } } }\n"
        "node { name: 'c' op: 'Mul' input: 'a' input: 'k' }\n"
        "node { name: 'd' op: 'Neg' input: 'c' input: '^a' device: '/device:CPU:0' }\n";
    sl_status *st = sl_status_new();
    sl_op_lookup("Neg");  /* registry allocations are not part of this */
    sl_graph *g = NULL;
    int failures = 0;
    for (int n = 1;; n++) {
        sl_alloc_stats s;
        sl_alloc_get_stats(&s);
        int64_t before = s.bytes_in_use;
        sl_alloc_fail_nth(n, 0);
        g = sl_graph_new(st);
        sl_code rc = g ? sl_graph_import_text(g, text, strlen(text), "oom.pbtxt", NULL, st)
                       : SL_RESOURCE_EXHAUSTED;
        bool fired = sl_alloc_fault_fired();
        sl_alloc_fail_nth(0, 0);
        if (rc == SL_OK) {
            assert_false(fired);
            break;
        }
        assert_true(fired);
        assert_int_equal(rc, SL_RESOURCE_EXHAUSTED);
        if (g)
            assert_int_equal(sl_graph_num_nodes(g), 0);
        sl_graph_free(g);
        sl_alloc_get_stats(&s);
        assert_int_equal(s.bytes_in_use, before);
        failures++;
    }
    assert_true(failures > 20);
    assert_int_equal(sl_graph_num_nodes(g), 4);
    sl_graph_free(g);
    sl_status_free(st);
}

static void test_save_is_atomic_and_round_trips(void **state)
{
    (void)state;
    sl_status *st = sl_status_new();
    sl_graph *g = sl_graph_new(st);
    sl_node *a = placeholder(g, "a", SL_DTYPE_FLOAT, st);
    sl_node_builder *nb = sl_node_builder_new(g, "Relu", "r");
    sl_node_builder_add_input(nb, (sl_output){a, 0});
    sl_node_builder_set_device(nb, "/job:worker/replica:0/task:1/device:CPU:0");
    assert_non_null(sl_node_builder_finish(nb, st));
    char dir[] = "/tmp/sl-save-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char pb[128], txt[128];
    snprintf(pb, sizeof(pb), "%s/g.pb", dir);
    snprintf(txt, sizeof(txt), "%s/g.pbtxt", dir);
    assert_int_equal(sl_graph_save(g, pb, st), SL_OK);
    assert_int_equal(sl_graph_save(g, txt, st), SL_OK);
    for (int k = 0; k < 2; k++) {
        sl_graph *back = sl_graph_load(k ? txt : pb, NULL, st);
        if (!back)
            fail_msg("%s", sl_status_message(st));
        assert_int_equal(sl_graph_num_nodes(back), 2);
        assert_string_equal(sl_node_device(sl_graph_find_node(back, "r")),
                            "/job:worker/replica:0/task:1/device:CPU:0");
        sl_graph_free(back);
    }
    /* saving into a missing directory fails cleanly and leaves no file */
    char bad[160];
    snprintf(bad, sizeof(bad), "%s/missing/g.pb", dir);
    assert_int_not_equal(sl_graph_save(g, bad, st), SL_OK);
    assert_non_null(strstr(sl_status_message(st), "cannot create"));
    unlink(pb);
    unlink(txt);
    rmdir(dir);
    sl_graph_free(g);
    sl_status_free(st);
}

static void test_op_registry(void **state)
{
    (void)state;
    const sl_op_def *mm = sl_op_lookup("MatMul");
    assert_non_null(mm);
    assert_int_equal(mm->num_inputs, 2);
    assert_string_equal(mm->inputs[0].type_attr, "T");
    const sl_op_def *concat = sl_op_lookup("ConcatV2");
    assert_string_equal(concat->inputs[0].number_attr, "N");
    const sl_op_attr *n = sl_op_def_find_attr(concat, "N");
    assert_true(n->has_minimum);
    assert_int_equal(n->minimum, 2);
    const sl_op_def *assign = sl_op_lookup("Assign");
    assert_true(assign->inputs[0].is_ref);
    assert_null(sl_op_lookup("NoSuchOp"));
    assert_true(sl_op_count() > 100);
    for (int i = 1; i < sl_op_count(); i++)
        assert_true(strcmp(sl_op_at(i - 1)->name, sl_op_at(i)->name) < 0);

    sl_status *st = sl_status_new();
    sl_op_spec dup = {.name = "MatMul"};
    assert_int_equal(sl_op_register(&dup, st), SL_ALREADY_EXISTS);
    sl_op_spec bad = {.name = "TestBad", .inputs = {"x: T"}, .attrs = {"U: type"}};
    assert_int_equal(sl_op_register(&bad, st), SL_INVALID_ARGUMENT);
    assert_non_null(strstr(sl_status_message(st), "'T', which is not a type attr"));
    sl_op_spec bad_default = {.name = "TestBad2", .attrs = {"k: int = banana"}};
    assert_int_equal(sl_op_register(&bad_default, st), SL_INVALID_ARGUMENT);
    sl_op_spec good = {.name = "TestGood", .inputs = {"xs: N * float"}, .outputs = {"y: float"},
                       .attrs = {"N: int >= 1", "mode: {'a', 'b'} = 'a'", "sizes: list(int) = [1, 2]"}};
    assert_int_equal(sl_op_register(&good, st), SL_OK);
    assert_non_null(sl_op_lookup("TestGood"));
    sl_status_free(st);
}

/* Tests on the real files in ../shared/fixtures run as their own meson test
 * ("graph-fixtures"), which exits 77 (skipped) where the folder is absent. */
int main(int argc, char **argv)
{
    const struct CMUnitTest fixture_tests[] = {
        cmocka_unit_test(test_fixture_graphs_import_with_expected_counts),
        cmocka_unit_test(test_fixture_text_round_trip),
        cmocka_unit_test(test_fixture_import_export_round_trip),
        cmocka_unit_test(test_fixture_details),
        cmocka_unit_test(test_import_binary_truncated_and_random),
    };
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_op_registry),
        cmocka_unit_test(test_import_rejects_unknown_op),
        cmocka_unit_test(test_import_rejects_dangling_input),
        cmocka_unit_test(test_import_rejects_cycle),
        cmocka_unit_test(test_import_accepts_loop_through_next_iteration),
        cmocka_unit_test(test_import_rejects_bad_attrs_and_types),
        cmocka_unit_test(test_import_text_syntax_error_has_line_and_column),
        cmocka_unit_test(test_load_reports_path),
        cmocka_unit_test(test_builder_infers_types_and_fills_defaults),
        cmocka_unit_test(test_builder_failure_leaves_graph_unchanged),
        cmocka_unit_test(test_import_allocation_failures),
        cmocka_unit_test(test_save_is_atomic_and_round_trips),
    };
    if (argc > 1 && !strcmp(argv[1], "fixtures")) {
        if (!have_fixtures()) {
            fprintf(stderr, "fixtures not found at %s: skipping\n", SL_FIXTURES_DIR);
            return 77;
        }
        return cmocka_run_group_tests_name("graph-fixtures", fixture_tests, NULL, NULL);
    }
    return cmocka_run_group_tests_name("graph", tests, NULL, NULL);
}
