/* The event-file writer: what a training program calls to log scalars,
 * histograms, images, text, its graph and its step statistics, in files
 * TensorBoard and the board read (FORMATS.md §2).
 *
 * Opening creates `<logdir>/events.out.tfevents.<10-digit time>.<host>.
 * <pid>.<uid><suffix>` (suffix ".sluice" by default; uid counts the
 * writers of this process) and writes the first record,
 * Event{wall_time, file_version = "brain.Event:2", source_metadata}, to the
 * kernel at once.  Later events are encoded on the caller's thread into a
 * queue; a background thread writes the queue when it holds `max_queue`
 * events or `max_queue_bytes` bytes, when its oldest event is
 * `flush_millis` old, on sl_summary_writer_flush() and on close.  Close
 * also fsyncs the file.
 *
 * Values are written as TF2's C++ writer writes them: a tensor plus
 * SummaryMetadata naming the plugin ("scalars", "histograms", "images",
 * "text") with empty plugin content (version 0), on every value.  The
 * legacy forms (simple_value, HistogramProto) are available too.
 *
 * Wall times: every add function takes `wall_time` in seconds since the
 * epoch; pass 0 to use the current time.
 *
 * Errors: add functions return SL_INVALID_ARGUMENT for bad arguments,
 * SL_RESOURCE_EXHAUSTED when memory runs out, and the sticky I/O error of
 * the background thread (SL_INTERNAL, SL_RESOURCE_EXHAUSTED for a full
 * disk...) once a write has failed; the message names the file.
 *
 * Thread-safety: the add functions and sl_summary_writer_flush() may be
 * called from any number of threads at once; events from one thread keep
 * their order.  sl_summary_writer_close() must be called once, after the
 * other calls have returned.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "sluice/macros.h"
#include "sluice/status.h"
#include "step_stats.pb-c.h"

SL_BEGIN_DECLS

typedef struct sl_summary_writer sl_summary_writer;

typedef struct sl_summary_writer_options {
    size_t struct_size;          /* sizeof(sl_summary_writer_options), for extension */
    int max_queue;               /* events queued before a write; default 10 (as TF) */
    size_t max_queue_bytes;      /* bytes queued before a write; default 1 MiB */
    int flush_millis;            /* age of the oldest queued event before a write;
                                    default 2000 (TF: 120000; shorter so a board
                                    watching the run sees points soon) */
    const char *filename_suffix; /* appended to the file name; NULL: ".sluice" */
} sl_summary_writer_options;

#define SL_SUMMARY_WRITER_OPTIONS_INIT {sizeof(sl_summary_writer_options), 10, 1 << 20, 2000, NULL}

/* Creates `logdir` (and its parents) if needed and opens a new event file
 * in it; `opts` may be NULL for the defaults.  Returns NULL and sets st on
 * failure (SL_INVALID_ARGUMENT, SL_PERMISSION_DENIED, SL_NOT_FOUND,
 * SL_INTERNAL, SL_RESOURCE_EXHAUSTED).  Caller owns the writer and must
 * end it with sl_summary_writer_close(). */
SL_API sl_summary_writer *sl_summary_writer_open(const char *logdir,
                                                 const sl_summary_writer_options *opts,
                                                 sl_status *st);

/* The path of the event file; borrowed, valid until close. */
SL_API const char *sl_summary_writer_path(const sl_summary_writer *w);

/* A scalar as TF2 writes it: DT_FLOAT tensor of shape [] in
 * tensor_content, plugin "scalars". */
SL_API sl_code sl_summary_writer_add_scalar(sl_summary_writer *w, const char *tag, float value,
                                            int64_t step, double wall_time, sl_status *st);

/* A scalar in the legacy form (Summary.Value.simple_value) that TF1 and
 * PyTorch write. */
SL_API sl_code sl_summary_writer_add_simple_value(sl_summary_writer *w, const char *tag,
                                                  float value, int64_t step, double wall_time,
                                                  sl_status *st);

/* A TF2 histogram of `n` values (values may be NULL when n == 0): a
 * DT_DOUBLE tensor [k, 3] from sl_histogram_tf2_buckets(), plugin
 * "histograms".  bucket_count <= 0 means 30.  SL_INVALID_ARGUMENT for a
 * non-finite value. */
SL_API sl_code sl_summary_writer_add_histogram(sl_summary_writer *w, const char *tag,
                                               const double *values, size_t n, int bucket_count,
                                               int64_t step, double wall_time, sl_status *st);

