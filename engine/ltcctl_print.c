/* engine/ltcctl_print.c: formatting shared by every verb (see ltcctl.h). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ltcctl.h"
#include "money.h"

int ltcctl_colour;

const char *ltcctl_str(const json_t *o, const char *k)
{
    const char *s = json_string_value(json_object_get(o, k));
    return s ? s : "-";
}

long long ltcctl_int_of(const json_t *o, const char *k)
{
    return (long long)json_integer_value(json_object_get(o, k));
}

const char *ltcctl_money_of(const json_t *o, const char *k, const char *cur, char *buf, size_t n)
{
    const json_t *v = json_object_get(o, k);
    if (!json_is_integer(v)) {
        snprintf(buf, n, "-");
        return buf;
    }
    return money_format((int64_t)json_integer_value(v), cur ? cur : "CNY", buf, n);
}

void ltcctl_scalar(const json_t *v, char *buf, size_t n)
{
    if (json_is_string(v)) {
        snprintf(buf, n, "%s", json_string_value(v));
        return;
    }
    char *t = v ? json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT | JSON_REAL_PRECISION(6)) : NULL;
    snprintf(buf, n, "%s", t ? t : "-");
    free(t);
}

const char *ltcctl_pct_of(const json_t *o, const char *k, char *buf, size_t n)
{
    const json_t *v = json_object_get(o, k);
    if (!json_is_number(v))
        snprintf(buf, n, "-");
    else
        snprintf(buf, n, "%g%%", json_number_value(v));
    return buf;
}

void ltcctl_rules_text(const json_t *rules, char *buf, size_t n)
{
    size_t off = 0;
    const char *owner;
    json_t *v;
    buf[0] = '\0';
    json_object_foreach((json_t *)rules, owner, v)
    {
        if (off < n)
            off += (size_t)snprintf(buf + off, n - off, "%s%s@%lld", off ? " " : "", owner,
                                    (long long)json_integer_value(v));
    }
    if (!off)
        snprintf(buf, n, "-");
}

/* Display width: characters, not bytes (a reason may be Chinese text; wide
 * characters are taken as one column, which keeps ASCII tables exact). */
static size_t text_width(const char *s)
{
    size_t n = 0;
    for (; *s; s++)
        n += ((unsigned char)*s & 0xc0) != 0x80;
    return n;
}

/* Two columns: CJK, Hangul, fullwidth forms (Unicode's East Asian Wide and
 * Fullwidth ranges, the ones names are written in). */
static bool wide(uint32_t cp)
{
    return (cp >= 0x1100 && cp <= 0x115f) || (cp >= 0x2e80 && cp <= 0x303e) ||
           (cp >= 0x3041 && cp <= 0x33ff) || (cp >= 0x3400 && cp <= 0x4dbf) ||
           (cp >= 0x4e00 && cp <= 0x9fff) || (cp >= 0xa000 && cp <= 0xa4cf) ||
           (cp >= 0xac00 && cp <= 0xd7a3) || (cp >= 0xf900 && cp <= 0xfaff) ||
           (cp >= 0xfe30 && cp <= 0xfe4f) || (cp >= 0xff00 && cp <= 0xff60) ||
           (cp >= 0xffe0 && cp <= 0xffe6) || (cp >= 0x20000 && cp <= 0x3fffd);
}

const char *ltcctl_cell(const char *s, int cols, char *out, size_t n)
{
    const unsigned char *p = (const unsigned char *)(s ? s : "-");
    size_t off = 0;
    int used = 0;
    while (*p) {
        size_t len = *p < 0x80 ? 1 : *p >= 0xf0 ? 4 : *p >= 0xe0 ? 3 : *p >= 0xc0 ? 2 : 1;
        uint32_t cp = len == 1 ? *p : (uint32_t)(*p & (0x7f >> len));
        for (size_t i = 1; i < len; i++) {
            if ((p[i] & 0xc0) != 0x80) { /* not UTF-8 after all: a byte at a time */
                len = 1;
                cp = *p;
                break;
            }
            cp = cp << 6 | (p[i] & 0x3f);
        }
        int w = wide(cp) ? 2 : 1;
        if (used + w > cols || off + len + (size_t)(cols - used) >= n)
            break;
        memcpy(out + off, p, len);
        off += len;
        used += w;
        p += len;
    }
    while (used < cols && off + 1 < n) {
        out[off++] = ' ';
        used++;
    }
    out[off] = '\0';
    return out;
}

void ltcctl_table_row(struct ltcctl_table *t, const char *const *cells)
{
    if (t->n_rows == t->cap) {
        size_t cap = t->cap ? 2 * t->cap : 16;
        char **g = realloc(t->cells, cap * (size_t)t->n_cols * sizeof *g);
        if (!g) {
            fprintf(stderr, "ltcctl: out of memory\n");
            exit(LTCCTL_ERROR);
        }
        t->cells = g;
        t->cap = cap;
    }
    for (int k = 0; k < t->n_cols; k++) {
        char *c = strdup(cells[k] ? cells[k] : "-");
        if (!c) {
            fprintf(stderr, "ltcctl: out of memory\n");
            exit(LTCCTL_ERROR);
        }
        t->cells[t->n_rows * (size_t)t->n_cols + (size_t)k] = c;
    }
    t->n_rows++;
}

void ltcctl_table_print(struct ltcctl_table *t, FILE *f)
{
    size_t width[LTCCTL_TABLE_COLS] = {0};
    for (size_t r = 0; r < t->n_rows; r++)
        for (int k = 0; k < t->n_cols; k++) {
            size_t w = text_width(t->cells[r * (size_t)t->n_cols + (size_t)k]);
            width[k] = w > width[k] ? w : width[k];
        }
    for (size_t r = 0; r < t->n_rows; r++) {
        for (int k = 0; k < t->n_cols; k++) {
            const char *c = t->cells[r * (size_t)t->n_cols + (size_t)k];
            size_t pad = width[k] - text_width(c);
            bool last = k == t->n_cols - 1;
            if (t->align[k] == 'r')
                fprintf(f, "%s%*s%s", k ? "  " : "", (int)pad, "", c);
            else
                fprintf(f, "%s%s%*s", k ? "  " : "", c, last ? 0 : (int)pad, "");
        }
        fputc('\n', f);
    }
    for (size_t i = 0; i < t->n_rows * (size_t)t->n_cols; i++)
        free(t->cells[i]);
    free(t->cells);
    t->cells = NULL;
    t->n_rows = t->cap = 0;
}
