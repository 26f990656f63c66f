/* StudioGraphCanvas: the node editor's drawing surface over a
 * StudioDocument.
 *
 * Nodes are boxes with their inputs along the top edge and outputs along
 * the bottom edge; each port shows its dtype and inferred shape.  Data
 * edges are curves from an output to an input, control edges dashed.  A
 * node with a validation error gets a red frame, a badge and its message
 * under it; an unknown op an amber one.  Name scopes are drawn as frames
 * around their nodes; clicking a frame's header collapses the scope into
 * one box (edges then end on the box) and clicking again expands it.
 *
 * Mouse: click selects, Shift/Ctrl-click adds or toggles, drag on empty
 * space draws a rubber band, drag a node moves the selection, drag from
 * an output port to an input port connects (Shift: a control edge), drop
 * a wire on empty space asks for a node to add there, middle drag or
 * Alt-drag pans, scroll pans, Ctrl-scroll zooms at the pointer, a
 * double-click on empty space asks to add a node there.  Keys: arrows
 * nudge the selection (pan when nothing is selected), +/- zoom, 0 fits,
 * Shift+A asks to add a node at the pointer.  A minimap in the corner
 * shows the whole graph and the view; clicking it recentres.
 *
 * Every change goes through the document's edit functions; the canvas
 * itself holds only view state (zoom, pan, selection, collapsed scopes).
 *
 * Signals:
 *   "selection-changed" ()
 *   "add-requested" (double gx, double gy, const char *from) - the user
 *       asked to add a node at graph point (gx, gy); from is "node:k" when
 *       a wire from that output was dropped there, else NULL
 *   "message" (const char *text) - a refused edit and why
 */
#pragma once

#include <gtk/gtk.h>

#include "studio-document.h"

G_BEGIN_DECLS

#define STUDIO_TYPE_GRAPH_CANVAS (studio_graph_canvas_get_type ())
G_DECLARE_FINAL_TYPE (StudioGraphCanvas, studio_graph_canvas, STUDIO, GRAPH_CANVAS, GtkWidget)

GtkWidget *studio_graph_canvas_new (StudioDocument *doc);
StudioDocument *studio_graph_canvas_get_document (StudioGraphCanvas *c);

/* The selected node names (a NULL-terminated strv the caller frees), in
 * document order. */
char **studio_graph_canvas_get_selection (StudioGraphCanvas *c);
/* The one selected node, or NULL when none or several. */
const char *studio_graph_canvas_get_selected (StudioGraphCanvas *c);
/* Selects `name` (NULL clears); add: keep the rest. */
void studio_graph_canvas_select (StudioGraphCanvas *c, const char *name, gboolean add);
void studio_graph_canvas_select_all (StudioGraphCanvas *c);

/* The smallest scale the first view uses: below it, node labels are
 * too small to read. */
#define STUDIO_CANVAS_READABLE_SCALE 0.6

void studio_graph_canvas_fit (StudioGraphCanvas *c);
/* The first view of a graph: fitted, but not below the readable scale
 * (a graph too big for that shows its top part). */
void studio_graph_canvas_fit_first (StudioGraphCanvas *c);
void studio_graph_canvas_zoom (StudioGraphCanvas *c, double factor);
/* Shows graph point (gx, gy) in the middle at `scale` (1: a node's
 * natural size). */
void studio_graph_canvas_set_view (StudioGraphCanvas *c, double scale, double gx, double gy);
/* Scrolls so the node is in the middle (expanding scopes that hide it). */
void studio_graph_canvas_center_on (StudioGraphCanvas *c, const char *name);
/* The last pointer position, in graph coordinates (the centre of the view
 * when the pointer never came in). */
void studio_graph_canvas_get_cursor (StudioGraphCanvas *c, double *gx, double *gy);

/* A node's box and a port's centre in widget coordinates (tests, and the
 * user-level test's pointer moves); FALSE when the node is hidden. */
gboolean studio_graph_canvas_get_node_rect (StudioGraphCanvas *c, const char *name,
                                            graphene_rect_t *rect);
gboolean studio_graph_canvas_get_port_point (StudioGraphCanvas *c, const char *name,
                                             gboolean is_input, int k, double *wx, double *wy);

/* Drawing counters (tests): snapshots taken, times the graph layer was
 * drawn again (it is kept while nothing it shows changes: pointer
 * feedback and redraws asked for by GTK reuse it), and the nodes the last
 * drawing painted (only those in view). */
void studio_graph_canvas_get_stats (StudioGraphCanvas *c, guint *frames, guint *content_builds,
                                    guint *nodes_drawn);

/* What the last drawing showed: nodes and collapsed-scope boxes in view,
 * and the scale (tests of the first view's readability). */
void studio_graph_canvas_get_view_counts (StudioGraphCanvas *c, guint *nodes_drawn,
                                          guint *boxes_drawn, double *scale);

/* Collapses or expands a name scope. */
void studio_graph_canvas_set_collapsed (StudioGraphCanvas *c, const char *scope, gboolean collapsed);
gboolean studio_graph_canvas_is_collapsed (StudioGraphCanvas *c, const char *scope);
/* Collapses every name scope, or (FALSE) expands them all. */
void studio_graph_canvas_collapse_all (StudioGraphCanvas *c, gboolean collapse);
/* The collapsed scopes' names (a set; borrowed). */
GHashTable *studio_graph_canvas_get_collapsed_set (StudioGraphCanvas *c);

/* Per-node run state: each op's time in a step of a run (node name ->
 * double* microseconds; the canvas keeps a reference; NULL: none), shown
 * when show_times is on as a heat tint on the node and its time in a
 * pill ("1.2 ms"); a collapsed scope shows the sum of its nodes. */
void studio_graph_canvas_set_node_times (StudioGraphCanvas *c, GHashTable *times, gint64 step);
void studio_graph_canvas_set_show_times (StudioGraphCanvas *c, gboolean show);
gboolean studio_graph_canvas_get_show_times (StudioGraphCanvas *c);
/* The time text shown on a node or a collapsed scope's box, NULL when
 * none is shown (tests; caller frees). */
char *studio_graph_canvas_get_time_badge (StudioGraphCanvas *c, const char *name);

/* Auto layout (set by the window for graphs it laid out itself, those
 * opened without positions): expanding or collapsing a scope lays the
 * graph out again, a collapsed scope taking a box's room and an expanded
 * one the room its nodes need (studio_document_arrange_collapsed()).
 * The box clicked stays in place on screen.  Off: scopes open and close
 * in place over the positions the user gave. */
void studio_graph_canvas_set_auto_layout (StudioGraphCanvas *c, gboolean on);
gboolean studio_graph_canvas_get_auto_layout (StudioGraphCanvas *c);

G_END_DECLS
