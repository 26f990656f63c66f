/* The master (see master.h): placement and partitioning over the cluster,
 * registration, and steps fanned out to the partitions with one step id. */
#include "config.h"

#include "master.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "sluice/alloc.h"
#include "sluice/device.h"
#include "worker.h"

typedef struct part {
    char *device;
    int task;                  /* index into the session's tasks */
    sl_graph *graph;           /* the partition, for names */
    void *graph_def;           /* binary GraphDef to register */
    size_t graph_def_len;
    char *handle;              /* NULL: (re)register before the next step */
} part;

typedef struct task {
    char *name;                /* "/job:J/replica:0/task:T" */
    const char *job;           /* borrowed from the cluster */
    int index;
    const char *address;
    sl_dist_conn *conn;
    bool has_session;
} task;

struct sl_dist_session {
    const sl_transport *t;
    sl_cluster *cluster;
    sl_graph *graph;           /* our copy of the client's graph */
    int num_tasks;
    task *tasks;
    char **devices;
    int *assignment;           /* node id -> device index */
    int num_parts;
    part *parts;
    int64_t call_timeout_ms;
    pthread_mutex_t reg_mu;    /* one (re)registration at a time */
    pthread_mutex_t mu;        /* registration state */
    pthread_cond_t cv;
    int in_flight;             /* fire-and-forget calls not yet answered */
    char session_handle[40];
};

static uint64_t random_u64(void)
{
    uint64_t v = 0;
    FILE *f = fopen("/dev/urandom", "rb");
    if (f) {
        if (fread(&v, sizeof(v), 1, f) != 1)
            v = 0;
        fclose(f);
    }
    return v ? v : (uint64_t)sl_dist_now_us() * 2654435761u ^ (uint64_t)getpid();
}

/* ---- fire-and-forget calls (aborts and cleanups) ----------------------- */

typedef struct ff_call {
    sl_dist_session *s;
    Sluice__Dist__CleanupGraphRequest req;
    char reason[512];
} ff_call;

static void ff_done(void *arg, const ProtobufCMessage *reply, const sl_status *st)
{
    ff_call *c = arg;
    sl_dist_session *s = c->s;
    free(c);
    pthread_mutex_lock(&s->mu);
    if (--s->in_flight == 0)
        pthread_cond_broadcast(&s->cv);
    pthread_mutex_unlock(&s->mu);
}

static void cleanup_async(sl_dist_session *s, int ti, int64_t step_id, const char *abort_reason)
{
    task *tk = &s->tasks[ti];
    if (!tk->conn)
        return;
    ff_call *c = calloc(1, sizeof(*c));
    if (!c)
        return;
    c->s = s;
    sluice__dist__cleanup_graph_request__init(&c->req);
    c->req.step_id = step_id;
    if (abort_reason) {
        c->req.abort = true;
        snprintf(c->reason, sizeof(c->reason), "%s", abort_reason);
        c->req.reason = c->reason;
    }
    pthread_mutex_lock(&s->mu);
    s->in_flight++;
    pthread_mutex_unlock(&s->mu);
    s->t->ops->cleanup_graph(tk->conn, &c->req, s->call_timeout_ms, ff_done, c);
}

/* ---- creation ------------------------------------------------------------ */

static void prefix_task(sl_status *st, const task *tk)
{
    /* workers already name themselves; add the address for the reader */
    if (!strncmp(sl_status_message(st), tk->name, strlen(tk->name)))
        sl_status_prefix(st, "task at %s", tk->address);
    else
        sl_status_prefix(st, "task %s (%s)", tk->name, tk->address);
}

/* Creates the worker session on the task and registers its partitions that
 * need it.  Call without s->mu. */
static sl_code register_task(sl_dist_session *s, int ti, sl_status *st)
{
    task *tk = &s->tasks[ti];
    if (!tk->conn && !(tk->conn = s->t->ops->connect(s->t->impl, tk->address, st))) {
        prefix_task(st, tk);
        return sl_status_code(st);
    }
    if (!tk->has_session) {
        Sluice__Dist__CreateWorkerSessionRequest req = SLUICE__DIST__CREATE_WORKER_SESSION_REQUEST__INIT;
        req.session_handle = s->session_handle;
        req.job_name = (char *)tk->job;
        req.task_index = tk->index;
        if (sl_dist_call_sync(s->t, tk->conn, SL_DIST_CREATE_WORKER_SESSION, &req.base, s->call_timeout_ms, NULL,
                              st) != SL_OK) {
            prefix_task(st, tk);
            return sl_status_code(st);
        }
        tk->has_session = true;
    }
    for (int p = 0; p < s->num_parts; p++) {
        part *pt = &s->parts[p];
        if (pt->task != ti || pt->handle)
            continue;
        Sluice__Dist__RegisterGraphRequest req = SLUICE__DIST__REGISTER_GRAPH_REQUEST__INIT;
        req.session_handle = s->session_handle;
        req.graph_def.data = pt->graph_def;
        req.graph_def.len = pt->graph_def_len;
        ProtobufCMessage *reply = NULL;
        if (sl_dist_call_sync(s->t, tk->conn, SL_DIST_REGISTER_GRAPH, &req.base, s->call_timeout_ms, &reply,
                              st) != SL_OK) {
            prefix_task(st, tk);
            return sl_status_code(st);
        }
        char *h = strdup(((Sluice__Dist__RegisterGraphResponse *)reply)->graph_handle);
        protobuf_c_message_free_unpacked(reply, NULL);
        pthread_mutex_lock(&s->mu);
        pt->handle = h;
        pthread_mutex_unlock(&s->mu);
        if (!h)
            return sl_status_set(st, SL_RESOURCE_EXHAUSTED, "out of memory");
    }
    return SL_OK;
}

