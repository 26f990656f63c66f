/* Launching a training run from the studio.
 *
 * A run directory (DESIGN.md §3) under $XDG_DATA_HOME/sluice/runs/
 * <graph>-<time>/ holds the graph (graph.pb), the run spec the training
 * setup dialog wrote (run.spec, run_dir "."), train.log (the trainer's
 * output, appended to on resume), and what `sluice train` writes there:
 * event files under train/ and eval/, checkpoints.  The run is
 * `sluice train run.spec` as a child process; stopping sends SIGINT, on
 * which the trainer checkpoints and exits, and resume starts it again on
 * the same spec (it restores the newest checkpoint).
 *
 * On a cluster target (studio-cluster.h) the run is three children in
 * turn, each appending to train.log: `sluice cluster up SPEC --run-dir
 * RUN/cluster --launcher local|ssh|slurm`, then `sluice train run.spec
 * --cluster SPEC --token-file RUN/cluster/token [--async]`, then, however
 * the trainer ended (or when up failed or the run was stopped while the
 * cluster started), `sluice cluster down`; the run is done after that.
 * RUN/target and RUN/cluster.spec say where it trained.
 *
 * Thread-safety: main thread.
 */
#pragma once

#include <gio/gio.h>

#include "studio-cluster.h"
#include "studio-document.h"
#include "studio-runspec.h"

G_BEGIN_DECLS

typedef struct _StudioRun StudioRun;

/* Called once when the child exits: status is "finished", "failed"
 * (a nonzero exit: the trainer reported an error), "crashed" (killed by
 * a signal it did not handle, e.g. SIGKILL or SIGSEGV; a line saying so is
 * appended to train.log) or "stopped" (after studio_run_stop), code its
 * exit status (-signal when killed), log_tail the last lines of its
 * output. */
typedef void (*StudioRunDone) (StudioRun *run, const char *status, int code, const char *log_tail, gpointer data);

/* The sluice and sluice-board commands: $SLUICE / $SLUICE_BOARD, else
 * beside this program or in the build tree, else on PATH; NULL if none. */
char *studio_find_sluice (void);
char *studio_find_board (void);

/* Makes a new run directory with the document's graph and the setup's
 * run spec; returns the directory (spec text in *spec_text) or NULL +
 * error. */
char *studio_run_prepare (StudioDocument *doc, const StudioRunSetup *setup, char **spec_text, GError **error);

/* Starts `sluice train DIR/run.spec` in dir (a new run or a resume). */
StudioRun *studio_run_launch (const char *dir, StudioRunDone done, gpointer data, GError **error);
/* The same on target (NULL: this computer); a cluster target starts the
 * cluster first (a local cluster on ports free now, also on resume). */
StudioRun *studio_run_launch_on (const char *dir, const StudioTarget *target, StudioRunDone done, gpointer data,
                                 GError **error);
/* The cluster spec it runs on (NULL: this computer). */
const char *studio_run_get_cluster_spec (StudioRun *run);
/* "starting the cluster", "training", "stopping the cluster"; NULL once done. */
const char *studio_run_get_phase (StudioRun *run);
/* Runs `sluice cluster down` (not waited for) for a cluster run in dir
 * whose trainer ended while no studio watched it; FALSE when dir is not
 * a cluster run. */
gboolean studio_run_cluster_down (const char *dir);
const char *studio_run_get_dir (StudioRun *run);
gint64 studio_run_get_pid (StudioRun *run);
void studio_run_stop (StudioRun *run);
gboolean studio_run_is_running (StudioRun *run);
/* Frees; the child, if still running, is left running. */
void studio_run_free (StudioRun *run);

/* What train.log of dir says: the last "step N/M loss X ..." line's step,
 * total and metrics ("loss 0.31 accuracy 0.91"); FALSE when no step yet. */
gboolean studio_run_read_progress (const char *dir, gint64 *step, gint64 *steps, char **metrics);
/* The last `lines` lines of dir's train.log ("" when none). */
char *studio_run_log_tail (const char *dir, int lines);

G_END_DECLS
