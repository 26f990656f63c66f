/* In-graph replication for data-parallel training (see data-parallel.h),
 * done on the GraphDef: nodes are copied by packing and unpacking them. */
#include "config.h"

#include "data-parallel.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "graph.pb-c.h"
#include "node_def.pb-c.h"
#include "sluice/alloc.h"

typedef struct name_ix {
    const char *name;
    int ix;
} name_ix;

static int cmp_name(const void *a, const void *b)
{
    return strcmp(((const name_ix *)a)->name, ((const name_ix *)b)->name);
}

typedef struct name_index {
    name_ix *v;
    size_t n;
} name_index;

static bool index_build(name_index *x, Tensorflow__GraphDef *gd)
{
    x->n = gd->n_node;
    x->v = malloc(sizeof(*x->v) * (gd->n_node + 1));
    if (!x->v)
        return false;
    for (size_t i = 0; i < gd->n_node; i++)
        x->v[i] = (name_ix){gd->node[i]->name, (int)i};
    qsort(x->v, x->n, sizeof(*x->v), cmp_name);
    return true;
}

/* Index of the node an input string ("^n", "n:1", "n") names, or -1. */
static int index_find(const name_index *x, const char *input)
{
    char buf[1024];
    if (input[0] == '^')
        input++;
    snprintf(buf, sizeof(buf), "%s", input);
    char *colon = strrchr(buf, ':');
    if (colon && colon[1] && strspn(colon + 1, "0123456789") == strlen(colon + 1))
        *colon = '\0';
    name_ix key = {buf, 0};
    name_ix *hit = bsearch(&key, x->v, x->n, sizeof(*x->v), cmp_name);
    return hit ? hit->ix : -1;
}

static bool is_variable(const char *op)
{
    return !strcmp(op, "VariableV2") || !strcmp(op, "Variable") || !strcmp(op, "VarHandleOp");
}

const char *sl_dp_name(char *buf, size_t size, int k, const char *name)
{
    snprintf(buf, size, "replica_%d/%s", k, name);
    return buf;
}

static char *dupf(const char *prefix, const char *s)
{
    size_t n = strlen(prefix) + strlen(s) + 1;
    char *r = malloc(n);
    if (r)
        snprintf(r, n, "%s%s", prefix, s);
    return r;
}

static Tensorflow__GraphDef *export_def(const sl_graph *g, sl_status *st)
{
    size_t len;
    void *data = sl_graph_export_binary(g, &len, st);
    if (!data)
        return NULL;
    Tensorflow__GraphDef *gd = tensorflow__graph_def__unpack(NULL, len, data);
    sl_free(data);
    if (!gd)
        sl_status_set(st, SL_INTERNAL, "data-parallel: cannot read back the exported graph");
    return gd;
}

static sl_graph *import_def(Tensorflow__GraphDef *gd, sl_status *st)
{
    size_t len = tensorflow__graph_def__get_packed_size(gd);
    uint8_t *buf = malloc(len ? len : 1);
    if (!buf) {
        sl_status_set(st, SL_RESOURCE_EXHAUSTED, "out of memory");
        return NULL;
    }
    tensorflow__graph_def__pack(gd, buf);
    sl_graph *g = sl_graph_new(st);
    if (g && sl_graph_import_binary(g, buf, len, NULL, st) != SL_OK) {
        sl_status_prefix(st, "data-parallel graph");
        sl_graph_free(g);
        g = NULL;
    }
    free(buf);
    return g;
}

static Tensorflow__NodeDef *copy_node(const Tensorflow__NodeDef *n)
{
    size_t len = tensorflow__node_def__get_packed_size(n);
    uint8_t *buf = malloc(len ? len : 1);
    if (!buf)
        return NULL;
    tensorflow__node_def__pack(n, buf);
    Tensorflow__NodeDef *c = tensorflow__node_def__unpack(NULL, len, buf);
    free(buf);
    return c;
}

static bool set_str(char **field, char *v)
{
    if (!v)
        return false;
    if (*field != protobuf_c_empty_string)
        free(*field);
    *field = v;
    return true;
}

