/* `sluice train SPEC [--steps N] [--quiet]`: trains the graph a run spec
 * (run_spec.proto, text format) names.
 *
 * It loads the graph and the datasets, adds the optimizer's gradients and
 * updates (unless the spec names a train op), summary ops (scalars of the
 * loss and metrics, histograms of the trainable variables) writing through
 * a summary-writer resource into <run_dir>/train, and a saver over every
 * variable into <run_dir>.  It restores the newest checkpoint of the run
 * directory when there is one (refusing, before anything is written, one
 * whose tensors do not match the graph), else initializes the variables;
 * then it trains from the global step to `steps` with shuffled batches
 * (the shuffle is a function of the seed and the epoch, so a resumed run
 * sees the batches it would have seen), shows a progress bar on a
 * terminal (plain lines otherwise), checkpoints every N steps or seconds
 * and at the end (Ctrl-C stops cleanly with a checkpoint), and finally
 * evaluates the metrics on eval_data.  The run directory gets the spec,
 * the training graph, event files (train/ and eval/) and checkpoints. */
#include "config.h"

#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "client.h"
#include "commands.h"
#include "data-parallel.h"
#include "run_spec.pb-c.h"
#include "sluice/alloc.h"
#include "sluice/gpu.h"
#include "sluice/layers.h"
#include "sluice/optimizers.h"
#include "sluice/saver.h"
#include "sluice/session.h"
#include "sluice/summaries/writer.h"
#include "textformat.h"
#include "train-data.h"

#define MAX_INPUTS 16
#define MAX_METRICS 8

static volatile sig_atomic_t interrupted;

static void on_sigint(int sig)
{
    (void)sig;
    interrupted = 1;
}

typedef struct trainer {
    Sluice__RunSpec *spec;
    char *base;                 /* folder of the spec */
    char *run_dir;
    sl_graph *g;
    sl_client_session *s;
    /* data-parallel on a cluster: nw replicas "replica_k/..." */
    const char *cluster;
    char *token;
    bool use_gpu;               /* --gpu: local session on GPU:0 when present */
    int nw, nps;
    bool async;                        /* asynchronous: one train op per replica */
    char **replica_train_ops;          /* async: "Adam/train", "Adam/train_1", ... (nw) */
    int64_t replica_updates[64];       /* async: the updates each replica applied in this run */
    const char *loss_name;             /* "dp/loss" or the spec's loss */
    const char *metric_names[MAX_METRICS];
    char dp_metric_buf[MAX_METRICS][32];
    sl_saver *saver;
    sl_dataset *train;
    sl_dataset *eval;
    int ninputs;
    const char *ph_names[MAX_INPUTS];
    sl_dtype ph_types[MAX_INPUTS];
    sl_shape ph_shapes[MAX_INPUTS];
    char *train_op;
    bool has_summaries;
    sl_summary_writer *cli_writer;  /* graph, examples/s */
    sl_summary_writer *eval_writer;
    int64_t *perm;
    int64_t perm_epoch;
    bool quiet;
    bool tty;
} trainer;

static int fail(sl_status *st, const char *what)
{
    return sl_cli_error("%s%s%s", what ? what : "", what ? ": " : "", sl_status_message(st));
}

static sl_code run(trainer *t, const char *const *feed_names, sl_tensor *const *feeds, int nf,
                   const char *const *fetch, sl_tensor **outs, int nfetch, const char *const *targets, int nt,
                   sl_status *st)
{
    return sl_client_session_run(t->s, NULL, feed_names, feeds, nf, fetch, outs, nfetch, targets, nt, st);
}

