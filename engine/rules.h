/* engine/rules.h
 *
 * The rule registry: every owner's bundle (hq, region/ID, office/ID) as
 * versions, the one active version per owner, and the pipeline every new
 * bundle goes through, whatever its source (the rules directory, SIGHUP, the
 * API):
 *
 *   hash -> known content? no-op -> compile in a fresh sandbox under the load
 *   budget -> check the layer's extension points and HQ's bounds (and their
 *   relations) -> run HQ's sample leads through it -> run its tests.lua and
 *   HQ's samples of its scope as real leads (rules_tests.h) -> store the
 *   version (one transaction, with the activation when it activates) -> swap
 *   the active pointer.
 *
 * A failure at any step keeps the active version, and is kept as the owner's
 * last_error (and logged, and stored as a rule event). Versions are numbered
 * per owner from 1; the hash is the SHA-256 of the bundle (file names and
 * sources). HQ versions and office versions activate once they validate;
 * region (L4) versions activate only with auto_approve, otherwise they stay
 * pending until approved.
 *
 * Lifetimes: a struct rules_version is immutable and refcounted. rules_active()
 * returns a borrowed pointer valid until control returns to the loop; take a
 * reference (rules_version_ref) to keep one longer. A swapped-out version stays
 * compiled among the owner's last RULES_RETIRED_KEEP retired versions and is
 * freed when it drops out and its last reference goes. Loop thread only.
 *
 * The unit's files: rules.c (the registry and the rules directory),
 * rules_check.c (compiling and validating a bundle), rules_eval.c (lead
 * evaluation), rules_process.c (process actions, documents, receivables),
 * rules_simulate.c (what-if), rules_diff.c (review diffs), rules_bounds.c
 * (relations between bounded values), rules_tests.c (tests.lua,
 * --check-rules, bundles tested offline); rules_internal.h is what they share.
 */
#ifndef ENGINE_RULES_H
#define ENGINE_RULES_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "err.h"
#include "org.h"
#include "sandbox.h"
#include "store.h"

#define RULES_MAX_OWNERS   1024
#define RULES_RETIRED_KEEP 2  /* compiled retired versions kept per owner */
#define RULES_PINNED_KEEP  4  /* older HQ versions kept compiled for pinned instances */
#define RULES_FILES_MAX    32 /* files per bundle */
#define RULES_OWNER_MAX    80

enum rules_layer { RULES_HQ, RULES_REGION, RULES_OFFICE };

struct rules_version {
    int refs;
    char owner[RULES_OWNER_MAX];
    enum rules_layer layer;
    int version;
    char hash[65];
    json_t *files;      /* owned: { FILE: SOURCE } */
    struct sandbox *sb; /* owned */
    int64_t activated_at_ms;
    char approved_by[RULES_OWNER_MAX];
    int checked_hq; /* region, office: the HQ version it was validated against */
    /* Values fixed at load, converted once (NULL when absent): */
    struct org *org;         /* owned; HQ: the org tree */
    json_t *bounds;          /* owned; HQ: { thresholds, authority, share } */
    json_t *thresholds;      /* owned; HQ: defaults; region: its table form, if a table */
    json_t *lead_defaults;   /* owned; HQ: lead defaults; office: tools.defaults */
    json_t *authority;       /* owned; region: its authority.lua table */
    json_t *share;           /* owned; HQ: share.lua default params; region: its share.lua */
    json_t *stages;          /* owned; HQ: process.lua stages */
    json_int_t credit_limit; /* HQ: process.lua credit_limit (fen per customer) */
    json_t *signals;         /* owned; HQ: lead.lua signals { NAME: { min, max, meaning } } */
    json_t *bodies;          /* owned; HQ: process.lua bodies { ACTION: { FIELD: true } } */
    json_t *forecast;        /* owned; HQ: forecast.lua stages (default probabilities,
                              * NULL without forecast.lua); region: its forecast.lua stages */
    /* Thresholds resolved once, not per lead (rules_eval.c): HQ's defaults
     * (HQ) or HQ's defaults overlaid by this region's table form (region),
     * merged and checked against the HQ version 'resolved_hq' names. */
    json_t *resolved;          /* owned; NULL until first needed */
    int resolved_hq;           /* the HQ version it was made with */
    char resolved_hq_hash[65]; /* and its hash: versions of two stores never mix */
};

struct rules;

