/* engine/sandbox_freeze.c: a rule file's loaded state, read-only to calls.
 *
 * After a file's top-level chunk has run, every table its export reaches
 * (through fields, keys, metatables and the upvalues of its functions) is
 * frozen in place: its contents move to a hidden table, and its metatable
 * becomes one that reads from there and refuses every write. The table keeps
 * its identity, so upvalues and other tables still point at it. The upvalues
 * themselves (a counter, a table a call replaces) are snapshotted, and put
 * back after every call. Host tables (the API, the string metatable, each
 * file's _ENV) are read-only already and left alone. */
#include <string.h>

#include "sandbox_internal.h"

/* Private keys of a frozen table's metatable: light userdata, which rules
 * cannot make. */
static const char key_contents; /* the hidden contents */
static const char key_meta;     /* what getmetatable answers for the table */
static const char key_lazy;     /* a view's JSON value, not converted yet */
static const char key_call;     /* the call a view belongs to */
static const char key_depth;    /* a view's depth in its argument */

#define HOST_SET "ltcd.host" /* registry: { [host table or closure] = true } */

static void materialize(lua_State *L, int mt);

bool sandbox__frozen_view(lua_State *L, int idx)
{
    if (lua_type(L, idx) != LUA_TTABLE || !lua_getmetatable(L, idx))
        return false;
    if (lua_rawgetp(L, -1, &key_contents) == LUA_TTABLE) {
        lua_remove(L, -2);
        return true;
    }
    lua_pop(L, 1);
    if (lua_rawgetp(L, -1, &key_lazy) == LUA_TLIGHTUSERDATA) {
        lua_pop(L, 1);
        materialize(L, lua_gettop(L)); /* pushes the contents */
        lua_remove(L, -2);
        return true;
    }
    lua_pop(L, 2);
    return false;
}

/* --- views: arguments read in place -----------------------------------------
 * A view is an empty table whose metatable holds the JSON value (a light
 * userdata: rules cannot make one, and the metatable is protected). The
 * first read of any kind converts one level into the hidden contents of a
 * frozen table, children as views of their own; from then on it is one. */

static void push_view_meta(lua_State *L, const json_t *v, int depth)
{
    lua_createtable(L, 0, 8); /* and key_contents, once read */
    lua_pushlightuserdata(L, (void *)v);
    lua_rawsetp(L, -2, &key_lazy);
    lua_pushinteger(L, (lua_Integer)sandbox__of(L)->call_seq);
    lua_rawsetp(L, -2, &key_call);
    lua_pushinteger(L, depth);
    lua_rawsetp(L, -2, &key_depth);
    lua_pushcfunction(L, sandbox__view_index);
    lua_setfield(L, -2, "__index");
    lua_pushcfunction(L, sandbox__view_newindex);
    lua_setfield(L, -2, "__newindex");
    lua_pushcfunction(L, sandbox__f_len);
    lua_setfield(L, -2, "__len");
    lua_pushboolean(L, 0);
    lua_setfield(L, -2, "__metatable");
    /* No key_meta: getmetatable answers nil, as for the copy a view replaces,
     * before and after the first read. */
}

void sandbox__push_view(lua_State *L, const json_t *v, int depth)
{
    if (!json_is_object(v) && !json_is_array(v)) {
        sandbox__push_json(L, v, depth);
        return;
    }
    luaL_checkstack(L, 4, "value too deep");
    if (depth > SANDBOX_VALUE_DEPTH_MAX)
        luaL_error(L, "argument nested too deeply");
    lua_createtable(L, 0, 0);
    push_view_meta(L, v, depth);
    lua_setmetatable(L, -2);
}

void sandbox__push_view_sample(lua_State *L)
{
    lua_createtable(L, 0, 0);
    push_view_meta(L, NULL, 0);
    lua_setmetatable(L, -2);
}

/* Convert the view whose metatable is at 'mt' (absolute) and push its
 * contents. Charged like the work it does: one unit an entry. */
