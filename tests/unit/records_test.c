/* tests/unit/records_test.c: the bodies of lead management are checked
 * field by field; an unknown key, a wrong type or a value out of range is
 * refused naming the field. */
#include "records.h"
#include "test.h"

typedef int check_fn(const json_t *body, json_t **out, struct err_detail *why);

/* The field check_fn names for 'text', "" when accepted. */
static const char *refused(check_fn *fn, const char *text)
{
    static struct err_detail why;
    memset(&why, 0, sizeof why);
    json_t *body = json_loads(text, 0, NULL), *out = NULL;
    int rc = fn(body, &out, &why);
    json_decref(body);
    json_decref(out);
    return rc ? why.field : "";
}

TEST(people)
{
    CHECK(!strcmp(refused(records_person, "{\"name\":\"Ann\",\"office\":\"a\",\"roles\":[\"ar\"]}"),
                  ""));
    CHECK(
        !strcmp(refused(records_person, "{\"name\":\"Ann\",\"office\":\"a\",\"roles\":[\"boss\"]}"),
                "roles"));
    CHECK(!strcmp(
        refused(records_person, "{\"name\":\"Ann\",\"office\":\"a\",\"roles\":[\"ar\",\"ar\"]}"),
        "roles"));
    CHECK(
        !strcmp(refused(records_person, "{\"name\":\"\",\"office\":\"a\",\"roles\":[]}"), "name"));
    CHECK(!strcmp(refused(records_person, "{\"name\":\"A\",\"office\":\"A B\",\"roles\":[]}"),
                  "office"));
    CHECK(!strcmp(
        refused(records_person, "{\"name\":\"A\",\"office\":\"a\",\"roles\":[],\"active\":1}"),
        "active"));
    CHECK(!strcmp(refused(records_person, "{\"name\":\"A\",\"office\":\"a\",\"roles\":[],\"x\":1}"),
                  "x"));
}

TEST(customers)
{
    CHECK(!strcmp(refused(records_customer, "{\"name\":\"C\",\"office\":\"a\",\"credit_limit\":0}"),
                  ""));
    CHECK(
        !strcmp(refused(records_customer, "{\"name\":\"C\",\"office\":\"a\",\"credit_limit\":-1}"),
                "credit_limit"));
    CHECK(
        !strcmp(refused(records_customer, "{\"name\":\"C\",\"office\":\"a\",\"credit_limit\":1.5}"),
                "credit_limit"));
    CHECK(!strcmp(refused(records_customer, "{\"name\":\"C\",\"office\":\"a\",\"segment\":7}"),
                  "segment"));
}

TEST(activities)
{
    CHECK(!strcmp(
        refused(records_activity,
                "{\"person\":\"p\",\"customer\":\"c\",\"kind\":\"visit\",\"at\":\"2026-12-31\"}"),
        ""));
    CHECK(!strcmp(
        refused(records_activity,
                "{\"person\":\"p\",\"customer\":\"c\",\"kind\":\"visit\",\"at\":\"2026-02-30\"}"),
        "at"));
    CHECK(!strcmp(
        refused(records_activity,
                "{\"person\":\"p\",\"customer\":\"c\",\"kind\":\"lunch\",\"at\":\"2026-12-31\"}"),
        "kind"));
    CHECK(!strcmp(refused(records_activity, "{\"person\":\"p\",\"customer\":\"c\",\"kind\":"
                                            "\"budget_table\",\"at\":\"2026-12-31\"}"),
                  "budget"));
    CHECK(!strcmp(refused(records_activity,
                          "{\"person\":\"p\",\"customer\":\"c\",\"kind\":\"visit\",\"at\":"
                          "\"2026-12-31\",\"budget\":{\"year\":2027,\"amount\":1}}"),
                  "budget"));
    CHECK(!strcmp(refused(records_activity,
                          "{\"person\":\"p\",\"customer\":\"c\",\"kind\":\"budget_table\",\"at\":"
                          "\"2026-12-31\",\"budget\":{\"year\":99999,\"amount\":1}}"),
                  "budget.year"));
    CHECK(!strcmp(refused(records_activity,
                          "{\"person\":\"p\",\"customer\":\"c\",\"kind\":\"budget_table\",\"at\":"
                          "\"2026-12-31\",\"budget\":{\"year\":2027,\"amount\":1,\"q\":1}}"),
                  "q"));
}

TEST(meetings_and_decisions)
{
    CHECK(!strcmp(refused(records_meeting,
                          "{\"unit\":\"office/a\",\"held_at\":\"2026-12-02\",\"decisions\":[{}]}"),
                  ""));
    CHECK(!strcmp(refused(records_meeting,
                          "{\"unit\":\"office/a\",\"held_at\":\"2026-12-02\",\"decisions\":[]}"),
                  "decisions"));
    CHECK(!strcmp(refused(records_meeting,
                          "{\"unit\":\"team/a\",\"held_at\":\"2026-12-02\",\"decisions\":[{}]}"),
                  "unit"));
    CHECK(!strcmp(
        refused(records_meeting, "{\"unit\":\"hq\",\"held_at\":\"2026-12-32\",\"decisions\":[{}]}"),
        "held_at"));
    struct err_detail why = {0};
    json_t *d = json_loads(
        "{\"instance\":1,\"decision\":\"nurture\",\"next_review\":\"2027-01-04\"}", 0, NULL);
    CHECK(records_decision(d, &why) == 0);
    json_decref(d);
    d = json_loads("{\"instance\":1,\"decision\":\"close\",\"next_review\":\"2027-01-04\"}", 0,
                   NULL);
    CHECK(records_decision(d, &why) == -ERR_INVALID_FIELD && !strcmp(why.field, "next_review"));
    json_decref(d);
    d = json_loads("{\"instance\":0,\"decision\":\"close\"}", 0, NULL);
    CHECK(records_decision(d, &why) == -ERR_INVALID_FIELD && !strcmp(why.field, "instance"));
    json_decref(d);
}

TEST_MAIN(T(people), T(customers), T(activities), T(meetings_and_decisions))
