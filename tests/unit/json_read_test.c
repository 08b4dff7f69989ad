/* tests/unit/json_read_test.c: json_read takes what json_loadb takes and
 * gives the same values (the same text back through json_text, keys in the
 * same order, reals to the bit), and refuses what it refuses: over edge
 * cases, random trees, and those trees' texts cut, flipped and spliced. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "json_read.h"
#include "json_text.h"
#include "test.h"

static uint64_t seed = 0x2545f4914f6cdd1du;

static uint64_t next(void)
{
    seed ^= seed << 13;
    seed ^= seed >> 7;
    seed ^= seed << 17;
    return seed;
}

/* Reals compared to the bit, which json_equal (==) and %.12g text do not. */
static bool same_tree(const json_t *a, const json_t *b)
{
    if (json_typeof(a) != json_typeof(b))
        return false;
    if (json_is_real(a)) {
        double x = json_real_value(a), y = json_real_value(b);
        return !memcmp(&x, &y, sizeof x);
    }
    if (json_is_array(a)) {
        if (json_array_size(a) != json_array_size(b))
            return false;
        for (size_t i = 0; i < json_array_size(a); i++)
            if (!same_tree(json_array_get(a, i), json_array_get(b, i)))
                return false;
        return true;
    }
    if (json_is_object(a)) {
        if (json_object_size(a) != json_object_size(b))
            return false;
        const char *k;
        json_t *v;
        json_object_foreach((json_t *)a, k, v)
        {
            if (!same_tree(v, json_object_get(b, k)))
                return false;
        }
    }
    return json_equal(a, b);
}

/* 1 when json_read and json_loadb agree on text[0..n) under 'flags'. */
static int agree(const char *text, size_t n, size_t flags)
{
    json_error_t e;
    json_t *a = json_read(text, n, flags, NULL), *b = json_loadb(text, n, flags, &e);
    int ok = !a == !b || (!a && memchr(text, 0, n)); /* json_read.h: NUL */
    if (ok && a) {
        char *ta = json_text(a), *tb = json_text(b);
        ok = ta && tb && !strcmp(ta, tb) && same_tree(a, b);
        free(ta);
        free(tb);
    }
    if (!ok)
        fprintf(stderr, "# json_read %s, json_loadb %s (%s): %.*s\n", a ? "took" : "refused",
                b ? "took" : "refused", b ? "" : e.text, (int)(n > 200 ? 200 : n), text);
    json_decref(a);
    json_decref(b);
    return ok;
}

static int agree_str(const char *text)
{
    size_t n = strlen(text);
    return agree(text, n, 0) & agree(text, n, JSON_DECODE_ANY) &
           agree(text, n, JSON_REJECT_DUPLICATES) &
           agree(text, n, JSON_DECODE_ANY | JSON_REJECT_DUPLICATES);
}

