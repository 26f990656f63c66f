/* Events without copies: a zero-copy decoder of tensorflow.Event, of the
 * Summary.Value entries inside it, and of the TensorProto carried by TF2
 * values (FORMATS.md §3).
 *
 * Reading an event file is dominated by decoding small messages.
 * protobuf-c's unpack allocates every nested message; these views point
 * into the serialized bytes instead and decode only the fields readers
 * use, which keeps reading close to the speed of the disk.  Unknown fields
 * are skipped, as protobuf requires, and oneof fields follow the "last one
 * wins" rule.  For the full message (say, a RunMetadata's step stats), unpack
 * the bytes a view points at with the protobuf-c functions of
 * event.pb-c.h, summary.pb-c.h and run_metadata.pb-c.h.
 *
 * Ownership: a view borrows the buffer it was parsed from and is valid
 * while that buffer is; nothing here allocates, except the functions that
 * say so.
 *
 * Errors: malformed bytes give SL_DATA_LOSS with a message that says which
 * message and which byte offset inside it failed; callers prefix the file
 * and record offset.  Nothing reads outside the given buffer.
 *
 * Thread-safety: pure functions over caller-owned data; safe from any
 * thread.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sluice/macros.h"
#include "sluice/status.h"

SL_BEGIN_DECLS

/* A borrowed byte range. */
typedef struct sl_bytes {
    const uint8_t *data;
    size_t size;
} sl_bytes;

/* Which member of Event's oneof `what` is set; the values are the field
 * numbers. */
typedef enum sl_event_what {
    SL_EVENT_NONE = 0,                 /* only wall_time/step (tensorboardX 1.x first event) */
    SL_EVENT_FILE_VERSION = 3,         /* body: the version string, "brain.Event:2" */
    SL_EVENT_GRAPH_DEF = 4,            /* body: a serialized GraphDef */
    SL_EVENT_SUMMARY = 5,              /* body: a serialized Summary; see sl_summary_iter */
    SL_EVENT_LOG_MESSAGE = 6,          /* body: a serialized LogMessage */
    SL_EVENT_SESSION_LOG = 7,          /* body: a serialized SessionLog */
    SL_EVENT_TAGGED_RUN_METADATA = 8,  /* body: a serialized TaggedRunMetadata; see
                                          sl_event_tagged_run_metadata() */
    SL_EVENT_META_GRAPH_DEF = 9,       /* body: a serialized MetaGraphDef */
} sl_event_what;

typedef struct sl_event {
    double wall_time;      /* seconds since the epoch */
    int64_t step;
    sl_event_what what;
    sl_bytes body;         /* the bytes of the `what` member (empty for NONE) */
    sl_bytes writer;       /* source_metadata.writer, empty when absent */
    sl_bytes payload;      /* the whole serialized Event */
    uint64_t offset;       /* byte offset of its record in the file (set by readers) */
} sl_event;

/* Decodes a serialized Event into *ev (offset is set to 0).  On failure
 * returns SL_DATA_LOSS, sets st and leaves *ev untouched. */
SL_API sl_code sl_event_parse(const void *data, size_t size, sl_event *ev, sl_status *st);

/* Splits a TaggedRunMetadata body into its tag and the serialized
 * RunMetadata.  SL_DATA_LOSS when malformed. */
SL_API sl_code sl_event_tagged_run_metadata(sl_bytes body, sl_bytes *tag, sl_bytes *run_metadata,
                                            sl_status *st);

/* Summary.Value's oneof `value`; the values are the field numbers. */
typedef enum sl_value_case {
    SL_VALUE_NONE = 0,
    SL_VALUE_SIMPLE = 2,        /* simple_value (float32) */
    SL_VALUE_OLD_HISTOGRAM = 3, /* obsolete_old_style_histogram: ignored by readers */
    SL_VALUE_IMAGE = 4,         /* body: Summary.Image */
    SL_VALUE_HISTO = 5,         /* body: HistogramProto */
    SL_VALUE_AUDIO = 6,         /* body: Summary.Audio */
    SL_VALUE_TENSOR = 8,        /* body: TensorProto */
} sl_value_case;

