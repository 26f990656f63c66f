/* Savers (TF1's tf.train.Saver plus its CheckpointSaverHook): save and
 * restore a graph's variables as TF checkpoint V2 bundles in a directory,
 * with TF's `checkpoint` state file, so TF tools read them.
 *
 *     sl_saver_options o = SL_SAVER_OPTIONS_INIT;
 *     o.directory = "run/train";
 *     o.every_steps = 500;
 *     sl_saver *sv = sl_saver_new(graph, NULL, 0, &o, status);  // before the session
 *     sl_session *s = sl_session_new(graph, NULL, status);
 *     bool restored;
 *     sl_saver_restore_latest(sv, s, &restored, status);       // else run the initializer
 *     for (...) { ...step...; sl_saver_maybe_save(sv, s, step, NULL, status); }
 *     sl_saver_save(sv, s, step, status);
 *     sl_saver_free(sv);
 *
 * sl_saver_new() adds TF1's nodes to the graph under a "save" scope
 * ("save/Const" holds the prefix and is fed at each save, "save/SaveV2",
 * "save/control_dependency", "save/RestoreV2", "save/Assign_<i>",
 * "save/restore_all"), so the session must be made from the graph
 * afterwards.
 *
 * Files: a save at step N writes "<directory>/<basename>-N.index" and
 * ".data-00000-of-00001" under temporary names renamed into place once
 * complete and synced, then rewrites the text file "<directory>/checkpoint"
 * (model_checkpoint_path and all_model_checkpoint_paths, relative to the
 * directory) the same way, then deletes the bundles beyond the newest
 * max_to_keep.  A crash at any moment leaves the state file naming a
 * complete checkpoint.  A saver made over a directory that already has a
 * state file takes over its list, so restarts keep pruning old bundles.
 *
 * Restoring checks every variable against the checkpoint before assigning
 * anything: a missing tensor, or one whose dtype or shape differs from the
 * variable's, fails with SL_INVALID_ARGUMENT (SL_NOT_FOUND for a missing
 * tensor) naming the checkpoint file and the tensor, and no variable
 * changes.
 *
 * Thread-safety: a saver is used by one thread at a time; the steps it
 * runs may overlap with training steps of other threads (a save then
 * reads each variable at some moment during it).
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "sluice/graph.h"
#include "sluice/macros.h"
#include "sluice/session.h"
#include "sluice/status.h"

SL_BEGIN_DECLS

typedef struct sl_saver sl_saver;

typedef struct sl_saver_options {
    const char *directory;  /* where the checkpoints go (created on the first save); required */
    const char *basename;   /* file name before "-<step>"; NULL: "model.ckpt" */
    int max_to_keep;        /* newest bundles kept; 0 keeps every one (TF's default is 5) */
    int64_t every_steps;    /* sl_saver_maybe_save: after this many steps (0: never by steps) */
    double every_seconds;   /* ... or this long since the last save (0: never by time) */
} sl_saver_options;

#define SL_SAVER_OPTIONS_INIT {NULL, NULL, 5, 0, 0.0}

/* Adds save and restore nodes for vars (VariableV2 outputs; NULL with
 * n = 0: every VariableV2 of the graph, optimizer slots and the global
 * step included, which is what resuming needs) and returns the saver
 * (caller frees), or NULL with the status set: SL_INVALID_ARGUMENT for bad
 * options, a non-variable or no variable at all (graph unchanged), or the
 * error reading an existing state file. */
SL_API sl_saver *sl_saver_new(sl_graph *graph, const sl_output *vars, int n, const sl_saver_options *opts,
                              sl_status *status);
SL_API void sl_saver_free(sl_saver *saver);  /* NULL-safe */

/* Saves the variables as "<directory>/<basename>-<step>", records it in
 * the state file and prunes old bundles.  The prefix written is returned
 * by sl_saver_last(). */
SL_API sl_code sl_saver_save(sl_saver *saver, sl_session *session, int64_t step, sl_status *status);

/* Saves when every_steps steps have passed since the last save (or the
 * first call, or a restore) or every_seconds seconds; *saved (may be
 * NULL) says whether it did. */
SL_API sl_code sl_saver_maybe_save(sl_saver *saver, sl_session *session, int64_t step, bool *saved,
                                   sl_status *status);

/* Restores the variables from the checkpoint `prefix` (checked first; see
 * the top of this file). */
SL_API sl_code sl_saver_restore(sl_saver *saver, sl_session *session, const char *prefix, sl_status *status);

/* Restores the newest checkpoint of the directory's state file, when
 * there is one: *restored says whether it did (false, SL_OK without a
 * state file).  A state file naming a missing or bad bundle is an error. */
SL_API sl_code sl_saver_restore_latest(sl_saver *saver, sl_session *session, bool *restored, sl_status *status);

/* Runs the saver's steps (feed `feed_name` = `prefix`, run `target`)
 * through fn instead of the session given to save and restore, which may
 * then be NULL: a session of another kind, such as one over a cluster
 * where the save and restore nodes run on the tasks holding the
 * variables.  fn returns the step's code with the status set; fn NULL
 * goes back to the session. */
typedef sl_code (*sl_saver_run_fn)(void *ctx, const char *feed_name, sl_tensor *prefix, const char *target,
                                   sl_status *status);
SL_API void sl_saver_set_runner(sl_saver *saver, sl_saver_run_fn fn, void *ctx);

/* The prefix saved or restored last ("" before any); borrowed. */
SL_API const char *sl_saver_last(const sl_saver *saver);

/* Number of bundles the saver keeps track of (those in the state file). */
SL_API int sl_saver_num_checkpoints(const sl_saver *saver);

/* The newest checkpoint prefix recorded in "<directory>/checkpoint", as a
 * path (the directory joined to a relative entry), in a buffer the caller
 * frees with sl_free(); NULL with SL_OK when there is no state file, NULL
 * with an error when it cannot be read or parsed. */
SL_API char *sl_checkpoint_latest(const char *directory, sl_status *status);

/* The step a prefix ends with ("model.ckpt-1200" -> 1200), or -1. */
SL_API int64_t sl_checkpoint_step(const char *prefix);

SL_END_DECLS