void sl_dist_session_free(sl_dist_session *s)
{
    if (!s)
        return;
    pthread_mutex_lock(&s->mu);
    while (s->in_flight > 0)
        pthread_cond_wait(&s->cv, &s->mu);
    pthread_mutex_unlock(&s->mu);
    for (int p = 0; p < s->num_parts; p++) {
        free(s->parts[p].device);
        sl_graph_free(s->parts[p].graph);
        sl_free(s->parts[p].graph_def);
        free(s->parts[p].handle);
    }
    free(s->parts);
    for (int i = 0; i < s->num_tasks; i++) {
        if (s->tasks[i].conn)
            s->t->ops->disconnect(s->tasks[i].conn);
        free(s->tasks[i].name);
        if (s->devices)
            free(s->devices[i]);
    }
    free(s->tasks);
    free(s->devices);
    free(s->assignment);
    sl_graph_free(s->graph);
    sl_cluster_free(s->cluster);
    pthread_cond_destroy(&s->cv);
    pthread_mutex_destroy(&s->reg_mu);
    pthread_mutex_destroy(&s->mu);
    free(s);
}

static sl_graph *graph_copy(const sl_graph *g, sl_status *st)
{
    size_t len;
    void *bin = sl_graph_export_binary(g, &len, st);
    if (!bin)
        return NULL;
    sl_graph *c = sl_graph_new(st);
    if (c && sl_graph_import_binary(c, bin, len, NULL, st) != SL_OK) {
        sl_graph_free(c);
        c = NULL;
    }
    sl_free(bin);
    return c;
}

/* Frames and iterations do not cross tasks (the remote rendezvous keys a
 * tensor by step only), so a while loop split over tasks is refused here,
 * before anything is registered.  Each node gets the frame its outputs
 * live in by a walk from the nodes without inputs (as the executor does):
 * an Enter's outputs are in its loop, an Exit's in the loop's parent.  An
 * edge that leaves a task from inside a loop fails with UNIMPLEMENTED
 * naming the loop and the two nodes. */
