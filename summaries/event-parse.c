/* Zero-copy decoding of Event, Summary.Value and TensorProto (FORMATS.md
 * §3; the contract is in sluice/summaries/event.h).
 *
 * Each decoder walks the fields of one message with the bounds-checked
 * cursor of summaries-private.h.  A known field number with an unexpected
 * wire type is skipped as an unknown field, the way protobuf's C++ parser
 * does, so a writer's mistake in one field does not hide the rest.  Errors
 * name the message and the byte offset inside it where decoding stopped.
 */
#include "config.h"

#include "sluice/summaries/event.h"

#include <math.h>

#include "summaries-private.h"

static sl_code malformed(sl_status *st, const char *what, const sl__wire *w, const uint8_t *start)
{
    return sl_status_set(st, SL_DATA_LOSS, "malformed %s at byte %td", what, w->p - start);
}

sl_code sl__event_parse(const void *data, size_t size, sl_event *ev, sl_status *st)
{
    const uint8_t *start = data;
    sl__wire w = {start, start + size};
    sl_event e; /* field by field: a memset here compiles to a slow `rep stos` */
    e.wall_time = 0;
    e.step = 0;
    e.what = SL_EVENT_NONE;
    e.body.data = e.writer.data = NULL;
    e.body.size = e.writer.size = 0;
    e.offset = 0;
    e.payload.data = start;
    e.payload.size = size;
    while (w.p < w.end) {
        uint32_t field;
        int wt;
        if (!sl__wire_key(&w, &field, &wt))
            return malformed(st, "event", &w, start);
        uint64_t u;
        sl_bytes b;
        if (field == 1 && wt == SL__WIRE_FIXED64) {
            if (!sl__wire_fixed64(&w, &u))
                return malformed(st, "event", &w, start);
            memcpy(&e.wall_time, &u, sizeof u);
        } else if (field == 2 && wt == SL__WIRE_VARINT) {
            if (!sl__wire_varint(&w, &u))
                return malformed(st, "event", &w, start);
            e.step = (int64_t)u;
        } else if (field >= 3 && field <= 9 && wt == SL__WIRE_LEN) {
            if (!sl__wire_len(&w, &b))
                return malformed(st, "event", &w, start);
            e.what = (sl_event_what)field;
            e.body = b;
        } else if (field == 10 && wt == SL__WIRE_LEN) {
            if (!sl__wire_len(&w, &b))
                return malformed(st, "event", &w, start);
            sl__wire m = {b.data, b.data + b.size};
            while (m.p < m.end) {
                uint32_t f2;
                int wt2;
                sl_bytes s;
                if (!sl__wire_key(&m, &f2, &wt2))
                    return malformed(st, "event source_metadata", &m, b.data);
                if (f2 == 1 && wt2 == SL__WIRE_LEN) {
                    if (!sl__wire_len(&m, &s))
                        return malformed(st, "event source_metadata", &m, b.data);
                    e.writer = s;
                } else if (!sl__wire_skip(&m, wt2)) {
                    return malformed(st, "event source_metadata", &m, b.data);
                }
            }
        } else if (!sl__wire_skip(&w, wt)) {
            return malformed(st, "event", &w, start);
        }
    }
    *ev = e;
    return SL_OK;
}

sl_code sl_event_parse(const void *data, size_t size, sl_event *ev, sl_status *st)
{
    sl_code c = sl__event_parse(data, size, ev, st);
    if (c == SL_OK)
        sl_status_clear(st);
    return c;
}

sl_code sl_event_tagged_run_metadata(sl_bytes body, sl_bytes *tag, sl_bytes *run_metadata,
                                     sl_status *st)
{
    sl__wire w = {body.data, body.data + body.size};
    sl_bytes t = {0}, rm = {0};
    while (w.p < w.end) {
        uint32_t field;
        int wt;
        sl_bytes b;
        if (!sl__wire_key(&w, &field, &wt))
            return malformed(st, "tagged run metadata", &w, body.data);
        if ((field == 1 || field == 2) && wt == SL__WIRE_LEN) {
            if (!sl__wire_len(&w, &b))
                return malformed(st, "tagged run metadata", &w, body.data);
            if (field == 1)
                t = b;
            else
                rm = b;
        } else if (!sl__wire_skip(&w, wt)) {
            return malformed(st, "tagged run metadata", &w, body.data);
        }
    }
    *tag = t;
    *run_metadata = rm;
    sl_status_clear(st);
    return SL_OK;
}

