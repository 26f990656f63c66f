/* Input pipelines (paper 4.5, 4.6): datasets read from files, and queue
 * runners that keep queues filled from threads.
 *
 * In a graph, the reader ops (io-ops.c: TFRecordFileReader,
 * TextLineFileReader, IdxFileReader with ReaderReadUpTo and
 * IdxReaderReadUpTo), the decoders (DecodeRaw, DecodeCSV, ParseExample,
 * ParseSingleExample) and an enqueue into a FIFOQueueV2 or
 * RandomShuffleQueueV2 make a pipeline; a queue runner runs its enqueue op
 * on threads while training steps dequeue batches:
 *
 *     sl_queue_runner *qr = sl_queue_runner_start(session, "input/enqueue",
 *                                                 "input/close", "input/cancel", 2, status);
 *     ... steps that run QueueDequeueManyV2 ...
 *     sl_queue_runner_stop(qr, status);   // cancels blocked enqueues, joins
 *
 * Outside graphs, sl_idx_load() reads a whole IDX file (MNIST) into a
 * tensor, for tools that feed placeholders.
 *
 * IDX (LeCun's MNIST format): magic 0x00 0x00 <type> <rank>, rank
 * big-endian uint32 dims, then big-endian elements; type 0x08 uint8,
 * 0x09 int8, 0x0B int16, 0x0C int32, 0x0D float, 0x0E double.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sluice/macros.h"
#include "sluice/session.h"
#include "sluice/shape.h"
#include "sluice/status.h"
#include "sluice/tensor.h"

SL_BEGIN_DECLS

/* ---- IDX files ---------------------------------------------------------- */

typedef struct sl_idx_header {
    sl_dtype dtype;
    sl_shape shape;        /* [records, dims...] */
    size_t header_bytes;   /* 4 + 4 * rank */
    size_t record_bytes;   /* bytes of one record (product of dims[1..] * element size) */
} sl_idx_header;

/* Reads and checks the header of the IDX file `path`.  Errors:
 * SL_NOT_FOUND (no file), SL_INVALID_ARGUMENT for a wrong magic number
 * ("'f': not an IDX file: magic 0x12345678 (expected 0x000008NN ...)"),
 * SL_DATA_LOSS when the file is shorter than its header says. */
SL_API sl_code sl_idx_read_header(const char *path, sl_idx_header *out, sl_status *status);

/* The first `limit` records (0: all) of an IDX file as one tensor of its
 * dtype and shape [n, dims...] (elements converted to host order).  NULL
 * + status as sl_idx_read_header.  Caller owns the tensor. */
SL_API sl_tensor *sl_idx_load(const char *path, int64_t limit, sl_status *status);

/* ---- tf.train.Example ----------------------------------------------------- */

/* One feature of an Example to encode: exactly one of floats, int64s,
 * bytes is used (by kind). */
typedef struct sl_feature {
    const char *key;
    int kind;               /* 0 bytes, 1 float, 2 int64 (Feature's oneof numbers minus one) */
    const float *floats;
    const int64_t *int64s;
    const char *const *bytes;
    const size_t *sizes;    /* bytes: lengths */
    int n;
} sl_feature;

/* Serializes an Example of n features; returns a buffer the caller frees
 * with sl_free() and its size in *size; NULL on OOM. */
SL_API void *sl_example_encode(const sl_feature *features, int n, size_t *size, sl_status *status);

/* ---- Queue runners ---------------------------------------------------- */

typedef struct sl_queue_runner sl_queue_runner;

/* Starts `threads` threads that each run the node `enqueue_op` in
 * `session` again and again.  When a run fails with OUT_OF_RANGE (the
 * readers are exhausted), the thread ends, and the last thread to end
 * runs `close_op` (a QueueCloseV2: consumers then drain the queue and see
 * OUT_OF_RANGE); on
 * CANCELLED it ends quietly; on any other error it records it (first one
 * wins), runs `cancel_op` if given, and ends.  close_op and cancel_op may
 * be NULL.  NULL + status when a thread cannot start.  The session is
 * borrowed and must outlive the runner. */
SL_API sl_queue_runner *sl_queue_runner_start(sl_session *session, const char *enqueue_op,
                                              const char *close_op, const char *cancel_op,
                                              int threads, sl_status *status);

/* Whether every thread has ended. */
SL_API bool sl_queue_runner_is_done(sl_queue_runner *qr);

/* Stops the runner: runs cancel_op (a QueueCloseV2 with
 * cancel_pending_enqueues, which wakes enqueues blocked on a full queue),
 * joins the threads and frees the runner.  Returns the first error a
 * thread recorded (not OUT_OF_RANGE or CANCELLED), else SL_OK.  NULL-safe. */
SL_API sl_code sl_queue_runner_stop(sl_queue_runner *qr, sl_status *status);

SL_END_DECLS
