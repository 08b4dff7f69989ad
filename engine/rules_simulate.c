/* engine/rules_simulate.c: what-if evaluation of stored leads under a
 * candidate version against the active rules. Reads only. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "rules_internal.h"

#define SIM_DIFFERENCES_MAX 1000 /* per-lead differences listed (all are counted) */
#define SIM_PAGE            500

struct sim {
    struct rules *r;
    struct rules_version *hq_active, *hq_candidate; /* the same unless owner is hq */
    struct rules_version *candidate;                /* the candidate version */
    struct rules_version *active;                   /* the owner's active, may be NULL */
    const struct rules_simulation *in;
    uint64_t deadline_ns;
    int evaluated, changed, failed;
    bool truncated;
    int64_t last_id;
    json_t *counts, *differences;
    const char *region_filter, *office_filter;
};

static uint64_t mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static const char *s_of(const json_t *o, const char *k)
{
    const char *s = json_string_value(json_object_get(o, k));
    return s ? s : "";
}

static void count(json_t *counts, const char *what, const char *before, const char *after)
{
    json_t *c = json_object_get(counts, what);
    char key[64];
    snprintf(key, sizeof key, "%s->%s", before, after);
    json_object_set_new(c, key, json_integer(json_integer_value(json_object_get(c, key)) + 1));
}

/* The authority level each decided gate would be routed to under an authority
 * matrix (NULL: HQ's defaults). */
static json_t *routes(struct rules_version *hq, const json_t *doc, const json_t *authority)
{
    json_t *out = json_object();
    const char *kdp;
    json_t *g;
    json_object_foreach(json_object_get(doc, "gates"), kdp, g)
    {
        json_t *auth = authority ? json_incref((json_t *)authority) : json_object();
        json_t *args[4] = {auth, json_object_get(g, "value"), json_object_get(g, "discount"),
                           json_object_get(g, "margin")};
        json_t *level = NULL;
        if (args[1] && args[2] && args[3] &&
            !sandbox_call(hq->sb, "process.lua", "route", args, 4, &level, NULL))
            json_object_set_new(out, kdp, level);
        json_decref(auth);
    }
    return out;
}

static int on_row(const struct store_instance_row *row, void *ctx)
{
    struct sim *s = ctx;
    s->last_id = row->id;
    if (mono_ns() > s->deadline_ns || s->evaluated >= s->in->limit) {
        s->truncated = true;
        return 1;
    }
    json_t *doc = json_loads(row->doc, 0, NULL);
    const char *created = s_of(doc, "created_at");
    if (!doc || (s->in->from && strncmp(created, s->in->from, 10) < 0) ||
        (s->in->to && strncmp(created, s->in->to, 10) >= 0)) {
        json_decref(doc);
        return 0;
    }
    json_t *lead = rules_instance_lead(doc), *before = NULL, *after = NULL;
    struct rules_version *over = s->candidate->layer == RULES_HQ ? NULL : s->candidate;
    int rc = rules__evaluate(s->r, s->hq_active, NULL, lead, &before, NULL);
    if (!rc)
        rc = rules__evaluate(s->r, s->hq_candidate, over, lead, &after, NULL);
    s->evaluated++;
    bool open = !strcmp(row->stage, "opportunity") || !strcmp(row->stage, "contract");
    json_t *rb = NULL, *ra = NULL;
    if (!rc && open && s->candidate->layer == RULES_REGION) {
        rb = routes(s->hq_active, doc, s->active ? s->active->authority : NULL);
        ra = routes(s->hq_active, doc, s->candidate->authority);
    }
    if (rc) {
        s->failed++;
    } else {
        static const char *const fields[] = {"temperature", "maturity", "recommendation"};
        bool diff =
            !json_equal(json_object_get(before, "score"), json_object_get(after, "score")) ||
            (rb && !json_equal(rb, ra));
        for (int i = 0; i < 3; i++)
            if (strcmp(s_of(before, fields[i]), s_of(after, fields[i]))) {
                count(s->counts, fields[i], s_of(before, fields[i]), s_of(after, fields[i]));
                diff = true;
            }
        if (diff) {
            s->changed++;
            if (json_array_size(s->differences) < SIM_DIFFERENCES_MAX) {
                json_t *d = json_pack("{s:I, s:s, s:{s:O, s:O, s:O, s:O}, s:{s:O, s:O, s:O, s:O}}",
                                      "id", (json_int_t)row->id, "office", row->office, "before",
                                      "score", json_object_get(before, "score"), "temperature",
                                      json_object_get(before, "temperature"), "maturity",
                                      json_object_get(before, "maturity"), "recommendation",
                                      json_object_get(before, "recommendation"), "after", "score",
                                      json_object_get(after, "score"), "temperature",
                                      json_object_get(after, "temperature"), "maturity",
                                      json_object_get(after, "maturity"), "recommendation",
                                      json_object_get(after, "recommendation"));
                if (rb && !json_equal(rb, ra))
                    json_object_set_new(d, "authority",
                                        json_pack("{s:O, s:O}", "before", rb, "after", ra));
                json_array_append_new(s->differences, d);
            }
        }
    }
    json_decref(rb);
    json_decref(ra);
    json_decref(before);
    json_decref(after);
    json_decref(lead);
    json_decref(doc);
    return 0;
}

int rules_simulate(struct rules *r, const char *owner, int version,
                   const struct rules_simulation *in, json_t **out, struct err_detail *why)
{
    enum rules_layer layer;
    if (rules_owner_layer(owner, &layer))
        return err_set(why, -ERR_NOT_FOUND, "'%s' is not a rule owner", owner);
    struct rules__stored vf;
    int rc = rules__stored_load(r, owner, version, &vf, why);
    struct sim s = {.r = r, .in = in, .hq_active = rules_hq(r)};
    if (!rc)
        rc = rules__compile(owner, layer, version, vf.files, layer == RULES_HQ ? NULL : s.hq_active,
                            &s.candidate, why);
    rules__stored_deinit(&vf);
    if (rc)
        return rc;
    s.active = rules_active(r, owner);
    s.hq_candidate = layer == RULES_HQ ? s.candidate : s.hq_active;
    s.deadline_ns = mono_ns() + (uint64_t)in->max_ms * 1000000u;
    s.counts = json_pack("{s:{}, s:{}, s:{}}", "temperature", "maturity", "recommendation");
    s.differences = json_array();
    struct store_instance_filter f = {.limit = SIM_PAGE};
    if (layer == RULES_REGION)
        f.region = owner + 7;
    else if (layer == RULES_OFFICE)
        f.office = owner + 7;
    else if (in->unit && !strncmp(in->unit, "region/", 7))
        f.region = in->unit + 7;
    else if (in->unit && !strncmp(in->unit, "office/", 7))
        f.office = in->unit + 7;
    do {
        f.after_id = s.last_id;
        int64_t before = s.last_id;
        rc = store_instance_list(rules__store(r), &f, on_row, &s, why);
        if (rc || s.last_id == before)
            break;
    } while (!s.truncated);
    if (!rc)
        *out = json_pack("{s:s, s:i, s:i, s:i, s:i, s:i, s:o, s:o, s:b}", "owner", owner, "version",
                         version, "active_version", s.active ? s.active->version : 0, "evaluated",
                         s.evaluated, "changed", s.changed, "failed", s.failed, "counts", s.counts,
                         "differences", s.differences, "truncated", s.truncated);
    else {
        json_decref(s.counts);
        json_decref(s.differences);
    }
    rules_version_unref(s.candidate);
    return rc;
}
