/* engine/targets.c */
#include "targets.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "money.h"
#include "period.h"
#include "store_pipeline.h"

int targets_check(const char *period, const char *metric, struct err_detail *why)
{
    char from[PERIOD_DATE_SIZE], to[PERIOD_DATE_SIZE];
    if (!metric || (strcmp(metric, "orders") && strcmp(metric, "cash")))
        return err_field(why, -ERR_INVALID_FIELD, "metric", "metric: expected orders or cash");
    return period_range(period, from, to, why);
}

static int unit_known(struct store *st, const struct org *org, const char *unit)
{
    if (!strncmp(unit, "customer/", 9)) {
        char office[96];
        return !store_customer_office(st, unit + 9, office, sizeof office, NULL) && office[0];
    }
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
    if (!unit_known(st, org, unit))
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

/* An office's registered customers and what they earned, for its children. */
struct customers {
    json_t *by_office; /* { office: { customer: amount } }: registered ones, 0 when nothing */
};

static int on_registered(const char *id, const char *office, void *ctx)
{
    struct customers *c = ctx;
    json_t *o = json_object_get(c->by_office, office);
    if (!o)
        json_object_set_new(c->by_office, office, o = json_object());
    return json_object_set_new(o, id, json_integer(0));
}

static int on_customer_total(const char *office, const char *customer, int64_t amount, void *ctx)
{
    struct customers *c = ctx;
    json_t *o = json_object_get(c->by_office, office), *v = json_object_get(o, customer);
    if (v) /* a registered customer of that office; the rest is the remainder */
        json_object_set_new(o, customer, json_integer(money_add(json_integer_value(v), amount)));
    return 0;
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
    struct customers cust = {json_object()};
    rc = store_target_list(st, period, metric, on_total, targets, why);
    if (!rc)
        rc = store_ledger_offices(st, metric, from, to, on_office_total, actuals, why);
    if (!rc)
        rc = store_customer_offices(st, on_registered, &cust, why);
    char mfrom[8], mto[8]; /* periods are whole months */
    snprintf(mfrom, sizeof mfrom, "%.7s", from);
    snprintf(mto, sizeof mto, "%.7s", to);
    if (!rc)
        rc = store_ledger_customers(st, metric, mfrom, mto, on_customer_total, &cust, why);
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
            region_actual = money_add(region_actual, a);
            /* Registered customers below their office, the rest as one remainder. */
            json_t *registered = json_object_get(cust.by_office, org->offices[o].id), *kids = NULL;
            if (registered) {
                kids = json_array();
                int64_t rest = a;
                const char *cid;
                json_t *amount;
                json_object_foreach(registered, cid, amount)
                {
                    char cunit[160];
                    snprintf(cunit, sizeof cunit, "customer/%s", cid);
                    rest = money_add(rest, -json_integer_value(amount));
                    json_t *cn = node(cunit, targets, json_integer_value(amount), NULL);
                    if (!strcmp(root, cunit))
                        found = json_incref(cn);
                    json_array_append_new(kids, cn);
                }
                char runit2[160];
                snprintf(runit2, sizeof runit2, "%s/unregistered", ounit);
                json_array_append_new(kids, node(runit2, targets, rest, NULL));
            }
            json_t *leaf = node(ounit, targets, a, kids);
            if (!strcmp(root, ounit))
                found = json_incref(leaf);
            json_array_append_new(offices, leaf);
        }
        hq_actual = money_add(hq_actual, region_actual);
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
    json_decref(cust.by_office);
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
