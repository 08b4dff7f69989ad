/* tests/unit/rules_test.c: versions, layers, bounds, reload and evaluation. */
#include <sys/stat.h>
#include <time.h>

#include "rules.h"
#include "test.h"
#include "tree.h"

/* HQ rules whose score is signals.s * 20, so tests steer it exactly. */
static void write_tree(void)
{
    snprintf(root, sizeof root, "/tmp/ltcd-rules-test-%d", getpid());
    char cmd[400];
    snprintf(cmd, sizeof cmd, "rm -rf %s %s.db*", root, root); /* a stale db of a reused pid */
    if (system(cmd))
        abort();
    put("hq/org.lua", "return { regions = { south = { name = 'S', offices = { 'pa', 'pb' } },"
                      " north = { offices = { 'nc' } } } }");
    put("hq/bounds.lua",
        "return { thresholds = { mature_budget = { min = 0, max = 1000000, integer = true },"
        " horizon_months = { min = 1, max = 36, integer = true }, hot = { min = 50, max = 95 },"
        " warm = { min = 20, max = 80 } }, authority = { office = { max_value = { min = 0, max = "
        "10 } } },"
        " share = { platform = { min = 0, max = 30 } } }");
    put("hq/lead.lua",
        "return { evaluate = function(lead, t) return { score = (lead.signals.s or 0) * 20,"
        " fit = (lead.signals.fit or 1) > 0, risk_ok = true, reasons = { 'r' } } end,"
        " thresholds = { mature_budget = 1000, horizon_months = 12, hot = 80, warm = 40 } }");
    put("hq/process.lua", "return { stages = { 'lead', 'closed' }, credit_limit = 100,"
                          " act = function() return { error = 'conflict', message = 'x' } end }");
    put("hq/share.lua", "return { split = function() return {} end }");
}

static struct store *st;

static struct rules *open_rules(bool auto_approve)
{
    snprintf(dbpath, sizeof dbpath, "%s.db", root);
    struct err_detail why = {0};
    struct rules *r = NULL;
    if (!st && store_open(dbpath, false, &st, &why))
        return NULL;
    if (rules_open(st, root, auto_approve, &r, &why))
        fprintf(stderr, "# rules_open: %s\n", why.msg);
    return r;
}

static json_t *lead(int s, int fit, const char *status, int amount, int horizon)
{
    return json_pack("{s:s, s:s, s:s, s:s, s:{s:i, s:s}, s:i, s:{s:i, s:i}}", "office", "pa",
                     "customer", "c", "title", "t", "source", "sales", "budget", "amount", amount,
                     "status", status, "horizon_months", horizon, "signals", "s", s, "fit", fit);
}

static const char *field(json_t *ev, const char *k)
{
    return json_string_value(json_object_get(ev, k));
}

static int eval(struct rules *r, json_t *body, json_t **ev)
{
    json_t *l = NULL;
    const char *region;
    struct err_detail why = {0};
    int rc = rules_evaluate_lead(r, body, &l, ev, &region, &why);
    if (rc)
        fprintf(stderr, "# evaluate: %s\n", why.msg);
    json_decref(l);
    json_decref(body);
    return rc;
}

TEST(cut_offs_are_exact)
{
    write_tree();
    struct rules *r = open_rules(true);
    CHECK(r != NULL);
    json_t *ev;
    /* score 80 == hot, amount == mature_budget, horizon == threshold: mature, hot, convert */
    CHECK(eval(r, lead(4, 1, "approved", 1000, 12), &ev) == 0);
    CHECK(!strcmp(field(ev, "temperature"), "hot") && !strcmp(field(ev, "maturity"), "mature"));
    CHECK(!strcmp(field(ev, "recommendation"), "convert"));
    json_decref(ev);
    /* score 60: warm; amount one fen short: early -> nurture */
    CHECK(eval(r, lead(3, 1, "approved", 999, 12), &ev) == 0);
    CHECK(!strcmp(field(ev, "temperature"), "warm") && !strcmp(field(ev, "maturity"), "early"));
    CHECK(!strcmp(field(ev, "recommendation"), "nurture"));
    json_decref(ev);
    /* horizon one month over: early */
    CHECK(eval(r, lead(4, 1, "approved", 1000, 13), &ev) == 0);
    CHECK(!strcmp(field(ev, "maturity"), "early"));
    json_decref(ev);
    /* budget planned: early whatever the amount */
    CHECK(eval(r, lead(4, 1, "planned", 5000, 1), &ev) == 0);
    CHECK(!strcmp(field(ev, "maturity"), "early"));
    json_decref(ev);
    /* score 40 == warm; score 20 cold: mature but cold -> nurture */
    CHECK(eval(r, lead(2, 1, "approved", 1000, 1), &ev) == 0);
    CHECK(!strcmp(field(ev, "temperature"), "warm"));
    json_decref(ev);
    CHECK(eval(r, lead(1, 1, "approved", 1000, 1), &ev) == 0);
    CHECK(!strcmp(field(ev, "temperature"), "cold") &&
          !strcmp(field(ev, "recommendation"), "nurture"));
    json_decref(ev);
    /* no strategic fit: close, however hot */
    CHECK(eval(r, lead(5, 0, "approved", 1000, 1), &ev) == 0);
    CHECK(!strcmp(field(ev, "recommendation"), "close"));
    CHECK(json_integer_value(json_object_get(json_object_get(ev, "rules"), "hq")) == 1);
    json_decref(ev);
    rules_close(r);
}

