/* tests/unit/rules_tests_test.c: tests.lua and HQ's samples run for every
 * new version (engine/rules_tests.c), --check-rules over a tree, and bundles
 * tested offline (ltcctl rules test). */
#include <sys/stat.h>

#include "rules_internal.h"
#include "rules_tests.h"
#include "test.h"
#include "tree.h"

static struct store *st;

/* HQ rules whose score is signals.s * 20 (fit unless signals.fit is 0). */
static void write_tree(void)
{
    snprintf(root, sizeof root, "/tmp/ltcd-rules-tests-test-%d", getpid());
    char cmd[400];
    snprintf(cmd, sizeof cmd, "rm -rf %s %s.db*", root, root);
    if (system(cmd))
        abort();
    put("hq/org.lua", "return { regions = { south = { offices = { 'pa', 'pb' } },"
                      " north = { offices = { 'nc' } } } }");
    put("hq/bounds.lua",
        "return { thresholds = { mature_budget = { min = 0, max = 1000000, integer = true },"
        " horizon_months = { min = 1, max = 36, integer = true }, hot = { min = 50, max = 95 },"
        " warm = { min = 20, max = 80 } } }");
    put("hq/lead.lua",
        "return { evaluate = function(lead, t) return { score = (lead.signals.s or 0) * 20,"
        " fit = (lead.signals.fit or 1) > 0, risk_ok = true } end,\n"
        " thresholds = { mature_budget = 1000, horizon_months = 12, hot = 80, warm = 40 },\n"
        " samples = { { office = 'pa', customer = 'c', title = 't', source = 'sales',"
        " horizon_months = 3, budget = { amount = 5, status = 'none' } } } }");
    put("hq/process.lua", "return { stages = { 'lead', 'closed' }, credit_limit = 100,"
                          " act = function() return { error = 'conflict', message = 'x' } end }");
    put("hq/share.lua", "return { split = function() return {} end }");
}

static struct rules *open_rules(void)
{
    snprintf(dbpath, sizeof dbpath, "%s.db", root);
    struct err_detail why = {0};
    struct rules *r = NULL;
    if (!st && store_open(dbpath, false, &st, &why))
        return NULL;
    if (rules_open(st, root, true, &r, &why))
        fprintf(stderr, "# rules_open: %s\n", why.msg);
    return r;
}

/* A tests.lua entry: a lead of 'office' scoring s * 20, amount 'amount'. */
static void test_entry(char *buf, size_t n, const char *name, const char *office, int s, int amount,
                       const char *expect)
{
    snprintf(buf, n,
             "  { name = '%s',\n    lead = { office = '%s', customer = 'c', title = 't',"
             " source = 'sales', horizon_months = 3,"
             " budget = { amount = %d, status = 'approved' }, signals = { s = %d } },\n"
             "    expect = %s },\n",
             name, office, amount, s, expect);
}

static int put_rule(struct rules *r, const char *owner, const char *file, const char *src,
                    struct err_detail *why)
{
    struct rules_result res;
    return rules_put_file(r, owner, file, src, strlen(src), "t", &res, why);
}

/* The API path: a failing test refuses the version with the test's name,
 * its line and what differed; the active version stays. */
