/* tests/unit/store_test.c: the store, on SQLite and (pg_*) on PostgreSQL. */
#include <errno.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>

#include "db.h"
#include "money.h"
#include "store.h"
#include "store_leads.h"
#include "store_pipeline.h"
#include "store_schema.h"
#include "test.h"

#define SCRATCH_NAME "store"
#include "scratch_store.h"
#include "schema_undo.h"

static int insert(struct store *st, int64_t id, const char *office, const char *stage)
{
    char doc[64];
    snprintf(doc, sizeof doc, "{\"id\":%lld}", (long long)id);
    struct store_instance in = {.id = id,
                                .stage = stage,
                                .region = "south",
                                .office = office,
                                .temperature = "warm",
                                .doc = doc,
                                .at_ms = 1,
                                .last_seq = 1};
    struct store_event ev = {.instance_id = id,
                             .seq = 1,
                             .at_ms = 1,
                             .actor = "t",
                             .action = "create",
                             .payload = "{}",
                             .outcome = "{}",
                             .rules = "{}"};
    return store_instance_insert(st, &in, NULL) || store_event_append(st, &ev, NULL);
}

TEST(migrates_to_the_latest_schema_and_reopens)
{
    struct store *st = fresh();
    CHECK(st != NULL);
    int v = store_schema_version(st);
    CHECK(v >= 2);
    store_close(st);
    struct err_detail why = {0};
    CHECK(store_open(dbpath, true, &st, &why) == 0);
    CHECK(store_schema_version(st) == v);
    CHECK(store_integrity_check(st, &why) == 0);
    store_close(st);
}

TEST(refuses_a_newer_schema)
{
    struct store *st = fresh();
    store_close(st);
    char cmd[400];
    snprintf(cmd, sizeof cmd, "sqlite3 %s 'PRAGMA user_version=999'", dbpath);
    CHECK(system(cmd) == 0);
    struct err_detail why = {0};
    CHECK(store_open(dbpath, true, &st, &why) == -ERR_STORE);
    CHECK(strstr(why.msg, "newer"));
}

TEST(instances_and_events_round_trip)
{
    struct store *st = fresh();
    struct err_detail why = {0};
    int64_t id = 0;
    CHECK(store_begin(st, &why) == 0);
    CHECK(store_instance_next_id(st, &id, &why) == 0 && id == 1);
    CHECK(insert(st, 1, "a", "lead") == 0);
    CHECK(insert(st, 2, "b", "lead") == 0);
    CHECK(store_commit(st, &why) == 0);
    /* SQLite: max + 1; PostgreSQL: the sequence's next, whatever was inserted. */
    CHECK(store_instance_next_id(st, &id, &why) == 0 && id == (scratch_pg ? 2 : 3));
    struct store_instance_row row;
    CHECK(store_instance_get(st, 2, &row, &why) == 0);
    CHECK(!strcmp(row.office, "b") && !strcmp(row.doc, "{\"id\":2}") && row.last_seq == 1);
    store_instance_row_deinit(&row);
    CHECK(store_instance_get(st, 3, &row, &why) == -ERR_NOT_FOUND);
    store_close(st);
}

/* Ids come from the database inside the transaction: whatever is rolled back
 * (one request's savepoint, or a whole batch whose commit failed) gives its
 * ids back, so acknowledged ids have no gaps. */
TEST(rolled_back_inserts_leave_no_id_gap)
{
    struct store *st = fresh();
    struct err_detail why = {0};
    int64_t id = 0;
    CHECK(store_begin(st, &why) == 0);
    CHECK(store_savepoint(st, &why) == 0);
    CHECK(store_instance_next_id(st, &id, &why) == 0 && id == 1);
    CHECK(insert(st, id, "a", "lead") == 0);
    store_rollback_to(st); /* a refused request */
    CHECK(store_instance_next_id(st, &id, &why) == 0 && id == 1);
    CHECK(insert(st, id, "a", "lead") == 0);
    CHECK(store_instance_next_id(st, &id, &why) == 0 && id == 2);
    CHECK(insert(st, id, "a", "lead") == 0);
    store_rollback(st); /* a batch whose commit failed */
    CHECK(store_instance_next_id(st, &id, &why) == 0 && id == 1);
    CHECK(store_begin(st, &why) == 0);
    CHECK(insert(st, id, "a", "lead") == 0);
    CHECK(store_commit(st, &why) == 0);
    CHECK(store_instance_next_id(st, &id, &why) == 0 && id == 2);
    store_close(st);
}

static int count_cb(const struct store_instance_row *row, void *ctx)
{
    (void)row;
    (*(int *)ctx)++;
    return 0;
}

TEST(lists_filter_and_page)
{
    struct store *st = fresh();
    struct err_detail why = {0};
    store_begin(st, &why);
    for (int i = 1; i <= 10; i++)
        CHECK(insert(st, i, i % 2 ? "odd" : "even", i <= 4 ? "lead" : "opportunity") == 0);
    store_commit(st, &why);
    int n = 0;
    struct store_instance_filter f = {.office = "odd", .limit = 100};
    CHECK_MSG(store_instance_list(st, &f, count_cb, &n, &why) == 0 && n == 5, "%d %s", n, why.msg);
    n = 0;
    struct store_instance_filter g = {.stage = "lead", .after_id = 2, .limit = 100};
    CHECK(store_instance_list(st, &g, count_cb, &n, &why) == 0 && n == 2);
    n = 0;
    struct store_instance_filter h = {.limit = 3};
    CHECK(store_instance_list(st, &h, count_cb, &n, &why) == 0 && n == 3);
    store_close(st);
}

