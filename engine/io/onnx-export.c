/* ONNX export (sluice/onnx.h): the inference path of a graph as an ONNX
 * ModelProto (engine/proto/onnx.proto), and the same path frozen into a
 * GraphDef.
 *
 * Two passes over the nodes the outputs need.  The first classifies each
 * output (memoized, depth first): CONST (a known tensor: Const, variables,
 * and any pure node whose inputs are all CONST, evaluated in a private
 * session), ZERO or ONE (all zeros or ones in the shape of a dynamic tensor:
 * what the dropout of sl_dropout() computes when its training flag is
 * false: a random shape of ones and keep = 1, so u < keep is all true),
 * UNIT (RandomUniform's values, in [0, 1)), ALIAS (equal to another output: Identity, x * ONE, x + ZERO) or
 * DYN (depends on an input).  The second emits ONNX nodes for the DYN
 * outputs that are reached, CONST inputs becoming initializers.  A rank-4
 * value may live in NCHW (after Conv, MaxPool and the layout-preserving
 * ops that follow them); a transpose back to NHWC is emitted once, only
 * where a consumer needs TF's layout (Reshape, outputs, binary ops).
 *
 * All protobuf-c messages and strings of the model live in an arena freed
 * at the end.  Cost: O(nodes) sessions steps for constant folding in the
 * worst case (one per folded node; the models here fold a handful).
 */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "graph.pb-c.h"
#include "onnx.pb-c.h"
#include "sluice/alloc.h"
#include "sluice/checkpoint.h"
#include "sluice/onnx.h"
#include "sluice/session.h"
#include "tensor-proto.h"

typedef enum vkind { V_UNSET, V_BUSY, V_CONST, V_ZERO, V_ONE, V_UNIT, V_ALIAS, V_DYN } vkind;

typedef struct val {
    vkind kind;
    sl_tensor *t;      /* V_CONST */
    sl_output alias;   /* V_ALIAS */
    const char *name;  /* emitted ONNX name (DYN, or CONST once an initializer) */
    bool nchw;         /* name holds the NCHW transpose of TF's NHWC value */
    const char *other; /* the other layout, once emitted */
} val;

typedef struct arena_blk {
    struct arena_blk *next;
    max_align_t data[];
} arena_blk;

typedef struct ex {
    const sl_graph *g;
    const sl_onnx_export_options *o;
    sl_status *st;
    sl_session *s;
    sl_checkpoint_reader *ckpt;
    val **vals;  /* per node id, per output */
    arena_blk *arena;
    Onnx__NodeProto **nodes;
    size_t n_nodes, cap_nodes;
    Onnx__TensorProto **inits;
    size_t n_inits, cap_inits;
    Onnx__ValueInfoProto **ins;
    size_t n_ins;
    int uniq;
    bool failed;
} ex;

static void *ar(ex *e, size_t n)
{
    arena_blk *b = sl_calloc(1, sizeof(*b) + n);
    if (!b) {
        if (!e->failed)
            sl_status_set(e->st, SL_RESOURCE_EXHAUSTED, "out of memory exporting to ONNX");
        e->failed = true;
        return NULL;
    }
    b->next = e->arena;
    e->arena = b;
    return b->data;
}

static char *ar_printf(ex *e, const char *fmt, ...) SL_PRINTF(2, 3);
static char *ar_printf(ex *e, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    char *p = ar(e, (size_t)n + 1);
    if (!p)
        return NULL;
    va_start(ap, fmt);
    vsnprintf(p, (size_t)n + 1, fmt, ap);
    va_end(ap);
    return p;
}

static bool fail(ex *e, sl_code code, const char *fmt, ...) SL_PRINTF(3, 4);
static bool fail(ex *e, sl_code code, const char *fmt, ...)
{
    if (!e->failed) {
        char msg[512];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(msg, sizeof(msg), fmt, ap);
        va_end(ap);
        sl_status_set(e->st, code, "%s", msg);
    }
    e->failed = true;
    return false;
}

static bool push(ex *e, void ***arr, size_t *n, size_t *cap, void *item)
{
    if (*n == *cap) {
        size_t nc = *cap ? *cap * 2 : 32;
        void **p = sl_realloc(*arr, nc * sizeof(void *));
        if (!p)
            return fail(e, SL_RESOURCE_EXHAUSTED, "out of memory exporting to ONNX");
        *arr = p;
        *cap = nc;
    }
    (*arr)[(*n)++] = item;
    return true;
}

static const char *out_name(ex *e, sl_output o)
{
    return o.index == 0 ? sl_node_name(o.node) : ar_printf(e, "%s:%d", sl_node_name(o.node), o.index);
}

static val *vget(ex *e, sl_output o)
{
    int id = sl_node_id(o.node);
    if (!e->vals[id]) {
        int n = sl_node_num_outputs(o.node);
        e->vals[id] = sl_calloc((size_t)(n > 0 ? n : 1), sizeof(val));
        if (!e->vals[id]) {
            fail(e, SL_RESOURCE_EXHAUSTED, "out of memory exporting to ONNX");
            return NULL;
        }
    }
    return &e->vals[id][o.index];
}

static bool is_input(ex *e, const sl_node *n)
{
    for (int i = 0; i < e->o->num_inputs; i++)
        if (!strcmp(e->o->inputs[i], sl_node_name(n)))
            return true;
    return false;
}

static bool op_is(const sl_node *n, const char *op)
{
    return !strcmp(sl_node_op_type(n), op);
}

static bool is_variable(const sl_node *n)
{
    return op_is(n, "VariableV2") || op_is(n, "Variable");
}

/* Ops whose value may not be computed once at export time. */
static bool foldable(const sl_node *n)
{
    static const char *const no[] = {"Placeholder", "PlaceholderV2", "PlaceholderWithDefault", "VariableV2",
                                     "Variable", "Assign", "AssignAdd", "AssignSub", "RandomUniform",
                                     "RandomUniformInt", "RandomStandardNormal", "TruncatedNormal",
                                     "Multinomial", "RandomShuffle", NULL};
    for (int i = 0; no[i]; i++)
        if (op_is(n, no[i]))
            return false;
    return sl_node_num_control_inputs(n) == 0;
}

