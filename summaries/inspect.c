/* Printing logdirs for the command line (the contract is in
 * sluice/summaries/inspect.h): a summary of runs and tags, and the export
 * of one series as CSV or JSON.  JSON is written by hand with full string
 * escaping; numbers use %.17g so they read back exactly.
 */
#include "config.h"

#include "sluice/summaries/inspect.h"

#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sluice/alloc.h"
#include "sluice/summaries/logdir.h"

static void json_string(FILE *out, const void *data, size_t n)
{
    const unsigned char *s = data;
    fputc('"', out);
    for (size_t i = 0; i < n; i++) {
        unsigned c = s[i];
        switch (c) {
        case '"': fputs("\\\"", out); break;
        case '\\': fputs("\\\\", out); break;
        case '\n': fputs("\\n", out); break;
        case '\r': fputs("\\r", out); break;
        case '\t': fputs("\\t", out); break;
        default:
            if (c < 0x20 || c == 0x7f)
                fprintf(out, "\\u%04x", c);
            else
                fputc((int)c, out); /* UTF-8 passes through */
        }
    }
    fputc('"', out);
}

static void json_cstring(FILE *out, const char *s)
{
    if (!s)
        fputs("null", out);
    else
        json_string(out, s, strlen(s));
}

static void json_number(FILE *out, double v)
{
    if (isnan(v))
        fputs("\"NaN\"", out);
    else if (isinf(v))
        fputs(v > 0 ? "\"Infinity\"" : "\"-Infinity\"", out);
    else
        fprintf(out, "%.17g", v);
}

static void csv_number(FILE *out, double v)
{
    if (isnan(v))
        fputs("nan", out);
    else if (isinf(v))
        fputs(v > 0 ? "inf" : "-inf", out);
    else
        fprintf(out, "%.17g", v);
}

static void csv_string(FILE *out, const void *data, size_t n)
{
    const char *s = data;
    fputc('"', out);
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '"')
            fputc('"', out);
        fputc(s[i], out);
    }
    fputc('"', out);
}

