/* tests/unit/sandbox_test.c: the sandbox against every hostile fixture of
 * tests/fixtures/rules/hostile (SANDBOX.md section 1, and a11- on: one per
 * library function whose work its arguments decide), plus isolation, limits,
 * the audit table and read-only loaded state. A fixture's first line says
 * the outcome: "-- expect: rule_budget". Each is loaded as a rule file; if it
 * returns a function, that is called. A rule_budget fixture is run twice
 * more, its code wrapped to run in the file's top-level chunk (load budget)
 * and inside a call (call budget). Every case must end with its error
 * within twice its wall-clock budget, and another owner's state must keep
 * working. */
#include <dirent.h>
#include <stdbool.h>
#include <time.h>

#include "sandbox.h"
#include "test.h"

#define HOSTILE_DIR "tests/fixtures/rules/hostile"

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    char *buf = malloc(1 << 20);
    *len = fread(buf, 1, 1 << 20, f);
    buf[*len] = '\0';
    fclose(f);
    return buf;
}

/* Load and (if a function) call; returns the error code (0 on success). */
static int run_rule(struct sandbox *sb, const char *src, size_t len, struct err_detail *why)
{
    int rc = sandbox_load(sb, "x.lua", src, len, why);
    if (rc)
        return rc;
    json_t *out = NULL;
    rc = sandbox_call(sb, "x.lua", NULL, NULL, 0, &out, why);
    json_decref(out);
    return rc;
}

static int good_owner_still_works(void)
{
    struct sandbox *sb;
    struct err_detail why = {0};
    if (sandbox_new("region/other", 1, "regions/other/", NULL, &sb, &why))
        return 0;
    const char *src =
        "return function() return { up = ('abc'):upper(), n = #string.rep('x', 3) } end";
    json_t *out = NULL;
    int ok = sandbox_load(sb, "x.lua", src, strlen(src), &why) == 0 &&
             sandbox_call(sb, "x.lua", NULL, NULL, 0, &out, &why) == 0 &&
             !strcmp(json_string_value(json_object_get(out, "up")), "ABC") &&
             json_integer_value(json_object_get(out, "n")) == 3;
    json_decref(out);
    sandbox_free(sb);
    return ok;
}

/* The fixture's code run in the top-level chunk ('at_load') or in a call. */
static char *phase_source(const char *src, bool at_load)
{
    const char *head = at_load ? "local f = (function() " : "return function() local f = (function() ";
    const char *tail = at_load ? "\nend)() if type(f) == 'function' then f() end return {}"
                               : "\nend)() if type(f) == 'function' then return f() end end";
    size_t n = strlen(head) + strlen(src) + strlen(tail) + 1;
    char *out = malloc(n);
    snprintf(out, n, "%s%s%s", head, src, tail);
    return out;
}

/* Run one case; returns 0 when it ended as expected, in time. */
static int run_case(const char *name, const char *phase, const char *src, const char *expect)
{
    struct sandbox *sb;
    struct err_detail why = {0};
    if (sandbox_new("region/hostile", 3, "regions/hostile/", NULL, &sb, &why))
        return -1;
    double t0 = now_ms();
    int rc = sandbox_load(sb, "x.lua", src, strlen(src), &why);
    bool at_load = rc != 0;
    if (!rc) {
        json_t *out = NULL;
        rc = sandbox_call(sb, "x.lua", NULL, NULL, 0, &out, &why);
        json_decref(out);
    }
    double dt = now_ms() - t0;
    sandbox_free(sb);
    printf("# %-34s %-5s %-12s %6.1f ms  %.90s\n", name, phase, err_api_code(rc), dt, why.msg);
    double limit = 2.0 * (at_load ? SANDBOX_LOAD_WALL_MS : SANDBOX_CALL_WALL_MS);
    /* From a11 on, each fixture makes one library function work in C: its
     * guard must charge that work to the instruction budget, so the run ends
     * on the budget, never by the wall clock (which the hook can only read
     * between instructions). */
    bool guarded = name[0] == 'a' && atoi(name + 1) >= 11;
    int bad = rc == 0 || strcmp(err_api_code(rc), expect) ||
              (guarded && strstr(why.msg, "wall-clock")) ||
              !strstr(why.msg, "region/hostile v3") || strlen(why.msg) >= 2 * SANDBOX_ERROR_MAX ||
              (!getenv("LTC_SLOW") && dt >= limit) || (!strcmp(phase, "load") && !at_load) ||
              (!strcmp(phase, "call") && at_load);
    if (bad)
        fprintf(stderr, "# %s (%s): expected %s, got %s in %.1f ms (%s)\n", name, phase, expect,
                err_api_code(rc), dt, why.msg);
    return bad;
}

