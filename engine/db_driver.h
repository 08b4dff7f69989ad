/* engine/db_driver.h
 *
 * What a database driver gives db.c (the driver table, as SQLite's VFS or
 * Knot Resolver's kr_cdb_api): one table per kind, the connection's and the
 * statement's common heads. Included by db.c, db_sqlite.c and db_pg.c only.
 */
#ifndef ENGINE_DB_DRIVER_H
#define ENGINE_DB_DRIVER_H

#include "db.h"

struct db_driver;

/* The head of every driver's connection. */
struct db {
    const struct db_driver *driver;
    enum db_failure failure;
    char message[ERR_DETAIL_MAX]; /* the last failure's */
};

/* The head of every driver's statement. */
struct db_stmt {
    struct db *db;
};

struct db_driver {
    enum db_kind kind;
    int (*open)(const char *target, bool read_only, struct db **out, struct err_detail *why);
    void (*close)(struct db *db);
    int (*exec)(struct db *db, const char *sql);
    int (*prepare)(struct db *db, const char *sql, struct db_stmt **out);
    void (*finalize)(struct db_stmt *s);
    void (*bind_int64)(struct db_stmt *s, int i, int64_t v);
    void (*bind_double)(struct db_stmt *s, int i, double v);
    void (*bind_text_n)(struct db_stmt *s, int i, const char *text, size_t len);
    void (*bind_null)(struct db_stmt *s, int i);
    int (*step)(struct db_stmt *s);
    bool (*column_null)(struct db_stmt *s, int col);
    int64_t (*column_int64)(struct db_stmt *s, int col);
    double (*column_double)(struct db_stmt *s, int col);
    const char *(*column_text)(struct db_stmt *s, int col);
    size_t (*column_bytes)(struct db_stmt *s, int col);
    void (*reset)(struct db_stmt *s);
    int (*reconnect)(struct db *db);
    int64_t (*changes)(struct db *db);
    bool (*in_transaction)(struct db *db);
    int (*wait_notified)(struct db *db, int timeout_ms); /* NULL: no notifications */
};

extern const struct db_driver db_sqlite_driver;
extern const struct db_driver db_pg_driver;

/* Keep a failure on the connection (db_failure, db_error). */
__attribute__((format(printf, 3, 4))) int db__fail(struct db *db, enum db_failure f,
                                                   const char *fmt, ...);

#endif
