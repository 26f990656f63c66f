/* The timeline's model (see the header). */
#include "board-timeline.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "graph.pb-c.h"
#include "node_def.pb-c.h"
#include "run_metadata.pb-c.h"
#include "step_stats.pb-c.h"

/* ---- refs: the traced steps of a run ---- */

void
board_timeline_ref_free (BoardTimelineRef *r)
{
    if (!r)
        return;
    g_free (r->tag);
    if (r->bytes)
        g_bytes_unref (r->bytes);
    g_free (r);
}

/* N of "stepN", or -1. */
static gint64
tag_step (const char *tag)
{
    if (!g_str_has_prefix (tag, "step") || !g_ascii_isdigit (tag[4]))
        return -1;
    char *end = NULL;
    gint64 n = g_ascii_strtoll (tag + 4, &end, 10);
    return end && *end == '\0' ? n : -1;
}

static int
ref_cmp (gconstpointer a, gconstpointer b)
{
    const BoardTimelineRef *x = *(BoardTimelineRef *const *) a;
    const BoardTimelineRef *y = *(BoardTimelineRef *const *) b;
    if (x->step != y->step)
        return x->step < y->step ? -1 : 1;
    return strcmp (x->tag, y->tag);
}

GPtrArray *
board_timeline_refs_of_run (BoardRun *run)
{
    GPtrArray *out = g_ptr_array_new_with_free_func ((GDestroyNotify) board_timeline_ref_free);
    GPtrArray *tags = board_run_get_tags (run);
    for (guint i = 0; tags && i < tags->len; i++) {
        const char *tag = g_ptr_array_index (tags, i);
        BoardSeries *s = board_run_get_series (run, tag);
        if (!s || s->kind != BOARD_KIND_RUN_METADATA || !s->blobs || s->blobs->len == 0)
            continue;
        /* a tag written again (a resumed run) shows its newest point */
        BoardBlob *b = g_ptr_array_index (s->blobs, s->blobs->len - 1);
        if (b->n_blobs < 1 || !b->blobs[0])
            continue;
        BoardTimelineRef *r = g_new0 (BoardTimelineRef, 1);
        r->tag = g_strdup (tag);
        gint64 n = tag_step (tag);
        r->step = n >= 0 ? n : b->step;
        r->bytes = g_bytes_ref (b->blobs[0]);
        g_ptr_array_add (out, r);
    }
    g_ptr_array_sort (out, ref_cmp);
    return out;
}

GBytes *
board_timeline_graph_of_run (BoardRun *run)
{
    BoardSeries *s = board_run_get_series (run, "__run_graph__");
    if (!s || s->kind != BOARD_KIND_GRAPH || !s->blobs || s->blobs->len == 0)
        return NULL;
    BoardBlob *b = g_ptr_array_index (s->blobs, s->blobs->len - 1);
    return b->n_blobs > 0 && b->blobs[0] ? g_bytes_ref (b->blobs[0]) : NULL;
}

GHashTable *
board_timeline_ops_from_graph (const void *data, gsize size)
{
    if (!data || size == 0)
        return NULL;
    Tensorflow__GraphDef *g = tensorflow__graph_def__unpack (NULL, size, data);
    if (!g)
        return NULL;
    GHashTable *ops = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
    for (size_t i = 0; i < g->n_node; i++) {
        const Tensorflow__NodeDef *n = g->node[i];
        if (n->name && *n->name && n->op && *n->op)
            g_hash_table_replace (ops, g_strdup (n->name), g_strdup (n->op));
    }
    tensorflow__graph_def__free_unpacked (g, NULL);
    return ops;
}

/* ---- names ---- */

/* The last '/'-component of name. */
static const char *
base_name (const char *name)
{
    const char *s = strrchr (name, '/');
    return s ? s + 1 : name;
}

const char *
board_timeline_op_from_name (const char *name)
{
    if (!name)
        return NULL;
    const char *b = base_name (name);
    if (g_str_has_prefix (b, "_send_") || g_str_has_prefix (b, "_Send"))
        return "_Send";
    if (g_str_has_prefix (b, "_recv_") || g_str_has_prefix (b, "_Recv"))
        return "_Recv";
    if (strcmp (b, "_control_token") == 0)
        return "Const";
    if (g_str_has_prefix (b, "_to_half_"))
        return "Cast";
    return NULL;
}

/* The op of TF's timeline_label "name = Op(inputs)", newly allocated, or
 * NULL. */
