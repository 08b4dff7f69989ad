/* engine/store_backup.c: ltcd --backup and --restore (store_backup.h). */
#include "store_backup.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "store_lock.h"
#include "store_schema.h"

#define BACKUP_BUSY_TIMEOUT_MS 5000  /* per SQLite lock wait */
#define BACKUP_BUSY_MAX_MS     30000 /* give up a copy that stays busy this long */
#define BACKUP_PATH_MAX        4096

const char *const store_side_suffixes[STORE_SIDE_FILES] = {"-wal", "-shm", "-journal"};

static bool exists(const char *path)
{
    struct stat sb;
    return lstat(path, &sb) == 0;
}

void store_unlink_with_side_files(const char *path)
{
    char p[BACKUP_PATH_MAX + 16];
    unlink(path);
    for (size_t i = 0; i < STORE_SIDE_FILES; i++) {
        snprintf(p, sizeof p, "%s%s", path, store_side_suffixes[i]);
        unlink(p);
    }
}

int store_fsync_path(const char *path, bool dir, struct err_detail *why)
{
    int fd = open(path, (dir ? O_RDONLY | O_DIRECTORY : O_RDONLY) | O_CLOEXEC);
    if (fd < 0)
        return err_set(why, -ERR_IO, "cannot open %s to sync it: %s", path, strerror(errno));
    int rc = fsync(fd) ? err_set(why, -ERR_IO, "fsync of %s failed: %s", path, strerror(errno)) : 0;
    close(fd);
    return rc;
}

void store_dir_of(const char *path, char *dir, size_t n)
{
    const char *slash = strrchr(path, '/');
    if (!slash)
        snprintf(dir, n, ".");
    else
        snprintf(dir, n, "%.*s", slash == path ? 1 : (int)(slash - path), path);
}

/* The rename of a file into place is durable once its directory is. */
static int fsync_dir_of(const char *path, struct err_detail *why)
{
    char dir[BACKUP_PATH_MAX];
    store_dir_of(path, dir, sizeof dir);
    return store_fsync_path(dir, true, why);
}

static int sql_err(sqlite3 *db, struct err_detail *why, int code, const char *what)
{
    return err_set(why, code, "%s: %s", what, db ? sqlite3_errmsg(db) : "out of memory");
}

/* Copy every page of the database 'from' (opened with 'flags') into a new
 * file 'to', in one backup step: one read transaction, so one consistent
 * snapshot, and in WAL mode no writer waits. 'to' ends as a rollback-journal
 * database, complete in its one file. */
static int copy_pages(const char *from, int flags, const char *to, struct err_detail *why)
{
    sqlite3 *src = NULL, *dst = NULL;
    int rc = 0;
    if (sqlite3_open_v2(from, &src, flags, NULL) != SQLITE_OK) {
        rc = sql_err(src, why, -ERR_STORE, from);
        goto done;
    }
    sqlite3_busy_timeout(src, BACKUP_BUSY_TIMEOUT_MS);
    store_unlink_with_side_files(to);
    if (sqlite3_open_v2(to, &dst, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL) != SQLITE_OK ||
        sqlite3_exec(dst, "PRAGMA journal_mode=OFF", NULL, NULL, NULL) != SQLITE_OK) {
        rc = sql_err(dst, why, -ERR_IO, to);
        goto done;
    }
    sqlite3_busy_timeout(dst, BACKUP_BUSY_TIMEOUT_MS);
    sqlite3_backup *b = sqlite3_backup_init(dst, "main", src, "main");
    if (!b) {
        rc = sql_err(dst, why, -ERR_STORE, to);
        goto done;
    }
    int step, waited_ms = 0;
    while ((step = sqlite3_backup_step(b, -1)) == SQLITE_BUSY || step == SQLITE_LOCKED) {
        if (waited_ms >= BACKUP_BUSY_MAX_MS)
            break;
        sqlite3_sleep(10);
        waited_ms += 10;
    }
    sqlite3_backup_finish(b);
    if (step != SQLITE_DONE) {
        rc = err_set(why, -ERR_STORE, "%s: %s", from, sqlite3_errstr(step));
        goto done;
    }
    /* Page 1 came with the source's WAL flag: make the copy a single file.
     * This reads the copied schema: a damaged source fails here as a bad
     * database (not as an I/O error), whichever of its pages is damaged. */
    if (sqlite3_exec(dst, "PRAGMA journal_mode=DELETE", NULL, NULL, NULL) != SQLITE_OK)
        rc = sql_err(dst, why,
                     (sqlite3_errcode(dst) & 0xff) == SQLITE_CORRUPT ? -ERR_STORE : -ERR_IO, to);
done:
    sqlite3_close(src);
    if (sqlite3_close(dst) != SQLITE_OK && !rc)
        rc = err_set(why, -ERR_IO, "%s: cannot close the copy", to);
    return rc;
}

