/* TensorFlow checkpoint V2 (TensorBundle) reader and writer, see
 * sluice/checkpoint.h and ../shared/FORMATS.md section 4.
 *
 * The .index file is a LevelDB table without filter blocks: data blocks of
 * prefix-compressed entries with restart points, an index block mapping a
 * separator key to each data block's handle, an empty metaindex block, and
 * a 48-byte footer ending in the magic 0xdb4775248b80fb57.  Each block is
 * followed by a type byte (0: uncompressed) and the masked CRC-32C of the
 * block and that byte.  Values are BundleHeaderProto (key "") and
 * BundleEntryProto, encoded and decoded here by hand (three small
 * messages).  Cost: the index is read whole at open; a tensor read is one
 * seek and one read of its bytes. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sluice/alloc.h"
#include "sluice/checkpoint.h"

#define TABLE_MAGIC 0xdb4775248b80fb57ull
#define FOOTER_SIZE 48
#define RESTART_INTERVAL 16

/* ---- Varints and a growable buffer --------------------------------------------- */

typedef struct buf {
    unsigned char *p;
    size_t n;
    size_t cap;
    bool oom;
} buf;

static void put(buf *b, const void *d, size_t n)
{
    if (b->oom)
        return;
    if (b->n + n > b->cap) {
        size_t cap = b->cap ? b->cap * 2 : 256;
        while (cap < b->n + n)
            cap *= 2;
        unsigned char *q = sl_realloc(b->p, cap);
        if (!q) {
            b->oom = true;
            return;
        }
        b->p = q;
        b->cap = cap;
    }
    if (n)
        memcpy(b->p + b->n, d, n);
    b->n += n;
}

static void put_varint(buf *b, uint64_t v)
{
    unsigned char t[10];
    int n = 0;
    while (v >= 0x80) {
        t[n++] = (unsigned char)(v | 0x80);
        v >>= 7;
    }
    t[n++] = (unsigned char)v;
    put(b, t, (size_t)n);
}

static void put_fixed32(buf *b, uint32_t v)
{
    unsigned char t[4] = {(unsigned char)v, (unsigned char)(v >> 8), (unsigned char)(v >> 16), (unsigned char)(v >> 24)};
    put(b, t, 4);
}

