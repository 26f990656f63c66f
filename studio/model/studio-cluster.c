/* Cluster targets, specs and commands (see the header). */
#include "config.h"

#include "studio-cluster.h"

#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <unistd.h>

static const char *const kind_names[] = { "this-computer", "local-cluster", "ssh", "slurm" };

StudioTarget *
studio_target_new (StudioTargetKind kind)
{
    StudioTarget *t = g_new0 (StudioTarget, 1);
    t->kind = kind;
    t->workers = 2;
    t->ps = 1;
    t->hosts = g_strdup ("");
    t->port = 2222;
    return t;
}

StudioTarget *
studio_target_copy (const StudioTarget *t)
{
    if (!t)
        return NULL;
    StudioTarget *c = g_new (StudioTarget, 1);
    *c = *t;
    c->hosts = g_strdup (t->hosts ? t->hosts : "");
    return c;
}

void
studio_target_free (StudioTarget *t)
{
    if (!t)
        return;
    g_free (t->hosts);
    g_free (t);
}

gboolean
studio_target_is_cluster (const StudioTarget *t)
{
    return t && t->kind != STUDIO_TARGET_THIS_COMPUTER;
}

const char *
studio_target_launcher (const StudioTarget *t)
{
    if (!studio_target_is_cluster (t))
        return NULL;
    return t->kind == STUDIO_TARGET_SSH ? "ssh" : t->kind == STUDIO_TARGET_SLURM ? "slurm" : "local";
}

char *
studio_target_to_string (const StudioTarget *t)
{
    if (!studio_target_is_cluster (t))
        return g_strdup (kind_names[0]);
    GString *s = g_string_new (kind_names[t->kind]);
    g_string_append_printf (s, " workers=%d ps=%d mode=%s", t->workers, t->ps, t->async ? "async" : "sync");
    if (t->kind != STUDIO_TARGET_LOCAL_CLUSTER) {
        if (t->hosts && *t->hosts)
            g_string_append_printf (s, " hosts=%s", t->hosts);
        g_string_append_printf (s, " port=%d", t->port);
    }
    return g_string_free (s, FALSE);
}

StudioTarget *
studio_target_parse (const char *text, GError **error)
{
    char *copy = g_strstrip (g_strdup (text ? text : ""));
    char **words = g_strsplit_set (copy, " \t", -1);
    g_free (copy);
    StudioTarget *t = NULL;
    int kind = -1;
    if (!words[0] || !*words[0])
        kind = STUDIO_TARGET_THIS_COMPUTER;
    for (int k = 0; kind < 0 && k < (int) G_N_ELEMENTS (kind_names); k++)
        if (g_str_equal (words[0], kind_names[k]))
            kind = k;
    if (kind < 0) {
        g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, "unknown training target '%s'", words[0]);
        g_strfreev (words);
        return NULL;
    }
    t = studio_target_new ((StudioTargetKind) kind);
    for (int i = 1; words[i]; i++) {
        if (!*words[i])
            continue;
        char *eq = strchr (words[i], '=');
        const char *v = eq ? eq + 1 : "";
        char *end = NULL;
        long n = strtol (v, &end, 10);
        gboolean num_ok = end && end != v && !*end && n >= 1 && n <= 65535;
        gboolean ok = eq != NULL;
        if (ok)
            *eq = '\0';
        if (!ok)
            ;
        else if (g_str_equal (words[i], "workers") && num_ok)
            t->workers = (int) n;
        else if (g_str_equal (words[i], "ps") && num_ok)
            t->ps = (int) n;
        else if (g_str_equal (words[i], "port") && num_ok)
            t->port = (int) n;
        else if (g_str_equal (words[i], "mode") && (g_str_equal (v, "sync") || g_str_equal (v, "async")))
            t->async = g_str_equal (v, "async");
        else if (g_str_equal (words[i], "hosts")) {
            g_free (t->hosts);
            t->hosts = g_strdup (v);
        } else
            ok = FALSE;
        if (!ok) {
            g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, "training target '%s': bad '%s'", text,
                         words[i]);
            studio_target_free (t);
            g_strfreev (words);
            return NULL;
        }
    }
    g_strfreev (words);
    return t;
}