static sl_code check_loops_on_one_task(const sl_graph *g, const int *assignment, char *const *devices,
                                       sl_status *st)
{
    int n = sl_graph_num_nodes(g), nf = 1;
    sl_code rc = SL_OK;
    int *frame = malloc(sizeof(int) * ((size_t)n + 1));      /* the frame a node runs in */
    int *out_frame = malloc(sizeof(int) * ((size_t)n + 1));  /* the frame of its outputs */
    int *parent = malloc(sizeof(int) * ((size_t)n + 2));
    const sl_node **fname = calloc((size_t)n + 2, sizeof(*fname));  /* an Enter naming the frame */
    int *queue = malloc(sizeof(int) * ((size_t)n + 1));
    int *nout = calloc((size_t)n + 1, sizeof(int)), *off = calloc((size_t)n + 2, sizeof(int)), *adj = NULL;
    if (!frame || !out_frame || !parent || !fname || !queue || !nout || !off) {
        rc = sl_status_set(st, SL_RESOURCE_EXHAUSTED, "out of memory checking loops");
        goto out;
    }
    bool any_enter = false;
    for (int i = 0; i < n; i++)
        any_enter |= !strcmp(sl_node_op_type(sl_graph_node(g, i)), "Enter") ||
                     !strcmp(sl_node_op_type(sl_graph_node(g, i)), "RefEnter");
    if (!any_enter)
        goto out;
    /* consumers of each node, data and control */
    size_t ne = 0;
    for (int i = 0; i < n; i++) {
        const sl_node *d = sl_graph_node(g, i);
        int ni = sl_node_num_inputs(d), nc = sl_node_num_control_inputs(d);
        for (int k = 0; k < ni + nc; k++) {
            const sl_node *src = k < ni ? sl_node_input(d, k).node : sl_node_control_input(d, k - ni);
            nout[sl_node_id(src)]++;
            ne++;
        }
    }
    if (!(adj = malloc(sizeof(int) * (ne + 1)))) {
        rc = sl_status_set(st, SL_RESOURCE_EXHAUSTED, "out of memory checking loops");
        goto out;
    }
    for (int i = 0; i < n; i++)
        off[i + 1] = off[i] + nout[i];
    memset(nout, 0, sizeof(int) * (size_t)n);
    for (int i = 0; i < n; i++) {
        const sl_node *d = sl_graph_node(g, i);
        int ni = sl_node_num_inputs(d), nc = sl_node_num_control_inputs(d);
        for (int k = 0; k < ni + nc; k++) {
            const sl_node *src = k < ni ? sl_node_input(d, k).node : sl_node_control_input(d, k - ni);
            int si = sl_node_id(src);
            adj[off[si] + nout[si]++] = i;
        }
    }
    int head = 0, tail = 0;
    parent[0] = -1;
    for (int i = 0; i < n; i++) {
        const sl_node *d = sl_graph_node(g, i);
        frame[i] = out_frame[i] = -1;
        if (sl_node_num_inputs(d) + sl_node_num_control_inputs(d) == 0) {
            frame[i] = 0;
            queue[tail++] = i;
        }
    }
    while (head < tail) {
        int i = queue[head++];
        const sl_node *nd = sl_graph_node(g, i);
        const char *op = sl_node_op_type(nd);
        int of = frame[i];
        if (!strcmp(op, "Enter") || !strcmp(op, "RefEnter")) {
            const char *name = "", *other;
            size_t len = 0, olen;
            sl_node_attr_string(nd, "frame_name", &name, &len);
            of = -1;
            for (int f = 1; f < nf && of < 0; f++)
                if (parent[f] == frame[i] && sl_node_attr_string(fname[f], "frame_name", &other, &olen) &&
                    olen == len && !memcmp(other, name, len))
                    of = f;
            if (of < 0) {
                of = nf++;
                parent[of] = frame[i];
                fname[of] = nd;
            }
        } else if ((!strcmp(op, "Exit") || !strcmp(op, "RefExit")) && frame[i] > 0) {
            of = parent[frame[i]];
        }
        out_frame[i] = of;
        for (int e = off[i]; e < off[i + 1]; e++)
            if (frame[adj[e]] < 0) {
                frame[adj[e]] = of;
                queue[tail++] = adj[e];
            }
    }
    for (int i = 0; i < n && rc == SL_OK; i++) {
        const sl_node *d = sl_graph_node(g, i);
        int ni = sl_node_num_inputs(d), nc = sl_node_num_control_inputs(d);
        for (int k = 0; k < ni + nc && rc == SL_OK; k++) {
            const sl_node *src = k < ni ? sl_node_input(d, k).node : sl_node_control_input(d, k - ni);
            int si = sl_node_id(src), f = out_frame[si];
            if (f <= 0 || assignment[si] == assignment[i])
                continue;
            const char *name = "";
            size_t len = 0;
            sl_node_attr_string(fname[f], "frame_name", &name, &len);
            rc = sl_status_set(st, SL_UNIMPLEMENTED,
                               "while loop '%.*s' would be split across tasks: '%s' on %s feeds '%s' on %s inside "
                               "it, and frames and iterations do not cross tasks yet; place the whole loop on one "
                               "task (a device constraint on its nodes)",
                               (int)len, name, sl_node_name(src), devices[assignment[si]], sl_node_name(d),
                               devices[assignment[i]]);
        }
    }
out:
    free(frame);
    free(out_frame);
    free(parent);
    free(fname);
    free(queue);
    free(nout);
    free(off);
    free(adj);
    return rc;
}