static uint32_t get_fixed32(const unsigned char *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* Reads a varint from [*p, end); false when truncated or too long. */
static bool get_varint(const unsigned char **p, const unsigned char *end, uint64_t *out)
{
    uint64_t v = 0;
    for (int shift = 0; shift < 64 && *p < end; shift += 7) {
        unsigned char c = *(*p)++;
        v |= (uint64_t)(c & 0x7f) << shift;
        if (!(c & 0x80)) {
            *out = v;
            return true;
        }
    }
    return false;
}

/* ---- Protobuf messages by hand ------------------------------------------------- */

typedef struct entry {
    char *name;
    sl_dtype dtype;
    sl_shape shape;
    int shard;
    int64_t offset;
    int64_t size;
    uint32_t crc;       /* masked */
    bool has_slices;
} entry;

/* Skips a field of wire type wt; false when malformed. */
static bool skip_field(const unsigned char **p, const unsigned char *end, int wt)
{
    uint64_t v;
    switch (wt) {
    case 0: return get_varint(p, end, &v);
    case 1: if (end - *p < 8) return false; *p += 8; return true;
    case 2: if (!get_varint(p, end, &v) || (uint64_t)(end - *p) < v) return false; *p += v; return true;
    case 5: if (end - *p < 4) return false; *p += 4; return true;
    default: return false;
    }
}

static bool parse_shape(const unsigned char *p, const unsigned char *end, sl_shape *s)
{
    s->rank = 0;
    while (p < end) {
        uint64_t key, len, v;
        if (!get_varint(&p, end, &key))
            return false;
        if (key == ((2 << 3) | 2)) {  /* dim */
            if (!get_varint(&p, end, &len) || (uint64_t)(end - p) < len || s->rank >= SL_MAX_DIMS)
                return false;
            const unsigned char *q = p, *qe = p + len;
            int64_t size = 0;
            while (q < qe) {
                uint64_t k2;
                if (!get_varint(&q, qe, &k2))
                    return false;
                if (k2 == ((1 << 3) | 0)) {
                    if (!get_varint(&q, qe, &v))
                        return false;
                    size = (int64_t)v;
                } else if (!skip_field(&q, qe, (int)(k2 & 7))) {
                    return false;
                }
            }
            s->dims[s->rank++] = size;
            p = qe;
        } else if (key == ((3 << 3) | 0)) {  /* unknown_rank */
            if (!get_varint(&p, end, &v))
                return false;
            if (v)
                s->rank = SL_RANK_UNKNOWN;
        } else if (!skip_field(&p, end, (int)(key & 7))) {
            return false;
        }
    }
    return true;
}

static bool parse_entry(const unsigned char *p, const unsigned char *end, entry *e)
{
    e->shape = sl_shape_scalar();
    while (p < end) {
        uint64_t key, v;
        if (!get_varint(&p, end, &key))
            return false;
        int field = (int)(key >> 3), wt = (int)(key & 7);
        if (field == 2 && wt == 2) {
            if (!get_varint(&p, end, &v) || (uint64_t)(end - p) < v || !parse_shape(p, p + v, &e->shape))
                return false;
            p += v;
        } else if (field == 6 && wt == 5) {
            if (end - p < 4)
                return false;
            e->crc = get_fixed32(p);
            p += 4;
        } else if (field == 7) {
            e->has_slices = true;
            if (!skip_field(&p, end, wt))
                return false;
        } else if (wt == 0 && field >= 1 && field <= 5) {
            if (!get_varint(&p, end, &v))
                return false;
            if (field == 1) e->dtype = (sl_dtype)v;
            else if (field == 3) e->shard = (int)v;
            else if (field == 4) e->offset = (int64_t)v;
            else if (field == 5) e->size = (int64_t)v;
        } else if (!skip_field(&p, end, wt)) {
            return false;
        }
    }
    return true;
}

static void encode_entry(buf *b, const entry *e)
{
    if (e->dtype) {
        put_varint(b, (1 << 3) | 0);
        put_varint(b, (uint64_t)e->dtype);
    }
    buf shape = {0};
    for (int i = 0; i < e->shape.rank; i++) {
        buf dim = {0};
        if (e->shape.dims[i]) {
            put_varint(&dim, (1 << 3) | 0);
            put_varint(&dim, (uint64_t)e->shape.dims[i]);
        }
        put_varint(&shape, (2 << 3) | 2);
        put_varint(&shape, dim.n);
        put(&shape, dim.p, dim.n);
        shape.oom |= dim.oom;
        sl_free(dim.p);
    }
    put_varint(b, (2 << 3) | 2);  /* shape, present even for scalars as TF writes it */
    put_varint(b, shape.n);
    put(b, shape.p, shape.n);
    b->oom |= shape.oom;
    sl_free(shape.p);
    if (e->shard) {
        put_varint(b, (3 << 3) | 0);
        put_varint(b, (uint64_t)e->shard);
    }
    if (e->offset) {
        put_varint(b, (4 << 3) | 0);
        put_varint(b, (uint64_t)e->offset);
    }
    if (e->size) {
        put_varint(b, (5 << 3) | 0);
        put_varint(b, (uint64_t)e->size);
    }
    put_varint(b, (6 << 3) | 5);
    put_fixed32(b, e->crc);
}

/* ---- Files ------------------------------------------------------------------- */

static unsigned char *read_file(const char *path, size_t *len, sl_status *st)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        sl_status_set(st, errno == ENOENT ? SL_NOT_FOUND : SL_PERMISSION_DENIED, "cannot open '%s': %s", path,
                      strerror(errno));
        return NULL;
    }
    struct stat sb;
    unsigned char *p = NULL;
    if (fstat(fileno(f), &sb) != 0 || !(p = sl_malloc((size_t)sb.st_size + 1))) {
        sl_status_set(st, SL_RESOURCE_EXHAUSTED, "cannot read '%s'", path);
        fclose(f);
        return NULL;
    }
    if (fread(p, 1, (size_t)sb.st_size, f) != (size_t)sb.st_size) {
        sl_status_set(st, SL_DATA_LOSS, "cannot read '%s': short read", path);
        sl_free(p);
        fclose(f);
        return NULL;
    }
    fclose(f);
    *len = (size_t)sb.st_size;
    return p;
}