/* Scalar (or all-equal) constant value c? */
static bool const_all(const sl_tensor *t, double c)
{
    int64_t n = sl_tensor_num_elements(t);
    if (n < 1)
        return false;
    for (int64_t i = 0; i < n; i++) {
        double v;
        switch (sl_tensor_dtype(t)) {
        case SL_DTYPE_FLOAT: v = ((const float *)sl_tensor_data(t))[i]; break;
        case SL_DTYPE_DOUBLE: v = ((const double *)sl_tensor_data(t))[i]; break;
        case SL_DTYPE_INT32: v = ((const int32_t *)sl_tensor_data(t))[i]; break;
        case SL_DTYPE_INT64: v = (double)((const int64_t *)sl_tensor_data(t))[i]; break;
        default: return false;
        }
        if (v != c)
            return false;
    }
    return true;
}

static bool is_zero(const val *v)
{
    return v->kind == V_ZERO || (v->kind == V_CONST && const_all(v->t, 0.0));
}

static bool is_one(const val *v)
{
    return v->kind == V_ONE || (v->kind == V_CONST && const_all(v->t, 1.0));
}

/* Whether out's static shape may be that of x (so x op broadcast-neutral
 * = x): equal ranks and compatible dimensions, or out's rank unknown (a
 * ZERO or ONE made from x's own shape, as sl_dropout() does). */
static bool same_static_shape(sl_output out, sl_output x)
{
    const sl_shape *a = sl_node_output_shape(out.node, out.index), *b = sl_node_output_shape(x.node, x.index);
    if (!a || !b)
        return false;
    if (a->rank < 0)
        return b->rank >= 0;
    return a->rank == b->rank && sl_shape_is_compatible(a, b);
}

static sl_tensor *evaluate(ex *e, sl_output o)
{
    const char *name = out_name(e, o);
    if (!name)
        return NULL;
    sl_tensor *t = NULL;
    if (sl_session_run(e->s, NULL, NULL, NULL, 0, &name, &t, 1, NULL, 0, NULL, e->st) != SL_OK) {
        e->failed = true;
        return NULL;
    }
    return t;
}

static val *classify(ex *e, sl_output o);

static sl_tensor *variable_value(ex *e, const sl_node *n)
{
    if (e->ckpt)
        return sl_checkpoint_read(e->ckpt, sl_node_name(n), e->st);
    return evaluate(e, (sl_output){(sl_node *)n, 0});
}

static void classify_node(ex *e, sl_output o, val *v)
{
    const sl_node *n = o.node;
    int nin = sl_node_num_inputs(n);
    if (op_is(n, "Const")) {
        v->kind = V_CONST;
        v->t = evaluate(e, o);
        return;
    }
    if (is_variable(n)) {
        v->kind = V_CONST;
        if (!(v->t = variable_value(e, n)))
            e->failed = true;
        return;
    }
    if (op_is(n, "Placeholder") || op_is(n, "PlaceholderV2") ||
        (op_is(n, "PlaceholderWithDefault") && is_input(e, n))) {
        if (!is_input(e, n)) {
            fail(e, SL_INVALID_ARGUMENT, "placeholder '%s' is needed by the outputs but is not an input",
                 sl_node_name(n));
            return;
        }
        v->kind = V_DYN;
        return;
    }
    if (op_is(n, "PlaceholderWithDefault") || op_is(n, "Identity") || op_is(n, "StopGradient") ||
        op_is(n, "Snapshot")) {
        v->kind = V_ALIAS;
        v->alias = sl_node_input(n, 0);
        val *a = classify(e, v->alias);
        if (a && a->kind == V_CONST) { /* keep constants constant, for folding below */
            v->kind = V_CONST;
            v->t = sl_tensor_ref(a->t);
        }
        return;
    }
    if (op_is(n, "RandomUniform")) {
        if (classify(e, sl_node_input(n, 0)))
            v->kind = V_UNIT;
        return;
    }
    if (op_is(n, "Cast") || op_is(n, "Less")) {
        val *a = classify(e, sl_node_input(n, 0));
        val *b = nin > 1 ? classify(e, sl_node_input(n, 1)) : NULL;
        if (!a || (nin > 1 && !b))
            return;
        if (op_is(n, "Cast") && (a->kind == V_ONE || a->kind == V_ZERO)) {
            v->kind = a->kind;
            return;
        }
        /* u < c with u in [0, 1) and c >= 1: all true */
        if (op_is(n, "Less") && a->kind == V_UNIT && b->kind == V_CONST && sl_tensor_num_elements(b->t) == 1 &&
            sl_tensor_dtype(b->t) == SL_DTYPE_FLOAT && *(const float *)sl_tensor_data(b->t) >= 1.0f) {
            v->kind = V_ONE;
            return;
        }
    }
    bool mul = op_is(n, "Mul"), add = op_is(n, "Add") || op_is(n, "AddV2"), sub = op_is(n, "Sub");
    bool div = op_is(n, "RealDiv");
    if ((mul || add || sub || div) && nin == 2) {
        sl_output xa = sl_node_input(n, 0), xb = sl_node_input(n, 1);
        val *a = classify(e, xa);
        if (!a)
            return;
        val *b = classify(e, xb);
        if (!b)
            return;
        if (a->kind != V_CONST || b->kind != V_CONST) {
            bool b_scalar_one = b->kind == V_CONST && sl_tensor_num_elements(b->t) == 1 && is_one(b);
            if ((mul && is_one(a) && is_one(b) && (a->kind == V_ONE || b->kind == V_ONE)) ||
                (div && a->kind == V_ONE && b_scalar_one)) {
                v->kind = V_ONE;
                return;
            }
            if (div && b_scalar_one) {
                v->kind = V_ALIAS, v->alias = xa;
                return;
            }
            if (mul && (is_zero(a) || is_zero(b)) && (a->kind == V_ZERO || b->kind == V_ZERO ||
                                                      sl_tensor_num_elements(is_zero(a) ? a->t : b->t) == 1)) {
                v->kind = V_ZERO;
                return;
            }
            if (mul && is_one(a) && same_static_shape(o, xb)) {
                v->kind = V_ALIAS, v->alias = xb;
                return;
            }
            if (mul && is_one(b) && same_static_shape(o, xa)) {
                v->kind = V_ALIAS, v->alias = xa;
                return;
            }
            if ((add || sub) && is_zero(b) && same_static_shape(o, xa)) {
                v->kind = V_ALIAS, v->alias = xa;
                return;
            }
            if (add && is_zero(a) && same_static_shape(o, xb)) {
                v->kind = V_ALIAS, v->alias = xb;
                return;
            }
            if (add && (b->kind == V_ZERO || a->kind == V_ZERO)) {
                const val *c = a->kind == V_ZERO ? b : a;
                if (c->kind == V_CONST && sl_tensor_num_elements(c->t) == 1 && const_all(c->t, 1.0)) {
                    v->kind = V_ONE;
                    return;
                }
            }
            if (a->kind == V_ZERO || a->kind == V_ONE || b->kind == V_ZERO || b->kind == V_ONE ||
                a->kind == V_UNIT || b->kind == V_UNIT) {
                fail(e, SL_UNIMPLEMENTED, "node '%s' (%s): a constant broadcast to a dynamic shape cannot be exported",
                     sl_node_name(n), sl_node_op_type(n));
                return;
            }
            v->kind = V_DYN;
            return;
        }
    }
    bool all_const = foldable(n);
    for (int i = 0; i < nin; i++) {
        val *a = classify(e, sl_node_input(n, i));
        if (!a)
            return;
        if (a->kind != V_CONST)
            all_const = false;
    }
    if (all_const && nin > 0) {
        v->kind = V_CONST;
        v->t = evaluate(e, o);
        return;
    }
    v->kind = V_DYN;
}

