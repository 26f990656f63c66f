/* The gRPC server side (see transport-grpc.h): one completion queue and
 * one I/O thread; each call is checked for the token, its request read
 * and parsed, and handed to the worker's entry point, whose reply callback
 * (on whatever thread) sends the answer. */
#include "config.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <grpc/grpc_security.h>
#include <grpc/support/alloc.h>
#include <grpc/support/time.h>

#include "transport-grpc.h"

struct sl_grpc_server {
    grpc_server *server;
    grpc_completion_queue *cq;
    pthread_t thread;
    sl_dist_worker *worker;
    char *token;
    atomic_llong refused;
    atomic_int live_calls;
    bool shutting_down;
    sl_grpc_tag shutdown_tag;
    bool shutdown_done;
};

typedef enum call_state { CALL_NEW, CALL_READ, CALL_SENT } call_state;

typedef struct scall {
    sl_grpc_tag tag;
    sl_grpc_server *s;
    call_state state;
    grpc_call *call;
    grpc_call_details details;
    grpc_metadata_array md;
    grpc_byte_buffer *req;
    grpc_byte_buffer *reply;
    int cancelled;
    grpc_slice status_details;
} scall;

static void post_request(sl_grpc_server *s);

static void scall_free(scall *c)
{
    if (c->call)
        grpc_call_unref(c->call);
    grpc_call_details_destroy(&c->details);
    grpc_metadata_array_destroy(&c->md);
    if (c->req)
        grpc_byte_buffer_destroy(c->req);
    if (c->reply)
        grpc_byte_buffer_destroy(c->reply);
    grpc_slice_unref(c->status_details);
    atomic_fetch_sub(&c->s->live_calls, 1);
    free(c);
}

/* Sends the reply (or the error) and closes the call; c is freed when the
 * batch completes.  Takes over `reply`. */
static void respond(scall *c, grpc_byte_buffer *reply, sl_code code, const char *message)
{
    c->state = CALL_SENT;
    c->reply = reply;
    c->status_details = grpc_slice_from_copied_string(message ? message : "");
    grpc_op ops[4];
    memset(ops, 0, sizeof(ops));
    int n = 0;
    ops[n++].op = GRPC_OP_SEND_INITIAL_METADATA;
    if (reply && code == SL_OK) {
        ops[n].op = GRPC_OP_SEND_MESSAGE;
        ops[n++].data.send_message.send_message = reply;
    }
    ops[n].op = GRPC_OP_RECV_CLOSE_ON_SERVER;
    ops[n++].data.recv_close_on_server.cancelled = &c->cancelled;
    ops[n].op = GRPC_OP_SEND_STATUS_FROM_SERVER;
    ops[n].data.send_status_from_server.status = (grpc_status_code)code;
    ops[n++].data.send_status_from_server.status_details = &c->status_details;
    if (grpc_call_start_batch(c->call, ops, (size_t)n, &c->tag, NULL) != GRPC_CALL_OK)
        scall_free(c);
}

static grpc_byte_buffer *pack(const ProtobufCMessage *m)
{
    size_t n = protobuf_c_message_get_packed_size(m);
    grpc_slice sl = grpc_slice_malloc(n);
    protobuf_c_message_pack(m, GRPC_SLICE_START_PTR(sl));
    grpc_byte_buffer *bb = grpc_raw_byte_buffer_create(&sl, 1);
    grpc_slice_unref(sl);
    return bb;
}

static void reply_done(void *arg, const ProtobufCMessage *reply, const sl_status *st)
{
    scall *c = arg;
    if (reply && (!st || sl_status_is_ok(st)))
        respond(c, pack(reply), SL_OK, NULL);
    else
        respond(c, NULL, st ? sl_status_code(st) : SL_INTERNAL, st ? sl_status_message(st) : "no reply");
}

static void tensor_done(void *arg, sl_tensor *t, const sl_status *st)
{
    scall *c = arg;
    if (!t) {
        respond(c, NULL, sl_status_code(st), sl_status_message(st));
        return;
    }
    sl_status *e = sl_status_new();
    grpc_byte_buffer *bb = sl__grpc_encode_tensor(t, e);
    if (bb)
        respond(c, bb, SL_OK, NULL);
    else
        respond(c, NULL, sl_status_code(e), sl_status_message(e));
    sl_status_free(e);
}

typedef struct method {
    const char *name;
    const ProtobufCMessageDescriptor *desc;
} method;

