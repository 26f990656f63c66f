/* Templates as text-format GraphDefs with @KEY@ placeholders, pasted into
 * the document (see the header). */
#include "config.h"

#include "studio-templates.h"

#include <math.h>
#include <string.h>

#include "studio-layout.h"
#include "studio-validate.h"

static const StudioTemplate templates[] = {
    { "dense", "Dense layer", "x·W + b, then ReLU; W and b are variables", FALSE },
    { "conv2d", "Conv2D layer", "3×3 convolution, bias and ReLU (NHWC)", FALSE },
    { "maxpool", "Max pooling", "2×2 max pooling, stride 2 (NHWC)", FALSE },
    { "dropout", "Dropout", "zeroes a random half and rescales the rest", FALSE },
    { "mnist-mlp", "MNIST MLP", "784 → 128 → 10 with softmax cross-entropy loss and accuracy", TRUE },
};

const StudioTemplate *
studio_templates (int *n)
{
    *n = G_N_ELEMENTS (templates);
    return templates;
}

#define VAR(NAME, SHAPE_DIMS, INIT)                                                              \
    "node { name: '" NAME "' op: 'VariableV2' attr { key: 'dtype' value { type: DT_FLOAT } }"    \
    " attr { key: 'shape' value { shape { " SHAPE_DIMS " } } } }\n"                              \
    "node { name: '" NAME "/Assign' op: 'Assign' input: '" NAME "' input: '" INIT "'"            \
    " attr { key: 'T' value { type: DT_FLOAT } } }\n"

#define CONST_F(NAME, DIMS, V)                                                                   \
    "node { name: '" NAME "' op: 'Const' attr { key: 'dtype' value { type: DT_FLOAT } }"         \
    " attr { key: 'value' value { tensor { dtype: DT_FLOAT tensor_shape { " DIMS " }"            \
    " float_val: " V " } } } }\n"

#define CONST_I(NAME, N, VALS)                                                                   \
    "node { name: '" NAME "' op: 'Const' attr { key: 'dtype' value { type: DT_INT32 } }"         \
    " attr { key: 'value' value { tensor { dtype: DT_INT32 tensor_shape { dim { size: " N " } }" \
    " " VALS " } } } }\n"

#define OP2(NAME, OP, A, B)                                                                      \
    "node { name: '" NAME "' op: '" OP "' input: '" A "' input: '" B "'"                        \
    " attr { key: 'T' value { type: DT_FLOAT } } }\n"

#define OP1(NAME, OP, A)                                                                         \
    "node { name: '" NAME "' op: '" OP "' input: '" A "' attr { key: 'T' value { type: DT_FLOAT } } }\n"

#define TRUNC(NAME, SHAPE)                                                                       \
    "node { name: '" NAME "' op: 'TruncatedNormal' input: '" SHAPE "'"                          \
    " attr { key: 'dtype' value { type: DT_FLOAT } } attr { key: 'T' value { type: DT_INT32 } } }\n"

static const char dense_text[] =
    CONST_I ("@S@/kernel/shape", "2", "int_val: @NIN@ int_val: @U@")
    TRUNC ("@S@/kernel/random", "@S@/kernel/shape")
    CONST_F ("@S@/kernel/stddev", "", "@STD@")
    OP2 ("@S@/kernel/init", "Mul", "@S@/kernel/random", "@S@/kernel/stddev")
    VAR ("@S@/kernel", "dim { size: @NIN@ } dim { size: @U@ }", "@S@/kernel/init")
    CONST_F ("@S@/bias/zeros", "dim { size: @U@ }", "0")
    VAR ("@S@/bias", "dim { size: @U@ }", "@S@/bias/zeros")
    "node { name: '@S@/MatMul' op: 'MatMul' input: '@IN@' input: '@S@/kernel'"
    " attr { key: 'T' value { type: DT_FLOAT } } }\n"
    OP2 ("@S@/BiasAdd", "BiasAdd", "@S@/MatMul", "@S@/bias")
    OP1 ("@S@/Relu", "Relu", "@S@/BiasAdd");

