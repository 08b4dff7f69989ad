/* engine/store_copy.h
 *
 * ltcd --copy-db DEST --db SRC: a whole database copied to a new one, either
 * kind to either kind (SQLite or PostgreSQL, db.h), then verified from DEST
 * as written. It runs in its own short-lived process, never on the loop.
 *
 * SRC is read in one consistent snapshot (SQLite: one read transaction;
 * PostgreSQL: REPEATABLE READ, READ ONLY), so a daemon may go on serving it.
 * SRC must be at this binary's schema version: an older one is refused (start
 * this ltcd on it once, which migrates it, then copy), a newer one too.
 *
 * DEST must be new: a SQLite DEST must not exist (or be an empty file), a
 * PostgreSQL DEST must hold no ltcd table (in its current schema) and sort
 * text in byte order as SQLite does (a database made with LOCALE 'C.UTF-8'
 * or 'C'; in another collation the daemon's listings, ordered by text keys,
 * would not come as they came from SRC). Anything else is refused and left
 * untouched.
 *   - SQLite: DEST's database lock (store_lock.h) is held for the whole run,
 *     so no daemon opens DEST meanwhile (and a DEST a daemon holds is
 *     refused). The copy is written to DEST.copy-tmp-PID beside DEST, closed,
 *     opened again read-only and verified, fsynced and only then renamed to
 *     DEST: a copy killed at any moment leaves no DEST, or the whole one.
 *     Temporary files of killed copies are removed by the next copy to DEST.
 *   - PostgreSQL: everything in one transaction (the schema made by the
 *     migrations, the rows, the sequences set past the highest ids, the
 *     verification), committed only when the verification holds; a failure
 *     or a kill rolls it all back. The migration lock is held throughout, so
 *     a daemon started on DEST meanwhile waits for the commit.
 *
 * Every table is copied as it is, the summary tables the triggers keep
 * included, with the triggers not firing during the copy (SQLite: dropped
 * and created again in the same transaction; PostgreSQL: disabled). Rows go
 * in multi-row INSERTs; PostgreSQL's are read through a cursor, a batch of
 * rows a round trip.
 *
 * The verification: from DEST, every table's row count, and a BLAKE2b hash
 * (crypto_generichash) of its rows in primary key order (text keys in byte
 * order on both kinds) with every column in a stable typed encoding, equal
 * SRC's as read in the snapshot. The events table's hash is reported: two
 * databases with the same event log print the same one.
 */
#ifndef ENGINE_STORE_COPY_H
#define ENGINE_STORE_COPY_H

#include <stdint.h>

#include "db.h"
#include "err.h"

#define STORE_COPY_HASH_HEX 65 /* 32 bytes as hex, and the NUL */

struct store_copydb_info {
    int schema;                            /* the schema version of both */
    int tables;                            /* tables copied */
    int64_t rows;                          /* rows copied, every table */
    int64_t instances;                     /* rows of instances */
    int64_t events;                        /* rows of events */
    char events_hash[STORE_COPY_HASH_HEX]; /* the event log's hash, hex */
    double seconds;                        /* wall-clock time of the whole copy */
};

/* Copy the database 'src' to the new database 'dest' (each a SQLite path or
 * a PostgreSQL URI) and verify it, as above. Returns 0 and fills *info (may
 * be NULL), or: -ERR_USAGE (SRC and DEST are the same database, or DEST's
 * collation is not byte order),
 * -ERR_NOT_FOUND (no SRC), -ERR_CONFLICT (DEST exists or holds ltcd tables,
 * or a daemon holds DEST), -ERR_STORE (SRC is not an ltcd database of this
 * schema, a database failed, or the verification found a difference),
 * -ERR_IO, -ERR_NOMEM, with a one-line message in 'why' (URIs shown without
 * their passwords). On failure DEST is as it was. */
int store_copydb(const char *src, const char *dest, struct store_copydb_info *info,
                 struct err_detail *why);

/* The tables the copy knows, for the tests: their number, and the name of
 * the i-th (parents before the tables that refer to them). */
int store_copydb_table_count(void);
const char *store_copydb_table_name(int i);

/* For the unit tests: when set, called on DEST's connection once the rows
 * are written, before the verification (a fault it must find). */
extern void (*store_copydb_fault)(struct db *dest);

#endif
