/* tests/unit/money_test.c: money as exact text both ways, and the strict
 * command-line values of ltcctl (issue 15: "--amount 12.5 stored 12 fen,
 * --amount 1,200,000 stored 1 fen, --signal urgency=high stored 0"). */
#include "cli_value.h"
#include "money.h"
#include "test.h"

static const char *fmt(int64_t v, const char *cur)
{
    static char buf[MONEY_TEXT_MAX];
    return money_format(v, cur, buf, sizeof buf);
}

TEST(money_is_formatted_one_way)
{
    CHECK(!strcmp(fmt(120000000000, "CNY"), "1,200,000,000.00 CNY"));
    CHECK(!strcmp(fmt(120000050, "CNY"), "1,200,000.50 CNY"));
    CHECK(!strcmp(fmt(0, "CNY"), "0.00 CNY"));
    CHECK(!strcmp(fmt(5, "CNY"), "0.05 CNY"));
    CHECK(!strcmp(fmt(99999, NULL), "999.99"));
    CHECK(!strcmp(fmt(100000, ""), "1,000.00"));
    CHECK(!strcmp(fmt(-123456789, "CNY"), "-1,234,567.89 CNY"));
    CHECK(!strcmp(fmt(MONEY_MAX, "CNY"), "90,071,992,547,409.92 CNY"));
    CHECK(!strcmp(fmt(INT64_MIN, "CNY"), "-92,233,720,368,547,758.08 CNY"));
}

TEST(minor_units_are_whole_digits_only)
{
    int64_t v = -1;
    CHECK(money_parse_minor("120000000", 0, MONEY_MAX, &v) == 0 && v == 120000000);
    CHECK(money_parse_minor("0", 0, MONEY_MAX, &v) == 0 && v == 0);
    CHECK(money_parse_minor("-5", -10, 10, &v) == 0 && v == -5);
    CHECK(money_parse_minor("9007199254740992", 0, MONEY_MAX, &v) == 0 && v == MONEY_MAX);
    static const char *const bad[] = {"12.5",
                                      "1,200,000",
                                      "1e6",
                                      "0x10",
                                      "",
                                      " 12",
                                      "12 ",
                                      "+12",
                                      "012",
                                      "-0",
                                      "-",
                                      "9007199254740993",
                                      "99999999999999999999999",
                                      "12abc",
                                      "１２",
                                      NULL};
    for (int i = 0; bad[i]; i++) {
        v = 77;
        CHECK_MSG(money_parse_minor(bad[i], 0, MONEY_MAX, &v) == -1 && v == 77, "%s", bad[i]);
    }
    CHECK(money_parse_minor(NULL, 0, 1, &v) == -1);
    CHECK(money_parse_minor("-5", 0, 10, &v) == -1); /* below the range */
}

TEST(major_units_convert_exactly)
{
    int64_t v = -1;
    CHECK(money_parse_major("12.50", 0, MONEY_MAX, &v) == 0 && v == 1250);
    CHECK(money_parse_major("12.5", 0, MONEY_MAX, &v) == 0 && v == 1250);
    CHECK(money_parse_major("1200000", 0, MONEY_MAX, &v) == 0 && v == 120000000);
    CHECK(money_parse_major("0.01", 0, MONEY_MAX, &v) == 0 && v == 1);
    CHECK(money_parse_major("0.29", 0, MONEY_MAX, &v) == 0 && v == 29); /* 0.29*100 is 28.999... */
    CHECK(money_parse_major("90071992547409.92", 0, MONEY_MAX, &v) == 0 && v == MONEY_MAX);
    static const char *const bad[] = {
        "12.505", "12.",    ".5",    "1,200.00",          "1e6",   "0x10",  "",
        "12.5.0", "012.50", "12,50", "90071992547409.93", "-0.00", "12.-5", "12.+5",
        NULL};
    for (int i = 0; bad[i]; i++) {
        v = 77;
        CHECK_MSG(money_parse_major(bad[i], 0, MONEY_MAX, &v) == -1 && v == 77, "%s", bad[i]);
    }
}

