/* NumPy .npy files: a parser for the header (a Python dict literal with
 * 'descr', 'fortran_order' and 'shape'), conversion between NumPy type
 * strings and sl_dtype, byte swapping of big-endian data, and an atomic
 * writer (temporary file in the same folder, then rename).
 *
 * The format: the magic "\x93NUMPY", a major and a minor version byte, the
 * header length (2 bytes little-endian in 1.0, 4 bytes in 2.0 and 3.0), the
 * header text padded with spaces to a multiple of 64 bytes and ending in
 * '\n', then the elements in C order.  Strings ('|S<n>') are fixed-width,
 * NUL-padded; trailing NULs are dropped on read, as NumPy does.
 */
#include "config.h"

#include "sluice/npy.h"

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sluice/alloc.h"

#define NPY_MAGIC "\x93NUMPY"
#define NPY_MAGIC_LEN 6

/* One NumPy type code: kind letter and element size, e.g. 'f' 4. */
typedef struct npy_type {
    sl_dtype dtype;
    char kind;
    size_t size;
} npy_type;

static const npy_type npy_types[] = {
    {SL_DTYPE_FLOAT, 'f', 4},      {SL_DTYPE_DOUBLE, 'f', 8},     {SL_DTYPE_HALF, 'f', 2},
    {SL_DTYPE_INT8, 'i', 1},       {SL_DTYPE_INT16, 'i', 2},      {SL_DTYPE_INT32, 'i', 4},
    {SL_DTYPE_INT64, 'i', 8},      {SL_DTYPE_UINT8, 'u', 1},      {SL_DTYPE_UINT16, 'u', 2},
    {SL_DTYPE_UINT32, 'u', 4},     {SL_DTYPE_UINT64, 'u', 8},     {SL_DTYPE_BOOL, 'b', 1},
    {SL_DTYPE_COMPLEX64, 'c', 8},  {SL_DTYPE_COMPLEX128, 'c', 16},
};

/* Parsed header fields. */
typedef struct npy_header {
    char descr[64];
    bool has_descr;
    bool fortran_order;
    bool has_fortran_order;
    sl_shape shape;
    bool has_shape;
} npy_header;

static const char *name_or(const char *name)
{
    return name ? name : "<memory>";
}

/* ---- Header parsing ------------------------------------------------------ */

typedef struct cursor {
    const char *p;
    const char *end;
} cursor;

static void skip_ws(cursor *c)
{
    while (c->p < c->end && (*c->p == ' ' || *c->p == '\t' || *c->p == '\n' || *c->p == '\r'))
        c->p++;
}

static bool eat(cursor *c, char ch)
{
    skip_ws(c);
    if (c->p < c->end && *c->p == ch) {
        c->p++;
        return true;
    }
    return false;
}

/* A Python string literal in single or double quotes (no escapes: NumPy
 * never writes any in these fields). */
static bool parse_str(cursor *c, char *out, size_t cap)
{
    skip_ws(c);
    if (c->p >= c->end || (*c->p != '\'' && *c->p != '"'))
        return false;
    char q = *c->p++;
    size_t n = 0;
    while (c->p < c->end && *c->p != q) {
        if (*c->p == '\\' || n + 1 >= cap)
            return false;
        out[n++] = *c->p++;
    }
    if (c->p >= c->end)
        return false;
    c->p++;
    out[n] = '\0';
    return true;
}

static bool parse_word(cursor *c, const char *w)
{
    skip_ws(c);
    size_t n = strlen(w);
    if ((size_t)(c->end - c->p) >= n && !memcmp(c->p, w, n)) {
        c->p += n;
        return true;
    }
    return false;
}

