/* The SQLite store: a logdir ingested into one database file, for logdirs
 * too big to hold in memory and for queries by step range.
 *
 * Schema (version 1; the database is in WAL mode, synchronous=NORMAL):
 *
 *   meta(key TEXT PRIMARY KEY, value TEXT)      -- 'schema_version' = '1', 'logdir'
 *   runs(run_id INTEGER PRIMARY KEY, name TEXT UNIQUE,   -- name relative to the logdir, "." = root
 *        start_time REAL)                       -- smallest wall_time seen
 *   files(file_id INTEGER PRIMARY KEY, run_id, path TEXT UNIQUE,  -- "<run>/<basename>"
 *         offset INTEGER,                       -- resume point: end of the last record ingested
 *         events INTEGER,                       -- events ingested from the file
 *         error TEXT)                           -- why the file stopped (damage at an offset)
 *   tags(tag_id INTEGER PRIMARY KEY, run_id, name TEXT, kind TEXT,   -- sl_kind_name()
 *        plugin TEXT, count INTEGER, min_step INTEGER, max_step INTEGER,
 *        UNIQUE(run_id, name))                  -- the (run, tag) index
 *   scalars(tag_id, step INTEGER, wall_time REAL, value REAL)   -- NaN is stored as NULL
 *        INDEX scalars_tag_step(tag_id, step)
 *   tensors(tag_id, step INTEGER, wall_time REAL, idx INTEGER,  -- idx: element of the step
 *           width INTEGER, height INTEGER,       -- images only
 *           data BLOB)                           -- histogram: k*3 float64 LE [left,right,count];
 *                                                -- image, audio: encoded bytes; text: UTF-8;
 *                                                -- graph, meta_graph, run_metadata: serialized
 *                                                -- protos; tensor: a serialized TensorProto
 *        INDEX tensors_tag_step(tag_id, step)
 *   VIEW scalar_points(run, tag, step, wall_time, value)
 *
 * Ingesting is incremental: every file's offset is stored in the same
 * transaction as the rows read from it, so an ingest that stops (crash,
 * kill, a partial record at the end of a file still being written)
 * resumes exactly where it stopped, without duplicates or gaps.  Runs,
 * kinds and conversions are those of the in-memory logdir (logdir.h,
 * series.h).
 *
 * Errors: SQLite failures are SL_INTERNAL (or SL_RESOURCE_EXHAUSTED for
 * SQLITE_NOMEM/SQLITE_FULL) with SQLite's message and the database path.
 *
 * Thread-safety: a store belongs to one thread at a time.  Several stores
 * (in threads or processes) may open one database: WAL lets readers query
 * while one ingests.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "sluice/macros.h"
#include "sluice/status.h"
#include "sluice/summaries/series.h"

SL_BEGIN_DECLS

typedef struct sl_store sl_store;
struct sqlite3;

/* Opens or creates the database at `path` and its schema.  NULL and st
 * set on failure (SL_INTERNAL, SL_FAILED_PRECONDITION for a database of
 * another schema version, SL_RESOURCE_EXHAUSTED).  Caller owns the store. */
SL_API sl_store *sl_store_open(const char *path, sl_status *st);

/* Closes the database and frees the store; NULL is a no-op. */
SL_API void sl_store_close(sl_store *s);

/* The SQLite connection, borrowed, for queries of one's own. */
SL_API struct sqlite3 *sl_store_db(sl_store *s);

typedef struct sl_store_ingest_stats {
    int64_t files;          /* files read from in this ingest */
    int64_t events;
    int64_t scalars;        /* rows added to scalars */
    int64_t tensors;        /* rows added to tensors */
    int64_t skipped_values;
    int64_t bytes;          /* bytes read */
    int64_t damaged_files;  /* files that went bad in this ingest */
} sl_store_ingest_stats;

/* Ingests what `logdir` (a directory or one event file) gained since the
 * last ingest into this database.  `stats` may be NULL.  Damaged files
 * are recorded in files.error and skipped from then on; they do not fail
 * the ingest.  Fails with SL_NOT_FOUND / SL_PERMISSION_DENIED when the
 * logdir cannot be read, SL_INTERNAL / SL_RESOURCE_EXHAUSTED for the
 * database; everything committed before stays. */
SL_API sl_code sl_store_ingest(sl_store *s, const char *logdir, sl_store_ingest_stats *stats,
                               sl_status *st);

typedef struct sl_store_point {
    int64_t step;
    double wall_time;
    double value;   /* NaN where NULL was stored */
} sl_store_point;

/* The scalar points of (run, tag) with step_min <= step <= step_max, in
 * step order.  With n_buckets > 0 the range of steps present is cut into
 * n_buckets equal parts and only the points with the minimum value, the
 * maximum value and the last step of each part are kept (at most
 * 3 * n_buckets points, no spike lost); n_buckets == 0 keeps every point.
 * On success *points (sl_malloc'd, caller frees with sl_free(); NULL when
 * empty) holds *n_points points.  SL_NOT_FOUND when the run or tag does
 * not exist, SL_FAILED_PRECONDITION when the tag is not a scalar. */
SL_API sl_code sl_store_query_scalars(sl_store *s, const char *run, const char *tag,
                                      int64_t step_min, int64_t step_max, size_t n_buckets,
                                      sl_store_point **points, size_t *n_points, sl_status *st);

typedef struct sl_store_tag_info {
    const char *run;
    const char *tag;
    sl_kind kind;
    const char *plugin;
    int64_t count;     /* points (steps) */
    int64_t min_step;
    int64_t max_step;
} sl_store_tag_info;

/* Calls fn for every (run, tag), ordered by run then tag; the strings are
 * borrowed for the call.  A non-zero return from fn stops the listing
 * (SL_CANCELLED). */
SL_API sl_code sl_store_list_tags(sl_store *s,
                                  int (*fn)(void *ctx, const sl_store_tag_info *info), void *ctx,
                                  sl_status *st);

typedef struct sl_store_blob {
    int64_t step;
    double wall_time;
    int32_t idx;      /* element of the step (image number, string number) */
    int32_t width;    /* images */
    int32_t height;
    const void *data; /* borrowed for the call */
    size_t size;
} sl_store_blob;

/* Calls fn for every tensors row of (run, tag) with step_min <= step <=
 * step_max, in (step, idx) order.  SL_NOT_FOUND for an unknown run or
 * tag; a non-zero return from fn stops (SL_CANCELLED). */
SL_API sl_code sl_store_query_blobs(sl_store *s, const char *run, const char *tag,
                                    int64_t step_min, int64_t step_max,
                                    int (*fn)(void *ctx, const sl_store_blob *blob), void *ctx,
                                    sl_status *st);

SL_END_DECLS
