/* Kernels: the code that computes an op on one device type.
 *
 * A kernel is registered for (op, device type, type constraints) and
 * chosen when a graph is prepared to run (sl_kernel_lookup).  Each node
 * then gets a kernel instance: create() may read attrs once and keep state;
 * compute() runs once per step with a context that hands out inputs and
 * takes outputs.  Errors are reported through the context; the executor
 * prefixes the node name and op.
 *
 *     static void neg_compute(sl_kernel_ctx *ctx)
 *     {
 *         const sl_tensor *x = sl_kernel_ctx_input(ctx, 0);
 *         sl_tensor *y = sl_kernel_ctx_allocate_output(ctx, 0, sl_tensor_shape(x));
 *         if (!y)
 *             return;                       // the context holds the error
 *         ...
 *     }
 *     static const sl_kernel_def neg_kernel = {
 *         .op = "Neg", .device = SL_DEVICE_CPU, .constraints = {"T: {float, double}"},
 *         .compute = neg_compute,
 *     };
 *
 * Asynchronous kernels (Recv, queue dequeues) set compute_async instead
 * and call sl_kernel_ctx_done() once, from any thread, when finished.
 *
 * Reference inputs and outputs (TF1 variables, "Ref(T)") carry an sl_var:
 * a tensor slot with a mutex.  When an op's input is not a reference but
 * the producer's output is, the runtime reads the variable's current value
 * before compute() (TF's automatic dereference).
 *
 * Thread-safety: registration happens at start-up (built-in kernels are
 * registered under pthread_once on first lookup) and is then read-only.
 * compute() may run concurrently for different nodes and, for the same
 * node, for concurrent steps: kernel state must be read-only after create().
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "sluice/graph.h"
#include "sluice/macros.h"
#include "sluice/status.h"
#include "sluice/tensor.h"
#include "sluice/threadpool.h"

SL_BEGIN_DECLS

#define SL_DEVICE_CPU "CPU"
#define SL_DEVICE_GPU "GPU"
#define SL_KERNEL_MAX_CONSTRAINTS 4

typedef struct sl_kernel_ctx sl_kernel_ctx;
typedef struct sl_var sl_var;
typedef struct sl_resource_mgr sl_resource_mgr;

typedef struct sl_kernel_def {
    const char *op;
    const char *device;  /* SL_DEVICE_CPU, SL_DEVICE_GPU */
    /* Type-attr constraints, "T: {float, double}"; unset slots are NULL.
     * A kernel matches a node when every constrained attr's value is in
     * the set. */
    const char *constraints[SL_KERNEL_MAX_CONSTRAINTS];
    /* Optional: validates attrs and builds per-node state, once.  Return
     * an error in status (without the node name; the caller adds it). */
    sl_code (*create)(const sl_node *node, void **state, sl_status *status);
    void (*destroy)(void *state);
    /* Exactly one of compute / compute_async is set. */
    void (*compute)(sl_kernel_ctx *ctx);
    void (*compute_async)(sl_kernel_ctx *ctx);
    /* Relative cost hint for scheduling (0: cheap, run inline). */
    int cost;
} sl_kernel_def;

/* Registers a kernel.  The def must stay valid forever (static tables).
 * SL_INVALID_ARGUMENT for a malformed constraint or unknown op;
 * SL_ALREADY_EXISTS when an identical (op, device, constraints) exists. */
SL_API sl_code sl_kernel_register(const sl_kernel_def *def, sl_status *status);

/* The kernel for node on device_type, or NULL with SL_NOT_FOUND and a
 * message like "no CPU kernel for MatMul with T=int8" (node name added). */
SL_API const sl_kernel_def *sl_kernel_lookup(const sl_node *node, const char *device_type,
                                             sl_status *status);

/* Whether some kernel of any device type is registered for op. */
SL_API bool sl_kernel_exists_for_op(const char *op, const char *device_type);

/* ---- Kernel context: what compute() sees ------------------------------ */

SL_API const sl_node *sl_kernel_ctx_node(const sl_kernel_ctx *ctx);
SL_API void *sl_kernel_ctx_state(const sl_kernel_ctx *ctx);  /* from create() */
SL_API int sl_kernel_ctx_num_inputs(const sl_kernel_ctx *ctx);
SL_API int sl_kernel_ctx_num_outputs(const sl_kernel_ctx *ctx);

