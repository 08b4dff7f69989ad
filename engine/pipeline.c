/* engine/pipeline.c */
#include "json_read.h"
#include "pipeline.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "lead.h"
#include "money.h"
#include "period.h"
#include "store_pipeline.h"

static const char *const categories[] = {"commit", "best_case", "pipeline", "omitted"};
#define N_CATEGORIES 4

enum pipeline_unit pipeline_unit_parse(const char *unit, const char **id)
{
    static const struct {
        const char *prefix;
        enum pipeline_unit kind;
    } kinds[] = {{"region/", PIPELINE_UNIT_REGION},
                 {"office/", PIPELINE_UNIT_OFFICE},
                 {"customer/", PIPELINE_UNIT_CUSTOMER}};
    *id = "";
    if (unit && !strcmp(unit, "hq"))
        return PIPELINE_UNIT_HQ;
    for (size_t k = 0; unit && k < sizeof kinds / sizeof *kinds; k++) {
        size_t n = strlen(kinds[k].prefix);
        if (!strncmp(unit, kinds[k].prefix, n) && lead_valid_id(unit + n)) {
            *id = unit + n;
            return kinds[k].kind;
        }
    }
    return PIPELINE_UNIT_BAD;
}

int64_t pipeline_weighted(int64_t value, int probability)
{
    return (value * probability + 50) / 100;
}

static bool in_pipeline(const char *stage)
{
    return stage && (!strcmp(stage, "lead") || !strcmp(stage, "opportunity"));
}

/* The forecast of 'doc' into *f (month, category and rules pointing into
 * month and fc). */
static int forecast_of(struct rules *r, int64_t id, const json_t *doc, struct store_forecast *f,
                       char month[8], struct rules_forecast *fc, struct err_detail *why)
{
    *f = (struct store_forecast){.id = id};
    const char *close = json_string_value(json_object_get(doc, "expected_close"));
    const char *stage = json_string_value(json_object_get(doc, "stage"));
    if (close && period_date_valid(close) && in_pipeline(stage)) {
        const json_t *v = json_object_get(doc, "expected_value");
        if (!json_is_integer(v))
            v = json_object_get(json_object_get(doc, "budget"), "amount");
        int64_t value = json_is_integer(v) ? json_integer_value(v) : 0;
        if (value < 0 || value > ((int64_t)1 << 53))
            value = 0;
        int rc = rules_forecast(r, doc, fc, why);
        if (rc)
            return rc;
        snprintf(month, 8, "%.7s", close);
        f->month = month;
        f->value = value;
        f->weighted = pipeline_weighted(value, fc->probability);
        f->category = fc->category;
        f->rules = fc->rules;
    }
    return 0;
}

int pipeline_forecast_record(struct store *st, struct rules *r, int64_t id, const json_t *doc,
                             struct err_detail *why)
{
    struct store_forecast f;
    struct rules_forecast fc;
    char month[8];
    int rc = forecast_of(r, id, doc, &f, month, &fc, why);
    return rc ? rc : store_forecast_set(st, &f, why);
}

/* --- refresh ------------------------------------------------------------- */

static int on_stale(int64_t id, const char *doc, int64_t last_seq, void *ctx)
{
    (void)last_seq;
    json_t *list = ctx;
    return json_array_append_new(list, json_pack("[I, s]", (json_int_t)id, doc));
}

static int refresh_region(struct store *st, struct rules *r, const char *region, int64_t *n,
                          struct err_detail *why)
{
    char key[2 * RULES_OWNER_MAX + 32];
    rules_forecast_key(r, region, key, sizeof key);
    json_t *list = json_array();
    int rc = store_forecast_stale(st, region, key, on_stale, list, why);
    size_t i;
    json_t *e;
    json_array_foreach(list, i, e)
    {
        if (rc)
            break;
        json_t *doc = json_read_str(json_string_value(json_array_get(e, 1)), 0);
        rc = doc ? pipeline_forecast_record(st, r, json_integer_value(json_array_get(e, 0)), doc,
                                            why)
                 : err_set(why, -ERR_INTERNAL, "stored document unreadable");
        json_decref(doc);
        ++*n;
    }
    json_decref(list);
    return rc;
}

