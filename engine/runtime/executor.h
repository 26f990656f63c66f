/* The executor: runs a prepared plan as a dataflow over a thread pool
 * (paper 3.1, 4.4).  Internal to the runtime; sessions are its users.
 *
 * Preparation (sl__executor_new) looks up and creates every kernel, assigns
 * each node to its loop frame, and lays out per-frame input slots and
 * pending counts.  A step (sl__executor_run) copies the pending counts,
 * activates the feeds and the nodes without inputs, and runs ready nodes:
 * cheap ones inline on the current thread, expensive ones on the pool
 * except one the current thread keeps (all of them with nodes_inline).
 *
 * Thread-safety: an executor is immutable after creation; any number of
 * steps may run on it at once. */
#pragma once

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "plan.h"
#include "sluice/kernel.h"
#include "sluice/resource.h"
#include "sluice/session.h"
#include "sluice/threadpool.h"

typedef struct sl_executor sl_executor;
typedef struct sl__cancel sl__cancel;

/* Takes the plan's folded tensors (the plan stays the caller's).  NULL +
 * status naming the node when a kernel is missing or refuses its attrs, or
 * when the control flow is malformed. */
sl_executor *sl__executor_new(sl__plan *plan, sl_status *status);
/* The same for a partition on a device of `device_type` (SL_DEVICE_CPU or
 * SL_DEVICE_GPU): kernels are looked up for that type, and on a GPU each
 * node's inputs are moved to the memory its kernel takes them in, the step
 * ends by waiting for the device, and fetches come back as host tensors. */
sl_executor *sl__executor_new_on(sl__plan *plan, const char *device_type, sl_status *status);
void sl__executor_free(sl_executor *ex);
int sl__executor_num_nodes(const sl_executor *ex);

typedef struct sl__step_args {
    sl_tensor *const *feeds;     /* one per plan feed, borrowed */
    sl_tensor **fetches;         /* one per plan fetch; filled (caller owns) */
    sl_threadpool *pool;         /* runs ready nodes beside the calling thread */
    sl_threadpool *kernel_pool;  /* handed to kernels to split their work over; NULL: one thread each */
    bool nodes_inline;           /* every node on the calling thread; the pool only continues
                                    asynchronous kernels (and takes all nodes when timeout_ms > 0) */
    sl_resource_mgr *resources;
    int64_t step_id;
    sl__cancel *cancel;          /* the step's cancellation; may be NULL */
    int64_t timeout_ms;          /* > 0: DEADLINE_EXCEEDED after this long */
    bool collect_stats;
    sl_step_stats *stats;        /* filled when collect_stats */
    struct sl__rendezvous *rendezvous; /* shared by the partitions of a step; NULL: the step's own */
    const char *device;          /* full device name for step stats; NULL: CPU:0 */
} sl__step_args;

/* Runs one step and waits for it.  On failure every fetch is NULL. */
sl_code sl__executor_run(sl_executor *ex, const sl__step_args *args, sl_status *status);

/* ---- Cancellation ---------------------------------------------------- */

typedef void (*sl__cancel_fn)(void *arg);

/* A cancellation point: a flag and callbacks run once when it is set. */
sl__cancel *sl__cancel_new(void);
void sl__cancel_free(sl__cancel *c);
/* Sets the flag with `code` and message (the first call wins) and runs the
 * registered callbacks on this thread, outside the cancel's lock. */
void sl__cancel_fire(sl__cancel *c, sl_code code, const char *msg);
bool sl__cancel_is_fired(const sl__cancel *c);
const atomic_int *sl__cancel_flag(const sl__cancel *c);
/* Copies the reason (code and message) into st. */
void sl__cancel_reason(sl__cancel *c, sl_status *st);
/* Registers fn(arg).  Returns a token > 0, or 0 when already fired (fn is
 * then not registered: the caller cancels itself). */
int64_t sl__cancel_register(sl__cancel *c, sl__cancel_fn fn, void *arg);
/* Removes a registration.  Returns true when removed before firing; false
 * when the callback has run or is about to run (it owns its arg then). */
bool sl__cancel_deregister(sl__cancel *c, int64_t token);
