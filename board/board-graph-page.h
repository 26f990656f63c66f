/* BoardGraphPage: the graph explorer: picks a GraphDef (a run's graph, or
 * a .pb/.pbtxt file opened directly), builds its hierarchy and lays it
 * out off the main thread (a quick layered layout first, then dot), with
 * search, color by device and a side pane of the selected node's op,
 * device, attrs, inputs, outputs and shapes. */
#pragma once

#include <gtk/gtk.h>

#include "board-dataset.h"
#include "board-graph-view.h"

G_BEGIN_DECLS

#define BOARD_TYPE_GRAPH_PAGE (board_graph_page_get_type ())
G_DECLARE_FINAL_TYPE (BoardGraphPage, board_graph_page, BOARD, GRAPH_PAGE, GtkBox)

GtkWidget *board_graph_page_new (BoardDataset *ds);
/* Opens a GraphDef file (binary, or text when the name ends in "txt"). */
void board_graph_page_open_file (BoardGraphPage *p, const char *path);
void board_graph_page_focus_search (BoardGraphPage *p);
/* Expands the group of that full name once the graph is loaded. */
void board_graph_page_expand (BoardGraphPage *p, const char *group_name);
/* Whether the shown graph has its final layout (or there is none to show). */
gboolean board_graph_page_is_ready (BoardGraphPage *p);
BoardGraphView *board_graph_page_get_view (BoardGraphPage *p);
BoardGraph *board_graph_page_get_graph (BoardGraphPage *p);
/* Milliseconds from the start of loading to the first drawn layout; -1 before. */
double board_graph_page_first_view_ms (BoardGraphPage *p);

G_END_DECLS
