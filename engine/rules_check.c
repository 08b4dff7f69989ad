/* engine/rules_check.c: compiling a bundle and validating it for its layer:
 * the extension points, HQ's bounds, and HQ's sample leads. */
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lead.h"
#include "rules_internal.h"

/* The extension points: the only files each layer may provide. HQ may
 * provide any file name; these three it must provide. */
static const char *const hq_required[] = {"org.lua",     "lead.lua",  "bounds.lua",
                                          "process.lua", "share.lua", NULL};
static const char *const region_files[] = {
    "thresholds.lua", "authority.lua",  "actions.lua",  "share.lua",
    "tests.lua",      "assignment.lua", "forecast.lua", NULL};
static const char *const office_files[] = {"templates.lua", "tools.lua", "tests.lua", NULL};

/* Lead fields an office's tools.defaults may fill. */
static const char *const default_fields[] = {"source",  "budget",       "horizon_months",
                                             "signals", "product_line", NULL};

/* --- checks -------------------------------------------------------------- */

/* Made once for every thread: the loop and jobs (job.h) compile and
 * evaluate at the same time. */
static json_t *empty_object;
static pthread_once_t empty_once = PTHREAD_ONCE_INIT;

static void make_empty_object(void)
{
    empty_object = json_object();
}

const json_t *rules__as_object(const json_t *v)
{
    if (json_is_array(v) && json_array_size(v) == 0) { /* Lua's {} converts to [] */
        pthread_once(&empty_once, make_empty_object);
        return empty_object;
    }
    return v;
}

/* One field against its bound; a subtree goes back to check_bounds. */
static int check_bounds(const json_t *value, const json_t *bounds, const char *file,
                        const char *prefix, struct rules__diag *diag, struct err_detail *why);

static int check_field(const json_t *x, const json_t *b, const char *file, const char *path,
                       struct rules__diag *diag, struct err_detail *why)
{
    if (!json_is_object(b))
        return err_field(why, -ERR_RULE_REJECTED, path,
                         "%s: field '%s' is not an extension point HQ allows", file, path);
    const json_t *min = json_object_get(b, "min"), *max = json_object_get(b, "max");
    if (!min && !max)
        return check_bounds(x, b, file, path, diag, why);
    if (!json_is_number(x))
        return err_field(why, -ERR_RULE_REJECTED, path, "%s: %s: expected a number", file, path);
    if (json_is_true(json_object_get(b, "integer")) && !json_is_integer(x))
        return err_field(why, -ERR_RULE_REJECTED, path, "%s: %s: expected an integer", file, path);
    double d = json_number_value(x);
    if ((min && d < json_number_value(min)) || (max && d > json_number_value(max)))
        return err_field(why, -ERR_RULE_REJECTED, path, "%s: %s = %g is outside HQ bounds [%g, %g]",
                         file, path, d, min ? json_number_value(min) : -INFINITY,
                         max ? json_number_value(max) : INFINITY);
    return 0;
}

/* Check 'value' against HQ's bounds tree: every key must have a bound; a leaf
 * bound { min, max, integer } holds a number. With 'diag', every field. */
static int check_bounds(const json_t *value, const json_t *bounds, const char *file,
                        const char *prefix, struct rules__diag *diag, struct err_detail *why)
{
    value = rules__as_object(value);
    if (!json_is_object(value)) {
        int rc = err_field(why, -ERR_RULE_REJECTED, prefix, "%s: %s: expected a table", file,
                           prefix[0] ? prefix : "(result)");
        if (diag)
            rules__diag_report(diag, why);
        return rc;
    }
    const char *k;
    json_t *x;
    int first = 0;
    json_object_foreach((json_t *)value, k, x)
    {
        char path[160];
        snprintf(path, sizeof path, "%s%s%s", prefix, prefix[0] ? "." : "", k);
        const json_t *b = json_object_get(bounds, k);
        int before = diag ? diag->count : 0;
        int rc = check_field(x, b, file, path, diag, why);
        if (rc && !diag)
            return rc;
        if (rc && diag->count == before) /* a subtree reports its own */
            rules__diag_report(diag, why);
        first = first ? first : rc;
    }
    return first;
}

