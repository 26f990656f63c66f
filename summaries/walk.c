/* Run discovery over a logdir, the way TensorBoard does it (FORMATS.md §2;
 * the contract is sl__walk_logdir() in summaries-private.h).
 *
 * A depth-first walk with opendir/readdir.  Directory entries are typed
 * with d_type when the file system provides it and stat(2) otherwise (or
 * for symbolic links, which are followed).  The (device, inode) pairs of
 * the directories on the current path are kept so that a link back to an
 * ancestor ends the descent instead of looping.
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "summaries-private.h"

typedef struct walk_frame {
    dev_t dev;
    ino_t ino;
} walk_frame;

typedef struct walker {
    sl__walk_fn fn;
    void *ctx;
    walk_frame stack[128]; /* ancestors; deeper trees are not descended */
    int depth;
} walker;

static int cmp_names(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static void free_names(char **names, size_t n)
{
    for (size_t i = 0; i < n; i++)
        sl_free(names[i]);
    sl_free(names);
}

static sl_code walk_dir(walker *wk, const char *dir, const char *rel, sl_status *st)
{
    DIR *d = opendir(dir);
    if (!d)
        return SL_OK; /* unreadable subdirectory: skipped, as TB does */
    char **files = NULL, **subdirs = NULL;
    size_t n_files = 0, cap_files = 0, n_subdirs = 0, cap_subdirs = 0;
    sl_code c = SL_OK;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        const char *name = e->d_name;
        if (strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
            continue;
        bool is_dir = e->d_type == DT_DIR, is_file = e->d_type == DT_REG;
        if (e->d_type == DT_UNKNOWN || e->d_type == DT_LNK) {
            struct stat sb;
            if (fstatat(dirfd(d), name, &sb, 0) != 0)
                continue;
            is_dir = S_ISDIR(sb.st_mode);
            is_file = S_ISREG(sb.st_mode);
        }
        char ***list;
        size_t *n, *cap;
        if (is_file && sl__is_event_file_name(name)) {
            list = &files;
            n = &n_files;
            cap = &cap_files;
        } else if (is_dir) {
            list = &subdirs;
            n = &n_subdirs;
            cap = &cap_subdirs;
        } else {
            continue;
        }
        if (*n == *cap) {
            size_t nc = *cap ? *cap * 2 : 16;
            char **nl = sl_realloc(*list, nc * sizeof(char *));
            if (!nl) {
                c = sl_status_set(st, SL_RESOURCE_EXHAUSTED, "out of memory listing '%s'", dir);
                goto out;
            }
            *list = nl;
            *cap = nc;
        }
        char *copy = sl_strdup(name);
        if (!copy) {
            c = sl_status_set(st, SL_RESOURCE_EXHAUSTED, "out of memory listing '%s'", dir);
            goto out;
        }
        (*list)[(*n)++] = copy;
    }
    closedir(d);
    d = NULL;
    if (n_files) {
        qsort(files, n_files, sizeof(char *), cmp_names);
        c = wk->fn(wk->ctx, rel[0] ? rel : ".", dir, (const char *const *)files, n_files, st);
        if (c != SL_OK)
            goto out;
    }
    qsort(subdirs, n_subdirs, sizeof(char *), cmp_names);
    for (size_t i = 0; i < n_subdirs && c == SL_OK; i++) {
        char *sub = sl__path_join(dir, subdirs[i]);
        char *subrel = rel[0] ? sl__path_join(rel, subdirs[i]) : sl_strdup(subdirs[i]);
        if (!sub || !subrel) {
            c = sl_status_set(st, SL_RESOURCE_EXHAUSTED, "out of memory walking '%s'", dir);
        } else {
            struct stat sb;
            bool loop = false;
            if (stat(sub, &sb) == 0) {
                for (int k = 0; k < wk->depth; k++)
                    if (wk->stack[k].dev == sb.st_dev && wk->stack[k].ino == sb.st_ino)
                        loop = true;
                if (!loop && wk->depth < (int)(sizeof wk->stack / sizeof wk->stack[0])) {
                    wk->stack[wk->depth].dev = sb.st_dev;
                    wk->stack[wk->depth].ino = sb.st_ino;
                    wk->depth++;
                    c = walk_dir(wk, sub, subrel, st);
                    wk->depth--;
                }
            }
        }
        sl_free(sub);
        sl_free(subrel);
    }
out:
    if (d)
        closedir(d);
    free_names(files, n_files);
    free_names(subdirs, n_subdirs);
    return c;
}

sl_code sl__walk_logdir(const char *root, sl__walk_fn fn, void *ctx, sl_status *st)
{
    struct stat sb;
    if (stat(root, &sb) != 0)
        return sl_status_set(st, errno == EACCES ? SL_PERMISSION_DENIED : SL_NOT_FOUND,
                             "cannot read logdir '%s': %s", root, strerror(errno));
    if (!S_ISDIR(sb.st_mode)) {
        /* a single event file */
        char *dir = sl_strdup(root);
        if (!dir)
            return sl_status_set(st, SL_RESOURCE_EXHAUSTED, "out of memory");
        char *slash = strrchr(dir, '/');
        const char *base = root;
        if (slash) {
            base = root + (slash - dir) + 1;
            if (slash == dir)
                slash[1] = '\0';
            else
                *slash = '\0';
        } else {
            strcpy(dir, ".");
        }
        const char *files[1] = {base};
        sl_code c = fn(ctx, ".", dir, files, 1, st);
        sl_free(dir);
        return c;
    }
    DIR *probe = opendir(root); /* the root must be readable; subdirectories may not be */
    if (!probe)
        return sl_status_set(st, errno == EACCES ? SL_PERMISSION_DENIED : SL_NOT_FOUND,
                             "cannot read logdir '%s': %s", root, strerror(errno));
    closedir(probe);
    walker wk = {.fn = fn, .ctx = ctx, .depth = 1};
    wk.stack[0].dev = sb.st_dev;
    wk.stack[0].ino = sb.st_ino;
    return walk_dir(&wk, root, "", st);
}
