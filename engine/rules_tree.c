/* engine/rules_tree.c: reading the rules tree from disk (see rules_internal.h).
 *
 * Every entry below the root is opened relative to its parent directory's
 * descriptor with O_NOFOLLOW, so a symbolic link is refused wherever it is
 * and whatever it points at, and no check can be raced by swapping a
 * component for a link afterwards. Opening with O_NONBLOCK and checking
 * fstat means a FIFO or a device named *.lua never blocks the loop. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "rules_internal.h"

#define LINK_REFUSED "a symbolic link; links are refused in the rules tree (copy the file in)"

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void free_list(char **list, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(list[i]);
    free(list);
}

static bool is_lua(const char *name)
{
    size_t len = strlen(name);
    return len > 4 && !strcmp(name + len - 4, ".lua");
}

/* The sorted names of dirfd's entries that are directories or symbolic
 * links (dirs), or *.lua entries of any type (!dirs), hidden ones left out:
 * what is not acceptable is refused by name later rather than skipped. */
static int list_at(int dirfd, bool dirs, char ***out, size_t *n)
{
    *out = NULL;
    *n = 0;
    int fd = dup(dirfd);
    DIR *d = fd < 0 ? NULL : fdopendir(fd);
    if (!d) {
        if (fd >= 0)
            close(fd);
        return -1;
    }
    rewinddir(d);
    struct dirent *e;
    size_t cap = 0;
    int rc = 0;
    while ((e = readdir(d))) {
        struct stat sb;
        if (e->d_name[0] == '.' || fstatat(dirfd, e->d_name, &sb, AT_SYMLINK_NOFOLLOW))
            continue;
        bool ok = dirs ? S_ISDIR(sb.st_mode) || S_ISLNK(sb.st_mode) : is_lua(e->d_name);
        if (!ok)
            continue;
        if (*n == cap) {
            cap = cap ? cap * 2 : 16;
            char **g = realloc(*out, cap * sizeof *g);
            if (!g) {
                rc = -1;
                break;
            }
            *out = g;
        }
        if (!((*out)[*n] = strdup(e->d_name))) {
            rc = -1;
            break;
        }
        (*n)++;
    }
    closedir(d);
    if (rc) {
        free_list(*out, *n);
        *out = NULL;
        *n = 0;
        return rc;
    }
    qsort(*out, *n, sizeof **out, cmp_str);
    return 0;
}

/* Open the directory 'name' under dirfd, never through a link. On failure
 * -1 and 'problem' says why, quoting nothing but the name. */
static int open_dir_at(int dirfd, const char *name, char *problem, size_t n)
{
    int fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd >= 0)
        return fd;
    struct stat sb;
    int err = errno;
    if (!fstatat(dirfd, name, &sb, AT_SYMLINK_NOFOLLOW) && S_ISLNK(sb.st_mode))
        snprintf(problem, n, LINK_REFUSED);
    else
        snprintf(problem, n, "cannot open the directory (%s)", strerror(err));
    return -1;
}

/* Read the regular file 'name' under dirfd (never through a link) into a
 * malloc'd buffer of at most SANDBOX_SOURCE_MAX_BYTES + 1 bytes: one byte
 * more than the limit tells that it is over; *size is the file's size. On
 * failure -ERR_RULE_REJECTED (a link, not a regular file) or -ERR_IO, and
 * 'problem' says why. */
static int read_at(int dirfd, const char *name, char **out, size_t *len, size_t *size,
                   char *problem, size_t n)
{
    int fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
    struct stat sb;
    if (fd < 0) {
        int err = errno;
        if (err == ELOOP ||
            (!fstatat(dirfd, name, &sb, AT_SYMLINK_NOFOLLOW) && S_ISLNK(sb.st_mode)))
            return snprintf(problem, n, LINK_REFUSED), -ERR_RULE_REJECTED;
        snprintf(problem, n, "cannot open (%s)", strerror(err));
        return -ERR_IO;
    }
    if (fstat(fd, &sb) || !S_ISREG(sb.st_mode)) {
        close(fd);
        snprintf(problem, n, "not a regular file");
        return -ERR_RULE_REJECTED;
    }
    size_t cap = SANDBOX_SOURCE_MAX_BYTES + 1, got = 0;
    char *buf = malloc(cap);
    while (buf && got < cap) {
        ssize_t k = read(fd, buf + got, cap - got);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0) {
            if (k < 0) {
                snprintf(problem, n, "cannot read (%s)", strerror(errno));
                free(buf);
                close(fd);
                return -ERR_IO;
            }
            break;
        }
        got += (size_t)k;
    }
    close(fd);
    if (!buf) {
        snprintf(problem, n, "out of memory");
        return -ERR_NOMEM;
    }
    *out = buf;
    *len = got;
    *size = (size_t)sb.st_size > got ? (size_t)sb.st_size : got;
    return 0;
}