/* Open the registry: recompile the versions the store has active, then take in
 * the rules directory ('dir' may be NULL). Fails if no valid HQ version results.
 * *out is owned by the caller (rules_close). Borrowed: st (must outlive). */
int rules_open(struct store *st, const char *dir, bool auto_approve, struct rules **out,
               struct err_detail *why);

struct rules_options {
    const char *dir;             /* the rules directory, or NULL */
    bool auto_approve;           /* region versions activate without approval */
    const unsigned char *hq_key; /* 32-byte ed25519 public key, or NULL: HQ
                                  * versions need a valid signature of their hash */
};
int rules_open_with(struct store *st, const struct rules_options *o, struct rules **out,
                    struct err_detail *why);
void rules_close(struct rules *r);

/* Take in what other nodes on the same database activated or shadowed
 * (nodes.h): each owner whose stored active version is not the one in
 * memory is loaded and checked as at start, HQ first, and swapped in
 * (*loaded counts them); the running shadow windows are read again. A
 * version that fails here keeps the old one and is recorded as its owner's
 * load error. -ERR_STORE when the store cannot be read. Core thread. */
int rules_follow_store(struct rules *r, int *loaded, struct err_detail *why);

/* Re-read the rules directory and submit each owner's bundle. Returns the
 * number of owners whose bundle failed (each kept as its last_error). */
int rules_sync_disk(struct rules *r, const char *actor);

/* Validate a whole tree without a store (ltcd --check-rules), its tests.lua
 * files run: prints every error as "file:line: message" to stderr, or on
 * success "ok: N owners, N files, N tests" to stdout. Returns 0 when all is
 * valid. (rules_tests.c; rules_tests.h has the rest of it.) */
int rules_check_tree(const char *dir);

struct rules_result {
    int version;
    const char *status; /* "active", "pending", "unchanged" (the newest version
                         * has that content), or "skipped" (the tree on disk
                         * holds a superseded or rejected version's content) */
    int base;           /* the version it was built on; 0: none */
};

/* The pipeline, for a whole bundle ({ FILE: SOURCE }, borrowed). */
int rules_submit(struct rules *r, const char *owner, const json_t *files, const char *origin,
                 const char *actor, struct rules_result *res, struct err_detail *why);

/* As rules_submit, with the bundle's signature (hex; may be NULL). */
int rules_submit_signed(struct rules *r, const char *owner, const json_t *files,
                        const char *signature, const char *origin, const char *actor,
                        struct rules_result *res, struct err_detail *why);

/* A new bundle from the owner's newest version (pending or active) with FILE
 * replaced (src != NULL) or removed. */
int rules_put_file(struct rules *r, const char *owner, const char *file, const char *src,
                   size_t len, const char *actor, struct rules_result *res, struct err_detail *why);

/* Lineage (CONTRACT 8.2). Every new version records its base: the version
 * it was built on, by default the owner's newest (pending or active). A new
 * version supersedes every older pending one (status and a "superseded"
 * rule event), so at most one version waits for approval: the newest
 * submission wins. Content equal to the newest version is "unchanged";
 * equal to any older one it is a new version (a revert).
 *
 * The rules directory is taken in only when an owner's tree differs from
 * what was read last (kept in the store with its files, so a restart, a
 * SIGHUP or the watch over an unchanged tree creates nothing), and then as
 * the files changed on disk since that read, applied on top of the newest
 * version (a file changed both ways takes the disk's content); a signed HQ
 * tree goes in whole. A tree whose result is the content of a superseded
 * or rejected version is not submitted again ("skipped").
 *
 * Numbers: a refused candidate spends its number (see
 * store_rule_number_next), so a number cited by a refusal is never given to
 * other content. */

/* As rules_put_file, built on version 'base' instead (0: the newest).
 * -ERR_NOT_FOUND for an unknown base or a file to remove that it lacks,
 * -ERR_CONFLICT for a rejected base (field "base"). */
int rules_put_file_on(struct rules *r, const char *owner, const char *file, const char *src,
                      size_t len, int base, const char *actor, struct rules_result *res,
                      struct err_detail *why);

/* Approve or reject a pending version. */
int rules_approve(struct rules *r, const char *owner, int version, const char *actor,
                  struct err_detail *why);
int rules_reject(struct rules *r, const char *owner, int version, const char *actor,
                 const char *reason, struct err_detail *why);

/* Re-activate the owner's previous good version (the newest retired one
 * older than the active), validated again; an audited event. -ERR_CONFLICT
 * when there is none. */
