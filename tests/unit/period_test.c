/* tests/unit/period_test.c: accounting periods as date ranges. */
#include <time.h>

#include "period.h"
#include "test.h"

static int range(const char *p, char *from, char *to)
{
    struct err_detail why = {0};
    return period_range(p, from, to, &why);
}

TEST(years_quarters_and_months)
{
    char f[PERIOD_DATE_SIZE], t[PERIOD_DATE_SIZE];
    CHECK(range("2026", f, t) == 0 && !strcmp(f, "2026-01-01") && !strcmp(t, "2027-01-01"));
    CHECK(range("2026-Q1", f, t) == 0 && !strcmp(f, "2026-01-01") && !strcmp(t, "2026-04-01"));
    CHECK(range("2026-Q4", f, t) == 0 && !strcmp(f, "2026-10-01") && !strcmp(t, "2027-01-01"));
    CHECK(range("2026-02", f, t) == 0 && !strcmp(f, "2026-02-01") && !strcmp(t, "2026-03-01"));
    CHECK(range("2026-12", f, t) == 0 && !strcmp(f, "2026-12-01") && !strcmp(t, "2027-01-01"));
}

TEST(malformed_periods_name_the_field)
{
    char f[PERIOD_DATE_SIZE], t[PERIOD_DATE_SIZE];
    const char *bad[] = {"",       "26",       "20266", "2026-Q5", "2026-Q0", "2026-13", "2026-00",
                         "2026-1", "2026-Q1x", "abcd",  "2026-",   "1899",    NULL};
    for (int i = 0; bad[i]; i++) {
        struct err_detail why = {0};
        CHECK_MSG(period_range(bad[i], f, t, &why) == -ERR_INVALID_FIELD &&
                      !strcmp(why.field, "period"),
                  "'%s'", bad[i]);
    }
    struct err_detail why = {0};
    CHECK(period_range(NULL, f, t, &why) == -ERR_INVALID_FIELD);
}

TEST(dates_are_real_calendar_days)
{
    const char *good[] = {"2026-01-01", "2026-12-31", "2024-02-29", "2000-02-29",
                          "1900-01-01", "9998-12-31", NULL};
    for (int i = 0; good[i]; i++)
        CHECK_MSG(period_date_valid(good[i]), "'%s'", good[i]);
    const char *bad[] = {"2026-02-29", "1900-02-29", "2026-04-31", "2026-13-01",  "2026-00-10",
                         "2026-01-00", "2026-1-01",  "26-01-01",   "2026-01-01x", "2026/01/01",
                         " 026-01-01", "+026-01-01", "1899-12-31", "9999-01-01",  "",
                         "2026-01-0",  "2026-0a-01", NULL};
    for (int i = 0; bad[i]; i++)
        CHECK_MSG(!period_date_valid(bad[i]), "'%s'", bad[i]);
    CHECK(!period_date_valid(NULL));
}

/* Days between two dates agree with timegm over every day of 1900..2100. */
TEST(days_between_agree_with_the_c_library)
{
    struct tm tm = {.tm_year = 0, .tm_mon = 0, .tm_mday = 1, .tm_hour = 12};
    time_t t0 = timegm(&tm);
    for (long k = 0; k < 73414; k += 7) {
        time_t t = t0 + k * 86400;
        struct tm d;
        gmtime_r(&t, &d);
        char s[16];
        snprintf(s, sizeof s, "%04d-%02d-%02d", d.tm_year + 1900, d.tm_mon + 1, d.tm_mday);
        CHECK_MSG(period_date_valid(s) && period_days_between("1900-01-01", s) == k &&
                      period_days_between(s, "1900-01-01") == -k,
                  "%s", s);
    }
    CHECK(period_days_between("2026-02-28", "2026-03-01") == 1);
    CHECK(period_days_between("2024-02-28", "2024-03-01") == 2);
}

TEST_MAIN(T(years_quarters_and_months), T(malformed_periods_name_the_field),
          T(dates_are_real_calendar_days), T(days_between_agree_with_the_c_library))
