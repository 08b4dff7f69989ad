/* tests/unit/rules_bounds_test.c: relations between bounded values (HQ's
 * bounds.lua `relations`, engine/rules_bounds.c): the declaration checked
 * when HQ loads, a region's values checked against it, with HQ's defaults
 * standing in for what a region leaves out. */
#include "rules_internal.h"
#include "test.h"

#define BOUNDS_HEAD                                                                                \
    "return { thresholds = { mature_budget = { min = 0, max = 1000000, integer = true },"          \
    " horizon_months = { min = 1, max = 36, integer = true }, hot = { min = 50, max = 95 },"       \
    " warm = { min = 20, max = 80 } },"                                                            \
    " authority = { office = { max_value = { min = 0, max = 10 }, max_discount = { min = 0, max "  \
    "= 20 } } },"                                                                                  \
    " share = { platform = { min = 0, max = 30 }, triangle = { ar = { min = 0, max = 100 },"       \
    " sr = { min = 0, max = 100 }, fr = { min = 0, max = 100 } } },"

#define TRIANGLE                                                                                   \
    "{ sum = { 'share.triangle.ar', 'share.triangle.sr', 'share.triangle.fr' }, total = 100 }"

/* A small HQ whose share params default the triangle to 40/30/30. */
static json_t *hq_files(const char *relations, const char *share_params)
{
    char bounds[8192];
    snprintf(bounds, sizeof bounds, "%s relations = %s }", BOUNDS_HEAD, relations);
    char share[512];
    snprintf(share, sizeof share, "return { split = function() return {} end, params = %s }",
             share_params ? share_params
                          : "{ platform = 10, triangle = { ar = 40, sr = 30, fr = 30 } }");
    return json_pack(
        "{s:s, s:s, s:s, s:s, s:s}", "org.lua",
        "return { regions = { south = { offices = { 'pa' } } } }", "bounds.lua", bounds, "lead.lua",
        "return { evaluate = function(lead, t) return { score = 50 } end,"
        " thresholds = { mature_budget = 1000, horizon_months = 12, hot = 70, warm = 40 } }",
        "process.lua",
        "return { stages = { 'lead' }, credit_limit = 1, act = function() return {} end }",
        "share.lua", share);
}

static int compile_hq(const char *relations, const char *share_params, struct rules_version **hq,
                      struct err_detail *why)
{
    json_t *f = hq_files(relations, share_params);
    int rc = rules__compile("hq", RULES_HQ, 1, f, NULL, hq, why);
    json_decref(f);
    return rc;
}

static int compile_region(const struct rules_version *hq, const char *file, const char *src,
                          struct err_detail *why)
{
    json_t *f = json_pack("{s:s}", file, src);
    struct rules_version *v = NULL;
    int rc = rules__compile("region/south", RULES_REGION, 2, f, hq, &v, why);
    json_decref(f);
    rules_version_unref(v);
    return rc;
}

TEST(a_triangle_of_110_is_refused_naming_file_fields_and_sum)
{
    struct rules_version *hq = NULL;
    struct err_detail why = {0};
    CHECK(compile_hq("{ " TRIANGLE " }", NULL, &hq, &why) == 0);
    CHECK(compile_region(hq, "share.lua", "return { triangle = { ar = 45, sr = 30, fr = 25 } }",
                         &why) == 0);
    int rc =
        compile_region(hq, "share.lua",
                       "return { platform = 15, triangle = { ar = 50, sr = 30, fr = 30 } }", &why);
    CHECK(rc == -ERR_RULE_REJECTED);
    CHECK_MSG(!strcmp(why.msg, "regions/south/share.lua: triangle.ar + triangle.sr + triangle.fr "
                               "= 110, must be 100"),
              "%s", why.msg);
    CHECK(!strcmp(why.field, "triangle.ar"));
    rules_version_unref(hq);
}

