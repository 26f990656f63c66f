/* The master, inside the client (like TF's in-process master, paper 3.3):
 * a session over a cluster.
 *
 *     sl_cluster *c = sl_cluster_load("ps=127.0.0.1:2222;worker=127.0.0.1:2223", st);
 *     sl_transport *t = sl_grpc_transport_new(&grpc_opts, st);
 *     sl_dist_session *s = sl_dist_session_new(graph, c, t, NULL, st);
 *     sl_dist_session_run(s, NULL, feeds, values, 1, fetches, out, 1, NULL, 0, NULL, st);
 *
 * sl_dist_session_new() places the graph over the cluster's devices, one
 * CPU per task (/job:J/replica:0/task:T/device:CPU:0), with sl_place (device
 * constraints such as "/job:ps" hold; the rest by the cost model, or the
 * first feasible task with simple_placement), splits it with
 * sl_partition_graph, and registers each partition with its task.
 *
 * A step runs only what its fetches and targets need: the master works
 * out, per partition, the fetches, the targets and the _Sends whose
 * receivers need them, and starts RunGraph on each partition at once with
 * one step id; the partitions exchange tensors among themselves
 * (RecvTensor).  When a task fails or cannot be reached, the others are
 * told to abort the step, and the step fails with the first error, which
 * names the task ("task /job:worker/replica:0/task:1 (127.0.0.1:2224):
 * ...").  Partitions of a task that failed or restarted are registered
 * again before the next step, so a restarted task is used again.
 *
 * Thread-safety: sl_dist_session_run() may be called from several threads
 * at once (concurrent steps); free must not race with other calls. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "cluster.h"
#include "sluice/graph.h"
#include "sluice/session.h"
#include "transport.h"

typedef struct sl_dist_session sl_dist_session;

typedef struct sl_dist_session_options {
    bool simple_placement;     /* unconstrained nodes on the first feasible task */
    int64_t call_timeout_ms;   /* control calls (register, cleanup, status); 0: 30 s */
} sl_dist_session_options;

#define SL_DIST_SESSION_OPTIONS_INIT {false, 0}

typedef struct sl_dist_node_stats {
    char *node_name;
    char *op;
    int64_t start_us;          /* wall clock of the task's machine */
    int64_t end_us;
    int thread_id;
    int64_t output_bytes;
} sl_dist_node_stats;

typedef struct sl_dist_partition_stats {
    char *device;              /* full device name */
    int64_t start_us;          /* the partition's step, on its task */
    int64_t end_us;
    int64_t rpc_us;            /* RunGraph as the master saw it */
    int num_nodes;
    sl_dist_node_stats *nodes;
} sl_dist_partition_stats;

typedef struct sl_dist_step_stats {
    int64_t step_id;
    int64_t start_us;
    int64_t end_us;
    int num_partitions;
    sl_dist_partition_stats *partitions;
} sl_dist_step_stats;

void sl_dist_step_stats_free(sl_dist_step_stats *stats);  /* NULL-safe */

/* Places, partitions and registers `graph` (copied; stays the caller's)
 * over `cluster` (copied) through `transport` (borrowed; must outlive the
 * session).  opts may be NULL.  NULL + status: placement errors
 * (INVALID_ARGUMENT naming nodes), or the error of a task, named. */
sl_dist_session *sl_dist_session_new(const sl_graph *graph, const sl_cluster *cluster,
                                     const sl_transport *transport, const sl_dist_session_options *opts,
                                     sl_status *status);

/* Runs one step, with the arguments of sl_session_run() (fetch_values
 * caller-owned; NULL on failure).  opts->timeout_ms bounds the step;
 * opts->collect_step_stats fills *stats (caller frees). */
sl_code sl_dist_session_run(sl_dist_session *s, const sl_run_options *opts,
                            const char *const *feed_names, sl_tensor *const *feed_values, int num_feeds,
                            const char *const *fetch_names, sl_tensor **fetch_values, int num_fetches,
                            const char *const *target_names, int num_targets, sl_dist_step_stats **stats,
                            sl_status *status);

/* Asks every task for its status within timeout_ms; UNAVAILABLE naming the
 * first task that does not answer. */
sl_code sl_dist_session_check_health(sl_dist_session *s, int64_t timeout_ms, sl_status *status);

/* The device a node was placed on (borrowed), or NULL. */
const char *sl_dist_session_node_device(const sl_dist_session *s, const char *node_name);

int sl_dist_session_num_partitions(const sl_dist_session *s);

/* Waits for the session's calls in flight and frees it.  NULL-safe. */
void sl_dist_session_free(sl_dist_session *s);
