/* Training setup: what the Run dialog asks for, guessed from the graph,
 * written as the run spec `sluice train` reads (engine/proto/run_spec.proto,
 * text format).
 *
 * The guess: every Placeholder is an input (a bool one named like
 * "training" is the training flag instead); its feature is "image" or
 * "label" for MNIST when its name says so, else its own name; the loss is
 * "loss", else "loss/mean", else the last node whose name starts with
 * "loss"; the metric is "accuracy" (or "accuracy/mean") when the graph
 * has it.  GLib only, no display.
 *
 * Thread-safety: a setup is a plain struct; one thread at a time.
 */
#pragma once

#include <glib.h>

#include "studio-cluster.h"
#include "studio-document.h"

G_BEGIN_DECLS

typedef enum {
    STUDIO_DATA_MNIST,
    STUDIO_DATA_TFRECORD,
    STUDIO_DATA_CSV,
} StudioDataKind;

typedef struct {
    StudioDataKind kind;
    char *data_path;        /* MNIST folder, or a TFRecord / CSV file */
    gboolean csv_header;
    char **placeholders;    /* NULL-terminated, parallel to features */
    char **features;
    char *training_flag;    /* or NULL */
    char *loss;
    char *metric;           /* scalar tensor, or NULL / "" for none */
    char *optimizer;        /* sgd, momentum, adam, adagrad, rmsprop */
    double learning_rate;
    gint64 steps;
    int batch_size;
    gint64 summary_every;
    gint64 checkpoint_every;
    gint64 trace_every;     /* per-op times (step statistics) every N steps; 0: never */
    StudioTarget *target;   /* where to train (studio-cluster.h); NULL: this computer */
} StudioRunSetup;

StudioRunSetup *studio_run_setup_guess (StudioDocument *doc);
void studio_run_setup_free (StudioRunSetup *s);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (StudioRunSetup, studio_run_setup_free)

/* The run spec text: graph and run_dir relative to the spec's folder
 * ("graph.pb", "."); NULL + error when the setup is incomplete (no data,
 * no loss, no inputs, steps or batch below 1). */
char *studio_run_setup_to_spec (const StudioRunSetup *s, const char *graph_file, GError **error);

G_END_DECLS
