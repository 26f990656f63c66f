/* A worker's remote rendezvous: per step, the tensors its partitions sent
 * to other tasks, waiting to be pulled by RecvTensor, and the RecvTensor
 * calls that arrived before their tensor.  Receivers pull (as in TF): a
 * _Send only stores; the receiving task asks for the key.
 *
 * A step's entry is made by whichever comes first (a send or a receive)
 * and dropped by sl_dist_steps_cleanup(); a late receive for a step that
 * was cleaned up fails at once instead of waiting forever (the table
 * remembers the last 1024 finished steps).
 *
 * Thread-safety: every function may be called from any thread. */
#pragma once

#include <stdint.h>

#include "sluice/status.h"
#include "sluice/tensor.h"
#include "transport.h"

typedef struct sl_dist_steps sl_dist_steps;

sl_dist_steps *sl_dist_steps_new(void);
/* Fails every waiting receiver with CANCELLED and frees.  NULL-safe. */
void sl_dist_steps_free(sl_dist_steps *s);

/* Stores t (takes a reference) for `key` of `step`, or hands it to the
 * receiver already waiting.  ALREADY_EXISTS for a second send of a key,
 * ABORTED when the step was aborted or is over. */
sl_code sl_dist_steps_send(sl_dist_steps *s, int64_t step, const char *key, sl_tensor *t, sl_status *status);

/* Calls done(arg, tensor, NULL) once the key's tensor is there (maybe at
 * once, on this thread), or done(arg, NULL, error) when the step is
 * aborted or over. */
void sl_dist_steps_recv(sl_dist_steps *s, int64_t step, const char *key, sl_dist_tensor_fn done, void *arg);

/* Ends the step: waiting receivers fail with `abort` (or ABORTED "step
 * is over" when abort is NULL) and unclaimed tensors are dropped. */
void sl_dist_steps_cleanup(sl_dist_steps *s, int64_t step, const sl_status *abort);

/* Steps with an entry now. */
int sl_dist_steps_active(sl_dist_steps *s);
