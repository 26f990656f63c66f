/* TFRecord files: framing, a buffered writer and a resumable reader
 * (FORMATS.md §1).
 *
 * Each record is: uint64 LE length, masked CRC-32C of those 8 bytes, the
 * payload, masked CRC-32C of the payload.  There is no file header.
 *
 * The reader is made for files that are still being written.  It reads
 * sequentially with read(2) into its own buffer; at the end of the data it
 * returns SL_OUT_OF_RANGE and keeps any partial record, and the next call
 * reads whatever the writer appended since, so a half-written record
 * becomes readable once it is complete.  A bad checksum is corruption
 * (SL_DATA_LOSS): every record before it has been returned, the message
 * names the file and the byte offset of the bad record, and the reader
 * stays at that error (TB marks such a file dead, and so do we).
 *
 * Thread-safety: a reader or writer belongs to one thread at a time.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sluice/macros.h"
#include "sluice/status.h"

SL_BEGIN_DECLS

#define SL_RECORD_HEADER_SIZE 12 /* length (8) + masked CRC of the length (4) */
#define SL_RECORD_FOOTER_SIZE 4  /* masked CRC of the payload */

/* Largest payload the reader accepts (1 GiB; a protobuf message cannot be
 * larger than 2 GiB, and TF's own graphs stay far below this). */
#define SL_RECORD_MAX_PAYLOAD ((uint64_t)1 << 30)

/* Writes the 12-byte header of a record of `length` payload bytes. */
SL_API void sl_record_encode_header(uint8_t out[SL_RECORD_HEADER_SIZE], uint64_t length);

/* Writes the 4-byte footer (masked CRC) of a payload. */
SL_API void sl_record_encode_footer(uint8_t out[SL_RECORD_FOOTER_SIZE], const void *payload,
                                    size_t length);

/* ---- writer ------------------------------------------------------------ */

typedef struct sl_record_writer sl_record_writer;

typedef enum sl_record_open_flags {
    SL_RECORD_TRUNCATE = 0, /* create or truncate */
    SL_RECORD_APPEND = 1,   /* create or append */
    SL_RECORD_EXCL = 2,     /* create; SL_ALREADY_EXISTS if the file exists */
} sl_record_open_flags;

/* Opens `path` for writing.  Returns NULL and sets st on failure
 * (SL_NOT_FOUND, SL_PERMISSION_DENIED, SL_ALREADY_EXISTS, SL_INTERNAL for
 * other I/O errors, SL_RESOURCE_EXHAUSTED).  Caller owns the writer and
 * must end it with sl_record_writer_close(). */
SL_API sl_record_writer *sl_record_writer_open(const char *path, sl_record_open_flags flags,
                                               sl_status *st);

/* Appends one record to the writer's buffer (64 KiB; larger records and a
 * full buffer go to the file at once).  The data is copied. */
SL_API sl_code sl_record_writer_write(sl_record_writer *w, const void *data, size_t size,
                                      sl_status *st);

/* Hands the buffered records to the kernel (write(2)): readers see them
 * from now on.  With `sync`, also fsync(2) them to the disk. */
SL_API sl_code sl_record_writer_flush(sl_record_writer *w, bool sync, sl_status *st);

/* Flushes, fsyncs, closes and frees the writer, which is gone afterwards
 * even when an error is returned.  NULL is a no-op returning SL_OK. */
SL_API sl_code sl_record_writer_close(sl_record_writer *w, sl_status *st);

/* ---- reader ------------------------------------------------------------ */

typedef struct sl_record_reader sl_record_reader;

/* Opens `path` and positions the reader at byte `offset`, which must be
 * the start of a record (0, or a value of sl_record_reader_offset() saved
 * earlier).  NULL and st set on failure (SL_NOT_FOUND,
 * SL_PERMISSION_DENIED, SL_INTERNAL, SL_RESOURCE_EXHAUSTED).  Caller owns
 * the reader; free it with sl_record_reader_free(). */
SL_API sl_record_reader *sl_record_reader_open(const char *path, uint64_t offset, sl_status *st);

/* Reads the next record.
 * - SL_OK: *data and *size describe the payload, borrowed until the next
 *   call on this reader.
 * - SL_OUT_OF_RANGE: no complete record is available now; st says "end of
 *   file" or names the incomplete record and its offset.  Call again later
 *   to continue (nothing is lost).
 * - SL_DATA_LOSS: a checksum does not match or a length is impossible; st
 *   names the file and the record's offset.  Sticky: later calls return
 *   the same error.
 * - SL_INTERNAL (read error), SL_RESOURCE_EXHAUSTED (a record larger than
 *   memory allows; sticky too).
 * *data and *size are untouched unless SL_OK is returned. */
SL_API sl_code sl_record_reader_next(sl_record_reader *r, const uint8_t **data, size_t *size,
                                     sl_status *st);

/* Offset of the first byte not yet consumed: the end of the last complete
 * record returned (where a resumed reader should start). */
SL_API uint64_t sl_record_reader_offset(const sl_record_reader *r);

/* Offset of the record returned last (or of the failed record after
 * SL_DATA_LOSS). */
SL_API uint64_t sl_record_reader_record_offset(const sl_record_reader *r);

/* Bytes of an incomplete record held after SL_OUT_OF_RANGE (0 when the
 * file ended cleanly between records). */
SL_API size_t sl_record_reader_pending(const sl_record_reader *r);

/* Whether the reader hit corruption and stopped for good. */
SL_API bool sl_record_reader_is_dead(const sl_record_reader *r);

/* The path given at open; borrowed. */
SL_API const char *sl_record_reader_path(const sl_record_reader *r);

/* Total bytes read from the file so far (for statistics). */
SL_API uint64_t sl_record_reader_bytes_read(const sl_record_reader *r);

/* Closes and frees; NULL is a no-op. */
SL_API void sl_record_reader_free(sl_record_reader *r);

SL_END_DECLS
