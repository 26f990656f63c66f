/* IDX files (MNIST): header parsing with a clear error for a wrong magic
 * number, and loading a file's records into one tensor.  Also the
 * tf.train.Example encoder used by tools and tests. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "example.pb-c.h"
#include "io-private.h"
#include "sluice/alloc.h"
#include "sluice/input.h"

static uint32_t be32(const unsigned char *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static sl_dtype idx_dtype(int code)
{
    switch (code) {
    case 0x08: return SL_DTYPE_UINT8;
    case 0x09: return SL_DTYPE_INT8;
    case 0x0B: return SL_DTYPE_INT16;
    case 0x0C: return SL_DTYPE_INT32;
    case 0x0D: return SL_DTYPE_FLOAT;
    case 0x0E: return SL_DTYPE_DOUBLE;
    default: return SL_DTYPE_INVALID;
    }
}

static sl_code header_from(FILE *f, const char *path, sl_idx_header *out, sl_status *st)
{
    unsigned char h[4 + 4 * SL_MAX_DIMS];
    if (fread(h, 1, 4, f) != 4)
        return sl_status_set(st, SL_DATA_LOSS, "'%s': too short for an IDX file", path);
    uint32_t magic = be32(h);
    sl_dtype dt = idx_dtype(h[2]);
    int rank = h[3];
    if (h[0] != 0 || h[1] != 0 || dt == SL_DTYPE_INVALID || rank < 1 || rank > SL_MAX_DIMS)
        return sl_status_set(st, SL_INVALID_ARGUMENT,
                             "'%s': not an IDX file: magic number 0x%08x (expected 0x0000TTRR: type 08-0E, rank 1-%d,"
                             " e.g. 0x00000803 for images, 0x00000801 for labels)",
                             path, magic, SL_MAX_DIMS);
    if (fread(h + 4, 4, (size_t)rank, f) != (size_t)rank)
        return sl_status_set(st, SL_DATA_LOSS, "'%s': IDX header cut short", path);
    sl_shape s = {.rank = rank};
    size_t rec = (size_t)sl_dtype_size(dt);
    for (int i = 0; i < rank; i++) {
        s.dims[i] = be32(h + 4 + 4 * i);
        if (i > 0)
            rec *= (size_t)s.dims[i];
    }
    struct stat sb;
    size_t header = 4 + 4 * (size_t)rank;
    if (fstat(fileno(f), &sb) == 0 && (uint64_t)sb.st_size < header + rec * (uint64_t)s.dims[0])
        return sl_status_set(st, SL_DATA_LOSS, "'%s': IDX file holds %lld bytes, its header promises %llu", path,
                             (long long)sb.st_size, (unsigned long long)(header + rec * (uint64_t)s.dims[0]));
    out->dtype = dt;
    out->shape = s;
    out->header_bytes = header;
    out->record_bytes = rec;
    return SL_OK;
}

static FILE *open_file(const char *path, sl_status *st)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        sl_status_set(st, errno == ENOENT ? SL_NOT_FOUND : SL_PERMISSION_DENIED, "cannot open '%s': %s", path,
                      strerror(errno));
    return f;
}

sl_code sl_idx_read_header(const char *path, sl_idx_header *out, sl_status *st)
{
    FILE *f = open_file(path, st);
    if (!f)
        return sl_status_code(st);
    sl_idx_header h;
    sl_code rc = header_from(f, path, &h, st);
    fclose(f);
    if (rc == SL_OK) {
        *out = h;
        sl_status_clear(st);
    }
    return rc;
}

void sl__io_to_host(void *data, size_t elem, size_t n)
{
    unsigned char *p = data;
    if (elem == 1)
        return;
    for (size_t i = 0; i < n; i++, p += elem)
        for (size_t a = 0, b = elem - 1; a < b; a++, b--) {
            unsigned char t = p[a];
            p[a] = p[b];
            p[b] = t;
        }
}

sl_tensor *sl_idx_load(const char *path, int64_t limit, sl_status *st)
{
    FILE *f = open_file(path, st);
    if (!f)
        return NULL;
    sl_idx_header h;
    sl_tensor *t = NULL;
    if (header_from(f, path, &h, st) != SL_OK)
        goto out;
    if (limit > 0 && limit < h.shape.dims[0])
        h.shape.dims[0] = limit;
    if (!(t = sl_tensor_new(h.dtype, &h.shape, st)))
        goto out;
    size_t bytes = sl_tensor_byte_size(t);
    if (bytes && fread(sl_tensor_data(t), 1, bytes, f) != bytes) {
        sl_status_set(st, SL_DATA_LOSS, "'%s': IDX data cut short", path);
        sl_tensor_unref(t);
        t = NULL;
        goto out;
    }
    sl__io_to_host(sl_tensor_data(t), (size_t)sl_dtype_size(h.dtype), (size_t)sl_tensor_num_elements(t));
    sl_status_clear(st);
out:
    fclose(f);
    return t;
}

/* ---- Example encoding ------------------------------------------------------- */

