/* CPU kernels of the stack ops (StackV2, StackPushV2, StackPopV2,
 * StackCloseV2; definitions in engine/ops/stack-ops.c).
 *
 * A stack lives exactly as long as its handle: StackV2 makes the stack and
 * a scalar resource tensor that wraps a pointer to the stack's
 * sl_resource_handle (type "stack") and frees the stack, with every tensor
 * still on it, when its last reference goes.  Within a step the handle is
 * held by its consumers' input slots and by the loop frames it entered
 * (as a loop invariant), so the stack survives from the forward loop's
 * pushes to the backward loop's pops and is freed when the step ends (or
 * sooner, once nothing can use it) -- TF keeps its stacks in a per-step
 * container for the same reason.  It is not in the session's resource
 * manager, so a handle cannot be resolved in another process: stacks work
 * in one process (any devices of it), which is where gradients of loops
 * run.
 *
 * Thread-safety: each stack has a mutex; pushes and pops of concurrent
 * iterations are ordered by the graph (see while-grad.c), not here. */
#include "config.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "runtime-kernels.h"
#include "sluice/alloc.h"

static const char STACK_TYPE[] = "stack";

typedef struct stack {
    const sl_resource_handle *cell;  /* the handle tensor's one element: &handle */
    sl_resource_handle handle;       /* {"", name, STACK_TYPE} */
    char *name;                      /* the node's stack_name, else its name */
    pthread_mutex_t mu;
    sl_dtype elem_type;
    int64_t max_size;                /* < 0: unbounded */
    bool closed;
    sl_tensor **elems;
    int64_t n;
    int64_t cap;
} stack;

static void stack_clear(stack *s)
{
    for (int64_t i = 0; i < s->n; i++)
        sl_tensor_unref(s->elems[i]);
    s->n = 0;
}

/* The handle tensor's deallocator: the stack goes with its handle. */
static void stack_free(void *data, size_t size, void *arg)
{
    (void)data;
    (void)size;
    stack *s = arg;
    stack_clear(s);
    sl_free(s->elems);
    sl_free(s->name);
    pthread_mutex_destroy(&s->mu);
    sl_free(s);
}

static void stack_new_compute(sl_kernel_ctx *ctx)
{
    const sl_node *node = sl_kernel_ctx_node(ctx);
    const sl_tensor *max_size = sl_kernel_ctx_input(ctx, 0);
    if (sl_tensor_num_elements(max_size) != 1) {
        sl_kernel_ctx_fail(ctx, SL_INVALID_ARGUMENT, "max_size must be a scalar");
        return;
    }
    const char *nm = NULL;
    size_t len = 0;
    if (!sl_node_attr_string(node, "stack_name", &nm, &len) || len == 0) {
        nm = sl_node_name(node);
        len = strlen(nm);
    }
    stack *s = sl_calloc(1, sizeof(*s));
    char *name = sl_strndup(nm, len);
    if (!s || !name) {
        sl_free(s);
        sl_free(name);
        sl_kernel_ctx_fail(ctx, SL_RESOURCE_EXHAUSTED, "out of memory making a stack");
        return;
    }
    s->name = name;
    s->handle = (sl_resource_handle){"", name, STACK_TYPE};
    s->cell = &s->handle;
    s->max_size = *(const int32_t *)sl_tensor_data(max_size);
    s->elem_type = SL_DTYPE_INVALID;
    sl_node_attr_type(node, "elem_type", &s->elem_type);
    pthread_mutex_init(&s->mu, NULL);
    sl_shape scalar = sl_shape_scalar();
    sl_status *st = sl_status_new();
    sl_tensor *h = st ? sl_tensor_new_wrap(SL_DTYPE_RESOURCE, &scalar, (void *)&s->cell, sizeof(s->cell),
                                           stack_free, s, st)
                      : NULL;
    if (!h) {
        sl_kernel_ctx_fail(ctx, st ? sl_status_code(st) : SL_RESOURCE_EXHAUSTED, "%s",
                           st ? sl_status_message(st) : "out of memory making a stack");
        sl_status_free(st);
        stack_free(NULL, 0, s);
        return;
    }
    sl_status_free(st);
    sl_kernel_ctx_set_output(ctx, 0, h);
    sl_tensor_unref(h);
}

