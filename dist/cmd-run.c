/* `sluice run GRAPH --feed NAME=FILE.npy ... --fetch NAME[:INDEX] ...
 * [--target NAME] --out DIR [--json]`: runs one step of a graph in a
 * session and writes each fetch as DIR/<name with '/' and ':' made '_'>.npy.
 * With --json it prints a summary: each fetch's name, dtype, shape and
 * file, and the step's time.  Bad feeds (unknown name, wrong dtype or
 * shape) and failing steps print the session's message and exit 1.
 * With --cluster SPEC [--token-file FILE] the step runs on that cluster's
 * tasks (placed by the graph's device constraints), transparently. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "commands.h"
#include "json-writer.h"
#include "sluice/alloc.h"
#include "sluice/npy.h"
#include "client.h"
#include "sluice/session.h"

static void run_usage(FILE *out)
{
    fprintf(out, "usage: sluice run GRAPH [--feed NAME=FILE.npy]... --fetch NAME[:INDEX]... "
                 "[--target NAME]... --out DIR [--json] [--gpu]\n"
                 "                  [--cluster SPEC [--token-file FILE] [--tls DIR]]\n\n"
                 "Runs one step of GRAPH (.pb or .pbtxt) and writes each fetched tensor to\n"
                 "DIR/<name>.npy, with '/' and ':' in the name replaced by '_'.\n"
                 "--gpu places the nodes with GPU kernels on GPU:0 when there is one.\n");
}

static char *file_name_for(const char *dir, const char *fetch)
{
    size_t n = strlen(dir) + strlen(fetch) + 8;
    char *p = malloc(n);
    if (!p)
        return NULL;
    snprintf(p, n, "%s/%s.npy", dir, fetch);
    for (char *c = p + strlen(dir) + 1; *c; c++)
        if (*c == '/' || *c == ':')
            *c = '_';
    return p;
}

static int64_t now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

int sl_cmd_run(int argc, char **argv)
{
    const char *graph_path = NULL, *out_dir = NULL;
    bool json = false;
    const char **feed_names = calloc((size_t)argc, sizeof(char *));
    const char **feed_files = calloc((size_t)argc, sizeof(char *));
    const char **fetches = calloc((size_t)argc, sizeof(char *));
    const char **targets = calloc((size_t)argc, sizeof(char *));
    char **feed_bufs = calloc((size_t)argc, sizeof(char *));
    sl_tensor **feed_vals = calloc((size_t)argc, sizeof(sl_tensor *));
    sl_tensor **outs = calloc((size_t)argc, sizeof(sl_tensor *));
    int nf = 0, nfe = 0, nt = 0, rc = 2;
    sl_status *st = sl_status_new();
    sl_graph *g = NULL;
    sl_client_session *s = NULL;
    sl_client_options copts = SL_CLIENT_OPTIONS_INIT;
    const char *token_file = NULL;
    char *token = NULL;
    if (!feed_names || !feed_files || !fetches || !targets || !feed_bufs || !feed_vals || !outs || !st) {
        rc = sl_cli_error("out of memory");
        goto out;
    }
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            run_usage(stdout);
            rc = 0;
            goto out;
        } else if (!strcmp(a, "--json")) {
            json = true;
        } else if (!strcmp(a, "--gpu")) {
            copts.use_gpu = true;
        } else if (!strcmp(a, "--cluster") && i + 1 < argc) {
            copts.cluster = argv[++i];
        } else if (!strcmp(a, "--token-file") && i + 1 < argc) {
            token_file = argv[++i];
        } else if (!strcmp(a, "--tls") && i + 1 < argc) {
            copts.tls_dir = argv[++i];
        } else if ((!strcmp(a, "--feed") || !strcmp(a, "--fetch") || !strcmp(a, "--target") ||
                    !strcmp(a, "--out")) && i + 1 < argc) {
            const char *v = argv[++i];
            if (!strcmp(a, "--fetch")) {
                fetches[nfe++] = v;
            } else if (!strcmp(a, "--target")) {
                targets[nt++] = v;
            } else if (!strcmp(a, "--out")) {
                out_dir = v;
            } else {
                const char *eq = strchr(v, '=');
                if (!eq || eq == v || !eq[1]) {
                    sl_cli_error("--feed needs NAME=FILE.npy, not '%s'", v);
                    run_usage(stderr);
                    goto out;
                }
                feed_bufs[nf] = strdup(v);
                if (!feed_bufs[nf]) {
                    rc = sl_cli_error("out of memory");
                    goto out;
                }
                feed_bufs[nf][eq - v] = '\0';
                feed_names[nf] = feed_bufs[nf];
                feed_files[nf] = feed_bufs[nf] + (eq - v) + 1;
                nf++;
            }
        } else if (a[0] == '-') {
            sl_cli_error("unknown or incomplete option '%s'", a);
            run_usage(stderr);
            goto out;
        } else if (!graph_path) {
            graph_path = a;
        } else {
            sl_cli_error("more than one graph given ('%s')", a);
            goto out;
        }
    }
    if (!graph_path || (!nfe && !nt) || (nfe && !out_dir)) {
        run_usage(stderr);
        goto out;
    }
    rc = 1;
    g = sl_graph_load(graph_path, NULL, st);
    if (!g) {
        sl_cli_error("%s", sl_status_message(st));
        goto out;
    }
    for (int i = 0; i < nf; i++) {
        feed_vals[i] = sl_npy_read(feed_files[i], st);
        if (!feed_vals[i]) {
            sl_cli_error("feed '%s': %s", feed_names[i], sl_status_message(st));
            goto out;
        }
    }
    if (copts.cluster)
        copts.token = token = sl_cli_read_token(token_file);
    s = sl_client_session_new(g, &copts, st);
    if (!s) {
        sl_cli_error("%s", sl_status_message(st));
        goto out;
    }
    if (out_dir && mkdir(out_dir, 0777) != 0 && errno != EEXIST) {
        sl_cli_error("cannot create '%s': %s", out_dir, strerror(errno));
        goto out;
    }
    int64_t t0 = now_us();
    if (sl_client_session_run(s, NULL, feed_names, feed_vals, nf, fetches, outs, nfe, targets, nt, st) != SL_OK) {
        sl_cli_error("%s", sl_status_message(st));
        goto out;
    }
    int64_t step_us = now_us() - t0;
    sl_json j;
    if (json) {
        sl_json_init(&j, stdout, true);
        sl_json_begin_object(&j);
        sl_json_key(&j, "graph");
        sl_json_string(&j, graph_path);
        if (copts.cluster) {
            sl_json_key(&j, "cluster");
            sl_json_string(&j, copts.cluster);
        }
        sl_json_key(&j, "step_time_us");
        sl_json_int(&j, step_us);
        sl_json_key(&j, "fetches");
        sl_json_begin_array(&j);
    }
    for (int i = 0; i < nfe; i++) {
        char *path = file_name_for(out_dir, fetches[i]);
        if (!path || sl_npy_write(path, outs[i], st) != SL_OK) {
            sl_cli_error("fetch '%s': %s", fetches[i], path ? sl_status_message(st) : "out of memory");
            free(path);
            goto out;
        }
        if (json) {
            sl_json_begin_object(&j);
            sl_json_key(&j, "name");
            sl_json_string(&j, fetches[i]);
            sl_json_key(&j, "dtype");
            sl_json_string(&j, sl_dtype_name(sl_tensor_dtype(outs[i])));
            sl_json_key(&j, "shape");
            sl_json_begin_array(&j);
            for (int d = 0; d < sl_tensor_rank(outs[i]); d++)
                sl_json_int(&j, sl_tensor_dim(outs[i], d));
            sl_json_end_array(&j);
            sl_json_key(&j, "file");
            sl_json_string(&j, path);
            sl_json_end_object(&j);
        } else {
            printf("%s -> %s\n", fetches[i], path);
        }
        free(path);
    }
    if (json) {
        sl_json_end_array(&j);
        sl_json_end_object(&j);
        sl_json_finish(&j);
    }
    rc = 0;
out:
    for (int i = 0; i < argc && outs; i++)
        sl_tensor_unref(outs[i]);
    for (int i = 0; i < argc && feed_vals; i++)
        sl_tensor_unref(feed_vals[i]);
    for (int i = 0; i < argc && feed_bufs; i++)
        free(feed_bufs[i]);
    sl_client_session_free(s);
    free(token);
    sl_graph_free(g);
    sl_status_free(st);
    free(feed_names);
    free(feed_files);
    free(fetches);
    free(targets);
    free(feed_bufs);
    free(feed_vals);
    free(outs);
    return rc;
}