static const char *const texts_of_edges[] = {
    "{}",
    "[]",
    " [ ] ",
    "\t{\r\n}\n",
    "",
    " ",
    "[",
    "]",
    "{",
    "[1,]",
    "[,1]",
    "[1 2]",
    "{\"a\"}",
    "{\"a\":}",
    "{\"a\":1,}",
    "{,}",
    "{\"a\" : 1 , \"b\" :2}",
    "{1:2}",
    "{'a':1}",
    "[1]x",
    "[1] [2]",
    "1",
    "-1",
    "\"s\"",
    "true",
    "null",
    "false",
    "tru",
    "truex",
    "[truex]",
    "[true1]",
    "[nul]",
    "[NULL]",
    "[True]",
    "[0]",
    "[-0]",
    "[00]",
    "[01]",
    "[-01]",
    "[-]",
    "[+1]",
    "[1.]",
    "[.5]",
    "[1.5]",
    "[1e5]",
    "[1E+5]",
    "[1e-5]",
    "[1e]",
    "[1e+]",
    "[1.5e3x]",
    "[-0.0]",
    "[0e0]",
    "[9223372036854775807]",
    "[9223372036854775808]",
    "[-9223372036854775808]",
    "[-9223372036854775809]",
    "[99999999999999999999999]",
    "[1e308]",
    "[1e309]",
    "[-1e400]",
    "[1e-400]",
    "[4.9e-324]",
    "[2.2250738585072014e-308]",
    "[0.1]",
    "[123456789012345678901234.5]",
    "[1.7976931348623157e308]",
    "[\"\"]",
    "[\"a\\\"b\"]",
    "[\"\\\\\\/\\b\\f\\n\\r\\t\"]",
    "[\"\\x\"]",
    "[\"\\u0041\"]",
    "[\"\\u00e9\\u4e2d\"]",
    "[\"\\uD83D\\uDE00\"]",
    "[\"\\ud83d\\ude00\"]",
    "[\"\\uD83D\"]",
    "[\"\\uDE00\"]",
    "[\"\\uD83Dx\"]",
    "[\"\\uD83D\\u0041\"]",
    "[\"\\u0000\"]",
    "[\"\\u12\"]",
    "[\"\\u12g4\"]",
    "[\"\\",
    "[\"abc",
    "[\"a\tb\"]",
    "[\"a\x7f\"]",
    "[\"\xc3\xa9\"]",
    "[\"\xe4\xb8\xad\xe6\x96\x87\"]",
    "[\"\xf0\x9f\x98\x80\"]",
    "[\"\xc3\"]",
    "[\"\xc0\x80\"]",
    "[\"\xc1\xbf\"]",
    "[\"\xe0\x80\x80\"]",
    "[\"\xed\xa0\x80\"]",
    "[\"\xf4\x90\x80\x80\"]",
    "[\"\xf5\x80\x80\x80\"]",
    "[\"\x80\"]",
    "[\"\xff\"]",
    "\xef\xbb\xbf[]",
    "[\xc3\xa9]",
    "{\"a\":1,\"a\":2}",
    "{\"b\":1,\"a\":2,\"b\":3}",
    "{\"\":0}",
    "[{\"a\":1},{\"a\":2}]",
    "{\"a\":{\"a\":1}}",
    "{\"a\":1,\"b\":{\"a\":1,\"a\":2}}",
    "{\"a\\u0062\":1,\"ab\":2}",
    "{\"a\\u0062\":1}",
    "{\"\\uD83D\\uDE00\":[{}]}",
    "[[[[[[[[[[]]]]]]]]]]",
    "[{\"a\":[{\"b\":[null,true,false,-1.25e-3,\"x\"]}]}]",
};

TEST(edge_cases_are_read_as_jansson_reads_them)
{
    for (size_t i = 0; i < sizeof texts_of_edges / sizeof *texts_of_edges; i++)
        CHECK_MSG(agree_str(texts_of_edges[i]), "case %zu", i);
    CHECK(agree("[\"a\0b\"]", 7, 0));     /* a raw NUL in a string */
    CHECK(agree("[1]\0", 4, 0));          /* after the value */
    CHECK(agree("[\"\\u0000\"]", 10, 0)); /* escaped */
    CHECK(json_read(NULL, 0, 0, NULL) == NULL);
}

TEST(depth_is_counted_as_jansson_counts_it)
{
    static char text[2 * JSON_READ_MAX_DEPTH + 8];
    for (int depth = JSON_READ_MAX_DEPTH - 1; depth <= JSON_READ_MAX_DEPTH + 1; depth++) {
        size_t n = 0;
        for (int i = 0; i < depth; i++)
            text[n++] = '[';
        for (int i = 0; i < depth; i++)
            text[n++] = ']';
        CHECK_MSG(agree(text, n, 0), "%d arrays", depth);
        /* one value more inside */
        memmove(text + depth + 1, text + depth, (size_t)depth);
        text[depth] = '1';
        CHECK_MSG(agree(text, n + 1, 0), "%d arrays around a number", depth);
    }
    size_t bad = 0;
    memset(text, '[', JSON_READ_MAX_DEPTH + 1);
    CHECK(json_read(text, JSON_READ_MAX_DEPTH + 1, 0, &bad) == NULL);
}

