/* tests/unit/db_test.c: the statement vocabulary of db.h, the same checks
 * on SQLite (a scratch file) and on PostgreSQL (the throwaway cluster that
 * tests/run-all.sh starts, LTC_PG_URI): parameters and their rewriting,
 * exact integers, NULL, text, rows, changes, transactions, how failures are
 * classified, and (PostgreSQL) a lost connection and the reconnect. */
#include <stdint.h>

#include "db.h"
#include "test.h"

static char path[128];

/* The backend under test: "sqlite" or "postgresql". */
static struct db *open_kind(const char *kind)
{
    struct err_detail why = {0};
    struct db *db = NULL;
    const char *uri = getenv("LTC_PG_URI");
    if (!strcmp(kind, "postgresql")) {
        if (!uri || !*uri) {
            fprintf(stderr, "# LTC_PG_URI is not set: run through tests/run-all.sh\n");
            return NULL;
        }
        if (db_open(uri, false, &db, &why)) {
            fprintf(stderr, "# %s\n", why.msg);
            return NULL;
        }
        db_exec(db, "DROP TABLE IF EXISTS t");
        return db;
    }
    snprintf(path, sizeof path, "/tmp/ltcd-db-test-%d.db", getpid());
    unlink(path);
    if (db_open(path, false, &db, &why)) {
        fprintf(stderr, "# %s\n", why.msg);
        return NULL;
    }
    return db;
}

static void close_kind(struct db *db)
{
    if (db_kind(db) == DB_POSTGRESQL)
        db_exec(db, "DROP TABLE IF EXISTS t");
    db_close(db);
    if (path[0])
        unlink(path);
}

static int insert(struct db *db, int64_t id, const char *name, double x)
{
    struct db_stmt *s = NULL;
    if (db_prepare(db, "INSERT INTO t (id, name, x) VALUES (?1, ?2, ?3)", &s))
        return DB_ERROR;
    db_bind_int64(s, 1, id);
    db_bind_text(s, 2, name);
    db_bind_double(s, 3, x);
    int rc = db_step(s);
    db_reset(s);
    db_finalize(s);
    return rc;
}

static void round_trip(const char *kind)
{
    struct db *db = open_kind(kind);
    CHECK(db != NULL);
    CHECK(db_exec(db, "CREATE TABLE t (id BIGINT PRIMARY KEY, name TEXT, x DOUBLE PRECISION)") ==
          0);
    const int64_t big = INT64_C(9007199254740993); /* not exact in a double */
    CHECK(insert(db, big, "O'Brien \"quoted\" \xe4\xb8\xad\xe6\x96\x87", 1.5) == DB_DONE);
    CHECK(db_changes(db) == 1);
    CHECK(insert(db, -7, NULL, 0.25) == DB_DONE);
    /* One parameter used twice; '?9' inside quotes is text, not a parameter. */
    struct db_stmt *s = NULL;
    CHECK(db_prepare(db,
                     "SELECT id, name, x, coalesce(name, '?9') FROM t"
                     " WHERE id = ?1 OR (?1 = -1 AND id < 0) ORDER BY id",
                     &s) == 0);
    db_bind_int64(s, 1, -1);
    CHECK(db_step(s) == DB_ROW);
    CHECK(db_column_int64(s, 0) == -7);
    CHECK(db_column_null(s, 1) && db_column_text(s, 1) == NULL && db_column_bytes(s, 1) == 0);
    CHECK(db_column_double(s, 2) == 0.25);
    CHECK(!strcmp(db_column_text(s, 3), "?9"));
    CHECK(db_step(s) == DB_DONE);
    db_reset(s);
    db_bind_int64(s, 1, big);
    CHECK(db_step(s) == DB_ROW);
    CHECK(db_column_int64(s, 0) == big);
    CHECK_MSG(!strcmp(db_column_text(s, 1), "O'Brien \"quoted\" \xe4\xb8\xad\xe6\x96\x87"), "%s",
              db_column_text(s, 1));
    CHECK(db_column_bytes(s, 1) == strlen("O'Brien \"quoted\" ") + 6);
    CHECK(db_step(s) == DB_DONE);
    db_reset(s);
    db_finalize(s);

    /* A text of 1 MiB, bound by length from a larger buffer. */
    char *big_text = malloc((1 << 20) + 10);
    CHECK(big_text != NULL);
    memset(big_text, 'a', (1 << 20) + 10);
    CHECK(db_prepare(db, "UPDATE t SET name = ?2 WHERE id = ?1", &s) == 0);
    db_bind_int64(s, 1, -7);
    db_bind_text_n(s, 2, big_text, 1 << 20);
    CHECK(db_step(s) == DB_DONE && db_changes(db) == 1);
    db_reset(s);
    db_finalize(s);
    free(big_text);
    /* SQLite's planner hint, dropped on PostgreSQL; the index is used by both. */
    CHECK(db_exec(db, "CREATE INDEX t_id ON t(id)") == 0);
    CHECK(db_prepare(db, "SELECT length(name) FROM t INDEXED BY t_id WHERE id = ?1", &s) == 0);
    db_bind_int64(s, 1, -7);
    CHECK_MSG(db_step(s) == DB_ROW && db_column_int64(s, 0) == 1 << 20, "%s", db_message(db));
    db_reset(s);
    db_finalize(s);
    close_kind(db);
}

