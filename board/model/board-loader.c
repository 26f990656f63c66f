/* The loader thread (see the header). */
#include "board-loader.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "sluice/summaries/logdir.h"
#include "sluice/summaries/tail.h"

typedef struct {
    size_t count;       /* points sent */
    int64_t last_step;  /* of the last point sent */
    double last_wall;
} Published;

#define BOARD_LOADER_MAX_WORKERS 4

typedef struct {
    char *path;
    char *prefix;       /* run-name prefix, "" with a single logdir */
    sl_logdir *index;   /* scanned only: the runs and their order */
    sl_logdir *ld[BOARD_LOADER_MAX_WORKERS];   /* each worker reads its own runs in its own */
    sl_tail *tail;
    GHashTable *owner;  /* run name -> worker + 1, fixed when the run is first seen */
    guint next_owner;
    GPtrArray *jobs[BOARD_LOADER_MAX_WORKERS];  /* run names (borrowed from owner) for this pass */
} Source;

/* What one worker keeps between passes: what it sent of its runs. */
typedef struct {
    GHashTable *published;    /* "run\001tag" -> Published* */
    GHashTable *errors;       /* path -> message sent */
} Worker;

struct _BoardLoader {
    BoardDataset *ds;
    GMainContext *context;
    GThread *thread;
    GPtrArray *sources;       /* Source* */
    int n_workers;
    Worker workers[BOARD_LOADER_MAX_WORKERS];
    GThreadPool *pool;
    GMutex lock;
    GCond done_cond;
    int pending;              /* workers still reading this pass (under lock) */
    BoardUpdate *results[BOARD_LOADER_MAX_WORKERS];
    gint64 last_sent;         /* when a part of the first read last went out (under lock) */
    gboolean streaming;       /* this pass is the first read */
    BoardUpdate *runs_update; /* first read: the runs, sent with the second part (under lock) */
    gboolean released;        /* first read: the other workers may start (under lock) */
    GCond release_cond;
    gint stop;                /* atomic */
    gint wake;                /* atomic */
    gboolean complete_sent;
};

typedef struct {
    BoardDataset *ds;
    BoardUpdate *update;
} Delivery;

static gboolean
deliver (gpointer data)
{
    Delivery *d = data;
    board_dataset_apply (d->ds, d->update);
    d->update = NULL;
    return G_SOURCE_REMOVE;
}

static void
delivery_free (gpointer data)
{
    Delivery *d = data;
    board_update_free (d->update);
    g_object_unref (d->ds);
    g_free (d);
}

static BoardKind
kind_of (sl_kind k)
{
    return (BoardKind) k;   /* same numbers by design */
}

static BoardBlob *
blob_from_point (const sl_point *p, BoardKind kind)
{
    BoardBlob *b = g_new0 (BoardBlob, 1);
    b->step = p->step;
    b->wall_time = p->wall_time;
    const sl_payload *pl = p->payload;
    if (!pl)
        return b;
    if (kind == BOARD_KIND_HISTOGRAM && pl->buckets && pl->n_buckets > 0) {
        b->n_buckets = pl->n_buckets;
        b->buckets = g_memdup2 (pl->buckets, (gsize) pl->n_buckets * 3 * sizeof (double));
    }
    if (pl->blobs && pl->n_blobs > 0) {
        b->n_blobs = pl->n_blobs;
        b->blobs = g_new0 (GBytes *, (gsize) pl->n_blobs);
        for (int i = 0; i < pl->n_blobs; i++)
            b->blobs[i] = g_bytes_new (pl->blobs[i].data, pl->blobs[i].size);
    }
    b->width = pl->width;
    b->height = pl->height;
    return b;
}

