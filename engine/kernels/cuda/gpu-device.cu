/* The CUDA GPU device: probing, one device object per GPU (a compute
 * stream, two copy streams, cuBLAS and cuDNN handles), a caching
 * allocator over cudaMalloc, host<->device copies, the thread's bound
 * device, and the pool of GPU kernel definitions.
 *
 * The caching allocator rounds requests up (512 bytes below 1 MiB, 1 MiB
 * above) and keeps freed blocks in a size-ordered free list; a request
 * takes the smallest cached block that fits and is at most twice its size.
 * When cudaMalloc fails, the cache is emptied and the call retried.  All
 * device work runs on the compute stream, so a freed block can be handed
 * to the next request at once (stream order protects it).  Host-to-device
 * copies run on their own stream after waiting for the compute stream (a
 * reused block may still be read there), and the compute stream waits for
 * the copy before it uses the new tensor.  Costs: one mutex per allocation
 * and free, O(log n) in the number of cached blocks.
 */
#include <cublas_v2.h>
#include <cuda_runtime.h>
#include <cudnn.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <map>
#include <unordered_map>

#include "cuda-common.cuh"

struct sl_gpu_device {
    int id;
    cudaStream_t compute;
    cudaStream_t h2d;
    cudaStream_t d2h;
    cublasHandle_t cublas;
    cudnnHandle_t cudnn;
    pthread_mutex_t lib_mu;   /* cuBLAS / cuDNN handles */
    pthread_mutex_t mem_mu;   /* allocator */
    std::multimap<size_t, void *> *free_blocks;
    std::unordered_map<void *, size_t> *block_size;
    sl_gpu_memory_stats stats;
};

#define MAX_GPUS 16

static pthread_once_t g_probe_once = PTHREAD_ONCE_INIT;
static int g_count;
static char g_message[512];
static sl_gpu_info g_info[MAX_GPUS];
static pthread_mutex_t g_dev_mu = PTHREAD_MUTEX_INITIALIZER;
static sl_gpu_device *g_devices[MAX_GPUS];
static __thread sl_gpu_device *t_bound;

static void probe(void)
{
    int n = 0;
    cudaError_t e = cudaGetDeviceCount(&n);
    if (e != cudaSuccess || n <= 0) {
        if (e == cudaErrorInsufficientDriver)
            snprintf(g_message, sizeof(g_message), "no GPU: no usable CUDA driver (%s); running on the CPU",
                     cudaGetErrorName(e));
        else if (e != cudaSuccess)
            snprintf(g_message, sizeof(g_message), "no GPU: %s (%s); running on the CPU", cudaGetErrorString(e),
                     cudaGetErrorName(e));
        else
            snprintf(g_message, sizeof(g_message), "no GPU: the CUDA driver sees no device; running on the CPU");
        cudaGetLastError();  /* clear the sticky-free error */
        g_count = 0;
        return;
    }
    if (n > MAX_GPUS)
        n = MAX_GPUS;
    size_t pos = (size_t)snprintf(g_message, sizeof(g_message), "%d GPU%s:", n, n == 1 ? "" : "s");
    for (int i = 0; i < n; i++) {
        cudaDeviceProp p;
        if (cudaGetDeviceProperties(&p, i) != cudaSuccess) {
            n = i;
            break;
        }
        sl_gpu_info *info = &g_info[i];
        info->id = i;
        snprintf(info->name, sizeof(info->name), "%.120s", p.name);
        info->cc_major = p.major;
        info->cc_minor = p.minor;
        info->total_memory = (int64_t)p.totalGlobalMem;
        info->multiprocessors = p.multiProcessorCount;
        if (pos < sizeof(g_message))
            pos += (size_t)snprintf(g_message + pos, sizeof(g_message) - pos, "%s GPU:%d %s (sm_%d%d, %.1f GiB)",
                                    i ? "," : "", i, p.name, p.major, p.minor,
                                    (double)p.totalGlobalMem / (1024.0 * 1024 * 1024));
    }
    g_count = n;
}

extern "C" bool sl_gpu_is_built(void) { return true; }

extern "C" int sl_gpu_count(void)
{
    pthread_once(&g_probe_once, probe);
    return g_count;
}

extern "C" const char *sl_gpu_message(void)
{
    pthread_once(&g_probe_once, probe);
    return g_message;
}

