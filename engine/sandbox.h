/* engine/sandbox.h
 *
 * Sandboxed Lua 5.4 (Debian's liblua5.4) for rule scripts. One struct
 * sandbox is one lua_State holding one owner's bundle at one version: rules
 * of different owners never share a state, so nothing one owner does (rawset,
 * string metatable, RNG, memory) can reach another.
 *
 * What a state offers is an allow-list (sandbox_allowed_globals) and, for
 * every C function a rule can reach, an entry of the audit table
 * (sandbox_audit, in sandbox.c): base functions without load/dofile/require/
 * collectgarbage/print/rawset, setmetatable refusing __gc, xpcall (handler
 * runs after unwinding), coroutine (a killed run stays killed), read-only
 * string/table/math/utf8 (no string.dump, math.random), and `host.*`. Only
 * the functions the table names are installed. Each file runs with its own
 * _ENV whose writes are refused and whose reads of unknown names raise
 * "nonexistent global".
 *
 * Limits: a counting allocator caps each state's memory; an instruction hook,
 * installed before any script code runs and never removed, enforces a per-call
 * (and per-load) instruction budget and wall-clock deadline. Once a run is
 * over budget the hook fires on every instruction, so pcall cannot swallow it.
 * The hook cannot stop a C function, so each library function whose work
 * depends on its arguments is guarded: the guard charges that work to the
 * same budget (SANDBOX_COST_*) before the call does it, and a call that would
 * not fit fails with the budget error (-ERR_RULE_BUDGET) at once; work the
 * memory cap already bounds is charged right after. Patterns are charged for
 * a bound of their backtracking (sandbox_guard.c). So every load, check and
 * call ends within about its budget (tests allow twice), whatever it asks of
 * the library. Only text chunks are accepted; sources are size-capped.
 *
 * Loaded state is read-only to calls (CONTRACT 8.2): when a file's top-level
 * chunk has run, every table its export reaches (fields, keys, metatables,
 * upvalues of its functions, recursively) is frozen in place, so a call that
 * writes one fails with a rule_error ("attempt to change the rule's loaded
 * state"), including through table.insert, table.sort or setmetatable;
 * next, pairs, ipairs, #, rawget, rawlen and getmetatable see frozen tables
 * as before. The upvalues of those functions are snapshotted too and put
 * back after every call: a call may assign them (a counter `n = n + 1`, a
 * cache replaced), but the next call starts from the loaded values, so the
 * same input always gives the same output. Tables a call creates stay
 * writable. A coroutine in the loaded state is refused at load (it would
 * carry state from one call to the next). Freezing costs one hidden table
 * per frozen table and is charged to the load budget.
 *
 * Values cross the boundary as JSON (jansson): arguments are pushed as fresh
 * tables; results are read with raw access only, with depth, size, NaN,
 * infinity and UTF-8 checks, and their serialised size is counted while they
 * are converted: over SANDBOX_OUTPUT_MAX_BYTES the call fails with
 * -ERR_RULE_RUNTIME (rule_error) naming owner, file and the limit. Error
 * messages are truncated and begin with "OWNER vVERSION: FILE:LINE:".
 *
 * Threads: a sandbox belongs to the thread that made it and is never shared;
 * sandboxes of different threads are independent (the loop's, and the private
 * copies of job threads, job.h).
 */
#ifndef ENGINE_SANDBOX_H
#define ENGINE_SANDBOX_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"

struct sandbox_limits {
    size_t mem_max_bytes;       /* per state, parser and code included */
    uint64_t call_instructions; /* per call */
    uint64_t call_wall_ms;
    uint64_t load_instructions; /* per file's top-level chunk */
    uint64_t load_wall_ms;
    size_t source_max_bytes; /* per file */
};

