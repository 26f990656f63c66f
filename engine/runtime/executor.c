/* The dataflow executor (paper 3.1 and 4.4, after TF's executor.cc).
 *
 * Preparation turns a plan into items: one per node plus a pseudo item
 * whose outputs are the feeds.  Each item knows its kernel, its out edges,
 * its loop frame, where its inputs live inside its frame's slot array and
 * its initial pending count.
 *
 * A step keeps, per active frame and iteration, the input slots, pending
 * counts and dead counts of that frame's items.  When a node finishes, its
 * outputs are stored in its consumers' slots and their pending counts drop;
 * a consumer whose count reaches zero is ready.  Deadness follows TF: an
 * untaken Switch output is dead; a node with a dead input is dead (it does
 * not run and its outputs are dead) except Merge, which runs on its first
 * live input and is dead only when every input is.  Enter moves a value
 * into a child frame (loop invariants, is_constant, into every iteration),
 * NextIteration into the next iteration (at most parallel_iterations at
 * once; extra ones wait), Exit back to the parent frame.  Iterations are
 * freed as they finish, so a loop's memory does not grow with its trip
 * count.
 *
 * All frame bookkeeping of a step happens under the step's one mutex; the
 * kernels run outside it.  Ready nodes with cheap kernels (cost 0) run
 * inline on the thread that made them ready, in LIFO order; expensive ones
 * go to the pool, except one that this thread runs after its cheap ones
 * when it holds no other expensive node (every one with nodes_inline).
 * Asynchronous kernels return at once and finish through their callback,
 * which continues the step on the pool.
 *
 * Errors: the first one wins, is prefixed with the node, fires the step's
 * cancellation (so blocked queue operations return) and stops new nodes
 * from starting; the step ends when the running ones return. */
#include "config.h"

#include "executor.h"
#include "gpu-hooks.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "graph-private.h"
#include "kernel-ctx-private.h"
#include "rendezvous.h"
#include "sluice/alloc.h"
#include "var-private.h"

/* ---- Cancellation ------------------------------------------------------ */

typedef struct cancel_cb {
    int64_t token;
    sl__cancel_fn fn;
    void *arg;
} cancel_cb;

struct sl__cancel {
    pthread_mutex_t mu;
    atomic_int fired;
    sl_status *reason;
    int64_t next_token;
    cancel_cb *cbs;
    int num_cbs;
    int cap_cbs;
};

sl__cancel *sl__cancel_new(void)
{
    sl__cancel *c = sl_calloc(1, sizeof(*c));
    if (!c)
        return NULL;
    c->reason = sl_status_new();
    if (!c->reason) {
        sl_free(c);
        return NULL;
    }
    pthread_mutex_init(&c->mu, NULL);
    atomic_init(&c->fired, 0);
    return c;
}

void sl__cancel_free(sl__cancel *c)
{
    if (!c)
        return;
    sl_status_free(c->reason);
    sl_free(c->cbs);
    pthread_mutex_destroy(&c->mu);
    sl_free(c);
}

void sl__cancel_fire(sl__cancel *c, sl_code code, const char *msg)
{
    pthread_mutex_lock(&c->mu);
    if (atomic_load(&c->fired)) {
        pthread_mutex_unlock(&c->mu);
        return;
    }
    sl_status_set(c->reason, code, "%s", msg);
    atomic_store(&c->fired, 1);
    cancel_cb *cbs = c->cbs;
    int n = c->num_cbs;
    c->cbs = NULL;
    c->num_cbs = c->cap_cbs = 0;
    pthread_mutex_unlock(&c->mu);
    for (int i = 0; i < n; i++)
        cbs[i].fn(cbs[i].arg);
    sl_free(cbs);
}

bool sl__cancel_is_fired(const sl__cancel *c) { return atomic_load(&c->fired); }
const atomic_int *sl__cancel_flag(const sl__cancel *c) { return &c->fired; }

void sl__cancel_reason(sl__cancel *c, sl_status *st)
{
    pthread_mutex_lock(&c->mu);
    sl_status_copy(st, c->reason);
    pthread_mutex_unlock(&c->mu);
}

int64_t sl__cancel_register(sl__cancel *c, sl__cancel_fn fn, void *arg)
{
    int64_t token = 0;
    pthread_mutex_lock(&c->mu);
    if (!atomic_load(&c->fired)) {
        if (c->num_cbs == c->cap_cbs) {
            int nc = c->cap_cbs ? c->cap_cbs * 2 : 8;
            cancel_cb *p = sl_realloc(c->cbs, (size_t)nc * sizeof(*p));
            if (!p) {
                pthread_mutex_unlock(&c->mu);
                return -1;
            }
            c->cbs = p;
            c->cap_cbs = nc;
        }
        token = ++c->next_token;
        c->cbs[c->num_cbs++] = (cancel_cb){token, fn, arg};
    }
    pthread_mutex_unlock(&c->mu);
    return token;
}

bool sl__cancel_deregister(sl__cancel *c, int64_t token)
{
    bool found = false;
    pthread_mutex_lock(&c->mu);
    for (int i = 0; i < c->num_cbs; i++) {
        if (c->cbs[i].token == token) {
            c->cbs[i] = c->cbs[--c->num_cbs];
            found = true;
            break;
        }
    }
    pthread_mutex_unlock(&c->mu);
    return found;
}

/* ---- Prepared tables ----------------------------------------------------- */

enum item_kind { K_NORMAL, K_FEED, K_MERGE, K_ENTER, K_EXIT, K_NEXT_ITER };

typedef struct exec_edge {
    int dst;        /* item index */
    int src_slot;   /* -1: control */
    int dst_slot;   /* -1: control */
} exec_edge;

typedef struct fetch_ref {
    int out;
    int fetch;
} fetch_ref;

typedef struct exec_item {
    const sl_node *node;           /* NULL for the feed item */
    const sl_kernel_def *kernel;   /* NULL: feed, folded or control flow without kernel */
    void *kstate;
    sl_tensor **folded;            /* constant outputs (owned) */
    unsigned char kind;            /* enum item_kind */
    bool expensive;
    bool is_constant_enter;
    bool allows_uninit;
    int frame;                     /* static frame */
    int local;                     /* index inside the frame */
    int input_start;               /* first slot inside the frame's slots */
    int num_inputs;
    int num_outputs;
    int pending_init;
    int child_frame;               /* Enter: the frame it enters */
    int num_edges;
    exec_edge *edges;
    int num_fetch_refs;
    fetch_ref *fetch_refs;
    unsigned char *input_is_ref;   /* per input: the op takes a Ref(T) */
} exec_item;

typedef struct static_frame {
    char *name;        /* owned */
    int parent;        /* -1 for the root */
    int num_items;
    int num_slots;
    int num_enters;    /* Enter items that feed it */
    int parallel;      /* parallel_iterations */
    int *pending_init; /* per local item */
} static_frame;

struct sl_executor {
    int num_items;     /* plan nodes + 1 (the feed item is last) */
    exec_item *items;
    exec_edge *edges;
    fetch_ref *fetch_refs;
    int num_frames;
    static_frame *frames;
    int num_roots;
    int *roots;        /* root-frame items ready at the start */
    int num_feeds;
    int num_fetches;
    sl__plan_input *fetches;  /* copied from the plan */
    bool on_gpu;       /* kernels are the GPU's: inputs moved, fetches copied back */
    sl_graph *aux;     /* the plan's nodes made by passes (fused ops), owned */
};

int sl__executor_num_nodes(const sl_executor *ex) { return ex->num_items - 1; }

