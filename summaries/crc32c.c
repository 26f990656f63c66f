/* CRC-32C, reflected polynomial 0x82F63B78 (FORMATS.md §1).
 *
 * Two implementations compute the same function:
 * - portable: slicing-by-8 over eight 256-entry tables built once
 *   (pthread_once), about 1 byte per cycle;
 * - hw: the SSE4.2 `crc32` instruction, 8 bytes per instruction, compiled
 *   with a target attribute so the rest of the build needs no -msse4.2,
 *   and chosen at run time with __builtin_cpu_supports("sse4.2").  The
 *   instruction has a latency of 3 cycles and a throughput of 1, so long
 *   buffers are cut into three blocks whose CRCs run interleaved and are
 *   then combined by "appending zeros" to the first ones, a linear map
 *   applied with four 256-entry tables per block size (the method of Mark
 *   Adler's crc32c.c, written here from the GF(2) algebra).
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

/* ---- zeros operators: crc register after appending n zero bytes ---------- */

#define HW_LONG 8192 /* block sizes of the 3-way interleave (powers of two) */
#define HW_SHORT 256

static uint32_t g_zeros_long[4][256];
static uint32_t g_zeros_short[4][256];
static pthread_once_t g_zeros_once = PTHREAD_ONCE_INIT;

static uint32_t gf2_times(const uint32_t *mat, uint32_t vec)
{
    uint32_t sum = 0;
    for (; vec; vec >>= 1, mat++)
        if (vec & 1)
            sum ^= *mat;
    return sum;
}

static void gf2_square(uint32_t *square, const uint32_t *mat)
{
    for (int n = 0; n < 32; n++)
        square[n] = gf2_times(mat, mat[n]);
}

/* The operator (a 32x32 GF(2) matrix, one column per word) that feeds
 * `bytes` zero bytes (a power of two) through the CRC register. */
static void zeros_operator(uint32_t *op, size_t bytes)
{
    uint32_t a[32], b[32];
    a[0] = POLY; /* one zero bit */
    for (int n = 1; n < 32; n++)
        a[n] = 1u << (n - 1);
    gf2_square(b, a); /* two bits */
    gf2_square(a, b); /* four bits */
    gf2_square(b, a); /* one byte */
    uint32_t *cur = b, *other = a;
    for (size_t k = 1; k < bytes; k <<= 1) {
        gf2_square(other, cur);
        uint32_t *t = cur;
        cur = other;
        other = t;
    }
    memcpy(op, cur, sizeof a);
}

static void zeros_tables(uint32_t tab[4][256], size_t bytes)
{
    uint32_t op[32];
    zeros_operator(op, bytes);
    for (uint32_t n = 0; n < 256; n++)
        for (int k = 0; k < 4; k++)
            tab[k][n] = gf2_times(op, n << (8 * k));
}

static void build_zeros(void)
{
    zeros_tables(g_zeros_long, HW_LONG);
    zeros_tables(g_zeros_short, HW_SHORT);
}

static inline uint32_t shift_crc(uint32_t tab[4][256], uint32_t crc)
{
    return tab[0][crc & 0xff] ^ tab[1][(crc >> 8) & 0xff] ^ tab[2][(crc >> 16) & 0xff] ^
           tab[3][crc >> 24];
}

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
/* No alignment prologue: x86 loads unaligned words at full speed, and the
 * records of event files are mostly under 100 bytes, where a byte-wise
 * prologue would cost as much as the words. */
/* Three interleaved CRCs over [p, p + 3 * block), combined into c. */
__attribute__((target("sse4.2")))
static inline uint64_t crc_3way(uint64_t c, const uint8_t *p, size_t block, uint32_t tab[4][256])
{
    uint64_t c1 = 0, c2 = 0;
    for (size_t i = 0; i < block; i += 8) {
        uint64_t a, b, d;
        memcpy(&a, p + i, 8);
        memcpy(&b, p + block + i, 8);
        memcpy(&d, p + 2 * block + i, 8);
        c = _mm_crc32_u64(c, a);
        c1 = _mm_crc32_u64(c1, b);
        c2 = _mm_crc32_u64(c2, d);
    }
    c = shift_crc(tab, (uint32_t)c) ^ (uint32_t)c1;
    return shift_crc(tab, (uint32_t)c) ^ (uint32_t)c2;
}

__attribute__((target("sse4.2")))
uint32_t sl_crc32c_extend_hw(uint32_t crc, const void *data, size_t size)
{
    const uint8_t *p = data;
    uint64_t c = ~crc;
    if (size >= 3 * HW_SHORT) {
        pthread_once(&g_zeros_once, build_zeros);
        while (size >= 3 * HW_LONG) {
            c = crc_3way(c, p, HW_LONG, g_zeros_long);
            p += 3 * HW_LONG;
            size -= 3 * HW_LONG;
        }
        while (size >= 3 * HW_SHORT) {
            c = crc_3way(c, p, HW_SHORT, g_zeros_short);
            p += 3 * HW_SHORT;
            size -= 3 * HW_SHORT;
        }
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
    uint32_t c32 = (uint32_t)c;
    if (size >= 4) {
        uint32_t a;
        memcpy(&a, p, 4);
        c32 = _mm_crc32_u32(c32, a);
        p += 4;
        size -= 4;
    }
    if (size >= 2) {
        uint16_t a;
        memcpy(&a, p, 2);
        c32 = _mm_crc32_u16(c32, a);
        p += 2;
        size -= 2;
    }
    if (size)
        c32 = _mm_crc32_u8(c32, *p);
    return ~c32;
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
