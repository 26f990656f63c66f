/* The scalar chart widget (see the header).  Lines are rebuilt when data
 * or settings change; hovering, zooming and panning reuse them, so a
 * frame costs the per-column reduction of what is on screen. */
#include "board-scalar-chart.h"

#include <math.h>
#include <string.h>

#include "board-chart-render.h"
#include "board-smoothing.h"

struct _BoardScalarChart {
    GtkWidget parent_instance;
    BoardDataset *ds;
    BoardChartSettings *settings;
    char *tag;
    /* lines, rebuilt when stale */
    GArray *lines;             /* BoardChartLine */
    GArray *sources;           /* LineSource, one per line of a single run */
    GPtrArray *owned;          /* arrays owned for the lines (aggregates) */
    gboolean stale;
    gboolean pyramids;         /* attached to the lines */
    gboolean skipped;          /* out of sight at the last snapshot: not drawn */
    GtkAdjustment *vadj, *hadj;   /* of the scrolled window around, watched */
    gint64 points;
    gint64 traced_points;
    gboolean drawn_data;
    BoardChartView view;
    BoardChartFrame frame;
    gboolean frame_valid;
    /* interaction */
    double drag_x, drag_y;
    gboolean panning;
    double pan_x0, pan_x1, pan_y0, pan_y1;
};

/* Where a line of a single run comes from, to find its pyramids. */
typedef struct {
    BoardSeries *series;
    double run_start;
    double weight;
} LineSource;

G_DEFINE_FINAL_TYPE (BoardScalarChart, board_scalar_chart, GTK_TYPE_WIDGET)

enum { PROP_0, PROP_POINT_COUNT, N_PROPS };
static GParamSpec *props[N_PROPS];

static void
invalidate (BoardScalarChart *c)
{
    c->stale = TRUE;
    c->frame_valid = FALSE;
    gtk_widget_queue_draw (GTK_WIDGET (c));
}

static void
on_series_changed (BoardDataset *ds, BoardRun *run, const char *tag, BoardScalarChart *c)
{
    if (strcmp (tag, c->tag) == 0)
        invalidate (c);
}

static void
on_run_notify (GObject *run, GParamSpec *pspec, BoardScalarChart *c)
{
    invalidate (c);
}

static void
watch_run (BoardScalarChart *c, BoardRun *run)
{
    g_signal_connect_object (run, "notify", G_CALLBACK (on_run_notify), c, 0);
}

static void
on_run_added (BoardDataset *ds, BoardRun *run, BoardScalarChart *c)
{
    watch_run (c, run);
    invalidate (c);
}

static void
on_settings_changed (BoardChartSettings *s, BoardScalarChart *c)
{
    /* a new x axis or scale makes the zoom meaningless */
    if (c->view.x_axis != board_chart_settings_get_x_axis (s) ||
        c->view.log_x != board_chart_settings_get_log_x (s) ||
        c->view.log_y != board_chart_settings_get_log_y (s))
        c->view.zoomed = FALSE;
    invalidate (c);
}

static void
clear_lines (BoardScalarChart *c)
{
    g_array_set_size (c->lines, 0);
    g_array_set_size (c->sources, 0);
    g_ptr_array_set_size (c->owned, 0);
    c->pyramids = FALSE;
}

static gpointer
own (BoardScalarChart *c, gpointer p)
{
    g_ptr_array_add (c->owned, p);
    return p;
}

typedef struct {
    GPtrArray *runs;   /* BoardRun* */
} Group;

