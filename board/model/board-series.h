/* One (run, tag) series as the board holds it on the main thread.
 *
 * The loader thread copies what the summaries library read into plain
 * arrays here (columns, so charts walk doubles without strides), and the
 * charts read them.  A scalar series keeps every point; the smoothed
 * values are cached per weight.  Other kinds keep one BoardBlob per
 * point: histogram rows, an encoded image, text, or a serialized graph.
 *
 * Thread-safety: main thread only (the loader hands over copies).
 */
#pragma once

#include <glib.h>

#include "board-downsample.h"

G_BEGIN_DECLS

/* The kinds of summaries/series.h, with the same numbers. */
typedef enum {
    BOARD_KIND_UNKNOWN = 0,
    BOARD_KIND_SCALAR = 1,
    BOARD_KIND_HISTOGRAM = 2,
    BOARD_KIND_IMAGE = 3,
    BOARD_KIND_TEXT = 4,
    BOARD_KIND_GRAPH = 5,
    BOARD_KIND_META_GRAPH = 6,
    BOARD_KIND_RUN_METADATA = 7,
    BOARD_KIND_AUDIO = 8,
    BOARD_KIND_TENSOR = 9,
} BoardKind;

typedef enum {
    BOARD_X_STEP = 0,
    BOARD_X_RELATIVE = 1,   /* hours since the run's first event (seconds internally) */
    BOARD_X_WALL = 2,       /* seconds since the epoch */
} BoardXAxis;

/* A non-scalar point. */
typedef struct {
    gint64 step;
    double wall_time;
    double *buckets;   /* HISTOGRAM: n_buckets rows of [left, right, count]; owned */
    gint64 n_buckets;
    GBytes **blobs;    /* IMAGE, AUDIO, TEXT, GRAPH...: n_blobs encoded blobs; owned refs */
    int n_blobs;
    int width;         /* IMAGE */
    int height;
} BoardBlob;

void board_blob_free (BoardBlob *b);

typedef struct _BoardSeries BoardSeries;

struct _BoardSeries {
    char *tag;
    BoardKind kind;
    char *plugin;
    /* SCALAR: n points as columns */
    GArray *steps;     /* gint64 */
    GArray *step_x;    /* double: steps as doubles */
    GArray *wall;      /* double */
    GArray *values;    /* double; NaN allowed */
    /* other kinds */
    GPtrArray *blobs;  /* BoardBlob*, step order */
    guint version;     /* bumped on every change */
    /* caches */
    GArray *smoothed;  /* double; valid for smoothed_weight/smoothed_version */
    double smoothed_weight;
    guint smoothed_version;
    GArray *rel_x;     /* double: wall - start, for relative x */
    double rel_start;
    guint rel_version;
    GArray *log_x;     /* double: log10 of an x column, for a log x axis */
    const double *log_x_of;
    double log_x_start;
    guint log_x_version;
    /* min/max pyramids: [0] of the values, [1] of the smoothed values */
    struct {
        BoardMinMaxPyramid *pyramid;
        const double *x;
        guint version;
        double weight;
        double x_start;
    } pyr[2];
};

BoardSeries *board_series_new (const char *tag, BoardKind kind, const char *plugin);
void board_series_free (BoardSeries *s);

/* Number of points (scalars or blobs). */
size_t board_series_count (const BoardSeries *s);

/* Appends n scalar points; step order is the caller's (the loader's). */
void board_series_append_scalars (BoardSeries *s, const gint64 *steps, const double *walls,
                                  const double *values, size_t n);
/* Like board_series_append_scalars() with arrays (gint64, double,
 * double, double: steps, the steps as doubles or NULL, wall times,
 * values) of n points each; an empty series takes the arrays themselves
 * and hands back its own empty ones, so a run's first read is not copied
 * again on the main thread. */
void board_series_take_scalars (BoardSeries *s, GArray **steps, GArray **step_x, GArray **walls,
                                GArray **values);
/* Drops every point (a series the loader replaces as a whole). */
void board_series_clear (BoardSeries *s);
/* Appends a blob point; takes ownership of b. */
void board_series_append_blob (BoardSeries *s, BoardBlob *b);

/* The smoothed values (board_smooth_ema) for weight w; borrowed until the
 * series changes.  Cached: recomputed only when w or the points change. */
const double *board_series_smoothed (BoardSeries *s, double w);

/* The x column for `axis`: steps, seconds since `run_start`, or wall
 * time.  Borrowed until the series changes. */
const double *board_series_x (BoardSeries *s, BoardXAxis axis, double run_start);

/* log10 of board_series_x (s, axis, run_start), -inf where x <= 0 (a
 * log x axis).  Cached like it. */
const double *board_series_log_x (BoardSeries *s, BoardXAxis axis, double run_start);

/* The min/max pyramid (board-downsample.h) of the values, or with
 * `smoothed` of board_series_smoothed (s, w), over `x`: one of the columns
 * board_series_x() or board_series_log_x() returned for the same axis and
 * run_start, still valid.  Built on first use and cached (one per kind)
 * until the points, w or x change, so a chart's frame reduces every series
 * in O(columns log n).  Borrowed. */
const BoardMinMaxPyramid *board_series_pyramid (BoardSeries *s, const double *x, double run_start,
                                                gboolean smoothed, double w);

/* Writes every point as TensorBoard's CSV ("Wall time,Step,Value" then one
 * row per point, values with 17 significant digits) or JSON ([[wall, step,
 * value], ...], NaN as null) into out. */
void board_series_write_csv (const BoardSeries *s, GString *out);
void board_series_write_json (const BoardSeries *s, GString *out);

/* The group a tag belongs to in the dashboards: the part before its first
 * '/', or the whole tag.  Newly allocated. */
char *board_tag_group (const char *tag);

G_END_DECLS
