/* engine/sandbox.c: the Lua sandbox. See sandbox.h for the promises. */
#include "sandbox.h"

#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "log.h"

#define HOOK_EVERY 1000 /* instructions between budget checks */

const struct sandbox_limits sandbox_default_limits = {
    .mem_max_bytes = SANDBOX_MEM_MAX_BYTES,
    .call_instructions = SANDBOX_CALL_INSTRUCTIONS,
    .call_wall_ms = SANDBOX_CALL_WALL_MS,
    .load_instructions = SANDBOX_LOAD_INSTRUCTIONS,
    .load_wall_ms = SANDBOX_LOAD_WALL_MS,
    .source_max_bytes = SANDBOX_SOURCE_MAX_BYTES,
};

enum kill { KILL_NONE, KILL_INSTRUCTIONS, KILL_WALL };

struct sandbox {
    lua_State *L;
    char *owner;  /* owned */
    char *prefix; /* owned: directory of the files, "regions/south/" */
    int version;
    struct sandbox_limits limits;
    size_t mem_bytes;     /* bytes held by L, as the allocator counts */
    uint64_t budget_left; /* instructions left in the current run */
    uint64_t deadline_ns; /* CLOCK_MONOTONIC end of the current run */
    enum kill killed;     /* the current run is over budget */
    int logs_left;        /* host.log lines the current run may still write */
    uint64_t kills;       /* runs killed by a budget, over the life of the state */
    int exports_ref;      /* registry ref of { path = export } */
};

/* Globals a rule may read. Keep in step with .luacheckrc (tests compare them). */
const char *const sandbox_allowed_globals[] = {
    "assert",   "error",    "getmetatable", "ipairs", "next",      "pairs",
    "pcall",    "rawequal", "rawget",       "rawlen", "select",    "setmetatable",
    "tonumber", "tostring", "type",         "xpcall", "coroutine", "math",
    "string",   "table",    "utf8",         "host",   NULL,
};

/* Library fields removed from what scripts can reach. */
static const char *const removed_fields[][2] = {
    {"string", "dump"}, /* bytecode: F2 */
    {"math", "random"}, /* rules must be reproducible */
    {"math", "randomseed"},
    {NULL, NULL},
};

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static struct sandbox *sb_of(lua_State *L)
{
    return *(struct sandbox **)lua_getextraspace(L);
}

/* --- limits ------------------------------------------------------------ */

static void *sb_alloc(void *ud, void *ptr, size_t osize, size_t nsize)
{
    struct sandbox *sb = ud;
    size_t old = ptr ? osize : 0; /* when ptr is NULL, osize is a type tag */
    if (nsize == 0) {
        free(ptr);
        sb->mem_bytes -= old;
        return NULL;
    }
    if (nsize > old && sb->mem_bytes - old + nsize > sb->limits.mem_max_bytes)
        return NULL;
    void *p = realloc(ptr, nsize);
    if (p)
        sb->mem_bytes = sb->mem_bytes - old + nsize;
    return p;
}

static void sb_hook(lua_State *L, lua_Debug *ar)
{
    (void)ar;
    struct sandbox *sb = sb_of(L);
    if (!sb->killed) {
        if (sb->budget_left > HOOK_EVERY)
            sb->budget_left -= HOOK_EVERY;
        else
            sb->killed = KILL_INSTRUCTIONS;
        if (!sb->killed && now_ns() > sb->deadline_ns)
            sb->killed = KILL_WALL;
        if (!sb->killed)
            return;
        sb->kills++;
    }
    /* Sticky: from now on this thread stops at every instruction. */
    lua_sethook(L, sb_hook, LUA_MASKCOUNT, 1);
    luaL_error(L, sb->killed == KILL_WALL ? "wall-clock budget exhausted"
                                          : "instruction budget exhausted");
}

static void run_start(struct sandbox *sb, uint64_t instructions, uint64_t wall_ms)
{
    sb->killed = KILL_NONE;
    sb->logs_left = SANDBOX_LOG_LINES_PER_RUN;
    sb->budget_left = instructions;
    sb->deadline_ns = now_ns() + wall_ms * 1000000u;
    lua_sethook(sb->L, sb_hook, LUA_MASKCOUNT, HOOK_EVERY);
}

static int sb_panic(lua_State *L)
{
    const char *m = lua_type(L, -1) == LUA_TSTRING ? lua_tostring(L, -1) : "?";
    log_error("lua panic (engine bug): %.200s", m);
    abort();
}

