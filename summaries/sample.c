/* From Summary.Value to sl_point: the kind of a value and its data in the
 * normalized form of series.h, whatever convention wrote it.  Shared by
 * the in-memory logdir and the SQLite store so both read files alike.
 *
 * Kinds follow TB: a legacy value's field decides (simple_value, histo,
 * image, audio); a tensor's plugin name decides, and a value without
 * metadata takes the kind its tag got from its first value (the older
 * Python writer put metadata on the first value only).  Conversions
 * follow TB's data_compat.py.  A value whose data does not fit its kind
 * (a "scalar" with a string tensor, say) is reported as
 * SL_INVALID_ARGUMENT so callers can skip it and count it; bytes that do
 * not parse are SL_DATA_LOSS.
 */
#include "config.h"

#include "sample-private.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "sluice/summaries/histogram.h"

const char *sl_kind_name(sl_kind kind)
{
    static const char *const names[SL_KIND_COUNT] = {
        "unknown", "scalar", "histogram", "image", "text",
        "graph", "meta_graph", "run_metadata", "audio", "tensor",
    };
    if ((unsigned)kind >= SL_KIND_COUNT)
        return "unknown";
    return names[kind];
}

static bool bytes_eq(sl_bytes b, const char *s)
{
    size_t n = strlen(s);
    return b.size == n && memcmp(b.data, s, n) == 0;
}

sl_kind sl__kind_of_plugin(sl_bytes plugin)
{
    if (bytes_eq(plugin, "scalars"))
        return SL_KIND_SCALAR;
    if (bytes_eq(plugin, "histograms"))
        return SL_KIND_HISTOGRAM;
    if (bytes_eq(plugin, "images"))
        return SL_KIND_IMAGE;
    if (bytes_eq(plugin, "text"))
        return SL_KIND_TEXT;
    if (bytes_eq(plugin, "audio"))
        return SL_KIND_AUDIO;
    return SL_KIND_TENSOR;
}

sl_kind sl__value_kind(const sl_summary_value *v, sl_kind tag_kind)
{
    switch (v->value_case) {
    case SL_VALUE_SIMPLE:
        return SL_KIND_SCALAR;
    case SL_VALUE_HISTO:
        return SL_KIND_HISTOGRAM;
    case SL_VALUE_IMAGE:
        return SL_KIND_IMAGE;
    case SL_VALUE_AUDIO:
        return SL_KIND_AUDIO;
    case SL_VALUE_TENSOR:
        if (v->plugin_name.size)
            return sl__kind_of_plugin(v->plugin_name);
        return tag_kind != SL_KIND_UNKNOWN ? tag_kind : SL_KIND_TENSOR;
    default:
        return SL_KIND_UNKNOWN;
    }
}

void sl__sampler_release(sl__sampler *sm)
{
    sl__buf_release(&sm->rows);
    sl__buf_release(&sm->blobs);
}

static sl_code set_blobs(sl__sampler *sm, const sl_bytes *b, int64_t n, sl_status *st)
{
    if (n > INT32_MAX)
        return sl_status_set(st, SL_INVALID_ARGUMENT, "too many elements (%lld)", (long long)n);
    sm->blobs.len = 0;
    sl_code c = sl__buf_append(&sm->blobs, b, (size_t)n * sizeof(*b), st);
    if (c != SL_OK)
        return c;
    sm->payload.blobs = (const sl_bytes *)(void *)sm->blobs.data;
    sm->payload.n_blobs = (int32_t)n;
    return SL_OK;
}

/* Reads a string tensor's elements into the blob scratch. */
static sl_code tensor_strings(sl__sampler *sm, const sl_tensor_view *tv, sl_status *st)
{
    int64_t count;
    sl_code c = sl_tensor_view_strings(tv, NULL, 0, &count, st);
    if (c != SL_OK)
        return c;
    sm->blobs.len = 0;
    if (count > INT32_MAX)
        return sl_status_set(st, SL_INVALID_ARGUMENT, "too many strings (%lld)", (long long)count);
    c = sl__buf_reserve(&sm->blobs, (size_t)count * sizeof(sl_bytes) + 1, st);
    if (c != SL_OK)
        return c;
    sl_bytes *out = (sl_bytes *)(void *)sm->blobs.data;
    c = sl_tensor_view_strings(tv, out, count, &count, st);
    if (c != SL_OK)
        return c;
    sm->payload.blobs = out;
    sm->payload.n_blobs = (int32_t)count;
    return SL_OK;
}

static int32_t parse_dim(sl_bytes b)
{
    int64_t v = 0;
    if (b.size == 0 || b.size > 10)
        return 0;
    for (size_t i = 0; i < b.size; i++) {
        if (b.data[i] < '0' || b.data[i] > '9')
            return 0;
        v = v * 10 + (b.data[i] - '0');
    }
    return v > INT32_MAX ? 0 : (int32_t)v;
}

