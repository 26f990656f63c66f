/* The kernel context's layout, filled by whoever runs a kernel (the
 * executor, the eager runner).  Internal to the engine. */
#pragma once

#include <stdatomic.h>

#include "sluice/kernel.h"

/* One input or output slot: a value tensor, or a variable for Ref(T). */
typedef struct sl_kernel_value {
    sl_tensor *tensor;  /* reference held by the slot owner */
    sl_var *var;        /* reference held; set for reference edges */
} sl_kernel_value;

struct sl_kernel_ctx {
    const sl_node *node;
    void *state;
    int num_inputs;
    const sl_kernel_value *inputs;  /* borrowed from the runner */
    int num_outputs;
    sl_kernel_value *outputs;       /* owned by the runner; filled by the kernel */
    sl_status *status;              /* first error wins */
    atomic_int failed;
    sl_threadpool *pool;
    sl_resource_mgr *resources;
    int64_t step_id;
    const atomic_int *cancelled;    /* may be NULL */
    void (*done)(sl_kernel_ctx *ctx, void *arg);  /* async completion */
    void *done_arg;
    struct sl__cancel *cancel;      /* the step's cancellation; may be NULL */
    struct sl__rendezvous *rendezvous; /* the step's local rendezvous; may be NULL */
    uint64_t frame_id;              /* loop frame (0: none) and iteration, for Send/Recv keys */
    int64_t iter_id;
};

/* Releases every output slot's references. */
void sl__kernel_values_release(sl_kernel_value *values, int n);

/* Registers the built-in kernels of every compiled device (defined in
 * engine/kernels). */
void sl__kernels_register_builtin(void);
