/* PNG images for image summaries, encoded and decoded with Cairo.
 *
 * Pixels are 8-bit, row-major, with 1 (grey), 3 (RGB) or 4 (RGBA)
 * channels, as TF's image summaries take them.  Grey images become
 * 8-bit greyscale PNGs, RGB images RGB PNGs and RGBA images RGBA PNGs.
 * Cairo stores alpha premultiplied, so the colour of pixels with partial
 * alpha may round by one step; opaque pixels are exact.
 *
 * Thread-safety: pure functions; safe from any thread.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "sluice/macros.h"
#include "sluice/status.h"

SL_BEGIN_DECLS

/* Encodes width x height pixels of `channels` bytes each, rows `stride`
 * bytes apart (0 means width * channels), into a PNG.  On success *png is
 * a new sl_malloc'd buffer of *png_size bytes the caller owns (release
 * with sl_free()).  SL_INVALID_ARGUMENT for bad sizes or channel counts,
 * SL_RESOURCE_EXHAUSTED, SL_INTERNAL for a Cairo failure; *png untouched
 * on failure. */
SL_API sl_code sl_image_encode_png(const uint8_t *pixels, int width, int height, int channels,
                                   size_t stride, uint8_t **png, size_t *png_size, sl_status *st);

/* Decodes a PNG into tightly packed RGBA pixels (4 bytes per pixel,
 * un-premultiplied).  On success *rgba (sl_malloc'd, caller owns) holds
 * *width * *height * 4 bytes.  SL_INVALID_ARGUMENT for data that is not a
 * PNG Cairo can read, SL_RESOURCE_EXHAUSTED. */
SL_API sl_code sl_image_decode_png(const void *png, size_t size, uint8_t **rgba, int *width,
                                   int *height, sl_status *st);

/* Reads width and height from a PNG's IHDR without decoding.
 * SL_INVALID_ARGUMENT when the bytes do not start like a PNG. */
SL_API sl_code sl_image_png_size(const void *png, size_t size, int *width, int *height,
                                 sl_status *st);

SL_END_DECLS
