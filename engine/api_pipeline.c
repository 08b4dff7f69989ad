/* engine/api_pipeline.c: strategy to numbers (CONTRACT 8.4): the pipeline,
 * process metrics and the migration of open instances to an HQ version. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json_read.h"
#include "api.h"
#include "api_instances.h"
#include "api_pipeline.h"
#include "job.h"
#include "lead.h"
#include "json_text.h"
#include "num.h"
#include "period.h"
#include "pipeline.h"
#include "process_metrics.h"
#include "store_pipeline.h"

#define MIGRATE_MAX 5000 /* instances one migration request looks at */

/* ?unit= (default: the principal's own): hq, region/ID, office/ID or
 * customer/ID, inside the principal's scope. Fills the region and office
 * filters it stands for (NULL: any); answers and returns -1 otherwise. */
static int unit_in_scope(struct api_call *c, const char *unit, bool customers, const char **region,
                         const char **office, char *office_buf, size_t size)
{
    const struct auth_principal *p = c->principal;
    const struct org *org = rules_hq(c->app->rules)->org;
    struct err_detail why = {0};
    *region = *office = NULL;
    const char *id;
    enum pipeline_unit kind = pipeline_unit_parse(unit, &id);
    bool customer = kind == PIPELINE_UNIT_CUSTOMER;
    if (kind == PIPELINE_UNIT_BAD || (customer && !customers)) {
        api_fail(c->req, -ERR_INVALID_FIELD,
                 customers ? "unit: expected hq, region/ID, office/ID or "
                             "customer/ID"
                           : "unit: expected hq, region/ID or office/ID");
        return -1;
    }
    if (customer) {
        if (store_customer_office(c->app->st, id, office_buf, size, &why)) {
            api_error(c->req, &why);
            return -1;
        }
        if (!office_buf[0]) {
            api_fail(c->req, -ERR_NOT_FOUND, "no customer '%.80s'", id);
            return -1;
        }
        *office = office_buf;
    } else if (kind == PIPELINE_UNIT_OFFICE)
        *office = id;
    else if (kind == PIPELINE_UNIT_REGION)
        *region = id;
    if ((*region && !org_has_region(org, *region)) || (*office && !org_has_office(org, *office))) {
        api_fail(c->req, -ERR_NOT_FOUND, "no unit '%.80s' in the org tree", unit);
        return -1;
    }
    if (*office)
        *region = org_region_of(org, *office);
    bool ok = p->level == AUTH_LEVEL_HQ ||
              (p->level == AUTH_LEVEL_REGION && *region && !strcmp(*region, p->unit_id)) ||
              (p->level == AUTH_LEVEL_OFFICE && *office && !strcmp(*office, p->unit_id));
    if (!ok && customer) /* out of scope: its existence is not disclosed (GET /v1/customers/ID) */
        api_fail(c->req, -ERR_NOT_FOUND, "no customer '%.80s'", id);
    else if (!ok)
        api_fail(c->req, -ERR_FORBIDDEN, "%s may not see %.80s", p->unit, unit);
    if (!ok)
        return -1;
    if (kind == PIPELINE_UNIT_REGION)
        *region = id;
    return 0;
}

/* ?period= (required) and ?unit= (the principal's own by default) of a
 * read, the unit in scope; answers the request and returns -1 otherwise. */
static int period_and_unit(struct api_call *c, bool customer, const char **period,
                           const char **unit, const char **region, const char **office, char *obuf,
                           size_t osize)
{
    char from[PERIOD_DATE_SIZE], to[PERIOD_DATE_SIZE];
    struct err_detail why = {0};
    *period = http_query(c->req, "period");
    *unit = http_query(c->req, "unit");
    if (!*period) {
        api_fail(c->req, -ERR_INVALID_FIELD, "period: required (YYYY, YYYY-Qn or YYYY-MM)");
        return -1;
    }
    if (period_range(*period, from, to, &why)) {
        api_error(c->req, &why);
        return -1;
    }
    if (!*unit)
        *unit = c->principal->unit;
    return unit_in_scope(c, *unit, customer, region, office, obuf, osize);
}

/* --- GET /v1/pipeline ------------------------------------------------------ */

/* Answered from inside a write: the forecasts a job computed are written
 * PIPELINE_APPLY_PART a write (the op goes on in the next batch until all
 * are), then whatever is still stale is recomputed, in the same transaction
 * the tree is read in. The input's "applied" counts what is written. */
