/* engine/api_instances.c: leads and instances (CONTRACT section 5). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json_read.h"
#include "api.h"
#include "api_leads.h"
#include "api_instances.h"
#include "buf.h"
#include "money.h"
#include "period_week.h"
#include "store_leads.h"
#include "lead.h"
#include "json_text.h"
#include "log.h"
#include "num.h"
#include "period.h"
#include "pipeline.h"

static const char *str_of(const json_t *o, const char *k)
{
    return json_string_value(json_object_get(o, k));
}

/* The roles that may create and act on instances (viewers only read). */
/* What an instance document adds to its customer's credit exposure. */
static int64_t exposure_of(const json_t *doc)
{
    const char *stage = json_string_value(json_object_get(doc, "stage"));
    json_t *value = json_object_get(json_object_get(doc, "contract"), "value");
    return stage && !strcmp(stage, "contract") && json_is_integer(value) ? json_integer_value(value)
                                                                         : 0;
}

/* Its place in the funnel (store.h): the outcome of its closure, "" while
 * open; its contract value, else its budget amount, else 0. As the schema's
 * FUNNEL_VALUE and FUNNEL_OUTCOME read them from the stored text. */
static void funnel_place(const json_t *doc, struct store_instance *in)
{
    const char *outcome = str_of(json_object_get(doc, "closure"), "outcome");
    json_t *value = json_object_get(json_object_get(doc, "contract"), "value");
    if (!json_is_integer(value))
        value = json_object_get(json_object_get(doc, "budget"), "amount");
    in->outcome = outcome ? outcome : "";
    in->funnel_value = json_is_integer(value) ? json_integer_value(value) : 0;
}

static bool may_write(const struct auth_principal *p)
{
    return p->role != AUTH_VIEWER;
}

/* --- POST /v1/leads ---------------------------------------------------- */

static int apply_lead_create(struct app_write *w, char **body, int *status, struct err_detail *why)
{
    struct app *app = w->app;
    int64_t id = 0;
    int rc = store_instance_next_id(app->st, &id, why);
    if (rc)
        return rc;
    int64_t now = app_now_ms();
    char when[40];
    app_iso_time(now, when, sizeof when);
    json_t *doc = w->input; /* the instance, prepared by the handler */
    json_object_set_new(doc, "id", json_integer(id));
    json_object_set_new(doc, "created_at", json_string(when));
    json_object_set_new(doc, "updated_at", json_string(when));
    json_t *ev = json_object_get(doc, "evaluation");
    json_t *lead = rules_instance_lead(doc);
    /* The owner is chosen inside the transaction, so the open-lead counts it
     * reads include every lead committed before it. */
    json_object_set(lead, "region", json_object_get(doc, "region"));
    rc = api_assign_owner(w, lead, doc, why);
    if (rc) {
        json_decref(lead);
        return rc;
    }
    json_object_del(lead, "region");
    char *text = json_text(doc);
    char *payload = json_text(lead);
    char *outcome = json_text(ev);
    char *rules = json_text(json_object_get(ev, "rules"));
    json_decref(lead);
    rc = (text && payload && outcome && rules) ? 0 : err_set(why, -ERR_NOMEM, "out of memory");
    struct store_instance in = {
        .id = id,
        .stage = "lead",
        .region = json_string_value(json_object_get(doc, "region")),
        .office = json_string_value(json_object_get(doc, "office")),
        .temperature = json_string_value(json_object_get(ev, "temperature")),
        .doc = text,
        .at_ms = now,
        .last_seq = 1,
        .customer = json_string_value(json_object_get(doc, "customer")),
        .exposure = exposure_of(doc),
        .owner = str_of(doc, "owner"),
    };
    funnel_place(doc, &in);
    struct store_event e = {
        .instance_id = id,
        .seq = 1,
        .at_ms = now,
        .actor = w->actor,
        .action = "create",
        .payload = payload,
        .outcome = outcome,
        .rules = rules,
        .person = w->principal->person[0] ? w->principal->person : NULL,
    };
    if (!rc)
        rc = store_instance_insert(app->st, &in, why);
    if (!rc)
        rc = store_event_append(app->st, &e, why);
    if (!rc) /* shadow runs: beside the lead, never in it */
        rc = rules_shadow_record(app->rules, w->shadow, id, now, why);
    free(payload);
    free(outcome);
    free(rules);
    if (rc) {
        free(text);
        return rc;
    }
    *body = text; /* the response is the stored document */
    *status = 201;
    return 0;
}

