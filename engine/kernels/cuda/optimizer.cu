/* The optimizer updates on the GPU, with the CPU's update rules
 * (engine/train/kernels/training-kernels.c): ApplyGradientDescent,
 * ApplyMomentum (and Nesterov), ApplyAdam (and Nesterov), ApplyAdagrad,
 * ApplyRMSProp, float and double, on reference variables whose values are
 * device tensors.
 *
 * Each locks its variables in input order, makes a variable's buffer its
 * own when a step still reads it (copy on write, on the device), and
 * queues one kernel that updates in place.  The hyperparameters are device
 * scalars read by the kernel, so no host round trip is needed. */
#include <math.h>
#include <string.h>

#include "cuda-common.cuh"
#include "optimizer.cuh"

enum { O_GD, O_MOMENTUM, O_ADAM, O_ADAGRAD, O_RMSPROP };

template <typename T> struct upd_args {
    T *var;
    T *s1;
    T *s2;
    const T *g;
    const T *sc[6];  /* the op's scalars in input order */
    bool flag;       /* use_nesterov / update_slots */
};

template <typename T> __global__ void update_kernel(int op, upd_args<T> a, int64_t n)
{
    SL_CUDA_FOR(i, n)
    {
        T g = a.g[i];
        switch (op) {
        case O_GD:
            a.var[i] -= *a.sc[0] * g;
            break;
        case O_MOMENTUM: {
            T lr = *a.sc[0], mom = *a.sc[1];
            a.s1[i] = a.s1[i] * mom + g;
            if (a.flag)
                a.var[i] -= g * lr + a.s1[i] * (T)((double)mom * (double)lr);
            else
                a.var[i] -= a.s1[i] * lr;
            break;
        }
        case O_ADAM: {
            double b1p = *a.sc[0], b2p = *a.sc[1], lr = *a.sc[2], b1 = *a.sc[3], b2 = *a.sc[4], eps = *a.sc[5];
            double alpha = lr * sqrt(1 - b2p) / (1 - b1p);
            a.s1[i] += (g - a.s1[i]) * (T)(1 - b1);
            a.s2[i] += (g * g - a.s2[i]) * (T)(1 - b2);
            if (a.flag)
                a.var[i] -= (T)alpha * (a.s1[i] * (T)b1 + (T)(1 - b1) * g) / ((T)sqrt((double)a.s2[i]) + (T)eps);
            else
                a.var[i] -= (T)alpha * a.s1[i] / ((T)sqrt((double)a.s2[i]) + (T)eps);
            break;
        }
        case O_ADAGRAD:
            if (a.flag)
                a.s1[i] += g * g;
            a.var[i] -= g * *a.sc[0] / (T)sqrt((double)a.s1[i]);
            break;
        case O_RMSPROP: {
            T lr = *a.sc[0], rho = *a.sc[1], mom = *a.sc[2], eps = *a.sc[3];
            a.s1[i] += (g * g - a.s1[i]) * (T)(1 - rho);
            a.s2[i] = a.s2[i] * mom + g * lr / (T)sqrt((double)(a.s1[i] + eps));
            a.var[i] -= a.s2[i];
            break;
        }
        }
    }
}

typedef struct opt_info {
    const char *op;
    int code;
    int nvars;
    int grad;        /* input index of the gradient */
    int sc[6];       /* input indices of the scalars, -1 ends */
    const char *flag;
    bool flag_default;
} opt_info;

static const opt_info opts[] = {
    {"ApplyGradientDescent", O_GD, 1, 2, {1, -1}, NULL, false},
    {"ApplyMomentum", O_MOMENTUM, 2, 3, {2, 4, -1}, "use_nesterov", false},
    {"ApplyAdam", O_ADAM, 3, 9, {3, 4, 5, 6, 7, 8}, "use_nesterov", false},
    {"ApplyAdagrad", O_ADAGRAD, 2, 3, {2, -1}, "update_slots", true},
    {"ApplyRMSProp", O_RMSPROP, 3, 7, {3, 4, 5, 6}, NULL, false},
};

