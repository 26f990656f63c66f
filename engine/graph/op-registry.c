/* The op registry: parses TF-style signature strings ("x: N * T",
 * "T: {float, double} = DT_FLOAT") into sl_op_def records and keeps them in
 * a name map.  Built-in ops are registered on the first lookup, under
 * pthread_once, after which the registry never changes. */
#include "config.h"

#include "op-registry-private.h"

#include <ctype.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "attr-value.h"
#include "sluice/alloc.h"
#include "strmap.h"

static sl_strmap g_ops = SL_STRMAP_INIT;
static sl_op_def **g_sorted;
static int g_num_ops;
static pthread_once_t g_once = PTHREAD_ONCE_INIT;
static pthread_mutex_t g_register_mu = PTHREAD_MUTEX_INITIALIZER;

/* ---- small lexing helpers ------------------------------------------- */

static const char *skip_ws(const char *p)
{
    while (isspace((unsigned char)*p))
        p++;
    return p;
}

/* Reads an identifier into a fresh string; NULL when none. */
static char *read_ident(const char **pp)
{
    const char *p = skip_ws(*pp), *s = p;
    while (isalnum((unsigned char)*p) || *p == '_')
        p++;
    if (p == s)
        return NULL;
    *pp = p;
    return sl_strndup(s, (size_t)(p - s));
}

static bool eat(const char **pp, char c)
{
    const char *p = skip_ws(*pp);
    if (*p != c)
        return false;
    *pp = p + 1;
    return true;
}

static bool eat_word(const char **pp, const char *w)
{
    const char *p = skip_ws(*pp);
    size_t n = strlen(w);
    if (strncmp(p, w, n) || isalnum((unsigned char)p[n]) || p[n] == '_')
        return false;
    *pp = p + n;
    return true;
}

/* ---- argument specs -------------------------------------------------- */

static void arg_release(sl_op_arg *a)
{
    sl_free(a->name);
    sl_free(a->type_attr);
    sl_free(a->number_attr);
    sl_free(a->type_list_attr);
}

static const sl_op_attr *find_attr(const sl_op_attr *attrs, int n, const char *name)
{
    for (int i = 0; i < n; i++)
        if (!strcmp(attrs[i].name, name))
            return &attrs[i];
    return NULL;
}

/* "name: float" | "name: T" | "name: N * T" | "name: Tlist" | "name: Ref(...)" */
static sl_code parse_arg(const char *spec, const sl_op_attr *attrs, int num_attrs, sl_op_arg *out,
                         sl_status *st)
{
    const char *p = spec;
    memset(out, 0, sizeof(*out));
    out->name = read_ident(&p);
    if (!out->name || !eat(&p, ':'))
        goto bad;
    if (eat_word(&p, "Ref")) {
        if (!eat(&p, '('))
            goto bad;
        out->is_ref = true;
    }
    char *first = read_ident(&p);
    if (!first)
        goto bad;
    if (eat(&p, '*')) {
        out->number_attr = first;
        out->type_attr = read_ident(&p);
        if (!out->type_attr)
            goto bad;
        sl_dtype fixed = sl_dtype_from_name(out->type_attr);
        if (fixed != SL_DTYPE_INVALID) {  /* "N * int32" */
            out->type = fixed;
            sl_free(out->type_attr);
            out->type_attr = NULL;
        }
    } else {
        sl_dtype fixed = sl_dtype_from_name(first);
        if (fixed != SL_DTYPE_INVALID) {
            out->type = fixed;
            sl_free(first);
        } else {
            const sl_op_attr *a = find_attr(attrs, num_attrs, first);
            if (a && a->type == SL_ATTR_LIST_TYPE)
                out->type_list_attr = first;
            else
                out->type_attr = first;
        }
    }
    if (out->is_ref && !eat(&p, ')'))
        goto bad;
    if (*skip_ws(p))
        goto bad;
    /* referenced attrs must exist with the right kind */
    if (out->type_attr) {
        const sl_op_attr *a = find_attr(attrs, num_attrs, out->type_attr);
        if (!a || a->type != SL_ATTR_TYPE)
            return sl_status_set(st, SL_INVALID_ARGUMENT, "argument '%s' uses '%s', which is not a type attr",
                                 spec, out->type_attr);
    }
    if (out->number_attr) {
        const sl_op_attr *a = find_attr(attrs, num_attrs, out->number_attr);
        if (!a || a->type != SL_ATTR_INT)
            return sl_status_set(st, SL_INVALID_ARGUMENT, "argument '%s' uses '%s', which is not an int attr",
                                 spec, out->number_attr);
    }
    return SL_OK;
bad:
    return sl_status_set(st, SL_INVALID_ARGUMENT, "malformed argument spec '%s'", spec);
}