/* Input i as a value (borrowed for the duration of compute).  For a
 * reference input this is the variable's current value (NULL when the
 * variable is uninitialized and the op allows that). */
SL_API const sl_tensor *sl_kernel_ctx_input(const sl_kernel_ctx *ctx, int i);

/* Input i's variable, for Ref(T) inputs; NULL otherwise.  Borrowed. */
SL_API sl_var *sl_kernel_ctx_input_var(const sl_kernel_ctx *ctx, int i);

/* Allocates output i with `shape` (dtype from the node) and returns it
 * (borrowed; the context owns it).  The elements are NOT zeroed
 * (sl_tensor_new_uninit): the kernel must write every element, and one
 * that accumulates into its output clears it first.  String outputs start
 * empty.  On failure sets the context's error and returns NULL. */
SL_API sl_tensor *sl_kernel_ctx_allocate_output(sl_kernel_ctx *ctx, int i, const sl_shape *shape);

/* Sets output i to t; takes a new reference (the caller keeps its own).
 * Used to forward an input without copying (Identity, Reshape). */
SL_API void sl_kernel_ctx_set_output(sl_kernel_ctx *ctx, int i, sl_tensor *t);

/* Sets reference output i to var (takes a reference to var). */
SL_API void sl_kernel_ctx_set_output_var(sl_kernel_ctx *ctx, int i, sl_var *var);

/* Records an error (the first one wins); the node's outputs are then
 * ignored and the step fails with this status, prefixed with the node. */
SL_API void sl_kernel_ctx_fail(sl_kernel_ctx *ctx, sl_code code, const char *fmt, ...)
    SL_PRINTF(3, 4);
SL_API bool sl_kernel_ctx_ok(const sl_kernel_ctx *ctx);

/* The pool for intra-op parallelism (may be NULL: run inline). */
SL_API sl_threadpool *sl_kernel_ctx_threadpool(const sl_kernel_ctx *ctx);
/* The step's resource manager (variables, queues); may be NULL. */
SL_API sl_resource_mgr *sl_kernel_ctx_resources(const sl_kernel_ctx *ctx);
SL_API int64_t sl_kernel_ctx_step_id(const sl_kernel_ctx *ctx);
/* Whether the step was cancelled (long or blocking kernels poll this). */
SL_API bool sl_kernel_ctx_is_cancelled(const sl_kernel_ctx *ctx);

/* For compute_async kernels: signals completion exactly once, from any
 * thread.  The context must not be used afterwards. */
SL_API void sl_kernel_ctx_done(sl_kernel_ctx *ctx);

/* ---- Variables: a tensor slot with a mutex (TF1 reference variables and
 * resource variables share it) ---------------------------------------- */

/* A new, uninitialized variable with one reference; NULL on OOM. */
SL_API sl_var *sl_var_new(void);
SL_API sl_var *sl_var_ref(sl_var *var);
SL_API void sl_var_unref(sl_var *var);  /* NULL-safe */
SL_API void sl_var_lock(sl_var *var);
SL_API void sl_var_unlock(sl_var *var);
/* Current value (borrowed; hold the lock while using it), or NULL. */
SL_API sl_tensor *sl_var_value(sl_var *var);
/* Replaces the value (takes a new reference to t; t may be NULL).  Call
 * with the lock held. */
SL_API void sl_var_set_value(sl_var *var, sl_tensor *t);
SL_API bool sl_var_is_initialized(sl_var *var);

/* ---- Running one node eagerly ----------------------------------------- */

/* Runs `node`'s CPU kernel once on `inputs` (one per node input; values,
 * borrowed) and returns its outputs in outputs[0..num_outputs) (caller owns
 * each reference).  For tests, constant folding and tools; not for
 * reference/variable inputs.  `pool` may be NULL. */
SL_API sl_code sl_kernel_run_node(const sl_node *node, const sl_tensor *const *inputs,
                                  sl_tensor **outputs, sl_threadpool *pool, sl_status *status);

SL_END_DECLS
