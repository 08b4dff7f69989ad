/* tests/unit/auth_test.c: the tokens file and scope. */
#include "auth.h"
#include "test.h"

static const char tokens[] =
    "# comment\n"
    "\n"
    "t-hq hq admin   # trailing comment\n"
    "t-south region/south reviewer\n"
    "sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
    " office/province-a ar\n";

TEST(parses_plain_and_hashed_tokens)
{
    struct auth_set *s;
    struct err_detail why = {0};
    CHECK(auth_set_parse(tokens, "t", &s, &why) == 0);
    CHECK(auth_set_count(s) == 3);
    const struct auth_principal *p = auth_find(s, "t-hq", 4);
    CHECK(p && p->level == AUTH_LEVEL_HQ && p->role == AUTH_ADMIN);
    p = auth_find(s, "test", 4); /* sha256("test") */
    CHECK(p && !strcmp(p->unit, "office/province-a") && !strcmp(p->unit_id, "province-a"));
    CHECK(auth_find(s, "t-hq ", 5) == NULL);
    CHECK(auth_find(s, "", 0) == NULL);
    auth_set_free(s);
}

TEST(errors_name_file_and_line)
{
    struct auth_set *s;
    struct err_detail why = {0};
    CHECK(auth_set_parse("a hq admin\nb nowhere admin\n", "tok", &s, &why) != 0);
    CHECK_MSG(strstr(why.msg, "tok:2:") != NULL, "%s", why.msg);
    CHECK(auth_set_parse("a hq boss\n", "tok", &s, &why) != 0 && strstr(why.msg, "role"));
    CHECK(auth_set_parse("a hq\n", "tok", &s, &why) != 0);
    CHECK(auth_set_parse("sha256:abc hq admin\n", "tok", &s, &why) != 0);
    CHECK(auth_set_parse("a region/ admin\n", "tok", &s, &why) != 0);
}

TEST(an_optional_person_column)
{
    struct auth_set *s = NULL;
    struct err_detail why = {0};
    CHECK(auth_set_parse("a office/x ar ann\nb hq admin\n", "tok", &s, &why) == 0);
    const struct auth_principal *p = auth_find(s, "a", 1);
    CHECK(p && !strcmp(p->person, "ann"));
    p = auth_find(s, "b", 1);
    CHECK(p && p->person[0] == '\0');
    auth_set_free(s);
    CHECK(auth_set_parse("a hq admin Ann\n", "tok", &s, &why) != 0 && strstr(why.msg, "person"));
    CHECK(auth_set_parse("a hq admin ann extra\n", "tok", &s, &why) != 0);
}

TEST(scope_follows_the_org_tree)
{
    struct auth_set *s;
    struct err_detail why = {0};
    CHECK(auth_set_parse(tokens, "t", &s, &why) == 0);
    const struct auth_principal *hq = auth_find(s, "t-hq", 4);
    const struct auth_principal *south = auth_find(s, "t-south", 7);
    const struct auth_principal *pa = auth_find(s, "test", 4);
    CHECK(auth_sees(hq, "north", "city-c"));
    CHECK(auth_sees(south, "south", "province-b"));
    CHECK(!auth_sees(south, "north", "city-c"));
    CHECK(auth_sees(pa, "south", "province-a"));
    CHECK(!auth_sees(pa, "south", "province-b"));
    auth_set_free(s);
}

TEST(missing_file_is_an_error)
{
    struct auth_set *s;
    struct err_detail why = {0};
    CHECK(auth_set_load("/nonexistent/tokens", &s, &why) == -ERR_IO);
}

/* Thousands of tokens: each found (a binary search over their digests), none
 * of the unknown ones; a token on two lines (plain, or once as its hash) is
 * refused naming both lines. */
TEST(many_tokens_each_found_and_a_token_twice_refused)
{
    enum { N = 3000 };
    char *text = malloc(N * 48 + 64), *o = text;
    CHECK(text != NULL);
    for (int i = 0; i < N; i++)
        o += sprintf(o, "token-%d office/o%d %s\n", i, i % 7, i % 2 ? "ar" : "viewer");
    struct auth_set *s;
    struct err_detail why = {0};
    CHECK(auth_set_parse(text, "t", &s, &why) == 0);
    CHECK(auth_set_count(s) == N);
    for (int i = 0; i < N; i++) {
        char t[32];
        int n = snprintf(t, sizeof t, "token-%d", i);
        const struct auth_principal *p = auth_find(s, t, (size_t)n);
        CHECK_MSG(p && p->line == i + 1 && p->role == (i % 2 ? AUTH_AR : AUTH_VIEWER), "%s", t);
        n = snprintf(t, sizeof t, "token-%d", N + i);
        CHECK(auth_find(s, t, (size_t)n) == NULL);
    }
    CHECK(auth_find(s, "token-17", 8)->level == AUTH_LEVEL_OFFICE);
    auth_set_free(s);
    sprintf(o, "token-17 hq admin\n"); /* again, later: line N + 1 */
    struct auth_set *dup = NULL;
    CHECK(auth_set_parse(text, "t", &dup, &why) == -ERR_USAGE && dup == NULL);
    CHECK_MSG(
        !strcmp(why.msg, "t:3001: the token of line 18 again (each token names one principal)"),
        "%s", why.msg);
    free(text);
    /* The same token once plain, once as its SHA-256. */
    why = (struct err_detail){0};
    CHECK(auth_set_parse("abc hq admin\n"
                         "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad "
                         "hq viewer\n",
                         "t", &dup, &why) == -ERR_USAGE);
    CHECK_MSG(strstr(why.msg, "t:2: the token of line 1 again") != NULL, "%s", why.msg);
    struct auth_set *empty = auth_set_new_empty();
    CHECK(auth_find(empty, "token-1", 7) == NULL);
    auth_set_free(empty);
}

TEST_MAIN(T(parses_plain_and_hashed_tokens), T(errors_name_file_and_line),
          T(many_tokens_each_found_and_a_token_twice_refused), T(an_optional_person_column),
          T(scope_follows_the_org_tree), T(missing_file_is_an_error))