sl_graph *sl_dp_replicate(const sl_graph *model, int nw, int nps, sl_status *st)
{
    if (nw < 1 || nps < 1) {
        sl_status_set(st, SL_INVALID_ARGUMENT, "data-parallel training needs a 'worker' and a 'ps' job "
                                               "(it has %d worker and %d ps tasks)", nw, nps);
        return NULL;
    }
    Tensorflow__GraphDef *gd = export_def(model, st);
    if (!gd)
        return NULL;
    size_t n = gd->n_node;
    name_index x = {0};
    int *ps_task = malloc(sizeof(int) * (n + 1));   /* -1: replicated */
    Tensorflow__NodeDef **out = calloc((size_t)nw * n + n + 1, sizeof(*out));
    size_t nout = 0;
    sl_graph *result = NULL;
    if (!ps_task || !out || !index_build(&x, gd)) {
        sl_status_set(st, SL_RESOURCE_EXHAUSTED, "out of memory");
        goto done;
    }
    for (size_t i = 0; i < n; i++)
        ps_task[i] = -1;
    /* the variables, round robin over the ps tasks */
    int nvars = 0;
    for (size_t i = 0; i < n; i++)
        if (is_variable(gd->node[i]->op))
            ps_task[i] = nvars++ % nps;
    /* their initializers and what those need, with the variable */
    int *stack = malloc(sizeof(int) * (n + 1) * 4);
    size_t cap = (n + 1) * 4;
    if (!stack) {
        sl_status_set(st, SL_RESOURCE_EXHAUSTED, "out of memory");
        goto done;
    }
    for (size_t i = 0; i < n; i++) {
        Tensorflow__NodeDef *nd = gd->node[i];
        if (strncmp(nd->op, "Assign", 6) || nd->n_input < 1)
            continue;
        int v = index_find(&x, nd->input[0]);
        if (v < 0 || !is_variable(gd->node[v]->op))
            continue;
        int task = ps_task[v];
        size_t sp = 0;
        stack[sp++] = (int)i;
        while (sp > 0) {
            int j = stack[--sp];
            if (ps_task[j] >= 0 && j != (int)i)
                continue;
            ps_task[j] = task;
            for (size_t k = 0; k < gd->node[j]->n_input && sp < cap; k++) {
                int d = index_find(&x, gd->node[j]->input[k]);
                if (d >= 0 && ps_task[d] < 0)
                    stack[sp++] = d;
            }
        }
    }
    free(stack);
    /* NoOps grouping only shared nodes (an "init") stay shared too */
    for (bool changed = true; changed;) {
        changed = false;
        for (size_t i = 0; i < n; i++) {
            Tensorflow__NodeDef *nd = gd->node[i];
            if (ps_task[i] >= 0 || strcmp(nd->op, "NoOp") || nd->n_input == 0)
                continue;
            bool all = true;
            for (size_t k = 0; k < nd->n_input && all; k++) {
                int d = index_find(&x, nd->input[k]);
                all = d >= 0 && ps_task[d] >= 0;
            }
            if (all) {
                ps_task[i] = 0;
                changed = true;
            }
        }
    }
    char dev[128];
    for (size_t i = 0; i < n; i++) {
        if (ps_task[i] < 0)
            continue;
        Tensorflow__NodeDef *c = copy_node(gd->node[i]);
        snprintf(dev, sizeof(dev), "/job:ps/replica:0/task:%d", ps_task[i]);
        if (!c || !set_str(&c->device, strdup(dev))) {
            if (c)
                tensorflow__node_def__free_unpacked(c, NULL);
            sl_status_set(st, SL_RESOURCE_EXHAUSTED, "out of memory");
            goto done;
        }
        out[nout++] = c;
    }
    for (int r = 0; r < nw; r++) {
        char prefix[64];
        snprintf(prefix, sizeof(prefix), "replica_%d/", r);
        snprintf(dev, sizeof(dev), "/job:worker/replica:0/task:%d", r);
        for (size_t i = 0; i < n; i++) {
            if (ps_task[i] >= 0)
                continue;
            Tensorflow__NodeDef *c = copy_node(gd->node[i]);
            if (!c) {
                sl_status_set(st, SL_RESOURCE_EXHAUSTED, "out of memory");
                goto done;
            }
            out[nout++] = c;
            bool ok = set_str(&c->name, dupf(prefix, c->name)) && set_str(&c->device, strdup(dev));
            for (size_t k = 0; ok && k < c->n_input; k++) {
                int d = index_find(&x, c->input[k]);
                if (d >= 0 && ps_task[d] >= 0)
                    continue;
                bool ctl = c->input[k][0] == '^';
                char *v = malloc(strlen(prefix) + strlen(c->input[k]) + 2);
                if (v)
                    sprintf(v, "%s%s%s", ctl ? "^" : "", prefix, c->input[k] + ctl);
                ok = set_str(&c->input[k], v);
            }
            if (!ok) {
                sl_status_set(st, SL_RESOURCE_EXHAUSTED, "out of memory");
                goto done;
            }
        }
    }
    Tensorflow__GraphDef rep = TENSORFLOW__GRAPH_DEF__INIT;
    rep.n_node = nout;
    rep.node = out;
    rep.library = gd->library;
    rep.versions = gd->versions;
    result = import_def(&rep, st);
done:
    for (size_t i = 0; out && i < nout; i++)
        tensorflow__node_def__free_unpacked(out[i], NULL);
    free(out);
    free(ps_task);
    free(x.v);
    tensorflow__graph_def__free_unpacked(gd, NULL);
    return result;
}

