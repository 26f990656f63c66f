/* The logdir watcher (the contract is in sluice/summaries/tail.h).
 *
 * inotify gives one watch descriptor per directory; IN_CREATE and
 * IN_MOVED_TO of a directory add a watch for it (and its subdirectories,
 * which may have been created before the watch), so a run created during
 * training is followed too.  IN_Q_OVERFLOW only means "something
 * changed".  When adding a watch fails for lack of watches (ENOSPC), the
 * watcher switches to polling for good: missing a run would be worse
 * than reloading on a timer.
 *
 * Polling tracks the time of the last poll, so a caller that waits in
 * short slices still reloads once per interval and not on every call.
 */
#include "config.h"

#include "sluice/summaries/tail.h"

#include <dirent.h>
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "sluice/alloc.h"
#include "summaries-private.h"

#ifdef __linux__
#include <sys/inotify.h>
#define SL_HAVE_INOTIFY 1
#else
#define SL_HAVE_INOTIFY 0
#endif

typedef struct tail_watch {
    int wd;
    char *path;
} tail_watch;

struct sl_tail {
    char *path;
    int fd;              /* inotify descriptor, -1 when polling */
    int poll_ms;
    int64_t last_poll_ms;
    tail_watch *watches;
    size_t n_watches;
    size_t cap_watches;
};

static void drop_inotify(sl_tail *t)
{
    if (t->fd >= 0)
        close(t->fd);
    t->fd = -1;
    for (size_t i = 0; i < t->n_watches; i++)
        sl_free(t->watches[i].path);
    sl_free(t->watches);
    t->watches = NULL;
    t->n_watches = t->cap_watches = 0;
}

#if SL_HAVE_INOTIFY
#define WATCH_MASK (IN_MODIFY | IN_CLOSE_WRITE | IN_CREATE | IN_MOVED_TO | IN_MOVED_FROM | \
                    IN_DELETE | IN_ATTRIB | IN_ONLYDIR)

static const char *watch_path(const sl_tail *t, int wd)
{
    for (size_t i = 0; i < t->n_watches; i++)
        if (t->watches[i].wd == wd)
            return t->watches[i].path;
    return NULL;
}

/* Watches `dir` and, recursively, its subdirectories.  False when inotify
 * can take no more watches (or memory ran out): the caller polls then. */