TEST(region_thresholds_apply_within_bounds)
{
    write_tree();
    put("regions/south/thresholds.lua", "return { hot = 60 }");
    put("regions/north/thresholds.lua", "return function(lead) return { warm = 79, hot = 90 } end");
    struct rules *r = open_rules(true);
    CHECK(r != NULL);
    json_t *ev;
    CHECK(eval(r, lead(3, 1, "approved", 1000, 1), &ev) == 0); /* 60 >= south hot 60 */
    CHECK(!strcmp(field(ev, "temperature"), "hot"));
    CHECK(json_integer_value(json_object_get(json_object_get(ev, "rules"), "region/south")) == 1);
    json_decref(ev);
    rules_close(r);
}

/* A region's table form is merged with HQ's defaults once per pair of
 * versions: a new HQ version's defaults reach the region's leads at once,
 * and a region table the new HQ bounds refuse fails its leads. */
TEST(region_thresholds_follow_a_new_hq_version)
{
    write_tree();
    put("regions/south/thresholds.lua", "return { hot = 60 }");
    struct rules *r = open_rules(true);
    CHECK(r != NULL);
    json_t *ev;
    CHECK(eval(r, lead(2, 1, "approved", 1000, 1), &ev) == 0); /* 40 == HQ warm 40 */
    CHECK(!strcmp(field(ev, "temperature"), "warm"));
    json_decref(ev);
    struct rules_result res;
    struct err_detail why = {0};
    const char *hq = "return { evaluate = function(lead, t) return { score = (lead.signals.s or 0)"
                     " * 20, fit = true, risk_ok = true, reasons = {} } end,"
                     " thresholds = { mature_budget = 1000, horizon_months = 12, hot = 80,"
                     " warm = 50 } }";
    CHECK(rules_put_file(r, "hq", "lead.lua", hq, strlen(hq), "t", &res, &why) == 0);
    CHECK(eval(r, lead(2, 1, "approved", 1000, 1), &ev) == 0); /* 40 < HQ warm 50 now */
    CHECK(!strcmp(field(ev, "temperature"), "cold"));
    CHECK(json_integer_value(json_object_get(json_object_get(ev, "thresholds"), "warm")) == 50);
    CHECK(json_integer_value(json_object_get(json_object_get(ev, "thresholds"), "hot")) == 60);
    json_decref(ev);
    rules_close(r);
}

/* CONTRACT 8.2: rule state loaded by a file is read-only to calls. A
 * thresholds function that counts its calls gets the same count each time
 * (its local is put back after every call), so the same lead evaluates the
 * same way however often, and whatever ran before (validation, simulation);
 * one that writes a module-level table is rejected, naming the line. */
TEST(the_same_lead_twice_gives_the_same_result)
{
    write_tree();
    put("regions/south/thresholds.lua", "local calls = 0\nreturn function(lead)\n"
                                        "    calls = calls + 1\n"
                                        "    return { hot = math.min(95, 50 + 10 * calls) }\nend");
    struct rules *r = open_rules(true);
    CHECK(r != NULL);
    json_t *first = NULL;
    for (int i = 0; i < 3; i++) {
        json_t *ev;
        CHECK(eval(r, lead(3, 1, "approved", 1000, 1), &ev) == 0);
        CHECK_MSG(!strcmp(field(ev, "temperature"), "hot"), "round %d: %s", i,
                  field(ev, "temperature"));
        if (first)
            CHECK(json_equal(first, ev));
        json_decref(first);
        first = ev;
    }
    json_decref(first);
    const char *src = "local seen = {}\nreturn function(lead)\n    seen[#seen + 1] = lead.office\n"
                      "    return { hot = 50 + #seen }\nend";
    struct rules_result res;
    struct err_detail why = {0};
    CHECK(rules_put_file(r, "region/south", "thresholds.lua", src, strlen(src), "t", &res, &why) ==
          0); /* these HQ rules have no sample leads to try it on */
    json_t *l = NULL, *ev = NULL;
    const char *region;
    json_t *body = lead(3, 1, "approved", 1000, 1);
    CHECK(rules_evaluate_lead(r, body, &l, &ev, &region, &why) == -ERR_RULE_RUNTIME);
    CHECK_MSG(strstr(why.msg, "regions/south/thresholds.lua:3:") && strstr(why.msg, "loaded state"),
              "%s", why.msg);
    json_decref(body);
    json_decref(l);
    json_decref(ev);
    rules_close(r);
}

