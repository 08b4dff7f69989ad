/* engine/targets.h
 *
 * Three-level tracking: targets per (unit, period, metric) for HQ, regions and
 * offices, and the roll-up tree HQ -> regions -> offices with each unit's
 * target, actual and completion. Actuals come from the ledger: "orders" is
 * the signed value, "cash" what was collected, in the period; a parent's
 * actual is always the sum of its children's. Loop thread only.
 */
#ifndef ENGINE_TARGETS_H
#define ENGINE_TARGETS_H

#include <jansson.h>
#include <stdint.h>

#include "err.h"
#include "org.h"
#include "store.h"

#define TARGETS_AMOUNT_MAX ((int64_t)1 << 53)

/* Check metric ("orders" or "cash") and period; -ERR_INVALID_FIELD naming it. */
int targets_check(const char *period, const char *metric, struct err_detail *why);

/* Set a target. 'unit' must be a node of the org tree. */
int targets_set(struct store *st, const struct org *org, const char *unit, const char *period,
                const char *metric, int64_t amount, const char *actor, struct err_detail *why);

/* The tree { unit, target, actual, completion, children } under 'root'
 * ("hq", "region/ID" or "office/ID"), with period and metric on the root; a
 * new reference. completion is actual / target, or null without a target. */
int targets_tree(struct store *st, const struct org *org, const char *root, const char *period,
                 const char *metric, json_t **out, struct err_detail *why);

#endif
