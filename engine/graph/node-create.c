/* Node creation: the checks every new node passes, whether it comes from a
 * builder or from an imported GraphDef.  The node is assembled privately,
 * validated (op, name, inputs against the signature, type attrs, defaults,
 * attr types, tensor attrs, shapes) and only then published in the graph,
 * so a failure leaves the graph untouched. */
#include "config.h"

#include "graph-private.h"

#include <stdlib.h>
#include <string.h>

#include "sluice/alloc.h"
#include "tensor-proto.h"

/* Fails creation with a message prefixed by the node and its op. */
#define FAIL(code, ...)                                                        \
    do {                                                                       \
        sl_status_set(st, code, __VA_ARGS__);                                  \
        sl_status_prefix(st, "node '%s' (%s)", spec->name, spec->op_type);     \
        goto err;                                                              \
    } while (0)

#define OOM() FAIL(SL_RESOURCE_EXHAUSTED, "out of memory")

static int compare_attrs(const void *a, const void *b)
{
    return strcmp(((const sl_node_attr *)a)->name, ((const sl_node_attr *)b)->name);
}

static sl_node_attr *find_mut(sl_node *n, const char *name)
{
    return (sl_node_attr *)sl__node_find_attr(n, name);
}

/* Adds an attr to a node whose attrs are kept sorted. Takes ownership of
 * value (freed on failure). */
static bool add_attr(sl_node *n, const char *name, sl_attr_value *value, bool is_default)
{
    if (!value)
        return false;
    sl_node_attr *a = sl_realloc(n->attrs, sizeof(*a) * (size_t)(n->num_attrs + 1));
    char *nm = a ? sl_strdup(name) : NULL;
    if (!nm) {
        if (a)
            n->attrs = a;
        sl__attr_value_free(value);
        return false;
    }
    n->attrs = a;
    n->attrs[n->num_attrs++] = (sl_node_attr){nm, value, is_default, NULL};
    qsort(n->attrs, (size_t)n->num_attrs, sizeof(*n->attrs), compare_attrs);
    return true;
}

static sl_dtype input_dtype(const sl_node_spec *spec, int i)
{
    sl_output in = spec->inputs[i];
    if (in.node)
        return sl_node_output_type(in.node, in.index);
    return spec->back_edge_types ? spec->back_edge_types[i] : SL_DTYPE_INVALID;
}

/* How many tensors input arg `a` takes, from attrs or (when unset) from
 * the way inputs were given.  -1 when it cannot be told. */
static int arg_count(const sl_node *n, const sl_op_arg *a, const sl_node_spec *spec, int arg_index,
                     int fixed_total, int num_variable)
{
    if (a->number_attr) {
        int64_t v;
        if (sl_node_attr_int(n, a->number_attr, &v))
            return (int)v;
    } else if (a->type_list_attr) {
        const sl_node_attr *attr = sl__node_find_attr(n, a->type_list_attr);
        if (attr)
            return sl__attr_value_list_size(attr->value);
    } else {
        return 1;
    }
    if (spec->num_groups)
        return spec->group_sizes[arg_index];
    if (num_variable == 1)
        return spec->num_inputs - fixed_total;
    return -1;
}