TEST(every_hostile_fixture_fails_cleanly)
{
    DIR *d = opendir(HOSTILE_DIR);
    CHECK(d != NULL);
    struct dirent *e;
    int cases = 0, budget = 0, failed = 0;
    while ((e = readdir(d))) {
        if (!strstr(e->d_name, ".lua"))
            continue;
        char path[512], expect[64] = "";
        snprintf(path, sizeof path, "%s/%s", HOSTILE_DIR, e->d_name);
        size_t len;
        char *src = slurp(path, &len);
        CHECK(src && sscanf(src, "-- expect: %63s", expect) == 1);
        failed += run_case(e->d_name, "as is", src, expect) != 0;
        if (!strcmp(expect, "rule_budget")) {
            for (int at_load = 1; at_load >= 0; at_load--) {
                char *p = phase_source(src, at_load);
                failed += run_case(e->d_name, at_load ? "load" : "call", p, expect) != 0;
                free(p);
            }
            budget++;
        }
        free(src);
        CHECK(good_owner_still_works());
        cases++;
    }
    closedir(d);
    CHECK_MSG(failed == 0, "%d cases did not end as expected", failed);
    CHECK(cases >= 60);
    CHECK(budget >= 40);
}

TEST(bytecode_is_refused)
{
    struct sandbox *sb;
    struct err_detail why = {0};
    CHECK(sandbox_new("hq", 1, "hq/", NULL, &sb, &why) == 0);
    const char src[] = "\x1bLua\x54\x00";
    CHECK(run_rule(sb, src, sizeof src - 1, &why) == -ERR_RULE_SYNTAX);
    CHECK(strstr(why.msg, "binary"));
    sandbox_free(sb);
}

TEST(oversized_source_is_refused_before_parsing)
{
    struct sandbox *sb;
    struct err_detail why = {0};
    CHECK(sandbox_new("hq", 1, "hq/", NULL, &sb, &why) == 0);
    size_t n = SANDBOX_SOURCE_MAX_BYTES + 1;
    char *src = malloc(n);
    memset(src, ' ', n);
    CHECK(run_rule(sb, src, n, &why) == -ERR_RULE_REJECTED);
    free(src);
    sandbox_free(sb);
}

TEST(deeply_nested_source_is_a_syntax_error)
{
    struct sandbox *sb;
    struct err_detail why = {0};
    CHECK(sandbox_new("hq", 1, "hq/", NULL, &sb, &why) == 0);
    size_t n = 100000;
    char *src = malloc(n + 16);
    memcpy(src, "return ", 7);
    memset(src + 7, '(', n);
    int rc = run_rule(sb, src, n + 7, &why);
    CHECK_MSG(rc == -ERR_RULE_SYNTAX && strstr(why.msg, "overflow"), "%s: %s", err_api_code(rc),
              why.msg);
    free(src);
    sandbox_free(sb);
}

TEST(errors_carry_file_and_line)
{
    struct sandbox *sb;
    struct err_detail why = {0};
    CHECK(sandbox_new("region/south", 7, "regions/south/", NULL, &sb, &why) == 0);
    const char *src = "local x = 1\nreturn function() return nil + 1 end\n";
    CHECK(run_rule(sb, src, strlen(src), &why) == -ERR_RULE_RUNTIME);
    CHECK_MSG(strstr(why.msg, "region/south v7: regions/south/x.lua:2:") == why.msg, "%s", why.msg);
    sandbox_free(sb);
}

TEST(string_metatable_changes_stay_in_their_state)
{
    struct sandbox *a, *b;
    struct err_detail why = {0};
    CHECK(sandbox_new("region/a", 1, "regions/a/", NULL, &a, &why) == 0);
    CHECK(sandbox_new("region/b", 1, "regions/b/", NULL, &b, &why) == 0);
    /* Even through pcall the attack fails, and b is untouched. */
    const char *evil = "return function() return { ok = pcall(function() "
                       "getmetatable('').__index.upper = function() return 'pwned' end end), "
                       "mt = getmetatable('') } end";
    json_t *out = NULL;
    CHECK(sandbox_load(a, "x.lua", evil, strlen(evil), &why) == 0);
    CHECK(sandbox_call(a, "x.lua", NULL, NULL, 0, &out, &why) == 0);
    CHECK(json_is_false(json_object_get(out, "ok")) && json_is_false(json_object_get(out, "mt")));
    json_decref(out);
    const char *probe = "return function() return ('x'):upper() end";
    CHECK(sandbox_load(b, "x.lua", probe, strlen(probe), &why) == 0);
    CHECK(sandbox_call(b, "x.lua", NULL, NULL, 0, &out, &why) == 0);
    CHECK(!strcmp(json_string_value(out), "X"));
    json_decref(out);
    sandbox_free(a);
    sandbox_free(b);
}

TEST(a_killed_run_does_not_poison_the_next_call)
{
    struct sandbox *sb;
    struct err_detail why = {0};
    CHECK(sandbox_new("region/a", 1, "regions/a/", NULL, &sb, &why) == 0);
    const char *src = "return { spin = function() while true do end end, "
                      "add = function(a, b) return a + b end }";
    CHECK(sandbox_load(sb, "x.lua", src, strlen(src), &why) == 0);
    json_t *out = NULL;
    CHECK(sandbox_call(sb, "x.lua", "spin", NULL, 0, &out, &why) == -ERR_RULE_BUDGET);
    json_t *args[2] = {json_integer(2), json_integer(40)};
    CHECK(sandbox_call(sb, "x.lua", "add", args, 2, &out, &why) == 0);
    CHECK(json_integer_value(out) == 42);
    CHECK(sandbox_budget_kills(sb) == 1);
    json_decref(out);
    json_decref(args[0]);
    json_decref(args[1]);
    sandbox_free(sb);
}

