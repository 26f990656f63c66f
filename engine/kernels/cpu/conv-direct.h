/* Direct (im2col-free) float32 convolution kernels for NHWC, used by conv.c
 * when the CPU has AVX-512 (conv-direct.c; checked at run time).
 *
 * Output pixel p = (n, i, j) reads, for tap (a, b) of the window, input
 * pixel (n, i * sh - pt + a * dh, j * sw - pl + b * dw); taps that fall
 * outside the input read zeros (no padded copy is made).  The filter is
 * the [K = kh * kw * cin, O] matrix (TF's [KH, KW, C, O] layout).
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

typedef struct sl_dconv {
    const float *x;          /* input [n, h, w, cin] */
    int64_t h, w, cin;
    int64_t n, oh, ow, o;    /* output [n, oh, ow, o] */
    int64_t kh, kw;
    int64_t sh, sw, dh, dw;
    int64_t pt, pl;          /* padding before; may be negative (a crop) */
    const float *zeros;      /* cin zeros */
    const float *f;          /* forward: filter [kh * kw * cin, o] */
    float *y;                /* forward: output [n * oh * ow, o], from pixel y_p0 on */
    int64_t y_p0;
    int64_t ldo;             /* forward: row stride of f and y (0: o); MatMul's column blocks */            /* forward: the pixel y[0] holds (0: y is the whole output) */
    const float *dy;         /* filter gradient: output gradient [n * oh * ow, o] */
    const float *bias;       /* forward: NULL, or [o] added to every output pixel */
    bool relu;               /* forward: max(0, .) after the bias */
    bool unpadded;           /* forward: every tap is inside x (pt, pl and the far side need no padding) */
} sl_dconv;

/* Whether this CPU runs the kernels below (AVX-512F). */
bool sl__dconv_available(void);

/* Whether the forward kernel has a faster path for d when its input comes
 * without padding (few input channels): conv.c then copies x into a zero
 * border and sets unpadded. */
bool sl__dconv_wants_unpadded(const sl_dconv *d);

/* Forward: writes output pixels [p0, p1) of d->y. */
void sl__dconv_forward(const sl_dconv *d, int64_t p0, int64_t p1);

/* Filter gradient: dw[K, O] += patches[p0:p1]^T x dy[p0:p1]. */
void sl__dconv_filter_grad(const sl_dconv *d, int64_t p0, int64_t p1, float *dw);
