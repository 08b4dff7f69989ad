/* engine/ltcctl_pipeline.c: strategy to numbers (CONTRACT 8.4; see
 * ltcctl.h): the pipeline tree against its targets, the process metrics of
 * a unit and period in process order, and the migration of open instances
 * to an HQ process version (a dry run unless --apply).
 *
 * Every figure is printed as the API gave it, in the house forms: money as
 * 1,200,000.00 CNY, rates and coverage as percents with one decimal, "-"
 * where the API has null (no target, nothing decided). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli_value.h"
#include "ltcctl.h"
#include "money.h"

#define DEPTH_MAX      3            /* below hq: region, office, customer */
#define WAIT_DEFAULT   120          /* seconds `metrics` waits by default */
#define WAIT_MAX       3600         /* and at most */
#define RETRY_FIRST    250          /* ms before asking a busy daemon again */
#define RETRY_MAX      4000         /* ms between two asks at most */
#define HQ_VERSION_MAX 1000000000LL /* the API's bound of to_hq */

static const char *const categories[] = {"commit", "best_case", "pipeline", "omitted", NULL};

/* --- option values ---------------------------------------------------------- */

/* --period, or this calendar year (UTC, as the daemon's dates are). */
static int period_opt(const struct ltcctl_args *a, char *buf, size_t n)
{
    const char *p = ltcctl_opt(a, "--period");
    struct err_detail why = {0};
    if (p) {
        if (ltcctl_refuse(a->verb, cli_period("--period", p, &why), &why))
            return LTCCTL_USAGE;
        snprintf(buf, n, "%s", p);
        return 0;
    }
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    snprintf(buf, n, "%04d", tm.tm_year + 1900);
    return 0;
}

/* "66.7%" of a JSON rate (0..1 and beyond), "-" for null. */
static const char *percent(const json_t *v, char *buf, size_t n)
{
    if (json_is_number(v))
        snprintf(buf, n, "%.1f%%", json_number_value(v) * 100.0);
    else
        snprintf(buf, n, "-");
    return buf;
}

static const char *money(const json_t *o, const char *k, char *buf, size_t n)
{
    return ltcctl_money_of(o, k, NULL, buf, n);
}

/* --- pipeline ----------------------------------------------------------------- */

static int pipeline_depth = DEPTH_MAX;

/* "commit 1, best_case 0, ..." as four counts: "1/0/2/0". */
static void category_counts(const json_t *node, char *buf, size_t n)
{
    const json_t *by = json_object_get(node, "by_category");
    size_t off = 0;
    buf[0] = '\0';
    for (int k = 0; categories[k] && off < n; k++)
        off += (size_t)snprintf(buf + off, n - off, "%s%lld", k ? "/" : "",
                                ltcctl_int_of(json_object_get(by, categories[k]), "count"));
}

static void pipeline_rows(struct ltcctl_table *t, const json_t *node, int depth)
{
    char unit[200], tg[MONEY_TEXT_MAX], won[MONEY_TEXT_MAX], open[MONEY_TEXT_MAX],
        w[MONEY_TEXT_MAX], gap[MONEY_TEXT_MAX], cov[24], cats[96];
    snprintf(unit, sizeof unit, "%*s%s", 2 * depth, "", ltcctl_str(node, "unit"));
    category_counts(node, cats, sizeof cats);
    ltcctl_table_row(
        t, (const char *const[]){
               unit, money(node, "target", tg, sizeof tg), money(node, "won", won, sizeof won),
               money(node, "open", open, sizeof open), money(node, "weighted", w, sizeof w),
               percent(json_object_get(node, "coverage"), cov, sizeof cov),
               money(node, "gap", gap, sizeof gap), cats});
    if (depth >= pipeline_depth)
        return;
    size_t i;
    json_t *ch;
    json_array_foreach(json_object_get(node, "children"), i, ch) pipeline_rows(t, ch, depth + 1);
}

