/* The event-file writer (the contract is in sluice/summaries/writer.h).
 *
 * Callers encode their events with protobuf-c straight into a queue of
 * framed records under the writer's mutex; a background thread swaps the
 * queue with a spare buffer and writes it with one write(2), so callers
 * never wait for the disk.  Callers wake the thread only when a size
 * bound is reached; for the time bound the thread wakes by itself.  The thread writes when a bound is reached
 * (events, bytes, age of the oldest event), when a flush is asked for and
 * at close.  `enqueued` and `written` count events so that a flush waits
 * exactly for what was queued before it.  An I/O error of the thread is
 * kept (sticky) and returned by every later call.
 *
 * The bytes of each kind of value follow FORMATS.md §2 and what TF's C++
 * SummaryFileWriter does: tensors of fixed-size dtypes in tensor_content
 * (little-endian), strings in string_val, metadata on every value.
 */
#include "config.h"

#include "sluice/summaries/writer.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "event.pb-c.h"
#include "run_metadata.pb-c.h"
#include "sluice/alloc.h"
#include "sluice/summaries/histogram.h"
#include "sluice/summaries/image.h"
#include "sluice/summaries/record.h"
#include "summaries-private.h"

#define WRITER_NAME "sluice.summaries.event_writer"

struct sl_summary_writer {
    char *path;
    int fd;
    sl_summary_writer_options opts;
    pthread_mutex_t mu;
    pthread_cond_t wake;     /* signalled to the thread: work or close */
    pthread_cond_t written;  /* broadcast by the thread after each write */
    pthread_t thread;
    sl__buf queue;           /* framed records not yet written */
    sl__buf spare;           /* the buffer the thread is writing */
    int queued;              /* events in `queue` */
    int64_t oldest_ms;       /* monotonic time the oldest queued event came */
    uint64_t enqueued;       /* events ever queued */
    uint64_t written_upto;   /* events handed to the kernel (or dropped on error) */
    bool flush_requested;
    bool closing;
    sl_code error;           /* sticky I/O error of the thread */
    char *error_message;     /* libc-allocated */
    atomic_llong events;     /* events accepted, the first record included */
};

static atomic_int g_writer_uid;

/* ---- the background thread ---------------------------------------------- */

static bool write_due(const sl_summary_writer *w, int64_t now)
{
    if (w->queued == 0)
        return false;
    return w->flush_requested || w->closing || w->queued >= w->opts.max_queue ||
           w->queue.len >= w->opts.max_queue_bytes || now - w->oldest_ms >= w->opts.flush_millis;
}

static void deadline_after(struct timespec *ts, int64_t at_ms)
{
    ts->tv_sec = (time_t)(at_ms / 1000);
    ts->tv_nsec = (long)(at_ms % 1000) * 1000000L;
}

static void *writer_main(void *arg)
{
    sl_summary_writer *w = arg;
    pthread_mutex_lock(&w->mu);
    for (;;) {
        int64_t now = sl__monotonic_ms();
        if (!write_due(w, now)) {
            if (w->closing)
                break;
            if (w->flush_requested) { /* nothing queued: the flush is done */
                w->flush_requested = false;
                pthread_cond_broadcast(&w->written);
                continue;
            }
            /* Callers signal only at the size bounds, not for the first
             * event of a batch (that would be a second wake-up per batch),
             * so an idle thread looks at the queue every flush_millis:
             * no event waits much longer than flush_millis. */
            struct timespec ts;
            deadline_after(&ts, (w->queued ? w->oldest_ms : now) + w->opts.flush_millis);
            pthread_cond_timedwait(&w->wake, &w->mu, &ts);
            continue;
        }
        sl__buf tmp = w->spare;
        w->spare = w->queue;
        w->queue = tmp;
        uint64_t upto = w->enqueued;
        w->queued = 0;
        w->flush_requested = false;
        pthread_mutex_unlock(&w->mu);

        const uint8_t *p = w->spare.data;
        size_t left = w->spare.len;
        int err = 0;
        while (left) {
            ssize_t k = write(w->fd, p, left);
            if (k < 0) {
                if (errno == EINTR)
                    continue;
                err = errno;
                break;
            }
            p += k;
            left -= (size_t)k;
        }
        w->spare.len = 0;

        pthread_mutex_lock(&w->mu);
        if (err && w->error == SL_OK) {
            w->error = err == ENOSPC || err == EDQUOT ? SL_RESOURCE_EXHAUSTED : SL_INTERNAL;
            char msg[512];
            snprintf(msg, sizeof msg, "cannot write '%s': %s", w->path, strerror(err));
            w->error_message = strdup(msg);
        }
        w->written_upto = upto;
        pthread_cond_broadcast(&w->written);
    }
    pthread_mutex_unlock(&w->mu);
    return NULL;
}

