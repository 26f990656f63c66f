/* `sluice worker --cluster SPEC --job NAME --task N [--listen HOST:PORT]
 * [--token-file FILE]`: serves one task of a cluster over gRPC until
 * SIGTERM or SIGINT.  It listens on 127.0.0.1 at its port from the spec
 * unless --listen says otherwise; the shared token comes from --token-file
 * or SLUICE_TOKEN (required: a worker never serves strangers).  With
 * --tls DIR it serves TLS (DIR/cert.pem, DIR/key.pem) and reaches its
 * peers over TLS checked against DIR/ca.pem. */
#include "config.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cluster.h"
#include "commands.h"
#include "grpc/transport-grpc.h"
#include "worker.h"

static void worker_usage(FILE *out)
{
    fprintf(out, "usage: sluice worker --cluster SPEC (--job NAME --task N | --from-slurm) [--listen HOST:PORT]\n"
                 "                     [--token-file FILE] [--tls DIR]\n\n"
                 "Serves task N of job NAME of the cluster SPEC (\"ps=h:p;worker=h:p,h:p\", a text-format\n"
                 "ClusterDef, or @FILE).  Listens on 127.0.0.1 at the task's port unless --listen is given.\n"
                 "Every call must carry the cluster's token: --token-file FILE or $SLUICE_TOKEN.\n"
                 "With --tls DIR it serves TLS with DIR/cert.pem and DIR/key.pem and checks its peers\n"
                 "against DIR/ca.pem.\n");
}

int sl_cmd_worker(int argc, char **argv)
{
    const char *spec = NULL, *job = NULL, *listen = NULL, *token_file = NULL, *tls_dir = NULL;
    int task = -1;
    bool from_slurm = false;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            worker_usage(stdout);
            return 0;
        } else if (!strcmp(a, "--cluster") && v) {
            spec = v, i++;
        } else if (!strcmp(a, "--job") && v) {
            job = v, i++;
        } else if (!strcmp(a, "--task") && v) {
            char *end;
            long t = strtol(v, &end, 10);
            if (*end || t < 0 || t > 100000)
                return sl_cli_error("--task wants a task number, not '%s'", v), 2;
            task = (int)t, i++;
        } else if (!strcmp(a, "--listen") && v) {
            listen = v, i++;
        } else if (!strcmp(a, "--from-slurm")) {
            from_slurm = true;
        } else if (!strcmp(a, "--token-file") && v) {
            token_file = v, i++;
        } else if (!strcmp(a, "--tls") && v) {
            tls_dir = v, i++;
        } else {
            worker_usage(stderr);
            return 2;
        }
    }
    if (!spec || ((!job || task < 0) && !from_slurm)) {
        worker_usage(stderr);
        return 2;
    }
    sl_status *st = sl_status_new();
    sl_cluster *cluster = sl_cluster_load(spec, st);
    if (!cluster) {
        sl_cli_error("%s", sl_status_message(st));
        sl_status_free(st);
        return 1;
    }
    if (from_slurm) {
        /* srun -n N: task SLURM_PROCID is the cluster's i-th task */
        const char *procid = getenv("SLURM_PROCID");
        int i = procid ? atoi(procid) : -1;
        if (i < 0 || i >= sl_cluster_num_tasks(cluster)) {
            sl_cli_error("--from-slurm: SLURM_PROCID %s is not a task of the cluster", procid ? procid : "(unset)");
            sl_cluster_free(cluster);
            sl_status_free(st);
            return 1;
        }
        sl_cluster_task_at(cluster, i, &job, &task);
    }
    int rc = 1;
    sl_transport *peers = NULL;
    sl_dist_worker *w = NULL;
    sl_grpc_server *server = NULL;
    char *token = sl_cli_read_token(token_file);
    const char *addr = sl_cluster_task_address(cluster, job, task);
    char host[256], bind_addr[300];
    int port = 0;
    if (!token) {
        sl_cli_error("no token: give --token-file FILE or set SLUICE_TOKEN%s%s", token_file ? " (cannot read " : "",
                     token_file ? token_file : "");
        goto out;
    }
    if (!addr) {
        sl_cli_error("the cluster has no task %d in job '%s'", task, job);
        goto out;
    }
    sl_cluster_split_address(addr, host, sizeof(host), &port);
    if (listen)
        snprintf(bind_addr, sizeof(bind_addr), "%s", listen);
    else
        snprintf(bind_addr, sizeof(bind_addr), "127.0.0.1:%d", port);
    sl_grpc_options go = SL_GRPC_OPTIONS_INIT;
    go.token = token;
    if (tls_dir && sl_grpc_options_load_tls(&go, tls_dir, st) != SL_OK) {
        sl_cli_error("--tls: %s", sl_status_message(st));
        goto out;
    }
    /* block the signals before any thread starts, and wait for them below */
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    signal(SIGPIPE, SIG_IGN);
    if (!(peers = sl_grpc_transport_new(&go, st)) || !(w = sl_dist_worker_new(cluster, job, task, peers, st)) ||
        !(server = sl_grpc_server_start(bind_addr, w, &go, NULL, st))) {
        sl_cli_error("%s", sl_status_message(st));
        goto out;
    }
    printf("sluice worker: %s listening on %s (pid %d, incarnation %016llx)\n", sl_dist_worker_task_name(w), bind_addr,
           (int)getpid(), (unsigned long long)sl_dist_worker_incarnation(w));
    fflush(stdout);
    int sig = 0;
    sigwait(&set, &sig);
    printf("sluice worker: %s stopping on signal %d\n", sl_dist_worker_task_name(w), sig);
    fflush(stdout);
    rc = 0;
    /* Steps still running hold calls; a worker that is told to stop exits
     * without waiting for them. */
    _exit(rc);
out:
    sl_grpc_server_stop(server);
    sl_dist_worker_free(w);
    sl_transport_free(peers);
    free(token);
    sl_cluster_free(cluster);
    sl_status_free(st);
    return rc;
}
