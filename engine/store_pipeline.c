/* engine/store_pipeline.c: the SQL behind store_pipeline.h. */
#include "store_pipeline.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store_internal.h"

#define PIPELINE_STMTS(XX)                                                                         \
    /* In the pipeline: the row, from the instance's own columns; out: none.
     * ?7: only while the instance's last_seq is that. */                                       \
    XX(fc_put, "INSERT INTO forecasts(id, region, office, customer, month, value, weighted,"       \
               " category, rules) SELECT id, region, office, coalesce(customer, ''), ?2, ?3, ?4," \
               " ?5, ?6 FROM instances WHERE id=?1 AND (?7 IS NULL OR last_seq=?7)"              \
               " ON CONFLICT(id) DO UPDATE SET month=excluded.month, value=excluded.value,"        \
               " weighted=excluded.weighted, category=excluded.category, rules=excluded.rules")    \
    XX(fc_drop, "DELETE FROM forecasts WHERE id=?1 AND (?2 IS NULL OR"                             \
                " (SELECT last_seq FROM instances WHERE id=?1)=?2)")                               \
    XX(fc_stale, "SELECT f.id, i.doc, i.last_seq FROM forecasts f INDEXED BY forecasts_rules"      \
                 " JOIN instances i ON i.id = f.id"                                                \
                 " WHERE f.region=?1 AND (f.rules < ?2 OR f.rules > ?2)")                          \
    XX(fc_any, "SELECT 1 FROM forecasts INDEXED BY forecasts_rules"                                \
               " WHERE region=?1 AND (rules < ?2 OR rules > ?2) LIMIT 1")                          \
    XX(sums, "SELECT office, customer, category, sum(n), sum(value), sum(weighted)"                \
             " FROM pipeline_sums WHERE month >= ?1 AND month < ?2 AND n > 0"                      \
             " GROUP BY office, customer, category")                                               \
    XX(ledger, "SELECT office, customer, sum(amount) FROM ledger_customers"                        \
               " WHERE kind=?1 AND month >= ?2 AND month < ?3 GROUP BY office, customer")          \
    XX(customers, "SELECT id, office FROM customers ORDER BY office, id")                          \
    XX(customer_office, "SELECT office FROM customers WHERE id=?1")

enum pipeline_stmt {
#define XX(name, sql) P_##name,
    PIPELINE_STMTS(XX)
#undef XX
        P__COUNT
};

static const char *const pipeline_sql[] = {
#define XX(name, sql) sql,
    PIPELINE_STMTS(XX)
#undef XX
};

struct pipeline_stmts {
    sqlite3_stmt *s[P__COUNT];
};

void store_pipeline__close(struct store *st)
{
    struct pipeline_stmts *p = *store__pipeline_slot(st);
    if (!p)
        return;
    for (int i = 0; i < P__COUNT; i++)
        sqlite3_finalize(p->s[i]);
    free(p);
    *store__pipeline_slot(st) = NULL;
}

static int fail(struct store *st, struct err_detail *why, const char *what)
{
    int rc = sqlite3_errcode(store__db(st)) & 0xff;
    return err_set(why, rc == SQLITE_BUSY || rc == SQLITE_LOCKED ? -ERR_STORE_BUSY : -ERR_STORE,
                   "%s: %s", what, sqlite3_errmsg(store__db(st)));
}

/* The statement, prepared once, reset and unbound. */
static sqlite3_stmt *stmt(struct store *st, enum pipeline_stmt which, struct err_detail *why)
{
    struct pipeline_stmts **slot = (struct pipeline_stmts **)store__pipeline_slot(st);
    if (!*slot && !(*slot = calloc(1, sizeof **slot))) {
        err_set(why, -ERR_NOMEM, "out of memory");
        return NULL;
    }
    sqlite3_stmt **s = &(*slot)->s[which];
    if (!*s && sqlite3_prepare_v3(store__db(st), pipeline_sql[which], -1, SQLITE_PREPARE_PERSISTENT,
                                  s, NULL) != SQLITE_OK) {
        fail(st, why, "prepare");
        *s = NULL;
    }
    if (*s) {
        sqlite3_reset(*s);
        sqlite3_clear_bindings(*s);
    }
    return *s;
}

static void text(sqlite3_stmt *s, int i, const char *v)
{
    if (v)
        sqlite3_bind_text(s, i, v, -1, SQLITE_TRANSIENT);
    else
        sqlite3_bind_null(s, i);
}

static const char *col(sqlite3_stmt *s, int i)
{
    const char *v = (const char *)sqlite3_column_text(s, i);
    return v ? v : "";
}

/* Step through the rows; 'row' returns non-zero to stop (that value). */
typedef int row_fn(sqlite3_stmt *s, void *each, void *ctx);
static int rows(struct store *st, sqlite3_stmt *s, row_fn *row, void *each, void *ctx,
                struct err_detail *why, const char *what)
{
    int rc = 0, step;
    while (!rc && (step = sqlite3_step(s)) == SQLITE_ROW)
        rc = row(s, each, ctx);
    if (!rc && step != SQLITE_DONE)
        rc = fail(st, why, what);
    sqlite3_reset(s);
    return rc;
}

