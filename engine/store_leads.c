/* engine/store_leads.c: the SQL of lead management behind store_leads.h. */
#include "store_leads.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store_internal.h"

#define QUEUE_COLS "id, stage, region, office, temperature, doc, last_seq, created_at, updated_at"

/* Every statement, prepared on first use and kept until store_close. */
#define LEADS_STMTS(XX)                                                                            \
    XX(person_put, "INSERT INTO people(id, region, office, active, doc, updated_at, updated_by)"   \
                   " VALUES (?1,?2,?3,?4,?5,?6,?7) ON CONFLICT(id) DO UPDATE SET"                  \
                   " region=excluded.region, office=excluded.office, active=excluded.active,"      \
                   " doc=excluded.doc, updated_at=excluded.updated_at,"                            \
                   " updated_by=excluded.updated_by")                                              \
    XX(person_get, "SELECT id, region, office, active, -1, doc, updated_at, updated_by"            \
                   " FROM people WHERE id=?1")                                                     \
    XX(person_list, "SELECT id, region, office, active, -1, doc, updated_at, updated_by"           \
                    " FROM people WHERE (region=?1 OR ?1 IS NULL) AND (office=?2 OR ?2 IS NULL)"   \
                    " AND id > ?3 ORDER BY id LIMIT ?4")                                           \
    XX(customer_put, "INSERT INTO customers(id, region, office, credit_limit, doc, updated_at,"    \
                     " updated_by) VALUES (?1,?2,?3,?4,?5,?6,?7) ON CONFLICT(id) DO UPDATE SET"    \
                     " region=excluded.region, office=excluded.office,"                            \
                     " credit_limit=excluded.credit_limit, doc=excluded.doc,"                      \
                     " updated_at=excluded.updated_at, updated_by=excluded.updated_by")            \
    XX(customer_get, "SELECT id, region, office, 1, coalesce(credit_limit, -1), doc, updated_at,"  \
                     " updated_by FROM customers WHERE id=?1")                                     \
    XX(customer_list, "SELECT id, region, office, 1, coalesce(credit_limit, -1), doc,"             \
                      " updated_at, updated_by FROM customers WHERE (region=?1 OR ?1 IS NULL)"     \
                      " AND (office=?2 OR ?2 IS NULL) AND id > ?3 ORDER BY id LIMIT ?4")           \
    XX(candidates, "SELECT p.id, p.doc, coalesce(l.open_leads, 0) FROM people p"                   \
                   " LEFT JOIN person_load l ON l.person = p.id"                                   \
                   " WHERE p.office=?1 AND p.active=1 ORDER BY p.id")                              \
    XX(act_insert, "INSERT INTO activities(person, region, office, customer, kind, at,"            \
                   " budget_year, doc, created_at, created_by)"                                    \
                   " VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10) RETURNING id")                        \
    XX(act_list, "SELECT id, person, region, office, customer, kind, at, budget_year, doc,"        \
                 " created_at, created_by FROM activities WHERE id > ?1"                           \
                 " AND (person=?2 OR ?2 IS NULL) AND (customer=?3 OR ?3 IS NULL)"                  \
                 " AND (region=?4 OR ?4 IS NULL) AND (office=?5 OR ?5 IS NULL)"                    \
                 " AND (at >= ?6 OR ?6 IS NULL) AND (at <= ?7 OR ?7 IS NULL)"                      \
                 " ORDER BY id LIMIT ?8")                                                          \
    /* Visits by office, by region, or of all (hq): each on its index. */                          \
    XX(visits_office, "SELECT person, count(*) FROM activities INDEXED BY activities_office"       \
                      " WHERE office=?1 AND at >= ?2 AND at <= ?3 AND kind='visit'"                \
                      " GROUP BY person")                                                          \
    XX(visits_region, "SELECT person, count(*) FROM activities INDEXED BY activities_region"       \
                      " WHERE region=?1 AND at >= ?2 AND at <= ?3 AND kind='visit'"                \
                      " GROUP BY person")                                                          \
    XX(visits_all, "SELECT person, count(*) FROM activities WHERE CAST(?1 AS TEXT) IS NULL"        \
                   " AND at >= ?2"                                                                 \
                   " AND at <= ?3 AND kind='visit' GROUP BY person")                               \
    XX(budget, "SELECT min(at) FROM activities INDEXED BY activities_budget"                       \
               " WHERE kind='budget_table' AND customer=?1 AND budget_year=?2 AND at <= ?3")       \
    XX(review_next, "SELECT coalesce(max(id), 0) + 1 FROM reviews")                                \
    XX(review_insert, "INSERT INTO reviews(id, unit, held_at, doc, created_at, created_by)"        \
                      " VALUES (?1,?2,?3,?4,?5,?6)")                                               \
    XX(review_get, "SELECT doc, unit FROM reviews WHERE id=?1")                                    \
    /* The queue of an office, of a region, or of all (hq): each on its index. */                  \
    XX(queue_office, "SELECT " QUEUE_COLS " FROM instances INDEXED BY instances_review_office"     \
                     " WHERE office=?1 AND review_due IS NOT NULL AND review_due <= ?2"            \
                     " AND stage='lead' ORDER BY review_due, id LIMIT ?3")                         \
    XX(queue_region, "SELECT " QUEUE_COLS " FROM instances INDEXED BY instances_review_region"     \
                     " WHERE region=?1 AND review_due IS NOT NULL AND review_due <= ?2"            \
                     " AND stage='lead' ORDER BY review_due, id LIMIT ?3")                         \
    XX(queue_all,                                                                                  \
       "SELECT " QUEUE_COLS " FROM instances INDEXED BY instances_review_region"                   \
       " WHERE CAST(?1 AS TEXT) IS NULL AND review_due IS NOT NULL AND review_due <= ?2"           \
       " AND stage='lead' ORDER BY review_due, id LIMIT ?3")                                       \
    XX(credit, "SELECT credit_limit FROM customers WHERE id=?1")