int rules_rollback(struct rules *r, const char *owner, const char *actor, struct rules_result *res,
                   struct err_detail *why);

/* What-if: evaluate stored leads under version 'version' of 'owner' (any
 * status) and under the active rules, and report the differences; writes
 * nothing. Leads of the owner's unit (or 'unit' for HQ; NULL: all), created
 * in [from, to) (dates "YYYY-MM-DD", NULL: open), at most 'limit', for at
 * most 'max_ms'. *out is a new reference: { owner, version, active_version,
 * evaluated, truncated, counts, cap, changed, changed_total, failed,
 * failed_total, routing, routing_total }. Each list holds at most 'cap'
 * (100) entries, its *_total counts them all:
 *   changed  { instance, office, before, after }: the evaluation fields
 *            (score, temperature, maturity, recommendation) that differ;
 *            before is { error } when only the active rules fail;
 *   failed   { instance, office, error ("FILE:LINE: message"), owner,
 *            version, file, line }: the candidate fails for the lead;
 *   routing  { instance, office, stage, kdp, value, discount, margin,
 *            before, after } (region candidates): an open instance whose
 *            next key decision would be routed to another level (the
 *            definition is in rules_simulate.c and README). */
struct rules_simulation {
    const char *unit, *from, *to;
    int limit;
    int max_ms;
};
int rules_simulate(struct rules *r, const char *owner, int version,
                   const struct rules_simulation *sim, json_t **out, struct err_detail *why);
/* The same answer, with the leads of each page shared out between up to
 * RULES_SIMULATE_SIDES registries, each with the same rule versions (copies:
 * rules_snapshot_open), the second on a thread of its own. sides[0]'s store
 * reads the leads; each side's store loads the versions it needs. The
 * result is folded in id order, so it is the one a single side gives; the
 * deadline is checked per lead as the leads are read (a page of them is then
 * evaluated: max_ms may be passed by one page's work). */
#define RULES_SIMULATE_SIDES 2
int rules_simulate_on(struct rules *const *sides, size_t n_sides, const char *owner, int version,
                      const struct rules_simulation *sim, json_t **out, struct err_detail *why);

/* --- runtime rule errors (rules_errors.c; CONTRACT 8.2) ------------------
 *
 * An owner's last_error (GET /v1/rules) is its newest rule error, of a kind:
 *   load        the bundle could not be read or compiled: a file refused on
 *               disk, a source's bytes or size, Lua syntax;
 *   validation  it compiled, but the pipeline refused it: its top level or a
 *               check failed, not an extension point, HQ's bounds or sample
 *               leads, the signature;
 *   runtime     an active version failed while serving a request: lead
 *               evaluation (create, reevaluate), process actions, stage hooks
 *               (actions.lua, tools.lua checklists), documents, receivables.
 * `count` is the length of the run of equal errors (same kind, version and
 * message; successes in between do not break it), `first_at` the first of
 * them, `at` the newest. An error of another kind, version or message starts
 * a new run. last_error never goes stale and never cites a number reused for
 * other content: storing version V settles (clears) a load or validation
 * error naming V or an older version, and activating V settles a runtime
 * error of any other version.
 */

/* True for the codes of a rule that failed (ERR_RULE_*), not for refusals
 * (KCP, conflict, authority) or bad input. */
bool rules_is_rule_error(int code);

#define RULES_ERROR_LOG_PER_S 5 /* runtime error lines per owner and second */

/* A rule failed serving a request (why->code a rule error; anything else is
 * ignored): it becomes the owner's last_error (kind runtime; the owner and
 * version are the ones the message names), counts in
 * ltcd_rule_errors_total{owner,kind="runtime"}, and is logged as one warn
 * line with owner, version, file:line, req_id and actor, at most
 * RULES_ERROR_LOG_PER_S lines per owner and second (the last one says that
 * further errors are dropped; the next line says how many were). Strings are
 * borrowed for the call; req_id and actor may be NULL. */
void rules_runtime_error(struct rules *r, const struct err_detail *why, const char *req_id,
                         const char *actor);

/* Every error counted since start, by owner and kind ("load", "validation",
 * "runtime"): one call per owner and kind with a non-zero count. */
typedef void rules_error_total_cb(const char *owner, const char *kind, uint64_t n, void *ctx);
void rules_error_totals(struct rules *r, rules_error_total_cb *each, void *ctx);

