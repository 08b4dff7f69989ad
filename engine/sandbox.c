/* engine/sandbox.c: the Lua sandbox. See sandbox.h for the promises. */
#include "sandbox.h"

#include <lualib.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "log.h"
#include "sandbox_internal.h"

/* Instructions between budget checks. Small, because one instruction on
 * values near the memory cap (comparing or joining 8 MB strings, moving a
 * million varargs) takes about a millisecond, and the wall clock is only
 * read here: 100 such instructions stay within the deadline's slack. */
#define HOOK_EVERY 100

const struct sandbox_limits sandbox_default_limits = {
    .mem_max_bytes = SANDBOX_MEM_MAX_BYTES,
    .call_instructions = SANDBOX_CALL_INSTRUCTIONS,
    .call_wall_ms = SANDBOX_CALL_WALL_MS,
    .load_instructions = SANDBOX_LOAD_INSTRUCTIONS,
    .load_wall_ms = SANDBOX_LOAD_WALL_MS,
    .source_max_bytes = SANDBOX_SOURCE_MAX_BYTES,
};

/* Globals a rule may read. Keep in step with .luacheckrc (tests compare them). */
const char *const sandbox_allowed_globals[] = {
    "assert",   "error",    "getmetatable", "ipairs", "next",      "pairs",
    "pcall",    "rawequal", "rawget",       "rawlen", "select",    "setmetatable",
    "tonumber", "tostring", "type",         "xpcall", "coroutine", "math",
    "string",   "table",    "utf8",         "host",   NULL,
};

static int w_xpcall(lua_State *L);
static int host_log(lua_State *L);
static int host_days(lua_State *L);
static int host_date(lua_State *L);
static int host_split(lua_State *L);
static int env_index(lua_State *L);
static int env_newindex(lua_State *L);
static int readonly_newindex(lua_State *L);

#define LIB  SANDBOX_AUDIT_LIBRARY
#define OWN  SANDBOX_AUDIT_OWN
#define GONE SANDBOX_AUDIT_REMOVED
#define G(f) sandbox__g_##f
#define F(f) sandbox__f_##f

/* Every C function a rule can reach, and what bounds the work of one call
 * of it (the instruction hook stops Lua code, never a C function). LIB: the
 * library's function, wrapped by the guard when there is one; OWN: the
 * sandbox's own; GONE: not in a rule's reach. A library function that is
 * not here is not installed, and sandbox_test walks a fresh state for any
 * function this table does not name. Costs are in budget units
 * (SANDBOX_COST_*): "charges" means charged before the work, "after" once it
 * is done, for work the memory cap bounds already. 'numbers' lists the
 * arguments Lua converts to numbers ("23": the 2nd and 3rd; "2*": the 2nd
 * and all after it): a string given there is read whole, so its length is
 * charged first, whatever the function. */
