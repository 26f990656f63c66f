/* The resource manager: containers (name -> resource maps) under one mutex,
 * refcounted resources, and interned handles for resource tensors.  Lookups
 * are a hash probe under the mutex; resources are destroyed outside it. */
#include "config.h"

#include "sluice/resource.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

#include "sluice/alloc.h"
#include "strmap.h"

struct sl_resource {
    atomic_int refs;
    char *type;
    void *obj;
    void (*destroy)(void *obj);
};

typedef struct container {
    char *name;
    sl_strmap items;   /* name -> sl_resource (one reference held) */
    char **names;      /* owned keys, parallel to insertion */
    int num_names;
    int cap_names;
} container;

typedef struct handle_entry {
    sl_resource_handle h;
    char *key;
} handle_entry;

struct sl_resource_mgr {
    pthread_mutex_t mu;
    sl_strmap containers;  /* name -> container */
    container **list;
    int num_containers;
    int cap_containers;
    sl_strmap handles;     /* "c\x1fn\x1ft" -> handle_entry */
    handle_entry **hlist;
    int num_handles;
    int cap_handles;
};

static bool grow(void **arr, int *cap, int need, size_t elem)
{
    if (need <= *cap)
        return true;
    int nc = *cap ? *cap * 2 : 8;
    while (nc < need)
        nc *= 2;
    void *p = sl_realloc(*arr, (size_t)nc * elem);
    if (!p)
        return false;
    *arr = p;
    *cap = nc;
    return true;
}

sl_resource_mgr *sl_resource_mgr_new(void)
{
    sl_resource_mgr *rm = sl_calloc(1, sizeof(*rm));
    if (rm)
        pthread_mutex_init(&rm->mu, NULL);
    return rm;
}

sl_resource *sl_resource_ref(sl_resource *r)
{
    if (r)
        atomic_fetch_add(&r->refs, 1);
    return r;
}

void sl_resource_unref(sl_resource *r)
{
    if (!r || atomic_fetch_sub(&r->refs, 1) != 1)
        return;
    if (r->destroy && r->obj)
        r->destroy(r->obj);
    sl_free(r->type);
    sl_free(r);
}

void *sl_resource_object(const sl_resource *r) { return r->obj; }
const char *sl_resource_type(const sl_resource *r) { return r->type; }

/* Collects the container's resources into `drop` (caller unrefs outside the
 * lock) and empties it.  Returns the count. */
static int container_clear(container *c, sl_resource ***drop, int *num_drop, int *cap_drop)
{
    int n = 0;
    for (int i = 0; i < c->num_names; i++) {
        sl_resource *r = sl_strmap_get(&c->items, c->names[i]);
        if (r) {
            if (grow((void **)drop, cap_drop, *num_drop + 1, sizeof(**drop)))
                (*drop)[(*num_drop)++] = r;
            n++;
        }
        sl_free(c->names[i]);
    }
    c->num_names = 0;
    sl_strmap_release(&c->items);
    return n;
}

void sl_resource_mgr_free(sl_resource_mgr *rm)
{
    if (!rm)
        return;
    sl_resource_mgr_reset(rm, NULL);
    for (int i = 0; i < rm->num_containers; i++) {
        sl_free(rm->list[i]->names);
        sl_free(rm->list[i]->name);
        sl_free(rm->list[i]);
    }
    sl_free(rm->list);
    sl_strmap_release(&rm->containers);
    for (int i = 0; i < rm->num_handles; i++) {
        sl_free(rm->hlist[i]->key);
        sl_free((char *)rm->hlist[i]->h.container);
        sl_free(rm->hlist[i]);
    }
    sl_free(rm->hlist);
    sl_strmap_release(&rm->handles);
    pthread_mutex_destroy(&rm->mu);
    sl_free(rm);
}

static container *get_container(sl_resource_mgr *rm, const char *name, bool create)
{
    container *c = sl_strmap_get(&rm->containers, name);
    if (c || !create)
        return c;
    if (!grow((void **)&rm->list, &rm->cap_containers, rm->num_containers + 1, sizeof(*rm->list)))
        return NULL;
    c = sl_calloc(1, sizeof(*c));
    if (!c)
        return NULL;
    c->name = sl_strdup(name);
    if (!c->name || !sl_strmap_put(&rm->containers, c->name, c)) {
        sl_free(c->name);
        sl_free(c);
        return NULL;
    }
    rm->list[rm->num_containers++] = c;
    return c;
}