/* ---- attr specs ------------------------------------------------------ */

static void attr_release(sl_op_attr *a)
{
    sl_free(a->name);
    sl__attr_value_free(a->default_value);
    for (int i = 0; i < a->num_allowed_strings; i++)
        sl_free(a->allowed_strings[i]);
    sl_free(a->allowed_strings);
}

static bool parse_scalar_attr_type(const char *w, sl_attr_type *t)
{
    static const struct { const char *name; sl_attr_type type; } names[] = {
        {"string", SL_ATTR_STRING}, {"int", SL_ATTR_INT},     {"float", SL_ATTR_FLOAT},
        {"bool", SL_ATTR_BOOL},     {"type", SL_ATTR_TYPE},   {"shape", SL_ATTR_SHAPE},
        {"tensor", SL_ATTR_TENSOR}, {"func", SL_ATTR_FUNC},
    };
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        if (!strcmp(w, names[i].name)) {
            *t = names[i].type;
            return true;
        }
    return false;
}

/* "{float, int32}" (types) or "{'SAME', 'VALID'}" (strings); p is after '{'. */
static bool parse_set(const char **pp, sl_op_attr *a)
{
    const char *p = *pp;
    bool strings = *skip_ws(p) == '\'' || *skip_ws(p) == '"';
    for (;;) {
        p = skip_ws(p);
        if (strings) {
            char q = *p;
            if (q != '\'' && q != '"')
                return false;
            const char *s = ++p;
            while (*p && *p != q)
                p++;
            if (!*p)
                return false;
            char **ns = sl_realloc(a->allowed_strings, sizeof(char *) * (size_t)(a->num_allowed_strings + 1));
            if (!ns)
                return false;
            a->allowed_strings = ns;
            a->allowed_strings[a->num_allowed_strings] = sl_strndup(s, (size_t)(p - s));
            if (!a->allowed_strings[a->num_allowed_strings])
                return false;
            a->num_allowed_strings++;
            p++;
        } else {
            char *w = read_ident(&p);
            if (!w)
                return false;
            sl_dtype t = sl_dtype_from_name(w);
            sl_free(w);
            if (t == SL_DTYPE_INVALID || a->num_allowed_types >= SL_OP_MAX_TYPES)
                return false;
            a->allowed_types[a->num_allowed_types++] = t;
        }
        if (eat(&p, '}'))
            break;
        if (!eat(&p, ','))
            return false;
    }
    a->type = strings ? SL_ATTR_STRING : SL_ATTR_TYPE;
    *pp = p;
    return true;
}

/* Reads a scalar attr type word ("int", "shape") at *pp. */
static bool read_scalar_attr_type(const char **pp, sl_attr_type *t)
{
    char *w = read_ident(pp);
    bool ok = w && parse_scalar_attr_type(w, t);
    sl_free(w);
    return ok;
}

