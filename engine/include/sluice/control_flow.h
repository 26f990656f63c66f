/* Control-flow builders (paper 4.4): cond and while_loop, built from
 * Switch, Merge, Enter, Exit, NextIteration and LoopCond exactly as TF 1.x
 * builds them, so graphs round-trip with TF and the executor's frames and
 * deadness give them their meaning.
 *
 *     static sl_code cond(sl_cf_ctx *c, const sl_output *v, int n, sl_output *out,
 *                         void *arg, sl_status *st)
 *     {   // i < 10
 *         sl_output ten = my_const(c, 10);   // a Const with sl_cf_ctx_pivot() as control input
 *         out[0] = my_less(c, v[0], ten);
 *         return out[0].node ? SL_OK : sl_status_code(st);
 *     }
 *     sl_while_loop(g, vars, 1, cond, body, NULL, "loop", 10, results, st);
 *
 * Callbacks get a context: the graph, a pivot node (give nodes without
 * inputs, such as Consts, a control input from it so they run once per
 * iteration or branch) and capture(), which brings a tensor from outside
 * into the loop or branch (a constant Enter, or a Switch).  Using an
 * outside tensor without capture() makes a graph the executor refuses.
 *
 * Both builders are all-or-nothing: on failure the graph is as it was.
 *
 * Thread-safety: like every graph edit, one thread per graph.
 */
#pragma once

#include "sluice/graph.h"
#include "sluice/macros.h"
#include "sluice/status.h"

SL_BEGIN_DECLS

typedef struct sl_cf_ctx sl_cf_ctx;

/* Builds a branch, a loop condition or a loop body from `in` (n tensors)
 * into `out`: the condition writes one bool scalar, a body n tensors
 * (dtypes of the loop variables), a branch num_outputs tensors.  Returns
 * SL_OK or an error set in st. */
typedef sl_code (*sl_cf_build_fn)(sl_cf_ctx *ctx, const sl_output *in, int n, sl_output *out, void *arg,
                                  sl_status *st);

SL_API sl_graph *sl_cf_ctx_graph(const sl_cf_ctx *ctx);
/* The node to give input-less nodes as a control input (borrowed). */
SL_API sl_node *sl_cf_ctx_pivot(const sl_cf_ctx *ctx);
/* `outer` made usable inside the loop or branch; {NULL, 0} + status on
 * failure.  Capturing the same tensor twice returns the same output. */
SL_API sl_output sl_cf_ctx_capture(sl_cf_ctx *ctx, sl_output outer, sl_status *st);

/* outputs[j] = pred ? then_fn(...)[j] : else_fn(...)[j].  `inputs` are
 * switched on pred and handed to the branches (each branch sees only its
 * side).  name (may be NULL: "cond") scopes the nodes made. */
SL_API sl_code sl_cond(sl_graph *graph, sl_output pred, const sl_output *inputs, int num_inputs,
                       sl_cf_build_fn then_fn, sl_cf_build_fn else_fn, void *arg, int num_outputs,
                       sl_output *outputs, const char *name, sl_status *status);

/* while (cond_fn(vars)) vars = body_fn(vars); outputs[i] gets the final
 * vars[i].  name (may be NULL: "while") names the frame (made unique);
 * parallel_iterations <= 0 means 10. */
SL_API sl_code sl_while_loop(sl_graph *graph, const sl_output *vars, int num_vars, sl_cf_build_fn cond_fn,
                             sl_cf_build_fn body_fn, void *arg, const char *name, int parallel_iterations,
                             sl_output *outputs, sl_status *status);

SL_END_DECLS
