/* engine/store.c: the store_* contract of store.h on a db.h connection,
 * SQLite's or PostgreSQL's. What only SQLite has (its PRAGMAs, the WAL's
 * file, page counts) is marked where it is used. The SQL text is written
 * once for both where it can be (db.h drops SQLite's INDEXED BY hints on
 * PostgreSQL); STORE_STMTS_PG holds PostgreSQL's own text where it cannot.
 *
 * Text is bound borrowed (db_bind_text), no copy: an allocation run's text
 * is tens of MB. Safe because every statement is stepped at once and then
 * reset (store__done, each_row, db_reset), which clears its parameters,
 * while the caller's text lives. */
#include "store.h"

#include <errno.h>
#include <fcntl.h>
#include <sqlite3.h> /* page counts only: pages_written */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "db_sqlite.h"
#include "money.h"
#include "store_internal.h"
#include "store_schema.h"

/* Every statement of the store, prepared at open: XX(name, sql). A
 * parameter that nothing around it gives a type has a CAST (PostgreSQL
 * must know it: values go as text). */
#define STORE_STMTS(XX)                                                                            \
    XX(begin, "BEGIN IMMEDIATE")                                                                   \
    XX(commit, "COMMIT")                                                                           \
    XX(rollback, "ROLLBACK")                                                                       \
    XX(begin_read, "BEGIN DEFERRED")                                                               \
    XX(savepoint, "SAVEPOINT req")                                                                 \
    XX(release, "RELEASE req")                                                                     \
    XX(rollback_to, "ROLLBACK TO req")                                                             \
    /* review_due: a lead waits for review from its next_review, or at once ('') when it           \
     * has none; any other stage does not wait (NULL). */                                          \
    XX(inst_insert, "INSERT INTO instances(id, stage, region, office, temperature, doc,"           \
                    " created_at, updated_at, last_seq, customer, exposure, owner, review_due,"    \
                    " funnel_value, outcome) VALUES (?1,?2,?3,?4,?5,?6,?7,?7,?8,?9,?10,?11,"       \
                    " CASE WHEN ?2 = 'lead' THEN coalesce(?12, '') END, ?13, ?14)")                \
    XX(inst_update, "UPDATE instances SET stage=?2, temperature=?3, doc=?4, updated_at=?5,"        \
                    " last_seq=?6, exposure=?7, owner=?8,"                                         \
                    " review_due=CASE WHEN ?2 = 'lead' THEN coalesce(?9, '') END,"                 \
                    " funnel_value=?11, outcome=?12 WHERE id=?1 AND last_seq=?10")                 \
    XX(inst_get, "SELECT id, stage, region, office, temperature, doc, last_seq"                    \
                 " FROM instances WHERE id=?1")                                                    \
    XX(inst_where, "SELECT region, office FROM instances WHERE id=?1")                             \
    XX(inst_list, "SELECT id, stage, region, office, temperature, doc, last_seq"                   \
                  " FROM instances WHERE id > ?1 AND (stage=?2 OR ?2 IS NULL)"                     \
                  " AND (region=?3 OR ?3 IS NULL) AND (office=?4 OR ?4 IS NULL)"                   \
                  " AND (temperature=?5 OR ?5 IS NULL) AND CAST(?7 AS TEXT) IS NULL"               \
                  " ORDER BY id LIMIT ?6")                                                         \
    /* ?stage= walks the stage's index: the stages with few instances (the open                    \
     * ones) cost what they hold, not a walk past every lead. */                                   \
    XX(inst_list_stage, "SELECT id, stage, region, office, temperature, doc, last_seq"             \
                        " FROM instances INDEXED BY instances_stage WHERE stage=?2 AND id > ?1"    \
                        " AND (region=?3 OR ?3 IS NULL) AND (office=?4 OR ?4 IS NULL)"             \
                        " AND (temperature=?5 OR ?5 IS NULL) AND CAST(?7 AS TEXT) IS NULL"         \
                        " ORDER BY id LIMIT ?6")                                                   \
    /* ?owner= walks the owner's index (a person owns few of all instances). */                    \
    XX(inst_list_owner, "SELECT id, stage, region, office, temperature, doc, last_seq"             \
                        " FROM instances INDEXED BY instances_owner WHERE owner=?7 AND id > ?1"    \
                        " AND (stage=?2 OR ?2 IS NULL) AND (region=?3 OR ?3 IS NULL)"              \
                        " AND (office=?4 OR ?4 IS NULL) AND (temperature=?5 OR ?5 IS NULL)"        \
                        " ORDER BY id LIMIT ?6")                                                   \
    XX(inst_next, "SELECT coalesce(max(id), 0) + 1 FROM instances")                                \
    XX(inst_count, "SELECT count(*) FROM instances")                                               \
    XX(ev_insert, "INSERT INTO events(instance_id, seq, at, actor, action, payload,"               \
                  " outcome, rules, person) VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9)")                  \
    XX(ev_list, "SELECT instance_id, seq, at, actor, action, payload, outcome, rules, person"      \
                " FROM events WHERE instance_id=?1 ORDER BY seq")                                  \
    XX(exposure, "SELECT e.amount_hi, e.amount_lo - coalesce((SELECT exposure FROM instances"      \
                 " WHERE id=?2 AND customer=?1), 0) FROM customer_exposure e WHERE e.customer=?1") \
    XX(rv_previous, "SELECT coalesce(max(version), 0) FROM rule_versions WHERE owner=?1"           \
                    " AND status='retired' AND version < coalesce((SELECT version"                 \
                    " FROM rule_active WHERE owner=?1), 0)")                                       \
    XX(re_list, "SELECT owner, version, at, actor, action, hash, message FROM rule_events"         \
                " WHERE owner=?1 ORDER BY id")                                                     \
    XX(ledger_insert, "INSERT INTO ledger(instance_id, seq, kind, amount, margin, at, region,"     \
                      " office, customer, product_line, ar, sr, fr)"                               \
                      " VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13)")                      \
    XX(ledger_projects, "SELECT t.instance_id, a.region, a.office, a.customer,"                    \
                        " a.product_line, a.ar, a.sr, a.fr, t.amount, t.axm, t.n FROM"             \
                        " (SELECT instance_id, sum(amount) AS amount,"                             \
                        " sum(amount * margin) AS axm, count(*) AS n"                              \
                        " FROM ledger INDEXED BY ledger_project WHERE kind=?1"                     \
                        " AND at >= ?2 AND at < ?3 GROUP BY instance_id) t"                        \
                        " JOIN ledger_attribution a ON a.instance_id = t.instance_id"              \
                        " ORDER BY t.instance_id")                                                 \
    XX(ledger_offices, "SELECT office, sum(amount_hi), sum(amount_lo) FROM ledger_daily"           \
                       " WHERE kind=?1"                                                            \
                       " AND at >= ?2 AND at < ?3 GROUP BY office")                                \
    /* A run's result is its parts in order ('' in the row); runs stored                           \
     * before parts existed hold it whole. */                                                      \
    XX(run_insert, "INSERT INTO share_runs(id, period, pool, input_hash, result, created_at,"      \
                   " created_by) VALUES (?1,?2,?3,?4,'',?5,?6)")                                   \
    XX(run_part, "INSERT INTO share_run_parts(run_id, part, text) VALUES (?1,?2,?3)")              \
    XX(run_get, "SELECT result FROM share_runs WHERE id=?1")                                       \
    XX(run_parts, "SELECT text FROM share_run_parts WHERE run_id=?1 ORDER BY part")                \
    XX(run_next, "SELECT max(coalesce((SELECT max(id) FROM share_runs), 0),"                       \
                 " coalesce((SELECT max(run_id) FROM share_run_parts), 0)) + 1")                   \
    XX(target_set, "INSERT INTO targets(unit, period, metric, amount, set_at, set_by)"             \
                   " VALUES (?1,?2,?3,?4,?5,?6) ON CONFLICT(unit, period, metric) DO UPDATE"       \
                   " SET amount=excluded.amount, set_at=excluded.set_at,"                          \
                   " set_by=excluded.set_by")                                                      \
    XX(target_list, "SELECT unit, amount FROM targets WHERE period=?1 AND metric=?2")              \
    XX(stage_counts, "SELECT stage, count(*) FROM instances GROUP BY stage ORDER BY stage")        \
    XX(funnel, "SELECT stage, nullif(outcome, ''), sum(n), sum(value_hi), sum(value_lo)"           \
               " FROM funnel_sums"                                                                 \
               " WHERE (region=?1 OR ?1 IS NULL) AND (office=?2 OR ?2 IS NULL)"                    \
               " GROUP BY 1, 2 HAVING sum(n) > 0 ORDER BY 1, 2")                                   \
    XX(recent, "SELECT e.instance_id, e.seq, e.at, e.actor, e.action, e.payload, e.outcome,"       \
               " e.rules, e.person FROM events e INDEXED BY events_at JOIN instances i"            \
               " ON i.id = e.instance_id WHERE (i.region=?1 OR ?1 IS NULL)"                        \
               " AND (i.office=?2 OR ?2 IS NULL) ORDER BY e.at DESC LIMIT ?3")                     \
    /* Shadow runs (issue 11). */                                                                  \
    XX(shadow_replace, "UPDATE rule_shadows SET ended_at=?3, end_reason='replaced'"                \
                       " WHERE owner=?1 AND version=?2 AND ended_at IS NULL")                      \
    XX(shadow_insert, "INSERT INTO rule_shadows(owner, version, started_at, until_at,"             \
                      " started_by) VALUES (?1,?2,?3,?4,?5) RETURNING id")                         \
    XX(shadow_end, "UPDATE rule_shadows SET ended_at=?2, end_reason=?3"                            \
                   " WHERE id=?1 AND ended_at IS NULL")                                            \
    XX(shadow_newest, "SELECT id, owner, version, started_at, until_at, started_by, ended_at,"     \
                      " end_reason FROM rule_shadows WHERE owner=?1 AND version=?2"                \
                      " ORDER BY id DESC LIMIT 1")                                                 \
    XX(shadow_running, "SELECT id, owner, version, started_at, until_at, started_by, ended_at,"    \
                       " end_reason FROM rule_shadows WHERE ended_at IS NULL AND until_at > ?1"    \
                       " ORDER BY id")                                                             \
    XX(shadow_result_insert, "INSERT INTO rule_shadow_results(shadow_id, instance_id, at,"         \
                             " differs, error, summary, active) VALUES (?1,?2,?3,?4,?5,?6,?7)")    \
    XX(shadow_counts, "SELECT count(*), coalesce(sum(differs), 0), count(error)"                   \
                      " FROM rule_shadow_results WHERE shadow_id=?1")                              \
    XX(shadow_examples, "SELECT shadow_id, instance_id, at, differs, error, summary, active"       \
                        " FROM rule_shadow_results WHERE shadow_id=?1"                             \
                        " ORDER BY (differs <> 0 OR error IS NOT NULL) DESC, id DESC LIMIT ?2")    \
    XX(rv_status_get, "SELECT status FROM rule_versions WHERE owner=?1 AND version=?2")            \
    XX(rv_insert, "INSERT INTO rule_versions(owner, version, hash, status, files, origin,"         \
                  " created_at, created_by, reason, signature, base)"                              \
                  " VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11)")                                  \
    XX(rv_by_hash, "SELECT max(version) FROM rule_versions INDEXED BY rule_versions_hash"          \
                   " WHERE owner=?1 AND hash=?2"                                                   \
                   " AND status IN ('active','retired','pending')")                                \
    XX(rv_max, "SELECT coalesce(max(version), 0) FROM rule_versions WHERE owner=?1")               \
    /* Activate first, and only what is not active: of two nodes activating                        \
     * one version at once, the second finds it done (PostgreSQL's update waits                    \
     * for the first's commit, then sees its row) and changes nothing. */                          \
    XX(rv_activate, "UPDATE rule_versions SET status='active', activated_at=?3,"                   \
                    " approved_by=coalesce(?4, approved_by) WHERE owner=?1 AND version=?2"         \
                    " AND status <> 'active'")                                                     \
    XX(rv_retire, "UPDATE rule_versions SET status='retired' WHERE owner=?1 AND status='active'"   \
                  " AND version <> ?2")                                                            \
    XX(rv_status, "UPDATE rule_versions SET status=?3, reason=coalesce(?4, reason)"                \
                  " WHERE owner=?1 AND version=?2")                                                \
    XX(rv_supersede_audit, "INSERT INTO rule_events(owner, version, at, actor, action, hash,"      \
                           " message) SELECT owner, version, ?3, ?4, 'superseded', hash,"          \
                           " 'superseded by v' || CAST(?2 AS INTEGER) FROM rule_versions"          \
                           " INDEXED BY rule_versions_pending WHERE owner=?1"                      \
                           " AND status='pending' AND version < ?2 ORDER BY version")              \
    XX(rv_supersede, "UPDATE rule_versions INDEXED BY rule_versions_pending"                       \
                     " SET status='superseded' WHERE owner=?1"                                     \
                     " AND status='pending' AND version < ?2")                                     \
    XX(ra_set, "INSERT INTO rule_active(owner, version) VALUES (?1, ?2)"                           \
               " ON CONFLICT(owner) DO UPDATE SET version=excluded.version")                       \
    XX(ra_list, "SELECT a.owner, a.version FROM rule_active a ORDER BY a.owner")                   \
    XX(rv_get, "SELECT owner, version, hash, status, files, origin, created_at, created_by,"       \
               " activated_at, approved_by, reason, signature, base FROM rule_versions"            \
               " WHERE owner=?1 AND version=?2")                                                   \
    XX(rv_list, "SELECT owner, version, hash, status, NULL, origin, created_at, created_by,"       \
                " activated_at, approved_by, reason, signature, base FROM rule_versions"           \
                " WHERE owner=?1 ORDER BY version")                                                \
    XX(re_insert, "INSERT INTO rule_events(owner, version, at, actor, action, hash,"               \
                  " message) VALUES (?1,?2,?3,?4,?5,?6,?7)")                                       \
    STORE_LINEAGE_STMTS(XX)