char *
studio_target_describe (const StudioTarget *t)
{
    if (!studio_target_is_cluster (t))
        return g_strdup ("this computer");
    const char *what = t->kind == STUDIO_TARGET_LOCAL_CLUSTER ? "local cluster"
                     : t->kind == STUDIO_TARGET_SSH ? "SSH hosts" : "Slurm";
    GString *s = g_string_new (what);
    if (t->kind != STUDIO_TARGET_LOCAL_CLUSTER && t->hosts && *t->hosts)
        g_string_append_printf (s, " %s", t->hosts);
    g_string_append_printf (s, ": %d worker%s + %d ps, %s", t->workers, t->workers == 1 ? "" : "s", t->ps,
                            t->async ? "asynchronous" : "synchronous");
    return g_string_free (s, FALSE);
}

gboolean
studio_free_ports (int n, int *ports, GError **error)
{
    int *fds = g_new (int, MAX (n, 1));
    int got = 0;
    gboolean ok = TRUE;
    for (; got < n; got++) {
        struct sockaddr_in a = { 0 };
        a.sin_family = AF_INET;
        a.sin_addr.s_addr = htonl (INADDR_LOOPBACK);
        a.sin_port = 0;
        socklen_t len = sizeof a;
        int fd = socket (AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0 || bind (fd, (struct sockaddr *) &a, sizeof a) != 0
            || getsockname (fd, (struct sockaddr *) &a, &len) != 0) {
            int err = errno;
            if (fd >= 0)
                close (fd);
            g_set_error (error, G_IO_ERROR, g_io_error_from_errno (err), "cannot find a free port: %s",
                         g_strerror (err));
            ok = FALSE;
            break;
        }
        fds[got] = fd;
        ports[got] = ntohs (a.sin_port);
    }
    for (int i = 0; i < got; i++)
        close (fds[i]);
    g_free (fds);
    return ok;
}

/* The Slurm node when none is named: the node this step runs on, or the
 * allocation's only node. */
static char *
slurm_node (void)
{
    const char *n = g_getenv ("SLURMD_NODENAME");
    if (n && *n)
        return g_strdup (n);
    n = g_getenv ("SLURM_JOB_NODELIST");
    if (n && *n && !strpbrk (n, "[,"))
        return g_strdup (n);
    return NULL;
}

char *
studio_target_cluster_spec (const StudioTarget *t, GError **error)
{
    if (!studio_target_is_cluster (t)) {
        g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT, "this computer is not a cluster");
        return NULL;
    }
    if (t->workers < 1 || t->ps < 1 || t->workers + t->ps > 1000) {
        g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                             "a cluster needs at least one worker and one parameter server");
        return NULL;
    }
    int n = t->ps + t->workers;
    char **hosts = NULL;
    int *ports = g_new0 (int, n);
    if (t->kind == STUDIO_TARGET_LOCAL_CLUSTER) {
        if (!studio_free_ports (n, ports, error)) {
            g_free (ports);
            return NULL;
        }
        hosts = g_new0 (char *, 2);
        hosts[0] = g_strdup ("127.0.0.1");
    } else {
        char *node = t->kind == STUDIO_TARGET_SLURM && !(t->hosts && *t->hosts) ? slurm_node () : NULL;
        char **raw = g_strsplit_set (node ? node : t->hosts ? t->hosts : "", ", \t", -1);
        g_free (node);
        GPtrArray *h = g_ptr_array_new ();
        for (int i = 0; raw[i]; i++)
            if (*raw[i] && (t->kind != STUDIO_TARGET_SLURM || h->len == 0))   /* Slurm: one node (srun -N1) */
                g_ptr_array_add (h, g_strdup (raw[i]));
        g_strfreev (raw);
        g_ptr_array_add (h, NULL);
        hosts = (char **) g_ptr_array_free (h, FALSE);
        if (!hosts[0]) {
            g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                                 t->kind == STUDIO_TARGET_SSH ? "name the SSH hosts (host1,host2)"
                                                              : "name the Slurm allocation's node");
            g_strfreev (hosts);
            g_free (ports);
            return NULL;
        }
        /* round-robin over the hosts; each host's tasks on port, port + 1, ... */
        guint nh = g_strv_length (hosts);
        int *next = g_new0 (int, nh);
        for (int i = 0; i < n; i++)
            ports[i] = t->port + next[i % nh]++;
        g_free (next);
    }
    guint nh = g_strv_length (hosts);
    GString *s = g_string_new ("ps=");
    for (int i = 0; i < n; i++) {
        if (i == t->ps)
            g_string_append (s, ";worker=");
        else if (i > 0)
            g_string_append_c (s, ',');
        g_string_append_printf (s, "%s:%d", hosts[i % nh], ports[i]);
    }
    g_strfreev (hosts);
    g_free (ports);
    return g_string_free (s, FALSE);
}