/* --- wrapped functions ----------------------------------------------- */

static int w_setmetatable(lua_State *L)
{
    if (lua_type(L, 2) == LUA_TTABLE) {
        lua_pushliteral(L, "__gc");
        if (lua_rawget(L, 2) != LUA_TNIL)
            return luaL_error(L, "setmetatable: __gc is not allowed in rules");
        lua_pop(L, 1);
    }
    lua_pushvalue(L, lua_upvalueindex(1));
    lua_insert(L, 1);
    lua_call(L, lua_gettop(L) - 1, 1);
    return 1;
}

/* xpcall(f, handler, ...): the handler runs after the failed call has
 * unwound, under the normal budget (B1, B2). */
static int w_xpcall(lua_State *L)
{
    luaL_checkany(L, 2);
    int n = lua_gettop(L);
    lua_pushvalue(L, 1);
    for (int i = 3; i <= n; i++)
        lua_pushvalue(L, i);
    int status = lua_pcall(L, n - 2, LUA_MULTRET, 0);
    if (sb_of(L)->killed)
        return lua_error(L);
    if (status == LUA_OK) {
        lua_pushboolean(L, 1);
        lua_replace(L, n);
        return lua_gettop(L) - n + 1;
    }
    lua_pushvalue(L, 2);
    lua_insert(L, -2);
    lua_call(L, 1, 1);
    lua_pushboolean(L, 0);
    lua_insert(L, -2);
    return 2;
}

/* coroutine.resume: a run killed inside the coroutine stays killed (A7). */
static int w_resume(lua_State *L)
{
    lua_pushvalue(L, lua_upvalueindex(1));
    lua_insert(L, 1);
    lua_call(L, lua_gettop(L) - 1, LUA_MULTRET);
    if (sb_of(L)->killed)
        return luaL_error(L, "budget exhausted inside a coroutine");
    return lua_gettop(L);
}

/* Pattern functions: refuse subjects and patterns whose backtracking could
 * run for seconds inside one C call, where no hook can stop it (A8). */
static int w_pattern(lua_State *L)
{
    size_t sl, pl;
    luaL_checklstring(L, 1, &sl);
    const char *p = luaL_checklstring(L, 2, &pl);
    int plain_arg = (int)lua_tointeger(L, lua_upvalueindex(2));
    bool plain = plain_arg && lua_toboolean(L, plain_arg);
    if (!plain) {
        int q = 0;
        for (size_t i = 0; i < pl; i++) {
            if (p[i] == '%') {
                i++;
                continue;
            }
            q += p[i] == '*' || p[i] == '+' || p[i] == '-';
        }
        if (pl > SANDBOX_PATTERN_MAX)
            return luaL_error(L, "pattern longer than %d bytes", SANDBOX_PATTERN_MAX);
        if (q > SANDBOX_PATTERN_QUANTIFIERS_MAX)
            return luaL_error(L, "pattern with more than %d quantifiers",
                              SANDBOX_PATTERN_QUANTIFIERS_MAX);
        if (sl > SANDBOX_PATTERN_SUBJECT_MAX || pow((double)sl, q + 1) > 67108864.0)
            return luaL_error(L, "subject too long (%d bytes) for a pattern with %d quantifiers",
                              (int)sl, q);
    }
    lua_pushvalue(L, lua_upvalueindex(1));
    lua_insert(L, 1);
    lua_call(L, lua_gettop(L) - 1, LUA_MULTRET);
    return lua_gettop(L);
}

static int host_log(lua_State *L)
{
    struct sandbox *sb = sb_of(L);
    size_t n;
    const char *m = luaL_checklstring(L, 1, &n);
    /* Rate-limited per run, so a rule cannot flood the log. */
    if (sb->logs_left > 0 && sb->logs_left-- == 1)
        log_msg(LOG_INFO, NULL, "rule %s v%d: further host.log lines of this run dropped",
                sb->owner, sb->version);
    else if (sb->logs_left > 0)
        log_msg(LOG_INFO, NULL, "rule %s v%d: %.200s", sb->owner, sb->version, m);
    return 0;
}

/* Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's
 * days_from_civil). */
static long long days_from_civil(long long y, unsigned m, unsigned d)
{
    y -= m <= 2;
    long long era = (y >= 0 ? y : y - 399) / 400;
    unsigned yoe = (unsigned)(y - era * 400);
    unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (long long)doe - 719468;
}