TEST(events_are_append_only)
{
    struct store *st = fresh();
    store_begin(st, NULL);
    CHECK(insert(st, 1, "a", "lead") == 0);
    store_commit(st, NULL);
    store_close(st);
    char cmd[400];
    snprintf(cmd, sizeof cmd, "sqlite3 %s \"UPDATE events SET action='x'\" 2>/dev/null", dbpath);
    CHECK(system(cmd) != 0);
    snprintf(cmd, sizeof cmd, "sqlite3 %s \"DELETE FROM events\" 2>/dev/null", dbpath);
    CHECK(system(cmd) != 0);
}

TEST(a_rolled_back_savepoint_leaves_nothing)
{
    struct store *st = fresh();
    struct err_detail why = {0};
    CHECK(store_begin(st, &why) == 0);
    CHECK(store_savepoint(st, &why) == 0);
    CHECK(insert(st, 1, "a", "lead") == 0);
    store_release(st);
    CHECK(store_savepoint(st, &why) == 0);
    CHECK(insert(st, 2, "a", "lead") == 0);
    store_rollback_to(st);
    CHECK(store_savepoint(st, &why) == 0);
    CHECK(insert(st, 1, "dup", "lead") != 0); /* duplicate id */
    store_rollback_to(st);
    CHECK(store_commit(st, &why) == 0);
    CHECK(store_instance_count(st) == 1);
    store_close(st);
}

static int version_cb(const struct store_rule_version *v, void *ctx)
{
    *(int *)ctx = v->version;
    return 0;
}

TEST(rule_versions_activate_one_at_a_time)
{
    struct store *st = fresh();
    struct err_detail why = {0};
    struct store_rule_version v = {.owner = "region/south",
                                   .version = 1,
                                   .hash = "h1",
                                   .status = "pending",
                                   .files = "{}",
                                   .origin = "api",
                                   .created_at_ms = 1,
                                   .created_by = "t"};
    store_begin(st, &why);
    CHECK(store_rule_version_insert(st, &v, &why) == 0);
    v.version = 2;
    v.hash = "h2";
    CHECK(store_rule_version_insert(st, &v, &why) == 0);
    CHECK(store_rule_activate(st, "region/south", 2, 5, "hq:admin", &why) == 0);
    CHECK(store_rule_supersede(st, "region/south", 2, 5, "hq:admin", &why) == 0);
    CHECK(store_commit(st, &why) == 0);
    int found = 0;
    CHECK(store_rule_version_by_hash(st, "region/south", "h2", &found, &why) == 0 && found == 2);
    CHECK(store_rule_version_by_hash(st, "region/south", "h1", &found, &why) == 0 && found == 0);
    int max = 0;
    CHECK(store_rule_version_max(st, "region/south", &max, &why) == 0 && max == 2);
    int last = 0;
    CHECK(store_rule_version_list(st, "region/south", version_cb, &last, &why) == 0 && last == 2);
    CHECK(store_rule_activate(st, "region/south", 9, 5, NULL, &why) == -ERR_NOT_FOUND);
    store_close(st);
}

static off_t file_size(const char *suffix)
{
    char p[300];
    snprintf(p, sizeof p, "%s%s", dbpath, suffix);
    struct stat sb;
    return stat(p, &sb) ? 0 : sb.st_size;
}

/* A file size limit is a real "no room" for this process: the batch that
 * hits it fails, gives its ids back, and the store stays degraded, through
 * empty commits, until a commit writes again. */
TEST(a_commit_without_room_makes_the_store_degraded_until_one_writes)
{
    struct store *st = fresh();
    struct err_detail why = {0};
    CHECK(store_begin(st, &why) == 0 && insert(st, 1, "a", "lead") == 0);
    CHECK(store_commit(st, &why) == 0);
    CHECK(store_degraded(st, NULL) == NULL);
    signal(SIGXFSZ, SIG_IGN);
    off_t big = file_size("") > file_size("-wal") ? file_size("") : file_size("-wal");
    struct rlimit lim = {.rlim_cur = (rlim_t)big + 8192, .rlim_max = RLIM_INFINITY};
    CHECK(setrlimit(RLIMIT_FSIZE, &lim) == 0);
    static char doc[64 * 1024]; /* {"x":"xxx...x"}: a document, as triggers read them */
    memset(doc, 'x', sizeof doc - 1);
    memcpy(doc, "{\"x\":\"", 6);
    memcpy(doc + sizeof doc - 3, "\"}", 2);
    int rc = store_begin(st, &why);
    for (int64_t id = 2; !rc && id < 100; id++) {
        struct store_instance in = {.id = id,
                                    .stage = "lead",
                                    .region = "r",
                                    .office = "o",
                                    .doc = doc,
                                    .at_ms = 1,
                                    .last_seq = 1};
        rc = store_instance_insert(st, &in, &why);
    }
    if (!rc)
        rc = store_commit(st, &why);
    CHECK_MSG(rc == -ERR_STORE, "rc %d: %s", rc, why.msg);
    store_rollback(st);
    int64_t since = 0;
    const char *reason = store_degraded(st, &since);
    CHECK(reason && since > 0);
    int64_t id = 0;
    CHECK(store_instance_next_id(st, &id, &why) == 0 && id == 2);
    lim.rlim_cur = RLIM_INFINITY;
    CHECK(setrlimit(RLIMIT_FSIZE, &lim) == 0);
    CHECK(store_begin(st, &why) == 0 && store_commit(st, &why) == 0);
    CHECK_MSG(store_degraded(st, NULL) != NULL, "an empty commit proves nothing");
    CHECK(store_probe(st, &why) == 0);
    CHECK(store_degraded(st, NULL) == NULL);
    CHECK(store_integrity_check(st, &why) == 0 && store_instance_count(st) == 1);
    store_close(st);
}

