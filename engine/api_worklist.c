/* engine/api_worklist.c: the work lists of the dashboard, one answer each
 * instead of a call per instance from the page:
 *
 *   GET /v1/decisions/waiting?level=&as_of=&limit=   the key decisions open
 *       instances of the principal's scope wait for, routed by the region's
 *       authority matrix (HQ's process.lua waiting), those the principal's
 *       level may take (or exactly 'level'), oldest first;
 *   GET /v1/receivables/overdue?as_of=&limit=        every overdue invoice
 *       of the scope's contracts with its days and escalation level (HQ's
 *       process.lua receivables), most overdue first, with totals per
 *       escalation level.
 *
 * Both read every open instance of the scope at the stages concerned and ask
 * its pinned HQ version; nothing is stored. A rule that fails for one
 * instance leaves it out, counts in `errors` (with the first message) and is
 * a runtime rule error of its owner: the list of everyone else still comes. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json_read.h"
#include "api.h"
#include "num.h"
#include "period.h"
#include "utf8.h"

#define WORKLIST_PAGE 500 /* instances read from the store at a time */

/* The stages of HQ's process where key decisions are taken and where
 * contracts run: the table only spares reading leads and closed instances,
 * process.lua decides what waits. */
static const char *const deciding_stages[] = {"opportunity", "contract", NULL};
static const char *const contract_stages[] = {"contract", NULL};

static const char *const levels[] = {"office", "region", "hq", NULL}; /* auth_level order */

struct worklist {
    struct api_call *c;
    int kind; /* enum memo_kind */
    const char *as_of;
    int level;       /* waiting: the highest level listed (1..3) */
    bool exact;      /* waiting: only that level */
    json_t *items;   /* owned */
    int64_t errors;  /* instances a rule failed for */
    char error[300]; /* the first of those messages */
};

static int level_of(const char *name)
{
    for (int i = 0; levels[i]; i++)
        if (name && !strcmp(levels[i], name))
            return i + 1;
    return 0;
}

/* as_of and limit, shared by both lists; 400 naming the field. */
static int common_query(struct api_call *c, char as_of[16], int *limit)
{
    const char *a = http_query(c->req, "as_of"), *l = http_query(c->req, "limit");
    struct err_detail why = {0};
    int64_t n = API_LIST_LIMIT_DEFAULT;
    if (a && !period_date_valid(a))
        err_field(&why, -ERR_INVALID_FIELD, "as_of", "as_of: " PERIOD_DATE_EXPECTED);
    else if (l)
        num_parse("limit", l, 1, API_LIST_LIMIT_MAX, &n, &why);
    if (why.code) {
        api_error(c->req, &why);
        return -1;
    }
    if (a)
        snprintf(as_of, 16, "%s", a);
    else
        app_today(as_of);
    *limit = (int)n; /* within 1..API_LIST_LIMIT_MAX */
    return 0;
}

static void failed_for(struct worklist *w, int64_t id, const struct err_detail *why)
{
    rules_runtime_error(w->c->app->rules, why, http_request_id(w->c->req), w->c->actor);
    if (!w->errors++)
        snprintf(w->error, sizeof w->error, "instance %lld: %.260s", (long long)id, why->msg);
}

/* What every item says of its instance. */
static json_t *item_of(const struct store_instance_row *row, const json_t *doc)
{
    json_t *o =
        json_pack("{s:I, s:s, s:s, s:s, s:O?, s:O?}", "instance", (json_int_t)row->id, "stage",
                  row->stage, "region", row->region, "office", row->office, "customer",
                  json_object_get(doc, "customer"), "title", json_object_get(doc, "title"));
    const json_t *owner = json_object_get(doc, "owner"); /* a lead's owner, where kept */
    if (o && owner)
        json_object_set(o, "owner", (json_t *)owner);
    return o;
}

/* --- one instance's items, memoised ---------------------------------------
 * An instance's items depend only on its document (its last_seq), the date
 * and, for decisions, the region's matrix (its active version): they are
 * kept per instance id (ids are dense) and computed again only when one of
 * those changed, so a dashboard refreshing the lists parses no unchanged
 * instance. A rule failure is never kept. Loop thread only. */
