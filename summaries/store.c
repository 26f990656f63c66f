/* The SQLite store (the schema and contract are in
 * sluice/summaries/store.h).
 *
 * Ingest: the logdir is walked like the in-memory logdir (walk.c); runs,
 * files and tags already in the database are loaded into hash maps first,
 * so the per-event work is one map lookup and one prepared INSERT.  Each
 * file is read from its stored offset in batches of BATCH_EVENTS events;
 * a batch is one transaction that also stores the new offset, the tag
 * statistics (count, step range) and run start times, which is what makes
 * an interrupted ingest resume without duplicates.
 *
 * Queries: a series is scanned through the (tag_id, step) index in step
 * order; downsampling keeps, per bucket of steps, the points holding the
 * minimum and maximum value and the last point, in a single pass.
 */
#include "config.h"

#include "sluice/summaries/store.h"

#include <inttypes.h>
#include <math.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "sluice/alloc.h"
#include "sluice/summaries/reader.h"
#include "sample-private.h"
#include "summaries-private.h"

#define SCHEMA_VERSION "1"
#define BATCH_EVENTS 50000

static const char schema_sql[] =
    "CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);"
    "CREATE TABLE IF NOT EXISTS runs("
    "  run_id INTEGER PRIMARY KEY,"
    "  name TEXT NOT NULL UNIQUE,"
    "  start_time REAL);"
    "CREATE TABLE IF NOT EXISTS files("
    "  file_id INTEGER PRIMARY KEY,"
    "  run_id INTEGER NOT NULL REFERENCES runs(run_id),"
    "  path TEXT NOT NULL UNIQUE,"
    "  offset INTEGER NOT NULL DEFAULT 0,"
    "  events INTEGER NOT NULL DEFAULT 0,"
    "  error TEXT);"
    "CREATE TABLE IF NOT EXISTS tags("
    "  tag_id INTEGER PRIMARY KEY,"
    "  run_id INTEGER NOT NULL REFERENCES runs(run_id),"
    "  name TEXT NOT NULL,"
    "  kind TEXT NOT NULL,"
    "  plugin TEXT NOT NULL DEFAULT '',"
    "  count INTEGER NOT NULL DEFAULT 0,"
    "  min_step INTEGER,"
    "  max_step INTEGER,"
    "  UNIQUE(run_id, name));"
    "CREATE TABLE IF NOT EXISTS scalars("
    "  tag_id INTEGER NOT NULL REFERENCES tags(tag_id),"
    "  step INTEGER NOT NULL,"
    "  wall_time REAL NOT NULL,"
    "  value REAL);"
    "CREATE INDEX IF NOT EXISTS scalars_tag_step ON scalars(tag_id, step);"
    "CREATE TABLE IF NOT EXISTS tensors("
    "  tag_id INTEGER NOT NULL REFERENCES tags(tag_id),"
    "  step INTEGER NOT NULL,"
    "  wall_time REAL NOT NULL,"
    "  idx INTEGER NOT NULL DEFAULT 0,"
    "  width INTEGER,"
    "  height INTEGER,"
    "  data BLOB NOT NULL);"
    "CREATE INDEX IF NOT EXISTS tensors_tag_step ON tensors(tag_id, step);"
    "CREATE VIEW IF NOT EXISTS scalar_points AS"
    "  SELECT r.name AS run, t.name AS tag, s.step AS step, s.wall_time AS wall_time,"
    "         s.value AS value"
    "  FROM scalars s JOIN tags t ON s.tag_id = t.tag_id JOIN runs r ON t.run_id = r.run_id;"
    "INSERT OR IGNORE INTO meta(key, value) VALUES('schema_version', '" SCHEMA_VERSION "');";

enum {
    STMT_INS_SCALAR,
    STMT_INS_TENSOR,
    STMT_INS_RUN,
    STMT_INS_FILE,
    STMT_INS_TAG,
    STMT_UPD_FILE,
    STMT_UPD_TAG,
    STMT_UPD_RUN,
    STMT_COUNT
};

static const char *const stmt_sql[STMT_COUNT] = {
    [STMT_INS_SCALAR] = "INSERT INTO scalars(tag_id, step, wall_time, value) VALUES(?, ?, ?, ?)",
    [STMT_INS_TENSOR] = "INSERT INTO tensors(tag_id, step, wall_time, idx, width, height, data)"
                        " VALUES(?, ?, ?, ?, ?, ?, ?)",
    [STMT_INS_RUN] = "INSERT INTO runs(name) VALUES(?)",
    [STMT_INS_FILE] = "INSERT INTO files(run_id, path) VALUES(?, ?)",
    [STMT_INS_TAG] = "INSERT INTO tags(run_id, name, kind, plugin) VALUES(?, ?, ?, ?)",
    [STMT_UPD_FILE] = "UPDATE files SET offset = ?, events = ?, error = ? WHERE file_id = ?",
    [STMT_UPD_TAG] = "UPDATE tags SET count = count + ?,"
                     " min_step = CASE WHEN min_step IS NULL OR ? < min_step THEN ? ELSE min_step END,"
                     " max_step = CASE WHEN max_step IS NULL OR ? > max_step THEN ? ELSE max_step END"
                     " WHERE tag_id = ?",
    [STMT_UPD_RUN] = "UPDATE runs SET start_time = ? WHERE run_id = ?"
                     " AND (start_time IS NULL OR start_time > ?)",
};

