/* The gRPC transport: the worker service over gRPC core (the C API), with
 * Sluice's own messages packed by protobuf-c (dist/proto/worker.proto) and
 * the shared token in every call's metadata.
 *
 * Client: sl_grpc_transport_new() gives a transport (transport.h) with one
 * completion queue and one I/O thread that runs every reply callback.
 * Server: sl_grpc_server_start() serves a worker (worker.h) on an address,
 * also with one completion queue and one I/O thread; RunGraph steps run on
 * threads of their own, so the I/O thread never waits for a step.
 *
 * Both raise gRPC's 4 MiB receive limit (to max_message_bytes, 1 GiB by
 * default), send keepalive pings every 2 s (a silent peer fails calls
 * within about 5 s), and reconnect within a second of a restarted peer.
 * The server refuses calls without the token (UNAUTHENTICATED), requests
 * over the limit (RESOURCE_EXHAUSTED) and requests that do not parse
 * (INVALID_ARGUMENT); bytes that are not HTTP/2 close the connection.
 *
 * Thread-safety: as transport.h; a server may be stopped from any thread
 * but one. */
#pragma once

#include "grpc-common.h"
#include "transport.h"
#include "worker.h"

/* A transport whose calls carry opts->token (copied; may be NULL).  NULL +
 * status when the I/O thread cannot start. */
sl_transport *sl_grpc_transport_new(const sl_grpc_options *opts, sl_status *status);

/* A raw unary call of `method` ("/sluice.dist.WorkerService/Echo") with
 * `payload` (borrowed; NULL: empty) over conn, a connection of a gRPC
 * transport: for the benchmark and the security tests.  *reply (caller
 * frees with grpc_byte_buffer_destroy; reply may be NULL). */
sl_code sl_grpc_raw_call(sl_dist_conn *conn, const char *method, grpc_byte_buffer *payload, int64_t timeout_ms,
                         grpc_byte_buffer **reply, sl_status *status);

typedef struct sl_grpc_server sl_grpc_server;

/* Serves `worker` (borrowed; must outlive the server) at `address`
 * ("127.0.0.1:2222"; port 0 picks one, returned in *port when port is not
 * NULL).  opts->token is required: NULL or empty is INVALID_ARGUMENT.
 * UNAVAILABLE when the address cannot be bound. */
sl_grpc_server *sl_grpc_server_start(const char *address, sl_dist_worker *worker, const sl_grpc_options *opts,
                                     int *port, sl_status *status);

/* Calls refused so far because of a missing or wrong token. */
int64_t sl_grpc_server_refused(const sl_grpc_server *server);

/* Stops accepting, cancels calls in flight, joins the I/O thread, frees.
 * NULL-safe. */
void sl_grpc_server_stop(sl_grpc_server *server);
