/* Multi-device steps: placement and partitioning of a session's graph,
 * the partitions a signature needs, and steps that run them together.
 *
 * A signature's feeds, fetches and targets name nodes of the session's
 * graph; each lives in exactly one partition under the same name.  A
 * partition is needed when it holds a fetch or a target, or when a _Recv
 * in a needed partition's plan waits for one of its _Sends, which then
 * becomes a target there; this closure runs until nothing changes.  Each
 * needed partition gets its own plan, passes and executor.
 *
 * A step runs the needed partitions at once (one thread each, the first
 * on the caller's), sharing one rendezvous and one cancellation: the first
 * error anywhere cancels the others, and every partition reports it. */
#include "config.h"

#include "multi-device.h"

#include <pthread.h>
#include <string.h>
#include <time.h>

#include "graph-private.h"
#include "rendezvous.h"
#include "sluice/alloc.h"
#include "sluice/device.h"

struct sl__placed {
    sl_partition *parts;
    int num_parts;
};

typedef struct part_exec {
    const sl_partition *part;
    sl_executor *ex;
    int num_feeds;
    int *feed_map;       /* plan feed i -> the signature's feed index */
    int num_fetches;
    int *fetch_map;      /* plan fetch j -> the signature's fetch index */
} part_exec;

struct sl__multi_exec {
    int num_fetches;     /* of the signature */
    int num_parts;       /* partitions this signature runs */
    part_exec *parts;
};

sl__placed *sl__placed_new(const sl_graph *graph, const char *const *devices, int num_devices, bool simple,
                           sl_status *st)
{
    int n = sl_graph_num_nodes(graph);
    int *assign = sl_calloc((size_t)n + 1, sizeof(int));
    sl__placed *pl = sl_calloc(1, sizeof(*pl));
    if (!assign || !pl) {
        sl_free(assign);
        sl_free(pl);
        sl_status_set(st, SL_RESOURCE_EXHAUSTED, "out of memory placing the graph");
        return NULL;
    }
    sl_placement_options po = {.simple = simple, .transfer_bytes_per_us = 1000};
    if (sl_place(graph, devices, num_devices, &po, assign, st) != SL_OK) {
        sl_status_prefix(st, "cannot place the graph");
        goto err;
    }
    sl_partition_options opts = {0};
    pl->parts = sl_partition_graph(graph, devices, num_devices, assign, &opts, &pl->num_parts, st);
    if (!pl->parts) {
        sl_status_prefix(st, "cannot partition the graph");
        goto err;
    }
    sl_free(assign);
    return pl;
err:
    sl_free(assign);
    sl_free(pl);
    return NULL;
}

void sl__placed_free(sl__placed *pl)
{
    if (!pl)
        return;
    sl_partitions_free(pl->parts, pl->num_parts);
    sl_free(pl);
}

void sl__multi_free(sl__multi_exec *m)
{
    if (!m)
        return;
    for (int i = 0; i < m->num_parts; i++) {
        sl__executor_free(m->parts[i].ex);
        sl_free(m->parts[i].feed_map);
        sl_free(m->parts[i].fetch_map);
    }
    sl_free(m->parts);
    sl_free(m);
}

/* ---- Preparation -------------------------------------------------------- */

/* What one partition needs while the closure grows. */
typedef struct part_need {
    bool needed;
    int nf, nfe, nt, cap_t;
    sl_output *feeds;
    int *feed_map;
    sl_output *fetches;
    int *fetch_map;
    const sl_node **targets;
} part_need;

static void needs_release(part_need *pn, int n)
{
    for (int i = 0; pn && i < n; i++) {
        sl_free(pn[i].feeds);
        sl_free(pn[i].feed_map);
        sl_free(pn[i].fetches);
        sl_free(pn[i].fetch_map);
        sl_free(pn[i].targets);
    }
    sl_free(pn);
}

static bool add_target(part_need *pn, const sl_node *n)
{
    for (int i = 0; i < pn->nt; i++)
        if (pn->targets[i] == n)
            return true;
    if (pn->nt == pn->cap_t) {
        int nc = pn->cap_t ? pn->cap_t * 2 : 8;
        const sl_node **p = sl_realloc(pn->targets, (size_t)nc * sizeof(*p));
        if (!p)
            return false;
        pn->targets = p;
        pn->cap_t = nc;
    }
    pn->targets[pn->nt++] = n;
    return true;
}

