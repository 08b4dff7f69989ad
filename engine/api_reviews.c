/* engine/api_reviews.c: the weekly lead review (CONTRACT 8.3): the queue of
 * leads waiting for review, and the meeting that decides them as one
 * all-or-nothing batch. Each decision is the process's own `review` action
 * (HQ's process.lua, its KCPs and its event), so a meeting and a single
 * review leave the same trail; the meeting's record cites them and each
 * event cites the meeting. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json_read.h"
#include "api.h"
#include "api_instances.h"
#include "api_leads.h"
#include "lead.h"
#include "num.h"
#include "period_week.h"
#include "records.h"
#include "store_leads.h"

#define QUEUE_MAX 500 /* leads of one queue answer (the oldest due first) */

/* The unit of ?unit= or a body: within the principal's scope, known to the
 * org. Returns 0 and fills region/office filters, or answers and returns -1. */
static int unit_scope(struct api_call *c, const char *unit, const char **region,
                      const char **office)
{
    const struct auth_principal *p = c->principal;
    const struct org *org = rules_hq(c->app->rules)->org;
    *region = *office = NULL;
    if (!unit)
        unit = p->unit;
    enum auth_level level = auth_unit_level(unit);
    const char *id = strchr(unit, '/') ? strchr(unit, '/') + 1 : "";
    if (!level || (level != AUTH_LEVEL_HQ && !lead_valid_id(id))) {
        api_fail(c->req, -ERR_INVALID_FIELD, "unit: expected hq, region/ID or office/ID");
        return -1;
    }
    if ((level == AUTH_LEVEL_REGION && !org_has_region(org, id)) ||
        (level == AUTH_LEVEL_OFFICE && !org_has_office(org, id))) {
        api_fail(c->req, -ERR_INVALID_FIELD, "unit: unknown unit '%s'", unit);
        return -1;
    }
    const char *r = level == AUTH_LEVEL_OFFICE   ? org_region_of(org, id)
                    : level == AUTH_LEVEL_REGION ? id
                                                 : NULL;
    bool ok =
        p->level == AUTH_LEVEL_HQ ||
        (p->level == AUTH_LEVEL_REGION && r && !strcmp(r, p->unit_id)) ||
        (p->level == AUTH_LEVEL_OFFICE && level == AUTH_LEVEL_OFFICE && !strcmp(id, p->unit_id));
    if (!ok) {
        api_fail(c->req, -ERR_FORBIDDEN, "%s may not see %s", p->unit, unit);
        return -1;
    }
    *region = level == AUTH_LEVEL_REGION ? id : NULL;
    *office = level == AUTH_LEVEL_OFFICE ? id : NULL;
    return 0;
}

/* --- GET /v1/reviews/queue ----------------------------------------------- */

struct queue {
    struct api_call *c;
    json_t *leads;
    int64_t as_of;
    json_int_t stale_days; /* HQ's: the queue needs no region's parameter */
    struct err_detail why;
    int rc;
};

static int64_t day_of_ms(int64_t ms)
{
    return ms >= 0 ? ms / 86400000 : -((-ms + 86399999) / 86400000);
}

