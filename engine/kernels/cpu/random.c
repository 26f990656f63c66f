/* Random kernels: RandomUniform, RandomStandardNormal, TruncatedNormal
 * (float and double) and RandomShuffle, on TF's Philox4x32-10 stream.
 *
 * The generator is seeded as TF's GuardedPhiloxRandom: key = seed,
 * counter high half = seed2, so a node with seed/seed2 attrs draws the same
 * numbers as TF's CPU kernel for the same attrs (up to the last ulp of
 * libm's log/sin/cos in the normal distributions).  Both zero means
 * "nondeterministic": the seeds then come from the clock and an address.
 * Output group g (4 floats or 2 doubles) uses the generator skipped by g
 * 128-bit blocks (by 256 g for TruncatedNormal, which rejects samples), so
 * the result does not depend on how the work is split across threads.
 * Each compute reserves numbers like TF (n * 256 blocks), under a mutex in
 * the kernel's state, so consecutive steps draw fresh numbers.
 * RandomShuffle is a Fisher-Yates shuffle driven by 32-bit Philox draws
 * (deterministic for a seed pair, not bit-identical to TF).
 */
#include "config.h"

#include <math.h>
#include <pthread.h>
#include <string.h>
#include <time.h>

#include "cpu-kernels.h"
#include "sluice/alloc.h"

typedef struct philox {
    uint32_t ctr[4];
    uint32_t key[2];
} philox;

static void philox_init(philox *p, uint64_t seed, uint64_t seed2)
{
    p->key[0] = (uint32_t)seed;
    p->key[1] = (uint32_t)(seed >> 32);
    p->ctr[0] = p->ctr[1] = 0;
    p->ctr[2] = (uint32_t)seed2;
    p->ctr[3] = (uint32_t)(seed2 >> 32);
}

static void philox_skip(philox *p, uint64_t count)
{
    uint64_t lo = (uint64_t)p->ctr[0] | (uint64_t)p->ctr[1] << 32;
    uint64_t nlo = lo + count;
    p->ctr[0] = (uint32_t)nlo;
    p->ctr[1] = (uint32_t)(nlo >> 32);
    if (nlo < lo && ++p->ctr[2] == 0)
        ++p->ctr[3];
}

/* The next 128 bits, then advances the counter by one. */
static void philox_next(philox *p, uint32_t out[4])
{
    uint32_t c[4] = {p->ctr[0], p->ctr[1], p->ctr[2], p->ctr[3]}, k0 = p->key[0], k1 = p->key[1];
    for (int r = 0; r < 10; r++) {
        uint64_t m0 = (uint64_t)0xD2511F53u * c[0], m1 = (uint64_t)0xCD9E8D57u * c[2];
        uint32_t n0 = (uint32_t)(m1 >> 32) ^ c[1] ^ k0, n2 = (uint32_t)(m0 >> 32) ^ c[3] ^ k1;
        c[1] = (uint32_t)m1;
        c[3] = (uint32_t)m0;
        c[0] = n0;
        c[2] = n2;
        k0 += 0x9E3779B9u;
        k1 += 0xBB67AE85u;
    }
    memcpy(out, c, sizeof(c));
    philox_skip(p, 1);
}

/* One 32-bit draw at a time (TF's SingleSampleAdapter). */
typedef struct single {
    philox *gen;
    uint32_t buf[4];
    int used;
} single;

static uint32_t single_next(single *s)
{
    if (s->used == 4) {
        philox_next(s->gen, s->buf);
        s->used = 0;
    }
    return s->buf[s->used++];
}

static float u32_to_float(uint32_t x)
{
    uint32_t bits = (127u << 23) | (x & 0x7fffffu);
    float f;
    memcpy(&f, &bits, 4);
    return f - 1.0f;
}

static double u64_to_double(uint32_t x0, uint32_t x1)
{
    uint64_t bits = ((uint64_t)1023 << 52) | ((uint64_t)(x0 & 0xfffffu) << 32) | x1;
    double d;
    memcpy(&d, &bits, 8);
    return d - 1.0;
}

static void box_muller_f(uint32_t x0, uint32_t x1, float *f0, float *f1)
{
    float u1 = u32_to_float(x0);
    if (u1 < 1.0e-7f)
        u1 = 1.0e-7f;
    float v1 = 2.0f * (float)M_PI * u32_to_float(x1);
    float u2 = sqrtf(-2.0f * logf(u1));
    *f0 = sinf(v1) * u2;
    *f1 = cosf(v1) * u2;
}