static void print_pipeline(const json_t *tree)
{
    long long refreshed = ltcctl_int_of(tree, "refreshed");
    printf(
        "pipeline of %s for %s (orders; open: leads and opportunities expected to close in %s)\n",
        ltcctl_str(tree, "unit"), ltcctl_str(tree, "period"), ltcctl_str(tree, "period"));
    if (refreshed)
        printf("(%lld forecast%s recomputed under the active rules first)\n", refreshed,
               refreshed == 1 ? "" : "s");
    struct ltcctl_table t = {8, "lrrrrrrr", 0, 0, NULL};
    ltcctl_table_row(&t, (const char *const[]){"UNIT", "TARGET", "WON", "OPEN", "WEIGHTED",
                                               "COVERAGE", "GAP", "C/B/P/O"});
    pipeline_rows(&t, tree, 0);
    ltcctl_table_print(&t, stdout);
    printf(
        "coverage = (won + weighted) / target, gap = target - won - weighted; "
        "\"-\": no target\n"
        "C/B/P/O: open leads and opportunities by forecast category (commit, best case, pipeline, "
        "omitted)\n\n");
    /* The root's categories in full, so its open and weighted can be checked. */
    printf("forecast categories of %s:\n", ltcctl_str(tree, "unit"));
    struct ltcctl_table c = {4, "lrrr", 0, 0, NULL};
    ltcctl_table_row(&c, (const char *const[]){"CATEGORY", "COUNT", "VALUE", "WEIGHTED"});
    const json_t *by = json_object_get(tree, "by_category");
    for (int k = 0; categories[k]; k++) {
        const json_t *cat = json_object_get(by, categories[k]);
        char count[24], v[MONEY_TEXT_MAX], wv[MONEY_TEXT_MAX];
        snprintf(count, sizeof count, "%lld", ltcctl_int_of(cat, "count"));
        ltcctl_table_row(&c, (const char *const[]){categories[k], count,
                                                   money(cat, "value", v, sizeof v),
                                                   money(cat, "weighted", wv, sizeof wv)});
    }
    char open[MONEY_TEXT_MAX], w[MONEY_TEXT_MAX];
    ltcctl_table_row(&c, (const char *const[]){"total", "", money(tree, "open", open, sizeof open),
                                               money(tree, "weighted", w, sizeof w)});
    ltcctl_table_print(&c, stdout);
}

int ltcctl_pipeline(const struct ltcctl *o, const struct ltcctl_args *a)
{
    const struct ltcctl_verb *v = a->verb;
    struct err_detail why = {0};
    const char *unit = ltcctl_opt(a, "--unit"), *metric = ltcctl_opt(a, "--metric"),
               *depth = ltcctl_opt(a, "--depth");
    char period[16];
    int64_t d = DEPTH_MAX;
    if (metric && strcmp(metric, "orders"))
        return ltcctl_usage(v,
                            "--metric: '%.40s' is not accepted: the pipeline is of orders (the "
                            "value of opportunities, signed or expected); cash against its "
                            "targets: ltcctl targets show PERIOD cash",
                            metric);
    if ((unit && ltcctl_refuse(v, cli_unit_or_customer("--unit", unit, &why), &why)) ||
        (depth && ltcctl_int(v, "--depth", depth, 0, DEPTH_MAX, &d)) ||
        period_opt(a, period, sizeof period))
        return LTCCTL_USAGE;
    pipeline_depth = (int)d;
    char path[256] = "/v1/pipeline";
    ltcctl_query_add(path, sizeof path, "period", period);
    if (unit)
        ltcctl_query_add(path, sizeof path, "unit", unit);
    return ltcctl_call(o, "GET", path, NULL, print_pipeline);
}

/* --- process metrics -------------------------------------------------------- */

/* "12 days", "10.5 days", "-" */
static const char *days(const json_t *v, char *buf, size_t n)
{
    if (json_is_integer(v))
        snprintf(buf, n, "%lld day%s", (long long)json_integer_value(v),
                 json_integer_value(v) == 1 ? "" : "s");
    else if (json_is_number(v))
        snprintf(buf, n, "%g days", json_number_value(v));
    else
        snprintf(buf, n, "-");
    return buf;
}

