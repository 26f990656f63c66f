/* Text format writer: walks a protobuf-c message by its descriptor and
 * prints it the way C++ TextFormat::Print does, so the output diffs
 * cleanly against files TensorFlow wrote.
 *
 * Which fields appear follows protobuf-c's pack exactly (a proto3 field at
 * its zero value is left out, a oneof member or proto2 optional is printed
 * when set), so printing and parsing back gives a message that packs to
 * the same bytes.  Output goes into one growing sl_malloc'd buffer; an
 * allocation failure sets a sticky flag that stops all further output, so
 * the printing code needs no error plumbing and the caller checks once.
 */
#include "config.h"

#include "textformat.h"

#include <float.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sluice/alloc.h"
#include "textformat-private.h"

struct out_buf {
    char *data;  /* sl_malloc'd, NUL-terminated while !oom */
    size_t len;  /* bytes written, without the NUL */
    size_t cap;  /* bytes allocated */
    bool oom;    /* an allocation failed: stop writing */
};

/* Makes room for `extra` more bytes plus the NUL; false (and oom) when
 * memory runs out.  Grows geometrically: amortized O(1) per byte. */
static bool out_reserve(struct out_buf *o, size_t extra)
{
    if (o->oom)
        return false;
    if (extra > SIZE_MAX - o->len - 1) {
        o->oom = true;
        return false;
    }
    size_t need = o->len + extra + 1;
    if (need <= o->cap)
        return true;
    size_t cap = o->cap ? o->cap : 256;
    while (cap < need)
        cap = cap > SIZE_MAX / 2 ? need : cap * 2;
    char *d = sl_realloc(o->data, cap);
    if (!d) {
        o->oom = true;
        return false;
    }
    o->data = d;
    o->cap = cap;
    return true;
}

static void out_bytes(struct out_buf *o, const char *s, size_t n)
{
    if (!out_reserve(o, n))
        return;
    memcpy(o->data + o->len, s, n);
    o->len += n;
    o->data[o->len] = '\0';
}

static void out_str(struct out_buf *o, const char *s)
{
    out_bytes(o, s, strlen(s));
}

static void out_indent(struct out_buf *o, int indent)
{
    if (!out_reserve(o, (size_t)indent))
        return;
    memset(o->data + o->len, ' ', (size_t)indent);
    o->len += (size_t)indent;
    o->data[o->len] = '\0';
}

/* Writes bytes in double quotes as C++ CEscape does: \n \r \t \" \' \\
 * by name, other bytes outside 0x20..0x7e as three octal digits. */
static void out_quoted(struct out_buf *o, const uint8_t *s, size_t n)
{
    /* worst case 4 output bytes per input byte, plus the quotes */
    if (n > (SIZE_MAX - 2) / 4) {
        o->oom = true;
        return;
    }
    if (!out_reserve(o, 4 * n + 2))
        return;
    char *d = o->data + o->len;
    *d++ = '"';
    for (size_t i = 0; i < n; i++) {
        uint8_t c = s[i];
        switch (c) {
        case '\n': *d++ = '\\'; *d++ = 'n'; break;
        case '\r': *d++ = '\\'; *d++ = 'r'; break;
        case '\t': *d++ = '\\'; *d++ = 't'; break;
        case '"': *d++ = '\\'; *d++ = '"'; break;
        case '\'': *d++ = '\\'; *d++ = '\''; break;
        case '\\': *d++ = '\\'; *d++ = '\\'; break;
        default:
            if (c < 0x20 || c >= 0x7f) {
                *d++ = '\\';
                *d++ = (char)('0' + (c >> 6));
                *d++ = (char)('0' + ((c >> 3) & 7));
                *d++ = (char)('0' + (c & 7));
            } else {
                *d++ = (char)c;
            }
        }
    }
    *d++ = '"';
    o->len = (size_t)(d - o->data);
    o->data[o->len] = '\0';
}

/* Shortest of two fixed precisions that reads back to the same bits, as
 * C++ SimpleFtoa/SimpleDtoa do; the caller is in the "C" locale. */
static void format_float(float v, char *buf, size_t size)
{
    if (isnan(v)) {
        snprintf(buf, size, "nan");
    } else if (isinf(v)) {
        snprintf(buf, size, v < 0 ? "-inf" : "inf");
    } else {
        snprintf(buf, size, "%.*g", FLT_DIG, (double)v);
        if (strtof(buf, NULL) != v)
            snprintf(buf, size, "%.*g", FLT_DIG + 3, (double)v);
    }
}

