/* Summary kernels: the TF1 summary ops (ScalarSummary, HistogramSummary,
 * ImageSummary, TensorSummary, TensorSummaryV2, MergeSummary) produce
 * serialized Summary protos; the summary-writer resource (SummaryWriter,
 * CreateSummaryFileWriter) and its write ops (WriteSummary,
 * WriteScalarSummary, WriteHistogramSummary, WriteRawProtoSummary,
 * FlushSummaryWriter, CloseSummaryWriter) write events through summaries'
 * event writer, so a training graph logs its own summaries.  Histograms
 * use summaries' TF1 buckets (bit-exact with TF) and TF2 [k, 3] tensors;
 * images are PNG-encoded with summaries' encoder. */
#include "config.h"

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "event.pb-c.h"
#include "io-private.h"
#include "runtime-kernels.h"
#include "sluice/alloc.h"
#include "sluice/resource.h"
#include "sluice/summaries/histogram.h"
#include "sluice/summaries/image.h"
#include "sluice/summaries/writer.h"
#include "summary.pb-c.h"
#include "tensor-proto.h"

#define WRITER_TYPE "summary_writer"

/* Element i of a real tensor as a double. */
static double real_at(const sl_tensor *t, int64_t i)
{
    const void *p = sl_tensor_data(t);
    switch (sl_tensor_dtype(t)) {
    case SL_DTYPE_FLOAT: return ((const float *)p)[i];
    case SL_DTYPE_DOUBLE: return ((const double *)p)[i];
    case SL_DTYPE_INT32: return ((const int32_t *)p)[i];
    case SL_DTYPE_INT64: return (double)((const int64_t *)p)[i];
    case SL_DTYPE_UINT8: return ((const uint8_t *)p)[i];
    case SL_DTYPE_INT8: return ((const int8_t *)p)[i];
    case SL_DTYPE_INT16: return ((const int16_t *)p)[i];
    case SL_DTYPE_UINT16: return ((const uint16_t *)p)[i];
    case SL_DTYPE_UINT32: return ((const uint32_t *)p)[i];
    case SL_DTYPE_UINT64: return (double)((const uint64_t *)p)[i];
    default: return NAN;
    }
}

static char *tstring_dup(const sl_tstring *s)
{
    return sl_strndup(s->data ? s->data : "", s->size);
}

/* Packs sum into a new string scalar as output 0. */
static void output_summary(sl_kernel_ctx *ctx, const Tensorflow__Summary *sum)
{
    size_t n = tensorflow__summary__get_packed_size(sum);
    uint8_t *buf = sl_malloc(n + 1);
    sl_shape sc = sl_shape_scalar();
    sl_tensor *out = buf ? sl_kernel_ctx_allocate_output(ctx, 0, &sc) : NULL;
    if (!buf)
        sl_kernel_ctx_fail(ctx, SL_RESOURCE_EXHAUSTED, "out of memory packing a summary");
    if (out) {
        tensorflow__summary__pack(sum, buf);
        sl_tensor_set_string(out, 0, buf, n, NULL);
    }
    sl_free(buf);
}

/* ---- ScalarSummary ---------------------------------------------------------- */

static void scalar_summary_compute(sl_kernel_ctx *ctx)
{
    const sl_tensor *tags = sl_kernel_ctx_input(ctx, 0), *vals = sl_kernel_ctx_input(ctx, 1);
    if (!sl_shape_equal(sl_tensor_shape(tags), sl_tensor_shape(vals))) {
        sl_kernel_ctx_fail(ctx, SL_INVALID_ARGUMENT, "tags and values must have the same shape");
        return;
    }
    int64_t n = sl_tensor_num_elements(tags);
    Tensorflow__Summary sum = TENSORFLOW__SUMMARY__INIT;
    Tensorflow__Summary__Value *v = sl_calloc((size_t)n + 1, sizeof(*v));
    Tensorflow__Summary__Value **pv = sl_calloc((size_t)n + 1, sizeof(*pv));
    if (!v || !pv) {
        sl_kernel_ctx_fail(ctx, SL_RESOURCE_EXHAUSTED, "out of memory");
    } else {
        const sl_tstring *ts = sl_tensor_data(tags);
        for (int64_t i = 0; i < n; i++) {
            tensorflow__summary__value__init(&v[i]);
            v[i].tag = ts[i].data;
            v[i].value_case = TENSORFLOW__SUMMARY__VALUE__VALUE_SIMPLE_VALUE;
            v[i].simple_value = (float)real_at(vals, i);
            pv[i] = &v[i];
        }
        sum.n_value = (size_t)n;
        sum.value = pv;
        output_summary(ctx, &sum);
    }
    sl_free(v);
    sl_free(pv);
}

