/* Cluster specs: which jobs a cluster has and where each task listens.
 *
 * Two spellings are read:
 *   - the short form of the command line,
 *         "ps=127.0.0.1:2222;worker=127.0.0.1:2223,127.0.0.1:2224"
 *     (jobs separated by ';', tasks of a job by ',', numbered from 0);
 *   - a sluice.dist.ClusterDef in text format (dist/proto/cluster.proto,
 *     the shape of TF's tensorflow.ClusterDef), inline or in a file:
 *         job { name: "ps" tasks { key: 0 value: "127.0.0.1:2222" } }
 *
 * Validation: job names are [A-Za-z0-9_]+ and unique; each job has tasks
 * 0..N-1 without gaps; an address is "host:port" with a port in 1..65535
 * ("[::1]:port" for IPv6); no two tasks share an address.
 *
 * Thread-safety: a parsed cluster is immutable and may be shared. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "sluice/status.h"

typedef struct sl_cluster_job {
    char *name;
    int num_tasks;
    char **addresses;          /* addresses[task] = "host:port" */
} sl_cluster_job;

typedef struct sl_cluster {
    int num_jobs;
    sl_cluster_job *jobs;      /* in the order given */
} sl_cluster;

/* Parses the short form.  NULL + INVALID_ARGUMENT naming the bad part
 * ("cluster spec: job 'ps': task 1: 'x:99999' has no valid port"). */
sl_cluster *sl_cluster_parse_short(const char *spec, sl_status *status);

/* Parses a ClusterDef in text format; source names it in messages. */
sl_cluster *sl_cluster_parse_text(const char *text, size_t len, const char *source,
                                  sl_status *status);

/* What the command line takes: "@FILE" or an existing file (text format),
 * text format inline (it contains '{'), or else the short form. */
sl_cluster *sl_cluster_load(const char *spec, sl_status *status);

/* NULL-safe. */
void sl_cluster_free(sl_cluster *cluster);

/* A deep copy; NULL on OOM. */
sl_cluster *sl_cluster_copy(const sl_cluster *cluster);

/* The job named `job`, or NULL. */
const sl_cluster_job *sl_cluster_find_job(const sl_cluster *cluster, const char *job);

/* The address of (job, task), or NULL when there is no such task. */
const char *sl_cluster_task_address(const sl_cluster *cluster, const char *job, int task);

/* Total number of tasks over all jobs. */
int sl_cluster_num_tasks(const sl_cluster *cluster);

/* The i-th task in job order (0 <= i < sl_cluster_num_tasks()). */
void sl_cluster_task_at(const sl_cluster *cluster, int i, const char **job, int *task);

/* The short form (caller frees with free()); NULL on OOM. */
char *sl_cluster_format_short(const sl_cluster *cluster);

/* "/job:J/replica:0/task:T" into buf; returns buf. */
char *sl_cluster_task_name(const char *job, int task, char *buf, size_t size);

/* Splits "host:port" or "[v6]:port"; false when malformed.  host gets the
 * host without brackets. */
bool sl_cluster_split_address(const char *address, char *host, size_t host_size, int *port);
