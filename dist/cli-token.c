/* The cluster token of the CLI commands (run, train, worker, cluster):
 * read from --token-file FILE or $SLUICE_TOKEN.  Built with or without
 * gRPC, since `sluice run` and `sluice train` take --token-file either way
 * (without gRPC a cluster is refused later, with a clear error). */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"

/* The token: the first line of the file, or $SLUICE_TOKEN.  Caller frees. */
char *sl_cli_read_token(const char *file)
{
    if (!file) {
        const char *env = getenv("SLUICE_TOKEN");
        return env && *env ? strdup(env) : NULL;
    }
    FILE *f = fopen(file, "r");
    if (!f)
        return NULL;
    char buf[512];
    char *tok = NULL;
    if (fgets(buf, sizeof(buf), f)) {
        buf[strcspn(buf, "\r\n")] = '\0';
        if (buf[0])
            tok = strdup(buf);
    }
    fclose(f);
    return tok;
}
