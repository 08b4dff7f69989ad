/* engine/rules_process.c: running process actions through HQ's process.lua
 * (pinned per instance), with the region's L4 actions and authority matrix and
 * the office's L5 templates and L6 checklists. The engine knows no LTC stage
 * or action by name: what a result may change is the table below. */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "period.h"
#include "rules_internal.h"

/* The instance keys a process result may set, and whether each is an object
 * (Lua's empty table crosses as [], which is read back as {} for these). */
static const struct {
    const char *key;
    bool object;
} state_keys[] = {
    {"stage", false},          {"team", true},
    {"gates", true},           {"contract", true},
    {"milestones", false},     {"closure", true},
    {"last_at", false}, /* the latest business date of the instance's actions */
    {"expected_close", false}, {"expected_value", false}, /* the forecast fields (update) */
};

/* Refusal kinds of process.lua and the error each becomes. */
static const struct {
    const char *kind;
    int code;
} refusals[] = {
    {"conflict", -ERR_CONFLICT},
    {"kcp", -ERR_KCP},
    {"invalid", -ERR_INVALID_FIELD},
    {"forbidden", -ERR_FORBIDDEN},
    {"authority", -ERR_INSUFFICIENT_AUTHORITY},
};

static const char *str_of(const json_t *o, const char *k)
{
    return json_string_value(json_object_get(o, k));
}

static struct rules_version *active_of(struct rules *r, const char *prefix, const char *id)
{
    char owner[RULES_OWNER_MAX];
    snprintf(owner, sizeof owner, "%s/%s", prefix, id ? id : "");
    return id ? rules_active(r, owner) : NULL;
}

static int pinned_hq(struct rules *r, const json_t *doc, struct rules_version **hq,
                     struct err_detail *why)
{
    json_int_t v = json_integer_value(json_object_get(json_object_get(doc, "rules"), "hq"));
    if (v <= 0 || v > INT_MAX) /* checked before it is narrowed to a version number */
        return err_set(why, -ERR_INTERNAL, "instance has no pinned HQ version");
    return rules_hq_version(r, (int)v, hq, why);
}

static void note_used(json_t *used, const struct rules_version *v)
{
    if (used && v)
        json_object_set_new(used, v->owner, json_integer(v->version));
}

/* Turn a refusal table into an error. */
static int refusal(const json_t *res, struct err_detail *why)
{
    const char *kind = str_of(res, "error"), *msg = str_of(res, "message");
    for (size_t i = 0; i < sizeof refusals / sizeof *refusals; i++) {
        if (strcmp(kind, refusals[i].kind))
            continue;
        const char *field = refusals[i].code == -ERR_KCP ? str_of(res, "kcp")
                            : refusals[i].code == -ERR_INSUFFICIENT_AUTHORITY
                                ? str_of(res, "required")
                                : str_of(res, "field");
        return err_field(why, refusals[i].code, field ? field : "", "%.300s",
                         msg ? msg : refusals[i].kind);
    }
    return err_set(why, -ERR_RULE_OUTPUT, "hq/process.lua: unknown refusal '%.40s'", kind);
}

static int apply_state(json_t *doc, const json_t *state, const json_t *stages,
                       struct err_detail *why)
{
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)state, k, v)
    {
        size_t i, n = sizeof state_keys / sizeof *state_keys;
        for (i = 0; i < n && strcmp(state_keys[i].key, k); i++)
            ;
        if (i == n)
            return err_field(why, -ERR_RULE_OUTPUT, k,
                             "hq/process.lua: a result may not set '%.40s'", k);
        if (state_keys[i].object)
            v = (json_t *)rules__as_object(v);
        if (!strcmp(k, "stage")) {
            size_t j;
            json_t *s;
            bool known = false;
            json_array_foreach(stages, j, s) known |= json_is_string(v) && json_equal(s, v);
            if (!known)
                return err_field(why, -ERR_RULE_OUTPUT, "stage",
                                 "hq/process.lua: unknown stage in result");
        }
        json_object_set(doc, k, v);
    }
    return 0;
}

