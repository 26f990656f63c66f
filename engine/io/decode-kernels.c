/* Decoding kernels: DecodeRaw (bytes as a vector of numbers), DecodeCSV
 * (columns of text records, with defaults for empty fields and RFC 4180
 * quotes), and ParseExample / ParseSingleExample for the dense features of
 * serialized tf.train.Example protos (sparse features are refused with
 * UNIMPLEMENTED).  Errors name the record and the feature or column. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "example.pb-c.h"
#include "io-private.h"
#include "sluice/alloc.h"

/* ---- DecodeRaw ------------------------------------------------------------- */

static void decode_raw_compute(sl_kernel_ctx *ctx)
{
    const sl_tensor *in = sl_kernel_ctx_input(ctx, 0);
    const sl_tstring *s = sl_tensor_data(in);
    int64_t n = sl_tensor_num_elements(in);
    sl_dtype dt = sl_node_output_type(sl_kernel_ctx_node(ctx), 0);
    size_t es = (size_t)sl_dtype_size(dt);
    size_t len = n > 0 ? s[0].size : 0;
    for (int64_t i = 0; i < n; i++)
        if (s[i].size != len || len % es) {
            sl_kernel_ctx_fail(ctx, SL_INVALID_ARGUMENT,
                               "input %lld has %zu bytes: every input must have the same length, a multiple of %zu",
                               (long long)i, s[i].size, es);
            return;
        }
    sl_shape os = *sl_tensor_shape(in);
    if (os.rank >= SL_MAX_DIMS) {
        sl_kernel_ctx_fail(ctx, SL_INVALID_ARGUMENT, "input has too many dimensions");
        return;
    }
    os.dims[os.rank++] = (int64_t)(len / es);
    sl_tensor *out = sl_kernel_ctx_allocate_output(ctx, 0, &os);
    if (!out)
        return;
    bool little = true;
    sl_node_attr_bool(sl_kernel_ctx_node(ctx), "little_endian", &little);
    for (int64_t i = 0; i < n; i++) {
        unsigned char *dst = (unsigned char *)sl_tensor_data(out) + (size_t)i * len;
        memcpy(dst, s[i].data, len);
        if (!little)
            sl__io_to_host(dst, es, len / es);
    }
}

/* ---- DecodeCSV ------------------------------------------------------------- */

/* Splits rec into at most max fields (pointers into buf, unquoted);
 * returns the count, or -1 for a bad quote. */
static int split_csv(const char *rec, size_t len, char delim, bool quotes, char *buf, char **fields,
                     size_t *lens, int max)
{
    int n = 0;
    size_t i = 0;
    char *o = buf;
    for (;;) {
        if (n == max)
            return max + 1;
        fields[n] = o;
        if (quotes && i < len && rec[i] == '"') {
            i++;
            for (;;) {
                if (i >= len)
                    return -1;
                if (rec[i] == '"') {
                    if (i + 1 < len && rec[i + 1] == '"') {
                        *o++ = '"';
                        i += 2;
                        continue;
                    }
                    i++;
                    break;
                }
                *o++ = rec[i++];
            }
            if (i < len && rec[i] != delim)
                return -1;
        } else {
            while (i < len && rec[i] != delim)
                *o++ = rec[i++];
        }
        lens[n] = (size_t)(o - fields[n]);
        *o++ = '\0';
        n++;
        if (i >= len)
            return n;
        i++; /* the delimiter */
    }
}

