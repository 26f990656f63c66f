/* RandomUniform, RandomStandardNormal and TruncatedNormal on the GPU, on
 * the same Philox4x32-10 stream as kernels/cpu/random.c: the same seeds
 * give the same numbers (uniform bit for bit; normals up to the last ulp of
 * the device's log/sin/cos).  Output group g (4 floats or 2 doubles) uses
 * the generator skipped by g blocks (256 g for TruncatedNormal), one
 * thread per group, so the split of work does not change the result.
 * Each compute reserves n * 256 blocks under the kernel's mutex, as the
 * CPU does, so steps draw fresh numbers.  The shape is a host input. */
#include <math.h>
#include <pthread.h>
#include <string.h>
#include <time.h>

#include "cuda-common.cuh"
#include "random.cuh"

typedef struct philox {
    uint32_t ctr[4];
    uint32_t key[2];
} philox;

__host__ __device__ static void philox_skip(philox *p, uint64_t count)
{
    uint64_t lo = (uint64_t)p->ctr[0] | (uint64_t)p->ctr[1] << 32;
    uint64_t nlo = lo + count;
    p->ctr[0] = (uint32_t)nlo;
    p->ctr[1] = (uint32_t)(nlo >> 32);
    if (nlo < lo && ++p->ctr[2] == 0)
        ++p->ctr[3];
}

__device__ static void philox_next(philox *p, uint32_t out[4])
{
    uint32_t c0 = p->ctr[0], c1 = p->ctr[1], c2 = p->ctr[2], c3 = p->ctr[3], k0 = p->key[0], k1 = p->key[1];
    for (int r = 0; r < 10; r++) {
        uint64_t m0 = (uint64_t)0xD2511F53u * c0, m1 = (uint64_t)0xCD9E8D57u * c2;
        uint32_t n0 = (uint32_t)(m1 >> 32) ^ c1 ^ k0, n2 = (uint32_t)(m0 >> 32) ^ c3 ^ k1;
        c1 = (uint32_t)m1;
        c3 = (uint32_t)m0;
        c0 = n0;
        c2 = n2;
        k0 += 0x9E3779B9u;
        k1 += 0xBB67AE85u;
    }
    out[0] = c0, out[1] = c1, out[2] = c2, out[3] = c3;
    philox_skip(p, 1);
}

typedef struct single {
    philox gen;
    uint32_t buf[4];
    int used;
} single;

__device__ static uint32_t single_next(single *s)
{
    if (s->used == 4) {
        philox_next(&s->gen, s->buf);
        s->used = 0;
    }
    return s->buf[s->used++];
}

__device__ static float u32_to_float(uint32_t x)
{
    return __uint_as_float((127u << 23) | (x & 0x7fffffu)) - 1.0f;
}

__device__ static double u64_to_double(uint32_t x0, uint32_t x1)
{
    uint64_t bits = ((uint64_t)1023 << 52) | ((uint64_t)(x0 & 0xfffffu) << 32) | x1;
    return __longlong_as_double((long long)bits) - 1.0;
}

__device__ static void box_muller_f(uint32_t x0, uint32_t x1, float *f0, float *f1)
{
    float u1 = u32_to_float(x0);
    if (u1 < 1.0e-7f)
        u1 = 1.0e-7f;
    float v1 = 2.0f * (float)M_PI * u32_to_float(x1);
    float u2 = sqrtf(-2.0f * logf(u1));
    *f0 = sinf(v1) * u2;
    *f1 = cosf(v1) * u2;
}

__device__ static void box_muller_d(uint32_t x0, uint32_t x1, uint32_t x2, uint32_t x3, double *d0, double *d1)
{
    double u1 = u64_to_double(x0, x1);
    if (u1 < 1.0e-7)
        u1 = 1.0e-7;
    double v1 = 2 * M_PI * u64_to_double(x2, x3);
    double u2 = sqrt(-2.0 * log(u1));
    *d0 = sin(v1) * u2;
    *d1 = cos(v1) * u2;
}

enum { DIST_UNIFORM, DIST_NORMAL, DIST_TRUNCATED };