/* k when `name` has a component "replica_<k>" (k < nw), else -1. */
static int replica_of(const char *name, int nw)
{
    for (const char *p = name; p && *p;) {
        if (!strncmp(p, "replica_", 8)) {
            char *end;
            long k = strtol(p + 8, &end, 10);
            if (end != p + 8 && (*end == '/' || *end == '\0') && k >= 0 && k < nw)
                return (int)k;
        }
        p = strchr(p, '/');
        if (p)
            p++;
    }
    return -1;
}

sl_graph *sl_dp_place(const sl_graph *g, int nw, int nps, sl_status *st)
{
    (void)nps;
    Tensorflow__GraphDef *gd = export_def(g, st);
    if (!gd)
        return NULL;
    name_index x = {0};
    sl_graph *result = NULL;
    if (!index_build(&x, gd)) {
        sl_status_set(st, SL_RESOURCE_EXHAUSTED, "out of memory");
        goto done;
    }
    char dev[128];
    for (size_t i = 0; i < gd->n_node; i++) {
        Tensorflow__NodeDef *nd = gd->node[i];
        if (nd->device && nd->device[0])
            continue;
        int r = replica_of(nd->name, nw);
        const char *d = NULL;
        if (r >= 0) {
            snprintf(dev, sizeof(dev), "/job:worker/replica:0/task:%d", r);
            d = dev;
        } else if (is_variable(nd->op)) {
            /* a slot "<v>/Adam": with its variable */
            d = "/job:ps/replica:0/task:0";
            char buf[1024];
            snprintf(buf, sizeof(buf), "%s", nd->name);
            for (char *s = strrchr(buf, '/'); s; s = strrchr(buf, '/')) {
                *s = '\0';
                int v = index_find(&x, buf);
                if (v >= 0 && is_variable(gd->node[v]->op) && gd->node[v]->device && gd->node[v]->device[0]) {
                    snprintf(dev, sizeof(dev), "%s", gd->node[v]->device);
                    d = dev;
                    break;
                }
            }
        } else {
            sl_node *sn = sl_graph_find_node(g, nd->name);
            bool takes_ref = false;
            for (int k = 0; sn && k < sl_node_num_inputs(sn) && !takes_ref; k++) {
                sl_dtype t = sl_node_input_type(sn, k);
                takes_ref = sl_dtype_is_ref(t) || t == SL_DTYPE_RESOURCE;
            }
            if (!takes_ref)
                d = "/job:ps/replica:0/task:0";
        }
        if (d && !set_str(&nd->device, strdup(d))) {
            sl_status_set(st, SL_RESOURCE_EXHAUSTED, "out of memory");
            goto done;
        }
    }
    result = import_def(gd, st);
done:
    free(x.v);
    tensorflow__graph_def__free_unpacked(gd, NULL);
    return result;
}
