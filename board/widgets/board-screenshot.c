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
    GError *why = NULL;
    if (node) {
        GskRenderer *r = gtk_native_get_renderer (gtk_widget_get_native (widget));
        GdkTexture *tex = r ? gsk_renderer_render_texture (r, node, &GRAPHENE_RECT_INIT (0, 0, w, h))
                            : NULL;
        /* encode, then write, so a failure says which */
        GBytes *png = tex ? gdk_texture_save_to_png_bytes (tex) : NULL;
        if (png)
            ok = g_file_set_contents (path, g_bytes_get_data (png, NULL),
                                      (gssize) g_bytes_get_size (png), &why);
        else
            g_set_error (&why, G_IO_ERROR, G_IO_ERROR_FAILED, tex ? "the PNG encoder failed"
                                                                  : "nothing rendered");
        if (png)
            g_bytes_unref (png);
        if (tex)
            g_object_unref (tex);
        gsk_render_node_unref (node);
    } else {
        g_set_error (&why, G_IO_ERROR, G_IO_ERROR_FAILED, "the window drew nothing");
    }
    g_object_unref (p);
    if (!ok) {
        g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, "cannot write '%s': %s", path,
                     why ? why->message : "unknown error");
        g_clear_error (&why);
    }
    return ok;
}
