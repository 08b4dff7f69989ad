/* engine/db_pg.c: db.h over PostgreSQL, through libpq's blocking calls (the
 * connection's thread waits for the server; see db.h). Each statement is
 * prepared on the server under a name of its own, again after a reconnect;
 * values go and come as text. */
#include <libpq-fe.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db_driver.h"

/* The protocol's limit (a 16-bit count); a multi-row INSERT may use many. */
#define PG_PARAMS_MAX 65535

struct pg_db {
    struct db head;
    PGconn *conn;
    unsigned generation; /* of the server connection: +1 at each reconnect */
    unsigned next_name;
    int64_t changes;
};

struct pg_stmt {
    struct db_stmt head;
    char name[16];
    char *sql;         /* owned: with $N parameters */
    unsigned prepared; /* the connection generation it is prepared in, 0: not */
    int n_params;
    char **values; /* owned: n_params owned copies, NULL for SQL NULL */
    PGresult *res;
    int row, rows; /* the next row to step to; rows of res */
};

static struct pg_db *pg(struct db *db)
{
    return (struct pg_db *)db;
}

static struct pg_stmt *st(struct db_stmt *s)
{
    return (struct pg_stmt *)s;
}

/* SQLSTATE classes: https://www.postgresql.org/docs/15/errcodes-appendix.html */
static enum db_failure classify(const PGresult *res, PGconn *conn)
{
    const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
    if (PQstatus(conn) == CONNECTION_BAD || !state)
        return DB_FAIL_MEDIUM;
    if (!strcmp(state, "40001") || !strcmp(state, "40P01") || !strcmp(state, "55P03"))
        return DB_FAIL_BUSY;
    if (!strncmp(state, "23", 2))
        return DB_FAIL_CONSTRAINT;
    if (!strncmp(state, "08", 2) || !strncmp(state, "53", 2) || !strncmp(state, "57", 2) ||
        !strncmp(state, "58", 2) || !strcmp(state, "XX001") || !strcmp(state, "XX002"))
        return DB_FAIL_MEDIUM;
    return DB_FAIL_OTHER;
}

static int fail_res(struct db *db, PGresult *res)
{
    PGconn *conn = pg(db)->conn;
    const char *msg = res ? PQresultErrorMessage(res) : "";
    if (!*msg)
        msg = PQerrorMessage(conn);
    char text[ERR_DETAIL_MAX];
    snprintf(text, sizeof text, "%s", msg);
    size_t n = strlen(text);
    while (n && (text[n - 1] == '\n' || text[n - 1] == ' '))
        text[--n] = '\0';
    db__fail(db, classify(res, conn), "%s", text);
    PQclear(res);
    return DB_ERROR;
}

/* SQLite's text to PostgreSQL's, outside quotes, identifiers and comments:
 * ?N to $N (*n_params the highest N), and "INDEXED BY name " dropped (a hint
 * to SQLite's planner that PostgreSQL plans without). */
static char *dollar_params(const char *sql, int *n_params)
{
    size_t len = strlen(sql);
    char *out = malloc(len + 1), *o = out;
    if (!out)
        return NULL;
    *n_params = 0;
    for (const char *p = sql; *p;) {
        if (*p == '\'' || *p == '"') {
            char q = *p;
            *o++ = *p++;
            while (*p && *p != q)
                *o++ = *p++;
            if (*p)
                *o++ = *p++;
        } else if (p[0] == '-' && p[1] == '-') {
            while (*p && *p != '\n')
                *o++ = *p++;
        } else if (!strncmp(p, " INDEXED BY ", 12)) {
            p += 12;
            p += strspn(p, "abcdefghijklmnopqrstuvwxyz_0123456789");
        } else if (*p == '?' && p[1] >= '0' && p[1] <= '9') {
            *o++ = '$';
            p++;
            int n = 0;
            while (*p >= '0' && *p <= '9') {
                n = n * 10 + (*p - '0');
                *o++ = *p++;
            }
            if (n > *n_params)
                *n_params = n;
        } else {
            *o++ = *p++;
        }
    }
    *o = '\0';
    return out;
}

