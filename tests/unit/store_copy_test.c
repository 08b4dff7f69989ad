/* tests/unit/store_copy_test.c: ltcd --copy-db (store_copy.h). A SQLite
 * source with what is hard to copy exactly (summary rows the triggers would
 * change, a row of the funnel at count 0, a real that is not a short
 * decimal, NULLs, text beyond ASCII, a 4 MiB allocation part) copied to
 * SQLite and through PostgreSQL (the pg_ tests: LTC_PG_URI, a schema of the
 * test's own), compared row for row; DESTs that must be refused, and a
 * difference the verification must find, leave no DEST. */
#include <sys/resource.h>
#include <sys/stat.h>

#include "test.h"
#define SCRATCH_NAME "store_copy"
#include "buf.h"
#include "db.h"
#include "scratch_store.h"
#include "store_copy.h"
#include "store_schema.h"

static char src[300], dest[300], back[300];

/* ASan keeps freed memory in quarantine: the peak says nothing there. */
#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define PEAK_UNMEASURED 1
#endif
#endif
#ifndef PEAK_UNMEASURED
#define PEAK_UNMEASURED 0
#endif

/* A SQLite source made by store_open (the daemon's migrations), and rows
 * written under it as the engine would, triggers firing. */
static int make_src(void)
{
    scratch_pg = 0;
    struct store *st = fresh();
    if (!st)
        return -1;
    store_close(st);
    snprintf(src, sizeof src, "%s", dbpath);
    snprintf(dest, sizeof dest, "/tmp/ltcd-copy-test-%d-dest.db", getpid());
    snprintf(back, sizeof back, "/tmp/ltcd-copy-test-%d-back.db", getpid());
    const char *all[] = {dest, back};
    for (int i = 0; i < 2; i++) {
        char p[400];
        unlink(all[i]);
        snprintf(p, sizeof p, "%s-wal", all[i]);
        unlink(p);
    }
    struct err_detail why = {0};
    struct db *db = NULL;
    if (db_open(src, false, &db, &why))
        return -1;
    struct buf big = {0};
    for (int i = 0; i < 4 * 1024 * 1024 / 16; i++)
        buf_str(&big, i % 2 ? "0123456789abcdé\n" : "ü-56789abcdefgh\n");
    struct db_stmt *part = NULL;
    int rc = db_exec(
        db,
        "BEGIN;"
        "INSERT INTO instances(id, stage, region, office, temperature, doc, created_at,"
        " updated_at, last_seq, customer, exposure, owner, review_due) VALUES"
        " (1, 'lead', 'south', 'province-a', 'hot', '{\"budget\":{\"amount\":500}}', 1, 2, 2,"
        "  'ACME 电信', 0, 'amy', ''),"
        " (2, 'contract', 'south', 'province-a', NULL, '{\"contract\":{\"value\":900}}', 3, 4, 1,"
        "  'ACME 电信', 900, NULL, NULL),"
        " (5, 'lead', 'north', 'city-c', NULL, '{}', 5, 5, 1, NULL, 0, 'bob', '2026-01-01');"
        /* A funnel row that fell to 0 stays: a recomputation would drop it. */
        "UPDATE instances SET stage = 'opportunity', doc = '{\"budget\":{\"amount\":700}}'"
        " WHERE id = 1;"
        "INSERT INTO events(instance_id, seq, at, actor, action, payload, outcome, rules, person)"
        " VALUES (1, 1, 1, 'office/province-a:ar', 'create', '{}', '{}', '{\"hq\":1}', 'pa-ar'),"
        " (1, 2, 2, 'hq:admin', 'review', '{\"note\":\"ü\\n\"}', '{}', '{\"hq\":1}', NULL),"
        " (2, 1, 3, 'hq:admin', 'create', '{}', '{}', '{\"hq\":1}', NULL);"
        "INSERT INTO ledger(instance_id, seq, kind, amount, margin, at, region, office, customer,"
        " product_line, ar, sr, fr) VALUES (2, 1, 'order', 900, 0.1 + 0.2, '2026-02-01',"
        " 'south', 'province-a', 'ACME 电信', 'g', 'amy', NULL, 'fr'),"
        " (2, 1, 'cash', 450, 1e-300, '2026-03-01', 'south', 'province-a', 'ACME 电信', 'g',"
        " 'amy', NULL, 'fr');"
        "INSERT INTO forecasts VALUES (2, 'south', 'province-a', 'ACME 电信', '2026-04', 900, 450,"
        " 'commit', '{\"hq\":1}');"
        "INSERT INTO rule_versions(owner, version, hash, status, files, origin, created_at,"
        " created_by) VALUES ('hq', 1, 'h', 'active', '{}', 'disk', 1, 'ltcd'),"
        " ('region/south', 1, 'h2', 'active', '{}', 'disk', 1, 'ltcd');"
        "INSERT INTO rule_active VALUES ('hq', 1), ('region/south', 1);"
        "INSERT INTO rule_events(owner, version, at, actor, action) VALUES ('hq', 1, 1, 'a', 'x');"
        "INSERT INTO share_runs VALUES (3, '2026', 1000, 'ih', '', 9, 'hq:admin');"
        "INSERT INTO people VALUES ('amy', 'south', 'province-a', 1, '{}', 1, 'hq:admin'),"
        " ('Bob', 'south', 'province-a', 0, '{}', 1, 'hq:admin');"
        "INSERT INTO activities(region, person, office, customer, kind, at, budget_year, doc,"
        " created_at, created_by) VALUES ('south', 'amy', 'province-a', 'acme', 'visit',"
        " '2026-01-20', NULL, '{}', 1, 'x');"
        "INSERT INTO reviews VALUES (4, 'office/province-a', '2026-01-15', '{}', 1, 'x');"
        "INSERT INTO targets VALUES ('hq', '2026', 'cash', 2000000000, 1, 'hq:admin');");
    if (!rc)
        rc = db_prepare(db, "INSERT INTO share_run_parts VALUES (3, 0, ?1)", &part);
    if (!rc) {
        db_bind_text_n(part, 1, big.p, big.len);
        rc = db_step(part) == DB_DONE ? 0 : -1;
        db_finalize(part);
    }
    if (!rc)
        rc = db_exec(db, "COMMIT");
    if (rc)
        fprintf(stderr, "# populate: %s\n", db_message(db));
    buf_deinit(&big);
    db_close(db);
    return rc;
}

