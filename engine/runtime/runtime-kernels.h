/* Kernels that belong to the runtime rather than to the math library:
 * control flow, variables, queues, Send/Recv.  They use the executor's
 * internals (cancellation, rendezvous, resource manager).  Internal. */
#pragma once

#include "kernel-ctx-private.h"
#include "sluice/kernel.h"
#include "sluice/resource.h"

/* Registers a static table; a bad def is a programmer error and aborts. */
void sl__runtime_register_table(const sl_kernel_def *defs, int n);

void sl__kernels_register_control_flow(void);
void sl__kernels_register_state(void);
void sl__kernels_register_queues(void);
void sl__kernels_register_send_recv(void);
void sl__kernels_register_stacks(void);

/* All of the above; called from the CPU kernel list (cpu-kernels.c). */
void sl__runtime_kernels_register(void);

#define SL_RESOURCE_NAME_MAX 512

/* The resource name a stateful node uses: shared_name, else its name,
 * NUL-terminated into buf (truncated to n - 1 bytes). */
void sl__resource_name(const sl_node *node, char *buf, size_t n);
/* The node's container attr ("" when unset). */
void sl__resource_container(const sl_node *node, char *buf, size_t n);