static val *classify(ex *e, sl_output o)
{
    if (e->failed)
        return NULL;
    val *v = vget(e, o);
    if (!v)
        return NULL;
    if (v->kind == V_BUSY) {
        fail(e, SL_INVALID_ARGUMENT, "node '%s' is on a cycle", sl_node_name(o.node));
        return NULL;
    }
    if (v->kind != V_UNSET)
        return v;
    v->kind = V_BUSY;
    classify_node(e, o, v);
    if (e->failed)
        return NULL;
    return v;
}

/* ---- Emission ------------------------------------------------------------ */

static int onnx_dtype(sl_dtype dt)
{
    switch (sl_dtype_base(dt)) {
    case SL_DTYPE_FLOAT: return ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT;
    case SL_DTYPE_DOUBLE: return ONNX__TENSOR_PROTO__DATA_TYPE__DOUBLE;
    case SL_DTYPE_INT32: return ONNX__TENSOR_PROTO__DATA_TYPE__INT32;
    case SL_DTYPE_INT64: return ONNX__TENSOR_PROTO__DATA_TYPE__INT64;
    case SL_DTYPE_INT8: return ONNX__TENSOR_PROTO__DATA_TYPE__INT8;
    case SL_DTYPE_UINT8: return ONNX__TENSOR_PROTO__DATA_TYPE__UINT8;
    case SL_DTYPE_BOOL: return ONNX__TENSOR_PROTO__DATA_TYPE__BOOL;
    default: return 0;
    }
}

/* An initializer named name holding `data` (bytes copied) of dims. */
static const char *add_init(ex *e, const char *name, sl_dtype dt, const int64_t *dims, int rank, const void *data,
                            size_t bytes)
{
    Onnx__TensorProto *t = ar(e, sizeof(*t));
    int64_t *d = ar(e, sizeof(int64_t) * (size_t)(rank > 0 ? rank : 1));
    void *raw = ar(e, bytes ? bytes : 1);
    if (!t || !d || !raw)
        return NULL;
    int odt = onnx_dtype(dt);
    if (!odt) {
        fail(e, SL_UNIMPLEMENTED, "constant '%s' has dtype %s, which the ONNX exporter does not write", name,
             sl_dtype_name(dt));
        return NULL;
    }
    onnx__tensor_proto__init(t);
    memcpy(d, dims, sizeof(int64_t) * (size_t)rank);
    memcpy(raw, data, bytes);
    t->n_dims = (size_t)rank;
    t->dims = d;
    t->has_data_type = true;
    t->data_type = odt;
    t->name = (char *)name;
    t->has_raw_data = true;
    t->raw_data.len = bytes;
    t->raw_data.data = raw;
    if (!push(e, (void ***)&e->inits, &e->n_inits, &e->cap_inits, t))
        return NULL;
    return name;
}

static const char *init_of(ex *e, const char *name, const sl_tensor *t)
{
    const sl_shape *s = sl_tensor_shape(t);
    return add_init(e, name, sl_tensor_dtype(t), s->dims, s->rank, sl_tensor_data(t), sl_tensor_byte_size(t));
}

static Onnx__AttributeProto *attr(ex *e, Onnx__NodeProto *nd, const char *name)
{
    Onnx__AttributeProto *a = ar(e, sizeof(*a));
    Onnx__AttributeProto **arr = ar(e, sizeof(*arr) * (nd->n_attribute + 1));
    if (!a || !arr)
        return NULL;
    onnx__attribute_proto__init(a);
    a->name = (char *)name;
    a->has_type = true;
    memcpy(arr, nd->attribute, sizeof(*arr) * nd->n_attribute);
    arr[nd->n_attribute++] = a;
    nd->attribute = arr;
    return a;
}

static void attr_ints(ex *e, Onnx__NodeProto *nd, const char *name, const int64_t *v, int n)
{
    Onnx__AttributeProto *a = attr(e, nd, name);
    int64_t *p = ar(e, sizeof(int64_t) * (size_t)n);
    if (!a || !p)
        return;
    memcpy(p, v, sizeof(int64_t) * (size_t)n);
    a->type = ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INTS;
    a->n_ints = (size_t)n;
    a->ints = p;
}

static void attr_int(ex *e, Onnx__NodeProto *nd, const char *name, int64_t v)
{
    Onnx__AttributeProto *a = attr(e, nd, name);
    if (!a)
        return;
    a->type = ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INT;
    a->has_i = true;
    a->i = v;
}

static void attr_str(ex *e, Onnx__NodeProto *nd, const char *name, const char *v)
{
    Onnx__AttributeProto *a = attr(e, nd, name);
    if (!a)
        return;
    a->type = ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__STRING;
    a->has_s = true;
    a->s.data = (uint8_t *)v;
    a->s.len = strlen(v);
}

/* A node op(in...) -> out; returns the node (NULL on failure). */
static Onnx__NodeProto *node(ex *e, const char *op, const char *out, int nin, ...)
{
    Onnx__NodeProto *nd = ar(e, sizeof(*nd));
    char **ins = ar(e, sizeof(char *) * (size_t)(nin > 0 ? nin : 1));
    char **outs = ar(e, sizeof(char *));
    if (!nd || !ins || !outs || !out)
        return NULL;
    onnx__node_proto__init(nd);
    va_list ap;
    va_start(ap, nin);
    for (int i = 0; i < nin; i++) {
        ins[i] = va_arg(ap, char *);
        if (!ins[i])
            e->failed = true;
    }
    va_end(ap);
    if (e->failed)
        return NULL;
    outs[0] = (char *)out;
    nd->n_input = (size_t)nin;
    nd->input = ins;
    nd->n_output = 1;
    nd->output = outs;
    nd->op_type = (char *)op;
    nd->name = ar_printf(e, "%s_%d", op, e->uniq++);
    if (!push(e, (void ***)&e->nodes, &e->n_nodes, &e->cap_nodes, nd))
        return NULL;
    return nd;
}

