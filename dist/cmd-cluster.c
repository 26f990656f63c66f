/* `sluice cluster up|down|status SPEC [--run-dir DIR] [--launcher
 * local|ssh|slurm] [--ssh-option OPT]...`: starts, stops and inspects the
 * tasks of a cluster.  The run directory (default ./sluice-cluster) keeps
 * the cluster's token (made on the first `up`, mode 0600), one log per
 * task (logs/<job>-<task>.log) and what `down` needs (pids, the launcher).
 *
 * Launchers:
 *   local  a process per task on this machine (the default);
 *   ssh    `ssh HOST` per task, HOST taken from the task's address; the
 *          sluice binary and the run directory must be reachable at the
 *          same paths there (a shared file system); --ssh-option adds
 *          ssh options (-p 2222, -i KEY, -o ...);
 *   slurm  one `srun -n N` inside the current allocation (or a new one);
 *          each task picks its (job, task) from SLURM_PROCID in cluster
 *          order.
 * `up` waits until every task answers (20 s), and `status` asks each task
 * for its status (exit status 1 when one is down). */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cluster.h"
#include "commands.h"
#include "grpc/transport-grpc.h"

/* Paths here are bounded by PATH_MAX and a truncated one fails to open,
 * which is reported; GCC cannot see that. */
#pragma GCC diagnostic ignored "-Wformat-truncation"

#define MAX_SSH_OPTS 16

typedef struct cl_opts {
    const char *spec_arg;
    const char *run_dir;
    const char *launcher;
    const char *ssh_opts[MAX_SSH_OPTS];
    int num_ssh_opts;
    char self[PATH_MAX];
    const char *tls_dir;       /* RUN_DIR/tls when it exists */
    char tls_buf[PATH_MAX];
} cl_opts;

static void cluster_usage(FILE *out)
{
    fprintf(out, "usage: sluice cluster up|down|status SPEC [--run-dir DIR] [--launcher local|ssh|slurm]\n"
                 "                      [--ssh-option OPT]...\n\n"
                 "Starts (up), stops (down) or asks (status) the tasks of the cluster SPEC.  The run\n"
                 "directory (default ./sluice-cluster) holds the token, logs/<job>-<task>.log and pids.\n");
}

static int ensure_token(const char *dir, char *path, size_t size)
{
    snprintf(path, size, "%s/token", dir);
    if (access(path, R_OK) == 0)
        return 0;
    unsigned char raw[24];
    FILE *r = fopen("/dev/urandom", "rb");
    if (!r || fread(raw, 1, sizeof(raw), r) != sizeof(raw)) {
        if (r)
            fclose(r);
        return sl_cli_error("cannot read /dev/urandom");
    }
    fclose(r);
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600);
    if (fd < 0)
        return sl_cli_error("cannot create '%s': %s", path, strerror(errno));
    char hex[64];
    for (size_t i = 0; i < sizeof(raw); i++)
        snprintf(hex + 2 * i, 3, "%02x", raw[i]);
    strcat(hex, "\n");
    ssize_t w = write(fd, hex, strlen(hex));
    close(fd);
    return w == (ssize_t)strlen(hex) ? 0 : sl_cli_error("cannot write '%s'", path);
}

static void task_file(const cl_opts *o, const char *job, int task, const char *ext, char *buf, size_t size)
{
    snprintf(buf, size, "%s/%s/%s-%d.%s", o->run_dir, !strcmp(ext, "log") ? "logs" : "pids", job, task, ext);
}

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    if (f) {
        fputs(text, f);
        fclose(f);
    }
}

static long read_long(const char *path)
{
    FILE *f = fopen(path, "r");
    long v = -1;
    if (f) {
        if (fscanf(f, "%ld", &v) != 1)
            v = -1;
        fclose(f);
    }
    return v;
}

/* Checks every task once; prints a line per task when `print`.  Returns the
 * number of tasks up. */
