/* Direct float32 NHWC convolution kernels with AVX-512 intrinsics (see
 * conv-direct.h).  Compiled for AVX-512 function by function (target
 * attributes), called only after sl__dconv_available() said yes.
 *
 * Forward: a register tile of R output pixels x 16*J output channels
 * (R = 6 for J = 4, 12 for J = 2, 8 otherwise) accumulates over every tap and input
 * channel: per (tap, channel) it loads J vectors of the filter row and
 * broadcasts one input value per pixel; a tap in the padding reads a row of
 * zeros.  The filter [K, O] is used as it is (no packing); pixels are
 * flattened over (n, i, j), so only the last tile of a range is partial.
 *
 * Filter gradient: for a chunk of 64 output pixels and one tap, the pixels
 * whose tap is inside the input are listed; a register tile of R input
 * channels x 16*J output channels of dW accumulates over them: per pixel it
 * loads J vectors of dy and broadcasts R input values.  The tile lives in
 * dW between chunks, which keeps the chunk's dy in L1.
 */
#include "config.h"

#include "conv-direct.h"

#if defined(__x86_64__) && defined(__GNUC__)
#define SL_DCONV_X86 1
#include "avx512-tile.h"
#endif

#ifdef SL_DCONV_X86

#define AVX512 SL_AVX512
#define TILE_INLINE SL_TILE_INLINE

bool sl__dconv_available(void)
{
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx512f");
}

/* One output pixel: its image's first input row, and the input row and
 * column of its window's first tap. */
typedef struct pix {
    int64_t row0, ih, iw;
} pix;

static void pixels(const sl_dconv *d, int64_t p, int64_t cnt, pix *px)
{
    int64_t j = p % d->ow, t = p / d->ow, i = t % d->oh, n = t / d->oh;
    for (int64_t q = 0; q < cnt; q++) {
        px[q] = (pix){n * d->h, i * d->sh - d->pt, j * d->sw - d->pl};
        if (++j == d->ow) {
            j = 0;
            if (++i == d->oh) {
                i = 0;
                n++;
            }
        }
    }
}

/* The input pixel that tap (a, b) of px reads, or NULL when it is padding. */
static inline const float *tap_ptr(const sl_dconv *d, const pix *px, int64_t a, int64_t b)
{
    int64_t ih = px->ih + a * d->dh, iw = px->iw + b * d->dw;
    if ((uint64_t)ih >= (uint64_t)d->h || (uint64_t)iw >= (uint64_t)d->w)
        return NULL;
    return d->x + ((px->row0 + ih) * d->w + iw) * d->cin;
}

static inline __mmask16 tail_mask(int64_t rem, int J)
{
    int64_t last = rem - 16 * (J - 1);
    return last >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << last) - 1);
}

/* ---- forward ------------------------------------------------------------------------ */

TILE_INLINE void fwd_tile(const sl_dconv *d, const pix *px, const float *f, __mmask16 last, float *y, int nr,
                          const float *bias, const int R, const int J)
{
    const bool relu = d->relu;
    const int64_t ld = d->ldo ? d->ldo : d->o;
    __m512 acc[12][4];
#pragma GCC unroll 12
    for (int r = 0; r < R; r++)
#pragma GCC unroll 4
        for (int j = 0; j < J; j++)
            acc[r][j] = _mm512_setzero_ps();
    const int64_t C = d->cin, O = ld;
    for (int64_t a = 0; a < d->kh; a++) {
        for (int64_t b = 0; b < d->kw; b++) {
            const float *xr[12];
#pragma GCC unroll 12
            for (int r = 0; r < R; r++) {
                xr[r] = tap_ptr(d, &px[r], a, b);
                if (!xr[r])
                    xr[r] = d->zeros;
            }
            for (int64_t c = 0; c < C; c++, f += O) {
                __m512 w[4];
#pragma GCC unroll 4
                for (int j = 0; j < J; j++)
                    w[j] = j == J - 1 ? _mm512_maskz_loadu_ps(last, f + 16 * j) : _mm512_loadu_ps(f + 16 * j);
#pragma GCC unroll 12
                for (int r = 0; r < R; r++) {
                    __m512 v = _mm512_set1_ps(xr[r][c]);
#pragma GCC unroll 4
                    for (int j = 0; j < J; j++)
                        acc[r][j] = _mm512_fmadd_ps(v, w[j], acc[r][j]);
                }
            }
        }
    }
    sl__tile_bias_relu(acc, R, J, bias, relu, last);
    sl__tile_store(acc, R, J, nr, y, O, last);
}

