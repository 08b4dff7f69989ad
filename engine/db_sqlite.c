/* engine/db_sqlite.c: db.h over SQLite. */
#include "db_sqlite.h"

#include <stdlib.h>

#include "db_driver.h"

struct sq_db {
    struct db head;
    sqlite3 *h;
};

struct sq_stmt {
    struct db_stmt head;
    sqlite3_stmt *s;
};

static sqlite3 *handle(struct db *db)
{
    return ((struct sq_db *)db)->h;
}

static sqlite3_stmt *stmt(struct db_stmt *s)
{
    return ((struct sq_stmt *)s)->s;
}

sqlite3 *db_sqlite_handle(struct db *db)
{
    return db && db->driver == &db_sqlite_driver ? handle(db) : NULL;
}

/* The connection's last error as a db failure. */
static int fail(struct db *db)
{
    int rc = sqlite3_errcode(handle(db)) & 0xff;
    enum db_failure f = DB_FAIL_OTHER;
    if (rc == SQLITE_BUSY || rc == SQLITE_LOCKED)
        f = DB_FAIL_BUSY;
    else if (rc == SQLITE_CONSTRAINT)
        f = DB_FAIL_CONSTRAINT;
    else if (rc == SQLITE_FULL || rc == SQLITE_IOERR || rc == SQLITE_CORRUPT || rc == SQLITE_NOTADB)
        f = DB_FAIL_MEDIUM;
    return db__fail(db, f, "%s", sqlite3_errmsg(handle(db)));
}

static int sq_open(const char *target, bool read_only, struct db **out, struct err_detail *why)
{
    struct sq_db *d = calloc(1, sizeof *d);
    if (!d)
        return err_set(why, -ERR_NOMEM, "out of memory");
    d->head.driver = &db_sqlite_driver;
    int flags = SQLITE_OPEN_NOMUTEX |
                (read_only ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
    if (sqlite3_open_v2(target, &d->h, flags, NULL) != SQLITE_OK) {
        int rc =
            err_set(why, -ERR_STORE, "cannot open database %s%s: %s", target,
                    read_only ? " for reading" : "", d->h ? sqlite3_errmsg(d->h) : "out of memory");
        sqlite3_close(d->h);
        free(d);
        return rc;
    }
    sqlite3_busy_timeout(d->h, DB_SQLITE_BUSY_TIMEOUT_MS);
    sqlite3_extended_result_codes(d->h, 0);
    *out = &d->head;
    return 0;
}

static void sq_close(struct db *db)
{
    sqlite3_close(handle(db));
    free(db);
}

static int sq_exec(struct db *db, const char *sql)
{
    return sqlite3_exec(handle(db), sql, NULL, NULL, NULL) == SQLITE_OK ? 0 : fail(db);
}

static int sq_prepare(struct db *db, const char *sql, struct db_stmt **out)
{
    struct sq_stmt *s = calloc(1, sizeof *s);
    if (!s)
        return db__fail(db, DB_FAIL_OTHER, "out of memory");
    s->head.db = db;
    if (sqlite3_prepare_v3(handle(db), sql, -1, SQLITE_PREPARE_PERSISTENT, &s->s, NULL) !=
        SQLITE_OK) {
        free(s);
        return fail(db);
    }
    *out = &s->head;
    return 0;
}

static void sq_finalize(struct db_stmt *s)
{
    sqlite3_finalize(stmt(s));
    free(s);
}

static void sq_bind_int64(struct db_stmt *s, int i, int64_t v)
{
    sqlite3_bind_int64(stmt(s), i, v);
}

static void sq_bind_double(struct db_stmt *s, int i, double v)
{
    sqlite3_bind_double(stmt(s), i, v);
}

static void sq_bind_text_n(struct db_stmt *s, int i, const char *text, size_t len)
{
    sqlite3_bind_text64(stmt(s), i, text, len, SQLITE_STATIC, SQLITE_UTF8);
}

static void sq_bind_null(struct db_stmt *s, int i)
{
    sqlite3_bind_null(stmt(s), i);
}

static int sq_step(struct db_stmt *s)
{
    int rc = sqlite3_step(stmt(s));
    if (rc == SQLITE_ROW)
        return DB_ROW;
    if (rc == SQLITE_DONE)
        return DB_DONE;
    return fail(s->db);
}

static bool sq_column_null(struct db_stmt *s, int col)
{
    return sqlite3_column_type(stmt(s), col) == SQLITE_NULL;
}

static int64_t sq_column_int64(struct db_stmt *s, int col)
{
    return sqlite3_column_int64(stmt(s), col);
}

static double sq_column_double(struct db_stmt *s, int col)
{
    return sqlite3_column_double(stmt(s), col);
}

static const char *sq_column_text(struct db_stmt *s, int col)
{
    return (const char *)sqlite3_column_text(stmt(s), col);
}

static size_t sq_column_bytes(struct db_stmt *s, int col)
{
    return (size_t)sqlite3_column_bytes(stmt(s), col);
}

static void sq_reset(struct db_stmt *s)
{
    sqlite3_reset(stmt(s));
    sqlite3_clear_bindings(stmt(s));
}

static int sq_reconnect(struct db *db)
{
    (void)db;
    return 0; /* a file does not go away */
}

static int64_t sq_changes(struct db *db)
{
    return sqlite3_changes64(handle(db));
}

static bool sq_in_transaction(struct db *db)
{
    return !sqlite3_get_autocommit(handle(db));
}

const struct db_driver db_sqlite_driver = {
    .kind = DB_SQLITE,
    .open = sq_open,
    .close = sq_close,
    .exec = sq_exec,
    .prepare = sq_prepare,
    .finalize = sq_finalize,
    .bind_int64 = sq_bind_int64,
    .bind_double = sq_bind_double,
    .bind_text_n = sq_bind_text_n,
    .bind_null = sq_bind_null,
    .step = sq_step,
    .column_null = sq_column_null,
    .column_int64 = sq_column_int64,
    .column_double = sq_column_double,
    .column_text = sq_column_text,
    .column_bytes = sq_column_bytes,
    .reset = sq_reset,
    .reconnect = sq_reconnect,
    .changes = sq_changes,
    .in_transaction = sq_in_transaction,
};
