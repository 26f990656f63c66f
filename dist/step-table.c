/* The per-step remote rendezvous of a worker (see step-table.h): a list of
 * steps, each a list of entries, under one mutex.  A worker runs few steps
 * at once and each exchanges few tensors, so lists beat hash tables. */
#include "config.h"

#include "step-table.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#define SL_DIST_DONE_RING 1024

typedef struct entry {
    char *key;
    sl_tensor *value;         /* sent, not yet pulled */
    sl_dist_tensor_fn done;   /* or a waiting receiver */
    void *arg;
    struct entry *next;
} entry;

typedef struct step {
    int64_t id;
    entry *entries;
    struct step *next;
} step;

struct sl_dist_steps {
    pthread_mutex_t mu;
    step *steps;
    int64_t done_ring[SL_DIST_DONE_RING];
    int done_next;
    int done_count;
};

sl_dist_steps *sl_dist_steps_new(void)
{
    sl_dist_steps *s = calloc(1, sizeof(*s));
    if (s)
        pthread_mutex_init(&s->mu, NULL);
    return s;
}

static bool step_is_done(const sl_dist_steps *s, int64_t id)
{
    for (int i = 0; i < s->done_count; i++)
        if (s->done_ring[i] == id)
            return true;
    return false;
}

static step *find_step(sl_dist_steps *s, int64_t id, bool create)
{
    for (step *p = s->steps; p; p = p->next)
        if (p->id == id)
            return p;
    if (!create || step_is_done(s, id))
        return NULL;
    step *p = calloc(1, sizeof(*p));
    if (!p)
        return NULL;
    p->id = id;
    p->next = s->steps;
    s->steps = p;
    return p;
}

static void fail(sl_dist_tensor_fn done, void *arg, sl_code code, const char *fmt, long long v)
{
    sl_status *st = sl_status_new();
    sl_status_set(st, code, fmt, v);
    done(arg, NULL, st);
    sl_status_free(st);
}

sl_code sl_dist_steps_send(sl_dist_steps *s, int64_t id, const char *key, sl_tensor *t, sl_status *st)
{
    pthread_mutex_lock(&s->mu);
    step *p = find_step(s, id, true);
    if (!p) {
        bool done = step_is_done(s, id);
        pthread_mutex_unlock(&s->mu);
        return done ? sl_status_set(st, SL_ABORTED, "step %lld is over", (long long)id)
                    : sl_status_set(st, SL_RESOURCE_EXHAUSTED, "out of memory");
    }
    for (entry **pp = &p->entries; *pp; pp = &(*pp)->next) {
        entry *e = *pp;
        if (strcmp(e->key, key))
            continue;
        if (e->value) {
            pthread_mutex_unlock(&s->mu);
            return sl_status_set(st, SL_ALREADY_EXISTS, "tensor '%s' was already sent", key);
        }
        *pp = e->next;
        pthread_mutex_unlock(&s->mu);
        e->done(e->arg, t, NULL);
        free(e->key);
        free(e);
        sl_status_clear(st);
        return SL_OK;
    }
    entry *e = calloc(1, sizeof(*e));
    if (!e || !(e->key = strdup(key))) {
        free(e);
        pthread_mutex_unlock(&s->mu);
        return sl_status_set(st, SL_RESOURCE_EXHAUSTED, "out of memory sending '%s'", key);
    }
    e->value = sl_tensor_ref(t);
    e->next = p->entries;
    p->entries = e;
    pthread_mutex_unlock(&s->mu);
    sl_status_clear(st);
    return SL_OK;
}

void sl_dist_steps_recv(sl_dist_steps *s, int64_t id, const char *key, sl_dist_tensor_fn done, void *arg)
{
    pthread_mutex_lock(&s->mu);
    step *p = find_step(s, id, true);
    if (!p) {
        bool over = step_is_done(s, id);
        pthread_mutex_unlock(&s->mu);
        fail(done, arg, over ? SL_ABORTED : SL_RESOURCE_EXHAUSTED,
             over ? "step %lld is over" : "out of memory in step %lld", (long long)id);
        return;
    }
    for (entry **pp = &p->entries; *pp; pp = &(*pp)->next) {
        entry *e = *pp;
        if (strcmp(e->key, key) || !e->value)
            continue;
        *pp = e->next;
        pthread_mutex_unlock(&s->mu);
        done(arg, e->value, NULL);
        sl_tensor_unref(e->value);
        free(e->key);
        free(e);
        return;
    }
    entry *e = calloc(1, sizeof(*e));
    if (!e || !(e->key = strdup(key))) {
        free(e);
        pthread_mutex_unlock(&s->mu);
        fail(done, arg, SL_RESOURCE_EXHAUSTED, "out of memory in step %lld", (long long)id);
        return;
    }
    e->done = done;
    e->arg = arg;
    e->next = p->entries;
    p->entries = e;
    pthread_mutex_unlock(&s->mu);
}

static void drop_entries(entry *e, const sl_status *why)
{
    while (e) {
        entry *next = e->next;
        if (e->done)
            e->done(e->arg, NULL, why);
        sl_tensor_unref(e->value);
        free(e->key);
        free(e);
        e = next;
    }
}

void sl_dist_steps_cleanup(sl_dist_steps *s, int64_t id, const sl_status *abort)
{
    pthread_mutex_lock(&s->mu);
    step *found = NULL;
    for (step **pp = &s->steps; *pp; pp = &(*pp)->next)
        if ((*pp)->id == id) {
            found = *pp;
            *pp = found->next;
            break;
        }
    if (!step_is_done(s, id)) {
        s->done_ring[s->done_next] = id;
        s->done_next = (s->done_next + 1) % SL_DIST_DONE_RING;
        if (s->done_count < SL_DIST_DONE_RING)
            s->done_count++;
    }
    pthread_mutex_unlock(&s->mu);
    if (!found)
        return;
    sl_status *over = NULL;
    if (!abort) {
        over = sl_status_new();
        sl_status_set(over, SL_ABORTED, "step %lld is over", (long long)id);
    }
    drop_entries(found->entries, abort ? abort : over);
    sl_status_free(over);
    free(found);
}

int sl_dist_steps_active(sl_dist_steps *s)
{
    pthread_mutex_lock(&s->mu);
    int n = 0;
    for (step *p = s->steps; p; p = p->next)
        n++;
    pthread_mutex_unlock(&s->mu);
    return n;
}

void sl_dist_steps_free(sl_dist_steps *s)
{
    if (!s)
        return;
    sl_status *st = sl_status_new();
    sl_status_set(st, SL_CANCELLED, "worker is shutting down");
    while (s->steps) {
        step *p = s->steps;
        s->steps = p->next;
        drop_entries(p->entries, st);
        free(p);
    }
    sl_status_free(st);
    pthread_mutex_destroy(&s->mu);
    free(s);
}
