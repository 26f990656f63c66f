/* run-op: runs one op on .npy inputs and writes its outputs as .npy, for
 * the PyTorch cross-check (torch_check.py) and for poking at kernels by
 * hand.
 *
 *     run-op SPEC OUTDIR
 *
 * SPEC is a text file, one directive per line:
 *     op Conv2D
 *     attr strides ints 1 2 2 1      (int, ints, float, bool, type, string)
 *     attr padding string SAME
 *     input x.npy                    (one input; its dtype types the Placeholder)
 *     list a.npy b.npy c.npy         (a list input such as AddN's "N * T")
 * Outputs are written to OUTDIR/out0.npy, out1.npy, ...  The environment
 * variable SL_THREADS (default 1) sizes the thread pool.  Exit status 0 on
 * success, 1 with a message on stderr otherwise.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sluice/graph.h"
#include "sluice/kernel.h"
#include "sluice/npy.h"
#include "sluice/threadpool.h"

#define MAX_IN 32

static int fail(const char *what, sl_status *st)
{
    fprintf(stderr, "run-op: %s%s%s\n", what, st ? ": " : "", st ? sl_status_message(st) : "");
    return 1;
}

static sl_output placeholder(sl_graph *g, sl_dtype dt, int i, sl_status *st)
{
    char name[32];
    snprintf(name, sizeof(name), "in%d", i);
    sl_node_builder *b = sl_node_builder_new(g, "Placeholder", name);
    sl_node_builder_set_attr_type(b, "dtype", dt);
    return (sl_output){sl_node_builder_finish(b, st), 0};
}

static void set_attr(sl_node_builder *b, char *name, char *kind, char *rest)
{
    if (!strcmp(kind, "int")) {
        sl_node_builder_set_attr_int(b, name, strtoll(rest, NULL, 10));
    } else if (!strcmp(kind, "float")) {
        sl_node_builder_set_attr_float(b, name, strtof(rest, NULL));
    } else if (!strcmp(kind, "bool")) {
        sl_node_builder_set_attr_bool(b, name, !strncmp(rest, "true", 4));
    } else if (!strcmp(kind, "type")) {
        rest[strcspn(rest, " \n")] = '\0';
        sl_node_builder_set_attr_type(b, name, sl_dtype_from_name(rest));
    } else if (!strcmp(kind, "string")) {
        rest[strcspn(rest, "\n")] = '\0';
        sl_node_builder_set_attr_string(b, name, rest, strlen(rest));
    } else if (!strcmp(kind, "ints")) {
        int64_t v[64];
        int n = 0;
        for (char *t = strtok(rest, " \n"); t && n < 64; t = strtok(NULL, " \n"))
            v[n++] = strtoll(t, NULL, 10);
        sl_node_builder_set_attr_int_list(b, name, v, n);
    }
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: run-op SPEC OUTDIR\n");
        return 2;
    }
    FILE *f = fopen(argv[1], "r");
    if (!f)
        return fail("cannot open the spec", NULL);
    sl_status *st = sl_status_new();
    sl_graph *g = sl_graph_new(st);
    sl_node_builder *b = NULL;
    sl_tensor *inputs[MAX_IN] = {NULL};
    int nin = 0, rc = 1;
    char line[4096];
    while (fgets(line, sizeof(line), f)) {
        char *cmd = strtok(line, " \n");
        if (!cmd)
            continue;
        if (!strcmp(cmd, "op")) {
            b = sl_node_builder_new(g, strtok(NULL, " \n"), "op");
        } else if (!b) {
            rc = fail("the spec must start with 'op'", NULL);
            goto out;
        } else if (!strcmp(cmd, "attr")) {
            char *name = strtok(NULL, " \n"), *kind = strtok(NULL, " \n"), *rest = strtok(NULL, "");
            if (!name || !kind || !rest) {
                rc = fail("bad attr line", NULL);
                goto out;
            }
            set_attr(b, name, kind, rest);
        } else if (!strcmp(cmd, "input") || !strcmp(cmd, "list")) {
            sl_output outs[MAX_IN];
            int n = 0;
            for (char *p = strtok(NULL, " \n"); p && nin < MAX_IN; p = strtok(NULL, " \n")) {
                inputs[nin] = sl_npy_read(p, st);
                if (!inputs[nin]) {
                    rc = fail("cannot read an input", st);
                    goto out;
                }
                outs[n++] = placeholder(g, sl_tensor_dtype(inputs[nin]), nin, st);
                nin++;
            }
            if (!strcmp(cmd, "input"))
                sl_node_builder_add_input(b, outs[0]);
            else
                sl_node_builder_add_input_list(b, outs, n);
        }
    }
    sl_node *node = b ? sl_node_builder_finish(b, st) : NULL;
    b = NULL;
    if (!node) {
        rc = fail("cannot build the node", st);
        goto out;
    }
    const char *th = getenv("SL_THREADS");
    int threads = th ? atoi(th) : 1;
    sl_threadpool *pool = threads > 1 ? sl_threadpool_new(threads - 1, st) : NULL;
    sl_tensor *outputs[MAX_IN] = {NULL};
    int nout = sl_node_num_outputs(node);
    if (sl_kernel_run_node(node, (const sl_tensor *const *)inputs, outputs, pool, st) != SL_OK) {
        rc = fail("run failed", st);
    } else {
        rc = 0;
        for (int i = 0; i < nout; i++) {
            char path[4096];
            snprintf(path, sizeof(path), "%s/out%d.npy", argv[2], i);
            if (sl_npy_write(path, outputs[i], st) != SL_OK)
                rc = fail("cannot write an output", st);
            sl_tensor_unref(outputs[i]);
        }
    }
    sl_threadpool_free(pool);
out:
    sl_node_builder_abandon(b);
    for (int i = 0; i < nin; i++)
        sl_tensor_unref(inputs[i]);
    sl_graph_free(g);
    sl_status_free(st);
    fclose(f);
    return rc;
}
