/* tests/unit/store_schema_pg_test.c: PostgreSQL's schema (store_schema_pg.c)
 * against SQLite's (store_schema.c): both lists in step, and the same writes
 * (instances created, moved, closed, reassigned; ledger entries; forecasts
 * set, moved and dropped) leaving the same sums in every table triggers keep,
 * and the append-only tables refusing changes on both. PostgreSQL is the
 * throwaway cluster of tests/run-all.sh (LTC_PG_URI). */
#include <stdint.h>

#include "buf.h"
#include "db.h"
#include "store_schema.h"
#include "test.h"

static char path[128];

static int migrate(struct db *db, const char *const *list, int n)
{
    for (int i = 0; i < n; i++)
        if (db_exec(db, list[i])) {
            fprintf(stderr, "# migration %d: %s\n", i + 1, db_message(db));
            return -1;
        }
    return 0;
}

static struct db *fresh_sqlite(void)
{
    snprintf(path, sizeof path, "/tmp/ltcd-schema-pg-test-%d.db", getpid());
    unlink(path);
    struct db *db = NULL;
    struct err_detail why = {0};
    if (db_open(path, false, &db, &why))
        return NULL;
    if (migrate(db, store_migrations, store_migration_count)) {
        db_close(db);
        return NULL;
    }
    return db;
}

static struct db *fresh_pg(void)
{
    const char *uri = getenv("LTC_PG_URI");
    struct db *db = NULL;
    struct err_detail why = {0};
    if (!uri || db_open(uri, false, &db, &why)) {
        fprintf(stderr, "# PostgreSQL: %s\n", uri ? why.msg : "LTC_PG_URI is not set");
        return NULL;
    }
    if (db_exec(db, "DROP SCHEMA public CASCADE; CREATE SCHEMA public") ||
        migrate(db, store_pg_migrations, store_pg_migration_count)) {
        fprintf(stderr, "# %s\n", db_message(db));
        db_close(db);
        return NULL;
    }
    return db;
}

/* Run one statement with text parameters (NULL: SQL NULL); 0 when done. */
static int run(struct db *db, const char *sql, int n, const char *const *params)
{
    struct db_stmt *s = NULL;
    if (db_prepare(db, sql, &s))
        return -1;
    for (int i = 0; i < n; i++)
        db_bind_text(s, i + 1, params[i]);
    int rc = db_step(s);
    db_reset(s);
    db_finalize(s);
    if (rc != DB_DONE)
        fprintf(stderr, "# %s: %s\n", sql, db_message(db));
    return rc == DB_DONE ? 0 : -1;
}

/* Every row of a query as "a|b|c\n" lines. */
static char *rows(struct db *db, const char *sql)
{
    struct db_stmt *s = NULL;
    if (db_prepare(db, sql, &s))
        return NULL;
    struct buf b = {0};
    int rc, cols = 0;
    for (const char *p = sql; *p && strncmp(p, " FROM", 5); p++)
        cols += *p == ',';
    while ((rc = db_step(s)) == DB_ROW) {
        for (int c = 0; c <= cols; c++) {
            const char *v = db_column_text(s, c);
            buf_str(&b, c ? "|" : "");
            buf_str(&b, v ? v : "NULL");
        }
        buf_str(&b, "\n");
    }
    db_reset(s);
    db_finalize(s);
    if (rc != DB_DONE) {
        buf_deinit(&b);
        return NULL;
    }
    return buf_take(&b, NULL);
}

static const char *const sums[] = {
    "SELECT customer, amount_hi, amount_lo FROM customer_exposure ORDER BY customer",
    "SELECT person, open_leads FROM person_load ORDER BY person",
    "SELECT region, office, stage, outcome, n, value_hi, value_lo FROM funnel_sums"
    " ORDER BY region, office, stage, outcome",
    "SELECT kind, at, office, amount_hi, amount_lo FROM ledger_daily ORDER BY kind, at, office",
    "SELECT instance_id, region, office, customer, product_line, ar, sr, fr"
    " FROM ledger_attribution ORDER BY instance_id",
    "SELECT kind, month, office, customer, amount_hi, amount_lo FROM ledger_customers"
    " ORDER BY kind, month, office, customer",
    "SELECT month, office, customer, category, n, value_hi, value_lo, weighted_hi,"
    " weighted_lo FROM pipeline_sums"
    " ORDER BY month, office, customer, category",
};

