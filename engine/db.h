/* engine/db.h
 *
 * One statement vocabulary over the two databases ltcd stores in: SQLite
 * (embedded, the default) and PostgreSQL (a server several nodes share,
 * through libpq). The store (store*.c) speaks only this; what differs
 * between the two beyond it (SQL dialect, schema, SQLite's backup and WAL
 * handling) is the store's business, asked through db_kind.
 *
 * A connection (struct db) and its statements belong to one thread at a
 * time. Calls block: on SQLite for the disk, on PostgreSQL for a round trip
 * to the server, so a PostgreSQL connection is used by a thread of its own,
 * never by the loop.
 *
 * Statements are written with SQLite's numbered parameters, ?1, ?2, ...;
 * on PostgreSQL they are sent as $1, $2, ... (outside quotes and comments),
 * every value as text (the server casts it to the column's type, so a
 * parameter whose type nothing around it tells needs a CAST), and SQLite's
 * planner hints " INDEXED BY name" are dropped. A
 * statement's life: bind its parameters, step through its rows (each
 * column's value is borrowed until the next step or reset), reset. Binding
 * or stepping a statement again without a reset is an error of the caller.
 *
 * Errors: db_step and db_exec return DB_ERROR and keep the failure on the
 * connection until its next call: db_error fills an err_detail from it
 * (-ERR_STORE_BUSY when another writer holds the database, -ERR_STORE
 * otherwise) and db_failure classifies it, so that the store can tell a
 * failing medium (full disk, I/O error, lost server) from one bad statement.
 */
#ifndef ENGINE_DB_H
#define ENGINE_DB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"

enum db_kind { DB_SQLITE, DB_POSTGRESQL };

enum db_step_result { DB_DONE = 0, DB_ROW = 1, DB_ERROR = -1 };

/* What the last failure of a connection was. */
enum db_failure {
    DB_FAIL_NONE,
    DB_FAIL_BUSY,       /* another writer: retry later */
    DB_FAIL_CONSTRAINT, /* a unique, check or foreign key constraint */
    DB_FAIL_MEDIUM,     /* full disk, I/O, corruption, the server gone: not this statement's */
    DB_FAIL_OTHER,
};

struct db;
struct db_stmt;

/* 'target' is a file path (SQLite, created if missing unless read_only) or
 * a libpq connection URI, "postgresql://..." or "postgres://...". */
bool db_is_postgresql(const char *target);
/* 'target' fit for a log line: a URI's password (user:PASSWORD@, or a
 * password= parameter) as "***"; 'out' of 'size' bytes, always terminated. */
void db_target_shown(const char *target, char *out, size_t size);
int db_open(const char *target, bool read_only, struct db **out, struct err_detail *why);
void db_close(struct db *db); /* finalizes nothing: close every statement first */
enum db_kind db_kind(const struct db *db);

/* Run SQL without parameters or rows (several statements, ';'-separated). */
int db_exec(struct db *db, const char *sql);

/* 'sql' is copied. */
int db_prepare(struct db *db, const char *sql, struct db_stmt **out);
void db_finalize(struct db_stmt *s); /* NULL is fine */

/* Parameters are numbered from 1; text is borrowed until the statement is
 * reset (NULL binds SQL NULL). */
void db_bind_int64(struct db_stmt *s, int i, int64_t v);
void db_bind_double(struct db_stmt *s, int i, double v);
void db_bind_text(struct db_stmt *s, int i, const char *text);
void db_bind_text_n(struct db_stmt *s, int i, const char *text, size_t len);
void db_bind_null(struct db_stmt *s, int i);

int db_step(struct db_stmt *s);

/* Columns of the current row, numbered from 0. Text is NULL for SQL NULL. */
bool db_column_null(struct db_stmt *s, int col);
int64_t db_column_int64(struct db_stmt *s, int col);
double db_column_double(struct db_stmt *s, int col);
const char *db_column_text(struct db_stmt *s, int col);
size_t db_column_bytes(struct db_stmt *s, int col);

/* End the statement's rows and clear its parameters. */
void db_reset(struct db_stmt *s);

/* After a DB_FAIL_MEDIUM: connect again (PostgreSQL; SQLite has nothing to
 * do). Whatever transaction was open is gone; statements are prepared again
 * as they are next stepped. 0 or DB_ERROR. */
int db_reconnect(struct db *db);

/* PostgreSQL: wait up to timeout_ms for notifications on the channels the
 * connection LISTENs to (db_exec "LISTEN name"), consuming every one that
 * came: their number, 0 when none came, DB_ERROR when the connection is
 * lost (or on SQLite, which has none). */
int db_wait_notified(struct db *db, int timeout_ms);

/* Rows changed by the last INSERT, UPDATE or DELETE stepped on 'db'. */
int64_t db_changes(struct db *db);

/* Whether a transaction is open on the connection. */
bool db_in_transaction(struct db *db);

/* The last failure: its class, and as an err_detail prefixed "what: ". */
enum db_failure db_failure(struct db *db);
int db_error(struct db *db, struct err_detail *why, const char *what);
const char *db_message(struct db *db);

#endif
