/* Savers (see sluice/saver.h): TF1's save/restore subgraph over SaveV2 and
 * RestoreV2, the `checkpoint` state file written through a temporary name,
 * pruning to the newest max_to_keep bundles, periodic saves, and restores
 * that check every variable against the bundle before changing any. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "build.h"
#include "graph-private.h"
#include "sluice/alloc.h"
#include "sluice/checkpoint.h"
#include "sluice/saver.h"

#define STATE_FILE "checkpoint"

struct sl_saver {
    char *dir;
    char *base;
    int max_to_keep;
    int64_t every_steps;
    double every_seconds;
    char *const_name;      /* "save/Const", fed with the prefix */
    char *save_target;     /* "save/control_dependency" */
    char *restore_target;  /* "save/restore_all" */
    int n;
    char **names;          /* variable names = checkpoint keys */
    sl_dtype *dtypes;
    sl_shape *shapes;
    char **kept;           /* prefixes in the state file, oldest first (full paths) */
    int num_kept;
    char *last;
    bool have_last;
    int64_t last_step;
    double last_time;
    sl_saver_run_fn run_fn;   /* runs the save/restore steps instead of a session */
    void *run_ctx;
};

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static char *join(const char *dir, const char *name)
{
    if (name[0] == '/')
        return sl_strdup(name);
    size_t n = strlen(dir) + strlen(name) + 2;
    char *p = sl_malloc(n);
    if (p)
        snprintf(p, n, "%s/%s", dir, name);
    return p;
}

/* ---- The state file ------------------------------------------------------- */

/* Parses one `key: "value"` line; value unescaped into a new buffer. */
static char *parse_value(const char *line, const char *key)
{
    size_t k = strlen(key);
    while (*line == ' ' || *line == '\t')
        line++;
    if (strncmp(line, key, k) || line[k] != ':')
        return NULL;
    const char *q = strchr(line + k, '"');
    if (!q)
        return NULL;
    char *out = sl_malloc(strlen(q) + 1), *o = out;
    if (!out)
        return NULL;
    for (q++; *q && *q != '"'; q++) {
        if (*q == '\\' && q[1])
            q++;
        *o++ = *q;
    }
    *o = '\0';
    return out;
}

/* Reads the state file: *latest (may be NULL) and the list.  SL_OK with
 * nothing set when the file is absent. */
