/* StudioDocument: a graph being edited, as a list of TensorFlow NodeDefs
 * plus each node's position, with every edit an undoable command.
 *
 * The document is the single source of truth for the studio: the canvas,
 * inspector and problems list read it and call its edit functions; none
 * of them changes a NodeDef directly.  Each edit records, per node it
 * touches, the packed NodeDef (and position) before and after, so undo
 * and redo give back exactly the previous GraphDef, byte for byte, and
 * cost memory in proportion to the nodes touched, not the graph.
 *
 * An edit that is refused (an incompatible connection, a name in use, a
 * cycle) returns FALSE with a GError that says why and leaves the
 * document and its undo stack as they were.
 *
 * After every edit, undo and redo the document validates itself through
 * the engine (studio-validate.h): each node gets a state, a message, and
 * typed ports with inferred shapes.  Positions are kept on export as a
 * `_studio_position` attr (list(float) [x, y]), which the engine ignores
 * like every attr whose name starts with '_', so a saved graph reopens as
 * it was laid out and still runs anywhere.
 *
 * Data inputs not yet connected are kept as "" in a NodeDef's input list,
 * so a half-drawn graph saves and reopens as it was (the engine refuses
 * to run it until every input is connected, as it should).
 *
 * Signals: "changed" after every edit, undo, redo, load and revalidation;
 * notify::can-undo, ::can-redo, ::modified.
 *
 * Thread-safety: main thread only.  studio_document_export() returns
 * bytes that any thread may read.
 */
#pragma once

#include <gio/gio.h>

#include "graph.pb-c.h"
#include "sluice/graph.h"

G_BEGIN_DECLS

#define STUDIO_POSITION_ATTR "_studio_position"

#define STUDIO_DOCUMENT_ERROR (studio_document_error_quark ())
GQuark studio_document_error_quark (void);

typedef enum {
    STUDIO_DOCUMENT_ERROR_INVALID,      /* malformed file or argument */
    STUDIO_DOCUMENT_ERROR_NOT_FOUND,    /* no node of that name, no such op */
    STUDIO_DOCUMENT_ERROR_EXISTS,       /* a name in use */
    STUDIO_DOCUMENT_ERROR_INCOMPATIBLE, /* a connection refused: dtype, cycle, port */
} StudioDocumentError;

/* A node's validation state, worst last. */
typedef enum {
    STUDIO_NODE_OK = 0,
    STUDIO_NODE_UNCHECKED,   /* waits on a node with an error upstream, or a loop */
    STUDIO_NODE_UNKNOWN_OP,  /* op not registered in Sluice: kept, marked, editable */
    STUDIO_NODE_ERROR,       /* the engine refused the node: message says why */
} StudioNodeState;

/* One input or output of a node as validation found it. */
typedef struct {
    char *name;         /* the op's argument name, "x" or "values:1" in a list */
    sl_dtype dtype;     /* SL_DTYPE_INVALID when unknown */
    sl_shape shape;     /* rank SL_RANK_UNKNOWN when unknown */
    char *type_attr;    /* the type attr this port follows ("T"), or NULL; borrowed from the op */
} StudioPort;

/* What validation knows of one node.  Borrowed from the document, valid
 * until the next "changed". */
typedef struct {
    const Tensorflow__NodeDef *def;  /* without the position attr */
    const sl_op_def *op;             /* NULL for an unknown op */
    StudioNodeState state;
    char *message;                   /* NULL when OK */
    int n_inputs;
    StudioPort *inputs;
    int n_outputs;
    StudioPort *outputs;
    gboolean has_position;
    double x;
    double y;
} StudioNode;

#define STUDIO_TYPE_DOCUMENT (studio_document_get_type ())
G_DECLARE_FINAL_TYPE (StudioDocument, studio_document, STUDIO, DOCUMENT, GObject)

StudioDocument *studio_document_new (void);

/* ---- Files ----------------------------------------------------------- */

/* Replaces the contents with the GraphDef in `path` (.pbtxt/.txt as text,
 * others binary, falling back to text).  Clears the undo history.  FALSE +
 * error when the file cannot be read or is not a GraphDef; the document
 * is then unchanged. */
gboolean studio_document_load (StudioDocument *doc, const char *path, GError **error);
gboolean studio_document_load_bytes (StudioDocument *doc, const void *data, gsize size,
                                     gboolean text, const char *source_name, GError **error);
/* Writes the GraphDef (text when the name ends in .pbtxt or .txt) through
 * a temporary file renamed into place; marks the document saved. */
gboolean studio_document_save (StudioDocument *doc, const char *path, GError **error);
/* The GraphDef, packed (binary) or as text.  Caller owns the bytes. */
GBytes *studio_document_export (StudioDocument *doc, gboolean text);
/* Writes the GraphDef to `path` without making it the document's file
 * (a run directory's copy). */
gboolean studio_document_save_copy (StudioDocument *doc, const char *path, GError **error);
/* Sets the file the document saves to (a new graph named on the command
 * line). */
void studio_document_set_path (StudioDocument *doc, const char *path);
/* Drops the undo history and marks the document saved: for the layout
 * given to a graph just opened, which is not a user's edit. */
void studio_document_forget_history (StudioDocument *doc);
/* The nodes named, in document order, as a packed GraphDef. */
GBytes *studio_document_export_nodes (StudioDocument *doc, const char *const *names);
/* Replaces everything with an empty graph and clears the history. */
void studio_document_clear (StudioDocument *doc);

const char *studio_document_get_path (StudioDocument *doc);  /* NULL until loaded or saved */
gboolean studio_document_is_modified (StudioDocument *doc);