struct sl_store {
    sqlite3 *db;
    char *path;
    sqlite3_stmt *stmt[STMT_COUNT];
};

static sl_code db_error(sl_store *s, sl_status *st, const char *what)
{
    int rc = sqlite3_errcode(s->db);
    sl_code code = rc == SQLITE_NOMEM || rc == SQLITE_FULL ? SL_RESOURCE_EXHAUSTED : SL_INTERNAL;
    return sl_status_set(st, code, "%s in database '%s': %s", what, s->path,
                         sqlite3_errmsg(s->db));
}

/* ---- open and close ------------------------------------------------------ */

sl_store *sl_store_open(const char *path, sl_status *st)
{
    sl_store *s = sl_calloc(1, sizeof(*s));
    if (!s) {
        sl_status_set(st, SL_RESOURCE_EXHAUSTED, "out of memory opening database '%s'", path);
        return NULL;
    }
    s->path = sl_strdup(path);
    if (!s->path) {
        sl_free(s);
        sl_status_set(st, SL_RESOURCE_EXHAUSTED, "out of memory opening database '%s'", path);
        return NULL;
    }
    /* NOMUTEX: a store belongs to one thread at a time (store.h), so
     * SQLite's per-call mutexes would only cost time */
    int rc = sqlite3_open_v2(path, &s->db,
                             SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL);
    if (rc != SQLITE_OK) {
        if (s->db)
            db_error(s, st, "cannot open");
        else
            sl_status_set(st, SL_RESOURCE_EXHAUSTED, "out of memory opening database '%s'", path);
        goto err_close;
    }
    sqlite3_busy_timeout(s->db, 5000);
    if (sqlite3_exec(s->db,
                     "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"
                     "PRAGMA cache_size=-65536; PRAGMA foreign_keys=OFF;",
                     NULL, NULL, NULL) != SQLITE_OK) {
        db_error(s, st, "cannot configure");
        goto err_close;
    }
    if (sqlite3_exec(s->db, schema_sql, NULL, NULL, NULL) != SQLITE_OK) {
        db_error(s, st, "cannot create the schema");
        goto err_close;
    }
    sqlite3_stmt *q;
    if (sqlite3_prepare_v2(s->db, "SELECT value FROM meta WHERE key = 'schema_version'", -1, &q,
                           NULL) != SQLITE_OK) {
        db_error(s, st, "cannot read the schema version");
        goto err_close;
    }
    bool ok = sqlite3_step(q) == SQLITE_ROW &&
              strcmp((const char *)sqlite3_column_text(q, 0), SCHEMA_VERSION) == 0;
    sqlite3_finalize(q);
    if (!ok) {
        sl_status_set(st, SL_FAILED_PRECONDITION,
                      "database '%s' has another schema version (want %s)", path, SCHEMA_VERSION);
        goto err_close;
    }
    for (int i = 0; i < STMT_COUNT; i++) {
        if (sqlite3_prepare_v3(s->db, stmt_sql[i], -1, SQLITE_PREPARE_PERSISTENT, &s->stmt[i],
                               NULL) != SQLITE_OK) {
            db_error(s, st, "cannot prepare a statement");
            goto err_close;
        }
    }
    sl_status_clear(st);
    return s;

err_close:
    sl_store_close(s);
    return NULL;
}

void sl_store_close(sl_store *s)
{
    if (!s)
        return;
    for (int i = 0; i < STMT_COUNT; i++)
        sqlite3_finalize(s->stmt[i]);
    sqlite3_close(s->db);
    sl_free(s->path);
    sl_free(s);
}

struct sqlite3 *sl_store_db(sl_store *s)
{
    return s->db;
}

static sl_kind kind_from_name(const char *name)
{
    for (int k = 0; k < SL_KIND_COUNT; k++)
        if (strcmp(sl_kind_name((sl_kind)k), name) == 0)
            return (sl_kind)k;
    return SL_KIND_UNKNOWN;
}

/* ---- ingest -------------------------------------------------------------- */

typedef struct run_state {
    int64_t run_id;
    double start_time;   /* NaN when unknown */
    bool dirty;
} run_state;

typedef struct file_state {
    int64_t file_id;
    size_t run;          /* index in runs */
    char *path;          /* absolute (as found by the walk), NULL when not seen this time */
    uint64_t offset;
    int64_t events;
    bool damaged;
} file_state;

typedef struct tag_state {
    int64_t tag_id;
    sl_kind kind;
    int64_t count;       /* points added in this batch */
    int64_t min_step;
    int64_t max_step;
    bool dirty;
} tag_state;

typedef struct ingest {
    sl_store *s;
    sl__strmap run_names;  /* name -> index in runs */
    run_state *runs;
    size_t n_runs, cap_runs;
    sl__strmap file_keys;  /* "<run>/<basename>" -> index in files */
    file_state *files;
    size_t n_files, cap_files;
    sl__strmap tag_keys;   /* run_id (8 bytes) + tag -> index in tags */
    tag_state *tags;
    size_t n_tags, cap_tags;
    size_t *dirty_tags;
    size_t n_dirty, cap_dirty;
    sl__buf key;           /* scratch for tag keys */
    sl__buf le;            /* scratch for little-endian histogram rows */
    sl__sampler sm;
    sl_store_ingest_stats stats;
} ingest;

