/* Shared gRPC pieces (see grpc-common.h), above all the RecvTensor wire
 * form: the reply is protobuf-compatible (sluice.dist.RecvTensorResponse)
 * but written and read by hand so that large tensors travel as slices over
 * their own buffers on the way out and land in their tensor with one copy
 * on the way in. */
#include "config.h"

#include "grpc-common.h"

#include <limits.h>
#include <stdio.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <grpc/byte_buffer_reader.h>
#include <grpc/slice.h>

#include "transport.h"
#include "worker.pb-c.h"

static pthread_once_t init_once = PTHREAD_ONCE_INIT;

static void do_init(void)
{
    grpc_init();
}

void sl__grpc_init_once(void)
{
    pthread_once(&init_once, do_init);
}

static void set_int(grpc_arg *a, const char *key, int v)
{
    a->type = GRPC_ARG_INTEGER;
    a->key = (char *)key;
    a->value.integer = v;
}

void sl__grpc_args_init(sl_grpc_args *a, const sl_grpc_options *opts, bool server)
{
    int64_t max = opts && opts->max_message_bytes > 0 ? opts->max_message_bytes : (int64_t)1 << 30;
    if (max > INT_MAX)
        max = INT_MAX;
    int n = 0;
    set_int(&a->args[n++], GRPC_ARG_MAX_RECEIVE_MESSAGE_LENGTH, (int)max);
    set_int(&a->args[n++], GRPC_ARG_MAX_SEND_MESSAGE_LENGTH, -1);
    set_int(&a->args[n++], GRPC_ARG_KEEPALIVE_TIME_MS, 2000);
    set_int(&a->args[n++], GRPC_ARG_KEEPALIVE_TIMEOUT_MS, 3000);
    set_int(&a->args[n++], GRPC_ARG_KEEPALIVE_PERMIT_WITHOUT_CALLS, 1);
    set_int(&a->args[n++], GRPC_ARG_HTTP2_MAX_PINGS_WITHOUT_DATA, 0);
    if (server) {
        set_int(&a->args[n++], GRPC_ARG_HTTP2_MIN_RECV_PING_INTERVAL_WITHOUT_DATA_MS, 1000);
        set_int(&a->args[n++], GRPC_ARG_HTTP2_MAX_PING_STRIKES, 0);
    } else {
        set_int(&a->args[n++], GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, 100);
        set_int(&a->args[n++], GRPC_ARG_MIN_RECONNECT_BACKOFF_MS, 100);
        set_int(&a->args[n++], GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, 1000);
        set_int(&a->args[n++], GRPC_ARG_ENABLE_RETRIES, 0);
    }
    a->channel_args.num_args = (size_t)n;
    a->channel_args.args = a->args;
}

bool sl__grpc_token_equal(const char *a, size_t alen, const char *b)
{
    size_t blen = strlen(b);
    unsigned char diff = alen != blen;
    for (size_t i = 0; i < alen; i++)
        diff |= (unsigned char)(a[i] ^ b[i % (blen ? blen : 1)]);
    return diff == 0 && blen > 0;
}

uint8_t *sl__grpc_read_all(grpc_byte_buffer *bb, size_t *len)
{
    grpc_byte_buffer_reader r;
    if (!grpc_byte_buffer_reader_init(&r, bb))
        return NULL;
    size_t n = grpc_byte_buffer_length(bb);
    uint8_t *buf = malloc(n ? n : 1), *p = buf;
    grpc_slice s;
    while (grpc_byte_buffer_reader_next(&r, &s)) {
        if (buf) {
            memcpy(p, GRPC_SLICE_START_PTR(s), GRPC_SLICE_LENGTH(s));
            p += GRPC_SLICE_LENGTH(s);
        }
        grpc_slice_unref(s);
    }
    grpc_byte_buffer_reader_destroy(&r);
    *len = n;
    return buf;
}

/* ---- encoding ------------------------------------------------------------- */

static size_t put_varint(uint8_t *p, uint64_t v)
{
    size_t n = 0;
    do {
        p[n++] = (uint8_t)((v & 0x7f) | (v >= 0x80 ? 0x80 : 0));
        v >>= 7;
    } while (v);
    return n;
}

