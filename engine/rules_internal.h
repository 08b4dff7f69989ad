/* engine/rules_internal.h
 *
 * What the three files of the rules unit share, and nothing else includes:
 * rules.c (the registry: versions, activation, the rules directory),
 * rules_check.c (compiling and validating a bundle against its layer and HQ's
 * bounds) and rules_eval.c (lead evaluation). Loop thread only.
 */
#ifndef ENGINE_RULES_INTERNAL_H
#define ENGINE_RULES_INTERNAL_H

#include <sodium.h>
#include <stdbool.h>
#include <stdint.h>

#include "rules.h"

/* The registry's store (borrowed). */
struct store *rules__store(struct rules *r);

bool rules__in_list(const char *const *list, const char *s);

/* "hq" -> "hq/", "region/x" -> "regions/x/", "office/y" -> "offices/y/" */
void rules__owner_dir(const char *owner, char *buf, size_t n);

/* SHA-256 hex of a bundle { FILE: SOURCE } (names and sources, in name order). */
void rules__bundle_hash(const json_t *files, char out[65]);

/* A rule source must be at most SANDBOX_SOURCE_MAX_BYTES of valid UTF-8
 * without NUL. Else -ERR_RULE_SOURCE (422 rule_error), the message naming
 * OWNER vVERSION, the file under the owner's directory, and the byte offset
 * of the first bad byte or the limit. Every way in checks its bytes here
 * before they become a JSON string: PUT, bundle upload, the rules tree. */
int rules__check_source(const char *owner, int version, const char *file, const char *src,
                        size_t len, struct err_detail *why);

/* A stored version read back: 'files' parsed byte for byte (NULs kept) and
 * checked against the stored hash. */
struct rules__stored {
    json_t *files;                             /* owned: { FILE: SOURCE } */
    char signature[2 * crypto_sign_BYTES + 1]; /* "" when none */
    char status[16];
    char hash[65];
    char approved_by[RULES_OWNER_MAX];
    int64_t activated_at_ms;
};

/* Read version 'version' of 'owner' from the store. Sources that do not
 * parse, or whose hash is not the stored hash, are never run: -ERR_STORE,
 * one line naming owner and version. On success the caller owns out->files
 * (rules__stored_deinit). */
int rules__stored_load(struct rules *r, const char *owner, int version, struct rules__stored *out,
                       struct err_detail *why);
void rules__stored_deinit(struct rules__stored *s);

/* --- rule errors and shadow runs (rules_errors.c, rules_shadow.c) ---------
 * What rules.c keeps per owner for GET /v1/rules last_error and /metrics,
 * and the running shadows; see rules.h for the policies. */

enum rules__error_kind {
    RULES__ERROR_NONE,       /* no last_error */
    RULES__ERROR_LOAD,       /* the bundle could not be read or compiled */
    RULES__ERROR_VALIDATION, /* it compiled, but running or checking it refused it */
    RULES__ERROR_RUNTIME,    /* an active version failed while serving a request */
    RULES__ERROR_KINDS
};

struct rules__errors {
    enum rules__error_kind kind;         /* of the last error; NONE: last_error is null */
    char msg[ERR_DETAIL_MAX];            /* its message (valid UTF-8, from err_set) */
    int version;                         /* the version it names; 0: none */
    int64_t first_at_ms, at_ms;          /* first and newest of the run of equal errors */
    uint64_t count;                      /* length of that run */
    uint64_t totals[RULES__ERROR_KINDS]; /* every error since start, by kind (metrics) */
    int64_t log_second;                  /* runtime error lines: the second being counted */
    unsigned log_lines;                  /* lines written in it */
    uint64_t log_dropped;                /* lines dropped since the last one written */
};

/* The owner's record (the slot is created; NULL only past RULES_MAX_OWNERS). */
struct rules__errors *rules__errors_of(struct rules *r, const char *owner);

/* Call 'fn' with every owner's record, in registry order. */
typedef void rules__errors_fn(const char *owner, const struct rules__errors *e, void *ctx);
void rules__errors_each(struct rules *r, rules__errors_fn *fn, void *ctx);

/* Note an error: the same kind, version and message as the last error make
 * the run one longer (count, at); anything else starts a new run. */
