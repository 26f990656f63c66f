/* Queues (paper 4.6): FIFOQueueV2 and RandomShuffleQueueV2 as resources,
 * and the asynchronous kernels that use them.
 *
 * A queue holds elements (tuples of component tensors) and two lists of
 * waiting operations: enqueues that found it full and dequeues that found
 * too few elements.  Every change (enqueue, dequeue, close, cancel) runs
 * flush(), which serves waiters in arrival order under the queue's mutex
 * and collects the finished ones; their kernels complete (outputs, done
 * callback) after the mutex is released, since completing continues the
 * step.  Closing fails the dequeues that can no longer be served with
 * OUT_OF_RANGE "queue '<name>' is closed ..." and refuses later enqueues
 * (CANCELLED); enqueues already waiting are still served unless the close
 * asked for cancel_pending_enqueues.  A step's cancellation removes its
 * waiters with CANCELLED. */
#include "config.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "executor.h"
#include "runtime-kernels.h"
#include "sluice/alloc.h"

#define QUEUE_TYPE "queue"
#define MAX_COMPONENTS 16

typedef struct queue queue;

typedef struct waiter {
    struct waiter *next;
    sl_kernel_ctx *ctx;
    bool is_enqueue;
    bool many;            /* DequeueMany / EnqueueMany */
    int64_t want;         /* dequeue: elements wanted */
    int64_t got;          /* dequeue: elements taken so far */
    sl_tensor ***taken;   /* dequeue: elements taken (want of them) */
    sl_tensor ***items;   /* enqueue: elements still to add */
    int64_t num_items;
    int64_t next_item;
    int64_t token;        /* cancellation registration; 0 when none */
    struct cancel_arg *carg;
    sl_code code;         /* result */
    char msg[160];
} waiter;

typedef struct cancel_arg {
    queue *q;
    waiter *w;
} cancel_arg;

struct queue {
    pthread_mutex_t mu;
    char *name;
    int num_components;
    sl_dtype types[MAX_COMPONENTS];
    int num_shapes;
    sl_shape shapes[MAX_COMPONENTS];
    int64_t capacity;         /* < 0: unbounded */
    int64_t min_after_dequeue;
    bool shuffle;
    uint64_t rng;
    bool closed;
    bool cancel_enqueues;     /* closed with cancel_pending_enqueues */
    sl_tensor ***elems;       /* ring of element tuples */
    int64_t head;
    int64_t count;
    int64_t cap_elems;
    waiter *waiters;          /* arrival order */
};

/* ---- The queue object ---------------------------------------------------- */

static void tuple_free(sl_tensor **t, int n)
{
    if (!t)
        return;
    for (int i = 0; i < n; i++)
        sl_tensor_unref(t[i]);
    sl_free(t);
}

static void queue_destroy(void *obj)
{
    queue *q = obj;
    for (int64_t i = 0; i < q->count; i++)
        tuple_free(q->elems[(q->head + i) % q->cap_elems], q->num_components);
    sl_free(q->elems);
    sl_free(q->name);
    pthread_mutex_destroy(&q->mu);
    sl_free(q);
}

typedef struct queue_create_arg {
    const sl_node *node;
    const char *name;
    sl_status *st;
} queue_create_arg;

