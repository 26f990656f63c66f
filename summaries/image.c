/* PNG encoding and decoding through Cairo's image surfaces (the contract
 * is in sluice/summaries/image.h).
 *
 * Cairo's formats map onto PNG colour types: A8 is written as 8-bit
 * greyscale (the alpha byte becomes the grey level), RGB24 as RGB and
 * ARGB32 as RGBA after un-premultiplying.  Pixels are copied into a Cairo
 * surface in its native-endian 32-bit layout, then written through a
 * stream callback into a growable buffer, so no file is involved.
 */
#include "config.h"

#include "sluice/summaries/image.h"

#include <cairo.h>
#include <string.h>

#include "sluice/alloc.h"
#include "summaries-private.h"

typedef struct png_sink {
    sl__buf buf;
    bool failed;
} png_sink;

static cairo_status_t sink_write(void *closure, const unsigned char *data, unsigned int length)
{
    png_sink *s = closure;
    if (sl__buf_append(&s->buf, data, length, NULL) != SL_OK) {
        s->failed = true;
        return CAIRO_STATUS_WRITE_ERROR;
    }
    return CAIRO_STATUS_SUCCESS;
}

sl_code sl_image_encode_png(const uint8_t *pixels, int width, int height, int channels, size_t stride,
                            uint8_t **png, size_t *png_size, sl_status *st)
{
    if (width <= 0 || height <= 0 || width > 32767 || height > 32767)
        return sl_status_set(st, SL_INVALID_ARGUMENT, "image size %dx%d out of range", width,
                             height);
    if (channels != 1 && channels != 3 && channels != 4)
        return sl_status_set(st, SL_INVALID_ARGUMENT, "image with %d channels (want 1, 3 or 4)",
                             channels);
    if (stride == 0)
        stride = (size_t)width * (size_t)channels;
    if (stride < (size_t)width * (size_t)channels)
        return sl_status_set(st, SL_INVALID_ARGUMENT, "image stride %zu below a row of %d pixels",
                             stride, width);
    cairo_format_t fmt = channels == 1 ? CAIRO_FORMAT_A8
                         : channels == 3 ? CAIRO_FORMAT_RGB24
                                         : CAIRO_FORMAT_ARGB32;
    cairo_surface_t *surf = cairo_image_surface_create(fmt, width, height);
    if (cairo_surface_status(surf) != CAIRO_STATUS_SUCCESS) {
        cairo_surface_destroy(surf);
        return sl_status_set(st, SL_RESOURCE_EXHAUSTED, "cannot create a %dx%d image surface",
                             width, height);
    }
    cairo_surface_flush(surf);
    uint8_t *dst = cairo_image_surface_get_data(surf);
    int dstride = cairo_image_surface_get_stride(surf);
    for (int y = 0; y < height; y++) {
        const uint8_t *src = pixels + (size_t)y * stride;
        uint8_t *row = dst + (size_t)y * (size_t)dstride;
        if (channels == 1) {
            memcpy(row, src, (size_t)width);
            continue;
        }
        uint32_t *px = (uint32_t *)(void *)row;
        for (int x = 0; x < width; x++) {
            uint32_t r = src[x * channels], g = src[x * channels + 1], b = src[x * channels + 2];
            uint32_t a = channels == 4 ? src[x * channels + 3] : 255;
            if (a != 255) { /* premultiply, rounding as Cairo un-premultiplies */
                r = (r * a + 127) / 255;
                g = (g * a + 127) / 255;
                b = (b * a + 127) / 255;
            }
            px[x] = a << 24 | r << 16 | g << 8 | b;
        }
    }
    cairo_surface_mark_dirty(surf);
    png_sink sink = {SL__BUF_INIT, false};
    cairo_status_t cs = cairo_surface_write_to_png_stream(surf, sink_write, &sink);
    cairo_surface_destroy(surf);
    if (cs != CAIRO_STATUS_SUCCESS || sink.failed) {
        sl__buf_release(&sink.buf);
        if (sink.failed)
            return sl_status_set(st, SL_RESOURCE_EXHAUSTED, "out of memory encoding a PNG");
        return sl_status_set(st, SL_INTERNAL, "cannot encode a PNG: %s",
                             cairo_status_to_string(cs));
    }
    *png = sink.buf.data;
    *png_size = sink.buf.len;
    sl_status_clear(st);
    return SL_OK;
}

