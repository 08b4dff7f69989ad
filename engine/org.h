/* engine/org.h
 *
 * The org tree: HQ -> regions -> representative offices, as HQ's org.lua
 * declares it. Built from the JSON form of that table
 * ({ "regions": { ID: { "name": "...", "offices": [ ID, ... ] } } }) and
 * immutable afterwards. An office belongs to exactly one region.
 */
#ifndef ENGINE_ORG_H
#define ENGINE_ORG_H

#include <jansson.h>
#include <stddef.h>

#include "err.h"

#define ORG_MAX_REGIONS 64
#define ORG_MAX_OFFICES 512

struct org_region {
    char *id;   /* owned */
    char *name; /* owned */
};

struct org_office {
    char *id;      /* owned */
    size_t region; /* index into regions */
};

struct org {
    size_t n_regions, n_offices;
    struct org_region *regions; /* owned, sorted by id */
    struct org_office *offices; /* owned, sorted by id */
};

/* Build from the JSON form. On error names the offending key. *out is owned
 * by the caller (org_free). */
int org_from_json(const json_t *tree, struct org **out, struct err_detail *why);
void org_free(struct org *org);

/* The region ID of an office (borrowed from the org), or NULL if unknown. */
const char *org_region_of(const struct org *org, const char *office);
int org_has_region(const struct org *org, const char *region);
int org_has_office(const struct org *org, const char *office);

#endif
