/* engine/allocation.h
 *
 * Acquire-and-share: an allocation run splits a bonus pool over the tree
 * hq -> regions -> (platform, offices) -> projects -> people, by contribution
 * (contribution gross profit: cash collected in the period x its margin, from
 * the ledger). HQ's share.lua decides each split; the region's share.lua gives
 * its parameters. Whatever the Lua returns, the engine enforces the
 * invariants, each with a name a failed run reports (-ERR_INVARIANT,
 * why->field):
 *   units     every unit of a group gets a part, and nothing else does
 *   integer   parts are integer money
 *   negative  no part is below zero
 *   overflow  no part exceeds its group's total
 *   sum       the parts of a group sum exactly to its total
 *   ordering  a unit with more contribution never gets less than one with less
 * Same inputs and rule versions give the same output; the input hash is kept.
 * A run that fails stores nothing.
 */
#ifndef ENGINE_ALLOCATION_H
#define ENGINE_ALLOCATION_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "err.h"
#include "rules.h"
#include "store.h"

#define ALLOCATION_POOL_MAX ((int64_t)1 << 53) /* fen; exact in doubles and Lua */

/* An allocation of 'pool' (fen) over 'period' ("2026", "2026-Q1",
 * "2026-03"), in two steps so that the long one runs off the loop (job.h):
 *
 * allocation_compute reads the ledger through 'st' and calls the rules of
 * 'rules' (a job's reader and rules copy), on any thread, and keeps the run
 * in *out (allocation_free) as JSON text. Given n_rules copies of the same
 * rule versions (at most ALLOCATION_SIDES), it splits the regions on that
 * many threads (the calling one and a second): a large run takes about half
 * the time on two cores, with the same result. The text: { lines: [ {
 * unit, parent, level, contribution, amount, inputs } ], period, pool,
 * input_hash, rules, created_at, created_by, id }. Lines are written as text
 * as they are made, so a run over many projects needs little more memory
 * than its text, and the text is never copied after.
 *
 * allocation_store_part stores it through the daemon's connection, on the
 * loop thread, inside the caller's transaction, one part of at most
 * ALLOCATION_PART_BYTES a call (a run over 10^6 payments is ~60 MB: one
 * write would hold the loop for a quarter of a second). The first call
 * reserves the run's id (which ends its text); the last stores the run's
 * row and sets *done: only then does the run exist (GET /v1/shares/runs/ID).
 * Parts of a run that never got its row are invisible, and removed when the
 * store next opens. allocation_take_text then hands the whole text over
 * (malloc'd; the caller frees), the answer to the request. */
#define ALLOCATION_PART_BYTES (4 << 20)

struct allocation;
#define ALLOCATION_SIDES 2
int allocation_compute(struct store *st, struct rules *const *rules, size_t n_rules,
                       const char *period, int64_t pool, const char *actor, struct allocation **out,
                       struct err_detail *why);
int allocation_store_part(struct store *st, struct allocation *a, bool *done,
                          struct err_detail *why);
char *allocation_take_text(struct allocation *a);
void allocation_free(struct allocation *a);

/* Keep only the lines of a run (parsed JSON, changed in place) that lie in
 * the subtree of 'unit' ("region/ID" or "office/ID"): the line of 'unit'
 * itself and every line whose parent chain reaches it.
 *
 * A line is placed by its own parent, never by its unit's name. Region,
 * office, platform and project units are unique in a run, so they can be
 * looked up to walk up the tree; person/NAME is not (one name can have lines
 * under projects of several offices and regions, and two people in two
 * regions can share a name), so a person line counts only through the
 * project it hangs under. Each line is identified by its unit and its parent
 * together: person/Li under project/7 and person/Li under project/9 are two
 * lines with separate amounts, each shown only where its project is. */
void allocation_scope(json_t *run, const char *unit);

/* Check one group's parts against the invariants above. 'contributions' are
 * the units' contributions, or negative for units outside the ordering
 * (the platform). Exposed for the tests. */
int allocation_check(const char *where, int64_t total, size_t n, const char *const *keys,
                     const int64_t *contributions, const json_t *parts, int64_t *amounts,
                     struct err_detail *why);

#endif