void sl__executor_free(sl_executor *ex)
{
    if (!ex)
        return;
    for (int i = 0; i < ex->num_items; i++) {
        exec_item *it = &ex->items[i];
        if (it->kstate && it->kernel && it->kernel->destroy)
            it->kernel->destroy(it->kstate);
        if (it->folded) {
            for (int k = 0; k < it->num_outputs; k++)
                sl_tensor_unref(it->folded[k]);
            sl_free(it->folded);
        }
        sl_free(it->input_is_ref);
    }
    for (int f = 0; f < ex->num_frames; f++) {
        sl_free(ex->frames[f].pending_init);
        sl_free(ex->frames[f].name);
    }
    sl_free(ex->frames);
    sl_free(ex->items);
    sl_free(ex->edges);
    sl_free(ex->fetch_refs);
    sl_free(ex->roots);
    sl_free(ex->fetches);
    sl_graph_free(ex->aux);
    sl_free(ex);
}

static int kind_of(const sl_node *n)
{
    const char *op = sl_node_op_type(n);
    if (!strcmp(op, "Merge") || !strcmp(op, "RefMerge"))
        return K_MERGE;
    if (!strcmp(op, "Enter") || !strcmp(op, "RefEnter"))
        return K_ENTER;
    if (!strcmp(op, "Exit") || !strcmp(op, "RefExit"))
        return K_EXIT;
    if (!strcmp(op, "NextIteration") || !strcmp(op, "RefNextIteration"))
        return K_NEXT_ITER;
    return K_NORMAL;
}

static int find_or_add_frame(sl_executor *ex, const char *name, size_t len, int parent, int *cap)
{
    for (int f = 1; f < ex->num_frames; f++)
        if (strlen(ex->frames[f].name) == len && !memcmp(ex->frames[f].name, name, len) &&
            ex->frames[f].parent == parent)
            return f;
    if (ex->num_frames == *cap) {
        int nc = *cap * 2;
        static_frame *p = sl_realloc(ex->frames, (size_t)nc * sizeof(*p));
        if (!p)
            return -1;
        ex->frames = p;
        *cap = nc;
    }
    static_frame *sf = &ex->frames[ex->num_frames];
    memset(sf, 0, sizeof(*sf));
    sf->name = sl_strndup(name, len);
    if (!sf->name)
        return -1;
    sf->parent = parent;
    sf->parallel = 10;
    return ex->num_frames++;
}

/* Assigns every item to a frame by a walk from the items without inputs
 * (TF's BuildControlFlowInfo). */
static sl_code assign_frames(sl_executor *ex, int *indeg, sl_status *st)
{
    int n = ex->num_items, cap = 4;
    ex->frames = sl_calloc((size_t)cap, sizeof(*ex->frames));
    int *queue = sl_malloc((size_t)n * sizeof(int));
    if (!ex->frames || !queue) {
        sl_free(queue);
        return sl_status_set(st, SL_RESOURCE_EXHAUSTED, "out of memory preparing a step");
    }
    ex->num_frames = 1;
    ex->frames[0] = (static_frame){.name = sl_strdup(""), .parent = -1, .parallel = 1};
    if (!ex->frames[0].name) {
        sl_free(queue);
        return sl_status_set(st, SL_RESOURCE_EXHAUSTED, "out of memory preparing a step");
    }
    int head = 0, tail = 0;
    for (int i = 0; i < n; i++) {
        ex->items[i].frame = -1;
        if (indeg[i] == 0) {
            ex->items[i].frame = 0;
            queue[tail++] = i;
        }
    }
    sl_code rc = SL_OK;
    while (head < tail) {
        exec_item *it = &ex->items[queue[head++]];
        int out_frame = it->frame;
        if (it->kind == K_ENTER) {
            const char *fname;
            size_t len;
            if (!sl_node_attr_string(it->node, "frame_name", &fname, &len)) {
                rc = sl_status_set(st, SL_INVALID_ARGUMENT, "node '%s' (Enter) has no frame_name",
                                   sl_node_name(it->node));
                break;
            }
            int f = find_or_add_frame(ex, fname, len, it->frame, &cap);
            if (f < 0) {
                rc = sl_status_set(st, SL_RESOURCE_EXHAUSTED, "out of memory preparing a step");
                break;
            }
            int64_t par = 10;
            sl_node_attr_int(it->node, "parallel_iterations", &par);
            ex->frames[f].parallel = par > 0 ? (int)par : 1;
            bool is_const = false;
            sl_node_attr_bool(it->node, "is_constant", &is_const);
            it->is_constant_enter = is_const;
            it->child_frame = f;
            ex->frames[f].num_enters++;
            out_frame = f;
        } else if (it->kind == K_EXIT) {
            if (it->frame == 0) {
                rc = sl_status_set(st, SL_INVALID_ARGUMENT, "node '%s' (Exit) is not inside a loop frame",
                                   sl_node_name(it->node));
                break;
            }
            out_frame = ex->frames[it->frame].parent;
        }
        for (int e = 0; e < it->num_edges; e++) {
            exec_item *dst = &ex->items[it->edges[e].dst];
            if (dst->frame < 0) {
                dst->frame = out_frame;
                queue[tail++] = it->edges[e].dst;
            } else if (dst->frame != out_frame) {
                rc = sl_status_set(st, SL_INVALID_ARGUMENT,
                                   "node '%s' (%s) has inputs from two loop frames ('%s' and '%s')",
                                   sl_node_name(dst->node), sl_node_op_type(dst->node),
                                   ex->frames[dst->frame].name, ex->frames[out_frame].name);
                break;
            }
        }
        if (rc != SL_OK)
            break;
    }
    for (int i = 0; i < n && rc == SL_OK; i++)
        if (ex->items[i].frame < 0)
            rc = sl_status_set(st, SL_INVALID_ARGUMENT,
                               "node '%s' (%s) is on a cycle that no Enter/Merge starts",
                               sl_node_name(ex->items[i].node), sl_node_op_type(ex->items[i].node));
    sl_free(queue);
    return rc;
}

sl_executor *sl__executor_new(sl__plan *plan, sl_status *st)
{
    return sl__executor_new_on(plan, SL_DEVICE_CPU, st);
}

