/* Rendering a widget (a whole window, or one view) to a PNG file from
 * inside the app, with the widget's own renderer: the headless capture of
 * `sluice-board --screenshot`, the screenshot action, and the tests. */
#pragma once

#include <gtk/gtk.h>

G_BEGIN_DECLS

gboolean board_screenshot_widget (GtkWidget *widget, const char *path, GError **error);

G_END_DECLS