static sl_code parse_attr(const char *spec, sl_op_attr *out, sl_status *st)
{
    const char *p = spec;
    memset(out, 0, sizeof(*out));
    out->name = read_ident(&p);
    if (!out->name || !eat(&p, ':'))
        goto bad;
    if (eat(&p, '{')) {
        if (!parse_set(&p, out))
            goto bad;
    } else if (eat_word(&p, "list")) {
        if (!eat(&p, '('))
            goto bad;
        if (eat(&p, '{')) {  /* list({float, int32}) */
            if (!parse_set(&p, out) || out->type != SL_ATTR_TYPE)
                goto bad;
            out->type = SL_ATTR_LIST_TYPE;
        } else {
            sl_attr_type t;
            if (!read_scalar_attr_type(&p, &t))
                goto bad;
            out->type = (sl_attr_type)(t + SL_ATTR_LIST_STRING);
        }
        if (!eat(&p, ')'))
            goto bad;
    } else if (!read_scalar_attr_type(&p, &out->type)) {
        goto bad;
    }
    p = skip_ws(p);
    if (p[0] == '>' && p[1] == '=') {
        p += 2;
        char *end;
        out->minimum = strtoll(skip_ws(p), &end, 10);
        if (end == skip_ws(p))
            goto bad;
        out->has_minimum = true;
        p = end;
    }
    if (eat(&p, '=')) {
        const char *text = skip_ws(p);
        out->default_value = sl__attr_value_parse_default(out->type, text, st);
        if (!out->default_value) {
            sl_status_prefix(st, "attr spec '%s'", spec);
            return sl_status_code(st);
        }
        out->has_default = true;
        p += strlen(p);
    }
    if (*skip_ws(p))
        goto bad;
    return SL_OK;
bad:
    return sl_status_set(st, SL_INVALID_ARGUMENT, "malformed attr spec '%s'", spec);
}

static void op_def_free(sl_op_def *op)
{
    if (!op)
        return;
    for (int i = 0; i < op->num_inputs; i++)
        arg_release(&op->inputs[i]);
    for (int i = 0; i < op->num_outputs; i++)
        arg_release(&op->outputs[i]);
    for (int i = 0; i < op->num_attrs; i++)
        attr_release(&op->attrs[i]);
    sl_free(op->inputs);
    sl_free(op->outputs);
    sl_free(op->attrs);
    sl_free(op->name);
    sl_free(op);
}

static int count_specs(const char *const *specs, int max)
{
    int n = 0;
    while (n < max && specs[n])
        n++;
    return n;
}

static sl_op_def *build_op_def(const sl_op_spec *spec, sl_status *st)
{
    sl_op_def *op = sl_calloc(1, sizeof(*op));
    if (!op)
        goto oom;
    op->name = sl_strdup(spec->name);
    int ni = count_specs(spec->inputs, SL_OP_MAX_ARGS);
    int no = count_specs(spec->outputs, SL_OP_MAX_ARGS);
    int na = count_specs(spec->attrs, SL_OP_MAX_ATTRS);
    op->inputs = sl_calloc((size_t)ni + 1, sizeof(sl_op_arg));
    op->outputs = sl_calloc((size_t)no + 1, sizeof(sl_op_arg));
    op->attrs = sl_calloc((size_t)na + 1, sizeof(sl_op_attr));
    if (!op->name || !op->inputs || !op->outputs || !op->attrs)
        goto oom;
    op->shape_fn = spec->shape_fn;
    op->flags = spec->flags;
    op->summary = spec->summary;
    /* attrs first: argument specs refer to them */
    for (; op->num_attrs < na; op->num_attrs++)
        if (parse_attr(spec->attrs[op->num_attrs], &op->attrs[op->num_attrs], st) != SL_OK) {
            op->num_attrs++;  /* release the partly parsed one too */
            goto err;
        }
    for (; op->num_inputs < ni; op->num_inputs++)
        if (parse_arg(spec->inputs[op->num_inputs], op->attrs, na, &op->inputs[op->num_inputs], st) != SL_OK) {
            op->num_inputs++;
            goto err;
        }
    for (; op->num_outputs < no; op->num_outputs++)
        if (parse_arg(spec->outputs[op->num_outputs], op->attrs, na, &op->outputs[op->num_outputs], st) != SL_OK) {
            op->num_outputs++;
            goto err;
        }
    return op;
oom:
    sl_status_set(st, SL_RESOURCE_EXHAUSTED, "out of memory registering op");
err:
    sl_status_prefix(st, "op '%s'", spec->name ? spec->name : "(null)");
    op_def_free(op);
    return NULL;
}