void api_lead_create(struct api_call *c)
{
    if (!may_write(c->principal)) {
        api_fail(c->req, -ERR_FORBIDDEN, "role %s may not create leads",
                 auth_role_name(c->principal->role));
        return;
    }
    json_t *body = api_body_object(c);
    if (!body)
        return;
    /* Scope first: a known office out of the principal's unit is 403 before
     * its body is checked against that office's defaults, so the answer is
     * the refusal, not a field the caller could never make valid. */
    const char *named = json_string_value(json_object_get(body, "office"));
    if (named && api_region_of(c, named) && !api_sees_office(c, named)) {
        api_fail(c->req, -ERR_FORBIDDEN, "%s may not create leads for office %.63s",
                 c->principal->unit, named);
        json_decref(body);
        return;
    }
    json_t *lead = NULL, *ev = NULL;
    const char *region = NULL;
    struct err_detail why = {0};
    int rc = rules_evaluate_lead(c->app->rules, body, &lead, &ev, &region, &why);
    json_decref(body);
    if (rc) {
        rules_runtime_error(c->app->rules, &why, http_request_id(c->req), c->actor);
        api_error(c->req, &why);
        return;
    }
    const char *office = json_string_value(json_object_get(lead, "office"));
    if (!auth_sees(c->principal, region, office)) {
        /* Answer before the decref: 'office' points into 'lead'. */
        api_fail(c->req, -ERR_FORBIDDEN, "%s may not create leads for office %s",
                 c->principal->unit, office);
        json_decref(lead);
        json_decref(ev);
        return;
    }
    json_t *shadow = rules_shadow_evaluate(c->app->rules, lead, ev);
    /* The instance pins the HQ version it starts under (rules.hq). */
    json_t *doc = json_pack(
        "{s:s, s:s, s:s, s:O, s:O, s:O, s:O, s:O, s:O, s:O, s:O, s:o, s:o, s:o, s:n, s:n, s:o, "
        "s:o, s:{s:O}, s:s}",
        "stage", "lead", "office", office, "region", region, "customer",
        json_object_get(lead, "customer"), "title", json_object_get(lead, "title"), "source",
        json_object_get(lead, "source"), "budget", json_object_get(lead, "budget"),
        "horizon_months", json_object_get(lead, "horizon_months"), "product_line",
        json_object_get(lead, "product_line"), "signals", json_object_get(lead, "signals"),
        "evaluation", ev, "team", json_object(), "gates", json_object(), "milestones", json_array(),
        "contract", "closure", "actions", json_array(), "checklist", json_object(), "rules", "hq",
        json_object_get(json_object_get(ev, "rules"), "hq"), "created_by", c->actor);
    json_decref(ev);
    json_decref(lead);
    char today[16];
    app_today(today);
    if (doc)
        rules_note_entered(doc, "lead", today);
    if (doc && (rc = rules_stage_entered(c->app->rules, doc, "lead", today, NULL, &why))) {
        rules_runtime_error(c->app->rules, &why, http_request_id(c->req), c->actor);
        json_decref(doc);
        json_decref(shadow);
        api_error(c->req, &why);
        return;
    }
    struct app_write *w = calloc(1, sizeof *w);
    if (!doc || !w) {
        json_decref(doc);
        json_decref(shadow);
        free(w);
        api_fail(c->req, -ERR_NOMEM, "out of memory");
        return;
    }
    w->req = c->req;
    w->apply = apply_lead_create;
    w->input = doc;
    w->shadow = shadow;
    w->principal = c->principal;
    snprintf(w->actor, sizeof w->actor, "%s", c->actor);
    app_write_queue(c->app, w);
}

/* --- GET /v1/instances/ID ------------------------------------------------ */

/* Load an instance the principal may see, or answer 404 (also for instances
 * out of scope: their existence is not disclosed) and return non-zero. */
static int load_visible(struct api_call *c, const char *id_text, struct store_instance_row *row)
{
    int64_t id;
    struct err_detail why = {0};
    /* A malformed id is a bad request; a well-formed one out of scope is 404. */
    int rc = num_parse("id", id_text, 1, INT64_MAX, &id, &why);
    if (!rc)
        rc = store_instance_get(c->app->st, id, row, &why);
    if (!rc && !auth_sees(c->principal, row->region, row->office)) {
        store_instance_row_deinit(row);
        rc = err_set(&why, -ERR_NOT_FOUND, "instance %lld not found", (long long)id);
    }
    if (rc)
        api_error(c->req, &why);
    return rc;
}

/* As load_visible, for a request that reads the instance later (an action,
 * inside its write's transaction): only where it is, not its document. */
static int check_visible(struct api_call *c, const char *id_text, int64_t *id)
{
    char region[STORE_ID_SIZE], office[STORE_ID_SIZE];
    struct err_detail why = {0};
    int rc = num_parse("id", id_text, 1, INT64_MAX, id, &why);
    if (!rc)
        rc = store_instance_where(c->app->st, *id, region, office, &why);
    if (!rc && !auth_sees(c->principal, region, office))
        rc = err_set(&why, -ERR_NOT_FOUND, "instance %lld not found", (long long)*id);
    if (rc)
        api_error(c->req, &why);
    return rc;
}

void api_instance_get(struct api_call *c)
{
    struct store_instance_row row;
    if (load_visible(c, c->params[0], &row))
        return;
    api_raw(c->req, 200, "application/json", row.doc, strlen(row.doc));
    store_instance_row_deinit(&row);
}

/* --- GET /v1/instances ---------------------------------------------------- */

struct page {
    struct buf text;
    int count;
    int64_t last_id;
};

