/* engine/api.c: the route table, dispatch, authentication, error envelope. */
#include "api.h"

#include "buf.h"
#include "core.h"
#include "api_leads.h"
#include "api_pipeline.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json_read.h"
#include "log.h"
#include "json_text.h"
#include "metrics.h"
#include "utf8.h"

enum route_flags {
    PUBLIC = 1 << 0,  /* no token needed */
    ON_LOOP = 1 << 1, /* answered on the loop thread (api_handle), never queued on the core */
};

/* Path patterns: literal segments, "{}" (one segment into the next param),
 * "{owner}" (a rules owner: hq, region/ID or office/ID) and "{unit}" (a unit
 * of the target tree: an owner or customer/ID); either is one or two
 * segments into one param. */
struct route {
    const char *method;
    const char *pattern;
    api_handler_fn *handler;
    unsigned flags;
    /* The query parameters a /v1 route takes, space separated, in the order
     * engine/openapi.json lists them (tests/unit/openapi_test.c compares);
     * NULL: none. Any other name, or one given twice, is 400 naming it, so a
     * misspelt filter is never silently ignored. Public routes (the page,
     * health, metrics) are not checked. */
    const char *query;
};

static const struct route routes[] = {
    {"GET", "/health", api_health, PUBLIC | ON_LOOP, NULL},
    {"GET", "/metrics", api_metrics, PUBLIC, NULL},
    {"GET", "/", api_static, PUBLIC, NULL},
    {"GET", "/ui/app.js", api_static, PUBLIC, NULL},
    {"GET", "/ui/style.css", api_static, PUBLIC, NULL},
    {"GET", "/v1/openapi.json", api_openapi, PUBLIC, NULL}, /* a description, no data */
    {"GET", "/v1/me", api_me, 0, NULL},
    {"GET", "/v1/funnel", api_funnel, 0, NULL},
    {"GET", "/v1/events", api_events_recent, 0, "limit"},
    {"POST", "/v1/leads", api_lead_create, 0, NULL},
    {"GET", "/v1/instances", api_instance_list, 0,
     "stage office region temperature owner limit after"},
    {"POST", "/v1/instances/migrate", api_instances_migrate, 0, NULL},
    {"GET", "/v1/instances/{}", api_instance_get, 0, NULL},
    {"GET", "/v1/instances/{}/events", api_instance_events, 0, NULL},
    {"POST", "/v1/instances/{}/actions", api_instance_action, 0, NULL},
    {"GET", "/v1/instances/{}/documents/{}", api_instance_document, 0, NULL},
    {"GET", "/v1/instances/{}/receivables", api_instance_receivables, 0, "as_of"},
    /* Work lists of the dashboard (api_worklist.c). */
    {"GET", "/v1/decisions/waiting", api_decisions_waiting, 0, "level as_of limit"},
    {"GET", "/v1/receivables/overdue", api_receivables_overdue, 0, "as_of limit"},
    {"POST", "/v1/shares/runs", api_share_run_create, 0, NULL},
    {"GET", "/v1/shares/runs/{}", api_share_run_get, 0, NULL},
    {"PUT", "/v1/targets/{unit}/{}", api_target_put, 0, NULL},
    {"GET", "/v1/targets", api_targets_get, 0, "period metric"},
    {"GET", "/v1/pipeline", api_pipeline_get, 0, "period unit"},
    {"GET", "/v1/process-metrics", api_process_metrics_get, 0, "period unit"},
    {"GET", "/v1/rules", api_rules_status, 0, NULL},
    {"POST", "/v1/rules/reload", api_rules_reload, 0, NULL},
    {"GET", "/v1/rules/{owner}/versions", api_rules_versions, 0, NULL},
    {"GET", "/v1/rules/{owner}/versions/{}", api_rules_version_get, 0, NULL},
    {"POST", "/v1/rules/{owner}/versions/{}/approve", api_rules_approve, 0, NULL},
    {"POST", "/v1/rules/{owner}/versions/{}/reject", api_rules_reject, 0, NULL},
    {"POST", "/v1/rules/{owner}/versions/{}/simulate", api_rules_simulate, 0, NULL},
    /* Shadow runs (api_shadow.c). */
    {"POST", "/v1/rules/{owner}/versions/{}/shadow", api_rules_shadow_start, 0, NULL},
    {"GET", "/v1/rules/{owner}/versions/{}/shadow", api_rules_shadow_get, 0, NULL},
    {"GET", "/v1/rules/{owner}/versions/{}/diff", api_rules_diff, 0, "against"},
    {"POST", "/v1/rules/{owner}/rollback", api_rules_rollback, 0, NULL},
    {"POST", "/v1/rules/{owner}/bundle", api_rules_bundle, 0, NULL},
    {"GET", "/v1/rules/{owner}/events", api_rules_events, 0, NULL},
    {"PUT", "/v1/rules/{owner}/{}", api_rules_put, 0, "base"},
    {"DELETE", "/v1/rules/{owner}/{}", api_rules_delete, 0, "base"},
    /* Lead management (issue 13; api_people.c, api_reviews.c, api_activities.c). */
    {"PUT", "/v1/people/{}", api_person_put, 0, NULL},
    {"GET", "/v1/people/{}", api_person_get, 0, NULL},
    {"GET", "/v1/people", api_people_list, 0, "office limit after"},
    {"PUT", "/v1/customers/{}", api_customer_put, 0, NULL},
    {"GET", "/v1/customers/{}", api_customer_get, 0, NULL},
    {"GET", "/v1/customers", api_customers_list, 0, "office limit after"},
    {"GET", "/v1/reviews/queue", api_review_queue, 0, "unit as_of"},
    {"POST", "/v1/reviews", api_review_create, 0, NULL},
    {"GET", "/v1/reviews/{}", api_review_get, 0, NULL},
    {"POST", "/v1/activities", api_activity_create, 0, NULL},
    {"GET", "/v1/activities", api_activities_list, 0, "person customer from to office limit after"},
    {"GET", "/v1/scorecards", api_scorecards, 0, "unit week"},
};