sl_executor *sl__executor_new_on(sl__plan *plan, const char *device_type, sl_status *st)
{
    sl_executor *ex = sl_calloc(1, sizeof(*ex));
    int *indeg = NULL, *ncontrol = NULL;
    if (!ex)
        goto err_oom;
    int n = plan->num_nodes + 1, feed = plan->num_nodes;
    ex->num_items = n;
    ex->on_gpu = !strcmp(device_type, SL_DEVICE_GPU);
    ex->aux = plan->aux;  /* items point at its nodes */
    plan->aux = NULL;
    ex->num_feeds = plan->num_feeds;
    ex->num_fetches = plan->num_fetches;
    ex->items = sl_calloc((size_t)n, sizeof(*ex->items));
    indeg = sl_calloc((size_t)n, sizeof(int));
    ncontrol = sl_calloc((size_t)n, sizeof(int));
    ex->fetches = sl_calloc((size_t)plan->num_fetches + 1, sizeof(*ex->fetches));
    if (!ex->items || !indeg || !ncontrol || !ex->fetches)
        goto err_oom;
    memcpy(ex->fetches, plan->fetches, (size_t)plan->num_fetches * sizeof(*ex->fetches));

    /* count edges per source */
    int num_edges = 0;
    for (int d = 0; d < plan->num_nodes; d++) {
        const sl__plan_node *pn = &plan->nodes[d];
        if (pn->folded)
            continue;
        for (int i = 0; i < pn->num_inputs; i++) {
            int s = pn->inputs[i].src == SL_PLAN_FEED ? feed : pn->inputs[i].src;
            ex->items[s].num_edges++;
            num_edges++;
        }
        for (int i = 0; i < pn->num_controls; i++) {
            ex->items[pn->controls[i]].num_edges++;
            num_edges++;
        }
    }
    ex->edges = sl_calloc((size_t)num_edges + 1, sizeof(*ex->edges));
    ex->fetch_refs = sl_calloc((size_t)plan->num_fetches + 1, sizeof(*ex->fetch_refs));
    if (!ex->edges || !ex->fetch_refs)
        goto err_oom;
    int off = 0;
    for (int i = 0; i < n; i++) {
        ex->items[i].edges = ex->edges + off;
        off += ex->items[i].num_edges;
        ex->items[i].num_edges = 0;
    }
    for (int d = 0; d < plan->num_nodes; d++) {
        const sl__plan_node *pn = &plan->nodes[d];
        if (pn->folded)
            continue;
        for (int i = 0; i < pn->num_inputs; i++) {
            int s = pn->inputs[i].src == SL_PLAN_FEED ? feed : pn->inputs[i].src;
            exec_item *si = &ex->items[s];
            si->edges[si->num_edges++] = (exec_edge){d, pn->inputs[i].out, i};
            indeg[d]++;
        }
        for (int i = 0; i < pn->num_controls; i++) {
            exec_item *si = &ex->items[pn->controls[i]];
            si->edges[si->num_edges++] = (exec_edge){d, -1, -1};
            indeg[d]++;
            ncontrol[d]++;
        }
    }
    /* fetch refs, grouped per item */
    for (int f = 0; f < plan->num_fetches; f++)
        if (plan->fetches[f].src != SL_PLAN_FEED)
            ex->items[plan->fetches[f].src].num_fetch_refs++;
    off = 0;
    for (int i = 0; i < n; i++) {
        ex->items[i].fetch_refs = ex->fetch_refs + off;
        off += ex->items[i].num_fetch_refs;
        ex->items[i].num_fetch_refs = 0;
    }
    for (int f = 0; f < plan->num_fetches; f++) {
        const sl__plan_input *fi = &plan->fetches[f];
        if (fi->src != SL_PLAN_FEED) {
            exec_item *it = &ex->items[fi->src];
            it->fetch_refs[it->num_fetch_refs++] = (fetch_ref){fi->out, f};
        }
    }

    /* kernels */
    ex->items[feed].kind = K_FEED;
    ex->items[feed].num_outputs = plan->num_feeds;
    for (int d = 0; d < plan->num_nodes; d++) {
        sl__plan_node *pn = &plan->nodes[d];
        exec_item *it = &ex->items[d];
        it->node = pn->node;
        it->num_inputs = pn->folded ? 0 : sl_node_num_inputs(pn->node);
        it->num_outputs = sl_node_num_outputs(pn->node);
        const sl_op_def *op = sl_node_op_def(pn->node);
        it->allows_uninit = op->flags & SL_OP_ALLOWS_UNINITIALIZED_INPUT;
        if (pn->folded) {
            it->folded = pn->folded;   /* taken */
            pn->folded = NULL;
            continue;
        }
        it->kind = (unsigned char)kind_of(pn->node);
        it->input_is_ref = sl_calloc((size_t)it->num_inputs + 1, 1);
        if (!it->input_is_ref)
            goto err_oom;
        for (int i = 0; i < it->num_inputs; i++)
            it->input_is_ref[i] = sl_dtype_is_ref(sl_node_input_type(pn->node, i));
        it->kernel = sl_kernel_lookup(pn->node, device_type, st);
        if (!it->kernel) {
            sl_status_prefix(st, "node '%s'", sl_node_name(pn->node));
            goto err;
        }
        if (it->kernel->create && it->kernel->create(pn->node, &it->kstate, st) != SL_OK) {
            sl_status_prefix(st, "node '%s' (%s)", sl_node_name(pn->node), sl_node_op_type(pn->node));
            goto err;
        }
        it->expensive = it->kernel->cost > 0 && !it->kernel->compute_async;
    }

    if (assign_frames(ex, indeg, st) != SL_OK)
        goto err;
    /* layout per frame */
    for (int f = 0; f < ex->num_frames; f++) {
        ex->frames[f].num_items = 0;
        ex->frames[f].num_slots = 0;
    }
    for (int i = 0; i < n; i++) {
        exec_item *it = &ex->items[i];
        static_frame *sf = &ex->frames[it->frame];
        it->local = sf->num_items++;
        it->input_start = sf->num_slots;
        sf->num_slots += it->num_inputs;
        it->pending_init = it->kind == K_MERGE ? (ncontrol[i] << 1) | 1 : indeg[i];
    }
    for (int f = 0; f < ex->num_frames; f++) {
        ex->frames[f].pending_init = sl_calloc((size_t)ex->frames[f].num_items + 1, sizeof(int));
        if (!ex->frames[f].pending_init)
            goto err_oom;
    }
    ex->roots = sl_calloc((size_t)n, sizeof(int));
    if (!ex->roots)
        goto err_oom;
    for (int i = 0; i < n; i++) {
        exec_item *it = &ex->items[i];
        ex->frames[it->frame].pending_init[it->local] = it->pending_init;
        if (it->frame == 0 && indeg[i] == 0 && i != feed)
            ex->roots[ex->num_roots++] = i;
    }
    for (int d = 0; d < ex->items[feed].num_edges; d++)
        if (ex->items[ex->items[feed].edges[d].dst].frame != 0) {
            sl_status_set(st, SL_INVALID_ARGUMENT, "cannot feed a tensor consumed inside a loop ('%s')",
                          sl_node_name(ex->items[ex->items[feed].edges[d].dst].node));
            goto err;
        }
    for (int f = 0; f < plan->num_fetches; f++)
        if (plan->fetches[f].src != SL_PLAN_FEED && ex->items[plan->fetches[f].src].frame != 0 &&
            !(ex->items[plan->fetches[f].src].kind == K_EXIT &&
              ex->frames[ex->items[plan->fetches[f].src].frame].parent == 0)) {
            sl_status_set(st, SL_INVALID_ARGUMENT, "cannot fetch '%s', a tensor inside a loop",
                          sl_node_name(ex->items[plan->fetches[f].src].node));
            goto err;
        }
    sl_free(indeg);
    sl_free(ncontrol);
    sl_status_clear(st);
    return ex;
err_oom:
    sl_status_set(st, SL_RESOURCE_EXHAUSTED, "out of memory preparing a step");
err:
    sl_free(indeg);
    sl_free(ncontrol);
    sl__executor_free(ex);
    return NULL;
}

/* ---- Step state -------------------------------------------------------- */

typedef struct frame_state frame_state;

typedef struct iter_state {
    int64_t iter;
    int outstanding_ops;
    int outstanding_frames;
    frame_state *children;      /* child frames started in this iteration */
    int *pending;
    int *dead;
    sl_kernel_value *slots;
} iter_state;

typedef struct held_value {
    int item;
    sl_kernel_value v;
    bool dead;
} held_value;

