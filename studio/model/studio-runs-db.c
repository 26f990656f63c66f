/* The run history database (see the header). */
#include "config.h"

#include "studio-runs-db.h"

#include <gio/gio.h>
#include <sqlite3.h>

struct _StudioRunsDb {
    sqlite3 *db;
};

static gboolean
db_error (StudioRunsDb *db, GError **error, const char *what)
{
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, "run history: %s: %s", what, sqlite3_errmsg (db->db));
    return FALSE;
}

void
studio_run_record_free (StudioRunRecord *r)
{
    if (!r)
        return;
    g_free (r->dir);
    g_free (r->graph);
    g_free (r->spec);
    g_free (r->status);
    g_free (r->metrics);
    g_free (r->target);
    g_free (r);
}

char *
studio_runs_db_default_path (void)
{
    char *dir = g_build_filename (g_get_user_data_dir (), "sluice", NULL);
    g_mkdir_with_parents (dir, 0755);
    char *p = g_build_filename (dir, "studio-runs.db", NULL);
    g_free (dir);
    return p;
}

StudioRunsDb *
studio_runs_db_open (const char *path, GError **error)
{
    StudioRunsDb *db = g_new0 (StudioRunsDb, 1);
    if (sqlite3_open (path, &db->db) != SQLITE_OK) {
        db_error (db, error, path);
        studio_runs_db_close (db);
        return NULL;
    }
    sqlite3_busy_timeout (db->db, 2000);
    const char *schema = "CREATE TABLE IF NOT EXISTS runs ("
                         " id INTEGER PRIMARY KEY, dir TEXT NOT NULL, graph TEXT, spec TEXT,"
                         " started REAL, ended REAL DEFAULT 0, status TEXT, pid INTEGER DEFAULT 0,"
                         " step INTEGER DEFAULT 0, steps INTEGER DEFAULT 0, metrics TEXT DEFAULT '')";
    if (sqlite3_exec (db->db, schema, NULL, NULL, NULL) != SQLITE_OK) {
        db_error (db, error, path);
        studio_runs_db_close (db);
        return NULL;
    }
    /* histories from before cluster targets lack the column: add it (an
     * error here means it is there already) */
    sqlite3_exec (db->db, "ALTER TABLE runs ADD COLUMN target TEXT DEFAULT ''", NULL, NULL, NULL);
    return db;
}

void
studio_runs_db_close (StudioRunsDb *db)
{
    if (!db)
        return;
    sqlite3_close (db->db);
    g_free (db);
}

gint64
studio_runs_db_add (StudioRunsDb *db, const char *dir, const char *graph, const char *spec, gint64 pid,
                    gint64 steps, GError **error)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2 (db->db,
                            "INSERT INTO runs (dir, graph, spec, started, status, pid, steps)"
                            " VALUES (?, ?, ?, ?, 'running', ?, ?)", -1, &st, NULL) != SQLITE_OK) {
        db_error (db, error, "insert");
        return -1;
    }
    sqlite3_bind_text (st, 1, dir, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text (st, 2, graph ? graph : "", -1, SQLITE_TRANSIENT);
    sqlite3_bind_text (st, 3, spec ? spec : "", -1, SQLITE_TRANSIENT);
    sqlite3_bind_double (st, 4, g_get_real_time () / 1e6);
    sqlite3_bind_int64 (st, 5, pid);
    sqlite3_bind_int64 (st, 6, steps);
    int rc = sqlite3_step (st);
    sqlite3_finalize (st);
    if (rc != SQLITE_DONE) {
        db_error (db, error, "insert");
        return -1;
    }
    return sqlite3_last_insert_rowid (db->db);
}

gboolean
studio_runs_db_update (StudioRunsDb *db, gint64 id, const char *status, double ended, gint64 pid, gint64 step,
                       const char *metrics, GError **error)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2 (db->db,
                            "UPDATE runs SET status = coalesce(?, status), ended = ?, pid = ?,"
                            " step = max(step, ?), metrics = coalesce(?, metrics) WHERE id = ?",
                            -1, &st, NULL) != SQLITE_OK)
        return db_error (db, error, "update");
    if (status)
        sqlite3_bind_text (st, 1, status, -1, SQLITE_TRANSIENT);
    else
        sqlite3_bind_null (st, 1);
    sqlite3_bind_double (st, 2, ended);
    sqlite3_bind_int64 (st, 3, pid);
    sqlite3_bind_int64 (st, 4, step);
    if (metrics)
        sqlite3_bind_text (st, 5, metrics, -1, SQLITE_TRANSIENT);
    else
        sqlite3_bind_null (st, 5);
    sqlite3_bind_int64 (st, 6, id);
    int rc = sqlite3_step (st);
    sqlite3_finalize (st);
    return rc == SQLITE_DONE ? TRUE : db_error (db, error, "update");
}

static char *
col (sqlite3_stmt *st, int i)
{
    const unsigned char *t = sqlite3_column_text (st, i);
    return g_strdup (t ? (const char *) t : "");
}

static StudioRunRecord *
row (sqlite3_stmt *st)
{
    StudioRunRecord *r = g_new0 (StudioRunRecord, 1);
    r->id = sqlite3_column_int64 (st, 0);
    r->dir = col (st, 1);
    r->graph = col (st, 2);
    r->spec = col (st, 3);
    r->started = sqlite3_column_double (st, 4);
    r->ended = sqlite3_column_double (st, 5);
    r->status = col (st, 6);
    r->pid = sqlite3_column_int64 (st, 7);
    r->step = sqlite3_column_int64 (st, 8);
    r->steps = sqlite3_column_int64 (st, 9);
    r->metrics = col (st, 10);
    r->target = col (st, 11);
    return r;
}

#define COLUMNS "id, dir, graph, spec, started, ended, status, pid, step, steps, metrics, target"

gboolean
studio_runs_db_set_target (StudioRunsDb *db, gint64 id, const char *target, GError **error)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2 (db->db, "UPDATE runs SET target = ? WHERE id = ?", -1, &st, NULL) != SQLITE_OK)
        return db_error (db, error, "update");
    sqlite3_bind_text (st, 1, target ? target : "", -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64 (st, 2, id);
    int rc = sqlite3_step (st);
    sqlite3_finalize (st);
    return rc == SQLITE_DONE ? TRUE : db_error (db, error, "update");
}

GPtrArray *
studio_runs_db_list (StudioRunsDb *db, GError **error)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2 (db->db, "SELECT " COLUMNS " FROM runs ORDER BY id DESC", -1, &st, NULL) != SQLITE_OK) {
        db_error (db, error, "list");
        return NULL;
    }
    GPtrArray *a = g_ptr_array_new_with_free_func ((GDestroyNotify) studio_run_record_free);
    while (sqlite3_step (st) == SQLITE_ROW)
        g_ptr_array_add (a, row (st));
    sqlite3_finalize (st);
    return a;
}

StudioRunRecord *
studio_runs_db_get (StudioRunsDb *db, gint64 id)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2 (db->db, "SELECT " COLUMNS " FROM runs WHERE id = ?", -1, &st, NULL) != SQLITE_OK)
        return NULL;
    sqlite3_bind_int64 (st, 1, id);
    StudioRunRecord *r = sqlite3_step (st) == SQLITE_ROW ? row (st) : NULL;
    sqlite3_finalize (st);
    return r;
}