/* A TF1 histogram (Summary.Value.histo) of `n` values with TF's default
 * exponential buckets, bit for bit as TF's HistogramSummary op writes it.
 * SL_INVALID_ARGUMENT for a non-finite value (TF: "Nan in summary
 * histogram"). */
SL_API sl_code sl_summary_writer_add_histogram_tf1(sl_summary_writer *w, const char *tag,
                                                   const double *values, size_t n, int64_t step,
                                                   double wall_time, sl_status *st);

/* One image to log: 8-bit pixels, row-major, 1, 3 or 4 channels. */
typedef struct sl_image {
    const uint8_t *pixels;
    int width;
    int height;
    int channels;   /* 1 grey, 3 RGB, 4 RGBA */
    size_t stride;  /* bytes between rows; 0 means width * channels */
} sl_image;

/* `n` >= 1 images of one size, PNG-encoded with Cairo, as TF2 writes them:
 * a DT_STRING tensor [2 + n] = [width, height, png...] (decimal ASCII
 * sizes), plugin "images". */
SL_API sl_code sl_summary_writer_add_images(sl_summary_writer *w, const char *tag,
                                            const sl_image *images, int n, int64_t step,
                                            double wall_time, sl_status *st);

/* Already-encoded images (PNG or JPEG bytes) of one size, written in the
 * same TF2 form; nothing is re-encoded. */
SL_API sl_code sl_summary_writer_add_encoded_images(sl_summary_writer *w, const char *tag,
                                                    const uint8_t *const *data,
                                                    const size_t *sizes, int n, int width,
                                                    int height, int64_t step, double wall_time,
                                                    sl_status *st);

/* Text (UTF-8, Markdown for TB): a DT_STRING tensor, shape [] for n == 1
 * and [n] otherwise, plugin "text".  The strings are `size` bytes each
 * (sizes may be NULL for NUL-terminated strings). */
SL_API sl_code sl_summary_writer_add_text(sl_summary_writer *w, const char *tag,
                                          const char *const *strings, const size_t *sizes, int n,
                                          int64_t step, double wall_time, sl_status *st);

/* A serialized GraphDef, as Event.graph_def. */
SL_API sl_code sl_summary_writer_add_graph(sl_summary_writer *w, const void *graph_def,
                                           size_t size, int64_t step, double wall_time,
                                           sl_status *st);

/* A serialized RunMetadata (step stats and partition graphs), as
 * Event.tagged_run_metadata{tag, run_metadata}. */
SL_API sl_code sl_summary_writer_add_run_metadata(sl_summary_writer *w, const char *tag,
                                                  const void *run_metadata, size_t size,
                                                  int64_t step, double wall_time, sl_status *st);

/* Step statistics (per-node start and end times, devices, threads,
 * memory) as Event.tagged_run_metadata{tag, RunMetadata{step_stats}},
 * the form TF's timeline and TB's graph plugin read.  `stats` is borrowed
 * and packed at once. */
SL_API sl_code sl_summary_writer_add_step_stats(sl_summary_writer *w, const char *tag,
                                                const Tensorflow__StepStats *stats, int64_t step,
                                                double wall_time, sl_status *st);

/* A session-log event (1 START, 2 STOP, 3 CHECKPOINT); msg and
 * checkpoint_path may be NULL. */
SL_API sl_code sl_summary_writer_add_session_log(sl_summary_writer *w, int status,
                                                 const char *checkpoint_path, const char *msg,
                                                 int64_t step, double wall_time, sl_status *st);

/* Queues an already serialized Event as it is (no checks beyond the
 * size); for callers that build their own events. */
SL_API sl_code sl_summary_writer_add_event(sl_summary_writer *w, const void *event, size_t size,
                                           sl_status *st);

/* Waits until everything queued so far is written to the kernel (readers
 * see it).  Returns the sticky I/O error, if any. */
SL_API sl_code sl_summary_writer_flush(sl_summary_writer *w, sl_status *st);

/* Number of events accepted so far (the first record included). */
SL_API int64_t sl_summary_writer_event_count(const sl_summary_writer *w);

/* Writes what is queued, fsyncs and closes the file, stops the thread and
 * frees the writer, which is gone afterwards even when an error is
 * returned.  NULL is a no-op. */
SL_API sl_code sl_summary_writer_close(sl_summary_writer *w, sl_status *st);

SL_END_DECLS
