/* The in-memory logdir (the contract is in sluice/summaries/logdir.h).
 *
 * A reload walks the logdir (walk.c), adds new runs and files, then reads
 * each file of each run, in name order, from the offset where the last
 * reload stopped.  Readers are opened only for files whose size grew and
 * closed again after reading, so a logdir of thousands of files never
 * holds more than one descriptor; the price is re-reading the bytes of a
 * partial record, which is small.
 *
 * Each event goes through the sampler (sample.c) into the series of its
 * tag.  Scalar points are 32 bytes in one array; payloads of other kinds
 * are copied into the series' arena, so they stay put while the points
 * array grows.  Points arrive in file order; a series that received a
 * step lower than its last one is stably re-sorted at the end of the
 * reload (a merge sort that costs O(n) on sorted input).
 */
#include "config.h"

#include "sluice/summaries/logdir.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "sluice/alloc.h"
#include "sluice/summaries/reader.h"
#include "sample-private.h"
#include "summaries-private.h"

typedef struct ld_file {
    char *name;      /* basename */
    char *path;
    uint64_t offset; /* where the next read starts */
    int64_t events;
    char *error;     /* why reading stopped, sl_malloc'd; NULL while fine */
    bool dead;       /* corrupted: never read again */
} ld_file;

struct sl_series {
    char *tag;
    sl_kind kind;
    char *plugin;
    sl_point *points;
    size_t n;
    size_t cap;
    size_t sorted_upto;   /* points[0, sorted_upto) are in step order */
    int64_t min_step;
    int64_t max_step;
    sl__arena arena;      /* payloads */
};

struct sl_run {
    char *name;
    char *dir;
    double start_time;
    ld_file *files;
    size_t n_files;
    size_t cap_files;
    sl_series **series;
    size_t n_series;
    size_t cap_series;
    sl__strmap tags;      /* tag -> index in series */
};

struct sl_logdir {
    char *path;
    sl_run **runs;        /* sorted by name */
    size_t n_runs;
    size_t cap_runs;
    sl__sampler sampler;
    sl_logdir_reload_stats *stats; /* of the reload in progress */
};

/* ---- lifetime ------------------------------------------------------------ */

sl_logdir *sl_logdir_open(const char *path, sl_status *st)
{
    if (!path || !*path) {
        sl_status_set(st, SL_INVALID_ARGUMENT, "empty logdir path");
        return NULL;
    }
    struct stat sb;
    if (stat(path, &sb) != 0) {
        sl_status_set(st, SL_NOT_FOUND, "cannot read logdir '%s': %s", path, strerror(errno));
        return NULL;
    }
    sl_logdir *ld = sl_calloc(1, sizeof(*ld));
    if (!ld)
        goto err_oom;
    ld->path = sl_strdup(path);
    if (!ld->path)
        goto err_free_logdir;
    sl_status_clear(st);
    return ld;

err_free_logdir:
    sl_free(ld);
err_oom:
    sl_status_set(st, SL_RESOURCE_EXHAUSTED, "out of memory opening logdir '%s'", path);
    return NULL;
}

static void series_free(sl_series *s)
{
    if (!s)
        return;
    sl_free(s->tag);
    sl_free(s->plugin);
    sl_free(s->points);
    sl__arena_release(&s->arena);
    sl_free(s);
}

static void run_free(sl_run *r)
{
    if (!r)
        return;
    for (size_t i = 0; i < r->n_files; i++) {
        sl_free(r->files[i].name);
        sl_free(r->files[i].path);
        sl_free(r->files[i].error);
    }
    sl_free(r->files);
    for (size_t i = 0; i < r->n_series; i++)
        series_free(r->series[i]);
    sl_free(r->series);
    sl__strmap_release(&r->tags);
    sl_free(r->name);
    sl_free(r->dir);
    sl_free(r);
}

void sl_logdir_free(sl_logdir *ld)
{
    if (!ld)
        return;
    for (size_t i = 0; i < ld->n_runs; i++)
        run_free(ld->runs[i]);
    sl_free(ld->runs);
    sl__sampler_release(&ld->sampler);
    sl_free(ld->path);
    sl_free(ld);
}

