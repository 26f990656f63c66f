/* Group-by-group layout with libgvc's dot, and a quick layered fallback
 * (see the header). */
#include "board-graph-layout.h"

#include <math.h>
#include <string.h>

#include <graphviz/gvc.h>

static GMutex gv_lock;
static GVC_t *gv_context;

typedef struct {
    double x, y, w, h;
    GPtrArray *paths;   /* groups: BoardGraphEdgePath* or NULL per edge */
    gboolean laid_out;
} Box;

struct _BoardGraphLayoutResult {
    GHashTable *boxes;  /* BoardGraphNode* -> Box* */
    gboolean final;
    BoardGraphLayoutStyle style;
};

void
board_graph_edge_path_free (BoardGraphEdgePath *p)
{
    if (!p)
        return;
    g_array_unref (p->points);
    g_free (p);
}

static void
box_free (Box *b)
{
    if (b->paths)
        g_ptr_array_unref (b->paths);
    g_free (b);
}

static Box *
get_box (BoardGraphLayoutResult *r, BoardGraphNode *n)
{
    Box *b = g_hash_table_lookup (r->boxes, n);
    if (!b) {
        b = g_new0 (Box, 1);
        g_hash_table_insert (r->boxes, n, b);
    }
    return b;
}

void
board_graph_node_box_size (const BoardGraphNode *n, double *w, double *h)
{
    size_t len = g_utf8_strlen (n->label, -1);
    if (n->type == BOARD_GRAPH_OP) {
        *w = CLAMP (len * 6.6 + 22, 50, 240);
        *h = BOARD_GRAPH_OP_HEIGHT;
    } else {
        *w = CLAMP (len * 7.0 + 34, 80, 260);
        *h = BOARD_GRAPH_GROUP_HEIGHT;
    }
}

static void layout_group (BoardGraphLayoutResult *r, BoardGraphNode *g, GHashTable *expanded,
                          gboolean quick);

/* Children sizes: recursive for expanded groups. */
static void
size_children (BoardGraphLayoutResult *r, BoardGraphNode *g, GHashTable *expanded,
               gboolean quick)
{
    for (guint i = 0; i < g->children->len; i++) {
        BoardGraphNode *c = g_ptr_array_index (g->children, i);
        Box *b = get_box (r, c);
        if (c->children && g_hash_table_contains (expanded, c)) {
            layout_group (r, c, expanded, quick);
        } else if (r->style.box_size) {
            r->style.box_size (c, &b->w, &b->h, r->style.data);
        } else {
            board_graph_node_box_size (c, &b->w, &b->h);
        }
    }
}

/* Places the extracted children in a column right of the content and
 * sets the group's size; content_w/h is the size of the main layout. */
static void
finish_group (BoardGraphLayoutResult *r, BoardGraphNode *g, double content_w, double content_h)
{
    double col_x = BOARD_GRAPH_PAD + content_w + (content_w > 0 ? 24 : 0);
    double y = BOARD_GRAPH_HEADER;
    double col_w = 0;
    for (guint i = 0; i < g->children->len; i++) {
        BoardGraphNode *c = g_ptr_array_index (g->children, i);
        if (!c->extracted)
            continue;
        Box *b = get_box (r, c);
        b->x = col_x;
        b->y = y;
        y += b->h + 8;
        col_w = MAX (col_w, b->w);
    }
    Box *gb = get_box (r, g);
    double right = col_w > 0 ? col_x + col_w : BOARD_GRAPH_PAD + content_w;
    gb->w = MAX (right + BOARD_GRAPH_PAD, g_utf8_strlen (g->label, -1) * 7.0 + 40);
    gb->h = MAX (BOARD_GRAPH_HEADER + content_h + BOARD_GRAPH_PAD, y + BOARD_GRAPH_PAD - 8);
    gb->laid_out = TRUE;
}

/* ---- quick layered layout ---- */

