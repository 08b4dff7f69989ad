/* engine/db_sqlite.h: the SQLite connection under a db.h connection, for
 * what only SQLite has (the WAL's file, online backup, page counts). */
#ifndef ENGINE_DB_SQLITE_H
#define ENGINE_DB_SQLITE_H

#include <sqlite3.h>

#include "db.h"

/* Borrowed; NULL when 'db' is not SQLite's. */
sqlite3 *db_sqlite_handle(struct db *db);

#define DB_SQLITE_BUSY_TIMEOUT_MS 5000

#endif