static sl_code check_attr(const sl_node_spec *spec, const sl_op_attr *oa, const sl_attr_value *v,
                          sl_status *st)
{
    if (!sl__attr_value_has_type(v, oa->type))
        return sl_status_set(st, SL_INVALID_ARGUMENT, "attr '%s' should be %s but is %s", oa->name,
                             sl_attr_type_name(oa->type), sl__attr_value_kind(v));
    if (oa->num_allowed_types) {
        int n = oa->type == SL_ATTR_TYPE ? 1 : sl__attr_value_list_size(v);
        for (int k = 0; k < n; k++) {
            int t = oa->type == SL_ATTR_TYPE ? (int)v->type : (int)v->list->type[k];
            bool ok = false;
            for (int j = 0; j < oa->num_allowed_types; j++)
                ok |= (int)oa->allowed_types[j] == t;
            if (!ok)
                return sl_status_set(st, SL_INVALID_ARGUMENT, "attr '%s' does not allow type %s",
                                     oa->name, sl_dtype_name((sl_dtype)t));
        }
    }
    if (oa->num_allowed_strings) {
        bool ok = false;
        for (int j = 0; j < oa->num_allowed_strings; j++)
            ok |= strlen(oa->allowed_strings[j]) == v->s.len &&
                  !memcmp(oa->allowed_strings[j], v->s.data, v->s.len);
        if (!ok)
            return sl_status_set(st, SL_INVALID_ARGUMENT, "attr '%s' has value '%.*s', not one of the allowed",
                                 oa->name, (int)v->s.len, v->s.data ? (const char *)v->s.data : "");
    }
    if (oa->has_minimum) {
        int64_t have = oa->type == SL_ATTR_INT ? v->i : sl__attr_value_list_size(v);
        if (have < oa->minimum)
            return sl_status_set(st, SL_INVALID_ARGUMENT, "attr '%s' is %lld, less than the minimum %lld",
                                 oa->name, (long long)have, (long long)oa->minimum);
    }
    (void)spec;
    return SL_OK;
}

/* Types of one output or input arg's tensors; returns the count or -1. */
static int arg_types(const sl_node *n, const sl_op_arg *a, sl_dtype *out, int max)
{
    int count = 1;
    if (a->number_attr) {
        int64_t v;
        if (!sl_node_attr_int(n, a->number_attr, &v) || v < 0)
            return -1;
        count = (int)v;
    }
    if (a->type_list_attr) {
        const sl_node_attr *attr = sl__node_find_attr(n, a->type_list_attr);
        if (!attr)
            return -1;
        count = sl__attr_value_list_size(attr->value);
        for (int k = 0; k < count && k < max; k++)
            out[k] = (sl_dtype)attr->value->list->type[k];
    } else {
        sl_dtype t = a->type;
        if (a->type_attr && !sl_node_attr_type(n, a->type_attr, &t))
            return -1;
        for (int k = 0; k < count && k < max; k++)
            out[k] = t;
    }
    for (int k = 0; k < count && k < max; k++)
        if (a->is_ref)
            out[k] = sl_dtype_make_ref(out[k]);
    return count;
}

