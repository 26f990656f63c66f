/* Plans: the pruned subgraph one session signature runs, as the optimizer
 * passes rewrite it and before the executor turns it into tables.
 *
 * A plan node stands for one graph node.  Its inputs name other plan nodes
 * (or feeds), so passes can redirect edges (CSE), replace a node by
 * constants (folding) and drop nodes (pruning) without touching the graph,
 * which concurrent steps keep reading.  Internal to the runtime. */
#pragma once

#include <stdbool.h>

#include "sluice/graph.h"
#include "sluice/status.h"

#define SL_PLAN_FEED (-1)

typedef struct sl__plan_input {
    int src;   /* plan node index, or SL_PLAN_FEED */
    int out;   /* output of src, or the feed's index */
} sl__plan_input;

typedef struct sl__plan_node {
    const sl_node *node;
    int num_inputs;
    sl__plan_input *inputs;   /* one per node input */
    int num_controls;
    int *controls;            /* plan node indexes */
    sl_tensor **folded;       /* non-NULL: constant outputs that replace the node (owned) */
    bool removed;             /* dropped by a pass; compacted away by sl__plan_prune() */
} sl__plan_node;

typedef struct sl__plan {
    int num_nodes;
    sl__plan_node *nodes;
    int num_feeds;
    sl_output *feeds;          /* what each feed replaces (borrowed nodes) */
    int num_fetches;
    sl__plan_input *fetches;
    int num_targets;
    int *targets;              /* plan node indexes */
    sl_graph *aux;             /* nodes made by passes (fused ops), owned; the executor takes it */
} sl__plan;

/* Builds the plan of the nodes that fetches and targets need, cutting at
 * fed outputs; with `all`, every node of the graph (fed outputs are still
 * replaced).  NULL + status on OOM. */
sl__plan *sl__plan_build(const sl_graph *graph, const sl_output *feeds, int num_feeds,
                         const sl_output *fetches, int num_fetches, const sl_node *const *targets,
                         int num_targets, bool all, sl_status *status);
void sl__plan_free(sl__plan *plan);

/* Optimizer passes (optimize.c).  Each returns the number of nodes it
 * changed, or -1 with the status set on OOM. */
int sl__plan_fold_constants(sl__plan *plan, sl_status *status);
int sl__plan_cse(sl__plan *plan, sl_status *status);
/* Fuses Conv2D -> BiasAdd (-> Relu) (-> MaxPool) and MatMul -> BiasAdd
 * (-> Relu) chains whose intermediate outputs nothing else reads into one
 * _FusedConv2D or _FusedMatMul node named after the Conv2D or MatMul (made
 * in plan->aux), for a CPU-only plan: the bias and the activation are
 * applied as the product is stored, saving two passes over it.  Marks the absorbed nodes removed
 * (sl__plan_prune compacts them).  Returns the number of chains fused, or
 * -1 with the status set. */
int sl__plan_fuse(sl__plan *plan, sl_status *status);
/* Drops nodes that no fetch or target needs any more (and nodes marked
 * removed) and renumbers.  Returns the number dropped. */
int sl__plan_prune(sl__plan *plan, sl_status *status);

/* What the passes of one preparation changed. */
typedef struct sl__pass_counts {
    int folded;
    int merged;
    int pruned;
    int fused;
} sl__pass_counts;

/* Runs the passes a session's options leave on, in order: CSE (first, so
 * duplicates merge before folding makes them separate constants), constant
 * folding, pruning.  Adds what they did to *counts.  SL_OK or the error of
 * a pass (out of memory). */
sl_code sl__plan_optimize(sl__plan *plan, bool cse, bool fold, bool prune, sl__pass_counts *counts,
                          sl_status *status);
