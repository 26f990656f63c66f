/* Launching a training run from the studio.
 *
 * Run writes a run directory (DESIGN.md §3: graph, run spec, logs,
 * status) under $XDG_DATA_HOME/sluice/runs/<graph>-<time>/ and starts
 * `sluice train SPEC` there as a child process, its output going to
 * train.log.  The spec names the graph and the loss (the node named
 * "loss/mean", else the last node whose name starts with "loss"); the
 * rest (dataset, optimizer, steps) is filled by the training setup
 * dialog as the `sluice train` run spec format lands.  The launcher is
 * kept apart from the window so a cluster target can replace the local
 * child process.
 *
 * Thread-safety: main thread.
 */
#pragma once

#include <gio/gio.h>

#include "studio-document.h"

G_BEGIN_DECLS

typedef struct _StudioRun StudioRun;

/* Called once when the child exits: status is its exit status (or -1
 * when it could not start), log_tail the last lines of its output. */
typedef void (*StudioRunDone) (StudioRun *run, int status, const char *log_tail, gpointer data);

/* Writes the run directory and starts the trainer; NULL + error when the
 * directory cannot be written or `sluice` cannot be found or started. */
StudioRun *studio_run_start (StudioDocument *doc, StudioRunDone done, gpointer data, GError **error);
const char *studio_run_get_dir (StudioRun *run);
void studio_run_stop (StudioRun *run);
gboolean studio_run_is_running (StudioRun *run);
void studio_run_free (StudioRun *run);

G_END_DECLS
