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
 * rules_simulate.c (what-if), rules_bounds.c (relations between bounded
 * values), rules_tests.c (tests.lua, --check-rules, bundles tested offline);
 * rules_internal.h is what they share.
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
    /* Values fixed at load, converted once (NULL when absent): */
    struct org *org;         /* owned; HQ: the org tree */
    json_t *bounds;          /* owned; HQ: { thresholds, authority, share } */
    json_t *thresholds;      /* owned; HQ: defaults; region: its table form, if a table */
    json_t *lead_defaults;   /* owned; HQ: lead defaults; office: tools.defaults */
    json_t *authority;       /* owned; region: its authority.lua table */
    json_t *share;           /* owned; HQ: share.lua default params; region: its share.lua */
    json_t *stages;          /* owned; HQ: process.lua stages */
    json_int_t credit_limit; /* HQ: process.lua credit_limit (fen per customer) */
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
    const char *status; /* "active", "pending", or "unchanged" */
};

/* The pipeline, for a whole bundle ({ FILE: SOURCE }, borrowed). */
int rules_submit(struct rules *r, const char *owner, const json_t *files, const char *origin,
                 const char *actor, struct rules_result *res, struct err_detail *why);

/* As rules_submit, with the bundle's signature (hex; may be NULL). */
int rules_submit_signed(struct rules *r, const char *owner, const json_t *files,
                        const char *signature, const char *origin, const char *actor,
                        struct rules_result *res, struct err_detail *why);

/* A new bundle from the active one with FILE replaced (src != NULL) or removed. */
int rules_put_file(struct rules *r, const char *owner, const char *file, const char *src,
                   size_t len, const char *actor, struct rules_result *res, struct err_detail *why);

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
 * evaluated, changed, counts, differences, truncated }. */
struct rules_simulation {
    const char *unit, *from, *to;
    int limit;
    int max_ms;
};
int rules_simulate(struct rules *r, const char *owner, int version,
                   const struct rules_simulation *sim, json_t **out, struct err_detail *why);

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
 * open contract value elsewhere. On success *new_doc (the instance after the
 * action), *outcome, *used ({ OWNER: VERSION }) and *ledger (the entries
 * to record: [{ kind, amount, margin }]) are new references.
 * Refusals: -ERR_CONFLICT (409), -ERR_KCP (422, why->field = the KCP),
 * -ERR_INVALID_FIELD (400), -ERR_FORBIDDEN, -ERR_INSUFFICIENT_AUTHORITY
 * (why->field = the level required), or -ERR_RULE_* when a rule fails. */
int rules_act(struct rules *r, const json_t *doc, const json_t *input,
              const struct rules_actor *actor, const char *today, int64_t exposure,
              json_t **new_doc, json_t **outcome, json_t **used, json_t **ledger,
              struct err_detail *why);

/* Add what entering 'stage' brings to 'doc' (modified in place): the region's
 * L4 actions (with due dates from 'today') and the office's L6 checklist. The
 * versions used are added to 'used' (may be NULL). */
int rules_stage_entered(struct rules *r, json_t *doc, const char *stage, const char *today,
                        json_t *used, struct err_detail *why);

/* Render the office's L5 template KIND for an instance: *text is malloc'd. */
int rules_document(struct rules *r, const json_t *doc, const char *kind, char **text,
                   struct err_detail *why);

/* Receivables of a contract as of "YYYY-MM-DD" (HQ's process.lua, pinned). */
int rules_receivables(struct rules *r, const json_t *doc, const char *as_of, json_t **out,
                      struct err_detail *why);

/* HQ version 'version' compiled (from memory or the store), one reference
 * taken for the caller (rules_version_unref). */
int rules_hq_version(struct rules *r, int version, struct rules_version **out,
                     struct err_detail *why);

/* GET /v1/rules: { "owners": [...] }, a new reference. */
json_t *rules_status_json(struct rules *r);

/* Counters for metrics and tests. */
struct rules_stats {
    uint64_t loads_ok, loads_failed, unchanged;
    size_t versions_alive; /* compiled versions in memory */
    size_t mem_bytes;      /* Lua memory of all of them */
};
void rules_stats(struct rules *r, struct rules_stats *out);

#endif