/* HistogramProto -> [k, 3] rows (data_compat). */
static sl_code decode_histo(sl__sampler *sm, sl_bytes body, sl_status *st)
{
    sl__wire w = {body.data, body.data + body.size};
    double mn = 0, mx = 0;
    sl__buf limits = SL__BUF_INIT, counts = SL__BUF_INIT;
    sl_code c = SL_OK;
    while (w.p < w.end) {
        uint32_t f;
        int wt;
        uint64_t u;
        if (!sl__wire_key(&w, &f, &wt))
            goto bad;
        if ((f == 1 || f == 2) && wt == SL__WIRE_FIXED64) {
            if (!sl__wire_fixed64(&w, &u))
                goto bad;
            double d;
            memcpy(&d, &u, sizeof d);
            if (f == 1)
                mn = d;
            else
                mx = d;
        } else if ((f == 6 || f == 7) && (wt == SL__WIRE_LEN || wt == SL__WIRE_FIXED64)) {
            sl__buf *dst = f == 6 ? &limits : &counts;
            sl_bytes b;
            if (wt == SL__WIRE_LEN) {
                if (!sl__wire_len(&w, &b) || b.size % 8)
                    goto bad;
            } else {
                b.data = w.p;
                b.size = 8;
                if (!sl__wire_fixed64(&w, &u))
                    goto bad;
            }
            if ((c = sl__buf_reserve(dst, b.size, st)) != SL_OK)
                goto out;
            for (size_t i = 0; i < b.size; i += 8) {
                double d = sl__load_double(b.data + i);
                memcpy(dst->data + dst->len, &d, 8);
                dst->len += 8;
            }
        } else if (!sl__wire_skip(&w, wt)) {
            goto bad;
        }
    }
    size_t n = limits.len / 8;
    if (counts.len / 8 != n) {
        c = sl_status_set(st, SL_INVALID_ARGUMENT,
                          "histogram with %zu bucket limits and %zu buckets", n, counts.len / 8);
        goto out;
    }
    sm->rows.len = 0;
    if ((c = sl__buf_reserve(&sm->rows, n * 3 * sizeof(double) + 8, st)) != SL_OK)
        goto out;
    double *rows = (double *)(void *)sm->rows.data;
    size_t k = n ? sl_histogram_tf1_to_rows(mn, mx, (const double *)(void *)limits.data,
                                            (const double *)(void *)counts.data, n, rows)
                 : 0;
    sm->payload.buckets = rows;
    sm->payload.n_buckets = (int64_t)k;
    goto out;
bad:
    c = sl_status_set(st, SL_DATA_LOSS, "malformed histogram at byte %td", w.p - body.data);
out:
    sl__buf_release(&limits);
    sl__buf_release(&counts);
    return c;
}

/* Summary.Image -> one blob with its size. */
static sl_code decode_image(sl__sampler *sm, sl_bytes body, sl_status *st)
{
    sl__wire w = {body.data, body.data + body.size};
    sl_bytes img = {0};
    uint64_t width = 0, height = 0;
    while (w.p < w.end) {
        uint32_t f;
        int wt;
        uint64_t u;
        if (!sl__wire_key(&w, &f, &wt))
            goto bad;
        if ((f == 1 || f == 2) && wt == SL__WIRE_VARINT) {
            if (!sl__wire_varint(&w, &u))
                goto bad;
            if (f == 1)
                height = u;
            else
                width = u;
        } else if (f == 4 && wt == SL__WIRE_LEN) {
            if (!sl__wire_len(&w, &img))
                goto bad;
        } else if (!sl__wire_skip(&w, wt)) {
            goto bad;
        }
    }
    sm->payload.width = width > INT32_MAX ? 0 : (int32_t)width;
    sm->payload.height = height > INT32_MAX ? 0 : (int32_t)height;
    return set_blobs(sm, &img, 1, st);
bad:
    return sl_status_set(st, SL_DATA_LOSS, "malformed image at byte %td", w.p - body.data);
}

/* Summary.Audio -> one blob. */
static sl_code decode_audio(sl__sampler *sm, sl_bytes body, sl_status *st)
{
    sl__wire w = {body.data, body.data + body.size};
    sl_bytes clip = {0};
    while (w.p < w.end) {
        uint32_t f;
        int wt;
        if (!sl__wire_key(&w, &f, &wt))
            goto bad;
        if (f == 4 && wt == SL__WIRE_LEN) {
            if (!sl__wire_len(&w, &clip))
                goto bad;
        } else if (!sl__wire_skip(&w, wt)) {
            goto bad;
        }
    }
    return set_blobs(sm, &clip, 1, st);
bad:
    return sl_status_set(st, SL_DATA_LOSS, "malformed audio at byte %td", w.p - body.data);
}

