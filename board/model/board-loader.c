/* The loader thread (see the header). */
#include "board-loader.h"

#include <math.h>
#include <string.h>

#include "sluice/summaries/logdir.h"
#include "sluice/summaries/tail.h"

typedef struct {
    size_t count;       /* points sent */
    int64_t last_step;  /* of the last point sent */
    double last_wall;
} Published;

typedef struct {
    char *path;
    char *prefix;       /* run-name prefix, "" with a single logdir */
    sl_logdir *ld;
    sl_tail *tail;
} Source;

struct _BoardLoader {
    BoardDataset *ds;
    GMainContext *context;
    GThread *thread;
    GPtrArray *sources;       /* Source* */
    GHashTable *published;    /* "run\001tag" -> Published* */
    GHashTable *errors;       /* path -> message sent */
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
diff_series (BoardLoader *l, BoardUpdate *u, const char *run_name, sl_series *s)
{
    const char *tag = sl_series_tag (s);
    size_t n = sl_series_count (s);
    const sl_point *pts = sl_series_points (s);
    char *key = g_strconcat (run_name, "\001", tag, NULL);
    Published *pub = g_hash_table_lookup (l->published, key);
    if (!pub) {
        pub = g_new0 (Published, 1);
        g_hash_table_insert (l->published, key, pub);
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

/* What one pass over the sources is building: the update in progress
 * and, during the first full read, when the last part of it went out. */
typedef struct {
    BoardUpdate *u;
    gboolean streaming;   /* the first read: send the runs as they are read */
    gboolean sent_any;
    gint64 last_sent;
} Pass;

/* During the first read, an update goes out after the first run that
 * brought data (so the first chart is drawn after one run, not after the
 * whole logdir), then at most every second (each update redraws every
 * chart on screen: with 100 runs every 250 ms, the main thread spent more
 * time redrawing than the loader reading). */
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
    if (p->sent_any && now - p->last_sent < BOARD_LOADER_BATCH_US)
        return;
    send_update (l, p->u);
    p->u = board_update_new ();
    p->sent_any = TRUE;
    p->last_sent = now;
}

static void
report_file_errors (BoardLoader *l, BoardUpdate *u, sl_run *run)
{
    size_t nf = sl_run_file_count (run);
    for (size_t i = 0; i < nf; i++) {
        const char *path = sl_run_file_path (run, i);
        const char *err = sl_run_file_error (run, i);
        const char *sent = g_hash_table_lookup (l->errors, path);
        if (err && g_strcmp0 (err, sent) != 0) {
            board_update_add_error (u, path, err);
            g_hash_table_replace (l->errors, g_strdup (path), g_strdup (err));
        } else if (!err && sent) {
            board_update_add_error (u, path, NULL);
            g_hash_table_remove (l->errors, path);
        }
    }
    /* a run directory deleted while the board is open: its points stay,
     * and the user is told why they stopped growing */
    const char *dir = sl_run_dir (run);
    gboolean gone = !g_file_test (dir, G_FILE_TEST_IS_DIR);
    const char *sent = g_hash_table_lookup (l->errors, dir);
    if (gone && !sent) {
        const char *msg = BOARD_LOADER_DIR_DELETED;
        board_update_add_error (u, dir, msg);
        g_hash_table_replace (l->errors, g_strdup (dir), g_strdup (msg));
    } else if (!gone && sent) {
        board_update_add_error (u, dir, NULL);
        g_hash_table_remove (l->errors, dir);
    }
}

static void
reload_source (BoardLoader *l, Source *src, Pass *p)
{
    sl_status *st = sl_status_new ();
    if (!src->ld) {
        src->ld = sl_logdir_open (src->path, st);
        if (!src->ld) {
            g_free (p->u->load_error);
            p->u->load_error = g_strdup_printf ("%s: %s", src->path, sl_status_message (st));
            sl_status_free (st);
            return;
        }
    }
    if (!src->tail)
        src->tail = sl_tail_new (src->path, SL_TAIL_AUTO, 500, NULL);
    gboolean failed = FALSE;
    if (sl_logdir_scan (src->ld, NULL, st) != SL_OK) {
        g_free (p->u->load_error);
        p->u->load_error = g_strdup_printf ("%s: %s", src->path, sl_status_message (st));
        failed = TRUE;
    }

    size_t nruns = sl_logdir_run_count (src->ld);
    for (size_t r = 0; r < nruns && !g_atomic_int_get (&l->stop); r++) {
        sl_run *run = sl_logdir_run (src->ld, r);
        if (sl_logdir_reload_run (src->ld, run, NULL, st) != SL_OK && !failed) {
            g_free (p->u->load_error);
            p->u->load_error = g_strdup_printf ("%s: %s", src->path, sl_status_message (st));
        }
        const char *rn = sl_run_name (run);
        char *name;
        if (!*src->prefix)
            name = g_strdup (rn);
        else if (strcmp (rn, ".") == 0)
            name = g_strdup (src->prefix);
        else
            name = g_strconcat (src->prefix, "/", rn, NULL);
        board_update_add_run (p->u, name, sl_run_dir (run), sl_run_start_time (run));
        size_t ns = sl_run_series_count (run);
        for (size_t i = 0; i < ns; i++)
            diff_series (l, p->u, name, sl_run_series (run, i));
        report_file_errors (l, p->u, run);
        g_free (name);
        maybe_send_part (l, p);
    }
    sl_status_free (st);
}

static void
reload_all (BoardLoader *l)
{
    Pass p = { board_update_new (), !l->complete_sent, FALSE, 0 };
    for (guint i = 0; i < l->sources->len; i++)
        reload_source (l, g_ptr_array_index (l->sources, i), &p);
    if (g_atomic_int_get (&l->stop)) {
        board_update_free (p.u);
        return;
    }
    if (!l->complete_sent) {
        p.u->complete = TRUE;
        l->complete_sent = TRUE;
    } else if (p.u->deltas->len == 0 && p.u->errors->len == 0 && !p.u->load_error) {
        board_update_free (p.u);
        return;
    }
    send_update (l, p.u);
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
    sl_logdir_free (s->ld);
    g_free (s->path);
    g_free (s->prefix);
    g_free (s);
}

BoardLoader *
board_loader_new (BoardDataset *ds, const char *const *logdirs)
{
    BoardLoader *l = g_new0 (BoardLoader, 1);
    l->ds = g_object_ref (ds);
    l->context = g_main_context_ref_thread_default ();
    l->sources = g_ptr_array_new_with_free_func ((GDestroyNotify) source_free);
    l->published = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
    l->errors = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
    guint n = logdirs ? g_strv_length ((char **) logdirs) : 0;
    for (guint i = 0; i < n; i++) {
        Source *s = g_new0 (Source, 1);
        s->path = g_strdup (logdirs[i]);
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
    g_ptr_array_unref (l->sources);
    g_hash_table_unref (l->published);
    g_hash_table_unref (l->errors);
    g_main_context_unref (l->context);
    g_object_unref (l->ds);
    g_free (l);
}
