/* Internal: turning Summary.Values and blob events into sl_points (see
 * sample.c).  A sampler holds the scratch the decoded payloads live in:
 * a point it fills is valid until its next call, and its blobs borrow the
 * event's bytes.  Thread-safety: one sampler per thread.
 */
#pragma once

#include "sluice/summaries/event.h"
#include "sluice/summaries/series.h"
#include "summaries-private.h"

typedef struct sl__sampler {
    sl__buf rows;        /* histogram rows (doubles) */
    sl__buf blobs;       /* sl_bytes array */
    sl_payload payload;  /* what the last point points at */
} sl__sampler;

#define SL__SAMPLER_INIT {SL__BUF_INIT, SL__BUF_INIT, {0}}

void sl__sampler_release(sl__sampler *sm);

/* The kind of a plugin name ("scalars" -> SL_KIND_SCALAR ...; unknown
 * plugins -> SL_KIND_TENSOR). */
sl_kind sl__kind_of_plugin(sl_bytes plugin);

/* The kind of a value, given the kind its tag already has
 * (SL_KIND_UNKNOWN for a new tag); SL_KIND_UNKNOWN for values to ignore. */
sl_kind sl__value_kind(const sl_summary_value *v, sl_kind tag_kind);

/* Decodes the data of `v` as `kind` into pt->value / pt->payload (step
 * and wall_time are left to the caller).  SL_INVALID_ARGUMENT when the
 * value does not hold that kind of data, SL_DATA_LOSS when malformed. */
sl_code sl__sampler_decode(sl__sampler *sm, const sl_summary_value *v, sl_kind kind, sl_point *pt,
                           sl_status *st);

/* For graph_def, meta_graph_def and tagged_run_metadata events: sets *tag
 * and *pt and returns the kind; SL_KIND_UNKNOWN for other events (st OK)
 * or on error (st set). */
sl_kind sl__event_blob(sl__sampler *sm, const sl_event *ev, sl_bytes *tag, sl_point *pt,
                       sl_status *st);
