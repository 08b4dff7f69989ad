/* engine/api_owner.c: a lead's owner (its nurturer): chosen at creation by
 * the region's assignment.lua or HQ's default, changed by assign_owner and
 * by review decisions; and the next review date a nurture decision sets. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json_read.h"
#include "api_instances.h"
#include "period_week.h"
#include "store_leads.h"

static int on_candidate(const char *id, const char *doc, int64_t open_leads, void *ctx)
{
    json_t *person = json_read_str(doc, 0);
    json_t *c =
        json_pack("{s:s, s:O?, s:O?, s:I}", "id", id, "name", json_object_get(person, "name"),
                  "roles", json_object_get(person, "roles"), "open_leads", (json_int_t)open_leads);
    json_decref(person);
    return c ? json_array_append_new(ctx, c) : 1;
}

int api_assign_owner(struct app_write *w, const json_t *lead, json_t *doc, struct err_detail *why)
{
    json_t *cands = json_array(), *pick = NULL;
    int rc = cands
                 ? store_candidates(w->app->st, json_string_value(json_object_get(lead, "office")),
                                    on_candidate, cands, why)
                 : err_set(why, -ERR_NOMEM, "out of memory");
    if (rc) {
        json_decref(cands);
        return rc;
    }
    struct err_detail rule_err = {0};
    int rrc = rules_assign_owner(w->app->rules, lead, cands, &pick, &rule_err);
    json_decref(cands);
    if (!pick)
        return err_set(why, -ERR_NOMEM, "out of memory");
    if (rrc) /* bounded: counted as the region's runtime error, the lead goes on */
        rules_runtime_error(w->app->rules, &rule_err, http_request_id(w->req), w->actor);
    json_t *owner = json_object_get(pick, "owner");
    json_object_set(doc, "owner", owner ? owner : json_null());
    json_object_del(pick, "owner");
    json_object_set_new(doc, "assignment", pick);
    return 0;
}

struct owner_found {
    char region[80], office[80];
    bool active;
    int n;
};

static int on_person(const struct store_party *p, void *ctx)
{
    struct owner_found *f = ctx;
    snprintf(f->region, sizeof f->region, "%s", p->region);
    snprintf(f->office, sizeof f->office, "%s", p->office);
    f->active = p->active;
    f->n++;
    return 0;
}

int api_owner_check(struct app *app, const struct auth_principal *principal, const char *office,
                    const char *person, const char *field, struct err_detail *why)
{
    struct owner_found f = {0};
    struct err_detail nf = {0};
    int rc = store_person_get(app->st, person, on_person, &f, &nf);
    if (rc && rc != -ERR_NOT_FOUND) {
        *why = nf;
        return rc;
    }
    /* A person out of the principal's scope reads as unknown (as in every
     * listing): neither the person nor its office is disclosed. */
    if (rc == -ERR_NOT_FOUND || !auth_sees(principal, f.region, f.office))
        return err_field(why, -ERR_INVALID_FIELD, field, "%s: no person '%s' in your scope", field,
                         person);
    if (strcmp(f.office, office))
        return err_field(why, -ERR_INVALID_FIELD, field,
                         "%s: %s is a person of office %s, not of %s", field, person, f.office,
                         office);
    if (!f.active)
        return err_field(why, -ERR_INVALID_FIELD, field, "%s: %s is not active", field, person);
    return 0;
}

int api_review_followup(struct app_write *w, const json_t *doc, const json_t *input,
                        const char *held_at, json_t *next, struct err_detail *why)
{
    const char *action = json_string_value(json_object_get(input, "action"));
    if (!action || strcmp(action, "review"))
        return 0;
    const char *decision = json_string_value(json_object_get(input, "decision"));
    const char *office = json_string_value(json_object_get(doc, "office"));
    const json_t *owner = json_object_get(input, "owner");
    const json_t *given = json_object_get(input, "next_review");
    int64_t held = 0, due = 0;
    int rc = period_date_days("held_at", held_at, &held, why);
    if (!rc && owner && !json_is_string(owner))
        rc = err_field(why, -ERR_INVALID_FIELD, "owner", "owner: expected a person id");
    /* Changing the owner is assign_owner's right, whichever action carries it. */
    if (!rc && owner && w->principal->role != AUTH_ADMIN && w->principal->role != AUTH_REVIEWER)
        rc = err_set(why, -ERR_FORBIDDEN,
                     "role %s may not change a lead's owner (reviewer or admin)",
                     auth_role_name(w->principal->role));
    if (!rc && owner)
        rc = api_owner_check(w->app, w->principal, office, json_string_value(owner), "owner", why);
    if (!rc && given && (!decision || strcmp(decision, "nurture")))
        rc = err_field(why, -ERR_INVALID_FIELD, "next_review",
                       "next_review: only with decision nurture");
    if (rc)
        return rc;
    json_object_set_new(next, "reviewed_at", json_string(held_at));
    if (owner)
        json_object_set(next, "owner", (json_t *)owner);
    if (!decision || strcmp(decision, "nurture")) {
        json_object_del(next, "next_review");
        return 0;
    }
    if (given) {
        if (!json_is_string(given))
            return err_field(why, -ERR_INVALID_FIELD, "next_review",
                             "next_review: " PERIOD_DATE_EXPECTED);
        rc = period_date_days("next_review", json_string_value(given), &due, why);
        if (!rc && due <= held)
            rc = err_field(why, -ERR_INVALID_FIELD, "next_review",
                           "next_review: %s is not after the review (%s)", json_string_value(given),
                           held_at);
        if (rc)
            return rc;
    } else {
        json_t *lead = json_pack("{s:O, s:O}", "region", json_object_get(doc, "region"), "office",
                                 json_object_get(doc, "office"));
        json_t *full = rules_instance_lead(doc);
        json_object_update(full, lead);
        struct rules_review_params rp;
        rc = rules_review_params(w->app->rules, full, &rp, why);
        json_decref(lead);
        json_decref(full);
        if (rc)
            return rc;
        due = held + rp.nurture_days;
    }
    char date[PERIOD_DATE_SIZE];
    period_days_date(due, date);
    /* held_at near the end of the calendar: the review date it gives must be
     * a date every reader accepts (as_of, next_review), or the lead would
     * never come back to the queue. */
    int64_t check;
    if (period_date_days("next_review", date, &check, NULL))
        return err_field(why, -ERR_INVALID_FIELD, "next_review",
                         "next_review: %s plus %lld days is %s, after the last date accepted "
                         "(9998-12-31)",
                         held_at, (long long)(due - held), date);
    json_object_set_new(next, "next_review", json_string(date));
    return 0;
}
