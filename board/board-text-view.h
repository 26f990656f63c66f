/* BoardTextView: text summaries, one card per (run, tag), newest step
 * first, whitespace kept, selectable. */
#pragma once

#include <gtk/gtk.h>

#include "board-dataset.h"

G_BEGIN_DECLS

#define BOARD_TYPE_TEXT_VIEW (board_text_view_get_type ())
G_DECLARE_FINAL_TYPE (BoardTextView, board_text_view, BOARD, TEXT_VIEW, GtkBox)

GtkWidget *board_text_view_new (BoardDataset *ds);

G_END_DECLS
