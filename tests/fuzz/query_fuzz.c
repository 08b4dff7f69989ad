/* tests/fuzz/query_fuzz.c: the query parameters of the work lists (GET
 * /v1/decisions/waiting, /v1/receivables/overdue) and of lead management
 * (GET /v1/reviews/queue, /v1/activities, /v1/scorecards, and ltcctl's
 * --as-of, --from, --to, --week): `as_of` through period_date_valid and
 * period_date_days, checked against a calendar model (timegm round trip),
 * and period_days_between on what they accept; `week` through
 * period_iso_week against strftime's ISO 8601 week (%G-W%V); `limit`
 * through num_parse. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "num.h"
#include "period.h"
#include "period_week.h"

/* The model: a date is valid when it is ten characters, digits and dashes in
 * place, years 1900..9998, and timegm gives back the same day. */
static int model_valid(const char *s)
{
    if (strlen(s) != 10 || s[4] != '-' || s[7] != '-')
        return 0;
    for (int i = 0; i < 10; i++)
        if (i != 4 && i != 7 && (s[i] < '0' || s[i] > '9'))
            return 0;
    int y = atoi(s), m = atoi(s + 5), d = atoi(s + 8);
    if (y < 1900 || y > 9998)
        return 0;
    struct tm tm = {.tm_year = y - 1900, .tm_mon = m - 1, .tm_mday = d, .tm_hour = 12};
    time_t t = timegm(&tm);
    struct tm back;
    gmtime_r(&t, &back);
    return m >= 1 && m <= 12 && d >= 1 && back.tm_year == y - 1900 && back.tm_mon == m - 1 &&
           back.tm_mday == d;
}

/* The model of a week: "YYYY-Www", years 1900..9997, and strftime's ISO
 * week of that year's Monday of week ww gives it back. */
static time_t noon(int y, int m, int d)
{
    struct tm tm = {.tm_year = y - 1900, .tm_mon = m - 1, .tm_mday = d, .tm_hour = 12};
    return timegm(&tm);
}

static void iso(time_t t, const char *fmt, char *out, size_t n)
{
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(out, n, fmt, &tm);
}

static int model_week(const char *s, char monday[11], char sunday[11])
{
    if (strlen(s) != 8 || s[4] != '-' || s[5] != 'W')
        return 0;
    for (int i = 0; i < 8; i++)
        if (i != 4 && i != 5 && (s[i] < '0' || s[i] > '9'))
            return 0;
    int y = atoi(s), w = atoi(s + 6);
    if (y < 1900 || y > 9997 || w < 1)
        return 0;
    char last[16]; /* 28 December is always in a year's last ISO week */
    iso(noon(y, 12, 28), "%V", last, sizeof last);
    if (w > atoi(last))
        return 0;
    /* 4 January is always in week 1; its Monday, then w - 1 weeks on. */
    time_t jan4 = noon(y, 1, 4);
    char u[4];
    iso(jan4, "%u", u, sizeof u);
    time_t mon = jan4 - (time_t)(atoi(u) - 1) * 86400 + (time_t)(w - 1) * 7 * 86400;
    iso(mon, "%Y-%m-%d", monday, 11);
    iso(mon + 6 * 86400, "%Y-%m-%d", sunday, 11);
    char back[16];
    iso(mon, "%G-W%V", back, sizeof back);
    if (strcmp(back, s))
        abort(); /* the model disagrees with itself */
    return 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1);
    if (!text)
        return 0;
    memcpy(text, data, size);
    text[size] = '\0';
    if (period_date_valid(text) != (model_valid(text) != 0))
        abort();
    if (period_date_valid(text)) {
        if (period_days_between(text, text) != 0 ||
            period_days_between("1970-01-01", text) != -period_days_between(text, "1970-01-01"))
            abort();
    }
    /* period_date_days (lead management's dates) accepts exactly what
     * period_date_valid does, and its day count is the same calendar. */
    int64_t days = 0;
    struct err_detail dwhy = {0};
    int drc = period_date_days("as_of", text, &days, &dwhy);
    if ((drc == 0) != period_date_valid(text) ||
        (drc && (!dwhy.msg[0] || strcmp(dwhy.field, "as_of"))))
        abort();
    if (!drc) {
        char back[PERIOD_DATE_SIZE];
        period_days_date(days, back);
        if (strcmp(back, text) || days != period_days_between("1970-01-01", text))
            abort();
    }
    /* period_iso_week against the model: the same weeks, the same days. */
    char mon[PERIOD_DATE_SIZE], sun[PERIOD_DATE_SIZE], wmon[11], wsun[11];
    struct err_detail wwhy = {0};
    int wrc = period_iso_week(text, mon, sun, &wwhy);
    if ((wrc == 0) != (model_week(text, wmon, wsun) != 0) || (wrc && strcmp(wwhy.field, "week")))
        abort();
    if (!wrc && (strcmp(mon, wmon) || strcmp(sun, wsun)))
        abort();
    int64_t n = 0;
    struct err_detail why = {0};
    if (num_parse("limit", text, 1, 500, &n, &why) == 0) {
        if (n < 1 || n > 500)
            abort();
    } else if (!why.msg[0] || strcmp(why.field, "limit")) {
        abort();
    }
    free(text);
    return 0;
}
