/* The local rendezvous: pairs each _Send with its _Recv by key inside one
 * process (paper 3.2.2).  A value sent before its receiver asks waits in the
 * table; a receiver that asks first waits for the value.  Internal. */
#pragma once

#include "sluice/status.h"
#include "sluice/tensor.h"

#include <stdint.h>

typedef struct sl__rendezvous sl__rendezvous;

/* The key of one tensor of one step, as FORMATS.md section 5 gives TF's
 * Rendezvous::CreateKey: "<send_device>;<incarnation hex>;<recv_device>;
 * <tensor_name>;<frame_id>:<iter_id>" (frame and iteration 0:0 outside
 * loops).  A new string the caller frees with sl_free(), or NULL on OOM. */
char *sl__rendezvous_make_key(const char *send_device, uint64_t incarnation, const char *recv_device,
                              const char *tensor_name, uint64_t frame_id, int64_t iter_id);

/* Called once with the value (borrowed; take a reference to keep it) or
 * with an error (t NULL). */
typedef void (*sl__recv_done)(void *arg, sl_tensor *t, const sl_status *status);

sl__rendezvous *sl__rendezvous_new(void);
/* Frees unclaimed values; receivers still waiting get CANCELLED first. */
void sl__rendezvous_free(sl__rendezvous *r);
/* Publishes t (a reference is taken) under key.  ALREADY_EXISTS when the
 * key was sent before; the error of abort() after an abort. */
sl_code sl__rendezvous_send(sl__rendezvous *r, const char *key, sl_tensor *t, sl_status *status);
/* Calls done when key's value is there (maybe at once, on this thread). */
void sl__rendezvous_recv(sl__rendezvous *r, const char *key, sl__recv_done done, void *arg);
/* Fails every waiting and later receive with `status`. */
void sl__rendezvous_abort(sl__rendezvous *r, const sl_status *status);