static int apply_pipeline(struct app_write *w, char **body, int *status, struct err_detail *why)
{
    const char *unit = json_string_value(json_object_get(w->input, "unit"));
    const char *period = json_string_value(json_object_get(w->input, "period"));
    const json_t *computed = json_object_get(w->input, "computed");
    const struct org *org = rules_hq(w->app->rules)->org;
    int64_t applied = json_integer_value(json_object_get(w->input, "applied")), part = 0;
    int64_t refreshed = 0;
    size_t len;
    int rc = pipeline_stale_apply(w->app->st, computed, (size_t)applied, PIPELINE_APPLY_PART, &part,
                                  why);
    if (rc)
        return rc;
    applied += part;
    if ((size_t)applied < json_array_size(computed)) {
        w->again = true;
        return json_object_set_new(w->input, "applied", json_integer(applied))
                   ? err_set(why, -ERR_NOMEM, "out of memory")
                   : 0;
    }
    rc = pipeline_refresh(w->app->st, w->app->rules, org, unit, &refreshed, why);
    if (!rc)
        rc = pipeline_tree(w->app->st, org, unit, period, applied + refreshed, body, &len, why);
    if (!rc)
        *status = 200;
    return rc;
}

static void queue_pipeline(struct app *app, struct http_req *req, const char *actor, json_t *input)
{
    struct app_write *w = input ? calloc(1, sizeof *w) : NULL;
    if (!w) {
        json_decref(input);
        api_fail(req, -ERR_NOMEM, "out of memory");
        return;
    }
    w->req = req;
    w->apply = apply_pipeline;
    w->input = input;
    snprintf(w->actor, sizeof w->actor, "%s", actor);
    app_write_queue(app, w);
}

/* After a rule change, the stale forecasts are computed as a job (a rule
 * call each: seconds for 10^5), then written with the read. */
struct pipeline_job {
    struct http_req *req;
    struct app *app;
    char unit[160], period[16], actor[AUTH_UNIT_MAX + 16];
    json_t *computed;
};

static int pipeline_work(const struct job_env *env, void *ctx, struct err_detail *why)
{
    struct pipeline_job *j = ctx;
    return pipeline_stale_compute(env->st, env->rules, rules_hq(env->rules)->org, j->unit,
                                  &j->computed, why);
}

static void pipeline_done(int rc, const struct err_detail *why, void *ctx)
{
    struct pipeline_job *j = ctx;
    if (rc)
        api_error(j->req, why);
    else
        queue_pipeline(j->app, j->req, j->actor,
                       json_pack("{s:s, s:s, s:o}", "unit", j->unit, "period", j->period,
                                 "computed", j->computed));
    free(j);
}

void api_pipeline_get(struct api_call *c)
{
    const char *period, *unit, *region, *office;
    char obuf[96];
    struct err_detail why = {0};
    if (period_and_unit(c, true, &period, &unit, &region, &office, obuf, sizeof obuf))
        return;
    bool stale = false;
    if (pipeline_stale_any(c->app->st, c->app->rules, rules_hq(c->app->rules)->org, unit, &stale,
                           &why)) {
        api_error(c->req, &why);
        return;
    }
    if (!stale) {
        queue_pipeline(c->app, c->req, c->actor,
                       json_pack("{s:s, s:s}", "unit", unit, "period", period));
        return;
    }
    struct pipeline_job *j = calloc(1, sizeof *j);
    if (!j) {
        api_fail(c->req, -ERR_NOMEM, "out of memory");
        return;
    }
    j->req = c->req;
    j->app = c->app;
    snprintf(j->unit, sizeof j->unit, "%s", unit);
    snprintf(j->period, sizeof j->period, "%s", period);
    snprintf(j->actor, sizeof j->actor, "%s", c->actor);
    http_defer(c->req); /* before: 'done' may answer at once */
    if (!job_submit(c->app->jobs, c->app->rules, pipeline_work, pipeline_done, j, &why))
        return;
    free(j);
    api_error(c->req, &why);
}

/* --- GET /v1/process-metrics ----------------------------------------------- */

struct metrics_job {
    struct http_req *req;
    char period[16], today[16], unit[160];
    char region[96], office[96]; /* "" for any */
    json_t *out;
};

static int metrics_work(const struct job_env *env, void *ctx, struct err_detail *why)
{
    struct metrics_job *j = ctx;
    return process_metrics(env->st, env->rules, j->region[0] ? j->region : NULL,
                           j->office[0] ? j->office : NULL, j->period, j->today, &j->out, why);
}

static void metrics_done(int rc, const struct err_detail *why, void *ctx)
{
    struct metrics_job *j = ctx;
    if (rc)
        api_error(j->req, why);
    else {
        json_object_set_new(j->out, "unit", json_string(j->unit));
        api_json(j->req, 200, j->out);
    }
    json_decref(j->out);
    free(j);
}

