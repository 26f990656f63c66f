/* The gRPC client side (see transport-grpc.h): channels per task, unary
 * calls started from any thread, completions handled on one I/O thread. */
#include "config.h"

#include "transport-grpc.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <grpc/grpc_security.h>
#include <grpc/support/alloc.h>
#include <grpc/support/time.h>

typedef struct grpc_impl {
    grpc_completion_queue *cq;
    pthread_t thread;
    char *token;
    char *ca_pem;               /* TLS roots; NULL: plain TCP */
    sl_grpc_args args;
    sl_grpc_options opts;
} grpc_impl;

struct sl_dist_conn {
    grpc_impl *t;
    grpc_channel *channel;
    char *address;
};

typedef struct ucall {
    sl_grpc_tag tag;
    grpc_impl *t;
    grpc_call *call;
    grpc_byte_buffer *send;
    grpc_byte_buffer *recv;
    grpc_metadata token_md;
    grpc_metadata_array init_md;
    grpc_metadata_array trail_md;
    grpc_status_code status;
    grpc_slice details;
    const char *error_string;
    const ProtobufCMessageDescriptor *reply_desc;  /* NULL: a tensor or raw reply */
    sl_dist_reply_fn done;
    sl_dist_tensor_fn tensor_done;
    void (*raw_done)(struct ucall *c, const sl_status *st);
    void *arg;
    char address[128];
    char method[64];
} ucall;

static void *io_thread(void *p)
{
    grpc_impl *t = p;
    for (;;) {
        grpc_event ev = grpc_completion_queue_next(t->cq, gpr_inf_future(GPR_CLOCK_REALTIME), NULL);
        if (ev.type == GRPC_QUEUE_SHUTDOWN)
            break;
        if (ev.type == GRPC_OP_COMPLETE) {
            sl_grpc_tag *tag = ev.tag;
            tag->fn(tag, ev.success != 0);
        }
    }
    return NULL;
}

static void ucall_free(ucall *c)
{
    if (c->call)
        grpc_call_unref(c->call);
    if (c->send)
        grpc_byte_buffer_destroy(c->send);
    if (c->recv)
        grpc_byte_buffer_destroy(c->recv);
    grpc_metadata_array_destroy(&c->init_md);
    grpc_metadata_array_destroy(&c->trail_md);
    grpc_slice_unref(c->details);
    gpr_free((void *)c->error_string);
    free(c);
}

static void finish(ucall *c, const ProtobufCMessage *reply, sl_tensor *t, const sl_status *st)
{
    if (c->raw_done)
        c->raw_done(c, st);
    else if (c->tensor_done)
        c->tensor_done(c->arg, t, st);
    else
        c->done(c->arg, reply, st);
}

static void call_complete(sl_grpc_tag *tag, bool ok)
{
    ucall *c = (ucall *)tag;
    sl_status *st = sl_status_new();
    if (!ok) {
        sl_status_set(st, SL_INTERNAL, "%s to %s: the call did not complete", c->method, c->address);
        finish(c, NULL, NULL, st);
    } else if (c->status != GRPC_STATUS_OK) {
        char *d = grpc_slice_to_c_string(c->details);
        sl_code code = c->status >= 1 && c->status <= 16 ? (sl_code)c->status : SL_UNKNOWN;
        sl_status_set(st, code, "%s to %s: %s", c->method, c->address, d && *d ? d : sl_code_name(code));
        gpr_free(d);
        finish(c, NULL, NULL, st);
    } else if (c->raw_done) {
        finish(c, NULL, NULL, st);
    } else if (!c->recv) {
        sl_status_set(st, SL_INTERNAL, "%s to %s: no reply message", c->method, c->address);
        finish(c, NULL, NULL, st);
    } else if (c->tensor_done) {
        sl_tensor *t = sl__grpc_decode_tensor(c->recv, st);
        if (t) {
            finish(c, NULL, t, st);
            sl_tensor_unref(t);
        } else {
            sl_status_prefix(st, "%s from %s", c->method, c->address);
            finish(c, NULL, NULL, st);
        }
    } else {
        size_t len;
        uint8_t *buf = sl__grpc_read_all(c->recv, &len);
        ProtobufCMessage *m = buf ? protobuf_c_message_unpack(c->reply_desc, NULL, len, buf) : NULL;
        free(buf);
        if (!m) {
            sl_status_set(st, SL_INTERNAL, "%s from %s: malformed reply", c->method, c->address);
            finish(c, NULL, NULL, st);
        } else {
            finish(c, m, NULL, st);
            protobuf_c_message_free_unpacked(m, NULL);
        }
    }
    sl_status_free(st);
    ucall_free(c);
}