typedef struct png_source {
    const uint8_t *p;
    size_t left;
} png_source;

static cairo_status_t source_read(void *closure, unsigned char *data, unsigned int length)
{
    png_source *s = closure;
    if (length > s->left)
        return CAIRO_STATUS_READ_ERROR;
    memcpy(data, s->p, length);
    s->p += length;
    s->left -= length;
    return CAIRO_STATUS_SUCCESS;
}

static const uint8_t png_magic[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};

sl_code sl_image_png_size(const void *png, size_t size, int *width, int *height, sl_status *st)
{
    const uint8_t *p = png;
    if (size < 24 || memcmp(p, png_magic, 8) != 0 || memcmp(p + 12, "IHDR", 4) != 0)
        return sl_status_set(st, SL_INVALID_ARGUMENT, "not a PNG image");
    uint32_t w = (uint32_t)p[16] << 24 | (uint32_t)p[17] << 16 | (uint32_t)p[18] << 8 | p[19];
    uint32_t h = (uint32_t)p[20] << 24 | (uint32_t)p[21] << 16 | (uint32_t)p[22] << 8 | p[23];
    if (w == 0 || h == 0 || w > INT32_MAX || h > INT32_MAX)
        return sl_status_set(st, SL_INVALID_ARGUMENT, "PNG of impossible size %ux%u", w, h);
    *width = (int)w;
    *height = (int)h;
    sl_status_clear(st);
    return SL_OK;
}

sl_code sl_image_decode_png(const void *png, size_t size, uint8_t **rgba, int *width, int *height,
                            sl_status *st)
{
    int w0, h0;
    sl_code c = sl_image_png_size(png, size, &w0, &h0, st);
    if (c != SL_OK)
        return c;
    png_source src = {png, size};
    cairo_surface_t *surf = cairo_image_surface_create_from_png_stream(source_read, &src);
    cairo_status_t cs = cairo_surface_status(surf);
    if (cs != CAIRO_STATUS_SUCCESS) {
        cairo_surface_destroy(surf);
        if (cs == CAIRO_STATUS_NO_MEMORY)
            return sl_status_set(st, SL_RESOURCE_EXHAUSTED, "out of memory decoding a PNG");
        return sl_status_set(st, SL_INVALID_ARGUMENT, "cannot decode PNG: %s",
                             cairo_status_to_string(cs));
    }
    cairo_surface_flush(surf);
    int w = cairo_image_surface_get_width(surf), h = cairo_image_surface_get_height(surf);
    int stride = cairo_image_surface_get_stride(surf);
    cairo_format_t fmt = cairo_image_surface_get_format(surf);
    const uint8_t *data = cairo_image_surface_get_data(surf);
    uint8_t *out = sl_malloc((size_t)w * (size_t)h * 4);
    if (!out) {
        cairo_surface_destroy(surf);
        return sl_status_set(st, SL_RESOURCE_EXHAUSTED, "out of memory decoding a PNG");
    }
    for (int y = 0; y < h; y++) {
        const uint8_t *row = data + (size_t)y * (size_t)stride;
        uint8_t *o = out + (size_t)y * (size_t)w * 4;
        for (int x = 0; x < w; x++, o += 4) {
            if (fmt == CAIRO_FORMAT_A8) {
                o[0] = o[1] = o[2] = row[x];
                o[3] = 255;
                continue;
            }
            uint32_t px;
            memcpy(&px, row + 4 * x, 4);
            uint32_t a = fmt == CAIRO_FORMAT_ARGB32 ? px >> 24 : 255;
            uint32_t r = (px >> 16) & 0xff, g = (px >> 8) & 0xff, b = px & 0xff;
            if (a != 255 && a != 0) {
                r = (r * 255 + a / 2) / a;
                g = (g * 255 + a / 2) / a;
                b = (b * 255 + a / 2) / a;
            }
            o[0] = (uint8_t)(r > 255 ? 255 : r);
            o[1] = (uint8_t)(g > 255 ? 255 : g);
            o[2] = (uint8_t)(b > 255 ? 255 : b);
            o[3] = (uint8_t)a;
        }
    }
    cairo_surface_destroy(surf);
    *rgba = out;
    *width = w;
    *height = h;
    sl_status_clear(st);
    return SL_OK;
}
