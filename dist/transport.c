/* What every transport shares: the synchronous wrapper over the
 * asynchronous vtable, and the conversion of tensors to and from the wire
 * message (with the checks that keep malformed input from the network from
 * reaching the engine). */
#include "config.h"

#include "transport.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#include "sluice/alloc.h"

int64_t sl_dist_now_us(void)
{
    struct timeval tv;
    gettimeofday(&tv, NULL);
    return (int64_t)tv.tv_sec * 1000000 + tv.tv_usec;
}

void sl_transport_free(sl_transport *t)
{
    if (!t)
        return;
    if (t->ops && t->ops->release)
        t->ops->release(t->impl);
    free(t);
}

void sl_dist_call_async(const sl_transport *t, sl_dist_conn *conn, sl_dist_method method,
                        const ProtobufCMessage *req, int64_t timeout_ms, sl_dist_reply_fn done, void *arg)
{
    switch (method) {
    case SL_DIST_CREATE_WORKER_SESSION:
        t->ops->create_worker_session(conn, (const void *)req, timeout_ms, done, arg);
        break;
    case SL_DIST_REGISTER_GRAPH:
        t->ops->register_graph(conn, (const void *)req, timeout_ms, done, arg);
        break;
    case SL_DIST_RUN_GRAPH:
        t->ops->run_graph(conn, (const void *)req, timeout_ms, done, arg);
        break;
    case SL_DIST_CLEANUP_GRAPH:
        t->ops->cleanup_graph(conn, (const void *)req, timeout_ms, done, arg);
        break;
    case SL_DIST_GET_STATUS:
        t->ops->get_status(conn, (const void *)req, timeout_ms, done, arg);
        break;
    }
}

typedef struct sync_call {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool done;
    sl_status *status;
    ProtobufCMessage *reply;
    bool want_reply;
} sync_call;

/* Copies a message by packing and unpacking it. */
static ProtobufCMessage *message_copy(const ProtobufCMessage *m)
{
    size_t n = protobuf_c_message_get_packed_size(m);
    uint8_t *buf = malloc(n ? n : 1);
    if (!buf)
        return NULL;
    protobuf_c_message_pack(m, buf);
    ProtobufCMessage *c = protobuf_c_message_unpack(m->descriptor, NULL, n, buf);
    free(buf);
    return c;
}

static void sync_done(void *arg, const ProtobufCMessage *reply, const sl_status *st)
{
    sync_call *c = arg;
    pthread_mutex_lock(&c->mu);
    if (st && !sl_status_is_ok(st)) {
        sl_status_copy(c->status, st);
    } else if (c->want_reply && reply) {
        c->reply = message_copy(reply);
        if (!c->reply)
            sl_status_set(c->status, SL_RESOURCE_EXHAUSTED, "out of memory copying a reply");
    }
    c->done = true;
    pthread_cond_signal(&c->cv);
    pthread_mutex_unlock(&c->mu);
}

sl_code sl_dist_call_sync(const sl_transport *t, sl_dist_conn *conn, sl_dist_method method,
                          const ProtobufCMessage *req, int64_t timeout_ms, ProtobufCMessage **reply,
                          sl_status *status)
{
    sync_call c = {.done = false, .want_reply = reply != NULL};
    pthread_mutex_init(&c.mu, NULL);
    pthread_cond_init(&c.cv, NULL);
    c.status = sl_status_new();
    if (!c.status)
        return sl_status_set(status, SL_RESOURCE_EXHAUSTED, "out of memory");
    sl_dist_call_async(t, conn, method, req, timeout_ms, sync_done, &c);
    pthread_mutex_lock(&c.mu);
    while (!c.done)
        pthread_cond_wait(&c.cv, &c.mu);
    pthread_mutex_unlock(&c.mu);
    sl_code code = sl_status_code(c.status);
    if (code == SL_OK) {
        sl_status_clear(status);
        if (reply)
            *reply = c.reply;
    } else {
        sl_status_copy(status, c.status);
        if (c.reply)
            protobuf_c_message_free_unpacked(c.reply, NULL);
    }
    sl_status_free(c.status);
    pthread_cond_destroy(&c.cv);
    pthread_mutex_destroy(&c.mu);
    return code;
}