TEST(a_version_failing_its_own_test_is_refused_naming_it)
{
    write_tree();
    put("regions/south/thresholds.lua", "return { hot = 60 }");
    struct rules *r = open_rules();
    CHECK(r && rules_active(r, "region/south"));
    char t1[400], t2[400], src[1000];
    test_entry(t1, sizeof t1, "a 60 is hot here", "pa", 3, 1000, "{ temperature = 'hot' }");
    test_entry(t2, sizeof t2, "a 40 is warm", "pb", 2, 999,
               "{ temperature = 'warm', "
               "maturity = 'early', score_min = 40, score_max = 40 }");
    snprintf(src, sizeof src, "return {\n%s%s}\n", t1, t2);
    struct err_detail why = {0};
    CHECK_MSG(put_rule(r, "region/south", "tests.lua", src, &why) == 0, "%s", why.msg);
    int active = rules_active(r, "region/south")->version;
    /* Hot from 70: the first test's lead (score 60) is warm now. */
    CHECK(put_rule(r, "region/south", "thresholds.lua", "return { hot = 70 }", &why) ==
          -ERR_RULE_REJECTED);
    CHECK_MSG(strstr(why.msg, "regions/south/tests.lua:2: test \"a 60 is hot here\": "
                              "temperature: expected hot, got warm"),
              "%s", why.msg);
    CHECK(!strncmp(why.msg, "region/south v", 14));
    CHECK(rules_active(r, "region/south")->version == active);
    /* The same change with the test changed in the same version goes through. */
    json_t *files = json_deep_copy(rules_active(r, "region/south")->files);
    json_object_set_new(files, "thresholds.lua", json_string("return { hot = 70 }"));
    snprintf(src, sizeof src, "return {\n%s}\n", t2);
    json_object_set_new(files, "tests.lua", json_string(src));
    struct rules_result res;
    CHECK_MSG(rules_submit(r, "region/south", files, "api", "t", &res, &why) == 0, "%s", why.msg);
    json_decref(files);
    rules_close(r);
}

/* A region's test lead is evaluated as a lead of its office: the office's
 * active tools fill what it leaves out, the region's new thresholds apply. */
TEST(tests_see_office_defaults_and_the_new_thresholds)
{
    write_tree();
    put("offices/pa/tools.lua",
        "return { defaults = { source = 'technical', horizon_months = 20 } }");
    struct rules *r = open_rules();
    CHECK(r && rules_active(r, "office/pa"));
    const char *src =
        "return { { name = 'defaults fill it', lead = { office = 'pa', customer = 'c', title = "
        "'t', budget = { amount = 1000, status = 'approved' }, signals = { s = 4 } },\n"
        "  expect = { maturity = 'mature', temperature = 'hot' } } }";
    put("regions/south/tests.lua", src);
    put("regions/south/thresholds.lua", "return { horizon_months = 24 }");
    CHECK(rules_sync_disk(r, "t") == 0); /* horizon 20 (office default) <= 24 */
    struct err_detail why = {0};
    CHECK(put_rule(r, "region/south", "thresholds.lua", "return { horizon_months = 12 }", &why) ==
          -ERR_RULE_REJECTED);
    CHECK_MSG(strstr(why.msg, "maturity: expected mature, got early"), "%s", why.msg);
    /* An office's tests run under the region's active version. */
    CHECK(put_rule(r, "office/pa", "tests.lua",
                   "return { { name = 'mine', lead = { office = 'pa', customer = 'c', title = 't',"
                   " budget = { amount = 1, status = 'none' }, signals = { s = 1 } },"
                   " expect = { maturity = 'early', temperature = 'cold' } } }",
                   &why) == 0);
    CHECK(put_rule(r, "office/pa", "tests.lua",
                   "return { { name = 'not mine', lead = { office = 'pb', customer = 'c',"
                   " title = 't', budget = { amount = 1, status = 'none' } } } }",
                   &why) == -ERR_RULE_REJECTED);
    CHECK_MSG(strstr(why.msg, "lead.office: 'pb' is not an office of office/pa"), "%s", why.msg);
    rules_close(r);
}

