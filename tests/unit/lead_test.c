/* tests/unit/lead_test.c: lead bodies, field by field. */
#include "lead.h"
#include "test.h"

static const char good[] = "{\"office\":\"province-a\",\"customer\":\"ACME\",\"title\":\"5G\","
                           "\"source\":\"sales\",\"budget\":{\"amount\":100,\"currency\":\"CNY\","
                           "\"status\":\"approved\"},\"horizon_months\":6,"
                           "\"signals\":{\"urgency\":5}}";

static int parse(const char *body, struct err_detail *why)
{
    json_t *out = NULL;
    int rc = lead_parse(body, strlen(body), NULL, &out, why);
    json_decref(out);
    return rc;
}

/* Replace the first occurrence of 'from' in the good body by 'to'. */
static int parse_with(const char *from, const char *to, struct err_detail *why)
{
    char buf[1024];
    const char *at = strstr(good, from);
    snprintf(buf, sizeof buf, "%.*s%s%s", (int)(at - good), good, to, at + strlen(from));
    return parse(buf, why);
}

TEST(accepts_a_complete_lead)
{
    json_t *out = NULL;
    struct err_detail why = {0};
    CHECK(lead_parse(good, strlen(good), NULL, &out, &why) == 0);
    CHECK(json_integer_value(json_object_get(json_object_get(out, "budget"), "amount")) == 100);
    CHECK(json_integer_value(json_object_get(json_object_get(out, "signals"), "urgency")) == 5);
    json_decref(out);
}

TEST(each_bad_field_is_named)
{
    struct err_detail why = {0};
    struct {
        const char *from, *to, *field;
    } cases[] = {
        {"\"province-a\"", "\"Province A\"", "office"},
        {"\"ACME\"", "\"\"", "customer"},
        {"\"ACME\"", "42", "customer"},
        {"\"sales\"", "\"cold-call\"", "source"},
        {"\"amount\":100", "\"amount\":1.5", "budget.amount"},
        {"\"amount\":100", "\"amount\":-1", "budget.amount"},
        {"\"amount\":100", "\"amount\":\"100\"", "budget.amount"},
        {"\"CNY\"", "\"yuan\"", "budget.currency"},
        {"\"approved\"", "\"maybe\"", "budget.status"},
        {"\"horizon_months\":6", "\"horizon_months\":121", "horizon_months"},
        {"\"urgency\":5", "\"urgency\":6", "signals.urgency"},
        {"\"urgency\":5", "\"Urgency!\":1", "signals"},
        {"\"source\"", "\"sauce\"", "sauce"},
        {"\"currency\"", "\"color\"", "budget.color"},
        {"\"horizon_months\":6,", "", "horizon_months"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        memset(&why, 0, sizeof why);
        int rc = parse_with(cases[i].from, cases[i].to, &why);
        CHECK_MSG(rc == -ERR_INVALID_FIELD, "case %zu rc %d", i, rc);
        CHECK_MSG(!strcmp(why.field, cases[i].field), "case %zu: field '%s' (%s)", i, why.field,
                  why.msg);
    }
}

TEST(malformed_json_is_invalid_json)
{
    struct err_detail why = {0};
    CHECK(parse("{", &why) == -ERR_INVALID_JSON);
    CHECK(parse("[]", &why) == -ERR_INVALID_JSON);
    CHECK(parse("", &why) == -ERR_INVALID_JSON);
    CHECK(parse("{\"office\":\"a\",\"office\":\"b\"}", &why) == -ERR_INVALID_JSON);
    CHECK(parse("{\"customer\":\"\xff\xfe\"}", &why) == -ERR_INVALID_JSON);
    CHECK(parse("{\"customer\":\"a\\u0000b\"}", &why) == -ERR_INVALID_JSON);
    CHECK(parse("{\"budget\":{\"amount\":99999999999999999999999}}", &why) == -ERR_INVALID_JSON);
}

TEST(deep_nesting_is_refused)
{
    struct err_detail why = {0};
    size_t n = 100000;
    char *s = malloc(2 * n + 1);
    memset(s, '[', n);
    memset(s + n, ']', n);
    s[2 * n] = '\0';
    CHECK(parse(s, &why) == -ERR_INVALID_JSON);
    free(s);
}

TEST(defaults_fill_what_the_body_leaves_out)
{
    const char *body = "{\"office\":\"x\",\"customer\":\"c\",\"title\":\"t\","
                       "\"budget\":{\"amount\":1,\"status\":\"none\"}}";
    json_t *defaults = json_loads("{\"source\":\"delivery\",\"horizon_months\":3}", 0, NULL);
    json_t *out = NULL;
    struct err_detail why = {0};
    CHECK(lead_parse(body, strlen(body), defaults, &out, &why) == 0);
    CHECK(!strcmp(json_string_value(json_object_get(out, "source")), "delivery"));
    CHECK(json_integer_value(json_object_get(out, "horizon_months")) == 3);
    CHECK(!strcmp(json_string_value(json_object_get(json_object_get(out, "budget"), "currency")),
                  "CNY"));
    json_decref(out);
    /* A bad default is as bad as a bad body. */
    json_decref(defaults);
    defaults = json_loads("{\"source\":\"x\",\"horizon_months\":3}", 0, NULL);
    CHECK(lead_parse(body, strlen(body), defaults, &out, &why) == -ERR_INVALID_FIELD);
    json_decref(defaults);
}

TEST_MAIN(T(accepts_a_complete_lead), T(each_bad_field_is_named), T(malformed_json_is_invalid_json),
          T(deep_nesting_is_refused), T(defaults_fill_what_the_body_leaves_out))