static sl_code sticky_error(const sl_summary_writer *w, sl_status *st)
{
    return sl_status_set(st, w->error, "%s",
                         w->error_message ? w->error_message : "earlier write failed");
}

/* Frames and queues one event.  `ev` is packed in place. */
static sl_code enqueue(sl_summary_writer *w, const Tensorflow__Event *ev, const void *raw,
                       size_t raw_size, sl_status *st)
{
    size_t size = ev ? tensorflow__event__get_packed_size(ev) : raw_size;
    if ((uint64_t)size > SL_RECORD_MAX_PAYLOAD)
        return sl_status_set(st, SL_INVALID_ARGUMENT,
                             "event of %zu bytes exceeds the record limit of %" PRIu64 " bytes",
                             size, (uint64_t)SL_RECORD_MAX_PAYLOAD);
    pthread_mutex_lock(&w->mu);
    sl_code c;
    if (w->error != SL_OK) {
        c = sticky_error(w, st);
        goto out_unlock;
    }
    c = sl__buf_reserve(&w->queue, size + SL_RECORD_HEADER_SIZE + SL_RECORD_FOOTER_SIZE, st);
    if (c != SL_OK)
        goto out_unlock;
    uint8_t *rec = w->queue.data + w->queue.len;
    uint8_t *payload = rec + SL_RECORD_HEADER_SIZE;
    if (ev)
        tensorflow__event__pack(ev, payload);
    else if (size)
        memcpy(payload, raw, size);
    sl_record_encode_header(rec, size);
    sl_record_encode_footer(payload + size, payload, size);
    w->queue.len += size + SL_RECORD_HEADER_SIZE + SL_RECORD_FOOTER_SIZE;
    if (w->queued++ == 0)
        w->oldest_ms = sl__monotonic_ms();
    w->enqueued++;
    atomic_fetch_add(&w->events, 1);
    if (w->queued >= w->opts.max_queue || w->queue.len >= w->opts.max_queue_bytes ||
        w->opts.flush_millis == 0)
        pthread_cond_signal(&w->wake);
    sl_status_clear(st);
out_unlock:
    pthread_mutex_unlock(&w->mu);
    return c;
}

/* ---- open and close ------------------------------------------------------ */

static sl_code write_first_event(sl_summary_writer *w, sl_status *st)
{
    Tensorflow__SourceMetadata src = TENSORFLOW__SOURCE_METADATA__INIT;
    src.writer = (char *)WRITER_NAME;
    Tensorflow__Event ev = TENSORFLOW__EVENT__INIT;
    ev.wall_time = sl__now_seconds();
    ev.what_case = TENSORFLOW__EVENT__WHAT_FILE_VERSION;
    ev.file_version = (char *)"brain.Event:2";
    ev.source_metadata = &src;
    uint8_t rec[256];
    size_t size = tensorflow__event__get_packed_size(&ev);
    if (size + SL_RECORD_HEADER_SIZE + SL_RECORD_FOOTER_SIZE > sizeof rec)
        return sl_status_set(st, SL_INTERNAL, "first event of %zu bytes too large", size);
    tensorflow__event__pack(&ev, rec + SL_RECORD_HEADER_SIZE);
    sl_record_encode_header(rec, size);
    sl_record_encode_footer(rec + SL_RECORD_HEADER_SIZE + size, rec + SL_RECORD_HEADER_SIZE, size);
    const uint8_t *p = rec;
    size_t left = size + SL_RECORD_HEADER_SIZE + SL_RECORD_FOOTER_SIZE;
    while (left) {
        ssize_t k = write(w->fd, p, left);
        if (k < 0) {
            if (errno == EINTR)
                continue;
            return sl_status_set(st, SL_INTERNAL, "cannot write '%s': %s", w->path,
                                 strerror(errno));
        }
        p += k;
        left -= (size_t)k;
    }
    atomic_fetch_add(&w->events, 1);
    return SL_OK;
}

