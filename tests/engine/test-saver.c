/* Savers and the SaveV2/RestoreV2 kernels: save and restore round trips,
 * the `checkpoint` state file, keeping the newest K bundles (also across
 * savers), periodic saves, restores that refuse a bundle whose tensors are
 * missing or of another shape without changing any variable, errors that
 * name the file and the tensor, a saver killed with SIGKILL at random
 * moments always leaving a state file that names a complete checkpoint,
 * and (with 'fixtures') restoring TF's own checkpoint into variables. */
#include "graph-helpers.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "sluice/alloc.h"
#include "sluice/checkpoint.h"
#include "sluice/layers.h"
#include "sluice/optimizers.h"
#include "sluice/saver.h"
#include "sluice/session.h"

#ifndef SL_FIXTURES_DIR
#define SL_FIXTURES_DIR "../shared/fixtures"
#endif
#define FIXTURE SL_FIXTURES_DIR "/checkpoints/tf2_savedmodel_regression/variables/variables"

static sl_status *st;
static char dir[64];

static int setup(void **state)
{
    (void)state;
    st = sl_status_new();
    snprintf(dir, sizeof(dir), "/tmp/sl-saver-XXXXXX");
    if (!mkdtemp(dir))
        return -1;
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        return -1;
    sl_status_free(st);
    return 0;
}

static void ok(bool cond)
{
    if (!cond)
        fail_msg("%s", sl_status_message(st));
}

static bool exists(const char *fmt, const char *a, long step)
{
    char p[256];
    snprintf(p, sizeof(p), fmt, a, step);
    struct stat sb;
    return stat(p, &sb) == 0;
}

/* w [rows, 3] float and b [3] double, both constant-initialized; plus
 * "bump", which adds 1 to both. */
static sl_graph *model(int rows)
{
    sl_graph *g = sl_graph_new(st);
    sl_shape ws = sl_shape_matrix(rows, 3), bs = sl_shape_vector(3);
    sl_initializer c = {SL_INIT_CONSTANT, 0.5, 0};
    sl_output w = sl_variable_init(g, "layer/w", SL_DTYPE_FLOAT, &ws, &c, st);
    sl_output b = sl_variable_init(g, "layer/b", SL_DTYPE_DOUBLE, &bs, &c, st);
    ok(w.node && b.node);
    sl_output one_f = th_const(g, NULL, sl_tensor_new_scalar_float(1.0f, NULL));
    sl_shape v3 = sl_shape_vector(3);
    sl_tensor *d = sl_tensor_new(SL_DTYPE_DOUBLE, &v3, NULL);
    for (int i = 0; i < 3; i++)
        ((double *)sl_tensor_data(d))[i] = 1.0;
    sl_output one_d = th_const(g, NULL, d);
    sl_node_builder *nb = sl_node_builder_new(g, "NoOp", "bump");
    sl_node_builder_add_control_input(nb, TH_OP(g, "AssignAdd", w, TH_OP(g, "Fill", th_const_i32(g, 2, (int32_t[]){rows, 3}), one_f)).node);
    sl_node_builder_add_control_input(nb, TH_OP(g, "AssignAdd", b, one_d).node);
    th_finish(nb);
    ok(sl_global_step(g, st).node != NULL);
    ok(sl_variables_initializer(g, "init", st) != NULL);
    return g;
}

static void run_target(sl_session *s, const char *t)
{
    if (sl_session_run(s, NULL, NULL, NULL, 0, NULL, NULL, 0, &t, 1, NULL, st) != SL_OK)
        fail_msg("%s: %s", t, sl_status_message(st));
}

static double value_of(sl_session *s, const char *name)
{
    sl_tensor *t;
    if (sl_session_run(s, NULL, NULL, NULL, 0, &name, &t, 1, NULL, 0, NULL, st) != SL_OK)
        fail_msg("%s: %s", name, sl_status_message(st));
    double v = sl_tensor_dtype(t) == SL_DTYPE_FLOAT ? *(float *)sl_tensor_data(t) : *(double *)sl_tensor_data(t);
    sl_tensor_unref(t);
    return v;
}

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return NULL;
    static char buf[4096];
    size_t n = fread(buf, 1, sizeof(buf) - 1, f);
    buf[n] = '\0';
    fclose(f);
    return buf;
}