void sl_summary_iter_init(sl_summary_iter *it, sl_bytes summary)
{
    it->p = it->start = summary.data;
    it->end = summary.data + summary.size;
}

/* Reads SummaryMetadata fields into v (fields present overwrite). */
static bool parse_metadata(sl_bytes b, sl_summary_value *v)
{
    sl__wire w = {b.data, b.data + b.size};
    while (w.p < w.end) {
        uint32_t field;
        int wt;
        sl_bytes s;
        uint64_t u;
        if (!sl__wire_key(&w, &field, &wt))
            return false;
        if (field == 1 && wt == SL__WIRE_LEN) {
            if (!sl__wire_len(&w, &s))
                return false;
            sl__wire p = {s.data, s.data + s.size};
            while (p.p < p.end) {
                uint32_t f2;
                int wt2;
                sl_bytes s2;
                if (!sl__wire_key(&p, &f2, &wt2))
                    return false;
                if ((f2 == 1 || f2 == 2) && wt2 == SL__WIRE_LEN) {
                    if (!sl__wire_len(&p, &s2))
                        return false;
                    if (f2 == 1)
                        v->plugin_name = s2;
                    else
                        v->plugin_content = s2;
                } else if (!sl__wire_skip(&p, wt2)) {
                    return false;
                }
            }
        } else if (field == 2 && wt == SL__WIRE_LEN) {
            if (!sl__wire_len(&w, &s))
                return false;
            v->display_name = s;
        } else if (field == 4 && wt == SL__WIRE_VARINT) {
            if (!sl__wire_varint(&w, &u))
                return false;
            v->data_class = (int)u;
        } else if (!sl__wire_skip(&w, wt)) {
            return false;
        }
    }
    return true;
}

sl_code sl__summary_iter_next(sl_summary_iter *it, sl_summary_value *out, sl_status *st)
{
    sl__wire w = {it->p, it->end};
    for (;;) {
        if (w.p >= w.end) {
            it->p = w.p;
            return SL_OUT_OF_RANGE;
        }
        uint32_t field;
        int wt;
        if (!sl__wire_key(&w, &field, &wt))
            return malformed(st, "summary", &w, it->start);
        if (field != 1 || wt != SL__WIRE_LEN) {
            if (!sl__wire_skip(&w, wt))
                return malformed(st, "summary", &w, it->start);
            continue;
        }
        sl_bytes vb;
        if (!sl__wire_len(&w, &vb))
            return malformed(st, "summary", &w, it->start);
        sl_summary_value v;
        /* field by field: a memset here compiles to a slow `rep stos` */
        v.tag.data = v.node_name.data = v.body.data = NULL;
        v.plugin_name.data = v.plugin_content.data = v.display_name.data = NULL;
        v.tag.size = v.node_name.size = v.body.size = 0;
        v.plugin_name.size = v.plugin_content.size = v.display_name.size = 0;
        v.value_case = SL_VALUE_NONE;
        v.simple_value = 0;
        v.has_metadata = false;
        v.data_class = 0;
        sl__wire m = {vb.data, vb.data + vb.size};
        while (m.p < m.end) {
            uint32_t f;
            int t;
            sl_bytes b;
            uint32_t u32;
            if (!sl__wire_key(&m, &f, &t))
                goto bad_value;
            if (f == 2 && t == SL__WIRE_FIXED32) {
                if (!sl__wire_fixed32(&m, &u32))
                    goto bad_value;
                memcpy(&v.simple_value, &u32, sizeof u32);
                v.value_case = SL_VALUE_SIMPLE;
                v.body.data = NULL;
                v.body.size = 0;
            } else if (t == SL__WIRE_LEN && (f == 1 || f == 7 || f == 9 || (f >= 3 && f <= 8))) {
                if (!sl__wire_len(&m, &b))
                    goto bad_value;
                if (f == 1)
                    v.tag = b;
                else if (f == 7)
                    v.node_name = b;
                else if (f == 9) {
                    v.has_metadata = true;
                    if (!parse_metadata(b, &v)) {
                        m.p = b.data; /* report where the metadata starts */
                        goto bad_value;
                    }
                } else {
                    v.value_case = (sl_value_case)f;
                    v.body = b;
                }
            } else if (!sl__wire_skip(&m, t)) {
                goto bad_value;
            }
        }
        it->p = w.p;
        *out = v;
        return SL_OK;
    bad_value:
        return sl_status_set(st, SL_DATA_LOSS, "malformed summary value at byte %td",
                             m.p - it->start);
    }
}

