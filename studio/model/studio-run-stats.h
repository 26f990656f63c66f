/* Per-node run state from a run's event files: the time each op took in
 * the newest step whose statistics the run recorded (TF's
 * Event.tagged_run_metadata carrying a RunMetadata with StepStats, as
 * `sluice train` writes every `trace_every_steps` steps, and as
 * TensorFlow's summary writers do with add_run_metadata).
 *
 * A reader follows the event files under a run directory (DIR/train/ and
 * DIR itself) as they grow, reading only what was appended since the last
 * update.  An op's time is the sum over its executions in the step (a
 * node in a loop runs many times) of op_end_rel_micros - op_start_rel_micros
 * (all_end_rel_micros when those are absent).  GLib + summaries, no
 * display.
 *
 * Thread-safety: one thread.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct _StudioRunStats StudioRunStats;

StudioRunStats *studio_run_stats_new (const char *run_dir);
void studio_run_stats_free (StudioRunStats *s);
const char *studio_run_stats_get_dir (StudioRunStats *s);

/* Reads what the event files gained; TRUE when newer step statistics
 * were found (the times changed). */
gboolean studio_run_stats_update (StudioRunStats *s);

/* The newest statistics: node name -> time in microseconds (a
 * GHashTable of char* -> double*, borrowed; NULL when the run recorded
 * none yet), the step they are of, and the step's wall time end to end. */
GHashTable *studio_run_stats_get_times (StudioRunStats *s, gint64 *step, double *step_us);

/* "1.2 ms", "340 µs", "2.1 s" (newly allocated). */
char *studio_format_duration_us (double us);

G_END_DECLS