extern "C" sl_code sl_gpu_get_info(int id, sl_gpu_info *info, sl_status *status)
{
    if (id < 0 || id >= sl_gpu_count())
        return sl_status_set(status, SL_NOT_FOUND, "no GPU:%d (%s)", id, sl_gpu_message());
    *info = g_info[id];
    sl_status_clear(status);
    return SL_OK;
}

static sl_code device_init(sl_gpu_device *d, int id, sl_status *status)
{
    d->id = id;
    cudaError_t e = cudaSetDevice(id);
    if (e == cudaSuccess)
        e = cudaStreamCreateWithFlags(&d->compute, cudaStreamNonBlocking);
    if (e == cudaSuccess)
        e = cudaStreamCreateWithFlags(&d->h2d, cudaStreamNonBlocking);
    if (e == cudaSuccess)
        e = cudaStreamCreateWithFlags(&d->d2h, cudaStreamNonBlocking);
    if (e != cudaSuccess)
        return sl_status_set(status, SL_INTERNAL, "cannot set up GPU:%d: %s (%s)", id, cudaGetErrorString(e),
                             cudaGetErrorName(e));
    if (cublasCreate(&d->cublas) != CUBLAS_STATUS_SUCCESS)
        return sl_status_set(status, SL_INTERNAL, "cannot create a cuBLAS handle on GPU:%d", id);
    cublasSetStream(d->cublas, d->compute);
    cudnnStatus_t ce = cudnnCreate(&d->cudnn);
    if (ce != CUDNN_STATUS_SUCCESS)
        return sl_status_set(status, SL_INTERNAL, "cannot create a cuDNN handle on GPU:%d: %s", id,
                             cudnnGetErrorString(ce));
    cudnnSetStream(d->cudnn, d->compute);
    pthread_mutex_init(&d->lib_mu, NULL);
    pthread_mutex_init(&d->mem_mu, NULL);
    d->free_blocks = new std::multimap<size_t, void *>();
    d->block_size = new std::unordered_map<void *, size_t>();
    return SL_OK;
}

extern "C" sl_gpu_device *sl_gpu_device_get(int id, sl_status *status)
{
    if (!sl_gpu_is_built() || sl_gpu_count() == 0) {
        sl_status_set(status, SL_UNAVAILABLE, "%s", sl_gpu_message());
        return NULL;
    }
    if (id < 0 || id >= sl_gpu_count()) {
        sl_status_set(status, SL_NOT_FOUND, "no GPU:%d (%s)", id, sl_gpu_message());
        return NULL;
    }
    pthread_mutex_lock(&g_dev_mu);
    sl_gpu_device *d = g_devices[id];
    if (!d) {
        d = (sl_gpu_device *)calloc(1, sizeof(*d));
        if (!d) {
            pthread_mutex_unlock(&g_dev_mu);
            sl_status_set(status, SL_RESOURCE_EXHAUSTED, "out of memory creating GPU:%d", id);
            return NULL;
        }
        if (device_init(d, id, status) != SL_OK) {
            free(d);  /* streams of a half-made device are left to the driver */
            pthread_mutex_unlock(&g_dev_mu);
            return NULL;
        }
        g_devices[id] = d;
    }
    pthread_mutex_unlock(&g_dev_mu);
    sl_status_clear(status);
    return d;
}

extern "C" void sl_gpu_device_bind(sl_gpu_device *dev)
{
    t_bound = dev;
    if (dev)
        cudaSetDevice(dev->id);
}

extern "C" sl_gpu_device *sl__gpu_current(void)
{
    if (t_bound)
        return t_bound;
    if (sl_gpu_count() == 0)
        return NULL;
    sl_status *st = sl_status_new();
    sl_gpu_device *d = sl_gpu_device_get(0, st);
    sl_status_free(st);
    if (d)
        sl_gpu_device_bind(d);
    return d;
}

extern "C" void *sl__gpu_stream(sl_gpu_device *dev) { return dev->compute; }
extern "C" void *sl__gpu_cublas(sl_gpu_device *dev) { return dev->cublas; }
extern "C" void *sl__gpu_cudnn(sl_gpu_device *dev) { return dev->cudnn; }
extern "C" void sl__gpu_lock(sl_gpu_device *dev) { pthread_mutex_lock(&dev->lib_mu); }
extern "C" void sl__gpu_unlock(sl_gpu_device *dev) { pthread_mutex_unlock(&dev->lib_mu); }