static size_t varint_size(uint64_t v)
{
    size_t n = 1;
    while (v >= 0x80) {
        v >>= 7;
        n++;
    }
    return n;
}

static void tensor_slice_unref(void *p)
{
    sl_tensor_unref(p);
}

grpc_byte_buffer *sl__grpc_encode_tensor(sl_tensor *t, sl_status *st)
{
    if (sl_tensor_dtype(t) == SL_DTYPE_STRING) {
        Sluice__Dist__RecvTensorResponse r = SLUICE__DIST__RECV_TENSOR_RESPONSE__INIT;
        if (!(r.tensor = sl_dist_tensor_to_msg(t, st)))
            return NULL;
        size_t n = sluice__dist__recv_tensor_response__get_packed_size(&r);
        grpc_slice s = grpc_slice_malloc(n);
        sluice__dist__recv_tensor_response__pack(&r, GRPC_SLICE_START_PTR(s));
        protobuf_c_message_free_unpacked(&r.tensor->base, NULL);
        grpc_byte_buffer *bb = grpc_raw_byte_buffer_create(&s, 1);
        grpc_slice_unref(s);
        return bb;
    }
    int rank = sl_tensor_rank(t);
    size_t content = sl_tensor_byte_size(t);
    size_t dims_len = 0;
    for (int i = 0; i < rank; i++)
        dims_len += varint_size((uint64_t)sl_tensor_dim(t, i));
    size_t inner = 1 + varint_size((uint64_t)sl_tensor_dtype(t)) + (rank ? 1 + varint_size(dims_len) + dims_len : 0) +
                   1 + varint_size(content) + content;
    uint8_t hdr[16 + 16 * SL_MAX_DIMS + 32];
    size_t h = 0;
    hdr[h++] = 0x0a;  /* RecvTensorResponse.tensor */
    h += put_varint(hdr + h, inner);
    hdr[h++] = 0x08;  /* TensorMsg.dtype */
    h += put_varint(hdr + h, (uint64_t)sl_tensor_dtype(t));
    if (rank) {
        hdr[h++] = 0x12;  /* TensorMsg.dims, packed */
        h += put_varint(hdr + h, dims_len);
        for (int i = 0; i < rank; i++)
            h += put_varint(hdr + h, (uint64_t)sl_tensor_dim(t, i));
    }
    hdr[h++] = 0x1a;  /* TensorMsg.content */
    h += put_varint(hdr + h, content);
    grpc_slice slices[2];
    slices[0] = grpc_slice_from_copied_buffer((const char *)hdr, h);
    size_t ns = 1;
    if (content) {
        slices[1] = grpc_slice_new_with_user_data(sl_tensor_data(t), content, tensor_slice_unref, sl_tensor_ref(t));
        ns = 2;
    }
    grpc_byte_buffer *bb = grpc_raw_byte_buffer_create(slices, ns);
    for (size_t i = 0; i < ns; i++)
        grpc_slice_unref(slices[i]);
    return bb;
}

/* ---- decoding --------------------------------------------------------------- */

typedef struct cursor {
    grpc_slice *slices;
    size_t n;
    size_t idx;
    size_t off;
    size_t pos;                 /* bytes consumed */
    size_t total;
} cursor;

static bool cur_byte(cursor *c, uint8_t *b)
{
    while (c->idx < c->n && c->off >= GRPC_SLICE_LENGTH(c->slices[c->idx])) {
        c->idx++;
        c->off = 0;
    }
    if (c->idx >= c->n)
        return false;
    *b = GRPC_SLICE_START_PTR(c->slices[c->idx])[c->off++];
    c->pos++;
    return true;
}

static bool cur_varint(cursor *c, uint64_t *v)
{
    *v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
        uint8_t b;
        if (!cur_byte(c, &b))
            return false;
        *v |= (uint64_t)(b & 0x7f) << shift;
        if (!(b & 0x80))
            return true;
    }
    return false;
}