/* host.days("YYYY-MM-DD"): days since 1970-01-01, or nil if not a real date. */
static int host_days(lua_State *L)
{
    size_t n;
    const char *s = luaL_checklstring(L, 1, &n);
    unsigned y, m, d;
    char tail;
    if (n != 10 || s[4] != '-' || s[7] != '-' ||
        sscanf(s, "%4u-%2u-%2u%c", &y, &m, &d, &tail) != 3 || y < 1900 || y > 9999 || m < 1 ||
        m > 12 || d < 1) {
        lua_pushnil(L);
        return 1;
    }
    static const unsigned mdays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    unsigned max = mdays[m - 1] + (m == 2 && ((y % 4 == 0 && y % 100) || y % 400 == 0));
    if (d > max) {
        lua_pushnil(L);
        return 1;
    }
    lua_pushinteger(L, days_from_civil(y, m, d));
    return 1;
}

/* host.date(days): "YYYY-MM-DD" of days since 1970-01-01 (civil_from_days). */
static int host_date(lua_State *L)
{
    lua_Integer z = luaL_checkinteger(L, 1);
    luaL_argcheck(L, z > -700000 && z < 2900000, 1, "date out of range");
    z += 719468;
    long long era = (z >= 0 ? z : z - 146096) / 146097;
    unsigned doe = (unsigned)(z - era * 146097);
    unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    long long y = (long long)yoe + era * 400;
    unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    unsigned mp = (5 * doy + 2) / 153;
    unsigned d = doy - (153 * mp + 2) / 5 + 1;
    unsigned m = mp < 10 ? mp + 3 : mp - 9;
    char buf[16];
    snprintf(buf, sizeof buf, "%04lld-%02u-%02u", y + (m <= 2), m, d);
    lua_pushstring(L, buf);
    return 1;
}

struct split_rem {
    long double rem;
    lua_Integer idx;
};

static int cmp_rem(const void *a, const void *b)
{
    const struct split_rem *x = a, *y = b;
    if (x->rem != y->rem)
        return x->rem > y->rem ? -1 : 1;
    return x->idx < y->idx ? -1 : x->idx > y->idx;
}

/* host.split(total, { w1, w2, ... }): integers summing exactly to total,
 * proportional to the weights, by largest remainder (ties to the earlier
 * weight). All-zero weights split equally. */
static int host_split(lua_State *L)
{
    lua_Integer total = luaL_checkinteger(L, 1);
    luaL_checktype(L, 2, LUA_TTABLE);
    luaL_argcheck(L, total >= 0 && total <= ((lua_Integer)1 << 53), 1, "total out of range");
    lua_Integer n = (lua_Integer)lua_rawlen(L, 2);
    luaL_argcheck(L, n >= 1 && n <= 1000000, 2, "1 to 1,000,000 weights");
    /* Scratch in userdata: charged to the state's memory cap, freed by the GC. */
    struct split_rem *r = lua_newuserdatauv(L, (size_t)n * sizeof *r, 0);
    lua_Integer *amount = lua_newuserdatauv(L, (size_t)n * sizeof *amount, 0);
    long double sum = 0;
    for (lua_Integer i = 0; i < n; i++) {
        lua_rawgeti(L, 2, i + 1);
        int ok;
        lua_Number x = lua_tonumberx(L, -1, &ok);
        lua_pop(L, 1);
        luaL_argcheck(L, ok && x >= 0 && x < HUGE_VAL, 2, "weights must be finite numbers >= 0");
        r[i].rem = x; /* the weight, for now */
        sum += x;
    }
    lua_Integer given = 0;
    for (lua_Integer i = 0; i < n; i++) {
        long double quota = sum > 0 ? (long double)total * r[i].rem / sum : (long double)total / n;
        amount[i] = (lua_Integer)floorl(quota);
        r[i].rem = quota - (long double)amount[i];
        r[i].idx = i;
        given += amount[i];
    }
    qsort(r, (size_t)n, sizeof *r, cmp_rem);
    for (lua_Integer k = 0; given < total; k++, given++)
        amount[r[k % n].idx]++;
    lua_createtable(L, (int)n, 0);
    for (lua_Integer i = 0; i < n; i++) {
        lua_pushinteger(L, amount[i]);
        lua_rawseti(L, -2, i + 1);
    }
    return 1;
}

/* The host API: one table, read-only, the same in every state. */
static const luaL_Reg host_api[] = {
    {"log", host_log},     {"days", host_days}, {"date", host_date},
    {"split", host_split}, {NULL, NULL},
};