static void
quick_layout (BoardGraphLayoutResult *r, BoardGraphNode *g)
{
    int n = (int) g->children->len;
    int *rank = g_new0 (int, n);
    /* longest path over edges in child order (edges to an earlier child
     * are back edges for this purpose); a few relaxation sweeps suffice
     * for typical graphs, and the result is only a first view. */
    for (int sweep = 0; sweep < 4; sweep++) {
        gboolean changed = FALSE;
        for (guint k = 0; k < g->edges->len; k++) {
            BoardGraphEdge *e = &g_array_index (g->edges, BoardGraphEdge, k);
            BoardGraphNode *a = g_ptr_array_index (g->children, (guint) e->from);
            BoardGraphNode *b = g_ptr_array_index (g->children, (guint) e->to);
            if (a->extracted || b->extracted || e->from == e->to)
                continue;
            if (rank[e->to] < rank[e->from] + 1 && rank[e->from] + 1 < n) {
                rank[e->to] = rank[e->from] + 1;
                changed = TRUE;
            }
        }
        if (!changed)
            break;
    }
    int max_rank = 0;
    for (int i = 0; i < n; i++)
        max_rank = MAX (max_rank, rank[i]);
    /* rows: rank 0 at the bottom (bottom-to-top, as dot's BT); a rank
     * wider than 40 boxes wraps into several rows */
    double *row_h = g_new0 (double, (gsize) max_rank + 1);
    int *row_n = g_new0 (int, (gsize) max_rank + 1);
    for (int i = 0; i < n; i++) {
        BoardGraphNode *c = g_ptr_array_index (g->children, (guint) i);
        if (c->extracted)
            continue;
        Box *b = get_box (r, c);
        row_h[rank[i]] = MAX (row_h[rank[i]], b->h);
        row_n[rank[i]]++;
    }
    double *row_y = g_new0 (double, (gsize) max_rank + 1);
    double total_h = 0;
    for (int k = 0; k <= max_rank; k++) {
        int sub = (row_n[k] + 39) / 40;
        total_h += sub * (row_h[k] + 30);
    }
    double y = r->style.top_down ? 0 : total_h;
    for (int k = 0; k <= max_rank; k++) {
        int sub = MAX (1, (row_n[k] + 39) / 40);
        if (r->style.top_down) {
            row_y[k] = y;
            y += sub * (row_h[k] + 30);
        } else {
            y -= sub * (row_h[k] + 30);
            row_y[k] = y;
        }
    }
    double *row_x = g_new0 (double, (gsize) max_rank + 1);
    int *row_i = g_new0 (int, (gsize) max_rank + 1);
    double content_w = 0;
    for (int i = 0; i < n; i++) {
        BoardGraphNode *c = g_ptr_array_index (g->children, (guint) i);
        if (c->extracted)
            continue;
        int k = rank[i];
        if (row_i[k] > 0 && row_i[k] % 40 == 0)
            row_x[k] = 0;
        Box *b = get_box (r, c);
        b->x = BOARD_GRAPH_PAD + row_x[k];
        b->y = BOARD_GRAPH_HEADER + row_y[k] + (row_i[k] / 40) * (row_h[k] + 30);
        row_x[k] += b->w + 12;
        row_i[k]++;
        content_w = MAX (content_w, row_x[k]);
    }
    /* straight edges between box centres */
    Box *gb = get_box (r, g);
    gb->paths = g_ptr_array_new_with_free_func ((GDestroyNotify) board_graph_edge_path_free);
    for (guint k = 0; k < g->edges->len; k++) {
        BoardGraphEdge *e = &g_array_index (g->edges, BoardGraphEdge, k);
        BoardGraphNode *a = g_ptr_array_index (g->children, (guint) e->from);
        BoardGraphNode *b = g_ptr_array_index (g->children, (guint) e->to);
        if (a->extracted || b->extracted) {
            g_ptr_array_add (gb->paths, NULL);
            continue;
        }
        Box *ba = get_box (r, a), *bb = get_box (r, b);
        BoardGraphEdgePath *p = g_new0 (BoardGraphEdgePath, 1);
        p->points = g_array_new (FALSE, FALSE, sizeof (BoardXY));
        BoardXY p0 = { ba->x + ba->w / 2, ba->y };
        BoardXY p1 = { bb->x + bb->w / 2, bb->y + bb->h };
        if (bb->y > ba->y) {   /* b below a (a back edge in BT): leave from the bottom, enter on top */
            p0.y = ba->y + ba->h;
            p1.y = bb->y;
        }
        g_array_append_val (p->points, p0);
        g_array_append_val (p->points, p1);
        p->tip = p1;
        p->has_tip = TRUE;
        g_ptr_array_add (gb->paths, p);
    }
    finish_group (r, g, MAX (content_w - 12, 0), total_h > 0 ? total_h - 30 : 0);
    g_free (row_x);
    g_free (row_i);
    g_free (row_y);
    g_free (row_n);
    g_free (row_h);
    g_free (rank);
}

