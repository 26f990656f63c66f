/* The scalar dashboard's settings, shared by every chart: smoothing,
 * x axis, log scales, outliers, run grouping.  One "changed" signal
 * tells the charts to redraw.
 *
 * Thread-safety: main thread only.
 */
#pragma once

#include <glib-object.h>

#include "board-run-groups.h"
#include "board-series.h"

G_BEGIN_DECLS

#define BOARD_TYPE_CHART_SETTINGS (board_chart_settings_get_type ())
G_DECLARE_FINAL_TYPE (BoardChartSettings, board_chart_settings, BOARD, CHART_SETTINGS, GObject)

BoardChartSettings *board_chart_settings_new (void);

double board_chart_settings_get_smoothing (BoardChartSettings *s);
void board_chart_settings_set_smoothing (BoardChartSettings *s, double w);
BoardXAxis board_chart_settings_get_x_axis (BoardChartSettings *s);
void board_chart_settings_set_x_axis (BoardChartSettings *s, BoardXAxis axis);
gboolean board_chart_settings_get_log_x (BoardChartSettings *s);
void board_chart_settings_set_log_x (BoardChartSettings *s, gboolean on);
gboolean board_chart_settings_get_log_y (BoardChartSettings *s);
void board_chart_settings_set_log_y (BoardChartSettings *s, gboolean on);
gboolean board_chart_settings_get_ignore_outliers (BoardChartSettings *s);
void board_chart_settings_set_ignore_outliers (BoardChartSettings *s, gboolean on);
BoardGroupMode board_chart_settings_get_group_mode (BoardChartSettings *s);
/* The regex of REGEX grouping; NULL when unset or invalid. */
GRegex *board_chart_settings_get_group_regex (BoardChartSettings *s);
/* Sets the mode and (for REGEX) the pattern; FALSE when the pattern does
 * not compile (the mode is kept, without a regex). */
gboolean board_chart_settings_set_grouping (BoardChartSettings *s, BoardGroupMode mode,
                                            const char *pattern);
BoardBandMode board_chart_settings_get_band (BoardChartSettings *s);
void board_chart_settings_set_band (BoardChartSettings *s, BoardBandMode band);

/* Bumped on every change; charts compare it to know when to rebuild. */
guint board_chart_settings_get_version (BoardChartSettings *s);

G_END_DECLS
