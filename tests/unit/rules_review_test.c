/* tests/unit/rules_review_test.c: what HQ reviews a rule version with (issue
 * 11): where an error message says it happened, last_error runs and their
 * settling, runtime errors and their rate-limited log lines, shadow runs
 * (scope, results, expiry on an injected clock, ending, restart) and the
 * simulation's capped lists. */
#include <fcntl.h>
#include <sys/stat.h>
#include <time.h>

#include "rules_internal.h"
#include "test.h"
#include "tree.h"

static struct store *st;

/* HQ rules whose score is signals.s * 20; HQ's process routes on value only. */
static void write_tree(void)
{
    snprintf(root, sizeof root, "/tmp/ltcd-review-test-%d", getpid());
    char cmd[400];
    snprintf(cmd, sizeof cmd, "rm -rf %s %s.db*", root, root);
    if (system(cmd))
        abort();
    put("hq/org.lua", "return { regions = { south = { name = 'S', offices = { 'pa', 'pb' } },"
                      " north = { offices = { 'nc' } } } }");
    put("hq/bounds.lua",
        "return { thresholds = { mature_budget = { min = 0, max = 1000000, integer = true },"
        " horizon_months = { min = 1, max = 36, integer = true }, hot = { min = 50, max = 95 },"
        " warm = { min = 20, max = 80 } }, authority = { office = { max_value = { min = 0, max = "
        "100000 } } }, share = { platform = { min = 0, max = 30 } } }");
    put("hq/lead.lua",
        "return { evaluate = function(lead, t) return { score = (lead.signals.s or 0) * 20,"
        " fit = true, risk_ok = true, reasons = { 'r' } } end,"
        " thresholds = { mature_budget = 1000, horizon_months = 12, hot = 80, warm = 40 } }");
    put("hq/process.lua",
        "return { stages = { 'lead', 'opportunity', 'contract', 'closed' }, credit_limit = 100,"
        " act = function() return { error = 'conflict', message = 'x' } end,"
        " route = function(a, value) local o = a.office or {}"
        " if value <= (o.max_value or 1000) then return 'office' end return 'region' end }");
    put("hq/share.lua", "return { split = function() return {} end }");
}

static struct rules *open_rules(void)
{
    snprintf(dbpath, sizeof dbpath, "%s.db", root);
    struct err_detail why = {0};
    struct rules *r = NULL;
    if (!st && store_open(dbpath, false, &st, &why))
        return NULL;
    if (rules_open(st, root, false, &r, &why))
        fprintf(stderr, "# rules_open: %s\n", why.msg);
    return r;
}

/* Close, and remove the test's files (a failed test leaves them to look at). */
static void done(struct rules *r)
{
    char cmd[700];
    rules_close(r);
    store_close(st);
    st = NULL;
    snprintf(cmd, sizeof cmd, "rm -rf %s %s.db %s.db-wal %s.db-shm %s.log", root, root, root, root,
             root);
    if (system(cmd))
        fprintf(stderr, "# %s: cleanup failed\n", root);
}

static int put_file(struct rules *r, const char *owner, const char *file, const char *src,
                    struct rules_result *res, struct err_detail *why)
{
    return rules_put_file(r, owner, file, src, strlen(src), "t", res, why);
}

/* The owner's last_error, as GET /v1/rules gives it (a new reference, or NULL). */
static json_t *last_error(struct rules *r, const char *owner)
{
    json_t *status = rules_status_json(r), *o, *out = NULL;
    size_t i;
    json_array_foreach(json_object_get(status, "owners"), i, o)
    {
        if (!strcmp(json_string_value(json_object_get(o, "owner")), owner))
            out = json_incref(json_object_get(o, "last_error"));
    }
    json_decref(status);
    return out;
}

static json_t *lead(const char *office, int s)
{
    return json_pack("{s:s, s:s, s:s, s:s, s:{s:i, s:s}, s:i, s:{s:i}}", "office", office,
                     "customer", "c", "title", "t", "source", "sales", "budget", "amount", 5000,
                     "status", "approved", "horizon_months", 6, "signals", "s", s);
}

