/* CRC-32C (Castagnoli) and the LevelDB/TFRecord mask (FORMATS.md §1).
 *
 * sl_crc32c_extend() uses the SSE4.2 `crc32` instruction when the CPU has
 * it (checked once at run time) and a slicing-by-8 table otherwise.  Both
 * paths are exported so tests can check each against the vectors.
 *
 * Thread-safety: pure functions; safe from any thread.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sluice/macros.h"

SL_BEGIN_DECLS

/* The CRC of `data` continuing from the CRC `crc` of the bytes before it
 * (0 for none): sl_crc32c_extend(sl_crc32c(a), b) == sl_crc32c(a ++ b). */
SL_API uint32_t sl_crc32c_extend(uint32_t crc, const void *data, size_t size);

/* The CRC-32C of `size` bytes (0x00000000 for none). */
static inline uint32_t sl_crc32c(const void *data, size_t size)
{
    return sl_crc32c_extend(0, data, size);
}

/* The table-driven path, available everywhere. */
SL_API uint32_t sl_crc32c_extend_portable(uint32_t crc, const void *data, size_t size);

/* The SSE4.2 path; only call it when sl_crc32c_hw_available(). */
SL_API uint32_t sl_crc32c_extend_hw(uint32_t crc, const void *data, size_t size);

/* Whether this CPU has the CRC-32C instruction (and this build uses it). */
SL_API bool sl_crc32c_hw_available(void);

#define SL_CRC32C_MASK_DELTA 0xa282ead8u

/* ror32(crc, 15) + 0xa282ead8, as stored in TFRecord files. */
static inline uint32_t sl_crc32c_mask(uint32_t crc)
{
    return ((crc >> 15) | (crc << 17)) + SL_CRC32C_MASK_DELTA;
}

static inline uint32_t sl_crc32c_unmask(uint32_t masked)
{
    uint32_t rot = masked - SL_CRC32C_MASK_DELTA;
    return (rot >> 17) | (rot << 15);
}

SL_END_DECLS