enum leads_stmt {
#define XX(name, sql) S_##name,
    LEADS_STMTS(XX)
#undef XX
        S__COUNT
};

static const char *const leads_sql[] = {
#define XX(name, sql) sql,
    LEADS_STMTS(XX)
#undef XX
};

/* PostgreSQL's text where it differs: ids from a sequence nodes share. */
static const char *const leads_pg[S__COUNT] = {
    [S_review_next] = "SELECT nextval('review_ids')",
};

static const struct store_sql leads_table = {STORE_TABLE_LEADS, S__COUNT, leads_sql, leads_pg};

/* The statement, prepared on first use (store__stmt). */
static struct db_stmt *stmt(struct store *st, enum leads_stmt which, struct err_detail *why)
{
    return store__stmt(st, &leads_table, which, why);
}

typedef int row_fn(struct db_stmt *s, void *cb, void *ctx);

/* Each row to 'row' until it returns non-zero; *n counts the rows seen. */
static int rows(struct store *st, struct db_stmt *s, row_fn *row, void *cb, void *ctx, int *n,
                struct err_detail *why, const char *what)
{
    int rc, out = 0, seen = 0, stopped = 0;
    while ((rc = db_step(s)) == DB_ROW) {
        seen++;
        if ((stopped = row(s, cb, ctx)))
            break;
    }
    if (stopped) /* a callback stops only when it cannot hold the row */
        out = err_set(why, -ERR_NOMEM, "%s: out of memory", what);
    else if (rc != DB_ROW && rc != DB_DONE)
        out = store__fail(st, why, what);
    db_reset(s);
    if (n)
        *n = seen;
    return out;
}

/* --- people and customers ------------------------------------------------- */

static int party_put(struct store *st, enum leads_stmt which, const struct store_party *p,
                     struct err_detail *why)
{
    struct db_stmt *s = stmt(st, which, why);
    if (!s)
        return why->code;
    db_bind_text(s, 1, p->id);
    db_bind_text(s, 2, p->region);
    db_bind_text(s, 3, p->office);
    if (which == S_person_put)
        db_bind_int64(s, 4, p->active);
    else if (p->credit_limit >= 0)
        db_bind_int64(s, 4, p->credit_limit);
    else
        db_bind_null(s, 4);
    db_bind_text(s, 5, p->doc);
    db_bind_int64(s, 6, p->at_ms);
    db_bind_text(s, 7, p->by);
    return store__done(st, s, why, which == S_person_put ? "put person" : "put customer");
}

int store_person_put(struct store *st, const struct store_party *p, struct err_detail *why)
{
    return party_put(st, S_person_put, p, why);
}

int store_customer_put(struct store *st, const struct store_party *p, struct err_detail *why)
{
    return party_put(st, S_customer_put, p, why);
}

static int row_party(struct db_stmt *s, void *cb, void *ctx)
{
    struct store_party p = {
        .id = db_column_text(s, 0),
        .region = db_column_text(s, 1),
        .office = db_column_text(s, 2),
        .active = db_column_int64(s, 3) != 0,
        .credit_limit = db_column_int64(s, 4),
        .doc = db_column_text(s, 5),
        .at_ms = db_column_int64(s, 6),
        .by = db_column_text(s, 7),
    };
    return ((store_party_cb *)cb)(&p, ctx);
}

static int party_get(struct store *st, enum leads_stmt which, const char *id, store_party_cb *each,
                     void *ctx, struct err_detail *why)
{
    struct db_stmt *s = stmt(st, which, why);
    if (!s)
        return why->code;
    db_bind_text(s, 1, id);
    int n = 0, rc = rows(st, s, row_party, (void *)each, ctx, &n, why, "get");
    if (!rc && !n)
        rc = err_set(why, -ERR_NOT_FOUND, "%s %s not found",
                     which == S_person_get ? "person" : "customer", id);
    return rc;
}

