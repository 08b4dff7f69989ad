/* engine/json_read.c: JSON text read as jansson reads it, a run at a time
 * (see json_read.h). */
#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "json_read.h"
#include "utf8.h"

struct reader {
    const unsigned char *p, *end, *start;
    bool no_duplicates; /* JSON_REJECT_DUPLICATES */
    struct buf scratch; /* a string with escapes, decoded */
};

static void skip_space(struct reader *r)
{
    while (r->p < r->end && (*r->p == ' ' || *r->p == '\n' || *r->p == '\r' || *r->p == '\t'))
        r->p++;
}

static bool is_digit(const unsigned char *p, const unsigned char *end)
{
    return p < end && *p >= '0' && *p <= '9';
}

static json_t *read_number(struct reader *r)
{
    const unsigned char *p = r->p, *end = r->end;
    bool real = false;
    if (p < end && *p == '-')
        p++;
    if (!is_digit(p, end))
        return NULL;
    if (*p == '0') {
        if (is_digit(++p, end))
            return NULL;
    } else {
        while (is_digit(p, end))
            p++;
    }
    if (p < end && *p == '.') {
        real = true;
        if (!is_digit(++p, end))
            return NULL;
        while (is_digit(p, end))
            p++;
    }
    if (p < end && (*p == 'e' || *p == 'E')) {
        real = true;
        p++;
        if (p < end && (*p == '+' || *p == '-'))
            p++;
        if (!is_digit(p, end))
            return NULL;
        while (is_digit(p, end))
            p++;
    }
    char small[64], *text = small;
    size_t n = (size_t)(p - r->p);
    if (n >= sizeof small && !(text = malloc(n + 1)))
        return NULL;
    memcpy(text, r->p, n);
    text[n] = '\0';
    errno = 0;
    json_t *v = NULL;
    if (real) {
        double d = strtod(text, NULL);
        if (!((d == HUGE_VAL || d == -HUGE_VAL) && errno == ERANGE))
            v = json_real(d);
    } else {
        long long i = strtoll(text, NULL, 10);
        if (errno != ERANGE)
            v = json_integer((json_int_t)i);
    }
    if (text != small)
        free(text);
    if (v)
        r->p = p;
    return v;
}

static int hex4(const unsigned char *p, const unsigned char *end)
{
    if (end - p < 4)
        return -1;
    int v = 0;
    for (int i = 0; i < 4; i++) {
        int c = p[i], d = c >= '0' && c <= '9'   ? c - '0'
                          : c >= 'a' && c <= 'f' ? c - 'a' + 10
                          : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                                 : -1;
        if (d < 0)
            return -1;
        v = v * 16 + d;
    }
    return v;
}

static bool scratch_put(struct reader *r, const void *s, size_t n)
{
    buf_put(&r->scratch, s, n);
    return !r->scratch.failed;
}

/* One escape after its backslash, appended to the scratch as UTF-8. */
static bool read_escape(struct reader *r)
{
    static const char from[] = "\"\\/bfnrt", to[] = "\"\\/\b\f\n\r\t";
    if (r->p >= r->end)
        return false;
    unsigned char c = *r->p++;
    const char *k = c != 'u' ? strchr(from, c) : NULL;
    if (k && c)
        return scratch_put(r, &to[k - from], 1);
    if (c != 'u')
        return false;
    int32_t u = hex4(r->p, r->end);
    if (u < 0)
        return false;
    r->p += 4;
    if (u >= 0xDC00 && u <= 0xDFFF)
        return false;
    if (u >= 0xD800 && u <= 0xDBFF) {
        int lo =
            r->end - r->p >= 2 && r->p[0] == '\\' && r->p[1] == 'u' ? hex4(r->p + 2, r->end) : -1;
        if (lo < 0xDC00 || lo > 0xDFFF)
            return false;
        r->p += 6;
        u = 0x10000 + ((u - 0xD800) << 10) + (lo - 0xDC00);
    }
    if (u == 0)
        return false;
    unsigned char out[4];
    size_t n;
    if (u < 0x80) {
        out[0] = (unsigned char)u;
        n = 1;
    } else if (u < 0x800) {
        out[0] = (unsigned char)(0xC0 | u >> 6);
        out[1] = (unsigned char)(0x80 | (u & 0x3F));
        n = 2;
    } else if (u < 0x10000) {
        out[0] = (unsigned char)(0xE0 | u >> 12);
        out[1] = (unsigned char)(0x80 | (u >> 6 & 0x3F));
        out[2] = (unsigned char)(0x80 | (u & 0x3F));
        n = 3;
    } else {
        out[0] = (unsigned char)(0xF0 | u >> 18);
        out[1] = (unsigned char)(0x80 | (u >> 12 & 0x3F));
        out[2] = (unsigned char)(0x80 | (u >> 6 & 0x3F));
        out[3] = (unsigned char)(0x80 | (u & 0x3F));
        n = 4;
    }
    return scratch_put(r, out, n);
}

/* A string after its opening quote: *s and *n its bytes (in the input when
 * it has no escape, else in the scratch), the reader past its closing quote. */
