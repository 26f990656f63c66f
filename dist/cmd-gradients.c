/* `sluice gradients GRAPH --loss NAME --wrt NAME[,NAME...] --out GRAPH2
 * [--json]`: adds the gradient subgraph of a loss to any graph (paper 4.1)
 * and writes it, so the gradients can be fetched with `sluice run`.  Prints
 * the name of each gradient tensor, one "WRT GRADIENT" line per --wrt
 * tensor ("none" where the loss does not depend on it), or JSON. */
#include "config.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "json-writer.h"
#include "sluice/alloc.h"
#include "sluice/gradients.h"
#include "sluice/graph.h"

static void gradients_usage(FILE *out)
{
    fprintf(out,
            "usage: sluice gradients GRAPH --loss NAME[,NAME...] --wrt NAME[,NAME...] --out GRAPH2 [--json]\n"
            "\n"
            "Adds the gradients of the loss tensors (summed) with respect to each --wrt\n"
            "tensor to GRAPH and writes the result to GRAPH2 (.pbtxt: text, else binary).\n"
            "Names are tensors, 'node' or 'node:index'.  Prints one line per --wrt tensor:\n"
            "the tensor and its gradient's name, or 'none' when the loss does not depend\n"
            "on it.\n"
            "\n"
            "  --json   print {\"graph\", \"loss\", \"gradients\": [{\"wrt\", \"gradient\"}], \"nodes_added\"}\n");
}

/* Parses "node" or "node:k" into an output of g. */
static bool parse_tensor(const sl_graph *g, const char *text, sl_output *out, const char *what)
{
    char name[1024];
    snprintf(name, sizeof(name), "%s", text);
    int index = 0;
    char *colon = strrchr(name, ':');
    if (colon) {
        char *end;
        errno = 0;
        long k = strtol(colon + 1, &end, 10);
        if (!colon[1] || *end || errno || k < 0) {
            sl_cli_error("gradients: %s '%s': bad output index", what, text);
            return false;
        }
        *colon = '\0';
        index = (int)k;
    }
    sl_node *n = sl_graph_find_node(g, name);
    if (!n) {
        sl_cli_error("gradients: %s '%s': no node named '%s' in the graph", what, text, name);
        return false;
    }
    if (index >= sl_node_num_outputs(n)) {
        sl_cli_error("gradients: %s '%s': node '%s' has %d output%s", what, text, name,
                     sl_node_num_outputs(n), sl_node_num_outputs(n) == 1 ? "" : "s");
        return false;
    }
    *out = (sl_output){n, index};
    return true;
}

/* Splits a comma list into tensors; returns the count or -1 (error printed). */
static int parse_list(const sl_graph *g, const char *list, sl_output **out, char ***names, const char *what)
{
    int cap = 1;
    for (const char *p = list; *p; p++)
        cap += *p == ',';
    *out = sl_calloc((size_t)cap, sizeof(sl_output));
    *names = sl_calloc((size_t)cap, sizeof(char *));
    char *copy = sl_strdup(list);
    int n = 0;
    if (!*out || !*names || !copy) {
        sl_free(copy);
        sl_cli_error("out of memory");
        return -1;
    }
    char *save = NULL;
    for (char *tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        if (!parse_tensor(g, tok, &(*out)[n], what) || !((*names)[n] = sl_strdup(tok))) {
            sl_free(copy);
            return -1;
        }
        n++;
    }
    sl_free(copy);
    if (n == 0)
        sl_cli_error("gradients: empty %s list", what);
    return n ? n : -1;
}

static void tensor_name(sl_output o, char *buf, size_t size)
{
    if (!o.node)
        snprintf(buf, size, "none");
    else
        snprintf(buf, size, "%s:%d", sl_node_name(o.node), o.index);
}

static void free_names(char **names, int n)
{
    for (int i = 0; names && i < n; i++)
        sl_free(names[i]);
    sl_free(names);
}