static void ingest_release(ingest *in)
{
    sl__strmap_release(&in->run_names);
    sl__strmap_release(&in->file_keys);
    sl__strmap_release(&in->tag_keys);
    for (size_t i = 0; i < in->n_files; i++)
        sl_free(in->files[i].path);
    sl_free(in->runs);
    sl_free(in->files);
    sl_free(in->tags);
    sl_free(in->dirty_tags);
    sl__buf_release(&in->key);
    sl__buf_release(&in->le);
    sl__sampler_release(&in->sm);
}

/* Grows an array of `size`-byte elements to hold one more. */
static bool grow(void **arr, size_t *cap, size_t n, size_t size)
{
    if (n < *cap)
        return true;
    size_t nc = *cap ? *cap * 2 : 16;
    void *p = sl_realloc(*arr, nc * size);
    if (!p)
        return false;
    *arr = p;
    *cap = nc;
    return true;
}

static sl_code oom(sl_status *st)
{
    return sl_status_set(st, SL_RESOURCE_EXHAUSTED, "out of memory ingesting a logdir");
}

static sl_code add_run_state(ingest *in, const char *name, int64_t run_id, double start,
                             size_t *index, sl_status *st)
{
    if (!grow((void **)&in->runs, &in->cap_runs, in->n_runs, sizeof(*in->runs)))
        return oom(st);
    sl_code c = sl__strmap_add(&in->run_names, name, strlen(name), (int64_t)in->n_runs, NULL, st);
    if (c != SL_OK)
        return c;
    in->runs[in->n_runs] = (run_state){run_id, start, false};
    *index = in->n_runs++;
    return SL_OK;
}

static const uint8_t *tag_key(ingest *in, int64_t run_id, const void *tag, size_t len,
                              size_t *key_len, sl_status *st)
{
    in->key.len = 0;
    if (sl__buf_reserve(&in->key, 8 + len, st) != SL_OK)
        return NULL;
    memcpy(in->key.data, &run_id, 8);
    memcpy(in->key.data + 8, tag, len);
    *key_len = 8 + len;
    return in->key.data;
}

static sl_code add_tag_state(ingest *in, int64_t run_id, const void *tag, size_t len,
                             int64_t tag_id, sl_kind kind, size_t *index, sl_status *st)
{
    if (!grow((void **)&in->tags, &in->cap_tags, in->n_tags, sizeof(*in->tags)))
        return oom(st);
    size_t klen;
    const uint8_t *k = tag_key(in, run_id, tag, len, &klen, st);
    if (!k)
        return sl_status_code(st);
    sl_code c = sl__strmap_add(&in->tag_keys, k, klen, (int64_t)in->n_tags, NULL, st);
    if (c != SL_OK)
        return c;
    in->tags[in->n_tags] = (tag_state){tag_id, kind, 0, 0, 0, false};
    *index = in->n_tags++;
    return SL_OK;
}

static sl_code load_state(ingest *in, sl_status *st)
{
    sl_store *s = in->s;
    sqlite3_stmt *q = NULL;
    sl_code c = SL_OK;
    if (sqlite3_prepare_v2(s->db, "SELECT run_id, name, start_time FROM runs", -1, &q, NULL) !=
        SQLITE_OK)
        return db_error(s, st, "cannot load runs");
    int rc;
    while ((rc = sqlite3_step(q)) == SQLITE_ROW && c == SL_OK) {
        size_t idx;
        double start = sqlite3_column_type(q, 2) == SQLITE_NULL ? NAN : sqlite3_column_double(q, 2);
        c = add_run_state(in, (const char *)sqlite3_column_text(q, 1), sqlite3_column_int64(q, 0),
                          start, &idx, st);
    }
    sqlite3_finalize(q);
    if (c != SL_OK)
        return c;
    if (rc != SQLITE_DONE)
        return db_error(s, st, "cannot load runs");

    if (sqlite3_prepare_v2(s->db,
                           "SELECT f.file_id, r.name, f.path, f.offset, f.events, f.error"
                           " FROM files f JOIN runs r ON f.run_id = r.run_id",
                           -1, &q, NULL) != SQLITE_OK)
        return db_error(s, st, "cannot load files");
    while ((rc = sqlite3_step(q)) == SQLITE_ROW && c == SL_OK) {
        const char *run = (const char *)sqlite3_column_text(q, 1);
        const char *key = (const char *)sqlite3_column_text(q, 2);
        int64_t *ri = sl__strmap_find(&in->run_names, run, strlen(run));
        if (!ri)
            continue;
        if (!grow((void **)&in->files, &in->cap_files, in->n_files, sizeof(*in->files))) {
            c = oom(st);
            break;
        }
        c = sl__strmap_add(&in->file_keys, key, strlen(key), (int64_t)in->n_files, NULL, st);
        if (c != SL_OK)
            break;
        in->files[in->n_files++] = (file_state){
            .file_id = sqlite3_column_int64(q, 0),
            .run = (size_t)*ri,
            .offset = (uint64_t)sqlite3_column_int64(q, 3),
            .events = sqlite3_column_int64(q, 4),
            .damaged = sqlite3_column_type(q, 5) != SQLITE_NULL,
        };
    }
    sqlite3_finalize(q);
    if (c != SL_OK)
        return c;
    if (rc != SQLITE_DONE)
        return db_error(s, st, "cannot load files");

    if (sqlite3_prepare_v2(s->db, "SELECT tag_id, run_id, name, kind FROM tags", -1, &q, NULL) !=
        SQLITE_OK)
        return db_error(s, st, "cannot load tags");
    while ((rc = sqlite3_step(q)) == SQLITE_ROW && c == SL_OK) {
        size_t idx;
        const void *name = sqlite3_column_blob(q, 2);
        int len = sqlite3_column_bytes(q, 2);
        c = add_tag_state(in, sqlite3_column_int64(q, 1), name ? name : "", (size_t)len,
                          sqlite3_column_int64(q, 0),
                          kind_from_name((const char *)sqlite3_column_text(q, 3)), &idx, st);
    }
    sqlite3_finalize(q);
    if (c != SL_OK)
        return c;
    if (rc != SQLITE_DONE)
        return db_error(s, st, "cannot load tags");
    return SL_OK;
}

