/* engine/ltcctl_activity.c: front-line activity (CONTRACT 8.3; see
 * ltcctl.h): recording visits, calls, workshops and budget tables, listing
 * them, and the weekly scorecard measured from them. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli_value.h"
#include "ltcctl.h"
#include "money.h"
#include "records.h"

#define ACTIVITY_ID_MAX ((int64_t)1 << 53)
#define BUDGET_YEAR_MIN 1900 /* records.c's bounds of a budget table's year */
#define BUDGET_YEAR_MAX 9998

static const char *const activity_kinds[] = {"visit", "call", "workshop", "budget_table", NULL};

/* --- printers ------------------------------------------------------------ */

/* "budget 2027: 5,000,000.00 CNY", else the note, else "-". */
static void activity_detail(const json_t *x, char *buf, size_t n)
{
    const json_t *b = json_object_get(x, "budget");
    char m[MONEY_TEXT_MAX];
    if (json_is_object(b))
        snprintf(buf, n, "budget %lld: %s%s%s", ltcctl_int_of(b, "year"),
                 ltcctl_money_of(b, "amount", NULL, m, sizeof m),
                 json_is_string(json_object_get(x, "note")) ? "; " : "",
                 json_is_string(json_object_get(x, "note")) ? ltcctl_str(x, "note") : "");
    else
        snprintf(buf, n, "%s", ltcctl_str(x, "note"));
}

static void print_activity(const json_t *x)
{
    printf("activity %lld: %s by %s at customer %s on %s (office %s, region %s)\n",
           ltcctl_int_of(x, "id"), ltcctl_str(x, "kind"), ltcctl_str(x, "person"),
           ltcctl_str(x, "customer"), ltcctl_str(x, "at"), ltcctl_str(x, "office"),
           ltcctl_str(x, "region"));
    const json_t *b = json_object_get(x, "budget");
    char m[MONEY_TEXT_MAX];
    if (json_is_object(b))
        printf("  budget table for %lld: %s\n", ltcctl_int_of(b, "year"),
               ltcctl_money_of(b, "amount", NULL, m, sizeof m));
    if (json_is_integer(json_object_get(x, "instance")))
        printf("  lead     %lld\n", ltcctl_int_of(x, "instance"));
    if (json_is_string(json_object_get(x, "note")))
        printf("  note     %s\n", ltcctl_str(x, "note"));
}

static void print_activities(const json_t *body)
{
    const json_t *list = json_object_get(body, "activities");
    printf("%-6s %-10s %-12s %-16s %-20s %-14s %-6s %s\n", "ID", "DATE", "KIND", "PERSON",
           "CUSTOMER", "OFFICE", "LEAD", "DETAIL");
    size_t i;
    json_t *x;
    json_array_foreach(list, i, x)
    {
        char lead[24], detail[320];
        ltcctl_scalar(json_object_get(x, "instance"), lead, sizeof lead);
        activity_detail(x, detail, sizeof detail);
        printf("%-6lld %-10s %-12s %-16s %-20s %-14s %-6s %s\n", ltcctl_int_of(x, "id"),
               ltcctl_str(x, "at"), ltcctl_str(x, "kind"), ltcctl_str(x, "person"),
               ltcctl_str(x, "customer"), ltcctl_str(x, "office"), lead, detail);
    }
    size_t n = json_array_size(list);
    const json_t *next = json_object_get(body, "next");
    if (json_is_integer(next))
        printf("(%zu shown; more: --after %lld)\n", n, (long long)json_integer_value(next));
    else
        printf("(%zu activit%s)\n", n, n == 1 ? "y" : "ies");
}

static void print_people_cards(const json_t *people)
{
    printf("%-16s %-22s %-14s %6s %4s %-6s %14s %11s\n", "PERSON", "NAME", "OFFICE", "VISITS",
           "MIN", "BELOW", "TABLES OVERDUE", "POINTS LOST");
    size_t i, below = 0;
    long long lost = 0;
    json_t *p;
    json_array_foreach(people, i, p)
    {
        bool b = json_is_true(json_object_get(p, "below_min"));
        below += b;
        lost += ltcctl_int_of(p, "points_lost");
        char name[LTCCTL_CELL_SIZE(22)];
        printf("%-16s %s %-14s %6lld %4lld %-6s %14lld %11lld\n", ltcctl_str(p, "person"),
               ltcctl_cell(ltcctl_str(p, "name"), 22, name, sizeof name), ltcctl_str(p, "office"),
               ltcctl_int_of(p, "visits"), ltcctl_int_of(p, "visits_min"), b ? "below" : "-",
               ltcctl_int_of(p, "budget_tables_overdue"), ltcctl_int_of(p, "points_lost"));
    }
    size_t n = json_array_size(people);
    printf("(%zu of %zu %s below the visit minimum; %lld point%s lost)\n", below, n,
           n == 1 ? "person" : "people", lost, lost == 1 ? "" : "s");
    /* A region's thresholds that failed: its people were held to HQ's minimum. */
    const char *said = NULL;
    json_array_foreach(people, i, p)
    {
        const char *e = json_string_value(json_object_get(p, "rule_error"));
        if (e && (!said || strcmp(said, e)))
            printf("(HQ's minimum for %s and the others of its region: %s)\n",
                   ltcctl_str(p, "person"), said = e);
    }
}