/* ---- dot ---- */

static void
set_attr (void *obj, const char *name, const char *value)
{
    agsafeset (obj, (char *) name, (char *) value, (char *) "");
}

static gboolean
dot_layout (BoardGraphLayoutResult *r, BoardGraphNode *g)
{
    int n = (int) g->children->len;
    g_mutex_lock (&gv_lock);
    if (!gv_context)
        gv_context = gvContext ();
    Agraph_t *G = agopen ((char *) "g", Agdirected, NULL);
    set_attr (G, "rankdir", r->style.top_down ? "TB" : "BT");
    set_attr (G, "nodesep", r->style.nodesep ? r->style.nodesep : "0.22");
    set_attr (G, "ranksep", r->style.ranksep ? r->style.ranksep : "0.4");
    set_attr (G, "splines", n <= 300 ? "true" : "line");
    agattr (G, AGNODE, (char *) "shape", (char *) "box");
    agattr (G, AGNODE, (char *) "fixedsize", (char *) "true");
    agattr (G, AGNODE, (char *) "label", (char *) "");

    Agnode_t **nodes = g_new0 (Agnode_t *, (gsize) n);
    int placed = 0;
    for (int i = 0; i < n; i++) {
        BoardGraphNode *c = g_ptr_array_index (g->children, (guint) i);
        if (c->extracted)
            continue;
        char id[32], wbuf[G_ASCII_DTOSTR_BUF_SIZE], hbuf[G_ASCII_DTOSTR_BUF_SIZE];
        g_snprintf (id, sizeof id, "n%d", i);
        Box *b = get_box (r, c);
        nodes[i] = agnode (G, id, 1);
        set_attr (nodes[i], "width", g_ascii_formatd (wbuf, sizeof wbuf, "%.4f", b->w / 72.0));
        set_attr (nodes[i], "height", g_ascii_formatd (hbuf, sizeof hbuf, "%.4f", b->h / 72.0));
        placed++;
    }
    Agedge_t **edges = g_new0 (Agedge_t *, g->edges->len + 1);
    for (guint k = 0; k < g->edges->len; k++) {
        BoardGraphEdge *e = &g_array_index (g->edges, BoardGraphEdge, k);
        if (!nodes[e->from] || !nodes[e->to])
            continue;
        char id[32];
        g_snprintf (id, sizeof id, "e%u", k);
        edges[k] = agedge (G, nodes[e->from], nodes[e->to], id, 1);
        if (e->control)
            set_attr (edges[k], "weight", "0");
    }

    gboolean ok = placed == 0 || gvLayout (gv_context, G, "dot") == 0;
    double content_w = 0, content_h = 0;
    Box *gb = get_box (r, g);
    gb->paths = g_ptr_array_new_with_free_func ((GDestroyNotify) board_graph_edge_path_free);
    if (ok && placed > 0) {
        boxf bb = GD_bb (G);
        content_w = bb.UR.x - bb.LL.x;
        content_h = bb.UR.y - bb.LL.y;
        double ox = BOARD_GRAPH_PAD - bb.LL.x, top = bb.UR.y;
#define TX(px) ((px) + ox)
#define TY(py) (BOARD_GRAPH_HEADER + (top - (py)))
        for (int i = 0; i < n; i++) {
            if (!nodes[i])
                continue;
            Box *b = get_box (r, g_ptr_array_index (g->children, (guint) i));
            b->x = TX (ND_coord (nodes[i]).x) - b->w / 2;
            b->y = TY (ND_coord (nodes[i]).y) - b->h / 2;
        }
        for (guint k = 0; k < g->edges->len; k++) {
            Agedge_t *e = edges[k];
            splines *spl = e ? ED_spl (e) : NULL;
            if (!spl || spl->size < 1 || spl->list[0].size < 2) {
                g_ptr_array_add (gb->paths, NULL);
                continue;
            }
            bezier *bz = &spl->list[0];
            BoardGraphEdgePath *p = g_new0 (BoardGraphEdgePath, 1);
            p->points = g_array_sized_new (FALSE, FALSE, sizeof (BoardXY), (guint) bz->size);
            for (int q = 0; q < (int) bz->size; q++) {
                BoardXY pt = { TX (bz->list[q].x), TY (bz->list[q].y) };
                g_array_append_val (p->points, pt);
            }
            p->bezier = (bz->size - 1) % 3 == 0;
            if (bz->eflag) {
                p->tip = (BoardXY) { TX (bz->ep.x), TY (bz->ep.y) };
            } else {
                p->tip = g_array_index (p->points, BoardXY, p->points->len - 1);
            }
            p->has_tip = TRUE;
            g_ptr_array_add (gb->paths, p);
        }
#undef TX
#undef TY
        gvFreeLayout (gv_context, G);
    }
    agclose (G);
    g_mutex_unlock (&gv_lock);
    g_free (edges);
    g_free (nodes);
    if (!ok) {
        g_ptr_array_unref (gb->paths);
        gb->paths = NULL;
        return FALSE;
    }
    finish_group (r, g, content_w, content_h);
    return TRUE;
}