#define FWD_TILE(R, J)                                                                                          \
    static AVX512 void fwd_tile_##J(const sl_dconv *d, const pix *px, const float *f, __mmask16 last, float *y, \
                                    int nr, const float *bias)                                                  \
    {                                                                                                           \
        fwd_tile(d, px, f, last, y, nr, bias, R, J);                                                            \
    }
FWD_TILE(6, 4)
FWD_TILE(8, 3)
FWD_TILE(12, 2)
FWD_TILE(8, 1)

/* Few input channels (the first layer of an image model: cin = 1 or 3) on
 * an input without padding (conv.c copies it into a zero border first,
 * d->unpadded): a tile's cin FMAs per tap would cost less than finding the
 * taps' inputs with bounds checks, so each pixel keeps the offset of its
 * window and each tap adds a fixed offset; no branches. */
TILE_INLINE void fwd_tile_np(const float *x, const int64_t *base, const int64_t *toff, int64_t taps, int64_t C,
                             const float *f, int64_t O, __mmask16 last, float *y, int nr, const float *bias,
                             bool relu, const int R, const int J)
{
    __m512 acc[12][4];
#pragma GCC unroll 12
    for (int r = 0; r < R; r++)
#pragma GCC unroll 4
        for (int j = 0; j < J; j++)
            acc[r][j] = _mm512_setzero_ps();
    for (int64_t t = 0; t < taps; t++) {
        const float *xt = x + toff[t];
        for (int64_t c = 0; c < C; c++, f += O) {
            __m512 w[4];
#pragma GCC unroll 4
            for (int j = 0; j < J; j++)
                w[j] = j == J - 1 ? _mm512_maskz_loadu_ps(last, f + 16 * j) : _mm512_loadu_ps(f + 16 * j);
#pragma GCC unroll 12
            for (int r = 0; r < R; r++) {
                __m512 v = _mm512_set1_ps(xt[base[r] + c]);
#pragma GCC unroll 4
                for (int j = 0; j < J; j++)
                    acc[r][j] = _mm512_fmadd_ps(v, w[j], acc[r][j]);
            }
        }
    }
    sl__tile_bias_relu(acc, R, J, bias, relu, last);
    sl__tile_store(acc, R, J, nr, y, O, last);
}

typedef void (*fwd_np_fn)(const float *x, const int64_t *base, const int64_t *toff, int64_t taps, int64_t C,
                          const float *f, int64_t O, __mmask16 last, float *y, int nr, const float *bias, bool relu);
#define FWD_TILE_NP(R, J)                                                                                        \
    static AVX512 void fwd_tile_np_##J(const float *x, const int64_t *base, const int64_t *toff, int64_t taps,  \
                                       int64_t C, const float *f, int64_t O, __mmask16 last, float *y, int nr, \
                                       const float *bias, bool relu)                                            \
    {                                                                                                            \
        fwd_tile_np(x, base, toff, taps, C, f, O, last, y, nr, bias, relu, R, J);                                \
    }
FWD_TILE_NP(6, 4)
FWD_TILE_NP(8, 3)
FWD_TILE_NP(12, 2)
FWD_TILE_NP(8, 1)

enum { FWD_CHUNK = 96 };  /* pixels per block: a multiple of 6, 8 and 12 */