static void *queue_create(void *arg, sl_status *st)
{
    queue_create_arg *a = arg;
    queue *q = sl_calloc(1, sizeof(*q));
    if (!q || !(q->name = sl_strdup(a->name))) {
        sl_free(q);
        sl_status_set(st, SL_RESOURCE_EXHAUSTED, "out of memory creating queue '%s'", a->name);
        return NULL;
    }
    const int *types;
    int n = 0;
    if (!sl_node_attr_type_list(a->node, "component_types", &types, &n) || n < 1 || n > MAX_COMPONENTS) {
        sl_status_set(st, SL_INVALID_ARGUMENT, "queue '%s' needs 1 to %d component types", a->name,
                      MAX_COMPONENTS);
        goto err;
    }
    q->num_components = n;
    for (int i = 0; i < n; i++)
        q->types[i] = (sl_dtype)types[i];
    /* shapes: optional; when given, one per component */
    for (int i = 0; i < n; i++)
        q->shapes[i] = sl_shape_unknown();
    int64_t cap = -1, mad = 0, seed = 0, seed2 = 0;
    sl_node_attr_int(a->node, "capacity", &cap);
    sl_node_attr_int(a->node, "min_after_dequeue", &mad);
    sl_node_attr_int(a->node, "seed", &seed);
    sl_node_attr_int(a->node, "seed2", &seed2);
    q->capacity = cap;
    q->min_after_dequeue = mad;
    q->shuffle = !strcmp(sl_node_op_type(a->node), "RandomShuffleQueueV2");
    q->rng = (uint64_t)(seed * 1000003 + seed2) ^ 0x9e3779b97f4a7c15ULL;
    if (!seed && !seed2)
        q->rng ^= (uint64_t)(uintptr_t)q;
    pthread_mutex_init(&q->mu, NULL);
    return q;
err:
    sl_free(q->name);
    sl_free(q);
    return NULL;
}

static uint64_t next_random(queue *q)
{
    q->rng ^= q->rng << 13;
    q->rng ^= q->rng >> 7;
    q->rng ^= q->rng << 17;
    return q->rng;
}

static bool push_elem(queue *q, sl_tensor **t)
{
    if (q->count == q->cap_elems) {
        int64_t nc = q->cap_elems ? q->cap_elems * 2 : 16;
        sl_tensor ***p = sl_malloc((size_t)nc * sizeof(*p));
        if (!p)
            return false;
        for (int64_t i = 0; i < q->count; i++)
            p[i] = q->elems[(q->head + i) % q->cap_elems];
        sl_free(q->elems);
        q->elems = p;
        q->head = 0;
        q->cap_elems = nc;
    }
    q->elems[(q->head + q->count) % q->cap_elems] = t;
    q->count++;
    return true;
}

static sl_tensor **pop_elem(queue *q)
{
    if (q->shuffle && q->count > 1) {
        int64_t k = (int64_t)(next_random(q) % (uint64_t)q->count);
        int64_t a = q->head % q->cap_elems, b = (q->head + k) % q->cap_elems;
        sl_tensor **t = q->elems[a];
        q->elems[a] = q->elems[b];
        q->elems[b] = t;
    }
    sl_tensor **t = q->elems[q->head];
    q->head = (q->head + 1) % q->cap_elems;
    q->count--;
    return t;
}

static bool full(const queue *q)
{
    return q->capacity >= 0 && q->count >= q->capacity;
}

static void finish(waiter *w, sl_code code, const char *fmt, ...) SL_PRINTF(3, 4);
static void finish(waiter *w, sl_code code, const char *fmt, ...)
{
    w->code = code;
    if (fmt) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(w->msg, sizeof(w->msg), fmt, ap);
        va_end(ap);
    }
}

/* Serves waiters; moves finished ones to *done.  Under q->mu.
 *
 * Enqueues are served in arrival order among themselves, and so are
 * dequeues: a waiter that cannot finish blocks later ones of its kind but
 * not those of the other kind, so a dequeue waiting on an empty queue never
 * holds back the enqueue that will serve it.  Each pass serves enqueues
 * first, then dequeues (as TF's QueueBase::FlushUnlocked), until nothing
 * changes.
 *
 * After close, enqueues that were pending keep being served unless the
 * close cancelled them (cancel_pending_enqueues); a dequeue that cannot be
 * served fails with OUT_OF_RANGE once no pending enqueue can still add the
 * elements it needs. */