static void test_saver_round_trip_and_state_file(void **state)
{
    (void)state;
    sl_graph *g = model(2);
    sl_saver_options o = SL_SAVER_OPTIONS_INIT;
    o.directory = dir;
    sl_saver *sv = sl_saver_new(g, NULL, 0, &o, st);
    ok(sv != NULL);
    assert_non_null(sl_graph_find_node(g, "save/SaveV2"));
    assert_non_null(sl_graph_find_node(g, "save/restore_all"));
    sl_session *s = sl_session_new(g, NULL, st);
    ok(s != NULL);
    bool restored = true;
    ok(sl_saver_restore_latest(sv, s, &restored, st) == SL_OK);
    assert_false(restored);
    run_target(s, "init");
    run_target(s, "bump");
    ok(sl_saver_save(sv, s, 7, st) == SL_OK);
    assert_true(exists("%s/model.ckpt-%ld.index", dir, 7));
    assert_true(exists("%s/model.ckpt-%ld.data-00000-of-00001", dir, 7));
    char path[128];
    snprintf(path, sizeof(path), "%s/checkpoint", dir);
    assert_string_equal(slurp(path), "model_checkpoint_path: \"model.ckpt-7\"\n"
                                     "all_model_checkpoint_paths: \"model.ckpt-7\"\n");
    /* the bundle holds every variable under its name */
    char prefix[128];
    snprintf(prefix, sizeof(prefix), "%s/model.ckpt-7", dir);
    assert_string_equal(sl_saver_last(sv), prefix);
    sl_checkpoint_reader *r = sl_checkpoint_open(prefix, st);
    ok(r != NULL);
    assert_int_equal(sl_checkpoint_num_entries(r), 3);
    assert_int_equal(sl_checkpoint_find(r, "global_step"), 0);
    assert_true(sl_checkpoint_find(r, "layer/w") >= 0);
    sl_checkpoint_close(r);

    run_target(s, "bump");
    run_target(s, "bump");
    assert_true(value_of(s, "layer/w") == 3.5);
    ok(sl_saver_restore_latest(sv, s, &restored, st) == SL_OK);
    assert_true(restored);
    assert_true(value_of(s, "layer/w") == 1.5 && value_of(s, "layer/b") == 1.5);

    /* a fresh session of a fresh graph restores without running init */
    sl_session_free(s);
    sl_saver_free(sv);
    sl_graph_free(g);
    g = model(2);
    sv = sl_saver_new(g, NULL, 0, &o, st);
    s = sl_session_new(g, NULL, st);
    ok(sl_saver_restore_latest(sv, s, &restored, st) == SL_OK && restored);
    assert_true(value_of(s, "layer/b") == 1.5);
    assert_int_equal(sl_checkpoint_step(sl_saver_last(sv)), 7);
    sl_session_free(s);
    sl_saver_free(sv);
    sl_graph_free(g);
}

static void test_saver_keeps_newest_and_saves_periodically(void **state)
{
    (void)state;
    sl_graph *g = model(1);
    sl_saver_options o = SL_SAVER_OPTIONS_INIT;
    o.directory = dir;
    o.max_to_keep = 2;
    o.every_steps = 10;
    sl_saver *sv = sl_saver_new(g, NULL, 0, &o, st);
    sl_session *s = sl_session_new(g, NULL, st);
    run_target(s, "init");
    int saves = 0;
    for (int64_t step = 0; step <= 35; step++) {
        bool saved;
        ok(sl_saver_maybe_save(sv, s, step, &saved, st) == SL_OK);
        saves += saved;
    }
    assert_int_equal(saves, 3); /* 10, 20, 30 */
    assert_false(exists("%s/model.ckpt-%ld.index", dir, 10));
    assert_true(exists("%s/model.ckpt-%ld.index", dir, 20));
    assert_true(exists("%s/model.ckpt-%ld.index", dir, 30));
    assert_int_equal(sl_saver_num_checkpoints(sv), 2);
    sl_session_free(s);
    sl_saver_free(sv);
    sl_graph_free(g);

    /* a new saver over the directory takes the list over */
    g = model(1);
    sv = sl_saver_new(g, NULL, 0, &o, st);
    assert_int_equal(sl_saver_num_checkpoints(sv), 2);
    s = sl_session_new(g, NULL, st);
    run_target(s, "init");
    ok(sl_saver_save(sv, s, 40, st) == SL_OK);
    assert_false(exists("%s/model.ckpt-%ld.index", dir, 20));
    assert_false(exists("%s/model.ckpt-%ld.data-00000-of-00001", dir, 20));
    assert_true(exists("%s/model.ckpt-%ld.index", dir, 30));
    char *latest = sl_checkpoint_latest(dir, st);
    assert_non_null(latest);
    assert_int_equal(sl_checkpoint_step(latest), 40);
    sl_free(latest);
    sl_session_free(s);
    sl_saver_free(sv);
    sl_graph_free(g);
}

