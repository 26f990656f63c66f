/* TFRecord framing, a buffered record writer and a resumable record reader
 * (FORMATS.md §1; the contract is in sluice/summaries/record.h).
 *
 * The reader keeps one buffer: buf[start, end) holds bytes read from the
 * file but not yet consumed, and `offset` is the file offset of
 * buf[start].  A record is returned as a pointer into the buffer, so the
 * common case copies each byte once (kernel to buffer), exactly like a raw
 * sequential read.  When a record is cut short at the end of the data, the
 * bytes stay in the buffer and the next call simply reads on: the file
 * position of the descriptor is already past them, so nothing is read
 * twice and a writer's later append completes the record.
 */
#include "config.h"

#include "sluice/summaries/record.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sluice/alloc.h"
#include "sluice/summaries/crc32c.h"
#include "summaries-private.h"

void sl_record_encode_header(uint8_t out[SL_RECORD_HEADER_SIZE], uint64_t length)
{
    sl__store_le64(out, length);
    sl__store_le32(out + 8, sl_crc32c_mask(sl_crc32c(out, 8)));
}

void sl_record_encode_footer(uint8_t out[SL_RECORD_FOOTER_SIZE], const void *payload, size_t length)
{
    sl__store_le32(out, sl_crc32c_mask(sl_crc32c(payload, length)));
}

static sl_code errno_code(int e)
{
    switch (e) {
    case ENOENT:
    case ENOTDIR:
        return SL_NOT_FOUND;
    case EACCES:
    case EPERM:
    case EROFS:
        return SL_PERMISSION_DENIED;
    case EEXIST:
        return SL_ALREADY_EXISTS;
    case ENOMEM:
    case ENOSPC:
    case EDQUOT:
    case EMFILE:
    case ENFILE:
        return SL_RESOURCE_EXHAUSTED;
    default:
        return SL_INTERNAL;
    }
}

/* write(2) all of it, retrying on EINTR and short writes. */
static sl_code write_all(int fd, const uint8_t *p, size_t n, const char *path, sl_status *st)
{
    while (n) {
        ssize_t k = write(fd, p, n);
        if (k < 0) {
            if (errno == EINTR)
                continue;
            return sl_status_set(st, errno_code(errno), "cannot write '%s': %s", path,
                                 strerror(errno));
        }
        p += k;
        n -= (size_t)k;
    }
    return SL_OK;
}

/* ---- writer ------------------------------------------------------------ */

#define WRITER_BUFFER 65536

struct sl_record_writer {
    int fd;
    char *path;
    sl__buf buf; /* framed records not yet written */
};

sl_record_writer *sl_record_writer_open(const char *path, sl_record_open_flags flags,
                                        sl_status *st)
{
    int oflags = O_WRONLY | O_CREAT | O_CLOEXEC;
    if (flags & SL_RECORD_APPEND)
        oflags |= O_APPEND;
    else
        oflags |= O_TRUNC;
    if (flags & SL_RECORD_EXCL)
        oflags |= O_EXCL;
    sl_record_writer *w = sl_calloc(1, sizeof(*w));
    if (!w)
        goto err_oom;
    w->path = sl_strdup(path);
    if (!w->path)
        goto err_free_writer;
    w->fd = open(path, oflags, 0666);
    if (w->fd < 0) {
        sl_status_set(st, errno_code(errno), "cannot open '%s' for writing: %s", path,
                      strerror(errno));
        goto err_free_path;
    }
    sl_status_clear(st);
    return w;

err_free_path:
    sl_free(w->path);
    sl_free(w);
    return NULL;
err_free_writer:
    sl_free(w);
err_oom:
    sl_status_set(st, SL_RESOURCE_EXHAUSTED, "out of memory opening '%s'", path);
    return NULL;
}

sl_code sl_record_writer_write(sl_record_writer *w, const void *data, size_t size, sl_status *st)
{
    uint8_t head[SL_RECORD_HEADER_SIZE], foot[SL_RECORD_FOOTER_SIZE];
    sl_record_encode_header(head, size);
    sl_record_encode_footer(foot, data, size);
    size_t framed = size + SL_RECORD_HEADER_SIZE + SL_RECORD_FOOTER_SIZE;
    sl_code c;
    if (w->buf.len + framed > WRITER_BUFFER) {
        c = sl_record_writer_flush(w, false, st);
        if (c != SL_OK)
            return c;
    }
    if (framed > WRITER_BUFFER) {
        /* large record: straight to the file, no copy */
        if ((c = write_all(w->fd, head, sizeof head, w->path, st)) != SL_OK ||
            (c = write_all(w->fd, data, size, w->path, st)) != SL_OK ||
            (c = write_all(w->fd, foot, sizeof foot, w->path, st)) != SL_OK)
            return c;
        sl_status_clear(st);
        return SL_OK;
    }
    if ((c = sl__buf_reserve(&w->buf, framed, st)) != SL_OK)
        return c;
    sl__buf_append(&w->buf, head, sizeof head, NULL);
    sl__buf_append(&w->buf, data, size, NULL);
    sl__buf_append(&w->buf, foot, sizeof foot, NULL);
    sl_status_clear(st);
    return SL_OK;
}

