/* StudioPalette: every op of the registry and the layer and model
 * templates, searchable.  Activating a row (click, Enter in the search
 * entry on the first match) emits "activated" with "op:<Name>" or
 * "template:<id>".  A dtype filter keeps only ops with an input that
 * takes that dtype (for a wire dropped on empty space).  The same widget
 * serves as the side palette and inside the search-to-add popover. */
#pragma once

#include <gtk/gtk.h>

#include "sluice/dtype.h"

G_BEGIN_DECLS

#define STUDIO_TYPE_PALETTE (studio_palette_get_type ())
G_DECLARE_FINAL_TYPE (StudioPalette, studio_palette, STUDIO, PALETTE, GtkBox)

GtkWidget *studio_palette_new (void);
GtkEditable *studio_palette_get_search (StudioPalette *p);
/* SL_DTYPE_INVALID: no filter. */
void studio_palette_set_dtype_filter (StudioPalette *p, sl_dtype dtype);
/* Clears the search text and filter. */
void studio_palette_reset (StudioPalette *p);

G_END_DECLS