/* --- shadow runs (rules_shadow.c; CONTRACT 8.2) ---------------------------
 *
 * A shadow run evaluates every live lead evaluation of an owner's scope (hq:
 * every lead; region/ID: the region's leads; office/ID: the office's) also
 * under a pending version V, from its start for 'hours' hours, and records
 * each result beside the lead (never used: the instance keeps the active
 * evaluation). It ends at its `until`, when V is approved, rejected or
 * superseded (rules__shadows_settle), and a new shadow of V replaces the old
 * window (its results start again from zero). Windows and results are in the
 * store, so a restart resumes the running ones.
 */
#define RULES_SHADOW_HOURS_MAX    168 /* a week */
#define RULES_SHADOWS_MAX         16  /* running at once, over all owners */
#define RULES_SHADOW_EXAMPLES_MAX 20  /* results listed by the summary */

/* Start (or restart) a shadow of pending version 'version' for 'hours'
 * (1..RULES_SHADOW_HOURS_MAX). *out is the summary (as rules_shadow_summary),
 * a new reference. Errors: -ERR_NOT_FOUND (no such version), -ERR_CONFLICT
 * (not pending, or RULES_SHADOWS_MAX running), -ERR_INVALID_FIELD (hours),
 * -ERR_RULE_* (it does not compile against today's HQ rules), -ERR_STORE. */
int rules_shadow_start(struct rules *r, const char *owner, int version, int hours,
                       const char *actor, json_t **out, struct err_detail *why);

/* The newest window of the version: { owner, version, status ("running" or
 * "ended"), started_at, started_by, until, ended_at, end_reason, evaluated,
 * differing, failed, examples: [ { instance, at, differs, error, shadow,
 * active } ] } (examples: at most RULES_SHADOW_EXAMPLES_MAX, differing and
 * failed ones first). -ERR_NOT_FOUND when the version never had one. */
int rules_shadow_summary(struct rules *r, const char *owner, int version, json_t **out,
                         struct err_detail *why);

/* During a live evaluation of 'lead' (normalised) that gave 'evaluation':
 * NULL at once when no shadow runs (one test), else the results of every
 * running shadow whose scope covers the lead, a new array to hand to
 * rules_shadow_record (NULL when none covers it). Never fails the caller: a
 * shadow evaluation that fails (within its own rule budget) is a result
 * with its error. */
json_t *rules_shadow_evaluate(struct rules *r, const json_t *lead, const json_t *evaluation);

/* Record 'results' (borrowed; NULL: nothing) for the instance, inside the
 * caller's transaction. A refused row is logged and skipped; an error is
 * returned only when the transaction itself is gone. */
int rules_shadow_record(struct rules *r, const json_t *results, int64_t instance_id, int64_t at_ms,
                        struct err_detail *why);

/* For tests: the clock of shadow windows (ms since the epoch; NULL: real). */
void rules_shadow_set_clock(struct rules *r, int64_t (*now_ms)(void));
/* Review: what version 'version' of 'owner' changes against version
 * 'against' (0: the active one; none active: against an empty bundle),
 * file by file in name order (rules_diff.c). *out is a new reference:
 * { owner, from: W | null, to: V, files: [ { file, status: added | removed
 * | changed | same, diff: unified diff text ("" when same)[, approximate:
 * true when the diff hit diff.h's cap] } ] }. -ERR_NOT_FOUND for an unknown
 * version; -ERR_STORE for stored sources that do not match their hash. */
int rules_diff(struct rules *r, const char *owner, int version, int against, json_t **out,
               struct err_detail *why);

/* Borrowed; NULL when the owner has no active version. */
struct rules_version *rules_active(struct rules *r, const char *owner);
struct rules_version *rules_hq(struct rules *r);
void rules_version_ref(struct rules_version *v);
void rules_version_unref(struct rules_version *v);

/* The layer of an owner name and whether it is well-formed. */
int rules_owner_layer(const char *owner, enum rules_layer *layer);

/* Evaluate a lead body (parsed JSON object, borrowed) with the rules active
 * now: office defaults (L6), region thresholds (L4), HQ scoring (L1-L3), then
 * the fixed cut-offs. On success *lead is the normalised lead and *evaluation
 * { score, temperature, maturity, recommendation, reasons, rules }, both new
 * references; *region is borrowed from the HQ org. */
int rules_evaluate_lead(struct rules *r, const json_t *body, json_t **lead, json_t **evaluation,
                        const char **region, struct err_detail *why);

