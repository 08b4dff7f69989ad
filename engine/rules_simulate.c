/* engine/rules_simulate.c: what-if evaluation of stored leads under a
 * candidate version against the active rules. Reads only. */
#include <limits.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <uv.h>

#include "json_read.h"
#include "rules_internal.h"
#include "utf8.h"

#define SIM_LIST_MAX 100 /* entries of each list (changed, failed, routing); all are counted */
#define SIM_PAGE     500

/* A capped list with the count of everything that belongs in it. */
struct sim_list {
    json_t *items; /* owned */
    json_int_t total;
};

/* The rules one evaluating thread works with: a registry of its own (the
 * Lua states of a registry belong to one thread), and in it the versions
 * compared. */
struct sim_side {
    struct rules *r;
    struct rules_version *hq_active, *hq_candidate; /* the same unless owner is hq */
    struct rules_version *candidate;                /* owned: compiled for this side */
    struct rules_version *active;                   /* the owner's active, may be NULL */
};

/* One lead of a page: read and filtered by the reading thread, evaluated by
 * one of the sides, then folded into the result in id order. */
struct sim_item {
    int64_t id;
    char office[64], stage[64]; /* ids: at most 63 bytes (lead_valid_id) */
    json_t *doc;                /* owned: the fields read (created_at, the lead's, gates, ...) */
    json_t *before, *after;     /* owned: evaluations, NULL when they failed */
    int rb, ra;
    struct err_detail wb, wa;
    const char *kdp;           /* the next KDP routed, or NULL */
    json_t *terms[3];          /* borrowed from doc */
    json_t *level_b, *level_a; /* owned: the levels routed to, or NULL */
    bool done;                 /* evaluated (not when the deadline came first) */
};

