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

#include <lauxlib.h>
#include <lualib.h>

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
    const char *head =
        at_load ? "local f = (function() " : "return function() local f = (function() ";
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
              (guarded && strstr(why.msg, "wall-clock")) || !strstr(why.msg, "region/hostile v3") ||
              strlen(why.msg) >= 2 * SANDBOX_ERROR_MAX || (!getenv("LTC_SLOW") && dt >= limit) ||
              (!strcmp(phase, "load") && !at_load) || (!strcmp(phase, "call") && at_load);
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

/* A job's copy of the rules moves the deadline (rules_snapshot_open): the
 * call that ran out of time under the loop's runs to its end, and the
 * instruction budget still holds it. */
TEST(a_call_deadline_can_be_moved)
{
    struct sandbox_limits slow = sandbox_default_limits;
    slow.call_instructions = 4000000000u;
    slow.call_wall_ms = 5;
    struct sandbox *sb;
    struct err_detail why = {0};
    CHECK(sandbox_new("hq", 1, "", &slow, &sb, &why) == 0);
    const char *src = "return { long = function() local t = 0 "
                      "for i = 1, 30000000 do t = t + i end return t end, "
                      "spin = function() while true do end end }";
    CHECK(sandbox_load(sb, "x.lua", src, strlen(src), &why) == 0);
    json_t *out = NULL;
    CHECK(sandbox_call(sb, "x.lua", "long", NULL, 0, &out, &why) == -ERR_RULE_BUDGET);
    CHECK_MSG(strstr(why.msg, "wall-clock") != NULL, "%s", why.msg);
    CHECK(sandbox_call_wall_ms(sb) == 5);
    sandbox_set_call_wall_ms(sb, 600000);
    CHECK(sandbox_call_wall_ms(sb) == 600000);
    CHECK(sandbox_call(sb, "x.lua", "long", NULL, 0, &out, &why) == 0);
    CHECK(json_integer_value(out) == (json_int_t)30000000 * 30000001 / 2);
    json_decref(out);
    sandbox_free(sb);

    CHECK(sandbox_new("hq", 1, "", NULL, &sb, &why) == 0);
    CHECK(sandbox_load(sb, "x.lua", src, strlen(src), &why) == 0);
    sandbox_set_call_wall_ms(sb, 600000);
    CHECK(sandbox_call(sb, "x.lua", "spin", NULL, 0, &out, &why) == -ERR_RULE_BUDGET);
    CHECK_MSG(strstr(why.msg, "wall-clock") == NULL, "%s", why.msg);
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

/* Load 'src' into a fresh state and call it (or its 'member') once with the
 * integer 'arg'; *out gets the result. Returns the error code. */
static int call_once(struct sandbox *sb, const char *member, long long arg, json_t **out,
                     struct err_detail *why)
{
    json_t *a = json_integer(arg);
    int rc = sandbox_call(sb, "x.lua", member, &a, 1, out, why);
    json_decref(a);
    return rc;
}

static struct sandbox *loaded(const char *src)
{
    struct sandbox *sb;
    struct err_detail why = {0};
    if (sandbox_new("region/a", 1, "regions/a/", NULL, &sb, &why))
        return NULL;
    if (sandbox_load(sb, "x.lua", src, strlen(src), &why)) {
        fprintf(stderr, "# load: %s\n", why.msg);
        sandbox_free(sb);
        return NULL;
    }
    return sb;
}

/* CONTRACT 8.2: a call cannot change what the file loaded. A table it
 * reaches is read-only (rule_error naming the change); a local it assigns
 * (a counter) is put back after the call, so the next call starts again. */
TEST(module_tables_cannot_be_changed_by_a_call)
{
    static const char *const cases[] = {
        /* the example */
        "local seen = {} return function(lead) seen[#seen + 1] = 1 return { hot = #seen } end",
        /* a table reached through another function's upvalue */
        "local T = { x = 1 } local function bump() T.x = T.x + 1 end "
        "return function() bump() return T.x end",
        /* a table in the file's export */
        "local M = { cache = {} } function M.f(k) M.cache[k] = true return 1 end "
        "return function(k) return M.f(k) end",
        /* library functions that write, and setmetatable */
        "local L = { 3, 1, 2 } return function() table.sort(L) return L end",
        "local L = { 1 } return function() table.insert(L, 2) return L end",
        "local L = { 1 } return function() table.remove(L) return L end",
        "local L = {} return function() setmetatable(L, {}) return 1 end",
        /* a metatable of the loaded state */
        "local mt = { __index = {} } local o = setmetatable({}, mt) "
        "return function() getmetatable(o).__index.x = 1 return 1 end",
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        struct sandbox *sb = loaded(cases[i]);
        CHECK(sb != NULL);
        for (int round = 0; round < 2; round++) {
            json_t *out = NULL;
            struct err_detail why = {0};
            int rc = call_once(sb, NULL, 7, &out, &why);
            json_decref(out);
            CHECK_MSG(rc == -ERR_RULE_RUNTIME && strstr(why.msg, "loaded state") &&
                          strstr(why.msg, "regions/a/x.lua:"),
                      "case %zu: %s (%s)", i, err_api_code(rc), why.msg);
        }
        sandbox_free(sb);
    }
}

TEST(locals_a_call_assigns_are_back_for_the_next_call)
{
    static const char *const cases[] = {
        "local n = 0 return function(x) n = n + 1 return n * x end",
        "local cache return function(x) cache = cache or {} cache[#cache + 1] = x "
        "return #cache * x end",
        "local T = { 1 } return function(x) T = { x } T[2] = x return #T * x / 2 end",
        /* a shared upvalue, assigned through another closure */
        "local n = 1 local function inc() n = n * 2 end "
        "return { f = function(x) inc() inc() return n * x / 4 end }",
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        struct sandbox *sb = loaded(cases[i]);
        CHECK(sb != NULL);
        const char *member = strstr(cases[i], "{ f =") ? "f" : NULL;
        for (int round = 0; round < 3; round++) {
            json_t *out = NULL;
            struct err_detail why = {0};
            CHECK_MSG(call_once(sb, member, 7, &out, &why) == 0, "case %zu: %s", i, why.msg);
            CHECK_MSG(json_number_value(out) == 7, "case %zu round %d: %g", i, round,
                      json_number_value(out));
            json_decref(out);
        }
        sandbox_free(sb);
    }
}

/* Freezing keeps every way of reading: fields, #, ipairs, pairs and next
 * (in the same order as before), rawget, rawlen, metatables with __index,
 * __call, __tostring and __eq, and the export's fields for the host. */
TEST(frozen_state_reads_as_before)
{
    const char *src =
        "local Base = {} Base.__index = Base "
        "function Base.area(o) return o.w * o.h end "
        "local mt = { __index = Base, __call = function(o, k) return o.w * k end, "
        "  __tostring = function() return 'box' end, __eq = function() return true end } "
        "local box = setmetatable({ w = 2, h = 3 }, mt) "
        "local other = setmetatable({ w = 9, h = 9 }, mt) "
        "local list = { 'a', 'b', 'c', n = 3 } "
        "local order = {} for k in pairs(list) do order[#order + 1] = tostring(k) end "
        "return { f = function() "
        "  local seen = {} for k in pairs(list) do seen[#seen + 1] = tostring(k) end "
        "  local ip = 0 for _, v in ipairs(list) do ip = ip + #v end "
        "  return { area = box:area(), called = box(5), name = tostring(box), eq = box == other, "
        "    len = #list, ip = ip, raw = rawget(list, 2), rawlen = rawlen(list), "
        "    mt = getmetatable(box) == mt, next = next(list) ~= nil, "
        "    order = table.concat(seen, ',') == table.concat(order, ','), "
        "    joined = table.concat(list, '-'), unpacked = select('#', table.unpack(list)) } "
        "end, data = { 1, 2, { x = 'y' } } }";
    struct sandbox *sb = loaded(src);
    CHECK(sb != NULL);
    json_t *out = NULL;
    struct err_detail why = {0};
    CHECK_MSG(sandbox_call(sb, "x.lua", "f", NULL, 0, &out, &why) == 0, "%s", why.msg);
    char *text = json_dumps(out, JSON_COMPACT | JSON_SORT_KEYS);
    CHECK_MSG(!strcmp(text, "{\"area\":6,\"called\":10,\"eq\":true,\"ip\":3,\"joined\":\"a-b-c\","
                            "\"len\":3,\"mt\":true,\"name\":\"box\",\"next\":true,\"order\":true,"
                            "\"raw\":\"b\",\"rawlen\":3,\"unpacked\":3}"),
              "%s", text);
    free(text);
    json_decref(out);
    CHECK(sandbox_kind(sb, "x.lua", "f") == SANDBOX_FUNCTION);
    CHECK(sandbox_call(sb, "x.lua", "data", NULL, 0, &out, &why) == 0);
    text = json_dumps(out, JSON_COMPACT);
    CHECK_MSG(!strcmp(text, "[1,2,{\"x\":\"y\"}]"), "%s", text);
    free(text);
    json_decref(out);
    sandbox_free(sb);
}

/* A call's output is measured as compact JSON while it is converted: a
 * result of exactly SANDBOX_OUTPUT_MAX_BYTES passes, one byte more is a
 * rule_error naming owner, file and the limit. The values around the pad
 * cover jansson's escapes, numbers and nesting, so the count is exact. */
TEST(output_is_capped_at_64_kib_of_json)
{
    const char *src =
        "return function(pad) return { v = { 'q\"b\\\\s\\n\\t\\1\\127', 'caf\\195\\169', -12345, "
        "0.1, 1e300, -2.5e-7, 3.0, true, false, {}, { {}, { a = {} } }, { k = 'v' } }, "
        "pad = ('x'):rep(pad) } end";
    struct sandbox *sb = loaded(src);
    CHECK(sb != NULL);
    json_t *out = NULL;
    struct err_detail why = {0};
    CHECK_MSG(call_once(sb, NULL, 0, &out, &why) == 0, "%s", why.msg);
    char *text = json_dumps(out, JSON_COMPACT);
    long long pad = (long long)SANDBOX_OUTPUT_MAX_BYTES - (long long)strlen(text);
    free(text);
    json_decref(out);
    CHECK_MSG(call_once(sb, NULL, pad, &out, &why) == 0, "%s", why.msg);
    text = json_dumps(out, JSON_COMPACT);
    CHECK_MSG(strlen(text) == SANDBOX_OUTPUT_MAX_BYTES, "%zu", strlen(text));
    free(text);
    json_decref(out);
    out = NULL;
    CHECK(call_once(sb, NULL, pad + 1, &out, &why) == -ERR_RULE_RUNTIME && out == NULL);
    CHECK_MSG(strstr(why.msg, "region/a v1: regions/a/x.lua") && strstr(why.msg, "65536"), "%s",
              why.msg);
    sandbox_free(sb);
}

/* The case: an office checklist returning megabytes, refused
 * without converting it all (the count stops at the limit). */
TEST(a_huge_checklist_is_refused)
{
    struct sandbox *sb;
    struct err_detail why = {0};
    CHECK(sandbox_new("office/province-a", 4, "offices/province-a/", NULL, &sb, &why) == 0);
    const char *src = "return { checklist = function(stage, instance) local t = {} "
                      "for i = 1, 90000 do t[i] = 'item ' .. i end return t end }";
    CHECK(sandbox_load(sb, "tools.lua", src, strlen(src), &why) == 0);
    json_t *out = NULL;
    CHECK(sandbox_call(sb, "tools.lua", "checklist", NULL, 0, &out, &why) == -ERR_RULE_RUNTIME);
    CHECK(out == NULL);
    CHECK_MSG(strstr(why.msg, "office/province-a v4: offices/province-a/tools.lua: checklist") &&
                  strstr(why.msg, "65536-byte limit"),
              "%s", why.msg);
    CHECK(!strcmp(err_api_code(-ERR_RULE_RUNTIME), "rule_error"));
    sandbox_free(sb);
}

/* The guarded pattern functions (gmatch rebuilt on find, searches tried one
 * position at a time when the budget is short, match through find) answer
 * exactly as Lua's own: the same script runs in a sandbox and in a plain
 * state, and their transcripts must be equal. */
static const char pattern_script[] =
    "local out = {}\n"
    "local function put(...) local n = select('#', ...) local t = {} "
    "  for i = 1, n do t[i] = tostring((select(i, ...))) end "
    "  out[#out + 1] = (table.concat(t, ',')):gsub('[^ -~]', function(c) return '\\\\' .. c:byte() "
    "end) end\n"
    "local function try(name, f, ...) "
    "  local r = table.pack(pcall(f, ...)) "
    "  if not r[1] then put(name, 'error', (tostring(r[2]):gsub('^.-:%d+: ', ''))) "
    "  else put(name, table.unpack(r, 2, r.n)) end end\n"
    "local function each(s, p, init) local t = {} "
    "  for a, b in string.gmatch(s, p, init) do t[#t + 1] = tostring(a) .. '/' .. tostring(b) end "
    "  return table.concat(t, ' ') end\n"
    "local long = ('ab'):rep(1000)\n"
    "local cases = {\n"
    "  { 'hello world from lua', '%a+' }, { 'a=1, b=22, c=', '(%w+)=(%w*)' }, { 'abc', '' },\n"
    "  { 'axxbxx', 'x*' }, { '^a^b', '^.' }, { 'one two three', '%a+', 5 }, { 'banana', '()a' },\n"
    "  { 'banana', 'a', -3 }, { 'f(a(b)c)d', '%b()' }, { 'THE (quick) fox', '%f[%a]%a+' },\n"
    "  { 'xyzzy aa bb', '(%a)%1' }, { 'h\\195\\169llo', utf8.charpattern }, { 'aaa', 'a-' },\n"
    "  { 'key = value ; k2=v2', '(%w+)%s*=%s*(%w+)' }, { long, 'a.-b' }, { '', 'x*' },\n"
    "  { 'a.b.c', '.', 9 }, { 'a]b', '[]]' }, { 'a-b', '[%-]' }, { '12ab', '[^%d]+' },\n"
    "  { 'a(b', '(' }, { 'ab', '%' }, { 'ab', '[a' }, { 'x%y', '%%' }, { 'aXb', '%u?b' },\n"
    "}\n"
    "for _, c in ipairs(cases) do\n"
    "  local s, p, init = c[1], c[2], c[3]\n"
    "  put('case', s, p, init)\n"
    "  try('gmatch', each, s, p, init) try('find', s.find, s, p, init)\n"
    "  try('plain', s.find, s, p, init, true) try('match', s.match, s, p, init)\n"
    "  try('gsub', s.gsub, s, p, '<%0>') try('gsub1', s.gsub, s, p, '%%', 1)\n"
    "  try('anch', s.find, s, '^' .. p, init) try('manch', s.match, s, '^' .. p, init)\n"
    "end\n"
    "put('init', ('abc'):find('', 4)) put('past', ('abc'):find('', 5)) put('neg', "
    "('abc'):find('c', -10))\n"
    "put('tbl', ('hello world'):gsub('%w+', { hello = 'HI', world = false }))\n"
    "put('fn', ('a1b2'):gsub('%d', function(d) return d * 2 end))\n"
    "put('fnil', ('a1b2'):gsub('%a', function() end))\n"
    "put('caps', ('abc'):gsub('(a)(b)', '%2%1'))\n"
    "put('pos', ('hello'):match('()ll()'))\n"
    "put('dollar', ('a$b'):find('$b'), ('ab'):find('b$'))\n"
    "put('long', long:find('a.-b', 3), long:match('(b.-a)'))\n"
    "try('badrepl', string.gsub, 'x', 'x', '%2') try('badtype', string.gsub, 'x', 'x', true)\n"
    "try('noarg', string.find) try('badinit', string.find, 'x', 'x', 'y')\n"
    "return table.concat(out, '\\n')\n";

/* Run 'script' in a plain state and in a sandbox with 'limits' (NULL: the
 * defaults); 0 when both give the same string. */
static int same_as_lua(const char *script, const struct sandbox_limits *limits)
{
    lua_State *L = luaL_newstate();
    luaL_openlibs(L);
    if (luaL_dostring(L, script) != LUA_OK) {
        fprintf(stderr, "# plain lua: %s\n", lua_tostring(L, -1));
        lua_close(L);
        return -1;
    }
    const char *want = lua_tostring(L, -1);
    struct sandbox *sb;
    struct err_detail why = {0};
    size_t n = strlen(script) + 64;
    char *src = malloc(n);
    snprintf(src, n, "return function() %s end", script);
    json_t *out = NULL;
    int rc = sandbox_new("region/a", 1, "regions/a/", limits, &sb, &why) ||
             sandbox_load(sb, "x.lua", src, strlen(src), &why) ||
             sandbox_call(sb, "x.lua", NULL, NULL, 0, &out, &why);
    const char *got = json_string_value(out);
    size_t i = 0;
    while (got && want[i] && want[i] == got[i])
        i++;
    if (rc || !got || want[i] || got[i]) {
        fprintf(stderr,
                "# %s\n# first difference at byte %zu:\n# lua:     %.160s\n# sandbox: %.160s\n",
                rc ? why.msg : "", i, want + (i > 60 ? i - 60 : 0),
                got ? got + (i > 60 ? i - 60 : 0) : "(none)");
        rc = -1;
    }
    json_decref(out);
    free(src);
    sandbox_free(sb);
    lua_close(L);
    return rc;
}

TEST(pattern_functions_answer_as_lua_does)
{
    struct sandbox_limits big = sandbox_default_limits;
    big.call_instructions = 1000000000;
    big.call_wall_ms = 20000;
    CHECK(same_as_lua(pattern_script, &big) == 0);
    /* With the default budget these searches cannot afford their bound, so
     * they go one position at a time; the answers are the same. */
    CHECK(same_as_lua("local long = ('ab'):rep(1000) "
                      "local a, b = long:find('a.-b', 3) local m = long:match('(b.-a)') "
                      "local n = 0 for w in long:sub(1, 40):gmatch('a.-b') do n = n + #w end "
                      "return table.concat({ a, b, m, n, long:find('(b)a', 1000) }, ',')",
                      NULL) == 0);
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
/* Read-only views (sandbox_call_viewing): a view reads as the copy would,
 * refuses writes at every level, converts back whole when returned, and a
 * view's levels are charged only when read. */
TEST(views_read_as_copies_and_refuse_writes)
{
    const char *src =
        "return { read = function(stage, doc) "
        "  local keys = {} for k in pairs(doc) do keys[#keys + 1] = k end table.sort(keys) "
        "  local sum = 0 for i, v in ipairs(doc.list) do sum = sum + v end "
        "  return { stage = stage, keys = table.concat(keys, ','), sum = sum, n = #doc.list, "
        "    deep = doc.nested.a.b, type = type(doc), raw = rawget(doc, 'name'), "
        "    next = next(doc.nested) ~= nil, mt = getmetatable(doc), joined = "
        "    table.concat(doc.list, '-'), missing = doc.nope == nil, same = doc.nested == "
        "doc.nested } end, "
        "  write = function(stage, doc) doc.name = 'x' end, "
        "  deep_write = function(stage, doc) doc.nested.a.b = 1 end, "
        "  insert = function(stage, doc) table.insert(doc.list, 4) end, "
        "  setmt = function(stage, doc) setmetatable(doc, {}) end, "
        "  back = function(stage, doc) return { all = doc, part = doc.nested } end }";
    struct sandbox *sb;
    struct err_detail why = {0};
    CHECK(sandbox_new("region/a", 1, "regions/a/", NULL, &sb, &why) == 0);
    CHECK(sandbox_load(sb, "x.lua", src, strlen(src), &why) == 0);
    json_t *doc = json_pack("{s:s, s:[i,i,i], s:{s:{s:s}}}", "name", "n", "list", 1, 2, 3, "nested",
                            "a", "b", "c");
    json_t *stage = json_string("lead"), *args[2] = {stage, doc}, *out = NULL;
    CHECK_MSG(sandbox_call_viewing(sb, "x.lua", "read", args, 2, 1u << 1, &out, &why) == 0, "%s",
              why.msg);
    char *text = json_dumps(out, JSON_COMPACT | JSON_SORT_KEYS);
    CHECK_MSG(!strcmp(text, "{\"deep\":\"c\",\"joined\":\"1-2-3\",\"keys\":\"list,name,nested\","
                            "\"missing\":true,\"n\":3,\"next\":true,\"raw\":\"n\","
                            "\"same\":true,\"stage\":\"lead\",\"sum\":6,\"type\":\"table\"}"),
              "%s", text);
    free(text);
    json_decref(out);
    const char *writes[] = {"write", "deep_write", "insert", "setmt"};
    for (size_t i = 0; i < 4; i++) {
        out = NULL;
        CHECK(sandbox_call_viewing(sb, "x.lua", writes[i], args, 2, 1u << 1, &out, &why) != 0);
        CHECK_MSG(strstr(why.msg, "read-only") != NULL, "%s: %s", writes[i], why.msg);
        json_decref(out);
    }
    out = NULL;
    CHECK(sandbox_call_viewing(sb, "x.lua", "back", args, 2, 1u << 1, &out, &why) == 0);
    CHECK(json_equal(json_object_get(out, "all"), doc));
    CHECK(json_equal(json_object_get(out, "part"), json_object_get(doc, "nested")));
    json_decref(out);
    /* The argument itself is untouched. */
    CHECK(!strcmp(json_string_value(json_object_get(doc, "name")), "n"));
    json_decref(stage);
    json_decref(doc);
    sandbox_free(sb);
}

TEST(a_view_is_charged_only_for_what_is_read)
{
    const char *src = "return { none = function(doc) return 1 end, "
                      "  all = function(doc) local n = 0 for _ in pairs(doc.big) do n = n + 1 end "
                      "  return n end }";
    struct sandbox_limits lim = sandbox_default_limits;
    lim.call_instructions = 20000; /* far fewer than the entries */
    struct sandbox *sb;
    struct err_detail why = {0};
    CHECK(sandbox_new("region/a", 1, "regions/a/", &lim, &sb, &why) == 0);
    CHECK(sandbox_load(sb, "x.lua", src, strlen(src), &why) == 0);
    json_t *big = json_array();
    for (int i = 0; i < 200000; i++)
        json_array_append_new(big, json_integer(i));
    json_t *doc = json_pack("{s:o}", "big", big), *out = NULL;
    CHECK_MSG(sandbox_call_viewing(sb, "x.lua", "none", &doc, 1, 1u, &out, &why) == 0, "%s",
              why.msg);
    CHECK(json_integer_value(out) == 1);
    json_decref(out);
    out = NULL;
    CHECK(sandbox_call_viewing(sb, "x.lua", "all", &doc, 1, 1u, &out, &why) == -ERR_RULE_BUDGET);
    json_decref(out);
    json_decref(doc);
    sandbox_free(sb);
}

/* jansson's allocations while a call runs, to see what a failed call leaves. */
static long json_live;

static void *count_malloc(size_t n)
{
    json_live++;
    return malloc(n);
}

static void count_free(void *p)
{
    if (p)
        json_live--;
    free(p);
}

/* A view returned whole is converted as the call ends, one level at a time
 * and charged: when the budget or the memory runs out half-way, the JSON
 * built so far is freed, not leaked. */
TEST(a_returned_view_that_runs_out_of_budget_leaves_nothing)
{
    const char *src = "return { back = function(doc) return doc end }";
    struct sandbox_limits lim = sandbox_default_limits;
    lim.call_instructions = 20000;
    struct sandbox *sb;
    struct err_detail why = {0};
    CHECK(sandbox_new("region/a", 1, "regions/a/", &lim, &sb, &why) == 0);
    CHECK(sandbox_load(sb, "x.lua", src, strlen(src), &why) == 0);
    json_t *big = json_array();
    for (int i = 0; i < 100000; i++)
        json_array_append_new(big, json_integer(i));
    json_t *doc = json_pack("{s:i, s:{s:s, s:o}}", "first", 1, "a", "name", "x", "big", big);
    json_t *out = NULL;
    json_live = 0;
    json_set_alloc_funcs(count_malloc, count_free);
    int rc = sandbox_call_viewing(sb, "x.lua", "back", &doc, 1, 1u, &out, &why);
    json_decref(out);
    long left = json_live;
    json_set_alloc_funcs(malloc, free);
    CHECK_MSG(rc == -ERR_RULE_BUDGET, "%d %s", rc, why.msg);
    CHECK_MSG(left == 0, "%ld jansson allocations left by the failed call", left);
    json_decref(doc);
    sandbox_free(sb);
}

/* What a rule sees of a view and of the copy it replaced is the same:
 * getmetatable answers nil for both. */
TEST(a_view_answers_getmetatable_as_a_copy)
{
    const char *src = "return { mt = function(doc) "
                      "  return { top = getmetatable(doc) == nil, "
                      "    after = (doc.a and getmetatable(doc) == nil), "
                      "    child = getmetatable(doc.a) == nil } end }";
    struct sandbox *sb = loaded(src);
    CHECK(sb != NULL);
    json_t *doc = json_pack("{s:{s:i}}", "a", "b", 1);
    struct err_detail why = {0};
    for (unsigned views = 0; views < 2; views++) {
        json_t *out = NULL;
        CHECK_MSG(sandbox_call_viewing(sb, "x.lua", "mt", &doc, 1, views, &out, &why) == 0, "%s",
                  why.msg);
        char *text = json_dumps(out, JSON_COMPACT | JSON_SORT_KEYS);
        CHECK_MSG(!strcmp(text, "{\"after\":true,\"child\":true,\"top\":true}"), "views %u: %s",
                  views, text);
        free(text);
        json_decref(out);
    }
    json_decref(doc);
    sandbox_free(sb);
}

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
          T(a_killed_run_does_not_poison_the_next_call), T(a_call_deadline_can_be_moved),
          T(arguments_are_copies), T(memory_is_counted_and_capped),
          T(allowed_globals_match_luacheckrc), T(every_reachable_function_is_audited),
          T(module_tables_cannot_be_changed_by_a_call),
          T(locals_a_call_assigns_are_back_for_the_next_call), T(frozen_state_reads_as_before),
          T(output_is_capped_at_64_kib_of_json), T(a_huge_checklist_is_refused),
          T(pattern_functions_answer_as_lua_does), T(views_read_as_copies_and_refuse_writes),
          T(a_view_is_charged_only_for_what_is_read),
          T(a_returned_view_that_runs_out_of_budget_leaves_nothing),
          T(a_view_answers_getmetatable_as_a_copy))