static char **
argv_of (GPtrArray *a)
{
    g_ptr_array_add (a, NULL);
    return (char **) g_ptr_array_free (a, FALSE);
}

static GPtrArray *
cluster_cmd (const char *sluice, const char *verb, const char *spec, const char *cluster_dir)
{
    GPtrArray *a = g_ptr_array_new ();
    g_ptr_array_add (a, g_strdup (sluice));
    g_ptr_array_add (a, g_strdup ("cluster"));
    g_ptr_array_add (a, g_strdup (verb));
    g_ptr_array_add (a, g_strdup (spec));
    g_ptr_array_add (a, g_strdup ("--run-dir"));
    g_ptr_array_add (a, g_strdup (cluster_dir));
    return a;
}

char **
studio_cluster_up_argv (const char *sluice, const StudioTarget *t, const char *spec, const char *cluster_dir)
{
    GPtrArray *a = cluster_cmd (sluice, "up", spec, cluster_dir);
    g_ptr_array_add (a, g_strdup ("--launcher"));
    g_ptr_array_add (a, g_strdup (studio_target_launcher (t) ? studio_target_launcher (t) : "local"));
    return argv_of (a);
}

char **
studio_cluster_down_argv (const char *sluice, const StudioTarget *t, const char *spec, const char *cluster_dir)
{
    GPtrArray *a = cluster_cmd (sluice, "down", spec, cluster_dir);
    g_ptr_array_add (a, g_strdup ("--launcher"));
    g_ptr_array_add (a, g_strdup (studio_target_launcher (t) ? studio_target_launcher (t) : "local"));
    return argv_of (a);
}

char **
studio_cluster_status_argv (const char *sluice, const char *spec, const char *cluster_dir)
{
    return argv_of (cluster_cmd (sluice, "status", spec, cluster_dir));
}

char **
studio_cluster_train_argv (const char *sluice, const StudioTarget *t, const char *run_spec, const char *spec,
                           const char *cluster_dir)
{
    GPtrArray *a = g_ptr_array_new ();
    g_ptr_array_add (a, g_strdup (sluice));
    g_ptr_array_add (a, g_strdup ("train"));
    g_ptr_array_add (a, g_strdup (run_spec));
    g_ptr_array_add (a, g_strdup ("--cluster"));
    g_ptr_array_add (a, g_strdup (spec));
    g_ptr_array_add (a, g_strdup ("--token-file"));
    g_ptr_array_add (a, g_build_filename (cluster_dir, "token", NULL));
    if (t && t->async)
        g_ptr_array_add (a, g_strdup ("--async"));
    return argv_of (a);
}

void
studio_cluster_task_free (StudioClusterTask *t)
{
    if (!t)
        return;
    g_free (t->job);
    g_free (t->address);
    g_free (t->state);
    g_free (t->detail);
    g_free (t);
}

char *
studio_cluster_task_label (const StudioClusterTask *t)
{
    return g_strdup_printf ("%s %d", t->job, t->task);
}

char *
studio_cluster_task_log (const char *cluster_dir, const StudioClusterTask *t)
{
    char *name = g_strdup_printf ("%s-%d.log", t->job, t->task);
    char *p = g_build_filename (cluster_dir, "logs", name, NULL);
    g_free (name);
    return p;
}

static void
set_state (StudioClusterTask *t, const char *state, const char *detail)
{
    g_free (t->state);
    t->state = g_strdup (state);
    g_free (t->detail);
    t->detail = g_strdup (detail ? detail : "");
}