TEST(a_failed_fsync_makes_the_store_degraded)
{
    struct store *st = fresh();
    struct err_detail why = {0};
    store_sync_done(st, 0);
    CHECK(store_degraded(st, NULL) == NULL);
    store_sync_done(st, EIO);
    const char *reason = store_degraded(st, NULL);
    CHECK(reason && strstr(reason, "fsync") && strstr(reason, strerror(EIO)));
    CHECK(store_begin(st, &why) == 0 && insert(st, 1, "a", "lead") == 0);
    CHECK(store_commit(st, &why) == 0);
    CHECK(store_degraded(st, NULL) == NULL);
    store_close(st);
}

/* The credit exposure is kept by triggers: contracts of a customer add up,
 * leaving stage contract takes the value away, and one's own is excluded. */
TEST(customer_exposure_follows_contracts)
{
    struct store *st = fresh();
    struct err_detail why = {0};
    CHECK(store_begin(st, &why) == 0);
    for (int64_t id = 1; id <= 4; id++) {
        struct store_instance in = {.id = id,
                                    .stage = id <= 3 ? "contract" : "lead",
                                    .region = "south",
                                    .office = "a",
                                    .doc = "{}",
                                    .at_ms = 1,
                                    .last_seq = 1,
                                    .customer = id == 3 ? "other" : "acme",
                                    .exposure = id <= 3 ? 100 * id : 0};
        CHECK(store_instance_insert(st, &in, &why) == 0);
    }
    int64_t e = -1;
    CHECK(store_customer_exposure(st, "acme", 4, &e, &why) == 0 && e == 300);
    CHECK(store_customer_exposure(st, "acme", 2, &e, &why) == 0 && e == 100);
    CHECK(store_customer_exposure(st, "other", 0, &e, &why) == 0 && e == 300);
    CHECK(store_customer_exposure(st, "nobody", 0, &e, &why) == 0 && e == 0);
    /* instance 1 leaves stage contract (cash collected): its 100 goes */
    struct store_instance up = {
        .id = 1, .stage = "closed", .doc = "{}", .at_ms = 2, .last_seq = 2, .prev_seq = 1};
    CHECK(store_instance_update(st, &up, &why) == 0);
    CHECK(store_customer_exposure(st, "acme", 4, &e, &why) == 0 && e == 200);
    /* instance 4 signs: 700 more */
    up = (struct store_instance){.id = 4,
                                 .stage = "contract",
                                 .doc = "{}",
                                 .at_ms = 2,
                                 .last_seq = 2,
                                 .prev_seq = 1,
                                 .exposure = 700};
    CHECK(store_instance_update(st, &up, &why) == 0);
    CHECK(store_customer_exposure(st, "acme", 0, &e, &why) == 0 && e == 900);
    CHECK(store_commit(st, &why) == 0);
    store_close(st);
}

/* The funnel's sums (kept by triggers) against a count of the documents the
 * test wrote: inserts, stage changes, a signed value replacing the budget,
 * closures won and lost; per office and for all; and the same after the sums
 * are rebuilt by the migration from the instances alone. */
struct funnel_row {
    char stage[16], outcome[16];
    int64_t n, value;
};
struct funnel_got {
    struct funnel_row rows[16];
    int n;
};

static int on_funnel_row(const char *stage, const char *outcome, int64_t count, int64_t value,
                         void *ctx)
{
    struct funnel_got *g = ctx;
    if (g->n < 16) {
        snprintf(g->rows[g->n].stage, 16, "%s", stage);
        snprintf(g->rows[g->n].outcome, 16, "%s", outcome ? outcome : "");
        g->rows[g->n].n = count;
        g->rows[g->n].value = value;
    }
    g->n++;
    return 0;
}

/* What the instances hold now: stage, office, budget, contract value, outcome. */
struct inst_now {
    const char *office, *stage, *outcome;
    int64_t budget, contract;
};

static int expected_of(const struct inst_now *in, int count, const char *office, const char *stage,
                       const char *outcome, int64_t *value)
{
    int n = 0;
    *value = 0;
    for (int i = 0; i < count; i++) {
        if ((office && strcmp(in[i].office, office)) || strcmp(in[i].stage, stage) ||
            strcmp(in[i].outcome ? in[i].outcome : "", outcome))
            continue;
        n++;
        *value += in[i].contract ? in[i].contract : in[i].budget;
    }
    return n;
}

