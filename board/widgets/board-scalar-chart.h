/* BoardScalarChart: one tag's line chart across runs.
 *
 * Draws every visible run's series of its tag (or, with grouping on, each
 * group's mean and band), smoothed by the shared settings, reduced per
 * pixel column.  Drag to zoom (a rectangle), shift-drag or middle-drag to
 * pan, scroll to pan, ctrl-scroll to zoom, double-click to reset; hovering
 * shows every run's nearest value, nearest first.  Live updates keep the
 * zoom.
 */
#pragma once

#include <gtk/gtk.h>

#include "board-chart-settings.h"
#include "board-dataset.h"

G_BEGIN_DECLS

#define BOARD_TYPE_SCALAR_CHART (board_scalar_chart_get_type ())
G_DECLARE_FINAL_TYPE (BoardScalarChart, board_scalar_chart, BOARD, SCALAR_CHART, GtkWidget)

GtkWidget *board_scalar_chart_new (BoardDataset *ds, BoardChartSettings *settings,
                                   const char *tag);

const char *board_scalar_chart_get_tag (BoardScalarChart *chart);

/* Raw points of the visible runs' series of the tag (what a user would
 * call the chart's point count); updated as data arrives. */
gint64 board_scalar_chart_get_point_count (BoardScalarChart *chart);

/* Whether it has drawn at least once with data. */
gboolean board_scalar_chart_has_drawn_data (BoardScalarChart *chart);

/* Zoom to a data rectangle, and back. */
void board_scalar_chart_zoom (BoardScalarChart *chart, double x0, double x1, double y0, double y1);
void board_scalar_chart_reset_zoom (BoardScalarChart *chart);
/* The data range shown now (zoomed or fitted), in the axes' units. */
void board_scalar_chart_get_range (BoardScalarChart *chart, double *x0, double *x1, double *y0,
                                   double *y1);

/* Exports every point of each visible run as "<dir>/<tag>_<run>.csv"
 * (or .json); returns the number of files written. */
int board_scalar_chart_export_series (BoardScalarChart *chart, const char *dir, gboolean json,
                                      GError **error);

/* Writes the chart as PNG or SVG (by the file name), width x height. */
gboolean board_scalar_chart_export_image (BoardScalarChart *chart, const char *path, int width,
                                          int height, GError **error);

G_END_DECLS
