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

/* A Placeholder only runs when a step needs it and nobody fed it. */
static void placeholder_compute(sl_kernel_ctx *ctx)
{
    const sl_node *n = sl_kernel_ctx_node(ctx);
    sl_dtype dt = SL_DTYPE_FLOAT;
    sl_node_attr_type(n, "dtype", &dt);
    char shape[SL_SHAPE_STRING_MAX];
    sl_shape_to_string(sl_node_output_shape(n, 0), shape, sizeof(shape));
    sl_kernel_ctx_fail(ctx, SL_INVALID_ARGUMENT, "you must feed a value for placeholder tensor '%s' with dtype %s and shape %s",
                       sl_node_name(n), sl_dtype_name(dt), shape);
}

static const sl_kernel_def placeholder_kernels[] = {
    {.op = "Placeholder", .device = SL_DEVICE_CPU, .compute = placeholder_compute},
};

void sl__runtime_kernels_register(void)
{
    sl__runtime_register_table(placeholder_kernels, 1);
    sl__kernels_register_control_flow();
    sl__kernels_register_state();
    sl__kernels_register_queues();
    sl__kernels_register_send_recv();
    sl__kernels_register_stacks();
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