static void materialize(lua_State *L, int mt)
{
    lua_rawgetp(L, mt, &key_lazy);
    const json_t *v = lua_touserdata(L, -1);
    lua_rawgetp(L, mt, &key_call);
    bool current = lua_tointeger(L, -1) == (lua_Integer)sandbox__of(L)->call_seq;
    lua_rawgetp(L, mt, &key_depth);
    int depth = (int)lua_tointeger(L, -1);
    lua_pop(L, 3);
    if (!v || !current)
        luaL_error(L, "a view of an argument used after its call");
    bool object = json_is_object(v);
    size_t n = object ? json_object_size(v) : json_array_size(v);
    sandbox__charge(L, n + 1, "reading an argument");
    luaL_checkstack(L, 4, "value too deep");
    lua_createtable(L, object ? 0 : (int)n, object ? (int)n : 0);
    int h = lua_gettop(L);
    if (object) {
        const char *k;
        json_t *x;
        json_object_foreach((json_t *)v, k, x)
        {
            sandbox__push_view(L, x, depth + 1);
            lua_setfield(L, h, k);
        }
    } else {
        for (size_t i = 0; i < n; i++) {
            sandbox__push_view(L, json_array_get(v, i), depth + 1);
            lua_rawseti(L, h, (lua_Integer)i + 1);
        }
    }
    /* From now on a frozen table: reads go straight to the contents. */
    lua_pushvalue(L, h);
    lua_rawsetp(L, mt, &key_contents);
    lua_pushvalue(L, h);
    lua_setfield(L, mt, "__index");
    lua_pushnil(L);
    lua_rawsetp(L, mt, &key_lazy);
}

int sandbox__view_index(lua_State *L)
{
    if (!sandbox__frozen_view(L, 1))
        return luaL_error(L, "not a view");
    lua_pushvalue(L, 2);
    lua_rawget(L, -2);
    return 1;
}

int sandbox__view_newindex(lua_State *L)
{
    return luaL_error(L,
                      "attempt to change an argument (field '%s'): the instance is read-only to "
                      "this rule; build a new table instead",
                      lua_type(L, 2) == LUA_TSTRING ? lua_tostring(L, 2) : luaL_typename(L, 2));
}

/* Push the frozen table's metatable and return true, or push nothing. */
static bool frozen_meta(lua_State *L, int idx)
{
    if (lua_type(L, idx) != LUA_TTABLE || !lua_getmetatable(L, idx))
        return false;
    if (lua_rawgetp(L, -1, &key_contents) == LUA_TTABLE) {
        lua_pop(L, 1);
        return true;
    }
    lua_pop(L, 1);
    if (lua_rawgetp(L, -1, &key_lazy) == LUA_TLIGHTUSERDATA) { /* a view not read yet */
        lua_pop(L, 1);
        return true;
    }
    lua_pop(L, 2);
    return false;
}

/* --- a frozen table's metamethods and the frozen-aware base functions --- */

int sandbox__f_newindex(lua_State *L)
{
    return luaL_error(L,
                      "attempt to change the rule's loaded state (field '%s'): tables loaded by "
                      "the file are read-only to calls; build a new table instead",
                      lua_type(L, 2) == LUA_TSTRING ? lua_tostring(L, 2) : luaL_typename(L, 2));
}

int sandbox__f_len(lua_State *L)
{
    if (!sandbox__frozen_view(L, 1))
        return luaL_error(L, "not a frozen table");
    lua_pushinteger(L, (lua_Integer)lua_rawlen(L, -1));
    return 1;
}

/* __index of a frozen table whose own metatable had one. Upvalues: the
 * hidden contents, that __index. */
int sandbox__f_index(lua_State *L)
{
    lua_pushvalue(L, 2);
    if (lua_rawget(L, lua_upvalueindex(1)) != LUA_TNIL)
        return 1;
    lua_pop(L, 1);
    if (lua_type(L, lua_upvalueindex(2)) == LUA_TFUNCTION) {
        lua_pushvalue(L, lua_upvalueindex(2));
        lua_pushvalue(L, 1);
        lua_pushvalue(L, 2);
        lua_call(L, 2, 1);
        return 1;
    }
    lua_pushvalue(L, 2);
    lua_gettable(L, lua_upvalueindex(2));
    return 1;
}

/* next and pairs (lbaselib's, seeing through frozen tables). */
int sandbox__f_next(lua_State *L)
{
    luaL_checktype(L, 1, LUA_TTABLE);
    lua_settop(L, 2);
    int t = sandbox__frozen_view(L, 1) ? 3 : 1;
    lua_pushvalue(L, 2);
    if (lua_next(L, t))
        return 2;
    lua_pushnil(L);
    return 1;
}

int sandbox__f_pairs(lua_State *L)
{
    luaL_checkany(L, 1);
    if (luaL_getmetafield(L, 1, "__pairs") == LUA_TNIL) {
        lua_pushcfunction(L, sandbox__f_next);
        lua_pushvalue(L, 1);
        lua_pushnil(L);
    } else {
        lua_pushvalue(L, 1);
        lua_call(L, 1, 3);
    }
    return 3;
}

/* ipairs (lbaselib's); the step charges a string given as its control
 * variable, which luaL_checkinteger would read whole. */
