/* engine/rules_shadow.c: shadow runs, a pending version evaluated beside
 * the active rules on live lead evaluations, its results recorded and never
 * used (the policies are in rules.h). The running windows are kept compiled
 * in memory, so a live evaluation with none running costs one test. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "json_read.h"
#include "log.h"
#include "rules_internal.h"
#include "utf8.h"

struct run {
    int64_t id; /* rule_shadows.id */
    char owner[RULES_OWNER_MAX];
    int version;
    int64_t until_ms;
    struct rules_version *v; /* the compiled candidate; one reference */
};

struct rules__shadows {
    size_t n;
    struct run runs[RULES_SHADOWS_MAX];
    int64_t (*now_ms)(void); /* the clock of windows */
};

static int64_t real_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int64_t now_of(const struct rules__shadows *s)
{
    return s && s->now_ms ? s->now_ms() : real_now_ms();
}

void rules_shadow_set_clock(struct rules *r, int64_t (*now_ms)(void))
{
    struct rules__shadows *s = rules__shadows(r);
    if (s)
        s->now_ms = now_ms;
}

static void drop(struct rules__shadows *s, size_t i)
{
    rules_version_unref(s->runs[i].v);
    s->runs[i] = s->runs[--s->n];
}

/* Forget the windows that are over (their summaries say "expired"). */
static void expire(struct rules__shadows *s, int64_t now)
{
    for (size_t i = 0; i < s->n;)
        if (s->runs[i].until_ms <= now)
            drop(s, i);
        else
            i++;
}

/* The stored version, pending, compiled against today's HQ rules. */
static int compile_pending(struct rules *r, const char *owner, int version,
                           struct rules_version **out, struct err_detail *why)
{
    enum rules_layer layer;
    if (rules_owner_layer(owner, &layer))
        return err_set(why, -ERR_NOT_FOUND, "'%s' is not a rule owner", owner);
    struct rules__stored vl;
    int rc = rules__stored_load(r, owner, version, &vl, why);
    if (rc)
        return rc;
    if (strcmp(vl.status, "pending"))
        rc = err_set(why, -ERR_CONFLICT, "%s v%d is %s: only a pending version is shadowed", owner,
                     version, vl.status);
    if (!rc)
        rc = rules__compile(owner, layer, version, vl.files, layer == RULES_HQ ? NULL : rules_hq(r),
                            out, why);
    rules__stored_deinit(&vl);
    return rc;
}

static int on_running(const struct store_shadow *row, void *ctx)
{
    struct rules *r = ctx;
    struct rules__shadows *s = rules__shadows(r);
    struct err_detail why = {0};
    struct rules_version *v = NULL;
    if (s->n == RULES_SHADOWS_MAX)
        return 1;
    if (compile_pending(r, row->owner, row->version, &v, &why)) {
        log_warn("rules: the shadow of %s v%d is not resumed: %s", row->owner, row->version,
                 why.msg);
        return 0;
    }
    struct run *run = &s->runs[s->n++];
    run->id = row->id;
    snprintf(run->owner, sizeof run->owner, "%s", row->owner);
    run->version = row->version;
    run->until_ms = row->until_ms;
    run->v = v;
    return 0;
}

int rules__shadows_open(struct rules *r, struct rules__shadows **out, struct err_detail *why)
{
    struct rules__shadows *s = calloc(1, sizeof *s);
    if (!s)
        return err_set(why, -ERR_NOMEM, "out of memory");
    *out = s;
    struct err_detail w = {0};
    if (store_shadow_running(rules__store(r), now_of(s), on_running, r, &w))
        log_warn("rules: shadow runs not resumed: %s", w.msg);
    return 0;
}

void rules__shadows_follow(struct rules *r)
{
    struct rules__shadows *s = rules__shadows(r);
    while (s && s->n)
        drop(s, s->n - 1);
    struct err_detail w = {0};
    if (s && store_shadow_running(rules__store(r), now_of(s), on_running, r, &w))
        log_warn("rules: shadow runs of other nodes not taken in: %s", w.msg);
}

void rules__shadows_close(struct rules__shadows *s)
{
    while (s && s->n)
        drop(s, s->n - 1);
    free(s);
}

void rules__shadows_settle(struct rules *r, const char *owner)
{
    struct rules__shadows *s = rules__shadows(r);
    for (size_t i = 0; s && i < s->n;) {
        struct run *run = &s->runs[i];
        char status[16] = "";
        struct err_detail why = {0};
        if (strcmp(run->owner, owner) ||
            store_rule_version_status(rules__store(r), owner, run->version, status, &why) ||
            !strcmp(status, "pending")) {
            i++;
            continue;
        }
        const char *reason =
            !strcmp(status, "active") || !strcmp(status, "retired") ? "approved" : status;
        if (store_shadow_end(rules__store(r), run->id, now_of(s), reason, &why))
            log_warn("rules: the end of the shadow of %s v%d is not recorded: %s", owner,
                     run->version, why.msg);
        log_info("rules: the shadow of %s v%d ended: %s", owner, run->version, reason);
        drop(s, i);
    }
}

