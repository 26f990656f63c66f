/* The training setup dialog (see the header). */
#include "config.h"

#include "studio-setup-dialog.h"

#include <stdlib.h>

typedef struct {
    GtkWindow *win;
    StudioRunSetup *setup;
    StudioSetupDone done;
    gpointer data;
    GtkDropDown *kind, *optimizer;
    GtkEntry *path, *flag, *loss, *metric, *lr, *steps, *batch, *summary, *ckpt, *trace;
    GtkCheckButton *header;
    GPtrArray *features;    /* GtkEntry per placeholder */
    GtkLabel *message;
    GtkWidget *grid;
    /* Train on */
    GtkDropDown *target, *updates;
    GtkSpinButton *workers, *ps, *port;
    GtkEntry *hosts;
    GtkWidget *cluster_rows[6], *hosts_rows[2], *port_rows[2];   /* label, widget */
    GtkLabel *hosts_label, *target_hint;
} Dialog;

static void read_target (Dialog *d, StudioRunSetup *s);

static const char *const kinds[] = { "MNIST folder (IDX files)", "TFRecord file", "CSV file", NULL };
static const char *const optimizers[] = { "adam", "sgd", "momentum", "adagrad", "rmsprop", NULL };

static void
dialog_free (gpointer p)
{
    Dialog *d = p;
    studio_run_setup_free (d->setup);
    g_ptr_array_unref (d->features);
    g_free (d);
}

static GtkEntry *
entry (const char *text, const char *tip)
{
    GtkEntry *e = GTK_ENTRY (gtk_entry_new ());
    gtk_editable_set_text (GTK_EDITABLE (e), text ? text : "");
    gtk_entry_set_activates_default (e, TRUE);
    gtk_widget_set_tooltip_text (GTK_WIDGET (e), tip);
    gtk_widget_set_hexpand (GTK_WIDGET (e), TRUE);
    return e;
}

static GtkEntry *
number (double v, const char *tip)
{
    char buf[G_ASCII_DTOSTR_BUF_SIZE];
    g_ascii_formatd (buf, sizeof buf, "%.6g", v);
    return entry (buf, tip);
}

static int row_at;

/* A labelled row.  label has a mnemonic (Alt+letter focuses the field)
 * unless plain (a placeholder's name, whose underscores are its own). */
static void
add_row_full (GtkGrid *g, const char *label, gboolean plain, GtkWidget *w, const char *field)
{
    GtkWidget *l = plain ? gtk_label_new (label) : gtk_label_new_with_mnemonic (label);
    if (!plain)
        gtk_label_set_mnemonic_widget (GTK_LABEL (l), w);
    if (field)
        g_object_set_data (G_OBJECT (w), "setup-field", (gpointer) field);
    gtk_label_set_xalign (GTK_LABEL (l), 1);
    gtk_widget_add_css_class (l, "dim-label");
    gtk_grid_attach (g, l, 0, row_at, 1, 1);
    gtk_grid_attach (g, w, 1, row_at, 1, 1);
    row_at++;
}

static void
add_row (GtkGrid *g, const char *label, GtkWidget *w, const char *field)
{
    add_row_full (g, label, FALSE, w, field);
}

static void
add_heading (GtkGrid *g, const char *text)
{
    GtkWidget *l = gtk_label_new (text);
    gtk_label_set_xalign (GTK_LABEL (l), 0);
    gtk_widget_add_css_class (l, "heading");
    gtk_widget_set_margin_top (l, row_at ? 8 : 0);
    gtk_grid_attach (g, l, 0, row_at++, 2, 1);
}

static const char *
text_of (GtkEntry *e)
{
    return gtk_editable_get_text (GTK_EDITABLE (e));
}

static gboolean
read_number (Dialog *d, GtkEntry *e, const char *what, double min, double *out)
{
    char *end = NULL;
    double v = g_ascii_strtod (text_of (e), &end);
    if (!end || end == text_of (e) || *g_strchug (end) || v < min) {
        char *m = g_strdup_printf ("%s must be a number of at least %g", what, min);
        gtk_label_set_text (d->message, m);
        g_free (m);
        gtk_widget_grab_focus (GTK_WIDGET (e));
        return FALSE;
    }
    *out = v;
    return TRUE;
}

