/* engine/sandbox_guard.c: guards that charge the work of one C library call
 * to the run's instruction budget before the call does it (or, where the
 * memory cap already bounds it, right after). The instruction hook cannot
 * stop a C function, so without these a single call could run for as long
 * as its arguments ask. Which function has which guard, and why the others
 * need none, is the audit table in sandbox.c. */
#include <ctype.h>
#include <limits.h>
#include <stdatomic.h>
#include <string.h>

#include "sandbox_internal.h"

#define BYTES(n) ((uint64_t)(n) / SANDBOX_COST_BYTES_PER_UNIT)

/* string.find of this Lua: the same function for every state, stored by
 * each state's set-up, on whichever thread builds it (job.h). */
static _Atomic(lua_CFunction) original_find;

void sandbox__set_find(lua_CFunction find)
{
    atomic_store_explicit(&original_find, find, memory_order_relaxed);
}

int sandbox__call_original(lua_State *L)
{
    return lua_tocfunction(L, lua_upvalueindex(1))(L);
}

static uint64_t str_len(lua_State *L, int idx)
{
    return lua_type(L, idx) == LUA_TSTRING ? (uint64_t)lua_rawlen(L, idx) : 0;
}

/* An optional integer argument, read without raising: false when it is
 * present but not an integer (the original then raises its own error). */
static bool opt_int(lua_State *L, int arg, lua_Integer def, lua_Integer *out)
{
    if (lua_isnoneornil(L, arg)) {
        *out = def;
        return true;
    }
    int ok;
    *out = lua_tointegerx(L, arg, &ok);
    return ok;
}

/* Number of integers in [a, b], saturating; 0 when b < a. */
static uint64_t span(lua_Integer a, lua_Integer b)
{
    if (b < a)
        return 0;
    uint64_t d = (uint64_t)b - (uint64_t)a;
    return d == UINT64_MAX ? d : d + 1;
}

/* Charge the length of the string the call returned (its first result). */
static int charge_result(lua_State *L, int nres, const char *what)
{
    if (nres > 0)
        sandbox__charge(L, BYTES(str_len(L, lua_gettop(L) - nres + 1)), what);
    return nres;
}

/* --- base, math, coroutine --------------------------------------------- */

/* A failing assert prefixes its message with the position: a copy. */
int sandbox__g_assert(lua_State *L)
{
    if (!lua_toboolean(L, 1))
        sandbox__charge(L, BYTES(str_len(L, 2)), "assert");
    return sandbox__call_original(L);
}

/* error adds the position to a string message, a copy; charged whatever the
 * level, so that a message that coroutine.wrap later copies again has been
 * paid for once. */
int sandbox__g_error(lua_State *L)
{
    sandbox__charge(L, BYTES(str_len(L, 1)), "error");
    return sandbox__call_original(L);
}

int sandbox__g_tonumber(lua_State *L)
{
    sandbox__charge(L, BYTES(str_len(L, 1)), "tonumber");
    return sandbox__call_original(L);
}

int sandbox__g_tostring(lua_State *L)
{
    bool copy = lua_type(L, 1) != LUA_TSTRING;
    int n = sandbox__call_original(L);
    return copy ? charge_result(L, n, "tostring") : n;
}

/* Two distinct long strings are compared byte by byte. */
int sandbox__g_rawequal(lua_State *L)
{
    uint64_t a = str_len(L, 1), b = str_len(L, 2);
    sandbox__charge(L, BYTES(a < b ? a : b), "rawequal");
    return sandbox__call_original(L);
}

int sandbox__g_minmax(lua_State *L)
{
    sandbox__charge(L, (uint64_t)lua_gettop(L), "math.min/max");
    return sandbox__call_original(L);
}

/* coroutine.resume: arguments and results are moved one by one; a run
 * killed inside the coroutine stays killed (A7). */
int sandbox__g_resume(lua_State *L)
{
    sandbox__charge(L, (uint64_t)lua_gettop(L), "coroutine.resume");
    int n = sandbox__call_original(L);
    if (sandbox__of(L)->killed)
        return luaL_error(L, "budget exhausted inside a coroutine");
    sandbox__charge(L, (uint64_t)n, "coroutine.resume");
    return n;
}

/* coroutine.wrap: what it returns is the library's step function, called
 * directly with the same upvalue (the coroutine), so that positions in its
 * messages still name the caller. Upvalues: the coroutine, the step. */
int sandbox__g_wrap(lua_State *L)
{
    sandbox__call_original(L);
    lua_getupvalue(L, -1, 1);
    lua_pushcfunction(L, lua_tocfunction(L, -2));
    lua_pushcclosure(L, sandbox__g_wrapped, 2);
    return 1;
}