sl_dist_session *sl_dist_session_new(const sl_graph *graph, const sl_cluster *cluster,
                                     const sl_transport *transport, const sl_dist_session_options *opts,
                                     sl_status *st)
{
    sl_dist_register_ops();
    sl_dist_session *s = calloc(1, sizeof(*s));
    sl_partition *parts = NULL;
    int np = 0;
    if (!s)
        goto oom;
    pthread_mutex_init(&s->mu, NULL);
    pthread_mutex_init(&s->reg_mu, NULL);
    pthread_cond_init(&s->cv, NULL);
    s->t = transport;
    s->call_timeout_ms = opts && opts->call_timeout_ms > 0 ? opts->call_timeout_ms : 30000;
    snprintf(s->session_handle, sizeof(s->session_handle), "s%016llx", (unsigned long long)random_u64());
    if (!(s->cluster = sl_cluster_copy(cluster)))
        goto oom;
    if (!(s->graph = graph_copy(graph, st)))
        goto fail;
    s->num_tasks = sl_cluster_num_tasks(s->cluster);
    if (!(s->tasks = calloc((size_t)s->num_tasks, sizeof(*s->tasks))) ||
        !(s->devices = calloc((size_t)s->num_tasks, sizeof(char *))))
        goto oom;
    for (int i = 0; i < s->num_tasks; i++) {
        task *tk = &s->tasks[i];
        sl_cluster_task_at(s->cluster, i, &tk->job, &tk->index);
        tk->address = sl_cluster_task_address(s->cluster, tk->job, tk->index);
        char name[200];
        sl_cluster_task_name(tk->job, tk->index, name, sizeof(name));
        if (!(tk->name = strdup(name)))
            goto oom;
        char dev[240];
        snprintf(dev, sizeof(dev), "%s/device:CPU:0", name);
        if (!(s->devices[i] = strdup(dev)))
            goto oom;
    }
    int nn = sl_graph_num_nodes(s->graph);
    if (!(s->assignment = calloc((size_t)nn + 1, sizeof(int))))
        goto oom;
    sl_placement_options po = {0};
    po.simple = opts && opts->simple_placement;
    po.transfer_bytes_per_us = 500;  /* about a gigabyte per second */
    if (sl_place(s->graph, (const char *const *)s->devices, s->num_tasks, &po, s->assignment, st) != SL_OK) {
        sl_status_prefix(st, "cannot place the graph over the cluster");
        goto fail;
    }
    if (check_loops_on_one_task(s->graph, s->assignment, s->devices, st) != SL_OK)
        goto fail;
    sl_partition_options pa = {0};
    if (!(parts = sl_partition_graph(s->graph, (const char *const *)s->devices, s->num_tasks, s->assignment, &pa,
                                     &np, st)))
        goto fail;
    if (!(s->parts = calloc((size_t)np + 1, sizeof(*s->parts))))
        goto oom;
    s->num_parts = np;
    for (int p = 0; p < np; p++) {
        part *pt = &s->parts[p];
        pt->task = -1;
        for (int i = 0; i < s->num_tasks; i++)
            if (!strcmp(s->devices[i], parts[p].device))
                pt->task = i;
        pt->device = strdup(parts[p].device);
        pt->graph = parts[p].graph;
        parts[p].graph = NULL;
        if (!pt->device)
            goto oom;
        if (!(pt->graph_def = sl_graph_export_binary(pt->graph, &pt->graph_def_len, st)))
            goto fail;
    }
    sl_partitions_free(parts, np);
    parts = NULL;
    for (int i = 0; i < s->num_tasks; i++) {
        bool used = false;
        for (int p = 0; p < np; p++)
            used |= s->parts[p].task == i;
        if (used && register_task(s, i, st) != SL_OK)
            goto fail;
    }
    sl_status_clear(st);
    return s;
oom:
    sl_status_set(st, SL_RESOURCE_EXHAUSTED, "out of memory making a distributed session");
fail:
    sl_partitions_free(parts, np);
    sl_dist_session_free(s);
    return NULL;
}

int sl_dist_session_num_partitions(const sl_dist_session *s)
{
    return s->num_parts;
}

const char *sl_dist_session_node_device(const sl_dist_session *s, const char *name)
{
    sl_node *n = sl_graph_find_node(s->graph, name);
    return n ? s->devices[s->assignment[sl_node_id(n)]] : NULL;
}

/* ---- steps ----------------------------------------------------------------- */

typedef struct out_ref {
    int fetch;                 /* index into the caller's fetches */
} out_ref;

typedef struct part_run {
    struct step *step;
    int part;
    Sluice__Dist__RunGraphRequest req;
    int *fetch_index;          /* req.recv_key[i] answers fetch fetch_index[i] */
    char *handle;              /* the graph handle, copied when the call starts */
    int64_t sent_us;
} part_run;

typedef struct step {
    sl_dist_session *s;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int pending;
    sl_status *status;         /* first error */
    bool aborted;
    int64_t step_id;
    sl_tensor **fetched;
    sl_dist_step_stats *stats; /* NULL unless collecting */
    part_run *runs;
    int num_runs;
} step;

static void abort_others(step *sp, int failed_task, const char *why)
{
    sl_dist_session *s = sp->s;
    for (int r = 0; r < sp->num_runs; r++) {
        int ti = s->parts[sp->runs[r].part].task;
        bool seen = ti == failed_task;
        for (int q = 0; q < r; q++)
            seen |= s->parts[sp->runs[q].part].task == ti;
        if (!seen)
            cleanup_async(s, ti, sp->step_id, why);
    }
}

static void copy_stats(sl_dist_partition_stats *ps, const part *pt, const Sluice__Dist__RunGraphResponse *r,
                       int64_t rpc_us)
{
    ps->device = strdup(pt->device);
    ps->start_us = r->start_us;
    ps->end_us = r->end_us;
    ps->rpc_us = rpc_us;
    if (!r->n_node_stats || !(ps->nodes = calloc(r->n_node_stats, sizeof(*ps->nodes))))
        return;
    for (size_t i = 0; i < r->n_node_stats; i++) {
        const Sluice__Dist__NodeStatsMsg *m = r->node_stats[i];
        sl_dist_node_stats *n = &ps->nodes[ps->num_nodes++];
        n->node_name = strdup(m->node_name);
        n->op = strdup(m->op);
        n->start_us = m->start_us;
        n->end_us = m->end_us;
        n->thread_id = m->thread_id;
        n->output_bytes = m->output_bytes;
    }
}