void rules__errors_note(struct rules__errors *e, enum rules__error_kind kind, int version,
                        const char *msg, int64_t at_ms);

/* Version 'version' of the owner was stored (activated when 'activated'):
 * a load or validation error naming it or an older version is settled; once
 * it is active, so is a runtime error of any other version. */
void rules__errors_settle(struct rules__errors *e, int version, bool activated);

/* The kind of a refusal of the pipeline, from its code (rules.h). */
enum rules__error_kind rules__errors_kind_of(int code);

/* last_error as JSON (a new reference; null when none). */
json_t *rules__errors_json(const struct rules__errors *e);

/* Where an error message says it happened: messages of rules read
 * "OWNER vN: FILE:LINE: text" (sandbox.h), some without the line. */
struct rules__site {
    char owner[RULES_OWNER_MAX]; /* "" when the message names none */
    int version;                 /* 0 when none */
    char file[160];              /* "regions/south/thresholds.lua", or "" */
    int line;                    /* 0 when none */
    const char *text;            /* into the message: from the file on */
};
void rules__site_parse(const char *msg, struct rules__site *out);

/* Every name of kind ("load", "validation", "runtime"). */
const char *rules__error_kind_name(enum rules__error_kind kind);

/* The running shadows (rules_shadow.c), owned by struct rules. */
struct rules__shadows;
struct rules__shadows *rules__shadows(struct rules *r);
/* Restore the windows still running from the store (a version that does
 * not compile any more is logged and left out). *out is owned by the caller. */
int rules__shadows_open(struct rules *r, struct rules__shadows **out, struct err_detail *why);
void rules__shadows_close(struct rules__shadows *s);
/* The running windows as stored (what other nodes started or ended), each
 * compiled again. */
void rules__shadows_follow(struct rules *r);
/* The owner's versions changed status: end its shadows whose version is no
 * longer pending (approved, rejected, superseded). */
void rules__shadows_settle(struct rules *r, const char *owner);

/* The rules tree on disk (rules_tree.c). Below the root (which may itself
 * be a link), every directory and file is opened without following links:
 * a symbolic link is refused wherever it is, with a message that quotes
 * nothing of its target, so nothing outside the tree is ever read. */

/* Called for hq, then each regions/ID, then each offices/ID (sorted), with
 * 'path' relative to the root ("regions/south") and 'dirfd' the owner's
 * directory, valid during the call; or with dirfd -1 and 'problem' saying
 * why the directory is refused ("a symbolic link; ..."). 'owner' is NULL
 * for a refused layer directory ("regions" itself a link). */
typedef void rules__tree_cb(const char *owner, const char *path, int dirfd, const char *problem,
                            void *ctx);

/* Visit the tree under 'root'; -ERR_IO when the root cannot be opened. */
int rules__tree_visit(const char *root, rules__tree_cb *cb, void *ctx, struct err_detail *why);

/* Read the *.lua files of an owner's directory into *out { FILE: SOURCE }
 * (a new reference), each checked by rules__check_source; messages begin
 * "OWNER vVERSION: ". With sig != NULL, also bundle.sig's hex text into sig
 * ("" when absent). A link or a file that is not regular refuses the bundle. */
int rules__tree_read(int dirfd, const char *owner, int version, json_t **out, char *sig,
                     size_t sig_size, struct err_detail *why);

/* Lua's {} crosses as []: read an empty array as an empty object. Borrowed. */
const json_t *rules__as_object(const json_t *v);

/* Check 'value' against a bounds tree; errors name file and field. */
int rules__check_bounds(const json_t *value, const json_t *bounds, const char *file,
                        const char *prefix, struct err_detail *why);

/* A sink for every error of a check (ltcd --check-rules, ltcctl rules test).
 * A function given one reports each error to it and goes on where it would
 * otherwise stop at the first, and returns the first error's code; NULL:
 * stop at the first. */
struct rules__diag {
    void (*report)(void *ctx, const struct err_detail *e);
    void *ctx;
    int count; /* errors reported */
};
void rules__diag_report(struct rules__diag *d, const struct err_detail *e);

