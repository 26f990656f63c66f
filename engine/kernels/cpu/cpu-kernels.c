/* The list of CPU kernel families, registered on the first kernel lookup,
 * and the small helpers every family shares (cpu-kernels.h). */
#include "config.h"

#include <cblas.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

int64_t sl__k_int_at(const sl_tensor *t, int64_t k)
{
    const void *d = sl_tensor_data(t);
    switch (sl_tensor_dtype(t)) {
    case SL_DTYPE_INT32: return ((const int32_t *)d)[k];
    case SL_DTYPE_INT64: return ((const int64_t *)d)[k];
    case SL_DTYPE_INT16: return ((const int16_t *)d)[k];
    case SL_DTYPE_INT8: return ((const int8_t *)d)[k];
    case SL_DTYPE_UINT8: return ((const uint8_t *)d)[k];
    case SL_DTYPE_UINT16: return ((const uint16_t *)d)[k];
    case SL_DTYPE_UINT32: return ((const uint32_t *)d)[k];
    case SL_DTYPE_UINT64: return (int64_t)((const uint64_t *)d)[k];
    default: return 0;
    }
}

bool sl__k_check_int_vector(sl_kernel_ctx *ctx, const sl_tensor *t, const char *what)
{
    sl_dtype dt = sl_tensor_dtype(t);
    if ((dt != SL_DTYPE_INT32 && dt != SL_DTYPE_INT64 && dt != SL_DTYPE_INT16 && dt != SL_DTYPE_INT8) ||
        sl_tensor_rank(t) > 1) {
        sl_kernel_ctx_fail(ctx, SL_INVALID_ARGUMENT, "%s must be an integer scalar or vector, got %s %s", what,
                           sl_dtype_name(dt), sl__k_shape_str(sl_tensor_shape(t), 0));
        return false;
    }
    return true;
}

bool sl__k_axis(sl_kernel_ctx *ctx, int64_t axis, int rank, const char *what, int *out)
{
    if (axis < -rank || axis >= rank || rank == 0) {
        sl_kernel_ctx_fail(ctx, SL_INVALID_ARGUMENT, "%s %lld is out of range for a tensor of rank %d", what,
                           (long long)axis, rank);
        return false;
    }
    *out = (int)(axis < 0 ? axis + rank : axis);
    return true;
}

const char *sl__k_shape_str(const sl_shape *s, int slot)
{
    static _Thread_local char bufs[4][SL_SHAPE_STRING_MAX];
    return sl_shape_to_string(s, bufs[slot & 3], sizeof(bufs[0]));
}

bool sl__k_attr_str_is(const sl_node *node, const char *name, const char *value)
{
    const char *s;
    size_t len;
    return sl_node_attr_string(node, name, &s, &len) && len == strlen(value) && !memcmp(s, value, len);
}

bool sl__k_same_shape(sl_kernel_ctx *ctx, const sl_tensor *a, const sl_tensor *b, const char *what)
{
    if (sl_shape_equal(sl_tensor_shape(a), sl_tensor_shape(b)))
        return true;
    sl_kernel_ctx_fail(ctx, SL_INVALID_ARGUMENT, "%s must have the same shape, got %s and %s", what,
                       sl__k_shape_str(sl_tensor_shape(a), 0), sl__k_shape_str(sl_tensor_shape(b), 1));
    return false;
}

void sl__k_parallel(sl_kernel_ctx *ctx, int64_t n, int64_t cost, sl_range_fn fn, void *arg)
{
    if (cost < 1)
        cost = 1;
    int64_t min_shard = 32768 / cost;
    sl_threadpool_parallel_for(sl_kernel_ctx_threadpool(ctx), n, min_shard < 1 ? 1 : min_shard, fn, arg);
}

static pthread_once_t blas_once = PTHREAD_ONCE_INIT;

static void blas_init_once(void)
{
    openblas_set_num_threads(1);
}

void sl__k_blas_init(void)
{
    pthread_once(&blas_once, blas_init_once);
}

void sl__kernels_register_basic(void);
void sl__train_kernels_register(void);  /* engine/train: gradient-only ops, optimizer updates */
void sl__io_kernels_register(void);     /* engine/io: readers, decoders, Example parsing */
void sl__runtime_kernels_register(void);  /* engine/runtime: control flow, state, queues, send/recv */
void sl__kernels_register_unary(void);
void sl__kernels_register_binary(void);
void sl__kernels_register_elementwise_misc(void);
void sl__kernels_register_cast(void);
void sl__kernels_register_matmul(void);
void sl__kernels_register_reduce(void);
void sl__kernels_register_nn(void);
void sl__kernels_register_conv(void);
void sl__kernels_register_pool(void);
void sl__kernels_register_random(void);
void sl__kernels_register_array_shape(void);
void sl__kernels_register_array_slice(void);
void sl__kernels_register_array_join(void);

void sl__kernels_register_builtin(void)
{
    sl__k_blas_init();
    sl__kernels_register_basic();
    sl__runtime_kernels_register();
    sl__kernels_register_unary();
    sl__kernels_register_binary();
    sl__kernels_register_elementwise_misc();
    sl__kernels_register_cast();
    sl__kernels_register_matmul();
    sl__kernels_register_reduce();
    sl__kernels_register_nn();
    sl__kernels_register_conv();
    sl__kernels_register_pool();
    sl__kernels_register_random();
    sl__train_kernels_register();
    sl__io_kernels_register();
    sl__kernels_register_array_shape();
    sl__kernels_register_array_slice();
    sl__kernels_register_array_join();
}
