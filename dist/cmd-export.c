/* `sluice export LOGDIR --run R --tag T [--format csv|json] [--out FILE]`:
 * every point of one series (TensorBoard exports only a sample). */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "commands.h"
#include "sluice/summaries/inspect.h"

static void export_usage(FILE *out)
{
    fprintf(out, "usage: sluice export LOGDIR --run RUN --tag TAG [--format csv|json] [--out FILE]\n\n"
                 "Writes every point of one series of a logdir (or of one event file, whose\n"
                 "run is '.') as CSV (the default) or JSON, to FILE or standard output.\n");
}

int sl_cmd_export(int argc, char **argv)
{
    const char *logdir = NULL, *run = NULL, *tag = NULL, *format = "csv", *out_path = NULL;
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
