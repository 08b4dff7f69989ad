/* tests/unit/lineage_test.c: rule lineage (issue 11, CONTRACT 8.2): new
 * versions are built on the newest version and keep every file, older pending
 * versions are superseded with an audit event, the tree on disk is taken in
 * only when it changed and never brings back what was superseded or
 * rejected, version numbers never name two contents (across restarts too),
 * and the review diff between two versions. */
#include <sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>

#include "rules.h"
#include "schema_undo.h"
#include "store_schema.h"
#include "test.h"
#include "tree.h"

static struct store *st;

static const char T1[] = "return { hot = 60 }";
static const char T2[] = "return { hot = 70 }";
static const char A1[] = "return function(stage, instance) return {} end";
static const char A2[] = "return function(stage, instance) return {} end -- 2";
static const char U1[] = "return { office = { max_value = 5 } }";

/* HQ rules whose score is signals.s * 20, and region/south with three files. */
static void write_tree(void)
{
    /* One tree per run (tests run one after another, each in a child). */
    snprintf(root, sizeof root, "/tmp/ltcd-lineage-test-%d", getppid());
    snprintf(dbpath, sizeof dbpath, "%s.db", root);
    SH("rm -rf %s %s.db*", root, root);
    put("hq/org.lua", "return { regions = { south = { offices = { 'pa' } } } }");
    put("hq/bounds.lua",
        "return { thresholds = { mature_budget = { min = 0, max = 1000000, integer = true },"
        " horizon_months = { min = 1, max = 36, integer = true }, hot = { min = 50, max = 95 },"
        " warm = { min = 20, max = 80 } },"
        " authority = { office = { max_value = { min = 0, max = 10 } } }, share = {} }");
    put("hq/lead.lua",
        "return { evaluate = function(lead, t) return { score = (lead.signals.s or 0) * 20,"
        " fit = true, risk_ok = true, reasons = {} } end,"
        " thresholds = { mature_budget = 1000, horizon_months = 12, hot = 80, warm = 40 } }");
    put("hq/process.lua", "return { stages = { 'lead' }, credit_limit = 1, act = function() end }");
    put("hq/share.lua", "return { split = function() return {} end }");
    put("regions/south/thresholds.lua", T1);
    put("regions/south/actions.lua", A1);
    put("regions/south/authority.lua", U1);
}

static struct rules *open_rules(bool auto_approve)
{
    struct err_detail why = {0};
    struct rules *r = NULL;
    if (!st && store_open(dbpath, false, &st, &why)) {
        fprintf(stderr, "# store_open: %s\n", why.msg);
        return NULL;
    }
    if (rules_open(st, root, auto_approve, &r, &why))
        fprintf(stderr, "# rules_open: %s\n", why.msg);
    return r;
}

/* Close and open everything again: a restart. */
static struct rules *restart(struct rules *r, bool auto_approve)
{
    rules_close(r);
    store_close(st);
    st = NULL;
    return open_rules(auto_approve);
}

struct version_row {
    char status[16], origin[8], hash[65];
    int base;
    json_t *files;
};

static int on_row(const struct store_rule_version *v, void *ctx)
{
    struct version_row *row = ctx;
    snprintf(row->status, sizeof row->status, "%s", v->status);
    snprintf(row->origin, sizeof row->origin, "%s", v->origin);
    snprintf(row->hash, sizeof row->hash, "%s", v->hash);
    row->base = v->base;
    row->files = v->files ? json_loads(v->files, 0, NULL) : NULL;
    return 0;
}

/* Version 'version' of region/south as stored (status "" when there is none). */
static struct version_row row_of(int version)
{
    struct version_row row;
    memset(&row, 0, sizeof row);
    store_rule_version_get(st, "region/south", version, on_row, &row, NULL);
    return row;
}

static const char *file_of(const struct version_row *row, const char *name)
{
    const char *s = json_string_value(json_object_get(row->files, name));
    return s ? s : "";
}

static int max_version(void)
{
    int max = 0;
    store_rule_version_max(st, "region/south", &max, NULL);
    return max;
}

static int on_event(const struct store_rule_event *e, void *ctx)
{
    char *out = ctx;
    size_t n = strlen(out);
    snprintf(out + n, 2048 - n, "%s%s v%d%s%s", n ? ", " : "", e->action, e->version,
             e->message ? ": " : "", e->message ? e->message : "");
    return 0;
}

