/* Reductions: Sum, Mean, Prod, Max, Min (float, double, int32, int64),
 * All and Any (bool) over any set of axes with keep_dims, and ArgMax /
 * ArgMin along one axis.
 *
 * The input's dimensions are first collapsed: size-1 dimensions dropped and
 * neighbours that are both reduced or both kept merged.  The shapes met in
 * practice then become [A, R, B] (reduce the middle of three groups, any
 * of which may be 1): for B == 1 each output is a contiguous sum of R
 * values, otherwise rows of B values are accumulated into a buffer so the
 * inner loop runs over contiguous memory.  Both split over the pool by
 * (A, block of B).  Other patterns ([R, K, R] ...) take a general path
 * that walks the reduced sub-index for each output.  float sums accumulate
 * in double.  Reducing an empty axis gives the identity (0 for Sum, 1 for
 * Prod, the lowest value for Max, NaN for a float Mean as in TF).
 */
#include "config.h"

#include <float.h>
#include <math.h>
#include <stdbool.h>
#include <string.h>

#include "cpu-kernels.h"

#define BLOCK 256

/* A collapsed reduction: `rank` groups of sizes dims[], reduced[] flags. */
typedef struct red_plan {
    int rank;
    int64_t dims[SL_MAX_DIMS];
    bool reduced[SL_MAX_DIMS];
    int64_t A, R, B;   /* valid when is_akb */
    bool is_akb;
    int64_t count;     /* elements reduced into each output */
} red_plan;

typedef struct red_job {
    const red_plan *p;
    const void *x;
    void *o;
    int64_t nbc;  /* blocks of B per a */
} red_job;

typedef void (*red_akb_fn)(const red_job *j, int64_t begin, int64_t end);
typedef void (*red_gen_fn)(const red_job *j, int64_t begin, int64_t end);

/* Generates the [A, R, B] worker and the general worker for one op/type. */
#define RED_FUNCS(NAME, T, ACC, INIT, COMBINE, FINAL)                                           \
    static void NAME##_akb(const red_job *j, int64_t begin, int64_t end)                        \
    {                                                                                           \
        const T *x = j->x;                                                                      \
        T *o = j->o;                                                                            \
        int64_t R = j->p->R, B = j->p->B, count = j->p->count;                                  \
        (void)count;                                                                            \
        for (int64_t w = begin; w < end; w++) {                                                 \
            int64_t a = w / j->nbc, b0 = (w % j->nbc) * BLOCK;                                  \
            int64_t nb = B - b0 < BLOCK ? B - b0 : BLOCK;                                       \
            if (B == 1) {                                                                       \
                const T *xp = x + a * R;                                                        \
                ACC acc = INIT;                                                                 \
                for (int64_t r = 0; r < R; r++) {                                               \
                    T v = xp[r];                                                                \
                    COMBINE;                                                                    \
                }                                                                               \
                o[a] = (T)(FINAL);                                                              \
                continue;                                                                       \
            }                                                                                   \
            ACC buf[BLOCK];                                                                     \
            for (int64_t b = 0; b < nb; b++)                                                    \
                buf[b] = INIT;                                                                  \
            for (int64_t r = 0; r < R; r++) {                                                   \
                const T *xp = x + (a * R + r) * B + b0;                                         \
                for (int64_t b = 0; b < nb; b++) {                                              \
                    ACC acc = buf[b];                                                           \
                    T v = xp[b];                                                                \
                    COMBINE;                                                                    \
                    buf[b] = acc;                                                               \
                }                                                                               \
            }                                                                                   \
            for (int64_t b = 0; b < nb; b++) {                                                  \
                ACC acc = buf[b];                                                               \
                o[a * B + b0 + b] = (T)(FINAL);                                                 \
            }                                                                                   \
        }                                                                                       \
    }                                                                                           \
    static void NAME##_gen(const red_job *j, int64_t begin, int64_t end)                        \
    {                                                                                           \
        const red_plan *p = j->p;                                                               \
        const T *x = j->x;                                                                      \
        T *o = j->o;                                                                            \
        int64_t count = p->count;                                                               \
        (void)count;                                                                            \
        int64_t kd[SL_MAX_DIMS], ks[SL_MAX_DIMS], rd[SL_MAX_DIMS], rs[SL_MAX_DIMS];             \
        int nk = 0, nr = 0;                                                                     \
        int64_t stride = 1;                                                                     \
        for (int d = p->rank - 1; d >= 0; d--) {                                                \
            if (p->reduced[d]) {                                                                \
                rd[nr] = p->dims[d];                                                            \
                rs[nr++] = stride;                                                              \
            } else {                                                                            \
                kd[nk] = p->dims[d];                                                            \
                ks[nk++] = stride;                                                              \
            }                                                                                   \
            stride *= p->dims[d];                                                               \
        }                                                                                       \
        for (int64_t oi = begin; oi < end; oi++) {                                              \
            int64_t base = 0, rem = oi;                                                         \
            for (int k = 0; k < nk; k++) {                                                      \
                base += (rem % kd[k]) * ks[k];                                                  \
                rem /= kd[k];                                                                   \
            }                                                                                   \
            ACC acc = INIT;                                                                     \
            for (int64_t ri = 0; ri < count; ri++) {                                            \
                int64_t off = base, rr = ri;                                                    \
                for (int k = 0; k < nr; k++) {                                                  \
                    off += (rr % rd[k]) * rs[k];                                                \
                    rr /= rd[k];                                                                \
                }                                                                               \
                T v = x[off];                                                                   \
                COMBINE;                                                                        \
            }                                                                                   \
            o[oi] = (T)(FINAL);                                                                 \
        }                                                                                       \
    }

