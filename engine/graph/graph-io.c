/* Graph files: binary and text GraphDefs in and out of memory and files.
 * When protobuf-c rejects bytes, a walk over the wire format finds the byte
 * offset where they stop making sense, so a truncated .pb is reported as
 * such, with the place. */
#include "config.h"

#include "graph-private.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sluice/alloc.h"
#include "textformat.h"

static bool read_varint(const uint8_t *p, size_t len, size_t *pos, uint64_t *out)
{
    uint64_t v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
        if (*pos >= len)
            return false;
        uint8_t b = p[(*pos)++];
        v |= (uint64_t)(b & 0x7f) << shift;
        if (!(b & 0x80)) {
            *out = v;
            return true;
        }
    }
    return false;
}

/* Walks the fields of one message; on a problem sets *bad_offset and a
 * reason.  Recurses into length-delimited fields listed as messages. */
static bool wire_check(const uint8_t *p, size_t len, size_t base, int depth, size_t *bad_offset,
                       char *why, size_t why_len)
{
    size_t pos = 0;
    while (pos < len) {
        size_t field_start = pos;
        uint64_t key, v = 0;
        if (!read_varint(p, len, &pos, &key)) {
            *bad_offset = base + field_start;
            snprintf(why, why_len, "field key runs past the end");
            return false;
        }
        unsigned wire = key & 7;
        uint64_t field = key >> 3;
        if (field == 0) {
            *bad_offset = base + field_start;
            snprintf(why, why_len, "field number 0 is invalid");
            return false;
        }
        switch (wire) {
        case 0:
            if (!read_varint(p, len, &pos, &v)) {
                *bad_offset = base + field_start;
                snprintf(why, why_len, "varint of field %llu runs past the end", (unsigned long long)field);
                return false;
            }
            break;
        case 1:
        case 5: {
            size_t need = wire == 1 ? 8 : 4;
            if (len - pos < need) {
                *bad_offset = base + field_start;
                snprintf(why, why_len, "field %llu needs %zu bytes, %zu remain", (unsigned long long)field,
                         need, len - pos);
                return false;
            }
            pos += need;
            break;
        }
        case 2:
            if (!read_varint(p, len, &pos, &v) || v > len - pos) {
                *bad_offset = base + field_start;
                snprintf(why, why_len, "field %llu declares %llu bytes, %zu remain",
                         (unsigned long long)field, (unsigned long long)v, len - pos);
                return false;
            }
            /* GraphDef.node (1) holds NodeDefs: look inside them too */
            if (depth == 0 && field == 1 &&
                !wire_check(p + pos, (size_t)v, base + pos, depth + 1, bad_offset, why, why_len))
                return false;
            pos += (size_t)v;
            break;
        default:
            *bad_offset = base + field_start;
            snprintf(why, why_len, "wire type %u of field %llu is invalid", wire, (unsigned long long)field);
            return false;
        }
    }
    return true;
}

sl_code sl_graph_import_binary(sl_graph *g, const void *data, size_t len,
                               const sl_import_options *opts, sl_status *st)
{
    Tensorflow__GraphDef *gd = tensorflow__graph_def__unpack(NULL, len, data);
    if (!gd) {
        size_t off = 0;
        char why[160] = "";
        if (!wire_check(data, len, 0, 0, &off, why, sizeof(why)))
            return sl_status_set(st, SL_DATA_LOSS, "not a valid GraphDef: at byte offset %zu of %zu: %s",
                                 off, len, why);
        return sl_status_set(st, SL_DATA_LOSS,
                             "not a valid GraphDef: %zu bytes of well-formed protobuf with mistyped fields",
                             len);
    }
    /* random bytes can happen to be valid protobuf; a GraphDef made of
     * nothing but unknown fields is not a graph */
    if (len > 0 && gd->n_node == 0 && gd->base.n_unknown_fields > 0) {
        size_t unknown = gd->base.n_unknown_fields;
        protobuf_c_message_free_unpacked(&gd->base, NULL);
        return sl_status_set(st, SL_DATA_LOSS,
                             "not a GraphDef: %zu bytes hold no nodes and %zu fields GraphDef does not have",
                             len, unknown);
    }
    sl_code rc = sl__graph_import_graphdef(g, gd, opts, st);
    protobuf_c_message_free_unpacked(&gd->base, NULL);
    return rc;
}

sl_code sl_graph_import_text(sl_graph *g, const char *text, size_t len, const char *source_name,
                             const sl_import_options *opts, sl_status *st)
{
    ProtobufCMessage *m = sl_textformat_parse(&tensorflow__graph_def__descriptor, text, len,
                                              source_name, st);
    if (!m)
        return sl_status_code(st);
    sl_code rc = sl__graph_import_graphdef(g, (Tensorflow__GraphDef *)m, opts, st);
    protobuf_c_message_free_unpacked(m, NULL);
    return rc;
}

static bool ends_with(const char *s, const char *suffix)
{
    size_t a = strlen(s), b = strlen(suffix);
    return a >= b && !strcmp(s + a - b, suffix);
}

static bool is_text_name(const char *path)
{
    return ends_with(path, ".pbtxt") || ends_with(path, ".txt") || ends_with(path, ".prototxt");
}

