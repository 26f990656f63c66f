/* Watching a logdir for changes, to reload it as soon as a writer flushes.
 *
 * With inotify (Linux), every directory under the logdir is watched for
 * files being written, created, moved in or deleted, and new
 * subdirectories are watched as they appear; sl_tail_wait() returns as
 * soon as something happened.  Where inotify is missing or runs out of
 * watches, the watcher polls: sl_tail_wait() sleeps one poll interval and
 * reports a possible change, and the caller's reload finds out what
 * changed (a reload that finds nothing new costs a directory walk and a
 * stat per file).
 *
 * Typical loop:
 *     sl_logdir_reload(ld, NULL, st);
 *     for (;;) {
 *         bool changed;
 *         sl_tail_wait(t, 1000, &changed, st);
 *         if (changed)
 *             sl_logdir_reload(ld, NULL, st);
 *     }
 * An event loop can instead poll sl_tail_fd() for input and call
 * sl_tail_wait(t, 0, ...) when it is readable.
 *
 * Thread-safety: a watcher belongs to one thread at a time.
 */
#pragma once

#include <stdbool.h>

#include "sluice/macros.h"
#include "sluice/status.h"

SL_BEGIN_DECLS

typedef struct sl_tail sl_tail;

typedef enum sl_tail_mode {
    SL_TAIL_AUTO = 0,  /* inotify when available, polling otherwise */
    SL_TAIL_POLL = 1,  /* always poll */
} sl_tail_mode;

/* Starts watching `path` (a logdir or a single file).  poll_ms is the
 * polling interval (<= 0: 1000 ms).  NULL and st set on failure:
 * SL_NOT_FOUND, SL_RESOURCE_EXHAUSTED.  Caller owns the watcher. */
SL_API sl_tail *sl_tail_new(const char *path, sl_tail_mode mode, int poll_ms, sl_status *st);

/* Stops watching and frees; NULL is a no-op. */
SL_API void sl_tail_free(sl_tail *t);

/* Whether the watcher uses inotify (false: it polls). */
SL_API bool sl_tail_uses_inotify(const sl_tail *t);

/* The inotify descriptor to poll for input, or -1 when polling. */
SL_API int sl_tail_fd(const sl_tail *t);

/* Waits up to timeout_ms (< 0: forever) for a change.  *changed says
 * whether something changed (with polling: whether a poll interval
 * passed, so a reload is due).  Errors: SL_INTERNAL when inotify fails,
 * after which the watcher falls back to polling. */
SL_API sl_code sl_tail_wait(sl_tail *t, int timeout_ms, bool *changed, sl_status *st);

SL_END_DECLS
