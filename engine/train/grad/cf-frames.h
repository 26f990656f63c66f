/* The loop frames of a forward graph, as the gradient walk needs them
 * (TF's ControlFlowContext, recovered from the graph alone so imported
 * GraphDefs work too).
 *
 * Every node gets the frame it runs in, by the executor's rule (a walk from
 * the nodes without inputs: an Enter's consumers are in the frame it
 * names, an Exit's in the parent of its own; an Exit itself is inside its
 * loop).  For each loop frame the structure of tf.while_loop is collected:
 *
 *     Enter(v) -> Merge(Enter, NextIteration) -> Switch(Merge, LoopCond)
 *         Switch:0 -> Exit             (the value after the loop)
 *         Switch:1 -> body ... -> NextIteration
 *
 * one such chain per loop variable, plus the loop invariants (Enter with
 * is_constant, RefEnter of a variable).
 *
 * Cost: O(nodes + edges) to build.  Not thread-safe (one walk owns it). */
#pragma once

#include <stdbool.h>

#include "sluice/graph.h"
#include "sluice/status.h"

typedef struct sl__loop_var {
    sl_node *enter;   /* the non-constant Enter of the initial value */
    sl_node *merge;   /* Merge(enter, next) */
    sl_node *next;    /* NextIteration; its input is the body's result */
    sl_node *sw;      /* Switch(merge, LoopCond) */
    sl_node *exit;    /* Exit(sw:0); NULL when the value is not used after the loop */
} sl__loop_var;

typedef struct sl__cf_frame {
    char *name;             /* frame_name of its Enters (owned) */
    int parent;             /* the enclosing frame; -1 for the root */
    int parallel;           /* parallel_iterations of its Enters */
    sl_node *loop_cond;     /* the LoopCond node (NULL until found) */
    int num_vars;
    sl__loop_var *vars;     /* one per loop variable (Merge with a NextIteration input) */
    int num_enters;
    sl_node **enters;       /* every Enter into this frame (variables' and invariants') */
    int num_exits;
    sl_node **exits;
    bool structure_ok;      /* the chains above were found for every Merge of the frame */
    char why[160];          /* what is wrong when !structure_ok */
} sl__cf_frame;

typedef struct sl__cf_info {
    int num_nodes;          /* nodes analysed: [0, num_nodes) */
    int *frame_of;          /* frame of each node; 0 is the root */
    int *cond_switch;       /* the cond Switch whose branch the node's outputs are in, or -1 */
    unsigned char *cond_branch; /* which output of that Switch: 0 false, 1 true */
    int num_frames;
    sl__cf_frame *frames;
} sl__cf_info;

/* What a node is to the gradient walk. */
typedef enum sl__cf_kind {
    SL_CF_NONE,         /* not a control-flow op */
    SL_CF_COND,         /* Switch or Merge of a cond */
    SL_CF_LOOP_EXIT,    /* Exit of a loop */
    SL_CF_LOOP_OTHER,   /* Enter, loop Merge/Switch, NextIteration, LoopCond */
} sl__cf_kind;

/* Analyses nodes [0, n) of graph.  Returns a new info (free with
 * sl__cf_info_free) or NULL with SL_RESOURCE_EXHAUSTED in status. */
sl__cf_info *sl__cf_info_new(const sl_graph *graph, int n, sl_status *status);
void sl__cf_info_free(sl__cf_info *info);  /* NULL-safe */

sl__cf_kind sl__cf_kind_of(const sl__cf_info *info, const sl_node *node);

/* The frame node's outputs live in: its own, except for an Enter (the
 * frame it enters) and an Exit (the loop's parent). */
int sl__cf_output_frame(const sl__cf_info *info, const sl_node *node);

/* The cond branch forward value v is computed in: the id of the Switch
 * that opens it (-1 when v is in no branch of its frame) and the branch
 * (0 false, 1 true) in *branch.  Contexts follow TF's CondContext: a
 * Switch's output k opens branch k, the cond's Merge closes it, any other
 * node is in the innermost branch of its inputs (control inputs too), and
 * loop frames start outside any branch. */
int sl__cf_cond_of(const sl__cf_info *info, sl_output v, int *branch);

/* Whether node is an Enter or RefEnter with is_constant set. */
bool sl__cf_is_const_enter(const sl_node *node);