/* ---- caching allocator ------------------------------------------------- */

static size_t round_size(size_t n)
{
    if (n == 0)
        n = 1;
    if (n < ((size_t)1 << 20))
        return (n + 511) & ~(size_t)511;
    return (n + ((size_t)1 << 20) - 1) & ~(((size_t)1 << 20) - 1);
}

/* Frees every cached block; called with mem_mu held. */
static void empty_cache_locked(sl_gpu_device *d)
{
    for (auto &kv : *d->free_blocks) {
        cudaFree(kv.second);
        d->block_size->erase(kv.second);
        d->stats.bytes_cached -= (int64_t)kv.first;
    }
    d->free_blocks->clear();
}

extern "C" void *sl__gpu_alloc(sl_gpu_device *d, size_t size)
{
    size_t n = round_size(size);
    void *p = NULL;
    pthread_mutex_lock(&d->mem_mu);
    auto it = d->free_blocks->lower_bound(n);
    if (it != d->free_blocks->end() && it->first <= 2 * n) {
        p = it->second;
        n = it->first;
        d->free_blocks->erase(it);
        d->stats.bytes_cached -= (int64_t)n;
    } else {
        cudaSetDevice(d->id);
        if (cudaMalloc(&p, n) != cudaSuccess) {
            cudaGetLastError();
            cudaStreamSynchronize(d->compute);  /* cached blocks may still be in use */
            empty_cache_locked(d);
            if (cudaMalloc(&p, n) != cudaSuccess) {
                cudaGetLastError();
                pthread_mutex_unlock(&d->mem_mu);
                return NULL;
            }
        }
        d->stats.num_device_mallocs++;
        (*d->block_size)[p] = n;
    }
    d->stats.bytes_in_use += (int64_t)n;
    if (d->stats.bytes_in_use > d->stats.peak_bytes_in_use)
        d->stats.peak_bytes_in_use = d->stats.bytes_in_use;
    pthread_mutex_unlock(&d->mem_mu);
    return p;
}

extern "C" void sl__gpu_free(sl_gpu_device *d, void *p)
{
    if (!p)
        return;
    pthread_mutex_lock(&d->mem_mu);
    auto it = d->block_size->find(p);
    if (it != d->block_size->end()) {
        d->free_blocks->emplace(it->second, p);
        d->stats.bytes_in_use -= (int64_t)it->second;
        d->stats.bytes_cached += (int64_t)it->second;
    }
    pthread_mutex_unlock(&d->mem_mu);
}

extern "C" void sl_gpu_empty_cache(sl_gpu_device *d)
{
    pthread_mutex_lock(&d->mem_mu);
    cudaStreamSynchronize(d->compute);
    empty_cache_locked(d);
    pthread_mutex_unlock(&d->mem_mu);
}

extern "C" void sl_gpu_memory_stats_get(sl_gpu_device *d, sl_gpu_memory_stats *out)
{
    pthread_mutex_lock(&d->mem_mu);
    *out = d->stats;
    pthread_mutex_unlock(&d->mem_mu);
}

static void tensor_dealloc(void *data, size_t size, void *arg)
{
    (void)size;
    sl__gpu_free((sl_gpu_device *)arg, data);
}

extern "C" sl_tensor *sl_gpu_tensor_new(sl_gpu_device *d, sl_dtype dtype, const sl_shape *shape, sl_status *status)
{
    if (!sl_shape_is_fully_defined(shape)) {
        sl_status_set(status, SL_INVALID_ARGUMENT, "a device tensor needs a fully defined shape");
        return NULL;
    }
    size_t bytes = (size_t)sl_shape_num_elements(shape) * sl_dtype_size(dtype);
    void *p = sl__gpu_alloc(d, bytes);
    if (!p) {
        sl_status_set(status, SL_RESOURCE_EXHAUSTED, "GPU:%d is out of memory allocating %zu bytes", d->id, bytes);
        return NULL;
    }
    sl_tensor *t = sl_tensor_new_wrap(dtype, shape, p, bytes, tensor_dealloc, d, status);
    if (!t)
        sl__gpu_free(d, p);
    return t;
}