/* HQ's tests run with the new HQ version and each region's active rules. */
TEST(hq_tests_run_with_each_regions_active_rules)
{
    write_tree();
    put("regions/north/thresholds.lua", "return { hot = 60 }");
    struct rules *r = open_rules();
    CHECK(r && rules_active(r, "region/north"));
    char t1[400], t2[400], src[1000];
    test_entry(t1, sizeof t1, "60 is hot in the north", "nc", 3, 1000, "{ temperature = 'hot' }");
    test_entry(t2, sizeof t2, "60 is warm in the south", "pa", 3, 1000, "{ temperature = 'warm' }");
    snprintf(src, sizeof src, "return {\n%s%s}\n", t1, t2);
    struct err_detail why = {0};
    CHECK_MSG(put_rule(r, "hq", "tests.lua", src, &why) == 0, "%s", why.msg);
    /* An HQ default that would make the south's 60 hot breaks the second test. */
    char lead[1024];
    snprintf(lead, sizeof lead, "%s",
             json_string_value(json_object_get(rules_hq(r)->files, "lead.lua")));
    char *p = strstr(lead, "hot = 80");
    CHECK(p != NULL);
    memcpy(p, "hot = 55", 8);
    CHECK(put_rule(r, "hq", "lead.lua", lead, &why) == -ERR_RULE_REJECTED);
    CHECK_MSG(strstr(why.msg, "hq v") && strstr(why.msg, "hq/tests.lua:5: test \"60 is warm in "
                                                         "the south\": temperature: expected "
                                                         "warm, got hot"),
              "%s", why.msg);
    CHECK(rules_hq(r)->version == 2);
    rules_close(r);
}

/* HQ's samples of a version's scope are evaluated as real leads of that
 * scope: an office whose defaults break its own leads is refused. */
TEST(samples_of_the_scope_refuse_an_office_breaking_its_leads)
{
    write_tree();
    struct rules *r = open_rules();
    CHECK(r != NULL);
    struct err_detail why = {0};
    CHECK(put_rule(r, "office/pa", "tools.lua",
                   "return { defaults = { product_line = 'Not An ID' } }",
                   &why) == -ERR_RULE_REJECTED);
    CHECK_MSG(strstr(why.msg, "office/pa v1: hq/lead.lua: samples[1]: lead: product_line"), "%s",
              why.msg);
    /* The same defaults for an office with no sample are not tried by one. */
    CHECK(put_rule(r, "office/nc", "tools.lua", "return { defaults = { product_line = 'x' } }",
                   &why) == 0);
    /* A region function form failing for the sample of its office is refused
     * (with the rule's own code: a runtime error). */
    CHECK(put_rule(r, "region/south", "thresholds.lua",
                   "return function(lead) if lead.office == 'pa' then error('no pa') end return {}"
                   " end",
                   &why) == -ERR_RULE_RUNTIME);
    CHECK_MSG(strstr(why.msg, "regions/south/thresholds.lua:1: no pa"), "%s", why.msg);
    rules_close(r);
}

static struct rules *mem;
static struct rules_version *mem_hq;

/* The test HQ and an in-memory registry holding it. */
static void memory_hq(void)
{
    write_tree();
    struct rules_offline *o = NULL;
    CHECK(rules_offline_new(NULL, NULL, &o) == 0);
    rules_offline_free(o);
    char path[300];
    snprintf(path, sizeof path, "%s/hq", root);
    json_t *files = json_object();
    static const char *const names[] = {"org.lua",     "bounds.lua", "lead.lua",
                                        "process.lua", "share.lua",  NULL};
    for (const char *const *n = names; *n; n++) {
        char p[400];
        snprintf(p, sizeof p, "%s/%s", path, *n);
        FILE *f = fopen(p, "r");
        char buf[4096];
        size_t len = fread(buf, 1, sizeof buf, f);
        fclose(f);
        json_object_set_new(files, *n, json_stringn(buf, len));
    }
    struct err_detail why = {0};
    if (rules__compile("hq", RULES_HQ, 1, files, NULL, &mem_hq, &why))
        fprintf(stderr, "# %s\n", why.msg);
    json_decref(files);
    mem = rules__memory_new();
    rules__memory_put(mem, mem_hq);
}

struct seen {
    int n, failed;
    char last[ERR_DETAIL_MAX];
    char all[8192];
};

static void on_outcome(void *ctx, const struct rules_test_outcome *o)
{
    struct seen *s = ctx;
    s->n++;
    if (!o->failure)
        return;
    s->failed++;
    rules_test_outcome_format(o, s->last, sizeof s->last);
    size_t off = strlen(s->all);
    snprintf(s->all + off, sizeof s->all - off, "%s\n", s->last);
}