static void flush(queue *q, waiter **done)
{
    bool progress = true;
    while (progress) {
        progress = false;
        bool enq_blocked = false, deq_blocked = false;
        int64_t pending_enqueues = 0;
        for (int pass = 0; pass < 2; pass++) {
            bool want_enqueue = pass == 0;
            waiter **pp = &q->waiters;
            while (*pp) {
                waiter *w = *pp;
                bool finished = false;
                if (w->is_enqueue != want_enqueue) {
                    pp = &w->next;
                    continue;
                }
                if (w->is_enqueue) {
                    if (q->closed && q->cancel_enqueues) {
                        finish(w, SL_CANCELLED, "queue '%s' is closed", q->name);
                        finished = true;
                    } else if (!enq_blocked) {
                        while (w->next_item < w->num_items && !full(q)) {
                            if (!push_elem(q, w->items[w->next_item])) {
                                finish(w, SL_RESOURCE_EXHAUSTED, "out of memory enqueuing");
                                finished = true;
                                break;
                            }
                            w->items[w->next_item++] = NULL;
                            progress = true;
                        }
                        if (w->next_item == w->num_items && !finished) {
                            finish(w, SL_OK, NULL);
                            finished = true;
                        }
                    }
                    if (!finished) {
                        enq_blocked = true;
                        pending_enqueues++;
                    }
                } else if (!deq_blocked) {
                    int64_t need = w->want - w->got;
                    int64_t avail = q->closed ? q->count : q->count - (q->shuffle ? q->min_after_dequeue : 0);
                    if (avail >= need) {
                        for (int64_t i = 0; i < need; i++)
                            w->taken[w->got++] = pop_elem(q);
                        finish(w, SL_OK, NULL);
                        finished = true;
                        progress = true;
                    } else if (q->closed && (pending_enqueues == 0 || full(q))) {
                        finish(w, SL_OUT_OF_RANGE,
                               "queue '%s' is closed and has insufficient elements (requested %lld, current size %lld)",
                               q->name, (long long)w->want, (long long)q->count);
                        finished = true;
                    } else {
                        deq_blocked = true;
                    }
                }
                if (finished) {
                    *pp = w->next;
                    w->next = *done;
                    *done = w;
                } else {
                    pp = &w->next;
                }
            }
        }
    }
}

/* ---- Completing kernels ---------------------------------------------------- */

static void waiter_free(waiter *w, int ncomp)
{
    if (w->items) {
        for (int64_t i = w->next_item; i < w->num_items; i++)
            tuple_free(w->items[i], ncomp);
        sl_free(w->items);
    }
    if (w->taken) {
        for (int64_t i = 0; i < w->got; i++)
            tuple_free(w->taken[i], ncomp);
        sl_free(w->taken);
    }
    sl_free(w);
}

/* Stacks the taken elements into outputs (a batch for DequeueMany). */
static void set_dequeue_outputs(queue *q, waiter *w)
{
    sl_kernel_ctx *ctx = w->ctx;
    for (int c = 0; c < q->num_components; c++) {
        if (!w->many) {
            sl_kernel_ctx_set_output(ctx, c, w->taken[0][c]);
            continue;
        }
        const sl_tensor *first = w->want > 0 ? w->taken[0][c] : NULL;
        sl_shape s = first ? *sl_tensor_shape(first) : q->shapes[c];
        if (!sl_shape_is_fully_defined(&s)) {
            sl_kernel_ctx_fail(ctx, SL_INVALID_ARGUMENT,
                               "dequeue of 0 elements needs the queue's shapes (component %d)", c);
            return;
        }
        if (s.rank >= SL_MAX_DIMS) {
            sl_kernel_ctx_fail(ctx, SL_INVALID_ARGUMENT, "elements of rank %d are too large to batch", s.rank);
            return;
        }
        sl_shape out_shape;
        out_shape.rank = s.rank + 1;
        out_shape.dims[0] = w->want;
        memcpy(out_shape.dims + 1, s.dims, (size_t)s.rank * sizeof(int64_t));
        sl_tensor *out = sl_kernel_ctx_allocate_output(ctx, c, &out_shape);
        if (!out)
            return;
        size_t each = first ? sl_tensor_byte_size(first) : 0;
        for (int64_t i = 0; i < w->want; i++) {
            const sl_tensor *t = w->taken[i][c];
            if (!sl_shape_equal(sl_tensor_shape(t), &s)) {
                sl_kernel_ctx_fail(ctx, SL_INVALID_ARGUMENT,
                                   "dequeue_many needs elements of one shape (component %d)", c);
                return;
            }
            if (q->types[c] == SL_DTYPE_STRING) {
                const sl_tstring *src = sl_tensor_data(t);
                int64_t n = sl_tensor_num_elements(t);
                for (int64_t k = 0; k < n; k++) {
                    sl_status *st = sl_status_new();
                    sl_code rc = st ? sl_tensor_set_string(out, i * n + k, src[k].data, src[k].size, st)
                                    : SL_RESOURCE_EXHAUSTED;
                    sl_status_free(st);
                    if (rc != SL_OK) {
                        sl_kernel_ctx_fail(ctx, SL_RESOURCE_EXHAUSTED, "out of memory batching strings");
                        return;
                    }
                }
            } else if (each) {
                memcpy((char *)sl_tensor_data(out) + (size_t)i * each, sl_tensor_data(t), each);
            }
        }
    }
}