/* ---- discovery ----------------------------------------------------------- */

/* Index of the first run whose name is >= name. */
static size_t run_lower_bound(const sl_logdir *ld, const char *name)
{
    size_t lo = 0, hi = ld->n_runs;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (strcmp(ld->runs[mid]->name, name) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

static sl_run *get_run(sl_logdir *ld, const char *name, const char *dir, sl_status *st)
{
    size_t i = run_lower_bound(ld, name);
    if (i < ld->n_runs && strcmp(ld->runs[i]->name, name) == 0)
        return ld->runs[i];
    if (ld->n_runs == ld->cap_runs) {
        size_t cap = ld->cap_runs ? ld->cap_runs * 2 : 8;
        sl_run **runs = sl_realloc(ld->runs, cap * sizeof(*runs));
        if (!runs)
            goto err_oom;
        ld->runs = runs;
        ld->cap_runs = cap;
    }
    sl_run *r = sl_calloc(1, sizeof(*r));
    if (!r)
        goto err_oom;
    r->name = sl_strdup(name);
    r->dir = sl_strdup(dir);
    r->start_time = NAN;
    if (!r->name || !r->dir) {
        run_free(r);
        goto err_oom;
    }
    memmove(ld->runs + i + 1, ld->runs + i, (ld->n_runs - i) * sizeof(*ld->runs));
    ld->runs[i] = r;
    ld->n_runs++;
    if (ld->stats)
        ld->stats->new_runs++;
    return r;

err_oom:
    sl_status_set(st, SL_RESOURCE_EXHAUSTED, "out of memory adding run '%s'", name);
    return NULL;
}

static sl_code add_file(sl_logdir *ld, sl_run *r, const char *dir, const char *name, sl_status *st)
{
    size_t lo = 0, hi = r->n_files;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp(r->files[mid].name, name);
        if (c == 0)
            return SL_OK;
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (r->n_files == r->cap_files) {
        size_t cap = r->cap_files ? r->cap_files * 2 : 4;
        ld_file *files = sl_realloc(r->files, cap * sizeof(*files));
        if (!files)
            return sl_status_set(st, SL_RESOURCE_EXHAUSTED, "out of memory adding '%s'", name);
        r->files = files;
        r->cap_files = cap;
    }
    ld_file f = {0};
    f.name = sl_strdup(name);
    f.path = sl__path_join(dir, name);
    if (!f.name || !f.path) {
        sl_free(f.name);
        sl_free(f.path);
        return sl_status_set(st, SL_RESOURCE_EXHAUSTED, "out of memory adding '%s'", name);
    }
    memmove(r->files + lo + 1, r->files + lo, (r->n_files - lo) * sizeof(*r->files));
    r->files[lo] = f;
    r->n_files++;
    if (ld->stats)
        ld->stats->new_files++;
    return SL_OK;
}

static sl_code on_run_dir(void *ctx, const char *run, const char *dir, const char *const *files,
                          size_t n_files, sl_status *st)
{
    sl_logdir *ld = ctx;
    sl_run *r = get_run(ld, run, dir, st);
    if (!r)
        return sl_status_code(st);
    for (size_t i = 0; i < n_files; i++) {
        sl_code c = add_file(ld, r, dir, files[i], st);
        if (c != SL_OK)
            return c;
    }
    return SL_OK;
}

/* ---- series -------------------------------------------------------------- */

static sl_series *get_series(sl_run *r, sl_bytes tag, sl_kind kind, sl_bytes plugin, sl_status *st)
{
    if (r->n_series == r->cap_series) {
        size_t cap = r->cap_series ? r->cap_series * 2 : 8;
        sl_series **ss = sl_realloc(r->series, cap * sizeof(*ss));
        if (!ss)
            goto err_oom;
        r->series = ss;
        r->cap_series = cap;
    }
    sl_series *s = sl_calloc(1, sizeof(*s));
    if (!s)
        goto err_oom;
    s->kind = kind;
    s->tag = sl_strndup((const char *)tag.data, tag.size);
    s->plugin = sl_strndup(plugin.size ? (const char *)plugin.data : "", plugin.size);
    s->max_step = -1;
    if (!s->tag || !s->plugin ||
        sl__strmap_add(&r->tags, tag.data, tag.size, (int64_t)r->n_series, NULL, st) != SL_OK) {
        series_free(s);
        goto err_oom;
    }
    r->series[r->n_series++] = s;
    return s;

err_oom:
    sl_status_set(st, SL_RESOURCE_EXHAUSTED, "out of memory adding a series");
    return NULL;
}

/* Copies a payload into the series' arena. */
static const sl_payload *keep_payload(sl_series *s, const sl_payload *p)
{
    sl_payload *q = sl__arena_alloc(&s->arena, sizeof(*q));
    if (!q)
        return NULL;
    *q = *p;
    if (p->n_buckets) {
        q->buckets = sl__arena_dup(&s->arena, p->buckets, (size_t)p->n_buckets * 3 * sizeof(double));
        if (!q->buckets)
            return NULL;
    }
    if (p->n_blobs) {
        sl_bytes *b = sl__arena_alloc(&s->arena, (size_t)p->n_blobs * sizeof(*b));
        if (!b)
            return NULL;
        for (int32_t i = 0; i < p->n_blobs; i++) {
            b[i].size = p->blobs[i].size;
            b[i].data = sl__arena_dup(&s->arena, p->blobs[i].data, p->blobs[i].size);
            if (!b[i].data)
                return NULL;
        }
        q->blobs = b;
    }
    return q;
}

static sl_code append_point(sl_logdir *ld, sl_series *s, const sl_point *pt, sl_status *st)
{
    if (s->n == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 16;
        sl_point *pts = sl_realloc(s->points, cap * sizeof(*pts));
        if (!pts)
            return sl_status_set(st, SL_RESOURCE_EXHAUSTED, "out of memory growing series '%s'",
                                 s->tag);
        s->points = pts;
        s->cap = cap;
    }
    sl_point p = *pt;
    if (p.payload) {
        p.payload = keep_payload(s, pt->payload);
        if (!p.payload)
            return sl_status_set(st, SL_RESOURCE_EXHAUSTED, "out of memory storing a point of '%s'",
                                 s->tag);
    }
    if (s->n == 0 || p.step < s->min_step)
        s->min_step = p.step;
    if (s->n == 0 || p.step > s->max_step)
        s->max_step = p.step;
    if (s->sorted_upto == s->n && (s->n == 0 || s->points[s->n - 1].step <= p.step))
        s->sorted_upto = s->n + 1;
    s->points[s->n++] = p;
    if (ld->stats)
        ld->stats->points++;
    return SL_OK;
}

static void merge_sort(sl_point *a, sl_point *tmp, size_t n)
{
    if (n < 2)
        return;
    size_t mid = n / 2;
    merge_sort(a, tmp, mid);
    merge_sort(a + mid, tmp, n - mid);
    if (a[mid - 1].step <= a[mid].step)
        return;
    memcpy(tmp, a, mid * sizeof(*a));
    size_t i = 0, j = mid, k = 0;
    while (i < mid && j < n)
        a[k++] = a[j].step < tmp[i].step ? a[j++] : tmp[i++]; /* ties: left first (stable) */
    while (i < mid)
        a[k++] = tmp[i++];
}

static sl_code sort_series(sl_series *s, sl_status *st)
{
    if (s->sorted_upto == s->n)
        return SL_OK;
    sl_point *tmp = sl_malloc((s->n / 2 + 1) * sizeof(*tmp));
    if (!tmp)
        return sl_status_set(st, SL_RESOURCE_EXHAUSTED, "out of memory sorting series '%s'", s->tag);
    merge_sort(s->points, tmp, s->n);
    sl_free(tmp);
    s->sorted_upto = s->n;
    return SL_OK;
}

/* ---- reading ------------------------------------------------------------- */

/* Files into series.  Returns SL_OK, SL_DATA_LOSS for a malformed event
 * (the file is then damaged) or SL_RESOURCE_EXHAUSTED. */
static sl_code handle_event(sl_logdir *ld, sl_run *r, const sl_event *ev, sl_status *st)
{
    if (isnan(r->start_time) || ev->wall_time < r->start_time)
        r->start_time = ev->wall_time;
    sl__sampler *sm = &ld->sampler;
    sl_point pt;
    sl_code c;
    if (ev->what != SL_EVENT_SUMMARY) {
        sl_bytes tag;
        sl_kind kind = sl__event_blob(sm, ev, &tag, &pt, st);
        if (kind == SL_KIND_UNKNOWN)
            return sl_status_code(st);
        int64_t *idx = sl__strmap_find(&r->tags, tag.data, tag.size);
        sl_series *s = idx ? r->series[*idx] : NULL;
        if (s && s->kind != kind) {
            if (ld->stats)
                ld->stats->skipped_values++;
            return SL_OK;
        }
        if (!s && !(s = get_series(r, tag, kind, (sl_bytes){0}, st)))
            return sl_status_code(st);
        return append_point(ld, s, &pt, st);
    }
    sl_summary_iter it;
    sl_summary_iter_init(&it, ev->body);
    sl_summary_value v;
    while ((c = sl__summary_iter_next(&it, &v, st)) == SL_OK) {
        sl_bytes tag = sl_summary_value_tag(&v);
        int64_t *idx = sl__strmap_find(&r->tags, tag.data, tag.size);
        sl_series *s = idx ? r->series[*idx] : NULL;
        sl_kind kind = sl__value_kind(&v, s ? s->kind : SL_KIND_UNKNOWN);
        if (kind == SL_KIND_UNKNOWN || (s && s->kind != kind)) {
            if (ld->stats)
                ld->stats->skipped_values++;
            continue;
        }
        pt.step = ev->step;
        pt.wall_time = ev->wall_time;
        c = sl__sampler_decode(sm, &v, kind, &pt, st);
        if (c == SL_INVALID_ARGUMENT) {
            if (ld->stats)
                ld->stats->skipped_values++;
            continue;
        }
        if (c != SL_OK)
            return c;
        if (!s && !(s = get_series(r, tag, kind, v.plugin_name, st)))
            return sl_status_code(st);
        if ((c = append_point(ld, s, &pt, st)) != SL_OK)
            return c;
    }
    return c == SL_OUT_OF_RANGE ? SL_OK : c;
}

static void set_file_error(ld_file *f, const char *msg)
{
    sl_free(f->error);
    f->error = sl_strdup(msg);
}

static sl_code read_file(sl_logdir *ld, sl_run *r, ld_file *f, sl_status *st)
{
    if (f->dead)
        return SL_OK;
    struct stat sb;
    if (stat(f->path, &sb) != 0 || (uint64_t)sb.st_size <= f->offset)
        return SL_OK; /* gone, or nothing new */
    sl_status *fst = sl_status_new();
    if (!fst)
        return sl_status_set(st, SL_RESOURCE_EXHAUSTED, "out of memory");
    sl_code ret = SL_OK;
    sl_event_reader *rd = sl_event_reader_open(f->path, f->offset, fst);
    if (!rd) {
        if (sl_status_code(fst) == SL_RESOURCE_EXHAUSTED)
            ret = sl_status_set(st, SL_RESOURCE_EXHAUSTED, "%s", sl_status_message(fst));
        else
            set_file_error(f, sl_status_message(fst));
        goto out_free_status;
    }
    sl_event ev;
    sl_code c;
    uint64_t good = f->offset;
    while ((c = sl_event_reader_next(rd, &ev, fst)) == SL_OK) {
        f->events++;
        if (ld->stats)
            ld->stats->events++;
        c = handle_event(ld, r, &ev, fst);
        if (c == SL_DATA_LOSS) {
            sl_status_prefix(fst, "bad event at offset %" PRIu64 " in '%s'", ev.offset, f->path);
            break;
        }
        if (c != SL_OK) {
            ret = sl_status_set(st, c, "%s", sl_status_message(fst));
            break;
        }
        good = sl_event_reader_offset(rd);
    }
    if (c == SL_OUT_OF_RANGE) {
        good = sl_event_reader_offset(rd);
        if (f->error && !f->dead) { /* a transient error went away */
            sl_free(f->error);
            f->error = NULL;
        }
    } else if (c == SL_DATA_LOSS) {
        f->dead = true;
        set_file_error(f, sl_status_message(fst));
        if (ld->stats)
            ld->stats->damaged_files++;
    } else if (ret == SL_OK) {
        set_file_error(f, sl_status_message(fst)); /* e.g. a read error: retried next time */
    }
    if (ld->stats)
        ld->stats->bytes += (int64_t)sl_event_reader_bytes_read(rd);
    f->offset = good;
    sl_event_reader_free(rd);
out_free_status:
    sl_status_free(fst);
    return ret;
}

sl_code sl_logdir_reload(sl_logdir *ld, sl_logdir_reload_stats *stats, sl_status *st)
{
    sl_logdir_reload_stats local;
    memset(&local, 0, sizeof local);
    ld->stats = &local;
    sl_code c = sl__walk_logdir(ld->path, on_run_dir, ld, st);
    for (size_t i = 0; i < ld->n_runs && (c == SL_OK || c == SL_NOT_FOUND); i++) {
        sl_run *r = ld->runs[i];
        for (size_t k = 0; k < r->n_files; k++) {
            sl_code rc = read_file(ld, r, &r->files[k], st);
            if (rc != SL_OK) {
                c = rc;
                break;
            }
        }
        for (size_t k = 0; k < r->n_series; k++) {
            sl_code sc = sort_series(r->series[k], st);
            if (sc != SL_OK && c == SL_OK)
                c = sc;
        }
    }
    ld->stats = NULL;
    if (stats)
        *stats = local;
    if (c == SL_OK)
        sl_status_clear(st);
    return c;
}

/* ---- accessors ----------------------------------------------------------- */

const char *sl_logdir_path(const sl_logdir *ld)
{
    return ld->path;
}

size_t sl_logdir_run_count(const sl_logdir *ld)
{
    return ld->n_runs;
}

sl_run *sl_logdir_run(const sl_logdir *ld, size_t i)
{
    return i < ld->n_runs ? ld->runs[i] : NULL;
}

sl_run *sl_logdir_find_run(const sl_logdir *ld, const char *name)
{
    size_t i = run_lower_bound(ld, name);
    return i < ld->n_runs && strcmp(ld->runs[i]->name, name) == 0 ? ld->runs[i] : NULL;
}

const char *sl_run_name(const sl_run *run)
{
    return run->name;
}

const char *sl_run_dir(const sl_run *run)
{
    return run->dir;
}

double sl_run_start_time(const sl_run *run)
{
    return run->start_time;
}

size_t sl_run_series_count(const sl_run *run)
{
    return run->n_series;
}

sl_series *sl_run_series(const sl_run *run, size_t i)
{
    return i < run->n_series ? run->series[i] : NULL;
}

sl_series *sl_run_find_series(const sl_run *run, const char *tag)
{
    int64_t *idx = sl__strmap_find(&run->tags, tag, strlen(tag));
    return idx ? run->series[*idx] : NULL;
}

size_t sl_run_file_count(const sl_run *run)
{
    return run->n_files;
}

const char *sl_run_file_path(const sl_run *run, size_t i)
{
    return i < run->n_files ? run->files[i].path : NULL;
}

int64_t sl_run_file_events(const sl_run *run, size_t i)
{
    return i < run->n_files ? run->files[i].events : 0;
}

uint64_t sl_run_file_offset(const sl_run *run, size_t i)
{
    return i < run->n_files ? run->files[i].offset : 0;
}

const char *sl_run_file_error(const sl_run *run, size_t i)
{
    return i < run->n_files ? run->files[i].error : NULL;
}

const char *sl_series_tag(const sl_series *s)
{
    return s->tag;
}

sl_kind sl_series_kind(const sl_series *s)
{
    return s->kind;
}

const char *sl_series_plugin(const sl_series *s)
{
    return s->plugin;
}

size_t sl_series_count(const sl_series *s)
{
    return s->n;
}

const sl_point *sl_series_points(const sl_series *s)
{
    return s->points;
}

int64_t sl_series_min_step(const sl_series *s)
{
    return s->n ? s->min_step : 0;
}

int64_t sl_series_max_step(const sl_series *s)
{
    return s->n ? s->max_step : -1;
}
