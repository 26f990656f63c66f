/* BoardTimelineView: the timeline dashboard, the paper's EEG view.  A
 * run picker (runs with traced steps), a step picker (their
 * tagged_run_metadata tags, "step100"...; the newest is shown first), a
 * line of figures (nodes, devices, lanes, the step's length) and the
 * chart of lanes per (device, thread).  Step statistics are decoded in a
 * GTask; the main thread only swaps in the result, so a big trace never
 * freezes the window.  Damaged run metadata shows its message (naming the
 * run and tag) in place of the chart and logs a warning. */
#pragma once

#include <gtk/gtk.h>

#include "board-dataset.h"
#include "board-timeline-chart.h"

G_BEGIN_DECLS

#define BOARD_TYPE_TIMELINE_VIEW (board_timeline_view_get_type ())
G_DECLARE_FINAL_TYPE (BoardTimelineView, board_timeline_view, BOARD, TIMELINE_VIEW, GtkBox)

GtkWidget *board_timeline_view_new (BoardDataset *ds);
BoardTimelineChart *board_timeline_view_get_chart (BoardTimelineView *v);
/* Shows step `tag` of `run` (NULL: keep the current run).  FALSE when
 * there is no such run or tag. */
gboolean board_timeline_view_select (BoardTimelineView *v, const char *run, const char *tag);
/* The run and tag shown (or being read), or NULL. */
const char *board_timeline_view_get_run (BoardTimelineView *v);
const char *board_timeline_view_get_tag (BoardTimelineView *v);
/* Nothing is being read, and what is shown matches the pickers. */
gboolean board_timeline_view_is_ready (BoardTimelineView *v);
/* The line above the chart ("173 nodes · 2 devices · ..."), or the error. */
const char *board_timeline_view_get_summary (BoardTimelineView *v);
/* Appends the state dump's lines (board_window_dump_state): "timeline=RUN
 * TAG LANES", "timeline_range=T0 T1" (µs), "timeline_hover=NODE", and,
 * in `relative_to`'s coordinates, "timeline_lane=LABEL x y w h" and
 * "timeline_bar=NODE x y w h" for what is on screen. */
void board_timeline_view_describe (BoardTimelineView *v, GtkWidget *relative_to, GString *s);

G_END_DECLS