/* Starts a unary call; the payload is taken over (destroyed with the call). */
static void start_call(sl_dist_conn *conn, const char *method, grpc_byte_buffer *payload, int64_t timeout_ms,
                       ucall *c)
{
    c->tag.fn = call_complete;
    c->t = conn->t;
    c->send = payload;
    c->details = grpc_empty_slice();
    snprintf(c->address, sizeof(c->address), "%s", conn->address);
    const char *short_name = strrchr(method, '/');
    snprintf(c->method, sizeof(c->method), "%s", short_name ? short_name + 1 : method);
    grpc_metadata_array_init(&c->init_md);
    grpc_metadata_array_init(&c->trail_md);
    gpr_timespec deadline = timeout_ms > 0 ? gpr_time_add(gpr_now(GPR_CLOCK_REALTIME),
                                                          gpr_time_from_millis(timeout_ms, GPR_TIMESPAN))
                                           : gpr_inf_future(GPR_CLOCK_REALTIME);
    grpc_slice m = grpc_slice_from_copied_string(method);
    c->call = grpc_channel_create_call(conn->channel, NULL, GRPC_PROPAGATE_DEFAULTS, conn->t->cq, m, NULL, deadline,
                                       NULL);
    grpc_slice_unref(m);
    grpc_op ops[6];
    memset(ops, 0, sizeof(ops));
    c->token_md.key = grpc_slice_from_static_string(SL_GRPC_TOKEN_KEY);
    c->token_md.value = grpc_slice_from_static_string(conn->t->token ? conn->t->token : "");
    ops[0].op = GRPC_OP_SEND_INITIAL_METADATA;
    ops[0].data.send_initial_metadata.count = conn->t->token ? 1 : 0;
    ops[0].data.send_initial_metadata.metadata = conn->t->token ? &c->token_md : NULL;
    ops[1].op = GRPC_OP_SEND_MESSAGE;
    ops[1].data.send_message.send_message = c->send;
    ops[2].op = GRPC_OP_SEND_CLOSE_FROM_CLIENT;
    ops[3].op = GRPC_OP_RECV_INITIAL_METADATA;
    ops[3].data.recv_initial_metadata.recv_initial_metadata = &c->init_md;
    ops[4].op = GRPC_OP_RECV_MESSAGE;
    ops[4].data.recv_message.recv_message = &c->recv;
    ops[5].op = GRPC_OP_RECV_STATUS_ON_CLIENT;
    ops[5].data.recv_status_on_client.trailing_metadata = &c->trail_md;
    ops[5].data.recv_status_on_client.status = &c->status;
    ops[5].data.recv_status_on_client.status_details = &c->details;
    ops[5].data.recv_status_on_client.error_string = &c->error_string;
    grpc_call_error e = grpc_call_start_batch(c->call, ops, 6, &c->tag, NULL);
    if (e != GRPC_CALL_OK) {
        sl_status *st = sl_status_new();
        sl_status_set(st, SL_INTERNAL, "%s to %s: cannot start the call (%d)", c->method, c->address, (int)e);
        finish(c, NULL, NULL, st);
        sl_status_free(st);
        ucall_free(c);
    }
}