/* Every table of 'path' as text, in key order: what two SQLite databases
 * must have alike. */
static char *dump(const char *path)
{
    struct db *db = NULL;
    struct err_detail why = {0};
    if (db_open(path, true, &db, &why))
        return NULL;
    struct buf out = {0};
    for (int t = 0; t < store_copydb_table_count(); t++) {
        char sql[200];
        snprintf(sql, sizeof sql, "SELECT count(*) FROM pragma_table_info('%s')",
                 store_copydb_table_name(t));
        struct db_stmt *s = NULL;
        int cols = 0;
        if (!db_prepare(db, sql, &s) && db_step(s) == DB_ROW)
            cols = (int)db_column_int64(s, 0);
        db_finalize(s);
        s = NULL;
        struct buf q = {0};
        buf_printf(&q, "SELECT * FROM %s ORDER BY 1", store_copydb_table_name(t));
        for (int c = 2; c <= cols; c++)
            buf_printf(&q, ", %d", c);
        int rc = db_prepare(db, q.p, &s);
        buf_deinit(&q);
        if (rc)
            break;
        buf_printf(&out, "[%s]\n", store_copydb_table_name(t));
        while (db_step(s) == DB_ROW) {
            for (int c = 0; c < 14; c++) {
                const char *v = db_column_text(s, c);
                buf_str(&out, v ? v : "<null>");
                buf_str(&out, "|");
            }
            buf_printf(&out, "%.17g\n", db_column_double(s, 5));
        }
        db_finalize(s);
    }
    db_close(db);
    return buf_take(&out, NULL);
}

static int64_t one(const char *path, const char *sql)
{
    struct db *db = NULL;
    struct err_detail why = {0};
    int64_t v = -1;
    struct db_stmt *s = NULL;
    if (db_open(path, true, &db, &why))
        return -1;
    if (!db_prepare(db, sql, &s) && db_step(s) == DB_ROW)
        v = db_column_int64(s, 0);
    db_finalize(s);
    db_close(db);
    return v;
}

static bool exists(const char *path)
{
    struct stat sb;
    return stat(path, &sb) == 0;
}

TEST(the_table_list_is_the_schema)
{
    CHECK(make_src() == 0);
    CHECK(store_copydb_table_count() ==
          one(src, "SELECT count(*) FROM sqlite_master WHERE type = 'table'"));
    for (int t = 0; t < store_copydb_table_count(); t++) {
        char sql[200];
        snprintf(sql, sizeof sql, "SELECT count(*) FROM sqlite_master WHERE name = '%s'",
                 store_copydb_table_name(t));
        CHECK_MSG(one(src, sql) == 1, "%s", store_copydb_table_name(t));
    }
    CHECK(store_copydb_table_name(store_copydb_table_count()) == NULL);
    unlink(src);
}

