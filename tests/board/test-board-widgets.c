/* Widget drawing without a display: the chart renderer on a cairo image
 * surface keeps a one-point spike among 100,000 points visible, and
 * exports PNG and SVG; and, under a display (else skipped, 77), a real
 * BoardScalarChart in a window reports its point count and draws. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <math.h>

#include <glib/gstdio.h>

#include "board-chart-render.h"
#include "board-scalar-chart.h"

enum { N = 100000, W = 600, H = 300 };

static void
test_render_keeps_spike (void **state)
{
    double *x = g_new (double, N), *y = g_new (double, N);
    for (int i = 0; i < N; i++) {
        x[i] = i;
        y[i] = 0.1 * sin (i * 0.01);
    }
    y[54321] = 10;   /* the spike */
    BoardChartLine line = { x, y, NULL, NULL, NULL, NULL, N, 0xff0000, "run", NULL, NULL, NULL };
    BoardChartView view = { 0 };
    view.title = "loss";
    view.opaque_background = TRUE;
    view.bg[0] = view.bg[1] = view.bg[2] = 1;
    cairo_surface_t *s = cairo_image_surface_create (CAIRO_FORMAT_ARGB32, W, H);
    cairo_t *cr = cairo_create (s);
    BoardChartFrame f;
    board_chart_compute_frame (&line, 1, &view, W, H, &f);
    assert_true (f.y1 >= 10);   /* the y range holds the spike */
    size_t drawn = board_chart_render (cr, W, H, &line, 1, &view, &f);
    assert_true (drawn <= 4 * (size_t) (f.right - f.left) + 2);
    cairo_surface_flush (s);
    /* a red pixel near the top of the plot, at the spike's column */
    int col = (int) board_chart_x_to_px (&f, &view, 54321);
    int top = (int) board_chart_y_to_px (&f, &view, 10);
    unsigned char *d = cairo_image_surface_get_data (s);
    int stride = cairo_image_surface_get_stride (s);
    gboolean red = FALSE;
    for (int yy = top - 2; yy <= top + 3; yy++)
        for (int xx = col - 2; xx <= col + 2; xx++) {
            guint32 px = *(guint32 *) (d + yy * stride + xx * 4);
            if (((px >> 16) & 0xff) > 200 && ((px >> 8) & 0xff) < 120)
                red = TRUE;
        }
    assert_true (red);
    cairo_destroy (cr);
    cairo_surface_destroy (s);

    char *dir = g_dir_make_tmp ("board-widgets-XXXXXX", NULL);
    char *png = g_build_filename (dir, "c.png", NULL), *svg = g_build_filename (dir, "c.svg", NULL);
    assert_true (board_chart_export_image (png, 400, 250, &line, 1, &view, NULL));
    assert_true (board_chart_export_image (svg, 400, 250, &line, 1, &view, NULL));
    assert_true (g_file_test (png, G_FILE_TEST_EXISTS) && g_file_test (svg, G_FILE_TEST_EXISTS));
    g_remove (png);
    g_remove (svg);
    g_rmdir (dir);
    g_free (png);
    g_free (svg);
    g_free (dir);
    g_free (x);
    g_free (y);
}

static void
test_chart_widget_in_window (void **state)
{
    BoardDataset *ds = board_dataset_new ();
    BoardChartSettings *settings = board_chart_settings_new ();
    GtkWidget *win = gtk_window_new ();
    GtkWidget *chart = board_scalar_chart_new (ds, settings, "loss");
    gtk_window_set_child (GTK_WINDOW (win), chart);
    gtk_window_set_default_size (GTK_WINDOW (win), 500, 300);
    gtk_window_present (GTK_WINDOW (win));
    BoardUpdate *u = board_update_new ();
    board_update_add_run (u, "a", "/logs/a", 0);
    BoardSeriesDelta *d = board_update_add_delta (u, "a", "loss", BOARD_KIND_SCALAR, "scalars", FALSE);
    for (int i = 0; i < 500; i++) {
        gint64 step = i;
        double wall = i, v = 1.0 / (1 + i);
        g_array_append_val (d->steps, step);
        g_array_append_val (d->wall, wall);
        g_array_append_val (d->values, v);
    }
    board_dataset_apply (ds, u);
    gtk_test_widget_wait_for_draw (chart);
    for (int i = 0; i < 50 && !board_scalar_chart_has_drawn_data (BOARD_SCALAR_CHART (chart)); i++)
        g_main_context_iteration (NULL, FALSE);
    assert_int_equal (board_scalar_chart_get_point_count (BOARD_SCALAR_CHART (chart)), 500);
    BoardRun *run = board_dataset_find_run (ds, "a");
    board_run_set_visible (run, FALSE);
    assert_int_equal (board_scalar_chart_get_point_count (BOARD_SCALAR_CHART (chart)), 0);
    gtk_window_destroy (GTK_WINDOW (win));
    g_object_unref (settings);
    g_object_unref (ds);
}

int
main (int argc, char **argv)
{
    const struct CMUnitTest headless[] = { cmocka_unit_test (test_render_keeps_spike) };
    int rc = cmocka_run_group_tests_name ("board-widgets-headless", headless, NULL, NULL);
    if (rc)
        return rc;
    if (!g_getenv ("DISPLAY") && !g_getenv ("WAYLAND_DISPLAY"))
        return 77;
    gtk_init ();
    const struct CMUnitTest display[] = { cmocka_unit_test (test_chart_widget_in_window) };
    return cmocka_run_group_tests_name ("board-widgets-display", display, NULL, NULL);
}