/* ---- HistogramSummary -------------------------------------------------------- */

static void histogram_summary_compute(sl_kernel_ctx *ctx)
{
    const sl_tensor *tag = sl_kernel_ctx_input(ctx, 0), *vals = sl_kernel_ctx_input(ctx, 1);
    if (sl_tensor_num_elements(tag) != 1) {
        sl_kernel_ctx_fail(ctx, SL_INVALID_ARGUMENT, "tag must be a scalar");
        return;
    }
    sl_status *st = sl_status_new();
    sl_histogram h;
    if (!st || sl_histogram_init(&h, st) != SL_OK) {
        sl_kernel_ctx_fail(ctx, SL_RESOURCE_EXHAUSTED, "out of memory");
        sl_status_free(st);
        return;
    }
    const sl_tstring *ts = sl_tensor_data(tag);
    int64_t n = sl_tensor_num_elements(vals);
    for (int64_t i = 0; i < n; i++) {
        double d = real_at(vals, i);
        if (!isfinite(d)) {
            sl_kernel_ctx_fail(ctx, SL_INVALID_ARGUMENT, "nan or inf in summary histogram for: %s", ts->data);
            goto out;
        }
        sl_histogram_add(&h, d);
    }
    double *limits = sl_malloc(sizeof(double) * SL_HISTOGRAM_DEFAULT_BUCKETS);
    double *counts = sl_malloc(sizeof(double) * SL_HISTOGRAM_DEFAULT_BUCKETS);
    if (limits && counts) {
        size_t k = sl_histogram_encode(&h, limits, counts);
        Tensorflow__HistogramProto hp = TENSORFLOW__HISTOGRAM_PROTO__INIT;
        hp.min = h.min;
        hp.max = h.max;
        hp.num = h.num;
        hp.sum = h.sum;
        hp.sum_squares = h.sum_squares;
        hp.n_bucket_limit = hp.n_bucket = k;
        hp.bucket_limit = limits;
        hp.bucket = counts;
        Tensorflow__Summary__Value v = TENSORFLOW__SUMMARY__VALUE__INIT, *pv = &v;
        v.tag = ts->data;
        v.value_case = TENSORFLOW__SUMMARY__VALUE__VALUE_HISTO;
        v.histo = &hp;
        Tensorflow__Summary sum = TENSORFLOW__SUMMARY__INIT;
        sum.n_value = 1;
        sum.value = &pv;
        output_summary(ctx, &sum);
    } else {
        sl_kernel_ctx_fail(ctx, SL_RESOURCE_EXHAUSTED, "out of memory");
    }
    sl_free(limits);
    sl_free(counts);
out:
    sl_histogram_release(&h);
    sl_status_free(st);
}

/* ---- ImageSummary ------------------------------------------------------------ */