/* ---- Reader -------------------------------------------------------------------- */

struct sl_checkpoint_reader {
    char *prefix;
    int num_shards;
    entry *entries;
    int num_entries;
    int cap_entries;
};

/* Checks a block's trailer and returns its contents' bounds. */
static bool block_at(const unsigned char *file, size_t flen, uint64_t off, uint64_t size, const char *path,
                     const unsigned char **b, const unsigned char **e, sl_status *st)
{
    if (off > flen || size > flen - off || flen - off - size < 5) {
        sl_status_set(st, SL_DATA_LOSS, "'%s': block at %llu of %llu bytes runs past the end", path,
                      (unsigned long long)off, (unsigned long long)size);
        return false;
    }
    const unsigned char *p = file + off;
    if (p[size] != 0) {
        sl_status_set(st, SL_UNIMPLEMENTED, "'%s': compressed block (type %d) at %llu", path, p[size],
                      (unsigned long long)off);
        return false;
    }
    uint32_t want = get_fixed32(p + size + 1), got = sl_crc32c_mask(sl_crc32c_extend(0, p, size + 1));
    if (want != got) {
        sl_status_set(st, SL_DATA_LOSS, "'%s': checksum mismatch in block at %llu", path, (unsigned long long)off);
        return false;
    }
    *b = p;
    *e = p + size;
    return true;
}

typedef bool (*kv_fn)(void *arg, const char *key, size_t klen, const unsigned char *v, size_t vlen);

/* Walks the entries of a block (restart array at the end). */
static bool block_entries(const unsigned char *b, const unsigned char *e, const char *path, kv_fn fn, void *arg,
                          sl_status *st)
{
    if (e - b < 4)
        goto bad;
    uint32_t nrestarts = get_fixed32(e - 4);
    if ((uint64_t)nrestarts * 4 + 4 > (uint64_t)(e - b))
        goto bad;
    const unsigned char *limit = e - 4 - 4 * (size_t)nrestarts, *p = b;
    char *key = NULL;
    size_t klen = 0;
    while (p < limit) {
        uint64_t shared, unshared, vlen;
        if (!get_varint(&p, limit, &shared) || !get_varint(&p, limit, &unshared) || !get_varint(&p, limit, &vlen) ||
            shared > klen || (uint64_t)(limit - p) < unshared || (uint64_t)(limit - p) - unshared < vlen) {
            sl_free(key);
            goto bad;
        }
        char *k = sl_realloc(key, shared + unshared + 1);
        if (!k) {
            sl_free(key);
            sl_status_set(st, SL_RESOURCE_EXHAUSTED, "out of memory reading '%s'", path);
            return false;
        }
        key = k;
        memcpy(key + shared, p, unshared);
        klen = shared + unshared;
        key[klen] = '\0';
        p += unshared;
        if (!fn(arg, key, klen, p, vlen)) {
            sl_free(key);
            return false;
        }
        p += vlen;
    }
    sl_free(key);
    return true;
bad:
    sl_status_set(st, SL_DATA_LOSS, "'%s': malformed table block", path);
    return false;
}

typedef struct read_ctx {
    sl_checkpoint_reader *r;
    const unsigned char *file;
    size_t flen;
    const char *path;
    sl_status *st;
    bool have_header;
} read_ctx;

