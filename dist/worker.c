/* The worker service (see worker.h): registered partitions, steps run on
 * threads of their own, the remote rendezvous, and the _SlRemoteSend /
 * _SlRemoteRecv kernels that connect partitions on different tasks. */
#include "config.h"

#include "worker.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "graph.pb-c.h"
#include "sluice/device.h"
#include "sluice/kernel.h"
#include "sluice/op.h"
#include "sluice/resource.h"
#include "sluice/session.h"
#include "step-table.h"
#include "textformat.h"

#define STEP_ID_NODE "_sl_step_id"
#define RES_CONTAINER "_sluice_dist"
#define RES_NAME "worker"
#define RES_TYPE "dist_worker"

typedef struct reg_graph {
    char handle[32];
    sl_session *session;
    bool has_remote;            /* feeds STEP_ID_NODE */
} reg_graph;

struct sl_dist_worker {
    sl_cluster *cluster;
    char *job;
    int task;
    char task_name[160];
    char device[192];
    uint64_t incarnation;
    int64_t start_us;
    int64_t recv_timeout_ms;
    const sl_transport *peers;
    sl_dist_conn **peer_conns;  /* by task order in the cluster; lazily made */
    sl_resource_mgr *rm;
    sl_resource *self;          /* the resource kernels find us by */
    sl_dist_steps *steps;
    pthread_mutex_t mu;
    pthread_cond_t idle;
    reg_graph *graphs;
    int num_graphs;
    int next_graph;
    int running;                /* RunGraph threads alive */
};

/* ---- ops and kernels ----------------------------------------------------- */

#define REMOTE_ATTRS                                                                      \
    "tensor_name: string", "send_device: string", "send_device_incarnation: int",        \
        "recv_device: string", "client_terminated: bool = false"

static const sl_op_spec remote_ops[] = {
    {.name = "_SlRemoteSend", .inputs = {"tensor: T", "step_id: int64"}, .attrs = {"T: type", REMOTE_ATTRS},
     .flags = SL_OP_STATEFUL, .summary = "leaves a tensor for another task to pull (RecvTensor)"},
    {.name = "_SlRemoteRecv", .inputs = {"step_id: int64"}, .outputs = {"tensor: tensor_type"},
     .attrs = {"tensor_type: type", REMOTE_ATTRS}, .flags = SL_OP_STATEFUL,
     .summary = "pulls a tensor from the task that sent it"},
};

static char *attr_str(const sl_node *n, const char *attr)
{
    const char *s = "";
    size_t len = 0;
    sl_node_attr_string(n, attr, &s, &len);
    char *d = malloc(len + 1);
    if (d) {
        memcpy(d, s, len);
        d[len] = '\0';
    }
    return d;
}

/* TF's rendezvous key, frame and iteration 0:0 (no loops across tasks). */
static char *remote_key(const sl_node *n)
{
    char *send = attr_str(n, "send_device"), *recv = attr_str(n, "recv_device"),
         *name = attr_str(n, "tensor_name");
    int64_t inc = 0;
    sl_node_attr_int(n, "send_device_incarnation", &inc);
    char *key = NULL;
    if (send && recv && name) {
        size_t len = strlen(send) + strlen(recv) + strlen(name) + 48;
        if ((key = malloc(len)))
            snprintf(key, len, "%s;%llx;%s;%s;0:0", send, (unsigned long long)inc, recv, name);
    }
    free(send);
    free(recv);
    free(name);
    return key;
}

static sl_dist_worker *ctx_worker(sl_kernel_ctx *ctx, sl_resource **res)
{
    sl_resource_mgr *rm = sl_kernel_ctx_resources(ctx);
    *res = rm ? sl_resource_mgr_lookup(rm, RES_CONTAINER, RES_NAME, RES_TYPE, NULL) : NULL;
    if (!*res) {
        sl_kernel_ctx_fail(ctx, SL_FAILED_PRECONDITION, "not running on a sluice worker");
        return NULL;
    }
    return sl_resource_object(*res);
}

static int64_t ctx_step(sl_kernel_ctx *ctx, int input)
{
    const sl_tensor *t = sl_kernel_ctx_input(ctx, input);
    return t && sl_tensor_dtype(t) == SL_DTYPE_INT64 ? *(const int64_t *)sl_tensor_data(t) : -1;
}

