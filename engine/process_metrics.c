/* engine/process_metrics.c */
#include "json_read.h"
#include "process_metrics.h"

#include <stdlib.h>
#include <string.h>

#include "money.h"
#include "period.h"

#define PAGE 500

/* A growing list of day counts, for medians. */
struct days {
    int64_t *v;
    size_t n, cap;
    int64_t dated_back; /* stays whose end is dated before their start */
};

/* A stay ends on or after the day it began: an action dated before the
 * stage was recorded as entered (a lead created today, converted "at" last
 * month) counts as 0 days, and is counted apart so a reader sees it. */
static int days_add(struct days *d, int64_t x)
{
    if (x < 0) {
        x = 0;
        d->dated_back++;
    }
    if (d->n == d->cap) {
        size_t cap = d->cap ? 2 * d->cap : 64;
        int64_t *v = realloc(d->v, cap * sizeof *v);
        if (!v)
            return -ERR_NOMEM;
        d->v = v;
        d->cap = cap;
    }
    d->v[d->n++] = x;
    return 0;
}

static int cmp64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

/* { days: the median (the mean of the two middle values for an even count),
 * count, dated_back }; days null without any. */
static json_t *median(struct days *d)
{
    json_t *m = json_null();
    if (d->n) {
        qsort(d->v, d->n, sizeof *d->v, cmp64);
        m = d->n % 2 ? json_integer(d->v[d->n / 2])
                     : json_real((double)(d->v[d->n / 2 - 1] + d->v[d->n / 2]) / 2.0);
    }
    return json_pack("{s:o, s:I, s:I}", "days", m, "count", (json_int_t)d->n, "dated_back",
                     (json_int_t)d->dated_back);
}

static json_t *rate(const char *num_name, int64_t num, const char *den_name, int64_t den)
{
    return json_pack("{s:o, s:I, s:I}", "rate",
                     den ? json_real((double)num / (double)den) : json_null(), num_name,
                     (json_int_t)num, den_name, (json_int_t)den);
}

struct metrics {
    struct rules *r;
    char from[PERIOD_DATE_SIZE], to[PERIOD_DATE_SIZE], as_of[PERIOD_DATE_SIZE];
    int64_t last_id;
    size_t rows;
    /* conversion: converted / decided at each step */
    int64_t lo_conv, lo_dec, oc_conv, oc_dec, cw_conv, cw_dec;
    int64_t won, lost;           /* closures in the period */
    struct days stage[3], cycle; /* lead, opportunity, contract; lead to won */
    int64_t dso_weighted, dso_paid, dso_n;
    int64_t overdue, outstanding, contracts;
    json_t *sources;
    int rc;
    struct err_detail *why;
};

static const char *date_of(const json_t *o, const char *k)
{
    const char *d = json_string_value(json_object_get(o, k));
    return d && period_date_valid(d) ? d : NULL;
}

static bool in(const struct metrics *m, const char *d)
{
    return d && strcmp(d, m->from) >= 0 && strcmp(d, m->to) < 0;
}

/* The instance's contract as of m->as_of: its milestones up to that day. */
static int overdue_of(struct metrics *m, const json_t *doc, const json_t *entered,
                      const char *closed)
{
    const char *signed_at = date_of(entered, "contract");
    if (!signed_at || strcmp(signed_at, m->as_of) > 0 || (closed && strcmp(closed, m->as_of) <= 0))
        return 0;
    json_t *copy = json_deep_copy(doc), *ms = json_array(), *rec = NULL;
    size_t i;
    json_t *e;
    json_array_foreach(json_object_get(doc, "milestones"), i, e)
    {
        const char *at = date_of(e, "at");
        if (at && strcmp(at, m->as_of) <= 0)
            json_array_append(ms, e);
    }
    json_object_set_new(copy, "milestones", ms);
    int rc = rules_receivables(m->r, copy, m->as_of, &rec, m->why);
    if (!rc) {
        m->overdue =
            money_add(m->overdue, json_integer_value(json_object_get(rec, "overdue_amount")));
        m->outstanding =
            money_add(m->outstanding, json_integer_value(json_object_get(rec, "outstanding")));
        m->contracts++;
    }
    json_decref(rec);
    json_decref(copy);
    return rc;
}

