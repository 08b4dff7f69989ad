/* engine/api_activities.c: front-line activity (CONTRACT 8.3): visits,
 * calls, workshops and customers' investment budget tables, and the weekly
 * scorecard measured from them (visits against the minimum, budget tables
 * by HQ's deadline, points lost by HQ's scorecard.lua). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json_read.h"
#include "api.h"
#include "api_leads.h"
#include "buf.h"
#include "lead.h"
#include "num.h"
#include "period_week.h"
#include "records.h"
#include "store_leads.h"

#define SCORECARD_MAX 2000 /* people, and customers, of one scorecard */

struct found {
    char region[80], office[80];
    bool active;
    int n;
};

static int on_found(const struct store_party *p, void *ctx)
{
    struct found *f = ctx;
    snprintf(f->region, sizeof f->region, "%s", p->region);
    snprintf(f->office, sizeof f->office, "%s", p->office);
    f->active = p->active;
    f->n++;
    return 0;
}

/* --- POST /v1/activities ---------------------------------------------------- */

static int apply_activity(struct app_write *w, char **body, int *status, struct err_detail *why)
{
    json_t *a = w->input;
    int64_t now = app_now_ms();
    char when[40];
    app_iso_time(now, when, sizeof when);
    json_object_set_new(a, "created_at", json_string(when));
    json_object_set_new(a, "created_by", json_string(w->actor));
    const json_t *budget = json_object_get(a, "budget");
    struct store_activity row = {
        .person = json_string_value(json_object_get(a, "person")),
        .region = json_string_value(json_object_get(a, "region")),
        .office = json_string_value(json_object_get(a, "office")),
        .customer = json_string_value(json_object_get(a, "customer")),
        .kind = json_string_value(json_object_get(a, "kind")),
        .at = json_string_value(json_object_get(a, "at")),
        .budget_year = json_integer_value(json_object_get(budget, "year")),
        .created_at_ms = now,
        .by = w->actor,
    };
    int64_t id = 0;
    /* The id is known only after the insert: listings add it to the doc. */
    char *text = json_dumps(a, JSON_COMPACT);
    row.doc = text;
    int rc = text ? store_activity_insert(w->app->st, &row, &id, why)
                  : err_set(why, -ERR_NOMEM, "out of memory");
    free(text);
    if (rc)
        return rc;
    json_object_set_new(a, "id", json_integer(id));
    *body = json_dumps(a, JSON_COMPACT);
    *status = 201;
    return *body ? 0 : err_set(why, -ERR_NOMEM, "out of memory");
}

void api_activity_create(struct api_call *c)
{
    if (c->principal->role == AUTH_VIEWER) {
        api_fail(c->req, -ERR_FORBIDDEN, "role viewer may not record activities");
        return;
    }
    json_t *body = api_body_object(c), *a = NULL;
    if (!body)
        return;
    struct err_detail why = {0};
    int rc = records_activity(body, &a, &why);
    json_decref(body);
    if (rc) {
        api_error(c->req, &why);
        return;
    }
    const char *person = json_string_value(json_object_get(a, "person"));
    const char *customer = json_string_value(json_object_get(a, "customer"));
    struct found p = {0}, cu = {0};
    struct err_detail nf = {0};
    /* Out of scope reads as unknown: neither is disclosed. */
    if (store_person_get(c->app->st, person, on_found, &p, &nf) || !p.n ||
        !auth_sees(c->principal, p.region, p.office))
        rc = err_field(&why, -ERR_INVALID_FIELD, "person", "person: no person '%s'", person);
    else if (!p.active)
        rc = err_field(&why, -ERR_INVALID_FIELD, "person", "person: %s is not active", person);
    else if (store_customer_get(c->app->st, customer, on_found, &cu, &nf) || !cu.n ||
             !auth_sees(c->principal, cu.region, cu.office))
        rc =
            err_field(&why, -ERR_INVALID_FIELD, "customer", "customer: no customer '%s'", customer);
    else if (strcmp(cu.region, p.region))
        rc = err_field(&why, -ERR_INVALID_FIELD, "customer",
                       "customer: %s belongs to region %s, %s to region %s", customer, cu.region,
                       person, p.region);
    const json_t *inst = json_object_get(a, "instance");
    if (!rc && inst) {
        struct store_instance_row row;
        if (store_instance_get(c->app->st, json_integer_value(inst), &row, &nf) ||
            !auth_sees(c->principal, row.region, row.office))
            rc = err_field(&why, -ERR_INVALID_FIELD, "instance", "instance: no instance %lld",
                           (long long)json_integer_value(inst));
        else
            store_instance_row_deinit(&row);
    }
    if (rc) {
        json_decref(a);
        api_error(c->req, &why);
        return;
    }
    json_object_set_new(a, "region", json_string(p.region));
    json_object_set_new(a, "office", json_string(p.office));
    struct app_write *w = calloc(1, sizeof *w);
    if (!w) {
        json_decref(a);
        api_fail(c->req, -ERR_NOMEM, "out of memory");
        return;
    }
    w->req = c->req;
    w->apply = apply_activity;
    w->input = a;
    w->principal = c->principal;
    snprintf(w->actor, sizeof w->actor, "%s", c->actor);
    app_write_queue(c->app, w);
}

