/* Graphs shared by the dist tests, in text format with "@PS@", "@W0@" and
 * "@W1@" where device constraints go, so the same graph runs split over a
 * cluster and whole in one process. */
#pragma once

#include <stdlib.h>
#include <string.h>

#include "sluice/graph.h"

/* v (ps) starts at [[1,2],[3,4]]; each `train` step does
 * v += 0.1 * MatMul(x, v) with x fed on worker 0 and the MatMul on worker 1,
 * so tensors go ps -> w1, w0 -> w1 and w1 -> ps; `out` = Add(MatMul, x) on
 * worker 0. */
static const char test_split_graph[] =
    "node { name: 'x' op: 'Placeholder' device: '@W0@' attr { key: 'dtype' value { type: DT_FLOAT } } }\n"
    "node { name: 'v' op: 'VariableV2' device: '@PS@' attr { key: 'dtype' value { type: DT_FLOAT } }\n"
    "  attr { key: 'shape' value { shape { dim { size: 2 } dim { size: 2 } } } } }\n"
    "node { name: 'v0' op: 'Const' device: '@PS@' attr { key: 'dtype' value { type: DT_FLOAT } }\n"
    "  attr { key: 'value' value { tensor { dtype: DT_FLOAT tensor_shape { dim { size: 2 } dim { size: 2 } }\n"
    "    float_val: 1 float_val: 2 float_val: 3 float_val: 4 } } } }\n"
    "node { name: 'init' op: 'Assign' input: 'v' input: 'v0' device: '@PS@' attr { key: 'T' value { type: DT_FLOAT } } }\n"
    "node { name: 'y' op: 'MatMul' input: 'x' input: 'v' device: '@W1@' attr { key: 'T' value { type: DT_FLOAT } } }\n"
    "node { name: 'c' op: 'Const' device: '@W1@' attr { key: 'dtype' value { type: DT_FLOAT } }\n"
    "  attr { key: 'value' value { tensor { dtype: DT_FLOAT tensor_shape { } float_val: 0.1 } } } }\n"
    "node { name: 'g' op: 'Mul' input: 'y' input: 'c' device: '@W1@' attr { key: 'T' value { type: DT_FLOAT } } }\n"
    "node { name: 'train' op: 'AssignAdd' input: 'v' input: 'g' device: '@PS@' attr { key: 'T' value { type: DT_FLOAT } } }\n"
    "node { name: 'out' op: 'Add' input: 'y' input: 'x' device: '@W0@' attr { key: 'T' value { type: DT_FLOAT } } }\n";

/* test_split_graph with the constraints filled in (or removed when
 * `split` is false); caller frees the graph. */
static inline sl_graph *test_load_split_graph(bool split, sl_status *st)
{
    const char *subst[3][2] = {{"@PS@", "/job:ps/task:0"}, {"@W0@", "/job:worker/task:0"},
                               {"@W1@", "/job:worker/task:1"}};
    size_t cap = sizeof(test_split_graph) * 2;
    char *out = malloc(cap), *o = out;
    for (const char *p = test_split_graph; *p;) {
        bool done = false;
        for (int i = 0; i < 3 && !done; i++)
            if (!strncmp(p, subst[i][0], 4)) {
                const char *r = split ? subst[i][1] : "";
                memcpy(o, r, strlen(r));
                o += strlen(r);
                p += 4;
                done = true;
            }
        if (!done)
            *o++ = *p++;
    }
    *o = '\0';
    sl_graph *g = sl_graph_new(st);
    if (g && sl_graph_import_text(g, out, strlen(out), "test graph", NULL, st) != SL_OK) {
        sl_graph_free(g);
        g = NULL;
    }
    free(out);
    return g;
}
