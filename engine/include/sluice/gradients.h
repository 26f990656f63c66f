/* Symbolic gradients (paper section 4.1, Figure 5): given a loss and the
 * tensors to differentiate with respect to, add to the graph the nodes that
 * compute the gradients, built from each op's registered gradient function.
 *
 *     sl_output w = {w_node, 0}, b = {b_node, 0}, xs[2] = {w, b}, dxs[2];
 *     if (sl_add_gradients(g, &loss, 1, xs, 2, NULL, dxs, status) != SL_OK)
 *         ...;                        // the graph is unchanged
 *     // dxs[0] is dloss/dw: fetch it, or feed it to an optimizer
 *
 * The walk: the ops between the xs and the ys (forward-reachable from an x
 * and backward-reachable from a y, through tensors of a floating, complex
 * or resource dtype) are visited from the ys back in reverse topological
 * order.  Gradients reaching one tensor from several consumers are summed
 * with AddN.  An op whose outputs received no gradient is skipped, and so
 * is every path that does not reach a y; StopGradient stops, and
 * PreventGradient is an error.  Broadcasting binary ops reduce their
 * gradients back to each input's shape (BroadcastGradientArgs, Sum and
 * Reshape where shapes are only known at run time; constants where they
 * are known now).  New nodes are named under "gradients/" (then
 * "gradients_1/" ...), one scope per forward op: "gradients/dense/MatMul_grad/MatMul".
 *
 * Control flow, as TF: the gradient of a cond's Switch is a Merge of the
 * two branches' gradients, that of its Merge a Switch of the incoming
 * gradient on which input was taken.  A while_loop is differentiated as a
 * whole when the walk reaches its exits: the forward loop gains an
 * iteration counter, and a backward loop that runs as many iterations
 * undoes the body's iterations in reverse; the forward values its
 * gradient functions read are pushed on stacks (StackV2, StackPushV2) in
 * the forward loop and popped (StackPopV2) in the backward one, and the
 * gradients of loop invariants (weights captured by the body) are summed
 * over the iterations.  The pushes are only added here, and only run in
 * steps that fetch something needing them; the stacks are freed with the
 * step.  Loops nest, and a loop body may hold conds (values of a branch
 * are pushed and popped only in the iterations that take it).  See
 * engine/train/grad/while-grad.c.  Not implemented yet (SL_UNIMPLEMENTED
 * naming the node): a cond nested in a cond inside a loop,
 * RefSwitch/RefMerge, and ys or xs inside a loop body.
 *
 * Thread-safety: sl_add_gradients() modifies the graph: it needs the same
 * exclusive access as any node builder.  The registry is filled once
 * (built-in functions under pthread_once on first use, then
 * sl_gradient_register() from start-up code) and read-only afterwards.
 */
#pragma once

#include <stdbool.h>

#include "sluice/graph.h"
#include "sluice/macros.h"
#include "sluice/status.h"

SL_BEGIN_DECLS

typedef struct sl_grad_ctx sl_grad_ctx;

/* A gradient function.  `op` is the forward node; dy[i] is the gradient of
 * the loss with respect to op's output i ({NULL, 0} for none, possible
 * only for functions registered with SL_GRAD_ALLOW_MISSING; others see
 * zeros).  It sets dx[i] for each input that has a gradient (dx comes
 * filled with {NULL, 0}: "no gradient").  It builds nodes with the graph of
 * sl_grad_ctx_graph(ctx) and reports errors with sl_grad_ctx_fail() (or the
 * status of a failed builder, through sl_grad_ctx_status()). */
typedef void (*sl_grad_fn)(sl_grad_ctx *ctx, const sl_node *op, const sl_output *dy,
                           sl_output *dx);

enum sl_grad_flags {
    SL_GRAD_ALLOW_MISSING = 1 << 0,     /* dy may hold {NULL, 0} for outputs without gradient */
    SL_GRAD_NOT_DIFFERENTIABLE = 1 << 1 /* fn is NULL: no gradient flows through the op */
};

/* Registers fn (NULL with SL_GRAD_NOT_DIFFERENTIABLE) as the gradient of
 * op_type.  SL_ALREADY_EXISTS for a second registration, SL_INVALID_ARGUMENT
 * for a NULL fn without the flag.  Not thread-safe against sl_add_gradients. */
SL_API sl_code sl_gradient_register(const char *op_type, sl_grad_fn fn, unsigned flags,
                                    sl_status *status);

/* Whether op_type has a gradient function (true for ops registered as not
 * differentiable too: their gradient is known to be none). */
SL_API bool sl_gradient_is_registered(const char *op_type);

/* Adds the gradients of sum(ys) with respect to each xs[i] to graph.
 *   ys, ny:  the tensors to differentiate (ny >= 1), e.g. a scalar loss.
 *   xs, nx:  the tensors to differentiate with respect to (nx >= 1).
 *   dys:     initial gradients, one per y, of the y's shape; NULL for
 *            ones (OnesLike(y)), as TF's tf.gradients.
 *   dxs:     receives nx outputs: dxs[i] is the gradient for xs[i] (of its
 *            shape and dtype), or {NULL, 0} when xs[i] does not reach any y.
 * Returns SL_OK; on failure the graph is left as it was (all nodes added
 * are removed), dxs is untouched and status names the node at fault:
 * SL_NOT_FOUND (an op on the path has no gradient function),
 * SL_UNIMPLEMENTED (the control flow above), SL_INVALID_ARGUMENT (bad arguments, a
 * PreventGradient on the path, a gradient node that does not build),
 * SL_RESOURCE_EXHAUSTED. */
SL_API sl_code sl_add_gradients(sl_graph *graph, const sl_output *ys, int ny, const sl_output *xs,
                                int nx, const sl_output *dys, sl_output *dxs, sl_status *status);

/* ---- For gradient functions ------------------------------------------ */

SL_API sl_graph *sl_grad_ctx_graph(sl_grad_ctx *ctx);
/* Status to pass to node builders; after a failed builder the function
 * returns and the walk stops with that error. */
SL_API sl_status *sl_grad_ctx_status(sl_grad_ctx *ctx);
/* Records an error (the first one wins); the message is prefixed with the
 * forward node's name and op. */
SL_API void sl_grad_ctx_fail(sl_grad_ctx *ctx, sl_code code, const char *fmt, ...) SL_PRINTF(3, 4);

SL_END_DECLS