static void decode_csv_compute(sl_kernel_ctx *ctx)
{
    const sl_node *node = sl_kernel_ctx_node(ctx);
    const sl_tensor *recs = sl_kernel_ctx_input(ctx, 0);
    int k = sl_kernel_ctx_num_outputs(ctx);
    int64_t n = sl_tensor_num_elements(recs);
    const char *delim_s = ",", *na = "";
    size_t dl = 1, nal = 0;
    sl_node_attr_string(node, "field_delim", &delim_s, &dl);
    sl_node_attr_string(node, "na_value", &na, &nal);
    bool quotes = true;
    sl_node_attr_bool(node, "use_quote_delim", &quotes);
    if (dl != 1 || sl_node_attr_list_size(node, "select_cols") > 0) {
        sl_kernel_ctx_fail(ctx, SL_UNIMPLEMENTED, "field_delim must be one character, select_cols empty");
        return;
    }
    sl_tensor *outs[64];
    if (k > 64) {
        sl_kernel_ctx_fail(ctx, SL_UNIMPLEMENTED, "at most 64 columns");
        return;
    }
    for (int c = 0; c < k; c++) {
        const sl_tensor *d = sl_kernel_ctx_input(ctx, 1 + c);
        if (sl_tensor_num_elements(d) > 1) {
            sl_kernel_ctx_fail(ctx, SL_INVALID_ARGUMENT, "record_defaults[%d] must have at most one element", c);
            return;
        }
        if (!(outs[c] = sl_kernel_ctx_allocate_output(ctx, c, sl_tensor_shape(recs))))
            return;
    }
    const sl_tstring *rs = sl_tensor_data(recs);
    char *fields[65];
    size_t lens[65];
    for (int64_t r = 0; r < n; r++) {
        char *buf = sl_malloc(rs[r].size + 2 * (size_t)k + 2);
        if (!buf) {
            sl_kernel_ctx_fail(ctx, SL_RESOURCE_EXHAUSTED, "out of memory");
            return;
        }
        int got = split_csv(rs[r].data, rs[r].size, delim_s[0], quotes, buf, fields, lens, k);
        if (got != k) {
            if (got < 0)
                sl_kernel_ctx_fail(ctx, SL_INVALID_ARGUMENT, "record %lld: unbalanced quote in \"%.60s\"", (long long)r,
                                   rs[r].data);
            else
                sl_kernel_ctx_fail(ctx, SL_INVALID_ARGUMENT, "record %lld: expected %d fields in \"%.60s\"",
                                   (long long)r, k, rs[r].data);
            sl_free(buf);
            return;
        }
        for (int c = 0; c < k; c++) {
            const sl_tensor *d = sl_kernel_ctx_input(ctx, 1 + c);
            sl_dtype dt = sl_tensor_dtype(d);
            bool empty = lens[c] == 0 || (nal > 0 && lens[c] == nal && !memcmp(fields[c], na, nal));
            if (empty && sl_tensor_num_elements(d) == 0) {
                sl_kernel_ctx_fail(ctx, SL_INVALID_ARGUMENT, "record %lld: field %d is empty and has no default",
                                   (long long)r, c);
                sl_free(buf);
                return;
            }
            if (dt == SL_DTYPE_STRING) {
                sl_status *st = sl_status_new();
                const sl_tstring *ds = sl_tensor_data(d);
                sl_tensor_set_string(outs[c], r, empty ? ds->data : fields[c], empty ? ds->size : lens[c], st);
                sl_status_free(st);
                continue;
            }
            if (empty) {
                size_t es = (size_t)sl_dtype_size(dt);
                memcpy((char *)sl_tensor_data(outs[c]) + (size_t)r * es, sl_tensor_data(d), es);
                continue;
            }
            char *end;
            errno = 0;
            bool bad;
            switch (dt) {
            case SL_DTYPE_FLOAT: ((float *)sl_tensor_data(outs[c]))[r] = strtof(fields[c], &end); break;
            case SL_DTYPE_DOUBLE: ((double *)sl_tensor_data(outs[c]))[r] = strtod(fields[c], &end); break;
            case SL_DTYPE_INT32: {
                long long v = strtoll(fields[c], &end, 10);
                if (v < INT32_MIN || v > INT32_MAX)
                    errno = ERANGE;
                ((int32_t *)sl_tensor_data(outs[c]))[r] = (int32_t)v;
                break;
            }
            default: ((int64_t *)sl_tensor_data(outs[c]))[r] = strtoll(fields[c], &end, 10); break;
            }
            bad = *end != '\0' || errno != 0;
            if (bad) {
                sl_kernel_ctx_fail(ctx, SL_INVALID_ARGUMENT, "record %lld: field %d \"%s\" is not a valid %s",
                                   (long long)r, c, fields[c], sl_dtype_name(dt));
                sl_free(buf);
                return;
            }
        }
        sl_free(buf);
    }
}

/* ---- Examples ---------------------------------------------------------------- */

typedef struct dense_spec {
    const char *key;
    size_t key_len;
    sl_dtype dtype;
    sl_shape shape;
    int64_t count;            /* elements per example */
    const sl_tensor *deflt;   /* NULL or empty: required */
} dense_spec;

static const Tensorflow__Feature *find_feature(const Tensorflow__Example *ex, const dense_spec *d)
{
    if (!ex->features)
        return NULL;
    for (size_t i = 0; i < ex->features->n_feature; i++) {
        const Tensorflow__Features__FeatureEntry *e = ex->features->feature[i];
        if (e->key && strlen(e->key) == d->key_len && !memcmp(e->key, d->key, d->key_len))
            return e->value;
    }
    return NULL;
}

