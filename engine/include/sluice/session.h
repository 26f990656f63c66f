/* Sessions: run steps of a graph (paper 3.1, 4.2).
 *
 *     sl_session *s = sl_session_new(graph, NULL, status);   // copies graph
 *     const char *feeds[] = {"x"};
 *     sl_tensor *feed_vals[] = {x};
 *     const char *fetches[] = {"dense/Relu:0"};
 *     sl_tensor *out[1];
 *     if (sl_session_run(s, NULL, feeds, feed_vals, 1, fetches, out, 1, NULL, 0,
 *                        NULL, status) == SL_OK) {
 *         ...
 *         sl_tensor_unref(out[0]);
 *     }
 *     sl_session_free(s);
 *
 * A step runs only the nodes that its fetches and targets need (partial
 * execution).  A feed replaces any tensor, not only a placeholder's: the fed
 * output's producer does not run unless something else needs it.  Names are
 * "node" (output 0) or "node:index".
 *
 * Each distinct signature (feeds, fetches, targets) is prepared once: the
 * subgraph is pruned, optimized (common subexpression elimination,
 * constant folding, pruning of what became dead), kernels are created and the
 * executor's tables are built.  Later steps with the same signature reuse it
 * and pay no preparation.
 *
 * Ownership: the session copies the graph it is given (the caller may free
 * or change its graph afterwards) and owns its copy; sl_session_extend()
 * adds nodes to that copy.  Variables, queues and other resources live in
 * the session's resource manager (or one the options lend) and survive
 * across steps until the session is freed or their container is reset.
 *
 * Thread-safety: sl_session_run() may be called from many threads at once;
 * steps then run concurrently and share variables.  sl_session_extend()
 * may also be called at any time: it waits for preparations in progress,
 * and running steps are unaffected (they do not see the new nodes).
 * sl_session_free() must not race with other calls.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "sluice/graph.h"
#include "sluice/macros.h"
#include "sluice/resource.h"
#include "sluice/status.h"
#include "sluice/tensor.h"

SL_BEGIN_DECLS

typedef struct sl_session sl_session;

typedef struct sl_session_options {
    /* Threads that run a step's nodes, the one calling run included (it
     * runs nodes too; the pool gets the others): 1 runs every node on the
     * calling thread; 0: one per CPU. */
    int inter_op_threads;
    bool disable_constant_folding; /* keep constant subgraphs as they are */
    bool disable_cse;              /* keep duplicate computations */
    bool disable_pruning;          /* run every node of the graph, not only what fetches need */
    sl_resource_mgr *resources;    /* borrowed, shared with other sessions; NULL: the session's own */
    /* CPU devices /job:localhost/replica:0/task:0/device:CPU:0..N-1 (0 or 1:
     * one).  With several, each step's graph is placed (device constraints,
     * colocation, kernels), split into one partition per device with
     * _Send/_Recv pairs on the cut edges, and the partitions run at once over
     * an in-process rendezvous. */
    int num_cpu_devices;
    /* Place unconstrained nodes on the first device that may hold them
     * instead of by the cost model (deterministic; for tests). */
    bool simple_placement;
    /* Run on GPU:0 when this build has CUDA and the machine a GPU: the
     * devices become GPU:0 then the CPU device(s), and each node goes to
     * the GPU when it has a GPU kernel for the node's types, else to the
     * CPU (TF's default placement; explicit constraints still win), with
     * _Send/_Recv copies on the edges between them.  Without a GPU the
     * session runs on the CPU as if this were false (sl_gpu_message() says
     * why). */
    bool use_gpu;
    /* Threads one kernel may split its work over (a matrix product's
     * blocks, a convolution's rows), the thread running it included, from
     * a second pool of intra_op_threads - 1 (TF's intra-op pool): 1 keeps
     * every kernel on one thread; 0: as many as inter_op_threads. */
    int intra_op_threads;
} sl_session_options;

#define SL_SESSION_OPTIONS_INIT {0, false, false, false, NULL, 0, false, false, 0}

/* Per-step options, like TF's RunOptions. */
typedef struct sl_run_options {
    bool collect_step_stats; /* fill *stats (see sl_session_run) */
    int64_t timeout_ms;      /* > 0: the step fails with DEADLINE_EXCEEDED after this long */
} sl_run_options;

#define SL_RUN_OPTIONS_INIT {false, 0}

/* What one execution of one node cost (the board's timeline draws these). */
typedef struct sl_node_stats {
    const char *node_name;  /* borrowed from the session's graph */
    const char *op;         /* borrowed */
    const char *device;     /* "/job:localhost/replica:0/task:0/device:CPU:0" (borrowed) */
    int64_t start_us;       /* wall clock, microseconds since the Unix epoch */
    int64_t end_us;
    int thread_id;          /* pool thread index, or -1 for the caller's thread */
    int64_t output_bytes;   /* bytes of the tensors the node produced */
    int64_t iteration;      /* loop iteration (0 outside loops) */
} sl_node_stats;

/* What one device did in a step (one per partition the step ran). */
typedef struct sl_device_stats {
    const char *device;     /* full name (borrowed from the session) */
    int64_t start_us;       /* its partition's start and end, wall clock */
    int64_t end_us;
    int num_nodes;          /* node executions recorded on it */
    int64_t output_bytes;   /* bytes its nodes produced */
    int num_sends;          /* _Send and _Recv nodes of its partition */
    int num_recvs;
} sl_device_stats;

