/* tests/unit/period_test.c: accounting periods as date ranges. */
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
    const char *bad[] = {"", "26", "20266", "2026-Q5", "2026-Q0", "2026-13", "2026-00",
                         "2026-1", "2026-Q1x", "abcd", "2026-", "1899", NULL};
    for (int i = 0; bad[i]; i++) {
        struct err_detail why = {0};
        CHECK_MSG(period_range(bad[i], f, t, &why) == -ERR_INVALID_FIELD &&
                      !strcmp(why.field, "period"),
                  "'%s'", bad[i]);
    }
    struct err_detail why = {0};
    CHECK(period_range(NULL, f, t, &why) == -ERR_INVALID_FIELD);
}

TEST_MAIN(T(years_quarters_and_months), T(malformed_periods_name_the_field))