TEST(fields_left_out_are_taken_from_hq_defaults)
{
    struct rules_version *hq = NULL;
    struct err_detail why = {0};
    CHECK(compile_hq("{ " TRIANGLE " }", NULL, &hq, &why) == 0);
    CHECK(compile_region(hq, "share.lua", "return { triangle = { ar = 50 } }", &why) ==
          -ERR_RULE_REJECTED);
    CHECK_MSG(!strcmp(why.msg, "regions/south/share.lua: triangle.ar + triangle.sr (HQ default 30)"
                               " + triangle.fr (HQ default 30) = 110, must be 100"),
              "%s", why.msg);
    CHECK(compile_region(hq, "share.lua", "return { triangle = { ar = 40, sr = 35, fr = 25 } }",
                         &why) == 0);
    /* A file that gives none of the relation's fields is not concerned by it. */
    CHECK(compile_region(hq, "share.lua", "return { platform = 20 }", &why) == 0);
    rules_version_unref(hq);
}

TEST(sums_compare_with_a_tolerance_for_fractions)
{
    struct rules_version *hq = NULL;
    struct err_detail why = {0};
    CHECK(compile_hq("{ " TRIANGLE " }", NULL, &hq, &why) == 0);
    CHECK(compile_region(hq, "share.lua",
                         "return { triangle = { ar = 33.3, sr = 33.3, fr = 33.4 } }", &why) == 0);
    CHECK(compile_region(hq, "share.lua",
                         "return { triangle = { ar = 33.3, sr = 33.3, fr = 33.3 } }",
                         &why) == -ERR_RULE_REJECTED);
    CHECK_MSG(strstr(why.msg, "= 99.9, must be 100"), "%s", why.msg);
    rules_version_unref(hq);
}

/* Without an HQ default (authority has none), a field left out is an error. */
TEST(a_field_without_value_or_default_is_named)
{
    struct rules_version *hq = NULL;
    struct err_detail why = {0};
    CHECK(compile_hq("{ { sum = { 'authority.office.max_value', 'authority.office.max_discount' },"
                     " total = 10 } }",
                     NULL, &hq, &why) == 0);
    CHECK(compile_region(hq, "authority.lua", "return { office = { max_value = 4 } }", &why) ==
          -ERR_RULE_REJECTED);
    CHECK_MSG(strstr(why.msg, "regions/south/authority.lua: office.max_discount is missing") &&
                  strstr(why.msg, "office.max_value + office.max_discount = 10"),
              "%s", why.msg);
    CHECK(compile_region(hq, "authority.lua",
                         "return { office = { max_value = 4, max_discount = 6 } }", &why) == 0);
    rules_version_unref(hq);
}

/* Thresholds relations hold for the table form at load and for every result
 * of the function form, completed from HQ's thresholds. */
TEST(threshold_relations_apply_to_the_function_form_per_lead)
{
    struct rules_version *hq = NULL;
    struct err_detail why = {0};
    CHECK(compile_hq("{ { sum = { 'thresholds.hot', 'thresholds.warm' }, total = 110 } }", NULL,
                     &hq, &why) == 0);
    CHECK(compile_region(hq, "thresholds.lua", "return { hot = 80 }", &why) == -ERR_RULE_REJECTED);
    CHECK_MSG(strstr(why.msg, "hot + warm (HQ default 40) = 120, must be 110"), "%s", why.msg);
    json_t *f = json_pack("{s:s}", "thresholds.lua",
                          "return function(lead) if lead.source == 'sales' then return { hot = 80 }"
                          " end return { hot = 60, warm = 50 } end");
    struct rules_version *v = NULL;
    CHECK(rules__compile("region/south", RULES_REGION, 2, f, hq, &v, &why) == 0);
    json_t *lead = json_pack("{s:s}", "source", "technical"), *t = NULL;
    CHECK(rules__resolve_thresholds(hq, v, lead, &t, &why) == 0);
    json_decref(t);
    json_object_set_new(lead, "source", json_string("sales"));
    CHECK(rules__resolve_thresholds(hq, v, lead, &t, &why) == -ERR_RULE_REJECTED);
    CHECK_MSG(strstr(why.msg, "regions/south/thresholds.lua: hot + warm (HQ default 40) = 120"),
              "%s", why.msg);
    json_decref(lead);
    json_decref(f);
    rules_version_unref(v);
    rules_version_unref(hq);
}