TEST(arguments_are_copies)
{
    struct sandbox *sb;
    struct err_detail why = {0};
    CHECK(sandbox_new("hq", 1, "hq/", NULL, &sb, &why) == 0);
    const char *src = "return function(lead) lead.office = 'x' lead.extra = {1, 2} return lead end";
    CHECK(sandbox_load(sb, "x.lua", src, strlen(src), &why) == 0);
    json_t *lead = json_pack("{s:s, s:{s:i}}", "office", "a", "budget", "amount", 5);
    json_t *out = NULL;
    CHECK(sandbox_call(sb, "x.lua", NULL, &lead, 1, &out, &why) == 0);
    CHECK(!strcmp(json_string_value(json_object_get(lead, "office")), "a"));
    CHECK(!strcmp(json_string_value(json_object_get(out, "office")), "x"));
    CHECK(json_array_size(json_object_get(out, "extra")) == 2);
    json_decref(lead);
    json_decref(out);
    sandbox_free(sb);
}

TEST(memory_is_counted_and_capped)
{
    struct sandbox_limits lim = sandbox_default_limits;
    lim.mem_max_bytes = 1 << 20;
    struct sandbox *sb;
    struct err_detail why = {0};
    CHECK(sandbox_new("office/x", 1, "offices/x/", &lim, &sb, &why) == 0);
    size_t base = sandbox_mem_bytes(sb);
    CHECK(base > 0 && base < lim.mem_max_bytes);
    const char *src = "return function() return #string.rep('x', 2 * 1024 * 1024) end";
    CHECK(run_rule(sb, src, strlen(src), &why) == -ERR_RULE_MEMORY);
    CHECK(sandbox_mem_bytes(sb) <= lim.mem_max_bytes);
    sandbox_free(sb);
}

TEST(allowed_globals_match_luacheckrc)
{
    size_t len;
    char *rc = slurp(".luacheckrc", &len);
    CHECK(rc != NULL);
    for (const char *const *g = sandbox_allowed_globals; *g; g++) {
        char quoted[64];
        snprintf(quoted, sizeof quoted, "\"%s\"", *g);
        CHECK_MSG(strstr(rc, quoted) != NULL, "%s missing from .luacheckrc", *g);
    }
    free(rc);
}

struct reached {
    int seen[256]; /* by audit index */
    int missing;
};

static void on_function(void *ud, const char *where, const struct sandbox_audit *a)
{
    struct reached *r = ud;
    if (!a) {
        printf("# not in the audit table: %s\n", where);
        r->missing++;
        return;
    }
    r->seen[a - sandbox_audit]++;
}

/* Every C function a fresh state lets a rule reach (globals, library tables,
 * the string metatable, host.*, a file's _ENV, a frozen table, and what
 * pairs, ipairs, gmatch, utf8.codes and coroutine.wrap hand out) has an
 * entry in sandbox.c's audit table, so a Lua library that grows a function
 * cannot slip it in unbounded; and every entry is reached, so the table
 * does not rot. */
TEST(every_reachable_function_is_audited)
{
    struct sandbox *sb;
    struct err_detail why = {0};
    CHECK(sandbox_new("region/a", 1, "regions/a/", NULL, &sb, &why) == 0);
    struct reached r = {{0}, 0};
    int missing = sandbox_audit_walk(sb, on_function, &r);
    CHECK_MSG(missing == 0 && r.missing == 0, "%d functions without an audit entry", missing);
    int n = 0;
    for (const struct sandbox_audit *a = sandbox_audit; a->name; a++, n++) {
        CHECK(n < 256);
        /* A function left as the library has it must say why that is safe. */
        if (a->kind == SANDBOX_AUDIT_LIBRARY && !a->guard)
            CHECK_MSG(!strncmp(a->bound, "safe: ", 6), "%s: %s", a->name, a->bound);
        if (a->kind == SANDBOX_AUDIT_REMOVED)
            CHECK_MSG(!strncmp(a->bound, "removed: ", 9), "%s: %s", a->name, a->bound);
        if (a->kind == SANDBOX_AUDIT_REMOVED)
            CHECK_MSG(r.seen[n] == 0, "%s is removed but reachable", a->name);
        else
            CHECK_MSG(r.seen[n] > 0, "%s is audited but not reachable", a->name);
    }
    sandbox_free(sb);
}

TEST_MAIN(T(every_hostile_fixture_fails_cleanly), T(bytecode_is_refused),
          T(oversized_source_is_refused_before_parsing), T(deeply_nested_source_is_a_syntax_error),
          T(errors_carry_file_and_line), T(string_metatable_changes_stay_in_their_state),
          T(a_killed_run_does_not_poison_the_next_call), T(arguments_are_copies),
          T(memory_is_counted_and_capped), T(allowed_globals_match_luacheckrc),
          T(every_reachable_function_is_audited))