typedef struct sl_summary_value {
    sl_bytes tag;
    sl_bytes node_name;       /* deprecated field 7; old files use it instead of tag */
    sl_value_case value_case;
    float simple_value;       /* when value_case == SL_VALUE_SIMPLE */
    sl_bytes body;            /* the message of the other cases */
    bool has_metadata;
    sl_bytes plugin_name;     /* metadata.plugin_data.plugin_name */
    sl_bytes plugin_content;  /* metadata.plugin_data.content */
    sl_bytes display_name;    /* metadata.display_name */
    int data_class;           /* metadata.data_class (0 unknown, 1 scalar, 2 tensor, 3 blobs) */
} sl_summary_value;

/* Iterates the values of a serialized Summary. */
typedef struct sl_summary_iter {
    const uint8_t *p;
    const uint8_t *end;
    const uint8_t *start;
} sl_summary_iter;

SL_API void sl_summary_iter_init(sl_summary_iter *it, sl_bytes summary);

/* Fills *v with the next value and returns SL_OK; returns SL_OUT_OF_RANGE
 * after the last one (st untouched), SL_DATA_LOSS when malformed. */
SL_API sl_code sl_summary_iter_next(sl_summary_iter *it, sl_summary_value *v, sl_status *st);

/* The tag to show: `tag`, or `node_name` when the tag is empty. */
SL_API sl_bytes sl_summary_value_tag(const sl_summary_value *v);

#define SL_TENSOR_VIEW_MAX_DIMS 8

/* A decoded TensorProto header plus the location of its elements. */
typedef struct sl_tensor_view {
    int dtype;                             /* TF DataType number */
    int rank;                              /* number of dims; 0 for a scalar */
    int64_t dims[SL_TENSOR_VIEW_MAX_DIMS]; /* dims[0, rank) are set */
    int64_t num_elements;                  /* product of dims (1 for rank 0); -1 if unknown */
    sl_bytes content;                      /* tensor_content, empty when absent */
    sl_bytes message;                      /* the whole TensorProto, for the *_val fields */
} sl_tensor_view;

/* Decodes a TensorProto header.  SL_DATA_LOSS when malformed,
 * SL_UNIMPLEMENTED when the rank exceeds SL_TENSOR_VIEW_MAX_DIMS. */
SL_API sl_code sl_tensor_view_parse(sl_bytes tensor, sl_tensor_view *tv, sl_status *st);

/* Converts the first `n` elements of a numeric tensor (float, double,
 * half, bfloat16, signed and unsigned integers, bool) to doubles, reading
 * tensor_content or, when that is empty, the matching `*_val` field in
 * packed or unpacked form.  As TF's Tensor::FromProto does, a `*_val`
 * field shorter than the tensor is padded with its last element (so one
 * element is broadcast) and an absent one reads as zeros.  n must not
 * exceed num_elements (when known).  SL_INVALID_ARGUMENT for a
 * non-numeric dtype or a bad n, SL_DATA_LOSS when tensor_content is too
 * short or the bytes are malformed; out is then partly written. */
SL_API sl_code sl_tensor_view_to_doubles(const sl_tensor_view *tv, double *out, int64_t n,
                                         sl_status *st);

/* Lists the string_val elements of a DT_STRING tensor: fills out[0..max)
 * with borrowed views and sets *count to the number of elements (which
 * may exceed max).  SL_INVALID_ARGUMENT for other dtypes, SL_DATA_LOSS when
 * malformed. */
SL_API sl_code sl_tensor_view_strings(const sl_tensor_view *tv, sl_bytes *out, int64_t max,
                                      int64_t *count, sl_status *st);

SL_END_DECLS
