/* StudioInspector: the selected node's name, op, device, validation
 * message, ports, attrs (each with a widget that fits its type: a dtype
 * menu, a shape entry such as "[?,784]", a switch, number and list
 * entries, a values entry for Const tensors such as "[[1, 2], [3, 4]]",
 * text format for the rest) and its op's documentation.  Edits go
 * through the document (so they undo); a value that does not parse is
 * refused in place with the reason. */
#pragma once

#include <gtk/gtk.h>

#include "studio-document.h"

G_BEGIN_DECLS

#define STUDIO_TYPE_INSPECTOR (studio_inspector_get_type ())
G_DECLARE_FINAL_TYPE (StudioInspector, studio_inspector, STUDIO, INSPECTOR, GtkBox)

GtkWidget *studio_inspector_new (StudioDocument *doc);
/* Shows `name` (NULL: nothing selected). */
void studio_inspector_show (StudioInspector *ins, const char *name);

/* The text an attr widget shows for a value, and the AttrValue text
 * format for what the user typed (NULL + error when it does not parse);
 * exposed for tests.  dtype: the element type of a tensor value. */
char *studio_attr_to_entry (sl_attr_type type, const Tensorflow__AttrValue *v);
char *studio_attr_from_entry (sl_attr_type type, const char *text, sl_dtype dtype, GError **error);

G_END_DECLS