static const char *events(void)
{
    static char out[2048];
    out[0] = '\0';
    store_rule_event_list(st, "region/south", on_event, out, NULL);
    return out;
}

static int put_file(struct rules *r, const char *file, const char *src, int base,
                    struct rules_result *res, struct err_detail *why)
{
    return rules_put_file_on(r, "region/south", file, src, src ? strlen(src) : 0, base,
                             "region/south:admin", res, why);
}

TEST(a_put_builds_on_the_pending_version_and_supersedes_it)
{
    /* Issue 11, scenario (a): v2 pending (thresholds), a PUT of actions.lua
     * makes v3 with v2's thresholds and the new actions; v2 is superseded. */
    write_tree();
    struct rules *r = open_rules(false);
    CHECK(r != NULL);
    struct err_detail why = {0};
    CHECK(rules_approve(r, "region/south", 1, "hq:admin", &why) == 0);
    struct rules_result res = {0};
    CHECK(put_file(r, "thresholds.lua", T2, 0, &res, &why) == 0);
    CHECK(res.version == 2 && res.base == 1 && !strcmp(res.status, "pending"));
    CHECK(put_file(r, "actions.lua", A2, 0, &res, &why) == 0);
    CHECK(res.version == 3 && res.base == 2 && !strcmp(res.status, "pending"));
    struct version_row v3 = row_of(3), v2 = row_of(2);
    CHECK(!strcmp(file_of(&v3, "thresholds.lua"), T2) && !strcmp(file_of(&v3, "actions.lua"), A2));
    CHECK(!strcmp(file_of(&v3, "authority.lua"), U1) && json_object_size(v3.files) == 3);
    CHECK(v3.base == 2 && !strcmp(v3.origin, "api"));
    CHECK(!strcmp(v2.status, "superseded"));
    CHECK_MSG(strstr(events(), "superseded v2: superseded by v3"), "%s", events());
    /* Approving v3 activates everything both PUTs changed. */
    CHECK(rules_approve(r, "region/south", 3, "hq:admin", &why) == 0);
    CHECK(!strcmp(json_string_value(
                      json_object_get(rules_active(r, "region/south")->files, "thresholds.lua")),
                  T2));
    CHECK(rules_approve(r, "region/south", 2, "hq:admin", &why) == -ERR_CONFLICT);
    json_decref(v2.files);
    json_decref(v3.files);
    rules_close(r);
}

TEST(a_put_on_a_pending_disk_version_keeps_its_other_files)
{
    /* Issue 11, scenario (b): region v1 pending from disk; a PUT of
     * thresholds.lua makes v2 = v1's files with thresholds replaced. */
    write_tree();
    struct rules *r = open_rules(false);
    CHECK(r && rules_active(r, "region/south") == NULL);
    struct version_row v1 = row_of(1);
    CHECK(!strcmp(v1.status, "pending") && !strcmp(v1.origin, "disk") && v1.base == 0);
    struct rules_result res = {0};
    struct err_detail why = {0};
    CHECK(put_file(r, "thresholds.lua", T2, 0, &res, &why) == 0);
    CHECK(res.version == 2 && res.base == 1);
    struct version_row v2 = row_of(2);
    CHECK(json_object_size(v2.files) == 3 && !strcmp(file_of(&v2, "thresholds.lua"), T2));
    CHECK(!strcmp(file_of(&v2, "actions.lua"), A1) && !strcmp(file_of(&v2, "authority.lua"), U1));
    json_decref(v1.files);
    v1 = row_of(1);
    CHECK(!strcmp(v1.status, "superseded"));
    /* A DELETE builds on the newest version too. */
    CHECK(put_file(r, "actions.lua", NULL, 0, &res, &why) == 0);
    struct version_row v3 = row_of(3);
    CHECK(res.base == 2 && json_object_size(v3.files) == 2 &&
          !strcmp(file_of(&v3, "thresholds.lua"), T2));
    json_decref(v1.files);
    json_decref(v2.files);
    json_decref(v3.files);
    rules_close(r);
}

