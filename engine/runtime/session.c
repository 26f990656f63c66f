/* Sessions: a graph copy, a thread pool, a resource manager and a cache of
 * prepared executors keyed by signature (feeds, fetches, targets).
 *
 * A run resolves names under the graph's read lock, finds or prepares the
 * executor (plan, optimizer passes, kernels) and runs it with a fresh
 * cancellation registered with the session, so sl_session_cancel() and
 * sl_session_close() reach every running step.  Extend takes the graph's
 * write lock; steps already prepared keep running on node pointers, which
 * adding nodes never moves. */
#include "config.h"

#include "sluice/session.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "executor.h"
#include "graph-private.h"
#include "multi-device.h"
#include "sluice/alloc.h"
#include "sluice/gpu.h"
#include "strmap.h"

typedef struct cache_entry {
    char *key;
    sl_executor *ex;           /* one device */
    sl__multi_exec *multi;     /* several devices */
} cache_entry;

#define SL_MAX_CPU_DEVICES 64

struct sl_session {
    sl_graph *graph;
    sl_session_options opts;
    sl_threadpool *pool;
    sl_threadpool *kernel_pool;  /* intra-op: NULL when kernels run on one thread */
    bool nodes_inline;           /* inter_op_threads 1: every node on the calling thread */
    sl_resource_mgr *rm;
    bool own_rm;
    pthread_rwlock_t graph_lock;
    pthread_mutex_t mu;          /* cache, counters, active steps, closed */
    pthread_cond_t idle;         /* signalled when a step ends */
    sl_strmap cache;             /* key -> cache_entry */
    cache_entry **entries;
    int num_entries;
    int cap_entries;
    sl__cancel **active;         /* cancellations of running steps */
    int num_active;
    int cap_active;
    bool closed;
    int64_t next_step_id;
    sl_session_counters counters;
    /* several devices: their names, the placed graph of the current graph
     * version (NULL until a step needs it, or after extend) and the placed
     * graphs of earlier versions, which cached steps still use */
    int num_devices;
    char **devices;
    pthread_mutex_t place_mu;
    sl__placed *placed;
    sl__placed **retired;
    int num_retired;
};

static int64_t now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

void sl_step_stats_free(sl_step_stats *stats)
{
    if (!stats)
        return;
    sl_free(stats->nodes);
    sl_free(stats->devices);
    sl_free(stats);
}

static sl_graph *copy_graph(const sl_graph *src, sl_status *st)
{
    sl_graph *g = sl_graph_new(st);
    if (!g)
        return NULL;
    Tensorflow__GraphDef *gd = sl__graph_export_graphdef(src, st);
    if (!gd) {
        sl_graph_free(g);
        return NULL;
    }
    sl_import_options io = {0};
    sl_code rc = sl__graph_import_graphdef(g, gd, &io, st);
    protobuf_c_message_free_unpacked(&gd->base, NULL);
    if (rc != SL_OK) {
        sl_status_prefix(st, "cannot copy the graph into the session");
        sl_graph_free(g);
        return NULL;
    }
    sl_graph_set_producer(g, sl_graph_producer(src));
    return g;
}

