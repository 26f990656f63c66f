/* Reader kernels: TFRecordFileReader, TextLineFileReader and
 * IdxFileReader make a reader resource (files from the "filenames" attr,
 * read in order num_epochs times, 0 meaning forever); ReaderReadUpTo and
 * IdxReaderReadUpTo take up to n records from it under the reader's mutex,
 * so concurrent queue-runner threads each get whole, distinct batches.
 * Reads continue across file boundaries and epochs; after the last epoch
 * they return what is left, then fail with OUT_OF_RANGE.  TFRecord reading
 * goes through summaries' record reader (checksums verified: a corrupt
 * file fails with DATA_LOSS naming the file and offset). */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#include "io-private.h"
#include "runtime-kernels.h"
#include "sluice/alloc.h"
#include "sluice/input.h"
#include "sluice/resource.h"
#include "sluice/summaries/record.h"

#define READER_TYPE "reader"
#define MAX_IDX_FILES 8

enum reader_kind { READ_TFRECORD, READ_LINES, READ_IDX };

typedef struct reader {
    pthread_mutex_t mu;
    enum reader_kind kind;
    char **files;
    int num_files;
    int64_t num_epochs;      /* 0: forever */
    int64_t skip_header;     /* text lines */
    int64_t epoch;           /* epochs finished */
    int file;                /* current file index (lines, tfrecord) */
    int64_t record;          /* records read from the current file (or IDX position) */
    bool done;
    sl_record_reader *rec;   /* tfrecord */
    FILE *text;              /* lines */
    char *line;
    size_t line_cap;
    FILE *idx[MAX_IDX_FILES];   /* IDX: all files at once, in lockstep */
    sl_idx_header hdr[MAX_IDX_FILES];
} reader;

static void reader_close_file(reader *r)
{
    sl_record_reader_free(r->rec);
    r->rec = NULL;
    if (r->text)
        fclose(r->text);
    r->text = NULL;
}

static void reader_destroy(void *obj)
{
    reader *r = obj;
    reader_close_file(r);
    for (int i = 0; i < MAX_IDX_FILES; i++)
        if (r->idx[i])
            fclose(r->idx[i]);
    for (int i = 0; i < r->num_files; i++)
        sl_free(r->files[i]);
    sl_free(r->files);
    free(r->line);
    pthread_mutex_destroy(&r->mu);
    sl_free(r);
}

typedef struct create_arg {
    const sl_node *node;
    enum reader_kind kind;
} create_arg;

static void *reader_create(void *arg, sl_status *st)
{
    create_arg *a = arg;
    reader *r = sl_calloc(1, sizeof(*r));
    if (!r) {
        sl_status_set(st, SL_RESOURCE_EXHAUSTED, "out of memory");
        return NULL;
    }
    pthread_mutex_init(&r->mu, NULL);
    r->kind = a->kind;
    sl_node_attr_int(a->node, "num_epochs", &r->num_epochs);
    sl_node_attr_int(a->node, "skip_header_lines", &r->skip_header);
    int n = sl_node_attr_list_size(a->node, "filenames");
    if (n <= 0 || (a->kind == READ_IDX && n > MAX_IDX_FILES)) {
        sl_status_set(st, SL_INVALID_ARGUMENT, "reader needs 1 to %d file names", MAX_IDX_FILES);
        goto fail;
    }
    if (!(r->files = sl_calloc((size_t)n, sizeof(char *))))
        goto oom;
    for (int i = 0; i < n; i++) {
        const char *s;
        size_t len;
        sl_node_attr_string_at(a->node, "filenames", i, &s, &len);
        if (!(r->files[i] = sl_strndup(s, len)))
            goto oom;
        r->num_files++;
    }
    if (a->kind == READ_IDX) {
        /* every file open now: a bad one fails the first read, not a later epoch */
        for (int i = 0; i < n; i++) {
            if (sl_idx_read_header(r->files[i], &r->hdr[i], st) != SL_OK)
                goto fail;
            if (r->hdr[i].shape.dims[0] != r->hdr[0].shape.dims[0]) {
                sl_status_set(st, SL_INVALID_ARGUMENT, "IDX files '%s' and '%s' hold %lld and %lld records",
                              r->files[0], r->files[i], (long long)r->hdr[0].shape.dims[0],
                              (long long)r->hdr[i].shape.dims[0]);
                goto fail;
            }
            if (!(r->idx[i] = fopen(r->files[i], "rb"))) {
                sl_status_set(st, SL_NOT_FOUND, "cannot open '%s': %s", r->files[i], strerror(errno));
                goto fail;
            }
            fseek(r->idx[i], (long)r->hdr[i].header_bytes, SEEK_SET);
        }
    }
    return r;
oom:
    sl_status_set(st, SL_RESOURCE_EXHAUSTED, "out of memory");
fail:
    reader_destroy(r);
    return NULL;
}

