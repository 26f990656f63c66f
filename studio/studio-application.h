/* StudioApplication: `sluice-studio [GRAPH]`.  Sets the dark theme and
 * the shortcuts of the window's actions, opens each graph given in a
 * window, and with --screenshot FILE lays the graph out, renders the
 * window to a PNG and quits (--select NODE, --size WxH, --collapse SCOPES,
 * --zoom SCALE: the selected node in the middle at that scale). */
#pragma once

#include <gtk/gtk.h>

G_BEGIN_DECLS

#define STUDIO_TYPE_APPLICATION (studio_application_get_type ())
G_DECLARE_FINAL_TYPE (StudioApplication, studio_application, STUDIO, APPLICATION, GtkApplication)

StudioApplication *studio_application_new (void);

G_END_DECLS