static AVX512 void forward_unpadded(const sl_dconv *d, int64_t p0, int64_t p1)
{
    enum { MAX_TAPS = 1024 };
    int64_t base[FWD_CHUNK + 12], toff[MAX_TAPS];
    pix px[FWD_CHUNK];
    int64_t taps = d->kh * d->kw, C = d->cin, O = d->o;
    for (int64_t a = 0; a < d->kh; a++)
        for (int64_t b = 0; b < d->kw; b++)
            toff[a * d->kw + b] = (a * d->dh * d->w + b * d->dw) * C;
    static const fwd_np_fn fns[4] = {fwd_tile_np_1, fwd_tile_np_2, fwd_tile_np_3, fwd_tile_np_4};
    for (int64_t pc = p0; pc < p1; pc += FWD_CHUNK) {
        int64_t np = p1 - pc < FWD_CHUNK ? p1 - pc : FWD_CHUNK;
        pixels(d, pc, np, px);
        for (int64_t q = 0; q < np; q++)
            base[q] = ((px[q].row0 + px[q].ih) * d->w + px[q].iw) * C;
        for (int64_t q = np; q < np + 12; q++)  /* a partial tile repeats the last pixel */
            base[q] = base[np - 1];
        for (int64_t o0 = 0; o0 < O; o0 += 64) {
            int64_t rem = O - o0;
            int J = rem >= 64 ? 4 : (int)((rem + 15) / 16), R = J == 4 ? 6 : J == 2 ? 12 : 8;
            __mmask16 last = tail_mask(rem, J);
            for (int64_t q = 0; q < np; q += R) {
                int nr = np - q < R ? (int)(np - q) : R;
                fns[J - 1](d->x, base + q, toff, taps, C, d->f + o0, O, last, d->y + (pc + q - d->y_p0) * O + o0, nr,
                           d->bias ? d->bias + o0 : NULL, d->relu);
            }
        }
    }
}

bool sl__dconv_wants_unpadded(const sl_dconv *d)
{
    return d->cin <= 3 && d->kh * d->kw > 1 && d->kh * d->kw <= 1024;
}

AVX512 void sl__dconv_forward(const sl_dconv *d, int64_t p0, int64_t p1)
{
    if (d->unpadded && sl__dconv_wants_unpadded(d)) {
        forward_unpadded(d, p0, p1);
        return;
    }
    pix px[FWD_CHUNK + 12];
    for (int64_t pc = p0; pc < p1; pc += FWD_CHUNK) {
        int64_t np = p1 - pc < FWD_CHUNK ? p1 - pc : FWD_CHUNK;
        pixels(d, pc, np, px);
        for (int64_t q = np; q < np + 12; q++)  /* a partial tile repeats the last pixel */
            px[q] = px[np - 1];
        for (int64_t o0 = 0; o0 < d->o; o0 += 64) {
            int64_t rem = d->o - o0;
            int J = rem >= 64 ? 4 : (int)((rem + 15) / 16), R = J == 4 ? 6 : J == 2 ? 12 : 8;
            __mmask16 last = tail_mask(rem, J);
            for (int64_t q = 0; q < np; q += R) {
                int nr = np - q < R ? (int)(np - q) : R;
                float *y = d->y + (pc + q - d->y_p0) * (d->ldo ? d->ldo : d->o) + o0;
                const float *bias = d->bias ? d->bias + o0 : NULL;
                switch (J) {
                case 4: fwd_tile_4(d, px + q, d->f + o0, last, y, nr, bias); break;
                case 3: fwd_tile_3(d, px + q, d->f + o0, last, y, nr, bias); break;
                case 2: fwd_tile_2(d, px + q, d->f + o0, last, y, nr, bias); break;
                default: fwd_tile_1(d, px + q, d->f + o0, last, y, nr, bias); break;
                }
            }
        }
    }
}

/* ---- filter gradient ---------------------------------------------------------------- */

/* Rows c0..c0+nr-1 of one tap of dW: x points at channel c0 of the input;
 * the nv valid pixels of the chunk are at x + xo[v] and dy + qi[v] * O. */