static bool on_data_entry(void *arg, const char *key, size_t klen, const unsigned char *v, size_t vlen)
{
    read_ctx *c = arg;
    if (klen == 0) {  /* BundleHeaderProto */
        const unsigned char *p = v, *end = v + vlen;
        c->r->num_shards = 1;
        while (p < end) {
            uint64_t k, x;
            if (!get_varint(&p, end, &k))
                goto bad;
            if (k == ((1 << 3) | 0)) {
                if (!get_varint(&p, end, &x))
                    goto bad;
                c->r->num_shards = (int)x;
            } else if (k == ((2 << 3) | 0)) {
                if (!get_varint(&p, end, &x))
                    goto bad;
                if (x != 0) {
                    sl_status_set(c->st, SL_UNIMPLEMENTED, "'%s': big-endian checkpoint", c->path);
                    return false;
                }
            } else if (!skip_field(&p, end, (int)(k & 7))) {
                goto bad;
            }
        }
        c->have_header = true;
        return true;
    }
    sl_checkpoint_reader *r = c->r;
    if (r->num_entries == r->cap_entries) {
        int cap = r->cap_entries ? r->cap_entries * 2 : 16;
        entry *ne = sl_realloc(r->entries, sizeof(*ne) * (size_t)cap);
        if (!ne) {
            sl_status_set(c->st, SL_RESOURCE_EXHAUSTED, "out of memory reading '%s'", c->path);
            return false;
        }
        r->entries = ne;
        r->cap_entries = cap;
    }
    entry *e = &r->entries[r->num_entries];
    memset(e, 0, sizeof(*e));
    if (!parse_entry(v, v + vlen, e))
        goto bad;
    if (!(e->name = sl_strndup(key, klen))) {
        sl_status_set(c->st, SL_RESOURCE_EXHAUSTED, "out of memory reading '%s'", c->path);
        return false;
    }
    r->num_entries++;
    return true;
bad:
    sl_status_set(c->st, SL_DATA_LOSS, "'%s': malformed entry '%.*s'", c->path, (int)klen, key);
    return false;
}

static bool on_index_entry(void *arg, const char *key, size_t klen, const unsigned char *v, size_t vlen)
{
    (void)key;
    (void)klen;
    read_ctx *c = arg;
    const unsigned char *p = v, *end = v + vlen, *b, *e;
    uint64_t off, size;
    if (!get_varint(&p, end, &off) || !get_varint(&p, end, &size)) {
        sl_status_set(c->st, SL_DATA_LOSS, "'%s': malformed block handle", c->path);
        return false;
    }
    return block_at(c->file, c->flen, off, size, c->path, &b, &e, c->st) &&
           block_entries(b, e, c->path, on_data_entry, c, c->st);
}

void sl_checkpoint_close(sl_checkpoint_reader *r)
{
    if (!r)
        return;
    for (int i = 0; i < r->num_entries; i++)
        sl_free(r->entries[i].name);
    sl_free(r->entries);
    sl_free(r->prefix);
    sl_free(r);
}

sl_checkpoint_reader *sl_checkpoint_open(const char *prefix, sl_status *st)
{
    char path[4096];
    snprintf(path, sizeof(path), "%s.index", prefix);
    size_t flen = 0;
    unsigned char *file = read_file(path, &flen, st);
    if (!file)
        return NULL;
    sl_checkpoint_reader *r = sl_calloc(1, sizeof(*r));
    read_ctx c = {.r = r, .file = file, .flen = flen, .path = path, .st = st};
    if (!r || !(r->prefix = sl_strdup(prefix))) {
        sl_status_set(st, SL_RESOURCE_EXHAUSTED, "out of memory opening '%s'", path);
        goto fail;
    }
    if (flen < FOOTER_SIZE) {
        sl_status_set(st, SL_DATA_LOSS, "'%s': %zu bytes, too short for a table footer", path, flen);
        goto fail;
    }
    const unsigned char *foot = file + flen - FOOTER_SIZE;
    uint64_t magic = (uint64_t)get_fixed32(foot + 40) | (uint64_t)get_fixed32(foot + 44) << 32;
    if (magic != TABLE_MAGIC) {
        sl_status_set(st, SL_DATA_LOSS, "'%s': bad table magic number 0x%016llx", path, (unsigned long long)magic);
        goto fail;
    }
    const unsigned char *p = foot, *end = foot + 40, *b, *e;
    uint64_t moff, msize, ioff, isize;
    if (!get_varint(&p, end, &moff) || !get_varint(&p, end, &msize) || !get_varint(&p, end, &ioff) ||
        !get_varint(&p, end, &isize)) {
        sl_status_set(st, SL_DATA_LOSS, "'%s': malformed footer", path);
        goto fail;
    }
    if (!block_at(file, flen, moff, msize, path, &b, &e, st) || !block_at(file, flen, ioff, isize, path, &b, &e, st) ||
        !block_entries(b, e, path, on_index_entry, &c, st))
        goto fail;
    if (!c.have_header) {
        sl_status_set(st, SL_DATA_LOSS, "'%s': no bundle header", path);
        goto fail;
    }
    for (int i = 0; i < r->num_entries; i++) {
        if (r->entries[i].shard < 0 || r->entries[i].shard >= r->num_shards) {
            sl_status_set(st, SL_DATA_LOSS, "'%s': entry '%s' names shard %d of %d", path, r->entries[i].name,
                          r->entries[i].shard, r->num_shards);
            goto fail;
        }
    }
    sl_free(file);
    sl_status_clear(st);
    return r;
fail:
    sl_free(file);
    sl_checkpoint_close(r);
    return NULL;
}

