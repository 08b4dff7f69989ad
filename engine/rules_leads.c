/* engine/rules_leads.c: the rules of lead management (README "Lead
 * management"): who owns a new lead (the region's assignment.lua or HQ's
 * least-loaded account manager), the review queue's priority and staleness,
 * nurture and visit parameters, and the scorecard's points (HQ's
 * scorecard.lua). Every call is one sandboxed rule call under the normal
 * budget; what it returns is checked here before the engine uses it. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "rules_internal.h"

/* HQ's defaults when its files leave a value out. */
#define NURTURE_DAYS_DEFAULT 14
#define STALE_DAYS_DEFAULT   21
#define VISITS_MIN_DEFAULT   6
#define POINTS_LOST_MAX      100000
#define BUDGET_DEADLINE_DFLT "01-31"

static const char *str_of(const json_t *o, const char *k)
{
    return json_string_value(json_object_get(o, k));
}

/* HQ's least-loaded active account manager (ties: the smallest id, as the
 * candidates come in id order), or NULL. */
static const char *least_loaded_ar(const json_t *candidates)
{
    const char *best = NULL;
    json_int_t load = 0;
    size_t i, j;
    json_t *c, *role;
    json_array_foreach(candidates, i, c)
    {
        bool ar = false;
        json_array_foreach(json_object_get(c, "roles"), j, role) ar |=
            json_is_string(role) && !strcmp(json_string_value(role), "ar");
        json_int_t n = json_integer_value(json_object_get(c, "open_leads"));
        if (ar && (!best || n < load)) {
            best = str_of(c, "id");
            load = n;
        }
    }
    return best;
}

static bool is_candidate(const json_t *candidates, const char *id)
{
    size_t i;
    json_t *c;
    json_array_foreach(candidates, i, c) if (!strcmp(str_of(c, "id"), id)) return true;
    return false;
}

/* A region's assignment.lua result: one candidate's id. */
static int check_choice(const json_t *res, const json_t *candidates, const char *file,
                        struct err_detail *why)
{
    if (!json_is_string(res))
        return err_field(why, -ERR_RULE_OUTPUT, "owner",
                         "%s: must return a candidate's id (a string)", file);
    if (!is_candidate(candidates, json_string_value(res)))
        return err_field(why, -ERR_RULE_OUTPUT, "owner",
                         "%s: returned '%.64s', which is not one of the %zu candidates", file,
                         json_string_value(res), json_array_size(candidates));
    return 0;
}

int rules_assign_owner(struct rules *r, const json_t *lead, const json_t *candidates, json_t **out,
                       struct err_detail *rule_err)
{
    const char *region = str_of(lead, "region");
    char owner[RULES_OWNER_MAX];
    snprintf(owner, sizeof owner, "region/%s", region ? region : "");
    return rules__assign(region ? rules_active(r, owner) : NULL, lead, candidates, out, rule_err);
}

int rules__assign(struct rules_version *rv, const json_t *lead, const json_t *candidates,
                  json_t **out, struct err_detail *rule_err)
{
    const char *hq_pick = least_loaded_ar(candidates);
    /* Without active people there is no one to choose: no rule call. */
    if (rv && json_array_size(candidates) &&
        sandbox_kind(rv->sb, "assignment.lua", NULL) == SANDBOX_FUNCTION) {
        char file[RULES_OWNER_MAX * 2 + 48];
        snprintf(file, sizeof file, "%s v%d: regions/%s/assignment.lua", rv->owner, rv->version,
                 rv->owner + 7);
        json_t *res = NULL;
        json_t *args[2] = {(json_t *)lead, (json_t *)candidates};
        int rc = sandbox_call(rv->sb, "assignment.lua", NULL, args, 2, &res, rule_err);
        if (!rc)
            rc = check_choice(res, candidates, file, rule_err);
        char by[RULES_OWNER_MAX + 16];
        snprintf(by, sizeof by, "%s@%d", rv->owner, rv->version);
        if (!rc) {
            *out = json_pack("{s:O, s:s}", "owner", res, "by", by);
            json_decref(res);
            return *out ? 0 : err_set(rule_err, -ERR_NOMEM, "out of memory");
        }
        json_decref(res);
        /* Bounded: a rule that fails, loops or names no candidate leaves the
         * lead to HQ's default; the caller counts the error (rule_err). */
        *out = json_pack("{s:s?, s:s, s:s?}", "owner", hq_pick, "by", "hq", "rule_error",
                         rc ? rule_err->msg : NULL);
        return *out ? rc : err_set(rule_err, -ERR_NOMEM, "out of memory");
    }
    *out = json_pack("{s:s?, s:s}", "owner", hq_pick, "by", "hq");
    return *out ? 0 : err_set(rule_err, -ERR_NOMEM, "out of memory");
}