static void add_days(const char *today, json_int_t days, char out[16])
{
    int y, m, d;
    struct tm tm = {0};
    if (sscanf(today, "%d-%d-%d", &y, &m, &d) != 3) {
        snprintf(out, 16, "%s", today);
        return;
    }
    tm.tm_year = y - 1900;
    tm.tm_mon = m - 1;
    tm.tm_mday = d + (int)days;
    tm.tm_hour = 12;
    time_t t = timegm(&tm);
    gmtime_r(&t, &tm);
    snprintf(out, 16, "%04d-%02d-%02d", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday);
}

int rules_stage_entered(struct rules *r, json_t *doc, const char *stage, const char *today,
                        json_t *used, struct err_detail *why)
{
    struct rules_version *rv = active_of(r, "region", str_of(doc, "region"));
    struct rules_version *ov = active_of(r, "office", str_of(doc, "office"));
    json_t *st = json_string(stage);
    json_t *args[2] = {st, doc};
    int rc = 0;
    char file[RULES_OWNER_MAX * 2 + 48]; /* messages name owner and version (sandbox.h) */
    if (rv && sandbox_kind(rv->sb, "actions.lua", NULL) != SANDBOX_NONE) {
        json_t *list = NULL;
        snprintf(file, sizeof file, "%s v%d: regions/%s/actions.lua", rv->owner, rv->version,
                 rv->owner + 7);
        /* The instance as a read-only view: hooks seldom read much of it. */
        rc = sandbox_call_viewing(rv->sb, "actions.lua", NULL, args, 2, 1u << 1, &list, why);
        if (!rc)
            rc = rules__check_actions(list, file, why);
        json_t *actions = json_object_get(doc, "actions");
        size_t i;
        json_t *a;
        char by[RULES_OWNER_MAX + 16];
        snprintf(by, sizeof by, "%s@%d", rv->owner, rv->version);
        if (!rc && json_is_array(actions))
            json_array_foreach(list, i, a)
            {
                char due[16];
                add_days(today, json_integer_value(json_object_get(a, "due_days")), due);
                json_array_append_new(actions, json_pack("{s:s, s:O, s:O, s:s, s:s}", "stage",
                                                         stage, "role", json_object_get(a, "role"),
                                                         "action", json_object_get(a, "action"),
                                                         "due", due, "by", by));
            }
        json_decref(list);
        note_used(used, rv);
    }
    if (!rc && ov && sandbox_kind(ov->sb, "tools.lua", "checklist") == SANDBOX_FUNCTION) {
        json_t *list = NULL;
        snprintf(file, sizeof file, "%s v%d: offices/%s/tools.lua", ov->owner, ov->version,
                 ov->owner + 7);
        rc = sandbox_call_viewing(ov->sb, "tools.lua", "checklist", args, 2, 1u << 1, &list, why);
        if (!rc)
            rc = rules__check_string_list(list, file, "checklist", why);
        if (!rc) {
            json_t *cl = json_object_get(doc, "checklist");
            if (!json_is_object(cl)) {
                cl = json_object();
                json_object_set_new(doc, "checklist", cl);
            }
            json_object_set(cl, stage, list);
        }
        json_decref(list);
        note_used(used, ov);
    }
    json_decref(st);
    return rc;
}

void rules_note_entered(json_t *doc, const char *stage, const char *date)
{
    json_t *entered = json_object_get(doc, "entered");
    if (!json_is_object(entered)) {
        entered = json_object();
        json_object_set_new(doc, "entered", entered);
    }
    json_object_set_new(entered, stage, json_string(date));
}

/* A rule error of process.lua that does not say which version it is about
 * gets "hq vN: " in front, as every rule error does (sandbox.h), so that the
 * runtime error names the pinned version that failed. */
static int name_hq(int rc, const struct rules_version *hq, struct err_detail *why)
{
    struct rules__site site;
    if (!why || !rules_is_rule_error(rc))
        return rc;
    rules__site_parse(why->msg, &site);
    if (site.owner[0])
        return rc;
    char m[ERR_DETAIL_MAX], field[sizeof why->field];
    snprintf(m, sizeof m, "%s", why->msg);
    snprintf(field, sizeof field, "%s", why->field);
    return err_field(why, rc, field, "hq v%d: %s", hq->version, m);
}

