/* Tests of queues through sessions (paper 4.6): FIFO order, random-shuffle
 * order and min_after_dequeue, DequeueMany batching, a dequeue that blocks
 * until another thread's step enqueues, close (pending and later dequeues
 * get OUT_OF_RANGE, pending enqueues go on unless cancel_pending_enqueues),
 * and blocked steps ended by cancellation and by their timeout. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <pthread.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "sluice/session.h"
#include "test-build.h"

/* q: a queue of float scalars ("FIFOQueueV2" or "RandomShuffleQueueV2")
 * with `capacity`; x: float[] placeholder; xs: float[?] placeholder;
 * n: int32 placeholder; enq = Enqueue(q, x); enq_many = EnqueueMany(q, xs);
 * deq = Dequeue(q); deq_many = DequeueMany(q, n); size; close;
 * close_cancel (cancel_pending_enqueues). */
static sl_graph *queue_graph(const char *op, int64_t capacity, int64_t min_after_dequeue)
{
    sl_status *st = sl_status_new();
    sl_graph *g = sl_graph_new(st);
    sl_node_builder *b = sl_node_builder_new(g, op, "q");
    sl_dtype types[] = {SL_DTYPE_FLOAT};
    sl_node_builder_set_attr_type_list(b, "component_types", types, 1);
    sl_node_builder_set_attr_int(b, "capacity", capacity);
    if (min_after_dequeue >= 0) {
        sl_node_builder_set_attr_int(b, "min_after_dequeue", min_after_dequeue);
        sl_node_builder_set_attr_int(b, "seed", 7);
    }
    sl_node *q = tb_finish(b);
    sl_output qh = {q, 0};

    sl_shape scalar = sl_shape_scalar(), vec = sl_shape_vector(-1);
    b = sl_node_builder_new(g, "Placeholder", "x");
    sl_node_builder_set_attr_type(b, "dtype", SL_DTYPE_FLOAT);
    sl_node_builder_set_attr_shape(b, "shape", &scalar);
    sl_node *x = tb_finish(b);
    b = sl_node_builder_new(g, "Placeholder", "xs");
    sl_node_builder_set_attr_type(b, "dtype", SL_DTYPE_FLOAT);
    sl_node_builder_set_attr_shape(b, "shape", &vec);
    sl_node *xs = tb_finish(b);
    b = sl_node_builder_new(g, "Placeholder", "n");
    sl_node_builder_set_attr_type(b, "dtype", SL_DTYPE_INT32);
    sl_node_builder_set_attr_shape(b, "shape", &scalar);
    sl_node *n = tb_finish(b);

    b = sl_node_builder_new(g, "QueueEnqueueV2", "enq");
    sl_node_builder_add_input(b, qh);
    sl_node_builder_add_input_list(b, &(sl_output){x, 0}, 1);
    tb_finish(b);
    b = sl_node_builder_new(g, "QueueEnqueueManyV2", "enq_many");
    sl_node_builder_add_input(b, qh);
    sl_node_builder_add_input_list(b, &(sl_output){xs, 0}, 1);
    tb_finish(b);
    b = sl_node_builder_new(g, "QueueDequeueV2", "deq");
    sl_node_builder_add_input(b, qh);
    sl_node_builder_set_attr_type_list(b, "component_types", types, 1);
    tb_finish(b);
    b = sl_node_builder_new(g, "QueueDequeueManyV2", "deq_many");
    sl_node_builder_add_input(b, qh);
    sl_node_builder_add_input(b, (sl_output){n, 0});
    sl_node_builder_set_attr_type_list(b, "component_types", types, 1);
    tb_finish(b);
    tb_unary(g, "QueueSizeV2", "size", qh);
    tb_unary(g, "QueueCloseV2", "close", qh);
    b = sl_node_builder_new(g, "QueueCloseV2", "close_cancel");
    sl_node_builder_add_input(b, qh);
    sl_node_builder_set_attr_bool(b, "cancel_pending_enqueues", true);
    tb_finish(b);
    sl_status_free(st);
    return g;
}

static sl_session *queue_session(const char *op, int64_t capacity, int64_t min_after_dequeue)
{
    sl_status *st = sl_status_new();
    sl_graph *g = queue_graph(op, capacity, min_after_dequeue);
    sl_session_options so = SL_SESSION_OPTIONS_INIT;
    so.inter_op_threads = 4;
    sl_session *s = sl_session_new(g, &so, st);
    assert_non_null(s);
    sl_graph_free(g);
    sl_status_free(st);
    return s;
}

static sl_code enqueue(sl_session *s, float v, sl_status *st)
{
    sl_tensor *t = sl_tensor_new_scalar_float(v, st);
    const char *feeds[] = {"x"}, *targets[] = {"enq"};
    sl_code rc = tb_run(s, feeds, &t, 1, NULL, NULL, 0, targets, 1, st);
    sl_tensor_unref(t);
    return rc;
}