sl_session *sl_session_new(const sl_graph *graph, const sl_session_options *opts, sl_status *st)
{
    sl_session *s = sl_calloc(1, sizeof(*s));
    if (!s) {
        sl_status_set(st, SL_RESOURCE_EXHAUSTED, "out of memory creating a session");
        return NULL;
    }
    if (opts)
        s->opts = *opts;
    s->graph = copy_graph(graph, st);
    if (!s->graph)
        goto err;
    if (s->opts.inter_op_threads < 0 || s->opts.intra_op_threads < 0) {
        sl_status_set(st, SL_INVALID_ARGUMENT, "inter_op_threads and intra_op_threads must be 0 or more, not %d and %d",
                      s->opts.inter_op_threads, s->opts.intra_op_threads);
        goto err;
    }
    /* the thread that calls run is one of the inter_op_threads that run
     * nodes: the pool gets the others (and, with one, a thread only to
     * continue asynchronous kernels and watch deadlines) */
    int inter = s->opts.inter_op_threads ? s->opts.inter_op_threads : sl_threadpool_online_cpus();
    s->nodes_inline = inter == 1;
    s->pool = sl_threadpool_new(inter > 1 ? inter - 1 : 1, st);
    if (!s->pool)
        goto err;
    int intra = s->opts.intra_op_threads ? s->opts.intra_op_threads : inter;
    if (intra > 1 && !(s->kernel_pool = sl_threadpool_new(intra - 1, st)))
        goto err;
    s->rm = s->opts.resources;
    if (!s->rm) {
        s->rm = sl_resource_mgr_new();
        s->own_rm = true;
        if (!s->rm) {
            sl_status_set(st, SL_RESOURCE_EXHAUSTED, "out of memory creating a session");
            goto err;
        }
    }
    if (s->opts.num_cpu_devices < 0 || s->opts.num_cpu_devices > SL_MAX_CPU_DEVICES) {
        sl_status_set(st, SL_INVALID_ARGUMENT, "num_cpu_devices must be 0 to %d, not %d", SL_MAX_CPU_DEVICES,
                      s->opts.num_cpu_devices);
        goto err;
    }
    int num_gpus = s->opts.use_gpu && sl_gpu_count() > 0 ? 1 : 0;
    if (num_gpus)
        s->opts.simple_placement = true;  /* the GPU (listed first) whenever it has the kernel */
    int num_cpus = s->opts.num_cpu_devices > 1 ? s->opts.num_cpu_devices : 1;
    if (num_gpus + num_cpus > 1) {
        s->num_devices = num_gpus + num_cpus;
        s->devices = sl_calloc((size_t)s->num_devices, sizeof(char *));
        for (int i = 0; s->devices && i < s->num_devices; i++) {
            char name[64];
            snprintf(name, sizeof(name), "/job:localhost/replica:0/task:0/device:%s:%d", i < num_gpus ? "GPU" : "CPU",
                     i < num_gpus ? i : i - num_gpus);
            if (!(s->devices[i] = sl_strdup(name)))
                break;
        }
        if (!s->devices || !s->devices[s->num_devices - 1]) {
            sl_status_set(st, SL_RESOURCE_EXHAUSTED, "out of memory creating a session");
            goto err;
        }
    }
    pthread_rwlock_init(&s->graph_lock, NULL);
    pthread_mutex_init(&s->mu, NULL);
    pthread_mutex_init(&s->place_mu, NULL);
    pthread_cond_init(&s->idle, NULL);
    sl_status_clear(st);
    return s;
err:
    for (int i = 0; s->devices && i < s->num_devices; i++)
        sl_free(s->devices[i]);
    sl_free(s->devices);
    if (s->own_rm)
        sl_resource_mgr_free(s->rm);
    sl_threadpool_free(s->pool);
    sl_threadpool_free(s->kernel_pool);
    sl_graph_free(s->graph);
    sl_free(s);
    return NULL;
}

void sl_session_cancel(sl_session *s)
{
    pthread_mutex_lock(&s->mu);
    for (int i = 0; i < s->num_active; i++)
        sl__cancel_fire(s->active[i], SL_CANCELLED, "step was cancelled");
    pthread_mutex_unlock(&s->mu);
}

void sl_session_close(sl_session *s)
{
    pthread_mutex_lock(&s->mu);
    s->closed = true;
    for (int i = 0; i < s->num_active; i++)
        sl__cancel_fire(s->active[i], SL_CANCELLED, "session was closed");
    while (s->num_active > 0)
        pthread_cond_wait(&s->idle, &s->mu);
    pthread_mutex_unlock(&s->mu);
}

void sl_session_free(sl_session *s)
{
    if (!s)
        return;
    sl_session_close(s);
    sl_threadpool_free(s->pool);
    sl_threadpool_free(s->kernel_pool);
    for (int i = 0; i < s->num_entries; i++) {
        sl__executor_free(s->entries[i]->ex);
        sl__multi_free(s->entries[i]->multi);
        sl_free(s->entries[i]->key);
        sl_free(s->entries[i]);
    }
    sl_free(s->entries);
    sl_free(s->active);
    sl_strmap_release(&s->cache);
    if (s->own_rm)
        sl_resource_mgr_free(s->rm);
    sl_graph_free(s->graph);
    sl__placed_free(s->placed);
    for (int i = 0; i < s->num_retired; i++)
        sl__placed_free(s->retired[i]);
    sl_free(s->retired);
    for (int i = 0; i < s->num_devices; i++)
        sl_free(s->devices[i]);
    sl_free(s->devices);
    pthread_rwlock_destroy(&s->graph_lock);
    pthread_mutex_destroy(&s->mu);
    pthread_mutex_destroy(&s->place_mu);
    pthread_cond_destroy(&s->idle);
    sl_free(s);
}

