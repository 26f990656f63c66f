/* The small internal helpers declared in summaries-private.h: byte
 * buffers, the bump arena, skipping protobuf fields, clocks and paths.
 * They are here, in one place, so the subsystem files stay about their
 * subject. */
#include "config.h"

#include "summaries-private.h"

#include <errno.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <time.h>

sl_code sl__buf_reserve(sl__buf *b, size_t extra, sl_status *st)
{
    if (extra <= b->cap - b->len)
        return SL_OK;
    if (extra > SIZE_MAX / 2 - b->len)
        return sl_status_set(st, SL_RESOURCE_EXHAUSTED, "buffer of %zu bytes too large", extra);
    size_t need = b->len + extra;
    size_t cap = b->cap ? b->cap : 256;
    while (cap < need)
        cap *= 2;
    uint8_t *p = sl_realloc(b->data, cap);
    if (!p)
        return sl_status_set(st, SL_RESOURCE_EXHAUSTED, "out of memory growing a buffer to %zu bytes",
                             cap);
    b->data = p;
    b->cap = cap;
    return SL_OK;
}

sl_code sl__buf_append(sl__buf *b, const void *data, size_t n, sl_status *st)
{
    sl_code c = sl__buf_reserve(b, n, st);
    if (c != SL_OK)
        return c;
    if (n)
        memcpy(b->data + b->len, data, n);
    b->len += n;
    return SL_OK;
}

void sl__buf_release(sl__buf *b)
{
    sl_free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
}

struct sl__arena_chunk {
    sl__arena_chunk *next;
    size_t size;            /* usable bytes after the header */
    _Alignas(8) uint8_t data[];
};

#define ARENA_CHUNK 65536

void *sl__arena_alloc(sl__arena *a, size_t n)
{
    n = (n + 7) & ~(size_t)7;
    if (!a->head || a->head->size - a->used < n) {
        size_t size = n > ARENA_CHUNK / 4 ? n : ARENA_CHUNK;
        sl__arena_chunk *c = sl_malloc(sizeof(*c) + size);
        if (!c)
            return NULL;
        c->size = size;
        if (a->head && size != ARENA_CHUNK) {
            /* a big block: put it behind the current chunk so the space
             * left there stays usable */
            c->next = a->head->next;
            a->head->next = c;
            a->total += n;
            return c->data;
        }
        c->next = a->head;
        a->head = c;
        a->used = 0;
    }
    void *p = a->head->data + a->used;
    a->used += n;
    a->total += n;
    return p;
}

void *sl__arena_dup(sl__arena *a, const void *data, size_t n)
{
    void *p = sl__arena_alloc(a, n ? n : 1);
    if (p && n)
        memcpy(p, data, n);
    return p;
}

void sl__arena_release(sl__arena *a)
{
    sl__arena_chunk *c = a->head;
    while (c) {
        sl__arena_chunk *next = c->next;
        sl_free(c);
        c = next;
    }
    a->head = NULL;
    a->used = a->total = 0;
}

bool sl__wire_skip(sl__wire *w, int wtype)
{
    uint64_t v;
    sl_bytes b;
    switch (wtype) {
    case SL__WIRE_VARINT:
        return sl__wire_varint(w, &v);
    case SL__WIRE_FIXED64:
        if (w->end - w->p < 8)
            return false;
        w->p += 8;
        return true;
    case SL__WIRE_LEN:
        return sl__wire_len(w, &b);
    case SL__WIRE_FIXED32:
        if (w->end - w->p < 4)
            return false;
        w->p += 4;
        return true;
    default: /* groups (3, 4) and the unused types 6, 7 */
        return false;
    }
}

double sl__now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    /* microsecond resolution, as TF's EnvTime::NowMicros() / 1e6 */
    int64_t us = (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
    return (double)us / 1e6;
}

int64_t sl__monotonic_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

char *sl__path_join(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    bool slash = la > 0 && a[la - 1] != '/';
    char *p = sl_malloc(la + slash + lb + 1);
    if (!p)
        return NULL;
    memcpy(p, a, la);
    if (slash)
        p[la] = '/';
    memcpy(p + la + slash, b, lb + 1);
    return p;
}