static void
rebuild_lines (BoardScalarChart *c)
{
    clear_lines (c);
    c->points = 0;
    double w = board_chart_settings_get_smoothing (c->settings);
    BoardXAxis axis = board_chart_settings_get_x_axis (c->settings);
    gboolean log_x = board_chart_settings_get_log_x (c->settings);
    BoardGroupMode mode = board_chart_settings_get_group_mode (c->settings);
    GRegex *regex = board_chart_settings_get_group_regex (c->settings);
    GListModel *runs = board_dataset_get_runs (c->ds);
    guint n = g_list_model_get_n_items (runs);

    GHashTable *groups = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
    GPtrArray *group_order = g_ptr_array_new_with_free_func ((GDestroyNotify) g_ptr_array_unref);
    GPtrArray *group_names = g_ptr_array_new ();
    for (guint i = 0; i < n; i++) {
        BoardRun *run = g_list_model_get_item (runs, i);
        g_object_unref (run);   /* the list keeps it alive */
        if (!board_run_get_visible (run))
            continue;
        BoardSeries *s = board_run_get_series (run, c->tag);
        if (!s || s->kind != BOARD_KIND_SCALAR || board_series_count (s) == 0)
            continue;
        c->points += (gint64) board_series_count (s);
        char *key = board_run_group_key (board_run_get_name (run), mode, regex);
        if (key) {
            GPtrArray *members = g_hash_table_lookup (groups, key);
            if (!members) {
                members = g_ptr_array_new ();
                g_ptr_array_add (group_order, members);
                g_hash_table_insert (groups, key, members);
                g_ptr_array_add (group_names, key);
            } else {
                g_free (key);
            }
            g_ptr_array_add (members, run);
            continue;
        }
        BoardChartLine ln = { 0 };
        double start = board_run_get_start_time (run);
        ln.x = board_series_x (s, axis, start);
        ln.n = board_series_count (s);
        ln.y = w > 0 ? board_series_smoothed (s, w) : (const double *) s->values->data;
        ln.raw_y = w > 0 ? (const double *) s->values->data : NULL;
        /* the pyramids are made at the first frame that needs them */
        ln.log_x = log_x ? board_series_log_x (s, axis, start) : NULL;
        LineSource src = { s, start, w };
        g_array_append_val (c->sources, src);
        ln.steps = (const double *) s->step_x->data;
        ln.color = board_run_get_color (run);
        ln.name = board_run_get_name (run);
        g_array_append_val (c->lines, ln);
    }

    BoardBandMode band = board_chart_settings_get_band (c->settings);
    for (guint g = 0; g < group_order->len; g++) {
        GPtrArray *members = g_ptr_array_index (group_order, g);
        BoardAggInput *in = g_new0 (BoardAggInput, members->len);
        for (guint k = 0; k < members->len; k++) {
            BoardRun *run = g_ptr_array_index (members, k);
            BoardSeries *s = board_run_get_series (run, c->tag);
            in[k].steps = board_series_x (s, axis, board_run_get_start_time (run));
            in[k].values = (const double *) s->values->data;
            in[k].n = board_series_count (s);
        }
        BoardAggregate *a = board_aggregate (in, members->len);
        g_free (in);
        BoardChartLine ln = { 0 };
        ln.n = a->n;
        ln.x = own (c, g_memdup2 (a->steps, a->n * sizeof (double) + 1));
        double *lo = own (c, g_new (double, a->n + 1));
        double *hi = own (c, g_new (double, a->n + 1));
        for (size_t i = 0; i < a->n; i++) {
            lo[i] = band == BOARD_BAND_STD ? a->mean[i] - a->std[i] : a->min[i];
            hi[i] = band == BOARD_BAND_STD ? a->mean[i] + a->std[i] : a->max[i];
        }
        double *mean = own (c, g_memdup2 (a->mean, a->n * sizeof (double) + 1));
        if (w > 0) {
            double *sm = own (c, g_new (double, a->n + 1));
            board_smooth_ema (mean, a->n, w, sm);
            board_smooth_ema (lo, a->n, w, lo);
            board_smooth_ema (hi, a->n, w, hi);
            ln.y = sm;
            ln.raw_y = mean;
        } else {
            ln.y = mean;
        }
        ln.band_lo = lo;
        ln.band_hi = hi;
        BoardRun *first = g_ptr_array_index (members, 0);
        ln.color = board_run_get_color (first);
        char *name = g_strdup_printf ("%s (%u runs)", (char *) g_ptr_array_index (group_names, g),
                                      members->len);
        ln.name = own (c, name);
        g_array_append_val (c->lines, ln);
        board_aggregate_free (a);
    }
    g_ptr_array_unref (group_names);
    g_ptr_array_unref (group_order);
    g_hash_table_unref (groups);
    c->stale = FALSE;
    g_object_notify_by_pspec (G_OBJECT (c), props[PROP_POINT_COUNT]);
    /* for the live test: when each chart's point count changes, on the
     * monotonic clock writers print too */
    static int trace = -1;
    if (trace < 0)
        trace = g_getenv ("SLUICE_BOARD_TRACE_POINTS") != NULL;
    if (trace && c->points != c->traced_points) {
        c->traced_points = c->points;
        g_print ("points %s %" G_GINT64_FORMAT " %" G_GINT64_FORMAT "\n", c->tag, c->points,
                 g_get_monotonic_time ());
    }
}