int store_forecast_set(struct store *st, const struct store_forecast *f, struct err_detail *why)
{
    sqlite3_stmt *s = stmt(st, f->month ? P_fc_put : P_fc_drop, why);
    if (!s)
        return why ? why->code : -ERR_STORE;
    sqlite3_bind_int64(s, 1, f->id);
    if (f->month) {
        text(s, 2, f->month);
        sqlite3_bind_int64(s, 3, f->value);
        sqlite3_bind_int64(s, 4, f->weighted);
        text(s, 5, f->category);
        text(s, 6, f->rules);
        if (f->if_seq)
            sqlite3_bind_int64(s, 7, f->if_seq);
    } else if (f->if_seq)
        sqlite3_bind_int64(s, 2, f->if_seq);
    int rc = sqlite3_step(s) == SQLITE_DONE ? 0 : fail(st, why, "forecast");
    sqlite3_reset(s);
    return rc;
}

static int row_stale(sqlite3_stmt *s, void *each, void *ctx)
{
    return ((store_stale_cb *)each)(sqlite3_column_int64(s, 0), col(s, 1),
                                    sqlite3_column_int64(s, 2), ctx);
}

int store_forecast_stale(struct store *st, const char *region, const char *rules,
                         store_stale_cb *each, void *ctx, struct err_detail *why)
{
    sqlite3_stmt *s = stmt(st, P_fc_stale, why);
    if (!s)
        return why ? why->code : -ERR_STORE;
    text(s, 1, region);
    text(s, 2, rules);
    return rows(st, s, row_stale, (void *)each, ctx, why, "stale forecasts");
}

int store_forecast_any_stale(struct store *st, const char *region, const char *rules, bool *any,
                            struct err_detail *why)
{
    sqlite3_stmt *s = stmt(st, P_fc_any, why);
    if (!s)
        return why ? why->code : -ERR_STORE;
    text(s, 1, region);
    text(s, 2, rules);
    int step = sqlite3_step(s), rc = 0;
    *any = step == SQLITE_ROW;
    if (step != SQLITE_ROW && step != SQLITE_DONE)
        rc = fail(st, why, "stale forecasts");
    sqlite3_reset(s);
    return rc;
}

static int row_sum(sqlite3_stmt *s, void *each, void *ctx)
{
    return ((store_pipeline_cb *)each)(col(s, 0), col(s, 1), col(s, 2), sqlite3_column_int64(s, 3),
                                       sqlite3_column_int64(s, 4), sqlite3_column_int64(s, 5), ctx);
}

int store_pipeline_sums(struct store *st, const char *from, const char *to, store_pipeline_cb *each,
                        void *ctx, struct err_detail *why)
{
    sqlite3_stmt *s = stmt(st, P_sums, why);
    if (!s)
        return why ? why->code : -ERR_STORE;
    text(s, 1, from);
    text(s, 2, to);
    return rows(st, s, row_sum, (void *)each, ctx, why, "pipeline sums");
}

static int row_ledger(sqlite3_stmt *s, void *each, void *ctx)
{
    return ((store_customer_total_cb *)each)(col(s, 0), col(s, 1), sqlite3_column_int64(s, 2), ctx);
}

int store_ledger_customers(struct store *st, const char *kind, const char *from, const char *to,
                           store_customer_total_cb *each, void *ctx, struct err_detail *why)
{
    sqlite3_stmt *s = stmt(st, P_ledger, why);
    if (!s)
        return why ? why->code : -ERR_STORE;
    text(s, 1, kind);
    text(s, 2, from);
    text(s, 3, to);
    return rows(st, s, row_ledger, (void *)each, ctx, why, "ledger by customer");
}

static int row_customer(sqlite3_stmt *s, void *each, void *ctx)
{
    return ((store_customer_office_cb *)each)(col(s, 0), col(s, 1), ctx);
}

int store_customer_offices(struct store *st, store_customer_office_cb *each, void *ctx,
                           struct err_detail *why)
{
    sqlite3_stmt *s = stmt(st, P_customers, why);
    if (!s)
        return why ? why->code : -ERR_STORE;
    return rows(st, s, row_customer, (void *)each, ctx, why, "customers");
}

int store_customer_office(struct store *st, const char *id, char *office, size_t size,
                          struct err_detail *why)
{
    sqlite3_stmt *s = stmt(st, P_customer_office, why);
    if (!s)
        return why ? why->code : -ERR_STORE;
    text(s, 1, id);
    office[0] = 0;
    int step = sqlite3_step(s), rc = 0;
    if (step == SQLITE_ROW)
        snprintf(office, size, "%s", col(s, 0));
    else if (step != SQLITE_DONE)
        rc = fail(st, why, "customer");
    sqlite3_reset(s);
    return rc;
}
