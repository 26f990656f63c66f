/* Datasets of `sluice train`, loaded into memory once: MNIST IDX files,
 * TFRecord files of tf.train.Example, and CSV files, each turned into one
 * column per input feature (float or int64 values, a fixed number per
 * example).  Errors name the file and, where it applies, the record and
 * the feature. */
#include "config.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "example.pb-c.h"
#include "sluice/alloc.h"
#include "sluice/input.h"
#include "sluice/summaries/record.h"
#include "train-data.h"

void sl_dataset_free(sl_dataset *d)
{
    if (!d)
        return;
    for (int i = 0; i < d->ncols; i++)
        free(d->cols[i].data);
    free(d->cols);
    free(d);
}

static sl_dataset *dataset_new(int ncols)
{
    sl_dataset *d = calloc(1, sizeof(*d));
    if (d && !(d->cols = calloc((size_t)ncols + 1, sizeof(sl_column)))) {
        free(d);
        return NULL;
    }
    if (d)
        d->ncols = ncols;
    return d;
}

static char *join_path(const char *base, const char *p)
{
    size_t n = strlen(base) + strlen(p) + 2;
    char *r = malloc(n);
    if (!r)
        return NULL;
    if (p[0] == '/' || !base[0])
        snprintf(r, n, "%s", p);
    else
        snprintf(r, n, "%s/%s", base, p);
    return r;
}

char *sl_train_path(const char *base, const char *p)
{
    if (p[0] == '~' && p[1] == '/' && getenv("HOME")) {
        size_t n = strlen(getenv("HOME")) + strlen(p) + 1;
        char *r = malloc(n);
        if (r)
            snprintf(r, n, "%s%s", getenv("HOME"), p + 1);
        return r;
    }
    return join_path(base, p);
}

/* ---- MNIST ------------------------------------------------------------------ */

static sl_dataset *load_mnist(const Sluice__MnistSource *m, const char *base, int64_t limit,
                              const char *const *features, const float *scales, int nf, sl_status *st)
{
    const char *split = m->split && m->split[0] ? m->split : "train";
    if (!strcmp(split, "test"))
        split = "t10k";
    char *dir = sl_train_path(base, m->dir && m->dir[0] ? m->dir : ".");
    char img[4096], lab[4096];
    snprintf(img, sizeof(img), "%s/%s-images-idx3-ubyte", dir, split);
    snprintf(lab, sizeof(lab), "%s/%s-labels-idx1-ubyte", dir, split);
    free(dir);
    sl_tensor *ti = NULL, *tl = NULL;
    sl_dataset *d = NULL;
    if (!(ti = sl_idx_load(img, limit, st)) || !(tl = sl_idx_load(lab, limit, st)))
        goto out;
    if (sl_tensor_dtype(ti) != SL_DTYPE_UINT8 || sl_tensor_rank(ti) != 3 || sl_tensor_dtype(tl) != SL_DTYPE_UINT8 ||
        sl_tensor_rank(tl) != 1 || sl_tensor_dim(ti, 0) != sl_tensor_dim(tl, 0)) {
        sl_status_set(st, SL_INVALID_ARGUMENT, "'%s' and '%s' are not MNIST images [n, rows, cols] and labels [n]", img,
                      lab);
        goto out;
    }
    int64_t n = sl_tensor_dim(ti, 0), per = sl_tensor_dim(ti, 1) * sl_tensor_dim(ti, 2);
    if (!(d = dataset_new(nf)))
        goto oom;
    d->n = n;
    for (int f = 0; f < nf; f++) {
        sl_column *c = &d->cols[f];
        if (!strcmp(features[f], "image")) {
            float s = scales[f] != 0 ? scales[f] : 1.0f / 255.0f;
            c->is_float = true;
            c->per = per;
            if (!(c->data = malloc(sizeof(float) * (size_t)(n * per))))
                goto oom;
            const uint8_t *p = sl_tensor_data(ti);
            for (int64_t i = 0; i < n * per; i++)
                ((float *)c->data)[i] = (float)p[i] * s;
        } else if (!strcmp(features[f], "label")) {
            c->per = 1;
            if (!(c->data = malloc(sizeof(int64_t) * (size_t)n)))
                goto oom;
            const uint8_t *p = sl_tensor_data(tl);
            for (int64_t i = 0; i < n; i++)
                ((int64_t *)c->data)[i] = p[i];
        } else {
            sl_status_set(st, SL_INVALID_ARGUMENT, "MNIST has features \"image\" and \"label\", not \"%s\"", features[f]);
            goto fail;
        }
    }
    sl_status_clear(st);
    goto out;
oom:
    sl_status_set(st, SL_RESOURCE_EXHAUSTED, "out of memory loading MNIST");
fail:
    sl_dataset_free(d);
    d = NULL;
out:
    sl_tensor_unref(ti);
    sl_tensor_unref(tl);
    return d;
}

/* ---- Growing columns (TFRecord, CSV) ---------------------------------------- */