static sl_code read_state(const char *dir, char **latest, char ***all, int *nall, sl_status *st)
{
    char *path = join(dir, STATE_FILE);
    if (!path)
        return sl_status_set(st, SL_RESOURCE_EXHAUSTED, "out of memory");
    FILE *f = fopen(path, "r");
    if (!f) {
        sl_code rc = errno == ENOENT ? SL_OK
                                     : sl_status_set(st, SL_PERMISSION_DENIED, "cannot read '%s': %s", path,
                                                     strerror(errno));
        sl_free(path);
        return rc;
    }
    char line[4096];
    sl_code rc = SL_OK;
    while (fgets(line, sizeof(line), f)) {
        char *v;
        if ((v = parse_value(line, "model_checkpoint_path"))) {
            char *full = join(dir, v);
            sl_free(v);
            if (latest) {
                sl_free(*latest);
                *latest = full;
            } else {
                sl_free(full);
            }
        } else if ((v = parse_value(line, "all_model_checkpoint_paths"))) {
            char *full = join(dir, v);
            sl_free(v);
            char **p = all ? sl_realloc(*all, sizeof(char *) * (size_t)(*nall + 1)) : NULL;
            if (!all || !p || !full) {
                sl_free(full);
                if (all && !p) {
                    rc = sl_status_set(st, SL_RESOURCE_EXHAUSTED, "out of memory");
                    break;
                }
                continue;
            }
            *all = p;
            (*all)[(*nall)++] = full;
        } else {
            const char *s = line;
            while (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r')
                s++;
            if (*s && *s != '#') {
                line[strcspn(line, "\n")] = '\0';
                rc = sl_status_set(st, SL_DATA_LOSS, "'%s': cannot parse line '%s'", path, line);
                break;
            }
        }
    }
    fclose(f);
    sl_free(path);
    return rc;
}

static void fput_quoted(FILE *f, const char *key, const char *dir, const char *path)
{
    size_t dl = strlen(dir);
    if (!strncmp(path, dir, dl) && path[dl] == '/')
        path += dl + 1;  /* relative to the directory, as TF writes it */
    fprintf(f, "%s: \"", key);
    for (const char *c = path; *c; c++) {
        if (*c == '"' || *c == '\\')
            fputc('\\', f);
        fputc(*c, f);
    }
    fputs("\"\n", f);
}

static sl_code write_state(const sl_saver *sv, char *const *kept, int n, sl_status *st)
{
    char *path = join(sv->dir, STATE_FILE);
    size_t tl = path ? strlen(path) + 32 : 0;
    char *tmp = path ? sl_malloc(tl) : NULL;
    if (!tmp) {
        sl_free(path);
        return sl_status_set(st, SL_RESOURCE_EXHAUSTED, "out of memory");
    }
    snprintf(tmp, tl, "%s.tmp%ld", path, (long)getpid());
    sl_code rc = SL_OK;
    FILE *f = fopen(tmp, "w");
    if (!f) {
        rc = sl_status_set(st, SL_PERMISSION_DENIED, "cannot write '%s': %s", tmp, strerror(errno));
        goto out;
    }
    if (n > 0)
        fput_quoted(f, "model_checkpoint_path", sv->dir, kept[n - 1]);
    for (int i = 0; i < n; i++)
        fput_quoted(f, "all_model_checkpoint_paths", sv->dir, kept[i]);
    bool bad = fflush(f) != 0 || fsync(fileno(f)) != 0;
    if (fclose(f) != 0 || bad) {
        rc = sl_status_set(st, SL_INTERNAL, "cannot write '%s': %s", tmp, strerror(errno));
        unlink(tmp);
        goto out;
    }
    if (rename(tmp, path) != 0) {
        rc = sl_status_set(st, SL_INTERNAL, "cannot rename '%s' to '%s': %s", tmp, path, strerror(errno));
        unlink(tmp);
    }
out:
    sl_free(tmp);
    sl_free(path);
    return rc;
}

char *sl_checkpoint_latest(const char *dir, sl_status *st)
{
    char *latest = NULL;
    if (read_state(dir, &latest, NULL, NULL, st) != SL_OK) {
        sl_free(latest);
        return NULL;
    }
    sl_status_clear(st);
    return latest;
}

int64_t sl_checkpoint_step(const char *prefix)
{
    const char *dash = prefix ? strrchr(prefix, '-') : NULL;
    if (!dash || !dash[1])
        return -1;
    int64_t v = 0;
    for (const char *c = dash + 1; *c; c++) {
        if (*c < '0' || *c > '9' || v > INT64_MAX / 10 - 10)
            return -1;
        v = v * 10 + (*c - '0');
    }
    return v;
}

/* ---- Building the subgraph ------------------------------------------------- */

static sl_output string_const(sl_b *b, const char *name, int n, const char *const *v, bool scalar)
{
    if (b->failed)
        return SL_NO_OUTPUT;
    sl_shape s = scalar ? sl_shape_scalar() : sl_shape_vector(n);
    sl_tensor *t = sl_tensor_new(SL_DTYPE_STRING, &s, b->status);
    for (int i = 0; t && i < n; i++)
        if (sl_tensor_set_string(t, i, v[i], strlen(v[i]), b->status) != SL_OK) {
            sl_tensor_unref(t);
            t = NULL;
        }
    if (!t) {
        b->failed = true;
        return SL_NO_OUTPUT;
    }
    sl_node_builder *nb = sl__b_begin_named(b, "Const", name);
    if (nb) {
        sl_node_builder_set_attr_tensor(nb, "value", t);
        sl_node_builder_set_attr_type(nb, "dtype", SL_DTYPE_STRING);
    }
    sl_tensor_unref(t);
    return sl__b_end(b, nb);
}

static bool build_nodes(sl_saver *sv, sl_graph *g, const sl_output *vars, sl_b *b)
{
    char scope[32] = "save";
    for (int k = 1; k < 1000; k++) {
        char probe[64];
        snprintf(probe, sizeof(probe), "%s/Const", scope);
        if (!sl_graph_find_node(g, probe))
            break;
        snprintf(scope, sizeof(scope), "save_%d", k);
    }
    if (sl_graph_push_scope(g, scope, b->status) != SL_OK) {
        b->failed = true;
        return false;
    }
    char *def = join(sv->dir, sv->base);
    if (!def) {
        sl__b_fail(b, SL_RESOURCE_EXHAUSTED, "out of memory");
        sl_graph_pop_scope(g);
        return false;
    }
    sl_output prefix = string_const(b, "Const", 1, (const char *const *)&def, true);
    sl_free(def);
    const char **empty = sl_calloc((size_t)sv->n, sizeof(char *));
    if (!empty) {
        sl__b_fail(b, SL_RESOURCE_EXHAUSTED, "out of memory");
        sl_graph_pop_scope(g);
        return false;
    }
    for (int i = 0; i < sv->n; i++)
        empty[i] = "";
    sl_output names = string_const(b, "SaveV2/tensor_names", sv->n, (const char *const *)sv->names, false);
    sl_output slices = string_const(b, "SaveV2/shape_and_slices", sv->n, empty, false);
    sl_free(empty);

    sl_node_builder *nb = sl__b_begin_named(b, "SaveV2", "SaveV2");
    sl__b_in(b, nb, prefix);
    sl__b_in(b, nb, names);
    sl__b_in(b, nb, slices);
    if (nb)
        sl_node_builder_add_input_list(nb, vars, sv->n);
    sl_node *save = sl__b_end_node(b, nb);
    nb = sl__b_begin_named(b, "Identity", "control_dependency");
    sl__b_in(b, nb, prefix);
    if (nb && save)
        sl_node_builder_add_control_input(nb, save);
    sl_node *cd = sl__b_end_node(b, nb);

    nb = sl__b_begin_named(b, "RestoreV2", "RestoreV2");
    sl__b_in(b, nb, prefix);
    sl__b_in(b, nb, names);
    sl__b_in(b, nb, slices);
    if (nb)
        sl_node_builder_set_attr_type_list(nb, "dtypes", sv->dtypes, sv->n);
    sl_node *restore = sl__b_end_node(b, nb);
    sl_node **assigns = sl_calloc((size_t)sv->n, sizeof(*assigns));
    if (!assigns)
        sl__b_fail(b, SL_RESOURCE_EXHAUSTED, "out of memory");
    for (int i = 0; i < sv->n && !b->failed; i++) {
        char an[32];
        if (i == 0)
            snprintf(an, sizeof(an), "Assign");
        else
            snprintf(an, sizeof(an), "Assign_%d", i);
        nb = sl__b_begin_named(b, "Assign", an);
        sl__b_in(b, nb, vars[i]);
        sl__b_in(b, nb, (sl_output){restore, i});
        assigns[i] = sl__b_end_node(b, nb);
    }
    nb = sl__b_begin_named(b, "NoOp", "restore_all");
    for (int i = 0; nb && !b->failed && i < sv->n; i++)
        sl_node_builder_add_control_input(nb, assigns[i]);
    sl_node *all = sl__b_end_node(b, nb);
    sl_free(assigns);
    sl_graph_pop_scope(g);
    if (b->failed)
        return false;
    sv->const_name = sl_strdup(sl_node_name(prefix.node));
    sv->save_target = sl_strdup(sl_node_name(cd));
    sv->restore_target = sl_strdup(sl_node_name(all));
    if (!sv->const_name || !sv->save_target || !sv->restore_target) {
        sl__b_fail(b, SL_RESOURCE_EXHAUSTED, "out of memory");
        return false;
    }
    return true;
}

static bool is_variable(const sl_node *n)
{
    return !strcmp(sl_node_op_type(n), "VariableV2") || !strcmp(sl_node_op_type(n), "Variable");
}

sl_saver *sl_saver_new(sl_graph *g, const sl_output *vars, int n, const sl_saver_options *o, sl_status *st)
{
    if (!g || !o || !o->directory || !o->directory[0] || o->max_to_keep < 0 || n < 0 || (n > 0 && !vars)) {
        sl_status_set(st, SL_INVALID_ARGUMENT, "saver: needs a graph and options with a directory");
        return NULL;
    }
    sl_saver *sv = sl_calloc(1, sizeof(*sv));
    sl_output *all = NULL;
    int n0 = sl_graph_num_nodes(g);
    if (!sv)
        goto oom;
    sv->dir = sl_strdup(o->directory);
    sv->base = sl_strdup(o->basename ? o->basename : "model.ckpt");
    sv->last = sl_strdup("");
    if (!sv->dir || !sv->base || !sv->last)
        goto oom;
    sv->max_to_keep = o->max_to_keep;
    sv->every_steps = o->every_steps;
    sv->every_seconds = o->every_seconds;
    if (!vars) {
        for (int i = 0; i < sl_graph_num_nodes(g); i++)
            n += is_variable(sl_graph_node(g, i));
        if (!(all = sl_calloc((size_t)n + 1, sizeof(*all))))
            goto oom;
        int k = 0;
        for (int i = 0; i < sl_graph_num_nodes(g); i++)
            if (is_variable(sl_graph_node(g, i)))
                all[k++] = (sl_output){sl_graph_node(g, i), 0};
        vars = all;
    }
    if (n == 0) {
        sl_status_set(st, SL_INVALID_ARGUMENT, "saver: the graph has no variables to save");
        goto fail;
    }
    sv->n = n;
    sv->names = sl_calloc((size_t)n, sizeof(char *));
    sv->dtypes = sl_calloc((size_t)n, sizeof(sl_dtype));
    sv->shapes = sl_calloc((size_t)n, sizeof(sl_shape));
    if (!sv->names || !sv->dtypes || !sv->shapes)
        goto oom;
    for (int i = 0; i < n; i++) {
        if (!vars[i].node || !is_variable(vars[i].node)) {
            sl_status_set(st, SL_INVALID_ARGUMENT, "saver: '%s' is not a variable",
                          vars[i].node ? sl_node_name(vars[i].node) : "(null)");
            goto fail;
        }
        if (!(sv->names[i] = sl_strdup(sl_node_name(vars[i].node))))
            goto oom;
        sv->dtypes[i] = sl_dtype_base(sl_node_output_type(vars[i].node, 0));
        sv->shapes[i] = *sl_node_output_shape(vars[i].node, 0);
    }
    int saved_scopes = g->num_scopes;  /* the saver lives at the top level */
    g->num_scopes = 0;
    sl_b b = {.graph = g, .status = st};
    bool built = build_nodes(sv, g, vars, &b);
    g->num_scopes = saved_scopes;
    if (!built)
        goto fail;
    if (read_state(sv->dir, NULL, &sv->kept, &sv->num_kept, st) != SL_OK)
        goto fail;
    sl_free(all);
    sl_status_clear(st);
    return sv;
oom:
    sl_status_set(st, SL_RESOURCE_EXHAUSTED, "saver: out of memory");
fail:
    sl__graph_truncate(g, n0);
    sl_free(all);
    sl_saver_free(sv);
    return NULL;
}

void sl_saver_free(sl_saver *sv)
{
    if (!sv)
        return;
    for (int i = 0; i < sv->n && sv->names; i++)
        sl_free(sv->names[i]);
    for (int i = 0; i < sv->num_kept; i++)
        sl_free(sv->kept[i]);
    sl_free(sv->kept);
    sl_free(sv->names);
    sl_free(sv->dtypes);
    sl_free(sv->shapes);
    sl_free(sv->const_name);
    sl_free(sv->save_target);
    sl_free(sv->restore_target);
    sl_free(sv->dir);
    sl_free(sv->base);
    sl_free(sv->last);
    sl_free(sv);
}

/* ---- Saving and restoring ----------------------------------------------------- */

static sl_code run_with_prefix(sl_saver *sv, sl_session *s, const char *prefix, const char *target, sl_status *st)
{
    sl_shape sc = sl_shape_scalar();
    sl_tensor *t = sl_tensor_new(SL_DTYPE_STRING, &sc, st);
    if (!t)
        return sl_status_code(st);
    if (sl_tensor_set_string(t, 0, prefix, strlen(prefix), st) != SL_OK) {
        sl_tensor_unref(t);
        return sl_status_code(st);
    }
    const char *feed = sv->const_name;
    if (sv->run_fn) {
        sl_code rc = sv->run_fn(sv->run_ctx, feed, t, target, st);
        sl_tensor_unref(t);
        return rc;
    }
    sl_code rc = sl_session_run(s, NULL, &feed, &t, 1, NULL, NULL, 0, &target, 1, NULL, st);
    sl_tensor_unref(t);
    return rc;
}

static void remember(sl_saver *sv, const char *prefix, int64_t step)
{
    char *p = sl_strdup(prefix);
    if (p) {
        sl_free(sv->last);
        sv->last = p;
    }
    sv->have_last = true;
    sv->last_step = step;
    sv->last_time = now_s();
}

static void remove_bundle(const char *prefix)
{
    size_t n = strlen(prefix) + 32;
    char *p = sl_malloc(n);
    if (!p)
        return;
    snprintf(p, n, "%s.index", prefix);
    unlink(p);
    snprintf(p, n, "%s.data-00000-of-00001", prefix);
    unlink(p);
    snprintf(p, n, "%s.meta", prefix);
    unlink(p);
    sl_free(p);
}

sl_code sl_saver_save(sl_saver *sv, sl_session *s, int64_t step, sl_status *st)
{
    size_t n = strlen(sv->dir) + strlen(sv->base) + 32;
    char *prefix = sl_malloc(n);
    char **kept = sl_calloc((size_t)sv->num_kept + 1, sizeof(char *));
    if (!prefix || !kept) {
        sl_free(prefix);
        sl_free(kept);
        return sl_status_set(st, SL_RESOURCE_EXHAUSTED, "saver: out of memory");
    }
    snprintf(prefix, n, "%s/%s-%lld", sv->dir, sv->base, (long long)step);
    sl_code rc = run_with_prefix(sv, s, prefix, sv->save_target, st);
    if (rc != SL_OK) {
        sl_free(prefix);
        sl_free(kept);
        return rc;
    }
    /* the new list: the old one without this prefix, then this prefix */
    int k = 0;
    for (int i = 0; i < sv->num_kept; i++)
        if (strcmp(sv->kept[i], prefix))
            kept[k++] = sv->kept[i];
    kept[k++] = prefix;
    int drop = sv->max_to_keep > 0 && k > sv->max_to_keep ? k - sv->max_to_keep : 0;
    rc = write_state(sv, kept + drop, k - drop, st);
    if (rc != SL_OK) {
        sl_free(prefix);
        sl_free(kept);
        return rc;
    }
    for (int i = 0; i < sv->num_kept; i++)  /* an earlier save of this step */
        if (!strcmp(sv->kept[i], prefix))
            sl_free(sv->kept[i]);
    /* the state file no longer names the dropped bundles: delete them */
    for (int i = 0; i < drop; i++) {
        remove_bundle(kept[i]);
        sl_free(kept[i]);
    }
    sl_free(sv->kept);
    memmove(kept, kept + drop, sizeof(char *) * (size_t)(k - drop));
    sv->kept = kept;
    sv->num_kept = k - drop;
    remember(sv, prefix, step);
    sl_status_clear(st);
    return SL_OK;
}

sl_code sl_saver_maybe_save(sl_saver *sv, sl_session *s, int64_t step, bool *saved, sl_status *st)
{
    if (saved)
        *saved = false;
    if (!sv->have_last) {
        sv->have_last = true;
        sv->last_step = step;
        sv->last_time = now_s();
        sl_status_clear(st);
        return SL_OK;
    }
    bool due = (sv->every_steps > 0 && step - sv->last_step >= sv->every_steps) ||
               (sv->every_seconds > 0 && now_s() - sv->last_time >= sv->every_seconds);
    if (!due || step == sv->last_step) {
        sl_status_clear(st);
        return SL_OK;
    }
    sl_code rc = sl_saver_save(sv, s, step, st);
    if (rc == SL_OK && saved)
        *saved = true;
    return rc;
}

static sl_code check_bundle(sl_saver *sv, const char *prefix, sl_status *st)
{
    sl_checkpoint_reader *r = sl_checkpoint_open(prefix, st);
    if (!r)
        return sl_status_code(st);
    sl_code rc = SL_OK;
    for (int i = 0; i < sv->n && rc == SL_OK; i++) {
        int e = sl_checkpoint_find(r, sv->names[i]);
        if (e < 0) {
            rc = sl_status_set(st, SL_NOT_FOUND, "checkpoint '%s.index' has no tensor '%s' (a variable of the graph)",
                               prefix, sv->names[i]);
            break;
        }
        sl_dtype dt = sl_checkpoint_entry_dtype(r, e);
        const sl_shape *cs = sl_checkpoint_entry_shape(r, e);
        if (dt != sv->dtypes[i] || !sl_shape_is_compatible(cs, &sv->shapes[i])) {
            char a[SL_SHAPE_STRING_MAX], b[SL_SHAPE_STRING_MAX];
            rc = sl_status_set(st, SL_INVALID_ARGUMENT,
                               "checkpoint '%s.index': tensor '%s' is %s %s but the graph's variable is %s %s", prefix,
                               sv->names[i], sl_dtype_name(dt), sl_shape_to_string(cs, a, sizeof(a)),
                               sl_dtype_name(sv->dtypes[i]), sl_shape_to_string(&sv->shapes[i], b, sizeof(b)));
        }
    }
    sl_checkpoint_close(r);
    return rc;
}

sl_code sl_saver_restore(sl_saver *sv, sl_session *s, const char *prefix, sl_status *st)
{
    if (check_bundle(sv, prefix, st) != SL_OK)
        return sl_status_code(st);
    if (run_with_prefix(sv, s, prefix, sv->restore_target, st) != SL_OK)
        return sl_status_code(st);
    remember(sv, prefix, sl_checkpoint_step(prefix));
    sl_status_clear(st);
    return SL_OK;
}

sl_code sl_saver_restore_latest(sl_saver *sv, sl_session *s, bool *restored, sl_status *st)
{
    *restored = false;
    char *latest = sl_checkpoint_latest(sv->dir, st);
    if (!latest)
        return sl_status_code(st);
    sl_code rc = sl_saver_restore(sv, s, latest, st);
    sl_free(latest);
    if (rc == SL_OK)
        *restored = true;
    return rc;
}

void sl_saver_set_runner(sl_saver *sv, sl_saver_run_fn fn, void *ctx)
{
    sv->run_fn = fn;
    sv->run_ctx = ctx;
}

const char *sl_saver_last(const sl_saver *sv)
{
    return sv->last;
}

int sl_saver_num_checkpoints(const sl_saver *sv)
{
    return sv->num_kept;
}
