/* engine/store_pipeline.c: the SQL behind store_pipeline.h. */
#include "store_pipeline.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "money.h"
#include "store_internal.h"

#define PIPELINE_STMTS(XX)                                                                         \
    /* In the pipeline: the row, from the instance's own columns; out: none.                       \
     * ?7: only while the instance's last_seq is that. */                                          \
    XX(fc_put, "INSERT INTO forecasts(id, region, office, customer, month, value, weighted,"       \
               " category, rules) SELECT id, region, office, coalesce(customer, ''), ?2,"          \
               " CAST(?3 AS BIGINT), CAST(?4 AS BIGINT), ?5, ?6 FROM instances WHERE id=?1"        \
               " AND (last_seq=?7 OR ?7 IS NULL)"                                                  \
               " ON CONFLICT(id) DO UPDATE SET month=excluded.month, value=excluded.value,"        \
               " weighted=excluded.weighted, category=excluded.category, rules=excluded.rules")    \
    XX(fc_drop, "DELETE FROM forecasts WHERE id=?1 AND ("                                          \
                " (SELECT last_seq FROM instances WHERE id=?1)=?2 OR ?2 IS NULL)")                 \
    XX(fc_stale, "SELECT f.id, i.doc, i.last_seq FROM forecasts f INDEXED BY forecasts_rules"      \
                 " JOIN instances i ON i.id = f.id"                                                \
                 " WHERE f.region=?1 AND (f.rules < ?2 OR f.rules > ?2)")                          \
    XX(fc_any, "SELECT 1 FROM forecasts INDEXED BY forecasts_rules"                                \
               " WHERE region=?1 AND (rules < ?2 OR rules > ?2) LIMIT 1")                          \
    XX(sums, "SELECT office, customer, category, sum(n), sum(value_hi), sum(value_lo),"            \
             " sum(weighted_hi), sum(weighted_lo)"                                                 \
             " FROM pipeline_sums WHERE month >= ?1 AND month < ?2 AND n > 0"                      \
             " GROUP BY office, customer, category")                                               \
    XX(ledger, "SELECT office, customer, sum(amount_hi), sum(amount_lo) FROM ledger_customers"     \
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

static const struct store_sql pipeline_table = {STORE_TABLE_PIPELINE, P__COUNT, pipeline_sql, NULL};

/* The statement, prepared on first use (store__stmt). */
static struct db_stmt *stmt(struct store *st, enum pipeline_stmt which, struct err_detail *why)
{
    return store__stmt(st, &pipeline_table, which, why);
}

static const char *col(struct db_stmt *s, int i)
{
    const char *v = db_column_text(s, i);
    return v ? v : "";
}

/* Step through the rows; 'row' returns non-zero to stop (that value). */
typedef int row_fn(struct db_stmt *s, void *each, void *ctx);
static int rows(struct store *st, struct db_stmt *s, row_fn *row, void *each, void *ctx,
                struct err_detail *why, const char *what)
{
    int rc = 0, step;
    while (!rc && (step = db_step(s)) == DB_ROW)
        rc = row(s, each, ctx);
    if (!rc && step != DB_DONE)
        rc = store__fail(st, why, what);
    db_reset(s);
    return rc;
}

int store_forecast_set(struct store *st, const struct store_forecast *f, struct err_detail *why)
{
    struct db_stmt *s = stmt(st, f->month ? P_fc_put : P_fc_drop, why);
    if (!s)
        return why ? why->code : -ERR_STORE;
    db_bind_int64(s, 1, f->id);
    if (f->month) {
        db_bind_text(s, 2, f->month);
        db_bind_int64(s, 3, f->value);
        db_bind_int64(s, 4, f->weighted);
        db_bind_text(s, 5, f->category);
        db_bind_text(s, 6, f->rules);
        if (f->if_seq)
            db_bind_int64(s, 7, f->if_seq);
    } else if (f->if_seq)
        db_bind_int64(s, 2, f->if_seq);
    int rc = db_step(s) == DB_DONE ? 0 : store__fail(st, why, "forecast");
    db_reset(s);
    return rc;
}

static int row_stale(struct db_stmt *s, void *each, void *ctx)
{
    return ((store_stale_cb *)each)(db_column_int64(s, 0), col(s, 1), db_column_int64(s, 2), ctx);
}

int store_forecast_stale(struct store *st, const char *region, const char *rules,
                         store_stale_cb *each, void *ctx, struct err_detail *why)
{
    struct db_stmt *s = stmt(st, P_fc_stale, why);
    if (!s)
        return why ? why->code : -ERR_STORE;
    db_bind_text(s, 1, region);
    db_bind_text(s, 2, rules);
    return rows(st, s, row_stale, (void *)each, ctx, why, "stale forecasts");
}

int store_forecast_any_stale(struct store *st, const char *region, const char *rules, bool *any,
                             struct err_detail *why)
{
    struct db_stmt *s = stmt(st, P_fc_any, why);
    if (!s)
        return why ? why->code : -ERR_STORE;
    db_bind_text(s, 1, region);
    db_bind_text(s, 2, rules);
    int step = db_step(s), rc = 0;
    *any = step == DB_ROW;
    if (step != DB_ROW && step != DB_DONE)
        rc = store__fail(st, why, "stale forecasts");
    db_reset(s);
    return rc;
}

static int row_sum(struct db_stmt *s, void *each, void *ctx)
{
    return ((store_pipeline_cb *)each)(col(s, 0), col(s, 1), col(s, 2), db_column_int64(s, 3),
                                       money_join(db_column_int64(s, 4), db_column_int64(s, 5)),
                                       money_join(db_column_int64(s, 6), db_column_int64(s, 7)),
                                       ctx);
}

int store_pipeline_sums(struct store *st, const char *from, const char *to, store_pipeline_cb *each,
                        void *ctx, struct err_detail *why)
{
    struct db_stmt *s = stmt(st, P_sums, why);
    if (!s)
        return why ? why->code : -ERR_STORE;
    db_bind_text(s, 1, from);
    db_bind_text(s, 2, to);
    return rows(st, s, row_sum, (void *)each, ctx, why, "pipeline sums");
}

static int row_ledger(struct db_stmt *s, void *each, void *ctx)
{
    return ((store_customer_total_cb *)each)(
        col(s, 0), col(s, 1), money_join(db_column_int64(s, 2), db_column_int64(s, 3)), ctx);
}

int store_ledger_customers(struct store *st, const char *kind, const char *from, const char *to,
                           store_customer_total_cb *each, void *ctx, struct err_detail *why)
{
    struct db_stmt *s = stmt(st, P_ledger, why);
    if (!s)
        return why ? why->code : -ERR_STORE;
    db_bind_text(s, 1, kind);
    db_bind_text(s, 2, from);
    db_bind_text(s, 3, to);
    return rows(st, s, row_ledger, (void *)each, ctx, why, "ledger by customer");
}

static int row_customer(struct db_stmt *s, void *each, void *ctx)
{
    return ((store_customer_office_cb *)each)(col(s, 0), col(s, 1), ctx);
}

int store_customer_offices(struct store *st, store_customer_office_cb *each, void *ctx,
                           struct err_detail *why)
{
    struct db_stmt *s = stmt(st, P_customers, why);
    if (!s)
        return why ? why->code : -ERR_STORE;
    return rows(st, s, row_customer, (void *)each, ctx, why, "customers");
}

int store_customer_office(struct store *st, const char *id, char *office, size_t size,
                          struct err_detail *why)
{
    struct db_stmt *s = stmt(st, P_customer_office, why);
    if (!s)
        return why ? why->code : -ERR_STORE;
    db_bind_text(s, 1, id);
    office[0] = 0;
    int step = db_step(s), rc = 0;
    if (step == DB_ROW)
        snprintf(office, size, "%s", col(s, 0));
    else if (step != DB_DONE)
        rc = store__fail(st, why, "customer");
    db_reset(s);
    return rc;
}