static void run_done(void *arg, const ProtobufCMessage *reply, const sl_status *st)
{
    part_run *pr = arg;
    step *sp = pr->step;
    sl_dist_session *s = sp->s;
    part *pt = &s->parts[pr->part];
    task *tk = &s->tasks[pt->task];
    const Sluice__Dist__RunGraphResponse *r = (const void *)reply;
    sl_status *err = NULL;
    if (!r) {
        err = sl_status_new();
        sl_status_copy(err, st);
        prefix_task(err, tk);
    } else {
        for (size_t i = 0; i < r->n_recv && i < pr->req.n_recv_key; i++) {
            sl_status *e2 = sl_status_new();
            sl_tensor *t = r->recv[i]->tensor ? sl_dist_tensor_from_msg(r->recv[i]->tensor, e2) : NULL;
            if (!t) {
                err = e2;
                if (!r->recv[i]->tensor)
                    sl_status_set(err, SL_INTERNAL, "fetch '%s' came back empty", pr->req.recv_key[i]);
                prefix_task(err, tk);
                break;
            }
            sl_status_free(e2);
            pthread_mutex_lock(&sp->mu);
            sl_tensor_unref(sp->fetched[pr->fetch_index[i]]);
            sp->fetched[pr->fetch_index[i]] = t;
            pthread_mutex_unlock(&sp->mu);
        }
        if (!err && r->n_recv != pr->req.n_recv_key) {
            err = sl_status_new();
            sl_status_set(err, SL_INTERNAL, "%zu fetches came back, %zu asked for", r->n_recv, pr->req.n_recv_key);
            prefix_task(err, tk);
        }
    }
    bool first_error = false;
    pthread_mutex_lock(&sp->mu);
    if (r && sp->stats)
        copy_stats(&sp->stats->partitions[pr->part], pt, r, sl_dist_now_us() - pr->sent_us);
    if (err && sl_status_is_ok(sp->status)) {
        sl_status_copy(sp->status, err);
        first_error = !sp->aborted;
        sp->aborted = true;
    }
    pthread_mutex_unlock(&sp->mu);
    if (err && (sl_status_code(err) == SL_UNAVAILABLE || sl_status_code(err) == SL_NOT_FOUND)) {
        /* the task may come back: register its partitions again first */
        pthread_mutex_lock(&s->mu);
        for (int p = 0; p < s->num_parts; p++)
            if (s->parts[p].task == pt->task) {
                free(s->parts[p].handle);
                s->parts[p].handle = NULL;
            }
        tk->has_session = false;
        pthread_mutex_unlock(&s->mu);
    }
    if (first_error)
        abort_others(sp, pt->task, sl_status_message(err));
    sl_status_free(err);
    pthread_mutex_lock(&sp->mu);
    if (--sp->pending == 0)
        pthread_cond_broadcast(&sp->cv);
    pthread_mutex_unlock(&sp->mu);
}

/* Splits "name" / "name:k". */
static bool split_output(const char *s, char *node, size_t size, int *index)
{
    const char *colon = strrchr(s, ':');
    size_t n = colon ? (size_t)(colon - s) : strlen(s);
    if (n >= size)
        return false;
    memcpy(node, s, n);
    node[n] = '\0';
    *index = 0;
    if (colon) {
        char *end;
        long v = strtol(colon + 1, &end, 10);
        if (*end || end == colon + 1 || v < 0)
            return false;
        *index = (int)v;
    }
    return true;
}

/* Marks what the fetches and targets need in the client's graph, stopping
 * at fed outputs (whose producers are marked, for their sends, but not
 * walked through). */
static sl_code mark_needed(sl_dist_session *s, bool *needed, const char *const *feeds, int nf,
                           const char *const *fetches, int nfetch, const char *const *targets, int nt,
                           sl_status *st)
{
    int nn = sl_graph_num_nodes(s->graph);
    int *stack = malloc(sizeof(int) * ((size_t)nn + 1));
    bool *fed_node = calloc((size_t)nn + 1, sizeof(bool));
    if (!stack || !fed_node) {
        free(stack);
        free(fed_node);
        return sl_status_set(st, SL_RESOURCE_EXHAUSTED, "out of memory");
    }
    int sp = 0;
    char name[512];
    int k;
    sl_code code = SL_OK;
    for (int i = 0; i < nf && code == SL_OK; i++) {
        sl_node *n;
        if (!split_output(feeds[i], name, sizeof(name), &k) || !(n = sl_graph_find_node(s->graph, name)))
            code = sl_status_set(st, SL_INVALID_ARGUMENT, "feed '%s' is not an output of the graph", feeds[i]);
        else
            fed_node[sl_node_id(n)] = true;
    }
    for (int i = 0; i < nfetch + nt && code == SL_OK; i++) {
        const char *what = i < nfetch ? fetches[i] : targets[i - nfetch];
        sl_node *n = NULL;
        if (i < nfetch ? !split_output(what, name, sizeof(name), &k) : (snprintf(name, sizeof(name), "%s", what), false))
            n = NULL;
        else
            n = sl_graph_find_node(s->graph, name);
        if (!n) {
            code = sl_status_set(st, SL_INVALID_ARGUMENT, "%s '%s' is not in the graph", i < nfetch ? "fetch" : "target",
                                 what);
            break;
        }
        if (i < nfetch && (k >= sl_node_num_outputs(n))) {
            code = sl_status_set(st, SL_INVALID_ARGUMENT, "fetch '%s': node '%s' has %d output%s", what, name,
                                 sl_node_num_outputs(n), sl_node_num_outputs(n) == 1 ? "" : "s");
            break;
        }
        if (!needed[sl_node_id(n)]) {
            needed[sl_node_id(n)] = true;
            stack[sp++] = sl_node_id(n);
        }
    }
    while (code == SL_OK && sp > 0) {
        sl_node *n = sl_graph_node(s->graph, stack[--sp]);
        if (fed_node[sl_node_id(n)])
            continue;  /* its value comes from the feed (a simplification: all of its outputs) */
        for (int i = 0; i < sl_node_num_inputs(n) + sl_node_num_control_inputs(n); i++) {
            sl_node *src = i < sl_node_num_inputs(n) ? sl_node_input(n, i).node
                                                    : sl_node_control_input(n, i - sl_node_num_inputs(n));
            if (src && !needed[sl_node_id(src)]) {
                needed[sl_node_id(src)] = true;
                stack[sp++] = sl_node_id(src);
            }
        }
    }
    free(stack);
    free(fed_node);
    return code;
}

