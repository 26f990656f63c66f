/* The event-file reader: iterates the events of one file, written by TF,
 * TB, PyTorch, tensorboardX or Sluice (FORMATS.md §2), including a file
 * that is still being written.
 *
 * Built on the resumable record reader (record.h): SL_OUT_OF_RANGE means
 * "nothing more for now" and a later call continues from the same place,
 * so a record that was half written becomes readable once it is complete.
 * Corruption (a bad checksum, or a record that is not an Event) is
 * SL_DATA_LOSS with the file and the byte offset of the record; every
 * event before it was returned, and the reader stops there for good.
 * Events whose wall_time is NaN are skipped, as TB rejects them, and
 * counted.  No convention is required of the file: the file_version
 * event may be missing and an empty file is a file with no events.
 *
 * Thread-safety: a reader belongs to one thread at a time.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "sluice/macros.h"
#include "sluice/status.h"
#include "sluice/summaries/event.h"

SL_BEGIN_DECLS

typedef struct sl_event_reader sl_event_reader;

/* Opens `path` at byte `offset` (0, or a saved sl_event_reader_offset()).
 * NULL and st set on failure (SL_NOT_FOUND, SL_PERMISSION_DENIED,
 * SL_FAILED_PRECONDITION for a directory, SL_INTERNAL,
 * SL_RESOURCE_EXHAUSTED).  Caller owns the reader. */
SL_API sl_event_reader *sl_event_reader_open(const char *path, uint64_t offset, sl_status *st);

/* Reads the next event into *ev: SL_OK; SL_OUT_OF_RANGE when no complete
 * record is available now (call again later); SL_DATA_LOSS on corruption
 * (sticky; the message names the file and the offset); SL_INTERNAL on a
 * read error.  The views in *ev borrow the reader's buffer until the next
 * call.  *ev is untouched unless SL_OK is returned. */
SL_API sl_code sl_event_reader_next(sl_event_reader *r, sl_event *ev, sl_status *st);

/* Where a resumed reader should start: just past the last event read. */
SL_API uint64_t sl_event_reader_offset(const sl_event_reader *r);

/* Bytes of an incomplete record at the end of the data seen so far. */
SL_API size_t sl_event_reader_pending(const sl_event_reader *r);

SL_API bool sl_event_reader_is_dead(const sl_event_reader *r);

/* Events returned, and events skipped for a NaN wall_time. */
SL_API int64_t sl_event_reader_count(const sl_event_reader *r);
SL_API int64_t sl_event_reader_skipped(const sl_event_reader *r);

/* Total bytes read from the file. */
SL_API uint64_t sl_event_reader_bytes_read(const sl_event_reader *r);

SL_API const char *sl_event_reader_path(const sl_event_reader *r);

/* Closes and frees; NULL is a no-op. */
SL_API void sl_event_reader_free(sl_event_reader *r);

SL_END_DECLS
