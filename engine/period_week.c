/* engine/period_week.c: civil dates as day counts and ISO weeks. */
#include "period_week.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

/* Days from 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm). */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    unsigned yoe = (unsigned)(y - era * 400);
    unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

void period_days_date(int64_t z, char out[PERIOD_DATE_SIZE])
{
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    unsigned doe = (unsigned)(z - era * 146097);
    unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t y = (int64_t)yoe + era * 400;
    unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    unsigned mp = (5 * doy + 2) / 153;
    unsigned d = doy - (153 * mp + 2) / 5 + 1;
    unsigned m = mp < 10 ? mp + 3 : mp - 9;
    snprintf(out, PERIOD_DATE_SIZE, "%04lld-%02u-%02u", (long long)(y + (m <= 2)), m, d);
}

static bool digits(const char *s, size_t from, size_t to)
{
    for (size_t i = from; i < to; i++)
        if (s[i] < '0' || s[i] > '9')
            return false;
    return true;
}

int period_date_days(const char *field, const char *date, int64_t *days, struct err_detail *why)
{
    unsigned y, m, d;
    if (!date || strlen(date) != 10 || date[4] != '-' || date[7] != '-' || !digits(date, 0, 4) ||
        !digits(date, 5, 7) || !digits(date, 8, 10) ||
        sscanf(date, "%4u-%2u-%2u", &y, &m, &d) != 3 || y < 1900 || y > 9998 || m < 1 || m > 12 ||
        d < 1 || d > 31)
        return err_field(why, -ERR_INVALID_FIELD, field, "%s: " PERIOD_DATE_EXPECTED, field);
    int64_t z = days_from_civil(y, m, d);
    char back[PERIOD_DATE_SIZE];
    period_days_date(z, back);
    if (strcmp(back, date)) /* 2026-02-30 */
        return err_field(why, -ERR_INVALID_FIELD, field, "%s: %s is not a date", field, date);
    *days = z;
    return 0;
}

/* The Monday of ISO week 1 of year y. */
static int64_t week1_monday(int64_t y)
{
    int64_t jan4 = days_from_civil(y, 1, 4);
    int64_t wd = ((jan4 % 7) + 7 + 3) % 7; /* 0 = Monday; day 0 was a Thursday */
    return jan4 - wd;
}

int period_iso_week(const char *week, char monday[PERIOD_DATE_SIZE], char sunday[PERIOD_DATE_SIZE],
                    struct err_detail *why)
{
    unsigned y, w;
    if (!week || strlen(week) != 8 || week[4] != '-' || week[5] != 'W' || !digits(week, 0, 4) ||
        !digits(week, 6, 8) || sscanf(week, "%4u-W%2u", &y, &w) != 2 || y < 1900 || y > 9997 ||
        w < 1)
        return err_field(why, -ERR_INVALID_FIELD, "week", "week: expected an ISO week YYYY-Www");
    int64_t first = week1_monday(y), weeks = (week1_monday(y + 1) - first) / 7;
    if (w > weeks)
        return err_field(why, -ERR_INVALID_FIELD, "week", "week: %04u has %lld ISO weeks", y,
                         (long long)weeks);
    int64_t mon = first + 7 * (int64_t)(w - 1);
    period_days_date(mon, monday);
    period_days_date(mon + 6, sunday);
    return 0;
}