#define U64(v) ((uint64_t)(v))

RED_FUNCS(sum_f32, float, double, 0, acc += v, acc)
RED_FUNCS(sum_f64, double, double, 0, acc += v, acc)
RED_FUNCS(sum_i32, int32_t, uint64_t, 0, acc += U64(v), acc)
RED_FUNCS(sum_i64, int64_t, uint64_t, 0, acc += U64(v), acc)
RED_FUNCS(mean_f32, float, double, 0, acc += v, count ? acc / (double)count : NAN)
RED_FUNCS(mean_f64, double, double, 0, acc += v, count ? acc / (double)count : NAN)
RED_FUNCS(mean_i32, int32_t, int64_t, 0, acc += v, count ? acc / count : 0)
RED_FUNCS(mean_i64, int64_t, int64_t, 0, acc = (int64_t)(U64(acc) + U64(v)), count ? acc / count : 0)
RED_FUNCS(prod_f32, float, double, 1, acc *= v, acc)
RED_FUNCS(prod_f64, double, double, 1, acc *= v, acc)
RED_FUNCS(prod_i32, int32_t, uint64_t, 1, acc *= U64(v), acc)
RED_FUNCS(prod_i64, int64_t, uint64_t, 1, acc *= U64(v), acc)
RED_FUNCS(max_f32, float, float, -INFINITY, acc = v > acc ? v : acc, acc)
RED_FUNCS(max_f64, double, double, -INFINITY, acc = v > acc ? v : acc, acc)
RED_FUNCS(max_i32, int32_t, int32_t, INT32_MIN, acc = v > acc ? v : acc, acc)
RED_FUNCS(max_i64, int64_t, int64_t, INT64_MIN, acc = v > acc ? v : acc, acc)
RED_FUNCS(min_f32, float, float, INFINITY, acc = v < acc ? v : acc, acc)
RED_FUNCS(min_f64, double, double, INFINITY, acc = v < acc ? v : acc, acc)
RED_FUNCS(min_i32, int32_t, int32_t, INT32_MAX, acc = v < acc ? v : acc, acc)
RED_FUNCS(min_i64, int64_t, int64_t, INT64_MAX, acc = v < acc ? v : acc, acc)
RED_FUNCS(all_b, bool, bool, true, acc = acc && v, acc)
RED_FUNCS(any_b, bool, bool, false, acc = acc || v, acc)