static int on_instance(const struct store_instance_row *row, void *ctx)
{
    struct page *p = ctx;
    if (p->count++)
        buf_put(&p->text, ",", 1);
    buf_str(&p->text, row->doc);
    p->last_id = row->id;
    return 0;
}

static bool valid_filter(const char *v)
{
    return !v || lead_valid_id(v);
}

/* A filter value nothing can match is a mistake (a typo), not an empty page:
 * 400 naming the valid values. Stages come from HQ's process.lua, units from
 * its org tree (which every principal may read: GET /v1/rules/hq/versions/V),
 * so the message tells nothing a principal could not see already. */
static const char *const temperatures[] = {"hot", "warm", "cold", NULL};

static int check_filters(struct api_call *c, const struct store_instance_filter *f,
                         struct err_detail *why)
{
    const struct rules_version *hq = rules_hq(c->app->rules);
    if (f->stage) {
        char list[256] = "";
        size_t i, off = 0;
        json_t *s;
        bool known = false;
        json_array_foreach(hq->stages, i, s)
        {
            known |= !strcmp(json_string_value(s), f->stage);
            if (off < sizeof list)
                off += (size_t)snprintf(list + off, sizeof list - off, "%s%s", i ? ", " : "",
                                        json_string_value(s));
        }
        if (!known)
            return err_field(why, -ERR_INVALID_FIELD, "stage",
                             "stage: unknown stage '%.40s'; the stages are %s", f->stage, list);
    }
    if (f->temperature) {
        bool known = false;
        for (const char *const *t = temperatures; *t; t++)
            known |= !strcmp(*t, f->temperature);
        if (!known)
            return err_field(why, -ERR_INVALID_FIELD, "temperature",
                             "temperature: unknown temperature '%.40s'; expected hot, warm or cold",
                             f->temperature);
    }
    if (f->office && !org_has_office(hq->org, f->office))
        return err_field(why, -ERR_INVALID_FIELD, "office",
                         "office: no office '%.40s' in the org tree (rules/hq/org.lua)", f->office);
    if (f->region && !org_has_region(hq->org, f->region))
        return err_field(why, -ERR_INVALID_FIELD, "region",
                         "region: no region '%.40s' in the org tree (rules/hq/org.lua)", f->region);
    return 0;
}

/* ?owner=: a person the principal may see (out of scope reads as unknown,
 * as everywhere else), so a misspelt owner is 400, not an empty page. */
struct owner_seen {
    const struct auth_principal *principal;
    bool seen;
};

static int on_owner(const struct store_party *p, void *ctx)
{
    struct owner_seen *o = ctx;
    o->seen |= auth_sees(o->principal, p->region, p->office);
    return 0;
}

static int check_owner(struct api_call *c, const char *owner, struct err_detail *why)
{
    struct owner_seen o = {c->principal, false};
    struct err_detail nf = {0};
    int rc = store_person_get(c->app->st, owner, on_owner, &o, &nf);
    if (rc && rc != -ERR_NOT_FOUND) {
        *why = nf;
        return rc;
    }
    if (!rc && o.seen)
        return 0;
    return err_field(why, -ERR_INVALID_FIELD, "owner", "owner: no person '%.63s' in your scope",
                     owner);
}

void api_instance_list(struct api_call *c)
{
    struct store_instance_filter f = {
        .stage = http_query(c->req, "stage"),
        .office = http_query(c->req, "office"),
        .region = http_query(c->req, "region"),
        .temperature = http_query(c->req, "temperature"),
        .owner = http_query(c->req, "owner"),
        .limit = API_LIST_LIMIT_DEFAULT,
    };
    const char *limit = http_query(c->req, "limit"), *after = http_query(c->req, "after");
    if (!valid_filter(f.stage) || !valid_filter(f.office) || !valid_filter(f.region) ||
        !valid_filter(f.temperature) || !valid_filter(f.owner)) {
        api_fail(c->req, -ERR_INVALID_FIELD, "filters must be IDs [a-z0-9_-]");
        return;
    }
    struct err_detail bad = {0};
    if (check_filters(c, &f, &bad) || (f.owner && check_owner(c, f.owner, &bad))) {
        api_error(c->req, &bad);
        return;
    }
    int64_t n = f.limit;
    if ((limit && num_parse("limit", limit, 1, API_LIST_LIMIT_MAX, &n, &bad)) ||
        (after && num_parse("after", after, 0, INT64_MAX, &f.after_id, &bad))) {
        api_error(c->req, &bad);
        return;
    }
    f.limit = (int)n; /* within 1..API_LIST_LIMIT_MAX */
    /* Scope: a region or office principal sees its own unit only. */
    const struct auth_principal *p = c->principal;
    if (p->level == AUTH_LEVEL_REGION) {
        if (f.region && strcmp(f.region, p->unit_id)) {
            api_fail(c->req, -ERR_FORBIDDEN, "%s may not list region %s", p->unit, f.region);
            return;
        }
        /* An office of another region is out of scope too, not an empty page. */
        const char *of = api_region_of(c, f.office);
        if (f.office && (!of || strcmp(of, p->unit_id))) {
            api_fail(c->req, -ERR_FORBIDDEN, "%s may not list office %s", p->unit, f.office);
            return;
        }
        f.region = p->unit_id;
    } else if (p->level == AUTH_LEVEL_OFFICE) {
        if (f.office && strcmp(f.office, p->unit_id)) {
            api_fail(c->req, -ERR_FORBIDDEN, "%s may not list office %s", p->unit, f.office);
            return;
        }
        const char *own = api_region_of(c, p->unit_id);
        if (f.region && (!own || strcmp(f.region, own))) {
            api_fail(c->req, -ERR_FORBIDDEN, "%s may not list region %s", p->unit, f.region);
            return;
        }
        f.office = p->unit_id;
    }
    struct page pg = {0};
    struct err_detail why = {0};
    buf_str(&pg.text, "{\"instances\":[");
    int rc = store_instance_list(c->app->st, &f, on_instance, &pg, &why);
    if (pg.count == f.limit)
        buf_printf(&pg.text, "],\"next\":%lld}", (long long)pg.last_id);
    else
        buf_str(&pg.text, "],\"next\":null}");
    api_respond_buf(c->req, rc, &why, &pg.text);
}

