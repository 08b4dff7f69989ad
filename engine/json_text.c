/* engine/json_text.c: see json_text.h. */
#include "json_text.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

static void put_string(struct buf *b, const char *s, size_t n)
{
    static const char hex[] = "0123456789ABCDEF";
    buf_reserve(b, n + 2);
    buf_put(b, "\"", 1);
    size_t run = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 0x20 && c != '"' && c != '\\')
            continue;
        buf_put(b, s + run, i - run);
        run = i + 1;
        switch (c) {
        case '"':
            buf_put(b, "\\\"", 2);
            break;
        case '\\':
            buf_put(b, "\\\\", 2);
            break;
        case '\b':
            buf_put(b, "\\b", 2);
            break;
        case '\f':
            buf_put(b, "\\f", 2);
            break;
        case '\n':
            buf_put(b, "\\n", 2);
            break;
        case '\r':
            buf_put(b, "\\r", 2);
            break;
        case '\t':
            buf_put(b, "\\t", 2);
            break;
        default: {
            char u[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};
            buf_put(b, u, sizeof u);
        }
        }
    }
    buf_put(b, s + run, n - run);
    buf_put(b, "\"", 1);
}

static void put_integer(struct buf *b, json_int_t v)
{
    char t[24], *e = t + sizeof t, *q = e;
    unsigned long long u = v < 0 ? 0ULL - (unsigned long long)v : (unsigned long long)v;
    do
        *--q = (char)('0' + u % 10);
    while (u /= 10);
    if (v < 0)
        *--q = '-';
    buf_put(b, q, (size_t)(e - q));
}

/* As jansson's jsonp_dtostr: "%.12g", a ".0" when neither '.' nor 'e' is
 * there, and the exponent without '+' or leading zeros. */
static int put_real(struct buf *b, double d)
{
    if (!isfinite(d))
        return -1;
    char t[40];
    int n = snprintf(t, sizeof t, "%.12g", d);
    if (n < 0 || (size_t)n >= sizeof t - 3)
        return -1;
    char *e = strchr(t, 'e');
    if (!e && !strchr(t, '.')) {
        memcpy(t + n, ".0", 3);
        n += 2;
    }
    if (e) {
        char *start = e + 1, *end = start + 1;
        if (*start == '-')
            start++;
        while (*end == '0')
            end++;
        if (end != start) {
            memmove(start, end, (size_t)(t + n - end) + 1);
            n -= (int)(end - start);
        }
    }
    buf_put(b, t, (size_t)n);
    return 0;
}

static int put_value(struct buf *b, const json_t *v, int depth)
{
    if (depth > JSON_TEXT_MAX_DEPTH)
        return -1;
    switch (json_typeof(v)) {
    case JSON_OBJECT: {
        const char *key;
        json_t *x;
        int first = 1;
        buf_put(b, "{", 1);
        json_object_foreach((json_t *)v, key, x)
        {
            if (!first)
                buf_put(b, ",", 1);
            first = 0;
            put_string(b, key, strlen(key));
            buf_put(b, ":", 1);
            if (put_value(b, x, depth + 1))
                return -1;
        }
        buf_put(b, "}", 1);
        return 0;
    }
    case JSON_ARRAY: {
        size_t i;
        json_t *x;
        buf_put(b, "[", 1);
        json_array_foreach(v, i, x)
        {
            if (i)
                buf_put(b, ",", 1);
            if (put_value(b, x, depth + 1))
                return -1;
        }
        buf_put(b, "]", 1);
        return 0;
    }
    case JSON_STRING:
        put_string(b, json_string_value(v), json_string_length(v));
        return 0;
    case JSON_INTEGER:
        put_integer(b, json_integer_value(v));
        return 0;
    case JSON_REAL:
        return put_real(b, json_real_value(v));
    case JSON_TRUE:
        buf_put(b, "true", 4);
        return 0;
    case JSON_FALSE:
        buf_put(b, "false", 5);
        return 0;
    case JSON_NULL:
        buf_put(b, "null", 4);
        return 0;
    }
    return -1;
}

int json_text_put(struct buf *b, const json_t *v)
{
    size_t len = b->len;
    if (!v || put_value(b, v, 1) || b->failed) {
        if (!b->failed && b->p) {
            b->len = len;
            b->p[len] = '\0';
        }
        return -1;
    }
    return 0;
}

char *json_text(const json_t *v)
{
    struct buf b = {0};
    buf_reserve(&b, 1024);
    if (json_text_put(&b, v)) {
        buf_deinit(&b);
        return NULL;
    }
    return buf_take(&b, NULL);
}
