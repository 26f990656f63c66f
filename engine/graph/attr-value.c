/* AttrValue helpers: construction, copy, type checks and the parser of
 * op-spec defaults.  Allocation is libc malloc throughout so values from
 * here and from protobuf-c's unpack are freed alike. */
#include "config.h"

#include "attr-value.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "sluice/dtype.h"

void sl__attr_value_free(void *value)
{
    if (value)
        protobuf_c_message_free_unpacked(value, NULL);
}

sl_attr_value *sl__attr_value_dup(const sl_attr_value *v)
{
    size_t n = protobuf_c_message_get_packed_size(&v->base);
    uint8_t *buf = malloc(n ? n : 1);
    if (!buf)
        return NULL;
    protobuf_c_message_pack(&v->base, buf);
    sl_attr_value *c = tensorflow__attr_value__unpack(NULL, n, buf);
    free(buf);
    return c;
}

static sl_attr_value *new_value(void)
{
    sl_attr_value *v = malloc(sizeof(*v));
    if (v)
        tensorflow__attr_value__init(v);
    return v;
}

sl_attr_value *sl__attr_value_new_int(int64_t x)
{
    sl_attr_value *v = new_value();
    if (v) {
        v->value_case = TENSORFLOW__ATTR_VALUE__VALUE_I;
        v->i = x;
    }
    return v;
}

sl_attr_value *sl__attr_value_new_float(float x)
{
    sl_attr_value *v = new_value();
    if (v) {
        v->value_case = TENSORFLOW__ATTR_VALUE__VALUE_F;
        v->f = x;
    }
    return v;
}

sl_attr_value *sl__attr_value_new_bool(bool x)
{
    sl_attr_value *v = new_value();
    if (v) {
        v->value_case = TENSORFLOW__ATTR_VALUE__VALUE_B;
        v->b = x;
    }
    return v;
}

sl_attr_value *sl__attr_value_new_type(int dtype)
{
    sl_attr_value *v = new_value();
    if (v) {
        v->value_case = TENSORFLOW__ATTR_VALUE__VALUE_TYPE;
        v->type = (Tensorflow__DataType)dtype;
    }
    return v;
}

sl_attr_value *sl__attr_value_new_string(const char *s, size_t len)
{
    sl_attr_value *v = new_value();
    if (!v)
        return NULL;
    v->value_case = TENSORFLOW__ATTR_VALUE__VALUE_S;
    v->s.data = malloc(len ? len : 1);
    if (!v->s.data) {
        free(v);
        return NULL;
    }
    if (len)
        memcpy(v->s.data, s, len);
    v->s.len = len;
    return v;
}

Tensorflow__TensorShapeProto *sl__shape_to_proto(const sl_shape *shape)
{
    Tensorflow__TensorShapeProto *p = malloc(sizeof(*p));
    if (!p)
        return NULL;
    tensorflow__tensor_shape_proto__init(p);
    if (shape->rank < 0) {
        p->unknown_rank = 1;
        return p;
    }
    if (shape->rank == 0)
        return p;
    p->dim = calloc((size_t)shape->rank, sizeof(*p->dim));
    if (!p->dim)
        goto oom;
    for (int i = 0; i < shape->rank; i++) {
        Tensorflow__TensorShapeProto__Dim *d = malloc(sizeof(*d));
        if (!d)
            goto oom;
        tensorflow__tensor_shape_proto__dim__init(d);
        d->size = shape->dims[i];
        p->dim[p->n_dim++] = d;
    }
    return p;
oom:
    protobuf_c_message_free_unpacked(&p->base, NULL);
    return NULL;
}

sl_shape sl__shape_from_proto(const Tensorflow__TensorShapeProto *p)
{
    if (!p)
        return sl_shape_scalar();
    if (p->unknown_rank || p->n_dim > SL_MAX_DIMS)
        return sl_shape_unknown();
    sl_shape s = {.rank = (int)p->n_dim};
    for (size_t i = 0; i < p->n_dim; i++)
        s.dims[i] = p->dim[i]->size < 0 ? SL_DIM_UNKNOWN : p->dim[i]->size;
    return s;
}

sl_attr_value *sl__attr_value_new_shape(const sl_shape *shape)
{
    sl_attr_value *v = new_value();
    if (!v)
        return NULL;
    v->value_case = TENSORFLOW__ATTR_VALUE__VALUE_SHAPE;
    v->shape = sl__shape_to_proto(shape);
    if (!v->shape) {
        free(v);
        return NULL;
    }
    return v;
}

sl_attr_value *sl__attr_value_new_list(void)
{
    sl_attr_value *v = new_value();
    if (!v)
        return NULL;
    v->list = malloc(sizeof(*v->list));
    if (!v->list) {
        free(v);
        return NULL;
    }
    tensorflow__attr_value__list_value__init(v->list);
    v->value_case = TENSORFLOW__ATTR_VALUE__VALUE_LIST;
    return v;
}

