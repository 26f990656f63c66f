/* Internal helpers shared by the files of summaries/: a growable byte
 * buffer, a bump arena, little-endian loads and stores, protobuf wire
 * reading, and the time and path helpers the writers and readers need.
 *
 * Nothing here is installed or exported; names carry the `sl__` prefix.
 * Every allocation goes through sl_malloc() so the fault-injection tests
 * reach these paths too.  Thread-safety: none of these objects is shared
 * between threads by the helpers themselves.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "sluice/alloc.h"
#include "sluice/status.h"
#include "sluice/summaries/event.h"

/* ---- growable byte buffer -------------------------------------------- */

typedef struct sl__buf {
    uint8_t *data;  /* sl_malloc'd, NULL while cap == 0 */
    size_t len;     /* bytes in use */
    size_t cap;     /* bytes allocated */
} sl__buf;

#define SL__BUF_INIT {NULL, 0, 0}

/* Ensures room for `extra` more bytes; SL_RESOURCE_EXHAUSTED (status set)
 * when memory runs out, the buffer unchanged. */
sl_code sl__buf_reserve(sl__buf *b, size_t extra, sl_status *st);
sl_code sl__buf_append(sl__buf *b, const void *data, size_t n, sl_status *st);
void sl__buf_release(sl__buf *b);

/* ---- bump arena: stable pointers, freed all at once -------------------- */

typedef struct sl__arena_chunk sl__arena_chunk;
typedef struct sl__arena {
    sl__arena_chunk *head;  /* newest chunk first */
    size_t used;            /* bytes used in head */
    size_t total;           /* bytes handed out, for statistics */
} sl__arena;

#define SL__ARENA_INIT {NULL, 0, 0}

/* Returns `n` bytes aligned to 8, or NULL when memory runs out. */
void *sl__arena_alloc(sl__arena *a, size_t n);
void *sl__arena_dup(sl__arena *a, const void *data, size_t n);
void sl__arena_release(sl__arena *a);

/* ---- little-endian loads and stores ------------------------------------ */

static inline uint32_t sl__load_le32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static inline uint64_t sl__load_le64(const uint8_t *p)
{
    return (uint64_t)sl__load_le32(p) | (uint64_t)sl__load_le32(p + 4) << 32;
}

static inline void sl__store_le32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
    p[2] = (uint8_t)(v >> 16);
    p[3] = (uint8_t)(v >> 24);
}

static inline void sl__store_le64(uint8_t *p, uint64_t v)
{
    sl__store_le32(p, (uint32_t)v);
    sl__store_le32(p + 4, (uint32_t)(v >> 32));
}

static inline double sl__load_double(const uint8_t *p)
{
    uint64_t u = sl__load_le64(p);
    double d;
    memcpy(&d, &u, sizeof d);
    return d;
}

static inline float sl__load_float(const uint8_t *p)
{
    uint32_t u = sl__load_le32(p);
    float f;
    memcpy(&f, &u, sizeof f);
    return f;
}

/* ---- protobuf wire reading ----------------------------------------------
 * A cursor over one serialized message.  Every read checks bounds; a
 * failed read returns false and leaves the cursor unusable. */

enum {
    SL__WIRE_VARINT = 0,
    SL__WIRE_FIXED64 = 1,
    SL__WIRE_LEN = 2,
    SL__WIRE_FIXED32 = 5,
};

typedef struct sl__wire {
    const uint8_t *p;
    const uint8_t *end;
} sl__wire;

static inline bool sl__wire_varint(sl__wire *w, uint64_t *out)
{
    const uint8_t *p = w->p;
    if (p < w->end && !(*p & 0x80)) { /* the common one-byte case */
        *out = *p;
        w->p = p + 1;
        return true;
    }
    uint64_t v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
        if (p >= w->end)
            return false;
        uint8_t b = *p++;
        v |= (uint64_t)(b & 0x7f) << shift;
        if (!(b & 0x80)) {
            *out = v;
            w->p = p;
            return true;
        }
    }
    return false; /* more than 10 bytes */
}

/* Reads a field key; false at a malformed key.  Field 0 is invalid. */
static inline bool sl__wire_key(sl__wire *w, uint32_t *field, int *wtype)
{
    uint64_t k;
    if (!sl__wire_varint(w, &k) || (k >> 3) == 0 || (k >> 3) > 0x1fffffff)
        return false;
    *field = (uint32_t)(k >> 3);
    *wtype = (int)(k & 7);
    return true;
}