static void remote_send_compute(sl_kernel_ctx *ctx)
{
    sl_resource *res;
    sl_dist_worker *w = ctx_worker(ctx, &res);
    if (!w)
        return;
    char *key = remote_key(sl_kernel_ctx_node(ctx));
    sl_status *st = sl_status_new();
    if (!key || !st)
        sl_kernel_ctx_fail(ctx, SL_RESOURCE_EXHAUSTED, "out of memory sending");
    else if (sl_dist_steps_send(w->steps, ctx_step(ctx, 1), key, (sl_tensor *)sl_kernel_ctx_input(ctx, 0),
                                st) != SL_OK)
        sl_kernel_ctx_fail(ctx, sl_status_code(st), "%s", sl_status_message(st));
    sl_status_free(st);
    free(key);
    sl_resource_unref(res);
}

static sl_dist_conn *peer_conn(sl_dist_worker *w, const char *device, char *task_out, size_t task_size,
                               sl_status *st);

static void remote_recv_done(void *arg, sl_tensor *t, const sl_status *status)
{
    sl_kernel_ctx *ctx = arg;
    if (t) {
        sl_dtype want = SL_DTYPE_INVALID;
        sl_node_attr_type(sl_kernel_ctx_node(ctx), "tensor_type", &want);
        if (sl_tensor_dtype(t) != want)
            sl_kernel_ctx_fail(ctx, SL_INTERNAL, "received %s, expected %s", sl_dtype_name(sl_tensor_dtype(t)),
                               sl_dtype_name(want));
        else
            sl_kernel_ctx_set_output(ctx, 0, t);
    } else {
        char *from = attr_str(sl_kernel_ctx_node(ctx), "send_device");
        sl_kernel_ctx_fail(ctx, sl_status_code(status), "receiving from %s: %s", from ? from : "?",
                           sl_status_message(status));
        free(from);
    }
    sl_kernel_ctx_done(ctx);
}

static void remote_recv_compute(sl_kernel_ctx *ctx)
{
    sl_resource *res;
    sl_dist_worker *w = ctx_worker(ctx, &res);
    if (!w) {
        sl_kernel_ctx_done(ctx);
        return;
    }
    const sl_node *n = sl_kernel_ctx_node(ctx);
    char *key = remote_key(n);
    char *send = attr_str(n, "send_device");
    sl_status *st = sl_status_new();
    char task[160];
    sl_dist_conn *conn = NULL;
    if (!key || !send || !st)
        sl_kernel_ctx_fail(ctx, SL_RESOURCE_EXHAUSTED, "out of memory receiving");
    else if (!(conn = peer_conn(w, send, task, sizeof(task), st)))
        sl_kernel_ctx_fail(ctx, sl_status_code(st), "%s", sl_status_message(st));
    int64_t timeout = w->recv_timeout_ms;
    const sl_transport *peers = w->peers;
    sl_resource_unref(res);
    if (conn) {
        Sluice__Dist__RecvTensorRequest req = SLUICE__DIST__RECV_TENSOR_REQUEST__INIT;
        req.step_id = ctx_step(ctx, 0);
        req.rendezvous_key = key;
        sl_status_free(st);
        free(send);
        peers->ops->recv_tensor(conn, &req, timeout, remote_recv_done, ctx);
        free(key);
        return;
    }
    sl_status_free(st);
    free(send);
    free(key);
    sl_kernel_ctx_done(ctx);
}

static const sl_kernel_def remote_kernels[] = {
    {.op = "_SlRemoteSend", .device = SL_DEVICE_CPU, .compute = remote_send_compute},
    {.op = "_SlRemoteRecv", .device = SL_DEVICE_CPU, .compute_async = remote_recv_compute},
};

static pthread_once_t ops_once = PTHREAD_ONCE_INIT;

static void register_ops_once(void)
{
    for (size_t i = 0; i < sizeof(remote_ops) / sizeof(remote_ops[0]); i++)
        sl_op_register(&remote_ops[i], NULL);
    for (size_t i = 0; i < sizeof(remote_kernels) / sizeof(remote_kernels[0]); i++)
        sl_kernel_register(&remote_kernels[i], NULL);
}

