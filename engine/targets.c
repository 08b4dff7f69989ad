/* engine/targets.c */
#include "targets.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "period.h"

int targets_check(const char *period, const char *metric, struct err_detail *why)
{
    char from[PERIOD_DATE_SIZE], to[PERIOD_DATE_SIZE];
    if (!metric || (strcmp(metric, "orders") && strcmp(metric, "cash")))
        return err_field(why, -ERR_INVALID_FIELD, "metric", "metric: expected orders or cash");
    return period_range(period, from, to, why);
}

static int unit_known(const struct org *org, const char *unit)
{
    if (!strcmp(unit, "hq"))
        return 1;
    if (!strncmp(unit, "region/", 7))
        return org_has_region(org, unit + 7);
    if (!strncmp(unit, "office/", 7))
        return org_has_office(org, unit + 7);
    return 0;
}

int targets_set(struct store *st, const struct org *org, const char *unit, const char *period,
                const char *metric, int64_t amount, const char *actor, struct err_detail *why)
{
    int rc = targets_check(period, metric, why);
    if (rc)
        return rc;
    if (!unit_known(org, unit))
        return err_set(why, -ERR_NOT_FOUND, "no unit '%.80s' in the org tree", unit);
    if (amount < 0 || amount > TARGETS_AMOUNT_MAX)
        return err_field(why, -ERR_INVALID_FIELD, "amount", "amount: expected 0 to 2^53 fen");
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    int64_t now = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
    return store_target_set(st, unit, period, metric, amount, now, actor, why);
}

struct totals {
    json_t *by_unit; /* { unit: amount } */
};

static int on_total(const char *unit, int64_t amount, void *ctx)
{
    return json_object_set_new(ctx, unit, json_integer(amount));
}

static int on_office_total(const char *office, int64_t amount, void *ctx)
{
    char unit[96];
    snprintf(unit, sizeof unit, "office/%s", office);
    return json_object_set_new(ctx, unit, json_integer(amount));
}

static json_t *node(const char *unit, const json_t *targets, int64_t actual, json_t *children)
{
    const json_t *t = json_object_get(targets, unit);
    json_t *n =
        json_pack("{s:s, s:O?, s:I}", "unit", unit, "target", t, "actual", (json_int_t)actual);
    if (!t)
        json_object_set_new(n, "target", json_null());
    json_int_t target = json_integer_value(t);
    json_object_set_new(n, "completion",
                        t && target > 0 ? json_real((double)actual / (double)target) : json_null());
    if (children)
        json_object_set_new(n, "children", children);
    return n;
}

int targets_tree(struct store *st, const struct org *org, const char *root, const char *period,
                 const char *metric, json_t **out, struct err_detail *why)
{
    char from[PERIOD_DATE_SIZE], to[PERIOD_DATE_SIZE];
    int rc = targets_check(period, metric, why);
    if (!rc)
        rc = period_range(period, from, to, why);
    if (rc)
        return rc;
    json_t *targets = json_object(), *actuals = json_object();
    rc = store_target_list(st, period, metric, on_total, targets, why);
    if (!rc)
        rc = store_ledger_offices(st, metric, from, to, on_office_total, actuals, why);
    json_t *regions = json_array(), *found = NULL;
    int64_t hq_actual = 0;
    for (size_t r = 0; r < org->n_regions && !rc; r++) {
        json_t *offices = json_array();
        int64_t region_actual = 0;
        char runit[96];
        snprintf(runit, sizeof runit, "region/%s", org->regions[r].id);
        for (size_t o = 0; o < org->n_offices; o++) {
            if (org->offices[o].region != r)
                continue;
            char ounit[96];
            snprintf(ounit, sizeof ounit, "office/%s", org->offices[o].id);
            int64_t a = json_integer_value(json_object_get(actuals, ounit));
            region_actual += a;
            json_t *leaf = node(ounit, targets, a, NULL);
            if (!strcmp(root, ounit))
                found = json_incref(leaf);
            json_array_append_new(offices, leaf);
        }
        hq_actual += region_actual;
        json_t *rn = node(runit, targets, region_actual, offices);
        if (!strcmp(root, runit))
            found = json_incref(rn);
        json_array_append_new(regions, rn);
    }
    json_t *tree = node("hq", targets, hq_actual, regions);
    if (!strcmp(root, "hq"))
        found = json_incref(tree);
    json_decref(tree);
    json_decref(targets);
    json_decref(actuals);
    if (!rc && !found)
        rc = err_set(why, -ERR_NOT_FOUND, "no unit '%.80s' in the org tree", root);
    if (rc) {
        json_decref(found);
        return rc;
    }
    json_object_set_new(found, "period", json_string(period));
    json_object_set_new(found, "metric", json_string(metric));
    *out = found;
    return 0;
}
