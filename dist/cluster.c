/* Cluster specs: the short command-line form and text-format ClusterDef,
 * both checked the same way (see cluster.h). */
#include "config.h"

#include "cluster.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cluster.pb-c.h"
#include "textformat.h"

void sl_cluster_free(sl_cluster *c)
{
    if (!c)
        return;
    for (int j = 0; j < c->num_jobs; j++) {
        for (int t = 0; t < c->jobs[j].num_tasks; t++)
            free(c->jobs[j].addresses[t]);
        free(c->jobs[j].addresses);
        free(c->jobs[j].name);
    }
    free(c->jobs);
    free(c);
}

static bool valid_job_name(const char *s)
{
    if (!*s)
        return false;
    for (; *s; s++)
        if (!isalnum((unsigned char)*s) && *s != '_')
            return false;
    return true;
}

bool sl_cluster_split_address(const char *a, char *host, size_t host_size, int *port)
{
    const char *colon;
    const char *h = a;
    size_t hl;
    if (*a == '[') {
        const char *close = strchr(a, ']');
        if (!close || close[1] != ':')
            return false;
        h = a + 1;
        hl = (size_t)(close - h);
        colon = close + 1;
    } else {
        colon = strrchr(a, ':');
        if (!colon)
            return false;
        hl = (size_t)(colon - a);
        if (memchr(a, ':', hl))
            return false;  /* bare IPv6 needs brackets */
    }
    if (hl == 0 || hl >= host_size)
        return false;
    for (size_t i = 0; i < hl; i++)
        if (isspace((unsigned char)h[i]) || h[i] == ',' || h[i] == ';' || h[i] == '=')
            return false;
    const char *p = colon + 1;
    if (!*p || strlen(p) > 5)
        return false;
    long v = 0;
    for (; *p; p++) {
        if (!isdigit((unsigned char)*p))
            return false;
        v = v * 10 + (*p - '0');
    }
    if (v < 1 || v > 65535)
        return false;
    memcpy(host, h, hl);
    host[hl] = '\0';
    *port = (int)v;
    return true;
}

char *sl_cluster_task_name(const char *job, int task, char *buf, size_t size)
{
    snprintf(buf, size, "/job:%s/replica:0/task:%d", job, task);
    return buf;
}

/* Checks names, addresses and duplicates; the message starts with "cluster spec: ". */
static sl_code validate(const sl_cluster *c, sl_status *st)
{
    if (c->num_jobs == 0)
        return sl_status_set(st, SL_INVALID_ARGUMENT, "cluster spec: no jobs");
    for (int j = 0; j < c->num_jobs; j++) {
        const sl_cluster_job *job = &c->jobs[j];
        if (!valid_job_name(job->name))
            return sl_status_set(st, SL_INVALID_ARGUMENT,
                                 "cluster spec: job name '%s' is not [A-Za-z0-9_]+", job->name);
        for (int k = 0; k < j; k++)
            if (!strcmp(c->jobs[k].name, job->name))
                return sl_status_set(st, SL_INVALID_ARGUMENT, "cluster spec: job '%s' given twice",
                                     job->name);
        if (job->num_tasks == 0)
            return sl_status_set(st, SL_INVALID_ARGUMENT, "cluster spec: job '%s' has no tasks",
                                 job->name);
        for (int t = 0; t < job->num_tasks; t++) {
            char host[256];
            int port;
            if (!job->addresses[t])
                return sl_status_set(st, SL_INVALID_ARGUMENT,
                                     "cluster spec: job '%s' has no task %d (tasks are numbered 0..%d)",
                                     job->name, t, job->num_tasks - 1);
            if (!sl_cluster_split_address(job->addresses[t], host, sizeof(host), &port))
                return sl_status_set(st, SL_INVALID_ARGUMENT,
                                     "cluster spec: job '%s' task %d: '%s' is not host:port with a port in 1..65535",
                                     job->name, t, job->addresses[t]);
        }
    }
    for (int i = 0; i < sl_cluster_num_tasks(c); i++) {
        const char *ji, *jk;
        int ti, tk;
        sl_cluster_task_at(c, i, &ji, &ti);
        const char *ai = sl_cluster_task_address(c, ji, ti);
        for (int k = 0; k < i; k++) {
            sl_cluster_task_at(c, k, &jk, &tk);
            if (!strcmp(ai, sl_cluster_task_address(c, jk, tk)))
                return sl_status_set(st, SL_INVALID_ARGUMENT,
                                     "cluster spec: address %s is given to both /job:%s/task:%d and /job:%s/task:%d",
                                     ai, jk, tk, ji, ti);
        }
    }
    sl_status_clear(st);
    return SL_OK;
}