static bool watch_tree(sl_tail *t, const char *dir, int depth)
{
    if (depth > 64)
        return true;
    int wd = inotify_add_watch(t->fd, dir, WATCH_MASK);
    if (wd < 0)
        return errno != ENOSPC && errno != ENOMEM; /* vanished or unreadable: fine */
    if (!watch_path(t, wd)) {
        if (t->n_watches == t->cap_watches) {
            size_t cap = t->cap_watches ? t->cap_watches * 2 : 16;
            tail_watch *w = sl_realloc(t->watches, cap * sizeof(*w));
            if (!w)
                return false;
            t->watches = w;
            t->cap_watches = cap;
        }
        char *copy = sl_strdup(dir);
        if (!copy)
            return false;
        t->watches[t->n_watches].wd = wd;
        t->watches[t->n_watches].path = copy;
        t->n_watches++;
    }
    DIR *d = opendir(dir);
    if (!d)
        return true;
    bool ok = true;
    struct dirent *e;
    while (ok && (e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        bool is_dir = e->d_type == DT_DIR;
        if (e->d_type == DT_UNKNOWN || e->d_type == DT_LNK) {
            struct stat sb;
            is_dir = fstatat(dirfd(d), e->d_name, &sb, 0) == 0 && S_ISDIR(sb.st_mode);
        }
        if (!is_dir)
            continue;
        char *sub = sl__path_join(dir, e->d_name);
        if (!sub) {
            ok = false;
            break;
        }
        ok = watch_tree(t, sub, depth + 1);
        sl_free(sub);
    }
    closedir(d);
    return ok;
}
#endif /* SL_HAVE_INOTIFY */

sl_tail *sl_tail_new(const char *path, sl_tail_mode mode, int poll_ms, sl_status *st)
{
    struct stat sb;
    if (stat(path, &sb) != 0) {
        sl_status_set(st, SL_NOT_FOUND, "cannot watch '%s': %s", path, strerror(errno));
        return NULL;
    }
    sl_tail *t = sl_calloc(1, sizeof(*t));
    if (!t)
        goto err_oom;
    t->path = sl_strdup(path);
    if (!t->path)
        goto err_free_tail;
    t->fd = -1;
    t->poll_ms = poll_ms > 0 ? poll_ms : 1000;
    t->last_poll_ms = sl__monotonic_ms();
#if SL_HAVE_INOTIFY
    if (mode == SL_TAIL_AUTO) {
        t->fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
        if (t->fd >= 0) {
            bool ok;
            if (S_ISDIR(sb.st_mode)) {
                ok = watch_tree(t, path, 0);
            } else {
                int wd = inotify_add_watch(t->fd, path, IN_MODIFY | IN_CLOSE_WRITE | IN_ATTRIB);
                ok = wd >= 0;
            }
            if (!ok)
                drop_inotify(t);
        }
    }
#else
    (void)mode;
#endif
    sl_status_clear(st);
    return t;

err_free_tail:
    sl_free(t);
err_oom:
    sl_status_set(st, SL_RESOURCE_EXHAUSTED, "out of memory watching '%s'", path);
    return NULL;
}

void sl_tail_free(sl_tail *t)
{
    if (!t)
        return;
    drop_inotify(t);
    sl_free(t->path);
    sl_free(t);
}

bool sl_tail_uses_inotify(const sl_tail *t)
{
    return t->fd >= 0;
}

int sl_tail_fd(const sl_tail *t)
{
    return t->fd;
}

static sl_code poll_wait(sl_tail *t, int timeout_ms, bool *changed, sl_status *st)
{
    int64_t now = sl__monotonic_ms();
    int64_t due = t->last_poll_ms + t->poll_ms;
    if (now < due) {
        int64_t wait = due - now;
        if (timeout_ms >= 0 && timeout_ms < wait)
            wait = timeout_ms;
        struct timespec ts = {(time_t)(wait / 1000), (long)(wait % 1000) * 1000000L};
        while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
            ;
        now = sl__monotonic_ms();
    }
    *changed = now >= due;
    if (*changed)
        t->last_poll_ms = now;
    sl_status_clear(st);
    return SL_OK;
}

sl_code sl_tail_wait(sl_tail *t, int timeout_ms, bool *changed, sl_status *st)
{
    *changed = false;
    if (t->fd < 0)
        return poll_wait(t, timeout_ms, changed, st);
#if SL_HAVE_INOTIFY
    struct pollfd pfd = {t->fd, POLLIN, 0};
    int r;
    do
        r = poll(&pfd, 1, timeout_ms < 0 ? -1 : timeout_ms);
    while (r < 0 && errno == EINTR);
    if (r < 0) {
        int e = errno;
        drop_inotify(t);
        return sl_status_set(st, SL_INTERNAL, "cannot wait for changes in '%s': %s", t->path,
                             strerror(e));
    }
    if (r == 0) {
        sl_status_clear(st);
        return SL_OK;
    }
    _Alignas(struct inotify_event) char buf[8192];
    bool overflow = false;
    for (;;) {
        ssize_t n = read(t->fd, buf, sizeof buf);
        if (n <= 0)
            break;
        *changed = true;
        for (char *p = buf; p < buf + n;) {
            struct inotify_event *ev = (struct inotify_event *)(void *)p;
            if (ev->mask & IN_Q_OVERFLOW)
                overflow = true;
            if ((ev->mask & IN_ISDIR) && (ev->mask & (IN_CREATE | IN_MOVED_TO)) && ev->len) {
                const char *parent = watch_path(t, ev->wd);
                char *sub = parent ? sl__path_join(parent, ev->name) : NULL;
                bool ok = sub ? watch_tree(t, sub, 1) : parent == NULL;
                sl_free(sub);
                if (!ok) {
                    drop_inotify(t); /* out of watches: poll from now on */
                    break;
                }
            }
            p += sizeof(struct inotify_event) + ev->len;
        }
        if (t->fd < 0)
            break;
    }
    if (overflow && t->fd >= 0) {
        /* events were lost, maybe directory creations: rescan the tree */
        if (!watch_tree(t, t->path, 0))
            drop_inotify(t);
    }
    sl_status_clear(st);
    return SL_OK;
#else
    return poll_wait(t, timeout_ms, changed, st);
#endif
}