void api_process_metrics_get(struct api_call *c)
{
    const char *period, *unit, *region, *office;
    char obuf[96];
    struct err_detail why = {0};
    if (period_and_unit(c, false, &period, &unit, &region, &office, obuf, sizeof obuf))
        return;
    struct metrics_job *j = calloc(1, sizeof *j);
    if (!j) {
        api_fail(c->req, -ERR_NOMEM, "out of memory");
        return;
    }
    j->req = c->req;
    snprintf(j->period, sizeof j->period, "%s", period);
    snprintf(j->unit, sizeof j->unit, "%s", unit);
    snprintf(j->region, sizeof j->region, "%s", office ? "" : region ? region : "");
    snprintf(j->office, sizeof j->office, "%s", office ? office : "");
    app_today(j->today);
    http_defer(c->req); /* before: 'done' may answer at once */
    if (!job_submit(c->app->jobs, c->app->rules, metrics_work, metrics_done, j, &why))
        return;
    free(j);
    api_error(c->req, &why);
}

/* --- POST /v1/instances/migrate -------------------------------------------- */

struct migration {
    struct app_write *w;
    int to_hq;
    bool dry_run;
    const char *stage; /* NULL: any open stage */
    json_t *migrated, *refused;
    json_t *rows; /* [ id, doc ] of the candidates, read first */
    bool truncated;
};

static int on_candidate(const struct store_instance_row *row, void *ctx)
{
    struct migration *m = ctx;
    if (json_array_size(m->rows) == MIGRATE_MAX) {
        m->truncated = true;
        return 1;
    }
    return json_array_append_new(m->rows, json_pack("[I, s, s, I]", (json_int_t)row->id, row->doc,
                                                    row->temperature ? row->temperature : "",
                                                    (json_int_t)row->last_seq));
}

/* One candidate: checked by the new version, re-pinned with its event. */
static int migrate_one(struct migration *m, const json_t *e, int64_t now, struct err_detail *why)
{
    int64_t id = json_integer_value(json_array_get(e, 0));
    json_t *doc = json_read_str(json_string_value(json_array_get(e, 1)), 0);
    if (!doc)
        return err_set(why, -ERR_INTERNAL, "instance %lld: stored document unreadable",
                       (long long)id);
    json_t *pins = json_object_get(doc, "rules");
    json_int_t from = json_integer_value(json_object_get(pins, "hq"));
    const char *stage = json_string_value(json_object_get(doc, "stage"));
    int rc = 0;
    char reason[320];
    if (from == m->to_hq || !stage || !strcmp(stage, "closed") ||
        (m->stage && strcmp(m->stage, stage))) {
        json_decref(doc); /* already there, or not asked for */
        return 0;
    }
    rc =
        rules_migrate_check(m->w->app->rules, m->to_hq, doc, (int)from, reason, sizeof reason, why);
    if (!rc && reason[0])
        json_array_append_new(m->refused, json_pack("{s:I, s:I, s:s}", "instance", (json_int_t)id,
                                                    "from_hq", from, "reason", reason));
    else if (!rc) {
        json_array_append_new(m->migrated,
                              json_pack("{s:I, s:I}", "instance", (json_int_t)id, "from_hq", from));
        if (!m->dry_run) {
            json_object_set_new(pins, "hq", json_integer(m->to_hq));
            char payload[96], outcome[96], rules[48];
            snprintf(payload, sizeof payload, "{\"to_hq\":%d}", m->to_hq);
            snprintf(outcome, sizeof outcome, "{\"from_hq\":%lld,\"to_hq\":%d}", (long long)from,
                     m->to_hq);
            snprintf(rules, sizeof rules, "{\"hq\":%d}", m->to_hq);
            const char *temp = json_string_value(json_array_get(e, 2));
            struct store_instance_row row = {
                .id = id,
                .stage = (char *)stage,
                .temperature = temp && temp[0] ? (char *)temp : NULL,
                .last_seq = json_integer_value(json_array_get(e, 3)),
            };
            rc = api_instance_record(m->w, &row, "migrate", payload, outcome, rules, doc, now, why);
        }
    }
    json_decref(doc);
    return rc;
}