static void
diff_series (Worker *wk, BoardUpdate *u, const char *run_name, sl_series *s)
{
    const char *tag = sl_series_tag (s);
    size_t n = sl_series_count (s);
    const sl_point *pts = sl_series_points (s);
    char *key = g_strconcat (run_name, "\001", tag, NULL);
    Published *pub = g_hash_table_lookup (wk->published, key);
    if (!pub) {
        pub = g_new0 (Published, 1);
        g_hash_table_insert (wk->published, key, pub);
    } else {
        g_free (key);
    }
    if (n == pub->count && (n == 0 || (pts[n - 1].step == pub->last_step &&
                                       pts[n - 1].wall_time == pub->last_wall)))
        return;   /* nothing new */
    gboolean append = pub->count > 0 && n > pub->count &&
                      pts[pub->count - 1].step == pub->last_step &&
                      pts[pub->count - 1].wall_time == pub->last_wall;
    size_t from = append ? pub->count : 0;
    BoardKind kind = kind_of (sl_series_kind (s));
    BoardSeriesDelta *d = board_update_add_delta (u, run_name, tag, kind, sl_series_plugin (s),
                                                  !append && pub->count > 0);
    if (kind == BOARD_KIND_SCALAR) {
        g_array_set_size (d->steps, (guint) (n - from));
        g_array_set_size (d->step_x, (guint) (n - from));
        g_array_set_size (d->wall, (guint) (n - from));
        g_array_set_size (d->values, (guint) (n - from));
        gint64 *st = (gint64 *) d->steps->data;
        double *sx = (double *) d->step_x->data;
        double *wa = (double *) d->wall->data, *va = (double *) d->values->data;
        for (size_t i = from; i < n; i++) {
            st[i - from] = pts[i].step;
            sx[i - from] = (double) pts[i].step;
            wa[i - from] = pts[i].wall_time;
            va[i - from] = pts[i].value;
        }
    } else {
        for (size_t i = from; i < n; i++)
            g_ptr_array_add (d->blobs, blob_from_point (&pts[i], kind));
    }
    u->points += (gint64) (n - from);
    pub->count = n;
    pub->last_step = n ? pts[n - 1].step : 0;
    pub->last_wall = n ? pts[n - 1].wall_time : 0;
}

/* What one worker's pass over its runs is building: the update in
 * progress and, during the first full read, whether a part went out. */
typedef struct {
    BoardUpdate *u;
    gboolean streaming;   /* the first read: send the runs as they are read */
} Pass;

/* During the first read, an update goes out after the first run that
 * brought data (so the first chart is drawn after one run, not after the
 * whole logdir), then at most every second across all workers (each
 * update redraws every chart on screen: with 100 runs every 250 ms, the
 * main thread spent more time redrawing than the loader reading). */
#define BOARD_LOADER_BATCH_US (1000 * 1000)

static void
send_update (BoardLoader *l, BoardUpdate *u)
{
    Delivery *d = g_new0 (Delivery, 1);
    d->ds = g_object_ref (l->ds);
    d->update = u;
    /* below GDK's redraw priority: a frame is drawn between two parts of
     * the first read, instead of after all of them */
    g_main_context_invoke_full (l->context, G_PRIORITY_DEFAULT_IDLE, deliver, d, delivery_free);
}

static void
maybe_send_part (BoardLoader *l, Pass *p)
{
    if (!p->streaming || p->u->deltas->len == 0)
        return;
    gint64 now = g_get_monotonic_time ();
    g_mutex_lock (&l->lock);
    gboolean go = l->last_sent == 0 || now - l->last_sent >= BOARD_LOADER_BATCH_US;
    if (go) {
        /* the run list goes with the second part, not the first: the
         * first chart is drawn before the runs panel fills */
        if (l->last_sent != 0 && l->runs_update) {
            send_update (l, l->runs_update);
            l->runs_update = NULL;
        }
        l->last_sent = now;
        send_update (l, p->u);
    }
    g_mutex_unlock (&l->lock);
    if (go)
        p->u = board_update_new ();
}

static void
report_file_errors (Worker *wk, BoardUpdate *u, sl_run *run)
{
    size_t nf = sl_run_file_count (run);
    for (size_t i = 0; i < nf; i++) {
        const char *path = sl_run_file_path (run, i);
        const char *err = sl_run_file_error (run, i);
        const char *sent = g_hash_table_lookup (wk->errors, path);
        if (err && g_strcmp0 (err, sent) != 0) {
            board_update_add_error (u, path, err);
            g_hash_table_replace (wk->errors, g_strdup (path), g_strdup (err));
        } else if (!err && sent) {
            board_update_add_error (u, path, NULL);
            g_hash_table_remove (wk->errors, path);
        }
    }
    /* a run directory deleted while the board is open: its points stay,
     * and the user is told why they stopped growing */
    const char *dir = sl_run_dir (run);
    gboolean gone = !g_file_test (dir, G_FILE_TEST_IS_DIR);
    const char *sent = g_hash_table_lookup (wk->errors, dir);
    if (gone && !sent) {
        const char *msg = BOARD_LOADER_DIR_DELETED;
        board_update_add_error (u, dir, msg);
        g_hash_table_replace (wk->errors, g_strdup (dir), g_strdup (msg));
    } else if (!gone && sent) {
        board_update_add_error (u, dir, NULL);
        g_hash_table_remove (wk->errors, dir);
    }
}