static void
start (Dialog *d)
{
    StudioRunSetup *s = d->setup;
    double lr, steps, batch, summary, ckpt, trace;
    if (!read_number (d, d->lr, "the learning rate", 0, &lr) || !read_number (d, d->steps, "steps", 1, &steps)
        || !read_number (d, d->batch, "the batch size", 1, &batch)
        || !read_number (d, d->summary, "the summary interval", 1, &summary)
        || !read_number (d, d->ckpt, "the checkpoint interval", 1, &ckpt)
        || !read_number (d, d->trace, "the op times interval", 0, &trace))
        return;
    s->kind = (StudioDataKind) gtk_drop_down_get_selected (d->kind);
    g_free (s->data_path);
    s->data_path = g_strdup (text_of (d->path));
    s->csv_header = gtk_check_button_get_active (d->header);
    for (guint i = 0; i < d->features->len; i++) {
        g_free (s->features[i]);
        s->features[i] = g_strdup (text_of (d->features->pdata[i]));
    }
    g_free (s->training_flag);
    s->training_flag = g_strdup (text_of (d->flag));
    g_free (s->loss);
    s->loss = g_strdup (text_of (d->loss));
    g_free (s->metric);
    s->metric = g_strdup (text_of (d->metric));
    g_free (s->optimizer);
    s->optimizer = g_strdup (optimizers[gtk_drop_down_get_selected (d->optimizer)]);
    s->learning_rate = lr;
    s->steps = (gint64) steps;
    s->batch_size = (int) batch;
    s->summary_every = (gint64) summary;
    s->checkpoint_every = (gint64) ckpt;
    s->trace_every = (gint64) trace;
    read_target (d, s);
    char *msg = NULL;
    if (d->done (s, &msg, d->data)) {
        gtk_window_destroy (d->win);
    } else {
        gtk_label_set_text (d->message, msg ? msg : "could not start the run");
        g_free (msg);
    }
}

static void
start_clicked (GtkButton *b, gpointer data)
{
    start (data);
}

static void
kind_changed (GtkDropDown *dd, GParamSpec *ps, gpointer data)
{
    Dialog *d = data;
    gtk_widget_set_sensitive (GTK_WIDGET (d->header), gtk_drop_down_get_selected (dd) == STUDIO_DATA_CSV);
}

/* ---- Train on: this computer or a cluster (studio-cluster.h) ---------- */

static const char *const targets[] = { "This computer", "Local cluster", "SSH hosts", "Slurm allocation", NULL };
static const char *const target_hints[] = {
    "One sluice train process here.",
    "sluice cluster up starts the workers and parameter servers on this machine, on free ports; "
    "sluice cluster down stops them after the run.",
    "Each task starts through ssh HOST (round-robin, parameter servers first), each host's tasks on ports "
    "from the first port; sluice and the run folder must be at the same paths there.",
    "srun starts the tasks inside the current allocation, all on the named node (default: the "
    "allocation's only node).",
};

static void
target_changed (GtkDropDown *dd, GParamSpec *ps, gpointer data)
{
    Dialog *d = data;
    guint t = gtk_drop_down_get_selected (dd);
    for (guint i = 0; i < G_N_ELEMENTS (d->cluster_rows); i++)
        gtk_widget_set_visible (d->cluster_rows[i], t != STUDIO_TARGET_THIS_COMPUTER);
    for (guint i = 0; i < 2; i++) {
        gtk_widget_set_visible (d->hosts_rows[i], t == STUDIO_TARGET_SSH || t == STUDIO_TARGET_SLURM);
        gtk_widget_set_visible (d->port_rows[i], t == STUDIO_TARGET_SSH || t == STUDIO_TARGET_SLURM);
    }
    gtk_label_set_text (d->hosts_label, t == STUDIO_TARGET_SLURM ? "Node" : "Hosts");
    gtk_label_set_text (d->target_hint, t < G_N_ELEMENTS (target_hints) ? target_hints[t] : "");
}