static char *
op_from_label (const char *label)
{
    if (!label || !*label)
        return NULL;
    const char *eq = strstr (label, " = ");
    if (!eq)
        return NULL;
    const char *op = eq + 3;
    size_t n = strcspn (op, "( ");
    return n > 0 ? g_strndup (op, n) : NULL;
}

typedef struct {
    int type_rank;       /* CPU 0, GPU 1, other 2 */
    char *job;
    gint64 replica, task, index;
    char *type;
    char *rest;          /* components after the device (TF's ".../stream:all") */
} DevKey;

static void
dev_key_clear (DevKey *k)
{
    g_free (k->job);
    g_free (k->type);
    g_free (k->rest);
}

/* Parses "/job:J/replica:R/task:T/device:TYPE:N[/more]" and the legacy
 * "/cpu:0" forms.  Returns FALSE when no device part is found. */
static gboolean
dev_parse (const char *device, DevKey *k)
{
    memset (k, 0, sizeof *k);
    k->replica = k->task = k->index = -1;
    k->type_rank = 2;
    gboolean have_dev = FALSE;
    GString *rest = g_string_new (NULL);
    char **parts = g_strsplit (device ? device : "", "/", -1);
    for (char **p = parts; *p; p++) {
        const char *c = *p;
        if (!*c)
            continue;
        if (g_str_has_prefix (c, "job:")) {
            g_free (k->job);
            k->job = g_strdup (c + 4);
        } else if (g_str_has_prefix (c, "replica:")) {
            k->replica = g_ascii_strtoll (c + 8, NULL, 10);
        } else if (g_str_has_prefix (c, "task:")) {
            k->task = g_ascii_strtoll (c + 5, NULL, 10);
        } else if (!have_dev) {
            const char *d = g_str_has_prefix (c, "device:") ? c + 7 : c;
            const char *colon = strrchr (d, ':');
            if (colon && colon > d && g_ascii_isdigit (colon[1])) {
                k->type = g_ascii_strup (d, colon - d);
                k->index = g_ascii_strtoll (colon + 1, NULL, 10);
                have_dev = TRUE;
            } else if (strcmp (d, "cpu") == 0 || strcmp (d, "gpu") == 0) {
                k->type = g_ascii_strup (d, -1);
                k->index = 0;
                have_dev = TRUE;
            } else {
                if (rest->len)
                    g_string_append_c (rest, '/');
                g_string_append (rest, c);
            }
        } else {
            if (rest->len)
                g_string_append_c (rest, '/');
            g_string_append (rest, c);
        }
    }
    g_strfreev (parts);
    k->rest = g_string_free (rest, FALSE);
    if (k->type)
        k->type_rank = strcmp (k->type, "CPU") == 0 ? 0 : strcmp (k->type, "GPU") == 0 ? 1 : 2;
    return have_dev;
}

char *
board_timeline_device_short (const char *device)
{
    DevKey k;
    if (!dev_parse (device, &k)) {
        dev_key_clear (&k);
        return g_strdup (device ? device : "");
    }
    GString *s = g_string_new (NULL);
    if (k.job && strcmp (k.job, "localhost") != 0) {
        g_string_append (s, k.job);
        if (k.task >= 0)
            g_string_append_printf (s, ":%" G_GINT64_FORMAT, k.task);
        g_string_append_c (s, '/');
    }
    g_string_append_printf (s, "%s:%" G_GINT64_FORMAT, k.type, k.index);
    if (k.rest && *k.rest)
        g_string_append_printf (s, " %s", k.rest);
    dev_key_clear (&k);
    return g_string_free (s, FALSE);
}

static int
dev_cmp (const char *a, const char *b)
{
    DevKey x, y;
    dev_parse (a, &x);
    dev_parse (b, &y);
    int r;
    if (x.type_rank != y.type_rank)
        r = x.type_rank - y.type_rank;
    else if ((r = g_strcmp0 (x.job, y.job)) != 0)
        ;
    else if (x.replica != y.replica)
        r = x.replica < y.replica ? -1 : 1;
    else if (x.task != y.task)
        r = x.task < y.task ? -1 : 1;
    else if ((r = g_strcmp0 (x.type, y.type)) != 0)
        ;
    else if (x.index != y.index)
        r = x.index < y.index ? -1 : 1;
    else if ((r = g_strcmp0 (x.rest, y.rest)) != 0)
        ;
    else
        r = g_strcmp0 (a, b);
    dev_key_clear (&x);
    dev_key_clear (&y);
    return r;
}

