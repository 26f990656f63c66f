/* Registration of the runtime's kernels and helpers they share. */
#include "config.h"

#include "runtime-kernels.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void sl__runtime_register_table(const sl_kernel_def *defs, int n)
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

void sl__runtime_kernels_register(void)
{
    sl__kernels_register_control_flow();
    sl__kernels_register_state();
    sl__kernels_register_queues();
    sl__kernels_register_send_recv();
}

static void attr_string(const sl_node *node, const char *attr, const char *fallback, char *buf, size_t n)
{
    const char *s;
    size_t len;
    if (sl_node_attr_string(node, attr, &s, &len) && len > 0) {
        if (len >= n)
            len = n - 1;
        memcpy(buf, s, len);
        buf[len] = '\0';
    } else {
        snprintf(buf, n, "%s", fallback);
    }
}

void sl__resource_name(const sl_node *node, char *buf, size_t n)
{
    attr_string(node, "shared_name", sl_node_name(node), buf, n);
}

void sl__resource_container(const sl_node *node, char *buf, size_t n)
{
    attr_string(node, "container", "", buf, n);
}