void sl_dist_register_ops(void)
{
    pthread_once(&ops_once, register_ops_once);
}

/* ---- the worker object ------------------------------------------------- */

static void *self_create(void *arg, sl_status *st)
{
    return arg;
}

static void self_destroy(void *obj)
{
}

static uint64_t random_u64(void)
{
    uint64_t v = 0;
    FILE *f = fopen("/dev/urandom", "rb");
    if (f) {
        if (fread(&v, sizeof(v), 1, f) != 1)
            v = 0;
        fclose(f);
    }
    if (!v)
        v = ((uint64_t)time(NULL) << 20) ^ (uint64_t)getpid() ^ (uint64_t)sl_dist_now_us();
    return v;
}

sl_dist_worker *sl_dist_worker_new(const sl_cluster *cluster, const char *job, int task,
                                   const sl_transport *peers, sl_status *st)
{
    sl_dist_register_ops();
    if (!sl_cluster_task_address(cluster, job, task)) {
        sl_status_set(st, SL_INVALID_ARGUMENT, "the cluster has no task %d in job '%s'", task, job);
        return NULL;
    }
    sl_dist_worker *w = calloc(1, sizeof(*w));
    if (!w)
        goto oom;
    pthread_mutex_init(&w->mu, NULL);
    pthread_cond_init(&w->idle, NULL);
    w->task = task;
    w->peers = peers;
    w->incarnation = random_u64();
    w->start_us = sl_dist_now_us();
    sl_cluster_task_name(job, task, w->task_name, sizeof(w->task_name));
    snprintf(w->device, sizeof(w->device), "%s/device:CPU:0", w->task_name);
    if (!(w->cluster = sl_cluster_copy(cluster)) || !(w->job = strdup(job)) || !(w->rm = sl_resource_mgr_new()) ||
        !(w->steps = sl_dist_steps_new()) ||
        !(w->peer_conns = calloc((size_t)sl_cluster_num_tasks(cluster), sizeof(*w->peer_conns))))
        goto oom_w;
    w->self = sl_resource_mgr_lookup_or_create(w->rm, RES_CONTAINER, RES_NAME, RES_TYPE, self_create, w,
                                               self_destroy, st);
    if (!w->self)
        goto oom_w;
    sl_status_clear(st);
    return w;
oom_w:
    sl_dist_worker_free(w);
oom:
    sl_status_set(st, SL_RESOURCE_EXHAUSTED, "out of memory making a worker");
    return NULL;
}

void sl_dist_worker_free(sl_dist_worker *w)
{
    if (!w)
        return;
    pthread_mutex_lock(&w->mu);
    while (w->running > 0)
        pthread_cond_wait(&w->idle, &w->mu);
    pthread_mutex_unlock(&w->mu);
    for (int i = 0; i < w->num_graphs; i++)
        sl_session_free(w->graphs[i].session);
    free(w->graphs);
    sl_dist_steps_free(w->steps);
    if (w->peer_conns && w->cluster)
        for (int i = 0; i < sl_cluster_num_tasks(w->cluster); i++)
            if (w->peer_conns[i])
                w->peers->ops->disconnect(w->peer_conns[i]);
    free(w->peer_conns);
    sl_resource_unref(w->self);
    sl_resource_mgr_free(w->rm);
    sl_cluster_free(w->cluster);
    free(w->job);
    pthread_cond_destroy(&w->idle);
    pthread_mutex_destroy(&w->mu);
    free(w);
}

const char *sl_dist_worker_task_name(const sl_dist_worker *w)
{
    return w->task_name;
}

uint64_t sl_dist_worker_incarnation(const sl_dist_worker *w)
{
    return w->incarnation;
}

void sl_dist_worker_set_recv_timeout(sl_dist_worker *w, int64_t timeout_ms)
{
    w->recv_timeout_ms = timeout_ms;
}