#define MEMO_IDS_MAX (1 << 20) /* ids memoised (32 bytes each); beyond, computed each time */

enum memo_kind { MEMO_WAITING, MEMO_OVERDUE };

struct memo_entry {
    int64_t seq; /* last_seq of the instance when computed; 0: empty */
    int matrix;  /* the region's active version then (decisions) */
    char as_of[11];
    json_t *items; /* owned: the instance's items */
};

static struct memo {
    struct memo_entry *v; /* owned */
    size_t n;
} memos[2];

static struct memo_entry *memo_slot(struct memo *m, int64_t id)
{
    if (id <= 0 || id >= MEMO_IDS_MAX)
        return NULL;
    if ((size_t)id >= m->n) {
        size_t n = m->n ? m->n : 1024;
        while (n <= (size_t)id)
            n *= 2;
        struct memo_entry *v = realloc(m->v, n * sizeof *v);
        if (!v)
            return NULL;
        memset(v + m->n, 0, (n - m->n) * sizeof *v);
        m->v = v;
        m->n = n;
    }
    return &m->v[id];
}

void api_worklist_free(void)
{
    for (int k = 0; k < 2; k++) {
        for (size_t i = 0; i < memos[k].n; i++)
            json_decref(memos[k].v[i].items);
        free(memos[k].v);
        memos[k].v = NULL;
        memos[k].n = 0;
    }
}

static int matrix_of(struct rules *r, const char *region)
{
    char owner[RULES_OWNER_MAX];
    snprintf(owner, sizeof owner, "region/%s", region);
    struct rules_version *rv = rules_active(r, owner);
    return rv ? rv->version : 0;
}

/* The decision the instance waits for, as a list of at most one item; NULL
 * when a rule failed (counted in w). A new reference. */
static json_t *waiting_items(struct worklist *w, const struct store_instance_row *row,
                             const json_t *doc)
{
    json_t *wait = NULL, *items = json_array();
    struct err_detail why = {0};
    if (rules_waiting(w->c->app->rules, doc, w->as_of, &wait, &why)) {
        failed_for(w, row->id, &why);
        json_decref(items);
        return NULL;
    }
    if (wait) {
        json_t *item = item_of(row, doc);
        const char *since = json_string_value(json_object_get(wait, "since"));
        json_object_update(item, wait);
        json_object_set_new(item, "days", json_integer(period_days_between(since, w->as_of)));
        json_array_append_new(items, item);
    }
    json_decref(wait);
    return items;
}

/* The instance's overdue invoices; NULL when a rule failed. A new reference. */
static json_t *overdue_items(struct worklist *w, const struct store_instance_row *row,
                             const json_t *doc)
{
    json_t *rec = NULL, *items = json_array(), *inv;
    struct err_detail why = {0};
    if (!json_is_object(json_object_get(doc, "contract")))
        return items;
    if (rules_receivables(w->c->app->rules, doc, w->as_of, &rec, &why)) {
        failed_for(w, row->id, &why);
        json_decref(items);
        return NULL;
    }
    size_t i;
    json_array_foreach(json_object_get(rec, "overdue"), i, inv)
    {
        if (!json_is_integer(json_object_get(inv, "amount")) ||
            !json_is_integer(json_object_get(inv, "days")) ||
            !json_is_string(json_object_get(inv, "escalate_to")))
            continue; /* process.lua's own shape; nothing else is summed */
        json_t *item = item_of(row, doc);
        json_object_update(item, inv);
        json_array_append_new(items, item);
    }
    json_decref(rec);
    return items;
}

/* Whether a decision item belongs in the principal's list. */
static bool listed(const struct worklist *w, const json_t *item)
{
    if (w->kind == MEMO_OVERDUE)
        return true;
    int need = level_of(json_string_value(json_object_get(item, "level")));
    return need && (w->exact ? need == w->level : need <= w->level);
}

