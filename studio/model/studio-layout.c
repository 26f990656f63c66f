/* Geometry and the board's dot layout applied to documents (see the
 * header). */
#include "config.h"

#include "studio-layout.h"

#include "board-graph-layout.h"
#include "board-graph.h"

#include <string.h>

void
studio_node_size (const StudioNode *n, double *w, double *h)
{
    int ports = MAX (n->n_inputs, n->n_outputs);
    const char *label = n->def->name;
    const char *slash = strrchr (label, '/');
    if (slash)
        label = slash + 1;
    double text_w = (double) MAX (g_utf8_strlen (label, -1), g_utf8_strlen (n->def->op, -1) + 2) * 7.4 + 24;
    /* many ports (an Unpack of 28 outputs) share at most 8 ports' width */
    *w = MAX (MAX (STUDIO_NODE_MIN_WIDTH, MIN (ports, 8) * STUDIO_PORT_SPACING), MIN (text_w, 320));
    *h = STUDIO_NODE_HEIGHT;
}

void
studio_port_position (const StudioNode *n, gboolean is_input, int k, double *px, double *py)
{
    double w, h;
    studio_node_size (n, &w, &h);
    int count = is_input ? n->n_inputs : n->n_outputs;
    *px = n->x + w * (k + 0.5) / MAX (count, 1);
    *py = is_input ? n->y : n->y + h;
}

void
studio_scope_box_size (const char *scope, double *w, double *h)
{
    const char *slash = strrchr (scope, '/');
    const char *label = slash ? slash + 1 : scope;
    /* the label in bold 9.5 pt after a triangle, the node count under it */
    *w = CLAMP (g_utf8_strlen (label, -1) * 8.2 + 48, 170.0, 320.0);
    *h = STUDIO_SCOPE_BOX_H;
}

double
studio_scope_frame_pad (int levels)
{
    return STUDIO_FRAME_PAD + 10 * MAX (levels, 0);
}

double
studio_scope_frame_top (int levels)
{
    /* each nested frame's header below this one's, not over it */
    return studio_scope_frame_pad (levels) + STUDIO_FRAME_HEADER * (1 + MAX (levels, 0));
}

typedef struct {
    const double *sizes;
    int n;
    GHashTable *collapsed;
} Sizes;

static void
box_size (const BoardGraphNode *bn, double *w, double *h, gpointer data)
{
    const Sizes *s = data;
    if (bn->type == BOARD_GRAPH_OP && bn->op_index >= 0 && bn->op_index < s->n) {
        *w = s->sizes[2 * bn->op_index];
        *h = s->sizes[2 * bn->op_index + 1];
    } else if (bn->type == BOARD_GRAPH_SCOPE && s->collapsed && g_hash_table_contains (s->collapsed, bn->name)) {
        studio_scope_box_size (bn->name, w, h);
    } else {
        board_graph_node_box_size (bn, w, h);
    }
}

static gboolean
is_collapsed (const BoardGraphNode *n, GHashTable *collapsed)
{
    return collapsed && n->type == BOARD_GRAPH_SCOPE && g_hash_table_contains (collapsed, n->name);
}

/* Every group expanded but the collapsed scopes (and, with all, those too). */
static void
set_expanded (BoardGraphNode *n, GHashTable *collapsed, gboolean all)
{
    if (!n->children)
        return;
    n->expanded = all || !is_collapsed (n, collapsed);
    for (guint i = 0; i < n->children->len; i++)
        set_expanded (g_ptr_array_index (n->children, i), collapsed, all);
}

/* Top-left of n relative to `top` (an ancestor; NULL: the graph). */
static void
offset_in (const BoardGraphNode *n, const BoardGraphNode *top, double *x, double *y)
{
    *x = *y = 0;
    for (const BoardGraphNode *p = n; p && p != top && p->parent; p = p->parent) {
        *x += p->x;
        *y += p->y;
    }
}

static int
slashes (const char *s)
{
    int d = 0;
    for (const char *p = strchr (s, '/'); p; p = strchr (p + 1, '/'))
        d++;
    return d;
}