static uint64_t seed = 88172645463325252u;

static unsigned next(unsigned n)
{
    seed ^= seed << 13;
    seed ^= seed >> 7;
    seed ^= seed << 17;
    return (unsigned)(seed % n);
}

/* One random write, the same on both. */
static int write_both(struct db *a, struct db *b, int64_t *n_instances)
{
    static const char *const stages[] = {"lead", "opportunity", "contract", "closed"};
    static const char *const offices[] = {"pa", "pb", "nc"};
    static const char *const people[] = {"li", "sun", NULL};
    static const char *const customers[] = {"acme", "bolt", NULL};
    char id[24], v1[24], v2[24], doc[256], seq[8];
    int op = *n_instances ? (int)next(5) : 0;
    if (op == 0) { /* a new instance */
        snprintf(id, sizeof id, "%lld", (long long)++*n_instances);
        unsigned st = next(4);
        snprintf(doc, sizeof doc, "{\"budget\":{\"amount\":%u},\"contract\":%s,\"closure\":%s}",
                 100 + next(900), st >= 2 ? "{\"value\":5000}" : "null",
                 st == 3 ? "{\"outcome\":\"won\"}" : "null");
        snprintf(v1, sizeof v1, "%u", st == 2 ? 5000 : 0);
        const char *p[] = {id,  stages[st],         "south", offices[next(3)],
                           doc, customers[next(3)], v1,      people[next(3)]};
        const char *sql = "INSERT INTO instances(id, stage, region, office, temperature, doc,"
                          " created_at, updated_at, last_seq, customer, exposure, owner)"
                          " VALUES (?1, ?2, ?3, ?4, 'warm', ?5, 1, 1, 1, ?6, ?7, ?8)";
        return run(a, sql, 8, p) || run(b, sql, 8, p);
    }
    snprintf(id, sizeof id, "%u", 1 + next((unsigned)*n_instances));
    if (op == 1) { /* moved, reassigned, its document changed */
        unsigned st = next(4);
        snprintf(doc, sizeof doc, "{\"budget\":{\"amount\":%u},\"closure\":%s}", 100 + next(900),
                 st == 3 ? (next(2) ? "{\"outcome\":\"won\"}" : "{\"outcome\":\"lost\"}") : "null");
        snprintf(v1, sizeof v1, "%u", st == 2 ? 1000 * next(9) : 0);
        const char *p[] = {id, stages[st], doc, v1, people[next(3)], customers[next(3)]};
        const char *sql = "UPDATE instances SET stage = ?2, doc = ?3, exposure = ?4, owner = ?5,"
                          " customer = ?6 WHERE id = ?1";
        return run(a, sql, 6, p) || run(b, sql, 6, p);
    }
    if (op == 2) { /* a ledger entry */
        snprintf(v1, sizeof v1, "%u", 100 * (1 + next(50)));
        snprintf(v2, sizeof v2, "2026-%02u-1%u", 1 + next(12), next(10));
        snprintf(seq, sizeof seq, "%u", next(1000));
        const char *p[] = {id,
                           seq,
                           next(2) ? "cash" : "orders",
                           v1,
                           v2,
                           offices[next(3)],
                           customers[next(2)],
                           people[next(3)]};
        const char *sql = "INSERT INTO ledger(instance_id, seq, kind, amount, margin, at, region,"
                          " office, customer, product_line, ar, sr, fr)"
                          " VALUES (?1, ?2, ?3, ?4, 20, ?5, 'south', ?6, ?7, 'g', ?8, 'x', NULL)";
        return run(a, sql, 8, p) || run(b, sql, 8, p);
    }
    if (op == 3) { /* a forecast set or moved */
        snprintf(v1, sizeof v1, "%u", 1000 * (1 + next(9)));
        snprintf(v2, sizeof v2, "2026-%02u", 1 + next(3));
        const char *p[] = {
            id, offices[next(3)], customers[next(2)], v2, v1, next(2) ? "commit" : "pipeline"};
        const char *sql =
            "INSERT INTO forecasts(id, region, office, customer, month, value, weighted, category,"
            " rules) VALUES (?1, 'south', ?2, ?3, ?4, ?5, CAST(?5 AS BIGINT) / 2, ?6, 'hq@1')"
            " ON CONFLICT(id) DO UPDATE SET month = excluded.month, value = excluded.value,"
            " weighted = excluded.weighted, category = excluded.category, rules = excluded.rules";
        return run(a, sql, 6, p) || run(b, sql, 6, p);
    }
    const char *p[] = {id}; /* a forecast dropped */
    const char *sql = "DELETE FROM forecasts WHERE id = ?1";
    return run(a, sql, 1, p) || run(b, sql, 1, p);
}