sl_code sl__mkdir_p(const char *path, sl_status *st)
{
    char *copy = sl_strdup(path);
    if (!copy)
        return sl_status_set(st, SL_RESOURCE_EXHAUSTED, "out of memory");
    sl_code code = SL_OK;
    for (char *p = copy + 1;; p++) {
        if (*p != '/' && *p != '\0')
            continue;
        char saved = *p;
        *p = '\0';
        if (mkdir(copy, 0777) != 0 && errno != EEXIST) {
            code = sl_status_set(st, errno == EACCES ? SL_PERMISSION_DENIED : SL_INTERNAL,
                                 "cannot create directory '%s': %s", copy, strerror(errno));
            break;
        }
        *p = saved;
        if (saved == '\0')
            break;
    }
    if (code == SL_OK) {
        struct stat sb;
        if (stat(path, &sb) != 0 || !S_ISDIR(sb.st_mode))
            code = sl_status_set(st, SL_FAILED_PRECONDITION, "'%s' is not a directory", path);
    }
    sl_free(copy);
    return code;
}

bool sl__is_event_file_name(const char *basename)
{
    return strstr(basename, "tfevents") != NULL;
}

bool sl__is_utf8(const char *str, size_t n)
{
    const unsigned char *s = (const unsigned char *)str;
    size_t i = 0;
    while (i < n) {
        unsigned c = s[i];
        if (c < 0x80) {
            i++;
            continue;
        }
        int len;
        unsigned min;
        if ((c & 0xe0) == 0xc0) {
            len = 2;
            min = 0x80;
            c &= 0x1f;
        } else if ((c & 0xf0) == 0xe0) {
            len = 3;
            min = 0x800;
            c &= 0x0f;
        } else if ((c & 0xf8) == 0xf0) {
            len = 4;
            min = 0x10000;
            c &= 0x07;
        } else {
            return false;
        }
        if (n - i < (size_t)len)
            return false;
        for (int k = 1; k < len; k++) {
            if ((s[i + k] & 0xc0) != 0x80)
                return false;
            c = c << 6 | (s[i + k] & 0x3f);
        }
        if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
            return false;
        i += (size_t)len;
    }
    return true;
}

uint64_t sl__hash_bytes(const void *data, size_t n)
{
    const unsigned char *p = data;
    uint64_t h = 0xcbf29ce484222325ull; /* FNV-1a */
    for (size_t i = 0; i < n; i++) {
        h ^= p[i];
        h *= 0x100000001b3ull;
    }
    return h;
}

int64_t *sl__strmap_find(const sl__strmap *m, const void *key, size_t len)
{
    if (m->cap == 0)
        return NULL;
    uint64_t h = sl__hash_bytes(key, len);
    for (size_t i = h & (m->cap - 1);; i = (i + 1) & (m->cap - 1)) {
        sl__strmap_slot *s = &m->slots[i];
        if (!s->key)
            return NULL;
        if (s->hash == h && s->len == len && memcmp(s->key, key, len) == 0)
            return &s->value;
    }
}

static void strmap_insert_slot(sl__strmap_slot *slots, size_t cap, const sl__strmap_slot *s)
{
    for (size_t i = s->hash & (cap - 1);; i = (i + 1) & (cap - 1)) {
        if (!slots[i].key) {
            slots[i] = *s;
            return;
        }
    }
}

sl_code sl__strmap_add(sl__strmap *m, const void *key, size_t len, int64_t value,
                       const char **stored_key, sl_status *st)
{
    if ((m->count + 1) * 2 > m->cap) {
        size_t cap = m->cap ? m->cap * 2 : 16;
        sl__strmap_slot *slots = sl_calloc(cap, sizeof(*slots));
        if (!slots)
            return sl_status_set(st, SL_RESOURCE_EXHAUSTED, "out of memory growing a map");
        for (size_t i = 0; i < m->cap; i++)
            if (m->slots[i].key)
                strmap_insert_slot(slots, cap, &m->slots[i]);
        sl_free(m->slots);
        m->slots = slots;
        m->cap = cap;
    }
    char *k = sl__arena_alloc(&m->keys, len + 1);
    if (!k)
        return sl_status_set(st, SL_RESOURCE_EXHAUSTED, "out of memory adding a key");
    memcpy(k, key, len);
    k[len] = '\0';
    sl__strmap_slot s = {k, len, sl__hash_bytes(key, len), value};
    strmap_insert_slot(m->slots, m->cap, &s);
    m->count++;
    if (stored_key)
        *stored_key = k;
    return SL_OK;
}

void sl__strmap_release(sl__strmap *m)
{
    sl_free(m->slots);
    m->slots = NULL;
    m->cap = m->count = 0;
    sl__arena_release(&m->keys);
}