const sl_graph *sl_session_graph(const sl_session *s) { return s->graph; }
sl_resource_mgr *sl_session_resources(const sl_session *s) { return s->rm; }

void sl_session_get_counters(sl_session *s, sl_session_counters *out)
{
    pthread_mutex_lock(&s->mu);
    *out = s->counters;
    out->num_cached = s->num_entries;
    pthread_mutex_unlock(&s->mu);
}

sl_code sl_session_extend(sl_session *s, const sl_graph *graph, sl_status *st)
{
    Tensorflow__GraphDef *gd = sl__graph_export_graphdef(graph, st);
    if (!gd)
        return sl_status_code(st);
    pthread_rwlock_wrlock(&s->graph_lock);
    sl_code rc = SL_OK;
    size_t kept = 0;
    for (size_t i = 0; i < gd->n_node; i++) {
        Tensorflow__NodeDef *nd = gd->node[i];
        sl_node *have = sl_graph_find_node(s->graph, nd->name);
        if (have) {
            if (strcmp(sl_node_op_type(have), nd->op)) {
                rc = sl_status_set(st, SL_INVALID_ARGUMENT,
                                   "cannot extend the session: node '%s' is a %s in the session but a %s here",
                                   nd->name, sl_node_op_type(have), nd->op);
                break;
            }
            continue;
        }
        /* swap so the message still owns every node for the free below */
        gd->node[i] = gd->node[kept];
        gd->node[kept++] = nd;
    }
    if (rc == SL_OK) {
        size_t total = gd->n_node;
        gd->n_node = kept;
        sl_import_options io = {0};
        rc = sl__graph_import_graphdef(s->graph, gd, &io, st);
        if (rc != SL_OK)
            sl_status_prefix(st, "cannot extend the session");
        gd->n_node = total;
    }
    if (rc == SL_OK && kept > 0 && s->placed) {
        /* place again on the next preparation; cached steps keep theirs */
        pthread_mutex_lock(&s->place_mu);
        sl__placed **p = sl_realloc(s->retired, (size_t)(s->num_retired + 1) * sizeof(*p));
        if (p) {
            s->retired = p;
            s->retired[s->num_retired++] = s->placed;
            s->placed = NULL;
        } else {
            rc = sl_status_set(st, SL_RESOURCE_EXHAUSTED, "out of memory extending the session");
        }
        pthread_mutex_unlock(&s->place_mu);
    }
    pthread_rwlock_unlock(&s->graph_lock);
    protobuf_c_message_free_unpacked(&gd->base, NULL);
    if (rc == SL_OK)
        sl_status_clear(st);
    return rc;
}

static sl_code parse_output(const sl_graph *g, const char *what, const char *name, sl_output *out,
                            sl_status *st)
{
    const char *colon = strrchr(name, ':');
    char buf[512];
    int index = 0;
    const char *node_name = name;
    if (colon && colon[1]) {
        char *end;
        long v = strtol(colon + 1, &end, 10);
        if (*end == '\0' && v >= 0 && (size_t)(colon - name) < sizeof(buf)) {
            memcpy(buf, name, (size_t)(colon - name));
            buf[colon - name] = '\0';
            node_name = buf;
            index = (int)v;
        }
    }
    sl_node *n = sl_graph_find_node(g, node_name);
    if (!n)
        return sl_status_set(st, SL_INVALID_ARGUMENT, "%s '%s': no node named '%s' in the graph", what, name,
                             node_name);
    if (index >= sl_node_num_outputs(n))
        return sl_status_set(st, SL_INVALID_ARGUMENT, "%s '%s': node '%s' has %d output%s", what, name,
                             node_name, sl_node_num_outputs(n), sl_node_num_outputs(n) == 1 ? "" : "s");
    *out = (sl_output){n, index};
    return SL_OK;
}

