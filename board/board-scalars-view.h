/* BoardScalarsView: the scalars dashboard: one chart per tag, grouped by
 * the tag's prefix, a tag filter (regex), and the shared chart settings:
 * smoothing, x axis, log scales, outliers. */
#pragma once

#include <gtk/gtk.h>

#include "board-chart-settings.h"
#include "board-dataset.h"
#include "board-scalar-chart.h"

G_BEGIN_DECLS

#define BOARD_TYPE_SCALARS_VIEW (board_scalars_view_get_type ())
G_DECLARE_FINAL_TYPE (BoardScalarsView, board_scalars_view, BOARD, SCALARS_VIEW, GtkBox)

GtkWidget *board_scalars_view_new (BoardDataset *ds, BoardChartSettings *settings);
void board_scalars_view_focus_filter (BoardScalarsView *v);
/* The logdirs shown, for the empty state's text (NULL or empty: none). */
void board_scalars_view_set_logdirs (BoardScalarsView *v, const char *const *logdirs);
/* The empty state's text when it is shown, else "". */
const char *board_scalars_view_get_empty_text (BoardScalarsView *v);
/* The chart of `tag`, or the first chart when tag is NULL; NULL if none. */
BoardScalarChart *board_scalars_view_get_chart (BoardScalarsView *v, const char *tag);
/* Whether some chart drew data (or the first load found no scalars). */
gboolean board_scalars_view_is_ready (BoardScalarsView *v);
/* Whether some chart has drawn data yet, complete or not. */
gboolean board_scalars_view_is_drawn (BoardScalarsView *v);
/* The smoothing slider (tests and the state dump). */
GtkRange *board_scalars_view_get_smoothing_range (BoardScalarsView *v);

G_END_DECLS
