/* Drawing a line chart with cairo: axes, grid, lines reduced per pixel
 * column, group bands, the zoom rectangle and the hover tooltip.
 *
 * The same code draws on screen (BoardScalarChart's snapshot) and into
 * PNG and SVG files (export), and runs in tests on an image surface
 * without a display.
 *
 * Thread-safety: pure functions of their arguments.
 */
#pragma once

#include <cairo.h>
#include <glib.h>

#include "board-downsample.h"
#include "board-series.h"

G_BEGIN_DECLS

/* Above this many lines in a chart, the raw values behind smoothed lines
 * are not drawn (they would cover the plot in gray and double the cost of
 * a frame). */
#define BOARD_CHART_MAX_RAW_LINES 24

typedef struct {
    const double *x;        /* ascending */
    const double *y;        /* drawn line (smoothed) */
    const double *raw_y;    /* raw values drawn faint behind, or NULL */
    const double *band_lo;  /* group band, or NULL */
    const double *band_hi;
    const double *steps;    /* for the tooltip, or NULL */
    size_t n;
    guint32 color;          /* 0xRRGGBB */
    const char *name;
    /* optional helpers, kept by the caller (board_series_log_x and
     * board_series_pyramid make them); NULL: computed per frame */
    const double *log_x;                  /* log10 (x), -inf where x <= 0 */
    const BoardMinMaxPyramid *y_pyramid;  /* of y over x (log_x on a log x axis) */
    const BoardMinMaxPyramid *raw_pyramid;  /* of raw_y, likewise */
} BoardChartLine;

typedef struct {
    const char *title;
    BoardXAxis x_axis;
    gboolean log_x;
    gboolean log_y;
    gboolean ignore_outliers;
    gboolean zoomed;            /* use vx0..vy1 instead of the data's extent */
    double vx0, vx1, vy0, vy1;
    gboolean hover;             /* draw the tooltip for the cursor at hover_px/py */
    double hover_px, hover_py;
    gboolean selecting;         /* draw the zoom rectangle */
    double sel_x0, sel_y0, sel_x1, sel_y1;
    double fg[3];               /* text color, 0..1 */
    gboolean opaque_background; /* paint a background (exports) */
    double bg[3];
} BoardChartView;

/* Where the plot is and which data range it shows. */
typedef struct {
    double x0, x1, y0, y1;                 /* data range (not log-transformed) */
    double left, top, right, bottom;       /* plot rectangle in pixels */
    gboolean empty;                        /* nothing to draw */
} BoardChartFrame;

/* Computes the frame for a chart of width x height pixels. */
void board_chart_compute_frame (const BoardChartLine *lines, size_t n_lines,
                                const BoardChartView *view, int width, int height,
                                BoardChartFrame *frame);

/* Pixel <-> data along each axis of the frame (log axes included). */
double board_chart_x_to_px (const BoardChartFrame *f, const BoardChartView *v, double x);
double board_chart_y_to_px (const BoardChartFrame *f, const BoardChartView *v, double y);
double board_chart_px_to_x (const BoardChartFrame *f, const BoardChartView *v, double px);
double board_chart_px_to_y (const BoardChartFrame *f, const BoardChartView *v, double py);

/* Draws the chart.  Returns the number of points drawn after reduction
 * (for tests and statistics). */
size_t board_chart_render (cairo_t *cr, int width, int height, const BoardChartLine *lines,
                           size_t n_lines, const BoardChartView *view,
                           const BoardChartFrame *frame);

/* Writes the chart to a PNG (or, when the name ends in .svg, an SVG). */
gboolean board_chart_export_image (const char *path, int width, int height,
                                   const BoardChartLine *lines, size_t n_lines,
                                   const BoardChartView *view, GError **error);

G_END_DECLS