static int on_row(const struct store_instance_row *row, void *ctx)
{
    struct metrics *m = ctx;
    m->last_id = row->id;
    m->rows++;
    json_t *doc = json_read_str(row->doc, 0);
    if (!doc)
        return m->rc =
                   err_set(m->why, -ERR_INTERNAL, "instance %lld: unreadable", (long long)row->id);
    const json_t *entered = json_object_get(doc, "entered"),
                 *closure = json_object_get(doc, "closure");
    const char *lead = date_of(entered, "lead"), *opp = date_of(entered, "opportunity"),
               *con = date_of(entered, "contract"), *closed = date_of(closure, "at");
    if (!closed)
        closed = date_of(entered, "closed");
    const char *outcome = json_string_value(json_object_get(closure, "outcome"));
    bool won = outcome && !strcmp(outcome, "won");
    if (in(m, lead)) {
        const char *src = json_string_value(json_object_get(doc, "source"));
        src = src ? src : "unknown";
        json_object_set_new(m->sources, src,
                            json_integer(json_integer_value(json_object_get(m->sources, src)) + 1));
    }
    /* Each stage ends when the next one is entered or the instance closes. */
    const char *end_lead = opp ? opp : closed, *end_opp = opp ? (con ? con : closed) : NULL,
               *end_con = con ? closed : NULL;
    if (in(m, end_lead)) {
        m->lo_dec++;
        m->lo_conv += opp != NULL;
        if (lead)
            m->rc = m->rc ? m->rc : days_add(&m->stage[0], period_days_between(lead, end_lead));
    }
    if (in(m, end_opp)) {
        m->oc_dec++;
        m->oc_conv += con != NULL;
        m->rc = m->rc ? m->rc : days_add(&m->stage[1], period_days_between(opp, end_opp));
    }
    if (in(m, end_con)) {
        m->cw_dec++;
        m->cw_conv += won;
        m->rc = m->rc ? m->rc : days_add(&m->stage[2], period_days_between(con, end_con));
    }
    if (in(m, closed) && outcome && (won || !strcmp(outcome, "lost"))) {
        m->won += won;
        m->lost += !won;
    }
    if (in(m, closed) && won) {
        if (lead)
            m->rc = m->rc ? m->rc : days_add(&m->cycle, period_days_between(lead, closed));
        json_int_t paid = json_integer_value(json_object_get(closure, "paid"));
        json_int_t dso = json_integer_value(json_object_get(closure, "dso"));
        m->dso_weighted += paid * dso;
        m->dso_paid += paid;
        m->dso_n++;
    }
    if (!m->rc && json_is_object(json_object_get(doc, "contract")))
        m->rc = overdue_of(m, doc, entered, closed);
    json_decref(doc);
    return m->rc;
}

/* The day before 'to' ("YYYY-MM-DD"), by the calendar. */
static void day_before(const char *to, char out[PERIOD_DATE_SIZE])
{
    int y, mo, d;
    static const int mdays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    sscanf(to, "%d-%d-%d", &y, &mo, &d);
    if (--d == 0) {
        if (--mo == 0) {
            mo = 12;
            y--;
        }
        d = mdays[mo - 1] + (mo == 2 && ((y % 4 == 0 && y % 100) || y % 400 == 0));
    }
    snprintf(out, PERIOD_DATE_SIZE, "%04d-%02d-%02d", y, mo, d);
}

int process_metrics(struct store *st, struct rules *r, const char *region, const char *office,
                    const char *period, const char *today, json_t **out, struct err_detail *why)
{
    struct metrics m = {.r = r, .why = why, .sources = json_object()};
    int rc = period_range(period, m.from, m.to, why);
    if (rc) {
        json_decref(m.sources);
        return rc;
    }
    day_before(m.to, m.as_of);
    if (strcmp(today, m.as_of) < 0)
        snprintf(m.as_of, sizeof m.as_of, "%s", today);
    static const char *const fields[] = {"id",      "stage",    "source",     "entered",
                                         "closure", "contract", "milestones", "rules",
                                         "gates",   "region",   "office",     NULL};
    for (;;) {
        struct store_instance_filter f = {
            .region = region, .office = office, .after_id = m.last_id, .limit = PAGE};
        size_t before = m.rows;
        rc = store_instance_list_fields(st, &f, fields, on_row, &m, why);
        rc = rc ? rc : m.rc;
        if (rc || m.rows - before < PAGE)
            break;
    }
    if (!rc) {
        int64_t total = 0;
        const char *k;
        json_t *v;
        json_object_foreach(m.sources, k, v) total += json_integer_value(v);
        json_object_set_new(m.sources, "total", json_integer(total));
        json_t *dso = json_pack(
            "{s:o, s:I, s:I}", "days",
            m.dso_paid ? json_integer((m.dso_weighted * 2 + m.dso_paid) / (2 * m.dso_paid))
                       : json_null(),
            "instances", (json_int_t)m.dso_n, "paid", (json_int_t)m.dso_paid);
        json_t *overdue = json_pack(
            "{s:o, s:I, s:I, s:I, s:s}", "ratio",
            m.outstanding ? json_real((double)m.overdue / (double)m.outstanding) : json_null(),
            "overdue", (json_int_t)m.overdue, "outstanding", (json_int_t)m.outstanding, "contracts",
            (json_int_t)m.contracts, "as_of", m.as_of);
        *out = json_pack(
            "{s:s, s:s, s:s, s:{s:o, s:o, s:o}, s:o, s:{s:o, s:o, s:o}, s:o, s:o, s:o, s:O}",
            "period", period, "from", m.from, "to", m.to, "conversion", "lead_to_opportunity",
            rate("converted", m.lo_conv, "decided", m.lo_dec), "opportunity_to_contract",
            rate("converted", m.oc_conv, "decided", m.oc_dec), "contract_to_won",
            rate("converted", m.cw_conv, "decided", m.cw_dec), "win_rate",
            rate("won", m.won, "decided", m.won + m.lost), "median_days", "lead",
            median(&m.stage[0]), "opportunity", median(&m.stage[1]), "contract",
            median(&m.stage[2]), "median_cycle_days", median(&m.cycle), "dso", dso, "overdue_ratio",
            overdue, "leads_by_source", m.sources);
        if (!*out)
            rc = err_set(why, -ERR_NOMEM, "out of memory");
    }
    for (int k = 0; k < 3; k++)
        free(m.stage[k].v);
    free(m.cycle.v);
    json_decref(m.sources);
    return rc;
}