static int query_int(sqlite3 *db, const char *sql, int64_t *out)
{
    sqlite3_stmt *s = NULL;
    int rc = sqlite3_prepare_v2(db, sql, -1, &s, NULL);
    if (rc == SQLITE_OK && (rc = sqlite3_step(s)) == SQLITE_ROW) {
        *out = sqlite3_column_int64(s, 0);
        rc = SQLITE_OK;
    }
    sqlite3_finalize(s);
    return rc;
}

/* Check a copy before it goes into place: sound pages (quick_check, or the
 * full integrity_check with 'full'), and an ltcd schema this binary knows.
 * 'name' is what messages call it. */
static int verify(const char *path, const char *name, bool full, struct store_copy_info *info,
                  struct err_detail *why)
{
    sqlite3 *db = NULL;
    sqlite3_stmt *s = NULL;
    int rc = 0;
    if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) {
        rc = sql_err(db, why, -ERR_STORE, name);
        goto done;
    }
    const char *check = full ? "PRAGMA integrity_check" : "PRAGMA quick_check";
    if (sqlite3_prepare_v2(db, check, -1, &s, NULL) != SQLITE_OK || sqlite3_step(s) != SQLITE_ROW) {
        rc = sql_err(db, why, -ERR_STORE, name);
        goto done;
    }
    const char *verdict = (const char *)sqlite3_column_text(s, 0);
    if (!verdict || strcmp(verdict, "ok")) {
        rc = err_set(why, -ERR_STORE, "%s fails its integrity check: %s", name,
                     verdict ? verdict : "?");
        /* SQLite's verdict spans lines; an operator's error is one. */
        for (char *nl; why && (nl = strchr(why->msg, '\n'));)
            *nl = ' ';
        goto done;
    }
    int64_t schema = 0, tables = 0, instances = 0;
    if (query_int(db, "PRAGMA user_version", &schema) != SQLITE_OK ||
        query_int(db,
                  "SELECT count(*) FROM sqlite_master WHERE type='table' AND name IN"
                  " ('instances','events','rule_versions','rule_active')",
                  &tables) != SQLITE_OK) {
        rc = sql_err(db, why, -ERR_STORE, name);
        goto done;
    }
    if (schema < 1 || tables != 4) {
        rc = err_set(why, -ERR_STORE, "%s is not an ltcd database", name);
        goto done;
    }
    if (schema > store_migration_count) {
        rc = err_set(why, -ERR_STORE, "%s has schema %lld, newer than this ltcd's (%d)", name,
                     (long long)schema, store_migration_count);
        goto done;
    }
    if (query_int(db, "SELECT count(*) FROM instances", &instances) != SQLITE_OK) {
        rc = sql_err(db, why, -ERR_STORE, name);
        goto done;
    }
    if (info) {
        struct stat sb;
        info->schema = (int)schema;
        info->instances = instances;
        info->bytes = stat(path, &sb) ? 0 : (int64_t)sb.st_size;
    }
done:
    sqlite3_finalize(s);
    sqlite3_close(db);
    return rc;
}

/* True when 'a' and 'b' name the same file, or 'b' is one of a's side files
 * (-wal, -shm, -journal, .lock). */