/* 'placed': the writer gives the instance's place in the funnel, as the
 * engine does; else the schema reads it from the document. */
static int write_inst(struct store *st, int64_t id, const struct inst_now *x, bool insert,
                      bool placed)
{
    char doc[256];
    int len = snprintf(doc, sizeof doc, "{\"budget\":{\"amount\":%lld}", (long long)x->budget);
    if (x->contract)
        len += snprintf(doc + len, sizeof doc - len, ",\"contract\":{\"value\":%lld}",
                        (long long)x->contract);
    if (x->outcome)
        len +=
            snprintf(doc + len, sizeof doc - len, ",\"closure\":{\"outcome\":\"%s\"}", x->outcome);
    snprintf(doc + len, sizeof doc - len, "}");
    struct store_instance in = {.id = id,
                                .stage = x->stage,
                                .region = "south",
                                .office = x->office,
                                .doc = doc,
                                .at_ms = 1,
                                .last_seq = 1,
                                .prev_seq = 1};
    if (placed) {
        in.outcome = x->outcome ? x->outcome : "";
        in.funnel_value = x->contract ? x->contract : x->budget;
    }
    struct err_detail why = {0};
    return insert ? store_instance_insert(st, &in, &why) : store_instance_update(st, &in, &why);
}

static int funnel_matches(struct store *st, const struct inst_now *in, int count,
                          const char *office)
{
    struct funnel_got g = {0};
    struct err_detail why = {0};
    if (store_funnel(st, NULL, office, on_funnel_row, &g, &why)) {
        fprintf(stderr, "# %s\n", why.msg);
        return 0;
    }
    int rows = 0;
    static const char *const pairs[][2] = {{"lead", ""},       {"opportunity", ""},
                                           {"contract", ""},   {"closed", "won"},
                                           {"closed", "lost"}, {"closed", "dropped"}};
    for (size_t k = 0; k < sizeof pairs / sizeof *pairs; k++) {
        int64_t v;
        int n = expected_of(in, count, office, pairs[k][0], pairs[k][1], &v);
        if (!n)
            continue;
        rows++;
        bool found = false;
        for (int i = 0; i < g.n && i < 16; i++)
            if (!strcmp(g.rows[i].stage, pairs[k][0]) && !strcmp(g.rows[i].outcome, pairs[k][1]))
                found = g.rows[i].n == n && g.rows[i].value == v;
        if (!found) {
            fprintf(stderr, "# %s/%s: want %d (value %lld)\n", pairs[k][0], pairs[k][1], n,
                    (long long)v);
            return 0;
        }
    }
    return g.n == rows; /* and no row for what no instance holds */
}

TEST(the_funnel_sums_follow_every_write)
{
    struct store *st = fresh();
    struct err_detail why = {0};
    struct inst_now in[12];
    CHECK(store_begin(st, &why) == 0);
    for (int i = 0; i < 12; i++) {
        in[i] = (struct inst_now){
            .office = i % 3 ? "a" : "b", .stage = "lead", .budget = 1000 * (i + 1)};
        CHECK(write_inst(st, i + 1, &in[i], true, i % 2) == 0);
    }
    CHECK(funnel_matches(st, in, 12, NULL) && funnel_matches(st, in, 12, "a"));
    for (int i = 0; i < 8; i++) /* converted */
        in[i].stage = "opportunity";
    for (int i = 0; i < 5; i++) { /* signed at another value than the budget */
        in[i].stage = "contract";
        in[i].contract = 777 * (i + 1);
    }
    in[0].stage = in[1].stage = in[2].stage = "closed";
    in[0].outcome = in[1].outcome = "won";
    in[2].outcome = "lost";
    in[6].contract = 4242; /* a new value at the same stage */
    in[9].stage = "closed";
    in[9].outcome = "dropped";
    /* Placed or not, before and after: all four ways. */
    for (int i = 0; i < 12; i++)
        CHECK(write_inst(st, i + 1, &in[i], false, (i / 2) % 2) == 0);
    CHECK(write_inst(st, 4, &in[3], false, true) == 0); /* an update that changes nothing */
    CHECK(write_inst(st, 4, &in[3], false, false) == 0);
    CHECK(funnel_matches(st, in, 12, NULL));
    in[7].contract = 999; /* its place moves with the columns alone */
    CHECK(write_inst(st, 8, &in[7], false, true) == 0);
    CHECK(funnel_matches(st, in, 12, NULL));
    CHECK(funnel_matches(st, in, 12, "a") && funnel_matches(st, in, 12, "b"));
    CHECK(store_commit(st, &why) == 0);
    store_close(st);
    if (scratch_pg)
        return; /* PostgreSQL's schema starts after SQLite's funnel migration */
    /* The sums rebuilt from the instances by the migration are the same
     * (back to the schema before it: the later migrations undone too). */
    int funnel = 0;
    for (int i = 0; i < store_migration_count; i++)
        if (strstr(store_migrations[i], "CREATE TABLE funnel_sums"))
            funnel = i;
    CHECK(funnel > 0);
    CHECK(schema_undo_kept_sums(dbpath) == 0);
    char sql[600];
    snprintf(sql, sizeof sql,
             "sqlite3 %s 'DROP TRIGGER instances_funnel_insert; DROP TRIGGER "
             "instances_funnel_update; DROP TABLE funnel_sums; DROP TABLE share_run_parts;"
             " PRAGMA user_version = %d'",
             dbpath, funnel);
    CHECK(system(sql) == 0);
    st = NULL;
    CHECK(store_open(dbpath, false, &st, &why) == 0);
    CHECK(funnel_matches(st, in, 12, NULL) && funnel_matches(st, in, 12, "b"));
    store_close(st);
    /* Migration 15 placed every instance from its document. */
    sqlite3 *db = NULL;
    sqlite3_stmt *q = NULL;
    CHECK(
        sqlite3_open(dbpath, &db) == SQLITE_OK &&
        sqlite3_prepare_v2(db,
                           "SELECT count(*), sum(funnel_value), sum(outcome = 'won')"
                           " FROM instances WHERE funnel_value IS NOT NULL AND outcome IS NOT NULL",
                           -1, &q, NULL) == SQLITE_OK &&
        sqlite3_step(q) == SQLITE_ROW);
    int64_t want = 0;
    for (int i = 0; i < 12; i++)
        want += in[i].contract ? in[i].contract : in[i].budget;
    CHECK(sqlite3_column_int64(q, 0) == 12 && sqlite3_column_int64(q, 1) == want &&
          sqlite3_column_int64(q, 2) == 2);
    sqlite3_finalize(q);
    sqlite3_close(db);
}