/* An instance row for a lead (the shadow results and simulations read it). */
static int64_t store_lead(struct rules *r, const char *office, int s, json_t **normalised,
                          json_t **evaluation)
{
    json_t *body = lead(office, s), *l = NULL, *ev = NULL;
    const char *region = NULL;
    struct err_detail why = {0};
    if (rules_evaluate_lead(r, body, &l, &ev, &region, &why)) {
        fprintf(stderr, "# evaluate: %s\n", why.msg);
        json_decref(body);
        return 0;
    }
    json_decref(body);
    int64_t id = 0;
    store_instance_next_id(st, &id, &why);
    json_t *doc = json_deep_copy(l);
    json_object_set_new(doc, "id", json_integer(id));
    json_object_set_new(doc, "stage", json_string("lead"));
    json_object_set_new(doc, "region", json_string(region));
    json_object_set_new(doc, "created_at", json_string("2026-01-01T00:00:00Z"));
    json_object_set(doc, "evaluation", ev);
    json_object_set_new(doc, "rules", json_pack("{s:i}", "hq", 1));
    char *text = json_dumps(doc, JSON_COMPACT);
    struct store_instance in = {.id = id,
                                .stage = "lead",
                                .region = region,
                                .office = office,
                                .doc = text,
                                .at_ms = 1,
                                .last_seq = 1};
    int rc = store_instance_insert(st, &in, &why);
    free(text);
    json_decref(doc);
    if (rc)
        fprintf(stderr, "# insert: %s\n", why.msg);
    *normalised = l;
    *evaluation = ev;
    return rc ? 0 : id;
}

/* --- where an error happened --------------------------------------------- */

TEST(an_error_message_names_owner_version_file_and_line)
{
    struct rules__site s;
    rules__site_parse("region/south v2: regions/south/thresholds.lua:4: attempt to index a nil "
                      "value (field '?')",
                      &s);
    CHECK(!strcmp(s.owner, "region/south") && s.version == 2);
    CHECK(!strcmp(s.file, "regions/south/thresholds.lua") && s.line == 4);
    CHECK(!strncmp(s.text, "regions/south/thresholds.lua:4: attempt", 39));
    rules__site_parse("hq v7: hq/process.lua: a result may not set 'x'", &s);
    CHECK(!strcmp(s.owner, "hq") && s.version == 7 && !strcmp(s.file, "hq/process.lua"));
    CHECK(s.line == 0);
    rules__site_parse("hq/lead.lua: evaluate must return score", &s);
    CHECK(!s.owner[0] && s.version == 0 && !strcmp(s.file, "hq/lead.lua"));
    rules__site_parse("office: unknown office 'x'", &s);
    CHECK(!s.owner[0] && !s.file[0] && s.line == 0);
    /* Numbers that do not fit, owners that are not owners: nothing is taken. */
    rules__site_parse("region/south v99999999999: x.lua:1: y", &s);
    CHECK(!s.owner[0] && s.version == 0 && !s.file[0]);
    rules__site_parse("Region/South v2: a b.lua:99999999999999: y", &s);
    CHECK(!s.owner[0] && !s.file[0] && s.line == 0);
    rules__site_parse("hq v3: hq/a.lua:12345678901: y", &s);
    CHECK(s.version == 3 && !strcmp(s.file, "hq/a.lua") && s.line == 0);
}

/* --- last_error runs -------------------------------------------------------- */

