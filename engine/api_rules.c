/* engine/api_rules.c: rule bundles over HTTP (CONTRACT sections 2 and 5). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "job.h"
#include "log.h"
#include "num.h"
#include "utf8.h"

/* Only the owning unit's admin writes its bundle. */
static bool may_write_owner(const struct auth_principal *p, const char *owner)
{
    return p->role == AUTH_ADMIN && !strcmp(p->unit, owner);
}

static int query_base(struct api_call *c, int *base);
static json_t *created_json(const char *owner, const struct rules_result *res);

static bool is_hq_admin(const struct auth_principal *p)
{
    return p->role == AUTH_ADMIN && p->level == AUTH_LEVEL_HQ;
}

static int check_owner(struct api_call *c, const char *owner)
{
    enum rules_layer layer;
    if (rules_owner_layer(owner, &layer)) {
        api_fail(c->req, -ERR_NOT_FOUND, "'%.60s' is not hq, region/ID or office/ID", owner);
        return -1;
    }
    /* Existence before permission: the org tree is readable by every
     * principal (HQ's org.lua), so a 404 for a unit outside it tells nothing
     * new, and a 403 would send the user after a permission instead of the
     * typo. */
    const struct org *org = rules_hq(c->app->rules)->org;
    if ((layer == RULES_REGION && !org_has_region(org, owner + 7)) ||
        (layer == RULES_OFFICE && !org_has_office(org, owner + 7))) {
        api_fail(c->req, -ERR_NOT_FOUND, "no owner %.60s: the org tree has no %s '%.40s'", owner,
                 layer == RULES_REGION ? "region" : "office", owner + 7);
        return -1;
    }
    return 0;
}

void api_rules_status(struct api_call *c)
{
    json_t *body = rules_status_json(c->app->rules);
    api_json(c->req, 200, body);
    json_decref(body);
}

static void put_or_delete(struct api_call *c, bool put)
{
    const char *owner = c->params[0], *file = c->params[1];
    if (check_owner(c, owner))
        return;
    if (!may_write_owner(c->principal, owner)) {
        api_fail(c->req, -ERR_FORBIDDEN, "%s:%s may not write the rules of %s", c->principal->unit,
                 auth_role_name(c->principal->role), owner);
        return;
    }
    size_t len = 0;
    const char *src = put ? http_body(c->req, &len) : NULL;
    struct rules_result res = {0};
    struct err_detail why = {0};
    int base = 0;
    if (query_base(c, &base))
        return;
    int rc = rules_put_file_on(c->app->rules, owner, file, src, len, base, c->actor, &res, &why);
    if (rc) {
        api_error(c->req, &why);
        return;
    }
    json_t *body = created_json(owner, &res);
    api_json(c->req, strcmp(res.status, "unchanged") ? 201 : 200, body);
    json_decref(body);
}

void api_rules_put(struct api_call *c)
{
    put_or_delete(c, true);
}

void api_rules_delete(struct api_call *c)
{
    put_or_delete(c, false);
}

#define VERSION_MAX 1000000000 /* far beyond any owner's history; fits an int */

static int parse_version(struct api_call *c, const char *s, int *out)
{
    int64_t v;
    struct err_detail why = {0};
    if (num_parse("version", s, 1, VERSION_MAX, &v, &why)) {
        api_error(c->req, &why);
        return -1;
    }
    *out = (int)v;
    return 0;
}

static void decide(struct api_call *c, bool approve)
{
    const char *owner = c->params[0];
    int version;
    if (check_owner(c, owner) || parse_version(c, c->params[1], &version))
        return;
    if (!is_hq_admin(c->principal)) {
        api_fail(c->req, -ERR_FORBIDDEN, "only an hq admin approves or rejects rule versions");
        return;
    }
    json_t *body = NULL;
    size_t len;
    http_body(c->req, &len);
    static const char *const keys[] = {"reason", NULL};
    if (len && !(body = api_body_object(c)))
        return;
    if (body && api_body_keys(c, body, keys)) {
        json_decref(body);
        return;
    }
    const char *reason = json_string_value(json_object_get(body, "reason"));
    struct err_detail why = {0};
    int rc = approve ? rules_approve(c->app->rules, owner, version, c->actor, &why)
                     : rules_reject(c->app->rules, owner, version, c->actor,
                                    reason ? reason : "rejected", &why);
    json_decref(body);
    if (rc) {
        api_error(c->req, &why);
        return;
    }
    json_t *out = json_pack("{s:s, s:i, s:s}", "owner", owner, "version", version, "status",
                            approve ? "active" : "rejected");
    api_json(c->req, 200, out);
    json_decref(out);
}