static const char dense_linear_text[] =
    CONST_I ("@S@/kernel/shape", "2", "int_val: @NIN@ int_val: @U@")
    TRUNC ("@S@/kernel/random", "@S@/kernel/shape")
    CONST_F ("@S@/kernel/stddev", "", "@STD@")
    OP2 ("@S@/kernel/init", "Mul", "@S@/kernel/random", "@S@/kernel/stddev")
    VAR ("@S@/kernel", "dim { size: @NIN@ } dim { size: @U@ }", "@S@/kernel/init")
    CONST_F ("@S@/bias/zeros", "dim { size: @U@ }", "0")
    VAR ("@S@/bias", "dim { size: @U@ }", "@S@/bias/zeros")
    "node { name: '@S@/MatMul' op: 'MatMul' input: '@IN@' input: '@S@/kernel'"
    " attr { key: 'T' value { type: DT_FLOAT } } }\n"
    OP2 ("@S@/BiasAdd", "BiasAdd", "@S@/MatMul", "@S@/bias");

static const char conv_text[] =
    CONST_I ("@S@/kernel/shape", "4", "int_val: 3 int_val: 3 int_val: @NIN@ int_val: @U@")
    TRUNC ("@S@/kernel/random", "@S@/kernel/shape")
    CONST_F ("@S@/kernel/stddev", "", "@STD@")
    OP2 ("@S@/kernel/init", "Mul", "@S@/kernel/random", "@S@/kernel/stddev")
    VAR ("@S@/kernel", "dim { size: 3 } dim { size: 3 } dim { size: @NIN@ } dim { size: @U@ }",
         "@S@/kernel/init")
    CONST_F ("@S@/bias/zeros", "dim { size: @U@ }", "0")
    VAR ("@S@/bias", "dim { size: @U@ }", "@S@/bias/zeros")
    "node { name: '@S@/Conv2D' op: 'Conv2D' input: '@IN@' input: '@S@/kernel'"
    " attr { key: 'T' value { type: DT_FLOAT } }"
    " attr { key: 'strides' value { list { i: 1 i: 1 i: 1 i: 1 } } }"
    " attr { key: 'padding' value { s: 'SAME' } } }\n"
    OP2 ("@S@/BiasAdd", "BiasAdd", "@S@/Conv2D", "@S@/bias")
    OP1 ("@S@/Relu", "Relu", "@S@/BiasAdd");

static const char maxpool_text[] =
    "node { name: '@S@/MaxPool' op: 'MaxPool' input: '@IN@'"
    " attr { key: 'T' value { type: DT_FLOAT } }"
    " attr { key: 'ksize' value { list { i: 1 i: 2 i: 2 i: 1 } } }"
    " attr { key: 'strides' value { list { i: 1 i: 2 i: 2 i: 1 } } }"
    " attr { key: 'padding' value { s: 'VALID' } } }\n";

static const char dropout_text[] =
    "node { name: '@S@/Shape' op: 'Shape' input: '@IN@' attr { key: 'T' value { type: DT_FLOAT } }"
    " attr { key: 'out_type' value { type: DT_INT32 } } }\n"
    "node { name: '@S@/random' op: 'RandomUniform' input: '@S@/Shape'"
    " attr { key: 'dtype' value { type: DT_FLOAT } } attr { key: 'T' value { type: DT_INT32 } } }\n"
    CONST_F ("@S@/rate", "", "0.5")
    OP2 ("@S@/keep", "GreaterEqual", "@S@/random", "@S@/rate")
    "node { name: '@S@/mask' op: 'Cast' input: '@S@/keep'"
    " attr { key: 'SrcT' value { type: DT_BOOL } } attr { key: 'DstT' value { type: DT_FLOAT } } }\n"
    CONST_F ("@S@/scale", "", "2")
    OP2 ("@S@/scaled", "Mul", "@IN@", "@S@/scale")
    OP2 ("@S@/output", "Mul", "@S@/scaled", "@S@/mask");

static const char mlp_inputs_text[] =
    "node { name: 'images' op: 'Placeholder' attr { key: 'dtype' value { type: DT_FLOAT } }"
    " attr { key: 'shape' value { shape { dim { size: -1 } dim { size: 784 } } } } }\n"
    "node { name: 'labels' op: 'Placeholder' attr { key: 'dtype' value { type: DT_INT64 } }"
    " attr { key: 'shape' value { shape { dim { size: -1 } } } } }\n";

