/* CPU kernels of SaveV2 and RestoreV2 over the checkpoint V2 writer and
 * reader (checkpoint.c).  SaveV2 writes the whole bundle through temporary
 * names renamed into place, creating the prefix's directory; RestoreV2
 * reads each named tensor and checks its dtype against the op's.  Slices
 * (partitioned variables) are refused: shape_and_slices must be empty
 * strings.  Errors name the checkpoint and the tensor. */
#include "config.h"

#include <errno.h>
#include <string.h>
#include <sys/stat.h>

#include "sluice/alloc.h"
#include "sluice/checkpoint.h"
#include "train-private.h"

/* The scalar string input i as a NUL-terminated copy (caller frees), or
 * NULL after failing ctx. */
static char *string_scalar(sl_kernel_ctx *ctx, int i, const char *what)
{
    const sl_tensor *t = sl_kernel_ctx_input(ctx, i);
    if (sl_tensor_dtype(t) != SL_DTYPE_STRING || sl_tensor_num_elements(t) != 1) {
        sl_kernel_ctx_fail(ctx, SL_INVALID_ARGUMENT, "%s must be a string scalar", what);
        return NULL;
    }
    const sl_tstring *s = sl_tensor_data(t);
    char *p = sl_strndup(s->data ? s->data : "", s->size);
    if (!p)
        sl_kernel_ctx_fail(ctx, SL_RESOURCE_EXHAUSTED, "out of memory");
    return p;
}

/* Checks tensor_names (input 1) and shape_and_slices (input 2) are string
 * vectors of n elements, the slices all empty. */
static bool check_names(sl_kernel_ctx *ctx, const char *prefix, int64_t n)
{
    const sl_tensor *names = sl_kernel_ctx_input(ctx, 1), *slices = sl_kernel_ctx_input(ctx, 2);
    if (sl_tensor_dtype(names) != SL_DTYPE_STRING || sl_tensor_num_elements(names) != n ||
        sl_tensor_dtype(slices) != SL_DTYPE_STRING || sl_tensor_num_elements(slices) != n) {
        sl_kernel_ctx_fail(ctx, SL_INVALID_ARGUMENT,
                           "checkpoint '%s': tensor_names and shape_and_slices must be %lld strings", prefix,
                           (long long)n);
        return false;
    }
    const sl_tstring *sl = sl_tensor_data(slices), *nm = sl_tensor_data(names);
    for (int64_t i = 0; i < n; i++)
        if (sl[i].size != 0) {
            sl_kernel_ctx_fail(ctx, SL_UNIMPLEMENTED, "checkpoint '%s': tensor '%s': slices are not supported",
                               prefix, nm[i].data);
            return false;
        }
    return true;
}

/* mkdir -p of the directory part of prefix. */
static sl_code make_parent(const char *prefix, sl_status *st)
{
    char *dir = sl_strdup(prefix);
    if (!dir)
        return sl_status_set(st, SL_RESOURCE_EXHAUSTED, "out of memory");
    char *slash = strrchr(dir, '/');
    if (slash && slash != dir) {
        *slash = '\0';
        for (char *p = dir + 1;; p++) {
            char c = *p;
            if (c == '/' || c == '\0') {
                *p = '\0';
                if (mkdir(dir, 0777) != 0 && errno != EEXIST) {
                    sl_code rc = sl_status_set(st, SL_PERMISSION_DENIED, "cannot create directory '%s': %s", dir,
                                               strerror(errno));
                    sl_free(dir);
                    return rc;
                }
                *p = c;
            }
            if (c == '\0')
                break;
        }
    }
    sl_free(dir);
    return SL_OK;
}