struct frame_state {
    const static_frame *sf;
    int sf_id;
    uint64_t frame_id;           /* 0 for the root; the same in every partition of a step */
    frame_state *parent;
    int64_t parent_iter;
    frame_state *next_sibling;
    int64_t iteration_count;
    int num_outstanding_iterations;
    int num_pending_inputs;
    int ring;                    /* slots in iters */
    iter_state **iters;
    held_value *inv;             /* loop invariants */
    int num_inv;
    int cap_inv;
    held_value *next_roots;      /* NextIteration outputs waiting for a free iteration */
    int num_next;
    int cap_next;
    int *dead_exits;
    int num_dead_exits;
    int cap_dead_exits;
};

typedef struct ready_entry {
    int item;
    bool dead;
    frame_state *frame;
    iter_state *iter;
} ready_entry;

typedef struct ready_vec {
    ready_entry *v;
    int n;
    int cap;
    ready_entry inline_buf[32];
} ready_vec;

typedef struct step {
    const sl_executor *ex;
    const sl__step_args *args;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int64_t outstanding;       /* ready + running node executions */
    atomic_bool aborted;       /* written under mu; read anywhere */
    sl_status *status;         /* first error */
    frame_state *root;
    sl__cancel *cancel;
    sl__rendezvous *rendezvous;
    sl_tensor **fetched;       /* values (tensors or vars' values) */
    sl_var **fetched_vars;
    sl_node_stats *stats;
    int num_stats;
    int cap_stats;
} step;

static void ready_init(ready_vec *r)
{
    r->v = r->inline_buf;
    r->n = 0;
    r->cap = (int)(sizeof(r->inline_buf) / sizeof(r->inline_buf[0]));
}

static void ready_release(ready_vec *r)
{
    if (r->v != r->inline_buf)
        sl_free(r->v);
}

static bool ready_push(ready_vec *r, ready_entry e)
{
    if (r->n == r->cap) {
        int nc = r->cap * 2;
        ready_entry *p = sl_malloc((size_t)nc * sizeof(*p));
        if (!p)
            return false;
        memcpy(p, r->v, (size_t)r->n * sizeof(*p));
        if (r->v != r->inline_buf)
            sl_free(r->v);
        r->v = p;
        r->cap = nc;
    }
    r->v[r->n++] = e;
    return true;
}

static int64_t now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* Records the step's first error (under s->mu) and cancels the step. */
static void fail_locked(step *s, const sl_status *err)
{
    if (!s->aborted) {
        s->aborted = true;
        sl_status_copy(s->status, err);
    }
}

static void fail_oom_locked(step *s)
{
    if (!s->aborted) {
        s->aborted = true;
        sl_status_set(s->status, SL_RESOURCE_EXHAUSTED, "out of memory running a step");
    }
}

static iter_state *iter_new(const static_frame *sf, int64_t iter)
{
    size_t ni = (size_t)sf->num_items, ns = (size_t)sf->num_slots;
    iter_state *it = sl_calloc(1, sizeof(*it) + ni * 2 * sizeof(int) + ns * sizeof(sl_kernel_value) + 16);
    if (!it)
        return NULL;
    it->iter = iter;
    it->slots = (sl_kernel_value *)(it + 1);
    it->pending = (int *)(it->slots + ns);
    it->dead = it->pending + ni;
    memcpy(it->pending, sf->pending_init, ni * sizeof(int));
    return it;
}

static void iter_free(const static_frame *sf, iter_state *it)
{
    if (!it)
        return;
    sl__kernel_values_release(it->slots, sf->num_slots);
    sl_free(it);
}

static iter_state *get_iter(frame_state *f, int64_t iter)
{
    iter_state *it = f->iters[iter % f->ring];
    return it && it->iter == iter ? it : NULL;
}

static void frame_free(frame_state *f);

static void frame_free_children(iter_state *it)
{
    frame_state *c = it->children;
    while (c) {
        frame_state *next = c->next_sibling;
        frame_free(c);
        c = next;
    }
    it->children = NULL;
}

static void held_release(held_value *h, int n)
{
    for (int i = 0; i < n; i++)
        sl__kernel_values_release(&h[i].v, 1);
}

static void frame_free(frame_state *f)
{
    for (int i = 0; i < f->ring; i++) {
        if (f->iters[i]) {
            frame_free_children(f->iters[i]);
            iter_free(f->sf, f->iters[i]);
        }
    }
    held_release(f->inv, f->num_inv);
    held_release(f->next_roots, f->num_next);
    sl_free(f->inv);
    sl_free(f->next_roots);
    sl_free(f->dead_exits);
    sl_free(f->iters);
    sl_free(f);
}

static frame_state *frame_new(const sl_executor *ex, int sf_id, frame_state *parent, int64_t parent_iter)
{
    frame_state *f = sl_calloc(1, sizeof(*f));
    if (!f)
        return NULL;
    f->sf = &ex->frames[sf_id];
    f->sf_id = sf_id;
    f->parent = parent;
    f->parent_iter = parent_iter;
    if (parent) {
        /* TF's frame id: a hash of the frame's name and where it started,
         * so the partitions of a step agree on it (Send/Recv keys) */
        uint64_t h = parent->frame_id * 1099511628211ULL ^ (uint64_t)parent_iter;
        for (const char *c = f->sf->name; *c; c++)
            h = (h ^ (unsigned char)*c) * 1099511628211ULL;
        f->frame_id = h ? h : 1;
    }
    f->ring = f->sf->parallel + 1;
    f->num_pending_inputs = f->sf->num_enters;
    f->num_outstanding_iterations = 1;
    f->iters = sl_calloc((size_t)f->ring, sizeof(*f->iters));
    if (f->iters)
        f->iters[0] = iter_new(f->sf, 0);
    if (!f->iters || !f->iters[0]) {
        sl_free(f->iters);
        sl_free(f);
        return NULL;
    }
    return f;
}

static bool is_live(const sl_kernel_value *v) { return v->tensor || v->var; }

static void value_ref_into(sl_kernel_value *dst, const sl_kernel_value *src)
{
    dst->tensor = sl_tensor_ref(src->tensor);
    dst->var = sl_var_ref(src->var);
}

/* Delivers src's outputs (outs indexed by output slot) along its edges into
 * iteration `it` of frame f.  Under s->mu. */
static void activate(step *s, frame_state *f, iter_state *it, const exec_item *src, bool src_dead,
                     const sl_kernel_value *outs, ready_vec *ready)
{
    const sl_executor *ex = s->ex;
    for (int e = 0; e < src->num_edges; e++) {
        const exec_edge *edge = &src->edges[e];
        const exec_item *dst = &ex->items[edge->dst];
        int lid = dst->local;
        bool control = edge->src_slot < 0;
        bool live = !src_dead && (control || is_live(&outs[edge->src_slot]));
        bool dst_dead = false, dst_ready = false, need_input = false;
        if (dst->kind == K_MERGE) {
            if (control) {
                it->pending[lid] -= 2;
                int count = it->pending[lid];
                dst_dead = it->dead[lid] == dst->num_inputs;
                dst_ready = count == 0 || (count == 1 && dst_dead);
            } else if (live) {
                int count = it->pending[lid];
                it->pending[lid] &= ~1;
                dst_ready = count == 1;
                need_input = count & 1;
            } else {
                it->dead[lid]++;
                dst_dead = it->dead[lid] == dst->num_inputs || src->kind == K_ENTER;
                dst_ready = it->pending[lid] == 1 && dst_dead;
            }
        } else {
            if (!live)
                it->dead[lid]++;
            it->pending[lid]--;
            dst_dead = it->dead[lid] > 0;
            dst_ready = it->pending[lid] == 0;
            need_input = live && !control;
        }
        if (need_input)
            value_ref_into(&it->slots[dst->input_start + edge->dst_slot], &outs[edge->src_slot]);
        if (dst_ready && !s->aborted) {
            if (!ready_push(ready, (ready_entry){edge->dst, dst_dead, f, it})) {
                fail_oom_locked(s);
                continue;
            }
            it->outstanding_ops++;
            s->outstanding++;
        }
    }
}

