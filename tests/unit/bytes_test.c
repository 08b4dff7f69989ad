/* tests/unit/bytes_test.c: bytes that must round-trip through the rules
 * pipeline (hardening issue, class 3) and the rules tree on disk (class 9):
 * sources are valid UTF-8 without NUL within the size limit on every way in,
 * stored versions are checked against their hash whenever they are loaded,
 * text from rules comes out valid UTF-8, and links in the tree are refused
 * without quoting anything of their target. */
#include <sys/stat.h>
#include <unistd.h>

#include "rules.h"
#include "test.h"
#include "tree.h"

static struct store *st;

static void write_tree(void)
{
    /* One tree per run (tests run one after another, each in a child). */
    snprintf(root, sizeof root, "/tmp/ltcd-bytes-test-%d", getppid());
    snprintf(dbpath, sizeof dbpath, "%s.db", root);
    SH("rm -rf %s %s.db* %s.secret %s.outside %s.link", root, root, root, root, root);
    put("hq/org.lua", "return { regions = { south = { offices = { 'pa' } } } }");
    put("hq/bounds.lua",
        "return { thresholds = { mature_budget = { min = 0, max = 1000000, integer = true },"
        " horizon_months = { min = 1, max = 36, integer = true }, hot = { min = 50, max = 95 },"
        " warm = { min = 20, max = 80 } }, authority = {}, share = {} }");
    put("hq/lead.lua",
        "return { evaluate = function(lead, t) return { score = 50, fit = true, risk_ok = true,"
        " reasons = {} } end,"
        " thresholds = { mature_budget = 1000, horizon_months = 12, hot = 80, warm = 40 } }");
    put("hq/process.lua", "return { stages = { 'lead' }, credit_limit = 1, act = function() end }");
    put("hq/share.lua", "return { split = function() return {} end }");
}

static struct rules *open_rules(struct err_detail *why)
{
    struct rules *r = NULL;
    if (!st && store_open(dbpath, false, &st, why))
        return NULL;
    if (rules_open(st, root, true, &r, why))
        return NULL;
    return r;
}

static const char *last_error(struct rules *r, const char *owner)
{
    static char msg[600];
    json_t *s = rules_status_json(r);
    size_t i;
    json_t *o;
    msg[0] = '\0';
    json_array_foreach(json_object_get(s, "owners"), i, o)
    {
        const char *m =
            json_string_value(json_object_get(json_object_get(o, "last_error"), "message"));
        if (!strcmp(json_string_value(json_object_get(o, "owner")), owner) && m)
            snprintf(msg, sizeof msg, "%s", m);
    }
    json_decref(s);
    return msg;
}

static int put_file(struct rules *r, const char *file, const char *src, size_t len,
                    struct err_detail *why)
{
    struct rules_result res;
    return rules_put_file(r, "region/south", file, src, len, "t", &res, why);
}

TEST(a_nul_or_bad_utf8_in_a_put_source_is_refused_by_offset)
{
    write_tree();
    struct err_detail why = {0};
    struct rules *r = open_rules(&why);
    CHECK(r != NULL);
    CHECK(put_file(r, "thresholds.lua", "return {}\0x", 11, &why) == -ERR_RULE_SOURCE);
    CHECK_MSG(strstr(why.msg, "region/south v1: regions/south/thresholds.lua: byte offset 9: a "
                              "NUL byte"),
              "%s", why.msg);
    CHECK(!strcmp(why.field, "thresholds.lua"));
    CHECK(!strcmp(err_api_code(why.code), "rule_error") && err_http_status(why.code) == 422);
    CHECK(strstr(last_error(r, "region/south"), "byte offset 9"));
    CHECK(put_file(r, "thresholds.lua", "return {} -- \xC3", 14, &why) == -ERR_RULE_SOURCE);
    CHECK_MSG(strstr(why.msg, "byte offset 13: not valid UTF-8 (0xc3)"), "%s", why.msg);
    CHECK(rules_active(r, "region/south") == NULL);
    /* Nothing was stored, and the numbers the refusals cited (v1, v2) are
     * not given to other content (issue 11): the good version is v3. */
    CHECK(put_file(r, "thresholds.lua", "return { hot = 60 } -- \xE4\xB8\xAD", 26, &why) == 0);
    CHECK(rules_active(r, "region/south")->version == 3);
    rules_close(r);
}