static void print_customer_cards(const json_t *customers)
{
    size_t n = json_array_size(customers), i, missing = 0, overdue = 0;
    if (!n) {
        printf("(no customers)\n");
        return;
    }
    const json_t *first = json_array_get(customers, 0);
    const json_t *t0 = json_object_get(first, "budget_table"),
                 *p0 = json_object_get(first, "previous");
    char next_h[48], prev_h[48];
    snprintf(next_h, sizeof next_h, "TABLE %lld (DUE %s)", ltcctl_int_of(t0, "year"),
             ltcctl_str(t0, "deadline"));
    snprintf(prev_h, sizeof prev_h, "TABLE %lld (DUE %s)", ltcctl_int_of(p0, "year"),
             ltcctl_str(p0, "deadline"));
    printf("%-16s %-22s %-14s %-30s %s\n", "CUSTOMER", "NAME", "OFFICE", next_h, prev_h);
    json_t *c;
    json_array_foreach(customers, i, c)
    {
        const json_t *t = json_object_get(c, "budget_table"), *p = json_object_get(c, "previous");
        char got[48];
        bool collected = json_is_true(json_object_get(t, "collected"));
        bool late = json_is_true(json_object_get(p, "overdue"));
        missing += !collected;
        overdue += late;
        if (collected)
            snprintf(got, sizeof got, "collected %s", ltcctl_str(t, "collected_at"));
        else
            snprintf(got, sizeof got, "missing");
        char name[LTCCTL_CELL_SIZE(22)];
        printf("%-16s %s %-14s %-30s %s\n", ltcctl_str(c, "customer"),
               ltcctl_cell(ltcctl_str(c, "name"), 22, name, sizeof name), ltcctl_str(c, "office"),
               got, late ? "overdue" : "-");
    }
    printf("(%zu of %zu budget table%s for %lld missing; %zu overdue for %lld)\n", missing, n,
           n == 1 ? "" : "s", ltcctl_int_of(t0, "year"), overdue, ltcctl_int_of(p0, "year"));
}

static void print_scorecard(const json_t *s)
{
    printf("scorecard of %s, week %s (%s to %s)\n\n", ltcctl_str(s, "unit"), ltcctl_str(s, "week"),
           ltcctl_str(s, "from"), ltcctl_str(s, "to"));
    print_people_cards(json_object_get(s, "people"));
    printf("\n");
    print_customer_cards(json_object_get(s, "customers"));
}

/* --- verbs ---------------------------------------------------------------- */

/* budget { year, amount } from --budget-year and --budget-amount (or
 * --budget-yuan): exactly with --kind budget_table. */
static int budget_of(const struct ltcctl_args *a, const char *kind, json_t *body)
{
    const struct ltcctl_verb *v = a->verb;
    const char *year = ltcctl_opt(a, "--budget-year"), *fen = ltcctl_opt(a, "--budget-amount"),
               *yuan = ltcctl_opt(a, "--budget-yuan");
    bool table = !strcmp(kind, "budget_table");
    if (!table && (year || fen || yuan))
        return ltcctl_usage(v, "%s: only with --kind budget_table",
                            year  ? "--budget-year"
                            : fen ? "--budget-amount"
                                  : "--budget-yuan");
    if (!table)
        return 0;
    int64_t y, amount;
    bool given;
    if (!year)
        return ltcctl_usage(v, "--kind budget_table needs --budget-year Y (the year the budget "
                               "is for) and --budget-amount FEN");
    if (ltcctl_int(v, "--budget-year", year, BUDGET_YEAR_MIN, BUDGET_YEAR_MAX, &y) ||
        ltcctl_money_upto(v, "--budget-amount", fen, "--budget-yuan", yuan, RECORDS_MONEY_MAX,
                          &amount, &given))
        return LTCCTL_USAGE;
    if (!given)
        return ltcctl_usage(v, "--kind budget_table needs --budget-amount FEN (or --budget-yuan "
                               "YUAN): the customer's investment budget for that year");
    json_object_set_new(
        body, "budget",
        json_pack("{s:I, s:I}", "year", (json_int_t)y, "amount", (json_int_t)amount));
    return 0;
}