sl_node *sl__graph_add_node(sl_graph *g, const sl_node_spec *spec, sl_status *st)
{
    sl_node *n = NULL;
    const sl_op_def *op = sl_op_lookup(spec->op_type);
    if (!op)
        FAIL(SL_NOT_FOUND, "unknown op '%s'", spec->op_type);
    if (!sl_node_name_is_valid(spec->name))
        FAIL(SL_INVALID_ARGUMENT, "invalid node name");
    if (sl_graph_find_node(g, spec->name))
        FAIL(SL_INVALID_ARGUMENT, "a node of that name is already in the graph");

    n = sl_calloc(1, sizeof(*n));
    if (!n)
        OOM();
    n->id = g->num_nodes;
    n->graph = g;
    n->op = op;
    n->name = sl_strdup(spec->name);
    n->device = spec->device && *spec->device ? sl_strdup(spec->device) : NULL;
    if (!n->name || (spec->device && *spec->device && !n->device))
        OOM();

    /* attrs given */
    for (int i = 0; i < spec->num_attrs; i++) {
        sl_node_attr *old = find_mut(n, spec->attr_names[i]);
        sl_attr_value *v = sl__attr_value_dup(spec->attr_values[i]);
        if (!v)
            OOM();
        if (old) {
            sl__attr_value_free(old->value);
            old->value = v;
        } else if (!add_attr(n, spec->attr_names[i], v, false)) {
            OOM();
        }
    }

    /* inputs against the signature */
    for (int i = 0; i < spec->num_inputs; i++) {
        sl_output in = spec->inputs[i];
        if (in.node && (in.index < 0 || in.index >= sl_node_num_outputs(in.node)))
            FAIL(SL_INVALID_ARGUMENT, "input %d refers to output %d of '%s', which has %d output%s", i,
                 in.index, sl_node_name(in.node), sl_node_num_outputs(in.node),
                 sl_node_num_outputs(in.node) == 1 ? "" : "s");
    }
    if (spec->num_groups && spec->num_groups != op->num_inputs)
        FAIL(SL_INVALID_ARGUMENT, "op takes %d input argument%s but %d were given", op->num_inputs,
             op->num_inputs == 1 ? "" : "s", spec->num_groups);
    int fixed_total = 0, num_variable = 0;
    for (int a = 0; a < op->num_inputs; a++) {
        if (op->inputs[a].number_attr || op->inputs[a].type_list_attr)
            num_variable++;
        else
            fixed_total++;
    }
    n->input_arg_start = sl_calloc((size_t)op->num_inputs + 1, sizeof(int));
    n->output_arg_start = sl_calloc((size_t)op->num_outputs + 1, sizeof(int));
    n->inputs = sl_calloc((size_t)spec->num_inputs + 1, sizeof(sl_output));
    n->input_types = sl_calloc((size_t)spec->num_inputs + 1, sizeof(sl_dtype));
    if (!n->input_arg_start || !n->output_arg_start || !n->inputs || !n->input_types)
        OOM();
    int pos = 0;
    bool short_of_inputs = false;
    for (int a = 0; a < op->num_inputs; a++) {
        const sl_op_arg *arg = &op->inputs[a];
        if (spec->num_groups && spec->group_is_list[a] != (arg->number_attr || arg->type_list_attr))
            FAIL(SL_INVALID_ARGUMENT, "input '%s' %s a list", arg->name,
                 spec->group_is_list[a] ? "is not" : "is");
        int count = arg_count(n, arg, spec, a, fixed_total, num_variable);
        if (count < 0)
            FAIL(SL_INVALID_ARGUMENT, "cannot tell how many tensors input '%s' takes", arg->name);
        n->input_arg_start[a] = pos;
        if (pos + count > spec->num_inputs) {
            short_of_inputs = true;
            break;  /* reported below with the totals */
        }
        /* set N from the count when not given */
        if (arg->number_attr && !sl__node_find_attr(n, arg->number_attr) &&
            !add_attr(n, arg->number_attr, sl__attr_value_new_int(count), false))
            OOM();
        sl_attr_value *tlist = NULL;
        bool infer_list = arg->type_list_attr && !sl__node_find_attr(n, arg->type_list_attr);
        if (infer_list && !(tlist = sl__attr_value_new_list()))
            OOM();
        for (int k = 0; k < count; k++, pos++) {
            sl_dtype actual = input_dtype(spec, pos);
            sl_dtype want = arg->type;
            if (arg->type_attr) {
                sl_dtype t;
                if (!sl_node_attr_type(n, arg->type_attr, &t)) {
                    t = sl_dtype_base(actual);
                    /* inferred and equal to the op's default: treat as the
                     * default, so export leaves it out as the file did */
                    const sl_op_attr *oa = sl_op_def_find_attr(op, arg->type_attr);
                    bool is_default = oa && oa->has_default &&
                                      oa->default_value && (sl_dtype)((sl_attr_value *)oa->default_value)->type == t;
                    if (!add_attr(n, arg->type_attr, sl__attr_value_new_type(t), is_default)) {
                        sl__attr_value_free(tlist);
                        OOM();
                    }
                }
                want = t;
            } else if (arg->type_list_attr) {
                if (infer_list) {
                    Tensorflow__DataType *ty = realloc(tlist->list->type, sizeof(*ty) * (size_t)(k + 1));
                    if (!ty) {
                        sl__attr_value_free(tlist);
                        OOM();
                    }
                    tlist->list->type = ty;
                    ty[tlist->list->n_type++] = (Tensorflow__DataType)sl_dtype_base(actual);
                    want = sl_dtype_base(actual);
                } else {
                    want = (sl_dtype)sl__node_find_attr(n, arg->type_list_attr)->value->list->type[k];
                }
            }
            n->input_types[pos] = arg->is_ref ? sl_dtype_make_ref(want) : want;
            n->inputs[pos] = spec->inputs[pos];
            bool ok = arg->is_ref ? (sl_dtype_is_ref(actual) && sl_dtype_base(actual) == want)
                                  : sl_dtype_base(actual) == want;
            if (!ok) {
                sl__attr_value_free(tlist);
                const char *src = spec->inputs[pos].node ? sl_node_name(spec->inputs[pos].node) : "?";
                if (arg->is_ref && !sl_dtype_is_ref(actual))
                    FAIL(SL_INVALID_ARGUMENT, "input %d ('%s' from '%s') must be a reference (Ref(%s)) but is %s",
                         pos, arg->name, src, sl_dtype_name(want), sl_dtype_name(actual));
                FAIL(SL_INVALID_ARGUMENT, "input %d ('%s' from '%s') is %s but the op expects %s%s%s%s",
                     pos, arg->name, src, sl_dtype_name(actual), sl_dtype_name(want),
                     arg->type_attr ? " (" : "", arg->type_attr ? arg->type_attr : "",
                     arg->type_attr ? ")" : "");
            }
        }
        if (tlist && !add_attr(n, arg->type_list_attr, tlist, false))
            OOM();
    }
    n->input_arg_start[op->num_inputs] = pos;
    if (short_of_inputs || pos != spec->num_inputs) {
        int want = 0;
        for (int a = 0; a < op->num_inputs; a++)
            want += arg_count(n, &op->inputs[a], spec, a, fixed_total, num_variable);
        FAIL(SL_INVALID_ARGUMENT, "op expects %d input%s but %d were given", want,
             want == 1 ? "" : "s", spec->num_inputs);
    }
    n->num_inputs = spec->num_inputs;

    /* defaults, then attr types */
    for (int a = 0; a < op->num_attrs; a++) {
        const sl_op_attr *oa = &op->attrs[a];
        if (sl__node_find_attr(n, oa->name))
            continue;
        if (!oa->has_default)
            FAIL(SL_INVALID_ARGUMENT, "missing attr '%s' of type %s", oa->name,
                 sl_attr_type_name(oa->type));
        if (!add_attr(n, oa->name, sl__attr_value_dup(oa->default_value), true))
            OOM();
    }
    for (int i = 0; i < n->num_attrs; i++) {
        const sl_op_attr *oa = sl_op_def_find_attr(op, n->attrs[i].name);
        if (!oa) {
            if (n->attrs[i].name[0] == '_')
                continue;  /* internal attrs (_output_shapes, _class, ...) */
            FAIL(SL_INVALID_ARGUMENT, "attr '%s' is not defined by the op", n->attrs[i].name);
        }
        if (check_attr(spec, oa, n->attrs[i].value, st) != SL_OK) {
            sl_status_prefix(st, "node '%s' (%s)", spec->name, spec->op_type);
            goto err;
        }
        if (oa->type == SL_ATTR_TENSOR) {
            n->attrs[i].tensor = sl__tensor_from_proto(n->attrs[i].value->tensor, st);
            if (!n->attrs[i].tensor) {
                sl_status_prefix(st, "node '%s' (%s): attr '%s'", spec->name, spec->op_type, oa->name);
                goto err;
            }
        }
    }

    /* outputs */
    int num_out = 0;
    for (int a = 0; a < op->num_outputs; a++) {
        sl_dtype tmp[1];
        int c = arg_types(n, &op->outputs[a], tmp, 0);
        if (c < 0)
            FAIL(SL_INVALID_ARGUMENT, "cannot tell the type of output '%s'", op->outputs[a].name);
        n->output_arg_start[a] = num_out;
        num_out += c;
    }
    n->output_arg_start[op->num_outputs] = num_out;
    n->output_types = sl_calloc((size_t)num_out + 1, sizeof(sl_dtype));
    n->output_shapes = sl_calloc((size_t)num_out + 1, sizeof(sl_shape));
    if (!n->output_types || !n->output_shapes)
        OOM();
    for (int a = 0; a < op->num_outputs; a++)
        arg_types(n, &op->outputs[a], n->output_types + n->output_arg_start[a],
                  n->output_arg_start[a + 1] - n->output_arg_start[a]);
    n->num_outputs = num_out;
    for (int i = 0; i < num_out; i++)
        n->output_shapes[i] = sl_shape_unknown();

    /* control inputs, kept unique */
    if (spec->num_control_inputs) {
        n->control_inputs = sl_calloc((size_t)spec->num_control_inputs, sizeof(sl_node *));
        if (!n->control_inputs)
            OOM();
        for (int i = 0; i < spec->num_control_inputs; i++) {
            bool dup = false;
            for (int j = 0; j < n->num_control_inputs; j++)
                dup |= n->control_inputs[j] == spec->control_inputs[i];
            if (!dup)
                n->control_inputs[n->num_control_inputs++] = spec->control_inputs[i];
        }
    }

    if (spec->debug_info) {
        size_t len = protobuf_c_message_get_packed_size(spec->debug_info);
        uint8_t *buf = malloc(len ? len : 1);
        if (!buf)
            OOM();
        protobuf_c_message_pack(spec->debug_info, buf);
        n->debug_info = protobuf_c_message_unpack(
            &tensorflow__node_def__experimental_debug_info__descriptor, NULL, len, buf);
        free(buf);
        if (!n->debug_info)
            OOM();
    }
    if (spec->experimental_type.len) {
        n->experimental_type.data = sl_malloc(spec->experimental_type.len);
        if (!n->experimental_type.data)
            OOM();
        memcpy(n->experimental_type.data, spec->experimental_type.data, spec->experimental_type.len);
        n->experimental_type.len = spec->experimental_type.len;
    }

    if (sl__node_infer_shapes(n, st) != SL_OK) {
        if (!spec->skip_shape_errors || sl_status_code(st) == SL_RESOURCE_EXHAUSTED) {
            sl_status_prefix(st, "node '%s' (%s)", spec->name, spec->op_type);
            goto err;
        }
        for (int i = 0; i < num_out; i++)
            n->output_shapes[i] = sl_shape_unknown();
    }

    /* publish */
    if (g->num_nodes == g->cap_nodes) {
        int cap = g->cap_nodes ? g->cap_nodes * 2 : 64;
        sl_node **nodes = sl_realloc(g->nodes, sizeof(*nodes) * (size_t)cap);
        if (!nodes)
            OOM();
        g->nodes = nodes;
        g->cap_nodes = cap;
    }
    if (!sl_strmap_put(&g->by_name, n->name, n))
        OOM();
    g->nodes[g->num_nodes++] = n;
    for (int i = 0; i < n->num_inputs; i++) {
        if (n->inputs[i].node && !sl__node_add_out_edge(n->inputs[i].node, n->inputs[i].index, n, i))
            goto err_unpublish;
    }
    for (int i = 0; i < n->num_control_inputs; i++)
        if (!sl__node_add_out_edge(n->control_inputs[i], -1, n, -1))
            goto err_unpublish;
    sl_status_clear(st);
    return n;

err_unpublish:
    sl__graph_truncate(g, g->num_nodes - 1);  /* frees n and its edges */
    sl_status_set(st, SL_RESOURCE_EXHAUSTED, "node '%s' (%s): out of memory", spec->name,
                  spec->op_type);
    return NULL;
err:
    sl__node_free(n);
    return NULL;
}
