/* The studio's widgets in real windows (needs a display; exit 77 when
 * none, so the test is skipped rather than passed): the canvas maps
 * nodes and ports to the screen, zooms, collapses scopes and selects;
 * the inspector edits attrs through its own widgets and the edit undoes;
 * the problems list follows validation and jumps to a node; the window's
 * actions (select all, duplicate, delete, undo, redo) act on the
 * document. */
#include "config.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <glib/gstdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "studio-document.h"
#include "studio-graph-canvas.h"
#include "studio-inspector.h"
#include "studio-layout.h"
#include "studio-templates.h"
#include "studio-window.h"

/* ---- helpers ------------------------------------------------------------ */

static void
spin (int ms)
{
    gint64 end = g_get_monotonic_time () + ms * 1000;
    while (g_get_monotonic_time () < end)
        if (!g_main_context_iteration (NULL, FALSE))
            g_usleep (2000);
}

/* Iterates the main loop until cond(data) or timeout; returns cond. */
static gboolean
spin_until (gboolean (*cond) (gpointer), gpointer data, int timeout_ms)
{
    gint64 end = g_get_monotonic_time () + timeout_ms * 1000;
    while (!cond (data) && g_get_monotonic_time () < end)
        if (!g_main_context_iteration (NULL, FALSE))
            g_usleep (2000);
    return cond (data);
}

/* ---- timing a first view ------------------------------------------------
 * The goal: a graph's first view (open: read, validate, lay out; then the
 * first frame drawn) within 2 s.  The wall clock alone says little on a
 * shared machine (a load average of 15 on 2 cores made an 8-node graph's
 * first view take 1.5 s), so each measurement takes both the wall clock and
 * this process's CPU time (all its threads: the studio's own work, whatever
 * else runs).  The CPU time must stay within the goal; the wall clock within
 * the goal times how oversubscribed the CPUs are (the load average per core,
 * at least 1, at most 20), so an idle machine is held to 2 s while a busy one
 * still fails a real regression: the CPU time catches that, loaded or not.
 * The 549-node graph's open (read, validate, lay out its collapsed scopes)
 * also has a CPU budget of its own, 250 ms: 5-8 times what it takes on a
 * loaded 2-core VM (30-50 ms CPU; its first view 75-90 ms CPU). */

typedef struct {
    gint64 wall, cpu;   /* µs */
} Stamp;

