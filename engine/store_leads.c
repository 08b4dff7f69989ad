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
                    " FROM people WHERE (?1 IS NULL OR region=?1) AND (?2 IS NULL OR office=?2)"   \
                    " AND id > ?3 ORDER BY id LIMIT ?4")                                           \
    XX(customer_put, "INSERT INTO customers(id, region, office, credit_limit, doc, updated_at,"    \
                     " updated_by) VALUES (?1,?2,?3,?4,?5,?6,?7) ON CONFLICT(id) DO UPDATE SET"    \
                     " region=excluded.region, office=excluded.office,"                            \
                     " credit_limit=excluded.credit_limit, doc=excluded.doc,"                      \
                     " updated_at=excluded.updated_at, updated_by=excluded.updated_by")            \
    XX(customer_get, "SELECT id, region, office, 1, coalesce(credit_limit, -1), doc, updated_at,"  \
                     " updated_by FROM customers WHERE id=?1")                                     \
    XX(customer_list, "SELECT id, region, office, 1, coalesce(credit_limit, -1), doc,"             \
                      " updated_at, updated_by FROM customers WHERE (?1 IS NULL OR region=?1)"     \
                      " AND (?2 IS NULL OR office=?2) AND id > ?3 ORDER BY id LIMIT ?4")           \
    XX(candidates, "SELECT p.id, p.doc, coalesce(l.open_leads, 0) FROM people p"                   \
                   " LEFT JOIN person_load l ON l.person = p.id"                                   \
                   " WHERE p.office=?1 AND p.active=1 ORDER BY p.id")                              \
    XX(act_insert, "INSERT INTO activities(person, region, office, customer, kind, at,"            \
                   " budget_year, doc, created_at, created_by)"                                    \
                   " VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10)")                                     \
    XX(act_list, "SELECT id, person, region, office, customer, kind, at, budget_year, doc,"        \
                 " created_at, created_by FROM activities WHERE id > ?1"                           \
                 " AND (?2 IS NULL OR person=?2) AND (?3 IS NULL OR customer=?3)"                  \
                 " AND (?4 IS NULL OR region=?4) AND (?5 IS NULL OR office=?5)"                    \
                 " AND (?6 IS NULL OR at >= ?6) AND (?7 IS NULL OR at <= ?7)"                      \
                 " ORDER BY id LIMIT ?8")                                                          \
    /* Visits by office, by region, or of all (hq): each on its index. */                          \
    XX(visits_office, "SELECT person, count(*) FROM activities INDEXED BY activities_office"       \
                      " WHERE office=?1 AND at >= ?2 AND at <= ?3 AND kind='visit'"                \
                      " GROUP BY person")                                                          \
    XX(visits_region, "SELECT person, count(*) FROM activities INDEXED BY activities_region"       \
                      " WHERE region=?1 AND at >= ?2 AND at <= ?3 AND kind='visit'"                \
                      " GROUP BY person")                                                          \
    XX(visits_all, "SELECT person, count(*) FROM activities WHERE ?1 IS NULL AND at >= ?2"         \
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
    XX(queue_all, "SELECT " QUEUE_COLS " FROM instances INDEXED BY instances_review_region"        \
                  " WHERE ?1 IS NULL AND review_due IS NOT NULL AND review_due <= ?2"              \
                  " AND stage='lead' ORDER BY review_due, id LIMIT ?3")                            \
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

struct leads {
    sqlite3_stmt *s[S__COUNT];
};

void store_leads__close(struct store *st)
{
    struct leads *l = *store__leads_slot(st);
    if (!l)
        return;
    for (int i = 0; i < S__COUNT; i++)
        sqlite3_finalize(l->s[i]);
    free(l);
    *store__leads_slot(st) = NULL;
}

static int fail(struct store *st, struct err_detail *why, const char *what)
{
    int rc = sqlite3_errcode(store__db(st)) & 0xff;
    return err_set(why, rc == SQLITE_BUSY || rc == SQLITE_LOCKED ? -ERR_STORE_BUSY : -ERR_STORE,
                   "%s: %s", what, sqlite3_errmsg(store__db(st)));
}

/* The statement, prepared once. */
static sqlite3_stmt *stmt(struct store *st, enum leads_stmt which, struct err_detail *why)
{
    struct leads **slot = (struct leads **)store__leads_slot(st);
    if (!*slot && !(*slot = calloc(1, sizeof **slot))) {
        err_set(why, -ERR_NOMEM, "out of memory");
        return NULL;
    }
    sqlite3_stmt **s = &(*slot)->s[which];
    if (!*s && sqlite3_prepare_v3(store__db(st), leads_sql[which], -1, SQLITE_PREPARE_PERSISTENT, s,
                                  NULL) != SQLITE_OK) {
        fail(st, why, "prepare");
        *s = NULL;
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
    return (const char *)sqlite3_column_text(s, i);
}

static int done(struct store *st, sqlite3_stmt *s, struct err_detail *why, const char *what)
{
    int rc = sqlite3_step(s) == SQLITE_DONE ? 0 : fail(st, why, what);
    sqlite3_reset(s);
    sqlite3_clear_bindings(s);
    return rc;
}

typedef int row_fn(sqlite3_stmt *s, void *cb, void *ctx);

/* Each row to 'row' until it returns non-zero; *n counts the rows seen. */
static int rows(struct store *st, sqlite3_stmt *s, row_fn *row, void *cb, void *ctx, int *n,
                struct err_detail *why, const char *what)
{
    int rc, out = 0, seen = 0, stopped = 0;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        seen++;
        if ((stopped = row(s, cb, ctx)))
            break;
    }
    if (stopped) /* a callback stops only when it cannot hold the row */
        out = err_set(why, -ERR_NOMEM, "%s: out of memory", what);
    else if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        out = fail(st, why, what);
    sqlite3_reset(s);
    sqlite3_clear_bindings(s);
    if (n)
        *n = seen;
    return out;
}

/* --- people and customers ------------------------------------------------- */

static int party_put(struct store *st, enum leads_stmt which, const struct store_party *p,
                     struct err_detail *why)
{
    sqlite3_stmt *s = stmt(st, which, why);
    if (!s)
        return why->code;
    text(s, 1, p->id);
    text(s, 2, p->region);
    text(s, 3, p->office);
    if (which == S_person_put)
        sqlite3_bind_int(s, 4, p->active);
    else if (p->credit_limit >= 0)
        sqlite3_bind_int64(s, 4, p->credit_limit);
    else
        sqlite3_bind_null(s, 4);
    text(s, 5, p->doc);
    sqlite3_bind_int64(s, 6, p->at_ms);
    text(s, 7, p->by);
    return done(st, s, why, which == S_person_put ? "put person" : "put customer");
}

int store_person_put(struct store *st, const struct store_party *p, struct err_detail *why)
{
    return party_put(st, S_person_put, p, why);
}

int store_customer_put(struct store *st, const struct store_party *p, struct err_detail *why)
{
    return party_put(st, S_customer_put, p, why);
}

static int row_party(sqlite3_stmt *s, void *cb, void *ctx)
{
    struct store_party p = {
        .id = col(s, 0),
        .region = col(s, 1),
        .office = col(s, 2),
        .active = sqlite3_column_int(s, 3) != 0,
        .credit_limit = sqlite3_column_int64(s, 4),
        .doc = col(s, 5),
        .at_ms = sqlite3_column_int64(s, 6),
        .by = col(s, 7),
    };
    return ((store_party_cb *)cb)(&p, ctx);
}

static int party_get(struct store *st, enum leads_stmt which, const char *id, store_party_cb *each,
                     void *ctx, struct err_detail *why)
{
    sqlite3_stmt *s = stmt(st, which, why);
    if (!s)
        return why->code;
    text(s, 1, id);
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
    sqlite3_stmt *s = stmt(st, which, why);
    if (!s)
        return why->code;
    text(s, 1, region);
    text(s, 2, office);
    text(s, 3, after ? after : "");
    sqlite3_bind_int(s, 4, limit);
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

static int row_candidate(sqlite3_stmt *s, void *cb, void *ctx)
{
    return ((store_candidate_cb *)cb)(col(s, 0), col(s, 1), sqlite3_column_int64(s, 2), ctx);
}

int store_candidates(struct store *st, const char *office, store_candidate_cb *each, void *ctx,
                     struct err_detail *why)
{
    sqlite3_stmt *s = stmt(st, S_candidates, why);
    if (!s)
        return why->code;
    text(s, 1, office);
    return rows(st, s, row_candidate, (void *)each, ctx, NULL, why, "candidates");
}

int store_customer_credit(struct store *st, const char *id, bool *found, int64_t *limit,
                          struct err_detail *why)
{
    *found = false;
    sqlite3_stmt *s = stmt(st, S_credit, why);
    if (!s)
        return why->code;
    text(s, 1, id);
    int rc = sqlite3_step(s), out = 0;
    if (rc == SQLITE_ROW && sqlite3_column_type(s, 0) != SQLITE_NULL) {
        *found = true;
        *limit = sqlite3_column_int64(s, 0);
    } else if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
        out = fail(st, why, "customer credit");
    }
    sqlite3_reset(s);
    sqlite3_clear_bindings(s);
    return out;
}

/* --- activities ----------------------------------------------------------- */

int store_activity_insert(struct store *st, const struct store_activity *a, int64_t *id,
                          struct err_detail *why)
{
    sqlite3_stmt *s = stmt(st, S_act_insert, why);
    if (!s)
        return why->code;
    text(s, 1, a->person);
    text(s, 2, a->region);
    text(s, 3, a->office);
    text(s, 4, a->customer);
    text(s, 5, a->kind);
    text(s, 6, a->at);
    if (a->budget_year)
        sqlite3_bind_int64(s, 7, a->budget_year);
    else
        sqlite3_bind_null(s, 7);
    text(s, 8, a->doc);
    sqlite3_bind_int64(s, 9, a->created_at_ms);
    text(s, 10, a->by);
    int rc = done(st, s, why, "insert activity");
    if (!rc)
        *id = sqlite3_last_insert_rowid(store__db(st));
    return rc;
}

static int row_activity(sqlite3_stmt *s, void *cb, void *ctx)
{
    struct store_activity a = {
        .id = sqlite3_column_int64(s, 0),
        .person = col(s, 1),
        .region = col(s, 2),
        .office = col(s, 3),
        .customer = col(s, 4),
        .kind = col(s, 5),
        .at = col(s, 6),
        .budget_year = sqlite3_column_int64(s, 7),
        .doc = col(s, 8),
        .created_at_ms = sqlite3_column_int64(s, 9),
        .by = col(s, 10),
    };
    return ((store_activity_cb *)cb)(&a, ctx);
}

int store_activity_list(struct store *st, const struct store_activity_filter *f,
                        store_activity_cb *each, void *ctx, struct err_detail *why)
{
    sqlite3_stmt *s = stmt(st, S_act_list, why);
    if (!s)
        return why->code;
    sqlite3_bind_int64(s, 1, f->after_id);
    text(s, 2, f->person);
    text(s, 3, f->customer);
    text(s, 4, f->region);
    text(s, 5, f->office);
    text(s, 6, f->from);
    text(s, 7, f->to);
    sqlite3_bind_int(s, 8, f->limit);
    return rows(st, s, row_activity, (void *)each, ctx, NULL, why, "list activities");
}

static int row_count(sqlite3_stmt *s, void *cb, void *ctx)
{
    return ((store_count_cb *)cb)(col(s, 0), sqlite3_column_int64(s, 1), ctx);
}

int store_visit_counts(struct store *st, const char *region, const char *office, const char *from,
                       const char *to, store_count_cb *each, void *ctx, struct err_detail *why)
{
    enum leads_stmt which = office ? S_visits_office : region ? S_visits_region : S_visits_all;
    sqlite3_stmt *s = stmt(st, which, why);
    if (!s)
        return why->code;
    text(s, 1, office ? office : region);
    text(s, 2, from);
    text(s, 3, to);
    return rows(st, s, row_count, (void *)each, ctx, NULL, why, "visit counts");
}

int store_budget_table(struct store *st, const char *customer, int64_t year, const char *upto,
                       char *date, struct err_detail *why)
{
    date[0] = '\0';
    sqlite3_stmt *s = stmt(st, S_budget, why);
    if (!s)
        return why->code;
    text(s, 1, customer);
    sqlite3_bind_int64(s, 2, year);
    text(s, 3, upto);
    int rc = sqlite3_step(s), out = 0;
    if (rc == SQLITE_ROW && col(s, 0))
        snprintf(date, 11, "%s", col(s, 0));
    else if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        out = fail(st, why, "budget table");
    sqlite3_reset(s);
    sqlite3_clear_bindings(s);
    return out;
}

/* --- review meetings and the queue ---------------------------------------- */

int store_review_next_id(struct store *st, int64_t *id, struct err_detail *why)
{
    sqlite3_stmt *s = stmt(st, S_review_next, why);
    if (!s)
        return why->code;
    int rc = sqlite3_step(s) == SQLITE_ROW ? 0 : fail(st, why, "next review id");
    if (!rc)
        *id = sqlite3_column_int64(s, 0);
    sqlite3_reset(s);
    return rc;
}

int store_review_insert(struct store *st, int64_t id, const char *unit, const char *held_at,
                        const char *doc, int64_t at_ms, const char *by, struct err_detail *why)
{
    sqlite3_stmt *s = stmt(st, S_review_insert, why);
    if (!s)
        return why->code;
    sqlite3_bind_int64(s, 1, id);
    text(s, 2, unit);
    text(s, 3, held_at);
    text(s, 4, doc);
    sqlite3_bind_int64(s, 5, at_ms);
    text(s, 6, by);
    return done(st, s, why, "insert review");
}

int store_review_get(struct store *st, int64_t id, char **doc, char unit[96],
                     struct err_detail *why)
{
    *doc = NULL;
    sqlite3_stmt *s = stmt(st, S_review_get, why);
    if (!s)
        return why->code;
    sqlite3_bind_int64(s, 1, id);
    int rc = sqlite3_step(s), out = 0;
    if (rc == SQLITE_ROW) {
        snprintf(unit, 96, "%s", col(s, 1));
        if (!(*doc = strdup(col(s, 0))))
            out = err_set(why, -ERR_NOMEM, "out of memory");
    } else if (rc == SQLITE_DONE) {
        out = err_set(why, -ERR_NOT_FOUND, "review %lld not found", (long long)id);
    } else {
        out = fail(st, why, "get review");
    }
    sqlite3_reset(s);
    return out;
}

static int row_queue(sqlite3_stmt *s, void *cb, void *ctx)
{
    struct store_instance_row row = {
        .id = sqlite3_column_int64(s, 0),
        .stage = (char *)col(s, 1),
        .region = (char *)col(s, 2),
        .office = (char *)col(s, 3),
        .temperature = (char *)col(s, 4),
        .doc = (char *)col(s, 5),
        .last_seq = sqlite3_column_int64(s, 6),
    };
    struct store_queue_row q = {&row, sqlite3_column_int64(s, 7), sqlite3_column_int64(s, 8)};
    return ((store_queue_cb *)cb)(&q, ctx);
}

int store_review_queue(struct store *st, const char *region, const char *office, const char *as_of,
                       int limit, store_queue_cb *each, void *ctx, struct err_detail *why)
{
    enum leads_stmt which = office ? S_queue_office : region ? S_queue_region : S_queue_all;
    sqlite3_stmt *s = stmt(st, which, why);
    if (!s)
        return why->code;
    text(s, 1, office ? office : region);
    text(s, 2, as_of);
    sqlite3_bind_int(s, 3, limit);
    return rows(st, s, row_queue, (void *)each, ctx, NULL, why, "review queue");
}
