/* The transport interface between a master, its workers and the workers
 * among themselves (DESIGN.md section 5).
 *
 * A transport reaches tasks by address.  Its vtable (Redis style: a struct
 * of callbacks that also says who frees what) has one entry per call of the
 * worker service, after TF's WorkerService (FORMATS.md section 5):
 * CreateWorkerSession, RegisterGraph, RunGraph, RecvTensor, CleanupGraph
 * and GetStatus.  Two implementations exist: the in-process one
 * (dist/inproc/, calls the worker object directly, so most tests need no
 * sockets) and gRPC core (dist/grpc/).
 *
 * Every call is asynchronous: `done` runs exactly once, on any thread
 * (possibly inside the call), with either the reply or an error.  The
 * request is borrowed for the duration of the call only; the reply (or
 * tensor) is borrowed for the duration of `done` (take a reference to keep
 * a tensor).  `done` must not block: it may run on the transport's I/O
 * thread.  timeout_ms <= 0 means no deadline.
 *
 * Errors: UNAVAILABLE when the task cannot be reached or went away,
 * DEADLINE_EXCEEDED, UNAUTHENTICATED for a wrong token, and whatever the
 * worker answered.  Messages name the address.
 *
 * Thread-safety: every entry may be called from any thread at once. */
#pragma once

#include <stdint.h>

#include "sluice/status.h"
#include "sluice/tensor.h"
#include "worker.pb-c.h"

typedef struct sl_dist_conn sl_dist_conn;  /* one transport's link to one task */

/* reply: the response message of the call (borrowed), NULL on error. */
typedef void (*sl_dist_reply_fn)(void *arg, const ProtobufCMessage *reply, const sl_status *status);
/* tensor: the received value (borrowed), NULL on error. */
typedef void (*sl_dist_tensor_fn)(void *arg, sl_tensor *tensor, const sl_status *status);

typedef struct sl_transport_ops {
    const char *name;  /* "inproc", "grpc" */
    /* A connection to the task at `address` (cheap; no I/O need happen
     * yet).  Caller owns it until disconnect().  NULL + status. */
    sl_dist_conn *(*connect)(void *impl, const char *address, sl_status *status);
    void (*disconnect)(sl_dist_conn *conn);
    void (*create_worker_session)(sl_dist_conn *conn, const Sluice__Dist__CreateWorkerSessionRequest *req,
                                  int64_t timeout_ms, sl_dist_reply_fn done, void *arg);
    void (*register_graph)(sl_dist_conn *conn, const Sluice__Dist__RegisterGraphRequest *req,
                           int64_t timeout_ms, sl_dist_reply_fn done, void *arg);
    void (*run_graph)(sl_dist_conn *conn, const Sluice__Dist__RunGraphRequest *req, int64_t timeout_ms,
                      sl_dist_reply_fn done, void *arg);
    void (*recv_tensor)(sl_dist_conn *conn, const Sluice__Dist__RecvTensorRequest *req, int64_t timeout_ms,
                        sl_dist_tensor_fn done, void *arg);
    void (*cleanup_graph)(sl_dist_conn *conn, const Sluice__Dist__CleanupGraphRequest *req,
                          int64_t timeout_ms, sl_dist_reply_fn done, void *arg);
    void (*get_status)(sl_dist_conn *conn, const Sluice__Dist__GetStatusRequest *req, int64_t timeout_ms,
                       sl_dist_reply_fn done, void *arg);
    /* Frees the transport; every connection must be gone. */
    void (*release)(void *impl);
} sl_transport_ops;

typedef struct sl_transport {
    const sl_transport_ops *ops;
    void *impl;
} sl_transport;

/* Frees a transport made by one of the constructors.  NULL-safe. */
void sl_transport_free(sl_transport *transport);

/* ---- Synchronous helpers over any transport --------------------------- */

/* Which call sl_dist_call_sync() makes. */
typedef enum sl_dist_method {
    SL_DIST_CREATE_WORKER_SESSION,
    SL_DIST_REGISTER_GRAPH,
    SL_DIST_RUN_GRAPH,
    SL_DIST_CLEANUP_GRAPH,
    SL_DIST_GET_STATUS,
} sl_dist_method;

/* Makes the call and waits.  On success *reply (reply may be NULL when not
 * wanted) is a copy the caller frees with protobuf_c_message_free_unpacked(
 * reply, NULL). */
sl_code sl_dist_call_sync(const sl_transport *t, sl_dist_conn *conn, sl_dist_method method,
                          const ProtobufCMessage *req, int64_t timeout_ms, ProtobufCMessage **reply,
                          sl_status *status);

/* Starts the call of `method` (dispatch by method onto the vtable). */
void sl_dist_call_async(const sl_transport *t, sl_dist_conn *conn, sl_dist_method method,
                        const ProtobufCMessage *req, int64_t timeout_ms, sl_dist_reply_fn done,
                        void *arg);

/* ---- Tensors on the wire (TensorMsg) ---------------------------------- */

/* A TensorMsg holding a copy of t, for protobuf_c_message_free_unpacked(m,
 * NULL).  NULL + RESOURCE_EXHAUSTED / INVALID_ARGUMENT (dtype). */
Sluice__Dist__TensorMsg *sl_dist_tensor_to_msg(const sl_tensor *t, sl_status *status);

/* A new tensor from m, validated: a known dtype, at most SL_MAX_DIMS
 * non-negative dims, no overflow, content of exactly the right size.
 * NULL + INVALID_ARGUMENT ("tensor on the wire: ...") otherwise. */
sl_tensor *sl_dist_tensor_from_msg(const Sluice__Dist__TensorMsg *m, sl_status *status);

/* Checks dtype and dims and returns the shape and the byte size numbers
 * need (0 for strings); false + status when bad. */
bool sl_dist_check_header(int dtype, const int64_t *dims, size_t ndims, sl_shape *shape, size_t *bytes,
                          sl_status *status);

/* Microseconds of wall clock since the epoch. */
int64_t sl_dist_now_us(void);
