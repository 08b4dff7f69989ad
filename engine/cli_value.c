/* engine/cli_value.c: strict command-line values (see cli_value.h). */
#include "cli_value.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "money.h"
#include "period.h"
#include "period_week.h"
#include "utf8.h"

#define SHOWN 40 /* bytes of a refused value quoted in a message */

int cli_int(const char *opt, const char *s, int64_t min, int64_t max, int64_t *out,
            struct err_detail *why)
{
    /* Whole fen and whole numbers share one strict digit parser. */
    if (!money_parse_minor(s, min, max, out))
        return 0;
    return err_field(why, -ERR_INVALID_FIELD, opt,
                     "%s: '%.*s' is not accepted: expected a whole number from %lld to %lld "
                     "(digits only: no sign, separators, decimals or exponent)",
                     opt, SHOWN, s ? s : "", (long long)min, (long long)max);
}

int cli_fen(const char *opt, const char *s, int64_t min, int64_t max, const char *major_opt,
            int64_t *out, struct err_detail *why)
{
    if (!money_parse_minor(s, min, max, out))
        return 0;
    char lo[MONEY_TEXT_MAX], hi[MONEY_TEXT_MAX];
    money_format(min, "CNY", lo, sizeof lo);
    money_format(max, "CNY", hi, sizeof hi);
    char alt[96] = "";
    if (major_opt)
        snprintf(alt, sizeof alt, ", or yuan with %s%s1200000.00", major_opt,
                 major_opt[0] == '-' ? " " : "=");
    return err_field(why, -ERR_INVALID_FIELD, opt,
                     "%s: '%.*s' is not an amount in fen: expected whole fen from %lld to %lld "
                     "(%s to %s; digits only, e.g. 120000000 for 1,200,000.00 CNY)%s",
                     opt, SHOWN, s ? s : "", (long long)min, (long long)max, lo, hi, alt);
}

int cli_yuan(const char *opt, const char *s, int64_t min, int64_t max, int64_t *out,
             struct err_detail *why)
{
    if (!money_parse_major(s, min, max, out))
        return 0;
    char lo[MONEY_TEXT_MAX], hi[MONEY_TEXT_MAX];
    return err_field(why, -ERR_INVALID_FIELD, opt,
                     "%s: '%.*s' is not an amount in yuan: expected yuan from %s to %s with at "
                     "most two decimals, digits and one '.' only (e.g. 1200000.50 for "
                     "1,200,000.50 CNY)",
                     opt, SHOWN, s ? s : "", money_format(min, "", lo, sizeof lo),
                     money_format(max, "", hi, sizeof hi));
}

int cli_percent(const char *opt, const char *s, int min, int max, double *out, bool *integral,
                struct err_detail *why)
{
    const char *dot = s ? strchr(s, '.') : NULL;
    size_t whole = s ? (dot ? (size_t)(dot - s) : strlen(s)) : 0;
    size_t frac = dot ? strlen(dot + 1) : 0;
    bool ok = s && whole >= 1 && strspn(s, "0123456789") == whole && (s[0] != '0' || whole == 1) &&
              whole <= 4 &&
              (!dot || (frac >= 1 && frac <= 4 && strspn(dot + 1, "0123456789") == frac));
    if (ok) {
        double v = strtod(s, NULL); /* the text is digits[.digits]: strtod reads all of it */
        if (v >= min && v <= max) {
            *out = v;
            *integral = !dot;
            return 0;
        }
    }
    return err_field(why, -ERR_INVALID_FIELD, opt,
                     "%s: '%.*s' is not a percentage: expected a number from %d to %d in "
                     "percent, digits with at most four decimals and no '%%' (e.g. 12.5)",
                     opt, SHOWN, s ? s : "", min, max);
}