static int pg_open(const char *target, bool read_only, struct db **out, struct err_detail *why)
{
    struct pg_db *d = calloc(1, sizeof *d);
    if (!d)
        return err_set(why, -ERR_NOMEM, "out of memory");
    d->head.driver = &db_pg_driver;
    /* The URI's own settings win over these defaults: no connect waits
     * long for a server that is gone; the server's views name ltcd. */
    static const char *const keys[] = {"connect_timeout", "application_name", "dbname", NULL};
    const char *const values[] = {"5", "ltcd", target, NULL};
    d->conn = PQconnectdbParams(keys, values, 1);
    if (!d->conn || PQstatus(d->conn) != CONNECTION_OK) {
        const char *msg = d->conn ? PQerrorMessage(d->conn) : "out of memory";
        int rc = err_set(why, -ERR_STORE, "cannot connect to PostgreSQL: %.*s",
                         (int)strcspn(msg, "\n"), msg);
        PQfinish(d->conn);
        free(d);
        return rc;
    }
    d->generation = 1;
    const char *setup = read_only ? "SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY;"
                                    " SET client_min_messages = warning"
                                  : "SET client_min_messages = warning";
    PGresult *res = PQexec(d->conn, setup);
    if (PQresultStatus(res) != PGRES_COMMAND_OK) {
        int rc = err_set(why, -ERR_STORE, "PostgreSQL: %s", PQresultErrorMessage(res));
        PQclear(res);
        PQfinish(d->conn);
        free(d);
        return rc;
    }
    PQclear(res);
    *out = &d->head;
    return 0;
}

static void pg_close(struct db *db)
{
    PQfinish(pg(db)->conn);
    free(db);
}

static int pg_exec(struct db *db, const char *sql)
{
    PGresult *res = PQexec(pg(db)->conn, sql);
    ExecStatusType s = PQresultStatus(res);
    if (s != PGRES_COMMAND_OK && s != PGRES_TUPLES_OK)
        return fail_res(db, res);
    PQclear(res);
    return 0;
}

static int pg_prepare(struct db *db, const char *sql, struct db_stmt **out)
{
    struct pg_stmt *s = calloc(1, sizeof *s);
    if (!s)
        return db__fail(db, DB_FAIL_OTHER, "out of memory");
    s->head.db = db;
    s->sql = dollar_params(sql, &s->n_params);
    if (s->sql && s->n_params <= PG_PARAMS_MAX && s->n_params)
        s->values = calloc((size_t)s->n_params, sizeof *s->values);
    if (!s->sql || s->n_params > PG_PARAMS_MAX || (s->n_params && !s->values)) {
        const char *what =
            s->sql && s->n_params > PG_PARAMS_MAX ? "too many parameters" : "out of memory";
        free(s->values);
        free(s->sql);
        free(s);
        return db__fail(db, DB_FAIL_OTHER, "statement: %s", what);
    }
    snprintf(s->name, sizeof s->name, "s%u", ++pg(db)->next_name);
    *out = &s->head;
    return 0;
}

static void clear_values(struct pg_stmt *s)
{
    for (int i = 0; i < s->n_params; i++) {
        free(s->values[i]);
        s->values[i] = NULL;
    }
}

static void pg_reset(struct db_stmt *x)
{
    struct pg_stmt *s = st(x);
    PQclear(s->res);
    s->res = NULL;
    s->row = s->rows = 0;
    clear_values(s);
}

static void pg_finalize(struct db_stmt *x)
{
    struct pg_stmt *s = st(x);
    pg_reset(x);
    struct pg_db *d = pg(x->db);
    if (s->prepared && s->prepared == d->generation && PQstatus(d->conn) == CONNECTION_OK) {
        char sql[40];
        snprintf(sql, sizeof sql, "DEALLOCATE %s", s->name);
        PQclear(PQexec(d->conn, sql));
    }
    free(s->values);
    free(s->sql);
    free(s);
}

static void set_value(struct db_stmt *x, int i, char *v)
{
    struct pg_stmt *s = st(x);
    if (i < 1 || i > s->n_params) {
        free(v);
        return;
    }
    free(s->values[i - 1]);
    s->values[i - 1] = v;
}

static void pg_bind_int64(struct db_stmt *s, int i, int64_t v)
{
    char *t = malloc(24);
    if (t)
        snprintf(t, 24, "%lld", (long long)v);
    set_value(s, i, t);
}

static void pg_bind_double(struct db_stmt *s, int i, double v)
{
    char *t = malloc(32);
    if (t)
        snprintf(t, 32, "%.17g", v);
    set_value(s, i, t);
}

static void pg_bind_text_n(struct db_stmt *s, int i, const char *text, size_t len)
{
    char *t = malloc(len + 1);
    if (t) {
        memcpy(t, text, len);
        t[len] = '\0';
    }
    set_value(s, i, t);
}

static void pg_bind_null(struct db_stmt *s, int i)
{
    set_value(s, i, NULL);
}