/* --- GET /v1/instances/ID/events ------------------------------------------ */

/* An event's business date: the `at` its action was given (process.lua
 * checked it is a date), else the day it was recorded (UTC), which is the
 * date the rules used for it. */
static json_t *event_date(const json_t *payload, const char *recorded)
{
    const char *at = json_string_value(json_object_get(payload, "at"));
    return at && period_date_valid(at) ? json_string(at) : json_stringn(recorded, 10);
}

static int on_event(const struct store_event *e, void *ctx)
{
    char when[40];
    app_iso_time(e->at_ms, when, sizeof when);
    json_t *payload = json_read_str(e->payload, 0);
    json_t *o =
        json_pack("{s:I, s:s, s:o, s:s, s:s?, s:s, s:o, s:o, s:o}", "seq", (json_int_t)e->seq, "at",
                  when, "date", event_date(payload, when), "actor", e->actor, "person", e->person,
                  "action", e->action, "payload", payload, "outcome",
                  json_read_str(e->outcome, JSON_DECODE_ANY), "rules", json_read_str(e->rules, 0));
    return o ? json_array_append_new(ctx, o) : -1;
}

void api_instance_events(struct api_call *c)
{
    struct store_instance_row row;
    if (load_visible(c, c->params[0], &row))
        return;
    json_t *events = json_array();
    struct err_detail why = {0};
    int rc = store_event_list(c->app->st, row.id, on_event, events, &why);
    if (rc) {
        api_error(c->req, &why);
    } else {
        json_t *body = json_pack("{s:I, s:o}", "instance", (json_int_t)row.id, "events", events);
        events = NULL;
        api_json(c->req, 200, body);
        json_decref(body);
    }
    json_decref(events);
    store_instance_row_deinit(&row);
}

/* --- POST /v1/instances/ID/actions ---------------------------------------- */

/* One accepted action on an existing instance: its event (the next seq) and
 * the instance's new state, in the batch's transaction. */
struct step {
    const char *action, *payload, *outcome, *rules; /* JSON texts but action */
    const char *stage, *temperature, *doc;          /* the instance after it */
    int64_t exposure;                               /* see store_instance.exposure */
    const json_t *after;                            /* the instance after it, parsed */
};

static int record_step(struct app *app, const struct store_instance_row *row,
                       const struct app_write *w, const struct step *s, int64_t now,
                       struct err_detail *why)
{
    const char *actor = w->actor;
    struct store_event e = {
        .instance_id = row->id,
        .seq = row->last_seq + 1,
        .at_ms = now,
        .actor = actor,
        .action = s->action,
        .payload = s->payload,
        .outcome = s->outcome,
        .rules = s->rules,
        .person = w->principal->person[0] ? w->principal->person : NULL,
    };
    struct store_instance in = {
        .id = row->id,
        .stage = s->stage,
        .temperature = s->temperature,
        .doc = s->doc,
        .at_ms = now,
        .last_seq = row->last_seq + 1,
        .prev_seq = row->last_seq,
        .exposure = s->exposure,
        .owner = str_of(s->after, "owner"),
        .next_review = str_of(s->after, "next_review"),
    };
    funnel_place(s->after, &in);
    int rc = store_instance_update(app->st, &in, why);
    if (!rc)
        rc = store_event_append(app->st, &e, why);
    /* The forecast columns the pipeline sums, in the same transaction. */
    return rc ? rc : pipeline_forecast_record(app->st, app->rules, row->id, s->after, why);
}

int api_instance_record(struct app_write *w, const struct store_instance_row *row,
                        const char *action, const char *payload, const char *outcome,
                        const char *rules, const json_t *after, int64_t now, struct err_detail *why)
{
    char *text = json_text(after);
    if (!text)
        return err_set(why, -ERR_NOMEM, "out of memory");
    struct step s = {action,
                     payload,
                     outcome,
                     rules,
                     str_of(after, "stage"),
                     row->temperature,
                     text,
                     exposure_of(after),
                     after};
    int rc = record_step(w->app, row, w, &s, now, why);
    free(text);
    return rc;
}

