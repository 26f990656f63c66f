/* BoardHistogramsView: one card per (run, tag) histogram series, drawn
 * offset (ridgeline) or overlaid, or as TensorBoard's distributions. */
#pragma once

#include <gtk/gtk.h>

#include "board-dataset.h"
#include "board-histogram-chart.h"

G_BEGIN_DECLS

#define BOARD_TYPE_HISTOGRAMS_VIEW (board_histograms_view_get_type ())
G_DECLARE_FINAL_TYPE (BoardHistogramsView, board_histograms_view, BOARD, HISTOGRAMS_VIEW, GtkBox)

/* distributions: TRUE for the distributions dashboard. */
GtkWidget *board_histograms_view_new (BoardDataset *ds, gboolean distributions);
guint board_histograms_view_get_card_count (BoardHistogramsView *v);

G_END_DECLS