static bool leap(int y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

int cli_date(const char *opt, const char *s, struct err_detail *why)
{
    static const int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    bool ok = s && strlen(s) == 10 && s[4] == '-' && s[7] == '-' && strspn(s, "0123456789") == 4 &&
              strspn(s + 5, "0123456789") == 2 && strspn(s + 8, "0123456789") == 2;
    if (ok) {
        int y = atoi(s), m = atoi(s + 5), d = atoi(s + 8);
        ok = y >= 1970 && m >= 1 && m <= 12 && d >= 1 && d <= days[m - 1] + (m == 2 && leap(y));
    }
    if (ok)
        return 0;
    return err_field(why, -ERR_INVALID_FIELD, opt,
                     "%s: '%.*s' is not a date: expected YYYY-MM-DD, a real day (e.g. 2026-03-01)",
                     opt, SHOWN, s ? s : "");
}

static size_t name_len(const char *s, const char *set)
{
    return strspn(s, set);
}

int cli_signal(const char *opt, const char *s, char name[64], int64_t *value,
               struct err_detail *why)
{
    const char *eq = s ? strchr(s, '=') : NULL;
    size_t n = eq ? (size_t)(eq - s) : 0;
    if (!eq || n < 1 || n > 63 || name_len(s, "abcdefghijklmnopqrstuvwxyz0123456789_-") != n)
        return err_field(why, -ERR_INVALID_FIELD, opt,
                         "%s: '%.*s' is not NAME=VALUE: expected a signal name [a-z0-9_-] and a "
                         "whole number from 0 to %d, e.g. %s urgency=4",
                         opt, SHOWN, s ? s : "", CLI_SIGNAL_MAX, opt);
    memcpy(name, s, n);
    name[n] = '\0';
    if (!money_parse_minor(eq + 1, 0, CLI_SIGNAL_MAX, value))
        return 0;
    return err_field(why, -ERR_INVALID_FIELD, opt,
                     "%s %s: '%.*s' is not a signal value: expected a whole number from 0 to %d",
                     opt, name, SHOWN, eq + 1, CLI_SIGNAL_MAX);
}

int cli_key_value(const char *s, char key[64], const char **value, struct err_detail *why)
{
    const char *eq = s ? strchr(s, '=') : NULL;
    size_t n = eq ? (size_t)(eq - s) : 0;
    if (!eq || n < 1 || n > 63 || name_len(s, "abcdefghijklmnopqrstuvwxyz0123456789_") != n)
        return err_field(why, -ERR_INVALID_FIELD, "argument",
                         "'%.*s' is not KEY=VALUE: expected a key [a-z0-9_], '=' and its value "
                         "(e.g. decision=convert)",
                         SHOWN, s ? s : "");
    memcpy(key, s, n);
    key[n] = '\0';
    *value = eq + 1;
    return 0;
}

static bool valid_id(const char *s)
{
    size_t n = s ? strlen(s) : 0;
    return n >= 1 && n <= 63 && strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789_-") == n;
}

int cli_id(const char *opt, const char *s, struct err_detail *why)
{
    if (valid_id(s))
        return 0;
    return err_field(why, -ERR_INVALID_FIELD, opt,
                     "%s: '%.*s' is not an id: expected 1 to 63 of a-z, 0-9, '_' and '-' "
                     "(e.g. province-a)",
                     opt, SHOWN, s ? s : "");
}

int cli_unit(const char *opt, const char *s, struct err_detail *why)
{
    if (s && (!strcmp(s, "hq") || (!strncmp(s, "region/", 7) && valid_id(s + 7)) ||
              (!strncmp(s, "office/", 7) && valid_id(s + 7))))
        return 0;
    return err_field(why, -ERR_INVALID_FIELD, opt,
                     "%s: '%.*s' is not a unit: expected hq, region/ID or office/ID "
                     "(e.g. office/province-a)",
                     opt, SHOWN, s ? s : "");
}

int cli_unit_or_customer(const char *opt, const char *s, struct err_detail *why)
{
    struct err_detail ignored = {0};
    if ((s && !strncmp(s, "customer/", 9) && valid_id(s + 9)) || !cli_unit(opt, s, &ignored))
        return 0;
    return err_field(why, -ERR_INVALID_FIELD, opt,
                     "%s: '%.*s' is not a unit: expected hq, region/ID, office/ID or customer/ID "
                     "(e.g. office/province-a, customer/acme)",
                     opt, SHOWN, s ? s : "");
}

int cli_period(const char *opt, const char *s, struct err_detail *why)
{
    char from[PERIOD_DATE_SIZE], to[PERIOD_DATE_SIZE];
    struct err_detail ignored = {0};
    if (s && !period_range(s, from, to, &ignored))
        return 0;
    return err_field(why, -ERR_INVALID_FIELD, opt,
                     "%s: '%.*s' is not a period: expected a year YYYY, a quarter YYYY-Qn or a "
                     "month YYYY-MM, years 1900 to 9998 (e.g. 2026, 2026-Q2, 2026-03)",
                     opt, SHOWN, s ? s : "");
}

int cli_week(const char *opt, const char *s, struct err_detail *why)
{
    char mon[PERIOD_DATE_SIZE], sun[PERIOD_DATE_SIZE];
    struct err_detail e = {0};
    if (!period_iso_week(s, mon, sun, &e))
        return 0;
    /* "week: 2025 has 52 ISO weeks" says more than the form alone. */
    const char *why_not = strncmp(e.msg, "week: ", 6) ? e.msg : e.msg + 6;
    return err_field(why, -ERR_INVALID_FIELD, opt,
                     "%s: '%.*s' is not accepted: %s (an ISO week YYYY-Www, W01 to W52 or W53, "
                     "e.g. 2026-W53)",
                     opt, SHOWN, s ? s : "", why_not);
}

int cli_choice(const char *opt, const char *s, const char *const *choices, struct err_detail *why)
{
    char list[256];
    size_t off = 0;
    list[0] = '\0';
    for (const char *const *c = choices; *c; c++) {
        if (s && !strcmp(s, *c))
            return 0;
        if (off < sizeof list)
            off += (size_t)snprintf(list + off, sizeof list - off, "%s%s", off ? ", " : "", *c);
    }
    return err_field(why, -ERR_INVALID_FIELD, opt, "%s: '%.*s' is not accepted: expected one of %s",
                     opt, SHOWN, s ? s : "", list);
}

int cli_text(const char *opt, const char *s, size_t max, struct err_detail *why)
{
    size_t len = s ? strlen(s) : 0, chars = 0;
    if (len && utf8_bad_offset(s, len, false) == len) {
        for (size_t i = 0; i < len; i++)
            chars += ((unsigned char)s[i] & 0xc0) != 0x80;
        if (chars <= max)
            return 0;
    }
    if (len && chars > max)
        return err_field(why, -ERR_INVALID_FIELD, opt, "%s: %zu characters, at most %zu", opt,
                         chars, max);
    return err_field(why, -ERR_INVALID_FIELD, opt, "%s: expected text of 1 to %zu characters%s",
                     opt, max, len ? " of valid UTF-8" : "");
}