/* The connection to the task of `device` ("/job:J/replica:0/task:T/..."). */
static sl_dist_conn *peer_conn(sl_dist_worker *w, const char *device, char *task_out, size_t task_size,
                               sl_status *st)
{
    sl_device_name dn;
    if (sl_device_name_parse(device, &dn, st) != SL_OK)
        return NULL;
    if (!dn.has_job || !dn.has_task) {
        sl_status_set(st, SL_INVALID_ARGUMENT, "device '%s' names no task", device);
        return NULL;
    }
    sl_cluster_task_name(dn.job, dn.task, task_out, task_size);
    const char *addr = sl_cluster_task_address(w->cluster, dn.job, dn.task);
    if (!addr) {
        sl_status_set(st, SL_INVALID_ARGUMENT, "%s is not in the cluster", task_out);
        return NULL;
    }
    int index = 0;
    for (int i = 0; i < sl_cluster_num_tasks(w->cluster); i++) {
        const char *j;
        int t;
        sl_cluster_task_at(w->cluster, i, &j, &t);
        if (!strcmp(j, dn.job) && t == dn.task)
            index = i;
    }
    pthread_mutex_lock(&w->mu);
    sl_dist_conn *c = w->peer_conns[index];
    if (!c && (c = w->peers->ops->connect(w->peers->impl, addr, st)))
        w->peer_conns[index] = c;
    pthread_mutex_unlock(&w->mu);
    return c;
}

/* ---- CreateWorkerSession, GetStatus, CleanupGraph ---------------------- */

static void reply(sl_dist_reply_fn done, void *arg, const ProtobufCMessage *m, sl_code code, const char *msg)
{
    sl_status *st = sl_status_new();
    if (code != SL_OK)
        sl_status_set(st, code, "%s", msg);
    done(arg, code == SL_OK ? m : NULL, st);
    sl_status_free(st);
}

void sl_dist_worker_create_session(sl_dist_worker *w, const Sluice__Dist__CreateWorkerSessionRequest *req,
                                   sl_dist_reply_fn done, void *arg)
{
    char msg[512];
    if (req->job_name[0] && (strcmp(req->job_name, w->job) || req->task_index != w->task)) {
        snprintf(msg, sizeof(msg), "this is %s, not /job:%s/replica:0/task:%d", w->task_name, req->job_name,
                 req->task_index);
        reply(done, arg, NULL, SL_FAILED_PRECONDITION, msg);
        return;
    }
    Sluice__Dist__CreateWorkerSessionResponse resp = SLUICE__DIST__CREATE_WORKER_SESSION_RESPONSE__INIT;
    reply(done, arg, &resp.base, SL_OK, NULL);
}

void sl_dist_worker_get_status(sl_dist_worker *w, const Sluice__Dist__GetStatusRequest *req,
                               sl_dist_reply_fn done, void *arg)
{
    Sluice__Dist__GetStatusResponse resp = SLUICE__DIST__GET_STATUS_RESPONSE__INIT;
    char *devs[1] = {w->device};
    resp.task = w->task_name;
    resp.n_device = 1;
    resp.device = devs;
    resp.incarnation = w->incarnation;
    resp.uptime_us = sl_dist_now_us() - w->start_us;
    pthread_mutex_lock(&w->mu);
    resp.num_graphs = w->num_graphs;
    pthread_mutex_unlock(&w->mu);
    resp.num_active_steps = sl_dist_steps_active(w->steps);
    reply(done, arg, &resp.base, SL_OK, NULL);
}

void sl_dist_worker_cleanup_graph(sl_dist_worker *w, const Sluice__Dist__CleanupGraphRequest *req,
                                  sl_dist_reply_fn done, void *arg)
{
    sl_status *why = NULL;
    if (req->abort) {
        why = sl_status_new();
        sl_status_set(why, SL_ABORTED, "step %lld aborted: %s", (long long)req->step_id,
                      req->reason[0] ? req->reason : "by the master");
    }
    sl_dist_steps_cleanup(w->steps, req->step_id, why);
    sl_status_free(why);
    Sluice__Dist__CleanupGraphResponse resp = SLUICE__DIST__CLEANUP_GRAPH_RESPONSE__INIT;
    reply(done, arg, &resp.base, SL_OK, NULL);
}

void sl_dist_worker_recv_tensor(sl_dist_worker *w, const Sluice__Dist__RecvTensorRequest *req,
                                sl_dist_tensor_fn done, void *arg)
{
    sl_dist_steps_recv(w->steps, req->step_id, req->rendezvous_key, done, arg);
}

/* ---- RegisterGraph ------------------------------------------------------ */

