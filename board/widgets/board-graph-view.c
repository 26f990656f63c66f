/* The graph view widget (see the header).  Boxes and edges come from the
 * layout fields of the nodes, relative to their parent group. */
#include "board-graph-view.h"

#include <math.h>
#include <string.h>

#include <pango/pangocairo.h>

#include "board-graph-layout.h"

struct _BoardGraphView {
    GtkWidget parent_instance;
    BoardGraph *graph;
    BoardGraphNode *selected;
    gboolean color_by_device;
    double scale, ox, oy;     /* widget = graph * scale + offset */
    double drag_ox, drag_oy;
    gboolean fitted;
    /* fitted by the view itself, not placed by the user: fit again when
     * the widget's size or the layout's size changes (the quick first
     * layout is followed by dot's, of another size) */
    gboolean auto_fit;
    double fit_w, fit_h, fit_rw, fit_rh;
};

G_DEFINE_FINAL_TYPE (BoardGraphView, board_graph_view, GTK_TYPE_WIDGET)

enum { SIG_SELECTED, SIG_ACTIVATED, N_SIGNALS };
static guint signals[N_SIGNALS];

static const guint32 device_palette[] = { 0x8ecae6, 0xffb703, 0x90be6d, 0xf4a3a8, 0xc3aed6,
                                          0xf9c74f, 0x76c7c0, 0xe9c46a };

guint32
board_graph_device_color (const char *device)
{
    if (!device || !*device)
        return 0xd9d9d9;
    guint32 h = 2166136261u;
    for (const unsigned char *p = (const unsigned char *) device; *p; p++) {
        h ^= *p;
        h *= 16777619u;
    }
    return device_palette[h % G_N_ELEMENTS (device_palette)];
}

static void
rgb (cairo_t *cr, guint32 c, double a)
{
    cairo_set_source_rgba (cr, ((c >> 16) & 0xff) / 255.0, ((c >> 8) & 0xff) / 255.0,
                           (c & 0xff) / 255.0, a);
}

static void
rounded (cairo_t *cr, double x, double y, double w, double h, double r)
{
    r = MIN (r, MIN (w, h) / 2);
    cairo_new_sub_path (cr);
    cairo_arc (cr, x + w - r, y + r, r, -G_PI / 2, 0);
    cairo_arc (cr, x + w - r, y + h - r, r, 0, G_PI / 2);
    cairo_arc (cr, x + r, y + h - r, r, G_PI / 2, G_PI);
    cairo_arc (cr, x + r, y + r, r, G_PI, 3 * G_PI / 2);
    cairo_close_path (cr);
}

static guint32
node_fill (BoardGraphView *v, BoardGraphNode *n)
{
    if (v->color_by_device) {
        const char *dev = n->device;
        return dev ? board_graph_device_color (dev) : 0xcccccc;
    }
    switch (n->type) {
    case BOARD_GRAPH_SCOPE:
        return 0xb7cde3;
    case BOARD_GRAPH_SERIES:
        return 0xc9e4ca;
    default:
        if (n->op && (strcmp (n->op, "Const") == 0 || strcmp (n->op, "VariableV2") == 0 ||
                      strcmp (n->op, "Variable") == 0 || strcmp (n->op, "VarHandleOp") == 0))
            return 0xf2e3c6;
        if (n->op && strcmp (n->op, "Placeholder") == 0)
            return 0xf6c9a8;
        return 0xf4f4f4;
    }
}

static void
draw_label (cairo_t *cr, PangoLayout *layout, const char *text, double x, double y, double w,
            double h, gboolean top)
{
    pango_layout_set_text (layout, text, -1);
    pango_layout_set_width (layout, (int) (MAX (10, w - 8) * PANGO_SCALE));
    pango_layout_set_ellipsize (layout, PANGO_ELLIPSIZE_MIDDLE);
    pango_layout_set_alignment (layout, top ? PANGO_ALIGN_LEFT : PANGO_ALIGN_CENTER);
    int tw, th;
    pango_layout_get_pixel_size (layout, &tw, &th);
    cairo_move_to (cr, x + 4, top ? y + 4 : y + (h - th) / 2);
    pango_cairo_show_layout (cr, layout);
}