static bool same_or_side(const char *a, const char *b)
{
    char *ra = store_path_resolve(a), *rb = store_path_resolve(b);
    bool same = false;
    size_t n = ra ? strlen(ra) : 0;
    if (ra && rb && !strncmp(ra, rb, n)) {
        const char *rest = rb + n;
        same = !*rest || !strcmp(rest, ".lock");
        for (size_t i = 0; i < STORE_SIDE_FILES && !same; i++)
            same = !strcmp(rest, store_side_suffixes[i]);
    }
    free(ra);
    free(rb);
    struct stat sa, sb;
    return same ||
           (!stat(a, &sa) && !stat(b, &sb) && sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino);
}

void store_sweep_stale(const char *dest, const char *infix)
{
    char dir[BACKUP_PATH_MAX], prefix[BACKUP_PATH_MAX];
    store_dir_of(dest, dir, sizeof dir);
    const char *slash = strrchr(dest, '/');
    snprintf(prefix, sizeof prefix, "%s%s", slash ? slash + 1 : dest, infix);
    size_t n = strlen(prefix);
    DIR *d = opendir(dir);
    if (!d)
        return;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (strncmp(e->d_name, prefix, n))
            continue;
        char *end;
        long pid = strtol(e->d_name + n, &end, 10);
        bool side = !*end;
        for (size_t i = 0; i < STORE_SIDE_FILES && !side; i++)
            side = !strcmp(end, store_side_suffixes[i]);
        if (pid > 0 && side && pid != (long)getpid() && kill((pid_t)pid, 0) < 0 && errno == ESRCH)
            unlinkat(dirfd(d), e->d_name, 0);
    }
    closedir(d);
}

int store_backup(const char *db_path, const char *dest, struct store_copy_info *info,
                 struct err_detail *why)
{
    struct stat sb;
    if (stat(db_path, &sb) || !S_ISREG(sb.st_mode))
        return err_set(why, -ERR_NOT_FOUND, "no database at %s", db_path);
    if (same_or_side(db_path, dest))
        return err_set(why, -ERR_USAGE, "%s is the database itself: back up to another file", dest);
    if (!stat(dest, &sb) && S_ISDIR(sb.st_mode))
        return err_set(why, -ERR_USAGE, "%s is a directory: name the backup file", dest);
    char tmp[BACKUP_PATH_MAX];
    if (snprintf(tmp, sizeof tmp, "%s.tmp-%ld", dest, (long)getpid()) >= (int)sizeof tmp)
        return err_set(why, -ERR_USAGE, "%s: path too long", dest);
    store_sweep_stale(dest, ".tmp-");
    int rc = copy_pages(db_path, SQLITE_OPEN_READWRITE, tmp, why);
    if (!rc)
        rc = verify(tmp, db_path, false, info, why);
    if (!rc)
        rc = store_fsync_path(tmp, false, why);
    if (!rc && rename(tmp, dest))
        rc = err_set(why, -ERR_IO, "cannot rename %s to %s: %s", tmp, dest, strerror(errno));
    if (rc) {
        store_unlink_with_side_files(tmp);
        return rc;
    }
    return fsync_dir_of(dest, why);
}

/* Fold the old database's WAL into it; true when no -wal is left. */
static bool checkpoint_old(const char *db_path)
{
    sqlite3 *db = NULL;
    if (sqlite3_open_v2(db_path, &db, SQLITE_OPEN_READWRITE, NULL) == SQLITE_OK) {
        sqlite3_busy_timeout(db, BACKUP_BUSY_TIMEOUT_MS);
        sqlite3_exec(db, "PRAGMA wal_checkpoint(TRUNCATE)", NULL, NULL, NULL);
    }
    /* The last connection to close deletes a fully checkpointed WAL. */
    sqlite3_close(db);
    char wal[BACKUP_PATH_MAX];
    snprintf(wal, sizeof wal, "%s-wal", db_path);
    return !exists(wal);
}

/* Keep the old database (and what of it cannot be folded in) under
 * DB-PATH.before-restore, by hard links: nothing is copied. */