static int compare_ops(const void *a, const void *b)
{
    return strcmp((*(sl_op_def *const *)a)->name, (*(sl_op_def *const *)b)->name);
}

static sl_code register_locked(const sl_op_spec *spec, sl_status *st)
{
    if (!spec->name || !*spec->name)
        return sl_status_set(st, SL_INVALID_ARGUMENT, "op spec without a name");
    if (sl_strmap_get(&g_ops, spec->name))
        return sl_status_set(st, SL_ALREADY_EXISTS, "op '%s' is already registered", spec->name);
    sl_op_def *op = build_op_def(spec, st);
    if (!op)
        return sl_status_code(st);
    sl_op_def **ns = sl_realloc(g_sorted, sizeof(*ns) * (size_t)(g_num_ops + 1));
    if (!ns || !sl_strmap_put(&g_ops, op->name, op)) {
        if (ns)
            g_sorted = ns;
        op_def_free(op);
        return sl_status_set(st, SL_RESOURCE_EXHAUSTED, "out of memory registering op '%s'", spec->name);
    }
    g_sorted = ns;
    g_sorted[g_num_ops++] = op;
    qsort(g_sorted, (size_t)g_num_ops, sizeof(*g_sorted), compare_ops);
    sl_status_clear(st);
    return SL_OK;
}

void sl__op_register_table(const sl_op_spec *specs, int n)
{
    sl_status *st = sl_status_new();
    for (int i = 0; i < n; i++) {
        if (register_locked(&specs[i], st) != SL_OK) {
            fprintf(stderr, "sluice: bad built-in op: %s\n", sl_status_message(st));
            abort();
        }
    }
    sl_status_free(st);
}

static void register_builtin_once(void)
{
    pthread_mutex_lock(&g_register_mu);
    sl__ops_register_builtin();
    pthread_mutex_unlock(&g_register_mu);
}

sl_code sl_op_register(const sl_op_spec *spec, sl_status *status)
{
    pthread_once(&g_once, register_builtin_once);
    pthread_mutex_lock(&g_register_mu);
    sl_code c = register_locked(spec, status);
    pthread_mutex_unlock(&g_register_mu);
    return c;
}

/* The registry lives for the process; freeing it at exit keeps leak
 * checkers (valgrind, LeakSanitizer) quiet about it, so that any report
 * they make is a real leak. */
__attribute__((destructor)) static void free_registry(void)
{
    for (int i = 0; i < g_num_ops; i++)
        op_def_free(g_sorted[i]);
    sl_free(g_sorted);
    g_sorted = NULL;
    g_num_ops = 0;
    sl_strmap_release(&g_ops);
}

const sl_op_def *sl_op_lookup(const char *name)
{
    pthread_once(&g_once, register_builtin_once);
    return name ? sl_strmap_get(&g_ops, name) : NULL;
}

int sl_op_count(void)
{
    pthread_once(&g_once, register_builtin_once);
    return g_num_ops;
}

const sl_op_def *sl_op_at(int i)
{
    pthread_once(&g_once, register_builtin_once);
    return i >= 0 && i < g_num_ops ? g_sorted[i] : NULL;
}

const sl_op_attr *sl_op_def_find_attr(const sl_op_def *op, const char *name)
{
    return find_attr(op->attrs, op->num_attrs, name);
}

const char *sl_attr_type_name(sl_attr_type type)
{
    static const char *const names[] = {
        "string", "int", "float", "bool", "type", "shape", "tensor", "func",
        "list(string)", "list(int)", "list(float)", "list(bool)", "list(type)",
        "list(shape)", "list(tensor)", "list(func)",
    };
    return (unsigned)type < sizeof(names) / sizeof(names[0]) ? names[type] : "unknown";
}