static int env_index(lua_State *L)
{
    lua_pushvalue(L, 2);
    if (lua_rawget(L, lua_upvalueindex(1)) == LUA_TNIL)
        return luaL_error(L, "nonexistent global '%s'",
                          lua_type(L, 2) == LUA_TSTRING ? lua_tostring(L, 2) : "?");
    return 1;
}

static int env_newindex(lua_State *L)
{
    return luaL_error(L, "rules may not set globals ('%s'); use local",
                      lua_type(L, 2) == LUA_TSTRING ? lua_tostring(L, 2) : "?");
}

static int readonly_newindex(lua_State *L)
{
    return luaL_error(L, "attempt to modify a read-only library table");
}

/* Replace t[name] (t at the top of the stack) by 'fn' with the original as
 * upvalue 1 and 'extra' as upvalue 2. */
static void wrap_field(lua_State *L, const char *name, lua_CFunction fn, lua_Integer extra)
{
    lua_getfield(L, -1, name);
    lua_pushinteger(L, extra);
    lua_pushcclosure(L, fn, 2);
    lua_setfield(L, -2, name);
}

/* Push a read-only proxy of the table at the top of the stack (popping it). */
static void push_readonly(lua_State *L)
{
    lua_newtable(L);          /* proxy */
    lua_createtable(L, 0, 3); /* its metatable */
    lua_pushvalue(L, -3);
    lua_setfield(L, -2, "__index");
    lua_pushcfunction(L, readonly_newindex);
    lua_setfield(L, -2, "__newindex");
    lua_pushboolean(L, 0);
    lua_setfield(L, -2, "__metatable");
    lua_setmetatable(L, -2);
    lua_remove(L, -2);
}

/* Build the state's API table (left on the stack). Runs unprotected at
 * creation, when the cap is far away. */
static void build_api(lua_State *L)
{
    static const luaL_Reg libs[] = {
        {LUA_GNAME, luaopen_base},
        {LUA_TABLIBNAME, luaopen_table},
        {LUA_STRLIBNAME, luaopen_string},
        {LUA_MATHLIBNAME, luaopen_math},
        {LUA_UTF8LIBNAME, luaopen_utf8},
        {LUA_COLIBNAME, luaopen_coroutine},
        {NULL, NULL},
    };
    for (const luaL_Reg *lib = libs; lib->func; lib++) {
        luaL_requiref(L, lib->name, lib->func, 1);
        lua_pop(L, 1);
    }
    for (int i = 0; removed_fields[i][0]; i++) {
        lua_getglobal(L, removed_fields[i][0]);
        lua_pushnil(L);
        lua_setfield(L, -2, removed_fields[i][1]);
        lua_pop(L, 1);
    }
    /* Wrap in the real tables, so `s:find()` through the string metatable
     * gets the bounded versions too. */
    lua_getglobal(L, "string");
    wrap_field(L, "find", w_pattern, 4);
    wrap_field(L, "match", w_pattern, 0);
    wrap_field(L, "gmatch", w_pattern, 0);
    wrap_field(L, "gsub", w_pattern, 0);
    lua_pop(L, 1);
    lua_getglobal(L, "coroutine");
    wrap_field(L, "resume", w_resume, 0);
    lua_pop(L, 1);
    /* The string metatable: getmetatable("") answers false (E6). */
    lua_pushliteral(L, "");
    lua_getmetatable(L, -1);
    lua_pushboolean(L, 0);
    lua_setfield(L, -2, "__metatable");
    lua_pop(L, 2);

    lua_newtable(L); /* api */
    for (const char *const *g = sandbox_allowed_globals; *g; g++) {
        if (!strcmp(*g, "host")) {
            luaL_newlib(L, host_api);
        } else if (!strcmp(*g, "setmetatable")) {
            lua_getglobal(L, "setmetatable");
            lua_pushcclosure(L, w_setmetatable, 1);
        } else if (!strcmp(*g, "xpcall")) {
            lua_pushcfunction(L, w_xpcall);
        } else {
            lua_getglobal(L, *g);
        }
        if (lua_type(L, -1) == LUA_TTABLE)
            push_readonly(L);
        lua_setfield(L, -2, *g);
    }
}

/* --- values across the boundary ------------------------------------- */