sl_code sl_summary_iter_next(sl_summary_iter *it, sl_summary_value *v, sl_status *st)
{
    sl_code c = sl__summary_iter_next(it, v, st);
    if (c == SL_OK)
        sl_status_clear(st);
    return c;
}

sl_bytes sl_summary_value_tag(const sl_summary_value *v)
{
    return v->tag.size ? v->tag : v->node_name;
}

/* ---- TensorProto --------------------------------------------------------- */

sl_code sl__tensor_view_parse(sl_bytes tensor, sl_tensor_view *out, sl_status *st)
{
    sl__wire w = {tensor.data, tensor.data + tensor.size};
    sl_tensor_view tv; /* dims past rank stay unset; no memset (slow `rep stos`) */
    tv.dtype = 0;
    tv.rank = 0;
    tv.content.data = NULL;
    tv.content.size = 0;
    tv.message = tensor;
    bool unknown_rank = false;
    while (w.p < w.end) {
        uint32_t field;
        int wt;
        uint64_t u;
        sl_bytes b;
        if (!sl__wire_key(&w, &field, &wt))
            return malformed(st, "tensor", &w, tensor.data);
        if (field == 1 && wt == SL__WIRE_VARINT) {
            if (!sl__wire_varint(&w, &u))
                return malformed(st, "tensor", &w, tensor.data);
            tv.dtype = (int)u;
        } else if (field == 2 && wt == SL__WIRE_LEN) {
            if (!sl__wire_len(&w, &b))
                return malformed(st, "tensor", &w, tensor.data);
            tv.rank = 0; /* a repeated shape field replaces (merges) the dims */
            sl__wire s = {b.data, b.data + b.size};
            while (s.p < s.end) {
                uint32_t f2;
                int wt2;
                sl_bytes d;
                if (!sl__wire_key(&s, &f2, &wt2))
                    return malformed(st, "tensor shape", &s, tensor.data);
                if (f2 == 2 && wt2 == SL__WIRE_LEN) {
                    if (!sl__wire_len(&s, &d))
                        return malformed(st, "tensor shape", &s, tensor.data);
                    int64_t size = 0;
                    sl__wire dw = {d.data, d.data + d.size};
                    while (dw.p < dw.end) {
                        uint32_t f3;
                        int wt3;
                        if (!sl__wire_key(&dw, &f3, &wt3))
                            return malformed(st, "tensor shape", &dw, tensor.data);
                        if (f3 == 1 && wt3 == SL__WIRE_VARINT) {
                            if (!sl__wire_varint(&dw, &u))
                                return malformed(st, "tensor shape", &dw, tensor.data);
                            size = (int64_t)u;
                        } else if (!sl__wire_skip(&dw, wt3)) {
                            return malformed(st, "tensor shape", &dw, tensor.data);
                        }
                    }
                    if (tv.rank >= SL_TENSOR_VIEW_MAX_DIMS)
                        return sl_status_set(st, SL_UNIMPLEMENTED,
                                             "tensor of rank above %d not supported",
                                             SL_TENSOR_VIEW_MAX_DIMS);
                    tv.dims[tv.rank++] = size;
                } else if (f2 == 3 && wt2 == SL__WIRE_VARINT) {
                    if (!sl__wire_varint(&s, &u))
                        return malformed(st, "tensor shape", &s, tensor.data);
                    unknown_rank = u != 0;
                } else if (!sl__wire_skip(&s, wt2)) {
                    return malformed(st, "tensor shape", &s, tensor.data);
                }
            }
        } else if (field == 4 && wt == SL__WIRE_LEN) {
            if (!sl__wire_len(&w, &tv.content))
                return malformed(st, "tensor", &w, tensor.data);
        } else if (!sl__wire_skip(&w, wt)) {
            return malformed(st, "tensor", &w, tensor.data);
        }
    }
    tv.num_elements = 1;
    for (int i = 0; i < tv.rank; i++) {
        if (tv.dims[i] < 0 || unknown_rank) {
            tv.num_elements = -1;
            break;
        }
        if (tv.dims[i] > 0 && tv.num_elements > INT64_MAX / tv.dims[i])
            return sl_status_set(st, SL_DATA_LOSS, "tensor shape overflows");
        tv.num_elements *= tv.dims[i];
    }
    if (unknown_rank)
        tv.num_elements = -1;
    out->dtype = tv.dtype;
    out->rank = tv.rank;
    for (int i = 0; i < tv.rank; i++)
        out->dims[i] = tv.dims[i];
    out->num_elements = tv.num_elements;
    out->content = tv.content;
    out->message = tv.message;
    return SL_OK;
}