static void draw_group_contents (BoardGraphView *v, cairo_t *cr, PangoLayout *layout,
                                 BoardGraphNode *g, double gx, double gy);

static void
draw_node (BoardGraphView *v, cairo_t *cr, PangoLayout *layout, BoardGraphNode *n, double x,
           double y)
{
    double w = n->w, h = n->h;
    gboolean expanded = n->children && n->expanded && n->laid_out;
    guint32 fill = node_fill (v, n);
    if (expanded) {
        rounded (cr, x, y, w, h, 6);
        rgb (cr, fill, 0.22);
        cairo_fill_preserve (cr);
        rgb (cr, 0x5a6b7d, 0.9);
        cairo_set_line_width (cr, 1);
        cairo_stroke (cr);
        cairo_set_source_rgb (cr, 0.12, 0.16, 0.22);
        char *t = g_strdup_printf ("\u25be %s", n->label);
        draw_label (cr, layout, t, x, y, w, BOARD_GRAPH_HEADER, TRUE);
        g_free (t);
        draw_group_contents (v, cr, layout, n, x, y);
    } else {
        if (n->type == BOARD_GRAPH_SERIES) {   /* a stack of cards */
            rounded (cr, x + 4, y - 4, w - 4, h - 2, 5);
            rgb (cr, fill, 1);
            cairo_fill_preserve (cr);
            rgb (cr, 0x4d5b69, 1);
            cairo_set_line_width (cr, 1);
            cairo_stroke (cr);
        }
        rounded (cr, x, y, w, h, n->type == BOARD_GRAPH_OP ? h / 2 : 6);
        rgb (cr, fill, 1);
        cairo_fill_preserve (cr);
        rgb (cr, 0x4d5b69, 1);
        cairo_set_line_width (cr, n == v->selected ? 3 : 1);
        if (n == v->selected)
            cairo_set_source_rgb (cr, 0.95, 0.45, 0.1);
        if (n->extracted) {
            double dash[] = { 4, 3 };
            cairo_set_dash (cr, dash, 2, 0);
        }
        cairo_stroke (cr);
        cairo_set_dash (cr, NULL, 0, 0);
        cairo_set_source_rgb (cr, 0.1, 0.1, 0.12);
        if (n->type == BOARD_GRAPH_OP) {
            draw_label (cr, layout, n->label, x, y, w, h, FALSE);
        } else {
            char *t = g_strdup_printf ("%s %s\n<small>%d ops</small>",
                                       n->type == BOARD_GRAPH_SERIES ? "\u2261" : "\u25b8",
                                       n->label, n->n_ops);
            char *esc = g_markup_escape_text (n->label, -1);
            g_free (t);
            t = g_strdup_printf ("%s %s\n<small>%d ops</small>",
                                 n->type == BOARD_GRAPH_SERIES ? "\u2261" : "\u25b8", esc,
                                 n->n_ops);
            g_free (esc);
            pango_layout_set_width (layout, (int) (MAX (10, w - 8) * PANGO_SCALE));
            pango_layout_set_ellipsize (layout, PANGO_ELLIPSIZE_MIDDLE);
            pango_layout_set_alignment (layout, PANGO_ALIGN_CENTER);
            pango_layout_set_markup (layout, t, -1);
            int tw, th;
            pango_layout_get_pixel_size (layout, &tw, &th);
            cairo_move_to (cr, x + 4, y + (h - th) / 2);
            pango_cairo_show_layout (cr, layout);
            g_free (t);
        }
    }
    if (expanded && n == v->selected) {
        rounded (cr, x, y, w, h, 6);
        cairo_set_source_rgb (cr, 0.95, 0.45, 0.1);
        cairo_set_line_width (cr, 3);
        cairo_stroke (cr);
    }
}