/* Run 'src' as region/south's tests.lua, every failure reported. */
static int run_region_tests(const char *src, struct seen *s, struct rules_test_run *run,
                            struct err_detail *why)
{
    json_t *files = json_pack("{s:s}", "tests.lua", src);
    struct rules_version *v = NULL;
    int rc = rules__compile("region/south", RULES_REGION, 7, files, mem_hq, &v, why);
    json_decref(files);
    if (rc)
        return rc;
    memset(s, 0, sizeof *s);
    *run = (struct rules_test_run){.cb = on_outcome, .ctx = s, .all = true};
    rc = rules__run_tests(mem, v, run, why);
    rules_version_unref(v);
    return rc;
}

/* Hostile or careless tests.lua files end in a clean refusal saying why. */
TEST(malformed_tests_are_refused_cleanly)
{
    memory_hq();
    CHECK(mem_hq != NULL);
    static const struct {
        const char *src, *says;
        int rc;
    } cases[] = {
        {"return function() return 5 end", "regions/south/tests.lua: must return a list of tests",
         -ERR_RULE_REJECTED},
        {"return { name = 'x' }", "must return a list of tests", -ERR_RULE_REJECTED},
        {"local t = {} for i = 1, 101 do t[i] = { name = 'n' .. i } end return t",
         "regions/south/tests.lua: 101 tests, more than the 100 a file may hold",
         -ERR_RULE_REJECTED},
        {"return function() local t = {} for i = 1, 5000 do t[i] = { name = string.rep('n', 100)"
         " .. i } end return t end",
         "regions/south/tests.lua: output over the 65536-byte limit", -ERR_RULE_RUNTIME},
        {"return function() while true do end end", "budget", -ERR_RULE_BUDGET},
        {"return function() error('boom') end", "regions/south/tests.lua:1: boom",
         -ERR_RULE_RUNTIME},
        {"return { 5 }", "tests[1]: expected { name", -ERR_RULE_REJECTED},
        {"return { { name = 'a', lead = {}, colour = 1 } }", "test \"a\": unknown key 'colour'",
         -ERR_RULE_REJECTED},
        {"return { { name = 'a', lead = { office = 'pa' }, expect = { temprature = 'hot' } } }",
         "test \"a\": expect: unknown key 'temprature' (expect takes maturity, temperature, "
         "recommendation, score_min, score_max, priority_min, priority_max, owner)",
         -ERR_RULE_REJECTED},
        {"return { { name = 'a', lead = { office = 'pa' }, expect = { temperature = 'tepid' } } }",
         "expect.temperature: expected hot, warm or cold", -ERR_RULE_REJECTED},
        {"return { { name = 'a', lead = { office = 'pa' }, expect = { score_min = 101 } } }",
         "expect.score_min: expected a number from 0 to 100", -ERR_RULE_REJECTED},
        {"return { { name = 'a', lead = { office = 'pa' }, expect = { score_min = 60, "
         "score_max = 50 } } }",
         "expect: score_min 60 is above score_max 50", -ERR_RULE_REJECTED},
        {"return { { name = 'a', lead = 'pa' } }", "lead: expected a lead body",
         -ERR_RULE_REJECTED},
        {"return { { name = 'a', lead = { office = 'pa', colour = 'red' } } }",
         "test \"a\": lead: colour: unknown field", -ERR_RULE_REJECTED},
        {"return { { name = 'a', lead = { office = 'pa', customer = 'c', title = 't', source = "
         "'sales', horizon_months = 500, budget = { amount = 1, status = 'none' } } } }",
         "lead: horizon_months", -ERR_RULE_REJECTED},
        {"return { { name = 'a', lead = { office = 'nowhere' } } }",
         "lead.office: 'nowhere' is not an office of region/south", -ERR_RULE_REJECTED},
        {"return { { name = 'a', lead = { office = 'nc' } } }",
         "lead.office: 'nc' is not an office of region/south", -ERR_RULE_REJECTED},
        {"return { { name = 'two\\nlines', lead = { office = 'pa' } } }",
         "tests[1]: name: expected one line of text", -ERR_RULE_REJECTED},
        {"return { { name = string.rep('x', 121), lead = { office = 'pa' } } }",
         "tests[1]: name: expected one line of text, 1 to 120 bytes", -ERR_RULE_REJECTED},
        {"return { { lead = { office = 'pa' } } }", "tests[1]: name: expected", -ERR_RULE_REJECTED},
        {"return { { name = 'a', lead = { office = 'pa', customer = 'c', title = 't', source = "
         "'sales', horizon_months = 1, budget = { amount = 1, status = 'none' } } },"
         " { name = 'a', lead = {} } }",
         "test \"a\": name: also the name of tests[1]", -ERR_RULE_REJECTED},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        struct seen s;
        struct rules_test_run run;
        struct err_detail why = {0};
        int rc = run_region_tests(cases[i].src, &s, &run, &why);
        CHECK_MSG(rc == cases[i].rc, "case %zu: rc %d: %s", i, rc, why.msg);
        CHECK_MSG(strstr(s.all, cases[i].says) && strstr(why.msg, cases[i].says),
                  "case %zu: %s / %s", i, s.all, why.msg);
        CHECK_MSG(!strncmp(why.msg, "region/south v7: regions/south/tests.lua", 40), "case %zu: %s",
                  i, why.msg);
    }
}