TEST(refusals_name_the_option_and_the_accepted_forms)
{
    struct err_detail why = {0};
    int64_t v;
    CHECK(cli_fen("--amount", "12.5", 0, MONEY_MAX, "--yuan", &v, &why) == -ERR_INVALID_FIELD);
    CHECK(!strcmp(why.field, "--amount"));
    CHECK_MSG(strstr(why.msg, "--amount: '12.5' is not an amount in fen") &&
                  strstr(why.msg, "or yuan with --yuan 1200000.00"),
              "%s", why.msg);
    CHECK(cli_fen("value", "1,200,000", 0, MONEY_MAX, "value_yuan", &v, &why) != 0 &&
          strstr(why.msg, "value_yuan=1200000.00"));
    CHECK(cli_yuan("--yuan", "12.505", 0, MONEY_MAX, &v, &why) != 0 &&
          strstr(why.msg, "--yuan: '12.505' is not an amount in yuan"));
    CHECK(cli_yuan("--yuan", "12.50", 0, MONEY_MAX, &v, &why) == 0 && v == 1250);
    CHECK(
        cli_int("--limit", "0x10", 1, 500, &v, &why) != 0 &&
        strstr(why.msg, "--limit: '0x10' is not accepted: expected a whole number from 1 to 500"));
    CHECK(cli_int("--limit", "", 1, 500, &v, &why) != 0);
    CHECK(cli_int("--limit", "500", 1, 500, &v, &why) == 0 && v == 500);
    CHECK(cli_int("--limit", "501", 1, 500, &v, &why) != 0);
}

TEST(signals_are_name_equals_an_integer_in_range)
{
    struct err_detail why = {0};
    char name[64];
    int64_t v = -1;
    CHECK(cli_signal("--signal", "urgency=5", name, &v, &why) == 0 && !strcmp(name, "urgency") &&
          v == 5);
    CHECK(cli_signal("--signal", "coach=0", name, &v, &why) == 0 && v == 0);
    CHECK(cli_signal("--signal", "urgency", name, &v, &why) != 0);
    CHECK_MSG(strstr(why.msg, "--signal: 'urgency' is not NAME=VALUE") &&
                  strstr(why.msg, "e.g. --signal urgency=4"),
              "%s", why.msg);
    CHECK(cli_signal("--signal", "urgency=high", name, &v, &why) != 0 &&
          strstr(why.msg, "--signal urgency: 'high' is not a signal value"));
    static const char *const bad[] = {"urgency=6", "urgency=-1", "urgency=4.5", "urgency=",
                                      "=4",        "Urgency=4",  "urgency =4",  NULL};
    for (int i = 0; bad[i]; i++)
        CHECK_MSG(cli_signal("--signal", bad[i], name, &v, &why) != 0, "%s", bad[i]);
}

TEST(percentages_dates_and_key_values)
{
    struct err_detail why = {0};
    double d;
    bool whole;
    CHECK(cli_percent("discount", "15", 0, 100, &d, &whole, &why) == 0 && d == 15 && whole);
    CHECK(cli_percent("margin", "12.5", -100, 100, &d, &whole, &why) == 0 && d == 12.5 && !whole);
    static const char *const bad[] = {"15%", "1e1", "0x1",      "",   "12.", ".5",
                                      "101", "012", "12.34567", "-5", NULL};
    for (int i = 0; bad[i]; i++)
        CHECK_MSG(cli_percent("discount", bad[i], 0, 100, &d, &whole, &why) != 0, "%s", bad[i]);
    CHECK(strstr(why.msg, "discount: '-5' is not a percentage"));
    CHECK(cli_date("at", "2026-02-28", &why) == 0);
    CHECK(cli_date("at", "2028-02-29", &why) == 0);
    CHECK(cli_date("at", "2026-02-29", &why) != 0 &&
          strstr(why.msg, "at: '2026-02-29' is not a date"));
    CHECK(cli_date("at", "2026-1-5", &why) != 0);
    CHECK(cli_date("at", "2026-13-01", &why) != 0);
    char key[64];
    const char *val;
    CHECK(cli_key_value("note=a=b", key, &val, &why) == 0 && !strcmp(key, "note") &&
          !strcmp(val, "a=b"));
    CHECK(cli_key_value("decision", key, &val, &why) != 0 &&
          strstr(why.msg, "'decision' is not KEY=VALUE"));
    CHECK(cli_key_value("=x", key, &val, &why) != 0);
}

