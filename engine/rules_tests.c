/* engine/rules_tests.c: tests.lua and HQ's samples run against a version
 * (rules_tests.h), ltcd --check-rules over a tree, and bundles tested offline
 * for ltcctl rules test. Evaluation is rules__evaluate's, as for live leads. */
#include "rules_tests.h"

#include <fcntl.h>
#include <stdarg.h>
#include <limits.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "lead.h"
#include "rules_internal.h"

#define FAILURE_MAX 400 /* bytes of one test's failure text */

static const char *const test_keys[] = {"name", "lead",     "expect", "candidates",
                                        "card", "instance", "from",   NULL};
#define TEST_CANDIDATES_MAX 100 /* candidates of one assignment test */

/* The values each expectation may take (score_* are numbers). */
static const struct {
    const char *key, *const *values, *text;
} expect_words[] = {
    {"maturity", (const char *const[]){"mature", "early", NULL}, "mature or early"},
    {"temperature", (const char *const[]){"hot", "warm", "cold", NULL}, "hot, warm or cold"},
    {"recommendation", (const char *const[]){"close", "convert", "nurture", NULL},
     "close, convert or nurture"},
};
#define EXPECT_KEYS                                                                                \
    "maturity, temperature, recommendation, score_min, score_max, priority_min, priority_max, "    \
    "owner"

int rules__tests_wall_ms = RULES_TESTS_WALL_MS;

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Messages of the rules unit begin "OWNER vN: "; outside the daemon, and
 * inside a test's message, that prefix says nothing: skip it. */