/* Copies (dst non-NULL) or skips n bytes. */
static bool cur_take(cursor *c, uint8_t *dst, size_t n)
{
    if (n > c->total - c->pos)
        return false;
    while (n) {
        while (c->idx < c->n && c->off >= GRPC_SLICE_LENGTH(c->slices[c->idx])) {
            c->idx++;
            c->off = 0;
        }
        if (c->idx >= c->n)
            return false;
        size_t avail = GRPC_SLICE_LENGTH(c->slices[c->idx]) - c->off;
        size_t k = avail < n ? avail : n;
        if (dst) {
            memcpy(dst, GRPC_SLICE_START_PTR(c->slices[c->idx]) + c->off, k);
            dst += k;
        }
        c->off += k;
        c->pos += k;
        n -= k;
    }
    return true;
}

static bool skip_field(cursor *c, unsigned wt)
{
    uint64_t v;
    switch (wt) {
    case 0:
        return cur_varint(c, &v);
    case 1:
        return cur_take(c, NULL, 8);
    case 2:
        return cur_varint(c, &v) && cur_take(c, NULL, v);
    case 5:
        return cur_take(c, NULL, 4);
    default:
        return false;
    }
}

static sl_tensor *decode_whole(grpc_byte_buffer *bb, sl_status *st)
{
    size_t len;
    uint8_t *buf = sl__grpc_read_all(bb, &len);
    if (!buf) {
        sl_status_set(st, SL_RESOURCE_EXHAUSTED, "out of memory reading a tensor");
        return NULL;
    }
    Sluice__Dist__RecvTensorResponse *r = sluice__dist__recv_tensor_response__unpack(NULL, len, buf);
    free(buf);
    if (!r || !r->tensor) {
        if (r)
            sluice__dist__recv_tensor_response__free_unpacked(r, NULL);
        sl_status_set(st, SL_INVALID_ARGUMENT, "RecvTensor reply is malformed");
        return NULL;
    }
    sl_tensor *t = sl_dist_tensor_from_msg(r->tensor, st);
    sluice__dist__recv_tensor_response__free_unpacked(r, NULL);
    return t;
}

static void free_buffer(void *data, size_t size, void *arg)
{
    free(data);
}