/* Kept sums past 2^63: 1,030 contracts of 2^53 - 1 fen in one office and
 * for one customer, each also a forecast and an order in the ledger. Every
 * write succeeds (a sum in one 64-bit column made the 1,024th fail, and with
 * it every later write of the office); each figure read is capped at 2^53;
 * once all but one are gone, the figures are exact again. */
struct totals_got {
    int64_t n, value, weighted;
};

static int on_total_got(const char *unit, int64_t amount, void *ctx)
{
    (void)unit;
    ((struct totals_got *)ctx)->value = amount;
    return 0;
}

static int on_customer_got(const char *office, const char *customer, int64_t amount, void *ctx)
{
    (void)office, (void)customer;
    ((struct totals_got *)ctx)->value = amount;
    return 0;
}

static int on_pipeline_got(const char *office, const char *customer, const char *category,
                           int64_t n, int64_t value, int64_t weighted, void *ctx)
{
    (void)office, (void)customer;
    if (!strcmp(category, "commit"))
        *(struct totals_got *)ctx = (struct totals_got){n, value, weighted};
    return 0;
}

TEST(kept_sums_pass_2_to_the_63)
{
    enum { N = 1030 };
    const int64_t big = MONEY_MAX - 1;
    struct store *st = fresh();
    struct err_detail why = {0};
    char doc[128];
    snprintf(doc, sizeof doc, "{\"contract\":{\"value\":%lld}}", (long long)big);
    CHECK(store_begin(st, &why) == 0);
    for (int64_t id = 1; id <= N; id++) {
        struct store_instance in = {.id = id,
                                    .stage = "contract",
                                    .region = "south",
                                    .office = "a",
                                    .doc = doc,
                                    .at_ms = 1,
                                    .last_seq = 1,
                                    .customer = "acme",
                                    .exposure = big};
        struct store_forecast f = {.id = id,
                                   .month = "2026-12",
                                   .value = big,
                                   .weighted = big,
                                   .category = "commit",
                                   .rules = "hq@1"};
        struct store_ledger l = {.instance_id = id,
                                 .seq = 1,
                                 .kind = "orders",
                                 .amount = big,
                                 .at = "2026-12-01",
                                 .region = "south",
                                 .office = "a",
                                 .customer = "acme",
                                 .product_line = "core"};
        CHECK_MSG(store_instance_insert(st, &in, &why) == 0 &&
                      store_forecast_set(st, &f, &why) == 0 &&
                      store_ledger_append(st, &l, &why) == 0,
                  "write %lld: %s", (long long)id, why.msg);
    }
    CHECK(store_commit(st, &why) == 0);
    struct funnel_got g = {0};
    int64_t e = 0;
    struct totals_got office = {0}, cust = {0}, pipe = {0};
    CHECK(store_funnel(st, NULL, "a", on_funnel_row, &g, &why) == 0 && g.n == 1);
    CHECK(g.rows[0].n == N && g.rows[0].value == MONEY_MAX && money_capped(g.rows[0].value));
    CHECK(store_customer_exposure(st, "acme", 0, &e, &why) == 0 && e == MONEY_MAX);
    CHECK(store_ledger_offices(st, "orders", "2026-12-01", "2026-12-02", on_total_got, &office,
                               &why) == 0 &&
          office.value == MONEY_MAX);
    CHECK(store_ledger_customers(st, "orders", "2026-12", "2027-01", on_customer_got, &cust,
                                 &why) == 0 &&
          cust.value == MONEY_MAX);
    CHECK(store_pipeline_sums(st, "2026-12", "2027-01", on_pipeline_got, &pipe, &why) == 0);
    CHECK(pipe.n == N && pipe.value == MONEY_MAX && pipe.weighted == MONEY_MAX);
    /* All but the first closed: their contracts and forecasts leave the sums. */
    CHECK(store_begin(st, &why) == 0);
    for (int64_t id = 2; id <= N; id++) {
        struct store_instance up = {
            .id = id, .stage = "closed", .doc = "{}", .at_ms = 2, .last_seq = 2, .prev_seq = 1};
        struct store_forecast f = {.id = id, .category = "omitted", .rules = "hq@1"};
        CHECK_MSG(store_instance_update(st, &up, &why) == 0 &&
                      store_forecast_set(st, &f, &why) == 0,
                  "close %lld: %s", (long long)id, why.msg);
    }
    CHECK(store_commit(st, &why) == 0);
    g = (struct funnel_got){0};
    CHECK(store_funnel(st, NULL, "a", on_funnel_row, &g, &why) == 0 && g.n == 2);
    CHECK(!strcmp(g.rows[1].stage, "contract") && g.rows[1].n == 1 && g.rows[1].value == big);
    CHECK(!strcmp(g.rows[0].stage, "closed") && g.rows[0].n == N - 1 && g.rows[0].value == 0);
    CHECK(store_customer_exposure(st, "acme", 0, &e, &why) == 0 && e == big);
    CHECK(store_customer_exposure(st, "acme", 1, &e, &why) == 0 && e == 0);
    pipe = (struct totals_got){0};
    CHECK(store_pipeline_sums(st, "2026-12", "2027-01", on_pipeline_got, &pipe, &why) == 0);
    CHECK(pipe.n == 1 && pipe.value == big && pipe.weighted == big);
    store_close(st);
}