static int probe(const sl_cluster *c, const char *token, bool print, const cl_opts *o)
{
    sl_grpc_options go = SL_GRPC_OPTIONS_INIT;
    go.token = token;
    sl_status *st = sl_status_new();
    if (o->tls_dir)
        sl_grpc_options_load_tls(&go, o->tls_dir, st);
    sl_transport *t = sl_grpc_transport_new(&go, st);
    sl_grpc_options_free_tls(&go);
    int up = 0;
    for (int i = 0; t && i < sl_cluster_num_tasks(c); i++) {
        const char *job;
        int task;
        sl_cluster_task_at(c, i, &job, &task);
        const char *addr = sl_cluster_task_address(c, job, task);
        sl_dist_conn *conn = t->ops->connect(t->impl, addr, st);
        Sluice__Dist__GetStatusRequest req = SLUICE__DIST__GET_STATUS_REQUEST__INIT;
        ProtobufCMessage *reply = NULL;
        bool ok = conn && sl_dist_call_sync(t, conn, SL_DIST_GET_STATUS, &req.base, 2000, &reply, st) == SL_OK;
        if (print) {
            char name[200], pidf[PATH_MAX];
            sl_cluster_task_name(job, task, name, sizeof(name));
            task_file(o, job, task, "pid", pidf, sizeof(pidf));
            if (ok) {
                Sluice__Dist__GetStatusResponse *r = (void *)reply;
                printf("%-32s %-22s up    pid %-7ld incarnation %016llx uptime %.1f s graphs %d steps %d\n", name,
                       addr, read_long(pidf), (unsigned long long)r->incarnation, r->uptime_us / 1e6, r->num_graphs,
                       r->num_active_steps);
            } else {
                printf("%-32s %-22s down  %s\n", name, addr, sl_status_message(st));
            }
        }
        if (reply)
            protobuf_c_message_free_unpacked(reply, NULL);
        if (conn)
            t->ops->disconnect(conn);
        up += ok;
    }
    sl_transport_free(t);
    sl_status_free(st);
    return up;
}

static pid_t spawn(char *const argv[], const char *log)
{
    pid_t pid = fork();
    if (pid == 0) {
        setsid();
        int fd = open(log, O_WRONLY | O_CREAT | O_APPEND, 0644);
        int nul = open("/dev/null", O_RDONLY);
        if (fd >= 0) {
            dup2(fd, 1);
            dup2(fd, 2);
        }
        if (nul >= 0)
            dup2(nul, 0);
        execvp(argv[0], argv);
        fprintf(stderr, "sluice cluster: cannot run %s: %s\n", argv[0], strerror(errno));
        _exit(127);
    }
    return pid;
}

static int up_local_or_ssh(const sl_cluster *c, const cl_opts *o, const char *spec, const char *token_path, bool ssh)
{
    for (int i = 0; i < sl_cluster_num_tasks(c); i++) {
        const char *job;
        int task;
        sl_cluster_task_at(c, i, &job, &task);
        char log[PATH_MAX], pidf[PATH_MAX], ts[16];
        task_file(o, job, task, "log", log, sizeof(log));
        task_file(o, job, task, "pid", pidf, sizeof(pidf));
        snprintf(ts, sizeof(ts), "%d", task);
        char buf[32];
        if (!ssh) {
            char *argv[] = {(char *)o->self, "worker", "--cluster", (char *)spec, "--job", (char *)job, "--task", ts,
                            "--token-file", (char *)token_path, o->tls_dir ? "--tls" : NULL, (char *)o->tls_dir,
                            NULL};
            pid_t pid = spawn(argv, log);
            snprintf(buf, sizeof(buf), "%d\n", (int)pid);
            write_file(pidf, buf);
            continue;
        }
        char host[256];
        int port;
        sl_cluster_split_address(sl_cluster_task_address(c, job, task), host, sizeof(host), &port);
        /* the remote side starts the worker in the background and prints its pid */
        char remote[4 * PATH_MAX];
        snprintf(remote, sizeof(remote),
                 "nohup '%s' worker --cluster '%s' --job '%s' --task %d --token-file '%s' --listen '%s:%d' %s%s%s"
                 ">>'%s' 2>&1 </dev/null & echo $! >'%s'",
                 o->self, spec, job, task, token_path, host, port, o->tls_dir ? "--tls '" : "",
                 o->tls_dir ? o->tls_dir : "", o->tls_dir ? "' " : "", log, pidf);
        char *argv[8 + 2 * MAX_SSH_OPTS];
        int n = 0;
        argv[n++] = "ssh";
        argv[n++] = "-o";
        argv[n++] = "BatchMode=yes";
        for (int k = 0; k < o->num_ssh_opts; k++)
            argv[n++] = (char *)o->ssh_opts[k];
        argv[n++] = host;
        argv[n++] = remote;
        argv[n] = NULL;
        pid_t pid = spawn(argv, log);
        int status = 0;
        waitpid(pid, &status, 0);
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
            return sl_cli_error("ssh to %s failed for /job:%s/task:%d (see %s)", host, job, task, log);
    }
    return 0;
}