int sandbox__f_ipairs_step(lua_State *L)
{
    if (lua_type(L, 2) == LUA_TSTRING)
        sandbox__charge(L, lua_rawlen(L, 2) / SANDBOX_COST_BYTES_PER_UNIT + 1, "ipairs");
    lua_Integer i = luaL_checkinteger(L, 2);
    i = luaL_intop(+, i, 1);
    lua_pushinteger(L, i);
    return lua_geti(L, 1, i) == LUA_TNIL ? 1 : 2;
}

int sandbox__f_ipairs(lua_State *L)
{
    luaL_checkany(L, 1);
    lua_pushcfunction(L, sandbox__f_ipairs_step);
    lua_pushvalue(L, 1);
    lua_pushinteger(L, 0);
    return 3;
}

int sandbox__f_rawget(lua_State *L)
{
    if (sandbox__frozen_view(L, 1)) {
        lua_replace(L, 1);
        luaL_checkany(L, 2);
    }
    return sandbox__call_original(L);
}

int sandbox__f_rawlen(lua_State *L)
{
    if (sandbox__frozen_view(L, 1))
        lua_replace(L, 1);
    return sandbox__call_original(L);
}

int sandbox__f_getmetatable(lua_State *L)
{
    if (!frozen_meta(L, 1))
        return sandbox__call_original(L);
    lua_rawgetp(L, -1, &key_meta);
    return 1;
}

/* Also refuses a metatable with a raw __gc (B4, B5): finalizers run with
 * hooks off. */
int sandbox__f_setmetatable(lua_State *L)
{
    if (frozen_meta(L, 1))
        return luaL_error(L, "setmetatable: the rule's loaded state and its arguments' views are "
                             "read-only to calls");
    if (lua_type(L, 2) == LUA_TTABLE) {
        lua_pushliteral(L, "__gc");
        if (lua_rawget(L, 2) != LUA_TNIL)
            return luaL_error(L, "setmetatable: __gc is not allowed in rules");
        lua_pop(L, 1);
    }
    return sandbox__call_original(L);
}

/* --- freezing ------------------------------------------------------------- */

static bool collectable(int t)
{
    return t == LUA_TTABLE || t == LUA_TFUNCTION || t == LUA_TTHREAD || t == LUA_TUSERDATA;
}

/* A worklist walk over the values reachable from the top of the stack: table
 * fields, keys and metatables, closures' upvalues. 'visit' is called with
 * each object not seen before and not in 'skip' (a set, or 0) at the top. */
struct walk {
    int work, seen, skip; /* stack indices of the worklist, seen set, skip set */
    lua_Integer n;        /* worklist length */
};

static void walk_push(lua_State *L, struct walk *w, int idx)
{
    if (!collectable(lua_type(L, idx)))
        return;
    lua_pushvalue(L, idx);
    lua_rawseti(L, w->work, ++w->n);
}

static void walk_begin(lua_State *L, struct walk *w, int skip)
{
    luaL_checkstack(L, 12, "walk");
    int top = lua_gettop(L);
    lua_newtable(L);
    lua_newtable(L);
    w->work = top + 1;
    w->seen = top + 2;
    w->skip = skip;
    w->n = 0;
    walk_push(L, w, top);
}

/* Pops the next object to visit onto the stack; false when done. */
static bool walk_next(lua_State *L, struct walk *w)
{
    while (w->n > 0) {
        lua_rawgeti(L, w->work, w->n);
        lua_pushnil(L);
        lua_rawseti(L, w->work, w->n--);
        lua_pushvalue(L, -1);
        bool skip = lua_rawget(L, w->seen) != LUA_TNIL;
        lua_pop(L, 1);
        if (!skip && w->skip && lua_istable(L, w->skip)) {
            lua_pushvalue(L, -1);
            skip = lua_rawget(L, w->skip) != LUA_TNIL;
            lua_pop(L, 1);
        }
        if (skip) {
            lua_pop(L, 1);
            continue;
        }
        lua_pushvalue(L, -1);
        lua_pushboolean(L, 1);
        lua_rawset(L, w->seen);
        return true;
    }
    return false;
}

/* Queue what the table at the top reaches; returns its number of entries. */
static uint64_t walk_table(lua_State *L, struct walk *w)
{
    int t = lua_gettop(L);
    uint64_t n = 0;
    lua_pushnil(L);
    while (lua_next(L, t)) {
        walk_push(L, w, -2);
        walk_push(L, w, -1);
        lua_pop(L, 1);
        n++;
    }
    if (lua_getmetatable(L, t)) {
        walk_push(L, w, -1);
        lua_pop(L, 1);
    }
    return n;
}

