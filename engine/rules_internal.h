/* engine/rules_internal.h
 *
 * What the three files of the rules unit share, and nothing else includes:
 * rules.c (the registry: versions, activation, the rules directory),
 * rules_check.c (compiling and validating a bundle against its layer and HQ's
 * bounds) and rules_eval.c (lead evaluation). Loop thread only.
 */
#ifndef ENGINE_RULES_INTERNAL_H
#define ENGINE_RULES_INTERNAL_H

#include <stdbool.h>

#include "rules.h"

/* The registry's store (borrowed). */
struct store *rules__store(struct rules *r);

bool rules__in_list(const char *const *list, const char *s);

/* "hq" -> "hq/", "region/x" -> "regions/x/", "office/y" -> "offices/y/" */
void rules__owner_dir(const char *owner, char *buf, size_t n);

/* SHA-256 hex of a bundle { FILE: SOURCE } (names and sources, in name order). */
void rules__bundle_hash(const json_t *files, char out[65]);

/* Lua's {} crosses as []: read an empty array as an empty object. Borrowed. */
const json_t *rules__as_object(const json_t *v);

/* Check 'value' against a bounds tree; errors name file and field. */
int rules__check_bounds(const json_t *value, const json_t *bounds, const char *file,
                        const char *prefix, struct err_detail *why);

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

#endif
