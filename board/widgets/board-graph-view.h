/* BoardGraphView: draws a BoardGraph's laid-out hierarchy and lets the
 * user pan (drag), zoom (ctrl-scroll, or scroll), select a node (click)
 * and expand or collapse a group (double-click).  It emits
 * "node-activated" (double-click on a group) and "node-selected"; the page
 * owning it runs the layouts.  Nodes are colored by op kind, or by device
 * when color-by-device is on.
 */
#pragma once

#include <gtk/gtk.h>

#include "board-graph.h"

G_BEGIN_DECLS

#define BOARD_TYPE_GRAPH_VIEW (board_graph_view_get_type ())
G_DECLARE_FINAL_TYPE (BoardGraphView, board_graph_view, BOARD, GRAPH_VIEW, GtkWidget)

GtkWidget *board_graph_view_new (void);

/* Shows `graph` (borrowed: it must outlive its use here; NULL clears). */
void board_graph_view_set_graph (BoardGraphView *v, BoardGraph *graph);
BoardGraphNode *board_graph_view_get_selected (BoardGraphView *v);
void board_graph_view_select (BoardGraphView *v, BoardGraphNode *n);
void board_graph_view_set_color_by_device (BoardGraphView *v, gboolean on);
/* Scrolls so that n's box is centred (after a layout). */
void board_graph_view_center_on (BoardGraphView *v, BoardGraphNode *n);
/* Fits the whole graph in the view. */
void board_graph_view_fit (BoardGraphView *v);
/* n's box in widget coordinates; FALSE when not visible. */
gboolean board_graph_view_get_node_rect (BoardGraphView *v, BoardGraphNode *n,
                                         graphene_rect_t *rect);
/* Redraw after a layout was applied. */
void board_graph_view_layout_changed (BoardGraphView *v);
/* Color of a device string (stable). */
guint32 board_graph_device_color (const char *device);

G_END_DECLS