TEST(equal_errors_make_a_run_and_others_start_a_new_one)
{
    struct rules__errors e = {0};
    rules__errors_note(&e, RULES__ERROR_RUNTIME, 2, "boom", 1000);
    rules__errors_note(&e, RULES__ERROR_RUNTIME, 2, "boom", 2000);
    rules__errors_note(&e, RULES__ERROR_RUNTIME, 2, "boom", 3000);
    CHECK(e.count == 3 && e.first_at_ms == 1000 && e.at_ms == 3000);
    json_t *j = rules__errors_json(&e);
    CHECK(!strcmp(json_string_value(json_object_get(j, "kind")), "runtime"));
    CHECK(json_integer_value(json_object_get(j, "count")) == 3);
    CHECK(!strcmp(json_string_value(json_object_get(j, "first_at")), "1970-01-01T00:00:01.000Z"));
    CHECK(!strcmp(json_string_value(json_object_get(j, "at")), "1970-01-01T00:00:03.000Z"));
    CHECK(json_integer_value(json_object_get(j, "version")) == 2);
    json_decref(j);
    rules__errors_note(&e, RULES__ERROR_RUNTIME, 2, "other", 4000); /* another message */
    CHECK(e.count == 1 && e.first_at_ms == 4000);
    rules__errors_note(&e, RULES__ERROR_RUNTIME, 3, "other", 5000); /* another version */
    CHECK(e.count == 1 && e.version == 3);
    rules__errors_note(&e, RULES__ERROR_VALIDATION, 3, "other", 6000); /* another kind */
    CHECK(e.count == 1 && e.kind == RULES__ERROR_VALIDATION);
    CHECK(e.totals[RULES__ERROR_RUNTIME] == 5 && e.totals[RULES__ERROR_VALIDATION] == 1);
}

TEST(an_error_settles_when_its_version_is_stored_or_replaced)
{
    struct rules__errors e = {0};
    /* A failed attempt cites the number the next good version gets. */
    rules__errors_note(&e, RULES__ERROR_VALIDATION, 4, "bad", 1);
    rules__errors_settle(&e, 3, true);
    CHECK(e.kind == RULES__ERROR_VALIDATION);
    rules__errors_settle(&e, 4, false);
    CHECK(e.kind == RULES__ERROR_NONE);
    json_t *j = rules__errors_json(&e);
    CHECK(json_is_null(j));
    json_decref(j);
    /* A runtime error stays while its version is active, pending ones or not. */
    rules__errors_note(&e, RULES__ERROR_RUNTIME, 2, "boom", 1);
    rules__errors_settle(&e, 5, false);
    CHECK(e.kind == RULES__ERROR_RUNTIME);
    rules__errors_settle(&e, 2, true);
    CHECK(e.kind == RULES__ERROR_RUNTIME);
    rules__errors_settle(&e, 1, true); /* a rollback to another version */
    CHECK(e.kind == RULES__ERROR_NONE);
    CHECK(e.totals[RULES__ERROR_RUNTIME] == 1); /* what was counted stays counted */
}

TEST(pipeline_refusals_are_load_or_validation_and_never_go_stale)
{
    write_tree();
    struct rules *r = open_rules();
    CHECK(r != NULL);
    struct rules_result res;
    struct err_detail why = {0};
    CHECK(put_file(r, "office/pa", "tools.lua", "return {", &res, &why) == -ERR_RULE_SYNTAX);
    CHECK(put_file(r, "office/pa", "tools.lua", "return {", &res, &why) == -ERR_RULE_SYNTAX);
    json_t *e = last_error(r, "office/pa");
    CHECK(!strcmp(json_string_value(json_object_get(e, "kind")), "load"));
    CHECK(json_integer_value(json_object_get(e, "count")) == 2);
    CHECK(json_integer_value(json_object_get(e, "version")) == 1);
    json_decref(e);
    CHECK(put_file(r, "office/pa", "tools.lua", "return { defaults = { bogus = 1 } }", &res,
                   &why) == -ERR_RULE_REJECTED);
    e = last_error(r, "office/pa");
    CHECK(!strcmp(json_string_value(json_object_get(e, "kind")), "validation"));
    CHECK(json_integer_value(json_object_get(e, "count")) == 1);
    CHECK(json_integer_value(json_object_get(e, "version")) == 2);
    json_decref(e);
    /* Refused numbers are spent (v1 on the syntax error, v2 on the bad default):
     * the good version is v3, and storing it settles the errors citing older ones. */
    CHECK(put_file(r, "office/pa", "tools.lua", "return {}", &res, &why) == 0 && res.version == 3);
    e = last_error(r, "office/pa");
    CHECK(json_is_null(e));
    json_decref(e);
    uint64_t n[RULES__ERROR_KINDS] = {0};
    struct rules__errors *pe = rules__errors_of(r, "office/pa");
    memcpy(n, pe->totals, sizeof n);
    CHECK(n[RULES__ERROR_LOAD] == 2 && n[RULES__ERROR_VALIDATION] == 1);
    done(r);
}

