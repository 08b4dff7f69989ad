/* tests/unit/num_test.c: numbers are checked in the type they arrive in,
 * before anything narrows them (hardening issue, class 8). */
#include "num.h"
#include "test.h"

static int parse(const char *s, int64_t min, int64_t max, int64_t *v)
{
    struct err_detail why = {0};
    int rc = num_parse("limit", s, min, max, v, &why);
    if (rc && (rc != -ERR_INVALID_FIELD || strcmp(why.field, "limit") ||
               !strstr(why.msg, "limit: expected an integer from")))
        return 99;
    return rc;
}

TEST(text_is_parsed_whole_in_64_bits_then_range_checked)
{
    int64_t v = 0;
    CHECK(parse("500", 1, 500, &v) == 0 && v == 500);
    CHECK(parse("0", 0, 5, &v) == 0 && v == 0);
    CHECK(parse("-5", -10, 10, &v) == 0 && v == -5);
    CHECK(parse("9223372036854775807", 0, INT64_MAX, &v) == 0 && v == INT64_MAX);
    CHECK(parse("-9223372036854775808", INT64_MIN, 0, &v) == 0 && v == INT64_MIN);
    static const char *const bad[] = {
        "4294967297",           /* 2^32 + 1: would be 1 as an int */
        "-1",                   /* below the range */
        "9223372036854775808",  /* 2^63 */
        "18446744073709551617", /* 2^64 + 1 */
        "99999999999999999999999",
        "1e400",
        "12abc",
        "",
        " 12",
        "12 ",
        "+12",
        "012",
        "-0",
        "-",
        "0x10",
        "1.0",
        NULL,
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        v = 42;
        CHECK_MSG(parse(bad[i], 1, 500, &v) == -ERR_INVALID_FIELD && v == 42, "'%s'",
                  bad[i] ? bad[i] : "(null)");
    }
    CHECK(parse("-9223372036854775809", INT64_MIN, 0, &v) == -ERR_INVALID_FIELD);
}

TEST(json_numbers_are_checked_as_json_int)
{
    struct err_detail why = {0};
    int64_t v = 0;
    json_t *big = json_integer((json_int_t)4294967297LL), *neg = json_integer(-1),
           *real = json_real(12.0), *str = json_string("12"), *ok = json_integer(7);
    CHECK(num_json("max_ms", big, 1, 30000, &v, &why) == -ERR_INVALID_FIELD);
    CHECK(!strcmp(why.field, "max_ms") &&
          strstr(why.msg, "max_ms: expected an integer from 1 to 30000"));
    CHECK(num_json("max_ms", neg, 1, 30000, &v, &why) == -ERR_INVALID_FIELD);
    CHECK(num_json("max_ms", real, 1, 30000, &v, &why) == -ERR_INVALID_FIELD);
    CHECK(num_json("max_ms", str, 1, 30000, &v, &why) == -ERR_INVALID_FIELD);
    CHECK(num_json("max_ms", NULL, 1, 30000, &v, &why) == -ERR_INVALID_FIELD);
    CHECK(num_json("max_ms", ok, 1, 30000, &v, &why) == 0 && v == 7);
    json_decref(big);
    json_decref(neg);
    json_decref(real);
    json_decref(str);
    json_decref(ok);
}

TEST(numbers_handed_to_rules_are_exact)
{
    struct err_detail why = {0};
    json_t *body = json_pack("{s:s, s:I, s:[{s:f}]}", "action", "sign", "value",
                             (json_int_t)NUM_EXACT_MAX, "terms", "percent", 100.0);
    CHECK(num_json_exact("", body, &why) == 0);
    json_object_set_new(body, "value", json_integer((json_int_t)NUM_EXACT_MAX + 1));
    CHECK(num_json_exact("", body, &why) == -ERR_INVALID_FIELD);
    CHECK_MSG(!strcmp(why.field, "value") && strstr(why.msg, "beyond +-2^53"), "%s", why.msg);
    json_object_set_new(body, "value", json_integer(1));
    json_object_set_new(json_array_get(json_object_get(body, "terms"), 0), "percent",
                        json_real(1e300));
    CHECK(num_json_exact("", body, &why) == -ERR_INVALID_FIELD);
    CHECK_MSG(!strcmp(why.field, "terms[1].percent"), "%s", why.field);
    json_decref(body);
}

TEST_MAIN(T(text_is_parsed_whole_in_64_bits_then_range_checked),
          T(json_numbers_are_checked_as_json_int), T(numbers_handed_to_rules_are_exact))