static char *
run_display_name (Source *src, const char *rn)
{
    if (!*src->prefix)
        return g_strdup (rn);
    if (strcmp (rn, ".") == 0)
        return g_strdup (src->prefix);
    return g_strconcat (src->prefix, "/", rn, NULL);
}

/* During the first read worker 0 reads the first run alone (the first
 * chart comes as soon as with one reader, not after two runs read at half
 * speed each) and sends it, then lets the others start.  Every run's name
 * goes out in order with the next part (so colors are given in name
 * order, whichever worker reads faster). */
static void
release_workers (BoardLoader *l)
{
    g_mutex_lock (&l->lock);
    if (!l->released) {
        l->released = TRUE;
        g_cond_broadcast (&l->release_cond);
    }
    g_mutex_unlock (&l->lock);
}

/* A worker's share of a pass: the runs given to it, read in its own
 * sl_logdir of each source (the library is not thread-safe, and a run is
 * always read by the same worker). */
static void
worker_read (BoardLoader *l, int k, Pass *p)
{
    Worker *wk = &l->workers[k];
    sl_status *st = sl_status_new ();
    for (guint i = 0; i < l->sources->len && !g_atomic_int_get (&l->stop); i++) {
        Source *src = g_ptr_array_index (l->sources, i);
        GPtrArray *jobs = src->jobs[k];
        if (!jobs || jobs->len == 0)
            continue;
        if (!src->ld[k] && !(src->ld[k] = sl_logdir_open (src->path, st)))
            continue;   /* the index reported it */
        if (sl_logdir_scan (src->ld[k], NULL, st) != SL_OK)
            continue;
        for (guint j = 0; j < jobs->len && !g_atomic_int_get (&l->stop); j++) {
            sl_run *run = sl_logdir_find_run (src->ld[k], g_ptr_array_index (jobs, j));
            if (!run)
                continue;
            if (sl_logdir_reload_run (src->ld[k], run, NULL, st) != SL_OK) {
                g_free (p->u->load_error);
                p->u->load_error = g_strdup_printf ("%s: %s", src->path, sl_status_message (st));
            }
            char *name = run_display_name (src, sl_run_name (run));
            board_update_add_run (p->u, name, sl_run_dir (run), sl_run_start_time (run));
            size_t ns = sl_run_series_count (run);
            for (size_t n = 0; n < ns; n++)
                diff_series (wk, p->u, name, sl_run_series (run, n));
            report_file_errors (wk, p->u, run);
            g_free (name);
            maybe_send_part (l, p);
            if (k == 0)
                release_workers (l);
        }
    }
    sl_status_free (st);
}

static void
worker_func (gpointer data, gpointer user_data)
{
    BoardLoader *l = user_data;
    int k = GPOINTER_TO_INT (data) - 1;
    Pass p = { board_update_new (), l->streaming };
    if (k > 0) {
        g_mutex_lock (&l->lock);
        while (!l->released)
            g_cond_wait (&l->release_cond, &l->lock);
        g_mutex_unlock (&l->lock);
    }
    worker_read (l, k, &p);
    if (k == 0)
        release_workers (l);
    g_mutex_lock (&l->lock);
    l->results[k] = p.u;
    if (--l->pending == 0)
        g_cond_signal (&l->done_cond);
    g_mutex_unlock (&l->lock);
}

/* Appends what `from` holds to `into` and frees it. */
static void
merge_update (BoardUpdate *into, BoardUpdate *from)
{
    if (!from)
        return;
    for (guint i = 0; i < from->runs->len; i++)
        g_ptr_array_add (into->runs, g_ptr_array_index (from->runs, i));
    for (guint i = 0; i < from->deltas->len; i++)
        g_ptr_array_add (into->deltas, g_ptr_array_index (from->deltas, i));
    for (guint i = 0; i < from->errors->len; i++)
        g_ptr_array_add (into->errors, g_ptr_array_index (from->errors, i));
    g_ptr_array_set_free_func (from->runs, NULL);
    g_ptr_array_set_free_func (from->deltas, NULL);
    g_ptr_array_set_free_func (from->errors, NULL);
    if (from->load_error && !into->load_error) {
        into->load_error = from->load_error;
        from->load_error = NULL;
    }
    into->points += from->points;
    board_update_free (from);
}

