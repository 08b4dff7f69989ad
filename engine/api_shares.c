/* engine/api_shares.c: acquire-and-share runs and targets (CONTRACT section 5). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json_read.h"
#include "allocation.h"
#include "api.h"
#include "api_leads.h"
#include "job.h"
#include "lead.h"
#include "period.h"
#include "store_pipeline.h"
#include "num.h"
#include "targets.h"

static bool hq_can_run(const struct auth_principal *p)
{
    return p->level == AUTH_LEVEL_HQ && (p->role == AUTH_ADMIN || p->role == AUTH_FINANCE);
}

/* The run is computed as a job (job.h), off the loop, and stored here. */
struct share_job {
    struct http_req *req;
    struct app *app;
    char period[16];
    int64_t pool;
    char actor[AUTH_UNIT_MAX + 16];
    struct allocation *run; /* computed on the job's thread */
};

static int share_work(const struct job_env *env, void *ctx, struct err_detail *why)
{
    struct share_job *j = ctx;
    /* A second copy of the rules: the regions split on two threads. Without
     * it, one does them all. */
    struct store *st2 = NULL;
    struct rules *r2 = NULL, *rules[ALLOCATION_SIDES] = {env->rules, NULL};
    struct err_detail ignored = {0};
    if (!job_rules_copy(env, &st2, &r2, &ignored))
        rules[1] = r2;
    int rc =
        allocation_compute(env->st, rules, r2 ? 2 : 1, j->period, j->pool, j->actor, &j->run, why);
    rules_close(r2);
    store_close(st2);
    return rc;
}

/* One part of the computed run a write (allocation_store_part), the op
 * going on in the next batch until the run is whole; then the run is the
 * answer. */
static int apply_share_part(struct app_write *w, char **body, int *status, struct err_detail *why)
{
    bool done = false;
    int rc = allocation_store_part(w->app->st, w->ctx, &done, why);
    if (rc || !done) {
        w->again = !rc;
        return rc;
    }
    *body = allocation_take_text(w->ctx);
    *status = 201;
    return *body ? 0 : err_set(why, -ERR_NOMEM, "out of memory");
}

static void free_run(void *run)
{
    allocation_free(run);
    app_release_memory(); /* a large run's scratch memory goes back */
}

static void share_done(int rc, const struct err_detail *why, void *ctx)
{
    struct share_job *j = ctx;
    struct app_write *w = rc ? NULL : calloc(1, sizeof *w);
    if (w) {
        w->req = j->req;
        w->apply = apply_share_part;
        w->ctx = j->run;
        w->ctx_free = free_run;
        snprintf(w->actor, sizeof w->actor, "%s", j->actor);
        app_write_queue(j->app, w);
    } else {
        struct err_detail nomem = {0};
        api_error(j->req, rc ? why : (err_set(&nomem, -ERR_NOMEM, "out of memory"), &nomem));
        free_run(j->run);
    }
    free(j);
}

void api_share_run_create(struct api_call *c)
{
    if (!hq_can_run(c->principal)) {
        api_fail(c->req, -ERR_FORBIDDEN, "allocation runs are made by an hq admin or finance");
        return;
    }
    static const char *const keys[] = {"period", "pool", NULL};
    json_t *body = api_body_object(c);
    if (!body)
        return;
    if (api_body_keys(c, body, keys)) {
        json_decref(body);
        return;
    }
    const json_t *period = json_object_get(body, "period"), *pool = json_object_get(body, "pool");
    struct err_detail why = {0};
    int64_t fen = 0;
    char from[PERIOD_DATE_SIZE], to[PERIOD_DATE_SIZE];
    if (!json_is_string(period))
        err_field(&why, -ERR_INVALID_FIELD, "period", "period: expected YYYY, YYYY-Qn or YYYY-MM");
    else if (!num_json("pool", pool, 0, ALLOCATION_POOL_MAX, &fen, &why))
        period_range(json_string_value(period), from, to, &why);
    struct share_job *j = why.code ? NULL : calloc(1, sizeof *j);
    if (!why.code && !j)
        err_set(&why, -ERR_NOMEM, "out of memory");
    if (j) {
        j->req = c->req;
        j->app = c->app;
        snprintf(j->period, sizeof j->period, "%s", json_string_value(period));
        j->pool = fen;
        snprintf(j->actor, sizeof j->actor, "%s", c->actor);
    }
    json_decref(body);
    if (j) {
        http_defer(c->req); /* before: 'done' may answer at once */
        if (!job_submit(c->app->jobs, c->app->rules, share_work, share_done, j, &why))
            return;
        free(j);
    }
    api_error(c->req, &why);
}