/* A database from before kept sums were split keeps every sum, exactly,
 * past 2^32 (the low half's width). */
TEST(kept_sums_survive_their_migration)
{
    struct store *st = fresh();
    struct err_detail why = {0};
    const int64_t v = ((int64_t)3 << 40) + 12345;
    char doc[128];
    snprintf(doc, sizeof doc, "{\"contract\":{\"value\":%lld}}", (long long)v);
    CHECK(store_begin(st, &why) == 0);
    for (int64_t id = 1; id <= 3; id++) {
        struct store_instance in = {.id = id,
                                    .stage = "contract",
                                    .region = "south",
                                    .office = "a",
                                    .doc = doc,
                                    .at_ms = 1,
                                    .last_seq = 1,
                                    .customer = "acme",
                                    .exposure = v};
        struct store_ledger l = {.instance_id = id,
                                 .seq = 1,
                                 .kind = "cash",
                                 .amount = -v,
                                 .at = "2026-11-30",
                                 .region = "south",
                                 .office = "a",
                                 .customer = "acme",
                                 .product_line = "core"};
        CHECK(store_instance_insert(st, &in, &why) == 0 && store_ledger_append(st, &l, &why) == 0);
    }
    CHECK(store_commit(st, &why) == 0);
    store_close(st);
    CHECK(schema_undo_kept_sums(dbpath) == 0);
    st = NULL;
    CHECK(store_open(dbpath, false, &st, &why) == 0);
    struct funnel_got g = {0};
    int64_t e = 0;
    struct totals_got cash = {0}, cust = {0};
    CHECK(store_funnel(st, NULL, NULL, on_funnel_row, &g, &why) == 0 && g.n == 1);
    CHECK(g.rows[0].n == 3 && g.rows[0].value == 3 * v);
    CHECK(store_customer_exposure(st, "acme", 2, &e, &why) == 0 && e == 2 * v);
    CHECK(store_ledger_offices(st, "cash", "2026-11-01", "2026-12-01", on_total_got, &cash, &why) ==
              0 &&
          cash.value == -3 * v);
    CHECK(store_ledger_customers(st, "cash", "2026-11", "2026-12", on_customer_got, &cust, &why) ==
              0 &&
          cust.value == -3 * v);
    store_close(st);
}

/* A PostgreSQL database that sorts text in a locale's order is refused
 * (listings would not come as on SQLite), naming how to make one that does;
 * nothing is created in it. Skipped where PostgreSQL has no ICU. */
TEST(pg_a_database_in_a_locale_order_is_refused)
{
    const char *uri = getenv("LTC_PG_URI");
    CHECK(uri != NULL);
    if (!uri)
        return;
    char name[64], sql[256], target[600];
    snprintf(name, sizeof name, "store_test_icu_%d", getpid());
    struct db *admin = NULL;
    struct err_detail why = {0};
    CHECK(db_open(uri, false, &admin, &why) == 0);
    snprintf(sql, sizeof sql,
             "CREATE DATABASE %s TEMPLATE template0 LOCALE_PROVIDER icu ICU_LOCALE 'en-US'"
             " LOCALE 'C.UTF-8'",
             name);
    if (db_exec(admin, sql)) {
        fprintf(stderr, "# no ICU here (%s): nothing to refuse\n", db_message(admin));
        db_close(admin);
        return;
    }
    const char *slash = strrchr(uri, '/');
    snprintf(target, sizeof target, "%.*s/%s", (int)(slash - uri), uri, name);
    struct store *st = NULL;
    CHECK(store_open(target, false, &st, &why) == -ERR_USAGE && st == NULL);
    CHECK(strstr(why.msg, "LOCALE 'C.UTF-8'") != NULL);
    struct db *db = NULL;
    CHECK(db_open(target, false, &db, &why) == 0);
    struct db_stmt *s = NULL;
    CHECK(db_prepare(db,
                     "SELECT count(*) FROM information_schema.tables"
                     " WHERE table_schema = 'public'",
                     &s) == 0 &&
          db_step(s) == DB_ROW && db_column_int64(s, 0) == 0);
    db_finalize(s);
    db_close(db);
    snprintf(sql, sizeof sql, "DROP DATABASE %s WITH (FORCE)", name);
    CHECK(db_exec(admin, sql) == 0);
    db_close(admin);
}

