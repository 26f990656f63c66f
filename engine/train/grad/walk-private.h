/* The state of one sl_add_gradients() walk (../gradients.c), shared with
 * the files that differentiate control flow: while-grad.c builds a whole
 * backward loop when the walk reaches a forward loop's exits, and walks
 * the loop body with the same machinery (a sub-walk on the same queue). */
#pragma once

#include <stdbool.h>

#include "../build.h"
#include "cf-frames.h"

typedef struct sl__grad_list {
    sl_output *v;
    int n;
    int cap;
} sl__grad_list;

typedef struct sl__loop_grad sl__loop_grad;

typedef struct sl__walk {
    sl_graph *g;
    int n0;                  /* nodes before we started: only they are walked */
    bool *reached;
    bool *between;
    int *pending;            /* between consumers whose gradients have not come yet */
    sl__grad_list **grads;   /* [node][output], lazily allocated */
    sl_output **agg;         /* [node][output]: the summed gradient, once processed */
    int *queue;              /* nodes whose consumers are all done */
    int qhead;
    int qtail;
    sl_b b;
    sl__cf_info *cf;         /* loop frames of the forward nodes */
    sl__loop_grad **loops;   /* [frame]: its backward loop, once started (NULL for the root) */
} sl__walk;

/* Records g as one more gradient of the forward output `at`. */
bool sl__walk_add_grad(sl__walk *w, sl_output at, sl_output g);

/* The sum (AddN, or the one gradient) of the gradients recorded for `at`;
 * {NULL, 0} when none.  Builds in the current name scope. */
sl_output sl__walk_sum(sl__walk *w, sl_output at);

/* Whether input i of n is an edge the walk follows (from a between node,
 * of a trainable dtype). */
bool sl__walk_follows(const sl__walk *w, const sl_node *n, int i);

/* Marks input i of n as done: its source's pending count drops, and the
 * source is queued when it reaches zero.  Only for followed inputs. */
void sl__walk_release(sl__walk *w, const sl_node *n, int i);

/* Processes queue entries from index `from` until none is left, then
 * drops them from the queue (qtail = from): the sub-walk of a loop body,
 * whose nodes are all queued after `from`. */
sl_code sl__walk_drain(sl__walk *w, int from);

/* ---- while-grad.c ---------------------------------------------------- */

/* The walk reached Exit `n` (all its consumers are done).  When it is the
 * last of its loop's exits on the walk, builds the backward loop: the
 * forward iteration counter, the gradient loop, its body (by a sub-walk
 * of the forward body), the accumulated gradients of the loop invariants,
 * and hands the gradients of the loop's inputs back to the walk. */
sl_code sl__while_grad_exit(sl__walk *w, sl_node *n);

/* The backward loop whose body the gradient of forward node n goes into,
 * or NULL when n is not inside a loop. */
sl__loop_grad *sl__while_grad_of(sl__walk *w, const sl_node *n);

/* Moves the gradient nodes built since node index `mark` for a node of
 * the loop into the backward loop: their uses of forward values become
 * pops of stacks pushed by the forward loop (values that vary per
 * iteration) or Enters of the values from outside (invariants), and
 * nodes without inputs get the backward loop's pivot as a control input.
 * Each of outs[0..n_outs) that names a forward value is mapped the same
 * way (outs may be NULL when n_outs is 0). */
sl_code sl__while_grad_adopt(sl__walk *w, sl__loop_grad *lg, int mark, sl_output *outs, int n_outs);

/* Frees the backward-loop states (not the graph nodes). */
void sl__while_grad_release(sl__walk *w);
