/* engine/ltcctl_shares.c: acquire-and-share runs and targets (see ltcctl.h). */
#include <stdio.h>
#include <string.h>

#include "ltcctl.h"
#include "money.h"

#define RUN_ID_MAX ((int64_t)1 << 53)

static bool has_unit(const json_t *lines, const char *unit)
{
    size_t i;
    json_t *l;
    json_array_foreach(lines, i, l)
    {
        if (!strcmp(ltcctl_str(l, "unit"), unit))
            return true;
    }
    return false;
}

/* Print the lines under 'parent', indented by depth. */
static void print_share_lines(const json_t *lines, const char *parent, int depth)
{
    size_t i;
    json_t *l;
    json_array_foreach(lines, i, l)
    {
        if (strcmp(ltcctl_str(l, "parent"), parent))
            continue;
        char a[MONEY_TEXT_MAX], c[MONEY_TEXT_MAX];
        printf("%*s%-*s %24s   (contribution %s)\n", 2 * depth, "", 40 - 2 * depth,
               ltcctl_str(l, "unit"), ltcctl_money_of(l, "amount", NULL, a, sizeof a),
               ltcctl_money_of(l, "contribution", NULL, c, sizeof c));
        if (depth < 8)
            print_share_lines(lines, ltcctl_str(l, "unit"), depth + 1);
    }
}

/* The run as a tree. A region or office principal sees only its own part
 * (the lines of its unit and below), so the tree starts from the lines whose
 * parent it cannot see (issue 15: it used to print nothing under "hq"). */
static void print_run(const json_t *r)
{
    char pool[MONEY_TEXT_MAX];
    printf("allocation run %lld, period %s, pool %s (input hash %.16s...)\n",
           ltcctl_int_of(r, "id"), ltcctl_str(r, "period"),
           ltcctl_money_of(r, "pool", NULL, pool, sizeof pool), ltcctl_str(r, "input_hash"));
    const json_t *lines = json_object_get(r, "lines");
    printf("%-42s %24s   %s\n", "UNIT", "AMOUNT", "");
    /* Roots: each distinct parent that is not itself a line, in line order. */
    const char *roots[64];
    size_t n = 0, i;
    json_t *l;
    json_array_foreach(lines, i, l)
    {
        const char *p = ltcctl_str(l, "parent");
        bool seen = false;
        for (size_t k = 0; k < n; k++)
            seen |= !strcmp(roots[k], p);
        if (!seen && !has_unit(lines, p) && n < 64)
            roots[n++] = p;
    }
    for (size_t k = 0; k < n; k++) {
        if (strcmp(roots[k], "hq"))
            printf("  (your part of %s's share)\n", roots[k]);
        print_share_lines(lines, roots[k], 1);
    }
    if (!json_array_size(lines))
        printf("  (no lines in your scope)\n");
}

static void print_target_node(const json_t *n, int depth)
{
    char t[MONEY_TEXT_MAX], a[MONEY_TEXT_MAX], pct[16] = "";
    ltcctl_money_of(n, "target", NULL, t, sizeof t);
    ltcctl_money_of(n, "actual", NULL, a, sizeof a);
    const json_t *c = json_object_get(n, "completion");
    char bar[24] = "";
    if (json_is_number(c)) {
        int filled = (int)(json_number_value(c) * 20 + 0.5);
        for (int k = 0; k < 20; k++)
            bar[k] = k < filled ? '#' : '.';
        bar[20] = '\0';
        snprintf(pct, sizeof pct, "%.1f%%", json_number_value(c) * 100);
    }
    printf("%*s%-*s %24s %24s  %-20s %s\n", 2 * depth, "", 28 - 2 * depth, ltcctl_str(n, "unit"), t,
           a, bar, pct);
    size_t i;
    json_t *ch;
    json_array_foreach(json_object_get(n, "children"), i, ch) print_target_node(ch, depth + 1);
}

static void print_targets(const json_t *tree)
{
    printf("targets %s, metric %s\n%-28s %24s %24s  %s\n", ltcctl_str(tree, "period"),
           ltcctl_str(tree, "metric"), "UNIT", "TARGET", "ACTUAL", "COMPLETION");
    print_target_node(tree, 0);
}

