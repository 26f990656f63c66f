/* The event-file reader (the contract is in sluice/summaries/reader.h): the
 * record reader plus the zero-copy Event decoder, with TB's rules for
 * what to reject.  A payload that does not decode as an Event is treated
 * like a checksum failure: the file is dead from that record on, with an
 * error naming the file and the record's offset.
 */
#include "config.h"

#include "sluice/summaries/reader.h"

#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "sluice/alloc.h"
#include "sluice/summaries/record.h"
#include "summaries-private.h"

struct sl_event_reader {
    sl_record_reader *records;
    int64_t count;
    int64_t skipped;
    sl_code dead;        /* sticky decode error */
    uint64_t dead_offset; /* offset of the record that did not decode */
    char *dead_message;  /* libc-allocated */
};

sl_event_reader *sl_event_reader_open(const char *path, uint64_t offset, sl_status *st)
{
    sl_event_reader *r = sl_calloc(1, sizeof(*r));
    if (!r) {
        sl_status_set(st, SL_RESOURCE_EXHAUSTED, "out of memory opening '%s'", path);
        return NULL;
    }
    r->records = sl_record_reader_open(path, offset, st);
    if (!r->records) {
        sl_free(r);
        return NULL;
    }
    return r;
}

void sl_event_reader_free(sl_event_reader *r)
{
    if (!r)
        return;
    sl_record_reader_free(r->records);
    free(r->dead_message);
    sl_free(r);
}

sl_code sl_event_reader_next(sl_event_reader *r, sl_event *ev, sl_status *st)
{
    if (r->dead)
        return sl_status_set(st, r->dead, "%s", r->dead_message ? r->dead_message : "dead reader");
    for (;;) {
        const uint8_t *data;
        size_t size;
        sl_code c = sl__record_reader_next(r->records, &data, &size, st);
        if (c != SL_OK)
            return c;
        sl_event e;
        c = sl__event_parse(data, size, &e, st);
        if (c != SL_OK) {
            sl_status_prefix(st, "bad event at offset %" PRIu64 " in '%s'",
                             sl_record_reader_record_offset(r->records),
                             sl_record_reader_path(r->records));
            r->dead = c;
            r->dead_offset = sl_record_reader_record_offset(r->records);
            r->dead_message = strdup(sl_status_message(st));
            return c;
        }
        if (isnan(e.wall_time)) {
            r->skipped++;
            continue;
        }
        e.offset = sl_record_reader_record_offset(r->records);
        *ev = e;
        r->count++;
        sl_status_clear(st);
        return SL_OK;
    }
}

uint64_t sl_event_reader_offset(const sl_event_reader *r)
{
    if (r->dead)
        return r->dead_offset;
    return sl_record_reader_offset(r->records);
}

size_t sl_event_reader_pending(const sl_event_reader *r)
{
    return sl_record_reader_pending(r->records);
}

bool sl_event_reader_is_dead(const sl_event_reader *r)
{
    return r->dead != SL_OK || sl_record_reader_is_dead(r->records);
}

int64_t sl_event_reader_count(const sl_event_reader *r)
{
    return r->count;
}

int64_t sl_event_reader_skipped(const sl_event_reader *r)
{
    return r->skipped;
}

uint64_t sl_event_reader_bytes_read(const sl_event_reader *r)
{
    return sl_record_reader_bytes_read(r->records);
}

const char *sl_event_reader_path(const sl_event_reader *r)
{
    return sl_record_reader_path(r->records);
}
