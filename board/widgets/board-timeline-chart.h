/* BoardTimelineChart: one traced step as lanes of bars, the paper's EEG
 * view.
 *
 * A label column names each lane ("GPU:0", "CPU:0 t3"); a time axis on
 * top counts from the step's start in µs, ms or s; each node execution
 * is a bar colored by its op type (stable colors), _Send/_Recv (copies
 * between devices) hatched in grey; a legend at the bottom lists the ops
 * that took the most time.  Lanes stretch to fill the height, up to a
 * comfortable row height, and scroll vertically when there are more than
 * fit; room they leave lists the step's longest kernels (a click on one
 * zooms to its bar).
 *
 * Input: Ctrl+scroll zooms at the pointer; scroll pans (vertically when
 * the lanes do not fit, else in time), Shift+scroll and horizontal scroll
 * pan in time; dragging pans; Shift+drag, or a drag on the time axis,
 * zooms to the selected range; double-click (or Home / 0) shows the whole
 * step; +/- zoom and the arrow keys pan.  Hovering a bar shows its node:
 * name, op, device, thread, start, duration.
 *
 * Thread-safety: main thread only.
 */
#pragma once

#include <gtk/gtk.h>

#include "board-timeline.h"

G_BEGIN_DECLS

#define BOARD_TYPE_TIMELINE_CHART (board_timeline_chart_get_type ())
G_DECLARE_FINAL_TYPE (BoardTimelineChart, board_timeline_chart, BOARD, TIMELINE_CHART, GtkWidget)

GtkWidget *board_timeline_chart_new (void);

/* Shows `step` (taken; NULL shows `message` instead, e.g. why nothing is
 * there).  The view resets to the whole step unless `keep_range` and the
 * old range still lies within the new step. */
void board_timeline_chart_set_step (BoardTimelineChart *c, BoardTimelineStep *step,
                                    gboolean keep_range);
void board_timeline_chart_set_message (BoardTimelineChart *c, const char *message);
const BoardTimelineStep *board_timeline_chart_get_step (BoardTimelineChart *c);

/* The time range shown, µs from the step's start. */
void board_timeline_chart_get_range (BoardTimelineChart *c, double *t0, double *t1);
void board_timeline_chart_set_range (BoardTimelineChart *c, double t0, double t1);
/* The whole step. */
void board_timeline_chart_reset (BoardTimelineChart *c);
/* Zooms onto a node's bar (an index into the step's nodes), scrolling
 * its lane into view, and marks it. */
void board_timeline_chart_zoom_to_node (BoardTimelineChart *c, int node);

/* The node under widget point (x, y), an index into the step's nodes, or
 * -1: what the tooltip describes. */
int board_timeline_chart_node_at (BoardTimelineChart *c, double x, double y);
/* The node under the pointer (outlined, and the tooltip's), or -1. */
int board_timeline_chart_get_hover (BoardTimelineChart *c);
/* A node's bar in widget coordinates (clipped to the plot); FALSE when
 * it is not on screen. */
gboolean board_timeline_chart_get_node_rect (BoardTimelineChart *c, int node, graphene_rect_t *r);
/* A lane's band in widget coordinates; FALSE when not on screen. */
gboolean board_timeline_chart_get_lane_rect (BoardTimelineChart *c, int lane, graphene_rect_t *r);
/* The tooltip's text for a node (plain, lines "key: value"); newly allocated. */
char *board_timeline_chart_describe_node (BoardTimelineChart *c, int node);

G_END_DECLS
