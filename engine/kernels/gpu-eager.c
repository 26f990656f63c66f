/* Runs one node's GPU kernel outside any session (sl_gpu_run_node): host
 * inputs go to the device, the kernel runs on the compute stream, and the
 * outputs come back to the host.  Also sl_cpu_run_node_vars, the CPU
 * oracle with reference inputs that the GPU tests compare against.
 * This is the smallest complete "GPU partition of one node": the runtime
 * does the same per partition with Send/Recv doing the copies. */
#include "config.h"

#include <pthread.h>
#include <string.h>

#include "cuda/gpu-device.h"
#include "kernel-ctx-private.h"
#include "sluice/alloc.h"

typedef struct wait_state {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool done;
} wait_state;

static void on_done(sl_kernel_ctx *ctx, void *arg)
{
    (void)ctx;
    wait_state *w = arg;
    pthread_mutex_lock(&w->mu);
    w->done = true;
    pthread_cond_signal(&w->cv);
    pthread_mutex_unlock(&w->mu);
}

/* Runs kernel k on in[] and moves its outputs into out[] (references). */
static sl_code run_kernel(const sl_kernel_def *k, const sl_node *node, const sl_kernel_value *in, sl_kernel_value *out,
                          sl_status *status)
{
    void *state = NULL;
    sl_code rc;
    if (k->create && (rc = k->create(node, &state, status)) != SL_OK)
        return sl_status_prefix(status, "node '%s' (%s)", sl_node_name(node), sl_node_op_type(node)), rc;
    sl_kernel_ctx ctx = {
        .node = node, .state = state, .num_inputs = sl_node_num_inputs(node), .inputs = in,
        .num_outputs = sl_node_num_outputs(node), .outputs = out, .status = status,
    };
    atomic_init(&ctx.failed, 0);
    sl_status_clear(status);
    if (k->compute) {
        k->compute(&ctx);
    } else {
        wait_state w = {.done = false};
        pthread_mutex_init(&w.mu, NULL);
        pthread_cond_init(&w.cv, NULL);
        ctx.done = on_done;
        ctx.done_arg = &w;
        k->compute_async(&ctx);
        pthread_mutex_lock(&w.mu);
        while (!w.done)
            pthread_cond_wait(&w.cv, &w.mu);
        pthread_mutex_unlock(&w.mu);
        pthread_mutex_destroy(&w.mu);
        pthread_cond_destroy(&w.cv);
    }
    rc = SL_OK;
    if (!sl_kernel_ctx_ok(&ctx)) {
        sl_status_prefix(status, "node '%s' (%s)", sl_node_name(node), sl_node_op_type(node));
        rc = sl_status_code(status);
    }
    for (int i = 0; rc == SL_OK && i < ctx.num_outputs; i++)
        if (!out[i].tensor && !out[i].var)
            rc = sl_status_set(status, SL_INTERNAL, "node '%s' (%s): kernel left output %d unset", sl_node_name(node),
                               sl_node_op_type(node), i);
    if (state && k->destroy)
        k->destroy(state);
    return rc;
}

/* The value an output slot carries (a variable's current value for refs). */
static sl_tensor *slot_value(sl_kernel_value *v)
{
    if (v->tensor)
        return sl_tensor_ref(v->tensor);
    if (!v->var)
        return NULL;
    sl_var_lock(v->var);
    sl_tensor *t = sl_tensor_ref(sl_var_value(v->var));
    sl_var_unlock(v->var);
    return t;
}