static void
layout_group (BoardGraphLayoutResult *r, BoardGraphNode *g, GHashTable *expanded, gboolean quick)
{
    size_children (r, g, expanded, quick);
    gboolean use_dot = !quick && g->children->len <= BOARD_GRAPH_DOT_MAX;
    if (!use_dot || !dot_layout (r, g)) {
        quick_layout (r, g);
        r->final = FALSE;
    }
}

BoardGraphLayoutResult *
board_graph_layout_compute (BoardGraphNode *group, GHashTable *expanded, gboolean quick)
{
    return board_graph_layout_compute_styled (group, expanded, quick, NULL);
}

BoardGraphLayoutResult *
board_graph_layout_compute_styled (BoardGraphNode *group, GHashTable *expanded, gboolean quick,
                                   const BoardGraphLayoutStyle *style)
{
    BoardGraphLayoutResult *r = g_new0 (BoardGraphLayoutResult, 1);
    if (style)
        r->style = *style;
    r->boxes = g_hash_table_new_full (NULL, NULL, NULL, (GDestroyNotify) box_free);
    r->final = TRUE;
    layout_group (r, group, expanded, quick);
    Box *root = get_box (r, group);
    root->x = 0;
    root->y = 0;
    return r;
}

gboolean
board_graph_layout_result_is_final (const BoardGraphLayoutResult *r)
{
    return r->final;
}

void
board_graph_layout_apply (BoardGraphLayoutResult *r)
{
    GHashTableIter it;
    gpointer key, value;
    g_hash_table_iter_init (&it, r->boxes);
    while (g_hash_table_iter_next (&it, &key, &value)) {
        BoardGraphNode *n = key;
        Box *b = value;
        if (n->parent || b->laid_out) {
            n->x = b->x;
            n->y = b->y;
        }
        n->w = b->w;
        n->h = b->h;
        if (b->laid_out) {
            if (n->edge_paths)
                g_ptr_array_unref (n->edge_paths);
            n->edge_paths = b->paths;
            b->paths = NULL;
            n->laid_out = TRUE;
        }
    }
    board_graph_layout_result_free (r);
}

void
board_graph_layout_result_free (BoardGraphLayoutResult *r)
{
    if (!r)
        return;
    g_hash_table_unref (r->boxes);
    g_free (r);
}

static void
collect_expanded (BoardGraphNode *n, GHashTable *set)
{
    if (!n->children || !n->expanded)
        return;
    g_hash_table_add (set, n);
    for (guint i = 0; i < n->children->len; i++)
        collect_expanded (g_ptr_array_index (n->children, i), set);
}

GHashTable *
board_graph_expanded_set (BoardGraphNode *root)
{
    GHashTable *set = g_hash_table_new (NULL, NULL);
    collect_expanded (root, set);
    return set;
}