void sandbox__mark_host(lua_State *L, int idx)
{
    idx = lua_absindex(L, idx);
    if (lua_getfield(L, LUA_REGISTRYINDEX, HOST_SET) != LUA_TTABLE) {
        lua_pop(L, 1);
        lua_newtable(L);
        lua_pushvalue(L, -1);
        lua_setfield(L, LUA_REGISTRYINDEX, HOST_SET);
    }
    int host = lua_gettop(L);
    lua_pushvalue(L, idx);
    struct walk w;
    walk_begin(L, &w, host);
    while (walk_next(L, &w)) {
        lua_pushvalue(L, -1);
        lua_pushboolean(L, 1);
        lua_rawset(L, host);
        if (lua_type(L, -1) == LUA_TTABLE)
            walk_table(L, &w);
        else if (lua_type(L, -1) == LUA_TFUNCTION)
            for (int i = 1; lua_getupvalue(L, -1, i); i++) {
                walk_push(L, &w, -1);
                lua_pop(L, 1);
            }
        lua_pop(L, 1);
    }
    lua_settop(L, host - 1);
}

/* Copy the raw fields of the table at 'from' (its hidden contents when it is
 * frozen already) into the table at 'to', except the events freezing
 * decides itself. */
static void copy_metamethods(lua_State *L, int from, int to)
{
    static const char *const own[] = {"__index",     "__newindex", "__len",
                                      "__metatable", "__gc",       "__mode"};
    if (sandbox__frozen_view(L, from))
        from = lua_gettop(L);
    lua_pushnil(L);
    while (lua_next(L, from)) {
        bool skip = false;
        if (lua_type(L, -2) == LUA_TSTRING)
            for (size_t i = 0; i < sizeof own / sizeof *own; i++)
                skip = skip || !strcmp(lua_tostring(L, -2), own[i]);
        if (skip) {
            lua_pop(L, 1);
            continue;
        }
        lua_pushvalue(L, -2);
        lua_insert(L, -2);
        lua_rawset(L, to);
    }
}

/* Raw field 'k' of the table at 'idx', or of its hidden contents. */
static int view_field(lua_State *L, int idx, const char *k)
{
    int top = lua_gettop(L);
    if (sandbox__frozen_view(L, idx))
        idx = lua_gettop(L);
    lua_pushstring(L, k);
    int t = lua_rawget(L, idx);
    lua_replace(L, top + 1);
    lua_settop(L, top + 1);
    return t;
}

/* Freeze the table at 't' in place. */
static void freeze_one(lua_State *L, int t)
{
    int top = lua_gettop(L);
    bool has_mt = lua_getmetatable(L, t);
    int mt = has_mt ? lua_gettop(L) : 0;
    lua_createtable(L, (int)lua_rawlen(L, t), 4);
    int hidden = lua_gettop(L);
    lua_pushnil(L);
    while (lua_next(L, t)) { /* clearing existing fields is allowed while traversing */
        lua_pushvalue(L, -2);
        lua_insert(L, -2);
        lua_rawset(L, hidden);
        lua_pushvalue(L, -1);
        lua_pushnil(L);
        lua_rawset(L, t);
    }
    lua_createtable(L, 0, 6);
    int fm = lua_gettop(L);
    if (has_mt)
        copy_metamethods(L, mt, fm);
    lua_pushvalue(L, hidden);
    lua_rawsetp(L, fm, &key_contents);
    if (has_mt && view_field(L, mt, "__index") != LUA_TNIL) {
        lua_pushvalue(L, hidden);
        lua_insert(L, -2);
        lua_pushcclosure(L, sandbox__f_index, 2);
    } else {
        lua_settop(L, fm);
        lua_pushvalue(L, hidden);
    }
    lua_setfield(L, fm, "__index");
    lua_pushcfunction(L, sandbox__f_newindex);
    lua_setfield(L, fm, "__newindex");
    if (!has_mt || view_field(L, mt, "__len") == LUA_TNIL) {
        lua_settop(L, fm);
        lua_pushcfunction(L, sandbox__f_len);
    }
    lua_setfield(L, fm, "__len");
    if (has_mt) { /* getmetatable answers as before: __metatable, or the (frozen) table */
        if (view_field(L, mt, "__metatable") == LUA_TNIL) {
            lua_pop(L, 1);
            lua_pushvalue(L, mt);
        }
        lua_rawsetp(L, fm, &key_meta);
    }
    lua_pushboolean(L, 0);
    lua_setfield(L, fm, "__metatable");
    lua_pushvalue(L, fm);
    lua_setmetatable(L, t);
    lua_settop(L, top);
}