static void enqueue_many(sl_session *s, int64_t n, const float *v)
{
    sl_status *st = sl_status_new();
    sl_tensor *t = tb_vec_f(n, v);
    const char *feeds[] = {"xs"}, *targets[] = {"enq_many"};
    assert_int_equal(tb_run(s, feeds, &t, 1, NULL, NULL, 0, targets, 1, st), SL_OK);
    sl_tensor_unref(t);
    sl_status_free(st);
}

/* Dequeues one value; returns the code (value in *v on success). */
static sl_code dequeue(sl_session *s, int64_t timeout_ms, float *v, sl_status *st)
{
    sl_run_options ro = SL_RUN_OPTIONS_INIT;
    ro.timeout_ms = timeout_ms;
    const char *fetch[] = {"deq"};
    sl_tensor *out = NULL;
    sl_code rc = sl_session_run(s, &ro, NULL, NULL, 0, fetch, &out, 1, NULL, 0, NULL, st);
    if (rc == SL_OK) {
        *v = tb_f(out, 0);
        sl_tensor_unref(out);
    }
    return rc;
}

static sl_tensor *dequeue_many(sl_session *s, int32_t n, sl_status *st)
{
    sl_tensor *nt = sl_tensor_new_scalar_int32(n, st);
    const char *feeds[] = {"n"}, *fetch[] = {"deq_many"};
    sl_tensor *out = NULL;
    tb_run(s, feeds, &nt, 1, fetch, &out, 1, NULL, 0, st);
    sl_tensor_unref(nt);
    return out;
}

static int32_t queue_size(sl_session *s)
{
    sl_status *st = sl_status_new();
    sl_tensor *t = tb_fetch(s, "size", st);
    assert_non_null(t);
    int32_t n = *(const int32_t *)sl_tensor_data(t);
    sl_tensor_unref(t);
    sl_status_free(st);
    return n;
}

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* A step run on its own thread. */
typedef struct bg_step {
    sl_session *s;
    int kind;          /* 0: dequeue, 1: enqueue `value` */
    float value;
    sl_code rc;
    float got;
    char msg[256];
    int64_t end_ms;
    pthread_t th;
} bg_step;

static void *bg_main(void *arg)
{
    bg_step *b = arg;
    sl_status *st = sl_status_new();
    b->rc = b->kind == 0 ? dequeue(b->s, 0, &b->got, st) : enqueue(b->s, b->value, st);
    snprintf(b->msg, sizeof(b->msg), "%s", sl_status_message(st));
    b->end_ms = now_ms();
    sl_status_free(st);
    return NULL;
}

static void bg_start(bg_step *b, sl_session *s, int kind, float value)
{
    memset(b, 0, sizeof(*b));
    b->s = s;
    b->kind = kind;
    b->value = value;
    b->rc = (sl_code)-1;
    pthread_create(&b->th, NULL, bg_main, b);
}

static void test_fifo_order_and_size(void **state)
{
    (void)state;
    sl_status *st = sl_status_new();
    sl_session *s = queue_session("FIFOQueueV2", 100, -1);
    for (int i = 0; i < 5; i++)
        assert_int_equal(enqueue(s, (float)i, st), SL_OK);
    enqueue_many(s, 3, (float[]){5, 6, 7});
    assert_int_equal(queue_size(s), 8);
    for (int i = 0; i < 8; i++) {
        float v;
        assert_int_equal(dequeue(s, 0, &v, st), SL_OK);
        assert_true(v == (float)i);
    }
    assert_int_equal(queue_size(s), 0);
    sl_session_free(s);
    sl_status_free(st);
}

static void test_dequeue_many_batches(void **state)
{
    (void)state;
    sl_status *st = sl_status_new();
    sl_session *s = queue_session("FIFOQueueV2", 100, -1);
    enqueue_many(s, 7, (float[]){0, 1, 2, 3, 4, 5, 6});
    sl_tensor *t = dequeue_many(s, 3, st);
    assert_non_null(t);
    assert_int_equal(sl_tensor_rank(t), 1);
    assert_int_equal(sl_tensor_dim(t, 0), 3);
    for (int i = 0; i < 3; i++)
        assert_true(tb_f(t, i) == (float)i);
    sl_tensor_unref(t);
    t = dequeue_many(s, 4, st);
    assert_non_null(t);
    assert_int_equal(sl_tensor_dim(t, 0), 4);
    assert_true(tb_f(t, 0) == 3 && tb_f(t, 3) == 6);
    sl_tensor_unref(t);
    sl_session_free(s);
    sl_status_free(st);
}