static void
collect_ops (BoardGraphNode *n, GPtrArray *out)
{
    if (n->type == BOARD_GRAPH_OP) {
        g_ptr_array_add (out, n);
        return;
    }
    for (guint i = 0; n->children && i < n->children->len; i++)
        collect_ops (g_ptr_array_index (n->children, i), out);
}

/* The outermost collapsed scopes under n. */
static void
collect_collapsed (BoardGraphNode *n, GHashTable *collapsed, GPtrArray *out)
{
    if (!n->children)
        return;
    if (is_collapsed (n, collapsed)) {
        g_ptr_array_add (out, n);
        return;
    }
    for (guint i = 0; i < n->children->len; i++)
        collect_collapsed (g_ptr_array_index (n->children, i), collapsed, out);
}

double *
studio_layout_run_collapsed (GBytes *graphdef, const double *sizes, GHashTable *collapsed,
                             gboolean quick, int *n_out)
{
    gsize len;
    const void *data = g_bytes_get_data (graphdef, &len);
    BoardGraph *g = board_graph_new_from_data (data, len, FALSE, "document", NULL);
    if (!g)
        return NULL;
    int n = (int) g->def->n_node;
    Sizes s = { sizes, n, collapsed };
    BoardGraphLayoutStyle style = { .top_down = TRUE, .box_size = box_size, .data = &s,
                                    .nodesep = "0.35", .ranksep = "0.45" };
    double *xy = g_new0 (double, 2 * (gsize) n + 2);
    gboolean *done = g_new0 (gboolean, (gsize) n + 1);

    /* inside each outermost collapsed scope: a quick layout of everything
     * in it, kept relative to the scope (placed once the box is) */
    GPtrArray *groups = g_ptr_array_new ();
    collect_collapsed (g->root, collapsed, groups);
    GPtrArray *members = g_ptr_array_new_with_free_func ((GDestroyNotify) g_ptr_array_unref);
    GArray *rel = g_array_new (FALSE, FALSE, sizeof (double));
    for (guint k = 0; k < groups->len; k++) {
        BoardGraphNode *grp = g_ptr_array_index (groups, k);
        set_expanded (grp, NULL, TRUE);
        GHashTable *set = board_graph_expanded_set (grp);
        double gx = grp->x, gy = grp->y;   /* the layout moves grp: keep it */
        board_graph_layout_apply (board_graph_layout_compute_styled (grp, set, TRUE, &style));
        g_hash_table_unref (set);
        grp->x = gx;
        grp->y = gy;
        GPtrArray *ops = g_ptr_array_new ();
        collect_ops (grp, ops);
        for (guint m = 0; m < ops->len; m++) {
            double r[2];
            offset_in (g_ptr_array_index (ops, m), grp, &r[0], &r[1]);
            g_array_append_vals (rel, r, 2);
        }
        g_ptr_array_add (members, ops);
    }

    /* the graph with those scopes as boxes */
    set_expanded (g->root, collapsed, FALSE);
    g->root->expanded = TRUE;
    GHashTable *expanded = board_graph_expanded_set (g->root);
    board_graph_layout_apply (board_graph_layout_compute_styled (g->root, expanded, quick, &style));
    g_hash_table_unref (expanded);

    guint at = 0;
    for (guint k = 0; k < groups->len; k++) {
        BoardGraphNode *grp = g_ptr_array_index (groups, k);
        GPtrArray *ops = g_ptr_array_index (members, k);
        double bx, by;
        offset_in (grp, NULL, &bx, &by);
        double minx = G_MAXDOUBLE, miny = G_MAXDOUBLE;
        int levels = 0, depth = slashes (grp->name) + 1;
        for (guint m = 0; m < ops->len; m++) {
            BoardGraphNode *op = g_ptr_array_index (ops, m);
            minx = MIN (minx, g_array_index (rel, double, at + 2 * m));
            miny = MIN (miny, g_array_index (rel, double, at + 2 * m + 1));
            levels = MAX (levels, slashes (op->name) - depth);
        }
        double pad = studio_scope_frame_pad (levels);
        for (guint m = 0; m < ops->len; m++) {
            BoardGraphNode *op = g_ptr_array_index (ops, m);
            if (op->op_index >= 0 && op->op_index < n) {
                xy[2 * op->op_index] = bx + pad + g_array_index (rel, double, at + 2 * m) - minx;
                xy[2 * op->op_index + 1] = by + studio_scope_frame_top (levels) +
                                           g_array_index (rel, double, at + 2 * m + 1) - miny;
                done[op->op_index] = TRUE;
            }
        }
        at += 2 * ops->len;
    }
    for (guint i = 0; i < g->ops->len; i++) {
        BoardGraphNode *op = g_ptr_array_index (g->ops, i);
        if (op->op_index < 0 || op->op_index >= n || done[op->op_index])
            continue;
        offset_in (op, NULL, &xy[2 * op->op_index], &xy[2 * op->op_index + 1]);
    }
    g_array_unref (rel);
    g_ptr_array_unref (members);
    g_ptr_array_unref (groups);
    g_free (done);
    board_graph_free (g);
    *n_out = n;
    return xy;
}