static GtkSpinButton *
spin (int value, int min, int max, const char *name, const char *tip)
{
    GtkSpinButton *b = GTK_SPIN_BUTTON (gtk_spin_button_new_with_range (min, max, 1));
    gtk_spin_button_set_value (b, value);
    gtk_widget_set_name (GTK_WIDGET (b), name);
    gtk_widget_set_tooltip_text (GTK_WIDGET (b), tip);
    return b;
}

/* The rows' label (column 0) and widget, for hiding both. */
static void
remember_row (GtkGrid *g, GtkWidget **out)
{
    out[0] = gtk_grid_get_child_at (g, 0, row_at - 1);
    out[1] = gtk_grid_get_child_at (g, 1, row_at - 1);
}

static void
add_target_rows (Dialog *d, GtkGrid *g, const StudioTarget *given)
{
    g_autoptr (StudioTarget) t = given ? studio_target_copy (given) : studio_target_new (STUDIO_TARGET_THIS_COMPUTER);
    add_heading (g, "Where to train");
    d->target = GTK_DROP_DOWN (gtk_drop_down_new_from_strings (targets));
    gtk_widget_set_name (GTK_WIDGET (d->target), "train-on");
    gtk_widget_set_tooltip_text (GTK_WIDGET (d->target), "Where to train: here, or on a cluster of sluice workers "
                                                         "and parameter servers (sluice cluster up)");
    gtk_drop_down_set_selected (d->target, t->kind);
    add_row (g, "Trai_n on", GTK_WIDGET (d->target), "target");
    d->target_hint = GTK_LABEL (gtk_label_new (""));
    gtk_label_set_wrap (d->target_hint, TRUE);
    gtk_label_set_max_width_chars (d->target_hint, 50);
    gtk_label_set_xalign (d->target_hint, 0);
    gtk_widget_add_css_class (GTK_WIDGET (d->target_hint), "dim-label");
    gtk_grid_attach (g, GTK_WIDGET (d->target_hint), 1, row_at++, 1, 1);
    d->workers = spin (t->workers, 1, 64, "workers", "Worker tasks: each trains a replica of the model");
    add_row (g, "_Workers", GTK_WIDGET (d->workers), "workers");
    remember_row (g, d->cluster_rows);
    d->ps = spin (t->ps, 1, 16, "parameter-servers", "Parameter server tasks: they hold the variables");
    add_row (g, "P_arameter servers", GTK_WIDGET (d->ps), "ps");
    remember_row (g, d->cluster_rows + 2);
    const char *const updates[] = { "Synchronous (one update per step)", "Asynchronous (each worker on its own)",
                                    NULL };
    d->updates = GTK_DROP_DOWN (gtk_drop_down_new_from_strings (updates));
    gtk_widget_set_name (GTK_WIDGET (d->updates), "updates");
    gtk_widget_set_tooltip_text (GTK_WIDGET (d->updates), "Synchronous: the workers' gradients are summed on the "
                                                          "parameter servers; asynchronous: sluice train --async");
    gtk_drop_down_set_selected (d->updates, t->async ? 1 : 0);
    add_row (g, "Up_dates", GTK_WIDGET (d->updates), "updates");
    remember_row (g, d->cluster_rows + 4);
    d->hosts = entry (t->hosts, "SSH: the hosts, host1,host2; Slurm: the node srun starts the tasks on");
    gtk_widget_set_name (GTK_WIDGET (d->hosts), "hosts");
    gtk_entry_set_placeholder_text (d->hosts, "host1,host2");
    add_row_full (g, "Hosts", TRUE, GTK_WIDGET (d->hosts), "hosts");   /* its letters are taken */
    remember_row (g, d->hosts_rows);
    d->hosts_label = GTK_LABEL (d->hosts_rows[0]);
    d->port = spin (t->port, 1024, 65535, "first-port", "Each host's first task listens on this port, "
                                                        "the next on the port after it");
    add_row_full (g, "First port", TRUE, GTK_WIDGET (d->port), "port");
    remember_row (g, d->port_rows);
    g_signal_connect (d->target, "notify::selected", G_CALLBACK (target_changed), d);
    target_changed (d->target, NULL, d);
}

