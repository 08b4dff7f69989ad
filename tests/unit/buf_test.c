/* tests/unit/buf_test.c: the growable buffer and the error table. */
#include <jansson.h>

#include "buf.h"
#include "err.h"
#include "test.h"

TEST(grows_and_hands_over)
{
    struct buf b = {0};
    for (int i = 0; i < 10000; i++)
        buf_printf(&b, "%d,", i);
    size_t len;
    char *s = buf_take(&b, &len);
    CHECK(s && len == strlen(s) && !strncmp(s, "0,1,2,", 6) && strstr(s, ",9999,"));
    CHECK(b.p == NULL && b.len == 0);
    free(s);
    s = buf_take(&b, &len); /* an empty buffer is the empty string */
    CHECK(s && len == 0 && s[0] == '\0');
    free(s);
}

TEST(json_strings_are_escaped_and_parse_back)
{
    const char *in = "quote \" backslash \\ newline \n tab \t bell \a 中文";
    struct buf b = {0};
    buf_json_string(&b, in);
    json_error_t err;
    json_t *v = json_loads(b.p, JSON_DECODE_ANY, &err);
    CHECK_MSG(v && !strcmp(json_string_value(v), in), "%s", b.p);
    json_decref(v);
    buf_deinit(&b);
}

TEST(every_error_code_has_a_status_and_a_name)
{
    for (int c = 1; c < ERR__COUNT; c++) {
        CHECK(err_http_status(-c) >= 400 && err_http_status(-c) < 600);
        CHECK(err_api_code(-c)[0] && err_str(-c)[0]);
    }
    CHECK(err_http_status(-ERR_KCP) == 422 && !strcmp(err_api_code(-ERR_KCP), "kcp_failed"));
    CHECK(err_http_status(-9999) == 500);
    struct err_detail why;
    CHECK(err_field(&why, -ERR_INVALID_FIELD, "office", "%s: bad", "office") == -ERR_INVALID_FIELD);
    CHECK(!strcmp(why.field, "office") && !strcmp(why.msg, "office: bad"));
}

TEST_MAIN(T(grows_and_hands_over), T(json_strings_are_escaped_and_parse_back),
          T(every_error_code_has_a_status_and_a_name))
