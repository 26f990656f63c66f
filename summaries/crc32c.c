/* CRC-32C, reflected polynomial 0x82F63B78 (FORMATS.md §1).
 *
 * Two implementations compute the same function:
 * - portable: slicing-by-8 over eight 256-entry tables built once
 *   (pthread_once), about 1 byte per cycle;
 * - hw: the SSE4.2 `crc32` instruction, 8 bytes per instruction, compiled
 *   with a target attribute so the rest of the build needs no -msse4.2,
 *   and chosen at run time with __builtin_cpu_supports("sse4.2").
 * The public sl_crc32c_extend() dispatches through a pointer resolved on
 * first use; the race on that pointer is benign (every thread stores the
 * same value) and the pointer is atomic, so it is also well defined.
 */
#include "config.h"

#include "sluice/summaries/crc32c.h"

#include <pthread.h>
#include <stdatomic.h>
#include <string.h>

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define SL_HAVE_SSE42_PATH 1
#include <nmmintrin.h>
#else
#define SL_HAVE_SSE42_PATH 0
#endif

#define POLY 0x82f63b78u

static uint32_t g_table[8][256];
static pthread_once_t g_table_once = PTHREAD_ONCE_INIT;

static void build_tables(void)
{
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t c = i;
        for (int k = 0; k < 8; k++)
            c = (c & 1) ? (c >> 1) ^ POLY : c >> 1;
        g_table[0][i] = c;
    }
    for (uint32_t i = 0; i < 256; i++)
        for (int t = 1; t < 8; t++)
            g_table[t][i] = (g_table[t - 1][i] >> 8) ^ g_table[0][g_table[t - 1][i] & 0xff];
}

uint32_t sl_crc32c_extend_portable(uint32_t crc, const void *data, size_t size)
{
    pthread_once(&g_table_once, build_tables);
    const uint8_t *p = data;
    uint32_t c = ~crc;
    while (size && ((uintptr_t)p & 7)) {
        c = (c >> 8) ^ g_table[0][(c ^ *p++) & 0xff];
        size--;
    }
    while (size >= 8) {
        uint32_t lo = c ^ ((uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
                           (uint32_t)p[3] << 24);
        uint32_t hi = (uint32_t)p[4] | (uint32_t)p[5] << 8 | (uint32_t)p[6] << 16 |
                      (uint32_t)p[7] << 24;
        c = g_table[7][lo & 0xff] ^ g_table[6][(lo >> 8) & 0xff] ^
            g_table[5][(lo >> 16) & 0xff] ^ g_table[4][lo >> 24] ^
            g_table[3][hi & 0xff] ^ g_table[2][(hi >> 8) & 0xff] ^
            g_table[1][(hi >> 16) & 0xff] ^ g_table[0][hi >> 24];
        p += 8;
        size -= 8;
    }
    while (size--)
        c = (c >> 8) ^ g_table[0][(c ^ *p++) & 0xff];
    return ~c;
}

#if SL_HAVE_SSE42_PATH
__attribute__((target("sse4.2")))
uint32_t sl_crc32c_extend_hw(uint32_t crc, const void *data, size_t size)
{
    const uint8_t *p = data;
    uint64_t c = ~crc;
    while (size && ((uintptr_t)p & 7)) {
        c = _mm_crc32_u8((uint32_t)c, *p++);
        size--;
    }
    while (size >= 32) {
        uint64_t a, b, d, e;
        memcpy(&a, p, 8);
        memcpy(&b, p + 8, 8);
        memcpy(&d, p + 16, 8);
        memcpy(&e, p + 24, 8);
        c = _mm_crc32_u64(c, a);
        c = _mm_crc32_u64(c, b);
        c = _mm_crc32_u64(c, d);
        c = _mm_crc32_u64(c, e);
        p += 32;
        size -= 32;
    }
    while (size >= 8) {
        uint64_t a;
        memcpy(&a, p, 8);
        c = _mm_crc32_u64(c, a);
        p += 8;
        size -= 8;
    }
    while (size--)
        c = _mm_crc32_u8((uint32_t)c, *p++);
    return ~(uint32_t)c;
}

bool sl_crc32c_hw_available(void)
{
    return __builtin_cpu_supports("sse4.2");
}
#else
uint32_t sl_crc32c_extend_hw(uint32_t crc, const void *data, size_t size)
{
    return sl_crc32c_extend_portable(crc, data, size);
}

bool sl_crc32c_hw_available(void)
{
    return false;
}
#endif /* SL_HAVE_SSE42_PATH */

typedef uint32_t (*crc_fn)(uint32_t, const void *, size_t);

static uint32_t resolve_and_run(uint32_t crc, const void *data, size_t size);

static _Atomic(crc_fn) g_impl = resolve_and_run;

static uint32_t resolve_and_run(uint32_t crc, const void *data, size_t size)
{
    crc_fn f = sl_crc32c_hw_available() ? sl_crc32c_extend_hw : sl_crc32c_extend_portable;
    atomic_store_explicit(&g_impl, f, memory_order_relaxed);
    return f(crc, data, size);
}

uint32_t sl_crc32c_extend(uint32_t crc, const void *data, size_t size)
{
    return atomic_load_explicit(&g_impl, memory_order_relaxed)(crc, data, size);
}
