/* Thread pool: workers take tasks from one mutex-protected FIFO.
 *
 * parallel_for shards claim work through an atomic index, and the caller
 * claims shards too.  Helpers that start after all shards are claimed return
 * at once, so the caller only ever waits for shards some thread is already
 * running: a pool task may call parallel_for without deadlock even when every
 * worker is busy.
 */
#include "config.h"

#include "sluice/threadpool.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <unistd.h>

#include "sluice/alloc.h"

typedef struct task {
    sl_task_fn fn;
    void *arg;
    struct task *next;
} task;

struct sl_threadpool {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    task *head;
    task *tail;
    bool stopping;
    int num_threads;
    pthread_t *threads;
};

static _Thread_local int tl_thread_id = -1;

typedef struct worker_start {
    sl_threadpool *pool;
    int id;
} worker_start;

static void *worker_main(void *p)
{
    worker_start *ws = p;
    sl_threadpool *pool = ws->pool;
    tl_thread_id = ws->id;
    sl_free(ws);
    for (;;) {
        pthread_mutex_lock(&pool->mu);
        while (!pool->head && !pool->stopping)
            pthread_cond_wait(&pool->cv, &pool->mu);
        task *t = pool->head;
        if (!t) {  /* stopping and drained */
            pthread_mutex_unlock(&pool->mu);
            return NULL;
        }
        pool->head = t->next;
        if (!pool->head)
            pool->tail = NULL;
        pthread_mutex_unlock(&pool->mu);
        t->fn(t->arg);
        sl_free(t);
    }
}

int sl_threadpool_online_cpus(void)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n > 0 ? (int)n : 1;
}

sl_threadpool *sl_threadpool_new(int num_threads, sl_status *status)
{
    if (num_threads <= 0)
        num_threads = sl_threadpool_online_cpus();
    sl_threadpool *pool = sl_calloc(1, sizeof(*pool));
    if (!pool)
        goto err_oom;
    pool->threads = sl_calloc((size_t)num_threads, sizeof(pthread_t));
    if (!pool->threads)
        goto err_free_pool;
    pthread_mutex_init(&pool->mu, NULL);
    pthread_cond_init(&pool->cv, NULL);
    for (int i = 0; i < num_threads; i++) {
        worker_start *ws = sl_malloc(sizeof(*ws));
        if (!ws) {
            sl_threadpool_free(pool);
            goto err_oom;
        }
        ws->pool = pool;
        ws->id = i;
        if (pthread_create(&pool->threads[i], NULL, worker_main, ws) != 0) {
            sl_free(ws);
            sl_threadpool_free(pool);
            sl_status_set(status, SL_INTERNAL, "cannot start thread %d of the pool", i);
            return NULL;
        }
        pool->num_threads = i + 1;
    }
    sl_status_clear(status);
    return pool;

err_free_pool:
    sl_free(pool);
err_oom:
    sl_status_set(status, SL_RESOURCE_EXHAUSTED, "out of memory creating a thread pool");
    return NULL;
}

void sl_threadpool_free(sl_threadpool *pool)
{
    if (!pool)
        return;
    pthread_mutex_lock(&pool->mu);
    pool->stopping = true;
    pthread_cond_broadcast(&pool->cv);
    pthread_mutex_unlock(&pool->mu);
    for (int i = 0; i < pool->num_threads; i++)
        pthread_join(pool->threads[i], NULL);
    pthread_mutex_destroy(&pool->mu);
    pthread_cond_destroy(&pool->cv);
    sl_free(pool->threads);
    sl_free(pool);
}

int sl_threadpool_num_threads(const sl_threadpool *pool)
{
    return pool ? pool->num_threads : 0;
}

int sl_threadpool_current_thread_id(void)
{
    return tl_thread_id;
}

