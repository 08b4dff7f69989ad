/* engine/store_backup.h
 *
 * Copies of the database for operators: ltcd --backup and ltcd --restore.
 *
 * A backup is an online, consistent snapshot. SQLite's online backup API
 * copies every page in one step inside one read transaction; in WAL mode
 * that never blocks the daemon's writers, and the copy is the database as of
 * one commit. The copy is written to DEST.tmp-PID next to DEST, converted to
 * a self-contained rollback-journal file (no -wal needed beside it), checked
 * (PRAGMA quick_check), fsynced and renamed over DEST, then the directory is
 * fsynced: a backup killed at any moment leaves DEST as it was (absent or
 * the previous complete backup), never half written. Temporary files of
 * killed backups are removed by the next backup to the same DEST.
 *
 * A restore holds the database's lock (store_lock.h) for its whole run, so
 * it refuses while a daemon serves the database and no daemon starts during
 * it. It copies SRC to DB-PATH.restore-tmp, checks that copy (PRAGMA
 * integrity_check; an ltcd schema no newer than this binary's), fsyncs it,
 * then replaces the database:
 *   1. the old database's WAL is checkpointed into it, so its -wal and -shm
 *      go away with nothing lost;
 *   2. the old database (and, when the checkpoint could not run, its -wal)
 *      is kept as DB-PATH.before-restore (a hard link: no copy);
 *   3. any -wal, -shm or -journal left next to the database is removed, so
 *      nothing of the old database can be replayed over SRC;
 *   4. the copy is renamed over the database and the directory fsynced.
 * A restore killed before step 4 leaves the old database, whole.
 *
 * Both run in their own short-lived process (not on the daemon's loop).
 */
#ifndef ENGINE_STORE_BACKUP_H
#define ENGINE_STORE_BACKUP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"

struct store_copy_info {
    int schema;        /* PRAGMA user_version of the copy */
    int64_t instances; /* rows of the instances table */
    int64_t bytes;     /* size of the copy */
    bool kept;         /* restore: the old database is kept as DB-PATH.before-restore */
};

/* Write a consistent copy of the database at 'db_path' to 'dest' (replacing
 * it atomically). Returns 0 and fills *info (may be NULL), or -ERR_USAGE
 * (dest is the database or a directory), -ERR_NOT_FOUND (no database),
 * -ERR_STORE, -ERR_IO with a one-line message in 'why'. */
int store_backup(const char *db_path, const char *dest, struct store_copy_info *info,
                 struct err_detail *why);

/* Replace the database at 'db_path' with a checked copy of 'src', as above.
 * Returns 0 and fills *info (may be NULL), or -ERR_CONFLICT (a daemon holds
 * the database), -ERR_USAGE (src is the database), -ERR_NOT_FOUND (no src),
 * -ERR_STORE (src is not a sound ltcd database of a known schema), -ERR_IO.
 * On failure the database is as it was. */
int store_restore(const char *db_path, const char *src, struct store_copy_info *info,
                  struct err_detail *why);

/* The suffix of the copy kept by a restore. */
#define STORE_BEFORE_RESTORE ".before-restore"

/* File steps a copy made durable takes (here and store_copy.c): fsync the
 * file or directory at 'path' (0, or -ERR_IO naming it); the directory of
 * 'path' into dir ("." for a bare name, "/" for a file at the root). */
int store_fsync_path(const char *path, bool dir, struct err_detail *why);
void store_dir_of(const char *path, char *dir, size_t n);

/* The files SQLite keeps beside a database ("-wal", "-shm", "-journal").
 * store_unlink_with_side_files: 'path' and its side files, whatever exists.
 * store_sweep_stale: what killed copies to 'dest' left, DEST + infix + PID
 * (and its side files) whose process is gone; the caller holds DEST's lock. */
#define STORE_SIDE_FILES 3
extern const char *const store_side_suffixes[STORE_SIDE_FILES];
void store_unlink_with_side_files(const char *path);
void store_sweep_stale(const char *dest, const char *infix);

#endif