TEST(sqlite_to_sqlite_copies_every_row_exactly)
{
    CHECK(make_src() == 0);
    struct store_copydb_info info;
    struct err_detail why = {0};
    int rc = store_copydb(src, dest, &info, &why);
    CHECK_MSG(rc == 0, "%s", why.msg);
    CHECK(info.schema == store_migration_count && info.tables == store_copydb_table_count());
    CHECK(info.instances == 3 && info.events == 3 && strlen(info.events_hash) == 64);
    char *a = dump(src), *b = dump(dest);
    CHECK(a && b && strlen(a) > 4 * 1024 * 1024);
    CHECK_MSG(!strcmp(a, b), "the copy differs");
    free(a);
    free(b);
    /* The summaries as they were: the triggers did not fire again. */
    CHECK(one(dest, "SELECT n FROM funnel_sums WHERE stage = 'lead' AND office = 'province-a'") ==
          0);
    CHECK(one(dest, "SELECT amount_hi * 4294967296 + amount_lo FROM customer_exposure") == 900);
    CHECK(one(dest,
              "SELECT amount_hi * 4294967296 + amount_lo FROM ledger_daily WHERE kind = 'order'") ==
          900);
    CHECK(one(dest, "SELECT n FROM pipeline_sums") == 1);
    CHECK(one(dest, "SELECT count(*) FROM ledger WHERE margin = 0.1 + 0.2") == 1);
    /* ... and they fire after it. */
    CHECK(one(dest, "SELECT count(*) FROM sqlite_master WHERE type = 'trigger'") ==
          one(src, "SELECT count(*) FROM sqlite_master WHERE type = 'trigger'"));
    char wal[400], lock[400];
    snprintf(wal, sizeof wal, "%s-wal", dest);
    snprintf(lock, sizeof lock, "%s.lock", dest);
    CHECK(!exists(wal));
    /* The lock is let go: a daemon may take DEST now. */
    struct store *st = NULL;
    CHECK(store_open(dest, false, &st, &why) == 0);
    store_close(st);
    unlink(src);
    unlink(dest);
    unlink(wal);
    unlink(lock);
}

TEST(a_dest_that_exists_or_src_itself_is_refused)
{
    CHECK(make_src() == 0);
    struct err_detail why = {0};
    CHECK(store_copydb(src, dest, NULL, &why) == 0);
    int64_t size = one(dest, "SELECT count(*) FROM instances");
    CHECK(store_copydb(src, dest, NULL, &why) == -ERR_CONFLICT);
    CHECK_MSG(strstr(why.msg, "exists") != NULL, "%s", why.msg);
    CHECK(one(dest, "SELECT count(*) FROM instances") == size);
    CHECK(store_copydb(src, src, NULL, &why) == -ERR_USAGE);
    CHECK(store_copydb("/tmp/ltcd-copy-test-none.db", back, NULL, &why) == -ERR_NOT_FOUND);
    CHECK(!exists(back));
    unlink(src);
    unlink(dest);
}

TEST(a_src_of_another_schema_is_refused)
{
    CHECK(make_src() == 0);
    struct db *db = NULL;
    struct err_detail why = {0};
    CHECK(db_open(src, false, &db, &why) == 0);
    CHECK(db_exec(db, "PRAGMA user_version = 12") == 0);
    db_close(db);
    CHECK(store_copydb(src, dest, NULL, &why) == -ERR_STORE);
    CHECK_MSG(strstr(why.msg, "older than this ltcd") != NULL, "%s", why.msg);
    CHECK(!exists(dest));
    unlink(src);
}

static void change_a_row(struct db *db)
{
    db_exec(db, "UPDATE people SET doc = '{\"x\":1}' WHERE id = 'amy'");
}

static void drop_a_row(struct db *db)
{
    db_exec(db, "DELETE FROM targets");
}

/* What the verification is for: a row that differs, or one missing. */
TEST(a_difference_the_verification_finds_leaves_no_dest)
{
    CHECK(make_src() == 0);
    struct err_detail why = {0};
    store_copydb_fault = change_a_row;
    CHECK(store_copydb(src, dest, NULL, &why) == -ERR_STORE);
    CHECK_MSG(strstr(why.msg, "the rows of people") != NULL, "%s", why.msg);
    CHECK(!exists(dest));
    store_copydb_fault = drop_a_row;
    CHECK(store_copydb(src, dest, NULL, &why) == -ERR_STORE);
    CHECK_MSG(strstr(why.msg, "targets has 0 rows") != NULL, "%s", why.msg);
    CHECK(!exists(dest));
    store_copydb_fault = NULL;
    CHECK(store_copydb(src, dest, NULL, &why) == 0);
    unlink(src);
    unlink(dest);
}