static void format_double(double v, char *buf, size_t size)
{
    if (isnan(v)) {
        snprintf(buf, size, "nan");
    } else if (isinf(v)) {
        snprintf(buf, size, v < 0 ? "-inf" : "inf");
    } else {
        snprintf(buf, size, "%.*g", DBL_DIG, v);
        if (strtod(buf, NULL) != v)
            snprintf(buf, size, "%.*g", DBL_DIG + 2, v);
    }
}

static void print_message_body(struct out_buf *o, const ProtobufCMessage *msg, int indent);

/* Prints one value of `field` (one element for a repeated field) that
 * lives at `member`, as a whole line. */
static void print_value(struct out_buf *o, const ProtobufCFieldDescriptor *field,
                        const void *member, int indent)
{
    char num[64];

    out_indent(o, indent);
    out_str(o, field->name);
    if (field->type == PROTOBUF_C_TYPE_MESSAGE) {
        out_str(o, " {\n");
        print_message_body(o, *(ProtobufCMessage *const *)member, indent + 2);
        out_indent(o, indent);
        out_str(o, "}\n");
        return;
    }
    out_str(o, ": ");
    switch (field->type) {
    case PROTOBUF_C_TYPE_INT32:
    case PROTOBUF_C_TYPE_SINT32:
    case PROTOBUF_C_TYPE_SFIXED32:
        snprintf(num, sizeof(num), "%" PRId32, *(const int32_t *)member);
        out_str(o, num);
        break;
    case PROTOBUF_C_TYPE_UINT32:
    case PROTOBUF_C_TYPE_FIXED32:
        snprintf(num, sizeof(num), "%" PRIu32, *(const uint32_t *)member);
        out_str(o, num);
        break;
    case PROTOBUF_C_TYPE_INT64:
    case PROTOBUF_C_TYPE_SINT64:
    case PROTOBUF_C_TYPE_SFIXED64:
        snprintf(num, sizeof(num), "%" PRId64, *(const int64_t *)member);
        out_str(o, num);
        break;
    case PROTOBUF_C_TYPE_UINT64:
    case PROTOBUF_C_TYPE_FIXED64:
        snprintf(num, sizeof(num), "%" PRIu64, *(const uint64_t *)member);
        out_str(o, num);
        break;
    case PROTOBUF_C_TYPE_FLOAT:
        format_float(*(const float *)member, num, sizeof(num));
        out_str(o, num);
        break;
    case PROTOBUF_C_TYPE_DOUBLE:
        format_double(*(const double *)member, num, sizeof(num));
        out_str(o, num);
        break;
    case PROTOBUF_C_TYPE_BOOL:
        out_str(o, *(const protobuf_c_boolean *)member ? "true" : "false");
        break;
    case PROTOBUF_C_TYPE_ENUM: {
        int v = *(const int *)member;
        const ProtobufCEnumValue *ev = protobuf_c_enum_descriptor_get_value(
            (const ProtobufCEnumDescriptor *)field->descriptor, v);
        if (ev) {
            out_str(o, ev->name);
        } else {
            snprintf(num, sizeof(num), "%d", v);
            out_str(o, num);
        }
        break;
    }
    case PROTOBUF_C_TYPE_STRING: {
        const char *s = *(const char *const *)member;
        out_quoted(o, (const uint8_t *)(s ? s : ""), s ? strlen(s) : 0);
        break;
    }
    case PROTOBUF_C_TYPE_BYTES: {
        const ProtobufCBinaryData *bd = member;
        out_quoted(o, bd->data, bd->data ? bd->len : 0);
        break;
    }
    case PROTOBUF_C_TYPE_MESSAGE:
        break;  /* handled above */
    }
    out_str(o, "\n");
}

/* Whether a proto3 (LABEL_NONE) member holds its zero value, which
 * protobuf-c's pack leaves out (float and double compare with == 0, so
 * -0.0 counts as zero there too). */
