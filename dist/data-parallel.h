/* In-graph replication for data-parallel training (paper 4.4 and
 * Figure 7): the model graph copied once per worker task, the variables
 * kept once on the ps tasks and shared by every copy.
 *
 *     sl_graph *g = sl_dp_replicate(model, 2, 1, st);
 *     // "replica_0/loss", "replica_1/loss" read the same variables on /job:ps/task:0;
 *     // add the mean loss, the optimizer (its gradients are summed over the
 *     // replicas: one update per step), the saver...
 *     sl_graph *placed = sl_dp_place(g, 2, 1, st);
 *
 * sl_dp_replicate() keeps once (unprefixed) the variables, their
 * initializers (Assign nodes writing a variable) and everything those
 * depend on, the variable i on /job:ps/task:(i % num_ps) with its
 * initializer; every other node is copied as "replica_k/<name>" on
 * /job:worker/task:k, its inputs renamed alike.  Feeds and fetches of
 * replica k are named with the prefix.
 *
 * sl_dp_place() pins the nodes added afterwards that have no device: a
 * node under a "replica_k/" scope (the gradients of replica k,
 * "gradients/replica_k/...") goes to /job:worker/task:k; a variable
 * "<v>/..." (an optimizer slot) to the task of v; a node that takes a
 * reference or resource is left to the placer, which colocates it with
 * its variable; the rest (aggregation of the gradients, the update
 * schedule, the global step, save and restore) to /job:ps/task:0.
 *
 * Both return a new graph (caller frees) or NULL with the status set. */
#pragma once

#include "sluice/graph.h"

sl_graph *sl_dp_replicate(const sl_graph *model, int num_workers, int num_ps, sl_status *status);

sl_graph *sl_dp_place(const sl_graph *graph, int num_workers, int num_ps, sl_status *status);

/* "replica_<k>/<name>" into buf. */
const char *sl_dp_name(char *buf, size_t size, int k, const char *name);