static const char *node_attr_s(const Tensorflow__NodeDef *n, const char *key, size_t *len)
{
    for (size_t i = 0; i < n->n_attr; i++)
        if (!strcmp(n->attr[i]->key, key) && n->attr[i]->value &&
            n->attr[i]->value->value_case == TENSORFLOW__ATTR_VALUE__VALUE_S) {
            *len = n->attr[i]->value->s.len;
            return (const char *)n->attr[i]->value->s.data;
        }
    return NULL;
}

/* Whether the two device names (not NUL-terminated) are on different tasks. */
static bool crosses_tasks(const char *a, size_t al, const char *b, size_t bl)
{
    char x[256], y[256];
    sl_device_name da, db;
    if (al >= sizeof(x) || bl >= sizeof(y))
        return true;
    memcpy(x, a, al);
    x[al] = '\0';
    memcpy(y, b, bl);
    y[bl] = '\0';
    if (sl_device_name_parse(x, &da, NULL) != SL_OK || sl_device_name_parse(y, &db, NULL) != SL_OK)
        return true;
    return strcmp(da.job, db.job) || da.task != db.task || da.replica != db.replica;
}

static bool append_input(Tensorflow__NodeDef *n, const char *input)
{
    char **in = realloc(n->input, sizeof(char *) * (n->n_input + 1));
    if (!in)
        return false;
    n->input = in;
    /* data inputs come before control inputs ("^x") */
    size_t pos = 0;
    while (pos < n->n_input && n->input[pos][0] != '^')
        pos++;
    char *d = strdup(input);
    if (!d)
        return false;
    memmove(&in[pos + 1], &in[pos], sizeof(char *) * (n->n_input - pos));
    in[pos] = d;
    n->n_input++;
    return true;
}

static bool set_str(char **field, const char *v)
{
    char *d = strdup(v);
    if (!d)
        return false;
    if (*field != protobuf_c_empty_string)
        free(*field);
    *field = d;
    return true;
}

static bool is_placeholder(const Tensorflow__GraphDef *g, const char *name)
{
    for (size_t i = 0; i < g->n_node; i++)
        if (!strcmp(g->node[i]->name, name))
            return !strncmp(g->node[i]->op, "Placeholder", 11);
    return false;
}

/* Drops a receive's control inputs from placeholders: partitioning adds
 * them so the receive starts late, but the session runs a fed node's
 * control edges as if it were not fed, and the placeholder then fails.
 * Still needed (dist3): without it, `sluice train --cluster` hung on the
 * first step after a SIGKILLed worker came back (every task had one step
 * in flight), though training before the fault ran. */
static void drop_placeholder_controls(const Tensorflow__GraphDef *g, Tensorflow__NodeDef *n)
{
    size_t k = 0;
    for (size_t i = 0; i < n->n_input; i++) {
        if (n->input[i][0] == '^' && is_placeholder(g, n->input[i] + 1))
            free(n->input[i]);
        else
            n->input[k++] = n->input[i];
    }
    n->n_input = k;
}