static void save_compute(sl_kernel_ctx *ctx)
{
    int n = sl_kernel_ctx_num_inputs(ctx) - 3;
    char *prefix = string_scalar(ctx, 0, "prefix");
    const char **names = NULL;
    const sl_tensor **tensors = NULL;
    sl_status *st = NULL;
    if (!prefix || !check_names(ctx, prefix, n))
        goto out;
    names = sl_calloc((size_t)n, sizeof(*names));
    tensors = sl_calloc((size_t)n, sizeof(*tensors));
    st = sl_status_new();
    if (!names || !tensors || !st) {
        sl_kernel_ctx_fail(ctx, SL_RESOURCE_EXHAUSTED, "out of memory saving '%s'", prefix);
        goto out;
    }
    const sl_tstring *nm = sl_tensor_data(sl_kernel_ctx_input(ctx, 1));
    for (int i = 0; i < n; i++) {
        names[i] = nm[i].data;
        tensors[i] = sl_kernel_ctx_input(ctx, 3 + i);
        if (!tensors[i]) {
            sl_kernel_ctx_fail(ctx, SL_FAILED_PRECONDITION, "checkpoint '%s': tensor '%s' is not initialized", prefix,
                               names[i]);
            goto out;
        }
    }
    if (make_parent(prefix, st) != SL_OK || sl_checkpoint_write(prefix, names, tensors, n, st) != SL_OK)
        sl_kernel_ctx_fail(ctx, sl_status_code(st), "%s", sl_status_message(st));
out:
    sl_status_free(st);
    sl_free(names);
    sl_free(tensors);
    sl_free(prefix);
}

static void restore_compute(sl_kernel_ctx *ctx)
{
    int n = sl_kernel_ctx_num_outputs(ctx);
    char *prefix = string_scalar(ctx, 0, "prefix");
    sl_status *st = NULL;
    sl_checkpoint_reader *r = NULL;
    if (!prefix || !check_names(ctx, prefix, n))
        goto out;
    if (!(st = sl_status_new())) {
        sl_kernel_ctx_fail(ctx, SL_RESOURCE_EXHAUSTED, "out of memory");
        goto out;
    }
    if (!(r = sl_checkpoint_open(prefix, st))) {
        sl_kernel_ctx_fail(ctx, sl_status_code(st), "%s", sl_status_message(st));
        goto out;
    }
    const sl_tstring *nm = sl_tensor_data(sl_kernel_ctx_input(ctx, 1));
    const int *types = NULL;
    int nt = 0;
    sl_node_attr_type_list(sl_kernel_ctx_node(ctx), "dtypes", &types, &nt);
    for (int i = 0; i < n; i++) {
        sl_tensor *t = sl_checkpoint_read(r, nm[i].data, st);
        if (!t) {
            sl_kernel_ctx_fail(ctx, sl_status_code(st), "checkpoint '%s': %s", prefix, sl_status_message(st));
            goto out;
        }
        if (i < nt && (sl_dtype)types[i] != sl_tensor_dtype(t)) {
            sl_kernel_ctx_fail(ctx, SL_INVALID_ARGUMENT, "checkpoint '%s': tensor '%s' is %s, expected %s", prefix,
                               nm[i].data, sl_dtype_name(sl_tensor_dtype(t)), sl_dtype_name((sl_dtype)types[i]));
            sl_tensor_unref(t);
            goto out;
        }
        sl_kernel_ctx_set_output(ctx, i, t);
        sl_tensor_unref(t);
    }
out:
    sl_checkpoint_close(r);
    sl_status_free(st);
    sl_free(prefix);
}

static const sl_kernel_def checkpoint_kernels[] = {
    {.op = "SaveV2", .device = SL_DEVICE_CPU, .compute = save_compute, .cost = 1},
    {.op = "RestoreV2", .device = SL_DEVICE_CPU, .compute = restore_compute, .cost = 1},
};

sl_code sl__train_register_checkpoint_kernels(sl_status *status)
{
    for (size_t i = 0; i < sizeof(checkpoint_kernels) / sizeof(checkpoint_kernels[0]); i++) {
        sl_code c = sl_kernel_register(&checkpoint_kernels[i], status);
        if (c != SL_OK)
            return c;
    }
    return SL_OK;
}
