/* engine/api_shadow.c: shadow runs of pending rule versions over HTTP
 * (CONTRACT 8.2): POST /v1/rules/OWNER/versions/V/shadow { "hours": N }
 * starts one (hq admin, or the owner's admin), GET of the same path is its
 * summary, for principals who see the owner's whole scope (its examples name
 * instances and their evaluations, which are scoped as instances are). */
#include <stdio.h>
#include <string.h>

#include "api.h"
#include "num.h"

#define SHADOW_VERSION_MAX 1000000000 /* as api_rules.c: fits an int */

/* The owner and version of the path, or answer 400/404 and return -1. */
static int target(struct api_call *c, int *version)
{
    enum rules_layer layer;
    int64_t v;
    struct err_detail why = {0};
    if (rules_owner_layer(c->params[0], &layer)) {
        api_fail(c->req, -ERR_NOT_FOUND, "'%.60s' is not hq, region/ID or office/ID", c->params[0]);
        return -1;
    }
    if (num_parse("version", c->params[1], 1, SHADOW_VERSION_MAX, &v, &why)) {
        api_error(c->req, &why);
        return -1;
    }
    *version = (int)v;
    return 0;
}

void api_rules_shadow_start(struct api_call *c)
{
    const char *owner = c->params[0];
    int version;
    if (target(c, &version))
        return;
    const struct auth_principal *p = c->principal;
    bool hq_admin = p->role == AUTH_ADMIN && p->level == AUTH_LEVEL_HQ;
    bool owner_admin = p->role == AUTH_ADMIN && !strcmp(p->unit, owner);
    if (!hq_admin && !owner_admin) {
        api_fail(c->req, -ERR_FORBIDDEN, "only %s's admin or an hq admin shadows its versions",
                 owner);
        return;
    }
    static const char *const keys[] = {"hours", NULL};
    json_t *body = api_body_object(c);
    if (!body)
        return;
    if (api_body_keys(c, body, keys)) {
        json_decref(body);
        return;
    }
    int64_t hours = 0;
    struct err_detail why = {0};
    json_t *out = NULL;
    if (!num_json("hours", json_object_get(body, "hours"), 1, RULES_SHADOW_HOURS_MAX, &hours, &why))
        rules_shadow_start(c->app->rules, owner, version, (int)hours, c->actor, &out, &why);
    json_decref(body);
    if (why.code) {
        api_error(c->req, &why);
        return;
    }
    api_json(c->req, 201, out);
    json_decref(out);
}

/* Whether the principal sees every instance of the owner's scope. */
static bool sees_scope(struct api_call *c, const char *owner)
{
    const struct auth_principal *p = c->principal;
    if (!strcmp(owner, "hq"))
        return p->level == AUTH_LEVEL_HQ;
    if (!strncmp(owner, "region/", 7))
        return auth_sees(p, owner + 7, NULL);
    struct rules_version *hq = rules_hq(c->app->rules);
    const char *region = hq ? org_region_of(hq->org, owner + 7) : NULL;
    return region && auth_sees(p, region, owner + 7);
}

void api_rules_shadow_get(struct api_call *c)
{
    int version;
    if (target(c, &version))
        return;
    if (!sees_scope(c, c->params[0])) {
        api_fail(c->req, -ERR_FORBIDDEN, "%s does not see the scope of %s", c->principal->unit,
                 c->params[0]);
        return;
    }
    json_t *out = NULL;
    struct err_detail why = {0};
    if (rules_shadow_summary(c->app->rules, c->params[0], version, &out, &why)) {
        api_error(c->req, &why);
        return;
    }
    api_json(c->req, 200, out);
    json_decref(out);
}
