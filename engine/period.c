/* engine/period.c */
#include "period.h"

#include <stdio.h>
#include <string.h>

int period_range(const char *p, char from[PERIOD_DATE_SIZE], char to[PERIOD_DATE_SIZE],
                 struct err_detail *why)
{
    unsigned y, n;
    char tail;
    size_t len = p ? strlen(p) : 0;
    /* Digits where digits go: sscanf's %u alone would take "2026-+1" or " 202". */
    for (size_t i = 0; i < len; i++)
        if ((p[i] < '0' || p[i] > '9') && !(i == 4 && p[i] == '-') && !(i == 5 && p[i] == 'Q'))
            len = 0;
    if (len == 4 && sscanf(p, "%4u%c", &y, &tail) == 1 && y >= 1900 && y <= 9998) {
        snprintf(from, PERIOD_DATE_SIZE, "%04u-01-01", y);
        snprintf(to, PERIOD_DATE_SIZE, "%04u-01-01", y + 1);
        return 0;
    }
    if (len == 7 && p[4] == '-' && p[5] == 'Q' && sscanf(p, "%4u-Q%1u%c", &y, &n, &tail) == 2 &&
        y >= 1900 && y <= 9998 && n >= 1 && n <= 4) {
        snprintf(from, PERIOD_DATE_SIZE, "%04u-%02u-01", y, 3 * n - 2);
        if (n == 4)
            snprintf(to, PERIOD_DATE_SIZE, "%04u-01-01", y + 1);
        else
            snprintf(to, PERIOD_DATE_SIZE, "%04u-%02u-01", y, 3 * n + 1);
        return 0;
    }
    if (len == 7 && p[4] == '-' && sscanf(p, "%4u-%2u%c", &y, &n, &tail) == 2 && y >= 1900 &&
        y <= 9998 && n >= 1 && n <= 12) {
        snprintf(from, PERIOD_DATE_SIZE, "%04u-%02u-01", y, n);
        if (n == 12)
            snprintf(to, PERIOD_DATE_SIZE, "%04u-01-01", y + 1);
        else
            snprintf(to, PERIOD_DATE_SIZE, "%04u-%02u-01", y, n + 1);
        return 0;
    }
    return err_field(why, -ERR_INVALID_FIELD, "period",
                     "period: expected YYYY, YYYY-Qn or YYYY-MM, got '%.20s'", p ? p : "");
}

bool period_date_valid(const char *s)
{
    static const unsigned mdays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (!s || strlen(s) != 10 || s[4] != '-' || s[7] != '-')
        return false;
    for (int i = 0; i < 10; i++)
        if (i != 4 && i != 7 && (s[i] < '0' || s[i] > '9'))
            return false;
    unsigned y =
        (unsigned)((s[0] - '0') * 1000 + (s[1] - '0') * 100 + (s[2] - '0') * 10 + (s[3] - '0'));
    unsigned m = (unsigned)((s[5] - '0') * 10 + (s[6] - '0'));
    unsigned d = (unsigned)((s[8] - '0') * 10 + (s[9] - '0'));
    if (y < 1900 || y > 9998 || m < 1 || m > 12 || d < 1)
        return false;
    bool leap = (y % 4 == 0 && y % 100) || y % 400 == 0;
    return d <= mdays[m - 1] + (m == 2 && leap);
}

int64_t period_days_between(const char *from, const char *to)
{
    /* Days from 1970-01-01 (H. Hinnant's days_from_civil), as host.days. */
    int64_t day[2];
    const char *s[2] = {from, to};
    for (int k = 0; k < 2; k++) {
        int64_t y =
            (s[k][0] - '0') * 1000 + (s[k][1] - '0') * 100 + (s[k][2] - '0') * 10 + (s[k][3] - '0');
        int64_t m = (s[k][5] - '0') * 10 + (s[k][6] - '0'),
                d = (s[k][8] - '0') * 10 + (s[k][9] - '0');
        y -= m <= 2;
        int64_t era = y / 400, yoe = y - era * 400;
        int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
        day[k] = era * 146097 + yoe * 365 + yoe / 4 - yoe / 100 + doy - 719468;
    }
    return day[1] - day[0];
}