/* The saver's steps through the client session (local or on the cluster). */
static sl_code saver_run(void *ctx, const char *feed, sl_tensor *prefix, const char *target, sl_status *st)
{
    return run((trainer *)ctx, &feed, &prefix, 1, NULL, NULL, 0, &target, 1, st);
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int mkdirs(const char *path)
{
    char buf[4096];
    snprintf(buf, sizeof(buf), "%s", path);
    for (char *p = buf + 1;; p++) {
        char c = *p;
        if (c == '/' || c == '\0') {
            *p = '\0';
            if (mkdir(buf, 0777) != 0 && errno != EEXIST)
                return -1;
            *p = c;
        }
        if (!c)
            return 0;
    }
}

static char *read_text(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *b = malloc((size_t)n + 1);
    if (b && fread(b, 1, (size_t)n, f) != (size_t)n) {
        free(b);
        b = NULL;
    }
    if (b)
        b[n] = '\0';
    *len = (size_t)n;
    fclose(f);
    return b;
}

/* ---- Building the training graph ------------------------------------------- */

static bool find_tensor(trainer *t, const char *what, const char *name, sl_output *out, sl_status *st)
{
    char node[512];
    int idx = 0;
    snprintf(node, sizeof(node), "%s", name ? name : "");
    char *colon = strrchr(node, ':');
    if (colon) {
        idx = atoi(colon + 1);
        *colon = '\0';
    }
    sl_node *n = node[0] ? sl_graph_find_node(t->g, node) : NULL;
    if (!n || idx < 0 || idx >= sl_node_num_outputs(n)) {
        sl_status_set(st, SL_NOT_FOUND, "%s '%s' is not a tensor of graph '%s'", what, name ? name : "",
                      t->spec->graph);
        return false;
    }
    *out = (sl_output){n, idx};
    return true;
}

static sl_output str_const(sl_graph *g, const char *name, const char *v, sl_status *st)
{
    sl_shape sc = sl_shape_scalar();
    sl_tensor *t = sl_tensor_new(SL_DTYPE_STRING, &sc, st);
    if (!t)
        return (sl_output){NULL, 0};
    sl_tensor_set_string(t, 0, v, strlen(v), st);
    sl_node_builder *b = sl_node_builder_new(g, "Const", name);
    sl_node_builder_set_attr_type(b, "dtype", SL_DTYPE_STRING);
    sl_node_builder_set_attr_tensor(b, "value", t);
    sl_tensor_unref(t);
    return (sl_output){sl_node_builder_finish(b, st), 0};
}

static sl_node *op_node(sl_graph *g, const char *type, const char *name, int n, const sl_output *in, sl_status *st)
{
    sl_node_builder *b = sl_node_builder_new(g, type, name);
    for (int i = 0; i < n; i++) {
        if (!in[i].node) {
            sl_node_builder_abandon(b);
            return NULL;
        }
        sl_node_builder_add_input(b, in[i]);
    }
    return sl_node_builder_finish(b, st);
}

/* Summary ops writing into <run_dir>/train: "summaries/write_scalars" and
 * "summaries/write_histograms", fed the step through "summaries/step". */
static bool add_summaries(trainer *t, sl_output loss, const sl_output *metrics, int nm, sl_status *st)
{
    sl_graph *g = t->g;
    char logdir[4096];
    snprintf(logdir, sizeof(logdir), "%s/train", t->run_dir);
    if (sl_graph_push_scope(g, "summaries", st) != SL_OK)
        return false;
    bool ok = false;
    sl_node_builder *b = sl_node_builder_new(g, "Placeholder", "step");
    sl_node_builder_set_attr_type(b, "dtype", SL_DTYPE_INT64);
    sl_shape sc = sl_shape_scalar();
    sl_node_builder_set_attr_shape(b, "shape", &sc);
    sl_output step = {sl_node_builder_finish(b, st), 0};
    sl_output writer = {op_node(g, "SummaryWriter", "writer", 0, NULL, st), 0};
    sl_output in5[5] = {writer, str_const(g, "logdir", logdir, st), {NULL, 0}, {NULL, 0}, str_const(g, "suffix", "", st)};
    sl_tensor *mq = sl_tensor_new_scalar_int32(20, st), *fm = sl_tensor_new_scalar_int32(2000, st);
    for (int i = 0; i < 2; i++) {
        b = sl_node_builder_new(g, "Const", i ? "flush_millis" : "max_queue");
        sl_node_builder_set_attr_type(b, "dtype", SL_DTYPE_INT32);
        sl_node_builder_set_attr_tensor(b, "value", i ? fm : mq);
        in5[2 + i] = (sl_output){sl_node_builder_finish(b, st), 0};
    }
    sl_tensor_unref(mq);
    sl_tensor_unref(fm);
    if (!step.node || !op_node(g, "CreateSummaryFileWriter", "create", 5, in5, st))
        goto out;
    sl_output parts[MAX_METRICS + 1];
    int np = 0;
    parts[np++] = (sl_output){op_node(g, "ScalarSummary", "loss", 2,
                                      (sl_output[]){str_const(g, "loss_tag", "loss", st), loss}, st),
                              0};
    for (int i = 0; i < nm; i++) {
        char tn[64];
        snprintf(tn, sizeof(tn), "metric_%d_tag", i);
        sl_output tag = str_const(g, tn, t->spec->metric[i]->name, st);
        snprintf(tn, sizeof(tn), "metric_%d", i);
        parts[np++] = (sl_output){op_node(g, "ScalarSummary", tn, 2, (sl_output[]){tag, metrics[i]}, st), 0};
    }
    b = sl_node_builder_new(g, "MergeSummary", "merged_scalars");
    sl_node_builder_add_input_list(b, parts, np);
    sl_output merged = {sl_node_builder_finish(b, st), 0};
    if (!merged.node || !op_node(g, "WriteRawProtoSummary", "write_scalars", 3, (sl_output[]){writer, step, merged}, st))
        goto out;
    sl_output vars[256];
    int nv = sl_trainable_variables(g, vars, 256);
    sl_output *hist = calloc((size_t)nv + 1, sizeof(*hist));
    int nh = 0;
    for (int i = 0; hist && i < nv && i < 256; i++) {
        char tn[64];
        snprintf(tn, sizeof(tn), "hist_%d_tag", i);
        sl_output tag = str_const(g, tn, sl_node_name(vars[i].node), st);
        snprintf(tn, sizeof(tn), "hist_%d", i);
        hist[nh] = (sl_output){op_node(g, "HistogramSummary", tn, 2, (sl_output[]){tag, vars[i]}, st), 0};
        if (!hist[nh++].node) {
            free(hist);
            goto out;
        }
    }
    if (nh > 0) {
        b = sl_node_builder_new(g, "MergeSummary", "merged_histograms");
        sl_node_builder_add_input_list(b, hist, nh);
        sl_output mh = {sl_node_builder_finish(b, st), 0};
        if (!mh.node || !op_node(g, "WriteRawProtoSummary", "write_histograms", 3, (sl_output[]){writer, step, mh}, st)) {
            free(hist);
            goto out;
        }
    }
    free(hist);
    if (!op_node(g, "FlushSummaryWriter", "flush", 1, &writer, st) ||
        !op_node(g, "CloseSummaryWriter", "close", 1, &writer, st))
        goto out;
    ok = true;
out:
    sl_graph_pop_scope(g);
    return ok;
}

static bool parse_optimizer(const Sluice__Optimizer *o, sl_optimizer_options *out, sl_status *st)
{
    static const char *const kinds[] = {"sgd", "momentum", "adam", "adagrad", "rmsprop"};
    const char *k = o && o->kind && o->kind[0] ? o->kind : "adam";
    int kind = -1;
    for (int i = 0; i < 5; i++)
        if (!strcmp(k, kinds[i]))
            kind = i;
    if (kind < 0) {
        sl_status_set(st, SL_INVALID_ARGUMENT, "unknown optimizer \"%s\" (sgd, momentum, adam, adagrad, rmsprop)", k);
        return false;
    }
    sl_optimizer_options_init(out, (sl_optimizer_kind)kind);
    if (!o)
        return true;
    if (o->learning_rate > 0)
        out->learning_rate = o->learning_rate;
    if (o->momentum > 0)
        out->momentum = o->momentum;
    out->nesterov = o->nesterov;
    out->clip_global_norm = o->clip_global_norm;
    if (o->decay_rate > 0) {
        out->schedule = SL_LR_EXPONENTIAL_DECAY;
        out->decay_rate = o->decay_rate;
        out->decay_steps = o->decay_steps > 0 ? o->decay_steps : 1000;
        out->staircase = o->staircase;
    }
    return true;
}

/* "dp/<what>": the mean over the replicas of "replica_k/<tensor>". */
static bool dp_mean(trainer *t, const char *what, const char *tensor, sl_output *out, sl_status *st)
{
    sl_output parts[64];
    if (t->nw > 64) {
        sl_status_set(st, SL_INVALID_ARGUMENT, "at most 64 worker tasks");
        return false;
    }
    for (int k = 0; k < t->nw; k++) {
        char name[600];
        if (!find_tensor(t, what, sl_dp_name(name, sizeof(name), k, tensor), &parts[k], st))
            return false;
    }
    sl_dtype dt = sl_node_output_type(parts[0].node, parts[0].index);
    if (dt != SL_DTYPE_FLOAT && dt != SL_DTYPE_DOUBLE) {
        sl_status_set(st, SL_INVALID_ARGUMENT, "%s '%s' is %s: on a cluster it must be float or double", what, tensor,
                      sl_dtype_name(dt));
        return false;
    }
    char name[64];
    snprintf(name, sizeof(name), "dp/%s_sum", what);
    sl_node_builder *b = sl_node_builder_new(t->g, "AddN", name);
    sl_node_builder_add_input_list(b, parts, t->nw);
    sl_output sum = {sl_node_builder_finish(b, st), 0};
    sl_shape sc = sl_shape_scalar();
    sl_tensor *inv = sl_tensor_new(dt, &sc, st);
    if (!sum.node || !inv) {
        sl_tensor_unref(inv);
        return false;
    }
    if (dt == SL_DTYPE_FLOAT)
        *(float *)sl_tensor_data(inv) = 1.0f / (float)t->nw;
    else
        *(double *)sl_tensor_data(inv) = 1.0 / (double)t->nw;
    snprintf(name, sizeof(name), "dp/%s_scale", what);
    b = sl_node_builder_new(t->g, "Const", name);
    sl_node_builder_set_attr_type(b, "dtype", dt);
    sl_node_builder_set_attr_tensor(b, "value", inv);
    sl_tensor_unref(inv);
    sl_output scale = {sl_node_builder_finish(b, st), 0};
    snprintf(name, sizeof(name), "dp/%s", what);
    out->node = op_node(t->g, "Mul", name, 2, (sl_output[]){sum, scale}, st);
    out->index = 0;
    return out->node != NULL;
}

static bool build(trainer *t, sl_status *st)
{
    Sluice__RunSpec *sp = t->spec;
    char *gp = sl_train_path(t->base, sp->graph);
    t->g = gp ? sl_graph_load(gp, NULL, st) : NULL;
    free(gp);
    if (!t->g)
        return false;
    sl_output loss, metrics[MAX_METRICS];
    if (!find_tensor(t, "loss", sp->loss, &loss, st))
        return false;
    if (sp->n_metric > MAX_METRICS || sp->n_input == 0 || sp->n_input > MAX_INPUTS) {
        sl_status_set(st, SL_INVALID_ARGUMENT, "a run spec needs 1 to %d inputs and at most %d metrics", MAX_INPUTS,
                      MAX_METRICS);
        return false;
    }
    for (size_t i = 0; i < sp->n_metric; i++)
        if (!find_tensor(t, "metric", sp->metric[i]->tensor, &metrics[i], st))
            return false;
    t->ninputs = (int)sp->n_input;
    for (int i = 0; i < t->ninputs; i++) {
        sl_output ph;
        if (!find_tensor(t, "input placeholder", sp->input[i]->placeholder, &ph, st))
            return false;
        t->ph_names[i] = sp->input[i]->placeholder;
        t->ph_types[i] = sl_node_output_type(ph.node, 0);
        if (!sl_node_attr_shape(ph.node, "shape", &t->ph_shapes[i]))
            t->ph_shapes[i] = sl_shape_unknown();
    }
    if (sp->training_flag && sp->training_flag[0]) {
        sl_output tf;
        if (!find_tensor(t, "training flag", sp->training_flag, &tf, st))
            return false;
    }
    t->loss_name = sp->loss;
    for (size_t i = 0; i < sp->n_metric; i++)
        t->metric_names[i] = sp->metric[i]->tensor;
    if (t->cluster) {
        if (sp->train_op && sp->train_op[0]) {
            sl_status_set(st, SL_INVALID_ARGUMENT, "on a cluster the run spec needs an optimizer, not a train op "
                                                   "(the gradients are summed over the replicas)");
            return false;
        }
        sl_graph *rg = sl_dp_replicate(t->g, t->nw, t->nps, st);
        if (!rg)
            return false;
        sl_graph_free(t->g);
        t->g = rg;
        /* async: each replica's loss and metrics are fetched by its own
         * steps; nothing is averaged */
        if (!t->async && !dp_mean(t, "loss", sp->loss, &loss, st))
            return false;
        if (!t->async)
            t->loss_name = "dp/loss";
        for (size_t i = 0; !t->async && i < sp->n_metric; i++) {
            snprintf(t->dp_metric_buf[i], sizeof(t->dp_metric_buf[i]), "metric_%d", (int)i);
            if (!dp_mean(t, t->dp_metric_buf[i], sp->metric[i]->tensor, &metrics[i], st))
                return false;
            snprintf(t->dp_metric_buf[i], sizeof(t->dp_metric_buf[i]), "dp/metric_%d", (int)i);
            t->metric_names[i] = t->dp_metric_buf[i];
        }
    }
    if (sp->train_op && sp->train_op[0]) {
        sl_output op;
        if (!find_tensor(t, "train op", sp->train_op, &op, st))
            return false;
        t->train_op = strdup(sp->train_op);
    } else {
        sl_optimizer_options o;
        if (!parse_optimizer(sp->optimizer, &o, st))
            return false;
        sl_output vars[256];
        int nv = sl_trainable_variables(t->g, vars, 256);
        if (nv == 0 || nv > 256) {
            sl_status_set(st, SL_INVALID_ARGUMENT, "graph '%s' has %d trainable variables", sp->graph, nv);
            return false;
        }
        if (t->async) {
            /* one optimizer, one train op per replica: replica k's
             * gradients go straight into the shared variables */
            sl_output losses[64];
            sl_node *trains[64];
            for (int k = 0; k < t->nw; k++) {
                char name[600];
                if (!find_tensor(t, "loss", sl_dp_name(name, sizeof(name), k, sp->loss), &losses[k], st))
                    return false;
            }
            if (sl_optimizer_minimize_each(t->g, &o, losses, t->nw, vars, nv, trains, st) != SL_OK)
                return false;
            if (!(t->replica_train_ops = calloc((size_t)t->nw, sizeof(char *))))
                return false;
            for (int k = 0; k < t->nw; k++)
                if (!(t->replica_train_ops[k] = strdup(sl_node_name(trains[k]))))
                    return false;
            t->train_op = strdup(t->replica_train_ops[0]);
        } else {
            sl_node *train = sl_optimizer_minimize(t->g, &o, loss, vars, nv, st);
            if (!train)
                return false;
            t->train_op = strdup(sl_node_name(train));
        }
    }
    if (!sl_global_step(t->g, st).node)
        return false;
    if (!sl_graph_find_node(t->g, "sluice_init") && !sl_variables_initializer(t->g, "sluice_init", st))
        return false;
    /* on a cluster the chief (this process) writes the scalars itself */
    t->has_summaries = !t->cluster && sp->summary_every_steps >= 0;
    if (t->has_summaries && !add_summaries(t, loss, metrics, (int)sp->n_metric, st))
        return false;
    sl_saver_options so = SL_SAVER_OPTIONS_INIT;
    so.directory = t->run_dir;
    so.max_to_keep = sp->keep_checkpoints > 0 ? sp->keep_checkpoints : 5;
    so.every_steps = sp->checkpoint_every_steps > 0 ? sp->checkpoint_every_steps : 500;
    so.every_seconds = sp->checkpoint_every_seconds;
    if (!(t->saver = sl_saver_new(t->g, NULL, 0, &so, st)))
        return false;
    sl_saver_set_runner(t->saver, saver_run, t);
    if (t->cluster) {
        sl_graph *pg = sl_dp_place(t->g, t->nw, t->nps, st);
        if (!pg)
            return false;
        sl_graph_free(t->g);
        t->g = pg;      /* saved as <run_dir>/graph.pbtxt, devices and all */
    }
    sl_client_options co = SL_CLIENT_OPTIONS_INIT;
    co.cluster = t->cluster;
    co.token = t->token;
    co.inter_op_threads = sp->threads;
    co.use_gpu = t->use_gpu;
    if (t->use_gpu && !t->quiet)  /* which GPU, or why there is none ("...; running on the CPU") */
        fprintf(stderr, "sluice train: %s\n", sl_gpu_message());
    /* on a cluster, a task that does not answer yet (just started, or a
     * loaded machine) is waited for a while, as after a failed step */
    double t0 = now_s();
    while (!(t->s = sl_client_session_new(t->g, &co, st)) && t->cluster && !interrupted &&
           sl_status_code(st) == SL_UNAVAILABLE && now_s() - t0 < 30) {
        fprintf(stderr, "sluice: waiting for the cluster: %s\n", sl_status_message(st));
        struct timespec ts = {1, 0};
        nanosleep(&ts, NULL);
    }
    return t->s != NULL;
}

/* ---- Batches ------------------------------------------------------------------ */

static uint64_t rng_next(uint64_t *s)
{
    *s += 0x9e3779b97f4a7c15ull;
    uint64_t z = *s;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

/* The permutation of epoch e (a function of the seed and e only). */
static void epoch_perm(trainer *t, int64_t e)
{
    if (t->perm_epoch == e)
        return;
    int64_t n = t->train->n;
    for (int64_t i = 0; i < n; i++)
        t->perm[i] = i;
    uint64_t s = (uint64_t)t->spec->seed * 1000003u + (uint64_t)e;
    for (int64_t i = n - 1; i > 0; i--) {
        int64_t j = (int64_t)(rng_next(&s) % (uint64_t)(i + 1));
        int64_t tmp = t->perm[i];
        t->perm[i] = t->perm[j];
        t->perm[j] = tmp;
    }
    t->perm_epoch = e;
}

/* Feed tensors for rows idx[0..b) of d. */
static bool make_feeds(trainer *t, const sl_dataset *d, const int64_t *idx, int64_t b, sl_tensor **feeds,
                       sl_status *st)
{
    for (int i = 0; i < t->ninputs; i++) {
        const sl_column *c = &d->cols[i];
        sl_shape s = t->ph_shapes[i];
        if (s.rank < 0) {
            s = c->per == 1 ? sl_shape_vector(b) : sl_shape_matrix(b, c->per);
        } else {
            int64_t rest = 1;
            for (int k = 1; k < s.rank; k++)
                rest *= s.dims[k];
            if (s.rank == 0 || rest != c->per) {
                char buf[SL_SHAPE_STRING_MAX];
                sl_status_set(st, SL_INVALID_ARGUMENT,
                              "placeholder '%s' of shape %s cannot take %lld values per example of its feature",
                              t->ph_names[i], sl_shape_to_string(&t->ph_shapes[i], buf, sizeof(buf)),
                              (long long)c->per);
                return false;
            }
            s.dims[0] = b;
        }
        sl_dtype dt = t->ph_types[i];
        if (!(feeds[i] = sl_tensor_new(dt, &s, st)))
            return false;
        void *out = sl_tensor_data(feeds[i]);
        for (int64_t r = 0; r < b; r++)
            for (int64_t k = 0; k < c->per; k++) {
                int64_t src = idx[r] * c->per + k, dst = r * c->per + k;
                double v = c->is_float ? ((const float *)c->data)[src] : (double)((const int64_t *)c->data)[src];
                switch (dt) {
                case SL_DTYPE_FLOAT: ((float *)out)[dst] = (float)v; break;
                case SL_DTYPE_DOUBLE: ((double *)out)[dst] = v; break;
                case SL_DTYPE_INT32: ((int32_t *)out)[dst] = (int32_t)v; break;
                case SL_DTYPE_INT64: ((int64_t *)out)[dst] = (int64_t)v; break;
                default:
                    sl_status_set(st, SL_INVALID_ARGUMENT, "placeholder '%s' is %s: only float, double, int32 and "
                                  "int64 placeholders can be fed from datasets", t->ph_names[i], sl_dtype_name(dt));
                    return false;
                }
            }
    }
    return true;
}

static void free_feeds(sl_tensor **f, int n)
{
    for (int i = 0; i < n; i++) {
        sl_tensor_unref(f[i]);
        f[i] = NULL;
    }
}

static double scalar_of(const sl_tensor *x)
{
    if (!x)
        return NAN;
    switch (sl_tensor_dtype(x)) {
    case SL_DTYPE_FLOAT: return *(const float *)sl_tensor_data(x);
    case SL_DTYPE_DOUBLE: return *(const double *)sl_tensor_data(x);
    case SL_DTYPE_INT64: return (double)*(const int64_t *)sl_tensor_data(x);
    case SL_DTYPE_INT32: return *(const int32_t *)sl_tensor_data(x);
    default: return NAN;
    }
}

/* ---- Training ----------------------------------------------------------------- */

static int64_t read_global_step(trainer *t, sl_status *st)
{
    const char *name = "global_step";
    sl_tensor *v = NULL;
    if (run(t, NULL, NULL, 0, &name, &v, 1, NULL, 0, st) != SL_OK)
        return -1;
    int64_t s = *(int64_t *)sl_tensor_data(v);
    sl_tensor_unref(v);
    return s;
}

static void progress(trainer *t, int64_t step, int64_t total, double loss, const double *mv, double eps, double eta,
                     bool final)
{
    if (t->quiet)
        return;
    char metrics[256] = "";
    size_t off = 0;
    for (size_t i = 0; i < t->spec->n_metric && off < sizeof(metrics); i++)
        off += (size_t)snprintf(metrics + off, sizeof(metrics) - off, " %s %.4f", t->spec->metric[i]->name, mv[i]);
    if (t->tty) {
        int width = 24, done = total > 0 ? (int)(width * step / total) : width;
        char bar[32];
        for (int i = 0; i < width; i++)
            bar[i] = i < done ? '#' : '.';
        bar[width] = '\0';
        fprintf(stdout, "\r[%s] step %lld/%lld loss %.4f%s %.0f ex/s ETA %02d:%02d  ", bar, (long long)step,
                (long long)total, loss, metrics, eps, (int)(eta / 60), (int)fmod(eta, 60));
        if (final)
            fputc('\n', stdout);
    } else {
        fprintf(stdout, "step %lld/%lld loss %.6f%s %.0f ex/s\n", (long long)step, (long long)total, loss, metrics, eps);
    }
    fflush(stdout);
}

/* A DeviceStepStats.thread_names entry with its string. */
typedef struct {
    Tensorflow__DeviceStepStats__ThreadNamesEntry e;
    char name[24];
} thread_name;

/* One step's statistics as TF's StepStats (one DeviceStepStats per
 * device, the nodes in completion order) in the train/ event file.
 * thread_id 0 is the thread that called the step, k + 1 the pool's
 * thread k; thread_names says which. */
static void write_step_stats(trainer *t, const sl_step_stats *ss, int64_t step)
{
    int nd = ss->num_devices > 0 ? ss->num_devices : 1;
    Tensorflow__DeviceStepStats *devs = calloc((size_t)nd, sizeof(*devs));
    Tensorflow__DeviceStepStats **devp = calloc((size_t)nd, sizeof(*devp));
    Tensorflow__NodeExecStats *nodes = calloc((size_t)ss->num_nodes + 1, sizeof(*nodes));
    Tensorflow__NodeExecStats **nodep = calloc((size_t)ss->num_nodes + 1, sizeof(*nodep));
    /* TF's timeline_label, "name = Op()": the board's timeline reads the op from it */
    char **labels = calloc((size_t)ss->num_nodes + 1, sizeof(*labels));
    thread_name *names = calloc((size_t)ss->num_nodes + 1, sizeof(*names));
    Tensorflow__DeviceStepStats__ThreadNamesEntry **namep = calloc((size_t)ss->num_nodes + 1, sizeof(*namep));
    int n_names = 0;
    if (!devs || !devp || !nodes || !nodep || !labels || !names || !namep)
        goto out;
    for (int d = 0; d < nd; d++) {
        tensorflow__device_step_stats__init(&devs[d]);
        devs[d].device = (char *)(ss->num_devices > 0 ? ss->devices[d].device : "/job:localhost/replica:0/task:0/device:CPU:0");
        devp[d] = &devs[d];
    }
    /* nodes grouped by device: each device's run of pointers in nodep */
    int at = 0;
    for (int d = 0; d < nd; d++) {
        devs[d].node_stats = nodep + at;
        for (int k = 0; k < ss->num_nodes; k++) {
            const sl_node_stats *ns = &ss->nodes[k];
            bool mine = ss->num_devices <= 1 || (ns->device && !strcmp(ns->device, devs[d].device));
            if (!mine)
                continue;
            Tensorflow__NodeExecStats *n = &nodes[at];
            tensorflow__node_exec_stats__init(n);
            n->node_name = (char *)ns->node_name;
            n->all_start_micros = ns->start_us;
            n->op_start_rel_micros = 0;
            n->op_end_rel_micros = ns->end_us - ns->start_us;
            n->all_end_rel_micros = ns->end_us - ns->start_us;
            n->thread_id = (uint32_t)(ns->thread_id < 0 ? 0 : ns->thread_id + 1);
            bool named = false;
            for (size_t q = 0; q < devs[d].n_thread_names && !named; q++)
                named = devs[d].thread_names[q]->key == n->thread_id;
            if (!named) {
                thread_name *tn = &names[n_names];
                tensorflow__device_step_stats__thread_names_entry__init(&tn->e);
                tn->e.key = n->thread_id;
                if (n->thread_id == 0)
                    snprintf(tn->name, sizeof(tn->name), "caller");
                else
                    snprintf(tn->name, sizeof(tn->name), "pool-%u", n->thread_id - 1);
                tn->e.value = tn->name;
                if (!devs[d].thread_names)
                    devs[d].thread_names = namep + n_names;
                namep[n_names++] = &tn->e;
                devs[d].n_thread_names++;
            }
            if (ns->op && ns->node_name) {
                size_t len = strlen(ns->node_name) + strlen(ns->op) + 6;
                labels[at] = malloc(len);
                if (labels[at]) {
                    snprintf(labels[at], len, "%s = %s()", ns->node_name, ns->op);
                    n->timeline_label = labels[at];
                }
            }
            nodep[at++] = n;
            devs[d].n_node_stats++;
        }
    }
    Tensorflow__StepStats stats = TENSORFLOW__STEP_STATS__INIT;
    stats.n_dev_stats = (size_t)nd;
    stats.dev_stats = devp;
    char tag[32];
    snprintf(tag, sizeof(tag), "step%lld", (long long)step);
    sl_summary_writer_add_step_stats(t->cli_writer, tag, &stats, step, 0, NULL);
    sl_summary_writer_flush(t->cli_writer, NULL);
out:
    if (labels)
        for (int k = 0; k < ss->num_nodes; k++)
            free(labels[k]);
    free(labels);
    free(names);
    free(namep);
    free(devs);
    free(devp);
    free(nodes);
    free(nodep);
}

static bool train_loop(trainer *t, int64_t start, int64_t steps, sl_status *st)
{
    Sluice__RunSpec *sp = t->spec;
    int64_t bs = sp->batch_size > 0 ? sp->batch_size : 64;
    int64_t n = t->train->n;
    if (bs > n)
        bs = n;
    int64_t every = sp->summary_every_steps > 0 ? sp->summary_every_steps : 50;
    int64_t hist_every = sp->histogram_every_steps > 0 ? sp->histogram_every_steps : 500;
    int64_t print_every = t->tty ? 1 : every;
    int nm = (int)sp->n_metric;
    const char *fetch[1 + MAX_METRICS];
    fetch[0] = t->loss_name;
    for (int i = 0; i < nm; i++)
        fetch[1 + i] = t->metric_names[i];
    /* replica k is fed rows [k * shard, (k + 1) * shard) of the batch */
    int K = t->cluster ? t->nw : 1, nin = t->ninputs;
    int64_t shard = bs / K;
    size_t nslots = (size_t)K * (size_t)(nin + 1) + 2;
    const char **feed_names = calloc(nslots, sizeof(*feed_names));
    char **owned = calloc(nslots, sizeof(*owned));
    sl_tensor **feeds = calloc(nslots, sizeof(*feeds));
    sl_tensor *flag = NULL, *stepv = NULL;
    bool has_flag = sp->training_flag && sp->training_flag[0];
    bool ok = feed_names && owned && feeds;
    int nfeeds = 0;
    for (int k = 0; ok && k < K; k++)
        for (int i = 0; i < nin + has_flag; i++) {
            const char *base = i < nin ? t->ph_names[i] : sp->training_flag;
            int at = i < nin ? k * nin + i : K * nin + k;
            char name[600];
            ok = (owned[at] = strdup(t->cluster ? sl_dp_name(name, sizeof(name), k, base) : base)) != NULL;
            feed_names[at] = owned[at];
            nfeeds++;
        }
    if (ok && has_flag) {
        sl_shape sc = sl_shape_scalar();
        if ((flag = sl_tensor_new(SL_DTYPE_BOOL, &sc, st)) != NULL) {
            *(bool *)sl_tensor_data(flag) = true;
            for (int k = 0; k < K; k++)
                feeds[K * nin + k] = flag;
        }
        ok = flag != NULL;
    }
    int64_t *idx = malloc(sizeof(int64_t) * (size_t)bs);
    ok = ok && idx != NULL;
    double t0 = now_s(), last_t = t0;
    int64_t last_step = start;
    double eps = 0;
    for (int64_t step = start; ok && step < steps && !interrupted; step++) {
        for (int64_t r = 0; r < bs; r++) {
            int64_t k = step * bs + r;
            epoch_perm(t, k / n);
            idx[r] = t->perm[k % n];
        }
        for (int k = 0; ok && k < K; k++)
            ok = make_feeds(t, t->train, idx + k * shard, shard, feeds + k * nin, st);
        if (!ok) {
            free_feeds(feeds, K * nin);
            break;
        }
        const char *targets[3] = {t->train_op};
        int nt = 1, nf = nfeeds;
        bool want_scalars = t->has_summaries && (step + 1) % every == 0;
        bool want_hist = t->has_summaries && (step + 1) % hist_every == 0;
        if (want_scalars || want_hist) {
            if (!(stepv = sl_tensor_new_scalar_int64(step + 1, st))) {
                ok = false;
                break;
            }
            feed_names[nf] = "summaries/step";
            feeds[nf++] = stepv;
            if (want_scalars)
                targets[nt++] = "summaries/write_scalars";
            if (want_hist && sl_graph_find_node(t->g, "summaries/write_histograms"))
                targets[nt++] = "summaries/write_histograms";
        }
        sl_tensor *outs[1 + MAX_METRICS] = {NULL};
        bool want_trace = sp->trace_every_steps > 0 && (step + 1) % sp->trace_every_steps == 0 && t->cli_writer &&
                          !t->cluster;
        sl_run_options ro = SL_RUN_OPTIONS_INIT;
        ro.collect_step_stats = want_trace;
        sl_step_stats *ss = NULL;
        sl_code rc = sl_client_session_run_stats(t->s, want_trace ? &ro : NULL, feed_names, feeds, nf, fetch, outs,
                                                 1 + nm, targets, nt, want_trace ? &ss : NULL, st);
        if (ss && rc == SL_OK)
            write_step_stats(t, ss, step + 1);
        sl_step_stats_free(ss);
        free_feeds(feeds, K * nin);
        sl_tensor_unref(stepv);
        stepv = NULL;
        if (rc != SL_OK) {
            sl_status_prefix(st, "step %lld", (long long)step + 1);
            ok = false;
            break;
        }
        double loss = scalar_of(outs[0]), mv[MAX_METRICS];
        for (int i = 0; i < nm; i++)
            mv[i] = scalar_of(outs[1 + i]);
        for (int i = 0; i < 1 + nm; i++)
            sl_tensor_unref(outs[i]);
        if (t->cluster && t->cli_writer && sp->summary_every_steps >= 0 && (step + 1) % every == 0) {
            sl_summary_writer_add_scalar(t->cli_writer, "loss", (float)loss, step + 1, 0, NULL);
            for (int i = 0; i < nm; i++)
                sl_summary_writer_add_scalar(t->cli_writer, sp->metric[i]->name, (float)mv[i], step + 1, 0, NULL);
        }
        if (!isfinite(loss)) {
            sl_status_set(st, SL_INVALID_ARGUMENT, "step %lld: the loss is %g", (long long)step + 1, loss);
            ok = false;
            break;
        }
        double now = now_s();
        if (now - last_t >= 1.0 || step + 1 == steps || (step + 1) % print_every == 0) {
            if (now > last_t && step + 1 > last_step)
                eps = (double)((step + 1 - last_step) * bs) / (now - last_t);
            if (now - last_t >= 1.0) {
                if (t->cli_writer)
                    sl_summary_writer_add_scalar(t->cli_writer, "examples_per_sec", (float)eps, step + 1, 0, NULL);
                last_t = now;
                last_step = step + 1;
            }
        }
        if ((step + 1) % print_every == 0 || step + 1 == steps) {
            double rate = (double)(step + 1 - start) / fmax(now - t0, 1e-9);
            progress(t, step + 1, steps, loss, mv, eps, (double)(steps - step - 1) / fmax(rate, 1e-9),
                     step + 1 == steps);
        }
        bool saved;
        if (sl_saver_maybe_save(t->saver, NULL, step + 1, &saved, st) != SL_OK) {
            ok = false;
            break;
        }
    }
    if (t->tty && !t->quiet && interrupted)
        fputc('\n', stdout);
    free(idx);
    sl_tensor_unref(flag);
    for (size_t i = 0; owned && i < nslots; i++)
        free(owned[i]);
    free(owned);
    free(feed_names);
    free(feeds);
    return ok;
}

/* ---- Asynchronous data-parallel training (paper Figure 7) -------------------- */

/* One client thread per worker replica: each takes the next batch, runs
 * its replica's train op (the ps sends it the variables, it sends back
 * its gradients, the ps applies them) and goes on without waiting for the
 * others.  Batch b is the batch a local run takes at step b; `steps`
 * counts every replica's updates together. */
typedef struct async_run {
    trainer *t;
    pthread_mutex_t mu;
    int64_t next;           /* the next batch to hand out */
    int64_t done;           /* updates finished (the global step, as this client counts) */
    int64_t start, steps;
    bool failed;            /* a replica's step failed: the others stop */
    sl_status *err;         /* the first failure */
    double t0, last_t, eps;
    int64_t last_step;
} async_run;

typedef struct async_replica {
    async_run *a;
    int k;
} async_replica;

static void async_fail(async_run *a, const sl_status *st)
{
    pthread_mutex_lock(&a->mu);
    if (!a->failed) {
        a->failed = true;
        sl_status_copy(a->err, st);
    }
    pthread_mutex_unlock(&a->mu);
}

static void *async_replica_main(void *arg)
{
    async_replica *r = arg;
    async_run *a = r->a;
    trainer *t = a->t;
    Sluice__RunSpec *sp = t->spec;
    int k = r->k, nin = t->ninputs, nm = (int)sp->n_metric;
    int64_t bs = sp->batch_size > 0 ? sp->batch_size : 64, n = t->train->n;
    if (bs > n)
        bs = n;
    int64_t every = sp->summary_every_steps > 0 ? sp->summary_every_steps : 50;
    int64_t print_every = t->tty ? 1 : every;
    bool has_flag = sp->training_flag && sp->training_flag[0];
    char names[MAX_INPUTS + 2 + MAX_METRICS][600];
    const char *feed_names[MAX_INPUTS + 1], *fetch[1 + MAX_METRICS];
    sl_tensor *feeds[MAX_INPUTS + 1] = {NULL};
    for (int i = 0; i < nin; i++)
        feed_names[i] = sl_dp_name(names[i], sizeof(names[i]), k, t->ph_names[i]);
    if (has_flag)
        feed_names[nin] = sl_dp_name(names[nin], sizeof(names[nin]), k, sp->training_flag);
    fetch[0] = sl_dp_name(names[nin + 1], sizeof(names[0]), k, sp->loss);
    for (int i = 0; i < nm; i++)
        fetch[1 + i] = sl_dp_name(names[nin + 2 + i], sizeof(names[0]), k, sp->metric[i]->tensor);
    const char *target = t->replica_train_ops[k];
    sl_status *st = sl_status_new();
    sl_tensor *flag = NULL;
    int64_t *idx = malloc(sizeof(int64_t) * (size_t)bs);
    if (!st || !idx) {
        pthread_mutex_lock(&a->mu);
        if (!a->failed) {
            a->failed = true;
            sl_status_set(a->err, SL_RESOURCE_EXHAUSTED, "out of memory starting replica %d", k);
        }
        pthread_mutex_unlock(&a->mu);
        goto out;
    }
    if (has_flag) {
        sl_shape sc = sl_shape_scalar();
        if (!(flag = sl_tensor_new(SL_DTYPE_BOOL, &sc, st))) {
            async_fail(a, st);
            goto out;
        }
        *(bool *)sl_tensor_data(flag) = true;
    }
    for (;;) {
        pthread_mutex_lock(&a->mu);
        if (a->failed || interrupted || a->next >= a->steps) {
            pthread_mutex_unlock(&a->mu);
            break;
        }
        int64_t step = a->next++;
        for (int64_t row = 0; row < bs; row++) {
            int64_t e = step * bs + row;
            epoch_perm(t, e / n);
            idx[row] = t->perm[e % n];
        }
        pthread_mutex_unlock(&a->mu);
        if (!make_feeds(t, t->train, idx, bs, feeds, st)) {
            free_feeds(feeds, nin);
            async_fail(a, st);
            break;
        }
        feeds[nin] = flag;
        sl_tensor *outs[1 + MAX_METRICS] = {NULL};
        sl_code rc = run(t, feed_names, feeds, nin + has_flag, fetch, outs, 1 + nm, &target, 1, st);
        feeds[nin] = NULL;
        free_feeds(feeds, nin);
        if (rc != SL_OK) {
            sl_status_prefix(st, "step %lld (replica %d)", (long long)step + 1, k);
            async_fail(a, st);
            break;
        }
        double loss = scalar_of(outs[0]), mv[MAX_METRICS];
        for (int i = 0; i < nm; i++)
            mv[i] = scalar_of(outs[1 + i]);
        for (int i = 0; i < 1 + nm; i++)
            sl_tensor_unref(outs[i]);
        if (!isfinite(loss)) {
            sl_status_set(st, SL_INVALID_ARGUMENT, "step %lld (replica %d): the loss is %g", (long long)step + 1, k,
                          loss);
            async_fail(a, st);
            break;
        }
        /* the bookkeeping of the whole run, one replica at a time */
        pthread_mutex_lock(&a->mu);
        int64_t done = a->start + ++a->done;
        t->replica_updates[k]++;
        if (t->cli_writer && sp->summary_every_steps >= 0 && done % every == 0) {
            sl_summary_writer_add_scalar(t->cli_writer, "loss", (float)loss, done, 0, NULL);
            for (int i = 0; i < nm; i++)
                sl_summary_writer_add_scalar(t->cli_writer, sp->metric[i]->name, (float)mv[i], done, 0, NULL);
        }
        double now = now_s();
        if (now - a->last_t >= 1.0) {
            a->eps = (double)((done - a->last_step) * bs) / (now - a->last_t);
            if (t->cli_writer)
                sl_summary_writer_add_scalar(t->cli_writer, "examples_per_sec", (float)a->eps, done, 0, NULL);
            a->last_t = now;
            a->last_step = done;
        }
        if (done % print_every == 0 || done == a->steps) {
            double rate = (double)(done - a->start) / fmax(now - a->t0, 1e-9);
            if (a->eps == 0)
                a->eps = rate * (double)bs;
            progress(t, done, a->steps, loss, mv, a->eps, (double)(a->steps - done) / fmax(rate, 1e-9),
                     done == a->steps);
        }
        bool saved;
        if (!a->failed && sl_saver_maybe_save(t->saver, NULL, done, &saved, st) != SL_OK) {
            a->failed = true;
            sl_status_copy(a->err, st);
        }
        pthread_mutex_unlock(&a->mu);
    }
out:
    sl_tensor_unref(flag);
    free(idx);
    sl_status_free(st);
    return NULL;
}

static bool train_loop_async(trainer *t, int64_t start, int64_t steps, sl_status *st)
{
    async_run a = {.t = t, .next = start, .start = start, .steps = steps, .err = sl_status_new()};
    async_replica *reps = calloc((size_t)t->nw, sizeof(*reps));
    pthread_t *th = calloc((size_t)t->nw, sizeof(*th));
    if (!a.err || !reps || !th) {
        sl_status_free(a.err);
        free(reps);
        free(th);
        sl_status_set(st, SL_RESOURCE_EXHAUSTED, "out of memory");
        return false;
    }
    pthread_mutex_init(&a.mu, NULL);
    a.t0 = a.last_t = now_s();
    a.last_step = start;
    int started = 0;
    for (int k = 0; k < t->nw; k++) {
        reps[k] = (async_replica){&a, k};
        if (pthread_create(&th[k], NULL, async_replica_main, &reps[k]) != 0) {
            pthread_mutex_lock(&a.mu);
            if (!a.failed) {
                a.failed = true;
                sl_status_set(a.err, SL_RESOURCE_EXHAUSTED, "cannot start the thread of replica %d", k);
            }
            pthread_mutex_unlock(&a.mu);
            break;
        }
        started++;
    }
    for (int k = 0; k < started; k++)
        pthread_join(th[k], NULL);
    bool ok = !a.failed;
    if (!ok)
        sl_status_copy(st, a.err);
    pthread_mutex_destroy(&a.mu);
    sl_status_free(a.err);
    free(reps);
    free(th);
    return ok;
}

/* Mean of the loss and metrics over eval_data (weighted by batch size). */
static bool evaluate(trainer *t, int64_t step, sl_status *st)
{
    Sluice__RunSpec *sp = t->spec;
    int nm = (int)sp->n_metric;
    /* on a cluster: replica 0 alone, on the current variables */
    char names[1 + MAX_METRICS + MAX_INPUTS][600];
    const char *fetch[1 + MAX_METRICS], *eval_names[MAX_INPUTS];
    fetch[0] = sp->loss;
    for (int i = 0; i < nm; i++)
        fetch[1 + i] = sp->metric[i]->tensor;
    for (int i = 0; i < t->ninputs; i++)
        eval_names[i] = t->ph_names[i];
    if (t->cluster) {
        for (int i = 0; i < 1 + nm; i++)
            fetch[i] = sl_dp_name(names[i], sizeof(names[i]), 0, fetch[i]);
        for (int i = 0; i < t->ninputs; i++)
            eval_names[i] = sl_dp_name(names[1 + nm + i], sizeof(names[0]), 0, eval_names[i]);
    }
    int64_t bs = 1000, n = t->eval->n;
    int64_t *idx = malloc(sizeof(int64_t) * (size_t)bs);
    double sums[1 + MAX_METRICS] = {0};
    sl_tensor *feeds[MAX_INPUTS] = {NULL};
    bool ok = idx != NULL;
    for (int64_t at = 0; ok && at < n; at += bs) {
        int64_t b = n - at < bs ? n - at : bs;
        for (int64_t r = 0; r < b; r++)
            idx[r] = at + r;
        if (!make_feeds(t, t->eval, idx, b, feeds, st)) {
            ok = false;
            break;
        }
        sl_tensor *outs[1 + MAX_METRICS] = {NULL};
        if (run(t, eval_names, feeds, t->ninputs, fetch, outs, 1 + nm, NULL, 0, st) != SL_OK) {
            sl_status_prefix(st, "evaluation");
            ok = false;
        }
        free_feeds(feeds, t->ninputs);
        for (int i = 0; ok && i < 1 + nm; i++)
            sums[i] += scalar_of(outs[i]) * (double)b;
        for (int i = 0; i < 1 + nm; i++)
            sl_tensor_unref(outs[i]);
    }
    free(idx);
    if (!ok)
        return false;
    printf("eval on %lld examples at step %lld: loss %.4f", (long long)n, (long long)step, sums[0] / (double)n);
    for (int i = 0; i < nm; i++)
        printf(", %s %.4f", sp->metric[i]->name, sums[1 + i] / (double)n);
    printf("\n");
    if (t->eval_writer) {
        sl_summary_writer_add_scalar(t->eval_writer, "loss", (float)(sums[0] / (double)n), step, 0, NULL);
        for (int i = 0; i < nm; i++)
            sl_summary_writer_add_scalar(t->eval_writer, sp->metric[i]->name, (float)(sums[1 + i] / (double)n), step,
                                         0, NULL);
    }
    return true;
}

static void train_usage(FILE *out)
{
    fprintf(out, "usage: sluice train SPEC [--steps N] [--quiet] [--gpu]\n"
                 "                    [--cluster SPEC --token-file FILE [--sync|--async]]\n\n"
                 "Trains the graph of the run spec SPEC (text format, see run_spec.proto):\n"
                 "resumes from the newest checkpoint of its run directory, logs events for\n"
                 "the board, checkpoints, and evaluates at the end.  Ctrl-C stops cleanly.\n"
                 "With a cluster (--cluster, or the spec's cluster field) it trains data-parallel:\n"
                 "variables on the ps tasks, one replica per worker task.  --sync (the default,\n"
                 "or data_parallel: \"sync\"): each step splits the batch over the replicas and\n"
                 "sums their gradients, one update per step.  --async (data_parallel: \"async\"):\n"
                 "each replica takes whole batches and applies its own gradients without waiting\n"
                 "for the others; --steps counts the updates of all replicas.  A lost task fails\n"
                 "the step, and training resumes from the last checkpoint once the task is back.\n"
                 "--gpu runs the nodes that have GPU kernels on GPU:0 when this build has CUDA\n"
                 "and the machine a GPU, the rest on the CPU; without one it says why and\n"
                 "trains on the CPU (local runs).\n");
}

static void trainer_release(trainer *t)
{
    if (t->s && t->has_summaries) {
        const char *close = "summaries/close";
        sl_status *tmp = sl_status_new();
        run(t, NULL, NULL, 0, NULL, NULL, 0, &close, 1, tmp);
        sl_status_free(tmp);
    }
    sl_summary_writer_close(t->cli_writer, NULL);
    sl_summary_writer_close(t->eval_writer, NULL);
    sl_client_session_free(t->s);
    free(t->token);
    sl_saver_free(t->saver);
    sl_graph_free(t->g);
    sl_dataset_free(t->train);
    sl_dataset_free(t->eval);
    free(t->perm);
    free(t->train_op);
    for (int k = 0; t->replica_train_ops && k < t->nw; k++)
        free(t->replica_train_ops[k]);
    free(t->replica_train_ops);
    free(t->base);
    free(t->run_dir);
    if (t->spec)
        protobuf_c_message_free_unpacked(&t->spec->base, NULL);
}

/* On a cluster, after a failed step: says so, waits for every task to
 * answer (a restarted one gets its partitions again on the next step),
 * then restores the newest checkpoint into the ps tasks (or initializes
 * the variables when there is none).  False: the step did not fail for a
 * task, or the cluster did not come back. */
static bool recover(trainer *t, sl_status *st)
{
    sl_code code = sl_status_code(st);
    const char *msg = sl_status_message(st);
    if (!strstr(msg, "task /job:") && !strstr(msg, "task at ") && code != SL_UNAVAILABLE && code != SL_ABORTED &&
        code != SL_DEADLINE_EXCEEDED && code != SL_CANCELLED)
        return false;
    fprintf(stderr, "sluice: %s\n", msg);
    printf("step failed: %s\nwaiting for the cluster to come back\n", msg);
    fflush(stdout);
    double wait = t->spec->recover_seconds > 0 ? t->spec->recover_seconds : 300;
    double t0 = now_s();
    for (;;) {
        if (interrupted)
            return false;
        if (sl_client_session_check_health(t->s, 2000, st) == SL_OK)
            break;
        if (now_s() - t0 > wait) {
            sl_status_prefix(st, "the cluster did not come back within %.0f s", wait);
            return false;
        }
        struct timespec ts = {0, 500 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    bool restored = false;
    if (sl_saver_restore_latest(t->saver, NULL, &restored, st) != SL_OK) {
        sl_status_prefix(st, "restoring after the failure");
        return false;
    }
    if (!restored) {
        const char *init = "sluice_init";
        if (run(t, NULL, NULL, 0, NULL, NULL, 0, &init, 1, st) != SL_OK) {
            sl_status_prefix(st, "initializing the variables after the failure");
            return false;
        }
        printf("the cluster is back after %.1f s; no checkpoint yet: training from scratch\n", now_s() - t0);
    } else {
        printf("the cluster is back after %.1f s; resumed from %s\n", now_s() - t0, sl_saver_last(t->saver));
    }
    fflush(stdout);
    return true;
}

int sl_cmd_train(int argc, char **argv)
{
    const char *spec_path = NULL, *cluster_arg = NULL, *token_file = NULL, *mode_arg = NULL;
    int64_t steps_override = -1;
    trainer t = {.perm_epoch = -1};
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            train_usage(stdout);
            return 0;
        } else if (!strcmp(argv[i], "--quiet")) {
            t.quiet = true;
        } else if (!strcmp(argv[i], "--gpu")) {
            t.use_gpu = true;
        } else if (!strcmp(argv[i], "--cluster") && i + 1 < argc) {
            cluster_arg = argv[++i];
        } else if (!strcmp(argv[i], "--token-file") && i + 1 < argc) {
            token_file = argv[++i];
        } else if (!strcmp(argv[i], "--async") || !strcmp(argv[i], "--sync")) {
            mode_arg = argv[i] + 2;
        } else if (!strcmp(argv[i], "--steps") && i + 1 < argc) {
            steps_override = strtoll(argv[++i], NULL, 10);
        } else if (argv[i][0] == '-' || spec_path) {
            train_usage(stderr);
            return 2;
        } else {
            spec_path = argv[i];
        }
    }
    if (!spec_path) {
        train_usage(stderr);
        return 2;
    }
    t.tty = isatty(STDOUT_FILENO);
    sl_status *st = sl_status_new();
    int rc = 1;
    size_t len;
    char *text = read_text(spec_path, &len);
    if (!text) {
        rc = sl_cli_error("cannot read run spec '%s': %s", spec_path, strerror(errno));
        goto out;
    }
    t.spec = (Sluice__RunSpec *)sl_textformat_parse(&sluice__run_spec__descriptor, text, len, spec_path, st);
    if (!t.spec) {
        rc = fail(st, NULL);
        goto out;
    }
    Sluice__RunSpec *sp = t.spec;
    const char *slash = strrchr(spec_path, '/');
    t.base = slash ? strndup(spec_path, (size_t)(slash - spec_path)) : strdup(".");
    if (!sp->graph || !sp->graph[0] || !sp->loss || !sp->loss[0] || !sp->train_data || !sp->run_dir || !sp->run_dir[0]) {
        rc = sl_cli_error("run spec '%s' needs graph, loss, train_data and run_dir", spec_path);
        goto out;
    }
    t.run_dir = sl_train_path(t.base, sp->run_dir);
    char *spec_token_file = NULL;
    if (!cluster_arg && sp->cluster && sp->cluster[0])
        cluster_arg = sp->cluster;
    if (!token_file && sp->token_file && sp->token_file[0])
        token_file = spec_token_file = sl_train_path(t.base, sp->token_file);
    if (cluster_arg) {
#if HAVE_GRPC
        sl_cluster *c = sl_cluster_load(cluster_arg, st);
        if (!c) {
            free(spec_token_file);
            rc = fail(st, NULL);
            goto out;
        }
        const sl_cluster_job *w = sl_cluster_find_job(c, "worker"), *p = sl_cluster_find_job(c, "ps");
        t.nw = w ? w->num_tasks : 0;
        t.nps = p ? p->num_tasks : 0;
        sl_cluster_free(c);
        t.cluster = cluster_arg;
        t.token = sl_cli_read_token(token_file);
        free(spec_token_file);
        int64_t bs = sp->batch_size > 0 ? sp->batch_size : 64;
        if (t.nw < 1 || t.nps < 1) {
            rc = sl_cli_error("cluster '%s' needs a 'worker' and a 'ps' job for data-parallel training", cluster_arg);
            goto out;
        }
        if (t.nw > 64) {
            rc = sl_cli_error("cluster '%s' has %d worker tasks: at most 64", cluster_arg, t.nw);
            goto out;
        }
        const char *mode = mode_arg ? mode_arg : sp->data_parallel && sp->data_parallel[0] ? sp->data_parallel : "sync";
        if (strcmp(mode, "sync") && strcmp(mode, "async")) {
            rc = sl_cli_error("run spec '%s': data_parallel is \"%s\": \"sync\" or \"async\"", spec_path, mode);
            goto out;
        }
        t.async = !strcmp(mode, "async");
        if (!t.async && bs % t.nw) {
            rc = sl_cli_error("batch_size %lld does not split over %d worker tasks", (long long)bs, t.nw);
            goto out;
        }
#else
        free(spec_token_file);
        rc = sl_cli_error("this sluice was built without gRPC: no clusters");
        goto out;
#endif
    }
    if (mode_arg && !cluster_arg) {
        rc = sl_cli_error("--%s is for data-parallel training: it needs --cluster (or the spec's cluster)", mode_arg);
        goto out;
    }
    int64_t steps = steps_override >= 0 ? steps_override : sp->steps > 0 ? sp->steps : 1000;

    /* datasets first: a bad file fails before anything is built or written */
    const char *features[MAX_INPUTS];
    float scales[MAX_INPUTS];
    for (size_t i = 0; i < sp->n_input && i < MAX_INPUTS; i++) {
        features[i] = sp->input[i]->feature ? sp->input[i]->feature : "";
        scales[i] = sp->input[i]->scale;
    }
    int nin = sp->n_input < MAX_INPUTS ? (int)sp->n_input : MAX_INPUTS;
    if (!(t.train = sl_dataset_load(sp->train_data, t.base, features, scales, nin, st))) {
        rc = fail(st, "training data");
        goto out;
    }
    if (sp->eval_data && !(t.eval = sl_dataset_load(sp->eval_data, t.base, features, scales, nin, st))) {
        rc = fail(st, "evaluation data");
        goto out;
    }
    if (!(t.perm = malloc(sizeof(int64_t) * (size_t)t.train->n))) {
        rc = sl_cli_error("out of memory");
        goto out;
    }
    if (!build(&t, st)) {
        rc = fail(st, spec_path);
        goto out;
    }
    bool restored = false;
    if (sl_saver_restore_latest(t.saver, NULL, &restored, st) != SL_OK) {
        rc = sl_cli_error("cannot resume from the run directory '%s': %s", t.run_dir, sl_status_message(st));
        goto out;
    }
    if (!restored) {
        const char *init = "sluice_init";
        if (run(&t, NULL, NULL, 0, NULL, NULL, 0, &init, 1, st) != SL_OK) {
            rc = fail(st, "initializing the variables");
            goto out;
        }
    }
    int64_t start = read_global_step(&t, st);
    if (start < 0) {
        rc = fail(st, "reading the global step");
        goto out;
    }
    if (mkdirs(t.run_dir) != 0) {
        rc = sl_cli_error("cannot create run directory '%s': %s", t.run_dir, strerror(errno));
        goto out;
    }
    if (restored)
        printf("restored %s (step %lld)\n", sl_saver_last(t.saver), (long long)start);
    else
        printf("training from scratch into %s\n", t.run_dir);
    fflush(stdout);

    /* the run directory: spec, graph, logs */
    char path[4096];
    snprintf(path, sizeof(path), "%s/spec.pbtxt", t.run_dir);
    FILE *f = fopen(path, "w");
    if (f) {
        fwrite(text, 1, len, f);
        fclose(f);
    }
    snprintf(path, sizeof(path), "%s/graph.pbtxt", t.run_dir);
    sl_graph_save(t.g, path, st);
    if (t.has_summaries || (t.cluster && sp->summary_every_steps >= 0)) {
        const char *create = "summaries/create";
        if (t.has_summaries && run(&t, NULL, NULL, 0, NULL, NULL, 0, &create, 1, st) != SL_OK) {
            rc = fail(st, "opening the event file");
            goto out;
        }
        snprintf(path, sizeof(path), "%s/train", t.run_dir);
        sl_summary_writer_options wo = SL_SUMMARY_WRITER_OPTIONS_INIT;
        wo.filename_suffix = ".sluice-train";
        if ((t.cli_writer = sl_summary_writer_open(path, &wo, st))) {
            size_t glen;
            void *gd = sl_graph_export_binary(t.g, &glen, st);
            if (gd)
                sl_summary_writer_add_graph(t.cli_writer, gd, glen, start, 0, NULL);
            sl_free(gd);
        }
        snprintf(path, sizeof(path), "%s/eval", t.run_dir);
        t.eval_writer = t.eval ? sl_summary_writer_open(path, NULL, st) : NULL;
    }

    struct sigaction sa = {0}, old_sa;
    sa.sa_handler = on_sigint;
    sigaction(SIGINT, &sa, &old_sa);
    double t0 = now_s();
    bool (*loop)(trainer *, int64_t, int64_t, sl_status *) = t.async ? train_loop_async : train_loop;
    bool ok = loop(&t, start, steps, st);
    for (int tries = 0; !ok && t.cluster && !interrupted && tries < 20; tries++) {
        if (!recover(&t, st))
            break;
        if ((start = read_global_step(&t, st)) < 0)
            break;
        ok = loop(&t, start, steps, st);
    }
    double secs = now_s() - t0;
    sigaction(SIGINT, &old_sa, NULL);
    int64_t end = read_global_step(&t, st);
    if (!ok) {
        rc = fail(st, NULL);
        goto out;
    }
    if (end > start || !restored) {
        if (sl_saver_save(t.saver, NULL, end, st) != SL_OK) {
            rc = fail(st, "saving the final checkpoint");
            goto out;
        }
    }
    if (!t.quiet && end > start)
        printf("trained %lld steps in %.1f s (%.1f steps/s, %.0f examples/s); checkpoint %s\n",
               (long long)(end - start), secs, (double)(end - start) / secs,
               (double)(end - start) * (double)(sp->batch_size > 0 ? sp->batch_size : 64) / secs,
               sl_saver_last(t.saver));
    if (!t.quiet && t.async && end > start) {
        printf("asynchronous: updates applied by each replica:");
        for (int k = 0; k < t.nw; k++)
            printf(" %lld", (long long)t.replica_updates[k]);
        printf("\n");
    }
    if (interrupted) {
        printf("interrupted at step %lld; run again to resume\n", (long long)end);
        rc = 130;
        goto out;
    }
    if (t.eval && !evaluate(&t, end, st)) {
        rc = fail(st, NULL);
        goto out;
    }
    rc = 0;
out:
    trainer_release(&t);
    free(text);
    sl_status_free(st);
    return rc;
}