static void image_summary_compute(sl_kernel_ctx *ctx)
{
    const sl_tensor *tag = sl_kernel_ctx_input(ctx, 0), *img = sl_kernel_ctx_input(ctx, 1);
    const sl_shape *s = sl_tensor_shape(img);
    if (sl_tensor_num_elements(tag) != 1 || s->rank != 4 || (s->dims[3] != 1 && s->dims[3] != 3 && s->dims[3] != 4)) {
        sl_kernel_ctx_fail(ctx, SL_INVALID_ARGUMENT, "needs a scalar tag and images [batch, height, width, 1|3|4]");
        return;
    }
    int64_t max_images = 3;
    sl_node_attr_int(sl_kernel_ctx_node(ctx), "max_images", &max_images);
    int n = (int)(s->dims[0] < max_images ? s->dims[0] : max_images);
    int h = (int)s->dims[1], w = (int)s->dims[2], c = (int)s->dims[3];
    int64_t per = (int64_t)h * w * c;
    const sl_tstring *ts = sl_tensor_data(tag);
    Tensorflow__Summary__Value *v = sl_calloc((size_t)n + 1, sizeof(*v));
    Tensorflow__Summary__Value **pv = sl_calloc((size_t)n + 1, sizeof(*pv));
    Tensorflow__Summary__Image *im = sl_calloc((size_t)n + 1, sizeof(*im));
    char **tags = sl_calloc((size_t)n + 1, sizeof(char *));
    uint8_t *pix = sl_malloc((size_t)per + 1);
    sl_status *st = sl_status_new();
    int made = 0;
    if (!v || !pv || !im || !tags || !pix || !st) {
        sl_kernel_ctx_fail(ctx, SL_RESOURCE_EXHAUSTED, "out of memory");
        goto out;
    }
    bool is_u8 = sl_tensor_dtype(img) == SL_DTYPE_UINT8;
    for (int b = 0; b < n; b++) {
        /* floats are scaled as TF: [0, 1] -> [0, 255] when non-negative,
         * else centred so that 0 is 127 */
        double lo = 0, hi = 0;
        for (int64_t i = 0; !is_u8 && i < per; i++) {
            double d = real_at(img, b * per + i);
            lo = i ? fmin(lo, d) : d;
            hi = i ? fmax(hi, d) : d;
        }
        double scale = lo >= 0 ? (hi <= 1 ? 255.0 : 255.0 / hi) : 127.0 / fmax(-lo, hi);
        double offset = lo >= 0 ? 0.0 : 128.0;
        for (int64_t i = 0; i < per; i++) {
            double d = is_u8 ? real_at(img, b * per + i) : real_at(img, b * per + i) * scale + offset;
            pix[i] = (uint8_t)(d < 0 ? 0 : d > 255 ? 255 : d + 0.5);
        }
        uint8_t *png = NULL;
        size_t png_size = 0;
        if (sl_image_encode_png(pix, w, h, c, (size_t)w * (size_t)c, &png, &png_size, st) != SL_OK) {
            sl_kernel_ctx_fail(ctx, sl_status_code(st), "%s", sl_status_message(st));
            goto out;
        }
        tensorflow__summary__image__init(&im[b]);
        im[b].height = h;
        im[b].width = w;
        im[b].colorspace = c;
        im[b].encoded_image_string.data = png;
        im[b].encoded_image_string.len = png_size;
        made++;
        tensorflow__summary__value__init(&v[b]);
        size_t tl = ts->size + 24;
        if (!(tags[b] = sl_malloc(tl))) {
            sl_kernel_ctx_fail(ctx, SL_RESOURCE_EXHAUSTED, "out of memory");
            goto out;
        }
        if (n == 1)
            snprintf(tags[b], tl, "%s/image", ts->data);
        else
            snprintf(tags[b], tl, "%s/image/%d", ts->data, b);
        v[b].tag = tags[b];
        v[b].value_case = TENSORFLOW__SUMMARY__VALUE__VALUE_IMAGE;
        v[b].image = &im[b];
        pv[b] = &v[b];
    }
    Tensorflow__Summary sum = TENSORFLOW__SUMMARY__INIT;
    sum.n_value = (size_t)n;
    sum.value = pv;
    output_summary(ctx, &sum);
out:
    for (int b = 0; im && b < made; b++)
        sl_free(im[b].encoded_image_string.data);
    for (int b = 0; tags && b < n; b++)
        sl_free(tags[b]);
    sl_free(tags);
    sl_free(v);
    sl_free(pv);
    sl_free(im);
    sl_free(pix);
    sl_status_free(st);
}