static void push_json(lua_State *L, const json_t *v, int depth)
{
    luaL_checkstack(L, 3, "value too deep");
    if (depth > SANDBOX_VALUE_DEPTH_MAX)
        luaL_error(L, "argument nested too deeply");
    switch (json_typeof(v)) {
    case JSON_OBJECT: {
        lua_createtable(L, 0, (int)json_object_size(v));
        const char *k;
        json_t *x;
        json_object_foreach((json_t *)v, k, x)
        {
            push_json(L, x, depth + 1);
            lua_setfield(L, -2, k);
        }
        break;
    }
    case JSON_ARRAY: {
        lua_createtable(L, (int)json_array_size(v), 0);
        size_t i;
        json_t *x;
        json_array_foreach(v, i, x)
        {
            push_json(L, x, depth + 1);
            lua_rawseti(L, -2, (lua_Integer)i + 1);
        }
        break;
    }
    case JSON_STRING:
        lua_pushlstring(L, json_string_value(v), json_string_length(v));
        break;
    case JSON_INTEGER:
        lua_pushinteger(L, (lua_Integer)json_integer_value(v));
        break;
    case JSON_REAL:
        lua_pushnumber(L, json_real_value(v));
        break;
    case JSON_TRUE:
        lua_pushboolean(L, 1);
        break;
    case JSON_FALSE:
        lua_pushboolean(L, 0);
        break;
    case JSON_NULL:
        lua_pushnil(L);
        break;
    }
}

struct conv {
    struct err_detail *why;
    size_t items;
    int depth;                                     /* entries of keys/idx in use */
    const char *keys[SANDBOX_VALUE_DEPTH_MAX + 1]; /* borrowed from the Lua stack */
    lua_Integer idx[SANDBOX_VALUE_DEPTH_MAX + 1];  /* when keys[i] is NULL */
};

/* The path is rendered only when something is wrong. */
static int conv_fail(struct conv *c, const char *what)
{
    char path[128] = "";
    size_t n = 0;
    for (int i = 0; i < c->depth && n < sizeof path; i++)
        n += (size_t)(c->keys[i]
                          ? snprintf(path + n, sizeof path - n, "%s%.40s", n ? "." : "", c->keys[i])
                          : snprintf(path + n, sizeof path - n, "[%lld]", (long long)c->idx[i]));
    return err_field(c->why, -ERR_RULE_OUTPUT, path, "invalid output at '%s': %s",
                     path[0] ? path : "(result)", what);
}

/* Convert the value at 'idx' with raw access only (no metamethod runs). */
static int to_json(lua_State *L, int idx, int depth, struct conv *c, json_t **out)
{
    idx = lua_absindex(L, idx);
    if (++c->items > SANDBOX_VALUE_ITEMS_MAX)
        return conv_fail(c, "too many values");
    switch (lua_type(L, idx)) {
    case LUA_TBOOLEAN:
        *out = json_boolean(lua_toboolean(L, idx));
        return 0;
    case LUA_TNUMBER: {
        int isint;
        lua_Integer i = lua_tointegerx(L, idx, &isint);
        if (isint) {
            *out = json_integer(i);
            return 0;
        }
        double d = lua_tonumber(L, idx);
        if (isnan(d))
            return conv_fail(c, "NaN");
        if (isinf(d))
            return conv_fail(c, "infinity");
        *out = json_real(d);
        return 0;
    }
    case LUA_TSTRING: {
        size_t n;
        const char *s = lua_tolstring(L, idx, &n);
        if (memchr(s, '\0', n))
            return conv_fail(c, "string with a NUL byte");
        *out = json_stringn(s, n);
        return *out ? 0 : conv_fail(c, "string is not valid UTF-8");
    }
    case LUA_TTABLE:
        break;
    default:
        return conv_fail(c, lua_typename(L, lua_type(L, idx)));
    }
    if (depth >= SANDBOX_VALUE_DEPTH_MAX)
        return conv_fail(c, "nested too deeply (or cyclic)");
    if (!lua_checkstack(L, 4))
        return conv_fail(c, "nested too deeply");
    /* An array when its keys are exactly 1..#t. */
    lua_Integer len = (lua_Integer)lua_rawlen(L, idx);
    size_t count = 0;
    bool all_int = true;
    lua_pushnil(L);
    while (lua_next(L, idx)) {
        count++;
        if (!lua_isinteger(L, -2))
            all_int = false;
        lua_pop(L, 1);
    }
    bool array = all_int && (lua_Integer)count == len;
    json_t *res = array ? json_array() : json_object();
    int rc = 0;
    if (array) {
        for (lua_Integer i = 1; i <= len && !rc; i++) {
            lua_rawgeti(L, idx, i);
            c->keys[c->depth] = NULL;
            c->idx[c->depth++] = i;
            json_t *x = NULL;
            rc = to_json(L, -1, depth + 1, c, &x);
            if (!rc) {
                json_array_append_new(res, x);
                c->depth--;
            }
            lua_pop(L, 1);
        }
    } else {
        lua_pushnil(L);
        while (!rc && lua_next(L, idx)) {
            if (lua_type(L, -2) != LUA_TSTRING) {
                rc = conv_fail(c, "table keys must be strings (or a list 1..n)");
                lua_pop(L, 2);
                break;
            }
            size_t klen;
            const char *k = lua_tolstring(L, -2, &klen);
            c->keys[c->depth++] = k;
            json_t *x = NULL;
            /* A key is a C string from here on: a NUL would silently cut it. */
            rc = memchr(k, '\0', klen) ? conv_fail(c, "key with a NUL byte")
                                       : to_json(L, -1, depth + 1, c, &x);
            if (!rc && json_object_set_new(res, k, x))
                rc = conv_fail(c, "key is not valid UTF-8");
            if (!rc)
                c->depth--;
            lua_pop(L, rc ? 2 : 1);
        }
    }
    if (rc) {
        json_decref(res);
        return rc;
    }
    *out = res;
    return 0;
}