TEST(base_builds_on_a_chosen_version_and_refuses_unknown_or_rejected_ones)
{
    write_tree();
    struct rules *r = open_rules(false);
    CHECK(r != NULL);
    struct rules_result res = {0};
    struct err_detail why = {0};
    CHECK(rules_approve(r, "region/south", 1, "hq:admin", &why) == 0);
    CHECK(put_file(r, "thresholds.lua", T2, 0, &res, &why) == 0 && res.version == 2);
    /* On v1 instead of the pending v2: v2's change is left out, and v2,
     * replaced as the candidate, is superseded. */
    CHECK(put_file(r, "actions.lua", A2, 1, &res, &why) == 0);
    CHECK(res.version == 3 && res.base == 1);
    struct version_row v3 = row_of(3), v2 = row_of(2);
    CHECK(!strcmp(file_of(&v3, "thresholds.lua"), T1) && !strcmp(file_of(&v3, "actions.lua"), A2));
    CHECK(v3.base == 1 && !strcmp(v2.status, "superseded"));
    CHECK(put_file(r, "actions.lua", A1, 99, &res, &why) == -ERR_NOT_FOUND);
    CHECK(rules_reject(r, "region/south", 3, "hq:admin", "no", &why) == 0);
    CHECK(put_file(r, "actions.lua", A1, 3, &res, &why) == -ERR_CONFLICT);
    CHECK(!strcmp(why.field, "base") && strstr(why.msg, "rejected"));
    /* A superseded version may be built on again. */
    CHECK(put_file(r, "authority.lua", "return {}", 2, &res, &why) == 0);
    struct version_row v4 = row_of(4);
    CHECK(res.version == 4 && v4.base == 2 && !strcmp(file_of(&v4, "thresholds.lua"), T2));
    CHECK(put_file(r, "share.lua", NULL, 1, &res, &why) == -ERR_NOT_FOUND);
    CHECK(strstr(why.msg, "region/south v1 has no file share.lua"));
    json_decref(v2.files);
    json_decref(v3.files);
    json_decref(v4.files);
    rules_close(r);
}

TEST(only_the_newest_version_is_unchanged_an_older_content_is_a_revert)
{
    write_tree();
    struct rules *r = open_rules(true);
    CHECK(r && rules_active(r, "region/south")->version == 1);
    struct rules_result res = {0};
    struct err_detail why = {0};
    CHECK(put_file(r, "thresholds.lua", T2, 0, &res, &why) == 0 && res.version == 2);
    CHECK(put_file(r, "thresholds.lua", T2, 0, &res, &why) == 0);
    CHECK(!strcmp(res.status, "unchanged") && res.version == 2);
    /* Back to v1's content: a new version on top, active (auto-approve). */
    CHECK(put_file(r, "thresholds.lua", T1, 0, &res, &why) == 0);
    CHECK(res.version == 3 && res.base == 2 && !strcmp(res.status, "active"));
    struct version_row v1 = row_of(1);
    CHECK(rules_active(r, "region/south")->version == 3);
    CHECK(!strcmp(rules_active(r, "region/south")->hash, v1.hash));
    json_decref(v1.files);
    rules_close(r);
}

TEST(an_unchanged_tree_creates_nothing_after_an_api_approval_or_a_restart)
{
    write_tree();
    struct rules *r = open_rules(false);
    CHECK(r != NULL);
    struct rules_result res = {0};
    struct err_detail why = {0};
    CHECK(put_file(r, "thresholds.lua", T2, 0, &res, &why) == 0 && res.version == 2);
    CHECK(rules_approve(r, "region/south", 2, "hq:admin", &why) == 0);
    CHECK(rules_sync_disk(r, "ltcd:reload") == 0); /* SIGHUP */
    CHECK(max_version() == 2 && rules_active(r, "region/south")->version == 2);
    r = restart(r, false);
    CHECK(r && max_version() == 2 && rules_active(r, "region/south")->version == 2);
    CHECK(rules_sync_disk(r, "ltcd:reload") == 0);
    CHECK(max_version() == 2);
    /* Were the record of the last read lost, the tree (v1's content, now
     * superseded) would still not come back by itself. */
    CHECK(!strcmp(row_of(1).status, "superseded"));
    sqlite3 *db = NULL;
    CHECK(sqlite3_open(dbpath, &db) == SQLITE_OK);
    CHECK(sqlite3_exec(db, "DELETE FROM rule_disk", NULL, NULL, NULL) == SQLITE_OK);
    sqlite3_close(db);
    CHECK(rules_sync_disk(r, "ltcd:reload") == 0);
    CHECK(max_version() == 2 && rules_active(r, "region/south")->version == 2);
    rules_close(r);
}

