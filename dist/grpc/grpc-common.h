/* What the gRPC client and server of dist/grpc/ share: options, method
 * paths, the completion-queue tag, the channel arguments, the wire form of
 * RecvTensor replies, and status conversion (sl_code numbers are gRPC's).
 * Internal to dist/grpc/. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include <grpc/grpc.h>

#include "sluice/status.h"
#include "sluice/tensor.h"

#define SL_GRPC_SERVICE "/sluice.dist.WorkerService/"
#define SL_GRPC_TOKEN_KEY "sluice-token"

typedef struct sl_grpc_options {
    const char *token;          /* the shared secret sent (client) or required (server) */
    int64_t max_message_bytes;  /* largest message received; 0: 1 GiB (at most 2^31-1) */
    /* TLS (gRPC's SSL credentials), PEM text; NULL: plain TCP.  A client
     * with tls_ca_pem verifies servers against it; a server with
     * tls_cert_pem and tls_key_pem serves TLS only. */
    const char *tls_ca_pem;
    const char *tls_cert_pem;
    const char *tls_key_pem;
} sl_grpc_options;

#define SL_GRPC_OPTIONS_INIT {NULL, 0, NULL, NULL, NULL}

/* Reads DIR/ca.pem, DIR/cert.pem and DIR/key.pem (those present) into
 * opts' TLS fields (malloc'd; free with sl_grpc_options_free_tls).  NOT_FOUND
 * when DIR has none of them. */
sl_code sl_grpc_options_load_tls(sl_grpc_options *opts, const char *dir, sl_status *status);
void sl_grpc_options_free_tls(sl_grpc_options *opts);

/* A completion-queue tag: fn runs on the I/O thread with the event's ok. */
typedef struct sl_grpc_tag {
    void (*fn)(struct sl_grpc_tag *tag, bool ok);
} sl_grpc_tag;

/* Channel or server arguments: message limits, keepalive, fast reconnects. */
typedef struct sl_grpc_args {
    grpc_arg args[12];
    grpc_channel_args channel_args;
} sl_grpc_args;

void sl__grpc_args_init(sl_grpc_args *a, const sl_grpc_options *opts, bool server);

/* A byte buffer holding the RecvTensorResponse of t without copying its
 * content: a small header slice and a slice over t's buffer that holds a
 * reference to t.  NULL on OOM.  String tensors are packed whole. */
grpc_byte_buffer *sl__grpc_encode_tensor(sl_tensor *t, sl_status *status);

/* Reads a RecvTensorResponse into a new tensor, copying the content once,
 * straight from gRPC's slices into the tensor's buffer.  NULL + status
 * (INVALID_ARGUMENT for malformed bytes). */
sl_tensor *sl__grpc_decode_tensor(grpc_byte_buffer *bb, sl_status *status);

/* Bytes of a byte buffer into one malloc'd block (*len); NULL on OOM. */
uint8_t *sl__grpc_read_all(grpc_byte_buffer *bb, size_t *len);

/* Whether two tokens are equal, in time independent of where they differ. */
bool sl__grpc_token_equal(const char *a, size_t alen, const char *b);

/* grpc_init() once per process, in a thread-safe way. */
void sl__grpc_init_once(void);
