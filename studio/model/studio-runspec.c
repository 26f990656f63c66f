/* Training setup and run spec text (see the header). */
#include "config.h"

#include "studio-runspec.h"

#include <string.h>

static gboolean
has (StudioDocument *doc, const char *name)
{
    return studio_document_find (doc, name, NULL) != NULL;
}

StudioRunSetup *
studio_run_setup_guess (StudioDocument *doc)
{
    StudioRunSetup *s = g_new0 (StudioRunSetup, 1);
    s->kind = STUDIO_DATA_MNIST;
    s->data_path = g_strdup ("~/.cache/sluice/mnist");
    s->csv_header = TRUE;
    GPtrArray *ph = g_ptr_array_new (), *ft = g_ptr_array_new ();
    char *last_loss = NULL;
    for (int i = 0; i < studio_document_get_n_nodes (doc); i++) {
        const StudioNode *n = studio_document_get_node (doc, i);
        const char *name = n->def->name;
        if (g_str_has_prefix (name, "loss"))
            last_loss = (char *) name;
        if (strcmp (n->def->op, "Placeholder") != 0)
            continue;
        char *low = g_ascii_strdown (name, -1);
        gboolean is_bool = n->n_outputs > 0 && n->outputs[0].dtype == SL_DTYPE_BOOL;
        if (is_bool && strstr (low, "train") && !s->training_flag) {
            s->training_flag = g_strdup (name);
        } else {
            g_ptr_array_add (ph, g_strdup (name));
            g_ptr_array_add (ft, g_strdup (strstr (low, "image") ? "image"
                                           : strstr (low, "label") ? "label" : name));
        }
        g_free (low);
    }
    g_ptr_array_add (ph, NULL);
    g_ptr_array_add (ft, NULL);
    s->placeholders = (char **) g_ptr_array_free (ph, FALSE);
    s->features = (char **) g_ptr_array_free (ft, FALSE);
    s->loss = g_strdup (has (doc, "loss") ? "loss" : has (doc, "loss/mean") ? "loss/mean" : last_loss);
    s->metric = g_strdup (has (doc, "accuracy") ? "accuracy" : has (doc, "accuracy/mean") ? "accuracy/mean" : NULL);
    s->optimizer = g_strdup ("adam");
    s->learning_rate = 0.001;
    s->steps = 300;
    s->batch_size = 32;
    s->summary_every = 10;
    s->checkpoint_every = 100;
    s->trace_every = 50;
    return s;
}

void
studio_run_setup_free (StudioRunSetup *s)
{
    if (!s)
        return;
    g_free (s->data_path);
    g_strfreev (s->placeholders);
    g_strfreev (s->features);
    g_free (s->training_flag);
    g_free (s->loss);
    g_free (s->metric);
    g_free (s->optimizer);
    studio_target_free (s->target);
    g_free (s);
}

/* A text-format string literal. */
static void
str (GString *o, const char *key, const char *v)
{
    g_string_append_printf (o, "%s: \"", key);
    for (const char *p = v; *p; p++) {
        if (*p == '"' || *p == '\\')
            g_string_append_c (o, '\\');
        g_string_append_c (o, *p);
    }
    g_string_append (o, "\"");
}

char *
studio_run_setup_to_spec (const StudioRunSetup *s, const char *graph_file, GError **error)
{
    const char *why = NULL;
    if (!s->data_path || !*s->data_path)
        why = "choose the training data";
    else if (!s->loss || !*s->loss)
        why = "name the loss tensor";
    else if (!s->placeholders || !s->placeholders[0])
        why = "the graph has no placeholder to feed";
    else if (s->steps < 1 || s->batch_size < 1)
        why = "steps and batch size must be at least 1";
    if (why) {
        g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT, why);
        return NULL;
    }
    GString *o = g_string_new ("# run spec written by sluice-studio\n");
    str (o, "graph", graph_file);
    g_string_append (o, "\ntrain_data { ");
    switch (s->kind) {
    case STUDIO_DATA_MNIST:
        g_string_append (o, "mnist { ");
        str (o, "dir", s->data_path);
        g_string_append (o, " split: \"train\" }");
        break;
    case STUDIO_DATA_TFRECORD:
        g_string_append (o, "tfrecord { ");
        str (o, "files", s->data_path);
        g_string_append (o, " }");
        break;
    case STUDIO_DATA_CSV:
        g_string_append (o, "csv { ");
        str (o, "files", s->data_path);
        g_string_append_printf (o, " header: %s }", s->csv_header ? "true" : "false");
        break;
    }
    g_string_append (o, " }\n");
    for (int i = 0; s->placeholders[i]; i++) {
        g_string_append (o, "input { ");
        str (o, "placeholder", s->placeholders[i]);
        g_string_append (o, " ");
        str (o, "feature", s->features && s->features[i] && *s->features[i] ? s->features[i] : s->placeholders[i]);
        g_string_append (o, " }\n");
    }
    if (s->training_flag && *s->training_flag) {
        str (o, "training_flag", s->training_flag);
        g_string_append_c (o, '\n');
    }
    str (o, "loss", s->loss);
    g_string_append_c (o, '\n');
    if (s->metric && *s->metric) {
        const char *slash = strrchr (s->metric, '/');
        char *tag = slash ? g_strndup (s->metric, (gsize) (slash - s->metric)) : g_strdup (s->metric);
        g_string_append (o, "metric { ");
        str (o, "name", tag);
        g_string_append (o, " ");
        str (o, "tensor", s->metric);
        g_string_append (o, " }\n");
        g_free (tag);
    }
    char lr[G_ASCII_DTOSTR_BUF_SIZE];
    g_ascii_dtostr (lr, sizeof lr, s->learning_rate);
    g_string_append (o, "optimizer { ");
    str (o, "kind", s->optimizer && *s->optimizer ? s->optimizer : "adam");
    g_string_append_printf (o, " learning_rate: %s }\n", lr);
    g_string_append_printf (o, "steps: %" G_GINT64_FORMAT "\nbatch_size: %d\n", s->steps, s->batch_size);
    g_string_append_printf (o, "summary_every_steps: %" G_GINT64_FORMAT "\n", MAX (s->summary_every, 1));
    g_string_append_printf (o, "checkpoint_every_steps: %" G_GINT64_FORMAT "\n", MAX (s->checkpoint_every, 1));
    if (s->trace_every > 0)
        g_string_append_printf (o, "trace_every_steps: %" G_GINT64_FORMAT "\n", s->trace_every);
    g_string_append (o, "run_dir: \".\"\nseed: 1\n");
    return g_string_free (o, FALSE);
}
