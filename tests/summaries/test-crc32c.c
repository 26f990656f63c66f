/* Tests of summaries/crc32c.c: the vectors of FORMATS.md §1 on both the
 * SSE4.2 and the table path, the mask, and agreement of the two paths on
 * random data of every length and alignment. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "sluice/summaries/crc32c.h"

typedef uint32_t (*crc_fn)(uint32_t, const void *, size_t);

static void check_vectors(crc_fn f)
{
    uint8_t zeros[32], ones[32], inc[32];
    memset(zeros, 0, sizeof zeros);
    memset(ones, 0xff, sizeof ones);
    for (int i = 0; i < 32; i++)
        inc[i] = (uint8_t)i;
    static const uint8_t len24[8] = {0x18, 0, 0, 0, 0, 0, 0, 0};

    assert_int_equal(f(0, "", 0), 0x00000000u);
    assert_int_equal(sl_crc32c_mask(f(0, "", 0)), 0xA282EAD8u);
    assert_int_equal(f(0, "123456789", 9), 0xE3069283u);
    assert_int_equal(sl_crc32c_mask(0xE3069283u), 0xC78AB0E5u);
    assert_int_equal(f(0, zeros, 32), 0x8A9136AAu);
    assert_int_equal(sl_crc32c_mask(0x8A9136AAu), 0x0FD7FFFAu);
    assert_int_equal(f(0, ones, 32), 0x62A8AB43u);
    assert_int_equal(sl_crc32c_mask(0x62A8AB43u), 0xF909B029u);
    assert_int_equal(f(0, inc, 32), 0x46DD794Eu);
    assert_int_equal(sl_crc32c_mask(0x46DD794Eu), 0x951F7892u);
    assert_int_equal(f(0, len24, 8), 0x4A65BFE4u);
    assert_int_equal(sl_crc32c_mask(f(0, len24, 8)), 0x224B7FA3u);

    static const char tb[] = "\x1a\x11" "CRC test, one two";
    assert_int_equal(sl_crc32c_mask(f(0, tb, sizeof tb - 1)), 0x5794D08Au);

    /* the payload of the 40-byte record quoted in FORMATS.md §1 */
    static const uint8_t ev[24] = {0x09, 0xcf, 0xd1, 0x4d, 0x6a, 0xe2, 0x66, 0xd8, 0x41,
                                   0x1a, 0x0d, 'b',  'r',  'a',  'i',  'n',  '.',  'E',
                                   'v',  'e',  'n',  't',  ':',  '2'};
    assert_int_equal(f(0, ev, sizeof ev), 0x8bbcd27bu);
    assert_int_equal(sl_crc32c_mask(f(0, ev, sizeof ev)), 0x477a0251u);

    /* extend == crc of the concatenation */
    assert_int_equal(f(f(0, "1234", 4), "56789", 5), 0xE3069283u);
}

static void test_crc32c_vectors_portable(void **state)
{
    (void)state;
    check_vectors(sl_crc32c_extend_portable);
}

static void test_crc32c_vectors_hw(void **state)
{
    (void)state;
    if (!sl_crc32c_hw_available())
        skip();
    check_vectors(sl_crc32c_extend_hw);
}

static void test_crc32c_vectors_dispatch(void **state)
{
    (void)state;
    check_vectors(sl_crc32c_extend);
    assert_int_equal(sl_crc32c("123456789", 9), 0xE3069283u);
}

static void test_crc32c_mask_roundtrip(void **state)
{
    (void)state;
    uint32_t x = 12345;
    for (int i = 0; i < 100000; i++) {
        x = x * 1664525u + 1013904223u;
        assert_int_equal(sl_crc32c_unmask(sl_crc32c_mask(x)), x);
    }
    assert_int_equal(sl_crc32c_unmask(0x477a0251u), 0x8bbcd27bu);
}

static void test_crc32c_paths_agree(void **state)
{
    (void)state;
    uint8_t *buf = malloc(4096 + 16);
    uint32_t x = 7;
    for (int i = 0; i < 4096 + 16; i++) {
        x = x * 1103515245u + 12345u;
        buf[i] = (uint8_t)(x >> 16);
    }
    bool hw = sl_crc32c_hw_available();
    for (size_t align = 0; align < 8; align++) {
        for (size_t len = 0; len < 300; len++) {
            uint32_t a = sl_crc32c_extend_portable(0, buf + align, len);
            uint32_t d = sl_crc32c_extend(0, buf + align, len);
            assert_int_equal(a, d);
            if (hw)
                assert_int_equal(a, sl_crc32c_extend_hw(0, buf + align, len));
        }
        uint32_t big = sl_crc32c_extend_portable(0, buf + align, 4096);
        assert_int_equal(big, sl_crc32c_extend(0, buf + align, 4096));
        /* split anywhere */
        for (size_t cut = 0; cut < 4096; cut += 37)
            assert_int_equal(big, sl_crc32c_extend(sl_crc32c_extend(0, buf + align, cut),
                                                   buf + align + cut, 4096 - cut));
    }
    free(buf);
}

static void test_crc32c_long_buffers(void **state)
{
    (void)state;
    /* around the sizes where the hw path interleaves three blocks (3 x 256
     * and 3 x 8192 bytes) and combines them */
    size_t cap = 3 * 8192 * 2 + 64;
    uint8_t *buf = malloc(cap);
    uint32_t x = 3;
    for (size_t i = 0; i < cap; i++) {
        x = x * 1103515245u + 12345u;
        buf[i] = (uint8_t)(x >> 16);
    }
    const size_t sizes[] = {767, 768, 769, 775, 1000, 1535, 1536, 4096, 24575, 24576, 24577,
                            24576 + 768, 49151, 49152, 49152 + 63};
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        for (size_t off = 0; off < 2; off++) {
            uint32_t want = sl_crc32c_extend_portable(0x12345678u, buf + off, sizes[i]);
            assert_int_equal(sl_crc32c_extend(0x12345678u, buf + off, sizes[i]), want);
            if (sl_crc32c_hw_available())
                assert_int_equal(sl_crc32c_extend_hw(0x12345678u, buf + off, sizes[i]), want);
        }
    }
    free(buf);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_crc32c_vectors_portable),
        cmocka_unit_test(test_crc32c_vectors_hw),
        cmocka_unit_test(test_crc32c_vectors_dispatch),
        cmocka_unit_test(test_crc32c_mask_roundtrip),
        cmocka_unit_test(test_crc32c_paths_agree),
        cmocka_unit_test(test_crc32c_long_buffers),
    };
    return cmocka_run_group_tests_name("crc32c", tests, NULL, NULL);
}