static inline bool sl__wire_len(sl__wire *w, sl_bytes *out)
{
    uint64_t n;
    if (!sl__wire_varint(w, &n) || n > (uint64_t)(w->end - w->p))
        return false;
    out->data = w->p;
    out->size = (size_t)n;
    w->p += n;
    return true;
}

static inline bool sl__wire_fixed64(sl__wire *w, uint64_t *out)
{
    if (w->end - w->p < 8)
        return false;
    *out = sl__load_le64(w->p);
    w->p += 8;
    return true;
}

static inline bool sl__wire_fixed32(sl__wire *w, uint32_t *out)
{
    if (w->end - w->p < 4)
        return false;
    *out = sl__load_le32(w->p);
    w->p += 4;
    return true;
}

/* Skips a field of the given wire type (groups are rejected). */
bool sl__wire_skip(sl__wire *w, int wtype);

/* ---- time, paths ------------------------------------------------------- */

/* Seconds since the epoch, microsecond resolution (CLOCK_REALTIME). */
double sl__now_seconds(void);

/* Milliseconds of CLOCK_MONOTONIC. */
int64_t sl__monotonic_ms(void);

/* "a" + "/" + "b" in a fresh sl_malloc'd string; NULL when out of memory. */
char *sl__path_join(const char *a, const char *b);

/* Like mkdir -p; SL_OK when the directory exists afterwards. */
sl_code sl__mkdir_p(const char *path, sl_status *st);

/* Whether a file's basename marks it as an event file (TB's rule: the
 * substring "tfevents"). */
bool sl__is_event_file_name(const char *basename);

/* Whether `n` bytes are valid UTF-8 (proto3 string fields must be). */
bool sl__is_utf8(const char *s, size_t n);

/* ---- string -> int64 hash map ---------------------------------------------
 * Open addressing with linear probing; keys are copied into the map's
 * arena (NUL-terminated), so lookups may use unterminated byte ranges. */

typedef struct sl__strmap_slot {
    const char *key;  /* NULL: empty slot */
    size_t len;
    uint64_t hash;
    int64_t value;
} sl__strmap_slot;

typedef struct sl__strmap {
    sl__strmap_slot *slots;
    size_t cap;    /* power of two, or 0 */
    size_t count;
    sl__arena keys;
} sl__strmap;

#define SL__STRMAP_INIT {NULL, 0, 0, SL__ARENA_INIT}

uint64_t sl__hash_bytes(const void *data, size_t n);

/* The value stored for the key, or NULL. */
int64_t *sl__strmap_find(const sl__strmap *m, const void *key, size_t len);

/* Adds the key (which must be absent) with a value; on success *stored_key
 * (may be NULL) receives the map's copy of the key. */
sl_code sl__strmap_add(sl__strmap *m, const void *key, size_t len, int64_t value,
                       const char **stored_key, sl_status *st);

void sl__strmap_release(sl__strmap *m);

/* ---- logdir walking ---------------------------------------------------------
 * TB's run discovery: calls `fn` once for every directory under `root`
 * (root included, named ".") that directly holds event files, with the
 * run name (the path relative to root), the directory path and the
 * basenames of its event files sorted by name.  Symbolic links are
 * followed, directory cycles are not.  When `root` is a regular file, `fn`
 * is called once with run ".", its directory and its name, whatever the
 * name.  Unreadable subdirectories are skipped; an unreadable root is an
 * error (SL_NOT_FOUND, SL_PERMISSION_DENIED).  An error from `fn` stops
 * the walk and is returned. */
typedef sl_code (*sl__walk_fn)(void *ctx, const char *run, const char *dir,
                               const char *const *files, size_t n_files, sl_status *st);

sl_code sl__walk_logdir(const char *root, sl__walk_fn fn, void *ctx, sl_status *st);

/* ---- hot-path variants ------------------------------------------------------
 * The same as the public functions of event.h and record.h, except that
 * they leave the status alone on success (callers in loops clear it once,
 * at the end: sl_status_clear() is a call into engine/core per use). */
sl_code sl__event_parse(const void *data, size_t size, sl_event *ev, sl_status *st);
sl_code sl__summary_iter_next(sl_summary_iter *it, sl_summary_value *v, sl_status *st);
sl_code sl__tensor_view_parse(sl_bytes tensor, sl_tensor_view *tv, sl_status *st);
sl_code sl__tensor_view_to_doubles(const sl_tensor_view *tv, double *out, int64_t n,
                                   sl_status *st);
typedef struct sl_record_reader sl_record_reader;
sl_code sl__record_reader_next(sl_record_reader *r, const uint8_t **data, size_t *size,
                               sl_status *st);