const struct sandbox_audit sandbox_audit[] = {
    /* base */
    {"assert", LIB, G(assert), NULL,
     "charges a failing assert's message (the position is prefixed)"},
    {"error", LIB, G(error), "2", "charges the message's length (the position is prefixed)"},
    {"getmetatable", LIB, F(getmetatable), NULL, "safe: O(1); a frozen table answers its own"},
    {"ipairs", OWN, F(ipairs), NULL, "safe: O(1), lbaselib's, returns the iterator below"},
    {"next", OWN, F(next), NULL,
     "safe: lbaselib's, seeing through frozen tables; one call may skip "
     "a sparse table's empty slots: bounded by the memory cap (~1 ms)"},
    {"pairs", OWN, F(pairs), NULL, "safe: O(1) (a __pairs metamethod runs as Lua); returns next"},
    {"pcall", LIB, NULL, NULL, "safe: O(1); the call it protects runs under the same budget"},
    {"rawequal", LIB, G(rawequal), NULL, "charges two long strings' compared bytes (memcmp)"},
    {"rawget", LIB, F(rawget), NULL, "safe: O(1); sees through frozen tables"},
    {"rawlen", LIB, F(rawlen), NULL, "safe: O(log n); sees through frozen tables"},
    {"select", LIB, NULL, "1", "safe: O(1); the VM moves the results (at most LUAI_MAXSTACK)"},
    {"setmetatable", LIB, F(setmetatable), NULL, "safe: O(1); refuses __gc and frozen tables"},
    {"tonumber", LIB, G(tonumber), "2", "charges the string's length"},
    {"tostring", LIB, G(tostring), NULL,
     "after: the length of the string made (a __tostring is Lua)"},
    {"type", LIB, NULL, NULL, "safe: O(1)"},
    {"xpcall", OWN, w_xpcall, NULL,
     "safe: O(1); the handler runs after unwinding, under the budget"},
    {"collectgarbage", GONE, NULL, NULL, "removed: GC control (C4, F7)"},
    {"dofile", GONE, NULL, NULL, "removed: files"},
    {"load", GONE, NULL, NULL, "removed: no runtime code (F2, F3)"},
    {"loadfile", GONE, NULL, NULL, "removed: files"},
    {"print", GONE, NULL, NULL, "removed: host.log instead (F6)"},
    {"rawset", GONE, NULL, NULL, "removed: would write past read-only tables (E2)"},
    {"require", GONE, NULL, NULL, "removed: no modules (F5)"},
    {"warn", GONE, NULL, NULL, "removed: no warnings channel (F6)"},
    {"(ipairs iterator)", OWN, F(ipairs_step), NULL,
     "charges a string control variable; O(1) "
     "plus one lua_geti, whose __index chain Lua "
     "stops at 2000 steps (~20 us)"},
    /* coroutine */
    {"coroutine.close", LIB, NULL, NULL, "safe: O(1); pending __close handlers run as Lua"},
    {"coroutine.create", LIB, NULL, NULL, "safe: O(1); the coroutine inherits the hook"},
    {"coroutine.isyieldable", LIB, NULL, NULL, "safe: O(1)"},
    {"coroutine.resume", LIB, G(resume), NULL,
     "charges the values moved; a killed run stays killed"},
    {"coroutine.running", LIB, NULL, NULL, "safe: O(1)"},
    {"coroutine.status", LIB, NULL, NULL, "safe: O(1)"},
    {"coroutine.wrap", LIB, G(wrap), NULL, "safe: O(1); returns the guarded function below"},
    {"coroutine.yield", LIB, NULL, NULL, "safe: O(1); the VM moves the values"},
    {"(coroutine.wrap function)", OWN, G(wrapped), NULL,
     "charges the values moved; a killed run stays "
     "killed"},
    /* math */
    {"math.abs", LIB, NULL, "1", "safe: O(1)"},
    {"math.acos", LIB, NULL, "1", "safe: O(1)"},
    {"math.asin", LIB, NULL, "1", "safe: O(1)"},
    {"math.atan", LIB, NULL, "12", "safe: O(1)"},
    {"math.atan2", LIB, NULL, "12", "safe: O(1)"},
    {"math.ceil", LIB, NULL, "1", "safe: O(1)"},
    {"math.cos", LIB, NULL, "1", "safe: O(1)"},
    {"math.cosh", LIB, NULL, "1", "safe: O(1)"},
    {"math.deg", LIB, NULL, "1", "safe: O(1)"},
    {"math.exp", LIB, NULL, "1", "safe: O(1)"},
    {"math.floor", LIB, NULL, "1", "safe: O(1)"},
    {"math.fmod", LIB, NULL, "12", "safe: O(1)"},
    {"math.frexp", LIB, NULL, "1", "safe: O(1)"},
    {"math.ldexp", LIB, NULL, "12", "safe: O(1)"},
    {"math.log", LIB, NULL, "12", "safe: O(1)"},
    {"math.log10", LIB, NULL, "1", "safe: O(1)"},
    {"math.max", LIB, G(minmax), "1*", "charges one unit an argument"},
    {"math.min", LIB, G(minmax), "1*", "charges one unit an argument"},
    {"math.modf", LIB, NULL, "1", "safe: O(1)"},
    {"math.pow", LIB, NULL, "12", "safe: O(1)"},
    {"math.rad", LIB, NULL, "1", "safe: O(1)"},
    {"math.sin", LIB, NULL, "1", "safe: O(1)"},
    {"math.sinh", LIB, NULL, "1", "safe: O(1)"},
    {"math.sqrt", LIB, NULL, "1", "safe: O(1)"},
    {"math.tan", LIB, NULL, "1", "safe: O(1)"},
    {"math.tanh", LIB, NULL, "1", "safe: O(1)"},
    {"math.tointeger", LIB, NULL, "1", "safe: O(1)"},
    {"math.type", LIB, NULL, NULL, "safe: O(1)"},
    {"math.ult", LIB, NULL, "12", "safe: O(1)"},
    {"math.random", GONE, NULL, NULL, "removed: rules must be reproducible"},
    {"math.randomseed", GONE, NULL, NULL, "removed: rules must be reproducible"},
    /* string, also the string metatable's __index */
    {"string.byte", LIB, G(byte), "23", "charges one unit a byte of the range (one value each)"},
    {"string.char", LIB, G(char), "1*", "charges one unit an argument"},
    {"string.dump", GONE, NULL, NULL, "removed: bytecode (F2)"},
    {"string.find", LIB, G(find), "3",
     "pattern work: see sandbox_guard.c; plain: the needle's "
     "length per position"},
    {"string.format", LIB, G(format), "2*",
     "charges the format's length and each conversion; after: "
     "the result's length"},
    {"string.gmatch", LIB, G(gmatch), "3",
     "safe: O(pattern x subject) to bound it once; returns the "
     "step below"},
    {"string.gsub", LIB, G(gsub), "4",
     "charges the bound of its pattern work and replacements; "
     "after: the result's length"},
    {"string.len", LIB, NULL, NULL, "safe: O(1)"},
    {"string.lower", LIB, G(result_len), NULL, "after: the result's length"},
    {"string.match", LIB, G(match), "3", "pattern work, as string.find"},
    {"string.pack", LIB, G(pack), "2*",
     "charges the format and the bytes its sizes and strings ask"},
    {"string.packsize", LIB, G(packsize), NULL, "charges the format's length"},
    {"string.rep", LIB, G(rep), "2",
     "charges one unit a copy and the bytes (a result over the "
     "memory cap fails to allocate first)"},
    {"string.reverse", LIB, G(result_len), NULL, "after: the result's length"},
    {"string.sub", LIB, G(result_len), "23", "after: the result's length"},
    {"string.unpack", LIB, G(unpack_str), "3", "charges the format's length and the data's"},
    {"string.upper", LIB, G(result_len), NULL, "after: the result's length"},
    {"(string.gmatch step)", OWN, G(gmatch_step), NULL, "pattern work of the attempts it makes"},
    {"(string metatable).__add", LIB, G(arith), NULL, "charges the numeric strings' lengths"},
    {"(string metatable).__div", LIB, G(arith), NULL, "as __add"},
    {"(string metatable).__idiv", LIB, G(arith), NULL, "as __add"},
    {"(string metatable).__mod", LIB, G(arith), NULL, "as __add"},
    {"(string metatable).__mul", LIB, G(arith), NULL, "as __add"},
    {"(string metatable).__pow", LIB, G(arith), NULL, "as __add"},
    {"(string metatable).__sub", LIB, G(arith), NULL, "as __add"},
    {"(string metatable).__unm", LIB, G(arith), NULL, "as __add"},
    /* table */
    {"table.concat", LIB, G(concat), "34",
     "charges one unit an element (times its __index chain) and "
     "the separators; after: the result's length"},
    {"table.insert", LIB, G(insert), NULL,
     "charges the elements it shifts; refuses a __len metamethod"},
    {"table.move", LIB, G(move), "234",
     "charges the range's elements (times their metamethod chains)"},
    {"table.pack", LIB, G(tpack), NULL, "charges one unit an argument"},
    {"table.remove", LIB, G(remove), "2",
     "charges the elements it shifts; refuses a __len metamethod"},
    {"table.sort", LIB, G(sort), NULL,
     "charges n log n steps, each up to the longest string "
     "compared; refuses a __len metamethod"},
    {"table.unpack", LIB, G(tunpack), "23", "charges the range's elements; #t asked once"},
    /* utf8 */
    {"utf8.char", LIB, G(utf8_char), "1*", "charges a conversion an argument"},
    {"utf8.codepoint", LIB, G(codepoint), "23", "charges one unit a byte of the range"},
    {"utf8.codes", LIB, G(codes), NULL, "safe: O(1), returns the guarded step below"},
    {"utf8.len", LIB, G(utf8_len), "23", "charges the range's bytes"},
    {"utf8.offset", LIB, G(offset), "23", "charges the string's bytes (it may walk all of it)"},
    {"(utf8.codes step)", OWN, G(codes_step), NULL,
     "charges the continuation bytes it skips, counted "
     "first within the budget"},
    /* host */
    {"host.date", OWN, host_date, NULL, "safe: O(1); charges a string given as the day"},
    {"host.days", OWN, host_days, NULL, "safe: O(1)"},
    {"host.log", OWN, host_log, NULL, "safe: O(1), 200 bytes a line, lines a run capped"},
    {"host.split", OWN, host_split, NULL,
     "charges n log n steps (at most 1e6 weights) and "
     "string weights"},
    /* metamethods the VM calls on the sandbox's own tables */
    {"(_ENV).__index", OWN, env_index, NULL, "safe: O(1)"},
    {"(_ENV).__newindex", OWN, env_newindex, NULL, "safe: O(1), refuses"},
    {"(library table).__newindex", OWN, readonly_newindex, NULL, "safe: O(1), refuses"},
    {"(frozen table).__newindex", OWN, F(newindex), NULL, "safe: O(1), refuses"},
    {"(frozen table).__len", OWN, F(len), NULL, "safe: O(log n)"},
    {"(frozen table).__index", OWN, F(index), NULL, "safe: O(1) plus the rule's own __index"},
    {"(view).__index", OWN, sandbox__view_index, NULL,
     "charges the level it converts, once; O(1) after"},
    {"(view).__newindex", OWN, sandbox__view_newindex, NULL, "safe: O(1), refuses"},
    {NULL, 0, NULL, NULL, NULL},
};

