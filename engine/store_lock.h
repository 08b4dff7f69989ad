/* engine/store_lock.h
 *
 * One daemon per database. The lock is a flock(2) on the file DB-PATH.lock,
 * which holds the holder's pid as text. The kernel drops the lock when the
 * holder's descriptor closes, so a daemon that dies, even by kill -9, never
 * leaves a stale lock behind: a restart right after a crash just takes it.
 * A flock belongs to the open file, not the process: it is not lost when
 * the process closes another descriptor of the same file (as a POSIX record
 * lock would be), two opens in one process conflict (the unit tests rely on
 * it), it works on a descriptor opened read-only, and it never meets
 * SQLite's own fcntl locks.
 *
 * The lock file stays on disk (removing it would let two processes lock two
 * different inodes); only the lock on it means anything. A symlinked or
 * relative database path locks the same file as its real path.
 *
 * The daemon and ltcd --restore take the lock; ltcd --backup does not (it
 * reads a database that a daemon may be serving).
 */
#ifndef ENGINE_STORE_LOCK_H
#define ENGINE_STORE_LOCK_H

#include "err.h"

struct store_lock; /* opaque; one held lock */

/* Take the lock of the database at 'db_path' and write our pid into it. On
 * success *out is owned by the caller (store_lock_close). When another
 * process holds it: -ERR_CONFLICT, and 'why' names the database and, when
 * the lock file says, the holder's pid. Other failures (the lock file cannot
 * be created): -ERR_IO. */
int store_lock_open(const char *db_path, struct store_lock **out, struct err_detail *why);

/* Release the lock (NULL is fine). The lock file stays, emptied. */
void store_lock_close(struct store_lock *lock);

/* The absolute, symlink-free form of 'path', which need not exist yet (its
 * directory must, else the result is 'path' as given). malloc'd; NULL when
 * out of memory. */
char *store_path_resolve(const char *path);

#endif
