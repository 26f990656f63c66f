/* Node builders: collect a node's inputs, attrs and device, then hand them
 * to sl__graph_add_node() in one piece.  Setters never fail: the first
 * allocation failure is remembered and reported by finish(). */
#include "config.h"

#include "graph-private.h"

#include <stdlib.h>
#include <string.h>

#include "sluice/alloc.h"
#include "tensor-proto.h"

struct sl_node_builder {
    sl_graph *graph;
    char *op_type;
    char *name;          /* full, scoped */
    char *device;
    sl_output *inputs;
    int num_inputs;
    int *group_sizes;
    bool *group_is_list;
    int num_groups;
    sl_node **controls;
    int num_controls;
    const char **attr_names;  /* owned (cast) */
    sl_attr_value **attr_values;
    int num_attrs;
    bool oom;
};

sl_node_builder *sl_node_builder_new(sl_graph *g, const char *op_type, const char *name)
{
    sl_node_builder *b = sl_calloc(1, sizeof(*b));
    if (!b)
        return NULL;
    b->graph = g;
    b->op_type = sl_strdup(op_type ? op_type : "");
    /* an explicit name is taken as given (after the scope): a clash is an
     * error at finish, not a silent rename */
    b->name = name ? sl__graph_scoped_name(g, name)
                   : sl_graph_unique_name(g, op_type && *op_type ? op_type : "node");
    b->oom = !b->op_type || !b->name;
    return b;
}

void sl_node_builder_abandon(sl_node_builder *b)
{
    if (!b)
        return;
    for (int i = 0; i < b->num_attrs; i++) {
        sl_free((char *)b->attr_names[i]);
        sl__attr_value_free(b->attr_values[i]);
    }
    sl_free(b->attr_names);
    sl_free(b->attr_values);
    sl_free(b->op_type);
    sl_free(b->name);
    sl_free(b->device);
    sl_free(b->inputs);
    sl_free(b->group_sizes);
    sl_free(b->group_is_list);
    sl_free(b->controls);
    sl_free(b);
}

static void add_group(sl_node_builder *b, const sl_output *in, int n, bool is_list)
{
    if (!b || b->oom)
        return;
    sl_output *inputs = sl_realloc(b->inputs, sizeof(*inputs) * (size_t)(b->num_inputs + n + 1));
    if (inputs)
        b->inputs = inputs;
    int *sizes = sl_realloc(b->group_sizes, sizeof(int) * (size_t)(b->num_groups + 1));
    if (sizes)
        b->group_sizes = sizes;
    bool *lists = sl_realloc(b->group_is_list, sizeof(bool) * (size_t)(b->num_groups + 1));
    if (lists)
        b->group_is_list = lists;
    if (!inputs || !sizes || !lists) {
        b->oom = true;
        return;
    }
    for (int i = 0; i < n; i++)
        b->inputs[b->num_inputs++] = in[i];
    b->group_sizes[b->num_groups] = n;
    b->group_is_list[b->num_groups++] = is_list;
}

void sl_node_builder_add_input(sl_node_builder *b, sl_output input)
{
    add_group(b, &input, 1, false);
}

void sl_node_builder_add_input_list(sl_node_builder *b, const sl_output *inputs, int n)
{
    add_group(b, inputs, n, true);
}

void sl_node_builder_add_control_input(sl_node_builder *b, sl_node *node)
{
    if (!b || b->oom)
        return;
    sl_node **c = sl_realloc(b->controls, sizeof(*c) * (size_t)(b->num_controls + 1));
    if (!c) {
        b->oom = true;
        return;
    }
    b->controls = c;
    b->controls[b->num_controls++] = node;
}

void sl_node_builder_set_device(sl_node_builder *b, const char *device)
{
    if (!b || b->oom)
        return;
    sl_free(b->device);
    b->device = sl_strdup(device ? device : "");
    b->oom = !b->device;
}

/* Takes ownership of v. */
static void set_attr(sl_node_builder *b, const char *name, sl_attr_value *v)
{
    if (!b || b->oom || !v) {
        sl__attr_value_free(v);
        if (b)
            b->oom = true;
        return;
    }
    for (int i = 0; i < b->num_attrs; i++) {
        if (!strcmp(b->attr_names[i], name)) {
            sl__attr_value_free(b->attr_values[i]);
            b->attr_values[i] = v;
            return;
        }
    }
    const char **names = sl_realloc(b->attr_names, sizeof(*names) * (size_t)(b->num_attrs + 1));
    if (names)
        b->attr_names = names;
    sl_attr_value **values = sl_realloc(b->attr_values, sizeof(*values) * (size_t)(b->num_attrs + 1));
    if (values)
        b->attr_values = values;
    char *nm = sl_strdup(name);
    if (!names || !values || !nm) {
        sl_free(nm);
        sl__attr_value_free(v);
        b->oom = true;
        return;
    }
    b->attr_names[b->num_attrs] = nm;
    b->attr_values[b->num_attrs++] = v;
}

void sl_node_builder_set_attr_int(sl_node_builder *b, const char *name, int64_t v)
{
    set_attr(b, name, sl__attr_value_new_int(v));
}

void sl_node_builder_set_attr_float(sl_node_builder *b, const char *name, float v)
{
    set_attr(b, name, sl__attr_value_new_float(v));
}

void sl_node_builder_set_attr_bool(sl_node_builder *b, const char *name, bool v)
{
    set_attr(b, name, sl__attr_value_new_bool(v));
}