int rules__check_bounds(const json_t *value, const json_t *bounds, const char *file,
                        const char *prefix, struct err_detail *why)
{
    return check_bounds(value, bounds, file, prefix, NULL, why);
}

static const char *const threshold_keys[] = {"mature_budget", "horizon_months", "hot", "warm",
                                             NULL};

/* Complete thresholds: HQ defaults overlaid by the region's, within bounds. */
int rules__thresholds_merge(const struct rules_version *hq, const json_t *region_t,
                            const char *file, json_t **out, struct err_detail *why)
{
    const json_t *tb = json_object_get(hq->bounds, "thresholds");
    if (region_t) {
        int rc = rules__check_bounds(region_t, tb, file, "", why);
        if (rc)
            return rc;
    }
    if (region_t) {
        int rc = rules__relations_check(hq->bounds, "thresholds", region_t, hq->thresholds, file,
                                        NULL, why);
        if (rc)
            return rc;
    }
    json_t *t = json_deep_copy(hq->thresholds);
    if (region_t)
        json_object_update(t, (json_t *)rules__as_object(region_t));
    for (const char *const *k = threshold_keys; *k; k++)
        if (!json_is_number(json_object_get(t, *k))) {
            json_decref(t);
            return err_field(why, -ERR_RULE_REJECTED, *k, "%s: thresholds.%s is missing", file, *k);
        }
    if (json_number_value(json_object_get(t, "warm")) >
        json_number_value(json_object_get(t, "hot"))) {
        json_decref(t);
        return err_field(why, -ERR_RULE_REJECTED, "warm", "%s: warm must not exceed hot", file);
    }
    *out = t;
    return 0;
}

int rules__check_string_list(const json_t *v, const char *file, const char *what,
                             struct err_detail *why)
{
    size_t i;
    json_t *x;
    if (!json_is_array(v))
        return err_field(why, -ERR_RULE_OUTPUT, what, "%s: %s must return a list", file, what);
    json_array_foreach(v, i, x)
    {
        if (!json_is_string(x))
            return err_field(why, -ERR_RULE_OUTPUT, what, "%s: %s[%zu] must be a string", file,
                             what, i + 1);
    }
    return 0;
}

/* HQ's lead scoring output: { score = 0..100, fit, risk_ok, reasons }. */
int rules__check_scoring(const json_t *res, const char *file, struct err_detail *why)
{
    const json_t *score = json_object_get(res, "score");
    if (!json_is_number(score) || json_number_value(score) < 0 || json_number_value(score) > 100)
        return err_field(why, -ERR_RULE_OUTPUT, "score",
                         "%s: evaluate must return score, a number from 0 to 100", file);
    const json_t *fit = json_object_get(res, "fit"), *risk = json_object_get(res, "risk_ok");
    if ((fit && !json_is_boolean(fit)) || (risk && !json_is_boolean(risk)))
        return err_field(why, -ERR_RULE_OUTPUT, "fit",
                         "%s: evaluate: fit and risk_ok must be booleans", file);
    const json_t *reasons = json_object_get(res, "reasons");
    return reasons ? rules__check_string_list(reasons, file, "reasons", why) : 0;
}

void rules__diag_report(struct rules__diag *d, const struct err_detail *e)
{
    d->count++;
    if (d->report)
        d->report(d->ctx, e);
}

/* --- compile and validate ---------------------------------------------- */

static json_t *sample_leads(const struct rules_version *hq)
{
    json_t *s = NULL;
    if (hq && sandbox_kind(hq->sb, "lead.lua", "samples") == SANDBOX_TABLE)
        sandbox_call(hq->sb, "lead.lua", "samples", NULL, 0, &s, NULL);
    return s;
}