static bool read_string(struct reader *r, const char **s, size_t *n)
{
    bool escaped = false;
    r->scratch.len = 0;
    for (;;) {
        const unsigned char *run = r->p;
        bool wide = false;
        while (r->p < r->end && *r->p != '"' && *r->p != '\\' && *r->p >= 0x20)
            wide |= *r->p++ >= 0x80;
        size_t rn = (size_t)(r->p - run);
        if (wide && utf8_bad_offset((const char *)run, rn, false) != rn)
            return false;
        if (r->p >= r->end || *r->p < 0x20)
            return false;
        if (*r->p == '"' && !escaped) {
            *s = (const char *)run;
            *n = rn;
            r->p++;
            return true;
        }
        if (!scratch_put(r, run, rn))
            return false;
        escaped = true;
        if (*r->p++ == '"') {
            *s = r->scratch.p;
            *n = r->scratch.len;
            return true;
        }
        if (!read_escape(r))
            return false;
    }
}

static json_t *read_value(struct reader *r, int depth);

/* After an item of an array or an object: 1 past a comma (another item
 * follows), 0 past 'close', -1 for anything else. */
static int after_item(struct reader *r, char close)
{
    skip_space(r);
    if (r->p < r->end && (*r->p == ',' || *r->p == close))
        return *r->p++ == ',' ? 1 : 0;
    return -1;
}

static json_t *read_array(struct reader *r, int depth)
{
    json_t *a = json_array();
    skip_space(r);
    if (r->p < r->end && *r->p == ']') {
        r->p++;
        return a;
    }
    while (a) {
        json_t *v = read_value(r, depth + 1);
        if (!v || json_array_append_new(a, v))
            break;
        int more = after_item(r, ']');
        if (!more)
            return a;
        if (more < 0)
            break;
    }
    json_decref(a);
    return NULL;
}

static json_t *read_object(struct reader *r, int depth)
{
    json_t *o = json_object();
    skip_space(r);
    if (r->p < r->end && *r->p == '}') {
        r->p++;
        return o;
    }
    while (o) {
        const char *key;
        size_t kn;
        skip_space(r);
        if (r->p >= r->end || *r->p != '"')
            break;
        r->p++;
        if (!read_string(r, &key, &kn))
            break;
        /* The key outlives the scratch's next use: a value may reuse it. */
        char small[64], *k = kn < sizeof small ? small : malloc(kn + 1);
        if (!k)
            break;
        memcpy(k, key, kn);
        k[kn] = '\0';
        skip_space(r);
        json_t *v = NULL;
        if (r->p < r->end && *r->p == ':') {
            r->p++;
            v = read_value(r, depth + 1);
        }
        if (v && r->no_duplicates && json_object_getn(o, k, kn)) {
            json_decref(v);
            v = NULL;
        }
        int bad = !v || json_object_setn_new_nocheck(o, k, kn, v);
        if (k != small)
            free(k);
        if (bad)
            break;
        int more = after_item(r, '}');
        if (!more)
            return o;
        if (more < 0)
            break;
    }
    json_decref(o);
    return NULL;
}

static bool literal(struct reader *r, const char *word, size_t n)
{
    if ((size_t)(r->end - r->p) < n || memcmp(r->p, word, n))
        return false;
    /* jansson reads a run of letters as one word: "truex" is no "true". */
    const unsigned char *q = r->p + n;
    if (q < r->end && ((*q >= 'a' && *q <= 'z') || (*q >= 'A' && *q <= 'Z')))
        return false;
    r->p = q;
    return true;
}

static json_t *read_value(struct reader *r, int depth)
{
    if (depth > JSON_READ_MAX_DEPTH)
        return NULL;
    skip_space(r);
    if (r->p >= r->end)
        return NULL;
    switch (*r->p) {
    case '{':
        r->p++;
        return read_object(r, depth);
    case '[':
        r->p++;
        return read_array(r, depth);
    case '"': {
        const char *s;
        size_t n;
        r->p++;
        return read_string(r, &s, &n) ? json_stringn_nocheck(s, n) : NULL;
    }
    case 't':
        return literal(r, "true", 4) ? json_true() : NULL;
    case 'f':
        return literal(r, "false", 5) ? json_false() : NULL;
    case 'n':
        return literal(r, "null", 4) ? json_null() : NULL;
    default:
        return read_number(r);
    }
}

json_t *json_read(const char *text, size_t len, size_t flags, size_t *bad_at)
{
    if (!text) {
        if (bad_at)
            *bad_at = 0;
        return NULL;
    }
    struct reader r = {.p = (const unsigned char *)text,
                       .end = (const unsigned char *)text + len,
                       .start = (const unsigned char *)text,
                       .no_duplicates = flags & JSON_REJECT_DUPLICATES};
    json_t *v = NULL;
    skip_space(&r);
    if (r.p < r.end && ((flags & JSON_DECODE_ANY) || *r.p == '{' || *r.p == '['))
        v = read_value(&r, 1);
    if (v)
        skip_space(&r);
    if (v && r.p != r.end) {
        json_decref(v);
        v = NULL;
    }
    if (!v && bad_at)
        *bad_at = (size_t)(r.p - r.start);
    buf_deinit(&r.scratch);
    return v;
}

json_t *json_read_str(const char *text, size_t flags)
{
    return text ? json_read(text, strlen(text), flags, NULL) : NULL;
}