typedef struct red_op {
    const char *op;
    red_akb_fn akb[5];  /* float, double, int32, int64, bool */
    red_gen_fn gen[5];
} red_op;

#define NUM4(OP) {OP##_f32_akb, OP##_f64_akb, OP##_i32_akb, OP##_i64_akb, NULL}, \
                 {OP##_f32_gen, OP##_f64_gen, OP##_i32_gen, OP##_i64_gen, NULL}

static const red_op red_ops[] = {
    {"Sum", NUM4(sum)},   {"Mean", NUM4(mean)}, {"Prod", NUM4(prod)},
    {"Max", NUM4(max)},   {"Min", NUM4(min)},
    {"All", {NULL, NULL, NULL, NULL, all_b_akb}, {NULL, NULL, NULL, NULL, all_b_gen}},
    {"Any", {NULL, NULL, NULL, NULL, any_b_akb}, {NULL, NULL, NULL, NULL, any_b_gen}},
};

static int type_slot(sl_dtype dt)
{
    switch (dt) {
    case SL_DTYPE_FLOAT: return 0;
    case SL_DTYPE_DOUBLE: return 1;
    case SL_DTYPE_INT32: return 2;
    case SL_DTYPE_INT64: return 3;
    case SL_DTYPE_BOOL: return 4;
    default: return -1;
    }
}

/* Builds the collapsed plan from the input shape and reduce flags. */
static void plan_reduction(const sl_shape *in, const bool *reduce, red_plan *p)
{
    memset(p, 0, sizeof(*p));
    p->count = 1;
    for (int d = 0; d < in->rank; d++) {
        if (reduce[d])
            p->count *= in->dims[d];
        if (in->dims[d] == 1)
            continue;
        if (p->rank > 0 && p->reduced[p->rank - 1] == reduce[d]) {
            p->dims[p->rank - 1] *= in->dims[d];
        } else {
            p->dims[p->rank] = in->dims[d];
            p->reduced[p->rank++] = reduce[d];
        }
    }
    /* [A, R, B] with any group absent */
    int g = 0;
    p->A = p->R = p->B = 1;
    if (g < p->rank && !p->reduced[g])
        p->A = p->dims[g++];
    if (g < p->rank && p->reduced[g])
        p->R = p->dims[g++];
    if (g < p->rank && !p->reduced[g])
        p->B = p->dims[g++];
    p->is_akb = g == p->rank;
}

typedef struct red_shard_arg {
    const red_job *j;
    red_akb_fn akb;
    red_gen_fn gen;
} red_shard_arg;

static void red_shard(void *arg, int64_t begin, int64_t end)
{
    const red_shard_arg *s = arg;
    if (s->akb)
        s->akb(s->j, begin, end);
    else
        s->gen(s->j, begin, end);
}

/* Reads the axes input into flags; false (ctx failed) when one is bad. */
static bool read_axes(sl_kernel_ctx *ctx, const sl_tensor *axes, int rank, bool *reduce)
{
    if (!sl__k_check_int_vector(ctx, axes, "reduction_indices"))
        return false;
    memset(reduce, 0, sizeof(bool) * SL_MAX_DIMS);
    for (int64_t k = 0; k < sl_tensor_num_elements(axes); k++) {
        int64_t a = sl__k_int_at(axes, k);
        if (a < -rank || a >= rank) {
            sl_kernel_ctx_fail(ctx, SL_INVALID_ARGUMENT, "invalid reduction dimension %lld for input with %d dimensions",
                               (long long)a, rank);
            return false;
        }
        reduce[a < 0 ? a + rank : a] = true;
    }
    return true;
}

static void reduce_compute(sl_kernel_ctx *ctx)
{
    const sl_node *node = sl_kernel_ctx_node(ctx);
    const sl_tensor *x = sl_kernel_ctx_input(ctx, 0), *axes = sl_kernel_ctx_input(ctx, 1);
    const sl_shape *in = sl_tensor_shape(x);
    bool reduce[SL_MAX_DIMS];
    if (!read_axes(ctx, axes, in->rank, reduce))
        return;
    bool keep = false;
    sl_node_attr_bool(node, "keep_dims", &keep);
    bool any = false;
    for (int d = 0; d < in->rank; d++)
        any = any || reduce[d];
    if (!any) { /* no axis to reduce (a gradient's unbroadcast, often): the input as it is */
        sl_kernel_ctx_set_output(ctx, 0, (sl_tensor *)x);
        return;
    }
    sl_shape os = {.rank = 0};
    for (int d = 0; d < in->rank; d++) {
        if (!reduce[d])
            os.dims[os.rank++] = in->dims[d];
        else if (keep)
            os.dims[os.rank++] = 1;
    }
    const char *op = sl_node_op_type(node);
    int slot = type_slot(sl_tensor_dtype(x));
    const red_op *r = NULL;
    for (int i = 0; i < SL_COUNTOF_K(red_ops); i++)
        if (!strcmp(red_ops[i].op, op))
            r = &red_ops[i];
    if (!r || slot < 0 || !r->akb[slot]) {
        sl_kernel_ctx_fail(ctx, SL_UNIMPLEMENTED, "no CPU %s loop for %s", op, sl_dtype_name(sl_tensor_dtype(x)));
        return;
    }
    sl_tensor *o = sl__k_out(ctx, 0, &os);
    if (!o)
        return;
    int64_t nout = sl_tensor_num_elements(o);
    if (nout == 0)
        return;
    red_plan p;
    plan_reduction(in, reduce, &p);
    if (sl_tensor_num_elements(x) == 0) {
        /* every output reduces an empty set: R = 0 in the [A, R, B] form */
        p.is_akb = true;
        p.A = nout;
        p.R = 0;
        p.B = 1;
        p.count = 0;
    }
    red_job j = {&p, sl_tensor_data(x), sl_tensor_data(o), 0};
    red_shard_arg s = {&j, NULL, NULL};
    if (p.is_akb) {
        j.nbc = (p.B + BLOCK - 1) / BLOCK;
        s.akb = r->akb[slot];
        sl__k_parallel(ctx, p.A * j.nbc, p.R * (p.B < BLOCK ? p.B : BLOCK) + 1, red_shard, &s);
    } else {
        s.gen = r->gen[slot];
        sl__k_parallel(ctx, nout, 4 * p.count + 1, red_shard, &s);
    }
}

/* ---- ArgMax / ArgMin --------------------------------------------------------- */

typedef struct arg_job {
    const void *x;
    void *o;
    bool out64;
    bool is_max;
    int64_t R, B;
} arg_job;

#define ARG_LOOP(NAME, T)                                                                       \
    static void NAME(const arg_job *j, int64_t begin, int64_t end)                              \
    {                                                                                           \
        const T *x = j->x;                                                                      \
        for (int64_t w = begin; w < end; w++) {                                                 \
            int64_t a = w / j->B, b = w % j->B;                                                 \
            const T *xp = x + a * j->R * j->B + b;                                              \
            T best = xp[0];                                                                     \
            int64_t at = 0;                                                                     \
            for (int64_t r = 1; r < j->R; r++) {                                                \
                T v = xp[r * j->B];                                                             \
                if (j->is_max ? v > best : v < best) {                                          \
                    best = v;                                                                   \
                    at = r;                                                                     \
                }                                                                               \
            }                                                                                   \
            if (j->out64)                                                                       \
                ((int64_t *)j->o)[w] = at;                                                      \
            else                                                                                \
                ((int32_t *)j->o)[w] = (int32_t)at;                                             \
        }                                                                                       \
    }
ARG_LOOP(arg_f32, float)
ARG_LOOP(arg_f64, double)
ARG_LOOP(arg_i32, int32_t)
ARG_LOOP(arg_i64, int64_t)

typedef struct arg_shard_arg {
    const arg_job *j;
    void (*fn)(const arg_job *j, int64_t begin, int64_t end);
} arg_shard_arg;

static void arg_shard(void *arg, int64_t begin, int64_t end)
{
    const arg_shard_arg *s = arg;
    s->fn(s->j, begin, end);
}

static void arg_compute(sl_kernel_ctx *ctx)
{
    const sl_node *node = sl_kernel_ctx_node(ctx);
    const sl_tensor *x = sl_kernel_ctx_input(ctx, 0), *dim = sl_kernel_ctx_input(ctx, 1);
    const sl_shape *in = sl_tensor_shape(x);
    if (!sl__k_check_int_vector(ctx, dim, "dimension"))
        return;
    if (sl_tensor_num_elements(dim) != 1) {
        sl_kernel_ctx_fail(ctx, SL_INVALID_ARGUMENT, "dimension must hold one axis, got %s",
                           sl__k_shape_str(sl_tensor_shape(dim), 0));
        return;
    }
    int axis;
    if (!sl__k_axis(ctx, sl__k_int_at(dim, 0), in->rank, "dimension", &axis))
        return;
    if (in->dims[axis] == 0) {
        sl_kernel_ctx_fail(ctx, SL_INVALID_ARGUMENT, "reduction axis %d is empty in shape %s", axis,
                           sl__k_shape_str(in, 0));
        return;
    }
    sl_shape os = {.rank = 0};
    int64_t A = 1, B = 1;
    for (int d = 0; d < in->rank; d++) {
        if (d == axis)
            continue;
        os.dims[os.rank++] = in->dims[d];
        if (d < axis)
            A *= in->dims[d];
        else
            B *= in->dims[d];
    }
    sl_tensor *o = sl__k_out(ctx, 0, &os);
    if (!o)
        return;
    sl_dtype dt = sl_tensor_dtype(x);
    arg_job j = {sl_tensor_data(x), sl_tensor_data(o), sl_node_output_type(node, 0) == SL_DTYPE_INT64,
                 !strcmp(sl_node_op_type(node), "ArgMax"), in->dims[axis], B};
    arg_shard_arg s = {&j, dt == SL_DTYPE_FLOAT ? arg_f32 : dt == SL_DTYPE_DOUBLE ? arg_f64
                           : dt == SL_DTYPE_INT32 ? arg_i32 : arg_i64};
    sl__k_parallel(ctx, A * B, j.R + 1, arg_shard, &s);
}

#define RED_K(OP, TYPES) {.op = OP, .device = SL_DEVICE_CPU, .constraints = {TYPES}, .compute = reduce_compute}
#define ARG_K(OP)                                                                               \
    {.op = OP, .device = SL_DEVICE_CPU, .constraints = {SL_K_NUMBERS, "output_type: {int32, int64}"}, \
     .compute = arg_compute}

static const sl_kernel_def reduce_kernels[] = {
    RED_K("Sum", SL_K_NUMBERS), RED_K("Mean", SL_K_NUMBERS), RED_K("Prod", SL_K_NUMBERS),
    RED_K("Max", SL_K_NUMBERS), RED_K("Min", SL_K_NUMBERS),
    {.op = "All", .device = SL_DEVICE_CPU, .compute = reduce_compute},
    {.op = "Any", .device = SL_DEVICE_CPU, .compute = reduce_compute},
    ARG_K("ArgMax"), ARG_K("ArgMin"),
};

void sl__kernels_register_reduce(void);
void sl__kernels_register_reduce(void)
{
    sl__kernel_register_table(reduce_kernels, SL_COUNTOF_K(reduce_kernels));
}