static void make_reader(sl_kernel_ctx *ctx, enum reader_kind kind)
{
    sl_resource_mgr *rm = sl_kernel_ctx_resources(ctx);
    if (!rm) {
        sl_kernel_ctx_fail(ctx, SL_FAILED_PRECONDITION, "no resource manager: run this op in a session");
        return;
    }
    char name[SL_RESOURCE_NAME_MAX], container[SL_RESOURCE_NAME_MAX];
    sl__resource_name(sl_kernel_ctx_node(ctx), name, sizeof(name));
    sl__resource_container(sl_kernel_ctx_node(ctx), container, sizeof(container));
    sl_status *st = sl_status_new();
    if (!st) {
        sl_kernel_ctx_fail(ctx, SL_RESOURCE_EXHAUSTED, "out of memory");
        return;
    }
    create_arg arg = {sl_kernel_ctx_node(ctx), kind};
    sl_resource *r = sl_resource_mgr_lookup_or_create(rm, container, name, READER_TYPE, reader_create, &arg,
                                                      reader_destroy, st);
    const sl_resource_handle *h = r ? sl_resource_mgr_handle(rm, container, name, READER_TYPE) : NULL;
    sl_tensor *t = h ? sl_resource_handle_tensor(h, st) : NULL;
    if (!r)
        sl_kernel_ctx_fail(ctx, sl_status_code(st), "%s", sl_status_message(st));
    else if (!t)
        sl_kernel_ctx_fail(ctx, SL_RESOURCE_EXHAUSTED, "out of memory for a reader handle");
    else
        sl_kernel_ctx_set_output(ctx, 0, t);
    sl_tensor_unref(t);
    sl_resource_unref(r);
    sl_status_free(st);
}

static void tfrecord_reader_compute(sl_kernel_ctx *ctx) { make_reader(ctx, READ_TFRECORD); }
static void text_reader_compute(sl_kernel_ctx *ctx) { make_reader(ctx, READ_LINES); }
static void idx_reader_compute(sl_kernel_ctx *ctx) { make_reader(ctx, READ_IDX); }

/* The reader of input 0 (a new reference) and n = input 1, or NULL. */
static sl_resource *input_reader(sl_kernel_ctx *ctx, int64_t *n)
{
    sl_resource_mgr *rm = sl_kernel_ctx_resources(ctx);
    const sl_resource_handle *h = sl_resource_handle_from_tensor(sl_kernel_ctx_input(ctx, 0));
    const sl_tensor *nt = sl_kernel_ctx_input(ctx, 1);
    if (!rm || !h || strcmp(h->type, READER_TYPE)) {
        sl_kernel_ctx_fail(ctx, SL_INVALID_ARGUMENT, "input 0 is not a reader handle");
        return NULL;
    }
    *n = sl_tensor_num_elements(nt) == 1 ? *(const int64_t *)sl_tensor_data(nt) : -1;
    if (*n <= 0) {
        sl_kernel_ctx_fail(ctx, SL_INVALID_ARGUMENT, "num_records must be a positive scalar");
        return NULL;
    }
    sl_status *st = sl_status_new();
    sl_resource *r = st ? sl_resource_mgr_lookup_handle(rm, h, st) : NULL;
    if (!r)
        sl_kernel_ctx_fail(ctx, st ? sl_status_code(st) : SL_RESOURCE_EXHAUSTED, "%s",
                           st ? sl_status_message(st) : "out of memory");
    sl_status_free(st);
    return r;
}

/* After the end of the files: next epoch, or done.  Returns false when done. */
static bool next_epoch(reader *r)
{
    r->epoch++;
    if (r->num_epochs > 0 && r->epoch >= r->num_epochs) {
        r->done = true;
        return false;
    }
    return true;
}

/* One record of a line or TFRecord reader into *key / *val (copied).
 * SL_OUT_OF_RANGE when every epoch is read. */