/* Fills element range [at, at + count) of out from one example. */
static bool fill_dense(sl_kernel_ctx *ctx, const Tensorflow__Example *ex, int64_t which, const dense_spec *d,
                       sl_tensor *out, int64_t at)
{
    const Tensorflow__Feature *f = find_feature(ex, d);
    if (!f || f->kind_case == TENSORFLOW__FEATURE__KIND__NOT_SET) {
        if (!d->deflt || sl_tensor_num_elements(d->deflt) == 0) {
            sl_kernel_ctx_fail(ctx, SL_INVALID_ARGUMENT, "example %lld: feature '%.*s' is missing and has no default",
                               (long long)which, (int)d->key_len, d->key);
            return false;
        }
        int64_t dn = sl_tensor_num_elements(d->deflt);
        for (int64_t i = 0; i < d->count; i++) {
            int64_t src = dn == 1 ? 0 : i;
            if (d->dtype == SL_DTYPE_STRING) {
                const sl_tstring *s = (const sl_tstring *)sl_tensor_data(d->deflt) + src;
                sl_tensor_set_string(out, at + i, s->data, s->size, NULL);
            } else {
                size_t es = (size_t)sl_dtype_size(d->dtype);
                memcpy((char *)sl_tensor_data(out) + (size_t)(at + i) * es,
                       (const char *)sl_tensor_data(d->deflt) + (size_t)src * es, es);
            }
        }
        return true;
    }
    size_t n;
    const char *kind;
    switch (f->kind_case) {
    case TENSORFLOW__FEATURE__KIND_FLOAT_LIST: n = f->float_list->n_value; kind = "float"; break;
    case TENSORFLOW__FEATURE__KIND_INT64_LIST: n = f->int64_list->n_value; kind = "int64"; break;
    default: n = f->bytes_list->n_value; kind = "string"; break;
    }
    sl_dtype want = f->kind_case == TENSORFLOW__FEATURE__KIND_FLOAT_LIST   ? SL_DTYPE_FLOAT
                    : f->kind_case == TENSORFLOW__FEATURE__KIND_INT64_LIST ? SL_DTYPE_INT64
                                                                           : SL_DTYPE_STRING;
    if (want != d->dtype || (int64_t)n != d->count) {
        sl_kernel_ctx_fail(ctx, SL_INVALID_ARGUMENT,
                           "example %lld: feature '%.*s' holds %zu %s values, expected %lld %s values",
                           (long long)which, (int)d->key_len, d->key, n, kind, (long long)d->count,
                           sl_dtype_name(d->dtype));
        return false;
    }
    if (d->dtype == SL_DTYPE_FLOAT)
        memcpy((float *)sl_tensor_data(out) + at, f->float_list->value, n * sizeof(float));
    else if (d->dtype == SL_DTYPE_INT64)
        memcpy((int64_t *)sl_tensor_data(out) + at, f->int64_list->value, n * sizeof(int64_t));
    else
        for (size_t i = 0; i < n; i++)
            sl_tensor_set_string(out, at + (int64_t)i, (const char *)f->bytes_list->value[i].data,
                                 f->bytes_list->value[i].len, NULL);
    return true;
}

/* Parses the examples of `ser` into the dense outputs (starting at output
 * out0); batch: outputs get a leading [n] dimension. */
static void parse_examples(sl_kernel_ctx *ctx, const sl_tensor *ser, dense_spec *ds, int nd, int out0, bool batch)
{
    int64_t n = sl_tensor_num_elements(ser);
    sl_tensor *outs[64];
    if (nd > 64) {
        sl_kernel_ctx_fail(ctx, SL_UNIMPLEMENTED, "at most 64 dense features");
        return;
    }
    for (int i = 0; i < nd; i++) {
        sl_shape s = ds[i].shape;
        if (batch) {
            memmove(s.dims + 1, s.dims, sizeof(int64_t) * (size_t)s.rank);
            s.dims[0] = n;
            s.rank++;
        }
        if (!(outs[i] = sl_kernel_ctx_allocate_output(ctx, out0 + i, &s)))
            return;
    }
    const sl_tstring *ss = sl_tensor_data(ser);
    for (int64_t e = 0; e < n; e++) {
        Tensorflow__Example *ex = tensorflow__example__unpack(NULL, ss[e].size, (const uint8_t *)ss[e].data);
        if (!ex) {
            sl_kernel_ctx_fail(ctx, SL_INVALID_ARGUMENT, "example %lld: not a serialized tf.train.Example (%zu bytes)",
                               (long long)e, ss[e].size);
            return;
        }
        bool good = true;
        for (int i = 0; i < nd && good; i++)
            good = fill_dense(ctx, ex, e, &ds[i], outs[i], e * ds[i].count);
        tensorflow__example__free_unpacked(ex, NULL);
        if (!good)
            return;
    }
}

