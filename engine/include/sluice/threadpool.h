/* A fixed pool of worker threads with a FIFO of tasks and a parallel-for.
 *
 * The engine never owns a global pool: sessions create one and pass it to
 * the executor and kernels.
 *
 * Thread-safety: sl_threadpool_schedule() and sl_threadpool_parallel_for()
 * may be called from any thread, including from tasks running on the pool.
 * sl_threadpool_free() must be called once, from a thread outside the pool.
 */
#pragma once

#include <stdint.h>

#include "sluice/macros.h"
#include "sluice/status.h"

SL_BEGIN_DECLS

typedef struct sl_threadpool sl_threadpool;

typedef void (*sl_task_fn)(void *arg);
/* Works on the index range [begin, end). */
typedef void (*sl_range_fn)(void *arg, int64_t begin, int64_t end);

/* The number of online CPUs (at least 1). */
SL_API int sl_threadpool_online_cpus(void);

/* Starts `num_threads` workers (>= 1; 0 means one per online CPU).  Returns
 * NULL with SL_RESOURCE_EXHAUSTED or SL_INTERNAL when memory or threads run
 * out.  Caller owns the pool. */
SL_API sl_threadpool *sl_threadpool_new(int num_threads, sl_status *status);

/* Waits for queued tasks to finish, joins the workers, frees.  NULL-safe. */
SL_API void sl_threadpool_free(sl_threadpool *pool);

SL_API int sl_threadpool_num_threads(const sl_threadpool *pool);

/* Queues fn(arg).  Returns SL_RESOURCE_EXHAUSTED if the queue entry cannot
 * be allocated (fn is then not called) or SL_FAILED_PRECONDITION after
 * shutdown began. */
SL_API sl_code sl_threadpool_schedule(sl_threadpool *pool, sl_task_fn fn, void *arg);

/* Splits [0, n) into shards of at least `min_shard` indices, runs them on
 * the pool and the calling thread, and returns when all are done.  Runs
 * inline when n is small or the pool is NULL.  Safe to call from a pool
 * task: the caller works on shards itself, so it cannot deadlock. */
SL_API void sl_threadpool_parallel_for(sl_threadpool *pool, int64_t n, int64_t min_shard,
                                       sl_range_fn fn, void *arg);

/* Index of the calling pool thread (0..num_threads-1), or -1 outside. */
SL_API int sl_threadpool_current_thread_id(void);

SL_END_DECLS