/* Scans every source's index: new runs get their worker (in turn, in
 * name order) and every run is listed for its worker.  New runs go into
 * u in name order, source by source, as one run after another did when a
 * single thread read them: their colors come out the same. */
static void
plan_pass (BoardLoader *l, BoardUpdate *u)
{
    sl_status *st = sl_status_new ();
    for (guint i = 0; i < l->sources->len; i++) {
        Source *src = g_ptr_array_index (l->sources, i);
        for (int k = 0; k < l->n_workers; k++)
            g_ptr_array_set_size (src->jobs[k], 0);
        if (!src->index) {
            src->index = sl_logdir_open (src->path, st);
            if (!src->index) {
                g_free (u->load_error);
                u->load_error = g_strdup_printf ("%s: %s", src->path, sl_status_message (st));
                continue;
            }
        }
        if (!src->tail)
            src->tail = sl_tail_new (src->path, SL_TAIL_AUTO, 500, NULL);
        if (sl_logdir_scan (src->index, NULL, st) != SL_OK) {
            g_free (u->load_error);
            u->load_error = g_strdup_printf ("%s: %s", src->path, sl_status_message (st));
        }
        size_t nruns = sl_logdir_run_count (src->index);
        for (size_t r = 0; r < nruns; r++) {
            sl_run *run = sl_logdir_run (src->index, r);
            const char *rn = sl_run_name (run);
            gpointer owner = g_hash_table_lookup (src->owner, rn);
            if (!owner) {
                owner = GUINT_TO_POINTER (src->next_owner++ % (guint) l->n_workers + 1);
                g_hash_table_insert (src->owner, g_strdup (rn), owner);
                char *name = run_display_name (src, rn);
                board_update_add_run (u, name, sl_run_dir (run), NAN);
                g_free (name);
            }
            char *key = NULL;
            g_hash_table_lookup_extended (src->owner, rn, (gpointer *) &key, NULL);
            g_ptr_array_add (src->jobs[GPOINTER_TO_UINT (owner) - 1], key);
        }
    }
    sl_status_free (st);
}

static void
reload_all (BoardLoader *l)
{
    BoardUpdate *u = board_update_new ();
    l->streaming = !l->complete_sent;
    plan_pass (l, u);
    g_mutex_lock (&l->lock);
    l->released = !l->streaming;
    if (l->streaming && (u->runs->len > 0 || u->load_error)) {
        /* the runs go out after the first one's points, in order, so that
         * their colors never depend on which worker reads faster */
        l->runs_update = u;
        u = board_update_new ();
    }
    l->pending = l->n_workers;
    for (int k = 0; k < l->n_workers; k++)
        l->results[k] = NULL;
    g_mutex_unlock (&l->lock);
    for (int k = 0; k < l->n_workers; k++)
        g_thread_pool_push (l->pool, GINT_TO_POINTER (k + 1), NULL);
    g_mutex_lock (&l->lock);
    while (l->pending > 0)
        g_cond_wait (&l->done_cond, &l->lock);
    g_mutex_unlock (&l->lock);
    if (l->runs_update) {   /* no second part went out */
        send_update (l, l->runs_update);
        l->runs_update = NULL;
    }
    for (int k = 0; k < l->n_workers; k++) {
        merge_update (u, l->results[k]);
        l->results[k] = NULL;
    }
    if (g_atomic_int_get (&l->stop)) {
        board_update_free (u);
        return;
    }
    if (!l->complete_sent) {
        u->complete = TRUE;
        l->complete_sent = TRUE;
    } else if (u->deltas->len == 0 && u->errors->len == 0 && !u->load_error &&
               u->runs->len == 0) {
        board_update_free (u);
        return;
    }
    send_update (l, u);
}

