/* The logdirs as the board's views see them: runs, their series, and the
 * damage found in their files, on the main thread.
 *
 * BoardDataset is fed by BoardUpdate batches (made by the loader thread,
 * or by tests directly) and tells the views what changed through
 * signals.  BoardRun carries what the runs panel shows and edits: a
 * stable color, visibility and the run's group.
 *
 * Thread-safety: main thread only.  A BoardUpdate is built on one thread
 * and handed whole to the main thread.
 */
#pragma once

#include <gio/gio.h>

#include "board-series.h"

G_BEGIN_DECLS

/* ---- BoardRun ---- */

#define BOARD_TYPE_RUN (board_run_get_type ())
G_DECLARE_FINAL_TYPE (BoardRun, board_run, BOARD, RUN, GObject)

const char *board_run_get_name (BoardRun *run);
/* The run's directory; "" when unknown. */
const char *board_run_get_dir (BoardRun *run);
/* Smallest wall time of its events (NaN before any). */
double board_run_get_start_time (BoardRun *run);
/* Color as 0xRRGGBB. */
guint32 board_run_get_color (BoardRun *run);
void board_run_set_color (BoardRun *run, guint32 rgb);
gboolean board_run_get_visible (BoardRun *run);
void board_run_set_visible (BoardRun *run, gboolean visible);
/* The series of `tag`, or NULL; borrowed. */
BoardSeries *board_run_get_series (BoardRun *run, const char *tag);
/* Tags of the run in first-seen order; borrowed array of borrowed strings. */
GPtrArray *board_run_get_tags (BoardRun *run);

/* The palette of run colors (12 colors readable on light and dark
 * backgrounds) and the stable choice for a name: the palette slot its
 * hash picks, or the next free one when `used` (a bitmask of taken slots)
 * has it. */
#define BOARD_PALETTE_SIZE 12
guint32 board_palette_color (int i);
int board_palette_slot_for_name (const char *name, guint32 used);

/* ---- BoardUpdate: a batch of changes from the loader ---- */

typedef struct {
    char *run;
    char *tag;
    BoardKind kind;
    char *plugin;
    gboolean replace;     /* drop the series' points before appending */
    /* SCALAR */
    GArray *steps;        /* gint64 */
    GArray *step_x;       /* double: the steps as doubles, or empty (made on apply) */
    GArray *wall;         /* double */
    GArray *values;       /* double */
    /* others */
    GPtrArray *blobs;     /* BoardBlob* (owned) */
} BoardSeriesDelta;

typedef struct {
    char *run;
    char *dir;
    double start_time;
} BoardRunInfo;

typedef struct {
    char *path;
    char *message;        /* NULL when the file is fine again */
} BoardFileError;

typedef struct {
    GPtrArray *runs;      /* BoardRunInfo*: every run now known, in name order */
    GPtrArray *deltas;    /* BoardSeriesDelta* */
    GPtrArray *errors;    /* BoardFileError*: files with damage */
    char *load_error;     /* the logdir itself could not be read, or NULL */
    gint64 points;        /* points in this update (for statistics) */
    gboolean complete;    /* the first full read is done */
} BoardUpdate;

BoardUpdate *board_update_new (void);
void board_update_free (BoardUpdate *u);
void board_update_add_run (BoardUpdate *u, const char *run, const char *dir, double start_time);
/* A new delta for (run, tag), owned by u, for the caller to fill. */
BoardSeriesDelta *board_update_add_delta (BoardUpdate *u, const char *run, const char *tag,
                                          BoardKind kind, const char *plugin, gboolean replace);
void board_update_add_error (BoardUpdate *u, const char *path, const char *message);

/* ---- BoardDataset ---- */

#define BOARD_TYPE_DATASET (board_dataset_get_type ())
G_DECLARE_FINAL_TYPE (BoardDataset, board_dataset, BOARD, DATASET, GObject)

BoardDataset *board_dataset_new (void);

/* The runs, a GListModel of BoardRun in name order; borrowed. */
GListModel *board_dataset_get_runs (BoardDataset *ds);
BoardRun *board_dataset_find_run (BoardDataset *ds, const char *name);

/* Applies an update (takes ownership of u).  Emits "run-added" for each
 * new run, "series-changed" (run, tag) for each changed series,
 * "tags-changed" when a (kind, tag) appears, "errors-changed" when the
 * set of damaged files changes, and finally "changed". */
void board_dataset_apply (BoardDataset *ds, BoardUpdate *u);

/* Every tag holding series of `kind` in any run, sorted; a new array of
 * borrowed strings (free the array). */
GPtrArray *board_dataset_tags (BoardDataset *ds, BoardKind kind);

/* Damaged files: a GHashTable path -> message; borrowed. */
GHashTable *board_dataset_get_errors (BoardDataset *ds);
/* The logdir's own load error, or NULL. */
const char *board_dataset_get_load_error (BoardDataset *ds);

/* Total points held and whether the first full read is done. */
gint64 board_dataset_get_point_count (BoardDataset *ds);
gboolean board_dataset_is_complete (BoardDataset *ds);

/* Sets a remembered color for a run name, applied when the run appears
 * (and now, if it exists). */
void board_dataset_set_run_color (BoardDataset *ds, const char *run, guint32 rgb);
/* The remembered colors: run name -> GUINT_TO_POINTER (0xRRGGBB); borrowed.
 * "colors-changed" is emitted when board_dataset_set_run_color adds one. */
GHashTable *board_dataset_get_run_colors (BoardDataset *ds);

G_END_DECLS
