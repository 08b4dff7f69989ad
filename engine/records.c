/* engine/records.c: checking the bodies of lead management (records.h). */
#include "records.h"

#include <stdbool.h>
#include <string.h>

#include "lead.h"
#include "num.h"
#include "period_week.h"

const char *const records_person_roles[] = {"admin", "reviewer", "lead_manager", "ar", "sr",
                                            "fr",    "finance",  "viewer",       NULL};

static const char *const activity_kinds[] = {"visit", "call", "workshop", "budget_table", NULL};
static const char *const decisions[] = {"convert", "nurture", "close", NULL};

static bool in(const char *const *list, const char *s)
{
    for (; s && *list; list++)
        if (!strcmp(*list, s))
            return true;
    return false;
}

/* Every key of 'o' must be one of 'keys'. */
static int only_keys(const json_t *o, const char *const *keys, const char *prefix,
                     struct err_detail *why)
{
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)o, k, v)
    {
        if (!in(keys, k))
            return err_field(why, -ERR_INVALID_FIELD, k, "%s%.60s: unknown field", prefix, k);
    }
    return 0;
}

int records_text(const char *field, const json_t *v, size_t max, struct err_detail *why)
{
    if (!json_is_string(v) || json_string_length(v) == 0)
        return err_field(why, -ERR_INVALID_FIELD, field, "%s: expected text", field);
    /* Characters, not bytes: count the bytes that start one. */
    size_t n = 0, len = json_string_length(v);
    const unsigned char *s = (const unsigned char *)json_string_value(v);
    for (size_t i = 0; i < len; i++) {
        if (s[i] == 0)
            return err_field(why, -ERR_INVALID_FIELD, field, "%s: a NUL character", field);
        n += (s[i] & 0xc0) != 0x80;
    }
    if (n > max)
        return err_field(why, -ERR_INVALID_FIELD, field, "%s: more than %zu characters", field,
                         max);
    return 0;
}

static int id_field(const char *field, const json_t *v, struct err_detail *why)
{
    if (!json_is_string(v) || !lead_valid_id(json_string_value(v)))
        return err_field(why, -ERR_INVALID_FIELD, field, "%s: expected an id of 1 to 63 [a-z0-9_-]",
                         field);
    return 0;
}

static int date_field(const char *field, const json_t *v, struct err_detail *why)
{
    int64_t d;
    if (!json_is_string(v))
        return err_field(why, -ERR_INVALID_FIELD, field, "%s: " PERIOD_DATE_EXPECTED, field);
    return period_date_days(field, json_string_value(v), &d, why);
}

static json_t *copy_of(const json_t *body)
{
    return json_deep_copy(body);
}

int records_person(const json_t *body, json_t **out, struct err_detail *why)
{
    static const char *const keys[] = {"name", "office", "roles", "active", NULL};
    if (!json_is_object(body))
        return err_set(why, -ERR_INVALID_JSON, "body: expected a JSON object");
    int rc = only_keys(body, keys, "", why);
    if (!rc)
        rc = records_text("name", json_object_get(body, "name"), RECORDS_TEXT_MAX, why);
    if (!rc)
        rc = id_field("office", json_object_get(body, "office"), why);
    const json_t *roles = json_object_get(body, "roles"), *active = json_object_get(body, "active");
    if (!rc && (!json_is_array(roles) || json_array_size(roles) > RECORDS_ROLES_MAX))
        rc = err_field(why, -ERR_INVALID_FIELD, "roles",
                       "roles: expected a list of at most %d roles", RECORDS_ROLES_MAX);
    size_t i, j;
    json_t *r;
    if (!rc)
        json_array_foreach(roles, i, r)
        {
            if (!in(records_person_roles, json_string_value(r)))
                rc = err_field(why, -ERR_INVALID_FIELD, "roles",
                               "roles[%zu]: expected one of admin, reviewer, lead_manager, ar, sr, "
                               "fr, finance, viewer",
                               i + 1);
            for (j = 0; !rc && j < i; j++)
                if (json_equal(json_array_get(roles, j), r))
                    rc = err_field(why, -ERR_INVALID_FIELD, "roles", "roles[%zu]: given twice",
                                   i + 1);
            if (rc)
                break;
        }
    if (!rc && active && !json_is_boolean(active))
        rc = err_field(why, -ERR_INVALID_FIELD, "active", "active: expected true or false");
    if (rc)
        return rc;
    *out = copy_of(body);
    if (*out && !active)
        json_object_set_new(*out, "active", json_true());
    return *out ? 0 : err_set(why, -ERR_NOMEM, "out of memory");
}

int records_customer(const json_t *body, json_t **out, struct err_detail *why)
{
    static const char *const keys[] = {"name", "office", "segment", "credit_limit", NULL};
    if (!json_is_object(body))
        return err_set(why, -ERR_INVALID_JSON, "body: expected a JSON object");
    int rc = only_keys(body, keys, "", why);
    if (!rc)
        rc = records_text("name", json_object_get(body, "name"), RECORDS_TEXT_MAX, why);
    if (!rc)
        rc = id_field("office", json_object_get(body, "office"), why);
    const json_t *seg = json_object_get(body, "segment"),
                 *cl = json_object_get(body, "credit_limit");
    if (!rc && seg)
        rc = records_text("segment", seg, 60, why);
    int64_t n;
    if (!rc && cl)
        rc = num_json("credit_limit", cl, 0, RECORDS_MONEY_MAX, &n, why);
    if (rc)
        return rc;
    *out = copy_of(body);
    return *out ? 0 : err_set(why, -ERR_NOMEM, "out of memory");
}