TEST(a_changed_tree_is_applied_on_top_of_the_newest_version)
{
    write_tree();
    struct rules *r = open_rules(false);
    CHECK(r != NULL);
    struct rules_result res = {0};
    struct err_detail why = {0};
    CHECK(rules_approve(r, "region/south", 1, "hq:admin", &why) == 0);
    CHECK(put_file(r, "thresholds.lua", T2, 0, &res, &why) == 0 && res.version == 2);
    /* On disk: actions.lua edited, authority.lua removed. */
    put("regions/south/actions.lua", A2);
    SH("rm %s/regions/south/authority.lua", root);
    CHECK(rules_sync_disk(r, "ltcd:watch") == 0);
    struct version_row v3 = row_of(3);
    CHECK_MSG(!strcmp(v3.status, "pending") && !strcmp(v3.origin, "disk") && v3.base == 2,
              "%s %s %d", v3.status, v3.origin, v3.base);
    CHECK(!strcmp(file_of(&v3, "thresholds.lua"), T2)); /* the API's change stays */
    CHECK(!strcmp(file_of(&v3, "actions.lua"), A2) && !json_object_get(v3.files, "authority.lua"));
    CHECK(!strcmp(row_of(2).status, "superseded"));
    /* A file changed both ways takes the disk's content (the newest). */
    CHECK(put_file(r, "actions.lua", "return function() return {} end -- api", 0, &res, &why) == 0);
    put("regions/south/actions.lua", "return function() return {} end -- disk");
    CHECK(rules_sync_disk(r, "ltcd:watch") == 0);
    struct version_row v5 = row_of(5);
    CHECK_MSG(!strcmp(file_of(&v5, "actions.lua"), "return function() return {} end -- disk"), "%s",
              file_of(&v5, "actions.lua"));
    CHECK(!strcmp(file_of(&v5, "thresholds.lua"), T2) && v5.base == 4);
    json_decref(v3.files);
    json_decref(v5.files);
    rules_close(r);
}

TEST(the_tree_never_brings_back_a_rejected_or_superseded_content)
{
    write_tree();
    struct rules *r = open_rules(false);
    CHECK(r != NULL);
    struct err_detail why = {0};
    CHECK(rules_reject(r, "region/south", 1, "hq:admin", "no", &why) == 0);
    CHECK(rules_sync_disk(r, "t") == 0 && max_version() == 1); /* unchanged on disk */
    put("regions/south/thresholds.lua", T2);
    CHECK(rules_sync_disk(r, "t") == 0 && max_version() == 2);
    CHECK(rules_reject(r, "region/south", 2, "hq:admin", "no", &why) == 0);
    /* Edited back to v1's content: changed on disk, but rejected content. */
    put("regions/south/thresholds.lua", T1);
    CHECK(rules_sync_disk(r, "t") == 0);
    CHECK_MSG(max_version() == 2, "v%d", max_version());
    /* Superseded content likewise: v3 from disk, v4 from the API replaces it,
     * the disk goes back to v3's content. */
    put("regions/south/thresholds.lua", "return { hot = 61 }");
    CHECK(rules_sync_disk(r, "t") == 0 && max_version() == 3);
    struct rules_result res = {0};
    CHECK(put_file(r, "thresholds.lua", "return { hot = 62 }", 0, &res, &why) == 0);
    CHECK(res.version == 4 && !strcmp(row_of(3).status, "superseded"));
    put("regions/south/thresholds.lua", "return { hot = 62 }"); /* what v4 holds: unchanged */
    CHECK(rules_sync_disk(r, "t") == 0 && max_version() == 4);
    put("regions/south/thresholds.lua", "return { hot = 61 }"); /* v3's again */
    CHECK(rules_sync_disk(r, "t") == 0);
    CHECK_MSG(max_version() == 4, "v%d", max_version());
    rules_close(r);
}