static bool column_push(sl_column *c, int64_t row, const void *vals, int64_t n, bool is_float, size_t *cap)
{
    if (row == 0) {
        c->per = n;
        c->is_float = is_float;
    }
    size_t need = (size_t)((row + 1) * c->per) * 8;
    if (need > *cap) {
        size_t nc = *cap ? *cap * 2 : 4096;
        while (nc < need)
            nc *= 2;
        void *p = realloc(c->data, nc);
        if (!p)
            return false;
        c->data = p;
        *cap = nc;
    }
    size_t es = c->is_float ? sizeof(float) : sizeof(int64_t);
    memcpy((char *)c->data + (size_t)(row * c->per) * es, vals, es * (size_t)n);
    return true;
}

static sl_dataset *load_tfrecord(const Sluice__RecordSource *r, const char *base, int64_t limit,
                                 const char *const *features, const float *scales, int nf, sl_status *st)
{
    sl_dataset *d = dataset_new(nf);
    size_t *caps = calloc((size_t)nf + 1, sizeof(size_t));
    if (!d || !caps) {
        sl_status_set(st, SL_RESOURCE_EXHAUSTED, "out of memory");
        goto fail;
    }
    if (r->n_files == 0) {
        sl_status_set(st, SL_INVALID_ARGUMENT, "tfrecord data names no files");
        goto fail;
    }
    for (size_t fi = 0; fi < r->n_files && (limit <= 0 || d->n < limit); fi++) {
        char *path = sl_train_path(base, r->files[fi]);
        sl_record_reader *rr = path ? sl_record_reader_open(path, 0, st) : NULL;
        if (!rr) {
            free(path);
            goto fail;
        }
        const uint8_t *data;
        size_t size;
        int64_t rec = 0;
        sl_code rc = SL_OK;
        while ((limit <= 0 || d->n < limit) && (rc = sl_record_reader_next(rr, &data, &size, st)) == SL_OK) {
            Tensorflow__Example *ex = tensorflow__example__unpack(NULL, size, data);
            if (!ex) {
                sl_status_set(st, SL_INVALID_ARGUMENT, "'%s': record %lld is not a tf.train.Example", path,
                              (long long)rec);
                goto bad;
            }
            for (int f = 0; f < nf; f++) {
                const Tensorflow__Feature *ft = NULL;
                for (size_t k = 0; ex->features && k < ex->features->n_feature; k++)
                    if (!strcmp(ex->features->feature[k]->key, features[f]))
                        ft = ex->features->feature[k]->value;
                bool ok = false;
                if (ft && ft->kind_case == TENSORFLOW__FEATURE__KIND_FLOAT_LIST) {
                    float s = scales[f] != 0 ? scales[f] : 1.0f;
                    for (size_t k = 0; s != 1.0f && k < ft->float_list->n_value; k++)
                        ft->float_list->value[k] *= s;
                    ok = (d->n == 0 || (d->cols[f].is_float && d->cols[f].per == (int64_t)ft->float_list->n_value)) &&
                         column_push(&d->cols[f], d->n, ft->float_list->value, (int64_t)ft->float_list->n_value, true,
                                     &caps[f]);
                } else if (ft && ft->kind_case == TENSORFLOW__FEATURE__KIND_INT64_LIST) {
                    ok = (d->n == 0 || (!d->cols[f].is_float && d->cols[f].per == (int64_t)ft->int64_list->n_value)) &&
                         column_push(&d->cols[f], d->n, ft->int64_list->value, (int64_t)ft->int64_list->n_value, false,
                                     &caps[f]);
                }
                if (!ok) {
                    sl_status_set(st, SL_INVALID_ARGUMENT,
                                  "'%s': record %lld: feature '%s' is missing, not float or int64, or of another "
                                  "length than in record 0",
                                  path, (long long)rec, features[f]);
                    tensorflow__example__free_unpacked(ex, NULL);
                    goto bad;
                }
            }
            tensorflow__example__free_unpacked(ex, NULL);
            d->n++;
            rec++;
        }
        if (limit <= 0 || d->n < limit) {
            if (rc != SL_OUT_OF_RANGE)
                goto bad;
            if (sl_record_reader_pending(rr) > 0) {
                sl_status_set(st, SL_DATA_LOSS, "'%s': truncated record at offset %llu", path,
                              (unsigned long long)sl_record_reader_offset(rr));
                goto bad;
            }
        }
        sl_record_reader_free(rr);
        free(path);
        continue;
bad:
        sl_record_reader_free(rr);
        free(path);
        goto fail;
    }
    free(caps);
    sl_status_clear(st);
    return d;
fail:
    free(caps);
    sl_dataset_free(d);
    return NULL;
}