/* A shape tuple: "()", "(3,)", "(2, 3)"; "L" suffixes of Python 2 too. */
static bool parse_shape(cursor *c, sl_shape *shape, const char **why)
{
    if (!eat(c, '(')) {
        *why = "shape is not a tuple";
        return false;
    }
    shape->rank = 0;
    for (;;) {
        if (eat(c, ')'))
            return true;
        skip_ws(c);
        if (c->p >= c->end || *c->p < '0' || *c->p > '9') {
            *why = "shape holds something other than non-negative integers";
            return false;
        }
        int64_t v = 0;
        while (c->p < c->end && *c->p >= '0' && *c->p <= '9') {
            if (v > (INT64_MAX - 9) / 10) {
                *why = "a dimension is too large";
                return false;
            }
            v = v * 10 + (*c->p++ - '0');
        }
        if (c->p < c->end && *c->p == 'L')
            c->p++;
        if (shape->rank >= SL_MAX_DIMS) {
            *why = "rank is above the most Sluice supports (8)";
            return false;
        }
        shape->dims[shape->rank++] = v;
        if (eat(c, ','))
            continue;
        if (eat(c, ')'))
            return true;
        *why = "shape tuple is malformed";
        return false;
    }
}

static bool parse_header(const char *text, size_t len, npy_header *h, const char **why)
{
    cursor c = {text, text + len};
    memset(h, 0, sizeof(*h));
    if (!eat(&c, '{')) {
        *why = "header is not a dict";
        return false;
    }
    for (;;) {
        if (eat(&c, '}'))
            break;
        char key[32];
        if (!parse_str(&c, key, sizeof(key)) || !eat(&c, ':')) {
            *why = "header dict is malformed";
            return false;
        }
        if (!strcmp(key, "descr")) {
            skip_ws(&c);
            if (c.p < c.end && (*c.p == '[' || *c.p == '{')) {
                *why = "structured dtypes are not supported";
                return false;
            }
            if (!parse_str(&c, h->descr, sizeof(h->descr))) {
                *why = "descr is not a type string";
                return false;
            }
            h->has_descr = true;
        } else if (!strcmp(key, "fortran_order")) {
            if (parse_word(&c, "True"))
                h->fortran_order = true;
            else if (parse_word(&c, "False"))
                h->fortran_order = false;
            else {
                *why = "fortran_order is not True or False";
                return false;
            }
            h->has_fortran_order = true;
        } else if (!strcmp(key, "shape")) {
            if (!parse_shape(&c, &h->shape, why))
                return false;
            h->has_shape = true;
        } else {
            *why = "header has an unknown key";
            return false;
        }
        if (eat(&c, ','))
            continue;
        if (eat(&c, '}'))
            break;
        *why = "header dict is malformed";
        return false;
    }
    if (!h->has_descr || !h->has_fortran_order || !h->has_shape) {
        *why = "header lacks descr, fortran_order or shape";
        return false;
    }
    return true;
}

/* ---- Type strings -------------------------------------------------------- */

/* Decodes a descr such as "<f4", ">i8", "|b1", "|S12" into a dtype, whether
 * the data needs swapping, and (for strings) the fixed width. */
static sl_code decode_descr(const char *descr, sl_dtype *dtype, bool *swap, size_t *width,
                            const char *name, sl_status *status)
{
    char order = descr[0];
    if (order != '<' && order != '>' && order != '|' && order != '=')
        return sl_status_set(status, SL_INVALID_ARGUMENT, "%s: unsupported dtype '%s'", name, descr);
    char kind = descr[1];
    char *end = NULL;
    errno = 0;
    unsigned long size = kind ? strtoul(descr + 2, &end, 10) : 0;
    if (!kind || !end || *end || end == descr + 2 || errno)
        return sl_status_set(status, SL_INVALID_ARGUMENT, "%s: unsupported dtype '%s'", name, descr);
    *swap = order == '>' && size > 1;
    if (kind == 'S') {
        *dtype = SL_DTYPE_STRING;
        *width = size;
        *swap = false;
        return SL_OK;
    }
    if (kind == 'V' && size == 2)
        return sl_status_set(status, SL_INVALID_ARGUMENT,
                             "%s: dtype '%s' is not supported (bfloat16 has no NumPy type)", name, descr);
    for (size_t i = 0; i < sizeof(npy_types) / sizeof(npy_types[0]); i++) {
        if (npy_types[i].kind == kind && npy_types[i].size == size) {
            *dtype = npy_types[i].dtype;
            *width = size;
            if (kind == 'c')
                *swap = order == '>';
            return SL_OK;
        }
    }
    return sl_status_set(status, SL_INVALID_ARGUMENT, "%s: unsupported dtype '%s'", name, descr);
}

