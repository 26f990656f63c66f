/* The in-process transport (see transport-inproc.h): a table of address ->
 * worker; each call looks its worker up and calls the service entry point
 * directly. */
#include "config.h"

#include "transport-inproc.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

typedef struct inproc_entry {
    char *address;
    sl_dist_worker *worker;
} inproc_entry;

typedef struct inproc {
    pthread_mutex_t mu;
    inproc_entry *entries;
    int n;
} inproc;

struct sl_dist_conn {
    inproc *t;
    char *address;
};

static sl_dist_worker *lookup(sl_dist_conn *c)
{
    sl_dist_worker *w = NULL;
    pthread_mutex_lock(&c->t->mu);
    for (int i = 0; i < c->t->n; i++)
        if (!strcmp(c->t->entries[i].address, c->address))
            w = c->t->entries[i].worker;
    pthread_mutex_unlock(&c->t->mu);
    return w;
}

static void unavailable(sl_dist_conn *c, sl_dist_reply_fn done, sl_dist_tensor_fn tdone, void *arg)
{
    sl_status *st = sl_status_new();
    sl_status_set(st, SL_UNAVAILABLE, "no task answers at %s", c->address);
    if (done)
        done(arg, NULL, st);
    else
        tdone(arg, NULL, st);
    sl_status_free(st);
}

static sl_dist_conn *inproc_connect(void *impl, const char *address, sl_status *st)
{
    sl_dist_conn *c = calloc(1, sizeof(*c));
    if (!c || !(c->address = strdup(address))) {
        free(c);
        sl_status_set(st, SL_RESOURCE_EXHAUSTED, "out of memory");
        return NULL;
    }
    c->t = impl;
    return c;
}

static void inproc_disconnect(sl_dist_conn *c)
{
    if (!c)
        return;
    free(c->address);
    free(c);
}

#define FORWARD(fn, Req, worker_fn)                                                            \
    static void fn(sl_dist_conn *c, const Req *req, int64_t timeout_ms, sl_dist_reply_fn done, \
                   void *arg)                                                                  \
    {                                                                                          \
        sl_dist_worker *w = lookup(c);                                                         \
        if (!w)                                                                                \
            unavailable(c, done, NULL, arg);                                                   \
        else                                                                                   \
            worker_fn(w, req, done, arg);                                                      \
    }

FORWARD(inproc_create_session, Sluice__Dist__CreateWorkerSessionRequest, sl_dist_worker_create_session)
FORWARD(inproc_register_graph, Sluice__Dist__RegisterGraphRequest, sl_dist_worker_register_graph)
FORWARD(inproc_run_graph, Sluice__Dist__RunGraphRequest, sl_dist_worker_run_graph)
FORWARD(inproc_cleanup_graph, Sluice__Dist__CleanupGraphRequest, sl_dist_worker_cleanup_graph)
FORWARD(inproc_get_status, Sluice__Dist__GetStatusRequest, sl_dist_worker_get_status)

static void inproc_recv_tensor(sl_dist_conn *c, const Sluice__Dist__RecvTensorRequest *req, int64_t timeout_ms,
                               sl_dist_tensor_fn done, void *arg)
{
    sl_dist_worker *w = lookup(c);
    if (!w)
        unavailable(c, NULL, done, arg);
    else
        sl_dist_worker_recv_tensor(w, req, done, arg);
}

static void inproc_release(void *impl)
{
    inproc *t = impl;
    for (int i = 0; i < t->n; i++)
        free(t->entries[i].address);
    free(t->entries);
    pthread_mutex_destroy(&t->mu);
    free(t);
}

static const sl_transport_ops inproc_ops = {
    .name = "inproc",
    .connect = inproc_connect,
    .disconnect = inproc_disconnect,
    .create_worker_session = inproc_create_session,
    .register_graph = inproc_register_graph,
    .run_graph = inproc_run_graph,
    .recv_tensor = inproc_recv_tensor,
    .cleanup_graph = inproc_cleanup_graph,
    .get_status = inproc_get_status,
    .release = inproc_release,
};

sl_transport *sl_inproc_transport_new(void)
{
    sl_transport *t = calloc(1, sizeof(*t));
    inproc *impl = calloc(1, sizeof(*impl));
    if (!t || !impl) {
        free(t);
        free(impl);
        return NULL;
    }
    pthread_mutex_init(&impl->mu, NULL);
    t->ops = &inproc_ops;
    t->impl = impl;
    return t;
}

sl_code sl_inproc_transport_add(sl_transport *t, const char *address, sl_dist_worker *worker, sl_status *st)
{
    inproc *impl = t->impl;
    pthread_mutex_lock(&impl->mu);
    inproc_entry *e = realloc(impl->entries, sizeof(*e) * (size_t)(impl->n + 1));
    char *a = strdup(address);
    if (!e || !a) {
        if (e)
            impl->entries = e;
        free(a);
        pthread_mutex_unlock(&impl->mu);
        return sl_status_set(st, SL_RESOURCE_EXHAUSTED, "out of memory");
    }
    impl->entries = e;
    e[impl->n].address = a;
    e[impl->n].worker = worker;
    impl->n++;
    pthread_mutex_unlock(&impl->mu);
    sl_status_clear(st);
    return SL_OK;
}

void sl_inproc_transport_remove(sl_transport *t, const char *address)
{
    inproc *impl = t->impl;
    pthread_mutex_lock(&impl->mu);
    for (int i = 0; i < impl->n; i++)
        if (!strcmp(impl->entries[i].address, address)) {
            free(impl->entries[i].address);
            impl->entries[i] = impl->entries[--impl->n];
            break;
        }
    pthread_mutex_unlock(&impl->mu);
}
