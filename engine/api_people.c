/* engine/api_people.c: people and customers as data (CONTRACT 8.3). Each
 * belongs to one office; an office's admin manages its office, a region's
 * admin its region's offices, an hq admin all; reads are scoped like
 * instances (a principal sees its unit and the units below it). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "api_leads.h"
#include "buf.h"
#include "lead.h"
#include "num.h"
#include "records.h"
#include "store_leads.h"

const char *api_region_of(struct api_call *c, const char *office)
{
    return office ? org_region_of(rules_hq(c->app->rules)->org, office) : NULL;
}

bool api_sees_office(struct api_call *c, const char *office)
{
    const char *region = api_region_of(c, office);
    return region && auth_sees(c->principal, region, office);
}

int api_scope_filter(struct api_call *c, const char *office, const char **region_f,
                     const char **office_f)
{
    const struct auth_principal *p = c->principal;
    *region_f = NULL;
    *office_f = office;
    if (office && !lead_valid_id(office)) {
        api_fail(c->req, -ERR_INVALID_FIELD, "office: expected an office id");
        return -1;
    }
    if (office && !api_region_of(c, office)) {
        api_fail(c->req, -ERR_INVALID_FIELD, "office: unknown office '%s'", office);
        return -1;
    }
    if (office && !api_sees_office(c, office)) {
        api_fail(c->req, -ERR_FORBIDDEN, "%s may not see office %s", p->unit, office);
        return -1;
    }
    if (p->level == AUTH_LEVEL_REGION)
        *region_f = p->unit_id;
    else if (p->level == AUTH_LEVEL_OFFICE)
        *office_f = p->unit_id;
    return 0;
}

/* What a PUT carries into its write. */
enum party_kind { PERSON, CUSTOMER };

struct party_found {
    char office[80];
    int n;
};

static int on_found(const struct store_party *p, void *ctx)
{
    struct party_found *f = ctx;
    snprintf(f->office, sizeof f->office, "%s", p->office);
    f->n++;
    return 0;
}

static int apply_party_put(struct app_write *w, char **body, int *status, struct err_detail *why)
{
    json_t *doc = w->input;
    enum party_kind kind = json_is_true(json_object_get(doc, "_customer")) ? CUSTOMER : PERSON;
    json_object_del(doc, "_customer");
    const char *id = json_string_value(json_object_get(doc, "id"));
    struct party_found was = {0};
    struct err_detail nf = {0};
    int rc = kind == PERSON ? store_person_get(w->app->st, id, on_found, &was, &nf)
                            : store_customer_get(w->app->st, id, on_found, &was, &nf);
    if (rc && rc != -ERR_NOT_FOUND) {
        *why = nf;
        return rc;
    }
    /* Moving a record to another office needs scope over the one it leaves. */
    const char *region_was = was.n ? org_region_of(rules_hq(w->app->rules)->org, was.office) : NULL;
    if (was.n && region_was && !auth_sees(w->principal, region_was, was.office))
        return err_set(why, -ERR_FORBIDDEN, "%s may not change %s of office %s", w->principal->unit,
                       id, was.office);
    int64_t now = app_now_ms();
    char when[40];
    app_iso_time(now, when, sizeof when);
    json_object_set_new(doc, "updated_at", json_string(when));
    json_object_set_new(doc, "updated_by", json_string(w->actor));
    char *text = json_dumps(doc, JSON_COMPACT | JSON_SORT_KEYS);
    if (!text)
        return err_set(why, -ERR_NOMEM, "out of memory");
    const json_t *cl = json_object_get(doc, "credit_limit");
    struct store_party p = {
        .id = id,
        .region = json_string_value(json_object_get(doc, "region")),
        .office = json_string_value(json_object_get(doc, "office")),
        .active = !json_is_false(json_object_get(doc, "active")),
        .credit_limit = json_is_integer(cl) ? json_integer_value(cl) : -1,
        .doc = text,
        .at_ms = now,
        .by = w->actor,
    };
    rc = kind == PERSON ? store_person_put(w->app->st, &p, why)
                        : store_customer_put(w->app->st, &p, why);
    if (rc) {
        free(text);
        return rc;
    }
    *body = text;
    *status = was.n ? 200 : 201;
    return 0;
}