/* --- runtime errors ---------------------------------------------------------- */

static json_t *runtime_fail(struct rules *r)
{
    json_t *l = NULL, *ev = NULL;
    const char *region;
    struct err_detail why = {0};
    json_t *body = lead("pa", 5);
    json_object_set_new(body, "source", json_string("marketing"));
    int rc = rules_evaluate_lead(r, body, &l, &ev, &region, &why);
    json_decref(body);
    if (!rc) {
        json_decref(l);
        json_decref(ev);
        return NULL;
    }
    rules_runtime_error(r, &why, "r42", "office/pa:ar");
    return json_string(why.msg);
}

static const char erroring[] = "-- errors for sources it forgot\n"
                               "local by = { sales = { hot = 70 } }\n"
                               "return function(lead)\n"
                               "    return { hot = by[lead.source].hot }\n"
                               "end\n";

TEST(a_runtime_error_names_the_active_version_and_its_line)
{
    write_tree();
    put("regions/south/thresholds.lua", erroring);
    struct rules *r = open_rules();
    CHECK(r != NULL);
    struct err_detail why = {0};
    CHECK(rules_approve(r, "region/south", 1, "hq:admin", &why) == 0);
    json_t *m = runtime_fail(r);
    CHECK(m && strstr(json_string_value(m), "regions/south/thresholds.lua:4:"));
    json_decref(m);
    json_decref(runtime_fail(r));
    json_t *e = last_error(r, "region/south");
    CHECK(!strcmp(json_string_value(json_object_get(e, "kind")), "runtime"));
    CHECK(json_integer_value(json_object_get(e, "count")) == 2);
    CHECK(json_integer_value(json_object_get(e, "version")) == 1);
    CHECK(strcmp(json_string_value(json_object_get(e, "first_at")),
                 json_string_value(json_object_get(e, "at"))) <= 0);
    json_decref(e);
    /* Refusals and bad input are not rule errors. */
    struct err_detail kcp = {.code = -ERR_KCP};
    snprintf(kcp.msg, sizeof kcp.msg, "credit");
    rules_runtime_error(r, &kcp, NULL, NULL);
    CHECK(rules__errors_of(r, "region/south")->count == 2);
    /* A fixed version activates: the runtime error of v1 is settled. */
    struct rules_result res;
    CHECK(put_file(r, "region/south", "thresholds.lua", "return { hot = 60 }", &res, &why) == 0);
    e = last_error(r, "region/south");
    CHECK(json_is_object(e)); /* pending: v1 still serves, still failing */
    json_decref(e);
    CHECK(rules_approve(r, "region/south", res.version, "hq:admin", &why) == 0);
    e = last_error(r, "region/south");
    CHECK(json_is_null(e));
    json_decref(e);
    done(r);
}

static int count_lines(const char *path, const char *needle)
{
    FILE *f = fopen(path, "r");
    char line[4096];
    int n = 0;
    while (f && fgets(line, sizeof line, f))
        n += strstr(line, needle) != NULL;
    if (f)
        fclose(f);
    return n;
}