static int up_slurm(const sl_cluster *c, const cl_opts *o, const char *spec, const char *token_path)
{
    char n[16], out[PATH_MAX], pidf[PATH_MAX];
    snprintf(n, sizeof(n), "%d", sl_cluster_num_tasks(c));
    snprintf(out, sizeof(out), "%s/logs/slurm-task-%%t.log", o->run_dir);
    snprintf(pidf, sizeof(pidf), "%s/pids/srun.pid", o->run_dir);
    char log[PATH_MAX];
    snprintf(log, sizeof(log), "%s/logs/srun.log", o->run_dir);
    char *argv[] = {"srun", "--overcommit", "-N1", "-n", n, "--kill-on-bad-exit=0", "-o", out,
                    (char *)o->self, "worker", "--cluster", (char *)spec, "--token-file", (char *)token_path,
                    "--from-slurm", o->tls_dir ? "--tls" : NULL, (char *)o->tls_dir, NULL};
    pid_t pid = spawn(argv, log);
    char buf[32];
    snprintf(buf, sizeof(buf), "%d\n", (int)pid);
    write_file(pidf, buf);
    return 0;
}

static void stop_pid(pid_t pid)
{
    if (pid <= 0 || kill(pid, SIGTERM) != 0)
        return;
    for (int i = 0; i < 50; i++) {
        if (waitpid(pid, NULL, WNOHANG) == pid || kill(pid, 0) != 0)
            return;
        usleep(100000);
    }
    kill(pid, SIGKILL);
    waitpid(pid, NULL, WNOHANG);
}

static int down(const sl_cluster *c, const cl_opts *o, const char *launcher)
{
    char pidf[PATH_MAX];
    if (!strcmp(launcher, "slurm")) {
        snprintf(pidf, sizeof(pidf), "%s/pids/srun.pid", o->run_dir);
        stop_pid((pid_t)read_long(pidf));
        unlink(pidf);
        return 0;
    }
    for (int i = 0; i < sl_cluster_num_tasks(c); i++) {
        const char *job;
        int task;
        sl_cluster_task_at(c, i, &job, &task);
        task_file(o, job, task, "pid", pidf, sizeof(pidf));
        long pid = read_long(pidf);
        if (pid <= 0)
            continue;
        if (!strcmp(launcher, "ssh")) {
            char host[256], cmd[64], log[PATH_MAX];
            int port;
            sl_cluster_split_address(sl_cluster_task_address(c, job, task), host, sizeof(host), &port);
            snprintf(cmd, sizeof(cmd), "kill %ld", pid);
            task_file(o, job, task, "log", log, sizeof(log));
            char *argv[8 + 2 * MAX_SSH_OPTS];
            int n = 0;
            argv[n++] = "ssh";
            argv[n++] = "-o";
            argv[n++] = "BatchMode=yes";
            for (int k = 0; k < o->num_ssh_opts; k++)
                argv[n++] = (char *)o->ssh_opts[k];
            argv[n++] = host;
            argv[n++] = cmd;
            argv[n] = NULL;
            pid_t p = spawn(argv, log);
            waitpid(p, NULL, 0);
        } else {
            stop_pid((pid_t)pid);
        }
        unlink(pidf);
    }
    return 0;
}

