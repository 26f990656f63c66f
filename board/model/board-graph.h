/* A GraphDef as the graph explorer shows it: a hierarchy of name scopes,
 * with repeated nodes folded into series, edges lifted to the level where
 * they join two siblings, and very high-degree nodes set aside.
 *
 * The rules are TensorBoard's graph plugin's (tf_graph_common/hierarchy.ts,
 * render.ts; TENSORBOARD.md §1b):
 *   - a node "a/b/c" lives in scope "a/b" inside scope "a"; when an op and
 *     a scope share a name, the op goes inside the scope;
 *   - siblings named prefix_1, prefix_2, ... (and prefix itself) of one op
 *     type fold into a series node "prefix_[1-5]" when at least 5 of them
 *     have consecutive numbers (seriesNodeMinSize 5);
 *   - an edge u -> v becomes an edge between the two children of the
 *     deepest group that holds both (the lowest common ancestor);
 *   - in a group of at least 15 children, a child of degree at least 5
 *     whose in-degree exceeds Q3 + (Q3 - Q1), or whose out-degree exceeds
 *     Q3 + 4 (Q3 - Q1), of its siblings' degrees is "extracted": drawn
 *     aside without its edges, as TB does for summaries and init ops.
 *
 * The GraphDef stays owned by the graph (the side pane reads its attrs).
 *
 * Thread-safety: the structure (nodes, children, edges) is immutable
 * after construction and may be read from any thread; the `expanded`
 * flags and layout fields belong to the main thread.
 */
#pragma once

#include <gio/gio.h>

#include "graph.pb-c.h"

G_BEGIN_DECLS

typedef enum {
    BOARD_GRAPH_OP = 0,
    BOARD_GRAPH_SCOPE = 1,
    BOARD_GRAPH_SERIES = 2,
} BoardGraphNodeType;

typedef struct _BoardGraphNode BoardGraphNode;

/* An edge between two children of one group. */
typedef struct {
    int from;          /* child index in the group */
    int to;
    int count;         /* GraphDef edges folded into it */
    gboolean control;  /* every folded edge is a control edge */
} BoardGraphEdge;

struct _BoardGraphNode {
    BoardGraphNodeType type;
    char *name;               /* full name; series: "scope/add_[1-5]" */
    const char *label;        /* the last component of name */
    BoardGraphNode *parent;   /* NULL for the root */
    int index;                /* in parent->children */
    int depth;                /* root 0 */
    GPtrArray *children;      /* BoardGraphNode* (owned); NULL for ops */
    GArray *edges;            /* BoardGraphEdge among children; NULL for ops */
    int op_index;             /* OP: index into the GraphDef's nodes; -1 otherwise */
    const char *op;           /* OP, SERIES: op type; SCOPE: NULL */
    const char *device;       /* OP: requested device or ""; groups: the common device or NULL */
    int n_ops;                /* ops inside (1 for an op) */
    int in_degree;            /* edges into it at its level */
    int out_degree;
    gboolean extracted;       /* set aside in its parent's layout */
    /* main thread: */
    gboolean expanded;
    double x, y, w, h;        /* layout box, relative to the parent's box */
    GPtrArray *edge_paths;    /* groups: per edges[i], a GArray of BoardXY polyline, or NULL */
    gboolean laid_out;        /* groups: x/y of children are valid */
};

typedef struct _BoardGraph BoardGraph;

struct _BoardGraph {
    Tensorflow__GraphDef *def;   /* owned */
    BoardGraphNode *root;
    GHashTable *by_name;         /* full op name -> BoardGraphNode* (ops only) */
    GPtrArray *ops;              /* op nodes in GraphDef order */
    int n_series;
    int n_scopes;
    int n_extracted;
};

/* Builds the hierarchy of `def`, taking ownership of it (also on
 * failure, which cannot happen for a decoded GraphDef). */
BoardGraph *board_graph_new (Tensorflow__GraphDef *def);

/* Decodes a binary GraphDef (or, when `text`, a .pbtxt) and builds its
 * graph.  NULL and error set when the bytes are not a GraphDef. */
BoardGraph *board_graph_new_from_data (const void *data, size_t size, gboolean text,
                                       const char *source_name, GError **error);

/* Reads a .pb or .pbtxt file (text when the name ends in "txt"). */
BoardGraph *board_graph_new_from_file (const char *path, GError **error);

void board_graph_free (BoardGraph *g);

/* The op node of that full name (ops only), or NULL. */
BoardGraphNode *board_graph_find_op (BoardGraph *g, const char *name);

/* The NodeDef of an op node; NULL for groups. */
const Tensorflow__NodeDef *board_graph_node_def (BoardGraph *g, const BoardGraphNode *n);

/* Ops whose name matches `regex`, in GraphDef order, at most `max`
 * (<= 0: all).  A new array of borrowed nodes. */
GPtrArray *board_graph_search (BoardGraph *g, GRegex *regex, int max);

/* Expands every ancestor of `n` (so n becomes visible). */
void board_graph_reveal (BoardGraph *g, BoardGraphNode *n);

/* The visible node standing for `n`: n itself, or its highest collapsed
 * ancestor. */
BoardGraphNode *board_graph_visible_ancestor (BoardGraphNode *n);

/* Names of the ops that consume an output of op `n` (its outputs in the
 * side pane); a new array of borrowed nodes. */
GPtrArray *board_graph_consumers (BoardGraph *g, const BoardGraphNode *n);

/* Human-readable text of an attr value: types by name ("DT_FLOAT"),
 * shapes as [?,784], lists in brackets, tensors as "float32 [256]" plus a
 * few values; others in text format.  Newly allocated. */
char *board_graph_format_attr (const Tensorflow__AttrValue *v);

/* The output shapes of an op from its _output_shapes or shape attrs, as
 * "[?,784]" joined by ", "; NULL when unknown.  Newly allocated. */
char *board_graph_output_shapes (const Tensorflow__NodeDef *nd);

/* Short device name ("CPU:0", "GPU:1", "XLA_CPU:0") from a full device
 * string; "" for none.  Newly allocated. */
char *board_graph_short_device (const char *device);

G_END_DECLS