/* The partition holding a node named `name`, or -1; *out gets the node. */
static int find_part(const sl__placed *pl, const char *name, sl_node **out)
{
    for (int p = 0; p < pl->num_parts; p++) {
        sl_node *n = sl_graph_find_node(pl->parts[p].graph, name);
        if (n) {
            *out = n;
            return p;
        }
    }
    return -1;
}

static bool attr_is(const sl_node *n, const char *attr, const char *value)
{
    const char *s;
    size_t len;
    return sl_node_attr_string(n, attr, &s, &len) && len == strlen(value) && !memcmp(s, value, len);
}

/* The _Send that serves _Recv `r` of partition p: its partition in *q. */
static sl_node *send_for(const sl__placed *pl, int p, const sl_node *r, int *q)
{
    const char *tensor, *send_dev;
    size_t tlen, slen;
    if (!sl_node_attr_string(r, "tensor_name", &tensor, &tlen) ||
        !sl_node_attr_string(r, "send_device", &send_dev, &slen))
        return NULL;
    for (int k = 0; k < pl->num_parts; k++) {
        const char *dev = pl->parts[k].device;
        if (strlen(dev) != slen || memcmp(dev, send_dev, slen))
            continue;
        const sl_graph *g = pl->parts[k].graph;
        for (int i = 0; i < sl_graph_num_nodes(g); i++) {
            sl_node *n = sl_graph_node(g, i);
            if (!strcmp(sl_node_op_type(n), "_Send") && attr_is(n, "recv_device", pl->parts[p].device)) {
                const char *t;
                size_t len;
                if (sl_node_attr_string(n, "tensor_name", &t, &len) && len == tlen && !memcmp(t, tensor, len)) {
                    *q = k;
                    return n;
                }
            }
        }
    }
    return NULL;
}

static sl__plan *build_plan(const sl__placed *pl, int p, const part_need *pn, bool all, sl_status *st)
{
    return sl__plan_build(pl->parts[p].graph, pn->feeds, pn->nf, pn->fetches, pn->nfe, pn->targets, pn->nt, all,
                          st);
}