static bool dense_specs(sl_kernel_ctx *ctx, dense_spec *ds, int nd, int keys_from_inputs, int defaults_at)
{
    const sl_node *node = sl_kernel_ctx_node(ctx);
    const int *types = NULL;
    int nt = 0;
    sl_node_attr_type_list(node, "Tdense", &types, &nt);
    if (nt != nd || sl_node_attr_list_size(node, "dense_shapes") != nd) {
        sl_kernel_ctx_fail(ctx, SL_INVALID_ARGUMENT, "Tdense and dense_shapes must have %d entries", nd);
        return false;
    }
    for (int i = 0; i < nd; i++) {
        if (keys_from_inputs >= 0) {
            const sl_tensor *k = sl_kernel_ctx_input(ctx, keys_from_inputs + i);
            const sl_tstring *s = sl_tensor_data(k);
            ds[i].key = s->data;
            ds[i].key_len = s->size;
        } else {
            sl_node_attr_string_at(node, "dense_keys", i, &ds[i].key, &ds[i].key_len);
        }
        ds[i].dtype = (sl_dtype)types[i];
        sl_node_attr_shape_at(node, "dense_shapes", i, &ds[i].shape);
        ds[i].count = sl_shape_num_elements(&ds[i].shape);
        ds[i].deflt = sl_kernel_ctx_input(ctx, defaults_at + i);
        if (ds[i].count < 0) {
            sl_kernel_ctx_fail(ctx, SL_INVALID_ARGUMENT, "dense feature '%.*s' needs a fully defined shape",
                               (int)ds[i].key_len, ds[i].key);
            return false;
        }
        int64_t dn = sl_tensor_num_elements(ds[i].deflt);
        if (dn > 1 && dn != ds[i].count) {
            sl_kernel_ctx_fail(ctx, SL_INVALID_ARGUMENT, "default of '%.*s' has %lld elements, expected %lld",
                               (int)ds[i].key_len, ds[i].key, (long long)dn, (long long)ds[i].count);
            return false;
        }
    }
    return true;
}

static void parse_example_compute(sl_kernel_ctx *ctx)
{
    int64_t ns = 0, nd = 0;
    sl_node_attr_int(sl_kernel_ctx_node(ctx), "Nsparse", &ns);
    sl_node_attr_int(sl_kernel_ctx_node(ctx), "Ndense", &nd);
    if (ns > 0) {
        sl_kernel_ctx_fail(ctx, SL_UNIMPLEMENTED, "sparse features are not supported (Nsparse = %lld)", (long long)ns);
        return;
    }
    dense_spec ds[64];
    if (nd > 64 || !dense_specs(ctx, ds, (int)nd, 2, 2 + (int)nd))
        return;
    parse_examples(ctx, sl_kernel_ctx_input(ctx, 0), ds, (int)nd, 0, true);
}

static void parse_single_example_compute(sl_kernel_ctx *ctx)
{
    int64_t ns = 0;
    sl_node_attr_int(sl_kernel_ctx_node(ctx), "num_sparse", &ns);
    int nd = sl_node_attr_list_size(sl_kernel_ctx_node(ctx), "dense_keys");
    if (ns > 0) {
        sl_kernel_ctx_fail(ctx, SL_UNIMPLEMENTED, "sparse features are not supported (num_sparse = %lld)",
                           (long long)ns);
        return;
    }
    const sl_tensor *ser = sl_kernel_ctx_input(ctx, 0);
    if (sl_tensor_num_elements(ser) != 1 || sl_tensor_rank(ser) != 0) {
        sl_kernel_ctx_fail(ctx, SL_INVALID_ARGUMENT, "serialized must be a scalar");
        return;
    }
    dense_spec ds[64];
    if (nd < 0 || nd > 64 || !dense_specs(ctx, ds, nd, -1, 1))
        return;
    parse_examples(ctx, ser, ds, nd, 0, false);
}

static const sl_kernel_def decode_kernels[] = {
    {.op = "DecodeRaw", .device = SL_DEVICE_CPU, .compute = decode_raw_compute},
    {.op = "DecodeCSV", .device = SL_DEVICE_CPU, .compute = decode_csv_compute, .cost = 1},
    {.op = "ParseExample", .device = SL_DEVICE_CPU, .compute = parse_example_compute, .cost = 1},
    {.op = "ParseSingleExample", .device = SL_DEVICE_CPU, .compute = parse_single_example_compute, .cost = 1},
};

sl_code sl__io_register_decode_kernels(sl_status *status)
{
    for (size_t i = 0; i < sizeof(decode_kernels) / sizeof(decode_kernels[0]); i++)
        if (sl_kernel_register(&decode_kernels[i], status) != SL_OK)
            return sl_status_code(status);
    return SL_OK;
}

void sl__io_kernels_register(void)
{
    sl_status *st = sl_status_new();
    if (sl__io_register_reader_kernels(st) != SL_OK || sl__io_register_decode_kernels(st) != SL_OK ||
        sl__io_register_summary_kernels(st) != SL_OK) {
        fprintf(stderr, "sluice: bad built-in input kernel: %s\n", sl_status_message(st));
        abort();
    }
    sl_status_free(st);
}