static int on_instance(const struct store_instance_row *row, void *ctx)
{
    struct worklist *w = ctx;
    int matrix = w->kind == MEMO_WAITING ? matrix_of(w->c->app->rules, row->region) : 0;
    struct memo_entry *e = memo_slot(&memos[w->kind], row->id);
    json_t *items = NULL;
    if (e && e->seq == row->last_seq && e->matrix == matrix && !strcmp(e->as_of, w->as_of)) {
        items = json_incref(e->items);
    } else {
        json_t *doc = json_read_str(row->doc, 0);
        if (doc)
            items =
                w->kind == MEMO_WAITING ? waiting_items(w, row, doc) : overdue_items(w, row, doc);
        json_decref(doc);
        if (items && e) {
            json_decref(e->items);
            *e = (struct memo_entry){
                .seq = row->last_seq, .matrix = matrix, .items = json_incref(items)};
            snprintf(e->as_of, sizeof e->as_of, "%s", w->as_of);
        }
    }
    size_t i;
    json_t *item;
    json_array_foreach(items, i, item)
    {
        if (listed(w, item))
            json_array_append(w->items, item); /* shared with the memo: never changed */
    }
    json_decref(items);
    return 0;
}

/* One page of the scan: counts the rows and remembers the last id. */
struct page {
    struct worklist *w;
    store_instance_cb *each;
    int seen;
    int64_t last_id;
};

static int page_row(const struct store_instance_row *row, void *ctx)
{
    struct page *pg = ctx;
    pg->seen++;
    pg->last_id = row->id;
    return pg->each(row, pg->w);
}

/* Every instance of the principal's scope at the stages given, a page at a
 * time (the statement is reset between pages). */
static int scan(struct worklist *w, const char *const *stages, store_instance_cb *each,
                struct err_detail *why)
{
    const struct auth_principal *p = w->c->principal;
    for (; *stages; stages++) {
        struct store_instance_filter f = {
            .stage = *stages,
            .region = p->level == AUTH_LEVEL_REGION ? p->unit_id : NULL,
            .office = p->level == AUTH_LEVEL_OFFICE ? p->unit_id : NULL,
            .limit = WORKLIST_PAGE,
        };
        for (;;) {
            struct page pg = {w, each, 0, f.after_id};
            int rc = store_instance_list(w->c->app->st, &f, page_row, &pg, why);
            if (rc)
                return rc;
            if (pg.seen < WORKLIST_PAGE)
                break;
            f.after_id = pg.last_id;
        }
    }
    return 0;
}

/* Sort keys: waiting oldest first (since, then instance); overdue most days
 * first (then instance, then due date). */
static const char *str_of(const json_t *o, const char *k)
{
    const char *s = json_string_value(json_object_get(o, k));
    return s ? s : "";
}

static json_int_t int_of(const json_t *o, const char *k)
{
    return json_integer_value(json_object_get(o, k));
}

static int by_since(const void *a, const void *b)
{
    const json_t *x = *(json_t *const *)a, *y = *(json_t *const *)b;
    int d = strcmp(str_of(x, "since"), str_of(y, "since"));
    return d ? d
             : (int_of(x, "instance") > int_of(y, "instance")) -
                   (int_of(x, "instance") < int_of(y, "instance"));
}

static int by_days(const void *a, const void *b)
{
    const json_t *x = *(json_t *const *)a, *y = *(json_t *const *)b;
    if (int_of(x, "days") != int_of(y, "days"))
        return int_of(x, "days") < int_of(y, "days") ? 1 : -1;
    if (int_of(x, "instance") != int_of(y, "instance"))
        return int_of(x, "instance") > int_of(y, "instance") ? 1 : -1;
    return strcmp(str_of(x, "due"), str_of(y, "due"));
}

/* The first 'limit' items of w->items in the order of 'cmp', a new array. */
static json_t *sorted_head(json_t *items, int (*cmp)(const void *, const void *), int limit)
{
    size_t n = json_array_size(items);
    json_t **v = malloc((n ? n : 1) * sizeof *v), *out = json_array();
    if (!v || !out) {
        free(v);
        json_decref(out);
        return NULL;
    }
    for (size_t i = 0; i < n; i++)
        v[i] = json_array_get(items, i);
    qsort(v, n, sizeof *v, cmp);
    for (size_t i = 0; i < n && i < (size_t)limit; i++)
        json_array_append(out, v[i]);
    free(v);
    return out;
}