/* The walk callback: makes sure the run and its files have rows. */
static sl_code on_run_dir(void *ctx, const char *run, const char *dir, const char *const *files,
                          size_t n_files, sl_status *st)
{
    ingest *in = ctx;
    sl_store *s = in->s;
    int64_t *ri = sl__strmap_find(&in->run_names, run, strlen(run));
    size_t run_index;
    if (ri) {
        run_index = (size_t)*ri;
    } else {
        sqlite3_stmt *q = s->stmt[STMT_INS_RUN];
        sqlite3_bind_text(q, 1, run, -1, SQLITE_STATIC);
        int rc = sqlite3_step(q);
        sqlite3_reset(q);
        if (rc != SQLITE_DONE)
            return db_error(s, st, "cannot add a run");
        sl_code c = add_run_state(in, run, sqlite3_last_insert_rowid(s->db), NAN, &run_index, st);
        if (c != SL_OK)
            return c;
    }
    for (size_t i = 0; i < n_files; i++) {
        char *key = strcmp(run, ".") == 0 ? sl__path_join(".", files[i])
                                           : sl__path_join(run, files[i]);
        char *path = sl__path_join(dir, files[i]);
        sl_code c = SL_OK;
        if (!key || !path) {
            c = oom(st);
            goto next;
        }
        int64_t *fi = sl__strmap_find(&in->file_keys, key, strlen(key));
        if (fi) {
            file_state *f = &in->files[*fi];
            sl_free(f->path);
            f->path = path;
            path = NULL;
            goto next;
        }
        sqlite3_stmt *q = s->stmt[STMT_INS_FILE];
        sqlite3_bind_int64(q, 1, in->runs[run_index].run_id);
        sqlite3_bind_text(q, 2, key, -1, SQLITE_STATIC);
        int rc = sqlite3_step(q);
        sqlite3_reset(q);
        if (rc != SQLITE_DONE) {
            c = db_error(s, st, "cannot add a file");
            goto next;
        }
        if (!grow((void **)&in->files, &in->cap_files, in->n_files, sizeof(*in->files))) {
            c = oom(st);
            goto next;
        }
        c = sl__strmap_add(&in->file_keys, key, strlen(key), (int64_t)in->n_files, NULL, st);
        if (c != SL_OK)
            goto next;
        in->files[in->n_files++] = (file_state){
            .file_id = sqlite3_last_insert_rowid(s->db),
            .run = run_index,
            .path = path,
        };
        path = NULL;
    next:
        sl_free(key);
        sl_free(path);
        if (c != SL_OK)
            return c;
    }
    return SL_OK;
}

/* The tag state of (run, tag), created (with its row) when new. */
static tag_state *get_tag(ingest *in, const run_state *run, sl_bytes tag, sl_kind kind,
                          sl_bytes plugin, bool create, sl_status *st)
{
    size_t klen;
    const uint8_t *k = tag_key(in, run->run_id, tag.data, tag.size, &klen, st);
    if (!k)
        return NULL;
    int64_t *ti = sl__strmap_find(&in->tag_keys, k, klen);
    if (ti)
        return &in->tags[*ti];
    if (!create)
        return NULL;
    sl_store *s = in->s;
    sqlite3_stmt *q = s->stmt[STMT_INS_TAG];
    sqlite3_bind_int64(q, 1, run->run_id);
    sqlite3_bind_text(q, 2, (const char *)tag.data, (int)tag.size, SQLITE_STATIC);
    sqlite3_bind_text(q, 3, sl_kind_name(kind), -1, SQLITE_STATIC);
    sqlite3_bind_text(q, 4, plugin.size ? (const char *)plugin.data : "", (int)plugin.size,
                      SQLITE_STATIC);
    int rc = sqlite3_step(q);
    sqlite3_reset(q);
    if (rc != SQLITE_DONE) {
        db_error(s, st, "cannot add a tag");
        return NULL;
    }
    size_t idx;
    if (add_tag_state(in, run->run_id, tag.data, tag.size, sqlite3_last_insert_rowid(s->db), kind,
                      &idx, st) != SL_OK)
        return NULL;
    return &in->tags[idx];
}

static sl_code note_point(ingest *in, tag_state *t, int64_t step, sl_status *st)
{
    if (!t->dirty) {
        if (!grow((void **)&in->dirty_tags, &in->cap_dirty, in->n_dirty, sizeof(size_t)))
            return oom(st);
        in->dirty_tags[in->n_dirty++] = (size_t)(t - in->tags);
        t->dirty = true;
        t->count = 0;
        t->min_step = t->max_step = step;
    }
    t->count++;
    if (step < t->min_step)
        t->min_step = step;
    if (step > t->max_step)
        t->max_step = step;
    return SL_OK;
}

