/* StudioProblems: the list of nodes validation found wrong (errors and
 * unknown ops), kept current with the document; activating a row emits
 * "activated" with the node name so the window can jump to it. */
#pragma once

#include <gtk/gtk.h>

#include "studio-document.h"

G_BEGIN_DECLS

#define STUDIO_TYPE_PROBLEMS (studio_problems_get_type ())
G_DECLARE_FINAL_TYPE (StudioProblems, studio_problems, STUDIO, PROBLEMS, GtkBox)

GtkWidget *studio_problems_new (StudioDocument *doc);

G_END_DECLS