static sl_cluster *oom(sl_cluster *c, sl_status *st)
{
    sl_cluster_free(c);
    sl_status_set(st, SL_RESOURCE_EXHAUSTED, "cluster spec: out of memory");
    return NULL;
}

static char *dup_range(const char *s, size_t n)
{
    char *d = malloc(n + 1);
    if (d) {
        memcpy(d, s, n);
        d[n] = '\0';
    }
    return d;
}

/* Trims spaces off both ends of [*s, *s+*n). */
static void trim(const char **s, size_t *n)
{
    while (*n && isspace((unsigned char)**s)) {
        (*s)++;
        (*n)--;
    }
    while (*n && isspace((unsigned char)(*s)[*n - 1]))
        (*n)--;
}

sl_cluster *sl_cluster_parse_short(const char *spec, sl_status *st)
{
    sl_cluster *c = calloc(1, sizeof(*c));
    if (!c)
        return oom(NULL, st);
    const char *p = spec;
    while (*p) {
        const char *end = strchr(p, ';');
        size_t n = end ? (size_t)(end - p) : strlen(p);
        const char *item = p;
        trim(&item, &n);
        p += (end ? (size_t)(end - p) + 1 : strlen(p));
        if (n == 0)
            continue;  /* "a=x;" and ";;" are fine */
        const char *eq = memchr(item, '=', n);
        if (!eq) {
            sl_status_set(st, SL_INVALID_ARGUMENT,
                          "cluster spec: '%.*s' is not JOB=HOST:PORT[,HOST:PORT...]", (int)n, item);
            sl_cluster_free(c);
            return NULL;
        }
        sl_cluster_job *jobs = realloc(c->jobs, sizeof(*jobs) * (size_t)(c->num_jobs + 1));
        if (!jobs)
            return oom(c, st);
        c->jobs = jobs;
        sl_cluster_job *job = &c->jobs[c->num_jobs++];
        memset(job, 0, sizeof(*job));
        const char *name = item;
        size_t nl = (size_t)(eq - item);
        trim(&name, &nl);
        if (!(job->name = dup_range(name, nl)))
            return oom(c, st);
        const char *q = eq + 1;
        const char *stop = item + n;
        while (q <= stop) {
            const char *comma = memchr(q, ',', (size_t)(stop - q));
            const char *aend = comma ? comma : stop;
            const char *a = q;
            size_t al = (size_t)(aend - q);
            trim(&a, &al);
            char **addrs = realloc(job->addresses, sizeof(*addrs) * (size_t)(job->num_tasks + 1));
            if (!addrs)
                return oom(c, st);
            job->addresses = addrs;
            if (!(addrs[job->num_tasks] = dup_range(a, al)))
                return oom(c, st);
            job->num_tasks++;
            if (al == 0) {
                sl_status_set(st, SL_INVALID_ARGUMENT, "cluster spec: job '%s' task %d: empty address",
                              job->name, job->num_tasks - 1);
                sl_cluster_free(c);
                return NULL;
            }
            if (!comma)
                break;
            q = comma + 1;
        }
    }
    if (validate(c, st) != SL_OK) {
        sl_cluster_free(c);
        return NULL;
    }
    return c;
}

sl_cluster *sl_cluster_parse_text(const char *text, size_t len, const char *source, sl_status *st)
{
    Sluice__Dist__ClusterDef *def = (Sluice__Dist__ClusterDef *)sl_textformat_parse(
        &sluice__dist__cluster_def__descriptor, text, len, source, st);
    if (!def) {
        sl_status_prefix(st, "cluster spec");
        return NULL;
    }
    sl_cluster *c = calloc(1, sizeof(*c));
    if (!c || (def->n_job && !(c->jobs = calloc(def->n_job, sizeof(*c->jobs))))) {
        protobuf_c_message_free_unpacked(&def->base, NULL);
        free(c);
        return oom(NULL, st);
    }
    c->num_jobs = (int)def->n_job;
    sl_code code = SL_OK;
    for (size_t j = 0; j < def->n_job && code == SL_OK; j++) {
        Sluice__Dist__JobDef *jd = def->job[j];
        sl_cluster_job *job = &c->jobs[j];
        if (!(job->name = strdup(jd->name))) {
            code = SL_RESOURCE_EXHAUSTED;
            break;
        }
        int max = -1;
        for (size_t t = 0; t < jd->n_tasks; t++) {
            if (jd->tasks[t]->key < 0 || jd->tasks[t]->key > 100000) {
                code = sl_status_set(st, SL_INVALID_ARGUMENT, "cluster spec: job '%s': bad task index %d",
                                     jd->name, jd->tasks[t]->key);
                break;
            }
            if (jd->tasks[t]->key > max)
                max = jd->tasks[t]->key;
        }
        if (code != SL_OK)
            break;
        job->num_tasks = max + 1;
        if (max >= 0 && !(job->addresses = calloc((size_t)max + 1, sizeof(char *)))) {
            code = SL_RESOURCE_EXHAUSTED;
            break;
        }
        for (size_t t = 0; t < jd->n_tasks; t++) {
            int k = jd->tasks[t]->key;
            if (job->addresses[k]) {
                code = sl_status_set(st, SL_INVALID_ARGUMENT, "cluster spec: job '%s': task %d given twice",
                                     jd->name, k);
                break;
            }
            if (!(job->addresses[k] = strdup(jd->tasks[t]->value))) {
                code = SL_RESOURCE_EXHAUSTED;
                break;
            }
        }
    }
    protobuf_c_message_free_unpacked(&def->base, NULL);
    if (code == SL_RESOURCE_EXHAUSTED)
        return oom(c, st);
    if (code != SL_OK || validate(c, st) != SL_OK) {
        sl_cluster_free(c);
        return NULL;
    }
    return c;
}