void api_rules_approve(struct api_call *c)
{
    decide(c, true);
}

void api_rules_reject(struct api_call *c)
{
    decide(c, false);
}

static json_t *version_json(const struct store_rule_version *v)
{
    char created[40], activated[40];
    app_iso_time(v->created_at_ms, created, sizeof created);
    app_iso_time(v->activated_at_ms, activated, sizeof activated);
    json_t *o = json_pack("{s:s, s:i, s:s, s:s, s:s, s:s, s:s, s:s?, s:s?, s:s?}", "owner",
                          v->owner, "version", v->version, "hash", v->hash, "status", v->status,
                          "origin", v->origin, "created_at", created, "created_by", v->created_by,
                          "activated_at", v->activated_at_ms ? activated : NULL, "approved_by",
                          v->approved_by, "reason", v->reason);
    if (o) /* lineage: the version it was built on, null for none */
        json_object_set_new(o, "base", v->base > 0 ? json_integer(v->base) : json_null());
    if (o && v->signature)
        json_object_set_new(o, "signature", json_string(v->signature));
    if (o && v->files) /* byte for byte, NULs of versions stored before they were refused too */
        json_object_set_new(o, "files", json_loads(v->files, JSON_ALLOW_NUL, NULL));
    return o;
}

static int on_version(const struct store_rule_version *v, void *ctx)
{
    return json_array_append_new(ctx, version_json(v));
}

void api_rules_versions(struct api_call *c)
{
    const char *owner = c->params[0];
    if (check_owner(c, owner))
        return;
    json_t *list = json_array();
    struct err_detail why = {0};
    if (store_rule_version_list(c->app->st, owner, on_version, list, &why)) {
        json_decref(list);
        api_error(c->req, &why);
        return;
    }
    json_t *body = json_pack("{s:s, s:o}", "owner", owner, "versions", list);
    api_json(c->req, 200, body);
    json_decref(body);
}

static int on_one_version(const struct store_rule_version *v, void *ctx)
{
    *(json_t **)ctx = version_json(v);
    return 0;
}

void api_rules_version_get(struct api_call *c)
{
    const char *owner = c->params[0];
    int version;
    if (check_owner(c, owner) || parse_version(c, c->params[1], &version))
        return;
    json_t *body = NULL;
    struct err_detail why = {0};
    if (store_rule_version_get(c->app->st, owner, version, on_one_version, &body, &why)) {
        api_error(c->req, &why);
        return;
    }
    api_json(c->req, 200, body);
    json_decref(body);
}

void api_rules_reload(struct api_call *c)
{
    if (!is_hq_admin(c->principal)) {
        api_fail(c->req, -ERR_FORBIDDEN, "only an hq admin reloads the rules directory");
        return;
    }
    if (api_body_none(c))
        return;
    int failed = rules_sync_disk(c->app->rules, c->actor);
    json_t *body =
        json_pack("{s:i, s:o}", "failed", failed, "rules", rules_status_json(c->app->rules));
    api_json(c->req, 200, body);
    json_decref(body);
}

/* The owner's admin, or an hq admin, may roll back and simulate. */
static bool may_govern(const struct auth_principal *p, const char *owner)
{
    return may_write_owner(p, owner) || is_hq_admin(p);
}

void api_rules_rollback(struct api_call *c)
{
    const char *owner = c->params[0];
    if (check_owner(c, owner))
        return;
    if (!may_govern(c->principal, owner)) {
        api_fail(c->req, -ERR_FORBIDDEN, "only %s's admin or an hq admin rolls back its rules",
                 owner);
        return;
    }
    if (api_body_none(c))
        return;
    struct rules_result res = {0};
    struct err_detail why = {0};
    if (rules_rollback(c->app->rules, owner, c->actor, &res, &why)) {
        api_error(c->req, &why);
        return;
    }
    json_t *body =
        json_pack("{s:s, s:i, s:s}", "owner", owner, "version", res.version, "status", res.status);
    api_json(c->req, 200, body);
    json_decref(body);
}

#define SIMULATE_LIMIT_DEFAULT 100000
#define SIMULATE_LIMIT_MAX     1000000
#define SIMULATE_MS_DEFAULT    5000
#define SIMULATE_MS_MAX        30000

static bool valid_date(const json_t *v)
{
    const char *s = json_string_value(v);
    return !v || (s && strlen(s) == 10 && s[4] == '-' && s[7] == '-');
}

/* A simulation runs as a job (job.h): off the loop, on a copy of the rules
 * that were active when it was asked for. */