/* ---- Tensor summaries, merging ---------------------------------------------- */

static void tensor_value(sl_kernel_ctx *ctx, const char *tag, const sl_tensor *t, Tensorflow__SummaryMetadata *md)
{
    sl_status *st = sl_status_new();
    Tensorflow__TensorProto *tp = st ? sl__tensor_to_proto(t, st) : NULL;
    if (!tp) {
        sl_kernel_ctx_fail(ctx, SL_RESOURCE_EXHAUSTED, "out of memory");
    } else {
        Tensorflow__Summary__Value v = TENSORFLOW__SUMMARY__VALUE__INIT, *pv = &v;
        v.tag = (char *)tag;
        v.value_case = TENSORFLOW__SUMMARY__VALUE__VALUE_TENSOR;
        v.tensor = tp;
        v.metadata = md;
        Tensorflow__Summary sum = TENSORFLOW__SUMMARY__INIT;
        sum.n_value = 1;
        sum.value = &pv;
        output_summary(ctx, &sum);
        protobuf_c_message_free_unpacked(&tp->base, NULL);
    }
    sl_status_free(st);
}

static void tensor_summary_v2_compute(sl_kernel_ctx *ctx)
{
    const sl_tstring *tag = sl_tensor_data(sl_kernel_ctx_input(ctx, 0));
    const sl_tensor *md = sl_kernel_ctx_input(ctx, 2);
    const sl_tstring *mds = sl_tensor_data(md);
    Tensorflow__SummaryMetadata *m = NULL;
    if (sl_tensor_num_elements(md) == 1 && mds->size > 0 &&
        !(m = tensorflow__summary_metadata__unpack(NULL, mds->size, (const uint8_t *)mds->data))) {
        sl_kernel_ctx_fail(ctx, SL_INVALID_ARGUMENT, "serialized_summary_metadata is not a SummaryMetadata");
        return;
    }
    tensor_value(ctx, tag->data, sl_kernel_ctx_input(ctx, 1), m);
    if (m)
        tensorflow__summary_metadata__free_unpacked(m, NULL);
}

static void tensor_summary_compute(sl_kernel_ctx *ctx)
{
    const char *dn = "";
    size_t len = 0;
    sl_node_attr_string(sl_kernel_ctx_node(ctx), "display_name", &dn, &len);
    char *tag = sl_strndup(len ? dn : sl_node_name(sl_kernel_ctx_node(ctx)), len ? len : strlen(sl_node_name(sl_kernel_ctx_node(ctx))));
    if (!tag) {
        sl_kernel_ctx_fail(ctx, SL_RESOURCE_EXHAUSTED, "out of memory");
        return;
    }
    tensor_value(ctx, tag, sl_kernel_ctx_input(ctx, 0), NULL);
    sl_free(tag);
}

static void merge_summary_compute(sl_kernel_ctx *ctx)
{
    int n = sl_kernel_ctx_num_inputs(ctx);
    size_t total = 0;
    for (int i = 0; i < n; i++) {
        const sl_tensor *t = sl_kernel_ctx_input(ctx, i);
        const sl_tstring *s = sl_tensor_data(t);
        for (int64_t k = 0; k < sl_tensor_num_elements(t); k++) {
            Tensorflow__Summary *sum = tensorflow__summary__unpack(NULL, s[k].size, (const uint8_t *)s[k].data);
            if (!sum) {
                sl_kernel_ctx_fail(ctx, SL_INVALID_ARGUMENT, "input %d is not a serialized Summary", i);
                return;
            }
            tensorflow__summary__free_unpacked(sum, NULL);
            total += s[k].size;
        }
    }
    /* a Summary is a repeated field: concatenated encodings merge */
    char *buf = sl_malloc(total + 1), *o = buf;
    sl_shape sc = sl_shape_scalar();
    sl_tensor *out = buf ? sl_kernel_ctx_allocate_output(ctx, 0, &sc) : NULL;
    if (!buf)
        sl_kernel_ctx_fail(ctx, SL_RESOURCE_EXHAUSTED, "out of memory");
    if (out) {
        for (int i = 0; i < n; i++) {
            const sl_tensor *t = sl_kernel_ctx_input(ctx, i);
            const sl_tstring *s = sl_tensor_data(t);
            for (int64_t k = 0; k < sl_tensor_num_elements(t); k++) {
                memcpy(o, s[k].data, s[k].size);
                o += s[k].size;
            }
        }
        sl_tensor_set_string(out, 0, buf, total, NULL);
    }
    sl_free(buf);
}