int sandbox__g_wrapped(lua_State *L)
{
    sandbox__charge(L, (uint64_t)lua_gettop(L), "coroutine.wrap");
    int n = lua_tocfunction(L, lua_upvalueindex(2))(L);
    if (sandbox__of(L)->killed)
        return luaL_error(L, "budget exhausted inside a coroutine");
    sandbox__charge(L, (uint64_t)n, "coroutine.wrap");
    return n;
}

/* --- string ---------------------------------------------------------- */

/* Lua's string positions (lstrlib's rules): a start position counted from
 * the end when negative, clipped to [1, inf); an end position clipped to
 * [0, len]. */
static size_t start_pos(lua_Integer pos, size_t len)
{
    if (pos > 0)
        return (size_t)pos;
    if (pos == 0 || pos < -(lua_Integer)len)
        return 1;
    return len + (size_t)pos + 1;
}

static size_t end_pos(lua_Integer pos, size_t len)
{
    if (pos > (lua_Integer)len)
        return len;
    if (pos >= 0)
        return (size_t)pos;
    if (pos < -(lua_Integer)len)
        return 0;
    return len + (size_t)pos + 1;
}

/* string.byte pushes one value per byte of the range. */
int sandbox__g_byte(lua_State *L)
{
    size_t l = (size_t)str_len(L, 1);
    lua_Integer i, j;
    if (opt_int(L, 2, 1, &i) && opt_int(L, 3, i, &j)) {
        size_t a = start_pos(i, l), b = end_pos(j, l);
        if (a <= b)
            sandbox__charge(L, b - a + 1, "string.byte");
    }
    return sandbox__call_original(L);
}

int sandbox__g_char(lua_State *L)
{
    sandbox__charge(L, (uint64_t)lua_gettop(L), "string.char");
    return sandbox__call_original(L);
}

/* string.sub, upper, lower, reverse: work in proportion to what they return,
 * which the memory cap bounds, so charged after. */
int sandbox__g_result_len(lua_State *L)
{
    return charge_result(L, sandbox__call_original(L), "string function");
}

static uint64_t count_byte(const char *s, size_t n, char c)
{
    uint64_t k = 0;
    for (const char *q = s; (q = memchr(q, c, n - (size_t)(q - s))) != NULL; q++)
        k++;
    return k;
}

int sandbox__g_format(lua_State *L)
{
    if (lua_type(L, 1) == LUA_TSTRING) {
        size_t lf;
        const char *f = lua_tolstring(L, 1, &lf);
        sandbox__charge(
            L,
            sandbox__add(BYTES(lf), sandbox__mul(count_byte(f, lf, '%'), SANDBOX_COST_FORMAT_ITEM)),
            "string.format");
    }
    return charge_result(L, sandbox__call_original(L), "string.format");
}

/* string.rep loops once per copy even when the copies are empty (rep("",
 * math.maxinteger) never ends); a result over the memory cap fails to
 * allocate before the loop, so that case is left to the cap. */
int sandbox__g_rep(lua_State *L)
{
    lua_Integer n;
    int ok;
    n = lua_tointegerx(L, 2, &ok);
    bool strs = (lua_type(L, 1) == LUA_TSTRING || lua_type(L, 1) == LUA_TNUMBER) &&
                (lua_isnoneornil(L, 3) || lua_type(L, 3) == LUA_TSTRING);
    if (ok && strs && n > 0) {
        uint64_t l = str_len(L, 1), lsep = str_len(L, 3);
        uint64_t total =
            sandbox__add(sandbox__mul((uint64_t)n, l), sandbox__mul((uint64_t)n - 1, lsep));
        if (l + lsep == 0 || total <= sandbox__of(L)->limits.mem_max_bytes)
            sandbox__charge(L, sandbox__add((uint64_t)n, BYTES(total)), "string.rep");
    }
    return sandbox__call_original(L);
}

/* string.pack: every option writes at most 16 bytes, except 'c' and '!'
 * sizes and strings, which the format's numbers and the arguments bound. */
int sandbox__g_pack(lua_State *L)
{
    if (lua_type(L, 1) == LUA_TSTRING) {
        size_t lf;
        const char *f = lua_tolstring(L, 1, &lf);
        uint64_t bound = sandbox__mul(lf, 16), num = 0;
        for (size_t i = 0; i < lf; i++) {
            if (isdigit((unsigned char)f[i])) {
                num = sandbox__add(sandbox__mul(num, 10), (uint64_t)(f[i] - '0'));
            } else {
                bound = sandbox__add(bound, num);
                num = 0;
            }
        }
        bound = sandbox__add(bound, num);
        for (int i = 2; i <= lua_gettop(L); i++)
            bound = sandbox__add(bound, str_len(L, i));
        sandbox__charge(L, sandbox__add(lf, BYTES(bound)), "string.pack");
    }
    return sandbox__call_original(L);
}