int sl_checkpoint_num_entries(const sl_checkpoint_reader *r)
{
    return r->num_entries;
}

const char *sl_checkpoint_entry_name(const sl_checkpoint_reader *r, int i)
{
    return r->entries[i].name;
}

sl_dtype sl_checkpoint_entry_dtype(const sl_checkpoint_reader *r, int i)
{
    return r->entries[i].dtype;
}

const sl_shape *sl_checkpoint_entry_shape(const sl_checkpoint_reader *r, int i)
{
    return &r->entries[i].shape;
}

int sl_checkpoint_find(const sl_checkpoint_reader *r, const char *name)
{
    int lo = 0, hi = r->num_entries - 1;
    while (lo <= hi) {
        int mid = (lo + hi) / 2, c = strcmp(r->entries[mid].name, name);
        if (c == 0)
            return mid;
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid - 1;
    }
    return -1;
}

static sl_tensor *decode_strings(const entry *e, const unsigned char *d, const char *path, sl_status *st)
{
    sl_tensor *t = sl_tensor_new(SL_DTYPE_STRING, &e->shape, st);
    if (!t)
        return NULL;
    int64_t n = sl_tensor_num_elements(t);
    const unsigned char *p = d, *end = d + e->size;
    uint64_t *lens = sl_calloc((size_t)n + 1, sizeof(uint64_t));
    uint32_t crc = 0;
    if (!lens) {
        sl_status_set(st, SL_RESOURCE_EXHAUSTED, "out of memory reading '%s'", e->name);
        goto fail;
    }
    for (int64_t i = 0; i < n; i++) {
        if (!get_varint(&p, end, &lens[i]))
            goto bad;
        if (lens[i] > UINT32_MAX) {
            unsigned char b8[8];
            for (int k = 0; k < 8; k++)
                b8[k] = (unsigned char)(lens[i] >> (8 * k));
            crc = sl_crc32c_extend(crc, b8, 8);
        } else {
            unsigned char b4[4] = {(unsigned char)lens[i], (unsigned char)(lens[i] >> 8),
                                   (unsigned char)(lens[i] >> 16), (unsigned char)(lens[i] >> 24)};
            crc = sl_crc32c_extend(crc, b4, 4);
        }
    }
    if (end - p < 4 || get_fixed32(p) != sl_crc32c_mask(crc))
        goto bad;
    crc = sl_crc32c_extend(crc, p, 4);
    p += 4;
    for (int64_t i = 0; i < n; i++) {
        if ((uint64_t)(end - p) < lens[i])
            goto bad;
        crc = sl_crc32c_extend(crc, p, lens[i]);
        if (sl_tensor_set_string(t, i, p, lens[i], st) != SL_OK)
            goto fail;
        p += lens[i];
    }
    if (sl_crc32c_mask(crc) != e->crc)
        goto bad;
    sl_free(lens);
    return t;
bad:
    sl_status_set(st, SL_DATA_LOSS, "'%s': tensor '%s': bad string data or checksum", path, e->name);
fail:
    sl_free(lens);
    sl_tensor_unref(t);
    return NULL;
}