/* Rows whose id the database picks give it back from their own insert
 * (RETURNING id): a shadow window, an activity, each the next. */
/* seen[0] counts the activities listed, seen[1..3] their ids. */
static int collect_activity(const struct store_activity *a, void *ctx)
{
    int64_t *seen = ctx;
    if (seen[0] < 3)
        seen[++seen[0]] = a->id;
    return 0;
}

TEST(new_rows_get_their_ids_from_their_insert)
{
    struct store *st = fresh();
    struct err_detail why = {0};
    CHECK(store_begin(st, &why) == 0);
    struct store_shadow sh = {
        .owner = "hq", .version = 2, .started_at_ms = 10, .until_ms = 20, .started_by = "hq:admin"};
    int64_t first = 0, second = 0;
    CHECK_MSG(store_shadow_start(st, &sh, &first, &why) == 0, "%s", why.msg);
    CHECK_MSG(store_shadow_start(st, &sh, &second, &why) == 0, "%s", why.msg);
    CHECK(first == 1 && second == 2);
    struct store_activity a = {.person = "p1",
                               .region = "south",
                               .office = "a",
                               .customer = "acme",
                               .kind = "visit",
                               .at = "2026-01-02",
                               .doc = "{}",
                               .created_at_ms = 1,
                               .by = "a:sales"};
    int64_t ids[3] = {0};
    CHECK_MSG(store_activity_insert(st, &a, &ids[1], &why) == 0, "%s", why.msg);
    CHECK_MSG(store_activity_insert(st, &a, &ids[2], &why) == 0, "%s", why.msg);
    CHECK(ids[1] == 1 && ids[2] == 2);
    CHECK(store_commit(st, &why) == 0);
    int64_t seen[4] = {0};
    struct store_activity_filter f = {.limit = 10};
    CHECK_MSG(store_activity_list(st, &f, collect_activity, seen, &why) == 0, "%s", why.msg);
    CHECK(seen[0] == 2 && seen[1] == 1 && seen[2] == 2);
    store_close(st);
}

/* A failure of the medium in any of the store's statements, lead
 * management's too, makes the store degraded (store.h, "Health"). */
TEST(a_lead_statement_without_room_makes_the_store_degraded)
{
    struct store *st = fresh();
    struct err_detail why = {0};
    CHECK(store_degraded(st, NULL) == NULL);
    signal(SIGXFSZ, SIG_IGN);
    off_t big = file_size("") > file_size("-wal") ? file_size("") : file_size("-wal");
    struct rlimit lim = {.rlim_cur = (rlim_t)big + 8192, .rlim_max = RLIM_INFINITY};
    CHECK(setrlimit(RLIMIT_FSIZE, &lim) == 0);
    /* Larger than SQLite's page cache: the statement itself must spill. */
    size_t n = 4 << 20;
    char *doc = malloc(n);
    CHECK(doc != NULL);
    memset(doc, 'x', n - 1);
    doc[n - 1] = '\0';
    struct store_activity a = {.person = "p1",
                               .region = "south",
                               .office = "a",
                               .customer = "acme",
                               .kind = "visit",
                               .at = "2026-01-02",
                               .doc = doc,
                               .created_at_ms = 1,
                               .by = "a:sales"};
    int64_t id = 0;
    int rc = store_begin(st, &why);
    for (int i = 0; !rc && i < 8; i++)
        rc = store_activity_insert(st, &a, &id, &why);
    CHECK_MSG(rc == -ERR_STORE && strstr(why.msg, "insert activity"), "rc %d: %s", rc, why.msg);
    store_rollback(st);
    const char *reason = store_degraded(st, NULL);
    CHECK(reason && strstr(reason, "insert activity"));
    lim.rlim_cur = RLIM_INFINITY;
    CHECK(setrlimit(RLIMIT_FSIZE, &lim) == 0);
    CHECK(store_probe(st, &why) == 0 && store_degraded(st, NULL) == NULL);
    free(doc);
    store_close(st);
}

/* PostgreSQL: the newest schema this ltcd knows and no other is opened. */
TEST(pg_refuses_a_newer_schema)
{
    scratch_pg = 1;
    struct store *st = fresh();
    CHECK(st != NULL && store_schema_version(st) == store_migration_count);
    store_close(st);
    struct db *db = NULL;
    struct err_detail why = {0};
    CHECK(db_open(dbpath, false, &db, &why) == 0);
    CHECK(db_exec(db, "UPDATE ltc_schema SET version=999") == 0);
    db_close(db);
    CHECK(store_open(dbpath, false, &st, &why) == -ERR_STORE);
    CHECK_MSG(strstr(why.msg, "newer"), "%s", why.msg);
}