int sandbox__g_packsize(lua_State *L)
{
    sandbox__charge(L, str_len(L, 1), "string.packsize");
    return sandbox__call_original(L);
}

int sandbox__g_unpack_str(lua_State *L)
{
    sandbox__charge(L, sandbox__add(str_len(L, 1), BYTES(str_len(L, 2))), "string.unpack");
    return sandbox__call_original(L);
}

/* Arithmetic on strings ("10" + 1) converts them with lua_stringtonumber. */
int sandbox__g_arith(lua_State *L)
{
    sandbox__charge(L, BYTES(str_len(L, 1) + str_len(L, 2)), "string arithmetic");
    return sandbox__call_original(L);
}

/* --- patterns ---------------------------------------------------------- */

/* The matcher (lstrlib's match) backtracks with no memory of what it has
 * tried. A bound of the steps of one attempt at one start position follows
 * the pattern item by item, from the end: a single item adds one step; '?'
 * may try the rest twice; '*', '+' and '-' try it once per length of the
 * item's run, which is at most the longest run of the item's class in the
 * subject (all of it for '.'); %b and back-references scan the subject.
 * Each test of a character against a class costs class_cost units. The
 * parse below follows lstrlib's, so that the bound is about the items the
 * matcher sees. */

enum pat_kind { P_CLASS, P_CAPTURE, P_END, P_SCAN, P_FRONTIER, P_ERROR };

struct pat_item {
    enum pat_kind kind;
    const char *cls, *cls_end; /* P_CLASS: the class, in the pattern */
    char suffix;               /* P_CLASS: 0, '?', '*', '+' or '-' */
};

/* End of the class that starts at p (as lstrlib's classend), or NULL when it
 * is malformed: the matcher raises when it reaches it. */
static const char *class_end(const char *p, const char *pe)
{
    if (*p == '%')
        return p + 1 < pe ? p + 2 : NULL;
    if (*p != '[')
        return p + 1;
    p++;
    if (p < pe && *p == '^')
        p++;
    do { /* the first character is a member even when it is ']' */
        if (p >= pe)
            return NULL;
        if (*p++ == '%' && p < pe)
            p++;
    } while (p >= pe || *p != ']');
    return p + 1;
}

static bool class_letter(int c, int cl)
{
    bool res;
    switch (tolower(cl)) {
    case 'a':
        res = isalpha(c);
        break;
    case 'c':
        res = iscntrl(c);
        break;
    case 'd':
        res = isdigit(c);
        break;
    case 'g':
        res = isgraph(c);
        break;
    case 'l':
        res = islower(c);
        break;
    case 'p':
        res = ispunct(c);
        break;
    case 's':
        res = isspace(c);
        break;
    case 'u':
        res = isupper(c);
        break;
    case 'w':
        res = isalnum(c);
        break;
    case 'x':
        res = isxdigit(c);
        break;
    case 'z':
        res = c == 0;
        break;
    default:
        return cl == c;
    }
    return islower(cl) ? res : !res;
}

/* Whether c is in the set [ ... ] from p ('[') to last (its ']'). */
static bool set_has(int c, const char *p, const char *last)
{
    bool in = true;
    if (p[1] == '^') {
        in = false;
        p++;
    }
    while (++p < last) {
        if (*p == '%') {
            p++;
            if (class_letter(c, (unsigned char)*p))
                return in;
        } else if (p[1] == '-' && p + 2 < last) {
            p += 2;
            if ((unsigned char)p[-2] <= c && c <= (unsigned char)*p)
                return in;
        } else if ((unsigned char)*p == c) {
            return in;
        }
    }
    return !in;
}

static bool class_has(int c, const char *cls, const char *cls_end)
{
    switch (*cls) {
    case '.':
        return true;
    case '%':
        return class_letter(c, (unsigned char)cls[1]);
    case '[':
        return set_has(c, cls, cls_end - 1);
    default:
        return (unsigned char)*cls == c;
    }
}

