/* Cluster targets without a display (studio-cluster.h): the target text
 * kept in the run history, the cluster spec of each target (a local
 * cluster on ports that are free), the argv of every `sluice` command the
 * studio runs for each target, the tasks' states read from `sluice
 * cluster status` output and the pid files, and the run history's target
 * column (also in a history from before it). */
#include "config.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <glib/gstdio.h>
#include <netinet/in.h>
#include <string.h>
#include <sqlite3.h>
#include <sys/socket.h>
#include <unistd.h>

#include "studio-cluster.h"
#include "studio-runs-db.h"

static void
assert_argv (char **argv, const char *want)
{
    char *got = g_strjoinv (" ", argv);
    assert_string_equal (got, want);
    g_free (got);
    g_strfreev (argv);
}

static void
test_target_text_round_trips (void **state)
{
    for (int k = STUDIO_TARGET_THIS_COMPUTER; k <= STUDIO_TARGET_SLURM; k++) {
        g_autoptr (StudioTarget) t = studio_target_new (k);
        t->workers = 3;
        t->ps = 2;
        t->async = k % 2;
        g_free (t->hosts);
        t->hosts = g_strdup (k == STUDIO_TARGET_SSH ? "host1,host2" : k == STUDIO_TARGET_SLURM ? "node7" : "");
        t->port = 3000 + k;
        char *text = studio_target_to_string (t);
        g_autoptr (StudioTarget) back = studio_target_parse (text, NULL);
        assert_non_null (back);
        assert_int_equal (back->kind, k);
        if (k != STUDIO_TARGET_THIS_COMPUTER) {
            assert_int_equal (back->workers, 3);
            assert_int_equal (back->ps, 2);
            assert_int_equal (back->async, k % 2);
            assert_string_equal (back->hosts, t->hosts);
        }
        if (k == STUDIO_TARGET_SSH || k == STUDIO_TARGET_SLURM)
            assert_int_equal (back->port, 3000 + k);
        g_free (text);
    }
    g_autoptr (StudioTarget) t = studio_target_new (STUDIO_TARGET_LOCAL_CLUSTER);
    char *text = studio_target_to_string (t);
    assert_string_equal (text, "local-cluster workers=2 ps=1 mode=sync");
    g_free (text);
    text = studio_target_describe (t);
    assert_string_equal (text, "local cluster: 2 workers + 1 ps, synchronous");
    g_free (text);
    assert_string_equal (studio_target_launcher (t), "local");
    /* a run from before targets: this computer */
    g_autoptr (StudioTarget) old = studio_target_parse ("", NULL);
    assert_int_equal (old->kind, STUDIO_TARGET_THIS_COMPUTER);
    assert_null (studio_target_launcher (old));
    GError *e = NULL;
    assert_null (studio_target_parse ("cloud workers=2", &e));
    assert_non_null (strstr (e->message, "cloud"));
    g_clear_error (&e);
    assert_null (studio_target_parse ("ssh workers=zero", &e));
    g_clear_error (&e);
    assert_null (studio_target_parse ("ssh ps=0", &e));
    g_clear_error (&e);
}

static gboolean
bindable (int port)
{
    struct sockaddr_in a = { 0 };
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl (INADDR_LOOPBACK);
    a.sin_port = htons (port);
    int fd = socket (AF_INET, SOCK_STREAM, 0);
    gboolean ok = bind (fd, (struct sockaddr *) &a, sizeof a) == 0;
    close (fd);
    return ok;
}