/* Ledger entries: { kind = "orders"|"cash", amount = INT, margin = -100..100 };
 * cash is never negative (orders may be, for a reduced contract). */
static int check_ledger(const json_t *ledger, struct err_detail *why)
{
    size_t i;
    json_t *e;
    if (!json_is_array(ledger))
        return err_set(why, -ERR_RULE_OUTPUT, "hq/process.lua: ledger must be a list");
    json_array_foreach(ledger, i, e)
    {
        const char *kind = str_of(e, "kind");
        const json_t *amount = json_object_get(e, "amount"), *margin = json_object_get(e, "margin");
        bool cash = kind && !strcmp(kind, "cash"), orders = kind && !strcmp(kind, "orders");
        if ((!cash && !orders) || !json_is_integer(amount) ||
            (cash && json_integer_value(amount) < 0) || !json_is_number(margin) ||
            json_number_value(margin) < -100 || json_number_value(margin) > 100)
            return err_set(why, -ERR_RULE_OUTPUT,
                           "hq/process.lua: ledger[%zu] must be { kind = orders|cash, amount = "
                           "INT, margin = -100..100 }",
                           i + 1);
    }
    return 0;
}

/* The instance after an action starts as a copy of its top level: the
 * state replaces whole top-level values, so the others can be shared with
 * 'doc' (the caller's, read-only). Only what is changed in place below
 * (rules_note_entered, rules_stage_entered) is copied whole; a deep copy of
 * every action's instance was 5% of a decision's CPU. */
static json_t *next_of(const json_t *doc)
{
    static const char *const changed_in_place[] = {"entered", "actions", "checklist"};
    json_t *next = json_copy((json_t *)doc);
    for (size_t i = 0; next && i < sizeof changed_in_place / sizeof *changed_in_place; i++) {
        json_t *v = json_object_get(next, changed_in_place[i]);
        json_t *c = v ? json_deep_copy(v) : NULL;
        if (v && (!c || json_object_set_new(next, changed_in_place[i], c))) {
            json_decref(next);
            return NULL;
        }
    }
    return next;
}

int rules_act(struct rules *r, const json_t *doc, const json_t *input,
              const struct rules_actor *actor, const char *today, int64_t exposure,
              int64_t credit_limit, json_t **new_doc, json_t **outcome, json_t **used,
              json_t **ledger, struct err_detail *why)
{
    struct rules_version *hq = NULL;
    int rc = pinned_hq(r, doc, &hq, why);
    if (rc)
        return rc;
    if ((rc = rules__check_body(hq, input, why))) { /* a key the action does not take */
        rules_version_unref(hq);
        return rc;
    }
    struct rules_version *rv = active_of(r, "region", str_of(doc, "region"));
    json_t *res = NULL;
    char matrix[RULES_OWNER_MAX + 16] = "hq/process.lua";
    if (rv && rv->authority)
        snprintf(matrix, sizeof matrix, "%s@%d", rv->owner, rv->version);
    const char *at = str_of(input, "at");
    json_t *authority = rv && rv->authority ? json_incref(rv->authority) : json_object();
    json_t *ctx = json_pack(
        "{s:s, s:s, s:{s:s, s:s, s:s}, s:o, s:s, s:I, s:I}", "today", today, "at", at ? at : today,
        "principal", "unit", actor->unit, "level", actor->level, "role", actor->role, "authority",
        authority, "authority_version", matrix, "exposure", (json_int_t)exposure, "credit_limit",
        credit_limit >= 0 ? (json_int_t)credit_limit : hq->credit_limit);
    json_t *args[3] = {(json_t *)doc, (json_t *)input, ctx};
    rc = ctx ? sandbox_call(hq->sb, "process.lua", "act", args, 3, &res, why)
             : err_set(why, -ERR_NOMEM, "out of memory");
    if (!rc && !json_is_object(res))
        rc = err_set(why, -ERR_RULE_OUTPUT, "hq/process.lua: act must return a table");
    if (!rc && json_is_string(json_object_get(res, "error")))
        rc = refusal(res, why);
    const json_t *state = json_object_get(res, "state");
    if (!rc && !json_is_object(rules__as_object(state)))
        rc = err_set(why, -ERR_RULE_OUTPUT, "hq/process.lua: a result needs a state table");
    json_t *next = NULL;
    *used = json_pack("{s:i}", "hq", hq->version);
    if (!rc && !(next = next_of(doc)))
        rc = err_set(why, -ERR_NOMEM, "out of memory");
    if (!rc)
        rc = apply_state(next, rules__as_object(state), hq->stages, why);
    if (!rc && rv && rv->authority && !strcmp(str_of(input, "action"), "decide"))
        note_used(*used, rv);
    const json_t *entries = json_object_get(res, "ledger");
    if (!rc && entries)
        rc = check_ledger(entries, why);
    const char *entered = str_of(res, "entered");
    if (!rc && entered)
        rules_note_entered(next, entered, at ? at : today);
    if (!rc && entered)
        rc = rules_stage_entered(r, next, entered, today, *used, why);
    if (!rc) {
        *new_doc = next;
        *outcome = json_incref(json_object_get(res, "outcome"));
        if (!*outcome)
            *outcome = json_object();
        *ledger = json_is_array(entries) ? json_incref((json_t *)entries) : json_array();
    } else {
        json_decref(next);
        json_decref(*used);
        *used = NULL;
    }
    rc = name_hq(rc, hq, why);
    json_decref(res);
    json_decref(ctx);
    rules_version_unref(hq);
    return rc;
}