static void test_random_shuffle_permutes_and_keeps_min_after_dequeue(void **state)
{
    (void)state;
    sl_status *st = sl_status_new();
    sl_session *s = queue_session("RandomShuffleQueueV2", 1000, 10);
    float in[100];
    for (int i = 0; i < 100; i++)
        in[i] = (float)i;
    enqueue_many(s, 100, in);
    sl_tensor *t = dequeue_many(s, 90, st);
    assert_non_null(t);
    int seen[100] = {0}, in_order = 0;
    for (int i = 0; i < 90; i++) {
        int v = (int)tb_f(t, i);
        assert_true(v >= 0 && v < 100);
        assert_int_equal(seen[v]++, 0);
        in_order += v == i;
    }
    assert_true(in_order < 45);  /* shuffled, not FIFO */
    sl_tensor_unref(t);
    /* 10 left = min_after_dequeue: a dequeue waits (here until its timeout) */
    float v;
    assert_int_equal(dequeue(s, 100, &v, st), SL_DEADLINE_EXCEEDED);
    assert_int_equal(queue_size(s), 10);
    /* once closed, the rest comes out */
    assert_int_equal(tb_target(s, "close", st), SL_OK);
    t = dequeue_many(s, 10, st);
    assert_non_null(t);
    for (int i = 0; i < 10; i++) {
        int w = (int)tb_f(t, i);
        assert_int_equal(seen[w]++, 0);
    }
    sl_tensor_unref(t);
    sl_session_free(s);
    sl_status_free(st);
}

static void test_blocked_dequeue_completed_by_later_enqueue(void **state)
{
    (void)state;
    sl_status *st = sl_status_new();
    sl_session *s = queue_session("FIFOQueueV2", 10, -1);
    bg_step b;
    bg_start(&b, s, 0, 0);
    usleep(50 * 1000);
    assert_int_equal(b.rc, (sl_code)-1);  /* still waiting */
    int64_t t0 = now_ms();
    assert_int_equal(enqueue(s, 42, st), SL_OK);
    pthread_join(b.th, NULL);
    assert_int_equal(b.rc, SL_OK);
    assert_true(b.got == 42);
    assert_true(b.end_ms - t0 < 1000);
    sl_session_free(s);
    sl_status_free(st);
}

static void test_close_fails_pending_and_later_dequeues(void **state)
{
    (void)state;
    sl_status *st = sl_status_new();
    sl_session *s = queue_session("FIFOQueueV2", 10, -1);
    bg_step b[2];
    bg_start(&b[0], s, 0, 0);
    bg_start(&b[1], s, 0, 0);
    usleep(50 * 1000);
    assert_int_equal(tb_target(s, "close", st), SL_OK);
    for (int i = 0; i < 2; i++) {
        pthread_join(b[i].th, NULL);
        assert_int_equal(b[i].rc, SL_OUT_OF_RANGE);
        assert_non_null(strstr(b[i].msg, "is closed"));
        assert_non_null(strstr(b[i].msg, "node 'deq' (QueueDequeueV2)"));
    }
    float v;
    int64_t t0 = now_ms();
    assert_int_equal(dequeue(s, 0, &v, st), SL_OUT_OF_RANGE);
    assert_non_null(strstr(sl_status_message(st), "queue 'q' is closed"));
    assert_true(now_ms() - t0 < 1000);
    /* later enqueues are refused */
    assert_int_equal(enqueue(s, 1, st), SL_CANCELLED);
    assert_non_null(strstr(sl_status_message(st), "is closed"));
    sl_session_free(s);
    sl_status_free(st);
}

static void test_close_serves_elements_left_then_fails(void **state)
{
    (void)state;
    sl_status *st = sl_status_new();
    sl_session *s = queue_session("FIFOQueueV2", 10, -1);
    assert_int_equal(enqueue(s, 1, st), SL_OK);
    assert_int_equal(enqueue(s, 2, st), SL_OK);
    assert_int_equal(tb_target(s, "close", st), SL_OK);
    sl_tensor *t = dequeue_many(s, 3, st);  /* more than there are */
    assert_null(t);
    assert_int_equal(sl_status_code(st), SL_OUT_OF_RANGE);
    float v;
    assert_int_equal(dequeue(s, 0, &v, st), SL_OK);
    assert_true(v == 1);
    assert_int_equal(dequeue(s, 0, &v, st), SL_OK);
    assert_true(v == 2);
    assert_int_equal(dequeue(s, 0, &v, st), SL_OUT_OF_RANGE);
    sl_session_free(s);
    sl_status_free(st);
}

/* close without cancel_pending_enqueues: an enqueue waiting on a full queue
 * still goes in once there is room */