#undef LIB
#undef OWN
#undef GONE
#undef G
#undef F

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

struct sandbox *sandbox__of(lua_State *L)
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

static void sb_hook(lua_State *L, lua_Debug *ar);

/* The run is over budget: from now on this thread stops at every
 * instruction, so pcall cannot swallow it. */
static void kill_run(lua_State *L, struct sandbox *sb, enum sandbox__kill why)
{
    if (!sb->killed) {
        sb->killed = why;
        sb->kills++;
    }
    sb->budget_left = 0;
    lua_sethook(L, sb_hook, LUA_MASKCOUNT, 1);
}

static void sb_hook(lua_State *L, lua_Debug *ar)
{
    (void)ar;
    struct sandbox *sb = sandbox__of(L);
    if (!sb->killed) {
        if (sb->budget_left > HOOK_EVERY)
            sb->budget_left -= HOOK_EVERY;
        else
            kill_run(L, sb, KILL_INSTRUCTIONS);
        if (!sb->killed && now_ns() > sb->deadline_ns)
            kill_run(L, sb, KILL_WALL);
        if (!sb->killed)
            return;
    }
    kill_run(L, sb, sb->killed);
    luaL_error(L, sb->killed == KILL_WALL ? "wall-clock budget exhausted"
                                          : "instruction budget exhausted");
}

void sandbox__charge(lua_State *L, uint64_t units, const char *what)
{
    struct sandbox *sb = sandbox__of(L);
    if (!sb->killed && units < sb->budget_left) {
        sb->budget_left -= units;
        return;
    }
    char msg[160];
    snprintf(msg, sizeof msg,
             "instruction budget exhausted: %s needs %llu instructions' work, %llu left", what,
             (unsigned long long)units, (unsigned long long)sandbox__budget_left(L));
    kill_run(L, sb, sb->killed ? sb->killed : KILL_INSTRUCTIONS);
    luaL_error(L, "%s", msg);
}