TEST(both_lists_are_in_step)
{
    CHECK(store_pg_migration_count >= 1);
    CHECK(store_migration_count - STORE_SCHEMA_PG_BASE == store_pg_migration_count - 1);
}

TEST(the_same_writes_leave_the_same_sums)
{
    struct db *a = fresh_sqlite(), *b = fresh_pg();
    CHECK(a && b);
    int64_t n = 0;
    for (int i = 0; i < 600; i++)
        CHECK(write_both(a, b, &n) == 0);
    CHECK(n > 50);
    for (size_t k = 0; k < sizeof sums / sizeof *sums; k++) {
        char *x = rows(a, sums[k]), *y = rows(b, sums[k]);
        CHECK_MSG(x && y && *x && !strcmp(x, y), "%s\n# sqlite:\n%s# postgresql:\n%s", sums[k],
                  x ? x : "(failed)", y ? y : "(failed)");
        free(x);
        free(y);
    }
    db_close(a);
    db_close(b);
    unlink(path);
}

TEST(events_and_the_ledger_are_append_only_on_both)
{
    struct db *dbs[2] = {fresh_sqlite(), fresh_pg()};
    CHECK(dbs[0] && dbs[1]);
    for (int k = 0; k < 2; k++) {
        struct db *db = dbs[k];
        CHECK(db_exec(db, "INSERT INTO instances(id, stage, region, office, doc, created_at,"
                          " updated_at, last_seq) VALUES (1, 'lead', 's', 'o', '{}', 1, 1, 1);"
                          "INSERT INTO events(instance_id, seq, at, actor, action, payload,"
                          " outcome, rules) VALUES (1, 1, 1, 'a', 'create', '{}', '{}', 'hq@1');"
                          "INSERT INTO ledger(instance_id, seq, kind, amount, margin, at, region,"
                          " office, customer, product_line) VALUES (1, 1, 'cash', 5, 20,"
                          " '2026-01-01', 's', 'o', 'c', 'g')") == 0);
        CHECK(db_exec(db, "UPDATE events SET actor = 'b'") == DB_ERROR);
        CHECK_MSG(strstr(db_message(db), "events are append-only") != NULL, "%s", db_message(db));
        CHECK(db_exec(db, "DELETE FROM events") == DB_ERROR);
        CHECK(db_exec(db, "DELETE FROM ledger") == DB_ERROR);
        CHECK(strstr(db_message(db), "the ledger is append-only") != NULL);
    }
    db_close(dbs[0]);
    db_close(dbs[1]);
    unlink(path);
}

TEST_MAIN(T(both_lists_are_in_step), T(the_same_writes_leave_the_same_sums),
          T(events_and_the_ledger_are_append_only_on_both))