/* Whether a partition node is needed: by its name in the client's graph,
 * or, for nodes partitioning made (sends, control tokens), by their inputs. */
static bool part_node_needed(sl_dist_session *s, const bool *needed, const sl_node *n, int depth)
{
    const char *op = sl_node_op_type(n);
    bool made = !strcmp(op, "_Send") || !strcmp(op, "_Recv");
    sl_node *orig = made ? NULL : sl_graph_find_node(s->graph, sl_node_name(n));
    if (orig)
        return needed[sl_node_id(orig)];
    if (!strcmp(op, "_Recv") || depth > 4)
        return false;
    /* a _Send of a node of the client's graph: needed when a consumer of
     * that node on the receiving device is (an initializer reading a
     * variable needs the variable, but not its sends to the replicas) */
    const char *rdev;
    size_t rlen;
    if (!strcmp(op, "_Send") && sl_node_num_inputs(n) > 0 && sl_node_attr_string(n, "recv_device", &rdev, &rlen)) {
        sl_output in = sl_node_input(n, 0);
        sl_node *src = in.node && strcmp(sl_node_op_type(in.node), "_Recv")
                           ? sl_graph_find_node(s->graph, sl_node_name(in.node))
                           : NULL;
        if (src) {
            if (!needed[sl_node_id(src)])
                return false;
            for (int i = 0; i < sl_node_num_out_edges(src); i++) {
                const sl_edge *e = sl_node_out_edge(src, i);
                if (e->src_output != in.index || !needed[sl_node_id(e->dst)])
                    continue;
                const char *d = s->devices[s->assignment[sl_node_id(e->dst)]];
                if (strlen(d) == rlen && !strncmp(d, rdev, rlen))
                    return true;
            }
            return false;
        }
    }
    for (int i = 0; i < sl_node_num_inputs(n); i++)
        if (part_node_needed(s, needed, sl_node_input(n, i).node, depth + 1))
            return true;
    for (int i = 0; i < sl_node_num_control_inputs(n); i++)
        if (part_node_needed(s, needed, sl_node_control_input(n, i), depth + 1))
            return true;
    return false;
}

static void part_run_clear(part_run *pr)
{
    for (size_t i = 0; i < pr->req.n_send; i++) {
        if (pr->req.send[i]->tensor)
            protobuf_c_message_free_unpacked(&pr->req.send[i]->tensor->base, NULL);
        free(pr->req.send[i]->name);
        free(pr->req.send[i]);
    }
    free(pr->req.send);
    for (size_t i = 0; i < pr->req.n_recv_key; i++)
        free(pr->req.recv_key[i]);
    free(pr->req.recv_key);
    for (size_t i = 0; i < pr->req.n_target; i++)
        free(pr->req.target[i]);
    free(pr->req.target);
    free(pr->fetch_index);
    free(pr->handle);
}

static bool push_str(char ***arr, size_t *n, const char *v)
{
    char **a = realloc(*arr, sizeof(char *) * (*n + 1));
    if (!a)
        return false;
    *arr = a;
    if (!(a[*n] = strdup(v)))
        return false;
    (*n)++;
    return true;
}

static int part_of_node(sl_dist_session *s, const char *name)
{
    sl_node *n = sl_graph_find_node(s->graph, name);
    if (!n)
        return -1;
    const char *dev = s->devices[s->assignment[sl_node_id(n)]];
    for (int p = 0; p < s->num_parts; p++)
        if (!strcmp(s->parts[p].device, dev))
            return p;
    return -1;
}

