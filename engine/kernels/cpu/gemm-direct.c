/* Direct float32 matrix product with AVX-512 intrinsics (see
 * gemm-direct.h).  Compiled for AVX-512 function by function (target
 * attributes), called only after sl__sgemm_direct_available() said yes.
 *
 * A register tile of 6 rows x 16*J columns (J <= 4: 24 accumulators, J
 * vectors of B and one broadcast of A in 32 registers) accumulates over
 * the whole inner dimension: per step it loads J vectors of B's row and
 * broadcasts one value of each of the 6 rows of A.  The rows left over
 * at the end of a chunk go to a 4-row tile when they fit one (64 rows are
 * ten 6-row tiles and one of 4); a partial tile reads its last row again
 * and stores only its own rows.  The last column block loads and stores
 * under a mask, and only that block pays for it.  Rows go
 * in chunks of 96 and the inner dimension in blocks of 512, so a chunk's
 * block of A (<= 192 KiB) and a 512x64 panel of B (128 KiB) stay in L2
 * while the chunk's tiles sweep the panel: B is read from memory once per
 * chunk, never copied.  A tile adds to C after the first block, and the
 * bias and Relu come with the last.
 *
 * The separate file (not conv-direct.c's 1x1 convolution) is for the
 * registers: a tile that knows it reads plain rows keeps its six row
 * pointers, B's pointer and its mask out of memory, which measured ~10%
 * faster on the MNIST MLP's 784x512 and 512x512 products.
 */
#include "config.h"

#include "gemm-direct.h"

#if defined(__x86_64__) && defined(__GNUC__)
#include "avx512-tile.h"

#define AVX512 SL_AVX512

bool sl__sgemm_direct_available(void)
{
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx512f");
}

enum { TILE_ROWS = 6, CHUNK_ROWS = 96, PANEL_COLS = 64, K_BLOCK = 512 };

/* The part of the inner dimension a tile call covers. */
typedef struct kspan {
    int64_t k0, kn;  /* A's columns and B's rows [k0, k0 + kn) */
    bool first;      /* C starts at zero (else the tile adds to C) */
    bool last;       /* bias and Relu apply */
} kspan;

/* One tile of R <= 6 rows: rows a[0..nr) (stride lda), columns b[0..16*J)
 * of B (the last vector under `last` when masked), into c (stride ldc). */
SL_TILE_INLINE void tile(const sl_sgemm *g, const kspan *ks, const float *a, const float *b, float *c,
                         const float *bias, int nr, __mmask16 last, const int R, const int J, const bool masked)
{
    const int64_t lda = g->lda, ldb = g->ldb, K = ks->kn;
    a += ks->k0;
    b += ks->k0 * ldb;
    const float *a0 = a, *a1 = nr > 1 ? a0 + lda : a0, *a2 = nr > 2 ? a1 + lda : a1, *a3 = nr > 3 ? a2 + lda : a2,
                *a4 = nr > 4 ? a3 + lda : a3, *a5 = nr > 5 ? a4 + lda : a4;
    __m512 acc[TILE_ROWS][4];
#pragma GCC unroll 6
    for (int r = 0; r < R; r++)
#pragma GCC unroll 4
        for (int j = 0; j < J; j++) {
            const float *cp = c + (r < nr ? r : nr - 1) * g->ldc + 16 * j;
            acc[r][j] = ks->first                ? _mm512_setzero_ps()
                        : masked && j == J - 1 ? _mm512_maskz_loadu_ps(last, cp)
                                               : _mm512_loadu_ps(cp);
        }
    for (int64_t k = 0; k < K; k++, b += ldb) {
        __m512 w[4];
#pragma GCC unroll 4
        for (int j = 0; j < J; j++)
            w[j] = masked && j == J - 1 ? _mm512_maskz_loadu_ps(last, b + 16 * j) : _mm512_loadu_ps(b + 16 * j);
#define SL_GEMM_ROW(r, ar)                                              \
    {                                                                   \
        __m512 v = _mm512_set1_ps(ar[k]);                               \
        _Pragma("GCC unroll 4") for (int j = 0; j < J; j++)             \
            acc[r][j] = _mm512_fmadd_ps(v, w[j], acc[r][j]);            \
    }
        SL_GEMM_ROW(0, a0)
        SL_GEMM_ROW(1, a1)
        SL_GEMM_ROW(2, a2)
        SL_GEMM_ROW(3, a3)
        if (R > 4) {
            SL_GEMM_ROW(4, a4)
            SL_GEMM_ROW(5, a5)
        }
#undef SL_GEMM_ROW
    }
    if (ks->last)  /* last holds all 16 lanes when not masked */
        sl__tile_bias_relu(acc, R, J, bias, g->relu, last);
    sl__tile_store(acc, R, J, nr, c, g->ldc, last);
}