static bool hold(held_value **arr, int *n, int *cap, int item, const sl_kernel_value *v, bool dead)
{
    if (*n == *cap) {
        int nc = *cap ? *cap * 2 : 4;
        held_value *p = sl_realloc(*arr, (size_t)nc * sizeof(*p));
        if (!p)
            return false;
        *arr = p;
        *cap = nc;
    }
    held_value *h = &(*arr)[(*n)++];
    h->item = item;
    h->dead = dead;
    h->v = (sl_kernel_value){0};
    if (v)
        value_ref_into(&h->v, v);
    return true;
}

static void increment_iteration(step *s, frame_state *f, ready_vec *ready)
{
    int64_t next = ++f->iteration_count;
    iter_state *it = iter_new(f->sf, next);
    if (!it) {
        fail_oom_locked(s);
        return;
    }
    f->iters[next % f->ring] = it;
    f->num_outstanding_iterations++;
    f->num_dead_exits = 0;
    /* the deferred NextIteration values start it */
    for (int i = 0; i < f->num_next; i++) {
        activate(s, f, it, &s->ex->items[f->next_roots[i].item], false, &f->next_roots[i].v, ready);
        sl__kernel_values_release(&f->next_roots[i].v, 1);
    }
    f->num_next = 0;
    for (int i = 0; i < f->num_inv; i++)
        activate(s, f, it, &s->ex->items[f->inv[i].item], f->inv[i].dead, &f->inv[i].v, ready);
}

static bool is_iteration_done(frame_state *f, int64_t iter)
{
    iter_state *it = get_iter(f, iter);
    if (!it || it->outstanding_ops || it->outstanding_frames)
        return false;
    if (iter == 0)
        return f->num_pending_inputs == 0;
    return get_iter(f, iter - 1) == NULL;
}

/* Frees finished iterations from `iter` on; returns whether the frame is
 * done. */
static bool cleanup_iterations(step *s, frame_state *f, int64_t iter, ready_vec *ready)
{
    int64_t cur = iter;
    while (cur <= f->iteration_count && is_iteration_done(f, cur)) {
        iter_state *it = get_iter(f, cur);
        frame_free_children(it);
        iter_free(f->sf, it);
        f->iters[cur % f->ring] = NULL;
        f->num_outstanding_iterations--;
        cur++;
        if (f->num_next)
            increment_iteration(s, f, ready);
    }
    return f->num_pending_inputs == 0 && f->num_outstanding_iterations == 0;
}

static void delete_frame(step *s, frame_state *f, ready_vec *ready)
{
    frame_state *parent = f->parent;
    iter_state *pit = get_iter(parent, f->parent_iter);
    const sl_executor *ex = s->ex;
    /* dead exits make their consumers in the parent dead */
    for (int i = 0; i < f->num_dead_exits && pit; i++) {
        const exec_item *src = &ex->items[f->dead_exits[i]];
        for (int e = 0; e < src->num_edges; e++) {
            const exec_edge *edge = &src->edges[e];
            const exec_item *dst = &ex->items[edge->dst];
            int lid = dst->local;
            bool dst_dead = true, dst_ready;
            if (dst->kind == K_MERGE) {
                if (edge->src_slot < 0) {
                    pit->pending[lid] -= 2;
                    dst_dead = pit->dead[lid] == dst->num_inputs;
                    dst_ready = pit->pending[lid] == 0 || (pit->pending[lid] == 1 && dst_dead);
                } else {
                    pit->dead[lid]++;
                    dst_dead = pit->dead[lid] == dst->num_inputs;
                    dst_ready = pit->pending[lid] == 1 && dst_dead;
                }
            } else {
                pit->dead[lid]++;
                pit->pending[lid]--;
                dst_ready = pit->pending[lid] == 0;
            }
            if (dst_ready && !s->aborted) {
                if (!ready_push(ready, (ready_entry){edge->dst, dst_dead, parent, pit})) {
                    fail_oom_locked(s);
                    continue;
                }
                pit->outstanding_ops++;
                s->outstanding++;
            }
        }
    }
    if (pit) {
        frame_state **pp = &pit->children;
        while (*pp && *pp != f)
            pp = &(*pp)->next_sibling;
        if (*pp)
            *pp = f->next_sibling;
        pit->outstanding_frames--;
    }
    frame_free(f);
    if (parent != s->root && pit && pit->outstanding_ops == 0) {
        int64_t piter = pit->iter;
        if (cleanup_iterations(s, parent, piter, ready))
            delete_frame(s, parent, ready);
    }
}

static frame_state *find_or_create_child(step *s, frame_state *f, iter_state *it, int sf_id)
{
    for (frame_state *c = it->children; c; c = c->next_sibling)
        if (c->sf_id == sf_id)
            return c;
    frame_state *c = frame_new(s->ex, sf_id, f, it->iter);
    if (!c)
        return NULL;
    c->next_sibling = it->children;
    it->children = c;
    it->outstanding_frames++;
    return c;
}

static void add_loop_invariant(step *s, frame_state *f, const exec_item *item, int item_id,
                               const sl_kernel_value *v, bool dead, ready_vec *ready)
{
    if (!hold(&f->inv, &f->num_inv, &f->cap_inv, item_id, v, dead)) {
        fail_oom_locked(s);
        return;
    }
    for (int i = 0; i < f->ring; i++)
        if (f->iters[i])
            activate(s, f, f->iters[i], item, dead, v, ready);
}

static void record_stats_locked(step *s, const exec_item *item, const ready_entry *e, int64_t start,
                                int64_t end, const sl_kernel_value *outs)
{
    if (s->num_stats == s->cap_stats) {
        int nc = s->cap_stats ? s->cap_stats * 2 : 64;
        sl_node_stats *p = sl_realloc(s->stats, (size_t)nc * sizeof(*p));
        if (!p)
            return;
        s->stats = p;
        s->cap_stats = nc;
    }
    int64_t bytes = 0;
    for (int i = 0; i < item->num_outputs; i++)
        if (outs[i].tensor)
            bytes += (int64_t)sl_tensor_byte_size(outs[i].tensor);
    s->stats[s->num_stats++] = (sl_node_stats){
        .node_name = sl_node_name(item->node),
        .op = sl_node_op_type(item->node),
        .device = s->args->device ? s->args->device : "/job:localhost/replica:0/task:0/device:CPU:0",
        .start_us = start,
        .end_us = end,
        .thread_id = sl_threadpool_current_thread_id(),
        .output_bytes = bytes,
        .iteration = e->iter->iter,
    };
}

/* A node finished (or was skipped as dead): propagate its outputs, account
 * for it and collect what became ready.  Takes s->mu. */
