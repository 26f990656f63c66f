/* Steps over several devices (paper 3.2): a session with more than one
 * device places its graph (sl_place), splits it into one partition per
 * device (sl_partition_graph), and runs each partition of a step with its
 * own executor over one shared in-process rendezvous.  Internal to the
 * runtime; sessions are its users.
 *
 * Thread-safety: a placed graph and a prepared multi-device step are
 * immutable once made; any number of steps may run on them at once. */
#pragma once

#include <stdbool.h>

#include "executor.h"
#include "plan.h"
#include "sluice/session.h"

typedef struct sl__placed sl__placed;
typedef struct sl__multi_exec sl__multi_exec;

/* Places `graph` over devices[0..n) and partitions it.  NULL + status on
 * failure: placement errors (INVALID_ARGUMENT naming the nodes) prefixed
 * with "cannot place the graph", or out of memory. */
sl__placed *sl__placed_new(const sl_graph *graph, const char *const *devices, int num_devices, bool simple,
                           sl_status *status);
void sl__placed_free(sl__placed *placed);

/* Prepares one signature: feeds, fetches and targets are outputs and
 * nodes of the graph that was placed (matched by name in the partitions).
 * Builds, for every partition the step needs (those with fetches or
 * targets, and those whose _Send a needed _Recv waits for), a plan that
 * the session's passes optimize, and its executor. */
sl__multi_exec *sl__multi_prepare(const sl__placed *placed, const sl_output *feeds, int num_feeds,
                                  const sl_output *fetches, int num_fetches, const sl_node *const *targets,
                                  int num_targets, const sl_session_options *opts, sl__pass_counts *counts,
                                  sl_status *status);
void sl__multi_free(sl__multi_exec *m);

/* Runs one step: every partition at once (the first on this thread), over
 * a fresh shared rendezvous and args->cancel (required).  Fetches and
 * statistics as sl__executor_run() gives them; with stats, nodes of all
 * devices and one sl_device_stats per partition. */
sl_code sl__multi_run(sl__multi_exec *m, const sl__step_args *args, sl_status *status);