/* ---- The summary-writer resource --------------------------------------------- */

typedef struct writer_box {
    pthread_mutex_t mu;
    sl_summary_writer *w;
    char *logdir;
} writer_box;

static void *box_create(void *arg, sl_status *st)
{
    (void)arg;
    writer_box *b = sl_calloc(1, sizeof(*b));
    if (!b)
        sl_status_set(st, SL_RESOURCE_EXHAUSTED, "out of memory");
    else
        pthread_mutex_init(&b->mu, NULL);
    return b;
}

static void box_destroy(void *obj)
{
    writer_box *b = obj;
    sl_summary_writer_close(b->w, NULL);
    sl_free(b->logdir);
    pthread_mutex_destroy(&b->mu);
    sl_free(b);
}

static void summary_writer_compute(sl_kernel_ctx *ctx)
{
    sl_resource_mgr *rm = sl_kernel_ctx_resources(ctx);
    if (!rm) {
        sl_kernel_ctx_fail(ctx, SL_FAILED_PRECONDITION, "no resource manager: run this op in a session");
        return;
    }
    char name[SL_RESOURCE_NAME_MAX], container[SL_RESOURCE_NAME_MAX];
    sl__resource_name(sl_kernel_ctx_node(ctx), name, sizeof(name));
    sl__resource_container(sl_kernel_ctx_node(ctx), container, sizeof(container));
    sl_status *st = sl_status_new();
    sl_resource *r = st ? sl_resource_mgr_lookup_or_create(rm, container, name, WRITER_TYPE, box_create, NULL,
                                                           box_destroy, st)
                        : NULL;
    const sl_resource_handle *h = r ? sl_resource_mgr_handle(rm, container, name, WRITER_TYPE) : NULL;
    sl_tensor *t = h ? sl_resource_handle_tensor(h, st) : NULL;
    if (!t)
        sl_kernel_ctx_fail(ctx, st ? sl_status_code(st) : SL_RESOURCE_EXHAUSTED, "%s",
                           st ? sl_status_message(st) : "out of memory");
    else
        sl_kernel_ctx_set_output(ctx, 0, t);
    sl_tensor_unref(t);
    sl_resource_unref(r);
    sl_status_free(st);
}

/* The writer box of input 0, locked; NULL after failing ctx.  With
 * need_open, a box without an open file is an error. */
static sl_resource *lock_box(sl_kernel_ctx *ctx, bool need_open)
{
    sl_resource_mgr *rm = sl_kernel_ctx_resources(ctx);
    const sl_resource_handle *h = sl_resource_handle_from_tensor(sl_kernel_ctx_input(ctx, 0));
    if (!rm || !h || strcmp(h->type, WRITER_TYPE)) {
        sl_kernel_ctx_fail(ctx, SL_INVALID_ARGUMENT, "input 0 is not a summary-writer handle");
        return NULL;
    }
    sl_status *st = sl_status_new();
    sl_resource *r = st ? sl_resource_mgr_lookup_handle(rm, h, st) : NULL;
    if (!r) {
        sl_kernel_ctx_fail(ctx, st ? sl_status_code(st) : SL_RESOURCE_EXHAUSTED, "%s",
                           st ? sl_status_message(st) : "out of memory");
        sl_status_free(st);
        return NULL;
    }
    sl_status_free(st);
    writer_box *b = sl_resource_object(r);
    pthread_mutex_lock(&b->mu);
    if (need_open && !b->w) {
        pthread_mutex_unlock(&b->mu);
        sl_resource_unref(r);
        sl_kernel_ctx_fail(ctx, SL_FAILED_PRECONDITION, "summary writer '%s' has no file: run CreateSummaryFileWriter first",
                           h->name);
        return NULL;
    }
    return r;
}