sl__multi_exec *sl__multi_prepare(const sl__placed *pl, const sl_output *feeds, int nf, const sl_output *fetches,
                                  int nfe, const sl_node *const *targets, int nt, const sl_session_options *opts,
                                  sl__pass_counts *counts, sl_status *st)
{
    int np = pl->num_parts;
    part_need *need = sl_calloc((size_t)np, sizeof(*need));
    sl__multi_exec *m = sl_calloc(1, sizeof(*m));
    if (!need || !m)
        goto err_oom;
    for (int p = 0; p < np; p++) {
        need[p].feeds = sl_calloc((size_t)nf + 1, sizeof(sl_output));
        need[p].feed_map = sl_calloc((size_t)nf + 1, sizeof(int));
        need[p].fetches = sl_calloc((size_t)nfe + 1, sizeof(sl_output));
        need[p].fetch_map = sl_calloc((size_t)nfe + 1, sizeof(int));
        if (!need[p].feeds || !need[p].feed_map || !need[p].fetches || !need[p].fetch_map)
            goto err_oom;
    }
    sl_node *n = NULL;
    for (int i = 0; i < nf; i++) {
        int p = find_part(pl, sl_node_name(feeds[i].node), &n);
        if (p < 0)
            goto err_lost;
        need[p].feed_map[need[p].nf] = i;
        need[p].feeds[need[p].nf++] = (sl_output){n, feeds[i].index};
    }
    for (int i = 0; i < nfe; i++) {
        int p = find_part(pl, sl_node_name(fetches[i].node), &n);
        if (p < 0)
            goto err_lost;
        need[p].fetch_map[need[p].nfe] = i;
        need[p].fetches[need[p].nfe++] = (sl_output){n, fetches[i].index};
        need[p].needed = true;
    }
    for (int i = 0; i < nt; i++) {
        int p = find_part(pl, sl_node_name(targets[i]), &n);
        if (p < 0)
            goto err_lost;
        if (!add_target(&need[p], n))
            goto err_oom;
        need[p].needed = true;
    }
    /* close over Recv -> Send */
    bool changed = true;
    while (changed) {
        changed = false;
        for (int p = 0; p < np; p++) {
            if (!need[p].needed)
                continue;
            sl__plan *plan = build_plan(pl, p, &need[p], opts->disable_pruning, st);
            if (!plan)
                goto err;
            for (int i = 0; i < plan->num_nodes; i++) {
                const sl_node *r = plan->nodes[i].node;
                if (strcmp(sl_node_op_type(r), "_Recv"))
                    continue;
                int q = -1;
                sl_node *snd = send_for(pl, p, r, &q);
                if (!snd) {
                    sl__plan_free(plan);
                    sl_status_set(st, SL_INTERNAL, "no _Send for '%s' on '%s'", sl_node_name(r), pl->parts[p].device);
                    goto err;
                }
                int before = need[q].nt;
                if (!add_target(&need[q], snd)) {
                    sl__plan_free(plan);
                    goto err_oom;
                }
                if (need[q].nt != before || !need[q].needed) {
                    need[q].needed = true;
                    changed = true;
                }
            }
            sl__plan_free(plan);
        }
    }
    m->num_fetches = nfe;
    m->parts = sl_calloc((size_t)np, sizeof(*m->parts));
    if (!m->parts)
        goto err_oom;
    for (int p = 0; p < np; p++) {
        if (!need[p].needed)
            continue;
        sl__plan *plan = build_plan(pl, p, &need[p], opts->disable_pruning, st);
        if (!plan)
            goto err;
        if (sl__plan_optimize(plan, !opts->disable_cse, !opts->disable_constant_folding, !opts->disable_pruning,
                              counts, st) != SL_OK) {
            sl__plan_free(plan);
            goto err;
        }
        sl_device_name dn;
        sl_executor *ex = NULL;
        if (sl_device_name_parse(pl->parts[p].device, &dn, st) == SL_OK)
            ex = sl__executor_new_on(plan, dn.has_type ? dn.type : SL_DEVICE_CPU, st);
        sl__plan_free(plan);
        if (!ex) {
            sl_status_prefix(st, "on %s", pl->parts[p].device);
            goto err;
        }
        part_exec *pe = &m->parts[m->num_parts++];
        pe->part = &pl->parts[p];
        pe->ex = ex;
        pe->num_feeds = need[p].nf;
        pe->feed_map = need[p].feed_map;
        need[p].feed_map = NULL;
        pe->num_fetches = need[p].nfe;
        pe->fetch_map = need[p].fetch_map;
        need[p].fetch_map = NULL;
    }
    needs_release(need, np);
    sl_status_clear(st);
    return m;
err_lost:
    sl_status_set(st, SL_INTERNAL, "a node of the step is in no partition");
    goto err;
err_oom:
    sl_status_set(st, SL_RESOURCE_EXHAUSTED, "out of memory preparing a multi-device step");
err:
    needs_release(need, np);
    sl__multi_free(m);
    return NULL;
}

/* ---- Running -------------------------------------------------------------- */

typedef struct part_run {
    const part_exec *pe;
    sl__step_args args;
    sl_tensor **feeds;
    sl_tensor **fetches;
    sl_step_stats stats;
    sl_status *status;
    sl_code rc;
    pthread_t thread;
    bool started;
} part_run;

static int64_t now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static void *part_main(void *arg)
{
    part_run *r = arg;
    r->stats.start_us = now_us();
    r->rc = sl__executor_run(r->pe->ex, &r->args, r->status);
    r->stats.end_us = now_us();
    return NULL;
}

/* Moves the partitions' node stats into *out, with one sl_device_stats
 * per partition.  Out of memory loses the stats, never the step. */
