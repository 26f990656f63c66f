/* Client sessions (see client.h): a local sl_session or a master over a
 * cluster behind one handle. */
#include "config.h"

#include "client.h"

#include <stdlib.h>

#include "cluster.h"
#if HAVE_GRPC
#include "grpc/transport-grpc.h"
#endif

struct sl_client_session {
    sl_session *local;
    sl_dist_session *dist;
    sl_transport *transport;
    sl_cluster *cluster;
};

sl_client_session *sl_client_session_new(const sl_graph *graph, const sl_client_options *opts, sl_status *st)
{
    sl_client_session *s = calloc(1, sizeof(*s));
    if (!s) {
        sl_status_set(st, SL_RESOURCE_EXHAUSTED, "out of memory");
        return NULL;
    }
    if (!opts || !opts->cluster) {
        sl_session_options so = SL_SESSION_OPTIONS_INIT;
        if (opts) {
            so.inter_op_threads = opts->inter_op_threads;
            so.use_gpu = opts->use_gpu;
        }
        if (!(s->local = sl_session_new(graph, &so, st)))
            goto fail;
        return s;
    }
#if HAVE_GRPC
    if (!opts->token || !opts->token[0]) {
        sl_status_set(st, SL_INVALID_ARGUMENT, "a cluster needs its token (--token-file FILE or SLUICE_TOKEN)");
        goto fail;
    }
    if (!(s->cluster = sl_cluster_load(opts->cluster, st)))
        goto fail;
    sl_grpc_options go = SL_GRPC_OPTIONS_INIT;
    go.token = opts->token;
    if (opts->tls_dir && sl_grpc_options_load_tls(&go, opts->tls_dir, st) != SL_OK)
        goto fail;
    s->transport = sl_grpc_transport_new(&go, st);
    sl_grpc_options_free_tls(&go);
    if (!s->transport)
        goto fail;
    sl_dist_session_options dopts = SL_DIST_SESSION_OPTIONS_INIT;
    dopts.simple_placement = opts->simple_placement;
    if (!(s->dist = sl_dist_session_new(graph, s->cluster, s->transport, &dopts, st)))
        goto fail;
    return s;
#else
    sl_status_set(st, SL_UNIMPLEMENTED, "this sluice was built without gRPC: no clusters");
#endif
fail:
    sl_client_session_free(s);
    return NULL;
}

sl_code sl_client_session_run(sl_client_session *s, const sl_run_options *opts, const char *const *feed_names,
                              sl_tensor *const *feed_values, int num_feeds, const char *const *fetch_names,
                              sl_tensor **fetch_values, int num_fetches, const char *const *target_names,
                              int num_targets, sl_status *st)
{
    if (s->local)
        return sl_session_run(s->local, opts, feed_names, feed_values, num_feeds, fetch_names, fetch_values,
                              num_fetches, target_names, num_targets, NULL, st);
    return sl_dist_session_run(s->dist, opts, feed_names, feed_values, num_feeds, fetch_names, fetch_values,
                               num_fetches, target_names, num_targets, NULL, st);
}

sl_code sl_client_session_run_stats(sl_client_session *s, const sl_run_options *opts, const char *const *feed_names,
                                    sl_tensor *const *feed_values, int num_feeds, const char *const *fetch_names,
                                    sl_tensor **fetch_values, int num_fetches, const char *const *target_names,
                                    int num_targets, sl_step_stats **stats, sl_status *st)
{
    if (stats)
        *stats = NULL;
    if (s->local)
        return sl_session_run(s->local, opts, feed_names, feed_values, num_feeds, fetch_names, fetch_values,
                              num_fetches, target_names, num_targets, stats, st);
    return sl_dist_session_run(s->dist, opts, feed_names, feed_values, num_feeds, fetch_names, fetch_values,
                               num_fetches, target_names, num_targets, NULL, st);
}

sl_code sl_client_session_check_health(sl_client_session *s, int64_t timeout_ms, sl_status *st)
{
    if (!s->dist) {
        sl_status_clear(st);
        return SL_OK;
    }
    return sl_dist_session_check_health(s->dist, timeout_ms, st);
}

bool sl_client_session_is_distributed(const sl_client_session *s)
{
    return s->dist != NULL;
}

void sl_client_session_free(sl_client_session *s)
{
    if (!s)
        return;
    sl_session_free(s->local);
    sl_dist_session_free(s->dist);
    sl_transport_free(s->transport);
    sl_cluster_free(s->cluster);
    free(s);
}