/* With run.all every test runs and every failure is reported; the
 * samples of the scope run too, and the counts say how many. */
TEST(every_failure_is_reported_and_counted)
{
    memory_hq();
    char t1[400], t2[400], t3[400], src[1400];
    test_entry(t1, sizeof t1, "one", "pa", 5, 1000, "{ temperature = 'cold' }");
    test_entry(t2, sizeof t2, "two", "pb", 1, 1000,
               "{ temperature = 'cold', maturity = 'mature' }");
    test_entry(t3, sizeof t3, "three", "pa", 2, 1000,
               "{ score_max = 20, recommendation = 'close' }");
    snprintf(src, sizeof src, "return {\n%s%s%s}\n", t1, t2, t3);
    struct seen s;
    struct rules_test_run run;
    struct err_detail why = {0};
    CHECK(run_region_tests(src, &s, &run, &why) == -ERR_RULE_REJECTED);
    CHECK(run.tests == 3 && run.samples == 1 && run.failed == 2 && s.n == 4);
    CHECK_MSG(strstr(s.all, "regions/south/tests.lua:2: test \"one\": temperature: expected cold, "
                            "got hot\n") &&
                  strstr(s.all, "regions/south/tests.lua:8: test \"three\": recommendation: "
                                "expected close, got convert; score: expected at most 20, got "
                                "40\n"),
              "%s", s.all);
    CHECK(strstr(why.msg, "test \"one\"")); /* the first failure */
}

/* A test is placed where its name is written; a computed name is placed
 * by its index instead. */
TEST(a_failure_names_the_line_where_the_test_is_written)
{
    memory_hq();
    const char *lead = "lead = { office = 'pa', customer = 'c', title = 't', source = 'sales',"
                       " horizon_months = 1, budget = { amount = 1, status = 'none' } },"
                       " expect = { temperature = 'hot' } }";
    char src[2000];
    snprintf(src, sizeof src,
             "-- a comment naming \"South's deal\" is not a literal of it\nreturn {\n"
             "  { name = \"South's deal\", %s,\n  { name = 'say \"hi\"', %s,\n"
             "  { name = 'n' .. 1, %s,\n  { name = \"back\\\\slash\", %s,\n}",
             lead, lead, lead, lead);
    struct seen s;
    struct rules_test_run run;
    struct err_detail why = {0};
    CHECK(run_region_tests(src, &s, &run, &why) == -ERR_RULE_REJECTED);
    CHECK_MSG(strstr(s.all, "regions/south/tests.lua:3: test \"South's deal\": temperature"), "%s",
              s.all); /* where it is the name, not the comment */
    CHECK_MSG(strstr(s.all, "regions/south/tests.lua:4: test \"say \"hi\"\": temperature"), "%s",
              s.all);
    CHECK_MSG(strstr(s.all, "regions/south/tests.lua: test \"n1\" (tests[3]): temperature"), "%s",
              s.all);
    CHECK_MSG(strstr(s.all, "regions/south/tests.lua: test \"back\\slash\" (tests[4]): "), "%s",
              s.all);
}