static void
fill_view (BoardScalarChart *c)
{
    c->view.title = c->tag;
    c->view.x_axis = board_chart_settings_get_x_axis (c->settings);
    c->view.log_x = board_chart_settings_get_log_x (c->settings);
    c->view.log_y = board_chart_settings_get_log_y (c->settings);
    c->view.ignore_outliers = board_chart_settings_get_ignore_outliers (c->settings);
    GdkRGBA fg;
    G_GNUC_BEGIN_IGNORE_DEPRECATIONS
    gtk_style_context_get_color (gtk_widget_get_style_context (GTK_WIDGET (c)), &fg);
    G_GNUC_END_IGNORE_DEPRECATIONS
    c->view.fg[0] = fg.red;
    c->view.fg[1] = fg.green;
    c->view.fg[2] = fg.blue;
}

/* The lines of single runs get their series' min/max pyramids (made once
 * per change of the points or the settings, then kept by the series), so
 * a frame costs O(columns log n) per line. */
static void
attach_pyramids (BoardScalarChart *c)
{
    BoardChartLine *lines = (BoardChartLine *) c->lines->data;
    gboolean raw_drawn = c->lines->len <= BOARD_CHART_MAX_RAW_LINES;
    for (guint i = 0; i < c->sources->len; i++) {
        LineSource *src = &g_array_index (c->sources, LineSource, i);
        BoardChartLine *ln = &lines[i];
        const double *x = ln->log_x ? ln->log_x : ln->x;
        ln->y_pyramid = board_series_pyramid (src->series, x, src->run_start, src->weight > 0,
                                              src->weight);
        ln->raw_pyramid = raw_drawn && ln->raw_y
                              ? board_series_pyramid (src->series, x, src->run_start, FALSE, 0)
                              : NULL;
    }
}

static void
ensure_frame (BoardScalarChart *c)
{
    if (c->stale)
        rebuild_lines (c);
    if (!c->frame_valid) {
        fill_view (c);
        board_chart_compute_frame ((const BoardChartLine *) c->lines->data, c->lines->len,
                                   &c->view, gtk_widget_get_width (GTK_WIDGET (c)),
                                   gtk_widget_get_height (GTK_WIDGET (c)), &c->frame);
        c->frame_valid = TRUE;
    }
}

/* ---- charts scrolled out of sight are not drawn ---- */

static void
on_scrolled (GtkAdjustment *adj, BoardScalarChart *c)
{
    if (c->skipped)
        gtk_widget_queue_draw (GTK_WIDGET (c));
}

static void
watch_adjustment (BoardScalarChart *c, GtkAdjustment **slot, GtkAdjustment *adj)
{
    if (*slot == adj)
        return;
    if (*slot) {
        g_signal_handlers_disconnect_by_data (*slot, c);
        g_object_unref (*slot);
    }
    *slot = adj ? g_object_ref (adj) : NULL;
    if (adj) {
        g_signal_connect (adj, "value-changed", G_CALLBACK (on_scrolled), c);
        g_signal_connect (adj, "changed", G_CALLBACK (on_scrolled), c);
    }
}

/* Whether any of the chart shows in its scrolled window (TRUE outside
 * one).  A chart out of sight draws nothing and is drawn when a scroll
 * brings it in: with 10 charts of 100 runs, the loader's updates redrew
 * all of them where the user sees a few. */
static gboolean
on_screen (BoardScalarChart *c)
{
    GtkWidget *sw = gtk_widget_get_ancestor (GTK_WIDGET (c), GTK_TYPE_SCROLLED_WINDOW);
    if (!sw)
        return TRUE;
    GtkScrolledWindow *scrolled = GTK_SCROLLED_WINDOW (sw);
    watch_adjustment (c, &c->vadj, gtk_scrolled_window_get_vadjustment (scrolled));
    watch_adjustment (c, &c->hadj, gtk_scrolled_window_get_hadjustment (scrolled));
    graphene_rect_t b;
    if (!gtk_widget_compute_bounds (GTK_WIDGET (c), sw, &b))
        return TRUE;
    double w = gtk_widget_get_width (sw), h = gtk_widget_get_height (sw);
    return b.origin.x < w && b.origin.y < h && b.origin.x + b.size.width > 0 &&
           b.origin.y + b.size.height > 0;
}