static void node_done(step *s, const ready_entry *e, sl_kernel_value *outs, bool dead, const sl_status *err,
                      int64_t start, ready_vec *ready)
{
    const sl_executor *ex = s->ex;
    const exec_item *item = &ex->items[e->item];
    frame_state *f = e->frame;
    iter_state *it = e->iter;
    int64_t end = s->args->collect_stats && item->node ? now_us() : 0;
    if (err && !atomic_load(&s->aborted)) {
        /* cancels blocked kernels of this step; the step is alive while
         * this node is outstanding */
        sl__cancel_fire(s->cancel, sl_status_code(err), sl_status_message(err));
    }
    pthread_mutex_lock(&s->mu);
    if (err)
        fail_locked(s, err);
    if (end && !dead)
        record_stats_locked(s, item, e, start, end, outs);
    if (!s->aborted) {
        for (int i = 0; i < item->num_fetch_refs && !dead; i++) {
            const sl_kernel_value *v = &outs[item->fetch_refs[i].out];
            int fi = item->fetch_refs[i].fetch;
            if (!s->fetched[fi] && !s->fetched_vars[fi]) {
                s->fetched[fi] = sl_tensor_ref(v->tensor);
                s->fetched_vars[fi] = sl_var_ref(v->var);
            }
        }
        switch (item->kind) {
        case K_ENTER: {
            frame_state *child = find_or_create_child(s, f, it, item->child_frame);
            if (!child) {
                fail_oom_locked(s);
                break;
            }
            if (item->is_constant_enter)
                add_loop_invariant(s, child, item, e->item, &outs[0], dead, ready);
            else
                activate(s, child, get_iter(child, 0), item, dead, outs, ready);
            child->num_pending_inputs--;
            break;
        }
        case K_EXIT:
            if (dead) {
                if (it->iter == f->iteration_count) {
                    int *p = f->dead_exits;
                    if (f->num_dead_exits == f->cap_dead_exits) {
                        int nc = f->cap_dead_exits ? f->cap_dead_exits * 2 : 4;
                        p = sl_realloc(f->dead_exits, (size_t)nc * sizeof(int));
                        if (p) {
                            f->dead_exits = p;
                            f->cap_dead_exits = nc;
                        }
                    }
                    if (p)
                        f->dead_exits[f->num_dead_exits++] = e->item;
                    else
                        fail_oom_locked(s);
                }
            } else {
                activate(s, f->parent, get_iter(f->parent, f->parent_iter), item, false, outs, ready);
            }
            break;
        case K_NEXT_ITER:
            if (dead)
                break;
            if (it->iter == f->iteration_count && f->num_outstanding_iterations == f->sf->parallel) {
                if (!hold(&f->next_roots, &f->num_next, &f->cap_next, e->item, &outs[0], false))
                    fail_oom_locked(s);
                break;
            }
            if (it->iter == f->iteration_count)
                increment_iteration(s, f, ready);
            {
                iter_state *nit = get_iter(f, it->iter + 1);
                if (nit)
                    activate(s, f, nit, item, false, outs, ready);
            }
            break;
        default:
            activate(s, f, it, item, dead, outs, ready);
            break;
        }
    }
    it->outstanding_ops--;
    if (f != s->root && it->outstanding_ops == 0) {
        if (cleanup_iterations(s, f, it->iter, ready))
            delete_frame(s, f, ready);
    }
    if (--s->outstanding == 0)
        pthread_cond_broadcast(&s->cv);
    pthread_mutex_unlock(&s->mu);
}

/* ---- Running nodes ------------------------------------------------------- */

typedef struct async_state {
    sl_kernel_ctx ctx;
    step *s;
    ready_entry e;
    int64_t start;
    sl_status *status;
    sl_kernel_value *ins;
    sl_kernel_value *outs;
} async_state;

static void process(step *s, ready_vec *q);

typedef struct task_arg {
    ready_entry e;
    step *s;
} task_arg;

static void run_task(void *arg)
{
    task_arg *t = arg;
    step *s = t->s;
    ready_vec q;
    ready_init(&q);
    ready_push(&q, t->e);   /* the inline buffer has room */
    sl_free(t);
    process(s, &q);
    ready_release(&q);
}

/* Queues e on the pool; false when it cannot (run it inline then). */
static bool schedule(step *s, ready_entry e)
{
    if (!s->args->pool)
        return false;
    task_arg *t = sl_malloc(sizeof(*t));
    if (!t)
        return false;
    t->e = e;
    t->s = s;
    if (sl_threadpool_schedule(s->args->pool, run_task, t) == SL_OK)
        return true;
    sl_free(t);
    return false;
}

static bool is_expensive(const step *s, const ready_entry *e)
{
    return s->ex->items[e->item].expensive && !e->dead && s->args->pool && !s->args->nodes_inline;
}

/* Puts e under q's other entries, so it runs after them; false on OOM. */
static bool ready_push_under(ready_vec *q, ready_entry e)
{
    if (!ready_push(q, e))
        return false;
    memmove(q->v + 1, q->v, (size_t)(q->n - 1) * sizeof(*q->v));
    q->v[0] = e;
    return true;
}

/* Hands the expensive entries of r to the pool and moves the cheap ones
 * onto q.  One expensive entry stays on this thread when q holds no other
 * expensive one: under q's cheap entries, which run first (handing it to
 * a pool thread and waiting for it would cost two thread wake-ups per
 * step, ~8% of a small MLP's inference at batch 64); expensive nodes
 * those make ready still go to the pool. */
static void dispatch(step *s, ready_vec *r, ready_vec *q)
{
    int keep = -1;
    for (int i = 0; i < r->n; i++) {
        bool cheap = !is_expensive(s, &r->v[i]);
        if (!cheap && keep < 0) {
            keep = i;
            continue;
        }
        if (!cheap && schedule(s, r->v[i]))
            continue;
        if (!ready_push(q, r->v[i])) {
            /* no memory even for the queue: give up this node */
            sl_status *err = sl_status_new();
            sl_status_set(err, SL_RESOURCE_EXHAUSTED, "out of memory scheduling a node");
            node_done(s, &r->v[i], NULL, true, err, 0, r);
            sl_status_free(err);
        }
    }
    bool q_expensive = false;
    for (int i = 0; keep >= 0 && i < q->n && !q_expensive; i++)
        q_expensive = is_expensive(s, &q->v[i]);
    if (keep >= 0 && (!q_expensive || !schedule(s, r->v[keep]))) {
        if (!ready_push_under(q, r->v[keep])) {
            sl_status *err = sl_status_new();
            sl_status_set(err, SL_RESOURCE_EXHAUSTED, "out of memory scheduling a node");
            node_done(s, &r->v[keep], NULL, true, err, 0, r);
            sl_status_free(err);
        }
    }
    r->n = 0;
}

/* Checks a kernel's outputs; returns false with err set. */
static bool check_outputs(const exec_item *item, sl_kernel_value *outs, sl_status *err)
{
    if (item->kind == K_MERGE || !strcmp(sl_node_op_type(item->node), "Switch") ||
        !strcmp(sl_node_op_type(item->node), "RefSwitch"))
        return true;  /* an untaken branch is dead: no value */
    for (int i = 0; i < item->num_outputs; i++) {
        sl_dtype want = sl_node_output_type(item->node, i);
        if (sl_dtype_is_ref(want)) {
            if (!outs[i].var) {
                sl_status_set(err, SL_INTERNAL, "kernel left reference output %d unset", i);
                return false;
            }
            continue;
        }
        if (!outs[i].tensor) {
            sl_status_set(err, SL_INTERNAL, "kernel left output %d unset", i);
            return false;
        }
        if (sl_tensor_dtype(outs[i].tensor) != want) {
            sl_status_set(err, SL_INTERNAL, "kernel produced %s for output %d of type %s",
                          sl_dtype_name(sl_tensor_dtype(outs[i].tensor)), i, sl_dtype_name(want));
            return false;
        }
    }
    return true;
}

static void prefix_node(sl_status *st, const sl_node *node)
{
    sl_status_prefix(st, "node '%s' (%s)", sl_node_name(node), sl_node_op_type(node));
}