/* Creates a new event file with a unique name; sets w->path and w->fd. */
static sl_code create_file(sl_summary_writer *w, const char *logdir, sl_status *st)
{
    char host[256];
    if (gethostname(host, sizeof host) != 0 || host[0] == '\0')
        strcpy(host, "localhost");
    host[sizeof host - 1] = '\0';
    for (char *p = host; *p; p++)
        if (*p == '/')
            *p = '_';
    const char *suffix = w->opts.filename_suffix ? w->opts.filename_suffix : ".sluice";
    if (strchr(suffix, '/'))
        return sl_status_set(st, SL_INVALID_ARGUMENT, "file name suffix '%s' contains '/'", suffix);
    long long now = (long long)time(NULL);
    for (int attempt = 0; attempt < 1000; attempt++) {
        int uid = atomic_fetch_add(&g_writer_uid, 1);
        char name[512];
        int n = snprintf(name, sizeof name, "events.out.tfevents.%010lld.%s.%d.%d%s", now, host,
                         (int)getpid(), uid, suffix);
        if (n < 0 || (size_t)n >= sizeof name)
            return sl_status_set(st, SL_INVALID_ARGUMENT, "event file name too long");
        char *path = sl__path_join(logdir, name);
        if (!path)
            return sl_status_set(st, SL_RESOURCE_EXHAUSTED, "out of memory");
        int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
        if (fd >= 0) {
            w->path = path;
            w->fd = fd;
            return SL_OK;
        }
        int e = errno;
        if (e != EEXIST) {
            sl_status_set(st, e == EACCES ? SL_PERMISSION_DENIED : SL_INTERNAL,
                          "cannot create '%s': %s", path, strerror(e));
            sl_free(path);
            return sl_status_code(st);
        }
        sl_free(path);
    }
    return sl_status_set(st, SL_ALREADY_EXISTS, "cannot find a free event file name in '%s'",
                         logdir);
}

sl_summary_writer *sl_summary_writer_open(const char *logdir, const sl_summary_writer_options *opts,
                                          sl_status *st)
{
    if (!logdir || !*logdir) {
        sl_status_set(st, SL_INVALID_ARGUMENT, "empty logdir");
        return NULL;
    }
    sl_summary_writer_options o = SL_SUMMARY_WRITER_OPTIONS_INIT;
    if (opts) {
        size_t n = opts->struct_size < sizeof o ? opts->struct_size : sizeof o;
        if (n < sizeof(size_t)) {
            sl_status_set(st, SL_INVALID_ARGUMENT, "options without struct_size");
            return NULL;
        }
        memcpy(&o, opts, n);
        o.struct_size = sizeof o;
    }
    if (o.max_queue <= 0)
        o.max_queue = 10;
    if (o.max_queue_bytes == 0)
        o.max_queue_bytes = 1 << 20;
    if (o.flush_millis < 0)
        o.flush_millis = 0;

    if (sl__mkdir_p(logdir, st) != SL_OK)
        return NULL;
    sl_summary_writer *w = sl_calloc(1, sizeof(*w));
    if (!w) {
        sl_status_set(st, SL_RESOURCE_EXHAUSTED, "out of memory opening a writer in '%s'", logdir);
        return NULL;
    }
    w->opts = o;
    w->fd = -1;
    if (create_file(w, logdir, st) != SL_OK)
        goto err_free_writer;
    if (write_first_event(w, st) != SL_OK)
        goto err_close_file;
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_mutex_init(&w->mu, NULL);
    pthread_cond_init(&w->wake, &ca);
    pthread_cond_init(&w->written, NULL);
    pthread_condattr_destroy(&ca);
    if (pthread_create(&w->thread, NULL, writer_main, w) != 0) {
        sl_status_set(st, SL_RESOURCE_EXHAUSTED, "cannot start the writer thread for '%s'",
                      w->path);
        goto err_destroy_sync;
    }
    sl_status_clear(st);
    return w;

err_destroy_sync:
    pthread_cond_destroy(&w->written);
    pthread_cond_destroy(&w->wake);
    pthread_mutex_destroy(&w->mu);
err_close_file:
    close(w->fd);
    unlink(w->path);
    sl_free(w->path);
err_free_writer:
    sl_free(w);
    return NULL;
}