static int validate_hq(struct rules_version *v, struct err_detail *why)
{
    json_t *org = NULL, *samples = NULL;
    int rc = sandbox_call(v->sb, "org.lua", NULL, NULL, 0, &org, why);
    if (!rc)
        rc = org_from_json(org, &v->org, why);
    json_decref(org);
    if (rc) {
        if (why && !strstr(why->msg, "org.lua")) {
            char m[ERR_DETAIL_MAX];
            snprintf(m, sizeof m, "%s", why->msg);
            err_field(why, rc, why->field, "hq/org.lua: %s", m);
        }
        return rc;
    }
    if (!rc)
        rc = sandbox_call(v->sb, "bounds.lua", NULL, NULL, 0, &v->bounds, why);
    if (!rc && !json_is_object(json_object_get(v->bounds, "thresholds")))
        rc = err_field(why, -ERR_RULE_REJECTED, "thresholds",
                       "hq/bounds.lua: must declare bounds for thresholds");
    if (!rc && sandbox_kind(v->sb, "process.lua", "act") != SANDBOX_FUNCTION)
        rc = err_field(why, -ERR_RULE_REJECTED, "act",
                       "hq/process.lua: must export act = function(instance, input, ctx)");
    json_t *credit = NULL;
    if (!rc && sandbox_kind(v->sb, "share.lua", "split") != SANDBOX_FUNCTION)
        rc = err_field(why, -ERR_RULE_REJECTED, "split",
                       "hq/share.lua: must export split = function(level, groups, params)");
    if (!rc && sandbox_kind(v->sb, "share.lua", "params") == SANDBOX_TABLE)
        rc = sandbox_call(v->sb, "share.lua", "params", NULL, 0, &v->share, why);
    if (!rc)
        rc = sandbox_call(v->sb, "process.lua", "stages", NULL, 0, &v->stages, why);
    if (!rc && (!json_is_array(v->stages) || json_array_size(v->stages) == 0))
        rc = err_field(why, -ERR_RULE_REJECTED, "stages",
                       "hq/process.lua: stages must be a list of names");
    if (!rc)
        rc = sandbox_call(v->sb, "process.lua", "credit_limit", NULL, 0, &credit, why);
    if (!rc && (!json_is_integer(credit) || json_integer_value(credit) < 0))
        rc = err_field(why, -ERR_RULE_REJECTED, "credit_limit",
                       "hq/process.lua: credit_limit must be an integer (fen)");
    if (!rc)
        v->credit_limit = json_integer_value(credit);
    json_decref(credit);
    if (!rc && sandbox_kind(v->sb, "lead.lua", "evaluate") != SANDBOX_FUNCTION)
        rc = err_field(why, -ERR_RULE_REJECTED, "evaluate",
                       "hq/lead.lua: must export evaluate = function(lead, thresholds)");
    if (!rc)
        rc = sandbox_call(v->sb, "lead.lua", "thresholds", NULL, 0, &v->thresholds, why);
    if (!rc && sandbox_kind(v->sb, "lead.lua", "defaults") != SANDBOX_NONE)
        rc = sandbox_call(v->sb, "lead.lua", "defaults", NULL, 0, &v->lead_defaults, why);
    if (!rc) {
        json_t *t = NULL;
        rc = rules__thresholds_merge(v, NULL, "hq/lead.lua", &t, why);
        if (!rc)
            rc = rules__check_bounds(v->thresholds, json_object_get(v->bounds, "thresholds"),
                                     "hq/lead.lua", "thresholds", why);
        json_decref(t);
    }
    if (!rc)
        rc = rules__relations_check_decl(v, why);
    if (!rc)
        rc = rules__inputs_load(v, why);
    if (!rc) /* review, priority, scorecard.lua (lead management) */
        rc = rules__check_lead_management(v, why);
    if (!rc) /* forecast.lua (strategy to numbers), optional */
        rc = rules__check_forecast(v, why);
    /* HQ's own sample leads must evaluate. */
    if (!rc && (samples = sample_leads(v)) && json_is_array(samples)) {
        size_t i;
        json_t *s;
        json_array_foreach(samples, i, s)
        {
            json_t *lead = NULL, *ev = NULL;
            rc = lead_check(s, v->lead_defaults, &lead, why);
            if (!rc)
                rc = rules__check_signals(v, lead, why);
            if (!rc && !org_has_office(v->org, json_string_value(json_object_get(lead, "office"))))
                rc = err_set(why, -ERR_RULE_REJECTED,
                             "hq/lead.lua: samples[%zu]: office not in org", i + 1);
            if (!rc) {
                json_t *t = json_deep_copy(v->thresholds), *res = NULL;
                json_t *args[2] = {lead, t};
                rc = sandbox_call(v->sb, "lead.lua", "evaluate", args, 2, &res, why);
                if (!rc)
                    rc = rules__check_scoring(res, "hq/lead.lua", why);
                json_decref(t);
                json_decref(res);
            }
            json_decref(lead);
            json_decref(ev);
            if (rc) {
                char m[ERR_DETAIL_MAX];
                snprintf(m, sizeof m, "%s", why ? why->msg : "");
                err_field(why, rc, why ? why->field : "", "hq/lead.lua: samples[%zu]: %s", i + 1,
                          m);
                break;
            }
        }
    }
    json_decref(samples);
    return rc;
}

