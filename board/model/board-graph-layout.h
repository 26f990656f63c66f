/* Layered layout of a graph's expanded groups, off the main thread.
 *
 * Each expanded group is laid out on its own, bottom-up: its expanded
 * children first (which fixes their sizes), then the group's children as
 * boxes joined by the group's lifted edges, by Graphviz's `dot` through
 * libgvc (rank direction bottom-to-top, like TensorBoard).  This is how
 * TensorBoard and Model Explorer stay fast on big graphs: only what is
 * open is laid out, one group at a time.  Extracted (high-degree) children
 * are stacked in a column beside the group's layout, without edges.
 *
 * A group with more than BOARD_GRAPH_DOT_MAX children, or any group when
 * `quick` is set, gets a quick layered layout instead (longest-path ranks,
 * children in their order, straight edges): linear time, for the first
 * view of a huge graph while `dot` runs.
 *
 * Thread-safety: board_graph_layout_compute() may run on any thread while
 * the main thread draws the previous layout: it reads only the immutable
 * structure and the `expanded` set it is given, and returns its results
 * apart; calls into libgvc are serialized on a global lock (libgvc is not
 * reentrant).  board_graph_layout_apply() is for the main thread.
 */
#pragma once

#include <glib.h>

#include "board-downsample.h"
#include "board-graph.h"

G_BEGIN_DECLS

#define BOARD_GRAPH_DOT_MAX 1500

/* Sizes in pixels. */
#define BOARD_GRAPH_OP_HEIGHT 26.0
#define BOARD_GRAPH_GROUP_HEIGHT 38.0
#define BOARD_GRAPH_HEADER 24.0   /* label band on top of an expanded group */
#define BOARD_GRAPH_PAD 10.0

/* An edge's route inside its group's box: a cubic Bézier chain (3k+1
 * points) or a polyline, and where its arrowhead points. */
typedef struct {
    GArray *points;     /* BoardXY */
    gboolean bezier;
    BoardXY tip;        /* the arrowhead's point */
    gboolean has_tip;
} BoardGraphEdgePath;

void board_graph_edge_path_free (BoardGraphEdgePath *p);

typedef struct _BoardGraphLayoutResult BoardGraphLayoutResult;

/* Lays out `group` (expanded) and every expanded group under it.
 * `expanded` is a set (GHashTable of BoardGraphNode*) of the expanded
 * groups; borrowed for the call.  Returns a result to apply on the main
 * thread. */
BoardGraphLayoutResult *board_graph_layout_compute (BoardGraphNode *group, GHashTable *expanded,
                                                    gboolean quick);

/* How a caller other than the board wants its boxes: the studio draws
 * bigger nodes (ports, shapes) and reads graphs top-down. */
typedef struct {
    gboolean top_down;        /* ranks from the top (dot's TB) instead of from the bottom */
    /* the size of a collapsed node's box; NULL: board_graph_node_box_size().
     * Called on the layout's thread. */
    void (*box_size) (const BoardGraphNode *n, double *w, double *h, gpointer data);
    gpointer data;
    const char *nodesep;      /* dot's nodesep and ranksep in inches; NULL: the board's */
    const char *ranksep;
} BoardGraphLayoutStyle;

/* The same with a style (NULL: the board's). */
BoardGraphLayoutResult *board_graph_layout_compute_styled (BoardGraphNode *group,
                                                           GHashTable *expanded, gboolean quick,
                                                           const BoardGraphLayoutStyle *style);

/* Copies the positions, sizes and edge routes into the nodes and frees
 * the result. */
void board_graph_layout_apply (BoardGraphLayoutResult *r);
void board_graph_layout_result_free (BoardGraphLayoutResult *r);

/* Whether `dot` laid out every group of the result (FALSE: some quick). */
gboolean board_graph_layout_result_is_final (const BoardGraphLayoutResult *r);

/* The set of expanded groups under `root` (root included), for a job. */
GHashTable *board_graph_expanded_set (BoardGraphNode *root);

/* The size of a collapsed node's box. */
void board_graph_node_box_size (const BoardGraphNode *n, double *w, double *h);

G_END_DECLS