uint64_t sandbox__budget_left(lua_State *L)
{
    struct sandbox *sb = sandbox__of(L);
    return sb->killed ? 0 : sb->budget_left;
}

uint64_t sandbox__add(uint64_t a, uint64_t b)
{
    return a > UINT64_MAX - b ? UINT64_MAX : a + b;
}

uint64_t sandbox__mul(uint64_t a, uint64_t b)
{
    return a && b > UINT64_MAX / a ? UINT64_MAX : a * b;
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

/* --- the sandbox's own functions --------------------------------------- */

/* What the state installs for a library function with a guard or numeric
 * arguments. Upvalues: the library's function (a guard's "original"), the
 * guard (or nil), the audit index. Strings in numeric positions are charged
 * first, before anything reads them. */
static int entry(lua_State *L)
{
    const struct sandbox_audit *a = &sandbox_audit[lua_tointeger(L, lua_upvalueindex(3))];
    for (const char *n = a->numbers; n && *n; n++) {
        int first = *n - '0', last = n[1] == '*' ? lua_gettop(L) : first;
        for (int i = first; i <= last; i++)
            if (lua_type(L, i) == LUA_TSTRING)
                sandbox__charge(L, lua_rawlen(L, i) / SANDBOX_COST_BYTES_PER_UNIT + 1, a->name);
        n += n[1] == '*';
    }
    lua_CFunction guard = lua_tocfunction(L, lua_upvalueindex(2));
    return guard ? guard(L) : sandbox__call_original(L);
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
    if (sandbox__of(L)->killed)
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

/* --- host API ---------------------------------------------------------- */

static int host_log(lua_State *L)
{
    struct sandbox *sb = sandbox__of(L);
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
    if (lua_type(L, 1) == LUA_TSTRING) /* converted whole */
        sandbox__charge(L, lua_rawlen(L, 1) / SANDBOX_COST_BYTES_PER_UNIT + 1, "host.date");
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
    if (lua_type(L, 1) == LUA_TSTRING) /* converted whole */
        sandbox__charge(L, lua_rawlen(L, 1) / SANDBOX_COST_BYTES_PER_UNIT + 1, "host.split");
    lua_Integer total = luaL_checkinteger(L, 1);
    luaL_checktype(L, 2, LUA_TTABLE);
    luaL_argcheck(L, total >= 0 && total <= ((lua_Integer)1 << 53), 1, "total out of range");
    lua_Integer n = (lua_Integer)lua_rawlen(L, 2);
    luaL_argcheck(L, n >= 1 && n <= 1000000, 2, "1 to 1,000,000 weights");
    uint64_t levels = 1;
    while (((lua_Integer)1 << levels) < n)
        levels++;
    sandbox__charge(L, (uint64_t)n * levels * SANDBOX_COST_SORT_STEP, "host.split");
    /* Scratch in userdata: charged to the state's memory cap, freed by the GC. */
    struct split_rem *r = lua_newuserdatauv(L, (size_t)n * sizeof *r, 0);
    lua_Integer *amount = lua_newuserdatauv(L, (size_t)n * sizeof *amount, 0);
    long double sum = 0;
    for (lua_Integer i = 0; i < n; i++) {
        lua_rawgeti(L, 2, i + 1);
        if (lua_type(L, -1) == LUA_TSTRING)
            sandbox__charge(L, lua_rawlen(L, -1) / SANDBOX_COST_BYTES_PER_UNIT + 1, "host.split");
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

/* Build the state's API table (left on the stack) from the audit table: a
 * fresh table for each library, holding only what the table names. Runs
 * unprotected at creation, when the cap is far away. */
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
    lua_newtable(L); /* { library name = its new table; "" = base } */
    int tables = lua_gettop(L);
    lua_newtable(L); /* { [audit index] = the function installed for it } */
    int map = lua_gettop(L);
    lua_pushliteral(L, "");
    lua_getmetatable(L, -1);
    int strmt = lua_gettop(L);
    for (int i = 0; sandbox_audit[i].name; i++) {
        const struct sandbox_audit *a = &sandbox_audit[i];
        const char *name = a->name, *dot = strrchr(name, '.');
        bool in_mt = !strncmp(name, "(string metatable).", 19);
        if (a->kind == SANDBOX_AUDIT_REMOVED || (name[0] == '(' && !in_mt))
            continue;
        char lib[32] = "";
        const char *field = name;
        if (dot && !in_mt) {
            snprintf(lib, sizeof lib, "%.*s", (int)(dot - name), name);
            field = dot + 1;
        }
        if (in_mt) {
            lua_pushvalue(L, strmt);
            field = dot + 1;
        } else if (lua_getfield(L, tables, lib) != LUA_TTABLE) {
            lua_pop(L, 1);
            lua_newtable(L);
            lua_pushvalue(L, -1);
            lua_setfield(L, tables, lib);
        }
        int target = lua_gettop(L);
        if (a->kind == SANDBOX_AUDIT_OWN) {
            lua_pushcfunction(L, a->guard);
        } else {
            if (in_mt)
                lua_getfield(L, strmt, field);
            else if (lib[0])
                lua_getfield(L, (lua_getglobal(L, lib), -1), field), lua_remove(L, -2);
            else
                lua_getglobal(L, field);
            if (!lua_iscfunction(L, -1)) { /* the audit names what this Lua does not have */
                log_error("sandbox: %s is not a C function of this Lua", name);
                abort();
            }
            if (!strcmp(name, "string.find"))
                sandbox__set_find(lua_tocfunction(L, -1));
            if (a->guard || a->numbers) {
                if (a->guard)
                    lua_pushcfunction(L, a->guard);
                else
                    lua_pushnil(L);
                lua_pushinteger(L, i);
                lua_pushcclosure(L, entry, 3);
            }
            lua_pushvalue(L, -1);
            lua_rawseti(L, map, i);
        }
        lua_setfield(L, target, field);
        lua_pop(L, 1);
    }
    lua_pushvalue(L, map);
    lua_setfield(L, LUA_REGISTRYINDEX, "ltcd.audit");
    /* Library values that are not functions (math.pi, utf8.charpattern). */
    static const char *const valued[] = {"math", "utf8", NULL};
    for (const char *const *lib = valued; *lib; lib++) {
        lua_getglobal(L, *lib);
        lua_getfield(L, tables, *lib);
        lua_pushnil(L);
        while (lua_next(L, -3)) {
            if (lua_type(L, -1) == LUA_TNUMBER || lua_type(L, -1) == LUA_TSTRING) {
                lua_pushvalue(L, -2);
                lua_insert(L, -2);
                lua_rawset(L, -4);
            } else {
                lua_pop(L, 1);
            }
        }
        lua_pop(L, 2);
    }
    /* The string metatable: s:rep() reaches the audited string table, and
     * getmetatable("") answers false (E6). */
    lua_getfield(L, tables, "string");
    lua_setfield(L, strmt, "__index");
    lua_pushboolean(L, 0);
    lua_setfield(L, strmt, "__metatable");
    lua_pop(L, 3); /* the metatable, "", the map */

    /* Lua names a function in an argument error by finding it in the loaded
     * libraries: let it find the installed ones. */
    luaL_getsubtable(L, LUA_REGISTRYINDEX, LUA_LOADED_TABLE);
    lua_pushnil(L);
    while (lua_next(L, tables)) {
        lua_pushvalue(L, -2);
        if (!lua_tostring(L, -1)[0]) {
            lua_pop(L, 1);
            lua_pushliteral(L, LUA_GNAME);
        }
        lua_insert(L, -2);
        lua_rawset(L, -4);
    }
    lua_pop(L, 1);

    lua_newtable(L); /* api */
    for (const char *const *g = sandbox_allowed_globals; *g; g++) {
        if (lua_getfield(L, tables, *g) == LUA_TTABLE) {
            push_readonly(L);
        } else {
            lua_pop(L, 1);
            lua_getfield(L, tables, ""); /* base */
            lua_getfield(L, -1, *g);
            lua_remove(L, -2);
        }
        if (lua_isnil(L, -1)) {
            log_error("sandbox: global '%s' has no audit entry", *g);
            abort();
        }
        lua_setfield(L, -2, *g);
    }
    lua_remove(L, tables);
}

/* The environment of one file: reads fall through to the API, writes fail.
 * Left on the stack. */
static void push_env(lua_State *L)
{
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
    sandbox__mark_host(L, -1);
}

/* --- the audit walk (for tests) -------------------------------------------- */

struct walk_ctx {
    sandbox_walk_fn *fn;
    void *ud;
    int missing;
};

/* Report the function at 'idx' with every audit entry that installed it
 * (math.atan and math.atan2 are one function), or with NULL. */
static void report(lua_State *L, struct walk_ctx *wc, int idx, const char *where)
{
    bool found = false;
    lua_getfield(L, LUA_REGISTRYINDEX, "ltcd.audit");
    for (int i = 0; sandbox_audit[i].name; i++) {
        lua_rawgeti(L, -1, i);
        if (lua_rawequal(L, -1, idx)) {
            wc->fn(wc->ud, where, &sandbox_audit[i]);
            found = true;
        }
        lua_pop(L, 1);
    }
    lua_pop(L, 1);
    lua_CFunction f = lua_tocfunction(L, idx);
    for (const struct sandbox_audit *a = sandbox_audit; !found && a->name; a++)
        if (a->kind == SANDBOX_AUDIT_OWN && a->guard && a->guard == f) {
            wc->fn(wc->ud, where, a);
            found = true;
        }
    if (!found) {
        wc->fn(wc->ud, where, NULL);
        wc->missing++;
    }
}

/* Walk from the value at the top (named 'where'), reporting C functions. */
static void walk_root(lua_State *L, struct walk_ctx *wc, int seen, const char *where)
{
    lua_newtable(L); /* worklist: value, name, value, name, ... */
    int work = lua_gettop(L);
    lua_Integer n = 0;
    lua_pushvalue(L, -2);
    lua_rawseti(L, work, ++n);
    lua_pushstring(L, where);
    lua_rawseti(L, work, ++n);
    while (n > 0) {
        lua_rawgeti(L, work, n - 1);
        lua_rawgeti(L, work, n);
        n -= 2;
        int v = lua_gettop(L) - 1;
        const char *name = lua_tostring(L, v + 1);
        lua_pushvalue(L, v);
        bool old = lua_rawget(L, seen) != LUA_TNIL;
        lua_pop(L, 1);
        if (!old && (lua_type(L, v) == LUA_TTABLE || lua_iscfunction(L, v))) {
            lua_pushvalue(L, v);
            lua_pushboolean(L, 1);
            lua_rawset(L, seen);
            if (lua_iscfunction(L, v)) {
                report(L, wc, v, name);
            } else {
                lua_pushnil(L);
                while (lua_next(L, v)) {
                    for (int k = -2; k <= -1; k++) { /* keys may be functions too */
                        lua_pushvalue(L, k);
                        lua_rawseti(L, work, ++n);
                        if (lua_type(L, -2) == LUA_TSTRING)
                            lua_pushfstring(L, "%s.%s", name, lua_tostring(L, -2));
                        else
                            lua_pushfstring(L, "%s[%s]", name, luaL_typename(L, -2));
                        lua_rawseti(L, work, ++n);
                    }
                    lua_pop(L, 1);
                }
                if (lua_getmetatable(L, v)) {
                    lua_rawseti(L, work, ++n);
                    lua_pushfstring(L, "%s<metatable>", name);
                    lua_rawseti(L, work, ++n);
                }
            }
        }
        lua_settop(L, v - 1);
    }
    lua_pop(L, 2);
}

static int walk_protected(lua_State *L)
{
    struct walk_ctx *wc = lua_touserdata(L, 1);
    lua_newtable(L);
    int seen = lua_gettop(L);
    lua_getfield(L, LUA_REGISTRYINDEX, "ltcd.api");
    int api = lua_gettop(L);
    lua_pushvalue(L, api);
    walk_root(L, wc, seen, "_ENV");
    lua_pushliteral(L, "");
    lua_getmetatable(L, -1);
    walk_root(L, wc, seen, "('')<metatable>");
    lua_pop(L, 1);
    push_env(L);
    walk_root(L, wc, seen, "(a file's _ENV)");
    sandbox__push_frozen_sample(L);
    walk_root(L, wc, seen, "(frozen table)");
    sandbox__push_view_sample(L);
    walk_root(L, wc, seen, "(view)");
    /* What library functions hand out. */
    static const char *const makers[][3] = {
        {"pairs", NULL, "t"},   {"ipairs", NULL, "t"},      {"string", "gmatch", "s"},
        {"utf8", "codes", "s"}, {"coroutine", "wrap", "f"}, {"pairs", NULL, "frozen"},
    };
    for (size_t i = 0; i < sizeof makers / sizeof *makers; i++) {
        lua_getfield(L, api, makers[i][0]);
        if (makers[i][1])
            lua_getfield(L, -1, makers[i][1]), lua_remove(L, -2);
        int nargs = 1;
        if (!strcmp(makers[i][2], "t"))
            lua_newtable(L);
        else if (!strcmp(makers[i][2], "frozen"))
            sandbox__push_frozen_sample(L);
        else if (!strcmp(makers[i][2], "f"))
            luaL_loadstring(L, "return");
        else
            lua_pushliteral(L, ""), lua_pushliteral(L, ""), nargs = 2;
        lua_call(L, nargs, 1);
        char where[64];
        snprintf(where, sizeof where, "(what %s%s%s returns)", makers[i][0],
                 makers[i][1] ? "." : "", makers[i][1] ? makers[i][1] : "");
        walk_root(L, wc, seen, where);
    }
    return 0;
}

int sandbox_audit_walk(struct sandbox *sb, sandbox_walk_fn *fn, void *ud)
{
    struct walk_ctx wc = {.fn = fn, .ud = ud};
    run_start(sb, sb->limits.load_instructions, sb->limits.load_wall_ms);
    lua_pushcfunction(sb->L, walk_protected);
    lua_pushlightuserdata(sb->L, &wc);
    if (lua_pcall(sb->L, 1, 0, 0) != LUA_OK) {
        log_error("sandbox: audit walk failed: %s", lua_tostring(sb->L, -1));
        lua_pop(sb->L, 1);
        return -1;
    }
    return wc.missing;
}

/* --- values across the boundary ------------------------------------- */

void sandbox__push_json(lua_State *L, const json_t *v, int depth)
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
            sandbox__push_json(L, x, depth + 1);
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
            sandbox__push_json(L, x, depth + 1);
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

/* Serialised size of the value being converted, as compact JSON (jansson,
 * JSON_COMPACT): measured while converting, so an oversized result stops as
 * soon as it passes SANDBOX_OUTPUT_MAX_BYTES. */
struct conv {
    struct err_detail *why;
    size_t items;
    size_t max;                                    /* bytes the result may take */
    size_t bytes;                                  /* serialised so far */
    bool over;                                     /* bytes passed the limit */
    int depth;                                     /* entries of keys/idx in use */
    const char *keys[SANDBOX_VALUE_DEPTH_MAX + 1]; /* borrowed from the Lua stack */
    lua_Integer idx[SANDBOX_VALUE_DEPTH_MAX + 1];  /* when keys[i] is NULL */
    /* The containers being filled, one a level: reading a view converts it
     * (charged, allocating), which may raise an error past to_json, and
     * then the caller frees them (conv_drop). */
    json_t *open[SANDBOX_VALUE_DEPTH_MAX + 1];
};

static void conv_drop(struct conv *c)
{
    for (int i = 0; i <= SANDBOX_VALUE_DEPTH_MAX; i++) {
        json_decref(c->open[i]);
        c->open[i] = NULL;
    }
}

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

static int conv_add(struct conv *c, size_t n)
{
    c->bytes += n;
    if (c->bytes <= c->max)
        return 0;
    c->over = true;
    return err_set(c->why, -ERR_RULE_RUNTIME,
                   "output over the %zu-byte limit of one rule call (serialised as JSON)", c->max);
}

/* A JSON string's length: quotes, and escapes as jansson writes them. */
static size_t json_string_bytes(const char *s, size_t n)
{
    size_t b = n + 2;
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)s[i];
        if (ch == '"' || ch == '\\' || ch == '\b' || ch == '\f' || ch == '\n' || ch == '\r' ||
            ch == '\t')
            b += 1;
        else if (ch < 0x20)
            b += 5;
    }
    return b;
}

static size_t json_number_bytes(const json_t *v)
{
    if (json_is_integer(v)) {
        long long i = (long long)json_integer_value(v);
        unsigned long long u = i < 0 ? 0ull - (unsigned long long)i : (unsigned long long)i;
        size_t d = i < 0;
        do
            d++;
        while (u /= 10);
        return d;
    }
    char buf[64];
    size_t n = (size_t)snprintf(buf, sizeof buf, "%.17g", json_real_value(v));
    char *e = strchr(buf, 'e');
    if (!e)
        return n + (strchr(buf, '.') ? 0 : 2); /* jansson adds ".0" */
    /* jansson drops an exponent's '+' and its leading zeros. */
    char *p = e + 1;
    if (*p == '+')
        n--, p++;
    else if (*p == '-')
        p++;
    while (*p == '0' && p[1])
        n--, p++;
    return n;
}

/* Convert the value at 'idx' with raw access only (no metamethod runs);
 * frozen tables are read through to their contents. */
static int to_json(lua_State *L, int idx, int depth, struct conv *c, json_t **out)
{
    idx = lua_absindex(L, idx);
    if (++c->items > SANDBOX_VALUE_ITEMS_MAX)
        return conv_fail(c, "too many values");
    switch (lua_type(L, idx)) {
    case LUA_TBOOLEAN:
        *out = json_boolean(lua_toboolean(L, idx));
        return conv_add(c, lua_toboolean(L, idx) ? 4 : 5);
    case LUA_TNUMBER: {
        int isint;
        lua_Integer i = lua_tointegerx(L, idx, &isint);
        if (isint) {
            *out = json_integer(i);
            return conv_add(c, json_number_bytes(*out));
        }
        double d = lua_tonumber(L, idx);
        if (isnan(d))
            return conv_fail(c, "NaN");
        if (isinf(d))
            return conv_fail(c, "infinity");
        *out = json_real(d);
        return conv_add(c, json_number_bytes(*out));
    }
    case LUA_TSTRING: {
        size_t n;
        const char *s = lua_tolstring(L, idx, &n);
        if (memchr(s, '\0', n))
            return conv_fail(c, "string with a NUL byte");
        if (conv_add(c, json_string_bytes(s, n)))
            return -ERR_RULE_RUNTIME;
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
    if (!lua_checkstack(L, 5))
        return conv_fail(c, "nested too deeply");
    int top = lua_gettop(L);
    if (sandbox__frozen_view(L, idx))
        idx = lua_gettop(L);
    /* An array when its keys are exactly 1..#t. */
    lua_Integer len = (lua_Integer)lua_rawlen(L, idx);
    size_t count = 0;
    bool all_int = true;
    lua_pushnil(L);
    while (lua_next(L, idx)) {
        if (!lua_isinteger(L, -2))
            all_int = false;
        lua_pop(L, 1);
        if (++count > SANDBOX_VALUE_ITEMS_MAX) {
            lua_settop(L, top);
            return conv_fail(c, "too many values");
        }
    }
    bool array = all_int && (lua_Integer)count == len;
    json_t *res = array ? json_array() : json_object();
    c->open[depth] = res;
    int rc = conv_add(c, count ? 1 + count : 2); /* brackets and commas */
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
                break;
            }
            size_t kn;
            const char *k = lua_tolstring(L, -2, &kn);
            c->keys[c->depth++] = k;
            json_t *x = NULL;
            /* A key is a C string from here on: a NUL would silently cut it. */
            rc = memchr(k, '\0', kn) ? conv_fail(c, "key with a NUL byte")
                                     : conv_add(c, json_string_bytes(k, kn) + 1);
            if (!rc)
                rc = to_json(L, -1, depth + 1, c, &x);
            if (!rc && json_object_set_new(res, k, x))
                rc = conv_fail(c, "key is not valid UTF-8");
            if (!rc)
                c->depth--;
            lua_pop(L, 1);
        }
    }
    lua_settop(L, top);
    c->open[depth] = NULL;
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
    sandbox__mark_host(sb->L, -1);
    lua_setfield(sb->L, LUA_REGISTRYINDEX, "ltcd.api");
    lua_pushliteral(sb->L, "");
    lua_getmetatable(sb->L, -1);
    sandbox__mark_host(sb->L, -1);
    lua_pop(sb->L, 2);
    lua_newtable(sb->L);
    sb->exports_ref = luaL_ref(sb->L, LUA_REGISTRYINDEX);
    lua_newtable(sb->L);
    sb->snapshots_ref = luaL_ref(sb->L, LUA_REGISTRYINDEX);
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
    push_env(L);
    lua_setupvalue(L, -2, 1);
    lc->status = lua_pcall(L, 0, 1, 0);
    /* What the file returned is its state from now on: read-only to calls. */
    if (lc->status == LUA_OK && (lua_istable(L, -1) || lua_isfunction(L, -1)))
        sandbox__freeze(L, lc->path);
    return 1; /* the export or the message */
}