sl_code sl_threadpool_schedule(sl_threadpool *pool, sl_task_fn fn, void *arg)
{
    task *t = sl_malloc(sizeof(*t));
    if (!t)
        return SL_RESOURCE_EXHAUSTED;
    t->fn = fn;
    t->arg = arg;
    t->next = NULL;
    pthread_mutex_lock(&pool->mu);
    if (pool->stopping) {
        pthread_mutex_unlock(&pool->mu);
        sl_free(t);
        return SL_FAILED_PRECONDITION;
    }
    if (pool->tail)
        pool->tail->next = t;
    else
        pool->head = t;
    pool->tail = t;
    pthread_cond_signal(&pool->cv);
    pthread_mutex_unlock(&pool->mu);
    return SL_OK;
}

typedef struct pfor {
    sl_range_fn fn;
    void *arg;
    int64_t n;
    int64_t shard;
    int64_t num_shards;
    atomic_llong next;  /* next shard to claim */
    atomic_llong done;  /* shards finished */
    atomic_int refs;    /* the caller plus helper tasks not yet returned */
    pthread_mutex_t mu;
    pthread_cond_t cv;
} pfor;

static void pfor_unref(pfor *p)
{
    if (atomic_fetch_sub(&p->refs, 1) != 1)
        return;
    pthread_mutex_destroy(&p->mu);
    pthread_cond_destroy(&p->cv);
    sl_free(p);
}

static void pfor_work(pfor *p)
{
    for (;;) {
        long long s = atomic_fetch_add(&p->next, 1);
        if (s >= p->num_shards)
            return;
        int64_t b = s * p->shard;
        int64_t e = b + p->shard < p->n ? b + p->shard : p->n;
        p->fn(p->arg, b, e);
        if (atomic_fetch_add(&p->done, 1) + 1 == p->num_shards) {
            pthread_mutex_lock(&p->mu);
            pthread_cond_broadcast(&p->cv);
            pthread_mutex_unlock(&p->mu);
        }
    }
}

/* A helper may start long after the loop ended (its worker was busy); it
 * then finds no shard to claim and only drops its reference. */
static void pfor_helper(void *arg)
{
    pfor *p = arg;
    pfor_work(p);
    pfor_unref(p);
}

void sl_threadpool_parallel_for(sl_threadpool *pool, int64_t n, int64_t min_shard,
                                sl_range_fn fn, void *arg)
{
    if (n <= 0)
        return;
    if (min_shard < 1)
        min_shard = 1;
    int threads = pool ? pool->num_threads + 1 : 1;
    pfor *p = threads > 1 && n > min_shard ? sl_calloc(1, sizeof(*p)) : NULL;
    if (!p) {  /* small loop, no pool, or no memory: run inline */
        fn(arg, 0, n);
        return;
    }
    /* a few shards per thread evens out uneven shard costs */
    int64_t shard = (n + threads * 4 - 1) / (threads * 4);
    if (shard < min_shard)
        shard = min_shard;
    p->fn = fn;
    p->arg = arg;
    p->n = n;
    p->shard = shard;
    p->num_shards = (n + shard - 1) / shard;
    atomic_init(&p->next, 0);
    atomic_init(&p->done, 0);
    atomic_init(&p->refs, 1);
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->cv, NULL);
    int64_t want = p->num_shards - 1 < pool->num_threads ? p->num_shards - 1 : pool->num_threads;
    for (int64_t i = 0; i < want; i++) {
        atomic_fetch_add(&p->refs, 1);
        if (sl_threadpool_schedule(pool, pfor_helper, p) != SL_OK) {
            atomic_fetch_sub(&p->refs, 1);
            break;  /* fewer helpers only means less parallelism */
        }
    }
    pfor_work(p);
    pthread_mutex_lock(&p->mu);
    while (atomic_load(&p->done) < p->num_shards)
        pthread_cond_wait(&p->cv, &p->mu);
    pthread_mutex_unlock(&p->mu);
    pfor_unref(p);
}
