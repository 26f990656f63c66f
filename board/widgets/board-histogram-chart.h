/* BoardHistogramChart: one (run, tag) histogram series, drawn as
 * TensorBoard does: OFFSET (a ridgeline, oldest step at the back, newest
 * most salient), OVERLAY (every step a line on one plot), or DISTRIBUTION
 * (the nine percentile bands of board-distribution, over steps).  Reads
 * TF1 HistogramProto and TF2 [k,3] tensors alike (the summaries library
 * gives both as rows).
 */
#pragma once

#include <gtk/gtk.h>

#include "board-series.h"

G_BEGIN_DECLS

typedef enum {
    BOARD_HISTOGRAM_OFFSET = 0,
    BOARD_HISTOGRAM_OVERLAY = 1,
    BOARD_HISTOGRAM_DISTRIBUTION = 2,
} BoardHistogramMode;

#define BOARD_TYPE_HISTOGRAM_CHART (board_histogram_chart_get_type ())
G_DECLARE_FINAL_TYPE (BoardHistogramChart, board_histogram_chart, BOARD, HISTOGRAM_CHART,
                      GtkWidget)

/* `series` is borrowed and must outlive the widget (the dataset keeps it). */
GtkWidget *board_histogram_chart_new (BoardSeries *series, const char *title, guint32 color,
                                      BoardHistogramMode mode);
void board_histogram_chart_set_mode (BoardHistogramChart *c, BoardHistogramMode mode);
/* The series changed: redraw. */
void board_histogram_chart_refresh (BoardHistogramChart *c);

/* Draws without a widget (tests, exports); fg is the text color. */
void board_histogram_render (cairo_t *cr, int width, int height, BoardSeries *series,
                             const char *title, guint32 color, BoardHistogramMode mode,
                             const double fg[3]);

G_END_DECLS