static int pat_parse(const char *p, const char *pe, struct pat_item *it)
{
    int n = 0;
    while (p < pe) {
        struct pat_item *x = &it[n++];
        x->kind = P_CAPTURE;
        switch (*p) {
        case '(':
            p += p + 1 < pe && p[1] == ')' ? 2 : 1;
            continue;
        case ')':
            p++;
            continue;
        case '$':
            if (p + 1 == pe) {
                x->kind = P_END;
                return n;
            }
            break;
        case '%':
            if (p + 1 < pe && p[1] == 'b') {
                if (p + 3 >= pe) {
                    x->kind = P_ERROR;
                    return n;
                }
                x->kind = P_SCAN;
                p += 4;
                continue;
            }
            if (p + 1 < pe && p[1] == 'f') {
                p += 2;
                const char *ep = p < pe && *p == '[' ? class_end(p, pe) : NULL;
                x->kind = ep ? P_FRONTIER : P_ERROR;
                p = ep;
                if (!ep)
                    return n;
                continue;
            }
            if (p + 1 < pe && isdigit((unsigned char)p[1])) {
                x->kind = P_SCAN;
                p += 2;
                continue;
            }
            break;
        default:
            break;
        }
        const char *ep = class_end(p, pe);
        if (!ep) {
            x->kind = P_ERROR;
            return n;
        }
        x->kind = P_CLASS;
        x->cls = p;
        x->cls_end = ep;
        x->suffix = ep < pe && *ep && strchr("?*+-", *ep) ? *ep : 0;
        p = ep + (x->suffix != 0);
    }
    return n;
}

static uint64_t longest_run(const char *s, size_t m, const struct pat_item *x)
{
    if (*x->cls == '.')
        return m;
    uint64_t best = 0, cur = 0;
    for (size_t i = 0; i < m; i++) {
        cur = class_has((unsigned char)s[i], x->cls, x->cls_end) ? cur + 1 : 0;
        if (cur > best)
            best = cur;
    }
    return best;
}

/* Units of one test of a character against an item's class: ctype calls and
 * the switch take ~8 ns, a set a further ~0.5 ns a byte of it (measured). */
static uint64_t class_cost(const struct pat_item *x)
{
    return SANDBOX_COST_CLASS_TEST + (*x->cls == '[' ? (uint64_t)(x->cls_end - x->cls) / 4 : 0);
}

/* Units of one attempt of pattern p (no leading anchor) against a subject
 * of m bytes. Finding the runs costs a class test a byte for each repeated
 * item, charged first. Raises rule_error for a pattern over
 * SANDBOX_PATTERN_MAX. */
static uint64_t attempt_steps(lua_State *L, const char *s, size_t m, const char *p, size_t lp,
                              const char *what)
{
    if (lp > SANDBOX_PATTERN_MAX)
        luaL_error(L, "%s: pattern longer than %d bytes", what, SANDBOX_PATTERN_MAX);
    struct pat_item it[SANDBOX_PATTERN_MAX + 1];
    int n = pat_parse(p, p + lp, it);
    uint64_t scans = 0;
    for (int i = 0; i < n; i++)
        if (it[i].kind == P_CLASS && it[i].suffix && it[i].suffix != '?' && *it[i].cls != '.')
            scans = sandbox__add(scans, sandbox__mul(m, class_cost(&it[i])));
    sandbox__charge(L, scans, what);
    uint64_t t = 1;
    for (int i = n - 1; i >= 0; i--) {
        const struct pat_item *x = &it[i];
        switch (x->kind) {
        case P_ERROR:
        case P_END:
            t = 1;
            break;
        case P_CAPTURE:
            t = sandbox__add(t, 1);
            break;
        case P_FRONTIER: /* two tests against its set */
            t = sandbox__add(t, 2 * (SANDBOX_COST_CLASS_TEST + lp / 4));
            break;
        case P_SCAN: /* %b walks the subject, a back-reference compares it */
            t = sandbox__add(t, (uint64_t)m + 1);
            break;
        case P_CLASS: {
            uint64_t w = class_cost(x);
            if (!x->suffix)
                t = sandbox__add(t, w);
            else if (x->suffix == '?')
                t = sandbox__add(sandbox__mul(t, 2), w);
            else
                t = sandbox__mul(longest_run(s, m, x) + 1, sandbox__add(t, w));
            break;
        }
        }
    }
    return t;
}

static bool no_specials(const char *p, size_t lp)
{
    for (size_t i = 0; i < lp; i++)
        if (p[i] && strchr("^$*+?.([%-", p[i]))
            return false;
    return true;
}

/* Push "^" and the pattern, with each special character escaped when the
 * pattern is a plain string: a pattern anchored at the position given. */
static void push_anchored(lua_State *L, const char *p, size_t lp, bool plain)
{
    luaL_Buffer b;
    luaL_buffinit(L, &b);
    luaL_addchar(&b, '^');
    for (size_t i = 0; i < lp; i++) {
        if (plain && p[i] && strchr("^$*+?.([%-", p[i]))
            luaL_addchar(&b, '%');
        luaL_addchar(&b, p[i]);
    }
    luaL_pushresult(&b);
}

struct search {
    size_t m;      /* subject length */
    const char *p; /* pattern, without a leading '^' anchor; kept alive in slot 5 */
    size_t lp;
    bool plain, anchored;
    uint64_t steps; /* per attempt */
    const char *what;
};

/* Searches run on the caller's frame, which the library's find reads its
 * arguments from: slot 1 the subject, 2 the pattern, 3 and 4 find's init and
 * plain, 5 the pattern as given (so it stays alive while 2 holds another). */
