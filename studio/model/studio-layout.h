/* Node geometry and automatic layout for the studio.
 *
 * Geometry: a node is a box with its input ports spread along the top
 * edge and its outputs along the bottom edge (graphs read top-down, as in
 * Netron and Neural Network Console); the canvas draws with these numbers
 * and the layout sizes its boxes with them.
 *
 * Layout reuses the board's: the GraphDef becomes a BoardGraph (name
 * scopes as groups, every group expanded) laid out group by group with
 * Graphviz `dot` (board-graph-layout.h), top-down, with the studio's box
 * sizes; each node's position is then the sum of its group offsets.
 *
 * Thread-safety: studio_layout_run() reads only its arguments and may run
 * on any thread (the board's layout serializes libgvc).
 */
#pragma once

#include "studio-document.h"

G_BEGIN_DECLS

#define STUDIO_NODE_MIN_WIDTH 150.0
#define STUDIO_NODE_HEIGHT 56.0
#define STUDIO_PORT_SPACING 92.0
#define STUDIO_PORT_RADIUS 5.0

/* Name-scope frames (expanded scopes) and boxes (collapsed ones). */
#define STUDIO_FRAME_PAD 12.0      /* plus 10 per nested scope level below */
#define STUDIO_FRAME_HEADER 18.0
#define STUDIO_SCOPE_BOX_H 48.0

/* Graphs larger than this open with every name scope collapsed (the
 * first view shows a handful of group boxes, as TensorBoard's does). */
#define STUDIO_COLLAPSE_NODES 60

/* Size of the box of collapsed scope `scope` (its full name). */
void studio_scope_box_size (const char *scope, double *w, double *h);
/* The frame's padding around a scope with `levels` nested levels below,
 * and above its topmost node (the headers of the nested frames too). */
double studio_scope_frame_pad (int levels);
double studio_scope_frame_top (int levels);

/* Size of n's box. */
void studio_node_size (const StudioNode *n, double *w, double *h);
/* Centre of input (is_input) or output port k of a node at (x, y). */
void studio_port_position (const StudioNode *n, gboolean is_input, int k, double *px, double *py);

/* Lays out the nodes of a packed GraphDef whose i-th node has size
 * sizes[2i] x sizes[2i+1]; returns 2n coordinates (top-left corners, in
 * GraphDef order; caller frees) or NULL when the bytes are not a
 * GraphDef.  quick: the linear-time layered layout instead of dot (first
 * views of huge graphs). */
double *studio_layout_run (GBytes *graphdef, const double *sizes, gboolean quick, int *n_out);

/* The same with the scopes in `collapsed` (a set of full scope names)
 * laid out as one box each (studio_scope_box_size()) among the nodes
 * and scopes around them.  The nodes inside a collapsed scope are laid
 * out (quickly) as they would show when it opens, their frame's top-left
 * corner on the box's: the canvas draws the box there.  An op named like
 * a scope ("a" beside "a/b") belongs to that scope, as in TensorBoard. */
double *studio_layout_run_collapsed (GBytes *graphdef, const double *sizes, GHashTable *collapsed,
                                     gboolean quick, int *n_out);

/* Lays out the whole document (names NULL) or the nodes named, keeping
 * the top-left of what moves in place, as one undoable "Arrange" edit. */
gboolean studio_document_arrange (StudioDocument *doc, const char *const *names, gboolean quick,
                                  GError **error);
/* The same with collapsed scopes (see studio_layout_run_collapsed()). */
gboolean studio_document_arrange_collapsed (StudioDocument *doc, const char *const *names,
                                            GHashTable *collapsed, gboolean quick, GError **error);

G_END_DECLS