int store_person_get(struct store *st, const char *id, store_party_cb *each, void *ctx,
                     struct err_detail *why)
{
    return party_get(st, S_person_get, id, each, ctx, why);
}

int store_customer_get(struct store *st, const char *id, store_party_cb *each, void *ctx,
                       struct err_detail *why)
{
    return party_get(st, S_customer_get, id, each, ctx, why);
}

static int party_list(struct store *st, enum leads_stmt which, const char *region,
                      const char *office, const char *after, int limit, store_party_cb *each,
                      void *ctx, struct err_detail *why)
{
    struct db_stmt *s = stmt(st, which, why);
    if (!s)
        return why->code;
    db_bind_text(s, 1, region);
    db_bind_text(s, 2, office);
    db_bind_text(s, 3, after ? after : "");
    db_bind_int64(s, 4, limit);
    return rows(st, s, row_party, (void *)each, ctx, NULL, why, "list");
}

int store_person_list(struct store *st, const char *region, const char *office, const char *after,
                      int limit, store_party_cb *each, void *ctx, struct err_detail *why)
{
    return party_list(st, S_person_list, region, office, after, limit, each, ctx, why);
}

int store_customer_list(struct store *st, const char *region, const char *office, const char *after,
                        int limit, store_party_cb *each, void *ctx, struct err_detail *why)
{
    return party_list(st, S_customer_list, region, office, after, limit, each, ctx, why);
}

static int row_candidate(struct db_stmt *s, void *cb, void *ctx)
{
    return ((store_candidate_cb *)cb)(db_column_text(s, 0), db_column_text(s, 1),
                                      db_column_int64(s, 2), ctx);
}

int store_candidates(struct store *st, const char *office, store_candidate_cb *each, void *ctx,
                     struct err_detail *why)
{
    struct db_stmt *s = stmt(st, S_candidates, why);
    if (!s)
        return why->code;
    db_bind_text(s, 1, office);
    return rows(st, s, row_candidate, (void *)each, ctx, NULL, why, "candidates");
}

int store_customer_credit(struct store *st, const char *id, bool *found, int64_t *limit,
                          struct err_detail *why)
{
    *found = false;
    struct db_stmt *s = stmt(st, S_credit, why);
    if (!s)
        return why->code;
    db_bind_text(s, 1, id);
    int rc = db_step(s), out = 0;
    if (rc == DB_ROW && !db_column_null(s, 0)) {
        *found = true;
        *limit = db_column_int64(s, 0);
    } else if (rc != DB_ROW && rc != DB_DONE) {
        out = store__fail(st, why, "customer credit");
    }
    db_reset(s);
    return out;
}

/* --- activities ----------------------------------------------------------- */

int store_activity_insert(struct store *st, const struct store_activity *a, int64_t *id,
                          struct err_detail *why)
{
    struct db_stmt *s = stmt(st, S_act_insert, why);
    if (!s)
        return why->code;
    db_bind_text(s, 1, a->person);
    db_bind_text(s, 2, a->region);
    db_bind_text(s, 3, a->office);
    db_bind_text(s, 4, a->customer);
    db_bind_text(s, 5, a->kind);
    db_bind_text(s, 6, a->at);
    if (a->budget_year)
        db_bind_int64(s, 7, a->budget_year);
    else
        db_bind_null(s, 7);
    db_bind_text(s, 8, a->doc);
    db_bind_int64(s, 9, a->created_at_ms);
    db_bind_text(s, 10, a->by);
    return store__insert_id(st, s, id, why, "insert activity");
}

static int row_activity(struct db_stmt *s, void *cb, void *ctx)
{
    struct store_activity a = {
        .id = db_column_int64(s, 0),
        .person = db_column_text(s, 1),
        .region = db_column_text(s, 2),
        .office = db_column_text(s, 3),
        .customer = db_column_text(s, 4),
        .kind = db_column_text(s, 5),
        .at = db_column_text(s, 6),
        .budget_year = db_column_int64(s, 7),
        .doc = db_column_text(s, 8),
        .created_at_ms = db_column_int64(s, 9),
        .by = db_column_text(s, 10),
    };
    return ((store_activity_cb *)cb)(&a, ctx);
}

int store_activity_list(struct store *st, const struct store_activity_filter *f,
                        store_activity_cb *each, void *ctx, struct err_detail *why)
{
    struct db_stmt *s = stmt(st, S_act_list, why);
    if (!s)
        return why->code;
    db_bind_int64(s, 1, f->after_id);
    db_bind_text(s, 2, f->person);
    db_bind_text(s, 3, f->customer);
    db_bind_text(s, 4, f->region);
    db_bind_text(s, 5, f->office);
    db_bind_text(s, 6, f->from);
    db_bind_text(s, 7, f->to);
    db_bind_int64(s, 8, f->limit);
    return rows(st, s, row_activity, (void *)each, ctx, NULL, why, "list activities");
}

