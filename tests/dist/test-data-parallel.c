/* Data-parallel training over the in-process transport (paper 3.3, Figure
 * 7): the weights of a linear model live on the ps task; two replicas on
 * the worker tasks each compute the gradient of their shard of the data.
 *   - synchronous: the ps adds both gradients and applies them once per
 *     step; the weights after every step are bit-for-bit those of the same
 *     graph run in one process;
 *   - asynchronous: each replica applies its own gradient, driven by its
 *     own client thread (concurrent steps, Figure 9); the loss still falls
 *     to near zero.
 * The graph also shows model parallelism: forward and backward of each
 * replica run on its task, the update on the ps. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <pthread.h>

#include <cmocka.h>

#include "inproc/transport-inproc.h"
#include "master.h"
#include "sluice/session.h"
#include "test-dp-graph.h"
#include "worker.h"

#define SPEC "ps=10.1.0.1:1;worker=10.1.0.2:1,10.1.0.3:1"

typedef struct fixture {
    sl_cluster *cluster;
    sl_transport *t;
    sl_dist_worker *workers[3];
    sl_dist_session *ds;
} fixture;

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof(*f));
    f->cluster = sl_cluster_parse_short(SPEC, NULL);
    f->t = sl_inproc_transport_new();
    for (int i = 0; i < 3; i++) {
        const char *job;
        int task;
        sl_cluster_task_at(f->cluster, i, &job, &task);
        f->workers[i] = sl_dist_worker_new(f->cluster, job, task, f->t, NULL);
        sl_inproc_transport_add(f->t, sl_cluster_task_address(f->cluster, job, task), f->workers[i], NULL);
    }
    sl_status *st = sl_status_new();
    sl_graph *g = dp_load(true);
    f->ds = sl_dist_session_new(g, f->cluster, f->t, NULL, st);
    if (!f->ds)
        fail_msg("%s", sl_status_message(st));
    const char *init[] = {"init"};
    assert_int_equal(sl_dist_session_run(f->ds, NULL, NULL, NULL, 0, NULL, NULL, 0, init, 1, NULL, st), SL_OK);
    sl_graph_free(g);
    sl_status_free(st);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    sl_dist_session_free(f->ds);
    for (int i = 0; i < 3; i++)
        sl_dist_worker_free(f->workers[i]);
    sl_transport_free(f->t);
    sl_cluster_free(f->cluster);
    free(f);
    return 0;
}

static float total_loss(sl_dist_session *ds)
{
    const char *fetches[] = {"loss0", "loss1"};
    sl_tensor *out[2];
    sl_status *st = sl_status_new();
    assert_int_equal(sl_dist_session_run(ds, NULL, NULL, NULL, 0, fetches, out, 2, NULL, 0, NULL, st), SL_OK);
    float l = *(float *)sl_tensor_data(out[0]) + *(float *)sl_tensor_data(out[1]);
    sl_tensor_unref(out[0]);
    sl_tensor_unref(out[1]);
    sl_status_free(st);
    return l;
}

static void test_sync_training_matches_one_process(void **state)
{
    fixture *f = *state;
    sl_status *st = sl_status_new();
    sl_graph *whole = dp_load(false);
    sl_session *ls = sl_session_new(whole, NULL, st);
    const char *init[] = {"init"};
    assert_int_equal(sl_session_run(ls, NULL, NULL, NULL, 0, NULL, NULL, 0, init, 1, NULL, st), SL_OK);
    float first = total_loss(f->ds);
    const char *sync[] = {"sync"};
    const char *w[] = {"W"};
    for (int step = 0; step < 30; step++) {
        sl_tensor *dw, *lw;
        if (sl_dist_session_run(f->ds, NULL, NULL, NULL, 0, w, &dw, 1, sync, 1, NULL, st) != SL_OK)
            fail_msg("step %d: %s", step, sl_status_message(st));
        assert_int_equal(sl_session_run(ls, NULL, NULL, NULL, 0, w, &lw, 1, sync, 1, NULL, st), SL_OK);
        assert_true(sl_tensor_equal(dw, lw));
        sl_tensor_unref(dw);
        sl_tensor_unref(lw);
    }
    float last = total_loss(f->ds);
    printf("# synchronous: loss %.4f -> %.6f after 30 steps\n", first, last);
    assert_true(last < first * 0.05f);
    sl_session_free(ls);
    sl_graph_free(whole);
    sl_status_free(st);
}

typedef struct replica {
    sl_dist_session *ds;
    int r;
    int failures;
} replica;

static void *replica_loop(void *p)
{
    replica *rp = p;
    char name[16];
    snprintf(name, sizeof(name), "async%d", rp->r);
    const char *targets[] = {name};
    sl_status *st = sl_status_new();
    for (int step = 0; step < 60; step++)
        if (sl_dist_session_run(rp->ds, NULL, NULL, NULL, 0, NULL, NULL, 0, targets, 1, NULL, st) != SL_OK) {
            fprintf(stderr, "replica %d: %s\n", rp->r, sl_status_message(st));
            rp->failures++;
        }
    sl_status_free(st);
    return NULL;
}

static void test_async_training_learns(void **state)
{
    fixture *f = *state;
    float first = total_loss(f->ds);
    replica reps[2] = {{f->ds, 0, 0}, {f->ds, 1, 0}};
    pthread_t th[2];
    for (int r = 0; r < 2; r++)
        pthread_create(&th[r], NULL, replica_loop, &reps[r]);
    for (int r = 0; r < 2; r++)
        pthread_join(th[r], NULL);
    float last = total_loss(f->ds);
    printf("# asynchronous: loss %.4f -> %.6f after 2 x 60 concurrent steps\n", first, last);
    assert_int_equal(reps[0].failures + reps[1].failures, 0);
    assert_true(last < first * 0.05f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_sync_training_matches_one_process, setup, teardown),
        cmocka_unit_test_setup_teardown(test_async_training_learns, setup, teardown),
    };
    return cmocka_run_group_tests_name("data-parallel", tests, NULL, NULL);
}
