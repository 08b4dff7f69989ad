/* engine/rules_eval.c: lead evaluation under the active rules: office
 * defaults (L6), region thresholds (L4), HQ scoring (L1-L3), fixed cut-offs. */
#include <stdio.h>
#include <string.h>

#include "lead.h"
#include "rules_internal.h"

/* --- evaluation ---------------------------------------------------------- */

/* HQ's defaults, or a region's table form over them, merged and checked
 * once per pair of versions (the table form was converted at load). */
static int resolved(const struct rules_version *hq, struct rules_version *owner, json_t **out,
                    struct err_detail *why)
{
    if (!owner->resolved || owner->resolved_hq != hq->version ||
        strcmp(owner->resolved_hq_hash, hq->hash)) {
        char file[160] = "hq/lead.lua";
        if (owner != hq)
            snprintf(file, sizeof file, "%s v%d: regions/%s/thresholds.lua", owner->owner,
                     owner->version, owner->owner + 7);
        json_t *t = NULL;
        int rc = rules__thresholds_merge(hq, owner != hq ? owner->thresholds : NULL, file, &t, why);
        if (rc)
            return rc;
        json_decref(owner->resolved);
        owner->resolved = t;
        owner->resolved_hq = hq->version;
        memcpy(owner->resolved_hq_hash, hq->hash, sizeof hq->hash);
    }
    *out = json_incref(owner->resolved);
    return 0;
}

int rules__resolve_thresholds(const struct rules_version *hq, struct rules_version *region,
                              const json_t *lead, json_t **out, struct err_detail *why)
{
    if (region && region->thresholds)
        return resolved(hq, region, out, why);
    if (!region || sandbox_kind(region->sb, "thresholds.lua", NULL) == SANDBOX_NONE)
        return resolved(hq, (struct rules_version *)hq, out, why);
    char file[160];
    snprintf(file, sizeof file, "%s v%d: regions/%s/thresholds.lua", region->owner, region->version,
             region->owner + 7);
    json_t *rt = NULL, *args[1] = {(json_t *)lead};
    int rc = sandbox_call(region->sb, "thresholds.lua", NULL, args, 1, &rt, why);
    if (!rc)
        rc = rules__thresholds_merge(hq, rt, file, out, why);
    json_decref(rt);
    return rc;
}

int rules__evaluate(struct rules *r, struct rules_version *hq, struct rules_version *override,
                    const json_t *lead, json_t **evaluation, struct err_detail *why)
{
    const char *office = json_string_value(json_object_get(lead, "office"));
    const char *region = org_region_of(hq->org, office);
    if (!region)
        return err_field(why, -ERR_INVALID_FIELD, "office", "office: unknown office '%s'", office);
    char owner[RULES_OWNER_MAX];
    snprintf(owner, sizeof owner, "region/%s", region);
    struct rules_version *rv = rules_active(r, owner);
    if (override && !strcmp(override->owner, owner))
        rv = override;
    snprintf(owner, sizeof owner, "office/%s", office);
    struct rules_version *ov = rules_active(r, owner);
    if (override && !strcmp(override->owner, owner))
        ov = override;

    json_t *t = NULL, *res = NULL;
    int rc = rules__resolve_thresholds(hq, rv, lead, &t, why);
    if (!rc) {
        json_t *args[2] = {(json_t *)lead, t};
        rc = sandbox_call(hq->sb, "lead.lua", "evaluate", args, 2, &res, why);
    }
    char scoring[RULES_OWNER_MAX + 32]; /* messages name owner and version (sandbox.h) */
    snprintf(scoring, sizeof scoring, "hq v%d: hq/lead.lua", hq->version);
    if (!rc)
        rc = rules__check_scoring(res, scoring, why);
    if (rc) {
        json_decref(t);
        json_decref(res);
        return rc;
    }
    double score = json_number_value(json_object_get(res, "score"));
    const json_t *budget = json_object_get(lead, "budget");
    bool mature = !strcmp(json_string_value(json_object_get(budget, "status")), "approved") &&
                  json_integer_value(json_object_get(budget, "amount")) >=
                      json_number_value(json_object_get(t, "mature_budget")) &&
                  json_integer_value(json_object_get(lead, "horizon_months")) <=
                      json_number_value(json_object_get(t, "horizon_months"));
    const char *temp = score >= json_number_value(json_object_get(t, "hot"))    ? "hot"
                       : score >= json_number_value(json_object_get(t, "warm")) ? "warm"
                                                                                : "cold";
    bool first_fails = json_is_false(json_object_get(res, "fit")) ||
                       json_is_false(json_object_get(res, "risk_ok"));
    const char *rec = first_fails                        ? "close"
                      : (mature && strcmp(temp, "cold")) ? "convert"
                                                         : "nurture";
    json_t *used = json_pack("{s:i}", "hq", hq->version);
    if (rv)
        json_object_set_new(used, rv->owner, json_integer(rv->version));
    if (ov)
        json_object_set_new(used, ov->owner, json_integer(ov->version));
    json_t *reasons = json_object_get(res, "reasons");
    *evaluation =
        json_pack("{s:O, s:s, s:s, s:s, s:O, s:o, s:o}", "score", json_object_get(res, "score"),
                  "temperature", temp, "maturity", mature ? "mature" : "early", "recommendation",
                  rec, "reasons", reasons ? reasons : json_array(), "thresholds", json_deep_copy(t),
                  "rules", used);
    if (!reasons)
        json_decref(json_object_get(*evaluation, "reasons"));
    json_decref(t);
    json_decref(res);
    return *evaluation ? 0 : err_set(why, -ERR_NOMEM, "out of memory");
}