static void search_init(lua_State *L, struct search *q, bool plain, const char *what)
{
    const char *s = luaL_checklstring(L, 1, &q->m);
    q->p = luaL_checklstring(L, 2, &q->lp);
    lua_settop(L, 4);
    lua_pushvalue(L, 2);
    q->what = what;
    q->plain = plain || no_specials(q->p, q->lp);
    q->anchored = !q->plain && q->lp > 0 && q->p[0] == '^';
    if (q->anchored) {
        q->p++;
        q->lp--;
    }
    /* A plain search is memchr and memcmp: a unit a position and 8 bytes compared. */
    q->steps = q->plain ? (uint64_t)q->lp / 8 + 1 : attempt_steps(L, s, q->m, q->p, q->lp, what);
}

/* string.find from 0-based offset s0; leaves find's results at the top and
 * returns their number (one nil: not found). When every attempt fits in the
 * budget left, the library's own search runs and is charged for the
 * attempts it made; otherwise the positions are tried one at a time, each
 * charged before it runs, so a search stops where the budget does. */
static int search_from(lua_State *L, const struct search *q, size_t s0)
{
    uint64_t attempts = q->anchored ? 1 : (uint64_t)(q->m - s0) + 1;
    uint64_t worst = sandbox__mul(attempts, q->steps);
    lua_settop(L, 5);
    lua_pushvalue(L, 5);
    lua_replace(L, 2);
    lua_pushinteger(L, (lua_Integer)s0 + 1);
    lua_replace(L, 3);
    lua_pushboolean(L, q->plain);
    lua_replace(L, 4);
    if (worst <= sandbox__budget_left(L) || q->anchored) {
        if (q->anchored)
            sandbox__charge(L, worst, q->what);
        int n = atomic_load_explicit(&original_find, memory_order_relaxed)(L);
        if (!q->anchored) {
            bool found = !lua_isnil(L, -n);
            uint64_t tried = found ? (uint64_t)lua_tointeger(L, -n) - s0 : attempts;
            sandbox__charge(L, sandbox__mul(tried, q->steps), q->what);
        }
        return n;
    }
    push_anchored(L, q->p, q->lp, q->plain);
    lua_replace(L, 2);
    lua_pushnil(L);
    lua_replace(L, 4);
    uint64_t step = q->steps > SANDBOX_COST_FORMAT_ITEM ? q->steps : SANDBOX_COST_FORMAT_ITEM;
    for (size_t pos = s0; pos <= q->m; pos++) {
        sandbox__charge(L, step, q->what);
        lua_settop(L, 5);
        lua_pushinteger(L, (lua_Integer)pos + 1);
        lua_replace(L, 3);
        int n = atomic_load_explicit(&original_find, memory_order_relaxed)(L);
        if (!lua_isnil(L, -n))
            return n;
    }
    lua_settop(L, 5);
    lua_pushnil(L);
    return 1;
}

/* The results of a match: its captures, or the whole match. */
static int match_results(lua_State *L, int n)
{
    if (n > 2) {
        lua_remove(L, -n);
        lua_remove(L, -(n - 1));
        return n - 2;
    }
    size_t m;
    const char *s = lua_tolstring(L, 1, &m);
    lua_Integer a = lua_tointeger(L, -2), b = lua_tointeger(L, -1);
    lua_pushlstring(L, s + a - 1, (size_t)(b - a + 1));
    return 1;
}

static int find_aux(lua_State *L, bool find)
{
    struct search q;
    lua_Integer init;
    if (!opt_int(L, 3, 1, &init))
        return sandbox__call_original(L);
    search_init(L, &q, find && lua_toboolean(L, 4), find ? "string.find" : "string.match");
    size_t s0 = start_pos(init, q.m) - 1;
    if (s0 > q.m)
        return sandbox__call_original(L);
    int n = search_from(L, &q, s0);
    return find || lua_isnil(L, -n) ? n : match_results(L, n);
}

int sandbox__g_find(lua_State *L)
{
    return find_aux(L, true);
}

int sandbox__g_match(lua_State *L)
{
    return find_aux(L, false);
}

/* string.gmatch, on top of string.find so that each step is charged for the
 * attempts it makes. gmatch reads a leading '^' as a plain character, hence
 * the escape. Upvalues: subject, pattern, next 0-based position, end of the
 * last match (-1: none), steps of one attempt, plain. */