/* The org's region index of a unit's scope: -1 all, -2 unknown. */
static int scope_region(struct store *st, const struct org *org, const char *unit, char *office,
                        size_t osize, struct err_detail *why)
{
    office[0] = 0;
    if (!strcmp(unit, "hq"))
        return -1;
    const char *region = NULL;
    if (!strncmp(unit, "region/", 7))
        region = unit + 7;
    else if (!strncmp(unit, "office/", 7)) {
        snprintf(office, osize, "%s", unit + 7);
        region = org_region_of(org, unit + 7);
    } else if (!strncmp(unit, "customer/", 9)) {
        if (store_customer_office(st, unit + 9, office, osize, why))
            return -3;
        region = office[0] ? org_region_of(org, office) : NULL;
    }
    for (size_t k = 0; region && k < org->n_regions; k++)
        if (!strcmp(org->regions[k].id, region))
            return (int)k;
    return -2;
}

/* Off the loop: the stale forecasts as [ [id, last_seq, month|null, value,
 * weighted, category|null, rules|null], ... ]. */
struct stale_compute {
    struct rules *r;
    json_t *out;
    struct err_detail *why;
    int rc;
};

static int on_stale_compute(int64_t id, const char *text, int64_t last_seq, void *ctx)
{
    struct stale_compute *c = ctx;
    json_t *doc = json_read_str(text, 0);
    struct store_forecast f;
    struct rules_forecast fc;
    char month[8];
    c->rc = doc ? forecast_of(c->r, id, doc, &f, month, &fc, c->why)
                : err_set(c->why, -ERR_INTERNAL, "instance %lld: unreadable", (long long)id);
    json_decref(doc);
    if (!c->rc)
        json_array_append_new(c->out, json_pack("[I, I, s?, I, I, s?, s?]", (json_int_t)id,
                                                (json_int_t)last_seq, f.month, (json_int_t)f.value,
                                                (json_int_t)f.weighted, f.category, f.rules));
    return c->rc;
}

static int each_region(struct store *st, const struct org *org, const char *unit,
                       int (*fn)(const char *region, void *ctx), void *ctx, struct err_detail *why)
{
    char office[96];
    int k = scope_region(st, org, unit, office, sizeof office, why);
    if (k == -3)
        return why->code;
    if (k == -2)
        return err_set(why, -ERR_NOT_FOUND, "no unit '%.80s' in the org tree", unit);
    int rc = 0;
    for (size_t i = 0; i < org->n_regions && !rc; i++)
        if (k == -1 || (size_t)k == i)
            rc = fn(org->regions[i].id, ctx);
    return rc;
}

struct stale_scan {
    struct store *st;
    struct rules *r;
    bool any;
    struct stale_compute c;
};

static int region_any(const char *region, void *ctx)
{
    struct stale_scan *s = ctx;
    char key[2 * RULES_OWNER_MAX + 32];
    rules_forecast_key(s->r, region, key, sizeof key);
    bool any = false;
    int rc = store_forecast_any_stale(s->st, region, key, &any, s->c.why);
    s->any |= any;
    return rc;
}

static int region_compute(const char *region, void *ctx)
{
    struct stale_scan *s = ctx;
    char key[2 * RULES_OWNER_MAX + 32];
    rules_forecast_key(s->r, region, key, sizeof key);
    int rc = store_forecast_stale(s->st, region, key, on_stale_compute, &s->c, s->c.why);
    return rc ? rc : s->c.rc;
}

int pipeline_stale_any(struct store *st, struct rules *r, const struct org *org, const char *unit,
                       bool *any, struct err_detail *why)
{
    struct stale_scan s = {.st = st, .r = r, .c = {.why = why}};
    int rc = each_region(st, org, unit, region_any, &s, why);
    *any = s.any;
    return rc;
}

int pipeline_stale_compute(struct store *st, struct rules *r, const struct org *org,
                           const char *unit, json_t **out, struct err_detail *why)
{
    struct stale_scan s = {.st = st, .r = r, .c = {.r = r, .out = json_array(), .why = why}};
    int rc = s.c.out ? each_region(st, org, unit, region_compute, &s, why)
                     : err_set(why, -ERR_NOMEM, "out of memory");
    if (rc)
        json_decref(s.c.out);
    else
        *out = s.c.out;
    return rc;
}

