/* Geometry and the board's dot layout applied to documents (see the
 * header). */
#include "config.h"

#include "studio-layout.h"

#include "board-graph-layout.h"
#include "board-graph.h"

void
studio_node_size (const StudioNode *n, double *w, double *h)
{
    int ports = MAX (n->n_inputs, n->n_outputs);
    const char *label = n->def->name;
    const char *slash = strrchr (label, '/');
    if (slash)
        label = slash + 1;
    double text_w = (double) MAX (g_utf8_strlen (label, -1), g_utf8_strlen (n->def->op, -1) + 2) * 7.4 + 24;
    *w = MAX (MAX (STUDIO_NODE_MIN_WIDTH, ports * STUDIO_PORT_SPACING), MIN (text_w, 320));
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

typedef struct {
    const double *sizes;
    int n;
} Sizes;

static void
box_size (const BoardGraphNode *bn, double *w, double *h, gpointer data)
{
    const Sizes *s = data;
    if (bn->type == BOARD_GRAPH_OP && bn->op_index >= 0 && bn->op_index < s->n) {
        *w = s->sizes[2 * bn->op_index];
        *h = s->sizes[2 * bn->op_index + 1];
    } else {
        board_graph_node_box_size (bn, w, h);
    }
}

static void
expand_all (BoardGraphNode *n)
{
    if (!n->children)
        return;
    n->expanded = TRUE;
    for (guint i = 0; i < n->children->len; i++)
        expand_all (g_ptr_array_index (n->children, i));
}

double *
studio_layout_run (GBytes *graphdef, const double *sizes, gboolean quick, int *n_out)
{
    gsize len;
    const void *data = g_bytes_get_data (graphdef, &len);
    BoardGraph *g = board_graph_new_from_data (data, len, FALSE, "document", NULL);
    if (!g)
        return NULL;
    int n = (int) g->def->n_node;
    Sizes s = { sizes, n };
    expand_all (g->root);
    GHashTable *expanded = board_graph_expanded_set (g->root);
    BoardGraphLayoutStyle style = { .top_down = TRUE, .box_size = box_size, .data = &s,
                                    .nodesep = "0.35", .ranksep = "0.45" };
    board_graph_layout_apply (board_graph_layout_compute_styled (g->root, expanded, quick, &style));
    g_hash_table_unref (expanded);
    double *xy = g_new0 (double, 2 * (gsize) n + 2);
    for (guint i = 0; i < g->ops->len; i++) {
        BoardGraphNode *op = g_ptr_array_index (g->ops, i);
        double x = 0, y = 0;
        for (BoardGraphNode *p = op; p && p->parent; p = p->parent) {
            x += p->x;
            y += p->y;
        }
        if (op->op_index >= 0 && op->op_index < n) {
            xy[2 * op->op_index] = x;
            xy[2 * op->op_index + 1] = y;
        }
    }
    board_graph_free (g);
    *n_out = n;
    return xy;
}

gboolean
studio_document_arrange (StudioDocument *doc, const char *const *names, gboolean quick,
                         GError **error)
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
    double *xy = studio_layout_run (b, sizes, quick, &got);
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