static const char *emit(ex *e, sl_output o, bool *nchw);

/* The value in TF's layout (NHWC for rank 4). */
static const char *emit_nhwc(ex *e, sl_output o)
{
    bool nchw;
    const char *name = emit(e, o, &nchw);
    if (!name || !nchw)
        return name;
    val *v = vget(e, o);
    while (v->kind == V_ALIAS)
        v = vget(e, v->alias);
    if (!v->other) {
        const char *t = ar_printf(e, "%s__nhwc", name);
        Onnx__NodeProto *nd = node(e, "Transpose", t, 1, name);
        if (!nd)
            return NULL;
        attr_ints(e, nd, "perm", (int64_t[]){0, 2, 3, 1}, 4);
        v->other = t;
    }
    return v->other;
}

static const char *emit_nchw(ex *e, sl_output o)
{
    bool nchw;
    const char *name = emit(e, o, &nchw);
    if (!name || nchw)
        return name;
    val *v = vget(e, o);
    while (v->kind == V_ALIAS)
        v = vget(e, v->alias);
    if (!v->other) {
        const char *t = ar_printf(e, "%s__nchw", name);
        Onnx__NodeProto *nd = node(e, "Transpose", t, 1, name);
        if (!nd)
            return NULL;
        attr_ints(e, nd, "perm", (int64_t[]){0, 3, 1, 2}, 4);
        v->other = t;
    }
    return v->other;
}

static bool ints_attr4(ex *e, const sl_node *n, const char *name, int64_t def, int64_t out[4])
{
    const int64_t *p;
    int len;
    if (!sl_node_attr_int_list(n, name, &p, &len)) {
        for (int i = 0; i < 4; i++)
            out[i] = def;
        return true;
    }
    if (len != 4 || p[0] != 1 || p[3] != 1)
        return fail(e, SL_UNIMPLEMENTED, "node '%s' (%s): %s must be [1, h, w, 1] for the ONNX export",
                    sl_node_name(n), sl_node_op_type(n), name);
    memcpy(out, p, 4 * sizeof(int64_t));
    return true;
}

static bool conv_layout_ok(ex *e, const sl_node *n)
{
    const char *s;
    size_t len;
    if (sl_node_attr_string(n, "data_format", &s, &len) && !(len == 4 && !memcmp(s, "NHWC", 4)))
        return fail(e, SL_UNIMPLEMENTED, "node '%s' (%s): only NHWC is exported to ONNX", sl_node_name(n),
                    sl_node_op_type(n));
    if (!sl_node_attr_string(n, "padding", &s, &len) ||
        !((len == 4 && !memcmp(s, "SAME", 4)) || (len == 5 && !memcmp(s, "VALID", 5))))
        return fail(e, SL_UNIMPLEMENTED, "node '%s' (%s): padding must be SAME or VALID for the ONNX export",
                    sl_node_name(n), sl_node_op_type(n));
    return true;
}

static const char *pad_mode(const sl_node *n)
{
    const char *s;
    size_t len;
    sl_node_attr_string(n, "padding", &s, &len);
    return len == 4 ? "SAME_UPPER" : "VALID";
}

static const char *emit_conv(ex *e, const sl_node *n, const char *out)
{
    if (!conv_layout_ok(e, n))
        return NULL;
    int64_t strides[4], dil[4];
    if (!ints_attr4(e, n, "strides", 1, strides) || !ints_attr4(e, n, "dilations", 1, dil))
        return NULL;
    val *w = classify(e, sl_node_input(n, 1));
    if (!w || w->kind != V_CONST || sl_tensor_rank(w->t) != 4 || sl_tensor_dtype(w->t) != SL_DTYPE_FLOAT) {
        fail(e, SL_UNIMPLEMENTED, "node '%s' (Conv2D): only a constant float filter is exported to ONNX",
             sl_node_name(n));
        return NULL;
    }
    const char *x = emit_nchw(e, sl_node_input(n, 0));
    /* HWIO -> OIHW */
    int64_t kh = sl_tensor_dim(w->t, 0), kw = sl_tensor_dim(w->t, 1), ci = sl_tensor_dim(w->t, 2),
            co = sl_tensor_dim(w->t, 3);
    float *p = sl_malloc(sizeof(float) * (size_t)(kh * kw * ci * co));
    if (!p) {
        fail(e, SL_RESOURCE_EXHAUSTED, "out of memory exporting to ONNX");
        return NULL;
    }
    const float *src = sl_tensor_data(w->t);
    for (int64_t a = 0; a < kh; a++)
        for (int64_t b = 0; b < kw; b++)
            for (int64_t i = 0; i < ci; i++)
                for (int64_t o = 0; o < co; o++)
                    p[((o * ci + i) * kh + a) * kw + b] = src[((a * kw + b) * ci + i) * co + o];
    const char *wname = add_init(e, ar_printf(e, "%s__oihw", out_name(e, sl_node_input(n, 1))), SL_DTYPE_FLOAT,
                                 (int64_t[]){co, ci, kh, kw}, 4, p, sizeof(float) * (size_t)(kh * kw * ci * co));
    sl_free(p);
    Onnx__NodeProto *nd = node(e, "Conv", out, 2, x, wname);
    if (!nd)
        return NULL;
    attr_ints(e, nd, "kernel_shape", (int64_t[]){kh, kw}, 2);
    attr_ints(e, nd, "strides", (int64_t[]){strides[1], strides[2]}, 2);
    attr_ints(e, nd, "dilations", (int64_t[]){dil[1], dil[2]}, 2);
    attr_str(e, nd, "auto_pad", pad_mode(n));
    return out;
}