/* SQLite -> PostgreSQL -> SQLite: the same rows, the same hashes. */
TEST(a_copy_round_trips_through_postgresql)
{
    CHECK(make_src() == 0);
    scratch_pg = 1;
    CHECK(scratch_pg_schema() == 0);
    struct store_copydb_info there, again;
    struct err_detail why = {0};
    CHECK_MSG(store_copydb(src, dbpath, &there, &why) == 0, "%s", why.msg);
    CHECK_MSG(store_copydb(dbpath, back, &again, &why) == 0, "%s", why.msg);
    CHECK(!strcmp(there.events_hash, again.events_hash) && there.rows == again.rows);
    char *a = dump(src), *b = dump(back);
    CHECK(a && b);
    CHECK_MSG(!strcmp(a, b), "the round trip differs");
    free(a);
    free(b);
    /* New ids on PostgreSQL come after the copied ones. */
    struct db *db = NULL;
    CHECK(db_open(dbpath, false, &db, &why) == 0);
    struct db_stmt *s = NULL;
    CHECK(db_prepare(db,
                     "SELECT nextval('instance_ids'), nextval(pg_get_serial_sequence('ledger',"
                     " 'id')), nextval('share_run_ids'), nextval('review_ids')",
                     &s) == 0);
    CHECK(db_step(s) == DB_ROW);
    CHECK_MSG(db_column_int64(s, 0) == 6 && db_column_int64(s, 1) == 3 &&
                  db_column_int64(s, 2) == 4 && db_column_int64(s, 3) == 5,
              "%s %s %s %s", db_column_text(s, 0), db_column_text(s, 1), db_column_text(s, 2),
              db_column_text(s, 3));
    db_finalize(s);
    /* A DEST that holds ltcd tables is refused, as it was. */
    CHECK(store_copydb(src, dbpath, NULL, &why) == -ERR_CONFLICT);
    db_close(db);
    unlink(src);
    unlink(back);
}

/* A fault found on PostgreSQL rolls the whole transaction back. */
TEST(a_difference_on_postgresql_leaves_no_table)
{
    CHECK(make_src() == 0);
    scratch_pg = 1;
    CHECK(scratch_pg_schema() == 0);
    struct err_detail why = {0};
    store_copydb_fault = change_a_row;
    CHECK(store_copydb(src, dbpath, NULL, &why) == -ERR_STORE);
    store_copydb_fault = NULL;
    struct db *db = NULL;
    CHECK(db_open(dbpath, true, &db, &why) == 0);
    struct db_stmt *s = NULL;
    CHECK(db_prepare(db,
                     "SELECT count(*) FROM information_schema.tables"
                     " WHERE table_schema = current_schema()",
                     &s) == 0);
    CHECK(db_step(s) == DB_ROW && db_column_int64(s, 0) == 0);
    db_finalize(s);
    db_close(db);
    CHECK(store_copydb(src, dbpath, NULL, &why) == 0);
    unlink(src);
}

/* Rows of megabytes are fetched a few at a time: 60 parts of 4 MiB (240 MiB)
 * from PostgreSQL copied in well under that (a fetch of 2,000 rows held
 * them all at once). */
TEST(wide_rows_are_fetched_a_few_at_a_time)
{
    CHECK(make_src() == 0);
    scratch_pg = 1;
    struct store *st = fresh();
    CHECK(st != NULL);
    store_close(st);
    struct db *db = NULL;
    struct err_detail why = {0};
    CHECK(db_open(dbpath, false, &db, &why) == 0);
    CHECK(db_exec(db, "INSERT INTO share_runs VALUES (1, '2026', 1, 'h', '', 1, 'x');"
                      "INSERT INTO share_run_parts SELECT 1, i, repeat(chr(97 + i % 26), 4194304)"
                      " FROM generate_series(0, 59) i") == 0);
    db_close(db);
    struct store_copydb_info info;
    CHECK_MSG(store_copydb(dbpath, dest, &info, &why) == 0, "%s", why.msg);
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    CHECK_MSG(PEAK_UNMEASURED || ru.ru_maxrss < 160 * 1024, "peak %ld KiB", ru.ru_maxrss);
    CHECK(one(dest, "SELECT sum(length(text)) FROM share_run_parts") == 60 * 4194304LL);
    unlink(src);
    unlink(dest);
}

TEST_MAIN(T(the_table_list_is_the_schema), T(sqlite_to_sqlite_copies_every_row_exactly),
          T(a_dest_that_exists_or_src_itself_is_refused), T(a_src_of_another_schema_is_refused),
          T(a_difference_the_verification_finds_leaves_no_dest),
          T(a_copy_round_trips_through_postgresql), T(a_difference_on_postgresql_leaves_no_table),
          T(wide_rows_are_fetched_a_few_at_a_time))
