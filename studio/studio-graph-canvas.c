/* The node editor's canvas (see the header).  Drawing is plain cairo in
 * snapshot(), from the document's nodes and a per-change table of scopes;
 * widget = graph * scale + offset. */
#include "config.h"

#include "studio-graph-canvas.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <pango/pangocairo.h>

#include "studio-layout.h"
#include "studio-run-stats.h"

#define FRAME_HEADER STUDIO_FRAME_HEADER
#define MINIMAP_W 190.0
#define MINIMAP_H 124.0

typedef enum { DRAG_NONE, DRAG_MOVE, DRAG_RUBBER, DRAG_CONNECT, DRAG_PAN, DRAG_MINIMAP } DragMode;

typedef struct {
    char *name;
    int depth;            /* "a" 1, "a/b" 2 */
    int levels;           /* nested scope levels below it (frame padding) */
    GArray *members;      /* int node indices, nested included */
    double x0, y0, x1, y1;   /* frame, graph coordinates */
    gboolean hidden;      /* inside a collapsed scope */
} Scope;

struct _StudioGraphCanvas {
    GtkWidget parent_instance;
    StudioDocument *doc;
    gulong changed_id;
    double scale, ox, oy;
    gboolean fitted;
    gboolean first_readable;     /* the pending first fit is fit_first's */
    gboolean auto_layout;        /* expanding or collapsing a scope lays out again */
    gboolean relayouting;
    /* per-node run state: op times of a run's step */
    GHashTable *times;           /* node -> double* µs (a reference), or NULL */
    gint64 times_step;
    gboolean show_times;
    double times_max;            /* the largest time shown (the heat scale) */
    GHashTable *selected;        /* name -> TRUE (owned keys) */
    GHashTable *collapsed;       /* scope name -> TRUE (owned keys) */
    GPtrArray *scopes;           /* Scope* */
    int *owner;                  /* per node: index of its outermost collapsed scope, or -1 */
    int n_owner;
    /* pointer and drags */
    double px, py;               /* last pointer, widget coordinates */
    gboolean has_pointer;
    DragMode mode;
    double sx, sy;               /* drag start, widget */
    double dx, dy;               /* drag offset, widget */
    char *conn_src;              /* CONNECT: source node */
    int conn_out;                /* output index, -1 control */
    double pan_ox, pan_oy;
    char *hit_on_press;          /* MOVE: node pressed (for click-to-select-one) */
    gboolean press_modifier;
    /* the graph drawn (grid, frames, edges, nodes, minimap) as a render
     * node, kept until something it shows changes; pointer feedback (a
     * wire being drawn, the rubber band) goes over it */
    GskRenderNode *content;
    gboolean dirty;
    int content_w, content_h;
    guint frames, content_builds, nodes_drawn, boxes_drawn;
};

G_DEFINE_FINAL_TYPE (StudioGraphCanvas, studio_graph_canvas, GTK_TYPE_WIDGET)

enum { SIG_SELECTION_CHANGED, SIG_ADD_REQUESTED, SIG_MESSAGE, N_SIGNALS };
static guint signals[N_SIGNALS];

/* Something the graph layer shows changed: draw it again. */
static void
invalidate (StudioGraphCanvas *c)
{
    c->dirty = TRUE;
    gtk_widget_queue_draw (GTK_WIDGET (c));
}

/* ---- colours --------------------------------------------------------- */

static void
rgb (cairo_t *cr, guint32 c, double a)
{
    cairo_set_source_rgba (cr, ((c >> 16) & 0xff) / 255.0, ((c >> 8) & 0xff) / 255.0,
                           (c & 0xff) / 255.0, a);
}

static guint32
dtype_color (sl_dtype t)
{
    t = sl_dtype_base (t);
    if (t == SL_DTYPE_INVALID)
        return 0x8a8f98;
    if (sl_dtype_is_floating (t))
        return 0x6cc070;
    if (sl_dtype_is_integer (t))
        return 0x5aa0e0;
    if (t == SL_DTYPE_BOOL)
        return 0xe07a5a;
    if (t == SL_DTYPE_STRING)
        return 0xd0b050;
    return 0xb48ee0;
}

