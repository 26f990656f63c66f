/* The studio's document model, without a display: every edit and its
 * undo give back the exact previous GraphDef; incompatible connections
 * are refused with a reason; validation names both nodes of a shape
 * mismatch; files round-trip; unknown ops are kept; templates build a
 * valid MNIST MLP; every fixture graph opens and lays out. */
#include "config.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <glib/gstdio.h>
#include <string.h>

#include "studio-document.h"
#include "studio-layout.h"
#include "studio-templates.h"

static void
assert_same_bytes (GBytes *a, GBytes *b)
{
    assert_true (g_bytes_equal (a, b));
}

/* Runs an edit that must succeed, then checks undo restores the exact
 * previous GraphDef and redo the exact edited one. */
#define EDIT_UNDO(doc, expr)                                                   \
    do {                                                                       \
        GBytes *b0_ = studio_document_export (doc, FALSE);                     \
        GError *e_ = NULL;                                                     \
        gboolean ok_ = (expr);                                                 \
        if (!ok_)                                                              \
            fail_msg ("%s: %s", #expr, e_ ? e_->message : "failed");           \
        (void) e_;                                                             \
        GBytes *b1_ = studio_document_export (doc, FALSE);                     \
        assert_false (g_bytes_equal (b0_, b1_));                               \
        assert_true (studio_document_undo (doc));                              \
        GBytes *b2_ = studio_document_export (doc, FALSE);                     \
        assert_same_bytes (b0_, b2_);                                          \
        assert_true (studio_document_redo (doc));                              \
        GBytes *b3_ = studio_document_export (doc, FALSE);                     \
        assert_same_bytes (b1_, b3_);                                          \
        g_bytes_unref (b0_);                                                   \
        g_bytes_unref (b1_);                                                   \
        g_bytes_unref (b2_);                                                   \
        g_bytes_unref (b3_);                                                   \
    } while (0)

static void
add_placeholder (StudioDocument *doc, const char *name, const char *dtype, const char *shape)
{
    assert_true (studio_document_add_node (doc, "Placeholder", name, 0, 0, NULL, NULL));
    char *t = g_strdup_printf ("type: %s", dtype);
    assert_true (studio_document_set_attr_text (doc, name, "dtype", t, NULL));
    g_free (t);
    t = g_strdup_printf ("shape { %s }", shape);
    assert_true (studio_document_set_attr_text (doc, name, "shape", t, NULL));
    g_free (t);
}

static void
test_document_every_edit_undoes_exactly (void **state)
{
    StudioDocument *doc = studio_document_new ();
    EDIT_UNDO (doc, studio_document_add_node (doc, "Placeholder", "x", 10, 20, NULL, &e_));
    EDIT_UNDO (doc, studio_document_set_attr_text (doc, "x", "shape",
                                                   "shape { dim { size: -1 } dim { size: 4 } }", &e_));
    EDIT_UNDO (doc, studio_document_add_node (doc, "Placeholder", "w", 200, 20, NULL, &e_));
    EDIT_UNDO (doc, studio_document_set_attr_text (doc, "w", "shape",
                                                   "shape { dim { size: 4 } dim { size: 3 } }", &e_));
    EDIT_UNDO (doc, studio_document_add_node (doc, "MatMul", "mm", 100, 120, NULL, &e_));
    EDIT_UNDO (doc, studio_document_connect (doc, "x", 0, "mm", 0, &e_));
    EDIT_UNDO (doc, studio_document_connect (doc, "w", 0, "mm", 1, &e_));
    const StudioNode *mm = studio_document_find (doc, "mm", NULL);
    assert_non_null (mm);
    assert_int_equal (mm->state, STUDIO_NODE_OK);
    assert_int_equal (mm->outputs[0].dtype, SL_DTYPE_FLOAT);
    assert_int_equal (mm->outputs[0].shape.rank, 2);
    assert_int_equal (mm->outputs[0].shape.dims[1], 3);
    EDIT_UNDO (doc, studio_document_add_node (doc, "NoOp", "init", 0, 300, NULL, &e_));
    EDIT_UNDO (doc, studio_document_connect (doc, "mm", -1, "init", -1, &e_));
    EDIT_UNDO (doc, studio_document_disconnect_control (doc, "mm", "init", &e_));
    EDIT_UNDO (doc, studio_document_set_device (doc, "mm", "/device:CPU:0", &e_));
    const char *mv[] = { "x", "w", NULL };
    EDIT_UNDO (doc, studio_document_move_nodes (doc, mv, 15, -5, &e_));
    EDIT_UNDO (doc, studio_document_rename (doc, "w", "weights", &e_));
    assert_string_equal (studio_document_find (doc, "mm", NULL)->def->input[1], "weights");
    const char *grp[] = { "mm", "weights", NULL };
    EDIT_UNDO (doc, studio_document_group (doc, grp, "layer", &e_));
    assert_non_null (studio_document_find (doc, "layer/mm", NULL));
    EDIT_UNDO (doc, studio_document_ungroup (doc, "layer", &e_));
    assert_non_null (studio_document_find (doc, "mm", NULL));
    EDIT_UNDO (doc, studio_document_disconnect (doc, "mm", 0, &e_));
    assert_int_equal (studio_document_find (doc, "mm", NULL)->state, STUDIO_NODE_ERROR);
    char *clip = studio_document_copy (doc, mv);
    EDIT_UNDO (doc, studio_document_paste (doc, clip, 30, 30, NULL, &e_));
    g_free (clip);
    assert_non_null (studio_document_find (doc, "x_1", NULL));
    const char *del[] = { "x", NULL };
    EDIT_UNDO (doc, studio_document_delete_nodes (doc, del, &e_));
    EDIT_UNDO (doc, studio_document_arrange (doc, NULL, FALSE, &e_));
    /* the whole history back to empty, then forward again */
    GBytes *end = studio_document_export (doc, FALSE);
    while (studio_document_undo (doc))
        ;
    assert_int_equal (studio_document_get_n_nodes (doc), 0);
    while (studio_document_redo (doc))
        ;
    GBytes *again = studio_document_export (doc, FALSE);
    assert_same_bytes (end, again);
    g_bytes_unref (end);
    g_bytes_unref (again);
    g_object_unref (doc);
}

static void
test_document_connect_refuses_dtype_mismatch (void **state)
{
    StudioDocument *doc = studio_document_new ();
    add_placeholder (doc, "floats", "DT_FLOAT", "dim { size: 3 }");
    add_placeholder (doc, "ints", "DT_INT32", "dim { size: 3 }");
    assert_true (studio_document_add_node (doc, "Add", "sum", 0, 0, NULL, NULL));
    assert_true (studio_document_connect (doc, "floats", 0, "sum", 0, NULL));
    GBytes *before = studio_document_export (doc, FALSE);
    GError *e = NULL;
    assert_false (studio_document_connect (doc, "ints", 0, "sum", 1, &e));
    assert_non_null (e);
    assert_int_equal (e->code, STUDIO_DOCUMENT_ERROR_INCOMPATIBLE);
    assert_non_null (strstr (e->message, "'ints'"));
    assert_non_null (strstr (e->message, "'sum'"));
    assert_non_null (strstr (e->message, "int32"));
    assert_non_null (strstr (e->message, "float"));
    g_clear_error (&e);
    GBytes *after = studio_document_export (doc, FALSE);
    assert_same_bytes (before, after);
    assert_string_equal (studio_document_undo_label (doc), "Connect");
    /* a type outside the op's allowed set: MatMul takes no bool */
    add_placeholder (doc, "flags", "DT_BOOL", "dim { size: 3 }");
    assert_true (studio_document_add_node (doc, "MatMul", "mm", 0, 0, NULL, NULL));
    assert_false (studio_document_connect (doc, "flags", 0, "mm", 0, &e));
    assert_non_null (strstr (e->message, "bool"));
    g_clear_error (&e);
    /* a cycle */
    assert_false (studio_document_connect (doc, "sum", 0, "sum", 1, &e));
    assert_int_equal (e->code, STUDIO_DOCUMENT_ERROR_INCOMPATIBLE);
    g_clear_error (&e);
    g_bytes_unref (before);
    g_bytes_unref (after);
    g_object_unref (doc);
}

static void
test_document_shape_mismatch_names_both_nodes (void **state)
{
    StudioDocument *doc = studio_document_new ();
    add_placeholder (doc, "images", "DT_FLOAT", "dim { size: -1 } dim { size: 784 }");
    add_placeholder (doc, "weights", "DT_FLOAT", "dim { size: 100 } dim { size: 10 }");
    assert_true (studio_document_add_node (doc, "MatMul", "logits", 0, 0, NULL, NULL));
    assert_true (studio_document_connect (doc, "images", 0, "logits", 0, NULL));
    assert_true (studio_document_connect (doc, "weights", 0, "logits", 1, NULL));
    assert_true (studio_document_add_node (doc, "Relu", "act", 0, 0, NULL, NULL));
    assert_true (studio_document_connect (doc, "logits", 0, "act", 0, NULL));
    const StudioNode *n = studio_document_find (doc, "logits", NULL);
    assert_int_equal (n->state, STUDIO_NODE_ERROR);
    assert_non_null (strstr (n->message, "'images'"));
    assert_non_null (strstr (n->message, "'weights'"));
    assert_non_null (strstr (n->message, "784"));
    assert_int_equal (studio_document_count_problems (doc), 1);
    /* what follows is still checked (shapes unknown, no error of its own) */
    assert_int_equal (studio_document_find (doc, "act", NULL)->state, STUDIO_NODE_OK);
    /* fixing the shape clears the error */
    assert_true (studio_document_set_attr_text (doc, "weights", "shape",
                                                "shape { dim { size: 784 } dim { size: 10 } }", NULL));
    assert_int_equal (studio_document_find (doc, "logits", NULL)->state, STUDIO_NODE_OK);
    assert_int_equal (studio_document_count_problems (doc), 0);
    g_object_unref (doc);
}

static void
roundtrip (StudioDocument *doc, const char *ext)
{
    char *dir = g_dir_make_tmp ("studio-XXXXXX", NULL);
    char *path = g_strdup_printf ("%s/graph.%s", dir, ext);
    GError *e = NULL;
    assert_true (studio_document_save (doc, path, &e));
    assert_false (studio_document_is_modified (doc));
    GBytes *saved = studio_document_export (doc, FALSE);
    StudioDocument *again = studio_document_new ();
    if (!studio_document_load (again, path, &e))
        fail_msg ("%s", e->message);
    GBytes *reopened = studio_document_export (again, FALSE);
    assert_same_bytes (saved, reopened);
    for (int i = 0; i < studio_document_get_n_nodes (doc); i++) {
        const StudioNode *a = studio_document_get_node (doc, i), *b = studio_document_get_node (again, i);
        assert_int_equal (a->has_position, b->has_position);
        if (a->x != b->x || a->y != b->y)
            fail_msg ("%s: %.17g,%.17g vs %s %.17g,%.17g", a->def->name, a->x, a->y, b->def->name, b->x, b->y);
    }
    g_bytes_unref (saved);
    g_bytes_unref (reopened);
    g_object_unref (again);
    g_unlink (path);
    g_rmdir (dir);
    g_free (path);
    g_free (dir);
}

static void
test_document_mnist_template_validates_and_roundtrips (void **state)
{
    StudioDocument *doc = studio_document_new ();
    GError *e = NULL;
    char *out = NULL;
    if (!studio_template_apply (doc, "mnist-mlp", NULL, 0, 40, 40, &out, &e))
        fail_msg ("%s", e->message);
    assert_string_equal (out, "loss/mean");
    g_free (out);
    for (int i = 0; i < studio_document_get_n_nodes (doc); i++) {
        const StudioNode *n = studio_document_get_node (doc, i);
        if (n->state != STUDIO_NODE_OK)
            fail_msg ("%s: %s", n->def->name, n->message);
        assert_true (n->has_position);
    }
    const StudioNode *relu = studio_document_find (doc, "dense/Relu", NULL);
    assert_non_null (relu);
    assert_int_equal (relu->outputs[0].shape.rank, 2);
    assert_int_equal (relu->outputs[0].shape.dims[1], 128);
    const StudioNode *logits = studio_document_find (doc, "dense_1/BiasAdd", NULL);
    assert_int_equal (logits->outputs[0].shape.dims[1], 10);
    /* one undo removes the whole template */
    assert_string_equal (studio_document_undo_label (doc), "Add MNIST MLP");
    roundtrip (doc, "pbtxt");
    roundtrip (doc, "pb");
    assert_true (studio_document_undo (doc));
    assert_int_equal (studio_document_get_n_nodes (doc), 0);
    /* layers chain on a selected output */
    add_placeholder (doc, "x", "DT_FLOAT", "dim { size: -1 } dim { size: 28 } dim { size: 28 } dim { size: 1 }");
    char *c = NULL, *p = NULL;
    assert_true (studio_template_apply (doc, "conv2d", "x", 8, 0, 100, &c, NULL));
    assert_true (studio_template_apply (doc, "maxpool", c, 0, 0, 400, &p, NULL));
    assert_true (studio_template_apply (doc, "dropout", p, 0, 0, 600, NULL, NULL));
    const StudioNode *pool = studio_document_find (doc, p, NULL);
    assert_int_equal (pool->outputs[0].shape.dims[1], 14);
    assert_int_equal (pool->outputs[0].shape.dims[3], 8);
    assert_int_equal (studio_document_count_problems (doc), 0);
    g_free (c);
    g_free (p);
    g_object_unref (doc);
}

static void
test_document_keeps_unknown_ops (void **state)
{
    const char *text =
        "node { name: 'in' op: 'Placeholder' attr { key: 'dtype' value { type: DT_FLOAT } } }\n"
        "node { name: 'magic' op: 'FancyOp' input: 'in' attr { key: 'T' value { type: DT_FLOAT } }"
        " attr { key: 'level' value { i: 3 } } }\n"
        "node { name: 'out' op: 'Identity' input: 'magic' }\n";
    StudioDocument *doc = studio_document_new ();
    GError *e = NULL;
    assert_true (studio_document_load_bytes (doc, text, strlen (text), TRUE, "t.pbtxt", &e));
    const StudioNode *m = studio_document_find (doc, "magic", NULL);
    assert_int_equal (m->state, STUDIO_NODE_UNKNOWN_OP);
    assert_non_null (strstr (m->message, "FancyOp"));
    assert_int_equal (m->n_inputs, 1);
    assert_int_equal (m->n_outputs, 1);
    assert_int_equal (studio_document_find (doc, "out", NULL)->state, STUDIO_NODE_UNCHECKED);
    EDIT_UNDO (doc, studio_document_set_attr_text (doc, "magic", "level", "i: 4", &e_));
    EDIT_UNDO (doc, studio_document_rename (doc, "magic", "spell", &e_));
    assert_string_equal (studio_document_find (doc, "out", NULL)->def->input[0], "spell");
    roundtrip (doc, "pbtxt");
    g_object_unref (doc);
}

static void
test_document_refuses_corrupt_files (void **state)
{
    StudioDocument *doc = studio_document_new ();
    assert_true (studio_document_add_node (doc, "NoOp", "keep", 0, 0, NULL, NULL));
    GBytes *before = studio_document_export (doc, FALSE);
    GError *e = NULL;
    const char garbage[] = "\xff\xfe\x00\x13garbage\x00\x01\x02";
    assert_false (studio_document_load_bytes (doc, garbage, sizeof garbage, FALSE, "bad.pb", &e));
    assert_non_null (strstr (e->message, "bad.pb"));
    g_clear_error (&e);
    const char text[] = "node { name: 'a' op: ";
    assert_false (studio_document_load_bytes (doc, text, strlen (text), TRUE, "bad.pbtxt", &e));
    g_clear_error (&e);
    assert_false (studio_document_load (doc, "/nonexistent/graph.pb", &e));
    g_clear_error (&e);
    GBytes *after = studio_document_export (doc, FALSE);
    assert_same_bytes (before, after);
    assert_true (studio_document_can_undo (doc));
    g_bytes_unref (before);
    g_bytes_unref (after);
    g_object_unref (doc);
}

static void
test_document_fixture_graphs_open_and_lay_out (void **state)
{
    const char *dir_path = STUDIO_FIXTURES_DIR "/graphs";
    GDir *dir = g_dir_open (dir_path, 0, NULL);
    if (!dir)
        skip ();
    const char *name;
    int count = 0;
    while ((name = g_dir_read_name (dir))) {
        if (!g_str_has_suffix (name, ".pb") && !g_str_has_suffix (name, ".pbtxt"))
            continue;
        char *path = g_build_filename (dir_path, name, NULL);
        StudioDocument *doc = studio_document_new ();
        GError *e = NULL;
        gint64 t0 = g_get_monotonic_time ();
        if (!studio_document_load (doc, path, &e))
            fail_msg ("%s", e->message);
        gint64 t1 = g_get_monotonic_time ();
        assert_true (studio_document_arrange (doc, NULL, TRUE, &e));
        gint64 t2 = g_get_monotonic_time ();
        assert_true (studio_document_arrange (doc, NULL, FALSE, &e));
        gint64 t3 = g_get_monotonic_time ();
        int n = studio_document_get_n_nodes (doc);
        print_message ("%-45s %4d nodes, %d problems: load %.0f ms, quick layout %.0f ms, dot %.0f ms\n",
                       name, n, studio_document_count_problems (doc), (t1 - t0) / 1e3,
                       (t2 - t1) / 1e3, (t3 - t2) / 1e3);
        /* the first view: load plus the quick layout */
        assert_true (t2 - t0 < 2 * G_USEC_PER_SEC);
        /* positions are distinct enough to read: no two nodes on one spot */
        GHashTable *spots = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
        for (int i = 0; i < n; i++) {
            const StudioNode *sn = studio_document_get_node (doc, i);
            char *k = g_strdup_printf ("%.0f,%.0f", sn->x, sn->y);
            assert_false (g_hash_table_contains (spots, k));
            g_hash_table_add (spots, k);
        }
        g_hash_table_unref (spots);
        roundtrip (doc, g_str_has_suffix (name, ".pbtxt") ? "pbtxt" : "pb");
        g_object_unref (doc);
        g_free (path);
        count++;
    }
    g_dir_close (dir);
    assert_true (count > 0);
}

/* Writes the MNIST MLP template (error: with a mis-sized second kernel)
 * to path: graphs for the screenshots and the user-level test. */
static int
write_mlp (const char *path, gboolean error)
{
    StudioDocument *doc = studio_document_new ();
    GError *e = NULL;
    gboolean ok = studio_template_apply (doc, "mnist-mlp", NULL, 0, 40, 40, NULL, &e);
    if (ok && error)
        ok = studio_document_set_attr_text (doc, "dense_1/kernel", "shape",
                                            "shape { dim { size: 100 } dim { size: 10 } }", &e);
    ok = ok && studio_document_save (doc, path, &e);
    if (!ok)
        g_printerr ("%s\n", e->message);
    g_object_unref (doc);
    return ok ? 0 : 1;
}

/* Whether two graph files hold the same GraphDef once node positions
 * are left out (the user-level test places the model where the pointer
 * is); prints the first difference. */
static int
same_graph (const char *a, const char *b)
{
    StudioDocument *docs[2] = { studio_document_new (), studio_document_new () };
    const char *paths[2] = { a, b };
    char *text[2] = { NULL, NULL };
    for (int d = 0; d < 2; d++) {
        GError *e = NULL;
        if (!studio_document_load (docs[d], paths[d], &e)) {
            g_printerr ("%s\n", e->message);
            return 2;
        }
        int n = studio_document_get_n_nodes (docs[d]);
        const char **names = g_new0 (const char *, (gsize) n + 1);
        double *xy = g_new0 (double, 2 * (gsize) n);
        for (int i = 0; i < n; i++)
            names[i] = studio_document_get_node (docs[d], i)->def->name;
        studio_document_set_positions (docs[d], names, xy, NULL);
        g_free (names);
        g_free (xy);
        GBytes *t = studio_document_export (docs[d], TRUE);
        text[d] = g_strndup (g_bytes_get_data (t, NULL), g_bytes_get_size (t));
        g_bytes_unref (t);
    }
    int rc = strcmp (text[0], text[1]) == 0 ? 0 : 1;
    if (rc) {
        char **la = g_strsplit (text[0], "\n", -1), **lb = g_strsplit (text[1], "\n", -1);
        for (int i = 0; la[i] && lb[i]; i++)
            if (strcmp (la[i], lb[i]) != 0) {
                g_printerr ("line %d differs:\n  %s: %s\n  %s: %s\n", i + 1, a, la[i], b, lb[i]);
                break;
            }
        g_strfreev (la);
        g_strfreev (lb);
    }
    for (int d = 0; d < 2; d++) {
        g_free (text[d]);
        g_object_unref (docs[d]);
    }
    return rc;
}

int
main (int argc, char **argv)
{
    if (argc > 3 && strcmp (argv[1], "same-graph") == 0)
        return same_graph (argv[2], argv[3]);
    if (argc > 2 && strcmp (argv[1], "write-mlp") == 0)
        return write_mlp (argv[2], FALSE);
    if (argc > 2 && strcmp (argv[1], "write-mlp-error") == 0)
        return write_mlp (argv[2], TRUE);
    const struct CMUnitTest model[] = {
        cmocka_unit_test (test_document_every_edit_undoes_exactly),
        cmocka_unit_test (test_document_connect_refuses_dtype_mismatch),
        cmocka_unit_test (test_document_shape_mismatch_names_both_nodes),
        cmocka_unit_test (test_document_mnist_template_validates_and_roundtrips),
        cmocka_unit_test (test_document_keeps_unknown_ops),
        cmocka_unit_test (test_document_refuses_corrupt_files),
    };
    const struct CMUnitTest fixtures[] = {
        cmocka_unit_test (test_document_fixture_graphs_open_and_lay_out),
    };
    if (argc > 1 && strcmp (argv[1], "fixtures") == 0) {
        if (!g_file_test (STUDIO_FIXTURES_DIR "/graphs", G_FILE_TEST_IS_DIR))
            return 77;
        return cmocka_run_group_tests_name ("studio-fixtures", fixtures, NULL, NULL);
    }
    return cmocka_run_group_tests_name ("studio-document", model, NULL, NULL);
}
