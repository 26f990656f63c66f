/* StudioRunsPanel: the runs list and the current run.
 *
 * Left, the run history (studio-runs-db.h), newest first, each row with
 * its status and progress.  Right, the selected run: status, a progress
 * bar, Stop / Resume / Open in sluice-board, the board's loss chart
 * (BoardScalarChart fed by a BoardLoader on the run directory, so it
 * grows live as the event files grow) and the last lines of its log.  A
 * run that fails shows its status and last log lines; runs the studio
 * left running (or that died while it was closed) are found again by pid
 * when it starts.
 *
 * A run on a cluster target (studio-cluster.h) also lists its tasks under
 * the run: in its row ("ps 0 up \u00b7 worker 0 up ...") and in the detail,
 * a row per task with its address, state, pid and status, and a Log
 * toggle showing that task's log instead of train.log.  The states come
 * from `sluice cluster status`, run every 2 s as a child process read
 * asynchronously while the run trains, and from the pid files once it
 * ended (`sluice cluster down` removes them: "stopped").
 *
 * Thread-safety: main thread.
 */
#pragma once

#include <gtk/gtk.h>

#include "studio-document.h"
#include "studio-runspec.h"

G_BEGIN_DECLS

#define STUDIO_TYPE_RUNS_PANEL (studio_runs_panel_get_type ())
G_DECLARE_FINAL_TYPE (StudioRunsPanel, studio_runs_panel, STUDIO, RUNS_PANEL, GtkWidget)

GtkWidget *studio_runs_panel_new (void);

/* Prepares a run directory and starts training; FALSE + error. */
gboolean studio_runs_panel_start (StudioRunsPanel *p, StudioDocument *doc, const StudioRunSetup *setup,
                                  GError **error);
/* Whether a run started here is training now. */
gboolean studio_runs_panel_is_training (StudioRunsPanel *p);
/* Stops (SIGINT) every run started here that trains. */
void studio_runs_panel_stop_all (StudioRunsPanel *p);
/* The selected run's directory, status, step, total steps and metrics
 * (NULL/0 when none), for the trace and tests. */
const char *studio_runs_panel_get_dir (StudioRunsPanel *p);
const char *studio_runs_panel_get_status (StudioRunsPanel *p);
void studio_runs_panel_get_progress (StudioRunsPanel *p, gint64 *step, gint64 *steps);
/* The selected run's op times (studio-run-stats.h; borrowed, NULL when
 * it recorded none) and the step they are of; "node-times-changed" ()
 * is emitted when they change. */
GHashTable *studio_runs_panel_get_node_times (StudioRunsPanel *p, gint64 *step);
/* "run-ended" () is emitted when a run started here exits. */
/* The last lines of the selected run's log as shown. */
const char *studio_runs_panel_get_log (StudioRunsPanel *p);
/* A cluster run (studio-cluster.h): the selected run's tasks with their
 * states (StudioClusterTask, borrowed; NULL for a run on this computer),
 * its target text ("" or "this-computer": this computer), and which log
 * the log view shows: -1 train.log, else task i's
 * RUN/cluster/logs/<job>-<task>.log (the Log toggles of the task list);
 * FALSE when there is no such task.  The title names the file shown. */
GPtrArray *studio_runs_panel_get_tasks (StudioRunsPanel *p);
const char *studio_runs_panel_get_target (StudioRunsPanel *p);
gboolean studio_runs_panel_show_log (StudioRunsPanel *p, int task);
const char *studio_runs_panel_get_log_title (StudioRunsPanel *p);
/* The selected run's process id while it trains (0: none). */
gint64 studio_runs_panel_get_pid (StudioRunsPanel *p);
/* Points the loss chart holds now. */
gint64 studio_runs_panel_get_chart_points (StudioRunsPanel *p);
/* Opens the selected run in sluice-board; FALSE + error. */
gboolean studio_runs_panel_open_board (StudioRunsPanel *p, GError **error);
void studio_runs_panel_stop (StudioRunsPanel *p);
gboolean studio_runs_panel_resume (StudioRunsPanel *p, GError **error);

G_END_DECLS
