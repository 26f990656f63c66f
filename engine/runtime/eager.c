/* Runs one node's CPU kernel outside any session: for tests, constant
 * folding and tools.  Synchronous; async kernels are waited for. */
#include "config.h"

#include <pthread.h>
#include <string.h>

#include "kernel-ctx-private.h"
#include "sluice/alloc.h"

typedef struct eager_wait {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool done;
} eager_wait;

static void eager_done(sl_kernel_ctx *ctx, void *arg)
{
    (void)ctx;
    eager_wait *w = arg;
    pthread_mutex_lock(&w->mu);
    w->done = true;
    pthread_cond_signal(&w->cv);
    pthread_mutex_unlock(&w->mu);
}

sl_code sl_kernel_run_node(const sl_node *node, const sl_tensor *const *inputs, sl_tensor **outputs,
                           sl_threadpool *pool, sl_status *status)
{
    const sl_kernel_def *k = sl_kernel_lookup(node, SL_DEVICE_CPU, status);
    if (!k) {
        sl_status_prefix(status, "node '%s'", sl_node_name(node));
        return sl_status_code(status);
    }
    int ni = sl_node_num_inputs(node), no = sl_node_num_outputs(node);
    for (int i = 0; i < ni; i++) {
        if (sl_dtype_is_ref(sl_node_input_type(node, i)))
            return sl_status_set(status, SL_INVALID_ARGUMENT,
                                 "node '%s' (%s): input %d is a reference; run it in a session",
                                 sl_node_name(node), sl_node_op_type(node), i);
        if (!inputs[i] || sl_tensor_dtype(inputs[i]) != sl_node_input_type(node, i))
            return sl_status_set(status, SL_INVALID_ARGUMENT,
                                 "node '%s' (%s): input %d should be %s but is %s", sl_node_name(node),
                                 sl_node_op_type(node), i, sl_dtype_name(sl_node_input_type(node, i)),
                                 inputs[i] ? sl_dtype_name(sl_tensor_dtype(inputs[i])) : "missing");
    }
    sl_kernel_value *in = sl_calloc((size_t)ni + 1, sizeof(*in));
    sl_kernel_value *out = sl_calloc((size_t)no + 1, sizeof(*out));
    void *state = NULL;
    sl_code rc = SL_OK;
    if (!in || !out) {
        rc = sl_status_set(status, SL_RESOURCE_EXHAUSTED, "out of memory running node '%s'", sl_node_name(node));
        goto out;
    }
    for (int i = 0; i < ni; i++)
        in[i].tensor = (sl_tensor *)inputs[i];  /* borrowed: not released below */
    if (k->create && (rc = k->create(node, &state, status)) != SL_OK) {
        sl_status_prefix(status, "node '%s' (%s)", sl_node_name(node), sl_node_op_type(node));
        goto out;
    }
    sl_kernel_ctx ctx = {
        .node = node, .state = state, .num_inputs = ni, .inputs = in, .num_outputs = no,
        .outputs = out, .status = status, .pool = pool,
    };
    atomic_init(&ctx.failed, 0);
    sl_status_clear(status);
    if (k->compute) {
        k->compute(&ctx);
    } else {
        eager_wait w = {.done = false};
        pthread_mutex_init(&w.mu, NULL);
        pthread_cond_init(&w.cv, NULL);
        ctx.done = eager_done;
        ctx.done_arg = &w;
        k->compute_async(&ctx);
        pthread_mutex_lock(&w.mu);
        while (!w.done)
            pthread_cond_wait(&w.cv, &w.mu);
        pthread_mutex_unlock(&w.mu);
        pthread_mutex_destroy(&w.mu);
        pthread_cond_destroy(&w.cv);
    }
    if (!sl_kernel_ctx_ok(&ctx)) {
        sl_status_prefix(status, "node '%s' (%s)", sl_node_name(node), sl_node_op_type(node));
        rc = sl_status_code(status);
        goto out;
    }
    for (int i = 0; i < no; i++) {
        if (!out[i].tensor) {
            rc = sl_status_set(status, SL_INTERNAL, "node '%s' (%s): kernel left output %d unset",
                               sl_node_name(node), sl_node_op_type(node), i);
            goto out;
        }
    }
    for (int i = 0; i < no; i++) {
        outputs[i] = out[i].tensor;
        out[i].tensor = NULL;
    }
out:
    if (state && k->destroy)
        k->destroy(state);
    if (out)
        sl__kernel_values_release(out, no);
    sl_free(in);
    sl_free(out);
    return rc;
}