static const char *emit_pool(ex *e, const sl_node *n, const char *out, const char *op)
{
    if (!conv_layout_ok(e, n))
        return NULL;
    int64_t k[4], s[4];
    if (!ints_attr4(e, n, "ksize", 1, k) || !ints_attr4(e, n, "strides", 1, s))
        return NULL;
    const char *x = emit_nchw(e, sl_node_input(n, 0));
    Onnx__NodeProto *nd = node(e, op, out, 1, x);
    if (!nd)
        return NULL;
    attr_ints(e, nd, "kernel_shape", (int64_t[]){k[1], k[2]}, 2);
    attr_ints(e, nd, "strides", (int64_t[]){s[1], s[2]}, 2);
    attr_str(e, nd, "auto_pad", pad_mode(n));
    return out;
}

static const char *emit_dyn(ex *e, sl_output o, bool *nchw)
{
    const sl_node *n = o.node;
    const char *op = sl_node_op_type(n);
    const char *out = out_name(e, o);
    *nchw = false;
    if (!out)
        return NULL;
    if (op_is(n, "Placeholder") || op_is(n, "PlaceholderV2") || op_is(n, "PlaceholderWithDefault")) {
        Onnx__ValueInfoProto *vi = ar(e, sizeof(*vi));
        Onnx__TypeProto *tp = ar(e, sizeof(*tp));
        Onnx__TypeProto__Tensor *tt = ar(e, sizeof(*tt));
        Onnx__TensorShapeProto *sp = ar(e, sizeof(*sp));
        if (!vi || !tp || !tt || !sp)
            return NULL;
        onnx__value_info_proto__init(vi);
        onnx__type_proto__init(tp);
        onnx__type_proto__tensor__init(tt);
        onnx__tensor_shape_proto__init(sp);
        sl_dtype dt = sl_node_output_type(n, 0);
        tt->has_elem_type = true;
        tt->elem_type = onnx_dtype(dt);
        if (!tt->elem_type) {
            fail(e, SL_UNIMPLEMENTED, "input '%s' has dtype %s, which the ONNX exporter does not write", out,
                 sl_dtype_name(dt));
            return NULL;
        }
        const sl_shape *s = sl_node_output_shape(n, 0);
        if (s && s->rank >= 0) {
            sp->n_dim = (size_t)s->rank;
            sp->dim = ar(e, sizeof(*sp->dim) * (size_t)(s->rank + 1));
            for (int i = 0; i < s->rank && sp->dim; i++) {
                Onnx__TensorShapeProto__Dimension *d = ar(e, sizeof(*d));
                if (!d)
                    return NULL;
                onnx__tensor_shape_proto__dimension__init(d);
                if (s->dims[i] >= 0) {
                    d->value_case = ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE;
                    d->dim_value = s->dims[i];
                } else {
                    d->value_case = ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_PARAM;
                    d->dim_param = i == 0 ? "batch" : ar_printf(e, "%s_d%d", out, i);
                }
                sp->dim[i] = d;
            }
            tt->shape = sp;
        }
        tp->value_case = ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE;
        tp->tensor_type = tt;
        vi->name = (char *)out;
        vi->type = tp;
        Onnx__ValueInfoProto **arr = ar(e, sizeof(*arr) * (e->n_ins + 1));
        if (!arr)
            return NULL;
        memcpy(arr, e->ins, sizeof(*arr) * e->n_ins);
        arr[e->n_ins++] = vi;
        e->ins = arr;
        return out;
    }
    if (op_is(n, "MatMul")) {
        bool ta = false, tb = false;
        sl_node_attr_bool(n, "transpose_a", &ta);
        sl_node_attr_bool(n, "transpose_b", &tb);
        const char *a = emit_nhwc(e, sl_node_input(n, 0)), *b = emit_nhwc(e, sl_node_input(n, 1));
        if (ta && a) {
            const char *t = ar_printf(e, "%s__T", a);
            Onnx__NodeProto *nd = node(e, "Transpose", t, 1, a);
            if (nd)
                attr_ints(e, nd, "perm", (int64_t[]){1, 0}, 2);
            a = t;
        }
        if (tb && b) {
            const char *t = ar_printf(e, "%s__T", b);
            Onnx__NodeProto *nd = node(e, "Transpose", t, 1, b);
            if (nd)
                attr_ints(e, nd, "perm", (int64_t[]){1, 0}, 2);
            b = t;
        }
        return node(e, "MatMul", out, 2, a, b) ? out : NULL;
    }
    if (op_is(n, "BiasAdd")) {
        const char *s;
        size_t len;
        if (sl_node_attr_string(n, "data_format", &s, &len) && !(len == 4 && !memcmp(s, "NHWC", 4))) {
            fail(e, SL_UNIMPLEMENTED, "node '%s' (BiasAdd): only NHWC is exported to ONNX", sl_node_name(n));
            return NULL;
        }
        bool xn;
        const char *x = emit(e, sl_node_input(n, 0), &xn);
        val *b = classify(e, sl_node_input(n, 1));
        if (!x || !b)
            return NULL;
        const char *bn;
        if (xn) { /* NCHW: the bias as [C, 1, 1] */
            if (b->kind != V_CONST) {
                x = emit_nhwc(e, sl_node_input(n, 0));
                xn = false;
                bn = emit_nhwc(e, sl_node_input(n, 1));
            } else {
                int64_t c = sl_tensor_num_elements(b->t);
                bn = add_init(e, ar_printf(e, "%s__c11", out_name(e, sl_node_input(n, 1))), sl_tensor_dtype(b->t),
                              (int64_t[]){c, 1, 1}, 3, sl_tensor_data(b->t), sl_tensor_byte_size(b->t));
            }
        } else {
            bn = emit_nhwc(e, sl_node_input(n, 1));
        }
        *nchw = xn;
        return node(e, "Add", out, 2, x, bn) ? out : NULL;
    }
    static const char *const binary[][2] = {{"Add", "Add"}, {"AddV2", "Add"}, {"Sub", "Sub"}, {"Mul", "Mul"},
                                            {"RealDiv", "Div"}, {NULL, NULL}};
    for (int i = 0; binary[i][0]; i++)
        if (!strcmp(op, binary[i][0])) {
            const char *a = emit_nhwc(e, sl_node_input(n, 0)), *b = emit_nhwc(e, sl_node_input(n, 1));
            return node(e, binary[i][1], out, 2, a, b) ? out : NULL;
        }
    static const char *const unary[][2] = {{"Relu", "Relu"}, {"Sigmoid", "Sigmoid"}, {"Tanh", "Tanh"},
                                           {NULL, NULL}};
    for (int i = 0; unary[i][0]; i++)
        if (!strcmp(op, unary[i][0])) {
            const char *x = emit(e, sl_node_input(n, 0), nchw); /* layout-preserving */
            return node(e, unary[i][1], out, 1, x) ? out : NULL;
        }
    if (op_is(n, "Softmax")) {
        Onnx__NodeProto *nd = node(e, "Softmax", out, 1, emit_nhwc(e, sl_node_input(n, 0)));
        if (nd)
            attr_int(e, nd, "axis", -1);
        return nd ? out : NULL;
    }
    if (op_is(n, "Reshape")) {
        val *s = classify(e, sl_node_input(n, 1));
        if (!s)
            return NULL;
        if (s->kind != V_CONST || (sl_tensor_dtype(s->t) != SL_DTYPE_INT32 && sl_tensor_dtype(s->t) != SL_DTYPE_INT64)) {
            fail(e, SL_UNIMPLEMENTED, "node '%s' (Reshape): only a constant shape is exported to ONNX",
                 sl_node_name(n));
            return NULL;
        }
        int64_t k = sl_tensor_num_elements(s->t), dims[SL_MAX_DIMS];
        if (k > SL_MAX_DIMS)
            k = SL_MAX_DIMS;
        for (int64_t i = 0; i < k; i++) {
            dims[i] = sl_tensor_dtype(s->t) == SL_DTYPE_INT32 ? ((const int32_t *)sl_tensor_data(s->t))[i]
                                                              : ((const int64_t *)sl_tensor_data(s->t))[i];
            if (dims[i] == 0) {
                fail(e, SL_UNIMPLEMENTED, "node '%s' (Reshape): a 0 in the shape is not exported to ONNX",
                     sl_node_name(n));
                return NULL;
            }
        }
        const char *x = emit_nhwc(e, sl_node_input(n, 0));
        const char *sn = add_init(e, ar_printf(e, "%s__shape", out), SL_DTYPE_INT64, (int64_t[]){k}, 1, dims,
                                  sizeof(int64_t) * (size_t)k);
        return node(e, "Reshape", out, 2, x, sn) ? out : NULL;
    }
    if (op_is(n, "Conv2D")) {
        *nchw = true;
        return emit_conv(e, n, out);
    }
    if (op_is(n, "MaxPool") || op_is(n, "AvgPool")) {
        *nchw = true;
        return emit_pool(e, n, out, op_is(n, "MaxPool") ? "MaxPool" : "AveragePool");
    }
    fail(e, SL_UNIMPLEMENTED, "node '%s': op '%s' has no ONNX export", sl_node_name(n), op);
    return NULL;
}