static int apply_migrate(struct app_write *w, char **body, int *status, struct err_detail *why)
{
    const json_t *in = w->input;
    struct migration m = {
        .w = w,
        .to_hq = (int)json_integer_value(json_object_get(in, "to_hq")),
        .dry_run = json_is_true(json_object_get(in, "dry_run")),
        .stage = json_string_value(json_object_get(in, "stage")),
        .migrated = json_array(),
        .refused = json_array(),
        .rows = json_array(),
    };
    char status_s[16];
    int rc = store_rule_version_status(w->app->st, "hq", m.to_hq, status_s, why);
    if (!rc && !status_s[0])
        rc = err_field(why, -ERR_NOT_FOUND, "to_hq", "no hq version %d", m.to_hq);
    else if (!rc && strcmp(status_s, "active") && strcmp(status_s, "retired"))
        rc = err_field(why, -ERR_CONFLICT, "to_hq",
                       "hq v%d is %s: instances move only to a version that was active", m.to_hq,
                       status_s);
    struct store_instance_filter f = {
        .region = json_string_value(json_object_get(in, "region")),
        .office = json_string_value(json_object_get(in, "office")),
        .stage = m.stage,
        .limit = MIGRATE_MAX + 1,
    };
    if (!rc)
        rc = store_instance_list(w->app->st, &f, on_candidate, &m, why);
    int64_t now = app_now_ms();
    size_t i;
    json_t *e;
    json_array_foreach(m.rows, i, e)
    {
        if (rc)
            break;
        rc = migrate_one(&m, e, now, why);
    }
    if (!rc) {
        json_t *out =
            json_pack("{s:I, s:O, s:O, s:b, s:i, s:b}", "migrated",
                      (json_int_t)json_array_size(m.migrated), "instances", m.migrated, "refused",
                      m.refused, "dry_run", m.dry_run, "to_hq", m.to_hq, "truncated", m.truncated);
        *body = out ? json_text(out) : NULL;
        json_decref(out);
        rc = *body ? 0 : err_set(why, -ERR_NOMEM, "out of memory");
        *status = 200;
    }
    json_decref(m.migrated);
    json_decref(m.refused);
    json_decref(m.rows);
    return rc;
}

void api_instances_migrate(struct api_call *c)
{
    const struct auth_principal *p = c->principal;
    if (p->level != AUTH_LEVEL_HQ || p->role != AUTH_ADMIN) {
        api_fail(c->req, -ERR_FORBIDDEN, "instances are migrated by an hq admin");
        return;
    }
    static const char *const keys[] = {"to_hq", "unit", "stage", "dry_run", NULL};
    json_t *body = api_body_object(c);
    if (!body)
        return;
    if (api_body_keys(c, body, keys)) {
        json_decref(body);
        return;
    }
    struct err_detail why = {0};
    int64_t to = 0;
    const json_t *dry = json_object_get(body, "dry_run"), *stage = json_object_get(body, "stage"),
                 *unit = json_object_get(body, "unit");
    const char *region = NULL, *office = NULL;
    char obuf[96];
    if (num_json("to_hq", json_object_get(body, "to_hq"), 1, 1000000000, &to, &why))
        ;
    else if (!json_is_boolean(dry))
        err_field(&why, -ERR_INVALID_FIELD, "dry_run", "dry_run: expected true or false");
    else if (stage && (!json_is_string(stage) || !lead_valid_id(json_string_value(stage)) ||
                       !strcmp(json_string_value(stage), "closed")))
        err_field(&why, -ERR_INVALID_FIELD, "stage", "stage: expected an open stage");
    else if (unit && !json_is_string(unit))
        err_field(&why, -ERR_INVALID_FIELD, "unit", "unit: expected hq, region/ID or office/ID");
    if (why.code) {
        api_error(c->req, &why);
        json_decref(body);
        return;
    }
    if (stage) {
        bool known = false;
        size_t i;
        json_t *s;
        json_array_foreach(rules_hq(c->app->rules)->stages, i, s) known |= json_equal(s, stage);
        if (!known) {
            api_fail(c->req, -ERR_INVALID_FIELD, "stage: unknown stage '%s'",
                     json_string_value(stage));
            json_decref(body);
            return;
        }
    }
    if (unit_in_scope(c, unit ? json_string_value(unit) : "hq", false, &region, &office, obuf,
                      sizeof obuf)) {
        json_decref(body);
        return;
    }
    if (office)
        json_object_set_new(body, "office", json_string(office));
    else if (region)
        json_object_set_new(body, "region", json_string(region));
    struct app_write *w = calloc(1, sizeof *w);
    if (!w) {
        json_decref(body);
        api_fail(c->req, -ERR_NOMEM, "out of memory");
        return;
    }
    w->req = c->req;
    w->apply = apply_migrate;
    w->input = body;
    w->principal = c->principal;
    snprintf(w->actor, sizeof w->actor, "%s", c->actor);
    app_write_queue(c->app, w);
}