static void test_saver_refuses_mismatched_checkpoint(void **state)
{
    (void)state;
    sl_graph *g = model(2);
    sl_saver_options o = SL_SAVER_OPTIONS_INIT;
    o.directory = dir;
    sl_saver *sv = sl_saver_new(g, NULL, 0, &o, st);
    sl_session *s = sl_session_new(g, NULL, st);
    run_target(s, "init");
    run_target(s, "bump");
    ok(sl_saver_save(sv, s, 1, st) == SL_OK);
    sl_session_free(s);
    sl_saver_free(sv);
    sl_graph_free(g);

    /* w is [4, 3] now: refused, naming the file and the tensor */
    g = model(4);
    sv = sl_saver_new(g, NULL, 0, &o, st);
    s = sl_session_new(g, NULL, st);
    run_target(s, "init");
    bool restored = true;
    assert_int_equal(sl_saver_restore_latest(sv, s, &restored, st), SL_INVALID_ARGUMENT);
    assert_false(restored);
    assert_non_null(strstr(sl_status_message(st), "model.ckpt-1.index"));
    assert_non_null(strstr(sl_status_message(st), "'layer/w'"));
    assert_non_null(strstr(sl_status_message(st), "[2,3]"));
    /* nothing was assigned: b keeps its initial value though it matched */
    assert_true(value_of(s, "layer/b") == 0.5);
    sl_session_free(s);
    sl_saver_free(sv);
    sl_graph_free(g);

    /* a variable the checkpoint lacks */
    g = model(2);
    sl_shape vs = sl_shape_vector(2);
    sl_initializer z = {SL_INIT_ZEROS, 0, 0};
    ok(sl_variable_init(g, "extra", SL_DTYPE_FLOAT, &vs, &z, st).node != NULL);
    sv = sl_saver_new(g, NULL, 0, &o, st);
    s = sl_session_new(g, NULL, st);
    assert_int_equal(sl_saver_restore_latest(sv, s, &restored, st), SL_NOT_FOUND);
    assert_non_null(strstr(sl_status_message(st), "'extra'"));
    /* a prefix that does not exist: the kernel's own error names it */
    const char *feed = "save/Const", *target = "save/restore_all";
    sl_shape sc = sl_shape_scalar();
    sl_tensor *p = sl_tensor_new(SL_DTYPE_STRING, &sc, NULL);
    sl_tensor_set_string(p, 0, "/nonexistent/ckpt-3", 19, NULL);
    assert_int_not_equal(sl_session_run(s, NULL, &feed, &p, 1, NULL, NULL, 0, &target, 1, NULL, st), SL_OK);
    assert_non_null(strstr(sl_status_message(st), "/nonexistent/ckpt-3"));
    sl_tensor_unref(p);
    sl_session_free(s);
    sl_saver_free(sv);
    sl_graph_free(g);
}

/* A child saves in a loop (K = 2) and is killed at a random moment; the
 * state file must then name a complete, readable bundle, every time. */
static void test_saver_survives_sigkill(void **state)
{
    (void)state;
    srand((unsigned)time(NULL));
    for (int round = 0; round < 6; round++) {
        pid_t pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
            sl_status *cst = sl_status_new();
            sl_graph *g = model(64);
            sl_saver_options o = SL_SAVER_OPTIONS_INIT;
            o.directory = dir;
            o.max_to_keep = 2;
            sl_saver *sv = sl_saver_new(g, NULL, 0, &o, cst);
            sl_session *s = sl_session_new(g, NULL, cst);
            bool restored;
            if (!sv || !s || sl_saver_restore_latest(sv, s, &restored, cst) != SL_OK)
                _exit(3);
            const char *init = "init", *bump = "bump";
            if (!restored && sl_session_run(s, NULL, NULL, NULL, 0, NULL, NULL, 0, &init, 1, NULL, cst) != SL_OK)
                _exit(5);
            for (int64_t step = 1;; step++) {
                if (sl_session_run(s, NULL, NULL, NULL, 0, NULL, NULL, 0, &bump, 1, NULL, cst) != SL_OK)
                    _exit(6);
                if (sl_saver_save(sv, s, step + 1000 * round, cst) != SL_OK)
                    _exit(4);
            }
        }
        usleep(60000 + (useconds_t)(rand() % 200000));
        kill(pid, SIGKILL);
        int status;
        waitpid(pid, &status, 0);
        assert_true(WIFSIGNALED(status));
        char *latest = sl_checkpoint_latest(dir, st);
        if (!latest)
            continue; /* killed before the first save */
        sl_checkpoint_reader *r = sl_checkpoint_open(latest, st);
        if (!r)
            fail_msg("round %d: %s", round, sl_status_message(st));
        for (int i = 0; i < sl_checkpoint_num_entries(r); i++) {
            sl_tensor *t = sl_checkpoint_read(r, sl_checkpoint_entry_name(r, i), st);
            if (!t)
                fail_msg("round %d: %s", round, sl_status_message(st));
            sl_tensor_unref(t);
        }
        printf("# round %d: killed, latest %s restores\n", round, strrchr(latest, '/') + 1);
        sl_checkpoint_close(r);
        sl_free(latest);
    }
}