static void
board_scalar_chart_snapshot (GtkWidget *widget, GtkSnapshot *snapshot)
{
    BoardScalarChart *c = BOARD_SCALAR_CHART (widget);
    int w = gtk_widget_get_width (widget), h = gtk_widget_get_height (widget);
    if (w <= 0 || h <= 0)
        return;
    c->skipped = !on_screen (c);
    if (c->skipped)
        return;
    ensure_frame (c);
    if (!c->pyramids) {
        attach_pyramids (c);
        c->pyramids = TRUE;
    }
    cairo_t *cr = gtk_snapshot_append_cairo (snapshot, &GRAPHENE_RECT_INIT (0, 0, w, h));
    board_chart_render (cr, w, h, (const BoardChartLine *) c->lines->data, c->lines->len,
                        &c->view, &c->frame);
    cairo_destroy (cr);
    if (c->lines->len > 0)
        c->drawn_data = TRUE;
}

static void
board_scalar_chart_size_allocate (GtkWidget *widget, int width, int height, int baseline)
{
    BOARD_SCALAR_CHART (widget)->frame_valid = FALSE;
}

/* ---- interaction ---- */

static void
on_motion (GtkEventControllerMotion *m, double x, double y, BoardScalarChart *c)
{
    c->view.hover = TRUE;
    c->view.hover_px = x;
    c->view.hover_py = y;
    gtk_widget_queue_draw (GTK_WIDGET (c));
}

static void
on_leave (GtkEventControllerMotion *m, BoardScalarChart *c)
{
    c->view.hover = FALSE;
    gtk_widget_queue_draw (GTK_WIDGET (c));
}

static void
current_range (BoardScalarChart *c, double *x0, double *x1, double *y0, double *y1)
{
    ensure_frame (c);
    *x0 = c->frame.x0;
    *x1 = c->frame.x1;
    *y0 = c->frame.y0;
    *y1 = c->frame.y1;
}

static void
on_drag_begin (GtkGestureDrag *g, double x, double y, BoardScalarChart *c)
{
    GdkModifierType mods = gtk_event_controller_get_current_event_state (GTK_EVENT_CONTROLLER (g));
    guint button = gtk_gesture_single_get_current_button (GTK_GESTURE_SINGLE (g));
    c->drag_x = x;
    c->drag_y = y;
    c->panning = (mods & GDK_SHIFT_MASK) || button == GDK_BUTTON_MIDDLE;
    if (c->panning)
        current_range (c, &c->pan_x0, &c->pan_x1, &c->pan_y0, &c->pan_y1);
}

static void
on_drag_update (GtkGestureDrag *g, double dx, double dy, BoardScalarChart *c)
{
    if (c->panning) {
        /* move the view by the drag, in the axes' own (log) units */
        BoardChartFrame f = c->frame;
        f.x0 = c->pan_x0;
        f.x1 = c->pan_x1;
        f.y0 = c->pan_y0;
        f.y1 = c->pan_y1;
        double nx0 = board_chart_px_to_x (&f, &c->view, f.left - dx);
        double nx1 = board_chart_px_to_x (&f, &c->view, f.right - dx);
        double ny0 = board_chart_px_to_y (&f, &c->view, f.bottom - dy);
        double ny1 = board_chart_px_to_y (&f, &c->view, f.top - dy);
        board_scalar_chart_zoom (c, nx0, nx1, ny0, ny1);
        return;
    }
    c->view.selecting = TRUE;
    c->view.sel_x0 = c->drag_x;
    c->view.sel_y0 = c->drag_y;
    c->view.sel_x1 = c->drag_x + dx;
    c->view.sel_y1 = c->drag_y + dy;
    gtk_widget_queue_draw (GTK_WIDGET (c));
}

static void
on_drag_end (GtkGestureDrag *g, double dx, double dy, BoardScalarChart *c)
{
    if (c->panning) {
        c->panning = FALSE;
        return;
    }
    c->view.selecting = FALSE;
    if (fabs (dx) > 4 && fabs (dy) > 4) {
        ensure_frame (c);
        double ax = c->drag_x, bx = c->drag_x + dx, ay = c->drag_y, by = c->drag_y + dy;
        double x0 = board_chart_px_to_x (&c->frame, &c->view, MIN (ax, bx));
        double x1 = board_chart_px_to_x (&c->frame, &c->view, MAX (ax, bx));
        double y0 = board_chart_px_to_y (&c->frame, &c->view, MAX (ay, by));
        double y1 = board_chart_px_to_y (&c->frame, &c->view, MIN (ay, by));
        board_scalar_chart_zoom (c, x0, x1, y0, y1);
    }
    gtk_widget_queue_draw (GTK_WIDGET (c));
}