static void failures(const char *kind)
{
    struct db *db = open_kind(kind);
    CHECK(db != NULL);
    CHECK(db_exec(db, "CREATE TABLE t (id BIGINT PRIMARY KEY, name TEXT, x DOUBLE PRECISION)") ==
          0);
    CHECK(insert(db, 1, "a", 0) == DB_DONE);
    /* A duplicate key: a constraint, named in the error. */
    CHECK(insert(db, 1, "b", 0) == DB_ERROR);
    CHECK(db_failure(db) == DB_FAIL_CONSTRAINT);
    struct err_detail why = {0};
    CHECK(db_error(db, &why, "insert") == -ERR_STORE);
    CHECK_MSG(!strncmp(why.msg, "insert: ", 8) && strlen(why.msg) > 12, "%s", why.msg);
    /* Bad SQL fails when prepared (SQLite) or first stepped (PostgreSQL). */
    struct db_stmt *s = NULL;
    int rc = db_prepare(db, "SELEC 1", &s);
    if (!rc) {
        rc = db_step(s);
        db_reset(s);
        db_finalize(s);
    }
    CHECK(rc == DB_ERROR && db_failure(db) == DB_FAIL_OTHER);
    /* A transaction rolled back leaves nothing. */
    CHECK(!db_in_transaction(db));
    CHECK(db_exec(db, "BEGIN") == 0 && db_in_transaction(db));
    CHECK(insert(db, 2, "c", 0) == DB_DONE);
    CHECK(db_exec(db, "ROLLBACK") == 0 && !db_in_transaction(db));
    CHECK(db_prepare(db, "SELECT count(*) FROM t", &s) == 0);
    CHECK(db_step(s) == DB_ROW && db_column_int64(s, 0) == 1);
    db_reset(s);
    db_finalize(s);
    close_kind(db);
}

TEST(sqlite_round_trips_values_and_rows)
{
    round_trip("sqlite");
}

TEST(postgresql_round_trips_values_and_rows)
{
    round_trip("postgresql");
}

TEST(sqlite_classifies_failures_and_rolls_back)
{
    failures("sqlite");
}

TEST(postgresql_classifies_failures_and_rolls_back)
{
    failures("postgresql");
}

/* The server ends the connection (as a restart would): the next statement
 * fails as the medium's failure, and after a reconnect the same prepared
 * statement works again. */
TEST(postgresql_reconnects_after_the_server_drops_the_connection)
{
    struct db *db = open_kind("postgresql"), *admin = open_kind("postgresql");
    CHECK(db != NULL && admin != NULL);
    struct db_stmt *s = NULL, *kill = NULL;
    CHECK(db_prepare(db, "SELECT pg_backend_pid()", &s) == 0);
    CHECK(db_step(s) == DB_ROW);
    int64_t pid = db_column_int64(s, 0);
    db_reset(s);
    CHECK(db_prepare(admin, "SELECT pg_terminate_backend(?1)", &kill) == 0);
    db_bind_int64(kill, 1, pid);
    CHECK(db_step(kill) == DB_ROW);
    db_reset(kill);
    db_finalize(kill);
    CHECK(db_step(s) == DB_ERROR);
    CHECK(db_failure(db) == DB_FAIL_MEDIUM);
    db_reset(s);
    CHECK(db_reconnect(db) == 0);
    CHECK(db_step(s) == DB_ROW && db_column_int64(s, 0) != pid);
    db_reset(s);
    db_finalize(s);
    db_close(admin);
    db_close(db);
}

TEST(targets_choose_the_backend)
{
    CHECK(db_is_postgresql("postgresql://u@h/db") && db_is_postgresql("postgres://h/db"));
    CHECK(!db_is_postgresql("var/ltc.db") && !db_is_postgresql("/tmp/postgresql://x"));
    struct db *db = NULL;
    struct err_detail why = {0};
    CHECK(db_open("postgresql://nobody@127.0.0.1:1/none?connect_timeout=2", false, &db, &why) ==
          -ERR_STORE);
    CHECK_MSG(strstr(why.msg, "cannot connect to PostgreSQL") != NULL, "%s", why.msg);
}

/* What a log line shows of a target: never a password. */
TEST(targets_are_shown_without_their_password)
{
    static const char *const cases[][2] = {
        {"/var/lib/ltcd/ltc.db", "/var/lib/ltcd/ltc.db"},
        {"postgresql://ltc@db:5432/ltc", "postgresql://ltc@db:5432/ltc"},
        {"postgresql://ltc:s3cret@db:5432/ltc", "postgresql://ltc:***@db:5432/ltc"},
        {"postgres://ltc:a:b@c@db/ltc", "postgres://ltc:***@c@db/ltc"},
        {"postgresql://db/ltc?user=ltc&password=s3cret&sslmode=require",
         "postgresql://db/ltc?user=ltc&password=***&sslmode=require"},
        {"postgresql://db/ltc?password=", "postgresql://db/ltc?password=***"},
        {"postgresql://db:5432/ltc?options=-c%20x%3Dpassword=1",
         "postgresql://db:5432/ltc?options=-c%20x%3Dpassword=1"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        char out[128];
        db_target_shown(cases[i][0], out, sizeof out);
        CHECK_MSG(!strcmp(out, cases[i][1]), "%s -> %s", cases[i][0], out);
    }
    char tiny[12];
    db_target_shown("postgresql://ltc:s3cret@db/ltc", tiny, sizeof tiny);
    CHECK(strlen(tiny) == sizeof tiny - 1 && !strstr(tiny, "s3c"));
}

TEST_MAIN(T(sqlite_round_trips_values_and_rows), T(postgresql_round_trips_values_and_rows),
          T(sqlite_classifies_failures_and_rolls_back),
          T(postgresql_classifies_failures_and_rolls_back),
          T(postgresql_reconnects_after_the_server_drops_the_connection),
          T(targets_choose_the_backend), T(targets_are_shown_without_their_password))