static void complete_all(queue *q, waiter *done)
{
    while (done) {
        waiter *w = done;
        done = w->next;
        if (w->token > 0) {
            sl_kernel_ctx *ctx = w->ctx;
            /* when the callback already fired it finds w gone from the
             * queue and only frees its arg */
            if (sl__cancel_deregister(ctx->cancel, w->token))
                sl_free(w->carg);
        }
        if (w->code != SL_OK)
            sl_kernel_ctx_fail(w->ctx, w->code, "%s", w->msg);
        else if (!w->is_enqueue)
            set_dequeue_outputs(q, w);
        sl_kernel_ctx *ctx = w->ctx;
        waiter_free(w, q->num_components);
        sl_kernel_ctx_done(ctx);
    }
}

static void on_cancel(void *arg)
{
    cancel_arg *ca = arg;
    queue *q = ca->q;
    pthread_mutex_lock(&q->mu);
    waiter *w = ca->w, *done = NULL;
    bool found = false;
    if (w) {
        for (waiter **pp = &q->waiters; *pp; pp = &(*pp)->next) {
            if (*pp == w) {
                *pp = w->next;
                found = true;
                break;
            }
        }
    }
    if (found) {
        /* put back what a partial dequeue took, in front */
        for (int64_t i = w->got - 1; i >= 0; i--) {
            if (q->count == q->cap_elems || !q->cap_elems)
                break;
            q->head = (q->head - 1 + q->cap_elems) % q->cap_elems;
            q->elems[q->head] = w->taken[i];
            q->count++;
            w->taken[i] = NULL;
            w->got = i;
        }
        w->token = 0;
        finish(w, SL_CANCELLED, "%s on queue '%s' was cancelled", w->is_enqueue ? "enqueue" : "dequeue",
               q->name);
        w->next = NULL;
        done = w;
        flush(q, &done);
    }
    pthread_mutex_unlock(&q->mu);
    sl_free(ca);
    complete_all(q, done);
}

/* ---- Kernels ------------------------------------------------------------------- */

static void queue_handle_compute(sl_kernel_ctx *ctx)
{
    sl_resource_mgr *rm = sl_kernel_ctx_resources(ctx);
    if (!rm) {
        sl_kernel_ctx_fail(ctx, SL_FAILED_PRECONDITION, "no resource manager: run this op in a session");
        return;
    }
    char name[SL_RESOURCE_NAME_MAX], container[SL_RESOURCE_NAME_MAX];
    sl__resource_name(sl_kernel_ctx_node(ctx), name, sizeof(name));
    sl__resource_container(sl_kernel_ctx_node(ctx), container, sizeof(container));
    sl_status *st = sl_status_new();
    if (!st) {
        sl_kernel_ctx_fail(ctx, SL_RESOURCE_EXHAUSTED, "out of memory");
        return;
    }
    queue_create_arg arg = {sl_kernel_ctx_node(ctx), name, st};
    sl_resource *r = sl_resource_mgr_lookup_or_create(rm, container, name, QUEUE_TYPE, queue_create, &arg,
                                                      queue_destroy, st);
    const sl_resource_handle *h = r ? sl_resource_mgr_handle(rm, container, name, QUEUE_TYPE) : NULL;
    sl_tensor *t = h ? sl_resource_handle_tensor(h, st) : NULL;
    if (!r)
        sl_kernel_ctx_fail(ctx, sl_status_code(st), "%s", sl_status_message(st));
    else if (!t)
        sl_kernel_ctx_fail(ctx, SL_RESOURCE_EXHAUSTED, "out of memory for a queue handle");
    else
        sl_kernel_ctx_set_output(ctx, 0, t);
    sl_tensor_unref(t);
    sl_resource_unref(r);
    sl_status_free(st);
}