static void merge_stats(part_run *runs, int n, sl_step_stats *out)
{
    int total = 0;
    for (int i = 0; i < n; i++)
        total += runs[i].stats.num_nodes;
    out->nodes = sl_calloc((size_t)total + 1, sizeof(*out->nodes));
    out->devices = sl_calloc((size_t)n + 1, sizeof(*out->devices));
    if (!out->nodes || !out->devices) {
        sl_free(out->nodes);
        sl_free(out->devices);
        out->nodes = NULL;
        out->devices = NULL;
        return;
    }
    for (int i = 0; i < n; i++) {
        const sl_step_stats *ps = &runs[i].stats;
        sl_device_stats *ds = &out->devices[out->num_devices++];
        ds->device = runs[i].pe->part->device;
        ds->start_us = ps->start_us;
        ds->end_us = ps->end_us;
        ds->num_nodes = ps->num_nodes;
        ds->num_sends = runs[i].pe->part->num_sends;
        ds->num_recvs = runs[i].pe->part->num_recvs;
        for (int k = 0; k < ps->num_nodes; k++) {
            ds->output_bytes += ps->nodes[k].output_bytes;
            out->nodes[out->num_nodes++] = ps->nodes[k];
        }
    }
}

sl_code sl__multi_run(sl__multi_exec *m, const sl__step_args *args, sl_status *st)
{
    for (int f = 0; f < m->num_fetches; f++)
        args->fetches[f] = NULL;
    int n = m->num_parts;
    part_run *runs = sl_calloc((size_t)n + 1, sizeof(*runs));
    sl__rendezvous *rz = sl__rendezvous_new();
    sl_code rc = SL_OK;
    if (!runs || !rz) {
        rc = sl_status_set(st, SL_RESOURCE_EXHAUSTED, "out of memory starting a step");
        goto out;
    }
    for (int i = 0; i < n; i++) {
        part_run *r = &runs[i];
        r->pe = &m->parts[i];
        r->feeds = sl_calloc((size_t)r->pe->num_feeds + 1, sizeof(sl_tensor *));
        r->fetches = sl_calloc((size_t)r->pe->num_fetches + 1, sizeof(sl_tensor *));
        r->status = sl_status_new();
        if (!r->feeds || !r->fetches || !r->status) {
            rc = sl_status_set(st, SL_RESOURCE_EXHAUSTED, "out of memory starting a step");
            goto out;
        }
        for (int k = 0; k < r->pe->num_feeds; k++)
            r->feeds[k] = args->feeds[r->pe->feed_map[k]];
        r->args = *args;
        r->args.feeds = r->feeds;
        r->args.fetches = r->fetches;
        r->args.rendezvous = rz;
        r->args.device = r->pe->part->device;
        r->args.stats = args->collect_stats ? &r->stats : NULL;
    }
    bool all_started = true;
    for (int i = 1; i < n; i++) {
        runs[i].started = pthread_create(&runs[i].thread, NULL, part_main, &runs[i]) == 0;
        all_started &= runs[i].started;
    }
    if (!all_started)  /* end the others before they wait for it */
        sl__cancel_fire(args->cancel, SL_RESOURCE_EXHAUSTED, "cannot start a thread for a partition");
    if (n > 0)
        part_main(&runs[0]);
    for (int i = 1; i < n; i++) {
        if (runs[i].started)
            pthread_join(runs[i].thread, NULL);
        else
            part_main(&runs[i]);  /* returns at once: the step is cancelled */
    }
    /* the root cause wins over the cancellations it caused */
    int bad = -1;
    for (int i = 0; i < n; i++)
        if (runs[i].rc != SL_OK && (bad < 0 || (runs[bad].rc == SL_CANCELLED && runs[i].rc != SL_CANCELLED)))
            bad = i;
    if (bad >= 0) {
        sl_status_copy(st, runs[bad].status);
        rc = runs[bad].rc;
    } else {
        for (int i = 0; i < n; i++)
            for (int k = 0; k < runs[i].pe->num_fetches; k++) {
                args->fetches[runs[i].pe->fetch_map[k]] = runs[i].fetches[k];
                runs[i].fetches[k] = NULL;
            }
        sl_status_clear(st);
    }
    if (args->collect_stats && args->stats)
        merge_stats(runs, n, args->stats);
out:
    for (int i = 0; runs && i < n; i++) {
        for (int k = 0; runs[i].fetches && k < runs[i].pe->num_fetches; k++)
            sl_tensor_unref(runs[i].fetches[k]);
        sl_free(runs[i].feeds);
        sl_free(runs[i].fetches);
        sl_free(runs[i].stats.nodes);
        sl_status_free(runs[i].status);
    }
    sl_free(runs);
    sl__rendezvous_free(rz);
    return rc;
}