int sl__attr_value_list_size(const sl_attr_value *v)
{
    if (v->value_case != TENSORFLOW__ATTR_VALUE__VALUE_LIST || !v->list)
        return 0;
    const Tensorflow__AttrValue__ListValue *l = v->list;
    return (int)(l->n_s + l->n_i + l->n_f + l->n_b + l->n_type + l->n_shape + l->n_tensor + l->n_func);
}

static sl_attr_type list_kind(const Tensorflow__AttrValue__ListValue *l, bool *empty)
{
    *empty = false;
    if (l->n_s) return SL_ATTR_LIST_STRING;
    if (l->n_i) return SL_ATTR_LIST_INT;
    if (l->n_f) return SL_ATTR_LIST_FLOAT;
    if (l->n_b) return SL_ATTR_LIST_BOOL;
    if (l->n_type) return SL_ATTR_LIST_TYPE;
    if (l->n_shape) return SL_ATTR_LIST_SHAPE;
    if (l->n_tensor) return SL_ATTR_LIST_TENSOR;
    if (l->n_func) return SL_ATTR_LIST_FUNC;
    *empty = true;
    return SL_ATTR_LIST_INT;
}

bool sl__attr_value_has_type(const sl_attr_value *v, sl_attr_type type)
{
    switch (v->value_case) {
    case TENSORFLOW__ATTR_VALUE__VALUE_S: return type == SL_ATTR_STRING;
    case TENSORFLOW__ATTR_VALUE__VALUE_I: return type == SL_ATTR_INT;
    case TENSORFLOW__ATTR_VALUE__VALUE_F: return type == SL_ATTR_FLOAT;
    case TENSORFLOW__ATTR_VALUE__VALUE_B: return type == SL_ATTR_BOOL;
    case TENSORFLOW__ATTR_VALUE__VALUE_TYPE: return type == SL_ATTR_TYPE;
    case TENSORFLOW__ATTR_VALUE__VALUE_SHAPE: return type == SL_ATTR_SHAPE;
    case TENSORFLOW__ATTR_VALUE__VALUE_TENSOR: return type == SL_ATTR_TENSOR;
    case TENSORFLOW__ATTR_VALUE__VALUE_FUNC: return type == SL_ATTR_FUNC;
    case TENSORFLOW__ATTR_VALUE__VALUE_LIST: {
        bool empty;
        sl_attr_type k = list_kind(v->list, &empty);
        return type >= SL_ATTR_LIST_STRING && (empty || k == type);
    }
    default:
        /* proto3 drops default scalars on the wire: an AttrValue with no
         * case set is TF's encoding of a list attr with no entries. */
        return type >= SL_ATTR_LIST_STRING;
    }
}

const char *sl__attr_value_kind(const sl_attr_value *v)
{
    switch (v->value_case) {
    case TENSORFLOW__ATTR_VALUE__VALUE_S: return "string";
    case TENSORFLOW__ATTR_VALUE__VALUE_I: return "int";
    case TENSORFLOW__ATTR_VALUE__VALUE_F: return "float";
    case TENSORFLOW__ATTR_VALUE__VALUE_B: return "bool";
    case TENSORFLOW__ATTR_VALUE__VALUE_TYPE: return "type";
    case TENSORFLOW__ATTR_VALUE__VALUE_SHAPE: return "shape";
    case TENSORFLOW__ATTR_VALUE__VALUE_TENSOR: return "tensor";
    case TENSORFLOW__ATTR_VALUE__VALUE_FUNC: return "func";
    case TENSORFLOW__ATTR_VALUE__VALUE_PLACEHOLDER: return "placeholder";
    case TENSORFLOW__ATTR_VALUE__VALUE_LIST: {
        bool empty;
        sl_attr_type k = list_kind(v->list, &empty);
        return empty ? "list" : sl_attr_type_name(k);
    }
    default:
        return "empty";
    }
}

/* ---- defaults -------------------------------------------------------- */

static const char *ws(const char *p)
{
    while (isspace((unsigned char)*p))
        p++;
    return p;
}