void api_share_run_get(struct api_call *c)
{
    int64_t id;
    struct err_detail why = {0};
    char *text = NULL;
    if (!num_parse("id", c->params[0], 1, INT64_MAX, &id, &why))
        store_share_run_get(c->app->st, id, &text, &why);
    if (why.code) {
        api_error(c->req, &why);
        return;
    }
    if (c->principal->level == AUTH_LEVEL_HQ) {
        http_respond(c->req, 200, "application/json", text, strlen(text));
        return;
    }
    /* A region or office principal sees the lines of its own subtree only. */
    json_t *run = json_read_str(text, 0);
    free(text);
    if (!run) {
        api_fail(c->req, -ERR_INTERNAL, "share run %lld: stored run unreadable", (long long)id);
        return;
    }
    allocation_scope(run, c->principal->unit);
    api_json(c->req, 200, run);
    json_decref(run);
}

/* Who may set a target: an hq admin any; a region admin its offices and
 * their customers; an office admin its own customers. */
static bool may_set_target(struct store *st, const struct auth_principal *p, const char *unit,
                           const struct org *org)
{
    if (p->role != AUTH_ADMIN)
        return false;
    if (p->level == AUTH_LEVEL_HQ)
        return true;
    char office[96] = "";
    if (!strncmp(unit, "office/", 7))
        snprintf(office, sizeof office, "%s", unit + 7);
    else if (!strncmp(unit, "customer/", 9) &&
             store_customer_office(st, unit + 9, office, sizeof office, NULL))
        return false;
    if (p->level == AUTH_LEVEL_REGION && office[0]) {
        const char *region = org_region_of(org, office);
        return region && !strcmp(region, p->unit_id);
    }
    return p->level == AUTH_LEVEL_OFFICE && !strncmp(unit, "customer/", 9) &&
           !strcmp(office, p->unit_id);
}

void api_target_put(struct api_call *c)
{
    const char *unit = c->params[0], *period = c->params[1];
    const struct org *org = rules_hq(c->app->rules)->org;
    if (!strncmp(unit, "customer/", 9) && !lead_valid_id(unit + 9)) {
        api_fail(c->req, -ERR_INVALID_FIELD, "unit: expected customer/ID");
        return;
    }
    char cust_office[96] = "";
    if (!strncmp(unit, "customer/", 9) && c->principal->level != AUTH_LEVEL_HQ &&
        (store_customer_office(c->app->st, unit + 9, cust_office, sizeof cust_office, NULL) ||
         !cust_office[0] || !api_sees_office(c, cust_office))) {
        /* out of scope: its existence is not disclosed (GET /v1/customers/ID) */
        api_fail(c->req, -ERR_NOT_FOUND, "no customer '%.80s'", unit + 9);
        return;
    }
    if (!may_set_target(c->app->st, c->principal, unit, org)) {
        api_fail(c->req, -ERR_FORBIDDEN, "%s may not set the targets of %.80s", c->actor, unit);
        return;
    }
    static const char *const keys[] = {"metric", "amount", NULL};
    json_t *body = api_body_object(c);
    if (!body)
        return;
    if (api_body_keys(c, body, keys)) {
        json_decref(body);
        return;
    }
    const json_t *amount = json_object_get(body, "amount");
    struct err_detail why = {0};
    int64_t fen = 0;
    if (!num_json("amount", amount, 0, TARGETS_AMOUNT_MAX, &fen, &why))
        targets_set(c->app->st, org, unit, period,
                    json_string_value(json_object_get(body, "metric")), fen, c->actor, &why);
    if (why.code)
        api_error(c->req, &why);
    else {
        json_t *out = json_pack("{s:s, s:s, s:O, s:O}", "unit", unit, "period", period, "metric",
                                json_object_get(body, "metric"), "amount", amount);
        api_json(c->req, 200, out);
        json_decref(out);
    }
    json_decref(body);
}

void api_targets_get(struct api_call *c)
{
    const char *period = http_query(c->req, "period"), *metric = http_query(c->req, "metric");
    json_t *tree = NULL;
    struct err_detail why = {0};
    /* Each principal sees the tree from its own unit down. */
    targets_tree(c->app->st, rules_hq(c->app->rules)->org, c->principal->unit, period,
                 metric ? metric : "orders", &tree, &why);
    if (why.code)
        api_error(c->req, &why);
    else
        api_json(c->req, 200, tree);
    json_decref(tree);
}