/* The queue of input 0, a new resource reference, or NULL (ctx failed). */
static sl_resource *input_queue(sl_kernel_ctx *ctx)
{
    sl_resource_mgr *rm = sl_kernel_ctx_resources(ctx);
    const sl_resource_handle *h = sl_resource_handle_from_tensor(sl_kernel_ctx_input(ctx, 0));
    if (!rm || !h) {
        sl_kernel_ctx_fail(ctx, SL_INVALID_ARGUMENT, "input 0 is not a queue handle");
        return NULL;
    }
    sl_status *st = sl_status_new();
    sl_resource *r = st ? sl_resource_mgr_lookup_handle(rm, h, st) : NULL;
    if (!r)
        sl_kernel_ctx_fail(ctx, st ? sl_status_code(st) : SL_RESOURCE_EXHAUSTED, "%s",
                           st ? sl_status_message(st) : "out of memory");
    sl_status_free(st);
    return r;
}

/* Adds w to the queue, serves what it can and completes finished waiters.
 * Takes the resource reference r (kept alive until w completes). */
static void submit(sl_kernel_ctx *ctx, sl_resource *r, waiter *w)
{
    queue *q = sl_resource_object(r);
    w->ctx = ctx;
    waiter *done = NULL;
    if (ctx->cancel) {
        w->carg = sl_malloc(sizeof(*w->carg));
        if (w->carg) {
            w->carg->q = q;
            w->carg->w = w;
            w->token = sl__cancel_register(ctx->cancel, on_cancel, w->carg);
            if (w->token <= 0) {
                sl_free(w->carg);
                w->carg = NULL;
                w->token = 0;
                finish(w, SL_CANCELLED, "step was cancelled");
                done = w;
            }
        }
    }
    pthread_mutex_lock(&q->mu);
    if (!done && w->is_enqueue && q->closed) {
        finish(w, SL_CANCELLED, "queue '%s' is closed", q->name);
        done = w;
    }
    if (!done) {
        waiter **pp = &q->waiters;
        while (*pp)
            pp = &(*pp)->next;
        *pp = w;
    }
    flush(q, &done);
    pthread_mutex_unlock(&q->mu);
    /* the queue stays alive while its resource reference is held: drop it
     * after completion, which may free the queue if it was reset meanwhile */
    complete_all(q, done);
    sl_resource_unref(r);
}

static bool check_components(sl_kernel_ctx *ctx, queue *q, int first)
{
    int n = sl_kernel_ctx_num_inputs(ctx) - first;
    if (n != q->num_components) {
        sl_kernel_ctx_fail(ctx, SL_INVALID_ARGUMENT, "queue '%s' has %d components, not %d", q->name,
                           q->num_components, n);
        return false;
    }
    for (int c = 0; c < n; c++) {
        const sl_tensor *t = sl_kernel_ctx_input(ctx, first + c);
        if (sl_tensor_dtype(t) != q->types[c]) {
            sl_kernel_ctx_fail(ctx, SL_INVALID_ARGUMENT, "queue '%s' component %d is %s, not %s", q->name, c,
                               sl_dtype_name(q->types[c]), sl_dtype_name(sl_tensor_dtype(t)));
            return false;
        }
    }
    return true;
}