/* The defaults for a lead of 'office': HQ's, overlaid by the office's L6 tools. */
static int lead_defaults(struct rules *r, struct rules_version *hq, const char *office,
                         json_t **out, struct err_detail *why)
{
    json_t *d = hq->lead_defaults ? json_deep_copy(hq->lead_defaults) : json_object();
    char owner[RULES_OWNER_MAX];
    snprintf(owner, sizeof owner, "office/%s", office);
    struct rules_version *ov = rules_active(r, owner);
    if (ov && ov->lead_defaults) /* converted and checked once at load */
        json_object_update(d, ov->lead_defaults);
    (void)why;
    *out = d;
    return 0;
}

int rules_evaluate_lead(struct rules *r, const json_t *body, json_t **lead, json_t **evaluation,
                        const char **region, struct err_detail *why)
{
    struct rules_version *hq = rules_hq(r);
    if (!json_is_object(body))
        return err_set(why, -ERR_INVALID_JSON, "body: expected a JSON object");
    const json_t *office = json_object_get(body, "office");
    if (!json_is_string(office) || !lead_valid_id(json_string_value(office)))
        return err_field(why, -ERR_INVALID_FIELD, "office", "office: expected the ID of an office");
    *region = org_region_of(hq->org, json_string_value(office));
    if (!*region)
        return err_field(why, -ERR_INVALID_FIELD, "office", "office: unknown office '%s'",
                         json_string_value(office));
    json_t *defaults = NULL;
    int rc = lead_defaults(r, hq, json_string_value(office), &defaults, why);
    if (rc)
        return rc;
    rc = lead_check((json_t *)body, defaults, lead, why);
    json_decref(defaults);
    if (!rc && (rc = rules__check_signals(hq, *lead, why))) {
        json_decref(*lead);
        *lead = NULL;
    }
    if (rc)
        return rc;
    rules_version_ref(hq);
    rc = rules__evaluate(r, hq, NULL, *lead, evaluation, why);
    rules_version_unref(hq);
    if (rc) {
        json_decref(*lead);
        *lead = NULL;
    }
    return rc;
}

int rules_reevaluate(struct rules *r, const json_t *lead, json_t **evaluation,
                     struct err_detail *why)
{
    struct rules_version *hq = rules_hq(r);
    rules_version_ref(hq);
    int rc = rules__evaluate(r, hq, NULL, lead, evaluation, why);
    rules_version_unref(hq);
    return rc;
}

const char *const rules__lead_fields[] = {"office",  "customer",     "title",
                                          "source",  "budget",       "horizon_months",
                                          "signals", "product_line", NULL};

json_t *rules_instance_lead(const json_t *doc)
{
    json_t *lead = json_object();
    for (const char *const *f = rules__lead_fields; *f; f++)
        json_object_set(lead, *f, json_object_get(doc, *f));
    return lead;
}