void api_routes_each(api_route_fn *fn, void *ctx)
{
    for (size_t i = 0; i < sizeof routes / sizeof *routes; i++)
        fn(routes[i].method, routes[i].pattern, routes[i].flags & PUBLIC, routes[i].query, ctx);
}

/* True when 'name' is one word of the space-separated 'list'. */
static bool takes(const char *list, const char *name)
{
    size_t n = strlen(name);
    for (const char *w = list; w && *w;) {
        const char *end = strchr(w, ' ');
        size_t len = end ? (size_t)(end - w) : strlen(w);
        if (len == n && !strncmp(w, name, n))
            return true;
        w = end ? end + 1 : w + len;
    }
    return false;
}

/* Every query parameter is one the route takes, once (400 naming it). */
static int check_query(const struct route *r, struct http_req *req)
{
    const char *name;
    for (unsigned i = 0; (name = http_query_name(req, i)); i++) {
        if (!takes(r->query, name)) {
            struct err_detail why = {0};
            char list[200];
            snprintf(list, sizeof list, "%s", r->query ? r->query : "");
            for (char *sp = list; (sp = strchr(sp, ' ')); sp++)
                *sp = ',';
            err_field(&why, -ERR_INVALID_FIELD, name,
                      r->query ? "%.40s: unknown query parameter; %s %s takes %s"
                               : "%.40s: unknown query parameter; %s %s takes none",
                      name, r->method, r->pattern, list);
            api_error(req, &why);
            return -1;
        }
        for (unsigned j = 0; j < i; j++)
            if (!strcmp(http_query_name(req, j), name)) {
                struct err_detail why = {0};
                err_field(&why, -ERR_INVALID_FIELD, name, "%.40s: given twice in the query", name);
                api_error(req, &why);
                return -1;
            }
    }
    return 0;
}