/* --- errors ---------------------------------------------------------- */

static int script_error(struct sandbox *sb, int status, const char *name, struct err_detail *why)
{
    lua_State *L = sb->L;
    char path[256];
    snprintf(path, sizeof path, "%s%s", sb->prefix, name);
    char msg[SANDBOX_ERROR_MAX + 1];
    if (lua_type(L, -1) == LUA_TSTRING)
        snprintf(msg, sizeof msg, "%s", lua_tostring(L, -1));
    else
        snprintf(msg, sizeof msg, "non-string error object (%s)", luaL_typename(L, -1));
    lua_pop(L, 1);
    int code = status == LUA_ERRMEM      ? -ERR_RULE_MEMORY
               : sb->killed              ? -ERR_RULE_BUDGET
               : status == LUA_ERRSYNTAX ? -ERR_RULE_SYNTAX
                                         : -ERR_RULE_RUNTIME;
    if (status == LUA_ERRMEM)
        snprintf(msg, sizeof msg, "not enough memory (cap %zu bytes)", sb->limits.mem_max_bytes);
    /* Lua prefixes positions with the chunk name; add it when it is missing. */
    if (!strncmp(msg, path, strlen(path)))
        return err_set(why, code, "%s v%d: %s", sb->owner, sb->version, msg);
    return err_set(why, code, "%s v%d: %s: %s", sb->owner, sb->version, path, msg);
}

/* --- lifecycle ------------------------------------------------------- */

int sandbox_new(const char *owner, int version, const char *prefix,
                const struct sandbox_limits *limits, struct sandbox **out, struct err_detail *why)
{
    struct sandbox *sb = calloc(1, sizeof *sb);
    if (!sb || !(sb->owner = strdup(owner)) || !(sb->prefix = strdup(prefix))) {
        if (sb)
            free(sb->owner);
        free(sb);
        return err_set(why, -ERR_NOMEM, "out of memory");
    }
    sb->version = version;
    sb->limits = limits ? *limits : sandbox_default_limits;
    sb->L = lua_newstate(sb_alloc, sb);
    if (!sb->L) {
        free(sb->prefix);
        free(sb->owner);
        free(sb);
        return err_set(why, -ERR_NOMEM, "cannot create a Lua state");
    }
    *(struct sandbox **)lua_getextraspace(sb->L) = sb;
    lua_atpanic(sb->L, sb_panic);
    /* The hook is installed before any script code exists, and stays (A6). */
    run_start(sb, sb->limits.load_instructions, sb->limits.load_wall_ms);
    build_api(sb->L);
    lua_setfield(sb->L, LUA_REGISTRYINDEX, "ltcd.api");
    lua_newtable(sb->L);
    sb->exports_ref = luaL_ref(sb->L, LUA_REGISTRYINDEX);
    /* Scripts never see _G itself: drop its contents from the registry's globals. */
    lua_pushglobaltable(sb->L);
    lua_pushnil(sb->L);
    while (lua_next(sb->L, -2)) {
        lua_pop(sb->L, 1);
        lua_pushvalue(sb->L, -1);
        lua_pushnil(sb->L);
        lua_rawset(sb->L, -4);
    }
    lua_pop(sb->L, 1);
    *out = sb;
    return 0;
}

void sandbox_free(struct sandbox *sb)
{
    if (!sb)
        return;
    lua_close(sb->L);
    free(sb->prefix);
    free(sb->owner);
    free(sb);
}

