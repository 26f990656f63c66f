/* Direct float32 matrix product with AVX-512 register tiles, used by
 * matmul.c for products of few rows (a batch of activations times a
 * weight matrix) when the CPU has AVX-512 (gemm-direct.c; checked at run
 * time).  Nothing is packed: B is read as it is, one row segment of up to
 * 64 columns per step of the inner dimension.
 *
 * Thread-safety: the functions keep no state; callers give concurrent
 * calls disjoint blocks of C.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

/* C[m, n] = A[m, k] B[k, n] (+ bias) (then max(0, .) when relu), row-major
 * with row strides; m and n are implied by the block asked for. */
typedef struct sl_sgemm {
    const float *a;
    int64_t lda;
    const float *b;
    int64_t ldb;
    float *c;
    int64_t ldc;
    int64_t k;
    const float *bias;  /* NULL, or [n]: added to every row of C */
    bool relu;
} sl_sgemm;

/* Whether this CPU runs sl__sgemm_direct (AVX-512F). */
bool sl__sgemm_direct_available(void);

/* Writes rows [i0, i1) and columns [j0, j1) of C (k may be 0: C = bias). */
void sl__sgemm_direct(const sl_sgemm *g, int64_t i0, int64_t i1, int64_t j0, int64_t j1);
