/* Internals shared by the text-format reader (textformat-parse.c) and
 * writer (textformat-print.c): descriptor helpers and the "C" locale.
 * Not installed; include only from engine/proto. */
#pragma once

#include <locale.h>
#include <stdbool.h>
#include <stddef.h>

#include <protobuf-c/protobuf-c.h>

/* Address of the member described by `field` inside `msg`. */
#define SL__TF_MEMBER(msg, off) ((void *)((char *)(msg) + (off)))
#define SL__TF_CMEMBER(msg, off) ((const void *)((const char *)(msg) + (off)))

/* Whether desc is the entry type protoc-c generates for a map field
 * (`FooEntry` with fields 1 key and 2 value).  protobuf-c 1.4 keeps no map
 * flag, so this recognizes the generated shape. */
bool sl__textformat_is_map_entry(const ProtobufCMessageDescriptor *desc);

/* Size of one element of a repeated field of this type in protobuf-c's
 * arrays (4 for an enum: protobuf-c forces enums to int size). */
size_t sl__textformat_element_size(ProtobufCType type);

/* Switches the calling thread to the "C" locale for number conversions;
 * returns what to hand to sl__textformat_leave_c_locale().  When the
 * locale object cannot be made, the thread's locale stays as it was. */
locale_t sl__textformat_enter_c_locale(void);
void sl__textformat_leave_c_locale(locale_t saved);