size_t sandbox_mem_bytes(const struct sandbox *sb)
{
    return sb->mem_bytes;
}

uint64_t sandbox_budget_kills(const struct sandbox *sb)
{
    return sb->kills;
}

const char *sandbox_owner(const struct sandbox *sb)
{
    return sb->owner;
}

int sandbox_version(const struct sandbox *sb)
{
    return sb->version;
}

/* --- load and call --------------------------------------------------- */

struct load_ctx {
    const char *prefix, *path, *src;
    size_t len;
    int status; /* of the inner load or run */
};

/* Runs protected: every allocation here may fail against the cap. */
static int load_protected(lua_State *L)
{
    struct load_ctx *lc = lua_touserdata(L, 1);
    char chunkname[160];
    snprintf(chunkname, sizeof chunkname, "=%s%s", lc->prefix, lc->path);
    lc->status = luaL_loadbufferx(L, lc->src, lc->len, chunkname, "t");
    if (lc->status == LUA_ERRRUN) /* the parser's "C stack overflow" */
        lc->status = LUA_ERRSYNTAX;
    if (lc->status != LUA_OK)
        return 1; /* the message */
    /* The chunk's own environment: reads fall through to the API, writes fail. */
    lua_newtable(L);
    lua_createtable(L, 0, 3);
    lua_getfield(L, LUA_REGISTRYINDEX, "ltcd.api");
    lua_pushcclosure(L, env_index, 1);
    lua_setfield(L, -2, "__index");
    lua_pushcfunction(L, env_newindex);
    lua_setfield(L, -2, "__newindex");
    lua_pushboolean(L, 0);
    lua_setfield(L, -2, "__metatable");
    lua_setmetatable(L, -2);
    lua_setupvalue(L, -2, 1);
    lc->status = lua_pcall(L, 0, 1, 0);
    return 1; /* the export or the message */
}

static sandbox_observer_fn *observer;

void sandbox_set_observer(sandbox_observer_fn *fn)
{
    observer = fn;
}

static const char *outcome_of(int rc)
{
    switch (-rc) {
    case 0:
        return "ok";
    case ERR_RULE_BUDGET:
        return "budget";
    case ERR_RULE_MEMORY:
        return "memory";
    case ERR_RULE_OUTPUT:
        return "output";
    case ERR_RULE_SYNTAX:
        return "syntax";
    case ERR_NOT_FOUND:
        return "missing";
    default:
        return "error";
    }
}

static int load(struct sandbox *sb, const char *path, const char *src, size_t len,
                struct err_detail *why);

int sandbox_load(struct sandbox *sb, const char *path, const char *src, size_t len,
                 struct err_detail *why)
{
    int rc = load(sb, path, src, len, why);
    if (observer)
        observer(sb->owner, outcome_of(rc));
    return rc;
}

static int load(struct sandbox *sb, const char *path, const char *src, size_t len,
                struct err_detail *why)
{
    lua_State *L = sb->L;
    if (len > sb->limits.source_max_bytes)
        return err_set(why, -ERR_RULE_REJECTED,
                       "%s v%d: %s%s: source is %zu bytes, over the %zu limit", sb->owner,
                       sb->version, sb->prefix, path, len, sb->limits.source_max_bytes);
    if (len && src[0] == LUA_SIGNATURE[0])
        return err_set(why, -ERR_RULE_SYNTAX, "%s v%d: %s%s: binary chunks are not allowed",
                       sb->owner, sb->version, sb->prefix, path);
    struct load_ctx lc = {.prefix = sb->prefix, .path = path, .src = src, .len = len};
    run_start(sb, sb->limits.load_instructions, sb->limits.load_wall_ms);
    lua_pushcfunction(L, load_protected);
    lua_pushlightuserdata(L, &lc);
    int st = lua_pcall(L, 1, 1, 0);
    if (st == LUA_OK && lc.status != LUA_OK)
        st = lc.status;
    if (st != LUA_OK)
        return script_error(sb, st, path, why);
    int t = lua_type(L, -1);
    if (t != LUA_TTABLE && t != LUA_TFUNCTION) {
        lua_pop(L, 1);
        return err_set(why, -ERR_RULE_OUTPUT, "%s v%d: %s%s: must return a table or a function",
                       sb->owner, sb->version, sb->prefix, path);
    }
    lua_rawgeti(L, LUA_REGISTRYINDEX, sb->exports_ref);
    lua_pushstring(L, path);
    lua_pushvalue(L, -3);
    lua_rawset(L, -3);
    lua_pop(L, 2);
    return 0;
}