static void
draw_group_contents (BoardGraphView *v, cairo_t *cr, PangoLayout *layout, BoardGraphNode *g,
                     double gx, double gy)
{
    /* edges first, under the boxes */
    if (g->edge_paths) {
        for (guint k = 0; k < g->edge_paths->len && k < g->edges->len; k++) {
            BoardGraphEdgePath *p = g_ptr_array_index (g->edge_paths, k);
            if (!p || p->points->len < 2)
                continue;
            BoardGraphEdge *e = &g_array_index (g->edges, BoardGraphEdge, k);
            const BoardXY *pts = (const BoardXY *) p->points->data;
            cairo_move_to (cr, gx + pts[0].x, gy + pts[0].y);
            if (p->bezier) {
                for (guint q = 1; q + 2 < p->points->len + 0u; q += 3)
                    cairo_curve_to (cr, gx + pts[q].x, gy + pts[q].y, gx + pts[q + 1].x,
                                    gy + pts[q + 1].y, gx + pts[q + 2].x, gy + pts[q + 2].y);
            } else {
                for (guint q = 1; q < p->points->len; q++)
                    cairo_line_to (cr, gx + pts[q].x, gy + pts[q].y);
            }
            BoardXY last = pts[p->points->len - 1];
            cairo_line_to (cr, gx + p->tip.x, gy + p->tip.y);
            cairo_set_line_width (cr, MIN (1 + log2 (e->count), 5));
            if (e->control) {
                double dash[] = { 3, 3 };
                cairo_set_dash (cr, dash, 2, 0);
            }
            cairo_set_source_rgba (cr, 0.45, 0.5, 0.56, 0.9);
            cairo_stroke (cr);
            cairo_set_dash (cr, NULL, 0, 0);
            /* arrowhead */
            double ax = gx + p->tip.x, ay = gy + p->tip.y;
            double dx = ax - (gx + last.x), dy = ay - (gy + last.y);
            if (hypot (dx, dy) < 0.5 && p->points->len >= 2) {
                BoardXY prev = pts[p->points->len - 2];
                dx = ax - (gx + prev.x);
                dy = ay - (gy + prev.y);
            }
            double len = hypot (dx, dy);
            if (len > 0.01) {
                dx /= len;
                dy /= len;
                cairo_move_to (cr, ax, ay);
                cairo_line_to (cr, ax - 7 * dx + 3.5 * dy, ay - 7 * dy - 3.5 * dx);
                cairo_line_to (cr, ax - 7 * dx - 3.5 * dy, ay - 7 * dy + 3.5 * dx);
                cairo_close_path (cr);
                cairo_fill (cr);
            }
        }
    }
    for (guint i = 0; i < g->children->len; i++) {
        BoardGraphNode *c = g_ptr_array_index (g->children, i);
        draw_node (v, cr, layout, c, gx + c->x, gy + c->y);
    }
}

static void
board_graph_view_snapshot (GtkWidget *widget, GtkSnapshot *snapshot)
{
    BoardGraphView *v = BOARD_GRAPH_VIEW (widget);
    int w = gtk_widget_get_width (widget), h = gtk_widget_get_height (widget);
    cairo_t *cr = gtk_snapshot_append_cairo (snapshot, &GRAPHENE_RECT_INIT (0, 0, w, h));
    cairo_set_source_rgb (cr, 0.97, 0.97, 0.96);   /* a light canvas in both themes */
    cairo_paint (cr);
    PangoLayout *layout = pango_cairo_create_layout (cr);
    PangoFontDescription *font = pango_font_description_from_string ("Sans 8");
    pango_layout_set_font_description (layout, font);
    if (v->graph && v->graph->root->laid_out) {
        BoardGraphNode *r = v->graph->root;
        if (!v->fitted || (v->auto_fit && (w != v->fit_w || h != v->fit_h ||
                                           r->w != v->fit_rw || r->h != v->fit_rh)))
            board_graph_view_fit (v);
        cairo_translate (cr, v->ox, v->oy);
        cairo_scale (cr, v->scale, v->scale);
        draw_group_contents (v, cr, layout, v->graph->root, 0, 0);
    } else {
        cairo_set_source_rgb (cr, 0.3, 0.3, 0.3);
        pango_layout_set_text (layout, v->graph ? "laying out\u2026" : "no graph", -1);
        cairo_move_to (cr, 20, 20);
        pango_cairo_show_layout (cr, layout);
    }
    pango_font_description_free (font);
    g_object_unref (layout);
    cairo_destroy (cr);
}