const char *sl_summary_writer_path(const sl_summary_writer *w)
{
    return w->path;
}

int64_t sl_summary_writer_event_count(const sl_summary_writer *w)
{
    return atomic_load(&((sl_summary_writer *)w)->events);
}

sl_code sl_summary_writer_flush(sl_summary_writer *w, sl_status *st)
{
    pthread_mutex_lock(&w->mu);
    uint64_t target = w->enqueued;
    while (w->written_upto < target && w->error == SL_OK) {
        w->flush_requested = true;
        pthread_cond_signal(&w->wake);
        pthread_cond_wait(&w->written, &w->mu);
    }
    sl_code c = w->error != SL_OK ? sticky_error(w, st) : SL_OK;
    pthread_mutex_unlock(&w->mu);
    if (c == SL_OK)
        sl_status_clear(st);
    return c;
}

sl_code sl_summary_writer_close(sl_summary_writer *w, sl_status *st)
{
    if (!w) {
        sl_status_clear(st);
        return SL_OK;
    }
    pthread_mutex_lock(&w->mu);
    w->closing = true;
    pthread_cond_signal(&w->wake);
    pthread_mutex_unlock(&w->mu);
    pthread_join(w->thread, NULL);

    sl_code c = SL_OK;
    if (w->error != SL_OK)
        c = sticky_error(w, st);
    if (fsync(w->fd) != 0 && errno != EINVAL && c == SL_OK)
        c = sl_status_set(st, SL_INTERNAL, "cannot fsync '%s': %s", w->path, strerror(errno));
    if (close(w->fd) != 0 && c == SL_OK)
        c = sl_status_set(st, SL_INTERNAL, "cannot close '%s': %s", w->path, strerror(errno));
    pthread_cond_destroy(&w->written);
    pthread_cond_destroy(&w->wake);
    pthread_mutex_destroy(&w->mu);
    sl__buf_release(&w->queue);
    sl__buf_release(&w->spare);
    free(w->error_message);
    sl_free(w->path);
    sl_free(w);
    if (c == SL_OK)
        sl_status_clear(st);
    return c;
}

/* ---- building events ----------------------------------------------------- */

static sl_code check_tag(const char *tag, sl_status *st)
{
    if (!tag || !*tag)
        return sl_status_set(st, SL_INVALID_ARGUMENT, "empty tag");
    if (!sl__is_utf8(tag, strlen(tag)))
        return sl_status_set(st, SL_INVALID_ARGUMENT, "tag is not valid UTF-8");
    return SL_OK;
}

static double wall_or_now(double wall_time)
{
    return wall_time > 0 ? wall_time : sl__now_seconds();
}

/* Queues Event{wall_time, step, summary{value}}. */
static sl_code add_value(sl_summary_writer *w, Tensorflow__Summary__Value *v, int64_t step,
                         double wall_time, sl_status *st)
{
    Tensorflow__Summary__Value *vp = v;
    Tensorflow__Summary s = TENSORFLOW__SUMMARY__INIT;
    s.n_value = 1;
    s.value = &vp;
    Tensorflow__Event ev = TENSORFLOW__EVENT__INIT;
    ev.wall_time = wall_or_now(wall_time);
    ev.step = step;
    ev.what_case = TENSORFLOW__EVENT__WHAT_SUMMARY;
    ev.summary = &s;
    return enqueue(w, &ev, NULL, 0, st);
}

/* Queues a TF2 tensor value with metadata naming `plugin`. */
static sl_code add_tensor(sl_summary_writer *w, const char *tag, const char *plugin,
                          Tensorflow__TensorProto *t, int64_t step, double wall_time, sl_status *st)
{
    Tensorflow__SummaryMetadata__PluginData pd = TENSORFLOW__SUMMARY_METADATA__PLUGIN_DATA__INIT;
    pd.plugin_name = (char *)plugin;
    Tensorflow__SummaryMetadata md = TENSORFLOW__SUMMARY_METADATA__INIT;
    md.plugin_data = &pd;
    Tensorflow__Summary__Value v = TENSORFLOW__SUMMARY__VALUE__INIT;
    v.tag = (char *)tag;
    v.metadata = &md;
    v.value_case = TENSORFLOW__SUMMARY__VALUE__VALUE_TENSOR;
    v.tensor = t;
    return add_value(w, &v, step, wall_time, st);
}