sl_code sl_tensor_view_parse(sl_bytes tensor, sl_tensor_view *tv, sl_status *st)
{
    sl_code c = sl__tensor_view_parse(tensor, tv, st);
    if (c == SL_OK)
        sl_status_clear(st);
    return c;
}

static double half_to_double(uint16_t h)
{
    int sign = h >> 15, exp = (h >> 10) & 0x1f, mant = h & 0x3ff;
    double v;
    if (exp == 0)
        v = ldexp(mant, -24);
    else if (exp == 31)
        v = mant ? NAN : INFINITY;
    else
        v = ldexp(mant | 0x400, exp - 25);
    return sign ? -v : v;
}

static double bfloat16_to_double(uint16_t b)
{
    uint32_t u = (uint32_t)b << 16;
    float f;
    memcpy(&f, &u, sizeof f);
    return f;
}

/* Element size in tensor_content, 0 for non-numeric dtypes. */
static size_t content_elem_size(int dtype)
{
    switch (dtype) {
    case 1: case 3: case 22: return 4;   /* float, int32, uint32 */
    case 2: case 9: case 23: return 8;   /* double, int64, uint64 */
    case 4: case 6: case 10: return 1;   /* uint8, int8, bool */
    case 5: case 17: case 14: case 19: return 2; /* int16, uint16, bfloat16, half */
    default: return 0;
    }
}

static double content_elem(int dtype, const uint8_t *p)
{
    switch (dtype) {
    case 1: return sl__load_float(p);
    case 2: return sl__load_double(p);
    case 3: return (int32_t)sl__load_le32(p);
    case 22: return sl__load_le32(p);
    case 9: return (double)(int64_t)sl__load_le64(p);
    case 23: return (double)sl__load_le64(p);
    case 4: return p[0];
    case 6: return (int8_t)p[0];
    case 10: return p[0] != 0;
    case 5: return (int16_t)(p[0] | p[1] << 8);
    case 17: return (uint16_t)(p[0] | p[1] << 8);
    case 14: return bfloat16_to_double((uint16_t)(p[0] | p[1] << 8));
    case 19: return half_to_double((uint16_t)(p[0] | p[1] << 8));
    default: return 0;
    }
}

/* The *_val field of a dtype and the wire type of one element. */
static bool val_field(int dtype, uint32_t *field, int *elem_wt)
{
    switch (dtype) {
    case 1: *field = 5; *elem_wt = SL__WIRE_FIXED32; return true;
    case 2: *field = 6; *elem_wt = SL__WIRE_FIXED64; return true;
    case 3: case 4: case 5: case 6: case 17:
        *field = 7; *elem_wt = SL__WIRE_VARINT; return true;
    case 9: *field = 10; *elem_wt = SL__WIRE_VARINT; return true;
    case 10: *field = 11; *elem_wt = SL__WIRE_VARINT; return true;
    case 14: case 19: *field = 13; *elem_wt = SL__WIRE_VARINT; return true;
    case 22: *field = 16; *elem_wt = SL__WIRE_VARINT; return true;
    case 23: *field = 17; *elem_wt = SL__WIRE_VARINT; return true;
    default: return false;
    }
}

static bool read_val(sl__wire *w, int dtype, int elem_wt, double *out)
{
    uint64_t u;
    uint32_t u32;
    if (elem_wt == SL__WIRE_FIXED32) {
        if (!sl__wire_fixed32(w, &u32))
            return false;
        float f;
        memcpy(&f, &u32, sizeof f);
        *out = f;
        return true;
    }
    if (elem_wt == SL__WIRE_FIXED64) {
        if (!sl__wire_fixed64(w, &u))
            return false;
        memcpy(out, &u, sizeof *out);
        return true;
    }
    if (!sl__wire_varint(w, &u))
        return false;
    switch (dtype) {
    case 3: case 5: case 6: *out = (int32_t)u; break;
    case 4: case 17: case 22: *out = (uint32_t)u; break;
    case 9: *out = (double)(int64_t)u; break;
    case 23: *out = (double)u; break;
    case 10: *out = u != 0; break;
    case 14: *out = bfloat16_to_double((uint16_t)u); break;
    case 19: *out = half_to_double((uint16_t)u); break;
    default: *out = (double)u; break;
    }
    return true;
}

