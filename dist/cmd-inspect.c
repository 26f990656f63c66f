/* `sluice inspect PATH [--json]`: what a graph or a log holds.  For a
 * graph: node count, a histogram of op types, its inputs (placeholders)
 * and outputs (nodes whose results nobody consumes), and the devices it
 * names.  For a logdir or an event file: runs, tags with their kind, point
 * counts and step ranges (the summaries library does the work). */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "commands.h"
#include "json-writer.h"
#include "sluice/alloc.h"
#include "sluice/graph.h"
#include "sluice/summaries/inspect.h"

typedef struct op_count {
    const char *op;
    int count;
} op_count;

static int by_count_then_name(const void *a, const void *b)
{
    const op_count *x = a, *y = b;
    if (x->count != y->count)
        return y->count - x->count;
    return strcmp(x->op, y->op);
}

static int by_string(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

typedef struct graph_summary {
    int num_nodes;
    op_count *ops;
    int num_ops;
    const sl_node **inputs;
    int num_inputs;
    const sl_node **outputs;
    int num_outputs;
    const char **devices;
    int num_devices;
} graph_summary;

static bool summarize(const sl_graph *g, graph_summary *s)
{
    int n = sl_graph_num_nodes(g);
    memset(s, 0, sizeof(*s));
    s->num_nodes = n;
    s->ops = sl_calloc((size_t)n + 1, sizeof(op_count));
    s->inputs = sl_calloc((size_t)n + 1, sizeof(sl_node *));
    s->outputs = sl_calloc((size_t)n + 1, sizeof(sl_node *));
    s->devices = sl_calloc((size_t)n + 1, sizeof(char *));
    if (!s->ops || !s->inputs || !s->outputs || !s->devices)
        return false;
    for (int i = 0; i < n; i++) {
        const sl_node *node = sl_graph_node(g, i);
        const char *op = sl_node_op_type(node);
        int k = 0;
        while (k < s->num_ops && strcmp(s->ops[k].op, op))
            k++;
        if (k == s->num_ops)
            s->ops[s->num_ops++] = (op_count){op, 0};
        s->ops[k].count++;
        if (!strcmp(op, "Placeholder") || !strcmp(op, "PlaceholderWithDefault"))
            s->inputs[s->num_inputs++] = node;
        if (sl_node_num_out_edges(node) == 0)
            s->outputs[s->num_outputs++] = node;
        const char *dev = sl_node_device(node);
        if (*dev) {
            int d = 0;
            while (d < s->num_devices && strcmp(s->devices[d], dev))
                d++;
            if (d == s->num_devices)
                s->devices[s->num_devices++] = dev;
        }
    }
    qsort(s->ops, (size_t)s->num_ops, sizeof(op_count), by_count_then_name);
    qsort(s->devices, (size_t)s->num_devices, sizeof(char *), by_string);
    return true;
}

static void summary_release(graph_summary *s)
{
    sl_free(s->ops);
    sl_free(s->inputs);
    sl_free(s->outputs);
    sl_free(s->devices);
}

static void print_tensor_desc(FILE *out, const sl_node *node)
{
    char shape[SL_SHAPE_STRING_MAX];
    if (sl_node_num_outputs(node) == 0) {
        fprintf(out, "(no outputs)");
        return;
    }
    for (int i = 0; i < sl_node_num_outputs(node); i++)
        fprintf(out, "%s%s%s", i ? ", " : "", sl_dtype_name(sl_node_output_type(node, i)),
                sl_shape_to_string(sl_node_output_shape(node, i), shape, sizeof(shape)));
}

static void print_text(const char *path, const sl_graph *g, const graph_summary *s)
{
    printf("graph: %s\n", path);
    printf("nodes: %d\n", s->num_nodes);
    printf("producer: %d\n", sl_graph_producer(g));
    printf("ops (%d types):\n", s->num_ops);
    for (int i = 0; i < s->num_ops; i++)
        printf("  %6d  %s\n", s->ops[i].count, s->ops[i].op);
    printf("inputs (%d):\n", s->num_inputs);
    for (int i = 0; i < s->num_inputs; i++) {
        printf("  %s: ", sl_node_name(s->inputs[i]));
        print_tensor_desc(stdout, s->inputs[i]);
        printf("\n");
    }
    printf("outputs (%d):\n", s->num_outputs);
    for (int i = 0; i < s->num_outputs; i++) {
        printf("  %s (%s): ", sl_node_name(s->outputs[i]), sl_node_op_type(s->outputs[i]));
        print_tensor_desc(stdout, s->outputs[i]);
        printf("\n");
    }
    printf("devices (%d):\n", s->num_devices);
    for (int i = 0; i < s->num_devices; i++)
        printf("  %s\n", s->devices[i]);
}

static void json_tensors(sl_json *j, const sl_node *node)
{
    char shape[SL_SHAPE_STRING_MAX];
    sl_json_key(j, "outputs");
    sl_json_begin_array(j);
    for (int i = 0; i < sl_node_num_outputs(node); i++) {
        sl_json_begin_object(j);
        sl_json_key(j, "dtype");
        sl_json_string(j, sl_dtype_name(sl_node_output_type(node, i)));
        sl_json_key(j, "shape");
        sl_json_string(j, sl_shape_to_string(sl_node_output_shape(node, i), shape, sizeof(shape)));
        sl_json_end_object(j);
    }
    sl_json_end_array(j);
}

static void print_json(const char *path, const sl_graph *g, const graph_summary *s)
{
    sl_json j;
    sl_json_init(&j, stdout, true);
    sl_json_begin_object(&j);
    sl_json_key(&j, "path");
    sl_json_string(&j, path);
    sl_json_key(&j, "kind");
    sl_json_string(&j, "graph");
    sl_json_key(&j, "nodes");
    sl_json_int(&j, s->num_nodes);
    sl_json_key(&j, "producer");
    sl_json_int(&j, sl_graph_producer(g));
    sl_json_key(&j, "ops");
    sl_json_begin_object(&j);
    for (int i = 0; i < s->num_ops; i++) {
        sl_json_key(&j, s->ops[i].op);
        sl_json_int(&j, s->ops[i].count);
    }
    sl_json_end_object(&j);
    const sl_node *const *lists[2] = {s->inputs, s->outputs};
    int counts[2] = {s->num_inputs, s->num_outputs};
    const char *names[2] = {"inputs", "outputs"};
    for (int l = 0; l < 2; l++) {
        sl_json_key(&j, names[l]);
        sl_json_begin_array(&j);
        for (int i = 0; i < counts[l]; i++) {
            sl_json_begin_object(&j);
            sl_json_key(&j, "name");
            sl_json_string(&j, sl_node_name(lists[l][i]));
            sl_json_key(&j, "op");
            sl_json_string(&j, sl_node_op_type(lists[l][i]));
            json_tensors(&j, lists[l][i]);
            sl_json_end_object(&j);
        }
        sl_json_end_array(&j);
    }
    sl_json_key(&j, "devices");
    sl_json_begin_array(&j);
    for (int i = 0; i < s->num_devices; i++)
        sl_json_string(&j, s->devices[i]);
    sl_json_end_array(&j);
    sl_json_end_object(&j);
    sl_json_finish(&j);
}

static void inspect_usage(FILE *out)
{
    fprintf(out, "usage: sluice inspect [--json] GRAPH|LOGDIR|EVENTFILE\n\n"
                 "Describes a TensorFlow GraphDef (.pb binary or .pbtxt text): node count,\n"
                 "op histogram, inputs, outputs and devices; or the runs of a logdir (or one\n"
                 "event file): tags with their kind, point counts and step ranges.\n");
}

int sl_cmd_inspect(int argc, char **argv)
{
    bool json = false;
    const char *path = NULL;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--json")) {
            json = true;
        } else if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            inspect_usage(stdout);
            return 0;
        } else if (argv[i][0] == '-' && argv[i][1]) {
            inspect_usage(stderr);
            return sl_cli_error("inspect: unknown option '%s'", argv[i]) + 1;
        } else if (!path) {
            path = argv[i];
        } else {
            inspect_usage(stderr);
            return sl_cli_error("inspect: more than one path given ('%s' and '%s')", path, argv[i]) + 1;
        }
    }
    if (!path) {
        inspect_usage(stderr);
        return 2;
    }
    sl_status *st = sl_status_new();
    struct stat sb;
    const char *base = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
    if ((stat(path, &sb) == 0 && S_ISDIR(sb.st_mode)) || strstr(base, "tfevents")) {
        int rc = 0;
        if (sl_logdir_inspect(path, json, stdout, st) != SL_OK)
            rc = sl_cli_error("%s", sl_status_message(st));
        sl_status_free(st);
        return rc;
    }
    sl_graph *g = sl_graph_load(path, NULL, st);
    if (!g) {
        int rc = sl_cli_error("%s", sl_status_message(st));
        sl_status_free(st);
        return rc;
    }
    graph_summary s;
    int rc = 0;
    if (!summarize(g, &s)) {
        rc = sl_cli_error("out of memory summarizing '%s'", path);
    } else if (json) {
        print_json(path, g, &s);
    } else {
        print_text(path, g, &s);
    }
    summary_release(&s);
    sl_graph_free(g);
    sl_status_free(st);
    return rc;
}