TILE_INLINE void dw_tile(const float *x, const int64_t *xo, const int32_t *qi, int64_t nv, const float *dy,
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
    int64_t k[8];  /* a partial tile repeats its last row */
#pragma GCC unroll 8
    for (int r = 0; r < R; r++)
        k[r] = r < nr ? r : nr - 1;
    for (int64_t v = 0; v < nv; v++) {
        const float *xp = x + xo[v], *g = dy + qi[v] * O;
        __m512 w[4];
#pragma GCC unroll 4
        for (int j = 0; j < J; j++)
            w[j] = j == J - 1 ? _mm512_maskz_loadu_ps(last, g + 16 * j) : _mm512_loadu_ps(g + 16 * j);
#pragma GCC unroll 8
        for (int r = 0; r < R; r++) {
            __m512 b = _mm512_set1_ps(xp[k[r]]);
#pragma GCC unroll 4
            for (int j = 0; j < J; j++)
                acc[r][j] = _mm512_fmadd_ps(b, w[j], acc[r][j]);
        }
    }
    sl__tile_store(acc, R, J, nr, dw, O, last);
}

typedef void (*dw_tile_fn)(const float *x, const int64_t *xo, const int32_t *qi, int64_t nv, const float *dy,
                           int64_t O, __mmask16 last, float *dw, int nr);

#define DW_TILE(R, J)                                                                                            \
    static AVX512 void dw_tile_##R##_##J(const float *x, const int64_t *xo, const int32_t *qi, int64_t nv,        \
                                         const float *dy, int64_t O, __mmask16 last, float *dw, int nr)           \
    {                                                                                                            \
        dw_tile(x, xo, qi, nv, dy, O, last, dw, nr, R, J);                                                       \
    }
DW_TILE(6, 4)
DW_TILE(4, 4)
DW_TILE(8, 3)
DW_TILE(4, 3)
DW_TILE(8, 2)
DW_TILE(4, 2)
DW_TILE(8, 1)
DW_TILE(4, 1)

AVX512 void sl__dconv_filter_grad(const sl_dconv *d, int64_t p0, int64_t p1, float *dw)
{
    enum { CHUNK = 64 };
    pix px[CHUNK];
    int64_t xo[CHUNK];
    int32_t qi[CHUNK];
    const int64_t C = d->cin, O = d->o;
    for (int64_t pc = p0; pc < p1; pc += CHUNK) {
        int64_t np = p1 - pc < CHUNK ? p1 - pc : CHUNK;
        pixels(d, pc, np, px);
        const float *dy = d->dy + pc * O;
        for (int64_t a = 0; a < d->kh; a++) {
            for (int64_t b = 0; b < d->kw; b++) {
                int64_t nv = 0;
                for (int64_t q = 0; q < np; q++) {
                    const float *p = tap_ptr(d, &px[q], a, b);
                    if (p) {
                        xo[nv] = p - d->x;
                        qi[nv++] = (int32_t)q;
                    }
                }
                if (nv == 0)
                    continue;
                float *dwt = dw + (a * d->kw + b) * C * O;
                for (int64_t o0 = 0; o0 < O; o0 += 64) {
                    int64_t rem = O - o0;
                    int J = rem >= 64 ? 4 : (int)((rem + 15) / 16), R = J == 4 ? 6 : 8;
                    if (C % R != 0 && C % 4 == 0)
                        R = 4;  /* no partial tiles */
                    __mmask16 last = tail_mask(rem, J);
                    static const dw_tile_fn wide[4] = {dw_tile_8_1, dw_tile_8_2, dw_tile_8_3, dw_tile_6_4};
                    static const dw_tile_fn narrow[4] = {dw_tile_4_1, dw_tile_4_2, dw_tile_4_3, dw_tile_4_4};
                    dw_tile_fn fn = R == 4 ? narrow[J - 1] : wide[J - 1];
                    for (int64_t c0 = 0; c0 < C; c0 += R) {
                        int nr = C - c0 < R ? (int)(C - c0) : R;
                        fn(d->x + c0, xo, qi, nv, dy + o0, O, last, dwt + c0 * O + o0, nr);
                    }
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

bool sl__dconv_wants_unpadded(const sl_dconv *d)
{
    (void)d;
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