/* Relations between bounded values (rules_bounds.c). HQ's bounds.lua may say
 *   relations = { { sum = { "share.triangle.ar", "share.triangle.sr",
 *                           "share.triangle.fr" }, total = 100 }, ... }
 * Each field is SECTION.PATH (SECTION thresholds, authority or share: one
 * lower-layer file) naming a leaf of the bounds tree; the fields of one
 * relation lie in one section. A lower layer's values are checked with HQ's
 * defaults standing in for the fields it leaves out (lead.lua thresholds,
 * share.lua params; authority has none); a relation none of whose fields it
 * gives does not apply to it. */
#define RULES_RELATIONS_MAX       32 /* relations in bounds.lua */
#define RULES_RELATION_FIELDS_MAX 16 /* fields of one relation */
#define RULES_RELATION_PATH_MAX   64 /* bytes of one field name */

/* HQ's declaration (hq->bounds "relations"; absent is fine), and HQ's own
 * defaults against it: -ERR_RULE_REJECTED naming hq/bounds.lua, the relation
 * and what is wrong. */
int rules__relations_check_decl(const struct rules_version *hq, struct err_detail *why);

/* 'value' (a lower layer's table for 'section', borrowed) against every
 * relation of that section, 'defaults' (may be NULL) completing it. Errors
 * are -ERR_RULE_REJECTED, "FILE: triangle.ar + triangle.sr + triangle.fr =
 * 110, must be 100", why->field the first field. 'd' may be NULL. */
int rules__relations_check(const json_t *bounds, const char *section, const json_t *value,
                           const json_t *defaults, const char *file, struct rules__diag *d,
                           struct err_detail *why);

/* Rule tests (rules_tests.c; what they are: rules_tests.h). Run the
 * tests.lua of 'v', a new version of its owner, and HQ's samples of its
 * scope, with 'v' standing in for its owner's active version in 'r' (for HQ:
 * as the HQ version). 'run' may be NULL: stop at the first failure. Returns
 * 0 when all pass, else the first failure's code (-ERR_RULE_REJECTED for a
 * difference or a malformed test, the rule's own -ERR_RULE_* for an error it
 * raised) with why "OWNER vN: FILE:LINE: test "NAME": what differed". */
struct rules_test_run;
int rules__run_tests(struct rules *r, struct rules_version *v, struct rules_test_run *run,
                     struct err_detail *why);
/* The bound of one run, RULES_TESTS_WALL_MS; unit tests lower it. */
extern int rules__tests_wall_ms;

/* A registry without a store or a rules directory (rules.c), for checks
 * outside the daemon: rules_active, rules_hq and rules__evaluate work on it,
 * nothing that stores does; rules_close frees it. NULL when out of memory. */
struct rules *rules__memory_new(void);
/* Make 'v' its owner's active version there (a reference is taken). */
void rules__memory_put(struct rules *r, struct rules_version *v);
/* The same, reading stored versions (a candidate, a pinned HQ version) from
 * 'st' (borrowed; a reader on a job's thread: rules_snapshot.c). */
struct rules *rules__memory_on(struct store *st);

/* Call 'fn' with every owner's active version, in registry order (borrowed
 * for the call). */
typedef void rules__active_fn(const struct rules_version *v, void *ctx);
void rules__active_each(struct rules *r, rules__active_fn *fn, void *ctx);

/* As rules__compile, reporting to 'd' (may be NULL) every error it finds:
 * each file that does not load, each file that is not an extension point,
 * each bound and relation a region's file breaks; each error once. */
int rules__compile_diag(const char *owner, enum rules_layer layer, int version, const json_t *files,
                        const struct rules_version *hq, struct rules__diag *d,
                        struct rules_version **out, struct err_detail *why);

/* HQ default thresholds overlaid by a region's (may be NULL), within bounds.
 * *out is a new reference. */
int rules__thresholds_merge(const struct rules_version *hq, const json_t *region_t,
                            const char *file, json_t **out, struct err_detail *why);

/* The thresholds for 'lead' (may be NULL for the table form) under 'region'
 * (may be NULL). *out is a new reference. */
int rules__resolve_thresholds(const struct rules_version *hq, struct rules_version *region,
                              const json_t *lead, json_t **out, struct err_detail *why);

int rules__check_string_list(const json_t *v, const char *file, const char *what,
                             struct err_detail *why);

/* A region's actions.lua result: a list of { role, action, due_days }. */
int rules__check_actions(const json_t *list, const char *file, struct err_detail *why);

