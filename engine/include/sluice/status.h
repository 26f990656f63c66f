/* Status: an error code and message filled by every fallible call.
 *
 * Codes are TensorFlow's error codes, which are gRPC's canonical codes, so a
 * status crosses the wire unchanged.  Fallible public calls take an
 * `sl_status *` as their last argument and set it to SL_OK on success; on
 * failure they set a code and a message that names the thing at fault
 * (file, node, offset) and leave their outputs untouched.
 *
 * Thread-safety: a status object belongs to one thread at a time.
 */
#pragma once

#include <stdarg.h>
#include <stdbool.h>

#include "sluice/macros.h"

SL_BEGIN_DECLS

typedef enum sl_code {
    SL_OK = 0,
    SL_CANCELLED = 1,
    SL_UNKNOWN = 2,
    SL_INVALID_ARGUMENT = 3,
    SL_DEADLINE_EXCEEDED = 4,
    SL_NOT_FOUND = 5,
    SL_ALREADY_EXISTS = 6,
    SL_PERMISSION_DENIED = 7,
    SL_RESOURCE_EXHAUSTED = 8,
    SL_FAILED_PRECONDITION = 9,
    SL_ABORTED = 10,
    SL_OUT_OF_RANGE = 11,
    SL_UNIMPLEMENTED = 12,
    SL_INTERNAL = 13,
    SL_UNAVAILABLE = 14,
    SL_DATA_LOSS = 15,
    SL_UNAUTHENTICATED = 16,
} sl_code;

typedef struct sl_status sl_status;

/* Returns a new status set to SL_OK, or NULL when out of memory.
 * Caller owns it; free with sl_status_free(). */
SL_API sl_status *sl_status_new(void);

/* Frees a status; NULL is a no-op. */
SL_API void sl_status_free(sl_status *status);

/* Sets code and a printf-style message ("cannot open 'x'": lower-case,
 * what failed first, no full stop).  Setting SL_OK clears the message.
 * status may be NULL, in which case the call does nothing.  Returns code,
 * so callers can write `return sl_status_set(st, SL_..., ...)`. */
SL_API sl_code sl_status_set(sl_status *status, sl_code code, const char *fmt, ...)
    SL_PRINTF(3, 4);
SL_API sl_code sl_status_setv(sl_status *status, sl_code code, const char *fmt, va_list ap);

/* Prefixes the current message with a printf-style context and ": ",
 * keeping the code (git-style "while reading 'f': bad record").  No-op when
 * the status is OK or NULL. */
SL_API void sl_status_prefix(sl_status *status, const char *fmt, ...) SL_PRINTF(2, 3);

/* Resets to SL_OK with an empty message. */
SL_API void sl_status_clear(sl_status *status);

/* Copies code and message from src into dst. */
SL_API void sl_status_copy(sl_status *dst, const sl_status *src);

/* Accessors.  The message is borrowed and valid until the next change to
 * the status; it is "" when the status is OK. */
SL_API sl_code sl_status_code(const sl_status *status);
SL_API const char *sl_status_message(const sl_status *status);
SL_API bool sl_status_is_ok(const sl_status *status);

/* Canonical upper-case name of a code ("INVALID_ARGUMENT"). */
SL_API const char *sl_code_name(sl_code code);

SL_END_DECLS