/* A conversion step: "66.7%" and "2 converted of 3 decided". */
static void rate_row(struct ltcctl_table *t, const char *name, const json_t *r, const char *num,
                     const char *den, const char *what)
{
    char pct[24], counts[160];
    snprintf(counts, sizeof counts, "%lld %s of %lld %s%s", ltcctl_int_of(r, num), num,
             ltcctl_int_of(r, den), den, what);
    ltcctl_table_row(t, (const char *const[]){
                            name, percent(json_object_get(r, "rate"), pct, sizeof pct), counts});
}

static void median_row(struct ltcctl_table *t, const char *name, const json_t *m, const char *of)
{
    char d[32], counts[96];
    long long n = ltcctl_int_of(m, "count");
    snprintf(counts, sizeof counts, "over %lld %s%s", n, of, n == 1 ? "" : "s");
    ltcctl_table_row(
        t, (const char *const[]){name, days(json_object_get(m, "days"), d, sizeof d), counts});
}

static void print_metrics(const json_t *m)
{
    printf("process metrics of %s for %s (%s up to %s, excluded)\n", ltcctl_str(m, "unit"),
           ltcctl_str(m, "period"), ltcctl_str(m, "from"), ltcctl_str(m, "to"));
    struct ltcctl_table t = {3, "lrl", 0, 0, NULL};
    ltcctl_table_row(&t, (const char *const[]){"FIGURE", "VALUE", "FROM"});
    /* Leads by source: "sales 2, technical 1" in the API's order, then the total. */
    const json_t *src = json_object_get(m, "leads_by_source");
    char list[512] = "", total[24];
    size_t off = 0;
    const char *k;
    json_t *val;
    json_object_foreach((json_t *)src, k, val)
    {
        if (strcmp(k, "total") && off < sizeof list)
            off += (size_t)snprintf(list + off, sizeof list - off, "%s%s %lld", off ? ", " : "", k,
                                    (long long)json_integer_value(val));
    }
    snprintf(total, sizeof total, "%lld", ltcctl_int_of(src, "total"));
    if (off < sizeof list)
        snprintf(list + off, sizeof list - off, "%screated in the period", off ? "; " : "none ");
    ltcctl_table_row(&t, (const char *const[]){"leads by source", total, list});
    const json_t *conv = json_object_get(m, "conversion"), *med = json_object_get(m, "median_days");
    median_row(&t, "median days at lead", json_object_get(med, "lead"), "stay");
    rate_row(&t, "lead -> opportunity", json_object_get(conv, "lead_to_opportunity"), "converted",
             "decided", " (converted or dropped)");
    median_row(&t, "median days at opportunity", json_object_get(med, "opportunity"), "stay");
    rate_row(&t, "opportunity -> contract", json_object_get(conv, "opportunity_to_contract"),
             "converted", "decided", " (signed or closed)");
    median_row(&t, "median days at contract", json_object_get(med, "contract"), "stay");
    rate_row(&t, "contract -> won", json_object_get(conv, "contract_to_won"), "converted",
             "decided", " (contracts closed)");
    rate_row(&t, "win rate", json_object_get(m, "win_rate"), "won", "decided", " (won or lost)");
    median_row(&t, "median lead-to-cash cycle", json_object_get(m, "median_cycle_days"), "win");
    const json_t *dso = json_object_get(m, "dso");
    char d[32], dsofrom[160], paid[MONEY_TEXT_MAX];
    snprintf(dsofrom, sizeof dsofrom, "paid-weighted over %lld won instance%s, %s paid",
             ltcctl_int_of(dso, "instances"), ltcctl_int_of(dso, "instances") == 1 ? "" : "s",
             money(dso, "paid", paid, sizeof paid));
    ltcctl_table_row(
        &t, (const char *const[]){"DSO", days(json_object_get(dso, "days"), d, sizeof d), dsofrom});
    const json_t *ov = json_object_get(m, "overdue_ratio");
    char pct[24], ovfrom[256], a[MONEY_TEXT_MAX], b[MONEY_TEXT_MAX];
    snprintf(ovfrom, sizeof ovfrom, "%s overdue of %s outstanding, %lld contract%s, as of %s",
             money(ov, "overdue", a, sizeof a), money(ov, "outstanding", b, sizeof b),
             ltcctl_int_of(ov, "contracts"), ltcctl_int_of(ov, "contracts") == 1 ? "" : "s",
             ltcctl_str(ov, "as_of"));
    ltcctl_table_row(
        &t, (const char *const[]){"overdue ratio",
                                  percent(json_object_get(ov, "ratio"), pct, sizeof pct), ovfrom});
    ltcctl_table_print(&t, stdout);
    printf("(\"-\": nothing to measure in the period)\n");
}