sl_code sl_summary_writer_add_scalar(sl_summary_writer *w, const char *tag, float value, int64_t step,
                                     double wall_time, sl_status *st)
{
    sl_code c = check_tag(tag, st);
    if (c != SL_OK)
        return c;
    uint8_t le[4];
    uint32_t bits;
    memcpy(&bits, &value, sizeof bits);
    sl__store_le32(le, bits);
    Tensorflow__TensorShapeProto shape = TENSORFLOW__TENSOR_SHAPE_PROTO__INIT;
    Tensorflow__TensorProto t = TENSORFLOW__TENSOR_PROTO__INIT;
    t.dtype = TENSORFLOW__DATA_TYPE__DT_FLOAT;
    t.tensor_shape = &shape;
    t.tensor_content.len = 4;
    t.tensor_content.data = le;
    return add_tensor(w, tag, "scalars", &t, step, wall_time, st);
}

sl_code sl_summary_writer_add_simple_value(sl_summary_writer *w, const char *tag, float value,
                                           int64_t step, double wall_time, sl_status *st)
{
    sl_code c = check_tag(tag, st);
    if (c != SL_OK)
        return c;
    Tensorflow__Summary__Value v = TENSORFLOW__SUMMARY__VALUE__INIT;
    v.tag = (char *)tag;
    v.value_case = TENSORFLOW__SUMMARY__VALUE__VALUE_SIMPLE_VALUE;
    v.simple_value = value;
    return add_value(w, &v, step, wall_time, st);
}

sl_code sl_summary_writer_add_histogram(sl_summary_writer *w, const char *tag, const double *values,
                                        size_t n, int bucket_count, int64_t step, double wall_time,
                                        sl_status *st)
{
    sl_code c = check_tag(tag, st);
    if (c != SL_OK)
        return c;
    if (n > 0 && !values)
        return sl_status_set(st, SL_INVALID_ARGUMENT, "histogram '%s' without values", tag);
    int k = bucket_count > 0 ? bucket_count : SL_HISTOGRAM_TF2_DEFAULT_BUCKETS;
    if (k > 1 << 20)
        return sl_status_set(st, SL_INVALID_ARGUMENT, "too many buckets (%d)", k);
    double *rows = sl_malloc((size_t)k * 3 * sizeof(double));
    if (!rows)
        return sl_status_set(st, SL_RESOURCE_EXHAUSTED, "out of memory for histogram '%s'", tag);
    c = sl_histogram_tf2_buckets(values, n, k, rows, st);
    if (c != SL_OK) {
        sl_status_prefix(st, "histogram '%s'", tag);
        goto out_free_rows;
    }
    for (int i = 0; i < 3 * k; i++) { /* to little-endian, in place */
        uint64_t u;
        memcpy(&u, &rows[i], sizeof u);
        sl__store_le64((uint8_t *)&rows[i], u);
    }
    Tensorflow__TensorShapeProto__Dim d0 = TENSORFLOW__TENSOR_SHAPE_PROTO__DIM__INIT;
    Tensorflow__TensorShapeProto__Dim d1 = TENSORFLOW__TENSOR_SHAPE_PROTO__DIM__INIT;
    d0.size = k;
    d1.size = 3;
    Tensorflow__TensorShapeProto__Dim *dims[2] = {&d0, &d1};
    Tensorflow__TensorShapeProto shape = TENSORFLOW__TENSOR_SHAPE_PROTO__INIT;
    shape.n_dim = 2;
    shape.dim = dims;
    Tensorflow__TensorProto t = TENSORFLOW__TENSOR_PROTO__INIT;
    t.dtype = TENSORFLOW__DATA_TYPE__DT_DOUBLE;
    t.tensor_shape = &shape;
    t.tensor_content.len = (size_t)k * 3 * sizeof(double);
    t.tensor_content.data = (uint8_t *)rows;
    c = add_tensor(w, tag, "histograms", &t, step, wall_time, st);
out_free_rows:
    sl_free(rows);
    return c;
}