static int on_queued(const struct store_queue_row *q, void *ctx)
{
    struct queue *qu = ctx;
    json_t *doc = json_read_str(q->row->doc, 0);
    if (!doc)
        return 0; /* unreadable: left out, as a listing would */
    json_t *lead = rules_instance_lead(doc);
    json_object_set(lead, "region", json_object_get(doc, "region"));
    json_t *ev = json_object_get(doc, "evaluation");
    double priority = 0;
    struct err_detail why = {0};
    int rc = rules_lead_priority(qu->c->app->rules, lead, ev, &priority, &why);
    if (rc) { /* the first rule error answers the request (and is counted) */
        qu->why = why;
        qu->rc = rc;
        json_decref(lead);
        json_decref(doc);
        return 1;
    }
    int64_t age = qu->as_of - day_of_ms(q->created_at_ms);
    int64_t quiet = qu->as_of - day_of_ms(q->updated_at_ms);
    /* source, budget, horizon_months and signals are what the evaluation
     * judged: the meeting reads its three questions against them. */
    json_t *o = json_pack(
        "{s:I, s:O, s:O?, s:O?, s:O?, s:O?, s:O?, s:O?, s:O?, s:O?, s:f, s:I, s:b, s:O?, s:O?, "
        "s:O?}",
        "instance", (json_int_t)q->row->id, "office", json_object_get(doc, "office"), "customer",
        json_object_get(doc, "customer"), "title", json_object_get(doc, "title"), "source",
        json_object_get(doc, "source"), "budget", json_object_get(doc, "budget"), "horizon_months",
        json_object_get(doc, "horizon_months"), "signals", json_object_get(doc, "signals"), "owner",
        json_object_get(doc, "owner"), "evaluation", ev, "priority", priority, "age_days",
        (json_int_t)(age > 0 ? age : 0), "stale", quiet >= qu->stale_days, "next_review",
        json_object_get(doc, "next_review"), "reviewed_at", json_object_get(doc, "reviewed_at"),
        "updated_at", json_object_get(doc, "updated_at"));
    json_decref(lead);
    json_decref(doc);
    return o ? json_array_append_new(qu->leads, o) : 1;
}

static int by_priority(const void *a, const void *b)
{
    const json_t *x = *(json_t *const *)a, *y = *(json_t *const *)b;
    double px = json_real_value(json_object_get(x, "priority")),
           py = json_real_value(json_object_get(y, "priority"));
    if (px != py)
        return px > py ? -1 : 1;
    json_int_t ix = json_integer_value(json_object_get(x, "instance")),
               iy = json_integer_value(json_object_get(y, "instance"));
    return ix < iy ? -1 : ix > iy;
}

void api_review_queue(struct api_call *c)
{
    const char *unit = http_query(c->req, "unit"), *as_of = http_query(c->req, "as_of");
    const char *region, *office;
    if (unit_scope(c, unit, &region, &office))
        return;
    char today[16];
    app_today(today);
    struct queue q = {.c = c, .leads = json_array()};
    struct err_detail why = {0};
    if (period_date_days("as_of", as_of ? as_of : today, &q.as_of, &why)) {
        json_decref(q.leads);
        api_error(c->req, &why);
        return;
    }
    /* stale_days is HQ's alone: read once, without any region's thresholds,
     * so that a region whose rules fail for some lead cannot empty the queue
     * of its parent units. */
    json_t *no_region = json_object();
    struct rules_review_params rp;
    int prc = rules_review_params(c->app->rules, no_region, &rp, &why);
    json_decref(no_region);
    if (prc) {
        json_decref(q.leads);
        api_error(c->req, &why);
        return;
    }
    q.stale_days = rp.stale_days;
    int rc = store_review_queue(c->app->st, region, office, as_of ? as_of : today, QUEUE_MAX + 1,
                                on_queued, &q, &why);
    if (q.rc) {
        rules_runtime_error(c->app->rules, &q.why, http_request_id(c->req), c->actor);
        why = q.why;
        rc = q.rc;
    }
    if (rc) {
        json_decref(q.leads);
        api_error(c->req, &why);
        return;
    }
    bool truncated = json_array_size(q.leads) > QUEUE_MAX;
    if (truncated)
        json_array_remove(q.leads, QUEUE_MAX);
    size_t n = json_array_size(q.leads);
    json_t **items = calloc(n ? n : 1, sizeof *items);
    for (size_t i = 0; items && i < n; i++)
        items[i] = json_incref(json_array_get(q.leads, i));
    if (items)
        qsort(items, n, sizeof *items, by_priority);
    json_t *sorted = json_array();
    for (size_t i = 0; items && i < n; i++)
        json_array_append_new(sorted, items[i]);
    free(items);
    json_decref(q.leads);
    json_t *body =
        json_pack("{s:s, s:s, s:o, s:b}", "unit", unit ? unit : c->principal->unit, "as_of",
                  as_of ? as_of : today, "leads", sorted, "truncated", truncated);
    api_json(c->req, 200, body);
    json_decref(body);
}

