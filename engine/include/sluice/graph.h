/* Graphs: nodes (op instances with attrs and a device), data edges and
 * control edges, built through all-or-nothing node builders or imported
 * from TensorFlow GraphDefs.
 *
 * Building a node (after TF_NewOperation / TF_FinishOperation):
 *
 *     sl_node_builder *b = sl_node_builder_new(g, "MatMul", "dense/matmul");
 *     sl_node_builder_add_input(b, (sl_output){x, 0});
 *     sl_node_builder_add_input(b, (sl_output){w, 0});
 *     sl_node_builder_set_attr_bool(b, "transpose_b", true);
 *     sl_node *mm = sl_node_builder_finish(b, status);   // NULL on error
 *
 * finish() checks the op exists, inputs match the signature (count and
 * dtype), attrs are present (or defaulted) and of the right type, infers
 * type attrs such as T from inputs, runs the op's shape function and only
 * then adds the node: a failed node leaves the graph unchanged.
 *
 * Ownership: the graph owns its nodes; node pointers stay valid until the
 * graph is freed (adding nodes never moves them).  Strings returned by
 * accessors are borrowed from the graph.
 *
 * Thread-safety: a graph under construction belongs to one thread.  Once
 * built it may be read (accessors, export) from many threads at once, as
 * long as nobody adds nodes.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sluice/dtype.h"
#include "sluice/macros.h"
#include "sluice/op.h"
#include "sluice/shape.h"
#include "sluice/status.h"
#include "sluice/tensor.h"

SL_BEGIN_DECLS

typedef struct sl_graph sl_graph;
typedef struct sl_node_builder sl_node_builder;

/* One output of a node: the source of a data edge. */
typedef struct sl_output {
    sl_node *node;
    int index;
} sl_output;

/* One edge out of a node.  dst_input is -1 for a control edge. */
typedef struct sl_edge {
    sl_node *src;
    int src_output;    /* -1 for a control edge */
    sl_node *dst;
    int dst_input;     /* -1 for a control edge */
} sl_edge;

/* ---- Graphs ---------------------------------------------------------- */

/* Empty graph; NULL + SL_RESOURCE_EXHAUSTED on OOM.  Caller owns it. */
SL_API sl_graph *sl_graph_new(sl_status *status);
SL_API void sl_graph_free(sl_graph *graph);  /* NULL-safe */

SL_API int sl_graph_num_nodes(const sl_graph *graph);
/* The i-th node in creation order (0 <= i < num_nodes); borrowed. */
SL_API sl_node *sl_graph_node(const sl_graph *graph, int i);
/* Node named `name`, or NULL.  O(1). */
SL_API sl_node *sl_graph_find_node(const sl_graph *graph, const char *name);

/* GraphDef versions carried through import and export. */
SL_API int sl_graph_producer(const sl_graph *graph);
SL_API void sl_graph_set_producer(sl_graph *graph, int producer);

/* Name scopes: names given to builders (and generated ones) are prefixed
 * with the scopes pushed, joined by '/'.  push returns SL_INVALID_ARGUMENT
 * for an invalid scope name. */
SL_API sl_code sl_graph_push_scope(sl_graph *graph, const char *scope, sl_status *status);
SL_API void sl_graph_pop_scope(sl_graph *graph);

/* A name not yet used in the graph: "<scope>/base", then "base_1",
 * "base_2", ... as TF makes them.  Returns a buffer the caller frees with
 * sl_free(), or NULL on OOM. */
SL_API char *sl_graph_unique_name(sl_graph *graph, const char *base);

/* Whether `name` is a valid node name: [A-Za-z0-9._][A-Za-z0-9_>./-]* (a
 * leading '_' marks TF's internal nodes such as _send_x). */
SL_API bool sl_node_name_is_valid(const char *name);

/* ---- Node builders --------------------------------------------------- */

/* Starts a node of `op_type` named `name` (prefixed with the current scope;
 * NULL picks a unique name from the op type).  Never fails here: errors
 * (unknown op, bad name, OOM) are reported by finish().  The builder is
 * consumed by finish() or abandon(). */
SL_API sl_node_builder *sl_node_builder_new(sl_graph *graph, const char *op_type,
                                            const char *name);

/* Adds the next data input.  For a list argument ("N * T", "Tlist") add
 * its tensors with sl_node_builder_add_input_list(). */