int sandbox__g_gmatch(lua_State *L)
{
    size_t m, lp;
    luaL_checklstring(L, 1, &m);
    const char *p = luaL_checklstring(L, 2, &lp);
    lua_Integer init;
    if (!opt_int(L, 3, 1, &init))
        luaL_checkinteger(L, 3);
    size_t s0 = start_pos(init, m) - 1;
    if (lp > 0 && p[0] == '^') {
        lua_pushliteral(L, "%");
        lua_pushvalue(L, 2);
        lua_concat(L, 2);
        lua_replace(L, 2);
    }
    struct search q;
    search_init(L, &q, false, "string.gmatch");
    lua_settop(L, 2);
    lua_pushinteger(L, s0 > m ? (lua_Integer)m + 1 : (lua_Integer)s0);
    lua_pushinteger(L, -1);
    lua_pushinteger(L, (lua_Integer)q.steps);
    lua_pushboolean(L, q.plain);
    lua_pushcclosure(L, sandbox__g_gmatch_step, 6);
    return 1;
}

int sandbox__g_gmatch_step(lua_State *L)
{
    lua_settop(L, 0);
    lua_pushvalue(L, lua_upvalueindex(1));
    lua_pushvalue(L, lua_upvalueindex(2));
    lua_settop(L, 4);
    lua_pushvalue(L, 2);
    struct search q = {.what = "string.gmatch"};
    lua_tolstring(L, 1, &q.m);
    q.p = lua_tolstring(L, 2, &q.lp);
    q.steps = (uint64_t)lua_tointeger(L, lua_upvalueindex(5));
    q.plain = lua_toboolean(L, lua_upvalueindex(6));
    lua_Integer pos = lua_tointeger(L, lua_upvalueindex(3));
    lua_Integer last = lua_tointeger(L, lua_upvalueindex(4));
    while (pos <= (lua_Integer)q.m) {
        int n = search_from(L, &q, (size_t)pos);
        if (lua_isnil(L, -n))
            break;
        lua_Integer a = lua_tointeger(L, -n), b = lua_tointeger(L, -n + 1);
        if (b == last) { /* an empty match where the last one ended: one further */
            pos = a;
            continue;
        }
        lua_pushinteger(L, b);
        lua_copy(L, -1, lua_upvalueindex(3));
        lua_replace(L, lua_upvalueindex(4));
        return match_results(L, n);
    }
    lua_pushinteger(L, (lua_Integer)q.m + 1);
    lua_replace(L, lua_upvalueindex(3));
    return 0;
}

/* string.gsub cannot report the attempts it made, so it is charged the
 * bound: each position may be tried twice (after an empty match), plus the
 * replacement's copies. */
int sandbox__g_gsub(lua_State *L)
{
    size_t m, lp;
    const char *s = luaL_checklstring(L, 1, &m);
    const char *p = luaL_checklstring(L, 2, &lp);
    int tr = lua_type(L, 3);
    lua_Integer max_n;
    if ((tr != LUA_TSTRING && tr != LUA_TNUMBER && tr != LUA_TTABLE && tr != LUA_TFUNCTION) ||
        !opt_int(L, 4, (lua_Integer)m + 1, &max_n))
        return sandbox__call_original(L);
    bool anchored = lp > 0 && p[0] == '^';
    uint64_t steps = attempt_steps(L, s, m, p + anchored, lp - anchored, "string.gsub");
    uint64_t attempts = anchored ? 1 : (uint64_t)m + 1;
    uint64_t matches = max_n <= 0 ? 0 : (uint64_t)max_n < attempts ? (uint64_t)max_n : attempts;
    uint64_t repl = 1;
    if (tr == LUA_TSTRING) {
        size_t lr;
        const char *r = lua_tolstring(L, 3, &lr);
        repl = BYTES(lr) + 1;
        sandbox__charge(L, sandbox__mul(count_byte(r, lr, '%'), BYTES(m) + 1), "string.gsub");
    } else if (tr == LUA_TTABLE) {
        repl = sandbox__chain_steps(L, 3, "__index");
    }
    uint64_t work = sandbox__add(sandbox__mul(sandbox__mul(attempts, 2), steps),
                                 sandbox__add(BYTES(m), sandbox__mul(matches, repl)));
    sandbox__charge(L, work, "string.gsub");
    return charge_result(L, sandbox__call_original(L), "string.gsub");
}

/* --- table -------------------------------------------------------------- */

/* A length from __len is asked again by the library function itself, and
 * could then be another (math.maxinteger): the functions that loop over it
 * refuse such tables. A frozen table's length is its own (sandbox_freeze.c),
 * and any write to it fails at once. */
static void refuse_len_metamethod(lua_State *L, const char *what)
{
    if (lua_type(L, 1) != LUA_TTABLE || !lua_getmetatable(L, 1))
        return;
    lua_pushliteral(L, "__len");
    bool has = lua_rawget(L, -2) != LUA_TNIL;
    lua_pop(L, 2);
    if (!has)
        return;
    if (!sandbox__frozen_view(L, 1))
        luaL_error(L, "%s: tables with a __len metamethod are not supported in rules", what);
    lua_pop(L, 1);
}

