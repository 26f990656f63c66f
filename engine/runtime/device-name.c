/* Device names: parsing TF's /job:J/replica:R/task:T/device:TYPE:N (with
 * any part missing, and the legacy "/cpu:0" form), formatting, matching a
 * full name against a constraint, and merging constraints. */
#include "config.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sluice/device.h"

static bool parse_int(const char *s, size_t n, int *out)
{
    if (n == 0 || n > 9)
        return false;
    int v = 0;
    for (size_t i = 0; i < n; i++) {
        if (!isdigit((unsigned char)s[i]))
            return false;
        v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return true;
}

static bool copy_part(char *dst, const char *s, size_t n)
{
    if (n == 0 || n >= SL_DEVICE_PART_MAX)
        return false;
    memcpy(dst, s, n);
    dst[n] = '\0';
    return true;
}

/* "TYPE:N", "TYPE:*" or "TYPE" into name. */
static bool parse_type_id(const char *s, size_t n, sl_device_name *out)
{
    const char *colon = memchr(s, ':', n);
    size_t tn = colon ? (size_t)(colon - s) : n;
    if (!copy_part(out->type, s, tn))
        return false;
    for (char *p = out->type; *p; p++) {
        if (!isalnum((unsigned char)*p) && *p != '_')
            return false;
        *p = (char)toupper((unsigned char)*p);
    }
    out->has_type = true;
    if (colon) {
        const char *id = colon + 1;
        size_t idn = n - tn - 1;
        if (idn == 1 && *id == '*')
            return true;
        if (!parse_int(id, idn, &out->id))
            return false;
        out->has_id = true;
    }
    return true;
}

sl_code sl_device_name_parse(const char *s, sl_device_name *out, sl_status *st)
{
    sl_device_name n;
    memset(&n, 0, sizeof(n));
    const char *p = s ? s : "";
    while (*p) {
        if (*p != '/')
            goto bad;
        p++;
        const char *end = strchr(p, '/');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        const char *colon = memchr(p, ':', len);
        if (!colon)
            goto bad;
        size_t kl = (size_t)(colon - p);
        const char *v = colon + 1;
        size_t vl = len - kl - 1;
        if (kl == 3 && !strncmp(p, "job", 3)) {
            if (!copy_part(n.job, v, vl))
                goto bad;
            n.has_job = true;
        } else if (kl == 7 && !strncmp(p, "replica", 7)) {
            if (!parse_int(v, vl, &n.replica))
                goto bad;
            n.has_replica = true;
        } else if (kl == 4 && !strncmp(p, "task", 4)) {
            if (!parse_int(v, vl, &n.task))
                goto bad;
            n.has_task = true;
        } else if (kl == 6 && !strncmp(p, "device", 6)) {
            if (!parse_type_id(v, vl, &n))
                goto bad;
        } else if (!n.has_type) {  /* legacy "/cpu:0", "/gpu:1" */
            if (!parse_type_id(p, len, &n))
                goto bad;
        } else {
            goto bad;
        }
        p += len;
    }
    *out = n;
    sl_status_clear(st);
    return SL_OK;
bad:
    return sl_status_set(st, SL_INVALID_ARGUMENT, "malformed device name '%s' (expected /job:J/replica:R/task:T/device:TYPE:N)",
                         s ? s : "");
}

char *sl_device_name_format(const sl_device_name *n, char *buf, size_t size)
{
    size_t pos = 0;
    buf[0] = '\0';
#define PUT(...) pos += (size_t)snprintf(buf + pos, pos < size ? size - pos : 0, __VA_ARGS__)
    if (n->has_job)
        PUT("/job:%s", n->job);
    if (n->has_replica)
        PUT("/replica:%d", n->replica);
    if (n->has_task)
        PUT("/task:%d", n->task);
    if (n->has_type) {
        if (n->has_id)
            PUT("/device:%s:%d", n->type, n->id);
        else
            PUT("/device:%s:*", n->type);
    }
#undef PUT
    return buf;
}

bool sl_device_name_matches(const sl_device_name *full, const sl_device_name *c)
{
    if (c->has_job && (!full->has_job || strcmp(c->job, full->job)))
        return false;
    if (c->has_replica && (!full->has_replica || c->replica != full->replica))
        return false;
    if (c->has_task && (!full->has_task || c->task != full->task))
        return false;
    if (c->has_type && (!full->has_type || strcmp(c->type, full->type)))
        return false;
    if (c->has_id && (!full->has_id || c->id != full->id))
        return false;
    return true;
}

sl_code sl_device_name_merge(const sl_device_name *a, const sl_device_name *b, sl_device_name *out,
                             sl_status *st)
{
    char sa[SL_DEVICE_NAME_MAX], sb[SL_DEVICE_NAME_MAX];
    sl_device_name m = *a;
    if (b->has_job) {
        if (m.has_job && strcmp(m.job, b->job))
            goto conflict;
        memcpy(m.job, b->job, sizeof(m.job));
        m.has_job = true;
    }
    if (b->has_replica) {
        if (m.has_replica && m.replica != b->replica)
            goto conflict;
        m.replica = b->replica;
        m.has_replica = true;
    }
    if (b->has_task) {
        if (m.has_task && m.task != b->task)
            goto conflict;
        m.task = b->task;
        m.has_task = true;
    }
    if (b->has_type) {
        if (m.has_type && strcmp(m.type, b->type))
            goto conflict;
        memcpy(m.type, b->type, sizeof(m.type));
        m.has_type = true;
    }
    if (b->has_id) {
        if (m.has_id && m.id != b->id)
            goto conflict;
        m.id = b->id;
        m.has_id = true;
    }
    *out = m;
    sl_status_clear(st);
    return SL_OK;
conflict:
    return sl_status_set(st, SL_INVALID_ARGUMENT, "device constraints '%s' and '%s' conflict",
                         sl_device_name_format(a, sa, sizeof(sa)), sl_device_name_format(b, sb, sizeof(sb)));
}