int pipeline_stale_apply(struct store *st, const json_t *computed, size_t from, size_t count,
                         int64_t *n, struct err_detail *why)
{
    *n = 0;
    for (size_t i = from; i < json_array_size(computed) && i - from < count; i++) {
        const json_t *e = json_array_get(computed, i);
        struct store_forecast f = {
            .id = json_integer_value(json_array_get(e, 0)),
            .if_seq = json_integer_value(json_array_get(e, 1)),
            .month = json_string_value(json_array_get(e, 2)),
            .value = json_integer_value(json_array_get(e, 3)),
            .weighted = json_integer_value(json_array_get(e, 4)),
            .category = json_string_value(json_array_get(e, 5)),
            .rules = json_string_value(json_array_get(e, 6)),
        };
        int rc = store_forecast_set(st, &f, why);
        if (rc)
            return rc;
        ++*n;
    }
    return 0;
}

int pipeline_refresh(struct store *st, struct rules *r, const struct org *org, const char *unit,
                     int64_t *n, struct err_detail *why)
{
    char office[96];
    *n = 0;
    int k = scope_region(st, org, unit, office, sizeof office, why);
    if (k == -3)
        return why->code;
    if (k == -2)
        return err_set(why, -ERR_NOT_FOUND, "no unit '%.80s' in the org tree", unit);
    int rc = 0;
    for (size_t i = 0; i < org->n_regions && !rc; i++)
        if (k == -1 || (size_t)k == i)
            rc = refresh_region(st, r, org->regions[i].id, n, why);
    return rc;
}

/* --- the tree ------------------------------------------------------------ */

struct acc {
    int64_t won, n[N_CATEGORIES], value[N_CATEGORIES], weighted[N_CATEGORIES];
};

struct cust {
    char *id;
    struct acc a;
};

struct office_acc {
    json_t *index; /* customer id -> index into custs */
    struct cust *custs;
    size_t n, cap;
    struct acc remainder;
};

struct build {
    const struct org *org;
    struct office_acc *offices; /* one per org office */
    int only_office;            /* -1: all of them */
};

static int office_index(const struct org *org, const char *id)
{
    size_t lo = 0, hi = org->n_offices; /* sorted by id (org.h) */
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        int c = strcmp(org->offices[mid].id, id);
        if (!c)
            return (int)mid;
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return -1;
}

static struct acc *acc_of(struct build *b, const char *office, const char *customer)
{
    int o = office_index(b->org, office);
    if (o < 0)
        return NULL;
    struct office_acc *oa = &b->offices[o];
    const json_t *i = json_object_get(oa->index, customer);
    return i ? &oa->custs[json_integer_value(i)].a : &oa->remainder;
}

static int on_customer(const char *id, const char *office, void *ctx)
{
    struct build *b = ctx;
    int o = office_index(b->org, office);
    if (o < 0 || (b->only_office >= 0 && o != b->only_office))
        return 0;
    struct office_acc *oa = &b->offices[o];
    if (oa->n == oa->cap) {
        size_t cap = oa->cap ? 2 * oa->cap : 16;
        struct cust *c = realloc(oa->custs, cap * sizeof *c);
        if (!c)
            return -ERR_NOMEM;
        oa->custs = c;
        oa->cap = cap;
    }
    oa->custs[oa->n] = (struct cust){.id = strdup(id)};
    if (!oa->custs[oa->n].id)
        return -ERR_NOMEM;
    json_object_set_new(oa->index, id, json_integer((json_int_t)oa->n));
    oa->n++;
    return 0;
}

static int on_won(const char *office, const char *customer, int64_t amount, void *ctx)
{
    struct acc *a = acc_of(ctx, office, customer);
    if (a)
        a->won = money_add(a->won, amount);
    return 0;
}

static int on_sum(const char *office, const char *customer, const char *category, int64_t n,
                  int64_t value, int64_t weighted, void *ctx)
{
    struct acc *a = acc_of(ctx, office, customer);
    for (int k = 0; a && k < N_CATEGORIES; k++)
        if (!strcmp(categories[k], category)) {
            a->n[k] += n;
            a->value[k] = money_add(a->value[k], value);
            a->weighted[k] = money_add(a->weighted[k], weighted);
        }
    return 0;
}