static grpc_byte_buffer *pack(const ProtobufCMessage *m)
{
    size_t n = protobuf_c_message_get_packed_size(m);
    grpc_slice s = grpc_slice_malloc(n);
    protobuf_c_message_pack(m, GRPC_SLICE_START_PTR(s));
    grpc_byte_buffer *bb = grpc_raw_byte_buffer_create(&s, 1);
    grpc_slice_unref(s);
    return bb;
}

static void unary(sl_dist_conn *conn, const char *name, const ProtobufCMessage *req,
                  const ProtobufCMessageDescriptor *reply_desc, int64_t timeout_ms, sl_dist_reply_fn done, void *arg)
{
    ucall *c = calloc(1, sizeof(*c));
    if (!c) {
        sl_status *st = sl_status_new();
        sl_status_set(st, SL_RESOURCE_EXHAUSTED, "out of memory");
        done(arg, NULL, st);
        sl_status_free(st);
        return;
    }
    c->reply_desc = reply_desc;
    c->done = done;
    c->arg = arg;
    char method[96];
    snprintf(method, sizeof(method), SL_GRPC_SERVICE "%s", name);
    start_call(conn, method, pack(req), timeout_ms, c);
}

#define UNARY(fn, Req, name, reply_desc)                                                        \
    static void fn(sl_dist_conn *conn, const Req *req, int64_t timeout_ms, sl_dist_reply_fn done, \
                   void *arg)                                                                    \
    {                                                                                            \
        unary(conn, name, &req->base, &reply_desc, timeout_ms, done, arg);                       \
    }

UNARY(g_create_session, Sluice__Dist__CreateWorkerSessionRequest, "CreateWorkerSession",
      sluice__dist__create_worker_session_response__descriptor)
UNARY(g_register_graph, Sluice__Dist__RegisterGraphRequest, "RegisterGraph",
      sluice__dist__register_graph_response__descriptor)
UNARY(g_run_graph, Sluice__Dist__RunGraphRequest, "RunGraph", sluice__dist__run_graph_response__descriptor)
UNARY(g_cleanup_graph, Sluice__Dist__CleanupGraphRequest, "CleanupGraph",
      sluice__dist__cleanup_graph_response__descriptor)
UNARY(g_get_status, Sluice__Dist__GetStatusRequest, "GetStatus", sluice__dist__get_status_response__descriptor)

static void g_recv_tensor(sl_dist_conn *conn, const Sluice__Dist__RecvTensorRequest *req, int64_t timeout_ms,
                          sl_dist_tensor_fn done, void *arg)
{
    ucall *c = calloc(1, sizeof(*c));
    if (!c) {
        sl_status *st = sl_status_new();
        sl_status_set(st, SL_RESOURCE_EXHAUSTED, "out of memory");
        done(arg, NULL, st);
        sl_status_free(st);
        return;
    }
    c->tensor_done = done;
    c->arg = arg;
    start_call(conn, SL_GRPC_SERVICE "RecvTensor", pack(&req->base), timeout_ms, c);
}

static sl_dist_conn *g_connect(void *impl, const char *address, sl_status *st)
{
    grpc_impl *t = impl;
    sl_dist_conn *c = calloc(1, sizeof(*c));
    if (!c || !(c->address = strdup(address))) {
        free(c);
        sl_status_set(st, SL_RESOURCE_EXHAUSTED, "out of memory");
        return NULL;
    }
    c->t = t;
    grpc_channel_credentials *cc = t->ca_pem ? grpc_ssl_credentials_create(t->ca_pem, NULL, NULL, NULL)
                                             : grpc_insecure_credentials_create();
    c->channel = grpc_channel_create(address, cc, &t->args.channel_args);
    grpc_channel_credentials_release(cc);
    if (!c->channel) {
        free(c->address);
        free(c);
        sl_status_set(st, SL_UNAVAILABLE, "cannot make a channel to %s", address);
        return NULL;
    }
    return c;
}

static void g_disconnect(sl_dist_conn *c)
{
    if (!c)
        return;
    grpc_channel_destroy(c->channel);
    free(c->address);
    free(c);
}

