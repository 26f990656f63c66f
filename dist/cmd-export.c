/* `sluice export LOGDIR --run R --tag T [--format csv|json] [--out FILE]`:
 * every point of one series (TensorBoard exports only a sample).
 * `sluice export --onnx GRAPH --input NAME[,NAME...] --output NAME[,NAME...]
 * --out FILE.onnx [--frozen FILE.pb|.pbtxt] [--checkpoint PREFIX]`: the
 * inference path of a graph as an ONNX model (sluice/onnx.h). */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "commands.h"
#include "sluice/graph.h"
#include "sluice/onnx.h"
#include "sluice/summaries/inspect.h"

static void export_usage(FILE *out)
{
    fprintf(out, "usage: sluice export LOGDIR --run RUN --tag TAG [--format csv|json] [--out FILE]\n\n"
                 "Writes every point of one series of a logdir (or of one event file, whose\n"
                 "run is '.') as CSV (the default) or JSON, to FILE or standard output.\n\n"
                 "usage: sluice export --onnx GRAPH --input NAME[,NAME...] --output NAME[,NAME...]\n"
                 "                     --out FILE.onnx [--frozen FILE.pb] [--checkpoint PREFIX]\n\n"
                 "Writes the part of GRAPH the outputs need as an ONNX model (opset 13), the\n"
                 "inputs (placeholders) as its inputs and the variables as initializers (from\n"
                 "the checkpoint, or their initial values).  --frozen also writes that part as\n"
                 "a GraphDef with the variables made constants, for `sluice run`.\n");
}

/* Splits a comma-separated list in place into out[]; returns the count. */
static int split_list(char *s, const char **out, int max)
{
    int n = 0;
    for (char *save = NULL, *t = strtok_r(s, ",", &save); t && n < max; t = strtok_r(NULL, ",", &save))
        out[n++] = t;
    return n;
}

static int export_onnx(int argc, char **argv)
{
    const char *graph_path = NULL, *out_path = NULL, *frozen = NULL, *ckpt = NULL;
    char *inputs = NULL, *outputs = NULL;
    for (int i = 1; i < argc; i++) {
        const char **slot = NULL;
        if (!strcmp(argv[i], "--onnx") && i + 1 < argc && !graph_path) {
            graph_path = argv[++i];
            continue;
        } else if (!strcmp(argv[i], "--input"))
            slot = (const char **)&inputs;
        else if (!strcmp(argv[i], "--output"))
            slot = (const char **)&outputs;
        else if (!strcmp(argv[i], "--out"))
            slot = &out_path;
        else if (!strcmp(argv[i], "--frozen"))
            slot = &frozen;
        else if (!strcmp(argv[i], "--checkpoint"))
            slot = &ckpt;
        else {
            export_usage(stderr);
            return sl_cli_error("export: unknown argument '%s'", argv[i]) + 1;
        }
        if (i + 1 >= argc) {
            export_usage(stderr);
            return sl_cli_error("export: %s needs a value", argv[i]) + 1;
        }
        *slot = argv[++i];
    }
    if (!graph_path || !outputs || !out_path) {
        export_usage(stderr);
        return sl_cli_error("export: --onnx needs GRAPH, --output and --out") + 1;
    }
    const char *ins[64], *outs[64];
    sl_onnx_export_options o = SL_ONNX_EXPORT_OPTIONS_INIT;
    o.inputs = ins;
    o.num_inputs = inputs ? split_list(inputs, ins, 64) : 0;
    o.outputs = outs;
    o.num_outputs = split_list(outputs, outs, 64);
    o.checkpoint = ckpt;
    sl_status *st = sl_status_new();
    int rc = 0;
    sl_graph *g = sl_graph_load(graph_path, NULL, st);
    if (!g || sl_onnx_export(g, &o, out_path, frozen, st) != SL_OK)
        rc = sl_cli_error("%s", sl_status_message(st));
    sl_graph_free(g);
    sl_status_free(st);
    return rc;
}

int sl_cmd_export(int argc, char **argv)
{
    const char *logdir = NULL, *run = NULL, *tag = NULL, *format = "csv", *out_path = NULL;
    for (int i = 1; i < argc; i++)
        if (!strcmp(argv[i], "--onnx"))
            return export_onnx(argc, argv);
    for (int i = 1; i < argc; i++) {
        const char **slot = NULL;
        if (!strcmp(argv[i], "--run"))
            slot = &run;
        else if (!strcmp(argv[i], "--tag"))
            slot = &tag;
        else if (!strcmp(argv[i], "--format"))
            slot = &format;
        else if (!strcmp(argv[i], "--out"))
            slot = &out_path;
        else if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            export_usage(stdout);
            return 0;
        } else if (argv[i][0] == '-' && argv[i][1]) {
            export_usage(stderr);
            return sl_cli_error("export: unknown option '%s'", argv[i]) + 1;
        } else if (!logdir) {
            logdir = argv[i];
            continue;
        } else {
            export_usage(stderr);
            return sl_cli_error("export: more than one logdir given ('%s' and '%s')", logdir, argv[i]) + 1;
        }
        if (i + 1 >= argc) {
            export_usage(stderr);
            return sl_cli_error("export: %s needs a value", argv[i]) + 1;
        }
        *slot = argv[++i];
    }
    if (!logdir || !run || !tag) {
        export_usage(stderr);
        return 2;
    }
    FILE *out = stdout;
    if (out_path && !(out = fopen(out_path, "w")))
        return sl_cli_error("cannot create '%s': %s", out_path, strerror(errno));
    sl_status *st = sl_status_new();
    int rc = 0;
    if (sl_logdir_export(logdir, run, tag, format, out, st) != SL_OK)
        rc = sl_cli_error("%s", sl_status_message(st));
    if (out != stdout && fclose(out) != 0 && rc == 0)
        rc = sl_cli_error("cannot write '%s': %s", out_path, strerror(errno));
    if (rc && out_path)
        remove(out_path);  /* no half-written export left behind */
    sl_status_free(st);
    return rc;
}