sl_code sl__sampler_decode(sl__sampler *sm, const sl_summary_value *v, sl_kind kind, sl_point *pt,
                           sl_status *st)
{
    memset(&sm->payload, 0, sizeof sm->payload);
    pt->value = NAN;
    pt->payload = &sm->payload;
    sl_tensor_view tv;
    sl_code c;
    if (v->value_case == SL_VALUE_TENSOR) {
        if ((c = sl__tensor_view_parse(v->body, &tv, st)) != SL_OK)
            return c == SL_UNIMPLEMENTED ? SL_INVALID_ARGUMENT : c;
    }
    switch (kind) {
    case SL_KIND_SCALAR:
        pt->payload = NULL;
        if (v->value_case == SL_VALUE_SIMPLE) {
            pt->value = v->simple_value;
            return SL_OK;
        }
        if (v->value_case != SL_VALUE_TENSOR)
            break;
        if (tv.num_elements != 1)
            return sl_status_set(st, SL_INVALID_ARGUMENT, "scalar of %lld elements",
                                 (long long)tv.num_elements);
        return sl__tensor_view_to_doubles(&tv, &pt->value, 1, st);
    case SL_KIND_HISTOGRAM:
        if (v->value_case == SL_VALUE_HISTO)
            return decode_histo(sm, v->body, st);
        if (v->value_case != SL_VALUE_TENSOR)
            break;
        if (tv.rank != 2 || tv.dims[1] != 3 || tv.dims[0] < 0 || tv.dims[0] > INT32_MAX)
            return sl_status_set(st, SL_INVALID_ARGUMENT, "histogram tensor not of shape [k, 3]");
        sm->rows.len = 0;
        if ((c = sl__buf_reserve(&sm->rows, (size_t)tv.dims[0] * 24 + 8, st)) != SL_OK)
            return c;
        sm->payload.buckets = (const double *)(void *)sm->rows.data;
        sm->payload.n_buckets = tv.dims[0];
        return sl__tensor_view_to_doubles(&tv, (double *)(void *)sm->rows.data, tv.dims[0] * 3,
                                         st);
    case SL_KIND_IMAGE:
        if (v->value_case == SL_VALUE_IMAGE)
            return decode_image(sm, v->body, st);
        if (v->value_case != SL_VALUE_TENSOR)
            break;
        if ((c = tensor_strings(sm, &tv, st)) != SL_OK)
            return c;
        if (sm->payload.n_blobs < 2)
            return sl_status_set(st, SL_INVALID_ARGUMENT, "image tensor of %d elements",
                                 (int)sm->payload.n_blobs);
        sm->payload.width = parse_dim(sm->payload.blobs[0]);
        sm->payload.height = parse_dim(sm->payload.blobs[1]);
        sm->payload.blobs += 2;
        sm->payload.n_blobs -= 2;
        return SL_OK;
    case SL_KIND_AUDIO:
        if (v->value_case == SL_VALUE_AUDIO)
            return decode_audio(sm, v->body, st);
        if (v->value_case != SL_VALUE_TENSOR)
            break;
        return tensor_strings(sm, &tv, st);
    case SL_KIND_TEXT:
        if (v->value_case != SL_VALUE_TENSOR)
            break;
        return tensor_strings(sm, &tv, st);
    case SL_KIND_TENSOR:
        if (v->value_case != SL_VALUE_TENSOR)
            break;
        return set_blobs(sm, &v->body, 1, st);
    default:
        break;
    }
    return sl_status_set(st, SL_INVALID_ARGUMENT, "value does not hold a %s", sl_kind_name(kind));
}

sl_kind sl__event_blob(sl__sampler *sm, const sl_event *ev, sl_bytes *tag, sl_point *pt,
                       sl_status *st)
{
    memset(&sm->payload, 0, sizeof sm->payload);
    pt->step = ev->step;
    pt->wall_time = ev->wall_time;
    pt->value = NAN;
    pt->payload = &sm->payload;
    sl_bytes blob = ev->body;
    sl_kind kind;
    switch (ev->what) {
    case SL_EVENT_GRAPH_DEF:
        tag->data = (const uint8_t *)SL_RUN_GRAPH_TAG;
        tag->size = strlen(SL_RUN_GRAPH_TAG);
        kind = SL_KIND_GRAPH;
        break;
    case SL_EVENT_META_GRAPH_DEF:
        tag->data = (const uint8_t *)SL_RUN_META_GRAPH_TAG;
        tag->size = strlen(SL_RUN_META_GRAPH_TAG);
        kind = SL_KIND_META_GRAPH;
        break;
    case SL_EVENT_TAGGED_RUN_METADATA:
        if (sl_event_tagged_run_metadata(ev->body, tag, &blob, st) != SL_OK)
            return SL_KIND_UNKNOWN;
        kind = SL_KIND_RUN_METADATA;
        break;
    default:
        sl_status_clear(st);
        return SL_KIND_UNKNOWN;
    }
    if (set_blobs(sm, &blob, 1, st) != SL_OK)
        return SL_KIND_UNKNOWN;
    sl_status_clear(st);
    return kind;
}