static void g_release(void *impl)
{
    grpc_impl *t = impl;
    grpc_completion_queue_shutdown(t->cq);
    pthread_join(t->thread, NULL);
    grpc_completion_queue_destroy(t->cq);
    free(t->token);
    free(t->ca_pem);
    free(t);
}

static const sl_transport_ops grpc_ops = {
    .name = "grpc",
    .connect = g_connect,
    .disconnect = g_disconnect,
    .create_worker_session = g_create_session,
    .register_graph = g_register_graph,
    .run_graph = g_run_graph,
    .recv_tensor = g_recv_tensor,
    .cleanup_graph = g_cleanup_graph,
    .get_status = g_get_status,
    .release = g_release,
};

sl_transport *sl_grpc_transport_new(const sl_grpc_options *opts, sl_status *st)
{
    sl__grpc_init_once();
    sl_transport *tr = calloc(1, sizeof(*tr));
    grpc_impl *t = calloc(1, sizeof(*t));
    if (!tr || !t || (opts && opts->token && !(t->token = strdup(opts->token)))) {
        free(tr);
        free(t);
        sl_status_set(st, SL_RESOURCE_EXHAUSTED, "out of memory");
        return NULL;
    }
    if (opts)
        t->opts = *opts;
    t->opts.token = t->token;
    if (opts && opts->tls_ca_pem && !(t->ca_pem = strdup(opts->tls_ca_pem))) {
        free(t->token);
        free(t);
        free(tr);
        sl_status_set(st, SL_RESOURCE_EXHAUSTED, "out of memory");
        return NULL;
    }
    t->opts.tls_ca_pem = t->ca_pem;
    t->opts.tls_cert_pem = t->opts.tls_key_pem = NULL;
    sl__grpc_args_init(&t->args, &t->opts, false);
    t->cq = grpc_completion_queue_create_for_next(NULL);
    if (pthread_create(&t->thread, NULL, io_thread, t) != 0) {
        grpc_completion_queue_shutdown(t->cq);
        grpc_completion_queue_destroy(t->cq);
        free(t->token);
        free(t);
        free(tr);
        sl_status_set(st, SL_INTERNAL, "cannot start the gRPC I/O thread");
        return NULL;
    }
    tr->ops = &grpc_ops;
    tr->impl = t;
    sl_status_clear(st);
    return tr;
}

/* ---- raw calls ------------------------------------------------------------ */

typedef struct raw_wait {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool done;
    sl_status *st;
    grpc_byte_buffer *reply;
} raw_wait;

static void raw_done(ucall *c, const sl_status *st)
{
    raw_wait *w = c->arg;
    pthread_mutex_lock(&w->mu);
    sl_status_copy(w->st, st);
    if (sl_status_is_ok(st)) {
        w->reply = c->recv;
        c->recv = NULL;
    }
    w->done = true;
    pthread_cond_signal(&w->cv);
    pthread_mutex_unlock(&w->mu);
}

sl_code sl_grpc_raw_call(sl_dist_conn *conn, const char *method, grpc_byte_buffer *payload, int64_t timeout_ms,
                         grpc_byte_buffer **reply, sl_status *st)
{
    raw_wait w = {.done = false};
    pthread_mutex_init(&w.mu, NULL);
    pthread_cond_init(&w.cv, NULL);
    w.st = sl_status_new();
    ucall *c = calloc(1, sizeof(*c));
    c->raw_done = raw_done;
    c->arg = &w;
    start_call(conn, method, payload ? grpc_byte_buffer_copy(payload) : grpc_raw_byte_buffer_create(NULL, 0),
               timeout_ms, c);
    pthread_mutex_lock(&w.mu);
    while (!w.done)
        pthread_cond_wait(&w.cv, &w.mu);
    pthread_mutex_unlock(&w.mu);
    sl_status_copy(st, w.st);
    if (reply)
        *reply = w.reply;
    else if (w.reply)
        grpc_byte_buffer_destroy(w.reply);
    sl_status_free(w.st);
    pthread_cond_destroy(&w.cv);
    pthread_mutex_destroy(&w.mu);
    return sl_status_code(st);
}