int sl_cmd_gradients(int argc, char **argv)
{
    const char *path = NULL, *loss = NULL, *wrt = NULL, *out = NULL;
    bool json = false;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--json")) {
            json = true;
        } else if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            gradients_usage(stdout);
            return 0;
        } else if (!strcmp(a, "--loss") || !strcmp(a, "--wrt") || !strcmp(a, "--out")) {
            if (i + 1 >= argc) {
                gradients_usage(stderr);
                return sl_cli_error("gradients: %s needs a value", a) + 1;
            }
            const char **slot = !strcmp(a, "--loss") ? &loss : !strcmp(a, "--wrt") ? &wrt : &out;
            *slot = argv[++i];
        } else if (a[0] == '-' && a[1]) {
            gradients_usage(stderr);
            return sl_cli_error("gradients: unknown option '%s'", a) + 1;
        } else if (!path) {
            path = a;
        } else {
            gradients_usage(stderr);
            return sl_cli_error("gradients: more than one graph given ('%s' and '%s')", path, a) + 1;
        }
    }
    if (!path || !loss || !wrt || !out) {
        gradients_usage(stderr);
        return sl_cli_error("gradients: %s is required",
                            !path ? "GRAPH" : !loss ? "--loss" : !wrt ? "--wrt" : "--out") + 1;
    }
    int rc = 1;
    sl_status *st = sl_status_new();
    sl_output *ys = NULL, *xs = NULL, *dxs = NULL;
    char **ynames = NULL, **xnames = NULL;
    int ny = 0, nx = 0;
    sl_graph *g = sl_graph_load(path, NULL, st);
    if (!g) {
        sl_cli_error("%s", sl_status_message(st));
        goto out;
    }
    int before = sl_graph_num_nodes(g);
    if ((ny = parse_list(g, loss, &ys, &ynames, "loss")) < 0 || (nx = parse_list(g, wrt, &xs, &xnames, "wrt")) < 0)
        goto out;
    if (!(dxs = sl_calloc((size_t)nx, sizeof(*dxs)))) {
        sl_cli_error("out of memory");
        goto out;
    }
    if (sl_add_gradients(g, ys, ny, xs, nx, NULL, dxs, st) != SL_OK) {
        sl_cli_error("gradients: %s: %s", path, sl_status_message(st));
        goto out;
    }
    if (sl_graph_save(g, out, st) != SL_OK) {
        sl_cli_error("%s", sl_status_message(st));
        goto out;
    }
    char buf[1100];
    if (json) {
        sl_json j;
        sl_json_init(&j, stdout, true);
        sl_json_begin_object(&j);
        sl_json_key(&j, "graph");
        sl_json_string(&j, out);
        sl_json_key(&j, "loss");
        sl_json_begin_array(&j);
        for (int i = 0; i < ny; i++) {
            tensor_name(ys[i], buf, sizeof(buf));
            sl_json_string(&j, buf);
        }
        sl_json_end_array(&j);
        sl_json_key(&j, "gradients");
        sl_json_begin_array(&j);
        for (int i = 0; i < nx; i++) {
            sl_json_begin_object(&j);
            sl_json_key(&j, "wrt");
            tensor_name(xs[i], buf, sizeof(buf));
            sl_json_string(&j, buf);
            sl_json_key(&j, "gradient");
            if (dxs[i].node) {
                tensor_name(dxs[i], buf, sizeof(buf));
                sl_json_string(&j, buf);
            } else {
                sl_json_double(&j, NAN);  /* written as null: no gradient */
            }
            sl_json_end_object(&j);
        }
        sl_json_end_array(&j);
        sl_json_key(&j, "nodes_added");
        sl_json_int(&j, sl_graph_num_nodes(g) - before);
        sl_json_end_object(&j);
        sl_json_finish(&j);
    } else {
        for (int i = 0; i < nx; i++) {
            char gname[1100];
            tensor_name(xs[i], buf, sizeof(buf));
            tensor_name(dxs[i], gname, sizeof(gname));
            printf("%s %s\n", buf, gname);
        }
    }
    rc = 0;
out:
    free_names(ynames, ny > 0 ? ny : 0);
    free_names(xnames, nx > 0 ? nx : 0);
    sl_free(ys);
    sl_free(xs);
    sl_free(dxs);
    sl_graph_free(g);
    sl_status_free(st);
    return rc;
}
