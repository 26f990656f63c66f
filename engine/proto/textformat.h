/* Text format: protobuf's human-readable form (".pbtxt") for any message
 * that protoc-c generated, driven by its ProtobufCMessageDescriptor.
 *
 * This is the format TensorFlow writes with tf.io.write_graph(as_text=True)
 * and C++ TextFormat::Print:
 *
 *     node {
 *       name: "x"
 *       op: "Placeholder"
 *       attr {
 *         key: "dtype"
 *         value {
 *           type: DT_FLOAT
 *         }
 *       }
 *     }
 *
 * The reader accepts what C++ TextFormat::Parse accepts, apart from
 * extensions and google.protobuf.Any expansions (`[type/url] { ... }`) and
 * numeric field names: `#` comments, `:` optional before a message, `{}` or
 * `<>` around messages, `,` or `;` after any field, `[a, b]` lists for
 * repeated fields, enums by name or number, integers in decimal, hex (0x)
 * and octal (leading 0), floats with exponents and an `f` suffix, `inf`,
 * `infinity` and `nan` in any case, bools as true/false/True/False/t/f/1/0,
 * strings in single or double quotes with C escapes (\n \t \\ \' \" \ooo
 * \xHH \uXXXX \UXXXXXXXX), adjacent literals concatenated.  A non-repeated
 * field given twice and two members of one oneof are errors, as in C++.
 * Map fields are read and written as their repeated entry messages
 * (`attr { key: "T" value { type: DT_FLOAT } }`).
 *
 * Both directions convert numbers in the "C" locale whatever the process's
 * LC_NUMERIC is (GTK sets it from the environment).
 *
 * Thread-safety: both functions are reentrant; concurrent calls on
 * different messages, or reading one message from several threads, are
 * safe.
 */
#pragma once

#include <stddef.h>

#include <protobuf-c/protobuf-c.h>

#include "sluice/macros.h"
#include "sluice/status.h"

SL_BEGIN_DECLS

/* Parses `len` bytes of text format into a new message of type `desc`.
 * `text` need not be NUL-terminated and may be NULL when len is 0 (the
 * empty text is the empty message).  source_name (may be NULL) names the
 * input in error messages, "<input>" when NULL.
 *
 * Returns the message; the caller owns it and frees it with
 * protobuf_c_message_free_unpacked(msg, NULL): every part of it (repeated
 * arrays, strings, bytes, sub-messages, map entries) comes from libc malloc
 * exactly as protobuf-c's unpack lays it out, oneof case fields and proto2
 * has_ fields included.  Arrays may have spare capacity past n_x.
 *
 * On failure returns NULL, frees everything it allocated and sets status:
 *   SL_INVALID_ARGUMENT  malformed text, unknown field or enum value, wrong
 *                        value type, out-of-range integer, missing required
 *                        field, nesting deeper than 100 messages; the
 *                        message reads "graph.pbtxt:12:7: expected '}' but
 *                        found 'node'" (1-based line and byte column)
 *   SL_RESOURCE_EXHAUSTED  out of memory (allocations honour the
 *                        sl_alloc_fail_nth() fault hook)
 * status may be NULL; on success it is set to SL_OK.
 *
 * Cost: linear in len; recursion depth is bounded by the nesting limit. */
SL_API ProtobufCMessage *sl_textformat_parse(const ProtobufCMessageDescriptor *desc,
                                             const char *text, size_t len,
                                             const char *source_name, sl_status *status);

/* Prints `msg` in text format as C++ TextFormat::Print does: fields in
 * field-number order, 2-space indent, `name: value` for scalars, `name {`
 * ... `}` for messages, one line per element of a repeated field, enums by
 * name (by number when the value has no name), strings and bytes in double
 * quotes with C escapes (octal for bytes outside printable ASCII), floats
 * and doubles as the shortest of %.6g/%.9g (%.15g/%.17g) that reads back
 * bit-exactly, `inf`, `-inf` and `nan`.  Proto3 fields holding their
 * default value are left out, exactly when protobuf-c's pack leaves them
 * out; a set oneof member is always printed; proto2 optionals are printed
 * when present.  Map entries print both key and value.
 *
 * One difference from C++: map entries come out in stored order, not
 * sorted by key, so that print-then-parse gives back the same message
 * (and the same packed bytes).  Text written by TF is already sorted.
 *
 * Returns a NUL-terminated buffer the caller owns and frees with sl_free();
 * *out_len (out_len may be NULL) receives its length without the NUL.  An
 * empty message prints as "".  On failure returns NULL, leaves *out_len
 * untouched and sets SL_RESOURCE_EXHAUSTED when memory runs out (the
 * buffer honours the sl_alloc_fail_nth() hook), SL_INVALID_ARGUMENT when
 * msg is NULL or has no descriptor.  status may be NULL; on success it is
 * set to SL_OK.  msg is borrowed and not modified.
 *
 * Cost: linear in the size of the output. */
SL_API char *sl_textformat_print(const ProtobufCMessage *msg, size_t *out_len,
                                 sl_status *status);

SL_END_DECLS
