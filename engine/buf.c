/* engine/buf.c */
#include "buf.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BUF_FIRST_CAP 4096

static bool reserve(struct buf *b, size_t n)
{
    if (b->failed)
        return false;
    if (b->len + n + 1 <= b->cap)
        return true;
    size_t cap = b->cap ? b->cap * 2 : BUF_FIRST_CAP;
    while (cap < b->len + n + 1)
        cap *= 2;
    char *g = realloc(b->p, cap);
    if (!g) {
        b->failed = true;
        return false;
    }
    b->p = g;
    b->cap = cap;
    return true;
}

void buf_reserve(struct buf *b, size_t n)
{
    if (b->len + n + 1 > b->cap && !b->failed) {
        char *g = realloc(b->p, b->len + n + 1);
        if (!g) {
            b->failed = true;
            return;
        }
        b->p = g;
        b->cap = b->len + n + 1;
    }
}

void buf_put(struct buf *b, const char *s, size_t n)
{
    if (!reserve(b, n))
        return;
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = '\0';
}

void buf_str(struct buf *b, const char *s)
{
    buf_put(b, s, strlen(s));
}

void buf_printf(struct buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0) {
        b->failed = true;
        return;
    }
    if (!reserve(b, (size_t)n))
        return;
    va_start(ap, fmt);
    vsnprintf(b->p + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
}

void buf_json_string(struct buf *b, const char *s)
{
    buf_put(b, "\"", 1);
    const char *run = s;
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c >= 0x20 && c != '"' && c != '\\')
            continue;
        buf_put(b, run, (size_t)(s - run));
        if (c == '"' || c == '\\')
            buf_printf(b, "\\%c", c);
        else
            buf_printf(b, "\\u%04x", c);
        run = s + 1;
    }
    buf_put(b, run, (size_t)(s - run));
    buf_put(b, "\"", 1);
}

char *buf_take(struct buf *b, size_t *len)
{
    char *p = b->failed ? NULL : b->p;
    if (b->failed)
        free(b->p);
    if (len)
        *len = p ? b->len : 0;
    if (p == NULL && !b->failed)
        p = calloc(1, 1); /* an empty buffer is the empty string */
    b->p = NULL;
    b->len = b->cap = 0;
    b->failed = false;
    return p;
}

void buf_deinit(struct buf *b)
{
    free(b->p);
    b->p = NULL;
    b->len = b->cap = 0;
}