bool sl_dist_check_header(int dtype, const int64_t *dims, size_t ndims, sl_shape *shape, size_t *bytes,
                          sl_status *st)
{
    if (!sl_dtype_is_valid(dtype) || sl_dtype_is_ref((sl_dtype)dtype) ||
        (dtype != SL_DTYPE_STRING && sl_dtype_size((sl_dtype)dtype) == 0)) {
        sl_status_set(st, SL_INVALID_ARGUMENT, "tensor on the wire: unsupported dtype %d", dtype);
        return false;
    }
    if (ndims > SL_MAX_DIMS) {
        sl_status_set(st, SL_INVALID_ARGUMENT, "tensor on the wire: rank %zu exceeds %d", ndims, SL_MAX_DIMS);
        return false;
    }
    uint64_t n = 1;
    for (size_t i = 0; i < ndims; i++) {
        if (dims[i] < 0 || (uint64_t)dims[i] > ((uint64_t)1 << 40) ||
            (dims[i] && n > (((uint64_t)1 << 40) / (uint64_t)dims[i]))) {
            sl_status_set(st, SL_INVALID_ARGUMENT, "tensor on the wire: bad dimension %lld",
                          (long long)dims[i]);
            return false;
        }
        n *= (uint64_t)dims[i];
    }
    *shape = sl_shape_make((int)ndims, dims);
    *bytes = dtype == SL_DTYPE_STRING ? 0 : (size_t)n * sl_dtype_size((sl_dtype)dtype);
    return true;
}

Sluice__Dist__TensorMsg *sl_dist_tensor_to_msg(const sl_tensor *t, sl_status *st)
{
    Sluice__Dist__TensorMsg *m = malloc(sizeof(*m));
    if (!m)
        goto oom;
    sluice__dist__tensor_msg__init(m);
    m->dtype = (int32_t)sl_tensor_dtype(t);
    int rank = sl_tensor_rank(t);
    if (rank > 0) {
        if (!(m->dims = malloc(sizeof(int64_t) * (size_t)rank)))
            goto oom_m;
        m->n_dims = (size_t)rank;
        for (int i = 0; i < rank; i++)
            m->dims[i] = sl_tensor_dim(t, i);
    }
    int64_t n = sl_tensor_num_elements(t);
    if (sl_tensor_dtype(t) == SL_DTYPE_STRING) {
        const sl_tstring *s = sl_tensor_data(t);
        if (n > 0 && !(m->strings = calloc((size_t)n, sizeof(ProtobufCBinaryData))))
            goto oom_m;
        m->n_strings = (size_t)n;
        for (int64_t i = 0; i < n; i++) {
            m->strings[i].len = s[i].size;
            if (!(m->strings[i].data = malloc(s[i].size ? s[i].size : 1)))
                goto oom_m;
            memcpy(m->strings[i].data, s[i].data, s[i].size);
        }
    } else {
        size_t bytes = sl_tensor_byte_size(t);
        if (bytes) {
            if (!(m->content.data = malloc(bytes)))
                goto oom_m;
            memcpy(m->content.data, sl_tensor_data(t), bytes);
            m->content.len = bytes;
        }
    }
    return m;
oom_m:
    protobuf_c_message_free_unpacked(&m->base, NULL);
oom:
    sl_status_set(st, SL_RESOURCE_EXHAUSTED, "out of memory encoding a tensor");
    return NULL;
}

sl_tensor *sl_dist_tensor_from_msg(const Sluice__Dist__TensorMsg *m, sl_status *st)
{
    sl_shape shape;
    size_t bytes;
    if (!sl_dist_check_header(m->dtype, m->dims, m->n_dims, &shape, &bytes, st))
        return NULL;
    int64_t n = sl_shape_num_elements(&shape);
    if (m->dtype == SL_DTYPE_STRING) {
        if ((int64_t)m->n_strings != n) {
            sl_status_set(st, SL_INVALID_ARGUMENT, "tensor on the wire: %zu strings for %lld elements",
                          m->n_strings, (long long)n);
            return NULL;
        }
    } else if (m->content.len != bytes) {
        sl_status_set(st, SL_INVALID_ARGUMENT, "tensor on the wire: %zu bytes of content, %zu expected",
                      m->content.len, bytes);
        return NULL;
    }
    sl_tensor *t = sl_tensor_new((sl_dtype)m->dtype, &shape, st);
    if (!t)
        return NULL;
    if (m->dtype == SL_DTYPE_STRING) {
        for (int64_t i = 0; i < n; i++)
            if (sl_tensor_set_string(t, i, m->strings[i].data, m->strings[i].len, st) != SL_OK) {
                sl_tensor_unref(t);
                return NULL;
            }
    } else if (bytes) {
        memcpy(sl_tensor_data(t), m->content.data, bytes);
    }
    return t;
}
