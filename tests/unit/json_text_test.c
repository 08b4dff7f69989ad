/* tests/unit/json_text_test.c: json_text writes what json_dumps(JSON_COMPACT
 * | JSON_ENCODE_ANY | JSON_REAL_PRECISION(12)) writes, byte for byte, over
 * edge values and random trees; too deep a value, a non-finite real and
 * NULL give NULL. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "json_text.h"
#include "test.h"

#define FLAGS (JSON_COMPACT | JSON_ENCODE_ANY | JSON_REAL_PRECISION(12))

static uint64_t seed = 0x9e3779b97f4a7c15u;

static uint64_t next(void)
{
    seed ^= seed << 13;
    seed ^= seed >> 7;
    seed ^= seed << 17;
    return seed;
}

/* 1 when json_text(v) is json_dumps(v); prints both otherwise. */
static int same(json_t *v)
{
    char *a = json_text(v), *b = json_dumps(v, FLAGS);
    int ok = a && b && !strcmp(a, b);
    if (!ok)
        fprintf(stderr, "# json_text: %s\n# json_dumps: %s\n", a ? a : "(null)", b ? b : "(null)");
    free(a);
    free(b);
    json_decref(v);
    return ok;
}

static const double reals[] = {0.0,
                               -0.0,
                               1.0,
                               -1.0,
                               0.1,
                               63.6,
                               1e21,
                               1e-7,
                               1.5e300,
                               -2.5e-300,
                               5e-324,
                               1e15,
                               1e16,
                               123456789012.0,
                               1234567890123.0,
                               0.000123456789012345,
                               2.0 / 3.0,
                               1e100,
                               100.0};

TEST(edge_values_are_written_as_jansson_writes_them)
{
    for (size_t i = 0; i < sizeof reals / sizeof *reals; i++)
        CHECK_MSG(same(json_real(reals[i])), "real %g", reals[i]);
    const json_int_t ints[] = {0, 1, -1, 9, 10, INT64_MAX, INT64_MIN, (json_int_t)1 << 53};
    for (size_t i = 0; i < sizeof ints / sizeof *ints; i++)
        CHECK(same(json_integer(ints[i])));
    char all[40];
    for (int c = 1; c < 0x20; c++)
        all[c - 1] = (char)c;
    memcpy(all + 31, "\"\\/\x7f", 4);
    CHECK(same(json_stringn(all, 35)));
    CHECK(same(json_stringn("a\0b", 3)));                    /* an embedded NUL */
    CHECK(same(json_string("线索到回款 \xf0\x9f\x98\x80"))); /* UTF-8 as it is */
    CHECK(
        same(json_pack("{s:[], s:{}, s:[{}], s:n, s:b, s:b}", "a", "b", "c", "d", "e", 1, "f", 0)));
    CHECK(same(json_pack("{s:i}", "key \"quoted\"\n", 1)));
    CHECK(same(json_array()) && same(json_object()) && same(json_string("")));
}

static json_t *random_value(int depth)
{
    unsigned k = (unsigned)(next() % (depth > 6 ? 6 : 8));
    switch (k) {
    case 0:
        return json_integer((json_int_t)next() >> (next() % 64));
    case 1: {
        double d = (double)(int64_t)next() / (double)((next() % 1000000) + 1);
        d = ldexp(d, (int)(next() % 200) - 100);
        return json_real(next() % 5 ? d : reals[next() % (sizeof reals / sizeof *reals)]);
    }
    case 2: {
        char s[16];
        size_t n = next() % sizeof s;
        for (size_t i = 0; i < n; i++) {
            unsigned c = (unsigned)(next() % 100);
            s[i] = c < 32 ? (char)c : c < 40 ? "\"\\/ab\x7f{}"[c - 32] : (char)('a' + c % 26);
        }
        return json_stringn(s, n);
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
            snprintf(key, sizeof key, "%c%u\t", (char)('a' + next() % 26), (unsigned)(next() % 99));
            json_object_set_new(o, key, random_value(depth + 1));
        }
        return o;
    }
    }
}

TEST(random_trees_are_written_as_jansson_writes_them)
{
    for (int i = 0; i < 20000; i++)
        CHECK_MSG(same(random_value(0)), "tree %d", i);
}

TEST(what_cannot_be_written_is_null)
{
    CHECK(json_text(NULL) == NULL);
    json_t *deep = json_array(), *p = deep;
    for (int i = 0; i < JSON_TEXT_MAX_DEPTH; i++) {
        json_t *q = json_array();
        json_array_append_new(p, q);
        p = q;
    }
    CHECK(json_text(deep) == NULL);
    json_decref(deep);
    json_t *ok = json_array(); /* just within */
    p = ok;
    for (int i = 1; i < JSON_TEXT_MAX_DEPTH; i++) {
        json_t *q = json_array();
        json_array_append_new(p, q);
        p = q;
    }
    char *t = json_text(ok);
    CHECK(t && strlen(t) == 2 * JSON_TEXT_MAX_DEPTH);
    free(t);
    json_decref(ok);
    struct buf b = {0};
    buf_str(&b, "kept");
    json_t *inf = json_pack("[f]", INFINITY);
    CHECK(!inf || (json_text_put(&b, inf) == -1 && !strcmp(b.p, "kept")));
    json_decref(inf);
    buf_deinit(&b);
}

TEST_MAIN(T(edge_values_are_written_as_jansson_writes_them),
          T(random_trees_are_written_as_jansson_writes_them), T(what_cannot_be_written_is_null))