static void answer(struct worklist *w, json_t *body)
{
    json_object_set_new(body, "errors", json_integer(w->errors));
    json_object_set_new(body, "error",
                        w->errors ? utf8_json(w->error) : json_null()); /* cut anywhere */
    api_json(w->c->req, 200, body);
    json_decref(body);
}

void api_decisions_waiting(struct api_call *c)
{
    struct worklist w = {.c = c, .kind = MEMO_WAITING, .level = (int)c->principal->level};
    char as_of[16];
    int limit;
    if (common_query(c, as_of, &limit))
        return;
    w.as_of = as_of;
    const char *level = http_query(c->req, "level");
    if (level) {
        int want = level_of(level);
        if (!want) {
            api_fail(c->req, -ERR_INVALID_FIELD, "level: expected office, region or hq");
            return;
        }
        if (want > w.level) {
            api_fail(c->req, -ERR_FORBIDDEN, "%s decides at %s level, not %s", c->principal->unit,
                     auth_level_name(c->principal->level), level);
            return;
        }
        w.level = want;
        w.exact = true;
    }
    struct err_detail why = {0};
    w.items = json_array();
    if (scan(&w, deciding_stages, on_instance, &why)) {
        json_decref(w.items);
        api_error(c->req, &why);
        return;
    }
    json_t *head = sorted_head(w.items, by_since, limit);
    json_t *body = head ? json_pack("{s:s, s:s, s:b, s:s, s:I, s:o}", "unit", c->principal->unit,
                                    "level", levels[w.level - 1], "exact", w.exact, "as_of", as_of,
                                    "total", (json_int_t)json_array_size(w.items), "items", head)
                        : NULL;
    json_decref(w.items);
    if (!body) {
        api_fail(c->req, -ERR_NOMEM, "out of memory");
        return;
    }
    answer(&w, body);
}

/* Totals per escalation level, most severe (most days) first. */
static json_t *by_escalation(const json_t *sorted)
{
    json_t *out = json_array(), *item, *e;
    size_t i, j;
    json_array_foreach(sorted, i, item)
    {
        const char *to = str_of(item, "escalate_to");
        json_t *found = NULL;
        json_array_foreach(out, j, e)
        {
            if (!strcmp(str_of(e, "escalate_to"), to))
                found = e;
        }
        if (!found) {
            found = json_pack("{s:s, s:I, s:I, s:I}", "escalate_to", to, "count", (json_int_t)0,
                              "amount", (json_int_t)0, "max_days", int_of(item, "days"));
            json_array_append_new(out, found);
        }
        json_object_set_new(found, "count", json_integer(int_of(found, "count") + 1));
        json_object_set_new(found, "amount",
                            json_integer(int_of(found, "amount") + int_of(item, "amount")));
    }
    return out;
}

void api_receivables_overdue(struct api_call *c)
{
    struct worklist w = {.c = c, .kind = MEMO_OVERDUE};
    char as_of[16];
    int limit;
    if (common_query(c, as_of, &limit))
        return;
    w.as_of = as_of;
    struct err_detail why = {0};
    w.items = json_array();
    if (scan(&w, contract_stages, on_instance, &why)) {
        json_decref(w.items);
        api_error(c->req, &why);
        return;
    }
    size_t n = json_array_size(w.items);
    json_t *all = sorted_head(w.items, by_days, (int)(n < INT32_MAX ? n : INT32_MAX));
    json_int_t amount = 0;
    size_t i;
    json_t *item;
    json_array_foreach(w.items, i, item) amount += int_of(item, "amount");
    json_t *head = all ? sorted_head(all, by_days, limit) : NULL;
    json_t *body = head ? json_pack("{s:s, s:s, s:I, s:I, s:o, s:o}", "unit", c->principal->unit,
                                    "as_of", as_of, "count", (json_int_t)n, "amount", amount,
                                    "by_escalation", by_escalation(all), "items", head)
                        : NULL;
    json_decref(all);
    json_decref(w.items);
    if (!body) {
        api_fail(c->req, -ERR_NOMEM, "out of memory");
        return;
    }
    answer(&w, body);
}
