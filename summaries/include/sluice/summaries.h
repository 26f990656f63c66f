/* Sluice summaries: TF event files, read and written without the engine.
 *
 * The umbrella header of summaries/.  A short tour:
 *
 *   Writing (writer.h):
 *       sl_status *st = sl_status_new();
 *       sl_summary_writer *w = sl_summary_writer_open("runs/exp1", NULL, st);
 *       for (int step = 0; step < 100; step++)
 *           sl_summary_writer_add_scalar(w, "loss", loss, step, 0, st);
 *       sl_summary_writer_close(w, st);
 *
 *   Reading one file (reader.h, event.h):
 *       sl_event_reader *r = sl_event_reader_open(path, 0, st);
 *       sl_event ev;
 *       while (sl_event_reader_next(r, &ev, st) == SL_OK) { ... }
 *       // SL_OUT_OF_RANGE: nothing more for now; call again later to tail
 *
 *   A whole logdir (logdir.h, series.h, tail.h): runs, tags and points,
 *   reloaded as files grow.
 *
 *   Big logdirs (store.h): ingest into SQLite, query step ranges
 *   downsampled without losing spikes.
 *
 *   The command line's `inspect` and `export` (inspect.h).
 *
 * Lower layers: TFRecord framing (record.h), CRC-32C (crc32c.h),
 * histograms (histogram.h), PNG (image.h).  The protobuf-c messages
 * (event.pb-c.h, summary.pb-c.h, run_metadata.pb-c.h, step_stats.pb-c.h,
 * plugin_data.pb-c.h) come with sl_summaries_dep.
 */
#pragma once

#include "sluice/summaries/crc32c.h"
#include "sluice/summaries/event.h"
#include "sluice/summaries/histogram.h"
#include "sluice/summaries/image.h"
#include "sluice/summaries/inspect.h"
#include "sluice/summaries/logdir.h"
#include "sluice/summaries/reader.h"
#include "sluice/summaries/record.h"
#include "sluice/summaries/series.h"
#include "sluice/summaries/store.h"
#include "sluice/summaries/tail.h"
#include "sluice/summaries/writer.h"