static sl_code insert_blob(ingest *in, tag_state *t, const sl_point *pt, int idx, const void *data,
                           size_t size, sl_status *st)
{
    sl_store *s = in->s;
    sqlite3_stmt *q = s->stmt[STMT_INS_TENSOR];
    sqlite3_bind_int64(q, 1, t->tag_id);
    sqlite3_bind_int64(q, 2, pt->step);
    sqlite3_bind_double(q, 3, pt->wall_time);
    sqlite3_bind_int(q, 4, idx);
    if (t->kind == SL_KIND_IMAGE) {
        sqlite3_bind_int(q, 5, pt->payload->width);
        sqlite3_bind_int(q, 6, pt->payload->height);
    } else {
        sqlite3_bind_null(q, 5);
        sqlite3_bind_null(q, 6);
    }
    sqlite3_bind_blob64(q, 7, data ? data : "", size, SQLITE_STATIC);
    int rc = sqlite3_step(q);
    sqlite3_reset(q);
    if (rc != SQLITE_DONE)
        return db_error(s, st, "cannot insert a tensor");
    in->stats.tensors++;
    return SL_OK;
}

static sl_code store_point(ingest *in, tag_state *t, const sl_point *pt, sl_status *st)
{
    sl_store *s = in->s;
    sl_code c;
    if (t->kind == SL_KIND_SCALAR) {
        sqlite3_stmt *q = s->stmt[STMT_INS_SCALAR];
        sqlite3_bind_int64(q, 1, t->tag_id);
        sqlite3_bind_int64(q, 2, pt->step);
        sqlite3_bind_double(q, 3, pt->wall_time);
        if (isnan(pt->value))
            sqlite3_bind_null(q, 4);
        else
            sqlite3_bind_double(q, 4, pt->value);
        int rc = sqlite3_step(q);
        sqlite3_reset(q);
        if (rc != SQLITE_DONE)
            return db_error(s, st, "cannot insert a scalar");
        in->stats.scalars++;
    } else if (t->kind == SL_KIND_HISTOGRAM) {
        size_t n = (size_t)pt->payload->n_buckets * 3;
        in->le.len = 0;
        if ((c = sl__buf_reserve(&in->le, n * 8, st)) != SL_OK)
            return c;
        for (size_t i = 0; i < n; i++) {
            uint64_t u;
            memcpy(&u, &pt->payload->buckets[i], 8);
            sl__store_le64(in->le.data + 8 * i, u);
        }
        if ((c = insert_blob(in, t, pt, 0, in->le.data, n * 8, st)) != SL_OK)
            return c;
    } else {
        for (int32_t i = 0; i < pt->payload->n_blobs; i++) {
            const sl_bytes *b = &pt->payload->blobs[i];
            if ((c = insert_blob(in, t, pt, i, b->data, b->size, st)) != SL_OK)
                return c;
        }
    }
    return note_point(in, t, pt->step, st);
}

static sl_code ingest_event(ingest *in, run_state *run, const sl_event *ev, sl_status *st)
{
    if (isnan(run->start_time) || ev->wall_time < run->start_time) {
        run->start_time = ev->wall_time;
        run->dirty = true;
    }
    sl_point pt;
    sl_code c;
    if (ev->what != SL_EVENT_SUMMARY) {
        sl_bytes tag;
        sl_kind kind = sl__event_blob(&in->sm, ev, &tag, &pt, st);
        if (kind == SL_KIND_UNKNOWN)
            return sl_status_code(st);
        tag_state *t = get_tag(in, run, tag, kind, (sl_bytes){0}, true, st);
        if (!t)
            return sl_status_code(st);
        if (t->kind != kind) {
            in->stats.skipped_values++;
            return SL_OK;
        }
        return store_point(in, t, &pt, st);
    }
    sl_summary_iter it;
    sl_summary_iter_init(&it, ev->body);
    sl_summary_value v;
    while ((c = sl__summary_iter_next(&it, &v, st)) == SL_OK) {
        sl_bytes tag = sl_summary_value_tag(&v);
        tag_state *t = get_tag(in, run, tag, SL_KIND_UNKNOWN, (sl_bytes){0}, false, st);
        if (!t && sl_status_code(st) != SL_OK)
            return sl_status_code(st);
        sl_kind kind = sl__value_kind(&v, t ? t->kind : SL_KIND_UNKNOWN);
        if (kind == SL_KIND_UNKNOWN || (t && t->kind != kind)) {
            in->stats.skipped_values++;
            continue;
        }
        pt.step = ev->step;
        pt.wall_time = ev->wall_time;
        c = sl__sampler_decode(&in->sm, &v, kind, &pt, st);
        if (c == SL_INVALID_ARGUMENT) {
            in->stats.skipped_values++;
            continue;
        }
        if (c != SL_OK)
            return c;
        if (!t && !(t = get_tag(in, run, tag, kind, v.plugin_name, true, st)))
            return sl_status_code(st);
        if ((c = store_point(in, t, &pt, st)) != SL_OK)
            return c;
    }
    sl_status_clear(st);
    return c == SL_OUT_OF_RANGE ? SL_OK : c;
}

/* Writes the file's progress, tag statistics and run start times; part
 * of the batch's transaction. */