sl_code sl_record_writer_flush(sl_record_writer *w, bool sync, sl_status *st)
{
    sl_code c = write_all(w->fd, w->buf.data, w->buf.len, w->path, st);
    if (c != SL_OK)
        return c;
    w->buf.len = 0;
    if (sync && fsync(w->fd) != 0 && errno != EINVAL)
        return sl_status_set(st, errno_code(errno), "cannot fsync '%s': %s", w->path,
                             strerror(errno));
    sl_status_clear(st);
    return SL_OK;
}

sl_code sl_record_writer_close(sl_record_writer *w, sl_status *st)
{
    if (!w) {
        sl_status_clear(st);
        return SL_OK;
    }
    sl_code c = sl_record_writer_flush(w, true, st);
    if (close(w->fd) != 0 && c == SL_OK)
        c = sl_status_set(st, errno_code(errno), "cannot close '%s': %s", w->path, strerror(errno));
    sl__buf_release(&w->buf);
    sl_free(w->path);
    sl_free(w);
    return c;
}

/* ---- reader ------------------------------------------------------------ */

#define READER_BUFFER (256 * 1024)

struct sl_record_reader {
    int fd;
    char *path;
    uint8_t *buf;
    size_t cap;
    size_t start;          /* first unconsumed byte in buf */
    size_t end;            /* end of valid bytes in buf */
    uint64_t offset;       /* file offset of buf[start] */
    uint64_t record_offset;
    uint64_t bytes_read;
    sl_code dead;          /* sticky error, SL_OK while alive */
    char *dead_message;
};

sl_record_reader *sl_record_reader_open(const char *path, uint64_t offset, sl_status *st)
{
    sl_record_reader *r = sl_calloc(1, sizeof(*r));
    if (!r)
        goto err_oom;
    r->fd = -1;
    r->path = sl_strdup(path);
    r->cap = READER_BUFFER;
    r->buf = sl_malloc(r->cap);
    if (!r->path || !r->buf)
        goto err_free_reader_oom;
    r->fd = open(path, O_RDONLY | O_CLOEXEC);
    if (r->fd < 0) {
        sl_status_set(st, errno_code(errno), "cannot open '%s': %s", path, strerror(errno));
        goto err_free_reader;
    }
    struct stat sb;
    if (fstat(r->fd, &sb) == 0 && S_ISDIR(sb.st_mode)) {
        sl_status_set(st, SL_FAILED_PRECONDITION, "cannot read '%s': is a directory", path);
        goto err_free_reader;
    }
    if (offset && lseek(r->fd, (off_t)offset, SEEK_SET) < 0) {
        sl_status_set(st, errno_code(errno), "cannot seek '%s' to offset %" PRIu64 ": %s", path,
                      offset, strerror(errno));
        goto err_free_reader;
    }
    r->offset = r->record_offset = offset;
    sl_status_clear(st);
    return r;

err_free_reader_oom:
    sl_status_set(st, SL_RESOURCE_EXHAUSTED, "out of memory opening '%s'", path);
err_free_reader:
    if (r->fd >= 0)
        close(r->fd);
    sl_free(r->buf);
    sl_free(r->path);
    sl_free(r);
    return NULL;
err_oom:
    sl_status_set(st, SL_RESOURCE_EXHAUSTED, "out of memory opening '%s'", path);
    return NULL;
}

void sl_record_reader_free(sl_record_reader *r)
{
    if (!r)
        return;
    close(r->fd);
    sl_free(r->buf);
    sl_free(r->path);
    free(r->dead_message); /* from strdup: must survive allocation faults */
    sl_free(r);
}

static sl_code die(sl_record_reader *r, sl_code code, sl_status *st, const char *fmt, ...)
    SL_PRINTF(4, 5);

static sl_code die(sl_record_reader *r, sl_code code, sl_status *st, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    r->dead = code;
    free(r->dead_message);
    r->dead_message = strdup(msg);
    return sl_status_set(st, code, "%s", msg);
}

/* Makes buf[start, start + need) valid, reading more as needed.  Returns
 * SL_OK, SL_OUT_OF_RANGE when the file has fewer bytes for now, or an
 * error. */
