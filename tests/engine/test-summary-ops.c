/* Summary ops in a graph: ScalarSummary, HistogramSummary, ImageSummary,
 * TensorSummary(V2) and MergeSummary make serialized Summary protos that
 * WriteRawProtoSummary writes through a summary-writer resource, beside
 * WriteScalarSummary and WriteHistogramSummary; the event file is read
 * back with summaries' reader: tags, steps, kinds and values as written.
 * Bad input (NaN in a histogram, no file opened) fails clearly. */
#include "graph-helpers.h"

#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "sluice/session.h"
#include "sluice/summaries/event.h"
#include "sluice/summaries/reader.h"

static sl_status *st;
static char dir[64];

static int setup(void **state)
{
    (void)state;
    st = sl_status_new();
    snprintf(dir, sizeof(dir), "/tmp/sl-sumops-XXXXXX");
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

static sl_output str_const(sl_graph *g, const char *s)
{
    sl_shape sc = sl_shape_scalar();
    sl_tensor *t = sl_tensor_new(SL_DTYPE_STRING, &sc, NULL);
    sl_tensor_set_string(t, 0, s, strlen(s), NULL);
    return th_const(g, NULL, t);
}

static sl_node *op(sl_graph *g, const char *type, const char *name, int n, const sl_output *in)
{
    sl_node_builder *b = sl_node_builder_new(g, type, name);
    for (int i = 0; i < n; i++)
        sl_node_builder_add_input(b, in[i]);
    return th_finish(b);
}

static void test_summary_ops_write_events(void **state)
{
    (void)state;
    sl_graph *g = sl_graph_new(st);
    sl_output loss = th_ph(g, "loss", SL_DTYPE_FLOAT, TH_DIMS());
    sl_output w = th_ph(g, "w", SL_DTYPE_FLOAT, TH_DIMS(100));
    sl_output img = th_ph(g, "img", SL_DTYPE_UINT8, TH_DIMS(2, 4, 5, 1));
    sl_output step = th_ph(g, "step", SL_DTYPE_INT64, TH_DIMS());
    sl_node *s1 = op(g, "ScalarSummary", "loss_summary", 2, (sl_output[]){str_const(g, "loss"), loss});
    sl_node *s2 = op(g, "HistogramSummary", "w_summary", 2, (sl_output[]){str_const(g, "weights"), w});
    sl_node *s3 = op(g, "ImageSummary", "img_summary", 2, (sl_output[]){str_const(g, "digits"), img});
    sl_node *s4 = op(g, "TensorSummaryV2", "t_summary", 3, (sl_output[]){str_const(g, "raw"), w, str_const(g, "")});
    sl_node_builder *b = sl_node_builder_new(g, "MergeSummary", "merged");
    sl_output parts[4] = {{s1, 0}, {s2, 0}, {s3, 0}, {s4, 0}};
    sl_node_builder_add_input_list(b, parts, 4);
    sl_node *merged = th_finish(b);
    sl_node *wr = op(g, "SummaryWriter", "writer", 0, NULL);
    sl_output h = {wr, 0};
    op(g, "CreateSummaryFileWriter", "create", 5,
       (sl_output[]){h, str_const(g, dir), th_const(g, NULL, sl_tensor_new_scalar_int32(10, NULL)),
                     th_const(g, NULL, sl_tensor_new_scalar_int32(100, NULL)), str_const(g, ".test")});
    op(g, "WriteRawProtoSummary", "write_merged", 3, (sl_output[]){h, step, {merged, 0}});
    op(g, "WriteScalarSummary", "write_lr", 4, (sl_output[]){h, step, str_const(g, "lr"), loss});
    op(g, "WriteHistogramSummary", "write_hist", 4, (sl_output[]){h, step, str_const(g, "w2"), w});
    op(g, "FlushSummaryWriter", "flush", 1, &h);
    op(g, "CloseSummaryWriter", "close", 1, &h);
    op(g, "HistogramSummary", "bad_hist", 2, (sl_output[]){str_const(g, "bad"), w});

    sl_session *s = sl_session_new(g, NULL, st);
    assert_non_null(s);
    const char *t = "write_lr";
    /* no file yet: a clear error */
    sl_tensor *f0[2] = {sl_tensor_new_scalar_float(1.0f, NULL), sl_tensor_new_scalar_int64(0, NULL)};
    sl_code rc = sl_session_run(s, NULL, (const char *[]){"loss", "step"}, f0, 2, NULL, NULL, 0, &t, 1, NULL, st);
    assert_int_equal(rc, SL_FAILED_PRECONDITION);
    assert_non_null(strstr(sl_status_message(st), "has no file"));
    sl_tensor_unref(f0[0]);
    sl_tensor_unref(f0[1]);
    const char *create = "create";
    assert_int_equal(sl_session_run(s, NULL, NULL, NULL, 0, NULL, NULL, 0, &create, 1, NULL, st), SL_OK);

    sl_tensor *wv = sl_tensor_new(SL_DTYPE_FLOAT, &(sl_shape){.rank = 1, .dims = {100}}, NULL);
    for (int i = 0; i < 100; i++)
        ((float *)sl_tensor_data(wv))[i] = (float)(i - 50) / 10.0f;
    sl_shape is = sl_shape_make(4, (int64_t[]){2, 4, 5, 1});
    sl_tensor *iv = sl_tensor_new(SL_DTYPE_UINT8, &is, NULL);
    for (int i = 0; i < 40; i++)
        ((uint8_t *)sl_tensor_data(iv))[i] = (uint8_t)(i * 6);
    for (int64_t k = 1; k <= 3; k++) {
        sl_tensor *lv = sl_tensor_new_scalar_float(1.0f / (float)k, NULL), *sv = sl_tensor_new_scalar_int64(k * 10, NULL);
        const char *feeds[4] = {"loss", "w", "img", "step"};
        sl_tensor *vals[4] = {lv, wv, iv, sv};
        const char *targets[3] = {"write_merged", "write_lr", "write_hist"};
        if (sl_session_run(s, NULL, feeds, vals, 4, NULL, NULL, 0, targets, 3, NULL, st) != SL_OK)
            fail_msg("step %lld: %s", (long long)k, sl_status_message(st));
        sl_tensor_unref(lv);
        sl_tensor_unref(sv);
    }
    const char *close = "close";
    assert_int_equal(sl_session_run(s, NULL, NULL, NULL, 0, NULL, NULL, 0, &close, 1, NULL, st), SL_OK);
    /* NaN in a histogram names the tag */
    ((float *)sl_tensor_data(wv))[7] = NAN;
    const char *wf = "w", *bh = "bad_hist";
    sl_tensor *out;
    assert_int_equal(sl_session_run(s, NULL, &wf, &wv, 1, &bh, &out, 1, NULL, 0, NULL, st), SL_INVALID_ARGUMENT);
    assert_non_null(strstr(sl_status_message(st), "nan or inf in summary histogram for: bad"));
    sl_tensor_unref(wv);
    sl_tensor_unref(iv);
    sl_session_free(s);
    sl_graph_free(g);

    /* read the file back */
    DIR *d = opendir(dir);
    struct dirent *e;
    char path[512] = "";
    while ((e = readdir(d)))
        if (strstr(e->d_name, "events.out.tfevents.") && strstr(e->d_name, ".test"))
            snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
    closedir(d);
    assert_true(path[0]);
    sl_event_reader *r = sl_event_reader_open(path, 0, st);
    assert_non_null(r);
    int counts[9] = {0}, scalars = 0;
    sl_event ev;
    while (sl_event_reader_next(r, &ev, st) == SL_OK) {
        if (ev.what != SL_EVENT_SUMMARY)
            continue;
        assert_true(ev.step == 10 || ev.step == 20 || ev.step == 30);
        sl_summary_iter it;
        sl_summary_iter_init(&it, ev.body);
        sl_summary_value v;
        while (sl_summary_iter_next(&it, &v, st) == SL_OK) {
            counts[v.value_case]++;
            sl_bytes tag = sl_summary_value_tag(&v);
            if (v.value_case == SL_VALUE_SIMPLE) {
                assert_true(tag.size == 4 && !memcmp(tag.data, "loss", 4));
                assert_true(fabsf(v.simple_value - 10.0f / (float)ev.step) < 1e-6f);
                scalars++;
            }
            if (v.value_case == SL_VALUE_IMAGE)
                assert_true(tag.size == 14 && !memcmp(tag.data, "digits/image/", 13));
        }
    }
    sl_event_reader_free(r);
    assert_int_equal(scalars, 3);
    assert_int_equal(counts[SL_VALUE_HISTO], 3);
    assert_int_equal(counts[SL_VALUE_IMAGE], 6);   /* 2 images x 3 steps */
    assert_int_equal(counts[SL_VALUE_TENSOR], 9);  /* raw, lr, w2 */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_summary_ops_write_events, setup, teardown),
    };
    return cmocka_run_group_tests_name("summary-ops", tests, NULL, NULL);
}