int rules__check_actions(const json_t *list, const char *file, struct err_detail *why)
{
    size_t i;
    json_t *a;
    if (!json_is_array(list))
        return err_set(why, -ERR_RULE_OUTPUT, "%s: must return a list of actions", file);
    json_array_foreach(list, i, a)
    {
        const json_t *role = json_object_get(a, "role"), *act = json_object_get(a, "action"),
                     *due = json_object_get(a, "due_days");
        if (!json_is_string(role) || !json_is_string(act) || !json_is_integer(due) ||
            json_integer_value(due) < 0 || json_integer_value(due) > 3650)
            return err_field(why, -ERR_RULE_OUTPUT, "actions",
                             "%s: actions[%zu] must be { role = \"..\", action = \"..\", "
                             "due_days = 0..3650 }",
                             file, i + 1);
    }
    return 0;
}

static int validate_region(struct rules_version *v, const struct rules_version *hq,
                           struct rules__diag *diag, struct err_detail *why)
{
    if (!org_has_region(hq->org, v->owner + 7))
        return err_set(why, -ERR_RULE_REJECTED, "%s: no such region in hq/org.lua", v->owner);
    char file[160];
    snprintf(file, sizeof file, "regions/%s/", v->owner + 7);
    size_t base = strlen(file);
    json_t *samples = sample_leads(hq);
    int rc = 0;
    if (sandbox_kind(v->sb, "thresholds.lua", NULL) == SANDBOX_TABLE)
        rc = sandbox_call(v->sb, "thresholds.lua", NULL, NULL, 0, &v->thresholds, why);
    static const char *const bounded[] = {"authority.lua", "share.lua", "forecast.lua", NULL};
    int first = 0; /* with a diag, each file is checked whatever the one before gave */
    for (const char *const *f = bounded; *f && !rc; f++) {
        if (sandbox_kind(v->sb, *f, NULL) == SANDBOX_NONE)
            continue;
        snprintf(file + base, sizeof file - base, "%s", *f);
        json_t *val = NULL;
        int before = diag ? diag->count : 0;
        rc = sandbox_call(v->sb, *f, NULL, NULL, 0, &val, why);
        const char *key = !strcmp(*f, "authority.lua") ? "authority"
                          : !strcmp(*f, "share.lua")   ? "share"
                                                       : "forecast";
        const json_t *b = json_object_get(hq->bounds, key);
        if (!rc && !b)
            rc = err_set(why, -ERR_RULE_REJECTED, "%s: HQ declares no bounds for %s", file, key);
        if (!rc)
            rc = check_bounds(val, b, file, "", diag, why);
        if (!rc || diag) {
            int rrc = rules__relations_check(
                hq->bounds, key, val, !strcmp(key, "share") ? hq->share : NULL, file, diag, why);
            rc = rc ? rc : rrc;
        }
        if (!rc && !strcmp(*f, "authority.lua"))
            v->authority = json_incref(val);
        if (!rc && !strcmp(*f, "share.lua"))
            v->share = json_incref(val);
        if (!rc && !strcmp(*f, "forecast.lua"))
            v->forecast = json_incref(json_object_get(val, "stages"));
        json_decref(val);
        if (rc && diag) {
            if (diag->count == before)
                rules__diag_report(diag, why);
            first = first ? first : rc;
            rc = 0;
        }
    }
    rc = rc ? rc : first;
    /* Function forms run against HQ's sample leads. */
    size_t i;
    json_t *s;
    if (!rc && json_is_array(samples))
        json_array_foreach(samples, i, s)
        {
            json_t *lead = NULL, *t = NULL, *acts = NULL;
            rc = lead_check(s, hq->lead_defaults, &lead, why);
            if (!rc)
                rc = rules__resolve_thresholds(hq, v, lead, &t, why);
            if (!rc && sandbox_kind(v->sb, "actions.lua", NULL) != SANDBOX_NONE) {
                json_t *stage = json_string("lead");
                json_t *args[2] = {stage, lead};
                snprintf(file + base, sizeof file - base, "actions.lua");
                rc = sandbox_call(v->sb, "actions.lua", NULL, args, 2, &acts, why);
                if (!rc)
                    rc = rules__check_actions(acts, file, why);
                json_decref(stage);
            }
            json_decref(lead);
            json_decref(t);
            json_decref(acts);
            if (rc)
                break;
        }
    /* Without HQ samples the file is still checked to be a function. */
    if (!rc)
        rc = rules__check_assignment(v, json_is_array(samples) ? samples : NULL, hq, why);
    if (!rc && !json_is_array(samples) && v->thresholds) {
        json_t *t = NULL;
        rc = rules__resolve_thresholds(hq, v, NULL, &t, why);
        json_decref(t);
    }
    json_decref(samples);
    return rc;
}