sl_code sl_summary_writer_add_histogram_tf1(sl_summary_writer *w, const char *tag,
                                            const double *values, size_t n, int64_t step,
                                            double wall_time, sl_status *st)
{
    sl_code c = check_tag(tag, st);
    if (c != SL_OK)
        return c;
    if (n > 0 && !values)
        return sl_status_set(st, SL_INVALID_ARGUMENT, "histogram '%s' without values", tag);
    for (size_t i = 0; i < n; i++)
        if (!isfinite(values[i]))
            return sl_status_set(st, SL_INVALID_ARGUMENT,
                                 "non-finite value at index %zu in summary histogram for '%s'", i,
                                 tag);
    sl_histogram h;
    if ((c = sl_histogram_init(&h, st)) != SL_OK)
        return c;
    double *limits = sl_malloc(2 * SL_HISTOGRAM_DEFAULT_BUCKETS * sizeof(double));
    if (!limits) {
        c = sl_status_set(st, SL_RESOURCE_EXHAUSTED, "out of memory for histogram '%s'", tag);
        goto out_release;
    }
    double *counts = limits + SL_HISTOGRAM_DEFAULT_BUCKETS;
    for (size_t i = 0; i < n; i++)
        sl_histogram_add(&h, values[i]);
    size_t m = sl_histogram_encode(&h, limits, counts);
    Tensorflow__HistogramProto hp = TENSORFLOW__HISTOGRAM_PROTO__INIT;
    hp.min = h.min;
    hp.max = h.max;
    hp.num = h.num;
    hp.sum = h.sum;
    hp.sum_squares = h.sum_squares;
    hp.n_bucket_limit = m;
    hp.bucket_limit = limits;
    hp.n_bucket = m;
    hp.bucket = counts;
    Tensorflow__Summary__Value v = TENSORFLOW__SUMMARY__VALUE__INIT;
    v.tag = (char *)tag;
    v.value_case = TENSORFLOW__SUMMARY__VALUE__VALUE_HISTO;
    v.histo = &hp;
    c = add_value(w, &v, step, wall_time, st);
    sl_free(limits);
out_release:
    sl_histogram_release(&h);
    return c;
}

sl_code sl_summary_writer_add_encoded_images(sl_summary_writer *w, const char *tag,
                                             const uint8_t *const *data, const size_t *sizes, int n,
                                             int width, int height, int64_t step, double wall_time,
                                             sl_status *st)
{
    sl_code c = check_tag(tag, st);
    if (c != SL_OK)
        return c;
    if (n < 1 || n > 1 << 16 || !data || !sizes)
        return sl_status_set(st, SL_INVALID_ARGUMENT, "image summary '%s' needs 1 or more images",
                             tag);
    if (width <= 0 || height <= 0)
        return sl_status_set(st, SL_INVALID_ARGUMENT, "image summary '%s' of size %dx%d", tag,
                             width, height);
    ProtobufCBinaryData *vals = sl_calloc((size_t)n + 2, sizeof(*vals));
    if (!vals)
        return sl_status_set(st, SL_RESOURCE_EXHAUSTED, "out of memory for images '%s'", tag);
    char ws[16], hs[16];
    snprintf(ws, sizeof ws, "%d", width);
    snprintf(hs, sizeof hs, "%d", height);
    vals[0].data = (uint8_t *)ws;
    vals[0].len = strlen(ws);
    vals[1].data = (uint8_t *)hs;
    vals[1].len = strlen(hs);
    for (int i = 0; i < n; i++) {
        vals[2 + i].data = (uint8_t *)data[i];
        vals[2 + i].len = sizes[i];
    }
    Tensorflow__TensorShapeProto__Dim d0 = TENSORFLOW__TENSOR_SHAPE_PROTO__DIM__INIT;
    d0.size = n + 2;
    Tensorflow__TensorShapeProto__Dim *dims[1] = {&d0};
    Tensorflow__TensorShapeProto shape = TENSORFLOW__TENSOR_SHAPE_PROTO__INIT;
    shape.n_dim = 1;
    shape.dim = dims;
    Tensorflow__TensorProto t = TENSORFLOW__TENSOR_PROTO__INIT;
    t.dtype = TENSORFLOW__DATA_TYPE__DT_STRING;
    t.tensor_shape = &shape;
    t.n_string_val = (size_t)n + 2;
    t.string_val = vals;
    c = add_tensor(w, tag, "images", &t, step, wall_time, st);
    sl_free(vals);
    return c;
}