void api_raw(struct http_req *req, int status, const char *content_type, const char *body,
             size_t len)
{
    char *copy = malloc(len ? len : 1);
    if (!copy) {
        http_respond(req, 500, "application/json", NULL, 0);
        return;
    }
    memcpy(copy, body, len);
    http_respond(req, status, content_type, copy, len);
}

void api_json(struct http_req *req, int status, json_t *body)
{
    char *text = body ? json_text(body) : strdup("{}");
    if (!text) {
        http_respond(req, 500, "application/json", NULL, 0);
        return;
    }
    http_respond(req, status, "application/json", text, strlen(text));
}

void api_respond_buf(struct http_req *req, int rc, const struct err_detail *why, struct buf *b)
{
    size_t len;
    char *text = rc ? NULL : buf_take(b, &len);
    if (rc)
        api_error(req, why);
    else if (!text)
        api_fail(req, -ERR_NOMEM, "out of memory");
    else
        http_respond(req, 200, "application/json", text, len);
    buf_deinit(b);
}

void api_error(struct http_req *req, const struct err_detail *why)
{
    int code = why->code ? why->code : -ERR_INTERNAL;
    json_t *details = json_object();
    /* why->field names the field, the KCP, the invariant or the level required. */
    const char *key = code == -ERR_KCP                      ? "kcp"
                      : code == -ERR_INSUFFICIENT_AUTHORITY ? "required"
                      : code == -ERR_INVARIANT              ? "invariant"
                                                            : "field";
    if (why->field[0])
        json_object_set_new(details, key, utf8_json(why->field));
    /* Messages can quote hostile input: cleaned, never dropped. */
    json_t *msg = utf8_json(why->msg[0] ? why->msg : err_str(code));
    json_t *body = json_pack("{s:{s:s, s:o, s:o}}", "error", "code", err_api_code(code), "message",
                             msg, "details", details);
    int status = err_http_status(code);
    http_set_error(req, err_api_code(code), why->msg[0] ? why->msg : err_str(code));
    api_json(req, status, body);
    json_decref(body);
}

void api_fail(struct http_req *req, int code, const char *fmt, ...)
{
    struct err_detail why = {0};
    why.code = code;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why.msg, sizeof why.msg, fmt, ap);
    va_end(ap);
    utf8_clean_inplace(why.msg, sizeof why.msg); /* it may quote a path cut mid-character */
    /* An invalid field's message starts "NAME: ..." (CONTRACT 3: details.field
     * names it); the name is taken from there so no refusal goes without it. */
    size_t n = strspn(why.msg, "abcdefghijklmnopqrstuvwxyz0123456789_.");
    if (code == -ERR_INVALID_FIELD && n && n < sizeof why.field && why.msg[n] == ':' &&
        why.msg[n + 1] == ' ')
        memcpy(why.field, why.msg, n);
    api_error(req, &why);
}

int api_body_none(struct api_call *c)
{
    static const char *const none[] = {NULL};
    size_t len;
    http_body(c->req, &len);
    if (!len)
        return 0;
    json_t *body = api_body_object(c);
    int rc = body ? api_body_keys(c, body, none) : -1;
    json_decref(body);
    return rc;
}

json_t *api_body_object(struct api_call *c)
{
    return api_body_object_flags(c, 0);
}

json_t *api_body_object_flags(struct api_call *c, size_t flags)
{
    size_t len;
    const char *body = http_body(c->req, &len);
    json_error_t jerr;
    /* json_read takes what json_loadb takes, faster; only jansson can word a
     * refusal. JSON_ALLOW_NUL (rule sources) is jansson's alone. */
    json_t *o = flags & JSON_ALLOW_NUL ? NULL : json_read(body, len, JSON_REJECT_DUPLICATES, NULL);
    if (!o)
        o = json_loadb(body, len, JSON_REJECT_DUPLICATES | flags, &jerr);
    if (!o) {
        api_fail(c->req, -ERR_INVALID_JSON, "invalid JSON at line %d column %d: %s", jerr.line,
                 jerr.column, jerr.text);
        return NULL;
    }
    if (!json_is_object(o)) {
        json_decref(o);
        api_fail(c->req, -ERR_INVALID_JSON, "body: expected a JSON object");
        return NULL;
    }
    return o;
}

