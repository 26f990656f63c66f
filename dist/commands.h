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

/* Prints "sluice: <message>" to stderr; returns 1. */
int sl_cli_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
