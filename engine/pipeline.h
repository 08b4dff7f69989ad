/* engine/pipeline.h
 *
 * The pipeline (CONTRACT 8.4; README "Pipeline and forecast"): for a period,
 * the tree from a unit down to customers, each node with its orders target,
 * what it won (signed value in the period, from the ledger), its open
 * pipeline (leads and opportunities expecting to close in the period), the
 * weighted value, coverage, gap and the sums per forecast category.
 *
 * Each open instance's forecast is kept in store columns, written in the
 * transaction of every action on it (pipeline_forecast_record), so the tree
 * reads per-customer sums and never an instance. A forecast computed under
 * rule versions that are no longer active (rules_forecast_key) is stale;
 * pipeline_refresh recomputes those of a unit's regions first.
 *
 * Rounding: an instance's weighted value is value x probability / 100 in
 * fen, rounded half up (probability is an integer percent); every sum is a
 * sum of those, so a parent's figures are exactly its children's.
 *
 * Loop thread (the daemon's connection), inside a write transaction for the
 * two writers.
 */
#ifndef ENGINE_PIPELINE_H
#define ENGINE_PIPELINE_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "err.h"
#include "org.h"
#include "rules.h"
#include "store.h"

/* The units ?unit= and a migration's unit take. */
enum pipeline_unit {
    PIPELINE_UNIT_BAD,
    PIPELINE_UNIT_HQ,
    PIPELINE_UNIT_REGION,
    PIPELINE_UNIT_OFFICE,
    PIPELINE_UNIT_CUSTOMER
};
/* The kind of 'unit' ("hq", "region/ID", "office/ID", "customer/ID" with ID a
 * valid id, lead.h) and *id its ID (borrowed from unit; "" for hq); BAD for
 * anything else (NULL too). */
enum pipeline_unit pipeline_unit_parse(const char *unit, const char **id);

/* value x probability / 100, rounded half up (value >= 0, 0 <= p <= 100). */
int64_t pipeline_weighted(int64_t value, int probability);

/* Write instance 'id''s forecast columns from its document after a change:
 * in the pipeline while at stage lead or opportunity with an expected_close
 * date; its value is expected_value, else the budget's amount. */
int pipeline_forecast_record(struct store *st, struct rules *r, int64_t id, const json_t *doc,
                             struct err_detail *why);

/* Recompute the stale forecasts of the regions under 'unit' (hq, region/ID,
 * office/ID, customer/ID); *n how many. */
int pipeline_refresh(struct store *st, struct rules *r, const struct org *org, const char *unit,
                     int64_t *n, struct err_detail *why);

/* The same in two steps, for many: whether any forecast under 'unit' is
 * stale (an index read a region); then, off the loop on a job's reader and
 * rules copy, the stale ones computed (*out: a new list); then on the loop,
 * in a write, those written, each only if its instance did not change
 * meanwhile (an action recomputed it then), 'count' of them from index
 * 'from' at a time (PIPELINE_APPLY_PART a write, so the loop never holds
 * for long): *n how many were offered.
 * pipeline_refresh after it catches whatever is still stale. */
#define PIPELINE_APPLY_PART 1000 /* forecasts written in one write: ~20 ms */

int pipeline_stale_any(struct store *st, struct rules *r, const struct org *org, const char *unit,
                       bool *any, struct err_detail *why);
int pipeline_stale_compute(struct store *st, struct rules *r, const struct org *org,
                           const char *unit, json_t **out, struct err_detail *why);
int pipeline_stale_apply(struct store *st, const json_t *computed, size_t from, size_t count,
                         int64_t *n, struct err_detail *why);

/* The tree under 'unit' for 'period' (period.h). Nodes: { unit, level (hq,
 * region, office, customer, remainder), target, won, open, weighted,
 * coverage, gap, by_category: { commit|best_case|pipeline|omitted: { count,
 * value, weighted } }, children }. An office's registered customers are
 * nodes customer/ID; everything else of the office (instances and ledger
 * entries of customers not registered there) is its remainder node
 * office/ID/unregistered. The root also has period and refreshed (given).
 * *out is the JSON text (malloc'd, *len bytes). -ERR_NOT_FOUND for a unit
 * not in the tree. */
int pipeline_tree(struct store *st, const struct org *org, const char *unit, const char *period,
                  int64_t refreshed, char **out, size_t *len, struct err_detail *why);

#endif