int api_body_keys(struct api_call *c, const json_t *body, const char *const *accepted)
{
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)body, k, v)
    {
        const char *const *a = accepted;
        while (*a && strcmp(*a, k))
            a++;
        if (*a)
            continue;
        char list[512] = "";
        size_t len = 0;
        for (a = accepted; *a && len < sizeof list; a++)
            len += (size_t)snprintf(list + len, sizeof list - len, "%s%s",
                                    a == accepted ? "" : ", ", *a);
        struct err_detail why = {0};
        if (accepted[0])
            err_field(&why, -ERR_INVALID_FIELD, k, "%.60s: unknown field (accepted: %s)", k, list);
        else
            err_field(&why, -ERR_INVALID_FIELD, k, "%.60s: unknown field (this request takes none)",
                      k);
        api_error(c->req, &why);
        return -1;
    }
    return 0;
}

/* Match 'path' against 'pattern', filling params. */
static bool match(const char *pattern, const char *path, struct api_call *c)
{
    int np = 0;
    const char *p = pattern, *s = path;
    while (*p && *s) {
        if (*p != '{') {
            if (*p++ != *s++)
                return false;
            continue;
        }
        bool unit = !strncmp(p, "{unit}", 6), owner = unit || !strncmp(p, "{owner}", 7);
        p = strchr(p, '}') + 1;
        const char *end = strchr(s, '/');
        if (owner && (!strncmp(s, "region/", 7) || !strncmp(s, "office/", 7)))
            end = strchr(s + 7, '/');
        else if (unit && !strncmp(s, "customer/", 9))
            end = strchr(s + 9, '/');
        size_t n = end ? (size_t)(end - s) : strlen(s);
        if (n == 0 || n >= sizeof c->params[0] || np == API_PARAMS_MAX)
            return false;
        memcpy(c->params[np], s, n);
        c->params[np++][n] = '\0';
        s += n;
    }
    return !*p && !*s;
}

static const struct auth_principal *authenticate(struct api_call *c)
{
    const char *h = http_header(c->req, "Authorization");
    if (!h || strncmp(h, "Bearer ", 7) || !h[7])
        return NULL;
    return auth_find(c->app->auth, h + 7, strlen(h + 7));
}

void api_handle(struct http_req *req, void *arg)
{
    struct app *app = arg;
    struct api_call c = {.app = app, .req = req};
    for (size_t i = 0; i < sizeof routes / sizeof *routes; i++)
        if ((routes[i].flags & ON_LOOP) && !strcmp(routes[i].method, http_method(req)) &&
            match(routes[i].pattern, http_path(req), &c)) {
            http_set_label(req, routes[i].pattern);
            routes[i].handler(&c);
            return;
        }
    http_defer(req); /* answered from the core thread */
    core_submit(app->core, req);
}

void api_dispatch(struct app *app, struct http_req *req)
{
    struct api_call c = {.app = app, .req = req};
    const char *method = http_method(req), *path = http_path(req);
    app->counters.requests++;
    if (app->stopping) {
        api_fail(req, -ERR_UNAVAILABLE, "ltcd is shutting down");
        return;
    }
    if (http_body_too_large(req)) {
        api_fail(req, -ERR_TOO_LARGE, "body over the %zu-byte limit", app->cfg->body_max_bytes);
        return;
    }
    const struct route *found = NULL;
    bool path_matched = false;
    for (size_t i = 0; i < sizeof routes / sizeof *routes && !found; i++) {
        if (!match(routes[i].pattern, path, &c))
            continue;
        path_matched = true;
        if (!strcmp(routes[i].method, method))
            found = &routes[i];
    }
    http_set_label(req, found ? found->pattern : "unmatched");
    if (!found) {
        if (path_matched)
            api_fail(req, -ERR_METHOD, "%s is not allowed on %s", method, path);
        else
            api_fail(req, -ERR_NOT_FOUND, "no such resource: %.200s", path);
        return;
    }
    if (!(found->flags & PUBLIC)) {
        c.principal = authenticate(&c);
        if (!c.principal) {
            api_fail(req, -ERR_UNAUTHENTICATED, "missing or unknown bearer token");
            return;
        }
        snprintf(c.actor, sizeof c.actor, "%s:%s", c.principal->unit,
                 auth_role_name(c.principal->role));
        http_set_actor(req, c.actor);
        if (check_query(found, req))
            return;
    }
    found->handler(&c);
}