static void box_muller_d(uint32_t x0, uint32_t x1, uint32_t x2, uint32_t x3, double *d0, double *d1)
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

/* Fills group g (4 floats or 2 doubles) of the output; out has room for `n` valid elements. */
static void fill_group(int dist, bool dbl, philox base, int64_t g, void *out, int n)
{
    philox gen = base;
    float f[4];
    double d[2];
    if (dist == DIST_TRUNCATED) {
        philox_skip(&gen, (uint64_t)g * 256);
        single s = {&gen, {0}, 4};
        int k = 0, want = dbl ? 2 : 4;
        while (k < want) {
            if (dbl) {
                uint32_t a = single_next(&s), b = single_next(&s), c = single_next(&s), e = single_next(&s);
                double d0, d1;
                box_muller_d(a, b, c, e, &d0, &d1);
                if (fabs(d0) < 2.0)
                    d[k++] = d0;
                if (k < want && fabs(d1) < 2.0)
                    d[k++] = d1;
            } else {
                uint32_t a = single_next(&s), b = single_next(&s);
                float f0, f1;
                box_muller_f(a, b, &f0, &f1);
                if (fabsf(f0) < 2.0f)
                    f[k++] = f0;
                if (k < want && fabsf(f1) < 2.0f)
                    f[k++] = f1;
            }
        }
    } else {
        philox_skip(&gen, (uint64_t)g);
        uint32_t x[4];
        philox_next(&gen, x);
        if (dist == DIST_UNIFORM) {
            if (dbl) {
                d[0] = u64_to_double(x[0], x[1]);
                d[1] = u64_to_double(x[2], x[3]);
            } else {
                for (int i = 0; i < 4; i++)
                    f[i] = u32_to_float(x[i]);
            }
        } else if (dbl) {
            box_muller_d(x[0], x[1], x[2], x[3], &d[0], &d[1]);
        } else {
            box_muller_f(x[0], x[1], &f[0], &f[1]);
            box_muller_f(x[2], x[3], &f[2], &f[3]);
        }
    }
    memcpy(out, dbl ? (void *)d : (void *)f, (size_t)n * (dbl ? 8 : 4));
}

typedef struct random_state {
    pthread_mutex_t mu;
    philox gen;  /* advanced by every compute, under mu */
} random_state;

static sl_code random_create(const sl_node *node, void **state, sl_status *status)
{
    int64_t seed = 0, seed2 = 0;
    sl_node_attr_int(node, "seed", &seed);
    sl_node_attr_int(node, "seed2", &seed2);
    random_state *s = sl_malloc(sizeof(*s));
    if (!s)
        return sl_status_set(status, SL_RESOURCE_EXHAUSTED, "out of memory creating a random kernel");
    if (seed == 0 && seed2 == 0) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        /* unsigned arithmetic: the mixing multiply is meant to wrap */
        seed = (int64_t)((uint64_t)ts.tv_nsec * 6364136223846793005ULL + (uint64_t)ts.tv_sec);
        seed2 = (int64_t)((uint64_t)(uintptr_t)s ^ ((uint64_t)ts.tv_nsec << 20));
    }
    pthread_mutex_init(&s->mu, NULL);
    philox_init(&s->gen, (uint64_t)seed, (uint64_t)seed2);
    *state = s;
    return SL_OK;
}

static void random_destroy(void *state)
{
    random_state *s = state;
    pthread_mutex_destroy(&s->mu);
    sl_free(s);
}

/* The generator for this compute, reserving `blocks` 128-bit blocks. */
static philox reserve(sl_kernel_ctx *ctx, uint64_t blocks)
{
    random_state *s = sl_kernel_ctx_state(ctx);
    pthread_mutex_lock(&s->mu);
    philox g = s->gen;
    philox_skip(&s->gen, blocks);
    pthread_mutex_unlock(&s->mu);
    return g;
}

typedef struct random_job {
    int dist;
    bool dbl;
    philox base;
    char *out;
    int64_t n;
} random_job;

static void random_shard(void *arg, int64_t begin, int64_t end)
{
    const random_job *j = arg;
    int per = j->dbl ? 2 : 4;
    size_t esz = j->dbl ? 8 : 4;
    for (int64_t g = begin; g < end; g++) {
        int64_t first = g * per;
        int n = j->n - first < per ? (int)(j->n - first) : per;
        fill_group(j->dist, j->dbl, j->base, g, j->out + (size_t)first * esz, n);
    }
}