static gpointer
loader_thread (gpointer data)
{
    BoardLoader *l = data;
    gint64 last = 0;
    while (!g_atomic_int_get (&l->stop)) {
        reload_all (l);
        last = g_get_monotonic_time ();
        /* wait for a change, a wake-up, a stop, or 2 s */
        for (;;) {
            if (g_atomic_int_get (&l->stop))
                break;
            if (g_atomic_int_compare_and_exchange (&l->wake, 1, 0))
                break;
            if (g_get_monotonic_time () - last > 2 * G_USEC_PER_SEC)
                break;
            gboolean any = FALSE;
            int slice = MAX (20, 100 / (int) MAX (1, l->sources->len));
            for (guint i = 0; i < l->sources->len; i++) {
                Source *src = g_ptr_array_index (l->sources, i);
                bool changed = false;
                if (src->tail) {
                    sl_tail_wait (src->tail, slice, &changed, NULL);
                } else {
                    g_usleep ((gulong) slice * 1000);
                }
                any |= changed;
            }
            if (any) {
                /* let a writer finish its burst, then read it whole */
                g_usleep (30 * 1000);
                break;
            }
        }
    }
    return NULL;
}

static void
source_free (Source *s)
{
    sl_tail_free (s->tail);
    sl_logdir_free (s->index);
    for (int k = 0; k < BOARD_LOADER_MAX_WORKERS; k++) {
        sl_logdir_free (s->ld[k]);
        if (s->jobs[k])
            g_ptr_array_unref (s->jobs[k]);
    }
    g_hash_table_unref (s->owner);
    g_free (s->path);
    g_free (s->prefix);
    g_free (s);
}

/* Readers in parallel: one per processor, at most 4 (SLUICE_BOARD_READERS
 * overrides, for tests and measurements). */
static int
worker_count (void)
{
    const char *env = g_getenv ("SLUICE_BOARD_READERS");
    int n = env && *env ? atoi (env) : (int) g_get_num_processors ();
    return CLAMP (n, 1, BOARD_LOADER_MAX_WORKERS);
}

BoardLoader *
board_loader_new (BoardDataset *ds, const char *const *logdirs)
{
    BoardLoader *l = g_new0 (BoardLoader, 1);
    l->ds = g_object_ref (ds);
    l->context = g_main_context_ref_thread_default ();
    l->sources = g_ptr_array_new_with_free_func ((GDestroyNotify) source_free);
    l->n_workers = worker_count ();
    for (int k = 0; k < l->n_workers; k++) {
        l->workers[k].published = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
        l->workers[k].errors = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
    }
    g_mutex_init (&l->lock);
    g_cond_init (&l->done_cond);
    g_cond_init (&l->release_cond);
    l->pool = g_thread_pool_new (worker_func, l, l->n_workers, TRUE, NULL);
    guint n = logdirs ? g_strv_length ((char **) logdirs) : 0;
    for (guint i = 0; i < n; i++) {
        Source *s = g_new0 (Source, 1);
        s->path = g_strdup (logdirs[i]);
        s->owner = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
        for (int k = 0; k < l->n_workers; k++)
            s->jobs[k] = g_ptr_array_new ();
        if (n > 1) {
            char *trimmed = g_strdup (logdirs[i]);
            while (strlen (trimmed) > 1 && g_str_has_suffix (trimmed, "/"))
                trimmed[strlen (trimmed) - 1] = 0;
            s->prefix = g_path_get_basename (trimmed);
            g_free (trimmed);
        } else {
            s->prefix = g_strdup ("");
        }
        g_ptr_array_add (l->sources, s);
    }
    l->thread = g_thread_new ("board-loader", loader_thread, l);
    return l;
}

void
board_loader_reload (BoardLoader *l)
{
    g_atomic_int_set (&l->wake, 1);
}

void
board_loader_free (BoardLoader *l)
{
    if (!l)
        return;
    g_atomic_int_set (&l->stop, 1);
    g_thread_join (l->thread);
    g_thread_pool_free (l->pool, FALSE, TRUE);
    g_ptr_array_unref (l->sources);
    for (int k = 0; k < l->n_workers; k++) {
        g_hash_table_unref (l->workers[k].published);
        g_hash_table_unref (l->workers[k].errors);
    }
    g_mutex_clear (&l->lock);
    g_cond_clear (&l->done_cond);
    g_cond_clear (&l->release_cond);
    board_update_free (l->runs_update);
    g_main_context_unref (l->context);
    g_object_unref (l->ds);
    g_free (l);
}