sl_tensor *sl__grpc_decode_tensor(grpc_byte_buffer *bb, sl_status *st)
{
    grpc_byte_buffer_reader r;
    if (!grpc_byte_buffer_reader_init(&r, bb)) {
        sl_status_set(st, SL_INVALID_ARGUMENT, "RecvTensor reply cannot be read");
        return NULL;
    }
    cursor c = {0};
    c.total = grpc_byte_buffer_length(bb);
    size_t cap = 0;
    grpc_slice s;
    bool oom = false;
    while (grpc_byte_buffer_reader_next(&r, &s)) {
        if (c.n == cap) {
            cap = cap ? cap * 2 : 16;
            grpc_slice *ns = realloc(c.slices, sizeof(*ns) * cap);
            if (!ns) {
                grpc_slice_unref(s);
                oom = true;
                break;
            }
            c.slices = ns;
        }
        c.slices[c.n++] = s;
    }
    grpc_byte_buffer_reader_destroy(&r);
    sl_tensor *t = NULL;
    bool bad = oom, whole = false, have_tensor = false;
    int64_t dtype = 0;
    int64_t dims[SL_MAX_DIMS];
    size_t ndims = 0;
    cursor content = {0};
    uint64_t content_len = 0;
    bool have_content = false;
    while (!bad && c.pos < c.total) {
        uint64_t key;
        if (!cur_varint(&c, &key)) {
            bad = true;
            break;
        }
        if ((key >> 3) != 1 || (key & 7) != 2) {
            bad = !skip_field(&c, key & 7);
            continue;
        }
        uint64_t inner;
        if (!cur_varint(&c, &inner) || inner > c.total - c.pos) {
            bad = true;
            break;
        }
        have_tensor = true;
        size_t end = c.pos + inner;
        while (!bad && c.pos < end) {
            uint64_t k2, v;
            if (!cur_varint(&c, &k2)) {
                bad = true;
                break;
            }
            unsigned f = (unsigned)(k2 >> 3), wt = (unsigned)(k2 & 7);
            if (f == 1 && wt == 0) {
                bad = !cur_varint(&c, &v);
                dtype = (int64_t)v;
            } else if (f == 2 && wt == 2) {
                uint64_t dl;
                if (!cur_varint(&c, &dl) || dl > end - c.pos) {
                    bad = true;
                    break;
                }
                size_t dend = c.pos + dl;
                while (!bad && c.pos < dend) {
                    if (ndims >= SL_MAX_DIMS || !cur_varint(&c, &v)) {
                        bad = true;
                        break;
                    }
                    dims[ndims++] = (int64_t)v;
                }
            } else if (f == 2 && wt == 0) {
                if (ndims >= SL_MAX_DIMS || !cur_varint(&c, &v))
                    bad = true;
                else
                    dims[ndims++] = (int64_t)v;
            } else if (f == 3 && wt == 2) {
                if (!cur_varint(&c, &content_len) || content_len > end - c.pos) {
                    bad = true;
                    break;
                }
                content = c;
                have_content = true;
                bad = !cur_take(&c, NULL, content_len);
            } else if (f == 4) {
                whole = true;
                bad = !skip_field(&c, wt);
            } else {
                bad = !skip_field(&c, wt);
            }
        }
        if (c.pos != end)
            bad = true;
    }
    if (oom) {
        sl_status_set(st, SL_RESOURCE_EXHAUSTED, "out of memory reading a tensor");
    } else if (bad || !have_tensor) {
        sl_status_set(st, SL_INVALID_ARGUMENT, "RecvTensor reply is malformed");
    } else if (whole || dtype == SL_DTYPE_STRING) {
        t = decode_whole(bb, st);
    } else {
        sl_shape shape;
        size_t bytes;
        if (dtype > INT32_MAX || !sl_dist_check_header((int)dtype, dims, ndims, &shape, &bytes, st)) {
            if (dtype > INT32_MAX)
                sl_status_set(st, SL_INVALID_ARGUMENT, "tensor on the wire: unsupported dtype");
        } else if ((have_content ? content_len : 0) != bytes) {
            sl_status_set(st, SL_INVALID_ARGUMENT, "tensor on the wire: %llu bytes of content, %zu expected",
                          (unsigned long long)content_len, bytes);
        } else if (!bytes) {
            t = sl_tensor_new((sl_dtype)dtype, &shape, st);
        } else {
            /* not sl_tensor_new: its zero fill would be one more pass over
             * the buffer, and the content overwrites it anyway */
            void *buf = NULL;
            if (posix_memalign(&buf, 64, bytes) != 0) {
                sl_status_set(st, SL_RESOURCE_EXHAUSTED, "out of memory for a %zu-byte tensor", bytes);
            } else {
                cur_take(&content, buf, bytes);
                if (!(t = sl_tensor_new_wrap((sl_dtype)dtype, &shape, buf, bytes, free_buffer, NULL, st)))
                    free(buf);
            }
        }
    }
    for (size_t i = 0; i < c.n; i++)
        grpc_slice_unref(c.slices[i]);
    free(c.slices);
    return t;
}

static char *read_pem(const char *dir, const char *name)
{
    char path[4096];
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    char *buf = malloc(1 << 20);
    size_t n = buf ? fread(buf, 1, (1 << 20) - 1, f) : 0;
    fclose(f);
    if (buf)
        buf[n] = '\0';
    return buf;
}

sl_code sl_grpc_options_load_tls(sl_grpc_options *o, const char *dir, sl_status *st)
{
    o->tls_ca_pem = read_pem(dir, "ca.pem");
    o->tls_cert_pem = read_pem(dir, "cert.pem");
    o->tls_key_pem = read_pem(dir, "key.pem");
    if (!o->tls_ca_pem && !o->tls_cert_pem && !o->tls_key_pem)
        return sl_status_set(st, SL_NOT_FOUND, "no ca.pem, cert.pem or key.pem in '%s'", dir);
    if (!o->tls_cert_pem != !o->tls_key_pem) {
        sl_grpc_options_free_tls(o);
        return sl_status_set(st, SL_INVALID_ARGUMENT, "'%s' has one of cert.pem and key.pem without the other", dir);
    }
    sl_status_clear(st);
    return SL_OK;
}

void sl_grpc_options_free_tls(sl_grpc_options *o)
{
    free((char *)o->tls_ca_pem);
    free((char *)o->tls_cert_pem);
    free((char *)o->tls_key_pem);
    o->tls_ca_pem = o->tls_cert_pem = o->tls_key_pem = NULL;
}
