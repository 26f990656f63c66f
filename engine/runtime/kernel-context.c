/* The kernel context: accessors kernels use to read inputs, allocate and
 * set outputs, and report errors. */
#include "config.h"

#include <stdio.h>

#include "kernel-ctx-private.h"
#include "sluice/alloc.h"

const sl_node *sl_kernel_ctx_node(const sl_kernel_ctx *ctx) { return ctx->node; }
void *sl_kernel_ctx_state(const sl_kernel_ctx *ctx) { return ctx->state; }
int sl_kernel_ctx_num_inputs(const sl_kernel_ctx *ctx) { return ctx->num_inputs; }
int sl_kernel_ctx_num_outputs(const sl_kernel_ctx *ctx) { return ctx->num_outputs; }
sl_threadpool *sl_kernel_ctx_threadpool(const sl_kernel_ctx *ctx) { return ctx->pool; }
sl_resource_mgr *sl_kernel_ctx_resources(const sl_kernel_ctx *ctx) { return ctx->resources; }
int64_t sl_kernel_ctx_step_id(const sl_kernel_ctx *ctx) { return ctx->step_id; }

bool sl_kernel_ctx_is_cancelled(const sl_kernel_ctx *ctx)
{
    return ctx->cancelled && atomic_load(ctx->cancelled);
}

const sl_tensor *sl_kernel_ctx_input(const sl_kernel_ctx *ctx, int i)
{
    if (i < 0 || i >= ctx->num_inputs)
        return NULL;
    return ctx->inputs[i].tensor;
}

sl_var *sl_kernel_ctx_input_var(const sl_kernel_ctx *ctx, int i)
{
    if (i < 0 || i >= ctx->num_inputs)
        return NULL;
    return ctx->inputs[i].var;
}

void sl_kernel_ctx_fail(sl_kernel_ctx *ctx, sl_code code, const char *fmt, ...)
{
    int expected = 0;
    if (!atomic_compare_exchange_strong(&ctx->failed, &expected, 1))
        return;  /* the first error wins */
    va_list ap;
    va_start(ap, fmt);
    sl_status_setv(ctx->status, code, fmt, ap);
    va_end(ap);
}

bool sl_kernel_ctx_ok(const sl_kernel_ctx *ctx)
{
    return !atomic_load(&((sl_kernel_ctx *)ctx)->failed);
}

sl_tensor *sl_kernel_ctx_allocate_output(sl_kernel_ctx *ctx, int i, const sl_shape *shape)
{
    if (i < 0 || i >= ctx->num_outputs) {
        sl_kernel_ctx_fail(ctx, SL_INTERNAL, "kernel allocated output %d of %d", i, ctx->num_outputs);
        return NULL;
    }
    sl_status *st = sl_status_new();
    sl_tensor *t = sl_tensor_new_uninit(sl_dtype_base(sl_node_output_type(ctx->node, i)), shape, st);
    if (!t) {
        sl_kernel_ctx_fail(ctx, sl_status_code(st), "output %d: %s", i, sl_status_message(st));
        sl_status_free(st);
        return NULL;
    }
    sl_status_free(st);
    sl_tensor_unref(ctx->outputs[i].tensor);
    ctx->outputs[i].tensor = t;
    return t;
}

void sl_kernel_ctx_set_output(sl_kernel_ctx *ctx, int i, sl_tensor *t)
{
    if (i < 0 || i >= ctx->num_outputs) {
        sl_kernel_ctx_fail(ctx, SL_INTERNAL, "kernel set output %d of %d", i, ctx->num_outputs);
        return;
    }
    sl_tensor_ref(t);
    sl_tensor_unref(ctx->outputs[i].tensor);
    ctx->outputs[i].tensor = t;
}

void sl_kernel_ctx_set_output_var(sl_kernel_ctx *ctx, int i, sl_var *var)
{
    if (i < 0 || i >= ctx->num_outputs) {
        sl_kernel_ctx_fail(ctx, SL_INTERNAL, "kernel set output %d of %d", i, ctx->num_outputs);
        return;
    }
    sl_var_ref(var);
    sl_var_unref(ctx->outputs[i].var);
    ctx->outputs[i].var = var;
}

void sl_kernel_ctx_done(sl_kernel_ctx *ctx)
{
    if (ctx->done)
        ctx->done(ctx, ctx->done_arg);
}

void sl__kernel_values_release(sl_kernel_value *values, int n)
{
    for (int i = 0; i < n; i++) {
        sl_tensor_unref(values[i].tensor);
        sl_var_unref(values[i].var);
        values[i].tensor = NULL;
        values[i].var = NULL;
    }
}
