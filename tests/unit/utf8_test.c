/* tests/unit/utf8_test.c: UTF-8 checks and cleaning, and that every message
 * made by err_set is valid UTF-8 whatever it quotes. */
#include "err.h"
#include "test.h"
#include "utf8.h"

static int valid(const char *s)
{
    json_t *j = json_string(s); /* jansson's own check, the one JSON output needs */
    json_decref(j);
    return j != NULL;
}

TEST(bad_offset_finds_the_first_bad_byte)
{
    CHECK(utf8_bad_offset("abc", 3, false) == 3);
    CHECK(utf8_bad_offset("a\0c", 3, true) == 3);
    CHECK(utf8_bad_offset("a\0c", 3, false) == 1);
    CHECK(utf8_bad_offset("\xE4\xB8\xAD\xFF", 4, false) == 3); /* 中, then 0xFF */
    CHECK(utf8_bad_offset("ab\xE4\xB8", 4, false) == 2);       /* cut short */
    CHECK(utf8_bad_offset("\xC0\xAF", 2, false) == 0);         /* overlong '/' */
    CHECK(utf8_bad_offset("\xE0\x80\xAF", 3, false) == 0);     /* overlong */
    CHECK(utf8_bad_offset("x\xED\xA0\x80", 4, false) == 1);    /* a surrogate */
    CHECK(utf8_bad_offset("\xF4\x90\x80\x80", 4, false) == 0); /* above U+10FFFF */
    CHECK(utf8_bad_offset("\xF0\x9F\x98\x80", 4, false) == 4); /* an emoji */
    CHECK(utf8_bad_offset("\xEF\xBF\xBD", 3, false) == 3);     /* U+FFFD itself */
    CHECK(utf8_bad_offset("\x80", 1, false) == 0);             /* a lone continuation */
}

TEST(clean_replaces_bad_bytes_and_nul_and_cuts_on_a_boundary)
{
    char out[64];
    CHECK(utf8_clean(out, sizeof out,
                     "a\xFF"
                     "b",
                     3) == 5);
    CHECK(!strcmp(out, "a\xEF\xBF\xBD"
                       "b"));
    CHECK(utf8_clean(out, sizeof out, "a\0b", 3) == 5 && !strcmp(out, "a\xEF\xBF\xBD"
                                                                      "b"));
    /* 中 is 3 bytes: a 5-byte buffer holds one and the NUL, never half of the second. */
    CHECK(utf8_clean(out, 5, "\xE4\xB8\xAD\xE4\xB8\xAD", 6) == 3 && valid(out));
    CHECK(utf8_clean(out, 1, "abc", 3) == 0 && out[0] == '\0');
    /* Already clean text is unchanged. */
    CHECK(utf8_clean(out, sizeof out, "plain \xE4\xB8\xAD", 9) == 9 &&
          !strcmp(out, "plain \xE4\xB8\xAD"));
}

TEST(clean_inplace_and_json_never_fail_on_bad_text)
{
    char s[8] = "ab\xFF\xFE\xFD"; /* three bad bytes would need 9 + 2 bytes */
    utf8_clean_inplace(s, sizeof s);
    CHECK(valid(s) && !strncmp(s, "ab\xEF\xBF\xBD", 5));
    json_t *j = utf8_json("x\xC3(y");
    CHECK(j && !strcmp(json_string_value(j), "x\xEF\xBF\xBD(y"));
    json_decref(j);
}

TEST(err_set_messages_are_always_valid_utf8)
{
    struct err_detail why;
    err_field(&why, -ERR_RULE_RUNTIME, "k\xFF", "boom: %s", "\xE9t\xE9");
    CHECK(valid(why.msg) && valid(why.field));
    CHECK(strstr(why.msg, "boom: \xEF\xBF\xBDt\xEF\xBF\xBD"));
    /* A cut inside a multi-byte character (%.4s of 中中) never leaves half of it. */
    err_set(&why, -ERR_RULE_RUNTIME, "%.4s", "\xE4\xB8\xAD\xE4\xB8\xAD");
    CHECK(valid(why.msg) && !strncmp(why.msg, "\xE4\xB8\xAD", 3));
    /* A message longer than the buffer is cut on a character boundary. */
    char big[2000];
    for (size_t i = 0; i + 3 < sizeof big; i += 3)
        memcpy(big + i, "\xE4\xB8\xAD", 3);
    big[sizeof big - 2] = '\0';
    err_set(&why, -ERR_RULE_RUNTIME, "x%s", big);
    CHECK(valid(why.msg));
}

TEST_MAIN(T(bad_offset_finds_the_first_bad_byte),
          T(clean_replaces_bad_bytes_and_nul_and_cuts_on_a_boundary),
          T(clean_inplace_and_json_never_fail_on_bad_text),
          T(err_set_messages_are_always_valid_utf8))