sl_tensor *sl_checkpoint_read(sl_checkpoint_reader *r, const char *name, sl_status *st)
{
    int i = sl_checkpoint_find(r, name);
    if (i < 0) {
        sl_status_set(st, SL_NOT_FOUND, "checkpoint '%s' has no tensor '%s'", r->prefix, name);
        return NULL;
    }
    const entry *e = &r->entries[i];
    if (e->has_slices) {
        sl_status_set(st, SL_UNIMPLEMENTED, "checkpoint '%s': tensor '%s' is partitioned (slices)", r->prefix, name);
        return NULL;
    }
    char path[4096];
    snprintf(path, sizeof(path), "%s.data-%05d-of-%05d", r->prefix, e->shard, r->num_shards);
    bool is_string = e->dtype == SL_DTYPE_STRING;
    size_t esz = sl_dtype_size(e->dtype);
    int64_t n = sl_shape_num_elements(&e->shape);
    if (!is_string && (!esz || n < 0 || (int64_t)esz * n != e->size)) {
        sl_status_set(st, SL_DATA_LOSS, "checkpoint '%s': tensor '%s' of %s %lld elements has %lld bytes", r->prefix,
                      name, sl_dtype_name(e->dtype), (long long)n, (long long)e->size);
        return NULL;
    }
    FILE *f = fopen(path, "rb");
    if (!f) {
        sl_status_set(st, SL_NOT_FOUND, "cannot open '%s': %s", path, strerror(errno));
        return NULL;
    }
    unsigned char *d = sl_malloc((size_t)e->size + 1);
    sl_tensor *t = NULL;
    if (!d) {
        sl_status_set(st, SL_RESOURCE_EXHAUSTED, "out of memory reading '%s'", name);
        goto out;
    }
    if (fseeko(f, (off_t)e->offset, SEEK_SET) != 0 || fread(d, 1, (size_t)e->size, f) != (size_t)e->size) {
        sl_status_set(st, SL_DATA_LOSS, "'%s': tensor '%s' at %lld of %lld bytes runs past the end", path, name,
                      (long long)e->offset, (long long)e->size);
        goto out;
    }
    if (is_string) {
        t = decode_strings(e, d, path, st);
        goto out;
    }
    if (sl_crc32c_mask(sl_crc32c_extend(0, d, (size_t)e->size)) != e->crc) {
        sl_status_set(st, SL_DATA_LOSS, "'%s': checksum mismatch for tensor '%s'", path, name);
        goto out;
    }
    if ((t = sl_tensor_new(e->dtype, &e->shape, st)) && e->size)
        memcpy(sl_tensor_data(t), d, (size_t)e->size);
out:
    sl_free(d);
    fclose(f);
    if (t)
        sl_status_clear(st);
    return t;
}

/* ---- Writer -------------------------------------------------------------------- */

typedef struct block_builder {
    buf b;
    buf restarts;
    int count;
    int since_restart;
    char *last;
    size_t last_len;
} block_builder;

static void block_add(block_builder *bb, const char *key, size_t klen, const void *v, size_t vlen)
{
    size_t shared = 0;
    if (bb->since_restart == RESTART_INTERVAL || bb->count == 0) {
        put_fixed32(&bb->restarts, (uint32_t)bb->b.n);
        bb->since_restart = 0;
    } else {
        while (shared < klen && shared < bb->last_len && key[shared] == bb->last[shared])
            shared++;
    }
    put_varint(&bb->b, shared);
    put_varint(&bb->b, klen - shared);
    put_varint(&bb->b, vlen);
    put(&bb->b, key + shared, klen - shared);
    put(&bb->b, v, vlen);
    char *l = sl_realloc(bb->last, klen + 1);
    if (!l) {
        bb->b.oom = true;
        return;
    }
    memcpy(l, key, klen);
    bb->last = l;
    bb->last_len = klen;
    bb->count++;
    bb->since_restart++;
}

/* Appends the finished block (restarts, count, trailer) to out; returns its handle. */
static void block_finish(block_builder *bb, buf *out, uint64_t *off, uint64_t *size)
{
    if (bb->count == 0)
        put_fixed32(&bb->restarts, 0);
    put(&bb->b, bb->restarts.p, bb->restarts.n);
    put_fixed32(&bb->b, (uint32_t)(bb->restarts.n / 4));
    *off = out->n;
    *size = bb->b.n;
    put(out, bb->b.p, bb->b.n);
    unsigned char type = 0;
    put(out, &type, 1);
    uint32_t crc = sl_crc32c_extend(sl_crc32c_extend(0, bb->b.p, bb->b.n), &type, 1);
    put_fixed32(out, sl_crc32c_mask(crc));
    out->oom |= bb->b.oom || bb->restarts.oom;
    sl_free(bb->b.p);
    sl_free(bb->restarts.p);
    sl_free(bb->last);
    memset(bb, 0, sizeof(*bb));
}