static void acc_add(struct acc *to, const struct acc *a)
{
    to->won = money_add(to->won, a->won);
    for (int k = 0; k < N_CATEGORIES; k++) {
        to->n[k] += a->n[k];
        to->value[k] = money_add(to->value[k], a->value[k]);
        to->weighted[k] = money_add(to->weighted[k], a->weighted[k]);
    }
}

static int on_target(const char *unit, int64_t amount, void *ctx)
{
    return json_object_set_new(ctx, unit, json_integer(amount));
}

/* The tree is written as text: built as JSON values it took three times as
 * long for 10,000 customers (jansson's allocations and formats). */
static void put_int(struct buf *b, int64_t v)
{
    char t[24], *e = t + sizeof t, *q = e;
    uint64_t u = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
    do
        *--q = (char)('0' + u % 10);
    while (u /= 10);
    if (v < 0)
        *--q = '-';
    buf_put(b, q, (size_t)(e - q));
}

static void put_field(struct buf *b, const char *name, int64_t v)
{
    buf_str(b, name);
    put_int(b, v);
}

/* One node's fields, without its closing brace (children may follow). */
static void put_node(struct buf *b, const char *unit, const char *level, const struct acc *a,
                     const json_t *targets)
{
    int64_t open = 0, weighted = 0;
    for (int k = 0; k < N_CATEGORIES; k++) {
        open = money_add(open, a->value[k]);
        weighted = money_add(weighted, a->weighted[k]);
    }
    buf_str(b, "{\"unit\":");
    buf_json_string(b, unit);
    buf_str(b, ",\"level\":\"");
    buf_str(b, level);
    const json_t *t = json_object_get(targets, unit);
    int64_t target = json_integer_value(t);
    buf_str(b, "\",\"target\":");
    if (t)
        put_int(b, target);
    else
        buf_str(b, "null");
    put_field(b, ",\"won\":", a->won);
    put_field(b, ",\"open\":", open);
    put_field(b, ",\"weighted\":", weighted);
    int64_t covered = money_add(a->won, weighted);
    if (t && target > 0)
        buf_printf(b, ",\"coverage\":%.12g", (double)covered / (double)target);
    else
        buf_str(b, ",\"coverage\":null");
    if (t)
        put_field(b, ",\"gap\":", money_add(target, -covered));
    else
        buf_str(b, ",\"gap\":null");
    buf_str(b, ",\"by_category\":{");
    for (int k = 0; k < N_CATEGORIES; k++) {
        buf_str(b, k ? ",\"" : "\"");
        buf_str(b, categories[k]);
        put_field(b, "\":{\"count\":", a->n[k]);
        put_field(b, ",\"value\":", a->value[k]);
        put_field(b, ",\"weighted\":", a->weighted[k]);
        buf_str(b, "}");
    }
    buf_str(b, "}");
}

static void office_sum(const struct office_acc *oa, struct acc *sum)
{
    for (size_t i = 0; i < oa->n; i++)
        acc_add(sum, &oa->custs[i].a);
    acc_add(sum, &oa->remainder);
}

/* An office with its customers and its remainder, or only the customer 'only'. */
static void put_office(struct buf *b, const struct build *bd, size_t o, const json_t *targets,
                       const char *only, const char *root_extra)
{
    const struct office_acc *oa = &bd->offices[o];
    char unit[160];
    for (size_t i = 0; only && i < oa->n; i++) {
        snprintf(unit, sizeof unit, "customer/%s", oa->custs[i].id);
        if (!strcmp(unit, only)) {
            put_node(b, unit, "customer", &oa->custs[i].a, targets);
            buf_str(b, root_extra);
            buf_str(b, "}");
            return;
        }
    }
    struct acc sum = {0};
    office_sum(oa, &sum);
    snprintf(unit, sizeof unit, "office/%s", bd->org->offices[o].id);
    put_node(b, unit, "office", &sum, targets);
    buf_str(b, root_extra);
    buf_str(b, ",\"children\":[");
    for (size_t i = 0; i < oa->n; i++) {
        snprintf(unit, sizeof unit, "customer/%s", oa->custs[i].id);
        put_node(b, unit, "customer", &oa->custs[i].a, targets);
        buf_str(b, "},");
    }
    snprintf(unit, sizeof unit, "office/%s/unregistered", bd->org->offices[o].id);
    put_node(b, unit, "remainder", &oa->remainder, targets);
    buf_str(b, "}]}");
}