sl_code sl_summary_writer_add_images(sl_summary_writer *w, const char *tag, const sl_image *images,
                                     int n, int64_t step, double wall_time, sl_status *st)
{
    sl_code c = check_tag(tag, st);
    if (c != SL_OK)
        return c;
    if (n < 1 || n > 1 << 16 || !images)
        return sl_status_set(st, SL_INVALID_ARGUMENT, "image summary '%s' needs 1 or more images",
                             tag);
    for (int i = 1; i < n; i++)
        if (images[i].width != images[0].width || images[i].height != images[0].height)
            return sl_status_set(st, SL_INVALID_ARGUMENT,
                                 "images of '%s' differ in size (%dx%d and %dx%d)", tag,
                                 images[0].width, images[0].height, images[i].width,
                                 images[i].height);
    uint8_t **pngs = sl_calloc((size_t)n, sizeof(*pngs));
    size_t *sizes = sl_calloc((size_t)n, sizeof(*sizes));
    if (!pngs || !sizes) {
        c = sl_status_set(st, SL_RESOURCE_EXHAUSTED, "out of memory for images '%s'", tag);
        goto out_free;
    }
    for (int i = 0; i < n; i++) {
        c = sl_image_encode_png(images[i].pixels, images[i].width, images[i].height,
                                images[i].channels, images[i].stride, &pngs[i], &sizes[i], st);
        if (c != SL_OK) {
            sl_status_prefix(st, "image %d of '%s'", i, tag);
            goto out_free;
        }
    }
    c = sl_summary_writer_add_encoded_images(w, tag, (const uint8_t *const *)pngs, sizes, n,
                                             images[0].width, images[0].height, step, wall_time,
                                             st);
out_free:
    if (pngs)
        for (int i = 0; i < n; i++)
            sl_free(pngs[i]);
    sl_free(pngs);
    sl_free(sizes);
    return c;
}

sl_code sl_summary_writer_add_text(sl_summary_writer *w, const char *tag, const char *const *strings,
                                   const size_t *sizes, int n, int64_t step, double wall_time,
                                   sl_status *st)
{
    sl_code c = check_tag(tag, st);
    if (c != SL_OK)
        return c;
    if (n < 1 || !strings)
        return sl_status_set(st, SL_INVALID_ARGUMENT, "text summary '%s' needs 1 or more strings",
                             tag);
    ProtobufCBinaryData *vals = sl_calloc((size_t)n, sizeof(*vals));
    if (!vals)
        return sl_status_set(st, SL_RESOURCE_EXHAUSTED, "out of memory for text '%s'", tag);
    for (int i = 0; i < n; i++) {
        if (!strings[i]) {
            sl_free(vals);
            return sl_status_set(st, SL_INVALID_ARGUMENT, "text %d of '%s' is NULL", i, tag);
        }
        vals[i].data = (uint8_t *)strings[i];
        vals[i].len = sizes ? sizes[i] : strlen(strings[i]);
    }
    Tensorflow__TensorShapeProto__Dim d0 = TENSORFLOW__TENSOR_SHAPE_PROTO__DIM__INIT;
    d0.size = n;
    Tensorflow__TensorShapeProto__Dim *dims[1] = {&d0};
    Tensorflow__TensorShapeProto shape = TENSORFLOW__TENSOR_SHAPE_PROTO__INIT;
    if (n > 1) {
        shape.n_dim = 1;
        shape.dim = dims;
    }
    Tensorflow__TensorProto t = TENSORFLOW__TENSOR_PROTO__INIT;
    t.dtype = TENSORFLOW__DATA_TYPE__DT_STRING;
    t.tensor_shape = &shape;
    t.n_string_val = (size_t)n;
    t.string_val = vals;
    c = add_tensor(w, tag, "text", &t, step, wall_time, st);
    sl_free(vals);
    return c;
}