static const char *last_error(struct rules *r, const char *owner)
{
    static char msg[600];
    json_t *s = rules_status_json(r);
    size_t i;
    json_t *o;
    msg[0] = '\0';
    json_array_foreach(json_object_get(s, "owners"), i, o)
    {
        if (!strcmp(json_string_value(json_object_get(o, "owner")), owner)) {
            const char *m =
                json_string_value(json_object_get(json_object_get(o, "last_error"), "message"));
            snprintf(msg, sizeof msg, "%s", m ? m : "");
        }
    }
    json_decref(s);
    return msg;
}

TEST(out_of_bounds_and_foreign_files_are_rejected_by_name)
{
    write_tree();
    put("regions/south/thresholds.lua", "return { hot = 99 }");
    put("regions/north/org.lua", "return {}");
    put("offices/pa/tools.lua", "return { defaults = { office = 'pb' } }");
    put("offices/pb/tools.lua", "return { defaults = { horizon_months = 3 } }");
    struct rules *r = open_rules(true);
    CHECK(r != NULL);
    CHECK(rules_active(r, "region/south") == NULL);
    CHECK_MSG(strstr(last_error(r, "region/south"), "hot = 99 is outside HQ bounds"), "%s",
              last_error(r, "region/south"));
    CHECK(strstr(last_error(r, "region/south"), "regions/south/thresholds.lua"));
    CHECK_MSG(
        strstr(last_error(r, "region/north"), "regions/north/org.lua: not an extension point"),
        "%s", last_error(r, "region/north"));
    CHECK(strstr(last_error(r, "office/pa"), "defaults.office"));
    CHECK(rules_active(r, "office/pb") != NULL);
    rules_close(r);
}

TEST(a_broken_version_keeps_the_previous_one)
{
    write_tree();
    put("regions/south/thresholds.lua", "return { hot = 60 }");
    struct rules *r = open_rules(true);
    CHECK(r && rules_active(r, "region/south")->version == 1);
    put("regions/south/thresholds.lua", "return { hot = ");
    CHECK(rules_sync_disk(r, "t") == 1);
    CHECK(rules_active(r, "region/south")->version == 1);
    CHECK_MSG(strstr(last_error(r, "region/south"), "regions/south/thresholds.lua:1:"), "%s",
              last_error(r, "region/south"));
    put("regions/south/thresholds.lua", "return { hot = 61 }");
    CHECK(rules_sync_disk(r, "t") == 0);
    /* Issue 11: v2 was the number the refusal cited; the fix is v3. */
    CHECK(rules_active(r, "region/south")->version == 3);
    CHECK(last_error(r, "region/south")[0] == '\0');
    /* Identical content is a no-op. */
    struct rules_result res;
    struct err_detail why = {0};
    json_t *files = json_pack("{s:s}", "thresholds.lua", "return { hot = 61 }");
    CHECK(rules_submit(r, "region/south", files, "api", "t", &res, &why) == 0);
    CHECK(!strcmp(res.status, "unchanged") && res.version == 3);
    json_decref(files);
    rules_close(r);
}