int rules__tree_read(int dirfd, const char *owner, int version, json_t **out, char *sig,
                     size_t sig_size, struct err_detail *why)
{
    char dir[160], problem[200];
    rules__owner_dir(owner, dir, sizeof dir);
    char **names;
    size_t n;
    if (list_at(dirfd, false, &names, &n))
        return err_set(why, -ERR_IO, "%s v%d: %s: cannot list the directory", owner, version, dir);
    json_t *files = json_object();
    int rc = files ? 0 : err_set(why, -ERR_NOMEM, "out of memory");
    for (size_t i = 0; i < n && !rc; i++) {
        char *buf = NULL;
        size_t len = 0, size = 0;
        if ((rc = read_at(dirfd, names[i], &buf, &len, &size, problem, sizeof problem))) {
            err_field(why, rc, names[i], "%s v%d: %s%s: %s", owner, version, dir, names[i],
                      problem);
            break;
        }
        /* Over the limit: the file's size is named, and no byte past what was read is. */
        rc = rules__check_source(owner, version, names[i], buf,
                                 size > SANDBOX_SOURCE_MAX_BYTES ? size : len, why);
        json_t *s = rc ? NULL : json_stringn(buf, len);
        if (!rc && (!s || json_object_set_new(files, names[i], s)))
            rc = err_set(why, -ERR_NOMEM, "out of memory");
        free(buf);
    }
    free_list(names, n);
    if (!rc && sig) { /* bundle.sig: hex text, when there is one */
        char *buf = NULL;
        size_t len = 0, size = 0;
        sig[0] = '\0';
        struct stat sb;
        bool present = !fstatat(dirfd, "bundle.sig", &sb, AT_SYMLINK_NOFOLLOW);
        if (present &&
            (rc = read_at(dirfd, "bundle.sig", &buf, &len, &size, problem, sizeof problem)))
            err_field(why, rc, "signature", "%s v%d: %sbundle.sig: %s", owner, version, dir,
                      problem);
        if (buf) {
            len = len < sig_size - 1 ? len : sig_size - 1;
            memcpy(sig, buf, len);
            sig[len] = '\0';
            sig[strcspn(sig, " \t\r\n")] = '\0';
            free(buf);
        }
    }
    if (rc) {
        json_decref(files);
        return rc;
    }
    *out = files;
    return 0;
}

int rules__tree_visit(const char *root, rules__tree_cb *cb, void *ctx, struct err_detail *why)
{
    /* The root itself is the operator's choice and may be a link. */
    int rootfd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (rootfd < 0)
        return err_set(why, -ERR_IO, "%s: cannot open the rules directory (%s)", root,
                       strerror(errno));
    char problem[200];
    int fd = open_dir_at(rootfd, "hq", problem, sizeof problem);
    cb("hq", "hq", fd, fd < 0 ? problem : NULL, ctx);
    if (fd >= 0)
        close(fd);
    static const char *const layers[][2] = {{"regions", "region/"}, {"offices", "office/"}};
    for (int l = 0; l < 2; l++) {
        struct stat sb;
        if (fstatat(rootfd, layers[l][0], &sb, AT_SYMLINK_NOFOLLOW))
            continue; /* a layer without a directory: none of its owners on disk */
        int layerfd = open_dir_at(rootfd, layers[l][0], problem, sizeof problem);
        if (layerfd < 0) {
            cb(NULL, layers[l][0], -1, problem, ctx);
            continue;
        }
        char **names;
        size_t n;
        if (list_at(layerfd, true, &names, &n)) {
            cb(NULL, layers[l][0], -1, "cannot list the directory", ctx);
            close(layerfd);
            continue;
        }
        for (size_t i = 0; i < n; i++) {
            char owner[RULES_OWNER_MAX], path[160];
            snprintf(owner, sizeof owner, "%s%.60s", layers[l][1], names[i]);
            snprintf(path, sizeof path, "%s/%.60s", layers[l][0], names[i]);
            fd = open_dir_at(layerfd, names[i], problem, sizeof problem);
            cb(owner, path, fd, fd < 0 ? problem : NULL, ctx);
            if (fd >= 0)
                close(fd);
        }
        free_list(names, n);
        close(layerfd);
    }
    close(rootfd);
    return 0;
}