/* #t once, as luaL_len, charging a string that __len returns (converted). */
static lua_Integer table_len(lua_State *L, int idx, const char *what)
{
    lua_len(L, idx);
    sandbox__charge(L, BYTES(str_len(L, -1)), what);
    int ok;
    lua_Integer n = lua_tointegerx(L, -1, &ok);
    if (!ok)
        luaL_error(L, "object length is not an integer");
    lua_pop(L, 1);
    return n;
}

/* Steps of one read and one write of the element loop of table functions. */
static uint64_t rw_steps(lua_State *L, int src, int dst)
{
    return sandbox__add(sandbox__chain_steps(L, src, "__index"),
                        sandbox__chain_steps(L, dst, "__newindex"));
}

int sandbox__g_concat(lua_State *L)
{
    lua_Integer i, last;
    if (lua_type(L, 1) != LUA_TTABLE || !opt_int(L, 3, 1, &i))
        return sandbox__call_original(L);
    if (lua_isnoneornil(L, 4))
        last = table_len(L, 1, "table.concat");
    else if (!opt_int(L, 4, 0, &last))
        return sandbox__call_original(L);
    uint64_t n = span(i, last);
    sandbox__charge(
        L,
        sandbox__mul(n, sandbox__add(sandbox__chain_steps(L, 1, "__index"), BYTES(str_len(L, 2)))),
        "table.concat");
    /* The library asks for #t again, but uses the length given here. */
    lua_settop(L, 4);
    lua_pushinteger(L, last);
    lua_replace(L, 4);
    return charge_result(L, sandbox__call_original(L), "table.concat");
}

int sandbox__g_insert(lua_State *L)
{
    refuse_len_metamethod(L, "table.insert");
    lua_Integer pos;
    if (lua_gettop(L) == 3) /* only then is the 2nd argument a position */
        sandbox__charge(L, BYTES(str_len(L, 2)), "table.insert");
    if (lua_type(L, 1) == LUA_TTABLE && lua_gettop(L) == 3 && opt_int(L, 2, 0, &pos)) {
        lua_Integer e = table_len(L, 1, "table.insert");
        if (e < LUA_MAXINTEGER && pos >= 1 && pos <= e + 1)
            sandbox__charge(L, sandbox__mul(span(pos, e), rw_steps(L, 1, 1)), "table.insert");
    }
    return sandbox__call_original(L);
}

int sandbox__g_remove(lua_State *L)
{
    refuse_len_metamethod(L, "table.remove");
    if (lua_type(L, 1) == LUA_TTABLE) {
        lua_Integer size = table_len(L, 1, "table.remove"), pos;
        if (opt_int(L, 2, size, &pos) && pos >= 1 && pos < size)
            sandbox__charge(L, sandbox__mul(span(pos, size - 1), rw_steps(L, 1, 1)),
                            "table.remove");
    }
    return sandbox__call_original(L);
}

int sandbox__g_move(lua_State *L)
{
    lua_Integer f, e, t;
    int dst = lua_isnoneornil(L, 5) ? 1 : 5;
    if (opt_int(L, 2, 0, &f) && opt_int(L, 3, 0, &e) && opt_int(L, 4, 0, &t) &&
        !lua_isnoneornil(L, 2) && !lua_isnoneornil(L, 3) && !lua_isnoneornil(L, 4))
        sandbox__charge(L, sandbox__mul(span(f, e), rw_steps(L, 1, dst)), "table.move");
    return sandbox__call_original(L);
}

int sandbox__g_tpack(lua_State *L)
{
    sandbox__charge(L, (uint64_t)lua_gettop(L), "table.pack");
    return sandbox__call_original(L);
}

int sandbox__g_tunpack(lua_State *L)
{
    lua_Integer i, e;
    if (!opt_int(L, 2, 1, &i))
        return sandbox__call_original(L);
    if (lua_isnoneornil(L, 3)) {
        e = table_len(L, 1, "table.unpack");
        lua_settop(L, 3); /* the library must not ask for #t again */
        lua_pushinteger(L, e);
        lua_replace(L, 3);
    } else if (!opt_int(L, 3, 0, &e)) {
        return sandbox__call_original(L);
    }
    uint64_t n = span(i, e);
    if (n < INT_MAX)
        sandbox__charge(L, sandbox__mul(n, sandbox__chain_steps(L, 1, "__index")), "table.unpack");
    return sandbox__call_original(L);
}

/* Without an order function, sort compares in C: strings with strcoll, so a
 * comparison costs up to the longest string element. */
