/* The list of CPU kernel families, registered on the first kernel lookup. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>

#include "cpu-kernels.h"

void sl__kernel_register_table(const sl_kernel_def *defs, int n)
{
    sl_status *st = sl_status_new();
    for (int i = 0; i < n; i++) {
        if (sl_kernel_register(&defs[i], st) != SL_OK) {
            fprintf(stderr, "sluice: bad built-in kernel: %s\n", sl_status_message(st));
            abort();
        }
    }
    sl_status_free(st);
}

void sl__kernels_register_basic(void);
void sl__runtime_kernels_register(void);  /* engine/runtime: control flow, state, queues, send/recv */

void sl__kernels_register_builtin(void)
{
    sl__kernels_register_basic();
    sl__runtime_kernels_register();
}
