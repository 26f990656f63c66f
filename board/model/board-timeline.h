/* The timeline's model: one traced step (TF's RunMetadata.step_stats, as
 * Event.tagged_run_metadata) as lanes of node executions, the paper's
 * EEG view.
 *
 * A lane is one (device, thread): the nodes that thread ran on that
 * device.  Devices sort CPU first, then GPU, then any other type, each by
 * job, task and index; a device's lanes sort by thread id.  Executions
 * that overlap within a lane go to further rows of the lane, so no bar
 * hides another: kernels first, then the _Send/_Recv (an asynchronous
 * _Recv waits while the thread runs other kernels) in the kernels' rows
 * where those are free, else in rows of their own below.
 *
 * Times are microseconds from the step's start (the smallest
 * all_start_micros of any node); the *_nanos fields are used where a
 * writer filled only those.  A node's op comes from its timeline_label
 * ("name = Op(inputs)", TF's format) when there is one, else from the
 * run's graph (name -> op), else from the names the partitioner gives
 * the nodes it adds (".../_send_K_to_D" is a _Send, ".../_recv_K_on_D" a
 * _Recv, ".../_control_token" a Const).
 *
 * No GTK: tests drive it without a display.
 * Thread-safety: a BoardTimelineStep is plain data, built on any thread
 * and then only read.
 */
#pragma once

#include <glib.h>

#include "board-dataset.h"

G_BEGIN_DECLS

typedef struct {
    char *name;           /* node name */
    char *op;             /* op type; "" when unknown */
    char *label;          /* timeline_label as written ("" when none) */
    double start_us;      /* from the step's start */
    double dur_us;        /* all_end_rel (>= 0) */
    double op_start_us;   /* op_start_rel / op_end_rel, relative to start_us */
    double op_end_us;
    guint32 thread;
    int lane;             /* index in BoardTimelineStep.lanes */
    int row;              /* row within the lane */
    gint64 output_bytes;  /* sum of the outputs' allocated (or requested) bytes; 0 if unknown */
    gint64 peak_bytes;    /* largest allocator peak reported for the node; 0 if unknown */
    gboolean transfer;    /* a _Send or _Recv: a copy between devices */
} BoardTimelineNode;

typedef struct {
    char *device;         /* full name, as written */
    char *device_short;   /* "GPU:0"; "worker:1/GPU:0" outside job localhost */
    char *label;          /* the lane's label: "GPU:0", or "CPU:0 t3" when the device
                             has more than one thread */
    char *thread_name;    /* DeviceStepStats.thread_names[thread], or NULL */
    guint32 thread;
    int n_rows;           /* >= 1 */
    int n_compute_rows;   /* rows 0..n_compute_rows-1 hold the kernels; the rows after
                             them only _Send/_Recv that overlap them (waiting copies) */
    double busy_us;       /* the union of its kernels' intervals (copies, which mostly
                             wait, not counted) */
    GArray *nodes;        /* int: indices into BoardTimelineStep.nodes, start order */
} BoardTimelineLane;

typedef struct {
    char *run;
    char *tag;
    gint64 step;          /* the event's step */
    gint64 start_micros;  /* absolute start (microseconds since the epoch) */
    double span_us;       /* the last node's end */
    GPtrArray *lanes;     /* BoardTimelineLane* in display order */
    GArray *nodes;        /* BoardTimelineNode, by lane then start */
    int n_devices;
} BoardTimelineStep;

/* The traced steps of a run: its RUN_METADATA series, one entry per tag,
 * in step order (tags "stepN" by N, others by their point's step). */
typedef struct {
    char *tag;
    gint64 step;
    GBytes *bytes;        /* the serialized RunMetadata; a reference */
} BoardTimelineRef;

void board_timeline_ref_free (BoardTimelineRef *r);
/* A new array of BoardTimelineRef* (freeing them), possibly empty. */
GPtrArray *board_timeline_refs_of_run (BoardRun *run);
/* The serialized GraphDef of the run (its "__run_graph__" series' last
 * point), a new reference, or NULL. */
GBytes *board_timeline_graph_of_run (BoardRun *run);

/* node name -> op type of a serialized binary GraphDef; NULL when the
 * bytes are no GraphDef.  Free with g_hash_table_unref. */
GHashTable *board_timeline_ops_from_graph (const void *data, gsize size);

/* Decodes a serialized RunMetadata.  `ops` (may be NULL) maps node names
 * to op types.  `run` and `tag` name the data in errors.  Returns NULL
 * with an error naming the run and the tag when the bytes are no
 * RunMetadata or hold no step statistics. */
BoardTimelineStep *board_timeline_step_decode (const void *data, gsize size, GHashTable *ops,
                                               const char *run, const char *tag, gint64 step,
                                               GError **error);
void board_timeline_step_free (BoardTimelineStep *s);

/* The node a lane's row shows at time t (µs from the step's start), or
 * -1.  Bars narrower than `slack_us` count as that wide, centered on
 * their start, so a thin bar can be hovered; the nearest one wins. */
int board_timeline_step_node_at (const BoardTimelineStep *s, int lane, int row, double t,
                                 double slack_us);

/* "GPU:0" for "/job:localhost/replica:0/task:0/device:GPU:0",
 * "worker:1/GPU:0" for job worker, task 1; the name as given when it is
 * no device name.  Newly allocated. */
char *board_timeline_device_short (const char *device);

/* The op of a node without a label or graph entry, from the names the
 * partitioner gives (see above); NULL when the name tells nothing. */
const char *board_timeline_op_from_name (const char *name);

/* A stable fill color (0xRRGGBB) for an op type, light enough for dark
 * text; the same op always has the same color. */
guint32 board_timeline_op_color (const char *op);

/* "850 µs", "1.25 ms", "2.5 s": a duration for people.  Newly allocated. */
char *board_timeline_format_us (double us);

G_END_DECLS