/* A new tensor holding row i of t (which has rank >= 1). */
static sl_tensor *slice_row(const sl_tensor *t, int64_t i, sl_status *st)
{
    const sl_shape *s = sl_tensor_shape(t);
    sl_shape rs = sl_shape_make(s->rank - 1, s->dims + 1);
    sl_tensor *r = sl_tensor_new(sl_tensor_dtype(t), &rs, st);
    if (!r)
        return NULL;
    int64_t n = sl_tensor_num_elements(r);
    if (sl_tensor_dtype(t) == SL_DTYPE_STRING) {
        const sl_tstring *src = sl_tensor_data(t);
        for (int64_t k = 0; k < n; k++)
            if (sl_tensor_set_string(r, k, src[i * n + k].data, src[i * n + k].size, st) != SL_OK) {
                sl_tensor_unref(r);
                return NULL;
            }
    } else if (n) {
        size_t each = sl_tensor_byte_size(r);
        memcpy(sl_tensor_data(r), (const char *)sl_tensor_data(t) + (size_t)i * each, each);
    }
    return r;
}

static void enqueue_common(sl_kernel_ctx *ctx, bool many)
{
    sl_resource *r = input_queue(ctx);
    if (!r) {
        sl_kernel_ctx_done(ctx);
        return;
    }
    queue *q = sl_resource_object(r);
    waiter *w = NULL;
    if (!check_components(ctx, q, 1))
        goto err;
    int nc = q->num_components;
    int64_t rows = 1;
    if (many) {
        const sl_tensor *t0 = sl_kernel_ctx_input(ctx, 1);
        if (sl_tensor_rank(t0) < 1) {
            sl_kernel_ctx_fail(ctx, SL_INVALID_ARGUMENT, "enqueue_many needs tensors of rank >= 1");
            goto err;
        }
        rows = sl_tensor_dim(t0, 0);
        for (int c = 1; c < nc; c++)
            if (sl_tensor_rank(sl_kernel_ctx_input(ctx, 1 + c)) < 1 ||
                sl_tensor_dim(sl_kernel_ctx_input(ctx, 1 + c), 0) != rows) {
                sl_kernel_ctx_fail(ctx, SL_INVALID_ARGUMENT,
                                   "enqueue_many needs the same first dimension in every component");
                goto err;
            }
    }
    w = sl_calloc(1, sizeof(*w));
    if (!w || !(w->items = sl_calloc((size_t)rows + 1, sizeof(*w->items))))
        goto err_oom;
    w->is_enqueue = true;
    w->many = many;
    for (int64_t i = 0; i < rows; i++) {
        w->items[i] = sl_calloc((size_t)nc, sizeof(sl_tensor *));
        if (!w->items[i])
            goto err_oom;
        w->num_items = i + 1;
        for (int c = 0; c < nc; c++) {
            sl_tensor *in = (sl_tensor *)sl_kernel_ctx_input(ctx, 1 + c);
            if (many) {
                sl_status *st = sl_status_new();
                w->items[i][c] = st ? slice_row(in, i, st) : NULL;
                sl_status_free(st);
                if (!w->items[i][c])
                    goto err_oom;
            } else {
                w->items[i][c] = sl_tensor_ref(in);
            }
        }
    }
    submit(ctx, r, w);
    return;
err_oom:
    sl_kernel_ctx_fail(ctx, SL_RESOURCE_EXHAUSTED, "out of memory enqueuing");
err:
    if (w)
        waiter_free(w, q->num_components);
    sl_resource_unref(r);
    sl_kernel_ctx_done(ctx);
}

static void enqueue_compute(sl_kernel_ctx *ctx) { enqueue_common(ctx, false); }
static void enqueue_many_compute(sl_kernel_ctx *ctx) { enqueue_common(ctx, true); }

