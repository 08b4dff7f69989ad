/* tests/unit/period_week_test.c: dates as day counts and ISO weeks. */
#include <stdbool.h>

#include "period_week.h"
#include "test.h"

static bool week_is(const char *w, const char *mon, const char *sun)
{
    char m[PERIOD_DATE_SIZE], s[PERIOD_DATE_SIZE];
    struct err_detail why = {0};
    return period_iso_week(w, m, s, &why) == 0 && !strcmp(m, mon) && !strcmp(s, sun);
}

TEST(iso_weeks_across_year_ends)
{
    CHECK(week_is("2026-W01", "2025-12-29", "2026-01-04")); /* starts in the year before */
    CHECK(week_is("2026-W53", "2026-12-28", "2027-01-03")); /* 2026 has 53 weeks */
    CHECK(week_is("2027-W01", "2027-01-04", "2027-01-10"));
    CHECK(week_is("2020-W53", "2020-12-28", "2021-01-03"));
    CHECK(week_is("2021-W52", "2021-12-27", "2022-01-02"));
    CHECK(week_is("2024-W01", "2024-01-01", "2024-01-07"));
}

TEST(malformed_weeks_are_refused)
{
    const char *bad[] = {"",         "2026",    "2026-W00",  "2027-W53", "2026-W54", "2026W01",
                         "2026-w01", "2026-W1", "2026-W011", "1899-W01", "+026-W01", NULL};
    char m[PERIOD_DATE_SIZE], s[PERIOD_DATE_SIZE];
    for (int i = 0; bad[i]; i++) {
        struct err_detail why = {0};
        CHECK_MSG(period_iso_week(bad[i], m, s, &why) == -ERR_INVALID_FIELD &&
                      !strcmp(why.field, "week"),
                  "'%s'", bad[i]);
    }
}

TEST(dates_round_trip_and_impossible_dates_are_refused)
{
    int64_t d = -1;
    struct err_detail why = {0};
    CHECK(period_date_days("at", "1970-01-01", &d, &why) == 0 && d == 0);
    CHECK(period_date_days("at", "2024-02-29", &d, &why) == 0);
    char back[PERIOD_DATE_SIZE];
    period_days_date(d, back);
    CHECK(!strcmp(back, "2024-02-29"));
    const char *bad[] = {"2026-02-29",  "2026-13-01", "2026-04-31", "2026-1-01", "20260101",
                         "2026-01-01x", "1899-12-31", " 026-01-01", NULL};
    for (int i = 0; bad[i]; i++) {
        struct err_detail e = {0};
        CHECK_MSG(period_date_days("at", bad[i], &d, &e) == -ERR_INVALID_FIELD &&
                      !strcmp(e.field, "at"),
                  "'%s'", bad[i]);
    }
}

TEST_MAIN(T(iso_weeks_across_year_ends), T(malformed_weeks_are_refused),
          T(dates_round_trip_and_impossible_dates_are_refused))
