/* The in-process transport: workers living in this process, reached by
 * address without sockets or serialization (requests and replies are
 * passed as they are; tensors by reference).  For tests of the master and
 * worker logic, and for clusters whose tasks all live in one process.
 *
 * Thread-safety: as transport.h; add/remove may race with calls. */
#pragma once

#include "transport.h"
#include "worker.h"

/* A new, empty transport; NULL on OOM.  Free with sl_transport_free(). */
sl_transport *sl_inproc_transport_new(void);

/* Makes `worker` (borrowed; must outlive its entry) answer at `address`. */
sl_code sl_inproc_transport_add(sl_transport *t, const char *address, sl_dist_worker *worker,
                                sl_status *status);

/* Takes the worker at `address` away: later calls to it fail with
 * UNAVAILABLE, as if its process had died. */
void sl_inproc_transport_remove(sl_transport *t, const char *address);