static const char *strip_owner(const char *m)
{
    const char *p = m;
    while ((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '/' || *p == '-' ||
           *p == '_')
        p++;
    if (p == m || strncmp(p, " v", 2))
        return m;
    p += 2;
    const char *digits = p;
    while (*p >= '0' && *p <= '9')
        p++;
    return p > digits && !strncmp(p, ": ", 2) ? p + 2 : m;
}

/* Whether the literal at 'at' follows "name =" (spaces allowed). */
static bool after_name_key(const char *src, const char *at)
{
    const char *p = at;
    while (p > src && (p[-1] == ' ' || p[-1] == '\t'))
        p--;
    if (p == src || *--p != '=')
        return false;
    while (p > src && (p[-1] == ' ' || p[-1] == '\t'))
        p--;
    return p - src >= 4 && !memcmp(p - 4, "name", 4);
}

/* The line where the test's name is written as a string literal (after
 * "name =" where it is, else its first mention), 0 when it is not found as
 * written (escapes, long brackets, computed names). memmem keeps the search
 * linear in the source, whatever the name. */
static int line_of(const char *src, size_t len, const char *name)
{
    size_t n = strlen(name);
    char needle[RULES_TEST_NAME_MAX + 3];
    const char *first = NULL, *best = NULL;
    for (const char *q = "\"'"; *q && !best && !strchr(name, '\\'); q++) {
        if (strchr(name, *q)) /* it would be written escaped */
            continue;
        snprintf(needle, sizeof needle, "%c%s%c", *q, name, *q);
        const char *at = memmem(src, len, needle, n + 2);
        for (; at && !best; at = memmem(at + 1, len - (size_t)(at + 1 - src), needle, n + 2)) {
            if (after_name_key(src, at))
                best = at;
            if (!first || at < first)
                first = at;
        }
    }
    const char *at = best ? best : first;
    if (!at)
        return 0;
    int line = 1;
    for (const char *c = src; c < at; c++)
        line += *c == '\n';
    return line;
}

void rules_test_outcome_format(const struct rules_test_outcome *o, char *buf, size_t n)
{
    const char *f = o->failure ? o->failure : "passed";
    char where[256];
    if (o->line)
        snprintf(where, sizeof where, "%s:%d", o->file, o->line);
    else
        snprintf(where, sizeof where, "%s", o->file);
    if (o->sample)
        snprintf(buf, n, "%s: %s: %s", where, o->name, f);
    else if (o->name && o->line)
        snprintf(buf, n, "%s: test \"%s\": %s", where, o->name, f);
    else if (o->name)
        snprintf(buf, n, "%s: test \"%s\" (tests[%d]): %s", where, o->name, o->index, f);
    else if (o->index)
        snprintf(buf, n, "%s: tests[%d]: %s", where, o->index, f);
    else if (!strncmp(f, o->file, strlen(o->file))) /* a Lua error naming the file itself */
        snprintf(buf, n, "%s", f);
    else
        snprintf(buf, n, "%s: %s", where, f);
}

/* --- one version's run --------------------------------------------------- */

struct run {
    struct rules *r;
    struct rules_version *v, *hq, *override;
    struct rules_test_run *out; /* may be NULL */
    struct err_detail *why;
    int rc;        /* the first failure's code */
    int64_t until; /* monotonic deadline of the whole run */
    bool stop;
};

/* Report one outcome; false when the run stops here. */
static bool report(struct run *x, struct rules_test_outcome *o, int code)
{
    if (x->out && x->out->cb)
        x->out->cb(x->out->ctx, o);
    if (o->failure) {
        if (x->out)
            x->out->failed++;
        if (!x->rc) {
            char m[ERR_DETAIL_MAX];
            rules_test_outcome_format(o, m, sizeof m);
            x->rc = err_field(x->why, code, o->sample ? "samples" : "tests.lua", "%s v%d: %s",
                              x->v->owner, x->v->version, m);
        }
        if (!x->out || !x->out->all)
            x->stop = true;
    }
    return !x->stop;
}

/* A lead body evaluated as a lead of its office: HQ's defaults, the office's
 * (the version under test when it is that office), the lead check, then the
 * same evaluation as POST /v1/leads. */
static int evaluate(struct run *x, const json_t *body, json_t **ev, json_t **normalised,
                    struct err_detail *why)
{
    const json_t *office = json_object_get(body, "office");
    if (!json_is_string(office) || !lead_valid_id(json_string_value(office)))
        return err_field(why, -ERR_INVALID_FIELD, "office", "office: expected the ID of an office");
    const char *id = json_string_value(office);
    if (!org_region_of(x->hq->org, id))
        return err_field(why, -ERR_INVALID_FIELD, "office", "office: unknown office '%s'", id);
    char owner[RULES_OWNER_MAX];
    snprintf(owner, sizeof owner, "office/%s", id);
    struct rules_version *ov =
        x->override && !strcmp(x->override->owner, owner) ? x->override : rules_active(x->r, owner);
    json_t *defaults = x->hq->lead_defaults ? json_deep_copy(x->hq->lead_defaults) : json_object();
    if (ov && ov->lead_defaults)
        json_object_update(defaults, ov->lead_defaults);
    json_t *lead = NULL;
    int rc = lead_check((json_t *)body, defaults, &lead, why);
    json_decref(defaults);
    if (!rc)
        rc = rules__check_signals(x->hq, lead, why);
    if (!rc)
        rc = rules__evaluate(x->r, x->hq, x->override, lead, ev, why);
    if (!rc && normalised)
        *normalised = json_incref(lead);
    json_decref(lead);
    return rc;
}

/* Whether a lead of 'office' belongs to the scope of the version under test. */
static bool in_scope(const struct run *x, const char *office)
{
    if (x->v->layer == RULES_HQ)
        return true;
    if (!office)
        return false;
    if (x->v->layer == RULES_OFFICE)
        return !strcmp(office, x->v->owner + 7);
    const char *region = org_region_of(x->hq->org, office);
    return region && !strcmp(region, x->v->owner + 7);
}

/* Add one difference to 'buf' ("; " between them). */
__attribute__((format(printf, 3, 4))) static void append(char *buf, size_t n, const char *fmt, ...)
{
    size_t off = strlen(buf);
    if (off && off + 2 < n) {
        memcpy(buf + off, "; ", 3);
        off += 2;
    }
    va_list ap;
    va_start(ap, fmt);
    if (off < n)
        vsnprintf(buf + off, n - off, fmt, ap);
    va_end(ap);
}

/* What differs between 'expect' (checked) and the evaluation; "" when nothing. */
static void compare(const json_t *expect, const json_t *ev, char *out, size_t n)
{
    out[0] = '\0';
    for (size_t i = 0; i < sizeof expect_words / sizeof *expect_words; i++) {
        const char *want = json_string_value(json_object_get(expect, expect_words[i].key));
        const char *got = json_string_value(json_object_get(ev, expect_words[i].key));
        if (want && (!got || strcmp(want, got)))
            append(out, n, "%s: expected %s, got %s", expect_words[i].key, want,
                   got ? got : "nothing");
    }
    double score = json_number_value(json_object_get(ev, "score"));
    const json_t *lo = json_object_get(expect, "score_min"),
                 *hi = json_object_get(expect, "score_max");
    if (lo && score < json_number_value(lo))
        append(out, n, "score: expected at least %.15g, got %.15g", json_number_value(lo), score);
    if (hi && score > json_number_value(hi))
        append(out, n, "score: expected at most %.15g, got %.15g", json_number_value(hi), score);
}

static bool one_of(const char *const *list, const char *s)
{
    return s && rules__in_list(list, s);
}

/* A name fits in a one-line message. */
static bool valid_name(const char *name)
{
    size_t len = name ? strlen(name) : 0;
    for (size_t c = 0; c < len; c++)
        if ((unsigned char)name[c] < 0x20 || name[c] == 0x7f)
            return false;
    return len > 0 && len <= RULES_TEST_NAME_MAX;
}

/* The shape of one test; "" when it is well-formed. */
static void check_test(const json_t *t, const json_t *list, size_t i, char *out, size_t n)
{
    out[0] = '\0';
    const char *k;
    json_t *x;
    if (!json_is_object(t)) {
        snprintf(out, n, "expected { name = \"...\", lead = { ... }, expect = { ... } }");
        return;
    }
    json_object_foreach((json_t *)t, k, x)
    {
        if (!rules__in_list(test_keys, k)) {
            snprintf(out, n,
                     "unknown key '%.40s' (a test has name, lead, expect, candidates; or name, "
                     "card, expect; or name, instance, expect; or name, instance, from, expect)",
                     k);
            return;
        }
    }
    const char *name = json_string_value(json_object_get(t, "name"));
    if (!valid_name(name)) {
        snprintf(out, n, "name: expected one line of text, 1 to %d bytes", RULES_TEST_NAME_MAX);
        return;
    }
    for (size_t j = 0; j < i; j++) {
        const char *other = json_string_value(json_object_get(json_array_get(list, j), "name"));
        if (other && !strcmp(other, name)) {
            snprintf(out, n, "name: also the name of tests[%zu]; names must be unique", j + 1);
            return;
        }
    }
    const json_t *inst = json_object_get(t, "instance");
    if (inst) { /* a forecast test, or a migration test with from */
        const json_t *e = rules__as_object(json_object_get(t, "expect"));
        const json_t *p = json_object_get(e, "probability"), *c = json_object_get(e, "category"),
                     *mg = json_object_get(e, "migrate"), *from = json_object_get(t, "from");
        bool shape = json_is_object(rules__as_object(inst)) && !json_object_get(t, "lead") &&
                     !json_object_get(t, "card") && !json_object_get(t, "candidates") &&
                     json_is_object(e);
        if (shape &&
            from) /* { name, instance, from = V, expect = { migrate = true | "reason" } } */
            shape = json_is_integer(from) && json_integer_value(from) > 0 &&
                    json_object_size(e) == 1 && (json_is_true(mg) || json_is_string(mg));
        else if (shape) /* { name, instance, expect = { probability = N, category = "..." } } */
            shape = !mg && (p || c) && (!p || json_is_integer(p)) && (!c || json_is_string(c)) &&
                    json_object_size(e) == (size_t)(!!p + !!c);
        if (!shape)
            snprintf(out, n,
                     "instance: expected { name, instance = { stage, gates, ... }, expect = { "
                     "probability = N, category = \"...\" } } or { name, instance, from = V, "
                     "expect = { migrate = true or \"reason\" } }");
        return;
    }
    const json_t *card = json_object_get(t, "card");
    if (card) { /* a scorecard test: { name, card = { ... }, expect = { points_lost = N } } */
        const json_t *pl =
            json_object_get(rules__as_object(json_object_get(t, "expect")), "points_lost");
        if (!json_is_object(card) || json_object_get(t, "lead") ||
            json_object_get(t, "candidates") || !json_is_integer(pl) ||
            json_object_size(rules__as_object(json_object_get(t, "expect"))) != 1)
            snprintf(out, n,
                     "card: expected { name, card = { visits, visits_min, ... }, expect = "
                     "{ points_lost = N } }");
        return;
    }
    if (!json_is_object(json_object_get(t, "lead"))) {
        snprintf(out, n, "lead: expected a lead body { office = \"...\", customer = ..., ... }");
        return;
    }
    const json_t *cands = json_object_get(t, "candidates");
    size_t ci;
    json_t *c;
    if (cands && (!json_is_array(cands) || json_array_size(cands) > TEST_CANDIDATES_MAX)) {
        snprintf(out, n, "candidates: expected a list of at most %d { id, roles, open_leads }",
                 TEST_CANDIDATES_MAX);
        return;
    }
    json_array_foreach(cands, ci, c)
    {
        if (!json_is_string(json_object_get(c, "id")) ||
            !json_is_integer(json_object_get(c, "open_leads")) ||
            (json_object_get(c, "roles") && !json_is_array(json_object_get(c, "roles")))) {
            snprintf(out, n,
                     "candidates[%zu]: expected { id = \"...\", roles = { ... }, "
                     "open_leads = N }",
                     ci + 1);
            return;
        }
    }
    const json_t *e = json_object_get(t, "expect");
    if (!e)
        return;
    e = rules__as_object(e);
    if (!json_is_object(e)) {
        snprintf(out, n, "expect: expected a table of " EXPECT_KEYS);
        return;
    }
    json_object_foreach((json_t *)e, k, x)
    {
        bool known = false;
        for (size_t w = 0; w < sizeof expect_words / sizeof *expect_words; w++)
            if (!strcmp(k, expect_words[w].key)) {
                known = true;
                if (!one_of(expect_words[w].values, json_string_value(x))) {
                    snprintf(out, n, "expect.%s: expected %s", k, expect_words[w].text);
                    return;
                }
            }
        if (!strcmp(k, "priority_min") || !strcmp(k, "priority_max")) {
            known = true;
            if (!json_is_number(x)) {
                snprintf(out, n, "expect.%s: expected a number", k);
                return;
            }
        }
        if (!strcmp(k, "owner")) {
            known = true;
            if (!json_is_string(x) || !json_is_array(json_object_get(t, "candidates"))) {
                snprintf(out, n, "expect.owner: expected a candidate's id, with candidates");
                return;
            }
        }
        if (!strcmp(k, "score_min") || !strcmp(k, "score_max")) {
            known = true;
            if (!json_is_number(x) || json_number_value(x) < 0 || json_number_value(x) > 100) {
                snprintf(out, n, "expect.%s: expected a number from 0 to 100", k);
                return;
            }
        }
        if (!known) {
            snprintf(out, n, "expect: unknown key '%.40s' (expect takes " EXPECT_KEYS ")", k);
            return;
        }
    }
    const json_t *lo = json_object_get(e, "score_min"), *hi = json_object_get(e, "score_max");
    if (lo && hi && json_number_value(lo) > json_number_value(hi))
        snprintf(out, n, "expect: score_min %.15g is above score_max %.15g", json_number_value(lo),
                 json_number_value(hi));
}

/* Evaluate one test or sample and report it; false when the run stops. */
/* Lead management expectations: HQ's priority of the lead, and the owner
 * the region's assignment.lua (or HQ's default) picks from 'candidates'. */
static int compare_leads(struct run *x, const json_t *lead, const json_t *ev,
                         const json_t *candidates, const json_t *expect, char *out, size_t n,
                         struct err_detail *why)
{
    const json_t *lo = json_object_get(expect, "priority_min"),
                 *hi = json_object_get(expect, "priority_max"),
                 *owner = json_object_get(expect, "owner");
    int rc = 0;
    if (lo || hi) {
        double p = 0;
        rc = rules__priority(x->hq, lead, ev, &p, why);
        if (rc)
            return rc;
        if (lo && p < json_number_value(lo))
            append(out, n, "priority: expected at least %.15g, got %.15g", json_number_value(lo),
                   p);
        if (hi && p > json_number_value(hi))
            append(out, n, "priority: expected at most %.15g, got %.15g", json_number_value(hi), p);
    }
    if (!candidates)
        return 0;
    const char *region =
        org_region_of(x->hq->org, json_string_value(json_object_get(lead, "office")));
    char rowner[RULES_OWNER_MAX];
    snprintf(rowner, sizeof rowner, "region/%s", region ? region : "");
    struct rules_version *rv = x->override && !strcmp(x->override->owner, rowner)
                                   ? x->override
                                   : rules_active(x->r, rowner);
    json_t *l = json_deep_copy(lead), *pick = NULL;
    json_object_set_new(l, "region", json_string(region ? region : ""));
    rc = rules__assign(rv, l, candidates, &pick, why);
    json_decref(l);
    const char *got = json_string_value(json_object_get(pick, "owner"));
    if (!rc && owner && (!got || strcmp(got, json_string_value(owner))))
        append(out, n, "owner: expected %s, got %s", json_string_value(owner), got ? got : "none");
    json_decref(pick);
    return rc;
}

static bool run_one(struct run *x, struct rules_test_outcome *o, const json_t *lead,
                    const json_t *expect, const json_t *candidates)
{
    if (mono_ms() > x->until) {
        char m[120];
        snprintf(m, sizeof m, "the tests and samples ran for more than %d ms; the rest did not run",
                 rules__tests_wall_ms);
        struct rules_test_outcome f = {.owner = o->owner, .file = o->file, .failure = m};
        report(x, &f, -ERR_RULE_BUDGET);
        x->stop = true;
        return false;
    }
    struct err_detail w = {0};
    json_t *ev = NULL, *norm = NULL;
    char failure[FAILURE_MAX] = "";
    int code = -ERR_RULE_REJECTED;
    const char *office = json_string_value(json_object_get(lead, "office"));
    int rc = 0;
    if (!in_scope(x, office)) {
        snprintf(failure, sizeof failure, "lead.office: '%.63s' is not an office of %s",
                 office ? office : "(none)", x->v->owner);
    } else if ((rc = evaluate(x, lead, &ev, &norm, &w))) {
        /* A lead that is not a valid lead is the test's fault (422), a rule's
         * error keeps its code. */
        bool bad_lead = rc == -ERR_INVALID_FIELD || rc == -ERR_INVALID_JSON;
        code = bad_lead ? -ERR_RULE_REJECTED : rc;
        snprintf(failure, sizeof failure, "%s%s", bad_lead ? "lead: " : "", strip_owner(w.msg));
    } else if (expect || candidates) {
        const json_t *e = expect ? rules__as_object(expect) : NULL;
        if (e)
            compare(e, ev, failure, sizeof failure);
        if ((rc = compare_leads(x, norm, ev, candidates, e, failure, sizeof failure, &w))) {
            code = rc;
            snprintf(failure, sizeof failure, "%s", strip_owner(w.msg));
        }
    }
    json_decref(norm);
    o->evaluation = ev;
    o->failure = failure[0] ? failure : NULL;
    bool go_on = report(x, o, code);
    json_decref(ev);
    return go_on;
}

/* A scorecard test: HQ's scorecard.lua points_lost(card) against 'want'. */
static bool run_card(struct run *x, struct rules_test_outcome *o, const json_t *card,
                     const json_t *want)
{
    struct err_detail w = {0};
    char failure[FAILURE_MAX] = "";
    json_int_t got = 0;
    int code = -ERR_RULE_REJECTED;
    int rc = rules__points_lost(x->hq, card, &got, &w);
    if (rc) {
        code = rc;
        snprintf(failure, sizeof failure, "%s", strip_owner(w.msg));
    } else if (got != json_integer_value(want)) {
        snprintf(failure, sizeof failure, "points_lost: expected %lld, got %lld",
                 (long long)json_integer_value(want), (long long)got);
    }
    o->failure = failure[0] ? failure : NULL;
    return report(x, o, code);
}

/* A forecast test: HQ's forecast.lua with the region's stage probabilities
 * (the version under test when it is a region's, else the instance region's
 * active one); a migration test: HQ's process.lua migrate. */
static bool run_instance(struct run *x, struct rules_test_outcome *o, const json_t *t)
{
    struct err_detail w = {0};
    char failure[FAILURE_MAX] = "";
    int code = -ERR_RULE_REJECTED, rc;
    const json_t *inst = rules__as_object(json_object_get(t, "instance"));
    const json_t *e = rules__as_object(json_object_get(t, "expect"));
    const json_t *from = json_object_get(t, "from");
    if (from) {
        json_t *f = json_integer(json_integer_value(from)), *res = NULL;
        json_t *args[2] = {(json_t *)inst, f};
        const json_t *want = json_object_get(e, "migrate");
        rc = sandbox_kind(x->hq->sb, "process.lua", "migrate") == SANDBOX_FUNCTION
                 ? sandbox_call(x->hq->sb, "process.lua", "migrate", args, 2, &res, &w)
                 : err_set(&w, -ERR_RULE_REJECTED, "process.lua has no migrate function");
        if (rc) {
            code = rc;
            snprintf(failure, sizeof failure, "%s", strip_owner(w.msg));
        } else if (json_is_true(want) && !json_is_true(res))
            snprintf(failure, sizeof failure, "migrate: expected true, got %.200s",
                     json_is_string(res) ? json_string_value(res) : "another value");
        else if (json_is_string(want) &&
                 (!json_is_string(res) || !strstr(json_string_value(res), json_string_value(want))))
            snprintf(failure, sizeof failure,
                     "migrate: expected a reason with \"%.100s\", got %.100s",
                     json_string_value(want),
                     json_is_string(res) ? json_string_value(res) : "no reason");
        json_decref(f);
        json_decref(res);
    } else {
        const char *region = json_string_value(json_object_get(inst, "region"));
        struct rules_version *rv =
            x->override && x->override->layer == RULES_REGION ? x->override : NULL;
        if (!rv && region) {
            char owner[RULES_OWNER_MAX];
            snprintf(owner, sizeof owner, "region/%s", region);
            rv = rules_active(x->r, owner);
        }
        struct rules_forecast f;
        rc = rules__forecast_with(x->hq, rv, inst, &f, &w);
        const json_t *p = json_object_get(e, "probability"), *c = json_object_get(e, "category");
        if (rc) {
            code = rc;
            snprintf(failure, sizeof failure, "%s", strip_owner(w.msg));
        } else if (p && json_integer_value(p) != f.probability)
            snprintf(failure, sizeof failure, "probability: expected %lld, got %d",
                     (long long)json_integer_value(p), f.probability);
        else if (c && strcmp(json_string_value(c), f.category))
            snprintf(failure, sizeof failure, "category: expected %.40s, got %s",
                     json_string_value(c), f.category);
    }
    o->failure = failure[0] ? failure : NULL;
    return report(x, o, code);
}

static void run_tests_file(struct run *x, struct rules_test_run *out)
{
    char file[160];
    rules__owner_dir(x->v->owner, file, sizeof file);
    snprintf(file + strlen(file), sizeof file - strlen(file), "tests.lua");
    struct rules_test_outcome fo = {.owner = x->v->owner, .file = file};
    json_t *list = NULL;
    struct err_detail w = {0};
    int rc = sandbox_call(x->v->sb, "tests.lua", NULL, NULL, 0, &list, &w);
    char m[FAILURE_MAX];
    if (rc) {
        fo.failure = strip_owner(w.msg);
        report(x, &fo, rc);
    } else if (!json_is_array(list)) {
        fo.failure = "must return a list of tests { name = \"...\", lead = { ... }, expect = { ... "
                     "} }";
        report(x, &fo, -ERR_RULE_REJECTED);
    } else if (json_array_size(list) > RULES_TESTS_MAX) {
        snprintf(m, sizeof m, "%zu tests, more than the %d a file may hold", json_array_size(list),
                 RULES_TESTS_MAX);
        fo.failure = m;
        report(x, &fo, -ERR_RULE_REJECTED);
    } else {
        const json_t *src = json_object_get(x->v->files, "tests.lua");
        size_t i;
        json_t *t;
        json_array_foreach(list, i, t)
        {
            struct rules_test_outcome o = {.owner = x->v->owner, .file = file, .index = (int)i + 1};
            if (out)
                out->tests++;
            check_test(t, list, i, m, sizeof m);
            const char *name = json_string_value(json_object_get(t, "name"));
            if (valid_name(name)) {
                o.name = name;
                o.line = line_of(json_string_value(src), json_string_length(src), name);
            }
            if (m[0]) {
                o.failure = m;
                if (!report(x, &o, -ERR_RULE_REJECTED))
                    break;
            } else if (json_object_get(t, "instance")) {
                if (!run_instance(x, &o, t))
                    break;
            } else if (json_object_get(t, "card")) {
                if (!run_card(x, &o, json_object_get(t, "card"),
                              json_object_get(json_object_get(t, "expect"), "points_lost")))
                    break;
            } else if (!run_one(x, &o, json_object_get(t, "lead"), json_object_get(t, "expect"),
                                json_object_get(t, "candidates"))) {
                break;
            }
        }
    }
    json_decref(list);
}

int rules__run_tests(struct rules *r, struct rules_version *v, struct rules_test_run *out,
                     struct err_detail *why)
{
    struct run x = {
        .r = r,
        .v = v,
        .hq = v->layer == RULES_HQ ? v : rules_hq(r),
        .override = v->layer == RULES_HQ ? NULL : v,
        .out = out,
        .why = why,
        .until = mono_ms() + rules__tests_wall_ms,
    };
    if (!x.hq)
        return 0;
    if (sandbox_kind(v->sb, "tests.lua", NULL) != SANDBOX_NONE)
        run_tests_file(&x, out);
    json_t *samples = NULL;
    if (!x.stop && sandbox_kind(x.hq->sb, "lead.lua", "samples") == SANDBOX_TABLE &&
        !sandbox_call(x.hq->sb, "lead.lua", "samples", NULL, 0, &samples, NULL)) {
        size_t i;
        json_t *s;
        json_array_foreach(samples, i, s)
        {
            if (!in_scope(&x, json_string_value(json_object_get(s, "office"))))
                continue;
            char name[32];
            snprintf(name, sizeof name, "samples[%zu]", i + 1);
            struct rules_test_outcome o = {.owner = v->owner,
                                           .file = "hq/lead.lua",
                                           .name = name,
                                           .index = (int)i + 1,
                                           .sample = true};
            if (out)
                out->samples++;
            if (!run_one(&x, &o, s, NULL, NULL))
                break;
        }
    }
    json_decref(samples);
    return x.rc;
}

/* --- bundles in memory: --check-rules and ltcctl rules test --------------- */

struct rules_offline {
    struct rules *mem;               /* owned */
    struct rules_version **versions; /* owned, one reference each, in the order added */
    bool *tested;
    size_t n;
    rules_offline_error_cb *on_error;
    void *ctx;
    int owners, files;
    bool skip_hq; /* while adding a tree after an HQ was given */
};

static void offline_error(void *ctx, const struct err_detail *e)
{
    struct rules_offline *o = ctx;
    if (o->on_error)
        o->on_error(o->ctx, strip_owner(e->msg));
}

int rules_offline_new(rules_offline_error_cb *on_error, void *ctx, struct rules_offline **out)
{
    if (sodium_init() < 0)
        return -ERR_INTERNAL;
    struct rules_offline *o = calloc(1, sizeof *o);
    if (!o || !(o->mem = rules__memory_new())) {
        free(o);
        return -ERR_NOMEM;
    }
    o->on_error = on_error;
    o->ctx = ctx;
    *out = o;
    return 0;
}

void rules_offline_free(struct rules_offline *o)
{
    if (!o)
        return;
    for (size_t i = 0; i < o->n; i++)
        rules_version_unref(o->versions[i]);
    free(o->versions);
    free(o->tested);
    rules_close(o->mem);
    free(o);
}

bool rules_offline_has_hq(const struct rules_offline *o)
{
    return rules_hq(o->mem) != NULL;
}

__attribute__((format(printf, 3, 4))) static int offline_fail(struct rules_offline *o, int code,
                                                              const char *fmt, ...)
{
    char m[ERR_DETAIL_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(m, sizeof m, fmt, ap);
    va_end(ap);
    struct err_detail e = {0};
    err_set(&e, code, "%s", m);
    offline_error(o, &e);
    return code;
}

int rules_offline_add(struct rules_offline *o, const char *owner, const json_t *files, bool tested)
{
    enum rules_layer layer;
    if (rules_owner_layer(owner, &layer))
        return offline_fail(o, -ERR_USAGE, "%s: not hq, region/ID or office/ID", owner);
    struct rules__diag d = {.report = offline_error, .ctx = o};
    struct err_detail why = {0};
    struct rules_version *v = NULL;
    o->owners++;
    o->files += (int)json_object_size(files);
    int rc = rules__compile_diag(owner, layer, 0, files, rules_hq(o->mem), &d, &v, &why);
    if (rc)
        return rc;
    struct rules_version **vs = realloc(o->versions, (o->n + 1) * sizeof *vs);
    bool *ts = vs ? realloc(o->tested, (o->n + 1) * sizeof *ts) : NULL;
    if (vs)
        o->versions = vs;
    if (!vs || !ts) {
        rules_version_unref(v);
        return offline_fail(o, -ERR_NOMEM, "out of memory");
    }
    o->tested = ts;
    o->versions[o->n] = v; /* the list's reference */
    o->tested[o->n++] = tested;
    rules__memory_put(o->mem, v);
    return 0;
}

struct tree_ctx {
    struct rules_offline *o;
    bool tested;
    int rc;
};

static void add_visited(const char *owner, const char *path, int dirfd, const char *problem,
                        void *ctx)
{
    struct tree_ctx *t = ctx;
    struct err_detail why = {0};
    enum rules_layer layer;
    json_t *files = NULL;
    int rc;
    if (owner && !strcmp(owner, "hq") && t->o->skip_hq)
        return;
    if (!owner || rules_owner_layer(owner, &layer))
        rc = err_set(&why, -ERR_RULE_REJECTED, "%s: %s", path,
                     problem ? problem : "bad directory name");
    else if (problem)
        rc = err_set(&why, -ERR_RULE_REJECTED, "%s: %s", path, problem);
    else
        rc = rules__tree_read(dirfd, owner, 0, &files, NULL, 0, &why);
    if (rc)
        offline_error(t->o, &why);
    else
        rc = rules_offline_add(t->o, owner, files, t->tested);
    json_decref(files);
    t->rc = t->rc ? t->rc : rc;
}

static bool has_subdir(int fd, const char *name)
{
    struct stat sb;
    return !fstatat(fd, name, &sb, AT_SYMLINK_NOFOLLOW) && S_ISDIR(sb.st_mode);
}

/* The owner an owner's directory stands for, from its path. */
static int owner_of_path(const char *dir, char *owner, size_t n)
{
    char real[PATH_MAX];
    if (!realpath(dir, real))
        return -1;
    char *base = strrchr(real, '/');
    if (!base || !base[1])
        return -1;
    *base++ = '\0';
    const char *parent = strrchr(real, '/');
    parent = parent ? parent + 1 : real;
    if (!strcmp(base, "hq"))
        snprintf(owner, n, "hq");
    else if (!strcmp(parent, "regions") && lead_valid_id(base))
        snprintf(owner, n, "region/%s", base);
    else if (!strcmp(parent, "offices") && lead_valid_id(base))
        snprintf(owner, n, "office/%s", base);
    else
        return -1;
    return 0;
}

int rules_offline_add_dir(struct rules_offline *o, const char *dir, const char *owner, bool tested)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return offline_fail(o, -ERR_IO, "%s: cannot open the directory", dir);
    struct err_detail why = {0};
    char who[RULES_OWNER_MAX];
    if (!owner &&
        (has_subdir(fd, "hq") || has_subdir(fd, "regions") || has_subdir(fd, "offices"))) {
        close(fd);
        struct tree_ctx t = {.o = o, .tested = tested};
        o->skip_hq = rules_offline_has_hq(o);
        int rc = rules__tree_visit(dir, add_visited, &t, &why);
        o->skip_hq = false;
        if (rc) {
            offline_error(o, &why);
            return rc;
        }
        return t.rc;
    }
    if (!owner && owner_of_path(dir, who, sizeof who)) {
        close(fd);
        return offline_fail(o, -ERR_USAGE,
                            "%s: neither a rules tree (with hq/, regions/ or offices/) nor an "
                            "owner's directory (.../hq, .../regions/ID, .../offices/ID)",
                            dir);
    }
    if (owner)
        snprintf(who, sizeof who, "%s", owner);
    json_t *files = NULL;
    int rc = rules__tree_read(fd, who, 0, &files, NULL, 0, &why);
    close(fd);
    if (rc)
        offline_error(o, &why);
    else
        rc = rules_offline_add(o, who, files, tested);
    json_decref(files);
    return rc;
}

void rules_offline_test(struct rules_offline *o, struct rules_test_run *run)
{
    for (size_t i = 0; i < o->n; i++) {
        struct err_detail why = {0};
        if (o->tested[i])
            rules__run_tests(o->mem, o->versions[i], run, &why);
    }
}

int rules_offline_evaluate(struct rules_offline *o, const json_t *body, json_t **evaluation,
                           struct err_detail *why)
{
    if (!rules_offline_has_hq(o))
        return err_set(why, -ERR_RULE_REJECTED, "no HQ rules to evaluate with");
    json_t *lead = NULL;
    const char *region = NULL;
    int rc = rules_evaluate_lead(o->mem, body, &lead, evaluation, &region, why);
    json_decref(lead);
    return rc;
}

/* --- ltcd --check-rules --------------------------------------------------- */

struct check {
    FILE *err;
    int errors;
};

static void check_error(void *ctx, const char *msg)
{
    struct check *c = ctx;
    fprintf(c->err, "%s\n", msg);
    c->errors++;
}

static void check_outcome(void *ctx, const struct rules_test_outcome *o)
{
    if (!o->failure)
        return;
    char m[ERR_DETAIL_MAX];
    rules_test_outcome_format(o, m, sizeof m);
    check_error(ctx, m);
}

int rules_check_tree_to(const char *dir, FILE *out, FILE *err)
{
    struct check c = {.err = err};
    struct rules_offline *o = NULL;
    if (rules_offline_new(check_error, &c, &o)) {
        fprintf(err, "out of memory\n");
        return 1;
    }
    struct err_detail why = {0};
    struct tree_ctx t = {.o = o, .tested = true};
    if (rules__tree_visit(dir, add_visited, &t, &why))
        check_error(&c, why.msg);
    else if (!rules_offline_has_hq(o) && !c.errors) {
        fprintf(err, "%s/hq: no HQ rules\n", dir);
        c.errors++;
    }
    struct rules_test_run run = {.cb = check_outcome, .ctx = &c, .all = true};
    rules_offline_test(o, &run);
    if (!c.errors)
        fprintf(out, "ok: %d owners, %d files, %d tests\n", o->owners, o->files, run.tests);
    rules_offline_free(o);
    return c.errors ? 1 : 0;
}

int rules_check_tree(const char *dir)
{
    return rules_check_tree_to(dir, stdout, stderr);
}