static const char mlp_loss_text[] =
    "node { name: 'loss/xent' op: 'SparseSoftmaxCrossEntropyWithLogits' input: '@IN@' input: 'labels'"
    " attr { key: 'T' value { type: DT_FLOAT } } attr { key: 'Tlabels' value { type: DT_INT64 } } }\n"
    CONST_I ("loss/axes", "1", "int_val: 0")
    "node { name: 'loss/mean' op: 'Mean' input: 'loss/xent' input: 'loss/axes'"
    " attr { key: 'T' value { type: DT_FLOAT } } attr { key: 'Tidx' value { type: DT_INT32 } } }\n"
    "node { name: 'accuracy/dim' op: 'Const' attr { key: 'dtype' value { type: DT_INT32 } }"
    " attr { key: 'value' value { tensor { dtype: DT_INT32 tensor_shape { } int_val: 1 } } } }\n"
    "node { name: 'accuracy/argmax' op: 'ArgMax' input: '@IN@' input: 'accuracy/dim'"
    " attr { key: 'T' value { type: DT_FLOAT } } attr { key: 'Tidx' value { type: DT_INT32 } }"
    " attr { key: 'output_type' value { type: DT_INT64 } } }\n"
    "node { name: 'accuracy/equal' op: 'Equal' input: 'accuracy/argmax' input: 'labels'"
    " attr { key: 'T' value { type: DT_INT64 } } }\n"
    "node { name: 'accuracy/cast' op: 'Cast' input: 'accuracy/equal'"
    " attr { key: 'SrcT' value { type: DT_BOOL } } attr { key: 'DstT' value { type: DT_FLOAT } } }\n"
    CONST_I ("accuracy/axes", "1", "int_val: 0")
    "node { name: 'accuracy/mean' op: 'Mean' input: 'accuracy/cast' input: 'accuracy/axes'"
    " attr { key: 'T' value { type: DT_FLOAT } } attr { key: 'Tidx' value { type: DT_INT32 } } }\n";

/* A scope name not used by any node yet: base, base_1, ... */
static char *
unique_scope (StudioDocument *doc, const char *base)
{
    for (int k = 0;; k++) {
        char *s = k ? g_strdup_printf ("%s_%d", base, k) : g_strdup (base);
        gboolean used = studio_document_find (doc, s, NULL) != NULL;
        char *prefix = g_strconcat (s, "/", NULL);
        for (int i = 0; !used && i < studio_document_get_n_nodes (doc); i++)
            used = g_str_has_prefix (studio_document_get_node (doc, i)->def->name, prefix);
        g_free (prefix);
        if (!used)
            return s;
        g_free (s);
    }
}

static char *
substitute (const char *text, const char *const *kv)
{
    GString *s = g_string_new (text);
    for (int k = 0; kv[k]; k += 2) {
        char *key = g_strdup_printf ("@%s@", kv[k]);
        g_string_replace (s, key, kv[k + 1], 0);
        g_free (key);
    }
    g_string_replace (s, "'", "\"", 0);
    return g_string_free (s, FALSE);
}

/* The size of the last dimension of an output, or fallback. */
static gint64
last_dim (StudioDocument *doc, const char *input, gint64 fallback)
{
    if (!input)
        return fallback;
    int idx;
    char *name = studio_parse_input (input, &idx);
    const StudioNode *n = studio_document_find (doc, name, NULL);
    g_free (name);
    if (!n || idx < 0 || idx >= n->n_outputs)
        return fallback;
    const sl_shape *s = &n->outputs[idx].shape;
    if (s->rank >= 1 && s->dims[s->rank - 1] > 0)
        return s->dims[s->rank - 1];
    return fallback;
}

/* Pastes a template text and lays the new nodes out from (x, y).  The
 * names in `text` are final (scopes made unique by the caller). */
static gboolean
paste_at (StudioDocument *doc, const char *text, double x, double y, GError **error)
{
    char **names = NULL;
    if (!studio_document_paste (doc, text, 0, 0, &names, error))
        return FALSE;
    gboolean ok = TRUE;
    if (names[0]) {
        ok = studio_document_arrange (doc, (const char *const *) names, FALSE, error);
        /* the layout keeps the top-left; move the block to (x, y) */
        double left = G_MAXDOUBLE, top = G_MAXDOUBLE;
        for (int k = 0; names[k]; k++) {
            const StudioNode *n = studio_document_find (doc, names[k], NULL);
            left = MIN (left, n->x);
            top = MIN (top, n->y);
        }
        if (ok)
            ok = studio_document_move_nodes (doc, (const char *const *) names, x - left, y - top, error);
    }
    g_strfreev (names);
    return ok;
}

