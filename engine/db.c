/* engine/db.c: the statement vocabulary of db.h, handed to the driver of
 * the connection's kind (db_sqlite.c, db_pg.c). */
#include "db.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "db_driver.h"

bool db_is_postgresql(const char *target)
{
    return !strncmp(target, "postgresql://", 13) || !strncmp(target, "postgres://", 11);
}

static void put(char *out, size_t size, size_t *n, const char *text, size_t len)
{
    for (size_t i = 0; i < len && *n + 1 < size; i++)
        out[(*n)++] = text[i];
}

void db_target_shown(const char *target, char *out, size_t size)
{
    if (!size)
        return;
    if (!db_is_postgresql(target)) {
        snprintf(out, size, "%s", target);
        return;
    }
    /* scheme://[user[:password]@]host...[?param=value&...] */
    const char *auth = strstr(target, "://") + 3;
    size_t auth_len = strcspn(auth, "/?");
    const char *at = memchr(auth, '@', auth_len);
    const char *colon = at ? memchr(auth, ':', (size_t)(at - auth)) : NULL;
    size_t n = 0;
    for (const char *p = target; *p;) {
        if (colon && p == colon + 1) {
            put(out, size, &n, "***", 3);
            p = at;
        } else if (p > auth + auth_len && (p[-1] == '?' || p[-1] == '&') &&
                   !strncmp(p, "password=", 9)) {
            put(out, size, &n, "password=***", 12);
            p += 9 + strcspn(p + 9, "&");
        } else {
            put(out, size, &n, p++, 1);
        }
    }
    out[n] = '\0';
}

int db_open(const char *target, bool read_only, struct db **out, struct err_detail *why)
{
    const struct db_driver *d = db_is_postgresql(target) ? &db_pg_driver : &db_sqlite_driver;
    return d->open(target, read_only, out, why);
}

void db_close(struct db *db)
{
    if (db)
        db->driver->close(db);
}

enum db_kind db_kind(const struct db *db)
{
    return db->driver->kind;
}

int db_exec(struct db *db, const char *sql)
{
    return db->driver->exec(db, sql);
}

int db_prepare(struct db *db, const char *sql, struct db_stmt **out)
{
    return db->driver->prepare(db, sql, out);
}

void db_finalize(struct db_stmt *s)
{
    if (s)
        s->db->driver->finalize(s);
}

void db_bind_int64(struct db_stmt *s, int i, int64_t v)
{
    s->db->driver->bind_int64(s, i, v);
}

void db_bind_double(struct db_stmt *s, int i, double v)
{
    s->db->driver->bind_double(s, i, v);
}

void db_bind_text(struct db_stmt *s, int i, const char *text)
{
    if (text)
        s->db->driver->bind_text_n(s, i, text, strlen(text));
    else
        s->db->driver->bind_null(s, i);
}

void db_bind_text_n(struct db_stmt *s, int i, const char *text, size_t len)
{
    s->db->driver->bind_text_n(s, i, text, len);
}

void db_bind_null(struct db_stmt *s, int i)
{
    s->db->driver->bind_null(s, i);
}

int db_step(struct db_stmt *s)
{
    return s->db->driver->step(s);
}

bool db_column_null(struct db_stmt *s, int col)
{
    return s->db->driver->column_null(s, col);
}

int64_t db_column_int64(struct db_stmt *s, int col)
{
    return s->db->driver->column_int64(s, col);
}

double db_column_double(struct db_stmt *s, int col)
{
    return s->db->driver->column_double(s, col);
}

const char *db_column_text(struct db_stmt *s, int col)
{
    return s->db->driver->column_text(s, col);
}

size_t db_column_bytes(struct db_stmt *s, int col)
{
    return s->db->driver->column_bytes(s, col);
}

void db_reset(struct db_stmt *s)
{
    s->db->driver->reset(s);
}

int db_reconnect(struct db *db)
{
    return db->driver->reconnect(db);
}

int db_wait_notified(struct db *db, int timeout_ms)
{
    if (!db->driver->wait_notified)
        return db__fail(db, DB_FAIL_OTHER, "this database has no notifications");
    return db->driver->wait_notified(db, timeout_ms);
}

int64_t db_changes(struct db *db)
{
    return db->driver->changes(db);
}

bool db_in_transaction(struct db *db)
{
    return db->driver->in_transaction(db);
}

enum db_failure db_failure(struct db *db)
{
    return db->failure;
}

const char *db_message(struct db *db)
{
    return db->message;
}

int db_error(struct db *db, struct err_detail *why, const char *what)
{
    int code = db->failure == DB_FAIL_BUSY ? -ERR_STORE_BUSY : -ERR_STORE;
    return err_set(why, code, "%s: %s", what, db->message);
}

int db__fail(struct db *db, enum db_failure f, const char *fmt, ...)
{
    db->failure = f;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(db->message, sizeof db->message, fmt, ap);
    va_end(ap);
    return DB_ERROR;
}