TEST(a_run_stops_at_its_wall_clock_bound)
{
    memory_hq();
    rules__tests_wall_ms = 30;
    char one[400], src[60000] = "return {\n";
    for (int i = 0; i < 100; i++) {
        char name[16];
        snprintf(name, sizeof name, "t%d", i);
        test_entry(one, sizeof one, name, "pa", 1, 1, "{}");
        strcat(src, one);
    }
    strcat(src, "}\n");
    /* Thresholds that take a while for each lead. */
    json_t *files = json_pack("{s:s, s:s}", "tests.lua", src, "thresholds.lua",
                              "return function(lead) local x = 0 for i = 1, 400000 do x = x + i "
                              "end return {} end");
    struct rules_version *v = NULL;
    struct err_detail why = {0};
    CHECK_MSG(rules__compile("region/south", RULES_REGION, 3, files, mem_hq, &v, &why) == 0, "%s",
              why.msg);
    json_decref(files);
    struct seen s = {0};
    struct rules_test_run run = {.cb = on_outcome, .ctx = &s, .all = true};
    CHECK(rules__run_tests(mem, v, &run, &why) == -ERR_RULE_BUDGET);
    CHECK_MSG(strstr(why.msg, "ran for more than 30 ms; the rest did not run"), "%s", why.msg);
    CHECK(run.tests < 100);
    rules_version_unref(v);
}

static char *slurp(FILE *f)
{
    static char buf[16384];
    fflush(f);
    rewind(f);
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    buf[n] = '\0';
    return buf;
}

/* --check-rules: the shipped tree's exact ok line; every error of a tree. */
TEST(check_tree_prints_the_ok_line_or_every_error)
{
    FILE *out = tmpfile(), *err = tmpfile();
    CHECK(rules_check_tree_to("rules", out, err) == 0);
    CHECK_MSG(!strcmp(slurp(out), "ok: 5 owners, 21 files, 30 tests\n"), "%s", slurp(out));
    CHECK(!strcmp(slurp(err), ""));
    write_tree();
    put("regions/south/thresholds.lua", "return { hot = ");
    put("regions/south/actions.lua", "return function( end");
    put("regions/north/tests.lua",
        "return { { name = 'x', lead = { office = 'nc', customer = 'c', title = 't',"
        " source = 'sales', horizon_months = 1, budget = { amount = 1, status = 'none' },"
        " signals = { s = 5 } }, expect = { temperature = 'cold' } },"
        " { name = 'y', lead = { office = 'nc' } } }");
    put("offices/pa/tools.lua", "return { defaults = { colour = 'red' } }");
    out = tmpfile();
    err = tmpfile();
    CHECK(rules_check_tree_to(root, out, err) == 1);
    CHECK(!strcmp(slurp(out), ""));
    const char *e = slurp(err);
    CHECK_MSG(
        strstr(e, "regions/south/actions.lua:1: ") &&
            strstr(e, "regions/south/thresholds.lua:1: ") &&
            strstr(
                e,
                "regions/north/tests.lua:1: test \"x\": temperature: expected cold, got hot\n") &&
            strstr(e, "regions/north/tests.lua:1: test \"y\": lead: customer: missing\n") &&
            strstr(e, "offices/pa/tools.lua: defaults.colour"),
        "%s", e);
    CHECK_MSG(!strstr(e, " v0: "), "%s", e);
    int lines = 0;
    for (const char *c = e; *c; c++)
        lines += *c == '\n';
    CHECK_MSG(lines == 5, "%d lines:\n%s", lines, e);
}