sl_code sl__tensor_view_to_doubles(const sl_tensor_view *tv, double *out, int64_t n,
                                   sl_status *st)
{
    if (n < 0 || (tv->num_elements >= 0 && n > tv->num_elements))
        return sl_status_set(st, SL_INVALID_ARGUMENT, "asked for %lld elements of a tensor of %lld",
                             (long long)n, (long long)tv->num_elements);
    size_t es = content_elem_size(tv->dtype);
    uint32_t vfield;
    int elem_wt;
    if (es == 0 || !val_field(tv->dtype, &vfield, &elem_wt))
        return sl_status_set(st, SL_INVALID_ARGUMENT, "tensor of dtype %d is not numeric",
                             tv->dtype);
    if (tv->content.size) {
        if (tv->content.size / es < (uint64_t)n)
            return sl_status_set(st, SL_DATA_LOSS,
                                 "tensor_content holds %zu bytes, too few for %lld elements",
                                 tv->content.size, (long long)n);
        if (tv->dtype == 1) { /* the common case: float32 scalars */
            for (int64_t i = 0; i < n; i++)
                out[i] = sl__load_float(tv->content.data + 4 * i);
        } else if (tv->dtype == 2) { /* float64 histograms */
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
            memcpy(out, tv->content.data, (size_t)n * sizeof(double));
#else
            for (int64_t i = 0; i < n; i++)
                out[i] = sl__load_double(tv->content.data + 8 * i);
#endif
        } else {
            for (int64_t i = 0; i < n; i++)
                out[i] = content_elem(tv->dtype, tv->content.data + (size_t)i * es);
        }
        return SL_OK;
    }
    /* *_val: packed or not, possibly split over several occurrences */
    sl__wire w = {tv->message.data, tv->message.data + tv->message.size};
    int64_t got = 0;
    while (w.p < w.end) {
        uint32_t field;
        int wt;
        if (!sl__wire_key(&w, &field, &wt))
            return malformed(st, "tensor", &w, tv->message.data);
        if (field == vfield && wt == SL__WIRE_LEN) {
            sl_bytes b;
            if (!sl__wire_len(&w, &b))
                return malformed(st, "tensor", &w, tv->message.data);
            sl__wire p = {b.data, b.data + b.size};
            while (p.p < p.end) {
                double d;
                if (!read_val(&p, tv->dtype, elem_wt, &d))
                    return malformed(st, "tensor values", &p, tv->message.data);
                if (got < n)
                    out[got] = d;
                got++;
            }
        } else if (field == vfield && wt == elem_wt) {
            double d;
            if (!read_val(&w, tv->dtype, elem_wt, &d))
                return malformed(st, "tensor values", &w, tv->message.data);
            if (got < n)
                out[got] = d;
            got++;
        } else if (!sl__wire_skip(&w, wt)) {
            return malformed(st, "tensor", &w, tv->message.data);
        }
    }
    /* TF's Tensor::FromProto: pad with the last value, zeros if none */
    for (int64_t i = got; i < n; i++)
        out[i] = got > 0 ? out[got - 1] : 0.0;
    return SL_OK;
}

sl_code sl_tensor_view_to_doubles(const sl_tensor_view *tv, double *out, int64_t n, sl_status *st)
{
    sl_code c = sl__tensor_view_to_doubles(tv, out, n, st);
    if (c == SL_OK)
        sl_status_clear(st);
    return c;
}

sl_code sl_tensor_view_strings(const sl_tensor_view *tv, sl_bytes *out, int64_t max, int64_t *count,
                               sl_status *st)
{
    if (tv->dtype != 7)
        return sl_status_set(st, SL_INVALID_ARGUMENT, "tensor of dtype %d is not a string tensor",
                             tv->dtype);
    sl__wire w = {tv->message.data, tv->message.data + tv->message.size};
    int64_t got = 0;
    while (w.p < w.end) {
        uint32_t field;
        int wt;
        if (!sl__wire_key(&w, &field, &wt))
            return malformed(st, "tensor", &w, tv->message.data);
        if (field == 8 && wt == SL__WIRE_LEN) {
            sl_bytes b;
            if (!sl__wire_len(&w, &b))
                return malformed(st, "tensor", &w, tv->message.data);
            if (got < max)
                out[got] = b;
            got++;
        } else if (!sl__wire_skip(&w, wt)) {
            return malformed(st, "tensor", &w, tv->message.data);
        }
    }
    *count = got;
    sl_status_clear(st);
    return SL_OK;
}