static void unlock_box(sl_resource *r)
{
    writer_box *b = sl_resource_object(r);
    pthread_mutex_unlock(&b->mu);
    sl_resource_unref(r);
}

static void create_file_writer_compute(sl_kernel_ctx *ctx)
{
    sl_resource *r = lock_box(ctx, false);
    if (!r)
        return;
    writer_box *b = sl_resource_object(r);
    char *logdir = tstring_dup(sl_tensor_data(sl_kernel_ctx_input(ctx, 1)));
    char *suffix = tstring_dup(sl_tensor_data(sl_kernel_ctx_input(ctx, 4)));
    sl_status *st = sl_status_new();
    if (!logdir || !suffix || !st) {
        sl_kernel_ctx_fail(ctx, SL_RESOURCE_EXHAUSTED, "out of memory");
    } else if (!b->w || strcmp(b->logdir, logdir)) {
        sl_summary_writer_close(b->w, NULL);
        b->w = NULL;
        sl_summary_writer_options o = SL_SUMMARY_WRITER_OPTIONS_INIT;
        int32_t mq = *(const int32_t *)sl_tensor_data(sl_kernel_ctx_input(ctx, 2));
        int32_t fm = *(const int32_t *)sl_tensor_data(sl_kernel_ctx_input(ctx, 3));
        if (mq > 0)
            o.max_queue = mq;
        if (fm > 0)
            o.flush_millis = fm;
        o.filename_suffix = suffix[0] ? suffix : NULL;
        if (!(b->w = sl_summary_writer_open(logdir, &o, st))) {
            sl_kernel_ctx_fail(ctx, sl_status_code(st), "%s", sl_status_message(st));
        } else {
            sl_free(b->logdir);
            b->logdir = logdir;
            logdir = NULL;
        }
    }
    sl_free(logdir);
    sl_free(suffix);
    sl_status_free(st);
    unlock_box(r);
}

static int64_t step_of(sl_kernel_ctx *ctx)
{
    return *(const int64_t *)sl_tensor_data(sl_kernel_ctx_input(ctx, 1));
}

/* Queues one event {step, summary} on the box's writer. */
static void write_summary_event(sl_kernel_ctx *ctx, writer_box *b, int64_t step, Tensorflow__Summary *sum)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    Tensorflow__Event ev = TENSORFLOW__EVENT__INIT;
    ev.wall_time = (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
    ev.step = step;
    ev.what_case = TENSORFLOW__EVENT__WHAT_SUMMARY;
    ev.summary = sum;
    size_t n = tensorflow__event__get_packed_size(&ev);
    uint8_t *buf = sl_malloc(n + 1);
    sl_status *st = sl_status_new();
    if (!buf || !st) {
        sl_kernel_ctx_fail(ctx, SL_RESOURCE_EXHAUSTED, "out of memory");
    } else {
        tensorflow__event__pack(&ev, buf);
        if (sl_summary_writer_add_event(b->w, buf, n, st) != SL_OK)
            sl_kernel_ctx_fail(ctx, sl_status_code(st), "%s", sl_status_message(st));
    }
    sl_free(buf);
    sl_status_free(st);
}