sl_code sl_session_parse_output(const sl_session *s, const char *name, sl_output *out, sl_status *st)
{
    pthread_rwlock_rdlock((pthread_rwlock_t *)&s->graph_lock);
    sl_code rc = parse_output(s->graph, "tensor", name, out, st);
    pthread_rwlock_unlock((pthread_rwlock_t *)&s->graph_lock);
    if (rc == SL_OK)
        sl_status_clear(st);
    return rc;
}

/* Appends "node:index" and a separator to the key buffer. */
static bool key_add(char **key, size_t *len, size_t *cap, const char *s, int index, char sep)
{
    char num[24];
    snprintf(num, sizeof(num), ":%d%c", index, sep);
    size_t need = *len + strlen(s) + strlen(num) + 1;
    if (need > *cap) {
        size_t nc = *cap ? *cap * 2 : 256;
        while (nc < need)
            nc *= 2;
        char *p = sl_realloc(*key, nc);
        if (!p)
            return false;
        *key = p;
        *cap = nc;
    }
    *len += (size_t)sprintf(*key + *len, "%s%s", s, num);
    return true;
}

static sl_code check_feed(const sl_output *o, const sl_tensor *t, const char *name, sl_status *st)
{
    if (!t)
        return sl_status_set(st, SL_INVALID_ARGUMENT, "feed '%s' has no tensor", name);
    sl_dtype want = sl_dtype_base(sl_node_output_type(o->node, o->index));
    if (sl_tensor_dtype(t) != want)
        return sl_status_set(st, SL_INVALID_ARGUMENT, "feed '%s': expected a %s tensor but got %s", name,
                             sl_dtype_name(want), sl_dtype_name(sl_tensor_dtype(t)));
    const sl_shape *want_shape = sl_node_output_shape(o->node, o->index);
    if (want_shape && !sl_shape_is_compatible(want_shape, sl_tensor_shape(t))) {
        char a[128], b[128];
        return sl_status_set(st, SL_INVALID_ARGUMENT, "feed '%s': expected shape %s but got %s", name,
                             sl_shape_to_string(want_shape, a, sizeof(a)),
                             sl_shape_to_string(sl_tensor_shape(t), b, sizeof(b)));
    }
    return SL_OK;
}

static sl_executor *prepare(sl_session *s, const sl_output *feeds, int nf, const sl_output *fetches, int nfe,
                            const sl_node *const *targets, int nt, sl__pass_counts *pc, sl_status *st)
{
    sl__plan *plan = sl__plan_build(s->graph, feeds, nf, fetches, nfe, targets, nt, s->opts.disable_pruning, st);
    if (!plan)
        return NULL;
    sl_executor *ex = NULL;
    sl_code code = sl__plan_optimize(plan, !s->opts.disable_cse, !s->opts.disable_constant_folding,
                                     !s->opts.disable_pruning, pc, st);
    /* one device (the CPU): fuse convolutions and products with their bias and Relu */
    if (code == SL_OK && !s->opts.disable_pruning && !s->opts.disable_constant_folding && !getenv("SLUICE_NO_FUSION")) {
        int nfused = sl__plan_fuse(plan, st);
        if (nfused < 0 || (nfused > 0 && sl__plan_prune(plan, st) < 0))
            code = sl_status_code(st);
        else
            pc->fused += nfused;
    }
    if (code == SL_OK)
        ex = sl__executor_new(plan, st);
    sl__plan_free(plan);
    return ex;
}

/* The placed graph of the current version, made now when absent.  Called
 * with the graph's read lock held. */
static sl__placed *get_placed(sl_session *s, sl_status *st)
{
    pthread_mutex_lock(&s->place_mu);
    if (!s->placed)
        s->placed = sl__placed_new(s->graph, (const char *const *)s->devices, s->num_devices,
                                   s->opts.simple_placement, st);
    sl__placed *pl = s->placed;
    pthread_mutex_unlock(&s->place_mu);
    return pl;
}