SL_API void sl_node_builder_add_input(sl_node_builder *b, sl_output input);
SL_API void sl_node_builder_add_input_list(sl_node_builder *b, const sl_output *inputs, int n);
SL_API void sl_node_builder_add_control_input(sl_node_builder *b, sl_node *node);
SL_API void sl_node_builder_set_device(sl_node_builder *b, const char *device);

/* Attr setters; a second call for the same name replaces the value.
 * Values are copied (a tensor's contents are copied into the attr). */
SL_API void sl_node_builder_set_attr_int(sl_node_builder *b, const char *name, int64_t v);
SL_API void sl_node_builder_set_attr_float(sl_node_builder *b, const char *name, float v);
SL_API void sl_node_builder_set_attr_bool(sl_node_builder *b, const char *name, bool v);
SL_API void sl_node_builder_set_attr_type(sl_node_builder *b, const char *name, sl_dtype v);
SL_API void sl_node_builder_set_attr_shape(sl_node_builder *b, const char *name,
                                           const sl_shape *v);
SL_API void sl_node_builder_set_attr_string(sl_node_builder *b, const char *name,
                                            const char *v, size_t len);
SL_API void sl_node_builder_set_attr_tensor(sl_node_builder *b, const char *name,
                                            const sl_tensor *v);
SL_API void sl_node_builder_set_attr_int_list(sl_node_builder *b, const char *name,
                                              const int64_t *v, int n);
SL_API void sl_node_builder_set_attr_float_list(sl_node_builder *b, const char *name,
                                                const float *v, int n);
SL_API void sl_node_builder_set_attr_type_list(sl_node_builder *b, const char *name,
                                               const sl_dtype *v, int n);
SL_API void sl_node_builder_set_attr_shape_list(sl_node_builder *b, const char *name,
                                                const sl_shape *v, int n);
SL_API void sl_node_builder_set_attr_string_list(sl_node_builder *b, const char *name,
                                                 const char *const *v, int n);

/* Validates and adds the node (see the top of this file).  Returns the new
 * node (borrowed from the graph) or NULL with the status set: NOT_FOUND for
 * an unknown op, INVALID_ARGUMENT for bad inputs/attrs/shapes or a name in
 * use, RESOURCE_EXHAUSTED on OOM.  The message names the node.  The builder
 * is freed either way. */
SL_API sl_node *sl_node_builder_finish(sl_node_builder *b, sl_status *status);

/* Frees a builder without adding anything.  NULL-safe. */
SL_API void sl_node_builder_abandon(sl_node_builder *b);

/* ---- Nodes ----------------------------------------------------------- */

SL_API int sl_node_id(const sl_node *node);  /* index in the graph */
SL_API const char *sl_node_name(const sl_node *node);
SL_API const char *sl_node_op_type(const sl_node *node);
SL_API const sl_op_def *sl_node_op_def(const sl_node *node);
SL_API const char *sl_node_device(const sl_node *node);  /* "" when unconstrained */

SL_API int sl_node_num_inputs(const sl_node *node);
SL_API sl_output sl_node_input(const sl_node *node, int i);
SL_API sl_dtype sl_node_input_type(const sl_node *node, int i);
SL_API int sl_node_num_outputs(const sl_node *node);
SL_API sl_dtype sl_node_output_type(const sl_node *node, int i);
/* Shape inferred at construction (unknown where inference could not tell). */
SL_API const sl_shape *sl_node_output_shape(const sl_node *node, int i);

SL_API int sl_node_num_control_inputs(const sl_node *node);
SL_API sl_node *sl_node_control_input(const sl_node *node, int i);

/* Edges out of the node (data and control), in creation order. */
SL_API int sl_node_num_out_edges(const sl_node *node);
SL_API const sl_edge *sl_node_out_edge(const sl_node *node, int i);

/* For a signature argument: where its tensors start among the node's
 * inputs/outputs and how many there are (lists expand to several).
 * Returns false when the op has no argument of that name. */
SL_API bool sl_node_input_range(const sl_node *node, const char *arg, int *start, int *count);
SL_API bool sl_node_output_range(const sl_node *node, const char *arg, int *start, int *count);

/* ---- Attrs ----------------------------------------------------------- */

/* Typed attr getters: return true and fill *out when the node has the attr
 * (set explicitly or from the op's default) with that type; false and leave
 * *out untouched otherwise. */