/* Per thread: the loop's calls are counted, a job thread's (job.h) are
 * what-if calls on a private copy of the rules and are not. */
static _Thread_local sandbox_observer_fn *observer;

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

/* With the file's path string at the top, push its export (or the export's
 * raw field, through a frozen table) and return its Lua type, or LUA_TNONE. */
static int push_export(struct sandbox *sb, const char *member)
{
    lua_State *L = sb->L;
    lua_rawgeti(L, LUA_REGISTRYINDEX, sb->exports_ref);
    lua_pushvalue(L, -2);
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
        if (sandbox__frozen_view(L, -1))
            lua_remove(L, -2);
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
    if (!lua_checkstack(sb->L, 6))
        return SANDBOX_NONE;
    lua_pushstring(sb->L, path);
    int t = push_export(sb, member);
    lua_pop(sb->L, t == LUA_TNONE ? 1 : 2);
    return t == LUA_TNONE       ? SANDBOX_NONE
           : t == LUA_TTABLE    ? SANDBOX_TABLE
           : t == LUA_TFUNCTION ? SANDBOX_FUNCTION
                                : SANDBOX_OTHER;
}

struct call_ctx {
    json_t *const *args;
    int nargs;
    unsigned views; /* bit i: args[i] goes in as a read-only view */
    int status;     /* of the rule's own run */
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
            if (cc->views & (1u << i))
                sandbox__push_view(L, cc->args[i], 0);
            else
                sandbox__push_json(L, cc->args[i], 0);
        cc->status = lua_pcall(L, cc->nargs, 1, 0);
        if (cc->status != LUA_OK)
            return 1;
    }
    cc->conv_rc = to_json(L, -1, 0, &cc->conv, &cc->out);
    return 0;
}