/* --- start and summary ---------------------------------------------------- */

static void iso(int64_t ms, char *buf, size_t n)
{
    time_t t = (time_t)(ms / 1000);
    struct tm tm;
    gmtime_r(&t, &tm);
    snprintf(buf, n, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1,
             tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (int)(ms % 1000));
}

static json_t *iso_json(int64_t ms)
{
    char buf[40];
    if (ms <= 0)
        return json_null();
    iso(ms, buf, sizeof buf);
    return json_string(buf);
}

int rules_shadow_start(struct rules *r, const char *owner, int version, int hours,
                       const char *actor, json_t **out, struct err_detail *why)
{
    struct rules__shadows *s = rules__shadows(r);
    if (hours < 1 || hours > RULES_SHADOW_HOURS_MAX)
        return err_field(why, -ERR_INVALID_FIELD, "hours",
                         "hours: expected an integer from 1 to %d", RULES_SHADOW_HOURS_MAX);
    expire(s, now_of(s));
    size_t slot = s->n;
    for (size_t i = 0; i < s->n; i++)
        if (!strcmp(s->runs[i].owner, owner) && s->runs[i].version == version)
            slot = i;
    if (slot == RULES_SHADOWS_MAX)
        return err_set(why, -ERR_CONFLICT, "%d shadow runs are running already; end one first",
                       RULES_SHADOWS_MAX);
    struct rules_version *v = NULL;
    int rc = compile_pending(r, owner, version, &v, why);
    if (rc)
        return rc;
    int64_t now = now_of(s), id = 0;
    struct store_shadow row = {
        .owner = owner,
        .version = version,
        .started_at_ms = now,
        .until_ms = now + (int64_t)hours * 3600 * 1000,
        .started_by = actor,
    };
    char note[64];
    snprintf(note, sizeof note, "for %d hours", hours);
    struct store *st = rules__store(r);
    rc = store_begin(st, why);
    if (!rc)
        rc = store_shadow_start(st, &row, &id, why);
    if (!rc)
        rc = store_rule_event_append(st, owner, version, now, actor, "shadow", v->hash, note, why);
    if (!rc)
        rc = store_commit(st, why);
    else
        store_rollback(st);
    if (rc) {
        rules_version_unref(v);
        return rc;
    }
    if (slot < s->n)
        rules_version_unref(s->runs[slot].v); /* the old window's */
    else
        s->n++;
    struct run *run = &s->runs[slot];
    run->id = id;
    snprintf(run->owner, sizeof run->owner, "%s", owner);
    run->version = version;
    run->until_ms = row.until_ms;
    run->v = v;
    log_info("rules: %s v%d shadowed for %d h by %s", owner, version, hours, actor);
    return rules_shadow_summary(r, owner, version, out, why);
}

static int on_newest(const struct store_shadow *row, void *ctx)
{
    struct store_shadow *out = ctx;
    *out = *row;
    out->owner = NULL; /* borrowed strings do not outlive the row */
    out->started_by = strdup(row->started_by ? row->started_by : "");
    out->end_reason = row->end_reason ? strdup(row->end_reason) : NULL;
    return 0;
}

static int on_example(const struct store_shadow_result *res, void *ctx)
{
    json_t *e = json_pack("{s:I, s:o, s:b, s:o?, s:o?, s:o?}", "instance",
                          (json_int_t)res->instance_id, "at", iso_json(res->at_ms), "differs",
                          res->differs, "error", res->error ? utf8_json(res->error) : NULL,
                          "shadow", res->summary ? json_read_str(res->summary, 0) : NULL, "active",
                          res->active ? json_read_str(res->active, 0) : NULL);
    return e ? json_array_append_new(ctx, e) : -1;
}