static sl_code save_progress(ingest *in, file_state *f, const char *error, sl_status *st)
{
    sl_store *s = in->s;
    sqlite3_stmt *q = s->stmt[STMT_UPD_FILE];
    sqlite3_bind_int64(q, 1, (int64_t)f->offset);
    sqlite3_bind_int64(q, 2, f->events);
    if (error)
        sqlite3_bind_text(q, 3, error, -1, SQLITE_STATIC);
    else
        sqlite3_bind_null(q, 3);
    sqlite3_bind_int64(q, 4, f->file_id);
    int rc = sqlite3_step(q);
    sqlite3_reset(q);
    if (rc != SQLITE_DONE)
        return db_error(s, st, "cannot save a file's offset");
    for (size_t i = 0; i < in->n_dirty; i++) {
        tag_state *t = &in->tags[in->dirty_tags[i]];
        q = s->stmt[STMT_UPD_TAG];
        sqlite3_bind_int64(q, 1, t->count);
        sqlite3_bind_int64(q, 2, t->min_step);
        sqlite3_bind_int64(q, 3, t->min_step);
        sqlite3_bind_int64(q, 4, t->max_step);
        sqlite3_bind_int64(q, 5, t->max_step);
        sqlite3_bind_int64(q, 6, t->tag_id);
        rc = sqlite3_step(q);
        sqlite3_reset(q);
        if (rc != SQLITE_DONE)
            return db_error(s, st, "cannot update a tag");
        t->dirty = false;
    }
    in->n_dirty = 0;
    for (size_t i = 0; i < in->n_runs; i++) {
        run_state *r = &in->runs[i];
        if (!r->dirty)
            continue;
        q = s->stmt[STMT_UPD_RUN];
        sqlite3_bind_double(q, 1, r->start_time);
        sqlite3_bind_int64(q, 2, r->run_id);
        sqlite3_bind_double(q, 3, r->start_time);
        rc = sqlite3_step(q);
        sqlite3_reset(q);
        if (rc != SQLITE_DONE)
            return db_error(s, st, "cannot update a run");
        r->dirty = false;
    }
    return SL_OK;
}

static sl_code exec(sl_store *s, const char *sql, sl_status *st)
{
    if (sqlite3_exec(s->db, sql, NULL, NULL, NULL) != SQLITE_OK)
        return db_error(s, st, sql);
    return SL_OK;
}

static sl_code ingest_file(ingest *in, file_state *f, sl_status *st)
{
    struct stat sb;
    if (f->damaged || !f->path || stat(f->path, &sb) != 0 || (uint64_t)sb.st_size <= f->offset)
        return SL_OK;
    sl_status *fst = sl_status_new();
    if (!fst)
        return oom(st);
    sl_code ret = SL_OK;
    sl_event_reader *rd = sl_event_reader_open(f->path, f->offset, fst);
    if (!rd) {
        if (sl_status_code(fst) == SL_RESOURCE_EXHAUSTED)
            ret = sl_status_set(st, SL_RESOURCE_EXHAUSTED, "%s", sl_status_message(fst));
        goto out_free_status; /* unreadable for now: retried next time */
    }
    in->stats.files++;
    run_state *run = &in->runs[f->run];
    bool more = true;
    while (more && ret == SL_OK) {
        if ((ret = exec(in->s, "BEGIN", st)) != SL_OK)
            break;
        const char *error = NULL;
        sl_event ev;
        sl_code c = SL_OK;
        int n = 0;
        for (; n < BATCH_EVENTS; n++) {
            c = sl_event_reader_next(rd, &ev, fst);
            if (c != SL_OK)
                break;
            in->stats.events++;
            c = ingest_event(in, run, &ev, fst);
            if (c == SL_DATA_LOSS) {
                sl_status_prefix(fst, "bad event at offset %" PRIu64 " in '%s'", ev.offset,
                                 f->path);
                break;
            }
            if (c != SL_OK) {
                ret = sl_status_set(st, c, "%s", sl_status_message(fst));
                break;
            }
            f->events++;
            f->offset = sl_event_reader_offset(rd);
        }
        if (ret != SL_OK) {
            sqlite3_exec(in->s->db, "ROLLBACK", NULL, NULL, NULL);
            break;
        }
        if (n < BATCH_EVENTS) {
            more = false;
            if (c == SL_DATA_LOSS) {
                error = sl_status_message(fst);
                f->damaged = true;
                in->stats.damaged_files++;
            }
        }
        if ((ret = save_progress(in, f, error, st)) != SL_OK ||
            (ret = exec(in->s, "COMMIT", st)) != SL_OK) {
            sqlite3_exec(in->s->db, "ROLLBACK", NULL, NULL, NULL);
            break;
        }
    }
    in->stats.bytes += (int64_t)sl_event_reader_bytes_read(rd);
    sl_event_reader_free(rd);
out_free_status:
    sl_status_free(fst);
    return ret;
}

sl_code sl_store_ingest(sl_store *s, const char *logdir, sl_store_ingest_stats *stats,
                        sl_status *st)
{
    ingest in;
    memset(&in, 0, sizeof in);
    in.s = s;
    sl_code c = load_state(&in, st);
    if (c != SL_OK)
        goto out;
    if ((c = exec(s, "BEGIN", st)) != SL_OK)
        goto out;
    c = sl__walk_logdir(logdir, on_run_dir, &in, st);
    if (c == SL_OK) {
        sqlite3_stmt *q;
        if (sqlite3_prepare_v2(s->db, "INSERT OR REPLACE INTO meta(key, value) VALUES('logdir', ?)",
                               -1, &q, NULL) == SQLITE_OK) {
            sqlite3_bind_text(q, 1, logdir, -1, SQLITE_STATIC);
            sqlite3_step(q);
            sqlite3_finalize(q);
        }
        c = exec(s, "COMMIT", st);
    }
    if (c != SL_OK) {
        sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
        goto out;
    }
    for (size_t i = 0; i < in.n_files && c == SL_OK; i++)
        c = ingest_file(&in, &in.files[i], st);
out:
    if (stats)
        *stats = in.stats;
    ingest_release(&in);
    if (c == SL_OK)
        sl_status_clear(st);
    return c;
}