/* The stack behind input 0, or NULL with the context failed. */
static stack *get_stack(sl_kernel_ctx *ctx)
{
    const sl_resource_handle *h = sl_resource_handle_from_tensor(sl_kernel_ctx_input(ctx, 0));
    if (!h || h->type != STACK_TYPE) {
        sl_kernel_ctx_fail(ctx, SL_INVALID_ARGUMENT, "input 0 is not the handle of a stack (from StackV2)");
        return NULL;
    }
    return (stack *)((char *)h - offsetof(stack, handle));
}

static void push_compute(sl_kernel_ctx *ctx)
{
    stack *s = get_stack(ctx);
    if (!s)
        return;
    sl_tensor *elem = (sl_tensor *)sl_kernel_ctx_input(ctx, 1);
    pthread_mutex_lock(&s->mu);
    sl_code code = SL_OK;
    char msg[256] = "";
    if (s->closed) {
        code = SL_INVALID_ARGUMENT;
        snprintf(msg, sizeof(msg), "stack '%s' has already been closed", s->name);
    } else if (sl_tensor_dtype(elem) != s->elem_type) {
        code = SL_INVALID_ARGUMENT;
        snprintf(msg, sizeof(msg), "stack '%s' holds %s, cannot push %s", s->name, sl_dtype_name(s->elem_type),
                 sl_dtype_name(sl_tensor_dtype(elem)));
    } else if (s->max_size >= 0 && s->n >= s->max_size) {
        code = SL_INVALID_ARGUMENT;
        snprintf(msg, sizeof(msg), "stack '%s' overflowed its max_size (%lld)", s->name, (long long)s->max_size);
    } else if (s->n == s->cap) {
        int64_t cap = s->cap ? s->cap * 2 : 16;
        sl_tensor **p = sl_realloc(s->elems, (size_t)cap * sizeof(*p));
        if (p) {
            s->elems = p;
            s->cap = cap;
        } else {
            code = SL_RESOURCE_EXHAUSTED;
            snprintf(msg, sizeof(msg), "out of memory pushing onto stack '%s'", s->name);
        }
    }
    if (code == SL_OK)
        s->elems[s->n++] = sl_tensor_ref(elem);
    pthread_mutex_unlock(&s->mu);
    if (code != SL_OK) {
        sl_kernel_ctx_fail(ctx, code, "%s", msg);
        return;
    }
    sl_kernel_ctx_set_output(ctx, 0, elem);
}

static void pop_compute(sl_kernel_ctx *ctx)
{
    stack *s = get_stack(ctx);
    if (!s)
        return;
    sl_tensor *t = NULL;
    bool closed;
    pthread_mutex_lock(&s->mu);
    closed = s->closed;
    if (!closed && s->n > 0)
        t = s->elems[--s->n];
    pthread_mutex_unlock(&s->mu);
    if (!t) {
        sl_kernel_ctx_fail(ctx, SL_INVALID_ARGUMENT, closed ? "stack '%s' has already been closed"
                                                            : "stack '%s' is empty", s->name);
        return;
    }
    sl_kernel_ctx_set_output(ctx, 0, t);
    sl_tensor_unref(t);
}

static void close_compute(sl_kernel_ctx *ctx)
{
    stack *s = get_stack(ctx);
    if (!s)
        return;
    pthread_mutex_lock(&s->mu);
    s->closed = true;
    stack_clear(s);
    pthread_mutex_unlock(&s->mu);
}

static const sl_kernel_def stack_kernels[] = {
    {.op = "StackV2", .device = SL_DEVICE_CPU, .compute = stack_new_compute},
    {.op = "StackPushV2", .device = SL_DEVICE_CPU, .compute = push_compute},
    {.op = "StackPopV2", .device = SL_DEVICE_CPU, .compute = pop_compute},
    {.op = "StackCloseV2", .device = SL_DEVICE_CPU, .compute = close_compute},
};

void sl__kernels_register_stacks(void)
{
    sl__runtime_register_table(stack_kernels, (int)(sizeof(stack_kernels) / sizeof(stack_kernels[0])));
}