typedef void (*tile_fn)(const sl_sgemm *g, const kspan *ks, const float *a, const float *b, float *c,
                        const float *bias, int nr, __mmask16 last);

#define SL_GEMM_TILE(NAME, R, J, MASKED)                                                                      \
    static AVX512 void NAME(const sl_sgemm *g, const kspan *ks, const float *a, const float *b, float *c,   \
                            const float *bias, int nr, __mmask16 last)                                      \
    {                                                                                                        \
        tile(g, ks, a, b, c, bias, nr, last, R, J, MASKED);                                                  \
    }
SL_GEMM_TILE(tile6_full, 6, 4, false)
SL_GEMM_TILE(tile6_m1, 6, 1, true)
SL_GEMM_TILE(tile6_m2, 6, 2, true)
SL_GEMM_TILE(tile6_m3, 6, 3, true)
SL_GEMM_TILE(tile6_m4, 6, 4, true)
SL_GEMM_TILE(tile4_full, 4, 4, false)
SL_GEMM_TILE(tile4_m1, 4, 1, true)
SL_GEMM_TILE(tile4_m2, 4, 2, true)
SL_GEMM_TILE(tile4_m3, 4, 3, true)
SL_GEMM_TILE(tile4_m4, 4, 4, true)

void sl__sgemm_direct(const sl_sgemm *g, int64_t i0, int64_t i1, int64_t j0, int64_t j1)
{
    /* [rows 4 or 6][full block, or masked with J = 1..4] */
    static const tile_fn fns[2][5] = {{tile4_full, tile4_m1, tile4_m2, tile4_m3, tile4_m4},
                                      {tile6_full, tile6_m1, tile6_m2, tile6_m3, tile6_m4}};
    /* blocks of K_BLOCK, the last one up to 1.5x that (no short tail) */
    int64_t nk = g->k <= K_BLOCK * 3 / 2 ? 1 : (g->k + K_BLOCK / 2) / K_BLOCK;
    for (int64_t ic = i0; ic < i1; ic += CHUNK_ROWS) {
        int64_t iend = i1 - ic < CHUNK_ROWS ? i1 : ic + CHUNK_ROWS;
        for (int64_t kb = 0; kb < nk; kb++) {
            kspan ks = {kb * K_BLOCK, kb == nk - 1 ? g->k - kb * K_BLOCK : K_BLOCK, kb == 0, kb == nk - 1};
            for (int64_t jc = j0; jc < j1; jc += PANEL_COLS) {
                int64_t cols = j1 - jc < PANEL_COLS ? j1 - jc : PANEL_COLS;
                int variant = 0;
                __mmask16 last = 0xFFFF;
                if (cols < PANEL_COLS) {
                    int J = (int)((cols + 15) / 16);
                    int64_t tail = cols - 16 * (J - 1);
                    last = tail >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << tail) - 1);
                    variant = J;
                }
                const float *bias = g->bias ? g->bias + jc : NULL;
                for (int64_t i = ic; i < iend; i += TILE_ROWS) {
                    int nr = iend - i < TILE_ROWS ? (int)(iend - i) : TILE_ROWS;
                    fns[nr > 4][variant](g, &ks, g->a + i * g->lda, g->b + jc, g->c + i * g->ldc + jc, bias, nr,
                                         last);
                }
            }
        }
    }
}

#else /* not x86-64 with GCC or Clang */

bool sl__sgemm_direct_available(void)
{
    return false;
}

void sl__sgemm_direct(const sl_sgemm *g, int64_t i0, int64_t i1, int64_t j0, int64_t j1)
{
    (void)g, (void)i0, (void)i1, (void)j0, (void)j1;
}

#endif
