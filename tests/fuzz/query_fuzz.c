/* tests/fuzz/query_fuzz.c: the work lists' query parameters (GET
 * /v1/decisions/waiting, /v1/receivables/overdue): `as_of` through
 * period_date_valid, checked against a calendar model (timegm round trip),
 * and period_days_between on what it accepts; `limit` through num_parse. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "num.h"
#include "period.h"

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