/* reevaluate: read, evaluate under the rules active now, record; all inside
 * the batch transaction so concurrent actions on one instance serialise. */
static int apply_reevaluate(struct app_write *w, char **body, int *status, struct err_detail *why)
{
    struct app *app = w->app;
    struct store_instance_row row;
    int rc = store_instance_get(app->st, w->instance_id, &row, why);
    if (rc)
        return rc;
    json_t *doc = json_read_str(row.doc, 0), *ev = NULL;
    if (!doc)
        rc = err_set(why, -ERR_INTERNAL, "instance %lld: stored document unreadable",
                     (long long)row.id);
    else if (strcmp(row.stage, "lead"))
        rc = err_set(why, -ERR_CONFLICT, "reevaluate applies at stage lead, not %s", row.stage);
    json_t *shadow = NULL;
    if (!rc) {
        json_t *lead = rules_instance_lead(doc);
        rc = rules_reevaluate(app->rules, lead, &ev, why);
        if (!rc)
            shadow = rules_shadow_evaluate(app->rules, lead, ev);
        json_decref(lead);
    }
    int64_t now = app_now_ms();
    char when[40];
    app_iso_time(now, when, sizeof when);
    char *text = NULL, *outcome = NULL, *rules = NULL;
    if (!rc) {
        json_t *prev = json_object_get(doc, "evaluation");
        json_t *was = json_pack("{s:O, s:O, s:O}", "score", json_object_get(prev, "score"),
                                "temperature", json_object_get(prev, "temperature"), "rules",
                                json_object_get(prev, "rules"));
        json_object_set_new(ev, "previous", was);
        json_object_set(doc, "evaluation", ev);
        json_object_set_new(doc, "updated_at", json_string(when));
        text = json_text(doc);
        outcome = json_text(ev);
        rules = json_text(json_object_get(ev, "rules"));
        if (!text || !outcome || !rules)
            rc = err_set(why, -ERR_NOMEM, "out of memory");
    }
    if (!rc) {
        struct step s = {
            "reevaluate", "{}",      outcome,
            rules,        row.stage, json_string_value(json_object_get(ev, "temperature")),
            text,         0,         doc};
        rc = record_step(app, &row, w, &s, now, why);
    }
    if (!rc)
        rc = rules_shadow_record(app->rules, shadow, row.id, now, why);
    if (!rc) {
        *body = text;
        text = NULL;
        *status = 200;
    }
    free(text);
    free(outcome);
    free(rules);
    json_decref(shadow);
    json_decref(ev);
    json_decref(doc);
    store_instance_row_deinit(&row);
    return rc;
}

/* What the instance earned by this action, attributed to all its units. */
static int record_ledger(struct app *app, const json_t *doc, const json_t *ledger, int64_t seq,
                         const json_t *input, const char *today, struct err_detail *why)
{
    const json_t *team = json_object_get(doc, "team");
    const char *at = json_string_value(json_object_get(input, "at"));
    const char *product = json_string_value(json_object_get(doc, "product_line"));
    size_t i;
    json_t *e;
    json_array_foreach(ledger, i, e)
    {
        struct store_ledger row = {
            .instance_id = json_integer_value(json_object_get(doc, "id")),
            .seq = seq,
            .kind = json_string_value(json_object_get(e, "kind")),
            .amount = json_integer_value(json_object_get(e, "amount")),
            .margin = json_number_value(json_object_get(e, "margin")),
            .at = at ? at : today,
            .region = json_string_value(json_object_get(doc, "region")),
            .office = json_string_value(json_object_get(doc, "office")),
            .customer = json_string_value(json_object_get(doc, "customer")),
            .product_line = product ? product : "general",
            .ar = json_string_value(json_object_get(team, "ar")),
            .sr = json_string_value(json_object_get(team, "sr")),
            .fr = json_string_value(json_object_get(team, "fr")),
        };
        int rc = store_ledger_append(app->st, &row, why);
        if (rc)
            return rc;
    }
    return 0;
}

/* Any other action goes to HQ's process rules (pinned by the instance).
 * 'input' is the action's body (borrowed); the engine's own keys of a review
 * (meeting, next_review, owner) are recorded in the event but not handed to
 * process.lua. On success *body is the instance after it. */