static bool cache_reserve(sl_session *s)
{
    if (s->num_entries < s->cap_entries)
        return true;
    int nc = s->cap_entries ? s->cap_entries * 2 : 8;
    cache_entry **p = sl_realloc(s->entries, (size_t)nc * sizeof(*p));
    if (!p)
        return false;
    s->entries = p;
    s->cap_entries = nc;
    return true;
}

/* The cached entry of `key`, prepared now when absent.  Called with the
 * graph's read lock held. */
static cache_entry *get_executor(sl_session *s, const char *key, const sl_output *feeds, int nf,
                                 const sl_output *fetches, int nfe, const sl_node *const *targets, int nt,
                                 bool *hit, sl_status *st)
{
    pthread_mutex_lock(&s->mu);
    cache_entry *ce = sl_strmap_get(&s->cache, key);
    if (ce)
        s->counters.cache_hits++;
    pthread_mutex_unlock(&s->mu);
    *hit = ce != NULL;
    if (ce)
        return ce;
    sl__pass_counts pc = {0, 0, 0, 0};
    sl_executor *ex = NULL;
    sl__multi_exec *multi = NULL;
    if (s->num_devices > 1) {
        sl__placed *pl = get_placed(s, st);
        if (!pl)
            return NULL;
        multi = sl__multi_prepare(pl, feeds, nf, fetches, nfe, targets, nt, &s->opts, &pc, st);
        if (!multi)
            return NULL;
    } else {
        ex = prepare(s, feeds, nf, fetches, nfe, targets, nt, &pc, st);
        if (!ex)
            return NULL;
    }
    cache_entry *ne = sl_calloc(1, sizeof(*ne));
    char *k = sl_strdup(key);
    pthread_mutex_lock(&s->mu);
    ce = sl_strmap_get(&s->cache, key);  /* another thread may have won */
    if (!ce && ne && k && cache_reserve(s) && sl_strmap_put(&s->cache, k, ne)) {
        ne->key = k;
        ne->ex = ex;
        ne->multi = multi;
        s->entries[s->num_entries++] = ne;
        s->counters.prepares++;
        s->counters.nodes_folded += pc.folded;
        s->counters.nodes_merged += pc.merged;
        s->counters.nodes_pruned += pc.pruned;
        s->counters.chains_fused += pc.fused;
        ce = ne;
        ne = NULL;
        k = NULL;
        ex = NULL;
        multi = NULL;
    }
    pthread_mutex_unlock(&s->mu);
    sl_free(ne);
    sl_free(k);
    sl__executor_free(ex);
    sl__multi_free(multi);
    if (!ce)
        sl_status_set(st, SL_RESOURCE_EXHAUSTED, "out of memory caching a prepared step");
    return ce;
}

static sl_code run_step(sl_session *s, const sl_run_options *opts, cache_entry *ce, int64_t prepare_us, bool hit,
                        sl__cancel *cancel, int64_t step_id, sl_tensor *const *feed_values,
                        sl_tensor **fetch_values, sl_step_stats **stats_out, sl_status *st)
{
    bool want_stats = opts && opts->collect_step_stats && stats_out;
    sl_step_stats *stats = NULL;
    if (want_stats) {
        stats = sl_calloc(1, sizeof(*stats));
        if (!stats)
            return sl_status_set(st, SL_RESOURCE_EXHAUSTED, "out of memory for step stats");
        stats->start_us = now_us();
        stats->step_id = step_id;
        stats->prepare_us = prepare_us;
        stats->cache_hit = hit;
    }
    sl__step_args args = {
        .feeds = feed_values, .fetches = fetch_values, .pool = s->pool, .kernel_pool = s->kernel_pool,
        .nodes_inline = s->nodes_inline, .resources = s->rm, .step_id = step_id, .cancel = cancel,
        .timeout_ms = opts ? opts->timeout_ms : 0, .collect_stats = want_stats, .stats = stats,
    };
    sl_code rc = ce->multi ? sl__multi_run(ce->multi, &args, st) : sl__executor_run(ce->ex, &args, st);
    if (stats) {
        stats->end_us = now_us();
        *stats_out = stats;
    }
    return rc;
}

