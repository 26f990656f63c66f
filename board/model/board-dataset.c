/* The main thread's view of the logdirs: runs, series and file damage
 * (see the header). */
#include "board-dataset.h"

#include <math.h>
#include <string.h>

/* ---- palette ---- */

/* Paul Tol's "bright" and "vibrant" schemes: distinct for most color
 * vision and legible on both white and dark grey. */
static const guint32 palette[BOARD_PALETTE_SIZE] = {
    0x4477aa, 0xee6677, 0x228833, 0xccbb44, 0x66ccee, 0xaa3377,
    0xee7733, 0x0077bb, 0x33bbee, 0xee3377, 0xcc3311, 0x009988,
};

guint32
board_palette_color (int i)
{
    return palette[((i % BOARD_PALETTE_SIZE) + BOARD_PALETTE_SIZE) % BOARD_PALETTE_SIZE];
}

int
board_palette_slot_for_name (const char *name, guint32 used)
{
    /* FNV-1a: stable across runs of the program, unlike g_str_hash's
     * promises. */
    guint32 h = 2166136261u;
    for (const unsigned char *p = (const unsigned char *) name; *p; p++) {
        h ^= *p;
        h *= 16777619u;
    }
    int slot = (int) (h % BOARD_PALETTE_SIZE);
    for (int k = 0; k < BOARD_PALETTE_SIZE; k++) {
        int s = (slot + k) % BOARD_PALETTE_SIZE;
        if (!(used & (1u << s)))
            return s;
    }
    return slot;
}

/* ---- BoardRun ---- */

struct _BoardRun {
    GObject parent_instance;
    char *name;
    char *dir;
    double start_time;
    guint32 color;
    int slot;            /* palette slot, -1 when the color was picked */
    gboolean visible;
    GHashTable *series;  /* tag -> BoardSeries* (owned) */
    GPtrArray *tags;     /* borrowed keys, first-seen order */
};

G_DEFINE_FINAL_TYPE (BoardRun, board_run, G_TYPE_OBJECT)

enum { RUN_PROP_0, RUN_PROP_NAME, RUN_PROP_COLOR, RUN_PROP_VISIBLE, RUN_N_PROPS };
static GParamSpec *run_props[RUN_N_PROPS];

static void
board_run_finalize (GObject *object)
{
    BoardRun *run = BOARD_RUN (object);
    g_ptr_array_unref (run->tags);
    g_hash_table_unref (run->series);
    g_free (run->name);
    g_free (run->dir);
    G_OBJECT_CLASS (board_run_parent_class)->finalize (object);
}

static void
board_run_get_property (GObject *object, guint id, GValue *value, GParamSpec *pspec)
{
    BoardRun *run = BOARD_RUN (object);
    switch (id) {
    case RUN_PROP_NAME:
        g_value_set_string (value, run->name);
        break;
    case RUN_PROP_COLOR:
        g_value_set_uint (value, run->color);
        break;
    case RUN_PROP_VISIBLE:
        g_value_set_boolean (value, run->visible);
        break;
    default:
        G_OBJECT_WARN_INVALID_PROPERTY_ID (object, id, pspec);
    }
}

static void
board_run_set_property (GObject *object, guint id, const GValue *value, GParamSpec *pspec)
{
    BoardRun *run = BOARD_RUN (object);
    switch (id) {
    case RUN_PROP_COLOR:
        board_run_set_color (run, g_value_get_uint (value));
        break;
    case RUN_PROP_VISIBLE:
        board_run_set_visible (run, g_value_get_boolean (value));
        break;
    default:
        G_OBJECT_WARN_INVALID_PROPERTY_ID (object, id, pspec);
    }
}