/* ---- queries ------------------------------------------------------------- */

static sl_code find_tag(sl_store *s, const char *run, const char *tag, int64_t *tag_id,
                        sl_kind *kind, sl_status *st)
{
    sqlite3_stmt *q;
    if (sqlite3_prepare_v2(s->db,
                           "SELECT t.tag_id, t.kind FROM tags t JOIN runs r ON t.run_id = r.run_id"
                           " WHERE r.name = ? AND t.name = ?",
                           -1, &q, NULL) != SQLITE_OK)
        return db_error(s, st, "cannot look up a tag");
    sqlite3_bind_text(q, 1, run, -1, SQLITE_STATIC);
    sqlite3_bind_text(q, 2, tag, -1, SQLITE_STATIC);
    int rc = sqlite3_step(q);
    sl_code c = SL_OK;
    if (rc == SQLITE_ROW) {
        *tag_id = sqlite3_column_int64(q, 0);
        *kind = kind_from_name((const char *)sqlite3_column_text(q, 1));
    } else if (rc == SQLITE_DONE) {
        c = sl_status_set(st, SL_NOT_FOUND, "no tag '%s' in run '%s' of database '%s'", tag, run,
                          s->path);
    } else {
        c = db_error(s, st, "cannot look up a tag");
    }
    sqlite3_finalize(q);
    return c;
}

typedef struct point_buf {
    sl_store_point *p;
    size_t n, cap;
} point_buf;

static bool push_point(point_buf *b, const sl_store_point *p)
{
    if (!grow((void **)&b->p, &b->cap, b->n, sizeof(*b->p)))
        return false;
    b->p[b->n++] = *p;
    return true;
}

/* Emits the bucket's kept points (min, max, last) in step order, once each. */
static bool flush_bucket(point_buf *b, sl_store_point *kept, int64_t *order, int nk)
{
    for (int i = 1; i < nk; i++) /* insertion sort of at most 3 by reading order */
        for (int j = i; j > 0 && order[j] < order[j - 1]; j--) {
            sl_store_point tp = kept[j];
            kept[j] = kept[j - 1];
            kept[j - 1] = tp;
            int64_t to = order[j];
            order[j] = order[j - 1];
            order[j - 1] = to;
        }
    for (int i = 0; i < nk; i++) {
        if (i > 0 && order[i] == order[i - 1])
            continue;
        if (!push_point(b, &kept[i]))
            return false;
    }
    return true;
}

sl_code sl_store_query_scalars(sl_store *s, const char *run, const char *tag, int64_t step_min,
                               int64_t step_max, size_t n_buckets, sl_store_point **points,
                               size_t *n_points, sl_status *st)
{
    int64_t tag_id;
    sl_kind kind;
    sl_code c = find_tag(s, run, tag, &tag_id, &kind, st);
    if (c != SL_OK)
        return c;
    if (kind != SL_KIND_SCALAR)
        return sl_status_set(st, SL_FAILED_PRECONDITION, "tag '%s' of run '%s' is a %s, not a scalar",
                             tag, run, sl_kind_name(kind));
    sqlite3_stmt *q;
    int64_t lo = step_min, hi = step_max;
    if (n_buckets > 0) { /* the range of steps actually present */
        if (sqlite3_prepare_v2(s->db,
                               "SELECT min(step), max(step) FROM scalars"
                               " WHERE tag_id = ? AND step BETWEEN ? AND ?",
                               -1, &q, NULL) != SQLITE_OK)
            return db_error(s, st, "cannot query scalars");
        sqlite3_bind_int64(q, 1, tag_id);
        sqlite3_bind_int64(q, 2, step_min);
        sqlite3_bind_int64(q, 3, step_max);
        if (sqlite3_step(q) != SQLITE_ROW) {
            sqlite3_finalize(q);
            return db_error(s, st, "cannot query scalars");
        }
        bool empty = sqlite3_column_type(q, 0) == SQLITE_NULL;
        lo = sqlite3_column_int64(q, 0);
        hi = sqlite3_column_int64(q, 1);
        sqlite3_finalize(q);
        if (empty) {
            *points = NULL;
            *n_points = 0;
            sl_status_clear(st);
            return SL_OK;
        }
    }
    if (sqlite3_prepare_v2(s->db,
                           "SELECT step, wall_time, value FROM scalars"
                           " WHERE tag_id = ? AND step BETWEEN ? AND ? ORDER BY step, rowid",
                           -1, &q, NULL) != SQLITE_OK)
        return db_error(s, st, "cannot query scalars");
    sqlite3_bind_int64(q, 1, tag_id);
    sqlite3_bind_int64(q, 2, lo);
    sqlite3_bind_int64(q, 3, hi);
    point_buf out = {NULL, 0, 0};
    double span = (double)hi - (double)lo + 1.0;
    int64_t bucket = -1;
    sl_store_point kept[3]; /* min, max, last */
    int64_t order[3];
    bool have_min = false;
    int64_t seq = 0;
    int rc;
    c = SL_OK;
    while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
        sl_store_point p;
        p.step = sqlite3_column_int64(q, 0);
        p.wall_time = sqlite3_column_double(q, 1);
        p.value = sqlite3_column_type(q, 2) == SQLITE_NULL ? NAN : sqlite3_column_double(q, 2);
        if (n_buckets == 0) {
            if (!push_point(&out, &p)) {
                c = oom(st);
                break;
            }
            continue;
        }
        int64_t b = (int64_t)(((double)p.step - (double)lo) / span * (double)n_buckets);
        if (b >= (int64_t)n_buckets)
            b = (int64_t)n_buckets - 1;
        if (b < 0)
            b = 0;
        if (b != bucket) {
            if (bucket >= 0 && !flush_bucket(&out, kept, order, have_min ? 3 : 1)) {
                c = oom(st);
                break;
            }
            bucket = b;
            have_min = false;
        }
        seq++;
        if (!isnan(p.value)) {
            if (!have_min) {
                kept[0] = kept[1] = p;
                order[0] = order[1] = seq;
                have_min = true;
            } else {
                if (p.value < kept[0].value) {
                    kept[0] = p;
                    order[0] = seq;
                }
                if (p.value > kept[1].value) {
                    kept[1] = p;
                    order[1] = seq;
                }
            }
        }
        /* the last point sits after min and max, or alone while no min */
        int li = have_min ? 2 : 0;
        kept[li] = p;
        order[li] = seq;
    }
    if (c == SL_OK && rc != SQLITE_DONE)
        c = db_error(s, st, "cannot query scalars");
    if (c == SL_OK && bucket >= 0 && !flush_bucket(&out, kept, order, have_min ? 3 : 1))
        c = oom(st);
    sqlite3_finalize(q);
    if (c != SL_OK) {
        sl_free(out.p);
        return c;
    }
    *points = out.p;
    *n_points = out.n;
    sl_status_clear(st);
    return SL_OK;
}