extern "C" bool sl__gpu_is_device_tensor(const sl_tensor *t)
{
    cudaPointerAttributes a;
    void *p = sl_tensor_data(t);
    if (!p || cudaPointerGetAttributes(&a, p) != cudaSuccess) {
        cudaGetLastError();
        return false;
    }
    return a.type == cudaMemoryTypeDevice;
}

extern "C" sl_gpu_device *sl__gpu_ctx_device(sl_kernel_ctx *ctx)
{
    sl_gpu_device *d = sl__gpu_current();
    if (!d)
        sl_kernel_ctx_fail(ctx, SL_UNAVAILABLE, "%s", sl_gpu_message());
    return d;
}

extern "C" sl_tensor *sl__gpu_output(sl_kernel_ctx *ctx, int i, const sl_shape *shape)
{
    sl_gpu_device *d = sl__gpu_ctx_device(ctx);
    if (!d)
        return NULL;
    sl_status *st = sl_status_new();
    sl_dtype dt = sl_dtype_base(sl_node_output_type(sl_kernel_ctx_node(ctx), i));
    sl_tensor *t = st ? sl_gpu_tensor_new(d, dt, shape, st) : NULL;
    if (!t) {
        sl_kernel_ctx_fail(ctx, st ? sl_status_code(st) : SL_RESOURCE_EXHAUSTED, "output %d: %s", i,
                           st ? sl_status_message(st) : "out of memory");
        sl_status_free(st);
        return NULL;
    }
    sl_status_free(st);
    sl_kernel_ctx_set_output(ctx, i, t);
    sl_tensor_unref(t);  /* the context holds it */
    return t;
}

/* ---- copies ------------------------------------------------------------ */

static sl_code cuda_status(cudaError_t e, const char *what, sl_status *status)
{
    cudaGetLastError();
    return sl_status_set(status, SL_INTERNAL, "%s: %s (%s)", what, cudaGetErrorString(e), cudaGetErrorName(e));
}

/* Makes `waiter` wait for the work queued on `on` so far. */
static cudaError_t stream_after(cudaStream_t waiter, cudaStream_t on)
{
    cudaEvent_t ev;
    cudaError_t e = cudaEventCreateWithFlags(&ev, cudaEventDisableTiming);
    if (e == cudaSuccess)
        e = cudaEventRecord(ev, on);
    if (e == cudaSuccess)
        e = cudaStreamWaitEvent(waiter, ev, 0);
    cudaEventDestroy(ev);  /* released once the wait is satisfied */
    return e;
}

extern "C" sl_tensor *sl_gpu_to_device(sl_gpu_device *d, const sl_tensor *host, sl_status *status)
{
    if (sl_tensor_dtype(host) == SL_DTYPE_STRING) {
        sl_status_set(status, SL_INVALID_ARGUMENT, "string tensors cannot go to the GPU");
        return NULL;
    }
    sl_tensor *t = sl_gpu_tensor_new(d, sl_tensor_dtype(host), sl_tensor_shape(host), status);
    if (!t)
        return NULL;
    size_t n = sl_tensor_byte_size(host);
    cudaError_t e = cudaSetDevice(d->id);
    if (e == cudaSuccess)
        e = stream_after(d->h2d, d->compute);
    /* from pageable memory the call returns once the source was staged */
    if (e == cudaSuccess && n)
        e = cudaMemcpyAsync(sl_tensor_data(t), sl_tensor_data(host), n, cudaMemcpyHostToDevice, d->h2d);
    if (e == cudaSuccess)
        e = stream_after(d->compute, d->h2d);
    if (e != cudaSuccess) {
        cuda_status(e, "copying to the GPU", status);
        sl_tensor_unref(t);
        return NULL;
    }
    sl_status_clear(status);
    return t;
}

extern "C" sl_tensor *sl_gpu_to_host(sl_gpu_device *d, const sl_tensor *dev, sl_status *status)
{
    sl_tensor *t = sl_tensor_new(sl_tensor_dtype(dev), sl_tensor_shape(dev), status);
    if (!t)
        return NULL;
    size_t n = sl_tensor_byte_size(dev);
    cudaError_t e = cudaSetDevice(d->id);
    if (e == cudaSuccess)
        e = stream_after(d->d2h, d->compute);
    if (e == cudaSuccess && n)
        e = cudaMemcpyAsync(sl_tensor_data(t), sl_tensor_data(dev), n, cudaMemcpyDeviceToHost, d->d2h);
    if (e == cudaSuccess)
        e = cudaStreamSynchronize(d->d2h);
    if (e != cudaSuccess) {
        cuda_status(e, "copying from the GPU", status);
        sl_tensor_unref(t);
        return NULL;
    }
    sl_status_clear(status);
    return t;
}

