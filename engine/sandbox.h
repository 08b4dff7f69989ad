/* engine/sandbox.h
 *
 * Sandboxed Lua 5.4 (Debian's liblua5.4) for rule scripts. One struct
 * sandbox is one lua_State holding one owner's bundle at one version: rules
 * of different owners never share a state, so nothing one owner does (rawset,
 * string metatable, RNG, memory) can reach another.
 *
 * What a state offers is an allow-list (sandbox_allowed_globals): base
 * functions without load/dofile/require/collectgarbage/print/rawset, wrapped
 * setmetatable (refuses __gc), xpcall (handler runs after unwinding) and
 * coroutine (a killed run stays killed), read-only string/table/math/utf8
 * (string.dump removed, pattern functions size-bounded), and `host.log`.
 * Each file runs with its own _ENV whose writes are refused and whose reads
 * of unknown names raise "nonexistent global".
 *
 * Limits: a counting allocator caps each state's memory; an instruction hook,
 * installed before any script code runs and never removed, enforces a per-call
 * (and per-load) instruction budget and wall-clock deadline. Once a run is
 * over budget the hook fires on every instruction, so pcall cannot swallow it.
 * Only text chunks are accepted; sources are size-capped.
 *
 * Values cross the boundary as JSON (jansson): arguments are pushed as fresh
 * tables; results are read with raw access only, with depth, size, NaN,
 * infinity and UTF-8 checks. Error messages are truncated and begin with
 * "OWNER vVERSION: FILE:LINE:".
 *
 * Loop thread only. A sandbox is not shared between threads.
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

#define SANDBOX_MEM_MAX_BYTES           (16u << 20)
#define SANDBOX_CALL_INSTRUCTIONS       2000000u
#define SANDBOX_CALL_WALL_MS            200u
#define SANDBOX_LOAD_INSTRUCTIONS       1000000u
#define SANDBOX_LOAD_WALL_MS            200u
#define SANDBOX_SOURCE_MAX_BYTES        (256u * 1024)
#define SANDBOX_VALUE_DEPTH_MAX         32     /* nesting of values crossing the boundary */
#define SANDBOX_VALUE_ITEMS_MAX         100000 /* entries of values crossing the boundary */
#define SANDBOX_ERROR_MAX               300    /* bytes of a script's error message kept */
#define SANDBOX_PATTERN_SUBJECT_MAX     4096
#define SANDBOX_PATTERN_MAX             64
#define SANDBOX_PATTERN_QUANTIFIERS_MAX 3
#define SANDBOX_LOG_LINES_PER_RUN       10 /* host.log lines a call or load may write */

extern const struct sandbox_limits sandbox_default_limits;

/* NULL-terminated list of the global names a rule can read. */
extern const char *const sandbox_allowed_globals[];

struct sandbox;

/* A new empty state for 'owner' ("hq", "region/south") at 'version', whose
 * files live under 'prefix' ("regions/south/", used in messages). Strings are
 * copied; limits may be NULL (defaults). *out is owned by the caller
 * (sandbox_free). */
int sandbox_new(const char *owner, int version, const char *prefix,
                const struct sandbox_limits *limits, struct sandbox **out, struct err_detail *why);
void sandbox_free(struct sandbox *sb);

/* Compile 'src' as text (file 'path', e.g. "thresholds.lua", under the prefix),
 * run its top level under the load budget, and keep what it returns as the
 * file's export. Errors: -ERR_RULE_SYNTAX, -ERR_RULE_RUNTIME, -ERR_RULE_BUDGET,
 * -ERR_RULE_MEMORY, -ERR_RULE_OUTPUT (returned nothing). */
int sandbox_load(struct sandbox *sb, const char *path, const char *src, size_t len,
                 struct err_detail *why);

enum sandbox_kind { SANDBOX_NONE, SANDBOX_TABLE, SANDBOX_FUNCTION, SANDBOX_OTHER };

/* What the file exported, or the raw field 'member' of it (member may be NULL). */
enum sandbox_kind sandbox_kind(struct sandbox *sb, const char *path, const char *member);

/* Evaluate the export (or its field 'member'): a function is called with
 * 'args' (borrowed) under the call budget and its first result converted; any
 * other value is converted as it is. *out is a new reference owned by the
 * caller. Errors: -ERR_NOT_FOUND (no such file/member), -ERR_RULE_*. */
int sandbox_call(struct sandbox *sb, const char *path, const char *member, json_t *const *args,
                 int nargs, json_t **out, struct err_detail *why);

/* Called after every sandbox_load and sandbox_call with the owner and the outcome: "ok",
 * "error", "budget", "memory", "output", "syntax" or "missing". */
typedef void sandbox_observer_fn(const char *owner, const char *outcome);
void sandbox_set_observer(sandbox_observer_fn *fn);

size_t sandbox_mem_bytes(const struct sandbox *sb);
uint64_t sandbox_budget_kills(const struct sandbox *sb);
const char *sandbox_owner(const struct sandbox *sb);
int sandbox_version(const struct sandbox *sb);

#endif