/* HQ's scoring result: { score = 0..100, fit, risk_ok, reasons }. */
int rules__check_scoring(const json_t *res, const char *file, struct err_detail *why);

/* The fields of an instance document that make its lead (rules_instance_lead). */
extern const char *const rules__lead_fields[];

/* Evaluate a normalised lead under 'hq', the active region and office
 * versions, except 'override' (may be NULL), which stands in for the active
 * version of its owner. *evaluation is a new reference. */
int rules__evaluate(struct rules *r, struct rules_version *hq, struct rules_version *override,
                    const json_t *lead, json_t **evaluation, struct err_detail *why);

/* Compile a bundle in a fresh sandbox and validate it for its layer against
 * 'hq' (NULL only when compiling HQ itself). *out has one reference. */
int rules__compile(const char *owner, enum rules_layer layer, int version, const json_t *files,
                   const struct rules_version *hq, struct rules_version **out,
                   struct err_detail *why);

/* HQ's declared inputs (rules_inputs.c), read once when an HQ version
 * loads (validate_hq) into hq->signals and hq->bodies; a bad declaration
 * refuses the HQ version (-ERR_RULE_REJECTED naming the file and entry).
 *   lead.lua     signals = { NAME = { min = INT, max = INT, meaning = "text" } }
 *                (0 <= min <= max <= 5, at most LEAD_SIGNALS_MAX)
 *   process.lua  bodies = { ACTION = { FIELD, ... } }, body_common = { FIELD, ... }
 *                (the fields each action's body may have besides action and
 *                at, which the engine reads, and the common ones) */
#define RULES_INPUTS_MAX  32  /* actions, fields of one body, for the lists */
#define RULES_MEANING_MAX 200 /* bytes of a signal's meaning */
int rules__inputs_load(struct rules_version *hq, struct err_detail *why);

/* A normalised lead's signals against hq's declaration (none: 0):
 * -ERR_INVALID_FIELD, field "signals.NAME", naming the signal and listing
 * the known ones, or giving the declared range. */
int rules__check_signals(const struct rules_version *hq, const json_t *lead,
                         struct err_detail *why);

/* An action body against hq's declaration (none: 0): -ERR_INVALID_FIELD for
 * an unknown key of a declared action (field: the key, the message listing
 * the accepted ones). An unknown action passes: process.lua refuses it,
 * naming the actions of the instance's stage. */
int rules__check_body(const struct rules_version *hq, const json_t *input, struct err_detail *why);

/* Lead management (rules_leads.c). HQ's lead.lua review table, priority
 * and scorecard.lua, checked when an HQ version loads; a region's
 * assignment.lua, run against HQ's sample leads with sample candidates (a
 * rule that fails, loops or returns no candidate's id is refused). */
int rules__check_lead_management(struct rules_version *v, struct err_detail *why);

/* HQ's forecast.lua (optional; rules_forecast.c): when present it exports
 * stages (default probabilities, within bounds.lua's forecast.stages),
 * probability and category functions, tried on a lead and an opportunity;
 * sets v->forecast. */
int rules__check_forecast(struct rules_version *v, struct err_detail *why);
/* The forecast of 'doc' by HQ version 'hq' with the stage probabilities of
 * region version 'rv' (NULL, or one without forecast.lua: HQ's alone);
 * out->rules is left as it was. */
int rules__forecast_with(struct rules_version *hq, const struct rules_version *rv,
                         const json_t *doc, struct rules_forecast *out, struct err_detail *why);
int rules__check_assignment(struct rules_version *v, const json_t *samples,
                            const struct rules_version *hq, struct err_detail *why);
/* rules_assign_owner with the region version given (NULL: none). */
int rules__assign(struct rules_version *rv, const json_t *lead, const json_t *candidates,
                  json_t **out, struct err_detail *rule_err);
/* rules_points_lost under HQ version 'hq'. */
int rules__points_lost(struct rules_version *hq, const json_t *card, json_int_t *out,
                       struct err_detail *why);
/* rules_lead_priority under HQ version 'hq'. */
int rules__priority(struct rules_version *hq, const json_t *lead, const json_t *evaluation,
                    double *out, struct err_detail *why);

#endif
