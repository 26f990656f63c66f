/* The RecvTensor wire form of dist/grpc/: encode (header slice + a slice
 * over the tensor) and decode (straight into the tensor) round-trip every
 * kind of tensor, split across many slices; every truncation and random
 * bytes give an error or a valid tensor, never a crash or an overread
 * (run under valgrind with --setup valgrind). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "grpc/grpc-common.h"
#include "transport.h"

/* The bytes of bb, re-sliced into pieces of `piece` bytes. */
static grpc_byte_buffer *reslice(const uint8_t *bytes, size_t n, size_t piece)
{
    size_t ns = n ? (n + piece - 1) / piece : 1;
    grpc_slice *s = calloc(ns, sizeof(*s));
    for (size_t i = 0; i < ns; i++) {
        size_t k = n - i * piece < piece ? n - i * piece : piece;
        s[i] = grpc_slice_from_copied_buffer((const char *)bytes + i * piece, n ? k : 0);
    }
    grpc_byte_buffer *bb = grpc_raw_byte_buffer_create(s, ns);
    for (size_t i = 0; i < ns; i++)
        grpc_slice_unref(s[i]);
    free(s);
    return bb;
}

static uint8_t *encode(sl_tensor *t, size_t *n)
{
    sl_status *st = sl_status_new();
    grpc_byte_buffer *bb = sl__grpc_encode_tensor(t, st);
    assert_non_null(bb);
    uint8_t *bytes = sl__grpc_read_all(bb, n);
    grpc_byte_buffer_destroy(bb);
    sl_status_free(st);
    return bytes;
}

static void round_trip(sl_tensor *t)
{
    size_t n;
    uint8_t *bytes = encode(t, &n);
    /* the bytes are a RecvTensorResponse protobuf-c reads too */
    Sluice__Dist__RecvTensorResponse *r = sluice__dist__recv_tensor_response__unpack(NULL, n, bytes);
    assert_non_null(r);
    sl_status *st = sl_status_new();
    sl_tensor *u = sl_dist_tensor_from_msg(r->tensor, st);
    assert_non_null(u);
    assert_true(sl_tensor_equal(t, u));
    sl_tensor_unref(u);
    sluice__dist__recv_tensor_response__free_unpacked(r, NULL);
    for (size_t piece = 1; piece <= n + 1; piece = piece < 8 ? piece + 1 : piece * 3) {
        grpc_byte_buffer *bb = reslice(bytes, n, piece);
        sl_tensor *d = sl__grpc_decode_tensor(bb, st);
        if (!d)
            fail_msg("piece %zu: %s", piece, sl_status_message(st));
        assert_true(sl_tensor_equal(t, d));
        sl_tensor_unref(d);
        grpc_byte_buffer_destroy(bb);
    }
    /* every truncation fails cleanly */
    for (size_t cut = 0; cut < n; cut += (n > 4096 ? 997 : 1)) {
        grpc_byte_buffer *bb = reslice(bytes, cut, 7);
        sl_tensor *d = sl__grpc_decode_tensor(bb, st);
        assert_null(d);
        assert_int_equal(sl_status_code(st), SL_INVALID_ARGUMENT);
        grpc_byte_buffer_destroy(bb);
    }
    free(bytes);
    sl_status_free(st);
}

static void test_wire_round_trips(void **state)
{
    sl_status *st = sl_status_new();
    int64_t dims[3] = {3, 1, 5};
    sl_shape sh = sl_shape_make(3, dims);
    sl_dtype types[] = {SL_DTYPE_FLOAT, SL_DTYPE_DOUBLE, SL_DTYPE_INT32, SL_DTYPE_INT64, SL_DTYPE_UINT8,
                        SL_DTYPE_BOOL, SL_DTYPE_HALF};
    for (size_t k = 0; k < sizeof(types) / sizeof(types[0]); k++) {
        sl_tensor *t = sl_tensor_new(types[k], &sh, st);
        uint8_t *p = sl_tensor_data(t);
        for (size_t i = 0; i < sl_tensor_byte_size(t); i++)
            p[i] = (uint8_t)(types[k] == SL_DTYPE_BOOL ? i & 1 : i * 37 + 11);
        round_trip(t);
        sl_tensor_unref(t);
    }
    sl_shape scalar = sl_shape_scalar(), empty = sl_shape_vector(0), big = sl_shape_vector(300000);
    sl_tensor *t = sl_tensor_new(SL_DTYPE_FLOAT, &scalar, st);
    round_trip(t);
    sl_tensor_unref(t);
    t = sl_tensor_new(SL_DTYPE_INT64, &empty, st);
    round_trip(t);
    sl_tensor_unref(t);
    t = sl_tensor_new(SL_DTYPE_FLOAT, &big, st);
    round_trip(t);
    sl_tensor_unref(t);
    sl_shape two = sl_shape_vector(2);
    t = sl_tensor_new(SL_DTYPE_STRING, &two, st);
    sl_tensor_set_string(t, 0, "hello", 5, st);
    sl_tensor_set_string(t, 1, "\0bytes\xff", 7, st);
    round_trip(t);
    sl_tensor_unref(t);
    sl_status_free(st);
}

static void test_wire_garbage_never_crashes(void **state)
{
    sl_status *st = sl_status_new();
    srand(12345);
    uint8_t buf[512];
    int decoded = 0;
    for (int round = 0; round < 1500; round++) {
        size_t n = (size_t)(rand() % (int)sizeof(buf));
        for (size_t i = 0; i < n; i++)
            buf[i] = (uint8_t)rand();
        if (round % 3 == 0 && n > 4) {  /* look like a reply: field 1, a length, dtype float */
            buf[0] = 0x0a;
            buf[2] = 0x08;
            buf[3] = 0x01;
        }
        grpc_byte_buffer *bb = reslice(buf, n, 1 + (size_t)(rand() % 64));
        sl_tensor *t = sl__grpc_decode_tensor(bb, st);
        decoded += t != NULL;
        sl_tensor_unref(t);
        grpc_byte_buffer_destroy(bb);
    }
    /* a header claiming 2^40 floats with no content */
    const uint8_t huge[] = {0x0a, 0x0b, 0x08, 0x01, 0x12, 0x06, 0x80, 0x80, 0x80, 0x80, 0x80, 0x20, 0x1a, 0x00};
    grpc_byte_buffer *bb = reslice(huge, sizeof(huge), 3);
    assert_null(sl__grpc_decode_tensor(bb, st));
    grpc_byte_buffer_destroy(bb);
    printf("# %d of 1500 random replies decoded to a tensor (the rest were refused)\n", decoded);
    sl_status_free(st);
}

int main(void)
{
    sl__grpc_init_once();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_wire_round_trips),
        cmocka_unit_test(test_wire_garbage_never_crashes),
    };
    int rc = cmocka_run_group_tests_name("grpc-wire", tests, NULL, NULL);
    grpc_shutdown_blocking();  /* gRPC's threads go, so valgrind sees no "possibly lost" */
    return rc;
}