static void dequeue_common(sl_kernel_ctx *ctx, bool many)
{
    sl_resource *r = input_queue(ctx);
    if (!r) {
        sl_kernel_ctx_done(ctx);
        return;
    }
    queue *q = sl_resource_object(r);
    int64_t want = 1;
    if (many) {
        const sl_tensor *n = sl_kernel_ctx_input(ctx, 1);
        want = *(const int32_t *)sl_tensor_data(n);
        if (want < 0) {
            sl_kernel_ctx_fail(ctx, SL_INVALID_ARGUMENT, "dequeue_many of %lld elements", (long long)want);
            goto err;
        }
    }
    if (sl_kernel_ctx_num_outputs(ctx) != q->num_components) {
        sl_kernel_ctx_fail(ctx, SL_INVALID_ARGUMENT, "queue '%s' has %d components, not %d", q->name,
                           q->num_components, sl_kernel_ctx_num_outputs(ctx));
        goto err;
    }
    waiter *w = sl_calloc(1, sizeof(*w));
    if (!w || !(w->taken = sl_calloc((size_t)want + 1, sizeof(*w->taken)))) {
        sl_free(w);
        sl_kernel_ctx_fail(ctx, SL_RESOURCE_EXHAUSTED, "out of memory dequeuing");
        goto err;
    }
    w->want = want;
    w->many = many;
    submit(ctx, r, w);
    return;
err:
    sl_resource_unref(r);
    sl_kernel_ctx_done(ctx);
}

static void dequeue_compute(sl_kernel_ctx *ctx) { dequeue_common(ctx, false); }
static void dequeue_many_compute(sl_kernel_ctx *ctx) { dequeue_common(ctx, true); }

static void close_compute(sl_kernel_ctx *ctx)
{
    sl_resource *r = input_queue(ctx);
    if (!r)
        return;
    queue *q = sl_resource_object(r);
    bool cancel_enqueues = false;
    sl_node_attr_bool(sl_kernel_ctx_node(ctx), "cancel_pending_enqueues", &cancel_enqueues);
    waiter *done = NULL;
    pthread_mutex_lock(&q->mu);
    q->closed = true;
    if (cancel_enqueues)
        q->cancel_enqueues = true;  /* else pending enqueues are still served */
    flush(q, &done);
    pthread_mutex_unlock(&q->mu);
    complete_all(q, done);
    sl_resource_unref(r);
}

static void size_compute(sl_kernel_ctx *ctx)
{
    sl_resource *r = input_queue(ctx);
    if (!r)
        return;
    queue *q = sl_resource_object(r);
    sl_shape scalar = sl_shape_scalar();
    sl_tensor *out = sl_kernel_ctx_allocate_output(ctx, 0, &scalar);
    if (out) {
        pthread_mutex_lock(&q->mu);
        *(int32_t *)sl_tensor_data(out) = (int32_t)q->count;
        pthread_mutex_unlock(&q->mu);
    }
    sl_resource_unref(r);
}

static const sl_kernel_def queue_kernels[] = {
    {.op = "FIFOQueueV2", .device = SL_DEVICE_CPU, .compute = queue_handle_compute},
    {.op = "RandomShuffleQueueV2", .device = SL_DEVICE_CPU, .compute = queue_handle_compute},
    {.op = "QueueEnqueueV2", .device = SL_DEVICE_CPU, .compute_async = enqueue_compute},
    {.op = "QueueEnqueueManyV2", .device = SL_DEVICE_CPU, .compute_async = enqueue_many_compute},
    {.op = "QueueDequeueV2", .device = SL_DEVICE_CPU, .compute_async = dequeue_compute},
    {.op = "QueueDequeueManyV2", .device = SL_DEVICE_CPU, .compute_async = dequeue_many_compute},
    {.op = "QueueCloseV2", .device = SL_DEVICE_CPU, .compute = close_compute},
    {.op = "QueueSizeV2", .device = SL_DEVICE_CPU, .compute = size_compute},
};

void sl__kernels_register_queues(void)
{
    sl__runtime_register_table(queue_kernels, (int)(sizeof(queue_kernels) / sizeof(queue_kernels[0])));
}