static sl_code next_record(reader *r, sl_tstring *key, sl_tstring *val, sl_status *st)
{
    for (;;) {
        if (r->done)
            return sl_status_set(st, SL_OUT_OF_RANGE, "reader has read %lld epochs of its files",
                                 (long long)r->epoch);
        const char *path = r->files[r->file];
        if (!r->rec && !r->text) {
            r->record = 0;
            if (r->kind == READ_TFRECORD) {
                if (!(r->rec = sl_record_reader_open(path, 0, st)))
                    return sl_status_code(st);
            } else {
                if (!(r->text = fopen(path, "r")))
                    return sl_status_set(st, errno == ENOENT ? SL_NOT_FOUND : SL_PERMISSION_DENIED,
                                         "cannot open '%s': %s", path, strerror(errno));
            }
        }
        const void *data = NULL;
        size_t size = 0;
        bool got = false;
        if (r->kind == READ_TFRECORD) {
            const uint8_t *d;
            sl_code rc = sl_record_reader_next(r->rec, &d, &size, st);
            if (rc == SL_OK) {
                data = d;
                got = true;
            } else if (rc != SL_OUT_OF_RANGE) {
                return rc;
            } else if (sl_record_reader_pending(r->rec) > 0) {
                return sl_status_set(st, SL_DATA_LOSS, "'%s': truncated record at offset %llu", path,
                                     (unsigned long long)sl_record_reader_offset(r->rec));
            }
        } else {
            for (;;) {
                ssize_t len = getline(&r->line, &r->line_cap, r->text);
                if (len < 0)
                    break;
                while (len > 0 && (r->line[len - 1] == '\n' || r->line[len - 1] == '\r'))
                    len--;
                if (r->record++ < r->skip_header)
                    continue;
                data = r->line;
                size = (size_t)len;
                got = true;
                break;
            }
        }
        if (!got) {
            reader_close_file(r);
            if (++r->file == r->num_files) {
                r->file = 0;
                next_epoch(r);
            }
            continue;
        }
        if (r->kind == READ_TFRECORD)
            r->record++;
        char kb[64];
        int kl = snprintf(kb, sizeof(kb), ":%lld", (long long)r->record - 1);
        size_t pl = strlen(path);
        key->data = sl_malloc(pl + (size_t)kl + 1);
        val->data = sl_malloc(size + 1);
        if (!key->data || !val->data)
            return sl_status_set(st, SL_RESOURCE_EXHAUSTED, "out of memory reading '%s'", path);
        memcpy(key->data, path, pl);
        memcpy(key->data + pl, kb, (size_t)kl + 1);
        key->size = pl + (size_t)kl;
        if (size)
            memcpy(val->data, data, size);
        val->data[size] = '\0';
        val->size = size;
        return SL_OK;
    }
}

static void read_up_to_compute(sl_kernel_ctx *ctx)
{
    int64_t n;
    sl_resource *res = input_reader(ctx, &n);
    if (!res)
        return;
    reader *r = sl_resource_object(res);
    sl_status *st = sl_status_new();
    sl_tstring *keys = sl_calloc((size_t)n, sizeof(sl_tstring)), *vals = sl_calloc((size_t)n, sizeof(sl_tstring));
    int64_t got = 0;
    sl_code rc = st && keys && vals ? SL_OK : SL_RESOURCE_EXHAUSTED;
    if (rc == SL_OK && r->kind == READ_IDX)
        rc = sl_status_set(st, SL_INVALID_ARGUMENT, "an IDX reader is read with IdxReaderReadUpTo");
    pthread_mutex_lock(&r->mu);
    while (rc == SL_OK && got < n && !sl_kernel_ctx_is_cancelled(ctx)) {
        rc = next_record(r, &keys[got], &vals[got], st);
        if (rc == SL_OK)
            got++;
    }
    pthread_mutex_unlock(&r->mu);
    if (rc == SL_OUT_OF_RANGE && got > 0)
        rc = SL_OK;  /* the last, partial batch */
    if (rc != SL_OK) {
        sl_kernel_ctx_fail(ctx, rc, "%s", st ? sl_status_message(st) : "out of memory");
    } else {
        sl_shape s = sl_shape_vector(got);
        sl_tensor *kt = sl_kernel_ctx_allocate_output(ctx, 0, &s), *vt = sl_kernel_ctx_allocate_output(ctx, 1, &s);
        if (kt && vt) { /* move the strings in (the tensors free them) */
            memcpy(sl_tensor_data(kt), keys, sizeof(sl_tstring) * (size_t)got);
            memcpy(sl_tensor_data(vt), vals, sizeof(sl_tstring) * (size_t)got);
            got = 0;
        }
    }
    for (int64_t i = 0; i < got; i++) {
        sl_free(keys[i].data);
        sl_free(vals[i].data);
    }
    if (rc != SL_OK && keys && vals && got < n) { /* the record that failed half-way */
        sl_free(keys[got].data);
        sl_free(vals[got].data);
    }
    sl_free(keys);
    sl_free(vals);
    sl_status_free(st);
    sl_resource_unref(res);
}

