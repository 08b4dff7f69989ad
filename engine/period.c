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