struct simulate_job {
    struct http_req *req;
    char owner[RULES_OWNER_MAX];
    int version;
    json_t *body; /* owned: sim's strings point into it */
    struct rules_simulation sim;
    json_t *out; /* the result, made on the job's thread */
};

static int simulate_work(const struct job_env *env, void *ctx, struct err_detail *why)
{
    struct simulate_job *j = ctx;
    /* Two sides, the second on a thread of its own: a large simulation takes
     * about half the time on two cores. Without the copy, one side does it. */
    struct store *st2 = NULL;
    struct rules *r2 = NULL, *sides[2] = {env->rules, NULL};
    struct err_detail ignored = {0};
    if (!job_rules_copy(env, &st2, &r2, &ignored))
        sides[1] = r2;
    int rc = rules_simulate_on(sides, r2 ? 2 : 1, j->owner, j->version, &j->sim, &j->out, why);
    rules_close(r2);
    store_close(st2);
    return rc;
}

static void simulate_done(int rc, const struct err_detail *why, void *ctx)
{
    struct simulate_job *j = ctx;
    if (rc)
        api_error(j->req, why);
    else
        api_json(j->req, 200, j->out);
    json_decref(j->out);
    json_decref(j->body);
    free(j);
    app_release_memory(); /* a large simulation's scratch memory goes back */
}

void api_rules_simulate(struct api_call *c)
{
    const char *owner = c->params[0];
    int version;
    if (check_owner(c, owner) || parse_version(c, c->params[1], &version))
        return;
    const struct auth_principal *p = c->principal;
    bool hq_reader = p->level == AUTH_LEVEL_HQ && p->role != AUTH_VIEWER;
    if (!may_govern(p, owner) && !hq_reader) {
        api_fail(c->req, -ERR_FORBIDDEN, "only %s's admin or HQ simulates its versions", owner);
        return;
    }
    size_t len;
    http_body(c->req, &len);
    static const char *const keys[] = {"limit", "max_ms", "unit", "from", "to", NULL};
    json_t *body = len ? api_body_object(c) : json_object();
    if (!body)
        return;
    if (api_body_keys(c, body, keys)) {
        json_decref(body);
        return;
    }
    const json_t *limit = json_object_get(body, "limit"), *ms = json_object_get(body, "max_ms");
    struct err_detail why = {0};
    /* Checked as the json_int_t they arrive as, narrowed only once in range. */
    int64_t n = SIMULATE_LIMIT_DEFAULT, max_ms = SIMULATE_MS_DEFAULT;
    const char *unit = json_string_value(json_object_get(body, "unit"));
    bool bad = (limit && num_json("limit", limit, 1, SIMULATE_LIMIT_MAX, &n, &why)) ||
               (ms && num_json("max_ms", ms, 1, SIMULATE_MS_MAX, &max_ms, &why));
    if (!bad &&
        (!valid_date(json_object_get(body, "from")) || !valid_date(json_object_get(body, "to"))))
        err_field(&why, -ERR_INVALID_FIELD, "from", "from, to: expected YYYY-MM-DD");
    else if (!bad && unit && !auth_unit_level(unit))
        err_field(&why, -ERR_INVALID_FIELD, "unit", "unit: expected hq, region/ID or office/ID");
    struct simulate_job *j = why.code ? NULL : calloc(1, sizeof *j);
    if (!why.code && !j)
        err_set(&why, -ERR_NOMEM, "out of memory");
    if (j) {
        j->req = c->req;
        snprintf(j->owner, sizeof j->owner, "%s", owner);
        j->version = version;
        j->body = body;
        j->sim = (struct rules_simulation){
            .unit = unit,
            .from = json_string_value(json_object_get(body, "from")),
            .to = json_string_value(json_object_get(body, "to")),
            .limit = (int)n,
            .max_ms = (int)max_ms,
        };
        http_defer(c->req); /* before: 'done' may answer at once */
        if (!job_submit(c->app->jobs, c->app->rules, simulate_work, simulate_done, j, &why))
            return;
        free(j);
    }
    json_decref(body);
    api_error(c->req, &why);
}

static int on_rule_event(const struct store_rule_event *e, void *ctx)
{
    char at[40];
    app_iso_time(e->at_ms, at, sizeof at);
    /* Messages of rows stored before they were cleaned may hold any bytes. */
    json_t *o =
        json_pack("{s:s, s:s, s:s, s:s?, s:o?}", "at", at, "actor", e->actor, "action", e->action,
                  "hash", e->hash, "message", e->message ? utf8_json(e->message) : NULL);
    if (o && e->version)
        json_object_set_new(o, "version", json_integer(e->version));
    return json_array_append_new(ctx, o);
}