/* 200 "ok", or 503 "degraded" while the last commit failed (CONTRACT 8.1). */
void api_health(struct api_call *c)
{
    if (c->app->stopping) { /* as every request then: a balancer takes the node out */
        api_fail(c->req, -ERR_UNAVAILABLE, "ltcd is shutting down");
        return;
    }
    struct app_health h;
    app_health_read(c->app, &h);
    json_t *body =
        json_pack("{s:s, s:s, s:i, s:b}", "status", h.degraded ? "degraded" : "ok", "version",
                  LTCD_VERSION, "schema", h.schema, "stopping", (int)c->app->stopping);
    if (body && h.degraded) {
        char when[40];
        app_iso_time(h.since_ms, when, sizeof when);
        json_t *r = utf8_json(h.reason); /* a server's message, cut at a byte */
        json_object_set_new(body, "reason", r ? r : json_string("storage failure"));
        json_object_set_new(body, "since", json_string(when));
    }
    api_json(c->req, h.degraded ? 503 : 200, body);
    json_decref(body);
}

void api_done(struct http_req *req, int status, void *app)
{
    (void)app;
    char code[8];
    snprintf(code, sizeof code, "%d", status);
    const char *route = http_label(req) ? http_label(req) : "unmatched";
    metrics_count(METRICS_HTTP_REQUESTS, route, code, 1);
    uint64_t dt = http_now_ns() - http_started_ns(req);
    metrics_observe(METRICS_HTTP_DURATION, route, dt);
    /* A line for every error and every write; successful reads would drown them. */
    const char *method = http_method(req);
    if (status < 400 && (!strcmp(method, "GET") || !strcmp(method, "HEAD")))
        return;
    struct log_request lr = {
        .req_id = http_request_id(req),
        .method = method,
        .path = http_path(req),
        .actor = http_actor(req),
        .status = status,
        .duration_ms = (double)dt / 1e6,
        .error_code = status >= 400 ? http_error_code(req) : NULL,
        .error_message = status >= 400 ? http_error_message(req) : NULL,
    };
    log_request(status >= 500 ? LOG_ERROR : LOG_INFO, &lr);
}

struct stage_ctx {
    struct buf *b;
    int first;
};

static int on_stage_count(const char *stage, int64_t n, void *ctx)
{
    struct stage_ctx *sc = ctx;
    char esc[80], lb[100];
    metrics_escape(stage, esc, sizeof esc);
    snprintf(lb, sizeof lb, "stage=\"%s\"", esc);
    metrics_sample(sc->b, "ltcd_instances", "gauge", sc->first ? "Instances by stage" : NULL, lb,
                   (double)n);
    sc->first = 0;
    return 0;
}

/* ltcd_rule_errors_total{owner,kind}: load, validation and runtime errors. */
struct error_totals {
    struct buf *b;
};

static void on_error_total(const char *owner, const char *kind, uint64_t n, void *ctx)
{
    struct error_totals *et = ctx;
    char esc[120], lb[200];
    metrics_escape(owner, esc, sizeof esc);
    snprintf(lb, sizeof lb, "owner=\"%s\",kind=\"%s\"", esc, kind);
    metrics_sample(et->b, "ltcd_rule_errors_total", "counter", NULL, lb, (double)n);
}