void *sl_example_encode(const sl_feature *fs, int n, size_t *size, sl_status *st)
{
    Tensorflow__Example ex = TENSORFLOW__EXAMPLE__INIT;
    Tensorflow__Features feats = TENSORFLOW__FEATURES__INIT;
    Tensorflow__Features__FeatureEntry *entries = sl_calloc((size_t)n + 1, sizeof(*entries));
    Tensorflow__Features__FeatureEntry **ptrs = sl_calloc((size_t)n + 1, sizeof(*ptrs));
    Tensorflow__Feature *f = sl_calloc((size_t)n + 1, sizeof(*f));
    Tensorflow__BytesList *bl = sl_calloc((size_t)n + 1, sizeof(*bl));
    Tensorflow__FloatList *fl = sl_calloc((size_t)n + 1, sizeof(*fl));
    Tensorflow__Int64List *il = sl_calloc((size_t)n + 1, sizeof(*il));
    ProtobufCBinaryData **bins = sl_calloc((size_t)n + 1, sizeof(*bins));
    void *out = NULL;
    if (!entries || !ptrs || !f || !bl || !fl || !il || !bins)
        goto oom;
    for (int i = 0; i < n; i++) {
        tensorflow__features__feature_entry__init(&entries[i]);
        tensorflow__feature__init(&f[i]);
        entries[i].key = (char *)fs[i].key;
        entries[i].value = &f[i];
        ptrs[i] = &entries[i];
        if (fs[i].kind == 1) {
            tensorflow__float_list__init(&fl[i]);
            fl[i].n_value = (size_t)fs[i].n;
            fl[i].value = (float *)fs[i].floats;
            f[i].kind_case = TENSORFLOW__FEATURE__KIND_FLOAT_LIST;
            f[i].float_list = &fl[i];
        } else if (fs[i].kind == 2) {
            tensorflow__int64_list__init(&il[i]);
            il[i].n_value = (size_t)fs[i].n;
            il[i].value = (int64_t *)fs[i].int64s;
            f[i].kind_case = TENSORFLOW__FEATURE__KIND_INT64_LIST;
            f[i].int64_list = &il[i];
        } else {
            tensorflow__bytes_list__init(&bl[i]);
            if (!(bins[i] = sl_calloc((size_t)fs[i].n + 1, sizeof(ProtobufCBinaryData))))
                goto oom;
            for (int k = 0; k < fs[i].n; k++) {
                bins[i][k].data = (uint8_t *)fs[i].bytes[k];
                bins[i][k].len = fs[i].sizes ? fs[i].sizes[k] : strlen(fs[i].bytes[k]);
            }
            bl[i].n_value = (size_t)fs[i].n;
            bl[i].value = bins[i];
            f[i].kind_case = TENSORFLOW__FEATURE__KIND_BYTES_LIST;
            f[i].bytes_list = &bl[i];
        }
    }
    feats.n_feature = (size_t)n;
    feats.feature = ptrs;
    ex.features = &feats;
    *size = tensorflow__example__get_packed_size(&ex);
    if (!(out = sl_malloc(*size + 1)))
        goto oom;
    tensorflow__example__pack(&ex, out);
    sl_status_clear(st);
    goto done;
oom:
    sl_status_set(st, SL_RESOURCE_EXHAUSTED, "out of memory encoding an Example");
done:
    for (int i = 0; bins && i < n; i++)
        sl_free(bins[i]);
    sl_free(bins);
    sl_free(entries);
    sl_free(ptrs);
    sl_free(f);
    sl_free(bl);
    sl_free(fl);
    sl_free(il);
    return out;
}