static void async_done(sl_kernel_ctx *ctx, void *arg)
{
    async_state *a = arg;
    (void)ctx;
    step *s = a->s;
    const exec_item *item = &s->ex->items[a->e.item];
    sl_status *err = NULL;
    if (!sl_kernel_ctx_ok(&a->ctx)) {
        prefix_node(a->status, item->node);
        err = a->status;
    } else if (!check_outputs(item, a->outs, a->status)) {
        prefix_node(a->status, item->node);
        err = a->status;
    }
    ready_vec r, q;
    ready_init(&r);
    ready_init(&q);
    sl__kernel_values_release(a->ins, item->num_inputs);
    node_done(s, &a->e, a->outs, err != NULL, err, a->start, &r);
    sl__kernel_values_release(a->outs, item->num_outputs);
    sl_status_free(a->status);
    sl_free(a->ins);
    sl_free(a->outs);
    sl_free(a);
    /* continue on the pool: the caller of done() may hold locks */
    for (int i = 0; i < r.n; i++)
        if (!schedule(s, r.v[i]))
            ready_push(&q, r.v[i]);
    ready_release(&r);
    if (q.n)
        process(s, &q);
    ready_release(&q);
}

/* Reads input slot values for a kernel: dereferences variables for value
 * inputs and snapshots the value of reference inputs.  Returns false with
 * err set for an uninitialized variable. */
static bool prepare_inputs(const exec_item *item, sl_kernel_value *ins, sl_status *err)
{
    for (int i = 0; i < item->num_inputs; i++) {
        sl_var *v = ins[i].var;
        if (!v)
            continue;
        sl_var_lock(v);
        sl_tensor *t = sl_tensor_ref(sl_var_value(v));
        sl_var_unlock(v);
        if (!t && !(item->input_is_ref[i] && item->allows_uninit)) {
            sl_status_set(err, SL_FAILED_PRECONDITION, "attempting to use uninitialized value %s",
                          sl__var_name(v));
            return false;
        }
        sl_tensor_unref(ins[i].tensor);
        ins[i].tensor = t;
        if (!item->input_is_ref[i]) {
            sl_var_unref(v);
            ins[i].var = NULL;
        }
    }
    return true;
}

static void run_one(step *s, ready_entry e, ready_vec *r)
{
    const exec_item *item = &s->ex->items[e.item];
    sl_kernel_value outs_buf[8], ins_buf[8];
    sl_kernel_value *outs = outs_buf, *ins = ins_buf;
    int ni = item->num_inputs, no = item->num_outputs;
    bool heap = ni > 8 || no > 8 || (item->kernel && item->kernel->compute_async);
    if (heap) {
        outs = sl_calloc((size_t)no + 1, sizeof(*outs));
        ins = sl_calloc((size_t)ni + 1, sizeof(*ins));
        if (!outs || !ins) {
            sl_free(outs);
            sl_free(ins);
            sl_status *err = sl_status_new();
            sl_status_set(err, SL_RESOURCE_EXHAUSTED, "out of memory running node '%s'",
                          sl_node_name(item->node));
            node_done(s, &e, NULL, true, err, 0, r);
            sl_status_free(err);
            return;
        }
    } else {
        memset(outs, 0, (size_t)no * sizeof(*outs));
    }
    /* move the inputs out of the iteration's slots */
    sl_kernel_value *slots = e.iter->slots + item->input_start;
    memcpy(ins, slots, (size_t)ni * sizeof(*ins));
    memset(slots, 0, (size_t)ni * sizeof(*ins));
    int64_t start = s->args->collect_stats ? now_us() : 0;
    sl_status *err = NULL;
    bool dead = e.dead;
    if (dead || s->aborted) {
        dead = true;
    } else if (item->folded) {
        for (int i = 0; i < no; i++)
            outs[i].tensor = sl_tensor_ref(item->folded[i]);
    } else if (item->kind == K_FEED) {
        /* never queued */
    } else {
        sl_status *kst = sl_status_new();
        if (!kst) {
            dead = true;
            pthread_mutex_lock(&s->mu);
            fail_oom_locked(s);
            pthread_mutex_unlock(&s->mu);
            goto finish;
        }
        if (!prepare_inputs(item, ins, kst) ||
            (s->ex->on_gpu &&
             sl__gpu_move_inputs(item->kernel, item->node, ins, item->input_is_ref, ni, kst) != SL_OK)) {
            prefix_node(kst, item->node);
            err = kst;
            dead = true;
            goto finish_err;
        }
        if (item->kernel->compute_async) {
            async_state *a = sl_calloc(1, sizeof(*a));
            if (!a) {
                sl_status_set(kst, SL_RESOURCE_EXHAUSTED, "out of memory");
                err = kst;
                dead = true;
                goto finish_err;
            }
            a->s = s;
            a->e = e;
            a->start = start;
            a->status = kst;
            a->ins = ins;
            a->outs = outs;
            a->ctx = (sl_kernel_ctx){
                .node = item->node, .state = item->kstate, .num_inputs = ni, .inputs = ins,
                .num_outputs = no, .outputs = outs, .status = kst, .pool = s->args->kernel_pool,
                .resources = s->args->resources, .step_id = s->args->step_id,
                .cancelled = s->cancel ? sl__cancel_flag(s->cancel) : NULL, .done = async_done,
                .done_arg = a, .cancel = s->cancel, .rendezvous = s->rendezvous,
                .frame_id = e.frame->frame_id, .iter_id = e.iter->iter,
            };
            atomic_init(&a->ctx.failed, 0);
            item->kernel->compute_async(&a->ctx);
            return;  /* async_done finishes the node */
        }
        sl_kernel_ctx ctx = {
            .node = item->node, .state = item->kstate, .num_inputs = ni, .inputs = ins,
            .num_outputs = no, .outputs = outs, .status = kst, .pool = s->args->kernel_pool,
            .resources = s->args->resources, .step_id = s->args->step_id,
            .cancelled = s->cancel ? sl__cancel_flag(s->cancel) : NULL, .cancel = s->cancel,
            .rendezvous = s->rendezvous,
            .frame_id = e.frame->frame_id, .iter_id = e.iter->iter,
        };
        atomic_init(&ctx.failed, 0);
        item->kernel->compute(&ctx);
        if (!sl_kernel_ctx_ok(&ctx) || !check_outputs(item, outs, kst)) {
            prefix_node(kst, item->node);
            err = kst;
            dead = true;
        } else {
            sl_status_free(kst);
        }
        goto finish;
    finish_err:;
    }
finish:
    sl__kernel_values_release(ins, ni);
    node_done(s, &e, outs, dead, err, start, r);
    sl__kernel_values_release(outs, no);
    sl_status_free(err);
    if (heap) {
        sl_free(outs);
        sl_free(ins);
    }
}

static void process(step *s, ready_vec *q)
{
    ready_vec r;
    ready_init(&r);
    while (q->n > 0) {
        ready_entry e = q->v[--q->n];
        run_one(s, e, &r);
        if (r.n)
            dispatch(s, &r, q);
    }
    ready_release(&r);
}

/* ---- A step ---------------------------------------------------------------- */

static void cancel_step(void *arg)
{
    step *s = arg;
    pthread_mutex_lock(&s->mu);
    if (!s->aborted) {
        sl__cancel_reason(s->cancel, s->status);
        s->aborted = true;
    }
    pthread_mutex_unlock(&s->mu);
    sl_status *st = sl_status_new();
    if (st) {
        sl__cancel_reason(s->cancel, st);
        sl__rendezvous_abort(s->rendezvous, st);
        sl_status_free(st);
    }
}

