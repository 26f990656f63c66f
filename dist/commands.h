/* Subcommands of the `sluice` program.  Each takes the arguments after its
 * name (argv[0] is the subcommand) and returns the process exit status:
 * 0 on success, 1 on failure (with a message on stderr), 2 on bad usage. */
#pragma once

int sl_cmd_export(int argc, char **argv);
int sl_cmd_inspect(int argc, char **argv);
int sl_cmd_gradients(int argc, char **argv);
int sl_cmd_run(int argc, char **argv);
int sl_cmd_devices(int argc, char **argv);
int sl_cmd_train(int argc, char **argv);
int sl_cmd_worker(int argc, char **argv);
int sl_cmd_cluster(int argc, char **argv);
int sl_cmd_bench_rpc(int argc, char **argv);

/* The cluster token: the first line of `file`, or $SLUICE_TOKEN when file
 * is NULL; NULL when there is none.  Caller frees. */
char *sl_cli_read_token(const char *file);

/* Prints "sluice: <message>" to stderr; returns 1. */
int sl_cli_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