static Stamp
stamp (void)
{
    struct timespec ts;
    clock_gettime (CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (Stamp) { g_get_monotonic_time (), (gint64) ts.tv_sec * G_USEC_PER_SEC + ts.tv_nsec / 1000 };
}

/* The load average per online core (the 1-minute one, or the runnable
 * count now when that is higher: load that just began), clamped to [1, 20]. */
static double
load_factor (void)
{
    static double cached = -1;
    static gint64 when;
    gint64 now = g_get_monotonic_time ();
    if (cached > 0 && now - when < G_USEC_PER_SEC)
        return cached;
    double load1 = 0;
    int running = 0, total = 0;
    char *text = NULL;
    if (g_file_get_contents ("/proc/loadavg", &text, NULL, NULL)) {
        sscanf (text, "%lf %*f %*f %d/%d", &load1, &running, &total);
        g_free (text);
    }
    long cores = sysconf (_SC_NPROCESSORS_ONLN);
    double load = MAX (load1, (double) running - 1);   /* this test is one of the running */
    double f = cores > 0 ? load / (double) cores : 1;
    cached = CLAMP (f, 1.0, 20.0);
    when = now;
    return cached;
}

#define FIRST_VIEW_GOAL_US (2 * G_USEC_PER_SEC)
#define LARGE_OPEN_CPU_US (250 * 1000)

/* Checks a first view measured from a to b against the goal; what names it
 * in the message. */
static void
check_first_view (const char *what, Stamp a, Stamp b)
{
    double wall = (double) (b.wall - a.wall), cpu = (double) (b.cpu - a.cpu), f = load_factor ();
    if (cpu >= FIRST_VIEW_GOAL_US || wall >= FIRST_VIEW_GOAL_US * f)
        fail_msg ("%s: %.0f ms CPU (goal %.0f ms), %.0f ms wall (bound %.0f ms at load %.1f per core)", what,
                  cpu / 1e3, FIRST_VIEW_GOAL_US / 1e3, wall / 1e3, FIRST_VIEW_GOAL_US * f / 1e3, f);
}

typedef gboolean (*WidgetPred) (GtkWidget *w, gpointer data);

static GtkWidget *
find_widget (GtkWidget *root, WidgetPred pred, gpointer data)
{
    if (pred (root, data))
        return root;
    for (GtkWidget *c = gtk_widget_get_first_child (root); c; c = gtk_widget_get_next_sibling (c)) {
        GtkWidget *found = find_widget (c, pred, data);
        if (found)
            return found;
    }
    return NULL;
}

static gboolean
is_attr_widget (GtkWidget *w, gpointer key)
{
    return g_strcmp0 (g_object_get_data (G_OBJECT (w), "attr"), key) == 0 && gtk_widget_get_mapped (w);
}

static gboolean
is_type (GtkWidget *w, gpointer type)
{
    return G_TYPE_CHECK_INSTANCE_TYPE (w, (GType) GPOINTER_TO_SIZE (type)) && gtk_widget_get_mapped (w);
}

/* the problems list's rows carry a "node" */
static gboolean
is_problem_row (GtkWidget *w, gpointer data)
{
    return GTK_IS_LIST_BOX_ROW (w) && g_object_get_data (G_OBJECT (w), "node");
}

static int
count_problem_rows (GtkWidget *root)
{
    GtkWidget *row = find_widget (root, is_problem_row, NULL);
    int n = 0;
    for (GtkWidget *r = row; r; r = gtk_widget_get_next_sibling (r))
        n++;
    return n;
}

static StudioWindow *
new_window (int w, int h)
{
    StudioWindow *win = studio_window_new (NULL);
    gtk_window_set_default_size (GTK_WINDOW (win), w, h);
    gtk_window_present (GTK_WINDOW (win));
    gtk_test_widget_wait_for_draw (GTK_WIDGET (win));
    return win;
}

static void
close_window (StudioWindow *win)
{
    /* discard: the tests never want the unsaved-changes prompt */
    studio_document_forget_history (studio_window_get_document (win));
    gtk_window_destroy (GTK_WINDOW (win));
    spin (20);
}

static void
activate (StudioWindow *win, const char *action)
{
    g_action_group_activate_action (G_ACTION_GROUP (win), action, NULL);
    spin (10);
}

static GBytes *
export (StudioWindow *win)
{
    return studio_document_export (studio_window_get_document (win), FALSE);
}

/* ---- canvas ------------------------------------------------------------- */

static void
selection_count (StudioGraphCanvas *c, int *n)
{
    (*n)++;
}

static void
test_canvas_maps_nodes_and_ports (void **state)
{
    StudioDocument *doc = studio_document_new ();
    assert_true (studio_template_apply (doc, "mnist-mlp", NULL, 0, 40, 40, NULL, NULL));
    GtkWidget *win = gtk_window_new ();
    GtkWidget *canvas = studio_graph_canvas_new (doc);
    StudioGraphCanvas *c = STUDIO_GRAPH_CANVAS (canvas);
    gtk_window_set_child (GTK_WINDOW (win), canvas);
    gtk_window_set_default_size (GTK_WINDOW (win), 800, 700);
    gtk_window_present (GTK_WINDOW (win));
    gtk_test_widget_wait_for_draw (canvas);
    spin (50);
    int W = gtk_widget_get_width (canvas), H = gtk_widget_get_height (canvas);
    assert_true (W > 100 && H > 100);

    /* the first view fits the graph: every node box inside the canvas */
    for (int i = 0; i < studio_document_get_n_nodes (doc); i++) {
        const StudioNode *n = studio_document_get_node (doc, i);
        graphene_rect_t r;
        assert_true (studio_graph_canvas_get_node_rect (c, n->def->name, &r));
        assert_true (r.origin.x >= 0 && r.origin.y >= 0);
        assert_true (r.origin.x + r.size.width <= W && r.origin.y + r.size.height <= H);
    }
    /* an output port sits on the bottom edge of its box, an input on the top */
    graphene_rect_t mm;
    double px, py;
    assert_true (studio_graph_canvas_get_node_rect (c, "dense/MatMul", &mm));
    assert_true (studio_graph_canvas_get_port_point (c, "dense/MatMul", FALSE, 0, &px, &py));
    assert_float_equal (py, mm.origin.y + mm.size.height, 1.0);
    assert_true (px > mm.origin.x && px < mm.origin.x + mm.size.width);
    assert_true (studio_graph_canvas_get_port_point (c, "dense/MatMul", TRUE, 1, &px, &py));
    assert_float_equal (py, mm.origin.y, 1.0);
    assert_false (studio_graph_canvas_get_port_point (c, "dense/MatMul", TRUE, 2, &px, &py));

    /* zoom about the centre scales boxes */
    studio_graph_canvas_zoom (c, 1.5);
    graphene_rect_t mm2;
    assert_true (studio_graph_canvas_get_node_rect (c, "dense/MatMul", &mm2));
    assert_float_equal (mm2.size.width, mm.size.width * 1.5, 0.5);
    studio_graph_canvas_fit (c);
    assert_true (studio_graph_canvas_get_node_rect (c, "dense/MatMul", &mm2));
    assert_float_equal (mm2.size.width, mm.size.width, 0.5);

    /* a collapsed scope hides its nodes; expanding shows them again */
    studio_graph_canvas_set_collapsed (c, "dense", TRUE);
    assert_true (studio_graph_canvas_is_collapsed (c, "dense"));
    assert_false (studio_graph_canvas_get_node_rect (c, "dense/MatMul", &mm2));
    assert_true (studio_graph_canvas_get_node_rect (c, "images", &mm2));
    gtk_widget_queue_draw (canvas);
    gtk_test_widget_wait_for_draw (canvas);
    studio_graph_canvas_set_collapsed (c, "dense", FALSE);
    assert_true (studio_graph_canvas_get_node_rect (c, "dense/MatMul", &mm2));

    /* selection: by name, added, all, cleared; each change signalled */
    int changes = 0;
    g_signal_connect (c, "selection-changed", G_CALLBACK (selection_count), &changes);
    studio_graph_canvas_select (c, "images", FALSE);
    assert_string_equal (studio_graph_canvas_get_selected (c), "images");
    studio_graph_canvas_select (c, "labels", TRUE);
    assert_null (studio_graph_canvas_get_selected (c));
    char **sel = studio_graph_canvas_get_selection (c);
    assert_int_equal (g_strv_length (sel), 2);
    g_strfreev (sel);
    studio_graph_canvas_select_all (c);
    sel = studio_graph_canvas_get_selection (c);
    assert_int_equal (g_strv_length (sel), studio_document_get_n_nodes (doc));
    g_strfreev (sel);
    studio_graph_canvas_select (c, NULL, FALSE);
    sel = studio_graph_canvas_get_selection (c);
    assert_int_equal (g_strv_length (sel), 0);
    g_strfreev (sel);
    assert_int_equal (changes, 4);

    /* a deleted node leaves the selection (and says so) */
    studio_graph_canvas_select (c, "labels", FALSE);
    const char *gone[] = { "labels", NULL };
    assert_true (studio_document_delete_nodes (doc, gone, NULL));
    assert_null (studio_graph_canvas_get_selected (c));
    gtk_test_widget_wait_for_draw (canvas);

    gtk_window_destroy (GTK_WINDOW (win));
    spin (20);
    g_object_unref (doc);
}

/* ---- window: inspector, problems, actions ------------------------------ */

static gboolean
problems_gone (gpointer win)
{
    return studio_document_count_problems (studio_window_get_document (win)) == 0;
}

static void
test_window_inspector_edit_shows_problem_and_undoes (void **state)
{
    StudioWindow *win = new_window (1300, 800);
    StudioDocument *doc = studio_window_get_document (win);
    assert_true (studio_template_apply (doc, "mnist-mlp", NULL, 0, 40, 40, NULL, NULL));
    studio_document_forget_history (doc);
    spin (50);
    assert_int_equal (count_problem_rows (GTK_WIDGET (win)), 0);
    GBytes *before = export (win);

    /* select the input: the inspector shows its shape attr */
    studio_window_select (win, "images");
    spin (30);
    GtkWidget *shape = find_widget (GTK_WIDGET (win), is_attr_widget, (gpointer) "shape");
    assert_non_null (shape);
    assert_true (GTK_IS_ENTRY (shape));
    assert_string_equal (gtk_editable_get_text (GTK_EDITABLE (shape)), "[?,784]");

    /* typing a shape that does not fit the kernel: the MatMul is marked,
     * the problems list names it, the title says modified */
    gtk_editable_set_text (GTK_EDITABLE (shape), "[?,100]");
    g_signal_emit_by_name (shape, "activate");
    spin (50);
    const StudioNode *mm = studio_document_find (doc, "dense/MatMul", NULL);
    assert_int_equal (mm->state, STUDIO_NODE_ERROR);
    assert_non_null (strstr (mm->message, "dense/kernel"));
    assert_int_equal (count_problem_rows (GTK_WIDGET (win)), studio_document_count_problems (doc));
    assert_true (count_problem_rows (GTK_WIDGET (win)) >= 1);
    assert_true (g_str_has_prefix (gtk_window_get_title (GTK_WINDOW (win)), "\u2022 "));

    /* a value that does not parse is refused in place; nothing changes */
    GBytes *mid = export (win);
    shape = find_widget (GTK_WIDGET (win), is_attr_widget, (gpointer) "shape");
    gtk_editable_set_text (GTK_EDITABLE (shape), "[?,,x");
    g_signal_emit_by_name (shape, "activate");
    spin (30);
    GBytes *mid2 = export (win);
    assert_true (g_bytes_equal (mid, mid2));
    g_bytes_unref (mid);
    g_bytes_unref (mid2);

    /* activating the problem row selects the node it names */
    GtkWidget *row = find_widget (GTK_WIDGET (win), is_problem_row, NULL);
    assert_non_null (row);
    const char *node = g_object_get_data (G_OBJECT (row), "node");
    g_signal_emit_by_name (gtk_widget_get_parent (row), "row-activated", row);
    spin (20);
    assert_string_equal (studio_graph_canvas_get_selected (studio_window_get_canvas (win)), node);

    /* undo gives back the exact graph and clears the problems */
    activate (win, "undo");
    assert_true (spin_until (problems_gone, win, 20000));
    GBytes *after = export (win);
    assert_true (g_bytes_equal (before, after));
    g_bytes_unref (after);
    assert_int_equal (count_problem_rows (GTK_WIDGET (win)), 0);

    /* the dtype menu: picking a type edits the attr */
    studio_window_select (win, "dense/MatMul");
    spin (30);
    GtkWidget *dd = find_widget (GTK_WIDGET (win), is_attr_widget, (gpointer) "T");
    assert_non_null (dd);
    assert_true (GTK_IS_DROP_DOWN (dd));
    GtkStringList *model = GTK_STRING_LIST (gtk_drop_down_get_model (GTK_DROP_DOWN (dd)));
    guint dbl = GTK_INVALID_LIST_POSITION;
    for (guint i = 0; i < g_list_model_get_n_items (G_LIST_MODEL (model)); i++)
        if (!strcmp (gtk_string_list_get_string (model, i), "double"))
            dbl = i;
    assert_true (dbl != GTK_INVALID_LIST_POSITION);
    gtk_drop_down_set_selected (GTK_DROP_DOWN (dd), dbl);
    spin (30);
    mm = studio_document_find (doc, "dense/MatMul", NULL);
    assert_int_equal (mm->state, STUDIO_NODE_ERROR);   /* float inputs, T double */
    activate (win, "undo");
    assert_true (spin_until (problems_gone, win, 20000));

    /* renaming through the Name entry renames every reference */
    studio_window_select (win, "images");
    spin (30);
    GtkWidget *name = find_widget (GTK_WIDGET (win), is_type, GSIZE_TO_POINTER (GTK_TYPE_ENTRY));
    assert_non_null (name);
    assert_string_equal (gtk_editable_get_text (GTK_EDITABLE (name)), "images");
    gtk_editable_set_text (GTK_EDITABLE (name), "pixels");
    g_signal_emit_by_name (name, "activate");
    spin (30);
    assert_null (studio_document_find (doc, "images", NULL));
    assert_non_null (studio_document_find (doc, "pixels", NULL));
    assert_int_equal (studio_document_count_problems (doc), 0);
    activate (win, "undo");
    after = export (win);
    assert_true (g_bytes_equal (before, after));
    g_bytes_unref (after);

    g_bytes_unref (before);
    close_window (win);
}

static void
test_window_actions_edit_the_document (void **state)
{
    StudioWindow *win = new_window (1200, 760);
    StudioDocument *doc = studio_window_get_document (win);
    StudioGraphCanvas *c = studio_window_get_canvas (win);
    assert_true (studio_template_apply (doc, "dense", NULL, 0, 40, 40, NULL, NULL));
    studio_document_forget_history (doc);
    GAction *undo = g_action_map_lookup_action (G_ACTION_MAP (win), "undo");
    assert_false (g_action_get_enabled (undo));
    int n0 = studio_document_get_n_nodes (doc);
    GBytes *before = export (win);

    /* duplicate the selection: the copies are new nodes, selected */
    studio_graph_canvas_select (c, "dense/MatMul", FALSE);
    activate (win, "duplicate");
    assert_int_equal (studio_document_get_n_nodes (doc), n0 + 1);
    const char *copy = studio_graph_canvas_get_selected (c);
    assert_non_null (copy);
    assert_string_not_equal (copy, "dense/MatMul");
    assert_true (g_action_get_enabled (undo));

    /* select all, delete: empty; undo twice gives back the exact graph */
    activate (win, "select-all");
    char **sel = studio_graph_canvas_get_selection (c);
    assert_int_equal (g_strv_length (sel), n0 + 1);
    g_strfreev (sel);
    activate (win, "delete");
    assert_int_equal (studio_document_get_n_nodes (doc), 0);
    activate (win, "undo");
    assert_int_equal (studio_document_get_n_nodes (doc), n0 + 1);
    activate (win, "undo");
    GBytes *after = export (win);
    assert_true (g_bytes_equal (before, after));
    g_bytes_unref (after);
    activate (win, "redo");
    assert_int_equal (studio_document_get_n_nodes (doc), n0 + 1);
    activate (win, "undo");

    /* group the selection into a scope, then take it apart */
    studio_graph_canvas_select (c, "dense/Relu", FALSE);
    studio_graph_canvas_select (c, "dense/BiasAdd", TRUE);
    activate (win, "group");
    assert_non_null (studio_document_find (doc, "group_1/dense/Relu", NULL));
    activate (win, "undo");
    after = export (win);
    assert_true (g_bytes_equal (before, after));
    g_bytes_unref (after);

    /* arrange is one undoable edit too */
    activate (win, "arrange");
    activate (win, "undo");
    after = export (win);
    assert_true (g_bytes_equal (before, after));
    g_bytes_unref (after);

    g_bytes_unref (before);
    close_window (win);
}

/* ---- the big graph: first view, redraws ------------------------------- */

typedef struct {
    StudioGraphCanvas *canvas;
    guint builds;
} DrawWait;

static gboolean
drew_again (gpointer data)
{
    DrawWait *d = data;
    guint builds;
    studio_graph_canvas_get_stats (d->canvas, NULL, &builds, NULL);
    return builds > d->builds;
}

static void
test_large_graph_first_view_and_redraws (void **state)
{
    char *path = g_build_filename (STUDIO_FIXTURES_DIR, "graphs", "hello_tf_c_api_sru_frozen_graph.pb", NULL);
    if (!g_file_test (path, G_FILE_TEST_EXISTS)) {
        g_free (path);
        skip ();
    }
    StudioWindow *win = new_window (1400, 860);
    StudioGraphCanvas *c = studio_window_get_canvas (win);
    StudioDocument *doc = studio_window_get_document (win);
    guint frames, builds, drawn;
    studio_graph_canvas_get_stats (c, &frames, &builds, &drawn);

    /* the first view: open (read, validate, lay out) and draw */
    DrawWait dw = { c, builds };
    Stamp t0 = stamp ();
    assert_true (studio_window_open (win, path));
    Stamp t1 = stamp ();
    assert_true (spin_until (drew_again, &dw, 30000));
    gtk_test_widget_wait_for_draw (GTK_WIDGET (win));   /* the frame painted */
    Stamp t2 = stamp ();
    int n = studio_document_get_n_nodes (doc);
    studio_graph_canvas_get_stats (c, &frames, &builds, &drawn);
    print_message ("549-node graph: %d nodes, open+layout %.0f ms (CPU %.0f ms), first view drawn after "
                   "%.0f ms (CPU %.0f ms; load %.1f per core) (%u nodes painted)\n", n, (t1.wall - t0.wall) / 1e3,
                   (t1.cpu - t0.cpu) / 1e3, (t2.wall - t0.wall) / 1e3, (t2.cpu - t0.cpu) / 1e3, load_factor (),
                   drawn);
    assert_int_equal (n, 549);
    check_first_view ("549-node graph's first view", t0, t2);
    if (t1.cpu - t0.cpu >= LARGE_OPEN_CPU_US)
        fail_msg ("549-node graph: open+layout took %.0f ms of CPU (budget %.0f ms)", (t1.cpu - t0.cpu) / 1e3,
                  LARGE_OPEN_CPU_US / 1e3);
    assert_int_equal (studio_document_count_problems (doc), 0);
    assert_false (studio_document_is_modified (doc));   /* the layout is not an edit */

    /* nothing changes: no drawing at all */
    spin (150);
    studio_graph_canvas_get_stats (c, &frames, &builds, NULL);
    spin (400);
    guint frames2, builds2;
    studio_graph_canvas_get_stats (c, &frames2, &builds2, NULL);
    assert_int_equal (frames2, frames);
    assert_int_equal (builds2, builds);

    /* GTK asks for a frame (a window change, pointer feedback): the graph
     * layer is reused, not drawn again */
    gtk_widget_queue_draw (GTK_WIDGET (c));
    gtk_test_widget_wait_for_draw (GTK_WIDGET (c));
    spin (30);
    studio_graph_canvas_get_stats (c, &frames2, &builds2, NULL);
    assert_true (frames2 > frames);
    assert_int_equal (builds2, builds);

    /* a change it shows: drawn once more */
    dw.builds = builds2;
    const char *some = studio_document_get_node (doc, 10)->def->name;
    studio_graph_canvas_select (c, some, FALSE);
    assert_true (spin_until (drew_again, &dw, 20000));
    spin (30);
    guint builds3;
    studio_graph_canvas_get_stats (c, NULL, &builds3, NULL);
    assert_int_equal (builds3, builds2 + 1);

    /* zoomed in on one node, only the nodes in view are painted */
    dw.builds = builds3;
    studio_window_select (win, some);
    studio_graph_canvas_zoom (c, 2.0);
    assert_true (spin_until (drew_again, &dw, 20000));
    studio_graph_canvas_get_stats (c, NULL, NULL, &drawn);
    print_message ("zoomed in on %s: %u of %d nodes painted\n", some, drawn, n);
    assert_true (drawn >= 1 && drawn < (guint) n / 4);

    close_window (win);
    g_free (path);
}

/* Every fixture graph opens readably: its first view (open, lay out,
 * draw) within 2 s, at a scale where labels can be read, showing a
 * bounded number of boxes; a big graph opens with its scopes collapsed
 * and opening one lays its content out (more nodes shown, the box's
 * corner kept in place, the document still unmodified). */
static void
test_fixture_graphs_first_view_readable (void **state)
{
    char *dir = g_build_filename (STUDIO_FIXTURES_DIR, "graphs", NULL);
    GDir *d = g_dir_open (dir, 0, NULL);
    if (!d) {
        g_free (dir);
        skip ();
    }
    GPtrArray *names = g_ptr_array_new_with_free_func (g_free);
    const char *name;
    while ((name = g_dir_read_name (d)))
        if (g_str_has_suffix (name, ".pb") || g_str_has_suffix (name, ".pbtxt"))
            g_ptr_array_add (names, g_strdup (name));
    g_dir_close (d);
    g_ptr_array_sort (names, (GCompareFunc) g_strcmp0);
    assert_true (names->len >= 8);
    StudioWindow *win = new_window (1400, 860);
    StudioGraphCanvas *c = studio_window_get_canvas (win);
    StudioDocument *doc = studio_window_get_document (win);
    int big = 0;
    for (guint k = 0; k < names->len; k++) {
        char *path = g_build_filename (dir, g_ptr_array_index (names, k), NULL);
        guint builds;
        studio_graph_canvas_get_stats (c, NULL, &builds, NULL);
        DrawWait dw = { c, builds };
        Stamp t0 = stamp ();
        assert_true (studio_window_open (win, path));
        assert_true (spin_until (drew_again, &dw, 30000));
        gtk_test_widget_wait_for_draw (GTK_WIDGET (win));
        Stamp t1 = stamp ();
        guint nodes, boxes;
        double scale;
        studio_graph_canvas_get_view_counts (c, &nodes, &boxes, &scale);
        int n = studio_document_get_n_nodes (doc);
        gboolean collapsed = g_hash_table_size (studio_graph_canvas_get_collapsed_set (c)) > 0;
        print_message ("%-40s %4d nodes: first view %4.0f ms (CPU %4.0f ms), scale %.2f, %u nodes + %u scope "
                       "boxes shown%s\n", (char *) g_ptr_array_index (names, k), n, (t1.wall - t0.wall) / 1e3,
                       (t1.cpu - t0.cpu) / 1e3, scale, nodes, boxes, collapsed ? " (scopes collapsed)" : "");
        check_first_view (g_ptr_array_index (names, k), t0, t1);
        /* readable: node labels are drawn above 0.3; the first view keeps
         * at least STUDIO_CANVAS_READABLE_SCALE */
        assert_true (scale >= STUDIO_CANVAS_READABLE_SCALE - 1e-9);
        assert_true (nodes + boxes >= 1 && nodes + boxes <= 60);
        assert_true (n <= STUDIO_COLLAPSE_NODES || collapsed);
        assert_false (studio_document_is_modified (doc));
        if (n > STUDIO_COLLAPSE_NODES) {
            big++;
            /* open the biggest scope shown: its nodes are laid out where it was */
            GHashTableIter it;
            gpointer key;
            const char *pick = NULL;
            int most = 0;
            g_hash_table_iter_init (&it, studio_graph_canvas_get_collapsed_set (c));
            while (g_hash_table_iter_next (&it, &key, NULL)) {
                if (strchr (key, '/'))
                    continue;
                int m = 0;
                for (int i = 0; i < n; i++)
                    m += g_str_has_prefix (studio_document_get_node (doc, i)->def->name, key) &&
                         studio_document_get_node (doc, i)->def->name[strlen (key)] == '/';
                if (m > most) {
                    most = m;
                    pick = key;
                }
            }
            assert_non_null (pick);
            char *scope = g_strdup (pick);
            int before = 0, after = 0;
            graphene_rect_t rr;
            for (int i = 0; i < n; i++)
                before += studio_graph_canvas_get_node_rect (c, studio_document_get_node (doc, i)->def->name, &rr);
            studio_graph_canvas_get_stats (c, NULL, &builds, NULL);
            dw.builds = builds;
            Stamp t2 = stamp ();
            studio_graph_canvas_set_collapsed (c, scope, FALSE);
            assert_true (spin_until (drew_again, &dw, 30000));
            Stamp t3 = stamp ();
            guint nodes2, boxes2;
            studio_graph_canvas_get_view_counts (c, &nodes2, &boxes2, NULL);
            for (int i = 0; i < n; i++)
                after += studio_graph_canvas_get_node_rect (c, studio_document_get_node (doc, i)->def->name, &rr);
            print_message ("    opened %s (%d nodes): laid out and drawn in %.0f ms (CPU %.0f ms), %d -> %d nodes "
                           "out of collapsed scopes, %u nodes + %u boxes in view\n", scope, most,
                           (t3.wall - t2.wall) / 1e3, (t3.cpu - t2.cpu) / 1e3, before, after, nodes2, boxes2);
            assert_true (after > before);
            check_first_view ("opening a scope", t2, t3);
            assert_false (studio_graph_canvas_is_collapsed (c, scope));
            assert_false (studio_document_is_modified (doc));
            /* no two boxes shown overlap: the layout made room for it */
            int shown = 0, overlaps = 0;
            graphene_rect_t *r = g_new (graphene_rect_t, (gsize) n);
            for (int i = 0; i < n; i++)
                if (studio_graph_canvas_get_node_rect (c, studio_document_get_node (doc, i)->def->name, &r[shown]))
                    shown++;
            for (int a = 0; a < shown; a++)
                for (int b = a + 1; b < shown; b++)
                    overlaps += graphene_rect_intersection (&r[a], &r[b], NULL);
            g_free (r);
            assert_int_equal (overlaps, 0);
            g_free (scope);
        }
        g_free (path);
    }
    assert_true (big >= 2);
    close_window (win);
    g_ptr_array_unref (names);
    g_free (dir);
}

/* ---- bad input ------------------------------------------------------------ */

static char *
write_tmp (const char *dir, const char *name, const void *data, gssize len)
{
    char *path = g_build_filename (dir, name, NULL);
    assert_true (g_file_set_contents (path, data, len, NULL));
    return path;
}

static int
count_windows (void)
{
    GListModel *tops = gtk_window_get_toplevels ();
    return (int) g_list_model_get_n_items (tops);
}

static void
test_window_bad_files_leave_the_graph (void **state)
{
    char *dir = g_dir_make_tmp ("studio-widgets-XXXXXX", NULL);
    StudioWindow *win = new_window (1100, 700);
    StudioDocument *doc = studio_window_get_document (win);
    assert_true (studio_template_apply (doc, "dense", NULL, 0, 40, 40, NULL, NULL));
    GBytes *before = export (win);
    int n = studio_document_get_n_nodes (doc);

    const char garbage[] = "\xff\xfe\x00\x13not a graph\x00\x01\x02";
    char *corrupt = write_tmp (dir, "corrupt.pb", garbage, sizeof garbage);
    char *notes = write_tmp (dir, "notes.pbtxt", "These are notes.\n{ [", -1);
    /* a real graph cut in the middle */
    char *truncated = NULL;
    {
        char *src = g_build_filename (STUDIO_FIXTURES_DIR, "graphs", "tfrust_regression_model.pb", NULL);
        char *data;
        gsize len;
        if (g_file_get_contents (src, &data, &len, NULL)) {
            truncated = write_tmp (dir, "truncated.pb", data, (gssize) len / 2);
            g_free (data);
        }
        g_free (src);
    }
    const char *bad[] = { corrupt, notes, dir /* a folder */, truncated };
    for (guint i = 0; i < G_N_ELEMENTS (bad); i++) {
        if (!bad[i])
            continue;
        assert_false (studio_window_open (win, bad[i]));
        char *base = g_path_get_basename (bad[i]);
        if (!strstr (studio_window_get_banner (win), base))
            fail_msg ("banner for %s: '%s'", bad[i], studio_window_get_banner (win));
        g_free (base);
        /* the graph, its undo history and its modified state stay */
        assert_int_equal (studio_document_get_n_nodes (doc), n);
        GBytes *after = export (win);
        assert_true (g_bytes_equal (before, after));
        g_bytes_unref (after);
        assert_true (studio_document_can_undo (doc));
        assert_true (studio_document_is_modified (doc));
        spin (10);
    }
    /* and the window still edits and draws */
    assert_true (studio_document_add_node (doc, "NoOp", "still_here", 0, 0, NULL, NULL));
    gtk_widget_queue_draw (GTK_WIDGET (studio_window_get_canvas (win)));
    gtk_test_widget_wait_for_draw (GTK_WIDGET (studio_window_get_canvas (win)));

    /* opening a good graph while this one has unsaved changes: a new
     * window, this graph kept; a bad one that way: no window, an error */
    char *good = g_build_filename (dir, "good.pbtxt", NULL);
    {
        StudioDocument *d2 = studio_document_new ();
        assert_true (studio_template_apply (d2, "dropout", NULL, 0, 0, 0, NULL, NULL));
        assert_true (studio_document_save (d2, good, NULL));
        g_object_unref (d2);
    }
    int windows = count_windows ();
    g_action_group_activate_action (G_ACTION_GROUP (win), "open-recent", g_variant_new_string (corrupt));
    spin (20);
    assert_int_equal (count_windows (), windows);
    assert_non_null (strstr (studio_window_get_banner (win), "corrupt.pb"));
    g_action_group_activate_action (G_ACTION_GROUP (win), "open-recent", g_variant_new_string (good));
    spin (50);
    assert_int_equal (count_windows (), windows + 1);
    assert_non_null (studio_document_find (doc, "still_here", NULL));
    StudioWindow *other = NULL;
    GListModel *tops = gtk_window_get_toplevels ();
    for (guint i = 0; i < g_list_model_get_n_items (tops); i++) {
        GObject *t = g_list_model_get_item (tops, i);
        if (STUDIO_IS_WINDOW (t) && STUDIO_WINDOW (t) != win)
            other = STUDIO_WINDOW (t);
        g_object_unref (t);
    }
    assert_non_null (other);
    assert_string_equal (studio_document_get_path (studio_window_get_document (other)), good);
    close_window (other);
    /* a clean window opens in place */
    studio_document_forget_history (doc);
    g_action_group_activate_action (G_ACTION_GROUP (win), "open-recent", g_variant_new_string (good));
    spin (50);
    assert_int_equal (count_windows (), windows);
    assert_string_equal (studio_document_get_path (doc), good);

    g_bytes_unref (before);
    close_window (win);
    const char *files[] = { corrupt, notes, truncated, good };
    for (guint i = 0; i < G_N_ELEMENTS (files); i++)
        if (files[i])
            g_remove (files[i]);
    g_rmdir (dir);
    g_free (corrupt);
    g_free (notes);
    g_free (truncated);
    g_free (good);
    g_free (dir);
}

static void
test_window_unknown_ops_shown_marked_editable (void **state)
{
    const char *text =
        "node { name: 'x' op: 'Placeholder' attr { key: 'dtype' value { type: DT_FLOAT } }\n"
        "  attr { key: 'shape' value { shape { dim { size: -1 } dim { size: 4 } } } } }\n"
        "node { name: 'spell' op: 'FancyActivation' input: 'x'\n"
        "  attr { key: 'T' value { type: DT_FLOAT } } attr { key: 'alpha' value { f: 0.25 } } }\n"
        "node { name: 'out' op: 'Relu' input: 'spell' attr { key: 'T' value { type: DT_FLOAT } } }\n";
    char *dir = g_dir_make_tmp ("studio-widgets-XXXXXX", NULL);
    char *path = write_tmp (dir, "fancy.pbtxt", text, -1);
    StudioWindow *win = new_window (1100, 700);
    StudioDocument *doc = studio_window_get_document (win);
    assert_true (studio_window_open (win, path));
    spin (50);
    StudioGraphCanvas *c = studio_window_get_canvas (win);
    gtk_test_widget_wait_for_draw (GTK_WIDGET (c));

    /* shown: every node has a box on screen; marked: a problem row */
    graphene_rect_t r;
    assert_true (studio_graph_canvas_get_node_rect (c, "spell", &r));
    assert_true (studio_graph_canvas_get_node_rect (c, "out", &r));
    const StudioNode *spell = studio_document_find (doc, "spell", NULL);
    assert_int_equal (spell->state, STUDIO_NODE_UNKNOWN_OP);
    assert_non_null (strstr (spell->message, "FancyActivation"));
    GtkWidget *row = find_widget (GTK_WIDGET (win), is_problem_row, NULL);
    assert_non_null (row);
    assert_string_equal (g_object_get_data (G_OBJECT (row), "node"), "spell");

    /* editable: its attr through the inspector, then wired to a new node */
    studio_window_select (win, "spell");
    spin (30);
    GtkWidget *alpha = find_widget (GTK_WIDGET (win), is_attr_widget, (gpointer) "alpha");
    assert_non_null (alpha);
    gtk_editable_set_text (GTK_EDITABLE (alpha), "0.5");
    g_signal_emit_by_name (alpha, "activate");
    spin (30);
    assert_true (studio_document_add_node (doc, "Identity", "tap", 300, 300, NULL, NULL));
    assert_true (studio_document_connect (doc, "spell", 0, "tap", 0, NULL));
    activate (win, "save");
    assert_false (studio_document_is_modified (doc));

    /* saved as it was: reopened, the op and the edited attr are there */
    StudioDocument *back = studio_document_new ();
    assert_true (studio_document_load (back, path, NULL));
    const StudioNode *b = studio_document_find (back, "spell", NULL);
    assert_string_equal (b->def->op, "FancyActivation");
    gboolean found = FALSE;
    for (size_t i = 0; i < b->def->n_attr; i++)
        if (!strcmp (b->def->attr[i]->key, "alpha")) {
            found = TRUE;
            assert_float_equal (b->def->attr[i]->value->f, 0.5, 1e-6);
        }
    assert_true (found);
    assert_string_equal (studio_document_find (back, "tap", NULL)->def->input[0], "spell");
    g_object_unref (back);

    close_window (win);
    g_remove (path);
    g_rmdir (dir);
    g_free (path);
    g_free (dir);
}

int
main (int argc, char **argv)
{
    if (!g_getenv ("DISPLAY") && !g_getenv ("WAYLAND_DISPLAY"))
        return 77;
    gtk_init ();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_canvas_maps_nodes_and_ports),
        cmocka_unit_test (test_window_inspector_edit_shows_problem_and_undoes),
        cmocka_unit_test (test_window_actions_edit_the_document),
        cmocka_unit_test (test_window_bad_files_leave_the_graph),
        cmocka_unit_test (test_large_graph_first_view_and_redraws),
        cmocka_unit_test (test_fixture_graphs_first_view_readable),
        cmocka_unit_test (test_window_unknown_ops_shown_marked_editable),
    };
    return cmocka_run_group_tests_name ("studio-widgets", tests, NULL, NULL);
}