/* Turns cross-task _Send/_Recv into the remote ops and clears devices. */
static sl_code rewrite_partition(Tensorflow__GraphDef *g, bool *has_remote, sl_status *st)
{
    *has_remote = false;
    for (size_t i = 0; i < g->n_node; i++) {
        Tensorflow__NodeDef *n = g->node[i];
        if (!strcmp(n->name, STEP_ID_NODE))
            return sl_status_set(st, SL_INVALID_ARGUMENT, "node name '%s' is reserved", STEP_ID_NODE);
        if (!set_str(&n->device, ""))
            return sl_status_set(st, SL_RESOURCE_EXHAUSTED, "out of memory");
        bool send = !strcmp(n->op, "_Send") || !strcmp(n->op, "_HostSend");
        bool recv = !strcmp(n->op, "_Recv") || !strcmp(n->op, "_HostRecv");
        if (!send && !recv)
            continue;
        if (recv)
            drop_placeholder_controls(g, n);
        size_t sl = 0, rl = 0;
        const char *sd = node_attr_s(n, "send_device", &sl), *rd = node_attr_s(n, "recv_device", &rl);
        if (!sd || !rd)
            return sl_status_set(st, SL_INVALID_ARGUMENT, "node '%s' (%s) lacks send_device/recv_device",
                                 n->name, n->op);
        if (!crosses_tasks(sd, sl, rd, rl))
            continue;
        if (!set_str(&n->op, send ? "_SlRemoteSend" : "_SlRemoteRecv") || !append_input(n, STEP_ID_NODE))
            return sl_status_set(st, SL_RESOURCE_EXHAUSTED, "out of memory");
        *has_remote = true;
    }
    if (!*has_remote)
        return SL_OK;
    static const char text[] = "node { name: '" STEP_ID_NODE "' op: 'Placeholder' "
                               "attr { key: 'dtype' value { type: DT_INT64 } } "
                               "attr { key: 'shape' value { shape { } } } }";
    Tensorflow__GraphDef *extra = (Tensorflow__GraphDef *)sl_textformat_parse(
        &tensorflow__graph_def__descriptor, text, sizeof(text) - 1, "step id", st);
    if (!extra)
        return sl_status_code(st);
    Tensorflow__NodeDef **nodes = realloc(g->node, sizeof(*nodes) * (g->n_node + 1));
    if (!nodes) {
        protobuf_c_message_free_unpacked(&extra->base, NULL);
        return sl_status_set(st, SL_RESOURCE_EXHAUSTED, "out of memory");
    }
    g->node = nodes;
    g->node[g->n_node++] = extra->node[0];
    extra->n_node = 0;
    protobuf_c_message_free_unpacked(&extra->base, NULL);
    return SL_OK;
}

void sl_dist_worker_register_graph(sl_dist_worker *w, const Sluice__Dist__RegisterGraphRequest *req,
                                   sl_dist_reply_fn done, void *arg)
{
    sl_status *st = sl_status_new();
    sl_graph *graph = NULL;
    sl_session *s = NULL;
    uint8_t *packed = NULL;
    bool has_remote = false;
    Tensorflow__GraphDef *g = tensorflow__graph_def__unpack(NULL, req->graph_def.len, req->graph_def.data);
    if (!g) {
        sl_status_set(st, SL_INVALID_ARGUMENT, "RegisterGraph: graph_def is not a GraphDef");
        goto out;
    }
    if (rewrite_partition(g, &has_remote, st) != SL_OK)
        goto out;
    size_t n = tensorflow__graph_def__get_packed_size(g);
    if (!(packed = malloc(n ? n : 1))) {
        sl_status_set(st, SL_RESOURCE_EXHAUSTED, "out of memory");
        goto out;
    }
    tensorflow__graph_def__pack(g, packed);
    if (!(graph = sl_graph_new(st)) || sl_graph_import_binary(graph, packed, n, NULL, st) != SL_OK)
        goto out;
    sl_session_options opts = SL_SESSION_OPTIONS_INIT;
    opts.resources = w->rm;
    opts.inter_op_threads = 2;
    if (!(s = sl_session_new(graph, &opts, st)))
        goto out;
    pthread_mutex_lock(&w->mu);
    reg_graph *gs = realloc(w->graphs, sizeof(*gs) * (size_t)(w->num_graphs + 1));
    if (!gs) {
        pthread_mutex_unlock(&w->mu);
        sl_status_set(st, SL_RESOURCE_EXHAUSTED, "out of memory");
        goto out;
    }
    w->graphs = gs;
    reg_graph *r = &gs[w->num_graphs++];
    snprintf(r->handle, sizeof(r->handle), "g%d", ++w->next_graph);
    r->session = s;
    r->has_remote = has_remote;
    s = NULL;
    Sluice__Dist__RegisterGraphResponse resp = SLUICE__DIST__REGISTER_GRAPH_RESPONSE__INIT;
    char handle[32];
    memcpy(handle, r->handle, sizeof(handle));
    pthread_mutex_unlock(&w->mu);
    resp.graph_handle = handle;
    done(arg, &resp.base, st);
    goto free_all;
out:
    sl_status_prefix(st, "%s", w->task_name);
    done(arg, NULL, st);
free_all:
    sl_session_free(s);
    sl_graph_free(graph);
    free(packed);
    if (g)
        protobuf_c_message_free_unpacked(&g->base, NULL);
    sl_status_free(st);
}

/* ---- RunGraph ------------------------------------------------------------ */