/* ---- Reading --------------------------------------------------------- */

int studio_document_get_n_nodes (StudioDocument *doc);
const StudioNode *studio_document_get_node (StudioDocument *doc, int i);
/* The node of that name or NULL; index in *index when not NULL. */
const StudioNode *studio_document_find (StudioDocument *doc, const char *name, int *index);
/* Counts of nodes in each state (for the status bar). */
int studio_document_count_problems (StudioDocument *doc);
/* The source of data input `i` of node n: a newly allocated node name
 * ("" when unconnected, NULL when the NodeDef has no such input) and its
 * output index in *out_index. */
char *studio_document_input_source (StudioDocument *doc, const StudioNode *n, int i,
                                    int *out_index);
/* A fresh name "<base>", "<base>_1", ... not used in the document. */
char *studio_document_unique_name (StudioDocument *doc, const char *base);

/* ---- Edits (each one undoable; FALSE + error when refused) ---------- */

/* Adds a node of `op` (registered or not).  Attrs without defaults that
 * inputs cannot infer get a neutral value (float for types, 0, [], "").
 * name NULL picks a unique one from the op; *out_name gets the name used
 * (caller frees; may be NULL). */
gboolean studio_document_add_node (StudioDocument *doc, const char *op, const char *name,
                                   double x, double y, char **out_name, GError **error);
/* Deletes nodes; their consumers' inputs from them become unconnected and
 * control edges from them go. */
gboolean studio_document_delete_nodes (StudioDocument *doc, const char *const *names,
                                       GError **error);
/* Connects output `src_out` of src to data input `dst_in` of dst,
 * replacing what was there.  dst_in -1 (or src_out -1) adds a control
 * edge.  Refused with a reason: a dtype mismatch names both nodes and
 * both dtypes; a cycle; a port that does not exist. */
gboolean studio_document_connect (StudioDocument *doc, const char *src, int src_out,
                                  const char *dst, int dst_in, GError **error);
/* Whether connect() would accept the edge (same checks, no edit). */
gboolean studio_document_can_connect (StudioDocument *doc, const char *src, int src_out,
                                      const char *dst, int dst_in, GError **error);
/* Leaves data input dst_in of dst unconnected. */
gboolean studio_document_disconnect (StudioDocument *doc, const char *dst, int dst_in,
                                     GError **error);
gboolean studio_document_disconnect_control (StudioDocument *doc, const char *src,
                                             const char *dst, GError **error);
/* Sets attr `key` to a copy of `value`; value NULL removes the attr. */
gboolean studio_document_set_attr (StudioDocument *doc, const char *node, const char *key,
                                   const Tensorflow__AttrValue *value, GError **error);
/* Same, with the value in text format ("type: DT_INT32", "i: 3",
 * "shape { dim { size: -1 } dim { size: 784 } }", "list { i: 1 i: 2 }"). */
gboolean studio_document_set_attr_text (StudioDocument *doc, const char *node, const char *key,
                                        const char *value_text, GError **error);
gboolean studio_document_set_device (StudioDocument *doc, const char *node, const char *device,
                                     GError **error);
/* Moves nodes by (dx, dy); nodes without a position start at 0,0. */
gboolean studio_document_move_nodes (StudioDocument *doc, const char *const *names, double dx,
                                     double dy, GError **error);
/* Sets positions: names[i] goes to xy[2i], xy[2i+1]. */
gboolean studio_document_set_positions (StudioDocument *doc, const char *const *names,
                                        const double *xy, GError **error);
/* Renames a node and every reference to it. */
gboolean studio_document_rename (StudioDocument *doc, const char *old_name, const char *new_name,
                                 GError **error);
/* Puts nodes into scope `scope` (renames n to scope/n). */
gboolean studio_document_group (StudioDocument *doc, const char *const *names, const char *scope,
                                GError **error);
/* Takes every node of scope `scope` out of it (scope/a/b -> a/b). */
gboolean studio_document_ungroup (StudioDocument *doc, const char *scope, GError **error);

/* Nodes named as a GraphDef (text), for the clipboard. */
char *studio_document_copy (StudioDocument *doc, const char *const *names);
/* Adds the nodes of a GraphDef text (a copy), renamed where the names are
 * taken, moved by (dx, dy); edges among them follow the renames, inputs
 * from nodes not pasted stay when those nodes exist.  *out_names (may be
 * NULL) gets the new names (a NULL-terminated strv the caller frees). */
gboolean studio_document_paste (StudioDocument *doc, const char *text, double dx, double dy,
                                 char ***out_names, GError **error);

/* Several edits as one undo step: begin, edits, end (nestable).  The
 * document revalidates and emits "changed" once, at the outermost end. */
void studio_document_begin (StudioDocument *doc, const char *label);
void studio_document_end (StudioDocument *doc);

/* ---- History --------------------------------------------------------- */

gboolean studio_document_can_undo (StudioDocument *doc);
gboolean studio_document_can_redo (StudioDocument *doc);
gboolean studio_document_undo (StudioDocument *doc);
gboolean studio_document_redo (StudioDocument *doc);
/* Label of the edit undo would revert ("Connect", "Move"); NULL if none. */
const char *studio_document_undo_label (StudioDocument *doc);

/* ---- Helpers ----------------------------------------------------------- */

/* "float [?,784]"-style text of a port. */
char *studio_port_describe (const StudioPort *p);
/* The shape as "[?,784]" (static-size buffer given by the caller). */
const char *studio_shape_string (const sl_shape *s, char *buf, gsize size);

G_END_DECLS