static int pg_step(struct db_stmt *x)
{
    struct pg_stmt *s = st(x);
    struct pg_db *d = pg(x->db);
    if (s->res) {
        if (s->row < s->rows)
            return s->row++, DB_ROW;
        return DB_DONE;
    }
    if (s->prepared != d->generation) {
        PGresult *p = PQprepare(d->conn, s->name, s->sql, 0, NULL);
        if (PQresultStatus(p) != PGRES_COMMAND_OK)
            return fail_res(x->db, p);
        PQclear(p);
        s->prepared = d->generation;
    }
    PGresult *res = PQexecPrepared(d->conn, s->name, s->n_params, (const char *const *)s->values,
                                   NULL, NULL, 0);
    ExecStatusType status = PQresultStatus(res);
    if (status == PGRES_COMMAND_OK) {
        const char *n = PQcmdTuples(res);
        d->changes = *n ? strtoll(n, NULL, 10) : 0;
        s->res = res;
        return DB_DONE;
    }
    if (status != PGRES_TUPLES_OK)
        return fail_res(x->db, res);
    const char *n = PQcmdTuples(res);
    d->changes = *n ? strtoll(n, NULL, 10) : 0; /* INSERT ... RETURNING counts its rows */
    s->res = res;
    s->rows = PQntuples(res);
    s->row = 0;
    if (s->row < s->rows)
        return s->row++, DB_ROW;
    return DB_DONE;
}

/* The current row: the one the last step moved to. */
static const char *value(struct db_stmt *x, int col)
{
    struct pg_stmt *s = st(x);
    if (!s->res || s->row < 1 || col >= PQnfields(s->res) || PQgetisnull(s->res, s->row - 1, col))
        return NULL;
    return PQgetvalue(s->res, s->row - 1, col);
}

static bool pg_column_null(struct db_stmt *s, int col)
{
    return value(s, col) == NULL;
}

static int64_t pg_column_int64(struct db_stmt *s, int col)
{
    const char *v = value(s, col);
    return v ? strtoll(v, NULL, 10) : 0;
}

static double pg_column_double(struct db_stmt *s, int col)
{
    const char *v = value(s, col);
    return v ? strtod(v, NULL) : 0;
}

static const char *pg_column_text(struct db_stmt *s, int col)
{
    return value(s, col);
}

static size_t pg_column_bytes(struct db_stmt *x, int col)
{
    struct pg_stmt *s = st(x);
    return value(x, col) ? (size_t)PQgetlength(s->res, s->row - 1, col) : 0;
}

static int pg_reconnect(struct db *db)
{
    struct pg_db *d = pg(db);
    PQreset(d->conn);
    if (PQstatus(d->conn) != CONNECTION_OK)
        return fail_res(db, NULL);
    d->generation++; /* every statement is prepared again when next stepped */
    PGresult *res = PQexec(d->conn, "SET client_min_messages = warning");
    if (PQresultStatus(res) != PGRES_COMMAND_OK)
        return fail_res(db, res);
    PQclear(res);
    return 0;
}

static int pg_wait_notified(struct db *db, int timeout_ms)
{
    PGconn *conn = pg(db)->conn;
    struct pollfd p = {.fd = PQsocket(conn), .events = POLLIN};
    if (p.fd < 0 || poll(&p, 1, timeout_ms) < 0 || !PQconsumeInput(conn))
        return fail_res(db, NULL);
    int n = 0;
    for (PGnotify *note; (note = PQnotifies(conn)); n++)
        PQfreemem(note);
    return n;
}

static int64_t pg_changes(struct db *db)
{
    return pg(db)->changes;
}

static bool pg_in_transaction(struct db *db)
{
    PGTransactionStatusType t = PQtransactionStatus(pg(db)->conn);
    return t == PQTRANS_INTRANS || t == PQTRANS_INERROR || t == PQTRANS_ACTIVE;
}

const struct db_driver db_pg_driver = {
    .kind = DB_POSTGRESQL,
    .open = pg_open,
    .close = pg_close,
    .exec = pg_exec,
    .prepare = pg_prepare,
    .finalize = pg_finalize,
    .bind_int64 = pg_bind_int64,
    .bind_double = pg_bind_double,
    .bind_text_n = pg_bind_text_n,
    .bind_null = pg_bind_null,
    .step = pg_step,
    .column_null = pg_column_null,
    .column_int64 = pg_column_int64,
    .column_double = pg_column_double,
    .column_text = pg_column_text,
    .column_bytes = pg_column_bytes,
    .reset = pg_reset,
    .reconnect = pg_reconnect,
    .changes = pg_changes,
    .in_transaction = pg_in_transaction,
    .wait_notified = pg_wait_notified,
};
