/* engine/rules_tests.h
 *
 * Rule tests, and checking rules outside the daemon's pipeline.
 *
 * tests.lua is an extension point of every layer (hq/tests.lua,
 * regions/ID/tests.lua, offices/ID/tests.lua). It returns (a function: returns
 * when called with no arguments) a list of at most RULES_TESTS_MAX tests:
 *
 *   { name = "text", lead = { ...a lead body... },
 *     expect = { maturity = "mature"|"early", temperature = "hot"|"warm"|"cold",
 *                recommendation = "close"|"convert"|"nurture",
 *                score_min = N, score_max = N } }
 *
 * Names are unique in the file (1..RULES_TEST_NAME_MAX bytes); expect gives any
 * subset of its keys (none, or left out: the lead must evaluate); any other
 * key refuses the test. The lead is checked like a POST /v1/leads body (HQ's
 * and its office's defaults fill what it leaves out) and evaluated as a real
 * lead of the owner's scope would be (office defaults, region thresholds, HQ
 * scoring, the fixed cut-offs), the version under test standing in for its
 * owner's active version:
 *   - a region's tests: leads of its offices, under HQ's active version and
 *     the offices' active versions;
 *   - an office's tests: its own leads, under HQ's and its region's;
 *   - HQ's tests: leads of any office, under the new HQ version and the
 *     active versions of the lead's region and office.
 * HQ's lead.lua `samples` of the owner's scope (all of them for HQ) run the
 * same way, without expectations. Every evaluation is a normal rule call
 * under the normal budget, and one version's whole run stops at
 * RULES_TESTS_WALL_MS. The daemon runs them for every new version (a failure
 * refuses it, 422, naming file, line, test and what differed: expected and
 * got); --check-rules and ltcctl rules test run them over local trees.
 *
 * Loop thread (or a process of its own); nothing here is thread-safe.
 */
#ifndef ENGINE_RULES_TESTS_H
#define ENGINE_RULES_TESTS_H

#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>

#include "err.h"

#define RULES_TESTS_MAX     100  /* tests in one tests.lua */
#define RULES_TEST_NAME_MAX 120  /* bytes of a test's name */
#define RULES_TESTS_WALL_MS 2000 /* one version's tests and samples together */

/* What one test (or sample) gave. Every pointer is borrowed for the call. */
struct rules_test_outcome {
    const char *owner;        /* whose tests ran: "region/south" */
    const char *file;         /* "regions/south/tests.lua", or "hq/lead.lua" for a sample */
    int line;                 /* of the test in 'file' (where its name is written), 0: unknown */
    const char *name;         /* the test's name, "samples[N]", or NULL: unnamed or the file */
    int index;                /* 1-based place in the list, 0 for the file itself */
    bool sample;              /* one of HQ's samples */
    const json_t *evaluation; /* { score, temperature, maturity, recommendation, ... }, or NULL */
    const char *failure;      /* NULL: passed; else what differed, or the error */
};

typedef void rules_test_cb(void *ctx, const struct rules_test_outcome *o);

/* How a run reports (may be NULL: stop at the first failure, report nothing). */
struct rules_test_run {
    rules_test_cb *cb; /* every outcome, passed ones too; may be NULL */
    void *ctx;
    bool all;    /* go on after a failure */
    int tests;   /* OUT, added to: tests.lua entries run */
    int samples; /* OUT, added to: samples run */
    int failed;  /* OUT, added to: failures (tests, samples, the file itself) */
};

/* "regions/south/tests.lua:12: test "x": what" (line and name when known):
 * how an outcome reads in a message; 'buf' always ends with a NUL. */
void rules_test_outcome_format(const struct rules_test_outcome *o, char *buf, size_t n);

/* ltcd --check-rules: the tree under 'dir' compiled and validated as the
 * daemon would, owner by owner (each against the tree's HQ), then every
 * owner's tests run with the tree's versions as the active ones. Every error
 * goes to 'err' as "file:line: message" (file relative to 'dir'; line where
 * the message has one); with none, one line "ok: N owners, N files, N tests"
 * goes to 'out'. Returns 0 when valid, else 1. */
int rules_check_tree_to(const char *dir, FILE *out, FILE *err);

/* Bundles compiled in memory, for ltcctl rules test: no store, no daemon. */
struct rules_offline;

/* Called with each error found while adding bundles ("file:line: message"). */
typedef void rules_offline_error_cb(void *ctx, const char *msg);

/* *out is owned by the caller (rules_offline_free). -ERR_NOMEM. */
int rules_offline_new(rules_offline_error_cb *on_error, void *ctx, struct rules_offline **out);
void rules_offline_free(struct rules_offline *o);

/* Add 'owner''s bundle { FILE: SOURCE } (borrowed), compiled against the HQ
 * added before (HQ first). 'tested': its tests run in rules_offline_test.
 * Every error goes to on_error; returns 0 or the first error's code. */
int rules_offline_add(struct rules_offline *o, const char *owner, const json_t *files, bool tested);

/* Add the bundles of a directory: a whole tree (it has hq/, regions/ or
 * offices/; with an HQ already added the tree's hq/ is left out), or one
 * owner's directory, named by its path (.../hq, .../regions/ID,
 * .../offices/ID), or 'owner' when not NULL. Read as the daemon reads its
 * rules directory (no links, *.lua files only). Returns 0 or the first
 * error's code (-ERR_IO: not readable, -ERR_USAGE: not a tree nor an owner's
 * directory). */
int rules_offline_add_dir(struct rules_offline *o, const char *dir, const char *owner, bool tested);

/* Whether an HQ bundle was added. */
bool rules_offline_has_hq(const struct rules_offline *o);

/* Run the tests of every bundle added with 'tested', in the order added. */
void rules_offline_test(struct rules_offline *o, struct rules_test_run *run);

/* Evaluate a lead body (borrowed) as POST /v1/leads would with the bundles
 * added as the active rules. *evaluation is a new reference. */
int rules_offline_evaluate(struct rules_offline *o, const json_t *body, json_t **evaluation,
                           struct err_detail *why);

#endif