/* --- GET /v1/activities ------------------------------------------------------ */

struct page {
    struct buf text;
    int count;
    int64_t last;
};

static int on_activity(const struct store_activity *a, void *ctx)
{
    struct page *pg = ctx;
    if (pg->count++)
        buf_put(&pg->text, ",", 1);
    /* The stored doc lacks its id (given by the insert). */
    buf_printf(&pg->text, "{\"id\":%lld,", (long long)a->id);
    buf_str(&pg->text, a->doc + 1);
    pg->last = a->id;
    return 0;
}

void api_activities_list(struct api_call *c)
{
    struct store_activity_filter f = {
        .person = http_query(c->req, "person"),
        .customer = http_query(c->req, "customer"),
        .from = http_query(c->req, "from"),
        .to = http_query(c->req, "to"),
        .limit = API_LIST_LIMIT_DEFAULT,
    };
    struct err_detail why = {0};
    int64_t d, n = f.limit;
    const char *limit = http_query(c->req, "limit"), *after = http_query(c->req, "after");
    int rc = 0;
    if ((f.person && !lead_valid_id(f.person)) || (f.customer && !lead_valid_id(f.customer)))
        rc = err_set(&why, -ERR_INVALID_FIELD, "person and customer must be ids [a-z0-9_-]");
    if (!rc && f.from)
        rc = period_date_days("from", f.from, &d, &why);
    if (!rc && f.to)
        rc = period_date_days("to", f.to, &d, &why);
    if (!rc && limit)
        rc = num_parse("limit", limit, 1, API_LIST_LIMIT_MAX, &n, &why);
    if (!rc && after)
        rc = num_parse("after", after, 0, INT64_MAX, &f.after_id, &why);
    if (rc) {
        api_error(c->req, &why);
        return;
    }
    f.limit = (int)n;
    if (api_scope_filter(c, http_query(c->req, "office"), &f.region, &f.office))
        return;
    struct page pg = {0};
    buf_str(&pg.text, "{\"activities\":[");
    rc = store_activity_list(c->app->st, &f, on_activity, &pg, &why);
    if (pg.count == f.limit)
        buf_printf(&pg.text, "],\"next\":%lld}", (long long)pg.last);
    else
        buf_str(&pg.text, "],\"next\":null}");
    api_respond_buf(c->req, rc, &why, &pg.text);
}

/* --- GET /v1/scorecards -------------------------------------------------------- */

static int on_party(const struct store_party *p, void *ctx)
{
    json_t *doc = json_read_str(p->doc, 0);
    return doc ? json_array_append_new(ctx, doc) : 0;
}

static int on_visits(const char *person, int64_t n, void *ctx)
{
    return json_object_set_new(ctx, person, json_integer(n));
}

static bool has_role(const json_t *person, const char *role)
{
    size_t i;
    json_t *r;
    json_array_foreach(json_object_get(person, "roles"), i,
                       r) if (json_is_string(r) && !strcmp(json_string_value(r), role)) return true;
    return false;
}

