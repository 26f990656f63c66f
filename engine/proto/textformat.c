/* Text format: helpers shared by the reader and the writer.
 *
 * Numbers must be written and read with '.' as the decimal point whatever
 * LC_NUMERIC the process runs under (GTK apps set it from the
 * environment), so both directions switch the calling thread to a "C"
 * locale object for the duration of one call with uselocale(), which is
 * per-thread and leaves other threads alone.  The locale object is made
 * once and lives as long as the process.
 */
#include "config.h"

#include "textformat-private.h"

#include <pthread.h>
#include <string.h>

static pthread_once_t g_c_locale_once = PTHREAD_ONCE_INIT;
static locale_t g_c_locale;  /* (locale_t)0 when newlocale() failed */

static void make_c_locale(void)
{
    g_c_locale = newlocale(LC_NUMERIC_MASK, "C", (locale_t)0);
}

locale_t sl__textformat_enter_c_locale(void)
{
    pthread_once(&g_c_locale_once, make_c_locale);
    if (g_c_locale == (locale_t)0)
        return (locale_t)0;
    return uselocale(g_c_locale);
}

void sl__textformat_leave_c_locale(locale_t saved)
{
    if (saved != (locale_t)0)
        uselocale(saved);
}

bool sl__textformat_is_map_entry(const ProtobufCMessageDescriptor *desc)
{
    if (!desc || desc->n_fields != 2)
        return false;
    const ProtobufCFieldDescriptor *k = &desc->fields[0];
    const ProtobufCFieldDescriptor *v = &desc->fields[1];
    size_t n = strlen(desc->short_name);
    return k->id == 1 && v->id == 2 && strcmp(k->name, "key") == 0 &&
           strcmp(v->name, "value") == 0 && k->label != PROTOBUF_C_LABEL_REPEATED &&
           v->label != PROTOBUF_C_LABEL_REPEATED && n > 5 &&
           strcmp(desc->short_name + n - 5, "Entry") == 0;
}

size_t sl__textformat_element_size(ProtobufCType type)
{
    switch (type) {
    case PROTOBUF_C_TYPE_INT32:
    case PROTOBUF_C_TYPE_SINT32:
    case PROTOBUF_C_TYPE_SFIXED32:
    case PROTOBUF_C_TYPE_UINT32:
    case PROTOBUF_C_TYPE_FIXED32:
    case PROTOBUF_C_TYPE_FLOAT:
    case PROTOBUF_C_TYPE_ENUM:
        return 4;
    case PROTOBUF_C_TYPE_INT64:
    case PROTOBUF_C_TYPE_SINT64:
    case PROTOBUF_C_TYPE_SFIXED64:
    case PROTOBUF_C_TYPE_UINT64:
    case PROTOBUF_C_TYPE_FIXED64:
    case PROTOBUF_C_TYPE_DOUBLE:
        return 8;
    case PROTOBUF_C_TYPE_BOOL:
        return sizeof(protobuf_c_boolean);
    case PROTOBUF_C_TYPE_STRING:
        return sizeof(char *);
    case PROTOBUF_C_TYPE_BYTES:
        return sizeof(ProtobufCBinaryData);
    case PROTOBUF_C_TYPE_MESSAGE:
        return sizeof(ProtobufCMessage *);
    }
    return 0;
}