SL_API bool sl_node_has_attr(const sl_node *node, const char *name);
SL_API bool sl_node_attr_int(const sl_node *node, const char *name, int64_t *out);
SL_API bool sl_node_attr_float(const sl_node *node, const char *name, float *out);
SL_API bool sl_node_attr_bool(const sl_node *node, const char *name, bool *out);
SL_API bool sl_node_attr_type(const sl_node *node, const char *name, sl_dtype *out);
SL_API bool sl_node_attr_shape(const sl_node *node, const char *name, sl_shape *out);
/* *out points into the graph (borrowed), *len is its length. */
SL_API bool sl_node_attr_string(const sl_node *node, const char *name, const char **out,
                                size_t *len);
/* The attr's tensor, built once and cached on the node: borrowed, valid as
 * long as the graph.  Take a reference to keep it longer. */
SL_API bool sl_node_attr_tensor(const sl_node *node, const char *name, const sl_tensor **out);
/* Lists: *n gets the length; *out points into the graph (borrowed). */
SL_API bool sl_node_attr_int_list(const sl_node *node, const char *name, const int64_t **out,
                                  int *n);
SL_API bool sl_node_attr_float_list(const sl_node *node, const char *name, const float **out,
                                    int *n);
SL_API bool sl_node_attr_type_list(const sl_node *node, const char *name, const int **out,
                                   int *n);

/* Lists of strings and shapes, entry by entry: the number of entries of
 * a list attr (-1 when the node has no list attr of that name), and entry
 * i (false when out of range or of another kind).  Strings point into the
 * graph (borrowed) and are not NUL-terminated. */
SL_API int sl_node_attr_list_size(const sl_node *node, const char *name);
SL_API bool sl_node_attr_string_at(const sl_node *node, const char *name, int i, const char **out,
                                   size_t *len);
SL_API bool sl_node_attr_shape_at(const sl_node *node, const char *name, int i, sl_shape *out);

/* Number of attrs on the node and the i-th attr's name (sorted by name). */
SL_API int sl_node_num_attrs(const sl_node *node);
SL_API const char *sl_node_attr_name(const sl_node *node, int i);

/* ---- Import and export ------------------------------------------------ */

typedef struct sl_import_options {
    const char *prefix;       /* prepended with '/' to every imported name; NULL: none */
    bool skip_shape_errors;   /* keep unknown shapes instead of failing on a shape error */
} sl_import_options;

/* Adds the nodes of a serialized GraphDef (binary) to `graph`, all or
 * nothing: on failure the graph is as it was.  Nodes may appear in any
 * order; a cycle is accepted only through a NextIteration node (a loop).
 * Errors (INVALID_ARGUMENT unless said otherwise) name the node: unknown op
 * (NOT_FOUND), an input naming no node, an output index out of range, a
 * dtype mismatch, a missing or mistyped attr, a duplicate name, a cycle, or
 * bytes that are not a GraphDef (DATA_LOSS). */
SL_API sl_code sl_graph_import_binary(sl_graph *graph, const void *data, size_t len,
                                      const sl_import_options *opts, sl_status *status);

/* Same from text format; errors in the text give line and column. */
SL_API sl_code sl_graph_import_text(sl_graph *graph, const char *text, size_t len,
                                    const char *source_name, const sl_import_options *opts,
                                    sl_status *status);

/* Reads a .pb or .pbtxt file (by extension; other names are sniffed: text
 * if it parses as text, else binary) into a new graph.  NULL + status on
 * failure, the message prefixed with the path.  Caller owns the graph. */
SL_API sl_graph *sl_graph_load(const char *path, const sl_import_options *opts,
                               sl_status *status);

/* Serializes the graph as a GraphDef, binary or text.  Returns a buffer the
 * caller frees with sl_free() (*len gets its size), or NULL on OOM. */
SL_API void *sl_graph_export_binary(const sl_graph *graph, size_t *len, sl_status *status);
SL_API char *sl_graph_export_text(const sl_graph *graph, size_t *len, sl_status *status);

/* Writes the graph to `path` (text when the name ends in .pbtxt or .txt),
 * through a temporary file renamed into place so a crash never leaves a
 * half-written graph. */
SL_API sl_code sl_graph_save(const sl_graph *graph, const char *path, sl_status *status);

SL_END_DECLS