static int validate_office(struct rules_version *v, const struct rules_version *hq,
                           struct err_detail *why)
{
    if (!org_has_office(hq->org, v->owner + 7))
        return err_set(why, -ERR_RULE_REJECTED, "%s: no such office in hq/org.lua", v->owner);
    char file[160];
    int rc = 0;
    snprintf(file, sizeof file, "offices/%s/tools.lua", v->owner + 7);
    if (sandbox_kind(v->sb, "tools.lua", NULL) == SANDBOX_FUNCTION)
        return err_set(why, -ERR_RULE_REJECTED, "%s: must return a table", file);
    if (sandbox_kind(v->sb, "tools.lua", "defaults") != SANDBOX_NONE) {
        json_t *d = NULL;
        rc = sandbox_call(v->sb, "tools.lua", "defaults", NULL, 0, &d, why);
        const char *k;
        json_t *x;
        if (!rc && !json_is_object(rules__as_object(d)))
            rc = err_field(why, -ERR_RULE_REJECTED, "defaults", "%s: defaults must be a table",
                           file);
        if (!rc)
            json_object_foreach((json_t *)rules__as_object(d), k, x)
            {
                if (!rules__in_list(default_fields, k)) {
                    rc = err_field(why, -ERR_RULE_REJECTED, k,
                                   "%s: defaults.%s is not a lead field an office may default",
                                   file, k);
                    break;
                }
            }
        json_t *probe = NULL; /* the defaulted signals against HQ's declaration */
        if (!rc && json_object_get(rules__as_object(d), "signals") &&
            (probe =
                 json_pack("{s:O}", "signals",
                           rules__as_object(json_object_get(rules__as_object(d), "signals"))))) {
            rc = rules__check_signals(hq, probe, why);
            if (rc && why) {
                char m[ERR_DETAIL_MAX], f[sizeof why->field];
                snprintf(m, sizeof m, "%s", why->msg);
                snprintf(f, sizeof f, "%s", why->field);
                err_field(why, -ERR_RULE_REJECTED, f, "%s: defaults.%s", file, m);
            }
            rc = rc ? -ERR_RULE_REJECTED : 0;
        }
        json_decref(probe);
        if (!rc)
            v->lead_defaults = json_deep_copy(rules__as_object(d));
        json_decref(d);
    }
    if (!rc && sandbox_kind(v->sb, "tools.lua", "checklist") != SANDBOX_NONE) {
        json_t *stage = json_string("lead"), *inst = json_object(), *list = NULL;
        json_t *args[2] = {stage, inst};
        rc = sandbox_call(v->sb, "tools.lua", "checklist", args, 2, &list, why);
        if (!rc)
            rc = rules__check_string_list(list, file, "checklist", why);
        json_decref(stage);
        json_decref(inst);
        json_decref(list);
    }
    snprintf(file, sizeof file, "offices/%s/templates.lua", v->owner + 7);
    if (!rc && sandbox_kind(v->sb, "templates.lua", NULL) == SANDBOX_FUNCTION)
        rc = err_set(why, -ERR_RULE_REJECTED, "%s: must return a table of functions", file);
    return rc;
}

