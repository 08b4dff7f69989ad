/* engine/org.c */
#include "org.h"

#include <stdlib.h>
#include <string.h>

#include "lead.h"

static int cmp_region(const void *a, const void *b)
{
    return strcmp(((const struct org_region *)a)->id, ((const struct org_region *)b)->id);
}

static int cmp_office(const void *a, const void *b)
{
    return strcmp(((const struct org_office *)a)->id, ((const struct org_office *)b)->id);
}

void org_free(struct org *org)
{
    if (!org)
        return;
    for (size_t i = 0; i < org->n_regions; i++) {
        free(org->regions[i].id);
        free(org->regions[i].name);
    }
    for (size_t i = 0; i < org->n_offices; i++)
        free(org->offices[i].id);
    free(org->regions);
    free(org->offices);
    free(org);
}

int org_from_json(const json_t *tree, struct org **out, struct err_detail *why)
{
    const json_t *regions = json_object_get(tree, "regions");
    if (!json_is_object(regions) || json_object_size(regions) == 0)
        return err_field(why, -ERR_RULE_OUTPUT, "regions",
                         "org: 'regions' must be a table of at least one region");
    if (json_object_size(regions) > ORG_MAX_REGIONS)
        return err_field(why, -ERR_RULE_OUTPUT, "regions", "org: more than %d regions",
                         ORG_MAX_REGIONS);
    struct org *org = calloc(1, sizeof *org);
    if (!org)
        return err_set(why, -ERR_NOMEM, "out of memory");
    org->regions = calloc(json_object_size(regions), sizeof *org->regions);
    org->offices = calloc(ORG_MAX_OFFICES, sizeof *org->offices);
    if (!org->regions || !org->offices) {
        org_free(org);
        return err_set(why, -ERR_NOMEM, "out of memory");
    }
    const char *rid;
    json_t *r;
    int rc = 0;
    /* Regions first, sorted, so offices can refer to their index. */
    json_object_foreach((json_t *)regions, rid, r)
    {
        if (!lead_valid_id(rid)) {
            rc = err_field(why, -ERR_RULE_OUTPUT, "regions", "org: bad region id '%.60s'", rid);
            break;
        }
        const json_t *name = json_object_get(r, "name");
        struct org_region *reg = &org->regions[org->n_regions++];
        reg->id = strdup(rid);
        reg->name = strdup(json_is_string(name) ? json_string_value(name) : rid);
    }
    if (!rc)
        qsort(org->regions, org->n_regions, sizeof *org->regions, cmp_region);
    for (size_t i = 0; i < org->n_regions && !rc; i++) {
        const json_t *offices =
            json_object_get(json_object_get(regions, org->regions[i].id), "offices");
        size_t k;
        json_t *o;
        if (!json_is_array(offices)) {
            rc = err_field(why, -ERR_RULE_OUTPUT, "offices",
                           "org: region '%s' needs an 'offices' list", org->regions[i].id);
            break;
        }
        json_array_foreach(offices, k, o)
        {
            const char *oid = json_string_value(o);
            if (!oid || !lead_valid_id(oid)) {
                rc = err_field(why, -ERR_RULE_OUTPUT, "offices",
                               "org: region '%s' has a bad office id", org->regions[i].id);
                break;
            }
            if (org->n_offices == ORG_MAX_OFFICES) {
                rc = err_field(why, -ERR_RULE_OUTPUT, "offices", "org: more than %d offices",
                               ORG_MAX_OFFICES);
                break;
            }
            if (org_has_office(org, oid)) {
                rc = err_field(why, -ERR_RULE_OUTPUT, "offices", "org: office '%s' is listed twice",
                               oid);
                break;
            }
            org->offices[org->n_offices].id = strdup(oid);
            org->offices[org->n_offices++].region = i;
        }
    }
    if (rc) {
        org_free(org);
        return rc;
    }
    qsort(org->offices, org->n_offices, sizeof *org->offices, cmp_office);
    *out = org;
    return 0;
}

static const struct org_office *find_office(const struct org *org, const char *office)
{
    /* Linear: also used while the list is being built (not yet sorted). */
    for (size_t i = 0; i < org->n_offices; i++)
        if (!strcmp(org->offices[i].id, office))
            return &org->offices[i];
    return NULL;
}

const char *org_region_of(const struct org *org, const char *office)
{
    const struct org_office *o = find_office(org, office);
    return o ? org->regions[o->region].id : NULL;
}

int org_has_office(const struct org *org, const char *office)
{
    return find_office(org, office) != NULL;
}

int org_has_region(const struct org *org, const char *region)
{
    for (size_t i = 0; i < org->n_regions; i++)
        if (!strcmp(org->regions[i].id, region))
            return 1;
    return 0;
}
