/* engine/sandbox_internal.h
 *
 * What the three files of the sandbox share, and nothing else includes:
 * sandbox.c (states, the audited API, load and call, values across the
 * boundary), sandbox_guard.c (the guards that charge a C library call's work
 * to the instruction budget) and sandbox_freeze.c (loaded state made
 * read-only, upvalues reset after each call). Loop thread only.
 */
#ifndef ENGINE_SANDBOX_INTERNAL_H
#define ENGINE_SANDBOX_INTERNAL_H

#include <lauxlib.h>
#include <lua.h>
#include <stdbool.h>
#include <stdint.h>

#include "sandbox.h"

enum sandbox__kill { KILL_NONE, KILL_INSTRUCTIONS, KILL_WALL };

struct sandbox {
    lua_State *L;
    char *owner;  /* owned */
    char *prefix; /* owned: directory of the files, "regions/south/" */
    int version;
    struct sandbox_limits limits;
    size_t mem_bytes;          /* bytes held by L, as the allocator counts */
    uint64_t budget_left;      /* instructions left in the current run */
    uint64_t deadline_ns;      /* CLOCK_MONOTONIC end of the current run */
    enum sandbox__kill killed; /* the current run is over budget */
    int logs_left;             /* host.log lines the current run may still write */
    uint64_t kills;            /* runs killed by a budget, over the life of the state */
    int exports_ref;           /* registry ref of { path = export } */
    int snapshots_ref;         /* registry ref of { path = upvalue snapshot } */
    uint64_t call_seq;         /* calls made: a view belongs to the call that made it */
};

struct sandbox *sandbox__of(lua_State *L);

/* Charge 'units' of work (see SANDBOX_COST_*) to the current run before doing
 * it. When it does not fit in what is left, the run is killed exactly as the
 * instruction hook kills it (sticky, counted) and this raises the budget
 * error naming 'what'; it does not return. */
void sandbox__charge(lua_State *L, uint64_t units, const char *what);

/* Budget units left in the current run (0 once it is killed). */
uint64_t sandbox__budget_left(lua_State *L);

/* Saturating arithmetic for cost bounds. */
uint64_t sandbox__add(uint64_t a, uint64_t b);
uint64_t sandbox__mul(uint64_t a, uint64_t b);

/* Steps one lua_geti/lua_seti on the value at 'idx' may take: 1 plus the
 * tables chained through the 'event' metamethod ("__index" or "__newindex"),
 * which Lua follows in C for up to 2000 steps. */
uint64_t sandbox__chain_steps(lua_State *L, int idx, const char *event);

/* --- sandbox_guard.c: guards of the library functions (see the audit table) */

int sandbox__g_assert(lua_State *L);
int sandbox__g_error(lua_State *L);
int sandbox__g_tonumber(lua_State *L);
int sandbox__g_tostring(lua_State *L);
int sandbox__g_resume(lua_State *L);
int sandbox__g_wrap(lua_State *L);
int sandbox__g_wrapped(lua_State *L); /* what coroutine.wrap returns */
int sandbox__g_minmax(lua_State *L);
int sandbox__g_rawequal(lua_State *L);
int sandbox__g_byte(lua_State *L);
int sandbox__g_char(lua_State *L);
int sandbox__g_result_len(lua_State *L); /* work bounded by the string it returns */
int sandbox__g_format(lua_State *L);
int sandbox__g_find(lua_State *L);
int sandbox__g_match(lua_State *L);
int sandbox__g_gmatch(lua_State *L);
int sandbox__g_gmatch_step(lua_State *L); /* what string.gmatch returns */
int sandbox__g_gsub(lua_State *L);
int sandbox__g_pack(lua_State *L);
int sandbox__g_packsize(lua_State *L);
int sandbox__g_unpack_str(lua_State *L);
int sandbox__g_rep(lua_State *L);
int sandbox__g_arith(lua_State *L); /* the string metatable's __add, __sub, ... */
int sandbox__g_concat(lua_State *L);
int sandbox__g_insert(lua_State *L);
int sandbox__g_remove(lua_State *L);
int sandbox__g_move(lua_State *L);
int sandbox__g_tpack(lua_State *L);
int sandbox__g_tunpack(lua_State *L);
int sandbox__g_sort(lua_State *L);
int sandbox__g_utf8_char(lua_State *L);
int sandbox__g_codepoint(lua_State *L);
int sandbox__g_utf8_len(lua_State *L);
int sandbox__g_offset(lua_State *L);
int sandbox__g_codes(lua_State *L);
int sandbox__g_codes_step(lua_State *L); /* what utf8.codes returns */

/* The guarded function's original: upvalue 1 of every guard closure. The
 * library functions take no upvalues, so it is called directly, on the
 * guard's own stack frame. */
int sandbox__call_original(lua_State *L);

/* string.find of the state (the original), for the pattern guards. */
void sandbox__set_find(lua_CFunction find);

/* --- sandbox_freeze.c -------------------------------------------------- */

/* The hidden contents of a frozen table at 'idx': pushes them and returns
 * true, or pushes nothing and returns false for any other value. */
bool sandbox__frozen_view(lua_State *L, int idx);
/* (A view is read through the same way: the first read converts it.) */

/* Freeze what the export at the top of the stack reaches (tables, closures'
 * upvalues) and snapshot those upvalues as the file 'path''s state. Runs
 * protected and charged to the load budget; raises on a coroutine or
 * userdata in the loaded state. */
void sandbox__freeze(lua_State *L, const char *path);

/* Put back every upvalue of the snapshot of the file whose path string is at
 * 'path_idx' (after each call). Allocates nothing, so it may run unprotected. */
void sandbox__restore(lua_State *L, int path_idx);

/* Mark the table or C closure at 'idx' and everything it reaches as host
 * owned: freezing never touches it. */
void sandbox__mark_host(lua_State *L, int idx);

/* Push 'v' as push_json does (sandbox.c). */
void sandbox__push_json(lua_State *L, const json_t *v, int depth);

/* Push a read-only view of 'v' (borrowed: it must outlive the current call),
 * which works like a frozen table whose contents are converted, one level,
 * the first time anything reads them (sandbox.h, sandbox_call_viewing). A
 * view read in a later call raises an error. */
void sandbox__push_view(lua_State *L, const json_t *v, int depth);
int sandbox__view_index(lua_State *L);
/* A view for the audit walk (which reads it raw, never through): of no value. */
void sandbox__push_view_sample(lua_State *L);
int sandbox__view_newindex(lua_State *L);

/* Frozen-aware base functions and a frozen table's metamethods. */
int sandbox__f_next(lua_State *L);
int sandbox__f_pairs(lua_State *L);
int sandbox__f_ipairs(lua_State *L);
int sandbox__f_ipairs_step(lua_State *L);
int sandbox__f_rawget(lua_State *L);
int sandbox__f_rawlen(lua_State *L);
int sandbox__f_getmetatable(lua_State *L);
int sandbox__f_setmetatable(lua_State *L);
int sandbox__f_newindex(lua_State *L);
int sandbox__f_len(lua_State *L);
int sandbox__f_index(lua_State *L); /* only with a rule's own __index */

/* A frozen copy of a small sample table with a metatable, left on the stack,
 * so the audit walk can reach a frozen table's metamethods. */
void sandbox__push_frozen_sample(lua_State *L);

#endif