static void test_saver_errors(void **state)
{
    (void)state;
    sl_graph *g = sl_graph_new(st);
    sl_saver_options o = SL_SAVER_OPTIONS_INIT;
    assert_null(sl_saver_new(g, NULL, 0, &o, st));
    assert_int_equal(sl_status_code(st), SL_INVALID_ARGUMENT);
    o.directory = dir;
    assert_null(sl_saver_new(g, NULL, 0, &o, st));
    assert_non_null(strstr(sl_status_message(st), "no variables"));
    sl_output x = th_ph(g, "x", SL_DTYPE_FLOAT, TH_DIMS(2));
    int n = sl_graph_num_nodes(g);
    assert_null(sl_saver_new(g, &x, 1, &o, st));
    assert_non_null(strstr(sl_status_message(st), "'x' is not a variable"));
    assert_int_equal(sl_graph_num_nodes(g), n);
    /* a corrupt state file is reported with its path */
    char path[128];
    snprintf(path, sizeof(path), "%s/checkpoint", dir);
    FILE *f = fopen(path, "w");
    fputs("garbage here\n", f);
    fclose(f);
    assert_null(sl_checkpoint_latest(dir, st));
    assert_int_equal(sl_status_code(st), SL_DATA_LOSS);
    assert_non_null(strstr(sl_status_message(st), path));
    unlink(path);
    sl_graph_free(g);
}

/* TF's own checkpoint restores into variables of the same names. */
static void test_saver_restores_tf_checkpoint(void **state)
{
    (void)state;
    struct stat sb;
    if (stat(FIXTURE ".index", &sb) != 0)
        skip();
    sl_checkpoint_reader *r = sl_checkpoint_open(FIXTURE, st);
    ok(r != NULL);
    sl_graph *g = sl_graph_new(st);
    const char *names[2] = {"w/.ATTRIBUTES/VARIABLE_VALUE", "b/.ATTRIBUTES/VARIABLE_VALUE"};
    sl_output vars[2];
    for (int i = 0; i < 2; i++) {
        int e = sl_checkpoint_find(r, names[i]);
        assert_true(e >= 0);
        sl_initializer z = {SL_INIT_ZEROS, 0, 0};
        vars[i] = sl_variable_init(g, names[i], SL_DTYPE_FLOAT, sl_checkpoint_entry_shape(r, e), &z, st);
        ok(vars[i].node != NULL);
    }
    sl_saver_options o = SL_SAVER_OPTIONS_INIT;
    o.directory = dir;
    sl_saver *sv = sl_saver_new(g, vars, 2, &o, st);
    ok(sv != NULL);
    sl_session *s = sl_session_new(g, NULL, st);
    ok(sl_saver_restore(sv, s, FIXTURE, st) == SL_OK);
    for (int i = 0; i < 2; i++) {
        sl_tensor *got, *want = sl_checkpoint_read(r, names[i], st);
        if (sl_session_run(s, NULL, NULL, NULL, 0, &names[i], &got, 1, NULL, 0, NULL, st) != SL_OK)
            fail_msg("%s", sl_status_message(st));
        assert_true(sl_tensor_equal(got, want));
        sl_tensor_unref(got);
        sl_tensor_unref(want);
    }
    sl_checkpoint_close(r);
    sl_session_free(s);
    sl_saver_free(sv);
    sl_graph_free(g);
}

int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_saver_round_trip_and_state_file, setup, teardown),
        cmocka_unit_test_setup_teardown(test_saver_keeps_newest_and_saves_periodically, setup, teardown),
        cmocka_unit_test_setup_teardown(test_saver_refuses_mismatched_checkpoint, setup, teardown),
        cmocka_unit_test_setup_teardown(test_saver_survives_sigkill, setup, teardown),
        cmocka_unit_test_setup_teardown(test_saver_errors, setup, teardown),
    };
    const struct CMUnitTest fixture_tests[] = {
        cmocka_unit_test_setup_teardown(test_saver_restores_tf_checkpoint, setup, teardown),
    };
    if (argc > 1 && !strcmp(argv[1], "fixtures"))
        return cmocka_run_group_tests_name("saver-fixtures", fixture_tests, NULL, NULL);
    return cmocka_run_group_tests_name("saver", tests, NULL, NULL);
}