TEST(a_number_cited_by_a_refusal_never_names_other_content_across_restarts)
{
    write_tree();
    struct rules *r = open_rules(true);
    CHECK(r && rules_active(r, "region/south")->version == 1);
    struct rules_result res = {0};
    struct err_detail why = {0};
    const char *bad = "return { hot = 99 }"; /* out of bounds */
    CHECK(put_file(r, "thresholds.lua", bad, 0, &res, &why) == -ERR_RULE_REJECTED);
    CHECK_MSG(strstr(why.msg, "region/south v2: "), "%s", why.msg);
    json_t *s = rules_status_json(r);
    size_t i;
    json_t *o;
    int cited = 0;
    json_array_foreach(json_object_get(s, "owners"), i, o)
    {
        if (!strcmp(json_string_value(json_object_get(o, "owner")), "region/south"))
            cited = (int)json_integer_value(
                json_object_get(json_object_get(o, "last_error"), "version"));
    }
    json_decref(s);
    CHECK(cited == 2);
    r = restart(r, true);
    CHECK(r != NULL);
    CHECK(put_file(r, "thresholds.lua", T2, 0, &res, &why) == 0);
    CHECK_MSG(res.version == 3, "v%d", res.version);
    /* The same refused content again: the same number, not a new one. */
    CHECK(put_file(r, "thresholds.lua", bad, 0, &res, &why) == -ERR_RULE_REJECTED);
    CHECK(put_file(r, "thresholds.lua", bad, 0, &res, &why) == -ERR_RULE_REJECTED);
    CHECK(put_file(r, "thresholds.lua", T1, 0, &res, &why) == 0);
    CHECK_MSG(res.version == 5, "v%d", res.version); /* v4 named the refused content */
    /* An unreadable tree keeps one number for all its refusals. */
    SH("ln -s /etc/hostname %s/regions/south/share.lua", root);
    CHECK(rules_sync_disk(r, "t") == 1 && rules_sync_disk(r, "t") == 1);
    r = restart(r, true);
    CHECK(r != NULL);
    SH("rm %s/regions/south/share.lua", root);
    CHECK(put_file(r, "thresholds.lua", T2, 0, &res, &why) == 0);
    CHECK_MSG(res.version == 7, "v%d", res.version);
    rules_close(r);
}

static const json_t *diff_file(const json_t *d, const char *name)
{
    size_t i;
    const json_t *f;
    json_array_foreach(json_object_get(d, "files"), i, f)
    {
        if (!strcmp(json_string_value(json_object_get(f, "file")), name))
            return f;
    }
    return NULL;
}

static const char *field(const json_t *o, const char *k)
{
    const char *s = json_string_value(json_object_get(o, k));
    return s ? s : "";
}

TEST(a_diff_lists_every_file_against_the_active_or_any_version)
{
    write_tree();
    struct rules *r = open_rules(false);
    CHECK(r != NULL);
    struct err_detail why = {0};
    json_t *d = NULL;
    /* Nothing active: against an empty bundle, everything is added. */
    CHECK(rules_diff(r, "region/south", 1, 0, &d, &why) == 0);
    CHECK(json_is_null(json_object_get(d, "from")) &&
          json_integer_value(json_object_get(d, "to")) == 1);
    CHECK(!strcmp(field(diff_file(d, "actions.lua"), "status"), "added"));
    CHECK(strstr(field(diff_file(d, "actions.lua"), "diff"), "@@ -0,0 +1 @@\n+return function"));
    json_decref(d);
    CHECK(rules_approve(r, "region/south", 1, "hq:admin", &why) == 0);
    struct rules_result res = {0};
    CHECK(put_file(r, "thresholds.lua", T2, 0, &res, &why) == 0);
    CHECK(put_file(r, "authority.lua", NULL, 0, &res, &why) == 0);
    CHECK(put_file(r, "share.lua", "return {}", 0, &res, &why) == 0);
    CHECK(res.version == 4);
    CHECK(rules_diff(r, "region/south", 4, 0, &d, &why) == 0);
    CHECK(json_integer_value(json_object_get(d, "from")) == 1);
    CHECK(json_array_size(json_object_get(d, "files")) == 4);
    CHECK(!strcmp(field(json_array_get(json_object_get(d, "files"), 0), "file"), "actions.lua"));
    CHECK(!strcmp(field(diff_file(d, "actions.lua"), "status"), "same"));
    CHECK(!strcmp(field(diff_file(d, "actions.lua"), "diff"), ""));
    CHECK(!strcmp(field(diff_file(d, "authority.lua"), "status"), "removed"));
    CHECK(!strcmp(field(diff_file(d, "share.lua"), "status"), "added"));
    CHECK(!strcmp(field(diff_file(d, "thresholds.lua"), "status"), "changed"));
    CHECK_MSG(!strcmp(field(diff_file(d, "thresholds.lua"), "diff"),
                      "--- a/thresholds.lua\n+++ b/thresholds.lua\n@@ -1 +1 @@\n"
                      "-return { hot = 60 }\n\\ No newline at end of file\n"
                      "+return { hot = 70 }\n\\ No newline at end of file\n"),
              "%s", field(diff_file(d, "thresholds.lua"), "diff"));
    json_decref(d);
    /* Against any version, even a superseded one; the other way round. */
    CHECK(rules_diff(r, "region/south", 1, 3, &d, &why) == 0);
    CHECK(json_integer_value(json_object_get(d, "from")) == 3);
    CHECK(!strcmp(field(diff_file(d, "authority.lua"), "status"), "added"));
    json_decref(d);
    CHECK(rules_diff(r, "region/south", 9, 0, &d, &why) == -ERR_NOT_FOUND);
    CHECK(rules_diff(r, "region/south", 4, 9, &d, &why) == -ERR_NOT_FOUND);
    CHECK(rules_diff(r, "region/nowhere", 1, 0, &d, &why) == -ERR_NOT_FOUND);
    rules_close(r);
}

