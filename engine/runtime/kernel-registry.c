/* Kernel registry: kernels keyed by op name, each with a device type and
 * type-attr constraints that a node's attrs must satisfy.  Lookup walks
 * the (short) list of kernels of the op and returns the first match, so
 * more specific kernels are registered first. */
#include "config.h"

#include <ctype.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "kernel-ctx-private.h"
#include "sluice/alloc.h"
#include "strmap.h"

typedef struct constraint {
    char *attr;
    int num_types;
    sl_dtype types[SL_OP_MAX_TYPES];
} constraint;

typedef struct kernel_entry {
    const sl_kernel_def *def;
    int num_constraints;
    constraint constraints[SL_KERNEL_MAX_CONSTRAINTS];
    struct kernel_entry *next;
} kernel_entry;

static sl_strmap g_kernels = SL_STRMAP_INIT;  /* op name -> kernel_entry list */
static pthread_once_t g_once = PTHREAD_ONCE_INIT;
static pthread_mutex_t g_mu = PTHREAD_MUTEX_INITIALIZER;

/* "T: {float, double}" */
static bool parse_constraint(const char *s, constraint *c)
{
    const char *p = s;
    while (isspace((unsigned char)*p))
        p++;
    const char *name = p;
    while (isalnum((unsigned char)*p) || *p == '_')
        p++;
    if (p == name)
        return false;
    c->attr = sl_strndup(name, (size_t)(p - name));
    if (!c->attr)
        return false;
    while (isspace((unsigned char)*p))
        p++;
    if (*p++ != ':')
        return false;
    while (isspace((unsigned char)*p))
        p++;
    if (*p++ != '{')
        return false;
    c->num_types = 0;
    for (;;) {
        while (isspace((unsigned char)*p))
            p++;
        const char *t = p;
        while (isalnum((unsigned char)*p) || *p == '_')
            p++;
        char buf[32];
        size_t n = (size_t)(p - t);
        if (!n || n >= sizeof(buf) || c->num_types >= SL_OP_MAX_TYPES)
            return false;
        memcpy(buf, t, n);
        buf[n] = '\0';
        sl_dtype d = sl_dtype_from_name(buf);
        if (d == SL_DTYPE_INVALID)
            return false;
        c->types[c->num_types++] = d;
        while (isspace((unsigned char)*p))
            p++;
        if (*p == '}')
            break;
        if (*p++ != ',')
            return false;
    }
    return true;
}

static void register_builtin_once(void)
{
    sl__kernels_register_builtin();
    sl__gpu_kernels_register();
}

static sl_code register_locked(const sl_kernel_def *def, sl_status *st)
{
    if (!def->op || !def->device || (!def->compute == !def->compute_async))
        return sl_status_set(st, SL_INVALID_ARGUMENT,
                             "kernel for '%s' needs an op, a device and one of compute/compute_async",
                             def->op ? def->op : "(null)");
    const sl_op_def *op = sl_op_lookup(def->op);
    if (!op)
        return sl_status_set(st, SL_INVALID_ARGUMENT, "kernel registered for unknown op '%s'", def->op);
    kernel_entry *e = sl_calloc(1, sizeof(*e));
    if (!e)
        return sl_status_set(st, SL_RESOURCE_EXHAUSTED, "out of memory registering a kernel");
    e->def = def;
    for (int i = 0; i < SL_KERNEL_MAX_CONSTRAINTS && def->constraints[i]; i++) {
        constraint *c = &e->constraints[e->num_constraints++];
        if (!parse_constraint(def->constraints[i], c) || !sl_op_def_find_attr(op, c->attr)) {
            for (int k = 0; k < e->num_constraints; k++)
                sl_free(e->constraints[k].attr);
            sl_free(e);
            return sl_status_set(st, SL_INVALID_ARGUMENT, "kernel for '%s': bad constraint '%s'", def->op,
                                 def->constraints[i]);
        }
    }
    kernel_entry *head = sl_strmap_get(&g_kernels, def->op);
    e->next = NULL;
    if (!head) {
        if (!sl_strmap_put(&g_kernels, op->name, e)) {
            sl_free(e);
            return sl_status_set(st, SL_RESOURCE_EXHAUSTED, "out of memory registering a kernel");
        }
    } else {
        while (head->next)
            head = head->next;
        head->next = e;  /* keep registration order: first match wins */
    }
    sl_status_clear(st);
    return SL_OK;
}

sl_code sl_kernel_register(const sl_kernel_def *def, sl_status *status)
{
    /* built-in kernels register themselves through this function from
     * inside the once-routine, so only take the once for outside callers */
    pthread_mutex_lock(&g_mu);
    sl_code c = register_locked(def, status);
    pthread_mutex_unlock(&g_mu);
    return c;
}

static bool matches(const kernel_entry *e, const sl_node *node, const char *device, const char **bad_attr,
                    sl_dtype *bad_type)
{
    if (strcmp(e->def->device, device))
        return false;
    for (int i = 0; i < e->num_constraints; i++) {
        sl_dtype t;
        if (!sl_node_attr_type(node, e->constraints[i].attr, &t))
            return false;
        bool ok = false;
        for (int k = 0; k < e->constraints[i].num_types; k++)
            ok |= e->constraints[i].types[k] == t;
        if (!ok) {
            *bad_attr = e->constraints[i].attr;
            *bad_type = t;
            return false;
        }
    }
    return true;
}

const sl_kernel_def *sl_kernel_lookup(const sl_node *node, const char *device, sl_status *st)
{
    pthread_once(&g_once, register_builtin_once);
    const kernel_entry *e = sl_strmap_get(&g_kernels, sl_node_op_type(node));
    const char *bad_attr = NULL;
    sl_dtype bad_type = SL_DTYPE_INVALID;
    for (; e; e = e->next)
        if (matches(e, node, device, &bad_attr, &bad_type))
            return e->def;
    /* name the attrs that choose kernels, as TF does: "with T=int8" */
    char detail[128] = "";
    const sl_op_def *op = sl_node_op_def(node);
    size_t pos = 0;
    for (int i = 0; i < op->num_attrs && pos < sizeof(detail) - 40; i++) {
        sl_dtype t;
        if (op->attrs[i].type == SL_ATTR_TYPE && sl_node_attr_type(node, op->attrs[i].name, &t))
            pos += (size_t)snprintf(detail + pos, sizeof(detail) - pos, "%s%s=%s", pos ? ", " : " with ",
                                    op->attrs[i].name, sl_dtype_name(t));
    }
    sl_status_set(st, SL_NOT_FOUND, "no %s kernel for %s%s", device, sl_node_op_type(node), detail);
    return NULL;
}

/* Frees the registry at exit so leak checkers report only real leaks. */
__attribute__((destructor)) static void free_registry(void)
{
    for (size_t i = 0; i < g_kernels.cap; i++) {
        kernel_entry *e = g_kernels.keys && g_kernels.keys[i] ? g_kernels.values[i] : NULL;
        while (e) {
            kernel_entry *next = e->next;
            for (int k = 0; k < e->num_constraints; k++)
                sl_free(e->constraints[k].attr);
            sl_free(e);
            e = next;
        }
    }
    sl_strmap_release(&g_kernels);
}

bool sl_kernel_exists_for_op(const char *op, const char *device)
{
    pthread_once(&g_once, register_builtin_once);
    for (const kernel_entry *e = sl_strmap_get(&g_kernels, op); e; e = e->next)
        if (!device || !strcmp(e->def->device, device))
            return true;
    return false;
}