static void put_region(struct buf *b, const struct build *bd, size_t r, const json_t *targets,
                       const char *root_extra)
{
    const struct org *org = bd->org;
    struct acc sum = {0};
    for (size_t o = 0; o < org->n_offices; o++)
        if (org->offices[o].region == r)
            office_sum(&bd->offices[o], &sum);
    char unit[96];
    snprintf(unit, sizeof unit, "region/%s", org->regions[r].id);
    put_node(b, unit, "region", &sum, targets);
    buf_str(b, root_extra);
    buf_str(b, ",\"children\":[");
    bool first = true;
    for (size_t o = 0; o < org->n_offices; o++) {
        if (org->offices[o].region != r)
            continue;
        buf_str(b, first ? "" : ",");
        first = false;
        put_office(b, bd, o, targets, NULL, "");
    }
    buf_str(b, "]}");
}

int pipeline_tree(struct store *st, const struct org *org, const char *unit, const char *period,
                  int64_t refreshed, char **out, size_t *len, struct err_detail *why)
{
    char from[PERIOD_DATE_SIZE], to[PERIOD_DATE_SIZE], office[96];
    int rc = period_range(period, from, to, why);
    if (rc)
        return rc;
    int k = scope_region(st, org, unit, office, sizeof office, why);
    if (k == -3)
        return why->code;
    if (k == -2 || (!strncmp(unit, "customer/", 9) && !office[0]))
        return err_set(why, -ERR_NOT_FOUND, "no unit '%.80s' in the org tree", unit);
    from[7] = to[7] = 0; /* months: periods are whole months */
    struct build b = {.org = org, .only_office = office[0] ? office_index(org, office) : -1};
    b.offices = calloc(org->n_offices ? org->n_offices : 1, sizeof *b.offices);
    json_t *targets = json_object();
    if (!b.offices || !targets)
        rc = err_set(why, -ERR_NOMEM, "out of memory");
    for (size_t o = 0; !rc && o < org->n_offices; o++)
        b.offices[o].index = json_object();
    if (!rc)
        rc = store_customer_offices(st, on_customer, &b, why);
    if (!rc)
        rc = store_ledger_customers(st, "orders", from, to, on_won, &b, why);
    if (!rc)
        rc = store_pipeline_sums(st, from, to, on_sum, &b, why);
    if (!rc)
        rc = store_target_list(st, period, "orders", on_target, targets, why);
    if (rc == -ERR_NOMEM)
        err_set(why, rc, "out of memory");
    char extra[96]; /* the root's own fields */
    snprintf(extra, sizeof extra, ",\"period\":\"%s\",\"refreshed\":%lld", period,
             (long long)refreshed);
    struct buf text = {0};
    if (!rc && b.only_office >= 0)
        put_office(&text, &b, (size_t)b.only_office, targets,
                   strncmp(unit, "customer/", 9) ? NULL : unit, extra);
    else if (!rc && k >= 0)
        put_region(&text, &b, (size_t)k, targets, extra);
    else if (!rc) {
        struct acc all = {0};
        for (size_t o = 0; o < org->n_offices; o++)
            office_sum(&b.offices[o], &all);
        put_node(&text, "hq", "hq", &all, targets);
        buf_str(&text, extra);
        buf_str(&text, ",\"children\":[");
        for (size_t r = 0; r < org->n_regions; r++) {
            buf_str(&text, r ? "," : "");
            put_region(&text, &b, r, targets, "");
        }
        buf_str(&text, "]}");
    }
    for (size_t o = 0; b.offices && o < org->n_offices; o++) {
        for (size_t i = 0; i < b.offices[o].n; i++)
            free(b.offices[o].custs[i].id);
        free(b.offices[o].custs);
        json_decref(b.offices[o].index);
    }
    free(b.offices);
    json_decref(targets);
    if (!rc && text.failed)
        rc = err_set(why, -ERR_NOMEM, "out of memory");
    if (!rc)
        *out = buf_take(&text, len);
    buf_deinit(&text);
    return rc;
}