TEST(region_versions_wait_for_hq_approval)
{
    write_tree();
    struct rules *r = open_rules(false);
    CHECK(r != NULL);
    struct rules_result res;
    struct err_detail why = {0};
    CHECK(rules_put_file(r, "region/south", "thresholds.lua", "return { hot = 60 }", 19, "t", &res,
                         &why) == 0);
    CHECK(!strcmp(res.status, "pending") && res.version == 1);
    CHECK(rules_active(r, "region/south") == NULL);
    CHECK(rules_put_file(r, "region/south", "thresholds.lua", "return { hot = 70 }", 19, "t", &res,
                         &why) == 0);
    CHECK(res.version == 2);
    CHECK(rules_approve(r, "region/south", 2, "hq:admin", &why) == 0);
    CHECK(rules_active(r, "region/south")->version == 2);
    CHECK(!strcmp(rules_active(r, "region/south")->approved_by, "hq:admin"));
    /* v1 was superseded by the approval of v2; approving it now is a conflict. */
    CHECK(rules_approve(r, "region/south", 1, "hq:admin", &why) == -ERR_CONFLICT);
    CHECK(strstr(why.msg, "superseded"));
    CHECK(rules_reject(r, "region/south", 2, "hq:admin", "no", &why) == -ERR_CONFLICT);
    /* Offices activate at once. */
    CHECK(rules_put_file(r, "office/pa", "tools.lua", "return {}", 9, "t", &res, &why) == 0);
    CHECK(!strcmp(res.status, "active"));
    rules_close(r);
}

TEST(restart_restores_exactly_the_active_versions)
{
    write_tree();
    struct rules *r = open_rules(true);
    struct rules_result res;
    struct err_detail why = {0};
    CHECK(rules_put_file(r, "region/south", "thresholds.lua", "return { hot = 66 }", 19, "t", &res,
                         &why) == 0);
    char hash[65];
    snprintf(hash, sizeof hash, "%s", rules_active(r, "region/south")->hash);
    rules_close(r);
    r = open_rules(true);
    CHECK(r && rules_active(r, "region/south"));
    CHECK(rules_active(r, "region/south")->version == res.version);
    CHECK(!strcmp(rules_active(r, "region/south")->hash, hash));
    rules_close(r);
}

TEST(ten_thousand_reloads_leave_memory_at_baseline)
{
    write_tree();
    struct rules *r = open_rules(true);
    CHECK(r != NULL);
    struct rules_stats before, after;
    char src[64];
    struct rules_result res;
    struct err_detail why = {0};
    int n = getenv("LTC_SLOW") ? 1000 : 10000;
    for (int i = 0; i < n; i++) {
        snprintf(src, sizeof src, "return { hot = %d }", 50 + i % 40);
        json_t *files = json_pack("{s:s}", "thresholds.lua", src);
        /* Distinct content each time: a comment carries the counter. */
        char body[96];
        snprintf(body, sizeof body, "-- %d\n%s", i, src);
        json_object_set_new(files, "thresholds.lua", json_string(body));
        CHECK(rules_submit(r, "region/south", files, "api", "t", &res, &why) == 0);
        json_decref(files);
        if (i == 10)
            rules_stats(r, &before);
    }
    rules_stats(r, &after);
    CHECK(res.version == n);
    CHECK(after.versions_alive == before.versions_alive);
    CHECK_MSG(after.mem_bytes < before.mem_bytes + before.mem_bytes / 10, "%zu -> %zu",
              before.mem_bytes, after.mem_bytes);
    rules_close(r);
}

TEST(check_tree_reports_file_and_line)
{
    write_tree();
    CHECK(rules_check_tree(root) == 0);
    put("regions/south/thresholds.lua", "return {\n hot = nil + 1 }");
    CHECK(rules_check_tree(root) == 1);
    CHECK(rules_check_tree("/nonexistent") == 1);
}

TEST(shipped_rules_are_valid)
{
    CHECK(rules_check_tree("rules") == 0);
}

/* The shipped rules, copied into a tree of their own, and that tree gone. */
static struct rules *open_shipped(void)
{
    snprintf(root, sizeof root, "/tmp/ltcd-rules-test-%d", getpid());
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf %s %s.db %s.db-wal %s.db-shm && cp -r rules %s", root, root,
             root, root, root);
    return system(cmd) ? NULL : open_rules(true);
}

static int drop_shipped(void)
{
    char cmd[1200];
    snprintf(cmd, sizeof cmd, "rm -rf %s %s %s-wal %s-shm", root, dbpath, dbpath, dbpath);
    return system(cmd);
}

/* Not a pass/fail benchmark: the cost of one lead evaluation under the shipped
 * rules (office defaults, region thresholds, HQ scoring), reported so that a
 * change to the sandbox can be measured. The bound only catches a gross regression. */