#define SANDBOX_MEM_MAX_BYTES     (16u << 20)
#define SANDBOX_CALL_INSTRUCTIONS 2000000u
#define SANDBOX_CALL_WALL_MS      200u
#define SANDBOX_LOAD_INSTRUCTIONS 1000000u
#define SANDBOX_LOAD_WALL_MS      200u
#define SANDBOX_JOB_CALL_WALL_MS  5000u /* a call on a job's thread (job.h) */
#define SANDBOX_SOURCE_MAX_BYTES  (256u * 1024)
#define SANDBOX_VALUE_DEPTH_MAX   32           /* nesting of values crossing the boundary */
#define SANDBOX_VALUE_ITEMS_MAX   100000       /* entries of values crossing the boundary */
#define SANDBOX_ERROR_MAX         300          /* bytes of a script's error message kept */
#define SANDBOX_PATTERN_MAX       64           /* bytes of a pattern (plain searches: any) */
#define SANDBOX_LOG_LINES_PER_RUN 10           /* host.log lines a call or load may write */
#define SANDBOX_OUTPUT_MAX_BYTES  (64u * 1024) /* one call's result, as compact JSON */

/* Work of C library calls, in units of the instruction budget (one unit is
 * about one VM instruction, ~3 ns): one unit per element or value a call
 * touches, plus these. */
#define SANDBOX_COST_BYTES_PER_UNIT 4  /* bytes copied, scanned or converted */
#define SANDBOX_COST_SORT_STEP      3  /* per element and level of a sort */
#define SANDBOX_COST_FORMAT_ITEM    32 /* per formatted value (string.format, utf8.char) */
#define SANDBOX_COST_CLASS_TEST     3  /* per test of a character against a pattern class */

extern const struct sandbox_limits sandbox_default_limits;

/* NULL-terminated list of the global names a rule can read. */
extern const char *const sandbox_allowed_globals[];

struct lua_State;

enum sandbox_audit_kind {
    SANDBOX_AUDIT_LIBRARY, /* Lua's own function, wrapped by 'guard' when it has one */
    SANDBOX_AUDIT_OWN,     /* the sandbox's function ('guard' is it) */
    SANDBOX_AUDIT_REMOVED, /* out of a rule's reach */
};

/* One C function a rule can reach (or, REMOVED, cannot), and why one call of
 * it stays within the budget: "safe: ..." or what its guard charges. Names
 * are "lib.field", a global's name, or "(...)" for what the VM or a library
 * call hands out. */
struct sandbox_audit {
    const char *name;
    enum sandbox_audit_kind kind;
    int (*guard)(struct lua_State *L); /* NULL: the library's function as it is */
    const char *numbers;               /* arguments converted to numbers: "23", "2*", NULL */
    const char *bound;
};

/* The audit table, ended by a NULL name (sandbox.c). */
extern const struct sandbox_audit sandbox_audit[];

struct sandbox;

/* A new empty state for 'owner' ("hq", "region/south") at 'version', whose
 * files live under 'prefix' ("regions/south/", used in messages). Strings are
 * copied; limits may be NULL (defaults). *out is owned by the caller
 * (sandbox_free). */
int sandbox_new(const char *owner, int version, const char *prefix,
                const struct sandbox_limits *limits, struct sandbox **out, struct err_detail *why);
void sandbox_free(struct sandbox *sb);

/* The wall-clock deadline of each later call. On the loop a call holds every
 * request, so 200 ms is the most it may take; on a job's thread it holds
 * nobody, and the instruction budget (unchanged) is what bounds its work: a
 * job's copy of the rules (rules_snapshot_open) gets SANDBOX_JOB_CALL_WALL_MS,
 * so a big allocation on a busy machine does not fail where an idle one
 * would not. */
void sandbox_set_call_wall_ms(struct sandbox *sb, uint64_t ms);
uint64_t sandbox_call_wall_ms(const struct sandbox *sb);