int rules_shadow_summary(struct rules *r, const char *owner, int version, json_t **out,
                         struct err_detail *why)
{
    struct store *st = rules__store(r);
    struct store_shadow row = {0};
    int rc = store_shadow_newest(st, owner, version, on_newest, &row, why);
    if (!rc && !row.id)
        rc = err_set(why, -ERR_NOT_FOUND, "%s v%d has had no shadow run", owner, version);
    int64_t evaluated = 0, differing = 0, failed = 0;
    json_t *examples = json_array();
    if (!rc)
        rc = store_shadow_counts(st, row.id, &evaluated, &differing, &failed, why);
    if (!rc)
        rc =
            store_shadow_examples(st, row.id, RULES_SHADOW_EXAMPLES_MAX, on_example, examples, why);
    if (!rc) {
        int64_t now = now_of(rules__shadows(r));
        bool ended = row.ended_at_ms || row.until_ms <= now;
        const char *reason = row.end_reason ? row.end_reason : ended ? "expired" : NULL;
        int64_t ended_at = row.ended_at_ms ? row.ended_at_ms : ended ? row.until_ms : 0;
        *out = json_pack("{s:s, s:i, s:s, s:o, s:s, s:o, s:o, s:s?, s:I, s:I, s:I, s:o}", "owner",
                         owner, "version", version, "status", ended ? "ended" : "running",
                         "started_at", iso_json(row.started_at_ms), "started_by", row.started_by,
                         "until", iso_json(row.until_ms), "ended_at", iso_json(ended_at),
                         "end_reason", reason, "evaluated", (json_int_t)evaluated, "differing",
                         (json_int_t)differing, "failed", (json_int_t)failed, "examples", examples);
        examples = NULL;
        rc = *out ? 0 : err_set(why, -ERR_NOMEM, "out of memory");
    }
    json_decref(examples);
    free((char *)row.started_by);
    free((char *)row.end_reason);
    return rc;
}

/* --- live evaluations ------------------------------------------------------ */

static bool covers(const struct run *run, const char *region, const char *office)
{
    if (!strcmp(run->owner, "hq"))
        return true;
    if (!strncmp(run->owner, "region/", 7))
        return region && !strcmp(run->owner + 7, region);
    return office && !strcmp(run->owner + 7, office);
}

static const char *const summary_fields[] = {"score", "temperature", "maturity", "recommendation",
                                             NULL};

static json_t *summary_of(const json_t *ev)
{
    json_t *o = json_object();
    for (const char *const *f = summary_fields; *f; f++)
        json_object_set(o, *f, json_object_get(ev, *f));
    return o;
}

static json_t *shadow_one(struct rules *r, struct run *run, const json_t *lead, const json_t *live)
{
    struct rules_version *hq = run->v->layer == RULES_HQ ? run->v : rules_hq(r);
    struct rules_version *over = run->v->layer == RULES_HQ ? NULL : run->v;
    json_t *ev = NULL, *res;
    struct err_detail why = {0};
    rules_version_ref(hq);
    int rc = rules__evaluate(r, hq, over, lead, &ev, &why);
    rules_version_unref(hq);
    if (rc)
        return json_pack("{s:I, s:b, s:o, s:n, s:n}", "shadow", (json_int_t)run->id, "differs", 0,
                         "error", utf8_json(why.msg), "summary", "active");
    json_t *mine = summary_of(ev), *theirs = summary_of(live);
    bool differs = !json_equal(mine, theirs);
    res = json_pack("{s:I, s:b, s:n, s:o, s:o}", "shadow", (json_int_t)run->id, "differs", differs,
                    "error", "summary", mine, "active", differs ? theirs : json_null());
    if (!differs)
        json_decref(theirs);
    json_decref(ev);
    return res;
}

json_t *rules_shadow_evaluate(struct rules *r, const json_t *lead, const json_t *evaluation)
{
    struct rules__shadows *s = rules__shadows(r);
    if (!s || !s->n)
        return NULL;
    expire(s, now_of(s));
    const char *office = json_string_value(json_object_get(lead, "office"));
    struct rules_version *hq = rules_hq(r);
    const char *region = hq && office ? org_region_of(hq->org, office) : NULL;
    json_t *out = NULL;
    for (size_t i = 0; i < s->n; i++) {
        if (!covers(&s->runs[i], region, office))
            continue;
        json_t *one = shadow_one(r, &s->runs[i], lead, evaluation);
        if (!out)
            out = json_array();
        if (one)
            json_array_append_new(out, one);
    }
    return out;
}

int rules_shadow_record(struct rules *r, const json_t *results, int64_t instance_id, int64_t at_ms,
                        struct err_detail *why)
{
    struct store *st = rules__store(r);
    size_t i;
    json_t *res;
    json_array_foreach(results, i, res)
    {
        const json_t *sum = json_object_get(res, "summary"), *act = json_object_get(res, "active");
        char *summary = json_is_object(sum) ? json_dumps(sum, JSON_COMPACT) : NULL;
        char *active = json_is_object(act) ? json_dumps(act, JSON_COMPACT) : NULL;
        struct store_shadow_result row = {
            .shadow_id = json_integer_value(json_object_get(res, "shadow")),
            .instance_id = instance_id,
            .at_ms = at_ms,
            .differs = json_is_true(json_object_get(res, "differs")),
            .error = json_string_value(json_object_get(res, "error")),
            .summary = summary,
            .active = active,
        };
        struct err_detail w = {0};
        int rc = store_shadow_result_insert(st, &row, &w);
        free(summary);
        free(active);
        if (rc && !store_in_transaction(st))
            return err_set(why, rc, "%s", w.msg);
        if (rc)
            log_warn("rules: a shadow result of instance %lld is not recorded: %s",
                     (long long)instance_id, w.msg);
    }
    return 0;
}