static void party_put(struct api_call *c, enum party_kind kind)
{
    const char *id = c->params[0];
    if (!lead_valid_id(id)) {
        api_fail(c->req, -ERR_INVALID_FIELD, "id: expected an id of 1 to 63 [a-z0-9_-]");
        return;
    }
    if (c->principal->role != AUTH_ADMIN) {
        api_fail(c->req, -ERR_FORBIDDEN, "role %s may not change %s",
                 auth_role_name(c->principal->role), kind == PERSON ? "people" : "customers");
        return;
    }
    json_t *body = api_body_object(c), *doc = NULL;
    if (!body)
        return;
    struct err_detail why = {0};
    int rc = kind == PERSON ? records_person(body, &doc, &why) : records_customer(body, &doc, &why);
    json_decref(body);
    if (rc) {
        api_error(c->req, &why);
        return;
    }
    const char *office = json_string_value(json_object_get(doc, "office"));
    const char *region = api_region_of(c, office);
    if (!region) {
        api_fail(c->req, -ERR_INVALID_FIELD, "office: unknown office '%s'", office);
        json_decref(doc);
        return;
    }
    if (!auth_sees(c->principal, region, office)) {
        api_fail(c->req, -ERR_FORBIDDEN, "%s may not manage office %s", c->principal->unit, office);
        json_decref(doc);
        return;
    }
    json_object_set_new(doc, "id", json_string(id));
    json_object_set_new(doc, "region", json_string(region));
    if (kind == CUSTOMER)
        json_object_set_new(doc, "_customer", json_true());
    struct app_write *w = calloc(1, sizeof *w);
    if (!w) {
        json_decref(doc);
        api_fail(c->req, -ERR_NOMEM, "out of memory");
        return;
    }
    w->req = c->req;
    w->apply = apply_party_put;
    w->input = doc;
    w->principal = c->principal;
    snprintf(w->actor, sizeof w->actor, "%s", c->actor);
    app_write_queue(c->app, w);
}

void api_person_put(struct api_call *c)
{
    party_put(c, PERSON);
}

void api_customer_put(struct api_call *c)
{
    party_put(c, CUSTOMER);
}

struct party_get {
    struct api_call *c;
    char *doc;
    bool visible;
};

static int on_get(const struct store_party *p, void *ctx)
{
    struct party_get *g = ctx;
    g->visible = auth_sees(g->c->principal, p->region, p->office);
    g->doc = strdup(p->doc);
    return g->doc ? 0 : 1;
}

static void party_get(struct api_call *c, enum party_kind kind)
{
    const char *id = c->params[0];
    const char *what = kind == PERSON ? "person" : "customer";
    if (!lead_valid_id(id)) {
        api_fail(c->req, -ERR_INVALID_FIELD, "id: expected an id of 1 to 63 [a-z0-9_-]");
        return;
    }
    struct party_get g = {c, NULL, false};
    struct err_detail why = {0};
    int rc = kind == PERSON ? store_person_get(c->app->st, id, on_get, &g, &why)
                            : store_customer_get(c->app->st, id, on_get, &g, &why);
    if (!rc && !g.visible) /* out of scope: its existence is not disclosed */
        rc = err_set(&why, -ERR_NOT_FOUND, "%s %s not found", what, id);
    if (rc)
        api_error(c->req, &why);
    else
        api_raw(c->req, 200, "application/json", g.doc, strlen(g.doc));
    free(g.doc);
}

void api_person_get(struct api_call *c)
{
    party_get(c, PERSON);
}

void api_customer_get(struct api_call *c)
{
    party_get(c, CUSTOMER);
}

struct party_page {
    struct buf text;
    int count;
    char last[80];
};

static int on_list(const struct store_party *p, void *ctx)
{
    struct party_page *pg = ctx;
    if (pg->count++)
        buf_put(&pg->text, ",", 1);
    buf_str(&pg->text, p->doc);
    snprintf(pg->last, sizeof pg->last, "%s", p->id);
    return 0;
}

static void party_list(struct api_call *c, enum party_kind kind)
{
    const char *region, *office, *after = http_query(c->req, "after");
    const char *limit = http_query(c->req, "limit");
    if (api_scope_filter(c, http_query(c->req, "office"), &region, &office))
        return;
    int64_t n = API_LIST_LIMIT_DEFAULT;
    struct err_detail why = {0};
    if ((limit && num_parse("limit", limit, 1, API_LIST_LIMIT_MAX, &n, &why)) ||
        (after && !lead_valid_id(after) &&
         err_field(&why, -ERR_INVALID_FIELD, "after", "after: expected an id"))) {
        api_error(c->req, &why);
        return;
    }
    struct party_page pg = {0};
    buf_printf(&pg.text, "{\"%s\":[", kind == PERSON ? "people" : "customers");
    int rc =
        kind == PERSON
            ? store_person_list(c->app->st, region, office, after, (int)n, on_list, &pg, &why)
            : store_customer_list(c->app->st, region, office, after, (int)n, on_list, &pg, &why);
    if (pg.count == n)
        buf_printf(&pg.text, "],\"next\":\"%s\"}", pg.last);
    else
        buf_str(&pg.text, "],\"next\":null}");
    api_respond_buf(c->req, rc, &why, &pg.text);
}

void api_people_list(struct api_call *c)
{
    party_list(c, PERSON);
}

void api_customers_list(struct api_call *c)
{
    party_list(c, CUSTOMER);
}