/* Reads a whole file into an sl_malloc'd buffer with a NUL after it. */
static char *read_file(const char *path, size_t *len, sl_status *st)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        sl_status_set(st, errno == ENOENT ? SL_NOT_FOUND : SL_PERMISSION_DENIED, "cannot open '%s': %s",
                      path, strerror(errno));
        return NULL;
    }
    struct stat sb;
    if (fstat(fileno(f), &sb) != 0 || !S_ISREG(sb.st_mode)) {
        fclose(f);
        sl_status_set(st, SL_INVALID_ARGUMENT, "'%s' is not a regular file", path);
        return NULL;
    }
    size_t size = (size_t)sb.st_size;
    char *buf = sl_malloc(size + 1);
    if (!buf) {
        fclose(f);
        sl_status_set(st, SL_RESOURCE_EXHAUSTED, "out of memory reading '%s' (%zu bytes)", path, size);
        return NULL;
    }
    size_t got = fread(buf, 1, size, f);
    bool err = ferror(f);
    fclose(f);
    if (err || got != size) {
        sl_free(buf);
        sl_status_set(st, SL_DATA_LOSS, "cannot read '%s': short read (%zu of %zu bytes)", path, got, size);
        return NULL;
    }
    buf[size] = '\0';
    *len = size;
    return buf;
}

sl_graph *sl_graph_load(const char *path, const sl_import_options *opts, sl_status *st)
{
    size_t len = 0;
    char *buf = read_file(path, &len, st);
    if (!buf)
        return NULL;
    sl_graph *g = sl_graph_new(st);
    if (!g) {
        sl_free(buf);
        return NULL;
    }
    const char *base = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
    sl_code rc;
    if (is_text_name(path)) {
        rc = sl_graph_import_text(g, buf, len, base, opts, st);
    } else if (ends_with(path, ".pb") || ends_with(path, ".graphdef")) {
        rc = sl_graph_import_binary(g, buf, len, opts, st);
    } else {
        /* unknown extension: text when it reads as text, else binary */
        rc = sl_graph_import_text(g, buf, len, base, opts, st);
        if (rc == SL_INVALID_ARGUMENT && memchr(buf, '\0', len)) {
            rc = sl_graph_import_binary(g, buf, len, opts, st);
        }
    }
    sl_free(buf);
    if (rc != SL_OK) {
        if (!is_text_name(path))  /* text errors already carry the file name */
            sl_status_prefix(st, "%s", path);
        sl_graph_free(g);
        return NULL;
    }
    return g;
}

void *sl_graph_export_binary(const sl_graph *g, size_t *len, sl_status *st)
{
    Tensorflow__GraphDef *gd = sl__graph_export_graphdef(g, st);
    if (!gd)
        return NULL;
    size_t n = tensorflow__graph_def__get_packed_size(gd);
    uint8_t *buf = sl_malloc(n ? n : 1);
    if (!buf) {
        protobuf_c_message_free_unpacked(&gd->base, NULL);
        sl_status_set(st, SL_RESOURCE_EXHAUSTED, "out of memory serializing a graph (%zu bytes)", n);
        return NULL;
    }
    tensorflow__graph_def__pack(gd, buf);
    protobuf_c_message_free_unpacked(&gd->base, NULL);
    if (len)
        *len = n;
    return buf;
}

char *sl_graph_export_text(const sl_graph *g, size_t *len, sl_status *st)
{
    Tensorflow__GraphDef *gd = sl__graph_export_graphdef(g, st);
    if (!gd)
        return NULL;
    char *text = sl_textformat_print(&gd->base, len, st);
    protobuf_c_message_free_unpacked(&gd->base, NULL);
    return text;
}

sl_code sl_graph_save(const sl_graph *g, const char *path, sl_status *st)
{
    size_t len = 0;
    void *buf = is_text_name(path) ? (void *)sl_graph_export_text(g, &len, st)
                                   : sl_graph_export_binary(g, &len, st);
    if (!buf)
        return sl_status_code(st);
    size_t tlen = strlen(path) + 32;
    char *tmp = sl_malloc(tlen);
    if (!tmp) {
        sl_free(buf);
        return sl_status_set(st, SL_RESOURCE_EXHAUSTED, "out of memory saving '%s'", path);
    }
    snprintf(tmp, tlen, "%s.tmp.%ld", path, (long)getpid());
    sl_code rc = SL_OK;
    FILE *f = fopen(tmp, "wb");
    if (!f) {
        rc = sl_status_set(st, SL_PERMISSION_DENIED, "cannot create '%s': %s", tmp, strerror(errno));
        goto out;
    }
    bool ok = fwrite(buf, 1, len, f) == len;
    ok = fflush(f) == 0 && ok;
    ok = fsync(fileno(f)) == 0 && ok;
    ok = fclose(f) == 0 && ok;
    if (!ok) {
        rc = sl_status_set(st, SL_DATA_LOSS, "cannot write '%s': %s", tmp, strerror(errno));
        unlink(tmp);
        goto out;
    }
    if (rename(tmp, path) != 0) {
        rc = sl_status_set(st, SL_PERMISSION_DENIED, "cannot rename '%s' to '%s': %s", tmp, path,
                           strerror(errno));
        unlink(tmp);
        goto out;
    }
    sl_status_clear(st);
out:
    sl_free(tmp);
    sl_free(buf);
    return rc;
}