static const char *emit(ex *e, sl_output o, bool *nchw)
{
    *nchw = false;
    val *v = classify(e, o);
    if (!v)
        return NULL;
    if (v->kind == V_ALIAS)
        return emit(e, v->alias, nchw);
    if (v->name) {
        *nchw = v->nchw;
        return v->name;
    }
    switch (v->kind) {
    case V_CONST:
        v->name = init_of(e, out_name(e, o), v->t);
        break;
    case V_DYN:
        v->name = emit_dyn(e, o, &v->nchw);
        break;
    case V_UNIT:
        fail(e, SL_UNIMPLEMENTED, "node '%s': op '%s' has no ONNX export", sl_node_name(o.node),
             sl_node_op_type(o.node));
        return NULL;
    default:
        fail(e, SL_UNIMPLEMENTED, "node '%s' (%s): a constant broadcast to a dynamic shape cannot be exported",
             sl_node_name(o.node), sl_node_op_type(o.node));
        return NULL;
    }
    if (!v->name)
        e->failed = true;
    *nchw = v->nchw;
    return v->name;
}

/* ---- Files ------------------------------------------------------------- */

static sl_code write_file(const char *path, const void *buf, size_t len, sl_status *st)
{
    FILE *f = fopen(path, "wb");
    if (!f)
        return sl_status_set(st, SL_PERMISSION_DENIED, "cannot create '%s': %s", path, strerror(errno));
    bool ok = fwrite(buf, 1, len, f) == len;
    ok = fclose(f) == 0 && ok;
    if (!ok) {
        unlink(path);
        return sl_status_set(st, SL_DATA_LOSS, "cannot write '%s': %s", path, strerror(errno));
    }
    return SL_OK;
}

static Onnx__ValueInfoProto *output_info(ex *e, const char *name, sl_output o)
{
    Onnx__ValueInfoProto *vi = ar(e, sizeof(*vi));
    Onnx__TypeProto *tp = ar(e, sizeof(*tp));
    Onnx__TypeProto__Tensor *tt = ar(e, sizeof(*tt));
    if (!vi || !tp || !tt)
        return NULL;
    onnx__value_info_proto__init(vi);
    onnx__type_proto__init(tp);
    onnx__type_proto__tensor__init(tt);
    tt->has_elem_type = true;
    tt->elem_type = onnx_dtype(sl_node_output_type(o.node, o.index));
    tp->value_case = ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE;
    tp->tensor_type = tt;
    vi->name = (char *)name;
    vi->type = tp;
    return vi;
}

static sl_code write_onnx(ex *e, const sl_output *outs, const char *path)
{
    Onnx__ValueInfoProto **ov = ar(e, sizeof(*ov) * (size_t)e->o->num_outputs);
    if (!ov)
        return SL_RESOURCE_EXHAUSTED;
    for (int i = 0; i < e->o->num_outputs; i++) {
        const char *name = emit_nhwc(e, outs[i]);
        if (!name)
            return sl_status_code(e->st);
        const char *want = e->o->outputs[i];
        if (strcmp(name, want)) { /* the output keeps the name the caller gave */
            if (!node(e, "Identity", want, 1, name))
                return sl_status_code(e->st);
        }
        if (!(ov[i] = output_info(e, want, outs[i])))
            return sl_status_code(e->st);
    }
    if (e->failed)
        return sl_status_code(e->st);
    Onnx__GraphProto gp = ONNX__GRAPH_PROTO__INIT;
    gp.name = "sluice";
    gp.n_node = e->n_nodes;
    gp.node = e->nodes;
    gp.n_initializer = e->n_inits;
    gp.initializer = e->inits;
    gp.n_input = e->n_ins;
    gp.input = e->ins;
    gp.n_output = (size_t)e->o->num_outputs;
    gp.output = ov;
    Onnx__OperatorSetIdProto opset = ONNX__OPERATOR_SET_ID_PROTO__INIT;
    opset.domain = "";
    opset.has_version = true;
    opset.version = 13;
    Onnx__OperatorSetIdProto *opsets[] = {&opset};
    Onnx__ModelProto m = ONNX__MODEL_PROTO__INIT;
    m.has_ir_version = true;
    m.ir_version = 7;
    m.n_opset_import = 1;
    m.opset_import = opsets;
    m.producer_name = "sluice";
    m.producer_version = SLUICE_VERSION;
    m.graph = &gp;
    size_t len = onnx__model_proto__get_packed_size(&m);
    uint8_t *buf = sl_malloc(len ? len : 1);
    if (!buf)
        return sl_status_set(e->st, SL_RESOURCE_EXHAUSTED, "out of memory packing the ONNX model");
    onnx__model_proto__pack(&m, buf);
    sl_code rc = write_file(path, buf, len, e->st);
    sl_free(buf);
    return rc;
}