static sl_dataset *load_csv(const Sluice__CsvSource *c, const char *base, int64_t limit,
                            const char *const *features, const float *scales, int nf, sl_status *st)
{
    char delim = c->field_delim && c->field_delim[0] ? c->field_delim[0] : ',';
    sl_dataset *d = dataset_new(nf);
    size_t *caps = calloc((size_t)nf + 1, sizeof(size_t));
    int *colidx = calloc((size_t)nf + 1, sizeof(int));
    char *line = NULL;
    size_t lcap = 0;
    if (!d || !caps || !colidx || c->n_files == 0) {
        sl_status_set(st, c->n_files ? SL_RESOURCE_EXHAUSTED : SL_INVALID_ARGUMENT,
                      c->n_files ? "out of memory" : "csv data names no files");
        goto fail;
    }
    for (size_t fi = 0; fi < c->n_files && (limit <= 0 || d->n < limit); fi++) {
        char *path = sl_train_path(base, c->files[fi]);
        FILE *f = path ? fopen(path, "r") : NULL;
        if (!f) {
            sl_status_set(st, SL_NOT_FOUND, "cannot open '%s': %s", path ? path : "?", strerror(errno));
            free(path);
            goto fail;
        }
        int64_t lineno = 0;
        ssize_t len;
        while ((limit <= 0 || d->n < limit) && (len = getline(&line, &lcap, f)) >= 0) {
            lineno++;
            while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
                line[--len] = '\0';
            char *fields[256];
            int nfields = 0;
            for (char *p = line; nfields < 256;) {
                fields[nfields++] = p;
                char *q = strchr(p, delim);
                if (!q)
                    break;
                *q = '\0';
                p = q + 1;
            }
            if (lineno == 1) {
                for (int k = 0; k < nf; k++) {
                    colidx[k] = -1;
                    for (int j = 0; c->header && j < nfields; j++)
                        if (!strcmp(fields[j], features[k]))
                            colidx[k] = j;
                    char *end;
                    long v = strtol(features[k], &end, 10);
                    if (colidx[k] < 0 && *end == '\0' && end != features[k])
                        colidx[k] = (int)v;
                    if (colidx[k] < 0) {
                        sl_status_set(st, SL_INVALID_ARGUMENT, "'%s': no column '%s'", path, features[k]);
                        fclose(f);
                        free(path);
                        goto fail;
                    }
                }
                if (c->header)
                    continue;
            }
            if (len == 0)
                continue;
            for (int k = 0; k < nf; k++) {
                if (colidx[k] >= nfields) {
                    sl_status_set(st, SL_INVALID_ARGUMENT, "'%s':%lld: no column %d", path, (long long)lineno, colidx[k]);
                    fclose(f);
                    free(path);
                    goto fail;
                }
                char *end;
                const char *txt = fields[colidx[k]];
                errno = 0;
                double v = strtod(txt, &end);
                if (end == txt || *end || errno) {
                    sl_status_set(st, SL_INVALID_ARGUMENT, "'%s':%lld: column '%s' holds \"%s\", not a number", path,
                                  (long long)lineno, features[k], txt);
                    fclose(f);
                    free(path);
                    goto fail;
                }
                bool is_int = d->n > 0 ? !d->cols[k].is_float : (v == floor(v) && scales[k] == 0 && !strchr(txt, '.'));
                float fv = (float)v * (scales[k] != 0 ? scales[k] : 1.0f);
                int64_t iv = (int64_t)v;
                if (!column_push(&d->cols[k], d->n, is_int ? (void *)&iv : (void *)&fv, 1, !is_int, &caps[k])) {
                    sl_status_set(st, SL_RESOURCE_EXHAUSTED, "out of memory");
                    fclose(f);
                    free(path);
                    goto fail;
                }
            }
            d->n++;
        }
        fclose(f);
        free(path);
    }
    free(line);
    free(caps);
    free(colidx);
    sl_status_clear(st);
    return d;
fail:
    free(line);
    free(caps);
    free(colidx);
    sl_dataset_free(d);
    return NULL;
}

sl_dataset *sl_dataset_load(const Sluice__Dataset *spec, const char *base, const char *const *features,
                            const float *scales, int nf, sl_status *st)
{
    sl_dataset *d = NULL;
    switch (spec->source_case) {
    case SLUICE__DATASET__SOURCE_MNIST:
        d = load_mnist(spec->mnist, base, spec->limit, features, scales, nf, st);
        break;
    case SLUICE__DATASET__SOURCE_TFRECORD:
        d = load_tfrecord(spec->tfrecord, base, spec->limit, features, scales, nf, st);
        break;
    case SLUICE__DATASET__SOURCE_CSV:
        d = load_csv(spec->csv, base, spec->limit, features, scales, nf, st);
        break;
    default:
        sl_status_set(st, SL_INVALID_ARGUMENT, "a dataset needs one of mnist, tfrecord or csv");
        return NULL;
    }
    if (d && d->n == 0) {
        sl_status_set(st, SL_INVALID_ARGUMENT, "the dataset holds no examples");
        sl_dataset_free(d);
        return NULL;
    }
    return d;
}
