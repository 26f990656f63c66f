/* Where a studio run trains: this computer, or a cluster of `sluice
 * worker` tasks started with `sluice cluster up` (dist/README.md):
 *   local cluster  N workers + M parameter servers on this machine, on
 *                  ports found free (bound to port 0) at each launch;
 *   SSH hosts      the same tasks on "host1,host2,..." (round-robin, ps
 *                  first), each host's tasks on ports from a base port;
 *   Slurm          `srun` inside the allocation, every task on one node.
 * The target is kept as a line of text ("local-cluster workers=2 ps=1
 * mode=sync") in the run history, so a resumed run uses the same target.
 *
 * A cluster run's directory RUN holds RUN/target (that line),
 * RUN/cluster.spec (the cluster spec it was launched with,
 * "ps=h:p;worker=h:p,h:p") and RUN/cluster/, the `sluice cluster` run
 * directory (token, logs/<job>-<task>.log, pids/).  This file builds the
 * specs and the argv of each `sluice` command the studio runs, and reads
 * the tasks' states from `sluice cluster status` and the pid files.
 * GLib + GIO only, no display.
 *
 * Thread-safety: plain data; one thread at a time.
 */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

typedef enum {
    STUDIO_TARGET_THIS_COMPUTER,
    STUDIO_TARGET_LOCAL_CLUSTER,
    STUDIO_TARGET_SSH,
    STUDIO_TARGET_SLURM,
} StudioTargetKind;

typedef struct {
    StudioTargetKind kind;
    int workers;        /* N >= 1 */
    int ps;             /* M >= 1 */
    gboolean async;     /* --async: asynchronous data-parallel training */
    char *hosts;        /* SSH: "host1,host2"; Slurm: the allocation's node ("" : $SLURMD_NODENAME / the only
                         * node of $SLURM_JOB_NODELIST) */
    int port;           /* SSH, Slurm: each host's first port */
} StudioTarget;

StudioTarget *studio_target_new (StudioTargetKind kind);
StudioTarget *studio_target_copy (const StudioTarget *t);
void studio_target_free (StudioTarget *t);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (StudioTarget, studio_target_free)

/* "this-computer", "local-cluster workers=2 ps=1 mode=sync",
 * "ssh workers=2 ps=1 mode=async hosts=a,b port=2222", "slurm ...". */
char *studio_target_to_string (const StudioTarget *t);
/* The reverse; "" or NULL is this computer.  NULL + error when malformed. */
StudioTarget *studio_target_parse (const char *text, GError **error);
/* "local", "ssh", "slurm"; NULL for this computer. */
const char *studio_target_launcher (const StudioTarget *t);
gboolean studio_target_is_cluster (const StudioTarget *t);
/* For people: "local cluster: 2 workers + 1 ps, synchronous". */
char *studio_target_describe (const StudioTarget *t);

/* n distinct TCP ports on 127.0.0.1 that are free now (each bound to port
 * 0 while the others are found, then closed). */
gboolean studio_free_ports (int n, int *ports, GError **error);

/* The cluster spec "ps=h:p;worker=h:p,h:p" (ps tasks first); a local
 * cluster gets free ports.  NULL + error for this computer or a target
 * with no hosts. */
char *studio_target_cluster_spec (const StudioTarget *t, GError **error);

/* The commands, NULL-terminated (g_strfreev).  cluster_dir is RUN/cluster. */
char **studio_cluster_up_argv (const char *sluice, const StudioTarget *t, const char *spec, const char *cluster_dir);
char **studio_cluster_down_argv (const char *sluice, const StudioTarget *t, const char *spec,
                                 const char *cluster_dir);
char **studio_cluster_status_argv (const char *sluice, const char *spec, const char *cluster_dir);
/* `sluice train RUN_SPEC --cluster SPEC --token-file CLUSTER_DIR/token [--async]`. */
char **studio_cluster_train_argv (const char *sluice, const StudioTarget *t, const char *run_spec,
                                  const char *spec, const char *cluster_dir);

/* One task of a cluster run as the runs panel shows it. */
typedef struct {
    char *job;          /* "ps", "worker" */
    int task;
    char *address;      /* "127.0.0.1:40123" */
    char *state;        /* "starting", "up", "down", "stopped" */
    gint64 pid;         /* from its pid file or the status line; 0: none */
    char *detail;       /* the status line's rest ("uptime 3.1 s graphs 2 steps 1") or why it is down */
} StudioClusterTask;

void studio_cluster_task_free (StudioClusterTask *t);
/* "worker 1" */
char *studio_cluster_task_label (const StudioClusterTask *t);
/* CLUSTER_DIR/logs/<job>-<task>.log */
char *studio_cluster_task_log (const char *cluster_dir, const StudioClusterTask *t);

/* The tasks of spec in order (ps tasks first as written), state
 * "starting"; NULL + error when the spec is not "job=h:p,...;...". */
GPtrArray *studio_cluster_tasks (const char *spec, GError **error);
/* Sets each task's state from `sluice cluster status` output (lines
 * "/job:J/replica:0/task:T ADDR up pid P ..." or "... down MESSAGE");
 * returns how many lines it matched. */
int studio_cluster_parse_status (GPtrArray *tasks, const char *output);
/* For a run no `status` is polled for (it ended, or before its first
 * answer): each task's pid file in CLUSTER_DIR/pids (srun.pid for Slurm);
 * a task whose file is gone (`cluster down` removes them) or, when local,
 * whose process is not alive is "stopped"; one alive keeps its state
 * ("running" when it was "starting" or "stopped"). */
void studio_cluster_read_pids (GPtrArray *tasks, const char *cluster_dir, gboolean local);

G_END_DECLS
