/* What a reader makes of event files: kinds of series and their points.
 *
 * Every Summary.Value becomes a point of the series (run, tag), whatever
 * convention wrote it (FORMATS.md §2): legacy simple_value, histo and image
 * values and TF2 tensors are normalized the way TB's data_compat does it,
 * so a histogram is always [k, 3] rows and an image always encoded bytes
 * plus a size.  Graphs and run metadata, which are events rather than
 * values, become series too: Event.graph_def under the tag
 * "__run_graph__" (TB's name), Event.meta_graph_def under
 * "__run_meta_graph__", and tagged_run_metadata under its own tag.
 *
 * Thread-safety: plain data; see the owner's rules (logdir.h).
 */
#pragma once

#include <stdint.h>

#include "sluice/macros.h"
#include "sluice/summaries/event.h"

SL_BEGIN_DECLS

typedef enum sl_kind {
    SL_KIND_UNKNOWN = 0,
    SL_KIND_SCALAR = 1,       /* simple_value, or plugin "scalars" */
    SL_KIND_HISTOGRAM = 2,    /* histo, or plugin "histograms" */
    SL_KIND_IMAGE = 3,        /* image, or plugin "images" */
    SL_KIND_TEXT = 4,         /* plugin "text" */
    SL_KIND_GRAPH = 5,        /* Event.graph_def */
    SL_KIND_META_GRAPH = 6,   /* Event.meta_graph_def */
    SL_KIND_RUN_METADATA = 7, /* Event.tagged_run_metadata */
    SL_KIND_AUDIO = 8,        /* audio, or plugin "audio" */
    SL_KIND_TENSOR = 9,       /* a tensor of any other plugin (or none) */
} sl_kind;

#define SL_KIND_COUNT 10

#define SL_RUN_GRAPH_TAG "__run_graph__"
#define SL_RUN_META_GRAPH_TAG "__run_meta_graph__"

/* "scalar", "histogram", "image", "text", "graph", "meta_graph",
 * "run_metadata", "audio", "tensor", "unknown". */
SL_API const char *sl_kind_name(sl_kind kind);

/* The payload of a non-scalar point. */
typedef struct sl_payload {
    const double *buckets;  /* HISTOGRAM: n_buckets rows of [left, right, count] */
    int64_t n_buckets;
    const sl_bytes *blobs;  /* IMAGE, AUDIO: encoded files; TEXT: UTF-8 strings (all
                               elements, row-major); GRAPH, META_GRAPH: the serialized
                               graph; RUN_METADATA: a serialized RunMetadata; TENSOR:
                               the serialized TensorProto */
    int32_t n_blobs;
    int32_t width;          /* IMAGE: pixels, from the value (0 if unknown) */
    int32_t height;
} sl_payload;

typedef struct sl_point {
    int64_t step;
    double wall_time;          /* seconds since the epoch */
    double value;              /* SCALAR: the value; NaN for other kinds */
    const sl_payload *payload; /* NULL for SCALAR */
} sl_point;

SL_END_DECLS