typedef struct named {
    const char *name;
    int index;
} named;

static int by_name(const void *a, const void *b)
{
    return strcmp(((const named *)a)->name, ((const named *)b)->name);
}

/* Serializes a tensor's bytes into data; fills e's size and crc. */
static bool tensor_bytes(buf *data, const sl_tensor *t, entry *e)
{
    size_t start = data->n;
    if (sl_tensor_dtype(t) == SL_DTYPE_STRING) {
        const sl_tstring *s = sl_tensor_data(t);
        int64_t n = sl_tensor_num_elements(t);
        uint32_t crc = 0;
        for (int64_t i = 0; i < n; i++) {
            put_varint(data, s[i].size);
            unsigned char b4[8];
            int w = s[i].size > UINT32_MAX ? 8 : 4;
            for (int k = 0; k < w; k++)
                b4[k] = (unsigned char)((uint64_t)s[i].size >> (8 * k));
            crc = sl_crc32c_extend(crc, b4, (size_t)w);
        }
        uint32_t m = sl_crc32c_mask(crc);
        unsigned char mb[4] = {(unsigned char)m, (unsigned char)(m >> 8), (unsigned char)(m >> 16), (unsigned char)(m >> 24)};
        put(data, mb, 4);
        crc = sl_crc32c_extend(crc, mb, 4);
        for (int64_t i = 0; i < n; i++) {
            put(data, s[i].data, s[i].size);
            crc = sl_crc32c_extend(crc, s[i].data, s[i].size);
        }
        e->crc = sl_crc32c_mask(crc);
    } else {
        if (!sl_dtype_size(sl_tensor_dtype(t)))
            return false;
        put(data, sl_tensor_data(t), sl_tensor_byte_size(t));
        e->crc = sl_crc32c_mask(sl_crc32c_extend(0, sl_tensor_data(t), sl_tensor_byte_size(t)));
    }
    e->offset = (int64_t)start;
    e->size = (int64_t)(data->n - start);
    return true;
}

static sl_code write_file(const char *path, const buf *b, sl_status *st)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0)
        return sl_status_set(st, errno == EACCES ? SL_PERMISSION_DENIED : SL_INTERNAL, "cannot create '%s': %s",
                             path, strerror(errno));
    size_t done = 0;
    while (done < b->n) {
        ssize_t w = write(fd, b->p + done, b->n - done);
        if (w <= 0) {
            close(fd);
            unlink(path);
            return sl_status_set(st, SL_INTERNAL, "cannot write '%s': %s", path, strerror(errno));
        }
        done += (size_t)w;
    }
    if (fsync(fd) != 0 || close(fd) != 0) {
        unlink(path);
        return sl_status_set(st, SL_INTERNAL, "cannot write '%s': %s", path, strerror(errno));
    }
    return SL_OK;
}