/* Push the export (or its raw field) and return its Lua type, or LUA_TNONE. */
static int push_export(struct sandbox *sb, const char *path, const char *member)
{
    lua_State *L = sb->L;
    lua_rawgeti(L, LUA_REGISTRYINDEX, sb->exports_ref);
    lua_pushstring(L, path);
    int t = lua_rawget(L, -2);
    lua_remove(L, -2);
    if (t == LUA_TNIL) {
        lua_pop(L, 1);
        return LUA_TNONE;
    }
    if (member) {
        if (t != LUA_TTABLE) {
            lua_pop(L, 1);
            return LUA_TNONE;
        }
        lua_pushstring(L, member);
        t = lua_rawget(L, -2);
        lua_remove(L, -2);
        if (t == LUA_TNIL) {
            lua_pop(L, 1);
            return LUA_TNONE;
        }
    }
    return t;
}

enum sandbox_kind sandbox_kind(struct sandbox *sb, const char *path, const char *member)
{
    if (!lua_checkstack(sb->L, 4))
        return SANDBOX_NONE;
    int t = push_export(sb, path, member);
    if (t == LUA_TNONE)
        return SANDBOX_NONE;
    lua_pop(sb->L, 1);
    return t == LUA_TTABLE ? SANDBOX_TABLE : t == LUA_TFUNCTION ? SANDBOX_FUNCTION : SANDBOX_OTHER;
}

struct call_ctx {
    json_t *const *args;
    int nargs;
    int status; /* of the rule's own run */
    struct conv conv;
    int conv_rc;
    json_t *out;
};

/* Runs protected with the export on the stack below the context. */
static int call_protected(lua_State *L)
{
    struct call_ctx *cc = lua_touserdata(L, 2);
    lua_settop(L, 1);
    if (lua_type(L, 1) == LUA_TFUNCTION) {
        for (int i = 0; i < cc->nargs; i++)
            push_json(L, cc->args[i], 0);
        cc->status = lua_pcall(L, cc->nargs, 1, 0);
        if (cc->status != LUA_OK)
            return 1;
    }
    cc->conv_rc = to_json(L, -1, 0, &cc->conv, &cc->out);
    return 0;
}

static int call(struct sandbox *sb, const char *path, const char *member, json_t *const *args,
                int nargs, json_t **out, struct err_detail *why);

int sandbox_call(struct sandbox *sb, const char *path, const char *member, json_t *const *args,
                 int nargs, json_t **out, struct err_detail *why)
{
    int rc = call(sb, path, member, args, nargs, out, why);
    if (observer)
        observer(sb->owner, outcome_of(rc));
    return rc;
}

static int call(struct sandbox *sb, const char *path, const char *member, json_t *const *args,
                int nargs, json_t **out, struct err_detail *why)
{
    lua_State *L = sb->L;
    if (!lua_checkstack(L, 8))
        return err_set(why, -ERR_RULE_MEMORY, "%s v%d: out of stack", sb->owner, sb->version);
    lua_settop(L, 0);
    int t = push_export(sb, path, member);
    if (t == LUA_TNONE)
        return err_set(why, -ERR_NOT_FOUND, "%s v%d: %s%s%s%s is not defined", sb->owner,
                       sb->version, sb->prefix, path, member ? ": " : "", member ? member : "");
    struct call_ctx cc = {.args = args, .nargs = nargs};
    struct err_detail conv_why;
    cc.conv.why = &conv_why;
    lua_pushcfunction(L, call_protected);
    lua_insert(L, -2);
    lua_pushlightuserdata(L, &cc);
    run_start(sb, sb->limits.call_instructions, sb->limits.call_wall_ms);
    int st = lua_pcall(L, 2, 1, 0);
    if (st == LUA_OK && cc.status != LUA_OK)
        st = cc.status;
    if (st != LUA_OK) {
        json_decref(cc.out);
        int rc = script_error(sb, st, path, why);
        lua_settop(L, 0);
        return rc;
    }
    lua_settop(L, 0);
    if (cc.conv_rc) {
        json_decref(cc.out);
        return err_field(why, cc.conv_rc, conv_why.field, "%s v%d: %s%s%s%s: %s", sb->owner,
                         sb->version, sb->prefix, path, member ? ": " : "", member ? member : "",
                         conv_why.msg);
    }
    *out = cc.out;
    return 0;
}