/* A malformed declaration rejects the HQ version, saying what is wrong. */
TEST(malformed_relations_reject_the_hq_version)
{
    static const struct {
        const char *relations, *says;
    } cases[] = {
        {"{ sum = { 'share.triangle.ar', 'share.triangle.sr' }, total = 100 }",
         "relations: expected a list"},
        {"{ { sum = { 'share.triangle.ar', 'share.triangle.sr' }, total = 100, kind = 'x' } }",
         "relations[1]: unknown key 'kind'"},
        {"{ { sum = { 'share.triangle.ar' }, total = 100 } }",
         "relations[1].sum: expected a list of 2 to 16"},
        {"{ { sum = 'share.triangle.ar', total = 100 } }", "relations[1].sum: expected a list"},
        {"{ { sum = { 'share.triangle.ar', 'share.triangle.sr' } } }",
         "relations[1].total: expected a number"},
        {"{ { sum = { 'share.triangle.ar', 'share.triangle.xx' }, total = 100 } }",
         "relations[1].sum[2]: 'share.triangle.xx' names no bounded value"},
        {"{ { sum = { 'share.triangle', 'share.platform' }, total = 100 } }",
         "relations[1].sum[1]: 'share.triangle' names no bounded value"},
        {"{ { sum = { 'lead.score', 'share.platform' }, total = 100 } }",
         "relations[1].sum[1]: 'lead.score' names no bounded value"},
        {"{ { sum = { 'share.platform', 'thresholds.hot' }, total = 100 } }",
         "relations[1].sum: 'thresholds.hot' is not in 'share'"},
        {"{ { sum = { 'share.platform', 'share.platform' }, total = 100 } }",
         "relations[1].sum: 'share.platform' twice"},
        {"{ { sum = { 'share.platform', 7 }, total = 100 } }",
         "relations[1].sum[2]: expected a field name"},
        {"{ 5 }", "relations[1]: expected { sum"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        struct rules_version *hq = NULL;
        struct err_detail why = {0};
        int rc = compile_hq(cases[i].relations, NULL, &hq, &why);
        CHECK_MSG(rc == -ERR_RULE_REJECTED, "case %zu: rc %d", i, rc);
        CHECK_MSG(!strncmp(why.msg, "hq/bounds.lua: ", 15) && strstr(why.msg, cases[i].says),
                  "case %zu: %s", i, why.msg);
    }
    char many[8192] = "{";
    for (int i = 0; i <= RULES_RELATIONS_MAX; i++)
        strcat(many, " { sum = { 'share.triangle.ar', 'share.triangle.sr' }, total = 70 },");
    strcat(many, " }");
    struct rules_version *hq = NULL;
    struct err_detail why = {0};
    CHECK(compile_hq(many, NULL, &hq, &why) == -ERR_RULE_REJECTED);
    CHECK_MSG(strstr(why.msg, "at most 32 relations"), "%s", why.msg);
}

/* HQ's own defaults must keep its relations. */
TEST(hq_defaults_that_break_a_relation_reject_hq)
{
    struct rules_version *hq = NULL;
    struct err_detail why = {0};
    CHECK(compile_hq("{ " TRIANGLE " }", "{ triangle = { ar = 40, sr = 30, fr = 40 } }", &hq,
                     &why) == -ERR_RULE_REJECTED);
    CHECK_MSG(!strcmp(why.msg, "hq/share.lua: params: triangle.ar + triangle.sr + triangle.fr = "
                               "110, must be 100"),
              "%s", why.msg);
    CHECK(compile_hq("{}", "{ triangle = { ar = 40, sr = 30, fr = 40 } }", &hq, &why) == 0);
    rules_version_unref(hq);
}

TEST_MAIN(T(a_triangle_of_110_is_refused_naming_file_fields_and_sum),
          T(fields_left_out_are_taken_from_hq_defaults),
          T(sums_compare_with_a_tolerance_for_fractions),
          T(a_field_without_value_or_default_is_named),
          T(threshold_relations_apply_to_the_function_form_per_lead),
          T(malformed_relations_reject_the_hq_version),
          T(hq_defaults_that_break_a_relation_reject_hq))