static void dispatch(scall *c)
{
    sl_grpc_server *s = c->s;
    char path[128];
    size_t ml = GRPC_SLICE_LENGTH(c->details.method);
    if (ml >= sizeof(path))
        ml = sizeof(path) - 1;
    memcpy(path, GRPC_SLICE_START_PTR(c->details.method), ml);
    path[ml] = '\0';
    const char *name = !strncmp(path, SL_GRPC_SERVICE, strlen(SL_GRPC_SERVICE)) ? path + strlen(SL_GRPC_SERVICE) : "";
    if (!strcmp(name, "Echo")) {
        respond(c, grpc_byte_buffer_copy(c->req), SL_OK, NULL);
        return;
    }
    static const method methods[] = {
        {"CreateWorkerSession", &sluice__dist__create_worker_session_request__descriptor},
        {"RegisterGraph", &sluice__dist__register_graph_request__descriptor},
        {"RunGraph", &sluice__dist__run_graph_request__descriptor},
        {"RecvTensor", &sluice__dist__recv_tensor_request__descriptor},
        {"CleanupGraph", &sluice__dist__cleanup_graph_request__descriptor},
        {"GetStatus", &sluice__dist__get_status_request__descriptor},
    };
    int which = -1;
    for (int i = 0; i < (int)(sizeof(methods) / sizeof(methods[0])); i++)
        if (!strcmp(name, methods[i].name))
            which = i;
    if (which < 0) {
        char msg[200];
        snprintf(msg, sizeof(msg), "no method '%s'", path);
        respond(c, NULL, SL_UNIMPLEMENTED, msg);
        return;
    }
    size_t len;
    uint8_t *buf = sl__grpc_read_all(c->req, &len);
    ProtobufCMessage *req = buf ? protobuf_c_message_unpack(methods[which].desc, NULL, len, buf) : NULL;
    free(buf);
    if (!req) {
        char msg[200];
        snprintf(msg, sizeof(msg), "%s: the request (%zu bytes) is not a valid %s", name, len,
                 methods[which].desc->short_name);
        respond(c, NULL, SL_INVALID_ARGUMENT, msg);
        return;
    }
    switch (which) {
    case 0:
        sl_dist_worker_create_session(s->worker, (void *)req, reply_done, c);
        break;
    case 1:
        sl_dist_worker_register_graph(s->worker, (void *)req, reply_done, c);
        break;
    case 2:
        sl_dist_worker_run_graph(s->worker, (void *)req, reply_done, c);
        break;
    case 3:
        sl_dist_worker_recv_tensor(s->worker, (void *)req, tensor_done, c);
        break;
    case 4:
        sl_dist_worker_cleanup_graph(s->worker, (void *)req, reply_done, c);
        break;
    default:
        sl_dist_worker_get_status(s->worker, (void *)req, reply_done, c);
        break;
    }
    protobuf_c_message_free_unpacked(req, NULL);
}

static bool token_ok(const scall *c)
{
    for (size_t i = 0; i < c->md.count; i++) {
        const grpc_metadata *m = &c->md.metadata[i];
        if (GRPC_SLICE_LENGTH(m->key) == strlen(SL_GRPC_TOKEN_KEY) &&
            !memcmp(GRPC_SLICE_START_PTR(m->key), SL_GRPC_TOKEN_KEY, strlen(SL_GRPC_TOKEN_KEY)))
            return sl__grpc_token_equal((const char *)GRPC_SLICE_START_PTR(m->value), GRPC_SLICE_LENGTH(m->value),
                                        c->s->token);
    }
    return false;
}

static void call_event(sl_grpc_tag *tag, bool ok)
{
    scall *c = (scall *)tag;
    sl_grpc_server *s = c->s;
    switch (c->state) {
    case CALL_NEW:
        if (!ok) {  /* the server is shutting down */
            scall_free(c);
            return;
        }
        if (!s->shutting_down)
            post_request(s);
        if (!token_ok(c)) {
            atomic_fetch_add(&s->refused, 1);
            respond(c, NULL, SL_UNAUTHENTICATED, "missing or wrong sluice-token");
            return;
        }
        c->state = CALL_READ;
        grpc_op op;
        memset(&op, 0, sizeof(op));
        op.op = GRPC_OP_RECV_MESSAGE;
        op.data.recv_message.recv_message = &c->req;
        if (grpc_call_start_batch(c->call, &op, 1, &c->tag, NULL) != GRPC_CALL_OK)
            scall_free(c);
        return;
    case CALL_READ:
        if (!ok || !c->req) {
            /* over the size limit, or the client went away */
            respond(c, NULL, SL_RESOURCE_EXHAUSTED, "request missing or larger than the limit");
            return;
        }
        dispatch(c);
        return;
    case CALL_SENT:
        scall_free(c);
        return;
    }
}

static void post_request(sl_grpc_server *s)
{
    scall *c = calloc(1, sizeof(*c));
    if (!c)
        return;
    c->tag.fn = call_event;
    c->s = s;
    c->status_details = grpc_empty_slice();
    grpc_call_details_init(&c->details);
    grpc_metadata_array_init(&c->md);
    atomic_fetch_add(&s->live_calls, 1);
    if (grpc_server_request_call(s->server, &c->call, &c->details, &c->md, s->cq, s->cq, &c->tag) != GRPC_CALL_OK)
        scall_free(c);
}