TEST(a_source_over_the_limit_is_refused_naming_the_limit)
{
    write_tree();
    struct err_detail why = {0};
    struct rules *r = open_rules(&why);
    CHECK(r != NULL);
    size_t n = SANDBOX_SOURCE_MAX_BYTES + 1;
    char *big = malloc(n);
    memset(big, ' ', n);
    memcpy(big, "return {}", 9);
    CHECK(put_file(r, "thresholds.lua", big, n, &why) == -ERR_RULE_SOURCE);
    CHECK_MSG(strstr(why.msg, "262145 bytes, over the 262144-byte (256 KiB) limit"), "%s", why.msg);
    CHECK(put_file(r, "thresholds.lua", big, n - 1, &why) == 0); /* exactly the limit is fine */
    free(big);
    rules_close(r);
}

TEST(a_nul_in_a_submitted_bundle_is_refused)
{
    write_tree();
    struct err_detail why = {0};
    struct rules *r = open_rules(&why);
    CHECK(r != NULL);
    json_t *files = json_pack("{s:s%}", "thresholds.lua", "return {}\0", (size_t)10);
    struct rules_result res;
    CHECK(rules_submit(r, "region/south", files, "api", "t", &res, &why) == -ERR_RULE_SOURCE);
    CHECK_MSG(strstr(why.msg, "regions/south/thresholds.lua: byte offset 9: a NUL byte"), "%s",
              why.msg);
    json_decref(files);
    rules_close(r);
}

TEST(the_tree_on_disk_is_checked_by_offset_and_check_rules_prints_it)
{
    write_tree();
    put_bytes("regions/south/thresholds.lua", "return { hot = 60 }\0", 20);
    struct err_detail why = {0};
    struct rules *r = open_rules(&why);
    CHECK(r != NULL);
    CHECK(rules_active(r, "region/south") == NULL);
    CHECK_MSG(strstr(last_error(r, "region/south"),
                     "region/south v1: regions/south/thresholds.lua: byte offset 19: a NUL byte"),
              "%s", last_error(r, "region/south"));
    CHECK(rules_check_tree(root) == 1);
    put_bytes("regions/south/thresholds.lua", "return { hot = 60 }", 19);
    CHECK(rules_sync_disk(r, "t") == 0);
    CHECK(rules_active(r, "region/south")->version == 2); /* v1 named the refusal */
    CHECK(rules_check_tree(root) == 0);
    rules_close(r);
}

/* Replace 'from' by 'to' in the stored files of OWNER vVERSION, as someone
 * editing the database with sqlite3 would. */
static void tamper(const char *owner, int version, const char *from, const char *to)
{
    char cmd[900];
    store_close(st);
    st = NULL;
    snprintf(cmd, sizeof cmd,
             "sqlite3 %s \"UPDATE rule_versions SET files = replace(files, '%s', '%s') WHERE "
             "owner = '%s' AND version = %d\"",
             dbpath, from, to, owner, version);
    if (system(cmd))
        abort();
}

TEST(a_tampered_active_version_stops_start_up_naming_owner_and_version)
{
    write_tree();
    struct err_detail why = {0};
    struct rules *r = open_rules(&why);
    CHECK(r != NULL);
    CHECK(put_file(r, "thresholds.lua", "return { hot = 60 }", 19, &why) == 0);
    rules_close(r);
    tamper("region/south", 1, "hot = 60", "hot = 90");
    r = open_rules(&why);
    CHECK(r == NULL);
    CHECK(why.code == -ERR_STORE);
    CHECK_MSG(strstr(why.msg, "region/south v1: the stored sources do not match") &&
                  !strchr(why.msg, '\n'),
              "%s", why.msg);
    /* Sources that do not even parse back stop it the same way. */
    tamper("region/south", 1, "{", "");
    CHECK(open_rules(&why) == NULL && why.code == -ERR_STORE);
    CHECK_MSG(strstr(why.msg, "region/south v1: the stored sources cannot be read back"), "%s",
              why.msg);
}

TEST(a_tampered_version_is_never_approved_or_rolled_back_to)
{
    write_tree();
    struct err_detail why = {0};
    struct rules *r = open_rules(&why);
    CHECK(r != NULL);
    CHECK(put_file(r, "thresholds.lua", "return { hot = 60 }", 19, &why) == 0);
    CHECK(put_file(r, "thresholds.lua", "return { hot = 70 }", 19, &why) == 0);
    rules_close(r);
    tamper("region/south", 1, "hot = 60", "hot = 95");
    r = open_rules(&why);
    CHECK(r && rules_active(r, "region/south")->version == 2);
    struct rules_result res;
    CHECK(rules_rollback(r, "region/south", "t", &res, &why) == -ERR_STORE);
    CHECK_MSG(strstr(why.msg, "region/south v1: the stored sources do not match"), "%s", why.msg);
    CHECK(rules_active(r, "region/south")->version == 2);
    rules_close(r);
}