/* An integer field of a table an HQ or region file returns, within [min, max]. */
static int int_param(const json_t *t, const char *key, json_int_t min, json_int_t max,
                     json_int_t dflt, const char *file, json_int_t *out, struct err_detail *why)
{
    const json_t *v = json_object_get(t, key);
    if (!v) {
        *out = dflt;
        return 0;
    }
    if (!json_is_integer(v) || json_integer_value(v) < min || json_integer_value(v) > max)
        return err_field(why, -ERR_RULE_REJECTED, key,
                         "%s: %s must be an integer from %lld to %lld", file, key, (long long)min,
                         (long long)max);
    *out = json_integer_value(v);
    return 0;
}

int rules__check_lead_management(struct rules_version *v, struct err_detail *why)
{
    json_t *review = NULL, *card = NULL;
    int rc = 0;
    json_int_t n;
    enum sandbox_kind k = sandbox_kind(v->sb, "lead.lua", "review");
    if (k != SANDBOX_NONE && k != SANDBOX_TABLE)
        return err_field(why, -ERR_RULE_REJECTED, "review", "hq/lead.lua: review must be a table");
    if (k == SANDBOX_TABLE)
        rc = sandbox_call(v->sb, "lead.lua", "review", NULL, 0, &review, why);
    if (!rc)
        rc = int_param(review, "nurture_days", 1, 366, NURTURE_DAYS_DEFAULT, "hq/lead.lua: review",
                       &n, why);
    if (!rc)
        rc = int_param(review, "stale_days", 1, 366, STALE_DAYS_DEFAULT, "hq/lead.lua: review", &n,
                       why);
    k = sandbox_kind(v->sb, "lead.lua", "priority");
    if (!rc && k != SANDBOX_NONE && k != SANDBOX_FUNCTION)
        rc = err_field(why, -ERR_RULE_REJECTED, "priority",
                       "hq/lead.lua: priority must be a function(lead, evaluation)");
    k = sandbox_kind(v->sb, "scorecard.lua", NULL);
    if (!rc && k != SANDBOX_NONE && k != SANDBOX_TABLE)
        rc = err_field(why, -ERR_RULE_REJECTED, "scorecard",
                       "hq/scorecard.lua: must return a table");
    if (!rc && k == SANDBOX_TABLE) {
        rc = sandbox_call(v->sb, "scorecard.lua", "visits_min", NULL, 0, &card, why);
        if (!rc && card &&
            (!json_is_integer(card) || json_integer_value(card) < 0 ||
             json_integer_value(card) > 100))
            rc = err_field(why, -ERR_RULE_REJECTED, "visits_min",
                           "hq/scorecard.lua: visits_min must be an integer from 0 to 100");
        json_decref(card);
        card = NULL;
        if (!rc)
            rc = sandbox_call(v->sb, "scorecard.lua", "budget_deadline", NULL, 0, &card, why);
        unsigned m, d;
        char tail;
        const char *dl = json_string_value(card);
        static const unsigned mdays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
        if (!rc && card &&
            (!dl || strlen(dl) != 5 || sscanf(dl, "%2u-%2u%c", &m, &d, &tail) != 2 || m < 1 ||
             m > 12 || d < 1 || d > mdays[m - 1]))
            rc = err_field(why, -ERR_RULE_REJECTED, "budget_deadline",
                           "hq/scorecard.lua: budget_deadline must be \"MM-DD\" (a day every "
                           "year has)");
        enum sandbox_kind pk = sandbox_kind(v->sb, "scorecard.lua", "points_lost");
        if (!rc && pk != SANDBOX_NONE && pk != SANDBOX_FUNCTION)
            rc = err_field(why, -ERR_RULE_REJECTED, "points_lost",
                           "hq/scorecard.lua: points_lost must be a function(card)");
    }
    json_decref(review);
    json_decref(card);
    return rc;
}

