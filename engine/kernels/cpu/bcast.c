/* NumPy broadcasting plans and their parallel walker (see bcast.h). */
#include "config.h"

#include "bcast.h"

#include <string.h>

bool sl__bcast_init(sl_kernel_ctx *ctx, sl_bcast *b, int nin, const sl_shape *const *in)
{
    memset(b, 0, sizeof(*b));
    b->nin = nin;
    int R = 0;
    for (int i = 0; i < nin; i++)
        if (in[i]->rank > R)
            R = in[i]->rank;
    int64_t al[SL_BCAST_MAX_IN][SL_MAX_DIMS];
    for (int i = 0; i < nin; i++)
        for (int d = 0; d < R; d++) {
            int k = d - (R - in[i]->rank);
            al[i][d] = k < 0 ? 1 : in[i]->dims[k];
        }
    b->out.rank = R;
    for (int d = 0; d < R; d++) {
        int64_t o = 1;
        for (int i = 0; i < nin; i++) {
            if (al[i][d] == 1)
                continue;
            if (o != 1 && o != al[i][d]) {
                if (nin == 2)
                    sl_kernel_ctx_fail(ctx, SL_INVALID_ARGUMENT, "incompatible shapes for broadcasting: %s and %s",
                                       sl__k_shape_str(in[0], 0), sl__k_shape_str(in[1], 1));
                else
                    sl_kernel_ctx_fail(ctx, SL_INVALID_ARGUMENT,
                                       "incompatible shapes for broadcasting: %s, %s and %s",
                                       sl__k_shape_str(in[0], 0), sl__k_shape_str(in[1], 1),
                                       sl__k_shape_str(in[2], 2));
                return false;
            }
            o = al[i][d];
        }
        b->out.dims[d] = o;
    }
    b->n = sl_shape_num_elements(&b->out);
    /* collapse: drop size-1 output dims, merge runs with equal broadcast flags */
    bool prev_flag[SL_BCAST_MAX_IN] = {false};
    b->rank = 0;
    for (int d = 0; d < R; d++) {
        int64_t o = b->out.dims[d];
        if (o == 1)
            continue;
        bool flag[SL_BCAST_MAX_IN];
        bool same = b->rank > 0;
        for (int i = 0; i < nin; i++) {
            flag[i] = al[i][d] != o;
            if (flag[i] != prev_flag[i])
                same = false;
        }
        if (same) {
            b->dims[b->rank - 1] *= o;
        } else {
            b->dims[b->rank] = o;
            for (int i = 0; i < nin; i++)
                b->strides[i][b->rank] = flag[i] ? 0 : 1;  /* marks; real strides below */
            b->rank++;
        }
        memcpy(prev_flag, flag, sizeof(flag));
    }
    if (b->rank == 0) {
        b->rank = 1;
        b->dims[0] = b->n;  /* 1, or 0 for an empty output */
        for (int i = 0; i < nin; i++)
            b->strides[i][0] = 1;
    }
    for (int i = 0; i < nin; i++) {
        int64_t s = 1;
        for (int d = b->rank - 1; d >= 0; d--) {
            if (b->strides[i][d]) {
                b->strides[i][d] = s;
                s *= b->dims[d];
            }
        }
    }
    return true;
}

typedef struct bcast_job {
    const sl_bcast *b;
    sl_bcast_fn fn;
    void *arg;
} bcast_job;

static void bcast_shard(void *arg, int64_t begin, int64_t end)
{
    const bcast_job *j = arg;
    const sl_bcast *b = j->b;
    int r = b->rank, nin = b->nin;
    int64_t idx[SL_MAX_DIMS];
    int64_t off[SL_BCAST_MAX_IN] = {0}, step[SL_BCAST_MAX_IN];
    int64_t rem = begin;
    for (int d = r - 1; d >= 0; d--) {
        idx[d] = rem % b->dims[d];
        rem /= b->dims[d];
    }
    for (int i = 0; i < nin; i++) {
        step[i] = b->strides[i][r - 1] ? 1 : 0;
        for (int d = 0; d < r; d++)
            off[i] += idx[d] * b->strides[i][d];
    }
    int64_t pos = begin, inner = b->dims[r - 1];
    while (pos < end) {
        int64_t n = inner - idx[r - 1];
        if (n > end - pos)
            n = end - pos;
        j->fn(j->arg, off, step, pos, n);
        pos += n;
        if (pos >= end)
            break;
        /* advance to the start of the next row */
        for (int i = 0; i < nin; i++)
            off[i] += n * step[i];
        idx[r - 1] += n;
        for (int d = r - 1; d > 0 && idx[d] == b->dims[d]; d--) {
            for (int i = 0; i < nin; i++)
                off[i] -= b->dims[d] * b->strides[i][d];
            idx[d] = 0;
            idx[d - 1]++;
            for (int i = 0; i < nin; i++)
                off[i] += b->strides[i][d - 1];
        }
    }
}

void sl__bcast_run(sl_kernel_ctx *ctx, const sl_bcast *b, int64_t cost, sl_bcast_fn fn, void *arg)
{
    if (b->n <= 0)
        return;
    bcast_job j = {b, fn, arg};
    sl__k_parallel(ctx, b->n, cost, bcast_shard, &j);
}