/* Compile 'src' as text (file 'path', e.g. "thresholds.lua", under the prefix),
 * run its top level under the load budget, and keep what it returns as the
 * file's export, frozen (see above). Errors: -ERR_RULE_SYNTAX,
 * -ERR_RULE_RUNTIME (also a coroutine in the loaded state), -ERR_RULE_BUDGET,
 * -ERR_RULE_MEMORY, -ERR_RULE_OUTPUT (returned nothing). */
int sandbox_load(struct sandbox *sb, const char *path, const char *src, size_t len,
                 struct err_detail *why);

enum sandbox_kind { SANDBOX_NONE, SANDBOX_TABLE, SANDBOX_FUNCTION, SANDBOX_OTHER };

/* What the file exported, or the raw field 'member' of it (member may be NULL). */
enum sandbox_kind sandbox_kind(struct sandbox *sb, const char *path, const char *member);

/* Evaluate the export (or its field 'member'): a function is called with
 * 'args' (borrowed) under the call budget and its first result converted; any
 * other value is converted as it is. Afterwards the file's upvalues are back
 * to their loaded values. *out is a new reference owned by the caller.
 * Errors: -ERR_NOT_FOUND (no such file/member), -ERR_RULE_* (-ERR_RULE_RUNTIME
 * also for a result over SANDBOX_OUTPUT_MAX_BYTES). */
int sandbox_call(struct sandbox *sb, const char *path, const char *member, json_t *const *args,
                 int nargs, json_t **out, struct err_detail *why);

/* As sandbox_call, with the output limit given instead of
 * SANDBOX_OUTPUT_MAX_BYTES. Only for a call whose result the engine sizes
 * itself, one entry per item it hands over (HQ's share.lua split, one amount
 * per unit): the caller derives the limit from that input, so the result is
 * still bounded by what the engine asked, not by what the rule chose. */
int sandbox_call_sized(struct sandbox *sb, const char *path, const char *member,
                       json_t *const *args, int nargs, size_t out_max_bytes, json_t **out,
                       struct err_detail *why);

/* As sandbox_call, with each argument whose bit is set in 'views' (bit i:
 * args[i]) handed over as a read-only view instead of a fresh table: a table
 * that converts one level of the value the first time the rule reads it
 * (a field, pairs, next, #, rawget), each level charged to the budget then,
 * and refuses every write ("the instance is read-only to this rule"). A hook
 * that reads nothing of a large document then costs nothing for it. The
 * values stay borrowed from 'args' during the call; a view kept past its
 * call (it cannot be: upvalues are restored, the loaded state is frozen)
 * would raise an error when read. */
int sandbox_call_viewing(struct sandbox *sb, const char *path, const char *member,
                         json_t *const *args, int nargs, unsigned views, json_t **out,
                         struct err_detail *why);

/* Called after every sandbox_load and sandbox_call with the owner and the outcome: "ok",
 * "error", "budget", "memory", "output", "syntax" or "missing". The observer is
 * per thread: it sees the calls of the thread that set it (the loop's). */
typedef void sandbox_observer_fn(const char *owner, const char *outcome);
void sandbox_set_observer(sandbox_observer_fn *fn);

/* For tests: call 'fn' for every C function a rule can reach in 'sb': its
 * globals and their tables, the string metatable, a file's _ENV, a frozen
 * table's metatable, and what pairs, ipairs, string.gmatch, utf8.codes and
 * coroutine.wrap return; 'where' names where it was found and 'entry' is its
 * audit entry, or NULL when it has none. Returns how many had none, or -1. */
typedef void sandbox_walk_fn(void *ud, const char *where, const struct sandbox_audit *entry);
int sandbox_audit_walk(struct sandbox *sb, sandbox_walk_fn *fn, void *ud);

size_t sandbox_mem_bytes(const struct sandbox *sb);
uint64_t sandbox_budget_kills(const struct sandbox *sb);
const char *sandbox_owner(const struct sandbox *sb);
int sandbox_version(const struct sandbox *sb);

#endif