typedef struct run_job {
    sl_dist_worker *w;
    sl_session *session;
    bool has_remote;
    int64_t step_id;
    bool collect_stats;
    int num_feeds;
    char **feed_names;
    sl_tensor **feeds;
    int num_fetches;
    char **fetch_names;
    int num_targets;
    char **targets;
    sl_dist_reply_fn done;
    void *arg;
} run_job;

static void run_job_free(run_job *j)
{
    for (int i = 0; i < j->num_feeds; i++) {
        free(j->feed_names[i]);
        sl_tensor_unref(j->feeds[i]);
    }
    for (int i = 0; i < j->num_fetches; i++)
        free(j->fetch_names[i]);
    for (int i = 0; i < j->num_targets; i++)
        free(j->targets[i]);
    free(j->feed_names);
    free(j->feeds);
    free(j->fetch_names);
    free(j->targets);
    free(j);
}

static void fill_stats(Sluice__Dist__RunGraphResponse *resp, const sl_step_stats *ss)
{
    resp->start_us = ss->start_us;
    resp->end_us = ss->end_us;
    if (ss->num_nodes <= 0 || !(resp->node_stats = calloc((size_t)ss->num_nodes, sizeof(void *))))
        return;
    for (int i = 0; i < ss->num_nodes; i++) {
        Sluice__Dist__NodeStatsMsg *m = malloc(sizeof(*m));
        if (!m)
            return;
        sluice__dist__node_stats_msg__init(m);
        resp->node_stats[resp->n_node_stats++] = m;
        const sl_node_stats *n = &ss->nodes[i];
        if (!(m->node_name = strdup(n->node_name ? n->node_name : "")) || !(m->op = strdup(n->op ? n->op : "")))
            return;
        m->start_us = n->start_us;
        m->end_us = n->end_us;
        m->thread_id = n->thread_id;
        m->output_bytes = n->output_bytes;
    }
}

static void *run_thread(void *p)
{
    run_job *j = p;
    sl_dist_worker *w = j->w;
    sl_status *st = sl_status_new();
    sl_tensor **fetched = calloc((size_t)j->num_fetches + 1, sizeof(sl_tensor *));
    sl_run_options ro = SL_RUN_OPTIONS_INIT;
    ro.collect_step_stats = j->collect_stats;
    sl_step_stats *stats = NULL;
    Sluice__Dist__RunGraphResponse *resp = malloc(sizeof(*resp));
    if (!fetched || !resp || !st) {
        sl_status_set(st, SL_RESOURCE_EXHAUSTED, "out of memory");
        goto out;
    }
    sluice__dist__run_graph_response__init(resp);
    if (sl_session_run(j->session, &ro, (const char *const *)j->feed_names, j->feeds, j->num_feeds,
                       (const char *const *)j->fetch_names, fetched, j->num_fetches,
                       (const char *const *)j->targets, j->num_targets, &stats, st) != SL_OK) {
        sl_status_prefix(st, "%s", w->task_name);
        /* let the other tasks' receives from this one fail now */
        sl_dist_steps_cleanup(w->steps, j->step_id, st);
        goto out;
    }
    if (!(resp->device = strdup(w->device)) ||
        (j->num_fetches && !(resp->recv = calloc((size_t)j->num_fetches, sizeof(void *))))) {
        sl_status_set(st, SL_RESOURCE_EXHAUSTED, "out of memory");
        goto out;
    }
    for (int i = 0; i < j->num_fetches; i++) {
        Sluice__Dist__NamedTensor *nt = malloc(sizeof(*nt));
        if (!nt) {
            sl_status_set(st, SL_RESOURCE_EXHAUSTED, "out of memory");
            goto out;
        }
        sluice__dist__named_tensor__init(nt);
        resp->recv[resp->n_recv++] = nt;
        if (!(nt->name = strdup(j->fetch_names[i])) || !(nt->tensor = sl_dist_tensor_to_msg(fetched[i], st))) {
            sl_status_set(st, SL_RESOURCE_EXHAUSTED, "out of memory");
            goto out;
        }
    }
    if (stats)
        fill_stats(resp, stats);
out:
    j->done(j->arg, sl_status_is_ok(st) ? &resp->base : NULL, st);
    if (resp)
        protobuf_c_message_free_unpacked(&resp->base, NULL);
    for (int i = 0; fetched && i < j->num_fetches; i++)
        sl_tensor_unref(fetched[i]);
    free(fetched);
    sl_step_stats_free(stats);
    sl_status_free(st);
    run_job_free(j);
    pthread_mutex_lock(&w->mu);
    if (--w->running == 0)
        pthread_cond_broadcast(&w->idle);
    pthread_mutex_unlock(&w->mu);
    return NULL;
}