static gboolean
layer (StudioDocument *doc, const char *id, const char *input, int units, double x, double y,
       char **out_output, GError **error)
{
    const char *text, *base, *output;
    gint64 nin = last_dim (doc, input, 784);
    int u = units;
    if (!strcmp (id, "dense") || !strcmp (id, "dense-linear")) {
        text = !strcmp (id, "dense") ? dense_text : dense_linear_text;
        base = "dense";
        output = !strcmp (id, "dense") ? "Relu" : "BiasAdd";
        u = u > 0 ? u : 128;
    } else if (!strcmp (id, "conv2d")) {
        text = conv_text, base = "conv2d", output = "Relu";
        nin = last_dim (doc, input, 1);
        u = u > 0 ? u : 32;
    } else if (!strcmp (id, "maxpool")) {
        text = maxpool_text, base = "max_pooling2d", output = "MaxPool";
    } else if (!strcmp (id, "dropout")) {
        text = dropout_text, base = "dropout", output = "output";
    } else {
        g_set_error (error, STUDIO_DOCUMENT_ERROR, STUDIO_DOCUMENT_ERROR_NOT_FOUND,
                     "no template named '%s'", id);
        return FALSE;
    }
    char *scope = unique_scope (doc, base);
    char nin_s[32], u_s[32], std_s[G_ASCII_DTOSTR_BUF_SIZE];
    g_snprintf (nin_s, sizeof nin_s, "%" G_GINT64_FORMAT, nin);
    g_snprintf (u_s, sizeof u_s, "%d", u);
    g_ascii_formatd (std_s, sizeof std_s, "%.4g", 1.0 / sqrt ((double) MAX (nin, 1)));
    const char *kv[] = { "S", scope, "IN", input ? input : "", "NIN", nin_s, "U", u_s, "STD", std_s,
                         NULL };
    char *t = substitute (text, kv);
    studio_document_begin (doc, "Add template");
    gboolean ok = paste_at (doc, t, x, y, error);
    studio_document_end (doc);
    if (ok && out_output)
        *out_output = g_strdup_printf ("%s/%s", scope, output);
    g_free (t);
    g_free (scope);
    return ok;
}

gboolean
studio_template_apply (StudioDocument *doc, const char *id, const char *input, int units, double x,
                       double y, char **out_output, GError **error)
{
    if (input && *input) {
        int idx;
        char *name = studio_parse_input (input, &idx);
        gboolean found = studio_document_find (doc, name, NULL) != NULL;
        if (!found)
            g_set_error (error, STUDIO_DOCUMENT_ERROR, STUDIO_DOCUMENT_ERROR_NOT_FOUND,
                         "no node named '%s'", name);
        g_free (name);
        if (!found)
            return FALSE;
    } else {
        input = NULL;
    }
    if (strcmp (id, "mnist-mlp") != 0)
        return layer (doc, id, input, units, x, y, out_output, error);

    studio_document_begin (doc, "Add MNIST MLP");
    char *h1 = NULL, *logits = NULL;
    const char *none[] = { NULL };
    char *t = substitute (mlp_inputs_text, none);
    gboolean ok = paste_at (doc, t, x, y, error);
    g_free (t);
    const StudioNode *img = studio_document_find (doc, "images", NULL);
    const char *img_name = img ? "images" : NULL;
    ok = ok && layer (doc, "dense", img_name, 128, x, y + 120, &h1, error);
    ok = ok && layer (doc, "dense-linear", h1, 10, x, y + 520, &logits, error);
    if (ok) {
        const char *kv[] = { "IN", logits, NULL };
        t = substitute (mlp_loss_text, kv);
        ok = paste_at (doc, t, x + 200, y + 900, error);
        g_free (t);
    }
    /* one layout for the whole model, scopes as groups */
    ok = ok && studio_document_arrange (doc, NULL, FALSE, error);
    studio_document_end (doc);
    if (ok && out_output)
        *out_output = g_strdup ("loss/mean");
    g_free (h1);
    g_free (logits);
    return ok;
}