static void
test_local_cluster_gets_free_ports (void **state)
{
    int ports[5];
    assert_true (studio_free_ports (5, ports, NULL));
    for (int i = 0; i < 5; i++) {
        assert_true (ports[i] > 0 && ports[i] < 65536);
        for (int j = 0; j < i; j++)
            assert_int_not_equal (ports[i], ports[j]);
        assert_true (bindable (ports[i]));
    }
    g_autoptr (StudioTarget) t = studio_target_new (STUDIO_TARGET_LOCAL_CLUSTER);
    t->workers = 2;
    t->ps = 1;
    char *spec = studio_target_cluster_spec (t, NULL);
    int p0, p1, p2, used = 0;
    assert_int_equal (sscanf (spec, "ps=127.0.0.1:%d;worker=127.0.0.1:%d,127.0.0.1:%d%n", &p0, &p1, &p2, &used), 3);
    assert_int_equal (used, (int) strlen (spec));
    assert_true (p0 != p1 && p1 != p2 && p0 != p2);
    assert_true (bindable (p0) && bindable (p1) && bindable (p2));
    print_message ("local cluster spec: %s\n", spec);
    /* a port taken now is not handed out */
    int fd = socket (AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = { 0 };
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl (INADDR_LOOPBACK);
    a.sin_port = htons (p0);
    assert_int_equal (bind (fd, (struct sockaddr *) &a, sizeof a), 0);
    assert_int_equal (listen (fd, 1), 0);
    for (int k = 0; k < 20; k++) {
        char *again = studio_target_cluster_spec (t, NULL);
        char *taken = g_strdup_printf (":%d", p0);
        assert_null (strstr (again, taken));
        g_free (taken);
        g_free (again);
    }
    close (fd);
    g_free (spec);

    GPtrArray *tasks = studio_cluster_tasks ("ps=127.0.0.1:5000;worker=127.0.0.1:5001,127.0.0.1:5002", NULL);
    assert_int_equal (tasks->len, 3);
    StudioClusterTask *w1 = tasks->pdata[2];
    assert_string_equal (w1->job, "worker");
    assert_int_equal (w1->task, 1);
    assert_string_equal (w1->address, "127.0.0.1:5002");
    assert_string_equal (w1->state, "starting");
    char *label = studio_cluster_task_label (w1);
    assert_string_equal (label, "worker 1");
    g_free (label);
    char *log = studio_cluster_task_log ("/r/cluster", w1);
    assert_string_equal (log, "/r/cluster/logs/worker-1.log");
    g_free (log);
    g_ptr_array_unref (tasks);
    assert_null (studio_cluster_tasks ("nonsense", NULL));
}

static void
test_ssh_and_slurm_specs (void **state)
{
    g_autoptr (StudioTarget) t = studio_target_new (STUDIO_TARGET_SSH);
    t->workers = 3;
    t->ps = 1;
    t->port = 2222;
    GError *e = NULL;
    assert_null (studio_target_cluster_spec (t, &e));   /* no hosts */
    assert_non_null (strstr (e->message, "host"));
    g_clear_error (&e);
    g_free (t->hosts);
    t->hosts = g_strdup ("host1, host2");
    char *spec = studio_target_cluster_spec (t, NULL);
    assert_string_equal (spec, "ps=host1:2222;worker=host2:2222,host1:2223,host2:2223");
    g_free (spec);

    g_autoptr (StudioTarget) s = studio_target_new (STUDIO_TARGET_SLURM);
    s->workers = 2;
    s->port = 41000;
    g_unsetenv ("SLURMD_NODENAME");
    g_setenv ("SLURM_JOB_NODELIST", "n[1-2]", TRUE);
    assert_null (studio_target_cluster_spec (s, &e));   /* which node? */
    assert_non_null (strstr (e->message, "node"));
    g_clear_error (&e);
    g_setenv ("SLURM_JOB_NODELIST", "n5", TRUE);
    spec = studio_target_cluster_spec (s, NULL);
    assert_string_equal (spec, "ps=n5:41000;worker=n5:41001,n5:41002");
    g_free (spec);
    g_free (s->hosts);
    s->hosts = g_strdup ("node7,node8");   /* srun -N1: the first */
    spec = studio_target_cluster_spec (s, NULL);
    assert_string_equal (spec, "ps=node7:41000;worker=node7:41001,node7:41002");
    g_free (spec);
    g_unsetenv ("SLURM_JOB_NODELIST");

    g_autoptr (StudioTarget) here = studio_target_new (STUDIO_TARGET_THIS_COMPUTER);
    assert_null (studio_target_cluster_spec (here, NULL));
}

static void
test_commands_for_each_target (void **state)
{
    const char *spec = "ps=127.0.0.1:5000;worker=127.0.0.1:5001,127.0.0.1:5002";
    g_autoptr (StudioTarget) local = studio_target_new (STUDIO_TARGET_LOCAL_CLUSTER);
    assert_argv (studio_cluster_up_argv ("/bin/sluice", local, spec, "/r/cluster"),
                 "/bin/sluice cluster up ps=127.0.0.1:5000;worker=127.0.0.1:5001,127.0.0.1:5002 --run-dir "
                 "/r/cluster --launcher local");
    assert_argv (studio_cluster_train_argv ("/bin/sluice", local, "/r/run.spec", spec, "/r/cluster"),
                 "/bin/sluice train /r/run.spec --cluster ps=127.0.0.1:5000;worker=127.0.0.1:5001,127.0.0.1:5002 "
                 "--token-file /r/cluster/token");
    assert_argv (studio_cluster_down_argv ("/bin/sluice", local, spec, "/r/cluster"),
                 "/bin/sluice cluster down ps=127.0.0.1:5000;worker=127.0.0.1:5001,127.0.0.1:5002 --run-dir "
                 "/r/cluster --launcher local");
    assert_argv (studio_cluster_status_argv ("/bin/sluice", spec, "/r/cluster"),
                 "/bin/sluice cluster status ps=127.0.0.1:5000;worker=127.0.0.1:5001,127.0.0.1:5002 --run-dir "
                 "/r/cluster");
    /* each argument is one argv element: the spec's ';' reaches sluice as is */
    char **argv = studio_cluster_up_argv ("/bin/sluice", local, spec, "/r/cluster");
    assert_int_equal (g_strv_length (argv), 8);
    assert_string_equal (argv[3], spec);
    g_strfreev (argv);

    g_autoptr (StudioTarget) ssh = studio_target_new (STUDIO_TARGET_SSH);
    ssh->async = TRUE;
    const char *sspec = "ps=host1:2222;worker=host2:2222";
    assert_argv (studio_cluster_up_argv ("sluice", ssh, sspec, "/r/cluster"),
                 "sluice cluster up ps=host1:2222;worker=host2:2222 --run-dir /r/cluster --launcher ssh");
    assert_argv (studio_cluster_train_argv ("sluice", ssh, "/r/run.spec", sspec, "/r/cluster"),
                 "sluice train /r/run.spec --cluster ps=host1:2222;worker=host2:2222 --token-file "
                 "/r/cluster/token --async");
    assert_argv (studio_cluster_down_argv ("sluice", ssh, sspec, "/r/cluster"),
                 "sluice cluster down ps=host1:2222;worker=host2:2222 --run-dir /r/cluster --launcher ssh");

    g_autoptr (StudioTarget) slurm = studio_target_new (STUDIO_TARGET_SLURM);
    assert_argv (studio_cluster_up_argv ("sluice", slurm, "ps=n5:1;worker=n5:2", "/r/cluster"),
                 "sluice cluster up ps=n5:1;worker=n5:2 --run-dir /r/cluster --launcher slurm");
    assert_argv (studio_cluster_down_argv ("sluice", slurm, "ps=n5:1;worker=n5:2", "/r/cluster"),
                 "sluice cluster down ps=n5:1;worker=n5:2 --run-dir /r/cluster --launcher slurm");
}

static void
test_task_states_from_status_and_pids (void **state)
{
    GPtrArray *tasks = studio_cluster_tasks ("ps=127.0.0.1:5000;worker=127.0.0.1:5001,127.0.0.1:5002", NULL);
    const char *out =
        "/job:ps/replica:0/task:0             127.0.0.1:5000         up    pid 4242    incarnation "
        "00ab00cd00ef0011 uptime 3.2 s graphs 1 steps 0\n"
        "/job:worker/replica:0/task:0         127.0.0.1:5001         up    pid 4243    incarnation "
        "00ab00cd00ef0012 uptime 3.1 s graphs 2 steps 1\n"
        "/job:worker/replica:0/task:1         127.0.0.1:5002         down  UNAVAILABLE: failed to connect\n";
    assert_int_equal (studio_cluster_parse_status (tasks, out), 3);
    StudioClusterTask *ps = tasks->pdata[0], *w0 = tasks->pdata[1], *w1 = tasks->pdata[2];
    assert_string_equal (ps->state, "up");
    assert_int_equal (ps->pid, 4242);
    assert_string_equal (ps->detail, "uptime 3.2 s graphs 1 steps 0");
    assert_string_equal (w0->state, "up");
    assert_int_equal (w0->pid, 4243);
    assert_string_equal (w1->state, "down");
    assert_string_equal (w1->detail, "UNAVAILABLE: failed to connect");
    assert_int_equal (studio_cluster_parse_status (tasks, "sluice: cannot read token\n"), 0);

    /* pid files: alive, dead, removed by `cluster down` */
    char *dir = g_dir_make_tmp ("studio-cluster-XXXXXX", NULL);
    char *pids = g_build_filename (dir, "pids", NULL);
    g_mkdir (pids, 0755);
    char *f = g_build_filename (pids, "ps-0.pid", NULL);
    char *me = g_strdup_printf ("%d\n", (int) getpid ());
    g_file_set_contents (f, me, -1, NULL);
    g_free (f);
    f = g_build_filename (pids, "worker-0.pid", NULL);
    g_file_set_contents (f, "999999999\n", -1, NULL);   /* no such process */
    g_free (f);
    studio_cluster_read_pids (tasks, dir, TRUE);
    assert_string_equal (ps->state, "up");   /* alive: kept */
    assert_int_equal (ps->pid, getpid ());
    assert_string_equal (w0->state, "stopped");
    assert_string_equal (w1->state, "stopped");
    studio_cluster_read_pids (tasks, dir, FALSE);   /* ssh: a remote pid counts while its file is there */
    assert_string_equal (w0->state, "running");
    g_ptr_array_unref (tasks);
    char *rm[] = { (char *) "rm", (char *) "-rf", dir, NULL };
    g_spawn_sync (NULL, rm, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, NULL, NULL, NULL, NULL);
    g_free (me);
    g_free (pids);
    g_free (dir);
}

static void
test_history_keeps_the_target (void **state)
{
    char *dir = g_dir_make_tmp ("studio-cluster-db-XXXXXX", NULL);
    char *path = g_build_filename (dir, "old.db", NULL);
    /* a history from before targets */
    sqlite3 *raw;
    assert_int_equal (sqlite3_open (path, &raw), SQLITE_OK);
    assert_int_equal (sqlite3_exec (raw,
                                    "CREATE TABLE runs (id INTEGER PRIMARY KEY, dir TEXT NOT NULL, graph TEXT,"
                                    " spec TEXT, started REAL, ended REAL DEFAULT 0, status TEXT, pid INTEGER"
                                    " DEFAULT 0, step INTEGER DEFAULT 0, steps INTEGER DEFAULT 0, metrics TEXT"
                                    " DEFAULT '');"
                                    "INSERT INTO runs (dir, status, steps) VALUES ('/old', 'finished', 10);",
                                    NULL, NULL, NULL),
                      SQLITE_OK);
    sqlite3_close (raw);
    StudioRunsDb *db = studio_runs_db_open (path, NULL);
    assert_non_null (db);
    StudioRunRecord *r = studio_runs_db_get (db, 1);
    assert_string_equal (r->target, "");
    studio_run_record_free (r);
    gint64 id = studio_runs_db_add (db, "/new", "g.pbtxt", "spec", 0, 50, NULL);
    assert_true (studio_runs_db_set_target (db, id, "local-cluster workers=2 ps=1 mode=async", NULL));
    studio_runs_db_close (db);
    db = studio_runs_db_open (path, NULL);   /* opened again: the column is there already */
    r = studio_runs_db_get (db, id);
    assert_string_equal (r->target, "local-cluster workers=2 ps=1 mode=async");
    g_autoptr (StudioTarget) t = studio_target_parse (r->target, NULL);
    assert_int_equal (t->kind, STUDIO_TARGET_LOCAL_CLUSTER);
    assert_true (t->async);
    studio_run_record_free (r);
    studio_runs_db_close (db);
    g_unlink (path);
    g_rmdir (dir);
    g_free (path);
    g_free (dir);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_target_text_round_trips),
        cmocka_unit_test (test_local_cluster_gets_free_ports),
        cmocka_unit_test (test_ssh_and_slurm_specs),
        cmocka_unit_test (test_commands_for_each_target),
        cmocka_unit_test (test_task_states_from_status_and_pids),
        cmocka_unit_test (test_history_keeps_the_target),
    };
    return cmocka_run_group_tests_name ("studio-cluster-spec", tests, NULL, NULL);
}