sl_code sl_summary_writer_add_graph(sl_summary_writer *w, const void *graph_def, size_t size,
                                    int64_t step, double wall_time, sl_status *st)
{
    if (!graph_def && size)
        return sl_status_set(st, SL_INVALID_ARGUMENT, "graph of %zu bytes without data", size);
    Tensorflow__Event ev = TENSORFLOW__EVENT__INIT;
    ev.wall_time = wall_or_now(wall_time);
    ev.step = step;
    ev.what_case = TENSORFLOW__EVENT__WHAT_GRAPH_DEF;
    ev.graph_def.data = (uint8_t *)graph_def;
    ev.graph_def.len = size;
    return enqueue(w, &ev, NULL, 0, st);
}

sl_code sl_summary_writer_add_run_metadata(sl_summary_writer *w, const char *tag,
                                           const void *run_metadata, size_t size, int64_t step,
                                           double wall_time, sl_status *st)
{
    sl_code c = check_tag(tag, st);
    if (c != SL_OK)
        return c;
    if (!run_metadata && size)
        return sl_status_set(st, SL_INVALID_ARGUMENT, "run metadata of %zu bytes without data",
                             size);
    Tensorflow__TaggedRunMetadata trm = TENSORFLOW__TAGGED_RUN_METADATA__INIT;
    trm.tag = (char *)tag;
    trm.run_metadata.data = (uint8_t *)run_metadata;
    trm.run_metadata.len = size;
    Tensorflow__Event ev = TENSORFLOW__EVENT__INIT;
    ev.wall_time = wall_or_now(wall_time);
    ev.step = step;
    ev.what_case = TENSORFLOW__EVENT__WHAT_TAGGED_RUN_METADATA;
    ev.tagged_run_metadata = &trm;
    return enqueue(w, &ev, NULL, 0, st);
}

sl_code sl_summary_writer_add_step_stats(sl_summary_writer *w, const char *tag,
                                         const Tensorflow__StepStats *stats, int64_t step,
                                         double wall_time, sl_status *st)
{
    if (!stats)
        return sl_status_set(st, SL_INVALID_ARGUMENT, "no step stats");
    Tensorflow__RunMetadata rm = TENSORFLOW__RUN_METADATA__INIT;
    rm.step_stats = (Tensorflow__StepStats *)stats;
    size_t size = tensorflow__run_metadata__get_packed_size(&rm);
    uint8_t *buf = sl_malloc(size ? size : 1);
    if (!buf)
        return sl_status_set(st, SL_RESOURCE_EXHAUSTED, "out of memory for step stats '%s'",
                             tag ? tag : "");
    tensorflow__run_metadata__pack(&rm, buf);
    sl_code c = sl_summary_writer_add_run_metadata(w, tag, buf, size, step, wall_time, st);
    sl_free(buf);
    return c;
}

sl_code sl_summary_writer_add_session_log(sl_summary_writer *w, int status,
                                          const char *checkpoint_path, const char *msg,
                                          int64_t step, double wall_time, sl_status *st)
{
    if (status < 0 || status > 3)
        return sl_status_set(st, SL_INVALID_ARGUMENT, "session status %d out of range", status);
    if ((checkpoint_path && !sl__is_utf8(checkpoint_path, strlen(checkpoint_path))) ||
        (msg && !sl__is_utf8(msg, strlen(msg))))
        return sl_status_set(st, SL_INVALID_ARGUMENT, "session log text is not valid UTF-8");
    Tensorflow__SessionLog sl = TENSORFLOW__SESSION_LOG__INIT;
    sl.status = (Tensorflow__SessionLog__SessionStatus)status;
    if (checkpoint_path)
        sl.checkpoint_path = (char *)checkpoint_path;
    if (msg)
        sl.msg = (char *)msg;
    Tensorflow__Event ev = TENSORFLOW__EVENT__INIT;
    ev.wall_time = wall_or_now(wall_time);
    ev.step = step;
    ev.what_case = TENSORFLOW__EVENT__WHAT_SESSION_LOG;
    ev.session_log = &sl;
    return enqueue(w, &ev, NULL, 0, st);
}

sl_code sl_summary_writer_add_event(sl_summary_writer *w, const void *event, size_t size,
                                    sl_status *st)
{
    if (!event && size)
        return sl_status_set(st, SL_INVALID_ARGUMENT, "event of %zu bytes without data", size);
    return enqueue(w, NULL, event, size, st);
}