extern "C" sl_tensor *sl__gpu_copy_on_device(sl_gpu_device *d, const sl_tensor *src, sl_status *status)
{
    sl_tensor *t = sl_gpu_tensor_new(d, sl_tensor_dtype(src), sl_tensor_shape(src), status);
    if (!t)
        return NULL;
    size_t n = sl_tensor_byte_size(src);
    cudaError_t e = n ? cudaMemcpyAsync(sl_tensor_data(t), sl_tensor_data(src), n, cudaMemcpyDeviceToDevice,
                                        d->compute)
                      : cudaSuccess;
    if (e != cudaSuccess) {
        cuda_status(e, "copying on the GPU", status);
        sl_tensor_unref(t);
        return NULL;
    }
    return t;
}

extern "C" sl_code sl_gpu_device_sync(sl_gpu_device *d, sl_status *status)
{
    cudaSetDevice(d->id);
    cudaError_t e = cudaStreamSynchronize(d->compute);
    if (e == cudaSuccess)
        e = cudaGetLastError();
    if (e != cudaSuccess)
        return cuda_status(e, "GPU work failed", status);
    sl_status_clear(status);
    return SL_OK;
}

/* ---- the pool of GPU kernel definitions -------------------------------- */

#define MAX_GPU_KERNELS 512
static sl__gpu_kernel g_kernels[MAX_GPU_KERNELS];
static int g_num_kernels;

extern "C" void sl__gpu_register(const sl_kernel_def *def, uint32_t host_inputs, uint32_t host_outputs)
{
    if (g_num_kernels >= MAX_GPU_KERNELS) {
        fprintf(stderr, "sluice: too many GPU kernels (raise MAX_GPU_KERNELS)\n");
        abort();
    }
    sl__gpu_kernel *k = &g_kernels[g_num_kernels++];
    k->def = *def;
    k->def.device = SL_DEVICE_GPU;
    k->host_inputs = host_inputs;
    k->host_outputs = host_outputs;
    sl_status *st = sl_status_new();
    if (sl_kernel_register(&k->def, st) != SL_OK) {
        fprintf(stderr, "sluice: bad GPU kernel: %s\n", sl_status_message(st));
        abort();
    }
    sl_status_free(st);
}

static const sl__gpu_kernel *as_gpu_kernel(const sl_kernel_def *k)
{
    if (!k || (const void *)k < (const void *)g_kernels || (const void *)k >= (const void *)(g_kernels + MAX_GPU_KERNELS))
        return NULL;
    return (const sl__gpu_kernel *)k;
}

extern "C" bool sl_gpu_kernel_input_on_host(const sl_kernel_def *k, const sl_node *node, int i)
{
    const sl__gpu_kernel *g = as_gpu_kernel(k);
    if (!g || i < 0)
        return false;
    if ((g->host_inputs & SL_GPU_HOST_LAST_INPUT) && node && i == sl_node_num_inputs(node) - 1)
        return true;
    return i < 31 && (g->host_inputs >> i & 1);
}

extern "C" bool sl_gpu_kernel_output_on_host(const sl_kernel_def *k, const sl_node *node, int i)
{
    (void)node;
    const sl__gpu_kernel *g = as_gpu_kernel(k);
    return g && i >= 0 && i < 32 && (g->host_outputs >> i & 1);
}

extern "C" void sl__gpu_kernels_register(void)
{
    sl__cuda_register_elementwise();
    sl__cuda_register_activation();
    sl__cuda_register_reduce();
    sl__cuda_register_softmax();
    sl__cuda_register_array();
    sl__cuda_register_matmul();
    sl__cuda_register_conv();
    sl__cuda_register_pool();
    sl__cuda_register_random();
    sl__cuda_register_optimizer();
    sl__gpu_register_host_ops();
    sl__gpu_register_send_recv();
}