static void update_compute(sl_kernel_ctx *ctx)
{
    const char *opname = sl_node_op_type(sl_kernel_ctx_node(ctx));
    const opt_info *o = NULL;
    for (size_t i = 0; i < sizeof(opts) / sizeof(opts[0]); i++)
        if (!strcmp(opts[i].op, opname))
            o = &opts[i];
    sl_gpu_device *dev = sl__gpu_ctx_device(ctx);
    if (!o || !dev)
        return;
    const sl_tensor *grad = sl_kernel_ctx_input(ctx, o->grad);
    sl_var *vars[3] = {NULL, NULL, NULL};
    void *data[3] = {NULL, NULL, NULL};
    int locked = 0;
    for (int i = 0; i < o->nvars; i++) {
        sl_var *v = sl_kernel_ctx_input_var(ctx, i);
        if (!v) {
            sl_kernel_ctx_fail(ctx, SL_INVALID_ARGUMENT, "input %d is not a variable", i);
            goto out;
        }
        sl_var_lock(v);
        vars[locked++] = v;
        sl_tensor *t = sl_var_value(v);
        if (!t) {
            sl_output src = sl_node_input(sl_kernel_ctx_node(ctx), i);
            sl_kernel_ctx_fail(ctx, SL_FAILED_PRECONDITION, "attempting to use uninitialized value %s",
                               src.node ? sl_node_name(src.node) : "(unknown)");
            goto out;
        }
        if (!sl_shape_equal(sl_tensor_shape(t), sl_tensor_shape(grad))) {
            sl_kernel_ctx_fail(ctx, SL_INVALID_ARGUMENT, "variable %d and the gradient differ in shape", i);
            goto out;
        }
        if (sl_tensor_refcount(t) > 1) {
            sl_status *st = sl_status_new();
            sl_tensor *c = st ? sl__gpu_copy_on_device(dev, t, st) : NULL;
            sl_status_free(st);
            if (!c) {
                sl_kernel_ctx_fail(ctx, SL_RESOURCE_EXHAUSTED, "out of memory copying a variable on the GPU");
                goto out;
            }
            sl_var_set_value(v, c);
            sl_tensor_unref(c);
            t = c;
        }
        data[i] = sl_tensor_data(t);
    }
    {
        bool flag = o->flag_default;
        if (o->flag)
            sl_node_attr_bool(sl_kernel_ctx_node(ctx), o->flag, &flag);
        int64_t n = sl_tensor_num_elements(grad);
        void *stream = sl__gpu_stream(dev);
        if (n) {
            SL_CUDA_DISPATCH_FLOAT(ctx, sl_tensor_dtype(grad), {
                upd_args<T> a = {};
                a.var = (T *)data[0];
                a.s1 = (T *)data[1];
                a.s2 = (T *)data[2];
                a.g = (const T *)sl_tensor_data(grad);
                for (int k = 0; k < 6 && o->sc[k] >= 0; k++)
                    a.sc[k] = (const T *)sl_tensor_data(sl_kernel_ctx_input(ctx, o->sc[k]));
                a.flag = flag;
                SL_CUDA_LAUNCH(update_kernel<T>, n, stream, o->code, a, n);
            });
            cudaError_t e = cudaPeekAtLastError();
            if (e != cudaSuccess)
                sl_kernel_ctx_fail(ctx, SL_INTERNAL, "%s: %s", opname, cudaGetErrorString(e));
        }
    }
out:
    for (int i = locked - 1; i >= 0; i--)
        sl_var_unlock(vars[i]);
    if (locked == o->nvars && sl_kernel_ctx_ok(ctx))
        sl_kernel_ctx_set_output_var(ctx, 0, vars[0]);
}

void sl__cuda_register_optimizer(void)
{
    for (size_t i = 0; i < sizeof(opts) / sizeof(opts[0]); i++)
        sl__cuda_reg(opts[i].op, SL_CUDA_FLOATS, NULL, update_compute, 0, 0);
}