int records_activity(const json_t *body, json_t **out, struct err_detail *why)
{
    static const char *const keys[] = {"person",   "customer", "kind",   "at",
                                       "instance", "note",     "budget", NULL};
    static const char *const budget_keys[] = {"year", "amount", NULL};
    if (!json_is_object(body))
        return err_set(why, -ERR_INVALID_JSON, "body: expected a JSON object");
    int rc = only_keys(body, keys, "", why);
    if (!rc)
        rc = id_field("person", json_object_get(body, "person"), why);
    if (!rc)
        rc = id_field("customer", json_object_get(body, "customer"), why);
    const char *kind = json_string_value(json_object_get(body, "kind"));
    if (!rc && !in(activity_kinds, kind))
        rc = err_field(why, -ERR_INVALID_FIELD, "kind",
                       "kind: expected visit, call, workshop or budget_table");
    if (!rc)
        rc = date_field("at", json_object_get(body, "at"), why);
    int64_t n;
    const json_t *inst = json_object_get(body, "instance"), *note = json_object_get(body, "note");
    if (!rc && inst)
        rc = num_json("instance", inst, 1, INT64_MAX, &n, why);
    if (!rc && note)
        rc = records_text("note", note, RECORDS_TEXT_MAX, why);
    const json_t *budget = json_object_get(body, "budget");
    bool table = kind && !strcmp(kind, "budget_table");
    if (!rc && table && !json_is_object(budget))
        rc = err_field(why, -ERR_INVALID_FIELD, "budget",
                       "budget: a budget_table needs budget { year, amount }");
    if (!rc && !table && budget)
        rc = err_field(why, -ERR_INVALID_FIELD, "budget", "budget: only with kind budget_table");
    if (!rc && table)
        rc = only_keys(budget, budget_keys, "budget.", why);
    if (!rc && table)
        rc = num_json("budget.year", json_object_get(budget, "year"), 1900, 9998, &n, why);
    if (!rc && table)
        rc = num_json("budget.amount", json_object_get(budget, "amount"), 0, RECORDS_MONEY_MAX, &n,
                      why);
    if (rc)
        return rc;
    *out = copy_of(body);
    return *out ? 0 : err_set(why, -ERR_NOMEM, "out of memory");
}

int records_meeting(const json_t *body, json_t **out, struct err_detail *why)
{
    static const char *const keys[] = {"unit", "held_at", "decisions", NULL};
    if (!json_is_object(body))
        return err_set(why, -ERR_INVALID_JSON, "body: expected a JSON object");
    int rc = only_keys(body, keys, "", why);
    const char *unit = json_string_value(json_object_get(body, "unit"));
    if (!rc &&
        (!unit || strlen(unit) > 70 ||
         !(strcmp(unit, "hq") == 0 || ((!strncmp(unit, "region/", 7) && lead_valid_id(unit + 7)) ||
                                       (!strncmp(unit, "office/", 7) && lead_valid_id(unit + 7))))))
        rc =
            err_field(why, -ERR_INVALID_FIELD, "unit", "unit: expected hq, region/ID or office/ID");
    if (!rc)
        rc = date_field("held_at", json_object_get(body, "held_at"), why);
    const json_t *list = json_object_get(body, "decisions");
    if (!rc && (!json_is_array(list) || json_array_size(list) == 0 ||
                json_array_size(list) > RECORDS_DECISIONS_MAX))
        rc = err_field(why, -ERR_INVALID_FIELD, "decisions",
                       "decisions: expected a list of 1 to %d decisions", RECORDS_DECISIONS_MAX);
    size_t i;
    json_t *d;
    if (!rc)
        json_array_foreach(list, i, d)
        {
            if (!json_is_object(d)) {
                rc = err_field(why, -ERR_INVALID_FIELD, "decisions",
                               "decisions[%zu]: expected an object", i + 1);
                break;
            }
        }
    if (rc)
        return rc;
    *out = copy_of(body);
    return *out ? 0 : err_set(why, -ERR_NOMEM, "out of memory");
}

int records_decision(const json_t *item, struct err_detail *why)
{
    static const char *const keys[] = {"instance",    "decision", "note",
                                       "next_review", "owner",    NULL};
    int64_t n;
    int rc = only_keys(item, keys, "", why);
    if (!rc)
        rc = num_json("instance", json_object_get(item, "instance"), 1, INT64_MAX, &n, why);
    const char *d = json_string_value(json_object_get(item, "decision"));
    if (!rc && !in(decisions, d))
        rc = err_field(why, -ERR_INVALID_FIELD, "decision",
                       "decision: expected convert, nurture or close");
    const json_t *note = json_object_get(item, "note"),
                 *next = json_object_get(item, "next_review"),
                 *owner = json_object_get(item, "owner");
    if (!rc && note)
        rc = records_text("note", note, RECORDS_TEXT_MAX, why);
    if (!rc && next && strcmp(d, "nurture"))
        rc = err_field(why, -ERR_INVALID_FIELD, "next_review",
                       "next_review: only with decision nurture");
    if (!rc && next)
        rc = date_field("next_review", next, why);
    if (!rc && owner)
        rc = id_field("owner", owner, why);
    return rc;
}