int ltcctl_activity_add(const struct ltcctl *o, const struct ltcctl_args *a)
{
    const struct ltcctl_verb *v = a->verb;
    struct err_detail why = {0};
    static const char *const required[] = {"--person", "--customer", "--kind", "--at", NULL};
    for (const char *const *r = required; *r; r++)
        if (!ltcctl_opt(a, *r))
            return ltcctl_usage(v, "missing %s", *r);
    const char *person = ltcctl_opt(a, "--person"), *customer = ltcctl_opt(a, "--customer"),
               *kind = ltcctl_opt(a, "--kind"), *at = ltcctl_opt(a, "--at"),
               *inst = ltcctl_opt(a, "--instance"), *note = ltcctl_opt(a, "--note");
    int64_t id = 0;
    if (ltcctl_refuse(v, cli_id("--person", person, &why), &why) ||
        ltcctl_refuse(v, cli_id("--customer", customer, &why), &why) ||
        ltcctl_refuse(v, cli_choice("--kind", kind, activity_kinds, &why), &why) ||
        ltcctl_refuse(v, cli_date("--at", at, &why), &why) ||
        (inst && ltcctl_int(v, "--instance", inst, 1, ACTIVITY_ID_MAX, &id)) ||
        (note && ltcctl_refuse(v, cli_text("--note", note, RECORDS_TEXT_MAX, &why), &why)))
        return LTCCTL_USAGE;
    json_t *body = json_pack("{s:s, s:s, s:s, s:s}", "person", person, "customer", customer, "kind",
                             kind, "at", at);
    if (inst)
        json_object_set_new(body, "instance", json_integer(id));
    if (note)
        json_object_set_new(body, "note", json_string(note));
    int rc = budget_of(a, kind, body);
    if (!rc)
        rc = ltcctl_call(o, "POST", "/v1/activities", body, print_activity);
    json_decref(body);
    return rc;
}

int ltcctl_activities(const struct ltcctl *o, const struct ltcctl_args *a)
{
    const struct ltcctl_verb *v = a->verb;
    struct err_detail why = {0};
    static const char *const ids[] = {"--person", "--customer", "--office", NULL};
    static const char *const dates[] = {"--from", "--to", NULL};
    char path[512] = "/v1/activities";
    for (const char *const *k = ids; *k; k++)
        if (ltcctl_opt(a, *k)) {
            if (ltcctl_refuse(v, cli_id(*k, ltcctl_opt(a, *k), &why), &why))
                return LTCCTL_USAGE;
            ltcctl_query_add(path, sizeof path, *k + 2, ltcctl_opt(a, *k));
        }
    for (const char *const *k = dates; *k; k++)
        if (ltcctl_opt(a, *k)) {
            if (ltcctl_refuse(v, cli_date(*k, ltcctl_opt(a, *k), &why), &why))
                return LTCCTL_USAGE;
            ltcctl_query_add(path, sizeof path, *k + 2, ltcctl_opt(a, *k));
        }
    const char *from = ltcctl_opt(a, "--from"), *to = ltcctl_opt(a, "--to");
    if (from && to && strcmp(from, to) > 0) /* YYYY-MM-DD orders as text */
        return ltcctl_usage(v, "--from %s is after --to %s", from, to);
    const char *limit = ltcctl_opt(a, "--limit"), *after = ltcctl_opt(a, "--after");
    int64_t n;
    if ((limit && ltcctl_int(v, "--limit", limit, 1, 500, &n)) ||
        (after && ltcctl_int(v, "--after", after, 0, ACTIVITY_ID_MAX, &n)))
        return LTCCTL_USAGE;
    if (limit)
        ltcctl_query_add(path, sizeof path, "limit", limit);
    if (after)
        ltcctl_query_add(path, sizeof path, "after", after);
    return ltcctl_call(o, "GET", path, NULL, print_activities);
}

int ltcctl_scorecard(const struct ltcctl *o, const struct ltcctl_args *a)
{
    const struct ltcctl_verb *v = a->verb;
    struct err_detail why = {0};
    const char *unit = ltcctl_opt(a, "--unit"), *week = ltcctl_opt(a, "--week");
    if (!week)
        return ltcctl_usage(v, "missing --week YYYY-Www (an ISO week, e.g. 2026-W53)");
    if ((unit && ltcctl_refuse(v, cli_unit("--unit", unit, &why), &why)) ||
        ltcctl_refuse(v, cli_week("--week", week, &why), &why))
        return LTCCTL_USAGE;
    char path[256] = "/v1/scorecards";
    if (unit)
        ltcctl_query_add(path, sizeof path, "unit", unit);
    ltcctl_query_add(path, sizeof path, "week", week);
    return ltcctl_call(o, "GET", path, NULL, print_scorecard);
}