/* A value of HQ's lead.lua review table (validated at load). */
static json_int_t hq_review_param(struct rules_version *hq, const char *key, json_int_t dflt)
{
    json_t *review = NULL;
    if (sandbox_kind(hq->sb, "lead.lua", "review") != SANDBOX_TABLE ||
        sandbox_call(hq->sb, "lead.lua", "review", NULL, 0, &review, NULL))
        return dflt;
    const json_t *v = json_object_get(review, key);
    json_int_t n = json_is_integer(v) ? json_integer_value(v) : dflt;
    json_decref(review);
    return n;
}

int rules_review_params(struct rules *r, const json_t *lead, struct rules_review_params *out,
                        struct err_detail *why)
{
    struct rules_version *hq = rules_hq(r);
    out->stale_days = hq_review_param(hq, "stale_days", STALE_DAYS_DEFAULT);
    out->nurture_days = hq_review_param(hq, "nurture_days", NURTURE_DAYS_DEFAULT);
    out->visits_min = VISITS_MIN_DEFAULT;
    json_t *vm = NULL;
    if (sandbox_kind(hq->sb, "scorecard.lua", "visits_min") != SANDBOX_NONE &&
        !sandbox_call(hq->sb, "scorecard.lua", "visits_min", NULL, 0, &vm, NULL) &&
        json_is_integer(vm))
        out->visits_min = json_integer_value(vm);
    json_decref(vm);
    /* A region's thresholds may set nurture_days and visits_per_week (within
     * HQ's bounds, checked by the merge as for every threshold). */
    const char *region = str_of(lead, "region");
    char owner[RULES_OWNER_MAX];
    snprintf(owner, sizeof owner, "region/%s", region ? region : "");
    struct rules_version *rv = region ? rules_active(r, owner) : NULL;
    if (!rv)
        return 0;
    json_t *t = NULL;
    int rc = rules__resolve_thresholds(hq, rv, lead, &t, why);
    if (rc)
        return rc;
    const json_t *nd = json_object_get(t, "nurture_days"),
                 *vp = json_object_get(t, "visits_per_week");
    if (json_is_number(nd))
        out->nurture_days = (json_int_t)json_number_value(nd);
    if (json_is_number(vp))
        out->visits_min = (json_int_t)json_number_value(vp);
    json_decref(t);
    return 0;
}

int rules_lead_priority(struct rules *r, const json_t *lead, const json_t *evaluation, double *out,
                        struct err_detail *why)
{
    return rules__priority(rules_hq(r), lead, evaluation, out, why);
}

int rules__priority(struct rules_version *hq, const json_t *lead, const json_t *evaluation,
                    double *out, struct err_detail *why)
{
    *out = json_number_value(json_object_get(evaluation, "score"));
    if (sandbox_kind(hq->sb, "lead.lua", "priority") != SANDBOX_FUNCTION)
        return 0; /* no priority function: the score orders the queue */
    json_t *res = NULL;
    json_t *args[2] = {(json_t *)lead, (json_t *)evaluation};
    int rc = sandbox_call(hq->sb, "lead.lua", "priority", args, 2, &res, why);
    if (!rc && (!json_is_number(res) || !isfinite(json_number_value(res))))
        rc = err_field(why, -ERR_RULE_OUTPUT, "priority",
                       "hq v%d: hq/lead.lua: priority must return a number", hq->version);
    if (!rc)
        *out = json_number_value(res);
    json_decref(res);
    return rc;
}

