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

void studio_graph_canvas_fit (StudioGraphCanvas *c);
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

/* Collapses or expands a name scope. */
void studio_graph_canvas_set_collapsed (StudioGraphCanvas *c, const char *scope, gboolean collapsed);
gboolean studio_graph_canvas_is_collapsed (StudioGraphCanvas *c, const char *scope);

G_END_DECLS