struct sim {
    struct sim_side side[RULES_SIMULATE_SIDES];
    size_t n_sides;
    const struct rules_simulation *in;
    uint64_t deadline_ns;
    int evaluated;
    bool truncated;
    int64_t last_id;
    json_t *counts;
    struct sim_list changed, failed, routing;
    /* Two pages of SIM_PAGE items: the reading thread reads the next page
     * while the sides evaluate the current one. */
    struct sim_item *pages[2];
    size_t n_pages[2];
    struct sim_item *page; /* the page being read into */
    size_t *n_page;
    size_t pending; /* items read into the page being evaluated */
    /* The page being evaluated: each side takes the next item not taken. */
    struct sim_item *eval;
    size_t n_eval;
    atomic_size_t next;
    /* The second side's thread: 'go' starts it on the page being evaluated,
     * 'done' says it has finished; 'quit' ends it. */
    uv_thread_t helper;
    uv_sem_t go, done;
    bool quit;
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

/* Takes over 'item'. */
static void list_add(struct sim_list *l, json_t *item)
{
    l->total++;
    if (item && json_array_size(l->items) < SIM_LIST_MAX)
        json_array_append_new(l->items, item);
    else
        json_decref(item);
}

/* --- authority routing ----------------------------------------------------
 * An open instance's next key decision is routed, like every decision, on
 * value, discount and margin (process.lua route). Its terms are those of the
 * furthest decision recorded in HQ's KDP order, with the signed contract's
 * value once there is one; an instance without a recorded decision has no
 * terms yet and is not routed. The next KDP is, at stage opportunity, the
 * first of ATI, ATB, ATC not approved; at stage contract, ATCC until it is
 * approved. The names mirror hq/process.lua (ORDER, KDPS). */
static const char *const kdp_order[] = {"ATI", "ATB", "ATC", "ATAC", "ATCC", NULL};

static bool approved(const json_t *gate)
{
    const char *o = json_string_value(json_object_get(gate, "outcome"));
    return o && (!strcmp(o, "approve") || !strcmp(o, "approve_with_conditions"));
}

static const char *next_kdp(const char *stage, const json_t *gates)
{
    if (!strcmp(stage, "opportunity")) {
        for (int i = 0; i < 3; i++)
            if (!approved(json_object_get(gates, kdp_order[i])))
                return kdp_order[i];
        return NULL;
    }
    if (!strcmp(stage, "contract") && !approved(json_object_get(gates, "ATCC")))
        return "ATCC";
    return NULL;
}

/* The level process.lua routes the terms to under an authority matrix (NULL:
 * HQ's defaults), or NULL when it cannot say. A new reference. */
static json_t *route(struct rules_version *hq, const json_t *authority, json_t *const terms[3])
{
    json_t *auth = authority ? json_incref((json_t *)authority) : json_object();
    json_t *args[4] = {auth, terms[0], terms[1], terms[2]}, *level = NULL;
    if (sandbox_call(hq->sb, "process.lua", "route", args, 4, &level, NULL) ||
        !json_is_string(level)) {
        json_decref(level);
        level = NULL;
    }
    json_decref(auth);
    return level;
}

static void routing(struct sim_side *side, struct sim_item *it)
{
    const json_t *gates = json_object_get(it->doc, "gates");
    const char *kdp = next_kdp(it->stage, gates);
    json_t **terms = it->terms;
    for (int i = 0; kdp_order[i]; i++) {
        const json_t *g = json_object_get(gates, kdp_order[i]);
        if (json_is_integer(json_object_get(g, "value")) &&
            json_is_number(json_object_get(g, "discount")) &&
            json_is_number(json_object_get(g, "margin"))) {
            terms[0] = json_object_get(g, "value");
            terms[1] = json_object_get(g, "discount");
            terms[2] = json_object_get(g, "margin");
        }
    }
    const json_t *signed_value = json_object_get(json_object_get(it->doc, "contract"), "value");
    if (terms[0] && json_is_integer(signed_value))
        terms[0] = (json_t *)signed_value;
    if (!kdp || !terms[0])
        return;
    it->kdp = kdp;
    /* The instance's pinned HQ version routes its decisions. */
    json_int_t pin = json_integer_value(json_object_get(json_object_get(it->doc, "rules"), "hq"));
    struct rules_version *hq = NULL;
    if (pin <= 0 || pin > INT_MAX || rules_hq_version(side->r, (int)pin, &hq, NULL)) {
        hq = side->hq_active;
        rules_version_ref(hq);
    }
    it->level_b = route(hq, side->active ? side->active->authority : NULL, terms);
    it->level_a = route(hq, side->candidate->authority, terms);
    rules_version_unref(hq);
}

/* --- evaluation ------------------------------------------------------------ */

/* What the evaluating side does with one lead: everything that calls rules. */
static void evaluate(struct sim_side *side, struct sim_item *it)
{
    json_t *lead = rules_instance_lead(it->doc);
    struct rules_version *over = side->candidate->layer == RULES_HQ ? NULL : side->candidate;
    it->rb = rules__evaluate(side->r, side->hq_active, NULL, lead, &it->before, &it->wb);
    it->ra = rules__evaluate(side->r, side->hq_candidate, over, lead, &it->after, &it->wa);
    bool open = !strcmp(it->stage, "opportunity") || !strcmp(it->stage, "contract");
    if (open && side->candidate->layer == RULES_REGION)
        routing(side, it);
    json_decref(lead);
}

static void item_deinit(struct sim_item *it)
{
    json_decref(it->doc);
    json_decref(it->before);
    json_decref(it->after);
    json_decref(it->level_b);
    json_decref(it->level_a);
    memset(it, 0, sizeof *it);
}

static const char *const eval_fields[] = {"score", "temperature", "maturity", "recommendation",
                                          NULL};

static json_t *fields_of(const json_t *ev)
{
    json_t *o = json_object();
    for (const char *const *f = eval_fields; *f; f++)
        json_object_set(o, *f, json_object_get(ev, *f));
    return o;
}

static json_t *failure(const struct sim_item *it, const char *msg,
                       const struct rules_version *candidate)
{
    struct rules__site site;
    rules__site_parse(msg, &site);
    return json_pack("{s:I, s:s, s:o, s:s, s:i, s:s?, s:o}", "instance", (json_int_t)it->id,
                     "office", it->office, "error", utf8_json(site.text), "owner",
                     site.owner[0] ? site.owner : candidate->owner, "version",
                     site.version ? site.version : candidate->version, "file",
                     site.file[0] ? site.file : NULL, "line",
                     site.line ? json_integer(site.line) : json_null());
}

/* The evaluation fields that differ, as { instance, office, before, after },
 * or NULL when none does. Counts the changes of the named outcomes. */
static json_t *change(struct sim *s, const struct sim_item *it, const json_t *before,
                      const json_t *after)
{
    json_t *b = json_object(), *a = json_object();
    for (const char *const *f = eval_fields; *f; f++) {
        const json_t *x = json_object_get(before, *f), *y = json_object_get(after, *f);
        if ((!x && !y) || json_equal((json_t *)x, (json_t *)y))
            continue;
        json_object_set(b, *f, (json_t *)x);
        json_object_set(a, *f, (json_t *)y);
        if (strcmp(*f, "score"))
            count(s->counts, *f, s_of(before, *f), s_of(after, *f));
    }
    if (!json_object_size(a)) {
        json_decref(a);
        json_decref(b);
        return NULL;
    }
    return json_pack("{s:I, s:s, s:o, s:o}", "instance", (json_int_t)it->id, "office", it->office,
                     "before", b, "after", a);
}

/* Fold one evaluated lead into the result; in id order, on the reading thread. */
static void fold(struct sim *s, const struct sim_item *it)
{
    const struct rules_version *candidate = s->side[0].candidate;
    s->evaluated++;
    if (it->ra) /* the candidate fails for this lead, whatever the active rules do */
        list_add(&s->failed, failure(it, it->wa.msg, candidate));
    else if (it->rb) /* the candidate evaluates a lead the active rules fail on */
        list_add(&s->changed, json_pack("{s:I, s:s, s:{s:o}, s:o}", "instance", (json_int_t)it->id,
                                        "office", it->office, "before", "error",
                                        utf8_json(it->wb.msg), "after", fields_of(it->after)));
    else {
        json_t *c = change(s, it, it->before, it->after);
        if (c)
            list_add(&s->changed, c);
    }
    if (it->level_b && it->level_a && !json_equal(it->level_b, it->level_a))
        list_add(&s->routing,
                 json_pack("{s:I, s:s, s:s, s:s, s:O, s:O, s:O, s:O, s:O}", "instance",
                           (json_int_t)it->id, "office", it->office, "stage", it->stage, "kdp",
                           it->kdp, "value", it->terms[0], "discount", it->terms[1], "margin",
                           it->terms[2], "before", it->level_b, "after", it->level_a));
}

/* What the simulation reads of a document besides its lead. */
static const char *const doc_fields[] = {"created_at", "gates", "contract", "rules", NULL};

/* The reading thread: a row of the page, kept when it is in the dates asked
 * for, until the limit or the deadline. */
static int on_row(const struct store_instance_row *row, void *ctx)
{
    struct sim *s = ctx;
    s->last_id = row->id;
    if (mono_ns() > s->deadline_ns ||
        s->evaluated + (int)(s->pending + *s->n_page) >= s->in->limit) {
        s->truncated = true;
        return 1;
    }
    json_t *doc = json_read_str(row->doc, 0);
    const char *created = s_of(doc, "created_at");
    if (!doc || (s->in->from && strncmp(created, s->in->from, 10) < 0) ||
        (s->in->to && strncmp(created, s->in->to, 10) >= 0)) {
        json_decref(doc);
        return 0;
    }
    struct sim_item *it = &s->page[(*s->n_page)++];
    it->id = row->id;
    snprintf(it->office, sizeof it->office, "%s", row->office);
    snprintf(it->stage, sizeof it->stage, "%s", row->stage);
    it->doc = doc;
    /* The fields a document lacks read as null: drop them, as a whole
     * document read them as absent. */
    const char *k;
    json_t *v;
    void *tmp;
    json_object_foreach_safe(doc, tmp, k, v) if (json_is_null(v)) json_object_del(doc, k);
    return 0;
}

/* Side k evaluates the next item of the page not taken, and the next, until
 * there is none or the deadline comes. */
static void evaluate_share(struct sim *s, size_t k)
{
    for (size_t i; (i = atomic_fetch_add(&s->next, 1)) < s->n_eval;) {
        if (mono_ns() > s->deadline_ns)
            return;
        evaluate(&s->side[k], &s->eval[i]);
        s->eval[i].done = true;
    }
}

static void helper_main(void *arg)
{
    struct sim *s = arg;
    for (;;) {
        uv_sem_wait(&s->go);
        if (s->quit)
            return;
        evaluate_share(s, 1);
        uv_sem_post(&s->done);
    }
}

/* Start the sides on the page just read: the second at once, on its
 * thread; the reading thread joins in with finish_page. */
static void start_page(struct sim *s, size_t which)
{
    s->eval = s->pages[which];
    s->n_eval = s->pending = s->n_pages[which];
    atomic_store(&s->next, 0);
    if (s->n_sides > 1)
        uv_sem_post(&s->go);
}

/* Evaluate what is left of the page, wait for the other side, then fold it
 * in id order: up to the first lead the deadline left unevaluated, if any. */
static void finish_page(struct sim *s, size_t which)
{
    evaluate_share(s, 0);
    if (s->n_sides > 1)
        uv_sem_wait(&s->done);
    struct sim_item *page = s->pages[which];
    size_t n = s->n_pages[which], i = 0;
    for (; i < n && page[i].done; i++)
        fold(s, &page[i]);
    if (i < n)
        s->truncated = true;
    for (i = 0; i < n; i++)
        item_deinit(&page[i]);
    s->n_pages[which] = s->pending = 0;
}

static int side_open(struct sim_side *side, struct rules *r, const char *owner,
                     enum rules_layer layer, int version, struct err_detail *why)
{
    side->r = r;
    side->hq_active = rules_hq(r);
    struct rules__stored vf;
    int rc = rules__stored_load(r, owner, version, &vf, why);
    if (!rc)
        rc = rules__compile(owner, layer, version, vf.files,
                            layer == RULES_HQ ? NULL : side->hq_active, &side->candidate, why);
    rules__stored_deinit(&vf);
    if (rc)
        return rc;
    side->active = rules_active(r, owner);
    side->hq_candidate = layer == RULES_HQ ? side->candidate : side->hq_active;
    return 0;
}

int rules_simulate_on(struct rules *const *sides, size_t n_sides, const char *owner, int version,
                      const struct rules_simulation *in, json_t **out, struct err_detail *why)
{
    enum rules_layer layer;
    if (rules_owner_layer(owner, &layer))
        return err_set(why, -ERR_NOT_FOUND, "'%s' is not a rule owner", owner);
    if (!n_sides || n_sides > RULES_SIMULATE_SIDES)
        return err_set(why, -ERR_INTERNAL, "simulate: %zu sides", n_sides);
    struct sim s = {.in = in, .n_sides = n_sides};
    int rc = 0;
    for (size_t i = 0; i < n_sides && !rc; i++)
        rc = side_open(&s.side[i], sides[i], owner, layer, version, why);
    for (size_t i = 0; i < 2 && !rc; i++)
        s.pages[i] = calloc(SIM_PAGE, sizeof *s.pages[i]);
    if (!rc && (!s.pages[0] || !s.pages[1]))
        rc = err_set(why, -ERR_NOMEM, "out of memory");
    bool helper = false;
    if (!rc && n_sides > 1) {
        uv_sem_init(&s.go, 0);
        uv_sem_init(&s.done, 0);
        helper = !uv_thread_create(&s.helper, helper_main, &s);
        if (!helper) {
            uv_sem_destroy(&s.go);
            uv_sem_destroy(&s.done);
            s.n_sides = 1; /* no second thread: one side does it all */
        }
    }
    if (!rc) {
        s.deadline_ns = mono_ns() + (uint64_t)in->max_ms * 1000000u;
        s.counts = json_pack("{s:{}, s:{}, s:{}}", "temperature", "maturity", "recommendation");
        s.changed.items = json_array();
        s.failed.items = json_array();
        s.routing.items = json_array();
    }
    struct store_instance_filter f = {.limit = SIM_PAGE};
    if (layer == RULES_REGION)
        f.region = owner + 7;
    else if (layer == RULES_OFFICE)
        f.office = owner + 7;
    else if (in->unit && !strncmp(in->unit, "region/", 7))
        f.region = in->unit + 7;
    else if (in->unit && !strncmp(in->unit, "office/", 7))
        f.office = in->unit + 7;
    /* Only what is read of each document: its lead, its date, and what routes it. */
    const char *fields[STORE_FIELDS_MAX + 1];
    size_t n = 0;
    for (const char *const *k = rules__lead_fields; *k; k++)
        fields[n++] = *k;
    for (const char *const *k = doc_fields; *k; k++)
        fields[n++] = *k;
    fields[n] = NULL;
    /* Read a page, then read the next while the sides evaluate it. */
    size_t cur = 0;
    bool more = true;
    while (!rc) {
        s.page = s.pages[cur ^ 1];
        s.n_page = &s.n_pages[cur ^ 1];
        if (more) {
            f.after_id = s.last_id;
            int64_t before = s.last_id;
            rc = store_instance_list_fields(rules__store(sides[0]), &f, fields, on_row, &s, why);
            more = !rc && s.last_id != before && !s.truncated;
        }
        if (s.n_pages[cur])
            finish_page(&s, cur);
        if (rc || !s.n_pages[cur ^ 1])
            break;
        cur ^= 1;
        start_page(&s, cur);
    }
    if (helper) {
        s.quit = true;
        uv_sem_post(&s.go);
        uv_thread_join(&s.helper);
        uv_sem_destroy(&s.go);
        uv_sem_destroy(&s.done);
    }
    for (size_t k = 0; k < 2; k++) {
        for (size_t i = 0; s.pages[k] && i < s.n_pages[k]; i++)
            item_deinit(&s.pages[k][i]);
        free(s.pages[k]);
    }
    if (!rc) {
        *out = json_pack("{s:s, s:i, s:i, s:i, s:b, s:o, s:i, s:o, s:I, s:o, s:I, s:o, s:I}",
                         "owner", owner, "version", version, "active_version",
                         s.side[0].active ? s.side[0].active->version : 0, "evaluated", s.evaluated,
                         "truncated", s.truncated, "counts", s.counts, "cap", SIM_LIST_MAX,
                         "changed", s.changed.items, "changed_total", s.changed.total, "failed",
                         s.failed.items, "failed_total", s.failed.total, "routing", s.routing.items,
                         "routing_total", s.routing.total);
        if (!*out)
            rc = err_set(why, -ERR_NOMEM, "out of memory");
    } else {
        json_decref(s.counts);
        json_decref(s.changed.items);
        json_decref(s.failed.items);
        json_decref(s.routing.items);
    }
    for (size_t i = 0; i < n_sides; i++)
        rules_version_unref(s.side[i].candidate);
    return rc;
}

int rules_simulate(struct rules *r, const char *owner, int version,
                   const struct rules_simulation *in, json_t **out, struct err_detail *why)
{
    return rules_simulate_on(&r, 1, owner, version, in, out, why);
}
