/* Direct (im2col-free) float32 convolution kernels for NHWC, used by conv.c
 * when the CPU has AVX-512 (conv-direct.c; checked at run time).
 *
 * Both work on a zero-padded copy of the input, so the inner loops have no
 * bounds checks: output pixel p = (n, i, j) reads input element
 *   x[pix_off(p) + tap_off[t] + c],  pix_off(p) = ((n * hp + i * sh) * wp + j * sw) * c_in
 * for tap t (one (a, b) of the window) and channel c.  The filter is the
 * [K = taps * c_in, O] matrix (TF's [KH, KW, C, O] layout).
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

typedef struct sl_dconv {
    const float *x;          /* padded input [n, hp, wp, cin] */
    int64_t hp, wp, cin;
    int64_t n, oh, ow, o;    /* output [n, oh, ow, o] */
    int64_t sh, sw;
    int64_t taps;
    const int64_t *tap_off;  /* [taps] element offsets of each tap from the pixel's base */
    const float *f;          /* forward: filter [taps * cin, o] */
    float *y;                /* forward: output [n * oh * ow, o] */
    const float *dy;         /* filter gradient: output gradient [n * oh * ow, o] */
} sl_dconv;

/* Whether this CPU runs the kernels below (AVX-512F). */
bool sl__dconv_available(void);

/* Forward: writes output pixels [p0, p1) of d->y. */
void sl__dconv_forward(const sl_dconv *d, int64_t p0, int64_t p1);

/* Filter gradient: dw[K, O] += patches[p0:p1]^T x dy[p0:p1]. */
void sl__dconv_filter_grad(const sl_dconv *d, int64_t p0, int64_t p1, float *dw);