GPtrArray *
studio_cluster_tasks (const char *spec, GError **error)
{
    GPtrArray *tasks = g_ptr_array_new_with_free_func ((GDestroyNotify) studio_cluster_task_free);
    char **jobs = g_strsplit (spec ? spec : "", ";", -1);
    gboolean ok = jobs[0] != NULL;
    for (int j = 0; ok && jobs[j]; j++) {
        char *eq = strchr (jobs[j], '=');
        if (!eq || eq == jobs[j] || !eq[1]) {
            ok = FALSE;
            break;
        }
        char *job = g_strndup (jobs[j], (gsize) (eq - jobs[j]));
        char **addrs = g_strsplit (eq + 1, ",", -1);
        for (int k = 0; addrs[k]; k++) {
            if (!strchr (addrs[k], ':')) {
                ok = FALSE;
                break;
            }
            StudioClusterTask *t = g_new0 (StudioClusterTask, 1);
            t->job = g_strdup (g_strstrip (job));
            t->task = k;
            t->address = g_strdup (g_strstrip (addrs[k]));
            set_state (t, "starting", NULL);
            g_ptr_array_add (tasks, t);
        }
        g_strfreev (addrs);
        g_free (job);
    }
    g_strfreev (jobs);
    if (!ok) {
        g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, "not a cluster spec: '%s'", spec ? spec : "");
        g_ptr_array_unref (tasks);
        return NULL;
    }
    return tasks;
}

int
studio_cluster_parse_status (GPtrArray *tasks, const char *output)
{
    int matched = 0;
    char **lines = g_strsplit (output ? output : "", "\n", -1);
    for (int i = 0; lines[i]; i++) {
        char job[128];
        int task = -1, used = 0;
        if (sscanf (lines[i], "/job:%127[^/]/replica:%*d/task:%d%n", job, &task, &used) != 2)
            continue;
        char **w = g_strsplit_set (g_strstrip (lines[i] + used), " \t", -1);
        /* address, state, the rest */
        GPtrArray *words = g_ptr_array_new ();
        for (int k = 0; w[k]; k++)
            if (*w[k])
                g_ptr_array_add (words, w[k]);
        for (guint k = 0; words->len >= 2 && k < tasks->len; k++) {
            StudioClusterTask *t = tasks->pdata[k];
            if (t->task != task || !g_str_equal (t->job, job))
                continue;
            const char *state = words->pdata[1];
            GString *rest = g_string_new (NULL);
            for (guint r = 2; r < words->len; r++) {
                const char *x = words->pdata[r];
                if (g_str_equal (x, "pid") && r + 1 < words->len) {
                    gint64 pid = g_ascii_strtoll (words->pdata[r + 1], NULL, 10);
                    if (pid > 0)
                        t->pid = pid;
                    r++;
                    continue;
                }
                if (g_str_equal (x, "incarnation") && r + 1 < words->len) {
                    r++;
                    continue;
                }
                g_string_append_printf (rest, "%s%s", rest->len ? " " : "", x);
            }
            set_state (t, g_str_equal (state, "up") ? "up" : "down", rest->str);
            g_string_free (rest, TRUE);
            matched++;
        }
        g_ptr_array_free (words, TRUE);
        g_strfreev (w);
    }
    g_strfreev (lines);
    return matched;
}

void
studio_cluster_read_pids (GPtrArray *tasks, const char *cluster_dir, gboolean local)
{
    char *srun = g_build_filename (cluster_dir, "pids", "srun.pid", NULL);
    gboolean slurm = g_file_test (srun, G_FILE_TEST_EXISTS);
    for (guint k = 0; k < tasks->len; k++) {
        StudioClusterTask *t = tasks->pdata[k];
        char *name = g_strdup_printf ("%s-%d.pid", t->job, t->task);
        char *path = slurm ? g_strdup (srun) : g_build_filename (cluster_dir, "pids", name, NULL);
        char *text = NULL;
        gint64 pid = 0;
        if (g_file_get_contents (path, &text, NULL, NULL))
            pid = g_ascii_strtoll (text, NULL, 10);
        g_free (text);
        g_free (path);
        g_free (name);
        /* a remote task's pid is not one of this machine's */
        if (pid > 0 && (!local || kill ((pid_t) pid, 0) == 0)) {
            t->pid = slurm ? 0 : pid;
            if (g_str_equal (t->state, "starting") || g_str_equal (t->state, "stopped"))
                set_state (t, "running", NULL);
        } else {
            set_state (t, "stopped", NULL);
        }
    }
    g_free (srun);
}