/* ---- hit testing ---- */

static BoardGraphNode *
hit (BoardGraphNode *g, double gx, double gy, double x, double y)
{
    for (guint i = g->children->len; i > 0; i--) {
        BoardGraphNode *c = g_ptr_array_index (g->children, i - 1);
        double cx = gx + c->x, cy = gy + c->y;
        if (x >= cx && x <= cx + c->w && y >= cy && y <= cy + c->h) {
            if (c->children && c->expanded && c->laid_out && y > cy + BOARD_GRAPH_HEADER) {
                BoardGraphNode *inner = hit (c, cx, cy, x, y);
                if (inner)
                    return inner;
            }
            return c;
        }
    }
    return NULL;
}

static void
on_click (GtkGestureClick *g, int n_press, double x, double y, BoardGraphView *v)
{
    if (!v->graph || !v->graph->root->laid_out)
        return;
    BoardGraphNode *n = hit (v->graph->root, 0, 0, (x - v->ox) / v->scale, (y - v->oy) / v->scale);
    if (n_press == 1) {
        board_graph_view_select (v, n);
    } else if (n_press == 2 && n && n->children) {
        g_signal_emit (v, signals[SIG_ACTIVATED], 0, n);
    }
}

static void
on_drag_begin (GtkGestureDrag *g, double x, double y, BoardGraphView *v)
{
    v->drag_ox = v->ox;
    v->drag_oy = v->oy;
}

static void
on_drag_update (GtkGestureDrag *g, double dx, double dy, BoardGraphView *v)
{
    v->ox = v->drag_ox + dx;
    v->oy = v->drag_oy + dy;
    v->fitted = TRUE;
    v->auto_fit = FALSE;
    gtk_widget_queue_draw (GTK_WIDGET (v));
}

static gboolean
on_scroll (GtkEventControllerScroll *s, double dx, double dy, BoardGraphView *v)
{
    GdkModifierType mods = gtk_event_controller_get_current_event_state (GTK_EVENT_CONTROLLER (s));
    if (mods & GDK_CONTROL_MASK || TRUE) {
        double k = dy > 0 ? 0.87 : 1.15;
        double cx = gtk_widget_get_width (GTK_WIDGET (v)) / 2.0;
        double cy = gtk_widget_get_height (GTK_WIDGET (v)) / 2.0;
        v->ox = cx - (cx - v->ox) * k;
        v->oy = cy - (cy - v->oy) * k;
        v->scale *= k;
        v->fitted = TRUE;
        v->auto_fit = FALSE;
    }
    gtk_widget_queue_draw (GTK_WIDGET (v));
    return TRUE;
}

static void
board_graph_view_class_init (BoardGraphViewClass *klass)
{
    GtkWidgetClass *wc = GTK_WIDGET_CLASS (klass);
    wc->snapshot = board_graph_view_snapshot;
    signals[SIG_SELECTED] = g_signal_new ("node-selected", G_TYPE_FROM_CLASS (klass),
                                          G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL, G_TYPE_NONE, 1,
                                          G_TYPE_POINTER);
    signals[SIG_ACTIVATED] = g_signal_new ("node-activated", G_TYPE_FROM_CLASS (klass),
                                           G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL, G_TYPE_NONE,
                                           1, G_TYPE_POINTER);
    gtk_widget_class_set_css_name (wc, "graphview");
}