void rules_budget_deadline(struct rules *r, char out[6])
{
    struct rules_version *hq = rules_hq(r);
    json_t *d = NULL;
    snprintf(out, 6, "%s", BUDGET_DEADLINE_DFLT);
    if (sandbox_kind(hq->sb, "scorecard.lua", "budget_deadline") != SANDBOX_NONE &&
        !sandbox_call(hq->sb, "scorecard.lua", "budget_deadline", NULL, 0, &d, NULL) &&
        json_is_string(d))
        snprintf(out, 6, "%s", json_string_value(d));
    json_decref(d);
}

int rules_points_lost(struct rules *r, const json_t *card, json_int_t *out, struct err_detail *why)
{
    return rules__points_lost(rules_hq(r), card, out, why);
}

int rules__points_lost(struct rules_version *hq, const json_t *card, json_int_t *out,
                       struct err_detail *why)
{
    *out = 0;
    if (sandbox_kind(hq->sb, "scorecard.lua", "points_lost") != SANDBOX_FUNCTION)
        return 0;
    json_t *res = NULL;
    json_t *args[1] = {(json_t *)card};
    int rc = sandbox_call(hq->sb, "scorecard.lua", "points_lost", args, 1, &res, why);
    if (!rc && (!json_is_integer(res) || json_integer_value(res) < 0 ||
                json_integer_value(res) > POINTS_LOST_MAX))
        rc = err_field(why, -ERR_RULE_OUTPUT, "points_lost",
                       "hq v%d: hq/scorecard.lua: points_lost must return an integer from 0 to %d",
                       hq->version, POINTS_LOST_MAX);
    if (!rc)
        *out = json_integer_value(res);
    json_decref(res);
    return rc;
}

/* Candidates a region's assignment.lua is checked against when it loads. */
static json_t *sample_candidates(void)
{
    return json_pack("[{s:s, s:s, s:[s], s:i}, {s:s, s:s, s:[s, s], s:i}]", "id", "sample-ar",
                     "name", "Sample AR", "roles", "ar", "open_leads", 3, "id", "sample-sr", "name",
                     "Sample SR", "roles", "sr", "lead_manager", "open_leads", 0);
}

int rules__check_assignment(struct rules_version *v, const json_t *samples,
                            const struct rules_version *hq, struct err_detail *why)
{
    enum sandbox_kind k = sandbox_kind(v->sb, "assignment.lua", NULL);
    /* Every refusal names owner, version and file, as the sandbox's own do. */
    char file[RULES_OWNER_MAX * 2 + 48];
    snprintf(file, sizeof file, "%s v%d: regions/%s/assignment.lua", v->owner, v->version,
             v->owner + 7);
    if (k == SANDBOX_NONE)
        return 0;
    if (k != SANDBOX_FUNCTION)
        return err_set(why, -ERR_RULE_REJECTED, "%s: must return function(lead, candidates)", file);
    json_t *cands = sample_candidates();
    size_t i;
    json_t *s;
    int rc = 0;
    json_array_foreach(samples, i, s)
    {
        json_t *lead = json_deep_copy(s), *res = NULL;
        json_object_set_new(lead, "region", json_string(v->owner + 7));
        json_t *args[2] = {lead, cands};
        rc = sandbox_call(v->sb, "assignment.lua", NULL, args, 2, &res, why);
        if (!rc)
            rc = check_choice(res, cands, file, why);
        json_decref(res);
        json_decref(lead);
        if (rc)
            break;
    }
    (void)hq;
    json_decref(cands);
    return rc;
}