/* The normalised lead of an instance document: a new object. */
json_t *rules_instance_lead(const json_t *doc);

/* Re-evaluate an already normalised lead (reevaluate): *evaluation as above. */
int rules_reevaluate(struct rules *r, const json_t *lead, json_t **evaluation,
                     struct err_detail *why);

/* The process (HQ's process.lua, pinned per instance). */

struct rules_actor {
    const char *unit;  /* "region/south" */
    const char *level; /* "office", "region" or "hq" */
    const char *role;  /* "admin", ... */
};

/* Run one process action on an instance document (borrowed) under the HQ
 * version the instance pinned (doc.rules.hq) and the region and office
 * versions active now. 'today' is "YYYY-MM-DD"; 'exposure' the customer's
 * open contract value elsewhere; 'credit_limit' the registered customer's
 * limit (fen), or -1 for HQ's default (process.lua credit_limit). On success *new_doc (the instance
 * after the action), *outcome, *used ({ OWNER: VERSION }) and *ledger (the entries to record: [{
 * kind, amount, margin }]) are new references. Refusals: -ERR_CONFLICT (409), -ERR_KCP (422,
 * why->field = the KCP), -ERR_INVALID_FIELD (400), -ERR_FORBIDDEN, -ERR_INSUFFICIENT_AUTHORITY
 * (why->field = the level required), or -ERR_RULE_* when a rule fails.
 * *new_doc shares the values the action left unchanged with 'doc' (a copy of
 * its top level; entered, actions and checklist copied whole): a caller may
 * set and remove its top-level keys, but changes nothing inside the others
 * while 'doc' is still read. */
int rules_act(struct rules *r, const json_t *doc, const json_t *input,
              const struct rules_actor *actor, const char *today, int64_t exposure,
              int64_t credit_limit, json_t **new_doc, json_t **outcome, json_t **used,
              json_t **ledger, struct err_detail *why);

/* Add what entering 'stage' brings to 'doc' (modified in place): the region's
 * L4 actions (with due dates from 'today') and the office's L6 checklist. The
 * versions used are added to 'used' (may be NULL). */
int rules_stage_entered(struct rules *r, json_t *doc, const char *stage, const char *today,
                        json_t *used, struct err_detail *why);

/* Record in doc.entered (an object, created when missing) that the instance
 * entered 'stage' on business date 'date' ("YYYY-MM-DD"): the dates the
 * dashboard and the decision queue age stages by. Strings are copied. */
void rules_note_entered(json_t *doc, const char *stage, const char *date);

/* Render the office's L5 template KIND for an instance: *text is malloc'd. */
int rules_document(struct rules *r, const json_t *doc, const char *kind, char **text,
                   struct err_detail *why);

/* Receivables of a contract as of "YYYY-MM-DD" (HQ's process.lua, pinned). */
int rules_receivables(struct rules *r, const json_t *doc, const char *as_of, json_t **out,
                      struct err_detail *why);

/* Whether HQ version 'to_version''s process.lua migrate(instance,
 * from_version) lets the instance 'doc' move to it: reason "" when it does,
 * else why not (its answer, or that the version has no migrate). An error
 * only when the version cannot be loaded or the rule fails. */
int rules_migrate_check(struct rules *r, int to_version, const json_t *doc, int from_version,
                        char *reason, size_t size, struct err_detail *why);

/* --- forecast (rules_forecast.c; CONTRACT 8.4) ----------------------------
 * An open instance's win probability (an integer percent 0..100) and
 * forecast category (commit, best_case, pipeline, omitted) by the active
 * HQ's forecast.lua: probability(instance, stages) and category(instance,
 * probability), where stages are HQ's stage probabilities overlaid by the
 * active regions/ID/forecast.lua of the instance's region. 'rules' names the
 * versions that computed it ("hq@3" or "hq@3 region/south@2"): a forecast
 * computed under other versions is stale (rules_forecast_key). Without an
 * HQ forecast.lua every instance is probability 0, omitted. */
struct rules_forecast {
    int probability;
    char category[16];
    char rules[2 * RULES_OWNER_MAX + 32];
};
int rules_forecast(struct rules *r, const json_t *doc, struct rules_forecast *out,
                   struct err_detail *why);
/* The versions a forecast of 'region' computed now would name. */
void rules_forecast_key(struct rules *r, const char *region, char *out, size_t size);

