/* Status objects: a code plus a heap message.  Kept deliberately simple so
 * every module can afford to fill one on each failure path. */
#include "config.h"

#include "sluice/status.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>


struct sl_status {
    sl_code code;
    char *message;  /* sl_malloc'd, NULL when empty */
};

sl_status *sl_status_new(void)
{
    /* libc, not sl_calloc: a status must be creatable to report the very
     * allocation failures that fault injection produces. */
    return calloc(1, sizeof(struct sl_status));
}

void sl_status_free(sl_status *status)
{
    if (!status)
        return;
    free(status->message);
    free(status);
}

/* Formats into a fresh buffer; NULL when memory runs out (the code is still
 * set: a status must never fail to record an error). */
static char *format_message(const char *fmt, va_list ap)
{
    va_list cp;
    va_copy(cp, ap);
    int n = vsnprintf(NULL, 0, fmt, cp);
    va_end(cp);
    if (n < 0)
        return NULL;
    /* libc malloc on purpose: the message must be recorded even while an
     * injected allocation fault persists. */
    char *buf = malloc((size_t)n + 1);
    if (!buf)
        return NULL;
    vsnprintf(buf, (size_t)n + 1, fmt, ap);
    return buf;
}

sl_code sl_status_setv(sl_status *status, sl_code code, const char *fmt, va_list ap)
{
    if (!status)
        return code;
    free(status->message);
    status->message = NULL;
    status->code = code;
    if (code != SL_OK && fmt)
        status->message = format_message(fmt, ap);
    return code;
}

sl_code sl_status_set(sl_status *status, sl_code code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    sl_status_setv(status, code, fmt, ap);
    va_end(ap);
    return code;
}

void sl_status_prefix(sl_status *status, const char *fmt, ...)
{
    if (!status || status->code == SL_OK)
        return;
    va_list ap;
    va_start(ap, fmt);
    char *prefix = format_message(fmt, ap);
    va_end(ap);
    if (!prefix)
        return;
    const char *old = status->message ? status->message : "";
    size_t n = strlen(prefix) + strlen(old) + 3;
    char *msg = malloc(n);
    if (msg) {
        snprintf(msg, n, "%s: %s", prefix, old);
        free(status->message);
        status->message = msg;
    }
    free(prefix);
}

void sl_status_clear(sl_status *status)
{
    if (!status)
        return;
    free(status->message);
    status->message = NULL;
    status->code = SL_OK;
}

void sl_status_copy(sl_status *dst, const sl_status *src)
{
    if (!dst || dst == src)
        return;
    if (!src) {
        sl_status_clear(dst);
        return;
    }
    sl_status_set(dst, src->code, "%s", src->message ? src->message : "");
}

sl_code sl_status_code(const sl_status *status)
{
    return status ? status->code : SL_OK;
}

const char *sl_status_message(const sl_status *status)
{
    return status && status->message ? status->message : "";
}

bool sl_status_is_ok(const sl_status *status)
{
    return !status || status->code == SL_OK;
}

const char *sl_code_name(sl_code code)
{
    static const char *const names[] = {
        "OK", "CANCELLED", "UNKNOWN", "INVALID_ARGUMENT", "DEADLINE_EXCEEDED",
        "NOT_FOUND", "ALREADY_EXISTS", "PERMISSION_DENIED", "RESOURCE_EXHAUSTED",
        "FAILED_PRECONDITION", "ABORTED", "OUT_OF_RANGE", "UNIMPLEMENTED",
        "INTERNAL", "UNAVAILABLE", "DATA_LOSS", "UNAUTHENTICATED",
    };
    if ((unsigned)code < sizeof(names) / sizeof(names[0]))
        return names[code];
    return "UNKNOWN";
}