/* ---- colors and times ---- */

/* Light fills of distinct hues (ColorBrewer's Set3, Set2 and Paired,
 * light enough for dark text).  The ops a training step spends most of
 * its time in have fixed, different colors; any other op hashes to a
 * slot, so colors hold across steps, runs and sessions. */
static const guint32 op_palette[] = {
    0x8dd3c7, 0xfdb462, 0xbebada, 0xfb8072, 0x80b1d3, 0xb3de69, 0xfccde5, 0xbc80bd,
    0xccebc5, 0xffed6f, 0xe5c494, 0x66c2a5, 0x8da0cb, 0xe78ac3, 0xffffb3, 0xa6cee3,
    0xb2df8a, 0xfb9a99, 0xcab2d6, 0xfdbf6f,
};

static const struct {
    const char *op;
    guint32 color;
} op_fixed[] = {
    { "MatMul", 0x80b1d3 }, { "BatchMatMul", 0x80b1d3 }, { "BatchMatMulV2", 0x80b1d3 },
    { "Conv2D", 0xfb8072 }, { "Conv2DBackpropInput", 0xfdb462 },
    { "Conv2DBackpropFilter", 0xe78ac3 }, { "BiasAdd", 0xb3de69 }, { "BiasAddGrad", 0x66c2a5 },
    { "Relu", 0xffed6f }, { "ReluGrad", 0xe5c494 }, { "MaxPool", 0xbebada },
    { "MaxPoolGrad", 0xbc80bd }, { "ApplyAdam", 0x8dd3c7 }, { "ApplyGradientDescent", 0x8dd3c7 },
    { "ResourceApplyAdam", 0x8dd3c7 }, { "Mul", 0xfccde5 }, { "Const", 0xccebc5 },
    { "Reshape", 0xa6cee3 }, { "Cast", 0xcab2d6 }, { "Mean", 0xffffb3 }, { "Sum", 0xffffb3 },
    { "Add", 0xb2df8a }, { "AddV2", 0xb2df8a }, { "Softmax", 0xfb9a99 },
    { "SparseSoftmaxCrossEntropyWithLogits", 0xfb9a99 }, { "Identity", 0xfdbf6f },
    { "VariableV2", 0x8da0cb }, { "VarHandleOp", 0x8da0cb }, { "ReadVariableOp", 0x8da0cb },
};

guint32
board_timeline_op_color (const char *op)
{
    if (!op || !*op)
        return 0xd0d0d0;
    if (strcmp (op, "_Send") == 0 || strcmp (op, "_Recv") == 0)
        return 0xb0b8c4;
    for (guint i = 0; i < G_N_ELEMENTS (op_fixed); i++)
        if (strcmp (op, op_fixed[i].op) == 0)
            return op_fixed[i].color;
    guint32 h = 2166136261u;
    for (const unsigned char *p = (const unsigned char *) op; *p; p++) {
        h ^= *p;
        h *= 16777619u;
    }
    return op_palette[h % G_N_ELEMENTS (op_palette)];
}

char *
board_timeline_format_us (double us)
{
    double a = fabs (us);
    if (a < 1)
        return g_strdup_printf ("%.2f \u00b5s", us);
    if (a < 1000)
        return g_strdup_printf ("%.0f \u00b5s", us);
    if (a < 1e6) {
        double ms = us / 1000;
        return g_strdup_printf (fabs (ms) < 10 ? "%.2f ms" : fabs (ms) < 100 ? "%.1f ms" : "%.0f ms", ms);
    }
    double s = us / 1e6;
    return g_strdup_printf (fabs (s) < 10 ? "%.2f s" : "%.1f s", s);
}

/* ---- decoding ---- */

static void
lane_free (BoardTimelineLane *l)
{
    g_free (l->device);
    g_free (l->device_short);
    g_free (l->label);
    g_free (l->thread_name);
    if (l->nodes)
        g_array_unref (l->nodes);
    g_free (l);
}

static void
node_clear (BoardTimelineNode *n)
{
    g_free (n->name);
    g_free (n->op);
    g_free (n->label);
}

void
board_timeline_step_free (BoardTimelineStep *s)
{
    if (!s)
        return;
    g_free (s->run);
    g_free (s->tag);
    if (s->lanes)
        g_ptr_array_unref (s->lanes);
    if (s->nodes)
        g_array_unref (s->nodes);
    g_free (s);
}