static int keep_old(const char *db_path, bool wal_left, struct err_detail *why)
{
    char kept[BACKUP_PATH_MAX], from[BACKUP_PATH_MAX], to[BACKUP_PATH_MAX];
    snprintf(kept, sizeof kept, "%s" STORE_BEFORE_RESTORE, db_path);
    store_unlink_with_side_files(kept);
    if (link(db_path, kept))
        return err_set(why, -ERR_IO, "cannot keep the old database as %s: %s", kept,
                       strerror(errno));
    for (size_t i = 0; i < STORE_SIDE_FILES; i++) {
        if (!strcmp(store_side_suffixes[i], "-shm") ||
            (!wal_left && !strcmp(store_side_suffixes[i], "-wal")))
            continue;
        snprintf(from, sizeof from, "%s%s", db_path, store_side_suffixes[i]);
        snprintf(to, sizeof to, "%s%s", kept, store_side_suffixes[i]);
        if (exists(from) && link(from, to))
            return err_set(why, -ERR_IO, "cannot keep %s as %s: %s", from, to, strerror(errno));
    }
    return 0;
}

static int replace(const char *db_path, const char *tmp, struct store_copy_info *info,
                   struct err_detail *why)
{
    struct stat old;
    if (!stat(db_path, &old)) {
        /* The daemon may run as another user than the operator restoring. */
        if (chmod(tmp, old.st_mode & 07777) || chown(tmp, old.st_uid, old.st_gid)) {
            /* Not our file to give away: it keeps the restoring user's. */
        }
        int rc = keep_old(db_path, !checkpoint_old(db_path), why);
        if (!rc)
            rc = fsync_dir_of(db_path, why);
        if (rc)
            return rc;
        if (info)
            info->kept = true;
    }
    char side[BACKUP_PATH_MAX];
    for (size_t i = 0; i < STORE_SIDE_FILES; i++) {
        snprintf(side, sizeof side, "%s%s", db_path, store_side_suffixes[i]);
        if (unlink(side) && errno != ENOENT)
            return err_set(why, -ERR_IO, "cannot remove %s: %s", side, strerror(errno));
    }
    if (rename(tmp, db_path))
        return err_set(why, -ERR_IO, "cannot rename %s to %s: %s", tmp, db_path, strerror(errno));
    return fsync_dir_of(db_path, why);
}

int store_restore(const char *db_path, const char *src, struct store_copy_info *info,
                  struct err_detail *why)
{
    struct stat sb;
    if (stat(src, &sb) || !S_ISREG(sb.st_mode))
        return err_set(why, -ERR_NOT_FOUND, "no backup file at %s", src);
    if (same_or_side(db_path, src))
        return err_set(why, -ERR_USAGE, "%s is the database itself", src);
    struct store_lock *lock = NULL;
    int rc = store_lock_open(db_path, &lock, why);
    if (rc == -ERR_CONFLICT) {
        char msg[ERR_DETAIL_MAX - 64];
        snprintf(msg, sizeof msg, "%s", why->msg);
        return err_set(why, rc, "cannot restore while a daemon serves the database: %s", msg);
    }
    if (rc)
        return rc;
    /* A symlinked database is replaced where it really is. */
    char *real = store_path_resolve(db_path), tmp[BACKUP_PATH_MAX];
    if (!real || snprintf(tmp, sizeof tmp, "%s.restore-tmp", real) >= (int)sizeof tmp) {
        free(real);
        store_lock_close(lock);
        return err_set(why, -ERR_USAGE, "%s: path too long", db_path);
    }
    if (info)
        info->kept = false;
    rc = copy_pages(src, SQLITE_OPEN_READONLY, tmp, why);
    if (!rc)
        rc = verify(tmp, src, true, info, why);
    if (!rc)
        rc = store_fsync_path(tmp, false, why);
    if (!rc)
        rc = replace(real, tmp, info, why);
    if (rc)
        store_unlink_with_side_files(tmp);
    free(real);
    store_lock_close(lock);
    return rc;
}