static void write_summary_compute(sl_kernel_ctx *ctx)
{
    sl_resource *r = lock_box(ctx, true);
    if (!r)
        return;
    writer_box *b = sl_resource_object(r);
    const sl_tstring *tag = sl_tensor_data(sl_kernel_ctx_input(ctx, 3));
    const sl_tstring *mds = sl_tensor_data(sl_kernel_ctx_input(ctx, 4));
    Tensorflow__SummaryMetadata *m = NULL;
    sl_status *st = sl_status_new();
    Tensorflow__TensorProto *tp = st ? sl__tensor_to_proto(sl_kernel_ctx_input(ctx, 2), st) : NULL;
    if (mds->size > 0 && !(m = tensorflow__summary_metadata__unpack(NULL, mds->size, (const uint8_t *)mds->data))) {
        sl_kernel_ctx_fail(ctx, SL_INVALID_ARGUMENT, "summary_metadata is not a serialized SummaryMetadata");
    } else if (!tp) {
        sl_kernel_ctx_fail(ctx, SL_RESOURCE_EXHAUSTED, "out of memory");
    } else {
        Tensorflow__Summary__Value v = TENSORFLOW__SUMMARY__VALUE__INIT, *pv = &v;
        v.tag = tag->data;
        v.value_case = TENSORFLOW__SUMMARY__VALUE__VALUE_TENSOR;
        v.tensor = tp;
        v.metadata = m;
        Tensorflow__Summary sum = TENSORFLOW__SUMMARY__INIT;
        sum.n_value = 1;
        sum.value = &pv;
        write_summary_event(ctx, b, step_of(ctx), &sum);
    }
    if (tp)
        protobuf_c_message_free_unpacked(&tp->base, NULL);
    if (m)
        tensorflow__summary_metadata__free_unpacked(m, NULL);
    sl_status_free(st);
    unlock_box(r);
}

static void write_scalar_compute(sl_kernel_ctx *ctx)
{
    sl_resource *r = lock_box(ctx, true);
    if (!r)
        return;
    writer_box *b = sl_resource_object(r);
    const sl_tstring *tag = sl_tensor_data(sl_kernel_ctx_input(ctx, 2));
    const sl_tensor *v = sl_kernel_ctx_input(ctx, 3);
    sl_status *st = sl_status_new();
    if (sl_tensor_num_elements(v) != 1)
        sl_kernel_ctx_fail(ctx, SL_INVALID_ARGUMENT, "value must be a scalar");
    else if (!st || sl_summary_writer_add_scalar(b->w, tag->data, (float)real_at(v, 0), step_of(ctx), 0, st) != SL_OK)
        sl_kernel_ctx_fail(ctx, st ? sl_status_code(st) : SL_RESOURCE_EXHAUSTED, "%s",
                           st ? sl_status_message(st) : "out of memory");
    sl_status_free(st);
    unlock_box(r);
}

static void write_histogram_compute(sl_kernel_ctx *ctx)
{
    sl_resource *r = lock_box(ctx, true);
    if (!r)
        return;
    writer_box *b = sl_resource_object(r);
    const sl_tstring *tag = sl_tensor_data(sl_kernel_ctx_input(ctx, 2));
    const sl_tensor *v = sl_kernel_ctx_input(ctx, 3);
    int64_t n = sl_tensor_num_elements(v);
    double *d = sl_malloc(sizeof(double) * (size_t)n + 1);
    sl_status *st = sl_status_new();
    if (!d || !st) {
        sl_kernel_ctx_fail(ctx, SL_RESOURCE_EXHAUSTED, "out of memory");
    } else {
        for (int64_t i = 0; i < n; i++)
            d[i] = real_at(v, i);
        if (sl_summary_writer_add_histogram(b->w, tag->data, d, (size_t)n, 0, step_of(ctx), 0, st) != SL_OK)
            sl_kernel_ctx_fail(ctx, sl_status_code(st), "%s: %s", tag->data, sl_status_message(st));
    }
    sl_free(d);
    sl_status_free(st);
    unlock_box(r);
}

