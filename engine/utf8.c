/* engine/utf8.c: UTF-8 checks and cleaning (see utf8.h). */
#include "utf8.h"

#include <stdlib.h>
#include <string.h>

static const char replacement[] = "\xEF\xBF\xBD"; /* U+FFFD */

/* The length of the valid sequence at p (left > 0 bytes), or 0. */
static size_t seq_len(const unsigned char *p, size_t left)
{
    unsigned char c = p[0];
    size_t n;
    unsigned char lo = 0x80, hi = 0xBF; /* allowed range of the second byte */
    if (c < 0x80)
        return 1;
    if (c >= 0xC2 && c <= 0xDF)
        n = 2;
    else if (c >= 0xE0 && c <= 0xEF) {
        n = 3;
        lo = c == 0xE0 ? 0xA0 : 0x80; /* overlong */
        hi = c == 0xED ? 0x9F : 0xBF; /* surrogates */
    } else if (c >= 0xF0 && c <= 0xF4) {
        n = 4;
        lo = c == 0xF0 ? 0x90 : 0x80; /* overlong */
        hi = c == 0xF4 ? 0x8F : 0xBF; /* above U+10FFFF */
    } else
        return 0;
    if (left < n || p[1] < lo || p[1] > hi)
        return 0;
    for (size_t i = 2; i < n; i++)
        if (p[i] < 0x80 || p[i] > 0xBF)
            return 0;
    return n;
}

size_t utf8_bad_offset(const char *s, size_t n, bool nul_ok)
{
    const unsigned char *p = (const unsigned char *)s;
    for (size_t i = 0; i < n;) {
        if (p[i] == 0 && !nul_ok)
            return i;
        size_t k = seq_len(p + i, n - i);
        if (!k)
            return i;
        i += k;
    }
    return n;
}

size_t utf8_clean(char *dst, size_t cap, const char *s, size_t n)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t out = 0;
    for (size_t i = 0; i < n;) {
        size_t k = p[i] ? seq_len(p + i, n - i) : 0;
        const char *from = k ? s + i : replacement;
        size_t len = k ? k : sizeof replacement - 1;
        if (out + len > cap - 1)
            break;
        memcpy(dst + out, from, len);
        out += len;
        i += k ? k : 1;
    }
    dst[out] = '\0';
    return out;
}

void utf8_clean_inplace(char *s, size_t cap)
{
    size_t n = strlen(s);
    if (utf8_bad_offset(s, n, false) == n)
        return;
    char *copy = malloc(n + 1);
    if (!copy) { /* still never invalid: bad bytes become '?' in place */
        for (size_t i = 0; i < n;) {
            size_t k = seq_len((const unsigned char *)s + i, n - i);
            if (!k)
                s[i] = '?';
            i += k ? k : 1;
        }
        return;
    }
    memcpy(copy, s, n + 1);
    utf8_clean(s, cap, copy, n);
    free(copy);
}

json_t *utf8_json(const char *s)
{
    size_t n = strlen(s);
    if (utf8_bad_offset(s, n, false) == n)
        return json_stringn(s, n);
    char *buf = malloc(3 * n + 1);
    if (!buf)
        return NULL;
    size_t len = utf8_clean(buf, 3 * n + 1, s, n);
    json_t *j = json_stringn(buf, len);
    free(buf);
    return j;
}