/* Resolves names (or outputs of any graph, matched by name) to outputs of
 * the session's graph and builds the signature key. */
typedef struct resolved {
    sl_output *feeds;
    sl_output *fetches;
    const sl_node **targets;
    char *key;
} resolved;

static void resolved_release(resolved *r)
{
    sl_free(r->feeds);
    sl_free(r->fetches);
    sl_free(r->targets);
    sl_free(r->key);
}

static sl_code resolve(sl_session *s, const char *const *feed_names, const sl_output *feed_outs,
                       sl_tensor *const *feed_values, int nf, const char *const *fetch_names,
                       const sl_output *fetch_outs, int nfe, const char *const *target_names,
                       const sl_node *const *target_nodes, int nt, resolved *r, sl_status *st)
{
    memset(r, 0, sizeof(*r));
    if (nf < 0 || nfe < 0 || nt < 0)
        return sl_status_set(st, SL_INVALID_ARGUMENT, "negative count of feeds, fetches or targets");
    r->feeds = sl_calloc((size_t)nf + 1, sizeof(*r->feeds));
    r->fetches = sl_calloc((size_t)nfe + 1, sizeof(*r->fetches));
    r->targets = sl_calloc((size_t)nt + 1, sizeof(*r->targets));
    size_t len = 0, cap = 0;
    if (!r->feeds || !r->fetches || !r->targets)
        return sl_status_set(st, SL_RESOURCE_EXHAUSTED, "out of memory resolving names");
    sl_code rc = SL_OK;
    char tmp[600];
    for (int i = 0; i < nf && rc == SL_OK; i++) {
        const char *name = feed_names ? feed_names[i] : NULL;
        if (!name) {
            snprintf(tmp, sizeof(tmp), "%s:%d", sl_node_name(feed_outs[i].node), feed_outs[i].index);
            name = tmp;
        }
        rc = parse_output(s->graph, "feed", name, &r->feeds[i], st);
        if (rc == SL_OK)
            rc = check_feed(&r->feeds[i], feed_values[i], name, st);
        for (int k = 0; k < i && rc == SL_OK; k++)
            if (r->feeds[k].node == r->feeds[i].node && r->feeds[k].index == r->feeds[i].index)
                rc = sl_status_set(st, SL_INVALID_ARGUMENT, "feed '%s' is given twice", name);
        if (rc == SL_OK && !key_add(&r->key, &len, &cap, sl_node_name(r->feeds[i].node), r->feeds[i].index, ','))
            rc = sl_status_set(st, SL_RESOURCE_EXHAUSTED, "out of memory resolving names");
    }
    if (rc == SL_OK && !key_add(&r->key, &len, &cap, "", 0, '|'))
        rc = sl_status_set(st, SL_RESOURCE_EXHAUSTED, "out of memory resolving names");
    for (int i = 0; i < nfe && rc == SL_OK; i++) {
        const char *name = fetch_names ? fetch_names[i] : NULL;
        if (!name) {
            snprintf(tmp, sizeof(tmp), "%s:%d", sl_node_name(fetch_outs[i].node), fetch_outs[i].index);
            name = tmp;
        }
        rc = parse_output(s->graph, "fetch", name, &r->fetches[i], st);
        if (rc == SL_OK &&
            !key_add(&r->key, &len, &cap, sl_node_name(r->fetches[i].node), r->fetches[i].index, ','))
            rc = sl_status_set(st, SL_RESOURCE_EXHAUSTED, "out of memory resolving names");
    }
    if (rc == SL_OK && !key_add(&r->key, &len, &cap, "", 0, '|'))
        rc = sl_status_set(st, SL_RESOURCE_EXHAUSTED, "out of memory resolving names");
    for (int i = 0; i < nt && rc == SL_OK; i++) {
        const char *name = target_names ? target_names[i] : sl_node_name(target_nodes[i]);
        r->targets[i] = sl_graph_find_node(s->graph, name);
        if (!r->targets[i])
            rc = sl_status_set(st, SL_INVALID_ARGUMENT, "target '%s': no node of that name in the graph", name);
        else if (!key_add(&r->key, &len, &cap, name, 0, ','))
            rc = sl_status_set(st, SL_RESOURCE_EXHAUSTED, "out of memory resolving names");
    }
    return rc;
}