/* Builds the RunGraph requests of a step; one per partition with work. */
static sl_code plan_step(sl_dist_session *s, step *sp, const char *const *feed_names,
                         sl_tensor *const *feed_values, int nf, const char *const *fetch_names, int nfetch,
                         const char *const *targets, int nt, bool collect, sl_status *st)
{
    int nn = sl_graph_num_nodes(s->graph);
    bool *needed = calloc((size_t)nn + 1, sizeof(bool));
    if (!needed)
        return sl_status_set(st, SL_RESOURCE_EXHAUSTED, "out of memory");
    sl_code code = mark_needed(s, needed, feed_names, nf, fetch_names, nfetch, targets, nt, st);
    part_run *runs = calloc((size_t)s->num_parts + 1, sizeof(*runs));
    if (code == SL_OK && !runs)
        code = sl_status_set(st, SL_RESOURCE_EXHAUSTED, "out of memory");
    char name[512];
    int k;
    for (int p = 0; code == SL_OK && p < s->num_parts; p++) {
        part_run *pr = &runs[p];
        pr->step = sp;
        pr->part = p;
        sluice__dist__run_graph_request__init(&pr->req);
        pr->req.collect_stats = collect;
        const sl_graph *g = s->parts[p].graph;
        for (int i = 0; i < sl_graph_num_nodes(g) && code == SL_OK; i++) {
            const sl_node *n = sl_graph_node(g, i);
            if (!strcmp(sl_node_op_type(n), "_Send") && part_node_needed(s, needed, n, 0) &&
                !push_str(&pr->req.target, &pr->req.n_target, sl_node_name(n)))
                code = SL_RESOURCE_EXHAUSTED;
        }
        for (int i = 0; i < nt && code == SL_OK; i++)
            if (part_of_node(s, targets[i]) == p && !push_str(&pr->req.target, &pr->req.n_target, targets[i]))
                code = SL_RESOURCE_EXHAUSTED;
        for (int i = 0; i < nfetch && code == SL_OK; i++) {
            split_output(fetch_names[i], name, sizeof(name), &k);
            if (part_of_node(s, name) != p)
                continue;
            int *fi = realloc(pr->fetch_index, sizeof(int) * (pr->req.n_recv_key + 1));
            if (!fi) {
                code = SL_RESOURCE_EXHAUSTED;
                break;
            }
            pr->fetch_index = fi;
            fi[pr->req.n_recv_key] = i;
            if (!push_str(&pr->req.recv_key, &pr->req.n_recv_key, fetch_names[i]))
                code = SL_RESOURCE_EXHAUSTED;
        }
        for (int i = 0; i < nf && code == SL_OK; i++) {
            split_output(feed_names[i], name, sizeof(name), &k);
            if (part_of_node(s, name) != p)
                continue;
            Sluice__Dist__NamedTensor **a = realloc(pr->req.send, sizeof(void *) * (pr->req.n_send + 1));
            Sluice__Dist__NamedTensor *nt2 = malloc(sizeof(*nt2));
            if (a)
                pr->req.send = a;
            if (!a || !nt2) {
                free(nt2);
                code = SL_RESOURCE_EXHAUSTED;
                break;
            }
            sluice__dist__named_tensor__init(nt2);
            a[pr->req.n_send++] = nt2;
            if (!(nt2->name = strdup(feed_names[i])) || !(nt2->tensor = sl_dist_tensor_to_msg(feed_values[i], st)))
                code = SL_RESOURCE_EXHAUSTED;
        }
    }
    if (code == SL_RESOURCE_EXHAUSTED)
        sl_status_set(st, SL_RESOURCE_EXHAUSTED, "out of memory planning a step");
    free(needed);
    if (code != SL_OK) {
        for (int p = 0; runs && p < s->num_parts; p++)
            part_run_clear(&runs[p]);
        free(runs);
        return code;
    }
    /* keep only partitions with work, in place */
    int m = 0;
    for (int p = 0; p < s->num_parts; p++) {
        if (runs[p].req.n_target || runs[p].req.n_recv_key)
            runs[m++] = runs[p];
        else
            part_run_clear(&runs[p]);
    }
    sp->runs = runs;
    sp->num_runs = m;
    return SL_OK;
}

void sl_dist_step_stats_free(sl_dist_step_stats *stats)
{
    if (!stats)
        return;
    for (int p = 0; p < stats->num_partitions; p++) {
        sl_dist_partition_stats *ps = &stats->partitions[p];
        for (int i = 0; i < ps->num_nodes; i++) {
            free(ps->nodes[i].node_name);
            free(ps->nodes[i].op);
        }
        free(ps->nodes);
        free(ps->device);
    }
    free(stats->partitions);
    free(stats);
}

