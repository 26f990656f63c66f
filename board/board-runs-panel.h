/* BoardRunsPanel: the runs of the dataset, found live: a regex filter,
 * show/hide, a color picker per run, and run grouping (by prefix or by
 * regex, drawn as mean with a min-max or ±std band). */
#pragma once

#include <gtk/gtk.h>

#include "board-chart-settings.h"
#include "board-dataset.h"

G_BEGIN_DECLS

#define BOARD_TYPE_RUNS_PANEL (board_runs_panel_get_type ())
G_DECLARE_FINAL_TYPE (BoardRunsPanel, board_runs_panel, BOARD, RUNS_PANEL, GtkBox)

GtkWidget *board_runs_panel_new (BoardDataset *ds, BoardChartSettings *settings);
/* Focuses the filter entry (the Find action). */
void board_runs_panel_focus_filter (BoardRunsPanel *p);

G_END_DECLS
