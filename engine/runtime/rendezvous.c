/* The local rendezvous: a small list of entries under one mutex, each
 * either a sent value or a waiting receiver.  Steps exchange few tensors
 * this way, so a list beats a hash table. */
#include "config.h"

#include "rendezvous.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "sluice/alloc.h"

typedef struct entry {
    char *key;
    sl_tensor *value;       /* sent, not yet received */
    sl__recv_done done;     /* waiting receiver */
    void *arg;
    struct entry *next;
} entry;

struct sl__rendezvous {
    pthread_mutex_t mu;
    entry *head;
    sl_status *aborted;     /* non-NULL after abort */
};

sl__rendezvous *sl__rendezvous_new(void)
{
    sl__rendezvous *r = sl_calloc(1, sizeof(*r));
    if (r)
        pthread_mutex_init(&r->mu, NULL);
    return r;
}

static void entry_free(entry *e)
{
    sl_tensor_unref(e->value);
    sl_free(e->key);
    sl_free(e);
}

void sl__rendezvous_abort(sl__rendezvous *r, const sl_status *status)
{
    pthread_mutex_lock(&r->mu);
    if (!r->aborted) {
        r->aborted = sl_status_new();
        if (r->aborted)
            sl_status_copy(r->aborted, status);
    }
    entry *waiting = NULL, **pp = &r->head;
    while (*pp) {
        entry *e = *pp;
        if (e->done) {
            *pp = e->next;
            e->next = waiting;
            waiting = e;
        } else {
            pp = &e->next;
        }
    }
    pthread_mutex_unlock(&r->mu);
    while (waiting) {
        entry *e = waiting;
        waiting = e->next;
        e->done(e->arg, NULL, status);
        entry_free(e);
    }
}

void sl__rendezvous_free(sl__rendezvous *r)
{
    if (!r)
        return;
    sl_status *st = sl_status_new();
    sl_status_set(st, SL_CANCELLED, "step ended before the tensor was sent");
    sl__rendezvous_abort(r, st);
    sl_status_free(st);
    while (r->head) {
        entry *e = r->head;
        r->head = e->next;
        entry_free(e);
    }
    sl_status_free(r->aborted);
    pthread_mutex_destroy(&r->mu);
    sl_free(r);
}

sl_code sl__rendezvous_send(sl__rendezvous *r, const char *key, sl_tensor *t, sl_status *status)
{
    pthread_mutex_lock(&r->mu);
    if (r->aborted) {
        sl_status_copy(status, r->aborted);
        pthread_mutex_unlock(&r->mu);
        return sl_status_code(status);
    }
    for (entry *e = r->head; e; e = e->next) {
        if (!strcmp(e->key, key) && e->value) {
            pthread_mutex_unlock(&r->mu);
            return sl_status_set(status, SL_ALREADY_EXISTS, "tensor '%s' was already sent", key);
        }
    }
    entry *w = NULL;
    for (entry **pp = &r->head; *pp; pp = &(*pp)->next) {
        if (!strcmp((*pp)->key, key) && (*pp)->done) {
            w = *pp;
            *pp = w->next;
            break;
        }
    }
    if (w) {
        pthread_mutex_unlock(&r->mu);
        w->done(w->arg, t, NULL);
        entry_free(w);
        sl_status_clear(status);
        return SL_OK;
    }
    entry *e = sl_calloc(1, sizeof(*e));
    if (!e || !(e->key = sl_strdup(key))) {
        sl_free(e);
        pthread_mutex_unlock(&r->mu);
        return sl_status_set(status, SL_RESOURCE_EXHAUSTED, "out of memory sending '%s'", key);
    }
    e->value = sl_tensor_ref(t);
    e->next = r->head;
    r->head = e;
    pthread_mutex_unlock(&r->mu);
    sl_status_clear(status);
    return SL_OK;
}

void sl__rendezvous_recv(sl__rendezvous *r, const char *key, sl__recv_done done, void *arg)
{
    pthread_mutex_lock(&r->mu);
    if (r->aborted) {
        sl_status *st = sl_status_new();
        sl_status_copy(st, r->aborted);
        pthread_mutex_unlock(&r->mu);
        done(arg, NULL, st);
        sl_status_free(st);
        return;
    }
    entry *sent = NULL;
    for (entry **pp = &r->head; *pp; pp = &(*pp)->next) {
        if (!strcmp((*pp)->key, key) && (*pp)->value) {
            sent = *pp;
            *pp = sent->next;
            break;
        }
    }
    if (sent) {
        pthread_mutex_unlock(&r->mu);
        done(arg, sent->value, NULL);
        entry_free(sent);
        return;
    }
    entry *e = sl_calloc(1, sizeof(*e));
    if (!e || !(e->key = sl_strdup(key))) {
        sl_free(e);
        pthread_mutex_unlock(&r->mu);
        sl_status *st = sl_status_new();
        sl_status_set(st, SL_RESOURCE_EXHAUSTED, "out of memory receiving '%s'", key);
        done(arg, NULL, st);
        sl_status_free(st);
        return;
    }
    e->done = done;
    e->arg = arg;
    e->next = r->head;
    r->head = e;
    pthread_mutex_unlock(&r->mu);
}

char *sl__rendezvous_make_key(const char *send_device, uint64_t incarnation, const char *recv_device,
                              const char *tensor_name, uint64_t frame_id, int64_t iter_id)
{
    size_t len = strlen(send_device) + strlen(recv_device) + strlen(tensor_name) + 64;
    char *key = sl_malloc(len);
    if (key)
        snprintf(key, len, "%s;%llx;%s;%s;%llu:%lld", send_device, (unsigned long long)incarnation, recv_device,
                 tensor_name, (unsigned long long)frame_id, (long long)iter_id);
    return key;
}