static bool member_is_zero(const ProtobufCFieldDescriptor *field, const void *member)
{
    switch (field->type) {
    case PROTOBUF_C_TYPE_INT32:
    case PROTOBUF_C_TYPE_SINT32:
    case PROTOBUF_C_TYPE_SFIXED32:
    case PROTOBUF_C_TYPE_UINT32:
    case PROTOBUF_C_TYPE_FIXED32:
    case PROTOBUF_C_TYPE_ENUM:
        return *(const uint32_t *)member == 0;
    case PROTOBUF_C_TYPE_INT64:
    case PROTOBUF_C_TYPE_SINT64:
    case PROTOBUF_C_TYPE_SFIXED64:
    case PROTOBUF_C_TYPE_UINT64:
    case PROTOBUF_C_TYPE_FIXED64:
        return *(const uint64_t *)member == 0;
    case PROTOBUF_C_TYPE_FLOAT:
        return *(const float *)member == 0;
    case PROTOBUF_C_TYPE_DOUBLE:
        return *(const double *)member == 0;
    case PROTOBUF_C_TYPE_BOOL:
        return *(const protobuf_c_boolean *)member == 0;
    case PROTOBUF_C_TYPE_STRING: {
        const char *s = *(const char *const *)member;
        return !s || !*s;
    }
    case PROTOBUF_C_TYPE_BYTES:
        return ((const ProtobufCBinaryData *)member)->len == 0;
    case PROTOBUF_C_TYPE_MESSAGE:
        return *(const ProtobufCMessage *const *)member == NULL;
    }
    return true;
}

/* Whether a non-repeated field is present, by the rules of protobuf-c's
 * pack; map entries print key and value even at their defaults, as C++
 * does (a missing message value has nothing to print). */
static bool field_is_present(const ProtobufCMessage *msg, const ProtobufCFieldDescriptor *field,
                             bool map_entry)
{
    const void *member = SL__TF_CMEMBER(msg, field->offset);
    bool pointer = field->type == PROTOBUF_C_TYPE_MESSAGE || field->type == PROTOBUF_C_TYPE_STRING;
    const void *ptr = pointer ? *(const void *const *)member : NULL;

    if (field->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) {
        if (*(const uint32_t *)SL__TF_CMEMBER(msg, field->quantifier_offset) != field->id)
            return false;
        return !pointer || (ptr && ptr != field->default_value);
    }
    switch (field->label) {
    case PROTOBUF_C_LABEL_REQUIRED:
        return !pointer || ptr;
    case PROTOBUF_C_LABEL_OPTIONAL:
        if (pointer)
            return ptr && ptr != field->default_value;
        return *(const protobuf_c_boolean *)SL__TF_CMEMBER(msg, field->quantifier_offset);
    case PROTOBUF_C_LABEL_NONE:
        if (map_entry)
            return field->type != PROTOBUF_C_TYPE_MESSAGE || ptr;
        return !member_is_zero(field, member);
    case PROTOBUF_C_LABEL_REPEATED:
        break;
    }
    return false;
}

static void print_message_body(struct out_buf *o, const ProtobufCMessage *msg, int indent)
{
    if (!msg)
        return;
    const ProtobufCMessageDescriptor *desc = msg->descriptor;
    bool map_entry = sl__textformat_is_map_entry(desc);

    /* protoc-c emits desc->fields sorted by number: C++ prints in that order */
    for (unsigned i = 0; i < desc->n_fields && !o->oom; i++) {
        const ProtobufCFieldDescriptor *field = &desc->fields[i];
        if (field->label == PROTOBUF_C_LABEL_REPEATED) {
            size_t n = *(const size_t *)SL__TF_CMEMBER(msg, field->quantifier_offset);
            const char *arr = *(const char *const *)SL__TF_CMEMBER(msg, field->offset);
            size_t elt = sl__textformat_element_size(field->type);
            for (size_t j = 0; j < n && arr && !o->oom; j++)
                print_value(o, field, arr + j * elt, indent);
        } else if (field_is_present(msg, field, map_entry)) {
            print_value(o, field, SL__TF_CMEMBER(msg, field->offset), indent);
        }
    }
}

char *sl_textformat_print(const ProtobufCMessage *msg, size_t *out_len, sl_status *status)
{
    struct out_buf o = {0};

    if (!msg || !msg->descriptor ||
        msg->descriptor->magic != PROTOBUF_C__MESSAGE_DESCRIPTOR_MAGIC) {
        sl_status_set(status, SL_INVALID_ARGUMENT, "cannot print text format: not a message");
        return NULL;
    }
    locale_t saved = sl__textformat_enter_c_locale();
    out_reserve(&o, 0);  /* an empty message still returns "" */
    if (!o.oom)
        o.data[0] = '\0';
    print_message_body(&o, msg, 0);
    sl__textformat_leave_c_locale(saved);
    if (o.oom) {
        sl_free(o.data);
        sl_status_set(status, SL_RESOURCE_EXHAUSTED,
                      "cannot print %s as text format: out of memory",
                      msg->descriptor->name);
        return NULL;
    }
    if (out_len)
        *out_len = o.len;
    sl_status_clear(status);
    return o.data;
}