sl_code sl_dist_session_run(sl_dist_session *s, const sl_run_options *opts, const char *const *feed_names,
                            sl_tensor *const *feed_values, int num_feeds, const char *const *fetch_names,
                            sl_tensor **fetch_values, int num_fetches, const char *const *target_names,
                            int num_targets, sl_dist_step_stats **stats, sl_status *st)
{
    for (int i = 0; i < num_fetches; i++)
        fetch_values[i] = NULL;
    if (stats)
        *stats = NULL;
    bool collect = opts && opts->collect_step_stats && stats;
    int64_t timeout = opts && opts->timeout_ms > 0 ? opts->timeout_ms : 0;
    /* (re)register what a failed or restarted task lost */
    pthread_mutex_lock(&s->reg_mu);
    for (int i = 0; i < s->num_tasks; i++) {
        bool need = false;
        pthread_mutex_lock(&s->mu);
        for (int p = 0; p < s->num_parts; p++)
            need |= s->parts[p].task == i && !s->parts[p].handle;
        pthread_mutex_unlock(&s->mu);
        if (need && register_task(s, i, st) != SL_OK) {
            pthread_mutex_unlock(&s->reg_mu);
            return sl_status_code(st);
        }
    }
    pthread_mutex_unlock(&s->reg_mu);
    step sp = {.s = s};
    pthread_mutex_init(&sp.mu, NULL);
    pthread_cond_init(&sp.cv, NULL);
    sp.status = sl_status_new();
    sp.step_id = (int64_t)(random_u64() >> 1);
    sp.fetched = calloc((size_t)num_fetches + 1, sizeof(sl_tensor *));
    int64_t start = sl_dist_now_us();
    if (!sp.status || !sp.fetched) {
        sl_status_set(st, SL_RESOURCE_EXHAUSTED, "out of memory");
        goto out;
    }
    if (plan_step(s, &sp, feed_names, feed_values, num_feeds, fetch_names, num_fetches, target_names,
                  num_targets, collect, st) != SL_OK)
        goto out;
    if (collect) {
        sp.stats = calloc(1, sizeof(*sp.stats));
        if (sp.stats && !(sp.stats->partitions = calloc((size_t)s->num_parts + 1, sizeof(sl_dist_partition_stats)))) {
            free(sp.stats);
            sp.stats = NULL;
        }
        if (sp.stats)
            sp.stats->num_partitions = s->num_parts;
    }
    sp.pending = sp.num_runs;
    for (int r = 0; r < sp.num_runs; r++) {
        part_run *pr = &sp.runs[r];
        pthread_mutex_lock(&s->mu);
        pr->handle = strdup(s->parts[pr->part].handle ? s->parts[pr->part].handle : "");
        pthread_mutex_unlock(&s->mu);
        pr->req.graph_handle = pr->handle ? pr->handle : "";
        pr->req.session_handle = s->session_handle;
        pr->req.step_id = sp.step_id;
        pr->sent_us = sl_dist_now_us();
        s->t->ops->run_graph(s->tasks[s->parts[pr->part].task].conn, &pr->req, timeout, run_done, pr);
    }
    pthread_mutex_lock(&sp.mu);
    while (sp.pending > 0)
        pthread_cond_wait(&sp.cv, &sp.mu);
    pthread_mutex_unlock(&sp.mu);
    /* the step is over everywhere: drop what was sent and not pulled */
    for (int r = 0; r < sp.num_runs; r++) {
        int ti = s->parts[sp.runs[r].part].task;
        bool seen = false;
        for (int q = 0; q < r; q++)
            seen |= s->parts[sp.runs[q].part].task == ti;
        if (!seen && !sp.aborted)
            cleanup_async(s, ti, sp.step_id, NULL);
    }
    if (!sl_status_is_ok(sp.status)) {
        sl_status_copy(st, sp.status);
        goto out;
    }
    for (int i = 0; i < num_fetches; i++)
        if (!sp.fetched[i]) {
            sl_status_set(st, SL_INTERNAL, "fetch '%s' was not returned", fetch_names[i]);
            goto out;
        }
    for (int i = 0; i < num_fetches; i++) {
        fetch_values[i] = sp.fetched[i];
        sp.fetched[i] = NULL;
    }
    if (sp.stats) {
        sp.stats->step_id = sp.step_id;
        sp.stats->start_us = start;
        sp.stats->end_us = sl_dist_now_us();
        *stats = sp.stats;
        sp.stats = NULL;
    }
    sl_status_clear(st);
out:
    for (int i = 0; sp.fetched && i < num_fetches; i++)
        sl_tensor_unref(sp.fetched[i]);
    free(sp.fetched);
    for (int r = 0; r < sp.num_runs; r++)
        part_run_clear(&sp.runs[r]);
    free(sp.runs);
    sl_dist_step_stats_free(sp.stats);
    sl_status_free(sp.status);
    pthread_cond_destroy(&sp.cv);
    pthread_mutex_destroy(&sp.mu);
    return sl_status_code(st);
}

sl_code sl_dist_session_check_health(sl_dist_session *s, int64_t timeout_ms, sl_status *st)
{
    for (int i = 0; i < s->num_tasks; i++) {
        task *tk = &s->tasks[i];
        if (!tk->conn && !(tk->conn = s->t->ops->connect(s->t->impl, tk->address, st)))
            return sl_status_code(st);
        Sluice__Dist__GetStatusRequest req = SLUICE__DIST__GET_STATUS_REQUEST__INIT;
        if (sl_dist_call_sync(s->t, tk->conn, SL_DIST_GET_STATUS, &req.base, timeout_ms, NULL, st) != SL_OK) {
            prefix_task(st, tk);
            return sl_status_code(st);
        }
    }
    return SL_OK;
}