/* --- POST /v1/reviews ------------------------------------------------------- */

static bool may_hold_meetings(const struct auth_principal *p)
{
    return p->role == AUTH_ADMIN || p->role == AUTH_REVIEWER;
}

static int refuse_item(json_t *items, size_t index, const json_t *instance,
                       const struct err_detail *e)
{
    return json_array_append_new(items,
                                 json_pack("{s:I, s:O?, s:s, s:s, s:s}", "index", (json_int_t)index,
                                           "instance", instance, "code", err_api_code(e->code),
                                           "field", e->field, "message", e->msg));
}

static int apply_meeting(struct app_write *w, char **body, int *status, struct err_detail *why)
{
    struct app *app = w->app;
    json_t *m = w->input;
    const char *unit = json_string_value(json_object_get(m, "unit"));
    const char *held_at = json_string_value(json_object_get(m, "held_at"));
    const char *scope_region = json_string_value(json_object_get(m, "_region"));
    const char *scope_office = json_string_value(json_object_get(m, "_office"));
    int64_t id = 0;
    int rc = store_review_next_id(app->st, &id, why);
    if (rc)
        return rc;
    json_t *refused = json_array(), *done = json_array();
    const json_t *list = json_object_get(m, "decisions");
    size_t i;
    json_t *d;
    json_array_foreach(list, i, d)
    {
        struct err_detail e = {0};
        const json_t *inst = json_object_get(d, "instance");
        int irc = records_decision(d, &e);
        /* One decision per lead in a meeting. */
        for (size_t j = 0; !irc && j < i; j++)
            if (json_equal(json_object_get(json_array_get(list, j), "instance"), inst))
                irc = err_field(&e, -ERR_INVALID_FIELD, "instance",
                                "instance %lld: decided twice in this meeting",
                                (long long)json_integer_value(inst));
        int64_t iid = json_integer_value(inst);
        struct store_instance_row row = {0};
        if (!irc && (irc = store_instance_get(app->st, iid, &row, &e)) == 0) {
            bool in_unit = (!scope_region || !strcmp(row.region, scope_region)) &&
                           (!scope_office || !strcmp(row.office, scope_office)) &&
                           auth_sees(w->principal, row.region, row.office);
            if (!in_unit)
                irc = err_set(&e, -ERR_NOT_FOUND, "instance %lld not found in %s", (long long)iid,
                              unit);
        }
        store_instance_row_deinit(&row);
        if (!irc) {
            /* The item's own keys (checked by records_decision) as a review action,
             * dated the day the meeting was held: its event's business date and, for a
             * conversion, the day the lead became an opportunity. */
            json_t *input = json_deep_copy(d);
            json_object_del(input, "instance");
            json_object_set_new(input, "action", json_string("review"));
            json_object_set_new(input, "meeting", json_integer(id));
            json_object_set_new(input, "at", json_string(held_at));
            char *after = NULL;
            irc = input ? api_process_step(w, iid, input, held_at, &after, &e)
                        : err_set(&e, -ERR_NOMEM, "out of memory");
            json_decref(input);
            if (irc && rules_is_rule_error(irc))
                rules_runtime_error(app->rules, &e, http_request_id(w->req), w->actor);
            json_t *a = after ? json_read_str(after, 0) : NULL;
            free(after);
            if (!irc)
                json_array_append_new(done, json_pack("{s:I, s:O, s:O?, s:O?, s:O?, s:O?}",
                                                      "instance", (json_int_t)iid, "decision",
                                                      json_object_get(d, "decision"), "note",
                                                      json_object_get(d, "note"), "stage",
                                                      json_object_get(a, "stage"), "owner",
                                                      json_object_get(a, "owner"), "next_review",
                                                      json_object_get(a, "next_review")));
            json_decref(a);
        }
        if (irc == -ERR_STORE || irc == -ERR_STORE_BUSY || irc == -ERR_NOMEM) {
            *why = e; /* not the item's fault: the whole write fails */
            json_decref(refused);
            json_decref(done);
            return irc;
        }
        if (irc)
            refuse_item(refused, i, inst, &e);
    }
    if (json_array_size(refused)) {
        size_t n = json_array_size(refused);
        err_set(why, -ERR_REFUSED_ITEMS, "%zu of %zu decisions refused; nothing was recorded", n,
                json_array_size(list));
        json_t *env = json_pack("{s:{s:s, s:s, s:{s:o}}}", "error", "code", "items_refused",
                                "message", why->msg, "details", "items", refused);
        *body = env ? json_dumps(env, JSON_COMPACT) : NULL;
        *status = 422;
        json_decref(env);
        json_decref(done);
        return why->code;
    }
    json_decref(refused);
    int64_t now = app_now_ms();
    char when[40];
    app_iso_time(now, when, sizeof when);
    json_t *rec =
        json_pack("{s:I, s:s, s:s, s:o, s:s, s:s, s:s?}", "id", (json_int_t)id, "unit", unit,
                  "held_at", held_at, "decisions", done, "created_at", when, "created_by", w->actor,
                  "person", w->principal->person[0] ? w->principal->person : NULL);
    char *text = rec ? json_dumps(rec, JSON_COMPACT) : NULL;
    json_decref(rec);
    if (!text)
        return err_set(why, -ERR_NOMEM, "out of memory");
    rc = store_review_insert(app->st, id, unit, held_at, text, now, w->actor, why);
    if (rc) {
        free(text);
        return rc;
    }
    *body = text;
    *status = 201;
    return 0;
}

