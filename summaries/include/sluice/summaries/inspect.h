/* What `sluice inspect` and `sluice export` print about logs: the runs,
 * tags and points of a logdir (or of one event file), as text or JSON,
 * and every point of one series as CSV or JSON.  The command line itself
 * lives in dist/; these functions do the work so the board and tests can
 * use them too.
 *
 * Both read the logdir once with the in-memory logdir (logdir.h), so they
 * see exactly what the board sees.  Damaged files are reported in the
 * output (with the file and byte offset), not as errors.
 *
 * Thread-safety: safe from any thread; each call uses its own state.
 * Writing to `out` follows stdio's rules.
 */
#pragma once

#include <stdbool.h>
#include <stdio.h>

#include "sluice/macros.h"
#include "sluice/status.h"

SL_BEGIN_DECLS

/* Prints the runs of `path` (a logdir or a single event file): per run its
 * files (events, bytes read, damage) and its tags with kind, plugin,
 * number of points and step range, tags sorted by name.  As JSON with
 * `json` (one object: {"path", "runs": [{"name", "start_time", "files":
 * [{"path", "events", "offset", "error"}], "tags": [{"tag", "kind",
 * "plugin", "points", "min_step", "max_step"}]}]}).  Errors:
 * SL_NOT_FOUND / SL_PERMISSION_DENIED when path cannot be read,
 * SL_RESOURCE_EXHAUSTED, SL_INTERNAL when writing to `out` fails. */
SL_API sl_code sl_logdir_inspect(const char *path, bool json, FILE *out, sl_status *st);

/* Writes every point of (run, tag) of `logdir` (a directory or one event
 * file, whose run is ".") in step order.  `format` is "csv" or "json".
 *   CSV, one header line then one row per point (per bucket for
 *   histograms, per element for images, text and blobs):
 *     scalar:    wall_time,step,value
 *     histogram: wall_time,step,left,right,count
 *     image:     wall_time,step,index,width,height,bytes
 *     text:      wall_time,step,index,text        (RFC 4180 quoting)
 *     others:    wall_time,step,index,bytes
 *   JSON, an array of one object per point: {"wall_time", "step"} plus
 *     "value" (scalar), "buckets": [[left, right, count]...] (histogram),
 *     "width", "height", "images": [base64...] (image), "text": [...]
 *     (text), "data": [base64...] (others).
 * Numbers are printed with 17 significant digits (they read back
 * exactly); NaN and infinities are "nan"/"inf"/"-inf" in CSV and the
 * strings "NaN"/"Infinity"/"-Infinity" in JSON.  Errors:
 * SL_INVALID_ARGUMENT for another format, SL_NOT_FOUND for an unknown run
 * or tag (the message lists what exists), the errors of
 * sl_logdir_inspect(). */
SL_API sl_code sl_logdir_export(const char *logdir, const char *run, const char *tag,
                                const char *format, FILE *out, sl_status *st);

SL_END_DECLS
