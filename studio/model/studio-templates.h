/* Layer and model templates: named subgraphs a user adds in one step.
 *
 * A layer template (dense, conv2d, max pooling, dropout) expands into
 * nodes under a fresh name scope ("dense", "dense_1", ...) written as TF
 * would write them: variables as VariableV2 with an Assign named
 * "<var>/Assign" from their initial value (the engine's
 * sl_variables_initializer() convention), so a run can initialize them.
 * It takes its input from a given output and sizes its variables from
 * that output's inferred shape.  A model template (the MNIST MLP) builds
 * a whole graph with inputs, layers and loss.
 *
 * Each template is one undoable edit, laid out with the board's layout
 * below or beside the point given.
 */
#pragma once

#include "studio-document.h"

G_BEGIN_DECLS

typedef struct {
    const char *id;           /* "dense", "conv2d", "maxpool", "dropout", "mnist-mlp" */
    const char *label;        /* "Dense layer" */
    const char *description;  /* one line for the palette */
    gboolean is_model;        /* a whole model rather than a layer */
} StudioTemplate;

/* The templates, in palette order; *n gets the count.  Static storage. */
const StudioTemplate *studio_templates (int *n);

/* Adds template `id` at (x, y).  input ("node" or "node:k", may be NULL)
 * feeds a layer; units sets a dense layer's width or a conv's filters (<= 0:
 * the template's default).  *out_output (may be NULL) gets the name of
 * the node whose output 0 is the layer's output, for chaining.  FALSE +
 * error for an unknown id or an input that does not exist. */
gboolean studio_template_apply (StudioDocument *doc, const char *id, const char *input, int units,
                                double x, double y, char **out_output, GError **error);

G_END_DECLS
