/* Direct float32 NHWC convolution kernels with AVX-512 intrinsics (see
 * conv-direct.h).  Compiled for AVX-512 function by function (target
 * attributes), called only after sl__dconv_available() said yes.
 *
 * Forward: a register tile of R output pixels x 16*J output channels
 * (R = 6 for J = 4, R = 8 below) accumulates over every tap and input
 * channel: per (tap, channel) it loads J vectors of the filter row and
 * broadcasts one input value per pixel.  The filter [K, O] is used as it is
 * (no packing); pixels are flattened over (n, i, j), so only the very last
 * tile of a range is partial.
 *
 * Filter gradient: a register tile of R rows of dW (flattened k = (tap, c))
 * x 16*J output channels accumulates over a chunk of 64 output pixels: per
 * pixel it loads J vectors of dy and broadcasts one input value per row.
 * The tile lives in dW between chunks.
 */
#include "config.h"

#include "conv-direct.h"

#if defined(__x86_64__) && defined(__GNUC__)
#define SL_DCONV_X86 1
#include <immintrin.h>
#endif

#ifdef SL_DCONV_X86

#define AVX512 __attribute__((target("avx512f")))
#define TILE_INLINE static inline __attribute__((always_inline)) AVX512

bool sl__dconv_available(void)
{
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx512f");
}

/* Offsets of the input base of pixels [p, p + cnt) into off[]. */
static void pixel_offsets(const sl_dconv *d, int64_t p, int64_t cnt, int64_t *off)
{
    int64_t j = p % d->ow, t = p / d->ow, i = t % d->oh, n = t / d->oh;
    for (int64_t q = 0; q < cnt; q++) {
        off[q] = ((n * d->hp + i * d->sh) * d->wp + j * d->sw) * d->cin;
        if (++j == d->ow) {
            j = 0;
            if (++i == d->oh) {
                i = 0;
                n++;
            }
        }
    }
}

static inline __mmask16 tail_mask(int64_t rem, int J)
{
    int64_t last = rem - 16 * (J - 1);
    return last >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << last) - 1);
}

/* ---- forward ------------------------------------------------------------------------ */

TILE_INLINE void fwd_tile(const sl_dconv *d, const int64_t *xoff, const float *f, __mmask16 last, float *y, int nr,
                          const int R, const int J)
{
    __m512 acc[8][4];
#pragma GCC unroll 8
    for (int r = 0; r < R; r++)
#pragma GCC unroll 4
        for (int j = 0; j < J; j++)
            acc[r][j] = _mm512_setzero_ps();
    const int64_t C = d->cin, O = d->o;
    for (int64_t t = 0; t < d->taps; t++) {
        const float *xr[8];
#pragma GCC unroll 8
        for (int r = 0; r < R; r++)
            xr[r] = d->x + xoff[r] + d->tap_off[t];
        for (int64_t c = 0; c < C; c++, f += O) {
            __m512 w[4];
#pragma GCC unroll 4
            for (int j = 0; j < J; j++)
                w[j] = j == J - 1 ? _mm512_maskz_loadu_ps(last, f + 16 * j) : _mm512_loadu_ps(f + 16 * j);
#pragma GCC unroll 8
            for (int r = 0; r < R; r++) {
                __m512 b = _mm512_set1_ps(xr[r][c]);
#pragma GCC unroll 4
                for (int j = 0; j < J; j++)
                    acc[r][j] = _mm512_fmadd_ps(b, w[j], acc[r][j]);
            }
        }
    }
#pragma GCC unroll 8
    for (int r = 0; r < R; r++) {
        if (r < nr) {
#pragma GCC unroll 4
            for (int j = 0; j < J; j++) {
                if (j == J - 1)
                    _mm512_mask_storeu_ps(y + r * O + 16 * j, last, acc[r][j]);
                else
                    _mm512_storeu_ps(y + r * O + 16 * j, acc[r][j]);
            }
        }
    }
}

#define FWD_TILE(R, J)                                                                                       \
    static AVX512 void fwd_tile_##J(const sl_dconv *d, const int64_t *xoff, const float *f, __mmask16 last,   \
                                    float *y, int nr)                                                        \
    {                                                                                                        \
        fwd_tile(d, xoff, f, last, y, nr, R, J);                                                             \
    }
FWD_TILE(6, 4)
FWD_TILE(8, 3)
FWD_TILE(8, 2)
FWD_TILE(8, 1)

AVX512 void sl__dconv_forward(const sl_dconv *d, int64_t p0, int64_t p1)
{
    enum { CHUNK = 96 };  /* pixels per block: a multiple of 6 and 8 */
    int64_t xoff[CHUNK + 8];
    for (int64_t pc = p0; pc < p1; pc += CHUNK) {
        int64_t np = p1 - pc < CHUNK ? p1 - pc : CHUNK;
        pixel_offsets(d, pc, np, xoff);
        for (int64_t q = np; q < np + 8; q++)  /* a partial tile repeats the last pixel */
            xoff[q] = xoff[np - 1];
        for (int64_t o0 = 0; o0 < d->o; o0 += 64) {
            int64_t rem = d->o - o0;
            int J = rem >= 64 ? 4 : (int)((rem + 15) / 16), R = J == 4 ? 6 : 8;
            __mmask16 last = tail_mask(rem, J);
            for (int64_t q = 0; q < np; q += R) {
                int nr = np - q < R ? (int)(np - q) : R;
                float *y = d->y + (pc + q) * d->o + o0;
                switch (J) {
                case 4: fwd_tile_4(d, xoff + q, d->f + o0, last, y, nr); break;
                case 3: fwd_tile_3(d, xoff + q, d->f + o0, last, y, nr); break;
                case 2: fwd_tile_2(d, xoff + q, d->f + o0, last, y, nr); break;
                default: fwd_tile_1(d, xoff + q, d->f + o0, last, y, nr); break;
                }
            }
        }
    }
}