static json_t *random_value(int depth)
{
    unsigned k = (unsigned)(next() % (depth > 5 ? 6 : 8));
    switch (k) {
    case 0:
        return json_integer((json_int_t)next() >> (next() % 64));
    case 1:
        return json_real(ldexp((double)(int64_t)next() / (double)((next() % 1000000) + 1),
                               (int)(next() % 400) - 200));
    case 2: {
        static const char *const bits[] = {"a",
                                           "\"",
                                           "\\",
                                           "/",
                                           "\t",
                                           "\x01",
                                           "\x7f",
                                           "\xc3\xa9",
                                           "\xe4\xb8\xad",
                                           "\xf0\x9f\x98\x80",
                                           " "};
        char s[64] = "";
        for (int i = (int)(next() % 8); i > 0; i--)
            strcat(s, bits[next() % (sizeof bits / sizeof *bits)]);
        return json_string(s);
    }
    case 3:
        return json_true();
    case 4:
        return json_false();
    case 5:
        return json_null();
    case 6: {
        json_t *a = json_array();
        for (int i = (int)(next() % 5); i > 0; i--)
            json_array_append_new(a, random_value(depth + 1));
        return a;
    }
    default: {
        json_t *o = json_object();
        for (int i = (int)(next() % 5); i > 0; i--) {
            char key[12];
            snprintf(key, sizeof key, "%c%u", (char)('a' + next() % 26), (unsigned)(next() % 9));
            json_object_set_new(o, key, random_value(depth + 1));
        }
        return o;
    }
    }
}

/* What a mutation puts in: bytes that change a text's meaning. */
static const char splice[] = "\"\\{}[],:0123456789-+.eEtrufalsn \t\n\x01\x80\xc3\xe4\xf0\xff";

TEST(random_texts_and_their_mutations_are_read_as_jansson_reads_them)
{
    int texts = 0;
    for (int i = 0; i < 4000; i++) {
        json_t *v = random_value(0);
        if (!json_is_array(v) && !json_is_object(v)) {
            json_t *a = json_array();
            json_array_append_new(a, v);
            v = a;
        }
        char *t = json_dumps(v, JSON_COMPACT | (next() % 2 ? 0 : JSON_ENSURE_ASCII));
        json_decref(v);
        if (!t)
            continue;
        size_t n = strlen(t);
        CHECK_MSG(agree(t, n, 0), "text %d", i);
        texts++;
        for (int m = 0; m < 8 && n; m++) {
            char *c = malloc(n + 2);
            memcpy(c, t, n);
            size_t at = next() % n, len = n;
            switch (next() % 3) {
            case 0: /* a byte changed */
                c[at] = splice[next() % (sizeof splice - 1)];
                break;
            case 1: /* cut short */
                len = at;
                break;
            default: /* a byte put in */
                memmove(c + at + 1, c + at, n - at);
                c[at] = splice[next() % (sizeof splice - 1)];
                len = n + 1;
            }
            CHECK_MSG(agree(c, len, m % 2 ? JSON_DECODE_ANY : JSON_REJECT_DUPLICATES),
                      "text %d, mutation %d", i, m);
            free(c);
        }
        free(t);
    }
    CHECK(texts > 3900);
}

TEST(where_it_stopped_is_said)
{
    size_t at = 99;
    CHECK(json_read("[1, 2, x]", 9, 0, &at) == NULL && at == 7);
    CHECK(json_read("[1] 2", 5, 0, &at) == NULL && at == 4);
    json_t *v = json_read_str("{\"id\":7,\"doc\":{\"a\":[1.5,\"\\u00e9\"]}}", 0);
    CHECK(v && json_integer_value(json_object_get(v, "id")) == 7);
    CHECK(!strcmp(
        json_string_value(json_array_get(json_object_get(json_object_get(v, "doc"), "a"), 1)),
        "\xc3\xa9"));
    json_decref(v);
    CHECK(json_read_str(NULL, 0) == NULL);
}

TEST_MAIN(T(edge_cases_are_read_as_jansson_reads_them), T(depth_is_counted_as_jansson_counts_it),
          T(random_texts_and_their_mutations_are_read_as_jansson_reads_them),
          T(where_it_stopped_is_said))