TEST(ids_and_units_of_lead_management)
{
    struct err_detail why = {0};
    CHECK(cli_id("--office", "province-a", &why) == 0);
    CHECK(cli_id("--office", "a_1-2", &why) == 0);
    static const char *const bad[] = {"", "Province", "a b", "a/b", "a.b", "é", NULL};
    for (int i = 0; bad[i]; i++)
        CHECK_MSG(cli_id("--office", bad[i], &why) != 0, "%s", bad[i]);
    char long_id[65];
    memset(long_id, 'a', 64);
    long_id[64] = '\0';
    CHECK(cli_id("ID", long_id, &why) != 0);
    long_id[63] = '\0';
    CHECK(cli_id("ID", long_id, &why) == 0);
    CHECK(cli_id("--person", "Amy", &why) != 0 && !strcmp(why.field, "--person") &&
          strstr(why.msg, "--person: 'Amy' is not an id: expected 1 to 63 of a-z, 0-9"));
    CHECK(cli_unit("--unit", "hq", &why) == 0);
    CHECK(cli_unit("--unit", "region/south", &why) == 0);
    CHECK(cli_unit("--unit", "office/province-a", &why) == 0);
    static const char *const units[] = {"",       "province-a", "office/",    "office/A", "office",
                                        "team/x", "hq/x",       "region/a/b", NULL};
    for (int i = 0; units[i]; i++)
        CHECK_MSG(cli_unit("--unit", units[i], &why) != 0, "%s", units[i]);
    CHECK(strstr(why.msg, "expected hq, region/ID or office/ID"));
}

TEST(weeks_choices_and_text)
{
    struct err_detail why = {0};
    CHECK(cli_week("--week", "2026-W53", &why) == 0);
    CHECK(cli_week("--week", "2026-W01", &why) == 0);
    CHECK(cli_week("--week", "2025-W53", &why) != 0 &&
          strstr(why.msg, "--week: '2025-W53' is not accepted: 2025 has 52 ISO weeks"));
    static const char *const bad[] = {"2026-53", "2026-W00", "2026-W1", "2026W01", "", NULL};
    for (int i = 0; bad[i]; i++)
        CHECK_MSG(cli_week("--week", bad[i], &why) != 0 && strstr(why.msg, "YYYY-Www"), "%s",
                  bad[i]);
    static const char *const kinds[] = {"visit", "call", NULL};
    CHECK(cli_choice("--kind", "call", kinds, &why) == 0);
    CHECK(cli_choice("--kind", "Visit", kinds, &why) != 0 &&
          strstr(why.msg, "--kind: 'Visit' is not accepted: expected one of visit, call"));
    CHECK(cli_choice("--kind", NULL, kinds, &why) != 0);
    CHECK(cli_text("--name", "Amy", 200, &why) == 0);
    CHECK(cli_text("--name", "\xe7\x8e\x8b\xe8\x8a\xb3", 2, &why) == 0); /* two characters */
    CHECK(cli_text("--name", "\xe7\x8e\x8b\xe8\x8a\xb3x", 2, &why) != 0 &&
          strstr(why.msg, "--name: 3 characters, at most 2"));
    CHECK(cli_text("--name", "", 200, &why) != 0 && strstr(why.msg, "expected text of 1 to 200"));
    CHECK(cli_text("--note", "bad \xff byte", 200, &why) != 0 && strstr(why.msg, "of valid UTF-8"));
}

