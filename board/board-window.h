/* BoardWindow: the main window: the runs panel beside a stack of views
 * (scalars, histograms, distributions, images, text, graph), a banner
 * naming damaged files, and the window actions with their shortcuts. */
#pragma once

#include <gtk/gtk.h>

#include "board-dataset.h"
#include "board-graph-page.h"
#include "board-scalars-view.h"

G_BEGIN_DECLS

#define BOARD_TYPE_WINDOW (board_window_get_type ())
G_DECLARE_FINAL_TYPE (BoardWindow, board_window, BOARD, WINDOW, GtkApplicationWindow)

/* logdirs: NULL-terminated; may be empty (then Ctrl+O opens one). */
BoardWindow *board_window_new (GtkApplication *app, const char *const *logdirs);

BoardDataset *board_window_get_dataset (BoardWindow *w);
BoardScalarsView *board_window_get_scalars (BoardWindow *w);
BoardGraphPage *board_window_get_graph_page (BoardWindow *w);
/* "scalars", "histograms", "distributions", "images", "text", "graph" */
void board_window_set_view (BoardWindow *w, const char *name);
const char *board_window_get_view (BoardWindow *w);
/* Whether the current view shows its first complete picture. */
gboolean board_window_is_ready (BoardWindow *w);
/* Writes the state (view, smoothing, runs, graph nodes on screen with
 * their rectangles in window coordinates) as key=value lines. */
gboolean board_window_dump_state (BoardWindow *w, const char *path, GError **error);
/* The text of the damaged-files banner ("" when hidden). */
const char *board_window_get_warning (BoardWindow *w);

/* Whether changes to the settings are saved to board.ini (default TRUE;
 * --screenshot and --bench read the remembered settings but write none). */
void board_window_set_remember (BoardWindow *w, gboolean remember);

G_END_DECLS