static sl_code run_common(sl_session *s, const sl_run_options *opts, const char *const *feed_names,
                          const sl_output *feed_outs, sl_tensor *const *feed_values, int nf,
                          const char *const *fetch_names, const sl_output *fetch_outs, sl_tensor **fetch_values,
                          int nfe, const char *const *target_names, const sl_node *const *target_nodes, int nt,
                          sl_step_stats **stats, sl_status *st)
{
    for (int i = 0; i < nfe; i++)
        fetch_values[i] = NULL;
    if (stats)
        *stats = NULL;
    sl__cancel *cancel = sl__cancel_new();
    if (!cancel)
        return sl_status_set(st, SL_RESOURCE_EXHAUSTED, "out of memory starting a step");
    /* register the step so cancel and close reach it */
    pthread_mutex_lock(&s->mu);
    sl_code rc = SL_OK;
    if (s->closed) {
        rc = sl_status_set(st, SL_FAILED_PRECONDITION, "session is closed");
    } else if (s->num_active == s->cap_active) {
        int nc = s->cap_active ? s->cap_active * 2 : 8;
        sl__cancel **p = sl_realloc(s->active, (size_t)nc * sizeof(*p));
        if (p) {
            s->active = p;
            s->cap_active = nc;
        } else {
            rc = sl_status_set(st, SL_RESOURCE_EXHAUSTED, "out of memory starting a step");
        }
    }
    if (rc != SL_OK) {
        pthread_mutex_unlock(&s->mu);
        sl__cancel_free(cancel);
        return rc;
    }
    s->active[s->num_active++] = cancel;
    int64_t step_id = ++s->next_step_id;
    s->counters.steps++;
    pthread_mutex_unlock(&s->mu);

    /* names and preparation read the graph: keep extend out until the
     * executor exists (it holds node pointers, which extending never moves) */
    resolved r;
    bool hit = false;
    int64_t t0 = now_us();
    pthread_rwlock_rdlock(&s->graph_lock);
    cache_entry *ex = NULL;
    rc = resolve(s, feed_names, feed_outs, feed_values, nf, fetch_names, fetch_outs, nfe, target_names,
                 target_nodes, nt, &r, st);
    if (rc == SL_OK) {
        ex = get_executor(s, r.key, r.feeds, nf, r.fetches, nfe, r.targets, nt, &hit, st);
        if (!ex)
            rc = sl_status_code(st);
    }
    pthread_rwlock_unlock(&s->graph_lock);
    resolved_release(&r);
    if (ex)
        rc = run_step(s, opts, ex, hit ? 0 : now_us() - t0, hit, cancel, step_id, feed_values, fetch_values,
                      stats, st);

    pthread_mutex_lock(&s->mu);
    for (int i = 0; i < s->num_active; i++) {
        if (s->active[i] == cancel) {
            s->active[i] = s->active[--s->num_active];
            break;
        }
    }
    pthread_cond_broadcast(&s->idle);
    pthread_mutex_unlock(&s->mu);
    sl__cancel_free(cancel);
    return rc;
}

sl_code sl_session_run(sl_session *s, const sl_run_options *opts, const char *const *feed_names,
                       sl_tensor *const *feed_values, int num_feeds, const char *const *fetch_names,
                       sl_tensor **fetch_values, int num_fetches, const char *const *target_names, int num_targets,
                       sl_step_stats **stats, sl_status *st)
{
    return run_common(s, opts, feed_names, NULL, feed_values, num_feeds, fetch_names, NULL, fetch_values,
                      num_fetches, target_names, NULL, num_targets, stats, st);
}

sl_code sl_session_run_outputs(sl_session *s, const sl_run_options *opts, const sl_output *feeds,
                               sl_tensor *const *feed_values, int num_feeds, const sl_output *fetches,
                               sl_tensor **fetch_values, int num_fetches, const sl_node *const *targets,
                               int num_targets, sl_step_stats **stats, sl_status *st)
{
    return run_common(s, opts, NULL, feeds, feed_values, num_feeds, NULL, fetches, fetch_values, num_fetches,
                      NULL, targets, num_targets, stats, st);
}