/* The nodes the outputs need (data and control inputs), with variables
 * turned into Consts, as a GraphDef saved to path. */
static sl_code write_frozen(ex *e, const sl_output *outs, const char *path)
{
    sl_status *st = e->st;
    int nn = sl_graph_num_nodes(e->g);
    bool *keep = sl_calloc((size_t)nn + 1, sizeof(bool));
    int *stack = sl_calloc((size_t)nn + 1, sizeof(int));
    size_t len = 0;
    void *bin = sl_graph_export_binary(e->g, &len, st);
    Tensorflow__GraphDef *gd = bin ? tensorflow__graph_def__unpack(NULL, len, bin) : NULL;
    sl_code rc = SL_OK;
    if (!keep || !stack || !gd) {
        rc = bin ? sl_status_set(st, SL_INTERNAL, "cannot re-read the graph's own GraphDef") : sl_status_code(st);
        goto out;
    }
    int sp = 0;
    for (int i = 0; i < e->o->num_outputs; i++)
        if (!keep[sl_node_id(outs[i].node)]) {
            keep[sl_node_id(outs[i].node)] = true;
            stack[sp++] = sl_node_id(outs[i].node);
        }
    while (sp > 0) {
        const sl_node *n = sl_graph_node(e->g, stack[--sp]);
        if (is_variable(n))
            continue;
        if (op_is(n, "PlaceholderWithDefault") && is_input(e, n))
            continue;
        int ni = sl_node_num_inputs(n), nc = sl_node_num_control_inputs(n);
        for (int i = 0; i < ni + nc; i++) {
            const sl_node *m = i < ni ? sl_node_input(n, i).node : sl_node_control_input(n, i - ni);
            if (!keep[sl_node_id(m)]) {
                keep[sl_node_id(m)] = true;
                stack[sp++] = sl_node_id(m);
            }
        }
    }
    /* The GraphDef lists the nodes in graph order (export keeps it). */
    Tensorflow__NodeDef **kept = sl_calloc(gd->n_node + 1, sizeof(*kept));
    Tensorflow__NodeDef__AttrEntry ***saved_attr = sl_calloc(gd->n_node + 1, sizeof(*saved_attr));
    size_t *saved_nattr = sl_calloc(gd->n_node + 1, sizeof(size_t));
    char **saved_op = sl_calloc(gd->n_node + 1, sizeof(char *));
    size_t *saved_nin = sl_calloc(gd->n_node + 1, sizeof(size_t));
    Tensorflow__TensorProto **tps = sl_calloc(gd->n_node + 1, sizeof(*tps));
    Tensorflow__NodeDef__AttrEntry *entries = sl_calloc(2 * (gd->n_node + 1), sizeof(*entries));
    Tensorflow__NodeDef__AttrEntry **eptrs = sl_calloc(2 * (gd->n_node + 1), sizeof(*eptrs));
    Tensorflow__AttrValue *avs = sl_calloc(2 * (gd->n_node + 1), sizeof(*avs));
    size_t nk = 0;
    if (!kept || !saved_attr || !saved_nattr || !saved_op || !saved_nin || !tps || !entries || !eptrs || !avs) {
        rc = sl_status_set(st, SL_RESOURCE_EXHAUSTED, "out of memory freezing the graph");
        goto free_all;
    }
    for (size_t i = 0; i < gd->n_node; i++) {
        Tensorflow__NodeDef *nd = gd->node[i];
        const sl_node *n = sl_graph_find_node(e->g, nd->name);
        saved_attr[i] = nd->attr;
        saved_nattr[i] = nd->n_attr;
        saved_op[i] = nd->op;
        saved_nin[i] = nd->n_input;
        if (!n || !keep[sl_node_id(n)])
            continue;
        /* control inputs to nodes that were dropped go too */
        size_t w = 0;
        for (size_t k = 0; k < nd->n_input; k++) {
            const char *in = nd->input[k];
            if (in[0] == '^') {
                const sl_node *c = sl_graph_find_node(e->g, in + 1);
                if (!c || !keep[sl_node_id(c)])
                    continue;
            }
            nd->input[w++] = nd->input[k];
        }
        nd->n_input = w;
        if (is_variable(n)) {
            val *v = classify(e, (sl_output){(sl_node *)n, 0});
            if (!v || v->kind != V_CONST || !(tps[i] = sl__tensor_to_proto(v->t, st))) {
                rc = sl_status_code(st) != SL_OK ? sl_status_code(st) : SL_INTERNAL;
                goto restore;
            }
            Tensorflow__NodeDef__AttrEntry *a0 = &entries[2 * i], *a1 = &entries[2 * i + 1];
            tensorflow__node_def__attr_entry__init(a0);
            tensorflow__node_def__attr_entry__init(a1);
            tensorflow__attr_value__init(&avs[2 * i]);
            tensorflow__attr_value__init(&avs[2 * i + 1]);
            a0->key = "dtype";
            avs[2 * i].value_case = TENSORFLOW__ATTR_VALUE__VALUE_TYPE;
            avs[2 * i].type = (Tensorflow__DataType)sl_dtype_base(sl_tensor_dtype(v->t));
            a0->value = &avs[2 * i];
            a1->key = "value";
            avs[2 * i + 1].value_case = TENSORFLOW__ATTR_VALUE__VALUE_TENSOR;
            avs[2 * i + 1].tensor = tps[i];
            a1->value = &avs[2 * i + 1];
            eptrs[2 * i] = a0;
            eptrs[2 * i + 1] = a1;
            nd->attr = &eptrs[2 * i];
            nd->n_attr = 2;
            nd->op = "Const";
        }
        kept[nk++] = nd;
    }
    Tensorflow__NodeDef **all = gd->node;
    size_t n_all = gd->n_node;
    gd->node = kept;
    gd->n_node = nk;
    size_t flen = tensorflow__graph_def__get_packed_size(gd);
    uint8_t *fbuf = sl_malloc(flen ? flen : 1);
    if (fbuf)
        tensorflow__graph_def__pack(gd, fbuf);
    gd->node = all;
    gd->n_node = n_all;
    if (!fbuf) {
        rc = sl_status_set(st, SL_RESOURCE_EXHAUSTED, "out of memory freezing the graph");
        goto restore;
    }
    sl_graph *fg = sl_graph_new(st);
    if (!fg || sl_graph_import_binary(fg, fbuf, flen, NULL, st) != SL_OK || sl_graph_save(fg, path, st) != SL_OK)
        rc = sl_status_code(st);
    sl_graph_free(fg);
    sl_free(fbuf);
restore:
    for (size_t i = 0; i < gd->n_node; i++) {
        gd->node[i]->attr = saved_attr[i];
        gd->node[i]->n_attr = saved_nattr[i];
        gd->node[i]->op = saved_op[i];
        gd->node[i]->n_input = saved_nin[i];
        if (tps[i])
            protobuf_c_message_free_unpacked(&tps[i]->base, NULL);
    }
free_all:
    sl_free(kept);
    sl_free(saved_attr);
    sl_free(saved_nattr);
    sl_free(saved_op);
    sl_free(saved_nin);
    sl_free(tps);
    sl_free(entries);
    sl_free(eptrs);
    sl_free(avs);
out:
    if (gd)
        tensorflow__graph_def__free_unpacked(gd, NULL);
    sl_free(bin);
    sl_free(keep);
    sl_free(stack);
    return rc;
}