TEST(runtime_error_lines_are_rate_limited_per_owner)
{
    write_tree();
    put("regions/south/thresholds.lua", erroring);
    struct rules *r = open_rules();
    CHECK(r != NULL);
    struct err_detail why = {0};
    CHECK(rules_approve(r, "region/south", 1, "hq:admin", &why) == 0);
    char path[320];
    snprintf(path, sizeof path, "%s.log", root);
    fflush(stderr);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600), saved = dup(2);
    CHECK(fd >= 0 && dup2(fd, 2) == 2);
    /* Start early in a second, so the burst stays inside it. */
    struct timespec ts;
    do
        clock_gettime(CLOCK_MONOTONIC, &ts);
    while (ts.tv_nsec > 300000000);
    for (int i = 0; i < 30; i++)
        json_decref(runtime_fail(r));
    fflush(stderr);
    struct timespec pause = {1, 100000000};
    nanosleep(&pause, NULL);
    json_decref(runtime_fail(r));
    fflush(stderr);
    dup2(saved, 2);
    int lines = count_lines(path, "rule runtime error");
    CHECK_MSG(lines == RULES_ERROR_LOG_PER_S + 1, "%d lines", lines);
    CHECK(count_lines(path, "further runtime errors of this owner are dropped") == 1);
    CHECK(count_lines(path, "25 further runtime error lines were dropped") == 1);
    CHECK(count_lines(path, "owner=region/south version=1 "
                            "where=regions/south/thresholds.lua:4 actor=office/pa:ar") == lines);
    CHECK(count_lines(path, "[r42]") == lines);
    CHECK(rules__errors_of(r, "region/south")->count == 31); /* all are counted */
    done(r);
}

/* --- shadow runs ----------------------------------------------------------- */

static int64_t fake_now = 1800000000000;
static int64_t fake_clock(void)
{
    return fake_now;
}

static int64_t summary_int(struct rules *r, const char *owner, int v, const char *k)
{
    json_t *out = NULL;
    struct err_detail why = {0};
    if (rules_shadow_summary(r, owner, v, &out, &why))
        return -1;
    int64_t n = json_integer_value(json_object_get(out, k));
    json_decref(out);
    return n;
}

static const char *summary_str(struct rules *r, const char *owner, int v, const char *k)
{
    static char buf[64];
    json_t *out = NULL;
    struct err_detail why = {0};
    buf[0] = '\0';
    if (!rules_shadow_summary(r, owner, v, &out, &why))
        snprintf(buf, sizeof buf, "%s",
                 json_is_string(json_object_get(out, k))
                     ? json_string_value(json_object_get(out, k))
                     : "");
    json_decref(out);
    return buf;
}

/* Evaluate a lead of 'office' live, and record its shadow results. */
static int shadow_lead(struct rules *r, const char *office, int s)
{
    json_t *l = NULL, *ev = NULL;
    struct err_detail why = {0};
    int64_t id = store_lead(r, office, s, &l, &ev);
    if (!id)
        return -1;
    json_t *res = rules_shadow_evaluate(r, l, ev);
    int n = (int)json_array_size(res);
    store_begin(st, &why);
    if (rules_shadow_record(r, res, id, fake_now, &why))
        n = -1;
    store_commit(st, &why);
    json_decref(res);
    json_decref(l);
    json_decref(ev);
    return n;
}