/* The active HQ version's process order: { stages: [...], outcomes: [...] }
 * (process.lua's stages and the closure outcomes it declares, [] when it
 * declares none), a new reference. */
json_t *rules_stage_order(struct rules *r);

/* The key decision the instance waits for (HQ's process.lua waiting, pinned,
 * routed under the region's authority matrix active now, receivables as of
 * 'as_of'): *out is NULL when none (also when the pinned HQ version has no
 * waiting), else a new { kdp, since, level, value, discount, margin,
 * deferred, matrix ("region/ID@V" or "hq/process.lua") }. -ERR_RULE_* when
 * the rule fails or returns another shape. */
int rules_waiting(struct rules *r, const json_t *doc, const char *as_of, json_t **out,
                  struct err_detail *why);

/* HQ version 'version' compiled (from memory or the store), one reference
 * taken for the caller (rules_version_unref). */
int rules_hq_version(struct rules *r, int version, struct rules_version **out,
                     struct err_detail *why);

/* --- lead management (rules_leads.c; README "Lead management") ----------- */

/* The owner of a new lead ('lead' normalised, with its region): the region's
 * assignment.lua, function(lead, candidates) returning one candidate's id
 * (called only when there is a candidate), else HQ's default, the least-loaded active `ar` of
 * the office (ties: the smallest id; none: null). 'candidates' is
 * [ { id, name, roles, open_leads } ] in id order. *out is a new reference
 * { owner: ID | null, by: "region/ID@V" | "hq", rule_error?: "..." } even when
 * the region's rule fails (loops, errors, returns no candidate's id): the
 * lead then gets HQ's default and the call returns the rule's error code with
 * rule_err filled, for the caller to count as a runtime error. */
int rules_assign_owner(struct rules *r, const json_t *lead, const json_t *candidates, json_t **out,
                       struct err_detail *rule_err);

struct rules_review_params {
    json_int_t nurture_days; /* HQ lead.lua review.nurture_days, or the region's thresholds */
    json_int_t stale_days;   /* HQ lead.lua review.stale_days */
    json_int_t visits_min;   /* HQ scorecard.lua visits_min, or the region's visits_per_week */
};
/* The parameters for a lead (or for an office: 'lead' = { region, office }). */
int rules_review_params(struct rules *r, const json_t *lead, struct rules_review_params *out,
                        struct err_detail *why);
/* HQ lead.lua priority(lead, evaluation) (no such function: the score). */
int rules_lead_priority(struct rules *r, const json_t *lead, const json_t *evaluation, double *out,
                        struct err_detail *why);
/* HQ scorecard.lua budget_deadline "MM-DD" (default "01-31"). */
void rules_budget_deadline(struct rules *r, char out[6]);
/* HQ scorecard.lua points_lost(card): 0 when it has none. */
int rules_points_lost(struct rules *r, const json_t *card, json_int_t *out, struct err_detail *why);

/* GET /v1/rules: { "owners": [...] }, a new reference. */
json_t *rules_status_json(struct rules *r);

/* Counters for metrics and tests. */
struct rules_stats {
    uint64_t loads_ok, loads_failed, unchanged;
    size_t versions_alive; /* compiled versions in memory */
    size_t mem_bytes;      /* Lua memory of all of them */
};
void rules_stats(struct rules *r, struct rules_stats *out);

/* --- a private copy of the active rules, for work off the loop ------------
 * (rules_snapshot.c). The live registry's versions and their Lua states
 * belong to the loop thread; a job on another thread (job.h) gets its own.
 * rules_snapshot_take (loop thread) notes which version of each owner is
 * active: plain data, owned by the caller. rules_snapshot_open (any thread)
 * compiles those versions from the stored sources through 'reader' (a
 * store_open_reader connection of that thread, borrowed, which must outlive
 * *out), each checked against its hash, into a registry of its own that
 * rules_active, rules_hq, rules_hq_version, rules_simulate and
 * allocation_compute work on; rules_close frees it. A version that no longer
 * compiles fails the whole open (-ERR_STORE naming it): a job never runs on
 * rules other than the ones that were active when it was taken. */
struct rules_snapshot;
int rules_snapshot_take(struct rules *r, struct rules_snapshot **out, struct err_detail *why);
void rules_snapshot_free(struct rules_snapshot *s);
int rules_snapshot_open(const struct rules_snapshot *s, struct store *reader, struct rules **out,
                        struct err_detail *why);

#endif