int rules_document(struct rules *r, const json_t *doc, const char *kind, char **text,
                   struct err_detail *why)
{
    struct rules_version *ov = active_of(r, "office", str_of(doc, "office"));
    if (!ov || sandbox_kind(ov->sb, "templates.lua", kind) != SANDBOX_FUNCTION)
        return err_set(why, -ERR_NOT_FOUND, "office %s has no template '%.40s'",
                       str_of(doc, "office"), kind);
    json_t *out = NULL;
    json_t *args[1] = {(json_t *)doc};
    int rc = sandbox_call(ov->sb, "templates.lua", kind, args, 1, &out, why);
    if (!rc && !json_is_string(out))
        rc = err_set(why, -ERR_RULE_OUTPUT, "%s v%d: templates.lua: %s must return text", ov->owner,
                     ov->version, kind);
    if (!rc)
        rc = (*text = strdup(json_string_value(out))) ? 0
                                                      : err_set(why, -ERR_NOMEM, "out of memory");
    json_decref(out);
    return rc;
}

int rules_receivables(struct rules *r, const json_t *doc, const char *as_of, json_t **out,
                      struct err_detail *why)
{
    struct rules_version *hq = NULL;
    int rc = pinned_hq(r, doc, &hq, why);
    if (rc)
        return rc;
    json_t *date = json_string(as_of);
    json_t *args[2] = {(json_t *)doc, date};
    rc = sandbox_call(hq->sb, "process.lua", "receivables", args, 2, out, why);
    json_decref(date);
    rules_version_unref(hq);
    return rc;
}

/* --- the stage order and the decisions waiting (the dashboard's views) ---- */

json_t *rules_stage_order(struct rules *r)
{
    struct rules_version *hq = rules_hq(r);
    json_t *outcomes = NULL;
    if (sandbox_kind(hq->sb, "process.lua", "outcomes") != SANDBOX_TABLE ||
        sandbox_call(hq->sb, "process.lua", "outcomes", NULL, 0, &outcomes, NULL) ||
        !json_is_array(outcomes)) {
        json_decref(outcomes); /* optional: without it the funnel lists what it finds */
        outcomes = json_array();
    }
    json_t *names = json_array(), *o; /* the names only: anything else is no outcome */
    size_t i;
    json_array_foreach(outcomes, i, o)
    {
        if (json_is_string(o) && json_string_length(o) <= 40)
            json_array_append(names, o);
    }
    json_decref(outcomes);
    return json_pack("{s:O, s:o}", "stages", hq->stages, "outcomes", names);
}