static void test_close_keeps_pending_enqueues(void **state)
{
    (void)state;
    sl_status *st = sl_status_new();
    sl_session *s = queue_session("FIFOQueueV2", 1, -1);
    assert_int_equal(enqueue(s, 1, st), SL_OK);
    bg_step b;
    bg_start(&b, s, 1, 2);
    usleep(50 * 1000);
    assert_int_equal(b.rc, (sl_code)-1);  /* blocked: the queue is full */
    assert_int_equal(tb_target(s, "close", st), SL_OK);
    usleep(20 * 1000);
    assert_int_equal(b.rc, (sl_code)-1);  /* still pending, not cancelled */
    float v;
    assert_int_equal(dequeue(s, 0, &v, st), SL_OK);
    assert_true(v == 1);
    pthread_join(b.th, NULL);
    assert_int_equal(b.rc, SL_OK);
    assert_int_equal(dequeue(s, 0, &v, st), SL_OK);
    assert_true(v == 2);
    assert_int_equal(dequeue(s, 0, &v, st), SL_OUT_OF_RANGE);
    sl_session_free(s);
    sl_status_free(st);
}

static void test_close_cancel_pending_enqueues(void **state)
{
    (void)state;
    sl_status *st = sl_status_new();
    sl_session *s = queue_session("FIFOQueueV2", 1, -1);
    assert_int_equal(enqueue(s, 1, st), SL_OK);
    bg_step b;
    bg_start(&b, s, 1, 2);
    usleep(50 * 1000);
    assert_int_equal(tb_target(s, "close_cancel", st), SL_OK);
    pthread_join(b.th, NULL);
    assert_int_equal(b.rc, SL_CANCELLED);
    assert_non_null(strstr(b.msg, "is closed"));
    float v;
    assert_int_equal(dequeue(s, 0, &v, st), SL_OK);
    assert_true(v == 1);
    assert_int_equal(dequeue(s, 0, &v, st), SL_OUT_OF_RANGE);
    sl_session_free(s);
    sl_status_free(st);
}

static void test_blocked_step_cancelled(void **state)
{
    (void)state;
    sl_status *st = sl_status_new();
    sl_session *s = queue_session("FIFOQueueV2", 10, -1);
    bg_step b;
    bg_start(&b, s, 0, 0);
    usleep(50 * 1000);
    int64_t t0 = now_ms();
    sl_session_cancel(s);
    pthread_join(b.th, NULL);
    assert_int_equal(b.rc, SL_CANCELLED);
    assert_true(b.end_ms - t0 < 1000);
    /* the queue is intact and later steps run normally */
    assert_int_equal(enqueue(s, 3, st), SL_OK);
    float v;
    assert_int_equal(dequeue(s, 0, &v, st), SL_OK);
    assert_true(v == 3);
    assert_int_equal(queue_size(s), 0);
    sl_session_free(s);
    sl_status_free(st);
}

static void test_blocked_step_times_out(void **state)
{
    (void)state;
    sl_status *st = sl_status_new();
    sl_session *s = queue_session("FIFOQueueV2", 10, -1);
    float v;
    int64_t t0 = now_ms();
    assert_int_equal(dequeue(s, 100, &v, st), SL_DEADLINE_EXCEEDED);
    int64_t took = now_ms() - t0;
    assert_true(took >= 95 && took < 2000);
    assert_non_null(strstr(sl_status_message(st), "timed out"));
    /* a waiter removed by the timeout does not eat a later element */
    assert_int_equal(enqueue(s, 5, st), SL_OK);
    assert_int_equal(dequeue(s, 100, &v, st), SL_OK);
    assert_true(v == 5);
    sl_session_free(s);
    sl_status_free(st);
}

static void test_free_session_with_blocked_step(void **state)
{
    (void)state;
    sl_session *s = queue_session("FIFOQueueV2", 10, -1);
    bg_step b;
    bg_start(&b, s, 0, 0);
    usleep(50 * 1000);
    sl_session_close(s);  /* cancels and waits for the step */
    pthread_join(b.th, NULL);
    assert_int_equal(b.rc, SL_CANCELLED);
    sl_session_free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fifo_order_and_size),
        cmocka_unit_test(test_dequeue_many_batches),
        cmocka_unit_test(test_random_shuffle_permutes_and_keeps_min_after_dequeue),
        cmocka_unit_test(test_blocked_dequeue_completed_by_later_enqueue),
        cmocka_unit_test(test_close_fails_pending_and_later_dequeues),
        cmocka_unit_test(test_close_serves_elements_left_then_fails),
        cmocka_unit_test(test_close_keeps_pending_enqueues),
        cmocka_unit_test(test_close_cancel_pending_enqueues),
        cmocka_unit_test(test_blocked_step_cancelled),
        cmocka_unit_test(test_blocked_step_times_out),
        cmocka_unit_test(test_free_session_with_blocked_step),
    };
    return cmocka_run_group_tests_name("queues", tests, NULL, NULL);
}
