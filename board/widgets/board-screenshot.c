/* In-app screenshots (TOOLCHAIN.md §4's recipe). */
#include "board-screenshot.h"

gboolean
board_screenshot_widget (GtkWidget *widget, const char *path, GError **error)
{
    int w = gtk_widget_get_width (widget), h = gtk_widget_get_height (widget);
    if (w <= 0 || h <= 0) {
        g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, "cannot capture '%s': not shown", path);
        return FALSE;
    }
    GdkPaintable *p = gtk_widget_paintable_new (widget);
    GtkSnapshot *s = gtk_snapshot_new ();
    gdk_paintable_snapshot (p, GDK_SNAPSHOT (s), w, h);
    GskRenderNode *node = gtk_snapshot_free_to_node (s);
    gboolean ok = FALSE;
    if (node) {
        GskRenderer *r = gtk_native_get_renderer (gtk_widget_get_native (widget));
        GdkTexture *tex = gsk_renderer_render_texture (r, node, &GRAPHENE_RECT_INIT (0, 0, w, h));
        ok = gdk_texture_save_to_png (tex, path);
        g_object_unref (tex);
        gsk_render_node_unref (node);
    }
    g_object_unref (p);
    if (!ok)
        g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, "cannot write '%s'", path);
    return ok;
}