int api_process_step(struct app_write *w, int64_t instance_id, const json_t *input,
                     const char *held_at, char **body, struct err_detail *why)
{
    struct app *app = w->app;
    struct store_instance_row row;
    int rc = store_instance_get(app->st, instance_id, &row, why);
    if (rc)
        return rc;
    json_t *doc = json_read_str(row.doc, 0), *next = NULL, *outcome = NULL, *used = NULL,
           *ledger = NULL;
    int64_t exposure = 0;
    if (!doc)
        rc = err_set(why, -ERR_INTERNAL, "instance %lld: stored document unreadable",
                     (long long)row.id);
    if (!rc)
        rc = store_customer_exposure(app->st, json_string_value(json_object_get(doc, "customer")),
                                     row.id, &exposure, why);
    /* A lead whose customer names a registered customer: its credit limit. */
    bool registered = false;
    int64_t credit_limit = -1;
    const char *customer = json_string_value(json_object_get(doc, "customer"));
    if (!rc && customer)
        rc = store_customer_credit(app->st, customer, &registered, &credit_limit, why);
    if (!registered)
        credit_limit = -1;
    char today[16];
    app_today(today);
    const struct auth_principal *p = w->principal;
    struct rules_actor actor = {p->unit, auth_level_name(p->level), auth_role_name(p->role)};
    json_t *pinput = json_deep_copy(input);
    /* The engine's keys are a review's only: any other action that carries
     * them has process.lua refuse them by name, never ignore them. meeting
     * is the meeting's own citation (held_at given), never a client's. */
    const char *action = json_string_value(json_object_get(input, "action"));
    bool review = action && !strcmp(action, "review");
    static const char *const engine_keys[] = {"meeting", "next_review", "owner"};
    for (size_t k = 0; pinput && review && k < sizeof engine_keys / sizeof *engine_keys; k++)
        json_object_del(pinput, engine_keys[k]);
    if (!rc && !pinput)
        rc = err_set(why, -ERR_NOMEM, "out of memory");
    if (!rc && review && !held_at && json_object_get(input, "meeting"))
        rc = err_field(why, -ERR_INVALID_FIELD, "meeting",
                       "meeting: set by a review meeting (POST /v1/reviews), not by an action");
    if (!rc)
        rc = rules_act(app->rules, doc, pinput, &actor, today, exposure, credit_limit, &next,
                       &outcome, &used, &ledger, why);
    json_decref(pinput);
    /* next_review and owner of a review (lead management), from the review's
     * business date: the meeting's held_at, else the action's at (checked by
     * process.lua above), else today. */
    const char *at = json_string_value(json_object_get(input, "at"));
    if (!rc)
        rc = api_review_followup(w, doc, input, held_at ? held_at : at ? at : today, next, why);
    int64_t now = app_now_ms();
    char when[40];
    app_iso_time(now, when, sizeof when);
    char *text = NULL, *payload = NULL, *out = NULL, *rules = NULL;
    if (!rc) {
        json_object_set_new(next, "updated_at", json_string(when));
        text = json_text(next);
        payload = json_text(input);
        out = json_text(outcome);
        rules = json_text(used);
        if (!text || !payload || !out || !rules)
            rc = err_set(why, -ERR_NOMEM, "out of memory");
    }
    if (!rc) {
        struct step s = {json_string_value(json_object_get(input, "action")),
                         payload,
                         out,
                         rules,
                         json_string_value(json_object_get(next, "stage")),
                         row.temperature,
                         text,
                         exposure_of(next),
                         next};
        rc = record_step(app, &row, w, &s, now, why);
        if (!rc)
            rc = record_ledger(app, next, ledger, row.last_seq + 1, input, today, why);
    }
    if (!rc) {
        *body = text;
        text = NULL;
    }
    free(text);
    free(payload);
    free(out);
    free(rules);
    json_decref(ledger);
    json_decref(next);
    json_decref(outcome);
    json_decref(used);
    json_decref(doc);
    store_instance_row_deinit(&row);
    return rc;
}

/* assign_owner { owner }: the lead's nurturer, an active person of its office. */
static int apply_assign_owner(struct app_write *w, char **body, int *status, struct err_detail *why)
{
    struct app *app = w->app;
    struct store_instance_row row;
    int rc = store_instance_get(app->st, w->instance_id, &row, why);
    if (rc)
        return rc;
    json_t *doc = json_read_str(row.doc, 0);
    const json_t *owner = json_object_get(w->input, "owner");
    const char *k;
    json_t *v;
    if (!doc)
        rc = err_set(why, -ERR_INTERNAL, "instance %lld: stored document unreadable",
                     (long long)row.id);
    else if (strcmp(row.stage, "lead"))
        rc = err_set(why, -ERR_CONFLICT, "assign_owner applies at stage lead, not %s", row.stage);
    if (!rc)
        json_object_foreach(w->input, k, v) if (strcmp(k, "action") && strcmp(k, "owner") && !rc)
            rc = err_field(why, -ERR_INVALID_FIELD, k, "%.60s: unknown field", k);
    if (!rc && (!json_is_string(owner) || !lead_valid_id(json_string_value(owner))))
        rc = err_field(why, -ERR_INVALID_FIELD, "owner", "owner: expected a person id");
    if (!rc)
        rc = api_owner_check(app, w->principal, row.office, json_string_value(owner), "owner", why);
    int64_t now = app_now_ms();
    char when[40];
    app_iso_time(now, when, sizeof when);
    char *text = NULL, *payload = NULL, *out = NULL;
    if (!rc) {
        json_t *o =
            json_pack("{s:O, s:O}", "owner", owner, "previous",
                      json_object_get(doc, "owner") ? json_object_get(doc, "owner") : json_null());
        json_object_set(doc, "owner", (json_t *)owner);
        json_object_set_new(doc, "updated_at", json_string(when));
        text = json_text(doc);
        payload = json_text(w->input);
        out = o ? json_text(o) : NULL;
        json_decref(o);
        if (!text || !payload || !out)
            rc = err_set(why, -ERR_NOMEM, "out of memory");
    }
    if (!rc) {
        struct step s = {"assign_owner",  payload, out, "{}", row.stage,
                         row.temperature, text,    0,   doc};
        rc = record_step(app, &row, w, &s, now, why);
    }
    if (!rc) {
        *body = text;
        text = NULL;
        *status = 200;
    }
    free(text);
    free(payload);
    free(out);
    json_decref(doc);
    store_instance_row_deinit(&row);
    return rc;
}