/* Runs every "<var>/Assign" of the graph once, so variables hold their
 * initial values. */
static sl_code init_variables(ex *e)
{
    int nn = sl_graph_num_nodes(e->g), k = 0;
    const char **targets = sl_calloc((size_t)nn + 1, sizeof(char *));
    if (!targets)
        return sl_status_set(e->st, SL_RESOURCE_EXHAUSTED, "out of memory exporting to ONNX");
    for (int i = 0; i < nn; i++) {
        const sl_node *n = sl_graph_node(e->g, i);
        if (!is_variable(n))
            continue;
        char name[512];
        snprintf(name, sizeof(name), "%s/Assign", sl_node_name(n));
        const sl_node *a = sl_graph_find_node(e->g, name);
        if (a)
            targets[k++] = sl_node_name(a);
    }
    sl_code rc = k ? sl_session_run(e->s, NULL, NULL, NULL, 0, NULL, NULL, 0, targets, k, NULL, e->st) : SL_OK;
    sl_free(targets);
    return rc;
}

sl_code sl_onnx_export(const sl_graph *graph, const sl_onnx_export_options *opts, const char *onnx_path,
                       const char *frozen_path, sl_status *status)
{
    ex e = {.g = graph, .o = opts, .st = status};
    int nn = sl_graph_num_nodes(graph);
    sl_output *outs = NULL;
    sl_code rc = SL_OK;
    if (!opts || opts->num_outputs < 1)
        return sl_status_set(status, SL_INVALID_ARGUMENT, "the ONNX export needs at least one output");
    for (int i = 0; i < opts->num_inputs; i++) {
        const sl_node *n = sl_graph_find_node(graph, opts->inputs[i]);
        if (!n)
            return sl_status_set(status, SL_INVALID_ARGUMENT, "input '%s' is not a node of the graph", opts->inputs[i]);
        if (!op_is(n, "Placeholder") && !op_is(n, "PlaceholderV2") && !op_is(n, "PlaceholderWithDefault"))
            return sl_status_set(status, SL_INVALID_ARGUMENT, "input '%s' is a %s, not a placeholder",
                                 opts->inputs[i], sl_node_op_type(n));
    }
    e.vals = sl_calloc((size_t)nn + 1, sizeof(val *));
    outs = sl_calloc((size_t)opts->num_outputs, sizeof(sl_output));
    if (!e.vals || !outs) {
        rc = sl_status_set(status, SL_RESOURCE_EXHAUSTED, "out of memory exporting to ONNX");
        goto out;
    }
    sl_session_options so = SL_SESSION_OPTIONS_INIT;
    so.inter_op_threads = 1;
    if (!(e.s = sl_session_new(graph, &so, status))) {
        rc = sl_status_code(status);
        goto out;
    }
    for (int i = 0; i < opts->num_outputs; i++)
        if (sl_session_parse_output(e.s, opts->outputs[i], &outs[i], status) != SL_OK) {
            rc = sl_status_set(status, SL_INVALID_ARGUMENT, "output '%s' is not an output of the graph",
                               opts->outputs[i]);
            goto out;
        }
    /* the session's nodes are copies: use the caller's graph's nodes */
    for (int i = 0; i < opts->num_outputs; i++) {
        sl_node *n = sl_graph_find_node(graph, sl_node_name(outs[i].node));
        outs[i].node = n;
    }
    if (opts->checkpoint) {
        if (!(e.ckpt = sl_checkpoint_open(opts->checkpoint, status))) {
            rc = sl_status_code(status);
            goto out;
        }
    } else if ((rc = init_variables(&e)) != SL_OK) {
        goto out;
    }
    for (int i = 0; i < opts->num_outputs; i++)
        if (!classify(&e, outs[i])) {
            rc = sl_status_code(status);
            goto out;
        }
    if ((rc = write_onnx(&e, outs, onnx_path)) != SL_OK)
        goto out;
    if (frozen_path && (rc = write_frozen(&e, outs, frozen_path)) != SL_OK) {
        unlink(onnx_path);
        goto out;
    }
    sl_status_clear(status);
out:
    if (e.vals) {
        for (int i = 0; i < nn; i++) {
            if (!e.vals[i])
                continue;
            int k = sl_node_num_outputs(sl_graph_node(graph, i));
            for (int j = 0; j < (k > 0 ? k : 1); j++)
                sl_tensor_unref(e.vals[i][j].t);
            sl_free(e.vals[i]);
        }
        sl_free(e.vals);
    }
    while (e.arena) {
        arena_blk *b = e.arena;
        e.arena = b->next;
        sl_free(b);
    }
    sl_free(e.nodes);
    sl_free(e.inits);
    sl_free(outs);
    sl_checkpoint_close(e.ckpt);
    sl_session_free(e.s);
    return rc;
}
