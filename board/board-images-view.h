/* BoardImagesView: one card per (run, tag) image series with a step
 * slider and an actual-size toggle; images are decoded off the main
 * thread, so a 100 MB image never freezes the window. */
#pragma once

#include <gtk/gtk.h>

#include "board-dataset.h"

G_BEGIN_DECLS

#define BOARD_TYPE_IMAGES_VIEW (board_images_view_get_type ())
G_DECLARE_FINAL_TYPE (BoardImagesView, board_images_view, BOARD, IMAGES_VIEW, GtkBox)

GtkWidget *board_images_view_new (BoardDataset *ds);
/* Appends "image=TAG WxH STATE" per card to s, STATE one of empty,
 * decoding, shown or error (for the state dump). */
void board_images_view_describe (BoardImagesView *v, GString *s);

G_END_DECLS