TEST(a_shadow_records_the_leads_of_its_scope_until_it_expires)
{
    write_tree();
    put("regions/south/thresholds.lua", "return { hot = 60 }");
    struct rules *r = open_rules();
    CHECK(r != NULL);
    rules_shadow_set_clock(r, fake_clock);
    struct err_detail why = {0};
    struct rules_result res;
    json_t *out = NULL;
    CHECK(rules_approve(r, "region/south", 1, "hq:admin", &why) == 0);
    CHECK(put_file(r, "region/south", "thresholds.lua", erroring, &res, &why) == 0);
    CHECK(rules_shadow_start(r, "region/south", 1, 2, "t", &out, &why) == -ERR_CONFLICT);
    CHECK(rules_shadow_start(r, "region/south", res.version, 0, "t", &out, &why) ==
          -ERR_INVALID_FIELD);
    CHECK(rules_shadow_start(r, "region/south", 9, 2, "t", &out, &why) == -ERR_NOT_FOUND);
    CHECK(rules_shadow_start(r, "region/south", res.version, 2, "t", &out, &why) == 0);
    CHECK(json_integer_value(json_object_get(out, "evaluated")) == 0);
    json_decref(out);
    CHECK(shadow_lead(r, "pa", 4) == 1); /* in scope: score 80, hot (60) both ways */
    CHECK(shadow_lead(r, "pb", 3) == 1); /* 60: hot under v1, warm (HQ's 80) under v2 */
    CHECK(shadow_lead(r, "nc", 4) == 0); /* region north: out of scope */
    CHECK(summary_int(r, "region/south", res.version, "evaluated") == 2);
    CHECK(summary_int(r, "region/south", res.version, "differing") == 1);
    CHECK(summary_int(r, "region/south", res.version, "failed") == 0);
    CHECK(!strcmp(summary_str(r, "region/south", res.version, "status"), "running"));
    /* One hour and 59 minutes later it still runs; at two hours it is over. */
    fake_now += 119 * 60 * 1000;
    CHECK(shadow_lead(r, "pa", 4) == 1);
    fake_now += 60 * 1000;
    CHECK(shadow_lead(r, "pa", 4) == 0);
    CHECK(summary_int(r, "region/south", res.version, "evaluated") == 3);
    CHECK(!strcmp(summary_str(r, "region/south", res.version, "status"), "ended"));
    CHECK(!strcmp(summary_str(r, "region/south", res.version, "end_reason"), "expired"));
    /* A new window of the same version starts from zero. */
    CHECK(rules_shadow_start(r, "region/south", res.version, 1, "t", &out, &why) == 0);
    json_decref(out);
    CHECK(summary_int(r, "region/south", res.version, "evaluated") == 0);
    done(r);
}

TEST(a_shadow_failure_is_a_result_and_the_window_survives_a_restart)
{
    write_tree();
    put("regions/south/thresholds.lua", "return { hot = 60 }");
    struct rules *r = open_rules();
    CHECK(r != NULL);
    struct err_detail why = {0};
    struct rules_result res;
    json_t *out = NULL;
    CHECK(rules_approve(r, "region/south", 1, "hq:admin", &why) == 0);
    CHECK(put_file(r, "region/south", "thresholds.lua", erroring, &res, &why) == 0);
    CHECK(rules_shadow_start(r, "region/south", res.version, 1, "t", &out, &why) == 0);
    json_decref(out);
    /* A marketing lead: the live evaluation succeeds, the shadow's fails. */
    json_t *body = lead("pa", 4), *l = NULL, *ev = NULL;
    const char *region;
    json_object_set_new(body, "source", json_string("marketing"));
    CHECK(rules_evaluate_lead(r, body, &l, &ev, &region, &why) == 0);
    json_t *results = rules_shadow_evaluate(r, l, ev);
    json_t *one = json_array_get(results, 0);
    CHECK(json_array_size(results) == 1 && json_is_false(json_object_get(one, "differs")));
    CHECK(strstr(json_string_value(json_object_get(one, "error")),
                 "regions/south/thresholds.lua:4:"));
    json_decref(results);
    json_decref(body);
    json_decref(l);
    json_decref(ev);
    rules_close(r);
    r = open_rules(); /* the window is resumed */
    CHECK(r != NULL);
    CHECK(shadow_lead(r, "pa", 4) == 1);
    /* Rejecting the version ends it. */
    CHECK(rules_reject(r, "region/south", res.version, "hq:admin", "no", &why) == 0);
    CHECK(!strcmp(summary_str(r, "region/south", res.version, "end_reason"), "rejected"));
    CHECK(shadow_lead(r, "pa", 4) == 0);
    done(r);
}

