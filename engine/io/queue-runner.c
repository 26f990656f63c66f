/* Queue runners (TF1's tf.train.QueueRunner): threads that run an enqueue
 * op until its readers run out (then close the queue so consumers drain
 * it), the step is cancelled, or an error occurs (then cancel the queue so
 * consumers do not wait forever).  Stopping runs the cancel op, which
 * wakes enqueues blocked on a full queue, and joins the threads. */
#include "config.h"

#include <pthread.h>
#include <stdatomic.h>
#include <string.h>

#include "sluice/alloc.h"
#include "sluice/input.h"

struct sl_queue_runner {
    sl_session *session;
    char *enqueue;
    char *close;
    char *cancel;
    int num_threads;
    pthread_t *threads;
    atomic_int running;
    pthread_mutex_t mu;
    sl_status *error;       /* first real error */
    atomic_bool stopping;
    atomic_bool exhausted;  /* a thread saw its readers run out */
};

static void run_target(sl_queue_runner *qr, const char *name, sl_status *st)
{
    if (name)
        sl_session_run(qr->session, NULL, NULL, NULL, 0, NULL, NULL, 0, &name, 1, NULL, st);
}

static void *runner_main(void *arg)
{
    sl_queue_runner *qr = arg;
    sl_status *st = sl_status_new();
    sl_status *st2 = sl_status_new();
    while (st && st2) {
        const char *t = qr->enqueue;
        sl_code rc = sl_session_run(qr->session, NULL, NULL, NULL, 0, NULL, NULL, 0, &t, 1, NULL, st);
        if (rc == SL_OK)
            continue;
        if (rc == SL_OUT_OF_RANGE && !strstr(sl_status_message(st), "closed")) {
            atomic_store(&qr->exhausted, true);
        } else if (rc != SL_CANCELLED && rc != SL_OUT_OF_RANGE && !atomic_load(&qr->stopping)) {
            pthread_mutex_lock(&qr->mu);
            if (sl_status_is_ok(qr->error))
                sl_status_copy(qr->error, st);
            pthread_mutex_unlock(&qr->mu);
            run_target(qr, qr->cancel, st2);
        }
        break;
    }
    /* the last thread out closes the queue once the readers ran out (as
     * TF's QueueRunner): earlier threads may still hold records to enqueue */
    if (atomic_fetch_sub(&qr->running, 1) == 1 && atomic_load(&qr->exhausted) && st2)
        run_target(qr, qr->close, st2);
    sl_status_free(st);
    sl_status_free(st2);
    return NULL;
}

static void runner_free(sl_queue_runner *qr)
{
    sl_free(qr->enqueue);
    sl_free(qr->close);
    sl_free(qr->cancel);
    sl_free(qr->threads);
    sl_status_free(qr->error);
    pthread_mutex_destroy(&qr->mu);
    sl_free(qr);
}

sl_queue_runner *sl_queue_runner_start(sl_session *s, const char *enqueue, const char *close, const char *cancel,
                                       int threads, sl_status *st)
{
    if (!s || !enqueue || threads < 1) {
        sl_status_set(st, SL_INVALID_ARGUMENT, "queue runner needs a session, an enqueue op and threads >= 1");
        return NULL;
    }
    sl_queue_runner *qr = sl_calloc(1, sizeof(*qr));
    if (!qr) {
        sl_status_set(st, SL_RESOURCE_EXHAUSTED, "out of memory");
        return NULL;
    }
    pthread_mutex_init(&qr->mu, NULL);
    qr->session = s;
    qr->enqueue = sl_strdup(enqueue);
    qr->close = close ? sl_strdup(close) : NULL;
    qr->cancel = cancel ? sl_strdup(cancel) : NULL;
    qr->threads = sl_calloc((size_t)threads, sizeof(pthread_t));
    qr->error = sl_status_new();
    if (!qr->enqueue || (close && !qr->close) || (cancel && !qr->cancel) || !qr->threads || !qr->error) {
        runner_free(qr);
        sl_status_set(st, SL_RESOURCE_EXHAUSTED, "out of memory");
        return NULL;
    }
    for (int i = 0; i < threads; i++) {
        atomic_fetch_add(&qr->running, 1);
        if (pthread_create(&qr->threads[i], NULL, runner_main, qr) != 0) {
            atomic_fetch_sub(&qr->running, 1);
            sl_status_set(st, SL_INTERNAL, "cannot start queue-runner thread %d", i);
            qr->num_threads = i;
            sl_status *tmp = sl_status_new();
            sl_queue_runner_stop(qr, tmp);
            sl_status_free(tmp);
            return NULL;
        }
        qr->num_threads = i + 1;
    }
    sl_status_clear(st);
    return qr;
}

bool sl_queue_runner_is_done(sl_queue_runner *qr)
{
    return atomic_load(&qr->running) == 0;
}

sl_code sl_queue_runner_stop(sl_queue_runner *qr, sl_status *st)
{
    if (!qr) {
        sl_status_clear(st);
        return SL_OK;
    }
    atomic_store(&qr->stopping, true);
    sl_status *tmp = sl_status_new();
    if (atomic_load(&qr->running) > 0)
        run_target(qr, qr->cancel, tmp);
    sl_status_free(tmp);
    for (int i = 0; i < qr->num_threads; i++)
        pthread_join(qr->threads[i], NULL);
    sl_code rc = sl_status_code(qr->error);
    if (rc != SL_OK)
        sl_status_copy(st, qr->error);
    else
        sl_status_clear(st);
    runner_free(qr);
    return rc;
}