/* PostgreSQL: ids come from sequences two stores on one database share, so
 * nodes never give one id twice; a rolled-back id is not given again. */
TEST(pg_ids_are_unique_across_stores)
{
    scratch_pg = 1;
    struct store *a = fresh(), *b = NULL;
    struct err_detail why = {0};
    CHECK(a != NULL && store_open(dbpath, false, &b, &why) == 0);
    int64_t ia = 0, ib = 0, ic = 0;
    /* Both ask inside open transactions (one thread: a commits before b
     * writes, or b would wait for a's row locks). */
    CHECK(store_begin(a, &why) == 0 && store_begin(b, &why) == 0);
    CHECK(store_instance_next_id(a, &ia, &why) == 0 && store_instance_next_id(b, &ib, &why) == 0);
    CHECK(ia != ib);
    CHECK(insert(a, ia, "a", "lead") == 0);
    CHECK(store_commit(a, &why) == 0);
    CHECK(insert(b, ib, "a", "lead") == 0);
    store_rollback(b);
    CHECK(store_begin(b, &why) == 0 && store_instance_next_id(b, &ic, &why) == 0);
    CHECK(ic != ia && ic != ib);
    store_rollback(b);
    CHECK(store_instance_count(a) == 1 && store_instance_count(b) == 1);
    store_close(a);
    store_close(b);
}

/* An update names the last event its writer read: a second writer that
 * read the same loses (-ERR_RACE), on its own connection (another node) or
 * on the same, and changes nothing. */
TEST(a_stale_update_is_a_race)
{
    struct store *a = fresh(), *b = NULL;
    struct err_detail why = {0};
    CHECK(a != NULL && store_begin(a, &why) == 0 && insert(a, 1, "a", "lead") == 0);
    CHECK(store_commit(a, &why) == 0);
    CHECK(store_open(dbpath, false, &b, &why) == 0);
    struct store_instance up = {.id = 1,
                                .stage = "opportunity",
                                .doc = "{\"v\":2}",
                                .at_ms = 2,
                                .last_seq = 2,
                                .prev_seq = 1};
    CHECK(store_begin(a, &why) == 0 && store_instance_update(a, &up, &why) == 0);
    CHECK(store_commit(a, &why) == 0);
    up.doc = "{\"v\":3}";
    CHECK(store_begin(b, &why) == 0);
    CHECK(store_instance_update(b, &up, &why) == -ERR_RACE);
    CHECK_MSG(strstr(why.msg, "changed meanwhile"), "%s", why.msg);
    store_rollback(b);
    struct store_instance_row row;
    CHECK(store_instance_get(b, 1, &row, &why) == 0);
    CHECK(!strcmp(row.doc, "{\"v\":2}") && row.last_seq == 2);
    store_instance_row_deinit(&row);
    store_close(a);
    store_close(b);
}

SCRATCH_BOTH(a_stale_update_is_a_race)
SCRATCH_BOTH(migrates_to_the_latest_schema_and_reopens)
SCRATCH_BOTH(instances_and_events_round_trip)
SCRATCH_BOTH(lists_filter_and_page)
SCRATCH_BOTH(events_are_append_only)
SCRATCH_BOTH(a_rolled_back_savepoint_leaves_nothing)
SCRATCH_BOTH(rule_versions_activate_one_at_a_time)
SCRATCH_BOTH(customer_exposure_follows_contracts)
SCRATCH_BOTH(the_funnel_sums_follow_every_write)
SCRATCH_BOTH(kept_sums_pass_2_to_the_63)
SCRATCH_BOTH(new_rows_get_their_ids_from_their_insert)

TEST_MAIN(T(migrates_to_the_latest_schema_and_reopens), T(refuses_a_newer_schema),
          T(instances_and_events_round_trip), T(rolled_back_inserts_leave_no_id_gap),
          T(lists_filter_and_page), T(events_are_append_only),
          T(a_rolled_back_savepoint_leaves_nothing), T(rule_versions_activate_one_at_a_time),
          T(a_commit_without_room_makes_the_store_degraded_until_one_writes),
          T(a_failed_fsync_makes_the_store_degraded), T(customer_exposure_follows_contracts),
          T(the_funnel_sums_follow_every_write), T(new_rows_get_their_ids_from_their_insert),
          T(a_lead_statement_without_room_makes_the_store_degraded), T(a_stale_update_is_a_race),
          /* The same on PostgreSQL, and what is its own. */
          T(pg_migrates_to_the_latest_schema_and_reopens), T(pg_refuses_a_newer_schema),
          T(pg_instances_and_events_round_trip), T(pg_ids_are_unique_across_stores),
          T(pg_lists_filter_and_page), T(pg_events_are_append_only),
          T(pg_a_rolled_back_savepoint_leaves_nothing), T(pg_rule_versions_activate_one_at_a_time),
          T(pg_customer_exposure_follows_contracts), T(pg_the_funnel_sums_follow_every_write),
          T(kept_sums_pass_2_to_the_63), T(pg_kept_sums_pass_2_to_the_63),
          T(kept_sums_survive_their_migration), T(pg_a_database_in_a_locale_order_is_refused),
          T(pg_new_rows_get_their_ids_from_their_insert), T(pg_a_stale_update_is_a_race))