static void
read_target (Dialog *d, StudioRunSetup *s)
{
    studio_target_free (s->target);
    s->target = studio_target_new ((StudioTargetKind) gtk_drop_down_get_selected (d->target));
    s->target->workers = gtk_spin_button_get_value_as_int (d->workers);
    s->target->ps = gtk_spin_button_get_value_as_int (d->ps);
    s->target->async = gtk_drop_down_get_selected (d->updates) == 1;
    g_free (s->target->hosts);
    s->target->hosts = g_strdup (text_of (d->hosts));
    s->target->port = gtk_spin_button_get_value_as_int (d->port);
}

GtkWidget *
studio_setup_dialog_show (GtkWindow *parent, StudioRunSetup *setup, StudioSetupDone done, gpointer data)
{
    Dialog *d = g_new0 (Dialog, 1);
    d->setup = setup;
    d->done = done;
    d->data = data;
    d->features = g_ptr_array_new ();
    d->win = GTK_WINDOW (gtk_window_new ());
    gtk_window_set_title (d->win, "Training setup");
    gtk_window_set_transient_for (d->win, parent);
    gtk_window_set_modal (d->win, TRUE);
    gtk_window_set_destroy_with_parent (d->win, TRUE);
    gtk_window_set_default_size (d->win, 520, -1);
    g_object_set_data_full (G_OBJECT (d->win), "dialog", d, dialog_free);

    GtkWidget *hb = gtk_header_bar_new ();
    gtk_header_bar_set_show_title_buttons (GTK_HEADER_BAR (hb), FALSE);
    GtkWidget *cancel = gtk_button_new_with_mnemonic ("_Cancel");
    g_signal_connect_swapped (cancel, "clicked", G_CALLBACK (gtk_window_destroy), d->win);
    gtk_header_bar_pack_start (GTK_HEADER_BAR (hb), cancel);
    GtkWidget *go = gtk_button_new_with_mnemonic ("_Start training");
    gtk_widget_add_css_class (go, "suggested-action");
    g_signal_connect (go, "clicked", G_CALLBACK (start_clicked), d);
    gtk_header_bar_pack_end (GTK_HEADER_BAR (hb), go);
    gtk_window_set_titlebar (d->win, hb);
    gtk_window_set_default_widget (d->win, go);

    GtkGrid *g = GTK_GRID (gtk_grid_new ());
    gtk_grid_set_row_spacing (g, 6);
    gtk_grid_set_column_spacing (g, 10);
    gtk_widget_set_margin_start (GTK_WIDGET (g), 16);
    gtk_widget_set_margin_end (GTK_WIDGET (g), 16);
    gtk_widget_set_margin_top (GTK_WIDGET (g), 12);
    gtk_widget_set_margin_bottom (GTK_WIDGET (g), 12);
    row_at = 0;

    add_heading (g, "Data");
    d->kind = GTK_DROP_DOWN (gtk_drop_down_new_from_strings ((const char *const *) kinds));
    gtk_drop_down_set_selected (d->kind, setup->kind);
    g_signal_connect (d->kind, "notify::selected", G_CALLBACK (kind_changed), d);
    add_row (g, "So_urce", GTK_WIDGET (d->kind), "source");
    d->path = entry (setup->data_path, "The MNIST folder (train-images-idx3-ubyte ...), or the TFRecord or CSV file");
    add_row (g, "_Path", GTK_WIDGET (d->path), "path");
    d->header = GTK_CHECK_BUTTON (gtk_check_button_new_with_label ("The first line names the columns"));
    gtk_check_button_set_active (d->header, setup->csv_header);
    add_row (g, "CS_V", GTK_WIDGET (d->header), "header");
    kind_changed (d->kind, NULL, d);

    add_heading (g, "Inputs (placeholder \u2190 feature)");
    for (int i = 0; setup->placeholders[i]; i++) {
        GtkEntry *e = entry (setup->features[i], "The dataset feature fed to this placeholder: image or label for "
                                                 "MNIST, an Example key, a CSV column name or index");
        g_ptr_array_add (d->features, e);
        add_row_full (g, setup->placeholders[i], TRUE, GTK_WIDGET (e), NULL);
        g_object_set_data_full (G_OBJECT (e), "setup-field", g_strdup_printf ("input:%s", setup->placeholders[i]),
                                g_free);
    }
    d->flag = entry (setup->training_flag, "A bool placeholder fed true while training (optional)");
    add_row (g, "Training _flag", GTK_WIDGET (d->flag), "flag");

    add_heading (g, "Objective");
    d->loss = entry (setup->loss, "The scalar loss tensor to minimize");
    add_row (g, "_Loss", GTK_WIDGET (d->loss), "loss");
    d->metric = entry (setup->metric, "A scalar metric tensor logged beside the loss (optional)");
    add_row (g, "_Metric", GTK_WIDGET (d->metric), "metric");
    d->optimizer = GTK_DROP_DOWN (gtk_drop_down_new_from_strings ((const char *const *) optimizers));
    for (guint i = 0; optimizers[i]; i++)
        if (g_strcmp0 (optimizers[i], setup->optimizer) == 0)
            gtk_drop_down_set_selected (d->optimizer, i);
    add_row (g, "_Optimizer", GTK_WIDGET (d->optimizer), "optimizer");
    d->lr = number (setup->learning_rate, "The optimizer's learning rate (0: its default)");
    add_row (g, "Learning _rate", GTK_WIDGET (d->lr), "lr");

    add_heading (g, "Schedule");
    d->steps = number ((double) setup->steps, "Total training steps (a resumed run continues to this)");
    add_row (g, "S_teps", GTK_WIDGET (d->steps), "steps");
    d->batch = number (setup->batch_size, "Examples per step");
    add_row (g, "_Batch size", GTK_WIDGET (d->batch), "batch");
    d->summary = number ((double) setup->summary_every, "Log the loss and metrics every N steps");
    add_row (g, "Summaries _every", GTK_WIDGET (d->summary), "summary");
    d->ckpt = number ((double) setup->checkpoint_every, "Save a checkpoint every N steps");
    add_row (g, "C_heckpoint every", GTK_WIDGET (d->ckpt), "checkpoint");
    d->trace = number ((double) setup->trace_every,
                       "Record each op's time every N steps, shown on the nodes with View \u25b8 Op times (0: never)");
    add_row (g, "Op t_imes every", GTK_WIDGET (d->trace), "trace");
    add_target_rows (d, g, setup->target);

    d->message = GTK_LABEL (gtk_label_new (""));
    gtk_label_set_wrap (d->message, TRUE);
    gtk_label_set_xalign (d->message, 0);
    gtk_widget_add_css_class (GTK_WIDGET (d->message), "error");
    gtk_grid_attach (g, GTK_WIDGET (d->message), 0, row_at++, 2, 1);

    d->grid = GTK_WIDGET (g);
    gtk_window_set_child (d->win, GTK_WIDGET (g));
    gtk_window_present (d->win);
    gtk_widget_grab_focus (GTK_WIDGET (d->path));
    return GTK_WIDGET (d->win);
}

static const char *
field_of (GtkWidget *w)
{
    for (; w; w = gtk_widget_get_parent (w)) {
        const char *f = g_object_get_data (G_OBJECT (w), "setup-field");
        if (f)
            return f;
    }
    return NULL;
}

void
studio_setup_dialog_describe (GtkWidget *dialog, GString *out)
{
    Dialog *d = g_object_get_data (G_OBJECT (dialog), "dialog");
    if (!d)
        return;
    GtkWidget *focus = gtk_root_get_focus (GTK_ROOT (d->win));
    const char *f = field_of (focus);
    g_string_append_printf (out, "setupfocus %s\n", f ? f : "-");
    for (GtkWidget *c = gtk_widget_get_first_child (d->grid); c; c = gtk_widget_get_next_sibling (c)) {
        const char *name = g_object_get_data (G_OBJECT (c), "setup-field");
        if (name && GTK_IS_EDITABLE (c))
            g_string_append_printf (out, "setupfield %s %s\n", name, gtk_editable_get_text (GTK_EDITABLE (c)));
    }
    const char *m = gtk_label_get_text (d->message);
    if (m && *m)
        g_string_append_printf (out, "setupmessage %s\n", m);
}