static guint32
op_color (const char *op)
{
    static const char *inputs[] = { "Placeholder", "PlaceholderWithDefault", NULL };
    static const char *state[] = { "VariableV2", "Variable", "VarHandleOp", "Const", "Assign",
                                   "ReadVariableOp", "AssignVariableOp", NULL };
    static const char *nn[] = { "Relu", "Softmax", "Conv2D", "MaxPool", "AvgPool", "BiasAdd",
                                "SoftmaxCrossEntropyWithLogits", "LogSoftmax", "Sigmoid", "Tanh",
                                "SparseSoftmaxCrossEntropyWithLogits", NULL };
    for (int i = 0; inputs[i]; i++)
        if (!strcmp (op, inputs[i]))
            return 0xe8a33d;
    for (int i = 0; state[i]; i++)
        if (!strcmp (op, state[i]))
            return 0x3fa7a0;
    for (int i = 0; nn[i]; i++)
        if (!strcmp (op, nn[i]))
            return 0x9b6bd6;
    if (g_str_has_prefix (op, "Random") || !strcmp (op, "TruncatedNormal"))
        return 0x5f8f3f;
    return 0x4a7bd0;
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

/* ---- scopes ----------------------------------------------------------- */

static void
scope_free (Scope *s)
{
    g_free (s->name);
    g_array_unref (s->members);
    g_free (s);
}

static const StudioNode *
node_at (StudioGraphCanvas *c, int i)
{
    return studio_document_get_node (c->doc, i);
}

static void
rebuild_scopes (StudioGraphCanvas *c)
{
    g_ptr_array_set_size (c->scopes, 0);
    int n = studio_document_get_n_nodes (c->doc);
    g_free (c->owner);
    c->owner = g_new (int, (gsize) n + 1);
    c->n_owner = n;
    GHashTable *by_name = g_hash_table_new (g_str_hash, g_str_equal);
    for (int i = 0; i < n; i++) {
        const char *name = node_at (c, i)->def->name;
        c->owner[i] = -1;
        int depth = 0;
        for (const char *p = strchr (name, '/'); p; p = strchr (p + 1, '/')) {
            depth++;
            char *sname = g_strndup (name, (gsize) (p - name));
            Scope *s = g_hash_table_lookup (by_name, sname);
            if (!s) {
                s = g_new0 (Scope, 1);
                s->name = sname;
                s->depth = depth;
                s->members = g_array_new (FALSE, FALSE, sizeof (int));
                g_ptr_array_add (c->scopes, s);
                g_hash_table_insert (by_name, s->name, s);
            } else {
                g_free (sname);
            }
            g_array_append_val (s->members, i);
        }
    }
    /* an op named like a scope ("a" beside "a/b") belongs to it, as in
     * TensorBoard and the layout */
    for (int i = 0; i < n; i++) {
        Scope *s = g_hash_table_lookup (by_name, node_at (c, i)->def->name);
        if (s)
            g_array_append_val (s->members, i);
    }
    /* nesting levels, collapsed owners (outermost first) */
    for (guint k = 0; k < c->scopes->len; k++) {
        Scope *s = g_ptr_array_index (c->scopes, k);
        for (guint m = 0; m < s->members->len; m++) {
            int i = g_array_index (s->members, int, m);
            const char *name = node_at (c, i)->def->name;
            int d = 0;
            for (const char *p = strchr (name, '/'); p; p = strchr (p + 1, '/'))
                d++;
            s->levels = MAX (s->levels, d - s->depth);
        }
    }
    for (int depth = 1;; depth++) {
        gboolean any = FALSE;
        for (guint k = 0; k < c->scopes->len; k++) {
            Scope *s = g_ptr_array_index (c->scopes, k);
            if (s->depth != depth)
                continue;
            any = TRUE;
            gboolean coll = g_hash_table_contains (c->collapsed, s->name);
            int first = s->members->len ? g_array_index (s->members, int, 0) : -1;
            s->hidden = first >= 0 && c->owner[first] >= 0;
            if (coll && !s->hidden)
                for (guint m = 0; m < s->members->len; m++)
                    c->owner[g_array_index (s->members, int, m)] = (int) k;
        }
        if (!any)
            break;
    }
    g_hash_table_unref (by_name);
}

/* Frame bounds: the members' boxes, padded per nesting level. */
static void
compute_frames (StudioGraphCanvas *c)
{
    for (guint k = 0; k < c->scopes->len; k++) {
        Scope *s = g_ptr_array_index (c->scopes, k);
        s->x0 = s->y0 = G_MAXDOUBLE;
        s->x1 = s->y1 = -G_MAXDOUBLE;
        for (guint m = 0; m < s->members->len; m++) {
            const StudioNode *n = node_at (c, g_array_index (s->members, int, m));
            double w, h;
            studio_node_size (n, &w, &h);
            s->x0 = MIN (s->x0, n->x);
            s->y0 = MIN (s->y0, n->y);
            s->x1 = MAX (s->x1, n->x + w);
            s->y1 = MAX (s->y1, n->y + h);
        }
        double pad = studio_scope_frame_pad (s->levels);
        s->x0 -= pad;
        s->x1 += pad;
        s->y0 -= studio_scope_frame_top (s->levels);
        s->y1 += pad;
    }
}

static gboolean
scope_shown_collapsed (StudioGraphCanvas *c, Scope *s)
{
    return !s->hidden && g_hash_table_contains (c->collapsed, s->name);
}

static void
scope_box (Scope *s, double *x, double *y, double *w, double *h)
{
    /* a collapsed scope sits where its frame's top-left was */
    *x = s->x0;
    *y = s->y0;
    studio_scope_box_size (s->name, w, h);
}

/* ---- coordinates ------------------------------------------------------ */

static void
to_graph (StudioGraphCanvas *c, double wx, double wy, double *gx, double *gy)
{
    *gx = (wx - c->ox) / c->scale;
    *gy = (wy - c->oy) / c->scale;
}

static gboolean
is_selected (StudioGraphCanvas *c, const char *name)
{
    return g_hash_table_contains (c->selected, name);
}

/* Where node i is drawn, move preview included. */
static void
node_origin (StudioGraphCanvas *c, int i, double *x, double *y)
{
    const StudioNode *n = node_at (c, i);
    *x = n->x;
    *y = n->y;
    if (c->mode == DRAG_MOVE && is_selected (c, n->def->name)) {
        *x += c->dx / c->scale;
        *y += c->dy / c->scale;
    }
}

static void
port_point (StudioGraphCanvas *c, int i, gboolean is_input, int k, double *x, double *y)
{
    int owner = i < c->n_owner ? c->owner[i] : -1;
    if (owner >= 0) {
        double bx, by, bw, bh;
        scope_box (g_ptr_array_index (c->scopes, (guint) owner), &bx, &by, &bw, &bh);
        *x = bx + bw / 2;
        *y = is_input ? by : by + bh;
        return;
    }
    StudioNode tmp = *node_at (c, i);
    node_origin (c, i, &tmp.x, &tmp.y);
    studio_port_position (&tmp, is_input, k, x, y);
}

static gboolean scope_shown_collapsed (StudioGraphCanvas *c, Scope *s);

/* The box of what shows: the nodes not inside a collapsed scope, and the
 * collapsed scopes' boxes (the nodes they hide do not count). */
static gboolean
graph_bounds (StudioGraphCanvas *c, double *x0, double *y0, double *x1, double *y1)
{
    int n = studio_document_get_n_nodes (c->doc);
    compute_frames (c);
    *x0 = *y0 = G_MAXDOUBLE;
    *x1 = *y1 = -G_MAXDOUBLE;
    for (int i = 0; i < n; i++) {
        if (i < c->n_owner && c->owner[i] >= 0)
            continue;
        const StudioNode *sn = node_at (c, i);
        double w, h;
        studio_node_size (sn, &w, &h);
        *x0 = MIN (*x0, sn->x);
        *y0 = MIN (*y0, sn->y);
        *x1 = MAX (*x1, sn->x + w);
        *y1 = MAX (*y1, sn->y + h + 30);
    }
    gboolean any_box = FALSE;
    for (guint k = 0; k < c->scopes->len; k++) {
        Scope *s = g_ptr_array_index (c->scopes, k);
        if (!scope_shown_collapsed (c, s))
            continue;
        double x, y, w, h;
        scope_box (s, &x, &y, &w, &h);
        *x0 = MIN (*x0, x);
        *y0 = MIN (*y0, y);
        *x1 = MAX (*x1, x + w + 5);
        *y1 = MAX (*y1, y + h + 5);
        any_box = TRUE;
    }
    return n > 0 && (*x1 > *x0 || any_box);
}

/* ---- hit testing -------------------------------------------------------- */

typedef enum { HIT_NONE, HIT_NODE, HIT_IN, HIT_OUT, HIT_SCOPE_HEADER, HIT_SCOPE_BOX, HIT_MINIMAP } HitKind;

typedef struct {
    HitKind kind;
    int node;
    int port;
    int scope;
} Hit;

static gboolean
in_minimap (StudioGraphCanvas *c, double wx, double wy)
{
    int W = gtk_widget_get_width (GTK_WIDGET (c)), H = gtk_widget_get_height (GTK_WIDGET (c));
    return studio_document_get_n_nodes (c->doc) > 0 && wx >= W - MINIMAP_W - 12 && wx <= W - 12 &&
           wy >= H - MINIMAP_H - 12 && wy <= H - 12;
}

static Hit
hit_test (StudioGraphCanvas *c, double wx, double wy)
{
    Hit h = { HIT_NONE, -1, -1, -1 };
    if (in_minimap (c, wx, wy)) {
        h.kind = HIT_MINIMAP;
        return h;
    }
    double gx, gy;
    to_graph (c, wx, wy, &gx, &gy);
    double r = MAX (STUDIO_PORT_RADIUS + 4, 9 / c->scale);
    int n = studio_document_get_n_nodes (c->doc);
    for (int i = n - 1; i >= 0; i--) {
        if (c->owner[i] >= 0)
            continue;
        const StudioNode *sn = node_at (c, i);
        double x, y, w, hh;
        node_origin (c, i, &x, &y);
        studio_node_size (sn, &w, &hh);
        if (gx < x - r || gx > x + w + r || gy < y - r || gy > y + hh + r)
            continue;
        /* inside the box a port reaches less far: zoomed out, the ports'
         * reach would cover the whole box and a click on it would start
         * a wire instead of selecting */
        gboolean inside = gx >= x && gx <= x + w && gy >= y && gy <= y + hh;
        double reach = inside ? MIN (r, hh * 0.3) : r;
        for (int k = 0; k < sn->n_outputs; k++) {
            double px, py;
            port_point (c, i, FALSE, k, &px, &py);
            if (hypot (gx - px, gy - py) <= reach)
                return (Hit) { HIT_OUT, i, k, -1 };
        }
        for (int k = 0; k < sn->n_inputs; k++) {
            double px, py;
            port_point (c, i, TRUE, k, &px, &py);
            if (hypot (gx - px, gy - py) <= reach)
                return (Hit) { HIT_IN, i, k, -1 };
        }
        if (inside)
            return (Hit) { HIT_NODE, i, -1, -1 };
    }
    for (guint k = 0; k < c->scopes->len; k++) {
        Scope *s = g_ptr_array_index (c->scopes, k);
        if (s->hidden)
            continue;
        if (g_hash_table_contains (c->collapsed, s->name)) {
            double x, y, w, hh;
            scope_box (s, &x, &y, &w, &hh);
            if (gx >= x && gx <= x + w && gy >= y && gy <= y + hh)
                return (Hit) { HIT_SCOPE_BOX, -1, -1, (int) k };
        }
    }
    /* headers: the innermost (deepest) frame wins */
    int best = -1;
    for (guint k = 0; k < c->scopes->len; k++) {
        Scope *s = g_ptr_array_index (c->scopes, k);
        if (s->hidden || g_hash_table_contains (c->collapsed, s->name))
            continue;
        if (gx >= s->x0 && gx <= s->x1 && gy >= s->y0 && gy <= s->y0 + FRAME_HEADER &&
            (best < 0 || s->depth > ((Scope *) g_ptr_array_index (c->scopes, (guint) best))->depth))
            best = (int) k;
    }
    if (best >= 0)
        return (Hit) { HIT_SCOPE_HEADER, -1, -1, best };
    return h;
}

static void relayout (StudioGraphCanvas *c, const char *anchor);

/* ---- drawing --------------------------------------------------------------- */

static void
text_at (cairo_t *cr, PangoLayout *layout, const char *text, double x, double y, double max_w,
         int lines)
{
    pango_layout_set_text (layout, text, -1);
    pango_layout_set_width (layout, max_w > 0 ? (int) (max_w * PANGO_SCALE) : -1);
    pango_layout_set_height (layout, lines > 1 ? -lines : -1);
    pango_layout_set_wrap (layout, PANGO_WRAP_WORD_CHAR);
    pango_layout_set_ellipsize (layout, PANGO_ELLIPSIZE_END);
    cairo_move_to (cr, x, y);
    pango_cairo_show_layout (cr, layout);
}

static void
set_font (PangoLayout *layout, const char *desc)
{
    PangoFontDescription *fd = pango_font_description_from_string (desc);
    pango_layout_set_font_description (layout, fd);
    pango_font_description_free (fd);
}

static void
draw_edge (cairo_t *cr, double x0, double y0, double x1, double y1)
{
    double d = MAX (30, fabs (y1 - y0) / 2);
    cairo_move_to (cr, x0, y0);
    cairo_curve_to (cr, x0, y0 + d, x1, y1 - d, x1, y1);
    cairo_stroke (cr);
}

/* The part of the graph in view (graph coordinates); a box counts with
 * a margin for what is drawn beside it (port labels, messages under it). */
typedef struct {
    double x0, y0, x1, y1;
} View;

static gboolean
box_in_view (const View *v, double x, double y, double w, double h)
{
    return x + MAX (w, 270) >= v->x0 && x <= v->x1 && y + h + 60 >= v->y0 && y - 20 <= v->y1;
}

/* An edge's curve stays inside the hull of its end and control points. */
static gboolean
edge_in_view (const View *v, double x0, double y0, double x1, double y1)
{
    double d = MAX (30, fabs (y1 - y0) / 2);
    return MAX (x0, x1) >= v->x0 && MIN (x0, x1) <= v->x1 && MAX (y0, y1) + d >= v->y0 &&
           MIN (y0, y1) - d <= v->y1;
}

static void
draw_edges (StudioGraphCanvas *c, cairo_t *cr, const View *v)
{
    int n = studio_document_get_n_nodes (c->doc);
    for (int i = 0; i < n; i++) {
        const StudioNode *dst = node_at (c, i);
        int data = 0;
        for (size_t k = 0; k < dst->def->n_input; k++) {
            const char *in = dst->def->input[k];
            gboolean control = in[0] == '^';
            int slot = control ? -1 : data++;
            if (!in[0])
                continue;
            int idx, si;
            const char *name = control ? in + 1 : in;
            const char *colon = control ? NULL : strrchr (name, ':');
            char *sname = colon ? g_strndup (name, (gsize) (colon - name)) : g_strdup (name);
            idx = colon ? atoi (colon + 1) : 0;
            if (!studio_document_find (c->doc, sname, &si)) {
                g_free (sname);
                continue;
            }
            g_free (sname);
            if (c->owner[si] >= 0 && c->owner[si] == c->owner[i])
                continue;
            double x0, y0, x1, y1;
            const StudioNode *sn = node_at (c, si);
            gboolean hl = is_selected (c, sn->def->name) || is_selected (c, dst->def->name);
            if (control) {
                double w, h;
                studio_node_size (sn, &w, &h);
                port_point (c, si, FALSE, 0, &x0, &y0);
                port_point (c, i, TRUE, 0, &x1, &y1);
                if (c->owner[si] < 0) {
                    double ox, oy;
                    node_origin (c, si, &ox, &oy);
                    x0 = ox + w - 10;
                    y0 = oy + h;
                }
                if (c->owner[i] < 0) {
                    double ox, oy, w2, h2;
                    node_origin (c, i, &ox, &oy);
                    studio_node_size (dst, &w2, &h2);
                    x1 = ox + w2 - 10;
                    y1 = oy;
                }
                double dash[] = { 5, 4 };
                cairo_set_dash (cr, dash, 2, 0);
                rgb (cr, hl ? 0xd0d4da : 0x7c828c, 0.9);
                cairo_set_line_width (cr, 1.2);
                if (edge_in_view (v, x0, y0, x1, y1))
                    draw_edge (cr, x0, y0, x1, y1);
                cairo_set_dash (cr, NULL, 0, 0);
                continue;
            }
            port_point (c, si, FALSE, MIN (idx, MAX (sn->n_outputs - 1, 0)), &x0, &y0);
            port_point (c, i, TRUE, MIN (slot, MAX (dst->n_inputs - 1, 0)), &x1, &y1);
            sl_dtype t = idx < sn->n_outputs ? sn->outputs[idx].dtype : SL_DTYPE_INVALID;
            rgb (cr, hl ? 0xffffff : dtype_color (t), hl ? 0.95 : 0.75);
            cairo_set_line_width (cr, hl ? 2.6 : 1.8);
            if (edge_in_view (v, x0, y0, x1, y1))
                draw_edge (cr, x0, y0, x1, y1);
        }
    }
}

static void
draw_frames (StudioGraphCanvas *c, cairo_t *cr, PangoLayout *layout)
{
    set_font (layout, "Sans Bold 8.5");
    for (guint k = 0; k < c->scopes->len; k++) {
        Scope *s = g_ptr_array_index (c->scopes, k);
        if (s->hidden || g_hash_table_contains (c->collapsed, s->name))
            continue;
        rounded (cr, s->x0, s->y0, s->x1 - s->x0, s->y1 - s->y0, 8);
        rgb (cr, 0x8fa8c8, 0.05 + 0.02 * s->depth);
        cairo_fill_preserve (cr);
        rgb (cr, 0x8fa8c8, 0.35);
        cairo_set_line_width (cr, 1);
        cairo_stroke (cr);
        rgb (cr, 0xb8c8dc, 0.9);
        const char *label = strrchr (s->name, '/');
        char *t = g_strdup_printf ("\u25be %s", label ? label + 1 : s->name);
        text_at (cr, layout, t, s->x0 + 8, s->y0 + 3, s->x1 - s->x0 - 16, 1);
        g_free (t);
    }
}

/* ---- run state ---------------------------------------------------------- */

static gboolean
showing_times (StudioGraphCanvas *c)
{
    return c->show_times && c->times && g_hash_table_size (c->times) > 0;
}

/* The time of node i, or < 0 when the run has none for it. */
static double
node_time (StudioGraphCanvas *c, int i)
{
    double *v = g_hash_table_lookup (c->times, node_at (c, i)->def->name);
    return v ? *v : -1;
}

/* The summed time of a scope's nodes, or < 0 when none has one. */
static double
scope_time (StudioGraphCanvas *c, Scope *s)
{
    double sum = -1;
    for (guint m = 0; m < s->members->len; m++) {
        double t = node_time (c, g_array_index (s->members, int, m));
        if (t >= 0)
            sum = MAX (sum, 0) + t;
    }
    return sum;
}

/* 0..1 on a log scale against the largest time shown. */
static double
heat (StudioGraphCanvas *c, double us)
{
    if (us <= 0 || c->times_max <= 0)
        return 0;
    return CLAMP (log1p (us) / log1p (c->times_max), 0, 1);
}

static guint32
heat_color (double f)
{
    /* teal (cheap) through amber to red (the costliest) */
    static const guint32 stops[] = { 0x3f8f8a, 0xd9a441, 0xe0523f };
    double p = f * 2;
    int k = MIN ((int) p, 1);
    double t = p - k;
    guint32 a = stops[k], b = stops[k + 1];
    guint32 out = 0;
    for (int sh = 0; sh <= 16; sh += 8) {
        double ca = (a >> sh) & 0xff, cb = (b >> sh) & 0xff;
        out |= (guint32) (ca + (cb - ca) * t) << sh;
    }
    return out;
}

/* A heat tint over a box, and its time in a pill at its right, on the
 * line at y (graph coordinates); returns the pill's width. */
static double
draw_time (StudioGraphCanvas *c, cairo_t *cr, PangoLayout *layout, double x, double y, double w,
           double h, double line_y, double us)
{
    double f = heat (c, us);
    guint32 col = heat_color (f);
    cairo_save (cr);
    rounded (cr, x, y, w, h, 7);
    cairo_clip (cr);
    rgb (cr, col, 0.10 + 0.30 * f);
    cairo_paint (cr);
    cairo_restore (cr);
    char *t = studio_format_duration_us (us);
    set_font (layout, "Sans Bold 8");
    pango_layout_set_text (layout, t, -1);
    pango_layout_set_width (layout, -1);
    pango_layout_set_height (layout, -1);
    int tw, th;
    pango_layout_get_pixel_size (layout, &tw, &th);
    double pw = tw + 10, px = x + w - pw - 8;
    rounded (cr, px, line_y - 1, pw, th + 2, (th + 2) / 2.0);
    rgb (cr, col, 1);
    cairo_fill (cr);
    rgb (cr, 0x15171a, 1);
    cairo_move_to (cr, px + 5, line_y);
    pango_cairo_show_layout (cr, layout);
    g_free (t);
    return pw + 6;
}

static void
draw_scope_boxes (StudioGraphCanvas *c, cairo_t *cr, PangoLayout *layout, const View *v)
{
    for (guint k = 0; k < c->scopes->len; k++) {
        Scope *s = g_ptr_array_index (c->scopes, k);
        if (s->hidden || !g_hash_table_contains (c->collapsed, s->name))
            continue;
        double x, y, w, h;
        scope_box (s, &x, &y, &w, &h);
        if (!box_in_view (v, x, y, w, h))
            continue;
        c->boxes_drawn++;
        /* a stack of cards: a group */
        rounded (cr, x + 5, y + 5, w, h, 8);
        rgb (cr, 0x3a4250, 1);
        cairo_fill (cr);
        rounded (cr, x, y, w, h, 8);
        rgb (cr, 0x34495e, 1);
        cairo_fill_preserve (cr);
        gboolean bad = FALSE;
        for (guint m = 0; m < s->members->len; m++)
            bad |= node_at (c, g_array_index (s->members, int, m))->state == STUDIO_NODE_ERROR;
        rgb (cr, bad ? 0xe05252 : 0x8fa8c8, 1);
        cairo_set_line_width (cr, bad ? 2 : 1.2);
        cairo_stroke (cr);
        double st = showing_times (c) ? scope_time (c, s) : -1;
        double pill = st >= 0 ? draw_time (c, cr, layout, x, y, w, h, y + 27, st) : 0;
        rgb (cr, 0xeef2f6, 1);
        set_font (layout, "Sans Bold 9.5");
        const char *label = strrchr (s->name, '/');
        char *t = g_strdup_printf ("\u25b8 %s", label ? label + 1 : s->name);
        text_at (cr, layout, t, x + 10, y + 7, w - 20, 1);
        g_free (t);
        set_font (layout, "Sans 8.5");
        rgb (cr, 0xb4bec9, 1);
        t = g_strdup_printf ("%u node%s%s", s->members->len, s->members->len == 1 ? "" : "s", bad ? " · has errors" : "");
        text_at (cr, layout, t, x + 10, y + 27, w - 20 - pill, 1);
        g_free (t);
    }
}

static void
draw_node (StudioGraphCanvas *c, cairo_t *cr, PangoLayout *layout, int i)
{
    const StudioNode *n = node_at (c, i);
    double x, y, w, h;
    node_origin (c, i, &x, &y);
    studio_node_size (n, &w, &h);
    gboolean sel = is_selected (c, n->def->name);
    gboolean err = n->state == STUDIO_NODE_ERROR;
    gboolean unknown = n->state == STUDIO_NODE_UNKNOWN_OP;
    /* body and header stripe */
    rounded (cr, x, y, w, h, 7);
    rgb (cr, 0x2b2e35, 1);
    cairo_fill (cr);
    cairo_save (cr);
    rounded (cr, x, y, w, h, 7);
    cairo_clip (cr);
    cairo_rectangle (cr, x, y, 5, h);
    rgb (cr, unknown ? 0xd9a441 : op_color (n->def->op), 1);
    cairo_fill (cr);
    cairo_restore (cr);
    rounded (cr, x, y, w, h, 7);
    if (sel) {
        rgb (cr, 0x7fb8ff, 1);
        cairo_set_line_width (cr, 2.5);
    } else if (err) {
        rgb (cr, 0xe05252, 1);
        cairo_set_line_width (cr, 2);
    } else if (unknown) {
        rgb (cr, 0xd9a441, 1);
        cairo_set_line_width (cr, 2);
    } else {
        rgb (cr, 0x4a505a, 1);
        cairo_set_line_width (cr, 1);
    }
    cairo_stroke (cr);
    if (sel && err) {
        rounded (cr, x - 3, y - 3, w + 6, h + 6, 9);
        rgb (cr, 0xe05252, 1);
        cairo_set_line_width (cr, 1.5);
        cairo_stroke (cr);
    }
    double nt = showing_times (c) ? node_time (c, i) : -1;
    double pill = nt >= 0 ? draw_time (c, cr, layout, x, y, w, h, y + 31, nt) : 0;
    /* texts */
    if (c->scale > 0.3) {
        const char *label = strrchr (n->def->name, '/');
        label = label ? label + 1 : n->def->name;
        set_font (layout, "Sans Bold 9.5");
        rgb (cr, 0xeceff3, 1);
        text_at (cr, layout, label, x + 12, y + 14, w - 24, 1);
        set_font (layout, "Sans 8.5");
        rgb (cr, 0x9aa3ae, 1);
        char *op = n->def->device && *n->def->device
                       ? g_strdup_printf ("%s \u00b7 %s", n->def->op, n->def->device)
                       : g_strdup (n->def->op);
        text_at (cr, layout, op, x + 12, y + 31, w - 24 - pill, 1);
        g_free (op);
    }
    /* ports */
    for (int pass = 0; pass < 2; pass++) {
        gboolean is_in = pass == 0;
        int count = is_in ? n->n_inputs : n->n_outputs;
        for (int k = 0; k < count; k++) {
            const StudioPort *p = is_in ? &n->inputs[k] : &n->outputs[k];
            double px, py;
            port_point (c, i, is_in, k, &px, &py);
            cairo_new_sub_path (cr);   /* no line from the last label drawn */
            cairo_arc (cr, px, py, STUDIO_PORT_RADIUS, 0, 2 * G_PI);
            rgb (cr, dtype_color (p->dtype), 1);
            cairo_fill_preserve (cr);
            rgb (cr, 0x1d1f23, 1);
            cairo_set_line_width (cr, 1.5);
            cairo_stroke (cr);
            double slot = w / MAX (count, 1);
            /* labels where they fit (else in the port's tooltip) */
            if (c->scale < 0.55 || slot < (is_in ? 40 : 70))
                continue;
            set_font (layout, "Sans 7.5");
            if (is_in) {
                /* the argument name just inside the top edge */
                rgb (cr, 0x8a93a0, 1);
                text_at (cr, layout, p->name, px - slot / 2 + 6, y + 1, slot - 10, 1);
            } else {
                /* dtype and shape under the output */
                char *d = studio_port_describe (p);
                rgb (cr, 0xc9d1da, 1);
                text_at (cr, layout, d, px + 8, y + h + 1, MAX (slot - 8, 90), 1);
                g_free (d);
            }
        }
    }
    /* error badge and message in place */
    if (err || unknown) {
        double bx = x + w - 2, by = y + 2;
        cairo_new_sub_path (cr);
        cairo_arc (cr, bx, by, 8, 0, 2 * G_PI);
        rgb (cr, err ? 0xe05252 : 0xd9a441, 1);
        cairo_fill (cr);
        set_font (layout, "Sans Bold 8");
        rgb (cr, 0xffffff, 1);
        text_at (cr, layout, "!", bx - 2, by - 7, -1, 1);
        if (c->scale > 0.3 && n->message) {
            /* on a dark plate, so wires under it do not cross the words */
            double my = y + h + (n->n_outputs ? 15 : 3), mw = MAX (w, 260);
            set_font (layout, "Sans 8");
            pango_layout_set_text (layout, n->message, -1);
            pango_layout_set_width (layout, (int) (mw * PANGO_SCALE));
            pango_layout_set_height (layout, -3);
            pango_layout_set_wrap (layout, PANGO_WRAP_WORD_CHAR);
            int tw, th;
            pango_layout_get_pixel_size (layout, &tw, &th);
            rounded (cr, x - 4, my - 2, tw + 8, th + 4, 4);
            rgb (cr, 0x1d1f23, 0.92);
            cairo_fill (cr);
            rgb (cr, err ? 0xff8a80 : 0xf0c36a, 1);
            text_at (cr, layout, n->message, x, my, mw, 3);
        }
    }
}

static void
draw_minimap (StudioGraphCanvas *c, cairo_t *cr, int W, int H)
{
    double x0, y0, x1, y1;
    if (!graph_bounds (c, &x0, &y0, &x1, &y1))
        return;
    double mx = W - MINIMAP_W - 12, my = H - MINIMAP_H - 12;
    rounded (cr, mx, my, MINIMAP_W, MINIMAP_H, 6);
    rgb (cr, 0x15171a, 0.88);
    cairo_fill_preserve (cr);
    rgb (cr, 0x4a505a, 1);
    cairo_set_line_width (cr, 1);
    cairo_stroke (cr);
    double s = MIN ((MINIMAP_W - 12) / MAX (x1 - x0, 1), (MINIMAP_H - 12) / MAX (y1 - y0, 1));
    double ox = mx + 6 + ((MINIMAP_W - 12) - (x1 - x0) * s) / 2 - x0 * s;
    double oy = my + 6 + ((MINIMAP_H - 12) - (y1 - y0) * s) / 2 - y0 * s;
    int n = studio_document_get_n_nodes (c->doc);
    for (guint k = 0; k < c->scopes->len; k++) {
        Scope *sc = g_ptr_array_index (c->scopes, k);
        if (!scope_shown_collapsed (c, sc))
            continue;
        double bx, by, bw, bh;
        scope_box (sc, &bx, &by, &bw, &bh);
        cairo_rectangle (cr, ox + bx * s, oy + by * s, MAX (bw * s, 2), MAX (bh * s, 2));
        rgb (cr, 0x8fa8c8, 0.9);
        cairo_fill (cr);
    }
    for (int i = 0; i < n; i++) {
        if (c->owner[i] >= 0)
            continue;
        const StudioNode *sn = node_at (c, i);
        double w, h;
        studio_node_size (sn, &w, &h);
        cairo_rectangle (cr, ox + sn->x * s, oy + sn->y * s, MAX (w * s, 1.5), MAX (h * s, 1.5));
        rgb (cr, sn->state == STUDIO_NODE_ERROR ? 0xe05252 : is_selected (c, sn->def->name) ? 0x7fb8ff : 0x8a93a0, 0.9);
        cairo_fill (cr);
    }
    /* the view */
    double vx0, vy0, vx1, vy1;
    to_graph (c, 0, 0, &vx0, &vy0);
    to_graph (c, W, H, &vx1, &vy1);
    cairo_save (cr);
    cairo_rectangle (cr, mx, my, MINIMAP_W, MINIMAP_H);
    cairo_clip (cr);
    cairo_rectangle (cr, ox + vx0 * s, oy + vy0 * s, (vx1 - vx0) * s, (vy1 - vy0) * s);
    rgb (cr, 0x7fb8ff, 0.9);
    cairo_set_line_width (cr, 1.2);
    cairo_stroke (cr);
    cairo_restore (cr);
}

/* Draws the graph layer: everything but the pointer's feedback. */
static void
draw_content (StudioGraphCanvas *c, cairo_t *cr, int W, int H)
{
    rgb (cr, 0x1d1f23, 1);
    cairo_paint (cr);
    /* a dot grid that moves with the view */
    double step = 40 * c->scale;
    if (step > 10) {
        rgb (cr, 0x2e323a, 1);
        for (double gx = fmod (c->ox, step); gx < W; gx += step)
            for (double gy = fmod (c->oy, step); gy < H; gy += step)
                cairo_rectangle (cr, gx, gy, 1.5, 1.5);
        cairo_fill (cr);
    }
    int n = studio_document_get_n_nodes (c->doc);
    c->nodes_drawn = c->boxes_drawn = 0;
    if (n == 0) {
        PangoLayout *layout = pango_cairo_create_layout (cr);
        set_font (layout, "Sans 12");
        rgb (cr, 0x8a93a0, 1);
        text_at (cr, layout,
                 "Empty graph: double-click or press Shift+A to add a node, or pick a layer or model "
                 "template in the palette.", 40, H / 2.0 - 20, W - 80, 3);
        g_object_unref (layout);
        return;
    }
    View v;
    to_graph (c, 0, 0, &v.x0, &v.y0);
    to_graph (c, W, H, &v.x1, &v.y1);
    cairo_save (cr);
    cairo_translate (cr, c->ox, c->oy);
    cairo_scale (cr, c->scale, c->scale);
    PangoLayout *layout = pango_cairo_create_layout (cr);
    compute_frames (c);
    /* the heat scale: the costliest node or collapsed scope shown */
    c->times_max = 0;
    if (showing_times (c)) {
        for (int i = 0; i < n; i++)
            if (c->owner[i] < 0)
                c->times_max = MAX (c->times_max, node_time (c, i));
        for (guint k = 0; k < c->scopes->len; k++)
            if (scope_shown_collapsed (c, g_ptr_array_index (c->scopes, k)))
                c->times_max = MAX (c->times_max, scope_time (c, g_ptr_array_index (c->scopes, k)));
    }
    draw_frames (c, cr, layout);
    draw_edges (c, cr, &v);
    draw_scope_boxes (c, cr, layout, &v);
    /* nodes with errors last, so their messages stay on top */
    for (int pass = 0; pass < 2; pass++)
        for (int i = 0; i < n; i++) {
            if (c->owner[i] >= 0)
                continue;
            const StudioNode *sn = node_at (c, i);
            gboolean bad = sn->state >= STUDIO_NODE_UNKNOWN_OP;
            if (bad != (pass == 1))
                continue;
            double x, y, w, h;
            node_origin (c, i, &x, &y);
            studio_node_size (sn, &w, &h);
            if (!box_in_view (&v, x, y, w, h))
                continue;
            draw_node (c, cr, layout, i);
            c->nodes_drawn++;
        }
    g_object_unref (layout);
    cairo_restore (cr);
    if (showing_times (c)) {
        /* what the badges are */
        PangoLayout *l = pango_cairo_create_layout (cr);
        set_font (l, "Sans 9");
        char *t = g_strdup_printf ("op times of step %" G_GINT64_FORMAT " \u00b7 costliest red", c->times_step);
        pango_layout_set_text (l, t, -1);
        int tw, th;
        pango_layout_get_pixel_size (l, &tw, &th);
        /* lower left: the banner comes down over the top, the minimap
         * sits lower right */
        double ly = H - th - 18;
        rounded (cr, 10, ly, tw + 16, th + 8, 6);
        rgb (cr, 0x15171a, 0.88);
        cairo_fill (cr);
        rgb (cr, 0xc9d1da, 1);
        cairo_move_to (cr, 18, ly + 4);
        pango_cairo_show_layout (cr, l);
        g_free (t);
        g_object_unref (l);
    }
    draw_minimap (c, cr, W, H);
}

static void
studio_graph_canvas_snapshot (GtkWidget *widget, GtkSnapshot *snapshot)
{
    StudioGraphCanvas *c = STUDIO_GRAPH_CANVAS (widget);
    int W = gtk_widget_get_width (widget), H = gtk_widget_get_height (widget);
    if (!c->fitted && W > 0 && studio_document_get_n_nodes (c->doc) > 0) {
        c->fitted = TRUE;
        if (c->first_readable)
            studio_graph_canvas_fit_first (c);
        else
            studio_graph_canvas_fit (c);
        c->first_readable = FALSE;
    }
    c->frames++;
    if (!c->content || c->dirty || c->content_w != W || c->content_h != H) {
        GtkSnapshot *sub = gtk_snapshot_new ();
        cairo_t *cr = gtk_snapshot_append_cairo (sub, &GRAPHENE_RECT_INIT (0, 0, W, H));
        draw_content (c, cr, W, H);
        cairo_destroy (cr);
        g_clear_pointer (&c->content, gsk_render_node_unref);
        c->content = gtk_snapshot_free_to_node (sub);
        c->dirty = FALSE;
        c->content_w = W;
        c->content_h = H;
        c->content_builds++;
    }
    if (c->content)
        gtk_snapshot_append_node (snapshot, c->content);
    if (c->mode != DRAG_CONNECT && c->mode != DRAG_RUBBER)
        return;
    /* the pointer's feedback over the graph */
    cairo_t *cr = gtk_snapshot_append_cairo (snapshot, &GRAPHENE_RECT_INIT (0, 0, W, H));
    int si;
    if (c->mode == DRAG_CONNECT && studio_document_find (c->doc, c->conn_src, &si)) {
        double x0, y0, gx, gy;
        cairo_save (cr);
        cairo_translate (cr, c->ox, c->oy);
        cairo_scale (cr, c->scale, c->scale);
        port_point (c, si, FALSE, MAX (c->conn_out, 0), &x0, &y0);
        to_graph (c, c->px, c->py, &gx, &gy);
        if (c->conn_out < 0) {
            double dash[] = { 5, 4 };
            cairo_set_dash (cr, dash, 2, 0);
        }
        rgb (cr, 0xffffff, 0.9);
        cairo_set_line_width (cr, 2 / c->scale);
        draw_edge (cr, x0, y0, gx, gy);
        cairo_restore (cr);
    }
    if (c->mode == DRAG_RUBBER) {
        double x = MIN (c->sx, c->sx + c->dx), y = MIN (c->sy, c->sy + c->dy);
        cairo_rectangle (cr, x, y, fabs (c->dx), fabs (c->dy));
        rgb (cr, 0x7fb8ff, 0.15);
        cairo_fill_preserve (cr);
        rgb (cr, 0x7fb8ff, 0.8);
        cairo_set_line_width (cr, 1);
        cairo_stroke (cr);
    }
    cairo_destroy (cr);
}

void
studio_graph_canvas_get_view_counts (StudioGraphCanvas *c, guint *nodes_drawn, guint *boxes_drawn,
                                     double *scale)
{
    if (nodes_drawn)
        *nodes_drawn = c->nodes_drawn;
    if (boxes_drawn)
        *boxes_drawn = c->boxes_drawn;
    if (scale)
        *scale = c->scale;
}

void
studio_graph_canvas_get_stats (StudioGraphCanvas *c, guint *frames, guint *content_builds,
                               guint *nodes_drawn)
{
    if (frames)
        *frames = c->frames;
    if (content_builds)
        *content_builds = c->content_builds;
    if (nodes_drawn)
        *nodes_drawn = c->nodes_drawn;
}

/* ---- selection -------------------------------------------------------- */

static void
selection_changed (StudioGraphCanvas *c)
{
    g_signal_emit (c, signals[SIG_SELECTION_CHANGED], 0);
    invalidate (c);
}

void
studio_graph_canvas_select (StudioGraphCanvas *c, const char *name, gboolean add)
{
    if (!add)
        g_hash_table_remove_all (c->selected);
    if (name)
        g_hash_table_add (c->selected, g_strdup (name));
    selection_changed (c);
}

void
studio_graph_canvas_select_all (StudioGraphCanvas *c)
{
    for (int i = 0; i < studio_document_get_n_nodes (c->doc); i++)
        g_hash_table_add (c->selected, g_strdup (node_at (c, i)->def->name));
    selection_changed (c);
}

char **
studio_graph_canvas_get_selection (StudioGraphCanvas *c)
{
    GPtrArray *a = g_ptr_array_new ();
    for (int i = 0; i < studio_document_get_n_nodes (c->doc); i++) {
        const char *name = node_at (c, i)->def->name;
        if (is_selected (c, name))
            g_ptr_array_add (a, g_strdup (name));
    }
    g_ptr_array_add (a, NULL);
    return (char **) g_ptr_array_free (a, FALSE);
}

const char *
studio_graph_canvas_get_selected (StudioGraphCanvas *c)
{
    if (g_hash_table_size (c->selected) != 1)
        return NULL;
    GHashTableIter it;
    gpointer key;
    g_hash_table_iter_init (&it, c->selected);
    g_hash_table_iter_next (&it, &key, NULL);
    return key;
}

/* ---- view ------------------------------------------------------------- */

/* The minimap sits in the lower right corner over the graph: when the
 * view puts the graph's box (x0..x1 wide, its bottom at y1) under it and
 * the graph is narrow enough to stand beside it, moves the view left
 * (keeping a 30 px margin) so that no node or label hides behind it. */
static void
clear_minimap (StudioGraphCanvas *c, double x0, double x1, double y1, int W, int H)
{
    double gx0 = x0 * c->scale + c->ox, gx1 = x1 * c->scale + c->ox, gy1 = y1 * c->scale + c->oy;
    double mx = W - MINIMAP_W - 12 - 12, my = H - MINIMAP_H - 12;
    if (studio_document_get_n_nodes (c->doc) == 0 || gx1 <= mx || gy1 <= my)
        return;
    double room = gx0 - 30;
    if (room > 0)
        c->ox -= MIN (gx1 - mx, room);
}

void
studio_graph_canvas_fit (StudioGraphCanvas *c)
{
    double x0, y0, x1, y1;
    int W = gtk_widget_get_width (GTK_WIDGET (c)), H = gtk_widget_get_height (GTK_WIDGET (c));
    if (!graph_bounds (c, &x0, &y0, &x1, &y1) || W <= 0)
        return;
    compute_frames (c);   /* fresh: the first fit comes before any draw */
    for (guint k = 0; k < c->scopes->len; k++) {   /* frames stick out a little */
        Scope *s = g_ptr_array_index (c->scopes, k);
        if (s->hidden || g_hash_table_contains (c->collapsed, s->name))
            continue;   /* a box (in the bounds), or inside one */
        x0 = MIN (x0, s->x0);
        y0 = MIN (y0, s->y0);
        x1 = MAX (x1, s->x1);
    }
    double s = MIN ((W - 60) / MAX (x1 - x0, 1), (H - 60) / MAX (y1 - y0, 1));
    c->scale = CLAMP (s, 0.08, 1.2);
    c->ox = (W - (x1 - x0) * c->scale) / 2 - x0 * c->scale;
    c->oy = MAX (30, (H - (y1 - y0) * c->scale) / 2) - y0 * c->scale;
    clear_minimap (c, x0, x1 + 40, y1, W, H);   /* output labels stick out to the right */
    invalidate (c);
}

void
studio_graph_canvas_fit_first (StudioGraphCanvas *c)
{
    double x0, y0, x1, y1;
    int W = gtk_widget_get_width (GTK_WIDGET (c)), H = gtk_widget_get_height (GTK_WIDGET (c));
    if (W <= 0) {
        /* not laid out yet: the first drawing fits */
        c->fitted = FALSE;
        c->first_readable = TRUE;
        return;
    }
    studio_graph_canvas_fit (c);
    if (c->scale >= STUDIO_CANVAS_READABLE_SCALE || !graph_bounds (c, &x0, &y0, &x1, &y1) || W <= 0)
        return;
    /* too big to fit readably: its top at a scale where the labels can
     * be read (the minimap shows the rest) */
    c->scale = STUDIO_CANVAS_READABLE_SCALE;
    double gw = (x1 - x0) * c->scale;
    c->ox = gw <= W - 60 ? (W - gw) / 2 - x0 * c->scale : 30 - x0 * c->scale;
    c->oy = 40 - y0 * c->scale;
    clear_minimap (c, x0 - 12, x1 + 40, y1, W, H);   /* scope frames, output labels stick out */
    invalidate (c);
}

static void
zoom_at (StudioGraphCanvas *c, double factor, double wx, double wy)
{
    double ns = CLAMP (c->scale * factor, 0.05, 3.0);
    c->ox = wx - (wx - c->ox) * ns / c->scale;
    c->oy = wy - (wy - c->oy) * ns / c->scale;
    c->scale = ns;
    invalidate (c);
}

void
studio_graph_canvas_zoom (StudioGraphCanvas *c, double factor)
{
    zoom_at (c, factor, gtk_widget_get_width (GTK_WIDGET (c)) / 2.0,
             gtk_widget_get_height (GTK_WIDGET (c)) / 2.0);
}

void
studio_graph_canvas_center_on (StudioGraphCanvas *c, const char *name)
{
    int i;
    const StudioNode *n = studio_document_find (c->doc, name, &i);
    if (!n)
        return;
    /* expand the scopes that hide it (and the scope it names) */
    gboolean opened = g_hash_table_remove (c->collapsed, name);
    for (const char *p = strchr (name, '/'); p; p = strchr (p + 1, '/')) {
        char *s = g_strndup (name, (gsize) (p - name));
        opened |= g_hash_table_remove (c->collapsed, s);
        g_free (s);
    }
    rebuild_scopes (c);
    if (opened && c->auto_layout) {
        relayout (c, NULL);
        n = studio_document_find (c->doc, name, &i);
    }
    double w, h;
    studio_node_size (n, &w, &h);
    if (c->scale < 0.6)
        c->scale = 0.8;
    c->ox = gtk_widget_get_width (GTK_WIDGET (c)) / 2.0 - (n->x + w / 2) * c->scale;
    c->oy = gtk_widget_get_height (GTK_WIDGET (c)) / 2.0 - (n->y + h / 2) * c->scale;
    invalidate (c);
}

void
studio_graph_canvas_set_view (StudioGraphCanvas *c, double scale, double gx, double gy)
{
    c->scale = CLAMP (scale, 0.05, 3.0);
    c->ox = gtk_widget_get_width (GTK_WIDGET (c)) / 2.0 - gx * c->scale;
    c->oy = gtk_widget_get_height (GTK_WIDGET (c)) / 2.0 - gy * c->scale;
    c->fitted = TRUE;   /* the first draw keeps this view */
    invalidate (c);
}

void
studio_graph_canvas_get_cursor (StudioGraphCanvas *c, double *gx, double *gy)
{
    if (c->has_pointer)
        to_graph (c, c->px, c->py, gx, gy);
    else
        to_graph (c, gtk_widget_get_width (GTK_WIDGET (c)) / 2.0,
                  gtk_widget_get_height (GTK_WIDGET (c)) / 2.0, gx, gy);
}

gboolean
studio_graph_canvas_get_node_rect (StudioGraphCanvas *c, const char *name, graphene_rect_t *rect)
{
    int i;
    const StudioNode *n = studio_document_find (c->doc, name, &i);
    if (!n || c->owner[i] >= 0)
        return FALSE;
    double w, h;
    studio_node_size (n, &w, &h);
    graphene_rect_init (rect, (float) (n->x * c->scale + c->ox), (float) (n->y * c->scale + c->oy),
                        (float) (w * c->scale), (float) (h * c->scale));
    return TRUE;
}

gboolean
studio_graph_canvas_get_port_point (StudioGraphCanvas *c, const char *name, gboolean is_input, int k,
                                    double *wx, double *wy)
{
    int i;
    const StudioNode *n = studio_document_find (c->doc, name, &i);
    if (!n || c->owner[i] >= 0 || k >= (is_input ? n->n_inputs : n->n_outputs))
        return FALSE;
    double gx, gy;
    port_point (c, i, is_input, k, &gx, &gy);
    *wx = gx * c->scale + c->ox;
    *wy = gy * c->scale + c->oy;
    return TRUE;
}

/* Lays the document out again for the collapsed scopes (auto layout).
 * A graph the user has not edited since it was laid out on opening stays
 * unmodified (the layout is not an edit); after edits it is one undoable
 * "Arrange" step.  With `anchor`, that scope's corner stays where it was
 * on screen, so the box the user clicked opens in place. */
static void
relayout (StudioGraphCanvas *c, const char *anchor)
{
    double wx = 0, wy = 0;
    Scope *s = NULL;
    compute_frames (c);
    for (guint k = 0; anchor && k < c->scopes->len && !s; k++)
        if (!strcmp (((Scope *) g_ptr_array_index (c->scopes, k))->name, anchor))
            s = g_ptr_array_index (c->scopes, k);
    if (s) {
        wx = s->x0 * c->scale + c->ox;
        wy = s->y0 * c->scale + c->oy;
    }
    gboolean clean = !studio_document_can_undo (c->doc) && !studio_document_is_modified (c->doc);
    c->relayouting = TRUE;
    studio_document_arrange_collapsed (c->doc, NULL, c->collapsed, FALSE, NULL);
    if (clean)
        studio_document_forget_history (c->doc);
    c->relayouting = FALSE;
    rebuild_scopes (c);
    compute_frames (c);
    s = NULL;
    for (guint k = 0; anchor && k < c->scopes->len && !s; k++)
        if (!strcmp (((Scope *) g_ptr_array_index (c->scopes, k))->name, anchor))
            s = g_ptr_array_index (c->scopes, k);
    if (s) {
        c->ox = wx - s->x0 * c->scale;
        c->oy = wy - s->y0 * c->scale;
    }
    invalidate (c);
}

void
studio_graph_canvas_set_collapsed (StudioGraphCanvas *c, const char *scope, gboolean collapsed)
{
    gboolean changed = collapsed ? g_hash_table_add (c->collapsed, g_strdup (scope))
                                 : g_hash_table_remove (c->collapsed, scope);
    rebuild_scopes (c);
    if (changed && c->auto_layout)
        relayout (c, scope);
    invalidate (c);
}

void
studio_graph_canvas_collapse_all (StudioGraphCanvas *c, gboolean collapse)
{
    g_hash_table_remove_all (c->collapsed);
    for (guint k = 0; collapse && k < c->scopes->len; k++)
        g_hash_table_add (c->collapsed, g_strdup (((Scope *) g_ptr_array_index (c->scopes, k))->name));
    rebuild_scopes (c);
    if (c->auto_layout)
        relayout (c, NULL);
    invalidate (c);
}

void
studio_graph_canvas_set_auto_layout (StudioGraphCanvas *c, gboolean on)
{
    c->auto_layout = on;
}

gboolean
studio_graph_canvas_get_auto_layout (StudioGraphCanvas *c)
{
    return c->auto_layout;
}

GHashTable *
studio_graph_canvas_get_collapsed_set (StudioGraphCanvas *c)
{
    return c->collapsed;
}

void
studio_graph_canvas_set_node_times (StudioGraphCanvas *c, GHashTable *times, gint64 step)
{
    if (times)
        g_hash_table_ref (times);
    if (c->times)
        g_hash_table_unref (c->times);
    c->times = times;
    c->times_step = step;
    if (c->show_times)
        invalidate (c);
}

void
studio_graph_canvas_set_show_times (StudioGraphCanvas *c, gboolean show)
{
    c->show_times = show;
    invalidate (c);
}

gboolean
studio_graph_canvas_get_show_times (StudioGraphCanvas *c)
{
    return c->show_times;
}

char *
studio_graph_canvas_get_time_badge (StudioGraphCanvas *c, const char *name)
{
    if (!showing_times (c))
        return NULL;
    int i;
    if (studio_document_find (c->doc, name, &i)) {
        if (c->owner[i] >= 0)
            return NULL;
        double t = node_time (c, i);
        return t >= 0 ? studio_format_duration_us (t) : NULL;
    }
    for (guint k = 0; k < c->scopes->len; k++) {
        Scope *s = g_ptr_array_index (c->scopes, k);
        if (!strcmp (s->name, name) && scope_shown_collapsed (c, s)) {
            double t = scope_time (c, s);
            return t >= 0 ? studio_format_duration_us (t) : NULL;
        }
    }
    return NULL;
}

gboolean
studio_graph_canvas_is_collapsed (StudioGraphCanvas *c, const char *scope)
{
    return g_hash_table_contains (c->collapsed, scope);
}

/* ---- input -------------------------------------------------------------- */

static void
message (StudioGraphCanvas *c, const char *text)
{
    g_signal_emit (c, signals[SIG_MESSAGE], 0, text);
}

static void
minimap_jump (StudioGraphCanvas *c, double wx, double wy)
{
    double x0, y0, x1, y1;
    int W = gtk_widget_get_width (GTK_WIDGET (c)), H = gtk_widget_get_height (GTK_WIDGET (c));
    if (!graph_bounds (c, &x0, &y0, &x1, &y1))
        return;
    double mx = W - MINIMAP_W - 12, my = H - MINIMAP_H - 12;
    double s = MIN ((MINIMAP_W - 12) / MAX (x1 - x0, 1), (MINIMAP_H - 12) / MAX (y1 - y0, 1));
    double ox = mx + 6 + ((MINIMAP_W - 12) - (x1 - x0) * s) / 2 - x0 * s;
    double oy = my + 6 + ((MINIMAP_H - 12) - (y1 - y0) * s) / 2 - y0 * s;
    double gx = (wx - ox) / s, gy = (wy - oy) / s;
    c->ox = W / 2.0 - gx * c->scale;
    c->oy = H / 2.0 - gy * c->scale;
    invalidate (c);
}

static void
drag_begin (GtkGestureDrag *g, double x, double y, StudioGraphCanvas *c)
{
    gtk_widget_grab_focus (GTK_WIDGET (c));
    guint button = gtk_gesture_single_get_current_button (GTK_GESTURE_SINGLE (g));
    GdkModifierType mods = gtk_event_controller_get_current_event_state (GTK_EVENT_CONTROLLER (g));
    c->sx = x;
    c->sy = y;
    c->dx = c->dy = 0;
    c->pan_ox = c->ox;
    c->pan_oy = c->oy;
    g_clear_pointer (&c->hit_on_press, g_free);
    c->press_modifier = (mods & (GDK_SHIFT_MASK | GDK_CONTROL_MASK)) != 0;
    if (button == GDK_BUTTON_MIDDLE || (mods & GDK_ALT_MASK)) {
        c->mode = DRAG_PAN;
        return;
    }
    if (button != GDK_BUTTON_PRIMARY) {
        c->mode = DRAG_NONE;
        return;
    }
    Hit h = hit_test (c, x, y);
    switch (h.kind) {
    case HIT_MINIMAP:
        c->mode = DRAG_MINIMAP;
        minimap_jump (c, x, y);
        break;
    case HIT_OUT:
        c->mode = DRAG_CONNECT;
        g_free (c->conn_src);
        c->conn_src = g_strdup (node_at (c, h.node)->def->name);
        c->conn_out = (mods & GDK_SHIFT_MASK) ? -1 : h.port;
        break;
    case HIT_IN: {
        /* dragging a connected input picks its wire up */
        const StudioNode *n = node_at (c, h.node);
        int idx;
        char *src = studio_document_input_source (c->doc, n, h.port, &idx);
        if (src && *src) {
            char *dst = g_strdup (n->def->name);
            studio_document_disconnect (c->doc, dst, h.port, NULL);
            g_free (dst);
            c->mode = DRAG_CONNECT;
            g_free (c->conn_src);
            c->conn_src = src;
            c->conn_out = idx;
        } else {
            g_free (src);
            c->mode = DRAG_NONE;
        }
        break;
    }
    case HIT_NODE: {
        const char *name = node_at (c, h.node)->def->name;
        if (mods & (GDK_SHIFT_MASK | GDK_CONTROL_MASK)) {
            if ((mods & GDK_CONTROL_MASK) && is_selected (c, name))
                g_hash_table_remove (c->selected, name);
            else
                g_hash_table_add (c->selected, g_strdup (name));
            selection_changed (c);
        } else if (!is_selected (c, name)) {
            studio_graph_canvas_select (c, name, FALSE);
        } else {
            c->hit_on_press = g_strdup (name);
        }
        c->mode = DRAG_MOVE;
        break;
    }
    case HIT_SCOPE_HEADER:
    case HIT_SCOPE_BOX: {
        Scope *s = g_ptr_array_index (c->scopes, (guint) h.scope);
        studio_graph_canvas_set_collapsed (c, s->name, h.kind == HIT_SCOPE_HEADER);
        c->mode = DRAG_NONE;
        break;
    }
    default:
        if (!(mods & (GDK_SHIFT_MASK | GDK_CONTROL_MASK)) && g_hash_table_size (c->selected)) {
            g_hash_table_remove_all (c->selected);
            selection_changed (c);
        }
        c->mode = DRAG_RUBBER;
    }
}

static void
drag_update (GtkGestureDrag *g, double dx, double dy, StudioGraphCanvas *c)
{
    c->dx = dx;
    c->dy = dy;
    c->px = c->sx + dx;
    c->py = c->sy + dy;
    if (c->mode == DRAG_PAN) {
        c->ox = c->pan_ox + dx;
        c->oy = c->pan_oy + dy;
        invalidate (c);
    } else if (c->mode == DRAG_MINIMAP) {
        minimap_jump (c, c->px, c->py);
    } else if (c->mode == DRAG_MOVE) {
        invalidate (c);   /* the boxes follow the pointer */
    } else if (c->mode == DRAG_RUBBER || c->mode == DRAG_CONNECT) {
        gtk_widget_queue_draw (GTK_WIDGET (c));   /* the overlay only */
    }
}

static void
finish_connect (StudioGraphCanvas *c, double x, double y)
{
    Hit h = hit_test (c, x, y);
    char *src = g_strdup (c->conn_src);
    int out = c->conn_out;
    GError *e = NULL;
    if (h.kind == HIT_IN || h.kind == HIT_NODE) {
        char *dst = g_strdup (node_at (c, h.node)->def->name);
        int port = h.kind == HIT_IN && out >= 0 ? h.port : -1;
        if (h.kind == HIT_NODE && out >= 0) {
            /* dropped on a node's body: its first free input */
            const StudioNode *n = node_at (c, h.node);
            port = -2;
            for (int k = 0; k < n->n_inputs && port == -2; k++) {
                int idx;
                char *s = studio_document_input_source (c->doc, n, k, &idx);
                if (!s || !*s)
                    port = k;
                g_free (s);
            }
        }
        if (port == -2)
            message (c, "that node has no free input: drop the wire on the input to replace");
        else if (!studio_document_connect (c->doc, src, out, dst, port, &e))
            message (c, e->message);
        g_clear_error (&e);
        g_free (dst);
    } else if (h.kind == HIT_NONE && out >= 0 && hypot (c->dx, c->dy) > 12) {
        double gx, gy;
        to_graph (c, x, y, &gx, &gy);
        char *from = g_strdup_printf ("%s:%d", src, out);
        g_signal_emit (c, signals[SIG_ADD_REQUESTED], 0, gx, gy, from);
        g_free (from);
    }
    g_free (src);
}

static void
drag_end (GtkGestureDrag *g, double dx, double dy, StudioGraphCanvas *c)
{
    DragMode mode = c->mode;
    c->dx = dx;
    c->dy = dy;
    if (mode == DRAG_MOVE) {
        if (hypot (dx, dy) > 2) {
            char **sel = studio_graph_canvas_get_selection (c);
            double mdx = dx / c->scale, mdy = dy / c->scale;
            c->mode = DRAG_NONE;
            studio_document_move_nodes (c->doc, (const char *const *) sel, mdx, mdy, NULL);
            g_strfreev (sel);
        } else if (c->hit_on_press && !c->press_modifier) {
            studio_graph_canvas_select (c, c->hit_on_press, FALSE);
        }
    } else if (mode == DRAG_RUBBER && (fabs (dx) > 3 || fabs (dy) > 3)) {
        double ax, ay, bx, by;
        to_graph (c, MIN (c->sx, c->sx + dx), MIN (c->sy, c->sy + dy), &ax, &ay);
        to_graph (c, MAX (c->sx, c->sx + dx), MAX (c->sy, c->sy + dy), &bx, &by);
        for (int i = 0; i < studio_document_get_n_nodes (c->doc); i++) {
            const StudioNode *n = node_at (c, i);
            double w, h;
            studio_node_size (n, &w, &h);
            if (c->owner[i] < 0 && n->x >= ax && n->y >= ay && n->x + w <= bx && n->y + h <= by)
                g_hash_table_add (c->selected, g_strdup (n->def->name));
        }
        selection_changed (c);
    } else if (mode == DRAG_CONNECT) {
        c->mode = DRAG_NONE;
        finish_connect (c, c->sx + dx, c->sy + dy);
    }
    c->mode = DRAG_NONE;
    c->dx = c->dy = 0;
    invalidate (c);
}

typedef struct {
    StudioGraphCanvas *canvas;
    double gx, gy;
} AddLater;

static gboolean
add_later (gpointer data)
{
    AddLater *a = data;
    g_signal_emit (a->canvas, signals[SIG_ADD_REQUESTED], 0, a->gx, a->gy, NULL);
    g_object_unref (a->canvas);
    g_free (a);
    return G_SOURCE_REMOVE;
}

static void
pressed (GtkGestureClick *g, int n_press, double x, double y, StudioGraphCanvas *c)
{
    if (n_press != 2)
        return;
    Hit h = hit_test (c, x, y);
    if (h.kind == HIT_NONE) {
        /* after this press is handled: the drag gesture's press takes the
         * keyboard focus to the canvas, and the search opened here must
         * keep it (typing right after a double-click went to the canvas) */
        AddLater *a = g_new (AddLater, 1);
        a->canvas = g_object_ref (c);
        to_graph (c, x, y, &a->gx, &a->gy);
        g_idle_add (add_later, a);
    }
}

static gboolean
scrolled (GtkEventControllerScroll *s, double dx, double dy, StudioGraphCanvas *c)
{
    GdkModifierType mods = gtk_event_controller_get_current_event_state (GTK_EVENT_CONTROLLER (s));
    if (mods & GDK_CONTROL_MASK) {
        zoom_at (c, dy < 0 ? 1.15 : 1 / 1.15, c->px, c->py);
    } else {
        c->ox -= dx * 40;
        c->oy -= dy * 40;
        invalidate (c);
    }
    return TRUE;
}

static void
motion (GtkEventControllerMotion *m, double x, double y, StudioGraphCanvas *c)
{
    c->px = x;
    c->py = y;
    c->has_pointer = TRUE;
}

static gboolean
key_pressed (GtkEventControllerKey *k, guint keyval, guint keycode, GdkModifierType mods,
             StudioGraphCanvas *c)
{
    double step = (mods & GDK_SHIFT_MASK) ? 50 : 10;
    double mx = 0, my = 0;
    switch (keyval) {
    case GDK_KEY_Left: mx = -step; break;
    case GDK_KEY_Right: mx = step; break;
    case GDK_KEY_Up: my = -step; break;
    case GDK_KEY_Down: my = step; break;
    case GDK_KEY_plus:
    case GDK_KEY_equal:
    case GDK_KEY_KP_Add:
        studio_graph_canvas_zoom (c, 1.2);
        return TRUE;
    case GDK_KEY_minus:
    case GDK_KEY_KP_Subtract:
        studio_graph_canvas_zoom (c, 1 / 1.2);
        return TRUE;
    case GDK_KEY_0:
    case GDK_KEY_KP_0:
        studio_graph_canvas_fit (c);
        return TRUE;
    case GDK_KEY_A:
    case GDK_KEY_a:
        if ((mods & GDK_SHIFT_MASK) && !(mods & GDK_CONTROL_MASK)) {
            double gx, gy;
            studio_graph_canvas_get_cursor (c, &gx, &gy);
            g_signal_emit (c, signals[SIG_ADD_REQUESTED], 0, gx, gy, NULL);
            return TRUE;
        }
        return FALSE;
    default:
        return FALSE;
    }
    if (g_hash_table_size (c->selected)) {
        char **sel = studio_graph_canvas_get_selection (c);
        studio_document_move_nodes (c->doc, (const char *const *) sel, mx, my, NULL);
        g_strfreev (sel);
    } else {
        c->ox -= mx * 4;
        c->oy -= my * 4;
        invalidate (c);
    }
    return TRUE;
}

static gboolean
query_tooltip (GtkWidget *w, int x, int y, gboolean kb, GtkTooltip *tip, StudioGraphCanvas *c)
{
    Hit h = hit_test (c, x, y);
    if (h.node < 0)
        return FALSE;
    const StudioNode *n = node_at (c, h.node);
    char *text;
    if (h.kind == HIT_IN || h.kind == HIT_OUT) {
        const StudioPort *p = h.kind == HIT_IN ? &n->inputs[h.port] : &n->outputs[h.port];
        char *d = studio_port_describe (p);
        text = g_strdup_printf ("%s %s '%s': %s", n->def->name, h.kind == HIT_IN ? "input" : "output",
                                p->name, d);
        g_free (d);
    } else {
        text = n->message ? g_strdup_printf ("%s (%s)\n%s", n->def->name, n->def->op, n->message)
                          : g_strdup_printf ("%s (%s)", n->def->name, n->def->op);
    }
    gtk_tooltip_set_text (tip, text);
    g_free (text);
    return TRUE;
}

/* ---- document --------------------------------------------------------- */

static void
doc_changed (StudioDocument *doc, StudioGraphCanvas *c)
{
    /* drop selected names that went away */
    GHashTableIter it;
    gpointer key;
    gboolean lost = FALSE;
    g_hash_table_iter_init (&it, c->selected);
    while (g_hash_table_iter_next (&it, &key, NULL))
        if (!studio_document_find (doc, key, NULL)) {
            g_hash_table_iter_remove (&it);
            lost = TRUE;
        }
    rebuild_scopes (c);
    if (studio_document_get_n_nodes (doc) == 0)
        c->fitted = FALSE;
    if (lost)
        g_signal_emit (c, signals[SIG_SELECTION_CHANGED], 0);
    invalidate (c);
}

StudioDocument *
studio_graph_canvas_get_document (StudioGraphCanvas *c)
{
    return c->doc;
}

static void
studio_graph_canvas_dispose (GObject *object)
{
    StudioGraphCanvas *c = STUDIO_GRAPH_CANVAS (object);
    if (c->doc) {
        g_clear_signal_handler (&c->changed_id, c->doc);
        g_clear_object (&c->doc);
    }
    G_OBJECT_CLASS (studio_graph_canvas_parent_class)->dispose (object);
}

static void
studio_graph_canvas_finalize (GObject *object)
{
    StudioGraphCanvas *c = STUDIO_GRAPH_CANVAS (object);
    g_hash_table_unref (c->selected);
    g_hash_table_unref (c->collapsed);
    g_ptr_array_unref (c->scopes);
    g_free (c->owner);
    g_free (c->conn_src);
    g_free (c->hit_on_press);
    g_clear_pointer (&c->content, gsk_render_node_unref);
    g_clear_pointer (&c->times, g_hash_table_unref);
    G_OBJECT_CLASS (studio_graph_canvas_parent_class)->finalize (object);
}

static void
studio_graph_canvas_class_init (StudioGraphCanvasClass *klass)
{
    GObjectClass *oc = G_OBJECT_CLASS (klass);
    GtkWidgetClass *wc = GTK_WIDGET_CLASS (klass);
    oc->dispose = studio_graph_canvas_dispose;
    oc->finalize = studio_graph_canvas_finalize;
    wc->snapshot = studio_graph_canvas_snapshot;
    signals[SIG_SELECTION_CHANGED] = g_signal_new ("selection-changed", G_TYPE_FROM_CLASS (klass),
                                                   G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                                                   G_TYPE_NONE, 0);
    signals[SIG_ADD_REQUESTED] = g_signal_new ("add-requested", G_TYPE_FROM_CLASS (klass),
                                               G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL, G_TYPE_NONE,
                                               3, G_TYPE_DOUBLE, G_TYPE_DOUBLE, G_TYPE_STRING);
    signals[SIG_MESSAGE] = g_signal_new ("message", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0,
                                         NULL, NULL, NULL, G_TYPE_NONE, 1, G_TYPE_STRING);
    gtk_widget_class_set_css_name (wc, "studio-graph-canvas");
}

static void
studio_graph_canvas_init (StudioGraphCanvas *c)
{
    c->scale = 1.0;
    c->ox = c->oy = 40;
    c->selected = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
    c->collapsed = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
    c->scopes = g_ptr_array_new_with_free_func ((GDestroyNotify) scope_free);
    gtk_widget_set_focusable (GTK_WIDGET (c), TRUE);
    gtk_widget_set_hexpand (GTK_WIDGET (c), TRUE);
    gtk_widget_set_vexpand (GTK_WIDGET (c), TRUE);
    gtk_widget_set_has_tooltip (GTK_WIDGET (c), TRUE);
    g_signal_connect (c, "query-tooltip", G_CALLBACK (query_tooltip), c);

    GtkGesture *drag = gtk_gesture_drag_new ();
    gtk_gesture_single_set_button (GTK_GESTURE_SINGLE (drag), 0);
    g_signal_connect (drag, "drag-begin", G_CALLBACK (drag_begin), c);
    g_signal_connect (drag, "drag-update", G_CALLBACK (drag_update), c);
    g_signal_connect (drag, "drag-end", G_CALLBACK (drag_end), c);
    gtk_widget_add_controller (GTK_WIDGET (c), GTK_EVENT_CONTROLLER (drag));

    GtkGesture *click = gtk_gesture_click_new ();
    g_signal_connect (click, "pressed", G_CALLBACK (pressed), c);
    gtk_widget_add_controller (GTK_WIDGET (c), GTK_EVENT_CONTROLLER (click));

    GtkEventController *scroll = gtk_event_controller_scroll_new (GTK_EVENT_CONTROLLER_SCROLL_BOTH_AXES);
    g_signal_connect (scroll, "scroll", G_CALLBACK (scrolled), c);
    gtk_widget_add_controller (GTK_WIDGET (c), scroll);

    GtkEventController *m = gtk_event_controller_motion_new ();
    g_signal_connect (m, "motion", G_CALLBACK (motion), c);
    gtk_widget_add_controller (GTK_WIDGET (c), m);

    GtkEventController *keys = gtk_event_controller_key_new ();
    g_signal_connect (keys, "key-pressed", G_CALLBACK (key_pressed), c);
    gtk_widget_add_controller (GTK_WIDGET (c), keys);
}

GtkWidget *
studio_graph_canvas_new (StudioDocument *doc)
{
    StudioGraphCanvas *c = g_object_new (STUDIO_TYPE_GRAPH_CANVAS, NULL);
    c->doc = g_object_ref (doc);
    c->changed_id = g_signal_connect (doc, "changed", G_CALLBACK (doc_changed), c);
    rebuild_scopes (c);
    return GTK_WIDGET (c);
}