static void idx_read_up_to_compute(sl_kernel_ctx *ctx)
{
    int64_t n;
    sl_resource *res = input_reader(ctx, &n);
    if (!res)
        return;
    reader *r = sl_resource_object(res);
    if (r->kind != READ_IDX || sl_kernel_ctx_num_outputs(ctx) != r->num_files) {
        sl_kernel_ctx_fail(ctx, SL_INVALID_ARGUMENT, "needs an IDX reader of %d files", sl_kernel_ctx_num_outputs(ctx));
        sl_resource_unref(res);
        return;
    }
    pthread_mutex_lock(&r->mu);
    int64_t total = r->hdr[0].shape.dims[0];
    int64_t got = 0;
    sl_tensor *outs[MAX_IDX_FILES] = {NULL};
    bool failed = false;
    if (!r->done && total > 0) {
        /* how many: up to n, crossing into new epochs while allowed */
        int64_t pos = r->record, epoch = r->epoch;
        while (got < n) {
            if (pos == total) {
                epoch++;
                pos = 0;
                if (r->num_epochs > 0 && epoch >= r->num_epochs)
                    break;
            }
            int64_t take = n - got < total - pos ? n - got : total - pos;
            got += take;
            pos += take;
        }
    }
    for (int f = 0; f < r->num_files && got > 0; f++) {
        sl_shape s = r->hdr[f].shape;
        s.dims[0] = got;
        if (sl_node_output_type(sl_kernel_ctx_node(ctx), f) != r->hdr[f].dtype) {
            sl_kernel_ctx_fail(ctx, SL_INVALID_ARGUMENT, "'%s' holds %s, the op expects %s", r->files[f],
                               sl_dtype_name(r->hdr[f].dtype),
                               sl_dtype_name(sl_node_output_type(sl_kernel_ctx_node(ctx), f)));
            failed = true;
            break;
        }
        if (!(outs[f] = sl_kernel_ctx_allocate_output(ctx, f, &s))) {
            failed = true;
            break;
        }
    }
    int64_t done = 0;
    while (!failed && done < got) {
        if (r->record == total) {
            r->record = 0;
            r->epoch++;
            for (int f = 0; f < r->num_files; f++)
                fseek(r->idx[f], (long)r->hdr[f].header_bytes, SEEK_SET);
        }
        int64_t take = got - done < total - r->record ? got - done : total - r->record;
        for (int f = 0; f < r->num_files; f++) {
            size_t rb = r->hdr[f].record_bytes;
            unsigned char *dst = (unsigned char *)sl_tensor_data(outs[f]) + (size_t)done * rb;
            if (fread(dst, rb, (size_t)take, r->idx[f]) != (size_t)take) {
                sl_kernel_ctx_fail(ctx, SL_DATA_LOSS, "'%s': IDX data cut short at record %lld", r->files[f],
                                   (long long)r->record);
                failed = true;
                break;
            }
            sl__io_to_host(dst, (size_t)sl_dtype_size(r->hdr[f].dtype), rb / (size_t)sl_dtype_size(r->hdr[f].dtype) * (size_t)take);
        }
        r->record += take;
        done += take;
    }
    if (!failed && r->record == total && r->num_epochs > 0 && r->epoch + 1 >= r->num_epochs) {
        r->done = true;
        r->epoch++;
    }
    pthread_mutex_unlock(&r->mu);
    if (!failed && got == 0)
        sl_kernel_ctx_fail(ctx, SL_OUT_OF_RANGE, "reader of '%s' has read %lld epochs", r->files[0],
                           (long long)r->num_epochs);
    sl_resource_unref(res);
}

static const sl_kernel_def reader_kernels[] = {
    {.op = "TFRecordFileReader", .device = SL_DEVICE_CPU, .compute = tfrecord_reader_compute},
    {.op = "TextLineFileReader", .device = SL_DEVICE_CPU, .compute = text_reader_compute},
    {.op = "IdxFileReader", .device = SL_DEVICE_CPU, .compute = idx_reader_compute},
    {.op = "ReaderReadUpTo", .device = SL_DEVICE_CPU, .compute = read_up_to_compute, .cost = 1},
    {.op = "IdxReaderReadUpTo", .device = SL_DEVICE_CPU, .compute = idx_read_up_to_compute, .cost = 1},
};

sl_code sl__io_register_reader_kernels(sl_status *status)
{
    for (size_t i = 0; i < sizeof(reader_kernels) / sizeof(reader_kernels[0]); i++)
        if (sl_kernel_register(&reader_kernels[i], status) != SL_OK)
            return sl_status_code(status);
    return SL_OK;
}