/* Swaps each `part`-byte unit of n bytes in place. */
static void byte_swap(unsigned char *p, size_t n, size_t part)
{
    for (size_t i = 0; i + part <= n; i += part)
        for (size_t a = 0, b = part - 1; a < b; a++, b--) {
            unsigned char t = p[i + a];
            p[i + a] = p[i + b];
            p[i + b] = t;
        }
}

/* ---- Reading -------------------------------------------------------------- */

sl_tensor *sl_npy_parse(const void *data, size_t len, const char *name, sl_status *status)
{
    const unsigned char *b = data;
    name = name_or(name);
    if (len < NPY_MAGIC_LEN + 2 || memcmp(b, NPY_MAGIC, NPY_MAGIC_LEN)) {
        sl_status_set(status, SL_INVALID_ARGUMENT, "%s: not a .npy file (bad magic)", name);
        return NULL;
    }
    int major = b[6], minor = b[7];
    if (major < 1 || major > 3 || minor != 0) {
        sl_status_set(status, SL_INVALID_ARGUMENT, "%s: unsupported .npy version %d.%d", name, major,
                      minor);
        return NULL;
    }
    size_t lenbytes = major == 1 ? 2 : 4;
    if (len < 8 + lenbytes) {
        sl_status_set(status, SL_INVALID_ARGUMENT, "%s: truncated .npy header", name);
        return NULL;
    }
    size_t hlen = b[8] | (size_t)b[9] << 8;
    if (lenbytes == 4)
        hlen |= (size_t)b[10] << 16 | (size_t)b[11] << 24;
    size_t data_off = 8 + lenbytes + hlen;
    if (data_off > len) {
        sl_status_set(status, SL_INVALID_ARGUMENT,
                      "%s: truncated .npy header (%zu header bytes announced, %zu present)", name, hlen,
                      len - 8 - lenbytes);
        return NULL;
    }
    npy_header h;
    const char *why = NULL;
    if (!parse_header((const char *)b + 8 + lenbytes, hlen, &h, &why)) {
        sl_status_set(status, SL_INVALID_ARGUMENT, "%s: bad .npy header: %s", name, why);
        return NULL;
    }
    if (h.fortran_order) {
        sl_status_set(status, SL_INVALID_ARGUMENT,
                      "%s: Fortran-order arrays are not supported; save a C-order copy "
                      "(numpy.ascontiguousarray)", name);
        return NULL;
    }
    sl_dtype dtype = SL_DTYPE_INVALID;
    bool swap = false;
    size_t width = 0;
    if (decode_descr(h.descr, &dtype, &swap, &width, name, status) != SL_OK)
        return NULL;
    int64_t n = sl_shape_num_elements(&h.shape);
    if (n < 0 || (width && (uint64_t)n > SIZE_MAX / width)) {
        sl_status_set(status, SL_INVALID_ARGUMENT, "%s: bad .npy header: shape is too large", name);
        return NULL;
    }
    size_t want = (size_t)n * width;
    if (len - data_off != want) {
        sl_status_set(status, SL_DATA_LOSS, "%s: expected %zu bytes of data (%lld '%s' elements), found %zu",
                      name, want, (long long)n, h.descr, len - data_off);
        return NULL;
    }
    sl_tensor *t = sl_tensor_new(dtype, &h.shape, status);
    if (!t) {
        sl_status_prefix(status, "%s", name);
        return NULL;
    }
    const unsigned char *src = b + data_off;
    if (dtype == SL_DTYPE_STRING) {
        for (int64_t i = 0; i < n; i++) {
            const char *s = (const char *)src + (size_t)i * width;
            size_t l = width;
            while (l > 0 && s[l - 1] == '\0')
                l--;
            if (sl_tensor_set_string(t, i, s, l, status) != SL_OK) {
                sl_status_prefix(status, "%s", name);
                sl_tensor_unref(t);
                return NULL;
            }
        }
    } else if (want) {
        memcpy(sl_tensor_data(t), src, want);
        if (swap)
            byte_swap(sl_tensor_data(t), want, dtype == SL_DTYPE_COMPLEX64 ? 4
                                                : dtype == SL_DTYPE_COMPLEX128 ? 8 : width);
    }
    if (dtype == SL_DTYPE_BOOL) {  /* NumPy bools are 0 or 1; normalize anything else */
        unsigned char *p = sl_tensor_data(t);
        for (int64_t i = 0; i < n; i++)
            p[i] = p[i] != 0;
    }
    sl_status_clear(status);
    return t;
}