static void
board_graph_view_init (BoardGraphView *v)
{
    v->scale = 1;
    gtk_widget_set_hexpand (GTK_WIDGET (v), TRUE);
    gtk_widget_set_vexpand (GTK_WIDGET (v), TRUE);
    gtk_widget_set_focusable (GTK_WIDGET (v), TRUE);
    GtkGesture *click = gtk_gesture_click_new ();
    g_signal_connect (click, "pressed", G_CALLBACK (on_click), v);
    gtk_widget_add_controller (GTK_WIDGET (v), GTK_EVENT_CONTROLLER (click));
    GtkGesture *drag = gtk_gesture_drag_new ();
    g_signal_connect (drag, "drag-begin", G_CALLBACK (on_drag_begin), v);
    g_signal_connect (drag, "drag-update", G_CALLBACK (on_drag_update), v);
    gtk_widget_add_controller (GTK_WIDGET (v), GTK_EVENT_CONTROLLER (drag));
    GtkEventController *scroll = gtk_event_controller_scroll_new (GTK_EVENT_CONTROLLER_SCROLL_VERTICAL);
    g_signal_connect (scroll, "scroll", G_CALLBACK (on_scroll), v);
    gtk_widget_add_controller (GTK_WIDGET (v), scroll);
}

GtkWidget *
board_graph_view_new (void)
{
    return g_object_new (BOARD_TYPE_GRAPH_VIEW, NULL);
}

void
board_graph_view_set_graph (BoardGraphView *v, BoardGraph *graph)
{
    v->graph = graph;
    v->selected = NULL;
    v->fitted = FALSE;
    gtk_widget_queue_draw (GTK_WIDGET (v));
}

BoardGraphNode *
board_graph_view_get_selected (BoardGraphView *v)
{
    return v->selected;
}

void
board_graph_view_select (BoardGraphView *v, BoardGraphNode *n)
{
    v->selected = n;
    g_signal_emit (v, signals[SIG_SELECTED], 0, n);
    gtk_widget_queue_draw (GTK_WIDGET (v));
}

void
board_graph_view_set_color_by_device (BoardGraphView *v, gboolean on)
{
    v->color_by_device = on;
    gtk_widget_queue_draw (GTK_WIDGET (v));
}

static gboolean
abs_pos (BoardGraphNode *n, double *x, double *y)
{
    *x = 0;
    *y = 0;
    for (BoardGraphNode *p = n; p->parent; p = p->parent) {
        if (!p->parent->expanded || !p->parent->laid_out)
            return FALSE;
        *x += p->x;
        *y += p->y;
    }
    return TRUE;
}

gboolean
board_graph_view_get_node_rect (BoardGraphView *v, BoardGraphNode *n, graphene_rect_t *rect)
{
    double x, y;
    if (!n || !abs_pos (n, &x, &y))
        return FALSE;
    graphene_rect_init (rect, (float) (v->ox + x * v->scale), (float) (v->oy + y * v->scale),
                        (float) (n->w * v->scale), (float) (n->h * v->scale));
    return TRUE;
}

void
board_graph_view_center_on (BoardGraphView *v, BoardGraphNode *n)
{
    double x, y;
    if (!n || !abs_pos (n, &x, &y))
        return;
    v->ox = gtk_widget_get_width (GTK_WIDGET (v)) / 2.0 - (x + n->w / 2) * v->scale;
    v->oy = gtk_widget_get_height (GTK_WIDGET (v)) / 2.0 - (y + n->h / 2) * v->scale;
    v->fitted = TRUE;
    v->auto_fit = FALSE;
    gtk_widget_queue_draw (GTK_WIDGET (v));
}

void
board_graph_view_fit (BoardGraphView *v)
{
    if (!v->graph || !v->graph->root->laid_out)
        return;
    double w = gtk_widget_get_width (GTK_WIDGET (v)), h = gtk_widget_get_height (GTK_WIDGET (v));
    BoardGraphNode *r = v->graph->root;
    if (w <= 0 || h <= 0 || r->w <= 0 || r->h <= 0)
        return;
    /* 40 px below: the status label sits in the lower left corner */
    v->scale = CLAMP (MIN ((w - 20) / r->w, (h - 50) / r->h), 0.05, 1.4);
    v->ox = (w - r->w * v->scale) / 2;
    v->oy = MAX (10, (h - r->h * v->scale) / 2);
    v->fitted = TRUE;
    v->auto_fit = TRUE;
    v->fit_w = w;
    v->fit_h = h;
    v->fit_rw = r->w;
    v->fit_rh = r->h;
}

void
board_graph_view_layout_changed (BoardGraphView *v)
{
    gtk_widget_queue_draw (GTK_WIDGET (v));
}