static double
abs_start_us (const Tensorflow__NodeExecStats *n)
{
    if (n->all_start_micros != 0)
        return (double) n->all_start_micros;
    return n->all_start_nanos / 1000.0;
}

static double
rel_us (int64_t micros, int64_t nanos)
{
    return micros != 0 ? (double) micros : nanos / 1000.0;
}

typedef struct {
    const char *device;
    guint32 thread;
} LaneKey;

static guint
lane_key_hash (gconstpointer p)
{
    const LaneKey *k = p;
    return g_str_hash (k->device) * 31u + k->thread;
}

static gboolean
lane_key_equal (gconstpointer a, gconstpointer b)
{
    const LaneKey *x = a, *y = b;
    return x->thread == y->thread && strcmp (x->device, y->device) == 0;
}

static int
lane_cmp (gconstpointer a, gconstpointer b)
{
    const BoardTimelineLane *x = *(BoardTimelineLane *const *) a;
    const BoardTimelineLane *y = *(BoardTimelineLane *const *) b;
    int r = dev_cmp (x->device, y->device);
    if (r)
        return r;
    return x->thread < y->thread ? -1 : x->thread > y->thread;
}

static int
node_cmp (gconstpointer a, gconstpointer b)
{
    const BoardTimelineNode *x = a, *y = b;
    if (x->lane != y->lane)
        return x->lane - y->lane;
    if (x->start_us != y->start_us)
        return x->start_us < y->start_us ? -1 : 1;
    /* longer first: an enclosing bar takes the upper row */
    if (x->dur_us != y->dur_us)
        return x->dur_us > y->dur_us ? -1 : 1;
    return strcmp (x->name, y->name);
}

static gboolean
decode_failed (GError **error, const char *run, const char *tag, const char *what)
{
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                 "run \u201c%s\u201d, run metadata \u201c%s\u201d: %s", run ? run : "",
                 tag ? tag : "", what);
    return FALSE;
}

static void
node_bytes (const Tensorflow__NodeExecStats *ns, gint64 *out, gint64 *peak)
{
    *out = 0;
    *peak = 0;
    for (size_t i = 0; i < ns->n_output; i++) {
        const Tensorflow__NodeOutput *o = ns->output[i];
        const Tensorflow__TensorDescription *td = o ? o->tensor_description : NULL;
        const Tensorflow__AllocationDescription *ad = td ? td->allocation_description : NULL;
        if (ad)
            *out += ad->allocated_bytes > 0 ? ad->allocated_bytes : MAX (ad->requested_bytes, 0);
    }
    for (size_t i = 0; i < ns->n_memory; i++)
        if (ns->memory[i] && ns->memory[i]->peak_bytes > *peak)
            *peak = ns->memory[i]->peak_bytes;
}