static sl_resource *lookup_locked(sl_resource_mgr *rm, const char *cname, const char *name, const char *type,
                                  sl_status *st)
{
    container *c = get_container(rm, cname, false);
    sl_resource *r = c ? sl_strmap_get(&c->items, name) : NULL;
    if (!r) {
        sl_status_set(st, SL_NOT_FOUND, "resource '%s/%s' of type %s does not exist", cname, name, type);
        return NULL;
    }
    if (type && strcmp(r->type, type)) {
        sl_status_set(st, SL_INVALID_ARGUMENT, "resource '%s/%s' is a %s, not a %s", cname, name, r->type,
                      type);
        return NULL;
    }
    return sl_resource_ref(r);
}

sl_resource *sl_resource_mgr_lookup(sl_resource_mgr *rm, const char *cname, const char *name, const char *type,
                                    sl_status *st)
{
    if (!cname)
        cname = "";
    pthread_mutex_lock(&rm->mu);
    sl_resource *r = lookup_locked(rm, cname, name, type, st);
    pthread_mutex_unlock(&rm->mu);
    if (r)
        sl_status_clear(st);
    return r;
}

sl_resource *sl_resource_mgr_lookup_or_create(sl_resource_mgr *rm, const char *cname, const char *name,
                                              const char *type, sl_resource_create_fn create, void *arg,
                                              void (*destroy)(void *obj), sl_status *st)
{
    if (!cname)
        cname = "";
    pthread_mutex_lock(&rm->mu);
    container *c = get_container(rm, cname, true);
    sl_resource *r = c ? sl_strmap_get(&c->items, name) : NULL;
    if (r) {
        if (strcmp(r->type, type)) {
            sl_status_set(st, SL_INVALID_ARGUMENT, "resource '%s/%s' is a %s, not a %s", cname, name, r->type,
                          type);
            r = NULL;
        } else {
            sl_resource_ref(r);
            sl_status_clear(st);
        }
        pthread_mutex_unlock(&rm->mu);
        return r;
    }
    char *key = NULL;
    if (!c || !grow((void **)&c->names, &c->cap_names, c->num_names + 1, sizeof(*c->names)) ||
        !(r = sl_calloc(1, sizeof(*r))) || !(r->type = sl_strdup(type)) || !(key = sl_strdup(name)))
        goto err_oom;
    /* created under the lock so two steps never make two of the same
     * resource; create functions are short (allocate a variable, a queue) */
    r->obj = create(arg, st);
    if (!r->obj) {
        sl_free(key);
        sl_free(r->type);
        sl_free(r);
        pthread_mutex_unlock(&rm->mu);
        return NULL;
    }
    r->destroy = destroy;
    atomic_init(&r->refs, 1);
    if (!sl_strmap_put(&c->items, key, r)) {
        r->destroy(r->obj);
        r->obj = NULL;
        goto err_oom;
    }
    c->names[c->num_names++] = key;
    pthread_mutex_unlock(&rm->mu);
    sl_status_clear(st);
    return sl_resource_ref(r);
err_oom:
    pthread_mutex_unlock(&rm->mu);
    sl_free(key);
    if (r)
        sl_free(r->type);
    sl_free(r);
    sl_status_set(st, SL_RESOURCE_EXHAUSTED, "out of memory creating resource '%s/%s'", cname, name);
    return NULL;
}