TEST(text_from_rules_reaches_json_as_valid_utf8)
{
    struct sandbox *sb;
    struct err_detail why = {0};
    CHECK(sandbox_new("region/x", 1, "regions/x/", NULL, &sb, &why) == 0);
    const char *src = "return function() error('bad \\255 byte') end";
    CHECK(sandbox_load(sb, "a.lua", src, strlen(src), &why) == 0);
    json_t *out = NULL;
    CHECK(sandbox_call(sb, "a.lua", NULL, NULL, 0, &out, &why) == -ERR_RULE_RUNTIME);
    json_t *m = json_string(why.msg);
    CHECK_MSG(m != NULL, "%s", why.msg);
    CHECK(strstr(why.msg, "bad \xEF\xBF\xBD byte"));
    json_decref(m);
    /* A NUL inside a key is refused, not cut to "source". */
    src = "return { defaults = { ['source\\0x'] = 'marketing' } }";
    CHECK(sandbox_load(sb, "b.lua", src, strlen(src), &why) == 0);
    CHECK(sandbox_call(sb, "b.lua", NULL, NULL, 0, &out, &why) == -ERR_RULE_OUTPUT);
    CHECK_MSG(strstr(why.msg, "key with a NUL byte"), "%s", why.msg);
    sandbox_free(sb);
}

/* --- links in the tree (class 9) --------------------------------------------- */

#define SECRET "TOPSECRET-4f2a"

/* A file outside the tree whose content a Lua error would quote. */
static void write_secret(char *path, size_t n)
{
    snprintf(path, n, "%s.secret", root);
    FILE *f = fopen(path, "w");
    fputs("return { " SECRET " }\n", f);
    fclose(f);
}

TEST(a_symlinked_file_is_refused_without_quoting_its_target)
{
    write_tree();
    char secret[300], link[400];
    write_secret(secret, sizeof secret);
    snprintf(link, sizeof link, "%s/regions/south/thresholds.lua", root);
    SH("mkdir -p %s/regions/south", root);
    CHECK(symlink(secret, link) == 0);
    struct err_detail why = {0};
    struct rules *r = open_rules(&why);
    CHECK(r != NULL);
    CHECK(rules_active(r, "region/south") == NULL);
    const char *e = last_error(r, "region/south");
    CHECK_MSG(strstr(e, "regions/south/thresholds.lua: a symbolic link; links are refused"), "%s",
              e);
    CHECK(!strstr(e, SECRET) && !strstr(e, ".secret"));
    CHECK(rules_check_tree(root) == 1);
    rules_close(r);
}

TEST(a_symlinked_directory_and_a_fifo_are_refused)
{
    write_tree();
    char secret[300], dir[400], link[400];
    write_secret(secret, sizeof secret);
    snprintf(dir, sizeof dir, "%s.outside", root);
    SH("mkdir -p %s.outside && cp %s.secret %s.outside/thresholds.lua", root, root, root);
    snprintf(link, sizeof link, "%s/regions/south", root);
    SH("mkdir -p %s/regions", root);
    CHECK(symlink(dir, link) == 0);
    snprintf(link, sizeof link, "%s/offices/pa/tools.lua", root);
    SH("mkdir -p %s/offices/pa", root);
    CHECK(mkfifo(link, 0600) == 0);
    struct err_detail why = {0};
    struct rules *r = open_rules(&why); /* a FIFO would block here if it were opened */
    CHECK(r != NULL);
    CHECK(rules_active(r, "region/south") == NULL);
    const char *e = last_error(r, "region/south");
    CHECK_MSG(strstr(e, "regions/south: a symbolic link"), "%s", e);
    CHECK(!strstr(e, SECRET) && !strstr(e, ".outside"));
    e = last_error(r, "office/pa");
    CHECK_MSG(strstr(e, "offices/pa/tools.lua: not a regular file"), "%s", e);
    rules_close(r);
}

TEST(a_linked_rules_root_is_followed)
{
    write_tree();
    char link[300];
    snprintf(link, sizeof link, "%s.link", root);
    unlink(link);
    CHECK(symlink(root, link) == 0);
    CHECK(rules_check_tree(link) == 0);
    unlink(link);
}

TEST_MAIN(T(a_nul_or_bad_utf8_in_a_put_source_is_refused_by_offset),
          T(a_source_over_the_limit_is_refused_naming_the_limit),
          T(a_nul_in_a_submitted_bundle_is_refused),
          T(the_tree_on_disk_is_checked_by_offset_and_check_rules_prints_it),
          T(a_tampered_active_version_stops_start_up_naming_owner_and_version),
          T(a_tampered_version_is_never_approved_or_rolled_back_to),
          T(text_from_rules_reaches_json_as_valid_utf8),
          T(a_symlinked_file_is_refused_without_quoting_its_target),
          T(a_symlinked_directory_and_a_fifo_are_refused), T(a_linked_rules_root_is_followed))
