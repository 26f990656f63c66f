/* BoardApplication: `sluice-board LOGDIR...`: options, app actions and
 * shortcuts, and the headless capture (--screenshot FILE [--view V]). */
#pragma once

#include <gtk/gtk.h>

G_BEGIN_DECLS

#define BOARD_TYPE_APPLICATION (board_application_get_type ())
G_DECLARE_FINAL_TYPE (BoardApplication, board_application, BOARD, APPLICATION, GtkApplication)

BoardApplication *board_application_new (void);

G_END_DECLS