TEST(lead_evaluation_cost)
{
    struct rules *r = open_shipped();
    CHECK(r != NULL);
    json_t *body =
        json_loads("{\"office\":\"province-a\",\"customer\":\"ACME Telecom\",\"title\":\"5G core\","
                   "\"source\":\"sales\",\"budget\":{\"amount\":60000000,\"currency\":\"CNY\","
                   "\"status\":\"approved\"},\"horizon_months\":6,\"signals\":{\"strategic_fit\":4,"
                   "\"urgency\":5,\"relationship\":4,\"coach\":3,\"solution_maturity\":4}}",
                   0, NULL);
    CHECK(body != NULL);
    int n = getenv("LTC_SLOW") ? 2000 : 20000;
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (int i = 0; i < n; i++) {
        json_t *ev = NULL;
        CHECK(eval(r, json_incref(body), &ev) == 0);
        json_decref(ev);
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double us = ((t1.tv_sec - t0.tv_sec) * 1e6 + (t1.tv_nsec - t0.tv_nsec) / 1e3) / n;
    printf("# lead evaluation: %.2f us per call (%d calls)\n", us, n);
    CHECK(us < 2000);
    json_decref(body);
    rules_close(r);
    CHECK(drop_shipped() == 0);
}

/* rules_act shares the instance's unchanged values with the one it was
 * given (rules_process.c, next_of): whatever the action and its stage
 * hooks write, the given one reads as before, and twice the same action
 * gives the same instance. */
TEST(an_action_leaves_the_instance_it_was_given_as_it_was)
{
    struct rules *r = open_shipped();
    CHECK(r != NULL);
    json_t *body = json_loads(
        "{\"office\":\"province-a\",\"customer\":\"ACME\",\"title\":\"5G\",\"source\":\"sales\","
        "\"budget\":{\"amount\":60000000,\"currency\":\"CNY\",\"status\":\"approved\"},"
        "\"horizon_months\":6,\"signals\":{\"strategic_fit\":4,\"urgency\":5}}",
        0, NULL);
    json_t *l = NULL, *ev = NULL;
    const char *region = NULL;
    struct err_detail why = {0};
    CHECK(body && rules_evaluate_lead(r, body, &l, &ev, &region, &why) == 0);
    json_t *doc = json_deep_copy(l);
    json_t *fields =
        json_pack("{s:s, s:s, s:i, s:o, s:{s:i}, s:{s:s}, s:[], s:{}}", "stage", "lead", "region",
                  region, "id", 1, "evaluation", json_incref(ev), "rules", "hq",
                  rules_hq(r)->version, "entered", "lead", "2026-01-05", "actions", "checklist");
    json_object_update(doc, fields);
    json_decref(fields);
    json_t *before = json_deep_copy(doc),
           *input = json_pack("{s:s, s:s}", "action", "review", "decision", "convert");
    struct rules_actor actor = {"hq", "hq", "admin"};
    json_t *next[2] = {NULL, NULL};
    for (int i = 0; i < 2; i++) {
        json_t *outcome = NULL, *used = NULL, *ledger = NULL;
        int rc = rules_act(r, doc, input, &actor, "2026-01-06", 0, -1, &next[i], &outcome, &used,
                           &ledger, &why);
        CHECK_MSG(rc == 0, "%s", why.msg);
        json_decref(outcome);
        json_decref(used);
        json_decref(ledger);
    }
    CHECK(json_equal(doc, before));
    CHECK(next[0] && json_equal(next[0], next[1]));
    CHECK(!strcmp(json_string_value(json_object_get(next[0], "stage")), "opportunity"));
    CHECK(json_object_get(json_object_get(next[0], "entered"), "opportunity") != NULL);
    CHECK(json_object_get(json_object_get(doc, "entered"), "opportunity") == NULL);
    CHECK(json_array_size(json_object_get(next[0], "actions")) >
          json_array_size(json_object_get(doc, "actions")));
    json_decref(next[0]);
    json_decref(next[1]);
    json_decref(input);
    json_decref(before);
    json_decref(doc);
    json_decref(ev);
    json_decref(l);
    json_decref(body);
    rules_close(r);
    CHECK(drop_shipped() == 0);
}

TEST_MAIN(T(cut_offs_are_exact), T(region_thresholds_apply_within_bounds),
          T(region_thresholds_follow_a_new_hq_version),
          T(out_of_bounds_and_foreign_files_are_rejected_by_name),
          T(a_broken_version_keeps_the_previous_one), T(region_versions_wait_for_hq_approval),
          T(restart_restores_exactly_the_active_versions),
          T(ten_thousand_reloads_leave_memory_at_baseline), T(check_tree_reports_file_and_line),
          T(shipped_rules_are_valid), T(the_same_lead_twice_gives_the_same_result),
          T(lead_evaluation_cost), T(an_action_leaves_the_instance_it_was_given_as_it_was))
