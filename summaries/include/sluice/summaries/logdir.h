/* A logdir in memory: its runs, found the way TensorBoard finds them, and
 * the series (run, tag) merged from every event file of each run, kept
 * up to date as the files grow (FORMATS.md §2).
 *
 * Runs: every directory under the logdir (the logdir included, named ".")
 * that directly holds a file whose name contains "tfevents" is a run,
 * named by its path relative to the logdir; nested runs are runs of their
 * own.  A logdir path that is a single event file gives one run, ".",
 * holding that file.
 *
 * Files: all event files of a run are read, in name order (creation order,
 * thanks to the %010d timestamp), not only the newest.  Each reload reads
 * what was appended to each file since the last one; a partial record at
 * the end of a file is left for the next reload, and a corrupted file
 * keeps every event before the damage and reports the damage (file and
 * offset) through sl_run_file_error() without failing the reload.
 *
 * Series: one per (run, tag), of one kind (series.h), with its points in
 * step order (points of equal step keep their reading order).  A value
 * whose data does not match its tag's kind is skipped and counted.
 *
 * Ownership: the logdir owns its runs and series; run and series pointers
 * stay valid until sl_logdir_free(); a series' points array and payloads
 * are valid until the next sl_logdir_reload() or sl_logdir_free().
 *
 * Thread-safety: none; one thread at a time (the board reloads on a worker
 * thread and publishes results under its own lock).
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sluice/macros.h"
#include "sluice/status.h"
#include "sluice/summaries/series.h"

SL_BEGIN_DECLS

typedef struct sl_logdir sl_logdir;
typedef struct sl_run sl_run;
typedef struct sl_series sl_series;

/* Prepares to read `path` (a directory or a single event file); reads
 * nothing yet.  NULL and st set on failure: SL_NOT_FOUND,
 * SL_PERMISSION_DENIED, SL_RESOURCE_EXHAUSTED.  Caller owns the logdir. */
SL_API sl_logdir *sl_logdir_open(const char *path, sl_status *st);

/* Frees the logdir, its runs and series; NULL is a no-op. */
SL_API void sl_logdir_free(sl_logdir *ld);

typedef struct sl_logdir_reload_stats {
    int64_t new_runs;
    int64_t new_files;
    int64_t events;         /* events read in this reload */
    int64_t points;         /* points added */
    int64_t skipped_values; /* values ignored: unknown kind or data not of the tag's kind */
    int64_t bytes;          /* bytes read */
    int64_t damaged_files;  /* files that went bad in this reload */
} sl_logdir_reload_stats;

/* Walks the logdir for new runs and files and reads what every file
 * gained since the last reload.  `stats` may be NULL.  Damaged files are
 * not errors (see sl_run_file_error()); the call fails only when the
 * logdir itself cannot be read (SL_NOT_FOUND, SL_PERMISSION_DENIED) or
 * memory runs out (SL_RESOURCE_EXHAUSTED); what was read before stays. */
SL_API sl_code sl_logdir_reload(sl_logdir *ld, sl_logdir_reload_stats *stats, sl_status *st);

/* The path given at open; borrowed. */
SL_API const char *sl_logdir_path(const sl_logdir *ld);

/* Runs, sorted by name. */
SL_API size_t sl_logdir_run_count(const sl_logdir *ld);
SL_API sl_run *sl_logdir_run(const sl_logdir *ld, size_t i);
/* NULL when there is no such run. */
SL_API sl_run *sl_logdir_find_run(const sl_logdir *ld, const char *name);

SL_API const char *sl_run_name(const sl_run *run);
/* The directory of the run; borrowed. */
SL_API const char *sl_run_dir(const sl_run *run);
/* The smallest wall_time of the run's events; NaN before any. */
SL_API double sl_run_start_time(const sl_run *run);

/* Series, in the order their tags first appeared. */
SL_API size_t sl_run_series_count(const sl_run *run);
SL_API sl_series *sl_run_series(const sl_run *run, size_t i);
/* NULL when the run has no such tag. */
SL_API sl_series *sl_run_find_series(const sl_run *run, const char *tag);

/* Event files of the run, in name order. */
SL_API size_t sl_run_file_count(const sl_run *run);
SL_API const char *sl_run_file_path(const sl_run *run, size_t i);
/* Events read from the file so far. */
SL_API int64_t sl_run_file_events(const sl_run *run, size_t i);
/* Offset up to which the file was read (the start of any partial record). */
SL_API uint64_t sl_run_file_offset(const sl_run *run, size_t i);
/* Why the file stopped being read (corruption, with its offset; or an
 * open error), or NULL while it is fine.  Borrowed. */
SL_API const char *sl_run_file_error(const sl_run *run, size_t i);

SL_API const char *sl_series_tag(const sl_series *s);
SL_API sl_kind sl_series_kind(const sl_series *s);
/* The plugin name of the tag's first value with metadata; "" if none. */
SL_API const char *sl_series_plugin(const sl_series *s);
SL_API size_t sl_series_count(const sl_series *s);
/* The points, in step order; sl_series_count() of them. */
SL_API const sl_point *sl_series_points(const sl_series *s);
/* Step range; 0 and -1 while empty. */
SL_API int64_t sl_series_min_step(const sl_series *s);
SL_API int64_t sl_series_max_step(const sl_series *s);

SL_END_DECLS