static void on_error(void *ctx, const char *msg)
{
    struct seen *s = ctx;
    s->failed++;
    size_t off = strlen(s->all);
    snprintf(s->all + off, sizeof s->all - off, "%s\n", msg);
}

/* ltcctl rules test's engine: local bundles with a given HQ, tested and
 * used to evaluate leads, without a store. */
TEST(offline_bundles_are_tested_and_evaluate_leads)
{
    struct seen errs = {0};
    struct rules_offline *o = NULL;
    CHECK(rules_offline_new(on_error, &errs, &o) == 0);
    CHECK(rules_offline_add_dir(o, "rules/hq", NULL, false) == 0);
    CHECK(rules_offline_has_hq(o));
    CHECK(rules_offline_add_dir(o, "rules/regions/south", NULL, true) == 0);
    CHECK(rules_offline_add_dir(o, "rules/offices", NULL, true) == -ERR_USAGE);
    CHECK_MSG(strstr(errs.all, "rules/offices: neither a rules tree"), "%s", errs.all);
    struct seen s = {0};
    struct rules_test_run run = {.cb = on_outcome, .ctx = &s, .all = true};
    rules_offline_test(o, &run);
    CHECK_MSG(run.tests == 8 && run.failed == 0 && run.samples == 1, "%d %d %d %s", run.tests,
              run.failed, run.samples, s.all);
    json_t *body = json_loads("{\"office\":\"province-a\",\"customer\":\"c\",\"title\":\"t\","
                              "\"source\":\"sales\",\"horizon_months\":6,"
                              "\"budget\":{\"amount\":60000000,\"status\":\"approved\"},"
                              "\"signals\":{\"strategic_fit\":4,\"urgency\":5}}",
                              0, NULL);
    json_t *ev = NULL;
    struct err_detail why = {0};
    CHECK_MSG(rules_offline_evaluate(o, body, &ev, &why) == 0, "%s", why.msg);
    CHECK(
        !strcmp(json_string_value(json_object_get(ev, "maturity")), "mature")); /* 50M, 9 months */
    CHECK(json_integer_value(json_object_get(json_object_get(ev, "rules"), "region/south")) == 0);
    json_decref(ev);
    json_object_set_new(body, "office", json_string("atlantis"));
    CHECK(rules_offline_evaluate(o, body, &ev, &why) == -ERR_INVALID_FIELD);
    CHECK(strstr(why.msg, "unknown office"));
    json_decref(body);
    /* A whole tree after an HQ was given: its hq/ is left out. */
    write_tree();
    put("regions/south/tests.lua", "return { { name = 'n', lead = { office = 'province-a' } } }");
    CHECK_MSG(rules_offline_add_dir(o, root, NULL, true) == 0, "%s", errs.all);
    memset(&s, 0, sizeof s);
    run = (struct rules_test_run){.cb = on_outcome, .ctx = &s, .all = true};
    rules_offline_test(o, &run);
    CHECK_MSG(strstr(s.all, "test \"n\": lead: customer: missing"), "%s", s.all);
    rules_offline_free(o);
}

TEST_MAIN(T(a_version_failing_its_own_test_is_refused_naming_it),
          T(tests_see_office_defaults_and_the_new_thresholds),
          T(hq_tests_run_with_each_regions_active_rules),
          T(samples_of_the_scope_refuse_an_office_breaking_its_leads),
          T(malformed_tests_are_refused_cleanly), T(every_failure_is_reported_and_counted),
          T(a_failure_names_the_line_where_the_test_is_written),
          T(a_run_stops_at_its_wall_clock_bound), T(check_tree_prints_the_ok_line_or_every_error),
          T(offline_bundles_are_tested_and_evaluate_leads))