sl_tensor *sl_npy_read(const char *path, sl_status *status)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        sl_status_set(status, errno == ENOENT ? SL_NOT_FOUND : SL_PERMISSION_DENIED, "%s: cannot open: %s",
                      path, strerror(errno));
        return NULL;
    }
    sl_tensor *t = NULL;
    unsigned char *buf = NULL;
    struct stat sb;
    if (fstat(fileno(f), &sb) != 0 || !S_ISREG(sb.st_mode)) {
        sl_status_set(status, SL_INVALID_ARGUMENT, "%s: not a regular file", path);
        goto out_close;
    }
    size_t len = (size_t)sb.st_size;
    buf = sl_malloc(len ? len : 1);
    if (!buf) {
        sl_status_set(status, SL_RESOURCE_EXHAUSTED, "%s: out of memory reading %zu bytes", path, len);
        goto out_close;
    }
    if (len && fread(buf, 1, len, f) != len) {
        sl_status_set(status, SL_DATA_LOSS, "%s: read error", path);
        goto out_free_buf;
    }
    t = sl_npy_parse(buf, len, path, status);
out_free_buf:
    sl_free(buf);
out_close:
    fclose(f);
    return t;
}

/* ---- Writing -------------------------------------------------------------- */

static const char *encode_descr(sl_dtype dtype, char *buf, size_t cap, size_t width)
{
    if (dtype == SL_DTYPE_STRING) {
        snprintf(buf, cap, "|S%zu", width);
        return buf;
    }
    for (size_t i = 0; i < sizeof(npy_types) / sizeof(npy_types[0]); i++) {
        if (npy_types[i].dtype == dtype) {
            char order = npy_types[i].size == 1 ? '|' : '<';
            snprintf(buf, cap, "%c%c%zu", order, npy_types[i].kind, npy_types[i].size);
            return buf;
        }
    }
    return NULL;
}

/* Builds the full preamble (magic, version, length, padded header) into a
 * buffer the caller frees. */
static unsigned char *build_preamble(const char *descr, const sl_shape *shape, size_t *out_len)
{
    char dict[64 + SL_MAX_DIMS * 24];
    int k = snprintf(dict, sizeof(dict), "{'descr': '%s', 'fortran_order': False, 'shape': (", descr);
    for (int i = 0; i < shape->rank; i++)
        k += snprintf(dict + k, sizeof(dict) - (size_t)k, "%lld,%s", (long long)shape->dims[i],
                      i + 1 < shape->rank ? " " : "");
    if (shape->rank > 1)
        k--;  /* "(2, 3)" not "(2, 3,)"; "(3,)" keeps its comma */
    k += snprintf(dict + k, sizeof(dict) - (size_t)k, "), }");
    size_t dict_len = (size_t)k;
    /* version 1.0 while the header fits in 16 bits (always, at rank <= 8) */
    size_t total = NPY_MAGIC_LEN + 2 + 2 + dict_len + 1;
    total = (total + 63) / 64 * 64;
    unsigned char *p = sl_malloc(total);
    if (!p)
        return NULL;
    memcpy(p, NPY_MAGIC, NPY_MAGIC_LEN);
    p[6] = 1;
    p[7] = 0;
    size_t hlen = total - 10;
    p[8] = (unsigned char)(hlen & 0xff);
    p[9] = (unsigned char)(hlen >> 8);
    memcpy(p + 10, dict, dict_len);
    memset(p + 10 + dict_len, ' ', hlen - dict_len - 1);
    p[total - 1] = '\n';
    *out_len = total;
    return p;
}