void sl_node_builder_set_attr_type(sl_node_builder *b, const char *name, sl_dtype v)
{
    set_attr(b, name, sl__attr_value_new_type(v));
}

void sl_node_builder_set_attr_shape(sl_node_builder *b, const char *name, const sl_shape *v)
{
    set_attr(b, name, sl__attr_value_new_shape(v));
}

void sl_node_builder_set_attr_string(sl_node_builder *b, const char *name, const char *v,
                                     size_t len)
{
    set_attr(b, name, sl__attr_value_new_string(v, len));
}

void sl_node_builder_set_attr_tensor(sl_node_builder *b, const char *name, const sl_tensor *t)
{
    sl_attr_value *v = NULL;
    Tensorflow__TensorProto *p = sl__tensor_to_proto(t, NULL);
    if (p && (v = malloc(sizeof(*v)))) {
        tensorflow__attr_value__init(v);
        v->value_case = TENSORFLOW__ATTR_VALUE__VALUE_TENSOR;
        v->tensor = p;
    } else if (p) {
        protobuf_c_message_free_unpacked(&p->base, NULL);
    }
    set_attr(b, name, v);
}

#define LIST_SETTER(fn, ctype, field, conv)                                        \
    void fn(sl_node_builder *b, const char *name, const ctype *v, int n)           \
    {                                                                              \
        sl_attr_value *a = sl__attr_value_new_list();                              \
        if (a && n > 0) {                                                          \
            a->list->field = malloc(sizeof(*a->list->field) * (size_t)n);          \
            if (!a->list->field) {                                                 \
                sl__attr_value_free(a);                                            \
                a = NULL;                                                          \
            } else {                                                               \
                for (int i = 0; i < n; i++)                                        \
                    a->list->field[i] = conv(v[i]);                                \
                a->list->n_##field = (size_t)n;                                    \
            }                                                                      \
        }                                                                          \
        set_attr(b, name, a);                                                      \
    }
#define SAME(x) (x)
#define TO_DTYPE(x) ((Tensorflow__DataType)(x))
LIST_SETTER(sl_node_builder_set_attr_int_list, int64_t, i, SAME)
LIST_SETTER(sl_node_builder_set_attr_float_list, float, f, SAME)
LIST_SETTER(sl_node_builder_set_attr_type_list, sl_dtype, type, TO_DTYPE)

void sl_node_builder_set_attr_shape_list(sl_node_builder *b, const char *name, const sl_shape *v,
                                         int n)
{
    sl_attr_value *a = sl__attr_value_new_list();
    if (a && n > 0) {
        a->list->shape = calloc((size_t)n, sizeof(*a->list->shape));
        for (int i = 0; a->list->shape && i < n; i++) {
            a->list->shape[i] = sl__shape_to_proto(&v[i]);
            if (!a->list->shape[i])
                break;
            a->list->n_shape++;
        }
        if ((int)a->list->n_shape != n) {
            sl__attr_value_free(a);
            a = NULL;
        }
    }
    set_attr(b, name, a);
}

void sl_node_builder_set_attr_string_list(sl_node_builder *b, const char *name,
                                          const char *const *v, int n)
{
    sl_attr_value *a = sl__attr_value_new_list();
    if (a && n > 0) {
        a->list->s = calloc((size_t)n, sizeof(*a->list->s));
        for (int i = 0; a->list->s && i < n; i++) {
            size_t len = strlen(v[i]);
            a->list->s[i].data = malloc(len ? len : 1);
            if (!a->list->s[i].data)
                break;
            memcpy(a->list->s[i].data, v[i], len);
            a->list->s[i].len = len;
            a->list->n_s++;
        }
        if ((int)a->list->n_s != n) {
            sl__attr_value_free(a);
            a = NULL;
        }
    }
    set_attr(b, name, a);
}

sl_node *sl_node_builder_finish(sl_node_builder *b, sl_status *status)
{
    if (!b) {
        sl_status_set(status, SL_RESOURCE_EXHAUSTED, "out of memory creating a node builder");
        return NULL;
    }
    sl_node *n = NULL;
    if (b->oom) {
        sl_status_set(status, SL_RESOURCE_EXHAUSTED, "node '%s' (%s): out of memory",
                      b->name ? b->name : "?", b->op_type ? b->op_type : "?");
        goto out;
    }
    for (int i = 0; i < b->num_inputs; i++) {
        if (!b->inputs[i].node) {
            sl_status_set(status, SL_INVALID_ARGUMENT, "node '%s' (%s): input %d is NULL", b->name,
                          b->op_type, i);
            goto out;
        }
    }
    sl_node_spec spec = {
        .name = b->name,
        .op_type = b->op_type,
        .device = b->device,
        .num_inputs = b->num_inputs,
        .inputs = b->inputs,
        .num_groups = b->num_groups,
        .group_sizes = b->group_sizes,
        .group_is_list = b->group_is_list,
        .num_control_inputs = b->num_controls,
        .control_inputs = b->controls,
        .num_attrs = b->num_attrs,
        .attr_names = b->attr_names,
        .attr_values = b->attr_values,
    };
    /* an op with no inputs gets no groups: the signature check needs none */
    sl_node *made = sl__graph_add_node(b->graph, &spec, status);
    n = made;
out:
    sl_node_builder_abandon(b);
    return n;
}