typedef struct sl_step_stats {
    int64_t step_id;
    int64_t start_us;        /* wall clock when the step began */
    int64_t end_us;
    int64_t prepare_us;      /* time spent preparing the signature (0 when cached) */
    bool cache_hit;          /* the prepared executor came from the cache */
    int num_nodes;           /* node executions recorded, in completion order (per device) */
    sl_node_stats *nodes;
    int num_devices;         /* devices the step ran on */
    sl_device_stats *devices;
} sl_step_stats;

/* Frees stats from sl_session_run.  NULL-safe. */
SL_API void sl_step_stats_free(sl_step_stats *stats);

/* Counters for tests and tools. */
typedef struct sl_session_counters {
    int64_t steps;            /* steps started */
    int64_t prepares;         /* signatures prepared (cache misses) */
    int64_t cache_hits;
    int num_cached;           /* signatures in the cache now */
    /* What the optimizer passes did, summed over the signatures prepared
     * (and cached): nodes replaced by constants, nodes merged into an
     * equivalent one, nodes dropped because nothing needed them any more. */
    int64_t nodes_folded;
    int64_t nodes_merged;
    int64_t nodes_pruned;
    /* Conv2D -> BiasAdd (-> Relu) chains fused into one node (CPU-only
     * sessions; SLUICE_NO_FUSION=1 in the environment switches it off). */
    int64_t chains_fused;
} sl_session_counters;

/* A new session over a copy of `graph` (which stays the caller's).  `opts`
 * may be NULL.  NULL + status on failure: RESOURCE_EXHAUSTED, INTERNAL when
 * threads cannot start, or the import error of the copy. */
SL_API sl_session *sl_session_new(const sl_graph *graph, const sl_session_options *opts,
                                  sl_status *status);

/* Adds to the session the nodes of `graph` whose names it lacks (TF's
 * Session::Extend); nodes it already has must have the same op, or the call
 * fails with INVALID_ARGUMENT and changes nothing.  Cached signatures stay
 * valid. */
SL_API sl_code sl_session_extend(sl_session *session, const sl_graph *graph, sl_status *status);

/* Runs one step.
 *   feed_names[i] / feed_values[i]: tensors that replace those outputs
 *     (values borrowed; the session takes its own references);
 *   fetch_names: outputs to return in fetch_values[i] (caller owns each
 *     reference; all set to NULL on failure);
 *   target_names: nodes to run whose outputs are not wanted;
 *   opts may be NULL; stats may be NULL, else *stats gets the step's
 *     statistics when opts->collect_step_stats (caller frees them with
 *     sl_step_stats_free(); NULL otherwise), also on failure of the step.
 * Errors: INVALID_ARGUMENT for a feed of the wrong dtype or shape, a name
 * that is not in the graph ("fetch 'y:3': node 'y' has 1 output") or a fed
 * tensor that is not a graph output; NOT_FOUND for a node without kernel;
 * a kernel's error prefixed with the node ("node 'g' (GatherV2): ...");
 * CANCELLED after sl_session_cancel(); DEADLINE_EXCEEDED after
 * opts->timeout_ms; FAILED_PRECONDITION after sl_session_close().  The
 * session stays usable after a failed step. */
SL_API sl_code sl_session_run(sl_session *session, const sl_run_options *opts,
                              const char *const *feed_names, sl_tensor *const *feed_values,
                              int num_feeds, const char *const *fetch_names,
                              sl_tensor **fetch_values, int num_fetches,
                              const char *const *target_names, int num_targets,
                              sl_step_stats **stats, sl_status *status);

/* The same with outputs and nodes of a graph, which may be the session's or
 * the caller's original graph (nodes are matched by name). */
SL_API sl_code sl_session_run_outputs(sl_session *session, const sl_run_options *opts,
                                      const sl_output *feeds, sl_tensor *const *feed_values,
                                      int num_feeds, const sl_output *fetches,
                                      sl_tensor **fetch_values, int num_fetches,
                                      const sl_node *const *targets, int num_targets,
                                      sl_step_stats **stats, sl_status *status);

/* Cancels the steps running now: they fail with CANCELLED as soon as their
 * running kernels return (blocked queue operations return at once).  Later
 * steps are unaffected.  Thread-safe. */
SL_API void sl_session_cancel(sl_session *session);

/* Closes the session: cancels running steps, waits for them, and makes
 * later sl_session_run() calls fail with FAILED_PRECONDITION.  Idempotent. */
SL_API void sl_session_close(sl_session *session);

/* Closes and frees the session, its graph copy, prepared executors and
 * (unless lent through the options) its resources.  NULL-safe. */
SL_API void sl_session_free(sl_session *session);

/* The session's graph (borrowed; read-only for the caller). */
SL_API const sl_graph *sl_session_graph(const sl_session *session);

/* The session's resource manager (borrowed). */
SL_API sl_resource_mgr *sl_session_resources(const sl_session *session);

SL_API void sl_session_get_counters(sl_session *session, sl_session_counters *out);

/* Parses "node" or "node:index" against the session's graph into *out.
 * INVALID_ARGUMENT when the node is absent or the index out of range. */
SL_API sl_code sl_session_parse_output(const sl_session *session, const char *name, sl_output *out,
                                       sl_status *status);

SL_END_DECLS