static bool write_all(FILE *f, const void *p, size_t n)
{
    return n == 0 || fwrite(p, 1, n, f) == n;
}

sl_code sl_npy_write(const char *path, const sl_tensor *t, sl_status *status)
{
    sl_dtype dtype = sl_tensor_dtype(t);
    int64_t n = sl_tensor_num_elements(t);
    size_t width = sl_dtype_size(dtype);
    if (dtype == SL_DTYPE_STRING) {
        const sl_tstring *s = sl_tensor_data(t);
        width = 1;  /* NumPy's minimum for '|S' */
        for (int64_t i = 0; i < n; i++)
            if (s[i].size > width)
                width = s[i].size;
    }
    char dbuf[32];
    const char *descr = encode_descr(dtype, dbuf, sizeof(dbuf), width);
    if (!descr)
        return sl_status_set(status, SL_INVALID_ARGUMENT, "%s: cannot write a %s tensor as .npy%s", path,
                             sl_dtype_name(dtype),
                             dtype == SL_DTYPE_BFLOAT16 ? " (NumPy has no bfloat16)" : "");
    size_t pre_len = 0;
    unsigned char *pre = build_preamble(descr, sl_tensor_shape(t), &pre_len);
    char *tmp = NULL;
    char *row = NULL;
    FILE *f = NULL;
    sl_code rc = SL_OK;
    size_t plen = strlen(path);
    if (!pre || !(tmp = sl_malloc(plen + 16))) {
        rc = sl_status_set(status, SL_RESOURCE_EXHAUSTED, "%s: out of memory writing .npy", path);
        goto out_free;
    }
    memcpy(tmp, path, plen);
    memcpy(tmp + plen, ".tmp.XXXXXX", 12);
    int fd = mkstemp(tmp);
    if (fd < 0) {
        rc = sl_status_set(status, SL_PERMISSION_DENIED, "%s: cannot create a temporary file: %s", path,
                           strerror(errno));
        goto out_free;
    }
    f = fdopen(fd, "wb");
    if (!f) {
        close(fd);
        rc = sl_status_set(status, SL_PERMISSION_DENIED, "%s: cannot open a temporary file: %s", path,
                           strerror(errno));
        goto out_unlink;
    }
    bool ok = write_all(f, pre, pre_len);
    if (dtype == SL_DTYPE_STRING) {
        const sl_tstring *s = sl_tensor_data(t);
        row = sl_calloc(1, width);
        if (!row) {
            rc = sl_status_set(status, SL_RESOURCE_EXHAUSTED, "%s: out of memory writing .npy", path);
            goto out_close;
        }
        for (int64_t i = 0; ok && i < n; i++) {
            memset(row, 0, width);
            memcpy(row, s[i].data, s[i].size);
            ok = write_all(f, row, width);
        }
    } else {
        ok = ok && write_all(f, sl_tensor_data(t), sl_tensor_byte_size(t));
    }
    if (!ok || fflush(f) != 0 || fsync(fileno(f)) != 0) {
        rc = sl_status_set(status, SL_DATA_LOSS, "%s: write error: %s", path, strerror(errno));
        goto out_close;
    }
    if (fclose(f) != 0) {
        f = NULL;
        rc = sl_status_set(status, SL_DATA_LOSS, "%s: write error: %s", path, strerror(errno));
        goto out_unlink;
    }
    f = NULL;
    if (rename(tmp, path) != 0) {
        rc = sl_status_set(status, SL_PERMISSION_DENIED, "%s: cannot rename the temporary file into place: %s",
                           path, strerror(errno));
        goto out_unlink;
    }
    sl_status_clear(status);
    goto out_free;
out_close:
    if (f)
        fclose(f);
out_unlink:
    unlink(tmp);
out_free:
    sl_free(row);
    sl_free(tmp);
    sl_free(pre);
    return rc;
}