static char *read_file(const char *path, size_t *len, sl_status *st)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        sl_status_set(st, SL_NOT_FOUND, "cannot open cluster spec '%s': %s", path, strerror(errno));
        return NULL;
    }
    char *buf = NULL;
    size_t n = 0, cap = 0;
    for (;;) {
        if (n + 4096 > cap) {
            cap = cap ? cap * 2 : 8192;
            char *nb = realloc(buf, cap);
            if (!nb) {
                free(buf);
                fclose(f);
                sl_status_set(st, SL_RESOURCE_EXHAUSTED, "out of memory reading '%s'", path);
                return NULL;
            }
            buf = nb;
        }
        size_t r = fread(buf + n, 1, cap - n, f);
        n += r;
        if (r == 0)
            break;
    }
    fclose(f);
    *len = n;
    return buf;
}

sl_cluster *sl_cluster_load(const char *spec, sl_status *st)
{
    struct stat sb;
    const char *path = NULL;
    if (spec[0] == '@')
        path = spec + 1;
    else if (!strchr(spec, '=') && !strchr(spec, '{') && stat(spec, &sb) == 0)
        path = spec;
    if (path) {
        size_t len;
        char *text = read_file(path, &len, st);
        if (!text)
            return NULL;
        sl_cluster *c = sl_cluster_parse_text(text, len, path, st);
        free(text);
        return c;
    }
    if (strchr(spec, '{'))
        return sl_cluster_parse_text(spec, strlen(spec), "<cluster>", st);
    return sl_cluster_parse_short(spec, st);
}

sl_cluster *sl_cluster_copy(const sl_cluster *c)
{
    char *s = sl_cluster_format_short(c);
    if (!s)
        return NULL;
    sl_cluster *d = sl_cluster_parse_short(s, NULL);
    free(s);
    return d;
}

const sl_cluster_job *sl_cluster_find_job(const sl_cluster *c, const char *job)
{
    for (int j = 0; j < c->num_jobs; j++)
        if (!strcmp(c->jobs[j].name, job))
            return &c->jobs[j];
    return NULL;
}

const char *sl_cluster_task_address(const sl_cluster *c, const char *job, int task)
{
    const sl_cluster_job *j = sl_cluster_find_job(c, job);
    if (!j || task < 0 || task >= j->num_tasks)
        return NULL;
    return j->addresses[task];
}

int sl_cluster_num_tasks(const sl_cluster *c)
{
    int n = 0;
    for (int j = 0; j < c->num_jobs; j++)
        n += c->jobs[j].num_tasks;
    return n;
}

void sl_cluster_task_at(const sl_cluster *c, int i, const char **job, int *task)
{
    for (int j = 0; j < c->num_jobs; j++) {
        if (i < c->jobs[j].num_tasks) {
            *job = c->jobs[j].name;
            *task = i;
            return;
        }
        i -= c->jobs[j].num_tasks;
    }
    *job = NULL;
    *task = -1;
}

char *sl_cluster_format_short(const sl_cluster *c)
{
    size_t n = 1;
    for (int j = 0; j < c->num_jobs; j++) {
        n += strlen(c->jobs[j].name) + 2;
        for (int t = 0; t < c->jobs[j].num_tasks; t++)
            n += strlen(c->jobs[j].addresses[t]) + 1;
    }
    char *s = malloc(n);
    if (!s)
        return NULL;
    char *p = s;
    for (int j = 0; j < c->num_jobs; j++) {
        p += sprintf(p, "%s%s=", j ? ";" : "", c->jobs[j].name);
        for (int t = 0; t < c->jobs[j].num_tasks; t++)
            p += sprintf(p, "%s%s", t ? "," : "", c->jobs[j].addresses[t]);
    }
    *p = '\0';
    return s;
}