void api_rules_events(struct api_call *c)
{
    const char *owner = c->params[0];
    if (check_owner(c, owner))
        return;
    json_t *list = json_array();
    struct err_detail why = {0};
    if (store_rule_event_list(c->app->st, owner, on_rule_event, list, &why)) {
        json_decref(list);
        api_error(c->req, &why);
        return;
    }
    json_t *body = json_pack("{s:s, s:o}", "owner", owner, "events", list);
    api_json(c->req, 200, body);
    json_decref(body);
}

/* POST /v1/rules/OWNER/bundle { "files": { FILE: SOURCE }, "signature": HEX }:
 * a whole bundle at once (how a signed HQ bundle arrives). */
void api_rules_bundle(struct api_call *c)
{
    const char *owner = c->params[0];
    if (check_owner(c, owner))
        return;
    if (!may_write_owner(c->principal, owner)) {
        api_fail(c->req, -ERR_FORBIDDEN, "%s may not write the rules of %s", c->actor, owner);
        return;
    }
    /* NULs are let through to be refused with the file and byte offset (422). */
    static const char *const keys[] = {"files", "signature", NULL};
    json_t *body = api_body_object_flags(c, JSON_ALLOW_NUL);
    if (!body)
        return;
    if (api_body_keys(c, body, keys)) {
        json_decref(body);
        return;
    }
    const json_t *files = json_object_get(body, "files"), *sig = json_object_get(body, "signature");
    struct err_detail why = {0};
    struct rules_result res = {0};
    const char *name;
    json_t *src;
    if (!json_is_object(files) || json_object_size(files) == 0)
        err_field(&why, -ERR_INVALID_FIELD, "files", "files: expected { FILE: SOURCE }");
    else if (sig &&
             (!json_is_string(sig) || strlen(json_string_value(sig)) != json_string_length(sig)))
        err_field(&why, -ERR_INVALID_FIELD, "signature", "signature: expected hex text");
    json_object_foreach((json_t *)files, name, src)
    {
        size_t n = strlen(name);
        if (!why.code && (!json_is_string(src) || n < 5 || n > 64 || strcmp(name + n - 4, ".lua") ||
                          strchr(name, '/') || name[0] == '.'))
            err_field(&why, -ERR_INVALID_FIELD, "files",
                      "files: each entry is NAME.lua with its source text");
    }
    if (!why.code)
        rules_submit_signed(c->app->rules, owner, files, json_string_value(sig), "api", c->actor,
                            &res, &why);
    json_decref(body);
    if (why.code) {
        api_error(c->req, &why);
        return;
    }
    json_t *out = created_json(owner, &res);
    api_json(c->req, strcmp(res.status, "unchanged") ? 201 : 200, out);
    json_decref(out);
}

/* --- lineage and review (CONTRACT 8.2) -------------------------------------- */

/* ?base=V on PUT and DELETE: the version to build on (0: the newest). */
static int query_base(struct api_call *c, int *base)
{
    const char *q = http_query(c->req, "base");
    int64_t v = 0;
    struct err_detail why = {0};
    if (q && num_parse("base", q, 1, VERSION_MAX, &v, &why)) {
        api_error(c->req, &why);
        return -1;
    }
    *base = (int)v;
    return 0;
}

/* { owner, version, status } and, for a new version, its base (null: none). */
static json_t *created_json(const char *owner, const struct rules_result *res)
{
    json_t *o = json_pack("{s:s, s:i, s:s}", "owner", owner, "version", res->version, "status",
                          res->status);
    if (o && strcmp(res->status, "unchanged"))
        json_object_set_new(o, "base", res->base > 0 ? json_integer(res->base) : json_null());
    return o;
}

/* GET /v1/rules/OWNER/versions/V/diff?against=W: readable by anyone who
 * may read versions. */
void api_rules_diff(struct api_call *c)
{
    const char *owner = c->params[0];
    int version;
    if (check_owner(c, owner) || parse_version(c, c->params[1], &version))
        return;
    const char *q = http_query(c->req, "against");
    int64_t against = 0;
    struct err_detail why = {0};
    json_t *out = NULL;
    if (!q || !num_parse("against", q, 1, VERSION_MAX, &against, &why))
        rules_diff(c->app->rules, owner, version, (int)against, &out, &why);
    if (why.code) {
        api_error(c->req, &why);
        return;
    }
    api_json(c->req, 200, out);
    json_decref(out);
}