static gboolean
on_scroll (GtkEventControllerScroll *s, double dx, double dy, BoardScalarChart *c)
{
    GdkModifierType mods = gtk_event_controller_get_current_event_state (GTK_EVENT_CONTROLLER (s));
    ensure_frame (c);
    BoardChartFrame *f = &c->frame;
    if (mods & GDK_CONTROL_MASK) {
        /* zoom around the cursor */
        double k = dy > 0 ? 1.25 : 0.8;
        double cx = c->view.hover ? c->view.hover_px : (f->left + f->right) / 2;
        double cy = c->view.hover ? c->view.hover_py : (f->top + f->bottom) / 2;
        double nx0 = board_chart_px_to_x (f, &c->view, cx - (cx - f->left) * k);
        double nx1 = board_chart_px_to_x (f, &c->view, cx + (f->right - cx) * k);
        double ny0 = board_chart_px_to_y (f, &c->view, cy + (f->bottom - cy) * k);
        double ny1 = board_chart_px_to_y (f, &c->view, cy - (cy - f->top) * k);
        board_scalar_chart_zoom (c, nx0, nx1, ny0, ny1);
        return TRUE;
    }
    if (!c->view.zoomed)
        return FALSE;   /* let the page scroll */
    double step = (f->right - f->left) * 0.1;
    double shift_px = (dx != 0 ? dx : dy) * step;
    double nx0 = board_chart_px_to_x (f, &c->view, f->left + shift_px);
    double nx1 = board_chart_px_to_x (f, &c->view, f->right + shift_px);
    board_scalar_chart_zoom (c, nx0, nx1, f->y0, f->y1);
    return TRUE;
}

static void
on_pressed (GtkGestureClick *g, int n_press, double x, double y, BoardScalarChart *c)
{
    if (n_press == 2)
        board_scalar_chart_reset_zoom (c);
}

/* ---- actions: export ---- */

static char *
export_dir (void)
{
    const char *env = g_getenv ("SLUICE_BOARD_EXPORT_DIR");
    if (env && *env)
        return g_strdup (env);
    const char *dl = g_get_user_special_dir (G_USER_DIRECTORY_DOWNLOAD);
    return g_strdup (dl ? dl : g_get_home_dir ());
}

static char *
safe_name (const char *s)
{
    char *out = g_strdup (s);
    for (char *p = out; *p; p++)
        if (!g_ascii_isalnum (*p) && *p != '-' && *p != '.')
            *p = '_';
    return out;
}

static void
export_action (GtkWidget *widget, const char *action_name, GVariant *param)
{
    BoardScalarChart *c = BOARD_SCALAR_CHART (widget);
    char *dir = export_dir ();
    GError *error = NULL;
    if (g_str_equal (action_name, "chart.export-csv") ||
        g_str_equal (action_name, "chart.export-json")) {
        board_scalar_chart_export_series (c, dir, g_str_equal (action_name, "chart.export-json"),
                                          &error);
    } else {
        char *base = safe_name (c->tag);
        char *path = g_strdup_printf ("%s/%s.%s", dir, base,
                                      g_str_equal (action_name, "chart.export-svg") ? "svg"
                                                                                    : "png");
        board_scalar_chart_export_image (c, path, 800, 500, &error);
        g_free (path);
        g_free (base);
    }
    if (error) {
        g_warning ("%s", error->message);
        g_error_free (error);
    }
    g_free (dir);
}

static void
reset_action (GtkWidget *widget, const char *action_name, GVariant *param)
{
    board_scalar_chart_reset_zoom (BOARD_SCALAR_CHART (widget));
}

/* ---- object ---- */

static void
board_scalar_chart_dispose (GObject *object)
{
    BoardScalarChart *c = BOARD_SCALAR_CHART (object);
    if (c->ds)
        g_signal_handlers_disconnect_by_data (c->ds, c);
    if (c->settings)
        g_signal_handlers_disconnect_by_data (c->settings, c);
    watch_adjustment (c, &c->vadj, NULL);
    watch_adjustment (c, &c->hadj, NULL);
    g_clear_object (&c->ds);
    g_clear_object (&c->settings);
    G_OBJECT_CLASS (board_scalar_chart_parent_class)->dispose (object);
}