sl_code sl_resource_mgr_delete(sl_resource_mgr *rm, const char *cname, const char *name, sl_status *st)
{
    if (!cname)
        cname = "";
    pthread_mutex_lock(&rm->mu);
    container *c = get_container(rm, cname, false);
    sl_resource *r = c ? sl_strmap_get(&c->items, name) : NULL;
    if (!r) {
        pthread_mutex_unlock(&rm->mu);
        return sl_status_set(st, SL_NOT_FOUND, "resource '%s/%s' does not exist", cname, name);
    }
    sl_strmap_remove(&c->items, name);
    for (int i = 0; i < c->num_names; i++) {
        if (!strcmp(c->names[i], name)) {
            sl_free(c->names[i]);
            c->names[i] = c->names[--c->num_names];
            break;
        }
    }
    pthread_mutex_unlock(&rm->mu);
    sl_resource_unref(r);
    sl_status_clear(st);
    return SL_OK;
}

int sl_resource_mgr_reset(sl_resource_mgr *rm, const char *cname)
{
    sl_resource **drop = NULL;
    int num_drop = 0, cap_drop = 0, n = 0;
    pthread_mutex_lock(&rm->mu);
    for (int i = 0; i < rm->num_containers; i++)
        if (!cname || !strcmp(rm->list[i]->name, cname))
            n += container_clear(rm->list[i], &drop, &num_drop, &cap_drop);
    pthread_mutex_unlock(&rm->mu);
    for (int i = 0; i < num_drop; i++)
        sl_resource_unref(drop[i]);
    sl_free(drop);
    return n;
}

int sl_resource_mgr_count(sl_resource_mgr *rm, const char *cname)
{
    int n = 0;
    pthread_mutex_lock(&rm->mu);
    for (int i = 0; i < rm->num_containers; i++)
        if (!cname || !strcmp(rm->list[i]->name, cname))
            n += (int)rm->list[i]->items.count;
    pthread_mutex_unlock(&rm->mu);
    return n;
}

const sl_resource_handle *sl_resource_mgr_handle(sl_resource_mgr *rm, const char *cname, const char *name,
                                                 const char *type)
{
    if (!cname)
        cname = "";
    size_t lc = strlen(cname), ln = strlen(name), lt = strlen(type), len = lc + ln + lt + 3;
    char *key = sl_malloc(len);
    if (!key)
        return NULL;
    snprintf(key, len, "%s\x1f%s\x1f%s", cname, name, type);
    pthread_mutex_lock(&rm->mu);
    handle_entry *e = sl_strmap_get(&rm->handles, key);
    if (e) {
        pthread_mutex_unlock(&rm->mu);
        sl_free(key);
        return &e->h;
    }
    char *strings = NULL;
    if (!grow((void **)&rm->hlist, &rm->cap_handles, rm->num_handles + 1, sizeof(*rm->hlist)) ||
        !(e = sl_calloc(1, sizeof(*e))) || !(strings = sl_malloc(len)))
        goto err;
    memcpy(strings, key, len);  /* container \0 name \0 type \0 */
    strings[lc] = '\0';
    strings[lc + 1 + ln] = '\0';
    e->h.container = strings;
    e->h.name = strings + lc + 1;
    e->h.type = strings + lc + ln + 2;
    e->key = key;
    if (!sl_strmap_put(&rm->handles, key, e))
        goto err;
    rm->hlist[rm->num_handles++] = e;
    pthread_mutex_unlock(&rm->mu);
    return &e->h;
err:
    pthread_mutex_unlock(&rm->mu);
    sl_free(strings);
    sl_free(key);
    sl_free(e);
    return NULL;
}

sl_tensor *sl_resource_handle_tensor(const sl_resource_handle *handle, sl_status *status)
{
    sl_shape scalar = sl_shape_scalar();
    sl_tensor *t = sl_tensor_new(SL_DTYPE_RESOURCE, &scalar, status);
    if (t)
        *(const sl_resource_handle **)sl_tensor_data(t) = handle;
    return t;
}

const sl_resource_handle *sl_resource_handle_from_tensor(const sl_tensor *t)
{
    if (!t || sl_tensor_dtype(t) != SL_DTYPE_RESOURCE || sl_tensor_num_elements(t) != 1)
        return NULL;
    return *(const sl_resource_handle **)sl_tensor_data(t);
}

sl_resource *sl_resource_mgr_lookup_handle(sl_resource_mgr *rm, const sl_resource_handle *h, sl_status *st)
{
    return sl_resource_mgr_lookup(rm, h->container, h->name, h->type, st);
}