static int row_count(struct db_stmt *s, void *cb, void *ctx)
{
    return ((store_count_cb *)cb)(db_column_text(s, 0), db_column_int64(s, 1), ctx);
}

int store_visit_counts(struct store *st, const char *region, const char *office, const char *from,
                       const char *to, store_count_cb *each, void *ctx, struct err_detail *why)
{
    enum leads_stmt which = office ? S_visits_office : region ? S_visits_region : S_visits_all;
    struct db_stmt *s = stmt(st, which, why);
    if (!s)
        return why->code;
    db_bind_text(s, 1, office ? office : region);
    db_bind_text(s, 2, from);
    db_bind_text(s, 3, to);
    return rows(st, s, row_count, (void *)each, ctx, NULL, why, "visit counts");
}

int store_budget_table(struct store *st, const char *customer, int64_t year, const char *upto,
                       char *date, struct err_detail *why)
{
    date[0] = '\0';
    struct db_stmt *s = stmt(st, S_budget, why);
    if (!s)
        return why->code;
    db_bind_text(s, 1, customer);
    db_bind_int64(s, 2, year);
    db_bind_text(s, 3, upto);
    int rc = db_step(s), out = 0;
    if (rc == DB_ROW && db_column_text(s, 0))
        snprintf(date, 11, "%s", db_column_text(s, 0));
    else if (rc != DB_ROW && rc != DB_DONE)
        out = store__fail(st, why, "budget table");
    db_reset(s);
    return out;
}

/* --- review meetings and the queue ---------------------------------------- */

int store_review_next_id(struct store *st, int64_t *id, struct err_detail *why)
{
    struct db_stmt *s = stmt(st, S_review_next, why);
    if (!s)
        return why->code;
    int rc = db_step(s) == DB_ROW ? 0 : store__fail(st, why, "next review id");
    if (!rc)
        *id = db_column_int64(s, 0);
    db_reset(s);
    return rc;
}

int store_review_insert(struct store *st, int64_t id, const char *unit, const char *held_at,
                        const char *doc, int64_t at_ms, const char *by, struct err_detail *why)
{
    struct db_stmt *s = stmt(st, S_review_insert, why);
    if (!s)
        return why->code;
    db_bind_int64(s, 1, id);
    db_bind_text(s, 2, unit);
    db_bind_text(s, 3, held_at);
    db_bind_text(s, 4, doc);
    db_bind_int64(s, 5, at_ms);
    db_bind_text(s, 6, by);
    return store__done(st, s, why, "insert review");
}

int store_review_get(struct store *st, int64_t id, char **doc, char unit[96],
                     struct err_detail *why)
{
    *doc = NULL;
    struct db_stmt *s = stmt(st, S_review_get, why);
    if (!s)
        return why->code;
    db_bind_int64(s, 1, id);
    int rc = db_step(s), out = 0;
    if (rc == DB_ROW) {
        snprintf(unit, 96, "%s", db_column_text(s, 1));
        if (!(*doc = strdup(db_column_text(s, 0))))
            out = err_set(why, -ERR_NOMEM, "out of memory");
    } else if (rc == DB_DONE) {
        out = err_set(why, -ERR_NOT_FOUND, "review %lld not found", (long long)id);
    } else {
        out = store__fail(st, why, "get review");
    }
    db_reset(s);
    return out;
}

static int row_queue(struct db_stmt *s, void *cb, void *ctx)
{
    struct store_instance_row row = {
        .id = db_column_int64(s, 0),
        .stage = (char *)db_column_text(s, 1),
        .region = (char *)db_column_text(s, 2),
        .office = (char *)db_column_text(s, 3),
        .temperature = (char *)db_column_text(s, 4),
        .doc = (char *)db_column_text(s, 5),
        .last_seq = db_column_int64(s, 6),
    };
    struct store_queue_row q = {&row, db_column_int64(s, 7), db_column_int64(s, 8)};
    return ((store_queue_cb *)cb)(&q, ctx);
}

int store_review_queue(struct store *st, const char *region, const char *office, const char *as_of,
                       int limit, store_queue_cb *each, void *ctx, struct err_detail *why)
{
    enum leads_stmt which = office ? S_queue_office : region ? S_queue_region : S_queue_all;
    struct db_stmt *s = stmt(st, which, why);
    if (!s)
        return why->code;
    db_bind_text(s, 1, office ? office : region);
    db_bind_text(s, 2, as_of);
    db_bind_int64(s, 3, limit);
    return rows(st, s, row_queue, (void *)each, ctx, NULL, why, "review queue");
}
