/* Per-node run state from event files (see the header). */
#include "config.h"

#include "studio-run-stats.h"

#include <string.h>

#include "run_metadata.pb-c.h"
#include "sluice/summaries/event.h"
#include "sluice/summaries/reader.h"
#include "step_stats.pb-c.h"

struct _StudioRunStats {
    char *dir;
    GHashTable *offsets;   /* event file path -> guint64* offset read so far */
    GHashTable *times;     /* node -> double* µs, or NULL */
    gint64 step;
    double wall;           /* the statistics' event wall time (newest wins) */
    double step_us;
};

StudioRunStats *
studio_run_stats_new (const char *run_dir)
{
    StudioRunStats *s = g_new0 (StudioRunStats, 1);
    s->dir = g_strdup (run_dir);
    s->offsets = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
    s->step = -1;
    return s;
}

void
studio_run_stats_free (StudioRunStats *s)
{
    if (!s)
        return;
    g_free (s->dir);
    g_hash_table_unref (s->offsets);
    if (s->times)
        g_hash_table_unref (s->times);
    g_free (s);
}

const char *
studio_run_stats_get_dir (StudioRunStats *s)
{
    return s->dir;
}

/* The per-node times of one serialized RunMetadata; NULL when it has no
 * step statistics. */
static GHashTable *
times_of (const uint8_t *data, size_t len, double *step_us)
{
    Tensorflow__RunMetadata *rm = tensorflow__run_metadata__unpack (NULL, len, data);
    if (!rm)
        return NULL;
    GHashTable *t = NULL;
    if (rm->step_stats && rm->step_stats->n_dev_stats) {
        t = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
        gint64 first = G_MAXINT64, last = G_MININT64;
        for (size_t d = 0; d < rm->step_stats->n_dev_stats; d++) {
            const Tensorflow__DeviceStepStats *ds = rm->step_stats->dev_stats[d];
            for (size_t k = 0; k < ds->n_node_stats; k++) {
                const Tensorflow__NodeExecStats *ns = ds->node_stats[k];
                if (!ns->node_name || !*ns->node_name)
                    continue;
                gint64 us = ns->op_end_rel_micros > ns->op_start_rel_micros
                                ? ns->op_end_rel_micros - ns->op_start_rel_micros
                                : ns->all_end_rel_micros;
                first = MIN (first, ns->all_start_micros);
                last = MAX (last, ns->all_start_micros + ns->all_end_rel_micros);
                double *v = g_hash_table_lookup (t, ns->node_name);
                if (!v) {
                    v = g_new0 (double, 1);
                    g_hash_table_insert (t, g_strdup (ns->node_name), v);
                }
                *v += (double) MAX (us, 0);
            }
        }
        *step_us = last > first ? (double) (last - first) : 0;
    }
    tensorflow__run_metadata__free_unpacked (rm, NULL);
    return t;
}

static gboolean
read_file (StudioRunStats *s, const char *path)
{
    guint64 *off = g_hash_table_lookup (s->offsets, path);
    sl_status *st = sl_status_new ();
    sl_event_reader *r = sl_event_reader_open (path, off ? *off : 0, st);
    gboolean newer = FALSE;
    if (r) {
        sl_event ev;
        while (sl_event_reader_next (r, &ev, st) == SL_OK) {
            if (ev.what != SL_EVENT_TAGGED_RUN_METADATA)
                continue;
            sl_bytes tag, rm;
            if (sl_event_tagged_run_metadata (ev.body, &tag, &rm, st) != SL_OK)
                continue;
            if (s->times && (ev.step < s->step || (ev.step == s->step && ev.wall_time < s->wall)))
                continue;   /* an older step (another file) */
            double step_us = 0;
            GHashTable *t = times_of (rm.data, rm.size, &step_us);
            if (!t)
                continue;
            if (s->times)
                g_hash_table_unref (s->times);
            s->times = t;
            s->step = ev.step;
            s->wall = ev.wall_time;
            s->step_us = step_us;
            newer = TRUE;
        }
        if (!off) {
            off = g_new (guint64, 1);
            g_hash_table_insert (s->offsets, g_strdup (path), off);
        }
        *off = sl_event_reader_offset (r);
        sl_event_reader_free (r);
    }
    sl_status_free (st);
    return newer;
}

gboolean
studio_run_stats_update (StudioRunStats *s)
{
    gboolean newer = FALSE;
    const char *subs[] = { "train", "", NULL };
    for (int k = 0; subs[k]; k++) {
        char *d = *subs[k] ? g_build_filename (s->dir, subs[k], NULL) : g_strdup (s->dir);
        GDir *dir = g_dir_open (d, 0, NULL);
        const char *name;
        while (dir && (name = g_dir_read_name (dir))) {
            if (!strstr (name, "tfevents"))
                continue;
            char *path = g_build_filename (d, name, NULL);
            newer |= read_file (s, path);
            g_free (path);
        }
        if (dir)
            g_dir_close (dir);
        g_free (d);
    }
    return newer;
}

GHashTable *
studio_run_stats_get_times (StudioRunStats *s, gint64 *step, double *step_us)
{
    if (step)
        *step = s->step;
    if (step_us)
        *step_us = s->step_us;
    return s->times;
}

char *
studio_format_duration_us (double us)
{
    if (us < 1000)
        return g_strdup_printf ("%.0f \u00b5s", us);
    if (us < 10000)
        return g_strdup_printf ("%.1f ms", us / 1000);
    if (us < 1e6)
        return g_strdup_printf ("%.0f ms", us / 1000);
    return g_strdup_printf ("%.1f s", us / 1e6);
}