/* Rule lineage: the newest version, numbers, what was read from disk. */
#define STORE_LINEAGE_STMTS(XX)                                                                    \
    XX(rv_head, "SELECT version FROM rule_versions WHERE owner=?1"                                 \
                " AND status IN ('pending','active') ORDER BY version DESC LIMIT 1")               \
    XX(rv_dropped, "SELECT coalesce(max(version), 0) FROM rule_versions"                           \
                   " INDEXED BY rule_versions_hash WHERE owner=?1 AND hash=?2"                     \
                   " AND status IN ('superseded','rejected')")                                     \
    XX(rn_get, "SELECT coalesce((SELECT max(number) FROM rule_numbers WHERE owner=?1), 0),"        \
               " coalesce((SELECT max(number) FROM rule_numbers INDEXED BY rule_numbers_key"       \
               " WHERE owner=?1 AND key=?2), 0)")                                                  \
    XX(rn_set, "INSERT INTO rule_numbers(owner, number, key) VALUES (?1, ?2, ?3)"                  \
               " ON CONFLICT DO NOTHING")                                                          \
    XX(rd_get, "SELECT hash, files FROM rule_disk WHERE owner=?1")                                 \
    XX(rd_set, "INSERT INTO rule_disk(owner, hash, files, read_at) VALUES (?1, ?2, ?3, ?4)"        \
               " ON CONFLICT(owner) DO UPDATE SET hash=excluded.hash, files=excluded.files,"       \
               " read_at=excluded.read_at")

/* PostgreSQL's text where it differs: XX(name, sql) of a STORE_STMTS name.
 * A write transaction needs no lock up front (statements lock the rows they
 * change); a snapshot is a repeatable-read transaction; ids come from
 * sequences, which nodes on one database share. */
#define STORE_STMTS_PG(XX)                                                                         \
    XX(begin, "BEGIN")                                                                             \
    XX(begin_read, "BEGIN ISOLATION LEVEL REPEATABLE READ")                                        \
    XX(inst_next, "SELECT nextval('instance_ids')")                                                \
    XX(run_next, "SELECT nextval('share_run_ids')")

struct store {
    struct db *db;
    bool pg;                      /* on PostgreSQL (else SQLite) */
    struct db_stmt *notify;       /* PostgreSQL: tell the nodes of an activation (nodes.h) */
    struct db_stmt *user_version; /* the schema version; prepared before the migrations */
    char *wal_path;               /* owned: PATH-wal */
    int wal_fd;                   /* for fsync after a deferred commit; -1 until the WAL exists */
    bool sync_full;         /* --sync full: commits are fsynced before they are acknowledged */
    bool degraded;          /* a commit, a statement or an fsync failed for lack of room or I/O */
    int64_t degraded_at_ms; /* when it started (ms since the epoch) */
    char degraded_reason[ERR_DETAIL_MAX]; /* the latest failure's message */
    int pages_at_begin;                   /* pages_written() when the transaction began */
    /* The statements of store_leads.c and store_pipeline.c (store__stmt):
     * each table's, NULL until its first is prepared. */
    struct db_stmt **lazy[STORE_TABLES];
    int lazy_count[STORE_TABLES];
#define XX(name, sql) struct db_stmt *name;
    STORE_STMTS(XX)
#undef XX
};

struct db_stmt *store__stmt(struct store *st, const struct store_sql *table, int which,
                            struct err_detail *why)
{
    struct db_stmt ***slot = &st->lazy[table->slot];
    if (!*slot) {
        if (!(*slot = calloc((size_t)table->count, sizeof **slot))) {
            err_set(why, -ERR_NOMEM, "out of memory");
            return NULL;
        }
        st->lazy_count[table->slot] = table->count;
    }
    struct db_stmt **s = &(*slot)[which];
    const char *sql =
        st->pg && table->pg && table->pg[which] ? table->pg[which] : table->sql[which];
    if (!*s && db_prepare(st->db, sql, s)) {
        store__fail(st, why, "prepare");
        *s = NULL;
    }
    return *s;
}