static void shutdown_event(sl_grpc_tag *tag, bool ok)
{
    sl_grpc_server *s = (sl_grpc_server *)((char *)tag - offsetof(sl_grpc_server, shutdown_tag));
    s->shutdown_done = true;
}

static void *server_thread(void *p)
{
    sl_grpc_server *s = p;
    for (;;) {
        grpc_event ev = grpc_completion_queue_next(s->cq, gpr_inf_future(GPR_CLOCK_REALTIME), NULL);
        if (ev.type == GRPC_QUEUE_SHUTDOWN)
            break;
        if (ev.type == GRPC_OP_COMPLETE)
            ((sl_grpc_tag *)ev.tag)->fn(ev.tag, ev.success != 0);
    }
    return NULL;
}

sl_grpc_server *sl_grpc_server_start(const char *address, sl_dist_worker *worker, const sl_grpc_options *opts,
                                     int *port, sl_status *st)
{
    if (!opts || !opts->token || !opts->token[0]) {
        sl_status_set(st, SL_INVALID_ARGUMENT, "a worker needs a token (SLUICE_TOKEN or --token-file)");
        return NULL;
    }
    sl__grpc_init_once();
    sl_grpc_server *s = calloc(1, sizeof(*s));
    if (!s || !(s->token = strdup(opts->token))) {
        free(s);
        sl_status_set(st, SL_RESOURCE_EXHAUSTED, "out of memory");
        return NULL;
    }
    s->worker = worker;
    s->shutdown_tag.fn = shutdown_event;
    sl_grpc_args args;
    sl__grpc_args_init(&args, opts, true);
    s->server = grpc_server_create(&args.channel_args, NULL);
    s->cq = grpc_completion_queue_create_for_next(NULL);
    grpc_server_register_completion_queue(s->server, s->cq, NULL);
    grpc_server_credentials *sc;
    if (opts->tls_cert_pem && opts->tls_key_pem) {
        grpc_ssl_pem_key_cert_pair pair = {opts->tls_key_pem, opts->tls_cert_pem};
        sc = grpc_ssl_server_credentials_create_ex(NULL, &pair, 1, GRPC_SSL_DONT_REQUEST_CLIENT_CERTIFICATE, NULL);
    } else {
        sc = grpc_insecure_server_credentials_create();
    }
    int bound = grpc_server_add_http2_port(s->server, address, sc);
    grpc_server_credentials_release(sc);
    if (bound == 0) {
        grpc_server_destroy(s->server);
        grpc_completion_queue_shutdown(s->cq);
        while (grpc_completion_queue_next(s->cq, gpr_inf_future(GPR_CLOCK_REALTIME), NULL).type != GRPC_QUEUE_SHUTDOWN)
            ;
        grpc_completion_queue_destroy(s->cq);
        free(s->token);
        free(s);
        sl_status_set(st, SL_UNAVAILABLE, "cannot listen on %s", address);
        return NULL;
    }
    grpc_server_start(s->server);
    for (int i = 0; i < 4; i++)  /* a few calls may arrive at once */
        post_request(s);
    if (pthread_create(&s->thread, NULL, server_thread, s) != 0) {
        sl_status_set(st, SL_INTERNAL, "cannot start the server thread");
        grpc_server_shutdown_and_notify(s->server, s->cq, &s->shutdown_tag);
        grpc_server_cancel_all_calls(s->server);
        /* drain here */
        grpc_completion_queue_shutdown(s->cq);
        server_thread(s);
        grpc_server_destroy(s->server);
        grpc_completion_queue_destroy(s->cq);
        free(s->token);
        free(s);
        return NULL;
    }
    if (port)
        *port = bound;
    sl_status_clear(st);
    return s;
}

int64_t sl_grpc_server_refused(const sl_grpc_server *s)
{
    return atomic_load(&((sl_grpc_server *)s)->refused);
}

void sl_grpc_server_stop(sl_grpc_server *s)
{
    if (!s)
        return;
    s->shutting_down = true;
    grpc_server_shutdown_and_notify(s->server, s->cq, &s->shutdown_tag);
    grpc_server_cancel_all_calls(s->server);
    /* calls waiting inside the worker (RecvTensor, RunGraph) answer when the
     * worker lets them go; the caller frees the worker after this */
    while (!s->shutdown_done || atomic_load(&s->live_calls) > 0) {
        struct timespec ts = {0, 5 * 1000 * 1000};
        nanosleep(&ts, NULL);
        if (s->shutdown_done && atomic_load(&s->live_calls) > 0) {
            /* the rest are held by the worker; stop waiting after the queue drains */
            break;
        }
    }
    grpc_server_destroy(s->server);
    grpc_completion_queue_shutdown(s->cq);
    pthread_join(s->thread, NULL);
    grpc_completion_queue_destroy(s->cq);
    free(s->token);
    free(s);
}