static void
board_run_class_init (BoardRunClass *klass)
{
    GObjectClass *oc = G_OBJECT_CLASS (klass);
    oc->finalize = board_run_finalize;
    oc->get_property = board_run_get_property;
    oc->set_property = board_run_set_property;
    run_props[RUN_PROP_NAME] = g_param_spec_string ("name", NULL, NULL, NULL,
                                                    G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
    run_props[RUN_PROP_COLOR] = g_param_spec_uint ("color", NULL, NULL, 0, 0xffffff, 0,
                                                   G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY |
                                                   G_PARAM_STATIC_STRINGS);
    run_props[RUN_PROP_VISIBLE] = g_param_spec_boolean ("visible", NULL, NULL, TRUE,
                                                        G_PARAM_READWRITE |
                                                        G_PARAM_EXPLICIT_NOTIFY |
                                                        G_PARAM_STATIC_STRINGS);
    g_object_class_install_properties (oc, RUN_N_PROPS, run_props);
}

static void
board_run_init (BoardRun *run)
{
    run->visible = TRUE;
    run->start_time = NAN;
    run->slot = -1;
    run->series = g_hash_table_new_full (g_str_hash, g_str_equal, NULL,
                                         (GDestroyNotify) board_series_free);
    run->tags = g_ptr_array_new ();
}

const char *board_run_get_name (BoardRun *run) { return run->name; }
const char *board_run_get_dir (BoardRun *run) { return run->dir ? run->dir : ""; }
double board_run_get_start_time (BoardRun *run) { return run->start_time; }
guint32 board_run_get_color (BoardRun *run) { return run->color; }
gboolean board_run_get_visible (BoardRun *run) { return run->visible; }
GPtrArray *board_run_get_tags (BoardRun *run) { return run->tags; }

void
board_run_set_color (BoardRun *run, guint32 rgb)
{
    rgb &= 0xffffff;
    run->slot = -1;
    if (run->color == rgb)
        return;
    run->color = rgb;
    g_object_notify_by_pspec (G_OBJECT (run), run_props[RUN_PROP_COLOR]);
}

void
board_run_set_visible (BoardRun *run, gboolean visible)
{
    visible = !!visible;
    if (run->visible == visible)
        return;
    run->visible = visible;
    g_object_notify_by_pspec (G_OBJECT (run), run_props[RUN_PROP_VISIBLE]);
}

BoardSeries *
board_run_get_series (BoardRun *run, const char *tag)
{
    return g_hash_table_lookup (run->series, tag);
}

/* ---- BoardUpdate ---- */

static void
delta_free (BoardSeriesDelta *d)
{
    g_free (d->run);
    g_free (d->tag);
    g_free (d->plugin);
    if (d->steps)
        g_array_unref (d->steps);
    if (d->step_x)
        g_array_unref (d->step_x);
    if (d->wall)
        g_array_unref (d->wall);
    if (d->values)
        g_array_unref (d->values);
    if (d->blobs)
        g_ptr_array_unref (d->blobs);
    g_free (d);
}

static void
run_info_free (BoardRunInfo *r)
{
    g_free (r->run);
    g_free (r->dir);
    g_free (r);
}

static void
file_error_free (BoardFileError *e)
{
    g_free (e->path);
    g_free (e->message);
    g_free (e);
}

BoardUpdate *
board_update_new (void)
{
    BoardUpdate *u = g_new0 (BoardUpdate, 1);
    u->runs = g_ptr_array_new_with_free_func ((GDestroyNotify) run_info_free);
    u->deltas = g_ptr_array_new_with_free_func ((GDestroyNotify) delta_free);
    u->errors = g_ptr_array_new_with_free_func ((GDestroyNotify) file_error_free);
    return u;
}

void
board_update_free (BoardUpdate *u)
{
    if (!u)
        return;
    g_ptr_array_unref (u->runs);
    g_ptr_array_unref (u->deltas);
    g_ptr_array_unref (u->errors);
    g_free (u->load_error);
    g_free (u);
}

void
board_update_add_run (BoardUpdate *u, const char *run, const char *dir, double start_time)
{
    BoardRunInfo *r = g_new0 (BoardRunInfo, 1);
    r->run = g_strdup (run);
    r->dir = g_strdup (dir);
    r->start_time = start_time;
    g_ptr_array_add (u->runs, r);
}

BoardSeriesDelta *
board_update_add_delta (BoardUpdate *u, const char *run, const char *tag, BoardKind kind,
                        const char *plugin, gboolean replace)
{
    BoardSeriesDelta *d = g_new0 (BoardSeriesDelta, 1);
    d->run = g_strdup (run);
    d->tag = g_strdup (tag);
    d->kind = kind;
    d->plugin = g_strdup (plugin ? plugin : "");
    d->replace = replace;
    if (kind == BOARD_KIND_SCALAR) {
        d->steps = g_array_new (FALSE, FALSE, sizeof (gint64));
        d->step_x = g_array_new (FALSE, FALSE, sizeof (double));
        d->wall = g_array_new (FALSE, FALSE, sizeof (double));
        d->values = g_array_new (FALSE, FALSE, sizeof (double));
    } else {
        d->blobs = g_ptr_array_new_with_free_func ((GDestroyNotify) board_blob_free);
    }
    g_ptr_array_add (u->deltas, d);
    return d;
}

void
board_update_add_error (BoardUpdate *u, const char *path, const char *message)
{
    BoardFileError *e = g_new0 (BoardFileError, 1);
    e->path = g_strdup (path);
    e->message = g_strdup (message);
    g_ptr_array_add (u->errors, e);
}

/* ---- BoardDataset ---- */

struct _BoardDataset {
    GObject parent_instance;
    GListStore *runs;          /* BoardRun, name order */
    GHashTable *by_name;       /* name -> BoardRun (borrowed) */
    GHashTable *tags[BOARD_KIND_TENSOR + 1]; /* tag -> GUINT_TO_POINTER(runs holding it) */
    GHashTable *errors;        /* path -> message */
    GHashTable *colors;        /* name -> remembered 0xRRGGBB */
    char *load_error;
    gint64 points;
    gboolean complete;
    guint32 used_slots;
};

G_DEFINE_FINAL_TYPE (BoardDataset, board_dataset, G_TYPE_OBJECT)

enum { SIG_RUN_ADDED, SIG_SERIES_CHANGED, SIG_TAGS_CHANGED, SIG_ERRORS_CHANGED, SIG_CHANGED,
       SIG_COLORS_CHANGED, N_SIGNALS };
static guint signals[N_SIGNALS];

static void
board_dataset_finalize (GObject *object)
{
    BoardDataset *ds = BOARD_DATASET (object);
    g_object_unref (ds->runs);
    g_hash_table_unref (ds->by_name);
    for (int k = 0; k <= BOARD_KIND_TENSOR; k++)
        g_hash_table_unref (ds->tags[k]);
    g_hash_table_unref (ds->errors);
    g_hash_table_unref (ds->colors);
    g_free (ds->load_error);
    G_OBJECT_CLASS (board_dataset_parent_class)->finalize (object);
}

static void
board_dataset_class_init (BoardDatasetClass *klass)
{
    GObjectClass *oc = G_OBJECT_CLASS (klass);
    oc->finalize = board_dataset_finalize;
    signals[SIG_RUN_ADDED] = g_signal_new ("run-added", G_TYPE_FROM_CLASS (klass),
                                           G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                                           G_TYPE_NONE, 1, BOARD_TYPE_RUN);
    signals[SIG_SERIES_CHANGED] = g_signal_new ("series-changed", G_TYPE_FROM_CLASS (klass),
                                                G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                                                G_TYPE_NONE, 2, BOARD_TYPE_RUN, G_TYPE_STRING);
    signals[SIG_TAGS_CHANGED] = g_signal_new ("tags-changed", G_TYPE_FROM_CLASS (klass),
                                              G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                                              G_TYPE_NONE, 1, G_TYPE_INT);
    signals[SIG_ERRORS_CHANGED] = g_signal_new ("errors-changed", G_TYPE_FROM_CLASS (klass),
                                                G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                                                G_TYPE_NONE, 0);
    signals[SIG_COLORS_CHANGED] = g_signal_new ("colors-changed", G_TYPE_FROM_CLASS (klass),
                                                G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                                                G_TYPE_NONE, 0);
    signals[SIG_CHANGED] = g_signal_new ("changed", G_TYPE_FROM_CLASS (klass),
                                         G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                                         G_TYPE_NONE, 0);
}

static void
board_dataset_init (BoardDataset *ds)
{
    ds->runs = g_list_store_new (BOARD_TYPE_RUN);
    ds->by_name = g_hash_table_new (g_str_hash, g_str_equal);
    for (int k = 0; k <= BOARD_KIND_TENSOR; k++)
        ds->tags[k] = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
    ds->errors = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
    ds->colors = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
}

BoardDataset *
board_dataset_new (void)
{
    return g_object_new (BOARD_TYPE_DATASET, NULL);
}

GListModel *
board_dataset_get_runs (BoardDataset *ds)
{
    return G_LIST_MODEL (ds->runs);
}

BoardRun *
board_dataset_find_run (BoardDataset *ds, const char *name)
{
    return g_hash_table_lookup (ds->by_name, name);
}

static int
run_compare (gconstpointer a, gconstpointer b, gpointer user_data)
{
    return strcmp (BOARD_RUN ((gpointer) a)->name, BOARD_RUN ((gpointer) b)->name);
}

static BoardRun *
ensure_run (BoardDataset *ds, const char *name, const char *dir, double start_time)
{
    BoardRun *run = g_hash_table_lookup (ds->by_name, name);
    if (run) {
        if (dir && !run->dir)
            run->dir = g_strdup (dir);
        if (isfinite (start_time) && !(run->start_time <= start_time))
            run->start_time = start_time;
        return run;
    }
    run = g_object_new (BOARD_TYPE_RUN, NULL);
    run->name = g_strdup (name);
    run->dir = g_strdup (dir);
    run->start_time = start_time;
    gpointer remembered;
    if (g_hash_table_lookup_extended (ds->colors, name, NULL, &remembered)) {
        run->color = GPOINTER_TO_UINT (remembered);
    } else {
        run->slot = board_palette_slot_for_name (name, ds->used_slots);
        ds->used_slots |= 1u << run->slot;
        if ((ds->used_slots & 0xfff) == 0xfff)
            ds->used_slots = 0;   /* palette full: start a new round */
        run->color = palette[run->slot];
    }
    g_hash_table_insert (ds->by_name, run->name, run);
    g_list_store_insert_sorted (ds->runs, run, run_compare, NULL);
    g_signal_emit (ds, signals[SIG_RUN_ADDED], 0, run);
    g_object_unref (run);
    return run;
}

static void
apply_delta (BoardDataset *ds, BoardSeriesDelta *d, guint32 *kinds_changed)
{
    BoardRun *run = ensure_run (ds, d->run, NULL, NAN);
    BoardSeries *s = g_hash_table_lookup (run->series, d->tag);
    if (!s) {
        s = board_series_new (d->tag, d->kind, d->plugin);
        g_hash_table_insert (run->series, s->tag, s);
        g_ptr_array_add (run->tags, s->tag);
        if (d->kind <= BOARD_KIND_TENSOR) {
            gpointer n = g_hash_table_lookup (ds->tags[d->kind], d->tag);
            if (!n)
                *kinds_changed |= 1u << d->kind;
            g_hash_table_replace (ds->tags[d->kind], g_strdup (d->tag),
                                  GUINT_TO_POINTER (GPOINTER_TO_UINT (n) + 1));
        }
    }
    if (s->kind != d->kind)
        return;   /* the loader never changes a series' kind */
    if (d->replace) {
        ds->points -= (gint64) board_series_count (s);
        board_series_clear (s);
    }
    if (d->kind == BOARD_KIND_SCALAR) {
        guint n = d->values->len;
        board_series_take_scalars (s, &d->steps, &d->step_x, &d->wall, &d->values);
        ds->points += n;
    } else {
        /* move the blobs over: the delta no longer frees them */
        g_ptr_array_set_free_func (d->blobs, NULL);
        for (guint i = 0; i < d->blobs->len; i++)
            board_series_append_blob (s, g_ptr_array_index (d->blobs, i));
        ds->points += d->blobs->len;
        g_ptr_array_set_size (d->blobs, 0);
    }
    g_signal_emit (ds, signals[SIG_SERIES_CHANGED], 0, run, d->tag);
}

void
board_dataset_apply (BoardDataset *ds, BoardUpdate *u)
{
    for (guint i = 0; i < u->runs->len; i++) {
        BoardRunInfo *r = g_ptr_array_index (u->runs, i);
        ensure_run (ds, r->run, r->dir, r->start_time);
    }

    guint32 kinds_changed = 0;
    for (guint i = 0; i < u->deltas->len; i++)
        apply_delta (ds, g_ptr_array_index (u->deltas, i), &kinds_changed);
    for (int k = 0; k <= BOARD_KIND_TENSOR; k++)
        if (kinds_changed & (1u << k))
            g_signal_emit (ds, signals[SIG_TAGS_CHANGED], 0, k);

    gboolean errors_changed = FALSE;
    for (guint i = 0; i < u->errors->len; i++) {
        BoardFileError *e = g_ptr_array_index (u->errors, i);
        const char *old = g_hash_table_lookup (ds->errors, e->path);
        if (e->message && g_strcmp0 (old, e->message) != 0) {
            g_hash_table_replace (ds->errors, g_strdup (e->path), g_strdup (e->message));
            errors_changed = TRUE;
        } else if (!e->message && old) {
            g_hash_table_remove (ds->errors, e->path);
            errors_changed = TRUE;
        }
    }
    if (g_strcmp0 (ds->load_error, u->load_error) != 0) {
        g_free (ds->load_error);
        ds->load_error = g_strdup (u->load_error);
        errors_changed = TRUE;
    }
    if (errors_changed)
        g_signal_emit (ds, signals[SIG_ERRORS_CHANGED], 0);
    if (u->complete)
        ds->complete = TRUE;
    board_update_free (u);
    g_signal_emit (ds, signals[SIG_CHANGED], 0);
}

static int
str_compare (gconstpointer a, gconstpointer b)
{
    return strcmp (*(const char *const *) a, *(const char *const *) b);
}

GPtrArray *
board_dataset_tags (BoardDataset *ds, BoardKind kind)
{
    GPtrArray *out = g_ptr_array_new ();
    if (kind > BOARD_KIND_TENSOR)
        return out;
    GHashTableIter it;
    gpointer key;
    g_hash_table_iter_init (&it, ds->tags[kind]);
    while (g_hash_table_iter_next (&it, &key, NULL))
        g_ptr_array_add (out, key);
    g_ptr_array_sort (out, str_compare);
    return out;
}

GHashTable *board_dataset_get_errors (BoardDataset *ds) { return ds->errors; }
const char *board_dataset_get_load_error (BoardDataset *ds) { return ds->load_error; }
gint64 board_dataset_get_point_count (BoardDataset *ds) { return ds->points; }
gboolean board_dataset_is_complete (BoardDataset *ds) { return ds->complete; }

void
board_dataset_set_run_color (BoardDataset *ds, const char *run, guint32 rgb)
{
    g_hash_table_replace (ds->colors, g_strdup (run), GUINT_TO_POINTER (rgb & 0xffffff));
    BoardRun *r = g_hash_table_lookup (ds->by_name, run);
    if (r)
        board_run_set_color (r, rgb);
    g_signal_emit (ds, signals[SIG_COLORS_CHANGED], 0);
}

GHashTable *board_dataset_get_run_colors (BoardDataset *ds) { return ds->colors; }