/* ---- filter gradient ---------------------------------------------------------------- */

TILE_INLINE void dw_tile(const float *x, const int64_t *xoff, int64_t np, const int64_t *koff, const float *dy,
                         int64_t O, __mmask16 last, float *dw, int nr, const int R, const int J)
{
    __m512 acc[8][4];
#pragma GCC unroll 8
    for (int r = 0; r < R; r++)
#pragma GCC unroll 4
        for (int j = 0; j < J; j++)
            acc[r][j] = r >= nr ? _mm512_setzero_ps()
                        : j == J - 1 ? _mm512_maskz_loadu_ps(last, dw + r * O + 16 * j)
                                     : _mm512_loadu_ps(dw + r * O + 16 * j);
    int64_t k[8];
#pragma GCC unroll 8
    for (int r = 0; r < R; r++)
        k[r] = koff[r];
    for (int64_t p = 0; p < np; p++, dy += O) {
        const float *xp = x + xoff[p];
        __m512 w[4];
#pragma GCC unroll 4
        for (int j = 0; j < J; j++)
            w[j] = j == J - 1 ? _mm512_maskz_loadu_ps(last, dy + 16 * j) : _mm512_loadu_ps(dy + 16 * j);
#pragma GCC unroll 8
        for (int r = 0; r < R; r++) {
            __m512 b = _mm512_set1_ps(xp[k[r]]);
#pragma GCC unroll 4
            for (int j = 0; j < J; j++)
                acc[r][j] = _mm512_fmadd_ps(b, w[j], acc[r][j]);
        }
    }
#pragma GCC unroll 8
    for (int r = 0; r < R; r++) {
        if (r < nr) {
#pragma GCC unroll 4
            for (int j = 0; j < J; j++) {
                if (j == J - 1)
                    _mm512_mask_storeu_ps(dw + r * O + 16 * j, last, acc[r][j]);
                else
                    _mm512_storeu_ps(dw + r * O + 16 * j, acc[r][j]);
            }
        }
    }
}

#define DW_TILE(R, J)                                                                                            \
    static AVX512 void dw_tile_##J(const float *x, const int64_t *xoff, int64_t np, const int64_t *koff,          \
                                   const float *dy, int64_t O, __mmask16 last, float *dw, int nr)                 \
    {                                                                                                            \
        dw_tile(x, xoff, np, koff, dy, O, last, dw, nr, R, J);                                                   \
    }
DW_TILE(6, 4)
DW_TILE(8, 3)
DW_TILE(8, 2)
DW_TILE(8, 1)

AVX512 void sl__dconv_filter_grad(const sl_dconv *d, int64_t p0, int64_t p1, float *dw)
{
    enum { CHUNK = 64 };
    int64_t xoff[CHUNK];
    const int64_t K = d->taps * d->cin, O = d->o;
    for (int64_t pc = p0; pc < p1; pc += CHUNK) {
        int64_t np = p1 - pc < CHUNK ? p1 - pc : CHUNK;
        pixel_offsets(d, pc, np, xoff);
        const float *dy = d->dy + pc * O;
        for (int64_t o0 = 0; o0 < O; o0 += 64) {
            int64_t rem = O - o0;
            int J = rem >= 64 ? 4 : (int)((rem + 15) / 16), R = J == 4 ? 6 : 8;
            __mmask16 last = tail_mask(rem, J);
            int64_t t = 0, c = 0;  /* tap and channel of row k0 */
            for (int64_t k0 = 0; k0 < K; k0 += R) {
                int nr = K - k0 < R ? (int)(K - k0) : R;
                int64_t koff[8];
                int64_t tt = t, cc = c;
                for (int r = 0; r < R; r++) {
                    koff[r] = d->tap_off[tt] + cc;
                    if (r + 1 < nr && ++cc == d->cin) {
                        cc = 0;
                        tt++;
                    }
                }
                for (int r = 0; r < R; r++) {
                    if (++c == d->cin) {
                        c = 0;
                        t++;
                    }
                }
                float *w = dw + k0 * O + o0;
                switch (J) {
                case 4: dw_tile_4(d->x, xoff, np, koff, dy + o0, O, last, w, nr); break;
                case 3: dw_tile_3(d->x, xoff, np, koff, dy + o0, O, last, w, nr); break;
                case 2: dw_tile_2(d->x, xoff, np, koff, dy + o0, O, last, w, nr); break;
                default: dw_tile_1(d->x, xoff, np, koff, dy + o0, O, last, w, nr); break;
                }
            }
        }
    }
}

#else  /* no x86-64 GCC/Clang: conv.c keeps its portable path */

bool sl__dconv_available(void)
{
    return false;
}

void sl__dconv_forward(const sl_dconv *d, int64_t p0, int64_t p1)
{
    (void)d;
    (void)p0;
    (void)p1;
}

void sl__dconv_filter_grad(const sl_dconv *d, int64_t p0, int64_t p1, float *dw)
{
    (void)d;
    (void)p0;
    (void)p1;
    (void)dw;
}

#endif
