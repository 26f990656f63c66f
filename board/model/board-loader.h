/* The loader thread: reads the logdirs through the summaries library and
 * feeds a BoardDataset on the main thread.
 *
 * One thread per board watches every logdir (sl_tail: inotify, else
 * polling) and, whenever something changed (and at least every 2
 * seconds), has it reloaded and sends what grew since the last time as a
 * BoardUpdate to the main context: only new points are copied and sent,
 * and a series whose earlier points changed (a restart that rewrote its
 * tail) is sent whole.  The reading is shared by up to 4 worker threads
 * (one per processor; SLUICE_BOARD_READERS sets the number): each run is
 * given to a worker when first seen, in turn, and that worker always reads
 * it, in its own sl_logdir (the library is not thread-safe).  New runs are
 * sent first, in name order, so their colors do not depend on which
 * worker reads faster.
 *
 * The first read goes run by run and sends what it has after the first
 * run with data, then at most every second (across the workers), so the
 * first chart of a large logdir is drawn after one run is read; the
 * update that ends it has `complete` set.  A damaged file is reported (BoardFileError) with the
 * file's path; a run directory that was deleted is reported with its
 * path and BOARD_LOADER_DIR_DELETED, its points kept.  With several logdirs, run names get
 * the logdir's base name in front ("logdirname/run").
 *
 * Thread-safety: create and free on the main thread; the thread never
 * touches the dataset itself.
 */
#pragma once

#include "board-dataset.h"

G_BEGIN_DECLS

typedef struct _BoardLoader BoardLoader;

#define BOARD_LOADER_DIR_DELETED "the run's directory was deleted"

/* Starts loading `logdirs` (NULL-terminated) into ds (a reference is
 * kept).  Updates are applied in the thread-default main context of the
 * caller. */
BoardLoader *board_loader_new (BoardDataset *ds, const char *const *logdirs);

/* Asks for a reload now (e.g. the Reload action). */
void board_loader_reload (BoardLoader *l);

/* Stops the thread (waiting for it) and frees; NULL is a no-op. */
void board_loader_free (BoardLoader *l);

G_END_DECLS
