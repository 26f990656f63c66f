/* The data-parallel test graph (test-data-parallel.c, test-grpc-cluster.c):
 * a linear model's weights W on the ps, one replica per worker task
 * computing its shard's gradient; "sync" applies their sum on the ps,
 * "async0"/"async1" apply one replica's gradient; "loss0"/"loss1" are the
 * shards' squared errors.  With split false the device constraints are
 * left out (the same graph for one process). */
#pragma once

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sluice/graph.h"

/* X_r [8,4], y_r = X_r @ [1, -2, 0.5, 3]^T; W starts at 0. */
static inline char *dp_make_graph(bool split)
{
    static const float wt[4] = {1, -2, 0.5f, 3};
    char *g = malloc(1 << 16), *p = g;
    const char *ps = split ? "/job:ps/task:0" : "";
    p += sprintf(p, "node { name: 'W' op: 'VariableV2' device: '%s' attr { key: 'dtype' value { type: DT_FLOAT } }"
                    " attr { key: 'shape' value { shape { dim { size: 4 } dim { size: 1 } } } } }\n", ps);
    p += sprintf(p, "node { name: 'zeros' op: 'Const' device: '%s' attr { key: 'dtype' value { type: DT_FLOAT } }"
                    " attr { key: 'value' value { tensor { dtype: DT_FLOAT tensor_shape { dim { size: 4 } dim { size: 1 } }"
                    " float_val: 0 } } } }\n", ps);
    p += sprintf(p, "node { name: 'init' op: 'Assign' input: 'W' input: 'zeros' device: '%s'"
                    " attr { key: 'T' value { type: DT_FLOAT } } }\n", ps);
    p += sprintf(p, "node { name: 'lr' op: 'Const' device: '%s' attr { key: 'dtype' value { type: DT_FLOAT } }"
                    " attr { key: 'value' value { tensor { dtype: DT_FLOAT tensor_shape { } float_val: 0.01 } } } }\n", ps);
    for (int r = 0; r < 2; r++) {
        char dev[64];
        snprintf(dev, sizeof(dev), "%s", split ? (r ? "/job:worker/task:1" : "/job:worker/task:0") : "");
        p += sprintf(p, "node { name: 'X%d' op: 'Const' device: '%s' attr { key: 'dtype' value { type: DT_FLOAT } }"
                        " attr { key: 'value' value { tensor { dtype: DT_FLOAT tensor_shape { dim { size: 8 } dim { size: 4 } }",
                     r, dev);
        float x[8][4];
        for (int i = 0; i < 8; i++)
            for (int j = 0; j < 4; j++) {
                x[i][j] = (float)(((i * 7 + j * 3 + r * 5) % 11) - 5) / 5.0f;
                p += sprintf(p, " float_val: %.9g", x[i][j]);
            }
        p += sprintf(p, " } } } }\n");
        p += sprintf(p, "node { name: 'y%d' op: 'Const' device: '%s' attr { key: 'dtype' value { type: DT_FLOAT } }"
                        " attr { key: 'value' value { tensor { dtype: DT_FLOAT tensor_shape { dim { size: 8 } dim { size: 1 } }",
                     r, dev);
        for (int i = 0; i < 8; i++) {
            float y = 0;
            for (int j = 0; j < 4; j++)
                y += x[i][j] * wt[j];
            p += sprintf(p, " float_val: %.9g", y);
        }
        p += sprintf(p, " } } } }\n");
        p += sprintf(p, "node { name: 'pred%d' op: 'MatMul' input: 'X%d' input: 'W' device: '%s'"
                        " attr { key: 'T' value { type: DT_FLOAT } } }\n", r, r, dev);
        p += sprintf(p, "node { name: 'err%d' op: 'Sub' input: 'pred%d' input: 'y%d' device: '%s'"
                        " attr { key: 'T' value { type: DT_FLOAT } } }\n", r, r, r, dev);
        p += sprintf(p, "node { name: 'loss%d' op: 'Sum' input: 'sq%d' input: 'axes' device: '%s'"
                        " attr { key: 'T' value { type: DT_FLOAT } } attr { key: 'Tidx' value { type: DT_INT32 } } }\n",
                     r, r, dev);
        p += sprintf(p, "node { name: 'sq%d' op: 'Square' input: 'err%d' device: '%s'"
                        " attr { key: 'T' value { type: DT_FLOAT } } }\n", r, r, dev);
        p += sprintf(p, "node { name: 'grad%d' op: 'MatMul' input: 'X%d' input: 'err%d' device: '%s'"
                        " attr { key: 'T' value { type: DT_FLOAT } } attr { key: 'transpose_a' value { b: true } } }\n",
                     r, r, r, dev);
        /* asynchronous: each replica applies its own gradient */
        p += sprintf(p, "node { name: 'async%d' op: 'ApplyGradientDescent' input: 'W' input: 'lr' input: 'grad%d'"
                        " device: '%s' attr { key: 'T' value { type: DT_FLOAT } } }\n", r, r, ps);
    }
    p += sprintf(p, "node { name: 'axes' op: 'Const' device: '%s' attr { key: 'dtype' value { type: DT_INT32 } }"
                    " attr { key: 'value' value { tensor { dtype: DT_INT32 tensor_shape { dim { size: 2 } }"
                    " int_val: 0 int_val: 1 } } } }\n", ps);
    /* synchronous: the gradients meet on the ps, one update per step */
    p += sprintf(p, "node { name: 'sum_grad' op: 'AddN' input: 'grad0' input: 'grad1' device: '%s'"
                    " attr { key: 'T' value { type: DT_FLOAT } } attr { key: 'N' value { i: 2 } } }\n", ps);
    p += sprintf(p, "node { name: 'sync' op: 'ApplyGradientDescent' input: 'W' input: 'lr' input: 'sum_grad'"
                    " device: '%s' attr { key: 'T' value { type: DT_FLOAT } } }\n", ps);
    return g;
}

static inline sl_graph *dp_load(bool split)
{
    char *text = dp_make_graph(split);
    sl_status *st = sl_status_new();
    sl_graph *g = sl_graph_new(st);
    if (sl_graph_import_text(g, text, strlen(text), "data-parallel", NULL, st) != SL_OK) {
        fprintf(stderr, "data-parallel graph: %s\n", sl_status_message(st));
        abort();
    }
    free(text);
    sl_status_free(st);
    return g;
}

