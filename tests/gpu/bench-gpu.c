/* GPU benchmark: Sluice's MatMul and Conv2D kernels (through the kernel
 * interface, inputs already on the device) against raw cuBLAS on the same
 * buffers, in the same run.  Prints one line per case:
 *   gpu <case> sluice <ms> peer <ms> ratio <sluice/peer>
 * The Conv2D peer (PyTorch on the same GPU) is measured by run-all.sh.
 * Not a pass/fail test; exits 77 without a GPU. */
#include <cublas_v2.h>
#include <cuda_runtime.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "gpu-device.h"
#include "sluice/graph.h"

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static sl_tensor *device_random(sl_gpu_device *dev, sl_shape s)
{
    sl_status *st = sl_status_new();
    sl_tensor *h = sl_tensor_new(SL_DTYPE_FLOAT, &s, st);
    float *p = sl_tensor_data(h);
    for (int64_t i = 0; i < sl_tensor_num_elements(h); i++)
        p[i] = (float)((i * 2654435761u) % 1000) / 1000.0f - 0.5f;
    sl_tensor *d = sl_gpu_to_device(dev, h, st);
    sl_tensor_unref(h);
    sl_status_free(st);
    return d;
}

static sl_node *node2(sl_graph *g, const char *op, sl_node **ph)
{
    sl_status *st = sl_status_new();
    for (int i = 0; i < 2; i++) {
        char name[8];
        snprintf(name, sizeof(name), "in%d", i);
        sl_node_builder *p = sl_node_builder_new(g, "Placeholder", name);
        sl_node_builder_set_attr_type(p, "dtype", SL_DTYPE_FLOAT);
        ph[i] = sl_node_builder_finish(p, st);
    }
    sl_node_builder *b = sl_node_builder_new(g, op, "op");
    sl_node_builder_add_input(b, (sl_output){ph[0], 0});
    sl_node_builder_add_input(b, (sl_output){ph[1], 0});
    if (!strcmp(op, "Conv2D")) {
        int64_t strides[4] = {1, 1, 1, 1};
        sl_node_builder_set_attr_int_list(b, "strides", strides, 4);
        sl_node_builder_set_attr_string(b, "padding", "SAME", 4);
    }
    sl_node *n = sl_node_builder_finish(b, st);
    sl_status_free(st);
    return n;
}

/* Mean milliseconds of `reps` runs of node on device inputs. */
static double time_node(sl_gpu_device *dev, sl_node *n, const sl_tensor *const *in, int reps)
{
    sl_status *st = sl_status_new();
    double t0 = 0;
    for (int r = -3; r < reps; r++) {
        if (r == 0) {
            sl_gpu_device_sync(dev, st);
            t0 = now_ms();
        }
        sl_tensor *out = NULL;
        if (sl__gpu_run_node_device(dev, n, in, &out, st) != SL_OK) {
            fprintf(stderr, "bench: %s\n", sl_status_message(st));
            return -1;
        }
        sl_tensor_unref(out);
    }
    sl_gpu_device_sync(dev, st);
    sl_status_free(st);
    return (now_ms() - t0) / reps;
}

int main(void)
{
    sl_status *st = sl_status_new();
    sl_gpu_device *dev = sl_gpu_device_get(0, st);
    if (!dev) {
        printf("skipped: %s\n", sl_gpu_message());
        return 77;
    }
    sl_gpu_device_bind(dev);
    printf("# %s\n", sl_gpu_message());
    cublasHandle_t h;
    cublasCreate(&h);
    for (int c = 0; c < 2; c++) {
        int64_t n = c ? 4096 : 1024;
        sl_graph *g = sl_graph_new(st);
        sl_node *ph[2];
        sl_node *mm = node2(g, "MatMul", ph);
        sl_tensor *a = device_random(dev, sl_shape_matrix(n, n)), *b = device_random(dev, sl_shape_matrix(n, n));
        const sl_tensor *in[] = {a, b};
        int reps = c ? 20 : 100;
        double ours = time_node(dev, mm, in, reps);
        float *cbuf;
        cudaMalloc((void **)&cbuf, (size_t)(n * n) * sizeof(float));
        const float one = 1, zero = 0;
        double t0 = 0;
        for (int r = -3; r < reps; r++) {
            if (r == 0) {
                cudaDeviceSynchronize();
                t0 = now_ms();
            }
            cublasSgemm(h, CUBLAS_OP_N, CUBLAS_OP_N, (int)n, (int)n, (int)n, &one, sl_tensor_data(b), (int)n,
                        sl_tensor_data(a), (int)n, &zero, cbuf, (int)n);
        }
        cudaDeviceSynchronize();
        double peer = (now_ms() - t0) / reps;
        printf("gpu matmul-%lld sluice %.3f ms (%.0f GFLOP/s) peer cublas %.3f ms ratio %.2f\n", (long long)n, ours,
               2.0 * n * n * n / ours / 1e6, peer, ours / peer);
        cudaFree(cbuf);
        sl_tensor_unref(a), sl_tensor_unref(b);
        sl_graph_free(g);
    }
    {   /* the CNN's middle layer: [64, 28, 28, 32] * [3, 3, 32, 64], SAME */
        sl_graph *g = sl_graph_new(st);
        sl_node *ph[2];
        sl_node *conv = node2(g, "Conv2D", ph);
        int64_t xd[] = {64, 28, 28, 32}, fd[] = {3, 3, 32, 64};
        sl_tensor *x = device_random(dev, sl_shape_make(4, xd)), *f = device_random(dev, sl_shape_make(4, fd));
        const sl_tensor *in[] = {x, f};
        double ours = time_node(dev, conv, in, 50);
        printf("gpu conv2d-64x28x28x32-3x3x64 sluice %.3f ms\n", ours);
        sl_tensor_unref(x), sl_tensor_unref(f);
        sl_graph_free(g);
    }
    cublasDestroy(h);
    sl_status_free(st);
    return 0;
}