int sandbox__g_sort(lua_State *L)
{
    refuse_len_metamethod(L, "table.sort");
    if (lua_type(L, 1) == LUA_TTABLE) {
        lua_Integer n = table_len(L, 1, "table.sort");
        if (n > 1) {
            uint64_t levels = 1;
            while (levels < 64 && ((uint64_t)1 << levels) < (uint64_t)n)
                levels++;
            uint64_t rw = rw_steps(L, 1, 1), cmp = 1;
            if (lua_isnoneornil(L, 2)) {
                sandbox__charge(L, sandbox__mul((uint64_t)n, rw), "table.sort");
                for (lua_Integer i = 1; i <= n; i++) {
                    lua_geti(L, 1, i);
                    if (BYTES(str_len(L, -1)) + 1 > cmp)
                        cmp = BYTES(str_len(L, -1)) + 1;
                    lua_pop(L, 1);
                }
            }
            uint64_t step = sandbox__add(sandbox__mul(SANDBOX_COST_SORT_STEP, rw), cmp);
            sandbox__charge(L, sandbox__mul(sandbox__mul((uint64_t)n, levels), step), "table.sort");
        }
    }
    return sandbox__call_original(L);
}

/* --- utf8 -------------------------------------------------------------- */

/* utf8's positions (lutf8lib's u_posrelat): negative counts from the end. */
static lua_Integer u_pos(lua_Integer pos, size_t len)
{
    if (pos >= 0)
        return pos;
    if (0u - (size_t)pos > len)
        return 0;
    return (lua_Integer)len + pos + 1;
}

int sandbox__g_utf8_char(lua_State *L)
{
    sandbox__charge(L, sandbox__mul((uint64_t)lua_gettop(L), SANDBOX_COST_FORMAT_ITEM),
                    "utf8.char");
    return sandbox__call_original(L);
}

int sandbox__g_codepoint(lua_State *L)
{
    size_t len = (size_t)str_len(L, 1);
    lua_Integer i, j;
    if (opt_int(L, 2, 1, &i)) {
        i = u_pos(i, len);
        if (opt_int(L, 3, i, &j))
            sandbox__charge(L, span(i, u_pos(j, len)), "utf8.codepoint");
    }
    return sandbox__call_original(L);
}

int sandbox__g_utf8_len(lua_State *L)
{
    size_t len = (size_t)str_len(L, 1);
    lua_Integer i, j;
    if (opt_int(L, 2, 1, &i) && opt_int(L, 3, -1, &j))
        sandbox__charge(L, BYTES(span(u_pos(i, len), u_pos(j, len))) + 1, "utf8.len");
    return sandbox__call_original(L);
}

/* utf8.offset walks over as many continuation bytes as the string holds. */
int sandbox__g_offset(lua_State *L)
{
    sandbox__charge(L, BYTES(str_len(L, 1)) + 1, "utf8.offset");
    return sandbox__call_original(L);
}

int sandbox__g_codes(lua_State *L)
{
    int n = sandbox__call_original(L);
    lua_pushvalue(L, -n); /* the library's step function */
    lua_pushcclosure(L, sandbox__g_codes_step, 1);
    lua_replace(L, -n - 1);
    return n;
}

/* A step of utf8.codes skips every continuation byte at the position it is
 * given; they are counted here first, no further than the budget allows. */
int sandbox__g_codes_step(lua_State *L)
{
    sandbox__charge(L, BYTES(str_len(L, 2)), "utf8.codes"); /* a string position is converted */
    size_t len;
    const char *s = lua_tolstring(L, 1, &len);
    if (s) {
        lua_Unsigned i = (lua_Unsigned)lua_tointeger(L, 2); /* as the step reads it */
        uint64_t limit = sandbox__mul(sandbox__budget_left(L), SANDBOX_COST_BYTES_PER_UNIT);
        uint64_t k = 0;
        while (i + k < len && ((unsigned char)s[i + k] & 0xC0) == 0x80 && k <= limit)
            k++;
        sandbox__charge(L, k > limit ? UINT64_MAX : BYTES(k) + 1, "utf8.codes");
    }
    return lua_tocfunction(L, lua_upvalueindex(1))(L);
}

uint64_t sandbox__chain_steps(lua_State *L, int idx, const char *event)
{
    idx = lua_absindex(L, idx);
    int top = lua_gettop(L);
    luaL_checkstack(L, 4, "metamethod chain");
    uint64_t steps = 1;
    lua_pushvalue(L, idx);
    for (int i = 0; i < 2000 && lua_getmetatable(L, -1); i++) { /* Lua's MAXTAGLOOP */
        lua_pushstring(L, event);
        int t = lua_rawget(L, -2);
        if (t == LUA_TNIL)
            break;
        steps++;
        if (t == LUA_TFUNCTION)
            break;
        lua_replace(L, top + 1);
        lua_settop(L, top + 1);
    }
    lua_settop(L, top);
    return steps;
}
