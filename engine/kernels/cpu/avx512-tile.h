/* The ends of an AVX-512 register tile (rows of up to 4 vectors of 16
 * floats), shared by the direct convolution (conv-direct.c) and matrix
 * (gemm-direct.c) kernels.  Include only from code compiled with x86
 * intrinsics; the functions carry the avx512f target themselves and are
 * inlined into their callers, which must be avx512f functions too. */
#pragma once

#include <immintrin.h>
#include <stdbool.h>
#include <stdint.h>

#define SL_AVX512 __attribute__((target("avx512f")))
#define SL_TILE_INLINE static inline __attribute__((always_inline)) SL_AVX512

/* Adds bias[0..16*J) (when not NULL) to every row of acc[0..R), then
 * clamps at 0 when relu; the last vector reads under `last`. */
SL_TILE_INLINE void sl__tile_bias_relu(__m512 acc[][4], const int R, const int J, const float *bias, bool relu,
                                       __mmask16 last)
{
    if (bias) {
#pragma GCC unroll 4
        for (int j = 0; j < J; j++) {
            __m512 b = j == J - 1 ? _mm512_maskz_loadu_ps(last, bias + 16 * j) : _mm512_loadu_ps(bias + 16 * j);
#pragma GCC unroll 12
            for (int r = 0; r < R; r++)
                acc[r][j] = _mm512_add_ps(acc[r][j], b);
        }
    }
    if (relu) {
#pragma GCC unroll 12
        for (int r = 0; r < R; r++)
#pragma GCC unroll 4
            for (int j = 0; j < J; j++)
                acc[r][j] = _mm512_max_ps(acc[r][j], _mm512_setzero_ps());
    }
}

/* Stores rows [0, nr) of acc (nr <= R) to y, rows ld floats apart; the
 * last vector of a row writes under `last`. */
SL_TILE_INLINE void sl__tile_store(__m512 acc[][4], const int R, const int J, int nr, float *y, int64_t ld,
                                   __mmask16 last)
{
#pragma GCC unroll 12
    for (int r = 0; r < R; r++) {
        if (r < nr) {
#pragma GCC unroll 4
            for (int j = 0; j < J; j++) {
                if (j == J - 1)
                    _mm512_mask_storeu_ps(y + r * ld + 16 * j, last, acc[r][j]);
                else
                    _mm512_storeu_ps(y + r * ld + 16 * j, acc[r][j]);
            }
        }
    }
}