static char target_subject[256];

static void print_target_set(const json_t *j)
{
    char a[MONEY_TEXT_MAX];
    const json_t *amount = json_object_get(j, "amount");
    if (json_is_integer(amount))
        printf("target %s: %s\n", target_subject, ltcctl_money_of(j, "amount", NULL, a, sizeof a));
    else
        printf("target %s set\n", target_subject);
}

/* A period or unit word goes into a path: only [A-Za-z0-9/_-]. */
static int path_word(const struct ltcctl_args *a, const char *what, const char *s)
{
    if (*s &&
        strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789/_-") ==
            strlen(s) &&
        !strstr(s, "//"))
        return 0;
    return ltcctl_usage(a->verb, "%s: '%.40s' is not accepted (letters, digits, '-', '_', '/')",
                        what, s);
}

int ltcctl_shares_run(const struct ltcctl *o, const struct ltcctl_args *a)
{
    int64_t pool;
    bool given;
    if (path_word(a, "PERIOD", a->pos[0]) ||
        ltcctl_money(a->verb, "POOL", a->n_pos > 1 ? a->pos[1] : NULL, "--yuan",
                     ltcctl_opt(a, "--yuan"), &pool, &given))
        return LTCCTL_USAGE;
    if (!given)
        return ltcctl_usage(a->verb, "POOL is missing: the bonus pool in fen, or --yuan YUAN");
    json_t *body = json_pack("{s:s, s:I}", "period", a->pos[0], "pool", (json_int_t)pool);
    int rc = ltcctl_call(o, "POST", "/v1/shares/runs", body, print_run);
    json_decref(body);
    return rc;
}

int ltcctl_shares_show(const struct ltcctl *o, const struct ltcctl_args *a)
{
    int64_t id;
    if (ltcctl_int(a->verb, "ID", a->pos[0], 1, RUN_ID_MAX, &id))
        return LTCCTL_USAGE;
    char path[64];
    snprintf(path, sizeof path, "/v1/shares/runs/%lld", (long long)id);
    return ltcctl_call(o, "GET", path, NULL, print_run);
}

int ltcctl_targets_set(const struct ltcctl *o, const struct ltcctl_args *a)
{
    int64_t amount;
    bool given;
    if (path_word(a, "UNIT", a->pos[0]) || path_word(a, "PERIOD", a->pos[1]) ||
        ltcctl_money(a->verb, "AMOUNT", a->n_pos > 3 ? a->pos[3] : NULL, "--yuan",
                     ltcctl_opt(a, "--yuan"), &amount, &given))
        return LTCCTL_USAGE;
    if (!given)
        return ltcctl_usage(a->verb, "AMOUNT is missing: the target in fen, or --yuan YUAN");
    if (strcmp(a->pos[2], "orders") && strcmp(a->pos[2], "cash"))
        return ltcctl_usage(a->verb, "METRIC: '%.40s' is neither orders nor cash", a->pos[2]);
    char path[256];
    snprintf(path, sizeof path, "/v1/targets/%s/%s", a->pos[0], a->pos[1]);
    snprintf(target_subject, sizeof target_subject, "%s %s %s", a->pos[0], a->pos[1], a->pos[2]);
    json_t *body = json_pack("{s:s, s:I}", "metric", a->pos[2], "amount", (json_int_t)amount);
    int rc = ltcctl_call(o, "PUT", path, body, print_target_set);
    json_decref(body);
    return rc;
}

int ltcctl_targets_show(const struct ltcctl *o, const struct ltcctl_args *a)
{
    const char *metric = a->n_pos > 1 ? a->pos[1] : "orders";
    if (path_word(a, "PERIOD", a->pos[0]))
        return LTCCTL_USAGE;
    if (strcmp(metric, "orders") && strcmp(metric, "cash"))
        return ltcctl_usage(a->verb, "METRIC: '%.40s' is neither orders nor cash", metric);
    char path[256];
    snprintf(path, sizeof path, "/v1/targets?period=%s&metric=%s", a->pos[0], metric);
    return ltcctl_call(o, "GET", path, NULL, print_targets);
}
