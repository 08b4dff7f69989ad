/* engine/store_lock.c: the lock of store_lock.h. */
#include "store_lock.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

struct store_lock {
    int fd;     /* the lock file, holding the flock */
    char *path; /* owned: DB-PATH.lock, resolved */
};

char *store_path_resolve(const char *path)
{
    char *real = realpath(path, NULL), *out = NULL;
    if (real)
        return real;
    const char *slash = strrchr(path, '/');
    char dir[PATH_MAX];
    if (!slash)
        snprintf(dir, sizeof dir, ".");
    else
        snprintf(dir, sizeof dir, "%.*s", slash == path ? 1 : (int)(slash - path), path);
    char *real_dir = realpath(dir, NULL);
    const char *base = slash ? slash + 1 : path;
    if (!real_dir)
        return strdup(path);
    if (asprintf(&out, "%s/%s", strcmp(real_dir, "/") ? real_dir : "", base) < 0)
        out = NULL;
    free(real_dir);
    return out;
}

/* The lock file of a database: next to its real path, so that "db", "./db"
 * and a symlink to it all lock one file. */
static char *lock_path(const char *db_path)
{
    char *real = store_path_resolve(db_path), *out = NULL;
    if (real && asprintf(&out, "%s.lock", real) < 0)
        out = NULL;
    free(real);
    return out;
}

static long holder_pid(int fd)
{
    char text[32];
    ssize_t n = pread(fd, text, sizeof text - 1, 0);
    if (n <= 0)
        return 0;
    text[n] = '\0';
    char *end;
    long pid = strtol(text, &end, 10);
    return pid > 0 && (*end == '\n' || *end == '\0') ? pid : 0;
}

int store_lock_open(const char *db_path, struct store_lock **out, struct err_detail *why)
{
    struct store_lock *lk = calloc(1, sizeof *lk);
    if (!lk || !(lk->path = lock_path(db_path))) {
        free(lk);
        return err_set(why, -ERR_NOMEM, "out of memory");
    }
    lk->fd = open(lk->path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    /* A lock file another user created (a restore run as root) still locks;
     * only the pid cannot be written. */
    if (lk->fd < 0 && errno == EACCES)
        lk->fd = open(lk->path, O_RDONLY | O_CLOEXEC);
    if (lk->fd < 0) {
        int rc = err_set(why, -ERR_IO, "database %s: cannot open its lock file %s: %s", db_path,
                         lk->path, strerror(errno));
        store_lock_close(lk);
        return rc;
    }
    if (flock(lk->fd, LOCK_EX | LOCK_NB) < 0) {
        int e = errno, rc;
        long pid = holder_pid(lk->fd);
        if (e == EWOULDBLOCK && pid)
            rc = err_set(why, -ERR_CONFLICT, "database %s is in use by another ltcd (pid %ld)",
                         db_path, pid);
        else if (e == EWOULDBLOCK)
            rc = err_set(why, -ERR_CONFLICT, "database %s is in use by another ltcd", db_path);
        else
            rc = err_set(why, -ERR_IO, "database %s: cannot lock %s: %s", db_path, lk->path,
                         strerror(e));
        close(lk->fd);
        lk->fd = -1;
        store_lock_close(lk);
        return rc;
    }
    char text[32];
    int n = snprintf(text, sizeof text, "%ld\n", (long)getpid());
    if (ftruncate(lk->fd, 0) || pwrite(lk->fd, text, (size_t)n, 0) != n) {
        /* The pid is a courtesy for the message of the next process that
         * tries; the lock is what counts, so this does not fail the open. */
    }
    *out = lk;
    return 0;
}

void store_lock_close(struct store_lock *lk)
{
    if (!lk)
        return;
    if (lk->fd >= 0) {
        if (ftruncate(lk->fd, 0)) {
            /* A stale pid is harmless: it is only read while locked. */
        }
        close(lk->fd);
    }
    free(lk->path);
    free(lk);
}
