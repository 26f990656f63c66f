/* StudioWindow: one document in a window: the palette on the left, the
 * canvas with its problems list in the middle, the inspector on the
 * right; a header bar with open, save, undo, redo, arrange and run; the
 * search-to-add popover; a banner for refused edits and file errors.
 *
 * Window actions (shortcuts set by the application): win.open, win.save,
 * win.save-as, win.open-recent(s), win.undo, win.redo, win.delete, win.copy,
 * win.paste, win.duplicate, win.select-all, win.find, win.add-node,
 * win.arrange, win.fit, win.group, win.ungroup, win.run.
 *
 * Closing with unsaved changes asks whether to save, discard or stay;
 * opening a graph (win.open, win.open-recent) while there are unsaved
 * changes opens it in a new window, so they are kept.
 */
#pragma once

#include <gtk/gtk.h>

#include "studio-document.h"
#include "studio-graph-canvas.h"

G_BEGIN_DECLS

#define STUDIO_TYPE_WINDOW (studio_window_get_type ())
G_DECLARE_FINAL_TYPE (StudioWindow, studio_window, STUDIO, WINDOW, GtkApplicationWindow)

StudioWindow *studio_window_new (GtkApplication *app);
/* Opens a graph; a missing file becomes a new graph saved there later.
 * A file that cannot be read shows an error in the window and leaves the
 * current document as it was; returns FALSE then. */
gboolean studio_window_open (StudioWindow *w, const char *path);
StudioDocument *studio_window_get_document (StudioWindow *w);
StudioGraphCanvas *studio_window_get_canvas (StudioWindow *w);
void studio_window_select (StudioWindow *w, const char *name);
/* The banner's text ("" when hidden), for tests. */
const char *studio_window_get_banner (StudioWindow *w);
/* Whether the first layout and draw are done (for --screenshot). */
gboolean studio_window_is_ready (StudioWindow *w);

G_END_DECLS