static void write_raw_proto_compute(sl_kernel_ctx *ctx)
{
    sl_resource *r = lock_box(ctx, true);
    if (!r)
        return;
    writer_box *b = sl_resource_object(r);
    const sl_tensor *t = sl_kernel_ctx_input(ctx, 2);
    const sl_tstring *s = sl_tensor_data(t);
    for (int64_t i = 0; i < sl_tensor_num_elements(t) && sl_kernel_ctx_ok(ctx); i++) {
        Tensorflow__Summary *sum = tensorflow__summary__unpack(NULL, s[i].size, (const uint8_t *)s[i].data);
        if (!sum) {
            sl_kernel_ctx_fail(ctx, SL_INVALID_ARGUMENT, "element %lld is not a serialized Summary", (long long)i);
            break;
        }
        write_summary_event(ctx, b, step_of(ctx), sum);
        tensorflow__summary__free_unpacked(sum, NULL);
    }
    unlock_box(r);
}

static void flush_writer_compute(sl_kernel_ctx *ctx)
{
    sl_resource *r = lock_box(ctx, false);
    if (!r)
        return;
    writer_box *b = sl_resource_object(r);
    sl_status *st = sl_status_new();
    if (b->w && sl_summary_writer_flush(b->w, st) != SL_OK)
        sl_kernel_ctx_fail(ctx, sl_status_code(st), "%s", sl_status_message(st));
    sl_status_free(st);
    unlock_box(r);
}

static void close_writer_compute(sl_kernel_ctx *ctx)
{
    sl_resource *r = lock_box(ctx, false);
    if (!r)
        return;
    writer_box *b = sl_resource_object(r);
    sl_status *st = sl_status_new();
    if (b->w && sl_summary_writer_close(b->w, st) != SL_OK)
        sl_kernel_ctx_fail(ctx, sl_status_code(st), "%s", sl_status_message(st));
    b->w = NULL;
    sl_free(b->logdir);
    b->logdir = NULL;
    sl_status_free(st);
    unlock_box(r);
}

static const sl_kernel_def summary_kernels[] = {
    {.op = "ScalarSummary", .device = SL_DEVICE_CPU, .compute = scalar_summary_compute},
    {.op = "HistogramSummary", .device = SL_DEVICE_CPU, .compute = histogram_summary_compute, .cost = 1},
    {.op = "ImageSummary", .device = SL_DEVICE_CPU, .compute = image_summary_compute, .cost = 1},
    {.op = "TensorSummaryV2", .device = SL_DEVICE_CPU, .compute = tensor_summary_v2_compute},
    {.op = "TensorSummary", .device = SL_DEVICE_CPU, .compute = tensor_summary_compute},
    {.op = "MergeSummary", .device = SL_DEVICE_CPU, .compute = merge_summary_compute},
    {.op = "SummaryWriter", .device = SL_DEVICE_CPU, .compute = summary_writer_compute},
    {.op = "CreateSummaryFileWriter", .device = SL_DEVICE_CPU, .compute = create_file_writer_compute},
    {.op = "WriteSummary", .device = SL_DEVICE_CPU, .compute = write_summary_compute},
    {.op = "WriteScalarSummary", .device = SL_DEVICE_CPU, .compute = write_scalar_compute},
    {.op = "WriteHistogramSummary", .device = SL_DEVICE_CPU, .compute = write_histogram_compute, .cost = 1},
    {.op = "WriteRawProtoSummary", .device = SL_DEVICE_CPU, .compute = write_raw_proto_compute},
    {.op = "FlushSummaryWriter", .device = SL_DEVICE_CPU, .compute = flush_writer_compute},
    {.op = "CloseSummaryWriter", .device = SL_DEVICE_CPU, .compute = close_writer_compute},
};

sl_code sl__io_register_summary_kernels(sl_status *status)
{
    for (size_t i = 0; i < sizeof(summary_kernels) / sizeof(summary_kernels[0]); i++)
        if (sl_kernel_register(&summary_kernels[i], status) != SL_OK)
            return sl_status_code(status);
    return SL_OK;
}
