/* engine/money.c: money as exact text, both ways (see money.h). */
#include "money.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

/* Digits [p, end) as a non-negative integer without leading zeros, at most
 * MONEY_MAX; -1 for anything else. */
static int digits(const char *p, const char *end, int64_t *out)
{
    if (p == end || (*p == '0' && end - p > 1))
        return -1;
    int64_t v = 0;
    for (; p < end; p++) {
        if (*p < '0' || *p > '9' || v > (MONEY_MAX - (*p - '0')) / 10)
            return -1;
        v = v * 10 + (*p - '0');
    }
    *out = v;
    return 0;
}

static int signed_amount(const char *s, int64_t min, int64_t max, int64_t *out, bool major)
{
    if (!s)
        return -1;
    bool neg = *s == '-';
    const char *p = s + neg, *end = p + strlen(p);
    const char *dot = major ? strchr(p, '.') : NULL;
    int64_t whole, frac = 0;
    if (digits(p, dot ? dot : end, &whole))
        return -1;
    if (dot) {
        size_t n = (size_t)(end - dot - 1);
        if (n < 1 || n > 2 || strspn(dot + 1, "0123456789") != n)
            return -1;
        frac = (dot[1] - '0') * 10 + (n == 2 ? dot[2] - '0' : 0);
    }
    if (major) {
        if (whole > (MONEY_MAX - frac) / MONEY_SCALE)
            return -1;
        whole = whole * MONEY_SCALE + frac;
    }
    if (neg && whole == 0) /* "-0" is a typo, not an amount */
        return -1;
    int64_t v = neg ? -whole : whole;
    if (v < min || v > max)
        return -1;
    *out = v;
    return 0;
}

int money_parse_minor(const char *s, int64_t min, int64_t max, int64_t *out)
{
    return signed_amount(s, min, max, out, false);
}

int money_parse_major(const char *s, int64_t min, int64_t max, int64_t *out)
{
    return signed_amount(s, min, max, out, true);
}

char *money_format(int64_t minor, const char *currency, char *buf, size_t n)
{
    /* Magnitude as unsigned: INT64_MIN has no positive int64. */
    uint64_t m = minor < 0 ? (uint64_t)0 - (uint64_t)minor : (uint64_t)minor;
    char whole[32], grouped[48];
    int len = snprintf(whole, sizeof whole, "%llu", (unsigned long long)(m / MONEY_SCALE));
    size_t g = 0;
    for (int i = 0; i < len; i++) {
        if (i && (len - i) % 3 == 0)
            grouped[g++] = ',';
        grouped[g++] = whole[i];
    }
    grouped[g] = '\0';
    bool cur = currency && *currency;
    snprintf(buf, n, "%s%s.%02u%s%s", minor < 0 ? "-" : "", grouped, (unsigned)(m % MONEY_SCALE),
             cur ? " " : "", cur ? currency : "");
    return buf;
}

static int64_t held(__int128 v)
{
    return v >= MONEY_MAX ? MONEY_MAX : v <= -MONEY_MAX ? -MONEY_MAX : (int64_t)v;
}

int64_t money_join(int64_t hi, int64_t lo)
{
    return held((__int128)hi * ((__int128)1 << 32) + lo);
}

int64_t money_add(int64_t a, int64_t b)
{
    if (money_capped(a))
        return a > 0 ? MONEY_MAX : -MONEY_MAX;
    if (money_capped(b))
        return b > 0 ? MONEY_MAX : -MONEY_MAX;
    return held((__int128)a + b);
}