static int apply_process(struct app_write *w, char **body, int *status, struct err_detail *why)
{
    int rc = api_process_step(w, w->instance_id, w->input, NULL, body, why);
    if (!rc)
        *status = 200;
    return rc;
}

void api_instance_action(struct api_call *c)
{
    int64_t id;
    if (check_visible(c, c->params[0], &id))
        return;
    if (!may_write(c->principal)) {
        api_fail(c->req, -ERR_FORBIDDEN, "role %s may not act on instances",
                 auth_role_name(c->principal->role));
        return;
    }
    json_t *body = api_body_object(c);
    if (!body)
        return;
    const char *name = json_string_value(json_object_get(body, "action"));
    const json_t *at = json_object_get(body, "at");
    struct err_detail why = {0};
    static const char *const reevaluate_keys[] = {"action", "at", NULL};
    if (!name || !lead_valid_id(name))
        err_field(&why, -ERR_INVALID_FIELD, "action", "action: expected an action name");
    else if (!strcmp(name, "reevaluate") && api_body_keys(c, body, reevaluate_keys)) {
        json_decref(body); /* answered: the engine's own action takes nothing else */
        return;
    } else if (at && !json_is_string(at))
        err_field(&why, -ERR_INVALID_FIELD, "at", "at: " PERIOD_DATE_EXPECTED);
    else if (!strcmp(name, "assign_owner") && c->principal->role != AUTH_ADMIN &&
             c->principal->role != AUTH_REVIEWER)
        err_set(&why, -ERR_FORBIDDEN, "role %s may not assign_owner (reviewer or admin)",
                auth_role_name(c->principal->role));
    else /* process.lua checks each field; it gets no number it cannot hold exactly */
        num_json_exact("", body, &why);
    if (why.code) {
        api_error(c->req, &why);
        json_decref(body);
        return;
    }
    struct app_write *w = calloc(1, sizeof *w);
    if (!w) {
        json_decref(body);
        api_fail(c->req, -ERR_NOMEM, "out of memory");
        return;
    }
    w->req = c->req;
    w->apply = !strcmp(name, "reevaluate")     ? apply_reevaluate
               : !strcmp(name, "assign_owner") ? apply_assign_owner
                                               : apply_process;
    w->input = body;
    w->instance_id = id;
    w->principal = c->principal;
    snprintf(w->actor, sizeof w->actor, "%s", c->actor);
    app_write_queue(c->app, w);
}

/* --- GET /v1/instances/ID/documents/KIND and .../receivables --------------- */

void api_instance_document(struct api_call *c)
{
    struct store_instance_row row;
    if (load_visible(c, c->params[0], &row))
        return;
    json_t *doc = json_read_str(row.doc, 0);
    char *text = NULL;
    struct err_detail why = {0};
    int rc = doc ? rules_document(c->app->rules, doc, c->params[1], &text, &why)
                 : err_set(&why, -ERR_INTERNAL, "stored document unreadable");
    if (rc)
        rules_runtime_error(c->app->rules, &why, http_request_id(c->req), c->actor);
    if (rc)
        api_error(c->req, &why);
    else
        http_respond(c->req, 200, "text/plain; charset=utf-8", text, strlen(text));
    json_decref(doc);
    store_instance_row_deinit(&row);
}

void api_instance_receivables(struct api_call *c)
{
    struct store_instance_row row;
    if (load_visible(c, c->params[0], &row))
        return;
    const char *as_of = http_query(c->req, "as_of");
    char today[16];
    app_today(today);
    json_t *doc = json_read_str(row.doc, 0), *out = NULL;
    struct err_detail why = {0};
    int rc = 0;
    if (as_of && (strlen(as_of) != 10 || as_of[4] != '-' || as_of[7] != '-'))
        rc = err_field(&why, -ERR_INVALID_FIELD, "as_of", "as_of: expected YYYY-MM-DD");
    else if (!json_is_object(json_object_get(doc, "contract")))
        rc = err_set(&why, -ERR_CONFLICT, "instance %lld has no contract", (long long)row.id);
    if (!rc && (rc = rules_receivables(c->app->rules, doc, as_of ? as_of : today, &out, &why)))
        rules_runtime_error(c->app->rules, &why, http_request_id(c->req), c->actor);
    if (rc)
        api_error(c->req, &why);
    else
        api_json(c->req, 200, out);
    json_decref(out);
    json_decref(doc);
    store_instance_row_deinit(&row);
}