TEST(an_upgraded_database_remembers_the_tree_it_read_last)
{
    /* A database from before lineage: the newest version read from disk
     * stands for what was last read, so the first start creates nothing. */
    write_tree();
    struct rules *r = open_rules(false);
    CHECK(r != NULL);
    struct rules_result res = {0};
    struct err_detail why = {0};
    CHECK(put_file(r, "thresholds.lua", T2, 0, &res, &why) == 0);
    CHECK(rules_approve(r, "region/south", 2, "hq:admin", &why) == 0);
    rules_close(r);
    store_close(st);
    st = NULL;
    CHECK(schema_undo_kept_sums(dbpath) == 0);
    sqlite3 *db = NULL;
    CHECK(sqlite3_open(dbpath, &db) == SQLITE_OK);
    /* Back to the schema before lineage: the migrations after it (lead
     * management's) are undone too, so that all of them run again. */
    int lineage = 0;
    for (int i = 0; i < store_migration_count; i++)
        if (strstr(store_migrations[i], "CREATE TABLE rule_disk"))
            lineage = i;
    CHECK(lineage > 0);
    char sql[2000];
    snprintf(
        sql, sizeof sql,
        "DROP TABLE rule_disk; DROP TABLE rule_numbers; ALTER TABLE rule_versions DROP "
        "COLUMN base;"
        "DROP TRIGGER instances_load_insert; DROP TRIGGER instances_load_update;"
        "DROP INDEX instances_owner; DROP INDEX instances_review_office;"
        "DROP INDEX instances_review_region;"
        "ALTER TABLE instances DROP COLUMN owner; ALTER TABLE instances DROP COLUMN review_due;"
        "ALTER TABLE events DROP COLUMN person; DROP TABLE people; DROP TABLE person_load;"
        "DROP TABLE customers; DROP TABLE activities; DROP TABLE reviews;"
        "DROP TRIGGER instances_funnel_insert; DROP TRIGGER instances_funnel_update;"
        "DROP TABLE funnel_sums;"
        /* strategy to numbers' (issue 14) */
        "DROP TABLE forecasts; DROP TABLE pipeline_sums; DROP TABLE ledger_customers;"
        "DROP TRIGGER ledger_customer_sums;"
        "DROP TABLE share_run_parts;" /* the performance issue's (12) */
        "PRAGMA user_version = %d;",
        lineage);
    CHECK_MSG(sqlite3_exec(db, sql, NULL, NULL, NULL) == SQLITE_OK, "%s", sqlite3_errmsg(db));
    sqlite3_close(db);
    r = open_rules(false);
    CHECK(r && max_version() == 2 && rules_active(r, "region/south")->version == 2);
    CHECK(row_of(2).base == 0); /* not known for versions from before */
    rules_close(r);
}

TEST_MAIN(T(a_put_builds_on_the_pending_version_and_supersedes_it),
          T(a_put_on_a_pending_disk_version_keeps_its_other_files),
          T(base_builds_on_a_chosen_version_and_refuses_unknown_or_rejected_ones),
          T(only_the_newest_version_is_unchanged_an_older_content_is_a_revert),
          T(an_unchanged_tree_creates_nothing_after_an_api_approval_or_a_restart),
          T(a_changed_tree_is_applied_on_top_of_the_newest_version),
          T(the_tree_never_brings_back_a_rejected_or_superseded_content),
          T(a_number_cited_by_a_refusal_never_names_other_content_across_restarts),
          T(a_diff_lists_every_file_against_the_active_or_any_version),
          T(an_upgraded_database_remembers_the_tree_it_read_last))