void api_review_create(struct api_call *c)
{
    if (!may_hold_meetings(c->principal)) {
        api_fail(c->req, -ERR_FORBIDDEN, "role %s may not record review meetings",
                 auth_role_name(c->principal->role));
        return;
    }
    json_t *body = api_body_object(c), *m = NULL;
    if (!body)
        return;
    struct err_detail why = {0};
    int rc = records_meeting(body, &m, &why);
    json_decref(body);
    if (rc) {
        api_error(c->req, &why);
        return;
    }
    const char *region, *office;
    if (unit_scope(c, json_string_value(json_object_get(m, "unit")), &region, &office)) {
        json_decref(m);
        return;
    }
    if (region)
        json_object_set_new(m, "_region", json_string(region));
    if (office)
        json_object_set_new(m, "_office", json_string(office));
    struct app_write *w = calloc(1, sizeof *w);
    if (!w) {
        json_decref(m);
        api_fail(c->req, -ERR_NOMEM, "out of memory");
        return;
    }
    w->req = c->req;
    w->apply = apply_meeting;
    w->input = m;
    w->principal = c->principal;
    snprintf(w->actor, sizeof w->actor, "%s", c->actor);
    app_write_queue(c->app, w);
}

/* --- GET /v1/reviews/ID ----------------------------------------------------- */

void api_review_get(struct api_call *c)
{
    int64_t id;
    struct err_detail why = {0};
    char *doc = NULL, unit[96];
    int rc = num_parse("id", c->params[0], 1, INT64_MAX, &id, &why);
    if (!rc)
        rc = store_review_get(c->app->st, id, &doc, unit, &why);
    if (!rc) { /* a meeting of a unit out of scope is not disclosed */
        const struct auth_principal *p = c->principal;
        const struct org *org = rules_hq(c->app->rules)->org;
        const char *uid = strchr(unit, '/') ? strchr(unit, '/') + 1 : "";
        const char *r = !strncmp(unit, "office/", 7)   ? org_region_of(org, uid)
                        : !strncmp(unit, "region/", 7) ? uid
                                                       : NULL;
        bool ok = p->level == AUTH_LEVEL_HQ ||
                  (p->level == AUTH_LEVEL_REGION && r && !strcmp(r, p->unit_id)) ||
                  (p->level == AUTH_LEVEL_OFFICE && !strcmp(unit, p->unit));
        if (!ok)
            rc = err_set(&why, -ERR_NOT_FOUND, "review %lld not found", (long long)id);
    }
    if (rc)
        api_error(c->req, &why);
    else
        api_raw(c->req, 200, "application/json", doc, strlen(doc));
    free(doc);
}
