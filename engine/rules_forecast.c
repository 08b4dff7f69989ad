/* engine/rules_forecast.c: HQ's forecast.lua (L1-L3) with the regions'
 * stage probabilities (regions/ID/forecast.lua, L4, within HQ bounds). */
#include <stdio.h>
#include <string.h>

#include "json_read.h"
#include "rules_internal.h"

static const char *const categories[] = {"commit", "best_case", "pipeline", "omitted", NULL};

static bool known_category(const char *c)
{
    for (const char *const *k = categories; c && *k; k++)
        if (!strcmp(*k, c))
            return true;
    return false;
}

/* probability(doc, stages) then category(doc, p) in 'sb' (HQ's). */
static int run(struct sandbox *sb, const char *owner, int version, const json_t *doc,
               json_t *stages, struct rules_forecast *out, struct err_detail *why)
{
    json_t *args[2] = {(json_t *)doc, stages}, *p = NULL, *c = NULL;
    int rc = sandbox_call_viewing(sb, "forecast.lua", "probability", args, 2, 1u << 0, &p, why);
    if (!rc && (!json_is_integer(p) || json_integer_value(p) < 0 || json_integer_value(p) > 100))
        rc = err_set(why, -ERR_RULE_OUTPUT,
                     "%s v%d: forecast.lua: probability must return an integer 0..100", owner,
                     version);
    if (!rc) {
        out->probability = (int)json_integer_value(p);
        args[1] = p;
        rc = sandbox_call_viewing(sb, "forecast.lua", "category", args, 2, 1u << 0, &c, why);
    }
    if (!rc && !known_category(json_string_value(c)))
        rc = err_set(why, -ERR_RULE_OUTPUT,
                     "%s v%d: forecast.lua: category must return commit, best_case, pipeline "
                     "or omitted",
                     owner, version);
    if (!rc)
        snprintf(out->category, sizeof out->category, "%s", json_string_value(c));
    json_decref(p);
    json_decref(c);
    return rc;
}

int rules__check_forecast(struct rules_version *v, struct err_detail *why)
{
    if (sandbox_kind(v->sb, "forecast.lua", NULL) == SANDBOX_NONE)
        return 0;
    if (sandbox_kind(v->sb, "forecast.lua", "probability") != SANDBOX_FUNCTION ||
        sandbox_kind(v->sb, "forecast.lua", "category") != SANDBOX_FUNCTION ||
        sandbox_kind(v->sb, "forecast.lua", "stages") != SANDBOX_TABLE)
        return err_field(why, -ERR_RULE_REJECTED, "forecast",
                         "hq/forecast.lua: must export stages = { STEP = PERCENT }, "
                         "probability = function(instance, stages) and "
                         "category = function(instance, probability)");
    const json_t *b = json_object_get(v->bounds, "forecast");
    if (!json_is_object(b))
        return err_field(why, -ERR_RULE_REJECTED, "forecast",
                         "hq/bounds.lua: must declare bounds for forecast (forecast.lua)");
    json_t *stages = NULL;
    int rc = sandbox_call(v->sb, "forecast.lua", "stages", NULL, 0, &stages, why);
    json_t *wrap = rc ? NULL : json_pack("{s:O}", "stages", stages);
    if (!rc)
        rc = rules__check_bounds(wrap, b, "hq/forecast.lua", "", why);
    /* Tried on a lead and an opportunity, as the engine will call it. */
    static const char *const probes[] = {"{\"stage\":\"lead\",\"gates\":{}}",
                                         "{\"stage\":\"opportunity\",\"gates\":{}}", NULL};
    for (const char *const *pr = probes; !rc && *pr; pr++) {
        json_t *doc = json_read_str(*pr, 0);
        struct rules_forecast f;
        rc = run(v->sb, "hq", v->version, doc, stages, &f, why);
        json_decref(doc);
    }
    if (!rc)
        v->forecast = json_incref(stages);
    json_decref(wrap);
    json_decref(stages);
    return rc;
}

static struct rules_version *region_of(struct rules *r, const char *region)
{
    char owner[RULES_OWNER_MAX];
    if (!region)
        return NULL;
    snprintf(owner, sizeof owner, "region/%s", region);
    struct rules_version *rv = rules_active(r, owner);
    return rv && rv->forecast ? rv : NULL;
}

void rules_forecast_key(struct rules *r, const char *region, char *out, size_t size)
{
    const struct rules_version *hq = rules_hq(r), *rv = region_of(r, region);
    if (rv)
        snprintf(out, size, "hq@%d %s@%d", hq->version, rv->owner, rv->version);
    else
        snprintf(out, size, "hq@%d", hq->version);
}

int rules__forecast_with(struct rules_version *hq, const struct rules_version *rv,
                         const json_t *doc, struct rules_forecast *out, struct err_detail *why)
{
    if (!hq->forecast) {
        out->probability = 0;
        snprintf(out->category, sizeof out->category, "omitted");
        return 0;
    }
    json_t *stages = json_deep_copy(hq->forecast);
    if (!stages)
        return err_set(why, -ERR_NOMEM, "out of memory");
    if (rv && json_is_object(rules__as_object(rv->forecast)))
        json_object_update(stages, (json_t *)rules__as_object(rv->forecast));
    int rc = run(hq->sb, "hq", hq->version, doc, stages, out, why);
    json_decref(stages);
    return rc;
}

int rules_forecast(struct rules *r, const json_t *doc, struct rules_forecast *out,
                   struct err_detail *why)
{
    const char *region = json_string_value(json_object_get(doc, "region"));
    rules_forecast_key(r, region, out->rules, sizeof out->rules);
    return rules__forecast_with(rules_hq(r), region_of(r, region), doc, out, why);
}
