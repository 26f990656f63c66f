/* ONNX export of a graph's inference path, and the frozen GraphDef of the
 * same path.
 *
 *     const char *in[] = {"images"}, *out[] = {"logits/BiasAdd"};
 *     sl_onnx_export_options o = SL_ONNX_EXPORT_OPTIONS_INIT;
 *     o.inputs = in;  o.num_inputs = 1;
 *     o.outputs = out; o.num_outputs = 1;
 *     sl_onnx_export(graph, &o, "model.onnx", "frozen.pb", status);
 *
 * What is exported: the part of the graph the outputs need, with the inputs
 * as the model's inputs (Placeholders; a PlaceholderWithDefault that is not
 * an input takes its default, so a "training" flag stays false).  Variables
 * become initializers holding their values: from opts->checkpoint (a TF V2
 * checkpoint prefix) or, without one, their initial values (each
 * "<var>/Assign" run once in a private session).  Subgraphs that depend on
 * no input are evaluated and stored as constants, and multiplications by a
 * constant zero and additions of zero are simplified away, so dropout built
 * by sl_dropout() with its training flag false disappears.
 *
 * The ONNX model (IR version 7, opset 13) maps MatMul, BiasAdd, Add/AddV2,
 * Sub, Mul, RealDiv, Relu, Sigmoid, Tanh, Softmax, Reshape, Identity,
 * Conv2D (NHWC; run as ONNX's NCHW Conv with the filter permuted to OIHW and
 * transposes only where an NHWC consumer needs one), MaxPool and AvgPool.
 * Any other op on the path fails with SL_UNIMPLEMENTED naming the node and
 * op.  frozen_path (may be NULL) receives the same path as a TF GraphDef
 * (.pb binary, .pbtxt text) with every variable replaced by a Const, so
 * `sluice run` can execute it.
 *
 * Errors: INVALID_ARGUMENT for unknown input/output names or a Placeholder
 * on the path that is not an input; UNIMPLEMENTED as above; the session's,
 * checkpoint's or file system's error otherwise.  Nothing is written on
 * failure (a partly written file is removed).
 *
 * Thread-safety: reads the graph only; concurrent exports are fine.
 */
#pragma once

#include "sluice/graph.h"
#include "sluice/macros.h"
#include "sluice/status.h"

SL_BEGIN_DECLS

typedef struct sl_onnx_export_options {
    const char *const *inputs;  /* placeholder names */
    int num_inputs;
    const char *const *outputs; /* "node" or "node:index" */
    int num_outputs;
    const char *checkpoint;     /* NULL: the variables' initial values */
} sl_onnx_export_options;

#define SL_ONNX_EXPORT_OPTIONS_INIT {NULL, 0, NULL, 0, NULL}

SL_API sl_code sl_onnx_export(const sl_graph *graph, const sl_onnx_export_options *opts, const char *onnx_path,
                              const char *frozen_path, sl_status *status);

SL_END_DECLS