static void render_rule_errors(struct buf *b, struct rules *r)
{
    struct error_totals et = {b};
    buf_str(b, "# HELP ltcd_rule_errors_total Rule errors by owner and kind (load, validation, "
               "runtime)\n# TYPE ltcd_rule_errors_total counter\n");
    rules_error_totals(r, on_error_total, &et);
}

void api_metrics(struct api_call *c)
{
    struct buf b = {0};
    metrics_render(&b);
    struct rules_stats rs;
    rules_stats(c->app->rules, &rs);
    metrics_sample(&b, "ltcd_rule_loads_total", "counter",
                   "Rule bundles through the pipeline, by outcome", "outcome=\"ok\"",
                   (double)rs.loads_ok);
    metrics_sample(&b, "ltcd_rule_loads_total", "counter", NULL, "outcome=\"failed\"",
                   (double)rs.loads_failed);
    metrics_sample(&b, "ltcd_rule_loads_total", "counter", NULL, "outcome=\"unchanged\"",
                   (double)rs.unchanged);
    metrics_sample(&b, "ltcd_rule_versions_alive", "gauge",
                   "Compiled rule versions in memory (active and retired)", NULL,
                   (double)rs.versions_alive);
    metrics_sample(&b, "ltcd_rule_memory_bytes", "gauge", "Lua memory of all compiled versions",
                   NULL, (double)rs.mem_bytes);
    render_rule_errors(&b, c->app->rules);
    /* Each family's samples together: active versions, then pending counts. */
    json_t *status = rules_status_json(c->app->rules);
    static const char *const families[][2] = {
        {"ltcd_rule_active_version", "The active version of each owner's rules (0: none)"},
        {"ltcd_rule_pending_versions", "Versions waiting for approval, by owner"},
    };
    for (int fam = 0; fam < 2; fam++) {
        size_t i;
        json_t *o;
        json_array_foreach(json_object_get(status, "owners"), i, o)
        {
            char esc[120], lb[160];
            metrics_escape(json_string_value(json_object_get(o, "owner")), esc, sizeof esc);
            snprintf(lb, sizeof lb, "owner=\"%s\"", esc);
            double v = fam == 0 ? (double)json_integer_value(
                                      json_object_get(json_object_get(o, "active"), "version"))
                                : (double)json_array_size(json_object_get(o, "pending"));
            metrics_sample(&b, families[fam][0], "gauge", i == 0 ? families[fam][1] : NULL, lb, v);
        }
    }
    json_decref(status);
    struct stage_ctx sc = {&b, 1};
    store_instance_stage_counts(c->app->st, on_stage_count, &sc, NULL);
    long pages = 0, rss = 0;
    FILE *f = fopen("/proc/self/statm", "r");
    if (f) {
        if (fscanf(f, "%ld %ld", &pages, &rss) != 2)
            rss = 0;
        fclose(f);
    }
    metrics_sample(&b, "process_resident_memory_bytes", "gauge", "Resident memory", NULL,
                   (double)rss * 4096.0);
    metrics_sample(&b, "ltcd_up", "gauge", "1 while ltcd serves", NULL, 1);
    metrics_sample(&b, "ltcd_storage_degraded", "gauge",
                   "1 while the last commit failed (full disk, I/O error): /health is 503", NULL,
                   store_degraded(c->app->st, NULL) ? 1 : 0);
    size_t len;
    char *text = buf_take(&b, &len);
    if (!text) {
        api_fail(c->req, -ERR_NOMEM, "out of memory");
        return;
    }
    http_respond(c->req, 200, "text/plain; version=0.0.4", text, len);
}

void api_me(struct api_call *c)
{
    json_t *body =
        json_pack("{s:s, s:s, s:s}", "unit", c->principal->unit, "level",
                  auth_level_name(c->principal->level), "role", auth_role_name(c->principal->role));
    api_json(c->req, 200, body);
    json_decref(body);
}
