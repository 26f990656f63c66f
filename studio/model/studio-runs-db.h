/* The studio's run history: a SQLite database (by default
 * $XDG_DATA_HOME/sluice/studio-runs.db) with one row per run: its
 * directory, the graph it trained, the run spec text, start and end
 * times, status ("running", "finished", "failed", "crashed",
 * "stopped", "interrupted"), the child's pid while it runs, the last step and the
 * final metrics ("loss 0.12 accuracy 0.97") and where it trains (this
 * computer or a cluster target, studio-cluster.h).  GLib + SQLite, no display.
 *
 * Thread-safety: one thread.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct _StudioRunsDb StudioRunsDb;

typedef struct {
    gint64 id;
    char *dir;
    char *graph;       /* the graph file the user edited, or "" */
    char *spec;
    double started;    /* unix seconds */
    double ended;      /* 0 while running */
    char *status;
    gint64 pid;
    gint64 step, steps;
    char *metrics;
    char *target;      /* studio_target_to_string (); "" : this computer */
} StudioRunRecord;

void studio_run_record_free (StudioRunRecord *r);

StudioRunsDb *studio_runs_db_open (const char *path, GError **error);
/* $XDG_DATA_HOME/sluice/studio-runs.db (the folder made as needed). */
char *studio_runs_db_default_path (void);
void studio_runs_db_close (StudioRunsDb *db);

/* A new row, status "running"; its id, or -1 + error. */
gint64 studio_runs_db_add (StudioRunsDb *db, const char *dir, const char *graph, const char *spec,
                           gint64 pid, gint64 steps, GError **error);
/* Status, end time (0: none), pid (0: none), step and metrics (NULL: kept). */
gboolean studio_runs_db_update (StudioRunsDb *db, gint64 id, const char *status, double ended, gint64 pid,
                                gint64 step, const char *metrics, GError **error);
/* Where the run trains (studio-cluster.h's text), kept so a resume uses
 * the same target. */
gboolean studio_runs_db_set_target (StudioRunsDb *db, gint64 id, const char *target, GError **error);
/* Newest first; StudioRunRecord elements (freed with the array). */
GPtrArray *studio_runs_db_list (StudioRunsDb *db, GError **error);
StudioRunRecord *studio_runs_db_get (StudioRunsDb *db, gint64 id);

G_END_DECLS