int sl_cmd_cluster(int argc, char **argv)
{
    if (argc < 3) {
        cluster_usage(argc > 1 && !strcmp(argv[1], "--help") ? stdout : stderr);
        return argc > 1 && !strcmp(argv[1], "--help") ? 0 : 2;
    }
    const char *verb = argv[1];
    cl_opts o = {.spec_arg = argv[2], .run_dir = "sluice-cluster", .launcher = NULL};
    for (int i = 3; i < argc; i++) {
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(argv[i], "--run-dir") && v)
            o.run_dir = v, i++;
        else if (!strcmp(argv[i], "--launcher") && v)
            o.launcher = v, i++;
        else if (!strcmp(argv[i], "--ssh-option") && v && o.num_ssh_opts < MAX_SSH_OPTS)
            o.ssh_opts[o.num_ssh_opts++] = v, i++;
        else {
            cluster_usage(stderr);
            return 2;
        }
    }
    if (strcmp(verb, "up") && strcmp(verb, "down") && strcmp(verb, "status")) {
        cluster_usage(stderr);
        return 2;
    }
    ssize_t sl = readlink("/proc/self/exe", o.self, sizeof(o.self) - 1);
    if (sl <= 0)
        return sl_cli_error("cannot find the sluice program (/proc/self/exe)");
    o.self[sl] = '\0';
    sl_status *st = sl_status_new();
    sl_cluster *c = sl_cluster_load(o.spec_arg, st);
    if (!c) {
        sl_cli_error("%s", sl_status_message(st));
        sl_status_free(st);
        return 1;
    }
    sl_status_free(st);
    char *spec = sl_cluster_format_short(c);
    char path[PATH_MAX], launcher_file[PATH_MAX];
    mkdir(o.run_dir, 0755);
    snprintf(path, sizeof(path), "%s/logs", o.run_dir);
    mkdir(path, 0755);
    snprintf(path, sizeof(path), "%s/pids", o.run_dir);
    mkdir(path, 0755);
    snprintf(launcher_file, sizeof(launcher_file), "%s/launcher", o.run_dir);
    char saved[32] = "local";
    FILE *lf = fopen(launcher_file, "r");
    if (lf) {
        if (fscanf(lf, "%31s", saved) != 1)
            strcpy(saved, "local");
        fclose(lf);
    }
    const char *launcher = o.launcher ? o.launcher : saved;
    int rc = 0;
    char token_path[PATH_MAX];
    char abs_dir[PATH_MAX];
    if (!realpath(o.run_dir, abs_dir))
        snprintf(abs_dir, sizeof(abs_dir), "%s", o.run_dir);
    o.run_dir = abs_dir;
    snprintf(o.tls_buf, sizeof(o.tls_buf), "%s/tls", o.run_dir);
    if (access(o.tls_buf, R_OK) == 0)
        o.tls_dir = o.tls_buf;
    if (ensure_token(o.run_dir, token_path, sizeof(token_path)) != 0) {
        rc = 1;
        goto out;
    }
    char *token = sl_cli_read_token(token_path);
    if (!strcmp(verb, "up")) {
        if (strcmp(launcher, "local") && strcmp(launcher, "ssh") && strcmp(launcher, "slurm")) {
            rc = sl_cli_error("unknown launcher '%s' (local, ssh, slurm)", launcher);
        } else {
            write_file(launcher_file, launcher);
            rc = !strcmp(launcher, "slurm") ? up_slurm(c, &o, spec, token_path)
                                            : up_local_or_ssh(c, &o, spec, token_path, !strcmp(launcher, "ssh"));
            int n = sl_cluster_num_tasks(c), up = 0;
            for (int k = 0; rc == 0 && k < 100 && (up = probe(c, token, false, &o)) < n; k++)
                usleep(200000);
            if (rc == 0 && up < n)
                rc = sl_cli_error("only %d of %d tasks came up; logs are in %s/logs", up, n, o.run_dir);
            if (rc == 0)
                printf("cluster up: %d task%s (%s launcher); run directory %s\n", n, n == 1 ? "" : "s", launcher,
                       o.run_dir);
            probe(c, token, true, &o);
        }
    } else if (!strcmp(verb, "status")) {
        rc = probe(c, token, true, &o) == sl_cluster_num_tasks(c) ? 0 : 1;
    } else {
        rc = down(c, &o, launcher);
        printf("cluster down (%s launcher)\n", launcher);
    }
    free(token);
out:
    free(spec);
    sl_cluster_free(c);
    return rc;
}