/* The end of a step on a GPU: waits for the queued device work (so an
 * asynchronous kernel error fails the step) and brings fetched device
 * tensors to the host, where every caller of a session expects them. */
static sl_code gpu_finish_step(const sl_executor *ex, const sl__step_args *args, sl_status *status)
{
    if (sl__gpu_step_end(status) != SL_OK) {
        sl_status_prefix(status, "on %s", args->device ? args->device : "the GPU");
        return sl_status_code(status);
    }
    for (int f = 0; f < ex->num_fetches; f++) {
        sl_tensor *host = sl__gpu_fetch_to_host(args->fetches[f], status);
        if (!host)
            return sl_status_code(status);
        sl_tensor_unref(args->fetches[f]);
        args->fetches[f] = host;
    }
    return SL_OK;
}

sl_code sl__executor_run(sl_executor *ex, const sl__step_args *args, sl_status *status)
{
    step *s = sl_calloc(1, sizeof(*s));
    sl__cancel *own_cancel = NULL;
    sl_code rc;
    for (int f = 0; f < ex->num_fetches; f++)
        args->fetches[f] = NULL;
    if (!s)
        return sl_status_set(status, SL_RESOURCE_EXHAUSTED, "out of memory starting a step");
    s->ex = ex;
    s->args = args;
    s->status = sl_status_new();
    s->fetched = sl_calloc((size_t)ex->num_fetches + 1, sizeof(*s->fetched));
    s->fetched_vars = sl_calloc((size_t)ex->num_fetches + 1, sizeof(*s->fetched_vars));
    s->cancel = args->cancel;
    if (!s->cancel)
        s->cancel = own_cancel = sl__cancel_new();
    s->rendezvous = args->rendezvous ? args->rendezvous : sl__rendezvous_new();
    s->root = frame_new(ex, 0, NULL, 0);
    if (!s->status || !s->fetched || !s->fetched_vars || !s->cancel || !s->root || !s->rendezvous) {
        rc = sl_status_set(status, SL_RESOURCE_EXHAUSTED, "out of memory starting a step");
        goto out;
    }
    pthread_mutex_init(&s->mu, NULL);
    pthread_cond_init(&s->cv, NULL);
    int64_t token = sl__cancel_register(s->cancel, cancel_step, s);
    if (token == 0)
        cancel_step(s);

    ready_vec r, q;
    ready_init(&r);
    ready_init(&q);
    iter_state *it0 = s->root->iters[0];
    pthread_mutex_lock(&s->mu);
    /* the feeds first: they are the outputs of the feed item */
    const exec_item *feed = &ex->items[ex->num_items - 1];
    sl_kernel_value *fv = sl_calloc((size_t)ex->num_feeds + 1, sizeof(*fv));
    if (!fv) {
        fail_oom_locked(s);
    } else {
        for (int i = 0; i < ex->num_feeds; i++)
            fv[i].tensor = args->feeds[i];
        activate(s, s->root, it0, feed, false, fv, &r);
        sl_free(fv);
    }
    for (int i = 0; i < ex->num_roots && !s->aborted; i++) {
        if (ready_push(&r, (ready_entry){ex->roots[i], false, s->root, it0})) {
            it0->outstanding_ops++;
            s->outstanding++;
        } else {
            fail_oom_locked(s);
        }
    }
    pthread_mutex_unlock(&s->mu);
    if (args->timeout_ms > 0 && args->pool) {
        /* keep this thread free to watch the deadline: everything runs on
         * the pool (inline nodes would run the whole step before the wait) */
        for (int i = 0; i < r.n; i++)
            if (!schedule(s, r.v[i]))
                ready_push(&q, r.v[i]);
        r.n = 0;
    } else {
        dispatch(s, &r, &q);
    }
    process(s, &q);
    ready_release(&r);
    ready_release(&q);
    pthread_mutex_lock(&s->mu);
    if (args->timeout_ms > 0) {
        struct timespec deadline;
        clock_gettime(CLOCK_REALTIME, &deadline);
        deadline.tv_sec += args->timeout_ms / 1000;
        deadline.tv_nsec += (args->timeout_ms % 1000) * 1000000;
        if (deadline.tv_nsec >= 1000000000) {
            deadline.tv_sec++;
            deadline.tv_nsec -= 1000000000;
        }
        while (s->outstanding > 0) {
            if (pthread_cond_timedwait(&s->cv, &s->mu, &deadline) == ETIMEDOUT && s->outstanding > 0) {
                pthread_mutex_unlock(&s->mu);
                char msg[64];
                snprintf(msg, sizeof(msg), "step timed out after %lld ms", (long long)args->timeout_ms);
                sl__cancel_fire(s->cancel, SL_DEADLINE_EXCEEDED, msg);
                pthread_mutex_lock(&s->mu);
                break;
            }
        }
    }
    while (s->outstanding > 0)
        pthread_cond_wait(&s->cv, &s->mu);
    pthread_mutex_unlock(&s->mu);
    if (token > 0)
        sl__cancel_deregister(s->cancel, token);

    if (s->aborted) {
        sl_status_copy(status, s->status);
        rc = sl_status_code(status);
    } else {
        rc = SL_OK;
        for (int f = 0; f < ex->num_fetches && rc == SL_OK; f++) {
            if (ex->fetches[f].src == SL_PLAN_FEED) {
                args->fetches[f] = sl_tensor_ref(args->feeds[ex->fetches[f].out]);
            } else if (s->fetched_vars[f]) {
                sl_var_lock(s->fetched_vars[f]);
                args->fetches[f] = sl_tensor_ref(sl_var_value(s->fetched_vars[f]));
                sl_var_unlock(s->fetched_vars[f]);
                if (!args->fetches[f])
                    rc = sl_status_set(status, SL_FAILED_PRECONDITION,
                                       "attempting to use uninitialized value %s",
                                       sl__var_name(s->fetched_vars[f]));
            } else {
                args->fetches[f] = sl_tensor_ref(s->fetched[f]);
                if (!args->fetches[f])
                    rc = sl_status_set(status, SL_INVALID_ARGUMENT,
                                       "fetch %d ('%s:%d') was not computed: it is on an untaken branch", f,
                                       sl_node_name(ex->items[ex->fetches[f].src].node), ex->fetches[f].out);
            }
        }
        if (rc == SL_OK && ex->on_gpu)
            rc = gpu_finish_step(ex, args, status);
        if (rc != SL_OK)
            for (int f = 0; f < ex->num_fetches; f++) {
                sl_tensor_unref(args->fetches[f]);
                args->fetches[f] = NULL;
            }
        else
            sl_status_clear(status);
    }
    if (args->collect_stats && args->stats) {
        args->stats->nodes = s->stats;
        args->stats->num_nodes = s->num_stats;
        s->stats = NULL;
    }
    pthread_cond_destroy(&s->cv);
    pthread_mutex_destroy(&s->mu);
out:
    if (s->root)
        frame_free(s->root);
    for (int f = 0; f < ex->num_fetches; f++) {
        if (s->fetched)
            sl_tensor_unref(s->fetched[f]);
        if (s->fetched_vars)
            sl_var_unref(s->fetched_vars[f]);
    }
    if (s->rendezvous != args->rendezvous)
        sl__rendezvous_free(s->rendezvous);
    sl__cancel_free(own_cancel);
    sl_free(s->stats);
    sl_free(s->fetched);
    sl_free(s->fetched_vars);
    sl_status_free(s->status);
    sl_free(s);
    return rc;
}