void sl_dist_worker_run_graph(sl_dist_worker *w, const Sluice__Dist__RunGraphRequest *req,
                              sl_dist_reply_fn done, void *arg)
{
    sl_status *st = sl_status_new();
    run_job *j = calloc(1, sizeof(*j));
    if (!j || !st)
        goto oom;
    j->w = w;
    j->step_id = req->step_id;
    j->collect_stats = req->collect_stats;
    j->done = done;
    j->arg = arg;
    pthread_mutex_lock(&w->mu);
    for (int i = 0; i < w->num_graphs; i++)
        if (!strcmp(w->graphs[i].handle, req->graph_handle)) {
            j->session = w->graphs[i].session;
            j->has_remote = w->graphs[i].has_remote;
        }
    pthread_mutex_unlock(&w->mu);
    if (!j->session) {
        sl_status_set(st, SL_NOT_FOUND, "%s: no graph '%s' is registered", w->task_name, req->graph_handle);
        goto fail;
    }
    size_t nf = req->n_send + (j->has_remote ? 1 : 0);
    j->feed_names = calloc(nf + 1, sizeof(char *));
    j->feeds = calloc(nf + 1, sizeof(sl_tensor *));
    j->fetch_names = calloc(req->n_recv_key + 1, sizeof(char *));
    j->targets = calloc(req->n_target + 1, sizeof(char *));
    if (!j->feed_names || !j->feeds || !j->fetch_names || !j->targets)
        goto oom;
    for (size_t i = 0; i < req->n_send; i++) {
        const Sluice__Dist__NamedTensor *nt = req->send[i];
        if (!nt->tensor) {
            sl_status_set(st, SL_INVALID_ARGUMENT, "%s: feed '%s' has no tensor", w->task_name, nt->name);
            goto fail;
        }
        sl_tensor *t = sl_dist_tensor_from_msg(nt->tensor, st);
        if (!t) {
            sl_status_prefix(st, "%s: feed '%s'", w->task_name, nt->name);
            goto fail;
        }
        j->feeds[j->num_feeds] = t;
        if (!(j->feed_names[j->num_feeds++] = strdup(nt->name)))
            goto oom;
    }
    if (j->has_remote) {
        if (!(j->feeds[j->num_feeds] = sl_tensor_new_scalar_int64(req->step_id, st)))
            goto fail;
        if (!(j->feed_names[j->num_feeds++] = strdup(STEP_ID_NODE)))
            goto oom;
    }
    for (size_t i = 0; i < req->n_recv_key; i++)
        if (!(j->fetch_names[j->num_fetches++] = strdup(req->recv_key[i])))
            goto oom;
    for (size_t i = 0; i < req->n_target; i++)
        if (!(j->targets[j->num_targets++] = strdup(req->target[i])))
            goto oom;
    pthread_mutex_lock(&w->mu);
    w->running++;
    pthread_mutex_unlock(&w->mu);
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    pthread_t th;
    int rc = pthread_create(&th, &attr, run_thread, j);
    pthread_attr_destroy(&attr);
    if (rc != 0) {
        pthread_mutex_lock(&w->mu);
        w->running--;
        pthread_mutex_unlock(&w->mu);
        sl_status_set(st, SL_RESOURCE_EXHAUSTED, "%s: cannot start a thread for step %lld", w->task_name,
                      (long long)req->step_id);
        goto fail;
    }
    sl_status_free(st);
    return;
oom:
    sl_status_set(st, SL_RESOURCE_EXHAUSTED, "%s: out of memory", w->task_name);
fail:
    done(arg, NULL, st);
    if (j)
        run_job_free(j);
    sl_status_free(st);
}

sl_code sl_dist_worker_put_tensor(sl_dist_worker *w, int64_t step, const char *key, sl_tensor *t, sl_status *st)
{
    return sl_dist_steps_send(w->steps, step, key, t, st);
}