/* Compile a bundle in a fresh sandbox and validate it. *out has one reference. */
int rules__compile(const char *owner, enum rules_layer layer, int version, const json_t *files,
                   const struct rules_version *hq, struct rules_version **out,
                   struct err_detail *why)
{
    return rules__compile_diag(owner, layer, version, files, hq, NULL, out, why);
}

int rules__compile_diag(const char *owner, enum rules_layer layer, int version, const json_t *files,
                        const struct rules_version *hq, struct rules__diag *diag,
                        struct rules_version **out, struct err_detail *why)
{
    int reported = diag ? diag->count : 0, first = 0, rc = 0;
    struct rules_version *v = NULL;
    if (json_object_size(files) > RULES_FILES_MAX)
        rc = err_set(why, -ERR_RULE_REJECTED, "%s: more than %d files", owner, RULES_FILES_MAX);
    else if (layer != RULES_HQ && !hq)
        rc = err_set(why, -ERR_RULE_REJECTED, "%s: no active HQ rules to validate against", owner);
    else if (!(v = calloc(1, sizeof *v)))
        rc = err_set(why, -ERR_NOMEM, "out of memory");
    if (rc) {
        if (diag)
            rules__diag_report(diag, why);
        return rc;
    }
    v->refs = 1;
    snprintf(v->owner, sizeof v->owner, "%s", owner);
    v->layer = layer;
    v->version = version;
    v->checked_hq = layer == RULES_HQ ? 0 : hq->version;
    v->files = json_deep_copy(files);
    rules__bundle_hash(files, v->hash);
    char dir[160];
    rules__owner_dir(owner, dir, sizeof dir);
    rc = sandbox_new(owner, version, dir, NULL, &v->sb, why);
    const char *const *allowed = layer == RULES_REGION   ? region_files
                                 : layer == RULES_OFFICE ? office_files
                                                         : NULL;
    const char *name;
    json_t *src;
    if (!rc)
        json_object_foreach((json_t *)files, name, src)
        {
            char path[256];
            snprintf(path, sizeof path, "%s%s", dir, name);
            if (allowed && !rules__in_list(allowed, name)) {
                rc = err_field(why, -ERR_RULE_REJECTED, name,
                               "%s: not an extension point of this layer (allowed: %s)", path,
                               layer == RULES_REGION ? "thresholds.lua, authority.lua, "
                                                       "actions.lua, share.lua, tests.lua, "
                                                       "assignment.lua, forecast.lua"
                                                     : "templates.lua, tools.lua, tests.lua");
            } else if (!json_is_string(src)) {
                rc = err_set(why, -ERR_RULE_REJECTED, "%s: source must be text", path);
            } else {
                const char *text = json_string_value(src);
                size_t len = json_string_length(src);
                rc = rules__check_source(owner, version, name, text, len, why);
                if (!rc)
                    rc = sandbox_load(v->sb, name, text, len, why);
            }
            if (rc && !diag)
                break;
            if (rc) { /* every file's own error; the bundle is refused after the last */
                rules__diag_report(diag, why);
                first = first ? first : rc;
                rc = 0;
            }
        }
    rc = rc ? rc : first;
    if (!rc && layer == RULES_HQ)
        for (const char *const *f = hq_required; *f && !rc; f++)
            if (!json_object_get(files, *f))
                rc = err_field(why, -ERR_RULE_REJECTED, *f, "hq/%s: required HQ file missing", *f);
    if (!rc)
        rc = layer == RULES_HQ       ? validate_hq(v, why)
             : layer == RULES_REGION ? validate_region(v, hq, diag, why)
                                     : validate_office(v, hq, why);
    if (rc) {
        if (diag && diag->count == reported)
            rules__diag_report(diag, why);
        rules_version_unref(v);
        return rc;
    }
    *out = v;
    return 0;
}