TEST(approving_or_superseding_the_version_ends_its_shadow)
{
    write_tree();
    put("regions/south/thresholds.lua", "return { hot = 60 }");
    struct rules *r = open_rules();
    CHECK(r != NULL);
    struct err_detail why = {0};
    struct rules_result a, b;
    json_t *out = NULL;
    CHECK(rules_approve(r, "region/south", 1, "hq:admin", &why) == 0);
    CHECK(put_file(r, "region/south", "thresholds.lua", "return { hot = 70 }", &a, &why) == 0);
    CHECK(rules_shadow_start(r, "region/south", a.version, 1, "t", &out, &why) == 0);
    json_decref(out);
    CHECK(shadow_lead(r, "pa", 4) == 1);
    /* b is built on a and supersedes it: a's shadow ends with it. */
    CHECK(put_file(r, "region/south", "thresholds.lua", "return { hot = 75 }", &b, &why) == 0);
    CHECK(!strcmp(summary_str(r, "region/south", a.version, "end_reason"), "superseded"));
    CHECK(rules_shadow_start(r, "region/south", a.version, 1, "t", &out, &why) == -ERR_CONFLICT);
    CHECK(rules_shadow_start(r, "region/south", b.version, 1, "t", &out, &why) == 0);
    json_decref(out);
    CHECK(shadow_lead(r, "pa", 4) == 1);
    CHECK(rules_approve(r, "region/south", b.version, "hq:admin", &why) == 0);
    CHECK(!strcmp(summary_str(r, "region/south", b.version, "end_reason"), "approved"));
    CHECK(shadow_lead(r, "pa", 4) == 0);
    CHECK(summary_int(r, "region/south", b.version, "evaluated") == 1);
    done(r);
}

/* --- simulation ---------------------------------------------------------- */

TEST(simulation_lists_are_capped_and_totals_count_everything)
{
    write_tree();
    put("regions/south/thresholds.lua", "return { hot = 60 }");
    struct rules *r = open_rules();
    CHECK(r != NULL);
    struct err_detail why = {0};
    struct rules_result res;
    CHECK(rules_approve(r, "region/south", 1, "hq:admin", &why) == 0);
    store_begin(st, &why);
    for (int i = 0; i < 130; i++) { /* score 60: hot under v1 */
        json_t *l = NULL, *ev = NULL;
        CHECK(store_lead(r, "pa", 3, &l, &ev) > 0);
        json_decref(l);
        json_decref(ev);
    }
    store_commit(st, &why);
    CHECK(put_file(r, "region/south", "thresholds.lua",
                   "return function(lead) if lead.customer == 'x' then error('no') end"
                   " return { hot = 70 } end",
                   &res, &why) == 0);
    struct rules_simulation sim = {.limit = 1000, .max_ms = 10000};
    json_t *out = NULL;
    CHECK(rules_simulate(r, "region/south", res.version, &sim, &out, &why) == 0);
    CHECK(json_integer_value(json_object_get(out, "evaluated")) == 130);
    CHECK(json_integer_value(json_object_get(out, "changed_total")) == 130);
    CHECK(json_array_size(json_object_get(out, "changed")) == 100);
    CHECK(json_integer_value(json_object_get(out, "cap")) == 100);
    CHECK(json_integer_value(json_object_get(out, "failed_total")) == 0);
    json_t *c = json_array_get(json_object_get(out, "changed"), 0);
    /* Only what differs: the temperature, not the score. */
    CHECK(json_object_size(json_object_get(c, "after")) == 1);
    CHECK(!strcmp(json_string_value(json_object_get(json_object_get(c, "after"), "temperature")),
                  "warm"));
    json_t *temps = json_object_get(json_object_get(out, "counts"), "temperature");
    CHECK(json_integer_value(json_object_get(temps, "hot->warm")) == 130);
    json_decref(out);
    done(r);
}

TEST_MAIN(T(an_error_message_names_owner_version_file_and_line),
          T(equal_errors_make_a_run_and_others_start_a_new_one),
          T(an_error_settles_when_its_version_is_stored_or_replaced),
          T(pipeline_refusals_are_load_or_validation_and_never_go_stale),
          T(a_runtime_error_names_the_active_version_and_its_line),
          T(runtime_error_lines_are_rate_limited_per_owner),
          T(a_shadow_records_the_leads_of_its_scope_until_it_expires),
          T(a_shadow_failure_is_a_result_and_the_window_survives_a_restart),
          T(approving_or_superseding_the_version_ends_its_shadow),
          T(simulation_lists_are_capped_and_totals_count_everything))