static void mark_degraded(struct store *st, const char *reason)
{
    if (!st->degraded) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        st->degraded_at_ms = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
    }
    st->degraded = true;
    snprintf(st->degraded_reason, sizeof st->degraded_reason, "%s", reason);
}

/* Pages written to the WAL by this connection so far. SQLite only: a
 * counter of its page cache (SQLITE_DBSTATUS_CACHE_WRITE). */
static int pages_written(struct store *st)
{
    int cur = 0, hi = 0;
    sqlite3 *h = db_sqlite_handle(st->db);
    if (h)
        sqlite3_db_status(h, SQLITE_DBSTATUS_CACHE_WRITE, &cur, &hi, 0);
    return cur;
}

int store__fail(struct store *st, struct err_detail *why, const char *what)
{
    char msg[ERR_DETAIL_MAX];
    snprintf(msg, sizeof msg, "%s: %s", what, db_message(st->db));
    /* Failures of the medium, not of one request: /health reports them. */
    enum db_failure f = db_failure(st->db);
    if (f == DB_FAIL_MEDIUM)
        mark_degraded(st, msg);
    if (f == DB_FAIL_MEDIUM && st->pg) /* the server is gone: try again later */
        return err_set(why, -ERR_UNAVAILABLE, "database unavailable: %s", msg);
    return err_set(why, f == DB_FAIL_BUSY ? -ERR_STORE_BUSY : -ERR_STORE, "%s", msg);
}

int store__done(struct store *st, struct db_stmt *s, struct err_detail *why, const char *what)
{
    int out = db_step(s) == DB_DONE ? 0 : store__fail(st, why, what);
    db_reset(s);
    return out;
}

int store__insert_id(struct store *st, struct db_stmt *s, int64_t *id, struct err_detail *why,
                     const char *what)
{
    /* The insert is done by the step that returns its row. */
    int step = db_step(s), out = 0;
    if (step == DB_ROW)
        *id = db_column_int64(s, 0);
    else if (step == DB_DONE)
        out = err_set(why, -ERR_STORE, "%s: no id returned", what);
    else
        out = store__fail(st, why, what);
    db_reset(s);
    return out;
}

/* Step through a statement's rows, handing each to 'row' until it returns
 * non-zero, then reset the statement. The row's values are borrowed for the
 * call only. */
typedef int row_fn(struct db_stmt *s, void *cb, void *ctx);

static int each_row(struct store *st, struct db_stmt *s, row_fn *row, void *cb, void *ctx,
                    struct err_detail *why, const char *what)
{
    int rc, out = 0;
    while ((rc = db_step(s)) == DB_ROW)
        if (row(s, cb, ctx))
            break;
    if (rc != DB_ROW && rc != DB_DONE)
        out = store__fail(st, why, what);
    db_reset(s);
    return out;
}

/* (unit, amount) rows. */
static int row_total(struct db_stmt *s, void *cb, void *ctx)
{
    return ((store_total_cb *)cb)(db_column_text(s, 0), db_column_int64(s, 1), ctx);
}

/* (unit, hi, lo) rows: a kept sum's two columns, joined (money_join). */
static int row_kept_total(struct db_stmt *s, void *cb, void *ctx)
{
    return ((store_total_cb *)cb)(db_column_text(s, 0),
                                  money_join(db_column_int64(s, 1), db_column_int64(s, 2)), ctx);
}

/* (instance_id, seq, at, actor, action, payload, outcome, rules) rows. */
static int row_event(struct db_stmt *s, void *cb, void *ctx)
{
    struct store_event ev = {
        .instance_id = db_column_int64(s, 0),
        .seq = db_column_int64(s, 1),
        .at_ms = db_column_int64(s, 2),
        .actor = db_column_text(s, 3),
        .action = db_column_text(s, 4),
        .payload = db_column_text(s, 5),
        .outcome = db_column_text(s, 6),
        .rules = db_column_text(s, 7),
        .person = db_column_text(s, 8),
    };
    return ((store_event_cb *)cb)(&ev, ctx);
}

static int exec(struct store *st, const char *sql, struct err_detail *why)
{
    return db_exec(st->db, sql) ? err_set(why, -ERR_STORE, "%s", db_message(st->db)) : 0;
}

/* SQLite: user_version counts the migrations applied, each applied in a
 * transaction of its own (one writer: the file's lock keeps others out). */
static int migrate(struct store *st, struct err_detail *why)
{
    int version = store_schema_version(st);
    if (version > store_migration_count)
        return err_set(why, -ERR_STORE,
                       "database schema %d is newer than this ltcd (%d): refusing to open", version,
                       store_migration_count);
    for (int v = version; v < store_migration_count; v++) {
        char bump[64];
        snprintf(bump, sizeof bump, "PRAGMA user_version=%d", v + 1);
        int rc = exec(st, "BEGIN IMMEDIATE", why);
        if (!rc)
            rc = exec(st, store_migrations[v], why);
        if (!rc)
            rc = exec(st, bump, why);
        if (!rc)
            rc = exec(st, "COMMIT", why);
        if (rc) {
            exec(st, "ROLLBACK", NULL);
            return rc;
        }
    }
    return 0;
}

/* PostgreSQL: ltc_schema's one row holds the version in SQLite's numbering
 * (PostgreSQL's first migration is SQLite's STORE_SCHEMA_PG_BASE). Nodes
 * may start together: an advisory lock, held to the commit, lets one
 * migrate while the others wait, then find the work done. */
static int migrate_pg(struct store *st, struct err_detail *why)
{
    int rc = exec(st,
                  "BEGIN; SELECT pg_advisory_xact_lock(" STORE_PG_MIGRATE_LOCK ");"
                  " CREATE TABLE IF NOT EXISTS ltc_schema (version BIGINT NOT NULL);"
                  " INSERT INTO ltc_schema SELECT 0 WHERE NOT EXISTS (SELECT 1 FROM ltc_schema)",
                  why);
    int version = rc ? -1 : store_schema_version(st);
    if (!rc && version > store_migration_count)
        rc = err_set(why, -ERR_STORE,
                     "database schema %d is newer than this ltcd (%d): refusing to open", version,
                     store_migration_count);
    if (!rc && version > 0 && version < STORE_SCHEMA_PG_BASE)
        rc = err_set(why, -ERR_STORE, "database schema %d is not one of ltcd's", version);
    for (int v = version ? version : STORE_SCHEMA_PG_BASE - 1; !rc && v < store_migration_count;
         v++) {
        char bump[64];
        snprintf(bump, sizeof bump, "UPDATE ltc_schema SET version=%d", v + 1);
        rc = exec(st, store_pg_migrations[v - (STORE_SCHEMA_PG_BASE - 1)], why);
        if (!rc)
            rc = exec(st, bump, why);
    }
    if (!rc)
        return exec(st, "COMMIT", why);
    exec(st, "ROLLBACK", NULL);
    return rc;
}

/* Every statement of STORE_STMTS, prepared once for the connection's life
 * (PostgreSQL's text where STORE_STMTS_PG has one). */