static bool is_level(const char *s)
{
    return s && (!strcmp(s, "office") || !strcmp(s, "region") || !strcmp(s, "hq"));
}

/* The shape process.lua's waiting must return (anything else is its bug). */
static bool valid_waiting(const json_t *w)
{
    const json_t *margin = json_object_get(w, "margin");
    const char *kdp = str_of(w, "kdp"), *since = str_of(w, "since");
    return kdp && strlen(kdp) <= 16 && since && period_date_valid(since) &&
           is_level(str_of(w, "level")) && json_is_integer(json_object_get(w, "value")) &&
           json_is_number(json_object_get(w, "discount")) && (!margin || json_is_number(margin)) &&
           (!json_object_get(w, "deferred") || json_is_boolean(json_object_get(w, "deferred")));
}

int rules_waiting(struct rules *r, const json_t *doc, const char *as_of, json_t **out,
                  struct err_detail *why)
{
    *out = NULL;
    struct rules_version *hq = NULL;
    int rc = pinned_hq(r, doc, &hq, why);
    if (rc)
        return rc;
    if (sandbox_kind(hq->sb, "process.lua", "waiting") != SANDBOX_FUNCTION) {
        rules_version_unref(hq); /* an HQ version from before the queue: nothing waits */
        return 0;
    }
    struct rules_version *rv = active_of(r, "region", str_of(doc, "region"));
    char matrix[RULES_OWNER_MAX + 16] = "hq/process.lua";
    if (rv && rv->authority)
        snprintf(matrix, sizeof matrix, "%s@%d", rv->owner, rv->version);
    json_t *authority = rv && rv->authority ? json_incref(rv->authority) : json_object();
    json_t *ctx = json_pack("{s:s, s:o}", "as_of", as_of, "authority", authority);
    json_t *args[2] = {(json_t *)doc, ctx}, *res = NULL;
    rc = ctx ? sandbox_call(hq->sb, "process.lua", "waiting", args, 2, &res, why)
             : err_set(why, -ERR_NOMEM, "out of memory");
    if (!rc && !json_is_false(res)) { /* false: nothing waits */
        if (!json_is_object(res) || !valid_waiting(res))
            rc = err_set(why, -ERR_RULE_OUTPUT,
                         "hq v%d: process.lua: waiting must return false or { kdp, since = "
                         "YYYY-MM-DD, level = office|region|hq, value = INT, discount = N, "
                         "margin = N, deferred = BOOL }",
                         hq->version);
        else {
            json_object_set_new(res, "matrix", json_string(matrix));
            *out = json_incref(res);
        }
    }
    rc = name_hq(rc, hq, why);
    json_decref(res);
    json_decref(ctx);
    rules_version_unref(hq);
    return rc;
}

/* --- migration to another HQ version (CONTRACT 8.4) ----------------------- */

int rules_migrate_check(struct rules *r, int to_version, const json_t *doc, int from_version,
                        char *reason, size_t size, struct err_detail *why)
{
    struct rules_version *hq = NULL;
    reason[0] = 0;
    int rc = rules_hq_version(r, to_version, &hq, why);
    if (rc)
        return rc;
    if (sandbox_kind(hq->sb, "process.lua", "migrate") != SANDBOX_FUNCTION) {
        snprintf(reason, size, "hq v%d's process.lua has no migrate function", to_version);
        rules_version_unref(hq);
        return 0;
    }
    json_t *from = json_integer(from_version), *res = NULL;
    json_t *args[2] = {(json_t *)doc, from};
    rc = sandbox_call_viewing(hq->sb, "process.lua", "migrate", args, 2, 1u << 0, &res, why);
    if (!rc && json_is_string(res) && json_string_length(res) > 0)
        snprintf(reason, size, "%.300s", json_string_value(res));
    else if (!rc && !json_is_true(res))
        rc =
            err_set(why, -ERR_RULE_OUTPUT,
                    "hq v%d: process.lua: migrate must return true or a reason (text)", to_version);
    rc = name_hq(rc, hq, why);
    json_decref(res);
    json_decref(from);
    rules_version_unref(hq);
    return rc;
}