static sl_code fill(sl_record_reader *r, size_t need, sl_status *st)
{
    if (r->end - r->start >= need)
        return SL_OK;
    if (r->cap - r->start < need) {
        if (r->start > 0) { /* slide the unconsumed bytes to the front */
            memmove(r->buf, r->buf + r->start, r->end - r->start);
            r->end -= r->start;
            r->start = 0;
        }
        if (r->cap < need) {
            size_t cap = r->cap;
            while (cap < need)
                cap *= 2;
            uint8_t *nb = sl_realloc(r->buf, cap);
            if (!nb)
                return die(r, SL_RESOURCE_EXHAUSTED, st,
                           "out of memory for a record of %zu bytes at offset %" PRIu64 " in '%s'",
                           need, r->offset, r->path);
            r->buf = nb;
            r->cap = cap;
        }
    }
    while (r->end - r->start < need) {
        ssize_t k = read(r->fd, r->buf + r->end, r->cap - r->end);
        if (k < 0) {
            if (errno == EINTR)
                continue;
            return sl_status_set(st, SL_INTERNAL, "cannot read '%s' at offset %" PRIu64 ": %s",
                                 r->path, r->offset + (r->end - r->start), strerror(errno));
        }
        if (k == 0)
            return SL_OUT_OF_RANGE;
        r->end += (size_t)k;
        r->bytes_read += (uint64_t)k;
    }
    return SL_OK;
}

static sl_code at_end(sl_record_reader *r, uint64_t want, sl_status *st)
{
    size_t have = r->end - r->start;
    if (have == 0)
        return sl_status_set(st, SL_OUT_OF_RANGE, "end of file '%s' at offset %" PRIu64, r->path,
                             r->offset);
    return sl_status_set(st, SL_OUT_OF_RANGE,
                         "incomplete record at offset %" PRIu64 " in '%s' (%zu of %" PRIu64
                         " bytes so far)",
                         r->offset, r->path, have, want);
}

sl_code sl__record_reader_next(sl_record_reader *r, const uint8_t **data, size_t *size,
                               sl_status *st)
{
    if (r->dead)
        return sl_status_set(st, r->dead, "%s", r->dead_message ? r->dead_message : "dead reader");
    sl_code c = fill(r, SL_RECORD_HEADER_SIZE, st);
    if (c == SL_OUT_OF_RANGE)
        return at_end(r, SL_RECORD_HEADER_SIZE, st);
    if (c != SL_OK)
        return c;
    const uint8_t *h = r->buf + r->start;
    uint32_t stored = sl__load_le32(h + 8);
    uint32_t actual = sl_crc32c_mask(sl_crc32c(h, 8));
    if (stored != actual)
        return die(r, SL_DATA_LOSS, st,
                   "corrupted record at offset %" PRIu64 " in '%s': length checksum mismatch"
                   " (stored 0x%08x, computed 0x%08x)",
                   r->offset, r->path, stored, actual);
    uint64_t len = sl__load_le64(h);
    if (len > SL_RECORD_MAX_PAYLOAD)
        return die(r, SL_DATA_LOSS, st,
                   "corrupted record at offset %" PRIu64 " in '%s': length %" PRIu64
                   " exceeds the limit of %" PRIu64 " bytes",
                   r->offset, r->path, len, (uint64_t)SL_RECORD_MAX_PAYLOAD);
    size_t total = (size_t)len + SL_RECORD_HEADER_SIZE + SL_RECORD_FOOTER_SIZE;
    c = fill(r, total, st);
    if (c == SL_OUT_OF_RANGE)
        return at_end(r, total, st);
    if (c != SL_OK)
        return c;
    const uint8_t *payload = r->buf + r->start + SL_RECORD_HEADER_SIZE;
    stored = sl__load_le32(payload + len);
    actual = sl_crc32c_mask(sl_crc32c(payload, (size_t)len));
    if (stored != actual)
        return die(r, SL_DATA_LOSS, st,
                   "corrupted record at offset %" PRIu64 " in '%s': payload checksum mismatch"
                   " (stored 0x%08x, computed 0x%08x)",
                   r->offset, r->path, stored, actual);
    r->record_offset = r->offset;
    r->start += total;
    r->offset += total;
    if (r->start == r->end)
        r->start = r->end = 0;
    *data = payload;
    *size = (size_t)len;
    return SL_OK;
}

sl_code sl_record_reader_next(sl_record_reader *r, const uint8_t **data, size_t *size,
                              sl_status *st)
{
    sl_code c = sl__record_reader_next(r, data, size, st);
    if (c == SL_OK)
        sl_status_clear(st);
    return c;
}

uint64_t sl_record_reader_offset(const sl_record_reader *r)
{
    return r->offset;
}

uint64_t sl_record_reader_record_offset(const sl_record_reader *r)
{
    return r->dead ? r->offset : r->record_offset;
}

size_t sl_record_reader_pending(const sl_record_reader *r)
{
    return r->end - r->start;
}

bool sl_record_reader_is_dead(const sl_record_reader *r)
{
    return r->dead != SL_OK;
}

const char *sl_record_reader_path(const sl_record_reader *r)
{
    return r->path;
}

uint64_t sl_record_reader_bytes_read(const sl_record_reader *r)
{
    return r->bytes_read;
}
