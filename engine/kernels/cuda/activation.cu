/* Relu, Sigmoid, Tanh and Elu forward on cuDNN (cudnnActivationForward)
 * for float and double: the tensor is viewed as one [1, 1, 1, n] row.
 * Their gradients are plain elementwise kernels (elementwise.cu), since
 * TF's gradient ops take features or outputs, not both as cuDNN does. */
#include <cudnn.h>
#include <string.h>

#include "activation.cuh"
#include "cuda-common.cuh"

static void activation_compute(sl_kernel_ctx *ctx)
{
    const char *op = sl_node_op_type(sl_kernel_ctx_node(ctx));
    const sl_tensor *x = sl_kernel_ctx_input(ctx, 0);
    sl_tensor *y = sl__gpu_output(ctx, 0, sl_tensor_shape(x));
    int64_t n = sl_tensor_num_elements(x);
    if (!y || !n)
        return;
    if (n > INT32_MAX) {
        sl_kernel_ctx_fail(ctx, SL_UNIMPLEMENTED, "%s on the GPU takes at most 2^31-1 elements", op);
        return;
    }
    cudnnActivationMode_t mode = !strcmp(op, "Relu") ? CUDNN_ACTIVATION_RELU
                               : !strcmp(op, "Sigmoid") ? CUDNN_ACTIVATION_SIGMOID
                               : !strcmp(op, "Tanh") ? CUDNN_ACTIVATION_TANH : CUDNN_ACTIVATION_ELU;
    bool dbl = sl_tensor_dtype(x) == SL_DTYPE_DOUBLE;
    sl_gpu_device *dev = sl__gpu_current();
    cudnnTensorDescriptor_t desc = NULL;
    cudnnActivationDescriptor_t act = NULL;
    cudnnStatus_t s = cudnnCreateTensorDescriptor(&desc);
    if (s == CUDNN_STATUS_SUCCESS)
        s = cudnnSetTensor4dDescriptor(desc, CUDNN_TENSOR_NCHW, dbl ? CUDNN_DATA_DOUBLE : CUDNN_DATA_FLOAT, 1, 1, 1,
                                       (int)n);
    if (s == CUDNN_STATUS_SUCCESS)
        s = cudnnCreateActivationDescriptor(&act);
    if (s == CUDNN_STATUS_SUCCESS)
        s = cudnnSetActivationDescriptor(act, mode, CUDNN_NOT_PROPAGATE_NAN, 1.0);
    if (s == CUDNN_STATUS_SUCCESS) {
        double one = 1, zero = 0;
        float onef = 1, zerof = 0;
        sl__gpu_lock(dev);
        s = cudnnActivationForward((cudnnHandle_t)sl__gpu_cudnn(dev), act, dbl ? (void *)&one : (void *)&onef, desc,
                                   sl_tensor_data(x), dbl ? (void *)&zero : (void *)&zerof, desc, sl_tensor_data(y));
        sl__gpu_unlock(dev);
    }
    if (s != CUDNN_STATUS_SUCCESS)
        sl_kernel_ctx_fail(ctx, SL_INTERNAL, "cuDNN %s: %s", op, cudnnGetErrorString(s));
    cudnnDestroyActivationDescriptor(act);
    cudnnDestroyTensorDescriptor(desc);
}

void sl__cuda_register_activation(void)
{
    sl__cuda_reg("Relu", SL_CUDA_FLOATS, NULL, activation_compute, 0, 0);
    sl__cuda_reg("Sigmoid", SL_CUDA_FLOATS, NULL, activation_compute, 0, 0);
    sl__cuda_reg("Tanh", SL_CUDA_FLOATS, NULL, activation_compute, 0, 0);
    sl__cuda_reg("Elu", SL_CUDA_FLOATS, NULL, activation_compute, 0, 0);
}