template <typename T> __global__ void random_kernel(int dist, philox base, T *out, int64_t n)
{
    const bool dbl = sizeof(T) == 8;
    const int per = dbl ? 2 : 4;
    SL_CUDA_FOR(g, (n + per - 1) / per)
    {
        philox gen = base;
        T v[4];
        if (dist == DIST_TRUNCATED) {
            philox_skip(&gen, (uint64_t)g * 256);
            single s = {gen, {0, 0, 0, 0}, 4};
            int k = 0;
            while (k < per) {
                if (dbl) {
                    uint32_t a = single_next(&s), b = single_next(&s), c = single_next(&s), e = single_next(&s);
                    double d0, d1;
                    box_muller_d(a, b, c, e, &d0, &d1);
                    if (fabs(d0) < 2.0)
                        v[k++] = (T)d0;
                    if (k < per && fabs(d1) < 2.0)
                        v[k++] = (T)d1;
                } else {
                    uint32_t a = single_next(&s), b = single_next(&s);
                    float f0, f1;
                    box_muller_f(a, b, &f0, &f1);
                    if (fabsf(f0) < 2.0f)
                        v[k++] = (T)f0;
                    if (k < per && fabsf(f1) < 2.0f)
                        v[k++] = (T)f1;
                }
            }
        } else {
            philox_skip(&gen, (uint64_t)g);
            uint32_t x[4];
            philox_next(&gen, x);
            if (dist == DIST_UNIFORM) {
                if (dbl) {
                    v[0] = (T)u64_to_double(x[0], x[1]);
                    v[1] = (T)u64_to_double(x[2], x[3]);
                } else {
                    for (int i = 0; i < 4; i++)
                        v[i] = (T)u32_to_float(x[i]);
                }
            } else if (dbl) {
                double d0, d1;
                box_muller_d(x[0], x[1], x[2], x[3], &d0, &d1);
                v[0] = (T)d0, v[1] = (T)d1;
            } else {
                float f[4];
                box_muller_f(x[0], x[1], &f[0], &f[1]);
                box_muller_f(x[2], x[3], &f[2], &f[3]);
                for (int i = 0; i < 4; i++)
                    v[i] = (T)f[i];
            }
        }
        for (int i = 0; i < per && g * per + i < n; i++)
            out[g * per + i] = v[i];
    }
}

typedef struct random_state {
    pthread_mutex_t mu;
    philox gen;
} random_state;

static sl_code random_create(const sl_node *node, void **state, sl_status *status)
{
    int64_t seed = 0, seed2 = 0;
    sl_node_attr_int(node, "seed", &seed);
    sl_node_attr_int(node, "seed2", &seed2);
    random_state *s = (random_state *)sl_malloc(sizeof(*s));
    if (!s)
        return sl_status_set(status, SL_RESOURCE_EXHAUSTED, "out of memory creating a random kernel");
    if (seed == 0 && seed2 == 0) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        seed = (int64_t)ts.tv_nsec * 6364136223846793005LL + ts.tv_sec;
        seed2 = (int64_t)(uintptr_t)s ^ ((int64_t)ts.tv_nsec << 20);
    }
    pthread_mutex_init(&s->mu, NULL);
    s->gen.key[0] = (uint32_t)seed;
    s->gen.key[1] = (uint32_t)((uint64_t)seed >> 32);
    s->gen.ctr[0] = s->gen.ctr[1] = 0;
    s->gen.ctr[2] = (uint32_t)seed2;
    s->gen.ctr[3] = (uint32_t)((uint64_t)seed2 >> 32);
    *state = s;
    return SL_OK;
}

static void random_destroy(void *state)
{
    random_state *s = (random_state *)state;
    pthread_mutex_destroy(&s->mu);
    sl_free(s);
}

static void random_compute(sl_kernel_ctx *ctx)
{
    const char *op = sl_node_op_type(sl_kernel_ctx_node(ctx));
    const sl_tensor *shape = sl_kernel_ctx_input(ctx, 0);
    sl_shape s = {};
    s.rank = (int)sl_tensor_num_elements(shape);
    if (s.rank > SL_MAX_DIMS || sl_tensor_rank(shape) != 1) {
        sl_kernel_ctx_fail(ctx, SL_INVALID_ARGUMENT, "shape must be a vector of at most %d sizes", SL_MAX_DIMS);
        return;
    }
    for (int i = 0; i < s.rank; i++)
        if ((s.dims[i] = sl__cuda_host_int(shape, i)) < 0) {
            sl_kernel_ctx_fail(ctx, SL_INVALID_ARGUMENT, "shape[%d] is negative", i);
            return;
        }
    sl_tensor *o = sl__gpu_output(ctx, 0, &s);
    if (!o)
        return;
    int64_t n = sl_tensor_num_elements(o);
    random_state *st = (random_state *)sl_kernel_ctx_state(ctx);
    pthread_mutex_lock(&st->mu);
    philox base = st->gen;
    philox_skip(&st->gen, (uint64_t)n * 256);
    pthread_mutex_unlock(&st->mu);
    if (!n)
        return;
    int dist = !strcmp(op, "RandomUniform") ? DIST_UNIFORM : !strcmp(op, "TruncatedNormal") ? DIST_TRUNCATED : DIST_NORMAL;
    void *stream = sl__gpu_stream(sl__gpu_current());
    SL_CUDA_DISPATCH_FLOAT(ctx, sl_tensor_dtype(o),
                           SL_CUDA_LAUNCH(random_kernel<T>, (n + 1) / 2, stream, dist, base, (T *)sl_tensor_data(o), n));
    SL_CUDA_CHECK_LAUNCH(ctx);
}

void sl__cuda_register_random(void)
{
    static const char *const ops[] = {"RandomUniform", "RandomStandardNormal", "TruncatedNormal"};
    for (int i = 0; i < 3; i++) {
        sl_kernel_def d = {};
        d.op = ops[i];
        d.constraints[0] = "dtype: {float, double}";
        d.create = random_create;
        d.destroy = random_destroy;
        d.compute = random_compute;
        sl__gpu_register(&d, 1u << 0, 0);
    }
}