sl_code sl_checkpoint_write(const char *prefix, const char *const *names, const sl_tensor *const *tensors, int n,
                            sl_status *st)
{
    if (!prefix || n < 0 || (n > 0 && (!names || !tensors)))
        return sl_status_set(st, SL_INVALID_ARGUMENT, "checkpoint write: missing prefix, names or tensors");
    sl_code rc = SL_OK;
    named *sorted = sl_malloc(sizeof(named) * (size_t)(n + 1));
    buf data = {0}, index_file = {0}, value = {0};
    block_builder bb = {0}, ib = {0};
    char data_path[4096], index_path[4096], tmp_data[4200], tmp_index[4200];
    snprintf(data_path, sizeof(data_path), "%s.data-00000-of-00001", prefix);
    snprintf(index_path, sizeof(index_path), "%s.index", prefix);
    snprintf(tmp_data, sizeof(tmp_data), "%s.tempstate%ld", data_path, (long)getpid());
    snprintf(tmp_index, sizeof(tmp_index), "%s.tempstate%ld", index_path, (long)getpid());
    if (!sorted) {
        rc = sl_status_set(st, SL_RESOURCE_EXHAUSTED, "out of memory writing '%s'", prefix);
        goto out;
    }
    for (int i = 0; i < n; i++) {
        sorted[i] = (named){names[i], i};
        if (!names[i] || !*names[i] || !tensors[i]) {
            rc = sl_status_set(st, SL_INVALID_ARGUMENT, "checkpoint '%s': tensor %d has no name or value", prefix, i);
            goto out;
        }
    }
    qsort(sorted, (size_t)n, sizeof(named), by_name);
    /* the header first (key "" sorts first): num_shards 1, version {producer 1} */
    {
        buf h = {0};
        put_varint(&h, (1 << 3) | 0);
        put_varint(&h, 1);
        put_varint(&h, (3 << 3) | 2);
        put_varint(&h, 2);
        put_varint(&h, (1 << 3) | 0);
        put_varint(&h, 1);
        block_add(&bb, "", 0, h.p, h.n);
        bb.b.oom |= h.oom;
        sl_free(h.p);
    }
    for (int k = 0; k < n; k++) {
        int i = sorted[k].index;
        if (k > 0 && !strcmp(names[i], sorted[k - 1].name)) {
            rc = sl_status_set(st, SL_INVALID_ARGUMENT, "checkpoint '%s': tensor name '%s' given twice", prefix,
                               names[i]);
            goto out;
        }
        entry e = {.dtype = sl_tensor_dtype(tensors[i]), .shape = *sl_tensor_shape(tensors[i])};
        if (!tensor_bytes(&data, tensors[i], &e)) {
            rc = sl_status_set(st, SL_INVALID_ARGUMENT, "checkpoint '%s': tensor '%s' of dtype %s cannot be saved",
                               prefix, names[i], sl_dtype_name(e.dtype));
            goto out;
        }
        value.n = 0;
        encode_entry(&value, &e);
        block_add(&bb, names[i], strlen(names[i]), value.p, value.n);
    }
    /* one data block, the (empty) metaindex block, the index block, the footer */
    char *last = sl_strndup(bb.last ? bb.last : "", bb.last_len);
    size_t last_len = bb.last_len;
    uint64_t doff, dsize, moff, msize, ioff, isize;
    block_finish(&bb, &index_file, &doff, &dsize);
    block_builder mb = {0};
    block_finish(&mb, &index_file, &moff, &msize);
    buf handle = {0};
    put_varint(&handle, doff);
    put_varint(&handle, dsize);
    block_add(&ib, last ? last : "", last ? last_len : 0, handle.p, handle.n);
    index_file.oom |= handle.oom || !last;
    sl_free(handle.p);
    sl_free(last);
    block_finish(&ib, &index_file, &ioff, &isize);
    buf footer = {0};
    put_varint(&footer, moff);
    put_varint(&footer, msize);
    put_varint(&footer, ioff);
    put_varint(&footer, isize);
    unsigned char zero[40] = {0};
    if (footer.n < 40)
        put(&footer, zero, 40 - footer.n);
    put_fixed32(&footer, (uint32_t)TABLE_MAGIC);
    put_fixed32(&footer, (uint32_t)(TABLE_MAGIC >> 32));
    put(&index_file, footer.p, footer.n);
    index_file.oom |= footer.oom;
    sl_free(footer.p);
    if (data.oom || index_file.oom || value.oom) {
        rc = sl_status_set(st, SL_RESOURCE_EXHAUSTED, "out of memory writing '%s'", prefix);
        goto out;
    }
    /* data first, then the index: a reader never sees an index without its data */
    if ((rc = write_file(tmp_data, &data, st)) != SL_OK)
        goto out;
    if ((rc = write_file(tmp_index, &index_file, st)) != SL_OK) {
        unlink(tmp_data);
        goto out;
    }
    if (rename(tmp_data, data_path) != 0 || rename(tmp_index, index_path) != 0) {
        rc = sl_status_set(st, SL_INTERNAL, "cannot rename into '%s': %s", prefix, strerror(errno));
        unlink(tmp_data);
        unlink(tmp_index);
        goto out;
    }
    sl_status_clear(st);
out:
    if (bb.b.p || bb.restarts.p || bb.last) {
        sl_free(bb.b.p);
        sl_free(bb.restarts.p);
        sl_free(bb.last);
    }
    sl_free(sorted);
    sl_free(data.p);
    sl_free(index_file.p);
    sl_free(value.p);
    return rc;
}