static void base64(FILE *out, const void *data, size_t n)
{
    static const char tab[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    const unsigned char *p = data;
    fputc('"', out);
    size_t i = 0;
    for (; i + 2 < n; i += 3) {
        uint32_t v = (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8 | p[i + 2];
        fputc(tab[v >> 18], out);
        fputc(tab[(v >> 12) & 63], out);
        fputc(tab[(v >> 6) & 63], out);
        fputc(tab[v & 63], out);
    }
    if (i < n) {
        uint32_t v = (uint32_t)p[i] << 16 | (i + 1 < n ? (uint32_t)p[i + 1] << 8 : 0);
        fputc(tab[v >> 18], out);
        fputc(tab[(v >> 12) & 63], out);
        fputc(i + 1 < n ? tab[(v >> 6) & 63] : '=', out);
        fputc('=', out);
    }
    fputc('"', out);
}

static sl_logdir *load(const char *path, sl_status *st)
{
    sl_logdir *ld = sl_logdir_open(path, st);
    if (!ld)
        return NULL;
    if (sl_logdir_reload(ld, NULL, st) != SL_OK) {
        sl_logdir_free(ld);
        return NULL;
    }
    return ld;
}

static int cmp_series(const void *a, const void *b)
{
    return strcmp(sl_series_tag(*(sl_series *const *)a), sl_series_tag(*(sl_series *const *)b));
}

/* The run's series sorted by tag; caller frees with sl_free(). */
static sl_series **sorted_series(const sl_run *run)
{
    size_t n = sl_run_series_count(run);
    sl_series **v = sl_malloc((n ? n : 1) * sizeof(*v));
    if (!v)
        return NULL;
    for (size_t i = 0; i < n; i++)
        v[i] = sl_run_series(run, i);
    qsort(v, n, sizeof(*v), cmp_series);
    return v;
}

static void format_time(double t, char *buf, size_t size)
{
    if (isnan(t)) {
        snprintf(buf, size, "-");
        return;
    }
    time_t secs = (time_t)t;
    struct tm tm;
    gmtime_r(&secs, &tm);
    strftime(buf, size, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static sl_code check_output(FILE *out, sl_status *st)
{
    if (fflush(out) != 0 || ferror(out))
        return sl_status_set(st, SL_INTERNAL, "cannot write the output");
    sl_status_clear(st);
    return SL_OK;
}

static void inspect_text(const sl_logdir *ld, FILE *out, sl_series **const *sorted)
{
    size_t nr = sl_logdir_run_count(ld);
    fprintf(out, "logdir %s: %zu run%s\n", sl_logdir_path(ld), nr, nr == 1 ? "" : "s");
    for (size_t r = 0; r < nr; r++) {
        const sl_run *run = sl_logdir_run(ld, r);
        char when[32];
        format_time(sl_run_start_time(run), when, sizeof when);
        fprintf(out, "\nrun %s (started %s)\n", sl_run_name(run), when);
        for (size_t f = 0; f < sl_run_file_count(run); f++) {
            const char *err = sl_run_file_error(run, f);
            fprintf(out, "  file %s: %" PRId64 " events, %" PRIu64 " bytes%s%s\n",
                    sl_run_file_path(run, f), sl_run_file_events(run, f),
                    sl_run_file_offset(run, f), err ? "; error: " : "", err ? err : "");
        }
        size_t ns = sl_run_series_count(run);
        size_t width = 3;
        for (size_t i = 0; i < ns; i++) {
            size_t w = strlen(sl_series_tag(sorted[r][i]));
            if (w > width)
                width = w;
        }
        if (width > 60)
            width = 60;
        if (ns)
            fprintf(out, "  %-*s  %-12s %8s  %s\n", (int)width, "tag", "kind", "points", "steps");
        for (size_t i = 0; i < ns; i++) {
            const sl_series *s = sorted[r][i];
            fprintf(out, "  %-*s  %-12s %8zu  %" PRId64 "..%" PRId64 "\n", (int)width,
                    sl_series_tag(s), sl_kind_name(sl_series_kind(s)), sl_series_count(s),
                    sl_series_min_step(s), sl_series_max_step(s));
        }
    }
}

static void inspect_json(const sl_logdir *ld, FILE *out, sl_series **const *sorted)
{
    fputs("{\"path\": ", out);
    json_cstring(out, sl_logdir_path(ld));
    fputs(", \"runs\": [", out);
    for (size_t r = 0; r < sl_logdir_run_count(ld); r++) {
        const sl_run *run = sl_logdir_run(ld, r);
        fputs(r ? ",\n  {\"name\": " : "\n  {\"name\": ", out);
        json_cstring(out, sl_run_name(run));
        fputs(", \"start_time\": ", out);
        if (isnan(sl_run_start_time(run)))
            fputs("null", out);
        else
            json_number(out, sl_run_start_time(run));
        fputs(", \"files\": [", out);
        for (size_t f = 0; f < sl_run_file_count(run); f++) {
            fputs(f ? ", {\"path\": " : "{\"path\": ", out);
            json_cstring(out, sl_run_file_path(run, f));
            fprintf(out, ", \"events\": %" PRId64 ", \"offset\": %" PRIu64 ", \"error\": ",
                    sl_run_file_events(run, f), sl_run_file_offset(run, f));
            json_cstring(out, sl_run_file_error(run, f));
            fputc('}', out);
        }
        fputs("], \"tags\": [", out);
        for (size_t i = 0; i < sl_run_series_count(run); i++) {
            const sl_series *s = sorted[r][i];
            fputs(i ? ",\n    {\"tag\": " : "\n    {\"tag\": ", out);
            json_cstring(out, sl_series_tag(s));
            fprintf(out, ", \"kind\": \"%s\", \"plugin\": ", sl_kind_name(sl_series_kind(s)));
            json_cstring(out, sl_series_plugin(s));
            fprintf(out, ", \"points\": %zu, \"min_step\": %" PRId64 ", \"max_step\": %" PRId64 "}",
                    sl_series_count(s), sl_series_min_step(s), sl_series_max_step(s));
        }
        fputs("]}", out);
    }
    fputs("\n]}\n", out);
}

sl_code sl_logdir_inspect(const char *path, bool json, FILE *out, sl_status *st)
{
    sl_logdir *ld = load(path, st);
    if (!ld)
        return sl_status_code(st);
    size_t nr = sl_logdir_run_count(ld);
    sl_series ***sorted = sl_calloc(nr ? nr : 1, sizeof(*sorted));
    sl_code c = SL_OK;
    if (!sorted) {
        c = sl_status_set(st, SL_RESOURCE_EXHAUSTED, "out of memory inspecting '%s'", path);
        goto out_free_logdir;
    }
    for (size_t r = 0; r < nr; r++) {
        sorted[r] = sorted_series(sl_logdir_run(ld, r));
        if (!sorted[r]) {
            c = sl_status_set(st, SL_RESOURCE_EXHAUSTED, "out of memory inspecting '%s'", path);
            goto out_free_sorted;
        }
    }
    if (json)
        inspect_json(ld, out, (sl_series **const *)sorted);
    else
        inspect_text(ld, out, (sl_series **const *)sorted);
    c = check_output(out, st);
out_free_sorted:
    for (size_t r = 0; r < nr; r++)
        sl_free(sorted[r]);
    sl_free(sorted);
out_free_logdir:
    sl_logdir_free(ld);
    return c;
}

static void export_csv(const sl_series *s, FILE *out)
{
    sl_kind kind = sl_series_kind(s);
    const sl_point *pts = sl_series_points(s);
    size_t n = sl_series_count(s);
    switch (kind) {
    case SL_KIND_SCALAR: fputs("wall_time,step,value\n", out); break;
    case SL_KIND_HISTOGRAM: fputs("wall_time,step,left,right,count\n", out); break;
    case SL_KIND_IMAGE: fputs("wall_time,step,index,width,height,bytes\n", out); break;
    case SL_KIND_TEXT: fputs("wall_time,step,index,text\n", out); break;
    default: fputs("wall_time,step,index,bytes\n", out); break;
    }
    for (size_t i = 0; i < n; i++) {
        const sl_point *p = &pts[i];
        if (kind == SL_KIND_SCALAR) {
            fprintf(out, "%.17g,%" PRId64 ",", p->wall_time, p->step);
            csv_number(out, p->value);
            fputc('\n', out);
            continue;
        }
        const sl_payload *pl = p->payload;
        if (kind == SL_KIND_HISTOGRAM) {
            for (int64_t b = 0; b < pl->n_buckets; b++) {
                fprintf(out, "%.17g,%" PRId64 ",", p->wall_time, p->step);
                for (int k = 0; k < 3; k++) {
                    csv_number(out, pl->buckets[3 * b + k]);
                    fputc(k < 2 ? ',' : '\n', out);
                }
            }
            continue;
        }
        for (int32_t b = 0; b < pl->n_blobs; b++) {
            fprintf(out, "%.17g,%" PRId64 ",%d,", p->wall_time, p->step, (int)b);
            if (kind == SL_KIND_IMAGE)
                fprintf(out, "%d,%d,%zu\n", (int)pl->width, (int)pl->height, pl->blobs[b].size);
            else if (kind == SL_KIND_TEXT) {
                csv_string(out, pl->blobs[b].data, pl->blobs[b].size);
                fputc('\n', out);
            } else
                fprintf(out, "%zu\n", pl->blobs[b].size);
        }
    }
}

static void export_json(const sl_series *s, FILE *out)
{
    sl_kind kind = sl_series_kind(s);
    const sl_point *pts = sl_series_points(s);
    size_t n = sl_series_count(s);
    fputc('[', out);
    for (size_t i = 0; i < n; i++) {
        const sl_point *p = &pts[i];
        fputs(i ? ",\n {\"wall_time\": " : "\n {\"wall_time\": ", out);
        json_number(out, p->wall_time);
        fprintf(out, ", \"step\": %" PRId64, p->step);
        const sl_payload *pl = p->payload;
        if (kind == SL_KIND_SCALAR) {
            fputs(", \"value\": ", out);
            json_number(out, p->value);
        } else if (kind == SL_KIND_HISTOGRAM) {
            fputs(", \"buckets\": [", out);
            for (int64_t b = 0; b < pl->n_buckets; b++) {
                fputs(b ? ", [" : "[", out);
                for (int k = 0; k < 3; k++) {
                    if (k)
                        fputs(", ", out);
                    json_number(out, pl->buckets[3 * b + k]);
                }
                fputc(']', out);
            }
            fputc(']', out);
        } else {
            if (kind == SL_KIND_IMAGE)
                fprintf(out, ", \"width\": %d, \"height\": %d, \"images\": [", (int)pl->width,
                        (int)pl->height);
            else
                fputs(kind == SL_KIND_TEXT ? ", \"text\": [" : ", \"data\": [", out);
            for (int32_t b = 0; b < pl->n_blobs; b++) {
                if (b)
                    fputs(", ", out);
                if (kind == SL_KIND_TEXT)
                    json_string(out, pl->blobs[b].data, pl->blobs[b].size);
                else
                    base64(out, pl->blobs[b].data, pl->blobs[b].size);
            }
            fputc(']', out);
        }
        fputc('}', out);
    }
    fputs(n ? "\n]\n" : "]\n", out);
}

/* "a, b, c" of the names the caller could have meant, for messages. */
static void list_names(char *buf, size_t size, const sl_logdir *ld, const sl_run *run)
{
    size_t used = 0;
    buf[0] = '\0';
    size_t n = run ? sl_run_series_count(run) : sl_logdir_run_count(ld);
    for (size_t i = 0; i < n && used + 1 < size; i++) {
        const char *name = run ? sl_series_tag(sl_run_series(run, i))
                               : sl_run_name(sl_logdir_run(ld, i));
        int k = snprintf(buf + used, size - used, "%s'%s'", i ? ", " : "", name);
        if (k < 0)
            break;
        used += (size_t)k;
    }
    if (used >= size && size > 4)
        strcpy(buf + size - 4, "...");
}

sl_code sl_logdir_export(const char *logdir, const char *run, const char *tag, const char *format,
                         FILE *out, sl_status *st)
{
    bool json;
    if (format && strcmp(format, "csv") == 0)
        json = false;
    else if (format && strcmp(format, "json") == 0)
        json = true;
    else
        return sl_status_set(st, SL_INVALID_ARGUMENT, "unknown export format '%s' (csv or json)",
                             format ? format : "");
    if (!run || !tag)
        return sl_status_set(st, SL_INVALID_ARGUMENT, "export needs a run and a tag");
    sl_logdir *ld = load(logdir, st);
    if (!ld)
        return sl_status_code(st);
    sl_code c;
    char names[512];
    const sl_run *r = sl_logdir_find_run(ld, run);
    if (!r) {
        list_names(names, sizeof names, ld, NULL);
        c = sl_status_set(st, SL_NOT_FOUND, "no run '%s' in '%s' (runs: %s)", run, logdir,
                          names[0] ? names : "none");
        goto out;
    }
    const sl_series *s = sl_run_find_series(r, tag);
    if (!s) {
        list_names(names, sizeof names, ld, r);
        c = sl_status_set(st, SL_NOT_FOUND, "no tag '%s' in run '%s' (tags: %s)", tag, run,
                          names[0] ? names : "none");
        goto out;
    }
    if (json)
        export_json(s, out);
    else
        export_csv(s, out);
    c = check_output(out, st);
out:
    sl_logdir_free(ld);
    return c;
}
