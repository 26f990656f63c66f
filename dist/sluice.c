/* sluice: the command line.  Dispatches to subcommands (inspect, run,
 * train, worker, cluster, ...). */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "commands.h"

typedef struct command {
    const char *name;
    int (*fn)(int argc, char **argv);
    const char *summary;
} command;

static const command commands[] = {
    {"devices", sl_cmd_devices, "list this machine's CPU and GPU devices"},
    {"export", sl_cmd_export, "write every point of one series of a logdir as CSV or JSON"},
    {"gradients", sl_cmd_gradients, "add the gradients of a loss to a graph and write it"},
    {"inspect", sl_cmd_inspect, "describe a graph (.pb/.pbtxt) or a logdir/event file"},
    {"train", sl_cmd_train, "train a run spec: progress, event files, checkpoints, resume, evaluation"},
#if HAVE_GRPC
    {"worker", sl_cmd_worker, "serve one task of a cluster (gRPC)"},
    {"cluster", sl_cmd_cluster, "start, stop or ask the tasks of a cluster (local, ssh, slurm)"},
#endif
    {"run", sl_cmd_run, "run one step of a graph with .npy feeds; write the fetches as .npy"},
};

int sl_cli_error(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("sluice: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    return 1;
}

static void usage(FILE *out)
{
    fprintf(out, "usage: sluice <command> [<args>]\n\ncommands:\n");
    for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
        fprintf(out, "  %-10s %s\n", commands[i].name, commands[i].summary);
    fprintf(out, "\nRun 'sluice <command> --help' for a command's options.\n");
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
        usage(stdout);
        return 0;
    }
    if (!strcmp(argv[1], "--version")) {
        printf("sluice %s\n", SLUICE_VERSION);
        return 0;
    }
    for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
        if (!strcmp(argv[1], commands[i].name))
            return commands[i].fn(argc - 1, argv + 1);
    sl_cli_error("'%s' is not a sluice command; see 'sluice --help'", argv[1]);
    return 2;
}