double *
studio_layout_run (GBytes *graphdef, const double *sizes, gboolean quick, int *n_out)
{
    return studio_layout_run_collapsed (graphdef, sizes, NULL, quick, n_out);
}

gboolean
studio_document_arrange (StudioDocument *doc, const char *const *names, gboolean quick,
                         GError **error)
{
    return studio_document_arrange_collapsed (doc, names, NULL, quick, error);
}

gboolean
studio_document_arrange_collapsed (StudioDocument *doc, const char *const *names,
                                   GHashTable *collapsed, gboolean quick, GError **error)
{
    int total = studio_document_get_n_nodes (doc);
    GPtrArray *sel = g_ptr_array_new ();
    GHashTable *want = NULL;
    if (names) {
        want = g_hash_table_new (g_str_hash, g_str_equal);
        for (int k = 0; names[k]; k++)
            g_hash_table_add (want, (gpointer) names[k]);
    }
    /* in document order, the order of the exported GraphDef */
    for (int i = 0; i < total; i++) {
        const char *name = studio_document_get_node (doc, i)->def->name;
        if (!want || g_hash_table_contains (want, name))
            g_ptr_array_add (sel, (gpointer) name);
    }
    if (want)
        g_hash_table_unref (want);
    if (sel->len == 0) {
        g_ptr_array_unref (sel);
        return TRUE;
    }
    g_ptr_array_add (sel, NULL);
    int n = (int) sel->len - 1;
    double *sizes = g_new (double, 2 * (gsize) n + 2);
    double left = G_MAXDOUBLE, top = G_MAXDOUBLE;
    gboolean any_pos = FALSE;
    for (int k = 0; k < n; k++) {
        const StudioNode *sn = studio_document_find (doc, g_ptr_array_index (sel, (guint) k), NULL);
        studio_node_size (sn, &sizes[2 * k], &sizes[2 * k + 1]);
        if (sn->has_position) {
            any_pos = TRUE;
            left = MIN (left, sn->x);
            top = MIN (top, sn->y);
        }
    }
    if (!any_pos || !names)
        left = top = 40;
    GBytes *b = studio_document_export_nodes (doc, (const char *const *) sel->pdata);
    int got = 0;
    double *xy = studio_layout_run_collapsed (b, sizes, collapsed, quick, &got);
    g_bytes_unref (b);
    gboolean ok = xy && got == n;
    if (ok) {
        for (int k = 0; k < n; k++) {
            xy[2 * k] += left;
            xy[2 * k + 1] += top;
        }
        ok = studio_document_set_positions (doc, (const char *const *) sel->pdata, xy, error);
    } else {
        g_set_error (error, STUDIO_DOCUMENT_ERROR, STUDIO_DOCUMENT_ERROR_INVALID, "layout failed");
    }
    g_free (xy);
    g_free (sizes);
    g_ptr_array_unref (sel);
    return ok;
}