/* --- the dashboard's views: funnel and recent events ----------------------- */

/* The region and office filters of a principal's scope (NULL: no filter). */
static void scope_filters(const struct auth_principal *p, const char **region, const char **office)
{
    *region = p->level == AUTH_LEVEL_REGION ? p->unit_id : NULL;
    *office = p->level == AUTH_LEVEL_OFFICE ? p->unit_id : NULL;
}

/* One row of the funnel: { stage, count, value[, outcomes: [ { outcome,
 * count, value } ]] }, found or added (zero) in 'stages'. */
static json_t *funnel_row(json_t *stages, const char *stage)
{
    size_t i;
    json_t *row;
    json_array_foreach(stages, i, row)
    {
        if (!strcmp(json_string_value(json_object_get(row, "stage")), stage))
            return row;
    }
    row = json_pack("{s:s, s:I, s:I}", "stage", stage, "count", (json_int_t)0, "value",
                    (json_int_t)0);
    json_array_append_new(stages, row);
    return row;
}

static json_t *funnel_outcome(json_t *row, const char *outcome)
{
    json_t *list = json_object_get(row, "outcomes"), *o;
    if (!list) {
        list = json_array();
        json_object_set_new(row, "outcomes", list);
    }
    size_t i;
    json_array_foreach(list, i, o)
    {
        if (!strcmp(json_string_value(json_object_get(o, "outcome")), outcome))
            return o;
    }
    o = json_pack("{s:s, s:I, s:I}", "outcome", outcome, "count", (json_int_t)0, "value",
                  (json_int_t)0);
    json_array_append_new(list, o);
    return o;
}

static void funnel_add(json_t *o, int64_t count, int64_t value)
{
    json_object_set_new(o, "count",
                        json_integer(json_integer_value(json_object_get(o, "count")) + count));
    json_object_set_new(
        o, "value",
        json_integer(money_add(json_integer_value(json_object_get(o, "value")), value)));
}

static int on_funnel(const char *stage, const char *outcome, int64_t count, int64_t value,
                     void *ctx)
{
    json_t *row = funnel_row(ctx, stage);
    funnel_add(row, count, value);
    if (outcome)
        funnel_add(funnel_outcome(row, outcome), count, value);
    return 0;
}

/* Every stage of HQ's process in its order, empty ones too (then any other
 * stage an instance holds, from an older HQ version); the last stage with
 * each closure outcome HQ declares, so won and lost are counted apart. */
void api_funnel(struct api_call *c)
{
    const char *region, *office;
    scope_filters(c->principal, &region, &office);
    json_t *order = rules_stage_order(c->app->rules);
    json_t *known = json_object_get(order, "stages"), *stages = json_array(), *s;
    size_t i;
    json_t *last = NULL;
    json_array_foreach(known, i, s) last = funnel_row(stages, json_string_value(s));
    if (last) /* process.lua checked its stages are a non-empty list */
        json_array_foreach(json_object_get(order, "outcomes"), i, s)
            funnel_outcome(last, json_string_value(s));
    json_decref(order);
    struct err_detail why = {0};
    if (store_funnel(c->app->st, region, office, on_funnel, stages, &why)) {
        json_decref(stages);
        api_error(c->req, &why);
        return;
    }
    json_t *body = json_pack("{s:s, s:o}", "unit", c->principal->unit, "stages", stages);
    api_json(c->req, 200, body);
    json_decref(body);
}

static int on_recent(const struct store_event *e, void *ctx)
{
    char when[40];
    app_iso_time(e->at_ms, when, sizeof when);
    json_t *payload = json_read_str(e->payload, 0);
    json_t *date = event_date(payload, when);
    json_decref(payload);
    return json_array_append_new(ctx, json_pack("{s:I, s:I, s:s, s:o, s:s, s:s}", "instance",
                                                (json_int_t)e->instance_id, "seq",
                                                (json_int_t)e->seq, "at", when, "date", date,
                                                "actor", e->actor, "action", e->action));
}

void api_events_recent(struct api_call *c)
{
    const char *limit = http_query(c->req, "limit");
    int64_t n = 20;
    struct err_detail bad = {0};
    if (limit && num_parse("limit", limit, 1, 200, &n, &bad)) {
        api_error(c->req, &bad);
        return;
    }
    const char *region, *office;
    scope_filters(c->principal, &region, &office);
    json_t *events = json_array();
    struct err_detail why = {0};
    if (store_recent_events(c->app->st, region, office, (int)n, on_recent, events, &why)) {
        json_decref(events);
        api_error(c->req, &why);
        return;
    }
    json_t *body = json_pack("{s:o}", "events", events);
    api_json(c->req, 200, body);
    json_decref(body);
}