static sl_code run_on(const char *device, sl_gpu_device *dev, const sl_node *node, const sl_tensor *const *inputs,
                      sl_var *const *vars, sl_tensor **outputs, bool keep_on_device, sl_status *status)
{
    const sl_kernel_def *k = sl_kernel_lookup(node, device, status);
    if (!k)
        return sl_status_prefix(status, "node '%s'", sl_node_name(node)), sl_status_code(status);
    int ni = sl_node_num_inputs(node), no = sl_node_num_outputs(node);
    sl_kernel_value *in = sl_calloc((size_t)ni + 1, sizeof(*in));
    sl_kernel_value *out = sl_calloc((size_t)no + 1, sizeof(*out));
    sl_tensor **got = sl_calloc((size_t)no + 1, sizeof(*got));
    sl_code rc = SL_OK;
    if (!in || !out || !got) {
        rc = sl_status_set(status, SL_RESOURCE_EXHAUSTED, "out of memory running node '%s'", sl_node_name(node));
        goto out;
    }
    for (int i = 0; i < ni; i++) {
        if (vars && vars[i]) {
            in[i].var = vars[i];
            sl_var_lock(vars[i]);
            in[i].tensor = sl_tensor_ref(sl_var_value(vars[i]));
            sl_var_unlock(vars[i]);
            continue;
        }
        if (!inputs[i]) {
            rc = sl_status_set(status, SL_INVALID_ARGUMENT, "node '%s': input %d is missing", sl_node_name(node), i);
            goto out;
        }
        if (dev && !sl_gpu_kernel_input_on_host(k, node, i) && !sl__gpu_is_device_tensor(inputs[i])) {
            in[i].tensor = sl_gpu_to_device(dev, inputs[i], status);
            if (!in[i].tensor) {
                rc = sl_status_code(status);
                goto out;
            }
        } else {
            in[i].tensor = sl_tensor_ref((sl_tensor *)inputs[i]);
        }
    }
    if (dev)
        sl_gpu_device_bind(dev);
    rc = run_kernel(k, node, in, out, status);
    if (rc == SL_OK && dev && !keep_on_device)
        rc = sl_gpu_device_sync(dev, status);
    for (int i = 0; rc == SL_OK && i < no; i++) {
        sl_tensor *v = slot_value(&out[i]);
        if (v && dev && !keep_on_device && !sl_gpu_kernel_output_on_host(k, node, i)) {
            got[i] = sl_gpu_to_host(dev, v, status);
            sl_tensor_unref(v);
            if (!got[i])
                rc = sl_status_code(status);
        } else {
            got[i] = v;
        }
    }
    if (rc == SL_OK) {
        for (int i = 0; i < no; i++)
            outputs[i] = got[i];
        sl_status_clear(status);
    } else {
        for (int i = 0; i < no; i++)
            sl_tensor_unref(got[i]);
    }
out:
    if (in) {
        for (int i = 0; i < ni; i++)
            sl_tensor_unref(in[i].tensor);  /* vars stay borrowed */
    }
    if (out)
        sl__kernel_values_release(out, no);
    sl_free(in);
    sl_free(out);
    sl_free(got);
    return rc;
}

sl_code sl_gpu_run_node(sl_gpu_device *dev, const sl_node *node, const sl_tensor *const *inputs, sl_var *const *vars,
                        sl_tensor **outputs, sl_status *status)
{
    if (!dev)
        return sl_status_set(status, SL_INVALID_ARGUMENT, "no GPU device given");
    return run_on(SL_DEVICE_GPU, dev, node, inputs, vars, outputs, false, status);
}

sl_code sl__gpu_run_node_device(sl_gpu_device *dev, const sl_node *node, const sl_tensor *const *inputs,
                                sl_tensor **outputs, sl_status *status)
{
    if (!dev)
        return sl_status_set(status, SL_INVALID_ARGUMENT, "no GPU device given");
    return run_on(SL_DEVICE_GPU, dev, node, inputs, NULL, outputs, true, status);
}

sl_code sl_cpu_run_node_vars(const sl_node *node, const sl_tensor *const *inputs, sl_var *const *vars,
                             sl_tensor **outputs, sl_status *status)
{
    return run_on(SL_DEVICE_CPU, NULL, node, inputs, vars, outputs, false, status);
}