static void random_compute(sl_kernel_ctx *ctx)
{
    const char *op = sl_node_op_type(sl_kernel_ctx_node(ctx));
    const sl_tensor *shape = sl_kernel_ctx_input(ctx, 0);
    if (!sl__k_check_int_vector(ctx, shape, "shape"))
        return;
    sl_shape s = {.rank = (int)sl_tensor_num_elements(shape)};
    if (s.rank > SL_MAX_DIMS || sl_tensor_rank(shape) != 1) {
        sl_kernel_ctx_fail(ctx, SL_INVALID_ARGUMENT, "shape must be a vector of at most %d sizes, got %s", SL_MAX_DIMS,
                           sl__k_shape_str(sl_tensor_shape(shape), 0));
        return;
    }
    for (int i = 0; i < s.rank; i++) {
        s.dims[i] = sl__k_int_at(shape, i);
        if (s.dims[i] < 0) {
            sl_kernel_ctx_fail(ctx, SL_INVALID_ARGUMENT, "shape[%d] is negative (%lld)", i, (long long)s.dims[i]);
            return;
        }
    }
    sl_tensor *o = sl__k_out(ctx, 0, &s);
    if (!o)
        return;
    int64_t n = sl_tensor_num_elements(o);
    random_job j = {
        .dist = !strcmp(op, "RandomUniform") ? DIST_UNIFORM : !strcmp(op, "TruncatedNormal") ? DIST_TRUNCATED : DIST_NORMAL,
        .dbl = sl_tensor_dtype(o) == SL_DTYPE_DOUBLE, .base = reserve(ctx, (uint64_t)n * 256),
        .out = sl_tensor_data(o), .n = n,
    };
    int per = j.dbl ? 2 : 4;
    sl__k_parallel(ctx, (n + per - 1) / per, j.dist == DIST_TRUNCATED ? 200 : 40, random_shard, &j);
}

static void shuffle_compute(sl_kernel_ctx *ctx)
{
    const sl_tensor *x = sl_kernel_ctx_input(ctx, 0);
    if (sl_tensor_rank(x) == 0 || sl_tensor_dim(x, 0) <= 1) {
        sl_kernel_ctx_set_output(ctx, 0, (sl_tensor *)x);
        return;
    }
    sl_tensor *o = sl__k_out(ctx, 0, sl_tensor_shape(x));
    if (!o)
        return;
    int64_t rows = sl_tensor_dim(x, 0);
    size_t row = sl_tensor_byte_size(x) / (size_t)rows;
    int64_t *perm = sl_malloc(sizeof(int64_t) * (size_t)rows);
    if (!perm) {
        sl_kernel_ctx_fail(ctx, SL_RESOURCE_EXHAUSTED, "out of memory shuffling %lld rows", (long long)rows);
        return;
    }
    for (int64_t i = 0; i < rows; i++)
        perm[i] = i;
    philox gen = reserve(ctx, (uint64_t)rows * 2);
    single s = {&gen, {0}, 4};
    for (int64_t i = rows - 1; i > 0; i--) {
        uint64_t r = rows > UINT32_MAX ? ((uint64_t)single_next(&s) << 32 | single_next(&s)) : single_next(&s);
        int64_t k = (int64_t)(r % (uint64_t)(i + 1));
        int64_t t = perm[i];
        perm[i] = perm[k];
        perm[k] = t;
    }
    for (int64_t i = 0; i < rows; i++)
        memcpy((char *)sl_tensor_data(o) + (size_t)i * row, (const char *)sl_tensor_data(x) + (size_t)perm[i] * row, row);
    sl_free(perm);
}

#define RAND_K(OP)                                                                              \
    {.op = OP, .device = SL_DEVICE_CPU, .constraints = {"dtype: {float, double}"}, .create = random_create, \
     .destroy = random_destroy, .compute = random_compute}

static const sl_kernel_def random_kernels[] = {
    RAND_K("RandomUniform"), RAND_K("RandomStandardNormal"), RAND_K("TruncatedNormal"),
    {.op = "RandomShuffle", .device = SL_DEVICE_CPU,
     .constraints = {"T: {float, double, half, bfloat16, int8, int16, int32, int64, uint8, uint16, uint32, uint64, bool, complex64, complex128}"},
     .create = random_create, .destroy = random_destroy, .compute = shuffle_compute},
};

void sl__kernels_register_random(void);
void sl__kernels_register_random(void)
{
    sl__kernel_register_table(random_kernels, SL_COUNTOF_K(random_kernels));
}
