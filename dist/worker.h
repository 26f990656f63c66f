/* The worker service: one task of a cluster (paper 3.3, 4.4).
 *
 * A worker holds the graph partitions a master registered with it, runs
 * them for steps, serves the tensors its partitions send to other tasks
 * (RecvTensor) and pulls the ones they receive from other tasks through a
 * transport.  Each registered partition runs in its own sl_session; all of
 * them share the worker's resource manager, so variables on a `ps` task
 * live across graphs and steps.
 *
 * When a partition is registered, each _Send/_Recv pair that crosses tasks
 * becomes _SlRemoteSend/_SlRemoteRecv (ops and CPU kernels defined here)
 * that take the master's step id from a fed scalar, so that concurrent
 * steps on several tasks meet in the same rendezvous; _Send/_Recv between
 * devices of the same task keep the session's local rendezvous.
 *
 * The service entry points have the shape of the transport's (transport.h):
 * the in-process transport calls them directly, the gRPC server after
 * decoding a request.  They do not block: RunGraph runs on a thread of its
 * own and answers when the step is over.
 *
 * Thread-safety: every entry point may be called from any thread. */
#pragma once

#include "cluster.h"
#include "sluice/status.h"
#include "transport.h"

typedef struct sl_dist_worker sl_dist_worker;

/* A worker for task (job, task) of `cluster` (copied).  peers (borrowed;
 * must outlive the worker) reaches the other tasks.  NULL + status:
 * INVALID_ARGUMENT when the cluster has no such task. */
sl_dist_worker *sl_dist_worker_new(const sl_cluster *cluster, const char *job, int task,
                                   const sl_transport *peers, sl_status *status);

/* Waits for running steps, fails pending receives, frees.  NULL-safe. */
void sl_dist_worker_free(sl_dist_worker *worker);

/* "/job:J/replica:0/task:T" (borrowed). */
const char *sl_dist_worker_task_name(const sl_dist_worker *worker);
/* Changes at every start of a worker process (random). */
uint64_t sl_dist_worker_incarnation(const sl_dist_worker *worker);

void sl_dist_worker_create_session(sl_dist_worker *w, const Sluice__Dist__CreateWorkerSessionRequest *req,
                                   sl_dist_reply_fn done, void *arg);
void sl_dist_worker_register_graph(sl_dist_worker *w, const Sluice__Dist__RegisterGraphRequest *req,
                                   sl_dist_reply_fn done, void *arg);
void sl_dist_worker_run_graph(sl_dist_worker *w, const Sluice__Dist__RunGraphRequest *req,
                              sl_dist_reply_fn done, void *arg);
void sl_dist_worker_recv_tensor(sl_dist_worker *w, const Sluice__Dist__RecvTensorRequest *req,
                                sl_dist_tensor_fn done, void *arg);
void sl_dist_worker_cleanup_graph(sl_dist_worker *w, const Sluice__Dist__CleanupGraphRequest *req,
                                  sl_dist_reply_fn done, void *arg);
void sl_dist_worker_get_status(sl_dist_worker *w, const Sluice__Dist__GetStatusRequest *req,
                               sl_dist_reply_fn done, void *arg);

/* How long a remote receive waits for its tensor (default 0: until the
 * step is cleaned up or the peer goes away). */
void sl_dist_worker_set_recv_timeout(sl_dist_worker *w, int64_t timeout_ms);

/* Leaves t (a new reference is taken) for RecvTensor(step, key), as a
 * partition's _SlRemoteSend would: for benchmarks and tests. */
sl_code sl_dist_worker_put_tensor(sl_dist_worker *w, int64_t step, const char *key, sl_tensor *t,
                                  sl_status *status);

/* Registers _SlRemoteSend/_SlRemoteRecv and their kernels (idempotent;
 * sl_dist_worker_new calls it). */
void sl_dist_register_ops(void);