void sandbox__freeze(lua_State *L, const char *path)
{
    int top = lua_gettop(L);
    lua_getfield(L, LUA_REGISTRYINDEX, HOST_SET);
    lua_pushvalue(L, top);
    struct walk w;
    walk_begin(L, &w, top + 1);
    lua_newtable(L); /* tables to freeze */
    int tables = lua_gettop(L);
    lua_Integer ntables = 0;
    lua_newtable(L); /* the snapshot: closure, upvalue index, value, ... */
    int snap = lua_gettop(L);
    lua_Integer nsnap = 0;
    lua_newtable(L); /* upvalue cells seen: closures share them */
    int cells = lua_gettop(L);
    while (walk_next(L, &w)) {
        sandbox__charge(L, 1, "freezing the loaded state");
        int v = lua_gettop(L);
        switch (lua_type(L, v)) {
        case LUA_TTABLE: /* walked, then moved: twice per entry */
            sandbox__charge(L, 2 * walk_table(L, &w), "freezing the loaded state");
            lua_pushvalue(L, v);
            lua_rawseti(L, tables, ++ntables);
            break;
        case LUA_TFUNCTION:
            for (int i = 1; lua_getupvalue(L, v, i); i++) {
                walk_push(L, &w, -1);
                lua_pushlightuserdata(L, lua_upvalueid(L, v, i));
                bool shared = lua_rawget(L, cells) != LUA_TNIL;
                lua_pop(L, 1);
                if (!shared) {
                    lua_pushlightuserdata(L, lua_upvalueid(L, v, i));
                    lua_pushboolean(L, 1);
                    lua_rawset(L, cells);
                    lua_pushvalue(L, v);
                    lua_rawseti(L, snap, ++nsnap);
                    lua_pushinteger(L, i);
                    lua_rawseti(L, snap, ++nsnap);
                    lua_pushvalue(L, -1);
                    lua_rawseti(L, snap, ++nsnap);
                }
                lua_pop(L, 1);
            }
            break;
        default:
            luaL_error(L,
                       "%s in the file's loaded state: rule state is read-only to calls, so "
                       "coroutines must be made inside the function that uses them",
                       lua_type(L, v) == LUA_TTHREAD ? "a coroutine" : "a userdata");
        }
        lua_settop(L, v - 1);
    }
    for (lua_Integer i = 1; i <= ntables; i++) {
        lua_rawgeti(L, tables, i);
        freeze_one(L, lua_gettop(L));
        lua_pop(L, 1);
    }
    lua_pushinteger(L, nsnap); /* at 0: values may be nil, so no length */
    lua_rawseti(L, snap, 0);
    lua_rawgeti(L, LUA_REGISTRYINDEX, sandbox__of(L)->snapshots_ref);
    lua_pushstring(L, path);
    lua_pushvalue(L, snap);
    lua_rawset(L, -3);
    lua_settop(L, top);
}

/* Runs unprotected after every call, so it allocates nothing: the key is
 * the path string the call pushed (at 'path_idx'). */
void sandbox__restore(lua_State *L, int path_idx)
{
    path_idx = lua_absindex(L, path_idx);
    lua_rawgeti(L, LUA_REGISTRYINDEX, sandbox__of(L)->snapshots_ref);
    lua_pushvalue(L, path_idx);
    if (lua_rawget(L, -2) == LUA_TTABLE) {
        int snap = lua_gettop(L);
        lua_rawgeti(L, snap, 0);
        lua_Integer n = lua_tointeger(L, -1);
        lua_pop(L, 1);
        for (lua_Integer i = 1; i + 2 <= n; i += 3) {
            lua_rawgeti(L, snap, i);
            lua_rawgeti(L, snap, i + 1);
            int up = (int)lua_tointeger(L, -1);
            lua_pop(L, 1);
            lua_rawgeti(L, snap, i + 2);
            lua_setupvalue(L, -2, up);
            lua_pop(L, 1);
        }
    }
    lua_pop(L, 2);
}

void sandbox__push_frozen_sample(lua_State *L)
{
    lua_createtable(L, 2, 0);
    lua_createtable(L, 1, 0);
    lua_pushinteger(L, 1);
    lua_rawseti(L, -2, 1);
    lua_rawseti(L, -2, 1);
    lua_createtable(L, 1, 0);
    lua_createtable(L, 0, 1);
    lua_newtable(L);
    lua_setfield(L, -2, "__index");
    lua_setmetatable(L, -2);
    lua_rawseti(L, -2, 2);
    sandbox__freeze(L, "(audit sample)");
}
