/* Internal layout of graphs and nodes, shared by the files of engine/graph
 * (builder, import, export, shape inference) and later by the runtime. */
#pragma once

#include "attr-value.h"
#include "sluice/graph.h"
#include "strmap.h"

typedef struct sl_node_attr {
    char *name;
    sl_attr_value *value;
    bool is_default;      /* filled from the op def, not given: not exported */
    sl_tensor *tensor;    /* for tensor attrs: the value as a tensor */
} sl_node_attr;

struct sl_node {
    int id;
    sl_graph *graph;
    char *name;
    const sl_op_def *op;
    char *device;

    int num_inputs;
    sl_output *inputs;
    sl_dtype *input_types;    /* what the op expects (refs kept) */
    int num_outputs;
    sl_dtype *output_types;
    sl_shape *output_shapes;
    int *input_arg_start;     /* per op input arg: first input index; [num args] = total */
    int *output_arg_start;

    int num_control_inputs;
    sl_node **control_inputs;

    int num_out_edges;
    int cap_out_edges;
    sl_edge *out_edges;

    int num_attrs;
    sl_node_attr *attrs;      /* sorted by name */

    /* NodeDef fields Sluice does not interpret, kept for export */
    void *debug_info;         /* Tensorflow__NodeDef__ExperimentalDebugInfo, or NULL */
    ProtobufCBinaryData experimental_type;
};

struct sl_graph {
    sl_node **nodes;
    int num_nodes;
    int cap_nodes;
    sl_strmap by_name;
    char **scopes;            /* name-scope stack */
    int num_scopes;
    int producer;
    int min_consumer;
    int *bad_consumers;
    int num_bad_consumers;
    ProtobufCBinaryData library;    /* packed FunctionDefLibrary, kept opaque */
    ProtobufCBinaryData debug_info; /* packed GraphDebugInfo, kept opaque */
};

/* What a node is made from: the builder and the importer both fill one. */
typedef struct sl_node_spec {
    const char *name;           /* full name, scope included */
    const char *op_type;
    const char *device;
    int num_inputs;
    sl_output *inputs;          /* node NULL: a back edge not yet created */
    sl_dtype *back_edge_types;  /* dtype of each back-edge input (others ignored); may be NULL */
    int num_groups;             /* builder only: how inputs were added (0 from import) */
    int *group_sizes;
    bool *group_is_list;
    int num_control_inputs;
    sl_node **control_inputs;
    int num_attrs;
    const char **attr_names;
    sl_attr_value **attr_values;  /* borrowed; the node copies them */
    bool skip_shape_errors;
    const void *debug_info;       /* borrowed Tensorflow__NodeDef__ExperimentalDebugInfo */
    ProtobufCBinaryData experimental_type;
} sl_node_spec;

/* Validates spec and adds the node, all or nothing.  See graph.h's
 * sl_node_builder_finish for the checks and errors. */
sl_node *sl__graph_add_node(sl_graph *graph, const sl_node_spec *spec, sl_status *status);

/* Removes nodes [n, num_nodes) and every edge into or out of them: undoes
 * a failed import. */
void sl__graph_truncate(sl_graph *graph, int n);

/* "<scope1>/<scope2>/base" in a buffer the caller frees; NULL on OOM. */
char *sl__graph_scoped_name(const sl_graph *graph, const char *base);

/* Records the edge src:out -> dst:in on src (in = -1: control). */
bool sl__node_add_out_edge(sl_node *src, int src_output, sl_node *dst, int dst_input);

/* Points dst's input `slot` at src instead of what it had, moving the
 * edge (types are the caller's business: src must have the input's
 * dtype).  Used to close loops (Merge <- NextIteration) and to move
 * gradient nodes into a backward loop.  false on OOM (the input is then
 * src but src lacks the out edge: the caller truncates the graph). */
bool sl__node_set_input(sl_node *dst, int slot, sl_output src);

/* Adds a control edge src -> dst (nothing when there is one).  false on
 * OOM. */
bool sl__node_add_control_input(sl_node *dst, sl_node *src);

/* Runs the op's shape function for a node whose inputs are set. */
sl_code sl__node_infer_shapes(sl_node *node, sl_status *status);

/* The attr of the node, or NULL. */
const sl_node_attr *sl__node_find_attr(const sl_node *node, const char *name);

void sl__node_free(sl_node *node);

/* GraphDef message level import/export (graph-import.c, graph-export.c). */
#include "graph.pb-c.h"
sl_code sl__graph_import_graphdef(sl_graph *graph, const Tensorflow__GraphDef *gd,
                                  const sl_import_options *opts, sl_status *status);
/* A new GraphDef (free with protobuf_c_message_free_unpacked(gd, NULL)). */
Tensorflow__GraphDef *sl__graph_export_graphdef(const sl_graph *graph, sl_status *status);
/* One node as a NodeDef (free with protobuf_c_message_free_unpacked); NULL
 * on OOM.  Defaulted attrs are left out, as in sl__graph_export_graphdef. */
Tensorflow__NodeDef *sl__node_export(const sl_node *node);