static long long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void sleep_ms(long long ms)
{
    struct timespec ts = {(time_t)(ms / 1000), (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* The daemon computes the metrics as a job and answers when it is done; a
 * daemon whose job queue is full answers 503 at once, and is asked again
 * (backing off) until --wait runs out. */
int ltcctl_metrics(const struct ltcctl *o, const struct ltcctl_args *a)
{
    const struct ltcctl_verb *v = a->verb;
    struct err_detail why = {0};
    const char *unit = ltcctl_opt(a, "--unit"), *wait = ltcctl_opt(a, "--wait");
    char period[16];
    int64_t secs = WAIT_DEFAULT;
    if ((unit && ltcctl_refuse(v, cli_unit("--unit", unit, &why), &why)) ||
        (wait && ltcctl_int(v, "--wait", wait, 1, WAIT_MAX, &secs)) ||
        period_opt(a, period, sizeof period))
        return LTCCTL_USAGE;
    char path[256] = "/v1/process-metrics";
    ltcctl_query_add(path, sizeof path, "period", period);
    if (unit)
        ltcctl_query_add(path, sizeof path, "unit", unit);
    long long deadline = now_ms() + secs * 1000, pause = RETRY_FIRST;
    bool said = false;
    for (;;) {
        struct ltcctl_buf b = {0};
        bool timed_out = false;
        long long left = deadline - now_ms();
        long st = left > 0 ? ltcctl_request_within(o, path, (long)left, &b, &timed_out) : 0;
        if (!st && (timed_out || left <= 0)) {
            free(b.p);
            fprintf(stderr,
                    "ltcctl: metrics: no answer within %lld s: the daemon is still computing "
                    "the process metrics of %s for %s (a job); wait longer with --wait SECONDS "
                    "(at most %d)\n",
                    (long long)secs, unit ? unit : "your unit", period, WAIT_MAX);
            return LTCCTL_UNREACHABLE;
        }
        if (st == 503 && deadline - now_ms() > pause) {
            if (!said)
                fprintf(stderr,
                        "ltcctl: metrics: the daemon is busy (503); asking again for up "
                        "to %lld s\n",
                        (long long)secs);
            said = true;
            free(b.p);
            sleep_ms(pause);
            pause = pause * 2 > RETRY_MAX ? RETRY_MAX : pause * 2;
            continue;
        }
        return ltcctl_finish(o, st, &b, print_metrics);
    }
}

/* --- migration --------------------------------------------------------------- */

static void print_migration(const json_t *r, const char *unit, const char *stage)
{
    bool dry = json_is_true(json_object_get(r, "dry_run"));
    long long to = ltcctl_int_of(r, "to_hq");
    const json_t *moved = json_object_get(r, "instances"), *refused = json_object_get(r, "refused");
    size_t n_moved = json_array_size(moved), n_refused = json_array_size(refused), i;
    printf("migration of the open instances of %s%s%s to hq v%lld: %s\n", unit,
           stage ? " at stage " : "", stage ? stage : "", to,
           dry ? "dry run, nothing changed" : "applied");
    printf("\n%s (%zu):\n", dry ? "would move" : "moved", n_moved);
    json_t *e;
    if (n_moved) {
        struct ltcctl_table t = {3, "rll", 0, 0, NULL};
        ltcctl_table_row(&t, (const char *const[]){"INSTANCE", "FROM", "TO"});
        json_array_foreach(moved, i, e)
        {
            char id[24], from[32], dest[32];
            snprintf(id, sizeof id, "%lld", ltcctl_int_of(e, "instance"));
            snprintf(from, sizeof from, "hq v%lld", ltcctl_int_of(e, "from_hq"));
            snprintf(dest, sizeof dest, "hq v%lld", to);
            ltcctl_table_row(&t, (const char *const[]){id, from, dest});
        }
        ltcctl_table_print(&t, stdout);
    } else
        printf("  (none)\n");
    printf("\nrefused by hq v%lld's migrate (%zu)%s\n", to, n_refused,
           n_refused ? ", left as they are:" : ":");
    if (n_refused) {
        struct ltcctl_table t = {3, "rll", 0, 0, NULL};
        ltcctl_table_row(&t, (const char *const[]){"INSTANCE", "FROM", "REASON"});
        json_array_foreach(refused, i, e)
        {
            char id[24], from[32];
            snprintf(id, sizeof id, "%lld", ltcctl_int_of(e, "instance"));
            snprintf(from, sizeof from, "hq v%lld", ltcctl_int_of(e, "from_hq"));
            ltcctl_table_row(&t, (const char *const[]){id, from, ltcctl_str(e, "reason")});
        }
        ltcctl_table_print(&t, stdout);
    } else
        printf("  (none)\n");
    printf("\n%zu %s, %zu refused.", n_moved, dry ? "would move" : "moved", n_refused);
    if (dry && n_moved)
        printf(" Nothing changed: run it again with --apply to move them.");
    printf("\n");
    if (json_is_true(json_object_get(r, "truncated")))
        printf("(the daemon looks at a limited number of instances a request: run it again "
               "for the rest)\n");
}

int ltcctl_migrate(const struct ltcctl *o, const struct ltcctl_args *a)
{
    const struct ltcctl_verb *v = a->verb;
    struct err_detail why = {0};
    const char *to = ltcctl_opt(a, "--to"), *unit = ltcctl_opt(a, "--unit"),
               *stage = ltcctl_opt(a, "--stage");
    bool apply = ltcctl_opt(a, "--apply") != NULL, dry = ltcctl_opt(a, "--dry-run") != NULL;
    int64_t version;
    if (!to)
        return ltcctl_usage(v, "missing --to VERSION (the HQ process version to move to)");
    if (apply && dry)
        return ltcctl_usage(v, "--apply and --dry-run both given: a dry run is the default; "
                               "--apply moves the instances");
    if (ltcctl_int(v, "--to", to, 1, HQ_VERSION_MAX, &version) ||
        (unit && ltcctl_refuse(v, cli_unit("--unit", unit, &why), &why)) ||
        (stage && ltcctl_refuse(v, cli_id("--stage", stage, &why), &why)))
        return LTCCTL_USAGE;
    if (stage && !strcmp(stage, "closed"))
        return ltcctl_usage(v, "--stage: closed instances are not migrated; an open stage "
                               "(lead, opportunity, contract)");
    json_t *body = json_pack("{s:I, s:b}", "to_hq", (json_int_t)version, "dry_run", !apply);
    if (unit)
        json_object_set_new(body, "unit", json_string(unit));
    if (stage)
        json_object_set_new(body, "stage", json_string(stage));
    char *text = json_dumps(body, JSON_COMPACT);
    json_decref(body);
    struct ltcctl_buf b = {0};
    long st =
        ltcctl_request(o, "POST", "/v1/instances/migrate", text, text ? strlen(text) : 0, NULL, &b);
    free(text);
    if (st != 200)
        return ltcctl_finish(o, st, &b, NULL);
    json_t *r = json_loads(b.p ? b.p : "", 0, NULL);
    if (!r) {
        fprintf(stderr, "ltcctl: migrate: the daemon's answer is not JSON\n");
        free(b.p);
        return LTCCTL_ERROR;
    }
    if (o->json)
        printf("%s\n", b.p);
    else
        print_migration(r, unit ? unit : "hq", stage);
    int rc = json_array_size(json_object_get(r, "refused")) ||
                     json_is_true(json_object_get(r, "truncated"))
                 ? LTCCTL_PARTIAL
                 : LTCCTL_OK;
    json_decref(r);
    free(b.p);
    return rc;
}