TEST(pipeline_units_and_periods)
{
    struct err_detail why = {0};
    static const char *const units[] = {"hq", "region/south", "office/province-a", "customer/acme",
                                        NULL};
    for (int i = 0; units[i]; i++)
        CHECK_MSG(cli_unit_or_customer("--unit", units[i], &why) == 0, "%s", units[i]);
    static const char *const bad_units[] = {
        "", "customer/", "customer/Acme", "person/x", "customer/a/b", "acme", NULL};
    for (int i = 0; bad_units[i]; i++)
        CHECK_MSG(cli_unit_or_customer("--unit", bad_units[i], &why) != 0 &&
                      strstr(why.msg, "expected hq, region/ID, office/ID or customer/ID"),
                  "%s", bad_units[i]);
    CHECK(cli_unit_or_customer("--unit", NULL, &why) != 0);
    static const char *const periods[] = {"2026",    "2026-Q1", "2026-Q4", "2026-01",
                                          "2026-12", "1900",    "9998",    NULL};
    for (int i = 0; periods[i]; i++)
        CHECK_MSG(cli_period("--period", periods[i], &why) == 0, "%s", periods[i]);
    static const char *const bad[] = {"",        "26",      "2026-13",    "2026-00", "2026-Q5",
                                      "2026-Q0", "2026-1",  "1899",       "9999",    " 2026",
                                      "2026-+1", "2026/03", "2026-03-01", NULL};
    for (int i = 0; bad[i]; i++)
        CHECK_MSG(cli_period("--period", bad[i], &why) != 0 && !strcmp(why.field, "--period") &&
                      strstr(why.msg, "is not a period: expected a year YYYY, a quarter YYYY-Qn"),
                  "%s", bad[i]);
    CHECK(cli_period("--period", "2026-13", &why) != 0 &&
          strstr(why.msg, "--period: '2026-13' is not a period"));
    CHECK(cli_period("--period", NULL, &why) != 0);
}

/* Sums held within 2^53: kept sums' halves joined exactly below the cap,
 * capped past it either way, and a capped part keeps every sum capped. */
TEST(sums_are_held_at_the_cap)
{
    const int64_t M = MONEY_MAX;
    CHECK(money_join(0, 0) == 0 && money_join(0, 4294967295) == 4294967295);
    CHECK(money_join(1, 5) == 4294967296 + 5);
    CHECK(money_join(-1, 4294967295) == -1); /* -1: hi -1, lo all ones */
    CHECK(money_join((M >> 32) - 1, 4294967295) == M - 1);
    CHECK(money_join(M >> 32, 0) == M && money_capped(M));
    CHECK(money_join(INT64_MAX, INT64_MAX) == M); /* far past 2^63: no overflow */
    CHECK(money_join(INT64_MIN, 0) == -M && money_capped(-M));
    CHECK(money_join(1030 * (M >> 32), 0) == M); /* 1,030 amounts of 2^53 */
    CHECK(money_add(M - 2, 1) == M - 1 && !money_capped(M - 1));
    CHECK(money_add(M - 1, 1) == M && money_add(M - 1, M - 1) == M);
    CHECK(money_add(-M + 1, -M + 1) == -M);
    CHECK(money_add(M, -5) == M && money_add(-5, M) == M); /* capped stays capped */
    CHECK(money_add(-M, 5) == -M && money_add(M, -M) == M);
    CHECK(money_add(INT64_MAX, INT64_MAX) == M && money_add(INT64_MIN, INT64_MIN) == -M);
}

TEST_MAIN(T(sums_are_held_at_the_cap), T(money_is_formatted_one_way),
          T(minor_units_are_whole_digits_only), T(major_units_convert_exactly),
          T(refusals_name_the_option_and_the_accepted_forms),
          T(signals_are_name_equals_an_integer_in_range), T(percentages_dates_and_key_values),
          T(ids_and_units_of_lead_management), T(weeks_choices_and_text),
          T(pipeline_units_and_periods))