/* Parses one scalar of `type` at *pp into v (a fresh value), advancing. */
static bool parse_scalar(sl_attr_type type, const char **pp, sl_attr_value **out)
{
    const char *p = ws(*pp);
    char *end = NULL;
    switch (type) {
    case SL_ATTR_INT: {
        long long x = strtoll(p, &end, 0);
        if (end == p)
            return false;
        *out = sl__attr_value_new_int(x);
        break;
    }
    case SL_ATTR_FLOAT: {
        float x = strtof(p, &end);
        if (end == p)
            return false;
        *out = sl__attr_value_new_float(x);
        break;
    }
    case SL_ATTR_BOOL:
        if (!strncmp(p, "true", 4)) {
            end = (char *)p + 4;
            *out = sl__attr_value_new_bool(true);
        } else if (!strncmp(p, "false", 5)) {
            end = (char *)p + 5;
            *out = sl__attr_value_new_bool(false);
        } else {
            return false;
        }
        break;
    case SL_ATTR_TYPE: {
        const char *s = p;
        while (isalnum((unsigned char)*p) || *p == '_')
            p++;
        char name[40];
        size_t n = (size_t)(p - s);
        if (!n || n >= sizeof(name))
            return false;
        memcpy(name, s, n);
        name[n] = '\0';
        sl_dtype t = sl_dtype_from_name(name);
        if (t == SL_DTYPE_INVALID)
            return false;
        end = (char *)p;
        *out = sl__attr_value_new_type(t);
        break;
    }
    case SL_ATTR_STRING: {
        char q = *p;
        if (q != '\'' && q != '"')
            return false;
        const char *s = ++p;
        while (*p && *p != q)
            p++;
        if (!*p)
            return false;
        *out = sl__attr_value_new_string(s, (size_t)(p - s));
        end = (char *)p + 1;
        break;
    }
    case SL_ATTR_SHAPE: {  /* "[2, -1]" or "<unknown>" */
        if (!strncmp(p, "<unknown>", 9)) {
            sl_shape u = sl_shape_unknown();
            *out = sl__attr_value_new_shape(&u);
            end = (char *)p + 9;
            break;
        }
        if (*p != '[')
            return false;
        p++;
        sl_shape s = sl_shape_scalar();
        while (*ws(p) != ']') {
            if (s.rank == SL_MAX_DIMS)
                return false;
            s.dims[s.rank++] = strtoll(ws(p), &end, 10);
            if (end == ws(p))
                return false;
            p = ws(end);
            if (*p == ',')
                p++;
        }
        end = (char *)ws(p) + 1;
        *out = sl__attr_value_new_shape(&s);
        break;
    }
    default:
        return false;
    }
    *pp = end;
    return *out != NULL;
}

#define APPEND(arr, n, val)                                                    \
    do {                                                                       \
        void *grown = realloc((arr), sizeof(*(arr)) * ((n) + 1));              \
        if (!grown)                                                            \
            goto fail;                                                         \
        (arr) = grown;                                                         \
        (arr)[(n)++] = (val);                                                  \
    } while (0)

sl_attr_value *sl__attr_value_parse_default(sl_attr_type type, const char *text, sl_status *st)
{
    const char *p = ws(text);
    sl_attr_value *v = NULL;
    if (type < SL_ATTR_LIST_STRING) {
        if (!parse_scalar(type, &p, &v) || *ws(p))
            goto bad;
        return v;
    }
    if (*p != '[')
        goto bad;
    p++;
    v = sl__attr_value_new_list();
    if (!v)
        goto oom;
    sl_attr_type elem = (sl_attr_type)(type - SL_ATTR_LIST_STRING);
    Tensorflow__AttrValue__ListValue *l = v->list;
    while (*ws(p) != ']') {
        sl_attr_value *e = NULL;
        if (!parse_scalar(elem, &p, &e))
            goto bad;
        switch (elem) {
        case SL_ATTR_INT: APPEND(l->i, l->n_i, e->i); break;
        case SL_ATTR_FLOAT: APPEND(l->f, l->n_f, e->f); break;
        case SL_ATTR_BOOL: APPEND(l->b, l->n_b, e->b); break;
        case SL_ATTR_TYPE: APPEND(l->type, l->n_type, e->type); break;
        case SL_ATTR_STRING:
            APPEND(l->s, l->n_s, e->s);
            e->s.data = NULL;  /* moved into the list */
            e->value_case = TENSORFLOW__ATTR_VALUE__VALUE__NOT_SET;
            break;
        case SL_ATTR_SHAPE:
            APPEND(l->shape, l->n_shape, e->shape);
            e->shape = NULL;
            e->value_case = TENSORFLOW__ATTR_VALUE__VALUE__NOT_SET;
            break;
        default:
            sl__attr_value_free(e);
            goto bad;
        }
        sl__attr_value_free(e);
        p = ws(p);
        if (*p == ',')
            p++;
        continue;
    fail:
        sl__attr_value_free(e);
        goto oom;
    }
    p = ws(p) + 1;
    if (*ws(p))
        goto bad;
    return v;
bad:
    sl__attr_value_free(v);
    sl_status_set(st, SL_INVALID_ARGUMENT, "bad default '%s' for a %s attr", text,
                  sl_attr_type_name(type));
    return NULL;
oom:
    sl__attr_value_free(v);
    sl_status_set(st, SL_RESOURCE_EXHAUSTED, "out of memory parsing default '%s'", text);
    return NULL;
}