sl_code sl_store_list_tags(sl_store *s, int (*fn)(void *ctx, const sl_store_tag_info *info),
                           void *ctx, sl_status *st)
{
    sqlite3_stmt *q;
    if (sqlite3_prepare_v2(s->db,
                           "SELECT r.name, t.name, t.kind, t.plugin, t.count, t.min_step, t.max_step"
                           " FROM tags t JOIN runs r ON t.run_id = r.run_id ORDER BY r.name, t.name",
                           -1, &q, NULL) != SQLITE_OK)
        return db_error(s, st, "cannot list tags");
    int rc;
    sl_code c = SL_OK;
    while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
        sl_store_tag_info info = {
            .run = (const char *)sqlite3_column_text(q, 0),
            .tag = (const char *)sqlite3_column_text(q, 1),
            .kind = kind_from_name((const char *)sqlite3_column_text(q, 2)),
            .plugin = (const char *)sqlite3_column_text(q, 3),
            .count = sqlite3_column_int64(q, 4),
            .min_step = sqlite3_column_int64(q, 5),
            .max_step = sqlite3_column_type(q, 6) == SQLITE_NULL ? -1 : sqlite3_column_int64(q, 6),
        };
        if (fn(ctx, &info) != 0) {
            c = sl_status_set(st, SL_CANCELLED, "listing stopped by the caller");
            break;
        }
    }
    if (c == SL_OK && rc != SQLITE_DONE)
        c = db_error(s, st, "cannot list tags");
    sqlite3_finalize(q);
    if (c == SL_OK)
        sl_status_clear(st);
    return c;
}

sl_code sl_store_query_blobs(sl_store *s, const char *run, const char *tag, int64_t step_min,
                             int64_t step_max, int (*fn)(void *ctx, const sl_store_blob *blob),
                             void *ctx, sl_status *st)
{
    int64_t tag_id;
    sl_kind kind;
    sl_code c = find_tag(s, run, tag, &tag_id, &kind, st);
    if (c != SL_OK)
        return c;
    sqlite3_stmt *q;
    if (sqlite3_prepare_v2(s->db,
                           "SELECT step, wall_time, idx, width, height, data FROM tensors"
                           " WHERE tag_id = ? AND step BETWEEN ? AND ? ORDER BY step, rowid",
                           -1, &q, NULL) != SQLITE_OK)
        return db_error(s, st, "cannot query tensors");
    sqlite3_bind_int64(q, 1, tag_id);
    sqlite3_bind_int64(q, 2, step_min);
    sqlite3_bind_int64(q, 3, step_max);
    int rc;
    while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
        sl_store_blob b = {
            .step = sqlite3_column_int64(q, 0),
            .wall_time = sqlite3_column_double(q, 1),
            .idx = sqlite3_column_int(q, 2),
            .width = sqlite3_column_int(q, 3),
            .height = sqlite3_column_int(q, 4),
            .data = sqlite3_column_blob(q, 5),
        };
        b.size = (size_t)sqlite3_column_bytes(q, 5);
        if (fn(ctx, &b) != 0) {
            c = sl_status_set(st, SL_CANCELLED, "query stopped by the caller");
            break;
        }
    }
    if (c == SL_OK && rc != SQLITE_DONE)
        c = db_error(s, st, "cannot query tensors");
    sqlite3_finalize(q);
    if (c == SL_OK)
        sl_status_clear(st);
    return c;
}