BoardTimelineStep *
board_timeline_step_decode (const void *data, gsize size, GHashTable *ops, const char *run,
                            const char *tag, gint64 step, GError **error)
{
    if (!data || size == 0) {
        decode_failed (error, run, tag, "empty (no step statistics)");
        return NULL;
    }
    Tensorflow__RunMetadata *rm = tensorflow__run_metadata__unpack (NULL, size, data);
    if (!rm) {
        char *what = g_strdup_printf ("cannot be decoded as RunMetadata (%" G_GSIZE_FORMAT
                                      " bytes, damaged?)", size);
        decode_failed (error, run, tag, what);
        g_free (what);
        return NULL;
    }
    const Tensorflow__StepStats *ss = rm->step_stats;
    size_t total = 0;
    for (size_t d = 0; ss && d < ss->n_dev_stats; d++)
        if (ss->dev_stats[d])
            total += ss->dev_stats[d]->n_node_stats;
    if (total == 0) {
        tensorflow__run_metadata__free_unpacked (rm, NULL);
        decode_failed (error, run, tag, "holds no step statistics");
        return NULL;
    }

    BoardTimelineStep *s = g_new0 (BoardTimelineStep, 1);
    s->run = g_strdup (run ? run : "");
    s->tag = g_strdup (tag ? tag : "");
    s->step = step;
    s->lanes = g_ptr_array_new_with_free_func ((GDestroyNotify) lane_free);
    s->nodes = g_array_sized_new (FALSE, TRUE, sizeof (BoardTimelineNode), (guint) total);
    g_array_set_clear_func (s->nodes, (GDestroyNotify) node_clear);

    /* the step's start: the earliest node of any device */
    double t0 = INFINITY;
    for (size_t d = 0; d < ss->n_dev_stats; d++) {
        const Tensorflow__DeviceStepStats *ds = ss->dev_stats[d];
        for (size_t i = 0; ds && i < ds->n_node_stats; i++)
            if (ds->node_stats[i])
                t0 = MIN (t0, abs_start_us (ds->node_stats[i]));
    }
    if (!isfinite (t0))
        t0 = 0;
    s->start_micros = (gint64) t0;

    GHashTable *lane_of = g_hash_table_new_full (lane_key_hash, lane_key_equal, g_free, NULL);
    GHashTable *devices = g_hash_table_new (g_str_hash, g_str_equal);
    for (size_t d = 0; d < ss->n_dev_stats; d++) {
        const Tensorflow__DeviceStepStats *ds = ss->dev_stats[d];
        if (!ds)
            continue;
        const char *dev = ds->device && *ds->device ? ds->device : "(no device)";
        for (size_t i = 0; i < ds->n_node_stats; i++) {
            const Tensorflow__NodeExecStats *ns = ds->node_stats[i];
            if (!ns)
                continue;
            g_hash_table_add (devices, (gpointer) dev);
            LaneKey key = { dev, ns->thread_id };
            gpointer li;
            if (!g_hash_table_lookup_extended (lane_of, &key, NULL, &li)) {
                BoardTimelineLane *l = g_new0 (BoardTimelineLane, 1);
                l->device = g_strdup (dev);
                l->thread = ns->thread_id;
                for (size_t t = 0; t < ds->n_thread_names; t++)
                    if (ds->thread_names[t] && ds->thread_names[t]->key == ns->thread_id &&
                        ds->thread_names[t]->value && *ds->thread_names[t]->value)
                        l->thread_name = g_strdup (ds->thread_names[t]->value);
                l->nodes = g_array_new (FALSE, FALSE, sizeof (int));
                li = GINT_TO_POINTER (s->lanes->len);
                g_ptr_array_add (s->lanes, l);
                LaneKey *k = g_new (LaneKey, 1);
                k->device = l->device;
                k->thread = l->thread;
                g_hash_table_insert (lane_of, k, li);
            }
            BoardTimelineNode n = { 0 };
            n.name = g_strdup (ns->node_name ? ns->node_name : "");
            n.label = g_strdup (ns->timeline_label ? ns->timeline_label : "");
            char *op = op_from_label (n.label);
            if (!op && ops) {
                const char *o = g_hash_table_lookup (ops, n.name);
                op = o ? g_strdup (o) : NULL;
            }
            if (!op) {
                const char *o = board_timeline_op_from_name (n.name);
                op = g_strdup (o ? o : "");
            }
            n.op = op;
            n.transfer = strcmp (op, "_Send") == 0 || strcmp (op, "_Recv") == 0 ||
                         strcmp (op, "_HostSend") == 0 || strcmp (op, "_HostRecv") == 0;
            n.start_us = abs_start_us (ns) - t0;
            double end = rel_us (ns->all_end_rel_micros, ns->all_end_rel_nanos);
            double op_end = rel_us (ns->op_end_rel_micros, ns->op_end_rel_nanos);
            n.dur_us = MAX (0, MAX (end, op_end));
            n.op_start_us = CLAMP (rel_us (ns->op_start_rel_micros, ns->op_start_rel_nanos), 0,
                                   n.dur_us);
            n.op_end_us = CLAMP (op_end, n.op_start_us, n.dur_us);
            n.thread = ns->thread_id;
            n.lane = GPOINTER_TO_INT (li);
            node_bytes (ns, &n.output_bytes, &n.peak_bytes);
            g_array_append_val (s->nodes, n);
        }
    }
    s->n_devices = (int) g_hash_table_size (devices);
    g_hash_table_unref (devices);
    tensorflow__run_metadata__free_unpacked (rm, NULL);

    /* lanes in display order, then nodes by lane and start */
    guint nl = s->lanes->len;
    GPtrArray *sorted = g_ptr_array_sized_new (nl);
    for (guint i = 0; i < nl; i++)
        g_ptr_array_add (sorted, g_ptr_array_index (s->lanes, i));
    g_ptr_array_sort (sorted, lane_cmp);
    int *new_index = g_new (int, nl);
    for (guint i = 0; i < nl; i++)
        for (guint j = 0; j < nl; j++)
            if (g_ptr_array_index (sorted, j) == g_ptr_array_index (s->lanes, i))
                new_index[i] = (int) j;
    /* hand the lanes over to the sorted array */
    g_ptr_array_set_free_func (s->lanes, NULL);
    g_ptr_array_unref (s->lanes);
    g_ptr_array_set_free_func (sorted, (GDestroyNotify) lane_free);
    s->lanes = sorted;
    for (guint i = 0; i < s->nodes->len; i++) {
        BoardTimelineNode *n = &g_array_index (s->nodes, BoardTimelineNode, i);
        n->lane = new_index[n->lane];
    }
    g_free (new_index);
    g_hash_table_unref (lane_of);
    g_array_sort (s->nodes, node_cmp);

    /* labels: a device with one lane shows just its name */
    for (guint i = 0; i < nl; i++) {
        BoardTimelineLane *l = g_ptr_array_index (s->lanes, i);
        l->device_short = board_timeline_device_short (l->device);
        gboolean alone = (i == 0 || strcmp (((BoardTimelineLane *) g_ptr_array_index (
                                                 s->lanes, i - 1))->device, l->device) != 0) &&
                         (i + 1 == nl || strcmp (((BoardTimelineLane *) g_ptr_array_index (
                                                     s->lanes, i + 1))->device, l->device) != 0);
        l->label = alone ? g_strdup (l->device_short)
                         : g_strdup_printf ("%s t%u", l->device_short, l->thread);
    }

    /* rows: per lane, kernels first, each in the first row free at its
     * start; then the copies, in a kernel row where it is free, else in
     * rows of their own; busy time as the union of the kernels */
    GArray *row_end = g_array_new (FALSE, FALSE, sizeof (double));
    guint i = 0;
    while (i < s->nodes->len) {
        int lane = g_array_index (s->nodes, BoardTimelineNode, i).lane;
        guint j = i;
        while (j < s->nodes->len && g_array_index (s->nodes, BoardTimelineNode, j).lane == lane)
            j++;
        BoardTimelineLane *l = g_ptr_array_index (s->lanes, lane);
        g_array_set_size (row_end, 0);
        double busy_end = -INFINITY;
        for (int pass = 0; pass < 2; pass++) {
            if (pass == 1)
                l->n_compute_rows = (int) row_end->len;
            for (guint k = i; k < j; k++) {
                BoardTimelineNode *n = &g_array_index (s->nodes, BoardTimelineNode, k);
                if (n->transfer != (pass == 1))
                    continue;
                int row = -1;
                for (guint r = 0; r < row_end->len; r++)
                    if (g_array_index (row_end, double, r) <= n->start_us) {
                        row = (int) r;
                        break;
                    }
                double end = n->start_us + n->dur_us;
                if (row < 0) {
                    row = (int) row_end->len;
                    g_array_append_val (row_end, end);
                } else {
                    g_array_index (row_end, double, row) = end;
                }
                n->row = row;
                s->span_us = MAX (s->span_us, end);
                if (pass == 1)
                    continue;
                if (n->start_us >= busy_end) {
                    l->busy_us += n->dur_us;
                    busy_end = end;
                } else if (end > busy_end) {
                    l->busy_us += end - busy_end;
                    busy_end = end;
                }
            }
        }
        l->n_rows = MAX (1, (int) row_end->len);
        for (guint k = i; k < j; k++) {
            int idx = (int) k;
            g_array_append_val (l->nodes, idx);
        }
        i = j;
    }
    g_array_unref (row_end);
    return s;
}

int
board_timeline_step_node_at (const BoardTimelineStep *s, int lane, int row, double t,
                             double slack_us)
{
    if (!s || lane < 0 || (guint) lane >= s->lanes->len)
        return -1;
    const BoardTimelineLane *l = g_ptr_array_index (s->lanes, lane);
    int best = -1;
    double best_d = INFINITY;
    for (guint i = 0; i < l->nodes->len; i++) {
        int k = g_array_index (l->nodes, int, i);
        const BoardTimelineNode *n = &g_array_index (s->nodes, BoardTimelineNode, k);
        if (n->row != row)
            continue;
        double a = n->start_us, b = n->start_us + n->dur_us;
        if (b - a < slack_us) {
            double mid = (a + b) / 2;
            a = mid - slack_us / 2;
            b = mid + slack_us / 2;
        }
        if (t < a || t > b)
            continue;
        /* inside: an exact hit beats a widened thin bar */
        double d = (t >= n->start_us && t <= n->start_us + n->dur_us)
                       ? 0 : fabs (t - (n->start_us + n->dur_us / 2));
        if (d < best_d) {
            best_d = d;
            best = k;
        }
    }
    return best;
}
