/* Client sessions: one handle whether a graph runs in this process or on a
 * cluster, so commands (sluice run, and sluice train as it lands) take a
 * --cluster option and run transparently over it.
 *
 * With opts->cluster NULL the session is an sl_session; otherwise the
 * master (master.h) places and partitions the graph over the cluster's
 * tasks and runs steps there through the gRPC transport, with opts->token
 * in every call.
 *
 * Thread-safety: as sl_session / sl_dist_session. */
#pragma once

#include <stdbool.h>

#include "master.h"
#include "sluice/session.h"

typedef struct sl_client_session sl_client_session;

typedef struct sl_client_options {
    const char *cluster;       /* cluster spec (cluster.h); NULL: this process */
    const char *token;         /* the cluster's shared token (required with a cluster) */
    bool simple_placement;     /* unconstrained nodes on the first feasible task */
    const char *tls_dir;       /* TLS: servers checked against DIR/ca.pem; NULL: plain TCP */
    int inter_op_threads;      /* local sessions: the pool's threads (0: one per CPU) */
    bool use_gpu;              /* local sessions: place on GPU:0 when there is one */
} sl_client_options;

#define SL_CLIENT_OPTIONS_INIT {NULL, NULL, false, NULL, 0, false}

/* NULL + status: the cluster spec's error, UNIMPLEMENTED when built
 * without gRPC, or the session's. */
sl_client_session *sl_client_session_new(const sl_graph *graph, const sl_client_options *opts, sl_status *status);

/* sl_session_run()'s contract, either way (no statistics). */
sl_code sl_client_session_run(sl_client_session *s, const sl_run_options *opts, const char *const *feed_names,
                              sl_tensor *const *feed_values, int num_feeds, const char *const *fetch_names,
                              sl_tensor **fetch_values, int num_fetches, const char *const *target_names,
                              int num_targets, sl_status *status);

/* The same, and for a local session the step's statistics when
 * opts->collect_step_stats (*stats NULL on a cluster; caller frees). */
sl_code sl_client_session_run_stats(sl_client_session *s, const sl_run_options *opts, const char *const *feed_names,
                                    sl_tensor *const *feed_values, int num_feeds, const char *const *fetch_names,
                                    sl_tensor **fetch_values, int num_fetches, const char *const *target_names,
                                    int num_targets, sl_step_stats **stats, sl_status *status);

/* On a cluster: asks every task for its status (sl_dist_session_check_health);
 * SL_OK at once for a local session. */
sl_code sl_client_session_check_health(sl_client_session *s, int64_t timeout_ms, sl_status *status);

/* Whether the session runs on a cluster. */
bool sl_client_session_is_distributed(const sl_client_session *s);

void sl_client_session_free(sl_client_session *s);  /* NULL-safe */