static int prepare_all(struct store *st, struct err_detail *why)
{
    int rc = 0;
#define XX(name, sql) const char *sql_##name = sql;
    STORE_STMTS(XX)
#undef XX
    if (st->pg) {
#define XX(name, sql) sql_##name = sql;
        STORE_STMTS_PG(XX)
#undef XX
    }
#define XX(name, sql)                                                                              \
    if (!rc && db_prepare(st->db, sql_##name, &st->name))                                          \
        rc = store__fail(st, why, "prepare " #name);
    STORE_STMTS(XX)
#undef XX
    return rc;
}

/* A new store on the database at 'path' (db_open: busy timeout set), its
 * schema version statement prepared. */
static int open_db(const char *path, bool read_only, struct store **out, struct err_detail *why)
{
    struct store *st = calloc(1, sizeof *st);
    if (!st)
        return err_set(why, -ERR_NOMEM, "out of memory");
    st->wal_fd = -1;
    int rc = db_open(path, read_only, &st->db, why);
    if (rc) {
        free(st);
        return rc;
    }
    st->pg = db_kind(st->db) == DB_POSTGRESQL;
    if (db_prepare(st->db, st->pg ? "SELECT version FROM ltc_schema" : "PRAGMA user_version",
                   &st->user_version)) {
        rc = store__fail(st, why, "prepare schema version");
        store_close(st);
        return rc;
    }
    *out = st;
    return 0;
}

/* Parts of allocation runs that never got their row (the daemon stopped
 * between two parts, or a part's batch failed after others). */
static int drop_orphan_parts(struct store *st, struct err_detail *why)
{
    return exec(st, "DELETE FROM share_run_parts WHERE run_id NOT IN (SELECT id FROM share_runs)",
                why);
}

/* Listings order by text keys (ids, owners, units); SQLite compares text
 * byte by byte. A PostgreSQL database in a locale's collation would answer
 * the same listings in another order ('a' before 'B'), so it is refused,
 * saying how to make one that sorts as SQLite does. */
static int check_byte_order(struct store *st, struct err_detail *why)
{
    struct db_stmt *s = NULL;
    if (db_prepare(st->db, "SELECT CAST('B' < 'a' AND 'Z' < 'a' AND 'z' < 'é' AS INTEGER)", &s))
        return store__fail(st, why, "check the database's collation");
    int rc = db_step(s) == DB_ROW ? 0 : store__fail(st, why, "check the database's collation");
    if (!rc && db_column_int64(s, 0) != 1)
        rc = err_set(why, -ERR_USAGE,
                     "the database sorts text in its locale's order, not byte by byte as ltcd"
                     " lists (and SQLite sorts): create it with CREATE DATABASE ... TEMPLATE"
                     " template0 LOCALE 'C.UTF-8'");
    db_finalize(s);
    return rc;
}

/* PostgreSQL: the server makes every commit durable (synchronous_commit,
 * on by default); sync_full changes nothing there. */
static int open_pg(struct store *st, struct err_detail *why)
{
    int rc = check_byte_order(st, why);
    if (!rc)
        rc = migrate_pg(st, why);
    if (!rc)
        rc = drop_orphan_parts(st, why);
    if (!rc)
        rc = prepare_all(st, why);
    if (!rc && db_prepare(st->db, "SELECT pg_notify('" STORE_RULES_CHANNEL "', ?1)", &st->notify))
        rc = store__fail(st, why, "prepare notify");
    return rc;
}

int store_open(const char *path, bool sync_full, struct store **out, struct err_detail *why)
{
    struct store *st;
    int rc = open_db(path, false, &st, why);
    if (rc)
        return rc;
    if (st->pg) {
        if ((rc = open_pg(st, why))) {
            store_close(st);
            return rc;
        }
        *out = st;
        return 0;
    }
    /* SQLite's own settings (PRAGMAs), here and below: the WAL, which
     * lets readers on other connections (store_open_reader) never block
     * the writer; how SQLite syncs; foreign keys, off by default. */
    rc = exec(st, "PRAGMA journal_mode=WAL", why);
    if (!rc)
        rc = exec(st, sync_full ? "PRAGMA synchronous=FULL" : "PRAGMA synchronous=NORMAL", why);
    if (!rc)
        rc = exec(st, "PRAGMA foreign_keys=ON", why);
    /* Debian builds SQLite with SECURE_DELETE: every page an update frees
     * would be zeroed on disk. Nothing here needs freed content scrubbed
     * (the whole history stays in the events table anyway). */
    if (!rc)
        rc = exec(st, "PRAGMA secure_delete=OFF", why);
    if (!rc)
        rc = migrate(st, why);
    if (!rc)
        rc = drop_orphan_parts(st, why);
    /* Commits run with synchronous=NORMAL (no fsync inside SQLite); with
     * --sync full, ltcd fsyncs the WAL itself before acknowledging, off the
     * loop thread for group commits (store_commit_deferred). */
    if (!rc)
        rc = exec(st, "PRAGMA synchronous=NORMAL", why);
    st->sync_full = sync_full;
    if (!rc && asprintf(&st->wal_path, "%s-wal", path) < 0)
        rc = err_set(why, -ERR_NOMEM, "out of memory");
    if (!rc)
        rc = prepare_all(st, why);
    if (rc) {
        if (why && why->code == -ERR_STORE && !strstr(why->msg, path)) {
            char tmp[ERR_DETAIL_MAX];
            snprintf(tmp, sizeof tmp, "%s", why->msg);
            err_set(why, why->code, "database %s: %s", path, tmp);
        }
        store_close(st);
        return rc;
    }
    *out = st;
    return 0;
}

int store_open_reader(const char *path, struct store **out, struct err_detail *why)
{
    struct store *st;
    int rc = open_db(path, true, &st, why);
    if (rc)
        return rc;
    if (store_schema_version(st) != store_migration_count)
        rc = err_set(why, -ERR_STORE, "database %s: schema %d, expected %d", path,
                     store_schema_version(st), store_migration_count);
    if (!rc)
        rc = prepare_all(st, why);
    if (rc) {
        store_close(st);
        return rc;
    }
    *out = st;
    return 0;
}

int store_snapshot_begin(struct store *st, struct err_detail *why)
{
    /* A deferred transaction takes its snapshot at its first read. */
    int rc = store__done(st, st->begin_read, why, "begin");
    if (!rc && store_schema_version(st) < 0) {
        store_rollback(st);
        rc = store__fail(st, why, "snapshot");
    }
    return rc;
}

void store_close(struct store *st)
{
    if (!st)
        return;
#define XX(name, sql) db_finalize(st->name);
    STORE_STMTS(XX)
#undef XX
    for (int t = 0; t < STORE_TABLES; t++) {
        for (int i = 0; st->lazy[t] && i < st->lazy_count[t]; i++)
            db_finalize(st->lazy[t][i]);
        free(st->lazy[t]);
    }
    db_finalize(st->user_version);
    db_finalize(st->notify);
    db_close(st->db);
    if (st->wal_fd >= 0)
        close(st->wal_fd);
    free(st->wal_path);
    free(st);
}

int store_schema_version(struct store *st)
{
    int v = -1;
    if (db_step(st->user_version) == DB_ROW)
        v = (int)db_column_int64(st->user_version, 0);
    db_reset(st->user_version);
    return v;
}

int store_begin(struct store *st, struct err_detail *why)
{
    st->pages_at_begin = pages_written(st);
    return store__done(st, st->begin, why, "begin");
}

int store_commit_deferred(struct store *st, struct err_detail *why)
{
    int rc = store__done(st, st->commit, why, "commit");
    if (rc && db_in_transaction(st->db))
        store_rollback(st);
    /* Only a commit that wrote pages proves the medium takes writes again:
     * an empty one (every request of a batch refused) writes nothing. On
     * PostgreSQL the server answering a commit is that proof. */
    if (!rc && (st->pg || pages_written(st) != st->pages_at_begin))
        st->degraded = false;
    return rc;
}

void store_sync_done(struct store *st, int sync_errno)
{
    if (sync_errno) {
        char msg[ERR_DETAIL_MAX];
        snprintf(msg, sizeof msg, "fsync of the WAL failed: %s", strerror(sync_errno));
        mark_degraded(st, msg);
    }
}

const char *store_degraded(const struct store *st, int64_t *since_ms)
{
    if (since_ms)
        *since_ms = st->degraded ? st->degraded_at_ms : 0;
    return st->degraded ? st->degraded_reason : NULL;
}

int store_ping(struct store *st, struct err_detail *why)
{
    return st->pg && store_schema_version(st) < 0 ? store__fail(st, why, "ping") : 0;
}

int store_probe(struct store *st, struct err_detail *why)
{
    if (st->pg && db_reconnect(st->db))
        return store__fail(st, why, "connect again");
    /* Rewriting user_version with its own value changes nothing, yet it
     * writes page 1: a real commit without a table of its own. */
    int version = store_schema_version(st);
    if (version < 0)
        return store__fail(st, why, "probe");
    char sql[64];
    snprintf(sql, sizeof sql,
             st->pg ? "UPDATE ltc_schema SET version=%d" : "PRAGMA user_version=%d", version);
    int rc = store_begin(st, why);
    if (!rc && db_exec(st->db, sql))
        rc = store__fail(st, why, "probe");
    if (!rc)
        return store_commit(st, why);
    store_rollback(st);
    return rc;
}

/* SQLite only: the WAL is the file next to the database (PATH-wal) that
 * every commit appends to, so its fsync makes deferred commits durable. */
int store_sync_fd(struct store *st)
{
    if (!st->sync_full || st->pg)
        return -1;
    if (st->wal_fd < 0) {
        st->wal_fd = open(st->wal_path, O_RDONLY | O_CLOEXEC);
        if (st->wal_fd >= 0) {
            /* The WAL's directory entry must be durable too, once. */
            char *dir = strdup(st->wal_path), *slash = dir ? strrchr(dir, '/') : NULL;
            if (slash)
                *slash = '\0';
            int dfd = open(slash ? dir : ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
            if (dfd >= 0) {
                fsync(dfd);
                close(dfd);
            }
            free(dir);
        }
    }
    return st->wal_fd;
}

int store_commit(struct store *st, struct err_detail *why)
{
    int rc = store_commit_deferred(st, why);
    int fd = rc ? -1 : store_sync_fd(st);
    if (fd >= 0 && fsync(fd)) {
        int e = errno;
        store_sync_done(st, e);
        rc = err_set(why, -ERR_STORE, "the commit may not be durable: fsync of the WAL failed: %s",
                     strerror(e));
    }
    return rc;
}

void store_rollback(struct store *st)
{
    if (db_in_transaction(st->db))
        store__done(st, st->rollback, NULL, "rollback");
}

int store_savepoint(struct store *st, struct err_detail *why)
{
    return store__done(st, st->savepoint, why, "savepoint");
}

void store_release(struct store *st)
{
    store__done(st, st->release, NULL, "release");
}

void store_rollback_to(struct store *st)
{
    store__done(st, st->rollback_to, NULL, "rollback to");
    store__done(st, st->release, NULL, "release");
}

/* Step a statement (its parameters bound) that gives one row of one
 * integer, then reset it. */
static int one_int64(struct store *st, struct db_stmt *s, int64_t *out, struct err_detail *why,
                     const char *what)
{
    int rc = db_step(s) == DB_ROW ? 0 : store__fail(st, why, what);
    *out = rc ? 0 : db_column_int64(s, 0);
    db_reset(s);
    return rc;
}

int store_instance_next_id(struct store *st, int64_t *id, struct err_detail *why)
{
    return one_int64(st, st->inst_next, id, why, "next instance id");
}

/* funnel_value at 'i', outcome at i + 1; both NULL (placed from the
 * document by the schema's triggers) when the caller gave no outcome. */
static void bind_funnel_place(struct db_stmt *s, int i, const struct store_instance *in)
{
    if (in->outcome) {
        db_bind_int64(s, i, in->funnel_value);
        db_bind_text(s, i + 1, in->outcome);
    } else {
        db_bind_null(s, i);
        db_bind_null(s, i + 1);
    }
}

int store_instance_insert(struct store *st, const struct store_instance *in, struct err_detail *why)
{
    struct db_stmt *s = st->inst_insert;
    db_bind_int64(s, 1, in->id);
    db_bind_text(s, 2, in->stage);
    db_bind_text(s, 3, in->region);
    db_bind_text(s, 4, in->office);
    db_bind_text(s, 5, in->temperature);
    db_bind_text(s, 6, in->doc);
    db_bind_int64(s, 7, in->at_ms);
    db_bind_int64(s, 8, in->last_seq);
    db_bind_text(s, 9, in->customer);
    db_bind_int64(s, 10, in->exposure);
    db_bind_text(s, 11, in->owner);
    db_bind_text(s, 12, in->next_review);
    bind_funnel_place(s, 13, in);
    return store__done(st, s, why, "insert instance");
}

int store_instance_update(struct store *st, const struct store_instance *in, struct err_detail *why)
{
    struct db_stmt *s = st->inst_update;
    db_bind_int64(s, 1, in->id);
    db_bind_text(s, 2, in->stage);
    db_bind_text(s, 3, in->temperature);
    db_bind_text(s, 4, in->doc);
    db_bind_int64(s, 5, in->at_ms);
    db_bind_int64(s, 6, in->last_seq);
    db_bind_int64(s, 7, in->exposure);
    db_bind_text(s, 8, in->owner);
    db_bind_text(s, 9, in->next_review);
    db_bind_int64(s, 10, in->prev_seq);
    bind_funnel_place(s, 11, in);
    int rc = store__done(st, s, why, "update instance");
    /* Instances are never deleted: no row changed means another writer
     * (a node on the same PostgreSQL database) moved it on first. */
    if (!rc && db_changes(st->db) != 1)
        rc = err_set(why, -ERR_RACE, "instance %lld changed meanwhile (its last event is not %lld)",
                     (long long)in->id, (long long)in->prev_seq);
    return rc;
}

static char *col_dup(struct db_stmt *s, int i)
{
    const char *t = db_column_text(s, i);
    return t ? strdup(t) : NULL;
}

void store_instance_row_deinit(struct store_instance_row *row)
{
    free(row->stage);
    free(row->region);
    free(row->office);
    free(row->temperature);
    free(row->doc);
    memset(row, 0, sizeof *row);
}

/* Fill a row whose strings borrow from the statement's current row. */
static void row_borrow(struct db_stmt *s, struct store_instance_row *row)
{
    row->id = db_column_int64(s, 0);
    row->stage = (char *)db_column_text(s, 1);
    row->region = (char *)db_column_text(s, 2);
    row->office = (char *)db_column_text(s, 3);
    row->temperature = (char *)db_column_text(s, 4);
    row->doc = (char *)db_column_text(s, 5);
    row->last_seq = db_column_int64(s, 6);
}

int store_instance_where(struct store *st, int64_t id, char region[STORE_ID_SIZE],
                         char office[STORE_ID_SIZE], struct err_detail *why)
{
    struct db_stmt *s = st->inst_where;
    db_bind_int64(s, 1, id);
    int rc = db_step(s), out = 0;
    if (rc == DB_ROW) {
        snprintf(region, STORE_ID_SIZE, "%s", db_column_text(s, 0));
        snprintf(office, STORE_ID_SIZE, "%s", db_column_text(s, 1));
    } else if (rc == DB_DONE) {
        out = err_set(why, -ERR_NOT_FOUND, "instance %lld not found", (long long)id);
    } else {
        out = store__fail(st, why, "get instance");
    }
    db_reset(s);
    return out;
}

int store_instance_get(struct store *st, int64_t id, struct store_instance_row *row,
                       struct err_detail *why)
{
    struct db_stmt *s = st->inst_get;
    db_bind_int64(s, 1, id);
    int rc = db_step(s), out = 0;
    memset(row, 0, sizeof *row);
    if (rc == DB_ROW) {
        row->id = db_column_int64(s, 0);
        row->stage = col_dup(s, 1);
        row->region = col_dup(s, 2);
        row->office = col_dup(s, 3);
        row->temperature = col_dup(s, 4);
        row->doc = col_dup(s, 5);
        row->last_seq = db_column_int64(s, 6);
        if (!row->stage || !row->region || !row->office || !row->doc) {
            store_instance_row_deinit(row);
            out = err_set(why, -ERR_NOMEM, "out of memory");
        }
    } else if (rc == DB_DONE) {
        out = err_set(why, -ERR_NOT_FOUND, "instance %lld not found", (long long)id);
    } else {
        out = store__fail(st, why, "get instance");
    }
    db_reset(s);
    return out;
}

static int row_instance(struct db_stmt *s, void *cb, void *ctx)
{
    struct store_instance_row row;
    row_borrow(s, &row);
    return ((store_instance_cb *)cb)(&row, ctx);
}

int store_instance_list(struct store *st, const struct store_instance_filter *f,
                        store_instance_cb *each, void *ctx, struct err_detail *why)
{
    struct db_stmt *s = f->owner   ? st->inst_list_owner
                        : f->stage ? st->inst_list_stage
                                   : st->inst_list;
    db_bind_int64(s, 1, f->after_id);
    db_bind_text(s, 2, f->stage);
    db_bind_text(s, 3, f->region);
    db_bind_text(s, 4, f->office);
    db_bind_text(s, 5, f->temperature);
    db_bind_int64(s, 6, f->limit);
    db_bind_text(s, 7, f->owner);
    return each_row(st, s, row_instance, (void *)each, ctx, why, "list instances");
}

int store_instance_list_fields(struct store *st, const struct store_instance_filter *f,
                               const char *const *fields, store_instance_cb *each, void *ctx,
                               struct err_detail *why)
{
    /* The database's JSON functions pick the fields out of the stored text,
     * far cheaper than parsing a whole document to read a few of its fields
     * (PostgreSQL's json keeps the text as it is, unlike jsonb). */
    struct buf sql = {0};
    buf_str(&sql, st->pg ? "SELECT id, stage, region, office, temperature, json_build_object("
                         : "SELECT id, stage, region, office, temperature, json_object(");
    int n = 0;
    for (const char *const *k = fields; *k; k++, n++) {
        size_t len = strlen(*k);
        if (n == STORE_FIELDS_MAX || !len || len > 32 ||
            strspn(*k, "abcdefghijklmnopqrstuvwxyz_") != len) {
            buf_deinit(&sql);
            return err_set(why, -ERR_INTERNAL, "list instances: bad field list");
        }
        buf_printf(&sql, st->pg ? "%s'%s', doc::json -> '%s'" : "%s'%s', doc->'$.%s'",
                   n ? ", " : "", *k, *k);
    }
    buf_str(&sql, st->pg ? ")::text, last_seq FROM" : "), last_seq FROM");
    buf_str(&sql, " instances WHERE id > ?1 AND (stage=?2 OR ?2 IS NULL)"
                  " AND (region=?3 OR ?3 IS NULL) AND (office=?4 OR ?4 IS NULL)"
                  " AND (temperature=?5 OR ?5 IS NULL) ORDER BY id LIMIT ?6");
    struct db_stmt *s = NULL;
    int rc = sql.failed ? err_set(why, -ERR_NOMEM, "out of memory") : 0;
    if (!rc && db_prepare(st->db, sql.p, &s))
        rc = store__fail(st, why, "list instances");
    buf_deinit(&sql);
    if (rc)
        return rc;
    db_bind_int64(s, 1, f->after_id);
    db_bind_text(s, 2, f->stage);
    db_bind_text(s, 3, f->region);
    db_bind_text(s, 4, f->office);
    db_bind_text(s, 5, f->temperature);
    db_bind_int64(s, 6, f->limit);
    rc = each_row(st, s, row_instance, (void *)each, ctx, why, "list instances");
    db_finalize(s);
    return rc;
}

int store_event_append(struct store *st, const struct store_event *ev, struct err_detail *why)
{
    struct db_stmt *s = st->ev_insert;
    db_bind_int64(s, 1, ev->instance_id);
    db_bind_int64(s, 2, ev->seq);
    db_bind_int64(s, 3, ev->at_ms);
    db_bind_text(s, 4, ev->actor);
    db_bind_text(s, 5, ev->action);
    db_bind_text(s, 6, ev->payload);
    db_bind_text(s, 7, ev->outcome);
    db_bind_text(s, 8, ev->rules);
    db_bind_text(s, 9, ev->person);
    return store__done(st, s, why, "append event");
}

int store_event_list(struct store *st, int64_t instance_id, store_event_cb *each, void *ctx,
                     struct err_detail *why)
{
    db_bind_int64(st->ev_list, 1, instance_id);
    return each_row(st, st->ev_list, row_event, (void *)each, ctx, why, "list events");
}

int64_t store_instance_count(struct store *st)
{
    int64_t n = -1;
    if (db_step(st->inst_count) == DB_ROW)
        n = db_column_int64(st->inst_count, 0);
    db_reset(st->inst_count);
    return n;
}

int store_integrity_check(struct store *st, struct err_detail *why)
{
    if (st->pg)
        return 0; /* the server checks its own pages (and its checksums, when on) */
    struct db_stmt *s;
    if (db_prepare(st->db, "PRAGMA integrity_check", &s))
        return store__fail(st, why, "integrity_check");
    int out = 0;
    if (db_step(s) != DB_ROW)
        out = store__fail(st, why, "integrity_check");
    else if (strcmp(db_column_text(s, 0), "ok"))
        out = err_set(why, -ERR_STORE, "integrity_check: %s", db_column_text(s, 0));
    db_finalize(s);
    return out;
}

/* --- rule versions ------------------------------------------------------ */

int store_rule_version_insert(struct store *st, const struct store_rule_version *v,
                              struct err_detail *why)
{
    struct db_stmt *s = st->rv_insert;
    db_bind_text(s, 1, v->owner);
    db_bind_int64(s, 2, v->version);
    db_bind_text(s, 3, v->hash);
    db_bind_text(s, 4, v->status);
    db_bind_text(s, 5, v->files);
    db_bind_text(s, 6, v->origin);
    db_bind_int64(s, 7, v->created_at_ms);
    db_bind_text(s, 8, v->created_by);
    db_bind_text(s, 9, v->reason);
    db_bind_text(s, 10, v->signature);
    if (v->base > 0)
        db_bind_int64(s, 11, v->base);
    else
        db_bind_null(s, 11);
    int rc = store__done(st, s, why, "insert rule version");
    /* Another node numbered a version of the owner the same meanwhile. */
    if (rc && db_failure(st->db) == DB_FAIL_CONSTRAINT)
        rc = err_set(why, -ERR_RACE, "%s v%d was submitted meanwhile by another request: try again",
                     v->owner, v->version);
    return rc;
}

static int int_query(struct store *st, struct db_stmt *s, int *out, struct err_detail *why,
                     const char *what)
{
    int rc = db_step(s), res = 0;
    *out = 0;
    if (rc == DB_ROW)
        *out = (int)db_column_int64(s, 0);
    else if (rc != DB_DONE)
        res = store__fail(st, why, what);
    db_reset(s);
    return res;
}

int store_rule_version_by_hash(struct store *st, const char *owner, const char *hash, int *version,
                               struct err_detail *why)
{
    db_bind_text(st->rv_by_hash, 1, owner);
    db_bind_text(st->rv_by_hash, 2, hash);
    return int_query(st, st->rv_by_hash, version, why, "find rule version");
}

int store_rule_version_max(struct store *st, const char *owner, int *version,
                           struct err_detail *why)
{
    db_bind_text(st->rv_max, 1, owner);
    return int_query(st, st->rv_max, version, why, "max rule version");
}

/* PostgreSQL: tell the other nodes (at the commit) that the rules of
 * 'owner' changed. */
static int notify(struct store *st, const char *owner, struct err_detail *why)
{
    if (!st->notify)
        return 0;
    db_bind_text(st->notify, 1, owner);
    int step = db_step(st->notify);
    db_reset(st->notify);
    return step == DB_ROW ? 0 : store__fail(st, why, "notify the other nodes");
}

#define STORE_PG_NODES_LOCK "7418318"

int store_nodes_lock(struct store *st, struct err_detail *why)
{
    return st->pg ? exec(st, "SELECT pg_advisory_lock(" STORE_PG_NODES_LOCK ")", why) : 0;
}

void store_nodes_unlock(struct store *st)
{
    if (st->pg)
        exec(st, "SELECT pg_advisory_unlock(" STORE_PG_NODES_LOCK ")", NULL);
}

int store_rule_activate(struct store *st, const char *owner, int version, int64_t at_ms,
                        const char *approved_by, struct err_detail *why)
{
    db_bind_text(st->rv_activate, 1, owner);
    db_bind_int64(st->rv_activate, 2, version);
    db_bind_int64(st->rv_activate, 3, at_ms);
    db_bind_text(st->rv_activate, 4, approved_by);
    int rc = store__done(st, st->rv_activate, why, "activate rule version");
    if (rc)
        return rc;
    if (db_changes(st->db) != 1) {
        char status[16];
        if ((rc = store_rule_version_status(st, owner, version, status, why)))
            return rc;
        if (!status[0])
            return err_set(why, -ERR_NOT_FOUND, "%s version %d not found", owner, version);
        return err_set(why, -ERR_CONFLICT, "%s v%d is active already", owner, version);
    }
    db_bind_text(st->rv_retire, 1, owner);
    db_bind_int64(st->rv_retire, 2, version);
    if ((rc = store__done(st, st->rv_retire, why, "retire rule version")))
        return rc;
    db_bind_text(st->ra_set, 1, owner);
    db_bind_int64(st->ra_set, 2, version);
    rc = store__done(st, st->ra_set, why, "set active rule version");
    return rc ? rc : notify(st, owner, why);
}

int store_rule_set_status(struct store *st, const char *owner, int version, const char *status,
                          const char *reason, struct err_detail *why)
{
    db_bind_text(st->rv_status, 1, owner);
    db_bind_int64(st->rv_status, 2, version);
    db_bind_text(st->rv_status, 3, status);
    db_bind_text(st->rv_status, 4, reason);
    return store__done(st, st->rv_status, why, "set rule version status");
}

static int row_active(struct db_stmt *s, void *cb, void *ctx)
{
    return ((store_rule_active_cb *)cb)(db_column_text(s, 0), (int)db_column_int64(s, 1), ctx);
}

int store_rule_active_list(struct store *st, store_rule_active_cb *each, void *ctx,
                           struct err_detail *why)
{
    return each_row(st, st->ra_list, row_active, (void *)each, ctx, why, "list active rules");
}

static void rv_borrow(struct db_stmt *s, struct store_rule_version *v)
{
    v->owner = db_column_text(s, 0);
    v->version = (int)db_column_int64(s, 1);
    v->hash = db_column_text(s, 2);
    v->status = db_column_text(s, 3);
    v->files = db_column_text(s, 4);
    v->origin = db_column_text(s, 5);
    v->created_at_ms = db_column_int64(s, 6);
    v->created_by = db_column_text(s, 7);
    v->activated_at_ms = db_column_int64(s, 8);
    v->approved_by = db_column_text(s, 9);
    v->reason = db_column_text(s, 10);
    v->signature = db_column_text(s, 11);
    v->base = (int)db_column_int64(s, 12);
}

int store_rule_version_get(struct store *st, const char *owner, int version,
                           store_rule_version_cb *each, void *ctx, struct err_detail *why)
{
    struct db_stmt *s = st->rv_get;
    db_bind_text(s, 1, owner);
    db_bind_int64(s, 2, version);
    int rc = db_step(s), out = 0;
    if (rc == DB_ROW) {
        struct store_rule_version v;
        rv_borrow(s, &v);
        out = each(&v, ctx);
    } else if (rc == DB_DONE) {
        out = err_set(why, -ERR_NOT_FOUND, "%s version %d not found", owner, version);
    } else {
        out = store__fail(st, why, "get rule version");
    }
    db_reset(s);
    return out;
}

static int row_version(struct db_stmt *s, void *cb, void *ctx)
{
    struct store_rule_version v;
    rv_borrow(s, &v);
    return ((store_rule_version_cb *)cb)(&v, ctx);
}

int store_rule_version_list(struct store *st, const char *owner, store_rule_version_cb *each,
                            void *ctx, struct err_detail *why)
{
    db_bind_text(st->rv_list, 1, owner);
    return each_row(st, st->rv_list, row_version, (void *)each, ctx, why, "list rule versions");
}

int store_rule_event_append(struct store *st, const char *owner, int version, int64_t at_ms,
                            const char *actor, const char *action, const char *hash,
                            const char *message, struct err_detail *why)
{
    struct db_stmt *s = st->re_insert;
    db_bind_text(s, 1, owner);
    if (version > 0)
        db_bind_int64(s, 2, version);
    else
        db_bind_null(s, 2);
    db_bind_int64(s, 3, at_ms);
    db_bind_text(s, 4, actor);
    db_bind_text(s, 5, action);
    db_bind_text(s, 6, hash);
    db_bind_text(s, 7, message);
    return store__done(st, s, why, "append rule event");
}

bool store_in_transaction(struct store *st)
{
    return db_in_transaction(st->db);
}

int store_rule_supersede(struct store *st, const char *owner, int by_version, int64_t at_ms,
                         const char *actor, struct err_detail *why)
{
    db_bind_text(st->rv_supersede_audit, 1, owner);
    db_bind_int64(st->rv_supersede_audit, 2, by_version);
    db_bind_int64(st->rv_supersede_audit, 3, at_ms);
    db_bind_text(st->rv_supersede_audit, 4, actor);
    int rc = store__done(st, st->rv_supersede_audit, why, "audit superseded rule versions");
    if (rc)
        return rc;
    db_bind_text(st->rv_supersede, 1, owner);
    db_bind_int64(st->rv_supersede, 2, by_version);
    return store__done(st, st->rv_supersede, why, "supersede rule versions");
}

int store_customer_exposure(struct store *st, const char *customer, int64_t exclude_id,
                            int64_t *out, struct err_detail *why)
{
    struct db_stmt *s = st->exposure;
    db_bind_text(s, 1, customer);
    db_bind_int64(s, 2, exclude_id);
    int step = db_step(s), rc = 0;
    *out = 0;
    if (step == DB_ROW)
        *out = money_join(db_column_int64(s, 0), db_column_int64(s, 1));
    else if (step != DB_DONE)
        rc = store__fail(st, why, "customer exposure");
    db_reset(s);
    return rc;
}

int store_rule_version_previous(struct store *st, const char *owner, int *version,
                                struct err_detail *why)
{
    db_bind_text(st->rv_previous, 1, owner);
    return int_query(st, st->rv_previous, version, why, "previous rule version");
}

static int row_rule_event(struct db_stmt *s, void *cb, void *ctx)
{
    struct store_rule_event e = {
        .owner = db_column_text(s, 0),
        .version = (int)db_column_int64(s, 1),
        .at_ms = db_column_int64(s, 2),
        .actor = db_column_text(s, 3),
        .action = db_column_text(s, 4),
        .hash = db_column_text(s, 5),
        .message = db_column_text(s, 6),
    };
    return ((store_rule_event_cb *)cb)(&e, ctx);
}

int store_rule_event_list(struct store *st, const char *owner, store_rule_event_cb *each, void *ctx,
                          struct err_detail *why)
{
    db_bind_text(st->re_list, 1, owner);
    return each_row(st, st->re_list, row_rule_event, (void *)each, ctx, why, "list rule events");
}

/* --- rule lineage ----------------------------------------------------------- */

int store_rule_version_head(struct store *st, const char *owner, int *version,
                            struct err_detail *why)
{
    db_bind_text(st->rv_head, 1, owner);
    return int_query(st, st->rv_head, version, why, "newest rule version");
}

int store_rule_version_dropped(struct store *st, const char *owner, const char *hash, int *version,
                               struct err_detail *why)
{
    db_bind_text(st->rv_dropped, 1, owner);
    db_bind_text(st->rv_dropped, 2, hash);
    return int_query(st, st->rv_dropped, version, why, "find dropped rule version");
}

int store_rule_number_next(struct store *st, const char *owner, const char *key, int *number,
                           struct err_detail *why)
{
    int max = 0, last = 0, same = 0, rc = store_rule_version_max(st, owner, &max, why);
    if (rc)
        return rc;
    struct db_stmt *s = st->rn_get;
    db_bind_text(s, 1, owner);
    db_bind_text(s, 2, key);
    if (db_step(s) == DB_ROW) {
        last = (int)db_column_int64(s, 0);
        same = (int)db_column_int64(s, 1);
    } else {
        rc = store__fail(st, why, "rule numbers");
    }
    db_reset(s);
    if (rc)
        return rc;
    /* Content refused before gets its number back, unless a stored version
     * is newer: stored numbers only grow. */
    *number = same > max ? same : (last > max ? last : max) + 1;
    return 0;
}

int store_rule_number_spend(struct store *st, const char *owner, int number, const char *key,
                            struct err_detail *why)
{
    db_bind_text(st->rn_set, 1, owner);
    db_bind_int64(st->rn_set, 2, number);
    db_bind_text(st->rn_set, 3, key);
    return store__done(st, st->rn_set, why, "spend rule number");
}

int store_rule_disk_get(struct store *st, const char *owner, char hash[65], char **files,
                        struct err_detail *why)
{
    struct db_stmt *s = st->rd_get;
    db_bind_text(s, 1, owner);
    int step = db_step(s), rc = 0;
    hash[0] = '\0';
    *files = NULL;
    if (step == DB_ROW) {
        snprintf(hash, 65, "%s", db_column_text(s, 0));
        const char *f = db_column_text(s, 1);
        if (!(*files = strdup(f ? f : "{}")))
            rc = err_set(why, -ERR_NOMEM, "out of memory");
    } else if (step != DB_DONE) {
        rc = store__fail(st, why, "rules read from disk");
    }
    db_reset(s);
    return rc;
}

int store_rule_disk_set(struct store *st, const char *owner, const char *hash, const char *files,
                        int64_t at_ms, struct err_detail *why)
{
    struct db_stmt *s = st->rd_set;
    db_bind_text(s, 1, owner);
    db_bind_text(s, 2, hash);
    db_bind_text(s, 3, files);
    db_bind_int64(s, 4, at_ms);
    return store__done(st, s, why, "record rules read from disk");
}

/* --- ledger, allocation runs, targets ------------------------------------- */

int store_ledger_append(struct store *st, const struct store_ledger *e, struct err_detail *why)
{
    struct db_stmt *s = st->ledger_insert;
    db_bind_int64(s, 1, e->instance_id);
    db_bind_int64(s, 2, e->seq);
    db_bind_text(s, 3, e->kind);
    db_bind_int64(s, 4, e->amount);
    db_bind_double(s, 5, e->margin);
    db_bind_text(s, 6, e->at);
    db_bind_text(s, 7, e->region);
    db_bind_text(s, 8, e->office);
    db_bind_text(s, 9, e->customer);
    db_bind_text(s, 10, e->product_line);
    db_bind_text(s, 11, e->ar);
    db_bind_text(s, 12, e->sr);
    db_bind_text(s, 13, e->fr);
    return store__done(st, s, why, "append ledger entry");
}

static int row_project(struct db_stmt *s, void *cb, void *ctx)
{
    struct store_project p = {
        .instance_id = db_column_int64(s, 0),
        .region = db_column_text(s, 1),
        .office = db_column_text(s, 2),
        .customer = db_column_text(s, 3),
        .product_line = db_column_text(s, 4),
        .ar = db_column_text(s, 5),
        .sr = db_column_text(s, 6),
        .fr = db_column_text(s, 7),
        .amount = db_column_int64(s, 8),
        .amount_x_margin = db_column_double(s, 9),
        .records = db_column_int64(s, 10),
    };
    return ((store_project_cb *)cb)(&p, ctx);
}

int store_ledger_projects(struct store *st, const char *kind, const char *from, const char *to,
                          store_project_cb *each, void *ctx, struct err_detail *why)
{
    db_bind_text(st->ledger_projects, 1, kind);
    db_bind_text(st->ledger_projects, 2, from);
    db_bind_text(st->ledger_projects, 3, to);
    return each_row(st, st->ledger_projects, row_project, (void *)each, ctx, why,
                    "ledger by project");
}

int store_ledger_offices(struct store *st, const char *kind, const char *from, const char *to,
                         store_total_cb *each, void *ctx, struct err_detail *why)
{
    db_bind_text(st->ledger_offices, 1, kind);
    db_bind_text(st->ledger_offices, 2, from);
    db_bind_text(st->ledger_offices, 3, to);
    return each_row(st, st->ledger_offices, row_kept_total, (void *)each, ctx, why,
                    "ledger by office");
}

int store_share_run_reserve(struct store *st, int64_t *id, struct err_detail *why)
{
    return one_int64(st, st->run_next, id, why, "next share run id");
}

int store_share_run_part(struct store *st, int64_t id, int part, const char *text, size_t len,
                         struct err_detail *why)
{
    struct db_stmt *s = st->run_part;
    db_bind_int64(s, 1, id);
    db_bind_int64(s, 2, part);
    db_bind_text_n(s, 3, text, len);
    return store__done(st, s, why, "insert share run part");
}

int store_share_run_insert(struct store *st, int64_t id, const char *period, int64_t pool,
                           const char *hash, int64_t at_ms, const char *by, struct err_detail *why)
{
    struct db_stmt *s = st->run_insert;
    db_bind_int64(s, 1, id);
    db_bind_text(s, 2, period);
    db_bind_int64(s, 3, pool);
    db_bind_text(s, 4, hash);
    db_bind_int64(s, 5, at_ms);
    db_bind_text(s, 6, by);
    return store__done(st, s, why, "insert share run");
}

int store_share_run_get(struct store *st, int64_t id, char **result, struct err_detail *why)
{
    struct db_stmt *s = st->run_get;
    *result = NULL;
    db_bind_int64(s, 1, id);
    int rc = db_step(s), out = 0;
    if (rc == DB_ROW && db_column_bytes(s, 0) > 0)
        *result = col_dup(s, 0);
    else if (rc == DB_DONE)
        out = err_set(why, -ERR_NOT_FOUND, "share run %lld not found", (long long)id);
    else if (rc != DB_ROW)
        out = store__fail(st, why, "get share run");
    db_reset(s);
    if (out || *result)
        return out;
    struct buf text = {0};
    s = st->run_parts;
    db_bind_int64(s, 1, id);
    while ((rc = db_step(s)) == DB_ROW)
        buf_put(&text, db_column_text(s, 0), (size_t)db_column_bytes(s, 0));
    if (rc != DB_DONE)
        out = store__fail(st, why, "get share run parts");
    db_reset(s);
    if (!out && text.failed)
        out = err_set(why, -ERR_NOMEM, "out of memory");
    if (out)
        buf_deinit(&text);
    else
        *result = buf_take(&text, NULL);
    return out;
}

int store_target_set(struct store *st, const char *unit, const char *period, const char *metric,
                     int64_t amount, int64_t at_ms, const char *by, struct err_detail *why)
{
    struct db_stmt *s = st->target_set;
    db_bind_text(s, 1, unit);
    db_bind_text(s, 2, period);
    db_bind_text(s, 3, metric);
    db_bind_int64(s, 4, amount);
    db_bind_int64(s, 5, at_ms);
    db_bind_text(s, 6, by);
    return store__done(st, s, why, "set target");
}

int store_target_list(struct store *st, const char *period, const char *metric,
                      store_total_cb *each, void *ctx, struct err_detail *why)
{
    db_bind_text(st->target_list, 1, period);
    db_bind_text(st->target_list, 2, metric);
    return each_row(st, st->target_list, row_total, (void *)each, ctx, why, "list targets");
}

/* --- shadow runs (issue 11) ----------------------------------------------- */

int store_shadow_start(struct store *st, const struct store_shadow *s, int64_t *id,
                       struct err_detail *why)
{
    struct db_stmt *q = st->shadow_replace;
    db_bind_text(q, 1, s->owner);
    db_bind_int64(q, 2, s->version);
    db_bind_int64(q, 3, s->started_at_ms);
    int rc = store__done(st, q, why, "replace shadow run");
    if (rc)
        return rc;
    q = st->shadow_insert;
    db_bind_text(q, 1, s->owner);
    db_bind_int64(q, 2, s->version);
    db_bind_int64(q, 3, s->started_at_ms);
    db_bind_int64(q, 4, s->until_ms);
    db_bind_text(q, 5, s->started_by);
    rc = store__insert_id(st, q, id, why, "insert shadow run");
    return rc ? rc : notify(st, s->owner, why);
}

int store_shadow_end(struct store *st, int64_t id, int64_t at_ms, const char *reason,
                     struct err_detail *why)
{
    db_bind_int64(st->shadow_end, 1, id);
    db_bind_int64(st->shadow_end, 2, at_ms);
    db_bind_text(st->shadow_end, 3, reason);
    return store__done(st, st->shadow_end, why, "end shadow run");
}

static int row_shadow(struct db_stmt *s, void *cb, void *ctx)
{
    struct store_shadow sh = {
        .id = db_column_int64(s, 0),
        .owner = db_column_text(s, 1),
        .version = (int)db_column_int64(s, 2),
        .started_at_ms = db_column_int64(s, 3),
        .until_ms = db_column_int64(s, 4),
        .started_by = db_column_text(s, 5),
        .ended_at_ms = db_column_int64(s, 6),
        .end_reason = db_column_text(s, 7),
    };
    return ((store_shadow_cb *)cb)(&sh, ctx);
}

int store_shadow_newest(struct store *st, const char *owner, int version, store_shadow_cb *each,
                        void *ctx, struct err_detail *why)
{
    db_bind_text(st->shadow_newest, 1, owner);
    db_bind_int64(st->shadow_newest, 2, version);
    return each_row(st, st->shadow_newest, row_shadow, (void *)each, ctx, why, "get shadow run");
}

int store_shadow_running(struct store *st, int64_t now_ms, store_shadow_cb *each, void *ctx,
                         struct err_detail *why)
{
    db_bind_int64(st->shadow_running, 1, now_ms);
    return each_row(st, st->shadow_running, row_shadow, (void *)each, ctx, why, "list shadow runs");
}

int store_shadow_result_insert(struct store *st, const struct store_shadow_result *r,
                               struct err_detail *why)
{
    struct db_stmt *s = st->shadow_result_insert;
    db_bind_int64(s, 1, r->shadow_id);
    db_bind_int64(s, 2, r->instance_id);
    db_bind_int64(s, 3, r->at_ms);
    db_bind_int64(s, 4, r->differs ? 1 : 0);
    db_bind_text(s, 5, r->error);
    db_bind_text(s, 6, r->summary);
    db_bind_text(s, 7, r->active);
    return store__done(st, s, why, "insert shadow result");
}

int store_shadow_counts(struct store *st, int64_t shadow_id, int64_t *evaluated, int64_t *differing,
                        int64_t *failed, struct err_detail *why)
{
    struct db_stmt *s = st->shadow_counts;
    db_bind_int64(s, 1, shadow_id);
    int rc = db_step(s), out = 0;
    *evaluated = *differing = *failed = 0;
    if (rc == DB_ROW) {
        *evaluated = db_column_int64(s, 0);
        *differing = db_column_int64(s, 1);
        *failed = db_column_int64(s, 2);
    } else {
        out = store__fail(st, why, "count shadow results");
    }
    db_reset(s);
    return out;
}

static int row_shadow_result(struct db_stmt *s, void *cb, void *ctx)
{
    struct store_shadow_result r = {
        .shadow_id = db_column_int64(s, 0),
        .instance_id = db_column_int64(s, 1),
        .at_ms = db_column_int64(s, 2),
        .differs = db_column_int64(s, 3) != 0,
        .error = db_column_text(s, 4),
        .summary = db_column_text(s, 5),
        .active = db_column_text(s, 6),
    };
    return ((store_shadow_result_cb *)cb)(&r, ctx);
}

int store_shadow_examples(struct store *st, int64_t shadow_id, int limit,
                          store_shadow_result_cb *each, void *ctx, struct err_detail *why)
{
    db_bind_int64(st->shadow_examples, 1, shadow_id);
    db_bind_int64(st->shadow_examples, 2, limit);
    return each_row(st, st->shadow_examples, row_shadow_result, (void *)each, ctx, why,
                    "list shadow results");
}

int store_rule_version_status(struct store *st, const char *owner, int version, char *status,
                              struct err_detail *why)
{
    struct db_stmt *s = st->rv_status_get;
    db_bind_text(s, 1, owner);
    db_bind_int64(s, 2, version);
    int rc = db_step(s), out = 0;
    status[0] = '\0';
    if (rc == DB_ROW)
        snprintf(status, 16, "%s", db_column_text(s, 0));
    else if (rc != DB_DONE)
        out = store__fail(st, why, "rule version status");
    db_reset(s);
    return out;
}

int store_instance_stage_counts(struct store *st, store_total_cb *each, void *ctx,
                                struct err_detail *why)
{
    return each_row(st, st->stage_counts, row_total, (void *)each, ctx, why,
                    "count instances by stage");
}

static int row_funnel(struct db_stmt *s, void *cb, void *ctx)
{
    /* funnel_sums.outcome is a TEXT column: whatever the document held is
     * text there, and nullif makes '' (not closed) NULL. */
    const char *outcome = db_column_null(s, 1) ? NULL : db_column_text(s, 1);
    return ((store_funnel_cb *)cb)(db_column_text(s, 0), outcome, db_column_int64(s, 2),
                                   money_join(db_column_int64(s, 3), db_column_int64(s, 4)), ctx);
}

int store_funnel(struct store *st, const char *region, const char *office, store_funnel_cb *each,
                 void *ctx, struct err_detail *why)
{
    db_bind_text(st->funnel, 1, region);
    db_bind_text(st->funnel, 2, office);
    return each_row(st, st->funnel, row_funnel, (void *)each, ctx, why, "funnel");
}

int store_recent_events(struct store *st, const char *region, const char *office, int limit,
                        store_event_cb *each, void *ctx, struct err_detail *why)
{
    db_bind_text(st->recent, 1, region);
    db_bind_text(st->recent, 2, office);
    db_bind_int64(st->recent, 3, limit);
    return each_row(st, st->recent, row_event, (void *)each, ctx, why, "recent events");
}