static int call(struct sandbox *sb, const char *path, const char *member, json_t *const *args,
                int nargs, unsigned views, size_t out_max, json_t **out, struct err_detail *why);

void sandbox_set_call_wall_ms(struct sandbox *sb, uint64_t ms)
{
    sb->limits.call_wall_ms = ms;
}

uint64_t sandbox_call_wall_ms(const struct sandbox *sb)
{
    return sb->limits.call_wall_ms;
}

int sandbox_call(struct sandbox *sb, const char *path, const char *member, json_t *const *args,
                 int nargs, json_t **out, struct err_detail *why)
{
    return sandbox_call_sized(sb, path, member, args, nargs, SANDBOX_OUTPUT_MAX_BYTES, out, why);
}

int sandbox_call_sized(struct sandbox *sb, const char *path, const char *member,
                       json_t *const *args, int nargs, size_t out_max_bytes, json_t **out,
                       struct err_detail *why)
{
    int rc = call(sb, path, member, args, nargs, 0, out_max_bytes, out, why);
    if (observer)
        observer(sb->owner, outcome_of(rc));
    return rc;
}

int sandbox_call_viewing(struct sandbox *sb, const char *path, const char *member,
                         json_t *const *args, int nargs, unsigned views, json_t **out,
                         struct err_detail *why)
{
    int rc = call(sb, path, member, args, nargs, views, SANDBOX_OUTPUT_MAX_BYTES, out, why);
    if (observer)
        observer(sb->owner, outcome_of(rc));
    return rc;
}