static void
board_scalar_chart_finalize (GObject *object)
{
    BoardScalarChart *c = BOARD_SCALAR_CHART (object);
    g_array_unref (c->lines);
    g_array_unref (c->sources);
    g_ptr_array_unref (c->owned);
    g_free (c->tag);
    G_OBJECT_CLASS (board_scalar_chart_parent_class)->finalize (object);
}

static void
board_scalar_chart_get_property (GObject *o, guint id, GValue *value, GParamSpec *pspec)
{
    BoardScalarChart *c = BOARD_SCALAR_CHART (o);
    switch (id) {
    case PROP_POINT_COUNT:
        g_value_set_int64 (value, board_scalar_chart_get_point_count (c));
        break;
    default:
        G_OBJECT_WARN_INVALID_PROPERTY_ID (o, id, pspec);
    }
}

static void
board_scalar_chart_measure (GtkWidget *w, GtkOrientation o, int for_size, int *min, int *nat,
                            int *min_base, int *nat_base)
{
    *min = o == GTK_ORIENTATION_HORIZONTAL ? 260 : 180;
    *nat = o == GTK_ORIENTATION_HORIZONTAL ? 440 : 280;
}

static void
board_scalar_chart_class_init (BoardScalarChartClass *klass)
{
    GObjectClass *oc = G_OBJECT_CLASS (klass);
    GtkWidgetClass *wc = GTK_WIDGET_CLASS (klass);
    oc->dispose = board_scalar_chart_dispose;
    oc->finalize = board_scalar_chart_finalize;
    oc->get_property = board_scalar_chart_get_property;
    wc->snapshot = board_scalar_chart_snapshot;
    wc->size_allocate = board_scalar_chart_size_allocate;
    wc->measure = board_scalar_chart_measure;
    props[PROP_POINT_COUNT] = g_param_spec_int64 ("point-count", NULL, NULL, 0, G_MAXINT64, 0,
                                                  G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
    g_object_class_install_properties (oc, N_PROPS, props);
    gtk_widget_class_install_action (wc, "chart.export-csv", NULL, export_action);
    gtk_widget_class_install_action (wc, "chart.export-json", NULL, export_action);
    gtk_widget_class_install_action (wc, "chart.export-png", NULL, export_action);
    gtk_widget_class_install_action (wc, "chart.export-svg", NULL, export_action);
    gtk_widget_class_install_action (wc, "chart.reset-zoom", NULL, reset_action);
    gtk_widget_class_set_css_name (wc, "scalarchart");
}

static void
board_scalar_chart_init (BoardScalarChart *c)
{
    c->lines = g_array_new (FALSE, TRUE, sizeof (BoardChartLine));
    c->sources = g_array_new (FALSE, TRUE, sizeof (LineSource));
    c->owned = g_ptr_array_new_with_free_func (g_free);
    c->stale = TRUE;
    gtk_widget_set_focusable (GTK_WIDGET (c), TRUE);

    GtkEventController *motion = gtk_event_controller_motion_new ();
    g_signal_connect (motion, "motion", G_CALLBACK (on_motion), c);
    g_signal_connect (motion, "leave", G_CALLBACK (on_leave), c);
    gtk_widget_add_controller (GTK_WIDGET (c), motion);

    GtkGesture *drag = gtk_gesture_drag_new ();
    gtk_gesture_single_set_button (GTK_GESTURE_SINGLE (drag), 0);
    g_signal_connect (drag, "drag-begin", G_CALLBACK (on_drag_begin), c);
    g_signal_connect (drag, "drag-update", G_CALLBACK (on_drag_update), c);
    g_signal_connect (drag, "drag-end", G_CALLBACK (on_drag_end), c);
    gtk_widget_add_controller (GTK_WIDGET (c), GTK_EVENT_CONTROLLER (drag));

    GtkEventController *scroll =
        gtk_event_controller_scroll_new (GTK_EVENT_CONTROLLER_SCROLL_BOTH_AXES);
    g_signal_connect (scroll, "scroll", G_CALLBACK (on_scroll), c);
    gtk_widget_add_controller (GTK_WIDGET (c), scroll);

    GtkGesture *click = gtk_gesture_click_new ();
    g_signal_connect (click, "pressed", G_CALLBACK (on_pressed), c);
    gtk_widget_add_controller (GTK_WIDGET (c), GTK_EVENT_CONTROLLER (click));
}

GtkWidget *
board_scalar_chart_new (BoardDataset *ds, BoardChartSettings *settings, const char *tag)
{
    BoardScalarChart *c = g_object_new (BOARD_TYPE_SCALAR_CHART, NULL);
    c->ds = g_object_ref (ds);
    c->settings = g_object_ref (settings);
    c->tag = g_strdup (tag);
    g_signal_connect (ds, "series-changed", G_CALLBACK (on_series_changed), c);
    g_signal_connect (ds, "run-added", G_CALLBACK (on_run_added), c);
    g_signal_connect (settings, "changed", G_CALLBACK (on_settings_changed), c);
    GListModel *runs = board_dataset_get_runs (ds);
    for (guint i = 0; i < g_list_model_get_n_items (runs); i++) {
        BoardRun *run = g_list_model_get_item (runs, i);
        watch_run (c, run);
        g_object_unref (run);
    }
    gtk_widget_set_tooltip_text (GTK_WIDGET (c), NULL);
    return GTK_WIDGET (c);
}

const char *
board_scalar_chart_get_tag (BoardScalarChart *c)
{
    return c->tag;
}

gint64
board_scalar_chart_get_point_count (BoardScalarChart *c)
{
    if (c->stale)
        rebuild_lines (c);
    return c->points;
}

gboolean
board_scalar_chart_has_drawn_data (BoardScalarChart *c)
{
    return c->drawn_data;
}

void
board_scalar_chart_zoom (BoardScalarChart *c, double x0, double x1, double y0, double y1)
{
    if (!(x1 > x0) || !(y1 > y0) || !isfinite (x0 + x1 + y0 + y1))
        return;
    c->view.zoomed = TRUE;
    c->view.vx0 = x0;
    c->view.vx1 = x1;
    c->view.vy0 = y0;
    c->view.vy1 = y1;
    c->frame_valid = FALSE;
    gtk_widget_queue_draw (GTK_WIDGET (c));
}

void
board_scalar_chart_get_range (BoardScalarChart *c, double *x0, double *x1, double *y0, double *y1)
{
    current_range (c, x0, x1, y0, y1);
}

void
board_scalar_chart_reset_zoom (BoardScalarChart *c)
{
    c->view.zoomed = FALSE;
    c->frame_valid = FALSE;
    gtk_widget_queue_draw (GTK_WIDGET (c));
}

int
board_scalar_chart_export_series (BoardScalarChart *c, const char *dir, gboolean json,
                                  GError **error)
{
    int written = 0;
    GListModel *runs = board_dataset_get_runs (c->ds);
    g_mkdir_with_parents (dir, 0755);
    for (guint i = 0; i < g_list_model_get_n_items (runs); i++) {
        BoardRun *run = g_list_model_get_item (runs, i);
        BoardSeries *s = board_run_get_series (run, c->tag);
        if (board_run_get_visible (run) && s && s->kind == BOARD_KIND_SCALAR) {
            GString *out = g_string_new (NULL);
            if (json)
                board_series_write_json (s, out);
            else
                board_series_write_csv (s, out);
            char *tag = safe_name (c->tag), *rn = safe_name (board_run_get_name (run));
            char *path = g_strdup_printf ("%s/%s_%s.%s", dir, tag, rn, json ? "json" : "csv");
            if (g_file_set_contents (path, out->str, (gssize) out->len, error))
                written++;
            g_free (path);
            g_free (rn);
            g_free (tag);
            g_string_free (out, TRUE);
        }
        g_object_unref (run);
        if (error && *error)
            break;
    }
    return written;
}

gboolean
board_scalar_chart_export_image (BoardScalarChart *c, const char *path, int width, int height,
                                 GError **error)
{
    if (c->stale)
        rebuild_lines (c);
    fill_view (c);
    BoardChartView v = c->view;
    gboolean dark = v.fg[0] + v.fg[1] + v.fg[2] > 1.5;
    v.bg[0] = v.bg[1] = v.bg[2] = dark ? 0.14 : 1.0;
    return board_chart_export_image (path, width, height, (const BoardChartLine *) c->lines->data,
                                     c->lines->len, &v, error);
}
