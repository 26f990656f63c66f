/* GraphDef export: each node back to a NodeDef (inputs as "name",
 * "name:k", "^name"; attrs as given, without the defaults the importer
 * filled in, sorted by name as TF serializes maps), plus versions and the
 * opaque function library. */
#include "config.h"

#include "graph-private.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "graph.pb-c.h"
#include "sluice/alloc.h"

static char *dup_str(const char *s)
{
    size_t n = strlen(s);
    char *d = malloc(n + 1);
    if (d)
        memcpy(d, s, n + 1);
    return d;
}

static char *input_string(const sl_output *in, bool control, const sl_node *ctl)
{
    const char *name = control ? sl_node_name(ctl) : sl_node_name(in->node);
    size_t len = strlen(name) + 16;
    char *s = malloc(len);
    if (!s)
        return NULL;
    if (control)
        snprintf(s, len, "^%s", name);
    else if (in->index == 0)
        snprintf(s, len, "%s", name);
    else
        snprintf(s, len, "%s:%d", name, in->index);
    return s;
}

Tensorflow__NodeDef *sl__node_export(const sl_node *n)
{
    Tensorflow__NodeDef *d = malloc(sizeof(*d));
    if (!d)
        return NULL;
    tensorflow__node_def__init(d);
    d->name = dup_str(n->name);
    d->op = dup_str(n->op->name);
    d->device = dup_str(sl_node_device(n));
    int ni = n->num_inputs + n->num_control_inputs;
    d->input = calloc((size_t)ni + 1, sizeof(char *));
    int na = 0;
    for (int i = 0; i < n->num_attrs; i++)
        na += !n->attrs[i].is_default;
    d->attr = calloc((size_t)na + 1, sizeof(*d->attr));
    if (!d->name || !d->op || !d->device || !d->input || !d->attr)
        goto oom;
    for (int i = 0; i < n->num_inputs; i++) {
        if (!(d->input[d->n_input] = input_string(&n->inputs[i], false, NULL)))
            goto oom;
        d->n_input++;
    }
    for (int i = 0; i < n->num_control_inputs; i++) {
        if (!(d->input[d->n_input] = input_string(NULL, true, n->control_inputs[i])))
            goto oom;
        d->n_input++;
    }
    for (int i = 0; i < n->num_attrs; i++) {
        if (n->attrs[i].is_default)
            continue;
        Tensorflow__NodeDef__AttrEntry *e = malloc(sizeof(*e));
        if (!e)
            goto oom;
        tensorflow__node_def__attr_entry__init(e);
        d->attr[d->n_attr++] = e;
        e->key = dup_str(n->attrs[i].name);
        e->value = sl__attr_value_dup(n->attrs[i].value);
        if (!e->key || !e->value)
            goto oom;
    }
    if (n->debug_info) {
        size_t len = protobuf_c_message_get_packed_size(n->debug_info);
        uint8_t *buf = malloc(len ? len : 1);
        if (!buf)
            goto oom;
        protobuf_c_message_pack(n->debug_info, buf);
        d->experimental_debug_info = (Tensorflow__NodeDef__ExperimentalDebugInfo *)protobuf_c_message_unpack(
            &tensorflow__node_def__experimental_debug_info__descriptor, NULL, len, buf);
        free(buf);
        if (!d->experimental_debug_info)
            goto oom;
    }
    if (n->experimental_type.len) {
        d->experimental_type.data = malloc(n->experimental_type.len);
        if (!d->experimental_type.data)
            goto oom;
        memcpy(d->experimental_type.data, n->experimental_type.data, n->experimental_type.len);
        d->experimental_type.len = n->experimental_type.len;
    }
    return d;
oom:
    protobuf_c_message_free_unpacked(&d->base, NULL);
    return NULL;
}

Tensorflow__GraphDef *sl__graph_export_graphdef(const sl_graph *g, sl_status *st)
{
    Tensorflow__GraphDef *gd = malloc(sizeof(*gd));
    if (!gd)
        goto oom;
    tensorflow__graph_def__init(gd);
    gd->node = calloc((size_t)g->num_nodes + 1, sizeof(*gd->node));
    if (!gd->node)
        goto oom;
    for (int i = 0; i < g->num_nodes; i++) {
        if (!(gd->node[i] = sl__node_export(g->nodes[i])))
            goto oom;
        gd->n_node++;
    }
    if (g->producer || g->min_consumer || g->num_bad_consumers) {
        gd->versions = malloc(sizeof(*gd->versions));
        if (!gd->versions)
            goto oom;
        tensorflow__version_def__init(gd->versions);
        gd->versions->producer = g->producer;
        gd->versions->min_consumer = g->min_consumer;
        if (g->num_bad_consumers) {
            gd->versions->bad_consumers = malloc(sizeof(int32_t) * (size_t)g->num_bad_consumers);
            if (!gd->versions->bad_consumers)
                goto oom;
            memcpy(gd->versions->bad_consumers, g->bad_consumers, sizeof(int32_t) * (size_t)g->num_bad_consumers);
            gd->versions->n_bad_consumers = (size_t)g->num_bad_consumers;
        }
    }
    if (g->library.data) {
        gd->library = tensorflow__function_def_library__unpack(NULL, g->library.len, g->library.data);
        if (!gd->library)
            goto oom;
    }
    if (g->debug_info.len) {
        gd->debug_info.data = malloc(g->debug_info.len);
        if (!gd->debug_info.data)
            goto oom;
        memcpy(gd->debug_info.data, g->debug_info.data, g->debug_info.len);
        gd->debug_info.len = g->debug_info.len;
    }
    sl_status_clear(st);
    return gd;
oom:
    if (gd)
        protobuf_c_message_free_unpacked(&gd->base, NULL);
    sl_status_set(st, SL_RESOURCE_EXHAUSTED, "out of memory exporting a graph");
    return NULL;
}