static int call(struct sandbox *sb, const char *path, const char *member, json_t *const *args,
                int nargs, unsigned views, size_t out_max, json_t **out, struct err_detail *why)
{
    lua_State *L = sb->L;
    if (!lua_checkstack(L, 8))
        return err_set(why, -ERR_RULE_MEMORY, "%s v%d: out of stack", sb->owner, sb->version);
    lua_settop(L, 0);
    lua_pushstring(L, path); /* slot 1, until the end: the key of the file's snapshot */
    int t = push_export(sb, member);
    if (t == LUA_TNONE) {
        lua_settop(L, 0);
        return err_set(why, -ERR_NOT_FOUND, "%s v%d: %s%s%s%s is not defined", sb->owner,
                       sb->version, sb->prefix, path, member ? ": " : "", member ? member : "");
    }
    struct call_ctx cc = {.args = args, .nargs = nargs, .views = views, .conv.max = out_max};
    sb->call_seq++; /* views of earlier calls are dead from here on */
    struct err_detail conv_why;
    cc.conv.why = &conv_why;
    lua_pushcfunction(L, call_protected);
    lua_insert(L, -2);
    lua_pushlightuserdata(L, &cc);
    run_start(sb, sb->limits.call_instructions, sb->limits.call_wall_ms);
    int st = lua_pcall(L, 2, 1, 0);
    /* Whatever the call did to its file's upvalues is undone (sandbox.h). */
    sandbox__restore(L, 1);
    if (st == LUA_OK && cc.status != LUA_OK)
        st = cc.status;
    if (st != LUA_OK) {
        conv_drop(&cc.conv); /* an error while converting a view */
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