void api_scorecards(struct api_call *c)
{
    const char *unit = http_query(c->req, "unit"), *week = http_query(c->req, "week");
    const struct auth_principal *pr = c->principal;
    const struct org *org = rules_hq(c->app->rules)->org;
    struct err_detail why = {0};
    char mon[PERIOD_DATE_SIZE], sun[PERIOD_DATE_SIZE], today[16];
    app_today(today);
    if (!unit)
        unit = pr->unit;
    enum auth_level level = auth_unit_level(unit);
    const char *uid = strchr(unit, '/') ? strchr(unit, '/') + 1 : "";
    if (!level || (level != AUTH_LEVEL_HQ && !lead_valid_id(uid)) ||
        (level == AUTH_LEVEL_REGION && !org_has_region(org, uid)) ||
        (level == AUTH_LEVEL_OFFICE && !org_has_office(org, uid))) {
        api_fail(c->req, -ERR_INVALID_FIELD, "unit: expected a unit of the org tree");
        return;
    }
    if (!week) {
        api_fail(c->req, -ERR_INVALID_FIELD, "week: expected an ISO week YYYY-Www");
        return;
    }
    if (period_iso_week(week, mon, sun, &why)) {
        api_error(c->req, &why);
        return;
    }
    const char *region = level == AUTH_LEVEL_REGION   ? uid
                         : level == AUTH_LEVEL_OFFICE ? org_region_of(org, uid)
                                                      : NULL;
    const char *office = level == AUTH_LEVEL_OFFICE ? uid : NULL;
    bool ok = pr->level == AUTH_LEVEL_HQ ||
              (pr->level == AUTH_LEVEL_REGION && region && !strcmp(region, pr->unit_id)) ||
              (pr->level == AUTH_LEVEL_OFFICE && office && !strcmp(office, pr->unit_id));
    if (!ok) {
        api_fail(c->req, -ERR_FORBIDDEN, "%s may not see %s", pr->unit, unit);
        return;
    }
    if (level == AUTH_LEVEL_OFFICE)
        region = NULL; /* the office filter is enough */
    json_t *people = json_array(), *customers = json_array(), *visits = json_object();
    int rc = store_person_list(c->app->st, region, office, "", SCORECARD_MAX + 1, on_party, people,
                               &why);
    if (!rc)
        rc = store_customer_list(c->app->st, region, office, "", SCORECARD_MAX + 1, on_party,
                                 customers, &why);
    /* One more than the cap read tells a unit past it, said in the answer. */
    bool truncated =
        json_array_size(people) > SCORECARD_MAX || json_array_size(customers) > SCORECARD_MAX;
    if (json_array_size(people) > SCORECARD_MAX)
        json_array_remove(people, SCORECARD_MAX);
    if (json_array_size(customers) > SCORECARD_MAX)
        json_array_remove(customers, SCORECARD_MAX);
    if (!rc)
        rc = store_visit_counts(c->app->st, region, office, mon, sun, on_visits, visits, &why);
    /* Budget tables: the week's year Y (of its Thursday) collects the tables
     * for Y + 1, due by HQ's deadline in Y + 1; a customer whose table for Y
     * was not recorded by the deadline in Y is overdue once it has passed. */
    char deadline[6], thursday[PERIOD_DATE_SIZE], due_next[PERIOD_DATE_SIZE],
        due_now[PERIOD_DATE_SIZE];
    rules_budget_deadline(c->app->rules, deadline);
    int64_t dmon = 0, dsun = 0, ddue = 0;
    period_date_days("week", mon, &dmon, NULL);
    period_date_days("week", sun, &dsun, NULL);
    period_days_date(dmon + 3, thursday);
    int year = atoi(thursday);
    snprintf(due_next, sizeof due_next, "%04d-%s", year + 1, deadline);
    snprintf(due_now, sizeof due_now, "%04d-%s", year, deadline);
    period_date_days("deadline", due_now, &ddue, NULL);
    json_t *cards = json_array(), *cust_out = json_array(), *overdue_by_office = json_object();
    json_t *failed_regions = json_object(); /* region -> its thresholds' error */
    size_t i;
    json_t *x;
    if (!rc)
        json_array_foreach(customers, i, x)
        {
            const char *id = json_string_value(json_object_get(x, "id"));
            char next_at[16], now_at[16];
            if ((rc = store_budget_table(c->app->st, id, year + 1, sun, next_at, &why)) ||
                (rc = store_budget_table(c->app->st, id, year, due_now, now_at, &why)))
                break;
            bool overdue = !now_at[0] && dsun > ddue;
            const char *off = json_string_value(json_object_get(x, "office"));
            if (overdue)
                json_object_set_new(
                    overdue_by_office, off,
                    json_integer(json_integer_value(json_object_get(overdue_by_office, off)) + 1));
            json_array_append_new(
                cust_out, json_pack("{s:s, s:O?, s:O, s:{s:i, s:s, s:b, s:s?}, s:{s:i, s:s, s:b}}",
                                    "customer", id, "name", json_object_get(x, "name"), "office",
                                    json_object_get(x, "office"), "budget_table", "year", year + 1,
                                    "deadline", due_next, "collected", next_at[0] != 0,
                                    "collected_at", next_at[0] ? next_at : NULL, "previous", "year",
                                    year, "deadline", due_now, "overdue", overdue));
        }
    if (!rc)
        json_array_foreach(people, i, x)
        {
            if (json_is_false(json_object_get(x, "active")))
                continue;
            const char *id = json_string_value(json_object_get(x, "id"));
            json_t *lead = json_pack("{s:O, s:O}", "region", json_object_get(x, "region"), "office",
                                     json_object_get(x, "office"));
            struct rules_review_params rp;
            struct err_detail rwhy = {0};
            const char *rule_error = NULL;
            rc = rules_review_params(c->app->rules, lead, &rp, &rwhy);
            if (rc && rules_is_rule_error(rc)) {
                /* Bounded, as an assignment rule is: a region's thresholds that
                 * fail for { region, office } leave its people HQ's minimum,
                 * the card says why, and the error is the region's runtime
                 * error (counted once a region and request). */
                const char *reg = json_string_value(json_object_get(x, "region"));
                if (reg && !json_object_get(failed_regions, reg)) {
                    rules_runtime_error(c->app->rules, &rwhy, http_request_id(c->req), c->actor);
                    json_object_set_new(failed_regions, reg, json_string(rwhy.msg));
                }
                rule_error = reg ? json_string_value(json_object_get(failed_regions, reg)) : NULL;
                json_t *hq_only = json_object();
                rc = rules_review_params(c->app->rules, hq_only, &rp, &rwhy);
                json_decref(hq_only);
            }
            json_decref(lead);
            if (rc) {
                why = rwhy;
                break;
            }
            json_int_t n = json_integer_value(json_object_get(visits, id));
            json_int_t missing =
                has_role(x, "ar")
                    ? json_integer_value(json_object_get(
                          overdue_by_office, json_string_value(json_object_get(x, "office"))))
                    : 0;
            json_t *card = json_pack(
                "{s:s, s:O?, s:O, s:O?, s:I, s:I, s:b, s:I}", "person", id, "name",
                json_object_get(x, "name"), "office", json_object_get(x, "office"), "roles",
                json_object_get(x, "roles"), "visits", n, "visits_min", rp.visits_min, "below_min",
                n < rp.visits_min, "budget_tables_overdue", missing);
            if (card && rule_error)
                json_object_set_new(card, "rule_error", json_string(rule_error));
            json_int_t lost = 0;
            rc = card ? rules_points_lost(c->app->rules, card, &lost, &why)
                      : err_set(&why, -ERR_NOMEM, "out of memory");
            if (rc) {
                json_decref(card);
                break;
            }
            json_object_set_new(card, "points_lost", json_integer(lost));
            json_array_append_new(cards, card);
        }
    if (rc)
        rules_runtime_error(c->app->rules, &why, http_request_id(c->req), c->actor);
    json_decref(people);
    json_decref(customers);
    json_decref(visits);
    json_decref(overdue_by_office);
    json_decref(failed_regions);
    if (rc) {
        json_decref(cards);
        json_decref(cust_out);
        api_error(c->req, &why);
        return;
    }
    json_t *body =
        json_pack("{s:s, s:s, s:s, s:s, s:o, s:o, s:b}", "unit", unit, "week", week, "from", mon,
                  "to", sun, "people", cards, "customers", cust_out, "truncated", truncated);
    api_json(c->req, 200, body);
    json_decref(body);
}
